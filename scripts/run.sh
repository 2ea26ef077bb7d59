#!/usr/bin/env bash
# Runs Leasehold: builds the SPA and the server, loads demo data into SQLite and
# serves everything at one URL. Configuration: see README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh run
scripts/build-frontend.sh
cargo build --release -p leasehold-api --bin leasehold
export LEASEHOLD_DATABASE_URL=${LEASEHOLD_DATABASE_URL:-sqlite:leasehold.db}
export LEASEHOLD_BIND=${LEASEHOLD_BIND:-127.0.0.1:8080}
./target/release/leasehold demo
echo
echo "Leasehold is at http://${LEASEHOLD_BIND}  (API docs: http://${LEASEHOLD_BIND}/docs)"
echo "Stop it with Ctrl-C."
exec ./target/release/leasehold serve
