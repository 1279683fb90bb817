//! TASE.2 server and clients pumped together in memory on a virtual clock: every condition with
//! exact timing, bilateral isolation, bad transfer set writes.

use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::time::Duration;

use super::*;
use crate::acse::user_diagnostic;
use crate::assoc::{AssocError, AssociationConfig, Event, RequestError};
use crate::ber::Writer;
use crate::client::Client;
use crate::mms::{
    AccessResult, ConfirmedResponse, Data, DataAccessError, ErrorClass, ObjectClass, ObjectScope,
    TypeDescription, UnconfirmedService, WriteResult,
};
use crate::server::{Hooks, ServerConfig, ServerEvent, Variable};
use crate::tase2::bilateral::BilateralTable;
use crate::tase2::bilateral::{ClientMatch, Rights};
use crate::tase2::client::{self as tc, Report};
use crate::tase2::names;
use crate::tase2::point::{Family, Form};
use crate::tase2::transfer_set::object_name_data;
use crate::tase2::transfer_set::DsTransferSetValue;
use crate::tase2::{DsConditions, StateValue};

#[path = "tests_control.rs"]
mod control;

const T0: i64 = 1_700_000_000;
const RQT: PointType = PointType::Indication(Family::Real, Form::QTimeTag);
const SQT: PointType = PointType::Indication(Family::State, Form::QTimeTag);

/// The shared pair harness (`crate::sim`) with plain MMS clients: these tests check the server's
/// bytes and answers, not the TASE.2 client session's.
type Net = crate::sim::Sim<Tase2, Client>;

fn model(edition: Edition, unlisted: Unlisted) -> Tase2Builder {
    let mut b = Tase2Builder::new(Tase2Config {
        edition,
        local_ap_title: Some("1.1.1.998".parse().unwrap()),
        unlisted,
        ack_timeout: Duration::from_secs(5),
        ..Tase2Config::default()
    });
    for d in ["ICC1", "ICC2"] {
        b.domain(d, 2).unwrap();
        for n in 1..=40 {
            b.point(
                Some(d),
                &alloc::format!("P{n}"),
                RQT,
                PointValue::real(n as f32),
            )
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
                "P3",
                "Brk1",
            ],
        )
        .unwrap();
    }
    b.point(None, "Freq", RQT, PointValue::real(50.0)).unwrap();
    b.table(
        BilateralTable::new("BLT_1", ClientMatch::ap_title(&[1, 1, 1, 999], 12), "ICC1")
            .grant("Setpoint", Rights::READ_WRITE),
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

fn client_config(calling: &str, called: &str, max_pdu: u32) -> AssociationConfig {
    let mut c = AssociationConfig::with_ap_titles(
        (calling.parse().unwrap(), 12),
        (called.parse().unwrap(), 12),
    );
    c.max_pdu_size = max_pdu;
    c
}

impl Net {
    fn with_model(b: Tase2Builder) -> Net {
        let server = b.build(ServerConfig::default()).unwrap();
        Net::new(server, Instant::virtual_at(Duration::ZERO, T0))
    }

    fn standard() -> Net {
        let mut n = Net::with_model(model(Edition::V2000_08, Unlisted::Refuse));
        n.connect("1.1.1.999", 65000);
        n.connect("1.1.1.997", 65000);
        n
    }

    fn connect_as(&mut self, calling: &str, called: &str, max_pdu: u32) -> usize {
        let config = client_config(calling, called, max_pdu);
        self.connect_with(|now| Client::new(config, now))
    }

    fn connect(&mut self, calling: &str, max_pdu: u32) -> usize {
        let i = self.connect_as(calling, "1.1.1.998", max_pdu);
        assert!(
            self.clients[i].session.is_established(),
            "{:?}",
            self.clients[i].events
        );
        i
    }

    /// Advance the clock to `t` after T0, firing every deadline on the way.
    fn run_until(&mut self, t: Duration) {
        let end = Instant::virtual_at(t, T0);
        let d = end.saturating_duration_since(self.now);
        self.advance(d);
    }

    fn secs(&self) -> f64 {
        self.now.monotonic().as_secs_f64()
    }

    fn request(
        &mut self,
        i: usize,
        f: impl FnOnce(&mut Client, Instant) -> u32,
    ) -> Result<ConfirmedResponse, RequestError> {
        let now = self.now;
        let id = f(&mut self.clients[i].session, now);
        self.drive();
        let ev = &mut self.clients[i].events;
        let pos = ev
            .iter()
            .position(|e| matches!(e, Event::Response { invoke_id, .. } if *invoke_id == id))
            .unwrap_or_else(|| panic!("no response to {id}: {ev:?}"));
        match ev.remove(pos) {
            Event::Response { result, .. } => result,
            _ => unreachable!(),
        }
    }

    fn read1(&mut self, i: usize, name: ObjectName) -> AccessResult {
        match self.request(i, |c, now| c.read(now, &[name]).unwrap()) {
            Ok(ConfirmedResponse::Read(mut r)) => r.results.remove(0),
            other => panic!("{other:?}"),
        }
    }

    fn write1(&mut self, i: usize, name: ObjectName, value: Data) -> WriteResult {
        match self.request(i, |c, now| c.write(now, &[name], vec![value]).unwrap()) {
            Ok(ConfirmedResponse::Write(mut r)) => r.remove(0),
            other => panic!("{other:?}"),
        }
    }

    /// Reserve a transfer set in `domain` and start it with `v` (its data set filled in).
    fn start(&mut self, i: usize, domain: &str, mut v: DsTransferSetValue) -> ObjectName {
        let AccessResult::Success(d) =
            self.read1(i, ObjectName::domain(domain, names::NEXT_DS_TRANSFER_SET))
        else {
            panic!("no transfer set")
        };
        let ts = tc::parse_next_transfer_set(&d).unwrap();
        if v.data_set == ObjectName::vmd("") {
            v.data_set = ObjectName::domain(domain, "DS_All");
        }
        v.status = true;
        let ed = self.server.tase2().config().edition;
        assert_eq!(
            self.write1(i, ts.clone(), tc::transfer_set_data(&v, ed)),
            WriteResult::Success
        );
        ts
    }

    /// Reports received by peer `i` so far (taken), with the time each arrived is not tracked:
    /// callers drain after each step.
    fn reports(&mut self, i: usize) -> Vec<Report> {
        let ds = [
            ObjectName::domain("ICC1", "Transfer_Set_Name"),
            ObjectName::domain("ICC1", "Transfer_Set_Time_Stamp"),
            ObjectName::domain("ICC1", "DSConditions_Detected"),
            ObjectName::domain("ICC1", "Event_Code_Detected"),
            ObjectName::domain("ICC1", "P1"),
            ObjectName::domain("ICC1", "P2"),
            ObjectName::domain("ICC1", "P3"),
            ObjectName::domain("ICC1", "Brk1"),
        ];
        let evs = core::mem::take(&mut self.clients[i].events);
        let mut out = Vec::new();
        for e in evs {
            match e {
                Event::Unconfirmed(UnconfirmedService::InformationReport(r)) => {
                    out.push(Report::decode(&r, |_| Some(&ds[..])).unwrap());
                }
                other => self.clients[i].events.push(other),
            }
        }
        out
    }

    fn ext_events(&mut self) -> Vec<Tase2Event> {
        self.server_events
            .drain(..)
            .filter_map(|e| match e {
                ServerEvent::Extension(x) => Some(x),
                _ => None,
            })
            .collect()
    }

    fn point(&self, name: &str) -> PointId {
        self.server
            .tase2()
            .point_id(&ObjectName::domain("ICC1", name))
            .unwrap()
    }
}

fn at(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

fn ts_value(conditions: DsConditions) -> DsTransferSetValue {
    DsTransferSetValue {
        conditions,
        ..DsTransferSetValue::default()
    }
}

fn real_of(d: &Data) -> f32 {
    let Data::Structure(c) = d else {
        panic!("{d:?}")
    };
    match c[0] {
        Data::Float(f) => f.to_f64() as f32,
        _ => panic!("{d:?}"),
    }
}

#[test]
fn interval_two_seconds_reports_at_two_four_six() {
    let mut n = Net::standard();
    let ts = n.start(
        0,
        "ICC1",
        DsTransferSetValue {
            interval: 2,
            ..ts_value(DsConditions::INTERVAL)
        },
    );
    let mut times = Vec::new();
    for step in 1..=13 {
        n.run_until(at(step as f64 * 0.5));
        for r in n.reports(0) {
            assert_eq!(r.transfer_set.as_ref(), Some(&ts));
            assert_eq!(r.conditions, Some(DsConditions::INTERVAL));
            assert_eq!(r.data_set, Some(ObjectName::domain("ICC1", "DS_All")));
            assert_eq!(r.values.len(), 4);
            assert_eq!(r.timestamp, Some((T0 + n.secs() as i64) as i32));
            times.push(n.secs());
        }
    }
    assert_eq!(times, vec![2.0, 4.0, 6.0]);
    // The other client heard nothing.
    assert!(n.reports(1).is_empty());
}

#[test]
fn buffer_time_groups_changes_into_one_rbe_report() {
    let mut n = Net::standard();
    n.start(
        0,
        "ICC1",
        DsTransferSetValue {
            buffer_time: 1,
            rbe: true,
            ..ts_value(DsConditions::OBJECT_CHANGE)
        },
    );
    let (p1, p3) = (n.point("P1"), n.point("P3"));
    n.run_until(at(0.2));
    n.server.update(n.now, p1, PointValue::real(11.0));
    n.run_until(at(0.5));
    n.server.update(n.now, p3, PointValue::real(33.0));
    n.server.update(n.now, p1, PointValue::real(12.0));
    n.run_until(at(1.1));
    assert!(n.reports(0).is_empty(), "nothing before the buffer time");
    n.run_until(at(1.2));
    let r = n.reports(0);
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0].conditions, Some(DsConditions::OBJECT_CHANGE));
    assert_eq!(r[0].data_set, None, "RBE reports list their variables");
    let got: Vec<(String, f32)> = r[0]
        .values
        .iter()
        .map(|(n, d)| (String::from(n.item()), real_of(d)))
        .collect();
    assert_eq!(got, vec![("P1".into(), 12.0), ("P3".into(), 33.0)]);
    // A point outside the data set reports nothing.
    let p9 = n.point("P9");
    n.server.update(n.now, p9, PointValue::real(99.0));
    n.run_until(at(5.0));
    assert!(n.reports(0).is_empty());
}

#[test]
fn all_changes_reported_on_and_off() {
    for all in [true, false] {
        let mut n = Net::standard();
        n.start(
            0,
            "ICC1",
            DsTransferSetValue {
                buffer_time: 1,
                rbe: true,
                all_changes_reported: all,
                ..ts_value(DsConditions::OBJECT_CHANGE)
            },
        );
        let p1 = n.point("P1");
        for v in [1.5, 2.5, 3.5] {
            n.server.update(n.now, p1, PointValue::real(v));
        }
        n.run_until(at(1.0));
        let r = n.reports(0);
        assert_eq!(r.len(), 1);
        let vals: Vec<f32> = r[0].values.iter().map(|(_, d)| real_of(d)).collect();
        if all {
            assert_eq!(vals, vec![1.5, 2.5, 3.5]);
        } else {
            assert_eq!(vals, vec![3.5]);
        }
    }
}

#[test]
fn integrity_reports_arrive_during_rbe_and_changes_go_at_once_with_zero_buffer() {
    let mut n = Net::standard();
    n.start(
        0,
        "ICC1",
        DsTransferSetValue {
            integrity_check: 5,
            rbe: true,
            ..ts_value(DsConditions::OBJECT_CHANGE | DsConditions::INTEGRITY)
        },
    );
    let brk = n.point("Brk1");
    let mut seen = Vec::new();
    for step in 1..=22 {
        n.run_until(at(step as f64 * 0.5));
        if step % 3 == 0 {
            let s = if step % 2 == 0 {
                StateValue::On
            } else {
                StateValue::Off
            };
            n.server.update(n.now, brk, PointValue::state(s));
            n.drive();
        }
        for r in n.reports(0) {
            seen.push((
                n.secs(),
                r.conditions.unwrap(),
                r.data_set.is_some(),
                r.values.len(),
            ));
        }
    }
    let integrity: Vec<f64> = seen
        .iter()
        .filter(|s| s.1 == DsConditions::INTEGRITY)
        .map(|s| s.0)
        .collect();
    assert_eq!(integrity, vec![5.0, 10.0]);
    assert!(seen
        .iter()
        .filter(|s| s.1 == DsConditions::INTEGRITY)
        .all(|s| s.2 && s.3 == 4));
    let changes: Vec<f64> = seen
        .iter()
        .filter(|s| s.1 == DsConditions::OBJECT_CHANGE)
        .map(|s| s.0)
        .collect();
    // At 1.5 s the breaker is set to Off, which it already is: no object change.
    assert_eq!(changes, vec![3.0, 4.5, 6.0, 7.5, 9.0, 10.5]);
    assert!(seen.iter().filter(|s| !s.2).all(|s| s.3 == 1));
}

#[test]
fn critical_reports_ack_nack_and_missing_ack() {
    let mut n = Net::standard();
    let ts = n.start(
        0,
        "ICC1",
        DsTransferSetValue {
            interval: 2,
            critical: true,
            tle: 2,
            ..ts_value(DsConditions::INTERVAL)
        },
    );
    n.ext_events();
    // ACK: the next report goes out on time.
    n.run_until(at(2.0));
    let r = n.reports(0);
    assert_eq!(r.len(), 1);
    let ack = r[0].ack().unwrap();
    n.clients[0]
        .session
        .send_unconfirmed(UnconfirmedService::InformationReport(ack))
        .unwrap();
    n.drive();
    assert_eq!(
        n.ext_events(),
        vec![Tase2Event::ReportAcked {
            id: n.clients[0].conn,
            name: ts.clone(),
            timestamp: (T0 + 2) as i32
        }]
    );
    n.run_until(at(4.0));
    assert_eq!(n.reports(0).len(), 1);
    // NACK.
    n.clients[0]
        .session
        .send_unconfirmed(UnconfirmedService::InformationReport(tc::nack(&ts)))
        .unwrap();
    n.drive();
    assert_eq!(
        n.ext_events(),
        vec![Tase2Event::ReportNacked {
            id: n.clients[0].conn,
            name: ts.clone()
        }]
    );
    // Missing ACK: the report of 6 s is never confirmed; the one due at 8 s waits, expires
    // after TLE (2 s, at 10 s), and the application hears of the timeout at 6 + 5 = 11 s.
    n.run_until(at(6.0));
    assert_eq!(n.reports(0).len(), 1);
    n.run_until(at(9.5));
    assert!(
        n.reports(0).is_empty(),
        "held behind the unacknowledged report"
    );
    assert!(n.ext_events().is_empty());
    n.run_until(at(10.0));
    let id = n.clients[0].conn;
    assert_eq!(
        n.ext_events(),
        vec![Tase2Event::ReportExpired {
            id,
            name: ts.clone()
        }]
    );
    n.run_until(at(11.0));
    let ev = n.ext_events();
    assert!(
        ev.contains(&Tase2Event::AckTimeout {
            id,
            name: ts.clone(),
            timestamp: (T0 + 6) as i32
        }),
        "{ev:?}"
    );
    // An ACK nobody waits for is noticed, not obeyed.
    n.clients[0]
        .session
        .send_unconfirmed(UnconfirmedService::InformationReport(tc::ack(&ts, 1)))
        .unwrap();
    n.drive();
    assert!(n
        .ext_events()
        .contains(&Tase2Event::UnexpectedReport { id }));
    // Reports resume.
    n.run_until(at(12.0));
    assert_eq!(n.reports(0).len(), 1);
}

#[test]
fn start_time_in_the_future_delays_reporting() {
    let mut n = Net::standard();
    n.start(
        0,
        "ICC1",
        DsTransferSetValue {
            interval: 1,
            start_time: (T0 + 10) as i32,
            ..ts_value(DsConditions::INTERVAL | DsConditions::OBJECT_CHANGE)
        },
    );
    let p1 = n.point("P1");
    n.server.update(n.now, p1, PointValue::real(5.0));
    n.run_until(at(10.5));
    assert!(n.reports(0).is_empty(), "nothing before StartTime");
    n.run_until(at(11.0));
    assert_eq!(n.reports(0).len(), 1);
}

#[test]
fn operator_request_and_external_event() {
    let mut n = Net::standard();
    n.start(
        0,
        "ICC1",
        DsTransferSetValue {
            event_code_requested: 7,
            ..ts_value(DsConditions::OPERATOR_REQUEST | DsConditions::EXTERNAL_EVENT)
        },
    );
    n.start(1, "ICC2", ts_value(DsConditions::OPERATOR_REQUEST));
    n.server.operator_request(n.now, Some("ICC1"));
    n.drive();
    let r = n.reports(0);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].conditions, Some(DsConditions::OPERATOR_REQUEST));
    assert!(n.reports(1).is_empty(), "ICC2 was not asked");
    n.server.external_event(n.now, None, 3);
    n.drive();
    assert!(
        n.reports(0).is_empty(),
        "event code 3 is not the one requested"
    );
    n.server.external_event(n.now, None, 7);
    n.drive();
    let r = n.reports(0);
    assert_eq!(r[0].conditions, Some(DsConditions::EXTERNAL_EVENT));
    assert_eq!(r[0].event_code, Some(7));
}

#[test]
fn a_data_set_larger_than_one_pdu_is_split() {
    let mut b = model(Edition::V2000_08, Unlisted::Refuse);
    let members: Vec<String> = (1..=40).map(|i| alloc::format!("P{i}")).collect();
    let mut m: Vec<&str> = vec!["Transfer_Set_Name", "DSConditions_Detected"];
    m.extend(members.iter().map(String::as_str));
    b.data_set(Some("ICC1"), "DS_Big", &m).unwrap();
    let mut n = Net::with_model(b);
    n.connect("1.1.1.999", 400);
    let max = n.clients[0].session.negotiated().max_pdu_size;
    assert_eq!(max, 400);
    n.start(
        0,
        "ICC1",
        DsTransferSetValue {
            data_set: ObjectName::domain("ICC1", "DS_Big"),
            interval: 1,
            ..ts_value(DsConditions::INTERVAL)
        },
    );
    n.run_until(at(1.0));
    // The server's PDUs never exceed the negotiated size: the client would reject them.
    let evs = core::mem::take(&mut n.clients[0].events);
    let mut values = Vec::new();
    let mut pdus = 0;
    for e in evs {
        let Event::Unconfirmed(UnconfirmedService::InformationReport(r)) = e else {
            continue;
        };
        pdus += 1;
        assert!(r.clone().into_pdu_len() <= max as usize);
        let rep = Report::decode(&r, |_| None).unwrap();
        assert_eq!(rep.conditions, Some(DsConditions::INTERVAL));
        assert!(rep.transfer_set.is_some());
        values.extend(rep.values.into_iter().map(|(n, d)| (n, real_of(&d))));
    }
    assert!(pdus > 2, "{pdus}");
    let expect: Vec<(ObjectName, f32)> = (1..=40)
        .map(|i| (ObjectName::domain("ICC1", alloc::format!("P{i}")), i as f32))
        .collect();
    assert_eq!(values, expect);
}

trait PduLen {
    fn into_pdu_len(self) -> usize;
}

impl PduLen for crate::mms::InformationReport {
    fn into_pdu_len(self) -> usize {
        crate::mms::MmsPdu::Unconfirmed(UnconfirmedService::InformationReport(self))
            .to_vec()
            .len()
    }
}

#[test]
fn both_editions_serve_their_transfer_set_layout() {
    for ed in [Edition::V1996_08, Edition::V2000_08] {
        let mut n = Net::with_model(model(ed, Unlisted::Refuse));
        n.connect("1.1.1.999", 65000);
        let AccessResult::Success(v) = n.read1(0, ObjectName::vmd("TASE2_Version")) else {
            panic!()
        };
        assert_eq!(tc::parse_version(&v), Some(ed));
        let AccessResult::Success(f) = n.read1(0, ObjectName::vmd("Supported_Features")) else {
            panic!()
        };
        let f = tc::parse_features(&f).unwrap();
        assert!(f.has_block(1) && f.has_block(2) && f.has_block(5) && !f.has_block(3));
        let ts = n.start(
            0,
            "ICC1",
            DsTransferSetValue {
                interval: 1,
                ..ts_value(DsConditions::INTERVAL)
            },
        );
        let AccessResult::Success(Data::Structure(c)) = n.read1(0, ts.clone()) else {
            panic!()
        };
        let want = if ed == Edition::V2000_08 { 13 } else { 12 };
        assert_eq!(c.len(), want);
        let crate::mms::ConfirmedResponse::GetVariableAccessAttributes(t) = n
            .request(0, |c, now| {
                c.get_variable_access_attributes(now, ts.clone()).unwrap()
            })
            .unwrap()
        else {
            panic!()
        };
        assert!(t.type_description.matches(&Data::Structure(c)));
        n.run_until(at(1.0));
        assert_eq!(n.reports(0).len(), 1);
    }
}

#[test]
fn bilateral_tables_refuse_strangers_and_wrong_called_titles() {
    let mut n = Net::with_model(model(Edition::V2000_08, Unlisted::Refuse));
    let i = n.connect_as("1.1.1.555", "1.1.1.998", 65000);
    let j = n.connect_as("1.1.1.999", "1.1.1.321", 65000);
    for (k, diag) in [
        (i, user_diagnostic::CALLING_AP_TITLE_NOT_RECOGNIZED),
        (j, user_diagnostic::CALLED_AP_TITLE_NOT_RECOGNIZED),
    ] {
        assert!(!n.clients[k].session.is_established());
        assert!(
            n.clients[k].events.iter().any(|e| matches!(
                e,
                Event::Closed(Some(AssocError::Refused(crate::assoc::RefusalReason::Acse {
                    diagnostic: Some(crate::acse::AssociateDiagnostic::User(d)),
                    ..
                }))) if *d == diag
            )),
            "{:?}",
            n.clients[k].events
        );
    }
    // Configured to admit strangers with VCC scope only.
    let mut n = Net::with_model(model(Edition::V2000_08, Unlisted::VccOnly));
    let i = n.connect("1.1.1.555", 65000);
    assert!(matches!(
        n.read1(i, ObjectName::vmd("Freq")),
        AccessResult::Success(_)
    ));
    assert_eq!(
        n.read1(i, ObjectName::domain("ICC1", "P1")),
        AccessResult::Failure(DataAccessError::OBJECT_NON_EXISTENT)
    );
    let Ok(ConfirmedResponse::GetNameList(l)) = n.request(i, |c, now| {
        c.get_name_list(now, ObjectClass::Domain, ObjectScope::Vmd, None)
            .unwrap()
    }) else {
        panic!()
    };
    assert!(l.identifiers.is_empty());
}

#[test]
fn nothing_leaks_between_clients() {
    let mut n = Net::standard();
    let other = |d: &str| ObjectName::domain("ICC2", d);
    // GetNameList of domains: each sees its own.
    for (i, want) in [(0, "ICC1"), (1, "ICC2")] {
        let Ok(ConfirmedResponse::GetNameList(l)) = n.request(i, |c, now| {
            c.get_name_list(now, ObjectClass::Domain, ObjectScope::Vmd, None)
                .unwrap()
        }) else {
            panic!()
        };
        assert_eq!(l.identifiers, vec![String::from(want)]);
    }
    // GetNameList inside the other domain, variables and lists.
    for class in [ObjectClass::NamedVariable, ObjectClass::NamedVariableList] {
        let r = n.request(0, |c, now| {
            c.get_name_list(now, class, ObjectScope::Domain("ICC2".into()), None)
                .unwrap()
        });
        assert!(
            matches!(&r, Err(RequestError::Service(e)) if e.class == ErrorClass::ACCESS_OBJECT_NON_EXISTENT),
            "{r:?}"
        );
    }
    // Read, Write, GVAA, list services.
    for name in [
        "P1",
        "Bilateral_Table_ID",
        "Next_DSTransfer_Set",
        "DSTransfer_Set_1",
        "Setpoint",
    ] {
        assert_eq!(
            n.read1(0, other(name)),
            AccessResult::Failure(DataAccessError::OBJECT_NON_EXISTENT),
            "{name}"
        );
    }
    assert_eq!(
        n.write1(
            0,
            other("Setpoint"),
            Data::Float(crate::mms::Float::F32(1.0))
        ),
        WriteResult::Failure(DataAccessError::OBJECT_NON_EXISTENT)
    );
    let r = n.request(0, |c, now| {
        c.get_variable_access_attributes(now, other("P1")).unwrap()
    });
    assert!(
        matches!(&r, Err(RequestError::Service(e)) if e.class == ErrorClass::ACCESS_OBJECT_NON_EXISTENT)
    );
    let r = n.request(0, |c, now| c.read_list(now, other("DS_All")).unwrap());
    assert_eq!(
        r.unwrap(),
        ConfirmedResponse::Read(crate::mms::ReadResponse {
            variables: None,
            results: vec![AccessResult::Failure(DataAccessError::OBJECT_NON_EXISTENT)]
        })
    );
    let r = n.request(0, |c, now| {
        c.get_named_variable_list_attributes(now, other("DS_All"))
            .unwrap()
    });
    assert!(r.is_err());
    // Defining a data set in the other domain, or with the other's members, or at VCC scope.
    let r = n.request(0, |c, now| {
        c.define_named_variable_list(now, other("Mine"), &[other("P1")])
            .unwrap()
    });
    assert!(
        matches!(&r, Err(RequestError::Service(e)) if e.class == ErrorClass::DEFINITION_OBJECT_UNDEFINED),
        "{r:?}"
    );
    let r = n.request(0, |c, now| {
        c.define_named_variable_list(now, ObjectName::domain("ICC1", "Mine"), &[other("P1")])
            .unwrap()
    });
    assert!(
        matches!(&r, Err(RequestError::Service(e)) if e.class == ErrorClass::DEFINITION_OBJECT_UNDEFINED),
        "{r:?}"
    );
    let r = n.request(0, |c, now| {
        c.define_named_variable_list(now, ObjectName::vmd("Mine"), &[ObjectName::vmd("Freq")])
            .unwrap()
    });
    assert!(
        matches!(&r, Err(RequestError::Service(e)) if e.class == ErrorClass::ACCESS_OBJECT_ACCESS_DENIED),
        "{r:?}"
    );
    // Deleting the other's list matches nothing.
    let r = n.request(0, |c, now| {
        c.delete_named_variable_lists(now, &[other("DS_All")])
            .unwrap()
    });
    assert_eq!(
        r.unwrap(),
        ConfirmedResponse::DeleteNamedVariableList {
            number_matched: 0,
            number_deleted: 0
        }
    );
    // The writable point: client 1 has the right, client 2 not on its own copy.
    assert_eq!(
        n.write1(
            0,
            ObjectName::domain("ICC1", "Setpoint"),
            Data::Float(crate::mms::Float::F32(4.5))
        ),
        WriteResult::Success
    );
    assert_eq!(
        n.write1(
            1,
            other("Setpoint"),
            Data::Float(crate::mms::Float::F32(4.5))
        ),
        WriteResult::Failure(DataAccessError::OBJECT_ACCESS_DENIED)
    );
    // Read-only points refuse writes.
    assert_eq!(
        n.write1(
            0,
            ObjectName::domain("ICC1", "P1"),
            Data::Float(crate::mms::Float::F32(4.5))
        ),
        WriteResult::Failure(DataAccessError::OBJECT_ACCESS_DENIED)
    );
    // Bilateral_Table_ID is each one's own.
    assert_eq!(
        n.read1(1, other("Bilateral_Table_ID")),
        AccessResult::Success(Data::VisibleString("BLT_2".into()))
    );
}

#[test]
fn transfer_set_pool_reservation_ownership_and_release() {
    let mut n = Net::standard();
    let next = ObjectName::domain("ICC1", names::NEXT_DS_TRANSFER_SET);
    let a = n.read1(0, next.clone());
    let b = n.read1(0, next.clone());
    assert_ne!(a, b);
    assert_eq!(
        n.read1(0, next.clone()),
        AccessResult::Failure(DataAccessError::TEMPORARILY_UNAVAILABLE),
        "a pool of two"
    );
    // A third client of the same table cannot touch the first one's transfer sets.
    let k = n.connect("1.1.1.999", 65000);
    let AccessResult::Success(a) = a else {
        panic!()
    };
    let ts = tc::parse_next_transfer_set(&a).unwrap();
    assert_eq!(
        n.read1(k, ts.clone()),
        AccessResult::Failure(DataAccessError::OBJECT_ACCESS_DENIED)
    );
    // Release frees them.
    n.clients[0].session.conclude(n.now).unwrap();
    n.drive();
    assert!(matches!(n.read1(k, next), AccessResult::Success(_)));
}

#[test]
fn malformed_transfer_set_writes_change_nothing() {
    let mut n = Net::standard();
    let ts = n.start(
        0,
        "ICC1",
        DsTransferSetValue {
            interval: 2,
            ..ts_value(DsConditions::INTERVAL)
        },
    );
    let before = n.read1(0, ts.clone());
    let good = DsTransferSetValue {
        data_set: ObjectName::domain("ICC1", "DS_All"),
        interval: 2,
        status: true,
        ..ts_value(DsConditions::INTERVAL)
    };
    let with = |f: &dyn Fn(&mut DsTransferSetValue)| {
        let mut v = good.clone();
        f(&mut v);
        v.to_data(Edition::V2000_08)
    };
    let cases: Vec<(Data, DataAccessError)> = vec![
        (Data::Boolean(true), DataAccessError::TYPE_INCONSISTENT),
        (
            Data::Structure(vec![Data::Boolean(true); 3]),
            DataAccessError::TYPE_INCONSISTENT,
        ),
        (
            with(&|v| v.interval = -1),
            DataAccessError::OBJECT_VALUE_INVALID,
        ),
        (
            with(&|v| v.data_set = ObjectName::domain("ICC1", "Nope")),
            DataAccessError::OBJECT_VALUE_INVALID,
        ),
        (
            with(&|v| v.data_set = ObjectName::domain("ICC2", "DS_All")),
            DataAccessError::OBJECT_VALUE_INVALID,
        ),
        (
            with(&|v| v.interval = 0),
            DataAccessError::OBJECT_VALUE_INVALID,
        ),
        (
            with(&|v| v.block_data = true),
            DataAccessError::OBJECT_VALUE_INVALID,
        ),
        (
            with(&|v| v.conditions = DsConditions::default()),
            DataAccessError::OBJECT_VALUE_INVALID,
        ),
        (
            {
                let Data::Structure(mut c) = good.to_data(Edition::V2000_08) else {
                    panic!()
                };
                c[2] = Data::Boolean(false);
                Data::Structure(c)
            },
            DataAccessError::TYPE_INCONSISTENT,
        ),
    ];
    for (value, err) in cases {
        assert_eq!(
            n.write1(0, ts.clone(), value.clone()),
            WriteResult::Failure(err),
            "{value:?}"
        );
        assert_eq!(n.read1(0, ts.clone()), before);
    }
    // Component writes: Interval, then Status false stops it.
    let comp = |c: &str| tc::component(ts.clone(), c);
    let r = n.request(0, |c, now| {
        c.write_specs(now, vec![comp("Interval")], vec![Data::Integer(-5)])
            .unwrap()
    });
    assert_eq!(
        r.unwrap(),
        ConfirmedResponse::Write(vec![WriteResult::Failure(
            DataAccessError::OBJECT_VALUE_INVALID
        )])
    );
    let r = n.request(0, |c, now| {
        c.write_specs(now, vec![comp("Interval")], vec![Data::Integer(1)])
            .unwrap()
    });
    assert_eq!(
        r.unwrap(),
        ConfirmedResponse::Write(vec![WriteResult::Success])
    );
    n.run_until(at(1.0));
    assert_eq!(n.reports(0).len(), 1, "restarted with the new interval");
    let r = n.request(0, |c, now| {
        c.write_specs(now, vec![comp("Status")], vec![Data::Boolean(false)])
            .unwrap()
    });
    assert_eq!(
        r.unwrap(),
        ConfirmedResponse::Write(vec![WriteResult::Success])
    );
    n.run_until(at(10.0));
    assert!(n.reports(0).is_empty());
    let r = n.request(0, |c, now| {
        c.write_specs(now, vec![comp("NoSuch")], vec![Data::Integer(1)])
            .unwrap()
    });
    assert_eq!(
        r.unwrap(),
        ConfirmedResponse::Write(vec![WriteResult::Failure(
            DataAccessError::OBJECT_NON_EXISTENT
        )])
    );
    // A data set in use cannot be deleted; once stopped, it can.
    let mine = ObjectName::domain("ICC1", "Mine");
    let r = n.request(0, |c, now| {
        c.define_named_variable_list(now, mine.clone(), &[ObjectName::domain("ICC1", "P5")])
            .unwrap()
    });
    assert!(r.is_ok());
    let ts2 = n.start(
        0,
        "ICC1",
        DsTransferSetValue {
            data_set: mine.clone(),
            ..ts_value(DsConditions::OPERATOR_REQUEST)
        },
    );
    let del = |n: &mut Net| {
        n.request(0, |c, now| {
            c.delete_named_variable_lists(now, core::slice::from_ref(&mine))
                .unwrap()
        })
        .unwrap()
    };
    assert_eq!(
        del(&mut n),
        ConfirmedResponse::DeleteNamedVariableList {
            number_matched: 1,
            number_deleted: 0
        }
    );
    let r = n.request(0, |c, now| {
        c.write_specs(
            now,
            vec![tc::component(ts2.clone(), "Status")],
            vec![Data::Boolean(false)],
        )
        .unwrap()
    });
    assert_eq!(
        r.unwrap(),
        ConfirmedResponse::Write(vec![WriteResult::Success])
    );
    assert_eq!(
        del(&mut n),
        ConfirmedResponse::DeleteNamedVariableList {
            number_matched: 1,
            number_deleted: 1
        }
    );
}

#[test]
fn client_point_writes_are_typed_and_reported() {
    let mut n = Net::standard();
    let sp = ObjectName::domain("ICC1", "Setpoint");
    assert_eq!(
        n.write1(0, sp.clone(), Data::Integer(3)),
        WriteResult::Failure(DataAccessError::TYPE_INCONSISTENT)
    );
    assert_eq!(
        n.write1(0, sp.clone(), Data::Float(crate::mms::Float::F32(7.25))),
        WriteResult::Success
    );
    let id = n.server.tase2().point_id(&sp).unwrap();
    assert_eq!(
        n.server.tase2().value(id).unwrap().value,
        crate::tase2::Value::Real(7.25)
    );
    assert!(n
        .ext_events()
        .iter()
        .any(|e| matches!(e, Tase2Event::PointWritten { point, .. } if *point == id)));
    assert_eq!(
        n.read1(0, sp),
        AccessResult::Success(Data::Float(crate::mms::Float::F32(7.25)))
    );
}

#[test]
fn transfer_sets_are_freed_when_their_association_ends() {
    let mut n = Net::standard();
    let ts = n.start(
        0,
        "ICC1",
        DsTransferSetValue {
            interval: 1,
            ..ts_value(DsConditions::INTERVAL)
        },
    );
    n.clients[0].session.abort();
    n.drive();
    let id = n.clients[0].conn;
    assert!(n.ext_events().contains(&Tase2Event::TransferSetStopped {
        id,
        name: ts.clone()
    }));
    let (owner, v) = n.server.tase2().transfer_set(&ts).unwrap();
    assert_eq!(owner, None);
    assert!(!v.status);
    // No timer left behind for it.
    assert_eq!(n.server.hooks().poll_timeout(), None);
    let _ = object_name_data(&ts);
}

/// Writes the fuzz seeds of the `tase2` target (run with `--ignored` after changing them).
#[test]
#[ignore]
fn write_fuzz_seeds() {
    use crate::mms::{ConfirmedRequest, MmsPdu, ReadRequest, VariableSpec, WriteRequest};
    extern crate std;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/tase2");
    std::fs::create_dir_all(&dir).unwrap();
    let req = |r| MmsPdu::ConfirmedRequest {
        invoke_id: 1,
        request: r,
    };
    let spec = |n: &str| VariableSpec::named(ObjectName::domain("ICC1", n));
    let ts = DsTransferSetValue {
        data_set: ObjectName::domain("ICC1", "DS"),
        integrity_check: 1,
        rbe: true,
        critical: true,
        status: true,
        ..ts_value(DsConditions::INTEGRITY | DsConditions::OBJECT_CHANGE)
    };
    let mut seeds: Vec<(&str, Vec<u8>)> = vec![
        (
            "read_next_ts",
            req(ConfirmedRequest::Read(ReadRequest {
                specification_with_result: false,
                variables: crate::mms::VariableAccessSpecification::ListOfVariable(vec![
                    spec("Next_DSTransfer_Set"),
                    spec("P1"),
                ]),
            }))
            .to_vec(),
        ),
        (
            "write_ts",
            req(ConfirmedRequest::Write(WriteRequest {
                variables: crate::mms::VariableAccessSpecification::ListOfVariable(vec![spec(
                    "DSTransfer_Set_1",
                )]),
                data: vec![ts.to_data(Edition::V2000_08)],
            }))
            .to_vec(),
        ),
        (
            "write_status",
            req(ConfirmedRequest::Write(WriteRequest {
                variables: crate::mms::VariableAccessSpecification::ListOfVariable(vec![
                    tc::component(ObjectName::domain("ICC1", "DSTransfer_Set_1"), "Status"),
                ]),
                data: vec![Data::Boolean(true)],
            }))
            .to_vec(),
        ),
        (
            "ack",
            MmsPdu::Unconfirmed(UnconfirmedService::InformationReport(tc::ack(
                &ObjectName::domain("ICC1", "DSTransfer_Set_1"),
                1_700_000_001,
            )))
            .to_vec(),
        ),
        ("ts_value", {
            let mut b = Vec::new();
            ts.to_data(Edition::V1996_08)
                .encode(&mut Writer::new(&mut b));
            b
        }),
    ];
    for t in PointType::all().step_by(3) {
        seeds.push(("point", t.encode_to_vec(&t.zero())));
    }
    // Blocks 4 and 5: select and operate in one request, a tag write, enabling messages.
    let write = |specs: Vec<VariableSpec>, data: Vec<Data>| {
        req(ConfirmedRequest::Write(WriteRequest {
            variables: crate::mms::VariableAccessSpecification::ListOfVariable(specs),
            data,
        }))
        .to_vec()
    };
    seeds.push((
        "select",
        req(ConfirmedRequest::Read(ReadRequest {
            specification_with_result: false,
            variables: crate::mms::VariableAccessSpecification::ListOfVariable(vec![spec(
                "D1_SBO",
            )]),
        }))
        .to_vec(),
    ));
    seeds.push((
        "operate",
        write(
            vec![spec("D1"), spec("D2")],
            vec![
                Data::Integer(1),
                crate::tase2::ControlValue::Real(2.5).to_data(),
            ],
        ),
    ));
    seeds.push((
        "tag",
        write(
            vec![spec("D1_TAG")],
            vec![crate::tase2::Tag {
                value: crate::tase2::TagValue::CloseOnlyInhibit,
                armed: false,
                reason: "fuzz".into(),
            }
            .to_data()],
        ),
    ));
    seeds.push((
        "im_enable",
        write(
            vec![VariableSpec::named(ObjectName::AaSpecific(
                crate::tase2::info::IM_TRANSFER_SET.into(),
            ))],
            vec![Data::Boolean(true)],
        ),
    ));
    for (i, (name, bytes)) in seeds.iter().enumerate() {
        std::fs::write(dir.join(alloc::format!("{i:02}_{name}")), bytes).unwrap();
    }
}

fn empty_builder() -> Tase2Builder {
    let mut b = Tase2Builder::new(Tase2Config::default());
    b.domain("ICC1", 1).unwrap();
    b
}

#[test]
fn the_builder_refuses_names_that_are_no_mms_identifiers_or_taken() {
    let mut b = empty_builder();
    let v = PointValue::real(0.0);
    for bad in ["", "Bad.Name", "1st", "A_name_of_thirty_three_characters"] {
        assert_eq!(
            b.point(Some("ICC1"), bad, RQT, v),
            Err(ModelError::InvalidName(bad.into()))
        );
    }
    b.point(Some("ICC1"), "P", RQT, v).unwrap();
    let dup = |name: &str| ModelError::DuplicateName {
        scope: Some("ICC1".into()),
        name: name.into(),
    };
    assert_eq!(b.point(Some("ICC1"), "P", SQT, v), Err(dup("P")));
    assert_eq!(
        b.point(Some("ICC1"), "Transfer_Set_Name", RQT, v),
        Err(dup("Transfer_Set_Name"))
    );
    assert_eq!(
        b.point(None, "TASE2_Version", RQT, v)
            .unwrap_err()
            .to_string(),
        "TASE2_Version is defined twice"
    );
    assert_eq!(
        b.domain("ICC1", 1).unwrap_err(),
        ModelError::DuplicateDomain("ICC1".into())
    );
    let sbo = DeviceSpec::new(
        crate::tase2::DeviceKind::Command,
        crate::tase2::ControlMode::Sbo,
    );
    b.point(Some("ICC1"), "D_TAG", RQT, v).unwrap();
    assert_eq!(b.device(Some("ICC1"), "D", sbo.tagged()), Err(dup("D_TAG")));
    assert_eq!(
        b.device(Some("ICC1"), "Breaker_Command_Number_00000001", sbo),
        Err(ModelError::DeviceNameTooLong(
            "Breaker_Command_Number_00000001".into()
        ))
    );
    b.info_buffer(Some("ICC1"), 64).unwrap();
    assert_eq!(
        b.info_buffer(Some("ICC1"), 64).unwrap_err(),
        dup("Info_Buff_64")
    );
    assert_eq!(
        b.info_buffer(Some("ICC1"), 0).unwrap_err(),
        ModelError::InfoBufferSizeOutOfRange(0)
    );
    assert_eq!(
        b.variable(
            None,
            "Supported_Features",
            Variable::read_only(TypeDescription::Boolean, Data::Boolean(true))
        )
        .unwrap_err(),
        ModelError::DuplicateName {
            scope: None,
            name: "Supported_Features".into()
        }
    );
}

#[test]
fn a_refused_device_leaves_the_model_as_it_was() {
    let mut b = empty_builder();
    b.point(Some("ICC1"), "D_TAG", RQT, PointValue::real(0.0))
        .unwrap();
    let spec = DeviceSpec::new(
        crate::tase2::DeviceKind::Command,
        crate::tase2::ControlMode::Sbo,
    )
    .tagged();
    assert!(b.device(Some("ICC1"), "D", spec).is_err());
    // Neither `D` nor `D_SBO` was added: the same device without a tag goes in.
    let id = b
        .device(
            Some("ICC1"),
            "D",
            DeviceSpec {
                tagged: false,
                ..spec
            },
        )
        .unwrap();
    assert_eq!(id, DeviceId(0));
}

#[test]
fn the_builder_refuses_references_to_objects_not_defined_before() {
    let mut b = empty_builder();
    let v = PointValue::real(0.0);
    assert_eq!(
        b.point(Some("ICC9"), "P", RQT, v),
        Err(ModelError::UnknownDomain("ICC9".into()))
    );
    b.point(Some("ICC1"), "P", RQT, v).unwrap();
    assert_eq!(
        b.data_set(Some("ICC1"), "DS", &["P", "Nope"]).unwrap_err(),
        ModelError::UnknownMember {
            data_set: ObjectName::domain("ICC1", "DS"),
            member: ObjectName::domain("ICC1", "Nope"),
        }
    );
    b.data_set(Some("ICC1"), "DS", &["P", "/TASE2_Version"])
        .unwrap();
    assert_eq!(
        b.data_set(Some("ICC1"), "DS", &["P"]).unwrap_err(),
        ModelError::DuplicateDataSet(ObjectName::domain("ICC1", "DS"))
    );
    let too_many = vec!["P"; MAX_DATA_SET_MEMBERS + 1];
    assert!(matches!(
        b.data_set(Some("ICC1"), "DS_Huge", &too_many),
        Err(ModelError::DataSetTooLarge { members, .. }) if members == MAX_DATA_SET_MEMBERS + 1
    ));
    let client = ClientMatch::ap_title(&[1, 1, 1, 999], 12);
    let table = |id: &str, domain: &str| BilateralTable::new(id, client.clone(), domain);
    let refused = |b: &mut Tase2Builder, t| b.table(t).map(|_| ()).unwrap_err().to_string();
    assert_eq!(
        refused(&mut b, table("T", "ICC9")),
        "bilateral table T: no domain named \"ICC9\""
    );
    assert_eq!(
        refused(&mut b, table("T", "ICC1").grant("Nope", Rights::READ)),
        "bilateral table T: rights for ICC1/Nope, which does not exist"
    );
    assert_eq!(
        refused(&mut b, table("T", "ICC1").check_back_id("P", 1)),
        "bilateral table T: check_back_ids for ICC1/P, which is not a device"
    );
    assert_eq!(
        refused(
            &mut b,
            BilateralTable::new("T", ClientMatch::default(), "ICC1")
        ),
        "bilateral table T: the client must name at least an ap_title"
    );
    assert_eq!(
        refused(&mut b, table("Two words", "ICC1")),
        "Bilateral_Table_ID \"Two words\" must be 1-32 visible ASCII characters"
    );
    b.table(
        table("T", "ICC1")
            .grant("DS", Rights::READ)
            .grant("/TASE2_Version", Rights::READ),
    )
    .unwrap();
    assert_eq!(
        refused(&mut b, table("T", "ICC1")),
        "bilateral table T is defined twice"
    );
    assert_eq!(
        refused(&mut b, table("U", "ICC1")),
        "bilateral table U: domain ICC1 already belongs to table T"
    );
}

#[test]
fn a_point_type_outside_the_edition_is_refused_in_words() {
    let mut b = Tase2Builder::new(Tase2Config {
        edition: Edition::V1996_08,
        ..Tase2Config::default()
    });
    let t = PointType::Indication(Family::Real, Form::QTimeTagExtended);
    assert_eq!(
        b.point(None, "X", t, t.zero()).unwrap_err().to_string(),
        "X: Data_RealQTimeTagExtended does not exist in edition 1996.08"
    );
}
