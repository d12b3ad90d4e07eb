//! Fifty tasks move twenty deals at random for ten seconds, on each backend,
//! some retrying with the same key. Afterwards every deal's stage is the `to`
//! of its last event, its version counts its moves, and every move that was
//! answered as made is in the history exactly once, and the roll-ups and
//! stage totals equal a rebuild from the records.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::*;
use app::error::AppError;
use app::pipeline::{DealPage, Moved, Pipeline};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

const TASKS: u64 = 50;
const DEALS: usize = 20;
const RUN_FOR: Duration = Duration::from_secs(10);

async fn move_deal(c: &Client, deal: i64, to: i64, version: i64, key: &str) -> Result<Moved, AppError> {
    let request = json!({"deal_id": deal, "to_stage_id": to, "version": version, "key": key, "loss_reason": "Тест"});
    c.call_json("deals/move", json!({ "request": request })).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_movers_lose_and_double_nothing() {
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let org = seed_org(&db).await;
        let server = TestServer::start(&db).await;
        let (admin, _) = signed_in(&server, org.admin).await;
        let p: Pipeline = admin.call("pipelines/save", &[("name", "Гонка"), ("block_skips", "false")]).await.unwrap();
        for (i, name) in ["Квалификация", "Встреча", "КП"].into_iter().enumerate() {
            let form = json!({"id": null, "pipeline_id": p.id, "name": name, "kind": "open", "probability": 50,
                "required": i == 0, "stale_days": 0, "archived": false, "position": i + 1});
            let _: app::pipeline::Stage = admin.call_json("stages/save", json!({ "form": form })).await.unwrap();
        }
        let pipelines: Vec<Pipeline> = admin.call("pipelines", &[]).await.unwrap();
        let stages: Vec<i64> = pipelines.iter().find(|x| x.id == p.id).unwrap().stages.iter().map(|s| s.id).collect();
        // The deals are a manager's; the manager and the department head move them.
        let (manager, _) = signed_in(&server, org.manager_a).await;
        let mut deals = Vec::new();
        for i in 0..DEALS {
            let form = json!({"pipeline_id": p.id, "title": format!("Сделка {i}"), "amount": 1000, "client_name": "", "source": "ads"});
            deals.push(manager.call_json::<i64>("deals/create", json!({ "form": form })).await.unwrap());
        }
        let (head, _) = signed_in(&server, org.head_a).await;
        let clients = Arc::new([manager, head]);
        let deals = Arc::new(deals);
        let stages = Arc::new(stages);
        let made = Arc::new(AtomicI64::new(0));
        let conflicts = Arc::new(AtomicI64::new(0));
        let replays = Arc::new(AtomicI64::new(0));
        let until = Instant::now() + RUN_FOR;

        let mut tasks = Vec::new();
        for t in 0..TASKS {
            let (clients, deals, stages) = (clients.clone(), deals.clone(), stages.clone());
            let (made, conflicts, replays) = (made.clone(), conflicts.clone(), replays.clone());
            tasks.push(tokio::spawn(async move {
                let mut rng = StdRng::seed_from_u64(t);
                // Versions as this task last saw them; often stale, which is the point.
                let mut known = [0i64; DEALS];
                let mut n = 0;
                while Instant::now() < until {
                    n += 1;
                    let c = &clients[(t % 2) as usize];
                    let d = rng.gen_range(0..DEALS);
                    let to = stages[rng.gen_range(0..stages.len())];
                    let key = format!("t{t}-{n}");
                    let sent = known[d];
                    match move_deal(c, deals[d], to, sent, &key).await {
                        Ok(moved) => {
                            if moved.version != known[d] {
                                made.fetch_add(1, Ordering::Relaxed);
                            }
                            known[d] = moved.version;
                            if rng.gen_bool(0.1) {
                                // The answer "got lost": retry with the same key.
                                let again = move_deal(c, deals[d], to, sent, &key).await.unwrap();
                                assert!(again.replayed, "a retried key repeats the first answer");
                                assert_eq!(again.version, moved.version);
                                replays.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        Err(AppError::Conflict) => {
                            conflicts.fetch_add(1, Ordering::Relaxed);
                            let page: DealPage = c.call("deals/get", &[("id", &deals[d].to_string())]).await.unwrap();
                            known[d] = page.deal.card.version;
                        }
                        Err(e) => panic!("unexpected {e:?}"),
                    }
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let made = made.load(Ordering::Relaxed);
        println!(
            "{backend:?}: {made} moves made, {} conflicts, {} retries replayed in {RUN_FOR:?}",
            conflicts.load(Ordering::Relaxed),
            replays.load(Ordering::Relaxed)
        );
        assert!(made > 100, "the run should move a lot, made {made}");
        assert!(conflicts.load(Ordering::Relaxed) > 0, "fifty movers on twenty deals must collide");

        let mut events_total = 0;
        for &deal in deals.iter() {
            let page: DealPage = clients[0].call("deals/get", &[("id", &deal.to_string())]).await.unwrap();
            let moves: Vec<_> = page.events.iter().filter(|e| e.kind.as_str() == "stage").collect();
            assert_eq!(page.events.last().unwrap().to_stage_id, Some(page.deal.card.stage_id), "deal {deal}");
            assert_eq!(moves.len() as i64, page.deal.card.version, "deal {deal}: one event per version");
            for pair in page.events.windows(2) {
                assert_eq!(pair[1].from_stage_id, pair[0].to_stage_id, "deal {deal}: history is a chain");
            }
            events_total += moves.len() as i64;
        }
        assert_eq!(events_total, made, "every move answered as made is in the history exactly once");
        server.stop().await;

        // Each move added its changes to the roll-ups, committed in groups
        // (SQLite) or side by side (PostgreSQL): the sums must be what a
        // rebuild from the records gives.
        let rolled = db.roll_ups().await;
        assert!(rolled.iter().any(|r| r[0] == "kpi_days"), "{backend:?}: some moves closed deals");
        let org_id: i64 = db.count("SELECT MIN(id) FROM organizations").await;
        let storage = db.open().await.storage;
        storage.rebuild_funnel(org_id).await.unwrap();
        storage.rebuild_kpis(org_id).await.unwrap();
        drop(storage);
        assert_eq!(rolled, db.roll_ups().await, "{backend:?}: the roll-ups after the run equal a rebuild");
        let [kept, recounted] = db.deal_totals().await;
        assert_eq!(kept, recounted, "{backend:?}: the stage totals after the run equal a recount");
        db.drop_db().await;
    }
}
