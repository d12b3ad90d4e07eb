//! Integration tests of the server, on SQLite and PostgreSQL, in one binary:
//! each test binary links the whole server, so one binary instead of ten
//! saves most of the test build's link time.
//!
//! - `accounts`: sign-in, sessions, lock-out, same-origin guard.
//! - `cli`: the `voronka` binary itself (start, set-up, backup).
//! - `concurrency`: many tasks moving deals at once.
//! - `funnel`, `kpi`, `norms`: the reports against hand-made and random histories.
//! - `goals`: goals, cascade, recurrence, notifications.
//! - `permissions`: every server function's scope.
//! - `pipeline`: leads, deals, clients, activities, the board.
//! - `storage`: the storage layer on both backends.

mod common;

mod accounts;
mod cli;
mod concurrency;
mod funnel;
mod goals;
mod kpi;
mod norms;
mod permissions;
mod pipeline;
mod storage;
