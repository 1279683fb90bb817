//! The one listener: static files, `/targets.json`, the proxy's Origin check and limits.
//!
//! Refusal policy under test: a target off the allow-list, a foreign Origin and a full session
//! table are refused at the upgrade (HTTP 403 / 403 / 503, no WebSocket opens); an oversized
//! message and an idle session close an open WebSocket with a close frame (1009 / 1001).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tase2_web_demo::proxy::{self, AllowList, ProxyConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Generous: nothing here should take more than milliseconds.
const DEADLINE: Duration = Duration::from_secs(10);

/// A TCP server that echoes everything back.
async fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                while let Ok(n) = s.read(&mut buf).await {
                    if n == 0 || s.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    addr
}

async fn start(config: ProxyConfig) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(proxy::serve(listener, Arc::new(config)));
    addr
}

fn config_for(target: SocketAddr) -> ProxyConfig {
    ProxyConfig::new(AllowList::new([target.to_string()]).unwrap())
}

async fn connect(url: &str, origin: Option<&str>) -> Result<Ws, WsError> {
    let mut req = url.into_client_request().unwrap();
    req.headers_mut()
        .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("binary"));
    if let Some(o) = origin {
        req.headers_mut()
            .insert("Origin", HeaderValue::from_str(o).unwrap());
    }
    tokio::time::timeout(DEADLINE, tokio_tungstenite::connect_async(req))
        .await
        .expect("handshake in time")
        .map(|(ws, _)| ws)
}

fn http_status(r: Result<Ws, WsError>) -> u16 {
    match r {
        Err(WsError::Http(resp)) => resp.status().as_u16(),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("handshake should be refused"),
    }
}

/// The next message that is not a ping or pong.
async fn next_message(ws: &mut Ws) -> Option<Result<Message, WsError>> {
    loop {
        let m = tokio::time::timeout(DEADLINE, ws.next())
            .await
            .expect("a message in time");
        if !matches!(m, Some(Ok(Message::Ping(_) | Message::Pong(_)))) {
            return m;
        }
    }
}

async fn echo_round_trip(ws: &mut Ws, bytes: Vec<u8>) {
    ws.send(Message::binary(bytes.clone())).await.unwrap();
    let mut got = Vec::new();
    while got.len() < bytes.len() {
        match next_message(ws).await {
            Some(Ok(Message::Binary(b))) => got.extend_from_slice(&b),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(got, bytes);
}

/// The close frame the proxy sends next: code and reason.
async fn close_frame(ws: &mut Ws) -> (CloseCode, String) {
    match next_message(ws).await {
        Some(Ok(Message::Close(Some(f)))) => (f.code, f.reason.to_string()),
        other => panic!("expected a close frame, got {other:?}"),
    }
}

/// One raw HTTP/1.1 request; the status line's code, the headers (names lower-cased) and the body.
async fn http(
    addr: SocketAddr,
    method: &str,
    target: &str,
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    http_with(addr, method, target, "").await
}

/// [`http`] with `extra` header lines (each ending in CRLF) in the request.
async fn http_with(
    addr: SocketAddr,
    method: &str,
    target: &str,
    extra: &str,
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let req = format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\n{extra}\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(DEADLINE, s.read_to_end(&mut out))
        .await
        .expect("response in time")
        .unwrap();
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete head");
    let head = String::from_utf8(out[..split].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap();
            (n.trim().to_ascii_lowercase(), v.trim().to_string())
        })
        .collect();
    (status, headers, out[split + 4..].to_vec())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn a_target_off_the_allow_list_is_refused_at_the_upgrade() {
    let echo = echo_server().await;
    let other = echo_server().await;
    let proxy = start(config_for(echo)).await;
    let r = connect(&format!("ws://{proxy}/ws?target={other}"), None).await;
    assert_eq!(http_status(r), 403);
    // The allowed one, on the same path, works.
    let mut ws = connect(&format!("ws://{proxy}/ws?target={echo}"), None)
        .await
        .unwrap();
    echo_round_trip(&mut ws, b"ok".to_vec()).await;
}

#[tokio::test]
async fn an_oversized_message_closes_the_session_with_1009() {
    let echo = echo_server().await;
    let mut config = config_for(echo);
    config.max_message_size = 2048;
    let proxy = start(config).await;
    let mut ws = connect(&format!("ws://{proxy}/ws"), None).await.unwrap();
    // Up to the limit is relayed.
    echo_round_trip(&mut ws, vec![7; 2048]).await;
    ws.send(Message::binary(vec![8; 2049])).await.unwrap();
    let (code, reason) = close_frame(&mut ws).await;
    assert_eq!(u16::from(code), 1009, "{reason}");
}

#[tokio::test]
async fn an_idle_session_is_closed_on_both_sides() {
    // A target that tells when its side is closed.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target = listener.local_addr().unwrap();
    let (closed_tx, closed_rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 64];
        let n = s.read(&mut buf).await.unwrap();
        s.write_all(&buf[..n]).await.unwrap();
        let eof = s.read(&mut buf).await.map(|n| n == 0).unwrap_or(true);
        let _ = closed_tx.send(eof);
    });
    let mut config = config_for(target);
    config.idle_timeout = Duration::from_secs(1);
    let proxy = start(config).await;
    let mut ws = connect(&format!("ws://{proxy}/ws"), None).await.unwrap();
    echo_round_trip(&mut ws, b"hello".to_vec()).await;
    // Then nothing: the proxy closes after about a second (the deadline here is 10 s).
    let (code, reason) = close_frame(&mut ws).await;
    assert_eq!((u16::from(code), reason.as_str()), (1001, "idle timeout"));
    let eof = tokio::time::timeout(DEADLINE, closed_rx)
        .await
        .expect("target side closed in time")
        .unwrap();
    assert!(eof, "the target saw its connection closed");
}

#[tokio::test]
async fn a_foreign_origin_is_refused_and_the_own_or_none_accepted() {
    let echo = echo_server().await;
    let mut config = config_for(echo);
    config.allow_origins = vec!["http://viewer.example:3000".into()];
    let proxy = start(config).await;
    let url = format!("ws://{proxy}/ws");
    for bad in [
        "http://evil.example",
        "null",
        &format!("https://{proxy}"),
        &format!("http://{proxy}.evil.example"),
    ] {
        assert_eq!(http_status(connect(&url, Some(bad)).await), 403, "{bad}");
    }
    for good in [
        None,
        Some(format!("http://{proxy}")),
        Some("http://viewer.example:3000".to_string()),
        Some("HTTP://VIEWER.example:3000/".to_string()),
    ] {
        let mut ws = connect(&url, good.as_deref())
            .await
            .unwrap_or_else(|e| panic!("{good:?}: {e}"));
        echo_round_trip(&mut ws, b"o".to_vec()).await;
    }
}

#[tokio::test]
async fn sessions_over_the_cap_get_503_until_one_ends() {
    let echo = echo_server().await;
    let mut config = config_for(echo);
    config.max_sessions = 1;
    let proxy = start(config).await;
    let url = format!("ws://{proxy}/");
    let mut first = connect(&url, None).await.unwrap();
    echo_round_trip(&mut first, b"1".to_vec()).await;
    assert_eq!(http_status(connect(&url, None).await), 503);
    first.close(None).await.unwrap();
    while next_message(&mut first).await.is_some() {}
    // The slot is given back when the proxy's task ends; retry until then.
    let start = tokio::time::Instant::now();
    let mut second = loop {
        match connect(&url, None).await {
            Ok(ws) => break ws,
            Err(WsError::Http(r)) if r.status() == 503 && start.elapsed() < DEADLINE => {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            Err(e) => panic!("{e}"),
        }
    };
    echo_round_trip(&mut second, b"2".to_vec()).await;
}

/// A fresh directory tree: `root/` with the files served, and a secret next to it.
fn static_tree(name: &str) -> PathBuf {
    let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("web-demo-{name}"));
    let _ = std::fs::remove_dir_all(&base);
    let root = base.join("root");
    std::fs::create_dir_all(root.join("pkg")).unwrap();
    std::fs::write(base.join("Cargo.toml"), "secret").unwrap();
    std::fs::write(
        root.join("index.html"),
        "<!doctype html><title>viewer</title>",
    )
    .unwrap();
    std::fs::write(root.join("app.js"), "export {};").unwrap();
    std::fs::write(root.join("app.mjs"), "export {};").unwrap();
    std::fs::write(root.join("style.css"), "body{}").unwrap();
    std::fs::write(root.join("app.js.map"), "{}").unwrap();
    std::fs::write(root.join("model.json"), "{}").unwrap();
    std::fs::write(root.join("logo.svg"), "<svg/>").unwrap();
    std::fs::write(root.join("logo.png"), [0x89, b'P', b'N', b'G']).unwrap();
    std::fs::write(root.join("pkg/tase2_wasm_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(root.join("big.bin"), vec![0u8; 5000]).unwrap();
    std::os::unix::fs::symlink(base.join("Cargo.toml"), root.join("out")).unwrap();
    std::os::unix::fs::symlink(root.join("app.js"), root.join("inside.js")).unwrap();
    root
}

#[tokio::test]
async fn static_files_are_served_with_their_content_types() {
    let echo = echo_server().await;
    let mut config = config_for(echo);
    config.static_dir = Some(static_tree("types"));
    let addr = start(config).await;
    for (path, ct) in [
        ("/", "text/html; charset=utf-8"),
        ("/index.html", "text/html; charset=utf-8"),
        ("/app.js", "text/javascript; charset=utf-8"),
        ("/app.mjs", "text/javascript; charset=utf-8"),
        ("/inside.js?v=1", "text/javascript; charset=utf-8"),
        ("/style.css", "text/css; charset=utf-8"),
        ("/app.js.map", "application/json"),
        ("/model.json", "application/json"),
        ("/logo.svg", "image/svg+xml"),
        ("/logo.png", "image/png"),
        ("/pkg/tase2_wasm_bg.wasm", "application/wasm"),
        ("/pkg/", "text/html; charset=utf-8"),
    ] {
        let (status, headers, body) = http(addr, "GET", path).await;
        if path == "/pkg/" {
            // A directory without index.html is not listed.
            assert_eq!(status, 404, "{path}");
            continue;
        }
        assert_eq!(status, 200, "{path}");
        assert_eq!(header(&headers, "content-type"), Some(ct), "{path}");
        assert_eq!(
            header(&headers, "content-length"),
            Some(body.len().to_string().as_str())
        );
    }
    let (_, _, body) = http(addr, "GET", "/").await;
    assert_eq!(body, b"<!doctype html><title>viewer</title>");

    let (status, headers, body) = http(addr, "HEAD", "/pkg/tase2_wasm_bg.wasm").await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-length"), Some("8"));
    assert!(body.is_empty());

    let (status, headers, _) = http(addr, "POST", "/").await;
    assert_eq!(status, 405);
    assert_eq!(header(&headers, "allow"), Some("GET, HEAD"));
}

#[tokio::test]
async fn a_fresh_gzip_twin_is_sent_to_clients_that_take_gzip() {
    let echo = echo_server().await;
    let mut config = config_for(echo);
    let root = static_tree("gzip");
    let wasm = root.join("pkg/tase2_wasm_bg.wasm");
    // The server never looks inside the twin; marked octets show which file was sent.
    std::fs::write(root.join("pkg/tase2_wasm_bg.wasm.gz"), b"\x1f\x8btwin").unwrap();
    // A twin that is a symlink out of the directory is not used.
    std::fs::write(root.join("../app.js.gz"), b"\x1f\x8bsecret").unwrap();
    std::os::unix::fs::symlink(root.join("../app.js.gz"), root.join("app.js.gz")).unwrap();
    config.static_dir = Some(root.clone());
    let addr = start(config).await;
    let path = "/pkg/tase2_wasm_bg.wasm";

    for ae in [
        "gzip",
        "gzip, deflate, br, zstd",
        "br;q=1.0, GZIP;q=0.5",
        "*",
        "x-gzip",
    ] {
        let (status, headers, body) =
            http_with(addr, "GET", path, &format!("Accept-Encoding: {ae}\r\n")).await;
        assert_eq!(status, 200, "{ae}");
        assert_eq!(body, b"\x1f\x8btwin", "{ae}");
        assert_eq!(header(&headers, "content-encoding"), Some("gzip"), "{ae}");
        assert_eq!(header(&headers, "content-type"), Some("application/wasm"));
        assert_eq!(header(&headers, "vary"), Some("Accept-Encoding"));
        assert_eq!(header(&headers, "content-length"), Some("6"));
    }
    for extra in [
        "",
        "Accept-Encoding: identity\r\n",
        "Accept-Encoding: br, deflate\r\n",
        "Accept-Encoding: gzip;q=0, *\r\n",
        "Accept-Encoding: *;q=0\r\n",
    ] {
        let (status, headers, body) = http_with(addr, "GET", path, extra).await;
        assert_eq!(status, 200, "{extra:?}");
        assert_eq!(body, b"\0asm\x01\0\0\0", "{extra:?}");
        assert_eq!(header(&headers, "content-encoding"), None, "{extra:?}");
        assert_eq!(
            header(&headers, "vary"),
            Some("Accept-Encoding"),
            "{extra:?}"
        );
    }
    let (status, headers, body) = http_with(addr, "HEAD", path, "Accept-Encoding: gzip\r\n").await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-length"), Some("6"));
    assert!(body.is_empty());

    let (_, headers, body) = http_with(addr, "GET", "/app.js", "Accept-Encoding: gzip\r\n").await;
    assert_eq!(body, b"export {};");
    assert_eq!(header(&headers, "content-encoding"), None);

    // A package rebuilt after its twin was made: the twin is stale and the file goes as it is.
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(60);
    std::fs::File::options()
        .write(true)
        .open(&wasm)
        .unwrap()
        .set_modified(later)
        .unwrap();
    let (_, headers, body) = http_with(addr, "GET", path, "Accept-Encoding: gzip\r\n").await;
    assert_eq!(body, b"\0asm\x01\0\0\0");
    assert_eq!(header(&headers, "content-encoding"), None);
    assert_eq!(header(&headers, "vary"), None);
}

#[tokio::test]
async fn paths_out_of_the_directory_and_large_files_are_refused() {
    let echo = echo_server().await;
    let mut config = config_for(echo);
    config.static_dir = Some(static_tree("traversal"));
    config.max_file_size = 4096;
    let addr = start(config).await;
    for path in [
        "/../Cargo.toml",
        "/%2e%2e/Cargo.toml",
        "/%2E%2E%2FCargo.toml",
        "/pkg/../../Cargo.toml",
        "/..%5cCargo.toml",
        "/out",
        "//etc/passwd",
        "/missing.js",
    ] {
        let (status, _, body) = http(addr, "GET", path).await;
        assert_eq!(status, 404, "{path}");
        assert!(!body.starts_with(b"secret"), "{path}");
    }
    let (status, _, _) = http(addr, "GET", "/big.bin").await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn targets_json_lists_the_allow_list_and_ws_wants_an_upgrade() {
    let a = echo_server().await;
    let config = ProxyConfig::new(AllowList::new([a.to_string(), "[::1]:102".into()]).unwrap());
    let addr = start(config).await;
    let (status, headers, body) = http(addr, "GET", "/targets.json").await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-type"), Some("application/json"));
    assert_eq!(
        String::from_utf8(body).unwrap(),
        format!(r#"{{"targets":["{a}","[::1]:102"]}}"#)
    );
    let (status, headers, _) = http(addr, "GET", "/ws").await;
    assert_eq!(status, 426);
    assert_eq!(header(&headers, "upgrade"), Some("websocket"));
    // Without --static there are no files.
    let (status, _, _) = http(addr, "GET", "/").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn an_oversized_request_head_gets_431() {
    let echo = echo_server().await;
    let addr = start(config_for(echo)).await;
    let mut s = TcpStream::connect(addr).await.unwrap();
    let req = format!("GET / HTTP/1.1\r\nX-Pad: {}\r\n\r\n", "a".repeat(9000));
    // The proxy may stop reading before all of it is written.
    let _ = s.write_all(req.as_bytes()).await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(DEADLINE, s.read_to_end(&mut out)).await;
    assert!(
        out.starts_with(b"HTTP/1.1 431 "),
        "{:?}",
        String::from_utf8_lossy(&out)
    );
}
