//! Extension points of the [`Endpoint`](super::Endpoint): how a layer above MMS (TASE.2) takes part
//! in serving requests without a second copy of the namespace.
//!
//! The [`Vmd`] stays the one namespace: GetNameList, GetVariableAccessAttributes and the named
//! variable list services read it. A variable whose [`Variable::slot`](super::Variable::slot) is set
//! holds no value of its own; Read and Write of it go to [`Hooks::read`] / [`Hooks::write`], so the
//! layer above keeps live values in its own typed form (and gives reads side effects, such as
//! reserving a transfer set). Every service also asks [`Hooks::visible`], [`Hooks::may_read`] and
//! [`Hooks::may_write`] first, which is where per-client scopes (bilateral tables) are enforced.

use alloc::collections::{BTreeMap, VecDeque};
use core::fmt::Debug;

use super::{Conn, ConnectionId, ServerEvent, Vmd};
use crate::acse::AssociateDiagnostic;
use crate::assoc::{ApiError, AssociateRequest};
use crate::ber::Writer;
use crate::mms::{DataAccessError, InformationReport, ObjectName};
use crate::time::Instant;

/// What a [`Hooks`] call may touch besides its own state: the caller's association and the
/// endpoint's event queue.
pub struct Ctx<'a, E> {
    /// The time of the input being handled.
    pub now: Instant,
    /// The association the request came from.
    pub id: ConnectionId,
    /// The namespace, for looking up names (values of slotted variables are the hooks' own).
    pub model: &'a Vmd,
    pub(super) events: &'a mut VecDeque<ServerEvent<E>>,
    /// Set while serving a Write: the endpoint's counter of deferred writes.
    pub(super) next_write: Option<&'a mut u64>,
    /// The token handed out by [`Ctx::defer_write`] during this call.
    pub(super) deferred: Option<WriteToken>,
}

impl<'a, E> Ctx<'a, E> {
    pub(super) fn new(
        now: Instant,
        id: ConnectionId,
        model: &'a Vmd,
        events: &'a mut VecDeque<ServerEvent<E>>,
    ) -> Self {
        Ctx {
            now,
            id,
            model,
            events,
            next_write: None,
            deferred: None,
        }
    }

    /// Queue an application event (it comes out of `Endpoint::poll_event` as
    /// [`ServerEvent::Extension`]).
    pub fn emit(&mut self, event: E) {
        self.events.push_back(ServerEvent::Extension(event));
    }

    /// From [`Hooks::write`]: answer this write later. The hooks return `Ok(())` and keep the
    /// token; the Write response waits until [`Endpoint::complete_write`](super::Endpoint::complete_write)
    /// or [`Outbox::complete_write`] gives the result (other requests are served meanwhile, MMS
    /// matches responses by invoke id). `None` outside a Write.
    ///
    /// This is how an application decides a device operate: the request is held, not answered
    /// with a guess.
    pub fn defer_write(&mut self) -> Option<WriteToken> {
        let seq = self.next_write.as_deref_mut()?;
        *seq += 1;
        let token = WriteToken {
            id: self.id,
            seq: *seq,
        };
        self.deferred = Some(token);
        Some(token)
    }
}

/// A Write whose answer [`Hooks::write`] deferred (see [`Ctx::defer_write`]).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct WriteToken {
    /// The association that wrote.
    pub id: ConnectionId,
    seq: u64,
}

impl WriteToken {
    pub(super) fn seq(self) -> u64 {
        self.seq
    }
}

/// One Write request waiting for deferred answers.
#[derive(Debug)]
pub(super) struct PendingWrite {
    pub(super) invoke_id: u32,
    /// Every variable's answer; `None` while deferred.
    pub(super) results: alloc::vec::Vec<Option<crate::mms::WriteResult>>,
    /// Deferred variables: (token sequence, index in `results`, name, value for the event).
    pub(super) waiting: alloc::vec::Vec<(u64, usize, ObjectName, crate::mms::Data)>,
}

/// Give the answer of a deferred write; the response goes out when its last variable is answered.
pub(super) fn complete_write<E>(
    conns: &mut BTreeMap<ConnectionId, Conn>,
    events: &mut VecDeque<ServerEvent<E>>,
    token: WriteToken,
    result: Result<(), DataAccessError>,
) -> Result<(), ApiError> {
    let c = conns.get_mut(&token.id).ok_or(ApiError::InvalidState)?;
    let (p, w) = c
        .pending_writes
        .iter()
        .enumerate()
        .find_map(|(p, pw)| {
            pw.waiting
                .iter()
                .position(|(seq, ..)| *seq == token.seq)
                .map(|w| (p, w))
        })
        .ok_or(ApiError::InvalidState)?;
    let pw = &mut c.pending_writes[p];
    let (_, index, name, value) = pw.waiting.swap_remove(w);
    pw.results[index] = Some(match result {
        Ok(()) => {
            events.push_back(ServerEvent::Written {
                id: token.id,
                name,
                value,
            });
            crate::mms::WriteResult::Success
        }
        Err(e) => crate::mms::WriteResult::Failure(e),
    });
    if !pw.waiting.is_empty() {
        return Ok(());
    }
    let pw = c.pending_writes.swap_remove(p);
    let results = pw.results.into_iter().flatten().collect();
    c.assoc
        .send_response(pw.invoke_id, crate::mms::ConfirmedResponse::Write(results))
}

/// Access to every association, for sending unsolicited PDUs (reports) from [`Hooks`] code.
pub struct Outbox<'a, E> {
    pub(super) conns: &'a mut BTreeMap<ConnectionId, Conn>,
    pub(super) events: &'a mut VecDeque<ServerEvent<E>>,
    /// The namespace.
    pub model: &'a Vmd,
    /// Connections written to, for the endpoint's bookkeeping.
    pub(super) touched: &'a mut alloc::vec::Vec<ConnectionId>,
    pub(super) max_queued: usize,
}

impl<E> Outbox<'_, E> {
    /// Whether `id`'s queued output is above the endpoint's cap
    /// ([`ServerConfig::max_queued_output`](super::ServerConfig::max_queued_output)): hold
    /// back what can wait (reports) until [`Hooks::writable`] says it drained.
    pub fn is_blocked(&self, id: ConnectionId) -> bool {
        self.conns
            .get(&id)
            .is_some_and(|c| c.assoc.queued_output() > self.max_queued)
    }

    /// The negotiated maximum MMS PDU size of `id` (`None` if it is not established).
    pub fn max_pdu_size(&self, id: ConnectionId) -> Option<usize> {
        let c = self.conns.get(&id)?;
        c.assoc
            .is_established()
            .then(|| c.assoc.negotiated().max_pdu_size as usize)
    }

    /// Send an unconfirmed MMS PDU to `id`, written by `f` (e.g. with
    /// [`crate::mms::write_information_report`]). Fails with [`ApiError::PduTooLarge`] (and sends
    /// nothing) if it exceeds the negotiated size.
    pub fn send_raw(
        &mut self,
        id: ConnectionId,
        f: impl FnOnce(&mut Writer<'_>),
    ) -> Result<(), ApiError> {
        let c = self.conns.get_mut(&id).ok_or(ApiError::InvalidState)?;
        self.touched.push(id);
        c.assoc.send_raw_mms(None, f)
    }

    /// Send an owned InformationReport to `id`.
    pub fn send_report(
        &mut self,
        id: ConnectionId,
        report: InformationReport,
    ) -> Result<(), ApiError> {
        let c = self.conns.get_mut(&id).ok_or(ApiError::InvalidState)?;
        self.touched.push(id);
        c.assoc
            .send_unconfirmed(crate::mms::UnconfirmedService::InformationReport(report))
    }

    /// Queue an application event.
    pub fn emit(&mut self, event: E) {
        self.events.push_back(ServerEvent::Extension(event));
    }

    /// Answer a deferred write (see [`Ctx::defer_write`]). Fails with
    /// [`ApiError::InvalidState`] if the token is unknown (answered already, or its association
    /// ended).
    pub fn complete_write(
        &mut self,
        token: WriteToken,
        result: Result<(), DataAccessError>,
    ) -> Result<(), ApiError> {
        self.touched.push(token.id);
        complete_write(self.conns, self.events, token, result)
    }

    /// Associations that are established.
    pub fn established(&self) -> impl Iterator<Item = ConnectionId> + '_ {
        self.conns
            .iter()
            .filter(|(_, c)| c.assoc.is_established())
            .map(|(&id, _)| id)
    }
}

/// The extension points; every method has a default that keeps plain MMS behaviour.
pub trait Hooks {
    /// Events of the layer above, delivered as [`ServerEvent::Extension`].
    type Event: Clone + Debug + PartialEq;

    /// Write what defines these hooks' configuration and state (for a recording's
    /// fingerprint, [`Endpoint::fingerprint`](super::Endpoint::fingerprint)); nothing by default.
    fn digest(&self, _out: &mut dyn core::fmt::Write) -> core::fmt::Result {
        Ok(())
    }

    /// A peer asks to associate (after `ServerConfig::policy` accepted it): refuse with an ACSE
    /// diagnostic, or accept and remember who `id` is.
    fn associate(
        &mut self,
        _id: ConnectionId,
        _req: &AssociateRequest,
    ) -> Result<(), AssociateDiagnostic> {
        Ok(())
    }

    /// [`Self::associate`] with the identity the transport proved (TLS client certificate, see
    /// [`Endpoint::authenticate`](super::Endpoint::authenticate)); the endpoint calls this one.
    /// By default the identity is ignored and [`Self::associate`] decides.
    fn associate_authenticated(
        &mut self,
        id: ConnectionId,
        req: &AssociateRequest,
        _identity: Option<&super::PeerIdentity>,
    ) -> Result<(), AssociateDiagnostic> {
        self.associate(id, req)
    }

    /// Association `id` ended, however it ended; free what it held.
    fn closed(&mut self, _out: &mut Outbox<'_, Self::Event>, _id: ConnectionId) {}

    /// `id`'s queued output fell back under the cap after [`Outbox::is_blocked`] was true:
    /// send what was held back (the endpoint runs [`Hooks::run`] right after).
    fn writable(&mut self, _out: &mut Outbox<'_, Self::Event>, _id: ConnectionId) {}

    /// Whether `id` may know that the domain `domain` exists (GetNameList of domains, and every
    /// service naming an object in it). A hidden object answers object-non-existent.
    fn domain_visible(&self, _id: ConnectionId, _domain: &str) -> bool {
        true
    }

    /// Whether `id` may know that `name` exists (after [`Self::domain_visible`]).
    fn visible(&self, _id: ConnectionId, _name: &ObjectName) -> bool {
        true
    }

    /// Whether `id` may read `name` (a visible object). A refusal answers object-access-denied.
    fn may_read(&self, _id: ConnectionId, _name: &ObjectName) -> bool {
        true
    }

    /// What a Read asks of each existing variable, in one call: `Err(OBJECT_NON_EXISTENT)` if
    /// [`Self::domain_visible`] (for a domain-specific name) or [`Self::visible`] says no,
    /// `Err(OBJECT_ACCESS_DENIED)` if [`Self::may_read`] does, `Ok` otherwise. Override it only to
    /// answer all three with one look-up; it must agree with them.
    fn read_access(&self, id: ConnectionId, name: &ObjectName) -> Result<(), DataAccessError> {
        let visible = match name {
            ObjectName::DomainSpecific { domain, .. } => {
                self.domain_visible(id, domain) && self.visible(id, name)
            }
            _ => self.visible(id, name),
        };
        if !visible {
            Err(DataAccessError::OBJECT_NON_EXISTENT)
        } else if !self.may_read(id, name) {
            Err(DataAccessError::OBJECT_ACCESS_DENIED)
        } else {
            Ok(())
        }
    }

    /// Whether `id` may write `name` (a visible object; `Variable::writable` is checked too for
    /// variables without a slot).
    fn may_write(&self, _id: ConnectionId, _name: &ObjectName) -> bool {
        true
    }

    /// Whether `id` may define the named variable list `name` (its scope is the question: TASE.2
    /// clients define data sets in their own ICC domain only).
    fn may_define_list(&self, _id: ConnectionId, _name: &ObjectName) -> bool {
        true
    }

    /// Whether `id` may delete the list `name` now (a TASE.2 data set in use by a running transfer
    /// set may not go).
    fn may_delete_list(&self, _id: ConnectionId, _name: &ObjectName) -> bool {
        true
    }

    /// Read the slotted variable `name`: write its value with `w` (nothing on error).
    fn read(
        &mut self,
        _ctx: &mut Ctx<'_, Self::Event>,
        _name: &ObjectName,
        _slot: u32,
        _w: &mut Writer<'_>,
    ) -> Result<(), DataAccessError> {
        Err(DataAccessError::OBJECT_NON_EXISTENT)
    }

    /// Write the slotted variable `name`; `component` is the component an MMS alternate access
    /// selected (e.g. `Status` of a transfer set), if any. To answer later, call
    /// [`Ctx::defer_write`] and return `Ok(())`.
    fn write(
        &mut self,
        _ctx: &mut Ctx<'_, Self::Event>,
        _name: &ObjectName,
        _slot: u32,
        _component: Option<&str>,
        _value: &crate::mms::Data,
    ) -> Result<(), DataAccessError> {
        Err(DataAccessError::OBJECT_ACCESS_DENIED)
    }

    /// An unconfirmed PDU (e.g. an InformationReport acknowledging a report) came from `id`.
    fn unconfirmed(
        &mut self,
        _ctx: &mut Ctx<'_, Self::Event>,
        _service: &crate::mms::UnconfirmedService,
    ) {
    }

    /// The hooks' next deadline.
    fn poll_timeout(&self) -> Option<Instant> {
        None
    }

    /// Run what is due at `now` (also called after every input, so work queued by a request, such
    /// as the first report of a transfer set just started, goes out right after its response).
    fn run(&mut self, _out: &mut Outbox<'_, Self::Event>, _now: Instant) {}
}

/// Plain MMS: no extension.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoHooks;

impl Hooks for NoHooks {
    type Event = core::convert::Infallible;
}

/// The component name in an MMS AlternateAccess that selects one named component
/// (`SEQUENCE OF { selectAccess component [1] IMPLICIT Identifier }`), as libiec61850's
/// `writeVariableComponent` and TASE.2 clients send it. Anything else is `None`.
pub(crate) fn component_of(alternate_access: &[u8]) -> Option<alloc::string::String> {
    use crate::ber::{Reader, Tag};
    let mut r = Reader::new(alternate_access);
    let first = r.read_opt().ok()??;
    if !r.is_empty() || first.tag != Tag::context(1) {
        return None;
    }
    let s = core::str::from_utf8(first.content).ok()?;
    Some(s.into())
}
