//! The simulator's scripted faults, each seen from the application: a stalled server makes a
//! request time out, a stalled client gets its reports late but all of them in order, a dropped
//! connection closes both sides, a restarted server forgets its transfer sets, slow and chunked
//! links change timing but not results, and a seed makes a run repeat exactly.

use core::time::Duration;

use tase2_core::assoc::{AssocError, AssociationConfig, RequestError};
use tase2_core::mms::ObjectName;
use tase2_core::server::{Endpoint, ServerConfig, ServerEvent};
use tase2_core::sim::{Delivery, Direction, LinkConfig, Sim};
use tase2_core::tase2::client::{Command, Error, Outcome, SessionConfig, SessionEvent};
use tase2_core::tase2::server::{Tase2, Tase2Builder, Tase2Config, Tase2Event};
use tase2_core::tase2::{
    BilateralTable, ClientMatch, DsConditions, DsTransferSetValue, Family, Form, PointType,
    PointValue, Value,
};
use tase2_core::Instant;

const RQT: PointType = PointType::Indication(Family::Real, Form::QTimeTag);
const POINTS: usize = 10;

fn icc1(item: &str) -> ObjectName {
    ObjectName::domain("ICC1", item)
}

/// ICC1 with P1..P10 in one data set, open to the client 1.1.1.999.
fn server() -> Endpoint<Tase2> {
    let mut b = Tase2Builder::new(Tase2Config {
        local_ap_title: Some("1.1.1.998".parse().unwrap()),
        ..Tase2Config::default()
    });
    b.domain("ICC1", 2).unwrap();
    let mut members = vec![
        "Transfer_Set_Name".to_string(),
        "Transfer_Set_Time_Stamp".into(),
        "DSConditions_Detected".into(),
    ];
    for n in 1..=POINTS {
        b.point(Some("ICC1"), &format!("P{n}"), RQT, PointValue::real(0.0))
            .unwrap();
        members.push(format!("P{n}"));
    }
    let members: Vec<&str> = members.iter().map(String::as_str).collect();
    b.data_set(Some("ICC1"), "DS1", &members).unwrap();
    b.table(BilateralTable::new(
        "BLT_1",
        ClientMatch::ap_title(&[1, 1, 1, 999], 12),
        "ICC1",
    ))
    .unwrap();
    b.build(ServerConfig::default()).unwrap()
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

fn sim(seed: u64, link: LinkConfig) -> (Sim<Tase2>, usize) {
    let mut s = Sim::new(server(), t0()).with_seed(seed);
    s.default_link = link;
    let c = s.connect(association(), SessionConfig::default());
    assert!(s.client(c).session.is_established());
    (s, c)
}

/// Start an RBE transfer set over DS1 (reports when a point changes, integrity every 60 s).
fn start_rbe(s: &mut Sim<Tase2>, c: usize) {
    let r = s.run(
        c,
        Command::ReserveAndStart {
            domain: "ICC1".into(),
            value: DsTransferSetValue {
                data_set: icc1("DS1"),
                integrity_check: 60,
                conditions: DsConditions::INTEGRITY | DsConditions::OBJECT_CHANGE,
                rbe: true,
                ..Default::default()
            },
        },
    );
    assert!(matches!(r, Ok(Outcome::TransferSet(_))), "{r:?}");
}

fn update(s: &mut Sim<Tase2>, item: &str, v: f32) {
    let now = s.now;
    let p = s.server.tase2().point_id(&icc1(item)).unwrap();
    s.server.update(now, p, PointValue::real(v));
}

/// The point values client `c` received in reports so far, in arrival order (taken).
fn reported(s: &mut Sim<Tase2>, c: usize) -> Vec<(String, f32)> {
    s.take_events(c, |e| matches!(e, SessionEvent::Report(_)))
        .into_iter()
        .flat_map(|e| match e {
            SessionEvent::Report(r) => r
                .points()
                .map(|(n, p)| match p.value {
                    Value::Real(v) => (n.item().to_string(), v),
                    ref other => panic!("{other:?}"),
                })
                .collect::<Vec<_>>(),
            _ => unreachable!(),
        })
        .collect()
}

fn read_p1(s: &mut Sim<Tase2>, c: usize) -> Result<Outcome, Error> {
    s.run(
        c,
        Command::ReadPoints {
            names: vec![icc1("P1")],
        },
    )
}

#[test]
fn a_server_stall_longer_than_the_request_timeout_fails_the_request() {
    let (mut s, c) = sim(1, LinkConfig::default());
    assert!(read_p1(&mut s, c).is_ok());
    let t = s.now;
    s.stall_server(Duration::from_secs(30));
    assert_eq!(
        read_p1(&mut s, c),
        Err(Error::Request(RequestError::Timeout))
    );
    // It failed when the client's request timeout ran out, not when the stall ended.
    assert_eq!(
        s.now.saturating_duration_since(t),
        AssociationConfig::default().request_timeout
    );
    assert!(s.is_server_stalled());
    assert!(s.in_flight(c, Direction::ToServer) > 0, "the request waits");
    // The stall ends: the server reads the old request and answers it; the session drops the
    // late answer and goes on serving new requests.
    s.advance(Duration::from_secs(25));
    assert!(!s.is_server_stalled());
    assert_eq!(s.in_flight(c, Direction::ToServer), 0);
    assert!(s.client(c).session.is_established());
    assert!(read_p1(&mut s, c).is_ok());
}

#[test]
fn a_short_server_stall_only_delays_the_answer() {
    let (mut s, c) = sim(1, LinkConfig::default());
    assert!(read_p1(&mut s, c).is_ok());
    let t = s.now;
    s.stall_server(Duration::from_secs(3));
    assert!(read_p1(&mut s, c).is_ok());
    assert_eq!(s.now.saturating_duration_since(t), Duration::from_secs(3));
}

#[test]
fn reports_to_a_stalled_client_queue_and_arrive_in_order_when_it_resumes() {
    let (mut s, c) = sim(1, LinkConfig::default());
    start_rbe(&mut s, c);
    reported(&mut s, c);
    s.stall_client(c, Duration::from_secs(30));
    for k in 1..=20 {
        update(&mut s, "P1", k as f32);
        s.advance(Duration::from_secs(1));
    }
    assert!(reported(&mut s, c).is_empty(), "nothing read while stalled");
    assert!(s.in_flight(c, Direction::ToClient) > 0);
    s.advance(Duration::from_secs(10));
    let got: Vec<f32> = reported(&mut s, c)
        .into_iter()
        .filter(|(n, _)| n == "P1")
        .map(|(_, v)| v)
        .collect();
    assert_eq!(got, (1..=20).map(|k| k as f32).collect::<Vec<_>>());
    assert_eq!(s.in_flight(c, Direction::ToClient), 0);
    assert!(s.client(c).session.is_established());
}

#[test]
fn a_dropped_connection_closes_both_sides_and_stops_the_transfer_set() {
    let (mut s, c) = sim(1, LinkConfig::default());
    start_rbe(&mut s, c);
    let conn = s.client(c).conn;
    s.disconnect(c);
    let closed = s.take_events(c, |e| matches!(e, SessionEvent::Closed(_)));
    assert_eq!(
        closed,
        [SessionEvent::Closed(Some(AssocError::TransportClosed))]
    );
    assert!(s.server_events().iter().any(|e| matches!(
        e,
        ServerEvent::Closed { id, error: Some(_) } if *id == conn
    )));
    assert!(s.server_events().iter().any(|e| matches!(
        e,
        ServerEvent::Extension(Tase2Event::TransferSetStopped { id, .. }) if *id == conn
    )));
    assert!(matches!(read_p1(&mut s, c), Err(Error::Closed(Some(_)))));
}

#[test]
fn a_restarted_server_forgets_transfer_sets_and_a_reconnecting_client_starts_again() {
    let (mut s, c) = sim(1, LinkConfig::default());
    start_rbe(&mut s, c);
    update(&mut s, "P2", 5.0);
    s.advance(Duration::from_secs(1));
    assert_eq!(reported(&mut s, c), [("P2".to_string(), 5.0)]);

    s.restart_server(|_| server());
    assert!(matches!(
        s.take_events(c, |e| matches!(e, SessionEvent::Closed(_)))
            .as_slice(),
        [SessionEvent::Closed(Some(AssocError::TransportClosed))]
    ));
    assert!(!s.client(c).connected);
    // The new server starts from its model: P2 is 0 again.
    let p2 = s.server.tase2().point_id(&icc1("P2")).unwrap();
    assert_eq!(s.server.tase2().value(p2).unwrap().value, Value::Real(0.0));

    s.reconnect(c, association(), SessionConfig::default());
    assert!(s.client(c).session.is_established());
    // Associated again, but no transfer set runs: an update reports nothing.
    update(&mut s, "P2", 6.0);
    s.advance(Duration::from_secs(61));
    assert!(reported(&mut s, c).is_empty());
    // The client starts it again, and reports flow.
    start_rbe(&mut s, c);
    update(&mut s, "P2", 7.0);
    s.advance(Duration::from_secs(1));
    assert!(reported(&mut s, c).contains(&("P2".to_string(), 7.0)));
}

/// A scripted run: two transfer-set reports a second for 30 s plus reads, over `link`; returns
/// what the application saw (reported values, read results) and the delivery trace.
fn scenario(seed: u64, link: LinkConfig) -> (Vec<(String, f32)>, Vec<f32>, Vec<Delivery>) {
    let (mut s, c) = sim(seed, link);
    s.trace = Some(Vec::new());
    start_rbe(&mut s, c);
    let mut reads = Vec::new();
    for k in 0..30 {
        update(&mut s, &format!("P{}", 1 + k % POINTS), k as f32);
        update(&mut s, &format!("P{}", 1 + (k + 3) % POINTS), -(k as f32));
        s.advance(Duration::from_secs(1));
        if k % 10 == 0 {
            let Ok(Outcome::Points(v)) = read_p1(&mut s, c) else {
                panic!()
            };
            let Value::Real(x) = v[0].as_ref().unwrap().value else {
                panic!()
            };
            reads.push(x);
        }
    }
    s.advance(Duration::from_secs(2));
    (reported(&mut s, c), reads, s.trace.take().unwrap())
}

#[test]
fn chunked_delivery_of_every_octet_gives_the_same_results() {
    let (ideal, ideal_reads, ideal_trace) = scenario(1, LinkConfig::default());
    // 60 updates, less the two that set a point to the value it had (0 and -0).
    assert_eq!(ideal.len(), 58, "{ideal:?}");
    let one = LinkConfig {
        max_chunk: 1,
        ..LinkConfig::default()
    };
    let (chunked, reads, trace) = scenario(1, one);
    assert_eq!(chunked, ideal);
    assert_eq!(reads, ideal_reads);
    assert!(trace.iter().all(|d| d.len == 1));
    let octets = |t: &[Delivery]| t.iter().map(|d| d.len).sum::<usize>();
    assert_eq!(octets(&trace), octets(&ideal_trace));
}

#[test]
fn latency_delays_every_write_by_its_amount() {
    let latency = Duration::from_millis(250);
    let (mut s, c) = sim(
        1,
        LinkConfig {
            latency,
            ..LinkConfig::default()
        },
    );
    start_rbe(&mut s, c);
    s.trace = Some(Vec::new());
    let sent = s.now;
    // The report leaves at once (BufferTime 0) and arrives a latency later.
    update(&mut s, "P1", 1.0);
    s.advance(Duration::from_secs(1));
    let trace = s.trace.take().unwrap();
    assert!(!trace.is_empty());
    assert!(trace
        .iter()
        .all(|d| d.direction == Direction::ToClient && d.at == sent + latency));
    assert_eq!(reported(&mut s, c), [("P1".to_string(), 1.0)]);
}

#[test]
fn the_same_seed_repeats_a_run_and_another_seed_changes_timing_not_results() {
    let rough = LinkConfig {
        latency: Duration::from_millis(20),
        jitter: Duration::from_millis(200),
        max_chunk: 64,
    };
    let a = scenario(42, rough);
    let b = scenario(42, rough);
    assert_eq!(a, b, "same seed, same run");
    let other = scenario(43, rough);
    assert_ne!(other.2, a.2, "another seed draws other chunks and delays");
    assert_eq!((&other.0, &other.1), (&a.0, &a.1), "and the same results");
}
