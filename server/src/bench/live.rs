//! `voronka bench-live`: how fast one move reaches every open browser.
//!
//! Starts this same binary as a separate `serve` process (so its memory is
//! the server's alone), signs in once as the demo admin, opens `clients`
//! live streams (`GET /api/live`) with that session and then moves one deal
//! back and forth through the real `deals/move` server function, one move at
//! a time. Each move is timed from the moment its request is sent until the
//! last stream has received its `deal` event: that span holds the commit and
//! the fan-out, so it is an upper bound on "from commit to the last client".

use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use app::access::Visibility;
use app::pipeline::{BoardFilter, MoveRequest, Moved, StageKind};
use app::storage::Storage;
use futures::StreamExt;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

use super::{percentile, report};

/// How many streams are being opened at once while connecting.
const CONNECTING_AT_ONCE: usize = 64;
/// How long one move may take to reach every stream before the run fails.
const DELIVERY_LIMIT: Duration = Duration::from_secs(30);
/// What marks a deal change in the event stream.
const DEAL_EVENT: &[u8] = b"event: deal\n";

/// Runs the fan-out benchmark against the database at `database_url`.
pub async fn measure(database_url: &str, storage: &dyn Storage, clients: usize, moves: usize) -> anyhow::Result<()> {
    if clients == 0 || moves == 0 {
        bail!("--clients and --moves must be at least 1");
    }
    // Every stream is a socket here and one in the server, which inherits this limit.
    if let Some(limit) = open_files_limit() {
        let needed = clients as u64 + 256;
        if needed > limit {
            bail!("{clients} streams need about {needed} open files, and this shell allows {limit}: raise it with `ulimit -n {needed}`");
        }
    }
    let deal = movable_deal(storage).await?;
    let (mut server, base) = start_server(database_url).await?;
    let result = run(&server, &base, deal, clients, moves).await;
    let _ = server.kill().await;
    result
}

/// A card on the first pipeline's board with the open stage next to its
/// own: moving between neighbours never skips a required stage.
async fn movable_deal(storage: &dyn Storage) -> anyhow::Result<(i64, i64, [i64; 2])> {
    let pipelines = storage.pipelines(1).await?;
    let pipeline =
        pipelines.first().ok_or_else(|| anyhow!("no pipeline; run `voronka demo` on this database first"))?;
    let filter = BoardFilter { pipeline_id: pipeline.id, ..Default::default() };
    let board = storage.board(1, &filter, Visibility::All, super::now_ms()).await?;
    let columns: Vec<_> = board.columns.iter().filter(|c| c.stage.kind == StageKind::Open).collect();
    for (at, column) in columns.iter().enumerate() {
        let neighbour = columns.get(at + 1).or_else(|| at.checked_sub(1).and_then(|i| columns.get(i)));
        if let (Some(card), Some(neighbour)) = (column.cards.first(), neighbour) {
            return Ok((card.id, card.version, [column.stage.id, neighbour.stage.id]));
        }
    }
    bail!("no open deal on the board of «{}»; run `voronka demo` on this database first", pipeline.name)
}

/// `voronka serve` on a free port of 127.0.0.1, as a child process.
async fn start_server(database_url: &str) -> anyhow::Result<(Child, String)> {
    let exe = std::env::current_exe().context("finding the voronka binary")?;
    let mut child = Command::new(exe)
        .args(["--database-url", database_url, "serve", "--addr", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context("starting the server")?;
    let mut lines = BufReader::new(child.stdout.take().ok_or_else(|| anyhow!("no server output"))?).lines();
    let base = tokio::time::timeout(Duration::from_secs(120), async {
        while let Some(line) = lines.next_line().await? {
            if let Some(rest) = line.split("running on ").nth(1) {
                return Ok(rest.split_whitespace().next().unwrap_or_default().to_string());
            }
        }
        Err(anyhow!("the server stopped before it was ready"))
    })
    .await
    .context("the server did not start within 2 minutes")??;
    // Keep reading, so a chatty server never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok((child, base))
}

/// This process's soft limit on open files, from `/proc`.
fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    limits.lines().find(|l| l.starts_with("Max open files"))?.split_whitespace().nth(3)?.parse().ok()
}

/// The server's resident memory in KiB, from `/proc`.
fn resident_kib(server: &Child) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.id()?)).ok()?;
    status.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// One open stream: reports the instant each deal event arrives.
async fn listen(mut response: reqwest::Response, client: usize, arrivals: mpsc::UnboundedSender<(usize, Instant)>) {
    // The tail of the previous chunk, in case a marker is split between two chunks.
    let mut carry: Vec<u8> = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let at = Instant::now();
        carry.extend_from_slice(&chunk);
        let found = carry.windows(DEAL_EVENT.len()).filter(|w| *w == DEAL_EVENT).count();
        for _ in 0..found {
            if arrivals.send((client, at)).is_err() {
                return;
            }
        }
        let keep = if found > 0 {
            let last = carry.windows(DEAL_EVENT.len()).rposition(|w| w == DEAL_EVENT).unwrap_or(0);
            carry.len() - (last + DEAL_EVENT.len())
        } else {
            DEAL_EVENT.len() - 1
        };
        carry.drain(..carry.len().saturating_sub(keep));
    }
}

async fn run(
    server: &Child,
    base: &str,
    (deal_id, mut version, stages): (i64, i64, [i64; 2]),
    clients: usize,
    moves: usize,
) -> anyhow::Result<()> {
    let http = reqwest::Client::builder().cookie_store(true).build()?;
    let login = http
        .post(format!("{base}/api/login"))
        .header("origin", base)
        .form(&[("email", app::demo::DEMO_ADMIN), ("password", app::demo::DEMO_PASSWORD)])
        .send()
        .await?;
    if !login.status().is_success() {
        bail!("could not sign in as {} (is this a demo or bench database?)", app::demo::DEMO_ADMIN);
    }
    let open = |_| {
        let http = http.clone();
        let url = format!("{base}/api/live");
        async move {
            let response = http.get(url).send().await?;
            if !response.status().is_success() {
                bail!("the live stream answered {}", response.status());
            }
            anyhow::Ok(response)
        }
    };
    let (arrivals_tx, mut arrivals) = mpsc::unbounded_channel();
    // One stream and one move first, so the memory baseline has every lazily built part in place.
    tokio::spawn(listen(open(()).await?, clients, arrivals_tx.clone()));
    version = move_to(&http, base, deal_id, stages[1], version).await?;
    tokio::time::timeout(DELIVERY_LIMIT, arrivals.recv())
        .await
        .context("the warm-up stream heard nothing of the first move in 30 s")?
        .ok_or_else(|| anyhow!("the warm-up stream closed"))?;
    let before = resident_kib(server);

    let connecting = Instant::now();
    let mut streams = futures::stream::iter(0..clients).map(|_| open(())).buffered(CONNECTING_AT_ONCE).enumerate();
    while let Some((client, response)) = streams.next().await {
        tokio::spawn(listen(response?, client, arrivals_tx.clone()));
    }
    drop(streams);
    let connected_in = connecting.elapsed();
    let with_clients = resident_kib(server);

    let mut last_client = Vec::with_capacity(moves);
    let mut every_delivery = Vec::with_capacity(moves * clients);
    let mut move_answers = Vec::with_capacity(moves);
    for round in 0..moves {
        let to = stages[round % 2];
        let sent = Instant::now();
        version = move_to(&http, base, deal_id, to, version).await?;
        move_answers.push(sent.elapsed());
        let mut heard = vec![false; clients + 1];
        let mut waiting = clients + 1;
        while waiting > 0 {
            let (client, at) = tokio::time::timeout(DELIVERY_LIMIT, arrivals.recv())
                .await
                .map_err(|_| anyhow!("move {round}: {waiting} of {} streams heard nothing in 30 s", clients + 1))?
                .ok_or_else(|| anyhow!("every stream closed"))?;
            if std::mem::replace(&mut heard[client], true) {
                bail!("move {round}: stream {client} heard the same move twice");
            }
            waiting -= 1;
            every_delivery.push(at.saturating_duration_since(sent));
        }
        last_client
            .push(every_delivery[every_delivery.len() - clients - 1..].iter().copied().max().unwrap_or_default());
    }

    println!(
        "Live fan-out: {} streams open ({} connected in {:.1} s), {moves} moves of deal {deal_id}.",
        clients + 1,
        clients,
        connected_in.as_secs_f64()
    );
    report("move answered (commit and publish included)", move_answers);
    report("move sent → one stream heard it", every_delivery);
    let worst = {
        let mut sorted = last_client.clone();
        sorted.sort();
        percentile(&sorted, 0.99)
    };
    report("move sent → the last stream heard it", last_client);
    match (before, with_clients) {
        (Some(before), Some(after)) => println!(
            "server memory: {:.1} MiB with 1 stream, {:.1} MiB with {} → {:.1} KiB per stream",
            before as f64 / 1024.0,
            after as f64 / 1024.0,
            clients + 1,
            after.saturating_sub(before) as f64 / clients as f64
        ),
        _ => println!("server memory: unknown (no /proc on this system)"),
    }
    println!("target: the last stream within 100 ms at p99 — {}", if worst <= 100.0 { "met" } else { "missed" });
    Ok(())
}

/// Moves the deal to `to` through the server function; returns its new version.
async fn move_to(http: &reqwest::Client, base: &str, deal_id: i64, to: i64, version: i64) -> anyhow::Result<i64> {
    let key = format!("bench-live-{deal_id}-{version}-{}", super::now_ms());
    let request = MoveRequest { deal_id, to_stage_id: to, version, key, loss_reason: None };
    let response = http
        .post(format!("{base}/api/deals/move"))
        .header("origin", base)
        .json(&serde_json::json!({ "request": request }))
        .send()
        .await?;
    if !response.status().is_success() {
        bail!("the move was refused: {}", response.text().await.unwrap_or_default());
    }
    Ok(response.json::<Moved>().await?.version)
}
