//! An in-memory simulator: one server [`Endpoint`] and any number of TASE.2 client [`Session`]s
//! pumped together on a virtual clock, with no sockets and no sleeps.
//!
//! Deterministic by construction: the clock only moves when [`Sim::step`] finds nothing left to
//! deliver, and then it jumps straight to the earliest deadline of either side (quinn-proto's
//! `Pair::drive` shape). A ten-minute transfer set scenario runs in milliseconds, the same way
//! every time.
//!
//! ```
//! use core::time::Duration;
//! use tase2_core::assoc::AssociationConfig;
//! use tase2_core::server::{Endpoint, ServerConfig, Vmd};
//! use tase2_core::sim::Sim;
//! use tase2_core::tase2::client::{Command, SessionConfig};
//! use tase2_core::Instant;
//!
//! let server = Endpoint::new(ServerConfig::default(), Vmd::default());
//! let mut sim = Sim::new(server, Instant::virtual_at(Duration::ZERO, 1_700_000_000));
//! let c = sim.connect(AssociationConfig::default(), SessionConfig::default());
//! assert!(sim.client(c).session.is_established());
//! // A plain MMS server has no TASE2_Version: the operation fails, typed.
//! assert!(sim.run(c, Command::Version).is_err());
//! ```

use alloc::vec::Vec;
use core::time::Duration;

use crate::assoc::AssociationConfig;
use crate::client::Client;
use crate::server::{ConnectionId, Endpoint, Hooks, ServerEvent};
use crate::tase2::client::{Command, Error, OpId, Outcome, Session, SessionConfig, SessionEvent};
use crate::time::Instant;

/// A client side the simulator can pump: the TASE.2 [`Session`] or the plain MMS [`Client`].
pub trait Peer {
    /// What it reports.
    type Event;
    /// Bytes to send, appended to `buf`.
    fn poll_transmit(&mut self, buf: &mut Vec<u8>) -> usize;
    /// Bytes received.
    fn handle_input(&mut self, now: Instant, data: &[u8]);
    /// A deadline passed.
    fn handle_timeout(&mut self, now: Instant);
    /// The transport closed.
    fn handle_transport_closed(&mut self, now: Instant);
    /// The next deadline.
    fn poll_timeout(&self) -> Option<Instant>;
    /// The next event.
    fn poll_event(&mut self) -> Option<Self::Event>;
    /// Whether the association is up, or has ended (connect stops waiting then).
    fn is_settled(&self) -> bool;
}

impl Peer for Session {
    type Event = SessionEvent;
    fn poll_transmit(&mut self, buf: &mut Vec<u8>) -> usize {
        Session::poll_transmit(self, buf)
    }
    fn handle_input(&mut self, now: Instant, data: &[u8]) {
        Session::handle_input(self, now, data)
    }
    fn handle_timeout(&mut self, now: Instant) {
        Session::handle_timeout(self, now)
    }
    fn handle_transport_closed(&mut self, now: Instant) {
        Session::handle_transport_closed(self, now)
    }
    fn poll_timeout(&self) -> Option<Instant> {
        Session::poll_timeout(self)
    }
    fn poll_event(&mut self) -> Option<SessionEvent> {
        Session::poll_event(self)
    }
    fn is_settled(&self) -> bool {
        self.is_established() || self.is_closed()
    }
}

impl Peer for Client {
    type Event = crate::assoc::Event;
    fn poll_transmit(&mut self, buf: &mut Vec<u8>) -> usize {
        Client::poll_transmit(self, buf)
    }
    fn handle_input(&mut self, now: Instant, data: &[u8]) {
        Client::handle_input(self, now, data)
    }
    fn handle_timeout(&mut self, now: Instant) {
        Client::handle_timeout(self, now)
    }
    fn handle_transport_closed(&mut self, _now: Instant) {
        Client::handle_transport_closed(self)
    }
    fn poll_timeout(&self) -> Option<Instant> {
        Client::poll_timeout(self)
    }
    fn poll_event(&mut self) -> Option<crate::assoc::Event> {
        Client::poll_event(self)
    }
    fn is_settled(&self) -> bool {
        self.is_established() || self.is_closed()
    }
}

/// One simulated client.
#[derive(Debug)]
pub struct SimClient<P: Peer = Session> {
    /// Its connection on the server.
    pub conn: ConnectionId,
    /// The client side: a TASE.2 session, or a plain MMS client.
    pub session: P,
    /// Every event it raised, in order (tests take what they look for).
    pub events: Vec<P::Event>,
    /// The transport is up (false after [`Sim::disconnect`]).
    pub connected: bool,
}

/// A server and its clients on a virtual clock. See the [module docs](self).
pub struct Sim<H: Hooks, P: Peer = Session> {
    /// The virtual clock.
    pub now: Instant,
    /// The server.
    pub server: Endpoint<H>,
    /// The clients, by the index [`Sim::connect`] returned.
    pub clients: Vec<SimClient<P>>,
    /// Every server event, in order.
    pub server_events: Vec<ServerEvent<H::Event>>,
    /// Upper bound of [`Sim::step`] calls one [`Sim::run`] may make before giving up: a scenario
    /// that never finishes fails instead of hanging.
    pub max_steps: usize,
}

impl<H: Hooks, P: Peer> Sim<H, P> {
    /// A simulator around `server`, its clock starting at `now`.
    pub fn new(server: Endpoint<H>, now: Instant) -> Sim<H, P> {
        Sim {
            now,
            server,
            clients: Vec::new(),
            server_events: Vec::new(),
            max_steps: 100_000,
        }
    }

    /// Open a connection on the server for a client side made by `make` (given the clock), without
    /// moving a byte yet: a test can look at or tamper with the first PDUs. Returns its index.
    ///
    /// # Panics
    ///
    /// When the server has no room for another association (a test setup mistake).
    pub fn open_with(&mut self, make: impl FnOnce(Instant) -> P) -> usize {
        let conn = self
            .server
            .open(self.now)
            .expect("the server accepts another association");
        self.clients.push(SimClient {
            conn,
            session: make(self.now),
            events: Vec::new(),
            connected: true,
        });
        self.clients.len() - 1
    }

    /// Connect a client side made by `make` (given the clock) and drive until its association is
    /// up or refused; returns its index.
    ///
    /// # Panics
    ///
    /// When the server has no room for another association (a test setup mistake).
    pub fn connect_with(&mut self, make: impl FnOnce(Instant) -> P) -> usize {
        let i = self.open_with(make);
        for _ in 0..self.max_steps {
            if self.clients[i].session.is_settled() {
                break;
            }
            if !self.step() {
                break;
            }
        }
        i
    }

    /// Client `i`.
    pub fn client(&mut self, i: usize) -> &mut SimClient<P> {
        &mut self.clients[i]
    }

    /// Deliver every byte waiting on either side, without moving the clock. Returns whether
    /// anything moved.
    pub fn deliver(&mut self) -> bool {
        let mut any = false;
        loop {
            let mut moved = false;
            let mut buf = Vec::new();
            for c in self.clients.iter_mut().filter(|c| c.connected) {
                buf.clear();
                if c.session.poll_transmit(&mut buf) > 0 {
                    moved = true;
                    self.server.handle_input(self.now, c.conn, &buf);
                }
            }
            for c in self.clients.iter_mut().filter(|c| c.connected) {
                buf.clear();
                if self.server.poll_transmit(c.conn, &mut buf) > 0 {
                    moved = true;
                    c.session.handle_input(self.now, &buf);
                }
            }
            for c in &mut self.clients {
                while let Some(e) = c.session.poll_event() {
                    c.events.push(e);
                }
            }
            while let Some(e) = self.server.poll_event() {
                self.server_events.push(e);
            }
            if !moved {
                return any;
            }
            any = true;
        }
    }

    /// The earliest deadline of the server and the connected clients.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.clients
            .iter()
            .filter(|c| c.connected)
            .filter_map(|c| c.session.poll_timeout())
            .chain(self.server.poll_timeout())
            .min()
    }

    /// One step: deliver what is waiting; if nothing was, jump the clock to the next deadline and
    /// fire it on both sides. Returns false when there is nothing to deliver and no deadline.
    pub fn step(&mut self) -> bool {
        if self.deliver() {
            return true;
        }
        let Some(at) = self.next_deadline() else {
            return false;
        };
        self.fire(at);
        true
    }

    fn fire(&mut self, at: Instant) {
        if at > self.now {
            self.now = at;
        }
        self.server.handle_timeout(self.now);
        for c in self.clients.iter_mut().filter(|c| c.connected) {
            if c.session.poll_timeout().is_some_and(|d| d <= self.now) {
                c.session.handle_timeout(self.now);
            }
        }
        self.deliver();
    }

    /// Let `d` of virtual time pass, firing every deadline on the way in order.
    pub fn advance(&mut self, d: Duration) {
        let end = self.now + d;
        self.deliver();
        // A deadline that firing does not clear would spin here for ever: bounded.
        for _ in 0..self.max_steps {
            let Some(at) = self.next_deadline().filter(|at| *at <= end) else {
                break;
            };
            self.fire(at);
        }
        self.now = end;
        self.server.handle_timeout(self.now);
        self.deliver();
    }

    /// Cut client `i`'s transport: both sides hear that it closed.
    pub fn disconnect(&mut self, i: usize) {
        let now = self.now;
        let c = &mut self.clients[i];
        if !c.connected {
            return;
        }
        c.connected = false;
        c.session.handle_transport_closed(now);
        self.server.handle_transport_closed(now, c.conn);
        self.deliver();
        let c = &mut self.clients[i];
        while let Some(e) = c.session.poll_event() {
            c.events.push(e);
        }
    }

    /// Take client `i`'s events that `f` selects, in order.
    pub fn take_events(&mut self, i: usize, mut f: impl FnMut(&P::Event) -> bool) -> Vec<P::Event> {
        let events = core::mem::take(&mut self.clients[i].events);
        let (taken, kept) = events.into_iter().partition(|e| f(e));
        self.clients[i].events = kept;
        taken
    }
}

impl<H: Hooks> Sim<H, Session> {
    /// Connect a new TASE.2 session and drive until its association is up or refused; returns
    /// its index.
    ///
    /// # Panics
    ///
    /// When the server has no room for another association (a test setup mistake).
    pub fn connect(&mut self, association: AssociationConfig, config: SessionConfig) -> usize {
        self.connect_with(|now| Session::new(association, config, now))
    }

    /// Start `command` on client `i`; returns its handle (see [`Self::wait`]).
    pub fn start(&mut self, i: usize, command: Command) -> OpId {
        let now = self.now;
        self.clients[i].session.command(now, command)
    }

    /// Step until operation `op` of client `i` is done (its event is taken from the client's
    /// events); `None` if it never finishes within [`Self::max_steps`].
    pub fn wait(&mut self, i: usize, op: OpId) -> Option<Result<Outcome, Error>> {
        for _ in 0..self.max_steps {
            let events = &mut self.clients[i].events;
            if let Some(pos) = events
                .iter()
                .position(|e| matches!(e, SessionEvent::Done { op: o, .. } if *o == op))
            {
                return match events.remove(pos) {
                    SessionEvent::Done { result, .. } => Some(result),
                    _ => None,
                };
            }
            if !self.step() {
                // Nothing left to happen: one last look.
                self.deliver();
                if !self.clients[i]
                    .events
                    .iter()
                    .any(|e| matches!(e, SessionEvent::Done { op: o, .. } if *o == op))
                {
                    return None;
                }
            }
        }
        None
    }

    /// Run `command` on client `i` to completion.
    ///
    /// # Panics
    ///
    /// When the operation never finishes (a bug in the scenario or the stack).
    pub fn run(&mut self, i: usize, command: Command) -> Result<Outcome, Error> {
        let op = self.start(i, command);
        self.wait(i, op).expect("the operation finishes")
    }
}
