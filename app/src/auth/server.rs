//! Server functions for the session: sign in, sign out, who am I, preferences.

use leptos::prelude::*;

use super::SessionUser;
use crate::error::AppError;

#[cfg(feature = "ssr")]
mod ssr {
    use std::time::{SystemTime, UNIX_EPOCH};

    use crate::access::guard::Ctx;
    use crate::auth::SessionUser;
    use crate::error::AppError;
    use crate::org::User;

    pub fn now_ms() -> i64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
    }

    pub async fn session_user(ctx: &Ctx, user: User) -> Result<SessionUser, AppError> {
        let storage = ctx.storage();
        let department_name = match user.department_id {
            Some(id) => storage.department(user.org_id, id).await?.map(|d| d.name),
            None => None,
        };
        let rights = storage.permissions(user.org_id).await?.for_role(user.role);
        Ok(SessionUser { user, department_name, rights })
    }
}

/// Signs in with e-mail and password. Ten wrong passwords lock the account
/// (fifty the address) for the policy's window.
#[server(prefix = "/api", endpoint = "login")]
pub async fn login(email: String, password: String) -> Result<SessionUser, AppError> {
    use crate::access::guard::{client_ip, Ctx, SESSION_USER_KEY};
    use crate::error::Problem;
    use ssr::*;

    let ctx = Ctx::get().await?;
    let email = crate::org::clean_email(&email)?;
    if password.is_empty() {
        return Err(AppError::invalid("password", Problem::Required));
    }
    if password.chars().count() > crate::org::MAX_PASSWORD {
        return Err(AppError::BadCredentials);
    }
    let policy = ctx.state.login_policy;
    let now = now_ms();
    let window_ms = policy.window.as_millis() as i64;
    let account_key = format!("email:{email}");
    let mut keys = vec![(account_key.clone(), policy.max_per_account)];
    if let Some(ip) = client_ip().await {
        keys.push((format!("ip:{ip}"), policy.max_per_ip));
    }
    for (key, max) in &keys {
        let (failures, oldest) = ctx.storage().login_failures(key, now - window_ms).await?;
        if failures >= *max {
            let unlock_at = oldest.unwrap_or(now) + window_ms;
            let retry_after_secs = ((unlock_at - now).max(1000) / 1000) as u64;
            tracing::warn!(%key, "sign-in locked");
            return Err(AppError::RateLimited { retry_after_secs });
        }
    }

    let found = ctx.storage().credentials(&email).await?;
    let hash = found.as_ref().map(|c| c.password_hash.clone());
    let valid = crate::auth::password::verify(password, hash).await?;
    let user = match found {
        Some(c) if valid && c.user.active => c.user,
        _ => {
            let keys: Vec<String> = keys.into_iter().map(|(k, _)| k).collect();
            ctx.storage().record_login_failure(&keys, now).await?;
            return Err(AppError::BadCredentials);
        }
    };
    ctx.storage().clear_login_failures(&account_key).await?;
    let session_error = |e: tower_sessions::session::Error| {
        tracing::error!(error = %e, "session store failure");
        AppError::Internal
    };
    // A new id on sign-in, so a planted session id is worthless.
    ctx.session.cycle_id().await.map_err(session_error)?;
    ctx.session.insert(SESSION_USER_KEY, user.id).await.map_err(session_error)?;
    tracing::info!(user = user.id, "signed in");
    session_user(&ctx, user).await
}

/// Ends the session on the server; the cookie becomes worthless.
#[server(prefix = "/api", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    use crate::access::guard::Ctx;
    let ctx = Ctx::get().await?;
    ctx.session.flush().await.map_err(|e| {
        tracing::error!(error = %e, "session store failure");
        AppError::Internal
    })
}

/// The signed-in person, or `None`.
#[server(prefix = "/api", endpoint = "me")]
pub async fn me() -> Result<Option<SessionUser>, AppError> {
    use crate::access::guard::Ctx;
    let ctx = Ctx::get().await?;
    match ctx.current_user().await? {
        Some(user) => Ok(Some(ssr::session_user(&ctx, user).await?)),
        None => Ok(None),
    }
}

/// Saves the caller's language and theme.
#[server(prefix = "/api", endpoint = "preferences")]
pub async fn set_preferences(locale: String, theme: String) -> Result<(), AppError> {
    use crate::access::guard::Ctx;
    use crate::error::Problem;
    use crate::i18n::{Locale, Theme};

    let ctx = Ctx::get().await?;
    let user = ctx.require_user().await?;
    let locale: Locale = locale.parse().map_err(|_| AppError::invalid("language", Problem::Unknown))?;
    let theme: Theme = theme.parse().map_err(|_| AppError::invalid("theme", Problem::Unknown))?;
    ctx.storage().set_preferences(user.id, locale, theme).await?;
    Ok(())
}
