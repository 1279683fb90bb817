#!/usr/bin/env bash
# The viewer's browser test: builds what it needs, starts `tase2 serve` and the web demo on free
# local ports, runs viewer.test.mjs in Debian's chromium (playwright-core), cleans up; exits with
# the test's status. Screenshots and logs go to build/viewer/.
#
#   web-demo/tests/browser/run.sh                    (from anywhere; through our proxy)
#   PROXY=websockify web-demo/tests/browser/run.sh   (the same page through Debian's websockify)
#
# Needs: cargo with the wasm32-unknown-unknown target (and, for the size build of the package, the
# nightly toolchain with rust-src: `cargo xtask setup`), wasm-bindgen-cli of the wasm-bindgen
# version in Cargo.lock, node and npm, python3, chromium (apt-get install chromium; or set
# CHROMIUM=/path). `npx playwright install` is not used: playwright-core drives the system browser.
# WEB_DEMO=/path/to/tase2-web-demo runs another build of the web demo (e.g. a branch's).
#
# PROXY=tase2-web-demo (the default): two layouts, chosen from `tase2-web-demo --help`:
#   - it knows --static (the single listener): `tase2-web-demo --static web-demo/www` serves the
#     page, /targets.json and the proxy at /ws; the page finds both on its own origin;
#   - it does not (the proxy only): the page is served by `python3 -m http.server` on another port
#     and told where the proxy is with ?ws=ws://127.0.0.1:PROXY/ and the target with ?target=.
# PROXY=websockify: `websockify --web web-demo/www 127.0.0.1:WEB 127.0.0.1:SERVER` serves the page
#   and proxies every WebSocket (whatever its path) to its one target; the page is opened with
#   ?ws=ws://127.0.0.1:WEB/&target=127.0.0.1:SERVER (so it does not fetch /targets.json). Needs
#   Debian's websockify: installed with apt-get when missing and we are root, else run.sh stops.
#   Screenshots and logs of this mode go to build/viewer/websockify/.
#
# Failover (not in PROXY=websockify mode, which has one target): a second `tase2 serve` on the
# same model is the backup; the proxy allow-lists both, and the test opens the page with
# ?backup=, stops the primary (`stop` in the control file; `start` brings it back) and watches the
# page carry on on the backup.
#
# The model: the default (examples/tase2-server.toml) has no point with abnormal flags, so the
# test serves a copy with one extra ICC1 point, Meter9_MW, flagged not-valid, added to
# ICC1/DS_Grid (build/viewer/model.toml). The copy also drops the simulated random toggling of
# ICC1/Brk1 (5 % a second in the default), so that Brk1 changes only when the SBO check operates
# ICC1/Brk1_Cmd and the check can demand exactly the commanded state.
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
cd "$root"
here=web-demo/tests/browser
out=build/viewer
proxy="${PROXY:-tase2-web-demo}"
case "$proxy" in
  tase2-web-demo) shots="$out" ;;
  websockify) shots="$out/websockify" ;;
  *) echo "run.sh: PROXY=$proxy: want tase2-web-demo (the default) or websockify" >&2; exit 2 ;;
esac
mkdir -p "$out" "$shots"

# Debian's websockify, installed when missing (and we may).
need_websockify() {
  command -v websockify >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== apt-get install -y websockify" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y websockify >&2 \
      || { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y websockify >&2; } \
      || true
  fi
  command -v websockify >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ]; then
    echo "run.sh: PROXY=websockify needs Debian's websockify; \`apt-get install -y websockify\` failed" >&2
  else
    echo "run.sh: PROXY=websockify needs Debian's websockify, which is not installed, and this is" \
      "not root: run \`apt-get install -y websockify\` as root (or put websockify on PATH)" >&2
  fi
  exit 1
}
[ "$proxy" = websockify ] && need_websockify

echo "== build" >&2
# The package the demo serves: size-optimised, without the plain-MMS WasmClient.
cargo run -q -p xtask -- wasm-pkg web-demo/www/pkg
# Both packages in either mode: building tase2-cli alone unifies other features and rebuilds.
cargo build --release -p tase2-cli -p tase2-web-demo
(cd web-demo/www && npm ci --no-audit --no-fund --loglevel=error)
# What tase2-web-demo sends gzip-coded (npm ci has just replaced node_modules).
cargo run -q -p xtask -- page-twins web-demo/www
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)

# The test model: the default plus one not-valid point in ICC1 and its data set.
python3 - examples/tase2-server.toml "$out/model.toml" <<'EOF'
import sys
src, dst = sys.argv[1], sys.argv[2]
text = open(src).read()
point = '''[[domain.point]]
name = "Meter9_MW"
type = "Data_RealQTimeTag"
value = 7.5
flags = "not-valid,telemetered"

'''
first_ds = text.index("[[domain.data_set]]")          # ICC1's first data set
text = text[:first_ds] + point + text[first_ds:]
members = '"Brk1", "Brk2", "Tap1"]'
i = text.index(members)                                 # ICC1/DS_Grid's members
text = text[:i] + '"Brk1", "Brk2", "Tap1", "Meter9_MW"]' + text[i + len(members):]
# No random toggling of ICC1/Brk1: its [[simulation.point]] table goes.
import re
brk1 = re.compile(r'\[\[simulation\.point\]\]\s*\nname = "ICC1/Brk1"\s*\n(?:(?!\[).*\n)*')
text, n = brk1.subn("", text)
assert n == 1, f"found {n} simulation entries for ICC1/Brk1 in {src}, want 1"
open(dst, "w").write(text)
EOF
target/release/tase2 serve --config "$out/model.toml" --check >/dev/null

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
backup_port="$(free_port)"
web_port="$(free_port)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

# The server runs under a small supervisor the test talks to: `restart` in the control file
# stops the server and starts it again (same port), so the test can prove the reconnection;
# `stop` stops it until the file says something else (the failover check).
control="$out/server.control"
: >"$control"
(
  spid=
  trap '[ -n "$spid" ] && kill "$spid" 2>/dev/null; exit 0' TERM
  while true; do
    target/release/tase2 serve --config "$out/model.toml" --listen "127.0.0.1:$server_port" \
      >>"$out/serve.log" 2>&1 &
    spid=$!
    while kill -0 "$spid" 2>/dev/null; do
      case "$(cat "$control" 2>/dev/null)" in
        restart)
          kill "$spid"; wait "$spid" 2>/dev/null || true
          sleep "${RESTART_DOWN_S:-2}"
          : >"$control"
          break ;;
        stop)
          kill "$spid"; wait "$spid" 2>/dev/null || true
          while [ "$(cat "$control" 2>/dev/null)" = stop ]; do sleep 0.1; done
          : >"$control"
          break ;;
      esac
      sleep 0.1
    done
  done
) &
pids+=("$!")
wait_port "$server_port"

target="127.0.0.1:$server_port"
backup="127.0.0.1:$backup_port"
backup_arg=()
if [ "$proxy" != websockify ]; then
  target/release/tase2 serve --config "$out/model.toml" --listen "$backup" \
    >>"$out/serve-backup.log" 2>&1 &
  pids+=("$!")
  wait_port "$backup_port"
  backup_arg=(--backup "$backup")
fi
web_demo="${WEB_DEMO:-target/release/tase2-web-demo}"
if [ "$proxy" = websockify ]; then
  via="websockify $(dpkg-query -W -f='${Version}' websockify 2>/dev/null || true)"
  echo "== $via: websockify --web web-demo/www 127.0.0.1:$web_port $target" >&2
  websockify --web web-demo/www "127.0.0.1:$web_port" "$target" >"$shots/websockify.log" 2>&1 &
  pids+=("$!")
  wait_port "$web_port"
  url="http://127.0.0.1:$web_port/?ws=ws://127.0.0.1:$web_port/&target=$target"
elif "$web_demo" --help 2>&1 | grep -q -- '--static'; then
  echo "== single listener: tase2-web-demo --static" >&2
  "$web_demo" --listen "127.0.0.1:$web_port" --allow "$target" --allow "$backup" \
    --static web-demo/www >"$out/web-demo.log" 2>&1 &
  pids+=("$!")
  wait_port "$web_port"
  url="http://127.0.0.1:$web_port/"
  via="tase2-web-demo --static"
else
  echo "== proxy and python3 -m http.server (this tase2-web-demo has no --static)" >&2
  proxy_port="$(free_port)"
  "$web_demo" --listen "127.0.0.1:$proxy_port" --allow "$target" --allow "$backup" \
    >"$out/web-demo.log" 2>&1 &
  pids+=("$!")
  python3 -m http.server "$web_port" --bind 127.0.0.1 --directory web-demo/www \
    >"$out/http.log" 2>&1 &
  pids+=("$!")
  wait_port "$proxy_port"
  wait_port "$web_port"
  url="http://127.0.0.1:$web_port/?target=$target&ws=ws://127.0.0.1:$proxy_port/"
  via="tase2-web-demo (proxy only) + python3 -m http.server"
fi

echo "== test: $url" >&2
set +e
node "$here/viewer.test.mjs" --url "$url" --control "$control" --out "$shots" --proxy "$via" \
  "${backup_arg[@]}"
status=$?
set -e
gz=$(gzip -9 < web-demo/www/pkg/tase2_wasm_bg.wasm | wc -c)
echo "wasm package: tase2_wasm_bg.wasm $(wc -c < web-demo/www/pkg/tase2_wasm_bg.wasm) bytes, gzip -9 $gz bytes"
exit $status
