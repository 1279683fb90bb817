//! [`WasmClient`]: the plain MMS client for JavaScript (cargo feature `mms-client`).

use tase2_core::assoc::ApiError;
use tase2_core::client::Client;
use tase2_core::mms::{ObjectClass, ObjectName, ObjectScope};
use tase2_core::Instant;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::{association_config, json};

/// A TASE.2 / MMS client association for JavaScript; see the [crate docs](crate).
#[wasm_bindgen]
#[derive(Debug)]
pub struct WasmClient {
    client: Client,
    /// Last monotonic reading in microseconds, so a clock step back never reaches the core.
    clock: crate::JsClock,
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
        let config = association_config(local_ap_title, local_ae, remote_ap_title, remote_ae)?;
        let mut clock = crate::JsClock::new(now_ms);
        Ok(WasmClient {
            client: Client::new(config, clock.now(now_ms)),
            clock,
        })
    }

    fn now(&mut self, now_ms: f64) -> Instant {
        self.clock.now(now_ms)
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
        self.client.poll_timeout().map(crate::JsClock::deadline_ms)
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
    use std::time::Duration;

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
