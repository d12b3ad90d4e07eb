//! Norms on worked examples: the working-time share, the pace, what each
//! norm counts, the ordering of the panel, and the checks on saved settings.

use super::*;
use crate::error::Problem;

const MONDAY: i64 = 0;
const WEDNESDAY: i64 = 2;
const SATURDAY: i64 = 5;

fn norm(kind: NormKind, per: NormPer, target: i64) -> Norm {
    Norm { role: Role::Manager, kind, per, target }
}

fn time(passed: i64, total: i64) -> Option<WorkTime> {
    Some(WorkTime { passed, total })
}

#[test]
fn the_working_day_is_nine_to_six() {
    assert_eq!(work_time(NormPer::Day, MONDAY, 8 * 60), time(0, 540));
    assert_eq!(work_time(NormPer::Day, MONDAY, 9 * 60), time(0, 540));
    // 13:30 is half of nine working hours.
    assert_eq!(work_time(NormPer::Day, MONDAY, 13 * 60 + 30), time(270, 540));
    assert_eq!(work_time(NormPer::Day, MONDAY, 18 * 60), time(540, 540));
    assert_eq!(work_time(NormPer::Day, MONDAY, 23 * 60 + 59), time(540, 540));
    assert_eq!(work_time(NormPer::Day, SATURDAY, 12 * 60), None);
    assert_eq!(work_time(NormPer::Day, 6, 12 * 60), None);
}

#[test]
fn the_working_week_is_monday_to_friday() {
    assert_eq!(work_time(NormPer::Week, MONDAY, 9 * 60), time(0, 2_700));
    // Wednesday 13:30: two whole days and half a third of five.
    assert_eq!(work_time(NormPer::Week, WEDNESDAY, 13 * 60 + 30), time(1_350, 2_700));
    assert_eq!(work_time(NormPer::Week, 4, 18 * 60), time(2_700, 2_700));
    assert_eq!(work_time(NormPer::Week, SATURDAY, 10 * 60), time(2_700, 2_700));
    assert_eq!(work_time(NormPer::Week, 6, 0), time(2_700, 2_700));
}

#[test]
fn pace_against_the_time_passed() {
    // 40 calls a day at 13:30: 20 are due.
    let half = work_time(NormPer::Day, MONDAY, 13 * 60 + 30);
    assert_eq!(expected_by_now(40, half.unwrap()), 20);
    assert_eq!(pace(19, 40, half), Pace::Behind);
    assert_eq!(pace(20, 40, half), Pace::OnPace);
    assert_eq!(pace(40, 40, half), Pace::Done);
    assert_eq!(pace(45, 40, half), Pace::Done);
    // Before nine nothing is due yet; due counts round down, exactly:
    // 45 a day at 11:36 is 45 × 156 / 540 = 13 (a float product gives 12.999…).
    assert_eq!(pace(0, 40, time(0, 540)), Pace::OnPace);
    assert_eq!(expected_by_now(3, WorkTime { passed: 270, total: 540 }), 1);
    assert_eq!(expected_by_now(45, work_time(NormPer::Day, MONDAY, 11 * 60 + 36).unwrap()), 13);
    assert_eq!(expected_by_now(5, WorkTime { passed: 540, total: 540 }), 5);
    // On a day off a daily norm asks nothing, though a met one is still met.
    assert_eq!(pace(0, 40, None), Pace::DayOff);
    assert_eq!(pace(41, 40, None), Pace::Done);
}

#[test]
fn due_counts_never_exceed_the_norm_and_grow_through_the_day() {
    for target in 1..=200 {
        let mut last = 0;
        for minute in (0..24 * 60).step_by(7) {
            let due = expected_by_now(target, work_time(NormPer::Day, MONDAY, minute).unwrap());
            assert!(due >= last && due <= target, "{target} at {minute}: {due}");
            last = due;
        }
        assert_eq!(last, target);
    }
}

#[test]
fn each_norm_counts_its_own_figure() {
    let c = KpiCounts {
        calls_in: 3,
        calls_out: 4,
        meetings: 2,
        proposals: 1,
        chats: 5,
        leads_processed: 6,
        ..Default::default()
    };
    assert_eq!(NormKind::Calls.actual(&c), 7);
    assert_eq!(NormKind::Meetings.actual(&c), 2);
    assert_eq!(NormKind::Proposals.actual(&c), 1);
    assert_eq!(NormKind::Chats.actual(&c), 5);
    assert_eq!(NormKind::LeadsProcessed.actual(&c), 6);
}

#[test]
fn statuses_take_the_role_and_the_period() {
    let norms = [
        norm(NormKind::Calls, NormPer::Day, 40),
        norm(NormKind::Meetings, NormPer::Week, 5),
        Norm { role: Role::Head, kind: NormKind::Meetings, per: NormPer::Week, target: 3 },
    ];
    let today = KpiCounts { calls_out: 10, meetings: 1, ..Default::default() };
    let week = KpiCounts { calls_out: 90, meetings: 3, ..Default::default() };
    // Wednesday 13:30: 20 calls due today, 2 of 5 meetings this week.
    let s = statuses(&norms, Role::Manager, &today, &week, WEDNESDAY, 13 * 60 + 30);
    assert_eq!(
        s,
        vec![
            NormStatus {
                kind: NormKind::Calls,
                per: NormPer::Day,
                target: 40,
                actual: 10,
                expected: 20,
                pace: Pace::Behind
            },
            NormStatus {
                kind: NormKind::Meetings,
                per: NormPer::Week,
                target: 5,
                actual: 3,
                expected: 2,
                pace: Pace::OnPace
            },
        ]
    );
    assert_eq!(statuses(&norms, Role::Head, &today, &week, WEDNESDAY, 600).len(), 1);
    assert!(statuses(&norms, Role::Admin, &today, &week, WEDNESDAY, 600).is_empty());
    // Saturday: the daily norm is off, the week's is judged whole.
    let s = statuses(&norms, Role::Manager, &today, &week, SATURDAY, 600);
    assert_eq!((s[0].pace, s[0].expected), (Pace::DayOff, 0));
    assert_eq!((s[1].pace, s[1].expected), (Pace::Behind, 5));
}

#[test]
fn the_furthest_behind_come_first() {
    let person = |name: &str, paces: &[(NormPer, Pace)]| NormPerson {
        user_id: 1,
        name: name.into(),
        department_id: None,
        items: paces
            .iter()
            .map(|(per, pace)| NormStatus {
                kind: NormKind::Calls,
                per: *per,
                target: 1,
                actual: 0,
                expected: 0,
                pace: *pace,
            })
            .collect(),
    };
    let mut people = vec![
        person("Анна", &[(NormPer::Day, Pace::Done)]),
        person("Борис", &[(NormPer::Week, Pace::Behind)]),
        person("Вера", &[(NormPer::Day, Pace::Behind), (NormPer::Week, Pace::Behind)]),
        person("Глеб", &[(NormPer::Day, Pace::Behind)]),
        person("Алла", &[(NormPer::Day, Pace::OnPace)]),
    ];
    behind_first(&mut people);
    let names: Vec<&str> = people.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["Вера", "Глеб", "Борис", "Алла", "Анна"]);
}

#[test]
fn settings_are_checked_before_they_are_stored() {
    let settings = |norms: Vec<Norm>, response_minutes: i64| NormSettings { norms, response_minutes, version: 0 };
    let calls = norm(NormKind::Calls, NormPer::Day, 40);
    assert_eq!(check_settings(&settings(vec![calls], 15)), Ok(vec![calls]));
    // A zero drops the norm; the rest come back in a stable order.
    let week = norm(NormKind::Meetings, NormPer::Week, 5);
    let zero = norm(NormKind::Chats, NormPer::Day, 0);
    assert_eq!(check_settings(&settings(vec![week, zero, calls], 15)), Ok(vec![calls, week]));
    let invalid = |s: &NormSettings| match check_settings(s) {
        Err(AppError::Invalid { field, problem }) => (field, problem),
        other => panic!("{other:?}"),
    };
    assert_eq!(invalid(&settings(vec![calls, calls], 15)), ("norm".into(), Problem::Taken));
    // A zero row still takes its place, whichever comes first.
    let calls_zero = norm(NormKind::Calls, NormPer::Day, 0);
    assert_eq!(invalid(&settings(vec![calls_zero, calls], 15)), ("norm".into(), Problem::Taken));
    assert_eq!(invalid(&settings(vec![calls, calls_zero], 15)), ("norm".into(), Problem::Taken));
    assert_eq!(
        invalid(&settings(vec![norm(NormKind::Calls, NormPer::Day, -1)], 15)),
        ("norm_target".into(), Problem::Negative)
    );
    assert_eq!(
        invalid(&settings(vec![norm(NormKind::Calls, NormPer::Day, MAX_NORM + 1)], 15)),
        ("norm_target".into(), Problem::TooLarge)
    );
    let admin = Norm { role: Role::Admin, ..calls };
    assert_eq!(invalid(&settings(vec![admin], 15)), ("role".into(), Problem::Unknown));
    assert_eq!(invalid(&settings(vec![], 0)), ("response_minutes".into(), Problem::Required));
    assert_eq!(invalid(&settings(vec![], -5)), ("response_minutes".into(), Problem::Negative));
    assert_eq!(invalid(&settings(vec![], MAX_RESPONSE_MINUTES + 1)), ("response_minutes".into(), Problem::TooLarge));
    assert!(check_settings(&settings(vec![], MAX_RESPONSE_MINUTES)).is_ok());
    assert!(check_settings(&settings(DEMO_NORMS.to_vec(), DEFAULT_RESPONSE_MINUTES)).is_ok());
}

#[test]
fn the_csv_has_a_row_per_norm_and_each_alert_with_its_total() {
    let status = |kind, per, actual, target, expected, pace| NormStatus { kind, per, target, actual, expected, pace };
    let lead = |title: &str, at, reason: Option<&str>| LeadAlert {
        id: 1,
        title: title.into(),
        responsible: None,
        at,
        reason: reason.map(Into::into),
    };
    let now = 10 * 3_600_000;
    let report = NormsReport {
        settings: NormSettings { norms: DEMO_NORMS.to_vec(), response_minutes: 15, version: 1 },
        may_configure: false,
        people: vec![NormPerson {
            user_id: 7,
            name: "Иванов, Пётр".into(),
            department_id: None,
            items: vec![
                status(NormKind::Calls, NormPer::Day, 3, 40, 10, Pace::Behind),
                status(NormKind::Meetings, NormPer::Week, 5, 5, 2, Pace::Done),
            ],
        }],
        unanswered: AlertList { total: 3, leads: vec![lead("ООО \"Рога\"", now - 42 * 60_000 - 59_000, None)] },
        silent: AlertList { total: 1, leads: vec![lead("Лид 2", now, Some("дорого"))] },
        day_off: false,
        computed_at: now,
    };
    let text = page::norms_csv(&report, &page::RU);
    let expected = "\u{feff}Сотрудник,Показатель,Период,Сделано,Норма,Нужно к этому времени,Темп\r\n\
        \"Иванов, Пётр\",Звонки,в день,3,40,10,отстаёт\r\n\
        \"Иванов, Пётр\",Встречи,в неделю,5,5,2,выполнено\r\n\
        \r\n\
        Лиды без ответа дольше 15 мин,3\r\n\
        Лид,Ответственный,\"Ждёт, мин / причина\"\r\n\
        \"ООО \"\"Рога\"\"\",без ответственного,42\r\n\
        Показаны первые 1\r\n\
        \r\n\
        Отклонены без единого действия за 7 дней,1\r\n\
        Лид,Ответственный,\"Ждёт, мин / причина\"\r\n\
        Лид 2,без ответственного,дорого\r\n";
    assert_eq!(text, expected);
}
