//! The storage port: everything the app needs from a database, and nothing
//! about how. The server crate implements it for SQLite and PostgreSQL and one
//! conformance suite runs against both.

use async_trait::async_trait;

use crate::access::{Action, Module, PermissionMatrix, Role, Scope, Visibility};
use crate::demo::DemoData;
use crate::error::{AppError, Problem};
use crate::i18n::{Locale, Theme};
use crate::org::{Department, DeptId, NewUser, OrgId, User, UserId};

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("not found")]
    NotFound,
    /// A unique value (named by the field) is already taken.
    #[error("{0} already taken")]
    Duplicate(&'static str),
    /// The record is still referenced (named by the field) and cannot go.
    #[error("{0} still in use")]
    InUse(&'static str),
    #[error(transparent)]
    Other(Box<dyn std::error::Error + Send + Sync>),
}

pub type StorageResult<T> = Result<T, StorageError>;

impl From<StorageError> for AppError {
    fn from(e: StorageError) -> AppError {
        match e {
            StorageError::NotFound => AppError::NotFound,
            StorageError::Duplicate(field) => AppError::invalid(field, Problem::Taken),
            StorageError::InUse(field) => AppError::invalid(field, Problem::InUse),
            StorageError::Other(e) => {
                tracing::error!(error = %e, "storage failure");
                AppError::Internal
            }
        }
    }
}

/// A person together with the secret needed to check their password.
#[derive(Clone, Debug)]
pub struct Credentials {
    pub user: User,
    pub password_hash: String,
}

/// Checked changes to a person; `None` keeps the current value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserUpdate {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub department_id: Option<Option<DeptId>>,
    pub active: Option<bool>,
}

#[async_trait]
pub trait Storage: Send + Sync + 'static {
    /// "sqlite" or "postgres", for logs and health checks.
    fn backend(&self) -> &'static str;
    async fn ping(&self) -> StorageResult<()>;

    /// The organisation this instance serves, if one was set up.
    async fn default_org(&self) -> StorageResult<Option<OrgId>>;
    /// Creates an organisation with the default rights.
    async fn create_org(&self, name: &str, time_zone: &str) -> StorageResult<OrgId>;

    async fn count_users(&self) -> StorageResult<i64>;
    async fn user(&self, id: UserId) -> StorageResult<Option<User>>;
    async fn credentials(&self, email: &str) -> StorageResult<Option<Credentials>>;
    async fn users(&self, org: OrgId, visibility: Visibility) -> StorageResult<Vec<User>>;
    async fn insert_user(&self, org: OrgId, user: &NewUser, password_hash: &str) -> StorageResult<User>;
    async fn update_user(&self, org: OrgId, id: UserId, update: &UserUpdate) -> StorageResult<User>;
    async fn set_password(&self, id: UserId, password_hash: &str) -> StorageResult<()>;
    async fn set_preferences(&self, id: UserId, locale: Locale, theme: Theme) -> StorageResult<()>;

    async fn departments(&self, org: OrgId, visibility: Visibility) -> StorageResult<Vec<Department>>;
    async fn department(&self, org: OrgId, id: DeptId) -> StorageResult<Option<Department>>;
    async fn insert_department(&self, org: OrgId, name: &str, head: Option<UserId>) -> StorageResult<Department>;
    async fn update_department(
        &self,
        org: OrgId,
        id: DeptId,
        name: &str,
        head: Option<UserId>,
    ) -> StorageResult<Department>;
    /// Removes an empty department; one with members is [`StorageError::InUse`].
    async fn delete_department(&self, org: OrgId, id: DeptId) -> StorageResult<()>;

    async fn permissions(&self, org: OrgId) -> StorageResult<PermissionMatrix>;
    async fn set_permission(
        &self,
        org: OrgId,
        role: Role,
        module: Module,
        action: Action,
        scope: Scope,
    ) -> StorageResult<()>;

    /// Failed sign-ins under `key` since `since_ms`: how many, and the oldest.
    async fn login_failures(&self, key: &str, since_ms: i64) -> StorageResult<(i64, Option<i64>)>;
    async fn record_login_failure(&self, keys: &[String], at_ms: i64) -> StorageResult<()>;
    async fn clear_login_failures(&self, key: &str) -> StorageResult<()>;

    /// Replaces all business data with a generated data set.
    async fn import_demo(&self, data: &DemoData) -> StorageResult<()>;
}
