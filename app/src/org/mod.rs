//! The organisation: people and departments.

pub mod server;
pub mod ui;

use serde::{Deserialize, Serialize};

use crate::access::Role;
use crate::error::{AppError, Problem};
use crate::i18n::{Locale, Theme};

pub type OrgId = i64;
pub type UserId = i64;
pub type DeptId = i64;

/// A person who can sign in. The password hash never leaves the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub org_id: OrgId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub department_id: Option<DeptId>,
    pub locale: Locale,
    pub theme: Theme,
    pub active: bool,
}

/// A sales team with its head.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Department {
    pub id: DeptId,
    pub org_id: OrgId,
    pub name: String,
    pub head_id: Option<UserId>,
    pub members: i64,
}

/// What a form sends to create a person; checked by [`NewUser::validate`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUserForm {
    pub email: String,
    pub name: String,
    pub password: String,
    pub role: String,
    pub department_id: Option<DeptId>,
}

/// A checked [`NewUserForm`], ready to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub password: String,
    pub role: Role,
    pub department_id: Option<DeptId>,
}

/// Changes to a person; `None` keeps the current value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserChanges {
    pub name: Option<String>,
    pub role: Option<String>,
    /// `Some(None)` moves the person out of any department.
    pub department_id: Option<Option<DeptId>>,
    pub active: Option<bool>,
}

pub const MAX_EMAIL: usize = 254;
pub const MAX_NAME: usize = 120;
pub const MIN_PASSWORD: usize = 8;
pub const MAX_PASSWORD: usize = 200;

/// Trims a name and checks its length.
pub fn clean_name(field: &str, raw: &str) -> Result<String, AppError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(AppError::invalid(field, Problem::Required));
    }
    if name.chars().count() > MAX_NAME {
        return Err(AppError::invalid(field, Problem::TooLong { max: MAX_NAME }));
    }
    Ok(name.to_string())
}

/// Trims and lower-cases an e-mail address and checks it has a plausible shape:
/// one `@`, something before it, a dotted domain after it, no spaces.
pub fn clean_email(raw: &str) -> Result<String, AppError> {
    let email = raw.trim().to_lowercase();
    if email.is_empty() {
        return Err(AppError::invalid("email", Problem::Required));
    }
    if email.chars().count() > MAX_EMAIL {
        return Err(AppError::invalid("email", Problem::TooLong { max: MAX_EMAIL }));
    }
    let plausible = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if !plausible {
        return Err(AppError::invalid("email", Problem::BadEmail));
    }
    Ok(email)
}

pub fn check_password(password: &str) -> Result<(), AppError> {
    let len = password.chars().count();
    if len == 0 {
        return Err(AppError::invalid("password", Problem::Required));
    }
    if len < MIN_PASSWORD {
        return Err(AppError::invalid("password", Problem::TooShort { min: MIN_PASSWORD }));
    }
    if len > MAX_PASSWORD {
        return Err(AppError::invalid("password", Problem::TooLong { max: MAX_PASSWORD }));
    }
    Ok(())
}

pub fn parse_role(raw: &str) -> Result<Role, AppError> {
    raw.trim().parse().map_err(|_| AppError::invalid("role", Problem::Unknown))
}

impl NewUser {
    pub fn validate(form: NewUserForm) -> Result<NewUser, AppError> {
        Ok(NewUser {
            email: clean_email(&form.email)?,
            name: clean_name("name", &form.name)?,
            password: {
                check_password(&form.password)?;
                form.password
            },
            role: parse_role(&form.role)?,
            department_id: form.department_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> NewUserForm {
        NewUserForm {
            email: "  Anna@Example.RU ".into(),
            name: " Анна Петрова ".into(),
            password: "correct horse".into(),
            role: "manager".into(),
            department_id: Some(1),
        }
    }

    fn problem(r: Result<NewUser, AppError>) -> (String, Problem) {
        match r {
            Err(AppError::Invalid { field, problem }) => (field, problem),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn a_good_form_is_cleaned() {
        let u = NewUser::validate(form()).unwrap();
        assert_eq!(u.email, "anna@example.ru");
        assert_eq!(u.name, "Анна Петрова");
        assert_eq!(u.role, Role::Manager);
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases: Vec<(NewUserForm, &str, Problem)> = vec![
            (NewUserForm { email: " ".into(), ..form() }, "email", Problem::Required),
            (NewUserForm { email: "anna.example.ru".into(), ..form() }, "email", Problem::BadEmail),
            (NewUserForm { email: "a@b".into(), ..form() }, "email", Problem::BadEmail),
            (NewUserForm { email: "a b@c.ru".into(), ..form() }, "email", Problem::BadEmail),
            (NewUserForm { email: "a@@c.ru".into(), ..form() }, "email", Problem::BadEmail),
            (
                NewUserForm { email: format!("{}@x.ru", "a".repeat(250)), ..form() },
                "email",
                Problem::TooLong { max: MAX_EMAIL },
            ),
            (NewUserForm { name: "".into(), ..form() }, "name", Problem::Required),
            (NewUserForm { name: "я".repeat(121), ..form() }, "name", Problem::TooLong { max: MAX_NAME }),
            (NewUserForm { password: "short".into(), ..form() }, "password", Problem::TooShort { min: 8 }),
            (NewUserForm { role: "owner".into(), ..form() }, "role", Problem::Unknown),
        ];
        for (f, field, p) in cases {
            assert_eq!(problem(NewUser::validate(f.clone())), (field.to_string(), p), "{f:?}");
        }
    }

    #[test]
    fn names_count_characters_not_bytes() {
        assert!(clean_name("name", &"я".repeat(120)).is_ok());
    }
}
