//! [`MioEndpoint`]: a listener and its sockets feeding one [`Endpoint`], registered in the
//! caller's [`mio::Poll`]; [`MioServer`]: the same with a `Poll` of its own.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use mio::event::Event;
use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Registry, Token};
use tase2_core::record::{RecordSink, RecordStartError};
use tase2_core::server::{ConnectionId, Endpoint, Hooks, NoHooks, ServerConfig, ServerEvent, Vmd};
use tase2_core::std_clock;

use crate::recording::IdleFlush;
use crate::socket::Socket;
use crate::{read_some, write_out, ReadOutcome, READ_BUFFER_SIZE};

/// How long the last bytes of an ended association may wait for a peer that does not read them
/// before the socket is closed anyway.
pub const CLOSE_LINGER: Duration = Duration::from_secs(5);

pub use tase2_driver_util::{KEEPALIVE_IDLE, KEEPALIVE_INTERVAL, KEEPALIVE_RETRIES};

/// One accepted socket.
struct Conn {
    socket: Socket,
    id: ConnectionId,
    /// Bytes the endpoint gave us that the socket has not taken yet. The next batch is taken
    /// from the endpoint only once this is empty: what a slow reader has not taken stays in the
    /// endpoint, where `ServerConfig::max_queued_output` bounds it (input is held, transfer
    /// sets keep their changes and report the latest values once the reader catches up).
    unsent: Vec<u8>,
    /// What the socket is registered for; WRITABLE only while `unsent` is not empty.
    interest: Interest,
    /// The endpoint reported the association closed: close once `unsent` is flushed (or after
    /// [`CLOSE_LINGER`] from this moment).
    closing: Option<std::time::Instant>,
    /// Reading stopped early because the endpoint held the input (its output for this peer is
    /// backed up); re-arm READABLE once it wants input again.
    read_paused: bool,
    /// Reads or writes failed: the socket is useless.
    broken: bool,
}

/// A TASE.2 / MMS server as a part of the caller's [`mio`] loop: a [`TcpListener`] and its
/// sockets feeding one [`Endpoint`] (the data model plus every association). `H` is the
/// endpoint's [`Hooks`]: [`NoHooks`] for plain MMS, `Tase2` for a TASE.2 server.
///
/// # The loop
///
/// [`Self::register`] it once with the first of the tokens it may use (it takes that token and
/// every one above: the listener, then one per socket), then on every turn:
///
/// 1. wait with [`Self::timeout`] as (part of) the `Poll` timeout,
/// 2. pass each event whose token [`Self::owns`] to [`Self::handle_ready`],
/// 3. call [`Self::handle_timeout`] (it does nothing before the endpoint's deadline),
/// 4. drain [`Self::poll_event`],
/// 5. after changing the endpoint from outside ([`Self::endpoint_mut`]: point updates,
///    information messages, operate answers), call [`Self::flush`] to send what that queued.
///
/// `handle_ready` and `handle_timeout` flush themselves. A socket is closed once its association
/// reported [`ServerEvent::Closed`] and its last bytes are out (or after [`CLOSE_LINGER`]). A
/// socket takes its next batch of output from the endpoint only once it wrote the previous one,
/// so what a slow reader has not taken stays in the endpoint, bounded by
/// `ServerConfig::max_queued_output` (its transfer sets hold back reports and keep the changes);
/// while the endpoint holds its input (`Endpoint::wants_input`) the socket is not read: a peer
/// that does not read its answers is not served more requests. Beyond the endpoint's association
/// limit a new socket is closed at once. A flush visits the sockets that were read, written or
/// accepted since the last one and the connections the endpoint reports with new output
/// (`Endpoint::poll_ready`), not every socket.
pub struct MioEndpoint<H: Hooks = NoHooks> {
    listener: TcpListener,
    endpoint: Endpoint<H>,
    /// Where the listener and the sockets are registered (a clone of the caller's registry).
    registry: Option<Registry>,
    /// The listener's token; sockets take the ones above it.
    first: Token,
    conns: HashMap<Token, Conn>,
    tokens: HashMap<ConnectionId, Token>,
    next_token: usize,
    /// Sockets whose state changed since the last flush (read, written, accepted, closing) or
    /// whose connection has new output: a flush visits these, not every socket.
    dirty: Vec<Token>,
    /// Sockets waiting to close (their association ended): checked for linger on every flush.
    closing: Vec<Token>,
    buf: Vec<u8>,
    out: VecDeque<ServerEvent<H::Event>>,
    idle_flush: IdleFlush,
    keepalive: Option<Duration>,
    #[cfg(feature = "tls")]
    tls: Option<crate::tls::ServerTls>,
}

impl MioEndpoint<NoHooks> {
    /// Listen on `addr` (port 0 picks a free one; see [`Self::local_addr`]) and serve `model` as
    /// plain MMS.
    pub fn bind(addr: SocketAddr, config: ServerConfig, model: Vmd) -> io::Result<Self> {
        Self::with_endpoint(addr, Endpoint::new(config, model))
    }
}

impl<H: Hooks> MioEndpoint<H> {
    /// Listen on `addr` and serve an endpoint built by the caller (e.g. by `Tase2Builder`).
    pub fn with_endpoint(addr: SocketAddr, endpoint: Endpoint<H>) -> io::Result<Self> {
        Ok(Self::with_listener(TcpListener::bind(addr)?, endpoint))
    }

    /// Serve an endpoint on a listener the caller made (its socket options, e.g. the buffer
    /// sizes accepted sockets inherit, or a listener passed in by a supervisor).
    pub fn with_listener(listener: TcpListener, endpoint: Endpoint<H>) -> Self {
        MioEndpoint {
            listener,
            endpoint,
            registry: None,
            first: Token(0),
            conns: HashMap::new(),
            tokens: HashMap::new(),
            next_token: 1,
            dirty: Vec::new(),
            closing: Vec::new(),
            buf: vec![0; READ_BUFFER_SIZE],
            out: VecDeque::new(),
            idle_flush: IdleFlush::default(),
            keepalive: Some(KEEPALIVE_IDLE),
            #[cfg(feature = "tls")]
            tls: None,
        }
    }

    /// Serve secure ICCP (IEC 62351-4) from now on: every socket accepted runs a TLS handshake
    /// first (see [`crate::tls`]). Called again with a new configuration (reloaded CRLs, say),
    /// it also re-checks every live TLS connection: one whose client certificate fails the new
    /// configuration is closed (`AdmissionEvent::TransportRefused` says why), the others renew
    /// their TLS 1.3 traffic keys; a connection still in its handshake finishes under the old
    /// one. Sends what that queued (the KeyUpdates) before it returns.
    #[cfg(feature = "tls")]
    pub fn set_tls(
        &mut self,
        tls: crate::tls::ServerTls,
    ) -> io::Result<crate::tls::TlsReloadReport> {
        let now = std_clock::now();
        let mut report = crate::tls::TlsReloadReport::default();
        for (token, conn) in &mut self.conns {
            if conn.closing.is_some() || conn.broken {
                continue;
            }
            let Some(r) = conn.socket.recheck(&tls) else {
                continue;
            };
            report.checked += 1;
            match r {
                crate::tls::Recheck::Refused(why) => {
                    report.closed += 1;
                    // Nothing more for it: the endpoint closes the association.
                    conn.unsent.clear();
                    self.endpoint.transport_refused(now, conn.id, &why);
                }
                crate::tls::Recheck::Renewed => report.renewed += 1,
                crate::tls::Recheck::Kept => {}
            }
            self.dirty.push(*token);
        }
        self.tls = Some(tls);
        self.flush()?;
        Ok(report)
    }

    /// TCP keepalive on every socket accepted from now on: probes start after `idle` without
    /// traffic, then every [`KEEPALIVE_INTERVAL`], and after [`KEEPALIVE_RETRIES`] unanswered ones
    /// the kernel reports the connection broken (the socket errors and the association ends).
    /// This is how a peer that vanished without a FIN (power loss, a cable, a NAT that forgot
    /// us) is noticed by an association that only sends reports rarely or only receives. `None`
    /// turns it off. Default: [`KEEPALIVE_IDLE`] (60 s).
    pub fn set_keepalive(&mut self, idle: Option<Duration>) {
        self.keepalive = idle;
    }

    /// Record the endpoint into `sink` (e.g. [`record_file`](crate::record_file); see
    /// `tase2_core::record`): call it before the first socket is accepted. `start` is the clock
    /// the model was built with (its initial time stamps), `setup_kind` and `setup` what a replay
    /// needs to build the same endpoint, `producer` who wrote the log. Changes through
    /// [`Self::endpoint_mut`] are recorded as long as they use the endpoint's recordable calls
    /// (not `model_mut`, `hooks_mut` or `with_outbox`). The recording is flushed at most 100 ms
    /// after each activity (from [`Self::handle_timeout`], which [`Self::timeout`] wakes for)
    /// and when the endpoint is dropped.
    pub fn record(
        &mut self,
        start: tase2_core::Instant,
        setup_kind: &str,
        setup: Vec<u8>,
        producer: &str,
        sink: Box<dyn RecordSink>,
    ) -> Result<(), RecordStartError> {
        self.endpoint
            .record(start, setup_kind, setup, producer, sink)
    }

    /// Write out what the endpoint's recording buffers.
    pub fn flush_recording(&mut self) {
        self.endpoint.flush_recording();
    }

    /// Register the listener in `registry` under `first`; accepted sockets take the tokens above
    /// it (`first + 1`, `first + 2`, ...), so give the server the top of your token space.
    pub fn register(&mut self, registry: &Registry, first: Token) -> io::Result<()> {
        registry.register(&mut self.listener, first, Interest::READABLE)?;
        self.registry = Some(registry.try_clone()?);
        self.first = first;
        self.next_token = first.0 + 1;
        Ok(())
    }

    /// Whether `token` is one of this server's (the listener's or a socket's).
    pub fn owns(&self, token: Token) -> bool {
        self.registry.is_some() && token.0 >= self.first.0
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The endpoint: the model and the associations.
    pub fn endpoint(&self) -> &Endpoint<H> {
        &self.endpoint
    }

    /// The endpoint, to update points, send reports or answer operates; then [`Self::flush`].
    pub fn endpoint_mut(&mut self) -> &mut Endpoint<H> {
        &mut self.endpoint
    }

    /// Number of sockets open (associations plus sockets still flushing their last bytes).
    pub fn open_sockets(&self) -> usize {
        self.conns.len()
    }

    /// The next event the endpoint reported, in order.
    pub fn poll_event(&mut self) -> Option<ServerEvent<H::Event>> {
        self.out.pop_front()
    }

    /// How long the loop may wait before [`Self::handle_timeout`] has work: the endpoint's next
    /// deadline, or a lingering socket's close.
    pub fn timeout(&self) -> Option<Duration> {
        let deadline = self
            .endpoint
            .poll_timeout()
            .map(|d| std_clock::until(std_clock::now(), d));
        let linger = self
            .closing
            .iter()
            .filter_map(|t| self.conns.get(t)?.closing)
            .min()
            .map(|t| (t + CLOSE_LINGER).saturating_duration_since(std::time::Instant::now()));
        deadline
            .into_iter()
            .chain(linger)
            .chain(self.idle_flush.timeout())
            .min()
    }

    /// Handle one readiness event of ours (see [`Self::owns`]): accept on the listener, or read
    /// and write a socket; then flush.
    pub fn handle_ready(&mut self, event: &Event) -> io::Result<()> {
        let now = std_clock::now();
        if event.token() == self.first {
            self.accept_all(now)?;
        } else {
            let gone = event.is_error() || event.is_read_closed() || event.is_write_closed();
            self.handle_socket(
                now,
                event.token(),
                event.is_readable() || gone,
                event.is_writable(),
                gone,
            );
        }
        self.idle_flush.touch(self.endpoint.is_recording());
        self.flush_now()
    }

    /// Run the endpoint's timers if their deadline passed, then flush (closing lingering sockets).
    /// Call it after every wakeup.
    pub fn handle_timeout(&mut self) -> io::Result<()> {
        let now = std_clock::now();
        if self.endpoint.poll_timeout().is_some_and(|d| d <= now) {
            self.endpoint.handle_timeout(now);
            self.idle_flush.touch(self.endpoint.is_recording());
        }
        if self.idle_flush.take_due() {
            self.endpoint.flush_recording();
        }
        self.flush_now()
    }

    /// Collect the endpoint's events and transmits, write what the sockets take, and close the
    /// sockets whose associations ended. Call it after changing the endpoint from outside.
    pub fn flush(&mut self) -> io::Result<()> {
        // Every change to the endpoint from outside is followed by a flush: what it recorded
        // goes to the file soon.
        self.idle_flush.touch(self.endpoint.is_recording());
        self.flush_now()
    }

    /// [`Self::flush`] without scheduling a flush of the recording (a wakeup with nothing new
    /// must not schedule the next one).
    fn flush_now(&mut self) -> io::Result<()> {
        let now = std_clock::now();
        self.collect_events();
        let Some(registry) = &self.registry else {
            return Ok(());
        };
        // Work proportional to what changed: the sockets this turn touched and the connections
        // the endpoint reports with new output, not every socket of the server.
        while let Some(id) = self.endpoint.poll_ready() {
            if let Some(&t) = self.tokens.get(&id) {
                self.dirty.push(t);
            }
        }
        self.dirty.sort_unstable();
        self.dirty.dedup();
        let mut broken = Vec::new();
        for token in self.dirty.drain(..) {
            let Some(conn) = self.conns.get_mut(&token) else {
                continue;
            };
            // Until the socket took the last batch, the output stays in the endpoint, where it
            // counts toward `ServerConfig::max_queued_output` (transfer sets then hold back and
            // keep changes).
            if conn.unsent.is_empty() {
                self.endpoint.poll_transmit(conn.id, &mut conn.unsent);
            }
            if conn.broken {
                conn.unsent.clear();
            } else if write_out(&mut conn.socket, &mut conn.unsent).is_err() {
                conn.broken = true;
                conn.unsent.clear();
            }
            if conn.broken && conn.closing.is_none() {
                broken.push(conn.id);
            }
            let over = !self.endpoint.wants_input(conn.id);
            let want = if over {
                Interest::WRITABLE
            } else if conn.unsent.is_empty() && !conn.socket.tls_pending() {
                Interest::READABLE
            } else {
                Interest::READABLE | Interest::WRITABLE
            };
            // Re-registering re-arms the edge, so bytes left unread while paused are reported.
            let resume = conn.read_paused && !over;
            if (want != conn.interest || resume) && !conn.broken {
                registry.reregister(&mut conn.socket, token, want)?;
                conn.interest = want;
                conn.read_paused &= !resume;
            }
        }
        for id in broken {
            self.endpoint.handle_transport_closed(now, id);
        }
        self.collect_events();
        let Some(registry) = &self.registry else {
            return Ok(());
        };
        let conns = &self.conns;
        let mut done = Vec::new();
        self.closing.retain(|t| {
            let Some(c) = conns.get(t) else {
                return false;
            };
            let over = c.closing.is_some_and(|since| {
                (c.unsent.is_empty() && !c.socket.tls_pending())
                    || c.broken
                    || since.elapsed() >= CLOSE_LINGER
            });
            if over {
                done.push(*t);
            }
            !over
        });
        for token in done {
            if let Some(mut conn) = self.conns.remove(&token) {
                self.tokens.remove(&conn.id);
                // Forget anything the endpoint still holds for it (it is closed; this frees it).
                self.endpoint.poll_transmit(conn.id, &mut Vec::new());
                let _ = registry.deregister(&mut conn.socket);
                let _ = conn.socket.shutdown(std::net::Shutdown::Both);
            }
        }
        Ok(())
    }

    fn collect_events(&mut self) {
        while let Some(e) = self.endpoint.poll_event() {
            if let ServerEvent::Closed { id, .. } = &e {
                if let Some(&t) = self.tokens.get(id) {
                    if let Some(conn) = self.conns.get_mut(&t) {
                        if conn.closing.is_none() {
                            conn.closing = Some(std::time::Instant::now());
                            self.closing.push(t);
                        }
                        self.dirty.push(t);
                    }
                }
            }
            self.out.push_back(e);
        }
    }

    fn accept_all(&mut self, now: tase2_core::Instant) -> io::Result<()> {
        let Some(registry) = &self.registry else {
            return Ok(());
        };
        loop {
            let (socket, _peer) = match self.listener.accept() {
                Ok(s) => s,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::Interrupted | io::ErrorKind::ConnectionAborted
                    ) =>
                {
                    continue
                }
                // Out of file descriptors and the like: keep serving the sockets we have and
                // try again on the next readiness.
                Err(_) => return Ok(()),
            };
            let source = socket.peer_addr().map(|a| a.ip());
            let opened = match source {
                Ok(ip) => self.endpoint.open_from(now, ip),
                Err(_) => self.endpoint.open(now),
            };
            let Ok(id) = opened else {
                // Its source holds too many connections: refuse by closing (dropping) the socket.
                continue;
            };
            // Requests and responses are small and latency-bound.
            let _ = socket.set_nodelay(true);
            // Best effort: a socket without keepalive is still served.
            if let Some(idle) = self.keepalive {
                let _ = tase2_driver_util::set_keepalive(socket2::SockRef::from(&socket), idle);
            }
            #[cfg(feature = "tls")]
            let mut socket = match &self.tls {
                Some(tls) => {
                    let who = format!("connection {} from {}", id.0, _peer);
                    match crate::tls::TlsSocket::server(socket, tls, who) {
                        Ok(t) => Socket::Tls(Box::new(t)),
                        Err(e) => {
                            let why = format!("TLS not started: {e}");
                            self.endpoint.transport_refused(now, id, &why);
                            continue;
                        }
                    }
                }
                None => Socket::Plain(socket),
            };
            #[cfg(not(feature = "tls"))]
            let mut socket = Socket::Plain(socket);
            let token = Token(self.next_token);
            self.next_token += 1;
            registry.register(&mut socket, token, Interest::READABLE)?;
            self.tokens.insert(id, token);
            self.dirty.push(token);
            self.conns.insert(
                token,
                Conn {
                    socket,
                    id,
                    unsent: Vec::new(),
                    interest: Interest::READABLE,
                    closing: None,
                    read_paused: false,
                    broken: false,
                },
            );
        }
    }

    fn handle_socket(
        &mut self,
        now: tase2_core::Instant,
        token: Token,
        readable: bool,
        writable: bool,
        gone: bool,
    ) {
        let Some(conn) = self.conns.get_mut(&token) else {
            return;
        };
        self.dirty.push(token);
        if writable && !conn.broken && write_out(&mut conn.socket, &mut conn.unsent).is_err() {
            conn.broken = true;
        }
        if !readable || conn.broken {
            return;
        }
        // Edge-triggered: read until the socket would block (or readiness is lost), unless the
        // answers pile up; `flush` re-arms READABLE once they drain. A short read of plain TCP
        // has emptied the receive queue (what comes later raises a new edge), so it ends the
        // loop without the `recv` that would only say `EAGAIN`: one `recv` per pipelined batch.
        // Not so for TLS (rustls may hold plaintext) or when the peer's FIN is already known.
        let short_read_drains = !gone && matches!(conn.socket, crate::socket::Socket::Plain(_));
        loop {
            match read_some(&mut conn.socket, &mut self.buf) {
                ReadOutcome::Data(n) => {
                    if let Some(identity) = conn.socket.take_identity() {
                        self.endpoint.authenticate(now, conn.id, identity);
                    }
                    self.endpoint.handle_input(now, conn.id, &self.buf[..n]);
                    // The endpoint holds input while its output for this peer is backed up.
                    if !self.endpoint.wants_input(conn.id) {
                        conn.read_paused = true;
                        break;
                    }
                    if short_read_drains && n < self.buf.len() {
                        break;
                    }
                }
                ReadOutcome::WouldBlock => break,
                ReadOutcome::Closed => {
                    if let Some(why) = conn.socket.take_refusal() {
                        // Closed by the endpoint with its event: the flush sees the
                        // association closing and does not report the transport again.
                        self.endpoint.transport_refused(now, conn.id, &why);
                    }
                    conn.broken = true;
                    break;
                }
            }
        }
    }
}

impl<H: Hooks> std::fmt::Debug for MioEndpoint<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MioEndpoint")
            .field("listener", &self.listener)
            .field("open_sockets", &self.conns.len())
            .finish_non_exhaustive()
    }
}

/// A [`MioEndpoint`] on a [`Poll`] of its own: a server that is the whole loop (run it on a thread
/// of its own if the program has other work). [`Self::run_once`] waits for readiness or the next
/// deadline and handles everything; [`Self::run_until`] loops until an event the caller waits for.
pub struct MioServer<H: Hooks = NoHooks> {
    poll: Poll,
    events: Events,
    server: MioEndpoint<H>,
    /// The opt-in busy-poll, with the readiness events seen so far.
    spin: Option<(tase2_driver_util::SpinWindow, u64)>,
}

impl MioServer<NoHooks> {
    /// Listen on `addr` (port 0 picks a free one; see [`Self::local_addr`]) and serve `model` as
    /// plain MMS.
    pub fn bind(addr: SocketAddr, config: ServerConfig, model: Vmd) -> io::Result<Self> {
        Self::with_endpoint(addr, Endpoint::new(config, model))
    }
}

impl<H: Hooks> MioServer<H> {
    /// Listen on `addr` and serve an endpoint built by the caller (e.g. by `Tase2Builder`).
    pub fn with_endpoint(addr: SocketAddr, endpoint: Endpoint<H>) -> io::Result<Self> {
        Self::with_listener(TcpListener::bind(addr)?, endpoint)
    }

    /// Serve an endpoint on a listener the caller made; see [`MioEndpoint::with_listener`]. A
    /// `std::net::TcpListener` converts with `TcpListener::from_std` once it is non-blocking.
    pub fn with_listener(listener: TcpListener, endpoint: Endpoint<H>) -> io::Result<Self> {
        let poll = Poll::new()?;
        let mut server = MioEndpoint::with_listener(listener, endpoint);
        server.register(poll.registry(), Token(0))?;
        Ok(MioServer {
            poll,
            events: Events::with_capacity(256),
            server,
            spin: None,
        })
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.server.local_addr()
    }

    /// Record the endpoint; see [`MioEndpoint::record`].
    pub fn record(
        &mut self,
        start: tase2_core::Instant,
        setup_kind: &str,
        setup: Vec<u8>,
        producer: &str,
        sink: Box<dyn RecordSink>,
    ) -> Result<(), RecordStartError> {
        self.server.record(start, setup_kind, setup, producer, sink)
    }

    /// Write out what the endpoint's recording buffers.
    pub fn flush_recording(&mut self) {
        self.server.flush_recording();
    }

    /// TCP keepalive on the sockets accepted from now on; see [`MioEndpoint::set_keepalive`].
    pub fn set_keepalive(&mut self, idle: Option<Duration>) {
        self.server.set_keepalive(idle);
    }

    /// Busy-poll (opt-in, off by default): for `window` after the last readiness event,
    /// [`Self::run_once`] polls without waiting, so a pipelining client's next batch is read
    /// without a sleep and a wake-up of the thread in between. It costs the thread's core while
    /// traffic flows and at most `window` of spinning after it stops; see
    /// [`tase2_driver_util::SpinWindow`]. `None` or a zero window: wait as usual.
    pub fn set_busy_poll(&mut self, window: Option<Duration>) {
        self.spin = window
            .filter(|w| !w.is_zero())
            .map(|w| (tase2_driver_util::SpinWindow::new(w), 0));
    }

    /// Serve TLS from now on, or reload its configuration; see [`MioEndpoint::set_tls`].
    #[cfg(feature = "tls")]
    pub fn set_tls(
        &mut self,
        tls: crate::tls::ServerTls,
    ) -> io::Result<crate::tls::TlsReloadReport> {
        self.server.set_tls(tls)
    }

    /// The endpoint: the model and the associations.
    pub fn endpoint(&self) -> &Endpoint<H> {
        self.server.endpoint()
    }

    /// The endpoint, to update points, send reports or answer operates. Bytes this queues go out
    /// on the next [`Self::run_once`]; call [`Self::flush`] to send them now.
    pub fn endpoint_mut(&mut self) -> &mut Endpoint<H> {
        self.server.endpoint_mut()
    }

    /// Number of sockets open (associations plus sockets still flushing their last bytes).
    pub fn open_sockets(&self) -> usize {
        self.server.open_sockets()
    }

    /// The next event the endpoint reported, in order.
    pub fn poll_event(&mut self) -> Option<ServerEvent<H::Event>> {
        self.server.poll_event()
    }

    /// Wait once for readiness, at most `timeout` (`None`: until something happens or the endpoint's
    /// next deadline), and handle everything that is ready. Events queue up for [`Self::poll_event`].
    pub fn run_once(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        let mut wait = self.server.timeout().into_iter().chain(timeout).min();
        if let Some((window, seen)) = &mut self.spin {
            if window.keep_spinning(*seen, std::time::Instant::now()) {
                wait = Some(Duration::ZERO);
            }
        }
        match self.poll.poll(&mut self.events, wait) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
        if let Some((_, seen)) = &mut self.spin {
            if !self.events.is_empty() {
                *seen = seen.wrapping_add(1);
            }
        }
        for event in &self.events {
            self.server.handle_ready(event)?;
        }
        self.server.handle_timeout()
    }

    /// Run until `stop` returns true for an event, and return that event. `stop` sees every event
    /// in order; the ones it lets pass are not kept.
    pub fn run_until(
        &mut self,
        mut stop: impl FnMut(&ServerEvent<H::Event>) -> bool,
    ) -> io::Result<ServerEvent<H::Event>> {
        loop {
            while let Some(e) = self.server.poll_event() {
                if stop(&e) {
                    return Ok(e);
                }
            }
            self.run_once(None)?;
        }
    }

    /// Send what changes to the endpoint from outside queued (e.g. a point update's reports) now
    /// instead of on the next [`Self::run_once`].
    pub fn flush(&mut self) -> io::Result<()> {
        self.server.flush()
    }
}

impl<H: Hooks> std::fmt::Debug for MioServer<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MioServer")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}
