//! The server under load and attack, on the virtual clock: the handshake pool and its deadline,
//! the per-source and association limits, idle associations, and a slow reader whose output is
//! capped while its transfer set keeps every change for later (and the others see no delay).

use core::net::{IpAddr, Ipv4Addr};
use core::time::Duration;

use tase2_core::acse::AssociateResult;
use tase2_core::assoc::{AssocError, AssociationConfig, RefusalReason};
use tase2_core::mms::ObjectName;
use tase2_core::server::{AdmissionEvent, ConnectionId, OpenError, ServerConfig, ServerEvent};
use tase2_core::sim::Sim;
use tase2_core::tase2::client::{Command, Outcome, SessionConfig, SessionEvent};
use tase2_core::tase2::server::{Tase2, Tase2Builder, Tase2Config};
use tase2_core::tase2::{
    BilateralTable, ClientMatch, DsConditions, DsTransferSetValue, Family, Form, PointType,
    PointValue, Value,
};
use tase2_core::Instant;

const RQT: PointType = PointType::Indication(Family::Real, Form::QTimeTag);
const POINTS: usize = 40;

fn icc1(item: &str) -> ObjectName {
    ObjectName::domain("ICC1", item)
}

fn server(config: ServerConfig) -> Sim<Tase2> {
    server_with(config, Tase2Config::default())
}

fn server_with(config: ServerConfig, tase2: Tase2Config) -> Sim<Tase2> {
    let mut b = Tase2Builder::new(Tase2Config {
        local_ap_title: Some("1.1.1.998".parse().unwrap()),
        ..tase2
    });
    b.domain("ICC1", 8).unwrap();
    for n in 0..POINTS {
        b.point(Some("ICC1"), &format!("P{n}"), RQT, PointValue::real(0.0))
            .unwrap();
    }
    b.table(BilateralTable::new(
        "BLT_1",
        ClientMatch::ap_title(&[1, 1, 1, 999], 12),
        "ICC1",
    ))
    .unwrap();
    let ep = b.build(config).unwrap();
    Sim::new(ep, Instant::virtual_at(Duration::ZERO, 1_700_000_000))
}

fn association() -> AssociationConfig {
    AssociationConfig::with_ap_titles(
        ("1.1.1.999".parse().unwrap(), 12),
        ("1.1.1.998".parse().unwrap(), 12),
    )
}

fn admissions(s: &Sim<Tase2>) -> Vec<AdmissionEvent> {
    s.server_events
        .iter()
        .filter_map(|e| match e {
            ServerEvent::Admission(a) => Some(a.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn stalled_handshakes_never_lock_a_real_client_out() {
    let mut s = server(ServerConfig {
        max_pending: 8,
        ..ServerConfig::default()
    });
    // 50 sockets that send half a TPKT header and stall.
    let stalled: Vec<ConnectionId> = (0..50)
        .map(|_| {
            let id = s.server.open(s.now).unwrap();
            s.server.handle_input(s.now, id, &[3, 0]);
            id
        })
        .collect();
    assert_eq!(s.server.connection_counts(), (8, 0), "the pool holds 8");
    let c = s.connect(association(), SessionConfig::default());
    assert!(s.client(c).session.is_established());
    assert_eq!(s.server.connection_counts(), (7, 1));
    let a = admissions(&s);
    // Each newcomer pushed out the oldest stalled one, never a working association.
    assert_eq!(
        a.iter()
            .filter(|e| matches!(e, AdmissionEvent::PendingPoolFull { limit: 8, .. }))
            .count(),
        43
    );
    assert_eq!(
        a[0],
        AdmissionEvent::PendingPoolFull {
            id: stalled[0],
            limit: 8
        }
    );
    // The rest miss their handshake deadline; the client is untouched.
    s.advance(Duration::from_secs(6));
    let timeouts = admissions(&s)
        .into_iter()
        .filter(|e| matches!(e, AdmissionEvent::HandshakeTimeout { .. }))
        .count();
    assert_eq!(timeouts, 7);
    assert_eq!(s.server.connection_counts(), (0, 1));
    assert!(matches!(
        s.run(c, Command::Version),
        Ok(Outcome::Version(_))
    ));
}

#[test]
fn one_source_may_hold_only_its_share() {
    let mut s = server(ServerConfig {
        max_per_source: 3,
        ..ServerConfig::default()
    });
    let a = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    let b = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));
    let ids: Vec<_> = (0..3)
        .map(|_| s.server.open_from(s.now, a).unwrap())
        .collect();
    assert_eq!(s.server.open_from(s.now, a), Err(OpenError::SourceLimit));
    assert!(
        s.server.open_from(s.now, b).is_ok(),
        "another source is not affected"
    );
    s.deliver();
    assert!(admissions(&s).contains(&AdmissionEvent::SourceLimit {
        source: a,
        limit: 3
    }));
    // A connection of `a` that ends gives its slot back.
    s.server.handle_transport_closed(s.now, ids[0]);
    let mut buf = Vec::new();
    s.server.poll_transmit(ids[0], &mut buf);
    assert!(s.server.open_from(s.now, a).is_ok());
}

#[test]
fn beyond_the_association_limit_the_client_hears_a_transient_refusal() {
    let mut s = server(ServerConfig {
        max_associations: 1,
        ..ServerConfig::default()
    });
    let first = s.connect(association(), SessionConfig::default());
    assert!(s.client(first).session.is_established());
    let second = s.connect(association(), SessionConfig::default());
    assert!(!s.client(second).session.is_established());
    let refused = s.client(second).events.iter().any(|e| {
        matches!(
            e,
            SessionEvent::Closed(Some(AssocError::Refused(RefusalReason::Acse {
                result: AssociateResult::RejectedTransient,
                ..
            })))
        )
    });
    assert!(refused, "{:?}", s.client(second).events);
    assert!(admissions(&s)
        .iter()
        .any(|e| matches!(e, AdmissionEvent::AssociationLimit { limit: 1, .. })));
    // The first one is unaffected; once it leaves, a newcomer gets in.
    assert!(s.run(first, Command::Version).is_ok());
    s.disconnect(first);
    let third = s.connect(association(), SessionConfig::default());
    assert!(s.client(third).session.is_established());
}

#[test]
fn an_idle_association_is_closed_when_asked() {
    let mut s = server(ServerConfig {
        idle_timeout: Some(Duration::from_secs(60)),
        ..ServerConfig::default()
    });
    let c = s.connect(association(), SessionConfig::default());
    s.advance(Duration::from_secs(59));
    assert!(s.client(c).session.is_established());
    s.advance(Duration::from_secs(2));
    assert!(admissions(&s)
        .iter()
        .any(|e| matches!(e, AdmissionEvent::Idle { .. })));
    assert!(s.client(c).session.is_closed());
}

/// Move bytes like `Sim::deliver`, except that the server's output to `stalled` stays queued
/// (a peer that stopped reading).
fn pump(s: &mut Sim<Tase2>, stalled: Option<usize>) {
    for _ in 0..1000 {
        let mut moved = false;
        let mut buf = Vec::new();
        for i in 0..s.clients.len() {
            let now = s.now;
            let c = &mut s.clients[i];
            buf.clear();
            if c.session.poll_transmit(&mut buf) > 0 {
                moved = true;
                s.server.handle_input(now, c.conn, &buf);
            }
            if Some(i) == stalled {
                continue;
            }
            buf.clear();
            if s.server.poll_transmit(c.conn, &mut buf) > 0 {
                moved = true;
                c.session.handle_input(now, &buf);
            }
            while let Some(e) = c.session.poll_event() {
                c.events.push(e);
            }
        }
        while let Some(e) = s.server.poll_event() {
            s.server_events.push(e);
        }
        if !moved {
            return;
        }
    }
}

fn start_rbe(s: &mut Sim<Tase2>, c: usize) {
    start(s, c, false);
}

fn start(s: &mut Sim<Tase2>, c: usize, all_changes_reported: bool) {
    let ds = icc1(&format!("DS_{c}"));
    let mut members: Vec<ObjectName> = [
        "Transfer_Set_Name",
        "Transfer_Set_Time_Stamp",
        "DSConditions_Detected",
        "Event_Code_Detected",
    ]
    .map(icc1)
    .to_vec();
    members.extend((0..POINTS).map(|n| icc1(&format!("P{n}"))));
    assert_eq!(
        s.run(
            c,
            Command::DefineDataSet {
                name: ds.clone(),
                members
            }
        ),
        Ok(Outcome::Unit)
    );
    assert!(matches!(
        s.run(
            c,
            Command::ReserveAndStart {
                domain: "ICC1".into(),
                value: DsTransferSetValue {
                    data_set: ds,
                    conditions: DsConditions::OBJECT_CHANGE,
                    rbe: true,
                    all_changes_reported,
                    ..Default::default()
                },
            },
        ),
        Ok(Outcome::TransferSet(_))
    ));
}

/// The latest value of every point as the client's reports left it.
fn latest(s: &Sim<Tase2>, c: usize) -> Vec<Option<f32>> {
    let mut v = vec![None; POINTS];
    for e in &s.clients[c].events {
        if let SessionEvent::Report(r) = e {
            for (name, value) in r.points() {
                let n: usize = name.item()[1..].parse().unwrap();
                if let Value::Real(x) = value.value {
                    v[n] = Some(x);
                }
            }
        }
    }
    v
}

#[test]
fn a_slow_reader_gets_every_latest_value_and_delays_nobody() {
    let mut s = server(ServerConfig {
        max_queued_output: 4_000,
        stuck_timeout: Duration::from_secs(120),
        ..ServerConfig::default()
    });
    let slow = s.connect(association(), SessionConfig::default());
    let fast = s.connect(association(), SessionConfig::default());
    start_rbe(&mut s, slow);
    start_rbe(&mut s, fast);
    // 30 s during which `slow` reads nothing while every point changes every second; the fast
    // reader is current after every change.
    changes_while_blocked(&mut s, slow, 30, |s, k| {
        let want: Vec<_> = (0..POINTS).map(|n| Some((k * 100 + n) as f32)).collect();
        assert_eq!(latest(s, fast), want, "second {k}");
    });
    let slow_conn = s.clients[slow].conn;
    assert!(
        !s.server.wants_input(slow_conn),
        "input is on hold while its output is backed up"
    );
    let held_back = s.server.queued_output(slow_conn);
    assert!(
        held_back <= 4_000 + 65_000,
        "output stayed bounded: {held_back}"
    );
    // It reads again: the latest value of every point arrives.
    pump(&mut s, None);
    let want: Vec<_> = (0..POINTS).map(|n| Some((3000 + n) as f32)).collect();
    assert_eq!(latest(&s, slow), want);
    assert!(s.server.wants_input(slow_conn));
    assert!(!admissions(&s)
        .iter()
        .any(|e| matches!(e, AdmissionEvent::StuckReader { .. })));
}

#[test]
fn a_reader_stuck_past_its_time_is_disconnected() {
    let mut s = server(ServerConfig {
        max_queued_output: 2_000,
        stuck_timeout: Duration::from_secs(20),
        ..ServerConfig::default()
    });
    let c = s.connect(association(), SessionConfig::default());
    start_rbe(&mut s, c);
    change_while_blocked(&mut s, c, 30);
    let conn = s.clients[c].conn;
    assert!(admissions(&s).iter().any(|e| matches!(
        e,
        AdmissionEvent::StuckReader { id, after, .. } if *id == conn && *after == Duration::from_secs(20)
    )));
    assert!(s
        .server_events
        .iter()
        .any(|e| matches!(e, ServerEvent::Closed { id, .. } if *id == conn)));
}

/// Blocked for `rounds` seconds with every point changing each second.
fn change_while_blocked(s: &mut Sim<Tase2>, c: usize, rounds: usize) {
    changes_while_blocked(s, c, rounds, |_, _| {});
}

/// [`change_while_blocked`], calling `after` with the round once its change went out.
fn changes_while_blocked(
    s: &mut Sim<Tase2>,
    c: usize,
    rounds: usize,
    mut after: impl FnMut(&Sim<Tase2>, usize),
) {
    for k in 1..=rounds {
        let now = s.now;
        let updates: Vec<_> = (0..POINTS)
            .map(|n| {
                let p = s.server.tase2().point_id(&icc1(&format!("P{n}"))).unwrap();
                (p, PointValue::real((k * 100 + n) as f32))
            })
            .collect();
        s.server.update_many(now, updates);
        pump(s, Some(c));
        after(s, k);
        s.now = s.now + Duration::from_secs(1);
        s.server.handle_timeout(s.now);
        pump(s, Some(c));
    }
}

#[test]
fn all_changes_reported_under_back_pressure_is_bounded_and_its_overflow_reported() {
    let mut s = server_with(
        ServerConfig {
            max_queued_output: 2_000,
            ..ServerConfig::default()
        },
        Tase2Config {
            max_buffered_changes: 100,
            ..Tase2Config::default()
        },
    );
    let c = s.connect(association(), SessionConfig::default());
    start(&mut s, c, true);
    change_while_blocked(&mut s, c, 10);
    let dropped: usize = s
        .server_events
        .iter()
        .filter_map(|e| match e {
            ServerEvent::Extension(tase2_core::tase2::server::Tase2Event::ChangesDropped {
                count,
                ..
            }) => Some(*count),
            _ => None,
        })
        .sum();
    // 400 changes, a buffer of 100, and whatever left before the cap was reached: never silent.
    assert!(dropped >= 200, "dropped {dropped}");
    pump(&mut s, None);
    // What was kept arrives; the newest change of every point is among it.
    let want: Vec<_> = (0..POINTS).map(|n| Some((1000 + n) as f32)).collect();
    assert_eq!(latest(&s, c), want);
}

#[test]
fn a_peer_that_floods_input_while_its_output_is_held_is_dropped() {
    let mut s = server(ServerConfig {
        max_queued_output: 2_000,
        ..ServerConfig::default()
    });
    let c = s.connect(association(), SessionConfig::default());
    start_rbe(&mut s, c);
    change_while_blocked(&mut s, c, 5);
    let conn = s.clients[c].conn;
    assert!(!s.server.wants_input(conn));
    // Input beyond the held-input bound: the association goes, with the reason.
    let now = s.now;
    s.server.handle_input(now, conn, &[0u8; 1500]);
    s.server.handle_input(now, conn, &[0u8; 1500]);
    pump(&mut s, Some(c));
    assert!(admissions(&s).contains(&AdmissionEvent::InputFlood {
        id: conn,
        limit: 2_000
    }));
    assert!(s
        .server_events
        .iter()
        .any(|e| matches!(e, ServerEvent::Closed { id, .. } if *id == conn)));
}

#[test]
fn poll_ready_names_a_connection_with_output_and_leaves_its_bytes() {
    let mut s = server(ServerConfig::default());
    let c = s.connect(association(), SessionConfig::default());
    start_rbe(&mut s, c);
    let conn = s.clients[c].conn;
    assert_eq!(s.server.poll_ready(), None, "nothing waits");
    let p = s.server.tase2().point_id(&icc1("P0")).unwrap();
    s.server.update(s.now, p, PointValue::real(1.0));
    assert_eq!(s.server.poll_ready(), Some(conn));
    assert_eq!(s.server.poll_ready(), None, "named once");
    let queued = s.server.queued_output(conn);
    assert!(queued > 0, "its report stays in the endpoint");
    // A driver that could not take the bytes hears of the connection again on new output.
    s.server.update(s.now, p, PointValue::real(2.0));
    assert_eq!(s.server.poll_ready(), Some(conn));
    assert!(s.server.queued_output(conn) > queued);
    let mut buf = Vec::new();
    assert!(s.server.poll_transmit(conn, &mut buf) > 0);
    // A closed connection is named too, and known until its last bytes are taken.
    s.server.abort(s.now, conn);
    assert!(s.server.is_open(conn));
    assert_eq!(s.server.poll_ready(), Some(conn));
    s.server.poll_transmit(conn, &mut buf);
    assert!(!s.server.is_open(conn));
    assert_eq!(s.server.poll_ready(), None);
}
