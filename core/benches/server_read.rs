//! The server's own cost of one MMS Read (issue 12: "server CPU per read ≤ 1 µs"): a TASE.2
//! endpoint with an established association takes one Read request of one point (TPKT, COTP,
//! session, presentation, MMS: the octets a client sends) and gives its answer back, with no
//! sockets. What is left of the load comparison's CPU per read beyond this figure is the
//! driver and the kernel (system calls, TCP).
//!
//! `cargo bench -p tase2-core --bench server_read -- --warm-up-time 1 --measurement-time 3`
//! (`read_one_point/1` one request per input; `/10` ten pipelined requests in one input,
//! per request). `valgrind --tool=callgrind` on the bench binary with `--profile-time 1` counts
//! its instructions whatever else the machine does.

#![allow(missing_docs)] // criterion_group! generates undocumented items

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use tase2_core::assoc::AssociationConfig;
use tase2_core::client::Client;
use tase2_core::mms::ObjectName;
use tase2_core::server::{ConnectionId, Endpoint, ServerConfig};
use tase2_core::tase2::server::{Tase2, Tase2Builder, Tase2Config};
use tase2_core::tase2::{BilateralTable, ClientMatch, Family, Form, PointType, PointValue};
use tase2_core::Instant;

const RQT: PointType = PointType::Indication(Family::Real, Form::QTimeTag);

fn t0() -> Instant {
    Instant::virtual_at(Duration::ZERO, 1_700_000_000)
}

fn endpoint() -> Endpoint<Tase2> {
    let mut b = Tase2Builder::new(Tase2Config {
        local_ap_title: Some("1.1.1.998".parse().unwrap()),
        ..Tase2Config::default()
    });
    b.domain("ICC1", 4).unwrap();
    for n in 0..100 {
        b.point(
            Some("ICC1"),
            &format!("P{n}"),
            RQT,
            PointValue::real(n as f32),
        )
        .unwrap();
    }
    b.table(BilateralTable::new(
        "BLT_1",
        ClientMatch::ap_title(&[1, 1, 1, 999], 12),
        "ICC1",
    ))
    .unwrap();
    b.build(ServerConfig::default()).unwrap()
}

/// Move octets both ways until neither side has more.
fn pump(client: &mut Client, ep: &mut Endpoint<Tase2>, id: ConnectionId, now: Instant) {
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let a = client.poll_transmit(&mut buf);
        if a > 0 {
            ep.handle_input(now, id, &buf);
        }
        buf.clear();
        let b = ep.poll_transmit(id, &mut buf);
        if b > 0 {
            client.handle_input(now, &buf);
        }
        if a == 0 && b == 0 {
            return;
        }
    }
}

/// An endpoint with one established association, and the octets of `depth` Read requests of
/// `ICC1/P7` as the client sent them.
fn established(depth: usize) -> (Endpoint<Tase2>, ConnectionId, Vec<u8>) {
    let now = t0();
    let mut ep = endpoint();
    let id = ep.open(now).unwrap();
    let mut client = Client::new(
        AssociationConfig::with_ap_titles(
            ("1.1.1.999".parse().unwrap(), 12),
            ("1.1.1.998".parse().unwrap(), 12),
        ),
        now,
    );
    pump(&mut client, &mut ep, id, now);
    assert!(client.is_established());
    while client.poll_event().is_some() {}
    while ep.poll_event().is_some() {}
    let name = [ObjectName::domain("ICC1", "P7")];
    for _ in 0..depth {
        client.read(now, &name).unwrap();
    }
    let mut requests = Vec::new();
    client.poll_transmit(&mut requests);
    (ep, id, requests)
}

fn read(c: &mut Criterion) {
    let mut g = c.benchmark_group("read_one_point");
    for depth in [1usize, 10] {
        let (mut ep, id, requests) = established(depth);
        let now = t0();
        let mut out = Vec::with_capacity(4096);
        // Sanity: every request is answered, and the answers are what a client accepts.
        ep.handle_input(now, id, &requests);
        ep.poll_transmit(id, &mut out);
        assert!(!out.is_empty());
        out.clear();
        g.throughput(Throughput::Elements(depth as u64));
        g.bench_with_input(BenchmarkId::from_parameter(depth), &depth, |b, _| {
            b.iter(|| {
                ep.handle_input(now, id, &requests);
                ep.poll_transmit(id, &mut out);
                out.clear();
                while ep.poll_event().is_some() {}
            })
        });
    }
    g.finish();
}

criterion_group!(benches, read);
criterion_main!(benches);
