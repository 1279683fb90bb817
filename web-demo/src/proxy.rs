//! A websockify-compatible WebSocket-to-TCP proxy that only reaches targets on its allow-list.
//!
//! The browser opens `ws://proxy/?target=HOST:PORT` with subprotocol `binary` (the websockify
//! convention noVNC and others use); without `target` the first allow-listed target is used. Each
//! binary WebSocket message is written to the TCP connection as is, and whatever the target sends
//! comes back as binary messages. Message boundaries mean nothing: TPKT framing is the core's job.
//!
//! Refused with an HTTP error before any TCP connection is made: a target not on the allow-list
//! (403), a malformed `target` (400), a client that offers subprotocols but not `binary` (400).

use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{self, Message};

/// The WebSocket subprotocol websockify uses for raw binary frames.
pub const SUBPROTOCOL: &str = "binary";

/// Largest WebSocket message accepted from the browser. An MMS PDU is at most 65,000 octets plus
/// ~100 octets of OSI headers; 1 MiB leaves room for a client that batches, and bounds memory per
/// connection.
pub const MAX_MESSAGE_SIZE: usize = 1 << 20;

/// Read size on the TCP side: one maximal TPKT.
const TCP_READ_SIZE: usize = 64 * 1024;

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

/// Proxy settings.
#[derive(Clone, Debug)]
pub struct ProxyConfig {
    /// Where the proxy may connect.
    pub allow: AllowList,
    /// Time allowed to connect to the target.
    pub connect_timeout: Duration,
    /// Largest WebSocket message accepted.
    pub max_message_size: usize,
}

impl ProxyConfig {
    /// Defaults (10 s connect timeout, [`MAX_MESSAGE_SIZE`]) for `allow`.
    pub fn new(allow: AllowList) -> Self {
        ProxyConfig {
            allow,
            connect_timeout: Duration::from_secs(10),
            max_message_size: MAX_MESSAGE_SIZE,
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
    /// The WebSocket side failed.
    WebSocket(tungstenite::Error),
    /// The browser sent a text message; the `binary` protocol carries binary messages only.
    TextMessage,
}

impl fmt::Display for ProxyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxyError::Handshake(e) => write!(f, "WebSocket handshake: {e}"),
            ProxyError::Connect(e) => write!(f, "connecting to the target: {e}"),
            ProxyError::Io(e) => write!(f, "target connection: {e}"),
            ProxyError::WebSocket(e) => write!(f, "WebSocket: {e}"),
            ProxyError::TextMessage => f.write_str("text message on a binary proxy"),
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

/// Accept connections forever, proxying each on its own task.
pub async fn serve(listener: TcpListener, config: Arc<ProxyConfig>) -> io::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        let config = Arc::clone(&config);
        tokio::spawn(async move {
            // One connection's failure is its own business; the proxy keeps serving.
            let _ = handle(stream, &config).await;
        });
    }
}

/// Proxy one accepted connection until either side closes.
pub async fn handle(stream: TcpStream, config: &ProxyConfig) -> Result<(), ProxyError> {
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
    let ws_config = WebSocketConfig::default().max_message_size(Some(config.max_message_size));
    let mut ws = tokio_tungstenite::accept_hdr_async_with_config(stream, callback, Some(ws_config))
        .await
        .map_err(ProxyError::Handshake)?;
    let Some(target) = admitted else {
        return Ok(());
    };

    let tcp = match tokio::time::timeout(config.connect_timeout, TcpStream::connect(&target)).await
    {
        Ok(Ok(tcp)) => tcp,
        Ok(Err(e)) => return Err(close_with(&mut ws, ProxyError::Connect(e)).await),
        Err(_) => {
            let e = io::Error::new(io::ErrorKind::TimedOut, "connect timed out");
            return Err(close_with(&mut ws, ProxyError::Connect(e)).await);
        }
    };
    let _ = tcp.set_nodelay(true);
    let (mut tcp_rx, mut tcp_tx) = tcp.into_split();
    let (mut ws_tx, mut ws_rx) = ws.split();

    let browser_to_target = async {
        while let Some(msg) = ws_rx.next().await {
            match msg.map_err(ProxyError::WebSocket)? {
                Message::Binary(b) => tcp_tx.write_all(&b).await.map_err(ProxyError::Io)?,
                Message::Text(_) => return Err(ProxyError::TextMessage),
                Message::Close(_) => break,
                // Pings are answered by tungstenite itself.
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
            }
        }
        let _ = tcp_tx.shutdown().await;
        Ok(())
    };
    let target_to_browser = async {
        let mut buf = vec![0u8; TCP_READ_SIZE];
        loop {
            let n = tcp_rx.read(&mut buf).await.map_err(ProxyError::Io)?;
            if n == 0 {
                break;
            }
            ws_tx
                .send(Message::binary(buf[..n].to_vec()))
                .await
                .map_err(ProxyError::WebSocket)?;
        }
        let _ = ws_tx.send(Message::Close(None)).await;
        Ok(())
    };
    tokio::select! {
        r = browser_to_target => r,
        r = target_to_browser => r,
    }
}

/// Tell the browser why with a close frame, then hand the error back.
async fn close_with(
    ws: &mut tokio_tungstenite::WebSocketStream<TcpStream>,
    e: ProxyError,
) -> ProxyError {
    let frame = CloseFrame {
        code: CloseCode::Error,
        reason: "target unreachable".into(),
    };
    let _ = ws.close(Some(frame)).await;
    e
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
