//! Password hashing with argon2id. Hashing is slow on purpose, so it runs on
//! the blocking pool and never stalls the async workers.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use crate::error::AppError;

pub fn hash_blocking(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| {
        tracing::error!(error = %e, "password hashing failed");
        AppError::Internal
    })
}

fn verify_blocking(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
        .unwrap_or(false)
}

pub async fn hash(password: String) -> Result<String, AppError> {
    tokio_blocking(move || hash_blocking(&password)).await?
}

/// Checks a password; with no stored hash it still does the work, so that
/// timing does not tell which e-mail addresses exist.
pub async fn verify(password: String, hash: Option<String>) -> Result<bool, AppError> {
    tokio_blocking(move || match hash {
        Some(h) => verify_blocking(&password, &h),
        None => {
            let _ = hash_blocking(&password);
            false
        }
    })
    .await
}

async fn tokio_blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, AppError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        tracing::error!(error = %e, "blocking task failed");
        AppError::Internal
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let h = hash_blocking("секрет-пароль").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_blocking("секрет-пароль", &h));
        assert!(!verify_blocking("другой", &h));
        assert!(!verify_blocking("x", "not a hash"));
    }
}
