//! Signing in and out, the session's user, and personal preferences.

#[cfg(feature = "ssr")]
pub mod password;
pub mod server;
pub mod ui;

use serde::{Deserialize, Serialize};

use crate::access::{Action, Module, Scope};
use crate::org::User;

/// The signed-in person as the browser needs them: who, where, and which
/// rights, so it can hide what would be refused anyway.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    pub user: User,
    pub department_name: Option<String>,
    pub rights: Vec<(Module, Action, Scope)>,
}

impl SessionUser {
    pub fn scope(&self, module: Module, action: Action) -> Scope {
        self.rights.iter().find(|(m, a, _)| *m == module && *a == action).map_or(Scope::None, |(_, _, s)| *s)
    }

    pub fn can(&self, module: Module, action: Action) -> bool {
        self.scope(module, action) != Scope::None
    }
}
