//! [`MioFailoverClient`]: a TASE.2 client that reconnects, fails over to backups and fails back,
//! driven from the calling thread over [`mio`]. A thin driver of the core's sans-IO
//! [`Failover`]: the policy (which endpoint, when, what to restore, the keepalive read, the
//! connect timeout) is all the core's; this driver only opens and closes sockets, moves bytes and
//! runs the one timer, as `tase2_tokio::FailoverClient` does over tokio.
//!
//! ```no_run
//! use std::time::Duration;
//! use tase2_core::assoc::AssociationConfig;
//! use tase2_core::tase2::client::{Command, EndpointSpec, FailoverConfig, FailoverEvent, SessionEvent};
//! use tase2_mio::MioFailoverClient;
//!
//! let assoc = AssociationConfig::with_ap_titles(
//!     ("1.1.1.999".parse().unwrap(), 12),
//!     ("1.1.1.998".parse().unwrap(), 12),
//! );
//! let mut config = FailoverConfig::new(vec![
//!     EndpointSpec::new("10.0.0.1:102", assoc.clone()),
//!     EndpointSpec::new("10.0.0.2:102", assoc),
//! ]);
//! config.fail_back = Some(Duration::from_secs(10));
//! let mut c = MioFailoverClient::start(config)?;
//! let domains = c.run(Command::Domains)?;
//! while let Some(e) = c.next_event(Duration::from_secs(1))? {
//!     match e {
//!         FailoverEvent::Session(SessionEvent::Report(r)) => println!("{} values", r.values.len()),
//!         FailoverEvent::Lost { endpoint, cause } => println!("lost {endpoint}: {cause:?}"),
//!         FailoverEvent::Restored { endpoint, gap, .. } => println!("on {endpoint} after {gap:?}"),
//!         _ => {}
//!     }
//! #   break;
//! }
//! c.conclude()?;
//! # let _ = domains; Ok::<(), tase2_mio::Tase2ClientError>(())
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::net::{Shutdown, SocketAddr, ToSocketAddrs};
use std::time::Duration;

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use tase2_core::mms::ObjectName;
use tase2_core::record::{RecordSink, RecordStartError};
use tase2_core::std_clock;
use tase2_core::tase2::client::{
    Command, Error, Failover, FailoverAction, FailoverConfig, FailoverEvent, OpId, Outcome,
    SessionEvent,
};

use crate::recording::IdleFlush;
use crate::{read_some, write_out, ReadOutcome, Tase2ClientError, READ_BUFFER_SIZE};

/// How [`MioFailoverClient::start_with`] runs.
#[derive(Clone, Debug)]
pub struct MioFailoverOptions {
    /// Events kept for [`MioFailoverClient::next_event`]; when that many wait, the socket is not
    /// read until the application takes some (so a client that does not drain its events is
    /// slowed, never grown without bound), as `tase2_tokio::FailoverClient` does: a
    /// [`MioFailoverClient::run`] meanwhile cannot read its answer and ends with the request
    /// timeout. Default 1,024.
    pub event_queue: usize,
}

impl Default for MioFailoverOptions {
    fn default() -> Self {
        MioFailoverOptions { event_queue: 1024 }
    }
}

/// The transport of the current association (or the one being opened).
struct Link {
    socket: TcpStream,
    token: Token,
    endpoint: usize,
    /// The TCP connect completed and the core was told.
    connected: bool,
    /// Readiness said there may be octets to read (edge-triggered: cleared at `WouldBlock`).
    readable: bool,
    unsent: Vec<u8>,
    interest: Interest,
}

/// A short-lived connection that only checks that an endpoint accepts one.
struct ProbeSocket {
    socket: TcpStream,
    token: Token,
    endpoint: usize,
}

/// A blocking TASE.2 client that reconnects, fails over and fails back: the core's [`Failover`]
/// and a [`Poll`] of its own; every method runs the loop on the calling thread.
///
/// Each [`tase2_core::tase2::client::EndpointSpec::address`] is a `host:port` resolved with
/// [`ToSocketAddrs`] when the core asks to connect there (a name lookup blocks the loop; give
/// addresses where that matters). Commands may be run at any time: on the current association,
/// or queued for the next one while none is up (see [`Failover`]); the core's timers bound every
/// wait, so [`Self::run`] always returns. Events no call waited for (reports, information
/// messages, and the link's own: connecting, lost, restored, refreshed, failing back) are kept,
/// in order, for [`Self::next_event`].
///
/// Dropping the client aborts the association and closes the socket; [`Self::conclude`] ends it
/// in order.
pub struct MioFailoverClient {
    poll: Poll,
    events: Events,
    fo: Failover,
    addrs: Vec<String>,
    link: Option<Link>,
    probe: Option<ProbeSocket>,
    /// Sockets opened so far: each gets a token of its own, so a late readiness event of a
    /// closed socket is never taken for its successor's.
    sockets: usize,
    pending: VecDeque<FailoverEvent>,
    event_queue: usize,
    /// The operation [`Self::run`] waits for, and its result once it came.
    waiting: Option<(OpId, Option<Result<Outcome, Error>>)>,
    buf: Vec<u8>,
    recording: bool,
    idle_flush: IdleFlush,
}

impl MioFailoverClient {
    /// A client with default options; it connects to the primary on the first call that runs
    /// the loop.
    pub fn start(config: FailoverConfig) -> io::Result<Self> {
        Self::start_with(config, MioFailoverOptions::default())
    }

    /// [`Self::start`] with options. Fails only when the poll cannot be made.
    pub fn start_with(config: FailoverConfig, options: MioFailoverOptions) -> io::Result<Self> {
        let addrs = config.endpoints.iter().map(|e| e.address.clone()).collect();
        Ok(MioFailoverClient {
            poll: Poll::new()?,
            events: Events::with_capacity(16),
            fo: Failover::new(config, std_clock::now()),
            addrs,
            link: None,
            probe: None,
            sockets: 0,
            pending: VecDeque::new(),
            event_queue: options.event_queue.max(1),
            waiting: None,
            buf: vec![0; READ_BUFFER_SIZE],
            recording: false,
            idle_flush: IdleFlush::default(),
        })
    }

    /// Record the link into `sink` (e.g. [`record_file`](crate::record_file); see
    /// `tase2_core::record`): every connect, octet, timer and command across all its
    /// associations, replayable with `tase2_core::record::replay_failover` (and
    /// `tase2 replay`). Call it right after [`Self::start`], before any other call. The log is
    /// flushed at most 100 ms after each activity while a call runs the loop, and when the client
    /// is dropped.
    pub fn record(
        &mut self,
        sink: Box<dyn RecordSink>,
        producer: &str,
    ) -> Result<(), RecordStartError> {
        self.fo.record(sink, producer)?;
        self.recording = true;
        Ok(())
    }

    /// Write out what the recording buffers.
    pub fn flush_recording(&mut self) {
        self.fo.flush_recording();
        self.idle_flush.done();
    }

    /// The core link: whether it is up, on which endpoint, what it remembers.
    pub fn failover(&self) -> &Failover {
        &self.fo
    }

    /// Run `command` and wait for its outcome (on the current association, or the next one if
    /// none is up: see [`Failover`]).
    pub fn run(&mut self, command: Command) -> Result<Outcome, Tase2ClientError> {
        let op = self.fo.command(std_clock::now(), command);
        self.fed();
        self.waiting = Some((op, None));
        loop {
            self.settle()?;
            if let Some(result) = self.waiting.as_mut().and_then(|(_, r)| r.take()) {
                self.waiting = None;
                return result.map_err(Tase2ClientError::Session);
            }
            if self.fo.is_closed() {
                self.waiting = None;
                return Err(Tase2ClientError::Session(Error::Closed(None)));
            }
            self.wait(None)?;
        }
    }

    /// Acknowledge the critical report of `transfer_set` stamped `timestamp` on the current
    /// association (see [`Failover::ack`]: the report's name or the one the application first
    /// got); the octets leave with the next call that moves them ([`Self::next_event`],
    /// [`Self::run`]). Only needed with auto-acknowledgement off ([`Self::set_auto_ack`]).
    pub fn ack(
        &mut self,
        transfer_set: &ObjectName,
        timestamp: i32,
    ) -> Result<(), Tase2ClientError> {
        let r = self.fo.ack(std_clock::now(), transfer_set, timestamp);
        self.fed();
        self.settle()?;
        r.map_err(Tase2ClientError::Session)
    }

    /// Refuse the critical report of `transfer_set` (see [`Failover::nack`]).
    pub fn nack(&mut self, transfer_set: &ObjectName) -> Result<(), Tase2ClientError> {
        let r = self.fo.nack(std_clock::now(), transfer_set);
        self.fed();
        self.settle()?;
        r.map_err(Tase2ClientError::Session)
    }

    /// Acknowledge critical reports inside the session (the default of
    /// `SessionConfig::auto_ack`) or leave them to [`Self::ack`] and [`Self::nack`], on this
    /// association and every later one.
    pub fn set_auto_ack(&mut self, on: bool) {
        self.fo.set_auto_ack(std_clock::now(), on);
        self.fed();
    }

    /// Wait up to `timeout` for the next event no call waited for. `Ok(None)` when none came in
    /// time, or when the link has ended ([`Failover::is_closed`]) and every event was taken.
    pub fn next_event(
        &mut self,
        timeout: Duration,
    ) -> Result<Option<FailoverEvent>, Tase2ClientError> {
        let end = std::time::Instant::now() + timeout;
        loop {
            self.settle()?;
            if let Some(e) = self.pending.pop_front() {
                return Ok(Some(e));
            }
            let left = end.saturating_duration_since(std::time::Instant::now());
            if self.fo.is_closed() || left.is_zero() {
                return Ok(None);
            }
            self.wait(Some(left))?;
        }
    }

    /// Release the association and end the link (the application should stop its transfer sets
    /// and delete its data sets first); returns once the link has ended. Events that came
    /// meanwhile stay for [`Self::next_event`].
    pub fn conclude(&mut self) -> Result<(), Tase2ClientError> {
        self.fo.conclude(std_clock::now());
        self.fed();
        // The release's answer must be read even if the application left events waiting; the
        // association's release timeout bounds how many more can come.
        self.event_queue = usize::MAX;
        loop {
            self.settle()?;
            if self.fo.is_closed() {
                self.close_link();
                self.flush_recording();
                return Ok(());
            }
            self.wait(None)?;
        }
    }

    /// Do what the core asks, move octets, hand events out, until nothing is left to do without
    /// waiting.
    fn settle(&mut self) -> io::Result<()> {
        loop {
            self.actions();
            let mut busy = self.transmit();
            busy |= self.read();
            self.dispatch();
            if !busy {
                break;
            }
        }
        Ok(())
    }

    /// The core was given something (and recorded it): the recording goes to the file soon. Only
    /// then, so an idle client does not wake up for nothing.
    fn fed(&mut self) {
        self.idle_flush.touch(self.recording);
    }

    /// Wait for readiness or the next deadline (at most `limit`), and handle what came.
    fn wait(&mut self, limit: Option<Duration>) -> io::Result<()> {
        let now = std_clock::now();
        let deadline = self.fo.poll_timeout().map(|d| std_clock::until(now, d));
        let timeout = deadline
            .into_iter()
            .chain(limit)
            .chain(self.idle_flush.timeout())
            .min();
        match self.poll.poll(&mut self.events, timeout) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
        let ready: Vec<(Token, bool, bool)> = self
            .events
            .iter()
            .map(|e| {
                let readable = e.is_readable() || e.is_read_closed() || e.is_error();
                (e.token(), readable, e.is_writable() || e.is_error())
            })
            .collect();
        if !ready.is_empty() {
            self.fed();
        }
        for (token, readable, writable) in ready {
            self.ready(token, readable, writable);
        }
        let now = std_clock::now();
        if self.fo.poll_timeout().is_some_and(|d| d <= now) {
            self.fo.handle_timeout(now);
            self.fed();
        }
        if self.idle_flush.take_due() {
            self.fo.flush_recording();
        }
        Ok(())
    }

    /// A readiness event of `token`.
    fn ready(&mut self, token: Token, readable: bool, writable: bool) {
        if let Some(p) = self.probe.as_ref().filter(|p| p.token == token) {
            let up = match connect_state(&p.socket) {
                ConnectState::Pending => return,
                ConnectState::Connected => true,
                ConnectState::Failed => false,
            };
            let endpoint = p.endpoint;
            self.close_probe();
            self.fo.handle_probe(std_clock::now(), endpoint, up);
            return;
        }
        let Some(link) = self.link.as_mut().filter(|l| l.token == token) else {
            return;
        };
        if !link.connected {
            if !writable && !readable {
                return;
            }
            match connect_state(&link.socket) {
                ConnectState::Pending => {}
                ConnectState::Connected => {
                    link.connected = true;
                    // Something may have come with the connect: try once.
                    link.readable = true;
                    // Requests and responses are small and latency-bound.
                    let _ = link.socket.set_nodelay(true);
                    let endpoint = link.endpoint;
                    self.fo.handle_connected(std_clock::now(), endpoint);
                }
                ConnectState::Failed => {
                    let endpoint = link.endpoint;
                    self.drop_link();
                    self.fo.handle_connect_failed(std_clock::now(), endpoint);
                }
            }
            return;
        }
        link.readable |= readable;
    }

    /// Obey the core's actions.
    fn actions(&mut self) {
        while let Some(a) = self.fo.poll_action() {
            match a {
                FailoverAction::Connect { endpoint } => {
                    self.drop_link();
                    match self.open(endpoint) {
                        Ok((socket, token)) => {
                            self.link = Some(Link {
                                socket,
                                token,
                                endpoint,
                                connected: false,
                                readable: false,
                                unsent: Vec::new(),
                                interest: Interest::READABLE | Interest::WRITABLE,
                            })
                        }
                        Err(_) => self.fo.handle_connect_failed(std_clock::now(), endpoint),
                    }
                }
                FailoverAction::Disconnect => self.close_link(),
                FailoverAction::Probe { endpoint } => {
                    self.close_probe();
                    match self.open(endpoint) {
                        Ok((socket, token)) => {
                            self.probe = Some(ProbeSocket {
                                socket,
                                token,
                                endpoint,
                            })
                        }
                        Err(_) => self.fo.handle_probe(std_clock::now(), endpoint, false),
                    }
                }
            }
        }
    }

    /// Start a non-blocking connect to `endpoint`, registered for both readinesses (WRITABLE
    /// says the connect finished, one way or the other).
    fn open(&mut self, endpoint: usize) -> io::Result<(TcpStream, Token)> {
        let addr = resolve(self.addrs.get(endpoint).map_or("", String::as_str))?;
        let mut socket = TcpStream::connect(addr)?;
        self.sockets = self.sockets.wrapping_add(1);
        let token = Token(self.sockets);
        self.poll.registry().register(
            &mut socket,
            token,
            Interest::READABLE | Interest::WRITABLE,
        )?;
        Ok((socket, token))
    }

    /// Write what the core has for the current transport; `true` if the core may have new
    /// actions (it gave octets, or the transport failed and it was told).
    fn transmit(&mut self) -> bool {
        let Some(link) = self.link.as_mut().filter(|l| l.connected) else {
            return false;
        };
        let mut given = 0;
        while let n @ 1.. = self.fo.poll_transmit(&mut link.unsent) {
            given += n;
        }
        if given > 0 {
            self.idle_flush.touch(self.recording);
        }
        if write_out(&mut link.socket, &mut link.unsent).is_err() {
            self.drop_link();
            self.fo.handle_transport_closed(std_clock::now());
            return true;
        }
        let want = if link.unsent.is_empty() {
            Interest::READABLE
        } else {
            Interest::READABLE | Interest::WRITABLE
        };
        if want != link.interest {
            if self
                .poll
                .registry()
                .reregister(&mut link.socket, link.token, want)
                .is_err()
            {
                self.drop_link();
                self.fo.handle_transport_closed(std_clock::now());
                return true;
            }
            link.interest = want;
        }
        // Octets taken may free the core's next actions (a closed session's last octets go
        // before its Disconnect).
        given > 0
    }

    /// Read what the current transport has, while the event queue has room; `true` if anything
    /// was given to the core.
    fn read(&mut self) -> bool {
        let mut fed = false;
        while self.pending.len() < self.event_queue {
            let Some(link) = self.link.as_mut().filter(|l| l.connected && l.readable) else {
                break;
            };
            let now = std_clock::now();
            match read_some(&mut link.socket, &mut self.buf) {
                ReadOutcome::Data(n) => {
                    self.fo.handle_input(now, &self.buf[..n]);
                    self.dispatch();
                }
                ReadOutcome::WouldBlock => {
                    link.readable = false;
                    break;
                }
                ReadOutcome::Closed => {
                    self.drop_link();
                    self.fo.handle_transport_closed(now);
                }
            }
            fed = true;
        }
        if fed {
            self.fed();
        }
        fed
    }

    /// Hand the core's events out: the result [`Self::run`] waits for, the rest queued.
    fn dispatch(&mut self) {
        while let Some(e) = self.fo.poll_event() {
            match e {
                FailoverEvent::Session(SessionEvent::Done { op, result }) => {
                    if let Some((want, slot)) = &mut self.waiting {
                        if *want == op {
                            *slot = Some(result);
                        }
                    }
                }
                e => self.pending.push_back(e),
            }
        }
    }

    /// Close the current transport as the core asked: anything the core still gives for it goes
    /// out first, as far as the socket takes it (an abort's PDU, say).
    fn close_link(&mut self) {
        if let Some(mut link) = self.link.take() {
            if link.connected {
                while self.fo.poll_transmit(&mut link.unsent) > 0 {}
                let _ = write_out(&mut link.socket, &mut link.unsent);
                let _ = link.socket.shutdown(Shutdown::Write);
            }
            let _ = self.poll.registry().deregister(&mut link.socket);
        }
    }

    /// Forget the current transport (it failed).
    fn drop_link(&mut self) {
        if let Some(mut link) = self.link.take() {
            let _ = self.poll.registry().deregister(&mut link.socket);
        }
    }

    fn close_probe(&mut self) {
        if let Some(mut p) = self.probe.take() {
            let _ = self.poll.registry().deregister(&mut p.socket);
        }
    }
}

impl Drop for MioFailoverClient {
    fn drop(&mut self) {
        if !self.fo.is_closed() {
            self.fo.abort(std_clock::now());
        }
        self.close_link();
        self.close_probe();
        self.fo.flush_recording();
    }
}

impl fmt::Debug for MioFailoverClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MioFailoverClient")
            .field("failover", &self.fo)
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

/// The first address `host:port` resolves to.
fn resolve(address: &str) -> io::Result<SocketAddr> {
    address
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no address"))
}

enum ConnectState {
    Pending,
    Connected,
    Failed,
}

/// Where a non-blocking connect stands once its socket turned ready: done when there is no error
/// and a peer; a spurious wakeup leaves it pending.
fn connect_state(socket: &TcpStream) -> ConnectState {
    match socket.take_error() {
        Ok(None) => {}
        Ok(Some(_)) | Err(_) => return ConnectState::Failed,
    }
    match socket.peer_addr() {
        Ok(_) => ConnectState::Connected,
        Err(e) if e.kind() == io::ErrorKind::NotConnected => ConnectState::Pending,
        Err(_) => ConnectState::Failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tase2_core::assoc::AssociationConfig;
    use tase2_core::tase2::client::{AttemptError, EndpointSpec};

    fn association() -> AssociationConfig {
        AssociationConfig::with_ap_titles(
            ("1.1.1.999".parse().unwrap(), 12),
            ("1.1.1.998".parse().unwrap(), 12),
        )
    }

    #[test]
    fn a_refused_connect_and_an_unresolvable_address_are_failed_attempts() {
        // A port nobody listens on: bound, then closed.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = FailoverConfig::new(vec![
            EndpointSpec::new(format!("127.0.0.1:{port}"), association()),
            EndpointSpec::new("no port here", association()),
        ]);
        let mut c = MioFailoverClient::start(config).unwrap();
        let mut failed = Vec::new();
        let mut waiting = false;
        while !waiting {
            match c.next_event(Duration::from_secs(10)).unwrap() {
                Some(FailoverEvent::AttemptFailed { endpoint, cause }) => {
                    failed.push((endpoint, cause))
                }
                Some(FailoverEvent::Waiting { round, .. }) => {
                    assert_eq!(round, 1);
                    waiting = true;
                }
                Some(_) => {}
                None => panic!("no events: {failed:?}"),
            }
        }
        assert_eq!(
            failed,
            [(0, AttemptError::Transport), (1, AttemptError::Transport)]
        );
        // The link has no association: concluding ends it at once.
        c.conclude().unwrap();
        assert!(c.failover().is_closed());
        assert!(matches!(
            c.run(Command::Version),
            Err(Tase2ClientError::Session(Error::Closed(None)))
        ));
    }

    #[test]
    fn the_core_connect_timeout_ends_an_attempt_that_never_completes() {
        // A listener whose accept queue is full: the kernel drops further SYNs, so a connect
        // to it neither completes nor fails, as to a dead host.
        let l = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        l.bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
            .unwrap();
        l.listen(0).unwrap();
        let addr = l.local_addr().unwrap().as_socket().unwrap();
        let fillers: Vec<_> = (0..4)
            .filter_map(|_| {
                std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).ok()
            })
            .collect();
        assert!(!fillers.is_empty());
        let mut config =
            FailoverConfig::new(vec![EndpointSpec::new(addr.to_string(), association())]);
        config.connect_timeout = Duration::from_millis(300);
        let mut c = MioFailoverClient::start(config).unwrap();
        loop {
            match c.next_event(Duration::from_secs(10)).unwrap() {
                Some(FailoverEvent::AttemptFailed { endpoint, cause }) => {
                    assert_eq!((endpoint, cause), (0, AttemptError::ConnectTimeout));
                    break;
                }
                Some(FailoverEvent::Up { .. }) => panic!("up through a full accept queue"),
                Some(_) => {}
                None => panic!("no attempt failed"),
            }
        }
        // The core's Disconnect closed the socket of the timed-out attempt.
        assert!(c.link.is_none());
    }
}
