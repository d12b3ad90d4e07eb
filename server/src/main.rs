use clap::Parser;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_sessions=warn"));
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    if std::env::var_os("VORONKA_LOG_JSON").is_some() {
        logs.json().init();
    } else {
        logs.init();
    }
    server::cli::run(server::cli::Cli::parse()).await
}
