//! The TASE.2 client against the TASE.2 server over loopback: conformance blocks 1 and 2 from
//! association to conclude, in both editions.

use std::time::Duration;

use tase2_core::acse::ApInvocation;
use tase2_core::assoc::AssociationConfig;
use tase2_core::mms::{Data, DataAccessError, ObjectName};
use tase2_core::server::{Endpoint, ServerConfig, ServerEvent};
use tase2_core::tase2::client::Error as T2;
use tase2_core::tase2::server::{PointId, Tase2, Tase2Builder, Tase2Config, Tase2Event};
use tase2_core::tase2::{
    BilateralTable, ClientMatch, CurrentSource, DsConditions, DsTransferSetValue, Edition, Family,
    Flags, Form, PointType, PointValue, Rights, StateValue, Timestamp, Validity, Value,
};
use tase2_tokio::tase2::{
    report_variables, Error, Reported, Tase2Client, Tase2Options, Tase2Report, TypedReport,
};
use tase2_tokio::{Client, Server, ServerHandle};
use tokio::sync::mpsc;

const REAL_QTT: PointType = PointType::Indication(Family::Real, Form::QTimeTag);
const REAL_Q: PointType = PointType::Indication(Family::Real, Form::Q);
const REAL_EXT: PointType = PointType::Indication(Family::Real, Form::Extended);
const REAL_QTTE: PointType = PointType::Indication(Family::Real, Form::QTimeTagExtended);
const STATE_QTT: PointType = PointType::Indication(Family::State, Form::QTimeTag);
const DISCRETE_QTT: PointType = PointType::Indication(Family::Discrete, Form::QTimeTag);
const SUPPL_Q: PointType = PointType::Indication(Family::StateSupplemental, Form::Q);
const REAL: PointType = PointType::Indication(Family::Real, Form::Plain);

fn ts(seconds: i32, millis: u16) -> Timestamp {
    Timestamp { seconds, millis }
}

/// The ICC1 points: name, type, initial value.
fn icc1_points(edition: Edition) -> Vec<(&'static str, PointType, PointValue)> {
    let mut p = vec![
        (
            "Gen1_MW",
            REAL_QTT,
            PointValue::real(101.5).at(ts(1_700_000_001, 0)),
        ),
        (
            "Freq_Hz",
            REAL_Q,
            PointValue::real(50.0).with_flags(Flags::VALID.with_source(CurrentSource::Calculated)),
        ),
        (
            "Brk1",
            STATE_QTT,
            PointValue::state(StateValue::On).at(ts(1_700_000_002, 0)),
        ),
        (
            "Tap1",
            DISCRETE_QTT,
            PointValue::discrete(7).at(ts(1_700_000_003, 0)),
        ),
        (
            "Line1_MW",
            REAL_EXT,
            PointValue::real(-20.25).at(ts(1_700_000_004, 0)),
        ),
        (
            "Sup1",
            SUPPL_Q,
            PointValue::new(Value::StateSupplemental(0x5a)),
        ),
    ];
    if edition == Edition::V2000_08 {
        p.push((
            "Load1_MW",
            REAL_QTTE,
            PointValue::real(33.0).at(ts(1_700_000_005, 125)),
        ));
    }
    p
}

struct Fixture {
    addr: std::net::SocketAddr,
    handle: ServerHandle<Tase2>,
    events: mpsc::UnboundedReceiver<Tase2Event>,
    /// Every successful MMS Write: variable and value.
    writes: mpsc::UnboundedReceiver<(ObjectName, Data)>,
    edition: Edition,
}

fn server_endpoint(edition: Edition) -> Endpoint<Tase2> {
    let mut b = Tase2Builder::new(Tase2Config {
        edition,
        local_ap_title: Some("1.1.1.998".parse().unwrap()),
        ack_timeout: Duration::from_secs(10),
        ..Tase2Config::default()
    });
    b.domain("ICC1", 4).unwrap().domain("ICC2", 4).unwrap();
    for (name, t, v) in icc1_points(edition) {
        b.point(Some("ICC1"), name, t, v).unwrap();
    }
    b.writable_point(Some("ICC1"), "Setpoint", REAL, PointValue::real(0.0))
        .unwrap();
    b.point(Some("ICC2"), "Secret_MW", REAL_QTT, PointValue::real(9.0))
        .unwrap();
    b.point(None, "Vcc_Load", REAL_Q, PointValue::real(1000.0))
        .unwrap();
    b.data_set(
        Some("ICC1"),
        "DS_Grid",
        &[
            "Transfer_Set_Name",
            "Transfer_Set_Time_Stamp",
            "DSConditions_Detected",
            "Event_Code_Detected",
            "Gen1_MW",
            "Freq_Hz",
            "Brk1",
        ],
    )
    .unwrap();
    b.table(
        BilateralTable::new(
            "BLT_ICC1",
            ClientMatch::ap_title(&[1, 1, 1, 999], 12),
            "ICC1",
        )
        .grant("Setpoint", Rights::READ_WRITE),
    )
    .unwrap();
    b.table(BilateralTable::new(
        "BLT_ICC2",
        ClientMatch::ap_title(&[1, 1, 1, 997], 12),
        "ICC2",
    ))
    .unwrap();
    let mut config = ServerConfig::default();
    config.association.local = ApInvocation {
        ap_title: Some("1.1.1.998".parse().unwrap()),
        ae_qualifier: Some(12),
        ..Default::default()
    };
    b.build(config).unwrap()
}

async fn start(edition: Edition) -> Fixture {
    let mut server = Server::with_endpoint("127.0.0.1:0", server_endpoint(edition))
        .await
        .unwrap();
    let addr = server.local_addr().unwrap();
    let (tx, events) = mpsc::unbounded_channel();
    let (wtx, writes) = mpsc::unbounded_channel();
    server.on_event(move |_, _, ev| match ev {
        ServerEvent::Extension(e) => {
            let _ = tx.send(e.clone());
        }
        ServerEvent::Written { name, value, .. } => {
            let _ = wtx.send((name.clone(), value.clone()));
        }
        _ => {}
    });
    let handle = server.handle();
    tokio::spawn(server.run());
    Fixture {
        addr,
        handle,
        events,
        writes,
        edition,
    }
}

fn config(ap: &str) -> AssociationConfig {
    AssociationConfig::with_ap_titles(
        (ap.parse().unwrap(), 12),
        ("1.1.1.998".parse().unwrap(), 12),
    )
}

fn icc1(item: &str) -> ObjectName {
    ObjectName::domain("ICC1", item)
}

/// What the client sees of `v` once it went through `t`'s encoding.
fn seen(t: PointType, v: &PointValue) -> PointValue {
    t.decode_data(&t.to_data(v)).unwrap()
}

async fn next(c: &mut Tase2Client) -> TypedReport {
    match tokio::time::timeout(Duration::from_secs(10), c.next_report())
        .await
        .expect("a report within 10 s")
        .expect("association open")
        .expect("a decodable report")
    {
        Tase2Report::Transfer(r) => r,
        other => panic!("not a transfer set report: {other:?}"),
    }
}

/// The next report with `condition`, counting the others skipped (integrity reports may come
/// between changes).
async fn next_with(c: &mut Tase2Client, condition: DsConditions) -> TypedReport {
    for _ in 0..10 {
        let r = next(c).await;
        if r.conditions.is_some_and(|k| k.contains(condition)) {
            return r;
        }
    }
    panic!("no report with {condition} among 10");
}

async fn event(events: &mut mpsc::UnboundedReceiver<Tase2Event>) -> Tase2Event {
    tokio::time::timeout(Duration::from_secs(10), events.recv())
        .await
        .expect("a server event within 10 s")
        .expect("server running")
}

/// The next event matching `f`, skipping others.
async fn event_where(
    events: &mut mpsc::UnboundedReceiver<Tase2Event>,
    f: impl Fn(&Tase2Event) -> bool,
) -> Tase2Event {
    loop {
        let e = event(events).await;
        if f(&e) {
            return e;
        }
    }
}

async fn update(handle: &ServerHandle<Tase2>, updates: Vec<(ObjectName, PointValue)>) {
    assert!(
        handle
            .command(move |ep, now| {
                let ids: Vec<(PointId, PointValue)> = updates
                    .iter()
                    .map(|(n, v)| (ep.tase2().point_id(n).unwrap(), *v))
                    .collect();
                ep.update_many(now, ids);
            })
            .await
    );
}

async fn flow(edition: Edition) {
    let mut f = start(edition).await;
    let points = icc1_points(f.edition);

    // Association with the wrong or an unknown AP-title is refused.
    assert!(matches!(
        Client::connect(f.addr, config("1.1.1.555")).await,
        Err(tase2_tokio::Error::Association(_))
    ));
    assert!(matches!(
        Tase2Client::connect(f.addr, config("1.1.1.555")).await,
        Err(Error::Tase2(T2::Closed(Some(_))))
    ));

    // Block 1 discovery: version, features, our domain and table only.
    let mut c = Tase2Client::connect(f.addr, config("1.1.1.999"))
        .await
        .unwrap();
    assert_eq!(c.edition(), edition);
    let features = c.features().await.unwrap();
    assert!((1..=5).all(|b| features.has_block(b) == (b != 3)));
    assert_eq!(c.domains().await.unwrap(), ["ICC1"]);
    assert_eq!(c.bilateral_table_id("ICC1").await.unwrap(), "BLT_ICC1");
    assert!(c.bilateral_table_id("ICC2").await.is_err());
    match c.read(&ObjectName::domain("ICC2", "Secret_MW")).await {
        Err(Error::Tase2(T2::Access(e))) => assert!(
            e == DataAccessError::OBJECT_NON_EXISTENT || e == DataAccessError::OBJECT_ACCESS_DENIED,
            "{e:?}"
        ),
        other => panic!("ICC2 object readable by the ICC1 client: {other:?}"),
    }
    assert!(c.variable_names(Some("ICC2")).await.is_err());

    let d = c.discover().await.unwrap();
    assert_eq!(d.edition, Some(edition));
    let (major, minor) = edition.version();
    assert_eq!(d.version, Some((major.into(), minor.into())));
    let vcc = d.vcc.as_ref().unwrap();
    let vcc_load = vcc.iter().find(|v| v.name.item() == "Vcc_Load").unwrap();
    assert_eq!(vcc_load.point_type, Some(REAL_Q));
    assert!(vcc
        .iter()
        .any(|v| v.name.item() == "TASE2_Version" && v.tase2_type_name() == Some("TASE2_Version")));
    assert_eq!(d.domains.len(), 1);
    let dom = &d.domains[0];
    assert_eq!(dom.name, "ICC1");
    assert_eq!(dom.table_id.as_deref(), Some("BLT_ICC1"));
    assert!(dom.data_sets.iter().any(|s| s == "DS_Grid"));
    for (name, t, _) in &points {
        let v = dom
            .variables
            .iter()
            .find(|v| v.name.item() == *name)
            .unwrap();
        assert_eq!(v.point_type, Some(*t), "{name}");
        assert_eq!(v.tase2_type_name(), Some(t.name()));
    }
    let type_of = |item: &str| {
        dom.variables
            .iter()
            .find(|v| v.name.item() == item)
            .and_then(|v| v.tase2_type_name())
    };
    assert_eq!(type_of("DSTransfer_Set_1"), Some("DSTransferSet"));
    assert_eq!(type_of("Next_DSTransfer_Set"), Some("ObjectName"));
    assert_eq!(type_of("Bilateral_Table_ID"), Some("Bilateral_Table_ID"));

    // Typed reads of every point in one Read; a plain value is refused as a point.
    let names: Vec<ObjectName> = points.iter().map(|(n, ..)| icc1(n)).collect();
    let values = c.read_points(&names).await.unwrap();
    for ((name, t, v), got) in points.iter().zip(values) {
        assert_eq!(got.unwrap(), seen(*t, v), "{name}");
    }
    assert!(matches!(
        c.read_point(&icc1("Bilateral_Table_ID")).await,
        Err(Error::Tase2(T2::NotAPoint(_)))
    ));

    // Writes: granted on Setpoint, refused elsewhere.
    c.write_point(&icc1("Setpoint"), &PointValue::real(42.5))
        .await
        .unwrap();
    assert_eq!(
        c.read_point(&icc1("Setpoint")).await.unwrap().value,
        Value::Real(42.5)
    );
    assert!(matches!(
        c.write_point(&icc1("Gen1_MW"), &PointValue::real(1.0))
            .await,
        Err(Error::Tase2(T2::Access(
            DataAccessError::OBJECT_ACCESS_DENIED
        )))
    ));

    // A data set of our own: the special variables and four points.
    let ds = icc1("DS_Test");
    let mut members = report_variables("ICC1").to_vec();
    for n in ["Gen1_MW", "Freq_Hz", "Brk1", "Line1_MW"] {
        members.push(icc1(n));
    }
    c.define_data_set(&ds, &members).await.unwrap();
    assert_eq!(c.data_set_members(&ds).await.unwrap(), members);

    // Reserve a transfer set and start it: RBE, object change, integrity every 2 s.
    let ts1 = c.reserve_transfer_set("ICC1").await.unwrap();
    assert_eq!(ts1, icc1("DSTransfer_Set_1"));
    event_where(
        &mut f.events,
        |e| matches!(e, Tase2Event::TransferSetReserved { name, .. } if *name == ts1),
    )
    .await;
    let config1 = DsTransferSetValue {
        data_set: ds.clone(),
        integrity_check: 2,
        conditions: DsConditions::INTEGRITY | DsConditions::OBJECT_CHANGE,
        rbe: true,
        tle: 30,
        ..Default::default()
    };
    c.start_transfer_set(&ts1, config1.clone()).await.unwrap();
    match event_where(&mut f.events, |e| {
        matches!(e, Tase2Event::TransferSetStarted { .. })
    })
    .await
    {
        Tase2Event::TransferSetStarted { name, value, .. } => {
            assert_eq!(name, ts1);
            assert!(value.status && value.rbe);
            assert_eq!(value.data_set, ds);
        }
        e => panic!("{e:?}"),
    }
    let back = c.read_transfer_set(&ts1).await.unwrap();
    assert!(back.status && back.rbe && back.integrity_check == 2);

    // One change: an RBE report with exactly that point.
    let gen = PointValue::real(123.5)
        .with_flags(Flags::VALID.with_validity(Validity::Suspect))
        .at(ts(1_700_000_100, 0));
    update(&f.handle, vec![(icc1("Gen1_MW"), gen)]).await;
    let r = next_with(&mut c, DsConditions::OBJECT_CHANGE).await;
    assert_eq!(r.transfer_set.as_ref(), Some(&ts1));
    assert_eq!(r.conditions, Some(DsConditions::OBJECT_CHANGE));
    assert_eq!(r.data_set, None, "RBE reports list their variables");
    assert!(r.timestamp.is_some_and(|t| t > 1_700_000_000));
    assert_eq!(r.values.len(), 1);
    assert_eq!(
        r.values[0],
        (icc1("Gen1_MW"), Reported::Point(REAL_QTT, gen))
    );
    assert!(!r.acknowledged, "not critical: nothing to acknowledge");

    // Two changes in one batch (and one point outside the data set): one report, both values.
    let brk = PointValue::state(StateValue::Off).at(ts(1_700_000_200, 0));
    let freq = PointValue::real(49.875);
    update(
        &f.handle,
        vec![
            (icc1("Brk1"), brk),
            (icc1("Tap1"), PointValue::discrete(8)),
            (icc1("Freq_Hz"), freq),
        ],
    )
    .await;
    let r = next_with(&mut c, DsConditions::OBJECT_CHANGE).await;
    assert_eq!(r.values.len(), 2, "{r:?}");
    assert_eq!(r.point(&icc1("Brk1")), Some(&seen(STATE_QTT, &brk)));
    assert_eq!(r.point(&icc1("Freq_Hz")), Some(&seen(REAL_Q, &freq)));
    assert_eq!(r.point(&icc1("Tap1")), None);

    // Integrity: a full report, by data set name, of the current values.
    let r = next_with(&mut c, DsConditions::INTEGRITY).await;
    assert_eq!(r.data_set.as_ref(), Some(&ds));
    assert_eq!(r.transfer_set.as_ref(), Some(&ts1));
    assert_eq!(r.values.len(), 4);
    assert_eq!(r.point(&icc1("Gen1_MW")), Some(&gen));
    assert_eq!(r.point(&icc1("Brk1")), Some(&seen(STATE_QTT, &brk)));
    let line = r.point(&icc1("Line1_MW")).unwrap();
    assert_eq!(line.value, Value::Real(-20.25));
    assert_eq!(line.timestamp, ts(1_700_000_004, 0));

    // Stop it: Status false by component write.
    c.stop_transfer_set(&ts1).await.unwrap();
    assert!(matches!(
        event_where(&mut f.events, |e| matches!(e, Tase2Event::TransferSetStopped { .. })).await,
        Tase2Event::TransferSetStopped { name, .. } if name == ts1
    ));
    assert!(!c.read_transfer_set(&ts1).await.unwrap().status);
    let mut last_write = None;
    while let Ok(w) = f.writes.try_recv() {
        last_write = Some(w);
    }
    assert_eq!(
        last_write,
        Some((ts1.clone(), Data::Boolean(false))),
        "stopped by a component write of Status"
    );

    // A critical transfer set on the predefined DS_Grid (members learnt by the client), interval
    // 1 s: each report is acknowledged automatically and the server hears the ACK.
    let ts2 = c.reserve_transfer_set("ICC1").await.unwrap();
    assert_eq!(ts2, icc1("DSTransfer_Set_2"));
    c.start_transfer_set(
        &ts2,
        DsTransferSetValue {
            data_set: icc1("DS_Grid"),
            interval: 1,
            conditions: DsConditions::INTERVAL,
            critical: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    for _ in 0..2 {
        let r = next_with(&mut c, DsConditions::INTERVAL).await;
        assert_eq!(r.transfer_set.as_ref(), Some(&ts2));
        assert_eq!(r.data_set.as_ref(), Some(&icc1("DS_Grid")));
        assert_eq!(r.point(&icc1("Gen1_MW")), Some(&gen));
        assert!(r.acknowledged);
        let stamp = r.timestamp.unwrap();
        match event_where(&mut f.events, |e| {
            matches!(
                e,
                Tase2Event::ReportAcked { .. } | Tase2Event::UnexpectedReport { .. }
            )
        })
        .await
        {
            Tase2Event::ReportAcked {
                name, timestamp, ..
            } => {
                assert_eq!(name, ts2);
                assert_eq!(timestamp, stamp);
            }
            e => panic!("{e:?}"),
        }
    }

    // On demand: the report waits for our ACK.
    c.set_auto_ack(false).await.unwrap();
    // A report that arrived while the switch was on its way was acknowledged on arrival: skip
    // those (a few at most), then the next one waits for us.
    let mut auto_acked = Vec::new();
    let r = loop {
        let r = next_with(&mut c, DsConditions::INTERVAL).await;
        if !r.acknowledged {
            break r;
        }
        auto_acked.push(r.timestamp);
        assert!(auto_acked.len() < 5, "auto-ACK never stopped");
    };
    c.ack(&ts2, r.timestamp.unwrap()).await.unwrap();
    loop {
        match event_where(&mut f.events, |e| {
            matches!(
                e,
                Tase2Event::ReportAcked { .. } | Tase2Event::UnexpectedReport { .. }
            )
        })
        .await
        {
            Tase2Event::ReportAcked {
                name, timestamp, ..
            } => {
                assert_eq!(name, ts2);
                if Some(timestamp) == r.timestamp {
                    break;
                }
                assert!(
                    auto_acked.contains(&Some(timestamp)),
                    "an ACK of a report this client did not see: {timestamp}"
                );
            }
            e => panic!("{e:?}"),
        }
    }
    c.set_auto_ack(true).await.unwrap();
    c.stop_transfer_set(&ts2).await.unwrap();
    event_where(
        &mut f.events,
        |e| matches!(e, Tase2Event::TransferSetStopped { name, .. } if *name == ts2),
    )
    .await;

    // The pool of four: two more, then none free.
    assert_eq!(
        c.reserve_transfer_set("ICC1").await.unwrap(),
        icc1("DSTransfer_Set_3")
    );
    assert_eq!(
        c.reserve_transfer_set("ICC1").await.unwrap(),
        icc1("DSTransfer_Set_4")
    );
    assert!(matches!(
        c.reserve_transfer_set("ICC1").await,
        Err(Error::Tase2(T2::Access(
            DataAccessError::TEMPORARILY_UNAVAILABLE
        )))
    ));

    // Reports still queued are drained; then the data set goes and the association ends.
    assert!(c.delete_data_set(&ds).await.unwrap());
    assert!(c.data_set_members(&ds).await.is_err());
    c.conclude().await.unwrap();

    // The ICC2 client sees ICC2 and not ICC1.
    let c2 = Tase2Client::connect(f.addr, config("1.1.1.997"))
        .await
        .unwrap();
    assert_eq!(c2.domains().await.unwrap(), ["ICC2"]);
    assert_eq!(c2.bilateral_table_id("ICC2").await.unwrap(), "BLT_ICC2");
    assert!(c2.read(&icc1("Gen1_MW")).await.is_err());
    c2.conclude().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn block_1_and_2_flow_edition_2000() {
    flow(Edition::V2000_08).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn block_1_and_2_flow_edition_1996() {
    flow(Edition::V1996_08).await;
}

/// A server that serves transfer sets as plain MMS variables (no component access): stopping
/// falls back to writing the whole structure with Status false. Also: a full report of a data
/// set the client never heard of is decoded after one GetNamedVariableListAttributes.
#[tokio::test]
async fn plain_mms_server_stop_fallback_and_unknown_data_set() {
    use tase2_core::mms::{StructComponent, TypeDescription, TypeSpecification};
    use tase2_core::server::{NamedVariableList, Variable, Vmd};
    use tase2_core::tase2::client::transfer_set_data;

    let edition = Edition::V1996_08;
    let mut vmd = Vmd::default();
    let (major, minor) = edition.version();
    vmd.variables.insert(
        "TASE2_Version".into(),
        Variable::read_only(
            TypeDescription::Structure {
                packed: false,
                components: ["MajorVersionNumber", "MinorVersionNumber"]
                    .map(|n| StructComponent {
                        name: Some(n.into()),
                        type_spec: TypeSpecification::Description(TypeDescription::Integer(16)),
                    })
                    .to_vec(),
            },
            Data::Structure(vec![
                Data::Integer(major.into()),
                Data::Integer(minor.into()),
            ]),
        ),
    );
    let d = vmd.domain_mut("ICC1");
    d.variables.insert(
        "Gen1_MW".into(),
        Variable::read_only(
            REAL.type_description(),
            REAL.to_data(&PointValue::real(5.0)),
        ),
    );
    let ts_type = DsTransferSetValue::type_description(edition);
    d.variables.insert(
        "DSTransfer_Set_1".into(),
        Variable::writable(
            ts_type,
            transfer_set_data(&DsTransferSetValue::default(), edition),
        ),
    );
    for list in ["DS", "DS2"] {
        d.lists.insert(
            list.into(),
            NamedVariableList {
                members: vec![icc1("Gen1_MW")],
                deletable: false,
            },
        );
    }
    let mut server = Server::bind("127.0.0.1:0", ServerConfig::default(), vmd)
        .await
        .unwrap();
    let addr = server.local_addr().unwrap();
    let (tx, mut writes) = mpsc::unbounded_channel();
    server.on_event(move |ep, now, ev| match ev {
        ServerEvent::Written { name, value, .. } => {
            let _ = tx.send((name.clone(), value.clone()));
        }
        // Every client gets a report of ICC1/DS2 as soon as it is associated.
        ServerEvent::Associated { id, .. } => ep.report_list(now, *id, &icc1("DS2")).unwrap(),
        _ => {}
    });
    tokio::spawn(server.run());

    let options = Tase2Options {
        read_version: false,
        ..Tase2Options::default()
    };
    let mut c = Tase2Client::connect_with(addr, config("1.1.1.999"), options)
        .await
        .unwrap();
    assert_eq!(c.version().await.unwrap(), edition);
    let Tase2Report::Transfer(r) = c.next_report().await.unwrap().unwrap() else {
        panic!("not a transfer set report");
    };
    assert_eq!(r.data_set, Some(icc1("DS2")));
    assert_eq!(r.transfer_set, None);
    assert_eq!(
        r.values,
        [(
            icc1("Gen1_MW"),
            Reported::Point(REAL, PointValue::real(5.0))
        )]
    );
    let ts1 = icc1("DSTransfer_Set_1");
    let value = DsTransferSetValue {
        data_set: icc1("DS"),
        interval: 5,
        conditions: DsConditions::INTERVAL,
        ..Default::default()
    };
    c.start_transfer_set(&ts1, value.clone()).await.unwrap();
    let (name, started) = writes.recv().await.unwrap();
    assert_eq!(name, ts1);
    let started = DsTransferSetValue::from_data(&started).unwrap();
    assert!(started.status);
    assert_eq!(transfer_set_data(&started, edition), {
        let mut v = value.clone();
        v.status = true;
        transfer_set_data(&v, edition)
    });

    c.stop_transfer_set(&ts1).await.unwrap();
    let (name, stopped) = writes.recv().await.unwrap();
    assert_eq!(name, ts1);
    let Data::Structure(components) = &stopped else {
        panic!("{stopped:?}")
    };
    assert_eq!(components.len(), 12, "1996.08 layout");
    let stopped = DsTransferSetValue::from_data(&stopped).unwrap();
    assert!(!stopped.status);
    assert_eq!(stopped.data_set, icc1("DS"));
    assert_eq!(stopped.interval, 5);
    c.conclude().await.unwrap();
}
