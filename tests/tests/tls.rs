//! Secure ICCP (TLS, IEC 62351-3 and -4) over real sockets, with test certificates made by
//! `scripts/make-test-certs.sh` (openssl) into a temporary folder: the tokio and the mio
//! driver in both roles, TLS 1.2 and 1.3 with each suite of the profile, mutual
//! authentication, the bilateral table's certificate binding, each refusal (unknown CA,
//! expired, revoked, another certificate than the table's, a pin, plain TCP on the TLS port, a
//! handshake that stalls), each an event of the server (`AdmissionEvent::TransportRefused`) and
//! a line of `tase2 serve`, session resumption, key updates, a CRL reload under both drivers,
//! and a recording of a TLS session that replays with its peer identity.

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tase2_cli::{model, server_from_header, SERVE_SETUP_KIND};
use tase2_core::assoc::AssociationConfig;
use tase2_core::mms::ObjectName;
use tase2_core::record::{self, Event, Reader};
use tase2_core::server::{AdmissionEvent, ServerEvent};
use tase2_core::std_clock;
use tase2_core::tase2::Timestamp;
use tase2_tls::rustls::{HandshakeKind, ProtocolVersion};
use tase2_tls::{ClientTls, ServerTls, TlsSettings, Versions};
use tase2_tokio::tase2::{Tase2Client, Tase2Options};
use tase2_tokio::Server;

/// The example TLS model: its table binds 1.1.1.999/12 to the certificate `iccp-client-1`.
const MODEL: &str = include_str!("../../examples/tls/serve-tls.toml");

/// The test certificates, made once per test process.
fn certs() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| common::make_test_certs("tls"))
}

fn pem(name: &str) -> PathBuf {
    certs().join(name)
}

fn server_settings(cert: &str) -> TlsSettings {
    TlsSettings {
        cert: Some(pem(&format!("{cert}.pem"))),
        key: Some(pem(&format!("{cert}.key"))),
        ca: vec![pem("ca.pem")],
        crls: vec![pem("crl.pem")],
        ..TlsSettings::default()
    }
}

fn client_settings(cert: &str) -> TlsSettings {
    TlsSettings {
        cert: Some(pem(&format!("{cert}.pem"))),
        key: Some(pem(&format!("{cert}.key"))),
        ca: vec![pem("ca.pem")],
        crls: vec![pem("crl.pem")],
        ..TlsSettings::default()
    }
}

fn association() -> AssociationConfig {
    AssociationConfig::with_ap_titles(
        ("1.1.1.999".parse().unwrap(), 12),
        ("1.1.1.998".parse().unwrap(), 12),
    )
}

fn options() -> Tase2Options {
    Tase2Options {
        read_version: false,
        ..Tase2Options::default()
    }
}

/// The model, and the instant its time stamps come from (a recording's start).
fn model_at(text: &str) -> (model::Model, tase2_core::Instant) {
    let start = std_clock::now();
    let m = model::load(
        text,
        "serve-tls.toml",
        Timestamp::from_utc_micros(start.utc_micros()),
    )
    .unwrap();
    (m, start)
}

fn model_of(text: &str) -> model::Model {
    model_at(text).0
}

fn gen1() -> ObjectName {
    ObjectName::domain("ICC1", "Gen1_MW")
}

/// What a server saw: associations and admission drops.
#[derive(Default)]
struct Seen {
    associated: usize,
    refused: usize,
    handshake_timeouts: usize,
    /// The lines `tase2 serve` prints for TLS refusals (the events' Display).
    tls_refused: Vec<String>,
}

/// How many of `lines` contain `what`.
fn count(lines: &[String], what: &str) -> usize {
    lines.iter().filter(|l| l.contains(what)).count()
}

/// What a CRL reload that revokes one live client leaves as refusal events (both drivers): the
/// reload's closing of that connection, and the refused handshake of its retry.
fn assert_reload_refusals(refused: &[String]) {
    assert_eq!(
        count(
            refused,
            "its certificate fails the new TLS configuration: peer certificate refused: revoked"
        ),
        1,
        "{refused:#?}"
    );
    assert_eq!(
        refused.len(),
        2,
        "the reload's and the new handshake's: {refused:#?}"
    );
}

/// The refusals each driver's server must report as events: TLS 1.2 and 1.3 each refuse an
/// expired, a revoked and a foreign-CA certificate; plain TCP on the TLS port once.
fn assert_tls_refusals(lines: &[String]) {
    for (what, n) in [
        ("peer certificate refused: expired", 2),
        ("peer certificate refused: revoked", 2),
        ("peer certificate refused: issued by an unknown CA", 2),
        ("plain TCP (RFC 1006 without TLS) on the TLS port", 1),
    ] {
        assert_eq!(count(lines, what), n, "{what}: {lines:#?}");
    }
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with("TLS refused connection ") && l.contains(" from 127.0.0.1: ")),
        "{lines:#?}"
    );
}

/// A tokio TLS server on the example model; its events counted.
async fn tokio_server(
    tls: ServerTls,
) -> (
    String,
    Arc<Mutex<Seen>>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let m = model_of(MODEL);
    let mut server = Server::with_endpoint("127.0.0.1:0", m.endpoint)
        .await
        .unwrap();
    server.set_tls(tls);
    let seen = Arc::new(Mutex::new(Seen::default()));
    let s = Arc::clone(&seen);
    server.on_event(move |_, _, ev| {
        let mut s = s.lock().unwrap();
        match ev {
            ServerEvent::Associated { .. } => s.associated += 1,
            ServerEvent::Closed { error: Some(e), .. }
                if format!("{e:?}").contains("Rejected") || format!("{e:?}").contains("13") =>
            {
                s.refused += 1
            }
            ServerEvent::Admission(AdmissionEvent::HandshakeTimeout { .. }) => {
                s.handshake_timeouts += 1
            }
            ServerEvent::Admission(a @ AdmissionEvent::TransportRefused { .. }) => {
                s.tls_refused.push(a.to_string())
            }
            _ => {}
        }
    });
    let addr = server.local_addr().unwrap().to_string();
    (addr, seen, tokio::spawn(server.run()))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Associate over TLS and read a point.
async fn read_over_tls(addr: &str, tls: &ClientTls) -> Result<(), String> {
    let c = Tase2Client::connect_tls(addr, tls, association(), options())
        .await
        .map_err(|e| e.to_string())?;
    c.read_point(&gen1()).await.map_err(|e| e.to_string())?;
    c.conclude().await.map_err(|e| e.to_string())
}

/// Each version with each suite of the profile: the handshake agrees on exactly it, and an
/// association reads a point over it.
#[test]
fn tokio_both_versions_with_each_suite_and_mutual_authentication() {
    runtime().block_on(async {
        let cases = [
            ("server", "1.3", "TLS_AES_128_GCM_SHA256"),
            ("server", "1.3", "TLS_AES_256_GCM_SHA384"),
            ("server", "1.2", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
            ("server", "1.2", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
            (
                "server-ec",
                "1.2",
                "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            ),
            (
                "server-ec",
                "1.2",
                "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            ),
        ];
        for (cert, version, suite) in cases {
            let tls = ServerTls::from_settings(&server_settings(cert)).unwrap();
            let (addr, seen, running) = tokio_server(tls).await;
            let mut s = client_settings("client");
            s.versions = Versions::parse(version).unwrap();
            s.suites = vec![suite.to_owned()];
            let client = ClientTls::from_settings(&s).unwrap();
            let stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
            let t = tase2_tokio::tls::handshake(&client, stream, &addr)
                .await
                .unwrap();
            let conn = t.connection();
            let want = if version == "1.3" {
                ProtocolVersion::TLSv1_3
            } else {
                ProtocolVersion::TLSv1_2
            };
            assert_eq!(conn.protocol_version(), Some(want), "{suite}");
            let got = tase2_tls::suite_name(&conn.negotiated_cipher_suite().unwrap());
            assert_eq!(got, suite);
            drop(t);
            read_over_tls(&addr, &client)
                .await
                .unwrap_or_else(|e| panic!("{version} {suite}: {e}"));
            tokio::time::sleep(Duration::from_millis(50)).await;
            assert_eq!(seen.lock().unwrap().associated, 1, "{suite}");
            running.abort();
        }
    });
}

/// `tase2 serve` over TLS prints each refusal as a line, as it prints its other refusals.
#[test]
fn tase2_serve_prints_a_line_for_each_tls_refusal() {
    let bin = common::tase2_bin();
    let addr = format!("127.0.0.1:{}", common::free_port());
    let mut serve = common::serve_tls(&bin, &addr, certs(), std::process::Stdio::piped());
    let out = common::lines(&mut serve.0);
    runtime().block_on(async {
        for cert in ["rogue", "revoked"] {
            let client = ClientTls::from_settings(&client_settings(cert)).unwrap();
            assert!(read_over_tls(&addr, &client).await.is_err(), "{cert}");
        }
        let plain = Tase2Client::connect_with(addr.as_str(), association(), options()).await;
        assert!(plain.is_err(), "plain TCP on the TLS port");
    });
    let mut seen = Vec::new();
    for what in [
        "peer certificate refused: issued by an unknown CA",
        "peer certificate refused: revoked",
        "plain TCP (RFC 1006 without TLS) on the TLS port",
    ] {
        let l = common::wait_line(&out, Duration::from_secs(10), what, &mut seen);
        assert!(
            l.contains("TLS refused connection ") && l.contains(" from 127.0.0.1: "),
            "{l}"
        );
        println!("tase2 serve: {l}");
    }
}

/// Every refusal: each ends without an association, and says why.
#[test]
fn tokio_refuses_unknown_expired_revoked_unbound_pinned_and_plain_clients() {
    runtime().block_on(async {
        let tls = ServerTls::from_settings(&server_settings("server")).unwrap();
        let (addr, seen, running) = tokio_server(tls).await;
        for version in ["1.2", "1.3"] {
            for (cert, why) in [
                ("expired", "expired"),
                ("revoked", "revoked"),
                ("rogue", "UnknownCA"),
                ("client2", "authentication-failure"),
            ] {
                let mut s = client_settings(cert);
                s.versions = Versions::parse(version).unwrap();
                let client = ClientTls::from_settings(&s).unwrap();
                let e = read_over_tls(&addr, &client).await.unwrap_err();
                // TLS 1.2 refuses inside the handshake (the alert names the reason); TLS 1.3
                // after the client's last flight, which the client hears as the end of the
                // transport (and logs the alert).
                if version == "1.2" || why == "authentication-failure" {
                    assert!(e.contains(why), "{version} {cert}: {e}");
                }
            }
        }
        // A client that does not trust the server's CA.
        let mut s = client_settings("client");
        s.ca = vec![pem("other-ca.pem")];
        let e = read_over_tls(&addr, &ClientTls::from_settings(&s).unwrap())
            .await
            .unwrap_err();
        assert!(e.contains("unknown CA"), "{e}");
        // Plain TCP on the TLS port.
        let e = Tase2Client::connect_with(addr.as_str(), association(), options())
            .await
            .err()
            .expect("a plain client must be refused");
        assert!(e.to_string().contains("TPKT"), "{e}");
        // The right client still gets in.
        read_over_tls(
            &addr,
            &ClientTls::from_settings(&client_settings("client")).unwrap(),
        )
        .await
        .unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        {
            let seen = seen.lock().unwrap();
            assert_eq!(seen.associated, 1);
            assert_eq!(
                seen.refused, 2,
                "client2 over 1.2 and 1.3: authentication-failure"
            );
            // Every TLS refusal is a server event (a line of `tase2 serve`); the client that
            // does not trust our CA says so with its alert.
            let lines = &seen.tls_refused;
            assert_eq!(count(lines, "(it does not trust our CA)"), 1, "{lines:#?}");
            let others: Vec<String> = lines
                .iter()
                .filter(|l| !l.contains("(it does not trust our CA)"))
                .cloned()
                .collect();
            assert_tls_refusals(&others);
            assert_eq!(others.len(), 7, "{lines:#?}");
        }
        running.abort();

        // Pinning: the server admits only client2's certificate.
        let client2 = tase2_tls::load_certs(&pem("client2.pem")).unwrap();
        let mut s = server_settings("server");
        s.pinned = vec![tase2_tls::fingerprint(&client2[0])];
        let (addr, _, running) = tokio_server(ServerTls::from_settings(&s).unwrap()).await;
        let mut c = client_settings("client");
        c.versions = Versions::parse("1.2").unwrap();
        let e = read_over_tls(&addr, &ClientTls::from_settings(&c).unwrap())
            .await
            .unwrap_err();
        assert!(e.contains("BadCertificate") || e.contains("refused"), "{e}");
        running.abort();
    });
}

/// A TLS handshake that never finishes is a pending connection: dropped at the handshake
/// deadline, counted as a handshake timeout.
#[test]
fn tokio_a_stalled_tls_handshake_is_dropped_at_the_handshake_deadline() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    runtime().block_on(async {
        let tls = ServerTls::from_settings(&server_settings("server")).unwrap();
        // The default handshake deadline: 5 s.
        let (addr, seen, running) = tokio_server(tls).await;
        let mut silent = tokio::net::TcpStream::connect(&addr).await.unwrap();
        // Half a TLS record header.
        silent.write_all(&[0x16, 0x03]).await.unwrap();
        let t0 = std::time::Instant::now();
        let mut buf = [0u8; 64];
        let n = tokio::time::timeout(Duration::from_secs(10), silent.read(&mut buf))
            .await
            .expect("the server must drop the stalled handshake")
            .unwrap_or(0);
        assert_eq!(n, 0, "closed without a word");
        assert!(t0.elapsed() >= Duration::from_secs(4), "{:?}", t0.elapsed());
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(seen.lock().unwrap().handshake_timeouts, 1);
        running.abort();
    });
}

/// A second connection with the same client configuration resumes the TLS session (1.2 and
/// 1.3), and still carries the client's identity to the bilateral table. The plain MMS client
/// (`tase2_tokio::Client`) over TLS.
#[test]
fn tokio_sessions_resume() {
    runtime().block_on(async {
        let tls = ServerTls::from_settings(&server_settings("server")).unwrap();
        let (addr, seen, running) = tokio_server(tls).await;
        for version in ["1.2", "1.3"] {
            let mut s = client_settings("client");
            s.versions = Versions::parse(version).unwrap();
            let client = ClientTls::from_settings(&s).unwrap();
            let mut kinds = Vec::new();
            for _ in 0..2 {
                let stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
                let mut t = tase2_tokio::tls::handshake(&client, stream, &addr)
                    .await
                    .unwrap();
                // Let the server's TLS 1.3 tickets arrive before the next connection.
                let mut b = [0u8; 1];
                let _ = tokio::time::timeout(
                    Duration::from_millis(100),
                    tokio::io::AsyncReadExt::read(&mut t, &mut b),
                )
                .await;
                kinds.push(t.connection().handshake_kind());
            }
            assert_eq!(
                kinds,
                [Some(HandshakeKind::Full), Some(HandshakeKind::Resumed)],
                "{version}"
            );
            read_over_tls(&addr, &client).await.unwrap();
        }
        // The plain MMS client over TLS too.
        let client = ClientTls::from_settings(&client_settings("client")).unwrap();
        let mms = tase2_tokio::Client::connect_tls(&addr, &client, association())
            .await
            .unwrap();
        mms.read(&gen1()).await.unwrap();
        mms.conclude().await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(seen.lock().unwrap().associated, 3);
        running.abort();
    });
}

/// The key update tests read one process-wide counter: one at a time.
static KEY_UPDATE_TESTS: Mutex<()> = Mutex::new(());

/// Key updates by octet count on both ends: the association goes on across many of them.
#[test]
fn tokio_tls13_keys_are_renewed_by_octet_count() {
    let _one_at_a_time = KEY_UPDATE_TESTS.lock().unwrap_or_else(|e| e.into_inner());
    runtime().block_on(async {
        let mut s = server_settings("server");
        s.key_update.after_bytes = Some(200);
        let (addr, _, running) = tokio_server(ServerTls::from_settings(&s).unwrap()).await;
        let mut c = client_settings("client");
        c.versions = Versions::parse("1.3").unwrap();
        c.key_update.after_bytes = Some(200);
        let client = ClientTls::from_settings(&c).unwrap();
        let before = tase2_tls::key_updates_total();
        let t2 = Tase2Client::connect_tls(&addr, &client, association(), options())
            .await
            .unwrap();
        for _ in 0..30 {
            t2.read_point(&gen1()).await.unwrap();
        }
        t2.conclude().await.unwrap();
        let updates = tase2_tls::key_updates_total() - before;
        assert!(updates >= 10, "{updates} key updates");
        running.abort();
    });
}

/// Key updates by time: the server renews its TLS 1.3 keys every 50 ms, even while it only
/// answers.
#[test]
fn tokio_tls13_keys_are_renewed_by_time() {
    let _one_at_a_time = KEY_UPDATE_TESTS.lock().unwrap_or_else(|e| e.into_inner());
    runtime().block_on(async {
        let mut s = server_settings("server");
        s.key_update.after = Some(Duration::from_millis(50));
        let (addr, _, running) = tokio_server(ServerTls::from_settings(&s).unwrap()).await;
        let mut c = client_settings("client");
        c.versions = Versions::parse("1.3").unwrap();
        let client = ClientTls::from_settings(&c).unwrap();
        let before = tase2_tls::key_updates_total();
        let t2 = Tase2Client::connect_tls(&addr, &client, association(), options())
            .await
            .unwrap();
        for _ in 0..8 {
            tokio::time::sleep(Duration::from_millis(60)).await;
            t2.read_point(&gen1()).await.unwrap();
        }
        t2.conclude().await.unwrap();
        let updates = tase2_tls::key_updates_total() - before;
        assert!(updates >= 4, "{updates} key updates");
        running.abort();
    });
}

/// A new CRL while the server runs (`TlsReload`): the live connection whose certificate it
/// revokes is closed, the other renews its TLS 1.3 keys, and the revoked certificate cannot
/// come back.
/// A copy of the test certificates whose CA database a test changes (`tag` names it), and the
/// server's settings checking its CRL.
fn crl_copy(tag: &str) -> (PathBuf, TlsSettings) {
    let dir = std::env::temp_dir().join(format!("freetase2-tls-crl-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    assert!(std::process::Command::new("cp")
        .arg("-r")
        .arg(certs())
        .arg(&dir)
        .status()
        .unwrap()
        .success());
    let mut settings = server_settings("server");
    settings.crls = vec![dir.join("crl.pem")];
    (dir, settings)
}

/// Revoke `client.pem` in the copy at `dir` and write its new CRL.
fn revoke_client(dir: &Path) {
    let ca = |args: &[&str]| {
        let st = std::process::Command::new("openssl")
            .args(["ca", "-batch", "-config", "openssl.cnf", "-name", "test_ca"])
            .args(["-cert", "ca.pem", "-keyfile", "ca.key"])
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            st.status.success(),
            "{}",
            String::from_utf8_lossy(&st.stderr)
        );
    };
    ca(&["-revoke", "client.pem"]);
    ca(&["-gencrl", "-out", "crl.pem"]);
}

/// The association of the second client (`client2.pem`, bound to 1.1.1.997 in the default model).
fn other_association() -> AssociationConfig {
    AssociationConfig::with_ap_titles(
        ("1.1.1.997".parse().unwrap(), 12),
        ("1.1.1.998".parse().unwrap(), 12),
    )
}

#[test]
fn tokio_a_new_crl_closes_revoked_connections_and_renews_the_others_keys() {
    let _one_at_a_time = KEY_UPDATE_TESTS.lock().unwrap_or_else(|e| e.into_inner());
    let (dir, settings) = crl_copy("tokio");
    runtime().block_on(async {
        let m = model_of(tase2_cli::config::DEFAULT);
        let mut server = Server::with_endpoint("127.0.0.1:0", m.endpoint)
            .await
            .unwrap();
        let reload = server.set_tls(ServerTls::from_settings(&settings).unwrap());
        let refused = Arc::new(Mutex::new(Vec::new()));
        let r = Arc::clone(&refused);
        server.on_event(move |_, _, ev| {
            if let ServerEvent::Admission(a @ AdmissionEvent::TransportRefused { .. }) = ev {
                r.lock().unwrap().push(a.to_string());
            }
        });
        let addr = server.local_addr().unwrap().to_string();
        let running = tokio::spawn(server.run());
        let tls13 = |cert: &str| {
            let mut s = client_settings(cert);
            s.versions = Versions::parse("1.3").unwrap();
            ClientTls::from_settings(&s).unwrap()
        };
        let victim = Tase2Client::connect_tls(&addr, &tls13("client"), association(), options())
            .await
            .unwrap();
        let survivor =
            Tase2Client::connect_tls(&addr, &tls13("client2"), other_association(), options())
                .await
                .unwrap();
        victim.read_point(&gen1()).await.unwrap();
        let icc2 = ObjectName::domain("ICC2", "Gen1_MW");
        survivor.read_point(&icc2).await.unwrap();
        revoke_client(&dir);
        let before = tase2_tls::key_updates_total();
        assert!(reload.reload(ServerTls::from_settings(&settings).unwrap()));
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(victim.read_point(&gen1()).await.is_err(), "revoked: closed");
        survivor.read_point(&icc2).await.unwrap();
        assert!(
            tase2_tls::key_updates_total() > before,
            "the survivor renewed its keys"
        );
        survivor.conclude().await.unwrap();
        let e = read_over_tls(&addr, &tls13("client")).await;
        assert!(e.is_err(), "the revoked certificate stays out");
        tokio::time::sleep(Duration::from_millis(50)).await;
        let refused = refused.lock().unwrap().clone();
        assert_reload_refusals(&refused);
        running.abort();
    });
    let _ = std::fs::remove_dir_all(&dir);
}

/// The same under mio: `MioServer::set_tls` with the new CRL closes the revoked client's
/// connection (with its event) and renews the other's TLS 1.3 keys, and says so in its report.
#[test]
fn mio_a_new_crl_closes_revoked_connections_and_renews_the_others_keys() {
    use tase2_core::tase2::client::Command;
    use tase2_mio::tls::TlsReloadReport;
    use tase2_mio::{MioServer, MioTase2Client};

    let _one_at_a_time = KEY_UPDATE_TESTS.lock().unwrap_or_else(|e| e.into_inner());
    let (dir, settings) = crl_copy("mio");
    let m = model_of(tase2_cli::config::DEFAULT);
    let mut server = MioServer::with_endpoint("127.0.0.1:0".parse().unwrap(), m.endpoint).unwrap();
    let first = server
        .set_tls(ServerTls::from_settings(&settings).unwrap())
        .unwrap();
    assert_eq!(first, TlsReloadReport::default(), "no connection yet");
    let addr = server.local_addr().unwrap();
    let (reload, reloads) = std::sync::mpsc::channel::<ServerTls>();
    let (report_tx, reports) = std::sync::mpsc::channel::<TlsReloadReport>();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stopping = Arc::clone(&stop);
    let serving = std::thread::spawn(move || {
        let mut refused = Vec::new();
        while !stopping.load(std::sync::atomic::Ordering::Relaxed) {
            server.run_once(Some(Duration::from_millis(20))).unwrap();
            if let Ok(tls) = reloads.try_recv() {
                report_tx.send(server.set_tls(tls).unwrap()).unwrap();
            }
            while let Some(e) = server.poll_event() {
                if let ServerEvent::Admission(a @ AdmissionEvent::TransportRefused { .. }) = e {
                    refused.push(a.to_string());
                }
            }
        }
        refused
    });
    let tls13 = |cert: &str| {
        let mut s = client_settings(cert);
        s.versions = Versions::parse("1.3").unwrap();
        ClientTls::from_settings(&s).unwrap()
    };
    let connect = |cert: &str, association: AssociationConfig| {
        MioTase2Client::connect_tls(
            addr,
            "127.0.0.1",
            &tls13(cert),
            association,
            Default::default(),
        )
    };
    let read = |c: &mut MioTase2Client, name: &ObjectName| {
        c.run(Command::ReadPoints {
            names: vec![name.clone()],
        })
        .map(|_| ())
        .map_err(|e| e.to_string())
    };
    let icc2 = ObjectName::domain("ICC2", "Gen1_MW");
    let mut victim = connect("client", association()).unwrap();
    let mut survivor = connect("client2", other_association()).unwrap();
    read(&mut victim, &gen1()).unwrap();
    read(&mut survivor, &icc2).unwrap();

    revoke_client(&dir);
    let before = tase2_tls::key_updates_total();
    reload
        .send(ServerTls::from_settings(&settings).unwrap())
        .unwrap();
    let report = reports.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(
        report,
        TlsReloadReport {
            checked: 2,
            closed: 1,
            renewed: 1
        }
    );
    assert!(read(&mut victim, &gen1()).is_err(), "revoked: closed");
    // The survivor took the server's KeyUpdate and goes on.
    read(&mut survivor, &icc2).unwrap();
    assert!(tase2_tls::key_updates_total() > before);
    survivor.conclude().unwrap();
    // The revoked certificate stays out.
    let again = connect("client", association())
        .map_err(|e| e.to_string())
        .and_then(|mut c| read(&mut c, &gen1()));
    assert!(again.is_err(), "{again:?}");
    std::thread::sleep(Duration::from_millis(100));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let refused = serving.join().unwrap();
    assert_reload_refusals(&refused);
    assert!(
        refused[1].contains("peer certificate refused: revoked"),
        "{refused:#?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A TLS session recorded by the tokio server replays on the pure core: the peer identity is in
/// the log, and the certificate binding decides the same way; a TLS refusal is in it too.
#[test]
fn a_recorded_tls_session_replays_with_its_peer_identity() {
    let rt = runtime();
    let log = Arc::new(Mutex::new(Vec::<u8>::new()));
    rt.block_on(async {
        let (m, start) = model_at(MODEL);
        let mut server = Server::with_endpoint("127.0.0.1:0", m.endpoint)
            .await
            .unwrap();
        server.set_tls(ServerTls::from_settings(&server_settings("server")).unwrap());
        let path = std::env::temp_dir().join(format!("freetase2-tls-{}.rec", std::process::id()));
        server
            .record(
                start,
                SERVE_SETUP_KIND,
                MODEL.as_bytes().to_vec(),
                "tls test",
                tase2_tokio::record_file(&path).unwrap(),
            )
            .unwrap();
        let addr = server.local_addr().unwrap().to_string();
        let running = tokio::spawn(server.run());
        read_over_tls(
            &addr,
            &ClientTls::from_settings(&client_settings("client")).unwrap(),
        )
        .await
        .unwrap();
        let e = read_over_tls(
            &addr,
            &ClientTls::from_settings(&client_settings("client2")).unwrap(),
        )
        .await
        .unwrap_err();
        assert!(e.contains("authentication-failure"), "{e}");
        // A certificate of another CA: refused by TLS, which the log holds too.
        let rogue = ClientTls::from_settings(&client_settings("rogue")).unwrap();
        assert!(read_over_tls(&addr, &rogue).await.is_err());
        tokio::time::sleep(Duration::from_millis(200)).await;
        running.abort();
        let _ = running.await;
        *log.lock().unwrap() = std::fs::read(&path).unwrap();
        let _ = std::fs::remove_file(&path);
    });
    drop(rt);
    let log = log.lock().unwrap();
    let identities: Vec<String> = Reader::new(&log)
        .unwrap()
        .filter_map(|e| match e.unwrap().event {
            Event::Authenticated { identity, .. } => identity.common_name,
            _ => None,
        })
        .collect();
    assert_eq!(identities, ["iccp-client-1", "iccp-client-2"]);
    let refusals: Vec<String> = Reader::new(&log)
        .unwrap()
        .filter_map(|e| match e.unwrap().event {
            Event::TransportRefused { reason, .. } => Some(reason),
            _ => None,
        })
        .collect();
    assert_eq!(
        refusals,
        ["peer certificate refused: issued by an unknown CA"]
    );
    let header = Reader::new(&log).unwrap().header().clone();
    let mut m = server_from_header(&header).unwrap();
    let stats = record::replay(&mut m.endpoint, &log).unwrap();
    assert_eq!(stats.connections, 3, "{stats:?}");
}

/// The mio driver in both roles, and across drivers: mio client to tokio server, tokio client
/// to mio server; each refusal of the mio server.
#[test]
fn mio_both_roles_and_both_versions_and_refusals() {
    use tase2_core::tase2::client::Command;
    use tase2_mio::{MioServer, MioTase2Client};

    let m = model_of(MODEL);
    let mut server = MioServer::with_endpoint("127.0.0.1:0".parse().unwrap(), m.endpoint).unwrap();
    server
        .set_tls(ServerTls::from_settings(&server_settings("server")).unwrap())
        .unwrap();
    let addr = server.local_addr().unwrap();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stopping = Arc::clone(&stop);
    let serving = std::thread::spawn(move || {
        let mut associated = 0;
        let mut tls_refused = Vec::new();
        while !stopping.load(std::sync::atomic::Ordering::Relaxed) {
            server.run_once(Some(Duration::from_millis(20))).unwrap();
            while let Some(e) = server.poll_event() {
                match e {
                    ServerEvent::Associated { .. } => associated += 1,
                    ServerEvent::Admission(a @ AdmissionEvent::TransportRefused { .. }) => {
                        tls_refused.push(a.to_string())
                    }
                    _ => {}
                }
            }
        }
        (associated, tls_refused, server.open_sockets())
    });
    let host = addr.ip().to_string();
    let mio_read = |cert: &str, version: &str| -> Result<(), String> {
        let mut s = client_settings(cert);
        s.versions = Versions::parse(version).unwrap();
        let tls = ClientTls::from_settings(&s).unwrap();
        let mut c =
            MioTase2Client::connect_tls(addr, &host, &tls, association(), Default::default())
                .map_err(|e| e.to_string())?;
        c.run(Command::ReadPoints {
            names: vec![gen1()],
        })
        .map_err(|e| e.to_string())?;
        c.conclude().map_err(|e| e.to_string())
    };
    for version in ["1.2", "1.3"] {
        mio_read("client", version).unwrap_or_else(|e| panic!("mio {version}: {e}"));
        for (cert, why) in [
            ("expired", "expired"),
            ("revoked", "revoked"),
            ("rogue", "UnknownCA"),
            ("client2", "authentication-failure"),
        ] {
            let e = mio_read(cert, version).unwrap_err();
            if version == "1.2" || why == "authentication-failure" {
                assert!(e.contains(why), "mio {version} {cert}: {e}");
            }
        }
    }
    // tokio client to the mio server.
    let rt = runtime();
    let a = addr.to_string();
    rt.block_on(async {
        for version in ["1.2", "1.3"] {
            let mut s = client_settings("client");
            s.versions = Versions::parse(version).unwrap();
            read_over_tls(&a, &ClientTls::from_settings(&s).unwrap())
                .await
                .unwrap_or_else(|e| panic!("tokio client, mio server, {version}: {e}"));
        }
        // Plain TCP on the mio TLS port.
        assert!(
            Tase2Client::connect_with(a.as_str(), association(), options())
                .await
                .is_err()
        );
    });
    // The refused connections' sockets close once their events are out.
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (associated, tls_refused, open) = serving.join().unwrap();
    assert_eq!(associated, 4);
    assert_tls_refusals(&tls_refused);
    assert_eq!(tls_refused.len(), 7, "{tls_refused:#?}");
    assert_eq!(open, 0, "sockets left open");

    // mio client to a tokio server.
    let tokio_addr = rt.block_on(async {
        let tls = ServerTls::from_settings(&server_settings("server")).unwrap();
        let (addr, _, _running) = tokio_server(tls).await;
        addr
    });
    let taddr: std::net::SocketAddr = tokio_addr.parse().unwrap();
    for version in ["1.2", "1.3"] {
        let mut s = client_settings("client");
        s.versions = Versions::parse(version).unwrap();
        let tls = ClientTls::from_settings(&s).unwrap();
        let mut c = MioTase2Client::connect_tls(
            taddr,
            "127.0.0.1",
            &tls,
            association(),
            Default::default(),
        )
        .unwrap_or_else(|e| panic!("mio client, tokio server, {version}: {e}"));
        c.run(Command::ReadPoints {
            names: vec![gen1()],
        })
        .unwrap();
        c.conclude().unwrap();
    }
    drop(rt);
}
