//! `tase2-load`, the load client of `cargo xtask bench` (issue 12), against a real `tase2 serve`:
//! the line it prints (which the bench parses), its exit status, and that it checks every answer
//! (a variable that does not exist makes every read an error and the exit status non-zero; a
//! structured one takes the general decoder and still passes). Plain TCP with several
//! associations on its one poll, `--probe`, and TLS with mutual authentication.

#![cfg(unix)]

mod common;

use std::process::Command;

/// Runs `tase2-load` against `addr` with `args` (short windows); returns (exit ok, stdout, stderr).
fn load(addr: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tase2-load"))
        .arg(addr)
        .args(["--seconds", "0.4", "--warmup", "0.1"])
        .args(args)
        .output()
        .expect("tase2-load runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The number after `key` in the line.
fn field(line: &str, key: &str) -> u64 {
    let mut w = line.split_whitespace();
    while let Some(k) = w.next() {
        if k == key {
            return w.next().and_then(|v| v.parse().ok()).unwrap_or(u64::MAX);
        }
    }
    panic!("no {key} in {line:?}")
}

#[test]
fn tase2_load_reads_checks_and_reports_over_plain_tcp() {
    let bin = common::tase2_bin();
    let addr = format!("127.0.0.1:{}", common::free_port());
    let _serve = common::serve(&bin, &addr);

    let (ok, out, err) = load(&addr, &["--probe", "--depth", "5"]);
    assert!(ok, "{out}{err}");
    assert_eq!(
        out.trim(),
        "max_serv_outstanding_calling 10 max_pdu_size 65000"
    );

    for connections in ["1", "3"] {
        let (ok, out, err) = load(&addr, &["--depth", "5", "--connections", connections]);
        assert!(ok, "{out}{err}");
        let line = out.trim();
        println!("{line}");
        assert!(line.starts_with("reads/s "), "{line}");
        assert_eq!(field(line, "depth"), 5);
        assert!(
            field(line, "reads/s") > 0 && field(line, "ok") > 0,
            "{line}"
        );
        assert_eq!(field(line, "errors"), 0, "{line}");
        assert_eq!(
            line.ends_with(" connections 3"),
            connections == "3",
            "{line}"
        );
    }

    // --spin: the same reads without sleeping in the poll; the run still ends on time.
    let t0 = std::time::Instant::now();
    let (ok, out, err) = load(&addr, &["--depth", "5", "--connections", "2", "--spin"]);
    assert!(ok, "{out}{err}");
    assert!(field(&out, "ok") > 0 && field(&out, "errors") == 0, "{out}");
    assert!(t0.elapsed() < std::time::Duration::from_secs(10));

    // A structure (Data_RealQTimeTag): the general decoder's path, still one Success each.
    let (ok, out, err) = load(&addr, &["--item", "Gen1_MW", "--connections", "2"]);
    assert!(ok, "{out}{err}");
    assert!(field(&out, "ok") > 0 && field(&out, "errors") == 0, "{out}");

    // No such variable: every answer is a failure, counted, described, and the run fails.
    let (ok, out, err) = load(&addr, &["--item", "NoSuchPoint", "--connections", "2"]);
    assert!(!ok, "{out}{err}");
    assert_eq!(field(&out, "ok"), 0, "{out}");
    assert!(field(&out, "errors") > 0, "{out}");
    assert!(err.contains("tase2-load: error: read "), "{err}");
}

#[test]
fn tase2_load_runs_its_associations_over_tls() {
    let dir = common::make_test_certs("load");
    let p = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let bin = common::tase2_bin();
    let addr = format!("127.0.0.1:{}", common::free_port());
    let ca = p("ca.pem");
    let _serve = common::serve_tls(&bin, &addr, &dir, std::process::Stdio::null());
    let (ccert, ckey) = (p("client.pem"), p("client.key"));
    for version in ["1.2", "1.3"] {
        let client = [
            "--tls-ca",
            &ca,
            "--tls-cert",
            &ccert,
            "--tls-key",
            &ckey,
            "--tls-versions",
            version,
            "--connections",
            "2",
        ];
        let (ok, out, err) = load(&addr, &client);
        assert!(ok, "{out}{err}");
        let line = out.trim();
        println!("{line}");
        assert!(
            field(line, "ok") > 0 && field(line, "errors") == 0,
            "{line}"
        );
        assert!(
            line.contains(&format!(" connections 2 tls {version} ")),
            "{line}"
        );
        assert!(field(line, "tls_handshake_us") > 0, "{line}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
