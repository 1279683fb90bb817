//! `tase2 replay` on logs made here: the embedded default model served to a recorded client
//! session (discovery, a transfer set with reports, an information message, select and operate,
//! conclude), both sides recorded as `tase2 serve --record` and a client command would.

use std::time::Duration;

use tase2_core::assoc::AssociationConfig;
use tase2_core::mms::ObjectName;
use tase2_core::record::{format, Entry, Event, Reader};
use tase2_core::server::ServerEvent;
use tase2_core::sim::Sim;
use tase2_core::tase2::client::{Command, Outcome, Session, SessionConfig};
use tase2_core::tase2::server::{Tase2, Tase2Event};
use tase2_core::tase2::{
    Command as Cmd, ControlValue, DsConditions, DsTransferSetValue, InfoHeader, PointValue,
};

use super::*;
use crate::config::{DEFAULT, DEFAULT_ORIGIN};
use crate::model;
use tase2_cli::SERVE_SETUP_KIND as SERVE_SETUP;
use tase2_core::tase2::Timestamp;

fn t0() -> Instant {
    Instant::virtual_at(Duration::from_secs(5), 1_700_000_000)
}

fn icc1(item: &str) -> ObjectName {
    ObjectName::domain("ICC1", item)
}

/// The default model with fewer test points (a shorter discovery).
fn toml() -> String {
    DEFAULT.replace("test_points = 400", "test_points = 5")
}

/// (client log, server log).
fn conversation() -> (Vec<u8>, Vec<u8>) {
    let start = Timestamp::from_utc_micros(t0().utc_micros());
    let text = toml();
    let mut ep = model::load(&text, DEFAULT_ORIGIN, start).unwrap().endpoint;
    ep.record(
        t0(),
        SERVE_SETUP,
        text.into_bytes(),
        "replay test server",
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
            .record(Box::new(Vec::<u8>::new()), "replay test client")
            .unwrap();
        session
    });
    assert!(s.client(c).session.is_established());
    assert!(matches!(
        s.run(c, Command::Discover),
        Ok(Outcome::Discovery(_))
    ));
    assert_eq!(
        s.run(c, Command::InfoMessages { enable: true }),
        Ok(Outcome::Unit)
    );
    let ds = icc1("DS_Replay");
    let mut members: Vec<ObjectName> = [
        "Transfer_Set_Name",
        "Transfer_Set_Time_Stamp",
        "DSConditions_Detected",
    ]
    .map(icc1)
    .to_vec();
    members.extend(["Gen1_MW", "Gen2_MW", "Brk1"].map(icc1));
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
                data_set: ds,
                integrity_check: 10,
                conditions: DsConditions::INTEGRITY | DsConditions::OBJECT_CHANGE,
                rbe: true,
                ..Default::default()
            },
        },
    ) else {
        panic!("no transfer set")
    };
    let gen1 = s.server.tase2().point_id(&icc1("Gen1_MW")).unwrap();
    for k in 0..3 {
        let now = s.now;
        s.server
            .update(now, gen1, PointValue::real(100.0 + k as f32));
        s.advance(Duration::from_secs(4));
    }
    let header = InfoHeader {
        info_reference: 10,
        local_reference: 1,
        message_id: 1,
        size: 0,
    };
    s.server
        .send_info_message(Some("ICC1"), header, b"shift change at 06:00")
        .unwrap();
    s.advance(Duration::from_secs(1));
    // Select and operate; the application answers the operate as a field device would.
    let op = s.start(
        c,
        Command::SelectOperate {
            device: icc1("Brk1_Cmd"),
            value: ControlValue::Command(Cmd::Off),
        },
    );
    for _ in 0..100 {
        let asked = s.server_events.iter().find_map(|e| match e {
            ServerEvent::Extension(Tase2Event::OperateRequested { op, .. }) => Some(*op),
            _ => None,
        });
        if let Some(asked) = asked {
            s.server_events.clear();
            s.server.answer_operate(asked, Ok(())).unwrap();
            break;
        }
        s.step();
    }
    assert_eq!(s.wait(c, op), Some(Ok(Outcome::CheckBackId(101))));
    assert_eq!(
        s.run(c, Command::StopTransferSet { transfer_set: ts }),
        Ok(Outcome::Unit)
    );
    let now = s.now;
    s.client(c).session.conclude(now).unwrap();
    s.advance(Duration::from_secs(1));
    let client_log = s.client(c).session.recording().unwrap().to_vec();
    let server_log = s.server.recording().unwrap().to_vec();
    (client_log, server_log)
}

fn exec(data: &[u8], timeline: bool) -> (i32, String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = execute("test.rec", data, timeline, &mut out, &mut err);
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

fn entries(log: &[u8]) -> (Header, Vec<Entry>) {
    let mut r = Reader::new(log).unwrap();
    let h = r.header().clone();
    let v = r.by_ref().collect::<Result<Vec<_>, _>>().unwrap();
    (h, v)
}

fn rebuild(h: &Header, entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    format::write_header(&mut out, h);
    for e in entries {
        format::write_entry(&mut out, e);
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[test]
fn both_logs_replay_and_say_what_they_went_through() {
    let (client_log, server_log) = conversation();
    for log in [&client_log, &server_log] {
        let (code, out, err) = exec(log, false);
        assert_eq!(code, 0, "{out}{err}");
        assert!(out.contains("replayed octet for octet"), "{out}");
        assert!(out.contains("1 connection,"), "{out}");
        assert!(out.contains("octets out"), "{out}");
        assert!(err.is_empty(), "{err}");
    }
}

#[test]
fn a_changed_output_octet_names_the_layer_and_field() {
    let (client_log, _) = conversation();
    let (h, mut e) = entries(&client_log);
    // The select: the name `Brk1_Cmd_SBO` in the client's Read becomes `Crk1_Cmd_SBO`.
    let (i, at) = e
        .iter()
        .enumerate()
        .find_map(|(i, en)| match &en.event {
            Event::Output { bytes, .. } => find(bytes, b"Brk1_Cmd_SBO").map(|at| (i, at)),
            _ => None,
        })
        .expect("the select was recorded");
    let Event::Output { bytes, .. } = &mut e[i].event else {
        unreachable!()
    };
    bytes[at] = b'C';
    let (code, out, err) = exec(&rebuild(&h, &e), false);
    assert_eq!(code, EXIT_DIVERGED, "{out}{err}");
    assert!(out.contains("DIVERGED at"), "{out}");
    assert!(out.contains(&format!("entry {i}")), "{out}");
    assert!(out.contains("MMS field `item`"), "{out}");
    assert!(out.contains("recorded: item: \"Crk1_Cmd_SBO\""), "{out}");
    assert!(out.contains("produced: item: \"Brk1_Cmd_SBO\""), "{out}");
    assert!(out.contains("ICC1/Crk1_Cmd_SBO request (invoke"), "{out}");
    // The hex rows with the changed octet are marked; 'C' is 43, 'B' 42.
    let marked: Vec<&str> = out.lines().filter(|l| l.ends_with("  <")).collect();
    assert_eq!(marked.len(), 1, "{out}");
    assert!(
        marked[0].contains("43") && marked[0].contains("42"),
        "{out}"
    );
    assert!(err.contains("diverged"), "{err}");
}

#[test]
fn a_server_log_with_another_model_or_setup_is_refused_with_exit_2() {
    let (_, server_log) = conversation();
    let (mut h, e) = entries(&server_log);
    let text = String::from_utf8(h.setup.clone()).unwrap();
    h.setup = text.replace("value = 120.0", "value = 121.0").into_bytes();
    let (code, _, err) = exec(&rebuild(&h, &e), false);
    assert_eq!(code, EXIT_UNREADABLE, "{err}");
    assert!(err.contains("fingerprint"), "{err}");
    h.setup = b"[server\nbroken".to_vec();
    let (code, _, err) = exec(&rebuild(&h, &e), false);
    assert_eq!(code, EXIT_UNREADABLE);
    assert!(err.contains("the recorded model"), "{err}");
    h.setup_kind = "someone-else".into();
    let (code, _, err) = exec(&rebuild(&h, &e), false);
    assert_eq!(code, EXIT_UNREADABLE);
    assert!(err.contains("\"someone-else\""), "{err}");
}

#[test]
fn truncated_and_garbage_files_exit_2_with_a_message() {
    let (client_log, _) = conversation();
    for timeline in [false, true] {
        let (code, _, err) = exec(b"this is not a recording", timeline);
        assert_eq!(code, EXIT_UNREADABLE);
        assert!(err.contains("not a FreeTase2 recording"), "{err}");
        let (code, out, err) = exec(&client_log[..client_log.len() / 2], timeline);
        assert_eq!(code, EXIT_UNREADABLE, "{out}");
        assert!(err.contains("ends inside the frame"), "{err}");
        let (code, _, _) = exec(&[], timeline);
        assert_eq!(code, EXIT_UNREADABLE);
    }
    // Every cut of a real log: an answer, never a panic.
    for cut in (0..client_log.len()).step_by(97) {
        let (code, _, _) = exec(&client_log[..cut], false);
        assert_eq!(code, EXIT_UNREADABLE, "cut {cut}");
    }
}

#[test]
fn the_timeline_tells_the_conversation_in_tase2_terms() {
    let (client_log, server_log) = conversation();
    let (code, out, err) = exec(&server_log, true);
    assert_eq!(code, 0, "{err}");
    let has = |service: &str, text: &str| {
        out.lines()
            .any(|l| l.contains(&format!(" {service} ")) && l.contains(text))
    };
    assert!(out.starts_with("recording of a Server"), "{out}");
    assert!(has("open", "transport connection accepted"), "{out}");
    assert!(has("Connect", "COTP CR"), "{out}");
    assert!(
        has("Initiate", "associate request from 1.1.1.999/12"),
        "{out}"
    );
    assert!(has("Initiate", "associate accepted"), "{out}");
    assert!(has("GetNameList", "list of domains"), "{out}");
    assert!(has("GetNameList", "ICC1"), "{out}");
    assert!(has("InfoMessages", "enable information messages"), "{out}");
    assert!(
        has("DefineDataSet", "ICC1/DS_Replay with 6 members"),
        "{out}"
    );
    assert!(
        has("Reserve", "transfer set ICC1/DSTransfer_Set_1 reserved"),
        "{out}"
    );
    assert!(
        has("TransferSet", "start transfer set ICC1/DSTransfer_Set_1"),
        "{out}"
    );
    assert!(has("TransferSet", "started"), "{out}");
    // Changes (RBE: the changed point only) and the integrity check after 10 s (all three).
    assert!(
        has(
            "Report",
            "report of transfer set ICC1/DSTransfer_Set_1 with 1 point"
        ),
        "{out}"
    );
    assert!(
        has(
            "Report",
            "report of transfer set ICC1/DSTransfer_Set_1 with 3 points"
        ),
        "{out}"
    );
    assert!(has("InfoMessage", "\"shift change at 06:00\""), "{out}");
    assert!(has("Select", "select ICC1/Brk1_Cmd"), "{out}");
    assert!(has("Select", "CheckBackID 101"), "{out}");
    assert!(has("Operate", "operate ICC1/Brk1_Cmd = 0"), "{out}");
    assert!(has("Operate", "ICC1/Brk1_Cmd operated"), "{out}");
    assert!(
        has("TransferSet", "stop transfer set ICC1/DSTransfer_Set_1"),
        "{out}"
    );
    assert!(has("Conclude", "conclude request"), "{out}");
    assert!(has("application", "send information message"), "{out}");
    assert!(
        has("application", "operate 0 answered: done") || has("application", "answered: done"),
        "{out}"
    );
    // The server received requests and sent reports.
    assert!(
        out.lines()
            .any(|l| l.contains("← #1") && l.contains("Select")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.contains("→ #1") && l.contains("Report")),
        "{out}"
    );
    // Times run from the start, in seconds with milliseconds.
    assert!(
        out.lines()
            .nth(1)
            .unwrap()
            .trim_start()
            .starts_with("0.000"),
        "{out}"
    );

    // The client's view: the same PDUs, the other way round, and its commands.
    let (code, out, _) = exec(&client_log, true);
    assert_eq!(code, 0);
    assert!(out.starts_with("recording of a Client"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.contains("→ #0") && l.contains("Select")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.contains("← #0") && l.contains("report of")),
        "{out}"
    );
    assert!(out.contains("command SelectOperate"), "{out}");
}
