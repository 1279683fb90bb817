//! Blocks 4 and 5 on the virtual clock: select-before-operate timing, racing associations, every
//! tag rule, the application's decision, information message filtering, both editions.

use super::*;
use crate::mms::DataAccessError as E;
use crate::tase2::device::{Command, ControlMode, ControlValue, DeviceKind, Tag, TagValue};
use crate::tase2::info::{InfoHeader, InfoMessage, InfoScope, IM_TRANSFER_SET};

const RW: Rights = Rights::READ_WRITE;

fn control_model(edition: Edition, operate: OperatePolicy) -> Tase2Builder {
    let mut b = Tase2Builder::new(Tase2Config {
        edition,
        local_ap_title: Some("1.1.1.998".parse().unwrap()),
        operate,
        ..Tase2Config::default()
    });
    for d in ["ICC1", "ICC2"] {
        b.domain(d, 1).unwrap();
        b.point(Some(d), "Brk1", SQT, PointValue::state(StateValue::Off))
            .unwrap();
        let spec = DeviceSpec::new;
        use ControlMode::{Direct, Sbo};
        use DeviceKind::*;
        b.device(
            Some(d),
            "Brk1_Cmd",
            spec(Command, Sbo).tagged().check_back_id(101),
        )
        .unwrap();
        b.device(Some(d), "Gen_SP", spec(RealSetpoint, Direct))
            .unwrap();
        b.device(
            Some(d),
            "Tap_SP",
            spec(DiscreteSetpoint, Sbo).check_back_id(7),
        )
        .unwrap();
        b.device(Some(d), "Cap_Cmd", spec(Command, Direct).tagged())
            .unwrap();
        b.device(Some(d), "Brk3_Cmd", spec(Command, Sbo)).unwrap();
        b.info_buffer(Some(d), 64).unwrap();
        b.info_buffer(Some(d), 1024).unwrap();
    }
    b.info_buffer(None, 256).unwrap();
    let grants = |t: BilateralTable| {
        t.grant("Brk1_Cmd", RW)
            .grant("Gen_SP", RW)
            .grant("Tap_SP", RW)
            .grant("Cap_Cmd", RW)
    };
    b.table(
        grants(BilateralTable::new(
            "BLT_1",
            ClientMatch::ap_title(&[1, 1, 1, 999], 12),
            "ICC1",
        ))
        .check_back_id("Tap_SP", 1207)
        .admit_info(InfoScope::Vcc, 1, None)
        .admit_info(InfoScope::Icc, 10, Some(1)),
    )
    .unwrap();
    b.table(
        grants(BilateralTable::new(
            "BLT_2",
            ClientMatch::ap_title(&[1, 1, 1, 997], 12),
            "ICC2",
        ))
        .admit_info(InfoScope::Icc, 10, None),
    )
    .unwrap();
    b
}

fn net(operate: OperatePolicy) -> Net {
    let mut n = Net::with_model(control_model(Edition::V2000_08, operate));
    n.connect("1.1.1.999", 65000);
    n.connect("1.1.1.997", 65000);
    n
}

fn ask() -> OperatePolicy {
    OperatePolicy::default()
}

fn icc1(item: &str) -> ObjectName {
    ObjectName::domain("ICC1", item)
}

fn cmd(on: bool) -> Data {
    ControlValue::Command(if on { Command::On } else { Command::Off }).to_data()
}

fn tag_data(value: TagValue, reason: &str) -> Data {
    Tag {
        value,
        armed: false,
        reason: reason.into(),
    }
    .to_data()
}

impl Net {
    /// Send a Write without waiting for its answer; the invoke id.
    fn send_write(&mut self, i: usize, name: ObjectName, value: Data) -> u32 {
        let now = self.now;
        let id = self.clients[i]
            .session
            .write(now, &[name], vec![value])
            .unwrap();
        self.drive();
        id
    }

    /// The answer to `invoke` if it came (taken).
    fn take_write(&mut self, i: usize, invoke: u32) -> Option<WriteResult> {
        let ev = &mut self.clients[i].events;
        let pos = ev
            .iter()
            .position(|e| matches!(e, Event::Response { invoke_id, .. } if *invoke_id == invoke))?;
        match ev.remove(pos) {
            Event::Response {
                result: Ok(ConfirmedResponse::Write(mut r)),
                ..
            } => Some(r.remove(0)),
            other => panic!("{other:?}"),
        }
    }

    /// The operates the application was asked about since the last call.
    /// (Other events stay for `ext_events`.)
    fn operate_requests(&mut self) -> Vec<(OperateId, DeviceId, ControlValue)> {
        let mut out = Vec::new();
        self.server_events.retain(|e| match e {
            ServerEvent::Extension(Tase2Event::OperateRequested {
                op, device, value, ..
            }) => {
                out.push((*op, *device, *value));
                false
            }
            _ => true,
        });
        out
    }

    /// Operate and let the application accept whatever it is asked.
    fn operate(&mut self, i: usize, name: ObjectName, value: Data) -> WriteResult {
        let invoke = self.send_write(i, name, value);
        for (op, ..) in self.operate_requests() {
            self.server.answer_operate(op, Ok(())).unwrap();
        }
        self.drive();
        self.take_write(i, invoke).expect("an answer")
    }

    fn select(&mut self, i: usize, device: &str) -> AccessResult {
        self.read1(i, icc1(&alloc::format!("{device}_SBO")))
    }

    fn device(&self, name: &str) -> DeviceId {
        self.server.tase2().device_id(&icc1(name)).unwrap()
    }

    fn refusals(&mut self) -> Vec<ControlRefusal> {
        self.ext_events()
            .into_iter()
            .filter_map(|e| match e {
                Tase2Event::ControlRefused { reason, .. } => Some(reason),
                _ => None,
            })
            .collect()
    }

    fn info_messages(&mut self, i: usize) -> Vec<InfoMessage> {
        let evs = core::mem::take(&mut self.clients[i].events);
        let mut out = Vec::new();
        for e in evs {
            match e {
                Event::Unconfirmed(UnconfirmedService::InformationReport(r)) => {
                    out.push(InfoMessage::decode(&r).expect("an information message"));
                }
                other => self.clients[i].events.push(other),
            }
        }
        out
    }
}

fn fail(e: DataAccessError) -> WriteResult {
    WriteResult::Failure(e)
}

#[test]
fn select_then_operate_just_before_and_just_after_the_timeout() {
    let mut n = net(ask());
    let brk = n.device("Brk1_Cmd");
    // Select at 0: CheckBackID 101, armed until 10 s.
    assert_eq!(
        n.select(0, "Brk1_Cmd"),
        AccessResult::Success(Data::Integer(101))
    );
    assert!(n.ext_events().contains(&Tase2Event::Selected {
        id: n.clients[0].conn,
        device: brk,
        check_back_id: 101
    }));
    n.run_until(at(9.999));
    assert!(n.ext_events().is_empty(), "no timeout yet");
    let invoke = n.send_write(0, icc1("Brk1_Cmd"), cmd(true));
    // The answer waits for the application.
    assert_eq!(n.take_write(0, invoke), None);
    let reqs = n.operate_requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].1, brk);
    assert_eq!(reqs[0].2, ControlValue::Command(Command::On));
    n.server.answer_operate(reqs[0].0, Ok(())).unwrap();
    n.drive();
    assert_eq!(n.take_write(0, invoke), Some(WriteResult::Success));
    assert!(n.ext_events().contains(&Tase2Event::Operated {
        id: n.clients[0].conn,
        device: brk,
        value: ControlValue::Command(Command::On)
    }));
    let s = n.server.tase2().device(n.now, brk).unwrap();
    assert_eq!(s.last, Some(ControlValue::Command(Command::On)));
    assert_eq!(s.armed_by, None, "one operate per select");
    // The device reads back the value operated.
    assert_eq!(
        n.read1(0, icc1("Brk1_Cmd")),
        AccessResult::Success(Data::Integer(1))
    );
    // A second operate needs a new select.
    assert_eq!(
        n.operate(0, icc1("Brk1_Cmd"), cmd(false)),
        fail(E::OBJECT_ACCESS_DENIED)
    );
    assert_eq!(n.refusals(), vec![ControlRefusal::NotSelected]);

    // Select at 10 s, let it lapse: the application hears it at 20 s, the operate at 20.001 s
    // is refused.
    n.run_until(at(10.0));
    assert_eq!(
        n.select(0, "Brk1_Cmd"),
        AccessResult::Success(Data::Integer(101))
    );
    n.ext_events();
    n.run_until(at(20.0));
    assert_eq!(
        n.ext_events(),
        vec![Tase2Event::SelectTimedOut {
            id: n.clients[0].conn,
            device: brk
        }]
    );
    n.run_until(at(20.001));
    assert_eq!(
        n.operate(0, icc1("Brk1_Cmd"), cmd(false)),
        fail(E::OBJECT_ACCESS_DENIED)
    );
    assert_eq!(n.refusals(), vec![ControlRefusal::NotSelected]);
    assert_eq!(
        n.server.tase2().device(n.now, brk).unwrap().last,
        Some(ControlValue::Command(Command::On)),
        "nothing operated"
    );
}

#[test]
fn an_operate_in_the_same_instant_the_select_lapses_is_refused_as_expired() {
    let mut n = net(OperatePolicy::AcceptAll);
    assert_eq!(
        n.select(0, "Brk1_Cmd"),
        AccessResult::Success(Data::Integer(101))
    );
    // The clock reaches the deadline but the timer has not run: the operate finds it expired.
    n.now = n.now + Duration::from_secs(10);
    assert_eq!(
        n.operate(0, icc1("Brk1_Cmd"), cmd(true)),
        fail(E::OBJECT_ACCESS_DENIED)
    );
    let evs = n.ext_events();
    assert!(evs
        .iter()
        .any(|e| matches!(e, Tase2Event::SelectTimedOut { .. })));
    assert!(evs.iter().any(|e| matches!(
        e,
        Tase2Event::ControlRefused {
            reason: ControlRefusal::SelectExpired,
            ..
        }
    )));
}

#[test]
fn two_associations_race_for_one_device() {
    let mut n = net(OperatePolicy::AcceptAll);
    let b = n.connect("1.1.1.999", 65000); // a second association of the same client
    assert_eq!(
        n.select(0, "Tap_SP"),
        AccessResult::Success(Data::Integer(1207))
    );
    // The other association can neither select nor operate while the select holds.
    assert_eq!(
        n.select(b, "Tap_SP"),
        AccessResult::Failure(E::TEMPORARILY_UNAVAILABLE)
    );
    assert_eq!(
        n.operate(b, icc1("Tap_SP"), Data::Integer(5)),
        fail(E::OBJECT_ACCESS_DENIED)
    );
    n.ext_events();
    // Reselecting by the holder re-arms it.
    n.run_until(at(5.0));
    assert_eq!(
        n.select(0, "Tap_SP"),
        AccessResult::Success(Data::Integer(1207))
    );
    n.run_until(at(14.0));
    assert_eq!(
        n.operate(0, icc1("Tap_SP"), Data::Integer(5)),
        WriteResult::Success
    );
    // Now free: the other association selects and operates.
    assert_eq!(
        n.select(b, "Tap_SP"),
        AccessResult::Success(Data::Integer(1207))
    );
    assert_eq!(
        n.operate(b, icc1("Tap_SP"), Data::Integer(-3)),
        WriteResult::Success
    );
    let tap = n.device("Tap_SP");
    assert_eq!(
        n.server.tase2().device(n.now, tap).unwrap().last,
        Some(ControlValue::Discrete(-3))
    );
    // The ICC2 client's Tap_SP is another device, with the device's own CheckBackID.
    assert_eq!(
        n.read1(1, ObjectName::domain("ICC2", "Tap_SP_SBO")),
        AccessResult::Success(Data::Integer(7))
    );
    // A select held by an association that goes away is released.
    assert_eq!(
        n.select(b, "Tap_SP"),
        AccessResult::Success(Data::Integer(1207))
    );
    let conn = n.clients[b].conn;
    n.server.abort(n.now, conn);
    n.drive();
    assert_eq!(
        n.select(0, "Tap_SP"),
        AccessResult::Success(Data::Integer(1207))
    );
}

#[test]
fn tag_rules() {
    let mut n = net(OperatePolicy::AcceptAll);
    let b = n.connect("1.1.1.999", 65000);
    let brk = n.device("Brk1_Cmd");
    let tag = icc1("Brk1_Cmd_TAG");
    assert_eq!(
        n.read1(0, tag.clone()),
        AccessResult::Success(tag_data(TagValue::None, ""))
    );
    // Open-and-close inhibit: select and operate refused.
    assert_eq!(
        n.write1(
            0,
            tag.clone(),
            tag_data(TagValue::OpenAndCloseInhibit, "crew on line")
        ),
        WriteResult::Success
    );
    assert!(n.ext_events().contains(&Tase2Event::TagChanged {
        id: Some(n.clients[0].conn),
        device: brk,
        tag: Tag {
            value: TagValue::OpenAndCloseInhibit,
            armed: false,
            reason: "crew on line".into()
        }
    }));
    assert_eq!(
        n.select(0, "Brk1_Cmd"),
        AccessResult::Failure(E::OBJECT_ACCESS_DENIED)
    );
    assert_eq!(n.refusals(), vec![ControlRefusal::Tagged]);
    // A direct device with the tag refuses operate too.
    assert_eq!(
        n.write1(
            0,
            icc1("Cap_Cmd_TAG"),
            tag_data(TagValue::OpenAndCloseInhibit, "x")
        ),
        WriteResult::Success
    );
    assert_eq!(
        n.operate(0, icc1("Cap_Cmd"), cmd(false)),
        fail(E::OBJECT_ACCESS_DENIED)
    );
    // Only the association that set a tag may change it.
    assert_eq!(
        n.write1(b, tag.clone(), tag_data(TagValue::None, "")),
        fail(E::OBJECT_ACCESS_DENIED)
    );
    assert!(n.refusals().contains(&ControlRefusal::TagOwnedByOther));
    // Close-only inhibit: close refused, open allowed.
    assert_eq!(
        n.write1(
            0,
            tag.clone(),
            tag_data(TagValue::CloseOnlyInhibit, "hot line")
        ),
        WriteResult::Success
    );
    assert_eq!(
        n.select(0, "Brk1_Cmd"),
        AccessResult::Success(Data::Integer(101))
    );
    // While armed the tag reads Armed and cannot change.
    let AccessResult::Success(d) = n.read1(0, tag.clone()) else {
        panic!()
    };
    assert_eq!(
        Tag::from_data(&d).unwrap(),
        Tag {
            value: TagValue::CloseOnlyInhibit,
            armed: true,
            reason: "hot line".into()
        }
    );
    assert_eq!(
        n.write1(0, tag.clone(), tag_data(TagValue::None, "")),
        fail(E::TEMPORARILY_UNAVAILABLE)
    );
    assert!(n.refusals().contains(&ControlRefusal::Armed));
    assert_eq!(
        n.operate(0, icc1("Brk1_Cmd"), cmd(true)),
        fail(E::OBJECT_ACCESS_DENIED)
    );
    assert_eq!(
        n.select(0, "Brk1_Cmd"),
        AccessResult::Success(Data::Integer(101))
    );
    assert_eq!(
        n.operate(0, icc1("Brk1_Cmd"), cmd(false)),
        WriteResult::Success
    );
    // Tag value 3 is invalid; a wrong type is type-inconsistent.
    assert_eq!(
        n.write1(0, tag.clone(), tag_data(TagValue::Invalid, "")),
        fail(E::OBJECT_VALUE_INVALID)
    );
    assert_eq!(
        n.write1(0, tag.clone(), Data::Integer(1)),
        fail(E::TYPE_INCONSISTENT)
    );
    // The setter clears it; then anyone may set it.
    assert_eq!(
        n.write1(0, tag.clone(), tag_data(TagValue::None, "")),
        WriteResult::Success
    );
    assert_eq!(
        n.write1(b, tag.clone(), tag_data(TagValue::CloseOnlyInhibit, "b")),
        WriteResult::Success
    );
    // When the setter's association ends, another association of the same client may change it.
    let conn = n.clients[b].conn;
    n.server.abort(n.now, conn);
    n.drive();
    assert_eq!(
        n.write1(0, tag.clone(), tag_data(TagValue::None, "")),
        WriteResult::Success
    );
    // A local tag overrides, and no client may change it.
    n.ext_events();
    n.server
        .set_tag(n.now, brk, TagValue::OpenAndCloseInhibit, "local work")
        .unwrap();
    n.drive();
    assert!(n.ext_events().contains(&Tase2Event::TagChanged {
        id: None,
        device: brk,
        tag: Tag {
            value: TagValue::OpenAndCloseInhibit,
            armed: false,
            reason: "local work".into()
        }
    }));
    assert_eq!(
        n.write1(0, tag.clone(), tag_data(TagValue::None, "")),
        fail(E::OBJECT_ACCESS_DENIED)
    );
    n.server.set_tag(n.now, brk, TagValue::None, "").unwrap();
    assert_eq!(
        n.select(0, "Brk1_Cmd"),
        AccessResult::Success(Data::Integer(101))
    );
    // Not even locally while armed.
    assert_eq!(
        n.server.set_tag(n.now, brk, TagValue::CloseOnlyInhibit, ""),
        Err(TagError::Armed)
    );
    let gen = n.device("Gen_SP");
    assert_eq!(
        n.server.set_tag(n.now, gen, TagValue::CloseOnlyInhibit, ""),
        Err(TagError::NoTag)
    );
}

#[test]
fn the_application_decides_and_an_unanswered_operate_times_out() {
    let mut n = net(ask());
    // Refused by the application with hardware-fault.
    let invoke = n.send_write(0, icc1("Gen_SP"), ControlValue::Real(412.5).to_data());
    let reqs = n.operate_requests();
    assert_eq!(reqs[0].2, ControlValue::Real(412.5));
    n.server
        .answer_operate(reqs[0].0, Err(E::HARDWARE_FAULT))
        .unwrap();
    n.drive();
    assert_eq!(n.take_write(0, invoke), Some(fail(E::HARDWARE_FAULT)));
    assert_eq!(
        n.refusals(),
        vec![ControlRefusal::Application(E::HARDWARE_FAULT)]
    );
    // Answering twice is an error, not a second response.
    assert_eq!(
        n.server.answer_operate(reqs[0].0, Ok(())),
        Err(crate::assoc::ApiError::InvalidState)
    );
    // While an operate waits, the device is busy; other requests on the association are served.
    n.run_until(at(1.0));
    let invoke = n.send_write(0, icc1("Gen_SP"), ControlValue::Real(1.0).to_data());
    assert_eq!(n.operate_requests().len(), 1);
    let busy = n.send_write(0, icc1("Gen_SP"), ControlValue::Real(2.0).to_data());
    assert_eq!(
        n.take_write(0, busy),
        Some(fail(E::TEMPORARILY_UNAVAILABLE))
    );
    assert_eq!(n.refusals(), vec![ControlRefusal::Busy]);
    assert!(matches!(n.read1(0, icc1("Brk1")), AccessResult::Success(_)));
    // Nobody answers: refused at 1 + 5 s, not before.
    n.run_until(at(5.999));
    assert_eq!(n.take_write(0, invoke), None);
    n.run_until(at(6.0));
    assert_eq!(
        n.take_write(0, invoke),
        Some(fail(E::TEMPORARILY_UNAVAILABLE))
    );
    assert_eq!(n.refusals(), vec![ControlRefusal::Unanswered]);
    // An operate whose association ends cannot be answered any more.
    let _ = n.send_write(0, icc1("Gen_SP"), ControlValue::Real(3.0).to_data());
    let reqs = n.operate_requests();
    let conn = n.clients[0].conn;
    n.server.abort(n.now, conn);
    n.drive();
    assert_eq!(
        n.server.answer_operate(reqs[0].0, Ok(())),
        Err(crate::assoc::ApiError::InvalidState)
    );
    let gen = n.device("Gen_SP");
    assert_eq!(n.server.tase2().device(n.now, gen).unwrap().last, None);
}

#[test]
fn a_write_of_a_device_and_a_point_together_is_answered_once() {
    let mut n = net(ask());
    let now = n.now;
    let invoke = n.clients[0]
        .session
        .write(
            now,
            &[icc1("Gen_SP"), icc1("Cap_Cmd"), icc1("Brk1")],
            vec![
                ControlValue::Real(5.0).to_data(),
                cmd(true),
                Data::Integer(1),
            ],
        )
        .unwrap();
    n.drive();
    let reqs = n.operate_requests();
    assert_eq!(reqs.len(), 2);
    n.server
        .answer_operate(reqs[1].0, Err(E::HARDWARE_FAULT))
        .unwrap();
    n.drive();
    assert!(
        !n.clients[0]
            .events
            .iter()
            .any(|e| matches!(e, Event::Response { .. })),
        "one variable still waits"
    );
    n.server.answer_operate(reqs[0].0, Ok(())).unwrap();
    n.drive();
    let ev = n.clients[0].events.pop().unwrap();
    let Event::Response {
        invoke_id,
        result: Ok(ConfirmedResponse::Write(r)),
    } = ev
    else {
        panic!("{ev:?}")
    };
    assert_eq!(invoke_id, invoke);
    assert_eq!(
        r,
        vec![
            WriteResult::Success,
            fail(E::HARDWARE_FAULT),
            // Brk1 is a read-only point.
            fail(E::OBJECT_ACCESS_DENIED)
        ]
    );
}

#[test]
fn rights_types_and_values_of_operates() {
    let mut n = net(OperatePolicy::AcceptAll);
    // Brk3_Cmd: readable (default read right), not operable.
    assert_eq!(
        n.read1(0, icc1("Brk3_Cmd")),
        AccessResult::Success(Data::Integer(0))
    );
    assert_eq!(
        n.select(0, "Brk3_Cmd"),
        AccessResult::Failure(E::OBJECT_ACCESS_DENIED)
    );
    assert_eq!(
        n.operate(0, icc1("Brk3_Cmd"), cmd(true)),
        fail(E::OBJECT_ACCESS_DENIED)
    );
    assert!(
        n.refusals().is_empty(),
        "refused by the table, before the device"
    );
    // Another client's device does not exist.
    assert_eq!(
        n.select(0, "Brk1_Cmd").clone(),
        AccessResult::Success(Data::Integer(101))
    );
    assert_eq!(
        n.read1(0, ObjectName::domain("ICC2", "Brk1_Cmd_SBO")),
        AccessResult::Failure(E::OBJECT_NON_EXISTENT)
    );
    // Types and ranges.
    assert_eq!(
        n.operate(0, icc1("Gen_SP"), Data::Integer(1)),
        fail(E::TYPE_INCONSISTENT)
    );
    assert_eq!(
        n.operate(0, icc1("Cap_Cmd"), Data::Integer(2)),
        fail(E::OBJECT_VALUE_INVALID)
    );
    assert_eq!(
        n.operate(0, icc1("Cap_Cmd"), ControlValue::Real(1.0).to_data()),
        fail(E::TYPE_INCONSISTENT)
    );
    assert_eq!(
        n.operate(0, icc1("Cap_Cmd"), cmd(true)),
        WriteResult::Success
    );
    // The select survives a refused operate of the wrong type (the device was never operated).
    assert_eq!(
        n.operate(0, icc1("Brk1_Cmd"), Data::Boolean(true)),
        fail(E::TYPE_INCONSISTENT)
    );
    assert_eq!(
        n.operate(0, icc1("Brk1_Cmd"), cmd(true)),
        WriteResult::Success
    );
    // The SBO object is read-only, its type INT16.
    assert_eq!(
        n.write1(0, icc1("Brk1_Cmd_SBO"), Data::Integer(1)),
        fail(E::OBJECT_ACCESS_DENIED)
    );
    match n.request(0, |c, now| {
        c.get_variable_access_attributes(now, icc1("Brk1_Cmd_TAG"))
            .unwrap()
    }) {
        Ok(ConfirmedResponse::GetVariableAccessAttributes(a)) => {
            assert_eq!(a.type_description, Tag::type_description())
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn information_messages_reach_exactly_the_admitted_associations() {
    let mut n = net(ask());
    let third = n.connect("1.1.1.999", 65000);
    let im = ObjectName::AaSpecific(IM_TRANSFER_SET.into());
    // The aa-specific variable is listed and typed.
    match n.request(0, |c, now| {
        c.get_name_list(
            now,
            ObjectClass::NamedVariable,
            ObjectScope::AssociationSpecific,
            None,
        )
        .unwrap()
    }) {
        Ok(ConfirmedResponse::GetNameList(l)) => {
            assert_eq!(l.identifiers, vec![String::from(IM_TRANSFER_SET)])
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        n.read1(0, im.clone()),
        AccessResult::Success(Data::Boolean(false))
    );
    assert_eq!(
        n.write1(0, im.clone(), Data::Integer(1)),
        fail(E::TYPE_INCONSISTENT)
    );
    for i in [0, 1] {
        assert_eq!(
            n.write1(i, im.clone(), Data::Boolean(true)),
            WriteResult::Success
        );
    }
    // Per association: the third (same client) did not enable.
    assert_eq!(
        n.read1(0, im.clone()),
        AccessResult::Success(Data::Boolean(true))
    );
    assert_eq!(
        n.read1(third, im.clone()),
        AccessResult::Success(Data::Boolean(false))
    );
    assert_eq!(
        n.ext_events()
            .iter()
            .filter(|e| matches!(e, Tase2Event::InfoMessagesEnabled { enabled: true, .. }))
            .count(),
        2
    );
    let h = |ir, lr, id| InfoHeader {
        info_reference: ir,
        local_reference: lr,
        message_id: id,
        size: 0,
    };
    // ICC1 text, reference 10/1: only the ICC1 client that enabled.
    let d = n
        .server
        .send_info_message(Some("ICC1"), h(10, 1, 1), b"Line 4 outage at 14:00")
        .unwrap();
    assert_eq!(d.sent, vec![n.clients[0].conn]);
    // Binary VCC message, reference 1: admitted by BLT_1 only.
    let binary: Vec<u8> = (0..=255u8).rev().collect();
    let d = n
        .server
        .send_info_message(None, h(1, 9, 2), &binary)
        .unwrap();
    assert_eq!(d.sent, vec![n.clients[0].conn]);
    // ICC1 with a LocalReference BLT_1 does not admit: nobody.
    let d = n
        .server
        .send_info_message(Some("ICC1"), h(10, 2, 3), b"x")
        .unwrap();
    assert!(d.sent.is_empty());
    // ICC2, reference 10 with any LocalReference: the ICC2 client.
    let d = n
        .server
        .send_info_message(Some("ICC2"), h(10, 77, 4), b"to ICC2")
        .unwrap();
    assert_eq!(d.sent, vec![n.clients[1].conn]);
    n.drive();
    let got = n.info_messages(0);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].scope, InfoScope::Icc);
    assert_eq!(got[0].domain.as_deref(), Some("ICC1"));
    assert_eq!(got[0].buffer, "Info_Buff_64");
    assert_eq!(
        got[0].header,
        InfoHeader {
            info_reference: 10,
            local_reference: 1,
            message_id: 1,
            size: 22
        }
    );
    assert_eq!(got[0].text(), Some("Line 4 outage at 14:00"));
    assert_eq!(got[1].scope, InfoScope::Vcc);
    assert_eq!(got[1].buffer, "Info_Buff_256");
    assert_eq!(got[1].data, binary);
    assert_eq!(got[1].text(), None);
    let got = n.info_messages(1);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].domain.as_deref(), Some("ICC2"));
    assert_eq!(got[0].data, b"to ICC2");
    assert!(n.info_messages(third).is_empty());
    // Disabled: no more.
    assert_eq!(
        n.write1(0, im.clone(), Data::Boolean(false)),
        WriteResult::Success
    );
    let d = n
        .server
        .send_info_message(Some("ICC1"), h(10, 1, 5), b"after")
        .unwrap();
    assert!(d.sent.is_empty());
    n.drive();
    assert!(n.info_messages(0).is_empty());
}

#[test]
fn information_messages_too_large_are_refused_not_cut() {
    let mut n = Net::with_model(control_model(Edition::V2000_08, ask()));
    let big = n.connect("1.1.1.999", 65000);
    let small = n.connect("1.1.1.999", 400);
    let im = ObjectName::AaSpecific(IM_TRANSFER_SET.into());
    for i in [big, small] {
        assert_eq!(
            n.write1(i, im.clone(), Data::Boolean(true)),
            WriteResult::Success
        );
    }
    let h = InfoHeader {
        info_reference: 10,
        local_reference: 1,
        message_id: 1,
        size: 0,
    };
    assert_eq!(
        n.server.send_info_message(Some("ICC1"), h, &[b'x'; 1025]),
        Err(InfoError::TooLarge {
            size: 1025,
            largest: 1024
        })
    );
    assert_eq!(
        n.server.send_info_message(Some("ICC9"), h, b"x"),
        Err(InfoError::UnknownDomain)
    );
    n.ext_events();
    let d = n
        .server
        .send_info_message(Some("ICC1"), h, &[b'y'; 1000])
        .unwrap();
    assert_eq!(d.sent, vec![n.clients[big].conn]);
    assert_eq!(d.too_large, vec![n.clients[small].conn]);
    n.drive();
    assert!(n.ext_events().iter().any(|e| matches!(
        e,
        Tase2Event::InfoMessageTooLarge { id, max_pdu_size: 400, .. } if *id == n.clients[small].conn
    )));
    n.drive();
    assert_eq!(n.info_messages(big)[0].data.len(), 1000);
    assert!(n.info_messages(small).is_empty());
}

#[test]
fn both_editions_serve_devices_and_messages() {
    for edition in [Edition::V1996_08, Edition::V2000_08] {
        let mut n = Net::with_model(control_model(edition, OperatePolicy::AcceptAll));
        n.connect("1.1.1.999", 65000);
        assert_eq!(
            n.select(0, "Brk1_Cmd"),
            AccessResult::Success(Data::Integer(101))
        );
        assert_eq!(
            n.operate(0, icc1("Brk1_Cmd"), cmd(true)),
            WriteResult::Success
        );
        let im = ObjectName::AaSpecific(IM_TRANSFER_SET.into());
        assert_eq!(n.write1(0, im, Data::Boolean(true)), WriteResult::Success);
        let h = InfoHeader {
            info_reference: 1,
            ..InfoHeader::default()
        };
        assert_eq!(
            n.server
                .send_info_message(None, h, b"hi")
                .unwrap()
                .sent
                .len(),
            1
        );
        n.drive();
        assert_eq!(n.info_messages(0)[0].text(), Some("hi"));
        // Supported_Features says blocks 1, 2, 4 and 5.
        let AccessResult::Success(Data::BitString(f)) =
            n.read1(0, ObjectName::vmd(names::SUPPORTED_FEATURES))
        else {
            panic!()
        };
        let f = crate::tase2::Features::from_octets(&f.octets);
        assert!([1, 2, 4, 5].iter().all(|&b| f.has_block(b)));
        assert!(!f.has_block(3));
    }
}
