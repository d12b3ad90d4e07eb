//! The `voronka` binary itself: starting on an empty and on an existing
//! database (SQLite and PostgreSQL), first-admin set-up, create-user, backup.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use crate::common::*;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

fn voronka(data_dir: &Path, db: Option<&TestDb>) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_voronka"));
    cmd.env_remove("DATABASE_URL")
        .env_remove("VORONKA_ADMIN_EMAIL")
        .env_remove("VORONKA_ADMIN_PASSWORD")
        .env("RUST_LOG", "warn")
        .arg("--data-dir")
        .arg(data_dir);
    if let Some(db) = db {
        cmd.arg("--database-url").arg(&db.url);
    }
    cmd
}

/// Starts `serve`, waits for its "running on" line; returns the process, the
/// base URL and everything it printed before that.
async fn serve(mut cmd: Command, extra: &[&str]) -> (Child, String, String) {
    cmd.args(["serve", "--addr", "127.0.0.1:0"]).args(extra).stdout(Stdio::piped()).kill_on_drop(true);
    let mut child = cmd.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = String::new();
    let base = tokio::time::timeout(Duration::from_secs(120), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            printed.push_str(&line);
            printed.push('\n');
            if let Some(rest) = line.split("running on ").nth(1) {
                return rest.split_whitespace().next().unwrap().to_string();
            }
        }
        panic!("server exited: {printed}");
    })
    .await
    .expect("server start");
    (child, base, printed)
}

async fn healthz(base: &str) -> serde_json::Value {
    reqwest::get(format!("{base}/healthz")).await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn starts_on_empty_and_existing_databases() {
    for backend in BACKENDS {
        let dir = tempfile::tempdir().unwrap();
        let db = TestDb::new(backend).await;
        let pg = (backend == Backend::Postgres).then_some(&db);

        let (mut child, base, printed) = serve(voronka(dir.path(), pg), &["--demo"]).await;
        assert!(printed.contains("Demo logins"), "{backend:?}: {printed}");
        assert!(printed.contains(app::demo::DEMO_MANAGER));
        let health = healthz(&base).await;
        assert_eq!(health["status"], "ok");
        assert_eq!(health["database"], if pg.is_some() { "postgres" } else { "sqlite" });
        let c = Client::new(&base);
        c.login(app::demo::DEMO_MANAGER, app::demo::DEMO_PASSWORD).await.unwrap();
        let page = c.http.get(format!("{base}/")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("Главная"), "the shell renders in Russian");
        child.kill().await.unwrap();
        if pg.is_none() {
            assert!(dir.path().join("voronka.db").exists());
        }

        // The second start finds its data and does not generate it again.
        let (mut child, base, printed) = serve(voronka(dir.path(), pg), &["--demo"]).await;
        assert!(!printed.contains("Demo data"), "{printed}");
        Client::new(&base).login(app::demo::DEMO_MANAGER, app::demo::DEMO_PASSWORD).await.unwrap();
        child.kill().await.unwrap();
        db.drop_db().await;
    }
}

#[tokio::test]
async fn first_start_without_demo_creates_an_admin() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = voronka(dir.path(), None);
    cmd.env("VORONKA_ADMIN_EMAIL", "Boss@Firm.ru").env("VORONKA_ADMIN_PASSWORD", "boss-password");
    let (mut child, base, printed) = serve(cmd, &[]).await;
    assert!(printed.contains("Created the first admin: boss@firm.ru"), "{printed}");
    let me = Client::new(&base).login("boss@firm.ru", "boss-password").await.unwrap();
    assert_eq!(me["user"]["role"], "admin");
    child.kill().await.unwrap();

    // With no credentials, a one-time password is generated and printed.
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base, printed) = serve(voronka(dir.path(), None), &[]).await;
    let line = printed.lines().find(|l| l.contains("one-time password")).expect(&printed);
    let password = line.rsplit(' ').next().unwrap();
    assert_eq!(password.len(), 16);
    Client::new(&base).login("admin@localhost.local", password).await.unwrap();
    child.kill().await.unwrap();
}

#[tokio::test]
async fn create_user_validates_and_backup_passes_integrity_check() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let mut cmd = voronka(dir.path(), None);
        cmd.args(args);
        async move { cmd.output().await.unwrap() }
    };
    let ok =
        run(&["create-user", "--email", "a@b.ru", "--name", "Анна", "--password", "long-enough", "--role", "head"])
            .await;
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("Created a@b.ru (head)"));

    for (args, message) in [
        (["--email", "not-mail", "--name", "X", "--password", "long-enough", "--role", "head"], "E-mail"),
        (["--email", "c@b.ru", "--name", "X", "--password", "long-enough", "--role", "boss"], "Role"),
        (["--email", "a@b.ru", "--name", "X", "--password", "long-enough", "--role", "head"], "already taken"),
    ] {
        let mut all = vec!["create-user"];
        all.extend(args);
        let out = run(&all).await;
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains(message), "{}", String::from_utf8_lossy(&out.stderr));
    }

    let backup = dir.path().join("copy.db");
    let out = run(&["backup", backup.to_str().unwrap()]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("integrity_check: ok"));
    assert_eq!(server::storage::sqlite::integrity_check(&backup).await.unwrap(), "ok");
    // The copy is a working database with the same people.
    let copy = server::storage::Database::open(&format!("sqlite://{}", backup.display())).await.unwrap();
    assert!(copy.storage.credentials("a@b.ru").await.unwrap().is_some());
    // It never overwrites.
    let again = run(&["backup", backup.to_str().unwrap()]).await;
    assert!(!again.status.success());

    let out = run(&["migrate"]).await;
    assert!(out.status.success());
}

#[tokio::test]
async fn bench_refuses_zero_movers_before_opening_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let out = voronka(dir.path(), None)
        .args(["bench", "--keep-data", "--rounds", "1", "--seconds", "1", "--movers", "8,0"])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--movers"), "{stderr}");
    assert!(!dir.path().join("voronka.db").exists(), "the database was opened");
}

#[tokio::test]
async fn bench_live_delivers_every_move_to_every_stream() {
    for backend in BACKENDS {
        let dir = tempfile::tempdir().unwrap();
        let db = TestDb::new(backend).await;
        let pg = (backend == Backend::Postgres).then_some(&db);
        let started = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
        let out =
            voronka(dir.path(), pg).args(["bench-live", "--clients", "40", "--moves", "6"]).output().await.unwrap();
        let printed = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{backend:?}: {printed}{}", String::from_utf8_lossy(&out.stderr));
        assert!(printed.contains("Demo data"), "an empty database gets the demo first: {printed}");
        assert!(printed.contains("Live fan-out: 41 streams open (40 connected in"), "{printed}");
        let line = |what: &str| printed.lines().find(|l| l.starts_with(what)).unwrap_or_else(|| panic!("{printed}"));
        // Every stream heard each of the 6 moves exactly once.
        assert!(line("move sent → one stream heard it").contains("n=246 "), "{printed}");
        assert!(line("move sent → the last stream heard it").contains("n=6 "), "{printed}");
        assert!(line("move answered").contains("n=6 "), "{printed}");
        assert!(line("server memory:").contains("KiB per stream"), "{printed}");

        // The warm-up and the 6 timed moves are real moves, each kept in the deal's history.
        let url = match pg {
            Some(db) => db.url.clone(),
            None => format!("sqlite://{}", dir.path().join("voronka.db").display()),
        };
        let store = server::storage::Database::open(&url).await.unwrap();
        let deal: i64 =
            line("Live fan-out").split("moves of deal ").nth(1).unwrap().trim_end_matches('.').parse().unwrap();
        let users = store.storage.users(1, app::access::Visibility::All).await.unwrap();
        let admin = users.iter().find(|u| u.email == app::demo::DEMO_ADMIN).unwrap();
        let page = store.storage.deal_page(1, deal, started + 3_600_000).await.unwrap().unwrap();
        let moves: Vec<_> = page.events.iter().filter(|e| e.at >= started && e.actor == admin.name).collect();
        assert_eq!(moves.len(), 7, "{:?}", page.events);
        let stages: std::collections::BTreeSet<_> = moves.iter().map(|e| e.to_stage_id).collect();
        assert_eq!(stages.len(), 2, "back and forth between two stages: {moves:?}");

        let refused = voronka(dir.path(), pg).args(["bench-live", "--clients", "0"]).output().await.unwrap();
        assert!(!refused.status.success());
        assert!(String::from_utf8_lossy(&refused.stderr).contains("--clients and --moves must be at least 1"));
        db.drop_db().await;
    }
}
