// The lists half of the storage port: deals, clients, activities and leads
// a page at a time, sorted by a named column; changing a deal and a client.
// Included after `pipeline.rs` into both adapters, with the same rule: every
// statement valid in SQLite and PostgreSQL.

use app::pipeline::lists::{
    ActivityFilter, ActivityList, ActivitySort, Client, ClientFilter, ClientForm, ClientList, ClientSort, DealFilter,
    DealList, DealSort, LeadSort, Page, ROWS_PER_PAGE,
};
use app::pipeline::ClientId;
use app::storage::{ClientHead, DealChange};

/// What clients are searched by, lower-cased here for the same reason as deals.
fn client_search_text(name: &str, phone: &str, email: &str) -> String {
    format!("{name} {phone} {email}").to_lowercase()
}

const CLIENT_SELECT: &str = "SELECT c.id, c.name, c.kind, c.phone, c.email, c.responsible_id, \
     COALESCE(u.name, '') AS responsible, c.created_at, \
     (SELECT COUNT(*) FROM deals d WHERE d.client_id = c.id) AS deals, \
     (SELECT COUNT(*) FROM deals d JOIN stages s ON s.id = d.stage_id WHERE d.client_id = c.id AND s.kind = 'won') \
     AS won_deals, \
     (SELECT CAST(COALESCE(SUM(d.amount), 0) AS BIGINT) FROM deals d JOIN stages s ON s.id = d.stage_id \
     WHERE d.client_id = c.id AND s.kind = 'won') AS won_total \
     FROM clients c LEFT JOIN users u ON u.id = c.responsible_id";

fn client_from_row(row: &DbRow) -> StorageResult<Client> {
    Ok(Client {
        id: row.try_get("id").map_err(other)?,
        name: row.try_get("name").map_err(other)?,
        kind: parse_col(row, "kind")?,
        phone: row.try_get("phone").map_err(other)?,
        email: row.try_get("email").map_err(other)?,
        responsible_id: row.try_get("responsible_id").map_err(other)?,
        responsible: row.try_get("responsible").map_err(other)?,
        created_at: row.try_get("created_at").map_err(other)?,
        deals: row.try_get("deals").map_err(other)?,
        won_deals: row.try_get("won_deals").map_err(other)?,
        won_total: row.try_get("won_total").map_err(other)?,
    })
}

fn deal_order(by: DealSort) -> &'static str {
    match by {
        DealSort::Created => "d.created_at",
        DealSort::Title => "d.title",
        DealSort::Amount => "d.amount",
        DealSort::Stage => "s.position",
        DealSort::Manager => "u.name",
        DealSort::Closed => "COALESCE(d.closed_at, 0)",
    }
}

fn client_order(by: ClientSort) -> &'static str {
    // Output names alone (not in expressions) are valid ORDER BY terms on both backends.
    match by {
        ClientSort::Name => "c.name",
        ClientSort::Created => "c.created_at",
        ClientSort::Deals => "deals",
        ClientSort::Revenue => "won_total",
    }
}

fn activity_order(by: ActivitySort) -> &'static str {
    match by {
        ActivitySort::At => "a.at",
        ActivitySort::Kind => "a.kind",
        ActivitySort::Duration => "COALESCE(a.duration_s, 0)",
        ActivitySort::User => "u.name",
    }
}

fn lead_order(by: LeadSort) -> &'static str {
    match by {
        LeadSort::Created => "l.created_at",
        LeadSort::Title => "l.title",
        LeadSort::Status => "l.status",
        LeadSort::Responsible => "responsible",
    }
}

/// How one list is read: its row query, its count query (same joins the
/// filter needs), the filter both share, and the order.
struct ListQuery<'a, F> {
    select: &'a str,
    count_from: &'a str,
    filter: F,
    order: &'static str,
    descending: bool,
    id_column: &'static str,
    page: i64,
}

impl Store {
    async fn page_of<T, F>(
        &self,
        list: ListQuery<'_, F>,
        from_row: fn(&DbRow) -> StorageResult<T>,
    ) -> StorageResult<Page<T>>
    where
        F: Fn(&mut QueryBuilder<'_, Db>),
    {
        let mut count = QueryBuilder::<Db>::new(format!("SELECT COUNT(*) {}", list.count_from));
        (list.filter)(&mut count);
        let total: i64 = count.build_query_scalar().fetch_one(&self.read).await.map_err(other)?;
        let page = list.page.max(0);
        let mut q = QueryBuilder::<Db>::new(list.select);
        (list.filter)(&mut q);
        let dir = if list.descending { "DESC" } else { "ASC" };
        q.push(format!(" ORDER BY {} {dir}, {} {dir} LIMIT ", list.order, list.id_column)).push_bind(ROWS_PER_PAGE);
        q.push(" OFFSET ").push_bind(page.saturating_mul(ROWS_PER_PAGE));
        let rows = q.build().fetch_all(&self.read).await.map_err(other)?;
        Ok(Page { rows: rows.iter().map(from_row).collect::<StorageResult<_>>()?, total, page })
    }

    async fn deals_impl(&self, org: OrgId, f: &DealFilter, v: Visibility) -> StorageResult<DealList> {
        let filter = |q: &mut QueryBuilder<'_, Db>| {
            q.push(" WHERE d.org_id = ").push_bind(org);
            if let Some(p) = f.pipeline_id {
                q.push(" AND d.pipeline_id = ").push_bind(p);
            }
            if let Some(s) = f.stage_id {
                q.push(" AND d.stage_id = ").push_bind(s);
            }
            if let Some(m) = f.manager_id {
                q.push(" AND d.responsible_id = ").push_bind(m);
            }
            if let Some(kind) = f.state {
                q.push(" AND s.kind = ").push_bind(kind.as_str());
            }
            if let Some(src) = f.source.as_deref().filter(|s| !s.is_empty()) {
                q.push(" AND d.source = ").push_bind(src.to_string());
            }
            if let Some(text) = f.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                q.push(" AND d.search LIKE ").push_bind(like_pattern(text)).push(" ESCAPE '\\'");
            }
            push_visibility(q, v, "d.responsible_id", "u.department_id");
        };
        let list = ListQuery {
            select: DEAL_SELECT,
            count_from: "FROM deals d JOIN users u ON u.id = d.responsible_id JOIN stages s ON s.id = d.stage_id",
            filter,
            order: deal_order(f.order.by),
            descending: f.order.descending,
            id_column: "d.id",
            page: f.page,
        };
        self.page_of(list, deal_from_row).await
    }

    async fn update_deal_impl(
        &self,
        org: OrgId,
        actor: UserId,
        change: &DealChange,
        now_ms: i64,
    ) -> StorageResult<DealHead> {
        let mut tx = self.begin_write().await?;
        let deal = Self::deal_head_on(&mut *tx, org, change.id).await?.ok_or(StorageError::NotFound)?;
        if deal.version != change.version {
            return Err(StorageError::Conflict);
        }
        let client_id = match change.client_name.as_deref() {
            Some(name) => Some(Self::client_named(&mut tx, org, name, change.responsible_id, now_ms).await?),
            None => None,
        };
        // The rouble value stays as it was saved unless what it comes from changed.
        let (currency, foreign): (String, Option<Money>) =
            sqlx::query_as("SELECT currency, currency_amount FROM deals WHERE id = $1")
                .bind(deal.id)
                .fetch_one(&mut *tx)
                .await
                .map_err(other)?;
        let (rubles, currency_amount) =
            if currency == change.currency && foreign.unwrap_or(deal.amount) == change.amount {
                (deal.amount, foreign)
            } else {
                Self::in_rubles(&mut tx, org, change.currency, change.amount).await?
            };
        let kpis = KpiWatch::start(&mut tx, org, vec![KpiRecord::Deal(deal.id)]).await?;
        let updated = sqlx::query(
            "UPDATE deals SET title = $1, amount = $2, currency = $3, currency_amount = $4, client_id = $5, \
             source = $6, responsible_id = $7, version = $8, search = $9 WHERE id = $10 AND version = $11",
        )
        .bind(&change.title)
        .bind(rubles)
        .bind(change.currency)
        .bind(currency_amount)
        .bind(client_id)
        .bind(&change.source)
        .bind(change.responsible_id)
        .bind(deal.version + 1)
        .bind(deal_search_text(&change.title, change.client_name.as_deref()))
        .bind(deal.id)
        .bind(deal.version)
        .execute(&mut *tx)
        .await
        .map_err(other)?;
        if updated.rows_affected() == 0 {
            return Err(StorageError::Conflict);
        }
        if change.responsible_id != deal.responsible_id {
            sqlx::query(
                "INSERT INTO deal_events (org_id, deal_id, actor_id, at, kind, from_user_id, to_user_id, amount) \
                 VALUES ($1, $2, $3, $4, 'responsible', $5, $6, $7)",
            )
            .bind(org)
            .bind(deal.id)
            .bind(actor)
            .bind(now_ms)
            .bind(deal.responsible_id)
            .bind(change.responsible_id)
            .bind(rubles)
            .execute(&mut *tx)
            .await
            .map_err(other)?;
        }
        // A new client may change whether the deal counts as a repeat sale.
        Self::set_repeat_client(&mut tx, org, deal.id, deal.id).await?;
        Self::refresh_funnel(&mut tx, deal.id, Some(&kpis.context.tz), None).await?;
        kpis.finish(&mut tx).await?;
        let head = Self::deal_head_on(&mut *tx, org, deal.id).await?.ok_or(StorageError::NotFound)?;
        tx.commit().await.map_err(other)?;
        Ok(head)
    }

    async fn clients_impl(&self, org: OrgId, f: &ClientFilter, v: Visibility) -> StorageResult<ClientList> {
        let filter = |q: &mut QueryBuilder<'_, Db>| {
            q.push(" WHERE c.org_id = ").push_bind(org);
            if let Some(kind) = f.kind {
                q.push(" AND c.kind = ").push_bind(kind.as_str());
            }
            if let Some(text) = f.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                q.push(" AND c.search LIKE ").push_bind(like_pattern(text)).push(" ESCAPE '\\'");
            }
            push_visibility(q, v, "c.responsible_id", "u.department_id");
        };
        let list = ListQuery {
            select: CLIENT_SELECT,
            count_from: "FROM clients c LEFT JOIN users u ON u.id = c.responsible_id",
            filter,
            order: client_order(f.order.by),
            descending: f.order.descending,
            id_column: "c.id",
            page: f.page,
        };
        self.page_of(list, client_from_row).await
    }

    async fn client_head_impl(&self, org: OrgId, id: ClientId) -> StorageResult<Option<ClientHead>> {
        let row = sqlx::query(
            "SELECT c.id, c.responsible_id, u.department_id FROM clients c \
             LEFT JOIN users u ON u.id = c.responsible_id WHERE c.id = $1 AND c.org_id = $2",
        )
        .bind(id)
        .bind(org)
        .fetch_optional(&self.read)
        .await
        .map_err(other)?;
        row.map(|r| {
            Ok(ClientHead {
                id: r.try_get("id").map_err(other)?,
                responsible_id: r.try_get("responsible_id").map_err(other)?,
                department_id: r.try_get("department_id").map_err(other)?,
            })
        })
        .transpose()
    }

    async fn save_client_impl(
        &self,
        org: OrgId,
        form: &ClientForm,
        responsible: UserId,
        now_ms: i64,
    ) -> StorageResult<Client> {
        let mut tx = self.begin_write().await?;
        let namesake: Option<ClientId> =
            sqlx::query_scalar("SELECT MIN(id) FROM clients WHERE org_id = $1 AND name = $2 AND id <> $3")
                .bind(org)
                .bind(&form.name)
                .bind(form.id.unwrap_or(0))
                .fetch_one(&mut *tx)
                .await
                .map_err(other)?;
        if namesake.is_some() {
            return Err(StorageError::Duplicate("name"));
        }
        let search = client_search_text(&form.name, &form.phone, &form.email);
        let (id, inserted) = match form.id {
            None => sqlx::query_scalar(
                "INSERT INTO clients (org_id, name, kind, phone, email, responsible_id, created_at, search) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(org)
            .bind(&form.name)
            .bind(form.kind.as_str())
            .bind(&form.phone)
            .bind(&form.email)
            .bind(responsible)
            .bind(now_ms)
            .bind(&search)
            .fetch_one(&mut *tx)
            .await
            .map_err(other)
            .map(|id| (id, true))?,
            Some(id) => {
                let updated = sqlx::query(
                    "UPDATE clients SET name = $1, kind = $2, phone = $3, email = $4, search = $5 \
                     WHERE id = $6 AND org_id = $7",
                )
                .bind(&form.name)
                .bind(form.kind.as_str())
                .bind(&form.phone)
                .bind(&form.email)
                .bind(&search)
                .bind(id)
                .bind(org)
                .execute(&mut *tx)
                .await
                .map_err(other)?;
                if updated.rows_affected() == 0 {
                    return Err(StorageError::NotFound);
                }
                // Deals are searched by their client's name too.
                let titles: Vec<(DealId, String)> = sqlx::query_as("SELECT id, title FROM deals WHERE client_id = $1")
                    .bind(id)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(other)?;
                for (deal, title) in titles {
                    sqlx::query("UPDATE deals SET search = $1 WHERE id = $2")
                        .bind(deal_search_text(&title, Some(&form.name)))
                        .bind(deal)
                        .execute(&mut *tx)
                        .await
                        .map_err(other)?;
                }
                (id, false)
            }
        };
        if inserted {
            KpiWatch::inserted(&mut tx, org, vec![KpiRecord::Client(id)]).await?;
        }
        let row = sqlx::query(&format!("{CLIENT_SELECT} WHERE c.id = $1"))
            .bind(id)
            .fetch_one(&mut *tx)
            .await
            .map_err(other)?;
        tx.commit().await.map_err(other)?;
        client_from_row(&row)
    }

    async fn activities_impl(&self, org: OrgId, f: &ActivityFilter, v: Visibility) -> StorageResult<ActivityList> {
        let filter = |q: &mut QueryBuilder<'_, Db>| {
            q.push(" WHERE a.org_id = ").push_bind(org);
            if let Some(kind) = f.kind {
                q.push(" AND a.kind = ").push_bind(kind.as_str());
            }
            if let Some(user) = f.user_id {
                q.push(" AND a.user_id = ").push_bind(user);
            }
            if let Some(deal) = f.deal_id {
                q.push(" AND a.deal_id = ").push_bind(deal);
            }
            if let Some(since) = f.since {
                q.push(" AND a.at >= ").push_bind(since);
            }
            push_visibility(q, v, "a.user_id", "u.department_id");
        };
        let list = ListQuery {
            select: ACTIVITY_SELECT,
            count_from: "FROM activities a JOIN users u ON u.id = a.user_id",
            filter,
            order: activity_order(f.order.by),
            descending: f.order.descending,
            id_column: "a.id",
            page: f.page,
        };
        self.page_of(list, activity_from_row).await
    }

    async fn update_lead_impl(&self, org: OrgId, edit: &app::pipeline::LeadEdit) -> StorageResult<Lead> {
        let mut tx = self.begin_write().await?;
        let f = &edit.form;
        let updated = sqlx::query(
            "UPDATE leads SET title = $1, source = $2, contact_name = $3, phone = $4, email = $5, \
             version = version + 1 WHERE id = $6 AND org_id = $7 AND version = $8",
        )
        .bind(&f.title)
        .bind(&f.source)
        .bind(&f.contact_name)
        .bind(&f.phone)
        .bind(&f.email)
        .bind(edit.id)
        .bind(org)
        .bind(edit.version)
        .execute(&mut *tx)
        .await
        .map_err(other)?;
        if updated.rows_affected() == 0 {
            let exists = Self::lead_on(&mut *tx, org, edit.id).await?.is_some();
            return Err(if exists { StorageError::Conflict } else { StorageError::NotFound });
        }
        let lead = Self::lead_on(&mut *tx, org, edit.id).await?.ok_or(StorageError::NotFound)?;
        tx.commit().await.map_err(other)?;
        Ok(lead)
    }

    async fn leads_impl(&self, org: OrgId, f: &LeadFilter, v: Visibility) -> StorageResult<LeadPage> {
        let filter = |q: &mut QueryBuilder<'_, Db>| {
            q.push(" WHERE l.org_id = ").push_bind(org);
            if let Some(status) = f.status {
                q.push(" AND l.status = ").push_bind(status.as_str());
            }
            if let Some(text) = f.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                // Leads are few per person; LIKE on the original text is enough here.
                q.push(" AND (l.title LIKE ").push_bind(format!("%{text}%"));
                q.push(" OR l.phone LIKE ").push_bind(format!("%{text}%"));
                q.push(" OR l.email LIKE ").push_bind(format!("%{}%", text.to_lowercase())).push(")");
            }
            push_visibility(q, v, "l.responsible_id", "u.department_id");
        };
        let list = ListQuery {
            select: LEAD_SELECT,
            count_from: "FROM leads l LEFT JOIN users u ON u.id = l.responsible_id",
            filter,
            order: lead_order(f.order.by),
            descending: f.order.descending,
            id_column: "l.id",
            page: f.page,
        };
        self.page_of(list, lead_from_row).await
    }
}
