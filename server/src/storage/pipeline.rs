// The pipeline half of the storage port: stages, the board, moves, deals,
// activities, leads. Included after `shared.rs` into both adapters, with the
// same rule: every statement valid in SQLite and PostgreSQL.

use app::pipeline::currency::CurrencyRate;
use app::pipeline::{
    skipped_required, Activity, ActivityEdit, Board, BoardFilter, Card, Column, DealEvent, DealId, DealPage, Lead,
    LeadFilter, LeadId, LeadPage, LeadStatus, MoveRequest, Moved, NewLeadForm, Pipeline, PipelineId, Stage, StageForm,
    StageId, StageKind, Violation, CARDS_PER_COLUMN, CLOSED_DAYS, DAY_MS,
};
use app::storage::{DealHead, LeadChange, LeadHead, MoveOutcome, NewActivity, NewDeal};

/// What a move reads of its deal and surroundings in one statement.
struct MoveHead {
    /// The answer to an earlier move with the same key, to repeat.
    done: Option<Moved>,
    deal: DealHead,
    source: String,
    repeat_client: bool,
    created_at: i64,
    closed_at: Option<i64>,
    csat: Option<i64>,
    nps: Option<i64>,
    time_zone: String,
    block_skips: bool,
}

const STAGE_COLUMNS: &str = "id, pipeline_id, name, position, kind, probability, required, stale_days, archived";

fn stage_from_row(row: &DbRow) -> StorageResult<Stage> {
    Ok(Stage {
        id: row.try_get("id").map_err(other)?,
        pipeline_id: row.try_get("pipeline_id").map_err(other)?,
        name: row.try_get("name").map_err(other)?,
        position: row.try_get("position").map_err(other)?,
        kind: parse_col(row, "kind")?,
        probability: row.try_get("probability").map_err(other)?,
        required: row.try_get("required").map_err(other)?,
        stale_days: row.try_get("stale_days").map_err(other)?,
        archived: row.try_get("archived").map_err(other)?,
    })
}

const CARD_SELECT: &str =
    "SELECT d.id, d.title, d.amount, d.currency, d.currency_amount, c.name AS client_name, d.responsible_id, \
     u.name AS manager, d.source, d.stage_id, d.stage_entered_at, d.version \
     FROM deals d JOIN users u ON u.id = d.responsible_id LEFT JOIN clients c ON c.id = d.client_id";

fn card_from_row(row: &DbRow) -> StorageResult<Card> {
    Ok(Card {
        id: row.try_get("id").map_err(other)?,
        title: row.try_get("title").map_err(other)?,
        amount: row.try_get("amount").map_err(other)?,
        currency: row.try_get("currency").map_err(other)?,
        currency_amount: row.try_get("currency_amount").map_err(other)?,
        client: row.try_get("client_name").map_err(other)?,
        manager_id: row.try_get("responsible_id").map_err(other)?,
        manager: row.try_get("manager").map_err(other)?,
        source: row.try_get("source").map_err(other)?,
        stage_id: row.try_get("stage_id").map_err(other)?,
        stage_entered_at: row.try_get("stage_entered_at").map_err(other)?,
        version: row.try_get("version").map_err(other)?,
    })
}

const RATE_SELECT: &str = "SELECT r.currency, r.rate, r.updated_at, u.name AS updated_by \
     FROM currency_rates r JOIN users u ON u.id = r.updated_by";

fn rate_from_row(row: &DbRow) -> StorageResult<CurrencyRate> {
    Ok(CurrencyRate {
        currency: row.try_get("currency").map_err(other)?,
        rate: row.try_get("rate").map_err(other)?,
        updated_at: row.try_get("updated_at").map_err(other)?,
        updated_by: row.try_get("updated_by").map_err(other)?,
    })
}

/// A deal with what its page and the deals list show.
const DEAL_SELECT: &str =
    "SELECT d.id, d.title, d.amount, d.currency, d.currency_amount, c.name AS client_name, d.responsible_id, \
     u.name AS manager, d.source, d.stage_id, d.stage_entered_at, d.version, d.pipeline_id, d.client_id, \
     d.created_at, d.closed_at, d.loss_reason, d.csat, d.nps, u.department_id \
     FROM deals d JOIN users u ON u.id = d.responsible_id JOIN stages s ON s.id = d.stage_id \
     LEFT JOIN clients c ON c.id = d.client_id";

fn deal_from_row(row: &DbRow) -> StorageResult<app::pipeline::Deal> {
    Ok(app::pipeline::Deal {
        card: card_from_row(row)?,
        pipeline_id: row.try_get("pipeline_id").map_err(other)?,
        client_id: row.try_get("client_id").map_err(other)?,
        created_at: row.try_get("created_at").map_err(other)?,
        closed_at: row.try_get("closed_at").map_err(other)?,
        loss_reason: row.try_get("loss_reason").map_err(other)?,
        csat: row.try_get("csat").map_err(other)?,
        nps: row.try_get("nps").map_err(other)?,
        department_id: row.try_get("department_id").map_err(other)?,
    })
}

/// What deals are searched by: title and client, lower-cased here because
/// SQLite's LOWER() knows only ASCII.
fn deal_search_text(title: &str, client: Option<&str>) -> String {
    format!("{} {}", title, client.unwrap_or_default()).to_lowercase()
}

/// A LIKE pattern matching `text` anywhere, with its wildcards escaped.
fn like_pattern(text: &str) -> String {
    let escaped = text.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

/// The board's WHERE clause for one column. No organisation condition: the
/// stage was loaded through the organisation's pipeline, and leaving it out
/// keeps `deals_stage_totals` a covering index for the sums. Rights and the
/// manager and department filters arrive as one list of `owners`.
fn push_board_filter(
    q: &mut QueryBuilder<'_, Db>,
    stage: &Stage,
    f: &BoardFilter,
    owners: Option<&[UserId]>,
    now_ms: i64,
) {
    q.push(" AND d.stage_id = ").push_bind(stage.id);
    if stage.kind != StageKind::Open {
        // Deals in an open stage are open; won and lost columns show the last weeks only.
        q.push(" AND d.closed_at >= ").push_bind(now_ms - CLOSED_DAYS * DAY_MS);
    }
    push_owners(q, "d.responsible_id", owners);
    if let Some(src) = f.source.as_deref().filter(|s| !s.is_empty()) {
        q.push(" AND d.source = ").push_bind(src.to_string());
    }
    if let Some(days) = f.created_days {
        q.push(" AND d.created_at >= ").push_bind(now_ms - days * DAY_MS);
    }
    if let Some(text) = f.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        q.push(" AND d.search LIKE ").push_bind(like_pattern(text)).push(" ESCAPE '\\'");
    }
}

fn deal_head_from_row(r: &DbRow) -> StorageResult<DealHead> {
    Ok(DealHead {
        id: r.try_get("id").map_err(other)?,
        pipeline_id: r.try_get("pipeline_id").map_err(other)?,
        stage_id: r.try_get("stage_id").map_err(other)?,
        version: r.try_get("version").map_err(other)?,
        responsible_id: r.try_get("responsible_id").map_err(other)?,
        department_id: r.try_get("department_id").map_err(other)?,
        amount: r.try_get("amount").map_err(other)?,
    })
}

/// The answer stored under a move's key (`done_*` columns), if there is one.
fn replayed_from_row(r: &DbRow) -> StorageResult<Option<Moved>> {
    let Some(deal_id) = r.try_get::<Option<DealId>, _>("done_deal").map_err(other)? else {
        return Ok(None);
    };
    Ok(Some(Moved {
        deal_id,
        stage_id: r.try_get("done_stage").map_err(other)?,
        version: r.try_get("done_version").map_err(other)?,
        replayed: true,
        skipped: ids_from_text(&r.try_get::<String, _>("done_skipped").map_err(other)?),
    }))
}

fn ids_text(ids: &[StageId]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

fn ids_from_text(text: &str) -> Vec<StageId> {
    text.split(',').filter_map(|s| s.parse().ok()).collect()
}

const LEAD_SELECT: &str =
    "SELECT l.id, l.title, l.source, l.contact_name, l.phone, l.email, l.status, l.disqualify_reason, \
     l.responsible_id, COALESCE(u.name, '') AS responsible, l.created_at, l.first_response_at, l.version, \
     (SELECT MIN(dl.id) FROM deals dl WHERE dl.lead_id = l.id) AS deal_id \
     FROM leads l LEFT JOIN users u ON u.id = l.responsible_id";

fn lead_from_row(row: &DbRow) -> StorageResult<Lead> {
    Ok(Lead {
        id: row.try_get("id").map_err(other)?,
        title: row.try_get("title").map_err(other)?,
        source: row.try_get("source").map_err(other)?,
        contact_name: row.try_get("contact_name").map_err(other)?,
        phone: row.try_get("phone").map_err(other)?,
        email: row.try_get("email").map_err(other)?,
        status: parse_col(row, "status")?,
        disqualify_reason: row.try_get("disqualify_reason").map_err(other)?,
        responsible_id: row.try_get("responsible_id").map_err(other)?,
        responsible: row.try_get("responsible").map_err(other)?,
        created_at: row.try_get("created_at").map_err(other)?,
        first_response_at: row.try_get("first_response_at").map_err(other)?,
        deal_id: row.try_get("deal_id").map_err(other)?,
        version: row.try_get("version").map_err(other)?,
    })
}

type Tx = sqlx::Transaction<'static, Db>;

impl Store {
    async fn pipelines_impl(&self, org: OrgId) -> StorageResult<Vec<Pipeline>> {
        let rows = sqlx::query(
            "SELECT id, name, position, archived, block_skips FROM pipelines WHERE org_id = $1 ORDER BY position, id",
        )
        .bind(org)
        .fetch_all(&self.read)
        .await
        .map_err(other)?;
        let stage_rows = sqlx::query(&format!(
            "SELECT {STAGE_COLUMNS} FROM stages WHERE pipeline_id IN (SELECT id FROM pipelines WHERE org_id = $1) \
             ORDER BY pipeline_id, position, id"
        ))
        .bind(org)
        .fetch_all(&self.read)
        .await
        .map_err(other)?;
        let stages = stage_rows.iter().map(stage_from_row).collect::<StorageResult<Vec<_>>>()?;
        rows.iter()
            .map(|r| {
                let id: PipelineId = r.try_get("id").map_err(other)?;
                Ok(Pipeline {
                    id,
                    name: r.try_get("name").map_err(other)?,
                    position: r.try_get("position").map_err(other)?,
                    archived: r.try_get("archived").map_err(other)?,
                    block_skips: r.try_get("block_skips").map_err(other)?,
                    stages: stages.iter().filter(|s| s.pipeline_id == id).cloned().collect(),
                })
            })
            .collect()
    }

    /// Whether the pipeline blocks skips, whether it is archived, and its stages.
    async fn pipeline_stages(tx: &mut Tx, org: OrgId, pipeline: PipelineId) -> StorageResult<(bool, bool, Vec<Stage>)> {
        let head: Option<(bool, bool)> =
            sqlx::query_as("SELECT block_skips, archived FROM pipelines WHERE id = $1 AND org_id = $2")
                .bind(pipeline)
                .bind(org)
                .fetch_optional(&mut **tx)
                .await
                .map_err(other)?;
        let Some((block_skips, archived)) = head else {
            return Err(StorageError::Invalid("pipeline", Problem::Unknown));
        };
        Ok((block_skips, archived, Self::stages_of_pipeline(tx, pipeline).await?))
    }

    /// A pipeline's stages in board order, archived ones included.
    async fn stages_of_pipeline(tx: &mut Tx, pipeline: PipelineId) -> StorageResult<Vec<Stage>> {
        let rows =
            sqlx::query(&format!("SELECT {STAGE_COLUMNS} FROM stages WHERE pipeline_id = $1 ORDER BY position, id"))
                .bind(pipeline)
                .fetch_all(&mut **tx)
                .await
                .map_err(other)?;
        rows.iter().map(stage_from_row).collect()
    }

    async fn save_stage_impl(&self, org: OrgId, edit: &StageForm) -> StorageResult<Stage> {
        let mut tx = self.begin_write().await?;
        let (_, _, mut stages) = Self::pipeline_stages(&mut tx, org, edit.pipeline_id).await?;
        let steps_before = app::funnel::Steps::of(&stages);
        let id = match edit.id {
            Some(id) => {
                let Some(current) = stages.iter().find(|s| s.id == id) else {
                    return Err(StorageError::NotFound);
                };
                let deals: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM deals WHERE stage_id = $1")
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(other)?;
                // Deals in a stage keep what its kind means; an archived stage would hide them.
                if deals > 0 && current.kind != edit.kind {
                    return Err(StorageError::Invalid("kind", Problem::HasDeals));
                }
                if deals > 0 && edit.archived && !current.archived {
                    return Err(StorageError::Invalid("stage", Problem::HasDeals));
                }
                sqlx::query(
                    "UPDATE stages SET name = $1, kind = $2, probability = $3, required = $4, stale_days = $5, \
                     archived = $6 WHERE id = $7",
                )
                .bind(&edit.name)
                .bind(edit.kind.as_str())
                .bind(edit.probability)
                .bind(edit.required)
                .bind(edit.stale_days)
                .bind(edit.archived)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(other)?;
                id
            }
            None => {
                let id: StageId = sqlx::query_scalar(
                    "INSERT INTO stages (pipeline_id, name, position, kind, probability, required, stale_days, \
                     archived) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                )
                .bind(edit.pipeline_id)
                .bind(&edit.name)
                .bind(i32::MAX)
                .bind(edit.kind.as_str())
                .bind(edit.probability)
                .bind(edit.required)
                .bind(edit.stale_days)
                .bind(edit.archived)
                .fetch_one(&mut *tx)
                .await
                .map_err(other)?;
                stages.push(Stage {
                    id,
                    pipeline_id: edit.pipeline_id,
                    name: edit.name.clone(),
                    position: i32::MAX,
                    kind: edit.kind,
                    probability: edit.probability,
                    required: edit.required,
                    stale_days: edit.stale_days,
                    archived: edit.archived,
                });
                id
            }
        };
        // Renumber 0..n with the edited stage at its requested place.
        let mut order: Vec<StageId> = stages.iter().map(|s| s.id).filter(|s| *s != id).collect();
        order.insert((edit.position.max(0) as usize).min(order.len()), id);
        for (position, stage) in order.iter().enumerate() {
            sqlx::query("UPDATE stages SET position = $1 WHERE id = $2")
                .bind(position as i32)
                .bind(stage)
                .execute(&mut *tx)
                .await
                .map_err(other)?;
        }
        let row = sqlx::query(&format!("SELECT {STAGE_COLUMNS} FROM stages WHERE id = $1"))
            .bind(id)
            .fetch_one(&mut *tx)
            .await
            .map_err(other)?;
        // "Reached" depends on the order of the steps: a new order recounts the pipeline.
        let (_, _, now) = Self::pipeline_stages(&mut tx, org, edit.pipeline_id).await?;
        if app::funnel::Steps::of(&now) != steps_before {
            Self::rebuild_pipeline_funnel(&mut tx, org, edit.pipeline_id).await?;
        }
        tx.commit().await.map_err(other)?;
        stage_from_row(&row)
    }

    async fn save_pipeline_impl(
        &self,
        org: OrgId,
        id: Option<PipelineId>,
        name: &str,
        block_skips: bool,
    ) -> StorageResult<Pipeline> {
        let mut tx = self.begin_write().await?;
        let id = match id {
            Some(id) => {
                let done =
                    sqlx::query("UPDATE pipelines SET name = $1, block_skips = $2 WHERE id = $3 AND org_id = $4")
                        .bind(name)
                        .bind(block_skips)
                        .bind(id)
                        .bind(org)
                        .execute(&mut *tx)
                        .await
                        .map_err(other)?;
                if done.rows_affected() == 0 {
                    return Err(StorageError::NotFound);
                }
                id
            }
            None => {
                let id: PipelineId = sqlx::query_scalar(
                    "INSERT INTO pipelines (org_id, name, position, block_skips) \
                     VALUES ($1, $2, (SELECT COALESCE(MAX(position), -1) + 1 FROM pipelines WHERE org_id = $1), $3) \
                     RETURNING id",
                )
                .bind(org)
                .bind(name)
                .bind(block_skips)
                .fetch_one(&mut *tx)
                .await
                .map_err(other)?;
                // A pipeline is usable at once: a first stage and the two endings.
                for (position, (stage, kind, probability)) in [
                    ("Новая", StageKind::Open, 10),
                    ("Успешно", StageKind::Won, 100),
                    ("Провалена", StageKind::Lost, 0),
                ]
                .into_iter()
                .enumerate()
                {
                    sqlx::query(
                        "INSERT INTO stages (pipeline_id, name, position, kind, probability) VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(id)
                    .bind(stage)
                    .bind(position as i32)
                    .bind(kind.as_str())
                    .bind(probability)
                    .execute(&mut *tx)
                    .await
                    .map_err(other)?;
                }
                id
            }
        };
        tx.commit().await.map_err(other)?;
        self.pipelines_impl(org).await?.into_iter().find(|p| p.id == id).ok_or(StorageError::NotFound)
    }

    async fn archive_pipeline_impl(&self, org: OrgId, id: PipelineId, archived: bool) -> StorageResult<Pipeline> {
        let mut tx = self.begin_write().await?;
        // Locks the organisation's pipelines (PostgreSQL row locks; SQLite
        // writes one at a time anyway), so two people archiving the last two
        // at once cannot both see the other one still active.
        sqlx::query("UPDATE pipelines SET position = position WHERE org_id = $1")
            .bind(org)
            .execute(&mut *tx)
            .await
            .map_err(other)?;
        let current: Option<bool> = sqlx::query_scalar("SELECT archived FROM pipelines WHERE id = $1 AND org_id = $2")
            .bind(id)
            .bind(org)
            .fetch_optional(&mut *tx)
            .await
            .map_err(other)?;
        let Some(current) = current else {
            return Err(StorageError::NotFound);
        };
        if archived && !current {
            let active: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pipelines WHERE org_id = $1 AND NOT archived")
                .bind(org)
                .fetch_one(&mut *tx)
                .await
                .map_err(other)?;
            if active <= 1 {
                return Err(StorageError::Invalid("pipeline", Problem::LastActive));
            }
            // Open deals would drop out of every board; closed ones stay in lists, reports and history.
            let open: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM deals d JOIN stages s ON s.id = d.stage_id \
                 WHERE d.pipeline_id = $1 AND s.kind = 'open'",
            )
            .bind(id)
            .fetch_one(&mut *tx)
            .await
            .map_err(other)?;
            if open > 0 {
                return Err(StorageError::Invalid("pipeline", Problem::HasDeals));
            }
        }
        sqlx::query("UPDATE pipelines SET archived = $1 WHERE id = $2")
            .bind(archived)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(other)?;
        tx.commit().await.map_err(other)?;
        self.pipelines_impl(org).await?.into_iter().find(|p| p.id == id).ok_or(StorageError::NotFound)
    }

    /// Whose deals the board shows, as one list of people (None: everyone's),
    /// so each column reads its owners' index instead of joining people to
    /// find their department.
    async fn board_owners(&self, org: OrgId, f: &BoardFilter, v: Visibility) -> StorageResult<Option<Vec<UserId>>> {
        let mut owners: Option<Vec<UserId>> = None;
        let mut narrow = |ids: Vec<UserId>| {
            owners = Some(match owners.take() {
                None => ids,
                Some(before) => before.into_iter().filter(|id| ids.contains(id)).collect(),
            });
        };
        if let Some(manager) = f.manager_id {
            narrow(vec![manager]);
        }
        if let Some(department) = f.department_id {
            narrow(self.department_people(org, department).await?);
        }
        match v {
            Visibility::All => {}
            Visibility::Own { user } => narrow(vec![user]),
            Visibility::Department { department, user } => {
                let mut ids = match department {
                    Some(d) => self.department_people(org, d).await?,
                    None => Vec::new(),
                };
                ids.push(user);
                narrow(ids);
            }
        }
        Ok(owners)
    }

    /// Everyone in a department, former members' deals stay with whoever owns them now.
    async fn department_people(&self, org: OrgId, department: DeptId) -> StorageResult<Vec<UserId>> {
        sqlx::query_scalar("SELECT id FROM users WHERE org_id = $1 AND department_id = $2")
            .bind(org)
            .bind(department)
            .fetch_all(&self.read)
            .await
            .map_err(other)
    }

    async fn board_impl(&self, org: OrgId, f: &BoardFilter, v: Visibility, now_ms: i64) -> StorageResult<Board> {
        let stage_rows = sqlx::query(&format!(
            "SELECT {STAGE_COLUMNS} FROM stages WHERE pipeline_id = $1 AND NOT archived \
             AND pipeline_id IN (SELECT id FROM pipelines WHERE org_id = $2) ORDER BY position, id"
        ))
        .bind(f.pipeline_id)
        .bind(org)
        .fetch_all(&self.read)
        .await
        .map_err(other)?;
        if stage_rows.is_empty() {
            return Err(StorageError::Invalid("pipeline", Problem::Unknown));
        }
        let stages = stage_rows.iter().map(stage_from_row).collect::<StorageResult<Vec<_>>>()?;

        let owners = self.board_owners(org, f, v).await?;
        let owners = owners.as_deref();
        let searching = f.search.as_deref().is_some_and(|s| !s.trim().is_empty());
        // Each column reads its own index range; side by side on the read pool
        // the board takes about as long as its biggest column.
        let columns = futures::future::try_join_all(stages.into_iter().map(|stage| async move {
            if searching {
                self.searched_column(stage, f, owners, now_ms).await
            } else {
                self.board_column(stage, f, owners, now_ms).await
            }
        }))
        .await?;
        Ok(Board { pipeline_id: f.pipeline_id, columns, now_ms })
    }

    /// A column without a search: its count and sum come from an index alone,
    /// and its newest cards from walking that index in order.
    async fn board_column(
        &self,
        stage: Stage,
        f: &BoardFilter,
        owners: Option<&[UserId]>,
        now_ms: i64,
    ) -> StorageResult<Column> {
        let totals = if stage.kind == StageKind::Open && f.created_days.is_none() {
            self.open_column_totals(&stage, f, owners).await?
        } else {
            let mut q = QueryBuilder::<Db>::new(
                "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(d.amount), 0) AS BIGINT) AS total FROM deals d WHERE 1 = 1",
            );
            push_board_filter(&mut q, &stage, f, owners, now_ms);
            q.build().fetch_one(&self.read).await.map_err(other)?
        };
        let count: i64 = totals.try_get("n").map_err(other)?;
        let total: i64 = totals.try_get("total").map_err(other)?;
        if count == 0 {
            return Ok(Column { stage, count, total, cards: Vec::new() });
        }
        // A closed deal entered its stage when it closed; ordering by closed_at
        // walks deals_stage_totals instead of sorting every recent closing.
        let order = match stage.kind {
            StageKind::Open => "d.stage_entered_at",
            _ => "d.closed_at",
        };
        // The ids are picked first, from the indexes alone; only those
        // 100 deals are then joined to their manager and client.
        let mut q = QueryBuilder::<Db>::new(CARD_SELECT);
        q.push(" WHERE d.id IN (SELECT d.id FROM deals d WHERE 1 = 1");
        push_board_filter(&mut q, &stage, f, owners, now_ms);
        q.push(format!(" ORDER BY {order} DESC, d.id DESC LIMIT ")).push_bind(CARDS_PER_COLUMN);
        q.push(format!(") ORDER BY {order} DESC, d.id DESC"));
        let rows = q.build().fetch_all(&self.read).await.map_err(other)?;
        let cards = rows.iter().map(card_from_row).collect::<StorageResult<Vec<_>>>()?;
        Ok(Column { stage, count, total, cards })
    }

    /// An open column's count and sum from `deal_totals` (a row per owner
    /// and source), the same as counting the column's deals: the board's
    /// other filters (owners, source) are columns of it, and an open stage
    /// shows every deal in it.
    async fn open_column_totals(
        &self,
        stage: &Stage,
        f: &BoardFilter,
        owners: Option<&[UserId]>,
    ) -> StorageResult<DbRow> {
        let mut q = QueryBuilder::<Db>::new(
            "SELECT CAST(COALESCE(SUM(t.deals), 0) AS BIGINT) AS n, CAST(COALESCE(SUM(t.amount), 0) AS BIGINT) AS total \
             FROM deal_totals t WHERE t.stage_id = ",
        );
        q.push_bind(stage.id);
        push_owners(&mut q, "t.responsible_id", owners);
        if let Some(src) = f.source.as_deref().filter(|s| !s.is_empty()) {
            q.push(" AND t.source = ").push_bind(src.to_string());
        }
        q.build().fetch_one(&self.read).await.map_err(other)
    }

    /// A column with a search: one pass over the column's index entries
    /// (they carry the search text) returns every match's id and amount, and
    /// the count, the sum and the newest cards are taken from those. Asking
    /// the database for totals and cards separately would scan the column
    /// twice, and for a rare word the planner may pick a scan of every deal
    /// for the cards.
    async fn searched_column(
        &self,
        stage: Stage,
        f: &BoardFilter,
        owners: Option<&[UserId]>,
        now_ms: i64,
    ) -> StorageResult<Column> {
        let mut q = QueryBuilder::<Db>::new("SELECT d.id, d.amount FROM deals d WHERE 1 = 1");
        push_board_filter(&mut q, &stage, f, owners, now_ms);
        let mut matches: Vec<(DealId, i64)> = q.build_query_as().fetch_all(&self.read).await.map_err(other)?;
        let count = matches.len() as i64;
        let total = matches.iter().map(|(_, amount)| i128::from(*amount)).sum::<i128>();
        let total =
            i64::try_from(total).map_err(|_| StorageError::Other("a column's sum does not fit in 64 bits".into()))?;
        // Search results come newest deal first.
        matches.sort_unstable_by_key(|m| std::cmp::Reverse(m.0));
        matches.truncate(CARDS_PER_COLUMN as usize);
        if matches.is_empty() {
            return Ok(Column { stage, count, total, cards: Vec::new() });
        }
        let mut q = QueryBuilder::<Db>::new(CARD_SELECT);
        q.push(" WHERE d.id IN (");
        let mut ids = q.separated(", ");
        for (id, _) in &matches {
            ids.push_bind(*id);
        }
        q.push(") ORDER BY d.id DESC");
        let rows = q.build().fetch_all(&self.read).await.map_err(other)?;
        let cards = rows.iter().map(card_from_row).collect::<StorageResult<Vec<_>>>()?;
        Ok(Column { stage, count, total, cards })
    }

    async fn deal_head_on<'e, E>(executor: E, org: OrgId, id: DealId) -> StorageResult<Option<DealHead>>
    where
        E: sqlx::Executor<'e, Database = Db>,
    {
        let row = sqlx::query(
            "SELECT d.id, d.pipeline_id, d.stage_id, d.version, d.responsible_id, u.department_id, d.amount \
             FROM deals d JOIN users u ON u.id = d.responsible_id WHERE d.id = $1 AND d.org_id = $2",
        )
        .bind(id)
        .bind(org)
        .fetch_optional(executor)
        .await
        .map_err(other)?;
        row.as_ref().map(deal_head_from_row).transpose()
    }

    async fn replay(tx: &mut Tx, actor: UserId, key: &str) -> StorageResult<Option<Moved>> {
        let row = sqlx::query(
            "SELECT deal_id AS done_deal, stage_id AS done_stage, version AS done_version, skipped AS done_skipped \
             FROM move_keys WHERE actor_id = $1 AND idem_key = $2",
        )
        .bind(actor)
        .bind(key)
        .fetch_optional(&mut **tx)
        .await
        .map_err(other)?;
        Ok(row.as_ref().map(replayed_from_row).transpose()?.flatten())
    }

    /// Stores the answer under the move's key; false if the key was taken meanwhile.
    #[allow(clippy::too_many_arguments)]
    async fn claim_key(
        tx: &mut Tx,
        actor: UserId,
        key: &str,
        deal: DealId,
        stage: StageId,
        version: i64,
        skipped: &[StageId],
        now_ms: i64,
    ) -> StorageResult<bool> {
        let done = sqlx::query(
            "INSERT INTO move_keys (actor_id, idem_key, deal_id, stage_id, version, skipped, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        )
        .bind(actor)
        .bind(key)
        .bind(deal)
        .bind(stage)
        .bind(version)
        .bind(ids_text(skipped))
        .bind(now_ms)
        .execute(&mut **tx)
        .await
        .map_err(other)?;
        Ok(done.rows_affected() == 1)
    }

    /// The answer to a move whose key already has one: the stored move when
    /// the key was used for this deal, a conflict when for another.
    fn answer_for_key(done: Moved, req: &MoveRequest) -> StorageResult<MoveOutcome> {
        if done.deal_id == req.deal_id {
            Ok(MoveOutcome::Moved(done))
        } else {
            Err(StorageError::Conflict)
        }
    }

    /// The answer stored under the request's key by a transaction that claimed it first.
    async fn replayed_move(tx: &mut Tx, actor: UserId, req: &MoveRequest) -> StorageResult<MoveOutcome> {
        let done = Self::replay(tx, actor, &req.key).await?.ok_or(StorageError::Conflict)?;
        Self::answer_for_key(done, req)
    }

    /// A move's reads and writes inside the caller's transaction. `Ok(Some)`
    /// is the answer, to be committed with whatever was written for it (a
    /// blocked move records its violation); an error leaves writes the caller
    /// must roll back; `None` means another transaction claimed the request's
    /// key meanwhile, so this one's writes are rolled back and that answer given.
    async fn move_in(
        tx: &mut Tx,
        org: OrgId,
        actor: UserId,
        req: &MoveRequest,
        now_ms: i64,
    ) -> StorageResult<Option<MoveOutcome>> {
        let head = Self::move_head(tx, org, actor, req).await?.ok_or(StorageError::NotFound)?;
        if let Some(done) = head.done {
            return Self::answer_for_key(done, req).map(Some);
        }
        let deal = &head.deal;
        if deal.version != req.version {
            return Err(StorageError::Conflict);
        }
        let stages = Self::stages_of_pipeline(tx, deal.pipeline_id).await?;
        let Some(target) = stages.iter().find(|s| s.id == req.to_stage_id && !s.archived) else {
            return Err(StorageError::Invalid("stage", Problem::Unknown));
        };
        if target.id == deal.stage_id {
            // Nothing to move, but a retry must still get this same answer.
            Self::claim_key(tx, actor, &req.key, deal.id, target.id, deal.version, &[], now_ms).await?;
            return Ok(Some(MoveOutcome::Moved(Moved {
                deal_id: deal.id,
                stage_id: target.id,
                version: deal.version,
                replayed: false,
                skipped: vec![],
            })));
        }
        let loss_reason = match target.kind {
            StageKind::Lost => {
                Some(req.loss_reason.clone().ok_or(StorageError::Invalid("loss_reason", Problem::Required))?)
            }
            _ => None,
        };
        let from_kind = stages.iter().find(|s| s.id == deal.stage_id).map(|s| s.kind).ok_or(StorageError::NotFound)?;
        // Every stage entry, oldest first: the stages visited, and the track the funnel is computed from.
        let mut entries: Vec<(i64, StageId)> = sqlx::query_as(
            "SELECT at, to_stage_id FROM deal_events WHERE deal_id = $1 AND to_stage_id IS NOT NULL ORDER BY at, id",
        )
        .bind(deal.id)
        .fetch_all(&mut **tx)
        .await
        .map_err(other)?;
        let visited: Vec<StageId> = entries.iter().map(|(_, stage)| *stage).collect();
        let skipped = skipped_required(&stages, deal.stage_id, target.id, &visited);
        let record_violation = |blocked: bool| {
            sqlx::query(
                "INSERT INTO stage_violations (org_id, deal_id, actor_id, at, from_stage_id, to_stage_id, blocked) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(org)
            .bind(deal.id)
            .bind(actor)
            .bind(now_ms)
            .bind(deal.stage_id)
            .bind(target.id)
            .bind(blocked)
        };
        if !skipped.is_empty() && head.block_skips {
            record_violation(true).execute(&mut **tx).await.map_err(other)?;
            return Ok(Some(MoveOutcome::Blocked(skipped)));
        }
        let version = deal.version + 1;
        // The key goes in first: a concurrent retry with the same key waits here
        // for this transaction and then finds the answer instead of moving twice.
        let claimed = Self::claim_key(tx, actor, &req.key, deal.id, target.id, version, &skipped, now_ms).await?;
        if !claimed {
            return Ok(None);
        }
        let closed_at = (target.kind != StageKind::Open).then_some(now_ms);
        let updated = sqlx::query(
            "UPDATE deals SET stage_id = $1, stage_entered_at = $2, version = $3, closed_at = $4, loss_reason = $5 \
             WHERE id = $6 AND version = $7",
        )
        .bind(target.id)
        .bind(now_ms)
        .bind(version)
        .bind(closed_at)
        .bind(loss_reason)
        .bind(deal.id)
        .bind(deal.version)
        .execute(&mut **tx)
        .await
        .map_err(other)?;
        if updated.rows_affected() == 0 {
            return Err(StorageError::Conflict);
        }
        sqlx::query(
            "INSERT INTO deal_events (org_id, deal_id, actor_id, at, kind, from_stage_id, to_stage_id, amount, \
             skipped_required) VALUES ($1, $2, $3, $4, 'stage', $5, $6, $7, $8)",
        )
        .bind(org)
        .bind(deal.id)
        .bind(actor)
        .bind(now_ms)
        .bind(deal.stage_id)
        .bind(target.id)
        .bind(deal.amount)
        .bind(!skipped.is_empty())
        .execute(&mut **tx)
        .await
        .map_err(other)?;
        if !skipped.is_empty() {
            record_violation(false).execute(&mut **tx).await.map_err(other)?;
        }
        // The deal was read under the version the update checked, so its
        // funnel track and KPI shares follow from what was read plus this
        // move, without reading them back. The new event has the highest id:
        // it comes after every entry at the same instant.
        let tz = zone(&head.time_zone);
        let day = |ms: i64| day_in(&tz, ms);
        let at = entries.partition_point(|(at, _)| *at <= now_ms);
        entries.insert(at, (now_ms, target.id));
        let track = Track {
            deal_id: deal.id,
            responsible_id: deal.responsible_id,
            source: head.source.clone(),
            repeat: head.repeat_client,
            amount: deal.amount,
            created_at: head.created_at,
            entries,
        };
        Self::write_track(tx, org, deal.pipeline_id, &track, &tz, &app::funnel::Steps::of(&stages)).await?;
        let before = DealFacts {
            responsible_id: deal.responsible_id,
            stage_kind: from_kind,
            amount: deal.amount,
            created_at: head.created_at,
            closed_at: head.closed_at,
            repeat_client: head.repeat_client,
            csat: head.csat,
            nps: head.nps,
        };
        let after = DealFacts { stage_kind: target.kind, closed_at, ..before.clone() };
        let kpi_changes = share_changes(deal_shares(&before, day).as_slice(), deal_shares(&after, day).as_slice());
        Self::add_kpi_changes(tx, org, &kpi_changes).await?;
        Ok(Some(MoveOutcome::Moved(Moved { deal_id: deal.id, stage_id: target.id, version, replayed: false, skipped })))
    }

    /// What a move reads of its deal in one statement: the head, the facts
    /// its funnel track and KPI shares are computed from, the organisation's
    /// zone, the pipeline's rule on skipped stages, and the answer already
    /// given under the request's key. Deals are never deleted, so a key's
    /// deal is always there to join.
    async fn move_head(tx: &mut Tx, org: OrgId, actor: UserId, req: &MoveRequest) -> StorageResult<Option<MoveHead>> {
        let row = sqlx::query(
            "SELECT d.id, d.pipeline_id, d.stage_id, d.version, d.responsible_id, u.department_id, d.amount, \
             d.source, d.repeat_client, d.created_at, d.closed_at, d.csat, d.nps, o.time_zone, p.block_skips, \
             k.deal_id AS done_deal, k.stage_id AS done_stage, k.version AS done_version, k.skipped AS done_skipped \
             FROM deals d JOIN users u ON u.id = d.responsible_id JOIN organizations o ON o.id = d.org_id \
             JOIN pipelines p ON p.id = d.pipeline_id \
             LEFT JOIN move_keys k ON k.actor_id = $3 AND k.idem_key = $4 WHERE d.id = $1 AND d.org_id = $2",
        )
        .bind(req.deal_id)
        .bind(org)
        .bind(actor)
        .bind(req.key.as_str())
        .fetch_optional(&mut **tx)
        .await
        .map_err(other)?;
        row.map(|r| {
            Ok(MoveHead {
                done: replayed_from_row(&r)?,
                deal: deal_head_from_row(&r)?,
                source: r.try_get("source").map_err(other)?,
                repeat_client: r.try_get("repeat_client").map_err(other)?,
                created_at: r.try_get("created_at").map_err(other)?,
                closed_at: r.try_get("closed_at").map_err(other)?,
                csat: r.try_get("csat").map_err(other)?,
                nps: r.try_get("nps").map_err(other)?,
                time_zone: r.try_get("time_zone").map_err(other)?,
                block_skips: r.try_get("block_skips").map_err(other)?,
            })
        })
        .transpose()
    }

    async fn deal_page_impl(&self, org: OrgId, id: DealId, now_ms: i64) -> StorageResult<Option<DealPage>> {
        let row = sqlx::query(&format!("{DEAL_SELECT} WHERE d.id = $1 AND d.org_id = $2"))
            .bind(id)
            .bind(org)
            .fetch_optional(&self.read)
            .await
            .map_err(other)?;
        let Some(row) = row else { return Ok(None) };
        let deal = deal_from_row(&row)?;
        let events = sqlx::query(
            "SELECT e.id, e.at, e.kind, u.name AS actor, e.from_stage_id, e.to_stage_id, fu.name AS from_user, \
             tu.name AS to_user, e.amount, e.skipped_required FROM deal_events e JOIN users u ON u.id = e.actor_id \
             LEFT JOIN users fu ON fu.id = e.from_user_id LEFT JOIN users tu ON tu.id = e.to_user_id \
             WHERE e.deal_id = $1 ORDER BY e.id",
        )
        .bind(id)
        .fetch_all(&self.read)
        .await
        .map_err(other)?
        .iter()
        .map(|r| {
            Ok(DealEvent {
                id: r.try_get("id").map_err(other)?,
                at: r.try_get("at").map_err(other)?,
                kind: parse_col(r, "kind")?,
                actor: r.try_get("actor").map_err(other)?,
                from_stage_id: r.try_get("from_stage_id").map_err(other)?,
                to_stage_id: r.try_get("to_stage_id").map_err(other)?,
                from_user: r.try_get("from_user").map_err(other)?,
                to_user: r.try_get("to_user").map_err(other)?,
                amount: r.try_get("amount").map_err(other)?,
                skipped_required: r.try_get("skipped_required").map_err(other)?,
            })
        })
        .collect::<StorageResult<Vec<_>>>()?;
        let activities =
            sqlx::query(&format!("{ACTIVITY_SELECT} WHERE a.deal_id = $1 ORDER BY a.at DESC, a.id DESC LIMIT 100"))
                .bind(id)
                .fetch_all(&self.read)
                .await
                .map_err(other)?
                .iter()
                .map(activity_from_row)
                .collect::<StorageResult<Vec<_>>>()?;
        Ok(Some(DealPage { deal, events, activities, now_ms }))
    }

    /// The organisation's client of this name, created if new.
    async fn client_named(tx: &mut Tx, org: OrgId, name: &str, responsible: UserId, now_ms: i64) -> StorageResult<i64> {
        let found: Option<i64> = sqlx::query_scalar("SELECT MIN(id) FROM clients WHERE org_id = $1 AND name = $2")
            .bind(org)
            .bind(name)
            .fetch_one(&mut **tx)
            .await
            .map_err(other)?;
        if let Some(id) = found {
            return Ok(id);
        }
        let id = sqlx::query_scalar(
            "INSERT INTO clients (org_id, name, kind, responsible_id, created_at, search) \
             VALUES ($1, $2, 'company', $3, $4, $5) RETURNING id",
        )
        .bind(org)
        .bind(name)
        .bind(responsible)
        .bind(now_ms)
        .bind(client_search_text(name, "", ""))
        .fetch_one(&mut **tx)
        .await
        .map_err(other)?;
        KpiWatch::inserted(tx, org, vec![KpiRecord::Client(id)]).await?;
        Ok(id)
    }

    async fn insert_deal(tx: &mut Tx, org: OrgId, actor: UserId, deal: &NewDeal, now_ms: i64) -> StorageResult<DealId> {
        let (_, archived, stages) = Self::pipeline_stages(tx, org, deal.pipeline_id).await?;
        if archived {
            return Err(StorageError::Invalid("pipeline", Problem::Unknown));
        }
        let first = stages
            .iter()
            .find(|s| !s.archived && s.kind == StageKind::Open)
            .ok_or(StorageError::Invalid("pipeline", Problem::Unknown))?;
        let client_id = match deal.client_name.as_deref() {
            Some(name) => Some(Self::client_named(tx, org, name, deal.responsible_id, now_ms).await?),
            None => None,
        };
        let (rubles, currency_amount) = Self::in_rubles(tx, org, deal.currency, deal.amount).await?;
        let id: DealId = sqlx::query_scalar(
            "INSERT INTO deals (org_id, pipeline_id, stage_id, title, amount, currency, currency_amount, client_id, \
             lead_id, source, responsible_id, created_at, stage_entered_at, search) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13) RETURNING id",
        )
        .bind(org)
        .bind(deal.pipeline_id)
        .bind(first.id)
        .bind(&deal.title)
        .bind(rubles)
        .bind(deal.currency)
        .bind(currency_amount)
        .bind(client_id)
        .bind(deal.lead_id)
        .bind(&deal.source)
        .bind(deal.responsible_id)
        .bind(now_ms)
        .bind(deal_search_text(&deal.title, deal.client_name.as_deref()))
        .fetch_one(&mut **tx)
        .await
        .map_err(other)?;
        sqlx::query(
            "INSERT INTO deal_events (org_id, deal_id, actor_id, at, kind, to_stage_id, to_user_id, amount) \
             VALUES ($1, $2, $3, $4, 'created', $5, $6, $7)",
        )
        .bind(org)
        .bind(id)
        .bind(actor)
        .bind(now_ms)
        .bind(first.id)
        .bind(deal.responsible_id)
        .bind(rubles)
        .execute(&mut **tx)
        .await
        .map_err(other)?;
        Self::set_repeat_client(tx, org, id, id).await?;
        Self::refresh_funnel(tx, id, None, Some(&app::funnel::Steps::of(&stages))).await?;
        KpiWatch::inserted(tx, org, vec![KpiRecord::Deal(id)]).await?;
        Ok(id)
    }

    /// An amount in `currency` as stored: in roubles, and as typed when the
    /// currency is foreign. The rate is read in the writing transaction, so
    /// the deal gets the rate in force when it is saved.
    async fn in_rubles(
        tx: &mut Tx,
        org: OrgId,
        currency: &str,
        amount: Money,
    ) -> StorageResult<(Money, Option<Money>)> {
        if currency == app::pipeline::currency::BASE {
            return Ok((amount, None));
        }
        let rate: Option<i64> =
            sqlx::query_scalar("SELECT rate FROM currency_rates WHERE org_id = $1 AND currency = $2")
                .bind(org)
                .bind(currency)
                .fetch_optional(&mut **tx)
                .await
                .map_err(other)?;
        let rate = rate.ok_or(StorageError::Invalid("currency", Problem::NoRate))?;
        let rubles = app::pipeline::currency::to_rubles(amount, rate)
            .map_err(|_| StorageError::Invalid("amount", Problem::TooLarge))?;
        Ok((rubles, Some(amount)))
    }

    async fn create_deal_impl(
        &self,
        org: OrgId,
        actor: UserId,
        deal: &NewDeal,
        now_ms: i64,
    ) -> StorageResult<DealHead> {
        let mut tx = self.begin_write().await?;
        let id = Self::insert_deal(&mut tx, org, actor, deal, now_ms).await?;
        let head = Self::deal_head_on(&mut *tx, org, id).await?.ok_or(StorageError::NotFound)?;
        tx.commit().await.map_err(other)?;
        Ok(head)
    }

    async fn add_activity_impl(&self, org: OrgId, a: &NewActivity, now_ms: i64) -> StorageResult<Activity> {
        let mut tx = self.begin_write().await?;
        let mut at = a.at.unwrap_or(now_ms);
        let about = match (a.deal_id, a.lead_id, a.client_id) {
            (Some(id), _, _) => Some(("deals", id)),
            (None, Some(id), _) => Some(("leads", id)),
            (None, None, Some(id)) => Some(("clients", id)),
            (None, None, None) => None,
        };
        if let Some((table, id)) = about {
            let created: Option<i64> =
                sqlx::query_scalar(&format!("SELECT created_at FROM {table} WHERE id = $1 AND org_id = $2"))
                    .bind(id)
                    .bind(org)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(other)?;
            match created {
                None => return Err(StorageError::NotFound),
                // The form's times are whole minutes: the minute the record was created in is its moment.
                Some(created) if at < created && created - at < 60_000 => at = created,
                Some(created) if at < created => return Err(StorageError::Invalid("at", Problem::BeforeCreated)),
                Some(_) => {}
            }
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO activities (org_id, kind, user_id, deal_id, lead_id, client_id, at, duration_s, note) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(org)
        .bind(a.kind.as_str())
        .bind(a.user_id)
        .bind(a.deal_id)
        .bind(a.lead_id)
        .bind(a.client_id)
        .bind(at)
        .bind(a.duration_s)
        .bind(&a.note)
        .fetch_one(&mut *tx)
        .await
        .map_err(other)?;
        KpiWatch::inserted(&mut tx, org, vec![KpiRecord::Activity(id)]).await?;
        if let Some(lead) = a.lead_id {
            Self::lock_lead(&mut tx, org, lead).await?;
            let kpis = KpiWatch::start(&mut tx, org, vec![KpiRecord::Lead(lead)]).await?;
            // A call logged afterwards, dated back, may be the earlier first response.
            sqlx::query(
                "UPDATE leads SET first_response_at = $1 WHERE id = $2 \
                 AND (first_response_at IS NULL OR first_response_at > $1)",
            )
            .bind(at)
            .bind(lead)
            .execute(&mut *tx)
            .await
            .map_err(other)?;
            kpis.finish(&mut tx).await?;
            Self::mark_silent_leads(&mut tx, org, lead, lead).await?;
        }
        let row = sqlx::query(&format!("{ACTIVITY_SELECT} WHERE a.id = $1"))
            .bind(id)
            .fetch_one(&mut *tx)
            .await
            .map_err(other)?;
        tx.commit().await.map_err(other)?;
        activity_from_row(&row)
    }

    async fn activity_on<'e, E>(executor: E, org: OrgId, id: i64) -> StorageResult<Option<Activity>>
    where
        E: sqlx::Executor<'e, Database = Db>,
    {
        let row = sqlx::query(&format!("{ACTIVITY_SELECT} WHERE a.id = $1 AND a.org_id = $2"))
            .bind(id)
            .bind(org)
            .fetch_optional(executor)
            .await
            .map_err(other)?;
        row.as_ref().map(activity_from_row).transpose()
    }

    async fn activity_impl(&self, org: OrgId, id: i64) -> StorageResult<Option<Activity>> {
        Self::activity_on(&self.read, org, id).await
    }

    async fn update_activity_impl(&self, org: OrgId, edit: &ActivityEdit) -> StorageResult<Activity> {
        let mut tx = self.begin_write().await?;
        // The edit is checked against the version it was read at, so the
        // shares read here are the ones it changes.
        let kpis = KpiWatch::start(&mut tx, org, vec![KpiRecord::Activity(edit.id)]).await?;
        let updated = sqlx::query(
            "UPDATE activities SET kind = $1, duration_s = $2, note = $3, version = version + 1 \
             WHERE id = $4 AND org_id = $5 AND version = $6",
        )
        .bind(edit.kind.as_str())
        .bind(edit.duration_s)
        .bind(&edit.note)
        .bind(edit.id)
        .bind(org)
        .bind(edit.version)
        .execute(&mut *tx)
        .await
        .map_err(other)?;
        let activity = Self::activity_on(&mut *tx, org, edit.id).await?.ok_or(StorageError::NotFound)?;
        if updated.rows_affected() == 0 {
            return Err(StorageError::Conflict);
        }
        kpis.finish(&mut tx).await?;
        tx.commit().await.map_err(other)?;
        Ok(activity)
    }

    async fn currency_rates_impl(&self, org: OrgId) -> StorageResult<Vec<CurrencyRate>> {
        let rows = sqlx::query(&format!("{RATE_SELECT} WHERE r.org_id = $1 ORDER BY r.currency"))
            .bind(org)
            .fetch_all(&self.read)
            .await
            .map_err(other)?;
        rows.iter().map(rate_from_row).collect()
    }

    async fn set_currency_rate_impl(
        &self,
        org: OrgId,
        actor: UserId,
        currency: &str,
        rate: i64,
        now_ms: i64,
    ) -> StorageResult<CurrencyRate> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO currency_rates (org_id, currency, rate, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (org_id, currency) DO UPDATE SET rate = excluded.rate, updated_at = excluded.updated_at, \
             updated_by = excluded.updated_by",
        )
        .bind(org)
        .bind(currency)
        .bind(rate)
        .bind(now_ms)
        .bind(actor)
        .execute(&mut *tx)
        .await
        .map_err(other)?;
        let row = sqlx::query(&format!("{RATE_SELECT} WHERE r.org_id = $1 AND r.currency = $2"))
            .bind(org)
            .bind(currency)
            .fetch_one(&mut *tx)
            .await
            .map_err(other)?;
        tx.commit().await.map_err(other)?;
        rate_from_row(&row)
    }

    async fn violations_impl(&self, org: OrgId, v: Visibility, limit: i64) -> StorageResult<Vec<Violation>> {
        let mut q = QueryBuilder::<Db>::new(
            "SELECT sv.deal_id, d.title, a.name AS actor, sv.at, sv.from_stage_id, sv.to_stage_id, sv.blocked \
             FROM stage_violations sv JOIN deals d ON d.id = sv.deal_id JOIN users u ON u.id = d.responsible_id \
             JOIN users a ON a.id = sv.actor_id WHERE sv.org_id = ",
        );
        q.push_bind(org);
        push_visibility(&mut q, v, "d.responsible_id", "u.department_id");
        q.push(" ORDER BY sv.at DESC, sv.id DESC LIMIT ").push_bind(limit);
        let rows = q.build().fetch_all(&self.read).await.map_err(other)?;
        rows.iter()
            .map(|r| {
                Ok(Violation {
                    deal_id: r.try_get("deal_id").map_err(other)?,
                    deal_title: r.try_get("title").map_err(other)?,
                    actor: r.try_get("actor").map_err(other)?,
                    at: r.try_get("at").map_err(other)?,
                    from_stage_id: r.try_get("from_stage_id").map_err(other)?,
                    to_stage_id: r.try_get("to_stage_id").map_err(other)?,
                    blocked: r.try_get("blocked").map_err(other)?,
                })
            })
            .collect()
    }

    async fn lead_on<'e, E>(executor: E, org: OrgId, id: LeadId) -> StorageResult<Option<Lead>>
    where
        E: sqlx::Executor<'e, Database = Db>,
    {
        let row = sqlx::query(&format!("{LEAD_SELECT} WHERE l.id = $1 AND l.org_id = $2"))
            .bind(id)
            .bind(org)
            .fetch_optional(executor)
            .await
            .map_err(other)?;
        row.as_ref().map(lead_from_row).transpose()
    }

    async fn lead_head_impl(&self, org: OrgId, id: LeadId) -> StorageResult<Option<LeadHead>> {
        let row = sqlx::query(
            "SELECT l.id, l.status, l.responsible_id, u.department_id FROM leads l \
             LEFT JOIN users u ON u.id = l.responsible_id WHERE l.id = $1 AND l.org_id = $2",
        )
        .bind(id)
        .bind(org)
        .fetch_optional(&self.read)
        .await
        .map_err(other)?;
        row.map(|r| {
            Ok(LeadHead {
                id: r.try_get("id").map_err(other)?,
                status: parse_col(&r, "status")?,
                responsible_id: r.try_get("responsible_id").map_err(other)?,
                department_id: r.try_get("department_id").map_err(other)?,
            })
        })
        .transpose()
    }

    async fn create_lead_impl(
        &self,
        org: OrgId,
        lead: &NewLeadForm,
        responsible: UserId,
        now_ms: i64,
    ) -> StorageResult<Lead> {
        let mut tx = self.begin_write().await?;
        let id: LeadId = sqlx::query_scalar(
            "INSERT INTO leads (org_id, title, source, contact_name, phone, email, status, responsible_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'new', $7, $8) RETURNING id",
        )
        .bind(org)
        .bind(&lead.title)
        .bind(&lead.source)
        .bind(&lead.contact_name)
        .bind(&lead.phone)
        .bind(&lead.email)
        .bind(responsible)
        .bind(now_ms)
        .fetch_one(&mut *tx)
        .await
        .map_err(other)?;
        KpiWatch::inserted(&mut tx, org, vec![KpiRecord::Lead(id)]).await?;
        let lead = Self::lead_on(&mut *tx, org, id).await?.ok_or(StorageError::NotFound)?;
        tx.commit().await.map_err(other)?;
        Ok(lead)
    }

    /// Holds the lead's row until the transaction ends (PostgreSQL), so what
    /// is read of it next stays true; SQLite's one writer holds everything.
    async fn lock_lead(tx: &mut Tx, org: OrgId, id: LeadId) -> StorageResult<()> {
        sqlx::query("UPDATE leads SET version = version WHERE id = $1 AND org_id = $2")
            .bind(id)
            .bind(org)
            .execute(&mut **tx)
            .await
            .map_err(other)?;
        Ok(())
    }

    /// Gives the qualified lead's client the lead's phone and e-mail where
    /// the client has none yet; what a colleague already entered is kept.
    /// Clients are matched by name, so only a client of the lead's own
    /// responsible (a new one always is) takes them: another person's client
    /// of the same name does not get this lead's contacts.
    async fn fill_client_contacts(tx: &mut Tx, lead_id: LeadId, responsible: UserId, lead: &Lead) -> StorageResult<()> {
        // Holds the client's row (PostgreSQL) so a colleague's save made meanwhile is not written over.
        sqlx::query(
            "UPDATE clients SET phone = phone WHERE id = (SELECT client_id FROM leads WHERE id = $1) \
             AND responsible_id = $2",
        )
        .bind(lead_id)
        .bind(responsible)
        .execute(&mut **tx)
        .await
        .map_err(other)?;
        let row = sqlx::query(
            "SELECT c.id, c.name, c.phone, c.email FROM clients c JOIN leads l ON l.client_id = c.id \
             WHERE l.id = $1 AND c.responsible_id = $2",
        )
        .bind(lead_id)
        .bind(responsible)
        .fetch_optional(&mut **tx)
        .await
        .map_err(other)?;
        let Some(row) = row else { return Ok(()) };
        let text = |c: &str| row.try_get::<String, _>(c).map_err(other);
        let (name, phone, email) = (text("name")?, text("phone")?, text("email")?);
        let phone = if phone.is_empty() { lead.phone.clone() } else { phone };
        let email = if email.is_empty() { lead.email.clone() } else { email };
        sqlx::query("UPDATE clients SET phone = $1, email = $2, search = $3 WHERE id = $4")
            .bind(&phone)
            .bind(&email)
            .bind(client_search_text(&name, &phone, &email))
            .bind(row.try_get::<i64, _>("id").map_err(other)?)
            .execute(&mut **tx)
            .await
            .map_err(other)?;
        Ok(())
    }

    async fn set_lead_status_impl(
        &self,
        org: OrgId,
        actor: UserId,
        id: LeadId,
        change: &LeadChange,
        now_ms: i64,
    ) -> StorageResult<Lead> {
        let (status, reason, pipeline) = (change.status, change.reason.as_deref(), change.pipeline);
        let mut tx = self.begin_write().await?;
        Self::lock_lead(&mut tx, org, id).await?;
        let lead = Self::lead_on(&mut *tx, org, id).await?.ok_or(StorageError::NotFound)?;
        let kpis = KpiWatch::start(&mut tx, org, vec![KpiRecord::Lead(id)]).await?;
        let allowed = matches!(
            (lead.status, status),
            (LeadStatus::New, LeadStatus::InWork | LeadStatus::Qualified | LeadStatus::Disqualified)
                | (LeadStatus::InWork, LeadStatus::Qualified | LeadStatus::Disqualified)
                | (LeadStatus::Disqualified, LeadStatus::InWork)
        );
        if !allowed {
            return Err(StorageError::Invalid("status", Problem::Unknown));
        }
        let reason = match status {
            LeadStatus::Disqualified => {
                Some(reason.ok_or(StorageError::Invalid("disqualify_reason", Problem::Required))?)
            }
            _ => None,
        };
        if status == LeadStatus::Qualified {
            let pipeline = pipeline.ok_or(StorageError::Invalid("pipeline", Problem::Required))?;
            let client = if lead.contact_name.is_empty() { lead.title.clone() } else { lead.contact_name.clone() };
            let responsible = lead.responsible_id.unwrap_or(actor);
            let deal = NewDeal {
                pipeline_id: pipeline,
                title: lead.title.clone(),
                amount: 0,
                currency: app::pipeline::currency::BASE,
                client_name: Some(client.clone()),
                source: lead.source.clone(),
                responsible_id: responsible,
                lead_id: Some(lead.id),
            };
            Self::insert_deal(&mut tx, org, actor, &deal, now_ms).await?;
            sqlx::query("UPDATE leads SET client_id = (SELECT MIN(id) FROM clients WHERE org_id = $1 AND name = $2) WHERE id = $3")
                .bind(org)
                .bind(&client)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(other)?;
            Self::fill_client_contacts(&mut tx, id, responsible, &lead).await?;
        }
        sqlx::query(
            "UPDATE leads SET status = $1, disqualify_reason = $2, first_response_at = COALESCE(first_response_at, $3), \
             disqualified_at = CASE WHEN $2 IS NULL THEN NULL ELSE $3 END, version = version + 1 WHERE id = $4",
        )
        .bind(status.as_str())
        .bind(reason)
        .bind(now_ms)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(other)?;
        kpis.finish(&mut tx).await?;
        Self::mark_silent_leads(&mut tx, org, id, id).await?;
        let lead = Self::lead_on(&mut *tx, org, id).await?.ok_or(StorageError::NotFound)?;
        tx.commit().await.map_err(other)?;
        Ok(lead)
    }
}

const ACTIVITY_SELECT: &str = "SELECT a.id, a.kind, a.user_id, u.name AS user_name, a.at, a.duration_s, a.note, \
     a.version, a.deal_id, a.lead_id, a.client_id, COALESCE(ad.title, al.title, ac.name, '') AS subject \
     FROM activities a JOIN users u ON u.id = a.user_id LEFT JOIN deals ad ON ad.id = a.deal_id \
     LEFT JOIN leads al ON al.id = a.lead_id LEFT JOIN clients ac ON ac.id = a.client_id";

fn activity_from_row(row: &DbRow) -> StorageResult<Activity> {
    Ok(Activity {
        id: row.try_get("id").map_err(other)?,
        kind: parse_col(row, "kind")?,
        user_id: row.try_get("user_id").map_err(other)?,
        user: row.try_get("user_name").map_err(other)?,
        at: row.try_get("at").map_err(other)?,
        duration_s: row.try_get("duration_s").map_err(other)?,
        note: row.try_get("note").map_err(other)?,
        deal_id: row.try_get("deal_id").map_err(other)?,
        lead_id: row.try_get("lead_id").map_err(other)?,
        client_id: row.try_get("client_id").map_err(other)?,
        subject: row.try_get("subject").map_err(other)?,
        version: row.try_get("version").map_err(other)?,
    })
}
