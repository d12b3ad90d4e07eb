//! Activity norms and lead alerts through their server functions, on SQLite
//! and PostgreSQL: saving with rights, versions and bad input; who is behind,
//! within each caller's scope; unanswered and silently disqualified leads.

use crate::common::*;
use app::error::{AppError, Problem};
use app::norms::{work_time, NormKind, NormPer, NormSettings, NormsReport, Pace, ALERT_LIMIT};
use app::pipeline::{Lead, Pipeline};
use serde_json::{json, Value};

const MINUTE: i64 = 60_000;

async fn report(c: &Client, manager: Option<i64>, department: Option<i64>) -> Result<NormsReport, AppError> {
    let (m, d) = (manager.map(|v| v.to_string()), department.map(|v| v.to_string()));
    let mut args = vec![];
    if let Some(m) = &m {
        args.push(("manager_id", m.as_str()));
    }
    if let Some(d) = &d {
        args.push(("department_id", d.as_str()));
    }
    c.call("kpi/norms", &args).await
}

async fn save(c: &Client, norms: Value, response_minutes: i64, version: i64) -> Result<NormSettings, AppError> {
    let settings = json!({"norms": norms, "response_minutes": response_minutes, "version": version});
    c.call_json("kpi/norms/save", json!({ "settings": settings })).await
}

fn norm(role: &str, kind: &str, per: &str, target: i64) -> Value {
    json!({"role": role, "kind": kind, "per": per, "target": target})
}

async fn log(c: &Client, deal: Option<i64>, lead: Option<i64>, kind: &str, duration_s: Option<i64>) {
    let form = json!({"kind": kind, "deal_id": deal, "lead_id": lead, "duration_s": duration_s, "note": ""});
    let _: app::pipeline::Activity = c.call_json("activities/create", json!({ "form": form })).await.unwrap();
}

async fn new_lead(c: &Client, title: &str) -> i64 {
    let form = json!({"form": {"title": title, "source": "website", "contact_name": "Анна", "phone": ""}});
    let lead: Lead = c.call_json("leads/create", form).await.unwrap();
    lead.id
}

async fn set_status(c: &Client, lead: i64, status: &str, reason: Option<&str>) {
    let id = lead.to_string();
    let mut args = vec![("id", id.as_str()), ("status", status)];
    if let Some(r) = reason {
        args.push(("reason", r));
    }
    let _: Lead = c.call("leads/status", &args).await.unwrap();
}

fn names(r: &NormsReport) -> Vec<&str> {
    let mut n: Vec<&str> = r.people.iter().map(|p| p.name.as_str()).collect();
    n.sort();
    n
}

/// Monday-based weekday and minute of the day in Moscow, where the test organisation is.
fn moscow_now() -> (i64, i64) {
    let now = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::get("Europe/Moscow").unwrap());
    (i64::from(now.weekday().to_monday_zero_offset()), i64::from(now.hour()) * 60 + i64::from(now.minute()))
}

#[tokio::test]
async fn norms_show_who_is_behind_within_the_rights() {
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let org = seed_org(&db).await;
        let server = TestServer::start(&db).await;
        let (admin, _) = signed_in(&server, org.admin).await;
        let (head_a, _) = signed_in(&server, org.head_a).await;
        let (manager_a, a_id) = signed_in(&server, org.manager_a).await;
        let (_, b_id) = signed_in(&server, org.manager_b).await;

        // A new organisation: no norms, a 15-minute response norm.
        let fresh = report(&admin, None, None).await.unwrap();
        assert_eq!((fresh.settings.norms.len(), fresh.settings.response_minutes, fresh.settings.version), (0, 15, 0));
        assert!(fresh.people.is_empty() && fresh.may_configure);

        // Only whoever may change organisation settings saves norms.
        let norms = json!([
            norm("manager", "calls", "day", 2),
            norm("manager", "meetings", "week", 1),
            norm("head", "meetings", "week", 3),
            norm("manager", "chats", "day", 0),
        ]);
        assert_eq!(save(&head_a, norms.clone(), 15, 0).await.unwrap_err(), AppError::Forbidden);
        assert_eq!(save(&manager_a, norms.clone(), 15, 0).await.unwrap_err(), AppError::Forbidden);
        let saved = save(&admin, norms.clone(), 15, 0).await.unwrap();
        assert_eq!((saved.norms.len(), saved.version), (3, 1), "the zero norm is dropped");
        assert_eq!(db.count("SELECT COUNT(*) FROM activity_norms").await, 3);

        // A second editor still at version 0 is refused and changes nothing.
        let stale = save(&admin, json!([norm("manager", "calls", "day", 99)]), 30, 0).await;
        assert_eq!(stale.unwrap_err(), AppError::Conflict);
        // Bad input is named and changes nothing either.
        let bad = [
            (
                json!([norm("manager", "calls", "day", 2), norm("manager", "calls", "day", 3)]),
                15,
                ("norm", Problem::Taken),
            ),
            (json!([norm("manager", "calls", "day", -1)]), 15, ("norm_target", Problem::Negative)),
            (json!([norm("manager", "calls", "day", 10_001)]), 15, ("norm_target", Problem::TooLarge)),
            (json!([norm("admin", "calls", "day", 5)]), 15, ("role", Problem::Unknown)),
            (json!([]), 0, ("response_minutes", Problem::Required)),
            (json!([]), 1_441, ("response_minutes", Problem::TooLarge)),
        ];
        for (norms, minutes, (field, problem)) in bad {
            assert_eq!(save(&admin, norms, minutes, 1).await.unwrap_err(), AppError::invalid(field, problem));
        }
        let kept = report(&admin, None, None).await.unwrap().settings;
        assert_eq!(kept, saved);

        // A: two counted calls (a 10-second one does not count) and a meeting;
        // A2 and B: nothing.
        let p: Pipeline = admin.call("pipelines/save", &[("name", "Продажи"), ("block_skips", "false")]).await.unwrap();
        let (logged_on, _) = moscow_now();
        let deal = create_deal(&manager_a, p.id, "Окна", 10_000, "website").await;
        log(&manager_a, Some(deal), None, "call_out", Some(40)).await;
        log(&manager_a, Some(deal), None, "call_in", Some(30)).await;
        log(&manager_a, Some(deal), None, "call_out", Some(10)).await;
        log(&manager_a, Some(deal), None, "meeting", None).await;

        let (weekday_before, minute_before) = moscow_now();
        let all = report(&admin, None, None).await.unwrap();
        let (weekday_after, minute_after) = moscow_now();
        // Everyone active who sells and has a norm for their role; not the admin or the viewer.
        assert_eq!(names(&all), vec!["head.a", "head.b", "manager.a", "manager.a2", "manager.b"]);
        let a = all.people.iter().find(|p| p.user_id == a_id).unwrap();
        let figures: Vec<(NormKind, NormPer, i64, i64, Pace)> =
            a.items.iter().map(|i| (i.kind, i.per, i.actual, i.target, i.pace)).collect();
        // Today's and this week's, unless Moscow midnight fell between logging and reading.
        if logged_on == weekday_after {
            assert_eq!(
                figures,
                vec![
                    (NormKind::Calls, NormPer::Day, 2, 2, Pace::Done),
                    (NormKind::Meetings, NormPer::Week, 1, 1, Pace::Done)
                ]
            );
        }
        // Those with nothing done stand as the working time passed says.
        let b = all.people.iter().find(|p| p.user_id == b_id).unwrap();
        assert_eq!(b.items.iter().map(|i| i.actual).collect::<Vec<_>>(), vec![0, 0]);
        if weekday_before == weekday_after {
            for i in &b.items {
                let range = [minute_before, minute_after].map(|m| {
                    work_time(i.per, weekday_before, m).map_or(0, |t| app::norms::expected_by_now(i.target, t))
                });
                assert!((range[0]..=range[1]).contains(&i.expected), "{i:?} not within {range:?}");
                let paces = [minute_before, minute_after]
                    .map(|m| app::norms::pace(i.actual, i.target, work_time(i.per, weekday_before, m)));
                assert!(paces.contains(&i.pace), "{i:?}");
            }
        }
        let head = all.people.iter().find(|p| p.name == "head.a").unwrap();
        assert_eq!(head.items.iter().map(|i| (i.kind, i.target)).collect::<Vec<_>>(), vec![(NormKind::Meetings, 3)]);
        // A is never shown ahead of someone further behind.
        let position = |id| all.people.iter().position(|p| p.user_id == id).unwrap();
        if b.behind(NormPer::Day) + b.behind(NormPer::Week) > 0 {
            assert!(position(b_id) < position(a_id));
        }

        // Rights: a head sees the department, a manager themself; filters only narrow.
        assert_eq!(names(&report(&head_a, None, None).await.unwrap()), vec!["head.a", "manager.a", "manager.a2"]);
        let own = report(&manager_a, None, None).await.unwrap();
        assert_eq!((names(&own), own.may_configure), (vec!["manager.a"], false));
        assert!(report(&manager_a, None, Some(org.dept_b)).await.unwrap().people.is_empty());
        assert_eq!(names(&report(&admin, Some(b_id), None).await.unwrap()), vec!["manager.b"]);
        assert_eq!(names(&report(&admin, None, Some(org.dept_b)).await.unwrap()), vec!["head.b", "manager.b"]);
        assert_eq!(
            Client::new(&server.base).call::<NormsReport>("kpi/norms", &[]).await.unwrap_err(),
            AppError::Unauthenticated
        );

        // Removing every norm empties the panel.
        let cleared = save(&admin, json!([]), 20, 1).await.unwrap();
        assert_eq!((cleared.norms.len(), cleared.response_minutes, cleared.version), (0, 20, 2));
        assert!(report(&admin, None, None).await.unwrap().people.is_empty());

        server.stop().await;
        db.drop_db().await;
    }
}

#[tokio::test]
async fn alerts_list_unanswered_and_silently_disqualified_leads() {
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let org = seed_org(&db).await;
        let server = TestServer::start(&db).await;
        let (admin, _) = signed_in(&server, org.admin).await;
        let (head_a, _) = signed_in(&server, org.head_a).await;
        let (manager_a, _) = signed_in(&server, org.manager_a).await;
        let (manager_b, _) = signed_in(&server, org.manager_b).await;
        let ago = |lead: i64, minutes: i64| {
            format!("UPDATE leads SET created_at = created_at - {} WHERE id = {lead}", minutes * MINUTE)
        };

        // Waiting 20 and 30 minutes, a fresh one, and one answered by a call an hour in.
        let late_a = new_lead(&manager_a, "Ждёт 20 минут").await;
        let fresh = new_lead(&manager_a, "Только что").await;
        let answered = new_lead(&manager_a, "Ответили").await;
        let late_b = new_lead(&manager_b, "Ждёт 30 минут").await;
        db.exec(&ago(late_a, 20)).await;
        db.exec(&ago(late_b, 30)).await;
        db.exec(&ago(answered, 60)).await;
        log(&manager_a, None, Some(answered), "call_out", Some(90)).await;

        let all = report(&admin, None, None).await.unwrap();
        let titles = |list: &app::norms::AlertList| list.leads.iter().map(|l| l.title.clone()).collect::<Vec<_>>();
        assert_eq!(all.unanswered.total, 2);
        assert_eq!(titles(&all.unanswered), vec!["Ждёт 30 минут", "Ждёт 20 минут"], "the oldest first");
        assert_eq!(all.unanswered.leads[0].responsible.as_deref(), Some("manager.b"));
        let waited = all.computed_at - all.unanswered.leads[0].at;
        assert!((30 * MINUTE..31 * MINUTE).contains(&waited), "{waited}");
        assert_eq!(all.silent.total, 0);
        // Each sees the leads their right covers.
        assert_eq!(titles(&report(&head_a, None, None).await.unwrap().unanswered), vec!["Ждёт 20 минут"]);
        assert_eq!(titles(&report(&manager_b, None, None).await.unwrap().unanswered), vec!["Ждёт 30 минут"]);
        // A looser norm: only the 30-minute wait is late.
        save(&admin, json!([]), 25, 0).await.unwrap();
        assert_eq!(titles(&report(&admin, None, None).await.unwrap().unanswered), vec!["Ждёт 30 минут"]);

        // Disqualified with no activity: an alert; after a call: none.
        set_status(&manager_a, fresh, "disqualified", Some("Не отвечает")).await;
        set_status(&manager_a, answered, "disqualified", Some("Дорого")).await;
        let after = report(&admin, None, None).await.unwrap();
        assert_eq!(titles(&after.silent), vec!["Только что"]);
        assert_eq!(after.silent.leads[0].reason.as_deref(), Some("Не отвечает"));
        assert!(report(&manager_b, None, None).await.unwrap().silent.leads.is_empty());
        // Taken back on, it is no longer disqualified; disqualified again eight days ago, it is out of the window.
        set_status(&manager_a, fresh, "in_work", None).await;
        assert_eq!(report(&admin, None, None).await.unwrap().silent.total, 0);
        set_status(&manager_a, fresh, "disqualified", Some("Не отвечает")).await;
        assert_eq!(report(&admin, None, None).await.unwrap().silent.total, 1);
        db.exec(&format!(
            "UPDATE leads SET disqualified_at = disqualified_at - {} WHERE id = {fresh}",
            8 * 1_440 * MINUTE
        ))
        .await;
        assert_eq!(report(&admin, None, None).await.unwrap().silent.total, 0);
        // An activity logged after the refusal ends the alert.
        set_status(&manager_a, late_a, "disqualified", Some("Не отвечает")).await;
        assert_eq!(titles(&report(&admin, None, None).await.unwrap().silent), vec!["Ждёт 20 минут"]);
        log(&manager_a, None, Some(late_a), "call_out", Some(60)).await;
        assert_eq!(report(&admin, None, None).await.unwrap().silent.total, 0);

        // Many late leads: the oldest are listed, all are counted.
        let created = jiff::Timestamp::now().as_millisecond() - 24 * 60 * MINUTE;
        let values: Vec<String> = (0..ALERT_LIMIT + 5)
            .map(|i| {
                format!(
                    "((SELECT MIN(id) FROM organizations), 'Старый {i}', 'website', 'new', \
                     (SELECT id FROM users WHERE email = 'manager.b@t.ru'), {})",
                    created + i
                )
            })
            .collect();
        db.exec(&format!(
            "INSERT INTO leads (org_id, title, source, status, responsible_id, created_at) VALUES {}",
            values.join(", ")
        ))
        .await;
        let many = report(&admin, None, None).await.unwrap();
        assert_eq!((many.unanswered.total, many.unanswered.leads.len() as i64), (ALERT_LIMIT + 6, ALERT_LIMIT));
        assert_eq!(many.unanswered.leads[0].title, "Старый 0");

        server.stop().await;
        db.drop_db().await;
    }
}
