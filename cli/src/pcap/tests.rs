//! Export and import against tshark and a real capture: a conversation with the default model,
//! recorded in memory on both sides, exported and decoded by tshark (MMS present, nothing
//! malformed, checksums good), imported back octet for octet; libiec61850's client captured
//! against `tase2 serve` replays through our server without a peer error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::time::Duration;

use tase2_core::assoc::AssociationConfig;
use tase2_core::mms::ObjectName;
use tase2_core::record::{Event, Reader};
use tase2_core::sim::Sim;
use tase2_core::tase2::client::{Command, Outcome, Session, SessionConfig};
use tase2_core::tase2::server::Tase2;
use tase2_core::Instant;

use super::*;
use crate::config::{DEFAULT, DEFAULT_ORIGIN};

/// The default model without its initial local tag: setting a tag at load is a call on the
/// endpoint, after which it no longer takes a recording from a fresh start.
fn model_text() -> String {
    DEFAULT
        .lines()
        .filter(|l| !l.starts_with("tag = ") && !l.starts_with("tag_reason = "))
        .collect::<Vec<_>>()
        .join("\n")
}

fn t0() -> Instant {
    Instant::virtual_at(Duration::ZERO, 1_700_000_000)
}

fn endpoint(text: &str, start: Instant) -> tase2_core::server::Endpoint<Tase2> {
    crate::model::load(text, DEFAULT_ORIGIN, model_timestamp(start))
        .unwrap()
        .endpoint
}

/// (server log, client log) of a session against the model: discovery (large responses: several
/// segments), a read of 40 points, conclude, the transport closed.
fn conversation() -> (Vec<u8>, Vec<u8>) {
    let text = model_text();
    let mut ep = endpoint(&text, t0());
    ep.record(
        t0(),
        SERVE_TOML,
        text.clone().into_bytes(),
        "pcap test",
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
            .record(Box::new(Vec::<u8>::new()), "pcap test")
            .unwrap();
        session
    });
    assert!(s.client(c).session.is_established());
    assert!(matches!(
        s.run(c, Command::Discover),
        Ok(Outcome::Discovery(_))
    ));
    s.advance(Duration::from_millis(250));
    let names: Vec<ObjectName> = (1..=40)
        .map(|n| ObjectName::domain("ICC1", format!("Point_{n:04}")))
        .collect();
    let _ = s.run(c, Command::ReadPoints { names });
    let now = s.now;
    s.client(c).session.conclude(now).unwrap();
    s.advance(Duration::from_secs(1));
    s.disconnect(c);
    let server_log = s.server.recording().unwrap().to_vec();
    let client_log = s.client(c).session.recording().unwrap().to_vec();
    (server_log, client_log)
}

/// Per connection: (input stream, output stream).
fn streams(log: &[u8]) -> BTreeMap<u64, (Vec<u8>, Vec<u8>)> {
    let mut m: BTreeMap<u64, (Vec<u8>, Vec<u8>)> = BTreeMap::new();
    for e in Reader::new(log).unwrap() {
        match e.unwrap().event {
            Event::Input { conn, bytes } => m.entry(conn).or_default().0.extend(bytes),
            Event::Output { conn, bytes } => m.entry(conn).or_default().1.extend(bytes),
            _ => {}
        }
    }
    m
}

fn tshark() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let found = std::env::split_paths(&path)
        .map(|d| d.join("tshark"))
        .find(|p| p.is_file());
    if found.is_none() {
        println!("NOTICE: tshark is not on PATH; the tshark decode checks are skipped");
    }
    found
}

/// Frames of `pcap` matching `filter`, checksums verified.
fn tshark_count(tshark: &Path, pcap: &Path, filter: &str) -> usize {
    let out = Process::new(tshark)
        .args([
            "-n",
            "-o",
            "tcp.check_checksum:TRUE",
            "-o",
            "ip.check_checksum:TRUE",
        ])
        .arg("-r")
        .arg(pcap)
        .args(["-Y", filter, "-T", "fields", "-e", "frame.number"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "tshark: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count()
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tase2-pcap-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn an_exported_server_recording_decodes_in_tshark_and_imports_back() {
    let (server_log, _) = conversation();
    let (pcapng, stats) = export_bytes(&server_log, &ExportOptions::default()).unwrap();
    assert_eq!(stats.connections, 1);
    assert_eq!(stats.stopped, None);
    let recorded = streams(&server_log);
    let total: usize = recorded.values().map(|(i, o)| i.len() + o.len()).sum();
    assert_eq!(stats.octets, total as u64);
    assert!(
        recorded[&1].1.len() > 3 * MSS,
        "a response spans several segments"
    );

    if let Some(ts) = tshark() {
        let path = temp("server.pcapng");
        std::fs::write(&path, &pcapng).unwrap();
        let mms = tshark_count(&ts, &path, "mms");
        assert!(mms >= 4, "MMS PDUs decoded: {mms}");
        assert!(tshark_count(&ts, &path, "mms.confirmed_RequestPDU_element") > 0);
        assert!(tshark_count(&ts, &path, "mms.confirmed_ResponsePDU_element") > 0);
        assert!(
            tshark_count(&ts, &path, "acse") >= 2,
            "AARQ/AARE, RLRQ/RLRE"
        );
        assert_eq!(tshark_count(&ts, &path, "_ws.malformed"), 0, "malformed");
        assert_eq!(
            tshark_count(
                &ts,
                &path,
                "tcp.checksum.status == 0 || ip.checksum.status == 0"
            ),
            0,
            "checksum errors"
        );
        assert_eq!(
            tshark_count(
                &ts,
                &path,
                "tcp.analysis.flags && !tcp.analysis.window_update"
            ),
            0,
            "TCP analysis problems (lost segments, bad ACKs, ...)"
        );
        assert_eq!(
            tshark_count(&ts, &path, "_ws.expert.severity >= \"Warning\""),
            0,
            "expert warnings"
        );
        assert_eq!(tshark_count(&ts, &path, "tcp.len > 1460"), 0);
        assert_eq!(tshark_count(&ts, &path, "tcp.flags.fin == 1"), 2);
        assert_eq!(
            tshark_count(
                &ts,
                &path,
                "ip.src == 10.0.0.2 && tcp.srcport == 102 && mms"
            ),
            tshark_count(&ts, &path, "tcp.srcport == 102 && mms")
        );
        let _ = std::fs::remove_file(&path);
    }

    // Imported again: the same octets in and out, the same connection number.
    let imported = import(
        &pcapng,
        &ImportOptions {
            server_port: 102,
            side: Side::Server,
            connection: 0,
            producer: "test".into(),
        },
    )
    .unwrap();
    assert!(imported.warnings.is_empty(), "{:?}", imported.warnings);
    let log = imported.to_log(PCAP_IMPORT, Vec::new(), 0);
    assert_eq!(streams(&log), recorded);
    let (h, entries) = {
        let mut r = Reader::new(&log).unwrap();
        let h = r.header().clone();
        (h, r.by_ref().map(Result::unwrap).collect::<Vec<_>>())
    };
    assert_eq!(h.role, Role::Server);
    assert_eq!(h.setup_kind, PCAP_IMPORT);
    assert_eq!(h.start.utc_micros(), t0().utc_micros());
    assert!(matches!(entries[0].event, Event::Open { conn: 1 }));
    assert!(matches!(
        entries.last().unwrap().event,
        Event::TransportClosed { conn: 1 }
    ));
    // Its times are the recording's.
    let last_in = Reader::new(&server_log)
        .unwrap()
        .map(Result::unwrap)
        .filter(|e| matches!(e.event, Event::Input { .. }))
        .last()
        .unwrap();
    let last_in_imported = entries
        .iter()
        .rev()
        .find(|e| matches!(e.event, Event::Input { .. }))
        .unwrap();
    assert_eq!(last_in.at.utc_micros(), last_in_imported.at.utc_micros());

    // Its inputs replay through our server built from the model, outputs unchecked (fingerprint
    // 0); with the model and its fingerprint, the imported outputs are even ours octet for octet.
    let report = check(endpoint(&model_text(), imported.start), &log).unwrap();
    assert_eq!(report.associated, 1, "{report:?}");
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let text = model_text();
    let ep = endpoint(&text, imported.start);
    let with_model = imported.to_log(SERVE_TOML, text.clone().into_bytes(), ep.fingerprint());
    let mut ep = endpoint(&text, imported.start);
    let st = record::replay(&mut ep, &with_model).unwrap();
    assert_eq!(st.output_bytes, recorded[&1].1.len() as u64);
}

#[test]
fn a_client_recording_exports_with_directions_swapped() {
    let (_, client_log) = conversation();
    let (pcapng, stats) = export_bytes(&client_log, &ExportOptions::default()).unwrap();
    assert_eq!(stats.connections, 1);
    if let Some(ts) = tshark() {
        let path = temp("client.pcapng");
        std::fs::write(&path, &pcapng).unwrap();
        assert_eq!(tshark_count(&ts, &path, "_ws.malformed"), 0);
        // The client's first output is the COTP connection request, towards the server.
        assert!(tshark_count(&ts, &path, "cotp.type == 0x0e && tcp.dstport == 102") == 1);
        assert!(tshark_count(&ts, &path, "cotp.type == 0x0d && tcp.srcport == 102") == 1);
        let _ = std::fs::remove_file(&path);
    }
    let imported = import(
        &pcapng,
        &ImportOptions {
            server_port: 102,
            side: Side::Client,
            connection: 0,
            producer: "test".into(),
        },
    )
    .unwrap();
    let log = imported.to_log(PCAP_IMPORT, Vec::new(), 0);
    assert_eq!(streams(&log), streams(&client_log));
    assert_eq!(Reader::new(&log).unwrap().header().role, Role::Client);
    // Only one connection: a second is refused with words.
    let err = import(
        &pcapng,
        &ImportOptions {
            server_port: 102,
            side: Side::Client,
            connection: 1,
            producer: "test".into(),
        },
    )
    .err()
    .unwrap();
    assert!(err.contains("1 connection(s)"), "{err}");
}

/// libiec61850's MmsConnection against `tase2 serve` with the default model, captured by
/// tshark on `lo` in the interop run (tests/interop/test_libiec61850_client.py): two
/// associations, one refused by the bilateral tables.
const LIBIEC61850: &[u8] = include_bytes!("../../../tests/data/captures/libiec61850_client.pcapng");
const LIBIEC61850_PORT: u16 = 37381;

#[test]
fn a_libiec61850_capture_replays_through_our_server_without_errors() {
    let imported = import(
        LIBIEC61850,
        &ImportOptions {
            server_port: LIBIEC61850_PORT,
            side: Side::Server,
            connection: 0,
            producer: "test".into(),
        },
    )
    .unwrap();
    assert!(imported.warnings.is_empty(), "{:?}", imported.warnings);
    assert_eq!(imported.connections, 3);
    let log = imported.to_log(PCAP_IMPORT, Vec::new(), 0);
    let s = streams(&log);
    assert_eq!(s.len(), 3);
    // Every captured stream is whole TPKT frames.
    for (conn, (input, output)) in &s {
        for stream in [input, output] {
            let mut at = 0;
            while at < stream.len() {
                assert_eq!(stream[at], 3, "connection {conn}: TPKT at {at}");
                at += usize::from(u16::from_be_bytes([stream[at + 2], stream[at + 3]]));
            }
            assert_eq!(at, stream.len(), "connection {conn}");
        }
    }
    // Through our server with the model the capture was made against.
    let report = check(endpoint(DEFAULT, imported.start), &log).unwrap();
    assert!(report.errors.is_empty(), "{:#?}", report);
    assert_eq!(report.associated, 2, "{report:#?}");
    assert_eq!(report.refused.len(), 1, "{report:#?}");
    assert!(
        report.refused[0].contains("calling-AP-title"),
        "{:?}",
        report.refused
    );
    assert!(report.stats.output_bytes > 10_000, "{:?}", report.stats);

    // The capture through the whole file path: a pcap reader error names where.
    let mut cut = LIBIEC61850.to_vec();
    cut.truncate(LIBIEC61850.len() - 10);
    let err = import(
        &cut,
        &ImportOptions {
            server_port: LIBIEC61850_PORT,
            side: Side::Server,
            connection: 0,
            producer: "test".into(),
        },
    )
    .err()
    .unwrap();
    assert!(err.contains("cut short"), "{err}");
}

#[test]
fn a_capture_with_a_lost_segment_is_refused() {
    let (server_log, _) = conversation();
    let (pcapng, _) = export_bytes(&server_log, &ExportOptions::default()).unwrap();
    // Drop the first data segment from the server: re-write the capture without it.
    let packets = file::read(&pcapng).unwrap();
    let mut w = file::PcapngWriter::new("test", file::LINKTYPE_ETHERNET);
    let mut dropped = false;
    for p in &packets {
        if let Ok(net::Parsed::Tcp(s)) = net::parse(p.linktype, &p.data) {
            if !dropped && s.src.port == 102 && !s.payload.is_empty() {
                dropped = true;
                continue;
            }
        }
        w.packet((p.ts_nanos / 1000) as i64, &p.data);
    }
    let err = import(
        &w.finish(),
        &ImportOptions {
            server_port: 102,
            side: Side::Server,
            connection: 0,
            producer: "test".into(),
        },
    )
    .err()
    .unwrap();
    assert!(
        err.contains(
            "server to client stream: a segment is missing from the capture at relative sequence 1"
        ),
        "{err}"
    );
    // The port of nothing: said so.
    let err = import(
        &pcapng,
        &ImportOptions {
            server_port: 4000,
            side: Side::Server,
            connection: 0,
            producer: "test".into(),
        },
    )
    .err()
    .unwrap();
    assert!(err.contains("no TCP connection to port 4000"), "{err}");
}

/// Every committed fixture (`tests/data/recordings/`: libiec61850's client and ours against
/// `tase2 serve --record`, both roles) exports to a capture tshark decodes with no malformed
/// frame, no checksum error and no expert warning, its MMS PDUs all there.
#[test]
fn every_fixture_exports_to_a_capture_tshark_decodes_cleanly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/recordings");
    let mut fixtures: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rec"))
        .collect();
    fixtures.sort();
    assert!(fixtures.len() >= 4, "fixtures in {}", dir.display());
    let ts = tshark();
    for f in fixtures {
        let log = std::fs::read(&f).unwrap();
        let (pcapng, stats) = export_bytes(&log, &ExportOptions::default()).unwrap();
        assert_eq!(stats.stopped, None, "{}", f.display());
        assert!(
            stats.connections >= 1 && stats.octets > 0,
            "{}",
            f.display()
        );
        let Some(ts) = &ts else { continue };
        let path = temp(&format!(
            "{}.pcapng",
            f.file_stem().unwrap().to_string_lossy()
        ));
        std::fs::write(&path, &pcapng).unwrap();
        let name = f.display();
        assert!(tshark_count(ts, &path, "mms") >= 4, "{name}: MMS decoded");
        assert_eq!(
            tshark_count(ts, &path, "_ws.malformed"),
            0,
            "{name}: malformed"
        );
        assert_eq!(
            tshark_count(
                ts,
                &path,
                "tcp.checksum.status == 0 || ip.checksum.status == 0"
            ),
            0,
            "{name}: checksum errors"
        );
        assert_eq!(
            tshark_count(ts, &path, "_ws.expert.severity >= \"Warning\""),
            0,
            "{name}: expert warnings"
        );
    }
}
