// The viewer's TASE.2 link: the core's reconnect/failover policy (WasmFailover: endpoints primary
// first, backoff with jitter, dead-link keepalive, optional fail-back, restoration of the transfer
// sets and information messages after every new association) driven over WebSockets to a
// websockify-style proxy (subprotocol "binary"). This file only opens and closes the sockets the
// core asks for and says what happened to them; the policy is the core's, as in the tokio driver.
//
// Callbacks: onState({state, text, retry?}) with state one of connecting, associated, refused,
// closed, idle (retry: ms until the next round of attempts); onEvent(event) for every session
// event other than `done`/`closed`/`established` (reports, information messages, ...) and for
// `refreshed` (the values of a restored transfer set, read once); onAssociated() on the link's
// first association; onRestored(event) after each later one, once the core has restored the
// setup on it.

// Sockets are closed with 1000 (normal closure), never without a code: websockify 0.10 answers a
// close frame without a code with the reserved code 1005, which the browser reports as an error.
const NORMAL = 1000;
// Our proxy accepts the WebSocket before it connects to the target, and closes it (1011 "target
// unreachable") when that fails: a probe socket still open after this long reached its target.
const PROBE_SETTLE_MS = 1000;

/// Milliseconds as seconds for people: two decimals under 1 s (a failover takes tens of ms).
export function seconds(ms) {
  return (ms / 1000).toFixed(ms < 1000 ? 2 : 1);
}

export class Connection {
  constructor(WasmFailover, handlers) {
    this.WasmFailover = WasmFailover;
    this.h = handlers;
    this.f = null;
    this.ws = null; // the current transport: {sock, endpoint, opened}
    this.timer = null;
    this.ops = new Map();
    this.params = null;
    this.lastRecording = null;
  }

  /// params: {targets: [primary, backup...], urlFor(target), localAp, localAe, remoteAp,
  /// remoteAe, autoReconnect, failBack}
  connect(params) {
    this.stop();
    this.params = params;
    this.everUp = false;
    this.refusal = null;
    this.lost = null; // {text, at} while the link is down after a loss
    const options = {
      backoff_min_ms: 250,
      backoff_max_ms: 15000,
      // Browsers of one control room must not come back in step after a server restart.
      seed: Math.floor(Math.random() * 2 ** 52),
      fail_back_ms: params.failBack && params.targets.length > 1 ? 10000 : null,
    };
    let f;
    try {
      f = new this.WasmFailover(params.targets, params.localAp, params.localAe, params.remoteAp,
        params.remoteAe, JSON.stringify(options), Date.now());
      // The whole link, every association of it, in memory for the "Download recording" button.
      f.record();
    } catch (e) {
      this.h.onState({ state: "closed", text: `closed: ${e}` });
      return;
    }
    this.f = f;
    this.pump();
  }

  /// Release the association in order and connect no more.
  disconnect() {
    if (!this.f || this.f.is_closed()) {
      this.h.onState({ state: "idle", text: "disconnected" });
      return;
    }
    this.f.conclude(Date.now());
    this.pump();
  }

  /// Forget the link at once (a new connect replaces it).
  stop() {
    if (this.f && !this.f.is_closed()) this.f.abort(Date.now());
    this.recording();
    this.f = null;
    clearTimeout(this.timer);
    this.dropSocket();
  }

  get established() {
    return !!(this.f && this.f.is_up());
  }

  /// The log of the link (all its associations) to save as a file; null before any.
  recording() {
    const now = this.f && this.f.recording();
    if (now) this.lastRecording = now;
    return this.lastRecording;
  }

  target(endpoint) {
    return this.params.targets[endpoint];
  }

  dropSocket() {
    const t = this.ws;
    this.ws = null;
    if (t && t.sock.readyState <= 1) t.sock.close(NORMAL);
  }

  /// A socket to `target`, or null with the reason given to onFail.
  socket(target, onFail) {
    try {
      const sock = new WebSocket(this.params.urlFor(target), ["binary"]);
      sock.binaryType = "arraybuffer";
      sock.onerror = () => {}; // onclose follows and says what happened
      return sock;
    } catch (e) {
      onFail(`bad WebSocket URL: ${e.message}`);
      return null;
    }
  }

  act(a) {
    const f = this.f;
    if (a.disconnect) { this.dropSocket(); return; }
    if (a.connect) {
      const { endpoint } = a.connect;
      this.dropSocket();
      const sock = this.socket(a.connect.target, () => f.handle_connect_failed(Date.now(), endpoint));
      if (!sock) return;
      const t = { sock, endpoint, opened: false };
      this.ws = t;
      const mine = () => this.ws === t && this.f === f;
      sock.onopen = () => {
        if (!mine()) return;
        t.opened = true;
        f.handle_connected(Date.now(), endpoint);
        this.pump();
      };
      sock.onmessage = (m) => {
        if (!mine()) return;
        f.handle_input(Date.now(), new Uint8Array(m.data));
        this.pump();
      };
      sock.onclose = (ev) => {
        if (!mine()) return;
        this.ws = null;
        this.closeReason = ev.reason ? `WebSocket ${ev.code} ${ev.reason}` : null;
        if (t.opened) f.handle_transport_closed(Date.now());
        else f.handle_connect_failed(Date.now(), endpoint);
        this.pump();
      };
      return;
    }
    if (a.probe) {
      const { endpoint } = a.probe;
      let answered = false;
      const answer = (up) => {
        if (answered) return;
        answered = true;
        if (this.f !== f) return;
        f.handle_probe(Date.now(), endpoint, up);
        this.pump();
      };
      const sock = this.socket(a.probe.target, () => answer(false));
      if (!sock) return;
      sock.onopen = () => setTimeout(() => { answer(sock.readyState === WebSocket.OPEN); sock.close(NORMAL); }, PROBE_SETTLE_MS);
      sock.onclose = () => answer(false);
    }
  }

  pump() {
    const f = this.f;
    if (!f) return;
    for (let busy = true; busy && this.f === f; ) {
      busy = false;
      let a, out, ev;
      while ((a = f.poll_action())) { busy = true; this.act(JSON.parse(a)); }
      while ((out = f.poll_transmit())) {
        busy = true;
        const t = this.ws;
        if (t && t.opened && t.sock.readyState === WebSocket.OPEN) t.sock.send(out);
      }
      while ((ev = f.poll_event())) { busy = true; this.dispatch(JSON.parse(ev)); }
    }
    clearTimeout(this.timer);
    if (this.f !== f || f.is_closed()) return;
    const at = f.poll_timeout_ms();
    if (at !== undefined) {
      this.timer = setTimeout(() => {
        if (this.f !== f) return;
        f.handle_timeout(Date.now());
        this.pump();
      }, Math.max(0, Math.min(at - Date.now(), 2 ** 31 - 1)));
    }
  }

  prefix() {
    return this.lost ? `${this.lost.text}; ` : "";
  }

  dispatch(e) {
    switch (e.type) {
      case "connecting":
        this.h.onState({ state: "connecting", text: `${this.prefix()}connecting to ${e.target}${e.round ? ` (round ${e.round + 1})` : ""}` });
        return;
      case "attempt_failed": {
        const why = `${e.target}: ${e.cause}${this.closeReason ? ` (${this.closeReason})` : ""}`;
        this.closeReason = null;
        console.info(`attempt failed: ${why}`);
        this.lastFailure = why;
        if (e.refused && !this.everUp) this.refusal = `refused: ${e.cause}`;
        return;
      }
      case "waiting":
        // A refusal before any association is a configuration matter, and so is a link the
        // operator asked not to retry: retrying will not help.
        if (this.refusal || (!this.everUp && !this.params.autoReconnect)) {
          this.f.abort(Date.now());
          return;
        }
        this.h.onState({ state: "closed", text: `${this.prefix()}${this.lastFailure || "no endpoint answered"}`, retry: e.delay_ms });
        return;
      case "established":
        this.negotiated = e;
        return;
      case "up":
        if (this.everUp) return; // the state line waits for the restoration
        this.everUp = true;
        this.h.onState({ state: "associated", text: `associated with ${e.target} (max PDU ${this.negotiated.max_pdu_size} octets, ${this.negotiated.max_outstanding} outstanding)` });
        // Commands may be issued from here: they leave on this pump.
        this.h.onAssociated();
        return;
      case "lost":
        this.lost = { text: `lost link to ${e.target} (${e.cause})`, at: Date.now() };
        if (!this.params.autoReconnect) { this.f.abort(Date.now()); return; }
        this.h.onState({ state: "closed", text: this.lost.text });
        return;
      case "restored": {
        const where = e.endpoint === 0 ? (this.params.targets.length > 1 ? "on primary" : "back on") : "on backup";
        const n = e.transfer_sets.length;
        const text = `${this.prefix()}${where} ${e.target} after ${seconds(e.gap_ms)} s`
          + (n ? `, ${n} transfer set${n > 1 ? "s" : ""} restored` : "")
          + (e.failed.length ? `, not restored: ${e.failed.map(([name, err]) => `${name} (${err})`).join(", ")}` : "");
        this.lost = null;
        this.h.onState({ state: "associated", text, restored: e });
        this.h.onRestored(e);
        return;
      }
      case "failing_back":
        this.h.onState({ state: "associated", text: `primary ${e.target} answers again: leaving backup ${e.from_target}` });
        return;
      case "not_remembered":
        console.warn(`${e.name} will not be restored after a loss (the link remembers only so many)`);
        return;
      case "done": {
        const r = this.ops.get(e.op);
        if (r) {
          this.ops.delete(e.op);
          if (e.ok) r.resolve(e.result);
          else r.reject(Object.assign(new Error(e.error), { event: e }));
        }
        return;
      }
      case "closed": {
        // The link itself ended (a release, an abort): it connects no more.
        this.recording();
        for (const [, r] of this.ops) r.reject(new Error("association closed"));
        this.ops.clear();
        const t = this.ws;
        if (t && t.sock.readyState <= 1) setTimeout(() => t.sock.readyState <= 1 && t.sock.close(NORMAL), 2000);
        let text, state = "closed";
        if (this.refusal) { text = this.refusal; state = "refused"; }
        else if (this.lost) text = `${this.lost.text}; not reconnecting (auto-reconnect is off)`;
        else if (!this.everUp && this.lastFailure) text = `closed: ${this.lastFailure}`;
        else text = e.error === null ? "closed: released in order" : `closed: ${e.error}`;
        this.h.onState({ state, text });
        return;
      }
      default:
        this.h.onEvent(e);
    }
  }

  /// Run a command (a function of the link and now returning an op id, or a JSON command object)
  /// and resolve with its outcome; reject with the error (its `event` has the details). While the
  /// link is down the core holds the command for the next association.
  run(cmd) {
    const f = this.f;
    if (!f || f.is_closed()) return Promise.reject(new Error("not associated"));
    let id;
    try {
      id = typeof cmd === "function" ? cmd(f, Date.now()) : f.command(Date.now(), JSON.stringify(cmd));
    } catch (e) {
      return Promise.reject(new Error(String(e)));
    }
    const p = new Promise((resolve, reject) => this.ops.set(id, { resolve, reject }));
    // Let the caller attach handlers before the pump can settle it.
    queueMicrotask(() => this.pump());
    return p;
  }
}

/// An error of `run` in words: a control refusal with its explanation, else the error text.
export function errorText(err) {
  const e = err && err.event;
  if (!e) return String(err && err.message ? err.message : err);
  if (e.control) {
    const c = e.control;
    const what = { select: "select", operate: "operate", read_tag: "tag read", set_tag: "tag change" }[c.op] || c.op;
    return `${what} refused (${c.kind.replace(/_/g, " ")}): ${c.explanation || e.error}`;
  }
  return `${e.error}${e.kind ? ` [${e.kind.replace(/_/g, " ")}]` : ""}`;
}
