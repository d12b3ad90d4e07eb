// The norms half of the storage port: the organisation's activity norms and
// the leads its alerts are about. Included after `kpi.rs` into both adapters;
// statements valid in both dialects.

use app::norms::{AlertList, LeadAlert, Norm, NormSettings};

impl Store {
    async fn norm_settings_impl(&self, org: OrgId) -> StorageResult<NormSettings> {
        let (response_minutes, version): (i64, i64) =
            sqlx::query_as("SELECT response_norm_min, norms_version FROM organizations WHERE id = $1")
                .bind(org)
                .fetch_optional(&self.read)
                .await
                .map_err(other)?
                .ok_or(StorageError::NotFound)?;
        let rows = sqlx::query("SELECT role, kind, per, target FROM activity_norms WHERE org_id = $1")
            .bind(org)
            .fetch_all(&self.read)
            .await
            .map_err(other)?;
        let mut norms = rows
            .iter()
            .map(|row| {
                Ok(Norm {
                    role: parse_col(row, "role")?,
                    kind: parse_col(row, "kind")?,
                    per: parse_col(row, "per")?,
                    target: row.try_get("target").map_err(other)?,
                })
            })
            .collect::<StorageResult<Vec<Norm>>>()?;
        norms.sort_by_key(|n| (n.role, n.per, n.kind));
        Ok(NormSettings { norms, response_minutes, version })
    }

    async fn save_norm_settings_impl(
        &self,
        org: OrgId,
        settings: &NormSettings,
        norms: &[Norm],
    ) -> StorageResult<NormSettings> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE organizations SET response_norm_min = $1, norms_version = norms_version + 1 \
             WHERE id = $2 AND norms_version = $3",
        )
        .bind(settings.response_minutes)
        .bind(org)
        .bind(settings.version)
        .execute(&mut *tx)
        .await
        .map_err(other)?;
        if done.rows_affected() == 0 {
            return Err(StorageError::Conflict);
        }
        sqlx::query("DELETE FROM activity_norms WHERE org_id = $1").bind(org).execute(&mut *tx).await.map_err(other)?;
        for n in norms {
            sqlx::query("INSERT INTO activity_norms (org_id, role, kind, per, target) VALUES ($1, $2, $3, $4, $5)")
                .bind(org)
                .bind(n.role.as_str())
                .bind(n.kind.as_str())
                .bind(n.per.as_str())
                .bind(n.target)
                .execute(&mut *tx)
                .await
                .map_err(other)?;
        }
        tx.commit().await.map_err(other)?;
        self.norm_settings_impl(org).await
    }

    /// Marks leads `first..=last` silent when disqualified with no activity;
    /// call after their status or activities changed.
    async fn mark_silent_leads(tx: &mut Tx, org: OrgId, first: LeadId, last: LeadId) -> StorageResult<()> {
        sqlx::query(
            "UPDATE leads SET silent = (status = 'disqualified' AND NOT EXISTS \
             (SELECT 1 FROM activities a WHERE a.lead_id = leads.id)) WHERE org_id = $1 AND id BETWEEN $2 AND $3",
        )
        .bind(org)
        .bind(first)
        .bind(last)
        .execute(&mut **tx)
        .await
        .map_err(other)?;
        Ok(())
    }

    async fn lead_alerts_impl(
        &self,
        org: OrgId,
        owners: Option<&[UserId]>,
        unanswered_before_ms: i64,
        silent_since_ms: i64,
        limit: i64,
    ) -> StorageResult<(AlertList, AlertList)> {
        // Each alert is one range of one partial index: new leads by creation
        // with no response yet, silent ones (disqualified, no activity: 0011)
        // by when they were disqualified.
        let unanswered = "l.status = 'new' AND l.first_response_at IS NULL AND l.created_at < ";
        let silent = "l.silent AND l.disqualified_at >= ";
        let mut lists = Vec::with_capacity(2);
        for (condition, bound, at) in
            [(unanswered, unanswered_before_ms, "l.created_at"), (silent, silent_since_ms, "l.disqualified_at")]
        {
            let mut q = QueryBuilder::<Db>::new("SELECT COUNT(*) FROM leads l WHERE l.org_id = ");
            q.push_bind(org).push(format!(" AND {condition}")).push_bind(bound);
            push_owners(&mut q, "l.responsible_id", owners);
            let total: i64 = q.build_query_scalar().fetch_one(&self.read).await.map_err(other)?;

            let mut q = QueryBuilder::<Db>::new(format!(
                "SELECT l.id, l.title, u.name AS responsible, {at} AS at, l.disqualify_reason \
                 FROM leads l LEFT JOIN users u ON u.id = l.responsible_id WHERE l.org_id = "
            ));
            q.push_bind(org).push(format!(" AND {condition}")).push_bind(bound);
            push_owners(&mut q, "l.responsible_id", owners);
            q.push(format!(" ORDER BY {at}, l.id LIMIT ")).push_bind(limit);
            let leads = q
                .build()
                .fetch_all(&self.read)
                .await
                .map_err(other)?
                .iter()
                .map(|row| {
                    Ok(LeadAlert {
                        id: row.try_get("id").map_err(other)?,
                        title: row.try_get("title").map_err(other)?,
                        responsible: row.try_get("responsible").map_err(other)?,
                        at: row.try_get("at").map_err(other)?,
                        reason: row.try_get("disqualify_reason").map_err(other)?,
                    })
                })
                .collect::<StorageResult<Vec<LeadAlert>>>()?;
            lists.push(AlertList { total, leads });
        }
        let silent = lists.pop().unwrap_or_default();
        let unanswered = lists.pop().unwrap_or_default();
        Ok((unanswered, silent))
    }
}
