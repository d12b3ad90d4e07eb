use proptest::prelude::*;

use super::*;

fn row(user: i64, department: Option<i64>, won: i64) -> KpiRow {
    KpiRow {
        user_id: Some(user),
        department_id: department,
        name: format!("p{user}"),
        current: KpiCounts { won, ..KpiCounts::default() },
        previous: KpiCounts { won: won * 2, ..KpiCounts::default() },
    }
}

#[test]
fn formulas_on_a_worked_example() {
    // 3 won deals of 100, 200 and 301 ₽ over 2, 4 and 6 days; one of them repeat; 1 lost.
    let c = KpiCounts {
        won: 3,
        revenue: 60_100,
        cycle_ms: 12 * 86_400_000,
        repeat_won: 1,
        lost: 1,
        leads: 8,
        leads_converted: 2,
        leads_answered: 4,
        response_ms: 4 * 600_000 + 2,
        calls_in: 2,
        calls_out: 5,
        csat_rated: 2,
        csat_sum: 9,
        nps_rated: 4,
        promoters: 2,
        detractors: 1,
        ..KpiCounts::default()
    };
    assert_eq!(c.lead_conversion(), Some(0.25));
    assert_eq!(c.win_rate(), Some(0.75));
    assert_eq!(c.average_cycle_days(), Some(4.0));
    // 601 ₽ / 3 = 200.333… ₽ → 20 033 kopecks.
    assert_eq!(c.average_deal(), Some(20_033));
    assert_eq!(c.repeat_share(), Some(1.0 / 3.0));
    // Integer milliseconds: 2 400 002 / 4.
    assert_eq!(c.average_response_ms(), Some(600_000));
    assert_eq!(c.calls(), 7);
    assert_eq!(c.csat(), Some(4.5));
    // (2 − 1) / 4 = 25.
    assert_eq!(c.nps(), Some(25.0));
}

#[test]
fn nothing_to_divide_by_is_no_figure_not_zero() {
    let c = KpiCounts::default();
    assert_eq!(c.lead_conversion(), None);
    assert_eq!(c.win_rate(), None);
    assert_eq!(c.average_cycle_days(), None);
    assert_eq!(c.average_deal(), None);
    assert_eq!(c.repeat_share(), None);
    assert_eq!(c.average_response_ms(), None);
    assert_eq!(c.csat(), None);
    assert_eq!(c.nps(), None);
}

#[test]
fn average_deal_rounds_half_up() {
    let c = KpiCounts { won: 2, revenue: 3, ..KpiCounts::default() };
    assert_eq!(c.average_deal(), Some(2));
    let c = KpiCounts { won: 4, revenue: 5, ..KpiCounts::default() };
    assert_eq!(c.average_deal(), Some(1));
}

#[test]
fn nps_runs_from_all_detractors_to_all_promoters() {
    let all_bad = KpiCounts { nps_rated: 3, detractors: 3, ..KpiCounts::default() };
    let all_good = KpiCounts { nps_rated: 3, promoters: 3, ..KpiCounts::default() };
    assert_eq!(all_bad.nps(), Some(-100.0));
    assert_eq!(all_good.nps(), Some(100.0));
}

#[test]
fn departments_sum_their_people_only() {
    let people = vec![row(1, Some(10), 1), row(2, Some(10), 2), row(3, Some(20), 5), row(4, None, 7)];
    let names = vec![(10, "A".to_string()), (20, "B".to_string()), (30, "Empty".to_string())];
    let sums = department_sums(&people, &names);
    assert_eq!(sums.len(), 2, "a department without people in the table has no row");
    assert_eq!((sums[0].name.as_str(), sums[0].current.won, sums[0].previous.won), ("A", 3, 6));
    assert_eq!((sums[1].name.as_str(), sums[1].current.won), ("B", 5));
    assert!(sums.iter().all(|s| s.user_id.is_none()));
}

fn counts() -> impl Strategy<Value = KpiCounts> {
    (prop::array::uniform16(0i64..1_000), 0i64..1_000_000_000, 0i64..1_000).prop_map(|(a, revenue, created)| {
        KpiCounts {
            won: a[0],
            revenue,
            cycle_ms: a[1] * 3_600_000,
            repeat_won: a[2].min(a[0]),
            lost: a[3],
            deals_created: created,
            leads: a[4],
            leads_converted: a[5].min(a[4]),
            leads_answered: a[6].min(a[4]),
            response_ms: a[7] * 1000,
            leads_processed: a[8],
            new_clients: a[9],
            calls_in: a[10],
            calls_out: a[11],
            meetings: a[12],
            proposals: a[13],
            chats: a[14],
            csat_rated: a[15],
            csat_sum: a[15] * 3,
            nps_rated: a[15],
            promoters: a[15] / 2,
            detractors: a[15] / 3,
        }
    })
}

proptest! {
    /// Adding people's counts and then dividing gives the department's
    /// figure: the weighted average, never an average of averages.
    #[test]
    fn sums_then_ratios(parts in prop::collection::vec(counts(), 1..8)) {
        let mut total = KpiCounts::default();
        for p in &parts {
            total += p;
        }
        let won: i64 = parts.iter().map(|p| p.won).sum();
        let converted: i64 = parts.iter().map(|p| p.leads_converted).sum();
        let leads: i64 = parts.iter().map(|p| p.leads).sum();
        prop_assert_eq!(total.won, won);
        prop_assert_eq!(total.lead_conversion(), (leads > 0).then(|| converted as f64 / leads as f64));
        if let Some(share) = total.repeat_share() {
            prop_assert!((0.0..=1.0).contains(&share));
        }
        if let Some(nps) = total.nps() {
            prop_assert!((-100.0..=100.0).contains(&nps));
        }
        if let (Some(avg), true) = (total.average_deal(), total.won > 0) {
            // Within half a kopeck of the exact average.
            prop_assert!(((avg as f64) - total.revenue as f64 / total.won as f64).abs() <= 0.5);
        }
    }
}

mod shares {
    use super::super::shares::*;
    use super::*;
    use crate::pipeline::{ActivityKind, LeadStatus, StageKind};

    const DAY: i64 = 86_400_000;
    /// Days in UTC, so a worked example reads in whole days.
    fn day(ms: i64) -> crate::funnel::Day {
        ms.div_euclid(DAY) as crate::funnel::Day
    }

    fn deal(kind: StageKind, closed_at: Option<i64>) -> DealFacts {
        DealFacts {
            responsible_id: 7,
            stage_kind: kind,
            amount: 10_000,
            created_at: 10 * DAY,
            closed_at,
            repeat_client: true,
            csat: Some(4),
            nps: Some(9),
        }
    }

    #[test]
    fn a_deal_counts_when_created_and_once_closed_on_its_closing_day() {
        let created = KpiShare { user_id: 7, day: 10, counts: KpiCounts { deals_created: 1, ..KpiCounts::default() } };
        assert_eq!(deal_shares(&deal(StageKind::Open, None), day), vec![created]);
        let won = deal_shares(&deal(StageKind::Won, Some(13 * DAY + 5)), day);
        assert_eq!((won.len(), won[0]), (2, created));
        assert_eq!((won[1].user_id, won[1].day), (7, 13));
        let expected = KpiCounts {
            won: 1,
            revenue: 10_000,
            cycle_ms: 3 * DAY + 5,
            repeat_won: 1,
            csat_rated: 1,
            csat_sum: 4,
            nps_rated: 1,
            promoters: 1,
            ..KpiCounts::default()
        };
        assert_eq!(won[1].counts, expected);
        // Lost: no revenue, cycle or repeat sale; the client's scores still count.
        let lost = deal_shares(&DealFacts { nps: Some(6), ..deal(StageKind::Lost, Some(12 * DAY)) }, day);
        let expected =
            KpiCounts { lost: 1, csat_rated: 1, csat_sum: 4, nps_rated: 1, detractors: 1, ..KpiCounts::default() };
        assert_eq!((lost.len(), lost[1].day, lost[1].counts), (2, 12, expected));
        // Closed the day it was created: two shares of the same day, which the roll-up adds.
        let same_day = deal_shares(&deal(StageKind::Lost, Some(10 * DAY + 1)), day);
        assert_eq!(same_day.iter().map(|s| s.day).collect::<Vec<_>>(), [10, 10]);
    }

    #[test]
    fn a_lead_counts_when_it_came_and_when_it_was_answered() {
        let lead =
            LeadFacts { responsible_id: None, status: LeadStatus::New, created_at: 5 * DAY, first_response_at: None };
        let shares = lead_shares(&lead, day);
        assert_eq!(shares.len(), 1);
        assert_eq!((shares[0].user_id, shares[0].day, shares[0].counts.leads), (0, 5, 1));
        let answered = LeadFacts {
            responsible_id: Some(3),
            status: LeadStatus::Qualified,
            first_response_at: Some(6 * DAY + 60_000),
            ..lead
        };
        let shares = lead_shares(&answered, day);
        let came = KpiCounts {
            leads: 1,
            leads_converted: 1,
            leads_answered: 1,
            response_ms: DAY + 60_000,
            ..KpiCounts::default()
        };
        let processed = KpiCounts { leads_processed: 1, ..KpiCounts::default() };
        assert_eq!(
            shares,
            vec![KpiShare { user_id: 3, day: 5, counts: came }, KpiShare { user_id: 3, day: 6, counts: processed }]
        );
    }

    #[test]
    fn calls_count_from_the_threshold_and_notes_never() {
        let call = |kind, duration_s| ActivityFacts { user_id: 2, kind, at: DAY, duration_s };
        let counted = |a: &ActivityFacts, threshold| activity_share(a, threshold, day).map(|s| s.counts);
        assert_eq!(counted(&call(ActivityKind::CallIn, Some(30)), 30).map(|c| c.calls_in), Some(1));
        assert_eq!(counted(&call(ActivityKind::CallOut, Some(29)), 30), None);
        assert_eq!(counted(&call(ActivityKind::CallOut, None), 0), None, "a call without a length never counts");
        assert_eq!(counted(&call(ActivityKind::CallOut, Some(0)), 0).map(|c| c.calls_out), Some(1));
        assert_eq!(counted(&call(ActivityKind::Meeting, None), 30).map(|c| c.meetings), Some(1));
        assert_eq!(counted(&call(ActivityKind::Note, Some(100)), 0), None);
        let client = client_share(None, 2 * DAY, day);
        assert_eq!((client.user_id, client.day, client.counts.new_clients), (0, 2, 1));
    }

    #[test]
    fn changes_net_out_per_person_and_day() {
        let share = |user_id, day, won| KpiShare { user_id, day, counts: KpiCounts { won, ..KpiCounts::default() } };
        // Handed over from 1 to 2 on the same day; a share that stays is no change.
        let before = [share(1, 10, 1), share(3, 4, 1)];
        let after = [share(2, 10, 1), share(3, 4, 1)];
        let won = |w| KpiCounts { won: w, ..KpiCounts::default() };
        assert_eq!(share_changes(&before, &after), vec![((1, 10), won(-1)), ((2, 10), won(1))]);
        assert_eq!(share_changes(&before, &before), vec![]);
    }

    #[test]
    fn counts_round_trip_through_the_roll_up_columns() {
        let c = KpiCounts { won: 1, detractors: 21, chats: 16, ..KpiCounts::default() };
        assert_eq!(KpiCounts::COLUMNS.len(), c.values().len());
        assert_eq!(KpiCounts::from_values(&c.values()), c);
        assert_eq!(KpiCounts::COLUMNS[0], "won");
        let mut d = c;
        d -= &c;
        assert_eq!(d, KpiCounts::default());
    }
}

#[test]
fn the_chart_reads_each_kpi_in_its_unit() {
    use page::METRICS;
    let metric = |id: &str| METRICS.iter().find(|m| m.id == id).unwrap();
    let c = KpiCounts {
        won: 3,
        revenue: 60_199,
        leads: 3,
        leads_converted: 2,
        leads_answered: 2,
        response_ms: 2 * 90_000 + 6_000,
        cycle_ms: 7 * 86_400_000,
        ..KpiCounts::default()
    };
    assert_eq!(chart::chart_value(metric("won"), &c), Some(3.0));
    // 601.99 ₽ reads 601 ₽ on the page; the bar is as long.
    assert_eq!(chart::chart_value(metric("revenue"), &c), Some(601.0));
    // 2 of 3 leads: 66.7 %.
    assert_eq!(chart::chart_value(metric("lead-conversion"), &c), Some(66.7));
    // 93 s on average: 1.6 minutes.
    assert_eq!(chart::chart_value(metric("first-response"), &c), Some(1.6));
    // 7 days over 3 deals: 2.3 days.
    assert_eq!(chart::chart_value(metric("cycle"), &c), Some(2.3));
    // Nothing to divide by: no bar rather than a bar of 0.
    assert_eq!(chart::chart_value(metric("csat"), &c), None);
    assert_eq!(chart::chart_title(1, &page::RU), "Выручка по сотрудникам, ₽");
    assert_eq!(chart::chart_title(0, &page::EN), "Deals won per person");
    assert_eq!(chart::chart_title(9, &page::RU), "Время первого ответа по сотрудникам, мин");
}

#[test]
fn the_chart_draws_every_person_now_and_before_in_table_order() {
    use serde_json::json;
    let report = KpiReport {
        from_text: String::new(),
        to_text: String::new(),
        previous_from_text: String::new(),
        previous_to_text: String::new(),
        current: KpiCounts::default(),
        previous: KpiCounts::default(),
        people: vec![row(1, Some(1), 4), row(2, Some(1), 0), row(3, None, 7)],
        departments: vec![],
        call_threshold_s: 30,
        may_configure: false,
        computed_at: 0,
    };
    let option = crate::charts::echarts_option(&chart::people_chart(
        &report,
        0,
        &page::RU,
        crate::funnel::page::funnel_texts("ru"),
    ));
    // Drawn bottom-up, so the list is reversed to read top-down like the table.
    assert_eq!(option["yAxis"]["data"], json!(["p3", "p2", "p1"]));
    assert_eq!(option["series"][0]["name"], "Этот период");
    assert_eq!(option["series"][0]["data"], json!([7.0, 0.0, 4.0]));
    assert_eq!(option["series"][1]["data"], json!([14.0, 0.0, 8.0]));
    // A share nobody can have (no deals closed) is a gap, not a zero.
    let rates = crate::charts::echarts_option(&chart::people_chart(
        &report,
        3,
        &page::RU,
        crate::funnel::page::funnel_texts("ru"),
    ));
    assert_eq!(rates["series"][0]["data"][1], json!(null));
}
