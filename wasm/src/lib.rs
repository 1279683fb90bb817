//! FreeTase2 for the browser: the TASE.2 client as wasm-bindgen classes.
//!
//! - [`WasmSession`] wraps the core's TASE.2 client state machine
//!   ([`tase2_core::tase2::client::Session`]): discovery, typed points, transfer sets and their
//!   reports, information messages, device control. Commands return an op id at once; results,
//!   reports and everything else come out of [`WasmSession::poll_event`] as typed JSON (shapes
//!   defined in [`events`], summarised below).
//! - [`WasmClient`] is the plain MMS client underneath (Identify, GetNameList, Read), kept as it
//!   was with its own small JSON writer; it is what the web-demo end-to-end test drives.
//!
//! Neither has socket code: the JavaScript side owns a `WebSocket` to a websockify-style proxy
//! (subprotocol `binary`), passes every received message to `handle_input` and sends whatever
//! `poll_transmit` returns. Timers come from `setTimeout`.
//!
//! ```js
//! import init, { WasmSession } from "./tase2_wasm.js";
//! await init();
//! const ws = new WebSocket("ws://localhost:8080/?target=127.0.0.1:102", ["binary"]);
//! ws.binaryType = "arraybuffer";
//! let s, timer;
//! function pump() {                       // after every input, timeout or command
//!   for (let busy = true; busy; ) {       // until quiet: an event handler may send a request
//!     busy = false;
//!     let out, ev;
//!     while ((out = s.poll_transmit())) { ws.send(out); busy = true; }
//!     while ((ev = s.poll_event())) { busy = true; onEvent(JSON.parse(ev)); }
//!   }
//!   clearTimeout(timer);
//!   const at = s.poll_timeout_ms();
//!   if (at !== undefined)
//!     timer = setTimeout(() => { s.handle_timeout(Date.now()); pump(); },
//!                        Math.max(0, at - Date.now()));
//! }
//! let sbo;
//! function onEvent(e) {
//!   if (e.type === "established") sbo = s.select_operate(Date.now(), "ICC1/Brk1_Cmd", "close");
//!   // {"type":"done","op":0,"ok":true,"result":{"kind":"check_back_id","check_back_id":101}}
//!   if (e.type === "done" && e.op === sbo) console.log(e.ok ? e.result.check_back_id : e.error);
//! }
//! ws.onopen = () => { s = new WasmSession("1.1.1.999", 12, "1.1.1.998", 12, Date.now()); pump(); };
//! ws.onmessage = (m) => { s.handle_input(Date.now(), new Uint8Array(m.data)); pump(); };
//! ws.onclose = () => { s.handle_transport_closed(Date.now()); pump(); };
//! ```
//!
//! **Drain until quiet:** bytes a command queues (including one sent from an event handler) only
//! leave through `poll_transmit`; a `pump` that stops after one pass leaves them waiting until the
//! next input or timer. A command issued before the association is up waits for it.
//! `js/node-session-smoke.js` is this loop in Node against `tase2 serve` through the web-demo
//! proxy; `js/node-smoke.js` is the plain [`WasmClient`] over TCP.
//!
//! # Time
//!
//! Every call takes `now_ms`, milliseconds since the Unix epoch as `Date.now()` gives them. The
//! value is used both as the UTC clock and as the monotonic clock for the core's timers; a clock
//! that steps backwards is held at its last reading for the timers, so they never run backwards.
//! `poll_timeout_ms` answers on the same scale.
//!
//! # Commands
//!
//! [`WasmSession::command`] takes any core [`Command`](tase2_core::tase2::client::Command) as
//! JSON, tagged by `command` in snake_case, and returns its op id (a number); it throws (a string)
//! on JSON that is no command. The fields are the core's, with these shorthands:
//!
//! - **object names** (`name`, `names`, `device`, `transfer_set`, `members`, `data_set`) as
//!   strings: `"ICC1/Brk1_Cmd"` (domain-specific, split at the first `/`), `"Freq"` (VMD scope,
//!   TASE.2 VCC), `"@aa/X"` (association-specific). The core's own serde form is also accepted:
//!   `{"DomainSpecific":{"domain":"ICC1","item":"P1"}}`, `{"VmdSpecific":"Freq"}`,
//!   `{"AaSpecific":"X"}`;
//! - a **transfer set** `value` needs only `data_set`; the other fields (`start_time`, `interval`,
//!   `tle`, `buffer_time`, `integrity_check`, `conditions`, `block_data`, `critical`, `rbe`,
//!   `all_changes_reported`, `status`, `event_code_requested`) default to 0/false, and
//!   `conditions` may be names: `["interval", "integrity", "change", "operator", "external"]`;
//! - a **control** `value` (`operate`, `select_operate`) as a word: `"on"`/`"close"`/`"raise"`/`"1"`
//!   or `"off"`/`"trip"`/`"open"`/`"lower"`/`"0"`, or `{"real": 412.5}`, `{"discrete": 3}`
//!   (serde form: `{"Command":"On"}`, `{"Real":412.5}`, `{"Discrete":3}`);
//! - a **tag** `value` (`set_tag`) as `"none"`, `"open-and-close"`, `"close-only"` or 0-2;
//! - a **point** `value` (`write_point`) as a number: a valid real value.
//!
//! ```json
//! {"command":"discover"}
//! {"command":"read_points","names":["ICC1/Gen1_MW","System_Frequency"]}
//! {"command":"reserve_and_start","domain":"ICC1","value":{"data_set":"ICC1/DS_Grid","interval":1,"conditions":["interval"]}}
//! {"command":"stop_transfer_set","transfer_set":"ICC1/DSTransfer_Set_1"}
//! {"command":"info_messages","enable":true}
//! {"command":"select_operate","device":"ICC1/Brk1_Cmd","value":"close"}
//! {"command":"set_tag","device":"ICC1/Brk1_Cmd","value":"close-only","reason":"crew on line"}
//! ```
//!
//! The others: `version`, `version_numbers`, `features`, `bilateral_table_id {domain}`,
//! `domains`, `data_sets {domain|null}`, `variable_names {domain|null}`, `variables {domain|null}`,
//! `learn_types {names}`, `write_point {name, value}`, `define_data_set {name, members}`,
//! `data_set_members {name}`, `delete_data_set {name}`, `reserve_transfer_set {domain}`,
//! `start_transfer_set {transfer_set, value}`, `read_transfer_set {transfer_set}`,
//! `device_info {device}`, `select {device}`, `operate {device, value}`, `tag {device}`.
//! Methods cover the common ones without JSON: `discover`, `read_points`, `reserve_and_start`,
//! `stop_transfer_set`, `enable_info_messages`, `device_info`, `select`, `operate`,
//! `operate_real`, `operate_discrete`, `select_operate`, `tag`, `set_tag`; and `ack`, `nack`,
//! `conclude`, `abort`, `set_auto_ack`, `is_established`, `is_closed`, `edition`.
//!
//! # Session events
//!
//! [`WasmSession::poll_event`] returns one JSON object per event, with a `type` field. Names are
//! strings as above, enumerations snake_case strings, absent values `null`.
//!
//! | `type` | fields |
//! | --- | --- |
//! | `established` | `max_pdu_size`, `max_outstanding`, `tpdu_size` |
//! | `done` | `op`, `ok`; if ok: `result` (an outcome, below); else `error` (text), `kind`, and `code` (DataAccessError, for `access`/`control`), `object` (for `unexpected_value`/`not_a_point`/`not_a_device`), `control` {`op`, `kind`, `explanation`} |
//! | `report` | `transfer_set`, `timestamp` (s), `conditions` (names), `event_code`, `data_set` (`null` for RBE), `points` (typed points), `other` (untyped members `{name, mms}`, omitted if none), `acknowledged` |
//! | `info_message` | `scope` (`vcc`/`icc`), `domain`, `info_reference`, `local_reference`, `message_id`, `size`, `buffer`, and `text` or `hex` |
//! | `undecoded` | `reason`, `list` (or `null`), `names`, `values` (MMS JSON) |
//! | `deviation` | `kind` (e.g. `report_named_after_transfer_set`), `description`, `object` |
//! | `peer_error` | `error` |
//! | `rejected` | `invoke_id`, `reason` |
//! | `closed` | `error`: `null` for an orderly release, the cause otherwise (always the last event) |
//!
//! Error `kind`s: `api`, `service_error`, `rejected`, `timeout`, `association_closed`, `access`,
//! `unexpected_response`, `closed`, `unexpected_value`, `not_a_point`, `control`, `not_a_device`.
//! A control refusal's `control.op` is `select`, `operate`, `read_tag` or `set_tag`, its
//! `control.kind` `access_denied`, `temporarily_unavailable`, `type_inconsistent`,
//! `value_invalid`, `hardware_fault`, `non_existent` or `other`, its `control.explanation` what it
//! most likely means for that request.
//!
//! Outcomes (`result`, tagged by `kind`):
//!
//! | `kind` | fields |
//! | --- | --- |
//! | `unit` | — |
//! | `version` | `edition` (`"2000.08"`, `"1996.08"`) |
//! | `version_numbers` | `major`, `minor` |
//! | `features` | `blocks` (conformance block numbers) |
//! | `table_id` | `table_id` |
//! | `names` | `names` |
//! | `variables` | `variables` (below) |
//! | `discovery` | `version` (`[major, minor]`), `edition`, `features`, `vcc` (variables, or `null` and `vcc_error`), `domains`: [{`name`, `table_id`, `variables`, `data_sets`}] |
//! | `point_types` | `point_types` (TASE.2 names or `null`) |
//! | `points` | `points`: per name asked, a typed point with `ok: true`, or `{ok: false, name, error, kind, ...}` |
//! | `members` | `members` |
//! | `deleted` | `deleted` |
//! | `transfer_set` | `transfer_set` |
//! | `transfer_set_value` | `value`: the transfer set fields, `conditions` as names |
//! | `device` | `device_kind` (`command`, `discrete_setpoint`, `real_setpoint`), `mode` (`sbo`, `direct`), `tagged` |
//! | `check_back_id` | `check_back_id` |
//! | `tag` | `tag` (`none`, `open_and_close_inhibit`, `close_only_inhibit`, `invalid`), `armed`, `reason` |
//!
//! A **variable** is `{name, tase2_type, mms_type, alternative_types?}`: `tase2_type` is
//! `VariableInfo::tase2_type_name()` (a point type such as `Data_RealQTimeTag`, or a standard
//! object's type such as `DSTransferSet`), `mms_type` the MMS type as text (`INT16`,
//! `{Value FLOAT32, Flags BIT STRING(8)}`) when there is no TASE.2 name, `alternative_types` the
//! point types sharing the MMS type (omitted when unambiguous).
//!
//! A **typed point** is `{name, point_type, value, flags, timestamp, cov?}`: `value` a number
//! (real, discrete, state supplemental), a state (`on`, `off`, `between`, `invalid`) or an object
//! for protection events; `flags` {`validity` (`valid`, `held`, `suspect`, `not_valid`), `source`
//! (`telemetered`, `calculated`, `entered`, `estimated`), `off_normal`, `timestamp_invalid`,
//! `state` (state points), `raw` (the octet)} or `null` for a form without flags; `timestamp`
//! {`seconds`, `ms`} or `null` for a form without one; `cov` for Extended forms.
//!
//! MMS values (untyped report members, undecoded reports) render as JSON: numbers as numbers
//! (integers beyond ±2^53 as strings, non-finite floats as `"NaN"`/`"Infinity"`), strings as
//! strings, structures and arrays as arrays, bit strings as `"0101"`, octet strings as hex, a
//! failed access as `{"failure": "..."}`.
//!
//! # WasmClient events
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

/// The association from our AP-title (dotted OID) and AE-qualifier to the peer's, for both
/// classes; an error names the malformed OID.
pub(crate) fn association_config(
    local_ap_title: &str,
    local_ae: i32,
    remote_ap_title: &str,
    remote_ae: i32,
) -> Result<AssociationConfig, String> {
    let oid = |s: &str| {
        s.parse()
            .map_err(|e| format!("invalid AP-title {s:?}: {e}"))
    };
    Ok(AssociationConfig::with_ap_titles(
        (oid(local_ap_title)?, i64::from(local_ae)),
        (oid(remote_ap_title)?, i64::from(remote_ae)),
    ))
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
        let config = association_config(local_ap_title, local_ae, remote_ap_title, remote_ae)?;
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
        // Commands after the close say why it closed.
        assert_eq!(
            c.identify(11_001.0),
            Err("association closed: timeout: association establishment".into())
        );
    }

    #[test]
    fn a_malformed_ap_title_is_an_error() {
        let e = WasmClient::new("1.x", 1, "1.1", 1, 0.0).unwrap_err();
        assert!(e.contains("invalid AP-title \"1.x\""), "{e}");
    }
}
