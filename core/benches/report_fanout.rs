//! Report fan-out (the issue's setup): 100,000 points in 20 ICC domains of 5,000, 20 client
//! associations each running an RBE DS transfer set over its domain's 5,000 points, all in memory
//! on a virtual clock. Only the server side is timed: `update_many`, the reports it encodes and
//! `poll_transmit` of every association.
//!
//! - Criterion (`cargo bench -p tase2-core --bench report_fanout`): one simulated second of the
//!   10 % run, and one saturating batch of 10,000 points.
//! - One-shot figures (`cargo bench -p tase2-core --bench report_fanout -- --fanout-report
//!   [--seconds N] [--rounds N] [--no-decode]`), what `cargo xtask bench` runs:
//!   (a) 10 % of the points changing per simulated second (BufferTime 1: the reports leave when the
//!   clock passes the second) for N seconds;
//!   (b) saturating: every point updated, in random batches of 10,000 sent at once (BufferTime 0),
//!   for N rounds over the 100,000 points.
//!   Every report is delivered to its client and decoded there (outside the timing) and the
//!   decoded point values are counted: they must equal the updates. Prints point updates encoded
//!   per second of server CPU and wall time, and CPU per update, against the target.
//!   `--no-decode` drops the reports undecoded (to profile the server side alone).

#![allow(missing_docs)] // criterion_group! generates undocumented items

mod fanout;

use std::hint::black_box;
use std::time::{Duration, Instant as WallInstant};

use criterion::{criterion_group, Criterion, Throughput};
use fanout::{Fanout, Params, Rng};

/// The issue's target: point updates encoded per second per core.
const TARGET_PER_CORE: f64 = 2_000_000.0;

/// Points changing per simulated second in the 10 % run.
const TEN_PERCENT: usize = 10_000;

/// Points per batch in the saturating run.
const BATCH: usize = 10_000;

/// CPU time of the calling thread.
#[cfg(unix)]
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for the call to fill.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Without a thread CPU clock, wall time stands in.
#[cfg(not(unix))]
fn thread_cpu() -> Duration {
    use std::sync::OnceLock;
    static START: OnceLock<WallInstant> = OnceLock::new();
    START.get_or_init(WallInstant::now).elapsed()
}

/// Server-side totals of one run.
#[derive(Default)]
struct Totals {
    updates: usize,
    decoded: usize,
    reports: usize,
    octets: usize,
    wall: Duration,
    cpu: Duration,
    /// Drop the reports instead of decoding them (`--no-decode`, for profiling the server alone).
    no_decode: bool,
}

impl Totals {
    /// One `key value` line of figures.
    fn line(&self, name: &str) -> String {
        let cpu = self.cpu.as_secs_f64();
        let per_cpu_s = self.updates as f64 / cpu;
        format!(
            "fanout {name}: updates {} decoded {} reports {} octets {} server_wall_s {:.4} \
             server_cpu_s {:.4} updates_per_cpu_s {:.0} updates_per_wall_s {:.0} \
             cpu_ns_per_update {:.1} octets_per_update {:.1} target_per_core {:.0} verdict {}",
            self.updates,
            self.decoded,
            self.reports,
            self.octets,
            self.wall.as_secs_f64(),
            cpu,
            per_cpu_s,
            self.updates as f64 / self.wall.as_secs_f64(),
            cpu * 1e9 / self.updates as f64,
            self.octets as f64 / self.updates as f64,
            TARGET_PER_CORE,
            if per_cpu_s >= TARGET_PER_CORE {
                "met"
            } else {
                "NOT-met"
            }
        )
    }
}

/// Time one server step (wall and thread CPU), then deliver and count on the client side.
fn timed_step(
    f: &mut Fanout,
    updates: &[(
        tase2_core::tase2::server::PointId,
        tase2_core::tase2::PointValue,
    )],
    advance: Option<Duration>,
    t: &mut Totals,
) {
    let (w0, c0) = (WallInstant::now(), thread_cpu());
    let octets = f.server_step(updates, advance);
    let (c1, w1) = (thread_cpu(), WallInstant::now());
    t.wall += w1 - w0;
    t.cpu += c1 - c0;
    t.octets += octets;
    t.updates += updates.len();
    if t.no_decode {
        f.discard();
        return;
    }
    let d = f.deliver(false);
    assert_eq!(d.octets, octets);
    t.decoded += d.values;
    t.reports += d.reports;
}

/// (a) 10 % of the points per simulated second.
fn ten_percent(seconds: u32, no_decode: bool) -> Totals {
    let mut f = Fanout::new(Params::ISSUE);
    let mut rng = Rng::new(1);
    let mut order = f.points.clone();
    let mut updates = Vec::with_capacity(TEN_PERCENT);
    // One second to warm up, not counted; its values are checked on the client side.
    rng.pick(&mut order, TEN_PERCENT);
    f.new_values(&order[..TEN_PERCENT], &mut updates);
    f.server_step(&updates, Some(Duration::from_secs(1)));
    let d = f.deliver(true);
    assert_eq!(d.values, TEN_PERCENT);
    f.check_values(&d.entries);

    let mut t = Totals {
        no_decode,
        ..Totals::default()
    };
    for _ in 0..seconds {
        rng.pick(&mut order, TEN_PERCENT);
        f.new_values(&order[..TEN_PERCENT], &mut updates);
        timed_step(&mut f, &updates, Some(Duration::from_secs(1)), &mut t);
    }
    assert!(
        no_decode || t.decoded == t.updates,
        "every update decoded once"
    );
    t
}

/// (b) Every point, in random batches sent at once.
fn saturating(rounds: u32, no_decode: bool) -> Totals {
    let params = Params {
        buffer_time: 0,
        ..Params::ISSUE
    };
    let mut f = Fanout::new(params);
    let mut rng = Rng::new(2);
    let mut order = f.points.clone();
    let mut updates = Vec::with_capacity(BATCH);
    let mut t = Totals {
        no_decode,
        ..Totals::default()
    };
    for round in 0..=rounds {
        let n = order.len();
        rng.pick(&mut order, n);
        for batch in order.chunks(BATCH) {
            f.new_values(batch, &mut updates);
            if round == 0 {
                // Warm-up round, not counted; checked on the client side.
                f.server_step(&updates, None);
                let d = f.deliver(true);
                assert_eq!(d.values, batch.len());
                f.check_values(&d.entries);
            } else {
                timed_step(&mut f, &updates, None, &mut t);
            }
        }
    }
    assert!(
        no_decode || t.decoded == t.updates,
        "every update decoded once"
    );
    t
}

fn report(args: &[String]) {
    let value = |flag: &str, default: u32| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let seconds = value("--seconds", 60);
    let rounds = value("--rounds", 10);
    println!(
        "fanout setup: {} domains x {} points, one RBE transfer set per domain and association, \
         max PDU {} octets; 10 % run: {TEN_PERCENT} points/s for {seconds} simulated s \
         (BufferTime 1); saturating: {rounds} rounds of all points in batches of {BATCH} \
         (BufferTime 0)",
        Params::ISSUE.domains,
        Params::ISSUE.points_per_domain,
        Params::ISSUE.max_pdu_size
    );
    let no_decode = args.iter().any(|a| a == "--no-decode");
    let t = ten_percent(seconds, no_decode);
    println!("{}", t.line("ten_percent"));
    println!(
        "fanout ten_percent_load: server CPU {:.2} ms per simulated second ({:.3} % of one core)",
        t.cpu.as_secs_f64() * 1e3 / f64::from(seconds),
        t.cpu.as_secs_f64() * 100.0 / f64::from(seconds)
    );
    let t = saturating(rounds, no_decode);
    println!("{}", t.line("saturating"));
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("report_fanout");
    g.throughput(Throughput::Elements(TEN_PERCENT as u64));

    let mut f = Fanout::new(Params::ISSUE);
    let mut rng = Rng::new(3);
    let mut order = f.points.clone();
    let mut updates = Vec::with_capacity(TEN_PERCENT);
    g.bench_function("ten_percent_second_20x5000", |b| {
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            for _ in 0..iters {
                f.discard();
                rng.pick(&mut order, TEN_PERCENT);
                f.new_values(&order[..TEN_PERCENT], &mut updates);
                let t0 = WallInstant::now();
                black_box(f.server_step(&updates, Some(Duration::from_secs(1))));
                spent += t0.elapsed();
            }
            spent
        })
    });

    let mut f = Fanout::new(Params {
        buffer_time: 0,
        ..Params::ISSUE
    });
    g.throughput(Throughput::Elements(BATCH as u64));
    g.bench_function("saturating_batch_10000", |b| {
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            for _ in 0..iters {
                f.discard();
                rng.pick(&mut order, BATCH);
                f.new_values(&order[..BATCH], &mut updates);
                let t0 = WallInstant::now();
                black_box(f.server_step(&updates, None));
                spent += t0.elapsed();
            }
            spent
        })
    });
    g.finish();
}

criterion_group!(benches, bench);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--fanout-report") {
        report(&args);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
