// The goals half of the storage port: goals and their history, the counts
// behind a goal's progress (straight from the records, one range of one
// index each), manual entries, closing with renewal, notifications.
// Included after `kpi.rs` into both adapters; statements valid in both dialects.

use app::goals::{
    Goal, GoalChange, GoalDraft, GoalEntry, GoalFilters, GoalId, GoalMetric, GoalStatus, Notice, NoticeKind, Notify,
    Participants, Tally,
};
use app::storage::{GoalClosing, NewNotice, TallyRequest};

const GOAL_SELECT: &str = "SELECT g.id, g.parent_id, g.name, g.description, g.metric, g.direction, g.target, \
     g.period_kind, g.start_day, g.end_day, g.recurring, g.participant, g.user_id, g.department_id, \
     COALESCE(u.name, dp.name, '') AS participant_name, g.filter_source, g.filter_pipeline, g.filter_stage, \
     g.filter_manager, g.notify_milestones, g.notify_risk, g.notify_risk_after, g.notify_deadline, g.notify_daily, g.status, \
     g.final_value, g.version, g.created_by, g.created_at \
     FROM goals g LEFT JOIN users u ON u.id = g.user_id LEFT JOIN departments dp ON dp.id = g.department_id";

fn goal_from_row(row: &DbRow) -> StorageResult<Goal> {
    let get = |c: &str| row.try_get::<i64, _>(c).map_err(other);
    let flag = |c: &str| row.try_get::<bool, _>(c).map_err(other);
    Ok(Goal {
        id: get("id")?,
        parent_id: row.try_get("parent_id").map_err(other)?,
        name: row.try_get("name").map_err(other)?,
        description: row.try_get("description").map_err(other)?,
        metric: parse_col(row, "metric")?,
        direction: parse_col(row, "direction")?,
        target: get("target")?,
        period_kind: parse_col(row, "period_kind")?,
        period: app::funnel::Period { from: get("start_day")? as i32, to: get("end_day")? as i32 },
        recurring: flag("recurring")?,
        participants: Participants {
            kind: parse_col(row, "participant")?,
            user_id: row.try_get("user_id").map_err(other)?,
            department_id: row.try_get("department_id").map_err(other)?,
        },
        participant_name: row.try_get("participant_name").map_err(other)?,
        filters: GoalFilters {
            source: row.try_get("filter_source").map_err(other)?,
            pipeline_id: row.try_get("filter_pipeline").map_err(other)?,
            stage_id: row.try_get("filter_stage").map_err(other)?,
            manager_id: row.try_get("filter_manager").map_err(other)?,
        },
        notify: Notify {
            milestones: flag("notify_milestones")?,
            risk: flag("notify_risk")?,
            risk_after: get("notify_risk_after")?,
            deadline: flag("notify_deadline")?,
            daily: flag("notify_daily")?,
        },
        status: parse_col(row, "status")?,
        final_value: row.try_get("final_value").map_err(other)?,
        version: get("version")?,
        created_by: get("created_by")?,
        created_at: get("created_at")?,
    })
}

/// Each setting as history shows it, to tell which ones an edit changed.
fn goal_settings(d: &GoalDraft) -> Vec<(&'static str, String)> {
    let opt = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    let n = d.notify;
    vec![
        ("name", d.name.clone()),
        ("description", d.description.clone()),
        ("metric", d.metric.as_str().to_string()),
        ("direction", d.direction.as_str().to_string()),
        ("target", d.target.to_string()),
        ("period", format!("{} {}…{}", d.period_kind.as_str(), day_text(d.period.from), day_text(d.period.to))),
        ("recurring", d.recurring.to_string()),
        (
            "participants",
            format!(
                "{} {}",
                d.participants.kind.as_str(),
                opt(d.participants.user_id.or(d.participants.department_id))
            )
            .trim()
            .to_string(),
        ),
        ("parent", opt(d.parent_id)),
        ("source", d.filters.source.clone().unwrap_or_default()),
        ("pipeline", opt(d.filters.pipeline_id)),
        ("stage", opt(d.filters.stage_id)),
        ("responsible", opt(d.filters.manager_id)),
        ("notify", format!("{} {} {} {}", n.milestones, n.risk, n.deadline, n.daily)),
        ("risk_after", n.risk_after.to_string()),
    ]
}

type DbArgs<'q> = <Db as sqlx::Database>::Arguments<'q>;

/// Binds a goal's settings, in the order of the goal columns both the
/// insert and the update name: `parent_id` … `notify_risk_after`.
fn bind_draft<'q>(
    q: sqlx::query::Query<'q, Db, DbArgs<'q>>,
    d: &'q GoalDraft,
) -> sqlx::query::Query<'q, Db, DbArgs<'q>> {
    q.bind(d.parent_id)
        .bind(&d.name)
        .bind(&d.description)
        .bind(d.metric.as_str())
        .bind(d.direction.as_str())
        .bind(d.target)
        .bind(d.period_kind.as_str())
        .bind(i64::from(d.period.from))
        .bind(i64::from(d.period.to))
        .bind(d.recurring)
        .bind(d.participants.kind.as_str())
        .bind(d.participants.user_id)
        .bind(d.participants.department_id)
        .bind(&d.filters.source)
        .bind(d.filters.pipeline_id)
        .bind(d.filters.stage_id)
        .bind(d.filters.manager_id)
        .bind(d.notify.milestones)
        .bind(d.notify.risk)
        .bind(d.notify.deadline)
        .bind(d.notify.daily)
        .bind(d.notify.risk_after)
}

fn day_text(day: i32) -> String {
    app::funnel::day_text(day)
}

/// The table, moment column, owner column, amount expression and extra
/// conditions that a metric counts.
fn tally_source(metric: GoalMetric) -> (&'static str, &'static str, &'static str, &'static str) {
    use GoalMetric::*;
    match metric {
        LeadsCreated => ("leads r", "r.created_at", "r.responsible_id", "1"),
        FirstResponse => ("leads r", "r.created_at", "r.responsible_id", "r.first_response_at - r.created_at"),
        DealsCreated => ("deals r", "r.created_at", "r.responsible_id", "1"),
        DealsWon => ("deals r JOIN stages s ON s.id = r.stage_id", "r.closed_at", "r.responsible_id", "1"),
        WonAmount => ("deals r JOIN stages s ON s.id = r.stage_id", "r.closed_at", "r.responsible_id", "r.amount"),
        Calls | Meetings | Proposals | Chats => ("activities r", "r.at", "r.user_id", "1"),
        Manual => ("goal_entries r", "r.at", "r.user_id", "r.amount"),
    }
}

/// The `kpi_days` sums that hold a metric's tally (sum, count), where the
/// per-day KPI roll-up counts the same records by the same person and day.
fn rolled_up_tally(metric: GoalMetric) -> Option<(&'static str, &'static str)> {
    use GoalMetric::*;
    match metric {
        LeadsCreated => Some(("leads", "leads")),
        DealsCreated => Some(("deals_created", "deals_created")),
        FirstResponse => Some(("response_ms", "leads_answered")),
        DealsWon => Some(("won", "won")),
        WonAmount => Some(("revenue", "won")),
        Calls => Some(("calls_in + calls_out", "calls_in + calls_out")),
        Meetings => Some(("meetings", "meetings")),
        Proposals => Some(("proposals", "proposals")),
        Chats => Some(("chats", "chats")),
        Manual => None,
    }
}

/// `FROM … WHERE …` of the records a request counts, of the given people.
fn push_tally_where(q: &mut QueryBuilder<'_, Db>, org: OrgId, request: &TallyRequest, owners: Option<&[UserId]>) {
    use GoalMetric::*;
    let (table, moment, owner, _) = tally_source(request.metric);
    q.push(format!(" FROM {table} WHERE {moment} >= "))
        .push_bind(request.from_ms)
        .push(format!(" AND {moment} < "))
        .push_bind(request.to_ms);
    if request.metric == Manual {
        q.push(" AND r.goal_id = ").push_bind(request.goal_id.unwrap_or(0));
    } else {
        q.push(" AND r.org_id = ").push_bind(org);
    }
    match request.metric {
        DealsWon | WonAmount => {
            q.push(" AND s.kind = 'won'");
        }
        FirstResponse => {
            q.push(" AND r.first_response_at IS NOT NULL");
        }
        Calls => {
            q.push(" AND r.kind IN ('call_in', 'call_out') AND r.duration_s >= ").push_bind(request.call_threshold_s);
        }
        Meetings => {
            q.push(" AND r.kind = 'meeting'");
        }
        Proposals => {
            q.push(" AND r.kind = 'proposal'");
        }
        Chats => {
            q.push(" AND r.kind = 'chat'");
        }
        _ => {}
    }
    let f = &request.filters;
    if let Some(source) = &f.source {
        q.push(" AND r.source = ").push_bind(source.clone());
    }
    if let Some(p) = f.pipeline_id {
        q.push(" AND r.pipeline_id = ").push_bind(p);
    }
    if let Some(s) = f.stage_id {
        q.push(" AND r.stage_id = ").push_bind(s);
    }
    if let Some(m) = f.manager_id {
        q.push(format!(" AND {owner} = ")).push_bind(m);
    }
    push_owners(q, &format!("COALESCE({owner}, 0)"), owners);
}

impl Store {
    async fn goals_impl(&self, org: OrgId, active_only: bool) -> StorageResult<Vec<Goal>> {
        let mut q = QueryBuilder::<Db>::new(GOAL_SELECT);
        q.push(" WHERE g.org_id = ").push_bind(org);
        if active_only {
            q.push(" AND g.status = 'active'");
        }
        q.push(" ORDER BY g.id");
        q.build().fetch_all(&self.read).await.map_err(other)?.iter().map(goal_from_row).collect()
    }

    async fn goal_impl(&self, org: OrgId, id: GoalId) -> StorageResult<Option<Goal>> {
        let mut q = QueryBuilder::<Db>::new(GOAL_SELECT);
        q.push(" WHERE g.org_id = ").push_bind(org).push(" AND g.id = ").push_bind(id);
        q.build().fetch_optional(&self.read).await.map_err(other)?.as_ref().map(goal_from_row).transpose()
    }

    /// Checks that what a draft names belongs to the organisation.
    async fn check_goal_refs(tx: &mut sqlx::Transaction<'static, Db>, org: OrgId, d: &GoalDraft) -> StorageResult<()> {
        let checks: [(Option<i64>, &str, &'static str); 6] = [
            (d.participants.user_id, "SELECT COUNT(*) FROM users WHERE org_id = $1 AND id = $2", "participants"),
            (d.participants.department_id, "SELECT COUNT(*) FROM departments WHERE org_id = $1 AND id = $2", "participants"),
            (d.parent_id, "SELECT COUNT(*) FROM goals WHERE org_id = $1 AND id = $2", "parent"),
            (d.filters.pipeline_id, "SELECT COUNT(*) FROM pipelines WHERE org_id = $1 AND id = $2", "pipeline"),
            (
                d.filters.stage_id,
                "SELECT COUNT(*) FROM stages s JOIN pipelines p ON p.id = s.pipeline_id WHERE p.org_id = $1 AND s.id = $2",
                "stage",
            ),
            (d.filters.manager_id, "SELECT COUNT(*) FROM users WHERE org_id = $1 AND id = $2", "responsible"),
        ];
        for (id, sql, field) in checks {
            let Some(id) = id else { continue };
            let n: i64 = sqlx::query_scalar(sql).bind(org).bind(id).fetch_one(&mut **tx).await.map_err(other)?;
            if n == 0 {
                return Err(StorageError::Invalid(field, Problem::Unknown));
            }
        }
        if let (Some(stage), Some(pipeline)) = (d.filters.stage_id, d.filters.pipeline_id) {
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM stages WHERE id = $1 AND pipeline_id = $2")
                .bind(stage)
                .bind(pipeline)
                .fetch_one(&mut **tx)
                .await
                .map_err(other)?;
            if n == 0 {
                return Err(StorageError::Invalid("stage", Problem::Unknown));
            }
        }
        Ok(())
    }

    async fn write_goal_row(
        tx: &mut sqlx::Transaction<'static, Db>,
        org: OrgId,
        actor: UserId,
        d: &GoalDraft,
        renewed_from: Option<GoalId>,
        now_ms: i64,
    ) -> StorageResult<GoalId> {
        let q = sqlx::query(
            "INSERT INTO goals (org_id, parent_id, name, description, metric, direction, target, period_kind, \
             start_day, end_day, recurring, participant, user_id, department_id, filter_source, filter_pipeline, \
             filter_stage, filter_manager, notify_milestones, notify_risk, notify_deadline, notify_daily, \
             notify_risk_after, renewed_from, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, \
             $22, $23, $24, $25, $26) RETURNING id",
        )
        .bind(org);
        let row =
            bind_draft(q, d).bind(renewed_from).bind(actor).bind(now_ms).fetch_one(&mut **tx).await.map_err(other)?;
        row.try_get("id").map_err(other)
    }

    async fn goal_change_row(
        tx: &mut sqlx::Transaction<'static, Db>,
        goal: GoalId,
        actor: Option<UserId>,
        field: &str,
        before: &str,
        after: &str,
        now_ms: i64,
    ) -> StorageResult<()> {
        sqlx::query(
            "INSERT INTO goal_changes (goal_id, actor_id, at, field, old_value, new_value) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(goal)
        .bind(actor)
        .bind(now_ms)
        .bind(field)
        .bind(before)
        .bind(after)
        .execute(&mut **tx)
        .await
        .map_err(other)?;
        Ok(())
    }

    async fn insert_goal_impl(&self, org: OrgId, actor: UserId, draft: &GoalDraft, now_ms: i64) -> StorageResult<Goal> {
        let mut tx = self.begin_write().await?;
        Self::check_goal_refs(&mut tx, org, draft).await?;
        let id = Self::write_goal_row(&mut tx, org, actor, draft, None, now_ms).await?;
        Self::goal_change_row(&mut tx, id, Some(actor), "created", "", &draft.target.to_string(), now_ms).await?;
        tx.commit().await.map_err(other)?;
        self.goal_impl(org, id).await?.ok_or(StorageError::NotFound)
    }

    async fn update_goal_impl(
        &self,
        org: OrgId,
        actor: UserId,
        id: GoalId,
        version: i64,
        draft: &GoalDraft,
        now_ms: i64,
    ) -> StorageResult<Goal> {
        let mut tx = self.begin_write().await?;
        let mut q = QueryBuilder::<Db>::new(GOAL_SELECT);
        q.push(" WHERE g.org_id = ").push_bind(org).push(" AND g.id = ").push_bind(id);
        let row = q.build().fetch_optional(&mut *tx).await.map_err(other)?.ok_or(StorageError::NotFound)?;
        let current = goal_from_row(&row)?;
        if current.version != version {
            return Err(StorageError::Conflict);
        }
        if current.status != GoalStatus::Active {
            return Err(StorageError::Invalid("status", Problem::Unknown));
        }
        Self::check_goal_refs(&mut tx, org, draft).await?;
        let q = sqlx::query(
            "UPDATE goals SET parent_id = $1, name = $2, description = $3, metric = $4, direction = $5, target = $6, \
             period_kind = $7, start_day = $8, end_day = $9, recurring = $10, participant = $11, user_id = $12, \
             department_id = $13, filter_source = $14, filter_pipeline = $15, filter_stage = $16, \
             filter_manager = $17, notify_milestones = $18, notify_risk = $19, notify_deadline = $20, \
             notify_daily = $21, notify_risk_after = $22, version = version + 1 WHERE id = $23 AND version = $24",
        );
        let done = bind_draft(q, draft).bind(id).bind(version).execute(&mut *tx).await.map_err(other)?;
        if done.rows_affected() == 0 {
            return Err(StorageError::Conflict);
        }
        let old = goal_settings(&current.draft());
        for ((field, before), (_, after)) in old.iter().zip(goal_settings(draft)) {
            if *before != after {
                Self::goal_change_row(&mut tx, id, Some(actor), field, before, &after, now_ms).await?;
            }
        }
        tx.commit().await.map_err(other)?;
        self.goal_impl(org, id).await?.ok_or(StorageError::NotFound)
    }

    async fn goal_history_impl(&self, org: OrgId, id: GoalId) -> StorageResult<Vec<GoalChange>> {
        let rows = sqlx::query(
            "SELECT c.at, COALESCE(u.name, '') AS actor, c.field, c.old_value, c.new_value FROM goal_changes c \
             JOIN goals g ON g.id = c.goal_id LEFT JOIN users u ON u.id = c.actor_id \
             WHERE g.org_id = $1 AND c.goal_id = $2 ORDER BY c.id DESC",
        )
        .bind(org)
        .bind(id)
        .fetch_all(&self.read)
        .await
        .map_err(other)?;
        rows.iter()
            .map(|r| {
                Ok(GoalChange {
                    at: r.try_get("at").map_err(other)?,
                    actor: r.try_get("actor").map_err(other)?,
                    field: r.try_get("field").map_err(other)?,
                    before: r.try_get("old_value").map_err(other)?,
                    after: r.try_get("new_value").map_err(other)?,
                })
            })
            .collect()
    }

    async fn goal_entries_impl(&self, org: OrgId, id: GoalId) -> StorageResult<Vec<GoalEntry>> {
        let rows = sqlx::query(
            "SELECT e.at, u.name, e.amount, e.note FROM goal_entries e JOIN goals g ON g.id = e.goal_id \
             JOIN users u ON u.id = e.user_id WHERE g.org_id = $1 AND e.goal_id = $2 ORDER BY e.at DESC, e.id DESC",
        )
        .bind(org)
        .bind(id)
        .fetch_all(&self.read)
        .await
        .map_err(other)?;
        rows.iter()
            .map(|r| {
                Ok(GoalEntry {
                    at: r.try_get("at").map_err(other)?,
                    user: r.try_get("name").map_err(other)?,
                    amount: r.try_get("amount").map_err(other)?,
                    note: r.try_get("note").map_err(other)?,
                })
            })
            .collect()
    }

    async fn goal_report_impl(&self, org: OrgId, id: GoalId) -> StorageResult<Option<String>> {
        let report: Option<Option<String>> =
            sqlx::query_scalar("SELECT final_report FROM goals WHERE org_id = $1 AND id = $2")
                .bind(org)
                .bind(id)
                .fetch_optional(&self.read)
                .await
                .map_err(other)?;
        Ok(report.flatten())
    }

    async fn goal_tallies_impl(
        &self,
        org: OrgId,
        request: &TallyRequest,
        owners: Option<&[UserId]>,
    ) -> StorageResult<Vec<(UserId, Tally)>> {
        let f = &request.filters;
        let unfiltered = f.source.is_none() && f.pipeline_id.is_none() && f.stage_id.is_none();
        if let (true, Some((total, n))) = (unfiltered, rolled_up_tally(request.metric)) {
            // The roll-up counts calls at the organisation's threshold only.
            if request.metric != GoalMetric::Calls || self.call_threshold_impl(org).await? == request.call_threshold_s {
                return self.rolled_up_tallies(org, request, owners, total, n).await;
            }
        }
        let (_, _, owner, amount) = tally_source(request.metric);
        let mut q = QueryBuilder::<Db>::new(format!(
            "SELECT COALESCE({owner}, 0) AS who, CAST(COALESCE(SUM({amount}), 0) AS BIGINT) AS total, COUNT(*) AS n"
        ));
        push_tally_where(&mut q, org, request, owners);
        q.push(format!(" GROUP BY {owner}"));
        let rows = q.build().fetch_all(&self.read).await.map_err(other)?;
        let mut by_owner: BTreeMap<UserId, Tally> = BTreeMap::new();
        for r in rows {
            let who: i64 = r.try_get("who").map_err(other)?;
            *by_owner.entry(who).or_default() +=
                Tally { sum: r.try_get("total").map_err(other)?, n: r.try_get("n").map_err(other)? };
        }
        Ok(by_owner.into_iter().collect())
    }

    /// A tally from the `kpi_days` roll-up: the request's days, per person.
    async fn rolled_up_tallies(
        &self,
        org: OrgId,
        request: &TallyRequest,
        owners: Option<&[UserId]>,
        total: &str,
        n: &str,
    ) -> StorageResult<Vec<(UserId, Tally)>> {
        let mut q = QueryBuilder::<Db>::new(format!(
            "SELECT user_id, CAST(SUM({total}) AS BIGINT) AS total, CAST(SUM({n}) AS BIGINT) AS n \
             FROM kpi_days WHERE org_id = "
        ));
        q.push_bind(org)
            .push(" AND day BETWEEN ")
            .push_bind(i64::from(request.days.from))
            .push(" AND ")
            .push_bind(i64::from(request.days.to));
        if let Some(m) = request.filters.manager_id {
            q.push(" AND user_id = ").push_bind(m);
        }
        push_owners(&mut q, "user_id", owners);
        q.push(" GROUP BY user_id ORDER BY user_id");
        let rows = q.build().fetch_all(&self.read).await.map_err(other)?;
        rows.iter()
            .map(|r| {
                let tally = Tally { sum: r.try_get("total").map_err(other)?, n: r.try_get("n").map_err(other)? };
                Ok((r.try_get("user_id").map_err(other)?, tally))
            })
            // A person whose records all moved away leaves rows of zeros behind.
            .filter(|r| !matches!(r, Ok((_, t)) if *t == Tally::default()))
            .collect()
    }

    async fn goal_moments_impl(
        &self,
        org: OrgId,
        request: &TallyRequest,
        owners: Option<&[UserId]>,
    ) -> StorageResult<Vec<(i64, i64)>> {
        let (_, moment, _, amount) = tally_source(request.metric);
        let mut q = QueryBuilder::<Db>::new(format!("SELECT {moment} AS at, CAST({amount} AS BIGINT) AS amount"));
        push_tally_where(&mut q, org, request, owners);
        let rows = q.build().fetch_all(&self.read).await.map_err(other)?;
        rows.iter().map(|r| Ok((r.try_get("at").map_err(other)?, r.try_get("amount").map_err(other)?))).collect()
    }

    /// Summed from `deal_totals`, a few rows per open stage, instead of every open deal.
    async fn weighted_pipeline_impl(&self, org: OrgId, filters: &GoalFilters) -> StorageResult<Vec<(UserId, i64)>> {
        let mut q = QueryBuilder::<Db>::new(
            "SELECT t.responsible_id, CAST(SUM(t.amount * s.probability) AS BIGINT) AS weighted \
             FROM deal_totals t JOIN stages s ON s.id = t.stage_id JOIN pipelines p ON p.id = s.pipeline_id \
             WHERE s.kind = 'open' AND t.deals > 0 AND p.org_id = ",
        );
        q.push_bind(org);
        if let Some(source) = &filters.source {
            q.push(" AND t.source = ").push_bind(source.clone());
        }
        if let Some(p) = filters.pipeline_id {
            q.push(" AND s.pipeline_id = ").push_bind(p);
        }
        if let Some(s) = filters.stage_id {
            q.push(" AND t.stage_id = ").push_bind(s);
        }
        if let Some(m) = filters.manager_id {
            q.push(" AND t.responsible_id = ").push_bind(m);
        }
        q.push(" GROUP BY t.responsible_id");
        let rows = q.build().fetch_all(&self.read).await.map_err(other)?;
        rows.iter()
            .map(|r| Ok((r.try_get("responsible_id").map_err(other)?, r.try_get("weighted").map_err(other)?)))
            .collect()
    }

    async fn add_goal_entry_impl(
        &self,
        org: OrgId,
        goal: GoalId,
        user: UserId,
        amount: i64,
        note: &str,
        now_ms: i64,
    ) -> StorageResult<()> {
        let mut tx = self.begin_write().await?;
        let metric: Option<String> =
            sqlx::query_scalar("SELECT metric FROM goals WHERE org_id = $1 AND id = $2 AND status = 'active'")
                .bind(org)
                .bind(goal)
                .fetch_optional(&mut *tx)
                .await
                .map_err(other)?;
        match metric.as_deref() {
            None => return Err(StorageError::NotFound),
            Some(m) if m != GoalMetric::Manual.as_str() => {
                return Err(StorageError::Invalid("metric", Problem::Unknown))
            }
            Some(_) => {}
        }
        sqlx::query("INSERT INTO goal_entries (goal_id, user_id, at, amount, note) VALUES ($1, $2, $3, $4, $5)")
            .bind(goal)
            .bind(user)
            .bind(now_ms)
            .bind(amount)
            .bind(note)
            .execute(&mut *tx)
            .await
            .map_err(other)?;
        tx.commit().await.map_err(other)
    }

    async fn close_goal_impl(&self, org: OrgId, closing: &GoalClosing, now_ms: i64) -> StorageResult<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE goals SET status = $1, final_value = $2, final_report = $3, closed_at = $4, version = version + 1 \
             WHERE org_id = $5 AND id = $6 AND status = 'active' AND version = $7",
        )
        .bind(closing.status.as_str())
        .bind(closing.final_value)
        .bind(&closing.report)
        .bind(now_ms)
        .bind(org)
        .bind(closing.id)
        .bind(closing.version)
        .execute(&mut *tx)
        .await
        .map_err(other)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        let after = closing.final_value.map(|v| v.to_string()).unwrap_or_default();
        Self::goal_change_row(&mut tx, closing.id, None, "closed", closing.status.as_str(), &after, now_ms).await?;
        if let Some(renewal) = &closing.renewal {
            let creator: i64 = sqlx::query_scalar("SELECT created_by FROM goals WHERE id = $1")
                .bind(closing.id)
                .fetch_one(&mut *tx)
                .await
                .map_err(other)?;
            let mut draft = renewal.clone();
            // Under the parent's renewal when the parent renewed; on its own otherwise.
            if let Some(parent) = draft.parent_id {
                draft.parent_id = sqlx::query_scalar("SELECT id FROM goals WHERE renewed_from = $1")
                    .bind(parent)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(other)?;
            }
            let id = Self::write_goal_row(&mut tx, org, creator, &draft, Some(closing.id), now_ms).await?;
            Self::goal_change_row(
                &mut tx,
                id,
                None,
                "renewed",
                &closing.id.to_string(),
                &draft.target.to_string(),
                now_ms,
            )
            .await?;
        }
        tx.commit().await.map_err(other)?;
        Ok(true)
    }

    async fn add_notices_impl(&self, org: OrgId, notices: &[NewNotice], now_ms: i64) -> StorageResult<u64> {
        if notices.is_empty() {
            return Ok(0);
        }
        let mut tx = self.begin_write().await?;
        let mut added = 0;
        for chunk in notices.chunks(IMPORT_CHUNK / 2) {
            let mut q =
                QueryBuilder::<Db>::new("INSERT INTO goal_notices (org_id, user_id, goal_id, kind, mark, figure, at) ");
            q.push_values(chunk, |mut b, n| {
                b.push_bind(org)
                    .push_bind(n.user_id)
                    .push_bind(n.goal_id)
                    .push_bind(n.kind.as_str())
                    .push_bind(n.mark)
                    .push_bind(n.figure)
                    .push_bind(now_ms);
            });
            q.push(" ON CONFLICT (goal_id, user_id, kind, mark) DO NOTHING");
            added += q.build().execute(&mut *tx).await.map_err(other)?.rows_affected();
        }
        tx.commit().await.map_err(other)?;
        Ok(added)
    }

    async fn notices_impl(&self, org: OrgId, user: UserId, limit: i64) -> StorageResult<Vec<Notice>> {
        let rows = sqlx::query(
            "SELECT n.id, n.goal_id, g.name, n.kind, n.figure, n.at, n.read_at FROM goal_notices n \
             JOIN goals g ON g.id = n.goal_id WHERE n.org_id = $1 AND n.user_id = $2 ORDER BY n.id DESC LIMIT $3",
        )
        .bind(org)
        .bind(user)
        .bind(limit)
        .fetch_all(&self.read)
        .await
        .map_err(other)?;
        rows.iter()
            .map(|r| {
                Ok(Notice {
                    id: r.try_get("id").map_err(other)?,
                    goal_id: r.try_get("goal_id").map_err(other)?,
                    goal_name: r.try_get("name").map_err(other)?,
                    kind: parse_col::<NoticeKind>(r, "kind")?,
                    figure: r.try_get("figure").map_err(other)?,
                    at: r.try_get("at").map_err(other)?,
                    read: r.try_get::<Option<i64>, _>("read_at").map_err(other)?.is_some(),
                })
            })
            .collect()
    }

    async fn unread_notices_impl(&self, org: OrgId, user: UserId) -> StorageResult<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM goal_notices WHERE user_id = $1 AND org_id = $2 AND read_at IS NULL")
            .bind(user)
            .bind(org)
            .fetch_one(&self.read)
            .await
            .map_err(other)
    }

    async fn mark_notices_read_impl(&self, org: OrgId, user: UserId, now_ms: i64) -> StorageResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE goal_notices SET read_at = $1 WHERE org_id = $2 AND user_id = $3 AND read_at IS NULL")
            .bind(now_ms)
            .bind(org)
            .bind(user)
            .execute(&mut *tx)
            .await
            .map_err(other)?;
        tx.commit().await.map_err(other)
    }
}
