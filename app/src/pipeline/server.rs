//! Server functions of the pipeline. Rights: module Deals for pipelines,
//! deals and their activities, module Leads for leads; a deal belongs to its
//! responsible manager and that manager's department. Pipeline setup needs
//! the Deals edit right over at least a department (heads and admins).

use leptos::prelude::*;

use super::lists::{ActivityFilter, ActivityList, Client, ClientFilter, ClientForm, ClientList, DealFilter, DealList};
use super::{
    Activity, Board, BoardFilter, DealId, DealPage, Lead, LeadFilter, LeadId, LeadPage, LeadStatus, MoveRequest, Moved,
    NewActivityForm, NewDealForm, NewLeadForm, Pipeline, PipelineId, Stage, StageForm, Violation,
};
use super::{ActivityEdit, DealEdit, LeadEdit};
use crate::error::AppError;

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use crate::access::guard::{Authorized, Ctx};
    use crate::access::{Action, Module, Owner, Scope};
    use crate::error::{AppError, Problem};
    use crate::org::{OrgId, User, UserId};
    use crate::pipeline::live::{Change, Subject};
    use crate::pipeline::{ClientId, DealId, LeadId, PipelineId};
    use crate::storage::{DealHead, LeadHead};

    pub fn now_ms() -> i64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
    }

    pub fn deal_owner(d: &DealHead) -> Owner {
        Owner { user: Some(d.responsible_id), department: d.department_id }
    }

    pub fn user_owner(u: &User) -> Owner {
        Owner { user: Some(u.id), department: u.department_id }
    }

    pub fn lead_owner(l: &LeadHead) -> Owner {
        Owner { user: l.responsible_id, department: l.department_id }
    }

    /// The deal, if it exists in the caller's organisation and the right covers it.
    pub async fn permitted_deal(ctx: &Ctx, auth: &Authorized, id: DealId) -> Result<DealHead, AppError> {
        let deal = ctx.storage().deal_head(auth.user.org_id, id).await?.ok_or(AppError::NotFound)?;
        auth.check(deal_owner(&deal))?;
        Ok(deal)
    }

    pub async fn permitted_client(ctx: &Ctx, auth: &Authorized, id: ClientId) -> Result<(), AppError> {
        let client = ctx.storage().client_head(auth.user.org_id, id).await?.ok_or(AppError::NotFound)?;
        auth.check(Owner { user: client.responsible_id, department: client.department_id })
    }

    pub async fn permitted_lead(ctx: &Ctx, auth: &Authorized, id: LeadId) -> Result<LeadHead, AppError> {
        let lead = ctx.storage().lead_head(auth.user.org_id, id).await?.ok_or(AppError::NotFound)?;
        auth.check(lead_owner(&lead))?;
        Ok(lead)
    }

    /// Pipelines are organisation-wide, so changing them takes more than one's own deals.
    pub async fn pipeline_admin(ctx: &Ctx) -> Result<Authorized, AppError> {
        let auth = ctx.authorize(Module::Deals, Action::Edit).await?;
        if auth.grant.scope < Scope::Department {
            return Err(AppError::Forbidden);
        }
        Ok(auth)
    }

    /// A person of the caller's organisation who may own deals.
    pub async fn colleague(ctx: &Ctx, org: OrgId, id: UserId, field: &str) -> Result<User, AppError> {
        match ctx.storage().user(id).await? {
            Some(u) if u.org_id == org && u.active => Ok(u),
            _ => Err(AppError::invalid(field, Problem::Unknown)),
        }
    }

    pub fn publish(ctx: &Ctx, org: OrgId, pipeline_id: PipelineId, deal: &DealHead) {
        let subject = Subject::Deal { pipeline_id, deal_id: deal.id };
        ctx.state.hub.publish(Change { org, owner: deal_owner(deal), subject });
    }

    /// Tells open KPI pages that a lead, client or activity of `owner` changed.
    pub fn publish_work(ctx: &Ctx, org: OrgId, owner: Owner) {
        ctx.state.hub.publish(Change { org, owner, subject: Subject::Work });
    }

    /// The search text and page number every list takes.
    pub fn check_list(search: Option<&str>, page: i64) -> Result<(), AppError> {
        use crate::pipeline::lists::MAX_SEARCH;
        if search.is_some_and(|s| s.chars().count() > MAX_SEARCH) {
            return Err(AppError::invalid("search", Problem::TooLong { max: MAX_SEARCH }));
        }
        if !(0..=1_000_000).contains(&page) {
            return Err(AppError::invalid("page", Problem::Unknown));
        }
        Ok(())
    }

    /// Checks what the lead forms send.
    pub fn clean_lead(form: &crate::pipeline::NewLeadForm) -> Result<crate::pipeline::NewLeadForm, AppError> {
        use crate::pipeline::{clean_text, optional_text, MAX_TITLE};
        Ok(crate::pipeline::NewLeadForm {
            title: clean_text("title", &form.title, MAX_TITLE)?,
            source: clean_source(&form.source)?,
            contact_name: optional_text("contact_name", &form.contact_name, MAX_TITLE)?,
            phone: optional_text("phone", &form.phone, 40)?,
            email: match form.email.trim() {
                "" => String::new(),
                email => crate::org::clean_email(email)?,
            },
        })
    }

    /// Checks an activity's call length and note: only calls have a length, up
    /// to a day; a note-only activity needs its note.
    pub fn clean_activity(
        kind: crate::pipeline::ActivityKind,
        duration_s: Option<i32>,
        note: &str,
    ) -> Result<(Option<i32>, String), AppError> {
        use crate::pipeline::{optional_text, ActivityKind, MAX_NOTE};
        let note = optional_text("note", note, MAX_NOTE)?;
        if kind == ActivityKind::Note && note.is_empty() {
            return Err(AppError::invalid("note", Problem::Required));
        }
        let is_call = matches!(kind, ActivityKind::CallIn | ActivityKind::CallOut);
        let duration_s = match duration_s {
            Some(d) if d < 0 => return Err(AppError::invalid("duration", Problem::Negative)),
            Some(d) if d > 86_400 => return Err(AppError::invalid("duration", Problem::TooLarge)),
            Some(d) if is_call => Some(d),
            _ => None,
        };
        Ok((duration_s, note))
    }

    /// Checks a source name: a short word such as "website".
    pub fn clean_source(raw: &str) -> Result<String, AppError> {
        let source = crate::pipeline::clean_text("source", raw, 50)?;
        Ok(source.to_lowercase())
    }
}

/// Every pipeline with its stages (archived ones too, so history can name them).
#[server(prefix = "/api", endpoint = "pipelines")]
pub async fn list_pipelines() -> Result<Vec<Pipeline>, AppError> {
    use crate::access::{guard::Ctx, Action, Module};
    let ctx = Ctx::get().await?;
    let auth = ctx.authorize(Module::Deals, Action::View).await?;
    Ok(ctx.storage().pipelines(auth.user.org_id).await?)
}

/// One pipeline's board, narrowed by the filter and by the caller's rights.
#[server(prefix = "/api", endpoint = "board", input = server_fn::codec::Json)]
pub async fn load_board(filter: BoardFilter) -> Result<Board, AppError> {
    use crate::access::{guard::Ctx, Action, Module};
    use crate::error::Problem;
    let ctx = Ctx::get().await?;
    let auth = ctx.authorize(Module::Deals, Action::View).await?;
    if filter.search.as_deref().is_some_and(|s| s.chars().count() > 100) {
        return Err(AppError::invalid("search", Problem::TooLong { max: 100 }));
    }
    if filter.source.as_deref().is_some_and(|s| s.chars().count() > 50) {
        return Err(AppError::invalid("source", Problem::TooLong { max: 50 }));
    }
    if filter.created_days.is_some_and(|d| !(1..=3650).contains(&d)) {
        return Err(AppError::invalid("period", Problem::Unknown));
    }
    Ok(ctx.storage().board(auth.user.org_id, &filter, auth.visibility()?, ssr::now_ms()).await?)
}

/// Moves a deal to another stage of its pipeline, if nobody moved it since `version`.
#[server(prefix = "/api", endpoint = "deals/move", input = server_fn::codec::Json)]
pub async fn move_deal(request: MoveRequest) -> Result<Moved, AppError> {
    use crate::access::{guard::Ctx, Action, Module};
    use crate::error::Problem;
    use crate::storage::MoveOutcome;
    let ctx = Ctx::get().await?;
    let auth = ctx.authorize(Module::Deals, Action::Edit).await?;
    let org = auth.user.org_id;
    let key = request.key.trim();
    if key.is_empty() || key.chars().count() > super::MAX_KEY {
        return Err(AppError::invalid("key", Problem::Unknown));
    }
    let loss_reason =
        request.loss_reason.as_deref().map(|r| super::clean_text("loss_reason", r, super::MAX_REASON)).transpose()?;
    let deal = ssr::permitted_deal(&ctx, &auth, request.deal_id).await?;
    let request = MoveRequest { key: key.to_string(), loss_reason, ..request };
    match ctx.storage().move_deal(org, auth.user.id, &request, ssr::now_ms()).await? {
        MoveOutcome::Moved(moved) => {
            if !moved.replayed && moved.version != deal.version {
                ssr::publish(&ctx, org, deal.pipeline_id, &deal);
            }
            Ok(moved)
        }
        MoveOutcome::Blocked(_) => Err(AppError::invalid("stage", Problem::SkipsRequired)),
    }
}

/// A deal with its history and activities.
#[server(prefix = "/api", endpoint = "deals/get")]
pub async fn get_deal(id: DealId) -> Result<DealPage, AppError> {
    use crate::access::{guard::Ctx, Action, Module};
    let ctx = Ctx::get().await?;
    let auth = ctx.authorize(Module::Deals, Action::View).await?;
    ssr::permitted_deal(&ctx, &auth, id).await?;
    ctx.storage().deal_page(auth.user.org_id, id, ssr::now_ms()).await?.ok_or(AppError::NotFound)
}

/// Opens a deal in the first stage of a pipeline.
#[server(prefix = "/api", endpoint = "deals/create", input = server_fn::codec::Json)]
pub async fn create_deal(form: NewDealForm) -> Result<DealId, AppError> {
    use super::{check_amount, clean_text, optional_text, MAX_TITLE};
    use crate::access::{guard::Ctx, Action, Module, Owner};
    use crate::storage::NewDeal;
    let ctx = Ctx::get().await?;
    let auth = ctx.authorize(Module::Deals, Action::Create).await?;
    let org = auth.user.org_id;
    let title = clean_text("title", &form.title, MAX_TITLE)?;
    let amount = check_amount(form.amount)?;
    let currency = super::currency::check_currency(&form.currency)?;
    let client = optional_text("client", &form.client_name, MAX_TITLE)?;
    let source = ssr::clean_source(&form.source)?;
    let responsible = match form.responsible_id {
        Some(id) if id != auth.user.id => ssr::colleague(&ctx, org, id, "responsible").await?,
        _ => auth.user.clone(),
    };
    auth.check(Owner { user: Some(responsible.id), department: responsible.department_id })?;
    let deal = NewDeal {
        pipeline_id: form.pipeline_id,
        title,
        amount,
        currency,
        client_name: (!client.is_empty()).then_some(client),
        source,
        responsible_id: responsible.id,
        lead_id: None,
    };
    let head = ctx.storage().create_deal(org, auth.user.id, &deal, ssr::now_ms()).await?;
    ssr::publish(&ctx, org, head.pipeline_id, &head);
    Ok(head.id)
}

/// Logs a call, meeting, proposal, chat or note on a deal or a lead.
#[server(prefix = "/api", endpoint = "activities/create", input = server_fn::codec::Json)]
pub async fn log_activity(form: NewActivityForm) -> Result<Activity, AppError> {
    use crate::access::{guard::Ctx, Action, Module};
    use crate::error::Problem;
    use crate::storage::NewActivity;
    let ctx = Ctx::get().await?;
    let (duration_s, note) = ssr::clean_activity(form.kind, form.duration_s, &form.note)?;
    let now = ssr::now_ms();
    // A minute of slack for a browser clock a little ahead of the server's.
    if form.at.is_some_and(|at| at > now + 60_000) {
        return Err(AppError::invalid("at", Problem::InFuture));
    }
    let (user, deal) = match (form.deal_id, form.lead_id, form.client_id) {
        (Some(deal), None, None) => {
            let auth = ctx.authorize(Module::Deals, Action::Edit).await?;
            let head = ssr::permitted_deal(&ctx, &auth, deal).await?;
            (auth.user, Some(head))
        }
        (None, Some(lead), None) => {
            let auth = ctx.authorize(Module::Leads, Action::Edit).await?;
            ssr::permitted_lead(&ctx, &auth, lead).await?;
            (auth.user, None)
        }
        (None, None, Some(client)) => {
            let auth = ctx.authorize(Module::Deals, Action::Edit).await?;
            ssr::permitted_client(&ctx, &auth, client).await?;
            (auth.user, None)
        }
        _ => return Err(AppError::invalid("deal", Problem::Required)),
    };
    let activity = NewActivity {
        kind: form.kind,
        user_id: user.id,
        deal_id: form.deal_id,
        lead_id: form.lead_id,
        client_id: form.client_id,
        duration_s,
        note,
        at: form.at.map(|at| at.min(now)),
    };
    let logged = ctx.storage().add_activity(user.org_id, &activity, now).await?;
    match deal {
        Some(head) => ssr::publish(&ctx, user.org_id, head.pipeline_id, &head),
        None => ssr::publish_work(&ctx, user.org_id, ssr::user_owner(&user)),
    }
    Ok(logged)
}

/// Corrects a logged activity's kind, call length or note, if nobody changed
/// it since `edit.version`. Takes the right to edit what it is about: its
/// deal, its lead, its client, or (for one about none of them) its author's work.
#[server(prefix = "/api", endpoint = "activities/update", input = server_fn::codec::Json)]
pub async fn update_activity(edit: ActivityEdit) -> Result<Activity, AppError> {
    use crate::access::{guard::Ctx, Action, Module, Owner};
    let ctx = Ctx::get().await?;
    let (duration_s, note) = ssr::clean_activity(edit.kind, edit.duration_s, &edit.note)?;
    let org = ctx.require_user().await?.org_id;
    let before = ctx.storage().activity(org, edit.id).await?.ok_or(AppError::NotFound)?;
    let (deal, owner) = match (before.deal_id, before.lead_id, before.client_id) {
        (Some(deal), _, _) => {
            let auth = ctx.authorize(Module::Deals, Action::Edit).await?;
            let head = ssr::permitted_deal(&ctx, &auth, deal).await?;
            (Some(head.clone()), ssr::deal_owner(&head))
        }
        (None, Some(lead), _) => {
            let auth = ctx.authorize(Module::Leads, Action::Edit).await?;
            (None, ssr::lead_owner(&ssr::permitted_lead(&ctx, &auth, lead).await?))
        }
        (None, None, Some(client)) => {
            let auth = ctx.authorize(Module::Deals, Action::Edit).await?;
            ssr::permitted_client(&ctx, &auth, client).await?;
            let author = ctx.storage().user(before.user_id).await?.ok_or(AppError::NotFound)?;
            (None, Owner { user: Some(author.id), department: author.department_id })
        }
        (None, None, None) => {
            let auth = ctx.authorize(Module::Deals, Action::Edit).await?;
            let author = ctx.storage().user(before.user_id).await?.ok_or(AppError::NotFound)?;
            let owner = Owner { user: Some(author.id), department: author.department_id };
            auth.check(owner)?;
            (None, owner)
        }
    };
    let after = ctx.storage().update_activity(org, &ActivityEdit { duration_s, note, ..edit }).await?;
    match deal {
        Some(head) => ssr::publish(&ctx, org, head.pipeline_id, &head),
        None => ssr::publish_work(&ctx, org, owner),
    }
    // The author's KPIs and norms count the activity too, whoever owns what it is about.
    if owner.user != Some(before.user_id) {
        let author = ctx.storage().user(before.user_id).await?;
        if let Some(author) = author {
            ssr::publish_work(&ctx, org, ssr::user_owner(&author));
        }
    }
    Ok(after)
}

/// Whom and which departments the board's filters offer: those the caller's deals right covers.
#[server(prefix = "/api", endpoint = "board/options")]
pub async fn board_options() -> Result<super::BoardOptions, AppError> {
    people_options(crate::access::Module::Deals, crate::access::Action::View).await
}

/// Whom and which departments a choice of people offers for `action` in
/// `module`: those the caller's right there covers (the lead form's
/// responsible, whose goals), so it never offers what the server would refuse.
#[server(prefix = "/api", endpoint = "people/options")]
pub async fn people_options(
    module: crate::access::Module,
    action: crate::access::Action,
) -> Result<super::BoardOptions, AppError> {
    use crate::access::guard::Ctx;
    let ctx = Ctx::get().await?;
    let auth = ctx.authorize(module, action).await?;
    let org = auth.user.org_id;
    let visibility = auth.visibility()?;
    let people = ctx.storage().users(org, visibility).await?;
    let departments = ctx.storage().departments(org, visibility).await?;
    Ok(super::BoardOptions {
        people: people.into_iter().filter(|u| u.active).map(|u| (u.id, u.name)).collect(),
        departments: departments.into_iter().map(|d| (d.id, d.name)).collect(),
    })
}

/// Moves that skipped required stages, newest first.
#[server(prefix = "/api", endpoint = "violations")]
pub async fn list_violations() -> Result<Vec<Violation>, AppError> {
    use crate::access::{guard::Ctx, Action, Module};
    let ctx = Ctx::get().await?;
    let auth = ctx.authorize(Module::Deals, Action::View).await?;
    Ok(ctx.storage().violations(auth.user.org_id, auth.visibility()?, 50).await?)
}

/// A stage added or changed: name, kind, probability, required, stale days, place, archived.
#[server(prefix = "/api", endpoint = "stages/save", input = server_fn::codec::Json)]
pub async fn save_stage(form: StageForm) -> Result<Stage, AppError> {
    use crate::error::Problem;
    let ctx = crate::access::guard::Ctx::get().await?;
    let auth = ssr::pipeline_admin(&ctx).await?;
    let name = super::clean_text("name", &form.name, 60)?;
    if !(0..=100).contains(&form.probability) {
        return Err(AppError::invalid("probability", Problem::Unknown));
    }
    if !(0..=365).contains(&form.stale_days) {
        return Err(AppError::invalid("stale_days", Problem::Unknown));
    }
    let edit = StageForm { name, ..form };
    Ok(ctx.storage().save_stage(auth.user.org_id, &edit).await?)
}

/// A pipeline added (with a first stage, won and lost) or renamed, and whether it blocks skips.
#[server(prefix = "/api", endpoint = "pipelines/save")]
pub async fn save_pipeline(id: Option<PipelineId>, name: String, block_skips: bool) -> Result<Pipeline, AppError> {
    let ctx = crate::access::guard::Ctx::get().await?;
    let auth = ssr::pipeline_admin(&ctx).await?;
    let name = super::clean_text("name", &name, 60)?;
    Ok(ctx.storage().save_pipeline(auth.user.org_id, id, &name, block_skips).await?)
}

/// Archives a pipeline (it leaves the board and the report pickers, and takes
/// no new deals; its closed deals and history stay) or brings it back.
#[server(prefix = "/api", endpoint = "pipelines/archive")]
pub async fn archive_pipeline(id: PipelineId, archived: bool) -> Result<Pipeline, AppError> {
    let ctx = crate::access::guard::Ctx::get().await?;
    let auth = ssr::pipeline_admin(&ctx).await?;
    Ok(ctx.storage().archive_pipeline(auth.user.org_id, id, archived).await?)
}

/// Leads the caller may see, newest first, a page at a time.
#[server(prefix = "/api", endpoint = "leads", input = server_fn::codec::Json)]
pub async fn list_leads(filter: LeadFilter) -> Result<LeadPage, AppError> {
    use crate::access::{guard::Ctx, Action, Module};
    let ctx = Ctx::get().await?;
    let auth = ctx.authorize(Module::Leads, Action::View).await?;
    ssr::check_list(filter.search.as_deref(), filter.page)?;
    Ok(ctx.storage().leads(auth.user.org_id, &filter, auth.visibility()?).await?)
}

/// Deals the caller may see, filtered and sorted, a page at a time.
#[server(prefix = "/api", endpoint = "deals", input = server_fn::codec::Json)]
pub async fn list_deals(filter: DealFilter) -> Result<DealList, AppError> {
    use crate::access::{guard::Ctx, Action, Module};
    let ctx = Ctx::get().await?;
    let auth = ctx.authorize(Module::Deals, Action::View).await?;
    ssr::check_list(filter.search.as_deref(), filter.page)?;
    Ok(ctx.storage().deals(auth.user.org_id, &filter, auth.visibility()?).await?)
}

/// Changes a deal's title, amount and currency, client, source or responsible, if nobody
/// changed it since `edit.version`. Returns the new version.
#[server(prefix = "/api", endpoint = "deals/update", input = server_fn::codec::Json)]
pub async fn update_deal(edit: DealEdit) -> Result<i64, AppError> {
    use super::{check_amount, clean_text, optional_text, MAX_TITLE};
    use crate::access::{guard::Ctx, Action, Module, Owner};
    use crate::storage::DealChange;
    let ctx = Ctx::get().await?;
    let auth = ctx.authorize(Module::Deals, Action::Edit).await?;
    let org = auth.user.org_id;
    let title = clean_text("title", &edit.title, MAX_TITLE)?;
    let amount = check_amount(edit.amount)?;
    let currency = super::currency::check_currency(&edit.currency)?;
    let client = optional_text("client", &edit.client_name, MAX_TITLE)?;
    let source = ssr::clean_source(&edit.source)?;
    let before = ssr::permitted_deal(&ctx, &auth, edit.id).await?;
    if edit.responsible_id != before.responsible_id {
        // Handing a deal over needs the right over whoever receives it, too.
        let to = ssr::colleague(&ctx, org, edit.responsible_id, "responsible").await?;
        auth.check(Owner { user: Some(to.id), department: to.department_id })?;
    }
    let change = DealChange {
        id: edit.id,
        version: edit.version,
        title,
        amount,
        currency,
        client_name: (!client.is_empty()).then_some(client),
        source,
        responsible_id: edit.responsible_id,
    };
    let after = ctx.storage().update_deal(org, auth.user.id, &change, ssr::now_ms()).await?;
    ssr::publish(&ctx, org, before.pipeline_id, &before);
    if after.responsible_id != before.responsible_id {
        ssr::publish(&ctx, org, after.pipeline_id, &after);
    }
    Ok(after.version)
}

/// Clients the caller may see (by their responsible manager), with what they bought.
#[server(prefix = "/api", endpoint = "clients", input = server_fn::codec::Json)]
pub async fn list_clients(filter: ClientFilter) -> Result<ClientList, AppError> {
    use crate::access::{guard::Ctx, Action, Module};
    let ctx = Ctx::get().await?;
    let auth = ctx.authorize(Module::Deals, Action::View).await?;
    ssr::check_list(filter.search.as_deref(), filter.page)?;
    Ok(ctx.storage().clients(auth.user.org_id, &filter, auth.visibility()?).await?)
}

/// Adds a client (the caller responsible) or changes one the caller may edit.
#[server(prefix = "/api", endpoint = "clients/save", input = server_fn::codec::Json)]
pub async fn save_client(form: ClientForm) -> Result<Client, AppError> {
    use super::{clean_text, optional_text, MAX_TITLE};
    use crate::access::{guard::Ctx, Action, Module, Owner};
    let ctx = Ctx::get().await?;
    let auth = match form.id {
        None => {
            let auth = ctx.authorize(Module::Deals, Action::Create).await?;
            auth.check(Owner { user: Some(auth.user.id), department: auth.user.department_id })?;
            auth
        }
        Some(id) => {
            let auth = ctx.authorize(Module::Deals, Action::Edit).await?;
            ssr::permitted_client(&ctx, &auth, id).await?;
            auth
        }
    };
    let email = optional_text("email", &form.email, crate::org::MAX_EMAIL)?;
    let form = ClientForm {
        name: clean_text("name", &form.name, MAX_TITLE)?,
        phone: optional_text("phone", &form.phone, 40)?,
        email: if email.is_empty() { email } else { crate::org::clean_email(&email)? },
        ..form
    };
    let client = ctx.storage().save_client(auth.user.org_id, &form, auth.user.id, ssr::now_ms()).await?;
    if form.id.is_none() {
        ssr::publish_work(&ctx, auth.user.org_id, ssr::user_owner(&auth.user));
    }
    Ok(client)
}

/// Calls, meetings and the rest, of the people the caller may see.
#[server(prefix = "/api", endpoint = "activities", input = server_fn::codec::Json)]
pub async fn list_activities(filter: ActivityFilter) -> Result<ActivityList, AppError> {
    use crate::access::{guard::Ctx, Action, Module};
    let ctx = Ctx::get().await?;
    let auth = ctx.authorize(Module::Deals, Action::View).await?;
    ssr::check_list(None, filter.page)?;
    Ok(ctx.storage().activities(auth.user.org_id, &filter, auth.visibility()?).await?)
}

/// A new lead, with the caller responsible unless they name a colleague
/// their leads right covers.
#[server(prefix = "/api", endpoint = "leads/create", input = server_fn::codec::Json)]
pub async fn create_lead(
    form: NewLeadForm,
    #[server(default)] responsible_id: Option<crate::org::UserId>,
) -> Result<Lead, AppError> {
    use crate::access::{guard::Ctx, Action, Module, Owner};
    let ctx = Ctx::get().await?;
    let auth = ctx.authorize(Module::Leads, Action::Create).await?;
    let org = auth.user.org_id;
    let form = ssr::clean_lead(&form)?;
    let responsible = match responsible_id {
        Some(id) if id != auth.user.id => ssr::colleague(&ctx, org, id, "responsible").await?,
        _ => auth.user.clone(),
    };
    auth.check(Owner { user: Some(responsible.id), department: responsible.department_id })?;
    let lead = ctx.storage().create_lead(org, &form, responsible.id, ssr::now_ms()).await?;
    ssr::publish_work(&ctx, org, ssr::user_owner(&responsible));
    Ok(lead)
}

/// Changes a lead's title, source or contact, if nobody changed it since `edit.version`.
#[server(prefix = "/api", endpoint = "leads/update", input = server_fn::codec::Json)]
pub async fn update_lead(edit: LeadEdit) -> Result<Lead, AppError> {
    use crate::access::{guard::Ctx, Action, Module};
    let ctx = Ctx::get().await?;
    let auth = ctx.authorize(Module::Leads, Action::Edit).await?;
    let form = ssr::clean_lead(&edit.form)?;
    ssr::permitted_lead(&ctx, &auth, edit.id).await?;
    Ok(ctx.storage().update_lead(auth.user.org_id, &LeadEdit { form, ..edit }).await?)
}

/// Takes a lead on, disqualifies it (a reason is required) or turns it into a deal.
#[server(prefix = "/api", endpoint = "leads/status")]
pub async fn set_lead_status(
    id: LeadId,
    status: LeadStatus,
    reason: Option<String>,
    pipeline_id: Option<PipelineId>,
) -> Result<Lead, AppError> {
    use crate::access::{guard::Ctx, Action, Module};
    let ctx = Ctx::get().await?;
    let auth = ctx.authorize(Module::Leads, Action::Edit).await?;
    let org = auth.user.org_id;
    let head = ssr::permitted_lead(&ctx, &auth, id).await?;
    let reason = reason
        .as_deref()
        .filter(|r| !r.trim().is_empty())
        .map(|r| super::clean_text("disqualify_reason", r, super::MAX_REASON))
        .transpose()?;
    let change = crate::storage::LeadChange { status, reason, pipeline: pipeline_id };
    let lead = ctx.storage().set_lead_status(org, auth.user.id, id, &change, ssr::now_ms()).await?;
    ssr::publish_work(&ctx, org, ssr::lead_owner(&head));
    if let Some(deal) = lead.deal_id.filter(|_| status == LeadStatus::Qualified) {
        if let Some(head) = ctx.storage().deal_head(org, deal).await? {
            ssr::publish(&ctx, org, head.pipeline_id, &head);
        }
    }
    Ok(lead)
}
