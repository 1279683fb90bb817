//! The in-memory harness of the WasmSession tests (host and wasm32): a WasmSession and the core
//! TASE.2 server pumped together on a made-up `Date.now()` clock that jumps to the next deadline.

#![allow(dead_code)]

use std::time::Duration;

use serde_json::Value;
use tase2_core::mms::ObjectName;
use tase2_core::server::{ConnectionId, Endpoint, ServerConfig};
use tase2_core::tase2::server::{DeviceSpec, OperatePolicy, Tase2, Tase2Builder, Tase2Config};
use tase2_core::tase2::{
    BilateralTable, ClientMatch, ControlMode, DeviceKind, Family, Form, InfoScope, PointType,
    PointValue, Rights, StateValue,
};
use tase2_core::Instant;
use tase2_wasm::WasmSession;

/// 2023-11-14T22:13:20Z in `Date.now()` milliseconds.
pub const T0: f64 = 1_700_000_000_000.0;
/// `Data_RealQTimeTag`.
pub const RQT: PointType = PointType::Indication(Family::Real, Form::QTimeTag);
/// `Data_StateQTimeTag`.
pub const SQT: PointType = PointType::Indication(Family::State, Form::QTimeTag);

/// A name in ICC1.
pub fn icc1(item: &str) -> ObjectName {
    ObjectName::domain("ICC1", item)
}

/// The default model's shape in small: ICC1 with points, a data set, an SBO breaker with
/// CheckBackID 101 and a tag, a direct setpoint and an information buffer.
pub fn server() -> Endpoint<Tase2> {
    let mut b = Tase2Builder::new(Tase2Config {
        local_ap_title: Some("1.1.1.998".parse().unwrap()),
        operate: OperatePolicy::AcceptAll,
        ack_timeout: Duration::from_secs(5),
        ..Tase2Config::default()
    });
    b.domain("ICC1", 2).unwrap();
    for n in 1..=3 {
        b.point(
            Some("ICC1"),
            &format!("P{n}"),
            RQT,
            PointValue::real(n as f32),
        )
        .unwrap();
    }
    b.point(
        Some("ICC1"),
        "Brk1",
        SQT,
        PointValue::state(StateValue::Off),
    )
    .unwrap();
    b.data_set(
        Some("ICC1"),
        "DS_All",
        &[
            "Transfer_Set_Name",
            "Transfer_Set_Time_Stamp",
            "DSConditions_Detected",
            "P1",
            "P2",
            "Brk1",
        ],
    )
    .unwrap();
    b.device(
        Some("ICC1"),
        "Brk1_Cmd",
        DeviceSpec::new(DeviceKind::Command, ControlMode::Sbo)
            .tagged()
            .check_back_id(101),
    )
    .unwrap();
    b.device(
        Some("ICC1"),
        "Gen_SP",
        DeviceSpec::new(DeviceKind::RealSetpoint, ControlMode::Direct),
    )
    .unwrap();
    b.info_buffer(Some("ICC1"), 256).unwrap();
    b.point(None, "Freq", RQT, PointValue::real(50.0)).unwrap();
    b.table(
        BilateralTable::new("BLT_1", ClientMatch::ap_title(&[1, 1, 1, 999], 12), "ICC1")
            .grant("Brk1_Cmd", Rights::READ_WRITE)
            .grant("Gen_SP", Rights::READ_WRITE)
            .admit_info(InfoScope::Icc, 10, None),
    )
    .unwrap();
    b.build(ServerConfig::default()).unwrap()
}

/// The core's time for a `Date.now()` reading, on the scale WasmSession uses.
pub fn at(ms: f64) -> Instant {
    Instant::new(
        Duration::from_micros((ms * 1000.0) as u64),
        (ms * 1000.0) as i64,
    )
}

/// A WasmSession and a server pumped together.
pub struct Pair {
    /// The made-up `Date.now()`.
    pub now_ms: f64,
    /// The session under test.
    pub session: WasmSession,
    /// The server.
    pub server: Endpoint<Tase2>,
    conn: ConnectionId,
    /// Events not taken yet, parsed.
    pub events: Vec<Value>,
}

impl Pair {
    /// A pair whose association is up (its `established` event taken).
    pub fn connected() -> Pair {
        Pair::connected_with(|_| {})
    }

    /// [`Pair::connected`], with `prepare` run on the fresh session (e.g. to start recording).
    pub fn connected_with(prepare: impl FnOnce(&mut WasmSession)) -> Pair {
        let mut server = server();
        let conn = server.open(at(T0)).unwrap();
        let mut session = WasmSession::new("1.1.1.999", 12, "1.1.1.998", 12, T0).unwrap();
        prepare(&mut session);
        let mut p = Pair {
            now_ms: T0,
            session,
            server,
            conn,
            events: Vec::new(),
        };
        p.settle();
        let e = p.take(|e| e["type"] == "established");
        assert_eq!(e.len(), 1, "{:?}", p.events);
        assert!(e[0]["max_pdu_size"].as_u64().unwrap() > 0);
        assert!(p.session.is_established());
        p
    }

    /// Move every byte waiting on either side and collect the session's events.
    pub fn deliver(&mut self) -> bool {
        let mut any = false;
        loop {
            let mut moved = false;
            while let Some(b) = self.session.poll_transmit() {
                moved = true;
                self.server.handle_input(at(self.now_ms), self.conn, &b);
            }
            let mut buf = Vec::new();
            if self.server.poll_transmit(self.conn, &mut buf) > 0 {
                moved = true;
                self.session.handle_input(self.now_ms, &buf);
            }
            while let Some(e) = self.session.poll_event() {
                self.events
                    .push(serde_json::from_str(&e).expect("valid JSON"));
            }
            while self.server.poll_event().is_some() {}
            if !moved {
                return any;
            }
            any = true;
        }
    }

    /// The earlier deadline of the two sides, in `Date.now()` ms.
    pub fn next_deadline_ms(&self) -> Option<f64> {
        let server = self
            .server
            .poll_timeout()
            .map(|t| t.monotonic().as_micros() as f64 / 1000.0);
        match (self.session.poll_timeout_ms(), server) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Move the clock to `ms` (never back) and fire what is due on both sides.
    pub fn fire(&mut self, ms: f64) {
        self.now_ms = self.now_ms.max(ms);
        self.server.handle_timeout(at(self.now_ms));
        if self
            .session
            .poll_timeout_ms()
            .is_some_and(|t| t <= self.now_ms)
        {
            self.session.handle_timeout(self.now_ms);
        }
        self.deliver();
    }

    /// Deliver until quiet, without moving the clock.
    pub fn settle(&mut self) {
        while self.deliver() {}
    }

    /// Let `ms` pass, firing each deadline on the way.
    pub fn advance(&mut self, ms: f64) {
        let end = self.now_ms + ms;
        self.deliver();
        while let Some(t) = self.next_deadline_ms().filter(|t| *t <= end) {
            self.fire(t);
        }
        self.now_ms = end;
        self.server.handle_timeout(at(end));
        self.deliver();
    }

    /// The `done` event of `op`, stepping the clock to deadlines while it is not there.
    pub fn done(&mut self, op: f64) -> Value {
        for _ in 0..10_000 {
            let moved = self.deliver();
            if let Some(i) = self
                .events
                .iter()
                .position(|e| e["type"] == "done" && e["op"] == op)
            {
                return self.events.remove(i);
            }
            if !moved {
                let t = self.next_deadline_ms().expect("something left to happen");
                self.fire(t);
            }
        }
        panic!("op {op} never finished: {:?}", self.events)
    }

    /// The successful result of `op`.
    pub fn ok(&mut self, op: f64) -> Value {
        let d = self.done(op);
        assert_eq!(d["ok"], true, "{d}");
        d["result"].clone()
    }

    /// Take the events `f` selects, in order.
    pub fn take(&mut self, f: impl Fn(&Value) -> bool) -> Vec<Value> {
        let (taken, kept) = std::mem::take(&mut self.events).into_iter().partition(f);
        self.events = kept;
        taken
    }
}
