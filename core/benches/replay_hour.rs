//! Replay speed: an hour-long recording of a 1,000-point RBE link, both sides, replayed.
//!
//! The recording is made with the simulator (`tase2_core::sim`) on its virtual clock, outside the
//! timing: a TASE.2 server with 1,000 `Data_RealQTimeTag` points in one data set, one client with
//! an RBE DS transfer set over it (BufferTime 0, IntegrityCheck 60 s), and every second a batch
//! of 100 random points (10 %) updated with `update_many`, for 3,600 simulated seconds. The server
//! is recorded with `Endpoint::record` before any connection, the client with `Session::record`
//! right after `Session::new`. Timed: `record::replay` of the server log into a fresh endpoint
//! and `record::replay_session` of the client log, each checking every output octet.
//!
//! - Criterion (`cargo bench -p tase2-core --bench replay_hour`): `replay_hour/server` and
//!   `replay_hour/client`, one hour replayed per iteration.
//! - One-shot figures (`cargo bench -p tase2-core --bench replay_hour -- --replay-report
//!   [--seconds N]`), what `cargo xtask bench` runs: recording sizes and replay times, against the
//!   target of well under a second for the hour.

#![allow(missing_docs)] // criterion_group! generates undocumented items

use std::hint::black_box;
use std::time::{Duration, Instant as WallInstant};

use criterion::{criterion_group, Criterion, Throughput};
use tase2_core::assoc::AssociationConfig;
use tase2_core::mms::ObjectName;
use tase2_core::record::{self, ReplayStats};
use tase2_core::server::{Endpoint, ServerConfig};
use tase2_core::sim::{Sim, SimRng};
use tase2_core::tase2::client::{Command, Outcome, Session, SessionConfig, SessionEvent};
use tase2_core::tase2::server::{PointId, Tase2, Tase2Builder, Tase2Config};
use tase2_core::tase2::{
    BilateralTable, ClientMatch, DsConditions, DsTransferSetValue, Family, Form, PointType,
    PointValue,
};
use tase2_core::Instant;

const POINTS: usize = 1_000;
/// Points changing per simulated second (10 %).
const PER_SECOND: usize = 100;
/// One hour.
const HOUR: u32 = 3_600;
/// The target for replaying the hour, per side.
const TARGET: Duration = Duration::from_secs(1);

fn server() -> Endpoint<Tase2> {
    let mut b = Tase2Builder::new(Tase2Config {
        local_ap_title: Some("1.1.1.998".parse().unwrap()),
        ..Tase2Config::default()
    });
    b.domain("ICC1", 1).unwrap();
    let rqt = PointType::Indication(Family::Real, Form::QTimeTag);
    let mut members: Vec<String> = [
        "Transfer_Set_Name",
        "Transfer_Set_Time_Stamp",
        "DSConditions_Detected",
    ]
    .map(String::from)
    .to_vec();
    for n in 0..POINTS {
        let name = format!("P{n:04}");
        b.point(Some("ICC1"), &name, rqt, PointValue::real(0.0))
            .unwrap();
        members.push(name);
    }
    let members: Vec<&str> = members.iter().map(String::as_str).collect();
    b.data_set(Some("ICC1"), "DS_All", &members).unwrap();
    b.table(BilateralTable::new(
        "BLT_1",
        ClientMatch::ap_title(&[1, 1, 1, 999], 12),
        "ICC1",
    ))
    .unwrap();
    b.build(ServerConfig::default()).unwrap()
}

/// The two logs of a recorded link and what the client received.
struct Recording {
    server: Vec<u8>,
    client: Vec<u8>,
    reports: usize,
    updates: usize,
}

/// Record `seconds` of the link on the simulator's virtual clock.
fn record(seconds: u32) -> Recording {
    let t0 = Instant::virtual_at(Duration::ZERO, 1_700_000_000);
    let mut ep = server();
    ep.record(
        t0,
        "bench",
        Vec::new(),
        "replay_hour bench",
        Box::new(Vec::<u8>::new()),
    )
    .unwrap();
    let mut s: Sim<Tase2> = Sim::new(ep, t0);
    let c = s.connect_with(|now| {
        let assoc = AssociationConfig::with_ap_titles(
            ("1.1.1.999".parse().unwrap(), 12),
            ("1.1.1.998".parse().unwrap(), 12),
        );
        let mut session = Session::new(assoc, SessionConfig::default(), now);
        session
            .record(Box::new(Vec::<u8>::new()), "replay_hour bench")
            .unwrap();
        session
    });
    assert!(s.client(c).session.is_established());
    let r = s.run(
        c,
        Command::ReserveAndStart {
            domain: "ICC1".into(),
            value: DsTransferSetValue {
                data_set: ObjectName::domain("ICC1", "DS_All"),
                integrity_check: 60,
                conditions: DsConditions::INTEGRITY | DsConditions::OBJECT_CHANGE,
                rbe: true,
                ..Default::default()
            },
        },
    );
    assert!(matches!(r, Ok(Outcome::TransferSet(_))), "{r:?}");

    let ids: Vec<PointId> = (0..POINTS)
        .map(|n| {
            let name = ObjectName::domain("ICC1", format!("P{n:04}"));
            s.server.tase2().point_id(&name).unwrap()
        })
        .collect();
    let mut rng = SimRng::new(11);
    let mut order = ids.clone();
    let (mut reports, mut updates) = (0, 0);
    for second in 0..seconds {
        rng.sample(&mut order, PER_SECOND);
        let now = s.now;
        // A new value each time (the second and the draw), so every update is an object change.
        let batch = order[..PER_SECOND].iter().enumerate().map(|(k, p)| {
            let v = second as f32 + k as f32 / 1_000.0 + (rng.below(1_000) as f32) / 1e6;
            (*p, PointValue::real(v))
        });
        updates += s.server.update_many(now, batch.collect::<Vec<_>>());
        s.advance(Duration::from_secs(1));
        // Keep the client's event list short: an hour of reports would otherwise pile up.
        reports += s
            .take_events(c, |e| matches!(e, SessionEvent::Report(_)))
            .len();
    }
    Recording {
        server: s.server.recording().unwrap().to_vec(),
        client: s.client(c).session.recording().unwrap().to_vec(),
        reports,
        updates,
    }
}

fn replay_server(log: &[u8]) -> ReplayStats {
    let mut fresh = server();
    record::replay(&mut fresh, log).expect("the server log replays")
}

fn replay_client(log: &[u8]) -> ReplayStats {
    record::replay_session(log).expect("the client log replays")
}

/// Best of `n` wall times of `f` (the least disturbed by whatever else runs).
fn best_of<T>(n: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut out = None;
    for _ in 0..n {
        let t = WallInstant::now();
        let r = f();
        best = best.min(t.elapsed());
        out = Some(r);
    }
    (best, out.unwrap())
}

fn report(args: &[String]) {
    let seconds = args
        .iter()
        .position(|a| a == "--seconds")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(HOUR);
    let t = WallInstant::now();
    let rec = record(seconds);
    let recorded_in = t.elapsed();
    let (server_t, ss) = best_of(3, || replay_server(&rec.server));
    let (client_t, cs) = best_of(3, || replay_client(&rec.client));
    let run = Duration::from_secs(u64::from(seconds.saturating_sub(1)));
    assert!(ss.span >= run && cs.span >= run, "both logs cover the run");
    let target = TARGET.mul_f64(f64::from(seconds) / f64::from(HOUR));
    let verdict = |d: Duration| if d < target { "met" } else { "NOT-met" };
    println!(
        "replay setup: {POINTS} points in one data set, one RBE transfer set (IntegrityCheck 60 s), \
         {PER_SECOND} points updated per simulated second for {seconds} s: {} updates, {} \
         reports received; recorded on the simulator in {:.3} s",
        rec.updates,
        rec.reports,
        recorded_in.as_secs_f64()
    );
    for (side, log, d, st) in [
        ("server", &rec.server, server_t, &ss),
        ("client", &rec.client, client_t, &cs),
    ] {
        println!(
            "replay {side}: log_octets {} entries {} input_octets {} output_octets {} \
             simulated_s {} replay_s {:.4} speedup {:.0} target_s {:.3} verdict {}",
            log.len(),
            st.entries,
            st.input_bytes,
            st.output_bytes,
            st.span.as_secs(),
            d.as_secs_f64(),
            st.span.as_secs_f64() / d.as_secs_f64(),
            target.as_secs_f64(),
            verdict(d)
        );
    }
}

fn bench(c: &mut Criterion) {
    let rec = record(HOUR);
    let mut g = c.benchmark_group("replay_hour");
    // An iteration is a whole hour: a few samples are plenty and keep the run short.
    g.sample_size(10);
    g.throughput(Throughput::Bytes(rec.server.len() as u64));
    g.bench_function("server", |b| {
        b.iter(|| black_box(replay_server(black_box(&rec.server))))
    });
    g.throughput(Throughput::Bytes(rec.client.len() as u64));
    g.bench_function("client", |b| {
        b.iter(|| black_box(replay_client(black_box(&rec.client))))
    });
    g.finish();
}

criterion_group!(benches, bench);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--replay-report") {
        report(&args);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
