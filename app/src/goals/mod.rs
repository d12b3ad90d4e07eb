//! Goals and sales plans (seed 004): a target for a period, counted from the
//! records themselves. Definitions are in `docs/design.md` ("Goals").
//!
//! - this file — goal settings, periods and recurrence, progress, pace,
//!   forecast and outlook, cascade splits, ranking and the plan line: the
//!   pure calculations both sides share
//! - [`server`] — server functions: the dashboard, one goal, saving,
//!   splitting, manual progress, notifications; and the job that closes,
//!   renews and watches goals
//! - [`page`] — the goals dashboard and the goal page
//! - [`charts`] — the goal page's plan-versus-fact chart and its table
//! - [`demo`] — goals for the demo organisation and the benchmark (server only)

pub mod charts;
#[cfg(feature = "ssr")]
pub mod demo;
pub mod page;
pub mod server;

use serde::{Deserialize, Serialize};

use crate::funnel::{date_of_day, day_of_date, Day, Period};
use crate::org::{DeptId, UserId};
use crate::pipeline::{Money, PipelineId, StageId};

pub type GoalId = i64;

/// The largest target one may set: a trillion roubles in kopecks.
pub const MAX_TARGET: i64 = 100_000_000_000_000;
pub const MAX_NAME: usize = 200;
pub const MAX_DESCRIPTION: usize = 2_000;
/// How many parts one cascade step may split into.
pub const MAX_PARTS: usize = 200;
/// Goal periods lie within these years, so calendar arithmetic never leaves
/// the dates the calendar library knows.
pub const FIRST_YEAR: i16 = 2000;
pub const LAST_YEAR: i16 = 2100;
/// Progress milestones, percent, each announced once.
pub const MILESTONES: [i64; 3] = [50, 75, 100];
/// Below this share of the target (percent) a forecast is "behind" rather than "at risk".
pub const AT_RISK_PERCENT: i64 = 80;
/// By default the risk warning waits until this share of the period (percent)
/// has passed, so the first slow days do not raise alarms; each goal may set its own.
pub const RISK_AFTER_PERCENT: i64 = 30;
/// "Deadline approaching": this many days before the end, or the last day of a short period.
pub const DEADLINE_DAYS: i32 = 3;

named_enum!(
    /// What a goal counts. `FirstResponse` is an average (seconds), `Manual`
    /// what people record themselves; the rest are counts or sums of records.
    GoalMetric { LeadsCreated, DealsCreated, DealsWon, WonAmount, Calls, Meetings, Proposals, Chats, FirstResponse, Manual }
);

named_enum!(
    /// Whether more is better (sales) or less (response time).
    Direction { Higher, Lower }
);

named_enum!(
    /// The calendar unit of a goal's period; `Custom` is any run of days.
    PeriodKind { Day, Week, Month, Quarter, Year, Custom }
);

named_enum!(
    /// Whose records count: one person's, a department's people's, or everyone's.
    ParticipantKind { User, Department, Company }
);

named_enum!(
    /// A goal's life: counted live while active, frozen once closed.
    GoalStatus { Active, Achieved, Missed }
);

named_enum!(
    /// How an active goal is doing, from its forecast.
    Outlook { Achieved, OnTrack, AtRisk, Behind }
);

named_enum!(
    /// How a goal's target is shared among its children.
    SplitMode { Even, Weights, Manual }
);

named_enum!(
    /// What an in-app notification is about.
    NoticeKind { Milestone, Risk, Deadline, Daily, Closed }
);

impl GoalMetric {
    /// The natural direction: response time is better lower, everything else higher.
    pub fn default_direction(self) -> Direction {
        if self == GoalMetric::FirstResponse {
            Direction::Lower
        } else {
            Direction::Higher
        }
    }

    /// Sums of children make the parent's figure; averages do not, so they are not split.
    pub fn is_additive(self) -> bool {
        self != GoalMetric::FirstResponse
    }

    /// Money metrics are kopecks.
    pub fn is_money(self) -> bool {
        self == GoalMetric::WonAmount
    }

    /// Which filters decide which records count for this metric.
    pub fn accepts(self, filters: &GoalFilters) -> Result<(), &'static str> {
        use GoalMetric::*;
        let deals = matches!(self, DealsCreated | DealsWon | WonAmount);
        let leads = matches!(self, LeadsCreated | FirstResponse);
        if filters.source.is_some() && !(deals || leads) {
            return Err("source");
        }
        if (filters.pipeline_id.is_some() || filters.stage_id.is_some()) && !deals {
            return Err(if filters.pipeline_id.is_some() { "pipeline" } else { "stage" });
        }
        if filters.manager_id.is_some() && self == Manual {
            return Err("responsible");
        }
        Ok(())
    }
}

/// Which records count, beyond the goal's participants and period.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(default)]
pub struct GoalFilters {
    /// Lead or deal source (channel).
    pub source: Option<String>,
    pub pipeline_id: Option<PipelineId>,
    /// Deals whose current stage is this one.
    pub stage_id: Option<StageId>,
    /// Only this responsible person's records (within the participants).
    pub manager_id: Option<UserId>,
}

/// Whose records a goal counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participants {
    pub kind: ParticipantKind,
    pub user_id: Option<UserId>,
    pub department_id: Option<DeptId>,
}

/// Which notification rules a goal runs; each can be turned off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notify {
    pub milestones: bool,
    pub risk: bool,
    /// The share of the period (percent, 1…100) before the risk warning may
    /// be raised: a goal that starts slowly by design warns later.
    #[serde(default = "default_risk_after")]
    pub risk_after: i64,
    pub deadline: bool,
    pub daily: bool,
}

fn default_risk_after() -> i64 {
    RISK_AFTER_PERCENT
}

impl Default for Notify {
    fn default() -> Self {
        Notify { milestones: true, risk: true, risk_after: RISK_AFTER_PERCENT, deadline: true, daily: true }
    }
}

/// What the goal form sends; the server checks every field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoalForm {
    /// `None` creates a goal.
    pub id: Option<GoalId>,
    /// The version the edit was made at.
    pub version: i64,
    pub parent_id: Option<GoalId>,
    pub name: String,
    pub description: String,
    pub metric: GoalMetric,
    pub direction: Direction,
    /// Count, kopecks or seconds, as the metric reads.
    pub target: i64,
    pub period_kind: PeriodKind,
    /// `YYYY-MM-DD`: any day in the period for calendar kinds, the first day for custom.
    pub start: String,
    /// The last day, for custom periods only.
    pub end: String,
    pub recurring: bool,
    pub participants: Participants,
    pub filters: GoalFilters,
    pub notify: Notify,
}

/// A stored goal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Goal {
    pub id: GoalId,
    pub parent_id: Option<GoalId>,
    pub name: String,
    pub description: String,
    pub metric: GoalMetric,
    pub direction: Direction,
    pub target: i64,
    pub period_kind: PeriodKind,
    pub period: Period,
    pub recurring: bool,
    pub participants: Participants,
    /// The person's or department's name, or empty for the company.
    pub participant_name: String,
    pub filters: GoalFilters,
    pub notify: Notify,
    pub status: GoalStatus,
    /// Frozen at closing.
    pub final_value: Option<i64>,
    pub version: i64,
    pub created_by: UserId,
    pub created_at: i64,
}

/// A checked goal, ready to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GoalDraft {
    pub parent_id: Option<GoalId>,
    pub name: String,
    pub description: String,
    pub metric: GoalMetric,
    pub direction: Direction,
    pub target: i64,
    pub period_kind: PeriodKind,
    pub period: Period,
    pub recurring: bool,
    pub participants: Participants,
    pub filters: GoalFilters,
    pub notify: Notify,
}

impl Goal {
    pub fn draft(&self) -> GoalDraft {
        GoalDraft {
            parent_id: self.parent_id,
            name: self.name.clone(),
            description: self.description.clone(),
            metric: self.metric,
            direction: self.direction,
            target: self.target,
            period_kind: self.period_kind,
            period: self.period,
            recurring: self.recurring,
            participants: self.participants,
            filters: self.filters.clone(),
            notify: self.notify,
        }
    }
}

/// What a set of records adds up to: a sum and how many records; a count's
/// sum is its number of records, an average is `sum / n`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub sum: i64,
    pub n: i64,
}

impl std::ops::AddAssign for Tally {
    fn add_assign(&mut self, o: Tally) {
        self.sum += o.sum;
        self.n += o.n;
    }
}

impl Tally {
    /// The goal's figure: the sum, or for an average the mean rounded half up;
    /// an average of nothing is no figure at all.
    pub fn value(self, metric: GoalMetric) -> Option<i64> {
        if metric.is_additive() {
            Some(self.sum)
        } else if self.n > 0 {
            Some((self.sum * 2 + self.n).div_euclid(self.n * 2))
        } else {
            None
        }
    }
}

/// The period of `kind` around `day`: the calendar day, week (from Monday),
/// month, quarter or year holding it. `Custom` has no calendar shape.
pub fn calendar_period(kind: PeriodKind, day: Day) -> Option<Period> {
    let date = date_of_day(day);
    let first = |y: i16, m: i8| day_of_date(jiff::civil::date(y, m, 1));
    let months = |y: i16, m: i8, count: i8| {
        let start = first(y, m);
        let (ny, nm) = add_months(y, m, count);
        Period { from: start, to: first(ny, nm) - 1 }
    };
    match kind {
        PeriodKind::Day => Some(Period { from: day, to: day }),
        PeriodKind::Week => {
            let monday = day - i32::from(date.weekday().to_monday_zero_offset());
            Some(Period { from: monday, to: monday + 6 })
        }
        PeriodKind::Month => Some(months(date.year(), date.month(), 1)),
        PeriodKind::Quarter => Some(months(date.year(), (date.month() - 1) / 3 * 3 + 1, 3)),
        PeriodKind::Year => Some(months(date.year(), 1, 12)),
        PeriodKind::Custom => None,
    }
}

fn add_months(y: i16, m: i8, count: i8) -> (i16, i8) {
    let index = i32::from(y) * 12 + i32::from(m - 1) + i32::from(count);
    (index.div_euclid(12) as i16, (index.rem_euclid(12) + 1) as i8)
}

/// The period a recurring goal renews into: the next calendar unit, or for
/// a custom period the same number of days right after.
pub fn next_period(kind: PeriodKind, period: Period) -> Period {
    calendar_period(kind, period.to + 1).unwrap_or(Period { from: period.to + 1, to: period.to + period.days() })
}

/// Where a goal stands at a moment: the inputs of every figure on its card.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Standing {
    pub value: Option<i64>,
    pub target: i64,
    /// Share of the period gone, 0…1.
    pub elapsed: f64,
}

impl Standing {
    /// Value as a share of the target, percent (rounded down). For "lower is
    /// better" it is target / value, so 100 % or more means within the target.
    pub fn percent(&self, direction: Direction) -> Option<i64> {
        let value = self.value?;
        Some(match direction {
            Direction::Higher if self.target > 0 => (i128::from(value) * 100 / i128::from(self.target)) as i64,
            Direction::Higher => 100,
            Direction::Lower if value <= 0 => 100,
            Direction::Lower => (i128::from(self.target) * 100 / i128::from(value)) as i64,
        })
    }

    /// Where the value should be by now if it grew evenly over the period;
    /// an average should be at its target all along.
    pub fn expected_now(&self, metric: GoalMetric) -> i64 {
        if metric.is_additive() {
            (self.target as f64 * self.elapsed).round() as i64
        } else {
            self.target
        }
    }

    /// The final value if the pace so far holds (an average stays as it is).
    pub fn run_rate(&self, metric: GoalMetric) -> Option<i64> {
        let value = self.value?;
        if !metric.is_additive() || self.elapsed >= 1.0 {
            return Some(value);
        }
        if self.elapsed <= 0.0 {
            return Some(value);
        }
        Some((value as f64 / self.elapsed).round() as i64)
    }

    /// On track, at risk or behind, from the forecast; achieved once a
    /// "higher" goal reached its target (it cannot fall back).
    pub fn outlook(&self, metric: GoalMetric, direction: Direction) -> Outlook {
        let Some(value) = self.value else {
            return if self.elapsed >= 1.0 { Outlook::Behind } else { Outlook::OnTrack };
        };
        let forecast = self.run_rate(metric).unwrap_or(value);
        let target = i128::from(self.target);
        match direction {
            Direction::Higher => {
                if value >= self.target {
                    Outlook::Achieved
                } else if forecast >= self.target {
                    Outlook::OnTrack
                } else if i128::from(forecast) * 100 >= target * i128::from(AT_RISK_PERCENT) {
                    Outlook::AtRisk
                } else {
                    Outlook::Behind
                }
            }
            Direction::Lower => {
                // A count already over its ceiling cannot come back; an average can.
                if metric.is_additive() && value > self.target {
                    Outlook::Behind
                } else if forecast <= self.target {
                    if self.elapsed >= 1.0 {
                        Outlook::Achieved
                    } else {
                        Outlook::OnTrack
                    }
                } else if i128::from(forecast) * i128::from(AT_RISK_PERCENT) <= target * 100 {
                    Outlook::AtRisk
                } else {
                    Outlook::Behind
                }
            }
        }
    }
}

/// How a goal ends: achieved when its final value meets the target.
pub fn final_status(value: Option<i64>, target: i64, direction: Direction) -> GoalStatus {
    let achieved = match (value, direction) {
        (Some(v), Direction::Higher) => v >= target,
        (Some(v), Direction::Lower) => v <= target,
        (None, _) => false,
    };
    if achieved {
        GoalStatus::Achieved
    } else {
        GoalStatus::Missed
    }
}

/// Milestones (percent) a progress reading has reached, lowest first; the
/// notice table's uniqueness keeps each from being raised twice.
pub fn milestones_reached(percent: Option<i64>) -> Vec<i64> {
    let Some(now) = percent else { return Vec::new() };
    MILESTONES.iter().copied().filter(|m| now >= *m).collect()
}

/// Shares `target` among parts: evenly, by weights, or as given (`Manual`,
/// where `amounts` are the parts' targets). Even and weighted splits add up
/// to the target exactly: the kopecks left over go to the parts that lost
/// most to rounding (the earlier part on a tie).
pub fn split(target: i64, mode: SplitMode, amounts: &[i64]) -> Result<Vec<i64>, &'static str> {
    if amounts.is_empty() {
        return Err("parts");
    }
    if amounts.iter().any(|a| *a < 0) {
        return Err("weights");
    }
    match mode {
        SplitMode::Manual => Ok(amounts.to_vec()),
        SplitMode::Even => split(target, SplitMode::Weights, &vec![1; amounts.len()]),
        SplitMode::Weights => {
            let total: i128 = amounts.iter().map(|w| i128::from(*w)).sum();
            if total == 0 {
                return Err("weights");
            }
            let exact: Vec<(i64, i128)> = amounts
                .iter()
                .map(|w| {
                    let scaled = i128::from(target) * i128::from(*w);
                    ((scaled / total) as i64, scaled % total)
                })
                .collect();
            let mut parts: Vec<i64> = exact.iter().map(|e| e.0).collect();
            let left = target - parts.iter().sum::<i64>();
            let mut order: Vec<usize> = (0..parts.len()).collect();
            order.sort_by(|a, b| exact[*b].1.cmp(&exact[*a].1).then(a.cmp(b)));
            for i in order.into_iter().take(left as usize) {
                parts[i] += 1;
            }
            Ok(parts)
        }
    }
}

/// One participant's line in a goal's ranking.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ranked {
    pub rank: i64,
    pub user_id: UserId,
    pub name: String,
    pub value: Option<i64>,
    /// The person's own target where a child goal gives one.
    pub target: Option<i64>,
    pub percent: Option<i64>,
}

/// Orders people best first: by progress against their own targets when
/// they all have one, by value otherwise; "lower is better" reverses the
/// values. Equal results share a rank (1, 1, 3).
pub fn rank(mut rows: Vec<Ranked>, direction: Direction) -> Vec<Ranked> {
    let by_percent = rows.iter().all(|r| r.target.is_some());
    let key = |r: &Ranked| -> (bool, i64) {
        let v = if by_percent { r.percent } else { r.value };
        match (v, direction) {
            (None, _) => (true, 0),
            (Some(v), Direction::Lower) if !by_percent => (false, v),
            (Some(v), _) => (false, -v),
        }
    };
    rows.sort_by(|a, b| key(a).cmp(&key(b)).then(a.name.cmp(&b.name)));
    let mut previous: Option<((bool, i64), i64)> = None;
    for (i, row) in rows.iter_mut().enumerate() {
        let k = key(row);
        row.rank = match previous {
            Some((pk, pr)) if pk == k => pr,
            _ => i as i64 + 1,
        };
        previous = Some((k, row.rank));
    }
    rows
}

/// One day of the plan-versus-fact chart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayPoint {
    pub day: Day,
    /// Where an even pace would be by the end of the day.
    pub plan: i64,
    /// The value counted up to the end of the day; none for days still ahead.
    pub fact: Option<i64>,
}

/// The plan line and the running fact over a period, from per-day tallies
/// (`days[i]` is the tally of the period's `i`-th day). Averages show the
/// running average; the plan of an average is its target every day.
pub fn dynamics(metric: GoalMetric, target: i64, period: Period, days: &[Tally], today: Day) -> Vec<DayPoint> {
    let total = i64::from(period.days());
    let mut running = Tally::default();
    (0..period.days())
        .map(|i| {
            let day = period.from + i;
            running += days.get(i as usize).copied().unwrap_or_default();
            let plan = if metric.is_additive() {
                (i128::from(target) * i128::from(i64::from(i) + 1) / i128::from(total)) as i64
            } else {
                target
            };
            let fact = (day <= today).then(|| running.value(metric)).flatten();
            DayPoint { day, plan, fact }
        })
        .collect()
}

/// A goal as the dashboard shows it: settings, the live figures, and its children's roll-up.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GoalCard {
    pub goal: Goal,
    pub standing: Standing,
    pub percent: Option<i64>,
    pub expected_now: i64,
    pub forecast: Option<i64>,
    /// Money goals: won so far plus open deals weighted by their stage's probability.
    pub weighted_forecast: Option<Money>,
    pub outlook: Outlook,
    pub days_left: i32,
    /// The same count over the previous calendar unit (the same length before, for custom periods).
    pub previous_value: Option<i64>,
    pub children: Vec<ChildLine>,
    /// The children's targets do not add up to this goal's.
    pub children_mismatch: bool,
    /// May the caller change it.
    pub editable: bool,
    /// May the caller record progress (manual goals).
    pub may_record: bool,
}

/// A child goal in its parent's roll-up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildLine {
    pub id: GoalId,
    pub name: String,
    pub participant_name: String,
    pub target: i64,
    pub value: Option<i64>,
}

/// The goals page's answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GoalsDashboard {
    pub cards: Vec<GoalCard>,
    /// May the caller create goals at all.
    pub may_create: bool,
    pub computed_at: i64,
}

/// One change of a goal's settings, for its history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoalChange {
    pub at: i64,
    pub actor: String,
    /// Field name, or "created" / "closed".
    pub field: String,
    pub before: String,
    pub after: String,
}

/// A closed goal's frozen report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinalReport {
    pub value: Option<i64>,
    pub target: i64,
    pub status: GoalStatus,
    pub ranking: Vec<Ranked>,
    pub closed_at: i64,
}

/// Progress someone recorded on a manual goal: what its value adds up from,
/// so people can see who recorded what, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoalEntry {
    pub at: i64,
    pub user: String,
    pub amount: i64,
    pub note: String,
}

/// The goal page's answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GoalDetail {
    pub card: GoalCard,
    pub ranking: Vec<Ranked>,
    /// A manual goal's recorded progress, newest first (empty for the others).
    pub entries: Vec<GoalEntry>,
    pub dynamics: Vec<DayPoint>,
    pub history: Vec<GoalChange>,
    pub report: Option<FinalReport>,
    pub from_text: String,
    pub to_text: String,
    pub computed_at: i64,
}

/// An in-app notification.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub id: i64,
    pub goal_id: GoalId,
    pub goal_name: String,
    pub kind: NoticeKind,
    /// Milestone percent, days left, progress percent — what the kind needs.
    pub figure: i64,
    pub at: i64,
    pub read: bool,
}

/// A part of a cascade split: a department or a person and their weight or target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitPart {
    pub participants: Participants,
    /// A weight (`Weights`), a target (`Manual`), ignored for `Even`.
    pub amount: i64,
}

#[cfg(test)]
mod tests;
