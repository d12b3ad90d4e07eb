use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;

const H: i64 = 3_600_000;
const A: StageId = 1;
const B: StageId = 2;
const C: StageId = 3;
const WON: StageId = 4;
const LOST: StageId = 5;

fn stage(id: StageId, position: i32, kind: StageKind) -> Stage {
    Stage {
        id,
        pipeline_id: 1,
        name: format!("s{id}"),
        position,
        kind,
        probability: 50,
        required: false,
        stale_days: 0,
        archived: false,
    }
}

fn steps() -> Steps {
    // Given out of order on purpose: the lost stage sits before won by position.
    Steps::of(&[
        stage(WON, 5, StageKind::Won),
        stage(LOST, 4, StageKind::Lost),
        stage(C, 3, StageKind::Open),
        stage(A, 1, StageKind::Open),
        stage(B, 2, StageKind::Open),
    ])
}

fn utc_day(ms: i64) -> Day {
    ms.div_euclid(crate::pipeline::DAY_MS) as Day
}

fn track(deal_id: DealId, amount: Money, entries: &[(i64, StageId)]) -> Track {
    Track {
        deal_id,
        responsible_id: 10 + deal_id % 2,
        source: "website".into(),
        repeat: false,
        amount,
        created_at: entries[0].0,
        entries: entries.to_vec(),
    }
}

/// Five deals whose figures are worked out by hand in the tests below.
fn histories() -> Vec<Track> {
    vec![
        // Straight through: A 0h, B 10h, C 30h, won 50h.
        track(1, 100, &[(0, A), (10 * H, B), (30 * H, C), (50 * H, WON)]),
        // Jumps A → C, comes back to B, lost from B; furthest step is C.
        track(2, 200, &[(0, A), (5 * H, C), (29 * H, B), (53 * H, LOST)]),
        // Created on day 1, still in A.
        track(3, 300, &[(24 * H, A)]),
        // Created straight into B on day 1, won, then reopened into A.
        track(4, 400, &[(30 * H, B), (40 * H, WON), (60 * H, A)]),
        // Created on day 2, won the same day.
        track(5, 500, &[(50 * H, A), (70 * H, WON)]),
    ]
}

fn totals(deals: i64, amount: Money, lost: i64, time_h: i64, timed: i64, cycle_h: i64) -> Totals {
    Totals { deals, amount, lost, time_ms: time_h * H, timed, cycle_ms: cycle_h * H }
}

fn everyone() -> Scope {
    Scope::default()
}

#[test]
fn steps_are_open_stages_then_won() {
    let s = steps();
    assert_eq!(s.ids, vec![A, B, C, WON]);
    assert_eq!(s.lost, vec![LOST]);
    assert_eq!(s.rank(LOST), None);
}

#[test]
fn cohort_of_day_zero_by_hand() {
    let got =
        naive_totals(&histories(), &steps(), &utc_day, FunnelMode::Cohort, Period { from: 0, to: 0 }, &everyone());
    assert_eq!(
        got,
        vec![
            // Both deals; A was left after 10 h and 5 h.
            totals(2, 300, 0, 15, 2, 0),
            // Deal 2 jumped over B, so it reached B at 5 h; its later visit 29–53 h counts.
            totals(2, 300, 0, 44, 2, 0),
            // Deal 2 was lost with C as its furthest step.
            totals(2, 300, 1, 44, 2, 0),
            // Deal 1 won after 50 h; nobody has left the won stage.
            totals(1, 100, 0, 0, 0, 50),
        ]
    );
}

#[test]
fn flow_of_day_one_by_hand() {
    let got = naive_totals(&histories(), &steps(), &utc_day, FunnelMode::Flow, Period { from: 1, to: 1 }, &everyone());
    assert_eq!(
        got,
        vec![
            // Deals 3 and 4 entered the funnel on day 1 (4 straight into B).
            totals(2, 700, 0, 0, 0, 0),
            // Deal 4 reached B; deal 1 left B (20 h) and deal 4 left B (10 h) on day 1.
            totals(1, 400, 0, 30, 2, 0),
            // Deal 1 reached C at 30 h; deal 2 left C at 29 h after 24 h there.
            totals(1, 100, 0, 24, 1, 0),
            // Deal 4's win was reopened, so it never reached the won step.
            totals(0, 0, 0, 0, 0, 0),
        ]
    );
}

#[test]
fn flow_of_day_two_by_hand() {
    let got = naive_totals(&histories(), &steps(), &utc_day, FunnelMode::Flow, Period { from: 2, to: 2 }, &everyone());
    assert_eq!(
        got,
        vec![
            // Deal 5 entered A and, winning straight from it, passed B and C the same day.
            totals(1, 500, 0, 20, 1, 0),
            totals(1, 500, 0, 24, 1, 0),
            totals(1, 500, 1, 20, 1, 0),
            // Deals 1 and 5 won on day 2 after 50 h and 20 h.
            totals(2, 600, 0, 0, 0, 70),
        ]
    );
}

#[test]
fn reach_of_a_deal_that_came_back() {
    let rows = reach(&histories()[1], &steps(), &utc_day);
    let b = rows.iter().find(|r| r.stage_id == B).unwrap();
    assert_eq!((b.reached_day, b.time_ms, b.left_day), (0, Some(24 * H), Some(2)));
    let c = rows.iter().find(|r| r.stage_id == C).unwrap();
    assert_eq!((c.time_ms, c.lost_day), (Some(24 * H), Some(2)));
    assert_eq!(rows.len(), 3, "a lost deal does not reach the won step");
}

#[test]
fn figures_from_totals() {
    let current =
        naive_totals(&histories(), &steps(), &utc_day, FunnelMode::Cohort, Period { from: 0, to: 2 }, &everyone());
    let figures = FunnelFigures {
        period: Period { from: 0, to: 2 },
        steps: steps()
            .ids
            .iter()
            .zip(current)
            .map(|(id, totals)| StepFigures {
                stage_id: *id,
                name: String::new(),
                kind: if *id == WON { StageKind::Won } else { StageKind::Open },
                totals,
                median_time_ms: None,
            })
            .collect(),
    };
    // All five entered; B: deals 1, 2, 4 and 5 (won straight from A); C: 1, 2, 5; won: 1 and 5.
    assert_eq!(figures.steps.iter().map(|s| s.totals.deals).collect::<Vec<_>>(), vec![5, 4, 3, 2]);
    assert_eq!(figures.from_previous(1), Some(0.8));
    assert_eq!(figures.from_first(3), Some(0.4));
    assert_eq!(figures.dropped(0), Some(1));
    assert_eq!(figures.dropped(3), None);
    assert_eq!(figures.overall(), Some(0.4));
    assert_eq!(figures.average_cycle_ms(), Some(35 * H));
}

#[test]
fn medians() {
    assert_eq!(median(vec![]), None);
    assert_eq!(median(vec![5, 1, 3]), Some(3));
    assert_eq!(median(vec![4, 1, 3, 10]), Some(3));
    assert_eq!(median(vec![1, 2]), Some(1));
}

#[test]
fn previous_period_has_the_same_length() {
    let p = Period { from: 100, to: 109 };
    assert_eq!(p.previous(), Period { from: 90, to: 99 });
    assert_eq!(Period { from: 5, to: 5 }.previous(), Period { from: 4, to: 4 });
}

#[test]
fn presets_follow_the_calendar() {
    let today = parse_day("2026-03-31").unwrap();
    let text = |p: Period| (day_text(p.from), day_text(p.to));
    let period = |preset| text(preset_period(preset, today).unwrap());
    assert_eq!(period(PeriodPreset::LastMonth), ("2026-02-01".into(), "2026-02-28".into()));
    assert_eq!(period(PeriodPreset::ThisMonth), ("2026-03-01".into(), "2026-03-31".into()));
    // 2026-03-31 is a Tuesday.
    assert_eq!(period(PeriodPreset::ThisWeek), ("2026-03-30".into(), "2026-03-31".into()));
    assert_eq!(period(PeriodPreset::LastWeek), ("2026-03-23".into(), "2026-03-29".into()));
    assert_eq!(period(PeriodPreset::ThisQuarter), ("2026-01-01".into(), "2026-03-31".into()));
    assert_eq!(period(PeriodPreset::Last7), ("2026-03-25".into(), "2026-03-31".into()));
    let january = parse_day("2024-01-15").unwrap();
    assert_eq!(
        text(preset_period(PeriodPreset::LastMonth, january).unwrap()),
        ("2023-12-01".into(), "2023-12-31".into())
    );
    assert_eq!(preset_period(PeriodPreset::Custom, today), None);
    assert_eq!(parse_day("2026-02-30"), None);
    assert_eq!(parse_day("1970-01-02"), Some(1));
}

#[test]
fn outliers_compare_with_the_department() {
    // The department converts 50 % into step 1; the manager 20 % (≤ 70 % of 50 %).
    assert_eq!(outliers(&[10, 2, 2], &[100, 50, 40]), vec![false, true, false]);
    // 50 % matches the department; then none of five reach step 2 against 80 %.
    assert_eq!(outliers(&[10, 5, 0], &[100, 50, 40]), vec![false, false, true]);
    // Too few deals to judge.
    assert_eq!(outliers(&[4, 0, 0], &[100, 50, 40]), vec![false, false, false]);
}

#[test]
fn csv_quotes_what_needs_it() {
    let text = csv(&[vec!["Этап".into(), "a,b".into()], vec!["say \"hi\"".into(), "1".into()]]);
    assert_eq!(text, "\u{feff}Этап,\"a,b\"\r\n\"say \"\"hi\"\"\",1\r\n");
}

/// The roll-up's answer: the stored day rows of the mode, period and scope, summed per step.
fn from_rollup(
    rows: &BTreeMap<DayKey, Totals>,
    steps: &Steps,
    mode: FunnelMode,
    period: Period,
    scope: &Scope,
) -> Vec<Totals> {
    let mut out = vec![Totals::default(); steps.ids.len()];
    for (key, t) in rows {
        let owner_ok = match &scope.owners {
            None => key.responsible_id == 0,
            Some(owners) => key.responsible_id != 0 && owners.contains(&key.responsible_id),
        };
        if key.mode == mode
            && period.contains(key.day)
            && owner_ok
            && scope.source.as_deref().is_none_or(|s| s == key.source)
            && scope.client.is_none_or(|c| (c == ClientType::Repeat) == key.repeat)
        {
            out[steps.rank(key.stage_id).unwrap()].add(t);
        }
    }
    out
}

fn arbitrary_track(id: DealId) -> impl Strategy<Value = Track> {
    (
        0i64..3,
        prop::bool::ANY,
        prop::bool::ANY,
        1i64..1_000,
        0i64..5 * 24,
        prop::collection::vec((1i64..40, prop::sample::select(vec![A, B, C, WON, LOST])), 1..8),
    )
        .prop_map(move |(owner, website, repeat, amount, start_h, moves)| {
            let mut at = start_h * H;
            let mut entries: Vec<(i64, StageId)> = Vec::new();
            for (gap_h, stage) in moves {
                if entries.last().is_some_and(|(_, s)| *s == stage) {
                    continue;
                }
                entries.push((at, stage));
                at += gap_h * H;
            }
            Track {
                deal_id: id,
                responsible_id: 1 + owner,
                source: if website { "website" } else { "phone" }.into(),
                repeat,
                amount,
                created_at: entries[0].0,
                entries,
            }
        })
}

fn arbitrary_tracks() -> impl Strategy<Value = Vec<Track>> {
    prop::collection::vec(0..1usize, 0..25).prop_flat_map(|slots| {
        slots.iter().enumerate().map(|(i, _)| arbitrary_track(i as DealId + 1)).collect::<Vec<_>>()
    })
}

fn arbitrary_scope() -> impl Strategy<Value = Scope> {
    (
        prop::option::of(prop::collection::vec(1i64..4, 1..3)),
        prop::option::of(prop::sample::select(vec!["website".to_string(), "phone".to_string()])),
        prop::option::of(prop::sample::select(vec![ClientType::New, ClientType::Repeat])),
    )
        .prop_map(|(owners, source, client)| Scope { owners, source, client })
}

proptest! {
    /// Summing the per-day roll-up equals counting from raw histories, for
    /// every mode, period and filter.
    #[test]
    fn rollup_equals_raw(
        tracks in arbitrary_tracks(),
        scope in arbitrary_scope(),
        flow in prop::bool::ANY,
        from in 0i32..8,
        length in 1i32..6,
    ) {
        let steps = steps();
        let mut rows: BTreeMap<DayKey, Totals> = BTreeMap::new();
        for t in &tracks {
            for r in reach(t, &steps, &utc_day) {
                for (key, totals) in day_rows(&r) {
                    rows.entry(key).or_default().add(&totals);
                }
            }
        }
        let mode = if flow { FunnelMode::Flow } else { FunnelMode::Cohort };
        let period = Period { from, to: from + length - 1 };
        prop_assert_eq!(
            from_rollup(&rows, &steps, mode, period, &scope),
            naive_totals(&tracks, &steps, &utc_day, mode, period, &scope)
        );
    }

    /// Keeping the roll-up by applying each move's changes gives the same rows
    /// as building it from the final histories.
    #[test]
    fn changes_keep_the_rollup_exact(tracks in arbitrary_tracks()) {
        let steps = steps();
        let mut kept: BTreeMap<DayKey, Totals> = BTreeMap::new();
        let mut built: BTreeMap<DayKey, Totals> = BTreeMap::new();
        for t in &tracks {
            let mut before: Vec<Reach> = Vec::new();
            for n in 1..=t.entries.len() {
                let partial = Track { entries: t.entries[..n].to_vec(), ..t.clone() };
                let after = reach(&partial, &steps, &utc_day);
                for (key, change) in day_changes(&before, &after) {
                    kept.entry(key).or_default().add(&change);
                }
                before = after;
            }
            for r in &before {
                for (key, totals) in day_rows(r) {
                    built.entry(key).or_default().add(&totals);
                }
            }
        }
        kept.retain(|_, t| !t.is_zero());
        built.retain(|_, t| !t.is_zero());
        prop_assert_eq!(kept, built);
    }
}

#[test]
fn daily_points_cover_every_day_and_count_only_the_first_and_won_steps() {
    let period = Period { from: 100, to: 103 };
    let rows = [
        (100, A, 3, 300),
        (102, A, 1, 50),
        (102, WON, 2, 700),
        (102, B, 9, 999), // neither the first nor the won step
        (99, A, 5, 5),    // outside the period
        (104, WON, 5, 5),
    ];
    let points = daily_points(period, Some(A), Some(WON), &rows);
    let got: Vec<_> = points.iter().map(|p| (p.day, p.entered, p.won, p.won_amount)).collect();
    assert_eq!(got, vec![(100, 3, 0, 0), (101, 0, 0, 0), (102, 1, 2, 700), (103, 0, 0, 0)]);
    // A pipeline without a won stage still lists its days and entries.
    let no_won: Vec<_> = daily_points(period, Some(A), None, &rows).iter().map(|p| (p.day, p.entered, p.won)).collect();
    assert_eq!(no_won, vec![(100, 3, 0), (101, 0, 0), (102, 1, 0), (103, 0, 0)]);
}

fn figures_of(deals: &[(StageId, &str, StageKind, i64)]) -> FunnelFigures {
    FunnelFigures {
        period: Period { from: 0, to: 0 },
        steps: deals
            .iter()
            .map(|&(stage_id, name, kind, d)| StepFigures {
                stage_id,
                name: name.into(),
                kind,
                totals: Totals { deals: d, ..Totals::default() },
                median_time_ms: None,
            })
            .collect(),
    }
}

fn series_data(chart: &serde_json::Value, i: usize) -> Vec<serde_json::Value> {
    chart["series"][i]["data"].as_array().unwrap().clone()
}

#[test]
fn charts_draw_exactly_the_report_figures() {
    use serde_json::json;
    let t = &page::RU;
    let figures = figures_of(&[
        (A, "Новая", StageKind::Open, 10),
        (B, "КП", StageKind::Open, 12), // more than before it: drawn as is, not sorted
        (WON, "Успех", StageKind::Won, 4),
    ]);
    let funnel = crate::charts::echarts_option(&charts::funnel_chart(&figures, t));
    assert_eq!(funnel["series"][0]["type"], "funnel");
    assert_eq!(funnel["series"][0]["sort"], "none");
    assert_eq!(funnel["series"][0]["max"], json!(12.0));
    assert_eq!(
        series_data(&funnel, 0),
        vec![
            json!({"value": 10, "name": "Новая"}),
            json!({"value": 12, "name": "КП"}),
            json!({"value": 4, "name": "Успех"})
        ]
    );

    let report = FunnelReport {
        pipeline_id: 1,
        mode: FunnelMode::Cohort,
        current: figures.clone(),
        previous: figures,
        managers: vec![
            ManagerRow {
                user_id: 1,
                name: "Анна".into(),
                department_id: None,
                deals: vec![5, 3, 2],
                outlier: vec![false; 3],
            },
            ManagerRow {
                user_id: 2,
                name: "Борис".into(),
                department_id: None,
                deals: vec![7, 1, 0],
                outlier: vec![false; 3],
            },
        ],
        daily: daily_points(
            Period { from: 20_423, to: 20_424 },
            Some(A),
            Some(WON),
            &[(20_424, A, 2, 0), (20_424, WON, 1, 9)],
        ),
        computed_at: 0,
        from_text: String::new(),
        to_text: String::new(),
    };
    let bars = serde_json::to_value(charts::manager_chart(&report, t)).unwrap();
    // Drawn bottom-up, so listed in reverse to read top-down like the table.
    assert_eq!(bars["yAxis"]["data"], json!(["Борис", "Анна"]));
    assert_eq!(bars["series"][0]["name"], t.entered);
    assert_eq!(series_data(&bars, 0), vec![json!(7), json!(5)]);
    assert_eq!(series_data(&bars, 1), vec![json!(0), json!(2)]);

    let daily = serde_json::to_value(charts::daily_chart(&report.daily, t)).unwrap();
    assert_eq!(daily["xAxis"]["data"], json!(["2025-12-01", "2025-12-02"]));
    assert_eq!(series_data(&daily, 0), vec![json!(0), json!(2)]);
    assert_eq!(series_data(&daily, 1), vec![json!(0), json!(1)]);
    let csv = page::report_csv(&report, t);
    assert!(
        csv.contains("\r\nДень,Вошло в воронку,Выиграно,Сумма выигранных\r\n2025-12-01,0,0,0\r\n2025-12-02,2,1,0\r\n"),
        "{csv}"
    );
    assert_eq!(charts::manager_chart_rem(2), 16);
    assert_eq!(charts::manager_chart_rem(25), 54);
}

#[test]
fn time_buckets_follow_digits_and_keep_order() {
    let cases = [
        (-5, 100),
        (0, 100),
        (7, 107),
        (10, 210),
        (12, 212),
        (99, 299),
        (100, 310),
        (109, 310),
        (110, 311),
        (86_400_000, 886),
        (i64::MAX, 1992),
    ];
    for (time, bucket) in cases {
        assert_eq!(time_bucket(time), bucket, "{time}");
    }
    let mut last = time_bucket(0);
    for time in (0..3_000_000).step_by(13).chain([i64::MAX]) {
        let bucket = time_bucket(time);
        assert!(bucket >= last, "{time} fell back to bucket {bucket}");
        last = bucket;
    }
}

#[test]
fn middle_buckets_of_an_empty_histogram_are_none() {
    assert_eq!(MiddleBuckets::of(&BTreeMap::new()), None);
    assert_eq!(MiddleBuckets::of(&BTreeMap::from([(15, 0)])), None);
}

/// The times of a histogram's middle buckets, as the storage reads them.
fn read_middle(times: &[i64], middle: &MiddleBuckets) -> Vec<i64> {
    let mut inside: Vec<i64> =
        times.iter().copied().filter(|t| (middle.lo..=middle.hi).contains(&time_bucket(*t))).collect();
    inside.sort_unstable();
    let (skip, take) = middle.window();
    inside.into_iter().skip(skip as usize).take(take as usize).collect()
}

proptest! {
    /// Finding the middle bucket and reading only its times gives the median
    /// of all the times, for odd and even counts and repeated values.
    #[test]
    fn middle_buckets_give_the_median(
        times in prop::collection::vec(prop_oneof![0i64..40, 0i64..10_000_000_000], 0..120),
    ) {
        let mut histogram: BTreeMap<i64, i64> = BTreeMap::new();
        for t in &times {
            *histogram.entry(time_bucket(*t)).or_default() += 1;
        }
        let found = MiddleBuckets::of(&histogram).and_then(|m| m.median(&read_middle(&times, &m)));
        prop_assert_eq!(found, median(times));
    }

    /// A period's histogram ranges cover each of its days exactly once.
    #[test]
    fn period_spans_cover_each_day_once(from in -20i32..40, length in 1i32..70) {
        let period = Period { from, to: from + length - 1 };
        let mut days = Vec::new();
        for (span, first, last) in period_spans(period) {
            prop_assert_eq!(first.rem_euclid(span), 0);
            let mut start = first;
            while start <= last {
                days.extend(start..start + span);
                start += span;
            }
        }
        prop_assert_eq!(days, (period.from..=period.to).collect::<Vec<_>>());
    }

    /// Summing the histogram rows of a period's ranges counts, per step and
    /// bucket, exactly the times a median of everyone (or one client type) reads.
    #[test]
    fn time_histogram_counts_the_period_times(
        tracks in arbitrary_tracks(),
        flow in prop::bool::ANY,
        client in prop::option::of(prop::bool::ANY),
        from in 0i32..10,
        length in 1i32..20,
    ) {
        let steps = steps();
        let mode = if flow { FunnelMode::Flow } else { FunnelMode::Cohort };
        let period = Period { from, to: from + length - 1 };
        let reached: Vec<Reach> = tracks.iter().flat_map(|t| reach(t, &steps, &utc_day)).collect();
        let mut rows: BTreeMap<TimeKey, i64> = BTreeMap::new();
        for key in reached.iter().flat_map(time_rows) {
            *rows.entry(key).or_default() += 1;
        }
        let mut summed: BTreeMap<(StageId, i64), i64> = BTreeMap::new();
        for (span, first, last) in period_spans(period) {
            for (key, n) in &rows {
                if key.mode == mode && key.span == span && (first..=last).contains(&key.start)
                    && client.is_none_or(|c| c == key.repeat)
                {
                    *summed.entry((key.stage_id, key.bucket)).or_default() += n;
                }
            }
        }
        let mut counted: BTreeMap<(StageId, i64), i64> = BTreeMap::new();
        for r in reached.iter().filter(|r| client.is_none_or(|c| c == r.repeat)) {
            if let Some(t) = times_in_period(r, mode, period) {
                *counted.entry((r.stage_id, time_bucket(t))).or_default() += 1;
            }
        }
        prop_assert_eq!(summed, counted);
    }

    /// Changes applied to the histogram of `before` give the histogram of `after`.
    #[test]
    fn time_changes_turn_one_histogram_into_the_other(before in arbitrary_track(1), after in arbitrary_track(1)) {
        let steps = steps();
        let count = |rows: &[Reach]| {
            let mut out: BTreeMap<TimeKey, i64> = BTreeMap::new();
            for key in rows.iter().flat_map(time_rows) {
                *out.entry(key).or_default() += 1;
            }
            out
        };
        let (before, after) = (reach(&before, &steps, &utc_day), reach(&after, &steps, &utc_day));
        let mut applied = count(&before);
        for (key, n) in time_changes(&before, &after) {
            *applied.entry(key).or_default() += n;
        }
        applied.retain(|_, n| *n != 0);
        prop_assert_eq!(applied, count(&after));
    }
}
