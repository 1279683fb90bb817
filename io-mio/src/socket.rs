//! The byte stream under a connection: plain TCP, or TLS over TCP (feature `tls`, secure ICCP,
//! IEC 62351-3 and -4), behind one non-blocking `Read` / `Write` of plaintext, as in rustls's
//! `tlsclient-mio` example.
//!
//! With TLS, `read` feeds what the socket has to rustls (`read_tls`, `process_new_packets`)
//! and returns plaintext, answering the handshake as it goes; it reads the socket only once
//! rustls has no plaintext left, so a paused reader never leaves plaintext in rustls where no
//! readiness event would bring it back. `write` takes plaintext only once rustls has sent what
//! it held (`WouldBlock` otherwise), so the driver's own output cap still applies; `flush`
//! writes what rustls holds. A refused handshake is an error of `read`, logged at warn level on
//! the target `tase2_mio::tls` and kept for [`Socket::take_failure`] (the session's error) and
//! [`Socket::take_refusal`] (the endpoint's event).

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};

use mio::net::TcpStream;
use mio::{Interest, Registry, Token};
use tase2_core::server::PeerIdentity;

/// A connection's stream.
pub(crate) enum Socket {
    /// Plain TCP (RFC 1006).
    Plain(TcpStream),
    /// TLS over TCP.
    #[cfg(feature = "tls")]
    Tls(Box<crate::tls::TlsSocket>),
}

impl Socket {
    /// The TCP socket.
    pub(crate) fn tcp(&self) -> &TcpStream {
        match self {
            Socket::Plain(s) => s,
            #[cfg(feature = "tls")]
            Socket::Tls(t) => &t.tcp,
        }
    }

    fn tcp_mut(&mut self) -> &mut TcpStream {
        match self {
            Socket::Plain(s) => s,
            #[cfg(feature = "tls")]
            Socket::Tls(t) => &mut t.tcp,
        }
    }

    /// TLS holds octets the socket has not taken: ask for WRITABLE, do not close yet.
    pub(crate) fn tls_pending(&self) -> bool {
        match self {
            Socket::Plain(_) => false,
            #[cfg(feature = "tls")]
            Socket::Tls(t) => t.conn.wants_write(),
        }
    }

    /// The peer's certificate, once, when the TLS handshake just finished: give it to
    /// `Endpoint::authenticate` before the connection's first octet.
    pub(crate) fn take_identity(&mut self) -> Option<PeerIdentity> {
        match self {
            Socket::Plain(_) => None,
            #[cfg(feature = "tls")]
            Socket::Tls(t) => t.identity.take(),
        }
    }

    /// Why TLS ended the connection, if it did (a refused handshake, an alert).
    pub(crate) fn take_failure(&mut self) -> Option<io::Error> {
        match self {
            Socket::Plain(_) => None,
            #[cfg(feature = "tls")]
            Socket::Tls(t) => t.failure.take(),
        }
    }

    /// Why TLS refused the peer, in words, once: give it to `Endpoint::transport_refused`.
    pub(crate) fn take_refusal(&mut self) -> Option<String> {
        match self {
            Socket::Plain(_) => None,
            #[cfg(feature = "tls")]
            Socket::Tls(t) => t.refusal.take(),
        }
    }

    /// Check a live TLS connection against a reloaded configuration; `None` on plain TCP.
    #[cfg(feature = "tls")]
    pub(crate) fn recheck(&mut self, tls: &crate::tls::ServerTls) -> Option<crate::tls::Recheck> {
        match self {
            Socket::Plain(_) => None,
            Socket::Tls(t) => Some(t.recheck(tls)),
        }
    }

    /// `TcpStream::take_error`.
    pub(crate) fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.tcp().take_error()
    }

    /// `TcpStream::peer_addr`.
    pub(crate) fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.tcp().peer_addr()
    }

    /// `TcpStream::set_nodelay`.
    pub(crate) fn set_nodelay(&self, on: bool) -> io::Result<()> {
        self.tcp().set_nodelay(on)
    }

    /// Close: TLS sends its close_notify (as far as the socket takes it) first.
    pub(crate) fn shutdown(&mut self, how: Shutdown) -> io::Result<()> {
        #[cfg(feature = "tls")]
        if let Socket::Tls(t) = self {
            t.close_notify();
        }
        self.tcp().shutdown(how)
    }
}

impl Read for Socket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Socket::Plain(s) => s.read(buf),
            #[cfg(feature = "tls")]
            Socket::Tls(t) => t.read(buf),
        }
    }
}

impl Write for Socket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Socket::Plain(s) => s.write(buf),
            #[cfg(feature = "tls")]
            Socket::Tls(t) => t.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Socket::Plain(_) => Ok(()),
            #[cfg(feature = "tls")]
            Socket::Tls(t) => t.flush(),
        }
    }
}

impl mio::event::Source for Socket {
    fn register(&mut self, r: &Registry, token: Token, interest: Interest) -> io::Result<()> {
        self.tcp_mut().register(r, token, interest)
    }

    fn reregister(&mut self, r: &Registry, token: Token, interest: Interest) -> io::Result<()> {
        self.tcp_mut().reregister(r, token, interest)
    }

    fn deregister(&mut self, r: &Registry) -> io::Result<()> {
        self.tcp_mut().deregister(r)
    }
}

impl std::fmt::Debug for Socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Socket::Plain(s) => s.fmt(f),
            #[cfg(feature = "tls")]
            Socket::Tls(t) => f.debug_tuple("Tls").field(&t.tcp).finish(),
        }
    }
}
