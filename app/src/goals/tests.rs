//! Goal arithmetic on hand-worked examples, and properties over random input.

#![allow(clippy::inconsistent_digit_grouping)] // Money reads as roubles_kopecks: 150_000_00.

use proptest::prelude::*;

use super::*;
use crate::funnel::{day_of_date, parse_day};

fn day(text: &str) -> Day {
    parse_day(text).unwrap()
}

fn period(from: &str, to: &str) -> Period {
    Period { from: day(from), to: day(to) }
}

#[test]
fn calendar_periods_hold_the_day() {
    // 2026-12-01 is a Tuesday.
    let d = day("2026-12-01");
    assert_eq!(calendar_period(PeriodKind::Day, d), Some(period("2026-12-01", "2026-12-01")));
    assert_eq!(calendar_period(PeriodKind::Week, d), Some(period("2026-11-30", "2026-12-06")));
    assert_eq!(calendar_period(PeriodKind::Month, d), Some(period("2026-12-01", "2026-12-31")));
    assert_eq!(calendar_period(PeriodKind::Quarter, d), Some(period("2026-10-01", "2026-12-31")));
    assert_eq!(calendar_period(PeriodKind::Year, d), Some(period("2026-01-01", "2026-12-31")));
    assert_eq!(calendar_period(PeriodKind::Custom, d), None);
    assert_eq!(calendar_period(PeriodKind::Month, day("2028-02-10")), Some(period("2028-02-01", "2028-02-29")));
}

#[test]
fn recurrence_walks_months_of_every_length() {
    let mut p = period("2026-01-01", "2026-01-31");
    let mut seen = Vec::new();
    for _ in 0..4 {
        p = next_period(PeriodKind::Month, p);
        seen.push((crate::funnel::day_text(p.from), p.days()));
    }
    assert_eq!(
        seen,
        vec![
            ("2026-02-01".to_string(), 28),
            ("2026-03-01".to_string(), 31),
            ("2026-04-01".to_string(), 30),
            ("2026-05-01".to_string(), 31)
        ]
    );
    assert_eq!(next_period(PeriodKind::Month, period("2027-12-01", "2027-12-31")), period("2028-01-01", "2028-01-31"));
    assert_eq!(
        next_period(PeriodKind::Quarter, period("2026-10-01", "2026-12-31")),
        period("2027-01-01", "2027-03-31")
    );
    assert_eq!(next_period(PeriodKind::Week, period("2026-11-30", "2026-12-06")), period("2026-12-07", "2026-12-13"));
    assert_eq!(next_period(PeriodKind::Year, period("2027-01-01", "2027-12-31")), period("2028-01-01", "2028-12-31"));
    // Custom periods repeat their length right after.
    assert_eq!(next_period(PeriodKind::Custom, period("2026-01-10", "2026-01-19")), period("2026-01-20", "2026-01-29"));
}

#[test]
fn progress_pace_and_forecast_on_a_worked_example() {
    // 10 days into a 30-day month, 400 000 ₽ of a 1 000 000 ₽ plan.
    let s = Standing { value: Some(400_000_00), target: 1_000_000_00, elapsed: 1.0 / 3.0 };
    assert_eq!(s.percent(Direction::Higher), Some(40));
    assert_eq!(s.expected_now(GoalMetric::WonAmount), 333_333_33);
    assert_eq!(s.run_rate(GoalMetric::WonAmount), Some(1_200_000_00));
    assert_eq!(s.outlook(GoalMetric::WonAmount, Direction::Higher), Outlook::OnTrack);
    // 250 000 ₽ runs at 750 000 ₽: 75 % of the plan, below the 80 % line.
    let slow = Standing { value: Some(250_000_00), ..s };
    assert_eq!(slow.run_rate(GoalMetric::WonAmount), Some(750_000_00));
    assert_eq!(slow.outlook(GoalMetric::WonAmount, Direction::Higher), Outlook::Behind);
    // 300 000 ₽ runs at 900 000 ₽: 90 %, at risk.
    let close = Standing { value: Some(300_000_00), ..s };
    assert_eq!(close.outlook(GoalMetric::WonAmount, Direction::Higher), Outlook::AtRisk);
    let done = Standing { value: Some(1_000_000_00), ..s };
    assert_eq!(done.outlook(GoalMetric::WonAmount, Direction::Higher), Outlook::Achieved);
    assert_eq!(done.percent(Direction::Higher), Some(100));
}

#[test]
fn lower_is_better_goals() {
    // First response: 15 minutes wanted, 12 minutes now.
    let minute = 60_000;
    let s = Standing { value: Some(12 * minute), target: 15 * minute, elapsed: 0.5 };
    assert_eq!(s.percent(Direction::Lower), Some(125));
    assert_eq!(s.run_rate(GoalMetric::FirstResponse), Some(12 * minute), "an average does not extrapolate");
    assert_eq!(s.outlook(GoalMetric::FirstResponse, Direction::Lower), Outlook::OnTrack);
    assert_eq!(s.expected_now(GoalMetric::FirstResponse), 15 * minute, "an average's plan is its target all along");
    let slow = Standing { value: Some(20 * minute), ..s };
    assert_eq!(slow.percent(Direction::Lower), Some(75));
    assert_eq!(slow.outlook(GoalMetric::FirstResponse, Direction::Lower), Outlook::Behind);
    // 16 minutes is within 15 / 80 % = 18.75: at risk, and an average can still come back.
    let close = Standing { value: Some(16 * minute), ..s };
    assert_eq!(close.outlook(GoalMetric::FirstResponse, Direction::Lower), Outlook::AtRisk);
    assert_eq!(final_status(Some(15 * minute), 15 * minute, Direction::Lower), GoalStatus::Achieved);
    assert_eq!(final_status(Some(15 * minute + 1), 15 * minute, Direction::Lower), GoalStatus::Missed);
    assert_eq!(
        final_status(None, 15 * minute, Direction::Lower),
        GoalStatus::Missed,
        "no leads answered proves nothing"
    );
    // A count that should stay low (at most 10 lost deals): 4 at mid-period runs at 8.
    let lost = Standing { value: Some(4), target: 10, elapsed: 0.5 };
    assert_eq!(lost.outlook(GoalMetric::DealsWon, Direction::Lower), Outlook::OnTrack);
    // 6 runs at 12, within 10 / 80 % = 12.5: at risk; 7 runs at 14: behind.
    let some = Standing { value: Some(6), target: 10, elapsed: 0.5 };
    assert_eq!(some.outlook(GoalMetric::DealsWon, Direction::Lower), Outlook::AtRisk);
    let many = Standing { value: Some(7), target: 10, elapsed: 0.5 };
    assert_eq!(many.outlook(GoalMetric::DealsWon, Direction::Lower), Outlook::Behind);
    let edge = Standing { value: Some(5), target: 10, elapsed: 0.45 };
    assert_eq!(edge.run_rate(GoalMetric::DealsWon), Some(11));
    assert_eq!(edge.outlook(GoalMetric::DealsWon, Direction::Lower), Outlook::AtRisk);
}

#[test]
fn averages_round_half_up_and_nothing_is_no_figure() {
    assert_eq!(Tally { sum: 5, n: 2 }.value(GoalMetric::FirstResponse), Some(3));
    assert_eq!(Tally { sum: 4, n: 3 }.value(GoalMetric::FirstResponse), Some(1));
    assert_eq!(Tally { sum: 0, n: 0 }.value(GoalMetric::FirstResponse), None);
    assert_eq!(Tally { sum: 0, n: 0 }.value(GoalMetric::DealsWon), Some(0));
    assert_eq!(Tally { sum: 700_00, n: 3 }.value(GoalMetric::WonAmount), Some(700_00));
}

#[test]
fn milestones_fire_once_each() {
    assert_eq!(milestones_reached(Some(49)), Vec::<i64>::new());
    assert_eq!(milestones_reached(Some(80)), vec![50, 75]);
    assert_eq!(milestones_reached(Some(100)), vec![50, 75, 100]);
    assert_eq!(milestones_reached(Some(140)), vec![50, 75, 100]);
    assert_eq!(milestones_reached(None), Vec::<i64>::new());
}

#[test]
fn splits_add_up_exactly() {
    assert_eq!(split(100, SplitMode::Even, &[0, 0, 0]), Ok(vec![34, 33, 33]));
    assert_eq!(split(1_000_000_00, SplitMode::Even, &[1; 3]), Ok(vec![333_333_34, 333_333_33, 333_333_33]));
    // Weights 1:2:3 of 100: 16.67, 33.33, 50 → the largest remainder (.67) takes the spare unit.
    assert_eq!(split(100, SplitMode::Weights, &[1, 2, 3]), Ok(vec![17, 33, 50]));
    assert_eq!(split(10, SplitMode::Weights, &[0, 5]), Ok(vec![0, 10]));
    assert_eq!(split(10, SplitMode::Weights, &[0, 0]), Err("weights"));
    assert_eq!(split(10, SplitMode::Weights, &[-1, 2]), Err("weights"));
    assert_eq!(split(10, SplitMode::Manual, &[3, 3]), Ok(vec![3, 3]), "by hand may not add up; the parent warns");
    assert_eq!(split(10, SplitMode::Even, &[]), Err("parts"));
}

#[test]
fn ranking_shares_places_and_follows_direction() {
    let row = |id: i64, name: &str, value: Option<i64>, target: Option<i64>| Ranked {
        rank: 0,
        user_id: id,
        name: name.into(),
        value,
        target,
        percent: target.and_then(|t| Standing { value, target: t, elapsed: 0.0 }.percent(Direction::Higher)),
    };
    let by_value = rank(
        vec![
            row(1, "Анна", Some(5), None),
            row(2, "Борис", Some(9), None),
            row(3, "Вера", Some(5), None),
            row(4, "Глеб", None, None),
        ],
        Direction::Higher,
    );
    let places: Vec<(i64, i64)> = by_value.iter().map(|r| (r.user_id, r.rank)).collect();
    assert_eq!(places, vec![(2, 1), (1, 2), (3, 2), (4, 4)]);
    // Own targets: 5 of 5 beats 9 of 20.
    let by_percent =
        rank(vec![row(1, "Анна", Some(5), Some(5)), row(2, "Борис", Some(9), Some(20))], Direction::Higher);
    assert_eq!(by_percent[0].user_id, 1);
    let lower = rank(vec![row(1, "Анна", Some(5), None), row(2, "Борис", Some(3), None)], Direction::Lower);
    assert_eq!(lower[0].user_id, 2);
}

#[test]
fn plan_line_and_running_fact() {
    let p = period("2026-02-01", "2026-02-04");
    let days = [Tally { sum: 1, n: 1 }, Tally::default(), Tally { sum: 2, n: 2 }];
    let points = dynamics(GoalMetric::DealsWon, 10, p, &days, day("2026-02-03"));
    let plan: Vec<i64> = points.iter().map(|d| d.plan).collect();
    let fact: Vec<Option<i64>> = points.iter().map(|d| d.fact).collect();
    assert_eq!(plan, vec![2, 5, 7, 10]);
    assert_eq!(fact, vec![Some(1), Some(1), Some(3), None], "days ahead have no fact yet");
    let averages =
        dynamics(GoalMetric::FirstResponse, 60, p, &[Tally { sum: 30, n: 1 }, Tally { sum: 90, n: 1 }], p.to);
    assert_eq!(averages.iter().map(|d| d.fact).collect::<Vec<_>>(), vec![Some(30), Some(60), Some(60), Some(60)]);
    assert!(averages.iter().all(|d| d.plan == 60));
}

#[test]
fn filters_fit_the_metric() {
    let source = GoalFilters { source: Some("website".into()), ..GoalFilters::default() };
    let stage = GoalFilters { stage_id: Some(1), ..GoalFilters::default() };
    let manager = GoalFilters { manager_id: Some(1), ..GoalFilters::default() };
    assert_eq!(GoalMetric::LeadsCreated.accepts(&source), Ok(()));
    assert_eq!(GoalMetric::DealsWon.accepts(&stage), Ok(()));
    assert_eq!(GoalMetric::Calls.accepts(&source), Err("source"));
    assert_eq!(GoalMetric::LeadsCreated.accepts(&stage), Err("stage"));
    assert_eq!(GoalMetric::Manual.accepts(&manager), Err("responsible"));
    assert_eq!(GoalMetric::Meetings.accepts(&manager), Ok(()));
}

proptest! {
    /// Even and weighted splits always give back the whole target, and no
    /// part strays more than one unit from its exact share.
    #[test]
    fn splits_are_exact(target in 0i64..1_000_000_000_000, weights in prop::collection::vec(0i64..1_000, 1..30)) {
        prop_assume!(weights.iter().any(|w| *w > 0));
        let parts = split(target, SplitMode::Weights, &weights).unwrap();
        prop_assert_eq!(parts.iter().sum::<i64>(), target);
        let total: i64 = weights.iter().sum();
        for (part, w) in parts.iter().zip(&weights) {
            let exact = target as f64 * *w as f64 / total as f64;
            prop_assert!((*part as f64 - exact).abs() <= 1.0 + 1e-6 * exact.abs());
        }
        let even = split(target, SplitMode::Even, &weights).unwrap();
        prop_assert_eq!(even.iter().sum::<i64>(), target);
        prop_assert!(even.iter().max().unwrap() - even.iter().min().unwrap() <= 1);
    }

    /// Recurring periods tile the calendar: each starts the day after the
    /// last ended, and each is the calendar unit holding its first day.
    #[test]
    fn renewals_tile_the_calendar(start in 0i32..40_000, kind in 0usize..5, steps in 1usize..30) {
        let kind = [PeriodKind::Day, PeriodKind::Week, PeriodKind::Month, PeriodKind::Quarter, PeriodKind::Year][kind];
        let mut p = calendar_period(kind, start).unwrap();
        for _ in 0..steps {
            let next = next_period(kind, p);
            prop_assert_eq!(next.from, p.to + 1);
            prop_assert_eq!(Some(next), calendar_period(kind, next.from));
            p = next;
        }
    }

    /// The running fact on the last day is the tally of the whole period,
    /// and the plan ends at the target.
    #[test]
    fn dynamics_end_at_the_totals(values in prop::collection::vec((0i64..1_000, 0i64..5), 1..40), target in 1i64..100_000) {
        let days: Vec<Tally> = values.iter().map(|(sum, n)| Tally { sum: *sum, n: *n }).collect();
        let p = Period { from: day_of_date(jiff::civil::date(2026, 1, 1)), to: day_of_date(jiff::civil::date(2026, 1, 1)) + days.len() as i32 - 1 };
        let points = dynamics(GoalMetric::WonAmount, target, p, &days, p.to);
        let mut total = Tally::default();
        for d in &days {
            total += *d;
        }
        prop_assert_eq!(points.last().unwrap().fact, total.value(GoalMetric::WonAmount));
        prop_assert_eq!(points.last().unwrap().plan, target);
        prop_assert!(points.windows(2).all(|w| w[0].plan <= w[1].plan));
    }
}

#[test]
fn history_rows_read_as_the_form_names_things() {
    use crate::i18n::Locale;
    let change = |field: &str, before: &str, after: &str| GoalChange {
        at: 0,
        actor: "head".into(),
        field: field.into(),
        before: before.into(),
        after: after.into(),
    };
    let (gt, t) = (page::goal_texts("ru"), Locale::Ru.texts());
    let money = [GoalMetric::WonAmount; 2];
    let line = |c: GoalChange| page::history_line(&c, money, gt, t);
    let row = |a: &str, b: &str, c: &str| [a.to_string(), b.to_string(), c.to_string()];
    let rubles = |kopecks: i64| crate::pipeline::format_rubles(kopecks);
    assert_eq!(line(change("target", "60000", "90000")), row("Целевое значение", &rubles(600_00), &rubles(900_00)));
    assert_eq!(line(change("created", "", "60000")), row("Создана", "", &rubles(600_00)));
    assert_eq!(line(change("closed", "missed", "0")), row("Закрыта", "Не достигнута", &rubles(0)));
    let all_rules = "Этапы 50/75/100 %, Риск невыполнения, Приближение срока, Ежедневная сводка руководителю";
    assert_eq!(
        line(change("notify", "true true true true", "false true false false")),
        row("Уведомления", all_rules, "Риск невыполнения")
    );
    assert_eq!(line(change("notify", "true false true false", "false false false false"))[2], "—");
    assert_eq!(line(change("risk_after", "30", "60")), row("Предупреждать о риске после, % периода", "30 %", "60 %"));
    assert_eq!(line(change("recurring", "false", "true")), row("Повторять каждый период", "нет", "да"));
    assert_eq!(line(change("metric", "deals_won", "won_amount")), row("Что считаем", gt.metrics[2], gt.metrics[3]));
    assert_eq!(
        line(change("period", "month 2026-12-01…2026-12-31", "week 2026-12-07…2026-12-13")),
        row("Период", "Месяц 2026-12-01…2026-12-31", "Неделя 2026-12-07…2026-12-13")
    );
    assert_eq!(line(change("participants", "Отдел А", "company")), row("Участники", "Отдел А", "Вся компания"));
    // What the page does not know is shown as stored, never hidden.
    assert_eq!(line(change("something_new", "a", "b")), row("something_new", "a", "b"));
}

#[test]
fn each_history_row_is_read_in_the_unit_of_its_time() {
    let at = |at: i64, field: &str, before: &str, after: &str| GoalChange {
        at,
        actor: "head".into(),
        field: field.into(),
        before: before.into(),
        after: after.into(),
    };
    // Newest first: a count of 10 deals became 500 000 ₽ of revenue in one edit, then 600 000 ₽.
    let history = [
        at(3, "target", "50000000", "60000000"),
        at(2, "target", "10", "50000000"),
        at(2, "metric", "deals_won", "won_amount"),
        at(1, "created", "", "10"),
    ];
    use GoalMetric::{DealsWon, WonAmount};
    let metrics = page::history_metrics(&history, WonAmount);
    assert_eq!(metrics, [[WonAmount, WonAmount], [DealsWon, WonAmount], [DealsWon, WonAmount], [DealsWon, DealsWon]]);
    let (gt, t) = (page::goal_texts("ru"), crate::i18n::Locale::Ru.texts());
    let edit = page::history_line(&history[1], metrics[1], gt, t);
    assert_eq!(edit[1..], ["10".to_string(), crate::pipeline::format_rubles(500_000_00)]);
    assert_eq!(page::history_line(&history[3], metrics[3], gt, t)[2], "10");
}

#[test]
fn the_dashboard_csv_writes_each_goal_in_its_own_unit() {
    let goal = |metric: GoalMetric, target: i64| Goal {
        id: 1,
        parent_id: None,
        name: "План, декабрь".into(),
        description: String::new(),
        metric,
        direction: if metric == GoalMetric::FirstResponse { Direction::Lower } else { Direction::Higher },
        target,
        period_kind: PeriodKind::Month,
        period: Period { from: 20_423, to: 20_453 },
        recurring: false,
        participants: Participants { kind: ParticipantKind::Company, user_id: None, department_id: None },
        participant_name: String::new(),
        filters: GoalFilters::default(),
        notify: Notify::default(),
        status: GoalStatus::Active,
        final_value: None,
        version: 0,
        created_by: 1,
        created_at: 0,
    };
    let card = |goal: Goal, value: i64| GoalCard {
        standing: Standing { value: Some(value), target: goal.target, elapsed: 0.5 },
        percent: Some(value * 100 / goal.target),
        expected_now: goal.target / 2,
        forecast: Some(value * 2),
        weighted_forecast: None,
        outlook: Outlook::OnTrack,
        days_left: 15,
        previous_value: None,
        children: vec![],
        children_mismatch: false,
        editable: false,
        may_record: false,
        goal,
    };
    let dashboard = GoalsDashboard {
        cards: vec![
            card(goal(GoalMetric::WonAmount, 1_000_000_00), 600_000_50),
            card(goal(GoalMetric::FirstResponse, 900_000), 600_000),
        ],
        may_create: false,
        computed_at: 0,
    };
    let text = page::goals_csv(&dashboard, page::goal_texts("ru"));
    let lines: Vec<&str> = text.trim_start_matches('\u{feff}').split("\r\n").collect();
    assert_eq!(lines[0], "Название,Участники,Что считаем,Единица,Дата начала,Дата окончания,Значение,Целевое значение,Выполнение,По плану на сегодня,Прогноз,Прогноз с воронкой,Оценка,Осталось дней,Прошлый период");
    let money = format!("\"План, декабрь\",Вся компания,{},₽,2025-12-01,2025-12-31,600000.50,1000000.00,60,500000.00,1200001.00,,{},15,", page::goal_texts("ru").metrics[3], page::goal_texts("ru").outlooks[1]);
    assert_eq!(lines[1], money);
    assert!(lines[2].contains(",мин,") && lines[2].contains(",10.0,15.0,"), "{}", lines[2]);
    assert_eq!(lines.len(), 4, "a line per goal and the closing line break");
}
