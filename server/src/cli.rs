//! The command line: `serve`, `migrate`, `demo`, `create-user`, `backup`, `bench`, `bench-live`.

use std::path::PathBuf;
use std::time::Instant;

use app::access::guard::LoginPolicy;
use app::demo;
use app::org::{NewUser, NewUserForm};
use app::storage::Storage;
use clap::{Parser, Subcommand};
use leptos::config::get_configuration;

use crate::storage::Database;
use crate::web::{self, WebConfig};

#[derive(Parser, Debug)]
#[command(name = "voronka", version, about = "Voronka — the sales department app")]
pub struct Cli {
    /// Database URL: sqlite:… or postgres://…; defaults to a SQLite file in --data-dir.
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Where the default SQLite database lives.
    #[arg(long, env = "VORONKA_DATA_DIR", default_value = "data", global = true)]
    pub data_dir: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the web server.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "VORONKA_ADDR", default_value = "127.0.0.1:3000")]
        addr: String,
        /// On an empty database, fill it with the demo sales department.
        #[arg(long)]
        demo: bool,
        /// On an empty database without --demo, the first admin's e-mail.
        #[arg(long, env = "VORONKA_ADMIN_EMAIL")]
        admin_email: Option<String>,
        /// On an empty database without --demo, the first admin's password.
        #[arg(long, env = "VORONKA_ADMIN_PASSWORD", hide_env_values = true)]
        admin_password: Option<String>,
        /// Mark the session cookie Secure (serve over HTTPS).
        #[arg(long, env = "VORONKA_SECURE_COOKIES")]
        secure_cookies: bool,
    },
    /// Bring the database schema up to date and exit.
    Migrate,
    /// Replace all data with a freshly generated demo sales department.
    Demo {
        #[arg(long, default_value_t = 2026)]
        seed: u64,
    },
    /// Add a person who can sign in.
    CreateUser {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long, env = "VORONKA_NEW_PASSWORD", hide_env_values = true)]
        password: String,
        /// admin, head, manager or viewer.
        #[arg(long, default_value = "manager")]
        role: String,
    },
    /// Copy the live SQLite database to a file (consistent, while serving).
    Backup { path: PathBuf },
    /// Replace all data with the demo plus a large generated history, then
    /// print board load and move latency figures.
    Bench {
        #[arg(long, default_value_t = 1_000_000)]
        deals: usize,
        #[arg(long, default_value_t = 10)]
        events_per_deal: usize,
        #[arg(long, default_value_t = 5)]
        activities_per_deal: usize,
        /// Measure the data already there instead of generating.
        #[arg(long)]
        keep_data: bool,
        /// Board loads per case; moves measured one at a time are five times as many.
        #[arg(long, default_value_t = 200)]
        rounds: usize,
        /// How long each parallel move run lasts.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Tasks moving deals at once, one parallel run per number (`8,64`).
        #[arg(long, value_delimiter = ',', default_value = "8", value_parser = clap::value_parser!(u64).range(1..))]
        movers: Vec<u64>,
    },
    /// Start the server, open many live streams as one signed-in admin and
    /// time how long one deal move takes to reach all of them. Loads the demo
    /// into an empty database. The moves are real: the deal's history keeps
    /// them, so run it on a demo or bench database, not on one in use.
    BenchLive {
        /// Live streams to open besides the first (the one used to warm up).
        #[arg(long, default_value_t = 5_000)]
        clients: usize,
        /// Moves to time, one after another.
        #[arg(long, default_value_t = 100)]
        moves: usize,
    },
}

impl Cli {
    pub fn database_url(&self) -> anyhow::Result<String> {
        if let Some(url) = &self.database_url {
            return Ok(url.clone());
        }
        std::fs::create_dir_all(&self.data_dir)?;
        Ok(format!("sqlite://{}", self.data_dir.join("voronka.db").display()))
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let url = cli.database_url()?;
    let started = Instant::now();
    let db = Database::open(&url).await?;
    tracing::info!(backend = db.storage.backend(), "database ready");
    match cli.command {
        Command::Serve { addr, demo, admin_email, admin_password, secure_cookies } => {
            if db.storage.count_users().await? == 0 {
                if demo {
                    load_demo(db.storage.as_ref(), 2026).await?;
                } else {
                    first_admin(db.storage.as_ref(), admin_email, admin_password).await?;
                }
            }
            let leptos = get_configuration(None)?.leptos_options;
            let config = WebConfig { leptos, login_policy: LoginPolicy::default(), secure_cookies };
            let listener = tokio::net::TcpListener::bind(&addr).await?;
            let bound = listener.local_addr()?;
            println!("Voronka is running on http://{bound} (ready in {} ms)", started.elapsed().as_millis());
            web::serve(listener, &db, &config, shutdown_signal()).await?;
        }
        Command::Migrate => println!("Database schema is up to date ({}).", db.storage.backend()),
        Command::Demo { seed } => load_demo(db.storage.as_ref(), seed).await?,
        Command::CreateUser { email, name, password, role } => {
            let new = NewUser::validate(NewUserForm { email, name, password, role, department_id: None })
                .map_err(|e| anyhow::anyhow!(e.message(app::i18n::Locale::En.texts())))?;
            let org = ensure_org(db.storage.as_ref()).await?;
            let hash = app::auth::password::hash(new.password.clone()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let user =
                db.storage.insert_user(org, &new, &hash).await.map_err(|e| {
                    anyhow::anyhow!(app::error::AppError::from(e).message(app::i18n::Locale::En.texts()))
                })?;
            println!("Created {} ({}) with id {}.", user.email, <&str>::from(new.role), user.id);
        }
        Command::Bench { deals, events_per_deal, activities_per_deal, keep_data, rounds, seconds, movers } => {
            if !keep_data {
                let scale = crate::bench::Scale { deals, events_per_deal, activities_per_deal };
                crate::bench::generate(db.storage.as_ref(), scale, 2026).await?;
            }
            crate::bench::measure(db.storage.clone(), rounds, seconds, &movers).await?;
        }
        Command::BenchLive { clients, moves } => {
            if db.storage.count_users().await? == 0 {
                load_demo(db.storage.as_ref(), 2026).await?;
            }
            crate::bench::live::measure(&url, db.storage.as_ref(), clients, moves).await?;
        }
        Command::Backup { path } => {
            let Some(store) = &db.sqlite else {
                anyhow::bail!("backup copies the embedded SQLite database; for PostgreSQL use pg_dump");
            };
            if path.exists() {
                anyhow::bail!("{} already exists; choose a new file", path.display());
            }
            store.backup(&path.to_string_lossy()).await?;
            let check = crate::storage::sqlite::integrity_check(&path).await?;
            println!("Backup written to {} (integrity_check: {check}).", path.display());
            if check != "ok" {
                anyhow::bail!("the backup failed its integrity check");
            }
        }
    }
    Ok(())
}

async fn ensure_org(storage: &dyn Storage) -> anyhow::Result<i64> {
    Ok(match storage.default_org().await? {
        Some(id) => id,
        None => storage.create_org("Voronka", "Europe/Moscow").await?,
    })
}

/// Creates the first admin from the given credentials, or with a generated
/// one-time password printed once to the console.
async fn first_admin(storage: &dyn Storage, email: Option<String>, password: Option<String>) -> anyhow::Result<()> {
    use rand::distributions::{Alphanumeric, DistString};
    let generated = password.is_none();
    let email = email.unwrap_or_else(|| "admin@localhost.local".into());
    let password = password.unwrap_or_else(|| Alphanumeric.sample_string(&mut rand::thread_rng(), 16));
    let new = NewUser::validate(NewUserForm {
        email,
        name: "Administrator".into(),
        password,
        role: "admin".into(),
        department_id: None,
    })
    .map_err(|e| anyhow::anyhow!("first admin: {}", e.message(app::i18n::Locale::En.texts())))?;
    let org = ensure_org(storage).await?;
    let hash = app::auth::password::hash(new.password.clone()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    storage.insert_user(org, &new, &hash).await?;
    if generated {
        println!("Created the first admin: {} with one-time password {}", new.email, new.password);
        println!("Sign in and change it, or restart with --admin-email/--admin-password on an empty database.");
    } else {
        println!("Created the first admin: {}", new.email);
    }
    Ok(())
}

/// Generates the demo department and prints how to sign in.
pub async fn load_demo(storage: &dyn Storage, seed: u64) -> anyhow::Result<()> {
    let started = Instant::now();
    let hash = app::auth::password::hash(demo::DEMO_PASSWORD.into()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis() as i64;
    let data = demo::generate(seed, now, hash);
    storage.import_demo(&data).await?;
    let goals = app::goals::demo::seed(storage, data.org.id, now).await?;
    let norms = storage.norm_settings(data.org.id).await?;
    storage.save_norm_settings(data.org.id, &norms, &app::norms::DEMO_NORMS).await?;
    println!(
        "Demo data: {} people, {} leads, {} deals, {} stage events, {} activities, {} goals ({} ms).",
        data.users.len(),
        data.leads.len(),
        data.deals.len(),
        data.events.len(),
        data.activities.len(),
        goals,
        started.elapsed().as_millis()
    );
    println!("Demo logins (password {}):", demo::DEMO_PASSWORD);
    println!("  admin    {}", demo::DEMO_ADMIN);
    println!("  head     {}", demo::DEMO_HEAD);
    println!("  manager  {}", demo::DEMO_MANAGER);
    println!("  viewer   {}", demo::DEMO_VIEWER);
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
