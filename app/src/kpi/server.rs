//! Server functions of the KPIs. Rights: module Analytics — View for the
//! report, scoped (own / department / all) like the funnel; Edit over the
//! whole organisation to change which calls count. Rating a closed deal
//! takes the Deals edit right over that deal.

use leptos::prelude::*;

use super::{KpiReport, KpiRequest};
use crate::error::AppError;
use crate::pipeline::DealId;

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use std::collections::BTreeMap;

    use crate::access::guard::Ctx;
    use crate::access::{Action, Module, Scope};
    use crate::error::AppError;
    use crate::funnel::Period;
    use crate::kpi::KpiCounts;
    use crate::org::{OrgId, UserId};

    /// Counts per person of a period's days, in the organisation's zone.
    pub async fn counts(
        ctx: &Ctx,
        org: OrgId,
        period: Period,
        owners: Option<&[UserId]>,
    ) -> Result<BTreeMap<UserId, KpiCounts>, AppError> {
        Ok(ctx.storage().kpi_counts(org, period, owners).await?.into_iter().collect())
    }

    /// Changing organisation-wide settings takes the Analytics edit right over everyone.
    pub async fn may_configure(ctx: &Ctx) -> bool {
        ctx.authorize(Module::Analytics, Action::Edit).await.is_ok_and(|a| a.grant.scope == Scope::All)
    }
}

/// KPIs of a period beside the previous equal period: the total of whom the
/// request and the caller's right cover, one row per person and per department.
#[server(prefix = "/api", endpoint = "kpi", input = server_fn::codec::Json)]
pub async fn load_kpis(request: KpiRequest) -> Result<KpiReport, AppError> {
    use super::{department_sums, KpiCounts, KpiRow};
    use crate::access::guard::Ctx;
    use crate::access::{Action, Module, Role};
    use crate::funnel::server::ssr::{now_ms, period, zone};
    use crate::funnel::{day_in, day_text};
    let now = now_ms();
    let ctx = Ctx::get().await?;
    let auth = ctx.authorize(Module::Analytics, Action::View).await?;
    let org = auth.user.org_id;
    let tz = zone(&ctx.storage().time_zone(org).await?);
    let current_period = period(request.preset, &request.from, &request.to, day_in(&tz, now))?;
    let previous_period = current_period.previous();
    let owners = ctx.storage().owners(org, request.manager_id, request.department_id, auth.visibility()?).await?;
    let threshold = ctx.storage().call_threshold(org).await?;
    let current = ssr::counts(&ctx, org, current_period, owners.as_deref()).await?;
    let previous = ssr::counts(&ctx, org, previous_period, owners.as_deref()).await?;

    // Everyone who sells and is covered gets a row, even with nothing done:
    // an empty row is what a head needs to see.
    let users = ctx.storage().users(org, crate::access::Visibility::All).await?;
    let covered = |id: i64| owners.as_ref().is_none_or(|o| o.contains(&id));
    let mut people: Vec<KpiRow> = users
        .iter()
        .filter(|u| {
            covered(u.id)
                && ((u.active && matches!(u.role, Role::Manager | Role::Head))
                    || current.contains_key(&u.id)
                    || previous.contains_key(&u.id))
        })
        .map(|u| KpiRow {
            user_id: Some(u.id),
            department_id: u.department_id,
            name: u.name.clone(),
            current: current.get(&u.id).copied().unwrap_or_default(),
            previous: previous.get(&u.id).copied().unwrap_or_default(),
        })
        .collect();
    people.sort_by(|a, b| {
        (a.department_id.is_none(), a.department_id, &a.name).cmp(&(
            b.department_id.is_none(),
            b.department_id,
            &b.name,
        ))
    });
    let departments = ctx.storage().departments(org, crate::access::Visibility::All).await?;
    let names: Vec<(i64, String)> = departments.iter().map(|d| (d.id, d.name.clone())).collect();
    let department_rows = department_sums(&people, &names);
    // Records nobody owns (unassigned leads and clients) count in the total only.
    let total = |by_user: &std::collections::BTreeMap<i64, KpiCounts>| {
        let mut sum = KpiCounts::default();
        for c in by_user.values() {
            sum += c;
        }
        sum
    };
    Ok(KpiReport {
        from_text: day_text(current_period.from),
        to_text: day_text(current_period.to),
        previous_from_text: day_text(previous_period.from),
        previous_to_text: day_text(previous_period.to),
        current: total(&current),
        previous: total(&previous),
        people,
        departments: department_rows,
        call_threshold_s: threshold,
        may_configure: ssr::may_configure(&ctx).await,
        computed_at: now,
    })
}

/// Sets how long a call must last to count in KPIs, seconds (0–3600).
#[server(prefix = "/api", endpoint = "kpi/threshold")]
pub async fn set_call_threshold(seconds: i64) -> Result<i64, AppError> {
    use crate::access::guard::Ctx;
    use crate::error::Problem;
    let ctx = Ctx::get().await?;
    let org = ctx.require_user().await?.org_id;
    if !ssr::may_configure(&ctx).await {
        return Err(AppError::Forbidden);
    }
    if seconds < 0 {
        return Err(AppError::invalid("call_threshold", Problem::Negative));
    }
    if seconds > super::MAX_CALL_THRESHOLD_S {
        return Err(AppError::invalid("call_threshold", Problem::TooLarge));
    }
    ctx.storage().set_call_threshold(org, seconds).await?;
    Ok(seconds)
}

/// Records the client's CSAT (1–5) and NPS (0–10) answers on a closed deal;
/// empty clears an answer.
#[server(prefix = "/api", endpoint = "deals/rate")]
pub async fn rate_deal(deal_id: DealId, csat: Option<i64>, nps: Option<i64>) -> Result<(), AppError> {
    use crate::access::guard::Ctx;
    use crate::access::{Action, Module, Owner};
    use crate::error::Problem;
    let ctx = Ctx::get().await?;
    let auth = ctx.authorize(Module::Deals, Action::Edit).await?;
    let org = auth.user.org_id;
    let deal = ctx.storage().deal_head(org, deal_id).await?.ok_or(AppError::NotFound)?;
    auth.check(Owner { user: Some(deal.responsible_id), department: deal.department_id })?;
    if csat.is_some_and(|v| !(1..=5).contains(&v)) {
        return Err(AppError::invalid("csat", Problem::Unknown));
    }
    if nps.is_some_and(|v| !(0..=10).contains(&v)) {
        return Err(AppError::invalid("nps", Problem::Unknown));
    }
    match ctx.storage().rate_deal(org, deal_id, csat, nps).await {
        Err(crate::storage::StorageError::NotFound) => Err(AppError::invalid("csat", Problem::StillOpen)),
        Err(e) => Err(e.into()),
        Ok(()) => {
            crate::pipeline::server::ssr::publish(&ctx, org, deal.pipeline_id, &deal);
            Ok(())
        }
    }
}
