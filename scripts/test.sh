#!/usr/bin/env bash
# Runs every test: formatting and lints, unit and integration tests on SQLite
# and PostgreSQL, then the browser tests in Debian's chromium against a
# freshly built app with demo data. Ends with one "N passed, N failed" line.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --browser --postgres
# A CI checkout is built once: incremental caches would only take disk.
if [ "${CI:-}" = true ]; then export CARGO_INCREMENTAL=0; fi
# cargo-leptos builds in dev with `--cfg erase_components` (which hydration
# needs on both sides). The native lints and tests use the same flags, so the
# server it builds for the browser tests reuses their dependencies instead of
# compiling all of them again.
leptos_dev_flags="--cfg erase_components"
unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

printf '\n== format and lints\n'
cargo fmt --all -- --check
# Included into both storage adapters, so cargo fmt does not reach them.
rustfmt --edition 2021 --check server/src/storage/shared.rs server/src/storage/pipeline.rs server/src/storage/lists.rs \
  server/src/storage/funnel.rs server/src/storage/kpi.rs server/src/storage/norms.rs server/src/storage/goals.rs
RUSTFLAGS="$leptos_dev_flags" cargo clippy --workspace --all-targets -- -D warnings
cargo clippy -p app --features hydrate --target wasm32-unknown-unknown -- -D warnings

printf '\n== unit and integration tests (SQLite and PostgreSQL)\n'
RUSTFLAGS="$leptos_dev_flags" cargo test --workspace 2>&1 | tee "$logs/cargo.txt"

printf '\n== browser tests (desktop and phone)\n'
# It adds its flags to RUSTFLAGS from the environment, which is unset here.
cargo leptos build
end2end/run.sh 2>&1 | tee "$logs/browser.txt"

# One closing line over both runners (pipefail above stops on any failure first).
awk '/^test result:/ { for (i = 1; i < NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     /^ *[0-9]+ passed/ { p += $1 }
     END { printf "\n%d passed, %d failed\n", p, f }' "$logs/cargo.txt" "$logs/browser.txt"
