//! Server functions of the norms. Rights: module Analytics — View for the
//! report, scoped (own / department / all) like the KPIs, so a manager sees
//! only their own norms and leads; Edit over the whole organisation to set
//! the norms, like the call threshold.

use leptos::prelude::*;

use super::{NormSettings, NormsReport};
use crate::error::AppError;
use crate::org::{DeptId, UserId};

/// Who is behind their norms today and this week, and the leads the alerts
/// are about, for the people the filters and the caller's right cover.
#[server(prefix = "/api", endpoint = "kpi/norms")]
pub async fn load_norms(manager_id: Option<UserId>, department_id: Option<DeptId>) -> Result<NormsReport, AppError> {
    use super::{behind_first, statuses, NormPerson, ALERT_LIMIT, SILENT_DAYS};
    use crate::access::guard::Ctx;
    use crate::access::{Action, Module, Visibility};
    use crate::funnel::server::ssr::{now_ms, zone};
    use crate::funnel::{date_of_day, day_in, Period};
    use crate::kpi::server::ssr::{counts, may_configure};
    use crate::pipeline::DAY_MS;
    const MINUTE_MS: i64 = 60_000;
    let now = now_ms();
    let ctx = Ctx::get().await?;
    let auth = ctx.authorize(Module::Analytics, Action::View).await?;
    let org = auth.user.org_id;
    let storage = ctx.storage();
    let tz = zone(&storage.time_zone(org).await?);
    let settings = storage.norm_settings(org).await?;
    let owners = storage.owners(org, manager_id, department_id, auth.visibility()?).await?;

    let today = day_in(&tz, now);
    let weekday = i64::from(date_of_day(today).weekday().to_monday_zero_offset());
    let local = jiff::Timestamp::from_millisecond(now).map_err(|_| AppError::Internal)?.to_zoned(tz.clone());
    let minute = i64::from(local.hour()) * 60 + i64::from(local.minute());
    let monday = today - weekday as i32;
    let day_counts = counts(&ctx, org, Period { from: today, to: today }, owners.as_deref()).await?;
    let week_counts = counts(&ctx, org, Period { from: monday, to: today }, owners.as_deref()).await?;

    let covered = |id: UserId| owners.as_ref().is_none_or(|o| o.contains(&id));
    let mut people: Vec<NormPerson> = storage
        .users(org, Visibility::All)
        .await?
        .into_iter()
        .filter(|u| u.active && covered(u.id))
        .filter_map(|u| {
            let none = Default::default();
            let items = statuses(
                &settings.norms,
                u.role,
                day_counts.get(&u.id).unwrap_or(&none),
                week_counts.get(&u.id).unwrap_or(&none),
                weekday,
                minute,
            );
            (!items.is_empty()).then_some(NormPerson {
                user_id: u.id,
                name: u.name,
                department_id: u.department_id,
                items,
            })
        })
        .collect();
    behind_first(&mut people);

    let unanswered_before = now - settings.response_minutes * MINUTE_MS;
    let (unanswered, silent) =
        storage.lead_alerts(org, owners.as_deref(), unanswered_before, now - SILENT_DAYS * DAY_MS, ALERT_LIMIT).await?;
    Ok(NormsReport {
        may_configure: may_configure(&ctx).await,
        settings,
        people,
        unanswered,
        silent,
        day_off: weekday >= super::WORK_DAYS,
        computed_at: now,
    })
}

/// Replaces the organisation's norms, if nobody saved them since
/// `settings.version`; a norm of 0 is dropped.
#[server(prefix = "/api", endpoint = "kpi/norms/save", input = server_fn::codec::Json)]
pub async fn save_norms(settings: NormSettings) -> Result<NormSettings, AppError> {
    use crate::access::guard::Ctx;
    use crate::access::Owner;
    use crate::kpi::server::ssr::may_configure;
    use crate::pipeline::live::{Change, Subject};
    let ctx = Ctx::get().await?;
    let user = ctx.require_user().await?;
    if !may_configure(&ctx).await {
        return Err(AppError::Forbidden);
    }
    let norms = super::check_settings(&settings)?;
    let saved = ctx.storage().save_norm_settings(user.org_id, &settings, &norms).await?;
    let owner = Owner { user: None, department: None };
    ctx.state.hub.publish(Change { org: user.org_id, owner, subject: Subject::Settings });
    Ok(saved)
}
