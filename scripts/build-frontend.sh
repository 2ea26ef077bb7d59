#!/usr/bin/env bash
# Builds the SPA into frontend/dist with Trunk (release profile, wasm-opt from npm).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/frontend/node_modules/.bin:$HOME/.cargo/bin:$PATH"
cargo fetch --quiet
trunk build --release --config Trunk.toml
