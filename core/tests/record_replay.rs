//! Record and replay: a client session and a TASE.2 server recorded while they talk (discovery,
//! an RBE transfer set with reports, SBO control, an information message, release), both logs
//! replayed into fresh objects octet for octet; a changed octet, a changed model and bad files
//! are each caught and named.

use core::time::Duration;

use tase2_core::assoc::AssociationConfig;
use tase2_core::mms::ObjectName;
use tase2_core::record::{
    self, format, DivergenceKind, Entry, Event, Mismatch, Reader, RecordError, ReplayError, Role,
};
use tase2_core::server::{Endpoint, ServerConfig};
use tase2_core::sim::Sim;
use tase2_core::tase2::client::{Command, Outcome, Session, SessionConfig, SessionEvent};
use tase2_core::tase2::server::{DeviceSpec, OperatePolicy, Tase2, Tase2Builder, Tase2Config};
use tase2_core::tase2::{
    BilateralTable, ClientMatch, Command as Cmd, ControlMode, ControlValue, DeviceKind,
    DsConditions, DsTransferSetValue, Family, Form, InfoHeader, InfoScope, PointType, PointValue,
    Rights, StateValue,
};
use tase2_core::Instant;

const RQT: PointType = PointType::Indication(Family::Real, Form::QTimeTag);
const SQT: PointType = PointType::Indication(Family::State, Form::QTimeTag);

fn icc1(item: &str) -> ObjectName {
    ObjectName::domain("ICC1", item)
}

fn server(first: f32) -> Endpoint<Tase2> {
    let mut b = Tase2Builder::new(Tase2Config {
        local_ap_title: Some("1.1.1.998".parse().unwrap()),
        operate: OperatePolicy::AcceptAll,
        ..Tase2Config::default()
    });
    b.domain("ICC1", 2).unwrap();
    for n in 1..=5 {
        b.point(
            Some("ICC1"),
            &format!("P{n}"),
            RQT,
            PointValue::real(first + n as f32),
        )
        .unwrap();
    }
    b.point(
        Some("ICC1"),
        "Brk1",
        SQT,
        PointValue::state(StateValue::Off),
    )
    .unwrap();
    b.device(
        Some("ICC1"),
        "Brk1_Cmd",
        DeviceSpec::new(DeviceKind::Command, ControlMode::Sbo).check_back_id(101),
    )
    .unwrap();
    b.info_buffer(Some("ICC1"), 256).unwrap();
    b.table(
        BilateralTable::new("BLT_1", ClientMatch::ap_title(&[1, 1, 1, 999], 12), "ICC1")
            .grant("Brk1_Cmd", Rights::READ_WRITE)
            .admit_info(InfoScope::Icc, 10, None),
    )
    .unwrap();
    b.build(ServerConfig::default()).unwrap()
}

fn t0() -> Instant {
    Instant::virtual_at(Duration::ZERO, 1_700_000_000)
}

/// A recorded conversation: (client log, server log, reports the client received).
fn conversation() -> (Vec<u8>, Vec<u8>, usize) {
    let mut ep = server(0.0);
    ep.record(
        t0(),
        "test",
        Vec::new(),
        "record_replay test",
        Box::new(Vec::<u8>::new()),
    )
    .unwrap();
    let mut s: Sim<Tase2> = Sim::new(ep, t0());
    let c = s.connect_with(|now| {
        let assoc = AssociationConfig::with_ap_titles(
            ("1.1.1.999".parse().unwrap(), 12),
            ("1.1.1.998".parse().unwrap(), 12),
        );
        let mut session = Session::new(assoc, SessionConfig::default(), now);
        session
            .record(Box::new(Vec::<u8>::new()), "record_replay test")
            .unwrap();
        session
    });
    assert!(s.client(c).session.is_established());
    assert!(matches!(
        s.run(c, Command::Discover),
        Ok(Outcome::Discovery(_))
    ));
    let ds = icc1("DS_Rec");
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
    assert!(matches!(
        s.run(
            c,
            Command::ReserveAndStart {
                domain: "ICC1".into(),
                value: DsTransferSetValue {
                    data_set: ds,
                    integrity_check: 10,
                    conditions: DsConditions::INTEGRITY | DsConditions::OBJECT_CHANGE,
                    rbe: true,
                    ..Default::default()
                },
            },
        ),
        Ok(Outcome::TransferSet(_))
    ));
    for k in 0..5 {
        let now = s.now;
        let p = s.server.tase2().point_id(&icc1("P1")).unwrap();
        s.server.update(now, p, PointValue::real(100.0 + k as f32));
        s.advance(Duration::from_secs(3));
    }
    let now = s.now;
    s.server
        .send_info_message(
            Some("ICC1"),
            InfoHeader {
                info_reference: 7,
                local_reference: 1,
                message_id: 1,
                size: 0,
            },
            b"shift change at 06:00",
        )
        .unwrap();
    let _ = now;
    s.advance(Duration::from_secs(1));
    assert!(matches!(
        s.run(
            c,
            Command::SelectOperate {
                device: icc1("Brk1_Cmd"),
                value: ControlValue::Command(Cmd::On),
            }
        ),
        Ok(Outcome::CheckBackId(101))
    ));
    let reports = s
        .take_events(c, |e| matches!(e, SessionEvent::Report(_)))
        .len();
    let now = s.now;
    s.client(c).session.conclude(now).unwrap();
    s.advance(Duration::from_secs(1));
    let client_log = s.client(c).session.recording().unwrap().to_vec();
    let server_log = s.server.recording().unwrap().to_vec();
    (client_log, server_log, reports)
}

fn entries(log: &[u8]) -> (format::Header, Vec<Entry>) {
    let mut r = Reader::new(log).unwrap();
    let h = r.header().clone();
    let v = r.by_ref().collect::<Result<Vec<_>, _>>().unwrap();
    (h, v)
}

fn rebuild(h: &format::Header, entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    format::write_header(&mut out, h);
    for e in entries {
        format::write_entry(&mut out, e);
    }
    out
}

#[test]
fn both_sides_replay_octet_for_octet() {
    let (client_log, server_log, reports) = conversation();
    assert!(reports >= 3, "reports received: {reports}");

    let (h, e) = entries(&client_log);
    assert_eq!(h.role, Role::Client);
    assert!(e.iter().any(|e| matches!(e.event, Event::Session(_))));
    let stats = record::replay_session(&client_log).unwrap();
    assert!(stats.output_bytes > 500, "{stats:?}");
    assert!(stats.input_bytes > 1000, "{stats:?}");
    assert!(stats.span >= Duration::from_secs(16), "{stats:?}");

    let (h, e) = entries(&server_log);
    assert_eq!(h.role, Role::Server);
    assert!(e.iter().any(|e| matches!(
        e.event,
        Event::Server(record::ServerInput::SendInfoMessage { .. })
    )));
    let mut fresh = server(0.0);
    let stats = record::replay(&mut fresh, &server_log).unwrap();
    assert_eq!(stats.connections, 1);
    assert!(stats.output_bytes > 1000, "{stats:?}");
    // The replayed server is in the recorded state: P1 holds the last update.
    let p1 = fresh.tase2().point_id(&icc1("P1")).unwrap();
    assert_eq!(
        fresh.tase2().value(p1).unwrap().value,
        PointValue::real(104.0).value
    );
}

#[test]
fn a_changed_output_octet_stops_the_replay_where_it_differs() {
    let (client_log, _, _) = conversation();
    let (h, mut e) = entries(&client_log);
    // Change one octet of the third output (an MMS request after Initiate).
    let (i, offset_before) = {
        let mut seen = 0;
        let mut offset = 0;
        let mut found = None;
        for (i, en) in e.iter().enumerate() {
            if let Event::Output { bytes, .. } = &en.event {
                seen += 1;
                if seen == 3 {
                    found = Some((i, offset));
                    break;
                }
                offset += bytes.len();
            }
        }
        found.unwrap()
    };
    let Event::Output { bytes, .. } = &mut e[i].event else {
        unreachable!()
    };
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    let tampered = rebuild(&h, &e);
    let Err(ReplayError::Diverged(d)) = record::replay_session(&tampered) else {
        panic!("the tampered log replayed")
    };
    assert_eq!(d.kind, DivergenceKind::Bytes);
    assert_eq!(d.index, i as u64);
    assert_eq!(d.offset, offset_before + last);
    assert_eq!(d.expected.len(), d.produced.len());
    assert_ne!(d.expected, d.produced);
    assert_eq!(d.expected[0], 3, "the frame starts at its TPKT header");
    let text = ReplayError::Diverged(d).to_string();
    assert!(text.contains("output differs at octet"), "{text}");
}

#[test]
fn a_dropped_command_or_another_model_is_named() {
    let (client_log, server_log, _) = conversation();
    // A command taken out: the next one gets another operation id.
    let (h, mut e) = entries(&client_log);
    let first = e
        .iter()
        .position(|e| {
            matches!(
                e.event,
                Event::Session(record::SessionInput::Command { .. })
            )
        })
        .unwrap();
    e.remove(first);
    let Err(ReplayError::Diverged(d)) = record::replay_session(&rebuild(&h, &e)) else {
        panic!("replayed without the command")
    };
    assert!(
        matches!(
            d.kind,
            DivergenceKind::Input(Mismatch::OpId { .. }) | DivergenceKind::Missing
        ),
        "{d:?}"
    );
    // The server rebuilt with other values is refused before any input.
    let mut other = server(1.0);
    assert!(matches!(
        record::replay(&mut other, &server_log),
        Err(ReplayError::Fingerprint { .. })
    ));
    // A server log is not a session log.
    assert!(matches!(
        record::replay_session(&server_log),
        Err(ReplayError::WrongRole {
            recorded: Role::Server
        })
    ));
}

#[test]
fn bad_files_get_errors_never_panics() {
    let (client_log, _, _) = conversation();
    assert_eq!(
        Reader::new(b"hello").unwrap_err(),
        RecordError::NotARecording
    );
    // Cut anywhere: the entries before the cut are read, then `Truncated`.
    for cut in [9, 20, client_log.len() / 2, client_log.len() - 1] {
        let r = Reader::new(&client_log[..cut]);
        let err = match r {
            Err(e) => e,
            Ok(r) => r
                .filter_map(Result::err)
                .next()
                .expect("an error at the cut"),
        };
        assert!(
            matches!(err, RecordError::Truncated { .. }),
            "cut {cut}: {err:?}"
        );
    }
    // A newer version is refused as such.
    let (mut h, e) = entries(&client_log);
    h.version = record::FORMAT_VERSION + 1;
    assert!(matches!(
        Reader::new(&rebuild(&h, &e)),
        Err(RecordError::UnsupportedVersion { .. })
    ));
    // A flipped bit in a payload.
    let mut bad = client_log.clone();
    let n = bad.len();
    bad[n - 3] ^= 0x40;
    let err = Reader::new(&bad)
        .unwrap()
        .filter_map(Result::err)
        .next()
        .unwrap();
    assert!(matches!(err, RecordError::Corrupted { .. }), "{err:?}");
    // A hostile length is refused before anything is allocated.
    let mut hostile = client_log[..Reader::new(&client_log).unwrap().offset()].to_vec();
    hostile.extend_from_slice(&u32::MAX.to_le_bytes());
    hostile.extend_from_slice(&[0; 12]);
    let err = Reader::new(&hostile)
        .unwrap()
        .filter_map(Result::err)
        .next()
        .unwrap();
    assert!(matches!(err, RecordError::FrameTooLarge { .. }), "{err:?}");
    assert!(err.to_string().contains("claims"));
}

#[test]
fn recording_starts_only_on_a_fresh_object() {
    let mut s = Session::new(AssociationConfig::default(), SessionConfig::default(), t0());
    s.poll_transmit(&mut Vec::new());
    assert_eq!(
        s.record(Box::new(Vec::<u8>::new()), "late"),
        Err(record::RecordStartError::NotFresh)
    );
    let mut ep = server(0.0);
    ep.open(t0()).unwrap();
    assert_eq!(
        ep.record(t0(), "t", Vec::new(), "late", Box::new(Vec::<u8>::new())),
        Err(record::RecordStartError::NotFresh)
    );
}

/// Writes the seed corpus of the `record` fuzz body (`fuzz/seeds/record/`): the two logs of the
/// conversation above. Run with `cargo test -p tase2-core --test record_replay -- --ignored`.
#[test]
#[ignore]
fn write_fuzz_seeds() {
    let (client_log, server_log, _) = conversation();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/seeds/record");
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(format!("{dir}/client.log"), client_log).unwrap();
    std::fs::write(format!("{dir}/server.log"), server_log).unwrap();
}

#[test]
fn a_local_tag_set_by_the_builder_is_part_of_the_fresh_model() {
    use tase2_core::tase2::server::TagError;
    use tase2_core::tase2::TagValue;

    let build = |tag: Option<TagValue>| {
        let mut b = Tase2Builder::new(Tase2Config::default());
        b.domain("ICC1", 2).unwrap();
        let tagged = b
            .device(
                Some("ICC1"),
                "Cap1_Cmd",
                DeviceSpec::new(DeviceKind::Command, ControlMode::Direct).tagged(),
            )
            .unwrap();
        let plain = b
            .device(
                Some("ICC1"),
                "Gen1_Start",
                DeviceSpec::new(DeviceKind::Command, ControlMode::Direct),
            )
            .unwrap();
        assert_eq!(
            b.local_tag(plain, TagValue::CloseOnlyInhibit, "x"),
            Err(TagError::NoTag)
        );
        assert_eq!(
            b.local_tag(tagged, TagValue::Invalid, "x"),
            Err(TagError::Invalid)
        );
        if let Some(t) = tag {
            b.local_tag(tagged, t, "crew on site\u{7}").unwrap();
        }
        (b.build(ServerConfig::default()).unwrap(), tagged)
    };
    let (mut ep, dev) = build(Some(TagValue::CloseOnlyInhibit));
    let tag = ep.tase2().device(t0(), dev).unwrap().tag;
    assert_eq!(tag.value, TagValue::CloseOnlyInhibit);
    assert_eq!(tag.reason, "crew on site", "a control character is dropped");
    // Tagged at build time, the endpoint is still fresh: recording may start.
    ep.record(t0(), "test", Vec::new(), "test", Box::new(Vec::<u8>::new()))
        .unwrap();
    // And the fingerprint tells a tagged model from an untagged one.
    assert_ne!(ep.fingerprint(), build(None).0.fingerprint());
}

#[test]
fn inputs_only_replays_feed_a_foreign_log_and_show_its_events() {
    let (_, server_log, _) = conversation();
    let (mut h, mut e) = entries(&server_log);
    // Another implementation's server: other output octets, no fingerprint.
    for en in &mut e {
        if let Event::Output { bytes, .. } = &mut en.event {
            bytes.iter_mut().for_each(|b| *b ^= 0x5a);
        }
    }
    h.fingerprint = 0;
    let foreign = rebuild(&h, &e);
    let mut fresh = server(0.0);
    assert!(
        matches!(
            record::replay(&mut fresh, &foreign),
            Err(ReplayError::Fingerprint { recorded: 0, .. })
        ),
        "outputs checked: the fingerprint is"
    );
    let opts = record::ReplayOptions {
        check_outputs: false,
    };
    let mut fresh = server(0.0);
    let mut associated = Vec::new();
    let mut inputs = 0;
    let stats = record::replay_with(&mut fresh, &foreign, &opts, &mut |ep, index, entry| {
        assert!(!matches!(entry.event, Event::Output { .. }));
        inputs += 1;
        while let Some(ev) = ep.poll_event() {
            if let tase2_core::server::ServerEvent::Associated { id, .. } = ev {
                associated.push((index, id.0));
            }
        }
    })
    .unwrap();
    assert_eq!(
        associated.len(),
        1,
        "the association's event reached the caller"
    );
    assert_eq!(associated[0].1, 1);
    assert_eq!(stats.inputs, inputs);
    assert!(
        stats.output_bytes > 1000,
        "our server still answered: {stats:?}"
    );
    // The recorded state is reached all the same.
    let p1 = fresh.tase2().point_id(&icc1("P1")).unwrap();
    assert_eq!(
        fresh.tase2().value(p1).unwrap().value,
        PointValue::real(104.0).value
    );
    // A log that names a model is still held to it.
    let (h, e) = entries(&server_log);
    let mut other = server(1.0);
    assert!(matches!(
        record::replay_with(&mut other, &rebuild(&h, &e), &opts, &mut |_, _, _| {}),
        Err(ReplayError::Fingerprint { .. })
    ));
}

/// A TASE.2 endpoint that lets each source hold one connection.
fn one_per_source() -> Endpoint<Tase2> {
    Tase2Builder::new(Tase2Config::default())
        .build(ServerConfig {
            max_per_source: 1,
            ..ServerConfig::default()
        })
        .unwrap()
}

#[test]
fn a_connection_refused_by_its_transport_is_an_event_and_replays() {
    let mut ep = one_per_source();
    ep.record(t0(), "test", Vec::new(), "test", Box::new(Vec::<u8>::new()))
        .unwrap();
    let src: core::net::IpAddr = "192.0.2.7".parse().unwrap();
    let id = ep.open_from(t0(), src).unwrap();
    // A reason longer than the endpoint keeps, cut on a character boundary.
    let long = format!("unknown CA {}", "é".repeat(300));
    ep.transport_refused(t0(), id, &long);
    let Some(tase2_core::server::ServerEvent::Admission(a)) = ep.poll_event() else {
        panic!("no admission event")
    };
    let tase2_core::server::AdmissionEvent::TransportRefused {
        id: i,
        source,
        reason,
    } = &a
    else {
        panic!("{a:?}")
    };
    assert_eq!((*i, *source), (id, Some(src)));
    assert!(
        reason.starts_with("unknown CA é") && reason.len() <= 200,
        "{reason}"
    );
    assert!(
        a.to_string().starts_with(&format!(
            "TLS refused connection {} from 192.0.2.7: unknown CA",
            id.0
        )),
        "{a}"
    );
    assert!(matches!(
        ep.poll_event(),
        Some(tase2_core::server::ServerEvent::Closed { id: c, .. }) if c == id
    ));
    // Forgotten at once: the source may connect again.
    assert!(!ep.is_open(id));
    let again = ep.open_from(t0(), src).unwrap();
    let log = ep.recording().unwrap().to_vec();
    let (_, e) = entries(&log);
    assert!(e.iter().any(|e| matches!(
        &e.event,
        Event::TransportRefused { conn, reason } if *conn == id.0 && reason.starts_with("unknown CA")
    )));
    // A replay that did not refuse the first connection would refuse the second (source
    // limit 1): the replay names that as another connection id.
    let mut fresh = one_per_source();
    let stats = record::replay(&mut fresh, &log).unwrap();
    assert_eq!(stats.connections, 2, "{stats:?}");
    assert!(fresh.is_open(again) && !fresh.is_open(id));
}
