//! Server functions for the rights table. It belongs to nobody in particular,
//! so reading or changing it takes a Settings right with scope All.

use leptos::prelude::*;

use super::{Action, Module, Role, Scope};
use crate::error::AppError;

/// Every right of every role, Admin first.
#[server(prefix = "/api", endpoint = "rights")]
pub async fn rights_matrix() -> Result<Vec<(Role, Module, Action, Scope)>, AppError> {
    use super::{guard::Ctx, Owner};
    let ctx = Ctx::get().await?;
    let auth = ctx.authorize(Module::Settings, Action::View).await?;
    auth.check(Owner { user: None, department: None })?;
    Ok(ctx.storage().permissions(auth.user.org_id).await?.rows())
}

/// Sets one right. Admin rights are fixed and cannot be edited.
#[server(prefix = "/api", endpoint = "rights/set")]
pub async fn set_right(role: String, module: String, action: String, scope: String) -> Result<(), AppError> {
    use super::{guard::Ctx, Owner};
    use crate::error::Problem;
    let ctx = Ctx::get().await?;
    let auth = ctx.authorize(Module::Settings, Action::Edit).await?;
    auth.check(Owner { user: None, department: None })?;
    let unknown = |field: &str| AppError::invalid(field, Problem::Unknown);
    let role: Role = role.parse().map_err(|_| unknown("role"))?;
    let module: Module = module.parse().map_err(|_| unknown("module"))?;
    let action: Action = action.parse().map_err(|_| unknown("action"))?;
    let scope: Scope = scope.parse().map_err(|_| unknown("scope"))?;
    if role == Role::Admin {
        return Err(AppError::invalid("role", Problem::Unknown));
    }
    ctx.storage().set_permission(auth.user.org_id, role, module, action, scope).await?;
    tracing::info!(by = auth.user.id, ?role, ?module, ?action, ?scope, "right changed");
    Ok(())
}
