//! The MMS server endpoint: one object holds the [`Vmd`] and every association.
//!
//! Like quinn's `Endpoint`, [`Endpoint`] owns the shared state so that serving a request, or sending
//! a report to many associations, needs no locks and no copies of the model. The driver only moves
//! bytes per [`ConnectionId`]:
//!
//! 1. On a new transport connection call [`Endpoint::open`]; on bytes, [`Endpoint::handle_input`];
//!    when the socket closes, [`Endpoint::handle_transport_closed`]; when the deadline from
//!    [`Endpoint::poll_timeout`] passes, [`Endpoint::handle_timeout`].
//! 2. Then drain [`Endpoint::poll_transmit`] (which names the connection each buffer is for) and
//!    [`Endpoint::poll_event`]. After [`ServerEvent::Closed`] for a connection, flush what was
//!    transmitted for it and close the socket.
//!
//! Diagnostics go through `tracing`: each connection's work runs in its association's span
//! (`association{role=Server id=N}`), see [`crate::assoc`].
//!
//! The endpoint answers every MMS service itself from the model; the application hears what clients
//! changed through [`ServerEvent`]s and changes the model through [`Endpoint::model_mut`].

mod admission;
mod hooks;
mod identity;
mod model;
mod services;
#[cfg(test)]
mod tests;

pub use admission::{AdmissionEvent, OpenError};
pub use hooks::{Ctx, Hooks, NoHooks, Outbox, WriteToken};
pub use identity::{parse_fingerprint, Fingerprint, PeerIdentity};
pub use model::{Domain, Identity, NamedVariableList, Variable, Vmd};

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, BinaryHeap, VecDeque};
use alloc::vec::Vec;
use core::cmp::Reverse;
use core::net::IpAddr;
use core::time::Duration;

use crate::acse::AssociateDiagnostic;
use crate::assoc::{
    ApiError, AssocError, AssociateRequest, Association, AssociationConfig, Event, PeerError,
    Queued,
};
use crate::deviation::Deviation;
use crate::mms::{
    Data, InformationReport, ObjectName, UnconfirmedService, VariableAccessSpecification,
};
use crate::time::Instant;

/// The longest reason [`Endpoint::transport_refused`] keeps: a peer's certificate must not
/// grow the event queue or the recording without bound through the words describing it.
const MAX_REFUSAL_REASON: usize = 200;

/// Identifies one association (one transport connection) within an [`Endpoint`].
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct ConnectionId(pub u64);

/// Decides who may associate. The default accepts everyone; TASE.2 bilateral tables plug in here.
pub type AssociatePolicy = fn(&AssociateRequest) -> Result<(), AssociateDiagnostic>;

/// Server configuration.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Template for every association: our AP-title, selectors, MMS limits, timers.
    pub association: AssociationConfig,
    /// Most associations established at once; a further client's AARQ is refused
    /// (rejected-transient) and [`AdmissionEvent::AssociationLimit`] raised.
    pub max_associations: usize,
    /// Most connections still in their handshake (transport open, association not established);
    /// when the pool is full, the oldest of them is dropped for the newcomer
    /// ([`AdmissionEvent::PendingPoolFull`]).
    pub max_pending: usize,
    /// Time a connection has from [`Endpoint::open`] to an established association
    /// ([`AdmissionEvent::HandshakeTimeout`]). Also bounds the association's own connect timeout.
    pub handshake_timeout: Duration,
    /// Most connections, pending and established, from one source address given to
    /// [`Endpoint::open_from`] ([`AdmissionEvent::SourceLimit`]).
    pub max_per_source: usize,
    /// Abort an established association that sent nothing for this long
    /// ([`AdmissionEvent::Idle`]); `None`: never. TASE.2 clients that only receive reports send
    /// nothing for long stretches, so this is off by default.
    pub idle_timeout: Option<Duration>,
    /// Most octets queued for one association. Beyond it the endpoint holds that association's
    /// input (see [`Endpoint::wants_input`]) and the hooks hold back reports (pending changes are
    /// kept, not dropped) until the driver takes the output.
    pub max_queued_output: usize,
    /// Abort an association whose queued output stayed above
    /// [`Self::max_queued_output`] this long ([`AdmissionEvent::StuckReader`]).
    pub stuck_timeout: Duration,
    /// Most members in a client-defined named variable list.
    pub max_list_members: usize,
    /// Most client-defined named variable lists per association (all scopes together).
    pub max_client_lists: usize,
    /// Most names in one GetNameList response, whatever the PDU size would allow: a long listing is
    /// paged (moreFollows) so it never holds up other requests on the association behind one huge PDU.
    pub max_names_per_response: usize,
    /// Who may associate.
    pub policy: AssociatePolicy,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            association: AssociationConfig::default(),
            max_associations: 64,
            max_pending: 128,
            handshake_timeout: Duration::from_secs(5),
            max_per_source: 16,
            idle_timeout: None,
            max_queued_output: 1024 * 1024,
            stuck_timeout: Duration::from_secs(120),
            max_list_members: 1024,
            max_client_lists: 64,
            max_names_per_response: 200,
            policy: |_| Ok(()),
        }
    }
}

/// What the server application hears; `E` is the event type of the endpoint's [`Hooks`].
#[derive(Clone, Debug, PartialEq)]
pub enum ServerEvent<E = core::convert::Infallible> {
    /// A client associated.
    Associated {
        /// The association.
        id: ConnectionId,
        /// Who it is and what it proposed.
        peer: Box<AssociateRequest>,
    },
    /// A client wrote a variable (already stored in the model).
    Written {
        /// The association.
        id: ConnectionId,
        /// The variable.
        name: ObjectName,
        /// The value written.
        value: Data,
    },
    /// A client defined a named variable list.
    ListDefined {
        /// The association.
        id: ConnectionId,
        /// The list's name.
        name: ObjectName,
    },
    /// A client deleted named variable lists.
    ListsDeleted {
        /// The association.
        id: ConnectionId,
        /// How many.
        count: u32,
    },
    /// A client's mistake, answered with the protocol's error.
    PeerError {
        /// The association.
        id: ConnectionId,
        /// What happened.
        error: PeerError,
    },
    /// The association ended (`None`: orderly release). Close the transport once its bytes are sent.
    Closed {
        /// The association.
        id: ConnectionId,
        /// Why, unless orderly.
        error: Option<AssocError>,
    },
    /// An event of the layer above MMS (the endpoint's [`Hooks`]).
    Extension(E),
    /// A connection was refused or dropped by the admission rules (see [`AdmissionEvent`]). A
    /// dropped connection also gets its [`ServerEvent::Closed`].
    Admission(AdmissionEvent),
    /// A client deviated from the standard in a way whose intent was clear; the endpoint accepted
    /// it and went on (see [`crate::deviation`]).
    Deviation {
        /// The association.
        id: ConnectionId,
        /// What the client did.
        deviation: Deviation,
    },
}

#[derive(Debug)]
pub(crate) struct Conn {
    assoc: Association,
    /// Association-specific named variable lists.
    aa_lists: BTreeMap<alloc::string::String, NamedVariableList>,
    /// Client-defined lists of any scope, for the per-association limit.
    defined: usize,
    /// Write requests whose answer the hooks deferred (bounded by the negotiated outstanding
    /// requests).
    pending_writes: Vec<hooks::PendingWrite>,
    peer: Option<Box<AssociateRequest>>,
    /// The source given to `open_from`.
    source: Option<IpAddr>,
    /// The certificate the peer authenticated with below us (`Endpoint::authenticate`).
    identity: Option<Box<PeerIdentity>>,
    /// Still in its handshake (in `Endpoint::pending`).
    pending: bool,
    /// Counted in `Endpoint::established`.
    established: bool,
    opened: Instant,
    last_input: Instant,
    /// Since when the queued output has been above the cap.
    backlog_since: Option<Instant>,
    /// Input held while the output is above the cap.
    held: Vec<u8>,
    /// The deadline this connection has in `Endpoint::timers`.
    scheduled: Option<Instant>,
    /// In `Endpoint::ready`.
    in_ready: bool,
}

impl Conn {
    /// The admission deadline: end of handshake, idle or stuck time.
    fn admission_deadline(&self, config: &ServerConfig) -> Option<Instant> {
        if self.assoc.is_closed() {
            return None;
        }
        let handshake = self.pending.then(|| self.opened + config.handshake_timeout);
        let idle = config
            .idle_timeout
            .filter(|_| self.established)
            .map(|d| self.last_input + d);
        let stuck = self.backlog_since.map(|t| t + config.stuck_timeout);
        earliest(earliest(handshake, idle), stuck)
    }

    fn deadline(&self, config: &ServerConfig) -> Option<Instant> {
        earliest(self.assoc.poll_timeout(), self.admission_deadline(config))
    }
}

/// The earlier of two optional deadlines (the first of equal ones), without an iterator: this
/// runs twice per input.
#[inline]
fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

/// The MMS server endpoint; see the [module docs](self). `H` lets a layer above MMS take part
/// (see [`Hooks`]); plain MMS uses [`NoHooks`].
#[derive(Debug)]
pub struct Endpoint<H: Hooks = NoHooks> {
    config: ServerConfig,
    model: Vmd,
    conns: BTreeMap<ConnectionId, Conn>,
    next_id: u64,
    /// Sequence of deferred writes (see [`Ctx::defer_write`]).
    next_write: u64,
    events: VecDeque<ServerEvent<H::Event>>,
    hooks: H,
    /// Connections in their handshake, oldest first.
    pending: VecDeque<ConnectionId>,
    established: usize,
    /// Connections per source address.
    sources: BTreeMap<IpAddr, usize>,
    /// Every connection's next deadline (entries whose time no longer matches the connection's
    /// `scheduled` are stale and skipped): a timeout costs work for what is due, not for every
    /// connection.
    timers: BinaryHeap<Reverse<(Instant, ConnectionId)>>,
    /// Connections with output waiting (or closed, to be forgotten), in the order they got it.
    ready: VecDeque<ConnectionId>,
    /// The latest `now` seen (for work that a call without a clock releases).
    last_now: Instant,
    /// Connections the hooks wrote to (reused buffer).
    scratch_touched: Vec<ConnectionId>,
    /// The name of the variable an inline Read is reading (reused: no allocation per read).
    #[cfg(feature = "server")]
    scratch_name: ObjectName,
    /// No connection opened and no application call yet: recording may start.
    fresh: bool,
    journal: Option<Box<crate::record::Journal>>,
}

impl Endpoint<NoHooks> {
    /// A plain MMS server for `model`.
    pub fn new(config: ServerConfig, model: Vmd) -> Self {
        Endpoint::with_hooks(config, model, NoHooks)
    }
}

impl<H: Hooks> Endpoint<H> {
    /// A server for `model` extended by `hooks`.
    pub fn with_hooks(config: ServerConfig, model: Vmd, hooks: H) -> Self {
        Endpoint {
            config,
            model,
            conns: BTreeMap::new(),
            next_id: 1,
            next_write: 0,
            events: VecDeque::new(),
            hooks,
            pending: VecDeque::new(),
            established: 0,
            sources: BTreeMap::new(),
            timers: BinaryHeap::new(),
            ready: VecDeque::new(),
            last_now: Instant::ZERO,
            scratch_touched: Vec::new(),
            #[cfg(feature = "server")]
            scratch_name: ObjectName::domain("", ""),
            fresh: true,
            journal: None,
        }
    }

    // --- recording ---

    /// Record this endpoint into `sink` (see [`crate::record`]): call it before the first
    /// connection opens. `setup_kind` and `setup` tell a replay how to build the same endpoint
    /// (the `tase2` tool stores the model's TOML); `now` is the clock the model was built with.
    pub fn record(
        &mut self,
        now: Instant,
        setup_kind: &str,
        setup: Vec<u8>,
        producer: &str,
        sink: Box<dyn crate::record::RecordSink>,
    ) -> Result<(), crate::record::RecordStartError> {
        use crate::record;
        if self.journal.is_some() {
            return Err(record::RecordStartError::AlreadyRecording);
        }
        if !self.fresh {
            return Err(record::RecordStartError::NotFresh);
        }
        let header = record::Header {
            version: record::FORMAT_VERSION,
            role: record::Role::Server,
            setup_kind: setup_kind.into(),
            setup,
            fingerprint: self.fingerprint(),
            producer: producer.into(),
            start: now,
        };
        self.journal = Some(Box::new(record::Journal::new(&header, sink)));
        Ok(())
    }

    /// Whether a recording is running.
    pub fn is_recording(&self) -> bool {
        self.journal.is_some()
    }

    /// The recording so far, if it goes to an in-memory sink (`Vec<u8>`).
    pub fn recording(&self) -> Option<&[u8]> {
        self.journal.as_ref()?.contents()
    }

    /// Write out what the recording sink buffers.
    pub fn flush_recording(&mut self) {
        if let Some(j) = &mut self.journal {
            j.flush();
        }
    }

    /// A digest of the model and the hooks' state (a recording's fingerprint).
    pub fn fingerprint(&self) -> u64 {
        let mut fp = crate::record::format::Fingerprint::new();
        let _ = core::fmt::write(&mut fp, format_args!("{:?}", self.model));
        let _ = self.hooks.digest(&mut fp);
        fp.0
    }

    pub(crate) fn log(&mut self, now: Instant, event: impl FnOnce() -> crate::record::Event) {
        self.fresh = false;
        if let Some(j) = &mut self.journal {
            j.log(now, event());
        }
    }

    pub(crate) fn log_last(&mut self, event: impl FnOnce() -> crate::record::Event) {
        self.fresh = false;
        if let Some(j) = &mut self.journal {
            j.log_last(event());
        }
    }

    /// An application call that needs no log entry of its own (not recording).
    pub(crate) fn touch(&mut self) {
        self.fresh = false;
    }

    fn unrecordable(&mut self, what: &str) {
        self.log_last(|| crate::record::Event::Unrecordable { what: what.into() });
    }

    /// The hooks.
    pub fn hooks(&self) -> &H {
        &self.hooks
    }

    /// The hooks, mutably. Work they queue (reports) goes out at the next input or timeout, or
    /// at once through [`Self::run_hooks`].
    pub(crate) fn hooks_now_mut(&mut self) -> &mut H {
        &mut self.hooks
    }

    /// The hooks, mutably. Changes made through them are not recorded (a recording logs
    /// [`Event::Unrecordable`](crate::record::Event::Unrecordable) and a replay stops there).
    pub fn hooks_mut(&mut self) -> &mut H {
        if self.journal.is_some() {
            self.unrecordable("Endpoint::hooks_mut");
        }
        &mut self.hooks
    }

    /// Let the hooks send what is due at `now` (see [`Hooks::run`]).
    pub fn run_hooks(&mut self, now: Instant) {
        self.log(now, || {
            crate::record::Event::Server(crate::record::ServerInput::RunHooks)
        });
        self.run_hooks_now(now);
    }

    pub(crate) fn run_hooks_now(&mut self, now: Instant) {
        self.with_outbox_now(|h, out| h.run(out, now));
    }

    /// Run `f` on the hooks with an [`Outbox`] to every association.
    pub fn with_outbox<R>(&mut self, f: impl FnOnce(&mut H, &mut Outbox<'_, H::Event>) -> R) -> R {
        if self.journal.is_some() {
            self.unrecordable("Endpoint::with_outbox");
        }
        self.with_outbox_now(f)
    }

    pub(crate) fn with_outbox_now<R>(
        &mut self,
        f: impl FnOnce(&mut H, &mut Outbox<'_, H::Event>) -> R,
    ) -> R {
        let mut touched = core::mem::take(&mut self.scratch_touched);
        let mut out = Outbox {
            conns: &mut self.conns,
            events: &mut self.events,
            model: &self.model,
            touched: &mut touched,
            max_queued: self.config.max_queued_output,
        };
        let r = f(&mut self.hooks, &mut out);
        touched.sort_unstable();
        touched.dedup();
        for &id in &touched {
            self.touched(id);
        }
        touched.clear();
        self.scratch_touched = touched;
        r
    }

    /// The model.
    pub fn model(&self) -> &Vmd {
        &self.model
    }

    /// The model, to change values; clients see changes on their next read.
    pub fn model_mut(&mut self) -> &mut Vmd {
        if self.journal.is_some() {
            self.unrecordable("Endpoint::model_mut");
        }
        &mut self.model
    }

    /// Set the value of the model's variable `name` (see [`Vmd::set_value`]); recorded, unlike
    /// changes through [`Self::model_mut`]. `false` if there is no such variable or the value
    /// does not match its type.
    pub fn set_value(&mut self, now: Instant, name: &ObjectName, value: Data) -> bool {
        self.log(now, || {
            crate::record::Event::Server(crate::record::ServerInput::SetValue {
                name: name.clone(),
                data: {
                    let mut v = Vec::new();
                    value.encode(&mut crate::ber::Writer::new(&mut v));
                    v
                },
            })
        });
        self.model.set_value(name, value)
    }

    /// The configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// Associations currently open (including ones still handshaking).
    pub fn connections(&self) -> impl Iterator<Item = ConnectionId> + '_ {
        self.conns.keys().copied()
    }

    /// Whether connection `id` is still known (once its association ended and its last
    /// octets were taken by [`Self::poll_transmit`], it is forgotten: close its transport).
    pub fn is_open(&self, id: ConnectionId) -> bool {
        self.conns.contains_key(&id)
    }

    /// The next connection with output waiting (or closed, to be forgotten), in the order it got
    /// it, without taking the output: for a driver whose sockets take output at their own pace
    /// (it wakes that socket, which calls [`Self::poll_transmit`] when it can write). A
    /// connection comes back once it has new output after being returned.
    pub fn poll_ready(&mut self) -> Option<ConnectionId> {
        loop {
            let id = self.ready.pop_front()?;
            let Some(c) = self.conns.get_mut(&id) else {
                continue;
            };
            c.in_ready = false;
            if c.assoc.is_closed() || c.assoc.has_pending_transmit() {
                return Some(id);
            }
        }
    }

    /// The peer of an established association.
    pub fn peer(&self, id: ConnectionId) -> Option<&AssociateRequest> {
        self.conns.get(&id)?.peer.as_deref()
    }

    /// A transport connection was accepted: start an association for it.
    ///
    /// It joins the pool of connections in their handshake; if the pool is full, the oldest one
    /// in it is dropped ([`AdmissionEvent::PendingPoolFull`]). Without a source address no
    /// per-source limit applies: drivers should call [`Self::open_from`].
    pub fn open(&mut self, now: Instant) -> Result<ConnectionId, OpenError> {
        let r = self.open_now(now, None);
        self.log(now, || match r {
            Ok(id) => crate::record::Event::Open { conn: id.0 },
            Err(_) => crate::record::Event::OpenRefused,
        });
        r
    }

    /// [`Self::open`] for a connection from `source`, which may hold at most
    /// [`ServerConfig::max_per_source`] connections.
    pub fn open_from(&mut self, now: Instant, source: IpAddr) -> Result<ConnectionId, OpenError> {
        let r = self.open_now(now, Some(source));
        self.log(now, || crate::record::Event::OpenFrom {
            source: match source {
                IpAddr::V4(a) => a.octets().to_vec(),
                IpAddr::V6(a) => a.octets().to_vec(),
            },
            conn: r.ok().map(|id| id.0),
        });
        r
    }

    /// The transport of connection `id` authenticated its peer (a TLS handshake with a client
    /// certificate that the driver verified): the bilateral tables may bind a client to it
    /// (`tase2::BilateralTable::certificate`). Call it before feeding the connection's first
    /// octet; a later call replaces the identity for associations still to come. Recorded, so a
    /// replay authenticates the same way.
    pub fn authenticate(&mut self, now: Instant, id: ConnectionId, identity: PeerIdentity) {
        self.last_now = self.last_now.max(now);
        self.log(now, || crate::record::Event::Authenticated {
            conn: id.0,
            identity: identity.clone(),
        });
        if let Some(c) = self.conns.get_mut(&id) {
            c.assoc
                .span()
                .in_scope(|| tracing::debug!(peer = %identity, "transport authenticated the peer"));
            c.identity = Some(Box::new(identity));
        }
    }

    /// The transport of connection `id` refused its peer or ended the connection (a failed TLS
    /// handshake, a certificate a reloaded configuration no longer accepts): the connection
    /// closes as if its transport closed and is forgotten at once; [`AdmissionEvent::TransportRefused`]
    /// says why, with the source address, followed by its [`ServerEvent::Closed`]. Recorded, so
    /// a replay refuses it the same way. `reason` is cut to 200 octets.
    pub fn transport_refused(&mut self, now: Instant, id: ConnectionId, reason: &str) {
        let mut end = reason.len().min(MAX_REFUSAL_REASON);
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        let reason = &reason[..end];
        self.last_now = self.last_now.max(now);
        self.log(now, || crate::record::Event::TransportRefused {
            conn: id.0,
            reason: reason.into(),
        });
        let span = self.conns.get(&id).map(|c| c.assoc.span().clone());
        {
            let _entered = span.as_ref().map(tracing::Span::enter);
            let Some(c) = self.conns.get_mut(&id) else {
                return;
            };
            tracing::info!(reason, "connection refused by its transport");
            let source = c.source;
            c.assoc.handle_transport_closed();
            self.events
                .push_back(ServerEvent::Admission(AdmissionEvent::TransportRefused {
                    id,
                    source,
                    reason: reason.into(),
                }));
            self.process(now, id);
        }
        self.touched(id);
        // Its transport is gone, so nothing can go out on it: forget it now (its source's slot
        // is free at once, in a replay too, where no driver takes its empty output).
        let mut none = Vec::new();
        self.poll_transmit(id, &mut none);
        self.run_hooks_now(now);
    }

    /// The identity [`Self::authenticate`] gave connection `id`.
    pub fn peer_identity(&self, id: ConnectionId) -> Option<&PeerIdentity> {
        self.conns.get(&id)?.identity.as_deref()
    }

    fn open_now(
        &mut self,
        now: Instant,
        source: Option<IpAddr>,
    ) -> Result<ConnectionId, OpenError> {
        self.last_now = self.last_now.max(now);
        if let Some(src) = source {
            let limit = self.config.max_per_source;
            if self.sources.get(&src).copied().unwrap_or(0) >= limit {
                tracing::info!(%src, limit, "connection refused: too many from this source");
                self.events
                    .push_back(ServerEvent::Admission(AdmissionEvent::SourceLimit {
                        source: src,
                        limit,
                    }));
                return Err(OpenError::SourceLimit);
            }
        }
        while self.pending.len() >= self.config.max_pending.max(1) {
            let Some(old) = self.pending.pop_front() else {
                break;
            };
            self.evict(
                now,
                old,
                AdmissionEvent::PendingPoolFull {
                    id: old,
                    limit: self.config.max_pending,
                },
            );
        }
        let id = ConnectionId(self.next_id);
        self.next_id += 1;
        let mut config = self.config.association.clone();
        config.connect_timeout = config.connect_timeout.min(self.config.handshake_timeout);
        let assoc = Association::server(config, now);
        assoc.set_trace_id(id.0);
        assoc
            .span()
            .in_scope(|| tracing::debug!("connection opened"));
        self.conns.insert(
            id,
            Conn {
                assoc,
                aa_lists: BTreeMap::new(),
                defined: 0,
                pending_writes: Vec::new(),
                peer: None,
                source,
                identity: None,
                pending: true,
                established: false,
                opened: now,
                last_input: now,
                backlog_since: None,
                held: Vec::new(),
                scheduled: None,
                in_ready: false,
            },
        );
        if let Some(src) = source {
            *self.sources.entry(src).or_default() += 1;
        }
        self.pending.push_back(id);
        self.touched(id);
        Ok(id)
    }

    /// Drop connection `id` for an admission rule: abort it, say why.
    fn evict(&mut self, now: Instant, id: ConnectionId, why: AdmissionEvent) {
        let Some(c) = self.conns.get_mut(&id) else {
            return;
        };
        let span = c.assoc.span().clone();
        let _entered = span.enter();
        tracing::info!(reason = %why, "connection dropped");
        c.assoc.abort();
        self.events.push_back(ServerEvent::Admission(why));
        self.process(now, id);
        self.touched(id);
    }

    /// Bookkeeping after anything happened to `id`: its place in the handshake pool and the
    /// association count, its output backlog, its deadline and its place in the ready queue.
    fn touched(&mut self, id: ConnectionId) {
        let Some(c) = self.conns.get_mut(&id) else {
            return;
        };
        if c.pending && (c.assoc.is_established() || c.assoc.is_closed()) {
            c.pending = false;
            if let Some(i) = self.pending.iter().position(|&p| p == id) {
                self.pending.remove(i);
            }
        }
        if c.assoc.is_established() && !c.established {
            c.established = true;
            self.established += 1;
        }
        if c.assoc.is_closed() && c.established {
            c.established = false;
            self.established -= 1;
        }
        let queued = c.assoc.queued_output();
        if queued > self.config.max_queued_output {
            c.backlog_since.get_or_insert(self.last_now);
        }
        if (c.assoc.has_pending_transmit() || c.assoc.is_closed()) && !c.in_ready {
            c.in_ready = true;
            self.ready.push_back(id);
        }
        let d = c.deadline(&self.config);
        if d != c.scheduled {
            c.scheduled = d;
            if let Some(t) = d {
                self.timers.push(Reverse((t, id)));
            }
        }
        // Stale entries on top would make `poll_timeout` report a deadline nobody has.
        while let Some(&Reverse((t, top))) = self.timers.peek() {
            if self.conns.get(&top).is_some_and(|c| c.scheduled == Some(t)) {
                break;
            }
            self.timers.pop();
        }
        // Stale entries below are popped when due; should moving deadlines pile them up, rebuild.
        if self.timers.len() > 2 * self.conns.len() + 64 {
            self.timers = self
                .conns
                .iter()
                .filter_map(|(&id, c)| c.scheduled.map(|t| Reverse((t, id))))
                .collect();
        }
    }

    /// Whether the driver should read more input for `id`: `false` while its queued output is
    /// above [`ServerConfig::max_queued_output`] (back-pressure; input given anyway is held, up
    /// to the same bound).
    pub fn wants_input(&self, id: ConnectionId) -> bool {
        self.conns
            .get(&id)
            .is_some_and(|c| c.backlog_since.is_none() && !c.assoc.is_closed())
    }

    /// Octets queued for `id` (not yet taken by [`Self::poll_transmit`]).
    pub fn queued_output(&self, id: ConnectionId) -> usize {
        self.conns.get(&id).map_or(0, |c| c.assoc.queued_output())
    }

    /// Connections in their handshake, and associations established.
    pub fn connection_counts(&self) -> (usize, usize) {
        (self.pending.len(), self.established)
    }

    /// Bytes arrived on connection `id`.
    pub fn handle_input(&mut self, now: Instant, id: ConnectionId, data: &[u8]) {
        self.log(now, || crate::record::Event::Input {
            conn: id.0,
            bytes: data.to_vec(),
        });
        self.last_now = self.last_now.max(now);
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        conn.last_input = now;
        if conn.backlog_since.is_some() {
            // Back-pressure: the peer does not read what we send, so what it sends waits.
            if conn.held.len() + data.len() > self.config.max_queued_output {
                let limit = self.config.max_queued_output;
                self.evict(now, id, AdmissionEvent::InputFlood { id, limit });
                self.run_hooks_now(now);
            } else {
                conn.held.extend_from_slice(data);
                self.touched(id);
            }
            return;
        }
        let span = conn.assoc.span().clone();
        {
            let _entered = span.enter();
            conn.assoc.handle_input(now, data);
            self.process(now, id);
        }
        self.touched(id);
        // Outside the span: the hooks may work for every association.
        self.run_hooks_now(now);
    }

    /// The transport of `id` closed.
    pub fn handle_transport_closed(&mut self, now: Instant, id: ConnectionId) {
        self.log(now, || crate::record::Event::TransportClosed { conn: id.0 });
        let span = self.conns.get(&id).map(|c| c.assoc.span().clone());
        {
            let _entered = span.as_ref().map(tracing::Span::enter);
            if let Some(conn) = self.conns.get_mut(&id) {
                conn.assoc.handle_transport_closed();
            }
            self.process(now, id);
        }
        self.touched(id);
        self.run_hooks_now(now);
    }

    /// Run timers that are due.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.log(now, || crate::record::Event::Timeout);
        self.last_now = self.last_now.max(now);
        while let Some(&Reverse((t, id))) = self.timers.peek() {
            if t > now {
                break;
            }
            self.timers.pop();
            let Some(c) = self.conns.get_mut(&id) else {
                continue;
            };
            if c.scheduled != Some(t) {
                continue;
            }
            c.scheduled = None;
            if let Some(why) = self.admission_due(now, id) {
                self.evict(now, id, why);
                continue;
            }
            let Some(c) = self.conns.get_mut(&id) else {
                continue;
            };
            let span = c.assoc.span().clone();
            let _entered = span.enter();
            c.assoc.handle_timeout(now);
            self.process(now, id);
            self.touched(id);
        }
        self.run_hooks_now(now);
    }

    /// The admission rule whose deadline passed for `id`, if one did.
    fn admission_due(&self, now: Instant, id: ConnectionId) -> Option<AdmissionEvent> {
        let c = self.conns.get(&id)?;
        if c.admission_deadline(&self.config)? > now {
            return None;
        }
        let cfg = &self.config;
        if c.pending && c.opened + cfg.handshake_timeout <= now {
            return Some(AdmissionEvent::HandshakeTimeout {
                id,
                after: cfg.handshake_timeout,
            });
        }
        if let Some(since) = c.backlog_since.filter(|&s| s + cfg.stuck_timeout <= now) {
            let _ = since;
            return Some(AdmissionEvent::StuckReader {
                id,
                queued: c.assoc.queued_output(),
                after: cfg.stuck_timeout,
            });
        }
        cfg.idle_timeout
            .map(|after| AdmissionEvent::Idle { id, after })
    }

    /// The earliest deadline over all associations and the hooks.
    pub fn poll_timeout(&self) -> Option<Instant> {
        // The heap's top may be a stale entry (a deadline that moved): that costs one early
        // wake-up, which `handle_timeout` skips.
        self.timers
            .peek()
            .map(|Reverse((t, _))| *t)
            .into_iter()
            .chain(self.hooks.poll_timeout())
            .min()
    }

    /// Append bytes pending for connection `id` to `buf`; returns how many.
    pub fn poll_transmit(&mut self, id: ConnectionId, buf: &mut Vec<u8>) -> usize {
        let Some(c) = self.conns.get_mut(&id) else {
            return 0;
        };
        let n = c.assoc.poll_transmit(buf);
        let closed = c.assoc.is_closed();
        if n > 0 {
            self.log_last(|| crate::record::Event::Output {
                conn: id.0,
                bytes: buf[buf.len() - n..].to_vec(),
            });
        }
        if closed {
            self.touched(id);
            let Some(c) = self.conns.remove(&id) else {
                return n;
            };
            // Its last bytes are out: forget it.
            c.assoc
                .span()
                .in_scope(|| tracing::trace!("connection forgotten"));
            if let Some(src) = c.source {
                if let Some(k) = self.sources.get_mut(&src) {
                    *k -= 1;
                    if *k == 0 {
                        self.sources.remove(&src);
                    }
                }
            }
            return n;
        }
        let cap = self.config.max_queued_output;
        let unblocked = self
            .conns
            .get_mut(&id)
            .filter(|c| c.backlog_since.is_some() && c.assoc.queued_output() <= cap)
            .map(|c| {
                c.backlog_since = None;
                core::mem::take(&mut c.held)
            });
        if let Some(held) = unblocked {
            // The reader caught up: what it sent meanwhile is read now, and the hooks send
            // what they held back.
            let now = self.last_now;
            if !held.is_empty() {
                if let Some(c) = self.conns.get_mut(&id) {
                    let span = c.assoc.span().clone();
                    let _entered = span.enter();
                    c.assoc.handle_input(now, &held);
                    self.process(now, id);
                }
            }
            self.with_outbox_now(|h, out| h.writable(out, id));
            self.touched(id);
            self.run_hooks_now(now);
        } else {
            self.touched(id);
        }
        n
    }

    /// The next connection with bytes to send, after filling `buf` with them.
    ///
    /// Connections come in the order their output became ready (a queue, not a scan).
    pub fn poll_transmit_any(&mut self, buf: &mut Vec<u8>) -> Option<ConnectionId> {
        loop {
            let id = self.ready.pop_front()?;
            let Some(c) = self.conns.get_mut(&id) else {
                continue;
            };
            c.in_ready = false;
            if c.assoc.is_closed() || c.assoc.has_pending_transmit() {
                self.poll_transmit(id, buf);
                return Some(id);
            }
        }
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<ServerEvent<H::Event>> {
        self.events.pop_front()
    }

    /// Answer a write the hooks deferred (see [`Ctx::defer_write`]): `Ok` stores nothing more (the
    /// hooks did), it answers success and queues [`ServerEvent::Written`]. Fails with
    /// [`ApiError::InvalidState`] if the token is unknown (answered already, or the association
    /// ended).
    pub fn complete_write(
        &mut self,
        token: WriteToken,
        result: Result<(), crate::mms::DataAccessError>,
    ) -> Result<(), ApiError> {
        self.log_last(|| {
            crate::record::Event::Server(crate::record::ServerInput::CompleteWrite {
                token,
                result: result.map_err(|e| e.0),
            })
        });
        let r = hooks::complete_write(&mut self.conns, &mut self.events, token, result);
        self.touched(token.id);
        r
    }

    /// Send an InformationReport to association `id`.
    pub fn send_information_report(
        &mut self,
        id: ConnectionId,
        report: InformationReport,
    ) -> Result<(), ApiError> {
        let service = UnconfirmedService::InformationReport(report);
        if self.journal.is_some() {
            let pdu = crate::mms::MmsPdu::Unconfirmed(service.clone()).to_vec();
            self.log_last(|| {
                crate::record::Event::Server(crate::record::ServerInput::SendInformationReport {
                    conn: id.0,
                    pdu,
                })
            });
        }
        self.send_unconfirmed_now(id, service)
    }

    fn send_unconfirmed_now(
        &mut self,
        id: ConnectionId,
        service: UnconfirmedService,
    ) -> Result<(), ApiError> {
        let c = self.conns.get_mut(&id).ok_or(ApiError::InvalidState)?;
        let r = c.assoc.send_unconfirmed(service);
        self.touched(id);
        r
    }

    /// Send an InformationReport of the named variable list `list` with the model's current values
    /// (the hooks read slotted members at `now`).
    pub fn report_list(
        &mut self,
        now: Instant,
        id: ConnectionId,
        list: &ObjectName,
    ) -> Result<(), ApiError> {
        self.log(now, || {
            crate::record::Event::Server(crate::record::ServerInput::ReportList {
                conn: id.0,
                list: list.clone(),
            })
        });
        let c = self.conns.get(&id).ok_or(ApiError::InvalidState)?;
        let members = services::list_members(&self.model, &c.aa_lists, list)
            .ok_or(ApiError::InvalidState)?
            .to_vec();
        let mut ctx = Ctx::new(now, id, &self.model, &mut self.events);
        let results = members
            .iter()
            .map(|m| services::value_of(&mut ctx, &mut self.hooks, m))
            .collect();
        let report = InformationReport {
            variables: VariableAccessSpecification::VariableListName(list.clone()),
            results,
        };
        self.send_unconfirmed_now(id, UnconfirmedService::InformationReport(report))
    }

    /// Abort association `id`.
    pub fn abort(&mut self, now: Instant, id: ConnectionId) {
        self.log(now, || {
            crate::record::Event::Server(crate::record::ServerInput::Abort { conn: id.0 })
        });
        let span = self.conns.get(&id).map(|c| c.assoc.span().clone());
        {
            let _entered = span.as_ref().map(tracing::Span::enter);
            if let Some(c) = self.conns.get_mut(&id) {
                c.assoc.abort();
            }
            self.process(now, id);
        }
        // Into the ready queue: its ABORT goes out and a driver forgets it.
        self.touched(id);
        self.run_hooks_now(now);
    }

    /// Drain one association's events, answering requests from the model.
    fn process(&mut self, now: Instant, id: ConnectionId) {
        loop {
            let Some(conn) = self.conns.get_mut(&id) else {
                return;
            };
            let ev = match conn.assoc.poll_queued() {
                None => return,
                Some(Queued::Event(ev)) => ev,
                #[cfg(feature = "server")]
                Some(Queued::Read(read)) => {
                    services::read_inline(self, now, id, &read);
                    continue;
                }
            };
            match ev {
                Event::AssociateIndication(req) => {
                    if self.established >= self.config.max_associations {
                        let limit = self.config.max_associations;
                        tracing::info!(limit, "association refused: limit reached");
                        let _ = conn.assoc.reject_transient(AssociateDiagnostic::User(
                            crate::acse::user_diagnostic::NO_REASON,
                        ));
                        self.events.push_back(ServerEvent::Admission(
                            AdmissionEvent::AssociationLimit { id, limit },
                        ));
                        continue;
                    }
                    match (self.config.policy)(&req).and_then(|()| {
                        self.hooks
                            .associate_authenticated(id, &req, conn.identity.as_deref())
                    }) {
                        Ok(()) => {
                            conn.peer = Some(req);
                            let _ = conn.assoc.accept();
                        }
                        Err(diag) => {
                            tracing::debug!(?diag, "association refused by policy or hooks");
                            let _ = conn.assoc.reject(diag);
                        }
                    }
                }
                Event::Established(_) => {
                    if let Some(peer) = conn.peer.clone() {
                        self.events.push_back(ServerEvent::Associated { id, peer });
                    }
                }
                Event::Request { invoke_id, request } => {
                    services::serve(self, now, id, invoke_id, request);
                }
                Event::PeerError(error) => {
                    self.events.push_back(ServerEvent::PeerError { id, error })
                }
                Event::Deviation(deviation) => self
                    .events
                    .push_back(ServerEvent::Deviation { id, deviation }),
                Event::Closed(error) => {
                    self.with_outbox_now(|h, out| h.closed(out, id));
                    self.events.push_back(ServerEvent::Closed { id, error })
                }
                Event::Unconfirmed(service) => {
                    let mut ctx = Ctx::new(now, id, &self.model, &mut self.events);
                    self.hooks.unconfirmed(&mut ctx, &service);
                }
                // A server sends no requests, so it gets no responses.
                Event::Response { .. } | Event::Rejected(_) => {}
            }
        }
    }
}
