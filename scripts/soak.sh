#!/usr/bin/env bash
# The full invariant soak: 256 clients, 3,907 operations each (10⁶ in all),
# on SQLite (one server) and on PostgreSQL (two server processes on one
# database), release build. Prints each run's rate; fails if an invariant
# breaks. CI runs the same test reduced (32 clients × 60 operations).
set -euo pipefail
cd "$(dirname "$0")/.."
export SOAK_CLIENTS=${SOAK_CLIENTS:-256} SOAK_OPS=${SOAK_OPS:-3907} CI=true
cargo test --release -p leasehold-api --test soak -- --nocapture --test-threads 1
