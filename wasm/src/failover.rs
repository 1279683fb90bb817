//! [`WasmFailover`]: the core's reconnecting, failing-over TASE.2 client ([`Failover`]) for
//! JavaScript.

use std::time::Duration;

use tase2_core::assoc::AssocError;
use tase2_core::tase2::client::{
    AttemptError, Backoff, Command, EndpointSpec, Failover, FailoverAction, FailoverConfig,
    FailoverEvent, LossCause, SessionEvent,
};
use tase2_core::tase2::Edition;
#[cfg(feature = "methods")]
use tase2_core::tase2::{ControlValue, TagValue};
use tase2_core::Instant;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::commands::object_name;
use crate::events;
use crate::jw::{self, Obj, J};
use crate::methods::{command_methods, Reads};

const FIELDS: [&str; 2] = ["endpoint", "target"];
const FROM_FIELDS: [&str; 2] = ["from_endpoint", "from_target"];

/// Most endpoints a link takes: a primary and a few backups, not a scan list.
const MAX_ENDPOINTS: usize = 16;

/// A TASE.2 client for JavaScript that reconnects on its own, fails over to backup servers and
/// back, and restores the data sets, transfer sets and information messages the page had set
/// up: the core's [`Failover`] with the command surface of [`crate::WasmSession`]. See the
/// [crate docs](crate) for the actions and the failover events.
#[wasm_bindgen]
#[derive(Debug)]
pub struct WasmFailover {
    link: Failover,
    clock: crate::JsClock,
    reads: Reads,
}

command_methods!(WasmFailover);

/// A duration option in milliseconds (a non-negative number).
fn ms(v: &J, k: &str) -> Result<Duration, String> {
    match v.as_f64() {
        Some(x) if x >= 0.0 => Ok(Duration::from_micros(crate::ms_to_us(x))),
        _ => Err(format!("option `{k}`: want milliseconds (a number ≥ 0)")),
    }
}

fn uint(v: &J, k: &str, max: u64) -> Result<u64, String> {
    match v.as_f64() {
        Some(x) if x >= 0.0 && x <= max as f64 && x.fract() == 0.0 => Ok(x as u64),
        _ => Err(format!("option `{k}`: want an integer 0..={max}")),
    }
}

/// The link's configuration from the constructor's options (see [`WasmFailover::new`]).
// Out of line: inlined into the constructor, with the option readers inlined in turn, it cost
// the package 1.7 KB (150 octets gzipped) more.
#[inline(never)]
fn configure(c: &mut FailoverConfig, options: &str) -> Result<(), String> {
    // Whitespace only: the same test as `trim().is_empty()`, without the two-ended trimmer.
    if options.chars().all(char::is_whitespace) {
        return Ok(());
    }
    let J::Obj(fields) = jw::parse(options).map_err(|e| format!("options: {e}"))? else {
        return Err("options: want a JSON object".into());
    };
    let mut keepalive = c.keepalive.unwrap_or_default();
    let mut keepalive_on = c.keepalive.is_some();
    let off = |v: &J| matches!(v, J::Null | J::Bool(false));
    for (k, v) in &fields {
        let b: &mut Backoff = &mut c.backoff;
        match k.as_str() {
            "seed" => c.seed = uint(v, k, (1 << 53) - 1)?,
            "backoff_min_ms" => b.min = ms(v, k)?,
            "backoff_max_ms" => b.max = ms(v, k)?,
            "backoff_factor" => b.factor = uint(v, k, 1000)? as u32,
            "jitter_percent" => b.jitter_percent = uint(v, k, 100)? as u8,
            "keepalive_ms" if off(v) => keepalive_on = false,
            "keepalive_ms" => keepalive.interval = ms(v, k)?,
            "keepalive_timeout_ms" => keepalive.timeout = ms(v, k)?,
            "fail_back_ms" if off(v) => c.fail_back = None,
            "fail_back_ms" => c.fail_back = Some(ms(v, k)?),
            "connect_timeout_ms" => c.connect_timeout = ms(v, k)?,
            "stable_after_ms" => c.stable_after = ms(v, k)?,
            "queue_timeout_ms" => c.queue_timeout = ms(v, k)?,
            _ => return Err(format!("options: unknown option `{k}`")),
        }
    }
    // A zero interval would read the version without pause.
    keepalive.interval = keepalive.interval.max(Duration::from_millis(100));
    c.keepalive = keepalive_on.then_some(keepalive);
    Ok(())
}

fn attempt_cause(c: &AttemptError) -> String {
    match c {
        AttemptError::Transport => "the connection could not be opened".into(),
        AttemptError::ConnectTimeout => "the connection did not open in time".into(),
        AttemptError::Association(None) => "released before it was up".into(),
        AttemptError::Association(Some(e)) => jw::text(e),
    }
}

fn loss_cause(c: &LossCause) -> String {
    match c {
        LossCause::Closed(None) => "released by the server".into(),
        LossCause::Closed(Some(e)) => jw::text(e),
        LossCause::NoAnswer => "no answer to the keepalive read".into(),
        LossCause::FailBack => "left to fail back to the primary".into(),
    }
}

fn ms_of(d: Duration) -> u64 {
    d.as_millis().min(u128::from(u64::MAX)) as u64
}

#[wasm_bindgen]
impl WasmFailover {
    /// A link to `targets` (`"host:port"`, primary first, then backups; each is what the page
    /// puts in its WebSocket URL), associating from our AP-title (dotted OID) and AE-qualifier to
    /// the peer's on every one. `options` is `""` or a JSON object, every key optional:
    /// `seed` (the backoff jitter's seed, an integer), `backoff_min_ms` (250), `backoff_max_ms`
    /// (30000), `backoff_factor` (2), `jitter_percent` (20), `keepalive_ms` (5000; `null` or
    /// `false`: no dead-link detection), `keepalive_timeout_ms` (5000), `fail_back_ms` (`null`:
    /// stay on a backup; a number: probe the primary this often and go back to it),
    /// `connect_timeout_ms` (5000), `stable_after_ms` (10000), `queue_timeout_ms` (30000). The
    /// first action, a connect to the primary, is ready in [`Self::poll_action`] at once.
    /// Throws on a malformed OID, no target (or more than 16), or a bad option.
    #[wasm_bindgen(constructor)]
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        targets: Vec<String>,
        local_ap_title: &str,
        local_ae: i32,
        remote_ap_title: &str,
        remote_ae: i32,
        options: &str,
        now_ms: f64,
    ) -> Result<WasmFailover, String> {
        if targets.is_empty() || targets.len() > MAX_ENDPOINTS {
            return Err(format!("want 1 to {MAX_ENDPOINTS} targets"));
        }
        let assoc =
            crate::association_config(local_ap_title, local_ae, remote_ap_title, remote_ae)?;
        let mut endpoints = Vec::with_capacity(targets.len());
        for t in targets {
            endpoints.push(EndpointSpec::new(t, assoc.clone()));
        }
        let mut config = FailoverConfig::new(endpoints);
        configure(&mut config, options)?;
        let mut clock = crate::JsClock::new(now_ms);
        Ok(WasmFailover {
            link: Failover::new(config, clock.now(now_ms)),
            clock,
            reads: Reads::default(),
        })
    }

    fn now(&mut self, now_ms: f64) -> Instant {
        self.clock.now(now_ms)
    }

    fn start(&mut self, now_ms: f64, command: Command) -> f64 {
        let now = self.now(now_ms);
        let names = Reads::names(&command);
        let id = self.link.command(now, command);
        self.reads.started(id, names);
        id.0 as f64
    }

    // --- recording ---

    /// Record the link in memory (see `tase2_core::record`), every association of it: call it
    /// right after the constructor, before the first action is acted on. [`Self::recording`]
    /// then gives the log, which `tase2 replay` replays (`--timeline` decodes it).
    pub fn record(&mut self) -> Result<(), String> {
        self.link
            .record(
                Box::new(Vec::<u8>::new()),
                concat!(
                    "FreeTase2 browser viewer ",
                    env!("CARGO_PKG_VERSION"),
                    " (wasm, failover)"
                ),
            )
            .map_err(|e| jw::text(&e))
    }

    /// The log recorded so far (a whole log, ready to save as a file), or `undefined` when the
    /// link is not recording.
    pub fn recording(&self) -> Option<Vec<u8>> {
        self.link.recording().map(<[u8]>::to_vec)
    }

    // --- the driver's input ---

    /// The WebSocket asked for by a `connect` action opened.
    pub fn handle_connected(&mut self, now_ms: f64, endpoint: u32) {
        let now = self.now(now_ms);
        self.link.handle_connected(now, endpoint as usize);
    }

    /// The WebSocket asked for by a `connect` action failed before it opened.
    pub fn handle_connect_failed(&mut self, now_ms: f64, endpoint: u32) {
        let now = self.now(now_ms);
        self.link.handle_connect_failed(now, endpoint as usize);
    }

    /// The answer to a `probe` action: whether the endpoint took a connection.
    pub fn handle_probe(&mut self, now_ms: f64, endpoint: u32, up: bool) {
        let now = self.now(now_ms);
        self.link.handle_probe(now, endpoint as usize, up);
    }

    /// Bytes received from the current WebSocket, in any split.
    pub fn handle_input(&mut self, now_ms: f64, bytes: &[u8]) {
        let now = self.now(now_ms);
        self.link.handle_input(now, bytes);
    }

    /// The deadline from [`Self::poll_timeout_ms`] has passed.
    pub fn handle_timeout(&mut self, now_ms: f64) {
        let now = self.now(now_ms);
        self.link.handle_timeout(now);
    }

    /// The current WebSocket closed.
    pub fn handle_transport_closed(&mut self, now_ms: f64) {
        let now = self.now(now_ms);
        self.link.handle_transport_closed(now);
    }

    // --- output ---

    /// What the page must do next, as JSON, or `undefined`:
    /// `{"connect":{"endpoint":0,"target":"127.0.0.1:10102"}}` (open a WebSocket to it, then
    /// `handle_connected` or `handle_connect_failed`), `{"disconnect":true}` (close the current
    /// WebSocket and feed nothing more from it), `{"probe":{"endpoint":0,"target":"..."}}` (see
    /// whether it takes a connection, close it, `handle_probe`).
    pub fn poll_action(&mut self) -> Option<String> {
        let a = self.link.poll_action()?;
        let mut out = String::new();
        let mut o = Obj::new(&mut out);
        let (key, endpoint) = match a {
            FailoverAction::Connect { endpoint } => ("connect", endpoint),
            FailoverAction::Probe { endpoint } => ("probe", endpoint),
            FailoverAction::Disconnect => {
                o.field("disconnect", &true);
                o.end();
                return Some(out);
            }
        };
        let mut at = Obj::new(o.key(key));
        self.endpoint_fields(&mut at, FIELDS, endpoint);
        at.end();
        o.end();
        Some(out)
    }

    /// The next bytes to send on the current WebSocket (one binary message), or `undefined`.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        let mut buf = Vec::new();
        (self.link.poll_transmit(&mut buf) > 0).then_some(buf)
    }

    /// The next event as a JSON string, or `undefined`: the session's events (as from
    /// `WasmSession`; `closed` only once, when the link ends) and the link's own (see the crate
    /// docs).
    pub fn poll_event(&mut self) -> Option<String> {
        let e = self.link.poll_event()?;
        let mut out = String::new();
        let mut o = Obj::new(&mut out);
        // By value: a refresh's report moves into its session event (no copy of the values).
        match e {
            FailoverEvent::Session(ref s) => {
                let session = self.link.session();
                return Some(
                    self.reads
                        .json(s, |n| session.and_then(|s| s.point_type(n))),
                );
            }
            FailoverEvent::Refreshed(r) => {
                // A report's own shape under another type: the report writer, retagged.
                let report = events::json(&SessionEvent::Report(r), &[], &[]);
                // Octets compared, not `str::strip_prefix`: `commands::object_name` tests its
                // prefix the same way, so the library's generic prefix stripper is not linked.
                const HEAD: &str = r#"{"type":"report""#;
                let rest = if report.as_bytes().starts_with(HEAD.as_bytes()) {
                    &report[HEAD.len()..]
                } else {
                    ""
                };
                o.field("type", "refreshed");
                out.push_str(rest);
                return Some(out);
            }
            FailoverEvent::Connecting {
                endpoint,
                ref round,
            } => {
                o.field("type", "connecting").field("round", round);
                self.endpoint_fields(&mut o, FIELDS, endpoint);
            }
            FailoverEvent::AttemptFailed {
                endpoint,
                ref cause,
            } => {
                let refused = matches!(
                    cause,
                    AttemptError::Association(Some(
                        AssocError::Refused(_) | AssocError::InitiateFailed(_)
                    ))
                );
                o.field("type", "attempt_failed")
                    .field("cause", &attempt_cause(cause))
                    .field("refused", &refused);
                self.endpoint_fields(&mut o, FIELDS, endpoint);
            }
            FailoverEvent::Waiting { ref round, delay } => {
                o.field("type", "waiting")
                    .field("round", round)
                    .field("delay_ms", &ms_of(delay));
            }
            FailoverEvent::Up { endpoint } => {
                o.field("type", "up");
                self.endpoint_fields(&mut o, FIELDS, endpoint);
            }
            FailoverEvent::Lost {
                endpoint,
                ref cause,
            } => {
                o.field("type", "lost").field("cause", &loss_cause(cause));
                self.endpoint_fields(&mut o, FIELDS, endpoint);
            }
            FailoverEvent::Restored {
                endpoint,
                gap,
                ref data_sets,
                ref transfer_sets,
                ref failed,
            } => {
                o.field("type", "restored").field("gap_ms", &ms_of(gap));
                self.endpoint_fields(&mut o, FIELDS, endpoint);
                // Written as they are read, without lists of texts made first.
                events::list(o.key("data_sets"), data_sets, events::name_into);
                events::list(o.key("transfer_sets"), transfer_sets, |out, (was, now)| {
                    out.push('[');
                    events::name_into(out, was);
                    out.push(',');
                    events::name_into(out, now);
                    out.push(']');
                });
                events::list(o.key("failed"), failed, |out, (n, e)| {
                    out.push('[');
                    events::name_into(out, n);
                    out.push(',');
                    jw::string(out, &jw::text(e));
                    out.push(']');
                });
            }
            FailoverEvent::FailingBack { from, to } => {
                o.field("type", "failing_back");
                self.endpoint_fields(&mut o, FROM_FIELDS, from);
                self.endpoint_fields(&mut o, FIELDS, to);
            }
            FailoverEvent::NotRemembered(ref n) => {
                o.field("type", "not_remembered")
                    .field("name", &events::name(n));
            }
        }
        o.end();
        Some(out)
    }

    /// The endpoint's index and target under `keys` (`FIELDS`, or `FROM_FIELDS` for where a
    /// fail-back leaves).
    fn endpoint_fields(&self, o: &mut Obj, keys: [&str; 2], endpoint: usize) {
        let target = self
            .link
            .config()
            .endpoints
            .get(endpoint)
            .map_or("", |e| e.address.as_str());
        o.field(keys[0], &endpoint).field(keys[1], target);
    }

    /// When to call [`Self::handle_timeout`], in `Date.now()` milliseconds; `undefined` for never.
    pub fn poll_timeout_ms(&self) -> Option<f64> {
        self.link.poll_timeout().map(crate::JsClock::deadline_ms)
    }

    // --- state ---

    /// Whether an association is up and what the page had set up is restored on it.
    pub fn is_up(&self) -> bool {
        self.link.is_up()
    }

    /// Whether the link has ended (`conclude`, `abort`): it connects no more.
    pub fn is_closed(&self) -> bool {
        self.link.is_closed()
    }

    /// The index of the current (or last) endpoint.
    pub fn endpoint(&self) -> u32 {
        self.link.endpoint() as u32
    }

    /// The current server's edition as last read (`"2000.08"` before any read or while down).
    pub fn edition(&self) -> String {
        let e = self
            .link
            .session()
            .map_or(Edition::V2000_08, |s| s.edition());
        match e {
            Edition::V1996_08 => "1996.08".into(),
            Edition::V2000_08 => "2000.08".into(),
        }
    }

    /// The name the transfer set the page knows as `transfer_set` has on the current
    /// association (the server may hand out another after a failover), or `undefined` when it is
    /// not running there. Commands may keep using the first name: the link maps it.
    pub fn current_transfer_set(&self, transfer_set: &str) -> Option<String> {
        self.link
            .current_transfer_set(&object_name(transfer_set))
            .map(events::name)
    }

    /// End the link: release the current association and connect no more;
    /// `{"type": "closed", "error": null}` confirms it.
    pub fn conclude(&mut self, now_ms: f64) {
        let now = self.now(now_ms);
        self.link.conclude(now);
    }

    /// End the link at once: abort the current association and connect no more.
    pub fn abort(&mut self, now_ms: f64) {
        let now = self.now(now_ms);
        self.link.abort(now);
    }
}

/// Acknowledgement of critical reports by hand, behind the default feature `methods` (the
/// viewer leaves it to the session).
#[cfg(feature = "methods")]
#[wasm_bindgen]
impl WasmFailover {
    /// Acknowledge critical reports of our transfer sets as they arrive (on by default), on this
    /// association and every later one.
    pub fn set_auto_ack(&mut self, now_ms: f64, on: bool) {
        let now = self.now(now_ms);
        self.link.set_auto_ack(now, on);
    }

    /// Acknowledge the critical report of `transfer_set` (the name the report carried, or the
    /// one the page first got) stamped `timestamp`, on the current association (needed only
    /// with auto-ACK off). Throws when no association is up.
    pub fn ack(&mut self, now_ms: f64, transfer_set: &str, timestamp: i32) -> Result<(), String> {
        let now = self.now(now_ms);
        self.link
            .ack(now, &object_name(transfer_set), timestamp)
            .map_err(|e| jw::text(&e))
    }

    /// Refuse the critical report of `transfer_set`. Throws when no association is up.
    pub fn nack(&mut self, now_ms: f64, transfer_set: &str) -> Result<(), String> {
        let now = self.now(now_ms);
        self.link
            .nack(now, &object_name(transfer_set))
            .map_err(|e| jw::text(&e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(options: &str) -> Result<WasmFailover, String> {
        WasmFailover::new(
            vec!["a:1".into(), "b:2".into()],
            "1.1.1.999",
            12,
            "1.1.1.998",
            12,
            options,
            1_000.0,
        )
    }

    #[test]
    fn options_set_the_policy_and_a_bad_one_throws() {
        let f = link(
            r#"{"seed":7,"backoff_min_ms":100,"backoff_max_ms":2000,"backoff_factor":3,
               "jitter_percent":0,"keepalive_ms":1000,"keepalive_timeout_ms":500,
               "fail_back_ms":3000,"connect_timeout_ms":700}"#,
        )
        .unwrap();
        let c = f.link.config();
        assert_eq!(c.seed, 7);
        assert_eq!(c.backoff.min, Duration::from_millis(100));
        assert_eq!(c.backoff.max, Duration::from_secs(2));
        assert_eq!((c.backoff.factor, c.backoff.jitter_percent), (3, 0));
        let k = c.keepalive.unwrap();
        assert_eq!(k.interval, Duration::from_secs(1));
        assert_eq!(k.timeout, Duration::from_millis(500));
        assert_eq!(c.fail_back, Some(Duration::from_secs(3)));
        assert_eq!(c.connect_timeout, Duration::from_millis(700));
        let f = link(r#"{"keepalive_ms":null,"fail_back_ms":false}"#).unwrap();
        assert!(f.link.config().keepalive.is_none());
        assert!(f.link.config().fail_back.is_none());
        let d = link("").unwrap();
        assert_eq!(d.link.config().backoff, Backoff::default());
        for bad in [
            r#"{"sed":1}"#,
            r#"{"jitter_percent":101}"#,
            r#"{"backoff_min_ms":-1}"#,
            r#"{"seed":1.5}"#,
            "[1]",
            "{",
        ] {
            assert!(link(bad).is_err(), "{bad}");
        }
        let none: Vec<String> = Vec::new();
        assert!(WasmFailover::new(none, "1.1.1.999", 12, "1.1.1.998", 12, "", 0.0).is_err());
        assert!(WasmFailover::new(vec!["a:1".into()], "x", 12, "1.1.1.998", 12, "", 0.0).is_err());
    }

    #[test]
    // It issues a command through `discover` (feature `methods`).
    #[cfg(feature = "methods")]
    fn a_failed_round_of_connects_waits_the_backoff_and_says_so() {
        let mut f = link(r#"{"jitter_percent":0,"backoff_min_ms":400}"#).unwrap();
        let a = f.poll_action().unwrap();
        assert_eq!(a, r#"{"connect":{"endpoint":0,"target":"a:1"}}"#);
        f.handle_connect_failed(1_010.0, 0);
        assert_eq!(
            f.poll_action().unwrap(),
            r#"{"connect":{"endpoint":1,"target":"b:2"}}"#
        );
        f.handle_connect_failed(1_020.0, 1);
        assert!(f.poll_action().is_none());
        let ev: Vec<String> = std::iter::from_fn(|| f.poll_event()).collect();
        assert_eq!(
            ev,
            [
                r#"{"type":"connecting","round":0,"endpoint":0,"target":"a:1"}"#,
                r#"{"type":"attempt_failed","cause":"the connection could not be opened","refused":false,"endpoint":0,"target":"a:1"}"#,
                r#"{"type":"connecting","round":0,"endpoint":1,"target":"b:2"}"#,
                r#"{"type":"attempt_failed","cause":"the connection could not be opened","refused":false,"endpoint":1,"target":"b:2"}"#,
                r#"{"type":"waiting","round":1,"delay_ms":400}"#,
            ]
        );
        assert_eq!(f.poll_timeout_ms(), Some(1_420.0));
        f.handle_timeout(1_420.0);
        assert_eq!(
            f.poll_action().unwrap(),
            r#"{"connect":{"endpoint":0,"target":"a:1"}}"#
        );
        // A command while down waits; abort fails it and ends the link.
        let id = f.discover(1_430.0);
        f.abort(1_440.0);
        assert_eq!(f.poll_action().unwrap(), r#"{"disconnect":true}"#);
        let ev: Vec<String> = std::iter::from_fn(|| f.poll_event()).collect();
        assert!(
            ev[1].starts_with(&format!(r#"{{"type":"done","op":{id},"ok":false"#)),
            "{ev:?}"
        );
        assert_eq!(ev.last().unwrap(), r#"{"type":"closed","error":null}"#);
        assert!(f.is_closed());
    }
}
