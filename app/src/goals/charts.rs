//! The goal page's chart: the plan line against the fact line day by day,
//! and the same figures as a table.

use charming::component::Axis;
use charming::element::{AxisType, LineStyle, LineStyleType, Trigger};
use charming::series::Line;
use charming::Chart;
use leptos::prelude::*;

use super::page::{value_text, GoalTexts};
use super::{DayPoint, GoalMetric};
use crate::charts::axis_chart;
use crate::funnel::day_text;

/// A value as the chart's axis reads it: roubles for money, minutes for a
/// response time, the count otherwise.
fn axis_value(metric: GoalMetric, value: i64) -> f64 {
    match metric {
        GoalMetric::WonAmount => value as f64 / 100.0,
        GoalMetric::FirstResponse => value as f64 / 60_000.0,
        _ => value as f64,
    }
}

/// The plan as a dashed line over the whole period; the fact as a solid line
/// up to today (days still ahead have none).
pub fn dynamics_chart(points: &[DayPoint], metric: GoalMetric, gt: &GoalTexts) -> Chart {
    let fact: Vec<f64> = points.iter().map_while(|p| p.fact).map(|v| axis_value(metric, v)).collect();
    axis_chart(Trigger::Axis)
        .x_axis(Axis::new().type_(AxisType::Category).data(points.iter().map(|p| day_text(p.day)).collect()))
        .y_axis(Axis::new().type_(AxisType::Value))
        .series(
            Line::new()
                .name(gt.plan)
                .line_style(LineStyle::new().type_(LineStyleType::Dashed))
                .data(points.iter().map(|p| axis_value(metric, p.plan)).collect()),
        )
        .series(Line::new().name(gt.fact).data(fact))
}

#[component]
pub fn DynamicsTable(
    points: Vec<DayPoint>,
    metric: GoalMetric,
    gt: &'static GoalTexts,
    lang: &'static str,
) -> impl IntoView {
    view! {
        <table>
            <thead>
                <tr>
                    <th scope="col">{gt.day}</th>
                    <th scope="col" class="num">{gt.plan}</th>
                    <th scope="col" class="num">{gt.fact}</th>
                </tr>
            </thead>
            <tbody>
                {points.into_iter().map(|p| view! {
                    <tr data-day=day_text(p.day)>
                        <th scope="row">{day_text(p.day)}</th>
                        <td class="num">{value_text(metric, Some(p.plan), lang)}</td>
                        <td class="num" data-testid="dynamics-fact">{value_text(metric, p.fact, lang)}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::goals::page::goal_texts;

    #[test]
    fn plan_covers_the_period_and_fact_stops_at_today() {
        let points = [
            DayPoint { day: 20_000, plan: 10_000, fact: Some(5_000) },
            DayPoint { day: 20_001, plan: 20_000, fact: Some(25_000) },
            DayPoint { day: 20_002, plan: 30_000, fact: None },
        ];
        let option = crate::charts::echarts_option(&dynamics_chart(&points, GoalMetric::WonAmount, goal_texts("en")));
        assert_eq!(option["xAxis"]["data"].as_array().map(Vec::len), Some(3));
        assert_eq!(option["series"][0]["name"], "Plan");
        assert_eq!(option["series"][0]["data"], serde_json::json!([100.0, 200.0, 300.0]));
        assert_eq!(option["series"][1]["name"], "Actual");
        assert_eq!(option["series"][1]["data"], serde_json::json!([50.0, 250.0]));
    }

    #[test]
    fn response_times_are_drawn_in_minutes() {
        let points = [DayPoint { day: 1, plan: 15 * 60_000, fact: Some(90_000) }];
        let option =
            crate::charts::echarts_option(&dynamics_chart(&points, GoalMetric::FirstResponse, goal_texts("ru")));
        assert_eq!(option["series"][0]["data"], serde_json::json!([15.0]));
        assert_eq!(option["series"][1]["data"], serde_json::json!([1.5]));
    }
}
