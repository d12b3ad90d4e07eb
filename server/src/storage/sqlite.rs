//! The embedded default: one SQLite file in WAL mode, a single writer
//! connection that takes the write lock up front (`BEGIN IMMEDIATE`), and a
//! read-only pool so readers never wait for writers.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous, SqliteTransactionManager,
};
use sqlx::TransactionManager;

pub type Db = sqlx::Sqlite;
const BACKEND: &str = "sqlite";
/// Row locks for readers: none, a write holds the whole database.
const FOR_SHARE: &str = "";

/// An aggregate joining a text expression's values with commas (NULL for no rows).
fn text_list(expr: &str) -> String {
    format!("group_concat({expr}, ',')")
}

/// `funnel_reach` read through one of its indexes. SQLite keeps no
/// statistics here, and its guess read a median's bucket of a cohort through
/// `funnel_reach_created` (every time of the period, from the table) instead
/// of the bucket index, some ten times slower.
fn funnel_reach_by(index: &str) -> String {
    format!("funnel_reach INDEXED BY {index}")
}

pub struct Store {
    read: SqlitePool,
    write: SqlitePool,
    /// Copies the write-ahead log into the database file beside the writer.
    checkpointer: tokio::task::JoinHandle<()>,
}

impl Drop for Store {
    fn drop(&mut self) {
        self.checkpointer.abort();
    }
}

/// How often the log is copied into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);
/// Log pages (64 MiB) past which the writer checkpoints itself after all.
/// The log starts over only when a write begins after a complete
/// checkpoint, which back-to-back writes (a bulk import, a stream of moves)
/// never leave time for; most of the copying is done by then, so the
/// writer's share is small.
pub const WRITER_CHECKPOINT_PAGES: i64 = 16_384;

/// The memory map over the database file: SQLite's own ceiling (2 GiB).
const MMAP_BYTES: i64 = 0x7fff_0000;
/// The writer's page cache. A move touches a dozen indexes at random
/// places; with SQLite's default 2 MiB most of those pages are read from the
/// file again on every write, past the memory map's first 2 GiB.
const WRITER_CACHE_KIB: i64 = 256 * 1024;

impl Store {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub async fn open(url: &str) -> Result<Store, sqlx::Error> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true)
            // Reads of the first gigabytes come straight from the file's pages
            // in memory, without a system call and a copy per page.
            .pragma("mmap_size", MMAP_BYTES.to_string());
        // A commit that crosses SQLite's automatic checkpoint size copies the
        // whole log into the file before it returns, a spike in the writer's
        // latency every thousand pages. A task on its own connection copies
        // it instead, without blocking the writer or readers; the writer only
        // finishes the job when the log outgrows `WRITER_CHECKPOINT_PAGES`.
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            // A request dropped mid-`BEGIN` (the client went away) can leave the one
            // writer inside a transaction nobody owns; every later write would fail.
            // Such a leftover is ended on checkout. The depth is sqlx's own count,
            // read without a round trip to the connection's thread.
            .before_acquire(|conn, _| {
                Box::pin(async move {
                    if SqliteTransactionManager::get_transaction_depth(conn) > 0 {
                        // Through sqlx, so that its count goes down too. A rollback sqlx
                        // queued itself may get there first; then this one fails harmlessly.
                        let _ = SqliteTransactionManager::rollback(conn).await;
                    }
                    Ok(true)
                })
            })
            .connect_with(
                options
                    .clone()
                    .pragma("wal_autocheckpoint", WRITER_CHECKPOINT_PAGES.to_string())
                    .pragma("cache_size", format!("-{WRITER_CACHE_KIB}")),
            )
            .await?;
        sqlx::migrate!("migrations/sqlite").run(&write).await?;
        let read = SqlitePoolOptions::new().max_connections(8).connect_with(options.clone().read_only(true)).await?;
        let checkpoints = SqlitePoolOptions::new().max_connections(1).connect_with(options).await?;
        let checkpointer = tokio::spawn(async move {
            let mut every = tokio::time::interval(CHECKPOINT_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                // PASSIVE copies what no reader still needs and never waits.
                if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&checkpoints).await {
                    tracing::warn!(error = %e, "checkpoint failed");
                }
            }
        });
        let store = Store { read, write, checkpointer };
        store.build_missing_kpis().await.map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
        Ok(store)
    }

    /// The writer pool, for the session store and online backups.
    pub fn writer(&self) -> &SqlitePool {
        &self.write
    }

    async fn begin_write(&self) -> StorageResult<sqlx::Transaction<'static, Db>> {
        self.write.begin_with("BEGIN IMMEDIATE").await.map_err(other)
    }

    async fn after_import(_tx: &mut sqlx::Transaction<'_, Db>) -> StorageResult<()> {
        // INTEGER PRIMARY KEY continues after the highest id by itself.
        Ok(())
    }

    /// Nothing to do: without `ANALYZE` statistics SQLite plans from the
    /// indexes alone, which is what the queries here were measured with;
    /// statistics would make those plans depend on the shape of the data.
    async fn refresh_statistics_impl(&self) -> StorageResult<()> {
        Ok(())
    }

    /// Writes a consistent copy of the live database to `path` (VACUUM INTO).
    pub async fn backup(&self, path: &str) -> Result<(), sqlx::Error> {
        sqlx::query("VACUUM INTO $1").bind(path).execute(&self.write).await?;
        Ok(())
    }
}

include!("shared.rs");
include!("pipeline.rs");
include!("lists.rs");
include!("funnel.rs");
include!("kpi.rs");
include!("norms.rs");
include!("goals.rs");

/// Runs `PRAGMA integrity_check` on a database file: "ok" when it is sound.
pub async fn integrity_check(path: &std::path::Path) -> Result<String, sqlx::Error> {
    use sqlx::Connection;
    let options = SqliteConnectOptions::new().filename(path).read_only(true);
    let mut conn = sqlx::SqliteConnection::connect_with(&options).await?;
    let result: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&mut conn).await?;
    conn.close().await?;
    Ok(result)
}
