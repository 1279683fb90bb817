//! Secure ICCP (IEC 62351-3 and -4) over tokio, with the feature `tls`: TLS 1.2 and 1.3 with
//! rustls, configured by [`tase2_tls`] (PEM files, CAs, CRLs, pins, suites, `SSLKEYLOGFILE`).
//!
//! - Server: [`Server::set_tls`](crate::Server::set_tls) with a [`ServerTls`]. Each connection
//!   task drives a `rustls::ServerConnection` itself over the socket's `try_read` / `try_write`,
//!   so it keeps the plain task's rules: it reads only while the endpoint wants input, takes
//!   output from the endpoint only once TLS has sent the previous batch, and the connection is
//!   in the endpoint's handshake pool (and under its handshake deadline) from the accept on, TLS
//!   handshake included. Once the handshake is done the client certificate's identity goes to
//!   `Endpoint::authenticate` before the first octet, for the bilateral tables.
//! - Client: [`ClientTls`] and
//!   [`Tase2Client::connect_tls`](crate::Tase2Client::connect_tls), or [`handshake`] for a
//!   stream of your own (tokio-rustls underneath).
//!
//! A refused handshake (unknown CA, expired, revoked, not pinned, no certificate, a plain-TCP
//! client on the TLS port) and a connection whose certificate a reloaded configuration refuses
//! are server events: `Endpoint::transport_refused` closes the connection and queues
//! `AdmissionEvent::TransportRefused` with the source address and the reason in words
//! ([`tase2_tls::describe_error`]), recorded like every input. A handshake that did not finish
//! in time is the endpoint's own `AdmissionEvent::HandshakeTimeout`. Each is also logged at warn
//! level on the target `tase2_tokio::tls`; a client gets the refusal as its connect error.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Notify;

use tase2_core::server::{ConnectionId, Hooks};
use tase2_core::std_clock as clock;
use tase2_tls::rustls::{self, pki_types::ServerName, ServerConnection};
use tase2_tls::{KeyUpdatePolicy, KeyUpdateTimer};

use crate::server::{transport_closed, Shared};

pub use tase2_tls;

/// Octets read from a socket at a time.
const READ_CHUNK: usize = 16 * 1024;
/// How long a closed TLS connection waits for the peer's close_notify and FIN.
const CLOSE_LINGER: std::time::Duration = std::time::Duration::from_secs(2);

pub use tase2_tls::{ClientTls, ServerTls};

/// Replaces a running [`Server`](crate::Server)'s TLS configuration
/// ([`Server::set_tls`](crate::Server::set_tls) returns it), e.g. after its CRLs changed: new
/// connections use the new one at once; every live connection checks its client certificate
/// against it again, closes if it no longer passes (revoked by the new CRL, say: logged at warn
/// level), and otherwise renews its TLS 1.3 traffic keys (KeyUpdate; a TLS 1.2 connection cannot
/// renew them, rustls having no renegotiation).
#[derive(Clone)]
pub struct TlsReload(Arc<tokio::sync::watch::Sender<ServerTls>>);

impl TlsReload {
    pub(crate) fn new(tx: tokio::sync::watch::Sender<ServerTls>) -> Self {
        TlsReload(Arc::new(tx))
    }

    /// Use `tls` from now on. Returns false when the server has stopped.
    pub fn reload(&self, tls: ServerTls) -> bool {
        self.0.send(tls).is_ok()
    }
}

/// Run the TLS handshake of `tls` on `stream`, connected to `addr` (`host:port`: the host is the
/// server name unless [`ClientTls::server_name`] is set). A refusal is an
/// [`io::ErrorKind::PermissionDenied`] error saying why in words.
pub async fn handshake(tls: &ClientTls, stream: TcpStream, addr: &str) -> io::Result<TlsStream> {
    let name: ServerName<'static> = tls.server_name_for(addr)?;
    let connector = tokio_rustls::TlsConnector::from(Arc::clone(&tls.config));
    let inner = match connector.connect(name, stream).into_fallible().await {
        Ok(s) => s,
        Err((e, mut tcp)) => {
            // The server's alert (why it refused us) may still be unread: read it and its FIN
            // before the socket drops, so the kernel ends the connection with a FIN, not a reset.
            let (mut rd, mut wr) = tcp.split();
            crate::close::close(&mut rd, &mut wr).await;
            return Err(explain_io(e));
        }
    };
    let (_, conn) = inner.get_ref();
    tracing::debug!(
        target: "tase2_tokio::tls",
        session = %tase2_tls::describe_session(conn),
        "TLS session with the server established"
    );
    Ok(TlsStream {
        inner,
        timer: KeyUpdateTimer::new(tls.key_update, std::time::Instant::now()),
        closing: Closing::Open,
    })
}

/// An io error from a TLS handshake, with the rustls reason in words.
fn explain_io(e: io::Error) -> io::Error {
    let text = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .map(tase2_tls::describe_error);
    match text {
        Some(t) => io::Error::new(io::ErrorKind::PermissionDenied, format!("TLS handshake: {t}")),
        None if e.kind() == io::ErrorKind::UnexpectedEof => io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "TLS handshake: the server closed the connection (a plain-TCP server, or it refused us)",
        ),
        None => e,
    }
}

/// A client's TLS stream: tokio-rustls's, renewing TLS 1.3 keys as its [`KeyUpdatePolicy`]
/// says before a write.
pub struct TlsStream {
    inner: tokio_rustls::client::TlsStream<TcpStream>,
    timer: KeyUpdateTimer,
    closing: Closing,
}

/// Where a client's TLS stream is in its own close.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Closing {
    /// Not shut down by us.
    Open,
    /// We sent close_notify (shut down): TLS's end is not yet the connection's.
    ShutDown,
    /// TLS ended after our shutdown: read the raw socket, dropping what comes, up to the TCP
    /// FIN. The server's close_notify arrives before its FIN; ending the read there would close
    /// the socket with the FIN (or a late segment) unread, which the kernel answers with a reset.
    Draining,
}

impl TlsStream {
    /// The rustls connection (version, suite, peer certificates).
    pub fn connection(&self) -> &rustls::ClientConnection {
        self.inner.get_ref().1
    }

    /// How many times the keys were renewed.
    pub fn key_updates(&self) -> u64 {
        self.timer.updates()
    }
}

impl AsyncRead for TlsStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.closing == Closing::Draining {
            return drain_raw(this.inner.get_mut().0, cx);
        }
        let before = buf.filled().len();
        let r = Pin::new(&mut this.inner).poll_read(cx, buf);
        let ended = match &r {
            Poll::Ready(Ok(())) => buf.filled().len() == before,
            Poll::Ready(Err(_)) => true,
            Poll::Pending => false,
        };
        if ended && this.closing == Closing::ShutDown {
            this.closing = Closing::Draining;
            return drain_raw(this.inner.get_mut().0, cx);
        }
        if let Poll::Ready(Err(e)) = &r {
            // After a TLS 1.3 handshake the server checks our certificate while we already
            // send: its refusal arrives as an alert here. Say so; the session only sees the
            // transport close.
            if let Some(t) = e
                .get_ref()
                .and_then(|i| i.downcast_ref::<rustls::Error>())
                .map(tase2_tls::describe_error)
            {
                tracing::warn!(target: "tase2_tokio::tls", "TLS connection ended: {t}");
            }
        }
        r
    }
}

impl AsyncWrite for TlsStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let now = std::time::Instant::now();
        if let Err(e) = this.timer.maybe_update(now, this.inner.get_mut().1) {
            return Poll::Ready(Err(io::Error::other(e)));
        }
        let r = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &r {
            this.timer.sent(*n);
        }
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.closing == Closing::Open {
            self.closing = Closing::ShutDown;
        }
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Reads and drops what the socket still has, up to its end (or an error): the end of a
/// client's TLS stream after its own shutdown.
fn drain_raw(tcp: &mut TcpStream, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
    let mut scratch = [0u8; 512];
    loop {
        let mut b = ReadBuf::new(&mut scratch);
        match Pin::new(&mut *tcp).poll_read(cx, &mut b) {
            Poll::Ready(Ok(())) if !b.filled().is_empty() => continue,
            Poll::Ready(_) => return Poll::Ready(Ok(())),
            Poll::Pending => return Poll::Pending,
        }
    }
}

/// The socket as blocking-style `Read` / `Write` for rustls, over `try_read` / `try_write`
/// (`WouldBlock` when the socket has nothing or is full).
struct TryIo<'a>(&'a TcpStream);

impl Read for TryIo<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.try_read(buf)
    }
}

impl Write for TryIo<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.try_write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The end of a TLS connection task.
enum End {
    /// The endpoint forgot the connection: close_notify, then FIN.
    Forgotten,
    /// The transport failed or the peer closed: the endpoint was told.
    Closed,
}

/// One TLS connection of the server (see the module docs).
pub(crate) async fn connection<H: Hooks + 'static>(
    shared: Shared<H>,
    id: ConnectionId,
    mut stream: TcpStream,
    peer: SocketAddr,
    wake: Rc<Notify>,
    mut updates: tokio::sync::watch::Receiver<ServerTls>,
) {
    let tls = updates.borrow_and_update().clone();
    let mut conn = match ServerConnection::new(Arc::clone(&tls.config)) {
        Ok(c) => c,
        Err(e) => {
            let why = format!("TLS not started: {e}");
            tracing::warn!(target: "tase2_tokio::tls", "connection {} from {peer}: {why}", id.0);
            refuse(&shared, id, &why);
            return;
        }
    };
    let end = run(
        &shared,
        id,
        &stream,
        peer,
        &wake,
        &mut conn,
        tls.key_update,
        &mut updates,
    )
    .await;
    match end {
        End::Forgotten => {
            conn.send_close_notify();
            while conn.wants_write() {
                if stream.writable().await.is_err() {
                    break;
                }
                match conn.write_tls(&mut TryIo(&stream)) {
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(_) => break,
                }
            }
            let _ = stream.shutdown().await;
            // The peer answers with its own close_notify and FIN: read them, so that closing
            // with its octets unread does not reset the connection (RST).
            let mut sink = [0u8; 512];
            let _ = tokio::time::timeout(CLOSE_LINGER, async {
                loop {
                    match tokio::io::AsyncReadExt::read(&mut stream, &mut sink).await {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {}
                    }
                }
            })
            .await;
        }
        End::Closed => {
            // Whatever TLS still has (an alert saying why we refused) goes out if it can.
            let _ = conn.write_tls(&mut TryIo(&stream));
        }
    }
}

/// The endpoint forgets `id` (the transport closed) and the connection leaves the task table.
fn close<H: Hooks>(shared: &Shared<H>, id: ConnectionId) {
    transport_closed(shared, id);
    drain_forgotten(shared, id);
}

/// TLS refused `id`'s peer or ended the connection: the endpoint closes it with an
/// `AdmissionEvent::TransportRefused` saying `why`, and it leaves the task table.
fn refuse<H: Hooks>(shared: &Shared<H>, id: ConnectionId, why: &str) {
    {
        let mut core = shared.0.borrow_mut();
        core.endpoint.transport_refused(clock::now(), id, why);
        core.settle();
    }
    shared.1.notify_one();
    drain_forgotten(shared, id);
}

/// Take what a forgotten connection still had (nowhere to send it) and drop its wake-up.
fn drain_forgotten<H: Hooks>(shared: &Shared<H>, id: ConnectionId) {
    let mut core = shared.0.borrow_mut();
    let mut sink = Vec::new();
    while core.endpoint.poll_transmit(id, &mut sink) > 0 {
        sink.clear();
    }
    if !core.endpoint.is_open(id) {
        core.conns.remove(&id);
    }
    drop(core);
    shared.1.notify_one();
}

#[allow(clippy::too_many_arguments)]
async fn run<H: Hooks + 'static>(
    shared: &Shared<H>,
    id: ConnectionId,
    stream: &TcpStream,
    peer: SocketAddr,
    wake: &Notify,
    conn: &mut ServerConnection,
    policy: KeyUpdatePolicy,
    updates: &mut tokio::sync::watch::Receiver<ServerTls>,
) -> End {
    let mut watching = true;
    let who = format!("connection {} from {peer}", id.0);
    // Octets read from the socket that TLS did not take yet (it takes them as the endpoint
    // takes plaintext: back-pressure reaches the socket).
    let mut raw = vec![0u8; READ_CHUNK];
    let (mut raw_start, mut raw_end) = (0usize, 0usize);
    let mut first_octets: Option<[u8; 2]> = None;
    let mut plain = vec![0u8; READ_CHUNK];
    let mut out: Vec<u8> = Vec::new();
    let mut handshaking = true;
    let mut timer: Option<KeyUpdateTimer> = None;
    loop {
        // 1. The endpoint's output into TLS, only once TLS sent the previous batch.
        let mut took = false;
        if !conn.wants_write() {
            out.clear();
            let open = {
                let mut core = shared.0.borrow_mut();
                let n = core.endpoint.poll_transmit(id, &mut out);
                let open = core.endpoint.is_open(id);
                if n > 0 {
                    core.settle();
                }
                if !open {
                    core.conns.remove(&id);
                }
                open
            };
            if !out.is_empty() && !handshaking {
                took = true;
                if conn.writer().write_all(&out).is_err() {
                    close(shared, id);
                    return End::Closed;
                }
                if let Some(t) = timer.as_mut() {
                    t.sent(out.len());
                }
            }
            if !open {
                shared.1.notify_one();
                if handshaking {
                    tracing::warn!(
                        target: "tase2_tokio::tls",
                        "{who}: dropped, its TLS handshake did not finish before the handshake deadline"
                    );
                    return End::Closed;
                }
                // The last octets, then close_notify.
                return flush(conn, stream).await;
            }
        }
        if let Some(t) = timer.as_mut() {
            if let Err(e) = t.maybe_update(std::time::Instant::now(), conn) {
                tracing::warn!(target: "tase2_tokio::tls", "{who}: TLS key update failed: {e}");
            }
        }
        // 2. TLS records out, as far as the socket takes them.
        while conn.wants_write() {
            match conn.write_tls(&mut TryIo(stream)) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => {
                    close(shared, id);
                    return End::Closed;
                }
            }
        }
        if took && !conn.wants_write() {
            // All written: perhaps more is waiting.
            continue;
        }
        // 3. Input: plaintext TLS holds, then octets read earlier, into the endpoint while it
        // wants them.
        let wants_input =
            |handshaking: bool| handshaking || shared.0.borrow().endpoint.wants_input(id);
        let mut progressed = false;
        loop {
            if !handshaking && wants_input(handshaking) {
                match drain_plain(shared, id, conn, &mut plain) {
                    Ok(p) => progressed |= p,
                    Err(()) => {
                        close(shared, id);
                        return End::Closed;
                    }
                }
            }
            if raw_start == raw_end || !wants_input(handshaking) {
                break;
            }
            let mut slice = &raw[raw_start..raw_end];
            match conn.read_tls(&mut slice) {
                Ok(n) => raw_start += n,
                // Its plaintext buffer is full: the endpoint must take some first.
                Err(_) => break,
            }
            progressed = true;
            if let Err(e) = conn.process_new_packets() {
                let why = match first_octets {
                    Some(f) if tase2_tls::looks_like_tpkt(&f) => {
                        "plain TCP (RFC 1006 without TLS) on the TLS port".to_owned()
                    }
                    _ => tase2_tls::describe_error(&e),
                };
                tracing::warn!(target: "tase2_tokio::tls", "{who}: TLS handshake refused: {why}");
                refuse(shared, id, &why);
                return End::Closed;
            }
            if handshaking && !conn.is_handshaking() {
                handshaking = false;
                let now = clock::now();
                let identity = tase2_tls::peer_identity(conn);
                let session = tase2_tls::describe_session(conn);
                match &identity {
                    Some(i) => {
                        tracing::info!(target: "tase2_tokio::tls", "{who}: {session}, client certificate {i}")
                    }
                    None => {
                        tracing::info!(target: "tase2_tokio::tls", "{who}: {session}, no client certificate")
                    }
                }
                if let Some(i) = identity {
                    let mut core = shared.0.borrow_mut();
                    core.endpoint.authenticate(now, id, i);
                    core.settle();
                }
                timer = Some(KeyUpdateTimer::new(policy, std::time::Instant::now()));
            }
        }
        if progressed {
            shared.1.notify_one();
            continue;
        }
        // 4. Wait for the socket, the endpoint or the key renewal time.
        let want_read = raw_start == raw_end && wants_input(handshaking);
        let want_write = conn.wants_write();
        let renew = timer.as_ref().and_then(KeyUpdateTimer::deadline);
        let renew = async {
            match renew {
                Some(t) => tokio::time::sleep_until(t.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            r = stream.readable(), if want_read => {
                if r.is_err() {
                    close(shared, id);
                    return End::Closed;
                }
                match stream.try_read(&mut raw) {
                    Ok(0) => {
                        if handshaking {
                            tracing::warn!(target: "tase2_tokio::tls", "{who}: closed by the peer during the TLS handshake");
                        }
                        close(shared, id);
                        return End::Closed;
                    }
                    Ok(n) => {
                        if first_octets.is_none() {
                            first_octets = Some([raw[0], if n > 1 { raw[1] } else { 0 }]);
                        }
                        (raw_start, raw_end) = (0, n);
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(_) => {
                        close(shared, id);
                        return End::Closed;
                    }
                }
            }
            _ = stream.writable(), if want_write => {}
            () = wake.notified() => {}
            () = renew => {}
            changed = updates.changed(), if watching => {
                if changed.is_err() {
                    watching = false;
                    continue;
                }
                let new = updates.borrow_and_update().clone();
                if handshaking {
                    // It finishes under the configuration it started with.
                    continue;
                }
                if let Err(e) = new.recheck(conn.peer_certificates()) {
                    let why = format!(
                        "its certificate fails the new TLS configuration: {}",
                        tase2_tls::describe_error(&e)
                    );
                    tracing::warn!(target: "tase2_tokio::tls", "{who}: closed: {why}");
                    refuse(shared, id, &why);
                    return End::Closed;
                }
                if conn.protocol_version() == Some(rustls::ProtocolVersion::TLSv1_3) {
                    match conn.refresh_traffic_keys() {
                        Ok(()) => {
                            if let Some(t) = timer.as_mut() {
                                t.renewed(std::time::Instant::now());
                            }
                            tracing::info!(target: "tase2_tokio::tls", "{who}: TLS configuration reloaded: certificate still valid, keys renewed");
                        }
                        Err(e) => tracing::warn!(target: "tase2_tokio::tls", "{who}: key update failed: {e}"),
                    }
                }
            }
        }
    }
}

/// Plaintext TLS decrypted into the endpoint while it wants it. `Err`: the peer closed (its
/// close_notify, or the stream ended without one).
fn drain_plain<H: Hooks>(
    shared: &Shared<H>,
    id: ConnectionId,
    conn: &mut ServerConnection,
    plain: &mut [u8],
) -> Result<bool, ()> {
    let mut progressed = false;
    loop {
        match conn.reader().read(plain) {
            Ok(0) => return Err(()),
            Ok(n) => {
                progressed = true;
                let mut core = shared.0.borrow_mut();
                core.handle_input(clock::now(), id, &plain[..n]);
                core.settle();
                let more = core.endpoint.wants_input(id);
                drop(core);
                if !more {
                    return Ok(true);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(progressed),
            Err(_) => return Err(()),
        }
    }
}

/// Write what TLS holds for a connection the endpoint forgot, waiting for the socket.
async fn flush(conn: &mut ServerConnection, stream: &TcpStream) -> End {
    while conn.wants_write() {
        match conn.write_tls(&mut TryIo(stream)) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if stream.writable().await.is_err() {
                    return End::Closed;
                }
            }
            Err(_) => return End::Closed,
        }
    }
    End::Forgotten
}
