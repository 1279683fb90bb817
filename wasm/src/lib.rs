//! FreeTase2 for the browser: the TASE.2 client as wasm-bindgen classes.
//!
//! - [`WasmSession`] wraps the core's TASE.2 client state machine
//!   ([`tase2_core::tase2::client::Session`]): discovery, typed points, transfer sets and their
//!   reports, information messages, device control. Commands return an op id at once; results,
//!   reports and everything else come out of [`WasmSession::poll_event`] as typed JSON (shapes
//!   defined in [`events`], summarised below). It sits behind the cargo feature `session` (on by
//!   default, off in the browser package, whose page runs `WasmFailover`).
//! - [`WasmFailover`] wraps the core's reconnecting client
//!   ([`tase2_core::tase2::client::Failover`]) with the same commands and session events: an
//!   ordered list of targets (primary, backups), backoff with jitter, keepalive, optional
//!   fail-back, and the setup restored on every new association. It asks the page to open and
//!   close WebSockets (see [Failover](#failover)); the browser viewer runs it.
//! - [`WasmClient`] is the plain MMS client underneath (Identify, GetNameList, Read), kept as it
//!   was with its own small JSON writer; it is what the web-demo end-to-end test drives. It sits
//!   behind the cargo feature `mms-client` (on by default, off in the browser package that
//!   `cargo xtask wasm-pkg` builds).
//!
//! The JSON of both is read and written by hand ([`jw`]), without serde, to keep the browser
//! package small; `cargo xtask wasm-pkg` builds it (profile `wasm-release` without default
//! features, wasm-bindgen, `wasm-opt -Oz`).
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
//!   if (e.type === "established")
//!     sbo = s.command(Date.now(), '{"command":"select_operate","device":"ICC1/Brk1_Cmd","value":"close"}');
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
//! Always there: `command`, `conclude`, `abort`, `is_established`, `is_closed`, `record` and
//! `recording`. With the cargo feature `methods` (on by default, off in the browser package,
//! whose page sends every command as JSON: each method costs the package its own glue), methods
//! cover the common commands without JSON: `discover`, `read_points`, `reserve_and_start`,
//! `stop_transfer_set`, `enable_info_messages`, `device_info`, `select`, `operate`,
//! `operate_real`, `operate_discrete`, `select_operate`, `tag`, `set_tag`; and `ack`, `nack`,
//! `set_auto_ack`, `edition`.
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
//! # Failover
//!
//! [`WasmFailover::poll_action`] says what the page must do, as JSON: `{"connect":{"endpoint":0,
//! "target":"127.0.0.1:10102"}}` (open a WebSocket to that target; then `handle_connected(now,
//! endpoint)` when it opens or `handle_connect_failed(now, endpoint)` when it does not; bytes go
//! through `handle_input`/`poll_transmit` as for `WasmSession`, and its close is
//! `handle_transport_closed`), `{"disconnect":true}` (close the current WebSocket, feed nothing
//! more from it), `{"probe":{"endpoint":0,"target":...}}` (see whether the target takes a
//! connection, close it, `handle_probe(now, endpoint, up)`). Drain actions, transmits and events
//! until quiet after every call. Commands issued while no association is up wait for the next one.
//! With the feature `methods`, `set_auto_ack(now, on)`, `ack(now, transfer_set, timestamp)` and
//! `nack(now, transfer_set)` acknowledge critical reports by hand.
//! [`WasmFailover::poll_event`] gives the session events above (`closed` only once, when the
//! link ends by `conclude` or `abort`) and the link's own, every one with `endpoint` and `target`
//! but `waiting` and `not_remembered`:
//!
//! | `type` | fields |
//! | --- | --- |
//! | `connecting` | `round` (failed rounds so far) |
//! | `attempt_failed` | `cause` (words), `refused` (the server refused the association) |
//! | `waiting` | `round`, `delay_ms` (every endpoint failed; the backoff before the next round) |
//! | `up` | — (an association is up; restoration follows) |
//! | `lost` | `cause` (`transport closed`, `no answer to the keepalive read`, ...) |
//! | `restored` | `gap_ms` (loss to restoration), `data_sets` (names), `transfer_sets` (`[first name, name now]` pairs), `failed` (`[name, error]` pairs) |
//! | `refreshed` | a `report`'s fields: the restored transfer set's values, read once |
//! | `failing_back` | `from_endpoint`, `from_target` (the backup left) |
//! | `not_remembered` | `name` (set up, but beyond what is remembered for restoration) |
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

#[cfg(feature = "mms-client")]
mod client;
mod commands;
pub mod events;
mod failover;
mod float;
#[cfg(feature = "mms-client")]
mod json;
pub mod jw;
mod methods;
#[cfg(feature = "session")]
mod session;

use std::time::Duration;

use tase2_core::assoc::AssociationConfig;
use tase2_core::Instant;

#[cfg(feature = "mms-client")]
pub use client::WasmClient;
pub use commands::{object_name as parse_object_name, parse as parse_command};
pub use failover::WasmFailover;
#[cfg(feature = "mms-client")]
pub use json::event as event_json;
#[cfg(feature = "session")]
pub use session::WasmSession;

/// The allocator of the wasm build (talc in place of std's dlmalloc: about 2 KB less of the
/// gzipped package). A page is one thread, which talc's cell relies on.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

/// Milliseconds as a JS number to whole microseconds, clamped to `0..=2^62` (NaN is 0).
fn ms_to_us(ms: f64) -> u64 {
    // `as` from a float saturates and maps NaN to 0: no panic whatever the caller passes.
    (ms * 1000.0).clamp(0.0, (1u64 << 62) as f64) as u64
}

/// `Date.now()` as the core's time, for both classes: the value is the UTC clock, and the
/// monotonic clock is held at its highest reading so timers never run backwards when the
/// system clock steps back.
#[derive(Debug)]
pub(crate) struct JsClock {
    last_mono_us: u64,
}

impl JsClock {
    /// A clock starting at `now_ms`.
    pub(crate) fn new(now_ms: f64) -> JsClock {
        JsClock {
            last_mono_us: ms_to_us(now_ms),
        }
    }

    /// The core's time at `now_ms`.
    pub(crate) fn now(&mut self, now_ms: f64) -> Instant {
        self.last_mono_us = self.last_mono_us.max(ms_to_us(now_ms));
        Instant::new(
            Duration::from_micros(self.last_mono_us),
            (now_ms * 1000.0) as i64,
        )
    }

    /// A core deadline on the same `Date.now()` scale.
    pub(crate) fn deadline_ms(t: Instant) -> f64 {
        t.monotonic().as_micros() as f64 / 1000.0
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
            .map_err(|e| format!("invalid AP-title \"{s}\": {e}"))
    };
    Ok(AssociationConfig::with_ap_titles(
        (oid(local_ap_title)?, i64::from(local_ae)),
        (oid(remote_ap_title)?, i64::from(remote_ae)),
    ))
}
