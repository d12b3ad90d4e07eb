//! The live funnel: how far the deals of a pipeline get, how fast, and who
//! loses them where. The definitions are in `docs/design.md` ("Funnel").
//!
//! - this file — the definitions as code, shared by both sides: a deal's
//!   reach of each step ([`reach`]), the per-day roll-up rows it adds
//!   ([`day_rows`]), the same figures straight from raw history
//!   ([`naive_totals`]), periods, outliers and CSV
//! - [`server`] — server functions: the report, the by-manager table, the
//!   deals behind a figure
//! - [`page`] — the funnel page
//! - [`period`] — the period filter the report pages share
//! - [`charts`] — its charts (funnel, per manager, per day) and their tables

pub mod charts;
pub mod page;
pub mod period;
pub mod server;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::org::{DeptId, UserId};
use crate::pipeline::{DealId, Money, PipelineId, Stage, StageId, StageKind};

/// A calendar day in the organisation's time zone, counted from 1970-01-01.
pub type Day = i32;

/// The longest period a report covers: ten years of days.
pub const MAX_PERIOD_DAYS: i32 = 3_660;
/// Deals listed behind one figure.
pub const DEALS_BEHIND: i64 = 100;
/// A manager's stage conversion is an outlier at or below this share of the
/// department's (70 %), once at least [`OUTLIER_BASE`] deals reached the stage before.
pub const OUTLIER_SHARE_PERCENT: i64 = 70;
pub const OUTLIER_BASE: i64 = 5;

named_enum!(
    /// Cohort: deals created in the period, how far they got. Flow: what
    /// happened in the period, whenever the deals were created.
    FunnelMode { Cohort, Flow }
);

named_enum!(
    /// New client: no won deal of the client closed before this deal was created.
    ClientType { New, Repeat }
);

named_enum!(
    /// Quick periods; `Custom` takes the dates given.
    PeriodPreset { Today, Yesterday, Last7, Last30, ThisWeek, LastWeek, ThisMonth, LastMonth, ThisQuarter, ThisYear, Custom }
);

/// A pipeline's steps in funnel order: open stages by position, then won
/// stages. Lost stages are not steps; a lost deal drops off after its furthest step.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Steps {
    pub ids: Vec<StageId>,
    pub lost: Vec<StageId>,
    pub won: Vec<StageId>,
}

impl Steps {
    /// Archived stages stay steps: history still passed through them.
    pub fn of(stages: &[Stage]) -> Steps {
        let mut sorted: Vec<&Stage> = stages.iter().collect();
        sorted.sort_by_key(|s| (s.kind == StageKind::Won, s.position, s.id));
        Steps {
            ids: sorted.iter().filter(|s| s.kind != StageKind::Lost).map(|s| s.id).collect(),
            lost: sorted.iter().filter(|s| s.kind == StageKind::Lost).map(|s| s.id).collect(),
            won: sorted.iter().filter(|s| s.kind == StageKind::Won).map(|s| s.id).collect(),
        }
    }

    pub fn rank(&self, stage: StageId) -> Option<usize> {
        self.ids.iter().position(|s| *s == stage)
    }
}

/// One deal's stage history as the funnel reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Track {
    pub deal_id: DealId,
    pub responsible_id: UserId,
    pub source: String,
    pub repeat: bool,
    pub amount: Money,
    pub created_at: i64,
    /// Every entry into a stage, oldest first; the first is the stage it was created in.
    pub entries: Vec<(i64, StageId)>,
}

/// What one deal adds at one step it reached, with the days that place it in
/// a period. Stored per deal and step, so the deals behind a figure and the
/// medians can be read back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reach {
    pub deal_id: DealId,
    pub stage_id: StageId,
    pub responsible_id: UserId,
    pub source: String,
    pub repeat: bool,
    pub amount: Money,
    pub created_day: Day,
    /// The first day the deal was at this step or further.
    pub reached_day: Day,
    /// Time of the finished visits to this stage; none while it has not left it yet.
    pub time_ms: Option<i64>,
    /// When it last left the stage.
    pub left_day: Option<Day>,
    /// On the furthest step of a lost deal: the day it was lost.
    pub lost_day: Option<Day>,
    /// On the won step: from creation to the first win.
    pub cycle_ms: Option<i64>,
}

/// A deal's reach of every step it got to, computed in one pass over its history.
pub fn reach(track: &Track, steps: &Steps, day: &dyn Fn(i64) -> Day) -> Vec<Reach> {
    let Some(&(last_at, last_stage)) = track.entries.last() else { return Vec::new() };
    let won_now = steps.won.contains(&last_stage);
    let mut reached_at: Vec<i64> = Vec::new();
    let mut visits: BTreeMap<StageId, (i64, i64)> = BTreeMap::new();
    for (i, &(at, stage)) in track.entries.iter().enumerate() {
        if let Some(&(next_at, _)) = track.entries.get(i + 1) {
            let visit = visits.entry(stage).or_insert((0, next_at));
            visit.0 += next_at - at;
            visit.1 = next_at;
        }
        // A win that was later reopened does not count as reaching the won step.
        let counts = won_now || !steps.won.contains(&stage);
        if let Some(rank) = steps.rank(stage).filter(|_| counts) {
            while reached_at.len() <= rank {
                reached_at.push(at);
            }
        }
    }
    let furthest = reached_at.len();
    let lost_day = steps.lost.contains(&last_stage).then(|| day(last_at));
    reached_at
        .iter()
        .enumerate()
        .map(|(rank, &at)| {
            let stage_id = steps.ids[rank];
            let visit = visits.get(&stage_id);
            Reach {
                deal_id: track.deal_id,
                stage_id,
                responsible_id: track.responsible_id,
                source: track.source.clone(),
                repeat: track.repeat,
                amount: track.amount,
                created_day: day(track.created_at),
                reached_day: day(at),
                time_ms: visit.map(|v| v.0),
                left_day: visit.map(|v| day(v.1)),
                lost_day: lost_day.filter(|_| rank + 1 == furthest),
                cycle_ms: (won_now && steps.won.contains(&stage_id)).then(|| at - track.created_at),
            }
        })
        .collect()
}

/// Sums at one step: the roll-up's measures and a report's figures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Deals that reached the step.
    pub deals: i64,
    /// Their current amounts.
    pub amount: Money,
    /// Deals lost with this step as their furthest.
    pub lost: i64,
    /// Finished time in the stage, summed, and how many deals it covers.
    pub time_ms: i64,
    pub timed: i64,
    /// Sales cycles of the deals won (on the won step only).
    pub cycle_ms: i64,
}

impl Totals {
    pub fn add(&mut self, other: &Totals) {
        self.deals += other.deals;
        self.amount += other.amount;
        self.lost += other.lost;
        self.time_ms += other.time_ms;
        self.timed += other.timed;
        self.cycle_ms += other.cycle_ms;
    }

    pub fn negated(&self) -> Totals {
        Totals {
            deals: -self.deals,
            amount: -self.amount,
            lost: -self.lost,
            time_ms: -self.time_ms,
            timed: -self.timed,
            cycle_ms: -self.cycle_ms,
        }
    }

    pub fn is_zero(&self) -> bool {
        *self == Totals::default()
    }

    pub fn average_time_ms(&self) -> Option<i64> {
        (self.timed > 0).then(|| self.time_ms / self.timed)
    }
}

/// Where a roll-up row sits: one day of one mode, one owner (0 for everyone),
/// source, client type and step.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct DayKey {
    pub mode: FunnelMode,
    pub day: Day,
    pub responsible_id: UserId,
    pub source: String,
    pub repeat: bool,
    pub stage_id: StageId,
}

/// The roll-up rows one deal's reach of one step adds, each once for its
/// manager and once for everyone (owner 0).
pub fn day_rows(r: &Reach) -> Vec<(DayKey, Totals)> {
    let cohort = Totals {
        deals: 1,
        amount: r.amount,
        lost: i64::from(r.lost_day.is_some()),
        time_ms: r.time_ms.unwrap_or(0),
        timed: i64::from(r.time_ms.is_some()),
        cycle_ms: r.cycle_ms.unwrap_or(0),
    };
    let mut rows = vec![
        (FunnelMode::Cohort, r.created_day, cohort),
        (
            FunnelMode::Flow,
            r.reached_day,
            Totals { deals: 1, amount: r.amount, cycle_ms: r.cycle_ms.unwrap_or(0), ..Totals::default() },
        ),
    ];
    if let Some(day) = r.lost_day {
        rows.push((FunnelMode::Flow, day, Totals { lost: 1, ..Totals::default() }));
    }
    if let (Some(time_ms), Some(day)) = (r.time_ms, r.left_day) {
        rows.push((FunnelMode::Flow, day, Totals { time_ms, timed: 1, ..Totals::default() }));
    }
    let mut out = Vec::with_capacity(rows.len() * 2);
    for (mode, day, totals) in rows {
        for owner in [r.responsible_id, 0] {
            let key = DayKey {
                mode,
                day,
                responsible_id: owner,
                source: r.source.clone(),
                repeat: r.repeat,
                stage_id: r.stage_id,
            };
            out.push((key, totals));
        }
    }
    out
}

/// The roll-up changes that turn `before` into `after` for one deal, zero rows left out.
pub fn day_changes(before: &[Reach], after: &[Reach]) -> BTreeMap<DayKey, Totals> {
    let mut changes: BTreeMap<DayKey, Totals> = BTreeMap::new();
    for r in before {
        for (key, t) in day_rows(r) {
            changes.entry(key).or_default().add(&t.negated());
        }
    }
    for r in after {
        for (key, t) in day_rows(r) {
            changes.entry(key).or_default().add(&t);
        }
    }
    changes.retain(|_, t| !t.is_zero());
    changes
}

/// Days in a block of the time histogram: a period reads each of its whole
/// blocks as one row and only its ragged ends day by day.
pub const TIME_BLOCK_DAYS: Day = 8;

/// The histogram bucket of a time in stage: its number of decimal digits and
/// its first two digits (`time_bucket` of `funnel_reach` computes the same in
/// SQL): 90 buckets to a decade, each at most a tenth as wide as its
/// shortest time (below 10 ms, one per millisecond). A later bucket holds only longer times, so the middle of a set of
/// times lies in the bucket where the running count passes half.
pub fn time_bucket(time_ms: i64) -> i64 {
    let t = time_ms.max(0);
    let digits = t.checked_ilog10().unwrap_or(0) + 1;
    let leading = if digits < 2 { t } else { t / 10_i64.pow(digits - 2) };
    i64::from(digits) * 100 + leading
}

/// Where a row of the time histogram sits: everyone's finished times of one
/// mode, one day (`span` 1) or block of [`TIME_BLOCK_DAYS`] starting at
/// `start`, client type, step and bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeKey {
    pub mode: FunnelMode,
    pub span: Day,
    pub start: Day,
    pub repeat: bool,
    pub stage_id: StageId,
    pub bucket: i64,
}

/// The histogram rows one deal's reach of one step counts once each: its
/// finished time on the creation day (cohort) and on the leaving day (flow),
/// each in that day and in that day's block.
pub fn time_rows(r: &Reach) -> Vec<TimeKey> {
    let Some(time_ms) = r.time_ms else { return Vec::new() };
    let bucket = time_bucket(time_ms);
    let days = [(FunnelMode::Cohort, Some(r.created_day)), (FunnelMode::Flow, r.left_day)];
    days.into_iter()
        .filter_map(|(mode, day)| Some((mode, day?)))
        .flat_map(|(mode, day)| {
            [1, TIME_BLOCK_DAYS].map(|span| TimeKey {
                mode,
                span,
                start: day - day.rem_euclid(span),
                repeat: r.repeat,
                stage_id: r.stage_id,
                bucket,
            })
        })
        .collect()
}

/// The histogram changes that turn `before` into `after` for one deal, zero rows left out.
pub fn time_changes(before: &[Reach], after: &[Reach]) -> BTreeMap<TimeKey, i64> {
    let mut changes: BTreeMap<TimeKey, i64> = BTreeMap::new();
    for (rows, sign) in [(before, -1), (after, 1)] {
        for key in rows.iter().flat_map(time_rows) {
            *changes.entry(key).or_default() += sign;
        }
    }
    changes.retain(|_, n| *n != 0);
    changes
}

/// A period as ranges of histogram rows, `(span, first start, last start)`:
/// the days before the first whole block, the whole blocks, the days after.
pub fn period_spans(period: Period) -> Vec<(Day, Day, Day)> {
    let first_block = period.from + (TIME_BLOCK_DAYS - period.from.rem_euclid(TIME_BLOCK_DAYS)) % TIME_BLOCK_DAYS;
    let blocks_end = period.to + 1 - (period.to + 1).rem_euclid(TIME_BLOCK_DAYS);
    if first_block >= blocks_end {
        return vec![(1, period.from, period.to)];
    }
    let mut spans = Vec::with_capacity(3);
    if period.from < first_block {
        spans.push((1, period.from, first_block - 1));
    }
    spans.push((TIME_BLOCK_DAYS, first_block, blocks_end - TIME_BLOCK_DAYS));
    if blocks_end <= period.to {
        spans.push((1, blocks_end, period.to));
    }
    spans
}

/// Where the median of a histogram's times lies: the buckets `lo..=hi` that
/// hold the middle time (or the two middle ones), how many times lie in
/// buckets below `lo`, and how many there are in all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MiddleBuckets {
    pub lo: i64,
    pub hi: i64,
    pub below: i64,
    pub count: i64,
}

impl MiddleBuckets {
    /// From a histogram, bucket → count; none when it is empty.
    pub fn of(histogram: &BTreeMap<i64, i64>) -> Option<MiddleBuckets> {
        let count: i64 = histogram.values().sum();
        let (low_rank, high_rank) = ((count - 1) / 2, count / 2);
        let (mut below, mut lo) = (0, None);
        for (&bucket, &n) in histogram.iter().filter(|(_, n)| **n > 0) {
            if lo.is_none() && low_rank < below + n {
                lo = Some((bucket, below));
            }
            if high_rank < below + n {
                let (lo, below) = lo?;
                return Some(MiddleBuckets { lo, hi: bucket, below, count });
            }
            below += n;
        }
        None
    }

    /// How many of the sorted times of buckets `lo..=hi` to skip, and how many to read.
    pub fn window(&self) -> (i64, i64) {
        let low_rank = (self.count - 1) / 2;
        (low_rank - self.below, self.count / 2 - low_rank + 1)
    }

    /// The median from the times [`Self::window`] read, as [`median`] counts it.
    pub fn median(&self, window: &[i64]) -> Option<i64> {
        let (first, last) = (window.first()?, window.last()?);
        (window.len() as i64 == self.window().1).then(|| (first + last).div_euclid(2))
    }
}

/// Which deals a report counts. `owners` is the resolved manager, department
/// and rights filter: `None` is everyone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scope {
    pub owners: Option<Vec<UserId>>,
    pub source: Option<String>,
    pub client: Option<ClientType>,
}

impl Scope {
    pub fn covers(&self, responsible: UserId, source: &str, repeat: bool) -> bool {
        self.owners.as_ref().is_none_or(|o| o.contains(&responsible))
            && self.source.as_deref().is_none_or(|s| s == source)
            && self.client.is_none_or(|c| (c == ClientType::Repeat) == repeat)
    }
}

/// A resolved report query: what the storage reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunnelQuery {
    pub pipeline_id: PipelineId,
    pub mode: FunnelMode,
    pub period: Period,
    pub scope: Scope,
}

/// A period of whole days, both ends included.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Period {
    pub from: Day,
    pub to: Day,
}

impl Period {
    pub fn contains(&self, day: Day) -> bool {
        (self.from..=self.to).contains(&day)
    }

    pub fn days(&self) -> i32 {
        self.to - self.from + 1
    }

    /// The period of the same length just before this one.
    pub fn previous(&self) -> Period {
        Period { from: self.from - self.days(), to: self.from - 1 }
    }
}

/// The figures of every step straight from raw histories, written from the
/// definitions without the roll-up, to check it and to measure it against.
pub fn naive_totals(
    tracks: &[Track],
    steps: &Steps,
    day: &dyn Fn(i64) -> Day,
    mode: FunnelMode,
    period: Period,
    scope: &Scope,
) -> Vec<Totals> {
    naive_steps(tracks, steps, day, mode, period, scope).into_iter().map(|(t, _)| t).collect()
}

/// Each step's median time in stage, counted the same naive way.
pub fn naive_medians(
    tracks: &[Track],
    steps: &Steps,
    day: &dyn Fn(i64) -> Day,
    mode: FunnelMode,
    period: Period,
    scope: &Scope,
) -> Vec<Option<i64>> {
    naive_steps(tracks, steps, day, mode, period, scope).into_iter().map(|(_, times)| median(times)).collect()
}

/// Each step's totals and the times in stage behind its `timed`, from raw histories.
fn naive_steps(
    tracks: &[Track],
    steps: &Steps,
    day: &dyn Fn(i64) -> Day,
    mode: FunnelMode,
    period: Period,
    scope: &Scope,
) -> Vec<(Totals, Vec<i64>)> {
    let mut totals = vec![(Totals::default(), Vec::new()); steps.ids.len()];
    for track in tracks.iter().filter(|t| scope.covers(t.responsible_id, &t.source, t.repeat)) {
        let Some(&(last_at, last_stage)) = track.entries.last() else { continue };
        let won_now = steps.won.contains(&last_stage);
        let counted = |stage: StageId| won_now || !steps.won.contains(&stage);
        let furthest = track.entries.iter().filter(|(_, s)| counted(*s)).filter_map(|(_, s)| steps.rank(*s)).max();
        let created_in = period.contains(day(track.created_at));
        for (rank, &stage) in steps.ids.iter().enumerate() {
            let Some(reached_at) = track
                .entries
                .iter()
                .find(|(_, s)| counted(*s) && steps.rank(*s).is_some_and(|r| r >= rank))
                .map(|(at, _)| *at)
            else {
                continue;
            };
            let finished: Vec<(i64, i64)> =
                track.entries.windows(2).filter(|w| w[0].1 == stage).map(|w| (w[1].0 - w[0].0, w[1].0)).collect();
            let time_ms: i64 = finished.iter().map(|v| v.0).sum();
            let left_at = finished.iter().map(|v| v.1).max();
            let lost_at = (steps.lost.contains(&last_stage) && furthest == Some(rank)).then_some(last_at);
            let cycle = (won_now && steps.won.contains(&stage)).then(|| reached_at - track.created_at);
            let (t, times) = &mut totals[rank];
            match mode {
                FunnelMode::Cohort if created_in => {
                    t.deals += 1;
                    t.amount += track.amount;
                    t.lost += i64::from(lost_at.is_some());
                    if left_at.is_some() {
                        t.time_ms += time_ms;
                        t.timed += 1;
                        times.push(time_ms);
                    }
                    t.cycle_ms += cycle.unwrap_or(0);
                }
                FunnelMode::Cohort => {}
                FunnelMode::Flow => {
                    if period.contains(day(reached_at)) {
                        t.deals += 1;
                        t.amount += track.amount;
                        t.cycle_ms += cycle.unwrap_or(0);
                    }
                    if lost_at.is_some_and(|at| period.contains(day(at))) {
                        t.lost += 1;
                    }
                    if left_at.is_some_and(|at| period.contains(day(at))) {
                        t.time_ms += time_ms;
                        t.timed += 1;
                        times.push(time_ms);
                    }
                }
            }
        }
    }
    totals
}

/// Finished times in each stage of the deals a report counts, for medians.
pub fn times_in_period(r: &Reach, mode: FunnelMode, period: Period) -> Option<i64> {
    let day = match mode {
        FunnelMode::Cohort => r.created_day,
        FunnelMode::Flow => r.left_day?,
    };
    r.time_ms.filter(|_| period.contains(day))
}

/// The middle value; for an even count the mean of the two middle ones, rounded down.
pub fn median(mut values: Vec<i64>) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 { values[mid] } else { (values[mid - 1] + values[mid]).div_euclid(2) })
}

/// `part / whole` as a share, none when nothing to divide by.
pub fn share(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// One step of a report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepFigures {
    pub stage_id: StageId,
    pub name: String,
    pub kind: StageKind,
    pub totals: Totals,
    pub median_time_ms: Option<i64>,
}

/// One period's funnel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunnelFigures {
    pub period: Period,
    pub steps: Vec<StepFigures>,
}

impl FunnelFigures {
    /// Conversion into step `i` from the step before it.
    pub fn from_previous(&self, i: usize) -> Option<f64> {
        let before = self.steps.get(i.checked_sub(1)?)?;
        share(self.steps.get(i)?.totals.deals, before.totals.deals)
    }

    /// Conversion into step `i` from the first step.
    pub fn from_first(&self, i: usize) -> Option<f64> {
        share(self.steps.get(i)?.totals.deals, self.steps.first()?.totals.deals)
    }

    /// Deals that reached step `i` and got no further (still there or lost).
    pub fn dropped(&self, i: usize) -> Option<i64> {
        let here = self.steps.get(i)?.totals.deals;
        Some(here - self.steps.get(i + 1)?.totals.deals)
    }

    pub fn won(&self) -> Option<&StepFigures> {
        self.steps.iter().rev().find(|s| s.kind == StageKind::Won)
    }

    /// Won deals over deals that entered the funnel.
    pub fn overall(&self) -> Option<f64> {
        share(self.won()?.totals.deals, self.steps.first()?.totals.deals)
    }

    /// Average days from creation to win.
    pub fn average_cycle_ms(&self) -> Option<i64> {
        let won = self.won()?;
        (won.totals.deals > 0).then(|| won.totals.cycle_ms / won.totals.deals)
    }
}

/// What the funnel page asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FunnelRequest {
    pub pipeline_id: Option<PipelineId>,
    pub mode: Option<FunnelMode>,
    pub preset: Option<PeriodPreset>,
    /// `YYYY-MM-DD`, for `Custom`.
    pub from: Option<String>,
    pub to: Option<String>,
    pub manager_id: Option<UserId>,
    pub department_id: Option<DeptId>,
    pub source: Option<String>,
    pub client: Option<ClientType>,
}

/// The funnel page's answer: this period, the one before, when computed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunnelReport {
    pub pipeline_id: PipelineId,
    pub mode: FunnelMode,
    pub current: FunnelFigures,
    pub previous: FunnelFigures,
    pub managers: Vec<ManagerRow>,
    /// The current period day by day, for the dynamics chart.
    pub daily: Vec<DailyPoint>,
    /// UTC milliseconds; shown as "as of".
    pub computed_at: i64,
    pub from_text: String,
    pub to_text: String,
}

/// One day of the daily dynamics: deals that entered the funnel (reached its
/// first step) and deals that reached its won step, placed on the day the
/// mode places them (creation for cohort, the move for flow).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyPoint {
    pub day: Day,
    pub entered: i64,
    pub won: i64,
    pub won_amount: Money,
}

/// Every day of the period in order, zero where the roll-up has no row, from
/// (day, step, deals, amount) rows of the first and the won step.
pub fn daily_points(
    period: Period,
    first: Option<StageId>,
    won: Option<StageId>,
    rows: &[(Day, StageId, i64, Money)],
) -> Vec<DailyPoint> {
    let mut points: Vec<DailyPoint> =
        (period.from..=period.to).map(|day| DailyPoint { day, ..DailyPoint::default() }).collect();
    for &(day, stage, deals, amount) in rows {
        let Some(point) = usize::try_from(day - period.from).ok().and_then(|i| points.get_mut(i)) else { continue };
        if Some(stage) == first {
            point.entered += deals;
        }
        if Some(stage) == won {
            point.won += deals;
            point.won_amount += amount;
        }
    }
    points
}

/// One manager's reach of each step, for the by-manager table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagerRow {
    pub user_id: UserId,
    pub name: String,
    pub department_id: Option<DeptId>,
    /// Deals per step, in step order.
    pub deals: Vec<i64>,
    /// Per step: the conversion into it is far below the department's.
    pub outlier: Vec<bool>,
}

/// Marks the steps where a manager converts at or below
/// [`OUTLIER_SHARE_PERCENT`] of the department, in integers so nothing rounds.
pub fn outliers(manager: &[i64], department: &[i64]) -> Vec<bool> {
    (0..manager.len())
        .map(|i| {
            if i == 0 || manager[i - 1] < OUTLIER_BASE || department.get(i - 1).copied().unwrap_or(0) == 0 {
                return false;
            }
            // manager[i] / manager[i-1] <= 0.7 * department[i] / department[i-1]
            manager[i] * department[i - 1] * 100 <= OUTLIER_SHARE_PERCENT * department[i] * manager[i - 1]
                && department[i] > 0
        })
        .collect()
}

/// The deals behind one figure.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BehindRequest {
    pub funnel: FunnelRequest,
    pub stage_id: StageId,
    /// Only those lost with this step as their furthest.
    pub lost: bool,
    /// Only those that went no further than this step (cohort mode: in flow
    /// mode that figure is a difference of two counts, not a set of deals).
    pub dropped: bool,
    pub previous: bool,
}

/// Which of a step's deals a figure stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepDeals {
    /// Reached the step (its deals and money).
    Reached,
    /// Lost with the step as their furthest.
    Lost,
    /// Reached the step but not `next`, the step after it.
    WentNoFurther { next: StageId },
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DealsBehind {
    pub total: i64,
    pub deals: Vec<crate::pipeline::Card>,
}

/// Day number of a calendar date.
pub fn day_of_date(date: jiff::civil::Date) -> Day {
    (date.duration_since(jiff::civil::date(1970, 1, 1)).as_hours() / 24) as Day
}

/// The calendar day of a moment (UTC milliseconds) in a time zone.
pub fn day_in(tz: &jiff::tz::TimeZone, ms: i64) -> Day {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(ts) => day_of_date(tz.to_datetime(ts).date()),
        Err(_) => ms.div_euclid(crate::pipeline::DAY_MS) as Day,
    }
}

/// The first moment (UTC milliseconds) of a day in a time zone; a day
/// starting inside a clock change starts when the clock resumes.
pub fn day_start_ms(tz: &jiff::tz::TimeZone, day: Day) -> i64 {
    date_of_day(day)
        .to_zoned(tz.clone())
        .map_or(i64::from(day) * crate::pipeline::DAY_MS, |z| z.timestamp().as_millisecond())
}

/// Calendar date of a day number.
pub fn date_of_day(day: Day) -> jiff::civil::Date {
    jiff::civil::date(1970, 1, 1)
        .checked_add(jiff::SignedDuration::from_hours(i64::from(day) * 24))
        .unwrap_or(jiff::civil::date(1970, 1, 1))
}

/// The period a preset means on `today`; weeks start on Monday.
pub fn preset_period(preset: PeriodPreset, today: Day) -> Option<Period> {
    let date = date_of_day(today);
    let first_of = |y: i16, m: i8| day_of_date(jiff::civil::date(y, m, 1));
    let days = |from: Day, to: Day| Some(Period { from, to });
    let monday = today - i32::from(date.weekday().to_monday_zero_offset());
    let month_start = first_of(date.year(), date.month());
    match preset {
        PeriodPreset::Today => days(today, today),
        PeriodPreset::Yesterday => days(today - 1, today - 1),
        PeriodPreset::Last7 => days(today - 6, today),
        PeriodPreset::Last30 => days(today - 29, today),
        PeriodPreset::ThisWeek => days(monday, today),
        PeriodPreset::LastWeek => days(monday - 7, monday - 1),
        PeriodPreset::ThisMonth => days(month_start, today),
        PeriodPreset::LastMonth => {
            let (y, m) = if date.month() == 1 { (date.year() - 1, 12) } else { (date.year(), date.month() - 1) };
            days(first_of(y, m), month_start - 1)
        }
        PeriodPreset::ThisQuarter => days(first_of(date.year(), (date.month() - 1) / 3 * 3 + 1), today),
        PeriodPreset::ThisYear => days(first_of(date.year(), 1), today),
        PeriodPreset::Custom => None,
    }
}

/// A `YYYY-MM-DD` date as a day number.
pub fn parse_day(text: &str) -> Option<Day> {
    text.trim().parse::<jiff::civil::Date>().ok().map(day_of_date)
}

pub fn day_text(day: Day) -> String {
    date_of_day(day).to_string()
}

/// One CSV field, quoted when it holds a separator, quote or line break.
pub fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// Rows of fields as CSV with CRLF line ends and a byte-order mark, as spreadsheets expect.
pub fn csv(rows: &[Vec<String>]) -> String {
    let mut out = String::from("\u{feff}");
    for row in rows {
        let line: Vec<String> = row.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests;
