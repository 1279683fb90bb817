//! TASE.2 over mio on 127.0.0.1: a `MioServer<Tase2>` on a thread against the blocking
//! `MioTase2Client` (blocks 1, 2, 4 and 5), and a server and a non-blocking `MioSession` in one
//! loop on one thread. No sleeps: every wait has a generous deadline and fails saying what did
//! not come.

use std::net::SocketAddr;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use mio::{Events, Poll, Token};
use tase2_core::assoc::{AssocError, AssociationConfig};
use tase2_core::mms::{DataAccessError, ObjectName};
use tase2_core::server::{Endpoint, ServerConfig, ServerEvent};
use tase2_core::tase2::client::{
    Command, ControlErrorKind, ControlOp, Error, Outcome, SessionConfig, SessionEvent,
};
use tase2_core::tase2::server::{
    DeviceSpec, OperatePolicy, Tase2, Tase2Builder, Tase2Config, Tase2Event,
};
use tase2_core::tase2::{
    BilateralTable, ClientMatch, Command as DeviceCommand, ControlMode, ControlValue, DeviceKind,
    DsConditions, DsTransferSetValue, Edition, Family, Form, InfoHeader, InfoScope, PointType,
    PointValue, Rights, StateValue, Value,
};
use tase2_mio::{clock, MioEndpoint, MioServer, MioSession, MioTase2Client, Tase2ClientError};

const RQT: PointType = PointType::Indication(Family::Real, Form::QTimeTag);
const SQT: PointType = PointType::Indication(Family::State, Form::QTimeTag);
/// How long any one expected thing may take before the test fails.
const DEADLINE: Duration = Duration::from_secs(20);

fn icc1(item: &str) -> ObjectName {
    ObjectName::domain("ICC1", item)
}

/// ICC1 with three points, a predefined data set, an SBO breaker (CheckBackID 101), a direct
/// real setpoint and an information buffer, for the client 1.1.1.999/12; every operate goes to
/// the application.
fn model() -> Endpoint<Tase2> {
    let mut b = Tase2Builder::new(Tase2Config {
        edition: Edition::V2000_08,
        local_ap_title: Some("1.1.1.998".parse().unwrap()),
        operate: OperatePolicy::AskApplication {
            timeout: Duration::from_secs(10),
        },
        ..Tase2Config::default()
    });
    b.domain("ICC1", 2).unwrap();
    b.point(Some("ICC1"), "P1", RQT, PointValue::real(1.0))
        .unwrap();
    b.point(Some("ICC1"), "P2", RQT, PointValue::real(2.0))
        .unwrap();
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
        &["Transfer_Set_Name", "Transfer_Set_Time_Stamp", "P1", "P2"],
    )
    .unwrap();
    b.device(
        Some("ICC1"),
        "Brk1_Cmd",
        DeviceSpec::new(DeviceKind::Command, ControlMode::Sbo).check_back_id(101),
    )
    .unwrap();
    b.device(
        Some("ICC1"),
        "Gen_SP",
        DeviceSpec::new(DeviceKind::RealSetpoint, ControlMode::Direct),
    )
    .unwrap();
    b.info_buffer(Some("ICC1"), 256).unwrap();
    b.table(
        BilateralTable::new("BLT_1", ClientMatch::ap_title(&[1, 1, 1, 999], 12), "ICC1")
            .grant("Brk1_Cmd", Rights::READ_WRITE)
            .grant("Gen_SP", Rights::READ_WRITE)
            .admit_info(InfoScope::Icc, 10, None),
    )
    .unwrap();
    b.build(ServerConfig::default()).unwrap()
}

fn association() -> AssociationConfig {
    AssociationConfig::with_ap_titles(
        ("1.1.1.999".parse().unwrap(), 12),
        ("1.1.1.998".parse().unwrap(), 12),
    )
}

type Job = Box<dyn FnOnce(&mut Endpoint<Tase2>) + Send>;

/// A `MioServer<Tase2>` on a thread. Jobs sent to it run on the endpoint between loop turns (point
/// updates, information messages); it answers operates itself: a real setpoint is refused
/// (hardware-fault), anything else executed. It stops when the handle is dropped or stopped and
/// returns every event it saw.
struct ServerThread {
    addr: SocketAddr,
    jobs: mpsc::Sender<Job>,
    handle: thread::JoinHandle<Vec<ServerEvent<Tase2Event>>>,
}

impl ServerThread {
    fn spawn() -> ServerThread {
        let mut server = MioServer::with_endpoint("127.0.0.1:0".parse().unwrap(), model()).unwrap();
        let addr = server.local_addr().unwrap();
        let (jobs, inbox) = mpsc::channel::<Job>();
        let handle = thread::spawn(move || {
            let mut seen = Vec::new();
            loop {
                // A short wait so jobs are picked up promptly; nothing asserts on it.
                server.run_once(Some(Duration::from_millis(5))).unwrap();
                while let Some(e) = server.poll_event() {
                    if let ServerEvent::Extension(Tase2Event::OperateRequested {
                        op, value, ..
                    }) = &e
                    {
                        let answer = match value {
                            ControlValue::Real(_) => Err(DataAccessError::HARDWARE_FAULT),
                            _ => Ok(()),
                        };
                        server.endpoint_mut().answer_operate(*op, answer).unwrap();
                    }
                    seen.push(e);
                }
                loop {
                    match inbox.try_recv() {
                        Ok(job) => job(server.endpoint_mut()),
                        Err(mpsc::TryRecvError::Empty) => break,
                        Err(mpsc::TryRecvError::Disconnected) => return seen,
                    }
                }
                server.flush().unwrap();
            }
        });
        ServerThread { addr, jobs, handle }
    }

    fn with(&self, job: impl FnOnce(&mut Endpoint<Tase2>) + Send + 'static) {
        self.jobs.send(Box::new(job)).unwrap();
    }

    fn stop(self) -> Vec<ServerEvent<Tase2Event>> {
        drop(self.jobs);
        self.handle.join().unwrap()
    }
}

fn connect(server: &ServerThread) -> MioTase2Client {
    MioTase2Client::connect(server.addr, association()).unwrap()
}

#[test]
fn discovery_finds_the_own_domain_and_points_read_typed() {
    let server = ServerThread::spawn();
    let mut client = connect(&server);
    let Outcome::Discovery(d) = client.run(Command::Discover).unwrap() else {
        panic!("not a discovery")
    };
    assert_eq!(d.edition, Some(Edition::V2000_08));
    assert_eq!(d.domains.len(), 1);
    let icc = &d.domains[0];
    assert_eq!(icc.name, "ICC1");
    assert_eq!(icc.table_id.as_deref(), Some("BLT_1"));
    assert!(icc.data_sets.iter().any(|n| n == "DS_All"), "{icc:?}");
    let p1 = icc.variables.iter().find(|v| v.name == icc1("P1")).unwrap();
    assert_eq!(p1.point_type, Some(RQT));

    let Outcome::Points(v) = client
        .run(Command::ReadPoints {
            names: vec![icc1("P2"), icc1("Brk1"), icc1("Nope")],
        })
        .unwrap()
    else {
        panic!("not points")
    };
    assert_eq!(v[0].as_ref().unwrap().value, Value::Real(2.0));
    assert_eq!(v[1].as_ref().unwrap().value, Value::State(StateValue::Off));
    assert!(matches!(v[2], Err(Error::NotAPoint(_))), "{:?}", v[2]);

    client.conclude().unwrap();
    assert!(client.session().is_closed());
    let events = server.stop();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ServerEvent::Closed { error: None, .. })),
        "{events:?}"
    );
}

#[test]
fn a_point_update_on_the_server_reports_by_exception_to_the_client() {
    let server = ServerThread::spawn();
    let mut client = connect(&server);
    let ds = icc1("DS_Mine");
    let members = [
        "Transfer_Set_Name",
        "Transfer_Set_Time_Stamp",
        "DSConditions_Detected",
    ]
    .into_iter()
    .chain(["P1", "P2", "Brk1"])
    .map(icc1)
    .collect();
    assert_eq!(
        client
            .run(Command::DefineDataSet {
                name: ds.clone(),
                members
            })
            .unwrap(),
        Outcome::Unit
    );
    let Outcome::TransferSet(ts) = client
        .run(Command::ReserveAndStart {
            domain: "ICC1".into(),
            value: DsTransferSetValue {
                data_set: ds.clone(),
                conditions: DsConditions::OBJECT_CHANGE,
                rbe: true,
                ..Default::default()
            },
        })
        .unwrap()
    else {
        panic!("no transfer set")
    };

    server.with(|e| {
        let p2 = e.tase2().point_id(&icc1("P2")).unwrap();
        e.update(clock::now(), p2, PointValue::real(22.5));
    });
    let report = client
        .next_report(DEADLINE)
        .unwrap()
        .expect("a report within the deadline");
    assert_eq!(report.transfer_set.as_ref(), Some(&ts));
    assert!(report
        .conditions
        .unwrap()
        .contains(DsConditions::OBJECT_CHANGE));
    assert_eq!(report.point(&icc1("P2")).unwrap().value, Value::Real(22.5));
    assert!(
        report.point(&icc1("P1")).is_none(),
        "RBE: P1 did not change"
    );

    assert_eq!(
        client
            .run(Command::StopTransferSet {
                transfer_set: ts.clone()
            })
            .unwrap(),
        Outcome::Unit
    );
    client.conclude().unwrap();
    let events = server.stop();
    assert!(
        events.iter().any(|e| matches!(
            e,
            ServerEvent::Extension(Tase2Event::TransferSetStarted { name, .. }) if *name == ts
        )),
        "{events:?}"
    );
}

#[test]
fn an_information_message_arrives_once_enabled() {
    let server = ServerThread::spawn();
    let mut client = connect(&server);
    assert_eq!(
        client.run(Command::InfoMessages { enable: true }).unwrap(),
        Outcome::Unit
    );
    server.with(|e| {
        let header = InfoHeader {
            info_reference: 10,
            local_reference: 1,
            message_id: 7,
            size: 0,
        };
        e.send_info_message(Some("ICC1"), header, b"feeder 12 out of service")
            .unwrap();
    });
    let m = client
        .next_info_message(DEADLINE)
        .unwrap()
        .expect("an information message within the deadline");
    assert_eq!(m.header.message_id, 7);
    assert_eq!(m.text(), Some("feeder 12 out of service"));
    client.conclude().unwrap();
    server.stop();
}

#[test]
fn select_before_operate_answers_the_check_back_id_and_refusals_are_typed() {
    let server = ServerThread::spawn();
    let mut client = connect(&server);
    let brk = icc1("Brk1_Cmd");
    let on = ControlValue::Command(DeviceCommand::On);

    // Operate without select: the server refuses it itself.
    let r = client.run(Command::Operate {
        device: brk.clone(),
        value: on,
    });
    let Err(Tase2ClientError::Session(Error::Control(e))) = r else {
        panic!("{r:?}")
    };
    assert_eq!(
        (e.op, e.kind),
        (ControlOp::Operate, ControlErrorKind::AccessDenied)
    );

    assert_eq!(
        client
            .run(Command::SelectOperate {
                device: brk.clone(),
                value: on,
            })
            .unwrap(),
        Outcome::CheckBackId(101)
    );

    // The application behind the server refuses a real setpoint.
    let r = client.run(Command::Operate {
        device: icc1("Gen_SP"),
        value: ControlValue::Real(412.5),
    });
    let Err(Tase2ClientError::Session(Error::Control(e))) = r else {
        panic!("{r:?}")
    };
    assert_eq!(
        (e.op, e.kind),
        (ControlOp::Operate, ControlErrorKind::HardwareFault)
    );

    client.conclude().unwrap();
    let events = server.stop();
    let operated: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            ServerEvent::Extension(Tase2Event::Operated { value, .. }) => Some(*value),
            _ => None,
        })
        .collect();
    assert_eq!(operated, vec![on]);
}

#[test]
fn connecting_a_tase2_client_to_a_closed_port_is_an_io_error() {
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    match MioTase2Client::connect(addr, association()) {
        Err(Tase2ClientError::Io(e)) => {
            assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused)
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_server_and_a_non_blocking_session_in_one_loop_carry_a_report() {
    const CLIENT: Token = Token(0);
    const SERVER: Token = Token(1);
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(64);
    let mut server = MioEndpoint::with_endpoint("127.0.0.1:0".parse().unwrap(), model()).unwrap();
    server.register(poll.registry(), SERVER).unwrap();
    let mut client = MioSession::connect(
        server.local_addr().unwrap(),
        association(),
        SessionConfig::default(),
    )
    .unwrap();
    client.register(poll.registry(), CLIENT).unwrap();
    assert!(!server.owns(CLIENT));

    // Issued before the association is up: they wait for it, then go out in order.
    let ds = icc1("DS_Loop");
    let define = client.command(Command::DefineDataSet {
        name: ds.clone(),
        members: ["Transfer_Set_Name", "P1", "P2"].map(icc1).to_vec(),
    });
    let start = client.command(Command::ReserveAndStart {
        domain: "ICC1".into(),
        value: DsTransferSetValue {
            data_set: ds,
            conditions: DsConditions::OBJECT_CHANGE,
            rbe: true,
            ..Default::default()
        },
    });

    let end = Instant::now() + DEADLINE;
    let mut seen = Vec::new();
    let mut updated = false;
    let report = 'outer: loop {
        assert!(
            Instant::now() < end,
            "no report within {DEADLINE:?}; client saw {seen:?}"
        );
        let timeout = [
            server.timeout(),
            client.timeout(),
            Some(Duration::from_secs(1)),
        ]
        .into_iter()
        .flatten()
        .min();
        poll.poll(&mut events, timeout).unwrap();
        for event in &events {
            if event.token() == CLIENT {
                client.handle_ready(event);
            } else {
                assert!(server.owns(event.token()));
                server.handle_ready(event).unwrap();
            }
        }
        client.handle_timeout();
        server.handle_timeout().unwrap();
        while server.poll_event().is_some() {}
        while let Some(e) = client.poll_event() {
            match e {
                SessionEvent::Done { op, result } if op == start => {
                    assert!(matches!(result, Ok(Outcome::TransferSet(_))), "{result:?}");
                    // The transfer set runs: change a point on the server, in this same loop.
                    let ep = server.endpoint_mut();
                    let p1 = ep.tase2().point_id(&icc1("P1")).unwrap();
                    ep.update(clock::now(), p1, PointValue::real(-7.25));
                    server.flush().unwrap();
                    updated = true;
                }
                SessionEvent::Done { op, result } if op == define => {
                    assert_eq!(result, Ok(Outcome::Unit));
                }
                SessionEvent::Report(r) => break 'outer r,
                other => seen.push(other),
            }
        }
    };
    assert!(updated, "a report before the point changed: {report:?}");
    assert_eq!(report.point(&icc1("P1")).unwrap().value, Value::Real(-7.25));
    assert!(
        report.point(&icc1("P2")).is_none(),
        "RBE: P2 did not change"
    );

    // An orderly release in the same loop closes the server's socket.
    client.conclude().unwrap();
    while server.open_sockets() > 0 || !client.session().is_closed() {
        assert!(Instant::now() < end, "release did not complete");
        let timeout = [server.timeout(), Some(Duration::from_secs(1))]
            .into_iter()
            .flatten()
            .min();
        poll.poll(&mut events, timeout).unwrap();
        for event in &events {
            if event.token() == CLIENT {
                client.handle_ready(event);
            } else {
                server.handle_ready(event).unwrap();
            }
        }
        client.handle_timeout();
        server.handle_timeout().unwrap();
    }
    assert_eq!(
        std::iter::from_fn(|| client.poll_event()).last(),
        Some(SessionEvent::Closed(None))
    );
}

/// The failover client on one endpoint: with room for a single waiting event it still gets every
/// report, in order (the rest wait in the socket, not in memory), and dropping it ends the
/// association with an ABORT the server receives before the transport closes.
#[test]
fn a_failover_client_with_a_one_event_queue_loses_no_report_and_ends_when_dropped() {
    use tase2_core::tase2::client::{EndpointSpec, FailoverConfig, FailoverEvent};
    use tase2_mio::{MioFailoverClient, MioFailoverOptions};

    let server = ServerThread::spawn();
    let config = FailoverConfig::new(vec![EndpointSpec::new(
        server.addr.to_string(),
        association(),
    )]);
    let mut c =
        MioFailoverClient::start_with(config, MioFailoverOptions { event_queue: 1 }).unwrap();
    // The link's own events (connecting, up) take the one place first: take them, or a command
    // could not read its answer.
    let end = Instant::now() + DEADLINE;
    while !matches!(
        c.next_event(Duration::from_millis(200)).unwrap(),
        Some(FailoverEvent::Up { endpoint: 0 })
    ) {
        assert!(Instant::now() < end, "not up");
    }
    let ds = icc1("DS_Fo");
    let members = ["Transfer_Set_Name", "Transfer_Set_Time_Stamp", "P2"]
        .into_iter()
        .map(icc1)
        .collect();
    c.run(Command::DefineDataSet {
        name: ds.clone(),
        members,
    })
    .unwrap();
    let Outcome::TransferSet(_) = c
        .run(Command::ReserveAndStart {
            domain: "ICC1".into(),
            value: DsTransferSetValue {
                data_set: ds,
                conditions: DsConditions::OBJECT_CHANGE,
                rbe: true,
                ..Default::default()
            },
        })
        .unwrap()
    else {
        panic!("no transfer set")
    };
    let (done, wait) = mpsc::channel();
    server.with(move |e| {
        let p2 = e.tase2().point_id(&icc1("P2")).unwrap();
        for k in 0..10 {
            e.update(clock::now(), p2, PointValue::real(k as f32));
            // One report per change: the server runs its transfer sets on each update.
            e.run_hooks(clock::now());
        }
        done.send(()).unwrap();
    });
    wait.recv_timeout(DEADLINE).unwrap();
    let mut values = Vec::new();
    let end = Instant::now() + DEADLINE;
    while values.last() != Some(&9.0) && Instant::now() < end {
        if let Some(FailoverEvent::Session(SessionEvent::Report(r))) =
            c.next_event(Duration::from_millis(200)).unwrap()
        {
            if let Some(Value::Real(v)) = r.point(&icc1("P2")).map(|p| p.value) {
                values.push(v);
            }
        }
    }
    assert!(!values.is_empty(), "no report");
    let mut sorted = values.clone();
    sorted.sort_by(f32::total_cmp);
    assert_eq!(values, sorted, "reports in order");
    assert_eq!(
        values.last(),
        Some(&9.0),
        "the last value arrives: {values:?}"
    );
    drop(c);
    let events = server.stop();
    assert!(
        events.iter().any(|e| matches!(
            e,
            ServerEvent::Closed {
                error: Some(AssocError::AbortedByPeer(_)),
                ..
            }
        )),
        "the association ended with our ABORT: {events:?}"
    );
}
