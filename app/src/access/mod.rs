//! Roles and rights: who may do what to which records.
//!
//! A right is a [`Scope`] for one (role, [`Module`], [`Action`]) triple. The
//! server resolves it once per call ([`Grant`]) and then either checks a single
//! record ([`Grant::permits`]) or turns it into a filter for a list query
//! ([`Grant::visibility`]). Nothing else decides access.

#[cfg(feature = "ssr")]
pub mod guard;
pub mod matrix;
pub use matrix::PermissionMatrix;
pub mod server;
pub mod ui;

use crate::org::{DeptId, UserId};

named_enum!(
    /// The four kinds of people in a sales department, from PRODUCT.md.
    Role { Admin, Head, Manager, Viewer }
);

named_enum!(
    /// Areas of the product that rights are granted for.
    Module {
        Deals,
        Leads,
        Analytics,
        Goals,
        Bonuses,
        /// Users, departments and rights themselves.
        Settings,
    }
);

named_enum!(
    /// What is done to a record.
    Action { View, Create, Edit, Delete }
);

named_enum!(
    /// How far a right reaches. Ordered: each scope includes the ones before it.
    Scope { None, Own, Department, All }
);

/// Who a record belongs to, as far as rights are concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Owner {
    pub user: Option<UserId>,
    pub department: Option<DeptId>,
}

/// The person acting, reduced to what rights depend on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Actor {
    pub user: UserId,
    pub department: Option<DeptId>,
    pub role: Role,
}

/// Which records a list query may return.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visibility {
    All,
    /// Records of this department, plus the actor's own wherever they sit.
    Department {
        department: Option<DeptId>,
        user: UserId,
    },
    Own {
        user: UserId,
    },
}

/// A right resolved for one actor, module and action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grant {
    pub actor: Actor,
    pub scope: Scope,
}

impl Grant {
    /// Whether the right covers a record with this owner.
    pub fn permits(&self, owner: Owner) -> bool {
        let own = owner.user == Some(self.actor.user);
        match self.scope {
            Scope::None => false,
            Scope::Own => own,
            Scope::Department => own || (self.actor.department.is_some() && owner.department == self.actor.department),
            Scope::All => true,
        }
    }

    /// The list filter for this right; `None` when nothing may be seen.
    pub fn visibility(&self) -> Option<Visibility> {
        match self.scope {
            Scope::None => None,
            Scope::Own => Some(Visibility::Own { user: self.actor.user }),
            Scope::Department => {
                Some(Visibility::Department { department: self.actor.department, user: self.actor.user })
            }
            Scope::All => Some(Visibility::All),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(scope: Scope) -> Grant {
        Grant { actor: Actor { user: 1, department: Some(10), role: Role::Manager }, scope }
    }

    const MINE: Owner = Owner { user: Some(1), department: Some(10) };
    const COLLEAGUE: Owner = Owner { user: Some(2), department: Some(10) };
    const STRANGER: Owner = Owner { user: Some(3), department: Some(20) };
    const NOBODY: Owner = Owner { user: None, department: None };

    #[test]
    fn scopes_include_exactly_what_they_say() {
        let cases = [
            (Scope::None, [false, false, false, false]),
            (Scope::Own, [true, false, false, false]),
            (Scope::Department, [true, true, false, false]),
            (Scope::All, [true, true, true, true]),
        ];
        for (scope, expected) in cases {
            let got = [MINE, COLLEAGUE, STRANGER, NOBODY].map(|o| grant(scope).permits(o));
            assert_eq!(got, expected, "{scope:?}");
        }
    }

    #[test]
    fn department_scope_without_department_sees_only_own() {
        let g = Grant { actor: Actor { user: 1, department: None, role: Role::Head }, scope: Scope::Department };
        assert!(g.permits(Owner { user: Some(1), department: None }));
        assert!(!g.permits(Owner { user: Some(2), department: None }));
    }
}
