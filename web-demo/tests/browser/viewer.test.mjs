// The viewer in a real browser: Debian's chromium driven by playwright-core, against `tase2 serve`
// (the test model: the default plus the not-valid point ICC1/Meter9_MW) through the web demo.
// `run.sh` next to this file starts everything; by hand:
//
//   node viewer.test.mjs --url URL --control FILE [--out DIR] [--chromium PATH] [--proxy WHAT]
//     [--backup HOST:PORT]
//
// URL is the page (with ?target=/&ws= when the page is not served by the proxy itself); writing
// "restart" to FILE makes run.sh's supervisor restart the server, "stop" stops it until "start".
// With --backup HOST:PORT (a second server on the same model, allowed by the proxy) the page is
// also run with that backup and the primary stopped: it must carry on on the backup. Prints one line per check and
// "N passed, N failed"; exits 0 only if all passed. Screenshots go to DIR (default build/viewer).
// WHAT names the proxy the page goes through (run.sh: tase2-web-demo or websockify), for the log.
//
// Waits are on conditions with generous deadlines, not on fixed sleeps; the one fixed wait is the
// check that a refused association is not retried (nothing may happen within 2.5 s). The model
// (run.sh) does not toggle ICC1/Brk1 at random, so the SBO check can demand the commanded state.
import { chromium } from "playwright-core";
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
if (!args.url || !args.control) {
  console.error("usage: node viewer.test.mjs --url URL --control FILE [--out DIR] [--chromium PATH] [--proxy WHAT]");
  process.exit(2);
}
const out = args.out || "build/viewer";
mkdirSync(out, { recursive: true });
const executablePath = args.chromium || process.env.CHROMIUM || "/usr/bin/chromium";
const via = args.proxy || "the proxy";
console.log(`proxy: ${via}; page: ${args.url}`);

let passed = 0, failed = 0;
const results = [];
async function check(name, fn) {
  const t = Date.now();
  try {
    const note = await fn();
    passed += 1;
    console.log(`ok   ${name}${note ? ` — ${note}` : ""} (${Date.now() - t} ms)`);
  } catch (e) {
    failed += 1;
    console.log(`FAIL ${name}: ${e.message.split("\n")[0]}`);
    await shot(`fail-${name.replace(/[^a-z0-9]+/gi, "-").toLowerCase()}`).catch(() => {});
  }
  results.push(name);
}
function assert(c, msg) { if (!c) throw new Error(msg); }

const userDir = mkdtempSync(join(tmpdir(), "tase2-viewer-"));
const context = await chromium.launchPersistentContext(userDir, {
  executablePath,
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
  viewport: { width: 1680, height: 1050 },
});
const page = context.pages()[0] || (await context.newPage());
page.setDefaultTimeout(20_000);

// Console errors fail the run. The one the page cannot prevent: the browser's own log line for a
// WebSocket that fails while the server is deliberately down (the restart check), and only then.
const consoleErrors = [];
let serverDown = false;
page.on("console", (m) => {
  if (m.type() !== "error") return;
  const text = m.text();
  if (serverDown && /WebSocket/i.test(text)) { console.log(`     (expected while the server is down: ${text})`); return; }
  consoleErrors.push(text);
});
page.on("pageerror", (e) => consoleErrors.push(`page error: ${e.message}`));
// With ?ws= (the proxy is not the page's server, e.g. websockify) the page must not ask for
// /targets.json; without it, it must (the list lives next to our proxy).
const targetsRequests = [];
page.on("request", (r) => { if (new URL(r.url()).pathname.endsWith("/targets.json")) targetsRequests.push(r.url()); });
const withWs = new URL(args.url).searchParams.has("ws");

async function shot(name, fullPage = true) {
  await page.screenshot({ path: join(out, `${name}.png`), fullPage });
}
const row = (name) => page.locator(`#live-table tr[data-point="${name}"]`);
const cellValue = (name) => row(name).locator("td.value").getAttribute("data-value");
async function waitFor(fn, what, ms = 20_000, arg) {
  try {
    return await page.waitForFunction(fn, arg, { timeout: ms, polling: 200 });
  } catch (_) {
    throw new Error(`timed out after ${ms} ms waiting for ${what}`);
  }
}

// Wait (deadline ms) for the text of the element at selector to match re; the text, trimmed.
async function waitText(selector, re, what, ms = 10_000) {
  try {
    await page.waitForFunction(([s, src, flags]) => new RegExp(src, flags).test(document.querySelector(s)?.textContent || ""),
      [selector, re.source, re.flags], { timeout: ms, polling: 100 });
  } catch (_) {
    const text = await page.locator(selector).textContent().catch(() => null);
    throw new Error(`${what}: after ${ms} ms ${selector} reads ${JSON.stringify(text && text.trim())}, want ${re}`);
  }
  return (await page.locator(selector).textContent()).trim();
}

let code = 1;
try {
  const t0 = Date.now();
  await page.goto(args.url, { waitUntil: "load" });

  await check(`the page associates through ${via}`, async () => {
    await waitFor(() => document.getElementById("state").dataset.state === "associated", "state associated");
    return (await page.locator("#state").textContent()).trim();
  });

  let firstValues = null;
  await check("first live values arrive", async () => {
    await waitFor(() => window.viewer.firstValuesMs !== null, "the first report");
    firstValues = await page.evaluate(() => window.viewer.firstValuesMs);
    console.log(`     time from page load to first live values: ${firstValues.toFixed(0)} ms (navigation start; wall ${Date.now() - t0} ms to here)`);
    await waitFor(() => window.viewer.firstReportMs !== undefined, "the first transfer report");
    const firstReport = await page.evaluate(() => window.viewer.firstReportMs);
    console.log(`     time from page load to the first transfer report: ${firstReport.toFixed(0)} ms`);
    return `${firstValues.toFixed(0)} ms after navigation start`;
  });

  // What the page cost on the wire (resource timing of this same-origin page). tase2-web-demo
  // sends the package's module gzip-coded (its `.gz` twin); websockify's web server sends files
  // as they are, so there the sizes are only reported.
  await check("the wasm package's transfer size", async () => {
    const r = await page.evaluate(() => performance.getEntriesByType("resource").map((e) => ({
      name: e.name, encoded: e.encodedBodySize, decoded: e.decodedBodySize })));
    const wasm = r.find((e) => e.name.endsWith("/tase2_wasm_bg.wasm"));
    assert(wasm, `no resource entry for the wasm module among ${r.length}`);
    const total = r.reduce((n, e) => n + e.encoded, 0);
    const decoded = r.reduce((n, e) => n + e.decoded, 0);
    const note = `module ${wasm.encoded} octets on the wire (${wasm.decoded} decoded); the page's ${r.length} resources ${total} octets (${decoded} decoded)`;
    if (via.startsWith("tase2-web-demo --static")) {
      assert(wasm.encoded < wasm.decoded * 0.6, `the module was not sent gzip-coded: ${note}`);
    }
    return note;
  });

  await check("the default model's points appear with their TASE.2 types", async () => {
    const want = {
      "ICC1/Gen1_MW": "Data_RealQTimeTag", "ICC1/Freq_Hz": "Data_RealQ", "ICC1/Brk1": "Data_StateQTimeTag",
      "ICC1/Tap1": "Data_DiscreteQTimeTag", "ICC1/Setpoint_Real": "Data_Real",
    };
    const browse = page.locator('[data-testid="browse-domain-ICC1"]');
    for (const [n, t] of Object.entries(want)) {
      const type = (await browse.locator(`li[data-name="${n}"] .type`).first().textContent()).trim();
      assert(type.startsWith(t), `${n}: browse shows type ${JSON.stringify(type)}, want ${t}`);
    }
    for (const n of ["ICC1/Gen1_MW", "ICC1/Brk1", "ICC1/Tap1"]) {
      const t = (await row(n).locator("td.type").textContent()).trim();
      assert(t === want[n], `${n}: live table type ${t}, want ${want[n]}`);
    }
    const version = await page.locator('[data-testid="tase2-version"]').textContent();
    const table = await page.locator('[data-testid="table-id-ICC1"]').textContent();
    const features = await page.locator('[data-testid="features"]').textContent();
    assert(table.trim() === "BLT_ICC1", `Bilateral_Table_ID ${table}`);
    const devices = await page.locator('[data-testid="devices-ICC1"]').textContent();
    assert(/Brk1_Cmd/.test(devices), `devices: ${devices}`);
    return `TASE2_Version ${version}; ${features}; table ${table}; devices ${devices.trim()}`;
  });

  await check("values change in the live table", async () => {
    const before = await cellValue("ICC1/Gen1_MW");
    await waitFor((b) => {
      const c = document.querySelector('#live-table tr[data-point="ICC1/Gen1_MW"] td.value');
      return c && c.dataset.value !== b;
    }, "ICC1/Gen1_MW to change", 20_000, before);
    return `ICC1/Gen1_MW ${before} → ${await cellValue("ICC1/Gen1_MW")}`;
  });
  await shot("overview");

  await check("a point the server marks not valid is coloured as such; a normal one is grey", async () => {
    const r = row("ICC1/Meter9_MW");
    await r.waitFor();
    const cls = await r.getAttribute("class");
    assert(/\bq-not-valid\b/.test(cls), `ICC1/Meter9_MW classes: ${cls}`);
    const bad = await r.locator("td.value").evaluate((e) => getComputedStyle(e).color);
    const good = await row("ICC1/Gen1_MW").locator("td.value").evaluate((e) => getComputedStyle(e).color);
    const grey = (c) => { const [r1, g, b] = c.match(/\d+/g).map(Number); return Math.max(r1, g, b) - Math.min(r1, g, b) < 40; };
    assert(!grey(bad), `not-valid colour ${bad} is grey`);
    assert(grey(good), `normal colour ${good} is not grey`);
    const flags = await r.locator("td.flags").textContent();
    return `Meter9_MW ${bad} "${flags}", Gen1_MW ${good}`;
  });

  await check("a trend of a selected point draws (uPlot)", async () => {
    await row("ICC1/Gen1_MW").locator("input.trend-toggle").check();
    await page.locator('[data-testid="trend-ICC1/Gen1_MW"] canvas').waitFor();
    await waitFor(() => document.querySelector('[data-testid="trend-ICC1/Gen1_MW"]') && window.viewer.points.get("ICC1/Gen1_MW"), "trend", 20_000);
  });

  await check("SBO operate of ICC1/Brk1_Cmd shows CheckBackID 101 and Brk1 follows", async () => {
    await page.selectOption("#ctl-device", "ICC1/Brk1_Cmd");
    const brk1 = '#live-table tr[data-point="ICC1/Brk1"] td.value';
    await waitFor((s) => /^(on|off)$/.test(document.querySelector(s)?.dataset.value || ""), "ICC1/Brk1 to read on or off", 20_000, brk1);
    const now = await cellValue("ICC1/Brk1");
    const want = now === "on" ? "off" : "on";
    await page.selectOption("#ctl-command", want);
    await page.click("#ctl-select");
    await page.locator('[data-testid="check-back-id"]').waitFor({ timeout: 10_000 });
    const cb = (await page.locator('[data-testid="check-back-id"]').textContent()).trim();
    assert(cb === "101", `CheckBackID ${cb}`);
    // The countdown (whole seconds of the select's 10 s) must go down; operate well within it.
    const countdown = '[data-testid="select-countdown"]';
    const c1 = Number(await page.locator(countdown).textContent());
    assert(c1 > 2, `the select countdown starts at ${c1} s`);
    await waitFor(([s, c]) => Number(document.querySelector(s)?.textContent) < c, `the select countdown to go below ${c1} s`, 3000, [countdown, c1]);
    const c2 = Number(await page.locator(countdown).textContent());
    await shot("sbo-selected");
    await page.click("#ctl-operate");
    await waitFor(() => document.getElementById("ctl-result").dataset.outcome !== "busy" && document.getElementById("ctl-result").dataset.outcome !== "", "the operate result", 10_000);
    const res = await page.locator("#ctl-result").textContent();
    assert((await page.locator("#ctl-result").getAttribute("data-outcome")) === "ok", `operate: ${res}`);
    await waitFor(([s, w]) => document.querySelector(s).dataset.value === w, `ICC1/Brk1 to become ${want}`, 20_000, [brk1, want]);
    await shot("sbo-operated");
    // And back (select-and-operate in one click): Brk1 follows the command both ways, and the
    // device is left as we found it.
    await page.selectOption("#ctl-command", now);
    await page.click("#ctl-operate");
    const back = await waitText("#ctl-result", new RegExp(`^operate accepted: ICC1/Brk1_Cmd → ${now}\\b|refused|error|failed`), "the operate back", 15_000);
    assert((await page.locator("#ctl-result").getAttribute("data-outcome")) === "ok", `operate back: ${back}`);
    await waitFor(([s, w]) => document.querySelector(s).dataset.value === w, `ICC1/Brk1 to become ${now} again`, 20_000, [brk1, now]);
    return `countdown ${c1}→${c2} s; ${res}; Brk1 ${now} → ${want} → ${now}`;
  });

  await check("an operate of a device tagged from the page is refused with the explanation", async () => {
    await page.selectOption("#ctl-device", "ICC1/Brk2_Cmd");
    await page.selectOption("#ctl-tag", "open-and-close");
    await page.fill("#ctl-tag-reason", "crew on line");
    await page.click("#ctl-tag-set");
    await waitFor(() => document.getElementById("ctl-tag-state").dataset.tag === "open_and_close_inhibit", "the tag to read back", 10_000);
    const tag = await page.locator("#ctl-tag-state").textContent();
    assert(/crew on line/.test(tag), `tag state: ${tag}`);
    await page.click("#ctl-operate");
    await waitFor(() => document.getElementById("ctl-result").dataset.outcome === "error", "the refusal", 10_000);
    const res = (await page.locator("#ctl-result").textContent()).trim();
    assert(/refused \([a-z ]+\): \S.{8,}/.test(res), `refusal text: ${res}`);
    await shot("tag-refused");
    // Leave the device as we found it.
    await page.selectOption("#ctl-tag", "none");
    await page.click("#ctl-tag-set");
    await waitFor(() => document.getElementById("ctl-tag-state").dataset.tag === "none", "the tag to clear", 10_000);
    return `${tag.trim()}; ${res}`;
  });

  await check("setpoints: range checks in words; a direct real setpoint is accepted", async () => {
    await page.selectOption("#ctl-device", "ICC1/Tap1_SP");
    await page.fill("#ctl-setpoint", "40000");
    await page.click("#ctl-operate");
    const r1 = await waitText("#ctl-result", /beyond INT16/, "discrete 40000");
    await page.selectOption("#ctl-device", "ICC1/Gen1_MW_SP");
    await page.fill("#ctl-max", "400");
    await page.fill("#ctl-setpoint", "412.5");
    await page.click("#ctl-operate");
    const r2 = await waitText("#ctl-result", /above the range maximum 400/, "real 412.5 over max 400");
    await page.fill("#ctl-max", "");
    await page.click("#ctl-operate");
    await waitFor(() => document.getElementById("ctl-result").dataset.outcome === "ok", "the setpoint to be accepted", 15_000);
    const r3 = (await page.locator("#ctl-result").textContent()).trim();
    return `${r1} | ${r2} | ${r3}`;
  });

  await check("an information message appears", async () => {
    await page.locator('[data-testid="info-message"]').first().waitFor({ timeout: 30_000 });
    return (await page.locator('[data-testid="info-message"]').first().textContent()).trim();
  });

  await check("the association downloads as a recording that tase2 replay replays", async () => {
    const [dl] = await Promise.all([
      page.waitForEvent("download"),
      page.locator('[data-testid="download-rec"]').click(),
    ]);
    const file = join(out, "viewer-session.rec");
    await dl.saveAs(file);
    const tase2 = args.tase2 || "target/release/tase2";
    const r = spawnSync(tase2, ["replay", file], { encoding: "utf8" });
    assert(r.status === 0, `tase2 replay exit ${r.status}: ${r.stdout}${r.stderr}`);
    const t = spawnSync(tase2, ["replay", file, "--timeline"], { encoding: "utf8" });
    assert(t.status === 0 && /Initiate/.test(t.stdout) && /report of transfer set/.test(t.stdout),
      `timeline: ${t.stdout.slice(0, 400)}${t.stderr}`);
    return r.stdout.trim();
  });

  await check("after a server restart the page reassociates and values flow again", async () => {
    serverDown = true;
    writeFileSync(args.control, "restart");
    const tDown = Date.now();
    await waitFor(() => document.getElementById("state").dataset.state !== "associated", "the association to drop", 15_000);
    const dropped = (await page.locator("#state").textContent()).trim();
    await shot("server-down");
    await waitFor(() => document.getElementById("state").dataset.state === "associated", "reassociation", 40_000);
    const tUp = Date.now();
    serverDown = false;
    const reports = await page.evaluate(() => window.viewer.reports);
    await waitFor((n) => window.viewer.reports > n + 1 && window.viewer.transferSet !== null, "reports after the reconnect", 20_000, reports);
    const before = await cellValue("ICC1/Gen1_MW");
    await waitFor((b) => document.querySelector('#live-table tr[data-point="ICC1/Gen1_MW"] td.value').dataset.value !== b, "Gen1_MW to change again", 20_000, before);
    const ts = (await page.locator("#ts-status").textContent()).trim();
    await shot("reconnected");
    return `dropped: "${dropped}"; reassociated after ${((tUp - tDown) / 1000).toFixed(1)} s; ${ts}`;
  });

  await check("laptop and large display layouts render", async () => {
    for (const [name, w, h] of [["laptop", 1366, 768], ["large-display", 2560, 1440]]) {
      await page.setViewportSize({ width: w, height: h });
      // The layout (and the trend's resize) settles: no horizontal overflow at the new width.
      try {
        await page.waitForFunction((w) => window.innerWidth === w && document.documentElement.scrollWidth - w <= 1,
          w, { timeout: 10_000, polling: 200 });
      } catch (_) {
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        throw new Error(`${name}: ${overflow} px of horizontal overflow after 10 s`);
      }
      // Nothing the page marks hidden is drawn (a stylesheet `display` rule beats `hidden`).
      const shown = await page.evaluate(() => [...document.querySelectorAll("[hidden]")]
        .filter((e) => e.getClientRects().length > 0).map((e) => e.id || e.tagName));
      assert(shown.length === 0, `${name}: hidden yet drawn: ${shown.join(", ")}`);
      // On a laptop screen the control panel starts within the first screenful.
      if (name === "laptop") {
        const top = await page.evaluate(() => document.getElementById("control-panel").getBoundingClientRect().top + window.scrollY);
        assert(top < h, `laptop: the device control panel starts at ${top.toFixed(0)} px, below the ${h} px screen`);
      }
      await shot(name, false);
    }
  });

  await check("disconnect releases in order; a wrong AP-title is refused with the reason, without retries", async () => {
    await page.click("#disconnect");
    await waitFor(() => document.getElementById("state").dataset.state === "closed", "the release", 10_000);
    const released = (await page.locator("#state").textContent()).trim();
    assert(/released in order/.test(released), `after disconnect: ${released}`);
    await page.fill("#local-ap", "1.1.1.555");
    await page.click("#connect");
    await waitFor(() => document.getElementById("state").dataset.state === "refused", "the refusal", 15_000);
    const refused = (await page.locator("#state").textContent()).trim();
    await page.waitForTimeout(2500);
    const still = await page.locator("#state").getAttribute("data-state");
    assert(still === "refused", `after a refusal the state became ${still}`);
    await shot("refused");
    return `"${released}"; "${refused}"`;
  });

  if (args.backup) await check("with a backup, the page fails over when the primary stops and values flow on the backup", async () => {
    const u = new URL(args.url);
    u.searchParams.set("backup", args.backup);
    await page.setViewportSize({ width: 1680, height: 1050 });
    await page.goto(u.toString(), { waitUntil: "load" });
    await waitFor(() => document.getElementById("state").dataset.state === "associated", "the association with the primary", 20_000);
    const primary = await page.locator("#target").inputValue();
    const backup = await page.locator("#backup").inputValue();
    assert(backup === args.backup, `the backup field reads ${JSON.stringify(backup)}, want ${args.backup}`);
    assert(primary !== backup, `primary and backup are both ${primary}`);
    await waitFor(() => window.viewer.transferSet !== null && window.viewer.reports > 0, "reports from the primary", 20_000);
    serverDown = true;
    writeFileSync(args.control, "stop");
    const tDown = Date.now();
    const esc = (t) => t.replace(/[.]/g, "\\.");
    const want = new RegExp(`^lost link to ${esc(primary)} \\(([^)]+)\\).*; on backup ${esc(backup)} after (\\d+\\.\\d+) s`);
    const text = await waitText("#state", want, "the state line after the primary stops", 40_000);
    const tUp = Date.now();
    assert((await page.locator("#state").getAttribute("data-state")) === "associated", "state not associated on the backup");
    const ts = await waitText("#ts-status", new RegExp(`restored on ${esc(backup)}.*gap of \\d+\\.\\d+ s`), "the transfer set's restoration", 10_000);
    const reports = await page.evaluate(() => window.viewer.reports);
    const before = await cellValue("ICC1/Gen1_MW");
    await waitFor(([b, n]) => window.viewer.reports > n && document.querySelector('#live-table tr[data-point="ICC1/Gen1_MW"] td.value').dataset.value !== b,
      "ICC1/Gen1_MW to change in a report from the backup", 30_000, [before, reports]);
    const after = await cellValue("ICC1/Gen1_MW");
    const offline = await page.locator("#live-table").evaluate((e) => e.classList.contains("offline"));
    assert(!offline, "the live table is still greyed out on the backup");
    await shot("failover");
    writeFileSync(args.control, "start");
    // The link's recording holds both associations and replays across the failover.
    const [dl] = await Promise.all([
      page.waitForEvent("download"),
      page.locator('[data-testid="download-rec"]').click(),
    ]);
    const file = join(out, "viewer-failover.rec");
    await dl.saveAs(file);
    const r = spawnSync(args.tase2 || "target/release/tase2", ["replay", file], { encoding: "utf8" });
    // One connection per association attempted: the primary's, the backup's, and any attempt on
    // the stopped primary in between.
    const conns = Number((/ (\d+) connections,/.exec(r.stdout) || [])[1]);
    assert(r.status === 0 && conns >= 2, `tase2 replay exit ${r.status}: ${r.stdout}${r.stderr}`);
    return `"${text}" (${((tUp - tDown) / 1000).toFixed(1)} s after the stop); ${ts}; Gen1_MW ${before} → ${after}; ${r.stdout.trim()}`;
  });

  if (args.backup) await check("with fail-back, the page returns to the primary once it answers again", async () => {
    const u = new URL(args.url);
    u.searchParams.set("backup", args.backup);
    u.searchParams.set("failback", "1");
    await page.goto(u.toString(), { waitUntil: "load" });
    await waitFor(() => document.getElementById("state").dataset.state === "associated", "the association with the primary", 20_000);
    assert(await page.locator("#fail-back").isChecked(), "?failback=1 did not tick the fail-back box");
    const primary = await page.locator("#target").inputValue();
    const esc = (t) => t.replace(/[.]/g, "\\.");
    await waitFor(() => window.viewer.transferSet !== null && window.viewer.reports > 0, "reports from the primary", 20_000);
    serverDown = true;
    writeFileSync(args.control, "stop");
    await waitText("#state", new RegExp(`on backup ${esc(args.backup)} after`), "the failover to the backup", 40_000);
    writeFileSync(args.control, "start");
    const tBack = Date.now();
    // The link probes the primary every 10 s while on the backup, then leaves the backup.
    const text = await waitText("#state", new RegExp(`on primary ${esc(primary)} after \\d+\\.\\d+ s, 1 transfer set restored`),
      "the fail-back to the primary", 60_000);
    const took = ((Date.now() - tBack) / 1000).toFixed(1);
    serverDown = false;
    const reports = await page.evaluate(() => window.viewer.reports);
    await waitFor((n) => window.viewer.reports > n, "a report from the primary after the fail-back", 30_000, reports);
    await shot("failback");
    return `"${text}" (${took} s after the primary came back)`;
  });

  await check(withWs ? "with ?ws= the page does not fetch /targets.json" : "without ?ws= the page fetches /targets.json", async () => {
    if (withWs) assert(targetsRequests.length === 0, `requested: ${targetsRequests.join(", ")}`);
    else assert(targetsRequests.length > 0, "no request for /targets.json");
    return `${targetsRequests.length} request(s)`;
  });

  await check("no console errors", async () => {
    assert(consoleErrors.length === 0, `${consoleErrors.length}: ${consoleErrors.join(" | ")}`);
  });
  code = failed === 0 ? 0 : 1;
} catch (e) {
  failed += 1;
  console.log(`FAIL (aborted): ${e.stack || e}`);
} finally {
  await context.close().catch(() => {});
  rmSync(userDir, { recursive: true, force: true });
}
console.log(`proxy: ${via}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? code : 1);
