//! The scale-out backend: PostgreSQL, shared by several app servers.

use sqlx::postgres::{PgPool, PgPoolOptions};

pub type Db = sqlx::Postgres;
const BACKEND: &str = "postgres";
/// Holds a row read in a transaction against updates until it ends.
const FOR_SHARE: &str = " FOR SHARE";

/// An aggregate joining a text expression's values with commas (NULL for no rows).
fn text_list(expr: &str) -> String {
    format!("string_agg({expr}, ',')")
}

/// `funnel_reach`; PostgreSQL's planner picks the index from its statistics.
fn funnel_reach_by(_index: &str) -> String {
    "funnel_reach".to_string()
}

pub struct Store {
    read: PgPool,
    write: PgPool,
}

impl Store {
    /// Connects and brings the schema up to date (migrations take an advisory
    /// lock, so several servers starting at once are safe).
    pub async fn open(url: &str) -> Result<Store, sqlx::Error> {
        let pool = PgPoolOptions::new().max_connections(16).connect(url).await?;
        sqlx::migrate!("migrations/postgres").run(&pool).await?;
        let store = Store { read: pool.clone(), write: pool };
        store.build_missing_kpis().await.map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
        Ok(store)
    }

    pub fn pool(&self) -> &PgPool {
        &self.write
    }

    async fn begin_write(&self) -> StorageResult<sqlx::Transaction<'static, Db>> {
        self.write.begin().await.map_err(other)
    }

    /// Each move in a transaction of its own: PostgreSQL runs them side by
    /// side, and a commit costs one log flush shared with whoever flushes with it.
    async fn move_deal_impl(
        &self,
        org: OrgId,
        actor: UserId,
        req: &MoveRequest,
        now_ms: i64,
    ) -> StorageResult<MoveOutcome> {
        let mut tx = self.begin_write().await?;
        match Self::move_in(&mut tx, org, actor, req, now_ms).await? {
            Some(outcome) => {
                tx.commit().await.map_err(other)?;
                Ok(outcome)
            }
            None => {
                tx.rollback().await.map_err(other)?;
                let mut tx = self.begin_write().await?;
                Self::replayed_move(&mut tx, actor, req).await
            }
        }
    }

    /// `VACUUM ANALYZE`: fresh statistics for the planner, and the visibility
    /// map without which the covering indexes cannot answer from the index alone.
    async fn refresh_statistics_impl(&self) -> StorageResult<()> {
        sqlx::query("VACUUM ANALYZE").execute(&self.write).await.map_err(other)?;
        Ok(())
    }

    /// Rows imported with explicit ids leave identity sequences behind: moves
    /// them past the data, then refreshes the grown tables' statistics.
    async fn after_import(tx: &mut sqlx::Transaction<'_, Db>) -> StorageResult<()> {
        for table in [
            "organizations",
            "departments",
            "users",
            "pipelines",
            "stages",
            "clients",
            "leads",
            "deals",
            "deal_events",
            "activities",
            "stage_violations",
        ] {
            sqlx::query(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
            ))
            .execute(&mut **tx)
            .await
            .map_err(other)?;
        }
        // Without fresh statistics (autovacuum may be off, and is slow to
        // notice a bulk load) the planner takes the grown tables for small
        // ones: the repeat-client lookup of the next chunk then walks every
        // won deal instead of one client's few, and each chunk gets slower.
        sqlx::query("ANALYZE deals, deal_events, leads, clients, activities, funnel_reach, funnel_times")
            .execute(&mut **tx)
            .await
            .map_err(other)?;
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
