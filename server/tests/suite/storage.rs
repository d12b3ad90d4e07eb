//! The storage conformance suite: the same story against SQLite and PostgreSQL.

use crate::common::*;
use app::access::{Action, Module, PermissionMatrix, Role, Scope, Visibility};
use app::org::NewUser;
use app::storage::{StorageError, UserUpdate};

fn person(email: &str, role: Role, department_id: Option<i64>) -> NewUser {
    NewUser { email: email.into(), name: email.into(), password: String::new(), role, department_id }
}

#[tokio::test]
async fn people_departments_and_rights() {
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let s = db.open().await.storage;
        assert_eq!(s.backend(), if backend == Backend::Sqlite { "sqlite" } else { "postgres" });
        s.ping().await.unwrap();
        assert_eq!(s.default_org().await.unwrap(), None);
        let org = s.create_org("Org", "Europe/Moscow").await.unwrap();
        assert_eq!(s.default_org().await.unwrap(), Some(org));
        assert_eq!(s.permissions(org).await.unwrap(), PermissionMatrix::defaults(), "{backend:?}");

        let a = s.insert_department(org, "A", None).await.unwrap();
        let b = s.insert_department(org, "B", None).await.unwrap();
        assert!(matches!(s.insert_department(org, "A", None).await, Err(StorageError::Duplicate("name"))));
        let head = s.insert_user(org, &person("head@x.ru", Role::Head, Some(a.id)), "h").await.unwrap();
        let m1 = s.insert_user(org, &person("m1@x.ru", Role::Manager, Some(a.id)), "h").await.unwrap();
        let m2 = s.insert_user(org, &person("m2@x.ru", Role::Manager, Some(b.id)), "h").await.unwrap();
        assert!(matches!(
            s.insert_user(org, &person("m1@x.ru", Role::Viewer, None), "h").await,
            Err(StorageError::Duplicate("email"))
        ));
        assert_eq!(s.count_users().await.unwrap(), 3);
        let a = s.update_department(org, a.id, "A1", Some(head.id)).await.unwrap();
        assert_eq!((a.name.as_str(), a.head_id, a.members), ("A1", Some(head.id), 2));

        let ids = |v: Vec<app::org::User>| v.into_iter().map(|u| u.id).collect::<Vec<_>>();
        let mut all = ids(s.users(org, Visibility::All).await.unwrap());
        all.sort();
        assert_eq!(all, vec![head.id, m1.id, m2.id]);
        let mut dept = ids(s.users(org, Visibility::Department { department: Some(a.id), user: m2.id }).await.unwrap());
        dept.sort();
        assert_eq!(dept, vec![head.id, m1.id, m2.id], "department plus own record");
        assert_eq!(ids(s.users(org, Visibility::Own { user: m1.id }).await.unwrap()), vec![m1.id]);
        let own_depts = s.departments(org, Visibility::Own { user: head.id }).await.unwrap();
        assert_eq!(own_depts.iter().map(|d| d.id).collect::<Vec<_>>(), vec![a.id]);

        let moved = s
            .update_user(
                org,
                m2.id,
                &UserUpdate {
                    name: Some("Пётр".into()),
                    role: Some(Role::Head),
                    department_id: Some(None),
                    active: Some(false),
                },
            )
            .await
            .unwrap();
        assert_eq!(
            (moved.name.as_str(), moved.role, moved.department_id, moved.active),
            ("Пётр", Role::Head, None, false)
        );
        assert!(matches!(s.update_user(org + 1, m2.id, &UserUpdate::default()).await, Err(StorageError::NotFound)));
        assert!(matches!(s.delete_department(org, a.id).await, Err(StorageError::InUse("department"))));
        s.delete_department(org, b.id).await.unwrap();
        assert!(matches!(s.delete_department(org, b.id).await, Err(StorageError::NotFound)));

        s.set_permission(org, Role::Manager, Module::Deals, Action::Delete, Scope::Own).await.unwrap();
        s.set_permission(org, Role::Manager, Module::Deals, Action::Delete, Scope::Department).await.unwrap();
        assert_eq!(
            s.permissions(org).await.unwrap().scope(Role::Manager, Module::Deals, Action::Delete),
            Scope::Department
        );

        s.set_preferences(m1.id, app::i18n::Locale::En, app::i18n::Theme::Dark).await.unwrap();
        let m1 = s.user(m1.id).await.unwrap().unwrap();
        assert_eq!((m1.locale, m1.theme), (app::i18n::Locale::En, app::i18n::Theme::Dark));
        s.set_password(m1.id, "new-hash").await.unwrap();
        assert_eq!(s.credentials("m1@x.ru").await.unwrap().unwrap().password_hash, "new-hash");
        assert!(s.credentials("nobody@x.ru").await.unwrap().is_none());

        let keys = vec!["email:a".to_string(), "ip:1".to_string()];
        s.record_login_failure(&keys, 1_000).await.unwrap();
        s.record_login_failure(&keys, 2_000).await.unwrap();
        assert_eq!(s.login_failures("email:a", 0).await.unwrap(), (2, Some(1_000)));
        assert_eq!(s.login_failures("email:a", 1_500).await.unwrap(), (1, Some(2_000)));
        s.clear_login_failures("email:a").await.unwrap();
        assert_eq!(s.login_failures("email:a", 0).await.unwrap(), (0, None));
        assert_eq!(s.login_failures("ip:1", 0).await.unwrap().0, 2);

        db.drop_db().await;
    }
}

#[tokio::test]
async fn demo_import_is_complete_and_repeatable() {
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let database = db.open().await;
        let s = database.storage;
        let data = app::demo::generate(11, 1_795_000_000_000, "hash".into());
        s.import_demo(&data).await.unwrap();
        // A second import replaces, never duplicates.
        s.import_demo(&data).await.unwrap();
        assert_eq!(s.count_users().await.unwrap(), data.users.len() as i64);
        let org = s.default_org().await.unwrap().unwrap();
        assert_eq!(s.departments(org, Visibility::All).await.unwrap().len(), 3);
        for (table, expected) in [
            ("leads", data.leads.len()),
            ("deals", data.deals.len()),
            ("deal_events", data.events.len()),
            ("activities", data.activities.len()),
            ("clients", data.clients.len()),
            ("stages", data.stages.len()),
            ("currency_rates", data.rates.len()),
        ] {
            assert_eq!(
                db.count(&format!("SELECT COUNT(*) FROM {table}")).await,
                expected as i64,
                "{backend:?} {table}"
            );
        }
        let mismatched = db
            .count(
                "SELECT COUNT(*) FROM deals d WHERE d.stage_id <> \
                 (SELECT e.to_stage_id FROM deal_events e WHERE e.deal_id = d.id ORDER BY e.id DESC LIMIT 1)",
            )
            .await;
        assert_eq!(mismatched, 0, "every deal's stage is its last event's");
        let rates = s.currency_rates(org).await.unwrap();
        let set: Vec<(&str, i64, &str)> =
            rates.iter().map(|r| (r.currency.as_str(), r.rate, r.updated_by.as_str())).collect();
        let admin = &data.users.iter().find(|u| u.role == Role::Admin).unwrap().name;
        let mut expected: Vec<(&str, i64, &str)> = data.rates.iter().map(|r| (r.0, r.1, admin.as_str())).collect();
        expected.sort();
        assert_eq!(set, expected, "the demo's rates, set by its admin");
        let manager = s.credentials(app::demo::DEMO_MANAGER).await.unwrap().unwrap();
        assert_eq!(manager.user.role, Role::Manager);
        // New rows after an import with explicit ids get fresh ids.
        let extra = s.insert_user(org, &person("extra@x.ru", Role::Viewer, None), "h").await.unwrap();
        assert_eq!(extra.id, data.users.len() as i64 + 1, "{backend:?}");
        let d = s.insert_department(org, "Новый", None).await.unwrap();
        assert_eq!(d.id, 4);
        s.refresh_statistics().await.unwrap();
        if backend == Backend::Postgres {
            // Only VACUUM marks pages all-visible, which index-only scans need.
            let visible = db.count("SELECT relallvisible::BIGINT FROM pg_class WHERE relname = 'deal_events'").await;
            assert!(visible > 0, "VACUUM ran");
        }
        db.drop_db().await;
    }
}

/// A request cancelled in the middle of `BEGIN` must not leave the single
/// SQLite writer inside a transaction that makes every later write fail.
#[tokio::test]
async fn an_abandoned_sqlite_transaction_does_not_block_later_writes() {
    let db = TestDb::new(Backend::Sqlite).await;
    let database = db.open().await;
    let store = database.sqlite.clone().expect("sqlite store");
    {
        use sqlx::Connection;
        let mut conn = store.writer().acquire().await.unwrap();
        let tx = conn.begin_with("BEGIN IMMEDIATE").await.unwrap();
        // Begun but never ended, as a future cancelled between sqlx's `BEGIN`
        // and its handing over the transaction would leave it.
        std::mem::forget(tx);
    }
    let org = database.storage.create_org("После отмены", "Europe/Moscow").await.expect("the writer recovers");
    assert_eq!(database.storage.default_org().await.unwrap(), Some(org));
}

/// Commits leave checkpoints to a task beside them, which copies the log
/// into the database file within a second; the writer steps in only when the
/// log outgrows its limit, so back-to-back writes never grow it without end.
#[tokio::test]
async fn sqlite_checkpoints_happen_beside_the_writer_and_the_log_stays_bounded() {
    use server::storage::sqlite::WRITER_CHECKPOINT_PAGES;
    let db = TestDb::new(Backend::Sqlite).await;
    let database = db.open().await;
    let store = database.sqlite.clone().expect("sqlite store");
    let auto: i64 = sqlx::query_scalar("PRAGMA wal_autocheckpoint").fetch_one(store.writer()).await.unwrap();
    assert_eq!(auto, WRITER_CHECKPOINT_PAGES);
    let file = std::path::PathBuf::from(db.url.trim_start_matches("sqlite://"));
    let wal = file.with_extension("db-wal");
    let size = |f: &std::path::Path| std::fs::metadata(f).unwrap().len();
    let write_4_mb = || async {
        let mut tx = store.writer().begin().await.unwrap();
        for _ in 0..64 {
            sqlx::query("INSERT INTO filler VALUES (randomblob(65536))").execute(&mut *tx).await.unwrap();
        }
        tx.commit().await.unwrap();
    };
    sqlx::query("CREATE TABLE filler (x BLOB)").execute(store.writer()).await.unwrap();
    // Sleep past a checkpoint so the file holds the schema, then write ~4 MB:
    // far below the writer's limit, so only the task can copy it.
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let before = size(&file);
    write_4_mb().await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while size(&file) < before + 4_000_000 {
        assert!(std::time::Instant::now() < deadline, "the log was not copied into the file: {} bytes", size(&file));
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // 60 writes back to back, 240 MB: without the writer's limit the log holds
    // them all (no complete checkpoint fits between them); with it, the log
    // starts over soon after passing the limit. How soon depends on the
    // machine's load (one run reached 102 MB), hence the margin.
    for _ in 0..60 {
        write_4_mb().await;
    }
    let limit = (WRITER_CHECKPOINT_PAGES * 4096) as u64;
    assert!(size(&wal) < 3 * limit, "the log grew to {} bytes", size(&wal));
}

/// Moves sent at once, which SQLite's writer commits in groups of several,
/// each get their own answer: a refused move changes nothing, a made one
/// changes only its deal, once, and a repeated key gets the first answer.
#[tokio::test]
async fn moves_sent_at_once_each_get_their_own_answer() {
    use app::pipeline::{MoveRequest, Moved, StageKind};
    use app::storage::MoveOutcome;
    let now = 1_795_000_000_000;
    let data = app::demo::generate(11, now, "hash".into());
    let stage_of = |pipeline: i64, kind: StageKind, not: i64| {
        data.stages.iter().find(|st| st.pipeline_id == pipeline && st.kind == kind && st.id != not).unwrap().id
    };
    #[derive(Debug, PartialEq)]
    enum Expect {
        Answered,
        Conflict,
        Invalid(&'static str),
    }
    let mut requests = Vec::new();
    for (i, d) in data.deals.iter().filter(|d| d.closed_at.is_none()).take(50).enumerate() {
        let mut req = MoveRequest {
            deal_id: d.id,
            to_stage_id: stage_of(d.pipeline_id, StageKind::Open, d.stage_id),
            version: d.version,
            key: format!("k{i}"),
            loss_reason: None,
        };
        let expect = match i % 5 {
            0 => Expect::Answered,
            1 => {
                req.version += 1;
                Expect::Conflict
            }
            2 => {
                req.to_stage_id = stage_of(d.pipeline_id, StageKind::Lost, 0);
                Expect::Invalid("loss_reason")
            }
            3 => {
                req.to_stage_id = 999_999;
                Expect::Invalid("stage")
            }
            _ => {
                // The same request twice: one move, the same answer to both.
                requests.push((d.responsible_id, req.clone(), Expect::Answered));
                Expect::Answered
            }
        };
        requests.push((d.responsible_id, req, expect));
    }
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let s = db.open().await.storage;
        s.import_demo(&data).await.unwrap();
        let at = now + 60_000;
        let answers =
            futures::future::join_all(requests.iter().map(|(actor, req, _)| s.move_deal(1, *actor, req, at))).await;
        let mut made: std::collections::HashMap<i64, Moved> = Default::default();
        for ((_, req, expect), answer) in requests.iter().zip(answers) {
            let what = format!("{backend:?}, deal {}, key {}", req.deal_id, req.key);
            match (expect, answer) {
                (Expect::Answered, Ok(MoveOutcome::Moved(m))) => {
                    assert_eq!(
                        (m.deal_id, m.stage_id, m.version),
                        (req.deal_id, req.to_stage_id, req.version + 1),
                        "{what}"
                    );
                    if let Some(first) = made.insert(req.deal_id, m.clone()) {
                        assert_eq!((first.stage_id, first.version), (m.stage_id, m.version), "{what}: a repeat");
                    }
                }
                (Expect::Answered, Ok(MoveOutcome::Blocked(_))) => {}
                (Expect::Conflict, Err(StorageError::Conflict)) => {}
                (Expect::Invalid(field), Err(StorageError::Invalid(f, _))) if *field == f => {}
                (expect, answer) => panic!("{what}: expected {expect:?}, got {answer:?}"),
            }
        }
        assert!(made.len() >= 10, "{backend:?}: most answered moves are made, not blocked");
        for (_, req, _) in &requests {
            let d = data.deals.iter().find(|d| d.id == req.deal_id).unwrap();
            let events_before = data.events.iter().filter(|e| e.deal_id == d.id).count() as i64;
            let (stage, version, events) = match made.get(&d.id) {
                Some(m) => (m.stage_id, m.version, events_before + 1),
                None => (d.stage_id, d.version, events_before),
            };
            let stored = db
                .rows(&format!(
                    "SELECT CAST(stage_id AS TEXT), CAST(version AS TEXT), \
                     CAST((SELECT COUNT(*) FROM deal_events e WHERE e.deal_id = d.id) AS TEXT) \
                     FROM deals d WHERE d.id = {}",
                    d.id
                ))
                .await;
            assert_eq!(stored, vec![vec![stage.to_string(), version.to_string(), events.to_string()]], "{backend:?}");
        }
        let moved_events = db.count(&format!("SELECT COUNT(*) FROM deal_events WHERE at = {at}")).await;
        assert_eq!(moved_events, made.len() as i64, "{backend:?}: one event per move made");
        db.drop_db().await;
    }
}

/// A board search against a recount from the generated data: every
/// column's count, sum and newest cards (by deal id, at most 100) are those
/// of the deals whose title or client contains the text, in any case.
#[tokio::test]
async fn board_search_counts_and_shows_every_match_of_a_column() {
    use app::pipeline::{BoardFilter, StageKind, CARDS_PER_COLUMN, CLOSED_DAYS, DAY_MS};
    let now = 1_795_000_000_000;
    let mut data = app::demo::generate(11, now, "hash".into());
    // One open column with more matches than it shows cards.
    let open = data.stages.iter().find(|st| st.kind == StageKind::Open).map(|st| (st.id, st.pipeline_id)).unwrap();
    let (client_id, responsible_id) = (data.deals[0].client_id, data.deals[0].responsible_id);
    for i in 0..150 {
        let id = data.deals.len() as i64 + 1;
        let at = now - i * 3_600_000;
        data.deals.push(app::demo::DemoDeal {
            id,
            pipeline_id: open.1,
            stage_id: open.0,
            title: format!("Поиск {i}"),
            amount: 100_000 + i,
            client_id,
            lead_id: None,
            source: data.deals[0].source,
            responsible_id,
            created_at: at,
            stage_entered_at: at,
            closed_at: None,
            loss_reason: None,
            version: 0,
            csat: None,
            nps: None,
        });
        data.events.push(app::demo::DemoDealEvent {
            id: data.events.len() as i64 + 1,
            deal_id: id,
            actor_id: responsible_id,
            at,
            from_stage_id: None,
            to_stage_id: open.0,
            amount: 100_000 + i,
            skipped_required: false,
        });
    }
    let client_names: std::collections::HashMap<i64, &str> =
        data.clients.iter().map(|c| (c.id, c.name.as_str())).collect();
    // Common and rare words, another case, and LIKE's wildcards taken literally.
    let rare = data.clients[3].name.to_uppercase();
    let title_start: String = data.deals[0].title.chars().take(4).collect();
    let terms = ["ПОИСК", "ооо", "а", &rare, &title_start, "%", "_", "нет такого"];
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let s = db.open().await.storage;
        s.import_demo(&data).await.unwrap();
        let mut widest = 0;
        for pipeline in data.stages.iter().map(|st| st.pipeline_id).collect::<std::collections::BTreeSet<_>>() {
            for term in &terms {
                let filter =
                    BoardFilter { pipeline_id: pipeline, search: Some(format!(" {term} ")), ..Default::default() };
                let board = s.board(1, &filter, Visibility::All, now).await.unwrap();
                for column in &board.columns {
                    let mut matches: Vec<(i64, i64)> = data
                        .deals
                        .iter()
                        .filter(|d| d.stage_id == column.stage.id)
                        .filter(|d| {
                            column.stage.kind == StageKind::Open
                                || d.closed_at.is_some_and(|at| at >= now - CLOSED_DAYS * DAY_MS)
                        })
                        .filter(|d| {
                            let text = format!("{} {}", d.title, client_names[&d.client_id]).to_lowercase();
                            text.contains(&term.to_lowercase())
                        })
                        .map(|d| (d.id, d.amount))
                        .collect();
                    let what = format!("{backend:?}, {term:?}, stage {}", column.stage.name);
                    assert_eq!(column.count, matches.len() as i64, "{what}");
                    assert_eq!(column.total, matches.iter().map(|m| m.1).sum::<i64>(), "{what}");
                    widest = widest.max(matches.len());
                    matches.sort_by_key(|m| std::cmp::Reverse(m.0));
                    matches.truncate(CARDS_PER_COLUMN as usize);
                    let shown: Vec<i64> = column.cards.iter().map(|c| c.id).collect();
                    assert_eq!(shown, matches.iter().map(|m| m.0).collect::<Vec<_>>(), "{what}");
                }
            }
        }
        assert!(widest > CARDS_PER_COLUMN as usize, "some column has more matches than cards");
        db.drop_db().await;
    }
}
