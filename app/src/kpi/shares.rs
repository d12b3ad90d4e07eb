//! What one record adds to the KPI roll-up: the per-person, per-day sums the
//! report adds up over a period. The storage keeps the roll-up by taking a
//! changed record's shares away before the change and adding them after, so
//! these functions are the one place that says which record counts where;
//! the reference count from raw records (`kpi_counts_raw`) must agree.

use super::{KpiCounts, NPS_DETRACTOR, NPS_PROMOTER};
use crate::funnel::Day;
use crate::org::UserId;
use crate::pipeline::{ActivityKind, LeadStatus, StageKind};

/// One record's part of one person's day; user 0 holds records nobody owns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KpiShare {
    pub user_id: UserId,
    pub day: Day,
    pub counts: KpiCounts,
}

/// The facts of a deal the KPIs read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DealFacts {
    pub responsible_id: UserId,
    pub stage_kind: StageKind,
    pub amount: i64,
    pub created_at: i64,
    pub closed_at: Option<i64>,
    pub repeat_client: bool,
    pub csat: Option<i64>,
    pub nps: Option<i64>,
}

/// A deal counts as created on the day it was created and, once closed, on
/// the day it closed, for whoever is responsible now.
pub fn deal_shares(d: &DealFacts, day: impl Fn(i64) -> Day) -> Vec<KpiShare> {
    let created = KpiCounts { deals_created: 1, ..KpiCounts::default() };
    let mut shares = vec![KpiShare { user_id: d.responsible_id, day: day(d.created_at), counts: created }];
    let Some(closed_at) = d.closed_at else { return shares };
    let mut c = KpiCounts::default();
    match d.stage_kind {
        StageKind::Won => {
            c.won = 1;
            c.revenue = d.amount;
            c.cycle_ms = closed_at - d.created_at;
            c.repeat_won = i64::from(d.repeat_client);
        }
        StageKind::Lost => c.lost = 1,
        StageKind::Open => return shares,
    }
    if let Some(score) = d.csat {
        c.csat_rated = 1;
        c.csat_sum = score;
    }
    if let Some(score) = d.nps {
        c.nps_rated = 1;
        c.promoters = i64::from(score >= NPS_PROMOTER);
        c.detractors = i64::from(score <= NPS_DETRACTOR);
    }
    shares.push(KpiShare { user_id: d.responsible_id, day: day(closed_at), counts: c });
    shares
}

/// The facts of a lead the KPIs read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeadFacts {
    pub responsible_id: Option<UserId>,
    pub status: LeadStatus,
    pub created_at: i64,
    pub first_response_at: Option<i64>,
}

/// A lead counts on the day it came in, and as processed on the day it was first answered.
pub fn lead_shares(l: &LeadFacts, day: impl Fn(i64) -> Day) -> Vec<KpiShare> {
    let user_id = l.responsible_id.unwrap_or(0);
    let mut created = KpiCounts { leads: 1, ..KpiCounts::default() };
    created.leads_converted = i64::from(l.status == LeadStatus::Qualified);
    let mut shares = vec![];
    if let Some(answered) = l.first_response_at {
        created.leads_answered = 1;
        created.response_ms = answered - l.created_at;
        let processed = KpiCounts { leads_processed: 1, ..KpiCounts::default() };
        shares.push(KpiShare { user_id, day: day(answered), counts: processed });
    }
    shares.insert(0, KpiShare { user_id, day: day(l.created_at), counts: created });
    shares
}

/// A client counts as new on the day it was added.
pub fn client_share(responsible_id: Option<UserId>, created_at: i64, day: impl Fn(i64) -> Day) -> KpiShare {
    let counts = KpiCounts { new_clients: 1, ..KpiCounts::default() };
    KpiShare { user_id: responsible_id.unwrap_or(0), day: day(created_at), counts }
}

/// The facts of an activity the KPIs read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActivityFacts {
    pub user_id: UserId,
    pub kind: ActivityKind,
    pub at: i64,
    pub duration_s: Option<i64>,
}

/// An activity counts on its day; a call only when at least `call_threshold_s` long; notes never.
pub fn activity_share(a: &ActivityFacts, call_threshold_s: i64, day: impl Fn(i64) -> Day) -> Option<KpiShare> {
    let long_enough = a.duration_s.is_some_and(|d| d >= call_threshold_s);
    let mut c = KpiCounts::default();
    match a.kind {
        ActivityKind::CallIn if long_enough => c.calls_in = 1,
        ActivityKind::CallOut if long_enough => c.calls_out = 1,
        ActivityKind::Meeting => c.meetings = 1,
        ActivityKind::Proposal => c.proposals = 1,
        ActivityKind::Chat => c.chats = 1,
        _ => return None,
    }
    Some(KpiShare { user_id: a.user_id, day: day(a.at), counts: c })
}

/// What the roll-up must add per person and day to go from the `before`
/// shares to the `after` ones; keys whose difference is zero are left out.
pub fn share_changes(before: &[KpiShare], after: &[KpiShare]) -> Vec<((UserId, Day), KpiCounts)> {
    let mut sums: std::collections::BTreeMap<(UserId, Day), KpiCounts> = std::collections::BTreeMap::new();
    for s in before {
        *sums.entry((s.user_id, s.day)).or_default() -= &s.counts;
    }
    for s in after {
        *sums.entry((s.user_id, s.day)).or_default() += &s.counts;
    }
    sums.into_iter().filter(|(_, c)| *c != KpiCounts::default()).collect()
}
