//! The TLS figures of `cargo xtask bench`: `tase2 serve` over TLS against plain TCP on one
//! association (reads/s and server CPU per read with the same load client), and the TLS
//! handshake time (full and resumed, TLS 1.2 and 1.3, mutual authentication).

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use super::{field, load_client, process_cpu, BenchOpts, BenchServer, Pin, BENCH_OURS_ITEM};
use crate::util::*;

/// Handshakes timed per kind.
const HANDSHAKES: usize = 50;

/// The TLS part of the bench; returns the report text.
pub(crate) fn tls_comparison(
    root: &Path,
    target: &Path,
    opts: &BenchOpts,
) -> Result<String, String> {
    let (tase2, load) = super::load_binaries(target)?;
    let certs = root.join("build").join("bench").join("tls-certs");
    run(Command::new("bash")
        .arg(root.join("scripts").join("make-test-certs.sh"))
        .arg(&certs))?;
    let pem = |n: &str| certs.join(n).display().to_string();
    let (server_cpus, client_cpus) = (opts.pin.cpus().map(|c| c.0), opts.pin.cpus().map(|c| c.1));
    let depth = opts.depth.min(10);
    let client_tls = |versions: &str| {
        vec![
            "--tls-ca".to_string(),
            pem("ca.pem"),
            "--tls-cert".into(),
            pem("client.pem"),
            "--tls-key".into(),
            pem("client.key"),
            "--tls-versions".into(),
            versions.into(),
        ]
    };
    let start = |tls: bool| -> Result<BenchServer, String> {
        let port = free_port()?;
        let mut cmd = Pin::command(server_cpus, &tase2);
        cmd.arg("serve")
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"));
        if tls {
            cmd.args([
                "--tls-cert",
                &pem("server.pem"),
                "--tls-key",
                &pem("server.key"),
            ])
            .args(["--tls-ca", &pem("ca.pem"), "--tls-crl", &pem("crl.pem")]);
        }
        BenchServer::start("tase2 serve", &mut cmd, port, "tase2 serving")
    };
    let load_args = |extra: Vec<String>| {
        let mut a = vec![
            "--depth".to_string(),
            depth.to_string(),
            "--seconds".into(),
            opts.seconds.to_string(),
        ];
        a.extend(extra);
        a
    };
    // (what, reads/s, server µs CPU per read), median over the rounds.
    let mut rows: Vec<(&str, Vec<f64>, Vec<f64>)> = vec![
        ("plain TCP", Vec::new(), Vec::new()),
        ("TLS 1.3 TLS_AES_128_GCM_SHA256", Vec::new(), Vec::new()),
        (
            "TLS 1.2 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            Vec::new(),
            Vec::new(),
        ),
    ];
    for round in 1..=opts.rounds {
        println!("\nbench: TLS round {round}/{}", opts.rounds);
        for (i, row) in rows.iter_mut().enumerate() {
            let extra = match i {
                0 => Vec::new(),
                1 => client_tls("1.3"),
                _ => client_tls("1.2"),
            };
            let server = start(i > 0)?;
            let before = process_cpu(server.pid());
            let r = load_client(
                &load,
                client_cpus,
                server.port,
                BENCH_OURS_ITEM,
                &load_args(extra),
            );
            let after = process_cpu(server.pid());
            server.stop();
            let r = r?;
            let rate = field(&r, "reads/s").ok_or("tase2-load printed no reads/s")?;
            let ok = field(&r, "ok").unwrap_or(0.0);
            row.1.push(rate);
            row.2.push(match (before, after) {
                (Some(a), Some(b)) => b.per_op_since(a, ok).map_or(f64::NAN, |c| c.0),
                _ => f64::NAN,
            });
        }
    }
    let server = start(true)?;
    let mut handshakes = Vec::new();
    for v in ["1.3", "1.2"] {
        let mut extra = client_tls(v);
        extra.extend(["--tls-handshakes".to_string(), HANDSHAKES.to_string()]);
        let r = load_client(&load, client_cpus, server.port, BENCH_OURS_ITEM, &extra)?;
        let full = field(&r, "tls_handshake_full_us").unwrap_or(f64::NAN);
        let resumed = field(&r, "tls_handshake_resumed_us").unwrap_or(f64::NAN);
        handshakes.push((v, full, resumed));
    }
    server.stop();

    let mut text = String::new();
    let _ = writeln!(
        text,
        "TLS (tase2 serve, mutual authentication with RSA-2048 certificates and a CRL; tase2-load, \
         1 association x depth {depth}, {} s, median of {} run(s), {}):",
        opts.seconds,
        opts.rounds,
        opts.pin.name()
    );
    let plain = super::median(rows[0].1.clone());
    for (what, rates, cpu) in &rows {
        let rate = super::median(rates.clone());
        let _ = writeln!(
            text,
            "  {what:<46} {rate:>10.0} reads/s ({:>5.1} % of plain)  server CPU {:>6.2} µs/read",
            100.0 * rate / plain,
            super::median(cpu.clone())
        );
    }
    for (v, full, resumed) in handshakes {
        let _ = writeln!(
            text,
            "  TLS {v} handshake (TCP connect to handshake done, median of {HANDSHAKES}): full \
             {:.2} ms, resumed {:.2} ms",
            full / 1000.0,
            resumed / 1000.0
        );
    }
    Ok(text)
}
