//! Server functions of goals, and the job that closes, renews and watches
//! them. Rights: module Goals. A person's goal belongs to that person and
//! their department, a department's goal to the department; company goals
//! are seen by everyone who sees goals at all and changed only with the
//! "all" scope. Progress is counted from the records on every read.

use leptos::prelude::*;

use super::{Goal, GoalDetail, GoalForm, GoalId, GoalsDashboard, Notice, SplitMode, SplitPart};
use crate::error::AppError;

#[cfg(feature = "ssr")]
pub mod ssr {
    use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

    use crate::access::guard::{Authorized, Ctx};
    use crate::access::{Action, Module, Owner, Role, Scope, Visibility};
    use crate::error::{AppError, Problem};
    use crate::funnel::{day_in, day_of_date, day_start_ms, parse_day, Day, Period, MAX_PERIOD_DAYS};
    use crate::goals::*;
    use crate::org::{DeptId, OrgId, User, UserId};
    use crate::pipeline::{clean_text, optional_text, Money};
    use crate::storage::{GoalClosing, NewNotice, Storage, StorageResult, TallyRequest};

    /// Who a goal belongs to, for rights.
    pub fn goal_owner(goal: &Goal, people: &[User]) -> Option<Owner> {
        participants_owner(&goal.participants, people)
    }

    /// `None` for the company: it has no owner and takes the "all" scope to change.
    pub fn participants_owner(p: &Participants, people: &[User]) -> Option<Owner> {
        match p.kind {
            ParticipantKind::User => Some(Owner {
                user: p.user_id,
                department: people.iter().find(|u| Some(u.id) == p.user_id).and_then(|u| u.department_id),
            }),
            ParticipantKind::Department => Some(Owner { user: None, department: p.department_id }),
            ParticipantKind::Company => None,
        }
    }

    /// Whether a right covers a goal: company goals are for everyone who
    /// may see goals, but only the "all" scope changes them.
    pub fn covers(auth: &Authorized, owner: Option<Owner>, action: Action) -> bool {
        match owner {
            Some(o) => auth.grant.permits(o),
            None => action == Action::View || auth.grant.scope == Scope::All,
        }
    }

    /// The organisation's zone, its threshold for calls and its people, read
    /// once per request; tallies are cached, so goals that count the same
    /// records (a department goal and its people's) cost one query, and so
    /// are the weighted open pipelines behind the forecasts.
    pub struct Counter<'a> {
        pub storage: &'a dyn Storage,
        pub org: OrgId,
        pub tz: jiff::tz::TimeZone,
        pub now_ms: i64,
        pub today: Day,
        pub threshold: i64,
        pub people: Vec<User>,
        cache: HashMap<TallyRequest, BTreeMap<UserId, Tally>>,
        open: HashMap<GoalFilters, Vec<(UserId, i64)>>,
    }

    impl<'a> Counter<'a> {
        pub async fn new(storage: &'a dyn Storage, org: OrgId, now_ms: i64) -> StorageResult<Counter<'a>> {
            let tz = crate::funnel::server::ssr::zone(&storage.time_zone(org).await?);
            Ok(Counter {
                storage,
                org,
                today: day_in(&tz, now_ms),
                tz,
                now_ms,
                threshold: storage.call_threshold(org).await?,
                people: storage.users(org, Visibility::All).await?,
                cache: HashMap::new(),
                open: HashMap::new(),
            })
        }

        /// `[from, to)` in UTC milliseconds.
        pub fn range(&self, period: Period) -> (i64, i64) {
            (day_start_ms(&self.tz, period.from), day_start_ms(&self.tz, period.to + 1))
        }

        pub fn request(&self, goal: &Goal, period: Period) -> TallyRequest {
            let (from_ms, to_ms) = self.range(period);
            TallyRequest {
                metric: goal.metric,
                goal_id: (goal.metric == GoalMetric::Manual).then_some(goal.id),
                from_ms,
                to_ms,
                days: period,
                filters: goal.filters.clone(),
                call_threshold_s: self.threshold,
            }
        }

        /// The people whose records count; `None` is everyone (records nobody owns too).
        pub fn owners(&self, p: &Participants) -> Option<Vec<UserId>> {
            match p.kind {
                ParticipantKind::User => Some(p.user_id.into_iter().collect()),
                ParticipantKind::Department => {
                    Some(self.people.iter().filter(|u| u.department_id == p.department_id).map(|u| u.id).collect())
                }
                ParticipantKind::Company => None,
            }
        }

        /// The people a goal ranks: the participant, the department's
        /// sellers, or every seller.
        pub fn ranked_people(&self, p: &Participants) -> Vec<&User> {
            let sells = |u: &&User| u.active && matches!(u.role, Role::Manager | Role::Head);
            match p.kind {
                ParticipantKind::User => self.people.iter().filter(|u| Some(u.id) == p.user_id).collect(),
                ParticipantKind::Department => {
                    self.people.iter().filter(|u| u.department_id == p.department_id).filter(sells).collect()
                }
                ParticipantKind::Company => self.people.iter().filter(sells).collect(),
            }
        }

        pub async fn tallies(&mut self, request: &TallyRequest) -> StorageResult<&BTreeMap<UserId, Tally>> {
            if !self.cache.contains_key(request) {
                let rows = self.storage.goal_tallies(self.org, request, None).await?;
                self.cache.insert(request.clone(), rows.into_iter().collect());
            }
            Ok(&self.cache[request])
        }

        /// Reads, side by side, every tally and weighted pipeline the cards of
        /// these goals (each with its parts) will ask for, so a page of goals
        /// waits for its slowest read instead of for all of them in turn.
        pub async fn prefetch_cards(&mut self, goals: &[(&Goal, &[Goal])]) -> StorageResult<()> {
            let mut requests = HashSet::new();
            let mut open = HashSet::new();
            for (goal, children) in goals {
                requests.insert(self.request(goal, Self::previous_period(goal)));
                for g in std::iter::once(*goal).chain(children.iter()) {
                    if g.status == GoalStatus::Active {
                        requests.insert(self.request(g, g.period));
                    }
                }
                if goal.metric.is_money() && goal.status == GoalStatus::Active {
                    open.insert(goal.filters.clone());
                }
            }
            self.prefetch(requests, open).await
        }

        /// Reads, side by side, the tally of each goal's own period: what
        /// the goals job recounts after every change.
        pub async fn prefetch_periods(&mut self, goals: &[Goal]) -> StorageResult<()> {
            let requests = goals.iter().map(|g| self.request(g, g.period)).collect();
            self.prefetch(requests, HashSet::new()).await
        }

        /// Reads what the caches lack of these tallies and weighted pipelines, side by side.
        async fn prefetch(
            &mut self,
            mut requests: HashSet<TallyRequest>,
            mut open: HashSet<GoalFilters>,
        ) -> StorageResult<()> {
            requests.retain(|r| !self.cache.contains_key(r));
            open.retain(|f| !self.open.contains_key(f));
            let (storage, org) = (self.storage, self.org);
            let requests: Vec<TallyRequest> = requests.into_iter().collect();
            let open: Vec<GoalFilters> = open.into_iter().collect();
            let (tallies, weighted) = futures::try_join!(
                futures::future::try_join_all(requests.iter().map(|r| storage.goal_tallies(org, r, None))),
                futures::future::try_join_all(open.iter().map(|f| storage.weighted_pipeline(org, f))),
            )?;
            for (request, rows) in requests.into_iter().zip(tallies) {
                self.cache.insert(request, rows.into_iter().collect());
            }
            self.open.extend(open.into_iter().zip(weighted));
            Ok(())
        }

        /// The open deals a goal's filters count, weighted by their stages'
        /// probabilities, of the given people (`None`: everyone), in kopecks.
        pub async fn weighted_pipeline(
            &mut self,
            filters: &GoalFilters,
            owners: Option<&[UserId]>,
        ) -> StorageResult<Money> {
            if !self.open.contains_key(filters) {
                let rows = self.storage.weighted_pipeline(self.org, filters).await?;
                self.open.insert(filters.clone(), rows);
            }
            let hundredths: i64 = self.open[filters]
                .iter()
                .filter(|(who, _)| owners.is_none_or(|o| o.contains(who)))
                .map(|(_, weighted)| weighted)
                .sum();
            Ok(hundredths / 100)
        }

        /// What a goal's records add up to over a period.
        pub async fn tally(&mut self, goal: &Goal, period: Period) -> StorageResult<Tally> {
            let owners = if goal.metric == GoalMetric::Manual { None } else { self.owners(&goal.participants) };
            let request = self.request(goal, period);
            let by_owner = self.tallies(&request).await?;
            let mut sum = Tally::default();
            for (who, t) in by_owner {
                if owners.as_ref().is_none_or(|o| o.contains(who)) {
                    sum += *t;
                }
            }
            Ok(sum)
        }

        /// Each person's figure of a goal's period.
        pub async fn per_person(&mut self, goal: &Goal) -> StorageResult<BTreeMap<UserId, Tally>> {
            let request = self.request(goal, goal.period);
            Ok(self.tallies(&request).await?.clone())
        }

        pub fn standing(&self, goal: &Goal, value: Option<i64>) -> Standing {
            let (from, to) = self.range(goal.period);
            let elapsed = ((self.now_ms - from) as f64 / (to - from).max(1) as f64).clamp(0.0, 1.0);
            Standing { value, target: goal.target, elapsed }
        }

        /// The period a goal compares itself with: the calendar unit before, or the same length before.
        pub fn previous_period(goal: &Goal) -> Period {
            calendar_period(goal.period_kind, goal.period.from - 1).unwrap_or(goal.period.previous())
        }

        /// A goal's card: live figures while active, the frozen value once closed.
        pub async fn card(
            &mut self,
            goal: &Goal,
            children: &[Goal],
            editable: bool,
            may_record: bool,
        ) -> StorageResult<GoalCard> {
            let value = match goal.status {
                GoalStatus::Active => self.tally(goal, goal.period).await?.value(goal.metric),
                _ => goal.final_value,
            };
            let standing = self.standing(goal, value);
            let previous_value = self.tally(goal, Self::previous_period(goal)).await?.value(goal.metric);
            let weighted_forecast = if goal.metric.is_money() && goal.status == GoalStatus::Active {
                let owners = self.owners(&goal.participants);
                let open = self.weighted_pipeline(&goal.filters, owners.as_deref()).await?;
                Some(value.unwrap_or(0) + open)
            } else {
                None
            };
            let mut lines = Vec::new();
            for child in children {
                let v = match child.status {
                    GoalStatus::Active => self.tally(child, child.period).await?.value(child.metric),
                    _ => child.final_value,
                };
                lines.push(ChildLine {
                    id: child.id,
                    name: child.name.clone(),
                    participant_name: child.participant_name.clone(),
                    target: child.target,
                    value: v,
                });
            }
            let outlook = match goal.status {
                GoalStatus::Active => standing.outlook(goal.metric, goal.direction),
                GoalStatus::Achieved => Outlook::Achieved,
                GoalStatus::Missed => Outlook::Behind,
            };
            Ok(GoalCard {
                percent: standing.percent(goal.direction),
                expected_now: standing.expected_now(goal.metric),
                forecast: standing.run_rate(goal.metric),
                weighted_forecast,
                outlook,
                days_left: (goal.period.to - self.today + 1).clamp(0, goal.period.days()),
                previous_value,
                children_mismatch: !lines.is_empty()
                    && goal.metric.is_additive()
                    && lines.iter().map(|l| l.target).sum::<i64>() != goal.target,
                children: lines,
                standing,
                goal: goal.clone(),
                editable,
                may_record,
            })
        }

        /// The participants best first; people with a child goal of their own
        /// are measured against it.
        pub async fn ranking(&mut self, goal: &Goal, children: &[Goal]) -> StorageResult<Vec<Ranked>> {
            if goal.metric == GoalMetric::Manual {
                return Ok(Vec::new());
            }
            let per_person = self.per_person(goal).await?;
            let rows = self
                .ranked_people(&goal.participants)
                .into_iter()
                .map(|u| {
                    let value = per_person.get(&u.id).copied().unwrap_or_default().value(goal.metric);
                    let target = children
                        .iter()
                        .find(|c| c.participants.kind == ParticipantKind::User && c.participants.user_id == Some(u.id))
                        .map(|c| c.target);
                    let percent =
                        target.and_then(|t| Standing { value, target: t, elapsed: 0.0 }.percent(goal.direction));
                    Ranked { rank: 0, user_id: u.id, name: u.name.clone(), value, target, percent }
                })
                .collect();
            Ok(rank(rows, goal.direction))
        }

        /// The plan line and the fact, day by day.
        pub async fn dynamics(&mut self, goal: &Goal) -> StorageResult<Vec<DayPoint>> {
            let owners = if goal.metric == GoalMetric::Manual { None } else { self.owners(&goal.participants) };
            let request = self.request(goal, goal.period);
            let moments = self.storage.goal_moments(self.org, &request, owners.as_deref()).await?;
            let mut days = vec![Tally::default(); goal.period.days() as usize];
            for (at, amount) in moments {
                let i = day_in(&self.tz, at) - goal.period.from;
                if let Some(d) = usize::try_from(i).ok().and_then(|i| days.get_mut(i)) {
                    *d += Tally { sum: amount, n: 1 };
                }
            }
            let today = if goal.status == GoalStatus::Active { self.today } else { goal.period.to };
            Ok(dynamics(goal.metric, goal.target, goal.period, &days, today))
        }
    }

    /// Checks a goal form into a draft: texts, target, the period, what the metric accepts.
    pub fn check_form(form: &GoalForm, today: Day) -> Result<GoalDraft, AppError> {
        let name = clean_text("name", &form.name, MAX_NAME)?;
        let description = optional_text("description", &form.description, MAX_DESCRIPTION)?;
        if form.target < 0 {
            return Err(AppError::invalid("target", Problem::Negative));
        }
        if form.target > MAX_TARGET {
            return Err(AppError::invalid("target", Problem::TooLarge));
        }
        if form.target == 0 && form.direction == Direction::Higher {
            return Err(AppError::invalid("target", Problem::Required));
        }
        let first = day_of_date(jiff::civil::date(FIRST_YEAR, 1, 1));
        let last = day_of_date(jiff::civil::date(LAST_YEAR, 12, 31));
        let day = |field: &str, text: &str| {
            parse_day(text)
                .filter(|d| (first..=last).contains(d))
                .ok_or_else(|| AppError::invalid(field, Problem::Unknown))
        };
        let start = match form.start.trim() {
            "" => today,
            text => day("start", text)?,
        };
        let period = match calendar_period(form.period_kind, start) {
            Some(p) => p,
            None => {
                let end = match form.end.trim() {
                    "" => return Err(AppError::invalid("end", Problem::Required)),
                    text => day("end", text)?,
                };
                if end < start {
                    return Err(AppError::invalid("end", Problem::BeforeStart));
                }
                if end - start + 1 > MAX_PERIOD_DAYS {
                    return Err(AppError::invalid("end", Problem::TooLarge));
                }
                Period { from: start, to: end }
            }
        };
        let p = form.participants;
        let participants = match p.kind {
            ParticipantKind::User => Participants {
                kind: p.kind,
                user_id: Some(p.user_id.ok_or_else(|| AppError::invalid("participants", Problem::Required))?),
                department_id: None,
            },
            ParticipantKind::Department => Participants {
                kind: p.kind,
                user_id: None,
                department_id: Some(
                    p.department_id.ok_or_else(|| AppError::invalid("participants", Problem::Required))?,
                ),
            },
            ParticipantKind::Company => Participants { kind: p.kind, user_id: None, department_id: None },
        };
        let mut filters = form.filters.clone();
        filters.source = match filters.source.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) => Some(clean_text("source", s, 50)?.to_lowercase()),
        };
        form.metric.accepts(&filters).map_err(|field| AppError::invalid(field, Problem::Unknown))?;
        if form.metric == GoalMetric::FirstResponse && form.direction == Direction::Higher {
            return Err(AppError::invalid("direction", Problem::Unknown));
        }
        match form.notify.risk_after {
            ..0 => return Err(AppError::invalid("risk_after", Problem::Negative)),
            0 => return Err(AppError::invalid("risk_after", Problem::Required)),
            101.. => return Err(AppError::invalid("risk_after", Problem::TooLarge)),
            _ => {}
        }
        Ok(GoalDraft {
            parent_id: form.parent_id,
            name,
            description,
            metric: form.metric,
            direction: form.direction,
            target: form.target,
            period_kind: form.period_kind,
            period,
            recurring: form.recurring,
            participants,
            filters,
            notify: form.notify,
        })
    }

    /// A child must count the same thing over the same period as its parent,
    /// for a narrower set of people.
    pub fn check_child(parent: &Goal, child: &GoalDraft, people: &[User]) -> Result<(), AppError> {
        if !parent.metric.is_additive() || child.metric != parent.metric {
            return Err(AppError::invalid("metric", Problem::Unknown));
        }
        if child.period != parent.period {
            return Err(AppError::invalid("period", Problem::Unknown));
        }
        if parent.status != GoalStatus::Active {
            return Err(AppError::invalid("parent", Problem::Unknown));
        }
        let within = match (parent.participants.kind, child.participants.kind) {
            (ParticipantKind::Company, ParticipantKind::Department | ParticipantKind::User) => true,
            (ParticipantKind::Department, ParticipantKind::User) => people.iter().any(|u| {
                Some(u.id) == child.participants.user_id && u.department_id == parent.participants.department_id
            }),
            _ => false,
        };
        if !within {
            return Err(AppError::invalid("participants", Problem::Unknown));
        }
        Ok(())
    }

    /// Who hears of a goal: its participant, or the department's people, or
    /// heads and admins for a company goal; and whoever set it.
    pub fn recipients(goal: &Goal, people: &[User]) -> Vec<UserId> {
        let mut out: BTreeSet<UserId> = people
            .iter()
            .filter(|u| u.active)
            .filter(|u| match goal.participants.kind {
                ParticipantKind::User => Some(u.id) == goal.participants.user_id,
                ParticipantKind::Department => u.department_id == goal.participants.department_id,
                ParticipantKind::Company => matches!(u.role, Role::Head | Role::Admin),
            })
            .map(|u| u.id)
            .collect();
        out.insert(goal.created_by);
        out.into_iter().collect()
    }

    /// Heads who get the daily summary of a goal: its department's head
    /// (or the participant's), admins for company goals.
    fn summary_readers(goal: &Goal, people: &[User]) -> Vec<UserId> {
        let department = match goal.participants.kind {
            ParticipantKind::Department => goal.participants.department_id,
            ParticipantKind::User => {
                people.iter().find(|u| Some(u.id) == goal.participants.user_id).and_then(|u| u.department_id)
            }
            ParticipantKind::Company => None,
        };
        people
            .iter()
            .filter(|u| u.active)
            .filter(|u| match department {
                Some(d) => u.role == Role::Head && u.department_id == Some(d),
                None => u.role == Role::Admin,
            })
            .map(|u| u.id)
            .collect()
    }

    /// One pass of the goals job at `now_ms`: closes goals whose period has
    /// ended (frozen report, renewal), and raises the notifications that are
    /// due. Returns whether anything changed, so pages can be told.
    pub async fn tick(storage: &dyn Storage, org: OrgId, now_ms: i64) -> StorageResult<bool> {
        let mut counter = Counter::new(storage, org, now_ms).await?;
        let mut notices = Vec::new();
        let mut changed = false;
        // First close what has ended, so the renewals are watched in the same pass.
        let today = counter.today;
        let goals = storage.goals(org, true).await?;
        counter.prefetch_periods(&goals).await?;
        // Parents close before their children, so a child renews under its parent's renewal.
        let depth = |g: &Goal| {
            let (mut depth, mut parent) = (0, g.parent_id);
            while let Some(p) = parent.and_then(|id| goals.iter().find(|x| x.id == id)) {
                depth += 1;
                parent = p.parent_id.filter(|_| depth < 8);
            }
            depth
        };
        let mut ended: Vec<&Goal> = goals.iter().filter(|g| today > g.period.to).collect();
        ended.sort_by_key(|g| (depth(g), g.id));
        for goal in ended {
            let children: Vec<Goal> = goals.iter().filter(|g| g.parent_id == Some(goal.id)).cloned().collect();
            let value = counter.tally(goal, goal.period).await?.value(goal.metric);
            let status = final_status(value, goal.target, goal.direction);
            let report = FinalReport {
                value,
                target: goal.target,
                status,
                ranking: counter.ranking(goal, &children).await?,
                closed_at: now_ms,
            };
            let renewal = goal
                .recurring
                .then(|| GoalDraft { period: next_period(goal.period_kind, goal.period), ..goal.draft() });
            let closing = GoalClosing {
                id: goal.id,
                version: goal.version,
                status,
                final_value: value,
                report: serde_json::to_string(&report).unwrap_or_default(),
                renewal,
            };
            if storage.close_goal(org, &closing, now_ms).await? {
                changed = true;
                let figure = i64::from(status == GoalStatus::Achieved);
                notices.extend(recipients(goal, &counter.people).into_iter().map(|user_id| NewNotice {
                    user_id,
                    goal_id: goal.id,
                    kind: NoticeKind::Closed,
                    mark: 0,
                    figure,
                }));
            }
        }
        let goals = if changed { storage.goals(org, true).await? } else { goals };
        for goal in goals.iter().filter(|g| today <= g.period.to) {
            let value = counter.tally(goal, goal.period).await?.value(goal.metric);
            let to_all = |kind: NoticeKind, mark: i64, figure: i64, people: Vec<UserId>| {
                people.into_iter().map(move |user_id| NewNotice { user_id, goal_id: goal.id, kind, mark, figure })
            };
            let standing = counter.standing(goal, value);
            let percent = standing.percent(goal.direction);
            if goal.notify.milestones && goal.direction == Direction::Higher {
                for m in milestones_reached(percent) {
                    notices.extend(to_all(NoticeKind::Milestone, m, m, recipients(goal, &counter.people)));
                }
            }
            let outlook = standing.outlook(goal.metric, goal.direction);
            if goal.notify.risk
                && standing.elapsed * 100.0 >= goal.notify.risk_after as f64
                && matches!(outlook, Outlook::AtRisk | Outlook::Behind)
            {
                notices.extend(to_all(NoticeKind::Risk, 0, percent.unwrap_or(0), recipients(goal, &counter.people)));
            }
            let days_left = goal.period.to - today + 1;
            if goal.notify.deadline
                && goal.period.days() > 1
                && days_left <= DEADLINE_DAYS.min(goal.period.days() - 1)
                && outlook != Outlook::Achieved
            {
                let people = recipients(goal, &counter.people);
                notices.extend(to_all(NoticeKind::Deadline, 0, i64::from(days_left), people));
            }
            if goal.notify.daily {
                let readers = summary_readers(goal, &counter.people);
                notices.extend(to_all(NoticeKind::Daily, i64::from(today), percent.unwrap_or(0), readers));
            }
        }
        let added = storage.add_notices(org, &notices, now_ms).await?;
        Ok(changed || added > 0)
    }

    /// Runs [`tick`] every `every`, and soon after any committed change,
    /// telling open pages when it closed a goal or raised a notification.
    pub async fn run_job(state: crate::access::guard::AppState, every: std::time::Duration) {
        use crate::pipeline::live::{Change, Subject};
        let mut changes = state.hub.subscribe();
        // The first pass runs at once: after a restart, what fell due is said
        // (and goals whose period ended are closed) without waiting.
        loop {
            if let Ok(Some(org)) = state.storage.default_org().await {
                match tick(state.storage.as_ref(), org, crate::funnel::server::ssr::now_ms()).await {
                    Ok(true) => state.hub.publish(Change {
                        org,
                        owner: Owner { user: None, department: None },
                        subject: Subject::Goals,
                    }),
                    Ok(false) => {}
                    Err(e) => tracing::error!(error = %e, "goals job failed"),
                }
            }
            let _ = tokio::time::timeout(every, changes.recv()).await;
            // Let a burst of moves settle into one pass.
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            while changes.try_recv().is_ok() {}
        }
    }

    /// Loads what a request about goals needs: the caller's right and the counter.
    pub async fn begin(ctx: &Ctx, action: Action) -> Result<(Authorized, Counter<'_>), AppError> {
        let auth = ctx.authorize(Module::Goals, action).await?;
        let counter = Counter::new(ctx.storage(), auth.user.org_id, crate::funnel::server::ssr::now_ms()).await?;
        Ok((auth, counter))
    }

    /// Whether the caller may change a goal: the Goals edit right over its participants.
    pub async fn may_edit(ctx: &Ctx, goal_owner: Option<Owner>) -> bool {
        match ctx.authorize(Module::Goals, Action::Edit).await {
            Ok(a) => covers(&a, goal_owner, Action::Edit),
            Err(_) => false,
        }
    }

    /// Does a goal belong on the dashboard of `user` (in `department`): theirs,
    /// their department's, or the company's?
    pub fn takes_part(goal: &Goal, user: UserId, department: Option<DeptId>) -> bool {
        match goal.participants.kind {
            ParticipantKind::User => goal.participants.user_id == Some(user),
            ParticipantKind::Department => department.is_some() && goal.participants.department_id == department,
            ParticipantKind::Company => true,
        }
    }

    /// History values that are ids (participants, the responsible filter,
    /// pipeline, stage, parent goal) with the names people know them by; an
    /// id whose record is gone stays as it is, and "company" is left for the page to translate.
    pub async fn named_history(
        ctx: &Ctx,
        org: OrgId,
        people: &[User],
        mut history: Vec<GoalChange>,
    ) -> Result<Vec<GoalChange>, AppError> {
        const NAMED: [&str; 5] = ["participants", "responsible", "pipeline", "stage", "parent"];
        if !history.iter().any(|c| NAMED.contains(&c.field.as_str())) {
            return Ok(history);
        }
        let departments = ctx.storage().departments(org, Visibility::All).await?;
        let pipelines = ctx.storage().pipelines(org).await?;
        let person = |id: i64| people.iter().find(|u| u.id == id).map(|u| u.name.clone());
        for change in &mut history {
            for value in [&mut change.before, &mut change.after] {
                let id = |text: &str| text.parse::<i64>().ok();
                let named = match (change.field.as_str(), value.split_once(' ')) {
                    ("participants", Some(("user", user))) => id(user).and_then(person),
                    ("participants", Some(("department", dept))) => {
                        id(dept).and_then(|d| departments.iter().find(|x| x.id == d)).map(|x| x.name.clone())
                    }
                    ("responsible", _) => id(value).and_then(person),
                    ("pipeline", _) => {
                        id(value).and_then(|p| pipelines.iter().find(|x| x.id == p)).map(|x| x.name.clone())
                    }
                    ("stage", _) => id(value)
                        .and_then(|s| pipelines.iter().flat_map(|p| &p.stages).find(|x| x.id == s))
                        .map(|x| x.name.clone()),
                    ("parent", _) => match id(value) {
                        Some(goal) => ctx.storage().goal(org, goal).await?.map(|g| g.name),
                        None => None,
                    },
                    _ => None,
                };
                if let Some(name) = named {
                    *value = name;
                }
            }
        }
        Ok(history)
    }

    /// Manual progress is recorded by the goal's own person or whoever may edit the goal.
    pub fn may_record(goal: &Goal, caller: UserId, editable: bool) -> bool {
        goal.metric == GoalMetric::Manual
            && goal.status == GoalStatus::Active
            && (editable || goal.participants.user_id == Some(caller))
    }
}

/// Which goals the dashboard shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GoalsRequest {
    /// Closed goals (history) instead of active ones.
    pub closed: bool,
    /// Only the caller's own goals and the ones they take part in.
    pub mine: bool,
    /// One person's dashboard: their own goals, their department's and the company's.
    #[serde(default)]
    pub user_id: Option<crate::org::UserId>,
    /// One department's dashboard: its goals and its people's.
    #[serde(default)]
    pub department_id: Option<crate::org::DeptId>,
}

/// The goals the caller may see, each with its live figures.
#[server(prefix = "/api", endpoint = "goals", input = server_fn::codec::Json)]
pub async fn load_goals(request: GoalsRequest) -> Result<GoalsDashboard, AppError> {
    use crate::access::guard::Ctx;
    use crate::access::{Action, Module};
    use crate::error::Problem;
    use crate::goals::GoalStatus;
    let ctx = Ctx::get().await?;
    let (auth, mut counter) = ssr::begin(&ctx, Action::View).await?;
    let org = auth.user.org_id;
    let all = ctx.storage().goals(org, !request.closed).await?;
    let edit = ctx.authorize(Module::Goals, Action::Edit).await.ok();
    let me = auth.user.id;
    let my_department = auth.user.department_id;
    let person = match request.user_id {
        Some(_) if request.department_id.is_some() => return Err(AppError::invalid("participants", Problem::Unknown)),
        Some(id) => Some(
            counter
                .people
                .iter()
                .find(|u| u.id == id)
                .map(|u| (u.id, u.department_id))
                .ok_or(AppError::invalid("participants", Problem::Unknown))?,
        ),
        None => None,
    };
    if let Some(id) = request.department_id {
        ctx.storage().department(org, id).await?.ok_or(AppError::invalid("participants", Problem::Unknown))?;
    }
    let mut shown = Vec::new();
    for goal in all.iter().filter(|g| (g.status != GoalStatus::Active) == request.closed) {
        let owner = ssr::goal_owner(goal, &counter.people);
        if !ssr::covers(&auth, owner, Action::View) {
            continue;
        }
        if request.mine && !ssr::takes_part(goal, me, my_department) {
            continue;
        }
        if person.is_some_and(|(user, department)| !ssr::takes_part(goal, user, department)) {
            continue;
        }
        if request.department_id.is_some_and(|d| owner.is_none_or(|o| o.department != Some(d))) {
            continue;
        }
        let children: Vec<_> = all.iter().filter(|g| g.parent_id == Some(goal.id)).cloned().collect();
        let editable =
            edit.as_ref().is_some_and(|a| ssr::covers(a, owner, Action::Edit)) && goal.status == GoalStatus::Active;
        shown.push((goal, children, editable));
    }
    let with_parts: Vec<_> = shown.iter().map(|(goal, children, _)| (*goal, children.as_slice())).collect();
    counter.prefetch_cards(&with_parts).await?;
    let mut cards = Vec::with_capacity(shown.len());
    for (goal, children, editable) in &shown {
        let may_record = ssr::may_record(goal, me, *editable);
        cards.push(counter.card(goal, children, *editable, may_record).await?);
    }
    let may_create = ctx.authorize(Module::Goals, Action::Create).await.is_ok();
    Ok(GoalsDashboard { cards, may_create, computed_at: counter.now_ms })
}

/// One goal: its card, ranking, daily plan and fact, history and, once closed, the frozen report.
#[server(prefix = "/api", endpoint = "goals/one")]
pub async fn load_goal(id: GoalId) -> Result<GoalDetail, AppError> {
    use crate::access::guard::Ctx;
    use crate::access::Action;
    use crate::goals::{FinalReport, GoalStatus};
    let ctx = Ctx::get().await?;
    let (auth, mut counter) = ssr::begin(&ctx, Action::View).await?;
    let org = auth.user.org_id;
    let goal = ctx.storage().goal(org, id).await?.ok_or(AppError::NotFound)?;
    let owner = ssr::goal_owner(&goal, &counter.people);
    if !ssr::covers(&auth, owner, Action::View) {
        return Err(AppError::Forbidden);
    }
    let children: Vec<_> =
        ctx.storage().goals(org, false).await?.into_iter().filter(|g| g.parent_id == Some(id)).collect();
    let editable = ssr::may_edit(&ctx, owner).await && goal.status == GoalStatus::Active;
    let may_record = ssr::may_record(&goal, auth.user.id, editable);
    let card = counter.card(&goal, &children, editable, may_record).await?;
    let report: Option<FinalReport> = match goal.status {
        GoalStatus::Active => None,
        _ => ctx.storage().goal_report(org, id).await?.and_then(|json| serde_json::from_str(&json).ok()),
    };
    let ranking = match &report {
        Some(r) => r.ranking.clone(),
        None => counter.ranking(&goal, &children).await?,
    };
    let entries = match goal.metric {
        crate::goals::GoalMetric::Manual => ctx.storage().goal_entries(org, id).await?,
        _ => Vec::new(),
    };
    Ok(GoalDetail {
        ranking,
        entries,
        dynamics: counter.dynamics(&goal).await?,
        history: ssr::named_history(&ctx, org, &counter.people, ctx.storage().goal_history(org, id).await?).await?,
        report,
        from_text: crate::funnel::day_text(goal.period.from),
        to_text: crate::funnel::day_text(goal.period.to),
        computed_at: counter.now_ms,
        card,
    })
}

/// Creates a goal or changes one (at the version it was read at).
#[server(prefix = "/api", endpoint = "goals/save", input = server_fn::codec::Json)]
pub async fn save_goal(form: GoalForm) -> Result<Goal, AppError> {
    use crate::access::guard::Ctx;
    use crate::access::{Action, Module};
    use crate::funnel::server::ssr::now_ms;
    let ctx = Ctx::get().await?;
    let action = if form.id.is_some() { Action::Edit } else { Action::Create };
    let auth = ctx.authorize(Module::Goals, action).await?;
    let org = auth.user.org_id;
    let now = now_ms();
    let counter = ssr::Counter::new(ctx.storage(), org, now).await?;
    let draft = ssr::check_form(&form, counter.today)?;
    if !ssr::covers(&auth, ssr::participants_owner(&draft.participants, &counter.people), action) {
        return Err(AppError::Forbidden);
    }
    if let Some(parent_id) = draft.parent_id {
        let parent = ctx
            .storage()
            .goal(org, parent_id)
            .await?
            .ok_or(AppError::invalid("parent", crate::error::Problem::Unknown))?;
        // A part changes the parent's roll-up: it takes the right to change the parent.
        if !ssr::may_edit(&ctx, ssr::goal_owner(&parent, &counter.people)).await {
            return Err(AppError::Forbidden);
        }
        ssr::check_child(&parent, &draft, &counter.people)?;
    }
    let goal = match form.id {
        None => ctx.storage().insert_goal(org, auth.user.id, &draft, now).await?,
        Some(id) => {
            let current = ctx.storage().goal(org, id).await?.ok_or(AppError::NotFound)?;
            if !ssr::covers(&auth, ssr::goal_owner(&current, &counter.people), action) {
                return Err(AppError::Forbidden);
            }
            if draft.parent_id == Some(id) {
                return Err(AppError::invalid("parent", crate::error::Problem::Unknown));
            }
            // Parts count what their parent counts; the parent cannot drift away from them.
            let has_parts = ctx.storage().goals(org, true).await?.iter().any(|g| g.parent_id == Some(id));
            let drifted = [
                ("metric", draft.metric != current.metric),
                ("period", draft.period != current.period),
                ("participants", draft.participants != current.participants),
                ("filters", draft.filters != current.filters),
            ];
            if let Some((field, _)) = drifted.iter().find(|(_, changed)| has_parts && *changed) {
                return Err(AppError::invalid(field, crate::error::Problem::HasParts));
            }
            ctx.storage().update_goal(org, auth.user.id, id, form.version, &draft, now).await?
        }
    };
    publish(&ctx, org);
    Ok(goal)
}

/// Splits a goal's target among new child goals, evenly, by weights or by hand.
#[server(prefix = "/api", endpoint = "goals/split", input = server_fn::codec::Json)]
pub async fn split_goal(parent_id: GoalId, mode: SplitMode, parts: Vec<SplitPart>) -> Result<Vec<Goal>, AppError> {
    use crate::access::guard::Ctx;
    use crate::access::{Action, Module};
    use crate::error::Problem;
    use crate::funnel::server::ssr::now_ms;
    use crate::goals::{split, GoalDraft, MAX_PARTS, MAX_TARGET};
    let ctx = Ctx::get().await?;
    let auth = ctx.authorize(Module::Goals, Action::Create).await?;
    let org = auth.user.org_id;
    let now = now_ms();
    let counter = ssr::Counter::new(ctx.storage(), org, now).await?;
    let parent = ctx.storage().goal(org, parent_id).await?.ok_or(AppError::NotFound)?;
    let parent_owner = ssr::goal_owner(&parent, &counter.people);
    if !ssr::covers(&auth, parent_owner, Action::View) {
        return Err(AppError::NotFound);
    }
    if !ssr::may_edit(&ctx, parent_owner).await {
        return Err(AppError::Forbidden);
    }
    if parts.len() > MAX_PARTS {
        return Err(AppError::invalid("parts", Problem::TooLarge));
    }
    if parts.iter().any(|p| p.amount > MAX_TARGET) {
        return Err(AppError::invalid("parts", Problem::TooLarge));
    }
    let amounts: Vec<i64> = parts.iter().map(|p| p.amount).collect();
    let targets = split(parent.target, mode, &amounts).map_err(|field| AppError::invalid(field, Problem::Unknown))?;
    let mut drafts = Vec::new();
    // Each participant has one part: those split before, and each of this split once.
    let mut seen: std::collections::BTreeSet<_> = ctx
        .storage()
        .goals(org, true)
        .await?
        .iter()
        .filter(|g| g.parent_id == Some(parent.id))
        .map(|g| (g.participants.user_id, g.participants.department_id))
        .collect();
    for (part, target) in parts.iter().zip(targets) {
        let name_of = |p: &super::Participants| match p.kind {
            super::ParticipantKind::User => {
                counter.people.iter().find(|u| Some(u.id) == p.user_id).map(|u| u.name.clone())
            }
            _ => None,
        };
        let draft = GoalDraft {
            parent_id: Some(parent.id),
            name: format!("{} — {}", parent.name, name_of(&part.participants).unwrap_or_default())
                .trim_end_matches(" — ")
                .chars()
                .take(super::MAX_NAME)
                .collect(),
            target,
            participants: part.participants,
            ..parent.draft()
        };
        ssr::check_child(&parent, &draft, &counter.people)?;
        if !ssr::covers(&auth, ssr::participants_owner(&draft.participants, &counter.people), Action::Create) {
            return Err(AppError::Forbidden);
        }
        if !seen.insert((draft.participants.user_id, draft.participants.department_id)) {
            return Err(AppError::invalid("parts", Problem::Taken));
        }
        drafts.push(draft);
    }
    let mut created = Vec::new();
    for draft in drafts {
        created.push(ctx.storage().insert_goal(org, auth.user.id, &draft, now).await?);
    }
    publish(&ctx, org);
    Ok(created)
}

/// Records progress on a manual goal (a number to add, which may be negative to correct).
#[server(prefix = "/api", endpoint = "goals/record")]
pub async fn record_progress(goal_id: GoalId, amount: i64, note: String) -> Result<(), AppError> {
    use crate::access::guard::Ctx;
    use crate::error::Problem;
    use crate::funnel::server::ssr::now_ms;
    let ctx = Ctx::get().await?;
    let auth = ctx.authorize(crate::access::Module::Goals, crate::access::Action::View).await?;
    let org = auth.user.org_id;
    let goal = ctx.storage().goal(org, goal_id).await?.ok_or(AppError::NotFound)?;
    let people = ctx.storage().users(org, crate::access::Visibility::All).await?;
    let owner = ssr::goal_owner(&goal, &people);
    if !ssr::covers(&auth, owner, crate::access::Action::View) {
        return Err(AppError::NotFound);
    }
    let editable = ssr::may_edit(&ctx, owner).await;
    if goal.metric != super::GoalMetric::Manual {
        return Err(AppError::invalid("metric", Problem::Unknown));
    }
    if !ssr::may_record(&goal, auth.user.id, editable) {
        return Err(AppError::Forbidden);
    }
    if amount == 0 {
        return Err(AppError::invalid("value", Problem::Required));
    }
    if amount.abs() > super::MAX_TARGET {
        return Err(AppError::invalid("value", Problem::TooLarge));
    }
    let note = crate::pipeline::optional_text("note", &note, crate::pipeline::MAX_NOTE)?;
    ctx.storage().add_goal_entry(org, goal_id, auth.user.id, amount, &note, now_ms()).await?;
    publish(&ctx, org);
    Ok(())
}

/// The caller's notifications, newest first.
#[server(prefix = "/api", endpoint = "goals/notices")]
pub async fn load_notices() -> Result<Vec<Notice>, AppError> {
    let ctx = crate::access::guard::Ctx::get().await?;
    let user = ctx.authorize(crate::access::Module::Goals, crate::access::Action::View).await?.user;
    Ok(ctx.storage().notices(user.org_id, user.id, 50).await?)
}

/// How many of the caller's notifications are unread: the badge on the goals link.
#[server(prefix = "/api", endpoint = "goals/notices/unread")]
pub async fn unread_notices() -> Result<i64, AppError> {
    let ctx = crate::access::guard::Ctx::get().await?;
    let user = ctx.authorize(crate::access::Module::Goals, crate::access::Action::View).await?.user;
    Ok(ctx.storage().unread_notices(user.org_id, user.id).await?)
}

/// Marks all the caller's notifications read.
#[server(prefix = "/api", endpoint = "goals/notices/read")]
pub async fn read_notices() -> Result<(), AppError> {
    let ctx = crate::access::guard::Ctx::get().await?;
    let user = ctx.authorize(crate::access::Module::Goals, crate::access::Action::View).await?.user;
    ctx.storage().mark_notices_read(user.org_id, user.id, crate::funnel::server::ssr::now_ms()).await?;
    Ok(())
}

/// Tells open goal pages that goals changed.
#[cfg(feature = "ssr")]
fn publish(ctx: &crate::access::guard::Ctx, org: crate::org::OrgId) {
    use crate::pipeline::live::{Change, Subject};
    let owner = crate::access::Owner { user: None, department: None };
    ctx.state.hub.publish(Change { org, owner, subject: Subject::Goals });
}
