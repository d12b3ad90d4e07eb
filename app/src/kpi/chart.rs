//! The KPI page's chart: one KPI per person, this period beside the previous
//! one, and the same figures as a table.

use charming::component::Axis;
use charming::element::{AxisType, Trigger};
use charming::series::Bar;
use charming::Chart;
use leptos::prelude::*;

use super::page::{shown_text, KpiTexts, Metric, Shown, METRICS};
use super::{KpiCounts, KpiReport};
use crate::charts::axis_chart;
use crate::funnel::page::FunnelTexts;

/// The KPI the chart shows until the person picks another: revenue.
pub const DEFAULT_CHART_METRIC: usize = 1;

/// A KPI as the chart's axis reads it: roubles, percent, days, minutes;
/// `None` where there is nothing to divide by (no bar is drawn).
pub fn chart_value(metric: &Metric, counts: &KpiCounts) -> Option<f64> {
    let value = (metric.value)(counts)?;
    let round = |v: f64| (v * 10.0).round() / 10.0;
    Some(match metric.shown {
        Shown::Count => value,
        // Whole roubles, as the page writes them.
        Shown::Money => (value / 100.0).trunc(),
        Shown::Share => round(value * 100.0),
        Shown::Days | Shown::Score => round(value),
        Shown::Duration => round(value / 60_000.0),
    })
}

/// The chart's unit, for its title: "₽", "%", days or minutes; none for counts and scores.
fn unit(shown: Shown, kt: &KpiTexts) -> Option<&'static str> {
    match shown {
        Shown::Money => Some("₽"),
        Shown::Share => Some("%"),
        Shown::Days => Some(kt.days_short),
        Shown::Duration => Some(kt.minutes_short),
        Shown::Count | Shown::Score => None,
    }
}

/// The chart's title: the KPI, "per person" and its unit.
pub fn chart_title(metric: usize, kt: &KpiTexts) -> String {
    let title = format!("{} {}", kt.metrics[metric], kt.per_person);
    match unit(METRICS[metric].shown, kt) {
        Some(unit) => format!("{title}, {unit}"),
        None => title,
    }
}

/// One KPI per person, in the people table's order: this period and the
/// previous one as horizontal bars, so long names stay readable on a phone.
pub fn people_chart(report: &KpiReport, metric: usize, kt: &KpiTexts, ft: &FunnelTexts) -> Chart {
    let m = &METRICS[metric];
    // ECharts draws a category axis bottom-up; reversed, the list reads as the table does.
    let people: Vec<_> = report.people.iter().rev().collect();
    axis_chart(Trigger::Axis)
        .y_axis(Axis::new().type_(AxisType::Category).data(people.iter().map(|p| p.name.as_str()).collect()))
        .x_axis(Axis::new().type_(AxisType::Value))
        .series(Bar::new().name(kt.this_period).data(people.iter().map(|p| chart_value(m, &p.current)).collect()))
        .series(Bar::new().name(ft.previous).data(people.iter().map(|p| chart_value(m, &p.previous)).collect()))
}

/// The chart's figures as the page writes them, person by person.
#[component]
pub fn PeopleChartTable(
    report: KpiReport,
    metric: usize,
    kt: &'static KpiTexts,
    ft: &'static FunnelTexts,
) -> impl IntoView {
    let m = &METRICS[metric];
    view! {
        <table>
            <thead>
                <tr>
                    <th scope="col">{kt.who}</th>
                    <th scope="col" class="num">{kt.this_period}</th>
                    <th scope="col" class="num">{ft.previous}</th>
                </tr>
            </thead>
            <tbody>
                {report.people.into_iter().map(|p| view! {
                    <tr>
                        <th scope="row">{p.name}</th>
                        <td class="num">{shown_text(m, (m.value)(&p.current), kt, ft)}</td>
                        <td class="num">{shown_text(m, (m.value)(&p.previous), kt, ft)}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
