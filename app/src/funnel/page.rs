//! The funnel page: filters, the step table with the previous period beside
//! every figure, the deals behind a figure, the by-manager table and CSV.
//! It reloads itself when a deal of its pipeline changes (`/api/live`).

use leptos::prelude::*;
use strum::IntoEnumIterator;

use super::charts;
use super::period::{use_period, PeriodChoice, PeriodFilter};
use super::server::{load_deals_behind, load_funnel};
use super::{
    csv, share, BehindRequest, ClientType, DealsBehind, FunnelFigures, FunnelMode, FunnelReport, FunnelRequest,
};
use crate::charts::ChartFigure;
use crate::error::AppError;
use crate::i18n::SOURCE_KEYS;
use crate::pipeline::server::{board_options, list_pipelines};
use crate::pipeline::{format_rubles, PipelineId, StageId};
use crate::shell::{use_ui, ErrorPage};

/// The funnel's words in one language.
pub struct FunnelTexts {
    pub title: &'static str,
    pub mode: &'static str,
    pub modes: [&'static str; 2],
    pub mode_hints: [&'static str; 2],
    pub period: &'static str,
    pub presets: [&'static str; 11],
    pub client_type: &'static str,
    pub client_types: [&'static str; 3],
    pub step: &'static str,
    pub deals: &'static str,
    pub amount: &'static str,
    pub from_previous: &'static str,
    pub from_first: &'static str,
    pub dropped: &'static str,
    pub lost: &'static str,
    pub average_time: &'static str,
    pub median_time: &'static str,
    pub entered: &'static str,
    pub won: &'static str,
    pub won_amount: &'static str,
    pub conversion: &'static str,
    pub cycle: &'static str,
    pub previous: &'static str,
    pub as_of: &'static str,
    pub export: &'static str,
    pub behind: &'static str,
    pub behind_lost: &'static str,
    pub close: &'static str,
    pub no_deals: &'static str,
    pub shown: &'static str,
    pub of: &'static str,
    pub by_manager: &'static str,
    pub manager: &'static str,
    pub outlier_hint: &'static str,
    pub no_managers: &'static str,
    pub days: &'static str,
    pub hours: &'static str,
    pub minutes: &'static str,
    pub table_caption: &'static str,
    pub day: &'static str,
    pub chart_funnel: &'static str,
    pub chart_managers: &'static str,
    /// Per mode: the day a deal is placed on.
    pub chart_daily: [&'static str; 2],
}

pub static RU: FunnelTexts = FunnelTexts {
    title: "Воронка продаж",
    mode: "Режим",
    modes: ["Когорта", "Поток"],
    mode_hints: [
        "Сделки, созданные за период, и как далеко они дошли",
        "Что произошло за период, когда бы сделки ни были созданы",
    ],
    period: "Период",
    presets: [
        "Сегодня",
        "Вчера",
        "7 дней",
        "30 дней",
        "Эта неделя",
        "Прошлая неделя",
        "Этот месяц",
        "Прошлый месяц",
        "Этот квартал",
        "Этот год",
        "Свои даты",
    ],
    client_type: "Клиенты",
    client_types: ["Все клиенты", "Новые", "Повторные"],
    step: "Этап",
    deals: "Сделок",
    amount: "Сумма",
    from_previous: "Из прошлого этапа",
    from_first: "От входа",
    dropped: "Не пошли дальше",
    lost: "Проиграно",
    average_time: "Среднее время",
    median_time: "Медиана",
    entered: "Вошло в воронку",
    won: "Выиграно",
    won_amount: "Сумма выигранных",
    conversion: "Конверсия",
    cycle: "Цикл сделки",
    previous: "Прошлый период",
    as_of: "Данные на",
    export: "Скачать CSV",
    behind: "Сделки за цифрой",
    behind_lost: "проигранные",
    close: "Закрыть",
    no_deals: "Сделок нет.",
    shown: "Показано",
    of: "из",
    by_manager: "По менеджерам",
    manager: "Менеджер",
    outlier_hint: "Конверсия намного ниже, чем в отделе",
    no_managers: "За период у менеджеров нет сделок.",
    days: "д",
    hours: "ч",
    minutes: "мин",
    table_caption: "Этапы воронки: сделки, деньги, конверсия и время; в скобках — прошлый период",
    day: "День",
    chart_funnel: "Воронка за период",
    chart_managers: "Вошло и выиграно по менеджерам",
    chart_daily: ["По дням создания сделок", "По дням движения сделок"],
};

pub static EN: FunnelTexts = FunnelTexts {
    title: "Sales funnel",
    mode: "Mode",
    modes: ["Cohort", "Flow"],
    mode_hints: [
        "Deals created in the period and how far they got",
        "What happened in the period, whenever the deals were created",
    ],
    period: "Period",
    presets: [
        "Today",
        "Yesterday",
        "Last 7 days",
        "Last 30 days",
        "This week",
        "Last week",
        "This month",
        "Last month",
        "This quarter",
        "This year",
        "Custom dates",
    ],
    client_type: "Clients",
    client_types: ["All clients", "New", "Repeat"],
    step: "Stage",
    deals: "Deals",
    amount: "Amount",
    from_previous: "From previous",
    from_first: "From entry",
    dropped: "Went no further",
    lost: "Lost",
    average_time: "Average time",
    median_time: "Median",
    entered: "Entered the funnel",
    won: "Won",
    won_amount: "Won amount",
    conversion: "Conversion",
    cycle: "Sales cycle",
    previous: "Previous period",
    as_of: "As of",
    export: "Download CSV",
    behind: "Deals behind the figure",
    behind_lost: "lost",
    close: "Close",
    no_deals: "No deals.",
    shown: "Shown",
    of: "of",
    by_manager: "By manager",
    manager: "Manager",
    outlier_hint: "Conversion far below the department's",
    no_managers: "No manager has deals in the period.",
    days: "d",
    hours: "h",
    minutes: "min",
    table_caption: "Funnel stages: deals, money, conversion and time; the previous period in brackets",
    day: "Day",
    chart_funnel: "The period's funnel",
    chart_managers: "Entered and won per manager",
    chart_daily: ["By the day deals were created", "By the day deals moved"],
};

pub(crate) fn funnel_texts(lang: &str) -> &'static FunnelTexts {
    if lang == "en" {
        &EN
    } else {
        &RU
    }
}

/// A share as a percentage with one decimal, or a dash.
pub fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| "—".into(), |v| format!("{:.1} %", v * 100.0))
}

/// A duration as days and hours, hours and minutes, or minutes.
pub fn duration_text(ms: Option<i64>, t: &FunnelTexts) -> String {
    let Some(ms) = ms else { return "—".into() };
    let minutes = ms / 60_000;
    let (d, h, m) = (minutes / 1_440, minutes / 60 % 24, minutes % 60);
    if d > 0 {
        format!("{d} {} {h} {}", t.days, t.hours)
    } else if h > 0 {
        format!("{h} {} {m} {}", t.hours, t.minutes)
    } else {
        format!("{m} {}", t.minutes)
    }
}

/// Which way a figure moved against the previous period.
fn trend(current: Option<f64>, previous: Option<f64>) -> &'static str {
    match (current, previous) {
        (Some(c), Some(p)) if c > p => "up",
        (Some(c), Some(p)) if c < p => "down",
        _ => "same",
    }
}

/// A count, or "—" where there is none (the last step has no next one to drop before).
fn count_text(count: Option<i64>) -> String {
    count.map_or_else(|| "—".into(), |n| n.to_string())
}

/// A figure with the previous period's value and an arrow beside it.
#[component]
pub(crate) fn Compared(
    now: String,
    before: String,
    current: Option<f64>,
    previous: Option<f64>,
    #[prop(optional)] lower_is_better: bool,
) -> impl IntoView {
    let direction = trend(current, previous);
    let arrow = match direction {
        "up" => "▲",
        "down" => "▼",
        _ => "＝",
    };
    let good = match (direction, lower_is_better) {
        ("same", _) => "same",
        ("up", false) | ("down", true) => "good",
        _ => "bad",
    };
    view! {
        <span class="figure">{now}</span>
        <span class=format!("delta {good}")>
            <span aria-hidden="true">{arrow}</span>
            " (" {before} ")"
        </span>
    }
}

/// The CSV of a report: every step with this and the previous period, the
/// by-manager rows, then the period day by day.
pub fn report_csv(report: &FunnelReport, t: &FunnelTexts) -> String {
    let mut rows = vec![vec![
        t.step.to_string(),
        t.deals.into(),
        format!("{} ({})", t.deals, t.previous),
        t.amount.into(),
        format!("{} ({})", t.amount, t.previous),
        t.from_previous.into(),
        t.from_first.into(),
        t.dropped.into(),
        t.lost.into(),
        format!("{}, ms", t.average_time),
        format!("{}, ms", t.median_time),
    ]];
    let (c, p) = (&report.current, &report.previous);
    for (i, step) in c.steps.iter().enumerate() {
        let before = &p.steps[i].totals;
        let ratio = |v: Option<f64>| v.map(|v| format!("{v:.4}")).unwrap_or_default();
        rows.push(vec![
            step.name.clone(),
            step.totals.deals.to_string(),
            before.deals.to_string(),
            (step.totals.amount / 100).to_string(),
            (before.amount / 100).to_string(),
            ratio(c.from_previous(i)),
            ratio(c.from_first(i)),
            c.dropped(i).map(|d| d.to_string()).unwrap_or_default(),
            step.totals.lost.to_string(),
            step.totals.average_time_ms().map(|v| v.to_string()).unwrap_or_default(),
            step.median_time_ms.map(|v| v.to_string()).unwrap_or_default(),
        ]);
    }
    if !report.managers.is_empty() {
        rows.push(Vec::new());
        let mut head = vec![t.manager.to_string()];
        head.extend(c.steps.iter().map(|s| s.name.clone()));
        rows.push(head);
        for m in &report.managers {
            let mut row = vec![m.name.clone()];
            row.extend(m.deals.iter().map(|d| d.to_string()));
            rows.push(row);
        }
    }
    rows.push(Vec::new());
    rows.push(vec![t.day.into(), t.entered.into(), t.won.into(), t.won_amount.into()]);
    for p in &report.daily {
        rows.push(vec![
            super::day_text(p.day),
            p.entered.to_string(),
            p.won.to_string(),
            (p.won_amount / 100).to_string(),
        ]);
    }
    csv(&rows)
}

/// The headline figures above the table. Each opens the deals it counts:
/// those that entered, or those won (the conversion's numerator, the cycle's deals).
#[component]
fn Summary(
    current: FunnelFigures,
    previous: FunnelFigures,
    t: &'static FunnelTexts,
    behind: RwSignal<Option<Behind>>,
) -> impl IntoView {
    let entered = |f: &FunnelFigures| f.steps.first().map_or(0, |s| s.totals.deals);
    let won = |f: &FunnelFigures| f.won().map_or(0, |s| s.totals.deals);
    let won_amount = |f: &FunnelFigures| f.won().map_or(0, |s| s.totals.amount);
    let days = |ms: Option<i64>| ms.map(|v| v as f64 / 86_400_000.0);
    let first_step = current.steps.first().map(|s| s.stage_id);
    let won_step = current.won().map(|s| s.stage_id);
    let tile = move |label: &'static str, id: &'static str, step: Option<StageId>, view: AnyView| {
        let figure = match step {
            Some(stage_id) => view! {
                <button type="button" class="link" title=t.behind
                    on:click=move |_| behind.set(Some(Behind { stage_id, lost: false, dropped: false }))>{view}</button>
            }
            .into_any(),
            None => view,
        };
        view! {
            <div class="tile" data-testid=id>
                <span class="label">{label}</span>
                {figure}
            </div>
        }
    };
    let (c, p) = (&current, &previous);
    view! {
        <div class="tiles">
            {tile(t.entered, "entered", first_step, view! { <Compared now=entered(c).to_string() before=entered(p).to_string()
                current=Some(entered(c) as f64) previous=Some(entered(p) as f64) /> }.into_any())}
            {tile(t.won, "won", won_step, view! { <Compared now=won(c).to_string() before=won(p).to_string()
                current=Some(won(c) as f64) previous=Some(won(p) as f64) /> }.into_any())}
            {tile(t.won_amount, "won-amount", won_step, view! { <Compared now=format_rubles(won_amount(c)) before=format_rubles(won_amount(p))
                current=Some(won_amount(c) as f64) previous=Some(won_amount(p) as f64) /> }.into_any())}
            {tile(t.conversion, "conversion", won_step, view! { <Compared now=percent(c.overall()) before=percent(p.overall())
                current=c.overall() previous=p.overall() /> }.into_any())}
            {tile(t.cycle, "cycle", won_step, view! { <Compared now=duration_text(c.average_cycle_ms(), t) before=duration_text(p.average_cycle_ms(), t)
                current=days(c.average_cycle_ms()) previous=days(p.average_cycle_ms()) lower_is_better=true /> }.into_any())}
        </div>
    }
}

/// What figure's deals are open below the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Behind {
    stage_id: StageId,
    lost: bool,
    dropped: bool,
}

#[component]
fn StepsTable(report: FunnelReport, t: &'static FunnelTexts, behind: RwSignal<Option<Behind>>) -> impl IntoView {
    let (c, p, mode) = (report.current.clone(), report.previous.clone(), report.mode);
    let widest = c.steps.iter().map(|s| s.totals.deals).max().unwrap_or(0);
    let rows = c
        .steps
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let before = p.steps[i].clone();
            let (now, was) = (step.totals, before.totals);
            let stage_id = step.stage_id;
            let width = share(now.deals, widest).map_or(0.0, |s| s * 100.0);
            let open = move |lost: bool, dropped: bool| behind.set(Some(Behind { stage_id, lost, dropped }));
            // In flow mode "went no further" is a difference of two counts, not a set of deals to list.
            let dropped_listed = mode == FunnelMode::Cohort && c.dropped(i).is_some();
            let dropped = view! {
                <Compared now=count_text(c.dropped(i)) before=count_text(p.dropped(i))
                    current=c.dropped(i).map(|d| d as f64) previous=p.dropped(i).map(|d| d as f64)
                    lower_is_better=true />
            };
            let avg = |x: &super::Totals| x.average_time_ms().map(|v| v as f64);
            view! {
                <tr data-stage=stage_id>
                    <th scope="row">
                        {step.name.clone()}
                        <span class="bar" aria-hidden="true"><span style=format!("width: {width:.1}%")></span></span>
                    </th>
                    <td class="num" data-testid="step-deals" data-value=now.deals>
                        <button type="button" class="link" on:click=move |_| open(false, false)
                            title=t.behind>
                            <Compared now=now.deals.to_string() before=was.deals.to_string()
                                current=Some(now.deals as f64) previous=Some(was.deals as f64) />
                        </button>
                    </td>
                    <td class="num" data-testid="step-amount">
                        <button type="button" class="link" on:click=move |_| open(false, false) title=t.behind>
                            <Compared now=format_rubles(now.amount) before=format_rubles(was.amount)
                                current=Some(now.amount as f64) previous=Some(was.amount as f64) />
                        </button>
                    </td>
                    <td class="num">
                        <Compared now=percent(c.from_previous(i)) before=percent(p.from_previous(i))
                            current=c.from_previous(i) previous=p.from_previous(i) />
                    </td>
                    <td class="num">
                        <Compared now=percent(c.from_first(i)) before=percent(p.from_first(i))
                            current=c.from_first(i) previous=p.from_first(i) />
                    </td>
                    <td class="num" data-testid="step-dropped">
                        {if dropped_listed {
                            view! {
                                <button type="button" class="link" on:click=move |_| open(false, true) title=t.behind>
                                    {dropped}
                                </button>
                            }.into_any()
                        } else {
                            dropped.into_any()
                        }}
                    </td>
                    <td class="num" data-testid="step-lost">
                        <button type="button" class="link" on:click=move |_| open(true, false) title=t.behind>
                            <Compared now=now.lost.to_string() before=was.lost.to_string()
                                current=Some(now.lost as f64) previous=Some(was.lost as f64) lower_is_better=true />
                        </button>
                    </td>
                    <td class="num">
                        <Compared now=duration_text(now.average_time_ms(), t) before=duration_text(was.average_time_ms(), t)
                            current=avg(&now) previous=avg(&was) lower_is_better=true />
                    </td>
                    <td class="num">
                        <Compared now=duration_text(step.median_time_ms, t) before=duration_text(before.median_time_ms, t)
                            current=step.median_time_ms.map(|v| v as f64) previous=before.median_time_ms.map(|v| v as f64)
                            lower_is_better=true />
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="funnel" data-testid="funnel">
                <caption class="muted">{t.table_caption}</caption>
                <thead>
                    <tr>
                        <th scope="col">{t.step}</th>
                        <th scope="col" class="num">{t.deals}</th>
                        <th scope="col" class="num">{t.amount}</th>
                        <th scope="col" class="num">{t.from_previous}</th>
                        <th scope="col" class="num">{t.from_first}</th>
                        <th scope="col" class="num">{t.dropped}</th>
                        <th scope="col" class="num">{t.lost}</th>
                        <th scope="col" class="num">{t.average_time}</th>
                        <th scope="col" class="num">{t.median_time}</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

#[component]
fn ManagersTable(report: FunnelReport, t: &'static FunnelTexts) -> impl IntoView {
    if report.managers.is_empty() {
        return view! { <p class="empty">{t.no_managers}</p> }.into_any();
    }
    let steps = report.current.steps.clone();
    view! {
        <div class="table-wrap">
            <table data-testid="by-manager">
                <thead>
                    <tr>
                        <th scope="col">{t.manager}</th>
                        {steps.iter().map(|s| view! { <th scope="col" class="num">{s.name.clone()}</th> }).collect_view()}
                    </tr>
                </thead>
                <tbody>
                    {report.managers.into_iter().map(|m| view! {
                        <tr>
                            <th scope="row">{m.name.clone()}</th>
                            {m.deals.iter().enumerate().map(|(i, deals)| {
                                let rate = (i > 0).then(|| share(*deals, m.deals[i - 1])).flatten();
                                let outlier = m.outlier[i];
                                view! {
                                    <td class="num" class:outlier=outlier title=outlier.then_some(t.outlier_hint)>
                                        {deals.to_string()}
                                        {rate.map(|r| view! { <span class="muted">" · " {percent(Some(r))}</span> })}
                                        {outlier.then(|| view! { <span class="sr-only">{t.outlier_hint}</span> })}
                                    </td>
                                }
                            }).collect_view()}
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn DealsBehindPanel(
    deals: LocalResource<Result<DealsBehind, AppError>>,
    behind: RwSignal<Option<Behind>>,
    t: &'static FunnelTexts,
    title: String,
) -> impl IntoView {
    let ui = use_ui();
    view! {
        <section class="panel" data-testid="deals-behind" aria-live="polite">
            <header class="row">
                <h2>{t.behind} ": " {title}</h2>
                <button type="button" on:click=move |_| behind.set(None)>{t.close}</button>
            </header>
            {move || match deals.get() {
                None => view! { <p class="loading">{ui.texts().loading}</p> }.into_any(),
                Some(Err(e)) => view! { <ErrorPage error=e /> }.into_any(),
                Some(Ok(list)) if list.deals.is_empty() => view! { <p class="empty">{t.no_deals}</p> }.into_any(),
                Some(Ok(list)) => view! {
                    <p class="muted">{format!("{} {} {} {}", t.shown, list.deals.len(), t.of, list.total)}</p>
                    <ul class="plain">
                        {list.deals.into_iter().map(|d| view! {
                            <li>
                                <a href=format!("/deals/{}", d.id)>{d.title}</a>
                                " · " {format_rubles(d.amount)} " · " {d.manager}
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any(),
            }}
        </section>
    }
}

#[component]
pub fn FunnelPage() -> impl IntoView {
    let ui = use_ui();
    let t = move || ui.texts();
    let ft = move || funnel_texts(ui.texts().lang);
    let chosen = use_period().get_untracked();
    let request = RwSignal::new(FunnelRequest {
        preset: chosen.preset,
        from: chosen.from,
        to: chosen.to,
        ..FunnelRequest::default()
    });
    let reload = RwSignal::new(0u32);
    let live = RwSignal::new(false);
    let pipeline = RwSignal::new(None::<PipelineId>);
    let behind = RwSignal::new(None::<Behind>);
    let pipelines = LocalResource::new(list_pipelines);
    let options = LocalResource::new(board_options);
    let report = LocalResource::new(move || {
        reload.track();
        load_funnel(request.get())
    });
    let shown = Memo::new(move |_| report.get().and_then(Result::ok));
    let deals = LocalResource::new(move || {
        let chosen = behind.get();
        let funnel = request.get();
        async move {
            match chosen {
                Some(b) => {
                    let request = BehindRequest {
                        funnel,
                        stage_id: b.stage_id,
                        lost: b.lost,
                        dropped: b.dropped,
                        previous: false,
                    };
                    load_deals_behind(request).await
                }
                None => Ok(DealsBehind::default()),
            }
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(r)) = report.get() {
            pipeline.set(Some(r.pipeline_id));
        }
    });
    crate::pipeline::board::listen_live(Some(pipeline), reload, live);
    let set = move |change: &dyn Fn(&mut FunnelRequest)| {
        request.update(|r| change(r));
        behind.set(None);
    };
    let parse_id = |ev: &leptos::ev::Event| event_target_value(ev).parse::<i64>().ok();

    view! {
        <h1>{move || ft().title}</h1>
        <div class="filters" role="search">
            <label>
                <span>{move || t().pipeline}</span>
                <select data-testid="funnel-pipeline" on:change=move |ev| { let id = parse_id(&ev); set(&|r| r.pipeline_id = id); }>
                    {move || pipelines.get().and_then(Result::ok).unwrap_or_default().into_iter()
                        .filter(|p| !p.archived)
                        .map(|p| view! { <option value=p.id prop:selected=move || pipeline.get() == Some(p.id)>{p.name}</option> })
                        .collect_view()}
                </select>
            </label>
            <fieldset class="segmented">
                <legend>{move || ft().mode}</legend>
                {FunnelMode::iter().enumerate().map(|(i, mode)| view! {
                    <label title=move || ft().mode_hints[i]>
                        <input type="radio" name="funnel-mode" value=mode.as_str()
                            prop:checked=move || request.with(|r| r.mode.unwrap_or(FunnelMode::Cohort) == mode)
                            on:change=move |_| set(&|r| r.mode = Some(mode)) />
                        <span>{move || ft().modes[i]}</span>
                    </label>
                }).collect_view()}
            </fieldset>
            <PeriodFilter prefix="funnel" on_change=move |p: PeriodChoice| set(&|r| {
                (r.preset, r.from, r.to) = (p.preset, p.from.clone(), p.to.clone());
            }) />
            <label>
                <span>{move || t().manager}</span>
                <select data-testid="funnel-manager" on:change=move |ev| { let id = parse_id(&ev); set(&|r| r.manager_id = id); }>
                    <option value="">{move || t().all_managers}</option>
                    {move || options.get().and_then(Result::ok).map(|o| o.people.into_iter()
                        .map(|(id, name)| view! { <option value=id>{name}</option> }).collect_view())}
                </select>
            </label>
            <label>
                <span>{move || t().department}</span>
                <select on:change=move |ev| { let id = parse_id(&ev); set(&|r| r.department_id = id); }>
                    <option value="">{move || t().all_departments}</option>
                    {move || options.get().and_then(Result::ok).map(|o| o.departments.into_iter()
                        .map(|(id, name)| view! { <option value=id>{name}</option> }).collect_view())}
                </select>
            </label>
            <label>
                <span>{move || t().source}</span>
                <select on:change=move |ev| {
                    let source = Some(event_target_value(&ev)).filter(|s| !s.is_empty());
                    set(&|r| r.source = source.clone());
                }>
                    <option value="">{move || t().all_sources}</option>
                    {SOURCE_KEYS.iter().map(|k| view! { <option value=*k>{move || t().source_name(k).to_string()}</option> }).collect_view()}
                </select>
            </label>
            <label>
                <span>{move || ft().client_type}</span>
                <select on:change=move |ev| {
                    let client = event_target_value(&ev).parse::<ClientType>().ok();
                    set(&|r| r.client = client);
                }>
                    <option value="">{move || ft().client_types[0]}</option>
                    {ClientType::iter().enumerate().map(|(i, c)| view! { <option value=c.as_str()>{move || ft().client_types[i + 1]}</option> }).collect_view()}
                </select>
            </label>
        </div>
        {move || match report.get() {
            None => view! { <p class="loading">{t().loading}</p> }.into_any(),
            Some(Err(e)) => view! { <p class="error" role="alert">{e.message(t())}</p> }.into_any(),
            Some(Ok(r)) => {
                let ft = ft();
                let file = format!("funnel-{}-{}.csv", r.from_text, r.to_text);
                let href = format!("data:text/csv;charset=utf-8,{}", encode(&report_csv(&r, ft)));
                let period = &r.current.period;
                let before = period.previous();
                let names: Vec<(StageId, String)> = r.current.steps.iter().map(|s| (s.stage_id, s.name.clone())).collect();
                let behind_title = move || {
                    let chosen = behind.get()?;
                    let name = names.iter().find(|(id, _)| *id == chosen.stage_id)?.1.clone();
                    Some(match (chosen.lost, chosen.dropped) {
                        (true, _) => format!("{name}, {}", ft.behind_lost),
                        (_, true) => format!("{name}, {}", ft.dropped.to_lowercase()),
                        _ => name,
                    })
                };
                view! {
                    <p class="meta row">
                        <span data-testid="period">{format!("{} — {}", r.from_text, r.to_text)}</span>
                        <span class="muted">{format!("{}: {} — {}", ft.previous, super::day_text(before.from), super::day_text(before.to))}</span>
                        <span data-testid="as-of">{format!("{} {}", ft.as_of, clock(r.computed_at))}</span>
                        <span class="live" class:on=move || live.get() data-testid="live">
                            {move || if live.get() { t().live_on } else { t().live_off }}
                        </span>
                        <a class="button" data-testid="funnel-csv" download=file href=href>{ft.export}</a>
                    </p>
                    <Summary current=r.current.clone() previous=r.previous.clone() t=ft behind />
                    <StepsTable report=r.clone() t=ft behind />
                    {move || behind_title().map(|title| view! { <DealsBehindPanel deals behind t=ft title /> })}
                }.into_any()
            }
        }}
        // Outside the block above, so a live reload updates the drawings in place.
        <Show when=move || shown.with(Option::is_some)>
            <div class="charts">
                <ChartFigure id="chart-funnel"
                    title=Signal::derive(move || ft().chart_funnel.to_string())
                    option=Signal::derive(move || shown.with(|r| r.as_ref().map(|r| charts::funnel_chart(&r.current, ft()))))
                    table=move || shown.get().map(|r| view! { <charts::FunnelChartTable figures=r.current t=ft() /> }) />
                <ChartFigure id="chart-daily"
                    title=Signal::derive(move || {
                        let mode = shown.with(|r| r.as_ref().map_or(FunnelMode::Cohort, |r| r.mode));
                        ft().chart_daily[usize::from(mode == FunnelMode::Flow)].to_string()
                    })
                    option=Signal::derive(move || shown.with(|r| r.as_ref().map(|r| charts::daily_chart(&r.daily, ft()))))
                    table=move || shown.get().map(|r| view! { <charts::DailyChartTable points=r.daily t=ft() /> }) />
            </div>
            <h2>{move || ft().by_manager}</h2>
            // Nobody to draw: the table below says so.
            <Show when=move || shown.with(|r| r.as_ref().is_some_and(|r| !r.managers.is_empty()))>
                <ChartFigure id="chart-managers"
                    title=Signal::derive(move || ft().chart_managers.to_string())
                    option=Signal::derive(move || shown.with(|r| r.as_ref().map(|r| charts::manager_chart(r, ft()))))
                    table=move || shown.get().map(|r| view! { <charts::ManagerChartTable report=r t=ft() /> })
                    height_rem=Signal::derive(move || {
                        charts::manager_chart_rem(shown.with(|r| r.as_ref().map_or(0, |r| r.managers.len())))
                    }) />
            </Show>
            {move || shown.get().map(|r| view! { <ManagersTable report=r t=ft() /> })}
        </Show>
    }
}

/// Hours, minutes and seconds of a moment on the viewer's clock.
pub(crate) fn clock(ms: i64) -> String {
    #[cfg(feature = "hydrate")]
    {
        let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
        format!("{:02}:{:02}:{:02}", d.get_hours(), d.get_minutes(), d.get_seconds())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let s = ms.div_euclid(1000);
        format!("{:02}:{:02}:{:02} UTC", s / 3600 % 24, s / 60 % 60, s % 60)
    }
}

/// Percent-encodes text for a `data:` link (the browser's encodeURIComponent).
pub(crate) fn encode(text: &str) -> String {
    #[cfg(feature = "hydrate")]
    {
        js_sys::encode_uri_component(text).into()
    }
    // The report is fetched and drawn only in the browser.
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = text;
        String::new()
    }
}
