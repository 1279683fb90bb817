//! Report latency with 1,000 associations (`cargo xtask bench`, issue 12): the load test's
//! scenario of `tests/load_abuse.rs` (each association an RBE transfer set over 10 points, every
//! report received, decoded and checked) built with optimisations and run for more rounds, under
//! the tokio and the mio driver. Prints one `latency` line per driver:
//!
//! ```text
//! latency tokio associations 1000 reports 20000 p50_ms 12.3 p99_ms 45.6 max_ms 78.9
//! ```
//!
//! `cargo bench -p tase2-tests --bench association_latency [-- ROUNDS] [tokio|mio]` (default 20
//! rounds, both drivers).
//! The server and the clients share the process and the machine's cores, so a figure is the
//! whole loop: the update, the server encoding 1,000 reports, the sockets, and 1,000 client
//! sessions decoding them.

#[allow(dead_code)]
#[path = "../tests/load_abuse.rs"]
mod load_abuse;

use load_abuse::{thousand_associations, Driver};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rounds = args.iter().find_map(|a| a.parse().ok()).unwrap_or(20);
    // `tokio` or `mio` runs that driver alone.
    let only =
        |d: &str| !args.iter().any(|a| a == "tokio" || a == "mio") || args.iter().any(|a| a == d);
    for driver in [Driver::Tokio, Driver::Mio] {
        if !only(&format!("{driver:?}").to_lowercase()) {
            continue;
        }
        let f = thousand_associations(driver, rounds);
        let q = |q: f64| {
            let v = &f.latencies;
            v[((v.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e3
        };
        println!("{}", f.line);
        println!(
            "latency {} associations {} reports {} p50_ms {:.1} p99_ms {:.1} max_ms {:.1}",
            format!("{driver:?}").to_lowercase(),
            f.associations,
            f.latencies.len(),
            q(0.5),
            q(0.99),
            q(1.0)
        );
    }
}
