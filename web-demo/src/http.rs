//! The plain-HTTP half of the listener: reading a bounded request head, and serving static files
//! from one directory without letting a request escape it.
//!
//! Every response carries `Connection: close`: one request per connection keeps the server simple
//! and bounded (a page load is a handful of files).

use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

/// Largest request head (request line and headers) accepted; a longer one gets 431.
pub const MAX_HEAD: usize = 8 * 1024;

/// Most headers accepted in one request head.
const MAX_HEADERS: usize = 64;

/// Largest static file served by default; a larger one is refused with 403.
pub const MAX_FILE_SIZE: u64 = 16 << 20;

/// A parsed request head, with the bytes read so far (which may run past the head).
#[derive(Debug)]
pub struct Head {
    /// The method, e.g. `GET`.
    pub method: String,
    /// The request target as sent: path and optional query.
    pub target: String,
    /// Header names (as sent) and values.
    pub headers: Vec<(String, Vec<u8>)>,
    /// Everything read from the connection, head first.
    pub bytes: Vec<u8>,
}

impl Head {
    /// The first value of header `name` (case-insensitive) as text, if present and UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
    }

    /// Whether any value of header `name` holds `token` in its comma-separated list.
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .filter_map(|(_, v)| std::str::from_utf8(v).ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }

    /// Whether the client takes a gzip-coded body: `Accept-Encoding` lists `gzip` (or `*`)
    /// without `q=0`. A `gzip;q=0` refuses it even where `*` would allow it (RFC 9110, 12.5.3).
    pub fn accepts_gzip(&self) -> bool {
        let mut star = false;
        let mut gzip = None;
        let codings = self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("Accept-Encoding"))
            .filter_map(|(_, v)| std::str::from_utf8(v).ok())
            .flat_map(|v| v.split(','));
        for coding in codings {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| {
                let p = p.trim();
                p.len() > 2
                    && p[..2].eq_ignore_ascii_case("q=")
                    && p[2..].trim().parse::<f32>().is_ok_and(|q| q == 0.0)
            });
            if name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip") {
                gzip = Some(!refused);
            } else if name == "*" {
                star = !refused;
            }
        }
        gzip.unwrap_or(star)
    }

    /// Whether this is a WebSocket upgrade request (`Upgrade: websocket`).
    pub fn is_websocket_upgrade(&self) -> bool {
        self.has_token("Upgrade", "websocket")
    }

    /// The path part of the target (before any `?`).
    pub fn path(&self) -> &str {
        self.target.split(['?', '#']).next().unwrap_or("")
    }
}

/// Why a request head could not be read; each maps to a status to answer with, if any.
#[derive(Debug)]
pub enum HeadError {
    /// The connection failed or closed before a complete head.
    Io(io::Error),
    /// No complete head within the time allowed.
    Timeout,
    /// More than [`MAX_HEAD`] octets (or too many headers): 431.
    TooLarge,
    /// Not HTTP/1.x: 400.
    Malformed,
}

/// Read one request head, at most [`MAX_HEAD`] octets, within `timeout`.
pub async fn read_head<S: AsyncRead + Unpin>(
    stream: &mut S,
    timeout: Duration,
) -> Result<Head, HeadError> {
    tokio::time::timeout(timeout, read_head_inner(stream))
        .await
        .map_err(|_| HeadError::Timeout)?
}

async fn read_head_inner<S: AsyncRead + Unpin>(stream: &mut S) -> Result<Head, HeadError> {
    let mut buf = vec![0u8; MAX_HEAD];
    let mut len = 0;
    loop {
        if len == buf.len() {
            return Err(HeadError::TooLarge);
        }
        let n = stream.read(&mut buf[len..]).await.map_err(HeadError::Io)?;
        if n == 0 {
            return Err(HeadError::Io(io::ErrorKind::UnexpectedEof.into()));
        }
        len += n;
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(&buf[..len]) {
            Ok(httparse::Status::Partial) => continue,
            Ok(httparse::Status::Complete(_)) => {
                let head = Head {
                    method: req.method.unwrap_or_default().to_string(),
                    target: req.path.unwrap_or_default().to_string(),
                    headers: req
                        .headers
                        .iter()
                        .map(|h| (h.name.to_string(), h.value.to_vec()))
                        .collect(),
                    bytes: buf[..len].to_vec(),
                };
                return Ok(head);
            }
            Err(httparse::Error::TooManyHeaders) => return Err(HeadError::TooLarge),
            Err(_) => return Err(HeadError::Malformed),
        }
    }
}

/// A stream that first yields bytes already read from it, then reads on; writes go straight
/// through. It lets the WebSocket handshake re-read a request head the router has looked at.
#[derive(Debug)]
pub struct Prefixed<S> {
    prefix: Vec<u8>,
    pos: usize,
    inner: S,
}

impl<S> Prefixed<S> {
    /// `inner`, with `prefix` to be read before it.
    pub fn new(prefix: Vec<u8>, inner: S) -> Self {
        Prefixed {
            prefix,
            pos: 0,
            inner,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Prefixed<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.pos < this.prefix.len() {
            let n = buf.remaining().min(this.prefix.len() - this.pos);
            buf.put_slice(&this.prefix[this.pos..this.pos + n]);
            this.pos += n;
            if this.pos == this.prefix.len() {
                this.prefix = Vec::new();
                this.pos = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Prefixed<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The `Content-Type` for a file name, by extension.
pub fn content_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("json" | "map") => "application/json",
        Some("png") => "image/png",
        Some("svg") => "image/svg+xml",
        Some("ico") => "image/x-icon",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Percent-decode a URL path (no `+` rule); `None` if malformed or not UTF-8.
fn decode_path(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            if !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
                return None;
            }
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The relative file path a URL path names under the static root, or `None` for anything that
/// could leave it: a `..` segment (also percent-encoded), a backslash, a NUL, a malformed escape.
/// Empty and `.` segments are dropped, so `//etc/passwd` is `etc/passwd` under the root.
pub fn relative_path(url_path: &str) -> Option<PathBuf> {
    if !url_path.starts_with('/') {
        return None;
    }
    let decoded = decode_path(url_path)?;
    if decoded.contains(['\\', '\0']) {
        return None;
    }
    let mut rel = PathBuf::new();
    for seg in decoded.split('/') {
        match seg {
            "" | "." => {}
            ".." => return None,
            s => rel.push(s),
        }
    }
    Some(rel)
}

/// Why a static file is not served.
#[derive(Debug, PartialEq, Eq)]
pub enum FileError {
    /// Not there, or outside the root (traversal, symlink out): 404.
    NotFound,
    /// Larger than the limit: 403.
    TooLarge,
}

/// The canonical path of the file `url_path` names under `root` (itself canonical): a directory
/// means its `index.html`; a path that resolves (through symlinks) outside `root` is not found.
pub async fn resolve(root: &Path, url_path: &str, max_size: u64) -> Result<PathBuf, FileError> {
    let rel = relative_path(url_path).ok_or(FileError::NotFound)?;
    let mut path = tokio::fs::canonicalize(root.join(rel))
        .await
        .map_err(|_| FileError::NotFound)?;
    let mut meta = tokio::fs::metadata(&path)
        .await
        .map_err(|_| FileError::NotFound)?;
    if meta.is_dir() {
        path = tokio::fs::canonicalize(path.join("index.html"))
            .await
            .map_err(|_| FileError::NotFound)?;
        meta = tokio::fs::metadata(&path)
            .await
            .map_err(|_| FileError::NotFound)?;
    }
    if !path.starts_with(root) || !meta.is_file() {
        return Err(FileError::NotFound);
    }
    if meta.len() > max_size {
        return Err(FileError::TooLarge);
    }
    Ok(path)
}

/// The gzip-coded twin of `file` (`file` with `.gz` appended, made when the page was built),
/// if it is a regular file inside `root`, no larger than `max_size`, and not older than `file`:
/// a package rebuilt without its twin is served as it is, never from a stale twin.
pub async fn gzip_twin(root: &Path, file: &Path, max_size: u64) -> Option<PathBuf> {
    let mut name = file.as_os_str().to_owned();
    name.push(".gz");
    let twin = tokio::fs::canonicalize(PathBuf::from(name)).await.ok()?;
    let meta = tokio::fs::metadata(&twin).await.ok()?;
    if !twin.starts_with(root) || !meta.is_file() || meta.len() > max_size {
        return None;
    }
    let plain = tokio::fs::metadata(file).await.ok()?.modified().ok()?;
    (meta.modified().ok()? >= plain).then_some(twin)
}

/// Write a complete response and shut the connection's write side. With `head_only` (a `HEAD`
/// request) the body is left out but `Content-Length` still tells its size.
pub async fn respond<S: AsyncWrite + Unpin>(
    stream: &mut S,
    status: u16,
    headers: &[(&str, &str)],
    body: &[u8],
    head_only: bool,
) -> io::Result<()> {
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\nX-Content-Type-Options: nosniff\r\n\r\n",
        body.len()
    ));
    let mut bytes = out.into_bytes();
    if !head_only {
        bytes.extend_from_slice(body);
    }
    stream.write_all(&bytes).await?;
    stream.shutdown().await
}

/// After answering a request that was not read to its end (a head too large, garbage), read and
/// drop what the client still sends, for at most `limit` or 64 KiB, so that closing the socket
/// with unread input does not reset the connection before the client has read the answer.
pub async fn drain<S: AsyncRead + Unpin>(stream: &mut S, limit: Duration) {
    let mut sink = [0u8; 4096];
    let mut left = 64 * 1024usize;
    let _ = tokio::time::timeout(limit, async {
        while left > 0 {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
    })
    .await;
}

/// A short text response: `status` with `text` as a plain-text body.
pub async fn respond_text<S: AsyncWrite + Unpin>(
    stream: &mut S,
    status: u16,
    extra: &[(&str, &str)],
    text: &str,
    head_only: bool,
) -> io::Result<()> {
    let mut headers = vec![("Content-Type", "text/plain; charset=utf-8")];
    headers.extend_from_slice(extra);
    respond(
        stream,
        status,
        &headers,
        format!("{text}\n").as_bytes(),
        head_only,
    )
    .await
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// `{"targets":[...]}` for an allow-list (entries are `host:port`, escaped anyway).
pub fn targets_json(targets: &[String]) -> String {
    let mut s = String::from(r#"{"targets":["#);
    for (i, t) in targets.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push('"');
        for c in t.chars() {
            match c {
                '"' => s.push_str("\\\""),
                '\\' => s.push_str("\\\\"),
                c if (c as u32) < 0x20 => s.push_str(&format!("\\u{:04x}", c as u32)),
                c => s.push(c),
            }
        }
        s.push('"');
    }
    s.push_str("]}");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_paths_map_inside_the_root_or_nowhere() {
        assert_eq!(relative_path("/"), Some(PathBuf::new()));
        assert_eq!(
            relative_path("/pkg/tase2_wasm.js"),
            Some(PathBuf::from("pkg/tase2_wasm.js"))
        );
        assert_eq!(
            relative_path("//etc/./passwd"),
            Some(PathBuf::from("etc/passwd"))
        );
        assert_eq!(relative_path("/a%20b"), Some(PathBuf::from("a b")));
        for bad in [
            "/../Cargo.toml",
            "/%2e%2e/Cargo.toml",
            "/%2E%2E/x",
            "/a/../../x",
            "/a%2f..%2fb",
            "/a\\..\\b",
            "/%00",
            "/%zz",
            "relative",
            "*",
        ] {
            assert_eq!(relative_path(bad), None, "{bad}");
        }
    }

    fn head_with(headers: &[(&str, &str)]) -> Head {
        Head {
            method: "GET".into(),
            target: "/".into(),
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_string(), v.as_bytes().to_vec()))
                .collect(),
            bytes: Vec::new(),
        }
    }

    #[test]
    fn gzip_is_taken_as_accept_encoding_says() {
        for (values, want) in [
            (&[][..], false),
            (&["gzip"][..], true),
            (&["deflate, gzip;q=0.8"][..], true),
            (&["GZip ; Q=1"][..], true),
            (&["x-gzip"][..], true),
            (&["*"][..], true),
            (&["identity"][..], false),
            (&["br", "gzip"][..], true),
            (&["gzip;q=0"][..], false),
            (&["gzip; q=0.000"][..], false),
            (&["*, gzip;q=0"][..], false),
            (&["gzip;q=0, *"][..], false),
            (&["*;q=0"][..], false),
            (&["gzipped"][..], false),
        ] {
            let headers: Vec<_> = values.iter().map(|v| ("accept-encoding", *v)).collect();
            assert_eq!(head_with(&headers).accepts_gzip(), want, "{values:?}");
        }
    }

    #[test]
    fn content_types_by_extension() {
        for (name, ct) in [
            ("index.html", "text/html; charset=utf-8"),
            ("a.js", "text/javascript; charset=utf-8"),
            ("a.mjs", "text/javascript; charset=utf-8"),
            ("a.css", "text/css; charset=utf-8"),
            ("tase2_wasm_bg.wasm", "application/wasm"),
            ("a.json", "application/json"),
            ("a.js.map", "application/json"),
            ("a.PNG", "image/png"),
            ("a.svg", "image/svg+xml"),
            ("Makefile", "application/octet-stream"),
        ] {
            assert_eq!(content_type(Path::new(name)), ct, "{name}");
        }
    }

    #[test]
    fn targets_json_lists_the_targets_in_order() {
        assert_eq!(targets_json(&[]), r#"{"targets":[]}"#);
        assert_eq!(
            targets_json(&["127.0.0.1:102".into(), "[::1]:102".into()]),
            r#"{"targets":["127.0.0.1:102","[::1]:102"]}"#
        );
    }

    #[tokio::test]
    async fn heads_are_bounded_and_keep_what_follows() {
        let mut input: &[u8] =
            b"GET /ws?target=a:1 HTTP/1.1\r\nHost: h\r\nUpgrade: WebSocket\r\n\r\nextra";
        let head = read_head(&mut input, Duration::from_secs(5)).await.unwrap();
        assert_eq!(head.method, "GET");
        assert_eq!(head.path(), "/ws");
        assert_eq!(head.header("host"), Some("h"));
        assert!(head.is_websocket_upgrade());
        assert!(head.bytes.ends_with(b"\r\n\r\nextra"));

        let big = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(MAX_HEAD));
        let mut input = big.as_bytes();
        assert!(matches!(
            read_head(&mut input, Duration::from_secs(5)).await,
            Err(HeadError::TooLarge)
        ));
        let mut input: &[u8] = b"\x16\x03\x01 not http\r\n\r\n";
        assert!(matches!(
            read_head(&mut input, Duration::from_secs(5)).await,
            Err(HeadError::Malformed)
        ));
    }
}
