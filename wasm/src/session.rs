//! [`WasmSession`]: the core's TASE.2 client [`Session`] for JavaScript.

use tase2_core::tase2::client::{Command, Session, SessionConfig};
#[cfg(feature = "methods")]
use tase2_core::tase2::{ControlValue, Edition, TagValue};
use tase2_core::Instant;
use wasm_bindgen::prelude::wasm_bindgen;

#[cfg(feature = "methods")]
use crate::commands::object_name;
use crate::methods::{command_methods, Reads};

/// A TASE.2 client session for JavaScript: discovery, points, transfer sets, information
/// messages and device control, with typed JSON events. See the [crate docs](crate).
#[wasm_bindgen]
#[derive(Debug)]
pub struct WasmSession {
    session: Session,
    /// Last monotonic reading in microseconds, so a clock step back never reaches the core.
    clock: crate::JsClock,
    /// The names each pending `read_points` asked for.
    reads: Reads,
}

command_methods!(WasmSession);

#[wasm_bindgen]
impl WasmSession {
    /// Start an association from our AP-title (dotted OID) and AE-qualifier to the peer's; the
    /// connection request is ready in [`Self::poll_transmit`] at once. Fails on a malformed OID.
    #[wasm_bindgen(constructor)]
    pub fn new(
        local_ap_title: &str,
        local_ae: i32,
        remote_ap_title: &str,
        remote_ae: i32,
        now_ms: f64,
    ) -> Result<WasmSession, String> {
        let config =
            crate::association_config(local_ap_title, local_ae, remote_ap_title, remote_ae)?;
        let mut clock = crate::JsClock::new(now_ms);
        Ok(WasmSession {
            session: Session::new(config, SessionConfig::default(), clock.now(now_ms)),
            clock,
            reads: Reads::default(),
        })
    }

    fn now(&mut self, now_ms: f64) -> Instant {
        self.clock.now(now_ms)
    }

    // --- recording ---

    /// Record this session in memory (see `tase2_core::record`): call it right after the
    /// constructor, before the first input or `poll_transmit`. [`Self::recording`] then gives
    /// the log, which `tase2 replay` replays and decodes (`--timeline`) outside the browser.
    pub fn record(&mut self) -> Result<(), String> {
        self.session
            .record(
                Box::new(Vec::<u8>::new()),
                concat!(
                    "FreeTase2 browser viewer ",
                    env!("CARGO_PKG_VERSION"),
                    " (wasm)"
                ),
            )
            .map_err(|e| e.to_string())
    }

    /// The log recorded so far (a whole log, ready to save as a file), or `undefined` when this
    /// session is not recording.
    pub fn recording(&self) -> Option<Vec<u8>> {
        self.session.recording().map(<[u8]>::to_vec)
    }

    // --- input ---

    /// Bytes received from the WebSocket, in any split.
    pub fn handle_input(&mut self, now_ms: f64, bytes: &[u8]) {
        let now = self.now(now_ms);
        self.session.handle_input(now, bytes);
    }

    /// The deadline from [`Self::poll_timeout_ms`] has passed.
    pub fn handle_timeout(&mut self, now_ms: f64) {
        let now = self.now(now_ms);
        self.session.handle_timeout(now);
    }

    /// The WebSocket closed.
    pub fn handle_transport_closed(&mut self, now_ms: f64) {
        let now = self.now(now_ms);
        self.session.handle_transport_closed(now);
    }

    // --- output ---

    /// The next bytes to send on the WebSocket (one binary message), or `undefined` when none.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        let mut buf = Vec::new();
        (self.session.poll_transmit(&mut buf) > 0).then_some(buf)
    }

    /// The next event as a JSON string (see the crate docs for the shapes), or `undefined`.
    pub fn poll_event(&mut self) -> Option<String> {
        let e = self.session.poll_event()?;
        let session = &self.session;
        Some(self.reads.json(&e, |n| session.point_type(n)))
    }

    /// When to call [`Self::handle_timeout`], in `Date.now()` milliseconds; `undefined` for never.
    pub fn poll_timeout_ms(&self) -> Option<f64> {
        self.session.poll_timeout().map(crate::JsClock::deadline_ms)
    }

    // --- state ---

    /// Whether the association is up.
    pub fn is_established(&self) -> bool {
        self.session.is_established()
    }

    /// Whether the association has ended: close the WebSocket once the transmits are sent.
    pub fn is_closed(&self) -> bool {
        self.session.is_closed()
    }

    // --- commands ---

    fn start(&mut self, now_ms: f64, command: Command) -> f64 {
        let now = self.now(now_ms);
        let names = Reads::names(&command);
        let id = self.session.command(now, command);
        // A command on a closed session is finished at once: its event is already queued, and
        // poll_event takes the names back out.
        self.reads.started(id, names);
        id.0 as f64
    }

    /// Release the association in order; `{"type": "closed", "error": null}` confirms it.
    pub fn conclude(&mut self, now_ms: f64) -> Result<(), String> {
        let now = self.now(now_ms);
        self.session.conclude(now).map_err(|e| e.to_string())
    }

    /// Abort the association at once.
    pub fn abort(&mut self, now_ms: f64) {
        let now = self.now(now_ms);
        self.session.abort(now);
    }
}

/// The settings and acknowledgements the viewer does not use, behind the default feature
/// `methods` with the command shorthands.
#[cfg(feature = "methods")]
#[wasm_bindgen]
impl WasmSession {
    /// The server's edition as last read (`"2000.08"` before any read).
    pub fn edition(&self) -> String {
        match self.session.edition() {
            Edition::V1996_08 => "1996.08".into(),
            Edition::V2000_08 => "2000.08".into(),
        }
    }

    /// Acknowledge critical reports of our transfer sets as they arrive (on by default).
    pub fn set_auto_ack(&mut self, on: bool) {
        self.session.set_auto_ack(on);
    }

    /// Acknowledge the critical report of `transfer_set` stamped `timestamp` (needed only with
    /// auto-ACK off). Throws when the association is gone.
    pub fn ack(&mut self, transfer_set: &str, timestamp: i32) -> Result<(), String> {
        self.session
            .ack(&object_name(transfer_set), timestamp)
            .map_err(|e| e.to_string())
    }

    /// Refuse the critical report of `transfer_set`. Throws when the association is gone.
    pub fn nack(&mut self, transfer_set: &str) -> Result<(), String> {
        self.session
            .nack(&object_name(transfer_set))
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_before_the_association_is_up_waits_and_a_bad_one_throws() {
        let mut s = WasmSession::new("1.1.1.999", 12, "1.1.1.998", 12, 1_000.0).unwrap();
        assert!(s.poll_transmit().is_some(), "the connection request");
        assert_eq!(s.discover(1_000.0), 0.0);
        assert_eq!(s.command(1_000.0, r#"{"command":"version"}"#), Ok(1.0));
        assert!(s.poll_event().is_none(), "waiting for the association");
        assert!(s.command(1_000.0, r#"{"command":"nope"}"#).is_err());
        assert!(s.operate(1_000.0, "D/B", "sideways").is_err());
        assert!(s.set_tag(1_000.0, "D/B", "purple", "").is_err());
        // The connect timeout fails both, then closes.
        let at = s.poll_timeout_ms().unwrap();
        s.handle_timeout(at);
        let ev: Vec<serde_json::Value> = std::iter::from_fn(|| s.poll_event())
            .map(|e| serde_json::from_str(&e).unwrap())
            .collect();
        assert_eq!(ev.len(), 3, "{ev:?}");
        assert_eq!(ev[0]["type"], "done");
        assert_eq!(ev[0]["ok"], false);
        assert_eq!(ev[0]["kind"], "closed");
        assert_eq!(ev[2]["type"], "closed");
        assert_eq!(ev[2]["error"], "timeout: association establishment");
        assert!(s.is_closed());
        // After the close, a command finishes at once, failed.
        let id = s.read_points(at, vec!["ICC1/P1".into()]);
        let e: serde_json::Value = serde_json::from_str(&s.poll_event().unwrap()).unwrap();
        assert_eq!(e["op"], id);
        assert_eq!(e["kind"], "closed");
        assert!(s.ack("ICC1/DSTransfer_Set_1", 0).is_err());
    }

    #[test]
    fn the_clock_never_goes_back() {
        let mut s = WasmSession::new("1.1.1.999", 12, "1.1.1.998", 12, 5_000.0).unwrap();
        assert_eq!(s.now(1_000.0).monotonic().as_millis(), 5_000);
        assert_eq!(s.now(1_000.0).utc_micros(), 1_000_000);
        assert_eq!(s.now(f64::NAN).monotonic().as_millis(), 5_000);
        assert_eq!(s.now(6_000.0).monotonic().as_millis(), 6_000);
    }
}
