// Smoke test of the wasm WasmSession from Node, the browser's path without a browser:
// WasmSession -> WebSocket (subprotocol "binary") -> tase2-web-demo proxy -> TCP -> tase2 serve.
//
//   cargo build --release -p tase2-wasm --target wasm32-unknown-unknown
//   wasm-bindgen --target nodejs --out-dir build/wasm-pkg \
//       target/wasm32-unknown-unknown/release/tase2_wasm.wasm
//   cargo build --release -p tase2-cli -p tase2-web-demo
//   target/release/tase2 serve --listen 127.0.0.1:10102 &
//   target/release/tase2-web-demo --listen 127.0.0.1:18080 --allow 127.0.0.1:10102 &
//   node --experimental-websocket wasm/js/node-session-smoke.js \
//       ws://127.0.0.1:18080/?target=127.0.0.1:10102 build/wasm-pkg/tase2_wasm.js 3
//
// (`wasm/js/run-session-smoke.sh` does all of it on free ports.) Node 20 needs
// --experimental-websocket for its global WebSocket; Node 22 and later have it by default.
//
// Against the default model (domain ICC1, calling AP-title 1.1.1.999/12, called 1.1.1.998/12) it
// discovers, starts a transfer set on ICC1/DS_Grid (interval 1 s), prints N reports, stops it,
// selects ICC1/Brk1_Cmd (printing the CheckBackID), operates it (close), concludes, and exits 0
// on the orderly release. Any failure prints a message and exits 1; so does no progress in 30 s.
"use strict";
const path = require("path");

const [url, pkg = "build/wasm-pkg/tase2_wasm.js", count = "3"] = process.argv.slice(2);
if (!url) {
  console.error("usage: node --experimental-websocket node-session-smoke.js WS_URL [PKG_JS] [N_REPORTS]");
  process.exit(2);
}
if (typeof WebSocket === "undefined") {
  console.error("no global WebSocket: run node with --experimental-websocket (Node 20)");
  process.exit(2);
}
const { WasmSession } = require(path.resolve(pkg));
const wanted = Number(count);
const DOMAIN = "ICC1";
const DATA_SET = "ICC1/DS_Grid";
const DEVICE = "ICC1/Brk1_Cmd";

let s, timer, ws;
let step = "connect";
const ops = {};
let reports = 0;
let transferSet;
let failed = false;

const watchdog = setTimeout(() => fail(`no progress in 30 s (at step ${step})`), 30_000);

function fail(msg) {
  if (failed) return;
  failed = true;
  console.error(`FAIL: ${msg}`);
  process.exitCode = 1;
  clearTimeout(watchdog);
  clearTimeout(timer);
  try { if (s && !s.is_closed()) { s.abort(Date.now()); } } catch (_) {}
  try { ws.close(); } catch (_) {}
  setTimeout(() => process.exit(1), 100);
}

function pump() {
  if (!s) return;
  for (let busy = true; busy; ) {
    busy = false;
    let out, ev;
    while ((out = s.poll_transmit())) {
      if (ws.readyState === WebSocket.OPEN) ws.send(out);
      busy = true;
    }
    while ((ev = s.poll_event())) {
      busy = true;
      onEvent(JSON.parse(ev));
    }
  }
  clearTimeout(timer);
  const at = s.poll_timeout_ms();
  if (at !== undefined)
    timer = setTimeout(() => { s.handle_timeout(Date.now()); pump(); }, Math.max(0, at - Date.now()));
}

function expect(e, name) {
  if (ops[name] !== e.op) return false;
  if (!e.ok) fail(`${name} failed: ${e.error} (${e.kind}${e.control ? ", " + e.control.explanation : ""})`);
  return e.ok;
}

function onEvent(e) {
  const now = Date.now();
  switch (e.type) {
    case "established":
      console.log(`established: max PDU ${e.max_pdu_size}, ${e.max_outstanding} outstanding`);
      step = "discover";
      ops.discover = s.discover(now);
      return;
    case "done":
      return onDone(e, now);
    case "report": {
      reports += 1;
      const pts = e.points
        .map((p) => `${p.name}=${p.value}${p.flags ? "/" + p.flags.validity : ""}`)
        .join(" ");
      console.log(`report ${reports}: ${e.transfer_set} at ${e.timestamp} [${e.conditions}] ${pts}`);
      if (reports === wanted && step === "reports") {
        step = "stop";
        ops.stop = s.stop_transfer_set(now, transferSet);
      }
      return;
    }
    case "deviation":
      console.log(`deviation: ${e.kind} (${e.description}) ${e.object ?? ""}`);
      return;
    case "info_message":
      console.log(`info message ${e.message_id}: ${e.text ?? e.hex}`);
      return;
    case "closed":
      clearTimeout(watchdog);
      clearTimeout(timer);
      ws.close();
      if (e.error !== null) return fail(`association closed: ${e.error}`);
      if (step !== "conclude") return fail(`released early, at step ${step}`);
      console.log("released: OK");
      process.exitCode = 0;
      return;
    default:
      console.log(`${e.type}: ${JSON.stringify(e)}`);
  }
}

function onDone(e, now) {
  if (expect(e, "discover")) {
    const d = e.result;
    console.log(`discovery: TASE.2 ${d.edition}, blocks ${d.features}, ${d.vcc ? d.vcc.length : 0} VCC variables`);
    for (const dom of d.domains) {
      const typed = dom.variables.filter((v) => v.tase2_type).length;
      console.log(`  domain ${dom.name} (${dom.table_id}): ${dom.variables.length} variables (${typed} with a TASE.2 type), data sets ${dom.data_sets.join(", ")}`);
    }
    const icc = d.domains.find((x) => x.name === DOMAIN);
    if (!icc) return fail(`domain ${DOMAIN} not visible`);
    const dev = icc.variables.find((v) => v.name === DEVICE);
    if (!dev) return fail(`${DEVICE} not found`);
    step = "start";
    ops.start = s.reserve_and_start(now, DOMAIN, JSON.stringify({
      data_set: DATA_SET, interval: 1, conditions: ["interval"],
    }));
  } else if (expect(e, "start")) {
    transferSet = e.result.transfer_set;
    console.log(`transfer set ${transferSet} started on ${DATA_SET}`);
    step = "reports";
  } else if (expect(e, "stop")) {
    console.log(`transfer set ${transferSet} stopped`);
    step = "select";
    ops.select = s.select(now, DEVICE);
  } else if (expect(e, "select")) {
    console.log(`selected ${DEVICE}: CheckBackID ${e.result.check_back_id}`);
    step = "operate";
    ops.operate = s.operate(now, DEVICE, "close");
  } else if (expect(e, "operate")) {
    console.log(`operated ${DEVICE}: close accepted`);
    step = "conclude";
    s.conclude(now);
  } else if (!e.ok) {
    fail(`op ${e.op} failed: ${e.error}`);
  }
}

ws = new WebSocket(url, ["binary"]);
ws.binaryType = "arraybuffer";
ws.onopen = () => {
  s = new WasmSession("1.1.1.999", 12, "1.1.1.998", 12, Date.now());
  pump();
};
ws.onmessage = (m) => { s.handle_input(Date.now(), new Uint8Array(m.data)); pump(); };
ws.onerror = (err) => fail(`WebSocket error: ${err.message || err.type || err}`);
ws.onclose = () => {
  if (s && !s.is_closed()) { s.handle_transport_closed(Date.now()); pump(); }
};
