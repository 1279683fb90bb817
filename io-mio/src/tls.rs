//! Secure ICCP (IEC 62351-3 and -4) in the mio driver, with the feature `tls`: TLS 1.2 and 1.3
//! with rustls, configured by [`tase2_tls`] (PEM files, CAs, CRLs, pins, suites,
//! `SSLKEYLOGFILE`).
//!
//! - Server: [`MioEndpoint::set_tls`](crate::MioEndpoint::set_tls) /
//!   [`MioServer::set_tls`](crate::MioServer::set_tls) with a [`ServerTls`]: every accepted
//!   socket runs a TLS handshake first. Calling it again (new CRLs, say) re-checks every live
//!   connection's client certificate: one that fails is closed with its event, the others renew
//!   their TLS 1.3 keys ([`TlsReloadReport`]). The connection is in the endpoint's handshake pool from
//!   the accept on, so its handshake deadline covers a TLS handshake that stalls; the client
//!   certificate's identity reaches `Endpoint::authenticate` before the first octet.
//! - Client: [`MioSession::connect_tls`](crate::MioSession::connect_tls) and
//!   [`MioTase2Client::connect_tls`](crate::MioTase2Client::connect_tls) with a [`ClientTls`].
//!
//! A refused handshake (unknown CA, expired, revoked, not pinned, no certificate, plain TCP on
//! the TLS port) is a server event: `Endpoint::transport_refused` closes the connection and
//! queues `AdmissionEvent::TransportRefused` with the source address and the reason in words,
//! recorded like every input (a handshake that stalls is the endpoint's own
//! `AdmissionEvent::HandshakeTimeout`). It is also logged at warn level on the target
//! `tase2_mio::tls`; a client gets it as its `io_error`.

use std::io::{self, Read, Write};
use std::sync::Arc;
use std::time::Instant;

use mio::net::TcpStream;
use tase2_core::server::PeerIdentity;
use tase2_tls::rustls;
use tase2_tls::KeyUpdateTimer;

pub use tase2_tls;
pub use tase2_tls::{ClientTls, ServerTls};

/// Plaintext taken per `write`, so what rustls holds stays about one record.
const MAX_PLAINTEXT_PER_WRITE: usize = 16 * 1024;

/// TLS over one non-blocking TCP socket (see `crate::socket`).
pub(crate) struct TlsSocket {
    pub(crate) tcp: TcpStream,
    pub(crate) conn: rustls::Connection,
    /// The peer, for log lines.
    who: String,
    /// The first two octets the peer sent (a TPKT header means plain TCP on a TLS port).
    first: Option<[u8; 2]>,
    handshaking: bool,
    /// The peer certificate's identity, from the end of the handshake until taken.
    pub(crate) identity: Option<PeerIdentity>,
    /// Why TLS ended the connection.
    pub(crate) failure: Option<io::Error>,
    /// The same in words, for `Endpoint::transport_refused`, until taken.
    pub(crate) refusal: Option<String>,
    timer: KeyUpdateTimer,
}

impl TlsSocket {
    /// The server side of an accepted socket.
    pub(crate) fn server(tcp: TcpStream, tls: &ServerTls, who: String) -> io::Result<Self> {
        let conn =
            rustls::ServerConnection::new(Arc::clone(&tls.config)).map_err(io::Error::other)?;
        Ok(Self::new(tcp, conn.into(), who, tls.key_update))
    }

    /// The client side of a socket connecting to `addr` (`host:port`, for the server name).
    pub(crate) fn client(tcp: TcpStream, tls: &ClientTls, addr: &str) -> io::Result<Self> {
        let name = tls.server_name_for(addr)?;
        let conn = rustls::ClientConnection::new(Arc::clone(&tls.config), name)
            .map_err(io::Error::other)?;
        Ok(Self::new(
            tcp,
            conn.into(),
            format!("server {addr}"),
            tls.key_update,
        ))
    }

    fn new(
        tcp: TcpStream,
        conn: rustls::Connection,
        who: String,
        policy: tase2_tls::KeyUpdatePolicy,
    ) -> Self {
        TlsSocket {
            tcp,
            conn,
            who,
            first: None,
            handshaking: true,
            identity: None,
            failure: None,
            refusal: None,
            timer: KeyUpdateTimer::new(policy, Instant::now()),
        }
    }

    /// Write what rustls holds, as far as the socket takes it.
    fn write_tls(&mut self) -> io::Result<()> {
        while self.conn.wants_write() {
            match self.conn.write_tls(&mut self.tcp) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Check this live server connection against a reloaded configuration `tls`: its client
    /// certificate must still pass (a new CRL may revoke it); if it does, a TLS 1.3 connection
    /// renews its traffic keys (the KeyUpdate goes out with the next flush). A connection still
    /// in its handshake finishes under the configuration it started with.
    pub(crate) fn recheck(&mut self, tls: &ServerTls) -> Recheck {
        let rustls::Connection::Server(c) = &self.conn else {
            return Recheck::Kept;
        };
        if self.handshaking {
            return Recheck::Kept;
        }
        if let Err(e) = tls.recheck(c.peer_certificates()) {
            let why = format!(
                "its certificate fails the new TLS configuration: {}",
                tase2_tls::describe_error(&e)
            );
            tracing::warn!(target: "tase2_mio::tls", "{}: closed: {why}", self.who);
            return Recheck::Refused(why);
        }
        if self.conn.protocol_version() != Some(rustls::ProtocolVersion::TLSv1_3) {
            return Recheck::Kept;
        }
        match self.conn.refresh_traffic_keys() {
            Ok(()) => {
                self.timer.renewed(Instant::now());
                tracing::info!(target: "tase2_mio::tls", "{}: TLS configuration reloaded: certificate still valid, keys renewed", self.who);
                Recheck::Renewed
            }
            Err(e) => {
                tracing::warn!(target: "tase2_mio::tls", "{}: key update failed: {e}", self.who);
                Recheck::Kept
            }
        }
    }

    pub(crate) fn close_notify(&mut self) {
        if !self.handshaking {
            self.conn.send_close_notify();
        }
        let _ = self.write_tls();
    }

    /// TLS refused the peer (or ended the connection) for `reason`: say so, send the alert, and
    /// keep the reason for the endpoint and the error for the session.
    fn fail(&mut self, reason: String) -> io::Error {
        let text = if self.handshaking {
            format!("TLS handshake refused: {reason}")
        } else {
            format!("TLS: {reason}")
        };
        tracing::warn!(target: "tase2_mio::tls", "{}: {text}", self.who);
        // The alert rustls queued, if the socket takes it.
        let _ = self.write_tls();
        self.refusal = Some(reason);
        self.failure = Some(io::Error::new(
            io::ErrorKind::PermissionDenied,
            text.clone(),
        ));
        io::Error::new(io::ErrorKind::PermissionDenied, text)
    }

    pub(crate) fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.conn.reader().read(buf) {
                Ok(n) if n > 0 => return Ok(n),
                // close_notify: the peer ended the stream.
                Ok(_) => return Ok(0),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
            // No plaintext left: read the socket.
            let mut first = [0u8; 2];
            let mut peek = Recording {
                inner: &mut self.tcp,
                first: if self.first.is_none() {
                    Some(&mut first)
                } else {
                    None
                },
            };
            let n = match self.conn.read_tls(&mut peek) {
                Ok(0) => {
                    if self.handshaking {
                        tracing::warn!(target: "tase2_mio::tls", "{}: closed during the TLS handshake", self.who);
                    }
                    return Ok(0);
                }
                Ok(n) => n,
                Err(e) => return Err(e),
            };
            if self.first.is_none() {
                self.first = Some(first);
            }
            let _ = n;
            if let Err(e) = self.conn.process_new_packets() {
                let why = match self.first {
                    Some(f) if tase2_tls::looks_like_tpkt(&f) => {
                        "plain TCP (RFC 1006 without TLS) on the TLS port".to_owned()
                    }
                    _ => tase2_tls::describe_error(&e),
                };
                return Err(self.fail(why));
            }
            if self.handshaking && !self.conn.is_handshaking() {
                self.handshaking = false;
                let (session, identity) = match &self.conn {
                    rustls::Connection::Server(c) => {
                        (tase2_tls::describe_session(c), tase2_tls::peer_identity(c))
                    }
                    rustls::Connection::Client(c) => {
                        (tase2_tls::describe_session(c), tase2_tls::peer_identity(c))
                    }
                };
                self.identity = identity;
                match &self.identity {
                    Some(i) => {
                        tracing::info!(target: "tase2_mio::tls", "{}: {session}, peer certificate {i}", self.who)
                    }
                    None => {
                        tracing::info!(target: "tase2_mio::tls", "{}: {session}, no peer certificate", self.who)
                    }
                }
                if matches!(self.conn, rustls::Connection::Client(_)) {
                    // The client's own identity is not the endpoint's business.
                    self.identity = None;
                }
                self.timer.restart(Instant::now());
            }
            // Handshake answers, and plaintext buffered during the handshake.
            self.write_tls()?;
        }
    }

    pub(crate) fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_tls()?;
        if self.conn.wants_write() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        if !self.handshaking {
            if let Err(e) = self.timer.maybe_update_any(Instant::now(), &mut self.conn) {
                return Err(io::Error::other(e));
            }
        }
        let n = self
            .conn
            .writer()
            .write(&buf[..buf.len().min(MAX_PLAINTEXT_PER_WRITE)])?;
        self.timer.sent(n);
        self.write_tls()?;
        Ok(n)
    }

    pub(crate) fn flush(&mut self) -> io::Result<()> {
        self.write_tls()
    }
}

/// What [`TlsSocket::recheck`] decided.
pub(crate) enum Recheck {
    /// The certificate no longer passes: close the connection, for this reason.
    Refused(String),
    /// Still valid; TLS 1.3 keys renewed.
    Renewed,
    /// Still valid (or still handshaking); keys not renewed (TLS 1.2 cannot).
    Kept,
}

/// What [`MioEndpoint::set_tls`](crate::MioEndpoint::set_tls) did to the live connections.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TlsReloadReport {
    /// TLS connections checked against the new configuration.
    pub checked: usize,
    /// Closed: their certificate fails it (each with its `AdmissionEvent::TransportRefused`).
    pub closed: usize,
    /// Still valid, and their TLS 1.3 traffic keys renewed (KeyUpdate).
    pub renewed: usize,
}

/// A reader that keeps the first octets it read.
struct Recording<'a> {
    inner: &'a mut TcpStream,
    first: Option<&'a mut [u8; 2]>,
}

impl Read for Recording<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(first) = self.first.take() {
            first[0] = buf.first().copied().unwrap_or(0);
            first[1] = if n > 1 { buf[1] } else { 0 };
        }
        Ok(n)
    }
}
