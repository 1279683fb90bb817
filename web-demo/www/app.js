// The FreeTase2 viewer: the whole TASE.2 client runs here (WasmFailover: the sans-IO core's
// reconnecting, failing-over client compiled to WebAssembly); the web server only relays bytes
// between the WebSocket and the ICCP server.
//
// Query parameters: ?target=HOST:PORT (repeatable or comma-separated; used when /targets.json is
// missing), ?backup=HOST:PORT (the backup server: the link fails over to it when the primary is
// lost; it must be on the proxy's allow-list too), ?failback=1 (go back to the primary when it
// answers again), ?ws=URL (the WebSocket proxy; "{target}" in it is replaced, else ?target= is appended;
// default ws(s)://<this host>/ws), ?autoconnect=0 (do not connect on load), ?ds=DOMAIN/NAME (the
// data set to watch), ?local=AP/AE, ?remote=AP/AE.

import init, { WasmFailover } from "./pkg/tase2_wasm.js";
import { Connection, errorText, seconds } from "./connection.js";
import { abnormal, flagsText, valueText, trendValue, timestampMs, timeText, ageText, escapeHtml } from "./format.js";
import { Trends } from "./trend.js";

const $ = (id) => document.getElementById(id);
const q = new URLSearchParams(location.search);

const view = {
  // name -> {name, type, value, flags, timestamp, receivedAt, row, cells, changes}
  points: new Map(),
  discovery: null,
  devices: new Map(), // name -> {kind, mode, tagged}
  transferSet: null, // name of the running DS transfer set (as first named: the core maps it)
  tsStarted: null, // that name while the link is down (the core restores the transfer set)
  tsConfig: null, // {domain, value} of the transfer set started last
  reportTimes: [],
  valueTimes: [],
  reports: 0,
  infoCount: 0,
  firstValuesMs: null,
  select: null, // {device, checkBackId, until, timer}
  errors: [],
};
window.viewer = view; // for a person at the console and for the browser test

// --- targets and URLs ---

function wsUrl(target) {
  const t = encodeURIComponent(target).replace(/%3A/gi, ":");
  let base = q.get("ws");
  if (!base) base = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
  if (base.includes("{target}")) return base.replace("{target}", t);
  return base + (base.includes("?") ? "&" : "?") + "target=" + t;
}

async function loadTargets() {
  let targets = [];
  // The list lives next to the proxy: fetched only when the proxy is this page's own server.
  if (!q.get("ws")) try {
    const r = await fetch("./targets.json", { cache: "no-store" });
    if (r.ok) {
      const j = await r.json();
      if (Array.isArray(j.targets)) targets = j.targets.map(String);
    }
  } catch (_) { /* no list: the query's targets */ }
  const fromQuery = q.getAll("target").flatMap((t) => t.split(",")).map((t) => t.trim()).filter(Boolean);
  for (const t of fromQuery) if (!targets.includes(t)) targets.unshift(t);
  const backup = (q.get("backup") || "").trim();
  if (backup && !targets.includes(backup)) targets.push(backup);
  const sel = $("target");
  const bsel = $("backup");
  sel.textContent = "";
  bsel.textContent = "";
  bsel.add(new Option("none", ""));
  for (const t of targets) { sel.add(new Option(t, t)); bsel.add(new Option(t, t)); }
  if (fromQuery.length) sel.value = fromQuery[0];
  bsel.value = backup;
  if (q.get("failback") === "1") $("fail-back").checked = true;
  return targets;
}

function apAe(param, ap, ae) {
  const v = q.get(param);
  if (!v) return;
  const [a, e] = v.split("/");
  if (a) $(ap).value = a;
  if (e) $(ae).value = e;
}

// --- state line ---

let countdownTimer = null;
function onState(st) {
  const el = $("state");
  el.dataset.state = st.state;
  clearInterval(countdownTimer);
  const show = () => { el.textContent = st.text + (st.retry ? ` — reconnecting in ${Math.ceil(left / 1000)} s` : ""); };
  let left = st.retry || 0;
  show();
  if (st.retry) {
    el.dataset.state = "waiting";
    countdownTimer = setInterval(() => { left -= 1000; if (left > 0) show(); else clearInterval(countdownTimer); }, 1000);
  }
  const up = st.state === "associated";
  const busy = up || st.state === "connecting" || !!st.retry;
  $("connect").disabled = busy;
  $("disconnect").disabled = !busy;
  let rec = null;
  try { rec = conn.recording(); } catch (_) { /* before the connection object exists */ }
  $("download-rec").disabled = !up && !rec;
  $("ts-apply").disabled = !up;
  for (const id of ["ctl-select", "ctl-operate", "ctl-tag-read", "ctl-tag-set"]) $(id).disabled = !up;
  if (up) deviceChanged();
  // Values held from a lost association are not live: greyed out until reports flow again.
  $("live-table").classList.toggle("offline", !up);
  if (!up) {
    if (view.transferSet) view.tsStarted = view.transferSet;
    view.transferSet = null;
    if (st.state !== "connecting") setStatus("ts-status", view.tsStarted ? "communication lost: the values shown are the last received; the transfer set is restored on reconnect" : "", "");
    clearSelect("association ended");
  }
}

function setStatus(id, text, kind) {
  const el = $(id);
  el.textContent = text;
  el.className = "status" + (kind ? " " + kind : "");
  el.dataset.outcome = kind || "";
}

// --- association ---

const conn = new Connection(WasmFailover, {
  onState,
  onEvent,
  onAssociated: () => { associated().catch((e) => setStatus("ts-status", `discovery failed: ${errorText(e)}`, "error")); },
  onRestored,
});

function connect() {
  const target = $("target").value;
  if (!target) { onState({ state: "closed", text: "no target: add ?target=HOST:PORT or serve /targets.json" }); return; }
  const backup = $("backup").value;
  view.transferSet = null;
  view.tsStarted = null;
  conn.connect({
    targets: backup && backup !== target ? [target, backup] : [target],
    urlFor: wsUrl,
    failBack: $("fail-back").checked,
    localAp: $("local-ap").value.trim(),
    localAe: Number($("local-ae").value),
    remoteAp: $("remote-ap").value.trim(),
    remoteAe: Number($("remote-ae").value),
    autoReconnect: $("auto-reconnect").checked,
  });
}

async function associated() {
  // Information messages first: they need only the association.
  conn.run({ command: "info_messages", enable: true })
    .catch((e) => logInfoError(`information messages not enabled: ${errorText(e)}`));
  const d = await conn.run({ command: "discover" });
  view.discovery = d;
  renderBrowse(d);
  fillDataSets(d);
  // The form keeps the settings of the transfer set started last (on an earlier link too).
  await applyTransferSet();
  findDevices(d);
}

/// A later association is up and the core has restored the setup on it (the transfer set under
/// the name the page knows, information messages): the same transfer set runs again.
function onRestored(e) {
  const ts = view.tsStarted;
  const pair = ts && e.transfer_sets.find(([was]) => was === ts);
  if (pair) {
    view.transferSet = ts;
    view.tsStarted = null;
    setStatus("ts-status", `${ts} restored on ${e.target}${pair[1] !== ts ? ` (there ${pair[1]})` : ""} after a gap of ${seconds(e.gap_ms)} s`, "ok");
  } else if (ts) {
    const why = e.failed.find(([n]) => n === ts);
    setStatus("ts-status", `${ts} not restored on ${e.target}${why ? `: ${why[1]}` : ""}`, "error");
  }
}

// --- browse ---

function varRows(vars) {
  const points = vars.filter((v) => v.tase2_type && v.tase2_type.startsWith("Data_"));
  const others = vars.filter((v) => !points.includes(v));
  const row = (v) => `<li data-name="${escapeHtml(v.name)}"><span class="vname">${breakable(short(v.name))}</span> <span class="type" title="${v.alternative_types ? escapeHtml(`the MMS type is also that of ${v.alternative_types.join(", ")}`) : ""}">${escapeHtml(v.tase2_type || v.mms_type || "?")}${v.alternative_types ? "*" : ""}</span></li>`;
  return `<details open><summary>Points (${points.length})</summary><ul class="vars" data-testid="browse-points">${points.map(row).join("")}</ul></details>`
    + `<details><summary>Other variables (${others.length})</summary><ul class="vars">${others.map(row).join("")}</ul></details>`;
}

// A long TASE.2 name breaks after its underscores (`Sample_` / `DiscreteQTimeTagExtended`),
// not inside a word; the text (and so what a test or a copy reads) is unchanged.
function breakable(name) {
  return escapeHtml(name).replace(/_/g, "_<wbr>");
}

function short(name) {
  const i = name.indexOf("/");
  return i < 0 ? name : name.slice(i + 1);
}

function renderBrowse(d) {
  const vcc = d.vcc
    ? varRows(d.vcc)
    : `<p class="error">VCC variables unreadable: ${escapeHtml(d.vcc_error || "?")}</p>`;
  let html = `<details open class="scope" data-testid="browse-vcc"><summary>VCC</summary>
    <dl>
      <dt>TASE2_Version</dt><dd data-testid="tase2-version">edition ${escapeHtml(d.edition)} (${d.version ? `major ${d.version[0]}, minor ${d.version[1]}` : "version not read"})</dd>
      <dt>Supported_Features</dt><dd data-testid="features">${d.features && d.features.length ? "blocks " + d.features.join(", ") : "—"}</dd>
    </dl>${vcc}</details>`;
  for (const dom of d.domains) {
    html += `<details open class="scope" data-testid="browse-domain-${escapeHtml(dom.name)}"><summary>Domain ${escapeHtml(dom.name)}</summary>
      <dl><dt>Bilateral_Table_ID</dt><dd data-testid="table-id-${escapeHtml(dom.name)}">${escapeHtml(dom.table_id ?? "—")}</dd>
      <dt>Data sets</dt><dd data-testid="data-sets-${escapeHtml(dom.name)}">${dom.data_sets.map((n) => escapeHtml(short(n))).join(", ") || "—"}</dd>
      <dt>Devices</dt><dd id="devices-${escapeHtml(dom.name)}" data-testid="devices-${escapeHtml(dom.name)}">…</dd></dl>
      ${varRows(dom.variables)}</details>`;
  }
  $("browse").innerHTML = html;
}

function fillDataSets(d) {
  const sel = $("ts-dataset");
  const keep = view.tsConfig ? view.tsConfig.value.data_set : q.get("ds");
  sel.textContent = "";
  for (const dom of d.domains) for (const n of dom.data_sets) {
    const full = n.includes("/") ? n : `${dom.name}/${n}`;
    sel.add(new Option(full, full));
  }
  const names = [...sel.options].map((o) => o.value);
  sel.value = names.includes(keep) ? keep : (names.find((n) => /\/DS_Grid$/.test(n)) || names[0] || "");
}

// --- devices ---

async function findDevices(d) {
  const sel = $("ctl-device");
  const before = sel.value;
  const found = [];
  for (const dom of d.domains) {
    const items = new Set(dom.variables.map((v) => short(v.name)));
    const cands = dom.variables.filter((v) => {
      const it = short(v.name);
      if (/_(SBO|TAG|CheckBackID)$/.test(it)) return false;
      return items.has(`${it}_SBO`) || items.has(`${it}_TAG`) || /_(Cmd|SP|Start|Ctl|Control)$/i.test(it)
        || (!v.tase2_type && v.mms_type === "INT16");
    }).map((v) => v.name);
    const infos = await Promise.all(cands.map((n) => conn.run({ command: "device_info", device: n }).then((r) => [n, r], () => null)));
    const ok = infos.filter(Boolean);
    for (const [n, r] of ok) {
      // INT16 is a command or a discrete setpoint (the type does not tell): guess from the name;
      // the operator can switch it in the panel.
      r.int16 = r.device_kind === "command";
      if (r.int16 && /(_SP|Setpoint|_Set)$/i.test(short(n))) r.device_kind = "discrete_setpoint";
      view.devices.set(n, r);
      found.push(n);
    }
    const el = document.getElementById(`devices-${dom.name}`);
    if (el) el.innerHTML = ok.map(([n, r]) => `<span class="dev" title="${escapeHtml(`${r.device_kind.replace(/_/g, " ")}, ${r.mode}${r.tagged ? ", tagged" : ""}`)}">${escapeHtml(short(n))}</span>`).join(" ") || "—";
  }
  sel.textContent = "";
  for (const n of found) {
    const r = view.devices.get(n);
    sel.add(new Option(`${n} (${r.device_kind.replace(/_/g, " ")}, ${r.mode}${r.tagged ? ", tagged" : ""})`, n));
  }
  if (found.includes(before)) sel.value = before;
  deviceChanged();
}

function device() {
  const n = $("ctl-device").value;
  return n ? { name: n, ...view.devices.get(n) } : null;
}

function deviceChanged() {
  const d = device();
  const up = conn.established;
  const isCmd = !d || d.device_kind === "command";
  $("ctl-kind-wrap").hidden = !d || !d.int16;
  if (d && d.int16) $("ctl-kind").value = d.device_kind;
  $("ctl-cmd-wrap").hidden = !isCmd;
  $("ctl-sp-wrap").hidden = isCmd;
  $("ctl-range-wrap").hidden = isCmd;
  $("ctl-info").textContent = d ? `${d.device_kind.replace(/_/g, " ")} · ${d.mode === "sbo" ? "select-before-operate" : "direct operate"} · ${d.tagged ? "tagged" : "no tag"}` : "no device";
  $("ctl-select").disabled = !up || !d || d.mode !== "sbo";
  $("ctl-operate").disabled = !up || !d;
  $("ctl-tag-read").disabled = !up || !d || !d.tagged;
  $("ctl-tag-set").disabled = !up || !d || !d.tagged;
  operateLabel();
  if (view.select && (!d || view.select.device !== d.name)) clearSelect("selection dropped: another device chosen");
  $("ctl-tag-state").textContent = "";
  if (up && d && d.tagged) readTag(false);
}

function operateLabel() {
  const d = device();
  const b = $("ctl-operate");
  if (!d) b.textContent = "Operate";
  else if (d.mode === "direct") b.textContent = "Direct operate";
  else b.textContent = view.select && view.select.device === d.name ? "Operate" : "Select + operate";
}

function clearSelect(why) {
  if (!view.select) return;
  clearInterval(view.select.timer);
  view.select = null;
  $("ctl-selected").textContent = why || "";
  $("ctl-selected").dataset.selected = "";
  operateLabel();
}

function showSelect(dev, checkBackId) {
  clearSelect();
  const secs = Math.max(1, Number($("ctl-select-timeout").value) || 10);
  const sel = { device: dev, checkBackId, until: Date.now() + secs * 1000 };
  const el = $("ctl-selected");
  el.dataset.selected = dev;
  el.dataset.checkBackId = String(checkBackId);
  const tick = () => {
    const left = sel.until - Date.now();
    if (left <= 0) { clearSelect(`select of ${short(dev)} expired (CheckBackID ${checkBackId})`); return; }
    el.innerHTML = `selected <b>${escapeHtml(short(dev))}</b> · CheckBackID <b data-testid="check-back-id">${checkBackId}</b> · <span data-testid="select-countdown">${Math.ceil(left / 1000)}</span> s left`;
  };
  sel.timer = setInterval(tick, 250);
  view.select = sel;
  tick();
  operateLabel();
}

async function doSelect() {
  const d = device();
  if (!d) return;
  setStatus("ctl-result", `selecting ${d.name}…`, "busy");
  try {
    const r = await conn.run({ command: "select", device: d.name });
    showSelect(d.name, r.check_back_id);
    setStatus("ctl-result", `select accepted: ${d.name}, CheckBackID ${r.check_back_id}`, "ok");
  } catch (e) {
    setStatus("ctl-result", `${d.name}: ${errorText(e)}`, "error");
  }
}

/// The control value from the form, or throws a message (range checks).
function controlValue(d) {
  if (d.device_kind === "command") return { word: $("ctl-command").value, json: $("ctl-command").value };
  const raw = $("ctl-setpoint").value.trim();
  if (raw === "" || !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw)) throw new Error(`setpoint ${JSON.stringify(raw)} is not a number`);
  const x = Number(raw);
  const lim = (id) => { const v = $(id).value.trim(); return v === "" ? null : Number(v); };
  const min = lim("ctl-min"), max = lim("ctl-max");
  if (d.device_kind === "discrete_setpoint") {
    if (!Number.isInteger(x)) throw new Error(`a discrete setpoint is a whole number, not ${raw}`);
    if (x < -32768 || x > 32767) throw new Error(`discrete setpoint ${x} is beyond INT16 (-32768…32767)`);
  } else if (!Number.isFinite(x) || Math.abs(x) > 3.4028234e38) {
    throw new Error(`real setpoint ${raw} is beyond FLOAT32`);
  }
  if (min !== null && x < min) throw new Error(`setpoint ${x} is below the range minimum ${min}`);
  if (max !== null && x > max) throw new Error(`setpoint ${x} is above the range maximum ${max}`);
  return { word: String(x), json: d.device_kind === "discrete_setpoint" ? { discrete: x } : { real: x } };
}

async function doOperate() {
  const d = device();
  if (!d) return;
  let v;
  try { v = controlValue(d); } catch (e) { setStatus("ctl-result", e.message, "error"); return; }
  const selected = view.select && view.select.device === d.name;
  const both = d.mode === "sbo" && !selected && d.device_kind === "command";
  setStatus("ctl-result", `${both ? "selecting and operating" : "operating"} ${d.name} → ${v.word}…`, "busy");
  try {
    const r = await conn.run({ command: both ? "select_operate" : "operate", device: d.name, value: v.json });
    clearSelect();
    const cb = r && r.kind === "check_back_id" ? ` (CheckBackID ${r.check_back_id})` : "";
    setStatus("ctl-result", `operate accepted: ${d.name} → ${v.word}${cb}`, "ok");
  } catch (e) {
    clearSelect();
    setStatus("ctl-result", `${d.name}: ${errorText(e)}`, "error");
  }
}

const TAG_WORDS = { none: "no tag", open_and_close_inhibit: "open-and-close inhibit", close_only_inhibit: "close-only inhibit", invalid: "invalid tag" };

async function readTag(report = true) {
  const d = device();
  if (!d || !d.tagged) return;
  try {
    const r = await conn.run({ command: "tag", device: d.name });
    if (device() && device().name !== d.name) return;
    const el = $("ctl-tag-state");
    el.dataset.tag = r.tag;
    el.textContent = `tag: ${TAG_WORDS[r.tag] || r.tag}${r.reason ? ` — “${r.reason}”` : ""}${r.armed ? " · armed (selected)" : ""}`;
    el.className = r.tag === "none" ? "muted" : "tagged";
    if (report) setStatus("ctl-result", `tag of ${d.name} read`, "ok");
  } catch (e) {
    if (report) setStatus("ctl-result", `${d.name}: ${errorText(e)}`, "error");
    else $("ctl-tag-state").textContent = `tag unreadable: ${errorText(e)}`;
  }
}

async function setTag() {
  const d = device();
  if (!d) return;
  const tag = $("ctl-tag").value;
  const reason = $("ctl-tag-reason").value;
  if (tag !== "none" && !reason.trim()) { setStatus("ctl-result", "a tag needs a reason", "error"); return; }
  setStatus("ctl-result", `tagging ${d.name}…`, "busy");
  try {
    await conn.run({ command: "set_tag", device: d.name, value: tag, reason });
    setStatus("ctl-result", `tag of ${d.name} set: ${tag}${reason ? ` (${reason})` : ""}`, "ok");
    readTag(false);
  } catch (e) {
    setStatus("ctl-result", `${d.name}: ${errorText(e)}`, "error");
  }
}

// --- transfer set and the live table ---

function tsFormValue() {
  const ds = $("ts-dataset").value;
  const conditions = [];
  if ($("ts-interval-on").checked) conditions.push("interval");
  if ($("ts-integrity-on").checked) conditions.push("integrity");
  const rbe = $("ts-rbe").checked;
  if (rbe) conditions.push("change");
  const n = (id, lo) => Math.max(lo, Math.floor(Number($(id).value) || 0));
  return {
    domain: ds.split("/")[0],
    value: {
      data_set: ds,
      interval: n("ts-interval", 1),
      integrity_check: n("ts-integrity", 1),
      buffer_time: n("ts-buffer", 0),
      rbe,
      conditions,
    },
  };
}

async function applyTransferSet() {
  if (!$("ts-dataset").value) { setStatus("ts-status", "no data set to watch", "error"); return; }
  const cfg = tsFormValue();
  if (!cfg.value.conditions.length) { setStatus("ts-status", "choose at least one condition (interval, integrity or RBE)", "error"); return; }
  if (view.transferSet) {
    const old = view.transferSet;
    view.transferSet = null;
    await conn.run({ command: "stop_transfer_set", transfer_set: old }).catch(() => {});
  }
  await startTransferSet(cfg);
}

async function startTransferSet(cfg) {
  setStatus("ts-status", `starting a transfer set on ${cfg.value.data_set}…`, "busy");
  try {
    const r = await conn.run({ command: "reserve_and_start", domain: cfg.domain, value: cfg.value });
    view.transferSet = r.transfer_set;
    view.tsConfig = cfg;
    const v = cfg.value;
    readDataSet(v.data_set);
    setStatus("ts-status", `${r.transfer_set} on ${v.data_set}: ${v.conditions.join(" + ")}${v.conditions.includes("interval") ? `, interval ${v.interval} s` : ""}${v.conditions.includes("integrity") ? `, integrity ${v.integrity_check} s` : ""}${v.buffer_time ? `, buffer ${v.buffer_time} s` : ""}`, "ok");
  } catch (e) {
    setStatus("ts-status", `transfer set on ${cfg.value.data_set} not started: ${errorText(e)}`, "error");
  }
}

/// The data set's points read once, so the table is full before the first integrity report
/// (with RBE, a point that does not change is reported only then).
async function readDataSet(ds) {
  try {
    const m = await conn.run({ command: "data_set_members", name: ds });
    const typed = new Set();
    for (const dom of view.discovery ? view.discovery.domains : [])
      for (const v of dom.variables) if (v.tase2_type && v.tase2_type.startsWith("Data_")) typed.add(v.name);
    for (const v of (view.discovery && view.discovery.vcc) || [])
      if (v.tase2_type && v.tase2_type.startsWith("Data_")) typed.add(v.name);
    const names = (m.members || []).filter((n) => typed.has(n));
    if (!names.length) return;
    const r = await conn.run({ command: "read_points", names });
    const now = Date.now();
    for (const p of r.points) if (p.ok) updatePoint(p, now);
  } catch (e) {
    console.info(`initial read of ${ds}: ${errorText(e)}`);
  }
}

function onEvent(e) {
  switch (e.type) {
    case "report": return onReport(e);
    case "refreshed": { const now = Date.now(); for (const p of e.points) updatePoint(p, now); return; }
    case "info_message": return onInfo(e);
    case "deviation": console.info(`deviation: ${e.kind}: ${e.description}`); return;
    case "undecoded": console.info("undecoded report", e); return;
    case "peer_error": case "rejected": console.warn(`${e.type}: ${e.error || e.reason}`); return;
    default: return;
  }
}

function onReport(e) {
  const now = Date.now();
  view.reports += 1;
  if (view.firstReportMs === undefined) view.firstReportMs = performance.now();
  view.reportTimes.push(now);
  for (const p of e.points) {
    view.valueTimes.push(now);
    updatePoint(p, now);
  }
}

function updatePoint(p, now) {
  if (view.firstValuesMs === null) {
    view.firstValuesMs = performance.now();
    $("load-figures").textContent = ` First live values ${(view.firstValuesMs / 1000).toFixed(2)} s after page load.`;
  }
  let pt = view.points.get(p.name);
  if (!pt) {
    pt = { name: p.name, changes: 0 };
    const tr = document.createElement("tr");
    tr.dataset.point = p.name;
    tr.dataset.testid = `row-${p.name}`;
    tr.innerHTML = `<td><input type="checkbox" class="trend-toggle" title="trend" aria-label="trend ${escapeHtml(p.name)}"></td><td class="name"></td><td class="type"></td><td class="r value"></td><td class="flags"></td><td class="ts"></td><td class="r age"></td>`;
    const cells = {};
    for (const c of ["name", "type", "value", "flags", "ts", "age"]) cells[c] = tr.querySelector(`.${c}`);
    cells.name.textContent = p.name;
    tr.querySelector(".trend-toggle").addEventListener("change", (ev) => {
      if (!ev.target.checked) { trends.remove(p.name); return; }
      trends.add(p.name, p.name);
      const cur = view.points.get(p.name);
      trends.push(p.name, timestampMs(cur.timestamp) ?? Date.now(), trendValue(cur.value));
      trends.redraw();
    });
    pt.row = tr;
    pt.cells = cells;
    view.points.set(p.name, pt);
    insertSorted(tr, p.name);
  }
  if (pt.value !== undefined && JSON.stringify(pt.value) !== JSON.stringify(p.value)) {
    pt.changes += 1;
    pt.row.classList.remove("changed");
    void pt.row.offsetWidth; // restart the flash
    pt.row.classList.add("changed");
  }
  Object.assign(pt, { type: p.point_type, value: p.value, flags: p.flags, timestamp: p.timestamp, receivedAt: now });
  pt.cells.type.textContent = p.point_type || "?";
  pt.cells.value.textContent = valueText(p.value);
  pt.cells.value.dataset.value = typeof p.value === "object" ? JSON.stringify(p.value) : String(p.value);
  pt.cells.flags.textContent = flagsText(p.flags);
  pt.cells.ts.textContent = timeText(timestampMs(p.timestamp));
  pt.row.dataset.changes = String(pt.changes);
  paintQuality(pt, now);
  if (trends.has(p.name)) trends.push(p.name, timestampMs(p.timestamp) ?? now, trendValue(p.value));
}

function insertSorted(tr, name) {
  const body = $("live-table").tBodies[0];
  for (const r of body.rows) if (r.dataset.point > name) { body.insertBefore(tr, r); return; }
  body.appendChild(tr);
}

function staleMs() { return Math.max(1, Number($("stale-after").value) || 30) * 1000; }

function paintQuality(pt, now) {
  const ab = abnormal(pt, staleMs(), now);
  const row = pt.row;
  for (const c of [...row.classList]) if (c.startsWith("q-")) row.classList.remove(c);
  if (ab.length) row.classList.add(ab[0].cls);
  for (const a of ab) row.classList.add(a.cls + "-any");
  row.dataset.quality = ab.length ? ab.map((a) => a.cls.slice(2)).join(" ") : "normal";
  pt.cells.flags.title = ab.map((a) => a.text).join(", ");
  pt.cells.age.textContent = ageText(now - pt.receivedAt);
}

function tick() {
  const now = Date.now();
  for (const pt of view.points.values()) paintQuality(pt, now);
  const cut = now - 10_000;
  while (view.reportTimes.length && view.reportTimes[0] < cut) view.reportTimes.shift();
  while (view.valueTimes.length && view.valueTimes[0] < cut) view.valueTimes.shift();
  $("rates").textContent = `reports/s ${(view.reportTimes.length / 10).toFixed(1)} · values/s ${(view.valueTimes.length / 10).toFixed(1)} · ${view.reports} reports · ${view.points.size} points`;
}

// --- information messages ---

function onInfo(e) {
  view.infoCount += 1;
  $("info-count").textContent = String(view.infoCount);
  const li = document.createElement("li");
  li.dataset.testid = "info-message";
  const where = e.scope === "vcc" ? "VCC" : `ICC ${e.domain}`;
  const body = e.text !== undefined && e.text !== null
    ? `<span class="text">${escapeHtml(e.text)}</span>`
    : `<code class="hex">${escapeHtml((e.hex || "").replace(/(..)/g, "$1 ").trim())}</code>`;
  li.innerHTML = `<time>${timeText(Date.now()).slice(11, 19)}</time> <span class="muted">${escapeHtml(where)} · ref ${e.info_reference}/${e.local_reference} · #${e.message_id} · ${e.size} B</span> ${body}`;
  const log = $("info-log");
  log.prepend(li);
  while (log.children.length > 200) log.lastChild.remove();
}

function logInfoError(text) {
  const li = document.createElement("li");
  li.className = "error";
  li.textContent = text;
  $("info-log").prepend(li);
}

// --- start ---

let trends;

/// Save the association's recording (see `tase2_core::record`; `tase2 replay FILE` replays it).
function downloadRecording() {
  const bytes = conn.recording();
  if (!bytes) return;
  const url = URL.createObjectURL(new Blob([bytes], { type: "application/octet-stream" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = `freetase2-${new Date().toISOString().replace(/[:.]/g, "-")}.rec`;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

async function main() {
  trends = new Trends($("trends"), $("trend-window"));
  apAe("local", "local-ap", "local-ae");
  apAe("remote", "remote-ap", "remote-ae");
  $("connect-form").addEventListener("submit", (ev) => { ev.preventDefault(); connect(); });
  $("disconnect").addEventListener("click", () => conn.disconnect());
  $("download-rec").addEventListener("click", downloadRecording);
  $("ts-form").addEventListener("submit", (ev) => { ev.preventDefault(); applyTransferSet(); });
  $("ctl-device").addEventListener("change", deviceChanged);
  $("ctl-kind").addEventListener("change", () => {
    const r = view.devices.get($("ctl-device").value);
    if (r && r.int16) { r.device_kind = $("ctl-kind").value; deviceChanged(); }
  });
  $("ctl-select").addEventListener("click", doSelect);
  $("ctl-operate").addEventListener("click", doOperate);
  $("ctl-tag-read").addEventListener("click", () => readTag(true));
  $("ctl-tag-set").addEventListener("click", setTag);
  setInterval(tick, 1000);
  onState({ state: "idle", text: "loading the TASE.2 client…" });
  const [targets] = await Promise.all([loadTargets(), init()]);
  view.wasmReadyMs = performance.now();
  onState({ state: "idle", text: targets.length ? "not connected" : "no target: add ?target=HOST:PORT or serve /targets.json" });
  if (targets.length && q.get("autoconnect") !== "0") connect();
}

main().catch((e) => {
  console.error(e);
  onState({ state: "closed", text: `the viewer failed to start: ${e.message || e}` });
});
