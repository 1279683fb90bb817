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

mod hooks;
mod model;
mod services;
#[cfg(test)]
mod tests;

pub use hooks::{Ctx, Hooks, NoHooks, Outbox, WriteToken};
pub use model::{Domain, Identity, NamedVariableList, Variable, Vmd};

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;

use crate::acse::AssociateDiagnostic;
use crate::assoc::{
    ApiError, AssocError, AssociateRequest, Association, AssociationConfig, Event, PeerError,
};
use crate::deviation::Deviation;
use crate::mms::{
    Data, InformationReport, ObjectName, UnconfirmedService, VariableAccessSpecification,
};
use crate::time::Instant;

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
    /// Most associations served at once; further connections are refused by [`Endpoint::open`].
    pub max_associations: usize,
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
    /// A client deviated from the standard in a way whose intent was clear; the endpoint accepted
    /// it and went on (see [`crate::deviation`]).
    Deviation {
        /// The association.
        id: ConnectionId,
        /// What the client did.
        deviation: Deviation,
    },
}

/// Why [`Endpoint::open`] refused a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooManyAssociations;

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
        let mut out = Outbox {
            conns: &mut self.conns,
            events: &mut self.events,
            model: &self.model,
        };
        f(&mut self.hooks, &mut out)
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

    /// The peer of an established association.
    pub fn peer(&self, id: ConnectionId) -> Option<&AssociateRequest> {
        self.conns.get(&id)?.peer.as_deref()
    }

    /// A transport connection was accepted: start an association for it.
    pub fn open(&mut self, now: Instant) -> Result<ConnectionId, TooManyAssociations> {
        let r = self.open_now(now);
        self.log(now, || match r {
            Ok(id) => crate::record::Event::Open { conn: id.0 },
            Err(_) => crate::record::Event::OpenRefused,
        });
        r
    }

    fn open_now(&mut self, now: Instant) -> Result<ConnectionId, TooManyAssociations> {
        if self.conns.len() >= self.config.max_associations {
            tracing::info!(
                max_associations = self.config.max_associations,
                "connection refused: too many associations"
            );
            return Err(TooManyAssociations);
        }
        let id = ConnectionId(self.next_id);
        self.next_id += 1;
        let assoc = Association::server(self.config.association.clone(), now);
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
            },
        );
        Ok(id)
    }

    /// Bytes arrived on connection `id`.
    pub fn handle_input(&mut self, now: Instant, id: ConnectionId, data: &[u8]) {
        self.log(now, || crate::record::Event::Input {
            conn: id.0,
            bytes: data.to_vec(),
        });
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        let span = conn.assoc.span().clone();
        {
            let _entered = span.enter();
            conn.assoc.handle_input(now, data);
            self.process(now, id);
        }
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
        self.run_hooks_now(now);
    }

    /// Run timers that are due.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.log(now, || crate::record::Event::Timeout);
        let due: Vec<ConnectionId> = self
            .conns
            .iter()
            .filter(|(_, c)| c.assoc.poll_timeout().is_some_and(|t| t <= now))
            .map(|(&id, _)| id)
            .collect();
        for id in due {
            let Some(c) = self.conns.get_mut(&id) else {
                continue;
            };
            let span = c.assoc.span().clone();
            let _entered = span.enter();
            c.assoc.handle_timeout(now);
            self.process(now, id);
        }
        self.run_hooks_now(now);
    }

    /// The earliest deadline over all associations and the hooks.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.conns
            .values()
            .filter_map(|c| c.assoc.poll_timeout())
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
            let Some(c) = self.conns.get(&id) else {
                return n;
            };
            // Its last bytes are out: forget it.
            c.assoc
                .span()
                .in_scope(|| tracing::trace!("connection forgotten"));
            self.conns.remove(&id);
        }
        n
    }

    /// The next connection with bytes to send, after filling `buf` with them.
    pub fn poll_transmit_any(&mut self, buf: &mut Vec<u8>) -> Option<ConnectionId> {
        let id = self
            .conns
            .iter()
            .find(|(_, c)| c.assoc.is_closed() || c.assoc.has_pending_transmit())
            .map(|(&id, _)| id)?;
        self.poll_transmit(id, buf);
        Some(id)
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
        hooks::complete_write(&mut self.conns, &mut self.events, token, result)
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
        c.assoc.send_unconfirmed(service)
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
        self.run_hooks_now(now);
    }

    /// Drain one association's events, answering requests from the model.
    fn process(&mut self, now: Instant, id: ConnectionId) {
        loop {
            let Some(conn) = self.conns.get_mut(&id) else {
                return;
            };
            let Some(ev) = conn.assoc.poll_event() else {
                return;
            };
            match ev {
                Event::AssociateIndication(req) => {
                    match (self.config.policy)(&req).and_then(|()| self.hooks.associate(id, &req)) {
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
