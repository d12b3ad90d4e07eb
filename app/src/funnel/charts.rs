//! The funnel page's three charts and their table views: the funnel of the
//! period, entered and won deals per manager, and both day by day.

use charming::component::{Axis, Grid, Legend};
use charming::element::{AxisType, Color, Formatter, Label, LabelPosition, Tooltip, Trigger};
use charming::series::{Bar, Funnel, Line};
use charming::Chart;
use leptos::prelude::*;

use super::page::FunnelTexts;
use super::{day_text, DailyPoint, FunnelFigures, FunnelReport};
use crate::pipeline::format_rubles;

/// Index of the won step the summary counts, in step order.
fn won_index(figures: &FunnelFigures) -> Option<usize> {
    let won = figures.won()?.stage_id;
    figures.steps.iter().position(|s| s.stage_id == won)
}

/// Options every chart shares: see-through background (the page's theme
/// shows through), a tooltip, a legend and room for axis labels.
fn base(trigger: Trigger) -> Chart {
    Chart::new()
        .background_color(Color::from("transparent"))
        .tooltip(Tooltip::new().trigger(trigger))
        .legend(Legend::new().bottom(0))
        .grid(Grid::new().left(8).right(16).top(16).bottom(40).contain_label(true))
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
    let won = won_index(&report.current);
    // ECharts draws a category axis bottom-up; reversed, the list reads as the table does.
    let rows: Vec<_> = report.managers.iter().rev().collect();
    base(Trigger::Axis)
        .y_axis(Axis::new().type_(AxisType::Category).data(rows.iter().map(|m| m.name.as_str()).collect()))
        .x_axis(Axis::new().type_(AxisType::Value).min_interval(1))
        .series(Bar::new().name(t.entered).data(rows.iter().map(|m| m.deals.first().copied().unwrap_or(0)).collect()))
        .series(
            Bar::new()
                .name(t.won)
                .data(rows.iter().map(|m| won.and_then(|i| m.deals.get(i)).copied().unwrap_or(0)).collect()),
        )
}

/// Entered and won deals per day of the period.
pub fn daily_chart(points: &[DailyPoint], t: &FunnelTexts) -> Chart {
    base(Trigger::Axis)
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
    let won = won_index(&report.current);
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
                {report.managers.into_iter().map(|m| view! {
                    <tr>
                        <th scope="row">{m.name.clone()}</th>
                        <td class="num">{m.deals.first().copied().unwrap_or(0)}</td>
                        <td class="num">{won.and_then(|i| m.deals.get(i)).copied().unwrap_or(0)}</td>
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
