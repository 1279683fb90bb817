//! FreeTase2 for the browser: the client core as a wasm-bindgen class.
//!
//! [`WasmClient`] wraps a sans-IO [`tase2_core::client::Client`]. It has no socket code: the
//! JavaScript side owns a `WebSocket` to a websockify-style proxy (subprotocol `binary`), passes
//! every received message to [`WasmClient::handle_input`] and sends whatever
//! [`WasmClient::poll_transmit`] returns. Timers come from `setTimeout`.
//!
//! ```js
//! import init, { WasmClient } from "./tase2_wasm.js";
//! await init();
//! const ws = new WebSocket("ws://localhost:8080/?target=127.0.0.1:102", ["binary"]);
//! ws.binaryType = "arraybuffer";
//! let client, timer;
//! function pump() {                       // after every input, timeout or command
//!   for (let busy = true; busy; ) {       // until quiet: an event handler may send a request
//!     busy = false;
//!     let out, ev;
//!     while ((out = client.poll_transmit())) { ws.send(out); busy = true; }
//!     while ((ev = client.poll_event())) { busy = true; onEvent(JSON.parse(ev)); }
//!   }
//!   clearTimeout(timer);
//!   const at = client.poll_timeout_ms();
//!   if (at !== undefined)
//!     timer = setTimeout(() => { client.handle_timeout(Date.now()); pump(); },
//!                        Math.max(0, at - Date.now()));
//! }
//! function onEvent(e) {
//!   if (e.type === "established") client.read(Date.now(), "ICC1", "Voltage");
//!   // {"type":"response","invoke_id":1,"ok":true,"service":"read",...,"result":{"values":[231.5]}}
//!   if (e.type === "response") console.log(e.summary, e.result);
//! }
//! ws.onopen = () => { client = new WasmClient("1.1.1.999", 12, "1.1.1.998", 12, Date.now()); pump(); };
//! ws.onmessage = (m) => { client.handle_input(Date.now(), new Uint8Array(m.data)); pump(); };
//! ws.onclose = () => { client.handle_transport_closed(); pump(); };
//! ```
//!
//! **Drain until quiet:** bytes a command queues (including one sent from an event handler) only
//! leave through [`WasmClient::poll_transmit`]; a `pump` that stops after one pass leaves them
//! waiting until the next input or timer. `js/node-smoke.js` is the same loop over a Node TCP
//! socket, for trying the wasm build against a server without a browser.
//!
//! # Time
//!
//! Every call takes `now_ms`, milliseconds since the Unix epoch as `Date.now()` gives them. The
//! value is used both as the UTC clock and as the monotonic clock for the core's timers; a clock
//! that steps backwards is held at its last reading for the timers, so they never run backwards.
//! [`WasmClient::poll_timeout_ms`] answers on the same scale.
//!
//! # Events
//!
//! [`WasmClient::poll_event`] returns one JSON object per event, with a `type` field:
//!
//! | `type` | fields |
//! | --- | --- |
//! | `established` | `max_pdu_size`, `max_outstanding` |
//! | `response` | `invoke_id`, `ok`; if ok: `service`, `summary`, `result`; else `error` (`service`, `rejected`, `timeout`, `closed`), `summary` |
//! | `report` | `variables` (`{"list": name}` or `{"names": [...]}`), `values` |
//! | `closed` | `error` (`null` for an orderly release) |
//! | `peer_error`, `rejected`, `unconfirmed`, `other` | `summary` or `service_tag` |
//!
//! MMS values render as JSON: numbers as numbers (beyond ±2^53 as strings), strings as strings,
//! structures and arrays as arrays, bit strings as `"0101"`, octet strings as hex, a failed access
//! as `{"failure": "..."}`.

#![forbid(unsafe_code)]

mod commands;
pub mod events;
mod json;
mod session;

use std::time::Duration;

use tase2_core::assoc::{ApiError, AssociationConfig};
use tase2_core::client::Client;
use tase2_core::mms::{ObjectClass, ObjectName, ObjectScope};
use tase2_core::Instant;
use wasm_bindgen::prelude::wasm_bindgen;

pub use commands::{object_name as parse_object_name, parse as parse_command};
pub use json::event as event_json;
pub use session::WasmSession;

/// A TASE.2 / MMS client association for JavaScript; see the [crate docs](crate).
#[wasm_bindgen]
#[derive(Debug)]
pub struct WasmClient {
    client: Client,
    /// Last monotonic reading in microseconds, so a clock step back never reaches the core.
    last_mono_us: u64,
}

/// Milliseconds as a JS number to whole microseconds, clamped to `0..=2^62` (NaN is 0).
pub(crate) fn ms_to_us(ms: f64) -> u64 {
    // `as` from a float saturates and maps NaN to 0: no panic whatever the caller passes.
    (ms * 1000.0).clamp(0.0, (1u64 << 62) as f64) as u64
}

/// The core's time: the held monotonic reading and `now_ms` as UTC (saturating, NaN is 0).
pub(crate) fn instant(mono_us: u64, now_ms: f64) -> Instant {
    Instant::new(Duration::from_micros(mono_us), (now_ms * 1000.0) as i64)
}

fn api(e: ApiError) -> String {
    e.to_string()
}

/// The name in `domain` (VMD scope when `domain` is empty).
fn object_name(domain: &str, item: &str) -> ObjectName {
    if domain.is_empty() {
        ObjectName::vmd(item)
    } else {
        ObjectName::domain(domain, item)
    }
}

#[wasm_bindgen]
impl WasmClient {
    /// Start an association from our AP-title (dotted OID) and AE-qualifier to the peer's. The
    /// connection request is ready in [`Self::poll_transmit`] at once. Fails on a malformed OID.
    #[wasm_bindgen(constructor)]
    pub fn new(
        local_ap_title: &str,
        local_ae: i32,
        remote_ap_title: &str,
        remote_ae: i32,
        now_ms: f64,
    ) -> Result<WasmClient, String> {
        let oid = |s: &str| {
            s.parse()
                .map_err(|e| format!("invalid AP-title {s:?}: {e}"))
        };
        let config = AssociationConfig::with_ap_titles(
            (oid(local_ap_title)?, i64::from(local_ae)),
            (oid(remote_ap_title)?, i64::from(remote_ae)),
        );
        let last_mono_us = ms_to_us(now_ms);
        Ok(WasmClient {
            client: Client::new(config, instant(last_mono_us, now_ms)),
            last_mono_us,
        })
    }

    fn now(&mut self, now_ms: f64) -> Instant {
        self.last_mono_us = self.last_mono_us.max(ms_to_us(now_ms));
        instant(self.last_mono_us, now_ms)
    }

    /// Bytes received from the WebSocket, in any split.
    pub fn handle_input(&mut self, now_ms: f64, bytes: &[u8]) {
        let now = self.now(now_ms);
        self.client.handle_input(now, bytes);
    }

    /// The deadline from [`Self::poll_timeout_ms`] has passed.
    pub fn handle_timeout(&mut self, now_ms: f64) {
        let now = self.now(now_ms);
        self.client.handle_timeout(now);
    }

    /// The WebSocket closed.
    pub fn handle_transport_closed(&mut self) {
        self.client.handle_transport_closed();
    }

    /// The next bytes to send on the WebSocket (one binary message), or `undefined` when none.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        let mut buf = Vec::new();
        (self.client.poll_transmit(&mut buf) > 0).then_some(buf)
    }

    /// When to call [`Self::handle_timeout`], in `Date.now()` milliseconds; `undefined` for never.
    pub fn poll_timeout_ms(&self) -> Option<f64> {
        self.client
            .poll_timeout()
            .map(|t| t.monotonic().as_micros() as f64 / 1000.0)
    }

    /// The next event as a JSON string (see the crate docs), or `undefined` when none.
    pub fn poll_event(&mut self) -> Option<String> {
        self.client.poll_event().map(|e| json::event(&e))
    }

    /// Whether requests may be sent.
    pub fn is_established(&self) -> bool {
        self.client.is_established()
    }

    /// Whether the association has ended: close the WebSocket once the transmits are sent.
    pub fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    /// Identify (vendor, model, revision); returns the invoke id of the response to wait for.
    pub fn identify(&mut self, now_ms: f64) -> Result<u32, String> {
        let now = self.now(now_ms);
        self.client.identify(now).map_err(api)
    }

    /// Status of the server's VMD; returns the invoke id.
    pub fn status(&mut self, now_ms: f64) -> Result<u32, String> {
        let now = self.now(now_ms);
        self.client.status(now).map_err(api)
    }

    /// The first page of domain names; returns the invoke id.
    pub fn get_domain_names(&mut self, now_ms: f64) -> Result<u32, String> {
        let now = self.now(now_ms);
        self.client
            .get_name_list(now, ObjectClass::Domain, ObjectScope::Vmd, None)
            .map_err(api)
    }

    /// The first page of variable names in `domain` (VMD scope when empty); returns the invoke id.
    pub fn get_variable_names(&mut self, now_ms: f64, domain: &str) -> Result<u32, String> {
        self.get_variable_names_after(now_ms, domain, None)
    }

    /// The next page of variable names in `domain`, after the last name received (while the
    /// previous response said `more_follows`); returns the invoke id.
    pub fn get_variable_names_after(
        &mut self,
        now_ms: f64,
        domain: &str,
        after: Option<String>,
    ) -> Result<u32, String> {
        let now = self.now(now_ms);
        let scope = if domain.is_empty() {
            ObjectScope::Vmd
        } else {
            ObjectScope::Domain(domain.into())
        };
        self.client
            .get_name_list(now, ObjectClass::NamedVariable, scope, after)
            .map_err(api)
    }

    /// Read the variable `item` of `domain` (VMD scope when `domain` is empty); returns the invoke id.
    pub fn read(&mut self, now_ms: f64, domain: &str, item: &str) -> Result<u32, String> {
        let now = self.now(now_ms);
        self.client
            .read(now, &[object_name(domain, item)])
            .map_err(api)
    }

    /// Release the association in order; `{"type":"closed","error":null}` confirms it.
    pub fn conclude(&mut self, now_ms: f64) -> Result<(), String> {
        let now = self.now(now_ms);
        self.client.conclude(now).map_err(api)
    }

    /// Abort the association at once.
    pub fn abort(&mut self) {
        self.client.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_times_never_panic_and_the_clock_never_goes_back() {
        let mut c = WasmClient::new("1.1.1.999", 12, "1.1.1.998", 12, 5_000.0).unwrap();
        assert_eq!(c.now(f64::NAN).monotonic(), Duration::from_secs(5));
        assert_eq!(c.now(-1e300).monotonic(), Duration::from_secs(5));
        assert_eq!(c.now(1_000.0).monotonic(), Duration::from_secs(5));
        assert_eq!(c.now(1_000.0).utc_micros(), 1_000_000);
        assert_eq!(c.now(6_000.5).monotonic(), Duration::from_micros(6_000_500));
        assert!(c.now(f64::INFINITY).monotonic() >= Duration::from_secs(6));
    }

    #[test]
    fn the_first_bytes_and_the_connect_deadline_are_ready_at_once() {
        let mut c = WasmClient::new("1.1.1.999", 12, "1.1.1.998", 12, 1_000.0).unwrap();
        let cr = c.poll_transmit().unwrap();
        assert_eq!(&cr[..2], &[3, 0], "a TPKT header");
        assert_eq!(c.poll_transmit(), None);
        // The default connect timeout is 10 s.
        assert_eq!(c.poll_timeout_ms(), Some(11_000.0));
        c.handle_timeout(11_000.0);
        assert_eq!(
            c.poll_event().as_deref(),
            Some(r#"{"type":"closed","error":"timeout: association establishment"}"#)
        );
        assert!(c.is_closed());
        assert_eq!(
            c.identify(11_001.0),
            Err(ApiError::InvalidState.to_string())
        );
    }

    #[test]
    fn a_malformed_ap_title_is_an_error() {
        let e = WasmClient::new("1.x", 1, "1.1", 1, 0.0).unwrap_err();
        assert!(e.contains("invalid AP-title \"1.x\""), "{e}");
    }
}
