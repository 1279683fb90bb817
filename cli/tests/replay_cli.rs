//! The `tase2 replay` binary: exit codes and messages on a small client log, a tampered copy and
//! files that are no recordings.

use std::path::PathBuf;
use std::process::Command;

use tase2_core::assoc::AssociationConfig;
use tase2_core::record::{format, Event, Reader};
use tase2_core::tase2::client::{Command as Cmd, Session, SessionConfig};
use tase2_core::Instant;

/// A client that asks for a connection nobody answers: a connect request, then a close.
fn small_log() -> Vec<u8> {
    let now = Instant::ZERO;
    let mut s = Session::new(AssociationConfig::default(), SessionConfig::default(), now);
    s.record(Box::new(Vec::<u8>::new()), "replay_cli test")
        .unwrap();
    s.command(now, Cmd::Discover);
    s.poll_transmit(&mut Vec::new());
    s.handle_transport_closed(now);
    s.recording().unwrap().to_vec()
}

fn file(name: &str, bytes: &[u8]) -> PathBuf {
    let p = std::env::temp_dir().join(format!("tase2-replay-{}-{name}", std::process::id()));
    std::fs::write(&p, bytes).unwrap();
    p
}

fn tase2(args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tase2"))
        .arg("replay")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn exit_codes_and_messages() {
    let log = small_log();
    let good = file("good.rec", &log);
    let (code, out, err) = tase2(&[good.as_os_str()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("replayed octet for octet"), "{out}");

    let (code, out, _) = tase2(&[good.as_os_str(), "--timeline".as_ref()]);
    assert_eq!(code, 0);
    assert!(out.contains("COTP CR"), "{out}");
    assert!(out.contains("command Discover"), "{out}");
    assert!(out.contains("transport connection closed"), "{out}");

    // The connect request's TPDU size parameter changed: COTP differs.
    let mut r = Reader::new(&log).unwrap();
    let header = r.header().clone();
    let mut entries: Vec<_> = r.by_ref().map(Result::unwrap).collect();
    let out_entry = entries
        .iter_mut()
        .find(|e| matches!(e.event, Event::Output { .. }))
        .unwrap();
    let Event::Output { bytes, .. } = &mut out_entry.event else {
        unreachable!()
    };
    let size = bytes
        .windows(3)
        .position(|w| w[0] == 0xc0 && w[1] == 1)
        .expect("a TPDU size parameter");
    bytes[size + 2] = 0x0a;
    let mut tampered = Vec::new();
    format::write_header(&mut tampered, &header);
    for e in &entries {
        format::write_entry(&mut tampered, e);
    }
    let bad = file("tampered.rec", &tampered);
    let (code, out, err) = tase2(&[bad.as_os_str()]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("DIVERGED"), "{out}");
    assert!(out.contains("COTP field `tpdu_size`"), "{out}");
    assert!(err.contains("diverged"), "{err}");

    let garbage = file("garbage.rec", b"\x00\x01 not a recording at all");
    let (code, out, err) = tase2(&[garbage.as_os_str()]);
    assert_eq!(code, 2, "{out}");
    assert!(err.contains("not a FreeTase2 recording"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    let cut = file("cut.rec", &log[..log.len() - 3]);
    let (code, _, err) = tase2(&[cut.as_os_str()]);
    assert_eq!(code, 2);
    assert!(err.contains("ends inside the frame"), "{err}");

    let missing = std::env::temp_dir().join("tase2-replay-no-such-file.rec");
    let (code, _, err) = tase2(&[missing.as_os_str()]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read"), "{err}");

    for p in [good, bad, garbage, cut] {
        let _ = std::fs::remove_file(p);
    }
}
