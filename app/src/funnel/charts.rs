//! The funnel page's three charts and their table views: the funnel of the
//! period, entered and won deals per manager, and both day by day.

use charming::component::Axis;
use charming::element::{AxisType, Color, Formatter, Label, LabelPosition, Tooltip, Trigger};
use charming::series::{Bar, Funnel, Line};
use charming::Chart;
use leptos::prelude::*;

use super::page::FunnelTexts;
use super::{day_text, DailyPoint, FunnelFigures, FunnelReport};
use crate::charts::axis_chart;
use crate::pipeline::format_rubles;

/// Per manager, in the by-manager table's order: name, deals that entered
/// the funnel, and deals that reached the won step the summary counts.
fn entered_and_won(report: &FunnelReport) -> Vec<(&str, i64, i64)> {
    let won = report.current.won().and_then(|w| report.current.steps.iter().position(|s| s.stage_id == w.stage_id));
    report
        .managers
        .iter()
        .map(|m| {
            let at = |i: Option<usize>| i.and_then(|i| m.deals.get(i)).copied().unwrap_or(0);
            (m.name.as_str(), at(Some(0)), at(won))
        })
        .collect()
}

/// Deals that reached each step, in step order (not sorted by size, so a
/// step that more deals reached than the one before shows as it is: see
/// [`crate::charts::echarts_option`]).
pub fn funnel_chart(figures: &FunnelFigures, t: &FunnelTexts) -> Chart {
    let widest = figures.steps.iter().map(|s| s.totals.deals).max().unwrap_or(0);
    Chart::new().background_color(Color::from("transparent")).tooltip(Tooltip::new().trigger(Trigger::Item)).series(
        Funnel::new()
            .name(t.deals)
            .min(0)
            .max(widest.max(1) as f64)
            .min_size("8%")
            .gap(2)
            .left("5%")
            .width("90%")
            // Inside the shapes: beside them, names are cut off on a phone.
            .label(Label::new().show(true).position(LabelPosition::Inside).formatter(Formatter::from("{b}: {c}")))
            .data(figures.steps.iter().map(|s| (s.totals.deals, s.name.as_str())).collect()),
    )
}

/// Per manager: deals that entered the funnel and deals won, as horizontal
/// bars so long names stay readable on a phone.
pub fn manager_chart(report: &FunnelReport, t: &FunnelTexts) -> Chart {
    let mut rows = entered_and_won(report);
    // ECharts draws a category axis bottom-up; reversed, the list reads as the table does.
    rows.reverse();
    axis_chart(Trigger::Axis)
        .y_axis(Axis::new().type_(AxisType::Category).data(rows.iter().map(|r| r.0).collect()))
        .x_axis(Axis::new().type_(AxisType::Value).min_interval(1))
        .series(Bar::new().name(t.entered).data(rows.iter().map(|r| r.1).collect()))
        .series(Bar::new().name(t.won).data(rows.iter().map(|r| r.2).collect()))
}

/// Entered and won deals per day of the period.
pub fn daily_chart(points: &[DailyPoint], t: &FunnelTexts) -> Chart {
    axis_chart(Trigger::Axis)
        .x_axis(Axis::new().type_(AxisType::Category).data(points.iter().map(|p| day_text(p.day)).collect()))
        .y_axis(Axis::new().type_(AxisType::Value).min_interval(1))
        .series(Line::new().name(t.entered).data(points.iter().map(|p| p.entered).collect()))
        .series(Line::new().name(t.won).data(points.iter().map(|p| p.won).collect()))
}

/// Height of the by-manager chart: enough for every name.
pub fn manager_chart_rem(managers: usize) -> u32 {
    (managers as u32 * 2 + 4).clamp(16, 60)
}

#[component]
pub fn FunnelChartTable(figures: FunnelFigures, t: &'static FunnelTexts) -> impl IntoView {
    view! {
        <table>
            <thead><tr><th scope="col">{t.step}</th><th scope="col" class="num">{t.deals}</th></tr></thead>
            <tbody>
                {figures.steps.into_iter().map(|s| view! {
                    <tr><th scope="row">{s.name}</th><td class="num">{s.totals.deals}</td></tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
pub fn ManagerChartTable(report: FunnelReport, t: &'static FunnelTexts) -> impl IntoView {
    let rows: Vec<(String, i64, i64)> =
        entered_and_won(&report).into_iter().map(|(name, entered, won)| (name.to_string(), entered, won)).collect();
    view! {
        <table>
            <thead>
                <tr>
                    <th scope="col">{t.manager}</th>
                    <th scope="col" class="num">{t.entered}</th>
                    <th scope="col" class="num">{t.won}</th>
                </tr>
            </thead>
            <tbody>
                {rows.into_iter().map(|(name, entered, won)| view! {
                    <tr>
                        <th scope="row">{name}</th>
                        <td class="num">{entered}</td>
                        <td class="num">{won}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
pub fn DailyChartTable(points: Vec<DailyPoint>, t: &'static FunnelTexts) -> impl IntoView {
    view! {
        <table>
            <thead>
                <tr>
                    <th scope="col">{t.day}</th>
                    <th scope="col" class="num">{t.entered}</th>
                    <th scope="col" class="num">{t.won}</th>
                    <th scope="col" class="num">{t.won_amount}</th>
                </tr>
            </thead>
            <tbody>
                {points.into_iter().map(|p| view! {
                    <tr data-day=day_text(p.day)>
                        <th scope="row">{day_text(p.day)}</th>
                        <td class="num" data-testid="daily-entered">{p.entered}</td>
                        <td class="num">{p.won}</td>
                        <td class="num">{format_rubles(p.won_amount)}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
