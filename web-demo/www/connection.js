// One TASE.2 association over a WebSocket (websockify-style proxy, subprotocol "binary"), with
// the WasmSession pump, commands as promises and reconnection with a bounded backoff.
//
// Callbacks: onState({state, text}) with state one of connecting, associated, refused, closed,
// waiting (a reconnect is scheduled), idle; onEvent(event) for every session event other than
// `done` (reports, information messages, ...); onAssociated() each time an association is up.

const BACKOFF_MS = [1000, 2000, 4000, 8000, 15000]; // then 15 s, at most MAX_ATTEMPTS tries
// Sockets are closed with 1000 (normal closure), never without a code: websockify 0.10 answers a
// close frame without a code with the reserved code 1005, which the browser reports as an error.
const MAX_ATTEMPTS = 40;

export class Connection {
  constructor(WasmSession, handlers) {
    this.WasmSession = WasmSession;
    this.h = handlers;
    this.ws = null;
    this.s = null;
    this.timer = null;
    this.reconnectTimer = null;
    this.ops = new Map();
    this.params = null;
    this.wanted = false; // the operator wants an association
    this.attempt = 0;
    this.everAssociated = false;
  }

  /// params: {url, localAp, localAe, remoteAp, remoteAe, autoReconnect}
  connect(params) {
    this.params = params;
    this.wanted = true;
    this.attempt = 0;
    this.open();
  }

  disconnect() {
    this.wanted = false;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    if (this.s && !this.s.is_closed()) {
      try {
        if (this.s.is_established()) this.s.conclude(Date.now());
        else this.s.abort(Date.now());
      } catch (_) {
        this.s.abort(Date.now());
      }
      this.pump();
    }
    // An orderly release ends with the closed event; close the socket after a grace period.
    const ws = this.ws;
    setTimeout(() => { if (ws && ws.readyState <= 1) ws.close(1000); }, 2000);
    if (!this.s) this.h.onState({ state: "idle", text: "disconnected" });
  }

  get established() {
    return !!(this.s && !this.s.is_closed() && this.s.is_established());
  }

  open() {
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const p = this.params;
    this.attempt += 1;
    this.h.onState({
      state: "connecting",
      text: `connecting to ${p.target}` + (this.attempt > 1 ? ` (attempt ${this.attempt})` : ""),
    });
    let ws;
    try {
      ws = new WebSocket(p.url, ["binary"]);
    } catch (e) {
      this.h.onState({ state: "closed", text: `closed: bad WebSocket URL ${p.url}: ${e.message}` });
      this.wanted = false;
      return;
    }
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    this.s = null;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      try {
        this.s = new this.WasmSession(p.localAp, p.localAe, p.remoteAp, p.remoteAe, Date.now());
        // Every association is recorded in memory, for the "Download recording" button.
        this.s.record();
      } catch (e) {
        this.wanted = false;
        this.h.onState({ state: "closed", text: `closed: ${e}` });
        ws.close(1000);
        return;
      }
      this.pump();
    };
    ws.onmessage = (m) => {
      if (this.ws !== ws || !this.s) return;
      this.s.handle_input(Date.now(), new Uint8Array(m.data));
      this.pump();
    };
    ws.onerror = () => {}; // onclose follows and says what happened
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      if (this.s && !this.s.is_closed()) {
        this.s.handle_transport_closed(Date.now());
        this.pump();
      } else if (!this.s) {
        // Never got as far as a session: the proxy refused or could not reach the target.
        this.ended(`closed: WebSocket ${ev.code}${ev.reason ? " " + ev.reason : ""} (proxy or target unreachable)`, false);
      }
    };
  }

  /// The log of the current (or the last) association, to save as a file; null before any.
  recording() {
    const now = this.s && this.s.recording();
    if (now) this.lastRecording = now;
    return this.lastRecording || null;
  }

  /// The association (or the socket before it) ended.
  ended(text, refused) {
    if (this.s) this.recording();
    clearTimeout(this.timer);
    for (const [, r] of this.ops) r.reject(new Error("association closed"));
    this.ops.clear();
    const ws = this.ws;
    if (ws && ws.readyState <= 1) setTimeout(() => ws.close(1000), 0);
    const retry = this.wanted && this.params.autoReconnect && !refused && this.attempt < MAX_ATTEMPTS;
    if (retry) {
      const delay = BACKOFF_MS[Math.min(this.attempt - 1, BACKOFF_MS.length - 1)];
      this.h.onState({ state: refused ? "refused" : "closed", text, retry: delay });
      this.reconnectTimer = setTimeout(() => this.open(), delay);
    } else {
      if (this.wanted && this.attempt >= MAX_ATTEMPTS) text += ` — gave up after ${this.attempt} attempts`;
      this.wanted = false;
      this.h.onState({ state: refused ? "refused" : "closed", text });
    }
  }

  pump() {
    const s = this.s;
    if (!s) return;
    for (let busy = true; busy && this.s === s; ) {
      busy = false;
      let out, ev;
      while ((out = s.poll_transmit())) {
        if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(out);
        busy = true;
      }
      while ((ev = s.poll_event())) {
        busy = true;
        this.dispatch(JSON.parse(ev));
      }
    }
    clearTimeout(this.timer);
    if (this.s !== s || s.is_closed()) return;
    const at = s.poll_timeout_ms();
    if (at !== undefined) {
      this.timer = setTimeout(() => {
        if (this.s !== s) return;
        s.handle_timeout(Date.now());
        this.pump();
      }, Math.max(0, Math.min(at - Date.now(), 2 ** 31 - 1)));
    }
  }

  dispatch(e) {
    switch (e.type) {
      case "established":
        this.attempt = 0;
        this.everAssociated = true;
        this.h.onState({ state: "associated", text: `associated with ${this.params.target} (max PDU ${e.max_pdu_size} octets, ${e.max_outstanding} outstanding)` });
        // Commands may be issued from here: they leave on this pump.
        this.h.onAssociated();
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
        const err = e.error;
        const refused = err !== null && /refused|rejected|initiate failed/i.test(err);
        const text = err === null ? "closed: released in order"
          : refused ? `refused: ${err}` : `closed: ${err}`;
        this.ended(text, refused);
        return;
      }
      default:
        this.h.onEvent(e);
    }
  }

  /// Run a command (a function of the session and now returning an op id, or a JSON command
  /// object) and resolve with its outcome; reject with the error (its `event` has the details).
  run(cmd) {
    if (!this.s || this.s.is_closed()) return Promise.reject(new Error("not associated"));
    let id;
    try {
      id = typeof cmd === "function" ? cmd(this.s, Date.now()) : this.s.command(Date.now(), JSON.stringify(cmd));
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
