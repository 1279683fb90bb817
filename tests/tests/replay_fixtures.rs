//! The committed recordings of real sessions (`tests/data/recordings/`, made by
//! `cargo xtask fixtures`): libiec61850's client against `tase2 serve --record` (TASE.2 blocks 1,
//! 2, 4 and 5) and our own `tase2 watch --record`. Each server log is rebuilt from its header
//! alone (the model's TOML and the start instant, as `tase2 replay` does) and replayed on the pure
//! core; each client log through `replay_session`. No Python, no sockets: every octet the
//! recorded object sent must come out of today's core again.

use std::path::{Path, PathBuf};

use tase2_cli::server_from_header;
use tase2_core::record::{
    self, format, DivergenceKind, Entry, Event, Reader, ReplayError, ReplayStats, Role,
};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/recordings")
}

/// Every fixture the regeneration script writes (a missing one fails, not skips).
const FIXTURES: &[(&str, Role)] = &[
    ("libiec61850-blocks12.server.rec", Role::Server),
    ("libiec61850-blocks45.server.rec", Role::Server),
    ("tase2-watch.server.rec", Role::Server),
    ("tase2-watch.client.rec", Role::Client),
];

fn read(name: &str) -> Vec<u8> {
    std::fs::read(dir().join(name)).unwrap_or_else(|e| {
        panic!("{name}: {e} (regenerate with `cargo xtask fixtures`)");
    })
}

fn replay(log: &[u8]) -> Result<ReplayStats, ReplayError> {
    let header = Reader::new(log)?.header().clone();
    match header.role {
        Role::Server => {
            let mut m = server_from_header(&header).map_err(ReplayError::Setup)?;
            record::replay(&mut m.endpoint, log)
        }
        Role::Client => record::replay_session(log),
        Role::Failover => record::replay_failover(log),
    }
}

#[test]
fn every_fixture_replays_octet_for_octet() {
    for &(name, role) in FIXTURES {
        let log = read(name);
        assert_eq!(Reader::new(&log).unwrap().header().role, role, "{name}");
        let stats = replay(&log).unwrap_or_else(|e| panic!("{name}: {e}"));
        eprintln!("{name}: {stats:?}");
        assert!(stats.output_bytes > 0, "{name}: {stats:?}");
        assert!(stats.input_bytes > 0, "{name}: {stats:?}");
        assert!(stats.connections >= 1, "{name}: {stats:?}");
    }
}

#[test]
fn the_libiec61850_fixtures_cover_what_they_claim() {
    let entries = |name: &str| -> Vec<Entry> {
        let log = read(name);
        Reader::new(&log)
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap()
    };
    let count = |v: &[Entry], f: &dyn Fn(&Event) -> bool| v.iter().filter(|e| f(&e.event)).count();
    let b12 = entries("libiec61850-blocks12.server.rec");
    // Several associations (one refused by its AP-title), reports from a transfer set.
    assert!(count(&b12, &|e| matches!(e, Event::Open { .. })) >= 2);
    let b45 = entries("libiec61850-blocks45.server.rec");
    // The simulated field device answered operates, and information messages went out.
    assert!(
        count(&b45, &|e| matches!(
            e,
            Event::Server(record::ServerInput::AnswerOperate { .. })
        )) >= 2
    );
    assert!(
        count(&b45, &|e| matches!(
            e,
            Event::Server(record::ServerInput::SendInfoMessage { .. })
        )) >= 1
    );
}

#[test]
fn a_changed_octet_in_a_fixture_is_caught() {
    // The replay must be able to fail: change one octet of the server's tenth output.
    let log = read("libiec61850-blocks12.server.rec");
    let mut r = Reader::new(&log).unwrap();
    let header = r.header().clone();
    let mut entries: Vec<Entry> = r.by_ref().collect::<Result<_, _>>().unwrap();
    let i = entries
        .iter()
        .enumerate()
        .filter(|(_, e)| matches!(&e.event, Event::Output { bytes, .. } if bytes.len() > 20))
        .nth(9)
        .map(|(i, _)| i)
        .unwrap();
    if let Event::Output { bytes, .. } = &mut entries[i].event {
        let last = bytes.len() - 1;
        bytes[last] ^= 0x01;
    }
    let mut bad = Vec::new();
    format::write_header(&mut bad, &header);
    for e in &entries {
        format::write_entry(&mut bad, e);
    }
    match replay(&bad) {
        Err(ReplayError::Diverged(d)) => {
            assert_eq!(d.index, i as u64);
            assert_eq!(d.kind, DivergenceKind::Bytes);
        }
        other => panic!("expected a divergence at entry {i}, got {other:?}"),
    }
}

#[test]
fn a_fixture_with_another_model_is_refused_before_any_input() {
    let log = read("tase2-watch.server.rec");
    let mut r = Reader::new(&log).unwrap();
    let mut header = r.header().clone();
    let entries: Vec<Entry> = r.by_ref().collect::<Result<_, _>>().unwrap();
    // The same TOML, another start: other initial time stamps, another fingerprint.
    header.start = header.start + core::time::Duration::from_secs(1);
    let mut other = Vec::new();
    format::write_header(&mut other, &header);
    for e in &entries {
        format::write_entry(&mut other, e);
    }
    assert!(matches!(
        replay(&other),
        Err(ReplayError::Fingerprint { .. })
    ));
}
