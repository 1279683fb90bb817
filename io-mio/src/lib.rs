//! FreeTase2 mio driver: a single-threaded event loop for the sans-IO core.
//!
//! The core ([`tase2_core`]) never touches a socket or a clock. This crate moves its bytes over
//! TCP with [`mio`] and runs its one timer from `poll_timeout`, nothing more:
//!
//! - [`MioServer`] binds a listener and serves a [`tase2_core::server::Endpoint`]: every accepted
//!   socket becomes a [`ConnectionId`](tase2_core::server::ConnectionId), every read goes to
//!   `handle_input`, and after every wakeup the endpoint's transmits are written out.
//! - [`MioClient`] drives one [`tase2_core::client::Client`] over one socket, blocking the calling
//!   thread until the association is up, a response arrives, or the release completes.
//! - [`clock::now`] makes the core's [`Instant`](tase2_core::Instant) from `std::time`.
//!
//! # A server
//!
//! ```no_run
//! use tase2_core::server::{ServerConfig, ServerEvent, Vmd};
//! use tase2_mio::MioServer;
//!
//! let addr = "127.0.0.1:10102".parse().unwrap();
//! let mut server = MioServer::bind(addr, ServerConfig::default(), Vmd::default())?;
//! // Serve until the first association ends; `stop` sees every event.
//! let last = server.run_until(|e| matches!(e, ServerEvent::Closed { .. }))?;
//! println!("{last:?}");
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # A client
//!
//! ```no_run
//! use tase2_core::assoc::AssociationConfig;
//! use tase2_core::mms::ObjectName;
//! use tase2_mio::MioClient;
//!
//! let config = AssociationConfig::with_ap_titles(
//!     ("1.1.1.999".parse().unwrap(), 12),
//!     ("1.1.1.998".parse().unwrap(), 12),
//! );
//! let mut client = MioClient::connect("127.0.0.1:10102".parse().unwrap(), config)?;
//! let id = client.identify()?;
//! println!("{} {} {}", id.vendor_name, id.model_name, id.revision);
//! let values = client.read(&[ObjectName::vmd("TASE2_Version")])?;
//! println!("{values:?}");
//! client.conclude()?;
//! # Ok::<(), tase2_mio::ClientError>(())
//! ```
//!
//! # Time and blocking
//!
//! Both sides read the clock once per wakeup and hand that reading to the core; the core's own
//! timers (connect, request and release timeouts) bound every blocking call of [`MioClient`].
//! Nothing here spawns a thread: run a [`MioServer`] on a thread of its own if the program has
//! other work.

#![forbid(unsafe_code)]

mod client;
pub mod clock;
mod server;

pub use client::{ClientError, MioClient};
pub use server::{MioServer, CLOSE_LINGER, MAX_UNSENT};

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
    result
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
