#!/usr/bin/env bash
# Runs every test: formatting and lints, unit and integration tests on SQLite
# and PostgreSQL, then the browser tests in Debian's chromium against a
# freshly built app with demo data.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --browser --postgres

printf '\n== format and lints\n'
cargo fmt --all -- --check
# Included into both storage adapters, so cargo fmt does not reach it.
rustfmt --edition 2021 --check server/src/storage/shared.rs
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy -p app --features hydrate --target wasm32-unknown-unknown -- -D warnings

printf '\n== unit and integration tests (SQLite and PostgreSQL)\n'
cargo test --workspace

printf '\n== browser tests\n'
cargo leptos build
end2end/run.sh
