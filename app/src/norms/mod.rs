//! Activity norms per role, who is behind them today and this week, and
//! alerts on leads left without a response past the norm or disqualified
//! without a single activity. Definitions are in `docs/design.md` ("Norms").
//!
//! - this file — norms, the working-time pace they are judged by, the report
//! - [`server`] — server functions: the report, saving the norms
//! - [`page`] — the panel shown on the KPI page

pub mod page;
pub mod server;

use serde::{Deserialize, Serialize};

use crate::access::Role;
use crate::error::{AppError, Problem};
use crate::kpi::KpiCounts;
use crate::org::{DeptId, UserId};
use crate::pipeline::LeadId;

/// A lead must be answered within this many minutes unless the organisation sets otherwise.
pub const DEFAULT_RESPONSE_MINUTES: i64 = 15;
/// The longest response norm one may set: a day.
pub const MAX_RESPONSE_MINUTES: i64 = 1_440;
/// The largest count a norm may ask for.
pub const MAX_NORM: i64 = 10_000;
/// The working day a daily norm is spread over, minutes after local midnight.
pub const WORK_START_MINUTE: i64 = 9 * 60;
pub const WORK_END_MINUTE: i64 = 18 * 60;
/// Working days in a week (Monday to Friday).
pub const WORK_DAYS: i64 = 5;
/// Leads listed under each alert; the total is always given.
pub const ALERT_LIMIT: i64 = 50;
/// How far back a disqualification without activity still raises an alert.
pub const SILENT_DAYS: i64 = 7;

named_enum!(
    /// What a norm counts, each as the KPI page counts it (calls only from the threshold up).
    NormKind { Calls, Meetings, Proposals, Chats, LeadsProcessed }
);

named_enum!(
    /// The period a norm is set for.
    NormPer { Day, Week }
);

named_enum!(
    /// How a person stands against one norm.
    Pace {
        /// The whole norm is met.
        Done,
        /// Not met yet, but at least what the working time passed asks for.
        OnPace,
        /// Below what the working time passed asks for.
        Behind,
        /// A daily norm on a day off: nothing is asked.
        DayOff,
    }
);

impl NormKind {
    /// The figure of a person's KPI counts this norm is judged by.
    pub fn actual(self, c: &KpiCounts) -> i64 {
        match self {
            NormKind::Calls => c.calls(),
            NormKind::Meetings => c.meetings,
            NormKind::Proposals => c.proposals,
            NormKind::Chats => c.chats,
            NormKind::LeadsProcessed => c.leads_processed,
        }
    }
}

/// One norm: people of `role` should do `target` of `kind` each `per`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Norm {
    pub role: Role,
    pub kind: NormKind,
    pub per: NormPer,
    pub target: i64,
}

/// An organisation's norms, saved as a whole; `version` guards against a
/// second editor's save being lost.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NormSettings {
    pub norms: Vec<Norm>,
    /// A new lead should get its first response within this many minutes.
    pub response_minutes: i64,
    pub version: i64,
}

/// Roles norms can be set for: the people who sell.
pub const NORM_ROLES: [Role; 2] = [Role::Manager, Role::Head];

/// The demo organisation's norms: the seed's 40 qualifying calls a day, a
/// meeting a day and five proposals a week for a manager; a head leads the
/// department's meetings.
pub const DEMO_NORMS: [Norm; 4] = [
    Norm { role: Role::Manager, kind: NormKind::Calls, per: NormPer::Day, target: 40 },
    Norm { role: Role::Manager, kind: NormKind::Meetings, per: NormPer::Week, target: 5 },
    Norm { role: Role::Manager, kind: NormKind::Proposals, per: NormPer::Week, target: 5 },
    Norm { role: Role::Head, kind: NormKind::Meetings, per: NormPer::Week, target: 3 },
];

/// Checks settings before they are stored: counts within 0…[`MAX_NORM`]
/// (0 drops the norm), one row per role, kind and period, and a response
/// norm of 1…[`MAX_RESPONSE_MINUTES`] minutes. Returns the norms to keep, in a stable order.
pub fn check_settings(settings: &NormSettings) -> Result<Vec<Norm>, AppError> {
    if settings.response_minutes < 0 {
        return Err(AppError::invalid("response_minutes", Problem::Negative));
    }
    if settings.response_minutes == 0 {
        return Err(AppError::invalid("response_minutes", Problem::Required));
    }
    if settings.response_minutes > MAX_RESPONSE_MINUTES {
        return Err(AppError::invalid("response_minutes", Problem::TooLarge));
    }
    for (i, n) in settings.norms.iter().enumerate() {
        if !NORM_ROLES.contains(&n.role) {
            return Err(AppError::invalid("role", Problem::Unknown));
        }
        if n.target < 0 {
            return Err(AppError::invalid("norm_target", Problem::Negative));
        }
        if n.target > MAX_NORM {
            return Err(AppError::invalid("norm_target", Problem::TooLarge));
        }
        // Every row counts here, zeros too, so the answer never depends on the rows' order.
        if settings.norms[..i].iter().any(|k| (k.role, k.kind, k.per) == (n.role, n.kind, n.per)) {
            return Err(AppError::invalid("norm", Problem::Taken));
        }
    }
    let mut kept: Vec<Norm> = settings.norms.iter().copied().filter(|n| n.target > 0).collect();
    kept.sort_by_key(|n| (n.role, n.per, n.kind));
    Ok(kept)
}

/// Working minutes of a period: how many have passed and how many there are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkTime {
    pub passed: i64,
    pub total: i64,
}

/// The working time of a norm's period as it stands: the working day is
/// [`WORK_START_MINUTE`]…[`WORK_END_MINUTE`], the week Monday to Friday.
/// `weekday` counts from Monday = 0; `minute` is minutes after local midnight.
/// `None` for a daily norm on a day off.
pub fn work_time(per: NormPer, weekday: i64, minute: i64) -> Option<WorkTime> {
    let length = WORK_END_MINUTE - WORK_START_MINUTE;
    let today = (minute - WORK_START_MINUTE).clamp(0, length);
    let working_day = weekday < WORK_DAYS;
    match per {
        NormPer::Day => working_day.then_some(WorkTime { passed: today, total: length }),
        NormPer::Week => {
            let passed = weekday.min(WORK_DAYS) * length + if working_day { today } else { 0 };
            Some(WorkTime { passed, total: WORK_DAYS * length })
        }
    }
}

/// What a norm asks for by now: the target times the share of working time
/// passed, rounded down, in whole numbers so no float error drops a call.
pub fn expected_by_now(target: i64, time: WorkTime) -> i64 {
    target * time.passed / time.total.max(1)
}

/// How `actual` stands against a norm of `target` at working time `time`.
pub fn pace(actual: i64, target: i64, time: Option<WorkTime>) -> Pace {
    match time {
        _ if actual >= target => Pace::Done,
        None => Pace::DayOff,
        Some(t) if actual < expected_by_now(target, t) => Pace::Behind,
        Some(_) => Pace::OnPace,
    }
}

/// One norm as it stands for one person.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NormStatus {
    pub kind: NormKind,
    pub per: NormPer,
    pub target: i64,
    pub actual: i64,
    /// What the working time passed asks for; 0 on a day off.
    pub expected: i64,
    pub pace: Pace,
}

/// A person's norms, today's and this week's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NormPerson {
    pub user_id: UserId,
    pub name: String,
    pub department_id: Option<DeptId>,
    pub items: Vec<NormStatus>,
}

impl NormPerson {
    /// How many of the person's norms of `per` are behind.
    pub fn behind(&self, per: NormPer) -> usize {
        self.items.iter().filter(|i| i.per == per && i.pace == Pace::Behind).count()
    }
}

/// Judges each of `norms` for a person from their counts today and this week.
pub fn statuses(
    norms: &[Norm],
    role: Role,
    today: &KpiCounts,
    week: &KpiCounts,
    weekday: i64,
    minute: i64,
) -> Vec<NormStatus> {
    norms
        .iter()
        .filter(|n| n.role == role)
        .map(|n| {
            let counts = if n.per == NormPer::Day { today } else { week };
            let actual = n.kind.actual(counts);
            let time = work_time(n.per, weekday, minute);
            NormStatus {
                kind: n.kind,
                per: n.per,
                target: n.target,
                actual,
                expected: time.map_or(0, |t| expected_by_now(n.target, t)),
                pace: pace(actual, n.target, time),
            }
        })
        .collect()
}

/// Puts the people furthest behind first: most norms behind today, then this week, then by name.
pub fn behind_first(people: &mut [NormPerson]) {
    people.sort_by(|a, b| {
        (b.behind(NormPer::Day), b.behind(NormPer::Week), &a.name).cmp(&(
            a.behind(NormPer::Day),
            a.behind(NormPer::Week),
            &b.name,
        ))
    });
}

/// A lead an alert is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadAlert {
    pub id: LeadId,
    pub title: String,
    pub responsible: Option<String>,
    /// When the lead came in (no response) or was disqualified (no activity), UTC ms.
    pub at: i64,
    pub reason: Option<String>,
}

/// Leads under one alert: the first [`ALERT_LIMIT`], oldest first, and how many in all.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertList {
    pub total: i64,
    pub leads: Vec<LeadAlert>,
}

/// The norms panel's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NormsReport {
    pub settings: NormSettings,
    /// May the caller change the norms?
    pub may_configure: bool,
    /// Everyone covered who has a norm, the furthest behind first.
    pub people: Vec<NormPerson>,
    /// New leads with no response for longer than the norm.
    pub unanswered: AlertList,
    /// Leads disqualified in the last [`SILENT_DAYS`] days with no activity logged on them.
    pub silent: AlertList,
    /// Is today a day off (daily norms then ask nothing)?
    pub day_off: bool,
    /// UTC milliseconds; shown as "as of".
    pub computed_at: i64,
}

#[cfg(test)]
mod tests;
