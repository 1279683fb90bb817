//! An in-memory simulator for testing TASE.2 applications without sockets: one server
//! [`Endpoint`] and any number of clients (TASE.2 [`Session`]s, or plain MMS [`Client`](crate::client::Client)s) pumped
//! together on a virtual clock, with scripted network faults.
//!
//! **Deterministic by construction.** The clock only moves when [`Sim::step`] finds nothing left
//! to deliver, and then it jumps straight to the earliest deadline: a timer of either side, a
//! write arriving over a slow link, or the end of a stall (quinn-proto's `Pair::drive` shape).
//! Anything random (jitter, chunk sizes) is drawn from [`SimRng`], seeded by [`Sim::with_seed`]:
//! the same seed gives the same run, event for event. An hour of transfer set reports runs in a
//! fraction of a second of real time.
//!
//! # Method families
//!
//! - set up: [`Sim::new`], [`Sim::with_seed`], [`Sim::connect`] / [`Sim::connect_with`] (drive
//!   until the association is up), [`Sim::open_with`] (not yet driven), [`Sim::on_server_event`]
//!   (the server-side application, called for every [`ServerEvent`]);
//! - drive: [`Sim::deliver`] (move bytes, clock still), [`Sim::step`], [`Sim::advance`] (let
//!   virtual time pass), and for sessions [`Sim::start`], [`Sim::wait`], [`Sim::run`];
//! - faults: [`Sim::set_link`] (latency, jitter, delivery in small pieces), [`Sim::disconnect`]
//!   (the connection drops: both sides hear it), [`Sim::stall_server`] and [`Sim::stall_client`]
//!   (a side stops reading, writing and keeping time; what was sent to it queues up and arrives,
//!   in order, when the stall ends), [`Sim::restart_server`] (the endpoint replaced by a fresh
//!   one: every client's transport closes) and [`Sim::reconnect_with`];
//! - look: [`Sim::client`], [`Sim::take_events`], [`Sim::server_events`], [`Sim::trace`].
//!
//! ```
//! use core::time::Duration;
//! use tase2_core::assoc::{AssociationConfig, RequestError};
//! use tase2_core::mms::ObjectName;
//! use tase2_core::server::{ServerConfig, ServerEvent};
//! use tase2_core::sim::{LinkConfig, Sim};
//! use tase2_core::tase2::client::{Command, Error, Outcome, SessionConfig};
//! use tase2_core::tase2::server::{Tase2Builder, Tase2Config};
//! use tase2_core::tase2::{Family, Form, PointType, PointValue, Unlisted, Value};
//! use tase2_core::Instant;
//!
//! // A server with one VCC point, open to any client, and one client.
//! let config = Tase2Config { unlisted: Unlisted::VccOnly, ..Tase2Config::default() };
//! let mut b = Tase2Builder::new(config);
//! let real = PointType::Indication(Family::Real, Form::QTimeTag);
//! b.point(None, "Freq", real, PointValue::real(50.0)).unwrap();
//! let server = b.build(ServerConfig::default()).unwrap();
//! let mut sim = Sim::new(server, Instant::virtual_at(Duration::ZERO, 1_700_000_000)).with_seed(7);
//! let c = sim.connect(AssociationConfig::default(), SessionConfig::default());
//! let read = || Command::ReadPoints { names: vec![ObjectName::vmd("Freq")] };
//! sim.run(c, read()).unwrap(); // learns the point's type (one more round trip, the first time)
//!
//! // A slow link that hands over a few octets at a time: the same answer, one round trip later.
//! sim.set_link(c, LinkConfig { latency: Duration::from_millis(40), max_chunk: 3, ..Default::default() });
//! let t = sim.now;
//! let Ok(Outcome::Points(v)) = sim.run(c, read()) else { panic!() };
//! assert_eq!(v[0].as_ref().unwrap().value, Value::Real(50.0));
//! assert_eq!(sim.now.saturating_duration_since(t), Duration::from_millis(80));
//!
//! // The server stalls for 30 s: the read times out after the default 10 s request timeout.
//! sim.stall_server(Duration::from_secs(30));
//! assert_eq!(sim.run(c, read()), Err(Error::Request(RequestError::Timeout)));
//!
//! // The connection drops: the client hears it, and so does the server (once it runs again).
//! sim.disconnect(c);
//! assert!(sim.client(c).session.is_closed());
//! let closed = |sim: &Sim<_>| sim.server_events().iter().any(|e| matches!(e, ServerEvent::Closed { .. }));
//! assert!(!closed(&sim), "still stalled");
//! sim.advance(Duration::from_secs(20));
//! assert!(closed(&sim));
//! ```

mod link;
mod peer;
mod rng;

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::time::Duration;

pub use link::{Delivery, Direction, LinkConfig};
pub use peer::Peer;
pub use rng::SimRng;

use crate::assoc::AssociationConfig;
use crate::server::{ConnectionId, Endpoint, Hooks, ServerEvent};
use crate::tase2::client::{Command, Error, OpId, Outcome, Session, SessionConfig, SessionEvent};
use crate::time::Instant;
use link::Link;

/// The seed of a simulator nobody seeded (any fixed value would do: runs only have to repeat).
pub const DEFAULT_SEED: u64 = 0x7a5e_2000_0000_0001;

/// The server-side application [`Sim::on_server_event`] installs.
type ServerApp<H> = Box<dyn FnMut(Instant, &mut Endpoint<H>, &ServerEvent<<H as Hooks>::Event>)>;

/// One simulated client.
#[derive(Debug)]
pub struct SimClient<P: Peer = Session> {
    /// Its connection on the server.
    pub conn: ConnectionId,
    /// The client side: a TASE.2 session, or a plain MMS client.
    pub session: P,
    /// Every event it raised, in order (tests take what they look for).
    pub events: Vec<P::Event>,
    /// The transport is up (false after [`Sim::disconnect`] or [`Sim::restart_server`]).
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
    /// Every server event, in order (across restarts).
    pub server_events: Vec<ServerEvent<H::Event>>,
    /// Upper bound of [`Sim::step`] calls one [`Sim::run`] may make before giving up: a scenario
    /// that never finishes fails instead of hanging.
    pub max_steps: usize,
    /// The link a new client gets (ideal unless changed); [`Sim::set_link`] changes one client's.
    pub default_link: LinkConfig,
    /// Every piece of bytes handed to a receiver, when `Some` (off by default: a long run would
    /// keep them all). For checking when things arrived, and that two runs were the same.
    pub trace: Option<Vec<Delivery>>,
    /// Where the link's random choices come from. A scenario may draw from it too (its choices
    /// then follow the seed as well).
    pub rng: SimRng,
    /// Parallel to `clients`; grown on demand, since tests may push a [`SimClient`] themselves.
    links: Vec<Link>,
    /// The server reads, writes and keeps time again at this instant.
    server_stalled_until: Option<Instant>,
    /// Connections cut while the server was stalled: it hears of them when it runs again.
    pending_closes: Vec<ConnectionId>,
    app: Option<ServerApp<H>>,
}

impl<H: Hooks, P: Peer> Sim<H, P> {
    /// A simulator around `server`, its clock starting at `now`, ideal links, seeded with
    /// [`DEFAULT_SEED`].
    pub fn new(server: Endpoint<H>, now: Instant) -> Sim<H, P> {
        Sim {
            now,
            server,
            clients: Vec::new(),
            server_events: Vec::new(),
            max_steps: 100_000,
            default_link: LinkConfig::default(),
            trace: None,
            rng: SimRng::new(DEFAULT_SEED),
            links: Vec::new(),
            server_stalled_until: None,
            pending_closes: Vec::new(),
            app: None,
        }
    }

    /// The same simulator with its random choices drawn from `seed`.
    pub fn with_seed(mut self, seed: u64) -> Sim<H, P> {
        self.rng = SimRng::new(seed);
        self
    }

    /// Install the server-side application: `f` hears every [`ServerEvent`] as the server raises
    /// it, with the clock and the endpoint to act on (answer an operate, update points). The
    /// event is still kept in [`Sim::server_events`]. The application outlives
    /// [`Sim::restart_server`] (it stands for the process, not for the endpoint's state).
    pub fn on_server_event(
        &mut self,
        f: impl FnMut(Instant, &mut Endpoint<H>, &ServerEvent<H::Event>) + 'static,
    ) {
        self.app = Some(Box::new(f));
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
        self.sync_links();
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
        self.settle(i);
        i
    }

    /// Replace client `i` by a new client side made by `make`, on a new connection (its old one
    /// is cut first if still up), and drive until its association is up or refused. Its events
    /// so far are kept; the new side's follow them.
    ///
    /// # Panics
    ///
    /// When the server has no room for another association.
    pub fn reconnect_with(&mut self, i: usize, make: impl FnOnce(Instant) -> P) {
        self.disconnect(i);
        let conn = self
            .server
            .open(self.now)
            .expect("the server accepts another association");
        let c = &mut self.clients[i];
        c.conn = conn;
        c.session = make(self.now);
        c.connected = true;
        self.links[i].reset();
        self.settle(i);
    }

    fn settle(&mut self, i: usize) {
        for _ in 0..self.max_steps {
            if self.clients[i].session.is_settled() || !self.step() {
                break;
            }
        }
    }

    /// Client `i`.
    pub fn client(&mut self, i: usize) -> &mut SimClient<P> {
        &mut self.clients[i]
    }

    /// Every server event so far, in order.
    pub fn server_events(&self) -> &[ServerEvent<H::Event>] {
        &self.server_events
    }

    /// Client `i`'s link from now on (bytes already in flight keep their arrival times).
    pub fn set_link(&mut self, i: usize, config: LinkConfig) {
        self.sync_links();
        self.links[i].config = config;
    }

    /// Octets in flight to the server (`Direction::ToServer`) or to client `i`, queued on a slow
    /// link or behind a stall.
    pub fn in_flight(&mut self, i: usize, direction: Direction) -> usize {
        self.sync_links();
        match direction {
            Direction::ToServer => self.links[i].up.in_flight(),
            Direction::ToClient => self.links[i].down.in_flight(),
        }
    }

    /// The server stops for `d` from now (a long garbage collection, a blocked thread, a VM
    /// paused): it reads nothing, sends nothing and fires no timer. What the clients send waits
    /// on their links; when the stall ends the server's overdue timers fire, then it reads
    /// everything, in order. A stall already running is extended, never shortened.
    pub fn stall_server(&mut self, d: Duration) {
        let end = self.now + d;
        self.server_stalled_until = Some(self.server_stalled_until.map_or(end, |u| u.max(end)));
    }

    /// Client `i` stops for `d` from now, as [`Self::stall_server`] does for the server: reports
    /// and answers sent to it queue up and reach it in order when the stall ends.
    pub fn stall_client(&mut self, i: usize, d: Duration) {
        self.sync_links();
        let end = self.now + d;
        let s = &mut self.links[i].stalled_until;
        *s = Some(s.map_or(end, |u| u.max(end)));
    }

    /// Whether the server is stalled now.
    pub fn is_server_stalled(&self) -> bool {
        stalled(self.server_stalled_until, self.now)
    }

    /// Whether client `i` is stalled now.
    pub fn is_client_stalled(&self, i: usize) -> bool {
        self.links
            .get(i)
            .is_some_and(|l| stalled(l.stalled_until, self.now))
    }

    /// The server crashes and comes back as the endpoint `make` builds (given the clock): the old
    /// one is dropped without a word (a crash sends nothing), every connected client hears its
    /// transport close, and bytes in flight are lost. Clients then connect again with
    /// [`Self::reconnect_with`] (or [`Self::connect_with`] for new ones). A stall of the old
    /// server ends with it.
    pub fn restart_server(&mut self, make: impl FnOnce(Instant) -> Endpoint<H>) {
        self.sync_links();
        let now = self.now;
        self.server = make(now);
        self.server_stalled_until = None;
        self.pending_closes.clear();
        for (c, link) in self.clients.iter_mut().zip(&mut self.links) {
            link.reset();
            if c.connected {
                c.connected = false;
                c.session.handle_transport_closed(now);
            }
            while let Some(e) = c.session.poll_event() {
                c.events.push(e);
            }
        }
        self.deliver();
    }

    fn sync_links(&mut self) {
        while self.links.len() < self.clients.len() {
            self.links.push(Link::new(self.default_link));
        }
    }

    fn record(&mut self, client: usize, direction: Direction, len: usize) {
        if let Some(t) = &mut self.trace {
            t.push(Delivery {
                at: self.now,
                client,
                direction,
                len,
            });
        }
    }

    /// Deliver every byte due by now on either side, without moving the clock. Returns whether
    /// anything moved.
    pub fn deliver(&mut self) -> bool {
        self.sync_links();
        let now = self.now;
        let mut any = false;
        let mut buf = Vec::new();
        loop {
            let mut moved = false;
            let server_up = !self.is_server_stalled();
            // Clients write.
            for (c, link) in self.clients.iter_mut().zip(&mut self.links) {
                if !c.connected || stalled(link.stalled_until, now) {
                    continue;
                }
                buf.clear();
                if c.session.poll_transmit(&mut buf) > 0 {
                    moved = true;
                    link.up.send(now, &buf, &link.config, &mut self.rng);
                }
            }
            // The server reads, then writes.
            if server_up {
                for id in core::mem::take(&mut self.pending_closes) {
                    moved = true;
                    self.server.handle_transport_closed(now, id);
                }
                for i in 0..self.clients.len() {
                    if !self.clients[i].connected {
                        continue;
                    }
                    let conn = self.clients[i].conn;
                    while let Some(piece) = self.links[i].up.pop_due(now) {
                        moved = true;
                        self.server.handle_input(now, conn, &piece);
                        self.record(i, Direction::ToServer, piece.len());
                    }
                }
                for (c, link) in self.clients.iter_mut().zip(&mut self.links) {
                    if !c.connected {
                        continue;
                    }
                    buf.clear();
                    if self.server.poll_transmit(c.conn, &mut buf) > 0 {
                        moved = true;
                        link.down.send(now, &buf, &link.config, &mut self.rng);
                    }
                }
            }
            // Clients read.
            for i in 0..self.clients.len() {
                if !self.clients[i].connected || stalled(self.links[i].stalled_until, now) {
                    continue;
                }
                while let Some(piece) = self.links[i].down.pop_due(now) {
                    moved = true;
                    self.clients[i].session.handle_input(now, &piece);
                    self.record(i, Direction::ToClient, piece.len());
                }
            }
            for c in &mut self.clients {
                while let Some(e) = c.session.poll_event() {
                    c.events.push(e);
                }
            }
            while let Some(e) = self.server.poll_event() {
                if let Some(app) = &mut self.app {
                    app(now, &mut self.server, &e);
                    // What the application did (an answer, an update) may have bytes to send.
                    moved = true;
                }
                self.server_events.push(e);
            }
            if !moved {
                return any;
            }
            any = true;
        }
    }

    /// The earliest deadline: a timer of the server or a connected client, bytes arriving over a
    /// link, or a stall ending (a stalled side's own timers wait for its stall to end).
    pub fn next_deadline(&self) -> Option<Instant> {
        let now = self.now;
        let server_stall = self.server_stalled_until.filter(|u| *u > now);
        let mut next = match server_stall {
            Some(end) => Some(end),
            None => self.server.poll_timeout(),
        };
        let mut consider = |at: Option<Instant>| {
            if let Some(at) = at {
                next = Some(next.map_or(at, |n| n.min(at)));
            }
        };
        for (i, c) in self.clients.iter().enumerate() {
            if !c.connected {
                continue;
            }
            let Some(link) = self.links.get(i) else {
                consider(c.session.poll_timeout());
                continue;
            };
            let client_stall = link.stalled_until.filter(|u| *u > now);
            match client_stall {
                Some(end) => consider(Some(end)),
                None => {
                    consider(c.session.poll_timeout());
                    consider(link.down.next_arrival());
                }
            }
            if server_stall.is_none() {
                consider(link.up.next_arrival());
            }
        }
        next
    }

    /// One step: deliver what is waiting; if nothing was, jump the clock to the next deadline and
    /// fire it. Returns false when there is nothing to deliver and no deadline.
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
        let now = self.now;
        // Timers before input: a side back from a stall first finds its overdue timers (the
        // answer sitting unread in its buffer came too late for them).
        if !self.is_server_stalled() {
            self.server.handle_timeout(now);
        }
        for (i, c) in self.clients.iter_mut().enumerate() {
            let stalled = self
                .links
                .get(i)
                .is_some_and(|l| stalled(l.stalled_until, now));
            if c.connected && !stalled && c.session.poll_timeout().is_some_and(|d| d <= now) {
                c.session.handle_timeout(now);
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
        if !self.is_server_stalled() {
            self.server.handle_timeout(self.now);
        }
        self.deliver();
    }

    /// Cut client `i`'s transport (a cable pulled, a firewall reset): bytes in flight are lost
    /// and both sides hear that it closed, the client at once and the server at once too (a
    /// stalled server hears it when it runs again: the next [`Self::deliver`] after its stall).
    pub fn disconnect(&mut self, i: usize) {
        self.sync_links();
        let now = self.now;
        let server_stalled = self.is_server_stalled();
        let c = &mut self.clients[i];
        if !c.connected {
            return;
        }
        c.connected = false;
        self.links[i].reset();
        c.session.handle_transport_closed(now);
        if server_stalled {
            self.pending_closes.push(c.conn);
        } else {
            self.server.handle_transport_closed(now, c.conn);
        }
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

/// Whether a side stalled until `until` is still stalled at `now`.
fn stalled(until: Option<Instant>, now: Instant) -> bool {
    until.is_some_and(|u| u > now)
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

    /// Replace client `i` by a new TASE.2 session on a new connection (see
    /// [`Self::reconnect_with`]), typically after [`Self::restart_server`] or
    /// [`Self::disconnect`].
    pub fn reconnect(&mut self, i: usize, association: AssociationConfig, config: SessionConfig) {
        self.reconnect_with(i, |now| Session::new(association, config, now))
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
