//! WasmClient against a core server Endpoint, bytes pumped in memory on a made-up clock.

use tase2_core::mms::{Data, Float, StructComponent, TypeDescription, TypeSpecification};
use tase2_core::server::{ConnectionId, Endpoint, Identity, ServerConfig, Variable, Vmd};
use tase2_wasm::WasmClient;

const T0: f64 = 1_700_000_000_000.0;

fn model() -> Vmd {
    let mut vmd = Vmd {
        identity: Identity {
            vendor: "ACME \"Grid\"".into(),
            model: "EMS-1".into(),
            revision: "7.2".into(),
        },
        ..Vmd::default()
    };
    let int16 = |n: &str| StructComponent {
        name: Some(n.into()),
        type_spec: TypeSpecification::Description(TypeDescription::Integer(16)),
    };
    vmd.variables.insert(
        "TASE2_Version".into(),
        Variable::read_only(
            TypeDescription::Structure {
                packed: false,
                components: vec![int16("Major"), int16("Minor")],
            },
            Data::Structure(vec![Data::Integer(2000), Data::Integer(8)]),
        ),
    );
    let icc = vmd.domain_mut("ICC1");
    icc.variables.insert(
        "Voltage".into(),
        Variable::read_only(
            TypeDescription::FloatingPoint {
                format_width: 32,
                exponent_width: 8,
            },
            Data::Float(Float::F32(231.5)),
        ),
    );
    icc.variables.insert(
        "Name".into(),
        Variable::read_only(
            TypeDescription::VisibleString(-32),
            Data::VisibleString("Bus 1".into()),
        ),
    );
    vmd
}

struct Pair {
    now_ms: f64,
    client: WasmClient,
    server: Endpoint,
    conn: ConnectionId,
    events: Vec<String>,
}

impl Pair {
    fn connected() -> Pair {
        let mut server = Endpoint::new(ServerConfig::default(), model());
        let conn = server
            .open(tase2_core::Instant::new(
                std::time::Duration::from_millis(T0 as u64),
                (T0 * 1000.0) as i64,
            ))
            .unwrap();
        let client = WasmClient::new("1.1.1.999", 12, "1.1.1.998", 12, T0).unwrap();
        let mut p = Pair {
            now_ms: T0,
            client,
            server,
            conn,
            events: Vec::new(),
        };
        p.drive();
        assert!(p.client.is_established(), "{:?}", p.events);
        assert_eq!(
            p.events.remove(0),
            r#"{"type":"established","max_pdu_size":65000,"max_outstanding":10}"#
        );
        p
    }

    fn server_now(&self) -> tase2_core::Instant {
        tase2_core::Instant::new(
            std::time::Duration::from_micros((self.now_ms * 1000.0) as u64),
            (self.now_ms * 1000.0) as i64,
        )
    }

    /// Move bytes both ways until nothing moves; collect the client's JSON events.
    fn drive(&mut self) {
        loop {
            let mut moved = false;
            while let Some(bytes) = self.client.poll_transmit() {
                moved = true;
                let now = self.server_now();
                self.server.handle_input(now, self.conn, &bytes);
            }
            let mut buf = Vec::new();
            if self.server.poll_transmit(self.conn, &mut buf) > 0 {
                moved = true;
                // Deliver in small pieces, as a WebSocket proxy may.
                for chunk in buf.chunks(7) {
                    self.client.handle_input(self.now_ms, chunk);
                }
            }
            while let Some(e) = self.client.poll_event() {
                self.events.push(e);
            }
            while self.server.poll_event().is_some() {}
            if !moved {
                break;
            }
        }
    }

    fn take_event(&mut self) -> String {
        self.drive();
        assert_eq!(self.events.len(), 1, "{:?}", self.events);
        self.events.remove(0)
    }
}

#[test]
fn identify_answers_with_the_servers_identity_as_json() {
    let mut p = Pair::connected();
    let id = p.client.identify(p.now_ms).unwrap();
    assert_eq!(
        p.take_event(),
        format!(
            r#"{{"type":"response","invoke_id":{id},"ok":true,"service":"identify","summary":"ACME \"Grid\" EMS-1 7.2","result":{{"vendor":"ACME \"Grid\"","model":"EMS-1","revision":"7.2"}}}}"#
        )
    );
}

#[test]
fn reads_render_values_structures_and_failures() {
    let mut p = Pair::connected();
    let id = p.client.read(p.now_ms, "ICC1", "Voltage").unwrap();
    assert_eq!(
        p.take_event(),
        format!(
            r#"{{"type":"response","invoke_id":{id},"ok":true,"service":"read","summary":"1 results, 0 failed","result":{{"values":[231.5]}}}}"#
        )
    );
    let id = p.client.read(p.now_ms, "", "TASE2_Version").unwrap();
    assert!(
        p.take_event()
            .ends_with(r#""result":{"values":[[2000,8]]}}"#),
        "invoke id {id}"
    );
    let id = p.client.read(p.now_ms, "ICC1", "Name").unwrap();
    assert!(
        p.take_event()
            .ends_with(r#""result":{"values":["Bus 1"]}}"#),
        "{id}"
    );
    p.client.read(p.now_ms, "ICC1", "Nope").unwrap();
    let e = p.take_event();
    assert!(e.contains(r#""summary":"1 results, 1 failed""#), "{e}");
    assert!(e.contains(r#""values":[{"failure":"#), "{e}");
}

#[test]
fn name_lists_list_domains_and_variables() {
    let mut p = Pair::connected();
    p.client.get_domain_names(p.now_ms).unwrap();
    let e = p.take_event();
    assert!(
        e.ends_with(r#""result":{"names":["ICC1"],"more_follows":false}}"#),
        "{e}"
    );
    p.client.get_variable_names(p.now_ms, "ICC1").unwrap();
    let e = p.take_event();
    assert!(
        e.ends_with(r#""result":{"names":["Name","Voltage"],"more_follows":false}}"#),
        "{e}"
    );
    p.client.get_variable_names(p.now_ms, "").unwrap();
    let e = p.take_event();
    assert!(e.contains(r#""names":["TASE2_Version"]"#), "{e}");
}

#[test]
fn conclude_ends_with_an_orderly_close() {
    let mut p = Pair::connected();
    p.client.conclude(p.now_ms).unwrap();
    assert_eq!(p.take_event(), r#"{"type":"closed","error":null}"#);
    assert!(p.client.is_closed());
    assert!(p.client.read(p.now_ms, "ICC1", "Voltage").is_err());
}

#[test]
fn an_unanswered_request_times_out_on_the_js_clock() {
    let mut p = Pair::connected();
    let id = p.client.identify(p.now_ms).unwrap();
    // The request's bytes are lost: nothing reaches the server.
    while p.client.poll_transmit().is_some() {}
    let at = p.client.poll_timeout_ms().unwrap();
    assert_eq!(at, p.now_ms + 10_000.0, "the default request timeout");
    p.client.handle_timeout(at - 1.0);
    assert_eq!(p.client.poll_event(), None);
    p.client.handle_timeout(at);
    assert_eq!(
        p.client.poll_event().unwrap(),
        format!(
            r#"{{"type":"response","invoke_id":{id},"ok":false,"error":"timeout","summary":"request timed out"}}"#
        )
    );
}

#[test]
fn the_transport_closing_is_reported_once() {
    let mut p = Pair::connected();
    p.client.handle_transport_closed();
    assert_eq!(
        p.client.poll_event().as_deref(),
        Some(r#"{"type":"closed","error":"transport closed"}"#)
    );
    assert_eq!(p.client.poll_event(), None);
    p.client.handle_input(p.now_ms, &[3, 0, 0, 4]);
    assert_eq!(p.client.poll_event(), None);
}
