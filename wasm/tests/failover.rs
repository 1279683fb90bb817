//! WasmFailover against two core TASE.2 servers (`Endpoint<Tase2>`, primary and backup), bytes
//! pumped in memory on a made-up `Date.now()` clock that jumps to the next deadline; the test
//! plays the page's part (the actions as JSON, the WebSocket's open and close) and every
//! assertion is on the JSON JavaScript would see.

mod pair;

use pair::{at, T0};
use serde_json::{json, Value};
use tase2_core::server::{ConnectionId, Endpoint, ServerEvent};
use tase2_core::tase2::server::{Tase2, Tase2Event};
use tase2_wasm::WasmFailover;

const TARGETS: [&str; 2] = ["127.0.0.1:10102", "127.0.0.1:10103"];

/// A link and its two servers; `down[i]` makes endpoint `i` refuse connections.
struct Link {
    now_ms: f64,
    link: WasmFailover,
    servers: [Endpoint<Tase2>; 2],
    down: [bool; 2],
    /// The open transport: (endpoint, the server's connection).
    conn: Option<(usize, ConnectionId)>,
    actions: Vec<Value>,
    events: Vec<Value>,
    /// The events [`Link::until`] passed over on its last call.
    events_before_last: Vec<Value>,
    /// The critical-report acknowledgements the servers heard: (server, ACK or NACK, name).
    acks: Vec<(usize, &'static str, String)>,
}

impl Link {
    fn new(options: &str) -> Link {
        let targets = TARGETS.iter().map(|t| t.to_string()).collect();
        let mut link =
            WasmFailover::new(targets, "1.1.1.999", 12, "1.1.1.998", 12, options, T0).unwrap();
        link.record().unwrap();
        Link {
            now_ms: T0,
            link,
            servers: [pair::server(), pair::server()],
            down: [false; 2],
            conn: None,
            actions: Vec::new(),
            events: Vec::new(),
            events_before_last: Vec::new(),
            acks: Vec::new(),
        }
    }

    /// Act on the actions, move the bytes, collect the events; whether anything moved.
    fn deliver(&mut self) -> bool {
        let mut any = false;
        loop {
            let mut moved = false;
            while let Some(a) = self.link.poll_action() {
                moved = true;
                let a: Value = serde_json::from_str(&a).expect("an action is JSON");
                self.act(&a);
                self.actions.push(a);
            }
            while let Some(b) = self.link.poll_transmit() {
                moved = true;
                let (e, c) = self.conn.expect("bytes only while a transport is open");
                self.servers[e].handle_input(at(self.now_ms), c, &b);
            }
            if let Some((e, c)) = self.conn {
                let mut buf = Vec::new();
                if self.servers[e].poll_transmit(c, &mut buf) > 0 {
                    moved = true;
                    self.link.handle_input(self.now_ms, &buf);
                }
            }
            while let Some(e) = self.link.poll_event() {
                moved = true;
                self.events
                    .push(serde_json::from_str(&e).expect("an event is JSON"));
            }
            for (i, s) in self.servers.iter_mut().enumerate() {
                while let Some(e) = s.poll_event() {
                    match e {
                        ServerEvent::Extension(Tase2Event::ReportAcked { name, .. }) => {
                            self.acks.push((i, "ACK", name.to_string()))
                        }
                        ServerEvent::Extension(Tase2Event::ReportNacked { name, .. }) => {
                            self.acks.push((i, "NACK", name.to_string()))
                        }
                        _ => {}
                    }
                }
            }
            if !moved {
                return any;
            }
            any = true;
        }
    }

    fn act(&mut self, a: &Value) {
        let now = self.now_ms;
        if let Some(c) = a.get("connect") {
            let e = c["endpoint"].as_u64().unwrap() as usize;
            assert_eq!(c["target"], TARGETS[e]);
            if self.down[e] {
                self.link.handle_connect_failed(now, e as u32);
            } else {
                let id = self.servers[e].open(at(now)).unwrap();
                self.conn = Some((e, id));
                self.link.handle_connected(now, e as u32);
            }
        } else if a.get("disconnect").is_some() {
            if let Some((e, c)) = self.conn.take() {
                self.servers[e].handle_transport_closed(at(now), c);
            }
        } else if let Some(p) = a.get("probe") {
            let e = p["endpoint"].as_u64().unwrap() as usize;
            self.link.handle_probe(now, e as u32, !self.down[e]);
        } else {
            panic!("unknown action {a}");
        }
    }

    /// The server side of the transport closes (the server went away).
    fn kill(&mut self, endpoint: usize) {
        self.down[endpoint] = true;
        if let Some((e, c)) = self.conn.filter(|(e, _)| *e == endpoint) {
            self.servers[e].handle_transport_closed(at(self.now_ms), c);
            self.conn = None;
            self.link.handle_transport_closed(self.now_ms);
        }
        self.deliver();
    }

    fn next_deadline_ms(&self) -> Option<f64> {
        let mut t = self.link.poll_timeout_ms();
        for s in &self.servers {
            if let Some(d) = s.poll_timeout() {
                let d = d.monotonic().as_micros() as f64 / 1000.0;
                t = Some(t.map_or(d, |t| t.min(d)));
            }
        }
        t
    }

    fn fire(&mut self, ms: f64) {
        self.now_ms = self.now_ms.max(ms);
        for s in &mut self.servers {
            s.handle_timeout(at(self.now_ms));
        }
        if self
            .link
            .poll_timeout_ms()
            .is_some_and(|t| t <= self.now_ms)
        {
            self.link.handle_timeout(self.now_ms);
        }
        self.deliver();
    }

    /// Step deadline to deadline until an event `f` selects arrives (taking it and those before).
    fn until(&mut self, what: &str, f: impl Fn(&Value) -> bool) -> Value {
        for _ in 0..10_000 {
            let moved = self.deliver();
            if let Some(i) = self.events.iter().position(&f) {
                let e = self.events.remove(i);
                self.events_before_last = self.events.drain(..i).collect();
                return e;
            }
            if !moved {
                let t = self.next_deadline_ms().expect("something left to happen");
                self.fire(t);
            }
        }
        panic!("no {what}: {:?}", self.events)
    }

    fn ok(&mut self, op: f64) -> Value {
        let d = self.until("done", |e| e["type"] == "done" && e["op"] == op);
        assert_eq!(d["ok"], true, "{d}");
        d["result"].clone()
    }
}

#[test]
fn a_transfer_set_started_on_the_primary_is_restored_on_the_backup_when_the_primary_dies() {
    let mut l = Link::new(r#"{"jitter_percent":0,"keepalive_ms":1000}"#);
    l.deliver();
    assert_eq!(
        l.actions[0],
        json!({"connect": {"endpoint": 0, "target": TARGETS[0]}})
    );
    let up = l.until("up", |e| e["type"] == "up");
    let up_ms = l.now_ms;
    assert_eq!(
        up,
        json!({"type": "up", "endpoint": 0, "target": TARGETS[0]})
    );
    assert!(l.link.is_up());
    let info = l.link.enable_info_messages(l.now_ms, true);
    l.ok(info);
    let op = l
        .link
        .reserve_and_start(
            l.now_ms,
            "ICC1",
            r#"{"data_set":"ICC1/DS_All","interval":1,"integrity_check":1,"conditions":["interval"]}"#,
        )
        .unwrap();
    let ts = l.ok(op)["transfer_set"].as_str().unwrap().to_string();
    let r = l.until("report", |e| e["type"] == "report");
    assert_eq!(r["transfer_set"], ts.as_str());
    assert_eq!(r["points"][0]["name"], "ICC1/P1");

    // Up long enough to be stable (10 s): after its loss the round starts at the next endpoint.
    while l.now_ms - up_ms < 10_000.0 {
        l.until("report", |e| e["type"] == "report");
    }
    let lost_at = l.now_ms;
    l.kill(0);
    let lost = l.until("lost", |e| e["type"] == "lost");
    assert_eq!(
        lost,
        json!({"type": "lost", "cause": "transport closed", "endpoint": 0, "target": TARGETS[0]})
    );
    let restored = l.until("restored", |e| e["type"] == "restored");
    let path: Vec<String> = l
        .events_before_last
        .iter()
        .filter(|e| e["type"] != "done" && e["type"] != "established")
        .map(|e| format!("{} {}", e["type"].as_str().unwrap(), e["endpoint"]))
        .collect();
    assert_eq!(
        path,
        ["connecting 1", "up 1", "refreshed null"],
        "{:?}",
        l.events_before_last
    );
    assert_eq!(restored["endpoint"], 1);
    assert_eq!(restored["target"], TARGETS[1]);
    let gap = restored["gap_ms"].as_u64().unwrap();
    assert!(gap as f64 <= l.now_ms - lost_at, "{restored}");
    let pairs = restored["transfer_sets"].as_array().unwrap();
    assert_eq!(pairs.len(), 1, "{restored}");
    assert_eq!(pairs[0][0], ts.as_str(), "the name the page knows first");
    let now_ts = pairs[0][1].as_str().unwrap().to_string();
    assert!(now_ts.starts_with("ICC1/"), "{restored}");
    assert_eq!(restored["failed"], json!([]));
    // The values were read once on the backup, in the shape of a report of the new transfer set.
    let refreshed = l.events_before_last.last().unwrap();
    assert_eq!(refreshed["transfer_set"], now_ts.as_str());
    assert_eq!(refreshed["data_set"], "ICC1/DS_All");
    let names: Vec<&str> = refreshed["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ICC1/P1", "ICC1/P2", "ICC1/Brk1"]);
    assert_eq!(refreshed["points"][1]["value"], 2.0);
    assert!(l
        .actions
        .contains(&json!({"connect": {"endpoint": 1, "target": TARGETS[1]}})));
    assert_eq!(l.link.endpoint(), 1);
    assert!(l.link.is_up());
    assert_eq!(l.link.current_transfer_set(&ts), Some(now_ts.clone()));
    // Reports flow on the backup, named as it named the transfer set.
    let r = l.until("report on the backup", |e| e["type"] == "report");
    assert_eq!(r["transfer_set"], now_ts.as_str());
    assert_eq!(r["points"][1]["name"], "ICC1/P2");
    // A stop by the first name reaches the backup's transfer set and is forgotten.
    let stop = l.link.stop_transfer_set(l.now_ms, &ts);
    assert_eq!(l.ok(stop)["kind"], "unit");
    assert_eq!(l.link.current_transfer_set(&ts), None);

    // The whole link, both associations, replays octet for octet.
    let log = l.link.recording().unwrap();
    let stats = tase2_core::record::replay_failover(&log).unwrap();
    assert_eq!(stats.connections, 2);
}

#[test]
fn with_fail_back_the_link_returns_to_the_primary_when_it_answers_a_probe() {
    let mut l = Link::new(r#"{"jitter_percent":0,"fail_back_ms":2000}"#);
    l.down[0] = true;
    let up = l.until("up", |e| e["type"] == "up");
    assert_eq!(up["endpoint"], 1);
    let failed = &l.actions[0];
    assert_eq!(failed["connect"]["endpoint"], 0);
    let probe_at = l.now_ms;
    l.down[0] = false;
    let back = l.until("failing_back", |e| e["type"] == "failing_back");
    assert_eq!(
        back,
        json!({"type": "failing_back", "from_endpoint": 1, "from_target": TARGETS[1],
               "endpoint": 0, "target": TARGETS[0]})
    );
    assert!(l.now_ms - probe_at >= 2000.0);
    assert!(l
        .actions
        .contains(&json!({"probe": {"endpoint": 0, "target": TARGETS[0]}})));
    let lost = l.until("lost", |e| e["type"] == "lost");
    assert_eq!(lost["cause"], "left to fail back to the primary");
    let r = l.until("restored", |e| e["type"] == "restored");
    assert_eq!(r["endpoint"], 0);
    assert_eq!(l.link.endpoint(), 0);
}

#[test]
fn with_auto_ack_off_the_page_acknowledges_critical_reports_by_hand() {
    let mut l = Link::new(r#"{"jitter_percent":0}"#);
    l.until("up", |e| e["type"] == "up");
    l.link.set_auto_ack(l.now_ms, false);
    let op = l
        .link
        .reserve_and_start(
            l.now_ms,
            "ICC1",
            r#"{"data_set":"ICC1/DS_All","interval":1,"integrity_check":1,"conditions":["interval"],"critical":true}"#,
        )
        .unwrap();
    let ts = l.ok(op)["transfer_set"].as_str().unwrap().to_string();
    let r = l.until("report", |e| e["type"] == "report");
    assert_eq!(r["acknowledged"], false, "{r}");
    let stamp = r["timestamp"].as_i64().unwrap() as i32;
    l.link.ack(l.now_ms, &ts, stamp).unwrap();
    l.deliver();
    assert_eq!(l.acks, [(0, "ACK", ts.clone())]);
    l.until("report", |e| e["type"] == "report");
    l.link.nack(l.now_ms, &ts).unwrap();
    l.deliver();
    assert_eq!(l.acks[1..], [(0, "NACK", ts.clone())]);
    l.link.set_auto_ack(l.now_ms, true);
    let r = l.until("report", |e| {
        e["type"] == "report" && e["acknowledged"] == true
    });
    assert_eq!(r["transfer_set"], ts.as_str());
    assert_eq!(l.acks.last(), Some(&(0, "ACK", ts.clone())));
    // With no association up there is nothing to acknowledge on.
    l.down[1] = true;
    l.kill(0);
    l.deliver();
    assert!(!l.link.is_up());
    assert!(l.link.ack(l.now_ms, &ts, stamp).is_err());
    let log = l.link.recording().unwrap();
    tase2_core::record::replay_failover(&log).unwrap();
}
