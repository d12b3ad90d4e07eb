//! The KPI page: period and whose figures, tiles with the previous period
//! beside each, one KPI per person as a chart, a row per person and
//! department, CSV, and the call-length threshold for those who may set it.
//! It reloads on any change it may see.

use leptos::prelude::*;

use super::chart::{chart_title, people_chart, PeopleChartTable, DEFAULT_CHART_METRIC};
use super::server::{load_kpis, SetCallThreshold};
use super::{KpiCounts, KpiReport, KpiRequest, KpiRow};
use crate::charts::ChartFigure;
use crate::funnel::charts::manager_chart_rem;
use crate::funnel::csv;
use crate::funnel::page::{clock, duration_text, encode, funnel_texts, percent, Compared, FunnelTexts};
use crate::funnel::period::{use_period, PeriodChoice, PeriodFilter};
use crate::norms::page::NormsPanel;
use crate::pipeline::format_rubles;
use crate::pipeline::server::board_options;
use crate::shell::use_ui;

/// How a figure reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shown {
    Count,
    Money,
    Share,
    Days,
    Duration,
    Score,
}

/// One KPI: its id (test id and CSV order), the words' index, and its value.
#[derive(Clone, Copy)]
pub struct Metric {
    pub id: &'static str,
    pub value: fn(&KpiCounts) -> Option<f64>,
    pub shown: Shown,
    pub lower_is_better: bool,
}

const fn metric(id: &'static str, value: fn(&KpiCounts) -> Option<f64>, shown: Shown) -> Metric {
    Metric { id, value, shown, lower_is_better: false }
}

/// Every KPI in page order; [`KpiTexts::metrics`] names them in the same order.
pub const METRICS: [Metric; 17] = [
    metric("won", |c| Some(c.won as f64), Shown::Count),
    metric("revenue", |c| Some(c.revenue as f64), Shown::Money),
    metric("average-deal", |c| c.average_deal().map(|v| v as f64), Shown::Money),
    metric("win-rate", KpiCounts::win_rate, Shown::Share),
    Metric { lower_is_better: true, ..metric("cycle", KpiCounts::average_cycle_days, Shown::Days) },
    metric("repeat-share", KpiCounts::repeat_share, Shown::Share),
    metric("lead-conversion", KpiCounts::lead_conversion, Shown::Share),
    metric("new-clients", |c| Some(c.new_clients as f64), Shown::Count),
    metric("leads-processed", |c| Some(c.leads_processed as f64), Shown::Count),
    Metric {
        lower_is_better: true,
        ..metric("first-response", |c| c.average_response_ms().map(|v| v as f64), Shown::Duration)
    },
    metric("calls-in", |c| Some(c.calls_in as f64), Shown::Count),
    metric("calls-out", |c| Some(c.calls_out as f64), Shown::Count),
    metric("meetings", |c| Some(c.meetings as f64), Shown::Count),
    metric("proposals", |c| Some(c.proposals as f64), Shown::Count),
    metric("chats", |c| Some(c.chats as f64), Shown::Count),
    metric("csat", KpiCounts::csat, Shown::Score),
    metric("nps", KpiCounts::nps, Shown::Score),
];

/// The KPI page's words in one language.
pub struct KpiTexts {
    pub title: &'static str,
    pub metrics: [&'static str; 17],
    pub groups: [&'static str; 3],
    pub who: &'static str,
    pub total: &'static str,
    pub unassigned_hint: &'static str,
    pub days_short: &'static str,
    pub calls_from: &'static str,
    pub save: &'static str,
    pub saved: &'static str,
    pub no_people: &'static str,
    pub table_caption: &'static str,
    pub minutes_short: &'static str,
    pub this_period: &'static str,
    /// Follows a KPI's name in the chart's title.
    pub per_person: &'static str,
    pub chart_metric: &'static str,
}

pub static RU: KpiTexts = KpiTexts {
    title: "Показатели",
    metrics: [
        "Выиграно сделок",
        "Выручка",
        "Средний чек",
        "Доля выигранных",
        "Средний цикл сделки",
        "Доля повторных продаж",
        "Конверсия лидов в сделки",
        "Новые клиенты",
        "Обработано лидов",
        "Время первого ответа",
        "Входящие звонки",
        "Исходящие звонки",
        "Встречи",
        "КП отправлено",
        "Чаты",
        "CSAT (1–5)",
        "NPS",
    ],
    groups: ["Продажи", "Работа", "Довольство клиентов"],
    who: "Сотрудник",
    total: "Итого",
    unassigned_hint: "В итог входят и лиды и клиенты без ответственного.",
    days_short: "дн.",
    calls_from: "Звонки считаются от {s} с",
    save: "Сохранить",
    saved: "Сохранено",
    no_people: "За этот период у выбранных сотрудников нет данных.",
    table_caption: "Показатели по сотрудникам и отделам; в скобках — предыдущий период",
    minutes_short: "мин",
    this_period: "Этот период",
    per_person: "по сотрудникам",
    chart_metric: "Показатель на графике",
};

pub static EN: KpiTexts = KpiTexts {
    title: "KPIs",
    metrics: [
        "Deals won",
        "Revenue",
        "Average deal",
        "Win rate",
        "Average sales cycle",
        "Repeat sales share",
        "Lead → deal conversion",
        "New clients",
        "Leads processed",
        "First response time",
        "Incoming calls",
        "Outgoing calls",
        "Meetings",
        "Proposals sent",
        "Chats",
        "CSAT (1–5)",
        "NPS",
    ],
    groups: ["Sales", "Work", "Client satisfaction"],
    who: "Person",
    total: "Total",
    unassigned_hint: "The total includes leads and clients nobody is responsible for.",
    days_short: "d",
    calls_from: "Calls count from {s} s",
    save: "Save",
    saved: "Saved",
    no_people: "The chosen people have no figures in this period.",
    table_caption: "KPIs per person and department; the previous period in brackets",
    minutes_short: "min",
    this_period: "This period",
    per_person: "per person",
    chart_metric: "KPI on the chart",
};

fn kpi_texts(lang: &str) -> &'static KpiTexts {
    if lang == "en" {
        &EN
    } else {
        &RU
    }
}

/// Which metrics each tile group holds, by index into [`METRICS`].
const GROUPS: [std::ops::Range<usize>; 3] = [0..8, 8..15, 15..17];

pub fn shown_text(m: &Metric, value: Option<f64>, kt: &KpiTexts, ft: &FunnelTexts) -> String {
    let Some(v) = value else { return "—".into() };
    match m.shown {
        Shown::Count => format!("{}", v as i64),
        Shown::Money => format_rubles(v as i64),
        Shown::Share => percent(Some(v)),
        Shown::Days => format!("{v:.1} {}", kt.days_short),
        Shown::Duration => duration_text(Some(v as i64), ft),
        Shown::Score => format!("{v:.1}"),
    }
}

/// A figure of `now` with `before`'s beside it.
fn compared(
    m: &Metric,
    now: &KpiCounts,
    before: &KpiCounts,
    kt: &'static KpiTexts,
    ft: &'static FunnelTexts,
) -> AnyView {
    let (c, p) = ((m.value)(now), (m.value)(before));
    view! {
        <Compared now=shown_text(m, c, kt, ft) before=shown_text(m, p, kt, ft) current=c previous=p
            lower_is_better=m.lower_is_better />
    }
    .into_any()
}

/// The CSV: the total, each department and each person, every KPI now and before.
pub fn report_csv(report: &KpiReport, kt: &KpiTexts, ft: &FunnelTexts) -> String {
    let mut head = vec![kt.who.to_string()];
    for (i, _) in METRICS.iter().enumerate() {
        head.push(kt.metrics[i].to_string());
        head.push(format!("{} ({})", kt.metrics[i], ft.previous));
    }
    let mut rows = vec![head];
    let mut line = |name: &str, now: &KpiCounts, before: &KpiCounts| {
        let mut row = vec![name.to_string()];
        for m in &METRICS {
            // Raw numbers, so spreadsheets can compute with them.
            let raw = |v: Option<f64>| v.map(|v| if m.shown == Shown::Money { v / 100.0 } else { v });
            row.push(raw((m.value)(now)).map(|v| v.to_string()).unwrap_or_default());
            row.push(raw((m.value)(before)).map(|v| v.to_string()).unwrap_or_default());
        }
        rows.push(row);
    };
    line(kt.total, &report.current, &report.previous);
    for r in report.departments.iter().chain(&report.people) {
        line(&r.name, &r.current, &r.previous);
    }
    csv(&rows)
}

#[component]
fn Tiles(report: KpiReport, kt: &'static KpiTexts, ft: &'static FunnelTexts) -> impl IntoView {
    GROUPS
        .iter()
        .enumerate()
        .map(|(g, range)| {
            let tiles = METRICS[range.clone()]
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    view! {
                        <div class="tile" data-testid=format!("kpi-{}", m.id)>
                            <span class="label">{kt.metrics[range.start + i]}</span>
                            {compared(m, &report.current, &report.previous, kt, ft)}
                        </div>
                    }
                })
                .collect_view();
            view! {
                <h2>{kt.groups[g]}</h2>
                <div class="tiles">{tiles}</div>
            }
        })
        .collect_view()
}

#[component]
fn PeopleTable(report: KpiReport, kt: &'static KpiTexts, ft: &'static FunnelTexts) -> impl IntoView {
    if report.people.is_empty() {
        return view! { <p class="empty">{kt.no_people}</p> }.into_any();
    }
    let row = |r: &KpiRow, class: &'static str| {
        let id = r.user_id.map(|u| format!("kpi-person-{u}"));
        let cells =
            METRICS.iter().map(|m| view! { <td>{compared(m, &r.current, &r.previous, kt, ft)}</td> }).collect_view();
        view! { <tr class=class data-testid=id><th scope="row">{r.name.clone()}</th>{cells}</tr> }
    };
    let mut body = Vec::new();
    for person in &report.people {
        body.push(row(person, ""));
        let last_of_department = report
            .people
            .iter()
            .rev()
            .find(|p| p.department_id == person.department_id)
            .is_some_and(|p| p.user_id == person.user_id);
        if last_of_department {
            if let Some(d) = report.departments.iter().find(|d| d.department_id == person.department_id) {
                body.push(row(d, "subtotal"));
            }
        }
    }
    view! {
        <div class="table-wrap">
            <table class="kpi-table">
                <caption>{kt.table_caption}</caption>
                <thead>
                    <tr>
                        <th scope="col">{kt.who}</th>
                        {kt.metrics.iter().map(|name| view! { <th scope="col">{*name}</th> }).collect_view()}
                    </tr>
                </thead>
                <tbody>{body}</tbody>
            </table>
        </div>
    }
    .into_any()
}

/// The call-length threshold, editable by those who may. The draft and the
/// save live with the page, so a live reload never wipes what is being typed.
#[component]
fn Threshold(
    seconds: i64,
    may_configure: bool,
    kt: &'static KpiTexts,
    draft: RwSignal<Option<String>>,
    save: ServerAction<SetCallThreshold>,
) -> impl IntoView {
    let ui = use_ui();
    let text = kt.calls_from.replace("{s}", &seconds.to_string());
    if !may_configure {
        return view! { <p class="muted" data-testid="call-threshold">{text}</p> }.into_any();
    }
    let value = move || draft.get().unwrap_or_else(|| seconds.to_string());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match value().trim().parse::<i64>() {
            Ok(seconds) => {
                save.dispatch(SetCallThreshold { seconds });
            }
            Err(_) => save
                .value()
                .set(Some(Err(crate::error::AppError::invalid("call_threshold", crate::error::Problem::NotANumber)))),
        }
    };
    view! {
        <form class="row inline-form" on:submit=submit>
            <label>
                <span>{move || ui.texts().call_threshold}</span>
                <input type="number" inputmode="numeric"
                    data-testid="call-threshold-input" prop:value=value on:input=move |ev| draft.set(Some(event_target_value(&ev))) />
            </label>
            <button type="submit" disabled=move || save.pending().get()>{kt.save}</button>
            {move || match save.value().get() {
                Some(Err(e)) => Some(view! { <span class="error" role="alert">{e.message(ui.texts())}</span> }.into_any()),
                Some(Ok(_)) => Some(view! { <span class="muted" role="status">{kt.saved}</span> }.into_any()),
                None => None,
            }}
        </form>
    }
    .into_any()
}

#[component]
pub fn KpiPage() -> impl IntoView {
    let ui = use_ui();
    let t = move || ui.texts();
    let kt = move || kpi_texts(ui.texts().lang);
    let ft = move || funnel_texts(ui.texts().lang);
    let chosen = use_period().get_untracked();
    let request =
        RwSignal::new(KpiRequest { preset: chosen.preset, from: chosen.from, to: chosen.to, ..KpiRequest::default() });
    let reload = RwSignal::new(0u32);
    let live = RwSignal::new(false);
    let options = LocalResource::new(board_options);
    let report = LocalResource::new(move || {
        reload.track();
        load_kpis(request.get())
    });
    crate::pipeline::board::listen_live(None, reload, live);
    let draft = RwSignal::new(None::<String>);
    let save = ServerAction::<SetCallThreshold>::new();
    Effect::new(move |_| {
        if let Some(Ok(_)) = save.value().get() {
            draft.set(None);
            reload.update(|n| *n += 1);
        }
    });
    // Memos, so that changing the period does not refetch the norms, which ignore it.
    let norms_manager = Memo::new(move |_| request.with(|r| r.manager_id));
    let norms_department = Memo::new(move |_| request.with(|r| r.department_id));
    let parse_id = |ev: &leptos::ev::Event| event_target_value(ev).parse::<i64>().ok();
    let shown = Memo::new(move |_| report.get().and_then(Result::ok));
    let chart_metric = RwSignal::new(DEFAULT_CHART_METRIC);

    view! {
        <h1>{move || kt().title}</h1>
        <div class="filters" role="search">
            <PeriodFilter prefix="kpi" on_change=move |p: PeriodChoice| request.update(|r| {
                (r.preset, r.from, r.to) = (p.preset, p.from, p.to);
            }) />
            <label>
                <span>{move || t().manager}</span>
                <select data-testid="kpi-manager" on:change=move |ev| { let id = parse_id(&ev); request.update(|r| r.manager_id = id); }>
                    <option value="">{move || t().all_managers}</option>
                    {move || options.get().and_then(Result::ok).map(|o| o.people.into_iter()
                        .map(|(id, name)| view! { <option value=id>{name}</option> }).collect_view())}
                </select>
            </label>
            <label>
                <span>{move || t().department}</span>
                <select data-testid="kpi-department" on:change=move |ev| { let id = parse_id(&ev); request.update(|r| r.department_id = id); }>
                    <option value="">{move || t().all_departments}</option>
                    {move || options.get().and_then(Result::ok).map(|o| o.departments.into_iter()
                        .map(|(id, name)| view! { <option value=id>{name}</option> }).collect_view())}
                </select>
            </label>
        </div>
        <NormsPanel manager_id=norms_manager.into() department_id=norms_department.into() reload />
        {move || match report.get() {
            None => Some(view! { <p class="loading">{t().loading}</p> }.into_any()),
            Some(Err(e)) => Some(view! { <p class="error" role="alert">{e.message(t())}</p> }.into_any()),
            Some(Ok(_)) => None,
        }}
        // Outside the report's own rendering, so a live reload updates the chart in place.
        <Show when=move || shown.with(Option::is_some)>
            <div data-testid="kpi">
            {move || shown.get().map(|r| {
                let (kt, ft) = (kt(), ft());
                let file = format!("kpi-{}-{}.csv", r.from_text, r.to_text);
                let href = format!("data:text/csv;charset=utf-8,{}", encode(&report_csv(&r, kt, ft)));
                view! {
                    <p class="meta row">
                        <span data-testid="period">{format!("{} — {}", r.from_text, r.to_text)}</span>
                        <span class="muted">{format!("{}: {} — {}", ft.previous, r.previous_from_text, r.previous_to_text)}</span>
                        <span data-testid="as-of">{format!("{} {}", ft.as_of, clock(r.computed_at))}</span>
                        <span class="live" class:on=move || live.get() data-testid="live">
                            {move || if live.get() { t().live_on } else { t().live_off }}
                        </span>
                        <a class="button" data-testid="kpi-csv" download=file href=href>{ft.export}</a>
                    </p>
                    <Threshold seconds=r.call_threshold_s may_configure=r.may_configure kt draft save />
                    <Tiles report=r kt ft />
                }
            })}
            <h2>{move || t().manager}</h2>
            // Nobody to draw: the table below says so.
            <Show when=move || shown.with(|r| r.as_ref().is_some_and(|r| !r.people.is_empty()))>
                <label class="chart-choice">
                    <span>{move || kt().chart_metric}</span>
                    <select data-testid="kpi-chart-metric" prop:value=move || chart_metric.get().to_string()
                        on:change=move |ev| {
                            if let Ok(i) = event_target_value(&ev).parse::<usize>() {
                                chart_metric.set(i.min(METRICS.len() - 1));
                            }
                        }>
                        {move || kt().metrics.iter().enumerate()
                            .map(|(i, name)| view! { <option value=i.to_string()>{*name}</option> }).collect_view()}
                    </select>
                </label>
                <ChartFigure id="chart-kpi"
                    title=Signal::derive(move || chart_title(chart_metric.get(), kt()))
                    option=Signal::derive(move || {
                        shown.with(|r| r.as_ref().map(|r| people_chart(r, chart_metric.get(), kt(), ft())))
                    })
                    table=move || shown.get().map(|r| view! {
                        <PeopleChartTable report=r metric=chart_metric.get() kt=kt() ft=ft() />
                    })
                    height_rem=Signal::derive(move || {
                        manager_chart_rem(shown.with(|r| r.as_ref().map_or(0, |r| r.people.len())))
                    }) />
            </Show>
            {move || shown.get().map(|r| {
                let (kt, ft) = (kt(), ft());
                view! {
                    <PeopleTable report=r kt ft />
                    <p class="muted">{kt.unassigned_hint}</p>
                }
            })}
            </div>
        </Show>
    }
}
