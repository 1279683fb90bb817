//! Report fan-out harness, shared by the `report_fanout` bench and the `report_fanout` test: a
//! TASE.2 server with `domains` ICC domains of `points_per_domain` points each, one RBE DS transfer
//! set per domain run by its own client association, everything pumped in memory on a virtual
//! clock (like the core's `Pair` test harness).
//!
//! The server side ([`Fanout::server_step`]: point updates, report encoding, `poll_transmit`) and
//! the client side ([`Fanout::deliver`]: decoding the reports) are separate calls, so a benchmark
//! can time the first alone.

#![allow(dead_code)] // each user takes what it needs

use core::time::Duration;

use tase2_core::assoc::{AssociationConfig, Event};
use tase2_core::client::Client;
use tase2_core::mms::{AccessResult, ConfirmedResponse, Data, ObjectName, UnconfirmedService};
use tase2_core::server::{ConnectionId, Endpoint, ServerConfig, ServerEvent};
use tase2_core::tase2::client::{parse_next_transfer_set, transfer_set_data, Report};
use tase2_core::tase2::server::{PointId, Tase2, Tase2Builder, Tase2Config, Tase2Event};
use tase2_core::tase2::{
    names, BilateralTable, ClientMatch, DsConditions, DsTransferSetValue, Family, Form, PointType,
    PointValue, StateValue, Timestamp, Value,
};
use tase2_core::Instant;

/// The data set every domain reports.
pub const DATA_SET: &str = "DS_Fanout";

/// Shape of the model and of the transfer sets.
#[derive(Clone, Copy, Debug)]
pub struct Params {
    /// ICC domains, one client association and one transfer set each.
    pub domains: u32,
    /// Points per domain, all in the domain's data set.
    pub points_per_domain: u32,
    /// `BufferTime` of every transfer set (0: reports leave with the update batch; 1: at the next
    /// whole second, from `handle_timeout`).
    pub buffer_time: i32,
    /// Max MMS PDU size proposed by both ends.
    pub max_pdu_size: u32,
}

impl Params {
    /// The issue's setup: 20 domains × 5,000 points, 65,000-octet PDUs.
    pub const ISSUE: Params = Params {
        domains: 20,
        points_per_domain: 5_000,
        buffer_time: 1,
        max_pdu_size: 65_000,
    };

    /// All points.
    pub fn points(&self) -> u32 {
        self.domains * self.points_per_domain
    }
}

/// The point type of point `i` of a domain: 60 % `Data_RealQTimeTag`, 30 % `Data_StateQTimeTag`,
/// 10 % `Data_RealQ`.
pub fn point_type(i: u32) -> PointType {
    match i % 10 {
        0..=5 => PointType::Indication(Family::Real, Form::QTimeTag),
        6..=8 => PointType::Indication(Family::State, Form::QTimeTag),
        _ => PointType::Indication(Family::Real, Form::Q),
    }
}

/// Name of point `i` of a domain.
pub fn point_name(i: u32) -> String {
    format!("Point_{i:05}")
}

/// Name of domain `n` (1-based), also the client's AP-title's last arc.
pub fn domain_name(n: u32) -> String {
    format!("ICC{n}")
}

/// SplitMix64: a small deterministic generator for picking points.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// Seeded.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Move `k` distinct elements picked at random to the front of `v` (partial Fisher-Yates).
    pub fn pick<T>(&mut self, v: &mut [T], k: usize) {
        let k = k.min(v.len());
        for i in 0..k {
            let j = i + self.below(v.len() - i);
            v.swap(i, j);
        }
    }
}

/// One client association with its transfer set.
pub struct Peer {
    /// The server's id for it.
    pub conn: ConnectionId,
    /// The client.
    pub client: Client,
    /// Its domain.
    pub domain: String,
    /// The transfer set it runs.
    pub transfer_set: ObjectName,
    /// Bytes the server sent it, not yet delivered.
    pub inbox: Vec<u8>,
}

/// What the clients decoded in one [`Fanout::deliver`].
#[derive(Debug, Default)]
pub struct Delivered {
    /// InformationReports.
    pub reports: usize,
    /// Point values in them.
    pub values: usize,
    /// Octets delivered (TPKT frames).
    pub octets: usize,
    /// With `keep`: (client index, transfer set, point, value) of every point value.
    pub entries: Vec<(usize, ObjectName, ObjectName, Data)>,
}

/// The server, its clients and the virtual clock.
pub struct Fanout {
    /// The shape.
    pub params: Params,
    /// Virtual time.
    pub now: Instant,
    /// The TASE.2 server.
    pub server: Endpoint<Tase2>,
    /// The clients, domain `n` at index `n - 1`.
    pub peers: Vec<Peer>,
    /// Every point, domain by domain.
    pub points: Vec<PointId>,
    /// Counter making every update a new value.
    pub generation: u32,
    /// Server events seen (besides transfer set starts, checked during setup).
    pub server_events: Vec<ServerEvent<Tase2Event>>,
}

fn association_config(n: u32, max_pdu_size: u32) -> AssociationConfig {
    let mut c = AssociationConfig::with_ap_titles(
        (format!("1.1.1.{n}").parse().expect("OID"), 12),
        ("1.1.1.999".parse().expect("OID"), 12),
    );
    c.max_pdu_size = max_pdu_size;
    c
}

impl Fanout {
    /// Build the model, connect every client and start every transfer set.
    pub fn new(params: Params) -> Fanout {
        let now = Instant::virtual_at(Duration::ZERO, 1_700_000_000);
        let mut b = Tase2Builder::new(Tase2Config::default());
        let mut points = Vec::with_capacity(params.points() as usize);
        for n in 1..=params.domains {
            let d = domain_name(n);
            b.domain(&d, 1).expect("model object");
            let mut members: Vec<String> = vec![
                names::TRANSFER_SET_NAME.into(),
                names::TRANSFER_SET_TIME_STAMP.into(),
                names::DS_CONDITIONS_DETECTED.into(),
            ];
            for i in 0..params.points_per_domain {
                let t = point_type(i);
                let name = point_name(i);
                points.push(b.point(Some(&d), &name, t, t.zero()).expect("model object"));
                members.push(name);
            }
            let members: Vec<&str> = members.iter().map(String::as_str).collect();
            b.data_set(Some(&d), DATA_SET, &members)
                .expect("model object");
            b.table(BilateralTable::new(
                format!("BLT_{d}"),
                ClientMatch::ap_title(&[1, 1, 1, n], 12),
                d.clone(),
            ))
            .expect("model object");
        }
        let mut config = ServerConfig::default();
        config.association.max_pdu_size = params.max_pdu_size;
        config.max_associations = params.domains as usize + 1;
        let server = b.build(config).expect("model builds");
        assert_eq!(
            server.config().association.max_pdu_size,
            params.max_pdu_size
        );
        let mut f = Fanout {
            params,
            now,
            server,
            peers: Vec::new(),
            points,
            generation: 0,
            server_events: Vec::new(),
        };
        for n in 1..=params.domains {
            f.connect(n);
        }
        f
    }

    /// Move bytes both ways between the server and client `i` until nothing moves.
    pub fn pump(&mut self, i: usize) -> Vec<Event> {
        let mut events = Vec::new();
        let mut buf = Vec::new();
        loop {
            let p = &mut self.peers[i];
            let mut moved = false;
            buf.clear();
            if p.client.poll_transmit(&mut buf) > 0 {
                moved = true;
                self.server.handle_input(self.now, p.conn, &buf);
            }
            buf.clear();
            if self.server.poll_transmit(p.conn, &mut buf) > 0 {
                moved = true;
                p.client.handle_input(self.now, &buf);
            }
            while let Some(e) = p.client.poll_event() {
                events.push(e);
            }
            while let Some(e) = self.server.poll_event() {
                self.server_events.push(e);
            }
            if !moved {
                return events;
            }
        }
    }

    fn response(&mut self, i: usize, id: u32) -> ConfirmedResponse {
        let events = self.pump(i);
        events
            .into_iter()
            .find_map(|e| match e {
                Event::Response { invoke_id, result } if invoke_id == id => Some(result),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no response to {id}"))
            .unwrap_or_else(|e| panic!("request {id} failed: {e:?}"))
    }

    /// Associate client `n`, reserve its domain's transfer set and start it.
    fn connect(&mut self, n: u32) {
        let i = self.peers.len();
        let conn = self
            .server
            .open(self.now)
            .expect("room for the association");
        let client = Client::new(association_config(n, self.params.max_pdu_size), self.now);
        assert_eq!(
            client.association().config().max_pdu_size,
            self.params.max_pdu_size
        );
        let domain = domain_name(n);
        self.peers.push(Peer {
            conn,
            client,
            domain: domain.clone(),
            transfer_set: ObjectName::vmd(""),
            inbox: Vec::new(),
        });
        self.pump(i);
        let c = &self.peers[i].client;
        assert!(c.is_established(), "client {n} not established");
        assert_eq!(c.negotiated().max_pdu_size, self.params.max_pdu_size);

        let next = ObjectName::domain(domain.as_str(), names::NEXT_DS_TRANSFER_SET);
        let id = self.peers[i].client.read(self.now, &[next]).expect("read");
        let ConfirmedResponse::Read(r) = self.response(i, id) else {
            panic!("not a Read response")
        };
        let Some(AccessResult::Success(d)) = r.results.first() else {
            panic!("Next_DSTransfer_Set: {:?}", r.results)
        };
        let ts = parse_next_transfer_set(d).expect("an ObjectName");

        let value = DsTransferSetValue {
            data_set: ObjectName::domain(domain.as_str(), DATA_SET),
            buffer_time: self.params.buffer_time,
            conditions: DsConditions::OBJECT_CHANGE,
            rbe: true,
            status: true,
            ..DsTransferSetValue::default()
        };
        let data = transfer_set_data(&value, Tase2Config::default().edition);
        let id = self.peers[i]
            .client
            .write(self.now, core::slice::from_ref(&ts), vec![data])
            .expect("write");
        let ConfirmedResponse::Write(w) = self.response(i, id) else {
            panic!("not a Write response")
        };
        assert!(
            matches!(w.as_slice(), [tase2_core::mms::WriteResult::Success]),
            "transfer set write: {w:?}"
        );
        assert!(
            self.server_events.iter().any(|e| matches!(
                e,
                ServerEvent::Extension(Tase2Event::TransferSetStarted { id, name, .. })
                    if *id == conn && *name == ts
            )),
            "transfer set {ts} started"
        );
        self.server_events.clear();
        let (owner, v) = self.server.tase2().transfer_set(&ts).expect("exists");
        assert_eq!((owner, v.status, v.rbe), (Some(conn), true, true));
        self.peers[i].transfer_set = ts;
    }

    /// A new value for every point in `ids` (each differs from the point's current value), stamped
    /// with the current second.
    pub fn new_values(&mut self, ids: &[PointId], out: &mut Vec<(PointId, PointValue)>) {
        self.generation = self.generation.wrapping_add(1);
        let g = self.generation;
        let stamp = Timestamp {
            seconds: self.now.utc_seconds() as i32,
            millis: 0,
        };
        let t = self.server.tase2();
        out.clear();
        out.extend(ids.iter().map(|&p| {
            let old = t.value(p).expect("point");
            let value = match old.value {
                Value::Real(_) => Value::Real(g as f32 + p.0 as f32 * 1e-3),
                Value::State(StateValue::On) => Value::State(StateValue::Off),
                Value::State(_) => Value::State(StateValue::On),
                other => other,
            };
            (p, PointValue::new(value).at(stamp))
        }));
    }

    /// The timed server side: apply `updates`, advance the virtual clock by `advance` (firing the
    /// transfer set timers), and drain every association's transmit buffer into its inbox.
    /// Returns the octets drained.
    pub fn server_step(
        &mut self,
        updates: &[(PointId, PointValue)],
        advance: Option<Duration>,
    ) -> usize {
        self.server.update_many(self.now, updates.iter().copied());
        if let Some(d) = advance {
            self.now = self.now + d;
            self.server.handle_timeout(self.now);
        }
        let mut octets = 0;
        for p in &mut self.peers {
            octets += self.server.poll_transmit(p.conn, &mut p.inbox);
        }
        octets
    }

    /// Drop what the server sent without decoding it.
    pub fn discard(&mut self) {
        for p in &mut self.peers {
            p.inbox.clear();
        }
    }

    /// Feed every inbox to its client and decode the reports; with `keep`, return every point value.
    pub fn deliver(&mut self, keep: bool) -> Delivered {
        let mut d = Delivered::default();
        for (i, p) in self.peers.iter_mut().enumerate() {
            d.octets += p.inbox.len();
            p.client.handle_input(self.now, &p.inbox);
            p.inbox.clear();
            while let Some(e) = p.client.poll_event() {
                let Event::Unconfirmed(UnconfirmedService::InformationReport(r)) = e else {
                    panic!("client {i}: unexpected event {e:?}")
                };
                let report = Report::decode(&r, |_| None).expect("a transfer set report");
                assert_eq!(report.transfer_set.as_ref(), Some(&p.transfer_set));
                assert_eq!(report.conditions, Some(DsConditions::OBJECT_CHANGE));
                d.reports += 1;
                d.values += report.values.len();
                if keep {
                    d.entries.extend(
                        report
                            .values
                            .into_iter()
                            .map(|(name, v)| (i, p.transfer_set.clone(), name, v)),
                    );
                }
            }
            assert!(p.client.is_established(), "client {i} still associated");
        }
        while let Some(e) = self.server.poll_event() {
            self.server_events.push(e);
        }
        d
    }

    /// Check delivered entries against the server's current values: every value is the point's
    /// current one, in the transfer set of the point's domain.
    pub fn check_values(&self, entries: &[(usize, ObjectName, ObjectName, Data)]) {
        let t = self.server.tase2();
        for (i, ts, name, v) in entries {
            let p = t
                .point_id(name)
                .unwrap_or_else(|| panic!("{name}: no such point"));
            let ty = t.point_type(p).expect("type");
            let expected = ty.to_data(t.value(p).expect("value"));
            assert_eq!(*v, expected, "{name}");
            let ObjectName::DomainSpecific { domain, .. } = name else {
                panic!("{name} not domain-specific")
            };
            assert_eq!(*domain, self.peers[*i].domain, "{name} reported to {ts}");
        }
    }
}
