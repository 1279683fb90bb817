//! One listener for the web demo: static files, the allow-list as JSON, and a
//! websockify-compatible WebSocket-to-TCP proxy that only reaches targets on its allow-list.
//!
//! # Routing
//!
//! [`serve`] reads each connection's request head itself (at most [`http::MAX_HEAD`] octets) and
//! routes on it:
//!
//! - A request with `Upgrade: websocket` is the proxy, on any path (`/ws` is the one the page
//!   uses; `/` and `/websockify` keep working for websockify clients). The browser opens
//!   `ws://LISTEN/ws?target=HOST:PORT` with subprotocol `binary` (the websockify convention noVNC
//!   and others use); without `target` the first allow-listed target is used. Each binary
//!   WebSocket message is written to the TCP connection as is, and whatever the target sends comes
//!   back as binary messages. Message boundaries mean nothing: TPKT framing is the core's job.
//! - `GET /targets.json`: the allow-list, `{"targets":["HOST:PORT", ...]}`.
//! - `GET /ws` without the upgrade: 426.
//! - Any other `GET` or `HEAD`: a file under [`ProxyConfig::static_dir`] (`index.html` for a
//!   directory); 404 without a static directory, for a missing file, and for any path that would
//!   leave the directory (`..`, also percent-encoded, or a symlink pointing out); 403 for a file
//!   over [`ProxyConfig::max_file_size`]. Other methods get 405. One request per connection.
//!   A file with a fresh gzip twin beside it (`NAME.gz`, not older than `NAME`) is sent as that
//!   twin with `Content-Encoding: gzip` to a client whose `Accept-Encoding` allows gzip.
//!
//! # Refusals and limits
//!
//! Refused with an HTTP error before any TCP connection is made: a WebSocket upgrade whose
//! `Origin` is neither the listener's own (`http://` + the `Host` header) nor one of
//! [`ProxyConfig::allow_origins`] (403; a request without `Origin`, i.e. not from a browser, is
//! let through), a target not on the allow-list (403), a malformed `target` (400), a client that
//! offers subprotocols but not `binary` (400), more than [`ProxyConfig::max_sessions`] sessions at
//! once (503).
//!
//! Once open, a session is closed (both sides) with a close frame when the browser sends a message
//! or frame over [`ProxyConfig::max_message_size`] (code 1009), sends a text message (1003), when
//! nothing passes either way for [`ProxyConfig::idle_timeout`] (1001, reason `idle timeout`), or
//! when the target cannot be reached (1011, reason `target unreachable`) or closes.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::error::CapacityError;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::WebSocketStream;

use crate::http::{self, FileError, HeadError, Prefixed};

/// The WebSocket subprotocol websockify uses for raw binary frames.
pub const SUBPROTOCOL: &str = "binary";

/// Largest WebSocket message (and frame) accepted from the browser by default. An MMS PDU is at
/// most 65,000 octets plus ~100 octets of OSI headers; 1 MiB leaves room for a client that
/// batches, and bounds memory per connection.
pub const MAX_MESSAGE_SIZE: usize = 1 << 20;

/// Default for [`ProxyConfig::idle_timeout`]: five minutes.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// Default for [`ProxyConfig::max_sessions`].
pub const MAX_SESSIONS: usize = 64;

/// Read size on the TCP side: one maximal TPKT.
const TCP_READ_SIZE: usize = 64 * 1024;

/// How long a connection closed for an oversized message is drained before it is dropped, so
/// that the close frame reaches the browser instead of being lost to a TCP reset.
const LINGER: Duration = Duration::from_secs(2);

/// The `host:port` targets the proxy may connect to, compared as text (no name resolution before
/// the check).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllowList(Vec<String>);

impl AllowList {
    /// An allow-list of `host:port` entries; fails on an entry without a numeric port.
    pub fn new<I, S>(targets: I) -> Result<Self, String>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut list = Vec::new();
        for t in targets {
            let t = t.into();
            if !is_host_port(&t) {
                return Err(format!("not a host:port target: {t:?}"));
            }
            list.push(t);
        }
        Ok(AllowList(list))
    }

    /// The allowed targets, in order.
    pub fn targets(&self) -> &[String] {
        &self.0
    }

    /// The target to use for a `?target=` value (`None`: the first entry), if allowed.
    pub fn pick(&self, requested: Option<&str>) -> Option<&str> {
        match requested {
            None => self.0.first().map(String::as_str),
            Some(r) => self.0.iter().find(|t| *t == r).map(String::as_str),
        }
    }
}

/// `host:port` or `[v6]:port` with a port in 1..=65535.
fn is_host_port(s: &str) -> bool {
    let Some((host, port)) = s.rsplit_once(':') else {
        return false;
    };
    let host_ok = if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        v6.parse::<std::net::Ipv6Addr>().is_ok()
    } else {
        !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
    };
    host_ok && port.parse::<u16>().is_ok_and(|p| p != 0)
}

/// Settings of the listener: the proxy's allow-list and limits, and the static files.
#[derive(Clone, Debug)]
pub struct ProxyConfig {
    /// Where the proxy may connect.
    pub allow: AllowList,
    /// Browser origins allowed to open the proxy besides the listener's own
    /// (`http://` + the request's `Host`), e.g. `http://localhost:3000`; compared
    /// case-insensitively, without a trailing `/`.
    pub allow_origins: Vec<String>,
    /// Time allowed to connect to the target.
    pub connect_timeout: Duration,
    /// Largest WebSocket message, and frame, accepted from the browser.
    pub max_message_size: usize,
    /// A session with no traffic either way for this long is closed.
    pub idle_timeout: Duration,
    /// Most WebSocket sessions at once; further upgrades get 503.
    pub max_sessions: usize,
    /// The directory static files are served from; `None`: no files, only `/targets.json` and
    /// the proxy.
    pub static_dir: Option<PathBuf>,
    /// Largest static file served.
    pub max_file_size: u64,
    /// Time allowed for a client to send its request head.
    pub head_timeout: Duration,
}

impl ProxyConfig {
    /// Defaults for `allow`: no extra origins, 10 s connect timeout, [`MAX_MESSAGE_SIZE`],
    /// [`IDLE_TIMEOUT`], [`MAX_SESSIONS`], no static files ([`http::MAX_FILE_SIZE`] once set), 10 s
    /// for the request head.
    pub fn new(allow: AllowList) -> Self {
        ProxyConfig {
            allow,
            allow_origins: Vec::new(),
            connect_timeout: Duration::from_secs(10),
            max_message_size: MAX_MESSAGE_SIZE,
            idle_timeout: IDLE_TIMEOUT,
            max_sessions: MAX_SESSIONS,
            static_dir: None,
            max_file_size: http::MAX_FILE_SIZE,
            head_timeout: Duration::from_secs(10),
        }
    }
}

/// Why one proxied connection ended badly.
#[derive(Debug)]
pub enum ProxyError {
    /// The WebSocket handshake failed or was refused (including allow-list refusals).
    Handshake(tungstenite::Error),
    /// The target could not be reached in time.
    Connect(io::Error),
    /// The TCP side failed.
    Io(io::Error),
    /// The WebSocket side failed (including an oversized message).
    WebSocket(tungstenite::Error),
    /// The browser sent a text message; the `binary` protocol carries binary messages only.
    TextMessage,
    /// Nothing passed either way for the idle timeout.
    Idle,
}

impl fmt::Display for ProxyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxyError::Handshake(e) => write!(f, "WebSocket handshake: {e}"),
            ProxyError::Connect(e) => write!(f, "connecting to the target: {e}"),
            ProxyError::Io(e) => write!(f, "target connection: {e}"),
            ProxyError::WebSocket(e) => write!(f, "WebSocket: {e}"),
            ProxyError::TextMessage => f.write_str("text message on a binary proxy"),
            ProxyError::Idle => f.write_str("idle timeout"),
        }
    }
}

impl std::error::Error for ProxyError {}

/// Percent-decode a query value; `None` if malformed or not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                if !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
                    return None;
                }
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// The `target` query parameter: `Ok(None)` when absent, `Err` when malformed.
fn requested_target(query: Option<&str>) -> Result<Option<String>, ()> {
    let Some(q) = query else { return Ok(None) };
    for pair in q.split('&') {
        if let Some(v) = pair.strip_prefix("target=") {
            return percent_decode(v).map(Some).ok_or(());
        }
    }
    Ok(None)
}

fn refuse(status: StatusCode, why: &str) -> ErrorResponse {
    let mut r = ErrorResponse::new(Some(why.to_string()));
    *r.status_mut() = status;
    r
}

/// Check a handshake request against the allow-list and subprotocol rules: the target to
/// connect to and whether to answer with the `binary` subprotocol, or the HTTP status to refuse with.
fn admit(
    allow: &AllowList,
    request: &Request,
) -> Result<(String, bool), (StatusCode, &'static str)> {
    let requested = requested_target(request.uri().query())
        .map_err(|()| (StatusCode::BAD_REQUEST, "malformed target"))?;
    let target = allow
        .pick(requested.as_deref())
        .ok_or((StatusCode::FORBIDDEN, "target not allowed"))?
        .to_string();
    let offered: Vec<&str> = request
        .headers()
        .get_all("Sec-WebSocket-Protocol")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let binary = offered.contains(&SUBPROTOCOL);
    if !offered.is_empty() && !binary {
        return Err((
            StatusCode::BAD_REQUEST,
            "only the binary subprotocol is supported",
        ));
    }
    Ok((target, binary))
}

/// Whether a WebSocket upgrade with this `Origin` (`None`: not sent) may open the proxy, given the
/// request's `Host` and the extra allowed origins.
pub fn origin_allowed(origin: Option<&str>, host: Option<&str>, extra: &[String]) -> bool {
    let Some(origin) = origin else {
        // Not a browser (Node, websockify clients, tools): nothing to protect against.
        return true;
    };
    let origin = origin.trim().trim_end_matches('/');
    if extra
        .iter()
        .any(|o| o.trim_end_matches('/').eq_ignore_ascii_case(origin))
    {
        return true;
    }
    host.is_some_and(|h| origin.eq_ignore_ascii_case(&format!("http://{}", h.trim())))
}

/// Accept connections forever, serving each on its own task (see the [module](self) docs).
///
/// Fails at once if [`ProxyConfig::static_dir`] cannot be resolved; a failed `accept` (e.g. out of
/// file descriptors) is retried after a pause.
pub async fn serve(listener: TcpListener, config: Arc<ProxyConfig>) -> io::Result<()> {
    let root = match &config.static_dir {
        Some(dir) => Some(Arc::new(tokio::fs::canonicalize(dir).await.map_err(
            |e| io::Error::new(e.kind(), format!("static directory {}: {e}", dir.display())),
        )?)),
        None => None,
    };
    let sessions = Arc::new(Semaphore::new(config.max_sessions));
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let config = Arc::clone(&config);
        let root = root.clone();
        let sessions = Arc::clone(&sessions);
        tokio::spawn(async move {
            // One connection's failure is its own business; the listener keeps serving.
            let _ = handle(
                stream,
                &config,
                root.as_deref().map(PathBuf::as_path),
                &sessions,
            )
            .await;
        });
    }
}

/// Serve one accepted connection: one HTTP request, or one proxied WebSocket session.
async fn handle(
    mut stream: TcpStream,
    config: &ProxyConfig,
    root: Option<&Path>,
    sessions: &Arc<Semaphore>,
) -> Result<(), ProxyError> {
    let head = match http::read_head(&mut stream, config.head_timeout).await {
        Ok(head) => head,
        Err(HeadError::TooLarge) => {
            let _ =
                http::respond_text(&mut stream, 431, &[], "request head too large", false).await;
            http::drain(&mut stream, Duration::from_secs(1)).await;
            return Ok(());
        }
        Err(HeadError::Malformed) => {
            let _ = http::respond_text(&mut stream, 400, &[], "not an HTTP request", false).await;
            http::drain(&mut stream, Duration::from_secs(1)).await;
            return Ok(());
        }
        Err(HeadError::Timeout) | Err(HeadError::Io(_)) => return Ok(()),
    };
    if !head.is_websocket_upgrade() {
        return serve_http(stream, &head, config, root)
            .await
            .map_err(ProxyError::Io);
    }
    if !origin_allowed(
        head.header("Origin"),
        head.header("Host"),
        &config.allow_origins,
    ) {
        let _ = http::respond_text(&mut stream, 403, &[], "origin not allowed", false).await;
        return Ok(());
    }
    let Ok(_permit) = Arc::clone(sessions).try_acquire_owned() else {
        let _ = http::respond_text(&mut stream, 503, &[], "too many sessions", false).await;
        return Ok(());
    };
    proxy(Prefixed::new(head.bytes, stream), config).await
}

/// Answer a plain HTTP request: `/targets.json`, `/ws` (426), or a static file.
async fn serve_http(
    mut stream: TcpStream,
    head: &http::Head,
    config: &ProxyConfig,
    root: Option<&Path>,
) -> io::Result<()> {
    let head_only = match head.method.as_str() {
        "GET" => false,
        "HEAD" => true,
        _ => {
            let allow = [("Allow", "GET, HEAD")];
            return http::respond_text(&mut stream, 405, &allow, "method not allowed", false).await;
        }
    };
    match head.path() {
        "/targets.json" => {
            let body = http::targets_json(config.allow.targets());
            let headers = [
                ("Content-Type", "application/json"),
                ("Cache-Control", "no-store"),
            ];
            http::respond(&mut stream, 200, &headers, body.as_bytes(), head_only).await
        }
        "/ws" => {
            let upgrade = [("Upgrade", "websocket")];
            let text = "the WebSocket proxy: open ws://HOST:PORT/ws?target=HOST:PORT";
            http::respond_text(&mut stream, 426, &upgrade, text, head_only).await
        }
        path => {
            let Some(root) = root else {
                let text = "not found (no --static directory; the proxy is at /ws)";
                return http::respond_text(&mut stream, 404, &[], text, head_only).await;
            };
            let file = match http::resolve(root, path, config.max_file_size).await {
                Ok(file) => file,
                Err(FileError::NotFound) => {
                    return http::respond_text(&mut stream, 404, &[], "not found", head_only).await
                }
                Err(FileError::TooLarge) => {
                    let text = "file too large to serve";
                    return http::respond_text(&mut stream, 403, &[], text, head_only).await;
                }
            };
            // The package's large files have gzip twins (`cargo xtask wasm-pkg` makes them), so
            // what the browser fetches is the size the README gives, not the raw file.
            let twin = http::gzip_twin(root, &file, config.max_file_size).await;
            let gzip = twin.is_some() && head.accepts_gzip();
            let source = match (&twin, gzip) {
                (Some(t), true) => t,
                _ => &file,
            };
            let mut body = Vec::new();
            let read = tokio::fs::File::open(source)
                .await?
                .take(config.max_file_size + 1)
                .read_to_end(&mut body)
                .await;
            if read.is_err() || body.len() as u64 > config.max_file_size {
                let text = "file cannot be served";
                return http::respond_text(&mut stream, 500, &[], text, head_only).await;
            }
            let mut headers = vec![
                ("Content-Type", http::content_type(&file)),
                ("Cache-Control", "no-cache"),
            ];
            if twin.is_some() {
                // Caches must not hand the gzip body to a client that did not ask for it.
                headers.push(("Vary", "Accept-Encoding"));
            }
            if gzip {
                headers.push(("Content-Encoding", "gzip"));
            }
            http::respond(&mut stream, 200, &headers, &body, head_only).await
        }
    }
}

type Ws = WebSocketStream<Prefixed<TcpStream>>;

/// Complete the WebSocket handshake on a stream whose head has been read (and is replayed), then
/// relay until either side closes or a limit is hit.
async fn proxy(stream: Prefixed<TcpStream>, config: &ProxyConfig) -> Result<(), ProxyError> {
    let mut admitted = None;
    // tungstenite's `Callback` trait fixes the (large) error type.
    #[allow(clippy::result_large_err)]
    let callback = |request: &Request, mut response: Response| {
        let (target, binary) =
            admit(&config.allow, request).map_err(|(status, why)| refuse(status, why))?;
        if binary {
            response.headers_mut().insert(
                "Sec-WebSocket-Protocol",
                HeaderValue::from_static(SUBPROTOCOL),
            );
        }
        admitted = Some(target);
        Ok(response)
    };
    let ws_config = WebSocketConfig::default()
        .max_message_size(Some(config.max_message_size))
        .max_frame_size(Some(config.max_message_size));
    let mut ws = tokio_tungstenite::accept_hdr_async_with_config(stream, callback, Some(ws_config))
        .await
        .map_err(ProxyError::Handshake)?;
    let Some(target) = admitted else {
        return Ok(());
    };

    let tcp = match tokio::time::timeout(config.connect_timeout, TcpStream::connect(&target)).await
    {
        Ok(Ok(tcp)) => tcp,
        Ok(Err(e)) => {
            close(&mut ws, CloseCode::Error, "target unreachable").await;
            return Err(ProxyError::Connect(e));
        }
        Err(_) => {
            close(&mut ws, CloseCode::Error, "target unreachable").await;
            let e = io::Error::new(io::ErrorKind::TimedOut, "connect timed out");
            return Err(ProxyError::Connect(e));
        }
    };
    let _ = tcp.set_nodelay(true);
    relay(ws, tcp, config.idle_timeout).await
}

/// What woke the relay loop.
enum Event {
    Ws(Option<Result<Message, tungstenite::Error>>),
    Tcp(io::Result<usize>),
}

/// Relay bytes both ways; every wait (reads and writes) is bounded by `idle`.
async fn relay(mut ws: Ws, mut tcp: TcpStream, idle: Duration) -> Result<(), ProxyError> {
    let mut buf = vec![0u8; TCP_READ_SIZE];
    loop {
        let event = tokio::time::timeout(idle, async {
            tokio::select! {
                m = ws.next() => Event::Ws(m),
                n = tcp.read(&mut buf) => Event::Tcp(n),
            }
        })
        .await;
        let Ok(event) = event else {
            close(&mut ws, CloseCode::Away, "idle timeout").await;
            return Err(ProxyError::Idle);
        };
        match event {
            Event::Ws(None) => {
                let _ = tcp.shutdown().await;
                return Ok(());
            }
            Event::Ws(Some(Err(e @ tungstenite::Error::Capacity(_)))) => {
                let why = match e {
                    tungstenite::Error::Capacity(CapacityError::MessageTooLong { .. }) => {
                        "message too big"
                    }
                    _ => "too big",
                };
                close(&mut ws, CloseCode::Size, why).await;
                linger(&mut ws).await;
                return Err(ProxyError::WebSocket(e));
            }
            Event::Ws(Some(Err(e))) => return Err(ProxyError::WebSocket(e)),
            Event::Ws(Some(Ok(Message::Binary(b)))) => {
                match tokio::time::timeout(idle, tcp.write_all(&b)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => {
                        close(&mut ws, CloseCode::Error, "target connection failed").await;
                        return Err(ProxyError::Io(e));
                    }
                    Err(_) => {
                        close(&mut ws, CloseCode::Away, "idle timeout").await;
                        return Err(ProxyError::Idle);
                    }
                }
            }
            Event::Ws(Some(Ok(Message::Text(_)))) => {
                close(&mut ws, CloseCode::Unsupported, "binary messages only").await;
                return Err(ProxyError::TextMessage);
            }
            Event::Ws(Some(Ok(Message::Close(_)))) => {
                // tungstenite has queued the close reply; flush it.
                let _ = tokio::time::timeout(idle, ws.close(None)).await;
                let _ = tcp.shutdown().await;
                return Ok(());
            }
            // Pings are answered by tungstenite itself; they count as traffic.
            Event::Ws(Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)))) => {}
            Event::Tcp(Ok(0)) => {
                close(&mut ws, CloseCode::Normal, "target closed").await;
                return Ok(());
            }
            Event::Tcp(Ok(n)) => {
                match tokio::time::timeout(idle, ws.send(Message::binary(buf[..n].to_vec()))).await
                {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => return Err(ProxyError::WebSocket(e)),
                    Err(_) => return Err(ProxyError::Idle),
                }
            }
            Event::Tcp(Err(e)) => {
                close(&mut ws, CloseCode::Error, "target connection failed").await;
                return Err(ProxyError::Io(e));
            }
        }
    }
}

/// Send a close frame (bounded in time; a failure to send changes nothing).
async fn close(ws: &mut Ws, code: CloseCode, reason: &str) {
    let frame = CloseFrame {
        code,
        reason: reason.to_string().into(),
    };
    let _ = tokio::time::timeout(Duration::from_secs(5), ws.close(Some(frame))).await;
}

/// After a close for an oversized message, the rest of that message is still arriving: stop
/// writing and drain the input for a moment, so the peer reads the close frame rather than a
/// reset.
async fn linger(ws: &mut Ws) {
    let stream = ws.get_mut();
    let _ = stream.shutdown().await;
    let mut sink = [0u8; 8192];
    let _ = tokio::time::timeout(LINGER, async {
        while let Ok(n) = stream.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_lists_hold_host_port_entries_only() {
        let a = AllowList::new(["127.0.0.1:102", "scada-1.example:10102", "[::1]:102"]).unwrap();
        assert_eq!(a.pick(None), Some("127.0.0.1:102"));
        assert_eq!(a.pick(Some("[::1]:102")), Some("[::1]:102"));
        assert_eq!(a.pick(Some("127.0.0.1:103")), None);
        assert_eq!(a.pick(Some("127.0.0.1:102 ")), None);
        for bad in [
            "127.0.0.1",
            "host:0",
            "host:70000",
            ":102",
            "a b:1",
            "[zz]:1",
            "h/x:1",
        ] {
            assert!(AllowList::new([bad]).is_err(), "{bad}");
        }
        assert_eq!(
            AllowList::new(Vec::<String>::new()).unwrap().pick(None),
            None
        );
    }

    #[test]
    fn the_target_comes_from_the_query_percent_decoded() {
        assert_eq!(requested_target(None), Ok(None));
        assert_eq!(requested_target(Some("a=1")), Ok(None));
        assert_eq!(
            requested_target(Some("x=y&target=127.0.0.1%3A102")),
            Ok(Some("127.0.0.1:102".into()))
        );
        assert_eq!(requested_target(Some("target=%3")), Err(()));
        assert_eq!(requested_target(Some("target=%zz")), Err(()));
        assert_eq!(requested_target(Some("target=%+1")), Err(()));
        assert_eq!(requested_target(Some("target=%ff")), Err(()), "not UTF-8");
    }
}
