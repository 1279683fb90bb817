// Smoke test of the wasm build from Node over a plain TCP socket (no proxy, no browser).
//
//   cargo build --release -p tase2-wasm --target wasm32-unknown-unknown
//   wasm-bindgen --target nodejs --out-dir pkg target/wasm32-unknown-unknown/release/tase2_wasm.wasm
//   cargo run -p tase2-mio --example mio_server -- 127.0.0.1:10102 &
//   node wasm/js/node-smoke.js 127.0.0.1:10102 ./pkg/tase2_wasm.js
//
// It associates, identifies, lists the variables of ICC1, reads the second one, concludes, and
// exits 0 on an orderly release.
const net = require("net");
const path = require("path");
const [target, pkg = "./pkg/tase2_wasm.js"] = process.argv.slice(2);
const { WasmClient } = require(path.resolve(pkg));
const [host, port] = target.split(":");

const sock = net.connect(Number(port), host);
let client, timer;

function pump() {
  for (let busy = true; busy; ) {
    busy = false;
    let out, ev;
    while ((out = client.poll_transmit())) { sock.write(out); busy = true; }
    while ((ev = client.poll_event())) { busy = true; console.log(ev); onEvent(JSON.parse(ev)); }
  }
  clearTimeout(timer);
  const at = client.poll_timeout_ms();
  if (at !== undefined)
    timer = setTimeout(() => { client.handle_timeout(Date.now()); pump(); }, Math.max(0, at - Date.now()));
}

function onEvent(e) {
  const now = Date.now();
  if (e.type === "established") client.identify(now);
  else if (e.type === "response" && !e.ok) { console.error("request failed:", e.summary); client.abort(); }
  else if (e.type === "response" && e.service === "identify") client.get_variable_names(now, "ICC1");
  else if (e.type === "response" && e.service === "get_name_list") client.read(now, "ICC1", e.result.names[1]);
  else if (e.type === "response" && e.service === "read") client.conclude(now);
  else if (e.type === "closed") { clearTimeout(timer); sock.end(); process.exitCode = e.error === null ? 0 : 1; }
}

sock.on("connect", () => { client = new WasmClient("1.1.1.999", 12, "1.1.1.998", 12, Date.now()); pump(); });
sock.on("data", (d) => { client.handle_input(Date.now(), d); pump(); });
sock.on("close", () => { if (client && !client.is_closed()) { client.handle_transport_closed(); pump(); } });
sock.on("error", (err) => { console.error(String(err)); process.exitCode = 1; });
