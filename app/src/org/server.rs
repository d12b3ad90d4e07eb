//! Server functions for people and departments. Rights: module Settings.

use leptos::prelude::*;

use super::{Department, DeptId, NewUserForm, User, UserChanges, UserId};
use crate::error::AppError;

#[cfg(feature = "ssr")]
mod ssr {
    use crate::access::guard::Ctx;
    use crate::access::Owner;
    use crate::error::{AppError, Problem};
    use crate::org::{Department, DeptId, OrgId, User, UserId};

    pub fn person_owner(u: &User) -> Owner {
        Owner { user: Some(u.id), department: u.department_id }
    }

    pub fn department_owner(d: &Department) -> Owner {
        Owner { user: d.head_id, department: Some(d.id) }
    }

    /// The department must exist in the caller's organisation.
    pub async fn existing_department(ctx: &Ctx, org: OrgId, id: DeptId) -> Result<Department, AppError> {
        ctx.storage().department(org, id).await?.ok_or_else(|| AppError::invalid("department", Problem::Unknown))
    }

    /// The person must exist in the caller's organisation.
    pub async fn existing_person(ctx: &Ctx, org: OrgId, id: UserId, field: &str) -> Result<User, AppError> {
        match ctx.storage().user(id).await? {
            Some(u) if u.org_id == org => Ok(u),
            _ if field.is_empty() => Err(AppError::NotFound),
            _ => Err(AppError::invalid(field, Problem::Unknown)),
        }
    }
}

/// People the caller may see.
#[server(prefix = "/api", endpoint = "people")]
pub async fn list_people() -> Result<Vec<User>, AppError> {
    use crate::access::{guard::Ctx, Action, Module};
    let ctx = Ctx::get().await?;
    let auth = ctx.authorize(Module::Settings, Action::View).await?;
    Ok(ctx.storage().users(auth.user.org_id, auth.visibility()?).await?)
}

/// Adds a person to the organisation.
#[server(prefix = "/api", endpoint = "people/create", input = server_fn::codec::Json)]
pub async fn create_person(form: NewUserForm) -> Result<User, AppError> {
    use super::NewUser;
    use crate::access::{guard::Ctx, Action, Module, Owner, Role};
    use ssr::*;

    let ctx = Ctx::get().await?;
    let auth = ctx.authorize(Module::Settings, Action::Create).await?;
    let org = auth.user.org_id;
    let new = NewUser::validate(form)?;
    auth.check(Owner { user: None, department: new.department_id })?;
    if new.role == Role::Admin && auth.user.role != Role::Admin {
        return Err(AppError::Forbidden);
    }
    if let Some(d) = new.department_id {
        existing_department(&ctx, org, d).await?;
    }
    let hash = crate::auth::password::hash(new.password.clone()).await?;
    let user = ctx.storage().insert_user(org, &new, &hash).await?;
    tracing::info!(by = auth.user.id, user = user.id, "person created");
    Ok(user)
}

/// Changes a person's name, role, department or whether they may sign in.
#[server(prefix = "/api", endpoint = "people/update", input = server_fn::codec::Json)]
pub async fn update_person(id: UserId, changes: UserChanges) -> Result<User, AppError> {
    use crate::access::{guard::Ctx, Action, Module, Owner, Role};
    use crate::storage::UserUpdate;
    use ssr::*;

    let ctx = Ctx::get().await?;
    let auth = ctx.authorize(Module::Settings, Action::Edit).await?;
    let org = auth.user.org_id;
    let target = existing_person(&ctx, org, id, "").await?;
    auth.check(person_owner(&target))?;
    let update = UserUpdate {
        name: changes.name.as_deref().map(|n| super::clean_name("name", n)).transpose()?,
        role: changes.role.as_deref().map(super::parse_role).transpose()?,
        department_id: changes.department_id,
        active: changes.active,
    };
    let touches_admin = target.role == Role::Admin || update.role == Some(Role::Admin);
    if touches_admin && update.role.is_some() && auth.user.role != Role::Admin {
        return Err(AppError::Forbidden);
    }
    if target.id == auth.user.id && (update.role.is_some() || update.active == Some(false)) {
        // Nobody demotes or disables themselves by accident.
        return Err(AppError::Forbidden);
    }
    if let Some(department) = update.department_id {
        auth.check(Owner { user: Some(target.id), department })?;
        if let Some(d) = department {
            existing_department(&ctx, org, d).await?;
        }
    }
    let user = ctx.storage().update_user(org, id, &update).await?;
    tracing::info!(by = auth.user.id, user = id, "person updated");
    Ok(user)
}

/// Departments the caller may see, with head and head-count.
#[server(prefix = "/api", endpoint = "departments")]
pub async fn list_departments() -> Result<Vec<Department>, AppError> {
    use crate::access::{guard::Ctx, Action, Module};
    let ctx = Ctx::get().await?;
    let auth = ctx.authorize(Module::Settings, Action::View).await?;
    Ok(ctx.storage().departments(auth.user.org_id, auth.visibility()?).await?)
}

#[server(prefix = "/api", endpoint = "departments/create")]
pub async fn create_department(name: String, head_id: Option<UserId>) -> Result<Department, AppError> {
    use crate::access::{guard::Ctx, Action, Module, Owner};
    use ssr::*;

    let ctx = Ctx::get().await?;
    let auth = ctx.authorize(Module::Settings, Action::Create).await?;
    let org = auth.user.org_id;
    let name = super::clean_name("name", &name)?;
    auth.check(Owner { user: head_id, department: None })?;
    if let Some(h) = head_id {
        existing_person(&ctx, org, h, "head").await?;
    }
    Ok(ctx.storage().insert_department(org, &name, head_id).await?)
}

#[server(prefix = "/api", endpoint = "departments/update")]
pub async fn update_department(id: DeptId, name: String, head_id: Option<UserId>) -> Result<Department, AppError> {
    use crate::access::{guard::Ctx, Action, Module};
    use ssr::*;

    let ctx = Ctx::get().await?;
    let auth = ctx.authorize(Module::Settings, Action::Edit).await?;
    let org = auth.user.org_id;
    let current = ctx.storage().department(org, id).await?.ok_or(AppError::NotFound)?;
    auth.check(department_owner(&current))?;
    let name = super::clean_name("name", &name)?;
    if let Some(h) = head_id {
        existing_person(&ctx, org, h, "head").await?;
    }
    Ok(ctx.storage().update_department(org, id, &name, head_id).await?)
}

/// Removes an empty department.
#[server(prefix = "/api", endpoint = "departments/delete")]
pub async fn delete_department(id: DeptId) -> Result<(), AppError> {
    use crate::access::{guard::Ctx, Action, Module};
    use ssr::*;

    let ctx = Ctx::get().await?;
    let auth = ctx.authorize(Module::Settings, Action::Delete).await?;
    let org = auth.user.org_id;
    let current = ctx.storage().department(org, id).await?.ok_or(AppError::NotFound)?;
    auth.check(department_owner(&current))?;
    Ok(ctx.storage().delete_department(org, id).await?)
}
