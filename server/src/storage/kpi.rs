// The KPI half of the storage port: counts straight from deals, leads,
// clients and activities, each one range of one covering index (0006_kpi).
// Included after `funnel.rs` into both adapters; statements valid in both dialects.

use app::kpi::{KpiCounts, NPS_DETRACTOR, NPS_PROMOTER};

/// Appends ` AND {column} IN (…)` when only some people count.
fn push_owners(q: &mut QueryBuilder<'_, Db>, column: &str, owners: Option<&[UserId]>) {
    if let Some(owners) = owners {
        q.push(format!(" AND {column} IN ("));
        if owners.is_empty() {
            q.push("NULL");
        }
        let mut list = q.separated(", ");
        for id in owners {
            list.push_bind(*id);
        }
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

impl Store {
    async fn kpi_counts_impl(
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

        for (table, column, field) in [("leads", "first_response_at", 0), ("clients", "created_at", 1)] {
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
                let c = by_user.entry(get(&row, "who")?).or_default();
                let n = get(&row, "n")?;
                if field == 0 {
                    c.leads_processed += n;
                } else {
                    c.new_clients += n;
                }
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

    async fn set_call_threshold_impl(&self, org: OrgId, seconds: i64) -> StorageResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE organizations SET call_threshold_s = $1 WHERE id = $2")
            .bind(seconds)
            .bind(org)
            .execute(&mut *tx)
            .await
            .map_err(other)?;
        tx.commit().await.map_err(other)
    }

    async fn rate_deal_impl(&self, org: OrgId, deal: DealId, csat: Option<i64>, nps: Option<i64>) -> StorageResult<()> {
        let mut tx = self.begin_write().await?;
        let done =
            sqlx::query("UPDATE deals SET csat = $1, nps = $2 WHERE id = $3 AND org_id = $4 AND closed_at IS NOT NULL")
                .bind(csat)
                .bind(nps)
                .bind(deal)
                .bind(org)
                .execute(&mut *tx)
                .await
                .map_err(other)?;
        if done.rows_affected() == 0 {
            return Err(StorageError::NotFound);
        }
        tx.commit().await.map_err(other)
    }
}
