//! The pipeline through its server functions, on SQLite and PostgreSQL:
//! setup, the board and its scopes, moves with versions and idempotency keys,
//! stage discipline, losses, deals, activities, leads, live events and bad input.

#![allow(clippy::inconsistent_digit_grouping)] // Money reads as roubles_kopecks: 150_000_00.

use crate::common::*;
use app::error::{AppError, Problem};
use app::pipeline::currency::CurrencyRate;
use app::pipeline::lists::{ActivityList, Client as Buyer, ClientList, DealList};
use app::pipeline::{Activity, Board, DealPage, Lead, LeadPage, Moved, Pipeline, Stage, Violation};
use serde_json::{json, Value};

/// A pipeline "New → Qualification (required) → Proposal → Won / Lost".
struct Funnel {
    pipeline: i64,
    new: i64,
    qualification: i64,
    proposal: i64,
    won: i64,
    lost: i64,
}

async fn save_stage(c: &Client, pipeline: i64, name: &str, position: i32, required: bool) -> Result<Stage, AppError> {
    let form = json!({"id": null, "pipeline_id": pipeline, "name": name, "kind": "open", "probability": 30,
        "required": required, "stale_days": 5, "archived": false, "position": position});
    c.call_json("stages/save", json!({ "form": form })).await
}

async fn set_up_funnel(admin: &Client, block_skips: bool) -> Funnel {
    let flag = if block_skips { "true" } else { "false" };
    let p: Pipeline = admin.call("pipelines/save", &[("name", "Продажи"), ("block_skips", flag)]).await.unwrap();
    let qualification = save_stage(admin, p.id, "Квалификация", 1, true).await.unwrap();
    let proposal = save_stage(admin, p.id, "КП", 2, false).await.unwrap();
    let pipelines: Vec<Pipeline> = admin.call("pipelines", &[]).await.unwrap();
    let stages = &pipelines.iter().find(|x| x.id == p.id).unwrap().stages;
    let names: Vec<&str> = stages.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Новая", "Квалификация", "КП", "Успешно", "Провалена"]);
    Funnel {
        pipeline: p.id,
        new: stages[0].id,
        qualification: qualification.id,
        proposal: proposal.id,
        won: stages[3].id,
        lost: stages[4].id,
    }
}

async fn create_deal(c: &Client, pipeline: i64, title: &str, amount: i64) -> Result<i64, AppError> {
    c.call_json(
        "deals/create",
        json!({"form": {"pipeline_id": pipeline, "title": title, "amount": amount, "client_name": "ООО Ромашка", "source": "website"}}),
    )
    .await
}

async fn move_deal(c: &Client, deal: i64, to: i64, version: i64, key: &str) -> Result<Moved, AppError> {
    c.call_json(
        "deals/move",
        json!({"request": {"deal_id": deal, "to_stage_id": to, "version": version, "key": key, "loss_reason": null}}),
    )
    .await
}

async fn board(c: &Client, pipeline: i64, extra: Value) -> Result<Board, AppError> {
    let mut filter = json!({"pipeline_id": pipeline});
    filter.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    c.call_json("board", json!({ "filter": filter })).await
}

fn deal_ids(b: &Board) -> Vec<i64> {
    let mut ids: Vec<i64> = b.columns.iter().flat_map(|c| c.cards.iter().map(|d| d.id)).collect();
    ids.sort();
    ids
}

async fn deal_page(c: &Client, id: i64) -> Result<DealPage, AppError> {
    c.call("deals/get", &[("id", &id.to_string())]).await
}

#[tokio::test]
async fn pipelines_are_set_up_by_heads_and_admins_only() {
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let org = seed_org(&db).await;
        let server = TestServer::start(&db).await;
        let (admin, _) = signed_in(&server, org.admin).await;
        let (head, _) = signed_in(&server, org.head_a).await;
        let (manager, _) = signed_in(&server, org.manager_a).await;
        let f = set_up_funnel(&admin, false).await;

        let added = save_stage(&head, f.pipeline, "Встреча", 2, false).await.unwrap();
        assert_eq!(added.position, 2);
        assert_eq!(save_stage(&manager, f.pipeline, "Моя", 1, false).await.unwrap_err(), AppError::Forbidden);
        let renamed: Result<Pipeline, AppError> = manager
            .call("pipelines/save", &[("id", &f.pipeline.to_string()), ("name", "X"), ("block_skips", "true")])
            .await;
        assert_eq!(renamed.unwrap_err(), AppError::Forbidden);
        assert_eq!(
            save_stage(&admin, f.pipeline, " ", 1, false).await.unwrap_err(),
            AppError::invalid("name", Problem::Required)
        );

        // A stage with deals cannot be archived (they would vanish from the board); an empty one can.
        let deal = create_deal(&manager, f.pipeline, "Окна", 100).await.unwrap();
        let archive = |id: i64, position: i32| {
            let form = json!({"id": id, "pipeline_id": f.pipeline, "name": "Старая", "kind": "open", "probability": 10,
                "required": false, "stale_days": 3, "archived": true, "position": position});
            admin.call_json::<Stage>("stages/save", json!({ "form": form }))
        };
        assert_eq!(archive(f.new, 0).await.unwrap_err(), AppError::invalid("stage", Problem::HasDeals));
        let archived = archive(added.id, 2).await.unwrap();
        assert!(archived.archived);
        let b = board(&manager, f.pipeline, json!({})).await.unwrap();
        assert!(b.columns.iter().all(|c| c.stage.id != added.id), "archived stages leave the board");
        assert_eq!(deal_ids(&b), vec![deal]);
        server.stop().await;
        db.drop_db().await;
    }
}

#[tokio::test]
async fn a_pipeline_is_renamed_and_archived_only_when_nothing_open_needs_it() {
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let org = seed_org(&db).await;
        let server = TestServer::start(&db).await;
        let (admin, _) = signed_in(&server, org.admin).await;
        let (head, _) = signed_in(&server, org.head_a).await;
        let (manager, _) = signed_in(&server, org.manager_a).await;
        let f = set_up_funnel(&admin, false).await;
        async fn archive(c: &Client, id: i64, archived: bool) -> Result<Pipeline, AppError> {
            c.call("pipelines/archive", &[("id", &id.to_string()), ("archived", &archived.to_string())]).await
        }
        let active = |pipelines: Vec<Pipeline>| -> Vec<(String, bool)> {
            pipelines.into_iter().map(|p| (p.name, p.archived)).collect()
        };

        // The only pipeline cannot go: new deals need one.
        assert_eq!(
            archive(&admin, f.pipeline, true).await.unwrap_err(),
            AppError::invalid("pipeline", Problem::LastActive)
        );
        let second: Pipeline =
            head.call("pipelines/save", &[("name", "Повторные"), ("block_skips", "false")]).await.unwrap();
        let renamed: Pipeline = head
            .call(
                "pipelines/save",
                &[("id", &second.id.to_string()), ("name", "Повторные продажи"), ("block_skips", "false")],
            )
            .await
            .unwrap();
        assert_eq!(renamed.name, "Повторные продажи");
        assert_eq!(archive(&manager, second.id, true).await.unwrap_err(), AppError::Forbidden);
        assert_eq!(archive(&admin, second.id + 1000, true).await.unwrap_err(), AppError::NotFound);

        // An open deal keeps its pipeline active; once it is won, the pipeline may go.
        let deal = create_deal(&manager, second.id, "Допродажа", 500_00).await.unwrap();
        assert_eq!(
            archive(&head, second.id, true).await.unwrap_err(),
            AppError::invalid("pipeline", Problem::HasDeals)
        );
        let before: Vec<Pipeline> = admin.call("pipelines", &[]).await.unwrap();
        assert_eq!(active(before), [("Продажи".to_string(), false), ("Повторные продажи".to_string(), false)]);
        let won = renamed.stages.iter().find(|s| s.kind == app::pipeline::StageKind::Won).unwrap().id;
        move_deal(&manager, deal, won, 0, "win-1").await.unwrap();
        let archived = archive(&head, second.id, true).await.unwrap();
        assert!(archived.archived);

        // Archived: no new deals there, its won deal and history stay, and the other one is now the last.
        assert_eq!(
            create_deal(&manager, second.id, "Ещё одна", 100_00).await.unwrap_err(),
            AppError::invalid("pipeline", Problem::Unknown)
        );
        let page = deal_page(&manager, deal).await.unwrap();
        assert_eq!((page.deal.card.stage_id, page.events.len()), (won, 2));
        assert_eq!(
            archive(&admin, f.pipeline, true).await.unwrap_err(),
            AppError::invalid("pipeline", Problem::LastActive)
        );

        // Brought back, it takes deals again.
        assert!(!archive(&admin, second.id, false).await.unwrap().archived);
        create_deal(&manager, second.id, "Ещё одна", 100_00).await.unwrap();
        let after: Vec<Pipeline> = admin.call("pipelines", &[]).await.unwrap();
        assert_eq!(active(after), [("Продажи".to_string(), false), ("Повторные продажи".to_string(), false)]);
        server.stop().await;
        db.drop_db().await;
    }
}

#[tokio::test]
async fn the_board_shows_each_person_what_their_rights_cover() {
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let org = seed_org(&db).await;
        let server = TestServer::start(&db).await;
        let (admin, _) = signed_in(&server, org.admin).await;
        let f = set_up_funnel(&admin, false).await;
        let (ma, _) = signed_in(&server, org.manager_a).await;
        let (ma2, _) = signed_in(&server, org.manager_a2).await;
        let (mb, _) = signed_in(&server, org.manager_b).await;
        let (head_a, _) = signed_in(&server, org.head_a).await;
        let (head_b, _) = signed_in(&server, org.head_b).await;
        let (viewer, _) = signed_in(&server, org.viewer_a).await;
        let a1 = create_deal(&ma, f.pipeline, "Окна для школы", 150_000_00).await.unwrap();
        let a2 = create_deal(&ma2, f.pipeline, "Двери", 50_000_00).await.unwrap();
        let b1 = create_deal(&mb, f.pipeline, "Крыша", 70_000_00).await.unwrap();

        assert_eq!(deal_ids(&board(&ma, f.pipeline, json!({})).await.unwrap()), vec![a1]);
        assert_eq!(deal_ids(&board(&head_a, f.pipeline, json!({})).await.unwrap()), vec![a1, a2]);
        assert_eq!(deal_ids(&board(&viewer, f.pipeline, json!({})).await.unwrap()), vec![a1, a2]);
        assert_eq!(deal_ids(&board(&head_b, f.pipeline, json!({})).await.unwrap()), vec![b1]);
        let all = board(&admin, f.pipeline, json!({})).await.unwrap();
        assert_eq!(deal_ids(&all), vec![a1, a2, b1]);
        let first = &all.columns[0];
        assert_eq!((first.count, first.total), (3, 270_000_00));
        assert_eq!(first.cards[0].client.as_deref(), Some("ООО Ромашка"));

        // Filters narrow within the rights: search is case-insensitive in Cyrillic too.
        assert_eq!(deal_ids(&board(&admin, f.pipeline, json!({"search": "окна"})).await.unwrap()), vec![a1]);
        assert_eq!(deal_ids(&board(&admin, f.pipeline, json!({"search": "РОМАШКА"})).await.unwrap()).len(), 3);
        assert_eq!(deal_ids(&board(&admin, f.pipeline, json!({"search": "100%"})).await.unwrap()), Vec::<i64>::new());
        assert_eq!(deal_ids(&board(&admin, f.pipeline, json!({"department_id": org.dept_b})).await.unwrap()), vec![b1]);
        let mb_id = deal_page(&admin, b1).await.unwrap().deal.card.manager_id;
        assert_eq!(
            deal_ids(&board(&head_a, f.pipeline, json!({"manager_id": mb_id})).await.unwrap()),
            Vec::<i64>::new()
        );
        assert_eq!(deal_ids(&board(&admin, f.pipeline, json!({"source": "phone"})).await.unwrap()), Vec::<i64>::new());
        assert_eq!(deal_ids(&board(&admin, f.pipeline, json!({"created_days": 7})).await.unwrap()).len(), 3);
        assert_eq!(
            board(&admin, f.pipeline, json!({"created_days": 0})).await.unwrap_err(),
            AppError::invalid("period", Problem::Unknown)
        );
        assert_eq!(
            board(&admin, f.pipeline + 1000, json!({})).await.unwrap_err(),
            AppError::invalid("pipeline", Problem::Unknown)
        );

        // Single deals follow the same rights.
        assert!(deal_page(&head_a, a2).await.is_ok());
        assert_eq!(deal_page(&ma, a2).await.unwrap_err(), AppError::Forbidden);
        assert_eq!(deal_page(&head_b, a1).await.unwrap_err(), AppError::Forbidden);
        assert_eq!(deal_page(&admin, 999_999).await.unwrap_err(), AppError::NotFound);
        assert_eq!(move_deal(&mb, a1, f.qualification, 0, "k1").await.unwrap_err(), AppError::Forbidden);
        assert_eq!(move_deal(&viewer, a1, f.qualification, 0, "k1").await.unwrap_err(), AppError::Forbidden);
        assert!(move_deal(&head_a, a2, f.qualification, 0, "k1").await.is_ok());
        // A viewer cannot create; a manager cannot create for someone else's department.
        assert_eq!(create_deal(&viewer, f.pipeline, "X", 1).await.unwrap_err(), AppError::Forbidden);
        let other: Result<i64, AppError> = ma
            .call_json("deals/create", json!({"form": {"pipeline_id": f.pipeline, "title": "X", "amount": 1, "client_name": "", "source": "ads", "responsible_id": mb_id}}))
            .await;
        assert_eq!(other.unwrap_err(), AppError::Forbidden);
        let anonymous = server.client();
        assert_eq!(board(&anonymous, f.pipeline, json!({})).await.unwrap_err(), AppError::Unauthenticated);
        server.stop().await;
        db.drop_db().await;
    }
}

#[tokio::test]
async fn moves_carry_versions_and_keys_so_nothing_is_lost_or_doubled() {
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let org = seed_org(&db).await;
        let server = TestServer::start(&db).await;
        let (admin, _) = signed_in(&server, org.admin).await;
        let f = set_up_funnel(&admin, false).await;
        let (m, _) = signed_in(&server, org.manager_a).await;
        let (head, _) = signed_in(&server, org.head_a).await;
        let deal = create_deal(&m, f.pipeline, "Окна", 100_00).await.unwrap();

        let moved = move_deal(&m, deal, f.qualification, 0, "move-1").await.unwrap();
        assert_eq!((moved.stage_id, moved.version, moved.replayed), (f.qualification, 1, false));
        // The same key again (a retry after a lost answer) repeats the answer and moves nothing.
        let again = move_deal(&m, deal, f.qualification, 0, "move-1").await.unwrap();
        assert_eq!((again.stage_id, again.version, again.replayed), (f.qualification, 1, true));
        // A stale version with a new key is a conflict, not an overwrite.
        assert_eq!(move_deal(&head, deal, f.proposal, 0, "move-2").await.unwrap_err(), AppError::Conflict);
        let page = deal_page(&m, deal).await.unwrap();
        assert_eq!((page.deal.card.stage_id, page.deal.card.version), (f.qualification, 1));
        assert_eq!(page.events.len(), 2, "created + one move");

        // Two people move the same version at once: exactly one wins.
        let (a, b) =
            tokio::join!(move_deal(&m, deal, f.proposal, 1, "race-a"), move_deal(&head, deal, f.new, 1, "race-b"));
        let results = [a, b];
        let wins: Vec<&Moved> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        let conflicts = results.iter().filter(|r| matches!(r, Err(AppError::Conflict))).count();
        assert_eq!((wins.len(), conflicts), (1, 1), "{results:?}");
        let page = deal_page(&m, deal).await.unwrap();
        assert_eq!(page.deal.card.stage_id, wins[0].stage_id);
        assert_eq!(page.events.len(), 3);
        assert_eq!(page.events.last().unwrap().to_stage_id, Some(wins[0].stage_id));
        assert_eq!(page.events[1].actor, "manager.a");

        // Bad input changes nothing.
        assert_eq!(
            move_deal(&m, deal, 987_654, 2, "bad-1").await.unwrap_err(),
            AppError::invalid("stage", Problem::Unknown)
        );
        assert_eq!(move_deal(&m, deal, f.won, 2, "").await.unwrap_err(), AppError::invalid("key", Problem::Unknown));
        assert_eq!(
            move_deal(&m, deal, f.won, 2, &"k".repeat(65)).await.unwrap_err(),
            AppError::invalid("key", Problem::Unknown)
        );
        assert_eq!(move_deal(&m, 987_654, f.won, 2, "bad-2").await.unwrap_err(), AppError::NotFound);
        assert_eq!(deal_page(&m, deal).await.unwrap().events.len(), 3);
        server.stop().await;
        db.drop_db().await;
    }
}

#[tokio::test]
async fn skipping_a_required_stage_is_recorded_and_blocked_where_the_pipeline_says() {
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let org = seed_org(&db).await;
        let server = TestServer::start(&db).await;
        let (admin, _) = signed_in(&server, org.admin).await;
        let (m, _) = signed_in(&server, org.manager_a).await;
        let (head, _) = signed_in(&server, org.head_a).await;
        let (head_b, _) = signed_in(&server, org.head_b).await;

        let lax = set_up_funnel(&admin, false).await;
        let deal = create_deal(&m, lax.pipeline, "Окна", 100_00).await.unwrap();
        let moved = move_deal(&m, deal, lax.proposal, 0, "skip-1").await.unwrap();
        assert_eq!(moved.skipped, vec![lax.qualification]);
        let page = deal_page(&m, deal).await.unwrap();
        assert!(page.events.last().unwrap().skipped_required);
        let seen: Vec<Violation> = head.call("violations", &[]).await.unwrap();
        assert_eq!(seen.len(), 1);
        assert_eq!((seen[0].deal_id, seen[0].blocked, seen[0].to_stage_id), (deal, false, lax.proposal));
        let other: Vec<Violation> = head_b.call("violations", &[]).await.unwrap();
        assert!(other.is_empty(), "another department's violations stay there");
        // Back and forward again through a visited stage is not a new skip.
        move_deal(&m, deal, lax.qualification, 1, "back").await.unwrap();
        let forward = move_deal(&m, deal, lax.won, 2, "win").await.unwrap();
        assert!(forward.skipped.is_empty());
        let page = deal_page(&m, deal).await.unwrap();
        assert!(page.deal.closed_at.is_some(), "a won deal is closed");

        let strict = set_up_funnel(&admin, true).await;
        let deal = create_deal(&m, strict.pipeline, "Двери", 100_00).await.unwrap();
        assert_eq!(
            move_deal(&m, deal, strict.proposal, 0, "skip-2").await.unwrap_err(),
            AppError::invalid("stage", Problem::SkipsRequired)
        );
        let page = deal_page(&m, deal).await.unwrap();
        assert_eq!((page.deal.card.stage_id, page.deal.card.version, page.events.len()), (strict.new, 0, 1));
        let seen: Vec<Violation> = head.call("violations", &[]).await.unwrap();
        assert_eq!(seen.len(), 2);
        assert_eq!((seen[0].deal_id, seen[0].blocked), (deal, true), "newest first, marked blocked");
        // Losing is possible from anywhere, but needs a reason.
        assert_eq!(
            move_deal(&m, deal, strict.lost, 0, "lose-1").await.unwrap_err(),
            AppError::invalid("loss_reason", Problem::Required)
        );
        let lost: Moved = m
            .call_json(
                "deals/move",
                json!({"request": {"deal_id": deal, "to_stage_id": strict.lost, "version": 0, "key": "lose-2", "loss_reason": "  Дорого "}}),
            )
            .await
            .unwrap();
        assert!(lost.skipped.is_empty());
        let page = deal_page(&m, deal).await.unwrap();
        assert_eq!(page.deal.loss_reason.as_deref(), Some("Дорого"));
        server.stop().await;
        db.drop_db().await;
    }
}

#[tokio::test]
async fn deals_and_activities_refuse_bad_input_and_store_nothing() {
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let org = seed_org(&db).await;
        let server = TestServer::start(&db).await;
        let (admin, _) = signed_in(&server, org.admin).await;
        let f = set_up_funnel(&admin, false).await;
        let (m, _) = signed_in(&server, org.manager_a).await;
        let (mb, _) = signed_in(&server, org.manager_b).await;

        let invalid = |field: &str, problem: Problem| AppError::invalid(field, problem);
        assert_eq!(create_deal(&m, f.pipeline, "Окна", -1).await.unwrap_err(), invalid("amount", Problem::Negative));
        assert_eq!(create_deal(&m, f.pipeline, "  ", 1).await.unwrap_err(), invalid("title", Problem::Required));
        assert_eq!(
            create_deal(&m, f.pipeline, &"я".repeat(201), 1).await.unwrap_err(),
            invalid("title", Problem::TooLong { max: 200 })
        );
        assert_eq!(create_deal(&m, 987_654, "Окна", 1).await.unwrap_err(), invalid("pipeline", Problem::Unknown));
        assert_eq!(db.count("SELECT COUNT(*) FROM deals").await, 0);
        assert_eq!(db.count("SELECT COUNT(*) FROM clients").await, 0);

        // Another organisation's deal is not found, whatever its id.
        let stranger_org = {
            let s = db.open().await.storage;
            let other = s.create_org("Чужая", "Europe/Moscow").await.unwrap();
            let p = s.save_pipeline(other, None, "Их воронка", false).await.unwrap();
            let user = s
                .insert_user(
                    other,
                    &app::org::NewUser {
                        email: "them@x.ru".into(),
                        name: "Они".into(),
                        password: String::new(),
                        role: app::access::Role::Admin,
                        department_id: None,
                    },
                    "h",
                )
                .await
                .unwrap();
            let deal = app::storage::NewDeal {
                pipeline_id: p.id,
                title: "Чужая сделка".into(),
                amount: 1,
                currency: "RUB",
                client_name: None,
                source: "ads".into(),
                responsible_id: user.id,
                lead_id: None,
            };
            (p, s.create_deal(other, user.id, &deal, 1).await.unwrap())
        };
        let (their_pipeline, their_deal) = stranger_org;
        assert_eq!(deal_page(&admin, their_deal.id).await.unwrap_err(), AppError::NotFound);
        assert_eq!(
            move_deal(&admin, their_deal.id, their_pipeline.stages[1].id, 0, "x").await.unwrap_err(),
            AppError::NotFound
        );
        assert_eq!(
            create_deal(&admin, their_pipeline.id, "Окна", 1).await.unwrap_err(),
            invalid("pipeline", Problem::Unknown)
        );
        // Moving our deal into their stage is an unknown stage.
        let ours = create_deal(&m, f.pipeline, "Окна", 5_000_00).await.unwrap();
        assert_eq!(
            move_deal(&m, ours, their_pipeline.stages[1].id, 0, "x").await.unwrap_err(),
            invalid("stage", Problem::Unknown)
        );

        let call = json!({"kind": "call_out", "deal_id": ours, "lead_id": null, "duration_s": 95, "note": "Перезвонить во вторник"});
        let logged = log(&m, call.clone()).await.unwrap();
        assert_eq!((logged.duration_s, logged.user.as_str()), (Some(95), "manager.a"));
        assert_eq!(log(&mb, call.clone()).await.unwrap_err(), AppError::Forbidden);
        let mut negative = call.clone();
        negative["duration_s"] = json!(-5);
        assert_eq!(log(&m, negative).await.unwrap_err(), invalid("duration", Problem::Negative));
        let mut empty_note = call.clone();
        empty_note["kind"] = json!("note");
        empty_note["note"] = json!(" ");
        assert_eq!(log(&m, empty_note).await.unwrap_err(), invalid("note", Problem::Required));
        let mut nowhere = call.clone();
        nowhere["deal_id"] = Value::Null;
        assert_eq!(log(&m, nowhere).await.unwrap_err(), invalid("deal", Problem::Required));
        let page = deal_page(&m, ours).await.unwrap();
        assert_eq!(page.activities.len(), 1);
        assert_eq!(page.activities[0].note, "Перезвонить во вторник");
        server.stop().await;
        db.drop_db().await;
    }
}

async fn lead_status(c: &Client, pipeline: i64, id: i64, status: &str, reason: Option<&str>) -> Result<Lead, AppError> {
    let (id, pipeline) = (id.to_string(), pipeline.to_string());
    let mut args = vec![("id", id.as_str()), ("status", status), ("pipeline_id", pipeline.as_str())];
    if let Some(r) = reason {
        args.push(("reason", r));
    }
    c.call("leads/status", &args).await
}

async fn log(c: &Client, form: Value) -> Result<app::pipeline::Activity, AppError> {
    c.call_json("activities/create", json!({ "form": form })).await
}

#[tokio::test]
async fn leads_need_a_reason_to_be_refused_and_become_deals_when_qualified() {
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let org = seed_org(&db).await;
        let server = TestServer::start(&db).await;
        let (admin, _) = signed_in(&server, org.admin).await;
        let f = set_up_funnel(&admin, false).await;
        let (m, m_id) = signed_in(&server, org.manager_a).await;
        let (mb, b_id) = signed_in(&server, org.manager_b).await;
        let (viewer, _) = signed_in(&server, org.viewer_a).await;

        let new_lead = |title: &str| json!({"form": {"title": title, "source": "Website", "contact_name": "Анна", "phone": "+7 900 000-00-00"}});
        let lead: Lead = m.call_json("leads/create", new_lead("Заявка с сайта")).await.unwrap();
        assert_eq!((lead.status.as_str(), lead.source.as_str(), lead.first_response_at), ("new", "website", None));
        assert_eq!(
            m.call_json::<Lead>("leads/create", new_lead(" ")).await.unwrap_err(),
            AppError::invalid("title", Problem::Required)
        );
        assert_eq!(viewer.call_json::<Lead>("leads/create", new_lead("X")).await.unwrap_err(), AppError::Forbidden);

        assert_eq!(
            lead_status(&m, f.pipeline, lead.id, "disqualified", None).await.unwrap_err(),
            AppError::invalid("disqualify_reason", Problem::Required)
        );
        assert_eq!(
            lead_status(&m, f.pipeline, lead.id, "disqualified", Some("   ")).await.unwrap_err(),
            AppError::invalid("disqualify_reason", Problem::Required)
        );
        assert_eq!(lead_status(&mb, f.pipeline, lead.id, "in_work", None).await.unwrap_err(), AppError::Forbidden);
        let page: LeadPage = m.call_json("leads", json!({"filter": {"page": 0}})).await.unwrap();
        assert_eq!((page.total, page.rows[0].status.as_str()), (1, "new"), "refused changes stored nothing");

        let taken = lead_status(&m, f.pipeline, lead.id, "in_work", None).await.unwrap();
        assert!(taken.first_response_at.is_some(), "the first status change is the first response");
        let refused = lead_status(&m, f.pipeline, lead.id, "disqualified", Some("Нет бюджета")).await.unwrap();
        assert_eq!(refused.disqualify_reason.as_deref(), Some("Нет бюджета"));
        assert_eq!(
            lead_status(&m, f.pipeline, lead.id, "qualified", None).await.unwrap_err(),
            AppError::invalid("status", Problem::Unknown),
            "a refused lead is taken on again before it becomes a deal"
        );

        let second: Lead = m.call_json("leads/create", new_lead("Звонок")).await.unwrap();
        let qualified = lead_status(&m, f.pipeline, second.id, "qualified", None).await.unwrap();
        let deal = qualified.deal_id.expect("qualifying makes a deal");
        let page = deal_page(&m, deal).await.unwrap();
        assert_eq!((page.deal.card.stage_id, page.deal.card.client.as_deref()), (f.new, Some("Анна")));

        let filtered: LeadPage =
            m.call_json("leads", json!({"filter": {"status": "qualified", "page": 0}})).await.unwrap();
        assert_eq!(filtered.rows.iter().map(|l| l.id).collect::<Vec<_>>(), vec![second.id]);
        let theirs: LeadPage = mb.call_json("leads", json!({"filter": {"page": 0}})).await.unwrap();
        assert_eq!(theirs.total, 0);
        let head_view: LeadPage =
            viewer.call_json("leads", json!({"filter": {"search": "Звон", "page": 0}})).await.unwrap();
        assert_eq!(head_view.total, 1);
        let by_title = |descending: bool| {
            m.call_json::<LeadPage>(
                "leads",
                json!({"filter": {"order": {"by": "title", "descending": descending}, "page": 0}}),
            )
        };
        let titles = |p: LeadPage| p.rows.into_iter().map(|l| l.title).collect::<Vec<_>>();
        assert_eq!(titles(by_title(false).await.unwrap()), ["Заявка с сайта", "Звонок"]);
        assert_eq!(titles(by_title(true).await.unwrap()), ["Звонок", "Заявка с сайта"]);

        // An edit carries the version it was read at; a stale one changes nothing.
        let version = by_title(true).await.unwrap().rows[0].version;
        let edit = |version: i64, title: &str| {
            json!({"edit": {"id": second.id, "version": version,
                "form": {"title": title, "source": "Phone", "contact_name": "Анна", "phone": ""}}})
        };
        let edited: Lead = m.call_json("leads/update", edit(version, "Звонок из рекламы")).await.unwrap();
        assert_eq!(
            (edited.title.as_str(), edited.source.as_str(), edited.version),
            ("Звонок из рекламы", "phone", version + 1)
        );
        assert_eq!(m.call_json::<Lead>("leads/update", edit(version, "Старое")).await.unwrap_err(), AppError::Conflict);
        assert_eq!(
            m.call_json::<Lead>("leads/update", edit(version + 1, " ")).await.unwrap_err(),
            AppError::invalid("title", Problem::Required)
        );
        assert_eq!(
            mb.call_json::<Lead>("leads/update", edit(version + 1, "Чужой")).await.unwrap_err(),
            AppError::Forbidden
        );
        assert_eq!(titles(by_title(true).await.unwrap())[0], "Звонок из рекламы");

        // An e-mail: a wrong one is refused and stores nothing; a right one is kept,
        // found by search, and reaches the client when the lead is qualified.
        let with_email = |title: &str, email: &str| {
            json!({"form": {"title": title, "source": "website", "contact_name": "ООО Ромашка",
                "phone": "+7 900 111-22-33", "email": email}})
        };
        let leads_before = db.count("SELECT COUNT(*) FROM leads").await;
        assert_eq!(
            m.call_json::<Lead>("leads/create", with_email("Почта", "не почта")).await.unwrap_err(),
            AppError::invalid("email", Problem::BadEmail)
        );
        assert_eq!(db.count("SELECT COUNT(*) FROM leads").await, leads_before);
        let mailed: Lead = m.call_json("leads/create", with_email("Почта", " Anna@Romashka.RU ")).await.unwrap();
        assert_eq!(mailed.email, "anna@romashka.ru");
        let found: LeadPage = m.call_json("leads", json!({"filter": {"search": "ROMASHKA", "page": 0}})).await.unwrap();
        assert_eq!(found.rows.iter().map(|l| l.id).collect::<Vec<_>>(), vec![mailed.id]);
        lead_status(&m, f.pipeline, mailed.id, "qualified", None).await.unwrap();
        let buyers = clients(&m, json!({"search": "ромашка", "page": 0})).await.unwrap();
        let buyer = buyers.rows.iter().find(|c| c.name == "ООО Ромашка").expect("the qualified lead's client");
        assert_eq!((buyer.phone.as_str(), buyer.email.as_str()), ("+7 900 111-22-33", "anna@romashka.ru"));
        let by_email = clients(&m, json!({"search": "anna@romashka", "page": 0})).await.unwrap();
        assert_eq!(by_email.rows.len(), 1, "the client is found by the copied e-mail");
        // Clients are matched by name: another person's client of that name keeps its own (empty) contacts.
        let form = json!({"form": {"id": null, "name": "ИП Чужой", "kind": "person", "phone": "", "email": ""}});
        let theirs: Buyer = mb.call_json("clients/save", form).await.unwrap();
        let mut same_name = with_email("Тёзка", "tezka@example.ru");
        same_name["form"]["contact_name"] = json!("ИП Чужой");
        let namesake: Lead = m.call_json("leads/create", same_name).await.unwrap();
        lead_status(&m, f.pipeline, namesake.id, "qualified", None).await.unwrap();
        let kept = clients(&mb, json!({"search": "ип чужой", "page": 0})).await.unwrap();
        let kept = kept.rows.iter().find(|c| c.id == theirs.id).expect("their client");
        assert_eq!((kept.phone.as_str(), kept.email.as_str()), ("", ""));

        // A head gives a new lead to someone in the department; a manager's leads are their own.
        let (head, _) = signed_in(&server, org.head_a).await;
        let (_, a2_id) = signed_in(&server, org.manager_a2).await;
        let given = |responsible: i64| {
            json!({"form": {"title": "Передан", "source": "website", "contact_name": "", "phone": ""},
                "responsible_id": responsible})
        };
        let handed: Lead = head.call_json("leads/create", given(m_id)).await.unwrap();
        assert_eq!(handed.responsible_id, Some(m_id));
        let leads_before = db.count("SELECT COUNT(*) FROM leads").await;
        assert_eq!(head.call_json::<Lead>("leads/create", given(b_id)).await.unwrap_err(), AppError::Forbidden);
        assert_eq!(m.call_json::<Lead>("leads/create", given(a2_id)).await.unwrap_err(), AppError::Forbidden);
        assert_eq!(
            head.call_json::<Lead>("leads/create", given(i64::MAX)).await.unwrap_err(),
            AppError::invalid("responsible", Problem::Unknown)
        );
        assert_eq!(db.count("SELECT COUNT(*) FROM leads").await, leads_before, "refused leads store nothing");
        server.stop().await;
        db.drop_db().await;
    }
}

#[tokio::test]
async fn other_browsers_hear_of_a_move_within_a_second_and_which_deal_if_they_may_see_it() {
    use std::time::Duration;
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let org = seed_org(&db).await;
        let server = TestServer::start(&db).await;
        let (admin, _) = signed_in(&server, org.admin).await;
        let f = set_up_funnel(&admin, false).await;
        let (m, _) = signed_in(&server, org.manager_a).await;
        let (head, _) = signed_in(&server, org.head_a).await;
        let (head_b, _) = signed_in(&server, org.head_b).await;
        let deal = create_deal(&m, f.pipeline, "Окна", 100).await.unwrap();

        let anonymous = server.client().http.get(format!("{}/api/live", server.base)).send().await.unwrap();
        assert_eq!(anonymous.status(), 401);
        let gzip = ("accept-encoding", "gzip");
        let mut watching =
            head.http.get(format!("{}/api/live", server.base)).header(gzip.0, gzip.1).send().await.unwrap();
        let mut stranger = head_b.http.get(format!("{}/api/live", server.base)).send().await.unwrap();
        assert_eq!(watching.headers()["content-type"], "text/event-stream");
        assert!(watching.headers().get("content-encoding").is_none(), "events are never compressed (and so held back)");
        let page = head.http.get(format!("{}/board", server.base)).header(gzip.0, gzip.1).send().await.unwrap();
        assert_eq!(page.headers()["content-encoding"], "gzip", "pages are, for whoever asks");
        tokio::time::sleep(Duration::from_millis(100)).await;

        move_deal(&m, deal, f.qualification, 0, "live-1").await.unwrap();
        let chunk = tokio::time::timeout(Duration::from_secs(1), watching.chunk()).await.expect("an event within 1 s");
        let text = String::from_utf8(chunk.unwrap().unwrap().to_vec()).unwrap();
        assert!(text.contains("event: deal"), "{text}");
        assert!(text.contains(&format!("\"deal_id\":{deal}")), "{text}");
        // The head of another department may not see the deal: only that
        // something changed (goals and KPIs of the company count it too).
        let bare = tokio::time::timeout(Duration::from_secs(1), stranger.chunk()).await.expect("an event within 1 s");
        let text = String::from_utf8(bare.unwrap().unwrap().to_vec()).unwrap();
        assert!(text.contains("event: work") && !text.contains("deal"), "another department heard {text}");
        let data = text.lines().find_map(|l| l.strip_prefix("data:")).map(str::trim);
        assert!(data.is_some_and(|d| !d.is_empty()), "a browser drops an event without data: {text}");
        server.stop().await;
        db.drop_db().await;
    }
}

async fn deals(c: &Client, filter: Value) -> Result<DealList, AppError> {
    c.call_json("deals", json!({ "filter": filter })).await
}

fn titles(list: &DealList) -> Vec<&str> {
    list.rows.iter().map(|d| d.card.title.as_str()).collect()
}

#[tokio::test]
async fn the_deals_list_sorts_filters_and_pages_within_the_rights() {
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let org = seed_org(&db).await;
        let server = TestServer::start(&db).await;
        let (admin, _) = signed_in(&server, org.admin).await;
        let f = set_up_funnel(&admin, false).await;
        let (ma, _) = signed_in(&server, org.manager_a).await;
        let (head_b, _) = signed_in(&server, org.head_b).await;
        let (mb, _) = signed_in(&server, org.manager_b).await;
        let small = create_deal(&ma, f.pipeline, "Бра", 100_00).await.unwrap();
        let big = create_deal(&ma, f.pipeline, "Арка", 300_00).await.unwrap();
        create_deal(&ma, f.pipeline, "Вход", 200_00).await.unwrap();
        create_deal(&mb, f.pipeline, "Гараж", 900_00).await.unwrap();
        move_deal(&ma, big, f.qualification, 0, "l1").await.unwrap();
        move_deal(&ma, big, f.won, 1, "l2").await.unwrap();

        let order = |by: &str, descending: bool| json!({"order": {"by": by, "descending": descending}, "page": 0});
        assert_eq!(titles(&deals(&ma, order("amount", false)).await.unwrap()), ["Бра", "Вход", "Арка"]);
        assert_eq!(titles(&deals(&ma, order("amount", true)).await.unwrap()), ["Арка", "Вход", "Бра"]);
        assert_eq!(titles(&deals(&ma, order("title", false)).await.unwrap()), ["Арка", "Бра", "Вход"]);
        assert_eq!(titles(&deals(&ma, order("stage", true)).await.unwrap())[0], "Арка", "won is the last stage");
        let closed_first = deals(&ma, order("closed", true)).await.unwrap();
        assert!(closed_first.rows[0].closed_at.is_some() && closed_first.rows[1].closed_at.is_none());

        // Filters narrow within the rights; counts cover all pages.
        let won = deals(&ma, json!({"state": "won", "page": 0})).await.unwrap();
        assert_eq!((won.total, titles(&won)), (1, vec!["Арка"]));
        assert_eq!(deals(&ma, json!({"state": "open", "page": 0})).await.unwrap().total, 2);
        assert_eq!(deals(&ma, json!({"stage_id": f.new, "page": 0})).await.unwrap().total, 2);
        assert_eq!(titles(&deals(&ma, json!({"search": "БРА", "page": 0})).await.unwrap()), ["Бра"]);
        assert_eq!(deals(&ma, json!({"source": "phone", "page": 0})).await.unwrap().total, 0);
        assert_eq!(deals(&ma, json!({"pipeline_id": f.pipeline + 1000, "page": 0})).await.unwrap().total, 0);
        assert_eq!(titles(&deals(&head_b, json!({"page": 0})).await.unwrap()), ["Гараж"]);
        assert_eq!(deals(&admin, json!({"page": 0})).await.unwrap().total, 4);
        let mb_id = deal_page(&admin, small).await.unwrap().deal.card.manager_id;
        assert_eq!(deals(&head_b, json!({"manager_id": mb_id, "page": 0})).await.unwrap().total, 0);

        // Pages: 50 rows each, no row on two pages, none missing.
        for i in 0..48 {
            create_deal(&ma, f.pipeline, &format!("Партия {i:02}"), i * 100).await.unwrap();
        }
        let first = deals(&ma, json!({"page": 0})).await.unwrap();
        let second = deals(&ma, json!({"page": 1})).await.unwrap();
        assert_eq!((first.total, first.rows.len(), second.rows.len(), first.pages()), (51, 50, 1, 2));
        let mut seen: Vec<i64> = first.rows.iter().chain(&second.rows).map(|d| d.card.id).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 51);
        assert!(first.rows.windows(2).all(|w| w[0].created_at >= w[1].created_at), "newest first by default");

        assert_eq!(deals(&ma, json!({"page": -1})).await.unwrap_err(), AppError::invalid("page", Problem::Unknown));
        assert_eq!(
            deals(&ma, json!({"search": "я".repeat(101), "page": 0})).await.unwrap_err(),
            AppError::invalid("search", Problem::TooLong { max: 100 })
        );
        let bad_sort: Result<DealList, AppError> = ma
            .call_json(
                "deals",
                json!({"filter": {"order": {"by": "amount; DROP TABLE deals", "descending": true}, "page": 0}}),
            )
            .await;
        assert!(bad_sort.is_err(), "only named columns sort");
        assert_eq!(deals(&admin, json!({"page": 0})).await.unwrap().total, 52);
        assert_eq!(deals(&server.client(), json!({"page": 0})).await.unwrap_err(), AppError::Unauthenticated);
        server.stop().await;
        db.drop_db().await;
    }
}

async fn edit_deal(
    c: &Client,
    id: i64,
    version: i64,
    title: &str,
    amount: i64,
    responsible: i64,
) -> Result<i64, AppError> {
    c.call_json(
        "deals/update",
        json!({"edit": {"id": id, "version": version, "title": title, "amount": amount,
            "client_name": "ООО Ромашка", "source": "website", "responsible_id": responsible}}),
    )
    .await
}

#[tokio::test]
async fn a_deal_edit_checks_its_version_and_records_a_handover() {
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let org = seed_org(&db).await;
        let server = TestServer::start(&db).await;
        let (admin, _) = signed_in(&server, org.admin).await;
        let f = set_up_funnel(&admin, false).await;
        let (ma, ma_id) = signed_in(&server, org.manager_a).await;
        let (ma2, ma2_id) = signed_in(&server, org.manager_a2).await;
        let (head_a, _) = signed_in(&server, org.head_a).await;
        let (_, mb_id) = signed_in(&server, org.manager_b).await;
        let deal = create_deal(&ma, f.pipeline, "Окна", 100_00).await.unwrap();

        assert_eq!(edit_deal(&ma, deal, 0, "Окна ПВХ", 120_00, ma_id).await.unwrap(), 1);
        // A second tab still at version 0 gets a conflict and changes nothing.
        assert_eq!(edit_deal(&ma, deal, 0, "Старое", 1, ma_id).await.unwrap_err(), AppError::Conflict);
        assert_eq!(move_deal(&ma, deal, f.qualification, 0, "e1").await.unwrap_err(), AppError::Conflict);
        for (title, amount, field, problem) in [
            (" ", 1, "title", Problem::Required),
            ("X", -1, "amount", Problem::Negative),
            (&*"я".repeat(201), 1, "title", Problem::TooLong { max: 200 }),
        ] {
            assert_eq!(
                edit_deal(&ma, deal, 1, title, amount, ma_id).await.unwrap_err(),
                AppError::invalid(field, problem)
            );
        }
        assert_eq!(
            edit_deal(&ma, deal, 1, "X", 1, 999_999).await.unwrap_err(),
            AppError::invalid("responsible", Problem::Unknown)
        );
        assert_eq!(edit_deal(&ma, 999_999, 0, "X", 1, ma_id).await.unwrap_err(), AppError::NotFound);
        let page = deal_page(&ma, deal).await.unwrap();
        assert_eq!(
            (page.deal.card.title.as_str(), page.deal.card.amount, page.deal.card.version),
            ("Окна ПВХ", 120_00, 1)
        );
        let ma_name = page.deal.card.manager.clone();

        // A manager may not hand a deal to a colleague; the head may, within the department only.
        assert_eq!(edit_deal(&ma, deal, 1, "Окна ПВХ", 120_00, ma2_id).await.unwrap_err(), AppError::Forbidden);
        assert_eq!(edit_deal(&head_a, deal, 1, "Окна ПВХ", 120_00, mb_id).await.unwrap_err(), AppError::Forbidden);
        assert_eq!(edit_deal(&head_a, deal, 1, "Окна ПВХ", 120_00, ma2_id).await.unwrap(), 2);
        assert_eq!(deal_page(&ma, deal).await.unwrap_err(), AppError::Forbidden, "the old owner lets go");
        let page = deal_page(&ma2, deal).await.unwrap();
        let handover = page.events.last().unwrap();
        assert_eq!(handover.kind.as_str(), "responsible");
        assert_eq!(handover.from_user.as_deref(), Some(ma_name.as_str()));
        assert_eq!(handover.to_user.as_deref(), Some(page.deal.card.manager.as_str()));
        assert_ne!(ma_name, page.deal.card.manager);
        assert_eq!(page.deal.card.stage_id, f.new, "a handover moves nothing");
        assert!(move_deal(&ma2, deal, f.qualification, 2, "e2").await.is_ok());
        server.stop().await;
        db.drop_db().await;
    }
}

/// The board's open columns and the goals' weighted pipeline are summed from
/// `deal_totals`, which triggers keep on every write to deals: created,
/// moved between open and closed stages, repriced, handed over, given
/// another source. After each kind of write the stored totals equal a
/// recount, the board's open columns (every filter that reads them) equal a
/// count of their deals, and the weighted pipeline equals one over the deals.
#[tokio::test]
async fn stage_totals_follow_every_write_to_deals() {
    use crate::common::{create_deal as create_from, move_deal as move_with_reason};
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let org = seed_org(&db).await;
        let server = TestServer::start(&db).await;
        let (admin, _) = signed_in(&server, org.admin).await;
        let f = set_up_funnel(&admin, false).await;
        let (ma, ma_id) = signed_in(&server, org.manager_a).await;
        let (_, ma2_id) = signed_in(&server, org.manager_a2).await;
        let (head_a, _) = signed_in(&server, org.head_a).await;
        let (mb, mb_id) = signed_in(&server, org.manager_b).await;
        let a1 = create_from(&ma, f.pipeline, "Окна", 100_00, "ads").await;
        let a2 = create_from(&ma, f.pipeline, "Двери", 250_00, "website").await;
        let a3 = create_from(&ma, f.pipeline, "Крыша", 40_00, "ads").await;
        let b1 = create_from(&mb, f.pipeline, "Забор", 70_00, "phone").await;
        let b2 = create_from(&mb, f.pipeline, "Ворота", 30_00, "ads").await;
        let check = |when: &'static str| {
            let (db, admin, head_a, f) = (&db, &admin, &head_a, &f);
            async move {
                let [kept, recounted] = db.deal_totals().await;
                assert_eq!(kept, recounted, "{backend:?}, {when}: stored totals equal a recount");
                // "Created within ten years" counts the column's deals one by one.
                for (who, filter) in [
                    (admin, json!({})),
                    (admin, json!({"manager_id": ma_id})),
                    (admin, json!({"source": "ads"})),
                    (admin, json!({"department_id": org.dept_b})),
                    (head_a, json!({})),
                ] {
                    let summed = board(who, f.pipeline, filter.clone()).await.unwrap();
                    let mut counted_filter = filter.clone();
                    counted_filter["created_days"] = json!(3650);
                    let counted = board(who, f.pipeline, counted_filter).await.unwrap();
                    let totals =
                        |b: &Board| b.columns.iter().map(|c| (c.stage.id, c.count, c.total)).collect::<Vec<_>>();
                    assert_eq!(totals(&summed), totals(&counted), "{backend:?}, {when}, {filter}: columns");
                }
            }
        };
        check("created").await;
        move_deal(&ma, a1, f.qualification, 0, "s1").await.unwrap();
        move_deal(&ma, a2, f.won, 0, "s2").await.unwrap();
        move_with_reason(&ma, a3, f.lost, 0, Some("Дорого")).await;
        move_deal(&mb, b1, f.proposal, 0, "s3").await.unwrap();
        check("moved").await;
        // Back from won to an open stage, and a price and source change (the edit sets "website").
        move_deal(&ma, a2, f.proposal, 1, "s4").await.unwrap();
        assert_eq!(edit_deal(&ma, a1, 1, "Окна ПВХ", 120_00, ma_id).await.unwrap(), 2);
        check("reopened and edited").await;
        assert_eq!(edit_deal(&head_a, a1, 2, "Окна ПВХ", 120_00, ma2_id).await.unwrap(), 3);
        assert_eq!(edit_deal(&mb, b2, 0, "Ворота", 30_00, mb_id).await.unwrap(), 1);
        check("handed over").await;
        server.stop().await;

        let org_id: i64 = db.count("SELECT MIN(id) FROM organizations").await;
        let storage = db.open().await.storage;
        for filters in [
            app::goals::GoalFilters::default(),
            app::goals::GoalFilters { source: Some("website".into()), ..Default::default() },
            app::goals::GoalFilters { stage_id: Some(f.proposal), manager_id: Some(ma_id), ..Default::default() },
        ] {
            let mut q = String::from(
                "SELECT CAST(d.responsible_id AS TEXT), CAST(SUM(d.amount * s.probability) AS TEXT) \
                 FROM deals d JOIN stages s ON s.id = d.stage_id WHERE s.kind = 'open' AND d.closed_at IS NULL",
            );
            if let Some(source) = &filters.source {
                q.push_str(&format!(" AND d.source = '{source}'"));
            }
            if let Some(stage) = filters.stage_id {
                q.push_str(&format!(" AND d.stage_id = {stage}"));
            }
            if let Some(manager) = filters.manager_id {
                q.push_str(&format!(" AND d.responsible_id = {manager}"));
            }
            q.push_str(" GROUP BY d.responsible_id ORDER BY d.responsible_id");
            let mut weighted = storage.weighted_pipeline(org_id, &filters).await.unwrap();
            weighted.sort();
            let weighted: Vec<Vec<String>> =
                weighted.iter().map(|(who, w)| vec![who.to_string(), w.to_string()]).collect();
            assert_eq!(weighted, db.rows(&q).await, "{backend:?}: weighted pipeline, {filters:?}");
            assert!(!weighted.is_empty(), "{backend:?}: {filters:?} has open deals to weigh");
        }
        drop(storage);
        db.drop_db().await;
    }
}

async fn save_client(c: &Client, id: Option<i64>, name: &str, email: &str) -> Result<Buyer, AppError> {
    c.call_json(
        "clients/save",
        json!({"form": {"id": id, "name": name, "kind": "person", "phone": "+7 900 1", "email": email}}),
    )
    .await
}

async fn clients(c: &Client, filter: Value) -> Result<ClientList, AppError> {
    c.call_json("clients", json!({ "filter": filter })).await
}

#[tokio::test]
async fn clients_show_what_they_bought_and_are_edited_with_checks() {
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let org = seed_org(&db).await;
        let server = TestServer::start(&db).await;
        let (admin, _) = signed_in(&server, org.admin).await;
        let f = set_up_funnel(&admin, false).await;
        let (ma, _) = signed_in(&server, org.manager_a).await;
        let (mb, _) = signed_in(&server, org.manager_b).await;
        let (head_b, _) = signed_in(&server, org.head_b).await;
        for (i, amount) in [100_00, 250_00].into_iter().enumerate() {
            let deal = create_deal(&ma, f.pipeline, "Окна", amount).await.unwrap();
            move_deal(&ma, deal, f.qualification, 0, &format!("c{i}a")).await.unwrap();
            move_deal(&ma, deal, f.won, 1, &format!("c{i}b")).await.unwrap();
        }
        create_deal(&ma, f.pipeline, "Двери", 999_00).await.unwrap();
        let petrov = save_client(&ma, None, "ИП Петров", "PETROV@Example.ru").await.unwrap();
        assert_eq!((petrov.email.as_str(), petrov.deals, petrov.is_repeat()), ("petrov@example.ru", 0, false));

        let list = clients(&ma, json!({"order": {"by": "revenue", "descending": true}, "page": 0})).await.unwrap();
        let romashka = &list.rows[0];
        assert_eq!(
            (romashka.name.as_str(), romashka.deals, romashka.won_deals, romashka.won_total),
            ("ООО Ромашка", 3, 2, 350_00)
        );
        assert!(romashka.is_repeat());
        assert_eq!(list.rows[1].name, "ИП Петров");
        let names = |l: ClientList| l.rows.into_iter().map(|c| c.name).collect::<Vec<_>>();
        assert_eq!(names(clients(&ma, json!({"search": "ромашка", "page": 0})).await.unwrap()), ["ООО Ромашка"]);
        assert_eq!(names(clients(&ma, json!({"kind": "person", "page": 0})).await.unwrap()), ["ИП Петров"]);
        assert_eq!(clients(&mb, json!({"page": 0})).await.unwrap().total, 0, "other people's clients stay hidden");
        assert_eq!(clients(&head_b, json!({"page": 0})).await.unwrap().total, 0);
        assert_eq!(clients(&admin, json!({"page": 0})).await.unwrap().total, 2);

        for (name, email, field, problem) in [
            (" ", "", "name", Problem::Required),
            ("ООО Ромашка", "", "name", Problem::Taken),
            ("Новый", "not-an-email", "email", Problem::BadEmail),
        ] {
            assert_eq!(save_client(&ma, None, name, email).await.unwrap_err(), AppError::invalid(field, problem));
        }
        assert_eq!(save_client(&mb, Some(petrov.id), "Чужой", "").await.unwrap_err(), AppError::Forbidden);
        assert_eq!(save_client(&ma, Some(999_999), "Нет такого", "").await.unwrap_err(), AppError::NotFound);
        assert_eq!(clients(&ma, json!({"page": 0})).await.unwrap().total, 2, "refused saves stored nothing");

        // Renaming a client renames it on its deals, and they are found by the new name.
        let renamed = save_client(&ma, Some(romashka.id), "ООО Лютик", "").await.unwrap();
        assert_eq!((renamed.name.as_str(), renamed.won_total), ("ООО Лютик", 350_00));
        assert_eq!(deal_ids(&board(&ma, f.pipeline, json!({"search": "лютик"})).await.unwrap()).len(), 3);
        server.stop().await;
        db.drop_db().await;
    }
}

async fn list(c: &Client, filter: Value) -> Result<ActivityList, AppError> {
    c.call_json("activities", json!({ "filter": filter })).await
}

#[tokio::test]
async fn the_activities_list_filters_by_kind_and_person_within_the_rights() {
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let org = seed_org(&db).await;
        let server = TestServer::start(&db).await;
        let (admin, _) = signed_in(&server, org.admin).await;
        let f = set_up_funnel(&admin, false).await;
        let (ma, ma_id) = signed_in(&server, org.manager_a).await;
        let (ma2, _) = signed_in(&server, org.manager_a2).await;
        let (head_a, _) = signed_in(&server, org.head_a).await;
        let (mb, _) = signed_in(&server, org.manager_b).await;
        let deal = create_deal(&ma, f.pipeline, "Окна", 100_00).await.unwrap();
        let other = create_deal(&ma2, f.pipeline, "Двери", 100_00).await.unwrap();
        let theirs = create_deal(&mb, f.pipeline, "Крыша", 100_00).await.unwrap();
        for (c, d, kind, duration) in [
            (&ma, deal, "call_out", Some(300)),
            (&ma, deal, "call_in", Some(20)),
            (&ma2, other, "meeting", None),
            (&mb, theirs, "call_out", Some(60)),
        ] {
            log(
                c,
                json!({"kind": kind, "deal_id": d, "lead_id": null, "duration_s": duration, "note": "Договорились"}),
            )
            .await
            .unwrap();
        }
        let own = list(&ma, json!({"page": 0})).await.unwrap();
        assert_eq!(own.total, 2);
        assert!(own.rows.iter().all(|a| a.user_id == ma_id && a.subject == "Окна" && a.deal_id == Some(deal)));
        assert_eq!(list(&head_a, json!({"page": 0})).await.unwrap().total, 3);
        assert_eq!(list(&admin, json!({"page": 0})).await.unwrap().total, 4);
        let calls = list(&head_a, json!({"kind": "call_out", "page": 0})).await.unwrap();
        assert_eq!(calls.rows.iter().map(|a| a.duration_s).collect::<Vec<_>>(), [Some(300)]);
        let by_length =
            list(&admin, json!({"order": {"by": "duration", "descending": true}, "page": 0})).await.unwrap();
        assert_eq!(
            by_length.rows.iter().map(|a| a.duration_s).collect::<Vec<_>>(),
            [Some(300), Some(60), Some(20), None]
        );
        assert_eq!(list(&admin, json!({"user_id": ma_id, "page": 0})).await.unwrap().total, 2);
        assert_eq!(list(&admin, json!({"deal_id": other, "page": 0})).await.unwrap().total, 1);
        assert_eq!(list(&admin, json!({"since": i64::MAX / 2, "page": 0})).await.unwrap().total, 0);
        server.stop().await;
        db.drop_db().await;
    }
}

async fn correct(
    c: &Client,
    id: i64,
    version: i64,
    kind: &str,
    duration: Option<i32>,
    note: &str,
) -> Result<Activity, AppError> {
    let edit = json!({"id": id, "version": version, "kind": kind, "duration_s": duration, "note": note});
    c.call_json("activities/update", json!({ "edit": edit })).await
}

#[tokio::test]
async fn activities_are_corrected_at_their_version_by_whoever_may_edit_their_subject() {
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let org = seed_org(&db).await;
        let server = TestServer::start(&db).await;
        let (admin, _) = signed_in(&server, org.admin).await;
        let f = set_up_funnel(&admin, false).await;
        let (ma, ma_id) = signed_in(&server, org.manager_a).await;
        let (ma2, _) = signed_in(&server, org.manager_a2).await;
        let (head_a, _) = signed_in(&server, org.head_a).await;
        let (viewer, _) = signed_in(&server, org.viewer_a).await;
        let (mb, _) = signed_in(&server, org.manager_b).await;
        let deal = create_deal(&ma, f.pipeline, "Окна", 100_00).await.unwrap();
        let call =
            log(&ma, json!({"kind": "call_out", "deal_id": deal, "lead_id": null, "duration_s": 300, "note": ""}))
                .await
                .unwrap();
        assert_eq!(call.version, 0);

        // The author corrects kind, length and note; who, when and what it was about stay.
        let fixed = correct(&ma, call.id, 0, "call_in", Some(125), "  Перезвонил сам  ").await.unwrap();
        assert_eq!(
            (fixed.kind, fixed.duration_s, fixed.note.as_str(), fixed.version),
            (app::pipeline::ActivityKind::CallIn, Some(125), "Перезвонил сам", 1)
        );
        assert_eq!(
            (fixed.user_id, fixed.at, fixed.deal_id, fixed.subject.as_str()),
            (ma_id, call.at, Some(deal), "Окна")
        );
        let stored = |c: &'static str| {
            let db = &db;
            async move { db.count(&format!("SELECT CAST({c} AS BIGINT) FROM activities WHERE id = {}", call.id)).await }
        };
        // A second editor still holding version 0 is told, and nothing is overwritten.
        assert_eq!(correct(&head_a, call.id, 0, "meeting", None, "").await.unwrap_err(), AppError::Conflict);
        assert_eq!((stored("duration_s").await, stored("version").await), (125, 1));

        // Bad input is named and stores nothing.
        for (kind, duration, note, error) in [
            ("call_out", Some(-1), "", AppError::invalid("duration", Problem::Negative)),
            ("call_out", Some(86_401), "", AppError::invalid("duration", Problem::TooLarge)),
            ("note", None, "   ", AppError::invalid("note", Problem::Required)),
            (
                "call_out",
                Some(60),
                &"я".repeat(2_001) as &str,
                AppError::invalid("note", Problem::TooLong { max: 2_000 }),
            ),
        ] {
            assert_eq!(correct(&ma, call.id, 1, kind, duration, note).await.unwrap_err(), error, "{kind} {duration:?}");
        }
        let unknown_kind = json!({"id": call.id, "version": 1, "kind": "telegram", "duration_s": null, "note": ""});
        assert!(ma.call_json::<Activity>("activities/update", json!({ "edit": unknown_kind })).await.is_err());
        assert_eq!((stored("duration_s").await, stored("version").await), (125, 1));

        // Only calls keep a length.
        let meeting = correct(&ma, call.id, 1, "meeting", Some(600), "Встреча").await.unwrap();
        assert_eq!((meeting.duration_s, meeting.version), (None, 2));

        // Rights follow the deal: its head may, a colleague with own-deals rights, the
        // other department and a viewer may not; an unknown id is not found; a stranger must sign in.
        assert_eq!(correct(&ma2, call.id, 2, "chat", None, "").await.unwrap_err(), AppError::Forbidden);
        assert_eq!(correct(&mb, call.id, 2, "chat", None, "").await.unwrap_err(), AppError::Forbidden);
        assert_eq!(correct(&viewer, call.id, 2, "chat", None, "").await.unwrap_err(), AppError::Forbidden);
        assert_eq!(correct(&admin, 987_654, 0, "chat", None, "").await.unwrap_err(), AppError::NotFound);
        assert_eq!(
            correct(&server.client(), call.id, 2, "chat", None, "").await.unwrap_err(),
            AppError::Unauthenticated
        );
        assert_eq!(stored("version").await, 2);
        assert_eq!(correct(&head_a, call.id, 2, "chat", None, "В мессенджере").await.unwrap().version, 3);

        // On a lead, the lead's rights decide.
        let lead: Lead = ma
            .call_json(
                "leads/create",
                json!({"form": {"title": "Заявка", "source": "website", "contact_name": "", "phone": ""}}),
            )
            .await
            .unwrap();
        let on_lead =
            log(&ma, json!({"kind": "call_out", "deal_id": null, "lead_id": lead.id, "duration_s": 40, "note": ""}))
                .await
                .unwrap();
        assert_eq!(correct(&mb, on_lead.id, 0, "call_out", Some(45), "").await.unwrap_err(), AppError::Forbidden);
        assert_eq!(correct(&ma, on_lead.id, 0, "call_out", Some(45), "").await.unwrap().duration_s, Some(45));

        // About neither (an incoming call nobody tied to a lead), its author's work decides.
        let loose = {
            let s = db.open().await.storage;
            let org_id = s.default_org().await.unwrap().unwrap();
            let new = app::storage::NewActivity {
                kind: app::pipeline::ActivityKind::CallIn,
                user_id: ma_id,
                deal_id: None,
                lead_id: None,
                client_id: None,
                duration_s: Some(30),
                note: String::new(),
                at: None,
            };
            s.add_activity(org_id, &new, 1_000).await.unwrap()
        };
        assert_eq!(correct(&mb, loose.id, 0, "call_in", Some(31), "").await.unwrap_err(), AppError::Forbidden);
        assert_eq!(correct(&head_a, loose.id, 0, "call_in", Some(31), "").await.unwrap().duration_s, Some(31));
        server.stop().await;
        db.drop_db().await;
    }
}

#[tokio::test]
async fn activities_are_dated_back_within_reason_and_logged_on_a_client() {
    const HOUR: i64 = 3_600_000;
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let org = seed_org(&db).await;
        let server = TestServer::start(&db).await;
        let (admin, _) = signed_in(&server, org.admin).await;
        let f = set_up_funnel(&admin, false).await;
        let (m, _) = signed_in(&server, org.manager_a).await;
        let (mb, _) = signed_in(&server, org.manager_b).await;
        let now = jiff::Timestamp::now().as_millisecond();

        // A lead that came in three hours ago and was taken on just now: the
        // call logged afterwards, made two hours ago, was its first response.
        let form = json!({"form": {"title": "Ночная заявка", "source": "phone", "contact_name": "", "phone": ""}});
        let lead: Lead = m.call_json("leads/create", form).await.unwrap();
        db.exec(&format!("UPDATE leads SET created_at = {} WHERE id = {}", now - 3 * HOUR, lead.id)).await;
        // Behind the KPI roll-up's back: it is rebuilt from the records.
        let org_id: i64 = db.count("SELECT MIN(id) FROM organizations").await;
        db.open().await.storage.rebuild_kpis(org_id).await.unwrap();
        let taken = lead_status(&m, f.pipeline, lead.id, "in_work", None).await.unwrap();
        assert!(taken.first_response_at.is_some_and(|at| at >= now));
        let call = |at: i64| json!({"form": {"kind": "call_out", "deal_id": null, "lead_id": lead.id, "duration_s": 60, "note": "", "at": at}});
        let activities_before = db.count("SELECT COUNT(*) FROM activities").await;
        assert_eq!(
            m.call_json::<Activity>("activities/create", call(now - 4 * HOUR)).await.unwrap_err(),
            AppError::invalid("at", Problem::BeforeCreated)
        );
        assert_eq!(
            m.call_json::<Activity>("activities/create", call(now + HOUR)).await.unwrap_err(),
            AppError::invalid("at", Problem::InFuture)
        );
        assert_eq!(db.count("SELECT COUNT(*) FROM activities").await, activities_before, "refused calls store nothing");
        let made: Activity = m.call_json("activities/create", call(now - 2 * HOUR)).await.unwrap();
        assert_eq!(made.at, now - 2 * HOUR);
        let leads: LeadPage = m.call_json("leads", json!({"filter": {"page": 0}})).await.unwrap();
        let answered = leads.rows.iter().find(|l| l.id == lead.id).unwrap();
        assert_eq!(answered.first_response_at, Some(now - 2 * HOUR), "the earlier call is the first response");
        // A later one leaves the first response where it is.
        let _: Activity = m.call_json("activities/create", call(now - HOUR)).await.unwrap();
        let leads: LeadPage = m.call_json("leads", json!({"filter": {"page": 0}})).await.unwrap();
        assert_eq!(leads.rows.iter().find(|l| l.id == lead.id).unwrap().first_response_at, Some(now - 2 * HOUR));
        // The form gives whole minutes: a time within the minute before the lead came in is its moment.
        let first: Activity = m.call_json("activities/create", call(now - 3 * HOUR - 30_000)).await.unwrap();
        assert_eq!(first.at, now - 3 * HOUR);

        // About a client as a whole: logged by whoever may work with the client, listed under its name.
        let form = json!({"form": {"id": null, "name": "ИП Звонков", "kind": "person", "phone": "", "email": ""}});
        let client: Buyer = m.call_json("clients/save", form).await.unwrap();
        let on_client = json!({"form": {"kind": "meeting", "deal_id": null, "lead_id": null, "client_id": client.id,
            "duration_s": null, "note": "Встреча в офисе"}});
        let met: Activity = m.call_json("activities/create", on_client.clone()).await.unwrap();
        assert_eq!((met.client_id, met.subject.as_str()), (Some(client.id), "ИП Звонков"));
        assert_eq!(mb.call_json::<Activity>("activities/create", on_client).await.unwrap_err(), AppError::Forbidden);
        let deal = create_deal(&m, f.pipeline, "Окна", 100).await.unwrap();
        let both = json!({"form": {"kind": "note", "deal_id": deal, "lead_id": null, "client_id": client.id,
            "duration_s": null, "note": "Двойная"}});
        assert_eq!(
            m.call_json::<Activity>("activities/create", both).await.unwrap_err(),
            AppError::invalid("deal", Problem::Required),
            "one subject at a time"
        );
        assert_eq!(correct(&mb, met.id, 0, "meeting", None, "Чужая").await.unwrap_err(), AppError::Forbidden);
        assert_eq!(
            correct(&m, met.id, 0, "meeting", None, "Встреча у клиента").await.unwrap().note,
            "Встреча у клиента"
        );
        let listed = list(&m, json!({"page": 0})).await.unwrap();
        let row = listed.rows.iter().find(|a| a.id == met.id).expect("listed");
        assert_eq!((row.subject.as_str(), row.client_id), ("ИП Звонков", Some(client.id)));
        server.stop().await;
        db.drop_db().await;
    }
}

async fn set_rate(c: &Client, currency: &str, rate: i64) -> Result<CurrencyRate, AppError> {
    c.call("currencies/set", &[("currency", currency), ("rate", &rate.to_string())]).await
}

async fn edit_price(
    c: &Client,
    id: i64,
    version: i64,
    title: &str,
    amount: i64,
    currency: &str,
) -> Result<i64, AppError> {
    let page = deal_page(c, id).await.unwrap();
    c.call_json(
        "deals/update",
        json!({"edit": {"id": id, "version": version, "title": title, "amount": amount, "currency": currency,
            "client_name": "", "source": "website", "responsible_id": page.deal.card.manager_id}}),
    )
    .await
}

#[tokio::test]
async fn foreign_prices_count_in_rubles_at_the_rate_when_saved() {
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let org = seed_org(&db).await;
        let server = TestServer::start(&db).await;
        let (admin, _) = signed_in(&server, org.admin).await;
        let (head, _) = signed_in(&server, org.head_a).await;
        let (manager, _) = signed_in(&server, org.manager_a).await;
        let f = set_up_funnel(&admin, false).await;
        let priced = |amount: i64, currency: &str| {
            json!({"form": {"pipeline_id": f.pipeline, "title": "Экспорт", "amount": amount, "currency": currency,
                "client_name": "", "source": "website"}})
        };

        // Without a rate, or in a currency nobody prices in, nothing is created.
        let refused = manager.call_json::<i64>("deals/create", priced(1_500_00, "USD")).await;
        assert_eq!(refused.unwrap_err(), AppError::invalid("currency", Problem::NoRate));
        let refused = manager.call_json::<i64>("deals/create", priced(1_500_00, "XXX")).await;
        assert_eq!(refused.unwrap_err(), AppError::invalid("currency", Problem::Unknown));
        assert!(deal_ids(&board(&manager, f.pipeline, json!({})).await.unwrap()).is_empty());

        // Heads and admins set rates; a manager may only read them; bad rates change nothing.
        assert_eq!(set_rate(&manager, "USD", 92_500000).await.unwrap_err(), AppError::Forbidden);
        for (currency, rate, field, problem) in [
            ("USD", 0, "rate", Problem::NotPositive),
            ("USD", 100_001_000000, "rate", Problem::TooLarge),
            ("RUB", 1_000000, "currency", Problem::Unknown),
            ("GBP", 1_000000, "currency", Problem::Unknown),
        ] {
            assert_eq!(set_rate(&head, currency, rate).await.unwrap_err(), AppError::invalid(field, problem));
        }
        let rates: Vec<CurrencyRate> = manager.call("currencies/rates", &[]).await.unwrap();
        assert!(rates.is_empty());
        let usd = set_rate(&head, "USD", 92_500000).await.unwrap();
        assert_eq!((usd.currency.as_str(), usd.rate), ("USD", 92_500000));
        let rates: Vec<CurrencyRate> = manager.call("currencies/rates", &[]).await.unwrap();
        assert_eq!(rates, vec![usd]);

        // $1,500 at 92.5 ₽ is 138,750 ₽: the card shows the dollars, the column counts the roubles.
        let deal = manager.call_json::<i64>("deals/create", priced(1_500_00, "USD")).await.unwrap();
        create_deal(&manager, f.pipeline, "Окна", 100_000_00).await.unwrap();
        let b = board(&manager, f.pipeline, json!({})).await.unwrap();
        let card = b.card(deal).unwrap();
        assert_eq!((card.amount, card.currency.as_str(), card.currency_amount), (138_750_00, "USD", Some(1_500_00)));
        assert_eq!(b.columns[0].total, 238_750_00);
        let page = deal_page(&manager, deal).await.unwrap();
        assert_eq!(page.events[0].amount, 138_750_00, "history records the roubles");

        // A new rate applies to deals saved from then on; an edit that keeps
        // the price keeps the roubles, one that changes it converts anew.
        set_rate(&admin, "USD", 100_000000).await.unwrap();
        let amount = |page: &DealPage| (page.deal.card.amount, page.deal.card.currency_amount);
        let v = edit_price(&manager, deal, 0, "Экспорт в Казахстан", 1_500_00, "USD").await.unwrap();
        assert_eq!(amount(&deal_page(&manager, deal).await.unwrap()), (138_750_00, Some(1_500_00)));
        let v = edit_price(&manager, deal, v, "Экспорт", 2_000_00, "USD").await.unwrap();
        assert_eq!(amount(&deal_page(&manager, deal).await.unwrap()), (200_000_00, Some(2_000_00)));
        let v = edit_price(&manager, deal, v, "Экспорт", 2_000_00, "RUB").await.unwrap();
        assert_eq!(amount(&deal_page(&manager, deal).await.unwrap()), (2_000_00, None));

        // Too much once in roubles, or a currency that lost its way: refused, nothing changed.
        let huge = edit_price(&manager, deal, v, "Экспорт", 999_999_999_999_99, "USD").await;
        assert_eq!(huge.unwrap_err(), AppError::invalid("amount", Problem::TooLarge));
        let unknown = edit_price(&manager, deal, v, "Экспорт", 1_00, "EUR").await;
        assert_eq!(unknown.unwrap_err(), AppError::invalid("currency", Problem::NoRate));
        let page = deal_page(&manager, deal).await.unwrap();
        assert_eq!(
            (amount(&page), page.deal.card.currency.as_str(), page.deal.card.version),
            ((2_000_00, None), "RUB", v)
        );

        // Won, the deal counts its roubles in the won column.
        let v = edit_price(&manager, deal, v, "Экспорт", 10_00, "USD").await.unwrap();
        move_deal(&manager, deal, f.qualification, v, "fx1").await.unwrap();
        move_deal(&manager, deal, f.proposal, v + 1, "fx2").await.unwrap();
        move_deal(&manager, deal, f.won, v + 2, "fx3").await.unwrap();
        let b = board(&manager, f.pipeline, json!({})).await.unwrap();
        let won = b.columns.iter().find(|c| c.stage.id == f.won).unwrap();
        assert_eq!((won.count, won.total), (1, 1_000_00));
        server.stop().await;
        db.drop_db().await;
    }
}
