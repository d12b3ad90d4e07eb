//! The one gate every server function passes: who is calling, and what the
//! organisation's rights let them do.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use leptos::prelude::*;
use tower_sessions::Session;

use super::{Action, Actor, Grant, Module, Owner, Visibility};
use crate::error::AppError;
use crate::org::User;
use crate::storage::Storage;

/// Where a session keeps the signed-in user's id.
pub const SESSION_USER_KEY: &str = "uid";

/// When repeated wrong passwords lock sign-in.
#[derive(Clone, Copy, Debug)]
pub struct LoginPolicy {
    /// Failures per account within `window` before it is locked.
    pub max_per_account: i64,
    /// Failures per address within `window`; higher, as an office shares one.
    pub max_per_ip: i64,
    pub window: Duration,
}

impl Default for LoginPolicy {
    fn default() -> Self {
        LoginPolicy { max_per_account: 10, max_per_ip: 50, window: Duration::from_secs(15 * 60) }
    }
}

/// What server functions reach through Leptos context.
#[derive(Clone)]
pub struct AppState {
    pub storage: Arc<dyn Storage>,
    pub login_policy: LoginPolicy,
    pub leptos_options: LeptosOptions,
    /// Where mutations announce committed changes for live pages.
    pub hub: crate::pipeline::live::Hub,
}

/// The request a server function is handling.
pub struct Ctx {
    pub state: AppState,
    pub session: Session,
}

/// A signed-in user with one right resolved.
pub struct Authorized {
    pub user: User,
    pub grant: Grant,
}

impl Authorized {
    /// `Forbidden` unless the right covers a record with this owner.
    pub fn check(&self, owner: Owner) -> Result<(), AppError> {
        if self.grant.permits(owner) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// The list filter for this right, `Forbidden` when it covers nothing.
    pub fn visibility(&self) -> Result<Visibility, AppError> {
        self.grant.visibility().ok_or(AppError::Forbidden)
    }
}

impl Ctx {
    pub async fn get() -> Result<Ctx, AppError> {
        let state = use_context::<AppState>().ok_or_else(|| {
            tracing::error!("AppState missing from server function context");
            AppError::Internal
        })?;
        let session: Session = leptos_axum::extract().await.map_err(|e| {
            tracing::error!(error = %e, "session layer missing");
            AppError::Internal
        })?;
        Ok(Ctx { state, session })
    }

    pub fn storage(&self) -> &dyn Storage {
        self.state.storage.as_ref()
    }

    /// The signed-in, still active user, if any.
    pub async fn current_user(&self) -> Result<Option<User>, AppError> {
        let id: Option<i64> = self.session.get(SESSION_USER_KEY).await.map_err(|e| {
            tracing::error!(error = %e, "session store failure");
            AppError::Internal
        })?;
        let Some(id) = id else { return Ok(None) };
        Ok(self.storage().user(id).await?.filter(|u| u.active))
    }

    pub async fn require_user(&self) -> Result<User, AppError> {
        self.current_user().await?.ok_or(AppError::Unauthenticated)
    }

    /// Resolves the caller's right for `module` × `action`; `Forbidden` if it is none at all.
    pub async fn authorize(&self, module: Module, action: Action) -> Result<Authorized, AppError> {
        let user = self.require_user().await?;
        let matrix = self.storage().permissions(user.org_id).await?;
        let scope = matrix.scope(user.role, module, action);
        let grant = Grant { actor: Actor { user: user.id, department: user.department_id, role: user.role }, scope };
        if grant.visibility().is_none() {
            return Err(AppError::Forbidden);
        }
        Ok(Authorized { user, grant })
    }
}

/// The caller's address, for throttling sign-in.
pub async fn client_ip() -> Option<IpAddr> {
    use axum::extract::ConnectInfo;
    let ConnectInfo(addr) = leptos_axum::extract::<ConnectInfo<std::net::SocketAddr>>().await.ok()?;
    Some(addr.ip())
}
