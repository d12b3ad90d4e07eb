//! The storage port: everything the app needs from a database, and nothing
//! about how. The server crate implements it for SQLite and PostgreSQL and one
//! conformance suite runs against both.

use async_trait::async_trait;

use crate::access::{Action, Module, PermissionMatrix, Role, Scope, Visibility};
use crate::demo::DemoData;
use crate::error::{AppError, Problem};
use crate::funnel::{Day, DealsBehind, FunnelQuery, StepDeals, Totals, Track};
use crate::goals::{
    Goal, GoalChange, GoalDraft, GoalFilters, GoalId, GoalMetric, GoalStatus, Notice, NoticeKind, Tally,
};
use crate::i18n::{Locale, Theme};
use crate::kpi::KpiCounts;
use crate::norms::{AlertList, Norm, NormSettings};
use crate::org::{Department, DeptId, NewUser, OrgId, User, UserId};
use crate::pipeline::currency::CurrencyRate;
use crate::pipeline::lists::{
    ActivityFilter, ActivityList, Client, ClientFilter, ClientForm, ClientList, DealFilter, DealList,
};
use crate::pipeline::{
    Activity, ActivityKind, Board, BoardFilter, ClientId, DealId, DealPage, Lead, LeadFilter, LeadId, LeadPage,
    LeadStatus, Money, MoveRequest, Moved, NewLeadForm, Pipeline, PipelineId, Stage, StageForm, StageId, Violation,
};

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("not found")]
    NotFound,
    /// A unique value (named by the field) is already taken.
    #[error("{0} already taken")]
    Duplicate(&'static str),
    /// The record is still referenced (named by the field) and cannot go.
    #[error("{0} still in use")]
    InUse(&'static str),
    /// An input the database checked against its records, such as a stage of another pipeline.
    #[error("invalid {0}: {1:?}")]
    Invalid(&'static str, Problem),
    /// The record changed since the caller read it (its version moved on).
    #[error("changed concurrently")]
    Conflict,
    #[error(transparent)]
    Other(Box<dyn std::error::Error + Send + Sync>),
}

pub type StorageResult<T> = Result<T, StorageError>;

impl From<StorageError> for AppError {
    fn from(e: StorageError) -> AppError {
        match e {
            StorageError::NotFound => AppError::NotFound,
            StorageError::Duplicate(field) => AppError::invalid(field, Problem::Taken),
            StorageError::InUse(field) => AppError::invalid(field, Problem::InUse),
            StorageError::Invalid(field, problem) => AppError::invalid(field, problem),
            StorageError::Conflict => AppError::Conflict,
            StorageError::Other(e) => {
                tracing::error!(error = %e, "storage failure");
                AppError::Internal
            }
        }
    }
}

/// A person together with the secret needed to check their password.
#[derive(Clone, Debug)]
pub struct Credentials {
    pub user: User,
    pub password_hash: String,
}

/// Checked changes to a person; `None` keeps the current value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserUpdate {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub department_id: Option<Option<DeptId>>,
    pub active: Option<bool>,
}

/// The facts about a deal that rights and moves depend on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DealHead {
    pub id: DealId,
    pub pipeline_id: PipelineId,
    pub stage_id: StageId,
    pub version: i64,
    pub responsible_id: UserId,
    /// The responsible manager's department: deals belong where their manager works.
    pub department_id: Option<DeptId>,
    pub amount: Money,
}

/// How a move ended when it did not fail outright.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MoveOutcome {
    Moved(Moved),
    /// Refused: the pipeline blocks skipping these required stages. The attempt is recorded.
    Blocked(Vec<StageId>),
}

/// A checked new deal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewDeal {
    pub pipeline_id: PipelineId,
    pub title: String,
    /// In `currency`; stored in roubles too, at the organisation's rate.
    pub amount: Money,
    /// A checked code ([`crate::pipeline::currency::check_currency`]).
    pub currency: &'static str,
    /// Found by name among the organisation's clients, or created.
    pub client_name: Option<String>,
    pub source: String,
    pub responsible_id: UserId,
    pub lead_id: Option<LeadId>,
}

/// A checked activity, attached to a deal or a lead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewActivity {
    pub kind: ActivityKind,
    pub user_id: UserId,
    pub deal_id: Option<DealId>,
    pub lead_id: Option<LeadId>,
    pub client_id: Option<ClientId>,
    pub duration_s: Option<i32>,
    pub note: String,
    /// When it happened; `None` is the moment it is stored.
    pub at: Option<i64>,
}

/// A checked change to a deal; `client_name: None` detaches the client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DealChange {
    pub id: DealId,
    pub version: i64,
    pub title: String,
    /// In `currency`; converted to roubles anew only when it or the currency changed.
    pub amount: Money,
    pub currency: &'static str,
    pub client_name: Option<String>,
    pub source: String,
    pub responsible_id: UserId,
}

/// The facts about a client that rights depend on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientHead {
    pub id: ClientId,
    pub responsible_id: Option<UserId>,
    pub department_id: Option<DeptId>,
}

/// Which records one goal figure counts: the metric, the moments
/// `[from_ms, to_ms)`, the filters; a manual goal's entries are its own.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TallyRequest {
    pub metric: GoalMetric,
    /// Only for [`GoalMetric::Manual`].
    pub goal_id: Option<GoalId>,
    pub from_ms: i64,
    pub to_ms: i64,
    /// The same moments as whole days of the organisation's zone, for the
    /// per-day roll-ups.
    pub days: crate::funnel::Period,
    pub filters: GoalFilters,
    /// Calls shorter than this many seconds do not count.
    pub call_threshold_s: i64,
}

/// One notification to raise, once per (goal, person, kind, mark).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewNotice {
    pub user_id: UserId,
    pub goal_id: GoalId,
    pub kind: NoticeKind,
    pub mark: i64,
    pub figure: i64,
}

/// A goal's closing: how it ended, the frozen report, and the goal it renews into.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GoalClosing {
    pub id: GoalId,
    /// The version the figures were computed at: an edit since then wins, and
    /// the next pass closes the goal as edited.
    pub version: i64,
    pub status: GoalStatus,
    pub final_value: Option<i64>,
    /// JSON of [`crate::goals::FinalReport`].
    pub report: String,
    /// The next period's goal of a recurring one.
    pub renewal: Option<GoalDraft>,
}

/// A checked lead status change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeadChange {
    pub status: LeadStatus,
    /// Required to disqualify.
    pub reason: Option<String>,
    /// Where a qualified lead's deal opens.
    pub pipeline: Option<PipelineId>,
}

/// The facts about a lead that rights depend on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeadHead {
    pub id: LeadId,
    pub status: LeadStatus,
    pub responsible_id: Option<UserId>,
    pub department_id: Option<DeptId>,
}

#[async_trait]
pub trait Storage: Send + Sync + 'static {
    /// "sqlite" or "postgres", for logs and health checks.
    fn backend(&self) -> &'static str;
    async fn ping(&self) -> StorageResult<()>;

    /// The organisation this instance serves, if one was set up.
    async fn default_org(&self) -> StorageResult<Option<OrgId>>;
    /// Creates an organisation with the default rights.
    async fn create_org(&self, name: &str, time_zone: &str) -> StorageResult<OrgId>;

    async fn count_users(&self) -> StorageResult<i64>;
    async fn user(&self, id: UserId) -> StorageResult<Option<User>>;
    async fn credentials(&self, email: &str) -> StorageResult<Option<Credentials>>;
    async fn users(&self, org: OrgId, visibility: Visibility) -> StorageResult<Vec<User>>;
    async fn insert_user(&self, org: OrgId, user: &NewUser, password_hash: &str) -> StorageResult<User>;
    async fn update_user(&self, org: OrgId, id: UserId, update: &UserUpdate) -> StorageResult<User>;
    async fn set_password(&self, id: UserId, password_hash: &str) -> StorageResult<()>;
    async fn set_preferences(&self, id: UserId, locale: Locale, theme: Theme) -> StorageResult<()>;

    async fn departments(&self, org: OrgId, visibility: Visibility) -> StorageResult<Vec<Department>>;
    async fn department(&self, org: OrgId, id: DeptId) -> StorageResult<Option<Department>>;
    async fn insert_department(&self, org: OrgId, name: &str, head: Option<UserId>) -> StorageResult<Department>;
    async fn update_department(
        &self,
        org: OrgId,
        id: DeptId,
        name: &str,
        head: Option<UserId>,
    ) -> StorageResult<Department>;
    /// Removes an empty department; one with members is [`StorageError::InUse`].
    async fn delete_department(&self, org: OrgId, id: DeptId) -> StorageResult<()>;

    async fn permissions(&self, org: OrgId) -> StorageResult<PermissionMatrix>;
    async fn set_permission(
        &self,
        org: OrgId,
        role: Role,
        module: Module,
        action: Action,
        scope: Scope,
    ) -> StorageResult<()>;

    /// Failed sign-ins under `key` since `since_ms`: how many, and the oldest.
    async fn login_failures(&self, key: &str, since_ms: i64) -> StorageResult<(i64, Option<i64>)>;
    async fn record_login_failure(&self, keys: &[String], at_ms: i64) -> StorageResult<()>;
    async fn clear_login_failures(&self, key: &str) -> StorageResult<()>;

    /// Replaces all business data with a generated data set.
    async fn import_demo(&self, data: &DemoData) -> StorageResult<()>;
    /// Adds a generated data set (ids continuing the existing ones) without clearing anything.
    async fn append_generated(&self, data: &DemoData) -> StorageResult<()>;
    /// Brings the planner's statistics (and PostgreSQL's visibility map,
    /// which index-only scans need) up to date after a bulk load.
    async fn refresh_statistics(&self) -> StorageResult<()>;

    /// The organisation's time zone name (IANA), which decides what "today" is.
    async fn time_zone(&self, org: OrgId) -> StorageResult<String>;
    /// The people whose records a manager, department and rights filter
    /// leaves; `None` is everyone.
    async fn owners(
        &self,
        org: OrgId,
        manager: Option<UserId>,
        department: Option<DeptId>,
        visibility: Visibility,
    ) -> StorageResult<Option<Vec<UserId>>>;
    /// Funnel sums per step from the per-day roll-up.
    async fn funnel_totals(&self, org: OrgId, query: &FunnelQuery) -> StorageResult<Vec<(StageId, Totals)>>;
    /// Deals and money of the given steps per day of the period, from the
    /// per-day roll-up: (day, step, deals, amount), days without any left out.
    async fn funnel_daily(
        &self,
        org: OrgId,
        query: &FunnelQuery,
        stages: &[StageId],
    ) -> StorageResult<Vec<(Day, StageId, i64, Money)>>;
    /// Median finished time in each stage, in milliseconds.
    async fn funnel_medians(&self, org: OrgId, query: &FunnelQuery) -> StorageResult<Vec<(StageId, i64)>>;
    /// Deals that reached each step, per manager: (manager, step, deals).
    async fn funnel_managers(&self, org: OrgId, query: &FunnelQuery) -> StorageResult<Vec<(UserId, StageId, i64)>>;
    /// The deals behind one of a step's figures, newest first.
    async fn funnel_deals(
        &self,
        org: OrgId,
        query: &FunnelQuery,
        stage: StageId,
        which: StepDeals,
    ) -> StorageResult<DealsBehind>;
    /// Raw histories of the deals a query could count, read from deal events
    /// (the roll-up's reference and the benchmark's naive path).
    async fn funnel_tracks(&self, org: OrgId, query: &FunnelQuery) -> StorageResult<Vec<Track>>;
    /// Throws the roll-ups away and computes them again from deal events.
    async fn rebuild_funnel(&self, org: OrgId) -> StorageResult<()>;

    /// KPI counts per person (0: records nobody owns) of the period's days in
    /// the organisation's zone, of the given people (`None`: everyone), read
    /// from the per-day roll-up; calls count at the stored threshold.
    async fn kpi_counts(
        &self,
        org: OrgId,
        period: crate::funnel::Period,
        owners: Option<&[UserId]>,
    ) -> StorageResult<Vec<(UserId, KpiCounts)>>;
    /// The same counts straight from the records of `[from_ms, to_ms)`, calls
    /// from `call_threshold_s`: the roll-up's reference and the benchmark's naive path.
    async fn kpi_counts_raw(
        &self,
        org: OrgId,
        from_ms: i64,
        to_ms: i64,
        owners: Option<&[UserId]>,
        call_threshold_s: i64,
    ) -> StorageResult<Vec<(UserId, KpiCounts)>>;
    /// Throws the KPI roll-up away and counts it again from the records.
    async fn rebuild_kpis(&self, org: OrgId) -> StorageResult<()>;
    /// How long a call must last to count, seconds.
    async fn call_threshold(&self, org: OrgId) -> StorageResult<i64>;
    /// Stores the threshold and recounts every call of the organisation at it.
    async fn set_call_threshold(&self, org: OrgId, seconds: i64) -> StorageResult<()>;
    /// Records what the client said of a closed deal; `NotFound` when the deal is open.
    async fn rate_deal(&self, org: OrgId, deal: DealId, csat: Option<i64>, nps: Option<i64>) -> StorageResult<()>;

    /// The organisation's activity norms and response norm.
    async fn norm_settings(&self, org: OrgId) -> StorageResult<NormSettings>;
    /// Replaces the norms with checked `norms` if nobody saved since
    /// `settings.version` ([`StorageError::Conflict`] otherwise).
    async fn save_norm_settings(
        &self,
        org: OrgId,
        settings: &NormSettings,
        norms: &[Norm],
    ) -> StorageResult<NormSettings>;
    /// Leads of the given people (`None`: everyone) still new and unanswered
    /// since before `unanswered_before_ms`, and leads disqualified since
    /// `silent_since_ms` with no activity on them; each the oldest `limit` and a total.
    async fn lead_alerts(
        &self,
        org: OrgId,
        owners: Option<&[UserId]>,
        unanswered_before_ms: i64,
        silent_since_ms: i64,
        limit: i64,
    ) -> StorageResult<(AlertList, AlertList)>;

    /// Every goal of the organisation, active ones or all.
    async fn goals(&self, org: OrgId, active_only: bool) -> StorageResult<Vec<Goal>>;
    async fn goal(&self, org: OrgId, id: GoalId) -> StorageResult<Option<Goal>>;
    /// Stores a checked new goal and its "created" history line.
    async fn insert_goal(&self, org: OrgId, actor: UserId, draft: &GoalDraft, now_ms: i64) -> StorageResult<Goal>;
    /// Changes an active goal still at `version` ([`StorageError::Conflict`]
    /// otherwise), writing a history line per changed setting.
    async fn update_goal(
        &self,
        org: OrgId,
        actor: UserId,
        id: GoalId,
        version: i64,
        draft: &GoalDraft,
        now_ms: i64,
    ) -> StorageResult<Goal>;
    async fn goal_history(&self, org: OrgId, id: GoalId) -> StorageResult<Vec<GoalChange>>;
    /// A manual goal's recorded progress, newest first.
    async fn goal_entries(&self, org: OrgId, id: GoalId) -> StorageResult<Vec<crate::goals::GoalEntry>>;
    /// A closed goal's frozen report (JSON of [`crate::goals::FinalReport`]).
    async fn goal_report(&self, org: OrgId, id: GoalId) -> StorageResult<Option<String>>;
    /// What the records a request counts add up to, per responsible person (0: nobody),
    /// of the given people (`None`: everyone).
    async fn goal_tallies(
        &self,
        org: OrgId,
        request: &TallyRequest,
        owners: Option<&[UserId]>,
    ) -> StorageResult<Vec<(UserId, Tally)>>;
    /// The same records one by one, as (moment, amount), for the daily chart.
    async fn goal_moments(
        &self,
        org: OrgId,
        request: &TallyRequest,
        owners: Option<&[UserId]>,
    ) -> StorageResult<Vec<(i64, i64)>>;
    /// Open deals' amounts times their stage's win probability in percent,
    /// per responsible person: a hundredth of a kopeck, so that the sum of
    /// any people is rounded once.
    async fn weighted_pipeline(&self, org: OrgId, filters: &GoalFilters) -> StorageResult<Vec<(UserId, i64)>>;
    /// Records progress on a manual goal.
    async fn add_goal_entry(
        &self,
        org: OrgId,
        goal: GoalId,
        user: UserId,
        amount: i64,
        note: &str,
        now_ms: i64,
    ) -> StorageResult<()>;
    /// Closes an active goal with its frozen report and creates its renewal
    /// (under the parent's renewal, if the parent renewed); `false` when it
    /// was closed already (another server got there first).
    async fn close_goal(&self, org: OrgId, closing: &GoalClosing, now_ms: i64) -> StorageResult<bool>;
    /// Raises notifications, skipping those raised before; returns how many are new.
    async fn add_notices(&self, org: OrgId, notices: &[NewNotice], now_ms: i64) -> StorageResult<u64>;
    /// A person's notifications, newest first.
    async fn notices(&self, org: OrgId, user: UserId, limit: i64) -> StorageResult<Vec<Notice>>;
    async fn mark_notices_read(&self, org: OrgId, user: UserId, now_ms: i64) -> StorageResult<()>;
    /// How many of a person's notifications are unread, all of them counted.
    async fn unread_notices(&self, org: OrgId, user: UserId) -> StorageResult<i64>;

    /// Every pipeline of the organisation with its stages in order, archived ones included.
    async fn pipelines(&self, org: OrgId) -> StorageResult<Vec<Pipeline>>;
    /// Saves a checked [`StageForm`]; `id: None` adds the stage at `position`.
    async fn save_stage(&self, org: OrgId, edit: &StageForm) -> StorageResult<Stage>;
    async fn save_pipeline(
        &self,
        org: OrgId,
        id: Option<PipelineId>,
        name: &str,
        block_skips: bool,
    ) -> StorageResult<Pipeline>;
    /// Archives a pipeline without open deals, or brings one back. The last
    /// active pipeline stays: new deals and qualified leads need one.
    async fn archive_pipeline(&self, org: OrgId, id: PipelineId, archived: bool) -> StorageResult<Pipeline>;

    /// One pipeline's columns: counts and totals of every visible deal, and the newest cards.
    async fn board(
        &self,
        org: OrgId,
        filter: &BoardFilter,
        visibility: Visibility,
        now_ms: i64,
    ) -> StorageResult<Board>;
    async fn deal_head(&self, org: OrgId, id: DealId) -> StorageResult<Option<DealHead>>;
    /// Moves a deal if it is still at `request.version`; a stale version is
    /// [`StorageError::Conflict`], a repeated key returns the first answer.
    async fn move_deal(
        &self,
        org: OrgId,
        actor: UserId,
        request: &MoveRequest,
        now_ms: i64,
    ) -> StorageResult<MoveOutcome>;
    async fn deal_page(&self, org: OrgId, id: DealId, now_ms: i64) -> StorageResult<Option<DealPage>>;
    async fn create_deal(&self, org: OrgId, actor: UserId, deal: &NewDeal, now_ms: i64) -> StorageResult<DealHead>;
    async fn add_activity(&self, org: OrgId, activity: &NewActivity, now_ms: i64) -> StorageResult<Activity>;
    /// Skipped required stages, newest first.
    async fn violations(&self, org: OrgId, visibility: Visibility, limit: i64) -> StorageResult<Vec<Violation>>;

    /// Deals the visibility covers, filtered, sorted and a page at a time.
    async fn deals(&self, org: OrgId, filter: &DealFilter, visibility: Visibility) -> StorageResult<DealList>;
    /// Changes a deal if it is still at `change.version` ([`StorageError::Conflict`]
    /// otherwise); a new responsible is an event in its history.
    async fn update_deal(&self, org: OrgId, actor: UserId, change: &DealChange, now_ms: i64)
        -> StorageResult<DealHead>;
    async fn clients(&self, org: OrgId, filter: &ClientFilter, visibility: Visibility) -> StorageResult<ClientList>;
    /// The foreign currencies' rates to the rouble that have been set.
    async fn currency_rates(&self, org: OrgId) -> StorageResult<Vec<CurrencyRate>>;
    /// Sets (or replaces) what one unit of `currency` costs, for deals saved from now on.
    async fn set_currency_rate(
        &self,
        org: OrgId,
        actor: UserId,
        currency: &str,
        rate: i64,
        now_ms: i64,
    ) -> StorageResult<CurrencyRate>;
    async fn client_head(&self, org: OrgId, id: ClientId) -> StorageResult<Option<ClientHead>>;
    /// Adds (with `responsible`) or changes a checked client; a name another
    /// client has is [`StorageError::Duplicate`].
    async fn save_client(
        &self,
        org: OrgId,
        form: &ClientForm,
        responsible: UserId,
        now_ms: i64,
    ) -> StorageResult<Client>;
    async fn activities(
        &self,
        org: OrgId,
        filter: &ActivityFilter,
        visibility: Visibility,
    ) -> StorageResult<ActivityList>;

    async fn leads(&self, org: OrgId, filter: &LeadFilter, visibility: Visibility) -> StorageResult<LeadPage>;
    async fn lead_head(&self, org: OrgId, id: LeadId) -> StorageResult<Option<LeadHead>>;
    /// Changes a lead's title, source and contact if it is still at `edit.version`.
    async fn update_lead(&self, org: OrgId, edit: &crate::pipeline::LeadEdit) -> StorageResult<Lead>;
    /// One activity of the organisation, with what it was about.
    async fn activity(&self, org: OrgId, id: i64) -> StorageResult<Option<Activity>>;
    /// Corrects an activity if it is still at `edit.version`; a stale version is a conflict.
    async fn update_activity(&self, org: OrgId, edit: &crate::pipeline::ActivityEdit) -> StorageResult<Activity>;
    async fn create_lead(
        &self,
        org: OrgId,
        lead: &NewLeadForm,
        responsible: UserId,
        now_ms: i64,
    ) -> StorageResult<Lead>;
    /// Changes a lead's status, recording the first response; qualifying
    /// turns it into a client and a deal in the first stage of `pipeline`.
    async fn set_lead_status(
        &self,
        org: OrgId,
        actor: UserId,
        id: LeadId,
        change: &LeadChange,
        now_ms: i64,
    ) -> StorageResult<Lead>;
}
