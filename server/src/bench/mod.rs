//! `voronka bench`: fills a database with a large organisation (on top of the
//! demo one) and prints how fast the board loads and deals move, measured at
//! the storage port — the part of a request that grows with the data.
//!
//! - [`live`] — `voronka bench-live`: one move fanned out to thousands of open live streams

pub mod live;

use std::sync::Arc;
use std::time::{Duration, Instant};

use app::access::Visibility;
use app::demo::{self, DemoActivity, DemoClient, DemoData, DemoDeal, DemoDealEvent, DemoLead, DemoOrg};
use app::funnel::{self, naive_totals, ClientType, FunnelMode, FunnelQuery, Period, PeriodPreset, Scope, Steps};
use app::pipeline::{ActivityKind, BoardFilter, ClientKind, LeadStatus, MoveRequest, StageKind};
use app::storage::{MoveOutcome, Storage};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const DAY: i64 = 24 * 60 * 60 * 1000;
/// Active goals the benchmark organisation runs.
const GOALS: usize = 500;
/// Deals written per transaction while generating.
const CHUNK: usize = 5_000;

/// How big the generated organisation is.
#[derive(Clone, Copy, Debug)]
pub struct Scale {
    pub deals: usize,
    /// Stage events per deal, the creation included.
    pub events_per_deal: usize,
    pub activities_per_deal: usize,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// Replaces the data with the demo organisation plus `scale` more deals with their history.
pub async fn generate(storage: &dyn Storage, scale: Scale, seed: u64) -> anyhow::Result<()> {
    let started = Instant::now();
    let now = now_ms();
    let hash = app::auth::password::hash(demo::DEMO_PASSWORD.into()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let base = demo::generate(seed, now, hash);
    storage.import_demo(&base).await?;
    let managers: Vec<i64> = base.users.iter().filter(|u| u.role == app::access::Role::Manager).map(|u| u.id).collect();
    let mut next_client = base.clients.iter().map(|c| c.id).max().unwrap_or(0);
    let mut next_deal = base.deals.iter().map(|d| d.id).max().unwrap_or(0);
    let mut next_event = base.events.iter().map(|e| e.id).max().unwrap_or(0);
    let mut next_activity = base.activities.iter().map(|a| a.id).max().unwrap_or(0);
    let mut next_lead = base.leads.iter().map(|l| l.id).max().unwrap_or(0);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut written = 0;
    while written < scale.deals {
        let n = CHUNK.min(scale.deals - written);
        let mut chunk = DemoData {
            org: DemoOrg { id: base.org.id, name: String::new(), time_zone: String::new() },
            departments: vec![],
            users: vec![],
            password_hash: String::new(),
            pipelines: vec![],
            stages: vec![],
            clients: vec![],
            leads: Vec::with_capacity(n * 2),
            deals: Vec::with_capacity(n),
            events: Vec::with_capacity(n * scale.events_per_deal),
            activities: Vec::with_capacity(n * scale.activities_per_deal),
            rates: vec![],
        };
        for _ in 0..n {
            let manager = managers[rng.gen_range(0..managers.len())];
            if chunk.clients.is_empty() || rng.gen_bool(0.2) {
                next_client += 1;
                chunk.clients.push(DemoClient {
                    id: next_client,
                    name: format!("ООО «Клиент-{next_client}»"),
                    kind: ClientKind::Company,
                    phone: String::new(),
                    email: String::new(),
                    responsible_id: manager,
                    created_at: now - 730 * DAY,
                });
            }
            let client_id = chunk.clients.last().map_or(0, |c| c.id);
            let pipeline_id = if rng.gen_bool(0.7) { 1 } else { 2 };
            let stages: Vec<&demo::DemoStage> = base.stages.iter().filter(|s| s.pipeline_id == pipeline_id).collect();
            let open: Vec<&demo::DemoStage> = stages.iter().copied().filter(|s| s.kind == StageKind::Open).collect();
            // Most history is closed: about one deal in eight is still open.
            let last = match rng.gen_range(0..8) {
                0 => open[rng.gen_range(0..open.len())],
                1..=4 => stages.iter().copied().find(|s| s.kind == StageKind::Won).unwrap_or(open[0]),
                _ => stages.iter().copied().find(|s| s.kind == StageKind::Lost).unwrap_or(open[0]),
            };
            next_deal += 1;
            // A deal lives a few days to a few weeks; closings spread over two years.
            let step = rng.gen_range(DAY / 4..4 * DAY);
            let lifetime = step * scale.events_per_deal.max(1) as i64;
            let created_at = now - lifetime - rng.gen_range(0..730 * DAY);
            let amount = rng.gen_range(10_000..2_000_000) * 100;
            let source = ["website", "phone", "referral", "ads"][rng.gen_range(0..4)];
            // Most deals come from a lead, answered within the hour; as many
            // leads again are disqualified, a few in the last week not answered yet.
            let lead_id = rng.gen_bool(0.6).then(|| {
                next_lead += 1;
                let created = created_at - rng.gen_range(10 * 60_000..2 * DAY);
                chunk.leads.push(generated_lead(
                    next_lead,
                    manager,
                    source,
                    created,
                    LeadStatus::Qualified,
                    now,
                    &mut rng,
                ));
                chunk.leads.last_mut().expect("just pushed").client_id = Some(client_id);
                next_lead
            });
            if rng.gen_bool(0.6) {
                next_lead += 1;
                let created = created_at + rng.gen_range(0..DAY);
                let status = if now - created < 7 * DAY && rng.gen_bool(0.3) {
                    LeadStatus::New
                } else {
                    LeadStatus::Disqualified
                };
                chunk.leads.push(generated_lead(next_lead, manager, source, created.min(now), status, now, &mut rng));
            }
            let mut stage = open[0];
            for e in 0..scale.events_per_deal {
                let to = if e == 0 {
                    open[0]
                } else if e + 1 == scale.events_per_deal {
                    last
                } else {
                    open[rng.gen_range(0..open.len())]
                };
                next_event += 1;
                chunk.events.push(DemoDealEvent {
                    id: next_event,
                    deal_id: next_deal,
                    actor_id: manager,
                    at: created_at + e as i64 * step,
                    from_stage_id: (e > 0).then_some(stage.id),
                    to_stage_id: to.id,
                    amount,
                    skipped_required: false,
                });
                stage = to;
            }
            let last_at = created_at + (scale.events_per_deal.max(1) as i64 - 1) * step;
            for a in 0..scale.activities_per_deal {
                next_activity += 1;
                let call = a % 2 == 0;
                chunk.activities.push(DemoActivity {
                    id: next_activity,
                    kind: if call { ActivityKind::CallOut } else { ActivityKind::Meeting },
                    user_id: manager,
                    deal_id: Some(next_deal),
                    lead_id: None,
                    client_id: None,
                    at: created_at + a as i64 * step,
                    duration_s: call.then(|| rng.gen_range(10..900)),
                    note: String::new(),
                });
            }
            let (csat, nps) = match last.kind {
                StageKind::Open => (None, None),
                kind => app::demo::rating(next_deal, kind == StageKind::Won),
            };
            chunk.deals.push(DemoDeal {
                csat,
                nps,
                id: next_deal,
                pipeline_id,
                stage_id: last.id,
                title: format!("Сделка {next_deal}"),
                amount,
                client_id,
                lead_id,
                source,
                responsible_id: manager,
                created_at,
                stage_entered_at: last_at,
                closed_at: (last.kind != StageKind::Open).then_some(last_at),
                loss_reason: (last.kind == StageKind::Lost).then_some("Дорого"),
                version: scale.events_per_deal.saturating_sub(1) as i64,
            });
        }
        storage.append_generated(&chunk).await?;
        written += n;
        if written % (CHUNK * 20) == 0 || written == scale.deals {
            println!("  {written} deals written ({:.0} s)", started.elapsed().as_secs_f64());
        }
    }
    let goals = app::goals::demo::seed_many(storage, base.org.id, now, GOALS).await?;
    let analyzing = Instant::now();
    storage.refresh_statistics().await?;
    println!("  statistics refreshed ({:.0} s)", analyzing.elapsed().as_secs_f64());
    println!(
        "Generated {} leads, {} deals, {} stage events, {} activities, {goals} active goals on top of the demo in {:.1} s.",
        next_lead - base.leads.iter().map(|l| l.id).max().unwrap_or(0),
        scale.deals,
        scale.deals * scale.events_per_deal,
        scale.deals * scale.activities_per_deal,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A lead of the generated history; only a `New` one is still waiting for its first response.
fn generated_lead(
    id: i64,
    manager: i64,
    source: &'static str,
    created_at: i64,
    status: LeadStatus,
    now: i64,
    rng: &mut StdRng,
) -> DemoLead {
    DemoLead {
        id,
        title: format!("Заявка {id}"),
        source,
        contact_name: format!("Контакт {id}"),
        phone: String::new(),
        status,
        disqualify_reason: (status == LeadStatus::Disqualified).then_some("Нет бюджета"),
        responsible_id: manager,
        created_at,
        // Answered within the hour, and never later than now.
        first_response_at: (status != LeadStatus::New)
            .then(|| (created_at + rng.gen_range(60_000..60 * 60_000)).min(now).max(created_at)),
        client_id: None,
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn report(what: &str, mut times: Vec<Duration>) {
    times.sort();
    println!(
        "{what:<44} n={:<5} p50 {:>7.2} ms  p95 {:>7.2} ms  p99 {:>7.2} ms",
        times.len(),
        percentile(&times, 0.5),
        percentile(&times, 0.95),
        percentile(&times, 0.99)
    );
}

/// One random move of a random deal to another open stage of its pipeline.
async fn random_move(
    storage: &dyn Storage,
    pipelines: &[app::pipeline::Pipeline],
    rng: &mut StdRng,
    max_deal: i64,
    actor: i64,
    key: String,
) -> Option<Duration> {
    let id = rng.gen_range(1..=max_deal);
    let head = storage.deal_head(1, id).await.ok()??;
    let stages: Vec<i64> = pipelines
        .iter()
        .find(|p| p.id == head.pipeline_id)?
        .stages
        .iter()
        .filter(|s| s.kind == StageKind::Open && s.id != head.stage_id)
        .map(|s| s.id)
        .collect();
    let to = stages[rng.gen_range(0..stages.len())];
    let request = MoveRequest { deal_id: id, to_stage_id: to, version: head.version, key, loss_reason: None };
    let started = Instant::now();
    let outcome = storage.move_deal(1, actor, &request, now_ms()).await;
    let took = started.elapsed();
    match outcome {
        Ok(MoveOutcome::Moved(_)) | Ok(MoveOutcome::Blocked(_)) => Some(took),
        // Another bench task moved it first; a conflict is an answer too, but not a move.
        Err(_) => None,
    }
}

/// Prints board load and move figures for the data in `storage`.
pub async fn measure(storage: Arc<dyn Storage>, rounds: usize, seconds: u64, movers: &[u64]) -> anyhow::Result<()> {
    let pipelines = storage.pipelines(1).await?;
    let users = storage.users(1, Visibility::All).await?;
    let managers: Vec<&app::org::User> = users.iter().filter(|u| u.role == app::access::Role::Manager).collect();
    let head = users.iter().find(|u| u.role == app::access::Role::Head).ok_or_else(|| anyhow::anyhow!("no head"))?;
    let admin = users.iter().find(|u| u.role == app::access::Role::Admin).ok_or_else(|| anyhow::anyhow!("no admin"))?;
    let deals: i64 = {
        // The highest deal id: deals are numbered from 1 without gaps by the generator.
        let mut lo: i64 = 1;
        let mut hi: i64 = 1 << 40;
        while lo < hi {
            let mid = (lo + hi + 1) / 2;
            if storage.deal_head(1, mid).await?.is_some() {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        lo
    };
    println!("Backend {}: {} deals; pipeline «{}».", storage.backend(), deals, pipelines[0].name);

    let mut rng = StdRng::seed_from_u64(7);
    let cases: Vec<(&str, Visibility, BoardFilter)> = vec![
        ("board, admin, no filter", Visibility::All, BoardFilter::default()),
        (
            "board, head (department)",
            Visibility::Department { department: head.department_id, user: head.id },
            BoardFilter::default(),
        ),
        ("board, manager (own deals)", Visibility::Own { user: managers[0].id }, BoardFilter::default()),
        (
            "board, admin, filter by manager",
            Visibility::All,
            BoardFilter { manager_id: Some(managers[1].id), ..Default::default() },
        ),
        (
            "board, admin, search \"клиент-12\"",
            Visibility::All,
            BoardFilter { search: Some("клиент-12".into()), ..Default::default() },
        ),
        (
            "board, admin, search one client \"клиент-4321»\"",
            Visibility::All,
            BoardFilter { search: Some("клиент-4321»".into()), ..Default::default() },
        ),
        (
            "board, admin, created within 30 days",
            Visibility::All,
            BoardFilter { created_days: Some(30), ..Default::default() },
        ),
    ];
    let mut all = Vec::new();
    for (what, visibility, filter) in cases {
        let filter = BoardFilter { pipeline_id: pipelines[0].id, ..filter };
        let mut times = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            let started = Instant::now();
            storage.board(1, &filter, visibility, now_ms()).await?;
            times.push(started.elapsed());
        }
        all.extend(times.iter().copied());
        report(what, times);
    }
    report("board, all of the above", all);

    let mut times = Vec::new();
    for i in 0..rounds * 5 {
        if let Some(t) =
            random_move(storage.as_ref(), &pipelines, &mut rng, deals, admin.id, format!("bench-seq-{i}-{}", now_ms()))
                .await
        {
            times.push(t);
        }
    }
    report("move, one at a time", times);

    for &movers in movers {
        measure_parallel_moves(&storage, &pipelines, deals, admin.id, movers, seconds).await?;
    }
    measure_funnel(storage.as_ref(), rounds, head, managers[1].id).await?;
    measure_kpis(storage.as_ref(), rounds, head, managers[1].id).await?;
    measure_norms(storage.as_ref(), rounds, head, managers[1].id).await?;
    measure_goals(storage.as_ref(), rounds, &pipelines, deals, admin.id, head).await
}

/// Sustained moves: `movers` tasks each read a random deal and move it, again
/// and again, for `seconds`.
async fn measure_parallel_moves(
    storage: &Arc<dyn Storage>,
    pipelines: &[app::pipeline::Pipeline],
    deals: i64,
    actor: i64,
    movers: u64,
    seconds: u64,
) -> anyhow::Result<()> {
    let moved = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let until = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for t in 0..movers {
        let (storage, moved, pipelines) = (storage.clone(), moved.clone(), pipelines.to_vec());
        tasks.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(100 + t);
            let mut i = 0;
            while Instant::now() < until {
                i += 1;
                let key = format!("bench-par-{t}-{i}-{}", now_ms());
                if random_move(storage.as_ref(), &pipelines, &mut rng, deals, actor, key).await.is_some() {
                    moved.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    let n = moved.load(std::sync::atomic::Ordering::Relaxed);
    println!(
        "moves, {movers} tasks for {seconds} s: {n} moves, {:.0} moves/s (each reads its deal first)",
        n as f64 / seconds as f64
    );
    Ok(())
}

/// Goals: a move followed by recounting every active goal (what the goals
/// job does after each change), the whole job pass, and a head's dashboard
/// (the goals a head sees, with previous periods, children and forecasts,
/// read side by side as the page does), each from a fresh counter, so no
/// figure comes from a cache.
async fn measure_goals(
    storage: &dyn Storage,
    rounds: usize,
    pipelines: &[app::pipeline::Pipeline],
    deals: i64,
    actor: i64,
    head: &app::org::User,
) -> anyhow::Result<()> {
    use app::goals::server::ssr::{tick, Counter};
    use app::goals::ParticipantKind;
    let goals = storage.goals(1, true).await?;
    let mut rng = StdRng::seed_from_u64(11);
    let mut times = Vec::with_capacity(rounds + 1);
    let mut requests = 0;
    // One round more than asked: the first, several times slower than the
    // rest (pages and statements no earlier phase read or prepared), is
    // printed on its own; the goals job of a running server recounts after
    // every change and does not start cold.
    for i in 0..=rounds {
        random_move(storage, pipelines, &mut rng, deals, actor, format!("bench-goal-{i}-{}", now_ms())).await;
        let started = Instant::now();
        let mut counter = Counter::new(storage, 1, now_ms()).await?;
        // As the job does: every distinct tally read side by side, then each goal's figure.
        counter.prefetch_periods(&goals).await?;
        let mut seen = std::collections::HashSet::new();
        for g in &goals {
            seen.insert(counter.request(g, g.period));
            counter.tally(g, g.period).await?;
        }
        requests = seen.len();
        times.push(started.elapsed());
    }
    let first = times.remove(0);
    println!("goals: first recount after the earlier phases {:.2} ms", first.as_secs_f64() * 1000.0);
    report(&format!("goals: recount {} after a move ({requests} queries)", goals.len()), times);

    let mut times = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let started = Instant::now();
        tick(storage, 1, now_ms()).await?;
        times.push(started.elapsed());
    }
    report("goals: job pass (recount, notices)", times);

    let people = storage.users(1, Visibility::All).await?;
    let in_department = |g: &app::goals::Goal| match g.participants.kind {
        ParticipantKind::Company => true,
        ParticipantKind::Department => g.participants.department_id == head.department_id,
        ParticipantKind::User => {
            people.iter().any(|u| Some(u.id) == g.participants.user_id && u.department_id == head.department_id)
        }
    };
    let visible: Vec<&app::goals::Goal> = goals.iter().filter(|g| in_department(g)).collect();
    let mut times = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let started = Instant::now();
        let mut counter = Counter::new(storage, 1, now_ms()).await?;
        let shown: Vec<(&app::goals::Goal, Vec<app::goals::Goal>)> = visible
            .iter()
            .map(|g| (*g, goals.iter().filter(|c| c.parent_id == Some(g.id)).cloned().collect()))
            .collect();
        let with_parts: Vec<_> = shown.iter().map(|(g, children)| (*g, children.as_slice())).collect();
        counter.prefetch_cards(&with_parts).await?;
        for (g, children) in &shown {
            counter.card(g, children, true, false).await?;
        }
        times.push(started.elapsed());
    }
    report(&format!("goals: head's dashboard ({} goals)", visible.len()), times);
    Ok(())
}

/// The people of the head's department, as the head's rights resolve them.
async fn head_department(storage: &dyn Storage, head: &app::org::User) -> anyhow::Result<Option<Vec<i64>>> {
    let visibility = Visibility::Department { department: head.department_id, user: head.id };
    Ok(storage.owners(1, None, None, visibility).await?)
}

/// Whose figures the KPI and norms lines are measured for: everyone, the head's department, one manager.
async fn owner_scopes(
    storage: &dyn Storage,
    head: &app::org::User,
    manager: i64,
) -> anyhow::Result<[(&'static str, Option<Vec<i64>>); 3]> {
    let department = head_department(storage, head).await?;
    Ok([("everyone", None), ("department", department), ("one manager", Some(vec![manager]))])
}

/// What the KPI page asks the storage for (this and the previous period's
/// counts per person) for whole-company, department and one-manager scopes,
/// then the same counts straight from the records for the ratio.
async fn measure_kpis(storage: &dyn Storage, rounds: usize, head: &app::org::User, manager: i64) -> anyhow::Result<()> {
    let tz = jiff::tz::TimeZone::get(&storage.time_zone(1).await?).unwrap_or(jiff::tz::TimeZone::UTC);
    let today = funnel::day_in(&tz, now_ms());
    let scopes = owner_scopes(storage, head, manager).await?;
    let mut all = Vec::new();
    for (period_name, period) in [
        ("today", Period { from: today, to: today }),
        ("30 days", Period { from: today - 29, to: today }),
        ("90 days", Period { from: today - 89, to: today }),
    ] {
        for (scope_name, owners) in &scopes {
            let mut times = Vec::with_capacity(rounds);
            let mut won = 0;
            for _ in 0..rounds {
                let started = Instant::now();
                won = 0;
                for p in [period, period.previous()] {
                    let rows = storage.kpi_counts(1, p, owners.as_deref()).await?;
                    won += rows.iter().map(|(_, c)| c.won).sum::<i64>();
                }
                times.push(started.elapsed());
            }
            all.extend(times.iter().copied());
            report(&format!("KPIs {period_name}, {scope_name} ({won} won)"), times);
        }
    }
    report("KPIs, all of the above", all);

    let threshold = storage.call_threshold(1).await?;
    for (period_name, days) in [("30 days", 30), ("90 days", 90)] {
        let period = Period { from: today - (days - 1), to: today };
        let started = Instant::now();
        let rolled = storage.kpi_counts(1, period, None).await?;
        let fast = started.elapsed();
        let started = Instant::now();
        let (from, to) = (funnel::day_start_ms(&tz, period.from), funnel::day_start_ms(&tz, period.to + 1));
        let raw = storage.kpi_counts_raw(1, from, to, None, threshold).await?;
        let slow = started.elapsed();
        println!(
            "KPIs {period_name}, everyone: roll-up {:.2} ms, naive from the records {:.2} ms ({:.0}x), equal: {}",
            fast.as_secs_f64() * 1000.0,
            slow.as_secs_f64() * 1000.0,
            slow.as_secs_f64() / fast.as_secs_f64().max(1e-9),
            rolled == raw
        );
    }
    Ok(())
}

/// The norms panel as the KPI page asks for it: today's and this week's
/// counts of the people in scope, and both lead alerts.
async fn measure_norms(
    storage: &dyn Storage,
    rounds: usize,
    head: &app::org::User,
    manager: i64,
) -> anyhow::Result<()> {
    let tz = jiff::tz::TimeZone::get(&storage.time_zone(1).await?).unwrap_or(jiff::tz::TimeZone::UTC);
    let now = now_ms();
    let today = funnel::day_in(&tz, now);
    let monday = today - funnel::date_of_day(today).weekday().to_monday_zero_offset() as i32;
    let response = storage.norm_settings(1).await?.response_minutes;
    let scopes = owner_scopes(storage, head, manager).await?;
    for (scope_name, owners) in &scopes {
        let mut times = Vec::with_capacity(rounds);
        let mut late = 0;
        for _ in 0..rounds {
            let started = Instant::now();
            for from in [today, monday] {
                storage.kpi_counts(1, Period { from, to: today }, owners.as_deref()).await?;
            }
            let (unanswered, silent) = storage
                .lead_alerts(
                    1,
                    owners.as_deref(),
                    now - response * 60_000,
                    now - app::norms::SILENT_DAYS * 86_400_000,
                    app::norms::ALERT_LIMIT,
                )
                .await?;
            late = unanswered.total + silent.total;
            times.push(started.elapsed());
        }
        report(&format!("norms panel, {scope_name} ({late} leads alerted)"), times);
    }
    Ok(())
}

/// What the funnel page asks the storage for, side by side as the page does:
/// this period's sums and medians and then its days for the chart, the
/// previous period's sums and medians, and the by-manager sums.
async fn funnel_report(storage: &dyn Storage, query: &FunnelQuery) -> anyhow::Result<i64> {
    let previous = FunnelQuery { period: query.period.previous(), ..query.clone() };
    let figures = |q: FunnelQuery| async move {
        let totals = storage.funnel_totals(1, &q).await?;
        storage.funnel_medians(1, &q).await?;
        Ok::<_, anyhow::Error>(totals)
    };
    let this_period = async {
        let totals = figures(query.clone()).await?;
        // Every step's days, where the page asks for two: an upper bound of its cost.
        let steps: Vec<_> = totals.iter().map(|(stage, _)| *stage).collect();
        storage.funnel_daily(1, query, &steps).await?;
        Ok::<_, anyhow::Error>(totals)
    };
    let managers = async { Ok::<_, anyhow::Error>(storage.funnel_managers(1, query).await?) };
    let (current, before, _) = futures::try_join!(this_period, figures(previous), managers)?;
    Ok(current.iter().chain(&before).map(|(_, t)| t.deals).sum())
}

/// Funnel report figures for a spread of filters, and the same report counted
/// naively from raw deal events for the ratio.
async fn measure_funnel(
    storage: &dyn Storage,
    rounds: usize,
    head: &app::org::User,
    manager: i64,
) -> anyhow::Result<()> {
    let zone = storage.time_zone(1).await?;
    let tz = jiff::tz::TimeZone::get(&zone).unwrap_or(jiff::tz::TimeZone::UTC);
    let day = |ms: i64| funnel::day_in(&tz, ms);
    let today = day(now_ms());
    let pipeline = storage.pipelines(1).await?.into_iter().next().ok_or_else(|| anyhow::anyhow!("no pipeline"))?;
    let steps = Steps::of(&pipeline.stages);
    let department = head_department(storage, head).await?;
    let month = funnel::preset_period(PeriodPreset::Last30, today).unwrap_or(Period { from: today, to: today });
    let quarter = Period { from: today - 89, to: today };
    let scopes: Vec<(&str, Scope)> = vec![
        ("everyone", Scope::default()),
        ("department", Scope { owners: department, ..Scope::default() }),
        ("one manager", Scope { owners: Some(vec![manager]), ..Scope::default() }),
        ("source", Scope { source: Some("website".into()), ..Scope::default() }),
        ("repeat clients", Scope { client: Some(ClientType::Repeat), ..Scope::default() }),
        (
            "manager+source+new",
            Scope { owners: Some(vec![manager]), source: Some("ads".into()), client: Some(ClientType::New) },
        ),
    ];
    let mut all = Vec::new();
    for mode in [FunnelMode::Cohort, FunnelMode::Flow] {
        for (period_name, period) in [("30 days", month), ("90 days", quarter)] {
            for (scope_name, scope) in &scopes {
                let query = FunnelQuery { pipeline_id: pipeline.id, mode, period, scope: scope.clone() };
                let mut times = Vec::with_capacity(rounds);
                let mut reached = 0;
                for _ in 0..rounds {
                    let started = Instant::now();
                    reached = funnel_report(storage, &query).await?;
                    times.push(started.elapsed());
                }
                all.extend(times.iter().copied());
                report(&format!("funnel {}, {period_name}, {scope_name} ({reached})", mode.as_str()), times);
            }
        }
    }
    report("funnel, all of the above", all);

    for mode in [FunnelMode::Cohort, FunnelMode::Flow] {
        let query = FunnelQuery { pipeline_id: pipeline.id, mode, period: month, scope: Scope::default() };
        let started = Instant::now();
        let rolled = storage.funnel_totals(1, &query).await?;
        let fast = started.elapsed();
        let started = Instant::now();
        let tracks = storage.funnel_tracks(1, &query).await?;
        let naive = naive_totals(&tracks, &steps, &day, mode, month, &Scope::default());
        let slow = started.elapsed();
        let same = steps
            .ids
            .iter()
            .zip(&naive)
            .all(|(id, n)| rolled.iter().find(|(s, _)| s == id).map(|(_, t)| *t).unwrap_or_default() == *n);
        println!(
            "funnel {} 30 days, everyone: roll-up {:.2} ms, naive from {} raw histories {:.2} ms ({:.0}x), equal: {same}",
            mode.as_str(),
            fast.as_secs_f64() * 1000.0,
            tracks.len(),
            slow.as_secs_f64() * 1000.0,
            slow.as_secs_f64() / fast.as_secs_f64().max(1e-9)
        );
    }
    Ok(())
}
