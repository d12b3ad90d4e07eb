// The KPI half of the storage port: the per-person, per-day roll-up
// (`kpi_days`, 0010) kept in the transaction of every change to a deal,
// lead, client or activity, the report read from it, and the reference
// count straight from the records (0006's covering indexes). Included after
// `funnel.rs` into both adapters; statements valid in both dialects.

use app::kpi::shares::{
    activity_share, client_share, deal_shares, lead_shares, share_changes, ActivityFacts, DealFacts, KpiShare,
    LeadFacts,
};
use app::kpi::{KpiCounts, NPS_DETRACTOR, NPS_PROMOTER};

/// Which of a person's counts a record adds to.
type CountOf = fn(&mut KpiCounts) -> &mut i64;

/// Records read per statement when rolling up a whole table.
const KPI_CHUNK: i64 = 50_000;

/// Appends ` AND {column} IN (…)` when only some people count.
fn push_owners(q: &mut QueryBuilder<'_, Db>, column: &str, owners: Option<&[UserId]>) {
    if let Some(owners) = owners {
        q.push(format!(" AND {column} IN ("));
        push_ids(q, owners);
        q.push(")");
    }
}

/// Starts a per-person count over one table's period column (`column`
/// names the table's alias, if any, as in `d.closed_at`).
fn kpi_query<'a>(select: &str, from: &str, column: &str, org: OrgId, from_ms: i64, to_ms: i64) -> QueryBuilder<'a, Db> {
    let alias = column.split_once('.').map_or("", |(a, _)| a);
    let org_column = if alias.is_empty() { "org_id".to_string() } else { format!("{alias}.org_id") };
    let mut q = QueryBuilder::<Db>::new(format!("{select} FROM {from} WHERE "));
    q.push(format!("{column} >= "))
        .push_bind(from_ms)
        .push(format!(" AND {column} < "))
        .push_bind(to_ms)
        .push(format!(" AND {org_column} = "))
        .push_bind(org);
    q
}

/// The tables whose records have KPI shares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum KpiTable {
    Deals,
    Leads,
    Clients,
    Activities,
}

impl KpiTable {
    const ALL: [KpiTable; 4] = [KpiTable::Deals, KpiTable::Leads, KpiTable::Clients, KpiTable::Activities];

    fn name(self) -> &'static str {
        match self {
            KpiTable::Deals => "deals",
            KpiTable::Leads => "leads",
            KpiTable::Clients => "clients",
            KpiTable::Activities => "activities",
        }
    }

    /// What the shares are computed from, the record aliased `r`; only
    /// closed deals have one.
    fn select(self) -> &'static str {
        match self {
            KpiTable::Deals => {
                "SELECT r.responsible_id, s.kind, r.amount, r.created_at, r.closed_at, r.repeat_client, r.csat, r.nps \
                 FROM deals r JOIN stages s ON s.id = r.stage_id WHERE "
            }
            KpiTable::Leads => {
                "SELECT r.responsible_id, r.status, r.created_at, r.first_response_at FROM leads r WHERE "
            }
            KpiTable::Clients => "SELECT r.responsible_id, r.created_at FROM clients r WHERE ",
            KpiTable::Activities => {
                "SELECT r.user_id, r.kind, r.at, CAST(r.duration_s AS BIGINT) AS duration_s FROM activities r WHERE "
            }
        }
    }
}

/// A record whose KPI shares a change may move.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum KpiRecord {
    Deal(DealId),
    Lead(LeadId),
    Client(ClientId),
    Activity(i64),
}

impl KpiRecord {
    fn any_activity(records: &[KpiRecord]) -> bool {
        records.iter().any(|r| matches!(r, KpiRecord::Activity(_)))
    }
}

/// What a record's shares are computed with: the organisation's zone and call threshold.
struct KpiContext {
    org: OrgId,
    tz: jiff::tz::TimeZone,
    call_threshold_s: i64,
}

/// The KPI shares of some records before a change, so that `finish` can
/// roll up the difference once the change is written. Every change to a
/// deal bumps its version and is checked against the version read, so the
/// shares read here are those the change started from.
struct KpiWatch {
    context: KpiContext,
    records: Vec<KpiRecord>,
    before: Vec<KpiShare>,
}

impl KpiWatch {
    async fn start(tx: &mut Tx, org: OrgId, records: Vec<KpiRecord>) -> StorageResult<KpiWatch> {
        let context = Store::kpi_context(tx, org, KpiRecord::any_activity(&records)).await?;
        let before = Store::kpi_shares_of(tx, &context, &records).await?;
        Ok(KpiWatch { context, records, before })
    }

    /// Records written by this change: nothing to take away.
    async fn inserted(tx: &mut Tx, org: OrgId, records: Vec<KpiRecord>) -> StorageResult<()> {
        let context = Store::kpi_context(tx, org, KpiRecord::any_activity(&records)).await?;
        KpiWatch { context, records, before: Vec::new() }.finish(tx).await
    }

    async fn finish(self, tx: &mut Tx) -> StorageResult<()> {
        let after = Store::kpi_shares_of(tx, &self.context, &self.records).await?;
        Store::add_kpi_changes(tx, self.context.org, &share_changes(&self.before, &after)).await
    }
}

impl Store {
    async fn kpi_counts_raw_impl(
        &self,
        org: OrgId,
        from_ms: i64,
        to_ms: i64,
        owners: Option<&[UserId]>,
        call_threshold_s: i64,
    ) -> StorageResult<Vec<(UserId, KpiCounts)>> {
        let mut by_user: BTreeMap<UserId, KpiCounts> = BTreeMap::new();
        let get = |row: &DbRow, col: &str| -> StorageResult<i64> { row.try_get::<i64, _>(col).map_err(other) };

        let mut q = kpi_query(
            &format!(
                "SELECT d.responsible_id AS who, s.kind AS kind, COUNT(*) AS n, \
                 CAST(COALESCE(SUM(d.amount), 0) AS BIGINT) AS amount, \
                 CAST(COALESCE(SUM(d.closed_at - d.created_at), 0) AS BIGINT) AS cycle, \
                 CAST(COALESCE(SUM(CASE WHEN d.repeat_client THEN 1 ELSE 0 END), 0) AS BIGINT) AS repeat, \
                 COUNT(d.csat) AS csat_n, CAST(COALESCE(SUM(d.csat), 0) AS BIGINT) AS csat_sum, \
                 COUNT(d.nps) AS nps_n, \
                 CAST(COALESCE(SUM(CASE WHEN d.nps >= {NPS_PROMOTER} THEN 1 ELSE 0 END), 0) AS BIGINT) AS promoters, \
                 CAST(COALESCE(SUM(CASE WHEN d.nps <= {NPS_DETRACTOR} THEN 1 ELSE 0 END), 0) AS BIGINT) AS detractors"
            ),
            "deals d JOIN stages s ON s.id = d.stage_id",
            "d.closed_at",
            org,
            from_ms,
            to_ms,
        );
        q.push(" AND s.kind IN ('won', 'lost')");
        push_owners(&mut q, "d.responsible_id", owners);
        q.push(" GROUP BY d.responsible_id, s.kind");
        for row in q.build().fetch_all(&self.read).await.map_err(other)? {
            let c = by_user.entry(get(&row, "who")?).or_default();
            let kind: String = row.try_get("kind").map_err(other)?;
            if kind == "won" {
                c.won += get(&row, "n")?;
                c.revenue += get(&row, "amount")?;
                c.cycle_ms += get(&row, "cycle")?;
                c.repeat_won += get(&row, "repeat")?;
            } else {
                c.lost += get(&row, "n")?;
            }
            c.csat_rated += get(&row, "csat_n")?;
            c.csat_sum += get(&row, "csat_sum")?;
            c.nps_rated += get(&row, "nps_n")?;
            c.promoters += get(&row, "promoters")?;
            c.detractors += get(&row, "detractors")?;
        }

        let mut q = kpi_query(
            "SELECT COALESCE(responsible_id, 0) AS who, COUNT(*) AS n, \
             CAST(COALESCE(SUM(CASE WHEN status = 'qualified' THEN 1 ELSE 0 END), 0) AS BIGINT) AS converted, \
             COUNT(first_response_at) AS answered, \
             CAST(COALESCE(SUM(first_response_at - created_at), 0) AS BIGINT) AS response",
            "leads",
            "created_at",
            org,
            from_ms,
            to_ms,
        );
        push_owners(&mut q, "responsible_id", owners);
        q.push(" GROUP BY responsible_id");
        for row in q.build().fetch_all(&self.read).await.map_err(other)? {
            let c = by_user.entry(get(&row, "who")?).or_default();
            c.leads += get(&row, "n")?;
            c.leads_converted += get(&row, "converted")?;
            c.leads_answered += get(&row, "answered")?;
            c.response_ms += get(&row, "response")?;
        }

        let counted_at: [(&str, &str, CountOf); 3] = [
            ("leads", "first_response_at", |c| &mut c.leads_processed),
            ("clients", "created_at", |c| &mut c.new_clients),
            ("deals", "created_at", |c| &mut c.deals_created),
        ];
        for (table, column, field) in counted_at {
            let mut q = kpi_query(
                "SELECT COALESCE(responsible_id, 0) AS who, COUNT(*) AS n",
                table,
                column,
                org,
                from_ms,
                to_ms,
            );
            push_owners(&mut q, "responsible_id", owners);
            q.push(" GROUP BY responsible_id");
            for row in q.build().fetch_all(&self.read).await.map_err(other)? {
                *field(by_user.entry(get(&row, "who")?).or_default()) += get(&row, "n")?;
            }
        }

        let mut q = kpi_query("SELECT user_id AS who, kind, COUNT(*) AS n", "activities", "at", org, from_ms, to_ms);
        q.push(" AND (kind NOT IN ('call_in', 'call_out') OR duration_s >= ").push_bind(call_threshold_s).push(")");
        push_owners(&mut q, "user_id", owners);
        q.push(" GROUP BY user_id, kind");
        for row in q.build().fetch_all(&self.read).await.map_err(other)? {
            let c = by_user.entry(get(&row, "who")?).or_default();
            let n = get(&row, "n")?;
            let kind: String = row.try_get("kind").map_err(other)?;
            match kind.as_str() {
                "call_in" => c.calls_in += n,
                "call_out" => c.calls_out += n,
                "meeting" => c.meetings += n,
                "proposal" => c.proposals += n,
                "chat" => c.chats += n,
                _ => {}
            }
        }
        Ok(by_user.into_iter().collect())
    }

    async fn call_threshold_impl(&self, org: OrgId) -> StorageResult<i64> {
        sqlx::query_scalar::<_, i64>("SELECT call_threshold_s FROM organizations WHERE id = $1")
            .bind(org)
            .fetch_optional(&self.read)
            .await
            .map_err(other)?
            .ok_or(StorageError::NotFound)
    }

    /// Stores the threshold, then recounts every call at it. The
    /// organisation's row is written first, so on PostgreSQL this waits for
    /// activity changes under way and the ones after it read the new threshold.
    async fn set_call_threshold_impl(&self, org: OrgId, seconds: i64) -> StorageResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE organizations SET call_threshold_s = $1 WHERE id = $2")
            .bind(seconds)
            .bind(org)
            .execute(&mut *tx)
            .await
            .map_err(other)?;
        sqlx::query("UPDATE kpi_days SET calls_in = 0, calls_out = 0 WHERE org_id = $1")
            .bind(org)
            .execute(&mut *tx)
            .await
            .map_err(other)?;
        let context = Self::kpi_context(&mut tx, org, false).await?;
        Self::roll_up_kpis(&mut tx, &context, KpiTable::Activities, None, true).await?;
        tx.commit().await.map_err(other)
    }

    /// Rating is a change to the deal like any other: it bumps the version,
    /// so a move read before it conflicts instead of rolling up stale shares.
    async fn rate_deal_impl(&self, org: OrgId, deal: DealId, csat: Option<i64>, nps: Option<i64>) -> StorageResult<()> {
        let mut tx = self.begin_write().await?;
        let head = Self::deal_head_on(&mut *tx, org, deal).await?.ok_or(StorageError::NotFound)?;
        let watch = KpiWatch::start(&mut tx, org, vec![KpiRecord::Deal(deal)]).await?;
        if !watch.before.iter().any(|s| s.counts.won + s.counts.lost > 0) {
            // Only a closed deal has a closing share; an open one cannot be rated.
            return Err(StorageError::NotFound);
        }
        let done = sqlx::query(
            "UPDATE deals SET csat = $1, nps = $2, version = version + 1 \
             WHERE id = $3 AND org_id = $4 AND closed_at IS NOT NULL AND version = $5",
        )
        .bind(csat)
        .bind(nps)
        .bind(deal)
        .bind(org)
        .bind(head.version)
        .execute(&mut *tx)
        .await
        .map_err(other)?;
        if done.rows_affected() == 0 {
            return Err(StorageError::Conflict);
        }
        watch.finish(&mut tx).await?;
        tx.commit().await.map_err(other)
    }
}

impl Store {
    /// The zone and threshold shares are computed with. With
    /// `hold_threshold` (activities are counted), PostgreSQL holds the
    /// organisation's row (`FOR SHARE`) so a threshold change waits for this
    /// change and is seen by the ones after it; SQLite has one writer at a time anyway.
    async fn kpi_context(tx: &mut Tx, org: OrgId, hold_threshold: bool) -> StorageResult<KpiContext> {
        let sql = format!(
            "SELECT time_zone, call_threshold_s FROM organizations WHERE id = $1{}",
            if hold_threshold { FOR_SHARE } else { "" }
        );
        let (name, call_threshold_s): (String, i64) = sqlx::query_as(&sql)
            .bind(org)
            .fetch_optional(&mut **tx)
            .await
            .map_err(other)?
            .ok_or(StorageError::NotFound)?;
        Ok(KpiContext { org, tz: zone(&name), call_threshold_s })
    }

    async fn kpi_shares_of(tx: &mut Tx, context: &KpiContext, records: &[KpiRecord]) -> StorageResult<Vec<KpiShare>> {
        let mut shares = Vec::new();
        for record in records {
            let (table, id) = match *record {
                KpiRecord::Deal(id) => (KpiTable::Deals, id),
                KpiRecord::Lead(id) => (KpiTable::Leads, id),
                KpiRecord::Client(id) => (KpiTable::Clients, id),
                KpiRecord::Activity(id) => (KpiTable::Activities, id),
            };
            shares.extend(Self::kpi_shares_where(tx, context, table, "r.org_id = $1 AND r.id = $2", &[id]).await?);
        }
        Ok(shares)
    }

    /// The shares of one table's records chosen by `condition` (`$1` is the
    /// organisation, `binds` follow from `$2`).
    async fn kpi_shares_where(
        tx: &mut Tx,
        context: &KpiContext,
        table: KpiTable,
        condition: &str,
        binds: &[i64],
    ) -> StorageResult<Vec<KpiShare>> {
        let sql = format!("{}{condition}", table.select());
        let mut q = sqlx::query(&sql).bind(context.org);
        for b in binds {
            q = q.bind(*b);
        }
        let rows = q.fetch_all(&mut **tx).await.map_err(other)?;
        let day = |ms: i64| day_in(&context.tz, ms);
        let mut shares = Vec::with_capacity(rows.len());
        for row in &rows {
            let get = |col: &str| -> StorageResult<i64> { row.try_get::<i64, _>(col).map_err(other) };
            let maybe = |col: &str| -> StorageResult<Option<i64>> { row.try_get::<Option<i64>, _>(col).map_err(other) };
            match table {
                KpiTable::Deals => {
                    let facts = DealFacts {
                        responsible_id: get("responsible_id")?,
                        stage_kind: parse_col(row, "kind")?,
                        amount: get("amount")?,
                        created_at: get("created_at")?,
                        closed_at: maybe("closed_at")?,
                        repeat_client: row.try_get("repeat_client").map_err(other)?,
                        csat: maybe("csat")?,
                        nps: maybe("nps")?,
                    };
                    shares.extend(deal_shares(&facts, day));
                }
                KpiTable::Leads => {
                    let facts = LeadFacts {
                        responsible_id: maybe("responsible_id")?,
                        status: parse_col(row, "status")?,
                        created_at: get("created_at")?,
                        first_response_at: maybe("first_response_at")?,
                    };
                    shares.extend(lead_shares(&facts, day));
                }
                KpiTable::Clients => shares.push(client_share(maybe("responsible_id")?, get("created_at")?, day)),
                KpiTable::Activities => {
                    let facts = ActivityFacts {
                        user_id: get("user_id")?,
                        kind: parse_col(row, "kind")?,
                        at: get("at")?,
                        duration_s: maybe("duration_s")?,
                    };
                    shares.extend(activity_share(&facts, context.call_threshold_s, day));
                }
            }
        }
        Ok(shares)
    }

    /// Adds per-person, per-day differences to the roll-up, keys in order so
    /// concurrent PostgreSQL writers lock rows in the same order.
    async fn add_kpi_changes(tx: &mut Tx, org: OrgId, changes: &[((UserId, Day), KpiCounts)]) -> StorageResult<()> {
        let columns = KpiCounts::COLUMNS;
        let sums = columns.iter().map(|c| format!("{c} = kpi_days.{c} + excluded.{c}")).collect::<Vec<_>>().join(", ");
        for chunk in changes.chunks(500) {
            let mut q = QueryBuilder::<Db>::new(format!(
                "INSERT INTO kpi_days (org_id, day, user_id, {}) ",
                columns.join(", ")
            ));
            q.push_values(chunk, |mut b, ((user, day), counts)| {
                b.push_bind(org).push_bind(i64::from(*day)).push_bind(*user);
                for v in counts.values() {
                    b.push_bind(v);
                }
            });
            q.push(format!(" ON CONFLICT (org_id, day, user_id) DO UPDATE SET {sums}"));
            q.build().execute(&mut **tx).await.map_err(other)?;
        }
        Ok(())
    }

    /// Adds the shares of `table`'s records with ids `first..=last` (all of
    /// them when `None`), a chunk of ids per statement; with `calls_only`,
    /// just the calls.
    async fn roll_up_kpis(
        tx: &mut Tx,
        context: &KpiContext,
        table: KpiTable,
        ids: Option<(i64, i64)>,
        calls_only: bool,
    ) -> StorageResult<()> {
        let (first, last) = match ids {
            Some(range) => range,
            None => {
                let range: (Option<i64>, Option<i64>) =
                    sqlx::query_as(&format!("SELECT MIN(id), MAX(id) FROM {} WHERE org_id = $1", table.name()))
                        .bind(context.org)
                        .fetch_one(&mut **tx)
                        .await
                        .map_err(other)?;
                match range {
                    (Some(first), Some(last)) => (first, last),
                    _ => return Ok(()),
                }
            }
        };
        let condition = if calls_only {
            "r.org_id = $1 AND r.id BETWEEN $2 AND $3 AND r.kind IN ('call_in', 'call_out')"
        } else {
            "r.org_id = $1 AND r.id BETWEEN $2 AND $3"
        };
        let mut sums: BTreeMap<(UserId, Day), KpiCounts> = BTreeMap::new();
        let mut start = first;
        while start <= last {
            let end = (start + KPI_CHUNK - 1).min(last);
            for s in Self::kpi_shares_where(tx, context, table, condition, &[start, end]).await? {
                *sums.entry((s.user_id, s.day)).or_default() += &s.counts;
            }
            start = end + 1;
        }
        let changes: Vec<_> = sums.into_iter().collect();
        Self::add_kpi_changes(tx, context.org, &changes).await
    }

    /// Counts the roll-up of freshly written records (generated data), by id ranges.
    async fn roll_up_new_kpis(tx: &mut Tx, org: OrgId, ranges: &[(KpiTable, i64, i64)]) -> StorageResult<()> {
        let context = Self::kpi_context(tx, org, false).await?;
        for (table, first, last) in ranges {
            Self::roll_up_kpis(tx, &context, *table, Some((*first, *last)), false).await?;
        }
        Ok(())
    }

    async fn rebuild_kpis_on(tx: &mut Tx, org: OrgId) -> StorageResult<()> {
        sqlx::query("DELETE FROM kpi_days WHERE org_id = $1").bind(org).execute(&mut **tx).await.map_err(other)?;
        // Every call is recounted: a threshold change must wait for this.
        let context = Self::kpi_context(tx, org, true).await?;
        for table in KpiTable::ALL {
            Self::roll_up_kpis(tx, &context, table, None, false).await?;
        }
        sqlx::query("UPDATE organizations SET kpi_built = TRUE WHERE id = $1")
            .bind(org)
            .execute(&mut **tx)
            .await
            .map_err(other)?;
        Ok(())
    }

    async fn rebuild_kpis_impl(&self, org: OrgId) -> StorageResult<()> {
        let mut tx = self.begin_write().await?;
        Self::rebuild_kpis_on(&mut tx, org).await?;
        tx.commit().await.map_err(other)
    }

    /// Builds the roll-up of organisations whose records predate it (0010).
    async fn build_missing_kpis(&self) -> StorageResult<()> {
        let orgs: Vec<OrgId> = sqlx::query_scalar("SELECT id FROM organizations WHERE NOT kpi_built ORDER BY id")
            .fetch_all(&self.write)
            .await
            .map_err(other)?;
        for org in orgs {
            tracing::info!(org, "building the KPI roll-up");
            self.rebuild_kpis_impl(org).await?;
        }
        Ok(())
    }

    async fn kpi_counts_impl(
        &self,
        org: OrgId,
        period: app::funnel::Period,
        owners: Option<&[UserId]>,
    ) -> StorageResult<Vec<(UserId, KpiCounts)>> {
        let sums = KpiCounts::COLUMNS
            .iter()
            .map(|c| format!("CAST(SUM({c}) AS BIGINT) AS {c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut q = QueryBuilder::<Db>::new(format!("SELECT user_id, {sums} FROM kpi_days WHERE org_id = "));
        q.push_bind(org)
            .push(" AND day BETWEEN ")
            .push_bind(i64::from(period.from))
            .push(" AND ")
            .push_bind(i64::from(period.to));
        push_owners(&mut q, "user_id", owners);
        q.push(" GROUP BY user_id ORDER BY user_id");
        let rows = q.build().fetch_all(&self.read).await.map_err(other)?;
        rows.iter()
            .map(|row| {
                let values = KpiCounts::COLUMNS
                    .iter()
                    .map(|c| row.try_get::<i64, _>(*c).map_err(other))
                    .collect::<StorageResult<Vec<i64>>>()?;
                let counts = KpiCounts::from_values(&values);
                Ok((row.try_get("user_id").map_err(other)?, counts))
            })
            // A person whose records all moved away leaves rows of zeros behind.
            .filter(|r| !matches!(r, Ok((_, c)) if *c == KpiCounts::default()))
            .collect()
    }
}
