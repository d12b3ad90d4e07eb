//! The table of rights an organisation runs on, and the defaults it starts with.

use std::collections::BTreeMap;

use strum::IntoEnumIterator;

use super::{Action, Module, Role, Scope};

/// Every (role, module, action) right of one organisation.
///
/// Missing entries mean [`Scope::None`], so a right added in a later release
/// is closed until an admin opens it or a migration seeds it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PermissionMatrix {
    entries: BTreeMap<(Role, Module, Action), Scope>,
}

impl PermissionMatrix {
    pub fn scope(&self, role: Role, module: Module, action: Action) -> Scope {
        if role == Role::Admin {
            // Admins keep every right so that no edit can lock the organisation out.
            return Scope::All;
        }
        self.entries.get(&(role, module, action)).copied().unwrap_or(Scope::None)
    }

    pub fn set(&mut self, role: Role, module: Module, action: Action, scope: Scope) {
        self.entries.insert((role, module, action), scope);
    }

    /// Every right as a flat row, Admin first: what the rights editor shows.
    pub fn rows(&self) -> Vec<(Role, Module, Action, Scope)> {
        Role::iter().flat_map(|r| self.for_role(r).into_iter().map(move |(m, a, s)| (r, m, a, s))).collect()
    }

    /// The rights of one role, for the client to show or hide what it may use.
    pub fn for_role(&self, role: Role) -> Vec<(Module, Action, Scope)> {
        Module::iter()
            .flat_map(|m| Action::iter().map(move |a| (m, a)))
            .map(|(m, a)| (m, a, self.scope(role, m, a)))
            .collect()
    }

    /// Sensible starting rights: a manager works own records, a head the
    /// department, a viewer reads the department, an admin everything.
    pub fn defaults() -> PermissionMatrix {
        use Action::*;
        use Module::*;
        use Scope::{Department as Dept, None as No, Own};
        let mut m = PermissionMatrix::default();
        let mut grant = |role: Role, module: Module, scopes: [Scope; 4]| {
            for (action, scope) in [View, Create, Edit, Delete].into_iter().zip(scopes) {
                m.set(role, module, action, scope);
            }
        };
        //                         view  create edit  delete
        grant(Role::Head, Deals, [Dept, Dept, Dept, Dept]);
        grant(Role::Head, Leads, [Dept, Dept, Dept, Dept]);
        grant(Role::Head, Analytics, [Dept, No, No, No]);
        grant(Role::Head, Goals, [Dept, Dept, Dept, Dept]);
        grant(Role::Head, Bonuses, [Dept, Dept, Dept, No]);
        grant(Role::Head, Settings, [Dept, No, No, No]);

        grant(Role::Manager, Deals, [Own, Own, Own, No]);
        grant(Role::Manager, Leads, [Own, Own, Own, No]);
        grant(Role::Manager, Analytics, [Own, No, No, No]);
        grant(Role::Manager, Goals, [Dept, No, No, No]);
        grant(Role::Manager, Bonuses, [Own, No, No, No]);
        grant(Role::Manager, Settings, [Own, No, No, No]);

        grant(Role::Viewer, Deals, [Dept, No, No, No]);
        grant(Role::Viewer, Leads, [Dept, No, No, No]);
        grant(Role::Viewer, Analytics, [Dept, No, No, No]);
        grant(Role::Viewer, Goals, [Dept, No, No, No]);
        grant(Role::Viewer, Bonuses, [No, No, No, No]);
        grant(Role::Viewer, Settings, [Own, No, No, No]);
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_always_has_everything_even_if_edited() {
        let mut m = PermissionMatrix::defaults();
        m.set(Role::Admin, Module::Settings, Action::Edit, Scope::None);
        assert_eq!(m.scope(Role::Admin, Module::Settings, Action::Edit), Scope::All);
    }

    #[test]
    fn defaults_follow_the_product_rules() {
        let m = PermissionMatrix::defaults();
        assert_eq!(m.scope(Role::Manager, Module::Deals, Action::View), Scope::Own);
        assert_eq!(m.scope(Role::Head, Module::Deals, Action::View), Scope::Department);
        assert_eq!(m.scope(Role::Viewer, Module::Deals, Action::Edit), Scope::None);
        assert_eq!(m.scope(Role::Manager, Module::Settings, Action::Edit), Scope::None);
    }

    #[test]
    fn missing_entries_are_closed() {
        let m = PermissionMatrix::default();
        assert_eq!(m.scope(Role::Head, Module::Goals, Action::View), Scope::None);
        assert_eq!(m.for_role(Role::Head).len(), 24);
    }
}
