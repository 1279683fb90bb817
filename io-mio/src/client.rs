//! [`MioClient`]: one [`Client`] association over one socket, driven from the calling thread.

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use tase2_core::assoc::{ApiError, AssocError, AssociationConfig, Event, Negotiated};
use tase2_core::client::{Client, RequestError};
use tase2_core::mms::{AccessResult, ConfirmedResponse, IdentifyResponse, ObjectName};
use tase2_core::Instant;

use crate::{clock, read_some, write_out, ReadOutcome, READ_BUFFER_SIZE};

const SOCKET: Token = Token(0);

/// Why a [`MioClient`] call failed.
#[derive(Debug)]
pub enum ClientError {
    /// The socket failed (connect refused, reset, ...).
    Io(io::Error),
    /// The core refused the command (e.g. not established, too many outstanding requests).
    Api(ApiError),
    /// The server answered with an error, rejected the request, or did not answer in time.
    Request(RequestError),
    /// The association ended before the awaited event: `None` for an orderly release.
    Closed(Option<AssocError>),
    /// The server answered with a response of another service than the one asked for.
    UnexpectedResponse(Box<ConfirmedResponse>),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Io(e) => write!(f, "I/O: {e}"),
            ClientError::Api(e) => write!(f, "{e}"),
            ClientError::Request(e) => write!(f, "{e}"),
            ClientError::Closed(None) => f.write_str("association released"),
            ClientError::Closed(Some(e)) => write!(f, "association closed: {e}"),
            ClientError::UnexpectedResponse(r) => write!(f, "unexpected response {r:?}"),
        }
    }
}

impl std::error::Error for ClientError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ClientError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for ClientError {
    fn from(e: io::Error) -> Self {
        ClientError::Io(e)
    }
}

impl From<ApiError> for ClientError {
    fn from(e: ApiError) -> Self {
        ClientError::Api(e)
    }
}

/// A blocking TASE.2 / MMS client over one [`mio`] socket.
///
/// Every method runs the loop on the calling thread until what it waits for happens. The core's
/// timers bound each wait: `connect_timeout` for [`Self::connect`], `request_timeout` for a request
/// and `release_timeout` for [`Self::conclude`] (all in [`AssociationConfig`]).
///
/// Events that no call waited for (InformationReports, peer errors) are kept for
/// [`Self::poll_event`] and [`Self::next_event`].
pub struct MioClient {
    poll: Poll,
    events: Events,
    socket: TcpStream,
    client: Client,
    connected: bool,
    unsent: Vec<u8>,
    interest: Interest,
    buf: Vec<u8>,
    pending: VecDeque<Event>,
}

impl MioClient {
    /// Connect to `addr` and associate; returns once the association is established.
    pub fn connect(addr: SocketAddr, config: AssociationConfig) -> Result<Self, ClientError> {
        let poll = Poll::new()?;
        let mut socket = TcpStream::connect(addr)?;
        // Until the connect completes we wait for WRITABLE; see `check_connected`.
        let interest = Interest::READABLE | Interest::WRITABLE;
        poll.registry().register(&mut socket, SOCKET, interest)?;
        let mut c = MioClient {
            poll,
            events: Events::with_capacity(16),
            socket,
            client: Client::new(config, clock::now()),
            connected: false,
            unsent: Vec::new(),
            interest,
            buf: vec![0; READ_BUFFER_SIZE],
            pending: VecDeque::new(),
        };
        c.wait_for(|e| matches!(e, Event::Established(_)))?;
        Ok(c)
    }

    /// The core client, e.g. to check its state.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// What MMS Initiate negotiated.
    pub fn negotiated(&self) -> &Negotiated {
        self.client.negotiated()
    }

    /// Send a request built by `send` (given the client and the current time) and wait for its
    /// answer: `client.request(|c, now| c.status(now))`.
    pub fn request(
        &mut self,
        send: impl FnOnce(&mut Client, Instant) -> Result<u32, ApiError>,
    ) -> Result<ConfirmedResponse, ClientError> {
        let id = send(&mut self.client, clock::now())?;
        let event =
            self.wait_for(|e| matches!(e, Event::Response { invoke_id, .. } if *invoke_id == id))?;
        match event {
            Event::Response { result, .. } => result.map_err(ClientError::Request),
            // `wait_for` returns only events the predicate accepted.
            other => Err(ClientError::Closed(closed_error(&other))),
        }
    }

    /// Identify: the server's vendor, model and revision.
    pub fn identify(&mut self) -> Result<IdentifyResponse, ClientError> {
        match self.request(|c, now| c.identify(now))? {
            ConfirmedResponse::Identify(i) => Ok(i),
            other => Err(ClientError::UnexpectedResponse(Box::new(other))),
        }
    }

    /// Read named variables: one result per name, in order.
    pub fn read(&mut self, names: &[ObjectName]) -> Result<Vec<AccessResult>, ClientError> {
        match self.request(|c, now| c.read(now, names))? {
            ConfirmedResponse::Read(r) => Ok(r.results),
            other => Err(ClientError::UnexpectedResponse(Box::new(other))),
        }
    }

    /// Release the association in order (MMS Conclude, then ACSE release) and close the socket.
    pub fn conclude(&mut self) -> Result<(), ClientError> {
        self.client.conclude(clock::now())?;
        match self.wait_for(|e| matches!(e, Event::Closed(_)))? {
            Event::Closed(None) => {
                let _ = self.socket.shutdown(std::net::Shutdown::Both);
                Ok(())
            }
            other => Err(ClientError::Closed(closed_error(&other))),
        }
    }

    /// The next event no call waited for, if one is already here.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.pull_events();
        self.pending.pop_front()
    }

    /// Wait up to `timeout` for the next event no call waited for (e.g. an InformationReport).
    /// `Ok(None)` when none came in time.
    pub fn next_event(&mut self, timeout: Duration) -> Result<Option<Event>, ClientError> {
        let end = std::time::Instant::now() + timeout;
        loop {
            if let Some(e) = self.poll_event() {
                return Ok(Some(e));
            }
            let left = end.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            self.drive(Some(left))?;
        }
    }

    /// Move core events into `pending`.
    fn pull_events(&mut self) {
        while let Some(e) = self.client.poll_event() {
            self.pending.push_back(e);
        }
    }

    /// Drive the loop until an event matching `want` arrives, and take it out of the queue.
    fn wait_for(&mut self, mut want: impl FnMut(&Event) -> bool) -> Result<Event, ClientError> {
        loop {
            self.pull_events();
            if let Some(pos) = self.pending.iter().position(&mut want) {
                if let Some(e) = self.pending.remove(pos) {
                    return Ok(e);
                }
            }
            if self.client.is_closed() {
                // Best effort: an abort the core queued on its way out.
                let _ = self.flush();
                return Err(ClientError::Closed(
                    self.client.association().error().cloned(),
                ));
            }
            self.drive(None)?;
        }
    }

    /// One turn of the loop: flush, wait for readiness or the core's deadline (or `timeout`), read,
    /// run due timers, flush.
    fn drive(&mut self, timeout: Option<Duration>) -> Result<(), ClientError> {
        self.flush()?;
        let deadline = self.client.poll_timeout();
        let wait = match (deadline.map(|d| clock::until(clock::now(), d)), timeout) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        match self.poll.poll(&mut self.events, wait) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
        let now = clock::now();
        let ready = !self.events.is_empty();
        if ready && !self.connected {
            self.check_connected()?;
        }
        if ready && self.connected {
            self.read_all(now);
        }
        if deadline.is_some_and(|d| d <= now) {
            self.client.handle_timeout(now);
        }
        self.flush()
    }

    /// A non-blocking connect finished when the socket turns writable with no error and a peer.
    fn check_connected(&mut self) -> Result<(), ClientError> {
        if let Some(e) = self.socket.take_error()? {
            self.client.handle_transport_closed();
            return Err(e.into());
        }
        match self.socket.peer_addr() {
            Ok(_) => {
                self.connected = true;
                let _ = self.socket.set_nodelay(true);
                Ok(())
            }
            // Spurious wakeup: still connecting.
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
            Err(e) => {
                self.client.handle_transport_closed();
                Err(e.into())
            }
        }
    }

    fn read_all(&mut self, now: Instant) {
        loop {
            match read_some(&mut self.socket, &mut self.buf) {
                ReadOutcome::Data(n) => self.client.handle_input(now, &self.buf[..n]),
                ReadOutcome::WouldBlock => return,
                ReadOutcome::Closed => {
                    self.client.handle_transport_closed();
                    return;
                }
            }
        }
    }

    /// Write what the core has for the server; WRITABLE interest while anything is left.
    fn flush(&mut self) -> Result<(), ClientError> {
        if !self.connected {
            return Ok(());
        }
        self.client.poll_transmit(&mut self.unsent);
        if let Err(e) = write_out(&mut self.socket, &mut self.unsent) {
            self.client.handle_transport_closed();
            return Err(e.into());
        }
        let want = if self.unsent.is_empty() {
            Interest::READABLE
        } else {
            Interest::READABLE | Interest::WRITABLE
        };
        if want != self.interest {
            self.poll
                .registry()
                .reregister(&mut self.socket, SOCKET, want)?;
            self.interest = want;
        }
        Ok(())
    }
}

/// The error carried by a `Closed` event (`None` for anything else).
fn closed_error(e: &Event) -> Option<AssocError> {
    match e {
        Event::Closed(err) => err.clone(),
        _ => None,
    }
}

impl fmt::Debug for MioClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MioClient")
            .field("socket", &self.socket)
            .field("connected", &self.connected)
            .field("established", &self.client.is_established())
            .finish_non_exhaustive()
    }
}
