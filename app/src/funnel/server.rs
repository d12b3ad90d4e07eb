//! Server functions of the funnel. Rights: module Analytics, action View;
//! its scope (own / department / all) narrows every figure to the deals of
//! the people it covers, on top of the manager and department filters.

use leptos::prelude::*;

use super::{BehindRequest, DealsBehind, FunnelReport, FunnelRequest};
use crate::error::AppError;

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use std::collections::BTreeMap;

    use crate::access::guard::{Authorized, Ctx};
    use crate::access::{Action, Module, Visibility};
    use crate::error::{AppError, Problem};
    use crate::funnel::{
        outliers, parse_day, preset_period, FunnelFigures, FunnelMode, FunnelQuery, FunnelRequest, ManagerRow, Period,
        PeriodPreset, Scope, StepFigures, Steps, MAX_PERIOD_DAYS,
    };
    use crate::pipeline::{Stage, StageId};

    /// A request checked and resolved against the organisation: its query,
    /// the previous period's, and the pipeline's steps as stages.
    pub struct Resolved {
        pub auth: Authorized,
        pub query: FunnelQuery,
        pub previous: FunnelQuery,
        pub steps: Vec<Stage>,
    }

    pub fn now_ms() -> i64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
    }

    /// The organisation's zone; an unknown name reads as UTC.
    pub fn zone(name: &str) -> jiff::tz::TimeZone {
        jiff::tz::TimeZone::get(name).unwrap_or(jiff::tz::TimeZone::UTC)
    }

    pub fn today(zone_name: &str, now_ms: i64) -> crate::funnel::Day {
        crate::funnel::day_in(&zone(zone_name), now_ms)
    }

    /// The period a preset (this month if none) or custom dates mean on `today`.
    pub fn period(
        preset: Option<PeriodPreset>,
        from: &Option<String>,
        to: &Option<String>,
        today: crate::funnel::Day,
    ) -> Result<Period, AppError> {
        let preset = preset.unwrap_or(PeriodPreset::ThisMonth);
        if let Some(p) = preset_period(preset, today) {
            return Ok(p);
        }
        let day = |field: &str, text: &Option<String>| match text.as_deref().map(str::trim) {
            None | Some("") => Err(AppError::invalid(field, Problem::Required)),
            Some(t) => parse_day(t).ok_or_else(|| AppError::invalid(field, Problem::Unknown)),
        };
        let (from, to) = (day("from", from)?, day("to", to)?);
        if from > to {
            return Err(AppError::invalid("to", Problem::BeforeStart));
        }
        if to - from + 1 > MAX_PERIOD_DAYS {
            return Err(AppError::invalid("from", Problem::TooLarge));
        }
        Ok(Period { from, to })
    }

    pub async fn resolve(req: &FunnelRequest, now_ms: i64) -> Result<(Ctx, Resolved), AppError> {
        let ctx = Ctx::get().await?;
        let auth = ctx.authorize(Module::Analytics, Action::View).await?;
        let org = auth.user.org_id;
        let pipelines = ctx.storage().pipelines(org).await?;
        let pipeline = match req.pipeline_id {
            Some(id) => {
                pipelines.into_iter().find(|p| p.id == id).ok_or(AppError::invalid("pipeline", Problem::Unknown))?
            }
            None => pipelines.into_iter().find(|p| !p.archived).ok_or(AppError::NotFound)?,
        };
        let source = match req.source.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) => Some(crate::pipeline::clean_text("source", s, 50)?.to_lowercase()),
        };
        let zone = ctx.storage().time_zone(org).await?;
        let period = period(req.preset, &req.from, &req.to, today(&zone, now_ms))?;
        let owners = ctx.storage().owners(org, req.manager_id, req.department_id, auth.visibility()?).await?;
        let scope = Scope { owners, source, client: req.client };
        let steps_order = Steps::of(&pipeline.stages);
        let steps =
            steps_order.ids.iter().filter_map(|id| pipeline.stages.iter().find(|s| s.id == *id).cloned()).collect();
        let query =
            FunnelQuery { pipeline_id: pipeline.id, mode: req.mode.unwrap_or(FunnelMode::Cohort), period, scope };
        let previous = FunnelQuery { period: period.previous(), ..query.clone() };
        Ok((ctx, Resolved { auth, query, previous, steps }))
    }

    pub async fn figures(ctx: &Ctx, org: i64, steps: &[Stage], query: &FunnelQuery) -> Result<FunnelFigures, AppError> {
        let totals: BTreeMap<StageId, _> = ctx.storage().funnel_totals(org, query).await?.into_iter().collect();
        let medians: BTreeMap<StageId, i64> = ctx.storage().funnel_medians(org, query).await?.into_iter().collect();
        Ok(FunnelFigures {
            period: query.period,
            steps: steps
                .iter()
                .map(|s| StepFigures {
                    stage_id: s.id,
                    name: s.name.clone(),
                    kind: s.kind,
                    totals: totals.get(&s.id).copied().unwrap_or_default(),
                    median_time_ms: medians.get(&s.id).copied(),
                })
                .collect(),
        })
    }

    /// The period day by day: entered (first step) and won (the won step the
    /// summary counts), so the days add up to the report's figures.
    pub async fn daily(
        ctx: &Ctx,
        org: i64,
        current: &FunnelFigures,
        query: &FunnelQuery,
    ) -> Result<Vec<crate::funnel::DailyPoint>, AppError> {
        let first = current.steps.first().map(|s| s.stage_id);
        let won = current.won().map(|s| s.stage_id);
        let stages: Vec<StageId> = first.into_iter().chain(won).collect();
        let rows = ctx.storage().funnel_daily(org, query, &stages).await?;
        Ok(crate::funnel::daily_points(query.period, first, won, &rows))
    }

    /// One row per manager with deals in the period; outliers against the
    /// sum of the same department's rows.
    pub async fn managers(
        ctx: &Ctx,
        org: i64,
        steps: &[Stage],
        query: &FunnelQuery,
    ) -> Result<Vec<ManagerRow>, AppError> {
        let counts = ctx.storage().funnel_managers(org, query).await?;
        let people = ctx.storage().users(org, Visibility::All).await?;
        let mut rows: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        for (user, stage, deals) in counts {
            if let Some(i) = steps.iter().position(|s| s.id == stage) {
                rows.entry(user).or_insert_with(|| vec![0; steps.len()])[i] += deals;
            }
        }
        let department_of = |user: i64| people.iter().find(|p| p.id == user).and_then(|p| p.department_id);
        let mut departments: BTreeMap<Option<i64>, Vec<i64>> = BTreeMap::new();
        for (user, deals) in &rows {
            let sum = departments.entry(department_of(*user)).or_insert_with(|| vec![0; steps.len()]);
            for (total, d) in sum.iter_mut().zip(deals) {
                *total += d;
            }
        }
        let mut out: Vec<ManagerRow> = rows
            .into_iter()
            .map(|(user, deals)| {
                let department_id = department_of(user);
                ManagerRow {
                    user_id: user,
                    name: people.iter().find(|p| p.id == user).map(|p| p.name.clone()).unwrap_or_default(),
                    department_id,
                    outlier: outliers(&deals, &departments[&department_id]),
                    deals,
                }
            })
            .collect();
        out.sort_by(|a, b| (a.department_id, &a.name).cmp(&(b.department_id, &b.name)));
        Ok(out)
    }
}

/// The funnel of one pipeline for a period, beside the previous equal
/// period, with the by-manager table.
#[server(prefix = "/api", endpoint = "funnel", input = server_fn::codec::Json)]
pub async fn load_funnel(request: FunnelRequest) -> Result<FunnelReport, AppError> {
    let now = ssr::now_ms();
    let (ctx, r) = ssr::resolve(&request, now).await?;
    let org = r.auth.user.org_id;
    // The three parts read independently, so they run side by side on the read pool.
    let this_period = async {
        let current = ssr::figures(&ctx, org, &r.steps, &r.query).await?;
        let daily = ssr::daily(&ctx, org, &current, &r.query).await?;
        Ok::<_, AppError>((current, daily))
    };
    let ((current, daily), previous, managers) = futures::try_join!(
        this_period,
        ssr::figures(&ctx, org, &r.steps, &r.previous),
        ssr::managers(&ctx, org, &r.steps, &r.query),
    )?;
    Ok(FunnelReport {
        pipeline_id: r.query.pipeline_id,
        mode: r.query.mode,
        previous,
        current,
        managers,
        daily,
        computed_at: now,
        from_text: super::day_text(r.query.period.from),
        to_text: super::day_text(r.query.period.to),
    })
}

/// The deals behind one figure of the funnel, newest first.
#[server(prefix = "/api", endpoint = "funnel/deals", input = server_fn::codec::Json)]
pub async fn load_deals_behind(request: BehindRequest) -> Result<DealsBehind, AppError> {
    let now = ssr::now_ms();
    let (ctx, r) = ssr::resolve(&request.funnel, now).await?;
    use super::StepDeals;
    use crate::error::Problem;
    let Some(at) = r.steps.iter().position(|s| s.id == request.stage_id) else {
        return Err(AppError::invalid("stage", Problem::Unknown));
    };
    let which = match (request.lost, request.dropped) {
        (false, false) => StepDeals::Reached,
        (true, false) => StepDeals::Lost,
        (false, true) if r.query.mode == super::FunnelMode::Flow => {
            return Err(AppError::invalid("mode", Problem::Unknown))
        }
        (false, true) => {
            let next = r.steps.get(at + 1).ok_or(AppError::invalid("stage", Problem::Unknown))?;
            StepDeals::WentNoFurther { next: next.id }
        }
        (true, true) => return Err(AppError::invalid("dropped", Problem::Unknown)),
    };
    let query = if request.previous { &r.previous } else { &r.query };
    Ok(ctx.storage().funnel_deals(r.auth.user.org_id, query, request.stage_id, which).await?)
}
