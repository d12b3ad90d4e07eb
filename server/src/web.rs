//! The HTTP side: Leptos pages and server functions, `/healthz`, sessions,
//! the same-origin guard, request tracing. Takes an injected listener and
//! shutdown future, so tests start it on port 0.

use std::future::Future;
use std::net::SocketAddr;

use app::access::guard::{AppState, LoginPolicy};
use app::{shell, App};
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::storage::Database;

/// How the web server behaves; the defaults suit a single office server.
#[derive(Clone, Debug)]
pub struct WebConfig {
    pub leptos: LeptosOptions,
    pub login_policy: LoginPolicy,
    /// Mark the session cookie `Secure`; on when served over HTTPS.
    pub secure_cookies: bool,
}

/// How often the goals job looks at goals when nothing changes (it also runs after every change).
const GOALS_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// What every request and the background jobs share.
pub fn app_state(db: &Database, config: &WebConfig) -> AppState {
    AppState {
        storage: db.storage.clone(),
        login_policy: config.login_policy,
        leptos_options: config.leptos.clone(),
        hub: app::pipeline::live::Hub::default(),
    }
}

/// The full application router.
pub fn router(state: AppState, db: &Database, config: &WebConfig) -> Router {
    let routes = generate_route_list(App);
    let leptos_options = config.leptos.clone();
    let context_state = state.clone();
    let sessions = SessionManagerLayer::new(db.sessions.clone())
        .with_name("voronka_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.secure_cookies)
        .with_expiry(Expiry::OnInactivity(time::Duration::days(30)));

    Router::new()
        .route("/healthz", get(healthz).with_state(state.clone()))
        .route("/api/live", get(app::pipeline::live::stream).with_state(state))
        .leptos_routes_with_context(&leptos_options, routes, move || provide_context(context_state.clone()), {
            let options = leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler(shell))
        .with_state(leptos_options)
        .layer(sessions)
        .layer(middleware::from_fn(same_origin_only))
        // gzip for whoever asks: ECharts goes out at a third of its 1 MB, the WASM
        // and JSON shrink alike. Server-sent events are left alone, so they are never held back.
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
}

/// Serves until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    db: &Database,
    config: &WebConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    let state = app_state(db, config);
    // Closes ended goals, renews recurring ones and raises notifications.
    let goals_job = tokio::spawn(app::goals::server::ssr::run_job(state.clone(), GOALS_EVERY));
    let app = router(state, db, config);
    // Without TCP_NODELAY streamed responses (SSE, streaming SSR) stall ~40 ms per chunk.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!(error = %e, "could not set TCP_NODELAY");
        }
    });
    let served = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await;
    goals_job.abort();
    served
}

async fn healthz(State(state): State<AppState>) -> Response {
    match state.storage.ping().await {
        Ok(()) => Json(serde_json::json!({ "status": "ok", "database": state.storage.backend() })).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({ "status": "unavailable" }))).into_response()
        }
    }
}

/// Refuses state-changing requests that a browser sent from another site.
///
/// Browsers send `Origin` with every cross-site POST, and `Sec-Fetch-Site`
/// where they support it; together with `SameSite=Lax` cookies this keeps
/// server functions safe from cross-site request forgery.
async fn same_origin_only(req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) || is_same_origin(&req) {
        return next.run(req).await;
    }
    tracing::warn!(uri = %req.uri(), "cross-origin request refused");
    (StatusCode::FORBIDDEN, "cross-origin request refused").into_response()
}

fn is_same_origin(req: &Request) -> bool {
    let headers = req.headers();
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    match headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
        Some(origin) => {
            let origin_host = origin.split_once("://").map(|(_, rest)| rest);
            origin_host.is_some() && origin_host == host
        }
        None => headers.get("sec-fetch-site").and_then(|s| s.to_str().ok()) != Some("cross-site"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(headers: &[(&str, &str)]) -> Request {
        let mut b = Request::builder().method(Method::POST).uri("/api/login");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(axum::body::Body::empty()).unwrap()
    }

    #[test]
    fn same_origin_rules() {
        assert!(is_same_origin(&post(&[("host", "crm.local:3000"), ("origin", "http://crm.local:3000")])));
        assert!(!is_same_origin(&post(&[("host", "crm.local:3000"), ("origin", "http://evil.example")])));
        assert!(!is_same_origin(&post(&[("host", "crm.local:3000"), ("origin", "null")])));
        assert!(!is_same_origin(&post(&[("host", "crm.local"), ("sec-fetch-site", "cross-site")])));
        assert!(is_same_origin(&post(&[("host", "crm.local"), ("sec-fetch-site", "same-origin")])));
        // Non-browser clients send neither header and carry no victim's cookies.
        assert!(is_same_origin(&post(&[("host", "crm.local")])));
    }
}
