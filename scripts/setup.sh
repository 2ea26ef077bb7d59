#!/usr/bin/env bash
# Installs what building, running and testing Leasehold needs, skipping what is
# already there. Safe to run again and again.
#
#   scripts/setup.sh run    # the wasm target, Trunk, wasm-bindgen-cli, wasm-opt
#   scripts/setup.sh test   # the above, plus Chromium and the e2e packages
set -euo pipefail
cd "$(dirname "$0")/.."

TRUNK_VERSION=0.21.14
mode=${1:-test}
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(trunk --version 2>/dev/null)" != "trunk $TRUNK_VERSION" ]; then
  say "installing trunk $TRUNK_VERSION (about 15 minutes on 2 cores, once)"
  cargo install trunk --version "$TRUNK_VERSION" --locked
fi

# wasm-bindgen-cli must match the wasm-bindgen the SPA links (pinned in Cargo.toml).
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 6 minutes, once)"
  # Not --locked: the registry mirror lacks a newer webpki-roots the lock file names.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

npm_ci() { # npm ci in $1 unless its node_modules is newer than its lock file
  if [ ! -d "$1/node_modules" ] || [ "$1/package-lock.json" -nt "$1/node_modules" ]; then
    say "installing npm packages in $1"
    (cd "$1" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
    touch "$1/node_modules"
  fi
}
npm_ci frontend # binaryen's wasm-opt (Debian's is too old for this wasm-bindgen)

if [ "$mode" = test ]; then
  if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    say "installing Chromium from Debian's packages"
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
  fi
  npm_ci e2e
  # schemathesis (PyPI) for the schema-driven fuzzing, in a venv of its own.
  ST_VERSION=4.32.5
  st_home="$HOME/.cache/leasehold/schemathesis"
  if [ "$("$st_home/bin/st" --version 2>/dev/null)" != "st, version $ST_VERSION" ]; then
    say "installing schemathesis $ST_VERSION into $st_home"
    rm -rf "$st_home"
    python3 -m venv "$st_home"
    "$st_home/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$ST_VERSION"
  fi
  if command -v pg_isready >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432; then
    say "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
fi
say "tools ready"
