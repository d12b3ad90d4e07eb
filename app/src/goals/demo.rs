//! Goals for the demo organisation and the benchmark (server only): last
//! month's plans, set from what the department really did, so that the goals
//! job closes them with reports and renews them into this month.

use super::server::ssr::{tick, Counter};
use super::*;
use crate::access::{Role, Visibility};
use crate::org::{OrgId, User};
use crate::storage::{Storage, StorageResult};
use strum::IntoEnumIterator;

/// A hundred thousand roubles in kopecks: demo money targets are whole ones.
const HUNDRED_THOUSAND: i64 = 10_000_000;
/// A million roubles in kopecks.
const MILLION: i64 = 100_000_000;

fn draft(
    name: &str,
    metric: GoalMetric,
    target: i64,
    kind: PeriodKind,
    period: Period,
    who: Participants,
) -> GoalDraft {
    GoalDraft {
        parent_id: None,
        name: name.to_string(),
        description: String::new(),
        metric,
        direction: metric.default_direction(),
        target,
        period_kind: kind,
        period,
        recurring: true,
        participants: who,
        filters: GoalFilters::default(),
        notify: Notify::default(),
    }
}

const COMPANY: Participants = Participants { kind: ParticipantKind::Company, user_id: None, department_id: None };

fn department(id: i64) -> Participants {
    Participants { kind: ParticipantKind::Department, user_id: None, department_id: Some(id) }
}

fn person(id: i64) -> Participants {
    Participants { kind: ParticipantKind::User, user_id: Some(id), department_id: None }
}

/// What a draft's records added up to (to set believable targets).
async fn value_of(counter: &mut Counter<'_>, d: &GoalDraft) -> StorageResult<i64> {
    let goal = Goal {
        id: 0,
        parent_id: None,
        name: d.name.clone(),
        description: String::new(),
        metric: d.metric,
        direction: d.direction,
        target: d.target,
        period_kind: d.period_kind,
        period: d.period,
        recurring: d.recurring,
        participants: d.participants,
        participant_name: String::new(),
        filters: d.filters.clone(),
        notify: d.notify,
        status: GoalStatus::Active,
        final_value: None,
        version: 0,
        created_by: 0,
        created_at: 0,
    };
    Ok(counter.tally(&goal, d.period).await?.value(d.metric).unwrap_or(0))
}

/// Rounds a money target down to whole hundred thousands of roubles, a count up to at least one.
fn believable(metric: GoalMetric, value: i64) -> i64 {
    if metric.is_money() {
        (value / HUNDRED_THOUSAND * HUNDRED_THOUSAND).max(HUNDRED_THOUSAND)
    } else {
        value.max(1)
    }
}

/// Sets last month's company plan (95 % of what was sold), split evenly into
/// departments and their managers, last week's calls per department, a
/// first-response goal and a manual training goal; then closes and renews
/// them as the goals job would. Returns how many goals were set.
pub async fn seed(storage: &dyn Storage, org: OrgId, now_ms: i64) -> StorageResult<usize> {
    let mut counter = Counter::new(storage, org, now_ms).await?;
    let people: Vec<User> = storage.users(org, Visibility::All).await?;
    let Some(admin) = people.iter().find(|u| u.role == Role::Admin) else { return Ok(0) };
    let departments = storage.departments(org, Visibility::All).await?;
    let today = counter.today;
    let month = calendar_period(PeriodKind::Month, today).unwrap_or(Period { from: today, to: today });
    let last_month = calendar_period(PeriodKind::Month, month.from - 1).unwrap_or(month);
    let last_week = calendar_period(PeriodKind::Week, today - 7).unwrap_or(month);
    let mut count = 0;

    let mut plan = draft("План продаж компании", GoalMetric::WonAmount, 0, PeriodKind::Month, last_month, COMPANY);
    plan.target = believable(plan.metric, value_of(&mut counter, &plan).await? * 95 / 100);
    plan.description = "Сумма выигранных сделок за месяц; разбита по отделам и менеджерам поровну.".into();
    let company = storage.insert_goal(org, admin.id, &plan, now_ms).await?;
    count += 1;
    let shares = split(company.target, SplitMode::Even, &vec![1; departments.len().max(1)]).unwrap_or_default();
    for (d, target) in departments.iter().zip(shares) {
        let head = people.iter().find(|u| Some(u.id) == d.head_id).unwrap_or(admin);
        let part = GoalDraft {
            parent_id: Some(company.id),
            name: format!("План продаж — {}", d.name),
            target,
            participants: department(d.id),
            ..plan.clone()
        };
        let dept_goal = storage.insert_goal(org, head.id, &part, now_ms).await?;
        count += 1;
        let managers: Vec<&User> =
            people.iter().filter(|u| u.department_id == Some(d.id) && u.role == Role::Manager && u.active).collect();
        let shares = split(target, SplitMode::Even, &vec![1; managers.len().max(1)]).unwrap_or_default();
        for (m, target) in managers.iter().zip(shares) {
            let mine = GoalDraft {
                parent_id: Some(dept_goal.id),
                name: format!("План продаж — {}", m.name),
                target,
                participants: person(m.id),
                ..plan.clone()
            };
            storage.insert_goal(org, head.id, &mine, now_ms).await?;
            count += 1;
        }
        let mut calls = draft("Звонки за неделю", GoalMetric::Calls, 0, PeriodKind::Week, last_week, department(d.id));
        calls.name = format!("Звонки за неделю — {}", d.name);
        calls.target = believable(calls.metric, value_of(&mut counter, &calls).await? * 105 / 100);
        storage.insert_goal(org, head.id, &calls, now_ms).await?;
        count += 1;
    }
    let mut response =
        draft("Первый ответ на лид", GoalMetric::FirstResponse, 15 * 60_000, PeriodKind::Month, last_month, COMPANY);
    response.description = "Среднее время от заявки до первого ответа — не больше 15 минут.".into();
    storage.insert_goal(org, admin.id, &response, now_ms).await?;
    count += 1;
    if let Some(m) = people.iter().find(|u| u.email == crate::demo::DEMO_MANAGER) {
        let mut training =
            draft("Пройти обучение по продукту", GoalMetric::Manual, 5, PeriodKind::Month, month, person(m.id));
        training.recurring = false;
        training.description = "Пять модулей курса; отмечайте пройденные.".into();
        let goal = storage.insert_goal(org, admin.id, &training, now_ms).await?;
        storage.add_goal_entry(org, goal.id, m.id, 2, "Модули 1–2", now_ms).await?;
        count += 1;
    }
    tick(storage, org, now_ms).await?;
    Ok(count)
}

/// At least `count` active goals of every kind for the benchmark: each metric
/// for the company, each department and each manager, this month and this week.
pub async fn seed_many(storage: &dyn Storage, org: OrgId, now_ms: i64, count: usize) -> StorageResult<usize> {
    let counter = Counter::new(storage, org, now_ms).await?;
    let people = &counter.people;
    let Some(admin) = people.iter().find(|u| u.role == Role::Admin) else { return Ok(0) };
    let departments = storage.departments(org, Visibility::All).await?;
    let mut whom = vec![COMPANY];
    whom.extend(departments.iter().map(|d| department(d.id)));
    whom.extend(people.iter().filter(|u| u.role == Role::Manager).map(|u| person(u.id)));
    let metrics: Vec<GoalMetric> = GoalMetric::iter().filter(|m| *m != GoalMetric::Manual).collect();
    let mut made = 0;
    'all: for kind in [PeriodKind::Month, PeriodKind::Week, PeriodKind::Quarter, PeriodKind::Day] {
        let Some(period) = calendar_period(kind, counter.today) else { continue };
        for who in &whom {
            for metric in &metrics {
                if made >= count {
                    break 'all;
                }
                let target = if metric.is_money() {
                    MILLION
                } else if *metric == GoalMetric::FirstResponse {
                    900_000
                } else {
                    100
                };
                let d = draft(&format!("Цель {made}"), *metric, target, kind, period, *who);
                storage.insert_goal(org, admin.id, &d, now_ms).await?;
                made += 1;
            }
        }
    }
    Ok(made)
}
