#!/usr/bin/env bash
# Build the wasm package, start `tase2 serve` (default model) and the web-demo proxy on free
# local ports, and run node-session-smoke.js through them; exits with the script's status.
#
#   wasm/js/run-session-smoke.sh [N_REPORTS]      (from anywhere; needs wasm-bindgen on PATH,
#                                                  the same version as the wasm-bindgen crate)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
n="${1:-3}"

cargo build --release -p tase2-wasm --target wasm32-unknown-unknown
wasm-bindgen --target nodejs --out-dir build/wasm-pkg \
  target/wasm32-unknown-unknown/release/tase2_wasm.wasm
cargo build --release -p tase2-cli -p tase2-web-demo

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listens on 127.0.0.1:$1" >&2
  return 1
}

server_port="$(free_port)"
proxy_port="$(free_port)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

target/release/tase2 serve --listen "127.0.0.1:$server_port" >build/session-smoke-serve.log 2>&1 &
pids+=("$!")
target/release/tase2-web-demo --listen "127.0.0.1:$proxy_port" --allow "127.0.0.1:$server_port" \
  >build/session-smoke-proxy.log 2>&1 &
pids+=("$!")
wait_port "$server_port"
wait_port "$proxy_port"

node --experimental-websocket wasm/js/node-session-smoke.js \
  "ws://127.0.0.1:$proxy_port/?target=127.0.0.1:$server_port" build/wasm-pkg/tase2_wasm.js "$n"
