//! Voronka's shared crate: compiled into the server (feature `ssr`) and into
//! the browser's WASM (feature `hydrate`), so both compute the same numbers.
//!
//! - [`access`] — roles, rights and the one gate every server function passes
//! - [`auth`] — sign-in, sessions, password hashing, preferences
//! - [`org`] — people and departments
//! - [`pipeline`] — the sales vocabulary: stages, leads, deals, activities
//! - [`charts`] — ECharts drawings with a table view, loading ECharts only where shown
//! - [`funnel`] — the live funnel: definitions, roll-up rows, reports, its page
//! - [`kpi`] — KPIs of people, departments and the company, their page
//! - [`norms`] — activity norms per role, who is behind them, alerts on neglected leads
//! - [`goals`] — goals and sales plans: progress, forecast, cascade, notifications, their pages
//! - [`demo`] — the seeded generator of a realistic sales department (server only)
//! - [`i18n`] — Russian and English text
//! - [`shell`] — routes, layout, error pages
//! - [`storage`] — the port the server's database adapters implement (server only)
//! - [`error`] — the error type every server function returns

// Leptos view types nest deeply; the rights table needs more than the default 128.
#![recursion_limit = "256"]

#[macro_use]
mod names;

pub mod access;
pub mod auth;
pub mod charts;
#[cfg(feature = "ssr")]
pub mod demo;
pub mod error;
pub mod funnel;
pub mod goals;
pub mod i18n;
pub mod kpi;
pub mod norms;
pub mod org;
pub mod pipeline;
pub mod shell;
#[cfg(feature = "ssr")]
pub mod storage;

pub use shell::{shell, App};

/// The browser entry point: attaches the app to the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
    // Lets browser tests wait until buttons react, instead of guessing.
    if let Some(body) = leptos::prelude::document().body() {
        let _ = body.set_attribute("data-hydrated", "");
    }
}
