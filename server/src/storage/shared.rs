// The one implementation of the storage port, compiled once per backend.
//
// `sqlite.rs` and `postgres.rs` each `include!` this file after defining
// `Db` (the sqlx database), `Store` (with `read` and `write` pools),
// `Store::begin_write` and `Store::after_import`. Every statement here must
// be valid in both dialects: `$n` placeholders, `RETURNING`, `ON CONFLICT`.

use app::access::{Action, Module, PermissionMatrix, Role, Scope, Visibility};
use app::demo::DemoData;
use app::error::Problem;
use app::i18n::{Locale, Theme};
use app::org::{Department, DeptId, NewUser, OrgId, User, UserId};
use app::storage::{Credentials, Storage, StorageError, StorageResult, UserUpdate};
use async_trait::async_trait;
use sqlx::{QueryBuilder, Row};

/// Appends ids as bound values separated by commas, for `IN (…)`; `NULL`
/// (which matches nothing) when there are none, since `IN ()` is not SQL.
fn push_ids(q: &mut QueryBuilder<'_, Db>, ids: &[i64]) {
    if ids.is_empty() {
        q.push("NULL");
    }
    let mut list = q.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
}

type DbRow = <Db as sqlx::Database>::Row;

/// Rows per multi-row INSERT: times the widest row (deals, 18 columns), below
/// both backends' bind-parameter limits (SQLite 32 766).
const IMPORT_CHUNK: usize = 1_800;

fn other(e: sqlx::Error) -> StorageError {
    StorageError::Other(Box::new(e))
}

/// Maps a unique-constraint failure to the field it is about.
fn unique_or_other(e: sqlx::Error, field: &'static str) -> StorageError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StorageError::Duplicate(field),
        _ => other(e),
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

fn parse_col<T: std::str::FromStr>(row: &DbRow, col: &str) -> StorageResult<T> {
    let raw: String = row.try_get(col).map_err(other)?;
    raw.parse().map_err(|_| StorageError::Other(format!("unexpected value {raw:?} in column {col}").into()))
}

const USER_COLUMNS: &str = "id, org_id, email, name, role, department_id, locale, theme, active";

fn user_from_row(row: &DbRow) -> StorageResult<User> {
    Ok(User {
        id: row.try_get("id").map_err(other)?,
        org_id: row.try_get("org_id").map_err(other)?,
        email: row.try_get("email").map_err(other)?,
        name: row.try_get("name").map_err(other)?,
        role: parse_col(row, "role")?,
        department_id: row.try_get("department_id").map_err(other)?,
        locale: parse_col::<Locale>(row, "locale").unwrap_or_default(),
        theme: parse_col::<Theme>(row, "theme").unwrap_or_default(),
        active: row.try_get("active").map_err(other)?,
    })
}

const DEPARTMENT_SELECT: &str = "SELECT d.id, d.org_id, d.name, d.head_id, \
     (SELECT COUNT(*) FROM users u WHERE u.department_id = d.id AND u.active) AS members \
     FROM departments d";

fn department_from_row(row: &DbRow) -> StorageResult<Department> {
    Ok(Department {
        id: row.try_get("id").map_err(other)?,
        org_id: row.try_get("org_id").map_err(other)?,
        name: row.try_get("name").map_err(other)?,
        head_id: row.try_get("head_id").map_err(other)?,
        members: row.try_get("members").map_err(other)?,
    })
}

/// Appends the visibility filter for records owned by `owner_col` and placed
/// in `department_col`.
fn push_visibility(q: &mut QueryBuilder<'_, Db>, v: Visibility, owner_col: &str, department_col: &str) {
    match v {
        Visibility::All => {}
        Visibility::Own { user } => {
            q.push(format!(" AND {owner_col} = ")).push_bind(user);
        }
        Visibility::Department { department, user } => {
            q.push(format!(" AND ({owner_col} = ")).push_bind(user);
            if let Some(d) = department {
                q.push(format!(" OR {department_col} = ")).push_bind(d);
            }
            q.push(")");
        }
    }
}

#[async_trait]
impl Storage for Store {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    async fn ping(&self) -> StorageResult<()> {
        sqlx::query("SELECT 1").execute(&self.read).await.map_err(other)?;
        Ok(())
    }

    async fn default_org(&self) -> StorageResult<Option<OrgId>> {
        sqlx::query_scalar("SELECT id FROM organizations ORDER BY id LIMIT 1")
            .fetch_optional(&self.read)
            .await
            .map_err(other)
    }

    async fn create_org(&self, name: &str, time_zone: &str) -> StorageResult<OrgId> {
        let mut tx = self.begin_write().await?;
        let id: OrgId = sqlx::query_scalar(
            "INSERT INTO organizations (name, time_zone, created_at, kpi_built) VALUES ($1, $2, $3, TRUE) RETURNING id",
        )
        .bind(name)
        .bind(time_zone)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await
        .map_err(other)?;
        insert_default_permissions(&mut tx, id).await?;
        tx.commit().await.map_err(other)?;
        Ok(id)
    }

    async fn count_users(&self) -> StorageResult<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&self.read).await.map_err(other)
    }

    async fn user(&self, id: UserId) -> StorageResult<Option<User>> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.read)
            .await
            .map_err(other)?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn credentials(&self, email: &str) -> StorageResult<Option<Credentials>> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = $1"))
            .bind(email)
            .fetch_optional(&self.read)
            .await
            .map_err(other)?;
        row.map(|r| {
            Ok(Credentials { user: user_from_row(&r)?, password_hash: r.try_get("password_hash").map_err(other)? })
        })
        .transpose()
    }

    async fn users(&self, org: OrgId, visibility: Visibility) -> StorageResult<Vec<User>> {
        let mut q = QueryBuilder::new(format!("SELECT {USER_COLUMNS} FROM users WHERE org_id = "));
        q.push_bind(org);
        push_visibility(&mut q, visibility, "id", "department_id");
        q.push(" ORDER BY name, id");
        let rows = q.build().fetch_all(&self.read).await.map_err(other)?;
        rows.iter().map(user_from_row).collect()
    }

    async fn insert_user(&self, org: OrgId, user: &NewUser, password_hash: &str) -> StorageResult<User> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(&format!(
            "INSERT INTO users (org_id, email, name, password_hash, role, department_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {USER_COLUMNS}"
        ))
        .bind(org)
        .bind(&user.email)
        .bind(&user.name)
        .bind(password_hash)
        .bind(<&str>::from(user.role))
        .bind(user.department_id)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| unique_or_other(e, "email"))?;
        tx.commit().await.map_err(other)?;
        user_from_row(&row)
    }

    async fn update_user(&self, org: OrgId, id: UserId, update: &UserUpdate) -> StorageResult<User> {
        let mut q = QueryBuilder::<Db>::new("UPDATE users SET id = id");
        if let Some(name) = &update.name {
            q.push(", name = ").push_bind(name.clone());
        }
        if let Some(role) = update.role {
            q.push(", role = ").push_bind(<&str>::from(role));
        }
        if let Some(dept) = update.department_id {
            q.push(", department_id = ").push_bind(dept);
        }
        if let Some(active) = update.active {
            q.push(", active = ").push_bind(active);
        }
        q.push(" WHERE org_id = ").push_bind(org);
        q.push(" AND id = ").push_bind(id);
        q.push(format!(" RETURNING {USER_COLUMNS}"));
        let mut tx = self.begin_write().await?;
        let row = q.build().fetch_optional(&mut *tx).await.map_err(other)?;
        tx.commit().await.map_err(other)?;
        row.as_ref().map(user_from_row).transpose()?.ok_or(StorageError::NotFound)
    }

    async fn set_password(&self, id: UserId, password_hash: &str) -> StorageResult<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(other)?;
        tx.commit().await.map_err(other)?;
        if done.rows_affected() == 0 {
            return Err(StorageError::NotFound);
        }
        Ok(())
    }

    async fn set_preferences(&self, id: UserId, locale: Locale, theme: Theme) -> StorageResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE users SET locale = $1, theme = $2 WHERE id = $3")
            .bind(<&str>::from(locale))
            .bind(<&str>::from(theme))
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(other)?;
        tx.commit().await.map_err(other)
    }

    async fn departments(&self, org: OrgId, visibility: Visibility) -> StorageResult<Vec<Department>> {
        let mut q = QueryBuilder::new(format!("{DEPARTMENT_SELECT} WHERE d.org_id = "));
        q.push_bind(org);
        push_visibility(&mut q, visibility, "d.head_id", "d.id");
        q.push(" ORDER BY d.name");
        let rows = q.build().fetch_all(&self.read).await.map_err(other)?;
        rows.iter().map(department_from_row).collect()
    }

    async fn department(&self, org: OrgId, id: DeptId) -> StorageResult<Option<Department>> {
        let row = sqlx::query(&format!("{DEPARTMENT_SELECT} WHERE d.org_id = $1 AND d.id = $2"))
            .bind(org)
            .bind(id)
            .fetch_optional(&self.read)
            .await
            .map_err(other)?;
        row.as_ref().map(department_from_row).transpose()
    }

    async fn insert_department(&self, org: OrgId, name: &str, head: Option<UserId>) -> StorageResult<Department> {
        let mut tx = self.begin_write().await?;
        let id: DeptId = sqlx::query_scalar(
            "INSERT INTO departments (org_id, name, head_id, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(org)
        .bind(name)
        .bind(head)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| unique_or_other(e, "name"))?;
        tx.commit().await.map_err(other)?;
        self.department(org, id).await?.ok_or(StorageError::NotFound)
    }

    async fn update_department(
        &self,
        org: OrgId,
        id: DeptId,
        name: &str,
        head: Option<UserId>,
    ) -> StorageResult<Department> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE departments SET name = $1, head_id = $2 WHERE org_id = $3 AND id = $4")
            .bind(name)
            .bind(head)
            .bind(org)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| unique_or_other(e, "name"))?;
        tx.commit().await.map_err(other)?;
        if done.rows_affected() == 0 {
            return Err(StorageError::NotFound);
        }
        self.department(org, id).await?.ok_or(StorageError::NotFound)
    }

    async fn delete_department(&self, org: OrgId, id: DeptId) -> StorageResult<()> {
        let mut tx = self.begin_write().await?;
        let members: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE department_id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await
            .map_err(other)?;
        if members > 0 {
            return Err(StorageError::InUse("department"));
        }
        let done = sqlx::query("DELETE FROM departments WHERE org_id = $1 AND id = $2")
            .bind(org)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(other)?;
        tx.commit().await.map_err(other)?;
        if done.rows_affected() == 0 {
            return Err(StorageError::NotFound);
        }
        Ok(())
    }

    async fn permissions(&self, org: OrgId) -> StorageResult<PermissionMatrix> {
        let rows = sqlx::query("SELECT role, module, action, scope FROM role_permissions WHERE org_id = $1")
            .bind(org)
            .fetch_all(&self.read)
            .await
            .map_err(other)?;
        let mut m = PermissionMatrix::default();
        for r in &rows {
            // A name this release does not know (from a newer one) is skipped, not fatal.
            if let (Ok(role), Ok(module), Ok(action), Ok(scope)) = (
                parse_col::<Role>(r, "role"),
                parse_col::<Module>(r, "module"),
                parse_col::<Action>(r, "action"),
                parse_col::<Scope>(r, "scope"),
            ) {
                m.set(role, module, action, scope);
            }
        }
        Ok(m)
    }

    async fn set_permission(
        &self,
        org: OrgId,
        role: Role,
        module: Module,
        action: Action,
        scope: Scope,
    ) -> StorageResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO role_permissions (org_id, role, module, action, scope) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (org_id, role, module, action) DO UPDATE SET scope = excluded.scope",
        )
        .bind(org)
        .bind(<&str>::from(role))
        .bind(<&str>::from(module))
        .bind(<&str>::from(action))
        .bind(<&str>::from(scope))
        .execute(&mut *tx)
        .await
        .map_err(other)?;
        tx.commit().await.map_err(other)
    }

    async fn login_failures(&self, key: &str, since_ms: i64) -> StorageResult<(i64, Option<i64>)> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, MIN(failed_at) AS oldest FROM login_failures WHERE key = $1 AND failed_at >= $2",
        )
        .bind(key)
        .bind(since_ms)
        .fetch_one(&self.read)
        .await
        .map_err(other)?;
        Ok((row.try_get("n").map_err(other)?, row.try_get("oldest").map_err(other)?))
    }

    async fn record_login_failure(&self, keys: &[String], at_ms: i64) -> StorageResult<()> {
        let mut tx = self.begin_write().await?;
        for key in keys {
            sqlx::query("INSERT INTO login_failures (key, failed_at) VALUES ($1, $2)")
                .bind(key)
                .bind(at_ms)
                .execute(&mut *tx)
                .await
                .map_err(other)?;
        }
        // Old failures no longer lock anything; a day is far beyond any window.
        sqlx::query("DELETE FROM login_failures WHERE failed_at < $1")
            .bind(at_ms - 24 * 3_600_000)
            .execute(&mut *tx)
            .await
            .map_err(other)?;
        tx.commit().await.map_err(other)
    }

    async fn clear_login_failures(&self, key: &str) -> StorageResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM login_failures WHERE key = $1").bind(key).execute(&mut *tx).await.map_err(other)?;
        tx.commit().await.map_err(other)
    }

    async fn import_demo(&self, data: &DemoData) -> StorageResult<()> {
        let mut tx = self.begin_write().await?;
        for table in [
            "currency_rates",
            "activity_norms",
            "goal_notices",
            "goal_entries",
            "goal_changes",
            "goals",
            "funnel_days",
            "funnel_times",
            "funnel_reach",
            "kpi_days",
            "move_keys",
            "stage_violations",
            "activities",
            "deal_events",
            "deals",
            // Left at zeros by the trigger on deals; it names stages, so it goes before them.
            "deal_totals",
            "leads",
            "clients",
            "stages",
            "pipelines",
            "users",
            "departments",
            "role_permissions",
            "login_failures",
            "organizations",
        ] {
            sqlx::query(&format!("DELETE FROM {table}")).execute(&mut *tx).await.map_err(other)?;
        }
        let now = now_ms();
        let org = data.org.id;
        sqlx::query(
            "INSERT INTO organizations (id, name, time_zone, created_at, kpi_built) VALUES ($1, $2, $3, $4, TRUE)",
        )
        .bind(org)
        .bind(&data.org.name)
        .bind(&data.org.time_zone)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(other)?;
        insert_default_permissions(&mut tx, org).await?;
        insert_generated(&mut tx, data).await?;
        Store::after_import(&mut tx).await?;
        roll_up_generated(&mut tx, data).await?;
        tx.commit().await.map_err(other)
    }

    async fn append_generated(&self, data: &DemoData) -> StorageResult<()> {
        let mut tx = self.begin_write().await?;
        insert_generated(&mut tx, data).await?;
        Store::after_import(&mut tx).await?;
        roll_up_generated(&mut tx, data).await?;
        tx.commit().await.map_err(other)
    }

    async fn refresh_statistics(&self) -> StorageResult<()> {
        self.refresh_statistics_impl().await
    }

    async fn time_zone(&self, org: OrgId) -> StorageResult<String> {
        let name: Option<String> = sqlx::query_scalar("SELECT time_zone FROM organizations WHERE id = $1")
            .bind(org)
            .fetch_optional(&self.read)
            .await
            .map_err(other)?;
        name.ok_or(StorageError::NotFound)
    }

    async fn owners(
        &self,
        org: OrgId,
        manager: Option<UserId>,
        department: Option<DeptId>,
        visibility: Visibility,
    ) -> StorageResult<Option<Vec<UserId>>> {
        self.owners_impl(org, manager, department, visibility).await
    }

    async fn funnel_totals(&self, org: OrgId, query: &FunnelQuery) -> StorageResult<Vec<(StageId, Totals)>> {
        self.funnel_totals_impl(org, query).await
    }

    async fn funnel_daily(
        &self,
        org: OrgId,
        query: &FunnelQuery,
        stages: &[StageId],
    ) -> StorageResult<Vec<(Day, StageId, i64, Money)>> {
        self.funnel_daily_impl(org, query, stages).await
    }

    async fn funnel_medians(&self, org: OrgId, query: &FunnelQuery) -> StorageResult<Vec<(StageId, i64)>> {
        self.funnel_medians_impl(org, query).await
    }

    async fn funnel_managers(&self, org: OrgId, query: &FunnelQuery) -> StorageResult<Vec<(UserId, StageId, i64)>> {
        self.funnel_managers_impl(org, query).await
    }

    async fn funnel_deals(
        &self,
        org: OrgId,
        query: &FunnelQuery,
        stage: StageId,
        which: app::funnel::StepDeals,
    ) -> StorageResult<DealsBehind> {
        self.funnel_deals_impl(org, query, stage, which).await
    }

    async fn funnel_tracks(&self, org: OrgId, query: &FunnelQuery) -> StorageResult<Vec<Track>> {
        self.funnel_tracks_impl(org, query).await
    }

    async fn rebuild_funnel(&self, org: OrgId) -> StorageResult<()> {
        self.rebuild_funnel_impl(org).await
    }

    async fn kpi_counts(
        &self,
        org: OrgId,
        period: app::funnel::Period,
        owners: Option<&[UserId]>,
    ) -> StorageResult<Vec<(UserId, app::kpi::KpiCounts)>> {
        self.kpi_counts_impl(org, period, owners).await
    }

    async fn kpi_counts_raw(
        &self,
        org: OrgId,
        from_ms: i64,
        to_ms: i64,
        owners: Option<&[UserId]>,
        call_threshold_s: i64,
    ) -> StorageResult<Vec<(UserId, app::kpi::KpiCounts)>> {
        self.kpi_counts_raw_impl(org, from_ms, to_ms, owners, call_threshold_s).await
    }

    async fn rebuild_kpis(&self, org: OrgId) -> StorageResult<()> {
        self.rebuild_kpis_impl(org).await
    }

    async fn call_threshold(&self, org: OrgId) -> StorageResult<i64> {
        self.call_threshold_impl(org).await
    }

    async fn set_call_threshold(&self, org: OrgId, seconds: i64) -> StorageResult<()> {
        self.set_call_threshold_impl(org, seconds).await
    }

    async fn rate_deal(&self, org: OrgId, deal: DealId, csat: Option<i64>, nps: Option<i64>) -> StorageResult<()> {
        self.rate_deal_impl(org, deal, csat, nps).await
    }

    async fn norm_settings(&self, org: OrgId) -> StorageResult<app::norms::NormSettings> {
        self.norm_settings_impl(org).await
    }

    async fn save_norm_settings(
        &self,
        org: OrgId,
        settings: &app::norms::NormSettings,
        norms: &[app::norms::Norm],
    ) -> StorageResult<app::norms::NormSettings> {
        self.save_norm_settings_impl(org, settings, norms).await
    }

    async fn lead_alerts(
        &self,
        org: OrgId,
        owners: Option<&[UserId]>,
        unanswered_before_ms: i64,
        silent_since_ms: i64,
        limit: i64,
    ) -> StorageResult<(app::norms::AlertList, app::norms::AlertList)> {
        self.lead_alerts_impl(org, owners, unanswered_before_ms, silent_since_ms, limit).await
    }

    async fn goals(&self, org: OrgId, active_only: bool) -> StorageResult<Vec<app::goals::Goal>> {
        self.goals_impl(org, active_only).await
    }

    async fn goal(&self, org: OrgId, id: app::goals::GoalId) -> StorageResult<Option<app::goals::Goal>> {
        self.goal_impl(org, id).await
    }

    async fn insert_goal(
        &self,
        org: OrgId,
        actor: UserId,
        draft: &app::goals::GoalDraft,
        now_ms: i64,
    ) -> StorageResult<app::goals::Goal> {
        self.insert_goal_impl(org, actor, draft, now_ms).await
    }

    async fn update_goal(
        &self,
        org: OrgId,
        actor: UserId,
        id: app::goals::GoalId,
        version: i64,
        draft: &app::goals::GoalDraft,
        now_ms: i64,
    ) -> StorageResult<app::goals::Goal> {
        self.update_goal_impl(org, actor, id, version, draft, now_ms).await
    }

    async fn goal_history(&self, org: OrgId, id: app::goals::GoalId) -> StorageResult<Vec<app::goals::GoalChange>> {
        self.goal_history_impl(org, id).await
    }

    async fn goal_entries(&self, org: OrgId, id: app::goals::GoalId) -> StorageResult<Vec<app::goals::GoalEntry>> {
        self.goal_entries_impl(org, id).await
    }

    async fn goal_report(&self, org: OrgId, id: app::goals::GoalId) -> StorageResult<Option<String>> {
        self.goal_report_impl(org, id).await
    }

    async fn goal_tallies(
        &self,
        org: OrgId,
        request: &app::storage::TallyRequest,
        owners: Option<&[UserId]>,
    ) -> StorageResult<Vec<(UserId, app::goals::Tally)>> {
        self.goal_tallies_impl(org, request, owners).await
    }

    async fn goal_moments(
        &self,
        org: OrgId,
        request: &app::storage::TallyRequest,
        owners: Option<&[UserId]>,
    ) -> StorageResult<Vec<(i64, i64)>> {
        self.goal_moments_impl(org, request, owners).await
    }

    async fn weighted_pipeline(
        &self,
        org: OrgId,
        filters: &app::goals::GoalFilters,
    ) -> StorageResult<Vec<(UserId, i64)>> {
        self.weighted_pipeline_impl(org, filters).await
    }

    async fn add_goal_entry(
        &self,
        org: OrgId,
        goal: app::goals::GoalId,
        user: UserId,
        amount: i64,
        note: &str,
        now_ms: i64,
    ) -> StorageResult<()> {
        self.add_goal_entry_impl(org, goal, user, amount, note, now_ms).await
    }

    async fn close_goal(&self, org: OrgId, closing: &app::storage::GoalClosing, now_ms: i64) -> StorageResult<bool> {
        self.close_goal_impl(org, closing, now_ms).await
    }

    async fn add_notices(&self, org: OrgId, notices: &[app::storage::NewNotice], now_ms: i64) -> StorageResult<u64> {
        self.add_notices_impl(org, notices, now_ms).await
    }

    async fn notices(&self, org: OrgId, user: UserId, limit: i64) -> StorageResult<Vec<app::goals::Notice>> {
        self.notices_impl(org, user, limit).await
    }

    async fn mark_notices_read(&self, org: OrgId, user: UserId, now_ms: i64) -> StorageResult<()> {
        self.mark_notices_read_impl(org, user, now_ms).await
    }

    async fn unread_notices(&self, org: OrgId, user: UserId) -> StorageResult<i64> {
        self.unread_notices_impl(org, user).await
    }

    async fn pipelines(&self, org: OrgId) -> StorageResult<Vec<Pipeline>> {
        self.pipelines_impl(org).await
    }

    async fn save_stage(&self, org: OrgId, edit: &StageForm) -> StorageResult<Stage> {
        self.save_stage_impl(org, edit).await
    }

    async fn save_pipeline(
        &self,
        org: OrgId,
        id: Option<PipelineId>,
        name: &str,
        block_skips: bool,
    ) -> StorageResult<Pipeline> {
        self.save_pipeline_impl(org, id, name, block_skips).await
    }

    async fn archive_pipeline(&self, org: OrgId, id: PipelineId, archived: bool) -> StorageResult<Pipeline> {
        self.archive_pipeline_impl(org, id, archived).await
    }

    async fn board(
        &self,
        org: OrgId,
        filter: &BoardFilter,
        visibility: Visibility,
        now_ms: i64,
    ) -> StorageResult<Board> {
        self.board_impl(org, filter, visibility, now_ms).await
    }

    async fn deal_head(&self, org: OrgId, id: DealId) -> StorageResult<Option<DealHead>> {
        Self::deal_head_on(&self.read, org, id).await
    }

    async fn move_deal(
        &self,
        org: OrgId,
        actor: UserId,
        request: &MoveRequest,
        now_ms: i64,
    ) -> StorageResult<MoveOutcome> {
        self.move_deal_impl(org, actor, request, now_ms).await
    }

    async fn deal_page(&self, org: OrgId, id: DealId, now_ms: i64) -> StorageResult<Option<DealPage>> {
        self.deal_page_impl(org, id, now_ms).await
    }

    async fn create_deal(&self, org: OrgId, actor: UserId, deal: &NewDeal, now_ms: i64) -> StorageResult<DealHead> {
        self.create_deal_impl(org, actor, deal, now_ms).await
    }

    async fn add_activity(&self, org: OrgId, activity: &NewActivity, now_ms: i64) -> StorageResult<Activity> {
        self.add_activity_impl(org, activity, now_ms).await
    }

    async fn violations(&self, org: OrgId, visibility: Visibility, limit: i64) -> StorageResult<Vec<Violation>> {
        self.violations_impl(org, visibility, limit).await
    }

    async fn deals(&self, org: OrgId, filter: &DealFilter, visibility: Visibility) -> StorageResult<DealList> {
        self.deals_impl(org, filter, visibility).await
    }

    async fn update_deal(
        &self,
        org: OrgId,
        actor: UserId,
        change: &DealChange,
        now_ms: i64,
    ) -> StorageResult<DealHead> {
        self.update_deal_impl(org, actor, change, now_ms).await
    }

    async fn currency_rates(&self, org: OrgId) -> StorageResult<Vec<CurrencyRate>> {
        self.currency_rates_impl(org).await
    }

    async fn set_currency_rate(
        &self,
        org: OrgId,
        actor: UserId,
        currency: &str,
        rate: i64,
        now_ms: i64,
    ) -> StorageResult<CurrencyRate> {
        self.set_currency_rate_impl(org, actor, currency, rate, now_ms).await
    }

    async fn clients(&self, org: OrgId, filter: &ClientFilter, visibility: Visibility) -> StorageResult<ClientList> {
        self.clients_impl(org, filter, visibility).await
    }

    async fn client_head(&self, org: OrgId, id: ClientId) -> StorageResult<Option<ClientHead>> {
        self.client_head_impl(org, id).await
    }

    async fn save_client(
        &self,
        org: OrgId,
        form: &ClientForm,
        responsible: UserId,
        now_ms: i64,
    ) -> StorageResult<Client> {
        self.save_client_impl(org, form, responsible, now_ms).await
    }

    async fn activities(
        &self,
        org: OrgId,
        filter: &ActivityFilter,
        visibility: Visibility,
    ) -> StorageResult<ActivityList> {
        self.activities_impl(org, filter, visibility).await
    }

    async fn leads(&self, org: OrgId, filter: &LeadFilter, visibility: Visibility) -> StorageResult<LeadPage> {
        self.leads_impl(org, filter, visibility).await
    }

    async fn lead_head(&self, org: OrgId, id: LeadId) -> StorageResult<Option<LeadHead>> {
        self.lead_head_impl(org, id).await
    }

    async fn activity(&self, org: OrgId, id: i64) -> StorageResult<Option<Activity>> {
        self.activity_impl(org, id).await
    }

    async fn update_activity(&self, org: OrgId, edit: &app::pipeline::ActivityEdit) -> StorageResult<Activity> {
        self.update_activity_impl(org, edit).await
    }

    async fn update_lead(&self, org: OrgId, edit: &app::pipeline::LeadEdit) -> StorageResult<Lead> {
        self.update_lead_impl(org, edit).await
    }

    async fn create_lead(
        &self,
        org: OrgId,
        lead: &NewLeadForm,
        responsible: UserId,
        now_ms: i64,
    ) -> StorageResult<Lead> {
        self.create_lead_impl(org, lead, responsible, now_ms).await
    }

    async fn set_lead_status(
        &self,
        org: OrgId,
        actor: UserId,
        id: LeadId,
        change: &LeadChange,
        now_ms: i64,
    ) -> StorageResult<Lead> {
        self.set_lead_status_impl(org, actor, id, change, now_ms).await
    }
}

/// Rolls up the funnel and the KPIs of the records just written, and marks silent leads.
async fn roll_up_generated(tx: &mut sqlx::Transaction<'static, Db>, data: &DemoData) -> StorageResult<()> {
    let ids = data.deals.iter().map(|d| d.id);
    if let (Some(first), Some(last)) = (ids.clone().min(), ids.max()) {
        Store::roll_up_new_deals(tx, data.org.id, first, last).await?;
    }
    fn range(ids: impl Iterator<Item = i64> + Clone) -> Option<(i64, i64)> {
        Some((ids.clone().min()?, ids.max()?))
    }
    let ranges: Vec<(KpiTable, i64, i64)> = [
        (KpiTable::Deals, range(data.deals.iter().map(|d| d.id))),
        (KpiTable::Leads, range(data.leads.iter().map(|l| l.id))),
        (KpiTable::Clients, range(data.clients.iter().map(|c| c.id))),
        (KpiTable::Activities, range(data.activities.iter().map(|a| a.id))),
    ]
    .into_iter()
    .filter_map(|(table, ids)| ids.map(|(first, last)| (table, first, last)))
    .collect();
    if let Some((first, last)) = range(data.leads.iter().map(|l| l.id)) {
        Store::mark_silent_leads(tx, data.org.id, first, last).await?;
    }
    Store::roll_up_new_kpis(tx, data.org.id, &ranges).await
}

/// Writes a generated data set with its own ids; the organisation row must exist.
async fn insert_generated(tx: &mut sqlx::Transaction<'static, Db>, data: &DemoData) -> StorageResult<()> {
    let now = now_ms();
    let org = data.org.id;
    let client_names: std::collections::HashMap<i64, &str> =
        data.clients.iter().map(|c| (c.id, c.name.as_str())).collect();

    macro_rules! insert_all {
        ($table:literal, $cols:literal, $items:expr, |$b:ident, $x:ident| $push:block) => {
            for chunk in $items.chunks(IMPORT_CHUNK) {
                let mut q = QueryBuilder::<Db>::new(concat!("INSERT INTO ", $table, " (", $cols, ") "));
                q.push_values(chunk, |mut $b, $x| $push);
                q.build().execute(&mut **tx).await.map_err(other)?;
            }
        };
    }
    insert_all!("departments", "id, org_id, name, head_id, created_at", data.departments, |b, d| {
        b.push_bind(d.id).push_bind(org).push_bind(&d.name).push_bind(d.head_id).push_bind(now);
    });
    insert_all!(
        "users",
        "id, org_id, email, name, password_hash, role, department_id, created_at",
        data.users,
        |b, u| {
            b.push_bind(u.id)
                .push_bind(org)
                .push_bind(&u.email)
                .push_bind(&u.name)
                .push_bind(&data.password_hash)
                .push_bind(<&str>::from(u.role))
                .push_bind(u.department_id)
                .push_bind(now);
        }
    );
    insert_all!("pipelines", "id, org_id, name, position", data.pipelines, |b, p| {
        b.push_bind(p.id).push_bind(org).push_bind(&p.name).push_bind(p.position);
    });
    insert_all!(
        "stages",
        "id, pipeline_id, name, position, kind, probability, required, stale_days",
        data.stages,
        |b, s| {
            b.push_bind(s.id)
                .push_bind(s.pipeline_id)
                .push_bind(&s.name)
                .push_bind(s.position)
                .push_bind(s.kind.as_str())
                .push_bind(s.probability)
                .push_bind(s.required)
                .push_bind(s.stale_days);
        }
    );
    insert_all!(
        "clients",
        "id, org_id, name, kind, phone, email, responsible_id, created_at, search",
        data.clients,
        |b, c| {
            b.push_bind(c.id)
                .push_bind(org)
                .push_bind(&c.name)
                .push_bind(c.kind.as_str())
                .push_bind(&c.phone)
                .push_bind(&c.email)
                .push_bind(c.responsible_id)
                .push_bind(c.created_at)
                .push_bind(client_search_text(&c.name, &c.phone, &c.email));
        }
    );
    insert_all!(
            "leads",
            "id, org_id, title, source, contact_name, phone, status, disqualify_reason, responsible_id, client_id, created_at, first_response_at, disqualified_at",
            data.leads,
            |b, l| {
                b.push_bind(l.id)
                    .push_bind(org)
                    .push_bind(&l.title)
                    .push_bind(l.source)
                    .push_bind(&l.contact_name)
                    .push_bind(&l.phone)
                    .push_bind(l.status.as_str())
                    .push_bind(l.disqualify_reason)
                    .push_bind(l.responsible_id)
                    .push_bind(l.client_id)
                    .push_bind(l.created_at)
                    .push_bind(l.first_response_at)
                    // The demo disqualifies a lead at its first response.
                    .push_bind(l.first_response_at.filter(|_| l.status == LeadStatus::Disqualified));
            }
        );
    insert_all!(
            "deals",
            "id, org_id, pipeline_id, stage_id, title, amount, client_id, lead_id, source, responsible_id, created_at, stage_entered_at, closed_at, loss_reason, version, search, csat, nps",
            data.deals,
            |b, d| {
                b.push_bind(d.id)
                    .push_bind(org)
                    .push_bind(d.pipeline_id)
                    .push_bind(d.stage_id)
                    .push_bind(&d.title)
                    .push_bind(d.amount)
                    .push_bind(d.client_id)
                    .push_bind(d.lead_id)
                    .push_bind(d.source)
                    .push_bind(d.responsible_id)
                    .push_bind(d.created_at)
                    .push_bind(d.stage_entered_at)
                    .push_bind(d.closed_at)
                    .push_bind(d.loss_reason)
                    .push_bind(d.version)
                    .push_bind(deal_search_text(&d.title, client_names.get(&d.client_id).copied()))
                    .push_bind(d.csat)
                    .push_bind(d.nps);
            }
        );
    insert_all!(
        "deal_events",
        "id, org_id, deal_id, actor_id, at, kind, from_stage_id, to_stage_id, amount, skipped_required",
        data.events,
        |b, e| {
            b.push_bind(e.id)
                .push_bind(org)
                .push_bind(e.deal_id)
                .push_bind(e.actor_id)
                .push_bind(e.at)
                .push_bind(if e.from_stage_id.is_some() { "stage" } else { "created" })
                .push_bind(e.from_stage_id)
                .push_bind(e.to_stage_id)
                .push_bind(e.amount)
                .push_bind(e.skipped_required);
        }
    );
    insert_all!(
        "activities",
        "id, org_id, kind, user_id, deal_id, lead_id, client_id, at, duration_s, note",
        data.activities,
        |b, a| {
            b.push_bind(a.id)
                .push_bind(org)
                .push_bind(a.kind.as_str())
                .push_bind(a.user_id)
                .push_bind(a.deal_id)
                .push_bind(a.lead_id)
                .push_bind(a.client_id)
                .push_bind(a.at)
                .push_bind(a.duration_s)
                .push_bind(&a.note);
        }
    );
    let skips: Vec<&app::demo::DemoDealEvent> = data.events.iter().filter(|e| e.skipped_required).collect();
    insert_all!(
        "stage_violations",
        "org_id, deal_id, actor_id, at, from_stage_id, to_stage_id, blocked",
        skips,
        |b, e| {
            b.push_bind(org)
                .push_bind(e.deal_id)
                .push_bind(e.actor_id)
                .push_bind(e.at)
                .push_bind(e.from_stage_id)
                .push_bind(e.to_stage_id)
                .push_bind(false);
        }
    );
    // Set by the organisation's admin, as a head or admin would on the pipelines page.
    let admin = data.users.iter().find(|u| u.role == Role::Admin).map(|u| u.id);
    if let Some(admin) = admin {
        insert_all!("currency_rates", "org_id, currency, rate, updated_at, updated_by", data.rates, |b, r| {
            b.push_bind(org).push_bind(r.0).push_bind(r.1).push_bind(now).push_bind(admin);
        });
    }
    Ok(())
}

async fn insert_default_permissions(tx: &mut sqlx::Transaction<'_, Db>, org: OrgId) -> StorageResult<()> {
    let rows = PermissionMatrix::defaults().rows();
    let mut q = QueryBuilder::<Db>::new("INSERT INTO role_permissions (org_id, role, module, action, scope) ");
    q.push_values(rows.iter().filter(|r| r.0 != Role::Admin), |mut b, (role, module, action, scope)| {
        b.push_bind(org)
            .push_bind(<&str>::from(*role))
            .push_bind(<&str>::from(*module))
            .push_bind(<&str>::from(*action))
            .push_bind(<&str>::from(*scope));
    });
    q.build().execute(&mut **tx).await.map_err(other)?;
    Ok(())
}
