#!/usr/bin/env bash
# Starts the built app on a free port with fresh demo data, runs the
# Playwright tests against it in Debian's chromium, and stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${PROFILE:-debug}
port=${E2E_PORT:-3917}
data=$(mktemp -d)
log="$data/server.log"
LEPTOS_SITE_ROOT=target/site RUST_LOG=warn "target/$profile/voronka" --data-dir "$data" \
  --database-url "sqlite://$data/e2e.db" serve --demo --addr "127.0.0.1:$port" >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 120); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  kill -0 $server 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.5
done
cd end2end
status=0
BASE_URL="http://127.0.0.1:$port" ../node_modules/.bin/playwright test "$@" || status=$?
if [ $status -ne 0 ]; then
  echo "== server errors during the failed run"
  grep -E "ERROR|panicked" "$log" | tail -40 || true
fi
exit $status
