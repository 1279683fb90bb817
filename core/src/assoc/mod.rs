//! One MMS association over the whole OSI stack: TPKT, COTP, session, presentation, ACSE and MMS.
//!
//! [`Association`] is a sans-IO state machine for one transport connection, in either role. It is
//! driven the same way whatever carries its bytes (tokio, mio, a WebSocket in a browser, a replay):
//!
//! - **Input:** [`Association::handle_input`] with bytes as they arrived (any split) and
//!   [`Association::handle_timeout`] when the deadline from [`Association::poll_timeout`] passes.
//! - **Output:** after every input or command, drain [`Association::poll_transmit`] (bytes for the
//!   peer, into a buffer the caller owns) and [`Association::poll_event`] until both are empty, then
//!   re-arm the one timer from [`Association::poll_timeout`]. When [`Association::is_closed`] is true
//!   and the transmits are drained, close the transport.
//! - **Commands:** [`Association::send_request`], [`Association::conclude`], [`Association::abort`]
//!   (client); [`Association::accept`], [`Association::reject`], [`Association::send_response`]
//!   (server). Commands never block and never fail silently: a caller mistake is an [`ApiError`].
//!
//! **Time must not go backwards:** every `now` passed in is at or after the previous one.
//!
//! **Diagnostics.** Each association has a `tracing` span (`association`, with its `role` and, under
//! a server [`Endpoint`](crate::server::Endpoint), its connection `id`), entered in `handle_input`,
//! `handle_timeout` and `poll_transmit`. Establishment, refusal and closing (with the cause), PDUs
//! rejected, requests timed out and accepted deviations are `debug!`/`info!` events in it; every TPDU
//! is a `trace!`. Without a subscriber this costs a level check per call site.
//!
//! Errors from the peer are answered the way its protocol expects: an undecodable MMS PDU gets an MMS
//! Reject and a [`PeerError`] event and the association lives on; a broken lower layer gets a COTP ER or
//! an abort, and a fatal [`AssocError`] that is reported once in [`Event::Closed`] and kept.

mod config;
mod connect;
mod event;
#[cfg(test)]
mod tests;

pub use config::{
    AssociationConfig, InvalidTpduSize, Negotiated, DEFAULT_MAX_NESTING, DEFAULT_MAX_OUTSTANDING,
    DEFAULT_MAX_PDU_SIZE,
};
pub use event::{
    AbortSource, ApiError, AssocError, AssociateRequest, Event, InitiateError, PeerError,
    RefusalReason, RequestError,
};

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use crate::ber::Writer;
use crate::cotp::{self, ConnectParams, Reassembler, Tpdu, TpduSize};
use crate::deviation::Deviation;
use crate::mms::pdu;
#[cfg(feature = "server")]
use crate::mms::pdu::InlineRead;
use crate::mms::{
    ConfirmedRequest, ConfirmedResponse, ErrorClass, MmsPdu, RejectPdu, RejectReason, ServiceError,
    UnconfirmedService,
};
use crate::presentation::{self, Pdv};
use crate::session::{self, Spdu};
use crate::time::Instant;
use crate::tpkt;
use crate::vec_map::{VecMap, VecSet};

use tracing::{debug, info, trace};

/// Which side of the association we are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Calling side: sends the CR, AARQ and confirmed requests.
    Client,
    /// Called side: answers them.
    Server,
}

/// States are named after what they wait for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    ExpectConnectionRequest,
    ExpectConnectionConfirm,
    ExpectConnect,
    ExpectAcceptDecision,
    ExpectAccept,
    Established,
    ExpectConcludeResponse,
    ExpectReleaseResponse,
    // Entered by a server's conclude response only.
    #[cfg_attr(not(feature = "server"), allow(dead_code))]
    ExpectReleaseRequest,
    Closed,
}

/// An MMS association; see the [module docs](self) for the calling contract.
#[derive(Debug)]
pub struct Association {
    role: Role,
    config: AssociationConfig,
    state: State,
    inbuf: Vec<u8>,
    reassembly: Reassembler,
    out: Vec<u8>,
    scratch: Vec<u8>,
    events: EventQueue,
    negotiated: Negotiated,
    local_ref: u16,
    remote_ref: u16,
    acse_ctx: i64,
    mms_ctx: i64,
    next_invoke_id: u32,
    /// Our confirmed requests awaiting an answer, with their deadlines.
    outstanding: VecMap<u32, Instant>,
    /// The peer's confirmed requests we have not answered yet.
    incoming: VecSet<u32>,
    /// Handshake or release deadline.
    deadline: Option<(Instant, &'static str)>,
    error: Option<AssocError>,
    pending: Option<connect::PendingAccept>,
    /// Diagnostics span; see the module docs.
    span: tracing::Span,
}

impl Association {
    fn new(role: Role, mut config: AssociationConfig, now: Instant) -> Self {
        // X.224 §13.3.4 (b): class 0 allows no TPDU above 2048 octets (see the field's docs).
        config.tpdu_size = config.tpdu_size.min(TpduSize::CLASS0_MAX);
        let negotiated = Negotiated {
            max_pdu_size: config.max_pdu_size,
            max_serv_outstanding_calling: config.max_serv_outstanding_calling,
            max_serv_outstanding_called: config.max_serv_outstanding_called,
            max_nesting: config.max_nesting,
            version: 1,
            tpdu_size: TpduSize::DEFAULT.bytes(),
        };
        Association {
            role,
            deadline: Some((now + config.connect_timeout, "association establishment")),
            config,
            state: State::ExpectConnectionRequest,
            inbuf: Vec::new(),
            reassembly: Reassembler::default(),
            out: Vec::new(),
            scratch: Vec::new(),
            events: EventQueue::default(),
            negotiated,
            local_ref: 1,
            remote_ref: 0,
            acse_ctx: presentation::ACSE_CONTEXT_ID,
            mms_ctx: presentation::MMS_CONTEXT_ID,
            next_invoke_id: 1,
            outstanding: VecMap::new(),
            incoming: VecSet::new(),
            error: None,
            pending: None,
            span: tracing::debug_span!("association", ?role, id = tracing::field::Empty),
        }
    }

    /// Start a client association: the COTP CR is queued at once.
    pub fn client(config: AssociationConfig, now: Instant) -> Self {
        let mut a = Association::new(Role::Client, config, now);
        let cr = ConnectParams {
            dst_ref: 0,
            src_ref: a.local_ref,
            class_option: 0,
            tpdu_size: Some(a.config.tpdu_size),
            preferred_max_tpdu_size: None,
            calling_tsel: a.config.tsel.0.as_deref(),
            called_tsel: a.config.tsel.1.as_deref(),
        };
        let mut out = core::mem::take(&mut a.out);
        write_tpdu(&mut out, &Tpdu::ConnectionRequest(cr));
        a.out = out;
        a.state = State::ExpectConnectionConfirm;
        a
    }

    /// Start a server association for a freshly accepted transport connection.
    ///
    /// Answering the handshake (CR, CONNECT with its CP and AARQ, FINISH) is the core feature
    /// `server`'s (on by default); a core built without it, such as the browser client's, refuses
    /// every connection.
    pub fn server(config: AssociationConfig, now: Instant) -> Self {
        Association::new(Role::Server, config, now)
    }

    /// Name this association in its diagnostics span (a server endpoint's connection id).
    pub(crate) fn set_trace_id(&self, id: u64) {
        self.span.record("id", id);
    }

    /// This association's span entered, until the guard drops.
    pub(crate) fn entered(&self) -> Option<tracing::span::EnteredSpan> {
        tracing_on().then(|| self.span.clone().entered())
    }

    /// The diagnostics span, for an owner that works on this association's behalf.
    pub(crate) fn span(&self) -> &tracing::Span {
        &self.span
    }

    // ---- getters ----

    /// Our role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Whether the association is established (MMS requests may flow).
    pub fn is_established(&self) -> bool {
        self.state == State::Established
    }

    /// Whether the association is over: drain the transmits, then close the transport.
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// The fatal error that ended the association, if one did.
    pub fn error(&self) -> Option<&AssocError> {
        self.error.as_ref()
    }

    /// What MMS Initiate negotiated (our proposals until then).
    pub fn negotiated(&self) -> &Negotiated {
        &self.negotiated
    }

    /// The configuration.
    pub fn config(&self) -> &AssociationConfig {
        &self.config
    }

    /// Octets waiting in [`Self::poll_transmit`].
    pub fn queued_output(&self) -> usize {
        self.out.len()
    }

    /// Whether bytes are waiting in [`Self::poll_transmit`].
    pub fn has_pending_transmit(&self) -> bool {
        !self.out.is_empty()
    }

    /// Number of our confirmed requests awaiting an answer.
    pub fn outstanding_requests(&self) -> usize {
        self.outstanding.len()
    }

    // ---- handle_* ----

    /// Feed bytes received from the transport, in any split.
    pub fn handle_input(&mut self, now: Instant, data: &[u8]) {
        if self.state == State::Closed {
            return;
        }
        let _entered = self.entered();
        let max_frame =
            self.negotiated.tpdu_size.max(self.config.tpdu_size.bytes()) + tpkt::HEADER_LEN;
        if self.inbuf.is_empty() {
            // Fast path: whole frames straight from the caller's buffer, no copy.
            let used = self.handle_frames(now, data, max_frame);
            if self.state != State::Closed {
                self.inbuf.extend_from_slice(&data[used..]);
            }
            return;
        }
        self.inbuf.extend_from_slice(data);
        let inbuf = core::mem::take(&mut self.inbuf);
        let used = self.handle_frames(now, &inbuf, max_frame);
        self.inbuf = inbuf;
        self.inbuf.drain(..used);
        if self.state == State::Closed {
            self.inbuf.clear();
        }
    }

    /// Handle every complete frame in `data`; return how many bytes were consumed.
    fn handle_frames(&mut self, now: Instant, data: &[u8], max_frame: usize) -> usize {
        let mut pos = 0;
        while self.state != State::Closed && self.pending.is_none() {
            let rest = &data[pos..];
            match tpkt::frame_len(rest, max_frame) {
                Ok(Some(len)) if len <= rest.len() => {
                    self.handle_tpdu(now, &rest[tpkt::HEADER_LEN..len]);
                    pos += len;
                }
                Ok(_) => break,
                Err(e) => {
                    // Framing is lost; nothing more can be understood on this stream.
                    self.fail(AssocError::Tpkt(e));
                    return data.len();
                }
            }
        }
        pos
    }

    /// Call when the deadline from [`Self::poll_timeout`] has passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.state == State::Closed {
            return;
        }
        let _entered = self.entered();
        if let Some((at, what)) = self.deadline {
            if now >= at {
                self.deadline = None;
                self.fail(AssocError::Timeout(what));
                return;
            }
        }
        let expired: Vec<u32> = self
            .outstanding
            .iter()
            .filter(|(_, &at)| now >= at)
            .map(|(&id, _)| id)
            .collect();
        for invoke_id in expired {
            debug!(invoke_id, "request timed out");
            self.outstanding.remove(&invoke_id);
            self.events.push_back(Event::Response {
                invoke_id,
                result: Err(RequestError::Timeout),
            });
        }
    }

    /// Tell the association its transport closed.
    pub fn handle_transport_closed(&mut self) {
        if self.state != State::Closed {
            self.fail(AssocError::TransportClosed);
        }
    }

    // ---- poll_* ----

    /// Move pending bytes for the peer into `buf` (appended); returns how many. Call until 0.
    pub fn poll_transmit(&mut self, buf: &mut Vec<u8>) -> usize {
        let n = self.out.len();
        if n == 0 {
            return 0;
        }
        // Borrowed, not cloned as `entered` does: this runs on every transmit.
        let _entered = tracing_on().then(|| self.span.enter());
        trace!(bytes = n, "transmit");
        if buf.is_empty() {
            core::mem::swap(buf, &mut self.out);
        } else {
            buf.extend_from_slice(&self.out);
            self.out.clear();
        }
        n
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        Some(match self.events.0.pop_front()? {
            Queued::Event(e) => e,
            #[cfg(feature = "server")]
            Queued::Read(r) => r.into_event(),
        })
    }

    /// The next event for the server's endpoint, which serves a plain Read without the owned
    /// request [`Self::poll_event`] would build.
    pub(crate) fn poll_queued(&mut self) -> Option<Queued> {
        self.events.0.pop_front()
    }

    /// The one next deadline: call [`Self::handle_timeout`] when it passes.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.state == State::Closed {
            return None;
        }
        let req = self.outstanding.values().min().copied();
        match (self.deadline.map(|d| d.0), req) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    // ---- commands ----

    /// Client: send a confirmed request; the answer comes as [`Event::Response`] with the returned
    /// invoke id.
    pub fn send_request(
        &mut self,
        now: Instant,
        request: ConfirmedRequest,
    ) -> Result<u32, ApiError> {
        self.send_request_ref(now, &request)
    }

    /// [`Self::send_request`] with the request borrowed: a caller that keeps it on refusal (the
    /// TASE.2 session's window) need not clone it.
    pub(crate) fn send_request_ref(
        &mut self,
        now: Instant,
        request: &ConfirmedRequest,
    ) -> Result<u32, ApiError> {
        if self.state != State::Established {
            return Err(self.invalid_state());
        }
        let limit = match self.role {
            Role::Client => self.negotiated.max_serv_outstanding_calling,
            Role::Server => self.negotiated.max_serv_outstanding_called,
        };
        if self.outstanding.len() >= usize::from(limit) {
            return Err(ApiError::TooManyOutstanding);
        }
        let mut invoke_id = self.next_invoke_id;
        while self.outstanding.contains_key(&invoke_id) {
            invoke_id = invoke_id.wrapping_add(1);
        }
        self.next_invoke_id = invoke_id.wrapping_add(1);
        self.send_mms_with(|w| pdu::encode_confirmed_request(w, invoke_id, request))?;
        self.outstanding
            .insert(invoke_id, now + self.config.request_timeout);
        Ok(invoke_id)
    }

    /// Send an unconfirmed service (e.g. an InformationReport).
    pub fn send_unconfirmed(&mut self, service: UnconfirmedService) -> Result<(), ApiError> {
        if self.state != State::Established {
            return Err(self.invalid_state());
        }
        self.send_mms_with(|w| pdu::encode_unconfirmed(w, &service))
    }

    /// Send an MMS PDU whose encoding `f` writes into the writer positioned at the MMS PDU (used for
    /// hot paths that encode straight from a model). The PDU must be unconfirmed or answer an
    /// outstanding incoming request named by `answers`.
    pub fn send_raw_mms(
        &mut self,
        answers: Option<u32>,
        f: impl FnOnce(&mut Writer<'_>),
    ) -> Result<(), ApiError> {
        if self.state != State::Established {
            return Err(self.invalid_state());
        }
        if let Some(id) = answers {
            if !self.incoming.contains(&id) {
                return Err(ApiError::UnknownInvokeId);
            }
        }
        self.send_mms_with(f)?;
        if let Some(id) = answers {
            self.incoming.remove(&id);
        }
        Ok(())
    }

    /// Server: answer the confirmed request `invoke_id`.
    ///
    /// A response that would exceed the negotiated max PDU size is not sent: the caller gets
    /// [`ApiError::PduTooLarge`] and should answer with [`Self::send_error`] instead.
    pub fn send_response(
        &mut self,
        invoke_id: u32,
        response: ConfirmedResponse,
    ) -> Result<(), ApiError> {
        self.answer(MmsPdu::ConfirmedResponse {
            invoke_id,
            response,
        })
    }

    /// Server: answer the confirmed request `invoke_id` with a ConfirmedError.
    pub fn send_error(&mut self, invoke_id: u32, error: ServiceError) -> Result<(), ApiError> {
        self.answer(MmsPdu::ConfirmedError { invoke_id, error })
    }

    fn answer(&mut self, pdu: MmsPdu) -> Result<(), ApiError> {
        let invoke_id = match &pdu {
            MmsPdu::ConfirmedResponse { invoke_id, .. }
            | MmsPdu::ConfirmedError { invoke_id, .. } => *invoke_id,
            _ => return Err(self.invalid_state()),
        };
        if !matches!(self.state, State::Established | State::ExpectReleaseRequest) {
            return Err(self.invalid_state());
        }
        if !self.incoming.contains(&invoke_id) {
            return Err(ApiError::UnknownInvokeId);
        }
        self.send_mms_with(|w| pdu.encode(w))?;
        self.incoming.remove(&invoke_id);
        Ok(())
    }

    /// Server: answer the confirmed request `invoke_id` with an MMS Reject (for a request that was
    /// decoded but names a service or form we do not support).
    pub fn reject_request(&mut self, invoke_id: u32, reason: RejectReason) -> Result<(), ApiError> {
        if self.state == State::Closed {
            return Err(self.invalid_state());
        }
        if !self.incoming.remove(&invoke_id) {
            return Err(ApiError::UnknownInvokeId);
        }
        self.send_reject(Some(invoke_id), reason);
        Ok(())
    }

    /// Client: begin an orderly release (MMS Conclude, then ACSE release). Refused while requests are
    /// outstanding, as ISO 9506-2 requires.
    pub fn conclude(&mut self, now: Instant) -> Result<(), ApiError> {
        if self.state != State::Established
            || self.role != Role::Client
            || !self.outstanding.is_empty()
        {
            return Err(self.invalid_state());
        }
        self.send_mms_with(pdu::encode_conclude_request)?;
        self.state = State::ExpectConcludeResponse;
        self.deadline = Some((now + self.config.release_timeout, "release"));
        Ok(())
    }

    /// Abort the association at once (ACSE ABRT in a presentation ARU in a session AB).
    pub fn abort(&mut self) {
        if self.state == State::Closed {
            return;
        }
        let _entered = self.entered();
        if self.state_has_session() {
            self.send_user_abort();
        }
        self.fail(AssocError::AbortedLocally);
    }

    /// The error for a command the current state does not allow: once closed, the sticky cause.
    fn invalid_state(&self) -> ApiError {
        if self.state == State::Closed {
            ApiError::Closed(self.error.clone())
        } else {
            ApiError::InvalidState
        }
    }

    // ---- internals: lower layers ----

    fn state_has_session(&self) -> bool {
        !matches!(
            self.state,
            State::ExpectConnectionRequest
                | State::ExpectConnectionConfirm
                | State::ExpectConnect
                | State::Closed
        )
    }

    fn handle_tpdu(&mut self, now: Instant, tpdu: &[u8]) {
        trace!(bytes = tpdu.len(), "TPDU received");
        let t = match Tpdu::decode(tpdu) {
            Ok(t) => t,
            Err(e) => {
                debug!(error = %e, "invalid TPDU, answered with ER");
                // X.224 §6.22: answer an invalid TPDU with ER, then release.
                let cause = match e {
                    cotp::Error::UnknownCode(_) => 2,
                    cotp::Error::BadParameter(_) => 3,
                    _ => 0,
                };
                self.send_tpdu_error(cause, tpdu);
                self.fail(AssocError::Cotp(e));
                return;
            }
        };
        match (self.state, t) {
            // The responder's side of the handshake is the feature `server`'s: without it a
            // server-role association refuses the CR like any TPDU out of place.
            #[cfg(feature = "server")]
            (State::ExpectConnectionRequest, Tpdu::ConnectionRequest(cr)) => {
                self.remote_ref = cr.src_ref;
                // X.224 §13.3.4 (b): we may lower the proposed size, never raise it.
                let proposed = cr.tpdu_size.unwrap_or(TpduSize::DEFAULT);
                let size = proposed.min(self.config.tpdu_size);
                if !proposed.is_class0() {
                    // Class 0 allows at most 2048 (X.224 §13.3.4 (b)); libiec61850 proposes 8192.
                    // The intent is clear and our answer is within the class, so go on.
                    self.deviation(Deviation::new(
                        crate::deviation::DeviationKind::TpduSizeBeyondClass0,
                    ));
                }
                self.negotiated.tpdu_size = size.bytes();
                let calling = cr.calling_tsel.map(<[u8]>::to_vec);
                let called = cr.called_tsel.map(<[u8]>::to_vec);
                let cc = ConnectParams {
                    dst_ref: cr.src_ref,
                    src_ref: self.local_ref,
                    class_option: 0,
                    tpdu_size: Some(size),
                    preferred_max_tpdu_size: None,
                    calling_tsel: cr.calling_tsel,
                    called_tsel: cr.called_tsel,
                };
                write_tpdu(&mut self.out, &Tpdu::ConnectionConfirm(cc));
                self.config.tsel = (called, calling);
                self.state = State::ExpectConnect;
            }
            (State::ExpectConnectionConfirm, Tpdu::ConnectionConfirm(cc)) => {
                self.remote_ref = cc.src_ref;
                self.negotiated.tpdu_size = cc
                    .tpdu_size
                    .unwrap_or(TpduSize::DEFAULT)
                    .min(self.config.tpdu_size)
                    .bytes();
                self.send_connect();
                self.state = State::ExpectAccept;
            }
            (_, Tpdu::Data { eot, user_data })
                if self.state_has_session() || self.state == State::ExpectConnect =>
            {
                let max_tsdu = self.max_tsdu();
                if !eot {
                    if self.reassembly.push(user_data, max_tsdu).is_err() {
                        self.fail_with_abort(AssocError::TsduTooLarge);
                    }
                } else if self.reassembly.is_empty() {
                    self.handle_tsdu(now, user_data);
                } else {
                    match self.reassembly.finish(user_data, max_tsdu) {
                        Ok(tsdu) => {
                            self.handle_tsdu(now, &tsdu);
                            self.reassembly.recycle(tsdu);
                        }
                        Err(_) => self.fail_with_abort(AssocError::TsduTooLarge),
                    }
                }
            }
            // X.224 §6.6: a DR answering our CR refuses the connection; later it ends it.
            (State::ExpectConnectionConfirm, Tpdu::DisconnectRequest { reason, .. }) => {
                self.fail(AssocError::Refused(RefusalReason::Cotp { reason }));
            }
            (_, Tpdu::DisconnectRequest { reason, .. }) => {
                self.fail(AssocError::AbortedByPeer(AbortSource::Cotp { reason }));
            }
            (_, Tpdu::Error { cause, .. }) => {
                self.fail(AssocError::AbortedByPeer(AbortSource::CotpError { cause }));
            }
            _ => {
                self.send_tpdu_error(2, tpdu);
                self.fail(AssocError::Protocol("TPDU not allowed in this state"));
            }
        }
    }

    /// X.224 §13.12: an ER TPDU echoing the header of the TPDU it refuses.
    fn send_tpdu_error(&mut self, cause: u8, bad: &[u8]) {
        let start = tpkt::begin(&mut self.out);
        Tpdu::encode_error(&mut self.out, self.remote_ref, cause, bad);
        tpkt::finish(&mut self.out, start);
    }

    /// Largest TSDU we reassemble: the negotiated MMS PDU plus generous room for the session,
    /// presentation and ACSE envelopes around it.
    fn max_tsdu(&self) -> usize {
        self.config.max_pdu_size.max(self.negotiated.max_pdu_size) as usize + 1024
    }

    fn handle_tsdu(&mut self, now: Instant, tsdu: &[u8]) {
        let spdu = match Spdu::decode(tsdu) {
            Ok(s) => s,
            Err(e) => {
                self.fail_with_abort(AssocError::Session(e));
                return;
            }
        };
        match (self.state, spdu) {
            #[cfg(feature = "server")]
            (State::ExpectConnect, Spdu::Connect(ca)) => self.handle_connect(ca),
            (State::ExpectAccept, Spdu::Accept(ca)) => self.handle_accept(ca.user_data),
            (State::ExpectAccept, Spdu::Refuse { reason, user_data }) => {
                self.handle_refuse(reason, user_data)
            }
            (
                State::Established | State::ExpectConcludeResponse | State::ExpectReleaseRequest,
                Spdu::Data { user_data },
            ) => self.handle_data(now, user_data),
            #[cfg(feature = "server")]
            (State::ExpectReleaseRequest | State::Established, Spdu::Finish { user_data })
                if self.role == Role::Server =>
            {
                self.handle_release_request(user_data)
            }
            (State::ExpectReleaseResponse, Spdu::Disconnect { .. }) => {
                self.deadline = None;
                self.close(None);
            }
            (_, Spdu::Abort { user_data, .. }) => {
                let why = connect::abort_source(user_data);
                self.fail(AssocError::AbortedByPeer(why));
            }
            (_, Spdu::Refuse { .. } | Spdu::AbortAccept) => {
                self.fail(AssocError::AbortedByPeer(AbortSource::SessionRefuse));
            }
            _ => self.fail_with_abort(AssocError::Protocol("SPDU not allowed in this state")),
        }
    }

    // ---- internals: MMS data phase ----

    fn handle_data(&mut self, now: Instant, user_data: &[u8]) {
        let pdv = match presentation::decode_single_pdv(user_data) {
            Ok(p) => p,
            Err(e) => {
                self.fail_with_abort(AssocError::Presentation(e));
                return;
            }
        };
        if pdv.context_id != self.mms_ctx {
            self.fail_with_abort(AssocError::Protocol(
                "data on a presentation context other than MMS",
            ));
            return;
        }
        if pdv.data.len() > self.negotiated.max_pdu_size as usize {
            // ISO 9506-2 §8.3.1: a PDU beyond the negotiated size is a protocol error; reject it.
            self.send_reject(None, RejectReason::INVALID_PDU);
            self.events
                .push_back(Event::PeerError(PeerError::PduTooLarge(pdv.data.len())));
            return;
        }
        #[cfg(feature = "server")]
        if self.role == Role::Server && self.state == State::Established {
            // Hot path: a plain Read of named variables, kept inline (no allocation). What it
            // does not recognize, including every malformed PDU, takes the general decoder.
            if let Some(read) = InlineRead::recognize(pdv.data, &self.config.limits) {
                let invoke_id = read.invoke_id;
                if self.admit_request(invoke_id) {
                    self.events.0.push_back(Queued::Read(read));
                }
                return;
            }
        }
        let mut noted = Vec::new();
        let pdu = match MmsPdu::decode_with_deviations(pdv.data, &self.config.limits, &mut noted) {
            Ok(p) => p,
            Err(e) => {
                debug!(error = %e, "undecodable MMS PDU rejected");
                self.send_reject(e.invoke_id, e.reject);
                self.events
                    .push_back(Event::PeerError(PeerError::UndecodableMms(e)));
                return;
            }
        };
        // Reported before the PDU they concern, so the application reads them in order.
        for d in noted {
            self.deviation(d);
        }
        self.handle_mms(now, pdu);
    }

    fn handle_mms(&mut self, _now: Instant, pdu: MmsPdu) {
        match pdu {
            MmsPdu::ConfirmedRequest { invoke_id, request } if self.state == State::Established => {
                if self.admit_request(invoke_id) {
                    self.events.push_back(Event::Request { invoke_id, request });
                }
            }
            MmsPdu::ConfirmedResponse {
                invoke_id,
                response,
            } => {
                if self.outstanding.remove(&invoke_id).is_some() {
                    self.events.push_back(Event::Response {
                        invoke_id,
                        result: Ok(response),
                    });
                } else {
                    self.send_reject(Some(invoke_id), RejectReason::RESPONSE_INVALID_INVOKE_ID);
                    self.events
                        .push_back(Event::PeerError(PeerError::UnexpectedInvokeId(invoke_id)));
                }
            }
            MmsPdu::ConfirmedError { invoke_id, error } => {
                if self.outstanding.remove(&invoke_id).is_some() {
                    self.events.push_back(Event::Response {
                        invoke_id,
                        result: Err(RequestError::Service(error)),
                    });
                } else {
                    self.send_reject(Some(invoke_id), RejectReason::ERROR_INVALID_INVOKE_ID);
                    self.events
                        .push_back(Event::PeerError(PeerError::UnexpectedInvokeId(invoke_id)));
                }
            }
            MmsPdu::Reject(r) => match r
                .original_invoke_id
                .filter(|id| self.outstanding.contains_key(id))
            {
                Some(invoke_id) => {
                    self.outstanding.remove(&invoke_id);
                    self.events.push_back(Event::Response {
                        invoke_id,
                        result: Err(RequestError::Rejected(r)),
                    });
                }
                None => {
                    debug!(reason = %r.reason, "peer rejected one of our PDUs");
                    self.events.push_back(Event::Rejected(r))
                }
            },
            MmsPdu::Unconfirmed(u) => self.events.push_back(Event::Unconfirmed(u)),
            // A server-role association never gets established without the feature.
            #[cfg(feature = "server")]
            MmsPdu::ConcludeRequest
                if self.role == Role::Server && self.state == State::Established =>
            {
                if self.incoming.is_empty() {
                    let _ = self.send_mms_with(pdu::encode_conclude_response);
                    self.state = State::ExpectReleaseRequest;
                } else {
                    // ISO 9506-2 §8.4: conclude is refused while requests are being served.
                    let e = service_error(ErrorClass::CONCLUDE_FURTHER_COMMUNICATION_REQUIRED);
                    let _ = self.send_mms_with(|w| pdu::encode_conclude_error(w, &e));
                }
            }
            MmsPdu::ConcludeResponse if self.state == State::ExpectConcludeResponse => {
                self.send_release_request();
                self.state = State::ExpectReleaseResponse;
            }
            MmsPdu::ConcludeError(_) if self.state == State::ExpectConcludeResponse => {
                self.state = State::Established;
                self.deadline = None;
                self.events
                    .push_back(Event::PeerError(PeerError::Unexpected(
                        "conclude refused by peer",
                    )));
            }
            MmsPdu::CancelRequest(invoke_id) => {
                // Requests are answered as they come, so there is never one left to cancel.
                let e = service_error(ErrorClass::CANCEL_NOT_POSSIBLE);
                let _ = self.send_mms_with(|w| pdu::encode_cancel_error(w, invoke_id, &e));
            }
            other => {
                let (reason, what) = match other {
                    MmsPdu::ConfirmedRequest { .. } => {
                        (RejectReason::INVALID_PDU, "confirmed request while closing")
                    }
                    MmsPdu::ConcludeRequest => (
                        RejectReason::CONCLUDE_REQUEST_INVALID_ARGUMENT,
                        "conclude request not expected",
                    ),
                    _ => (RejectReason::INVALID_PDU, "MMS PDU not expected here"),
                };
                self.send_reject(None, reason);
                self.events
                    .push_back(Event::PeerError(PeerError::Unexpected(what)));
            }
        }
    }

    /// A confirmed request arrived while established: `true` if it is to be served (now
    /// outstanding); otherwise it was rejected (a duplicate invoke id, or one too many).
    fn admit_request(&mut self, invoke_id: u32) -> bool {
        let limit = match self.role {
            Role::Server => self.negotiated.max_serv_outstanding_calling,
            Role::Client => self.negotiated.max_serv_outstanding_called,
        };
        if self.incoming.contains(&invoke_id) {
            self.send_reject(Some(invoke_id), RejectReason::INVALID_INVOKE_ID);
            self.events
                .push_back(Event::PeerError(PeerError::DuplicateInvokeId(invoke_id)));
            false
        } else if self.incoming.len() >= usize::from(limit) {
            self.send_reject(Some(invoke_id), RejectReason::MAX_SERV_OUTSTANDING_EXCEEDED);
            self.events
                .push_back(Event::PeerError(PeerError::TooManyOutstanding {
                    invoke_id,
                }));
            false
        } else {
            self.incoming.insert(invoke_id);
            true
        }
    }

    fn send_reject(&mut self, original_invoke_id: Option<u32>, reason: RejectReason) {
        debug!(invoke_id = ?original_invoke_id, %reason, "MMS Reject sent");
        let r = RejectPdu {
            original_invoke_id,
            reason,
        };
        let _ = self.send_mms_with(|w| r.encode(w));
    }

    /// Frame an MMS PDU as TPKT / COTP DT / session GT+DT / presentation user data, straight into the
    /// transmit buffer, checking the negotiated max PDU size.
    fn send_mms_with(&mut self, f: impl FnOnce(&mut Writer<'_>)) -> Result<(), ApiError> {
        let mut f = Some(f);
        self.send_mms_dyn(&mut |w| {
            if let Some(f) = f.take() {
                f(w)
            }
        })
    }

    /// [`Self::send_mms_with`] once for every PDU writer: the framing is not copied into each.
    fn send_mms_dyn(&mut self, f: &mut dyn FnMut(&mut Writer<'_>)) -> Result<(), ApiError> {
        let start = self.out.len();
        let max_pdu = self.negotiated.max_pdu_size as usize;
        let ctx = self.mms_ctx;
        let mut too_large = false;
        cotp::write_tsdu(
            &mut self.out,
            self.negotiated.tpdu_size,
            &mut self.scratch,
            |o| {
                session::write_data_header(o);
                let mut w = Writer::new(o);
                presentation::write_user_data(&mut w, ctx, |w| {
                    let before = w.len();
                    f(w);
                    too_large = w.len() - before > max_pdu;
                });
            },
        );
        if too_large {
            self.out.truncate(start);
            return Err(ApiError::PduTooLarge);
        }
        Ok(())
    }

    // ---- internals: ending ----

    fn close(&mut self, error: Option<AssocError>) {
        match &error {
            None => debug!("association released"),
            Some(e @ AssocError::Refused { .. }) => debug!(cause = %e, "association refused"),
            Some(e) => debug!(cause = %e, "association closed"),
        }
        self.state = State::Closed;
        self.deadline = None;
        for invoke_id in core::mem::take(&mut self.outstanding).into_keys() {
            self.events.push_back(Event::Response {
                invoke_id,
                result: Err(RequestError::AssociationClosed),
            });
        }
        self.incoming.clear();
        self.pending = None;
        self.error.clone_from(&error);
        self.events.push_back(Event::Closed(error));
    }

    /// A fatal error: any answer to the peer is already queued (or none is due).
    fn fail(&mut self, e: AssocError) {
        self.close(Some(e));
    }

    /// A fatal error in or above the session layer: tell the peer with an abort first.
    fn fail_with_abort(&mut self, e: AssocError) {
        if self.state_has_session() || self.state == State::ExpectConnect {
            self.send_provider_abort();
        }
        self.close(Some(e));
    }

    /// Report a peer deviation we accepted.
    fn deviation(&mut self, d: Deviation) {
        info!(deviation = %d, "peer deviation accepted");
        self.events.push_back(Event::Deviation(d));
    }

    fn refused(&mut self, reason: RefusalReason) {
        self.close(Some(AssocError::Refused(reason)));
    }
}

/// Whether tracing's levels are compiled in. Off (the browser package), every span is empty: a
/// constant test, so entering one is not in that build.
fn tracing_on() -> bool {
    tracing::level_filters::STATIC_MAX_LEVEL != tracing::level_filters::LevelFilter::OFF
}

/// What an association queues for `poll_event`: an event, or a recognized plain Read that
/// becomes [`Event::Request`] only if someone polls it as an event.
#[derive(Debug)]
pub(crate) enum Queued {
    Event(Event),
    // Only a server recognizes plain Reads: without it the variant (and the conversion of a
    // plain Read into a general request) is not in the build at all.
    #[cfg(feature = "server")]
    Read(InlineRead),
}

#[cfg(feature = "server")]
impl InlineRead {
    fn into_event(self) -> Event {
        Event::Request {
            invoke_id: self.invoke_id,
            request: ConfirmedRequest::Read(self.to_request()),
        }
    }
}

/// The association's event queue; `push_back` queues an [`Event`].
#[derive(Debug, Default)]
struct EventQueue(VecDeque<Queued>);

impl EventQueue {
    fn push_back(&mut self, e: Event) {
        self.0.push_back(Queued::Event(e));
    }
}

/// A ServiceError with just its class and code.
pub(crate) fn service_error(class: ErrorClass) -> ServiceError {
    ServiceError {
        class,
        additional_code: None,
        description: None,
    }
}

fn write_tpdu(out: &mut Vec<u8>, t: &Tpdu<'_>) {
    let start = tpkt::begin(out);
    t.encode(out);
    tpkt::finish(out, start);
}

/// An ACSE user-information PDV for the MMS context.
fn mms_pdv(ctx: i64, bytes: &[u8]) -> Pdv<'_> {
    Pdv {
        context_id: ctx,
        data: bytes,
    }
}
