//! Voronka's server: everything that needs a database or a socket.
//!
//! - [`bench`] — the large-organisation generator, the storage benchmark and the live fan-out benchmark
//! - [`cli`] — the `voronka` command line (serve, migrate, demo, create-user, backup, bench, bench-live)
//! - [`storage`] — the SQLite and PostgreSQL adapters of the app's storage port, and sessions
//! - [`web`] — the axum router: pages, server functions, `/healthz`, same-origin guard

// Server rendering resolves each page's whole view type; the lists' rows nest deeper than the default 128.
#![recursion_limit = "256"]

pub mod bench;
pub mod cli;
pub mod storage;
pub mod web;
