//! KPIs of managers, departments and the company for any period, beside the
//! previous equal period. Definitions are in `docs/design.md` ("KPIs").
//!
//! - this file — the counts a period yields per person ([`KpiCounts`]), the
//!   formulas over them, the request and the report
//! - [`shares`] — what one deal, lead, client or activity adds to the
//!   per-person, per-day roll-up the counts are read from
//! - [`server`] — server functions: the report, the call-length threshold
//! - [`page`] — the KPI page
//! - [`chart`] — the page's chart: one KPI per person, now and before

pub mod chart;
pub mod page;
pub mod server;
pub mod shares;

use std::ops::{AddAssign, SubAssign};

use serde::{Deserialize, Serialize};

use crate::funnel::PeriodPreset;
use crate::org::{DeptId, UserId};

/// Calls shorter than this many seconds do not count, unless the organisation sets otherwise.
pub const DEFAULT_CALL_THRESHOLD_S: i64 = 30;
/// The longest threshold one may set: an hour.
pub const MAX_CALL_THRESHOLD_S: i64 = 3_600;
/// NPS answers at or above this are promoters; at or below [`NPS_DETRACTOR`], detractors.
pub const NPS_PROMOTER: i64 = 9;
pub const NPS_DETRACTOR: i64 = 6;

const DAY_MS: f64 = 86_400_000.0;

/// What one person's records in a period add up to; sums, so that people add
/// up to departments and departments to the company.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KpiCounts {
    /// Deals that entered a won stage in the period and stay there.
    pub won: i64,
    /// Their amounts, kopecks.
    pub revenue: i64,
    /// Sum of created → closed of the won deals, ms.
    pub cycle_ms: i64,
    /// Won deals of repeat clients.
    pub repeat_won: i64,
    /// Deals closed as lost in the period.
    pub lost: i64,
    /// Deals created in the period, whoever owns them now (what goals on
    /// "deals created" count, without reading every deal of the period).
    pub deals_created: i64,
    /// Leads created in the period…
    pub leads: i64,
    /// …of which turned into a deal by now.
    pub leads_converted: i64,
    /// …of which answered, and the sum of their first-response times (ms).
    pub leads_answered: i64,
    pub response_ms: i64,
    /// Leads first answered in the period, whenever created.
    pub leads_processed: i64,
    /// Clients added in the period.
    pub new_clients: i64,
    /// Calls at least the threshold long.
    pub calls_in: i64,
    pub calls_out: i64,
    pub meetings: i64,
    pub proposals: i64,
    pub chats: i64,
    /// Closed deals with a CSAT score, and the scores' sum.
    pub csat_rated: i64,
    pub csat_sum: i64,
    /// Closed deals with an NPS answer, promoters and detractors among them.
    pub nps_rated: i64,
    pub promoters: i64,
    pub detractors: i64,
}

/// Lists every count once: the sums, the differences and the roll-up's
/// columns (`kpi_days`, named like the fields) all come from this list.
macro_rules! every_count {
    ($($field:ident),+ $(,)?) => {
        impl KpiCounts {
            /// The roll-up's columns, in the order of [`KpiCounts::values`].
            pub const COLUMNS: &'static [&'static str] = &[$(stringify!($field)),+];

            pub fn values(&self) -> Vec<i64> {
                vec![$(self.$field),+]
            }

            /// The counts from values in the order of [`KpiCounts::COLUMNS`]; missing ones are 0.
            pub fn from_values(values: &[i64]) -> KpiCounts {
                let mut v = values.iter().copied().chain(std::iter::repeat(0));
                KpiCounts { $($field: v.next().unwrap_or(0)),+ }
            }
        }

        impl AddAssign<&KpiCounts> for KpiCounts {
            fn add_assign(&mut self, o: &KpiCounts) {
                $(self.$field += o.$field;)+
            }
        }

        impl SubAssign<&KpiCounts> for KpiCounts {
            fn sub_assign(&mut self, o: &KpiCounts) {
                $(self.$field -= o.$field;)+
            }
        }
    };
}

every_count!(
    won,
    revenue,
    cycle_ms,
    repeat_won,
    lost,
    deals_created,
    leads,
    leads_converted,
    leads_answered,
    response_ms,
    leads_processed,
    new_clients,
    calls_in,
    calls_out,
    meetings,
    proposals,
    chats,
    csat_rated,
    csat_sum,
    nps_rated,
    promoters,
    detractors,
);

fn ratio(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

impl KpiCounts {
    /// Leads of the period that became deals, as a share of the period's leads.
    pub fn lead_conversion(&self) -> Option<f64> {
        ratio(self.leads_converted, self.leads)
    }

    /// Won out of closed (won + lost).
    pub fn win_rate(&self) -> Option<f64> {
        ratio(self.won, self.won + self.lost)
    }

    /// Average days from a won deal's creation to its closing.
    pub fn average_cycle_days(&self) -> Option<f64> {
        ratio(self.cycle_ms, self.won).map(|ms| ms / DAY_MS)
    }

    /// Average won amount, kopecks, rounded half away from zero.
    pub fn average_deal(&self) -> Option<i64> {
        (self.won > 0).then(|| (self.revenue * 2 + self.won) / (self.won * 2))
    }

    pub fn repeat_share(&self) -> Option<f64> {
        ratio(self.repeat_won, self.won)
    }

    /// Average first response to a lead created in the period, ms.
    pub fn average_response_ms(&self) -> Option<i64> {
        (self.leads_answered > 0).then(|| self.response_ms / self.leads_answered)
    }

    pub fn calls(&self) -> i64 {
        self.calls_in + self.calls_out
    }

    /// Average CSAT, 1–5.
    pub fn csat(&self) -> Option<f64> {
        ratio(self.csat_sum, self.csat_rated)
    }

    /// Net promoter score: promoters minus detractors, percent of answers (−100…100).
    pub fn nps(&self) -> Option<f64> {
        ratio((self.promoters - self.detractors) * 100, self.nps_rated)
    }
}

/// What the KPI page asks for: a period and whose figures.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct KpiRequest {
    pub preset: Option<PeriodPreset>,
    /// `YYYY-MM-DD`, for `Custom`.
    pub from: Option<String>,
    pub to: Option<String>,
    pub manager_id: Option<UserId>,
    pub department_id: Option<DeptId>,
}

/// One row of the table: a person, a department's sum, or records nobody owns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KpiRow {
    /// `None` on a department's row and on the unassigned row.
    pub user_id: Option<UserId>,
    pub department_id: Option<DeptId>,
    pub name: String,
    pub current: KpiCounts,
    pub previous: KpiCounts,
}

/// The KPI page's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KpiReport {
    pub from_text: String,
    pub to_text: String,
    pub previous_from_text: String,
    pub previous_to_text: String,
    /// Everyone the request covers.
    pub current: KpiCounts,
    pub previous: KpiCounts,
    /// People, each department's people followed by its sum.
    pub people: Vec<KpiRow>,
    pub departments: Vec<KpiRow>,
    pub call_threshold_s: i64,
    /// May the caller change the threshold?
    pub may_configure: bool,
    /// UTC milliseconds; shown as "as of".
    pub computed_at: i64,
}

/// Adds per-person counts into a row per department (people without one are skipped).
pub fn department_sums(people: &[KpiRow], names: &[(DeptId, String)]) -> Vec<KpiRow> {
    names
        .iter()
        .filter_map(|(id, name)| {
            let mut row = KpiRow {
                user_id: None,
                department_id: Some(*id),
                name: name.clone(),
                current: KpiCounts::default(),
                previous: KpiCounts::default(),
            };
            let mut any = false;
            for p in people.iter().filter(|p| p.user_id.is_some() && p.department_id == Some(*id)) {
                row.current += &p.current;
                row.previous += &p.previous;
                any = true;
            }
            any.then_some(row)
        })
        .collect()
}

#[cfg(test)]
mod tests;
