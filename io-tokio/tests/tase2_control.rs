//! The TASE.2 client against the TASE.2 server over loopback: device control (block 5: select,
//! operate, setpoints, tags, the application's decision) and information messages (block 4),
//! with two bilateral tables.

use std::collections::HashMap;
use std::time::Duration;

use tase2_core::acse::ApInvocation;
use tase2_core::assoc::AssociationConfig;
use tase2_core::mms::{Data, DataAccessError, Float, ObjectName};
use tase2_core::server::{ConnectionId, Endpoint, ServerConfig, ServerEvent};
use tase2_core::tase2::client::Error as T2;
use tase2_core::tase2::client::{ControlError, ControlErrorKind, ControlOp};
use tase2_core::tase2::server::{
    DeviceId, DeviceSpec, InfoDelivery, OperatePolicy, Tase2, Tase2Builder, Tase2Config, Tase2Event,
};
use tase2_core::tase2::{
    BilateralTable, ClientMatch, Command, ControlMode, ControlValue, DeviceKind, DsConditions,
    DsTransferSetValue, Family, Form, InfoHeader, InfoMessage, InfoScope, PointType, PointValue,
    Rights, Tag, TagValue,
};
use tase2_tokio::tase2::{
    report_variables, DeviceInfo, Error, Tase2Client, Tase2Options, Tase2Report,
};
use tase2_tokio::{Server, ServerHandle};
use tokio::sync::{mpsc, oneshot};

const REAL_Q: PointType = PointType::Indication(Family::Real, Form::Q);
const ON: ControlValue = ControlValue::Command(Command::On);
const OFF: ControlValue = ControlValue::Command(Command::Off);

/// The devices of the model.
#[derive(Clone, Copy)]
struct Devices {
    /// ICC1/Cap1_Cmd: the application refuses every operate of it (hardware-fault).
    cap1: DeviceId,
}

fn server_endpoint() -> (Endpoint<Tase2>, Devices) {
    let mut b = Tase2Builder::new(Tase2Config {
        local_ap_title: Some("1.1.1.998".parse().unwrap()),
        // Long enough never to expire during a test, however slow the machine.
        select_timeout: Duration::from_secs(300),
        operate: OperatePolicy::AskApplication {
            timeout: Duration::from_secs(300),
        },
        ..Tase2Config::default()
    });
    b.domain("ICC1", 2).unwrap().domain("ICC2", 2).unwrap();
    b.point(Some("ICC1"), "Gen1_MW", REAL_Q, PointValue::real(100.0))
        .unwrap();
    let command = |mode| DeviceSpec::new(DeviceKind::Command, mode);
    b.device(
        Some("ICC1"),
        "Brk1_Cmd",
        command(ControlMode::Sbo).tagged().check_back_id(101),
    )
    .unwrap();
    b.device(
        Some("ICC1"),
        "Brk2_Cmd",
        command(ControlMode::Sbo).check_back_id(7),
    )
    .unwrap();
    let cap1 = b
        .device(Some("ICC1"), "Cap1_Cmd", command(ControlMode::Direct))
        .unwrap();
    b.device(Some("ICC1"), "Ro_Cmd", command(ControlMode::Direct))
        .unwrap();
    b.device(
        Some("ICC1"),
        "Gen1_MW_SP",
        DeviceSpec::new(DeviceKind::RealSetpoint, ControlMode::Direct),
    )
    .unwrap();
    b.device(
        Some("ICC1"),
        "Tap1_SP",
        DeviceSpec::new(DeviceKind::DiscreteSetpoint, ControlMode::Direct),
    )
    .unwrap();
    // VCC scope: both control centers may operate and tag it.
    b.device(
        None,
        "Shared_Cmd",
        command(ControlMode::Sbo).tagged().check_back_id(55),
    )
    .unwrap();
    b.info_buffer(None, 64)
        .and_then(|b| b.info_buffer(None, 1024))
        .and_then(|b| b.info_buffer(Some("ICC1"), 512))
        .and_then(|b| b.info_buffer(Some("ICC2"), 512))
        .unwrap();
    let rw = |t: BilateralTable, names: &[&str]| {
        names.iter().fold(t, |t, n| t.grant(*n, Rights::READ_WRITE))
    };
    b.table(
        rw(
            BilateralTable::new(
                "BLT_ICC1",
                ClientMatch::ap_title(&[1, 1, 1, 999], 12),
                "ICC1",
            ),
            &[
                "Brk1_Cmd",
                "Brk2_Cmd",
                "Cap1_Cmd",
                "Gen1_MW_SP",
                "Tap1_SP",
                "/Shared_Cmd",
            ],
        )
        .check_back_id("Brk2_Cmd", 202)
        .admit_info(InfoScope::Vcc, 7, None)
        .admit_info(InfoScope::Icc, 9, Some(1)),
    )
    .unwrap();
    b.table(
        rw(
            BilateralTable::new(
                "BLT_ICC2",
                ClientMatch::ap_title(&[1, 1, 1, 997], 12),
                "ICC2",
            ),
            &["/Shared_Cmd"],
        )
        .check_back_id("/Shared_Cmd", 77)
        .admit_info(InfoScope::Vcc, 8, None),
    )
    .unwrap();
    let mut config = ServerConfig::default();
    config.association.local = ApInvocation {
        ap_title: Some("1.1.1.998".parse().unwrap()),
        ae_qualifier: Some(12),
        ..Default::default()
    };
    (b.build(config).unwrap(), Devices { cap1 })
}

struct Fixture {
    addr: std::net::SocketAddr,
    handle: ServerHandle<Tase2>,
    /// Every TASE.2 event, as the application saw it.
    events: mpsc::UnboundedReceiver<Tase2Event>,
    /// The association of each bilateral table's client (filled as they associate).
    bound: mpsc::UnboundedReceiver<(String, ConnectionId)>,
}

/// The server, plus its application: a task that answers every operate, accepting all but those
/// of `Cap1_Cmd`, which it refuses with hardware-fault.
async fn start() -> Fixture {
    let (endpoint, devices) = server_endpoint();
    let mut server = Server::with_endpoint("127.0.0.1:0", endpoint)
        .await
        .unwrap();
    let addr = server.local_addr().unwrap();
    let (tx, mut app_rx) = mpsc::unbounded_channel();
    server.on_event(move |_, _, ev| {
        if let ServerEvent::Extension(e) = ev {
            let _ = tx.send(e.clone());
        }
    });
    let handle = server.handle();
    tokio::spawn(server.run());
    let (events_tx, events) = mpsc::unbounded_channel();
    let (bound_tx, bound) = mpsc::unbounded_channel();
    let app = handle.clone();
    tokio::spawn(async move {
        while let Some(e) = app_rx.recv().await {
            match &e {
                Tase2Event::OperateRequested { op, device, .. } => {
                    let (op, answer) = if *device == devices.cap1 {
                        (*op, Err(DataAccessError::HARDWARE_FAULT))
                    } else {
                        (*op, Ok(()))
                    };
                    app.command(move |ep, _| ep.answer_operate(op, answer).unwrap())
                        .await;
                }
                Tase2Event::Bound {
                    id, table: Some(t), ..
                } => {
                    let _ = bound_tx.send((t.clone(), *id));
                }
                _ => {}
            }
            let _ = events_tx.send(e);
        }
    });
    Fixture {
        addr,
        handle,
        events,
        bound,
    }
}

fn config(ap: &str) -> AssociationConfig {
    AssociationConfig::with_ap_titles(
        (ap.parse().unwrap(), 12),
        ("1.1.1.998".parse().unwrap(), 12),
    )
}

/// The ICC1 client (table BLT_ICC1).
async fn icc1_client(f: &Fixture) -> Tase2Client {
    Tase2Client::connect(f.addr, config("1.1.1.999"))
        .await
        .unwrap()
}

/// The ICC2 client (table BLT_ICC2).
async fn icc2_client(f: &Fixture) -> Tase2Client {
    Tase2Client::connect(f.addr, config("1.1.1.997"))
        .await
        .unwrap()
}

fn icc1(item: &str) -> ObjectName {
    ObjectName::domain("ICC1", item)
}

fn refused(op: ControlOp, kind: ControlErrorKind) -> ControlError {
    ControlError { op, kind }
}

/// The control error of a result, or a panic saying what came instead.
fn control_error<T: std::fmt::Debug>(r: Result<T, Error>) -> ControlError {
    match r {
        Err(Error::Tase2(T2::Control(e))) => e,
        other => panic!("expected a control refusal, got {other:?}"),
    }
}

/// The next `Operated` event (the application executed an operate).
async fn operated(events: &mut mpsc::UnboundedReceiver<Tase2Event>) -> ControlValue {
    loop {
        let e = tokio::time::timeout(Duration::from_secs(10), events.recv())
            .await
            .expect("a server event within 10 s")
            .expect("server running");
        if let Tase2Event::Operated { value, .. } = e {
            return value;
        }
    }
}

/// The next received report or message.
async fn received(c: &mut Tase2Client) -> Tase2Report {
    tokio::time::timeout(Duration::from_secs(10), c.next_report())
        .await
        .expect("something within 10 s")
        .expect("association open")
        .expect("a decodable report")
}

async fn info_message(c: &mut Tase2Client) -> InfoMessage {
    match received(c).await {
        Tase2Report::InfoMessage(m) => m,
        other => panic!("expected an information message, got {other:?}"),
    }
}

/// Send an information message from the server application; where it went.
async fn send_info(
    handle: &ServerHandle<Tase2>,
    domain: Option<&'static str>,
    header: InfoHeader,
    data: &[u8],
) -> InfoDelivery {
    let (tx, rx) = oneshot::channel();
    let data = data.to_vec();
    handle
        .command(move |ep, _| {
            let _ = tx.send(ep.send_info_message(domain, header, &data).unwrap());
        })
        .await;
    rx.await.unwrap()
}

fn header(info_reference: i32, local_reference: i32, message_id: i32) -> InfoHeader {
    InfoHeader {
        info_reference,
        local_reference,
        message_id,
        size: 0,
    }
}

#[tokio::test]
async fn select_before_operate_with_check_back_ids() {
    let mut f = start().await;
    let c = icc1_client(&f).await;
    let brk1 = icc1("Brk1_Cmd");
    let brk2 = icc1("Brk2_Cmd");

    assert_eq!(
        c.device_info(&brk1).await.unwrap(),
        DeviceInfo {
            kind: DeviceKind::Command,
            mode: ControlMode::Sbo,
            tagged: true,
        }
    );
    assert_eq!(
        c.device_info(&icc1("Gen1_MW_SP")).await.unwrap(),
        DeviceInfo {
            kind: DeviceKind::RealSetpoint,
            mode: ControlMode::Direct,
            tagged: false,
        }
    );
    assert!(matches!(
        c.device_info(&icc1("Gen1_MW")).await,
        Err(Error::Tase2(T2::NotADevice(n))) if n == icc1("Gen1_MW")
    ));

    // An SBO device refuses an operate without a select.
    let e = control_error(c.operate(&brk1, ON).await);
    assert_eq!(
        e,
        refused(ControlOp::Operate, ControlErrorKind::AccessDenied)
    );
    assert_eq!(e.code(), DataAccessError::OBJECT_ACCESS_DENIED);

    // Select answers the device's CheckBackID, then the operate goes through the application.
    assert_eq!(c.select(&brk1).await.unwrap(), 101);
    c.operate(&brk1, ON).await.unwrap();
    assert_eq!(operated(&mut f.events).await, ON);
    assert_eq!(c.read(&brk1).await.unwrap(), Data::Integer(1));

    // One operate per select.
    let e = control_error(c.operate(&brk1, OFF).await);
    assert_eq!(e.kind, ControlErrorKind::AccessDenied);

    // The bilateral table gives Brk2_Cmd its own CheckBackID (the device's is 7).
    assert_eq!(c.select_operate(&brk2, OFF).await.unwrap(), 202);
    assert_eq!(operated(&mut f.events).await, OFF);
    assert_eq!(c.select_operate(&brk1, OFF).await.unwrap(), 101);
    assert_eq!(operated(&mut f.events).await, OFF);
    assert_eq!(c.read(&brk1).await.unwrap(), Data::Integer(0));

    // A direct device has no _SBO object to select.
    let e = control_error(c.select(&icc1("Cap1_Cmd")).await);
    assert_eq!(e, refused(ControlOp::Select, ControlErrorKind::NonExistent));
    c.conclude().await.unwrap();
}

#[tokio::test]
async fn direct_setpoints_and_the_applications_refusal() {
    let mut f = start().await;
    let c = icc1_client(&f).await;
    let mw = icc1("Gen1_MW_SP");
    let tap = icc1("Tap1_SP");

    c.operate(&mw, ControlValue::Real(412.5)).await.unwrap();
    assert_eq!(operated(&mut f.events).await, ControlValue::Real(412.5));
    assert_eq!(c.read(&mw).await.unwrap(), Data::Float(Float::F32(412.5)));
    c.operate(&tap, ControlValue::Discrete(-3)).await.unwrap();
    assert_eq!(operated(&mut f.events).await, ControlValue::Discrete(-3));
    assert_eq!(c.read(&tap).await.unwrap(), Data::Integer(-3));

    // Wrong type, out of range.
    let e = control_error(c.operate(&mw, ControlValue::Discrete(5)).await);
    assert_eq!(
        e,
        refused(ControlOp::Operate, ControlErrorKind::TypeInconsistent)
    );
    let e = control_error(
        c.operate(&icc1("Cap1_Cmd"), ControlValue::Discrete(5))
            .await,
    );
    assert_eq!(
        e,
        refused(ControlOp::Operate, ControlErrorKind::ValueInvalid)
    );

    // The application refuses Cap1_Cmd.
    let e = control_error(c.operate(&icc1("Cap1_Cmd"), ON).await);
    assert_eq!(
        e,
        refused(ControlOp::Operate, ControlErrorKind::HardwareFault)
    );
    assert_eq!(e.code(), DataAccessError::HARDWARE_FAULT);
    assert!(e.to_string().contains("hardware-fault"), "{e}");

    // The table does not let this client operate Ro_Cmd.
    let e = control_error(c.operate(&icc1("Ro_Cmd"), ON).await);
    assert_eq!(e.kind, ControlErrorKind::AccessDenied);

    // The setpoints kept their last accepted values.
    assert_eq!(c.read(&tap).await.unwrap(), Data::Integer(-3));
    c.conclude().await.unwrap();
}

#[tokio::test]
async fn tags_inhibit_and_belong_to_who_set_them() {
    let mut f = start().await;
    let c = icc1_client(&f).await;
    let brk1 = icc1("Brk1_Cmd");

    assert_eq!(c.tag(&brk1).await.unwrap(), Tag::default());
    c.set_tag(&brk1, TagValue::OpenAndCloseInhibit, "crew on line 4")
        .await
        .unwrap();
    assert_eq!(
        c.tag(&brk1).await.unwrap(),
        Tag {
            value: TagValue::OpenAndCloseInhibit,
            armed: false,
            reason: "crew on line 4".into(),
        }
    );
    // Open-and-close inhibit refuses the select.
    let e = control_error(c.select(&brk1).await);
    assert_eq!(
        e,
        refused(ControlOp::Select, ControlErrorKind::AccessDenied)
    );

    // Close-only inhibit: a close is refused, an open goes through.
    c.set_tag(&brk1, TagValue::CloseOnlyInhibit, "no close")
        .await
        .unwrap();
    let e = control_error(c.select_operate(&brk1, ON).await);
    assert_eq!(
        e,
        refused(ControlOp::Operate, ControlErrorKind::AccessDenied)
    );
    assert_eq!(c.select(&brk1).await.unwrap(), 101);
    // Armed: the tag says so, and cannot change now.
    assert!(c.tag(&brk1).await.unwrap().armed);
    let e = control_error(c.set_tag(&brk1, TagValue::None, "").await);
    assert_eq!(
        e,
        refused(ControlOp::SetTag, ControlErrorKind::TemporarilyUnavailable)
    );
    c.operate(&brk1, OFF).await.unwrap();
    assert_eq!(operated(&mut f.events).await, OFF);

    c.set_tag(&brk1, TagValue::None, "").await.unwrap();
    assert_eq!(c.tag(&brk1).await.unwrap().value, TagValue::None);
    assert_eq!(c.select_operate(&brk1, ON).await.unwrap(), 101);

    // An untagged device has no _TAG.
    let e = control_error(c.tag(&icc1("Brk2_Cmd")).await);
    assert_eq!(
        e,
        refused(ControlOp::ReadTag, ControlErrorKind::NonExistent)
    );
    c.conclude().await.unwrap();
}

#[tokio::test]
async fn another_control_center_cannot_change_the_tag_or_steal_the_select() {
    let mut f = start().await;
    let c1 = icc1_client(&f).await;
    let c2 = icc2_client(&f).await;
    let shared = ObjectName::vmd("Shared_Cmd");

    // Each table has its CheckBackID for the VCC device.
    assert_eq!(c1.select(&shared).await.unwrap(), 55);
    // c1 holds the select: c2 can neither select nor operate.
    let e = control_error(c2.select(&shared).await);
    assert_eq!(
        e,
        refused(ControlOp::Select, ControlErrorKind::TemporarilyUnavailable)
    );
    let e = control_error(c2.operate(&shared, ON).await);
    assert_eq!(
        e,
        refused(ControlOp::Operate, ControlErrorKind::AccessDenied)
    );
    c1.operate(&shared, ON).await.unwrap();
    assert_eq!(operated(&mut f.events).await, ON);
    assert_eq!(c2.select_operate(&shared, OFF).await.unwrap(), 77);
    assert_eq!(operated(&mut f.events).await, OFF);

    // c1 tags it: c2 sees the tag, cannot change or clear it, cannot select.
    c1.set_tag(&shared, TagValue::OpenAndCloseInhibit, "ICC1 work")
        .await
        .unwrap();
    assert_eq!(c2.tag(&shared).await.unwrap().reason, "ICC1 work");
    for value in [TagValue::None, TagValue::CloseOnlyInhibit] {
        let e = control_error(c2.set_tag(&shared, value, "mine").await);
        assert_eq!(
            e,
            refused(ControlOp::SetTag, ControlErrorKind::AccessDenied)
        );
    }
    let e = control_error(c2.select(&shared).await);
    assert_eq!(
        e,
        refused(ControlOp::Select, ControlErrorKind::AccessDenied)
    );
    assert_eq!(
        c1.tag(&shared).await.unwrap().value,
        TagValue::OpenAndCloseInhibit
    );

    // Once c1 clears it, c2 may tag.
    c1.set_tag(&shared, TagValue::None, "").await.unwrap();
    c2.set_tag(&shared, TagValue::CloseOnlyInhibit, "ICC2 work")
        .await
        .unwrap();
    assert_eq!(c1.tag(&shared).await.unwrap().reason, "ICC2 work");
    c1.conclude().await.unwrap();
    c2.conclude().await.unwrap();
}

#[tokio::test]
async fn information_messages_reach_the_clients_their_tables_admit() {
    let mut f = start().await;
    let mut c1 = icc1_client(&f).await;
    let mut c2 = icc2_client(&f).await;
    let mut ids = HashMap::new();
    while ids.len() < 2 {
        let (t, id) = f.bound.recv().await.unwrap();
        ids.insert(t, id);
    }
    let (id1, id2) = (ids["BLT_ICC1"], ids["BLT_ICC2"]);

    // Nobody enabled reception yet: nothing is sent.
    let d = send_info(&f.handle, None, header(7, 3, 1), b"not yet").await;
    assert!(d.sent.is_empty(), "{d:?}");
    c1.enable_info_messages().await.unwrap();
    c2.enable_info_messages().await.unwrap();

    // A VCC text message with InfoReference 7: only BLT_ICC1 admits it.
    let text = "Breaker 1 maintenance at 14:00";
    let d = send_info(&f.handle, None, header(7, 3, 2), text.as_bytes()).await;
    assert_eq!(d.sent, [id1]);
    let m = info_message(&mut c1).await;
    assert_eq!(m.scope, InfoScope::Vcc);
    assert_eq!(m.domain, None);
    assert_eq!(
        m.header,
        InfoHeader {
            info_reference: 7,
            local_reference: 3,
            message_id: 2,
            size: text.len() as i32,
        }
    );
    assert_eq!(m.buffer, "Info_Buff_64");
    assert_eq!(m.text(), Some(text));

    // A binary message in ICC1 (InfoReference 9, LocalReference 1).
    let binary = [0u8, 1, 2, 0xff, 0x80, 0];
    let d = send_info(&f.handle, Some("ICC1"), header(9, 1, 3), &binary).await;
    assert_eq!(d.sent, [id1]);
    let m = info_message(&mut c1).await;
    assert_eq!(m.scope, InfoScope::Icc);
    assert_eq!(m.domain.as_deref(), Some("ICC1"));
    assert_eq!((m.header.info_reference, m.header.local_reference), (9, 1));
    assert_eq!((m.header.message_id, m.header.size), (3, 6));
    assert_eq!(m.buffer, "Info_Buff_512");
    assert_eq!(m.data, binary);
    assert_eq!(m.text(), None);
    // Another LocalReference is not admitted.
    let d = send_info(&f.handle, Some("ICC1"), header(9, 2, 4), b"x").await;
    assert!(d.sent.is_empty(), "{d:?}");

    // InfoReference 8 is BLT_ICC2's: the first message c2 gets, so none of the above reached it.
    let d = send_info(&f.handle, None, header(8, 0, 5), b"for ICC2").await;
    assert_eq!(d.sent, [id2]);
    let m = info_message(&mut c2).await;
    assert_eq!((m.header.info_reference, m.header.message_id), (8, 5));
    assert_eq!(m.text(), Some("for ICC2"));

    // Disabled: no more messages; enabled again: the next one is the first c1 receives.
    c1.disable_info_messages().await.unwrap();
    let d = send_info(&f.handle, None, header(7, 0, 6), b"missed").await;
    assert!(d.sent.is_empty(), "{d:?}");
    c1.enable_info_messages().await.unwrap();
    let d = send_info(&f.handle, None, header(7, 0, 7), b"back").await;
    assert_eq!(d.sent, [id1]);
    assert_eq!(info_message(&mut c1).await.header.message_id, 7);
    c1.conclude().await.unwrap();
    c2.conclude().await.unwrap();
}

#[tokio::test]
async fn messages_and_transfer_reports_interleave_without_loss() {
    let f = start().await;
    let mut c = icc1_client(&f).await;
    c.enable_info_messages().await.unwrap();
    let ds = icc1("DS_Control");
    let mut members = report_variables("ICC1").to_vec();
    members.push(icc1("Gen1_MW"));
    c.define_data_set(&ds, &members).await.unwrap();
    let ts = c.reserve_transfer_set("ICC1").await.unwrap();
    c.start_transfer_set(
        &ts,
        DsTransferSetValue {
            data_set: ds.clone(),
            conditions: DsConditions::OBJECT_CHANGE,
            rbe: true,
            ..DsTransferSetValue::default()
        },
    )
    .await
    .unwrap();

    // In one go: a point change (an object change report) and two messages.
    let (tx, rx) = oneshot::channel();
    f.handle
        .command(move |ep, now| {
            let gen = ep.tase2().point_id(&icc1("Gen1_MW")).unwrap();
            ep.send_info_message(None, header(7, 0, 1), b"before")
                .unwrap();
            ep.update(now, gen, PointValue::real(250.0));
            ep.send_info_message(None, header(7, 0, 2), b"after")
                .unwrap();
            let _ = tx.send(());
        })
        .await;
    rx.await.unwrap();
    let mut messages = Vec::new();
    let mut values = Vec::new();
    while messages.len() < 2 || values.is_empty() {
        match received(&mut c).await {
            Tase2Report::InfoMessage(m) => messages.push(m.header.message_id),
            Tase2Report::Transfer(r) => {
                values.extend(r.points().map(|(n, v)| (n.clone(), v.value)))
            }
        }
    }
    assert_eq!(messages, [1, 2]);
    assert_eq!(
        values,
        [(icc1("Gen1_MW"), tase2_core::tase2::Value::Real(250.0))]
    );
    c.stop_transfer_set(&ts).await.unwrap();
    c.conclude().await.unwrap();
}

/// A report queue of two and forty messages sent while the client reads nothing: the driver
/// stops reading the socket instead of dropping, and every message comes out, in order; the
/// association then still answers commands.
#[tokio::test]
async fn a_full_report_queue_holds_the_socket_and_loses_nothing() {
    let f = start().await;
    let options = Tase2Options {
        report_queue: 2,
        ..Tase2Options::default()
    };
    let mut c = Tase2Client::connect_with(f.addr, config("1.1.1.999"), options)
        .await
        .unwrap();
    c.enable_info_messages().await.unwrap();
    let (tx, rx) = oneshot::channel();
    f.handle
        .command(move |ep, _| {
            let sent = (1..=40)
                .filter(|&n| {
                    let text = format!("message {n}");
                    let d = ep.send_info_message(None, header(7, 0, n), text.as_bytes());
                    d.is_ok_and(|d| !d.sent.is_empty())
                })
                .count();
            let _ = tx.send(sent);
        })
        .await;
    assert_eq!(rx.await.unwrap(), 40);
    // Let the driver fill its queue and stall.
    tokio::time::sleep(Duration::from_millis(200)).await;
    for n in 1..=40 {
        let m = info_message(&mut c).await;
        assert_eq!(m.header.message_id, n);
        assert_eq!(m.text(), Some(format!("message {n}").as_str()));
    }
    assert!(c.features().await.unwrap().has_block(4));
    c.conclude().await.unwrap();
}
