//! What the real-process tests share: the `tase2` binary of this build, free ports, `tase2 serve`
//! processes killed when dropped, their stdout lines, and the TLS test certificates.

// Each test binary that includes this module uses a part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Stdio};
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

/// The `tase2` binary of this build (built now if needed: it belongs to another package).
pub fn tase2_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
    let release = dir.file_name().is_some_and(|n| n == "release");
    let mut build = Process::new(env!("CARGO"));
    build.args(["build", "-q", "-p", "tase2-cli", "--bin", "tase2"]);
    if release {
        build.arg("--release");
    }
    let status = build.status().expect("cargo runs");
    assert!(status.success(), "building the tase2 binary failed");
    dir.join("tase2")
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn serve(bin: &PathBuf, addr: &str) -> Proc {
    serve_with(bin, addr, &[], Stdio::null())
}

pub fn serve_with(bin: &PathBuf, addr: &str, more: &[&str], stdout: Stdio) -> Proc {
    let child = Process::new(bin)
        .args(["serve", "--listen", addr])
        .args(more)
        .stdout(stdout)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(
            Instant::now() < until,
            "tase2 serve on {addr} did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Proc(child)
}

/// Lines of a child's stdout, as they come.
pub fn lines(child: &mut Child) -> std_mpsc::Receiver<String> {
    let out = child.stdout.take().unwrap();
    let (tx, rx) = std_mpsc::channel();
    std::thread::spawn(move || {
        for l in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    rx
}

pub fn wait_line(
    rx: &std_mpsc::Receiver<String>,
    limit: Duration,
    pat: &str,
    seen: &mut Vec<String>,
) -> String {
    let end = Instant::now() + limit;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(l) => {
                seen.push(l.clone());
                if l.contains(pat) {
                    return l;
                }
            }
            Err(_) => panic!("no line with {pat:?} within {limit:?}: {seen:#?}"),
        }
    }
}

/// The test certificates (`scripts/make-test-certs.sh`, needs openssl), made into a temporary
/// folder named after `tag` and this process.
pub fn make_test_certs(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("freetase2-{tag}-{}", std::process::id()));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/make-test-certs.sh");
    let out = Process::new("bash")
        .arg(script)
        .arg(&dir)
        .output()
        .expect("bash scripts/make-test-certs.sh (needs openssl)");
    assert!(
        out.status.success(),
        "make-test-certs.sh: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

/// `tase2 serve` on `addr` over TLS with the test certificates in `dir` ([`make_test_certs`]):
/// the server's certificate and key, the CA and its CRL (so clients must authenticate).
pub fn serve_tls(bin: &PathBuf, addr: &str, dir: &Path, stdout: Stdio) -> Proc {
    let p = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let (cert, key, ca, crl) = (p("server.pem"), p("server.key"), p("ca.pem"), p("crl.pem"));
    let tls = [
        "--tls-cert",
        &cert,
        "--tls-key",
        &key,
        "--tls-ca",
        &ca,
        "--tls-crl",
        &crl,
    ];
    serve_with(bin, addr, &tls, stdout)
}
