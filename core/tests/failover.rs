//! The reconnect and failover policy of [`Failover`] on a virtual clock, with two servers (a
//! primary and a backup) that can be killed, restarted, silenced or made to flap: every backoff
//! step within its jitter bounds, both endpoints down and one coming back, flapping without
//! unbounded growth, a dead link found by the keepalive, restoration of data sets, transfer sets
//! and information messages with a refresh of every value, fail-back to the primary with nothing
//! left behind on the backup, the server reclaiming what a dead association held, the bound on
//! what is remembered, a critical transfer set restored on a server of the other edition, and
//! recordings (each association's, and the whole link's) that replay octet for octet.

use core::time::Duration;

use tase2_core::assoc::{AssocError, AssociationConfig, RequestError};
use tase2_core::mms::ObjectName;
use tase2_core::server::{ConnectionId, Endpoint, ServerConfig, ServerEvent};
use tase2_core::sim::Sim;
use tase2_core::tase2::client::{
    Backoff, Command, EndpointSpec, Error, Failover, FailoverAction, FailoverConfig, FailoverEvent,
    Keepalive, LossCause, OpId, Outcome, Reported, SessionConfig, SessionEvent,
};
use tase2_core::tase2::server::{DeviceSpec, Tase2, Tase2Builder, Tase2Config, Tase2Event};
use tase2_core::tase2::{
    BilateralTable, ClientMatch, ControlMode, DeviceKind, DsConditions, DsTransferSetValue,
    Edition, Family, Form, InfoScope, PointType, PointValue, Rights, Value,
};
use tase2_core::Instant;

const RQT: PointType = PointType::Indication(Family::Real, Form::QTimeTag);
const POINTS: usize = 3;

fn icc1(item: &str) -> ObjectName {
    ObjectName::domain("ICC1", item)
}

/// ICC1 with P1..P3 (valued `base + n`), `transfer_sets` DS transfer sets and an SBO device,
/// open to the client 1.1.1.999.
fn server_with(base: f32, transfer_sets: usize) -> Endpoint<Tase2> {
    server_of(base, transfer_sets, Edition::V2000_08)
}

fn server_of(base: f32, transfer_sets: usize, edition: Edition) -> Endpoint<Tase2> {
    let mut b = Tase2Builder::new(Tase2Config {
        local_ap_title: Some("1.1.1.998".parse().unwrap()),
        edition,
        ..Tase2Config::default()
    });
    b.domain("ICC1", transfer_sets).unwrap();
    for n in 1..=POINTS {
        b.point(
            Some("ICC1"),
            &format!("P{n}"),
            RQT,
            PointValue::real(base + n as f32),
        )
        .unwrap();
    }
    b.device(
        Some("ICC1"),
        "Brk1_Cmd",
        DeviceSpec::new(DeviceKind::Command, ControlMode::Sbo).check_back_id(7),
    )
    .unwrap();
    b.info_buffer(Some("ICC1"), 64).unwrap();
    b.table(
        BilateralTable::new("BLT_1", ClientMatch::ap_title(&[1, 1, 1, 999], 12), "ICC1")
            .grant("Brk1_Cmd", Rights::READ_WRITE)
            .admit_info(InfoScope::Icc, 1, None),
    )
    .unwrap();
    b.build(ServerConfig::default()).unwrap()
}

fn server(base: f32) -> Endpoint<Tase2> {
    server_with(base, 2)
}

fn association() -> AssociationConfig {
    AssociationConfig::with_ap_titles(
        ("1.1.1.999".parse().unwrap(), 12),
        ("1.1.1.998".parse().unwrap(), 12),
    )
}

fn t0() -> Instant {
    Instant::virtual_at(Duration::ZERO, 1_700_000_000)
}

fn config(endpoints: usize) -> FailoverConfig {
    FailoverConfig::new(
        (0..endpoints)
            .map(|i| EndpointSpec::new(format!("server{i}"), association()))
            .collect(),
    )
}

/// A failover client and its servers on a virtual clock.
struct Net {
    now: Instant,
    /// `None`: down (connections refused).
    servers: Vec<Option<Endpoint<Tase2>>>,
    /// A silent server's traffic is lost both ways (a link gone dead without a close).
    silent: Vec<bool>,
    /// A flapping server drops each association as soon as it is up.
    flapping: Vec<bool>,
    /// The servers' answers are lost, what the client sends still arrives.
    mute_answers: bool,
    fo: Failover,
    conn: Option<(usize, ConnectionId)>,
    events: Vec<(Instant, FailoverEvent)>,
    /// Every Connect action: when, to which endpoint.
    connects: Vec<(Instant, usize)>,
    drop_pending: bool,
    /// How each server saw its associations end: (server, the error of `ServerEvent::Closed`).
    ended: Vec<(usize, Option<AssocError>)>,
    /// The acknowledgements of critical reports each server heard: (server, the event).
    acks: Vec<(usize, Tase2Event)>,
}

impl Net {
    fn new(config: FailoverConfig, servers: Vec<Option<Endpoint<Tase2>>>) -> Net {
        Net::with(Failover::new(config, t0()), servers)
    }

    fn with(fo: Failover, servers: Vec<Option<Endpoint<Tase2>>>) -> Net {
        let n = servers.len();
        let mut net = Net {
            now: t0(),
            servers,
            silent: vec![false; n],
            flapping: vec![false; n],
            mute_answers: false,
            fo,
            conn: None,
            events: Vec::new(),
            connects: Vec::new(),
            drop_pending: false,
            ended: Vec::new(),
            acks: Vec::new(),
        };
        net.deliver();
        net
    }

    fn deliver(&mut self) {
        let now = self.now;
        let mut buf = Vec::new();
        for _ in 0..100_000 {
            let mut moved = false;
            while let Some(a) = self.fo.poll_action() {
                moved = true;
                match a {
                    FailoverAction::Connect { endpoint } => {
                        self.connects.push((now, endpoint));
                        match &mut self.servers[endpoint] {
                            Some(s) => {
                                let id = s.open(now).unwrap();
                                self.conn = Some((endpoint, id));
                                self.fo.handle_connected(now, endpoint);
                            }
                            None => self.fo.handle_connect_failed(now, endpoint),
                        }
                    }
                    FailoverAction::Disconnect => {
                        if let Some((e, id)) = self.conn.take() {
                            if let Some(s) = &mut self.servers[e] {
                                s.handle_transport_closed(now, id);
                            }
                        }
                    }
                    FailoverAction::Probe { endpoint } => {
                        let up = self.servers[endpoint].is_some();
                        self.fo.handle_probe(now, endpoint, up);
                    }
                }
            }
            buf.clear();
            if self.fo.poll_transmit(&mut buf) > 0 {
                moved = true;
                if let Some((e, id)) = self.conn {
                    if !self.silent[e] {
                        if let Some(s) = &mut self.servers[e] {
                            s.handle_input(now, id, &buf);
                        }
                    }
                }
            }
            if let Some((e, id)) = self.conn {
                if let Some(s) = &mut self.servers[e] {
                    buf.clear();
                    if s.poll_transmit(id, &mut buf) > 0 {
                        moved = true;
                        if !self.silent[e] && !self.mute_answers {
                            self.fo.handle_input(now, &buf);
                        }
                    }
                }
            }
            for (i, s) in self.servers.iter_mut().enumerate() {
                while let Some(e) = s.as_mut().and_then(Endpoint::poll_event) {
                    match e {
                        ServerEvent::Closed { error, .. } => self.ended.push((i, error)),
                        ServerEvent::Extension(
                            a @ (Tase2Event::ReportAcked { .. } | Tase2Event::ReportNacked { .. }),
                        ) => self.acks.push((i, a)),
                        _ => {}
                    }
                }
            }
            while let Some(e) = self.fo.poll_event() {
                moved = true;
                if let FailoverEvent::Up { endpoint } = e {
                    if self.flapping[endpoint] {
                        self.drop_pending = true;
                    }
                }
                self.events.push((now, e));
            }
            if self.drop_pending {
                self.drop_pending = false;
                self.cut();
                moved = true;
            }
            if !moved {
                return;
            }
        }
        panic!("the pump never settles");
    }

    /// The current transport breaks: both sides hear it.
    fn cut(&mut self) {
        if let Some((e, id)) = self.conn.take() {
            if let Some(s) = &mut self.servers[e] {
                s.handle_transport_closed(self.now, id);
            }
            self.fo.handle_transport_closed(self.now);
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        let mut next = self.fo.poll_timeout();
        for s in self.servers.iter().flatten() {
            if let Some(t) = s.poll_timeout() {
                next = Some(next.map_or(t, |n: Instant| n.min(t)));
            }
        }
        next
    }

    fn advance(&mut self, d: Duration) {
        let end = self.now + d;
        self.deliver();
        for _ in 0..100_000 {
            let Some(at) = self.next_deadline().filter(|t| *t <= end) else {
                break;
            };
            self.now = self.now.max(at);
            let now = self.now;
            for s in self.servers.iter_mut().flatten() {
                s.handle_timeout(now);
            }
            self.fo.handle_timeout(now);
            self.deliver();
        }
        self.now = end;
        let now = self.now;
        for s in self.servers.iter_mut().flatten() {
            s.handle_timeout(now);
        }
        self.fo.handle_timeout(now);
        self.deliver();
    }

    /// Step until `f` matches an event not yet taken (at most `limit` of virtual time).
    fn until(
        &mut self,
        limit: Duration,
        mut f: impl FnMut(&FailoverEvent) -> bool,
    ) -> FailoverEvent {
        let end = self.now + limit;
        loop {
            if let Some(i) = self.events.iter().position(|(_, e)| f(e)) {
                return self.events.remove(i).1;
            }
            if self.now >= end {
                panic!("no such event within {limit:?}: {:#?}", self.events);
            }
            let step = self
                .next_deadline()
                .map_or(limit, |t| t.saturating_duration_since(self.now))
                .clamp(
                    Duration::from_micros(1),
                    end.saturating_duration_since(self.now),
                );
            self.advance(step);
        }
    }

    fn run(&mut self, command: Command) -> Result<Outcome, Error> {
        let op = self.fo.command(self.now, command);
        self.deliver();
        self.wait(op)
    }

    fn wait(&mut self, op: OpId) -> Result<Outcome, Error> {
        match self.until(
            Duration::from_secs(120),
            |e| matches!(e, FailoverEvent::Session(SessionEvent::Done { op: o, .. }) if *o == op),
        ) {
            FailoverEvent::Session(SessionEvent::Done { result, .. }) => result,
            _ => unreachable!(),
        }
    }

    fn kill(&mut self, i: usize) {
        self.servers[i] = None;
        if self.conn.is_some_and(|(e, _)| e == i) {
            self.conn = None;
            self.fo.handle_transport_closed(self.now);
        }
        self.deliver();
    }

    fn start(&mut self, i: usize, s: Endpoint<Tase2>) {
        self.servers[i] = Some(s);
    }

    fn update(&mut self, i: usize, item: &str, v: f32) {
        let now = self.now;
        let s = self.servers[i].as_mut().unwrap();
        let p = s.tase2().point_id(&icc1(item)).unwrap();
        s.update(now, p, PointValue::real(v));
        self.deliver();
    }

    /// The point values reported so far (reports taken), in order.
    fn reported(&mut self) -> Vec<(String, f32)> {
        let mut out = Vec::new();
        self.events.retain(|(_, e)| match e {
            FailoverEvent::Session(SessionEvent::Report(r)) => {
                out.extend(r.points().map(|(n, p)| match p.value {
                    Value::Real(v) => (n.item().to_string(), v),
                    ref other => panic!("{other:?}"),
                }));
                false
            }
            _ => true,
        });
        out
    }

    fn take(&mut self, mut f: impl FnMut(&FailoverEvent) -> bool) -> Vec<(Instant, FailoverEvent)> {
        let (taken, kept) = core::mem::take(&mut self.events)
            .into_iter()
            .partition(|(_, e)| f(e));
        self.events = kept;
        taken
    }

    /// Client-defined data sets on server `i` (its model's ICC1 lists).
    fn lists(&self, i: usize) -> Vec<String> {
        let s = self.servers[i].as_ref().unwrap();
        s.model().domains["ICC1"].lists.keys().cloned().collect()
    }

    /// Transfer sets of server `i` held by some association, with their status.
    fn held(&self, i: usize) -> Vec<(String, bool)> {
        let s = self.servers[i].as_ref().unwrap();
        (1..=2)
            .filter_map(|n| {
                let name = icc1(&format!("DSTransfer_Set_{n}"));
                let (owner, v) = s.tase2().transfer_set(&name)?;
                owner.map(|_| (name.item().to_string(), v.status))
            })
            .collect()
    }
}

fn members() -> Vec<ObjectName> {
    let mut m = vec![
        icc1("Transfer_Set_Name"),
        icc1("Transfer_Set_Time_Stamp"),
        icc1("DSConditions_Detected"),
    ];
    m.extend((1..=POINTS).map(|n| icc1(&format!("P{n}"))));
    m
}

fn rbe() -> DsTransferSetValue {
    DsTransferSetValue {
        data_set: icc1("DS_Watch"),
        integrity_check: 600,
        conditions: DsConditions::INTEGRITY | DsConditions::OBJECT_CHANGE,
        rbe: true,
        ..Default::default()
    }
}

/// Define DS_Watch and reserve and start a critical RBE transfer set on it; its name.
fn start_critical(net: &mut Net, all_changes_reported: bool) -> ObjectName {
    net.run(Command::DefineDataSet {
        name: icc1("DS_Watch"),
        members: members(),
    })
    .unwrap();
    let value = DsTransferSetValue {
        critical: true,
        all_changes_reported,
        ..rbe()
    };
    let Ok(Outcome::TransferSet(ts)) = net.run(Command::ReserveAndStart {
        domain: "ICC1".into(),
        value,
    }) else {
        panic!("no transfer set")
    };
    ts
}

/// Define DS_Watch, reserve and start an RBE transfer set on it, enable information messages.
fn set_up(net: &mut Net) -> ObjectName {
    net.run(Command::DefineDataSet {
        name: icc1("DS_Watch"),
        members: members(),
    })
    .unwrap();
    let Ok(Outcome::TransferSet(ts)) = net.run(Command::ReserveTransferSet {
        domain: "ICC1".into(),
    }) else {
        panic!()
    };
    net.run(Command::StartTransferSet {
        transfer_set: ts.clone(),
        value: rbe(),
    })
    .unwrap();
    net.run(Command::InfoMessages { enable: true }).unwrap();
    ts
}

fn waits(net: &Net) -> Vec<(u32, Duration)> {
    net.events
        .iter()
        .filter_map(|(_, e)| match e {
            FailoverEvent::Waiting { round, delay } => Some((*round, *delay)),
            _ => None,
        })
        .collect()
}

#[test]
fn each_backoff_step_stays_within_its_jitter_bounds_and_the_cap() {
    let mut c = config(2);
    c.backoff = Backoff {
        min: Duration::from_millis(100),
        max: Duration::from_secs(5),
        factor: 2,
        jitter_percent: 30,
    };
    let backoff = c.backoff;
    let mut net = Net::new(c.clone(), vec![None, None]);
    net.advance(Duration::from_secs(60));
    let w = waits(&net);
    assert!(w.len() >= 12, "{w:?}");
    for (i, (round, delay)) in w.iter().enumerate() {
        assert_eq!(*round as usize, i + 1, "rounds count up");
        let (lo, hi) = backoff.bounds(*round);
        assert!(
            lo <= *delay && *delay <= hi,
            "round {round}: {delay:?} not in {lo:?}..={hi:?}"
        );
    }
    // 100 ms, 200, 400, ... capped at 5 s.
    assert_eq!(backoff.base(1), Duration::from_millis(100));
    assert_eq!(backoff.base(4), Duration::from_millis(800));
    assert_eq!(backoff.base(20), Duration::from_secs(5));
    assert!(w
        .iter()
        .skip(8)
        .all(|(_, d)| *d >= Duration::from_millis(3500)));
    // Each round tries the primary then the backup, back to back; rounds are a backoff apart.
    for pair in net.connects.chunks(2) {
        assert_eq!(
            pair.iter().map(|c| c.1).collect::<Vec<_>>(),
            [0, 1][..pair.len()]
        );
        if pair.len() == 2 {
            assert_eq!(pair[0].0, pair[1].0);
        }
    }
    for (k, (round, delay)) in w.iter().enumerate().take(net.connects.len() / 2 - 1) {
        let gap = net.connects[2 * k + 2]
            .0
            .saturating_duration_since(net.connects[2 * k].0);
        assert_eq!(gap, *delay, "round {round}");
    }
    // The jitter follows the seed: the same seed gives the same waits, another seed others.
    let mut again = Net::new(c.clone(), vec![None, None]);
    again.advance(Duration::from_secs(60));
    assert_eq!(waits(&again), w);
    c.seed = 99;
    let mut other = Net::new(c, vec![None, None]);
    other.advance(Duration::from_secs(60));
    assert_ne!(waits(&other), w);
}

#[test]
fn both_endpoints_down_then_the_backup_returns_and_held_commands_run_there() {
    let mut net = Net::new(config(2), vec![None, None]);
    // Set-up issued while nothing is up waits for the first association.
    let define = net.fo.command(
        net.now,
        Command::DefineDataSet {
            name: icc1("DS_Watch"),
            members: members(),
        },
    );
    let start = net.fo.command(
        net.now,
        Command::ReserveAndStart {
            domain: "ICC1".into(),
            value: rbe(),
        },
    );
    net.advance(Duration::from_secs(3));
    assert!(waits(&net).len() >= 3);
    assert!(!net.fo.is_up());
    net.start(1, server(100.0));
    let up = net.until(Duration::from_secs(10), |e| {
        matches!(e, FailoverEvent::Up { .. })
    });
    assert_eq!(up, FailoverEvent::Up { endpoint: 1 });
    net.wait(define).unwrap();
    let Ok(Outcome::TransferSet(ts)) = net.wait(start) else {
        panic!()
    };
    assert_eq!(net.held(1), [(ts.item().to_string(), true)]);
    net.update(1, "P2", 7.5);
    net.advance(Duration::from_millis(10));
    assert_eq!(net.reported(), [("P2".to_string(), 7.5)]);
    // The first association restores nothing: there was nothing to lose.
    assert!(net
        .take(|e| matches!(e, FailoverEvent::Restored { .. }))
        .is_empty());
}

#[test]
fn a_command_held_while_down_times_out_and_the_queue_is_bounded() {
    let mut c = config(1);
    c.max_queued = 2;
    c.queue_timeout = Duration::from_secs(5);
    let mut net = Net::new(c, vec![None]);
    let ops: Vec<OpId> = (0..3)
        .map(|_| net.fo.command(net.now, Command::Version))
        .collect();
    net.deliver();
    assert_eq!(net.wait(ops[2]), Err(Error::Closed(None)));
    net.advance(Duration::from_secs(6));
    assert_eq!(net.wait(ops[0]), Err(Error::Request(RequestError::Timeout)));
    assert_eq!(net.wait(ops[1]), Err(Error::Request(RequestError::Timeout)));
}

#[test]
fn failover_restores_data_sets_transfer_sets_and_messages_and_refreshes_every_value() {
    let mut net = Net::new(config(2), vec![Some(server(0.0)), Some(server(100.0))]);
    net.until(Duration::from_secs(1), |e| {
        matches!(e, FailoverEvent::Up { endpoint: 0 })
    });
    let ts = set_up(&mut net);
    net.update(0, "P1", 1.25);
    net.advance(Duration::from_millis(10));
    assert_eq!(net.reported(), [("P1".to_string(), 1.25)]);

    net.advance(Duration::from_secs(20)); // stable
    net.kill(0);
    let lost = net.until(Duration::from_secs(1), |e| {
        matches!(e, FailoverEvent::Lost { .. })
    });
    assert!(
        matches!(
            lost,
            FailoverEvent::Lost {
                endpoint: 0,
                cause: LossCause::Closed(_)
            }
        ),
        "{lost:?}"
    );
    let lost_at = net.now;
    let refreshed = net.until(Duration::from_secs(5), |e| {
        matches!(e, FailoverEvent::Refreshed(_))
    });
    let FailoverEvent::Refreshed(r) = refreshed else {
        unreachable!()
    };
    let values: Vec<(String, f32)> = r
        .values
        .iter()
        .map(|(n, v)| match v {
            Reported::Point(_, p) => match p.value {
                Value::Real(x) => (n.item().to_string(), x),
                _ => panic!(),
            },
            Reported::Other(d) => panic!("{d:?}"),
        })
        .collect();
    assert_eq!(
        values,
        [
            ("P1".into(), 101.0),
            ("P2".into(), 102.0),
            ("P3".into(), 103.0)
        ]
    );
    let restored = net.until(Duration::from_secs(5), |e| {
        matches!(e, FailoverEvent::Restored { .. })
    });
    let FailoverEvent::Restored {
        endpoint,
        gap,
        data_sets,
        transfer_sets,
        failed,
    } = restored
    else {
        unreachable!()
    };
    assert_eq!(endpoint, 1);
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(data_sets, [icc1("DS_Watch")]);
    assert_eq!(transfer_sets.len(), 1);
    assert_eq!(transfer_sets[0].0, ts);
    // No latency on the virtual links: the whole restoration takes no virtual time.
    assert!(gap < Duration::from_millis(1), "{gap:?}");
    assert!(net.now.saturating_duration_since(lost_at) < Duration::from_millis(1));

    // The backup now holds the same setup: data set, transfer set with the same conditions,
    // information messages.
    assert_eq!(net.lists(1), ["DS_Watch"]);
    let new_ts = transfer_sets[0].1.clone();
    assert_eq!(net.fo.current_transfer_set(&ts), Some(&new_ts));
    let b = net.servers[1].as_ref().unwrap();
    let (owner, v) = b.tase2().transfer_set(&new_ts).unwrap();
    assert!(owner.is_some());
    assert!(v.status);
    assert_eq!(v.conditions, rbe().conditions);
    assert_eq!(v.integrity_check, 600);
    assert!(v.rbe);
    net.update(1, "P3", 55.5);
    net.advance(Duration::from_millis(10));
    assert_eq!(net.reported(), [("P3".to_string(), 55.5)]);
    let info = tase2_core::tase2::InfoHeader {
        info_reference: 1,
        local_reference: 0,
        message_id: 9,
        size: 2,
    };
    net.servers[1]
        .as_mut()
        .unwrap()
        .send_info_message(Some("ICC1"), info, b"hi")
        .unwrap();
    net.deliver();
    assert_eq!(
        net.take(|e| matches!(e, FailoverEvent::Session(SessionEvent::InfoMessage(_))))
            .len(),
        1
    );
    // The application's old name still works: the stop goes to the new transfer set.
    net.run(Command::StopTransferSet {
        transfer_set: ts.clone(),
    })
    .unwrap();
    assert_eq!(net.held(1), [(new_ts.item().to_string(), false)]);
    assert_eq!(net.fo.remembered_transfer_sets().count(), 0);
    net.run(Command::DeleteDataSet {
        name: icc1("DS_Watch"),
    })
    .unwrap();
    assert!(net.lists(1).is_empty());
    assert_eq!(net.fo.remembered_data_sets().count(), 0);
}

#[test]
fn a_flapping_server_is_retried_no_faster_than_the_backoff_and_nothing_grows() {
    let mut c = config(2);
    c.backoff.min = Duration::from_millis(200);
    c.backoff.max = Duration::from_secs(10);
    let mut net = Net::new(c, vec![Some(server(0.0)), None]);
    net.until(Duration::from_secs(1), |e| {
        matches!(e, FailoverEvent::Up { endpoint: 0 })
    });
    set_up(&mut net);
    net.advance(Duration::from_secs(20));
    net.flapping[0] = true;
    net.cut();
    net.advance(Duration::from_secs(600));
    let ups = net.take(|e| matches!(e, FailoverEvent::Up { .. })).len();
    let losses = net.take(|e| matches!(e, FailoverEvent::Lost { .. })).len();
    // Ten minutes with the backoff doubling up to 10 s: far fewer than one attempt a second.
    assert!(ups > 5 && ups < 80, "{ups} associations");
    assert_eq!(losses, ups + 1);
    let w = waits(&net);
    assert!(w.windows(2).all(|p| p[1].0 == p[0].0 + 1), "{w:?}");
    assert!(w
        .iter()
        .rev()
        .take(10)
        .all(|(_, d)| *d >= Duration::from_secs(8)));
    // What is remembered, and what the server holds, does not grow with the flapping.
    assert_eq!(net.fo.remembered_data_sets().count(), 1);
    assert_eq!(net.fo.remembered_transfer_sets().count(), 1);
    assert_eq!(net.lists(0), ["DS_Watch"]);
    assert!(net.held(0).is_empty(), "{:?}", net.held(0));
    // The flapping stops: the link settles and restores.
    net.flapping[0] = false;
    let r = net.until(Duration::from_secs(20), |e| {
        matches!(e, FailoverEvent::Restored { .. })
    });
    assert!(
        matches!(r, FailoverEvent::Restored { endpoint: 0, ref failed, .. } if failed.is_empty()),
        "{r:?}"
    );
    assert_eq!(net.held(0).len(), 1);
    assert_eq!(net.lists(0), ["DS_Watch"]);
}

#[test]
fn fail_back_to_the_primary_leaves_nothing_on_the_backup() {
    let mut c = config(2);
    c.fail_back = Some(Duration::from_secs(2));
    let mut net = Net::new(c, vec![Some(server(0.0)), Some(server(100.0))]);
    net.until(Duration::from_secs(1), |e| {
        matches!(e, FailoverEvent::Up { endpoint: 0 })
    });
    let ts = set_up(&mut net);
    net.advance(Duration::from_secs(20));
    net.kill(0);
    net.until(Duration::from_secs(5), |e| {
        matches!(e, FailoverEvent::Restored { endpoint: 1, .. })
    });
    assert_eq!(net.held(1).len(), 1);
    assert_eq!(
        net.take(|e| matches!(e, FailoverEvent::Lost { .. })).len(),
        1
    );
    // While the primary is down, probes find it down and the link stays.
    net.advance(Duration::from_secs(7));
    assert!(net
        .take(|e| matches!(e, FailoverEvent::FailingBack { .. }))
        .is_empty());
    assert_eq!(net.fo.endpoint(), 1);
    // The primary returns: within one probe interval the link goes back to it.
    net.start(0, server(0.0));
    let fb = net.until(Duration::from_secs(3), |e| {
        matches!(e, FailoverEvent::FailingBack { .. })
    });
    assert_eq!(fb, FailoverEvent::FailingBack { from: 1, to: 0 });
    let r = net.until(Duration::from_secs(5), |e| {
        matches!(e, FailoverEvent::Restored { .. })
    });
    let FailoverEvent::Restored {
        endpoint, failed, ..
    } = r
    else {
        unreachable!()
    };
    assert_eq!(endpoint, 0);
    assert!(failed.is_empty(), "{failed:?}");
    let lost = net.take(|e| matches!(e, FailoverEvent::Lost { .. }));
    assert_eq!(lost.len(), 1);
    assert_eq!(
        lost[0].1,
        FailoverEvent::Lost {
            endpoint: 1,
            cause: LossCause::FailBack
        }
    );
    // Nothing left behind on the backup; everything on the primary.
    assert!(net.lists(1).is_empty(), "{:?}", net.lists(1));
    assert!(net.held(1).is_empty());
    assert_eq!(net.lists(0), ["DS_Watch"]);
    assert_eq!(net.held(0).len(), 1);
    assert!(net.fo.current_transfer_set(&ts).is_some());
    net.update(0, "P1", 3.5);
    net.advance(Duration::from_millis(10));
    assert_eq!(net.reported(), [("P1".to_string(), 3.5)]);
    // On the primary, no more probes.
    net.advance(Duration::from_secs(10));
    assert!(net
        .take(|e| matches!(e, FailoverEvent::FailingBack { .. }))
        .is_empty());
}

#[test]
fn without_fail_back_the_link_stays_on_the_backup() {
    let mut net = Net::new(config(2), vec![Some(server(0.0)), Some(server(100.0))]);
    net.until(Duration::from_secs(1), |e| {
        matches!(e, FailoverEvent::Up { endpoint: 0 })
    });
    set_up(&mut net);
    net.advance(Duration::from_secs(20));
    net.kill(0);
    net.until(Duration::from_secs(5), |e| {
        matches!(e, FailoverEvent::Restored { endpoint: 1, .. })
    });
    net.start(0, server(0.0));
    net.advance(Duration::from_secs(60));
    assert_eq!(net.fo.endpoint(), 1);
    assert!(net.fo.is_up());
    assert!(net
        .take(|e| matches!(e, FailoverEvent::FailingBack { .. }))
        .is_empty());
}

#[test]
fn a_silent_link_is_found_by_the_keepalive_and_the_setup_comes_back_on_the_same_server() {
    let mut c = config(1);
    c.keepalive = Some(Keepalive {
        interval: Duration::from_secs(2),
        timeout: Duration::from_secs(3),
    });
    let mut net = Net::new(c, vec![Some(server(0.0))]);
    net.until(Duration::from_secs(1), |e| {
        matches!(e, FailoverEvent::Up { endpoint: 0 })
    });
    let ts = set_up(&mut net);
    net.advance(Duration::from_secs(20));
    assert!(net
        .take(|e| matches!(e, FailoverEvent::Lost { .. }))
        .is_empty());
    net.silent[0] = true;
    let went_silent = net.now;
    let lost = net.until(Duration::from_secs(10), |e| {
        matches!(e, FailoverEvent::Lost { .. })
    });
    assert_eq!(
        lost,
        FailoverEvent::Lost {
            endpoint: 0,
            cause: LossCause::NoAnswer
        }
    );
    // Found within one interval plus the answer timeout.
    let found = net.now.saturating_duration_since(went_silent);
    assert!(found <= Duration::from_secs(5), "{found:?}");
    // The link heals; the server still has the data set of the dead association (MMS domain
    // scope) but gave its transfer set back: restoration deletes and defines the data set anew.
    net.silent[0] = false;
    assert_eq!(net.lists(0), ["DS_Watch"]);
    assert!(net.held(0).is_empty());
    let r = net.until(Duration::from_secs(30), |e| {
        matches!(e, FailoverEvent::Restored { .. })
    });
    let FailoverEvent::Restored {
        failed,
        transfer_sets,
        ..
    } = r
    else {
        unreachable!()
    };
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(transfer_sets[0].0, ts);
    assert_eq!(net.held(0).len(), 1);
    net.update(0, "P2", 9.0);
    net.advance(Duration::from_millis(10));
    assert_eq!(net.reported(), [("P2".to_string(), 9.0)]);
}

/// An association the link ends by itself (the keepalive found no answer, or the link is
/// aborted) ends with an ABORT the server receives, not with a bare transport close.
#[test]
fn the_links_own_abort_reaches_the_server_before_the_transport_closes() {
    let mut c = config(1);
    c.keepalive = Some(Keepalive {
        interval: Duration::from_secs(2),
        timeout: Duration::from_secs(3),
    });
    let mut net = Net::new(c, vec![Some(server(0.0))]);
    net.until(Duration::from_secs(1), |e| {
        matches!(e, FailoverEvent::Up { endpoint: 0 })
    });
    // No answers, but what the client sends still arrives (a one-way fault): the ABORT after
    // the keepalive's timeout is heard.
    net.mute_answers = true;
    net.until(Duration::from_secs(10), |e| {
        matches!(e, FailoverEvent::Lost { .. })
    });
    net.mute_answers = false;
    assert!(
        matches!(
            net.ended.as_slice(),
            [(0, Some(AssocError::AbortedByPeer(_)))]
        ),
        "{:?}",
        net.ended
    );
    net.until(Duration::from_secs(30), |e| {
        matches!(e, FailoverEvent::Up { endpoint: 0 })
    });
    net.fo.abort(net.now);
    net.deliver();
    assert!(
        matches!(
            net.ended.as_slice(),
            [_, (0, Some(AssocError::AbortedByPeer(_)))]
        ),
        "{:?}",
        net.ended
    );
    assert!(net.fo.is_closed());
}

#[test]
fn the_server_reclaims_the_transfer_sets_and_selects_of_a_dead_association() {
    // One transfer set in the pool: a client that comes back must get it again.
    let mut sim: Sim<Tase2> = Sim::new(server_with(0.0, 1), t0());
    let c = sim.connect(association(), SessionConfig::default());
    sim.run(
        c,
        Command::DefineDataSet {
            name: icc1("DS_Watch"),
            members: members(),
        },
    )
    .unwrap();
    let Ok(Outcome::TransferSet(ts)) = sim.run(
        c,
        Command::ReserveAndStart {
            domain: "ICC1".into(),
            value: rbe(),
        },
    ) else {
        panic!()
    };
    let brk = icc1("Brk1_Cmd");
    assert_eq!(
        sim.run(
            c,
            Command::Select {
                device: brk.clone()
            }
        ),
        Ok(Outcome::CheckBackId(7))
    );
    // The association dies without a word.
    sim.disconnect(c);
    sim.reconnect(c, association(), SessionConfig::default());
    assert!(sim.client(c).session.is_established());
    assert_eq!(sim.server.tase2().transfer_set(&ts).unwrap().0, None);
    let again = sim.run(
        c,
        Command::ReserveAndStart {
            domain: "ICC1".into(),
            value: rbe(),
        },
    );
    assert_eq!(again, Ok(Outcome::TransferSet(ts)));
    // The select it held went with it: selecting again is not refused as held by another.
    assert_eq!(
        sim.run(c, Command::Select { device: brk }),
        Ok(Outcome::CheckBackId(7))
    );
}

/// A recording sink the test can read after the session is gone.
struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl tase2_core::record::RecordSink for Shared {
    fn write(&mut self, _at: Instant, frame: &[u8]) {
        self.0.lock().unwrap().extend_from_slice(frame);
    }
}

#[test]
fn each_association_of_a_failover_records_itself_and_replays() {
    type Logs =
        std::sync::Arc<std::sync::Mutex<Vec<(usize, std::sync::Arc<std::sync::Mutex<Vec<u8>>>)>>>;
    let logs: Logs = Default::default();
    let mut fo = Failover::new(config(2), t0());
    let l2 = logs.clone();
    fo.set_recorder(Box::new(move |endpoint| {
        let buf = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        l2.lock().unwrap().push((endpoint, buf.clone()));
        Some(Box::new(Shared(buf)))
    }));
    let mut net = Net::with(fo, vec![Some(server(0.0)), Some(server(100.0))]);
    net.until(Duration::from_secs(1), |e| {
        matches!(e, FailoverEvent::Up { endpoint: 0 })
    });
    set_up(&mut net);
    net.update(0, "P1", 2.0);
    net.advance(Duration::from_secs(20));
    net.kill(0);
    net.until(Duration::from_secs(5), |e| {
        matches!(e, FailoverEvent::Restored { endpoint: 1, .. })
    });
    net.update(1, "P2", 3.0);
    net.advance(Duration::from_secs(20));
    let logs = logs.lock().unwrap();
    assert_eq!(logs.iter().map(|l| l.0).collect::<Vec<_>>(), [0, 1]);
    for (endpoint, log) in logs.iter() {
        let log = log.lock().unwrap();
        let stats = tase2_core::record::replay_session(&log)
            .unwrap_or_else(|e| panic!("endpoint {endpoint}: {e}"));
        assert!(stats.inputs > 5 && stats.output_bytes > 0, "{stats:?}");
    }
}

#[test]
fn a_whole_failover_run_records_and_replays_octet_for_octet() {
    let mut c = config(2);
    c.fail_back = Some(Duration::from_secs(2));
    let mut fo = Failover::new(c, t0());
    fo.record(Box::new(Vec::<u8>::new()), "failover test")
        .unwrap();
    let mut net = Net::with(fo, vec![Some(server(0.0)), Some(server(100.0))]);
    net.until(Duration::from_secs(1), |e| {
        matches!(e, FailoverEvent::Up { endpoint: 0 })
    });
    let ts = set_up(&mut net);
    net.update(0, "P1", 2.0);
    net.advance(Duration::from_secs(20));
    net.kill(0);
    net.until(Duration::from_secs(5), |e| {
        matches!(e, FailoverEvent::Restored { endpoint: 1, .. })
    });
    net.update(1, "P2", 3.0);
    net.advance(Duration::from_secs(5));
    net.start(0, server(0.0));
    net.until(Duration::from_secs(5), |e| {
        matches!(e, FailoverEvent::Restored { endpoint: 0, .. })
    });
    net.run(Command::StopTransferSet { transfer_set: ts })
        .unwrap();
    net.fo.conclude(net.now);
    net.advance(Duration::from_secs(1));
    assert!(net.fo.is_closed());
    let log = net.fo.recording().unwrap().to_vec();
    let stats = tase2_core::record::replay_failover(&log).unwrap();
    // Three associations: primary, backup, primary again; every octet of each checked.
    assert_eq!(stats.connections, 3, "{stats:?}");
    assert!(stats.output_bytes > 1000, "{stats:?}");
    // A recording of something else is refused, not misread.
    let mut s =
        tase2_core::tase2::client::Session::new(association(), SessionConfig::default(), t0());
    s.record(Box::new(Vec::<u8>::new()), "a session").unwrap();
    let other = s.recording().unwrap().to_vec();
    assert!(tase2_core::record::replay_failover(&other).is_err());
    // Recording must start on a fresh link.
    let mut late = Failover::new(config(1), t0());
    late.handle_connect_failed(t0(), 0);
    assert!(late.record(Box::new(Vec::<u8>::new()), "late").is_err());
}

/// FNV-1a, 64 bits: how the fingerprint of a recording made before 2026-12 was computed (over
/// the configuration's `Debug` text).
fn fnv1a64(octets: &[u8]) -> u64 {
    octets.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[test]
fn a_failover_recording_with_the_older_fingerprint_still_replays() {
    use tase2_core::record::{format, Reader, ReplayError};
    let mut c = config(2);
    c.fail_back = Some(Duration::from_secs(3));
    let mut fo = Failover::new(c.clone(), t0());
    fo.record(Box::new(Vec::<u8>::new()), "failover test")
        .unwrap();
    let mut net = Net::with(fo, vec![None, Some(server(100.0))]);
    net.until(Duration::from_secs(2), |e| {
        matches!(e, FailoverEvent::Up { endpoint: 1 })
    });
    net.fo.conclude(net.now);
    net.advance(Duration::from_secs(1));
    let log = net.fo.recording().unwrap().to_vec();
    let mut reader = Reader::new(&log).unwrap();
    let mut header = reader.header().clone();
    let entries = reader.by_ref().collect::<Result<Vec<_>, _>>().unwrap();
    assert_eq!(header.fingerprint, net.fo.fingerprint());
    // Another configuration, another fingerprint.
    c.seed += 1;
    assert_ne!(Failover::new(c, t0()).fingerprint(), header.fingerprint);
    let mut with = |fingerprint: u64| {
        header.fingerprint = fingerprint;
        let mut out = Vec::new();
        format::write_header(&mut out, &header);
        for e in &entries {
            format::write_entry(&mut out, e);
        }
        tase2_core::record::replay_failover(&out)
    };
    let legacy = fnv1a64(format!("{:?}", net.fo.config()).as_bytes());
    assert_ne!(legacy, net.fo.fingerprint());
    let stats = with(legacy).unwrap();
    // The primary refused the transport: the backup's is the one association.
    assert_eq!(stats.connections, 1, "{stats:?}");
    assert!(stats.output_bytes > 0, "{stats:?}");
    assert!(matches!(
        with(legacy ^ 1),
        Err(ReplayError::Fingerprint { .. })
    ));
}

#[test]
fn setup_beyond_the_bound_runs_but_is_not_remembered() {
    let mut c = config(1);
    c.max_remembered = 1;
    let mut net = Net::new(c, vec![Some(server(0.0))]);
    net.run(Command::DefineDataSet {
        name: icc1("DS_Watch"),
        members: members(),
    })
    .unwrap();
    net.run(Command::DefineDataSet {
        name: icc1("DS_Two"),
        members: vec![icc1("P1")],
    })
    .unwrap();
    let not = net.take(|e| matches!(e, FailoverEvent::NotRemembered(_)));
    assert_eq!(not.len(), 1);
    assert_eq!(not[0].1, FailoverEvent::NotRemembered(icc1("DS_Two")));
    assert_eq!(
        net.fo.remembered_data_sets().collect::<Vec<_>>(),
        [&icc1("DS_Watch")]
    );
    // Redefining a remembered one is not a new entry.
    net.run(Command::DeleteDataSet {
        name: icc1("DS_Watch"),
    })
    .unwrap();
    assert_eq!(net.fo.remembered_data_sets().count(), 0);
}

#[test]
fn a_critical_transfer_set_on_a_1996_backup_is_restored_and_its_reports_acknowledged() {
    let mut net = Net::new(
        config(2),
        vec![
            Some(server(0.0)),
            Some(server_of(100.0, 2, Edition::V1996_08)),
        ],
    );
    assert_eq!(
        net.run(Command::Version),
        Ok(Outcome::Version(Edition::V2000_08))
    );
    start_critical(&mut net, true);
    net.advance(Duration::from_secs(20));
    net.kill(0);
    let r = net.until(Duration::from_secs(5), |e| {
        matches!(e, FailoverEvent::Restored { .. })
    });
    assert!(
        matches!(r, FailoverEvent::Restored { endpoint: 1, ref failed, .. } if failed.is_empty()),
        "{r:?}"
    );
    // The edition was read again: the 12-component structure of 1996.08 went out.
    assert_eq!(net.fo.session().unwrap().edition(), Edition::V1996_08);
    net.update(1, "P1", 5.0);
    net.advance(Duration::from_millis(10));
    let reports = reports(&mut net);
    assert_eq!(reports.len(), 1);
    assert!(
        reports[0].acknowledged,
        "a critical report of the restored transfer set is acknowledged"
    );
}

/// The reports taken from the events so far.
fn reports(net: &mut Net) -> Vec<tase2_core::tase2::client::TypedReport> {
    net.take(|e| matches!(e, FailoverEvent::Session(SessionEvent::Report(_))))
        .into_iter()
        .map(|(_, e)| match e {
            FailoverEvent::Session(SessionEvent::Report(r)) => r,
            _ => unreachable!(),
        })
        .collect()
}

#[test]
fn with_auto_ack_off_the_application_acknowledges_critical_reports_across_a_failover() {
    let mut c = config(2);
    c.session.auto_ack = false;
    let mut fo = Failover::new(c, t0());
    fo.record(Box::new(Vec::<u8>::new()), "ack test").unwrap();
    let mut net = Net::with(fo, vec![Some(server(0.0)), Some(server(100.0))]);
    net.until(Duration::from_secs(1), |e| {
        matches!(e, FailoverEvent::Up { endpoint: 0 })
    });
    assert!(!net.fo.auto_ack());
    let ts = start_critical(&mut net, false);
    reports(&mut net);

    // On the primary: the report comes unacknowledged; the application's ACK reaches the server.
    net.update(0, "P1", 5.0);
    net.advance(Duration::from_millis(10));
    let r = reports(&mut net);
    assert_eq!(r.len(), 1, "{r:?}");
    assert!(!r[0].acknowledged);
    let (name, stamp) = (r[0].transfer_set.clone().unwrap(), r[0].timestamp.unwrap());
    assert_eq!(name, ts);
    net.fo.ack(net.now, &name, stamp).unwrap();
    net.deliver();
    assert!(
        matches!(&net.acks[..], [(0, Tase2Event::ReportAcked { name: n, timestamp, .. })]
            if *n == ts && *timestamp == stamp),
        "{:?}",
        net.acks
    );

    net.kill(0);
    net.until(Duration::from_secs(5), |e| {
        matches!(e, FailoverEvent::Restored { endpoint: 1, .. })
    });
    reports(&mut net);
    let current = net.fo.current_transfer_set(&ts).unwrap().clone();

    // On the backup the application may still use the name it first got: it is mapped.
    net.update(1, "P1", 6.0);
    net.advance(Duration::from_millis(10));
    let r = reports(&mut net);
    assert_eq!(r.len(), 1, "{r:?}");
    assert!(!r[0].acknowledged);
    assert_eq!(r[0].transfer_set.as_ref(), Some(&current));
    let stamp = r[0].timestamp.unwrap();
    net.fo.ack(net.now, &ts, stamp).unwrap();
    net.update(1, "P2", 7.0);
    net.advance(Duration::from_millis(10));
    let r = reports(&mut net);
    assert_eq!(r.len(), 1, "{r:?}");
    net.fo.nack(net.now, &current).unwrap();
    net.deliver();
    assert!(
        matches!(&net.acks[1..], [
            (1, Tase2Event::ReportAcked { name: a, timestamp, .. }),
            (1, Tase2Event::ReportNacked { name: b, .. }),
        ] if *a == current && *b == current && *timestamp == stamp),
        "{:?}",
        net.acks
    );

    // Auto-acknowledgement back on: the next report is acknowledged inside the session.
    net.fo.set_auto_ack(net.now, true);
    assert!(net.fo.auto_ack());
    net.update(1, "P3", 8.0);
    net.advance(Duration::from_millis(10));
    let r = reports(&mut net);
    assert_eq!(r.len(), 1, "{r:?}");
    assert!(r[0].acknowledged);
    assert!(
        matches!(net.acks.last(), Some((1, Tase2Event::ReportAcked { name, .. })) if *name == current),
        "{:?}",
        net.acks
    );
    assert_eq!(net.acks.len(), 4);

    // The calls are in the link's recording and replay octet for octet.
    net.fo.conclude(net.now);
    net.advance(Duration::from_secs(1));
    let log = net.fo.recording().unwrap().to_vec();
    let stats = tase2_core::record::replay_failover(&log).unwrap();
    assert_eq!(stats.connections, 2, "{stats:?}");

    // With no association up there is nothing to acknowledge on.
    let mut idle = Failover::new(config(1), t0());
    assert!(matches!(idle.ack(t0(), &ts, stamp), Err(Error::Closed(_))));
    assert!(matches!(idle.nack(t0(), &ts), Err(Error::Closed(_))));
}
