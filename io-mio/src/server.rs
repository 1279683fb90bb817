//! [`MioServer`]: a listener and its sockets feeding one [`Endpoint`].

use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use tase2_core::server::{ConnectionId, Endpoint, ServerConfig, ServerEvent, Vmd};

use crate::{clock, read_some, write_out, ReadOutcome, READ_BUFFER_SIZE};

const LISTENER: Token = Token(0);

/// Output buffered for one socket beyond which the server stops reading from it until the peer
/// catches up: a client that sends requests and never reads the answers cannot grow the server's
/// memory without bound. It is checked after each read (up to [`READ_BUFFER_SIZE`] octets), so a
/// burst may overshoot by the answers to one read's worth of requests.
pub const MAX_UNSENT: usize = 1 << 20;

/// How long the last bytes of an ended association may wait for a peer that does not read them
/// before the socket is closed anyway.
pub const CLOSE_LINGER: Duration = Duration::from_secs(5);

/// One accepted socket.
struct Conn {
    socket: TcpStream,
    id: ConnectionId,
    /// Bytes the endpoint gave us that the socket has not taken yet.
    unsent: Vec<u8>,
    /// What the socket is registered for; WRITABLE only while `unsent` is not empty.
    interest: Interest,
    /// The endpoint reported the association closed: close once `unsent` is flushed (or after
    /// [`CLOSE_LINGER`] from this moment).
    closing: Option<std::time::Instant>,
    /// Reading stopped early because `unsent` reached [`MAX_UNSENT`]; re-arm READABLE once it drains.
    read_paused: bool,
    /// Reads or writes failed: the socket is useless.
    broken: bool,
}

/// A TASE.2 / MMS server on a single-threaded [`mio`] loop.
///
/// It owns a [`TcpListener`] and the [`Endpoint`] (data model plus every association). Each call to
/// [`Self::run_once`] waits for socket readiness or the endpoint's next deadline, then:
///
/// 1. accepts new sockets (each gets [`Endpoint::open`]; beyond the association limit the socket is
///    closed at once),
/// 2. reads every readable socket until it would block, passing the bytes to
///    [`Endpoint::handle_input`] (end of stream or an error becomes
///    [`Endpoint::handle_transport_closed`]),
/// 3. runs [`Endpoint::handle_timeout`] when the deadline passed,
/// 4. drains [`Endpoint::poll_event`] into its own queue ([`Self::poll_event`]) and
///    [`Endpoint::poll_transmit`] into a per-socket buffer, writes what the socket takes and asks
///    for WRITABLE readiness while anything is left,
/// 5. closes a socket once its association reported [`ServerEvent::Closed`] and its last bytes are
///    out (or after [`CLOSE_LINGER`]).
///
/// While more than [`MAX_UNSENT`] bytes wait for a socket, it is not read: a peer that does not
/// read its answers is not served more requests.
pub struct MioServer {
    poll: Poll,
    events: Events,
    listener: TcpListener,
    endpoint: Endpoint,
    conns: HashMap<Token, Conn>,
    tokens: HashMap<ConnectionId, Token>,
    next_token: usize,
    buf: Vec<u8>,
    out: VecDeque<ServerEvent>,
}

impl MioServer {
    /// Listen on `addr` (port 0 picks a free one; see [`Self::local_addr`]) and serve `model`.
    pub fn bind(addr: SocketAddr, config: ServerConfig, model: Vmd) -> io::Result<Self> {
        Self::with_endpoint(addr, Endpoint::new(config, model))
    }

    /// Listen on `addr` and serve an endpoint built by the caller.
    pub fn with_endpoint(addr: SocketAddr, endpoint: Endpoint) -> io::Result<Self> {
        let poll = Poll::new()?;
        let mut listener = TcpListener::bind(addr)?;
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)?;
        Ok(MioServer {
            poll,
            events: Events::with_capacity(256),
            listener,
            endpoint,
            conns: HashMap::new(),
            tokens: HashMap::new(),
            next_token: 1,
            buf: vec![0; READ_BUFFER_SIZE],
            out: VecDeque::new(),
        })
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The endpoint: the model and the associations.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The endpoint, to change the model or send reports. Bytes this queues go out on the next
    /// [`Self::run_once`]; call [`Self::flush`] to send them now.
    pub fn endpoint_mut(&mut self) -> &mut Endpoint {
        &mut self.endpoint
    }

    /// Number of sockets open (associations plus sockets still flushing their last bytes).
    pub fn open_sockets(&self) -> usize {
        self.conns.len()
    }

    /// The next event the endpoint reported, in order.
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.out.pop_front()
    }

    /// Wait once for readiness, at most `timeout` (`None`: until something happens or the endpoint's
    /// next deadline), and handle everything that is ready. Events queue up for [`Self::poll_event`].
    pub fn run_once(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        let deadline = self.endpoint.poll_timeout();
        let linger = self
            .conns
            .values()
            .filter_map(|c| c.closing)
            .min()
            .map(|t| (t + CLOSE_LINGER).saturating_duration_since(std::time::Instant::now()));
        let wait = [
            deadline.map(|d| clock::until(clock::now(), d)),
            linger,
            timeout,
        ]
        .into_iter()
        .flatten()
        .min();
        match self.poll.poll(&mut self.events, wait) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
        let now = clock::now();
        let ready: Vec<(Token, bool, bool)> = self
            .events
            .iter()
            .map(|e| {
                let gone = e.is_error() || e.is_read_closed() || e.is_write_closed();
                (e.token(), e.is_readable() || gone, e.is_writable())
            })
            .collect();
        for (token, readable, writable) in ready {
            if token == LISTENER {
                self.accept_all(now)?;
            } else {
                self.handle_socket(now, token, readable, writable);
            }
        }
        if deadline.is_some_and(|d| d <= now) {
            self.endpoint.handle_timeout(now);
        }
        self.flush()
    }

    /// Run until `stop` returns true for an event, and return that event. `stop` sees every event
    /// in order; the ones it lets pass are not kept.
    pub fn run_until(
        &mut self,
        mut stop: impl FnMut(&ServerEvent) -> bool,
    ) -> io::Result<ServerEvent> {
        loop {
            while let Some(e) = self.out.pop_front() {
                if stop(&e) {
                    return Ok(e);
                }
            }
            self.run_once(None)?;
        }
    }

    /// Collect the endpoint's events and transmits, write what the sockets take, and close the
    /// sockets whose associations ended. [`Self::run_once`] does this after every wakeup; call it
    /// after changing the endpoint from outside (e.g. sending a report).
    pub fn flush(&mut self) -> io::Result<()> {
        let now = clock::now();
        self.collect_events();
        let mut broken = Vec::new();
        for (token, conn) in &mut self.conns {
            self.endpoint.poll_transmit(conn.id, &mut conn.unsent);
            if conn.broken {
                conn.unsent.clear();
            } else if write_out(&mut conn.socket, &mut conn.unsent).is_err() {
                conn.broken = true;
                conn.unsent.clear();
            }
            if conn.broken && conn.closing.is_none() {
                broken.push(conn.id);
            }
            let over = conn.unsent.len() >= MAX_UNSENT;
            let want = if over {
                Interest::WRITABLE
            } else if conn.unsent.is_empty() {
                Interest::READABLE
            } else {
                Interest::READABLE | Interest::WRITABLE
            };
            // Re-registering re-arms the edge, so bytes left unread while paused are reported.
            let resume = conn.read_paused && !over;
            if (want != conn.interest || resume) && !conn.broken {
                self.poll
                    .registry()
                    .reregister(&mut conn.socket, *token, want)?;
                conn.interest = want;
                conn.read_paused &= !resume;
            }
        }
        for id in broken {
            self.endpoint.handle_transport_closed(now, id);
        }
        self.collect_events();
        let done: Vec<Token> = self
            .conns
            .iter()
            .filter(|(_, c)| {
                c.closing.is_some_and(|since| {
                    c.unsent.is_empty() || c.broken || since.elapsed() >= CLOSE_LINGER
                })
            })
            .map(|(&t, _)| t)
            .collect();
        for token in done {
            if let Some(mut conn) = self.conns.remove(&token) {
                self.tokens.remove(&conn.id);
                // Forget anything the endpoint still holds for it (it is closed; this frees it).
                self.endpoint.poll_transmit(conn.id, &mut Vec::new());
                let _ = self.poll.registry().deregister(&mut conn.socket);
                let _ = conn.socket.shutdown(std::net::Shutdown::Both);
            }
        }
        Ok(())
    }

    fn collect_events(&mut self) {
        while let Some(e) = self.endpoint.poll_event() {
            if let ServerEvent::Closed { id, .. } = &e {
                if let Some(conn) = self.tokens.get(id).and_then(|t| self.conns.get_mut(t)) {
                    conn.closing.get_or_insert_with(std::time::Instant::now);
                }
            }
            self.out.push_back(e);
        }
    }

    fn accept_all(&mut self, now: tase2_core::Instant) -> io::Result<()> {
        loop {
            let (mut socket, _peer) = match self.listener.accept() {
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
            let Ok(id) = self.endpoint.open(now) else {
                // Association limit reached: refuse by closing (dropping) the socket.
                continue;
            };
            // Requests and responses are small and latency-bound.
            let _ = socket.set_nodelay(true);
            let token = Token(self.next_token);
            self.next_token += 1;
            self.poll
                .registry()
                .register(&mut socket, token, Interest::READABLE)?;
            self.tokens.insert(id, token);
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
    ) {
        let Some(conn) = self.conns.get_mut(&token) else {
            return;
        };
        if writable && !conn.broken && write_out(&mut conn.socket, &mut conn.unsent).is_err() {
            conn.broken = true;
        }
        if !readable || conn.broken {
            return;
        }
        // Edge-triggered: read until the socket would block (or readiness is lost), unless the
        // answers pile up; `flush` re-arms READABLE once they drain.
        loop {
            match read_some(&mut conn.socket, &mut self.buf) {
                ReadOutcome::Data(n) => {
                    self.endpoint.handle_input(now, conn.id, &self.buf[..n]);
                    self.endpoint.poll_transmit(conn.id, &mut conn.unsent);
                    if conn.unsent.len() >= MAX_UNSENT {
                        conn.read_paused = true;
                        break;
                    }
                }
                ReadOutcome::WouldBlock => break,
                ReadOutcome::Closed => {
                    conn.broken = true;
                    break;
                }
            }
        }
    }
}

impl std::fmt::Debug for MioServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MioServer")
            .field("listener", &self.listener)
            .field("open_sockets", &self.conns.len())
            .finish_non_exhaustive()
    }
}
