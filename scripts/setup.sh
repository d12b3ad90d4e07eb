#!/usr/bin/env bash
# Installs what building and testing Voronka needs, skipping what is present:
# the wasm target, cargo-leptos, the wasm-bindgen CLI (same version as the
# crate), npm packages (wasm-opt, Playwright, ECharts) and, with --browser, Debian's
# chromium. With --postgres it also makes sure the local PostgreSQL runs.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LEPTOS_VERSION=0.3.10
WASM_BINDGEN_VERSION=$(sed -n 's/^wasm-bindgen = "=\(.*\)"/\1/p' Cargo.toml)
want_browser=false
want_postgres=false
for arg in "$@"; do
  case "$arg" in
    --browser) want_browser=true ;;
    --postgres) want_postgres=true ;;
    *) echo "unknown option $arg" >&2; exit 2 ;;
  esac
done

step() { printf '\n== %s\n' "$*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "adding the wasm32 target"
  rustup target add wasm32-unknown-unknown
fi

if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
  step "installing cargo-leptos $CARGO_LEPTOS_VERSION"
  # no_downloads: use tools from PATH; this machine cannot fetch binaries.
  # Its release profile asks for fat LTO in one codegen unit, which made the
  # install take most of an hour on 2 cores; a build tool does not need it.
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --features no_downloads
fi

if ! wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
  step "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # Not --locked: its lock file names a crate version the registry no longer has.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

if [ ! -x node_modules/.bin/wasm-opt ] || [ ! -d node_modules/@playwright/test ] \
  || [ ! -f node_modules/echarts/dist/echarts.min.js ]; then
  step "installing npm packages"
  npm ci --no-audit --no-fund
fi

# The site serves ECharts itself (no CDN): cargo-leptos copies public/ into it.
if ! cmp -s node_modules/echarts/dist/echarts.min.js public/vendor/echarts.min.js; then
  step "copying ECharts into public/vendor"
  mkdir -p public/vendor
  cp node_modules/echarts/dist/echarts.min.js public/vendor/echarts.min.js
fi

if $want_browser && [ ! -x /usr/bin/chromium ]; then
  step "installing Debian chromium"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q chromium
fi

if $want_postgres && ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  step "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
  for _ in $(seq 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
