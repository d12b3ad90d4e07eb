//! Database adapters for the app's storage port, chosen by the URL scheme:
//! `sqlite:` (embedded default) or `postgres:`. Sessions live in the same
//! database, so they survive restarts and are shared by every app server.

pub mod postgres;
pub mod sqlite;

use std::sync::Arc;

use app::storage::Storage;
use async_trait::async_trait;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

/// An open database: the app's storage and the session store beside it.
pub struct Database {
    pub storage: Arc<dyn Storage>,
    pub sessions: Sessions,
    pub sqlite: Option<Arc<sqlite::Store>>,
}

/// The session store of whichever backend is in use.
#[derive(Clone, Debug)]
pub enum Sessions {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres:") || url.starts_with("postgresql:")
}

impl Database {
    pub async fn open(url: &str) -> Result<Database, sqlx::Error> {
        if is_postgres(url) {
            let store = postgres::Store::open(url).await?;
            let sessions = PostgresStore::new(store.pool().clone());
            sessions.migrate().await?;
            Ok(Database { storage: Arc::new(store), sessions: Sessions::Postgres(sessions), sqlite: None })
        } else {
            let store = Arc::new(sqlite::Store::open(url).await?);
            let sessions = SqliteStore::new(store.writer().clone());
            sessions.migrate().await?;
            Ok(Database { storage: store.clone(), sessions: Sessions::Sqlite(sessions), sqlite: Some(store) })
        }
    }
}

#[async_trait]
impl SessionStore for Sessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            Sessions::Sqlite(s) => s.create(record).await,
            Sessions::Postgres(s) => s.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            Sessions::Sqlite(s) => s.save(record).await,
            Sessions::Postgres(s) => s.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            Sessions::Sqlite(s) => s.load(id).await,
            Sessions::Postgres(s) => s.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            Sessions::Sqlite(s) => s.delete(id).await,
            Sessions::Postgres(s) => s.delete(id).await,
        }
    }
}

#[async_trait]
impl ExpiredDeletion for Sessions {
    async fn delete_expired(&self) -> session_store::Result<()> {
        match self {
            Sessions::Sqlite(s) => s.delete_expired().await,
            Sessions::Postgres(s) => s.delete_expired().await,
        }
    }
}
