#!/usr/bin/env bash
# Runs every test: formatting and lints, the core on wasm, unit, storage
# conformance and HTTP tests on SQLite and PostgreSQL, the SPA build,
# schema-driven fuzzing of the API, the browser e2e suite against a real
# server with demo data, and a check that its log holds no secrets.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test
export PATH="$PWD/frontend/node_modules/.bin:$HOME/.cargo/bin:$PATH"
log=$(mktemp -d)
trap 'rm -rf "$log"; [ -n "${server:-}" ] && kill "$server" 2>/dev/null || true' EXIT
step() { printf '\n\033[1;34m==>\033[0m %s\n' "$*"; }

step "format and lints"
cargo fmt --all -- --check
cargo clippy --all-targets --quiet -- -D warnings
cargo clippy --quiet -p leasehold-frontend --target wasm32-unknown-unknown -- -D warnings

step "the core compiles for wasm32"
cargo check --quiet -p leasehold-core --target wasm32-unknown-unknown

step "unit, storage and API tests (SQLite and PostgreSQL)"
# CI=true makes the PostgreSQL tests fail instead of skipping when it is down.
cargo test 2>&1 | tee "$log/cargo.txt"
# The console's own unit tests (formatting, pagination) run natively.
cargo test -p leasehold-frontend 2>&1 | tee -a "$log/cargo.txt"

step "the SPA"
scripts/build-frontend.sh

cargo build --quiet -p leasehold-api --bin leasehold
step "schema-driven fuzzing (schemathesis against openapi/openapi.json)"
scripts/fuzz.sh 2>&1 | tee "$log/fuzz.txt"

step "browser e2e against a server with demo data"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# The suite signs in more often than a person would: a roomier sign-in limit.
export LEASEHOLD_DATABASE_URL="sqlite:$log/e2e.db" LEASEHOLD_BIND="127.0.0.1:$port" LEASEHOLD__LOGIN_PER_MINUTE=120
./target/debug/leasehold demo >/dev/null
# Debug logging: the secrets check below reads everything the server could say.
RUST_LOG=debug ./target/debug/leasehold serve >"$log/server.log" 2>&1 &
server=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
(cd e2e && LEASEHOLD_URL="http://127.0.0.1:$port" npx playwright test) 2>&1 | tee "$log/e2e.txt"
kill "$server"; wait "$server" 2>/dev/null || true; server=""
step "no secrets in the server's log of the e2e run"
python3 scripts/check-logs.py "$log/server.log" "$log/e2e.db"

cargo_passed=$(grep -Eo '[0-9]+ passed' "$log/cargo.txt" | awk '{s+=$1} END {print s+0}')
e2e_passed=$(grep -Eo '[0-9]+ passed' "$log/e2e.txt" | tail -n1 | awk '{print $1+0}')
echo
echo "summary: $((cargo_passed + e2e_passed)) passed, 0 failed"
