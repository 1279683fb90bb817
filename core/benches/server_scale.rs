//! How the TASE.2 server scales (issue 12): memory per idle association, and the cost of one
//! input as the number of running transfer sets grows (it should stay flat: the server visits
//! only the transfer sets that changed or are due).
//!
//! `cargo bench -p tase2-core --bench server_scale -- --warm-up-time 1 --measurement-time 3`
//!
//! The memory figure is printed (`server_scale: ...`) from a counting allocator: live heap octets
//! of the endpoint after N associations finished their handshake, divided by N.

#![allow(missing_docs)] // criterion_group! generates undocumented items

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use tase2_core::assoc::AssociationConfig;
use tase2_core::mms::ObjectName;
use tase2_core::record::{Event, Reader};
use tase2_core::server::{Endpoint, ServerConfig};
use tase2_core::sim::Sim;
use tase2_core::tase2::client::{Command, Outcome, SessionConfig};
use tase2_core::tase2::server::{Tase2, Tase2Builder, Tase2Config};
use tase2_core::tase2::{
    BilateralTable, ClientMatch, DsConditions, DsTransferSetValue, Family, Form, PointType,
    PointValue,
};
use tase2_core::Instant;

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as isize, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new as isize - l.size() as isize, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const RQT: PointType = PointType::Indication(Family::Real, Form::QTimeTag);

fn t0() -> Instant {
    Instant::virtual_at(Duration::ZERO, 1_700_000_000)
}

fn icc1(item: &str) -> ObjectName {
    ObjectName::domain("ICC1", item)
}

fn endpoint(transfer_sets: usize, config: ServerConfig) -> Endpoint<Tase2> {
    let mut b = Tase2Builder::new(Tase2Config {
        local_ap_title: Some("1.1.1.998".parse().unwrap()),
        ..Tase2Config::default()
    });
    b.domain("ICC1", transfer_sets).unwrap();
    for n in 0..10 {
        b.point(Some("ICC1"), &format!("P{n}"), RQT, PointValue::real(0.0))
            .unwrap();
    }
    b.table(BilateralTable::new(
        "BLT_1",
        ClientMatch::ap_title(&[1, 1, 1, 999], 12),
        "ICC1",
    ))
    .unwrap();
    b.build(config).unwrap()
}

fn association() -> AssociationConfig {
    AssociationConfig::with_ap_titles(
        ("1.1.1.999".parse().unwrap(), 12),
        ("1.1.1.998".parse().unwrap(), 12),
    )
}

/// What a client sends to associate: the inputs of a recorded handshake.
fn handshake_inputs() -> Vec<Vec<u8>> {
    let mut ep = endpoint(1, ServerConfig::default());
    ep.record(
        t0(),
        "bench",
        Vec::new(),
        "bench",
        Box::new(Vec::<u8>::new()),
    )
    .unwrap();
    let mut s: Sim<Tase2> = Sim::new(ep, t0());
    let c = s.connect(association(), SessionConfig::default());
    assert!(s.client(c).session.is_established());
    let log = s.server.recording().unwrap().to_vec();
    Reader::new(&log)
        .unwrap()
        .filter_map(|e| match e.unwrap().event {
            Event::Input { bytes, .. } => Some(bytes),
            _ => None,
        })
        .collect()
}

/// Resident set size of this process in octets (Linux `/proc/self/statm`; 0 elsewhere).
fn rss() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<usize>().ok())
        .map_or(0, |pages| pages * 4096)
}

/// Live heap octets the endpoint holds per idle, established association, and the process RSS
/// growth per association.
fn idle_association_octets(n: usize) -> (f64, f64) {
    let inputs = handshake_inputs();
    let mut ep = endpoint(
        1,
        ServerConfig {
            max_associations: n + 1,
            max_pending: n + 1,
            ..ServerConfig::default()
        },
    );
    let mut out = Vec::with_capacity(4096);
    let rss_before = rss();
    let before = LIVE.load(Ordering::Relaxed);
    for _ in 0..n {
        let id = ep.open(t0()).unwrap();
        for i in &inputs {
            ep.handle_input(t0(), id, i);
            out.clear();
            ep.poll_transmit(id, &mut out);
        }
    }
    while ep.poll_event().is_some() {}
    assert_eq!(ep.connection_counts(), (0, n));
    let after = LIVE.load(Ordering::Relaxed);
    let rss_after = rss();
    (
        (after - before) as f64 / n as f64,
        rss_after.saturating_sub(rss_before) as f64 / n as f64,
    )
}

/// A simulator with one association that started `n` transfer sets (interval one hour: no
/// reports during the measurement) and its client index.
fn with_transfer_sets(n: usize) -> (Sim<Tase2>, usize) {
    let mut s: Sim<Tase2> = Sim::new(endpoint(n, ServerConfig::default()), t0());
    let c = s.connect(association(), SessionConfig::default());
    let ds = icc1("DS");
    let mut members: Vec<ObjectName> = ["Transfer_Set_Name", "Transfer_Set_Time_Stamp"]
        .map(icc1)
        .to_vec();
    members.push(icc1("P0"));
    let r = s.run(
        c,
        Command::DefineDataSet {
            name: ds.clone(),
            members,
        },
    );
    assert_eq!(r, Ok(Outcome::Unit));
    for _ in 0..n {
        let r = s.run(
            c,
            Command::ReserveAndStart {
                domain: "ICC1".into(),
                value: DsTransferSetValue {
                    data_set: ds.clone(),
                    interval: 3600,
                    conditions: DsConditions::INTERVAL,
                    ..Default::default()
                },
            },
        );
        assert!(matches!(r, Ok(Outcome::TransferSet(_))), "{r:?}");
    }
    (s, c)
}

fn scale(c: &mut Criterion) {
    let n = 1000;
    let (octets, rss) = idle_association_octets(n);
    println!(
        "server_scale: idle association: {octets:.0} octets of core heap each, process RSS \
         +{rss:.0} octets each ({n} associations)"
    );
    let mut g = c.benchmark_group("one_read_with_transfer_sets");
    for sets in [100usize, 1_000, 10_000] {
        let (mut s, client) = with_transfer_sets(sets);
        let names = vec![icc1("P1")];
        g.bench_with_input(BenchmarkId::from_parameter(sets), &sets, |b, _| {
            b.iter(|| {
                let r = s.run(
                    client,
                    Command::ReadPoints {
                        names: names.clone(),
                    },
                );
                assert!(r.is_ok());
            })
        });
    }
    g.finish();
}

criterion_group!(benches, scale);
criterion_main!(benches);
