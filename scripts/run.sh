#!/usr/bin/env bash
# Builds the release app and starts it on http://127.0.0.1:3000 with the
# embedded SQLite database in ./data, filled with demo data on first start.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo leptos build --release
export LEPTOS_SITE_ROOT=target/site
exec target/release/voronka serve --demo "$@"
