//! FreeTase2 mio driver: a single-threaded event loop for the sans-IO core.
//!
//! The core ([`tase2_core`]) never touches a socket or a clock. This crate moves its bytes over
//! TCP with [`mio`] and runs its timers from `poll_timeout`, nothing more. Two pieces fit into a
//! [`mio::Poll`] loop of yours, each with the same four calls (`register`, `handle_ready`,
//! `timeout`, `handle_timeout`) and a `poll_event` queue:
//!
//! - [`MioEndpoint`] serves any [`tase2_core::server::Endpoint`]: plain MMS, or a TASE.2 server
//!   (`Endpoint<Tase2>`, built by `Tase2Builder`). Every accepted socket becomes a
//!   [`ConnectionId`](tase2_core::server::ConnectionId); point updates and the like go through
//!   [`MioEndpoint::endpoint_mut`], then [`MioEndpoint::flush`].
//! - [`MioSession`] is a TASE.2 client: the core's
//!   [`Session`](tase2_core::tase2::client::Session) over one socket. Commands are data
//!   ([`Command`](tase2_core::tase2::client::Command)); their results, reports and information
//!   messages come out of [`MioSession::poll_event`].
//!
//! On top of them, for programs whose whole loop is one of them:
//!
//! - [`MioServer`]: a [`MioEndpoint`] on a `Poll` of its own ([`MioServer::run_once`],
//!   [`MioServer::run_until`]);
//! - [`MioTase2Client`]: a blocking TASE.2 client ([`MioTase2Client::run`] a command and wait for
//!   its outcome, [`MioTase2Client::next_report`]);
//! - [`MioFailoverClient`]: the same over the core's reconnect and failover policy
//!   ([`Failover`](tase2_core::tase2::client::Failover)): an ordered list of servers, backoff,
//!   fail-back, keepalive, and what the application set up restored on every new association;
//! - [`MioClient`]: a blocking plain MMS client over [`tase2_core::client::Client`].
//!
//! Time is [`tase2_core::std_clock`] (also as [`clock`]): one origin for every reading.
//!
//! # One loop, a server and a client
//!
//! A TASE.2 server and a client session to another server on one thread (see
//! `examples/concentrator.rs` for the whole program):
//!
//! ```no_run
//! use mio::{Events, Poll, Token};
//! use tase2_core::assoc::AssociationConfig;
//! use tase2_core::server::ServerConfig;
//! use tase2_core::tase2::client::{Command, SessionConfig, SessionEvent};
//! use tase2_core::tase2::server::{Tase2Builder, Tase2Config};
//! use tase2_mio::{MioEndpoint, MioSession};
//!
//! const UPSTREAM: Token = Token(0);
//! const SERVER: Token = Token(1); // the server takes this token and every one above
//!
//! let endpoint = Tase2Builder::new(Tase2Config::default())
//!     .build(ServerConfig::default())
//!     .unwrap();
//! let mut server = MioEndpoint::with_endpoint("127.0.0.1:10103".parse()?, endpoint)?;
//! let association = AssociationConfig::with_ap_titles(
//!     ("1.1.1.999".parse().unwrap(), 12),
//!     ("1.1.1.998".parse().unwrap(), 12),
//! );
//! let mut upstream = MioSession::connect(
//!     "127.0.0.1:10102".parse()?,
//!     association,
//!     SessionConfig::default(),
//! )?;
//!
//! let mut poll = Poll::new()?;
//! server.register(poll.registry(), SERVER)?;
//! upstream.register(poll.registry(), UPSTREAM)?;
//! upstream.command(Command::Discover);
//! let mut events = Events::with_capacity(256);
//! loop {
//!     let timeout = server.timeout().into_iter().chain(upstream.timeout()).min();
//!     poll.poll(&mut events, timeout)?;
//!     for event in &events {
//!         if event.token() == UPSTREAM {
//!             upstream.handle_ready(event);
//!         } else if server.owns(event.token()) {
//!             server.handle_ready(event)?;
//!         }
//!     }
//!     upstream.handle_timeout();
//!     server.handle_timeout()?;
//!     while let Some(event) = upstream.poll_event() {
//!         if let SessionEvent::Report(report) = event {
//!             // ... server.endpoint_mut().update(now, point, value) ...
//!         }
//!     }
//!     server.flush()?;
//!     while let Some(event) = server.poll_event() {
//!         println!("{event:?}");
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # A blocking TASE.2 client
//!
//! ```no_run
//! use tase2_core::assoc::AssociationConfig;
//! use tase2_core::mms::ObjectName;
//! use tase2_core::tase2::client::{Command, Outcome};
//! use tase2_mio::MioTase2Client;
//!
//! let config = AssociationConfig::with_ap_titles(
//!     ("1.1.1.999".parse().unwrap(), 12),
//!     ("1.1.1.998".parse().unwrap(), 12),
//! );
//! let mut client = MioTase2Client::connect("127.0.0.1:10102".parse().unwrap(), config)?;
//! let names = vec![ObjectName::domain("ICC1", "Gen1_MW")];
//! if let Outcome::Points(values) = client.run(Command::ReadPoints { names })? {
//!     println!("{values:?}");
//! }
//! client.conclude()?;
//! # Ok::<(), tase2_mio::Tase2ClientError>(())
//! ```
//!
//! # A plain MMS server and client
//!
//! ```no_run
//! use tase2_core::assoc::AssociationConfig;
//! use tase2_core::mms::ObjectName;
//! use tase2_core::server::{ServerConfig, ServerEvent, Vmd};
//! use tase2_mio::{MioClient, MioServer};
//!
//! let addr = "127.0.0.1:10102".parse().unwrap();
//! let mut server = MioServer::bind(addr, ServerConfig::default(), Vmd::default())?;
//! std::thread::spawn(move || {
//!     // Serve until the first association ends; `stop` sees every event.
//!     server.run_until(|e| matches!(e, ServerEvent::Closed { .. }))
//! });
//! let config = AssociationConfig::with_ap_titles(
//!     ("1.1.1.999".parse().unwrap(), 12),
//!     ("1.1.1.998".parse().unwrap(), 12),
//! );
//! let mut client = MioClient::connect(addr, config)?;
//! let id = client.identify()?;
//! println!("{} {} {}", id.vendor_name, id.model_name, id.revision);
//! println!("{:?}", client.read(&[ObjectName::vmd("TASE2_Version")])?);
//! client.conclude()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Time and blocking
//!
//! Every piece reads the clock once per call and hands that reading to the core; the core's own
//! timers (connect, request and release timeouts) bound every blocking call of [`MioClient`] and
//! [`MioTase2Client`]. Nothing here spawns a thread.

#![forbid(unsafe_code)]

mod client;
mod failover;
mod recording;
mod server;
mod session;
mod socket;
mod tase2_client;
#[cfg(feature = "tls")]
pub mod tls;

pub use client::{ClientError, MioClient};
pub use failover::{MioFailoverClient, MioFailoverOptions};
pub use recording::record_file;
pub use server::{
    MioEndpoint, MioServer, CLOSE_LINGER, KEEPALIVE_IDLE, KEEPALIVE_INTERVAL, KEEPALIVE_RETRIES,
};
pub use session::MioSession;
pub use tase2_client::{MioTase2Client, Tase2ClientError};
/// The system clock as the core sees it: [`tase2_core::std_clock`].
pub use tase2_core::std_clock as clock;

use std::io::{self, Read, Write};

/// Size of the read buffer: one maximal TPKT (65,535 octets) fits.
pub const READ_BUFFER_SIZE: usize = 64 * 1024;

/// Write as much of `unsent` as the socket takes now and drop what was written. `Ok` when the socket
/// would block or everything is out; an error means the connection is broken.
fn write_out(socket: &mut impl Write, unsent: &mut Vec<u8>) -> io::Result<()> {
    let mut written = 0;
    let result = loop {
        if written == unsent.len() {
            break Ok(());
        }
        match socket.write(&unsent[written..]) {
            Ok(0) => break Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => written += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => break Err(e),
        }
    };
    unsent.drain(..written);
    // What a TLS stream still holds goes out too (a no-op on plain TCP).
    result.and_then(|()| match socket.flush() {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(()),
        r => r,
    })
}

/// What one read attempt on a non-blocking socket gave.
enum ReadOutcome {
    /// Bytes (at least one).
    Data(usize),
    /// Nothing more for now.
    WouldBlock,
    /// The peer closed or the connection broke.
    Closed,
}

/// Read once into `buf`, retrying on `Interrupted`.
fn read_some(socket: &mut impl Read, buf: &mut [u8]) -> ReadOutcome {
    loop {
        return match socket.read(buf) {
            Ok(0) => ReadOutcome::Closed,
            Ok(n) => ReadOutcome::Data(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => ReadOutcome::WouldBlock,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => ReadOutcome::Closed,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that takes `chunk` bytes per call, then blocks after `limit` in total.
    struct Throttled {
        taken: Vec<u8>,
        chunk: usize,
        limit: usize,
    }

    impl Write for Throttled {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let room = self.limit - self.taken.len();
            if room == 0 {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let n = buf.len().min(self.chunk).min(room);
            self.taken.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn write_out_keeps_what_the_socket_did_not_take() {
        let mut w = Throttled {
            taken: Vec::new(),
            chunk: 3,
            limit: 7,
        };
        let mut unsent = b"0123456789".to_vec();
        write_out(&mut w, &mut unsent).unwrap();
        assert_eq!(w.taken, b"0123456");
        assert_eq!(unsent, b"789");
        w.limit = 100;
        write_out(&mut w, &mut unsent).unwrap();
        assert_eq!(w.taken, b"0123456789");
        assert!(unsent.is_empty());
    }

    #[test]
    fn write_out_reports_a_socket_that_takes_nothing() {
        struct Zero;
        impl Write for Zero {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Ok(0)
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut unsent = vec![1, 2, 3];
        let e = write_out(&mut Zero, &mut unsent).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WriteZero);
        assert_eq!(unsent, [1, 2, 3]);
    }

    #[test]
    fn read_some_maps_eof_and_errors_to_closed() {
        let mut empty: &[u8] = &[];
        let mut buf = [0u8; 4];
        assert!(matches!(
            read_some(&mut empty, &mut buf),
            ReadOutcome::Closed
        ));
        let mut two: &[u8] = &[9, 8];
        assert!(matches!(
            read_some(&mut two, &mut buf),
            ReadOutcome::Data(2)
        ));
        assert_eq!(&buf[..2], &[9, 8]);
    }
}
