//! The core TASE.2 client session against the core TASE.2 server, in memory on a virtual clock:
//! every block 1, 2, 4 and 5 flow in both editions, no sockets, no sleeps.

use core::time::Duration;

use tase2_core::assoc::AssociationConfig;
use tase2_core::mms::{DataAccessError, ObjectName};
use tase2_core::server::{ServerConfig, ServerEvent};
use tase2_core::sim::Sim;
use tase2_core::tase2::client::{
    Command, ControlErrorKind, ControlOp, Error, Outcome, Reported, SessionConfig, SessionEvent,
    TypedReport,
};
use tase2_core::tase2::server::{
    DeviceSpec, OperatePolicy, Tase2, Tase2Builder, Tase2Config, Tase2Event,
};
use tase2_core::tase2::{
    BilateralTable, ClientMatch, Command as Cmd, ControlMode, ControlValue, DeviceKind,
    DsConditions, DsTransferSetValue, Edition, Family, Form, InfoHeader, InfoScope, PointType,
    PointValue, Rights, StateValue, TagValue, Validity, Value,
};
use tase2_core::Instant;

const T0: i64 = 1_700_000_000;
const RQT: PointType = PointType::Indication(Family::Real, Form::QTimeTag);
const SQT: PointType = PointType::Indication(Family::State, Form::QTimeTag);
const RW: Rights = Rights::READ_WRITE;

fn icc1(item: &str) -> ObjectName {
    ObjectName::domain("ICC1", item)
}

fn model(edition: Edition) -> Tase2Builder {
    let mut b = Tase2Builder::new(Tase2Config {
        edition,
        local_ap_title: Some("1.1.1.998".parse().unwrap()),
        operate: OperatePolicy::AcceptAll,
        ack_timeout: Duration::from_secs(5),
        ..Tase2Config::default()
    });
    for d in ["ICC1", "ICC2"] {
        b.domain(d, 2).unwrap();
        for n in 1..=30 {
            b.point(Some(d), &format!("P{n}"), RQT, PointValue::real(n as f32))
                .unwrap();
        }
        b.point(Some(d), "Brk1", SQT, PointValue::state(StateValue::Off))
            .unwrap();
        b.writable_point(
            Some(d),
            "Setpoint",
            PointType::Indication(Family::Real, Form::Plain),
            PointValue::real(0.0),
        )
        .unwrap();
        b.data_set(
            Some(d),
            "DS_All",
            &[
                "Transfer_Set_Name",
                "Transfer_Set_Time_Stamp",
                "DSConditions_Detected",
                "Event_Code_Detected",
                "P1",
                "P2",
                "Brk1",
            ],
        )
        .unwrap();
        b.device(
            Some(d),
            "Brk1_Cmd",
            DeviceSpec::new(DeviceKind::Command, ControlMode::Sbo)
                .tagged()
                .check_back_id(101),
        )
        .unwrap();
        b.device(
            Some(d),
            "Gen_SP",
            DeviceSpec::new(DeviceKind::RealSetpoint, ControlMode::Direct),
        )
        .unwrap();
        b.info_buffer(Some(d), 256).unwrap();
    }
    b.point(None, "Freq", RQT, PointValue::real(50.0)).unwrap();
    b.table(
        BilateralTable::new("BLT_1", ClientMatch::ap_title(&[1, 1, 1, 999], 12), "ICC1")
            .grant("Setpoint", RW)
            .grant("Brk1_Cmd", RW)
            .grant("Gen_SP", RW)
            .admit_info(InfoScope::Icc, 10, None),
    )
    .unwrap();
    b.table(BilateralTable::new(
        "BLT_2",
        ClientMatch::ap_title(&[1, 1, 1, 997], 12),
        "ICC2",
    ))
    .unwrap();
    b
}

fn association(calling: &str) -> AssociationConfig {
    AssociationConfig::with_ap_titles(
        (calling.parse().unwrap(), 12),
        ("1.1.1.998".parse().unwrap(), 12),
    )
}

fn sim(edition: Edition) -> (Sim<Tase2>, usize) {
    let server = model(edition).build(ServerConfig::default()).unwrap();
    let mut s = Sim::new(server, Instant::virtual_at(Duration::ZERO, T0));
    let c = s.connect(association("1.1.1.999"), SessionConfig::default());
    assert!(
        s.client(c).session.is_established(),
        "{:?}",
        s.client(c).events
    );
    (s, c)
}

fn reports(s: &mut Sim<Tase2>, c: usize) -> Vec<TypedReport> {
    s.take_events(c, |e| matches!(e, SessionEvent::Report(_)))
        .into_iter()
        .filter_map(|e| match e {
            SessionEvent::Report(r) => Some(r),
            _ => None,
        })
        .collect()
}

#[test]
fn discovery_finds_version_features_the_own_domain_and_typed_points_only() {
    for edition in [Edition::V2000_08, Edition::V1996_08] {
        let (mut s, c) = sim(edition);
        let Ok(Outcome::Discovery(d)) = s.run(c, Command::Discover) else {
            panic!("discovery failed")
        };
        assert_eq!(d.edition, Some(edition));
        assert_eq!(s.client(c).session.edition(), edition);
        let f = d.features.expect("features");
        for block in [1, 2, 4, 5] {
            assert!(f.has_block(block), "block {block} in {f:?}");
        }
        assert_eq!(d.domains.len(), 1, "only its own ICC domain");
        let icc = &d.domains[0];
        assert_eq!(icc.name, "ICC1");
        assert_eq!(icc.table_id.as_deref(), Some("BLT_1"));
        assert!(icc.data_sets.iter().any(|n| n == "DS_All"));
        let p1 = icc.variables.iter().find(|v| v.name == icc1("P1")).unwrap();
        assert_eq!(p1.point_type, Some(RQT));
        assert_eq!(p1.tase2_type_name(), Some("Data_RealQTimeTag"));
        let ts = icc
            .variables
            .iter()
            .find(|v| v.name.item() == "Transfer_Set_Time_Stamp");
        if let Some(ts) = ts {
            assert_eq!(ts.point_type, None, "a standard object is not a point");
        }
        let vcc = d.vcc.expect("VCC listed");
        assert!(vcc.iter().any(|v| v.name == ObjectName::vmd("Freq")));
        assert!(s
            .client(c)
            .events
            .iter()
            .all(|e| !matches!(e, SessionEvent::Deviation(_))));
    }
}

#[test]
fn points_are_read_and_written_typed_and_a_non_point_is_refused() {
    let (mut s, c) = sim(Edition::V2000_08);
    let Ok(Outcome::Points(v)) = s.run(
        c,
        Command::ReadPoints {
            names: vec![icc1("P3"), icc1("Brk1"), icc1("Nope")],
        },
    ) else {
        panic!()
    };
    assert_eq!(v[0].as_ref().unwrap().value, Value::Real(3.0));
    assert_eq!(v[1].as_ref().unwrap().value, Value::State(StateValue::Off));
    assert!(matches!(v[2], Err(Error::NotAPoint(_))), "{:?}", v[2]);
    let r = s.run(
        c,
        Command::WritePoint {
            name: icc1("Setpoint"),
            value: PointValue::real(42.5),
        },
    );
    assert_eq!(r, Ok(Outcome::Unit));
    let Ok(Outcome::Points(v)) = s.run(
        c,
        Command::ReadPoints {
            names: vec![icc1("Setpoint")],
        },
    ) else {
        panic!()
    };
    assert_eq!(v[0].as_ref().unwrap().value, Value::Real(42.5));
    // P1 is read-only for this client.
    let r = s.run(
        c,
        Command::WritePoint {
            name: icc1("P1"),
            value: PointValue::real(1.0),
        },
    );
    assert_eq!(r, Err(Error::Access(DataAccessError::OBJECT_ACCESS_DENIED)));
}

#[test]
fn a_transfer_set_reports_by_exception_and_integrity_in_both_editions() {
    for edition in [Edition::V2000_08, Edition::V1996_08] {
        let (mut s, c) = sim(edition);
        assert_eq!(s.run(c, Command::Version), Ok(Outcome::Version(edition)));
        let ds = icc1("DS_Mine");
        let mut members: Vec<ObjectName> = [
            "Transfer_Set_Name",
            "Transfer_Set_Time_Stamp",
            "DSConditions_Detected",
            "Event_Code_Detected",
        ]
        .map(icc1)
        .to_vec();
        members.extend(["P1", "P2", "Brk1"].map(icc1));
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
        let Ok(Outcome::TransferSet(ts)) = s.run(
            c,
            Command::ReserveAndStart {
                domain: "ICC1".into(),
                value: DsTransferSetValue {
                    data_set: ds.clone(),
                    integrity_check: 10,
                    buffer_time: 1,
                    conditions: DsConditions::INTEGRITY | DsConditions::OBJECT_CHANGE,
                    rbe: true,
                    all_changes_reported: true,
                    ..Default::default()
                },
            },
        ) else {
            panic!("start failed")
        };
        assert_eq!(s.client(c).session.running_transfer_sets().count(), 1);
        // A change reports by exception after the buffer time: only the changed point.
        let p2 = s.server.hooks().point_id(&icc1("P2")).unwrap();
        let now = s.now;
        s.server.update(
            now,
            p2,
            PointValue::real(22.0)
                .with_flags(tase2_core::tase2::Flags::VALID.with_validity(Validity::Suspect)),
        );
        s.advance(Duration::from_secs(2));
        let r = reports(&mut s, c);
        assert_eq!(r.len(), 1, "{r:?}");
        assert_eq!(r[0].transfer_set.as_ref(), Some(&ts));
        assert!(r[0]
            .conditions
            .unwrap()
            .contains(DsConditions::OBJECT_CHANGE));
        let v = r[0].point(&icc1("P2")).expect("P2 reported");
        assert_eq!(v.value, Value::Real(22.0));
        assert_eq!(v.flags.validity(), Validity::Suspect);
        assert!(r[0].point(&icc1("P1")).is_none(), "RBE: P1 did not change");
        // Integrity: every member, typed, named by the data set.
        s.advance(Duration::from_secs(10));
        let r = reports(&mut s, c);
        let full = r
            .iter()
            .find(|r| {
                r.conditions
                    .is_some_and(|c| c.contains(DsConditions::INTEGRITY))
            })
            .expect("an integrity report");
        assert_eq!(full.points().count(), 3);
        assert!(matches!(
            full.values.iter().find(|(n, _)| *n == icc1("Brk1")),
            Some((_, Reported::Point(SQT, _)))
        ));
        // Reading it back shows the edition's structure.
        let Ok(Outcome::TransferSetValue(v)) = s.run(
            c,
            Command::ReadTransferSet {
                transfer_set: ts.clone(),
            },
        ) else {
            panic!()
        };
        assert!(v.status);
        assert_eq!(v.all_changes_reported, edition == Edition::V2000_08);
        assert_eq!(
            s.run(
                c,
                Command::StopTransferSet {
                    transfer_set: ts.clone()
                }
            ),
            Ok(Outcome::Unit)
        );
        assert_eq!(s.client(c).session.running_transfer_sets().count(), 0);
        let now = s.now;
        s.server.update(now, p2, PointValue::real(23.0));
        s.advance(Duration::from_secs(30));
        assert!(reports(&mut s, c).is_empty(), "stopped");
        assert_eq!(
            s.run(c, Command::DeleteDataSet { name: ds }),
            Ok(Outcome::Deleted(true))
        );
    }
}

#[test]
fn critical_reports_are_acknowledged_inside_the_session() {
    let (mut s, c) = sim(Edition::V2000_08);
    let Ok(Outcome::TransferSet(_)) = s.run(
        c,
        Command::ReserveAndStart {
            domain: "ICC1".into(),
            value: DsTransferSetValue {
                data_set: icc1("DS_All"),
                conditions: DsConditions::OBJECT_CHANGE,
                critical: true,
                rbe: true,
                ..Default::default()
            },
        },
    ) else {
        panic!()
    };
    let p1 = s.server.hooks().point_id(&icc1("P1")).unwrap();
    for k in 0..3 {
        let now = s.now;
        s.server.update(now, p1, PointValue::real(100.0 + k as f32));
        s.advance(Duration::from_secs(1));
    }
    let r = reports(&mut s, c);
    assert_eq!(r.len(), 3);
    assert!(r.iter().all(|r| r.acknowledged));
    // Well past the ACK timeout: the server heard every ACK, none timed out.
    s.advance(Duration::from_secs(20));
    let acked = s
        .server_events
        .iter()
        .filter(|e| matches!(e, ServerEvent::Extension(Tase2Event::ReportAcked { .. })))
        .count();
    assert_eq!(acked, 3);
    let text = format!("{:?}", s.server_events);
    assert!(
        !text.contains("AckTimeout") && !text.contains("Nacked"),
        "{text}"
    );
}

#[test]
fn a_full_report_of_an_unknown_data_set_is_looked_up_once_and_reports_keep_their_order() {
    let (mut s, c) = sim(Edition::V2000_08);
    // Start DS_All without the session knowing its members: a fresh session on the same
    // association would not, so forget them by starting through a raw write.
    let Ok(Outcome::TransferSet(ts)) = s.run(
        c,
        Command::ReserveTransferSet {
            domain: "ICC1".into(),
        },
    ) else {
        panic!()
    };
    let value = DsTransferSetValue {
        data_set: icc1("DS_All"),
        interval: 1,
        conditions: DsConditions::INTERVAL,
        status: true,
        ..Default::default()
    };
    let req = tase2_core::mms::ConfirmedRequest::Write(tase2_core::mms::WriteRequest {
        variables: tase2_core::mms::VariableAccessSpecification::ListOfVariable(vec![
            tase2_core::mms::VariableSpec::named(ts.clone()),
        ]),
        data: vec![value.to_data(Edition::V2000_08)],
    });
    let now = s.now;
    let op = s.client(c).session.request(now, req);
    assert!(matches!(s.wait(c, op), Some(Ok(Outcome::Response(_)))));
    assert!(s.client(c).session.data_set(&icc1("DS_All")).is_none());
    // Three interval reports arrive before the look-up can be answered: deliver them by hand so
    // they queue up behind the first one.
    s.advance(Duration::from_millis(3500));
    let r = reports(&mut s, c);
    assert!(r.len() >= 3, "{r:?}");
    assert!(r
        .iter()
        .all(|r| r.data_set.as_ref() == Some(&icc1("DS_All"))));
    let stamps: Vec<i32> = r.iter().map(|r| r.timestamp.unwrap()).collect();
    let mut sorted = stamps.clone();
    sorted.sort();
    assert_eq!(stamps, sorted, "in arrival order");
    assert!(s.client(c).session.data_set(&icc1("DS_All")).is_some());
    // Held until the members' types are learnt too: every value comes out typed.
    assert!(
        r.iter().all(|r| !r.values.is_empty()
            && r.values
                .iter()
                .all(|(_, v)| matches!(v, Reported::Point(..)))),
        "{r:?}"
    );
    // One GetNamedVariableListAttributes for all of them.
    assert!(s
        .client(c)
        .events
        .iter()
        .all(|e| !matches!(e, SessionEvent::Undecoded(_))));
}

#[test]
fn information_messages_arrive_once_enabled() {
    let (mut s, c) = sim(Edition::V2000_08);
    assert_eq!(
        s.run(c, Command::InfoMessages { enable: true }),
        Ok(Outcome::Unit)
    );
    let header = InfoHeader {
        info_reference: 10,
        local_reference: 1,
        message_id: 7,
        size: 0,
    };
    s.server
        .send_info_message(Some("ICC1"), header, b"feeder 12 out of service")
        .unwrap();
    s.deliver();
    let m = s.take_events(c, |e| matches!(e, SessionEvent::InfoMessage(_)));
    let [SessionEvent::InfoMessage(m)] = m.as_slice() else {
        panic!("{m:?}")
    };
    assert_eq!(m.header.message_id, 7);
    assert_eq!(m.text(), Some("feeder 12 out of service"));
}

#[test]
fn device_control_selects_operates_and_refuses_in_words() {
    let (mut s, c) = sim(Edition::V2000_08);
    let brk = icc1("Brk1_Cmd");
    assert_eq!(
        s.run(
            c,
            Command::DeviceInfo {
                device: brk.clone()
            }
        ),
        Ok(Outcome::Device(tase2_core::tase2::client::DeviceInfo {
            kind: DeviceKind::Command,
            mode: ControlMode::Sbo,
            tagged: true,
        }))
    );
    // Operate without select: refused, typed.
    let r = s.run(
        c,
        Command::Operate {
            device: brk.clone(),
            value: ControlValue::Command(Cmd::On),
        },
    );
    let Err(Error::Control(e)) = r else {
        panic!("{r:?}")
    };
    assert_eq!(
        (e.op, e.kind),
        (ControlOp::Operate, ControlErrorKind::AccessDenied)
    );
    assert_eq!(
        s.run(
            c,
            Command::SelectOperate {
                device: brk.clone(),
                value: ControlValue::Command(Cmd::On),
            }
        ),
        Ok(Outcome::CheckBackId(101))
    );
    // Direct setpoint.
    assert_eq!(
        s.run(
            c,
            Command::Operate {
                device: icc1("Gen_SP"),
                value: ControlValue::Real(412.5),
            }
        ),
        Ok(Outcome::Unit)
    );
    // Tag it open-and-close inhibit: select is refused.
    assert_eq!(
        s.run(
            c,
            Command::SetTag {
                device: brk.clone(),
                value: TagValue::OpenAndCloseInhibit,
                reason: "crew on line".into(),
            }
        ),
        Ok(Outcome::Unit)
    );
    let Ok(Outcome::Tag(t)) = s.run(
        c,
        Command::Tag {
            device: brk.clone(),
        },
    ) else {
        panic!()
    };
    assert_eq!(
        (t.value, t.reason.as_str()),
        (TagValue::OpenAndCloseInhibit, "crew on line")
    );
    let r = s.run(c, Command::Select { device: brk });
    let Err(Error::Control(e)) = r else {
        panic!("{r:?}")
    };
    assert_eq!(
        (e.op, e.kind),
        (ControlOp::Select, ControlErrorKind::AccessDenied)
    );
    assert!(e.to_string().contains("tagged"), "{e}");
}

#[test]
fn after_a_fatal_close_every_command_fails_with_the_sticky_cause() {
    let (mut s, c) = sim(Edition::V2000_08);
    let op = s.start(c, Command::Discover);
    s.disconnect(c);
    let closed = s.take_events(c, |e| matches!(e, SessionEvent::Closed(_)));
    assert!(
        matches!(closed.as_slice(), [SessionEvent::Closed(Some(_))]),
        "{closed:?}"
    );
    let r = s.wait(c, op).expect("the pending operation is finished");
    assert!(matches!(r, Err(Error::Closed(Some(_)))), "{r:?}");
    let r = s.run(c, Command::Version);
    let Err(Error::Closed(Some(cause))) = r else {
        panic!("{r:?}")
    };
    assert!(cause.to_string().contains("transport closed"), "{cause}");
}

#[test]
fn commands_issued_before_the_association_is_up_wait_for_it_and_pipeline() {
    let server = model(Edition::V2000_08)
        .build(ServerConfig::default())
        .unwrap();
    let mut s = Sim::new(server, Instant::virtual_at(Duration::ZERO, T0));
    let conn = s.server.open(s.now).unwrap();
    let session = tase2_core::tase2::client::Session::new(
        association("1.1.1.999"),
        SessionConfig::default(),
        s.now,
    );
    s.clients.push(tase2_core::sim::SimClient {
        conn,
        session,
        events: Vec::new(),
        connected: true,
    });
    let now = s.now;
    // More reads than the negotiated window (10) at once.
    let ops: Vec<_> = (1..=25)
        .map(|n| {
            s.client(0).session.command(
                now,
                Command::ReadPoints {
                    names: vec![icc1(&format!("P{n}"))],
                },
            )
        })
        .collect();
    for (n, op) in (1..=25).zip(ops) {
        let Some(Ok(Outcome::Points(v))) = s.wait(0, op) else {
            panic!()
        };
        assert_eq!(v[0].as_ref().unwrap().value, Value::Real(n as f32));
    }
}
