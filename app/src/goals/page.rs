//! The goals pages: the dashboard (own, all visible, closed), notifications,
//! the goal form, and one goal's page with its ranking, plan-versus-fact
//! chart, children's roll-up, cascade split, manual progress and history.
//! Both reload on any change they may see.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use strum::IntoEnumIterator;

use super::charts;
use super::server::{
    load_goal, load_goals, load_notices, read_notices, record_progress, save_goal, split_goal, GoalsRequest,
};
use super::*;
use crate::access::{Action, Module};
use crate::charts::ChartFigure;
use crate::error::{AppError, Problem};
use crate::funnel::page::{clock, duration_text, encode, funnel_texts};
use crate::i18n::Texts;
use crate::pipeline::server::{list_pipelines, people_options};
use crate::pipeline::{format_rubles, parse_rubles, rubles_for_input, BoardOptions, Pipeline};
use crate::shell::{use_ui, FormError};

/// The goals pages' words in one language.
pub struct GoalTexts {
    pub title: &'static str,
    pub tabs: [&'static str; 3],
    /// The dashboard's choice of whose goals: label, "everyone", and the empty answer for a choice.
    pub whose: &'static str,
    pub everyone: &'static str,
    pub no_goals_of: &'static str,
    pub new_goal: &'static str,
    pub edit: &'static str,
    pub metrics: [&'static str; 10],
    pub directions: [&'static str; 2],
    pub period_kinds: [&'static str; 6],
    pub participant_kinds: [&'static str; 3],
    pub outlooks: [&'static str; 4],
    pub statuses: [&'static str; 3],
    pub split_modes: [&'static str; 3],
    pub notice_texts: [&'static str; 5],
    pub name: &'static str,
    pub description: &'static str,
    pub metric: &'static str,
    pub direction: &'static str,
    pub target: &'static str,
    pub target_minutes: &'static str,
    pub target_rubles: &'static str,
    pub period: &'static str,
    pub start: &'static str,
    pub end: &'static str,
    pub recurring: &'static str,
    pub participants: &'static str,
    pub person: &'static str,
    pub department: &'static str,
    pub filters: &'static str,
    pub any: &'static str,
    pub source: &'static str,
    pub pipeline: &'static str,
    pub stage: &'static str,
    pub responsible: &'static str,
    pub notify: &'static str,
    pub notify_rules: [&'static str; 4],
    pub save: &'static str,
    pub cancel: &'static str,
    pub progress: &'static str,
    pub of: &'static str,
    pub expected: &'static str,
    pub forecast: &'static str,
    pub weighted: &'static str,
    pub days_left: &'static str,
    pub ended: &'static str,
    pub previous: &'static str,
    pub no_goals: &'static str,
    pub no_closed: &'static str,
    pub notices: &'static str,
    pub no_notices: &'static str,
    pub mark_read: &'static str,
    pub ranking: &'static str,
    pub rank: &'static str,
    pub value: &'static str,
    pub dynamics: &'static str,
    pub plan: &'static str,
    pub fact: &'static str,
    pub day: &'static str,
    pub children: &'static str,
    pub children_sum: &'static str,
    pub mismatch: &'static str,
    pub split: &'static str,
    pub split_mode: &'static str,
    pub weight: &'static str,
    pub include: &'static str,
    pub split_do: &'static str,
    pub record: &'static str,
    pub record_amount: &'static str,
    pub note: &'static str,
    pub entries: &'static str,
    pub no_entries: &'static str,
    pub history: &'static str,
    pub when: &'static str,
    pub who: &'static str,
    pub field: &'static str,
    pub before: &'static str,
    pub after: &'static str,
    /// History rows that are events, not settings: created, closed, renewed.
    pub history_events: [&'static str; 3],
    pub yes_no: [&'static str; 2],
    /// The dashboard CSV's unit column: its header, then roubles, minutes, pieces.
    pub unit: &'static str,
    pub units: [&'static str; 3],
    pub outlook: &'static str,
    pub report: &'static str,
    pub company: &'static str,
    pub back: &'static str,
    pub loading: &'static str,
    pub nobody: &'static str,
}

pub static RU: GoalTexts = GoalTexts {
    title: "Цели",
    tabs: ["Мои", "Все", "Закрытые"],
    whose: "Чьи цели",
    everyone: "Все участники",
    no_goals_of: "У выбранных участников целей нет.",
    new_goal: "Новая цель",
    edit: "Изменить",
    metrics: [
        "Создано лидов",
        "Создано сделок",
        "Выиграно сделок",
        "Сумма выигранных сделок",
        "Звонки (от порога)",
        "Встречи",
        "КП отправлено",
        "Чаты",
        "Время первого ответа",
        "Ручной учёт",
    ],
    directions: ["Больше — лучше", "Меньше — лучше"],
    period_kinds: ["День", "Неделя", "Месяц", "Квартал", "Год", "Свои даты"],
    participant_kinds: ["Сотрудник", "Отдел", "Вся компания"],
    outlooks: ["Достигнута", "Идёт по плану", "Под угрозой", "Отстаёт"],
    statuses: ["Активна", "Достигнута", "Не достигнута"],
    split_modes: ["Поровну", "По весам", "Вручную"],
    notice_texts: [
        "пройдено {n} % цели",
        "прогноз ниже цели (сейчас {n} %)",
        "до конца периода {n} дн.",
        "сводка дня: {n} % цели",
        "цель закрыта",
    ],
    name: "Название",
    description: "Описание",
    metric: "Что считаем",
    direction: "Направление",
    target: "Целевое значение",
    target_minutes: "Целевое значение, мин",
    target_rubles: "Целевое значение, ₽",
    period: "Период",
    start: "Дата начала",
    end: "Дата окончания",
    recurring: "Повторять каждый период",
    participants: "Участники",
    person: "Сотрудник",
    department: "Отдел",
    filters: "Что учитывать",
    any: "Любой",
    source: "Источник",
    pipeline: "Направление продаж",
    stage: "Стадия сделки",
    responsible: "Ответственный",
    notify: "Уведомления",
    notify_rules: ["Этапы 50/75/100 %", "Риск невыполнения", "Приближение срока", "Ежедневная сводка руководителю"],
    save: "Сохранить",
    cancel: "Отмена",
    progress: "Выполнение",
    of: "из",
    expected: "По плану на сегодня",
    forecast: "Прогноз",
    weighted: "Прогноз с воронкой",
    days_left: "Осталось дней",
    ended: "Период окончен",
    previous: "Прошлый период",
    no_goals: "Целей пока нет.",
    no_closed: "Закрытых целей пока нет.",
    notices: "Уведомления",
    no_notices: "Новых уведомлений нет.",
    mark_read: "Отметить прочитанными",
    ranking: "Рейтинг",
    rank: "Место",
    value: "Значение",
    dynamics: "Динамика по дням",
    plan: "План",
    fact: "Факт",
    day: "День",
    children: "Разбивка",
    children_sum: "Сумма разбивки",
    mismatch: "Цели участников в сумме не равны цели",
    split: "Разбить цель",
    split_mode: "Как делить",
    weight: "Вес / цель",
    include: "Участвует",
    split_do: "Разбить",
    record: "Отметить выполнение",
    record_amount: "Сколько добавить",
    note: "Комментарий",
    entries: "Отметки о выполнении",
    no_entries: "Пока никто ничего не отметил.",
    history: "История изменений",
    when: "Когда",
    who: "Кто",
    field: "Что",
    before: "Было",
    after: "Стало",
    history_events: ["Создана", "Закрыта", "Продлена на новый период"],
    yes_no: ["да", "нет"],
    unit: "Единица",
    units: ["₽", "мин", "шт."],
    outlook: "Оценка",
    report: "Итоговый отчёт",
    company: "Вся компания",
    back: "← Все цели",
    loading: "Загрузка…",
    nobody: "Нет участников.",
};

pub static EN: GoalTexts = GoalTexts {
    title: "Goals",
    tabs: ["Mine", "All", "Closed"],
    whose: "Whose goals",
    everyone: "Everyone",
    no_goals_of: "The chosen participants have no goals.",
    new_goal: "New goal",
    edit: "Edit",
    metrics: [
        "Leads created",
        "Deals created",
        "Deals won",
        "Won amount",
        "Calls (over threshold)",
        "Meetings",
        "Proposals sent",
        "Chats",
        "First response time",
        "Recorded by hand",
    ],
    directions: ["Higher is better", "Lower is better"],
    period_kinds: ["Day", "Week", "Month", "Quarter", "Year", "Custom dates"],
    participant_kinds: ["Person", "Department", "Whole company"],
    outlooks: ["Achieved", "On track", "At risk", "Behind"],
    statuses: ["Active", "Achieved", "Missed"],
    split_modes: ["Evenly", "By weights", "By hand"],
    notice_texts: [
        "{n} % of the goal reached",
        "forecast below target (now {n} %)",
        "{n} days left in the period",
        "daily summary: {n} % of the goal",
        "goal closed",
    ],
    name: "Name",
    description: "Description",
    metric: "What counts",
    direction: "Direction",
    target: "Target",
    target_minutes: "Target, min",
    target_rubles: "Target, ₽",
    period: "Period",
    start: "Start date",
    end: "End date",
    recurring: "Repeat every period",
    participants: "Participants",
    person: "Person",
    department: "Department",
    filters: "Which records",
    any: "Any",
    source: "Source",
    pipeline: "Pipeline",
    stage: "Deal stage",
    responsible: "Responsible",
    notify: "Notifications",
    notify_rules: ["Milestones 50/75/100 %", "Risk of missing", "Deadline approaching", "Daily summary for the head"],
    save: "Save",
    cancel: "Cancel",
    progress: "Progress",
    of: "of",
    expected: "Plan for today",
    forecast: "Forecast",
    weighted: "Forecast with pipeline",
    days_left: "Days left",
    ended: "Period over",
    previous: "Previous period",
    no_goals: "No goals yet.",
    no_closed: "No closed goals yet.",
    notices: "Notifications",
    no_notices: "No new notifications.",
    mark_read: "Mark as read",
    ranking: "Ranking",
    rank: "Place",
    value: "Value",
    dynamics: "Day by day",
    plan: "Plan",
    fact: "Actual",
    day: "Day",
    children: "Split",
    children_sum: "Sum of parts",
    mismatch: "The parts' targets do not add up to the goal",
    split: "Split the goal",
    split_mode: "How to split",
    weight: "Weight / target",
    include: "Takes part",
    split_do: "Split",
    record: "Record progress",
    record_amount: "How much to add",
    note: "Comment",
    entries: "Recorded progress",
    no_entries: "Nobody has recorded progress yet.",
    history: "History of changes",
    when: "When",
    who: "Who",
    field: "What",
    before: "Before",
    after: "After",
    history_events: ["Created", "Closed", "Renewed for the next period"],
    yes_no: ["yes", "no"],
    unit: "Unit",
    units: ["₽", "min", "pcs"],
    outlook: "Outlook",
    report: "Final report",
    company: "Whole company",
    back: "← All goals",
    loading: "Loading…",
    nobody: "No participants.",
};

pub fn goal_texts(lang: &str) -> &'static GoalTexts {
    if lang == "en" {
        &EN
    } else {
        &RU
    }
}

fn index_of<T: IntoEnumIterator + PartialEq>(value: T) -> usize {
    T::iter().position(|v| v == value).unwrap_or(0)
}

/// A goal figure as people read it: roubles, a duration, or a count.
pub fn value_text(metric: GoalMetric, value: Option<i64>, lang: &str) -> String {
    match value {
        None => "—".into(),
        Some(v) if metric.is_money() => format_rubles(v),
        Some(v) if metric == GoalMetric::FirstResponse => duration_text(Some(v), funnel_texts(lang)),
        Some(v) => v.to_string(),
    }
}

/// The dashboard as CSV: a line per goal shown, figures in the goal's unit
/// (roubles to the kopeck, minutes, or a count) so a spreadsheet can add them up.
pub fn goals_csv(dashboard: &GoalsDashboard, gt: &GoalTexts) -> String {
    let mut rows = vec![[
        gt.name,
        gt.participants,
        gt.metric,
        gt.unit,
        gt.start,
        gt.end,
        gt.value,
        gt.target,
        gt.progress,
        gt.expected,
        gt.forecast,
        gt.weighted,
        gt.outlook,
        gt.days_left,
        gt.previous,
    ]
    .map(String::from)
    .to_vec()];
    for card in &dashboard.cards {
        let g = &card.goal;
        let (unit, number): (&str, fn(i64) -> String) = match g.metric {
            m if m.is_money() => {
                (gt.units[0], |v| format!("{}{}.{:02}", if v < 0 { "-" } else { "" }, (v / 100).abs(), (v % 100).abs()))
            }
            GoalMetric::FirstResponse => (gt.units[1], |v| format!("{:.1}", v as f64 / 60_000.0)),
            _ => (gt.units[2], |v| v.to_string()),
        };
        let figure = |v: Option<i64>| v.map(number).unwrap_or_default();
        rows.push(vec![
            g.name.clone(),
            participant_text(g, gt),
            gt.metrics[index_of(g.metric)].to_string(),
            unit.to_string(),
            crate::funnel::day_text(g.period.from),
            crate::funnel::day_text(g.period.to),
            figure(card.standing.value),
            number(g.target),
            card.percent.map(|p| p.to_string()).unwrap_or_default(),
            number(card.expected_now),
            figure(card.forecast),
            figure(card.weighted_forecast),
            gt.outlooks[index_of(card.outlook)].to_string(),
            card.days_left.max(0).to_string(),
            figure(card.previous_value),
        ]);
    }
    crate::funnel::csv(&rows)
}

/// What the goal counted before and after each row of its history (newest
/// first, as stored): a target is written in the unit of its own time, even
/// if the metric changed since. Rows of one edit share its moment, so a
/// metric change applies to the target changed with it.
pub fn history_metrics(history: &[GoalChange], now: GoalMetric) -> Vec<[GoalMetric; 2]> {
    let mut out = Vec::with_capacity(history.len());
    let mut after = now;
    for edit in history.chunk_by(|a, b| a.at == b.at) {
        let changed = edit.iter().find(|c| c.field == "metric").and_then(|c| c.before.parse().ok());
        let before = changed.unwrap_or(after);
        out.extend(std::iter::repeat_n([before, after], edit.len()));
        after = before;
    }
    out
}

/// A history row as people read it: the setting named as the form names it,
/// and money, flags and codes written out; anything else as stored.
/// `counted` is what the goal counted before and after the row ([`history_metrics`]).
pub fn history_line(change: &GoalChange, counted: [GoalMetric; 2], gt: &GoalTexts, t: &Texts) -> [String; 3] {
    let raw = |text: &str| text.to_string();
    let figure_in = |metric: GoalMetric, text: &str| match text.parse::<i64>() {
        Ok(v) => value_text(metric, Some(v), t.lang),
        Err(_) => text.to_string(),
    };
    let figure = |text: &str| figure_in(counted[1], text);
    let named = |text: &str, names: &[&'static str], keys: &[&str]| {
        keys.iter().position(|k| *k == text).map_or_else(|| text.to_string(), |i| names[i].to_string())
    };
    let yes_no = |text: &str| named(text, &gt.yes_no, &["true", "false"]);
    let rules = |text: &str| {
        let on: Vec<&str> =
            text.split(' ').zip(gt.notify_rules).filter(|(flag, _)| *flag == "true").map(|(_, rule)| rule).collect();
        if on.is_empty() {
            "—".to_string()
        } else {
            on.join(", ")
        }
    };
    // Stored as "month 2026-12-01…2026-12-31"; the server names people, departments and the rest.
    let period = |text: &str| match text.split_once(' ') {
        Some((kind, days)) => match PeriodKind::iter().position(|k| k.as_str() == kind) {
            Some(i) => format!("{} {days}", gt.period_kinds[i]),
            None => text.to_string(),
        },
        None => text.to_string(),
    };
    let company = |text: &str| if text == "company" { gt.company.to_string() } else { text.to_string() };
    let metrics: Vec<&str> = GoalMetric::iter().map(|m| m.as_str()).collect();
    let directions: Vec<&str> = Direction::iter().map(|d| d.as_str()).collect();
    let statuses: Vec<&str> = GoalStatus::iter().map(|s| s.as_str()).collect();
    let (before, after) = (change.before.as_str(), change.after.as_str());
    let (label, before, after) = match change.field.as_str() {
        "created" => (gt.history_events[0], String::new(), figure(after)),
        "closed" => (gt.history_events[1], named(before, &gt.statuses, &statuses), figure(after)),
        "renewed" => (gt.history_events[2], String::new(), figure(after)),
        "target" => (gt.target, figure_in(counted[0], before), figure(after)),
        "metric" => (gt.metric, named(before, &gt.metrics, &metrics), named(after, &gt.metrics, &metrics)),
        "direction" => {
            (gt.direction, named(before, &gt.directions, &directions), named(after, &gt.directions, &directions))
        }
        "recurring" => (gt.recurring, yes_no(before), yes_no(after)),
        "notify" => (gt.notify, rules(before), rules(after)),
        "risk_after" => (t.field_name("risk_after"), format!("{before} %"), format!("{after} %")),
        "name" => (gt.name, raw(before), raw(after)),
        "description" => (gt.description, raw(before), raw(after)),
        "period" => (gt.period, period(before), period(after)),
        "participants" => (gt.participants, company(before), company(after)),
        "parent" => (t.field_name("parent"), raw(before), raw(after)),
        "source" => (gt.source, raw(before), raw(after)),
        "pipeline" => (gt.pipeline, raw(before), raw(after)),
        "stage" => (gt.stage, raw(before), raw(after)),
        "responsible" => (gt.responsible, raw(before), raw(after)),
        other => return [other.to_string(), raw(before), raw(after)],
    };
    [label.to_string(), before, after]
}

/// The target as typed into the form: roubles, minutes, or a count.
fn target_for_input(metric: GoalMetric, target: i64) -> String {
    match metric {
        GoalMetric::WonAmount => rubles_for_input(target),
        GoalMetric::FirstResponse => (target / 60_000).to_string(),
        _ => target.to_string(),
    }
}

fn parse_target(metric: GoalMetric, text: &str) -> Result<i64, AppError> {
    let wrong = |p: Problem| AppError::invalid("target", p);
    match metric {
        GoalMetric::WonAmount => parse_rubles(text).map_err(|e| match e {
            AppError::Invalid { problem, .. } => wrong(problem),
            other => other,
        }),
        _ => {
            let t = text.trim();
            if t.is_empty() {
                return Err(wrong(Problem::Required));
            }
            let n: i64 = t
                .parse()
                .map_err(|_| wrong(if t.starts_with('-') { Problem::Negative } else { Problem::NotANumber }))?;
            if n < 0 {
                return Err(wrong(Problem::Negative));
            }
            let factor = if metric == GoalMetric::FirstResponse { 60_000 } else { 1 };
            n.checked_mul(factor).ok_or(wrong(Problem::TooLarge))
        }
    }
}

fn outlook_class(o: Outlook) -> &'static str {
    match o {
        Outlook::Achieved => "outlook achieved",
        Outlook::OnTrack => "outlook on-track",
        Outlook::AtRisk => "outlook at-risk",
        Outlook::Behind => "outlook behind",
    }
}

fn participant_text(goal: &Goal, gt: &GoalTexts) -> String {
    match goal.participants.kind {
        ParticipantKind::Company => gt.company.to_string(),
        _ => goal.participant_name.clone(),
    }
}

/// A progress bar; its width is the progress, capped at the bar's end.
#[component]
fn ProgressBar(percent: Option<i64>, outlook: Outlook, label: String) -> impl IntoView {
    let shown = percent.unwrap_or(0).clamp(0, 100);
    view! {
        <div class="progress" role="progressbar" aria-label=label aria-valuemin="0" aria-valuemax="100"
            aria-valuenow=shown.to_string()>
            <div class=format!("bar {}", outlook_class(outlook)) style=format!("width: {shown}%")></div>
        </div>
    }
}

/// The figures of one goal: progress, value of target, pace, forecast, time left, previous period.
#[component]
fn GoalFigures(card: GoalCard, gt: &'static GoalTexts, lang: &'static str) -> impl IntoView {
    let g = &card.goal;
    let metric = g.metric;
    let v = move |value: Option<i64>| value_text(metric, value, lang);
    let percent_text = card.percent.map_or("—".to_string(), |p| format!("{p} %"));
    let active = g.status == GoalStatus::Active;
    view! {
        <div class="goal-progress">
            <span class="figure" data-testid="goal-value">{v(card.standing.value)}</span>
            <span class="muted">" " {gt.of} " "</span>
            <span data-testid="goal-target">{v(Some(g.target))}</span>
            <span class="percent" data-testid="goal-percent">{percent_text}</span>
            <span class=outlook_class(card.outlook) data-testid="goal-outlook">{gt.outlooks[index_of(card.outlook)]}</span>
        </div>
        <ProgressBar percent=card.percent outlook=card.outlook label=format!("{}: {}", gt.progress, g.name) />
        <dl class="goal-facts">
            {active.then(|| view! {
                <div><dt>{gt.expected}</dt><dd data-testid="goal-expected">{v(Some(card.expected_now))}</dd></div>
                <div><dt>{gt.forecast}</dt><dd data-testid="goal-forecast">{v(card.forecast)}</dd></div>
            })}
            {card.weighted_forecast.map(|w| view! {
                <div><dt>{gt.weighted}</dt><dd data-testid="goal-weighted">{v(Some(w))}</dd></div>
            })}
            <div>
                <dt>{gt.days_left}</dt>
                <dd data-testid="goal-days-left">{if card.days_left > 0 { card.days_left.to_string() } else { gt.ended.to_string() }}</dd>
            </div>
            <div><dt>{gt.previous}</dt><dd data-testid="goal-previous">{v(card.previous_value)}</dd></div>
        </dl>
    }
}

#[component]
fn GoalCardView(card: GoalCard, gt: &'static GoalTexts, lang: &'static str) -> impl IntoView {
    let g = card.goal.clone();
    let period = format!("{} — {}", crate::funnel::day_text(g.period.from), crate::funnel::day_text(g.period.to));
    let name = g.name.clone();
    view! {
        <article class="card goal-card" data-testid=format!("goal-{}", g.id) data-goal=g.id.to_string()>
            <h2><A href=format!("/goals/{}", g.id)>{name}</A></h2>
            <p class="muted">
                {participant_text(&g, gt)} " · " {gt.metrics[index_of(g.metric)]} " · " {period}
                {g.recurring.then_some(" ↻")}
            </p>
            <GoalFigures card gt lang />
        </article>
    }
}

/// The goal form: every setting, checked again on the server.
#[component]
fn GoalEditor(
    form: GoalForm,
    editing: RwSignal<Option<GoalForm>>,
    reload: RwSignal<u32>,
    gt: &'static GoalTexts,
) -> impl IntoView {
    let draft = RwSignal::new(form.clone());
    let target_text =
        RwSignal::new(if form.id.is_some() { target_for_input(form.metric, form.target) } else { String::new() });
    let risk_after_text = RwSignal::new(form.notify.risk_after.to_string());
    let error = RwSignal::new(None::<AppError>);
    let busy = RwSignal::new(false);
    // The people and departments the server accepts here: the goals create
    // right for a new goal, the edit right for a change.
    let action = if form.id.is_some() { Action::Edit } else { Action::Create };
    let options = LocalResource::new(move || people_options(Module::Goals, action));
    let pipelines = LocalResource::new(list_pipelines);
    let ui = use_ui();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut data = draft.get_untracked();
        match parse_target(data.metric, &target_text.get_untracked()) {
            Ok(t) => data.target = t,
            Err(e) => {
                error.set(Some(e));
                return;
            }
        }
        // With the rule off the field is disabled: whatever it holds, the stored share stays.
        match risk_after_text.with_untracked(|t| t.trim().parse::<i64>()) {
            _ if !data.notify.risk => {}
            Ok(share) => data.notify.risk_after = share,
            // The server explains a share out of range; only unreadable text is caught here.
            Err(_) => {
                let problem = if risk_after_text.with_untracked(|t| t.trim().is_empty()) {
                    Problem::Required
                } else {
                    Problem::NotANumber
                };
                error.set(Some(AppError::invalid("risk_after", problem)));
                return;
            }
        }
        busy.set(true);
        leptos::task::spawn_local(async move {
            match save_goal(data).await {
                Ok(_) => {
                    editing.set(None);
                    reload.update(|n| *n += 1);
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    let people =
        move || options.get().and_then(Result::ok).unwrap_or(BoardOptions { people: vec![], departments: vec![] });
    let all_pipelines = move || pipelines.get().and_then(Result::ok).unwrap_or_default();
    let stages_of = move |p: Option<i64>| {
        all_pipelines()
            .into_iter()
            .filter(|x: &Pipeline| Some(x.id) == p)
            .flat_map(|x| x.stages.into_iter().filter(|s| !s.archived))
            .collect::<Vec<_>>()
    };
    let metric = move || draft.with(|d| d.metric);
    let deals_metric =
        move || matches!(metric(), GoalMetric::DealsCreated | GoalMetric::DealsWon | GoalMetric::WonAmount);
    let leads_metric = move || matches!(metric(), GoalMetric::LeadsCreated | GoalMetric::FirstResponse);
    let id_of = |ev: &leptos::ev::Event| event_target_value(ev).parse::<i64>().ok();
    let check = move |label: &'static str, get: fn(&super::Notify) -> bool, set: fn(&mut super::Notify, bool)| {
        view! {
            <label class="check">
                <input type="checkbox" prop:checked=move || draft.with(|d| get(&d.notify))
                    on:change=move |ev| { let on = event_target_checked(&ev); draft.update(|d| set(&mut d.notify, on)) } />
                <span>{label}</span>
            </label>
        }
    };
    view! {
        <form class="card goal-form" data-testid="goal-form" novalidate on:submit=submit
            on:keydown=move |ev| if ev.key() == "Escape" { editing.set(None) }>
            <label><span>{gt.name}</span>
                <input type="text" maxlength="200" required data-testid="goal-name" prop:value=move || draft.with(|d| d.name.clone())
                    on:input=move |ev| draft.update(|d| d.name = event_target_value(&ev)) /></label>
            <label><span>{gt.description}</span>
                <textarea maxlength="2000" prop:value=move || draft.with(|d| d.description.clone())
                    on:input=move |ev| draft.update(|d| d.description = event_target_value(&ev))></textarea></label>
            <div class="row">
                <label><span>{gt.metric}</span>
                    <select data-testid="goal-metric" on:change=move |ev| {
                        let parsed: Result<GoalMetric, _> = event_target_value(&ev).parse();
                        if let Ok(m) = parsed { draft.update(|d| { d.metric = m; d.direction = m.default_direction(); }) }
                    }>
                        {GoalMetric::iter().enumerate().map(|(i, m)| view! {
                            <option value=m.as_str() prop:selected=move || metric() == m>{gt.metrics[i]}</option>
                        }).collect_view()}
                    </select></label>
                <label><span>{gt.direction}</span>
                    <select on:change=move |ev| { let parsed: Result<Direction, _> = event_target_value(&ev).parse(); if let Ok(d) = parsed { draft.update(|x| x.direction = d) } }>
                        {Direction::iter().enumerate().map(|(i, d)| view! {
                            <option value=d.as_str() prop:selected=move || draft.with(|x| x.direction == d)>{gt.directions[i]}</option>
                        }).collect_view()}
                    </select></label>
                <label><span>{move || match metric() {
                        GoalMetric::WonAmount => gt.target_rubles,
                        GoalMetric::FirstResponse => gt.target_minutes,
                        _ => gt.target,
                    }}</span>
                    <input type="text" inputmode="decimal" required data-testid="goal-target" prop:value=move || target_text.get()
                        on:input=move |ev| target_text.set(event_target_value(&ev)) /></label>
            </div>
            <div class="row">
                <label><span>{gt.period}</span>
                    <select data-testid="goal-period" on:change=move |ev| { let parsed: Result<PeriodKind, _> = event_target_value(&ev).parse(); if let Ok(k) = parsed { draft.update(|d| d.period_kind = k) } }>
                        {PeriodKind::iter().enumerate().map(|(i, k)| view! {
                            <option value=k.as_str() prop:selected=move || draft.with(|d| d.period_kind == k)>{gt.period_kinds[i]}</option>
                        }).collect_view()}
                    </select></label>
                <label><span>{gt.start}</span>
                    <input type="date" data-testid="goal-start" prop:value=move || draft.with(|d| d.start.clone())
                        on:change=move |ev| draft.update(|d| d.start = event_target_value(&ev)) /></label>
                <Show when=move || draft.with(|d| d.period_kind == PeriodKind::Custom)>
                    <label><span>{gt.end}</span>
                        <input type="date" data-testid="goal-end" prop:value=move || draft.with(|d| d.end.clone())
                            on:change=move |ev| draft.update(|d| d.end = event_target_value(&ev)) /></label>
                </Show>
                <label class="check">
                    <input type="checkbox" prop:checked=move || draft.with(|d| d.recurring)
                        on:change=move |ev| { let on = event_target_checked(&ev); draft.update(|d| d.recurring = on) } />
                    <span>{gt.recurring}</span>
                </label>
            </div>
            <div class="row">
                <label><span>{gt.participants}</span>
                    <select data-testid="goal-participants" on:change=move |ev| {
                        let parsed: Result<ParticipantKind, _> = event_target_value(&ev).parse();
                        if let Ok(k) = parsed { draft.update(|d| d.participants = Participants { kind: k, user_id: None, department_id: None }) }
                    }>
                        {ParticipantKind::iter().enumerate().map(|(i, k)| view! {
                            <option value=k.as_str() prop:selected=move || draft.with(|d| d.participants.kind == k)>{gt.participant_kinds[i]}</option>
                        }).collect_view()}
                    </select></label>
                {move || match draft.with(|d| d.participants.kind) {
                    ParticipantKind::User => Some(view! {
                        <label><span>{gt.person}</span>
                            <select data-testid="goal-person" on:change=move |ev| { let id = id_of(&ev); draft.update(|d| d.participants.user_id = id) }>
                                <option value="">"—"</option>
                                {people().people.into_iter().map(|(id, name)| view! {
                                    <option value=id.to_string() prop:selected=move || draft.with(|d| d.participants.user_id == Some(id))>{name}</option>
                                }).collect_view()}
                            </select></label>
                    }.into_any()),
                    ParticipantKind::Department => Some(view! {
                        <label><span>{gt.department}</span>
                            <select data-testid="goal-department" on:change=move |ev| { let id = id_of(&ev); draft.update(|d| d.participants.department_id = id) }>
                                <option value="">"—"</option>
                                {people().departments.into_iter().map(|(id, name)| view! {
                                    <option value=id.to_string() prop:selected=move || draft.with(|d| d.participants.department_id == Some(id))>{name}</option>
                                }).collect_view()}
                            </select></label>
                    }.into_any()),
                    ParticipantKind::Company => None,
                }}
            </div>
            <fieldset>
                <legend>{gt.filters}</legend>
                <div class="row">
                    <Show when=move || deals_metric() || leads_metric()>
                        <label><span>{gt.source}</span>
                            <select on:change=move |ev| { let v = event_target_value(&ev); draft.update(|d| d.filters.source = Some(v).filter(|s| !s.is_empty())) }>
                                <option value="">{gt.any}</option>
                                {crate::i18n::SOURCE_KEYS.iter().map(|k| view! {
                                    <option value=*k prop:selected=move || draft.with(|d| d.filters.source.as_deref() == Some(*k))>{move || ui.texts().source_name(k).to_string()}</option>
                                }).collect_view()}
                            </select></label>
                    </Show>
                    <Show when=deals_metric>
                        <label><span>{gt.pipeline}</span>
                            <select on:change=move |ev| { let id = id_of(&ev); draft.update(|d| { d.filters.pipeline_id = id; d.filters.stage_id = None; }) }>
                                <option value="">{gt.any}</option>
                                {move || all_pipelines().into_iter().filter(|p| !p.archived).map(|p| view! {
                                    <option value=p.id.to_string() prop:selected=move || draft.with(|d| d.filters.pipeline_id == Some(p.id))>{p.name}</option>
                                }).collect_view()}
                            </select></label>
                        <label><span>{gt.stage}</span>
                            <select on:change=move |ev| { let id = id_of(&ev); draft.update(|d| d.filters.stage_id = id) }>
                                <option value="">{gt.any}</option>
                                {move || stages_of(draft.with(|d| d.filters.pipeline_id)).into_iter().map(|s| view! {
                                    <option value=s.id.to_string() prop:selected=move || draft.with(|d| d.filters.stage_id == Some(s.id))>{s.name}</option>
                                }).collect_view()}
                            </select></label>
                    </Show>
                    <Show when=move || metric() != GoalMetric::Manual>
                        <label><span>{gt.responsible}</span>
                            <select on:change=move |ev| { let id = id_of(&ev); draft.update(|d| d.filters.manager_id = id) }>
                                <option value="">{gt.any}</option>
                                {move || people().people.into_iter().map(|(id, name)| view! {
                                    <option value=id.to_string() prop:selected=move || draft.with(|d| d.filters.manager_id == Some(id))>{name}</option>
                                }).collect_view()}
                            </select></label>
                    </Show>
                </div>
            </fieldset>
            <fieldset>
                <legend>{gt.notify}</legend>
                <div class="row">
                    {check(gt.notify_rules[0], |n| n.milestones, |n, v| n.milestones = v)}
                    {check(gt.notify_rules[1], |n| n.risk, |n, v| n.risk = v)}
                    <label class="risk-after">
                        <span>{ui.texts().field_name("risk_after")}</span>
                        <input type="number" inputmode="numeric" min="1" max="100" data-testid="goal-risk-after"
                            prop:disabled=move || draft.with(|d| !d.notify.risk)
                            prop:value=move || risk_after_text.get()
                            on:input=move |ev| risk_after_text.set(event_target_value(&ev)) />
                    </label>
                    {check(gt.notify_rules[2], |n| n.deadline, |n, v| n.deadline = v)}
                    {check(gt.notify_rules[3], |n| n.daily, |n, v| n.daily = v)}
                </div>
            </fieldset>
            <FormError error=error.into() />
            <div class="actions">
                <button type="button" on:click=move |_| editing.set(None)>{gt.cancel}</button>
                <button type="submit" class="primary" data-testid="goal-save" disabled=move || busy.get()>{gt.save}</button>
            </div>
        </form>
    }
}

fn blank_form() -> GoalForm {
    GoalForm {
        id: None,
        version: 0,
        parent_id: None,
        name: String::new(),
        description: String::new(),
        metric: GoalMetric::WonAmount,
        direction: Direction::Higher,
        target: 0,
        period_kind: PeriodKind::Month,
        start: String::new(),
        end: String::new(),
        recurring: false,
        participants: Participants { kind: ParticipantKind::Department, user_id: None, department_id: None },
        filters: GoalFilters::default(),
        notify: super::Notify::default(),
    }
}

fn form_of(g: &Goal) -> GoalForm {
    GoalForm {
        id: Some(g.id),
        version: g.version,
        parent_id: g.parent_id,
        name: g.name.clone(),
        description: g.description.clone(),
        metric: g.metric,
        direction: g.direction,
        target: g.target,
        period_kind: g.period_kind,
        start: crate::funnel::day_text(g.period.from),
        end: crate::funnel::day_text(g.period.to),
        recurring: g.recurring,
        participants: g.participants,
        filters: g.filters.clone(),
        notify: g.notify,
    }
}

/// Bumped whenever the goals page has read or marked notifications, so the
/// unread badge on the goals link counts again.
#[derive(Clone, Copy)]
pub struct NoticesSeen(pub RwSignal<u32>);

/// The caller's notifications with a button to mark them read.
#[component]
fn Notices(reload: RwSignal<u32>, gt: &'static GoalTexts) -> impl IntoView {
    let notices = LocalResource::new(move || {
        reload.track();
        load_notices()
    });
    let seen = expect_context::<NoticesSeen>().0;
    Effect::new(move |_| {
        if notices.get().is_some() {
            seen.update(|n| *n += 1);
        }
    });
    let mark = move |_| {
        leptos::task::spawn_local(async move {
            if read_notices().await.is_ok() {
                reload.update(|n| *n += 1);
            }
        });
    };
    view! {
        <details class="card notices" data-testid="notices">
            {move || {
                let list = notices.get().and_then(Result::ok).unwrap_or_default();
                let unread = list.iter().filter(|n| !n.read).count();
                let items = list.into_iter().filter(|n| !n.read).map(|n| {
                    let text = gt.notice_texts[index_of(n.kind)].replace("{n}", &n.figure.to_string());
                    view! {
                        <li data-testid="notice"><A href=format!("/goals/{}", n.goal_id)>{n.goal_name}</A> ": " {text}
                            <span class="muted">" " {clock(n.at)}</span></li>
                    }
                }).collect_view();
                view! {
                    <summary>{gt.notices} " " <span class="badge" data-testid="notices-unread">{unread}</span></summary>
                    {if unread == 0 {
                        view! { <p class="empty">{gt.no_notices}</p> }.into_any()
                    } else {
                        view! {
                            <ul>{items}</ul>
                            <button type="button" on:click=mark>{gt.mark_read}</button>
                        }.into_any()
                    }}
                }
            }}
        </details>
    }
}

#[component]
pub fn GoalsPage() -> impl IntoView {
    let ui = use_ui();
    let t = move || ui.texts();
    let gt = move || goal_texts(ui.texts().lang);
    let tab = RwSignal::new(0usize);
    let reload = RwSignal::new(0u32);
    let live = RwSignal::new(false);
    let editing = RwSignal::new(None::<GoalForm>);
    crate::pipeline::board::listen_live(None, reload, live);
    // "" for everyone, "d:<id>" for a department, "u:<id>" for a person; "Mine" ignores it.
    let whose = RwSignal::new(String::new());
    let options = LocalResource::new(|| people_options(Module::Goals, Action::View));
    let goals = LocalResource::new(move || {
        reload.track();
        let tab = tab.get();
        let (user_id, department_id) = if tab == 0 { (None, None) } else { whose.with(|w| parse_whose(w)) };
        load_goals(GoalsRequest { closed: tab == 2, mine: tab == 0, user_id, department_id })
    });
    let whose_choice = move || {
        let o = options.get().and_then(Result::ok)?;
        // Someone who sees only themselves has nothing to choose.
        (tab.get() != 0 && (o.people.len() > 1 || !o.departments.is_empty())).then(|| {
            let gt = gt();
            let group = move |label: &'static str, prefix: char, items: Vec<(i64, String)>| {
                view! {
                    <optgroup label=label>
                        {items.into_iter().map(|(id, name)| {
                            let value = format!("{prefix}:{id}");
                            let chosen = value.clone();
                            view! { <option value=value selected=move || whose.with(|w| *w == chosen)>{name}</option> }
                        }).collect_view()}
                    </optgroup>
                }
            };
            view! {
                <label class="inline"><span>{gt.whose}</span>
                    <select data-testid="goals-whose" on:change=move |ev| whose.set(event_target_value(&ev))>
                        <option value="" selected=move || whose.with(String::is_empty)>{gt.everyone}</option>
                        {group(t().departments, 'd', o.departments)}
                        {group(t().people, 'u', o.people)}
                    </select>
                </label>
            }
        })
    };
    view! {
        <h1>{move || gt().title}</h1>
        <div class="goals-bar">
            <div class="choice" role="group" aria-label=move || gt().title>
                {(0..3).map(|i| view! {
                    <button type="button" data-testid=format!("goals-tab-{i}") aria-pressed=move || (tab.get() == i).to_string()
                        on:click=move |_| tab.set(i)>{move || gt().tabs[i]}</button>
                }).collect_view()}
            </div>
            {whose_choice}
            <span class="live" class:on=move || live.get() data-testid="live">
                {move || if live.get() { t().live_on } else { t().live_off }}
            </span>
            {move || goals.get().and_then(Result::ok).filter(|d| d.may_create).map(|_| view! {
                <button type="button" class="primary" data-testid="new-goal" on:click=move |_| editing.set(Some(blank_form()))>
                    {move || gt().new_goal}</button>
            })}
        </div>
        {move || editing.get().map(|form| view! { <GoalEditor form editing reload gt=gt() /> })}
        {move || view! { <Notices reload gt=gt() /> }}
        {move || match goals.get() {
            None => view! { <p class="loading">{t().loading}</p> }.into_any(),
            Some(Err(e)) => view! { <p class="error" role="alert">{e.message(t())}</p> }.into_any(),
            Some(Ok(d)) if d.cards.is_empty() => {
                let text = if tab.get() != 0 && whose.with(|w| !w.is_empty()) {
                    gt().no_goals_of
                } else if tab.get() == 2 {
                    gt().no_closed
                } else {
                    gt().no_goals
                };
                view! { <p class="empty">{text}</p> }.into_any()
            }
            Some(Ok(d)) => {
                let (gt, lang) = (gt(), t().lang);
                let href = format!("data:text/csv;charset=utf-8,{}", encode(&goals_csv(&d, gt)));
                view! {
                    <p class="meta row">
                        <span class="muted" data-testid="as-of">{format!("{} {}", funnel_texts(lang).as_of, clock(d.computed_at))}</span>
                        <a class="button" data-testid="goals-csv" download="goals.csv" href=href>{funnel_texts(lang).export}</a>
                    </p>
                    <div class="goal-grid" data-testid="goals">
                        {d.cards.into_iter().map(|card| view! { <GoalCardView card gt lang /> }).collect_view()}
                    </div>
                }.into_any()
            }
        }}
    }
}

/// The dashboard's "whose goals" choice as (person, department).
fn parse_whose(value: &str) -> (Option<i64>, Option<i64>) {
    match value.split_once(':') {
        Some(("u", id)) => (id.parse().ok(), None),
        Some(("d", id)) => (None, id.parse().ok()),
        _ => (None, None),
    }
}

/// Splits a goal among departments (a company goal) or a department's
/// sellers (a department goal, the people its ranking lists).
#[component]
fn SplitForm(goal: Goal, sellers: Vec<(i64, String)>, reload: RwSignal<u32>, gt: &'static GoalTexts) -> impl IntoView {
    // Splitting creates goals, so it offers whom the goals create right covers.
    let options = LocalResource::new(|| people_options(Module::Goals, Action::Create));
    let mode = RwSignal::new(SplitMode::Even);
    // (participants, name, included, weight or target as typed) per candidate.
    let rows = RwSignal::new(Vec::<(Participants, String, bool, String)>::new());
    let error = RwSignal::new(None::<AppError>);
    let busy = RwSignal::new(false);
    let company = goal.participants.kind == ParticipantKind::Company;
    let person = |(id, name): (i64, String)| {
        (
            Participants { kind: ParticipantKind::User, user_id: Some(id), department_id: None },
            name,
            true,
            "1".to_string(),
        )
    };
    if !company {
        rows.set(sellers.into_iter().map(person).collect());
    }
    Effect::new(move |_| {
        if !company {
            return;
        }
        let Some(Ok(o)) = options.get() else { return };
        let department = |(id, name): (i64, String)| {
            (
                Participants { kind: ParticipantKind::Department, user_id: None, department_id: Some(id) },
                name,
                true,
                "1".into(),
            )
        };
        rows.set(o.departments.into_iter().map(department).collect());
    });
    let metric = goal.metric;
    let id = goal.id;
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut parts = Vec::new();
        for (p, _, _, text) in rows.get_untracked().into_iter().filter(|r| r.2) {
            let amount = match mode.get_untracked() {
                SplitMode::Even => 1,
                SplitMode::Weights => match text.trim().parse::<i64>() {
                    Ok(v) if v >= 0 => v,
                    _ => return error.set(Some(AppError::invalid("weights", Problem::NotANumber))),
                },
                SplitMode::Manual => match parse_target(metric, &text) {
                    Ok(v) => v,
                    Err(e) => return error.set(Some(e)),
                },
            };
            parts.push(SplitPart { participants: p, amount });
        }
        busy.set(true);
        let m = mode.get_untracked();
        leptos::task::spawn_local(async move {
            match split_goal(id, m, parts).await {
                Ok(_) => {
                    error.set(None);
                    reload.update(|n| *n += 1);
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    view! {
        <details class="card">
            <summary>{gt.split}</summary>
            <form class="split-form" data-testid="split-form" novalidate on:submit=submit>
                <label><span>{gt.split_mode}</span>
                    <select data-testid="split-mode" on:change=move |ev| if let Ok(m) = event_target_value(&ev).parse() { mode.set(m) }>
                        {SplitMode::iter().enumerate().map(|(i, m)| view! { <option value=m.as_str()>{gt.split_modes[i]}</option> }).collect_view()}
                    </select></label>
                <table>
                    <thead><tr><th>{gt.include}</th><th>{gt.participants}</th><th>{gt.weight}</th></tr></thead>
                    <tbody>
                        {move || rows.get().into_iter().enumerate().map(|(i, (_, name, on, text))| view! {
                            <tr>
                                <td><input type="checkbox" prop:checked=on aria-label=name.clone()
                                    on:change=move |ev| { let v = event_target_checked(&ev); rows.update(|r| r[i].2 = v) } /></td>
                                <td>{name.clone()}</td>
                                <td><input type="text" inputmode="decimal" prop:value=text disabled=move || mode.get() == SplitMode::Even
                                    aria-label=format!("{} {}", gt.weight, name)
                                    on:change=move |ev| { let v = event_target_value(&ev); rows.update(|r| r[i].3 = v) } /></td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
                <FormError error=error.into() />
                <button type="submit" class="primary" data-testid="split-do" disabled=move || busy.get()>{gt.split_do}</button>
            </form>
        </details>
    }
}

/// Adds progress to a manual goal.
#[component]
fn RecordForm(goal_id: GoalId, reload: RwSignal<u32>, gt: &'static GoalTexts) -> impl IntoView {
    let amount = RwSignal::new(String::new());
    let note = RwSignal::new(String::new());
    let error = RwSignal::new(None::<AppError>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Ok(value) = amount.get_untracked().trim().parse::<i64>() else {
            return error.set(Some(AppError::invalid("value", Problem::NotANumber)));
        };
        let text = note.get_untracked();
        leptos::task::spawn_local(async move {
            match record_progress(goal_id, value, text).await {
                Ok(()) => {
                    error.set(None);
                    amount.set(String::new());
                    note.set(String::new());
                    reload.update(|n| *n += 1);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <form class="card row inline-form record-form" data-testid="record-form" novalidate on:submit=submit>
            <label><span>{gt.record_amount}</span>
                <input type="number" inputmode="numeric" prop:value=move || amount.get() on:input=move |ev| amount.set(event_target_value(&ev)) /></label>
            <label class="grow"><span>{gt.note}</span>
                <input type="text" maxlength="2000" prop:value=move || note.get() on:input=move |ev| note.set(event_target_value(&ev)) /></label>
            <button type="submit" class="primary">{gt.record}</button>
            <FormError error=error.into() />
        </form>
    }
}

/// What the goal page's forms depend on. It stays equal across live
/// reloads, so a form being filled in is not rebuilt under the person.
#[derive(Clone, Debug, PartialEq)]
struct FormFacts {
    goal: Goal,
    editable: bool,
    may_record: bool,
    /// Whom a department goal splits among, by name.
    sellers: Vec<(i64, String)>,
}

#[component]
pub fn GoalPage() -> impl IntoView {
    let ui = use_ui();
    let t = move || ui.texts();
    let gt = move || goal_texts(ui.texts().lang);
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|v| v.parse::<i64>().ok()));
    let reload = RwSignal::new(0u32);
    let live = RwSignal::new(false);
    let editing = RwSignal::new(None::<GoalForm>);
    crate::pipeline::board::listen_live(None, reload, live);
    let detail = LocalResource::new(move || {
        reload.track();
        let id = id();
        async move {
            match id {
                Some(id) => load_goal(id).await,
                None => Err(AppError::NotFound),
            }
        }
    });
    let loaded = move || detail.get().and_then(Result::ok);
    let facts = Memo::new(move |_| {
        loaded().map(|d| {
            let mut sellers: Vec<(i64, String)> = d.ranking.iter().map(|r| (r.user_id, r.name.clone())).collect();
            sellers.sort_by(|a, b| a.1.cmp(&b.1));
            FormFacts { goal: d.card.goal, editable: d.card.editable, may_record: d.card.may_record, sellers }
        })
    });
    let header = move || match detail.get() {
        None => view! { <p class="loading">{t().loading}</p> }.into_any(),
        Some(Err(e)) => view! { <p class="error" role="alert">{e.message(t())}</p> }.into_any(),
        Some(Ok(d)) => {
            let (gt, lang) = (gt(), t().lang);
            let g = d.card.goal.clone();
            let form = form_of(&g);
            view! {
                <h1 data-testid="goal-title">{g.name.clone()}</h1>
                <p class="meta row">
                    <span>{participant_text(&g, gt)}</span>
                    <span>{gt.metrics[index_of(g.metric)]}</span>
                    <span data-testid="goal-period">{format!("{} — {}", d.from_text, d.to_text)}</span>
                    <span>{gt.statuses[index_of(g.status)]}</span>
                    <span data-testid="as-of">{format!("{} {}", funnel_texts(lang).as_of, clock(d.computed_at))}</span>
                    {d.card.editable.then(|| view! {
                        <button type="button" data-testid="goal-edit" on:click=move |_| editing.set(Some(form.clone()))>{gt.edit}</button>
                    })}
                </p>
                {(!g.description.is_empty()).then(|| view! { <p>{g.description.clone()}</p> })}
                <section class="card" data-testid="goal">
                    <GoalFigures card=d.card.clone() gt lang />
                </section>
            }
            .into_any()
        }
    };
    let children = move || {
        let d = loaded()?;
        let (gt, lang) = (gt(), t().lang);
        let (metric, target) = (d.card.goal.metric, d.card.goal.target);
        let v = move |value: Option<i64>| value_text(metric, value, lang);
        let children = d.card.children;
        (!children.is_empty()).then(|| {
            let sum_target: i64 = children.iter().map(|c| c.target).sum();
            let sum_value: i64 = children.iter().filter_map(|c| c.value).sum();
            view! {
                <section class="card">
                    <h2>{gt.children}</h2>
                    {d.card.children_mismatch.then(|| view! {
                        <p class="warning" role="status" data-testid="goal-mismatch">
                            {format!("{}: {} ≠ {}", gt.mismatch, v(Some(sum_target)), v(Some(target)))}
                        </p>
                    })}
                    <table data-testid="goal-children">
                        <thead><tr><th>{gt.participants}</th><th>{gt.value}</th><th>{gt.target}</th></tr></thead>
                        <tbody>
                            {children.into_iter().map(|c| view! {
                                <tr><td><A href=format!("/goals/{}", c.id)>{c.participant_name}</A></td>
                                    <td class="num">{v(c.value)}</td><td class="num">{v(Some(c.target))}</td></tr>
                            }).collect_view()}
                            <tr class="subtotal"><th scope="row">{gt.children_sum}</th>
                                <td class="num">{v(Some(sum_value))}</td><td class="num">{v(Some(sum_target))}</td></tr>
                        </tbody>
                    </table>
                </section>
            }
        })
    };
    let rest = move || {
        let d = loaded()?;
        let (gt, lang) = (gt(), t().lang);
        let metric = d.card.goal.metric;
        let v = move |value: Option<i64>| value_text(metric, value, lang);
        Some(view! {
            {d.report.clone().map(|r| view! {
                <section class="card" data-testid="goal-report">
                    <h2>{gt.report}</h2>
                    <p>{format!("{}: {} {} {} — {}", gt.value, v(r.value), gt.of, v(Some(r.target)), gt.statuses[index_of(r.status)])}</p>
                </section>
            })}
            <section class="card">
                <h2>{gt.ranking}</h2>
                {if d.ranking.is_empty() {
                    view! { <p class="empty">{gt.nobody}</p> }.into_any()
                } else {
                    view! {
                        <table data-testid="goal-ranking">
                            <thead><tr><th>{gt.rank}</th><th>{gt.person}</th><th>{gt.value}</th><th>{gt.target}</th><th>"%"</th></tr></thead>
                            <tbody>
                                {d.ranking.iter().map(|r| view! {
                                    <tr data-testid=format!("rank-{}", r.user_id)><td class="num">{r.rank}</td><td>{r.name.clone()}</td>
                                        <td class="num">{v(r.value)}</td><td class="num">{r.target.map(|t| v(Some(t)))}</td>
                                        <td class="num">{r.percent.map(|p| format!("{p} %"))}</td></tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any()
                }}
            </section>
        })
    };
    let entries = move || {
        let d = loaded().filter(|d| d.card.goal.metric == GoalMetric::Manual)?;
        let gt = gt();
        Some(view! {
            <section class="card">
                <h2>{gt.entries}</h2>
                {if d.entries.is_empty() {
                    view! { <p class="muted" data-testid="goal-entries-empty">{gt.no_entries}</p> }.into_any()
                } else {
                    view! {
                        <table data-testid="goal-entries">
                            <thead><tr><th>{gt.when}</th><th>{gt.who}</th><th class="num">{gt.value}</th><th>{gt.note}</th></tr></thead>
                            <tbody>
                                {d.entries.iter().map(|e| view! {
                                    <tr><td class="nowrap">{crate::pipeline::lists::when(e.at)}</td><td>{e.user.clone()}</td>
                                        <td class="num">{value_text(GoalMetric::Manual, Some(e.amount), t().lang)}</td><td>{e.note.clone()}</td></tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any()
                }}
            </section>
        })
    };
    let history = move || {
        let d = loaded()?;
        let gt = gt();
        Some(view! {
            <section class="card">
                <h2>{gt.history}</h2>
                <table data-testid="goal-history">
                    <thead><tr><th>{gt.when}</th><th>{gt.who}</th><th>{gt.field}</th><th>{gt.before}</th><th>{gt.after}</th></tr></thead>
                    <tbody>
                        {d.history.iter().zip(history_metrics(&d.history, d.card.goal.metric)).map(|(c, metrics)| {
                            let [field, before, after] = history_line(c, metrics, gt, t());
                            view! {
                                <tr><td class="nowrap">{crate::pipeline::lists::when(c.at)}</td><td>{c.actor.clone()}</td>
                                    <td>{field}</td><td>{before}</td><td>{after}</td></tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </section>
        })
    };
    view! {
        <p class="meta row">
            <A href="/goals">{move || gt().back}</A>
            <span class="live" class:on=move || live.get() data-testid="live">
                {move || if live.get() { t().live_on } else { t().live_off }}
            </span>
        </p>
        {header}
        {move || editing.get().map(|form| view! { <GoalEditor form editing reload gt=gt() /> })}
        {move || facts.get().filter(|f| f.may_record).map(|f| view! { <RecordForm goal_id=f.goal.id reload gt=gt() /> })}
        {children}
        {move || {
            facts.get().filter(|f| f.editable && f.goal.metric.is_additive() && f.goal.participants.kind != ParticipantKind::User)
                .map(|f| view! { <SplitForm goal=f.goal sellers=f.sellers reload gt=gt() /> })
        }}
        {rest}
        // Outside the reloading parts, so a live change redraws the chart in place.
        <Show when=move || loaded().is_some()>
            <ChartFigure id="chart-dynamics"
                title=Signal::derive(move || gt().dynamics.to_string())
                option=Signal::derive(move || {
                    loaded().map(|d| charts::dynamics_chart(&d.dynamics, d.card.goal.metric, gt()))
                })
                table=move || loaded().map(|d| view! {
                    <charts::DynamicsTable points=d.dynamics metric=d.card.goal.metric gt=gt() lang=t().lang />
                }) />
        </Show>
        {entries}
        {history}
    }
}
