// The funnel half of the storage port: keeping the roll-ups (`funnel_reach`,
// `funnel_days`) in the transaction of every deal change, reading reports
// from them, and reading raw histories for the naive reference. Included
// after `lists.rs` into both adapters; every statement valid in both dialects.

use std::collections::{BTreeMap, HashMap};

use app::funnel::{
    day_changes, day_in, day_rows, period_spans, reach, time_changes, time_rows, Day, DayKey, DealsBehind, FunnelMode,
    FunnelQuery, MiddleBuckets, Reach, StepDeals, Steps, TimeKey, Totals, Track, DEALS_BEHIND,
};
use app::pipeline::Money;

/// Deals whose histories are read and rolled up per statement when rebuilding.
const REBUILD_CHUNK: i64 = 5_000;

/// The organisation's zone; an unknown name falls back to UTC rather than failing a move.
fn zone(name: &str) -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get(name).unwrap_or_else(|e| {
        tracing::warn!(zone = name, error = %e, "unknown time zone, using UTC");
        jiff::tz::TimeZone::UTC
    })
}

/// Appends the scope's owner, source and client type conditions.
fn push_funnel_scope(q: &mut QueryBuilder<'_, Db>, query: &FunnelQuery, owner_col: &str) {
    if let Some(owners) = &query.scope.owners {
        q.push(format!(" AND {owner_col} IN ("));
        push_ids(q, owners);
        q.push(")");
    }
    if let Some(source) = &query.scope.source {
        q.push(" AND source = ").push_bind(source.clone());
    }
    if let Some(client) = query.scope.client {
        q.push(" AND repeat_client = ").push_bind(client == app::funnel::ClientType::Repeat);
    }
}

fn reach_from_row(row: &DbRow) -> StorageResult<Reach> {
    let day = |col: &str| -> StorageResult<Day> { Ok(row.try_get::<i64, _>(col).map_err(other)? as Day) };
    let maybe_day = |col: &str| -> StorageResult<Option<Day>> {
        Ok(row.try_get::<Option<i64>, _>(col).map_err(other)?.map(|d| d as Day))
    };
    Ok(Reach {
        deal_id: row.try_get("deal_id").map_err(other)?,
        stage_id: row.try_get("stage_id").map_err(other)?,
        responsible_id: row.try_get("responsible_id").map_err(other)?,
        source: row.try_get("source").map_err(other)?,
        repeat: row.try_get("repeat_client").map_err(other)?,
        amount: row.try_get("amount").map_err(other)?,
        created_day: day("created_day")?,
        reached_day: day("reached_day")?,
        time_ms: row.try_get("time_ms").map_err(other)?,
        left_day: maybe_day("left_day")?,
        lost_day: maybe_day("lost_day")?,
        cycle_ms: row.try_get("cycle_ms").map_err(other)?,
    })
}

/// Deals with their funnel history, read from `deals` and `deal_events`.
struct TrackedDeal {
    org_id: OrgId,
    pipeline_id: PipelineId,
    track: Track,
}

impl Store {
    async fn org_zone<'e, E>(executor: E, org: OrgId) -> StorageResult<jiff::tz::TimeZone>
    where
        E: sqlx::Executor<'e, Database = Db>,
    {
        let name: Option<String> = sqlx::query_scalar("SELECT time_zone FROM organizations WHERE id = $1")
            .bind(org)
            .fetch_optional(executor)
            .await
            .map_err(other)?;
        Ok(zone(name.as_deref().unwrap_or("UTC")))
    }

    async fn steps_of<'e, E>(executor: E, pipeline: PipelineId) -> StorageResult<Steps>
    where
        E: sqlx::Executor<'e, Database = Db>,
    {
        let rows = sqlx::query(
            "SELECT id, pipeline_id, name, position, kind, probability, required, stale_days, archived \
             FROM stages WHERE pipeline_id = $1",
        )
        .bind(pipeline)
        .fetch_all(executor)
        .await
        .map_err(other)?;
        let stages = rows.iter().map(stage_from_row).collect::<StorageResult<Vec<_>>>()?;
        Ok(Steps::of(&stages))
    }

    /// Reads deals (chosen by the `WHERE` condition on `d`) with their stage entries.
    async fn tracked_deals(
        conn: &mut <Db as sqlx::Database>::Connection,
        condition: &str,
        binds: &[i64],
    ) -> StorageResult<Vec<TrackedDeal>> {
        let sql = format!(
            "SELECT d.id, d.org_id, d.pipeline_id, d.responsible_id, d.source, d.repeat_client, d.amount, \
             d.created_at FROM deals d WHERE {condition} ORDER BY d.id"
        );
        let mut q = sqlx::query(&sql);
        for b in binds {
            q = q.bind(*b);
        }
        let rows = q.fetch_all(&mut *conn).await.map_err(other)?;
        let mut deals = Vec::with_capacity(rows.len());
        let mut index: HashMap<DealId, usize> = HashMap::with_capacity(rows.len());
        for row in &rows {
            let id: DealId = row.try_get("id").map_err(other)?;
            index.insert(id, deals.len());
            deals.push(TrackedDeal {
                org_id: row.try_get("org_id").map_err(other)?,
                pipeline_id: row.try_get("pipeline_id").map_err(other)?,
                track: Track {
                    deal_id: id,
                    responsible_id: row.try_get("responsible_id").map_err(other)?,
                    source: row.try_get("source").map_err(other)?,
                    repeat: row.try_get("repeat_client").map_err(other)?,
                    amount: row.try_get("amount").map_err(other)?,
                    created_at: row.try_get("created_at").map_err(other)?,
                    entries: Vec::new(),
                },
            });
        }
        if deals.is_empty() {
            return Ok(deals);
        }
        let sql = format!(
            "SELECT e.deal_id, e.at, e.to_stage_id FROM deal_events e WHERE e.to_stage_id IS NOT NULL \
             AND e.kind IN ('created', 'stage') AND e.deal_id IN (SELECT d.id FROM deals d WHERE {condition}) \
             ORDER BY e.deal_id, e.at, e.id"
        );
        let mut q = sqlx::query(&sql);
        for b in binds {
            q = q.bind(*b);
        }
        for row in q.fetch_all(&mut *conn).await.map_err(other)? {
            let deal: DealId = row.try_get("deal_id").map_err(other)?;
            if let Some(i) = index.get(&deal) {
                deals[*i]
                    .track
                    .entries
                    .push((row.try_get("at").map_err(other)?, row.try_get("to_stage_id").map_err(other)?));
            }
        }
        Ok(deals)
    }

    /// Recomputes one deal's funnel rows; call inside the transaction that
    /// changed it. The organisation's zone and the deal's pipeline steps are
    /// read unless the caller has them already (a move does).
    async fn refresh_funnel(
        tx: &mut Tx,
        deal: DealId,
        zone_known: Option<&jiff::tz::TimeZone>,
        steps_known: Option<&Steps>,
    ) -> StorageResult<()> {
        let deals = Self::tracked_deals(tx, "d.id = $1", &[deal]).await?;
        let Some(d) = deals.first() else { return Ok(()) };
        let tz = match zone_known {
            Some(tz) => tz.clone(),
            None => Self::org_zone(&mut **tx, d.org_id).await?,
        };
        let steps = match steps_known {
            Some(steps) => steps.clone(),
            None => Self::steps_of(&mut **tx, d.pipeline_id).await?,
        };
        Self::write_track(tx, d.org_id, d.pipeline_id, &d.track, &tz, &steps).await
    }

    /// Brings one deal's funnel rows and the sums over them in line with its `track`.
    async fn write_track(
        tx: &mut Tx,
        org: OrgId,
        pipeline: PipelineId,
        track: &Track,
        tz: &jiff::tz::TimeZone,
        steps: &Steps,
    ) -> StorageResult<()> {
        let before: Vec<Reach> = sqlx::query("SELECT * FROM funnel_reach WHERE deal_id = $1")
            .bind(track.deal_id)
            .fetch_all(&mut **tx)
            .await
            .map_err(other)?
            .iter()
            .map(reach_from_row)
            .collect::<StorageResult<_>>()?;
        let after = reach(track, steps, &|ms| day_in(tz, ms));
        if before == after {
            return Ok(());
        }
        let changes = day_changes(&before, &after);
        Self::add_days(tx, org, pipeline, &changes).await?;
        Self::add_times(tx, org, pipeline, &time_changes(&before, &after)).await?;
        Self::write_reach_changes(tx, org, pipeline, &before, &after).await
    }

    /// Brings one deal's `funnel_reach` rows from `before` to `after`, touching
    /// only rows and columns that differ: each row sits in several indexes, and
    /// a move usually changes one row's leaving and adds one.
    async fn write_reach_changes(
        tx: &mut Tx,
        org: OrgId,
        pipeline: PipelineId,
        before: &[Reach],
        after: &[Reach],
    ) -> StorageResult<()> {
        for gone in before.iter().filter(|b| !after.iter().any(|a| a.stage_id == b.stage_id)) {
            sqlx::query("DELETE FROM funnel_reach WHERE deal_id = $1 AND stage_id = $2")
                .bind(gone.deal_id)
                .bind(gone.stage_id)
                .execute(&mut **tx)
                .await
                .map_err(other)?;
        }
        let mut added = Vec::new();
        for now in after {
            let Some(was) = before.iter().find(|b| b.stage_id == now.stage_id) else {
                added.push(now.clone());
                continue;
            };
            if was == now {
                continue;
            }
            let mut q = QueryBuilder::<Db>::new("UPDATE funnel_reach SET ");
            let mut set = q.separated(", ");
            if was.responsible_id != now.responsible_id {
                set.push("responsible_id = ").push_bind_unseparated(now.responsible_id);
            }
            if was.source != now.source {
                set.push("source = ").push_bind_unseparated(now.source.clone());
            }
            if was.repeat != now.repeat {
                set.push("repeat_client = ").push_bind_unseparated(now.repeat);
            }
            if was.amount != now.amount {
                set.push("amount = ").push_bind_unseparated(now.amount);
            }
            if was.created_day != now.created_day {
                set.push("created_day = ").push_bind_unseparated(i64::from(now.created_day));
            }
            if was.reached_day != now.reached_day {
                set.push("reached_day = ").push_bind_unseparated(i64::from(now.reached_day));
            }
            if was.time_ms != now.time_ms {
                set.push("time_ms = ").push_bind_unseparated(now.time_ms);
            }
            if was.left_day != now.left_day {
                set.push("left_day = ").push_bind_unseparated(now.left_day.map(i64::from));
            }
            if was.lost_day != now.lost_day {
                set.push("lost_day = ").push_bind_unseparated(now.lost_day.map(i64::from));
            }
            if was.cycle_ms != now.cycle_ms {
                set.push("cycle_ms = ").push_bind_unseparated(now.cycle_ms);
            }
            q.push(" WHERE deal_id = ").push_bind(now.deal_id).push(" AND stage_id = ").push_bind(now.stage_id);
            q.build().execute(&mut **tx).await.map_err(other)?;
        }
        Self::insert_reach(tx, org, pipeline, &added).await
    }

    async fn insert_reach(tx: &mut Tx, org: OrgId, pipeline: PipelineId, rows: &[Reach]) -> StorageResult<()> {
        for chunk in rows.chunks(IMPORT_CHUNK / 2) {
            let mut q = QueryBuilder::<Db>::new(
                "INSERT INTO funnel_reach (deal_id, stage_id, org_id, pipeline_id, responsible_id, source, \
                 repeat_client, amount, created_day, reached_day, time_ms, left_day, lost_day, cycle_ms) ",
            );
            q.push_values(chunk, |mut b, r| {
                b.push_bind(r.deal_id)
                    .push_bind(r.stage_id)
                    .push_bind(org)
                    .push_bind(pipeline)
                    .push_bind(r.responsible_id)
                    .push_bind(r.source.clone())
                    .push_bind(r.repeat)
                    .push_bind(r.amount)
                    .push_bind(i64::from(r.created_day))
                    .push_bind(i64::from(r.reached_day))
                    .push_bind(r.time_ms)
                    .push_bind(r.left_day.map(i64::from))
                    .push_bind(r.lost_day.map(i64::from))
                    .push_bind(r.cycle_ms);
            });
            q.build().execute(&mut **tx).await.map_err(other)?;
        }
        Ok(())
    }

    /// Adds changes to the per-day sums; each key appears once per statement.
    async fn add_days(
        tx: &mut Tx,
        org: OrgId,
        pipeline: PipelineId,
        changes: &BTreeMap<DayKey, Totals>,
    ) -> StorageResult<()> {
        let changes: Vec<(&DayKey, &Totals)> = changes.iter().collect();
        for chunk in changes.chunks(IMPORT_CHUNK / 2) {
            let mut q = QueryBuilder::<Db>::new(
                "INSERT INTO funnel_days (org_id, pipeline_id, mode, responsible_id, day, source, repeat_client, \
                 stage_id, deals, amount, lost, time_ms, timed, cycle_ms) ",
            );
            q.push_values(chunk, |mut b, (k, t)| {
                b.push_bind(org)
                    .push_bind(pipeline)
                    .push_bind(k.mode.as_str())
                    .push_bind(k.responsible_id)
                    .push_bind(i64::from(k.day))
                    .push_bind(k.source.clone())
                    .push_bind(k.repeat)
                    .push_bind(k.stage_id)
                    .push_bind(t.deals)
                    .push_bind(t.amount)
                    .push_bind(t.lost)
                    .push_bind(t.time_ms)
                    .push_bind(t.timed)
                    .push_bind(t.cycle_ms);
            });
            q.push(
                " ON CONFLICT (pipeline_id, mode, responsible_id, day, source, repeat_client, stage_id) DO UPDATE SET \
                 deals = funnel_days.deals + excluded.deals, amount = funnel_days.amount + excluded.amount, \
                 lost = funnel_days.lost + excluded.lost, time_ms = funnel_days.time_ms + excluded.time_ms, \
                 timed = funnel_days.timed + excluded.timed, cycle_ms = funnel_days.cycle_ms + excluded.cycle_ms",
            );
            q.build().execute(&mut **tx).await.map_err(other)?;
        }
        Ok(())
    }

    /// Adds changes to the histogram of times in stage; each key appears once per statement.
    async fn add_times(
        tx: &mut Tx,
        org: OrgId,
        pipeline: PipelineId,
        changes: &BTreeMap<TimeKey, i64>,
    ) -> StorageResult<()> {
        let changes: Vec<(&TimeKey, &i64)> = changes.iter().collect();
        for chunk in changes.chunks(IMPORT_CHUNK / 2) {
            let mut q = QueryBuilder::<Db>::new(
                "INSERT INTO funnel_times (org_id, pipeline_id, mode, span, start_day, repeat_client, stage_id, \
                 bucket, times) ",
            );
            q.push_values(chunk, |mut b, (k, n)| {
                b.push_bind(org)
                    .push_bind(pipeline)
                    .push_bind(k.mode.as_str())
                    .push_bind(i64::from(k.span))
                    .push_bind(i64::from(k.start))
                    .push_bind(k.repeat)
                    .push_bind(k.stage_id)
                    .push_bind(k.bucket)
                    .push_bind(**n);
            });
            q.push(
                " ON CONFLICT (pipeline_id, mode, span, start_day, repeat_client, stage_id, bucket) DO UPDATE SET \
                 times = funnel_times.times + excluded.times",
            );
            q.build().execute(&mut **tx).await.map_err(other)?;
        }
        Ok(())
    }

    /// Sets whether deals `first..=last` came from a repeat client: one with
    /// a won deal closed before the deal was created.
    async fn set_repeat_client(tx: &mut Tx, org: OrgId, first: DealId, last: DealId) -> StorageResult<()> {
        sqlx::query(
            "UPDATE deals SET repeat_client = COALESCE((SELECT TRUE FROM deals o JOIN stages s ON s.id = o.stage_id \
             WHERE o.client_id = deals.client_id AND o.id <> deals.id AND s.kind = 'won' \
             AND o.closed_at < deals.created_at LIMIT 1), FALSE) WHERE org_id = $1 AND id BETWEEN $2 AND $3",
        )
        .bind(org)
        .bind(first)
        .bind(last)
        .execute(&mut **tx)
        .await
        .map_err(other)?;
        Ok(())
    }

    /// Sets the new/repeat flag of freshly written deals and rolls up their
    /// history; the deals must have no funnel rows yet.
    async fn roll_up_new_deals(tx: &mut Tx, org: OrgId, first: DealId, last: DealId) -> StorageResult<()> {
        Self::set_repeat_client(tx, org, first, last).await?;
        Self::roll_up(tx, org, first, last, None).await
    }

    /// Recomputes a pipeline's roll-ups after its steps changed order or kind.
    async fn rebuild_pipeline_funnel(tx: &mut Tx, org: OrgId, pipeline: PipelineId) -> StorageResult<()> {
        for table in ["funnel_days", "funnel_times", "funnel_reach"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE pipeline_id = $1"))
                .bind(pipeline)
                .execute(&mut **tx)
                .await
                .map_err(other)?;
        }
        let range: (Option<i64>, Option<i64>) =
            sqlx::query_as("SELECT MIN(id), MAX(id) FROM deals WHERE org_id = $1 AND pipeline_id = $2")
                .bind(org)
                .bind(pipeline)
                .fetch_one(&mut **tx)
                .await
                .map_err(other)?;
        match range {
            (Some(first), Some(last)) => Self::roll_up(tx, org, first, last, Some(pipeline)).await,
            _ => Ok(()),
        }
    }

    /// Rolls up deals `first..=last` (of one pipeline, if given), a chunk at a time.
    async fn roll_up(
        tx: &mut Tx,
        org: OrgId,
        first: DealId,
        last: DealId,
        pipeline: Option<PipelineId>,
    ) -> StorageResult<()> {
        let tz = Self::org_zone(&mut **tx, org).await?;
        let mut steps: HashMap<PipelineId, Steps> = HashMap::new();
        let mut start = first;
        while start <= last {
            let end = (start + REBUILD_CHUNK - 1).min(last);
            let deals = match pipeline {
                None => Self::tracked_deals(tx, "d.org_id = $1 AND d.id BETWEEN $2 AND $3", &[org, start, end]).await?,
                Some(p) => {
                    Self::tracked_deals(
                        tx,
                        "d.org_id = $1 AND d.id BETWEEN $2 AND $3 AND d.pipeline_id = $4",
                        &[org, start, end, p],
                    )
                    .await?
                }
            };
            type Rolled = (Vec<Reach>, BTreeMap<DayKey, Totals>, BTreeMap<TimeKey, i64>);
            let mut by_pipeline: HashMap<PipelineId, Rolled> = HashMap::new();
            for d in &deals {
                if let std::collections::hash_map::Entry::Vacant(e) = steps.entry(d.pipeline_id) {
                    e.insert(Self::steps_of(&mut **tx, d.pipeline_id).await?);
                }
                let (rows, days, times) = by_pipeline.entry(d.pipeline_id).or_default();
                for r in reach(&d.track, &steps[&d.pipeline_id], &|ms| day_in(&tz, ms)) {
                    for (key, t) in day_rows(&r) {
                        days.entry(key).or_default().add(&t);
                    }
                    for key in time_rows(&r) {
                        *times.entry(key).or_default() += 1;
                    }
                    rows.push(r);
                }
            }
            for (pipeline, (rows, days, times)) in by_pipeline {
                Self::insert_reach(tx, org, pipeline, &rows).await?;
                Self::add_days(tx, org, pipeline, &days).await?;
                Self::add_times(tx, org, pipeline, &times).await?;
            }
            start = end + 1;
        }
        Ok(())
    }

    async fn owners_impl(
        &self,
        org: OrgId,
        manager: Option<UserId>,
        department: Option<DeptId>,
        visibility: Visibility,
    ) -> StorageResult<Option<Vec<UserId>>> {
        let filter = BoardFilter { manager_id: manager, department_id: department, ..BoardFilter::default() };
        self.board_owners(org, &filter, visibility).await
    }

    fn funnel_days_query<'a>(org: OrgId, query: &'a FunnelQuery, select: &str) -> QueryBuilder<'a, Db> {
        let mut q = QueryBuilder::<Db>::new(select);
        q.push(" FROM funnel_days WHERE pipeline_id = ")
            .push_bind(query.pipeline_id)
            .push(" AND org_id = ")
            .push_bind(org)
            .push(" AND mode = ")
            .push_bind(query.mode.as_str())
            .push(" AND day BETWEEN ")
            .push_bind(i64::from(query.period.from))
            .push(" AND ")
            .push_bind(i64::from(query.period.to));
        q
    }

    async fn funnel_totals_impl(&self, org: OrgId, query: &FunnelQuery) -> StorageResult<Vec<(StageId, Totals)>> {
        let mut q = Self::funnel_days_query(
            org,
            query,
            "SELECT stage_id, CAST(SUM(deals) AS BIGINT) AS deals, CAST(SUM(amount) AS BIGINT) AS amount, \
             CAST(SUM(lost) AS BIGINT) AS lost, CAST(SUM(time_ms) AS BIGINT) AS time_ms, \
             CAST(SUM(timed) AS BIGINT) AS timed, CAST(SUM(cycle_ms) AS BIGINT) AS cycle_ms",
        );
        if query.scope.owners.is_none() {
            q.push(" AND responsible_id = 0");
        }
        push_funnel_scope(&mut q, query, "responsible_id");
        q.push(" GROUP BY stage_id");
        let rows = q.build().fetch_all(&self.read).await.map_err(other)?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("stage_id").map_err(other)?,
                    Totals {
                        deals: row.try_get("deals").map_err(other)?,
                        amount: row.try_get("amount").map_err(other)?,
                        lost: row.try_get("lost").map_err(other)?,
                        time_ms: row.try_get("time_ms").map_err(other)?,
                        timed: row.try_get("timed").map_err(other)?,
                        cycle_ms: row.try_get("cycle_ms").map_err(other)?,
                    },
                ))
            })
            .collect()
    }

    async fn funnel_daily_impl(
        &self,
        org: OrgId,
        query: &FunnelQuery,
        stages: &[StageId],
    ) -> StorageResult<Vec<(Day, StageId, i64, Money)>> {
        if stages.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Self::funnel_days_query(
            org,
            query,
            "SELECT day, stage_id, CAST(SUM(deals) AS BIGINT) AS deals, CAST(SUM(amount) AS BIGINT) AS amount",
        );
        if query.scope.owners.is_none() {
            q.push(" AND responsible_id = 0");
        }
        push_funnel_scope(&mut q, query, "responsible_id");
        q.push(" AND stage_id IN (");
        push_ids(&mut q, stages);
        q.push(") GROUP BY day, stage_id ORDER BY day");
        let rows = q.build().fetch_all(&self.read).await.map_err(other)?;
        rows.iter()
            .map(|row| {
                let day: i64 = row.try_get("day").map_err(other)?;
                Ok((
                    day as Day,
                    row.try_get("stage_id").map_err(other)?,
                    row.try_get("deals").map_err(other)?,
                    row.try_get("amount").map_err(other)?,
                ))
            })
            .collect()
    }

    async fn funnel_managers_impl(
        &self,
        org: OrgId,
        query: &FunnelQuery,
    ) -> StorageResult<Vec<(UserId, StageId, i64)>> {
        let mut q =
            Self::funnel_days_query(org, query, "SELECT responsible_id, stage_id, CAST(SUM(deals) AS BIGINT) AS deals");
        q.push(" AND responsible_id <> 0");
        push_funnel_scope(&mut q, query, "responsible_id");
        q.push(" GROUP BY responsible_id, stage_id");
        let rows = q.build().fetch_all(&self.read).await.map_err(other)?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("responsible_id").map_err(other)?,
                    row.try_get("stage_id").map_err(other)?,
                    row.try_get("deals").map_err(other)?,
                ))
            })
            .collect()
    }

    /// `funnel_reach` rows of the query's pipeline placed in its period by `day_col`.
    fn funnel_reach_query<'a>(org: OrgId, query: &'a FunnelQuery, select: &str, day_col: &str) -> QueryBuilder<'a, Db> {
        let mut q = QueryBuilder::<Db>::new(select);
        q.push(" FROM funnel_reach WHERE pipeline_id = ")
            .push_bind(query.pipeline_id)
            .push(" AND org_id = ")
            .push_bind(org)
            .push(format!(" AND {day_col} BETWEEN "))
            .push_bind(i64::from(query.period.from))
            .push(" AND ")
            .push_bind(i64::from(query.period.to));
        push_funnel_scope(&mut q, query, "responsible_id");
        q
    }

    async fn funnel_medians_impl(&self, org: OrgId, query: &FunnelQuery) -> StorageResult<Vec<(StageId, i64)>> {
        if query.scope.owners.is_some() || query.scope.source.is_some() {
            return self.medians_of_all_times(org, query).await;
        }
        match self.medians_of_middle_buckets(org, query).await? {
            Some(medians) => Ok(medians),
            None => {
                tracing::error!(
                    org,
                    pipeline = query.pipeline_id,
                    "the funnel's time histogram disagrees with its times"
                );
                self.medians_of_all_times(org, query).await
            }
        }
    }

    /// Everyone's medians, of one client type if asked: each step's histogram
    /// of the period names the bucket that holds its middle time, and only
    /// that bucket's times are read (a few hundredths of the period's). `None`
    /// when the histogram does not match the times.
    async fn medians_of_middle_buckets(
        &self,
        org: OrgId,
        query: &FunnelQuery,
    ) -> StorageResult<Option<Vec<(StageId, i64)>>> {
        let repeat = query.scope.client.map(|c| c == app::funnel::ClientType::Repeat);
        let mut histograms: BTreeMap<StageId, BTreeMap<i64, i64>> = BTreeMap::new();
        for (span, first, last) in period_spans(query.period) {
            let mut q = QueryBuilder::<Db>::new(
                "SELECT stage_id, bucket, CAST(SUM(times) AS BIGINT) AS times FROM funnel_times WHERE pipeline_id = ",
            );
            q.push_bind(query.pipeline_id)
                .push(" AND org_id = ")
                .push_bind(org)
                .push(" AND mode = ")
                .push_bind(query.mode.as_str())
                .push(" AND span = ")
                .push_bind(i64::from(span))
                .push(" AND start_day BETWEEN ")
                .push_bind(i64::from(first))
                .push(" AND ")
                .push_bind(i64::from(last));
            if let Some(repeat) = repeat {
                q.push(" AND repeat_client = ").push_bind(repeat);
            }
            q.push(" GROUP BY stage_id, bucket");
            for row in q.build().fetch_all(&self.read).await.map_err(other)? {
                let stage: StageId = row.try_get("stage_id").map_err(other)?;
                let bucket: i64 = row.try_get("bucket").map_err(other)?;
                let times: i64 = row.try_get("times").map_err(other)?;
                *histograms.entry(stage).or_default().entry(bucket).or_default() += times;
            }
        }
        let (day_col, index) = match query.mode {
            FunnelMode::Cohort => ("created_day", "funnel_reach_bucket_created"),
            FunnelMode::Flow => ("left_day", "funnel_reach_bucket_left"),
        };
        let mut medians = Vec::with_capacity(histograms.len());
        for (stage, histogram) in histograms {
            let Some(middle) = MiddleBuckets::of(&histogram) else { continue };
            let (skip, take) = middle.window();
            let mut q =
                QueryBuilder::<Db>::new(format!("SELECT time_ms FROM {} WHERE pipeline_id = ", funnel_reach_by(index)));
            q.push_bind(query.pipeline_id)
                .push(" AND stage_id = ")
                .push_bind(stage)
                // Buckets as equalities, never a range: after a range on the
                // bucket the index cannot narrow by day as well. Buckets
                // between the two hold none of the period's times.
                .push(" AND time_bucket IN (")
                .push_bind(middle.lo)
                .push(", ")
                .push_bind(middle.hi)
                .push(")")
                .push(format!(" AND {day_col} BETWEEN "))
                .push_bind(i64::from(query.period.from))
                .push(" AND ")
                .push_bind(i64::from(query.period.to))
                .push(" AND org_id = ")
                .push_bind(org);
            if let Some(repeat) = repeat {
                q.push(" AND repeat_client = ").push_bind(repeat);
            }
            q.push(" AND time_ms IS NOT NULL ORDER BY time_ms LIMIT ").push_bind(take).push(" OFFSET ").push_bind(skip);
            let window: Vec<i64> = q.build_query_scalar().fetch_all(&self.read).await.map_err(other)?;
            match middle.median(&window) {
                Some(median) => medians.push((stage, median)),
                None => return Ok(None),
            }
        }
        Ok(Some(medians))
    }

    /// Medians from every finished time of the period the scope counts.
    async fn medians_of_all_times(&self, org: OrgId, query: &FunnelQuery) -> StorageResult<Vec<(StageId, i64)>> {
        let day_col = match query.mode {
            FunnelMode::Cohort => "created_day",
            FunnelMode::Flow => "left_day",
        };
        // A quarter holds some 300 000 times at 1M deals. They come as one
        // text of "step time" pairs and are sorted here: a row each cost the
        // driver several times the read itself, and ranking them in SQLite
        // (a window function) took five times as long as the read.
        let pairs = text_list("CAST(stage_id AS TEXT) || ' ' || CAST(time_ms AS TEXT)");
        let mut q = Self::funnel_reach_query(org, query, &format!("SELECT {pairs} AS pairs"), day_col);
        q.push(" AND time_ms IS NOT NULL");
        let pairs: Option<String> = q.build_query_scalar().fetch_one(&self.read).await.map_err(other)?;
        let mut times: BTreeMap<StageId, Vec<i64>> = BTreeMap::new();
        for pair in pairs.as_deref().unwrap_or_default().split(',').filter(|p| !p.is_empty()) {
            let parsed = pair.split_once(' ').and_then(|(s, t)| Some((s.parse().ok()?, t.parse().ok()?)));
            let (stage, time) = parsed.ok_or_else(|| StorageError::Other(format!("bad time pair {pair:?}").into()))?;
            times.entry(stage).or_default().push(time);
        }
        Ok(times.into_iter().filter_map(|(stage, v)| app::funnel::median(v).map(|m| (stage, m))).collect())
    }

    async fn funnel_deals_impl(
        &self,
        org: OrgId,
        query: &FunnelQuery,
        stage: StageId,
        which: StepDeals,
    ) -> StorageResult<DealsBehind> {
        let day_col = match (query.mode, which) {
            (FunnelMode::Cohort, _) => "created_day",
            (FunnelMode::Flow, StepDeals::Lost) => "lost_day",
            (FunnelMode::Flow, _) => "reached_day",
        };
        let condition = |q: &mut QueryBuilder<'_, Db>| {
            q.push(" AND stage_id = ").push_bind(stage);
            match which {
                StepDeals::Reached => {}
                StepDeals::Lost => {
                    q.push(" AND lost_day IS NOT NULL");
                }
                // A later step's reach implies this one's, so these are exactly reached(this) − reached(next).
                StepDeals::WentNoFurther { next } => {
                    q.push(" AND NOT EXISTS (SELECT 1 FROM funnel_reach n WHERE n.deal_id = funnel_reach.deal_id AND n.stage_id = ")
                        .push_bind(next)
                        .push(")");
                }
            }
        };
        let mut count = Self::funnel_reach_query(org, query, "SELECT COUNT(*)", day_col);
        condition(&mut count);
        let total: i64 = count.build_query_scalar().fetch_one(&self.read).await.map_err(other)?;
        let mut ids = Self::funnel_reach_query(org, query, "SELECT deal_id", day_col);
        condition(&mut ids);
        ids.push(" ORDER BY deal_id DESC LIMIT ").push_bind(DEALS_BEHIND);
        let ids: Vec<DealId> = ids.build_query_scalar().fetch_all(&self.read).await.map_err(other)?;
        if ids.is_empty() {
            return Ok(DealsBehind { total, deals: Vec::new() });
        }
        let mut cards = QueryBuilder::<Db>::new(CARD_SELECT);
        cards.push(" WHERE d.id IN (");
        push_ids(&mut cards, &ids);
        cards.push(") ORDER BY d.id DESC");
        let rows = cards.build().fetch_all(&self.read).await.map_err(other)?;
        Ok(DealsBehind { total, deals: rows.iter().map(card_from_row).collect::<StorageResult<_>>()? })
    }

    async fn funnel_tracks_impl(&self, org: OrgId, query: &FunnelQuery) -> StorageResult<Vec<Track>> {
        // A day and a little either side in milliseconds covers every zone;
        // the naive count then places each deal by its exact day.
        let margin = 2 * app::pipeline::DAY_MS;
        let from = i64::from(query.period.from) * app::pipeline::DAY_MS - margin;
        let to = (i64::from(query.period.to) + 1) * app::pipeline::DAY_MS + margin;
        let condition = match query.mode {
            FunnelMode::Cohort => "d.org_id = $1 AND d.pipeline_id = $2 AND d.created_at BETWEEN $3 AND $4",
            FunnelMode::Flow => {
                "d.org_id = $1 AND d.pipeline_id = $2 AND d.id IN (SELECT e.deal_id FROM deal_events e \
                 WHERE e.org_id = $1 AND e.at BETWEEN $3 AND $4)"
            }
        };
        let mut conn = self.read.acquire().await.map_err(other)?;
        let deals = Self::tracked_deals(&mut conn, condition, &[org, query.pipeline_id, from, to]).await?;
        Ok(deals.into_iter().map(|d| d.track).collect())
    }

    async fn rebuild_funnel_impl(&self, org: OrgId) -> StorageResult<()> {
        let mut tx = self.begin_write().await?;
        for table in ["funnel_days", "funnel_times", "funnel_reach"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE org_id = $1"))
                .bind(org)
                .execute(&mut *tx)
                .await
                .map_err(other)?;
        }
        let range: (Option<i64>, Option<i64>) = sqlx::query_as("SELECT MIN(id), MAX(id) FROM deals WHERE org_id = $1")
            .bind(org)
            .fetch_one(&mut *tx)
            .await
            .map_err(other)?;
        if let (Some(first), Some(last)) = range {
            Self::roll_up_new_deals(&mut tx, org, first, last).await?;
        }
        tx.commit().await.map_err(other)
    }
}
