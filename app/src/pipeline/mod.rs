//! The sales pipeline: stages, deals on the board, their moves and history,
//! leads and activities.
//!
//! - this file — the records and the rules both sides compute the same way
//!   (which required stages a move skips, time spent per stage, staleness,
//!   input checks)
//! - [`server`] — server functions: board, moves, deals, leads, activities, stages
//! - [`live`] — the hub every mutation publishes to and the SSE stream (server only)
//! - [`board`] — the kanban page with pointer, touch and keyboard moves
//! - [`deal`] — one deal: its card, stage history and quick call logging
//! - [`settings`] — pipelines and stages for heads and admins
//! - [`currency`] — deals priced in other currencies and the rates to the rouble
//! - [`leads`] — the leads list: filter, create, take on, refuse with a reason, qualify
//! - [`lists`] — sorting and paging shared by the lists; [`deals`], [`clients`]
//!   and [`activities`] — those lists with their filters and forms

pub mod activities;
pub mod board;
pub mod clients;
pub mod currency;
pub mod deal;
pub mod deals;
pub mod leads;
pub mod lists;
#[cfg(feature = "ssr")]
pub mod live;
pub mod server;
pub mod settings;

use serde::{Deserialize, Serialize};

use crate::error::{AppError, Problem};
use crate::org::{DeptId, UserId};

/// Money in minor units (kopecks for RUB). Never a float.
pub type Money = i64;
pub type PipelineId = i64;
pub type StageId = i64;
pub type DealId = i64;
pub type ClientId = i64;
pub type LeadId = i64;

pub const DAY_MS: i64 = 24 * 60 * 60 * 1000;
pub const MAX_TITLE: usize = 200;
pub const MAX_REASON: usize = 300;
pub const MAX_NOTE: usize = 2_000;
/// Idempotency keys are client-made UUIDs or similar; anything longer is abuse.
pub const MAX_KEY: usize = 64;
/// Won and lost columns show deals closed within this many days.
pub const CLOSED_DAYS: i64 = 30;
/// Cards sent per column; the column header still counts and sums them all.
pub const CARDS_PER_COLUMN: i64 = 100;

named_enum!(
    /// Whether a stage is still in progress or ends the deal.
    StageKind { Open, Won, Lost }
);

named_enum!(
    /// Where a lead is on its way to a deal.
    LeadStatus { New, InWork, Qualified, Disqualified }
);

named_enum!(
    /// What a manager did. Calls carry their duration.
    ActivityKind { CallIn, CallOut, Meeting, Proposal, Chat, Note }
);

named_enum!(
    /// A company or a private person buying.
    ClientKind { Company, Person }
);

named_enum!(
    /// What a deal event records.
    DealEventKind { Created, Stage, Responsible }
);

/// A sales process with its own stages, such as "new sales" and "repeat sales".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pipeline {
    pub id: PipelineId,
    pub name: String,
    pub position: i32,
    pub archived: bool,
    /// Refuse moves that skip a required stage (they are recorded either way).
    pub block_skips: bool,
    pub stages: Vec<Stage>,
}

/// One column of a pipeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stage {
    pub id: StageId,
    pub pipeline_id: PipelineId,
    pub name: String,
    pub position: i32,
    pub kind: StageKind,
    /// Win probability in percent.
    pub probability: i32,
    /// A deal must pass this stage on its way to a win.
    pub required: bool,
    /// Days in the stage after which a card is marked stale; 0 never.
    pub stale_days: i32,
    /// Hidden from the board; kept so history still names it.
    pub archived: bool,
}

/// What the board is narrowed to. Permissions narrow it further on the server.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardFilter {
    pub pipeline_id: PipelineId,
    pub manager_id: Option<UserId>,
    pub department_id: Option<DeptId>,
    pub source: Option<String>,
    /// Only deals created within this many days.
    pub created_days: Option<i64>,
    pub search: Option<String>,
}

/// A deal as the board shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Card {
    pub id: DealId,
    pub title: String,
    /// In roubles: what totals and reports count.
    pub amount: Money,
    pub currency: String,
    /// The amount in `currency` when that is not the rouble; `amount` is then
    /// its value at the rate when it was saved.
    #[serde(default)]
    pub currency_amount: Option<Money>,
    pub client: Option<String>,
    pub manager_id: UserId,
    pub manager: String,
    pub source: String,
    pub stage_id: StageId,
    pub stage_entered_at: i64,
    pub version: i64,
}

impl Card {
    /// The amount as priced: "1 500 $" for a deal in dollars.
    pub fn price(&self) -> String {
        match self.currency_amount {
            Some(amount) => format_money(amount, &self.currency),
            None => format_rubles(self.amount),
        }
    }

    /// The roubles a foreign price counts as (what column totals add up); none for a rouble price.
    pub fn rubles_if_foreign(&self) -> Option<String> {
        self.currency_amount.map(|_| format_rubles(self.amount))
    }

    /// What a person typed as the amount, in the deal's currency.
    pub fn own_amount(&self) -> Money {
        self.currency_amount.unwrap_or(self.amount)
    }
}

/// A stage with its deals: how many, for how much, and the first of them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub stage: Stage,
    pub count: i64,
    pub total: Money,
    pub cards: Vec<Card>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Board {
    pub pipeline_id: PipelineId,
    pub columns: Vec<Column>,
    /// The server's clock, so "days in stage" does not depend on the device's.
    pub now_ms: i64,
}

impl Board {
    /// Moves a card between columns as the server will, so the board can show
    /// the move before the answer comes: counts and totals follow the card.
    /// False if the card or the stage is not on the board.
    pub fn apply_move(&mut self, deal: DealId, to: StageId, now_ms: i64) -> bool {
        let Some(target) = self.columns.iter().position(|c| c.stage.id == to) else { return false };
        let Some((from, index)) = self
            .columns
            .iter()
            .enumerate()
            .find_map(|(ci, c)| c.cards.iter().position(|card| card.id == deal).map(|i| (ci, i)))
        else {
            return false;
        };
        if from == target {
            return true;
        }
        let mut card = self.columns[from].cards.remove(index);
        self.columns[from].count -= 1;
        self.columns[from].total -= card.amount;
        card.stage_id = to;
        card.stage_entered_at = now_ms;
        self.columns[target].count += 1;
        self.columns[target].total += card.amount;
        self.columns[target].cards.insert(0, card);
        true
    }

    pub fn card(&self, deal: DealId) -> Option<&Card> {
        self.columns.iter().flat_map(|c| c.cards.iter()).find(|c| c.id == deal)
    }
}

/// The choices of the board's manager and department filters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardOptions {
    pub people: Vec<(UserId, String)>,
    pub departments: Vec<(DeptId, String)>,
}

/// What a browser hears on `/api/live`: enough to know what to refetch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveEvent {
    pub pipeline_id: PipelineId,
    pub deal_id: DealId,
}

/// Move a deal to another stage, if it is still at `version`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveRequest {
    pub deal_id: DealId,
    pub to_stage_id: StageId,
    pub version: i64,
    /// The same key on a retry makes the retry return the first answer.
    pub key: String,
    /// Needed when moving into a lost stage.
    pub loss_reason: Option<String>,
}

/// A move that was made (or had been made, for a retried key).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Moved {
    pub deal_id: DealId,
    pub stage_id: StageId,
    pub version: i64,
    /// This answer repeats an earlier move with the same key.
    pub replayed: bool,
    /// Required stages that were skipped (the move is recorded as a violation).
    pub skipped: Vec<StageId>,
}

/// One line of a deal's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DealEvent {
    pub id: i64,
    pub at: i64,
    pub kind: DealEventKind,
    pub actor: String,
    pub from_stage_id: Option<StageId>,
    pub to_stage_id: Option<StageId>,
    /// Who had and who got the deal, on a responsible change.
    pub from_user: Option<String>,
    pub to_user: Option<String>,
    pub amount: Money,
    pub skipped_required: bool,
}

/// A deal with everything its page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deal {
    pub card: Card,
    pub pipeline_id: PipelineId,
    pub client_id: Option<ClientId>,
    pub created_at: i64,
    pub closed_at: Option<i64>,
    pub loss_reason: Option<String>,
    /// The client's answers once the deal is closed: CSAT 1–5, NPS 0–10.
    pub csat: Option<i64>,
    pub nps: Option<i64>,
    pub department_id: Option<DeptId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    pub id: i64,
    pub kind: ActivityKind,
    pub user_id: UserId,
    pub user: String,
    pub at: i64,
    pub duration_s: Option<i32>,
    pub note: String,
    pub deal_id: Option<DealId>,
    pub lead_id: Option<LeadId>,
    pub client_id: Option<ClientId>,
    /// The title of the deal or lead, or the client's name, it was about.
    pub subject: String,
    /// Bumped by every correction, so two people's corrections never overwrite each other.
    pub version: i64,
}

/// A correction of a logged activity: its kind, call length and note; who,
/// when and what it was about stay as logged. Applies only at `version`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityEdit {
    pub id: i64,
    pub version: i64,
    pub kind: ActivityKind,
    pub duration_s: Option<i32>,
    pub note: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DealPage {
    pub deal: Deal,
    pub events: Vec<DealEvent>,
    pub activities: Vec<Activity>,
    pub now_ms: i64,
}

/// What the "new deal" form sends.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewDealForm {
    pub pipeline_id: PipelineId,
    pub title: String,
    /// In `currency`, minor units.
    pub amount: Money,
    #[serde(default = "currency::default_currency")]
    pub currency: String,
    pub client_name: String,
    pub source: String,
    /// Defaults to the caller.
    pub responsible_id: Option<UserId>,
}

/// A change to a deal's own fields, made only if nobody changed it since
/// `version`. A new responsible is recorded in the deal's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DealEdit {
    pub id: DealId,
    pub version: i64,
    pub title: String,
    /// In `currency`, minor units; converted anew only if it or the currency changed.
    pub amount: Money,
    #[serde(default = "currency::default_currency")]
    pub currency: String,
    pub client_name: String,
    pub source: String,
    pub responsible_id: UserId,
}

/// A stage to add (`id: None`) or change, placed at `position` among its pipeline's stages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageForm {
    pub id: Option<StageId>,
    pub pipeline_id: PipelineId,
    pub name: String,
    pub kind: StageKind,
    pub probability: i32,
    pub required: bool,
    pub stale_days: i32,
    pub archived: bool,
    pub position: i32,
}

/// What "log a call" (or a meeting, a note…) sends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewActivityForm {
    pub kind: ActivityKind,
    /// What it is about: one of a deal, a lead or a client.
    pub deal_id: Option<DealId>,
    pub lead_id: Option<LeadId>,
    #[serde(default)]
    pub client_id: Option<ClientId>,
    pub duration_s: Option<i32>,
    pub note: String,
    /// When it happened, UTC milliseconds; `None` is now. Never ahead of now,
    /// never before what it is about was created.
    #[serde(default)]
    pub at: Option<i64>,
}

/// A request from a possible buyer, on its way to a deal or a refusal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lead {
    pub id: LeadId,
    pub title: String,
    pub source: String,
    pub contact_name: String,
    pub phone: String,
    pub email: String,
    pub status: LeadStatus,
    pub disqualify_reason: Option<String>,
    pub responsible_id: Option<UserId>,
    pub responsible: String,
    pub created_at: i64,
    /// When someone first called back or changed the status.
    pub first_response_at: Option<i64>,
    /// The deal a qualified lead became.
    pub deal_id: Option<DealId>,
    /// Bumped by every change; an edit made at an older version is refused.
    pub version: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadFilter {
    pub status: Option<LeadStatus>,
    pub search: Option<String>,
    #[serde(default)]
    pub order: lists::Order<lists::LeadSort>,
    /// Zero-based page of [`lists::ROWS_PER_PAGE`] leads.
    pub page: i64,
}

pub type LeadPage = lists::Page<Lead>;

/// A lead's own fields changed, if nobody changed the lead since `version`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadEdit {
    pub id: LeadId,
    pub version: i64,
    pub form: NewLeadForm,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewLeadForm {
    pub title: String,
    pub source: String,
    pub contact_name: String,
    pub phone: String,
    /// Empty when unknown; checked for a plausible address otherwise.
    #[serde(default)]
    pub email: String,
}

/// A violation of stage discipline, for the head to see.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    pub deal_id: DealId,
    pub deal_title: String,
    pub actor: String,
    pub at: i64,
    pub from_stage_id: StageId,
    pub to_stage_id: StageId,
    /// The move was refused (the pipeline blocks skips) rather than made.
    pub blocked: bool,
}

/// Required stages a move from `from` to `to` jumps over without the deal
/// ever having been in them. Moving backwards or into a lost stage skips
/// nothing: a deal may be lost at any point.
pub fn skipped_required(stages: &[Stage], from: StageId, to: StageId, visited: &[StageId]) -> Vec<StageId> {
    let position = |id| stages.iter().find(|s| s.id == id).map(|s| s.position);
    let (Some(from_pos), Some(to_stage)) = (position(from), stages.iter().find(|s| s.id == to)) else {
        return Vec::new();
    };
    if to_stage.kind == StageKind::Lost || to_stage.position <= from_pos {
        return Vec::new();
    }
    stages
        .iter()
        .filter(|s| s.required && !s.archived && s.kind == StageKind::Open)
        .filter(|s| s.position > from_pos && s.position < to_stage.position)
        .filter(|s| !visited.contains(&s.id))
        .map(|s| s.id)
        .collect()
}

/// Milliseconds a deal spent in each stage, from its events (oldest first),
/// in the order the stages were first entered; the current stage runs to `now`.
pub fn time_in_stages(events: &[DealEvent], now_ms: i64) -> Vec<(StageId, i64)> {
    let mut spent: Vec<(StageId, i64)> = Vec::new();
    let entries: Vec<(StageId, i64)> = events
        .iter()
        .filter(|e| e.kind != DealEventKind::Responsible)
        .filter_map(|e| Some((e.to_stage_id?, e.at)))
        .collect();
    for (i, (stage, at)) in entries.iter().enumerate() {
        let until = entries.get(i + 1).map_or(now_ms, |next| next.1);
        let ms = (until - at).max(0);
        match spent.iter_mut().find(|(s, _)| s == stage) {
            Some(entry) => entry.1 += ms,
            None => spent.push((*stage, ms)),
        }
    }
    spent
}

/// Whole days since `since`.
pub fn days_between(since: i64, now_ms: i64) -> i64 {
    ((now_ms - since) / DAY_MS).max(0)
}

/// A card waiting longer than its stage allows.
pub fn is_stale(stage: &Stage, stage_entered_at: i64, now_ms: i64) -> bool {
    stage.kind == StageKind::Open
        && stage.stale_days > 0
        && now_ms - stage_entered_at > stage.stale_days as i64 * DAY_MS
}

/// Trims free text and checks it is present and not too long.
pub fn clean_text(field: &str, raw: &str, max: usize) -> Result<String, AppError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(AppError::invalid(field, Problem::Required));
    }
    if text.chars().count() > max {
        return Err(AppError::invalid(field, Problem::TooLong { max }));
    }
    Ok(text.to_string())
}

/// Like [`clean_text`] but empty is fine.
pub fn optional_text(field: &str, raw: &str, max: usize) -> Result<String, AppError> {
    let text = raw.trim();
    if text.chars().count() > max {
        return Err(AppError::invalid(field, Problem::TooLong { max }));
    }
    Ok(text.to_string())
}

/// Amounts are whole minor units from 0 up to a trillion roubles.
pub fn check_amount(amount: Money) -> Result<Money, AppError> {
    const MAX: Money = 100_000_000_000_000;
    if amount < 0 {
        return Err(AppError::invalid("amount", Problem::Negative));
    }
    if amount > MAX {
        return Err(AppError::invalid("amount", Problem::TooLarge));
    }
    Ok(amount)
}

/// Parses what a person types as an amount in roubles: "12 500", "12500,50", "1 000.5".
pub fn parse_rubles(raw: &str) -> Result<Money, AppError> {
    check_amount(parse_decimal("amount", raw, 2)?)
}

/// A non-negative number typed with spaces between thousands and a comma or
/// a point before at most `decimals` digits, in units of 10^-`decimals`.
pub fn parse_decimal(field: &str, raw: &str, decimals: usize) -> Result<i64, AppError> {
    let wrong = |problem| AppError::invalid(field, problem);
    let cleaned: String = raw.chars().filter(|c| !c.is_whitespace() && *c != '\u{a0}').collect();
    let cleaned = cleaned.replace(',', ".");
    if cleaned.is_empty() {
        return Err(wrong(Problem::Required));
    }
    if cleaned.starts_with('-') {
        return Err(wrong(Problem::Negative));
    }
    let (whole, frac) = cleaned.split_once('.').unwrap_or((&cleaned, ""));
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    if !digits(whole) || !(frac.is_empty() || (digits(frac) && frac.len() <= decimals)) {
        return Err(wrong(Problem::NotANumber));
    }
    let whole: i64 = whole.parse().map_err(|_| wrong(Problem::TooLarge))?;
    let frac: i64 = if frac.is_empty() { 0 } else { format!("{frac:0<decimals$}").parse().unwrap_or(0) };
    let scale = 10_i64.pow(decimals as u32);
    whole.checked_mul(scale).and_then(|w| w.checked_add(frac)).ok_or_else(|| wrong(Problem::TooLarge))
}

/// An amount as a person would type it back: "12500" or "12500.05".
pub fn rubles_for_input(amount: Money) -> String {
    match amount % 100 {
        0 => (amount / 100).to_string(),
        kopecks => format!("{}.{:02}", amount / 100, kopecks),
    }
}

/// "1 234 567 ₽" — whole roubles with thin grouping, as sales people read them.
pub fn format_rubles(amount: Money) -> String {
    format_money(amount, currency::BASE)
}

/// "1 234 567 $" — whole units of a currency, grouped like [`format_rubles`].
pub fn format_money(amount: Money, currency: &str) -> String {
    let rubles = amount / 100;
    let digits = rubles.abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    if rubles < 0 {
        out.insert(0, '−');
    }
    out.push('\u{a0}');
    out.push_str(currency::symbol(currency));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(id: StageId, position: i32, kind: StageKind, required: bool) -> Stage {
        Stage {
            id,
            pipeline_id: 1,
            name: format!("s{id}"),
            position,
            kind,
            probability: 0,
            required,
            stale_days: 3,
            archived: false,
        }
    }

    /// New(1) → Qualification(2, required) → Meeting(3) → Proposal(4, required) → Won(5) / Lost(6).
    fn funnel() -> Vec<Stage> {
        vec![
            stage(1, 0, StageKind::Open, false),
            stage(2, 1, StageKind::Open, true),
            stage(3, 2, StageKind::Open, false),
            stage(4, 3, StageKind::Open, true),
            stage(5, 4, StageKind::Won, false),
            stage(6, 5, StageKind::Lost, false),
        ]
    }

    #[test]
    fn jumping_over_required_stages_is_a_skip() {
        let s = funnel();
        assert_eq!(skipped_required(&s, 1, 3, &[1]), vec![2]);
        assert_eq!(skipped_required(&s, 1, 5, &[1]), vec![2, 4]);
        assert_eq!(skipped_required(&s, 1, 2, &[1]), Vec::<StageId>::new());
        assert_eq!(skipped_required(&s, 3, 5, &[1, 2, 3]), vec![4]);
    }

    #[test]
    fn no_skip_backwards_into_lost_or_through_visited_stages() {
        let s = funnel();
        assert!(skipped_required(&s, 4, 1, &[1, 2, 3, 4]).is_empty());
        assert!(skipped_required(&s, 1, 6, &[1]).is_empty());
        // Been through qualification earlier, went back, now jumps forward again.
        assert!(skipped_required(&s, 1, 3, &[1, 2, 3, 1]).is_empty());
        let mut archived = funnel();
        archived[1].archived = true;
        assert!(skipped_required(&archived, 1, 3, &[1]).is_empty());
    }

    fn event(kind: DealEventKind, at: i64, to: StageId) -> DealEvent {
        DealEvent {
            id: at,
            at,
            kind,
            actor: String::new(),
            from_stage_id: None,
            to_stage_id: Some(to),
            from_user: None,
            to_user: None,
            amount: 0,
            skipped_required: false,
        }
    }

    #[test]
    fn time_per_stage_adds_up_revisits_and_runs_to_now() {
        let events = [
            event(DealEventKind::Created, 0, 1),
            event(DealEventKind::Stage, 10, 2),
            event(DealEventKind::Stage, 30, 1),
            event(DealEventKind::Stage, 35, 3),
        ];
        assert_eq!(time_in_stages(&events, 100), vec![(1, 15), (2, 20), (3, 65)]);
        assert!(time_in_stages(&[], 100).is_empty());
    }

    #[test]
    fn stale_after_the_stage_threshold_only_for_open_stages() {
        let s = funnel();
        assert!(!is_stale(&s[0], 0, 3 * DAY_MS));
        assert!(is_stale(&s[0], 0, 3 * DAY_MS + 1));
        assert!(!is_stale(&s[4], 0, 300 * DAY_MS));
        let mut never = s[0].clone();
        never.stale_days = 0;
        assert!(!is_stale(&never, 0, 300 * DAY_MS));
    }

    #[test]
    fn a_move_on_the_board_carries_count_and_total_along() {
        let s = funnel();
        let card = |id: DealId, amount: Money| Card {
            id,
            title: String::new(),
            amount,
            currency: "RUB".into(),
            currency_amount: None,
            client: None,
            manager_id: 1,
            manager: String::new(),
            source: String::new(),
            stage_id: 1,
            stage_entered_at: 0,
            version: 0,
        };
        let mut board = Board {
            pipeline_id: 1,
            columns: vec![
                Column { stage: s[0].clone(), count: 3, total: 600, cards: vec![card(1, 100), card(2, 200)] },
                Column { stage: s[1].clone(), count: 0, total: 0, cards: vec![] },
            ],
            now_ms: 0,
        };
        assert!(board.apply_move(2, 2, 50));
        assert_eq!((board.columns[0].count, board.columns[0].total), (2, 400));
        assert_eq!((board.columns[1].count, board.columns[1].total), (1, 200));
        assert_eq!(board.card(2).map(|c| (c.stage_id, c.stage_entered_at)), Some((2, 50)));
        assert!(!board.apply_move(9, 2, 50), "unknown card");
        assert!(!board.apply_move(1, 99, 50), "unknown stage");
        assert_eq!(board.columns[0].cards.len(), 1);
    }

    #[test]
    fn rubles_parse_to_exact_kopecks() {
        assert_eq!(parse_rubles("12 500").unwrap(), 1_250_000);
        assert_eq!(parse_rubles("12500,5").unwrap(), 1_250_050);
        assert_eq!(parse_rubles("0.07").unwrap(), 7);
        assert_eq!(parse_rubles("1\u{a0}000").unwrap(), 100_000);
        let problem = |s: &str| match parse_rubles(s) {
            Err(AppError::Invalid { problem, .. }) => problem,
            other => panic!("{s}: {other:?}"),
        };
        assert_eq!(problem(""), Problem::Required);
        assert_eq!(problem("-5"), Problem::Negative);
        assert_eq!(problem("12,345"), Problem::NotANumber);
        assert_eq!(problem("abc"), Problem::NotANumber);
        assert_eq!(problem("99999999999999999999"), Problem::TooLarge);
    }

    #[test]
    fn an_amount_in_a_form_reads_back_to_the_same_kopecks() {
        for kopecks in [0, 5, 100, 1_250_050, 99_999_999_999_999] {
            assert_eq!(parse_rubles(&rubles_for_input(kopecks)).unwrap(), kopecks);
        }
        assert_eq!(rubles_for_input(1_250_000), "12500");
    }

    #[test]
    fn amounts_print_grouped_in_whole_rubles() {
        assert_eq!(format_rubles(123_456_789), "1\u{202f}234\u{202f}567\u{a0}₽");
        assert_eq!(format_rubles(99), "0\u{a0}₽");
        assert_eq!(format_money(150_000, "USD"), "1\u{202f}500\u{a0}$");
    }

    #[test]
    fn text_checks_name_the_problem() {
        assert_eq!(clean_text("title", "  Окна  ", 10).unwrap(), "Окна");
        assert_eq!(clean_text("title", "  ", 10), Err(AppError::invalid("title", Problem::Required)));
        assert_eq!(clean_text("title", "абвгд", 4), Err(AppError::invalid("title", Problem::TooLong { max: 4 })));
        assert_eq!(check_amount(-1), Err(AppError::invalid("amount", Problem::Negative)));
    }
}
