//! The embedded default: one SQLite file in WAL mode, a single writer
//! connection that takes the write lock up front (`BEGIN IMMEDIATE`), and a
//! read-only pool so readers never wait for writers.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous, SqliteTransactionManager,
};
use sqlx::TransactionManager;
use tokio::sync::{mpsc, oneshot};

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
    /// Moves for the task that commits them in groups (`commit_moves`).
    moves: mpsc::Sender<MoveJob>,
    mover: tokio::task::JoinHandle<()>,
}

impl Drop for Store {
    fn drop(&mut self) {
        self.checkpointer.abort();
        self.mover.abort();
    }
}

/// A move waiting for the writer, with where its answer goes.
struct MoveJob {
    org: OrgId,
    actor: UserId,
    req: MoveRequest,
    now_ms: i64,
    answer: oneshot::Sender<StorageResult<MoveOutcome>>,
}

/// Moves committed together at most. Each waits for those before it in its
/// group, so the cap bounds a move's wait (a move takes about 2 ms at
/// 200,000 deals) while still sharing a commit among many.
const MOVES_PER_COMMIT: usize = 16;
/// Moves waiting for the writer before callers wait to hand theirs over.
const MOVES_QUEUED: usize = 1024;

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
        let (moves, queued) = mpsc::channel(MOVES_QUEUED);
        let mover = tokio::spawn(commit_moves(write.clone(), queued));
        let store = Store { read, write, checkpointer, moves, mover };
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

    /// Hands the move to the task that commits moves in groups, and waits for its answer.
    async fn move_deal_impl(
        &self,
        org: OrgId,
        actor: UserId,
        req: &MoveRequest,
        now_ms: i64,
    ) -> StorageResult<MoveOutcome> {
        let (answer, answered) = oneshot::channel();
        let job = MoveJob { org, actor, req: req.clone(), now_ms, answer };
        self.moves.send(job).await.map_err(|_| mover_stopped())?;
        answered.await.map_err(|_| mover_stopped())?
    }

    /// Runs `jobs` in one transaction, each after a savepoint of its own, so
    /// one move's failure rolls back only its writes. The savepoints are
    /// never released: a release would cost each move another round trip to
    /// the connection's thread, and the commit ends them all. The answers are
    /// given after the commit; if the transaction fails, every job gets the
    /// error, because none of them happened.
    async fn move_together(write: &SqlitePool, jobs: &[MoveJob]) -> StorageResult<Vec<StorageResult<MoveOutcome>>> {
        let mut tx = write.begin_with("BEGIN IMMEDIATE").await.map_err(other)?;
        let mut answers = Vec::with_capacity(jobs.len());
        for job in jobs {
            run_statement(&mut tx, "SAVEPOINT one_move").await?;
            let answer = match Self::move_in(&mut tx, job.org, job.actor, &job.req, job.now_ms).await {
                Ok(Some(outcome)) => Ok(outcome),
                Ok(None) => {
                    run_statement(&mut tx, "ROLLBACK TO one_move").await?;
                    Self::replayed_move(&mut tx, job.actor, &job.req).await
                }
                Err(e) => {
                    run_statement(&mut tx, "ROLLBACK TO one_move").await?;
                    Err(e)
                }
            };
            answers.push(answer);
        }
        tx.commit().await.map_err(other)?;
        Ok(answers)
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

/// The writer's side of moves: takes the moves that are waiting (up to
/// `MOVES_PER_COMMIT`) and commits them in one transaction. Each commit
/// walks the writer's whole page cache and writes every page changed to the
/// log; a group pays that once, and pages its moves share (roll-ups of the
/// same day, neighbouring index entries) are written once. A move whose
/// caller went away before its turn is not made. A panic fails its group
/// only (the transaction is dropped, so rolled back), not every later move.
async fn commit_moves(write: SqlitePool, mut queued: mpsc::Receiver<MoveJob>) {
    use futures::FutureExt;
    let mut jobs = Vec::with_capacity(MOVES_PER_COMMIT);
    while queued.recv_many(&mut jobs, MOVES_PER_COMMIT).await > 0 {
        jobs.retain(|job| !job.answer.is_closed());
        if jobs.is_empty() {
            // Every caller went away: no transaction to open.
            continue;
        }
        let together = std::panic::AssertUnwindSafe(Store::move_together(&write, &jobs)).catch_unwind().await;
        let answers = match together {
            Ok(Ok(answers)) => answers,
            failed => {
                let failure = match failed {
                    Ok(Err(e)) => e.to_string(),
                    _ => "a group of moves panicked".to_string(),
                };
                jobs.iter().map(|_| Err(StorageError::Other(failure.clone().into()))).collect()
            }
        };
        for (job, answer) in jobs.drain(..).zip(answers) {
            let _ = job.answer.send(answer);
        }
    }
}

fn mover_stopped() -> StorageError {
    StorageError::Other("the writer of moves has stopped".into())
}

async fn run_statement(tx: &mut sqlx::Transaction<'static, Db>, statement: &str) -> StorageResult<()> {
    sqlx::query(statement).execute(&mut **tx).await.map_err(other)?;
    Ok(())
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
