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
}

impl<E> Ctx<'_, E> {
    /// Queue an application event (it comes out of `Endpoint::poll_event` as
    /// [`ServerEvent::Extension`]).
    pub fn emit(&mut self, event: E) {
        self.events.push_back(ServerEvent::Extension(event));
    }
}

/// Access to every association, for sending unsolicited PDUs (reports) from [`Hooks`] code.
pub struct Outbox<'a, E> {
    pub(super) conns: &'a mut BTreeMap<ConnectionId, Conn>,
    pub(super) events: &'a mut VecDeque<ServerEvent<E>>,
    /// The namespace.
    pub model: &'a Vmd,
}

impl<E> Outbox<'_, E> {
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
        c.assoc.send_raw_mms(None, f)
    }

    /// Send an owned InformationReport to `id`.
    pub fn send_report(
        &mut self,
        id: ConnectionId,
        report: InformationReport,
    ) -> Result<(), ApiError> {
        let c = self.conns.get_mut(&id).ok_or(ApiError::InvalidState)?;
        c.assoc
            .send_unconfirmed(crate::mms::UnconfirmedService::InformationReport(report))
    }

    /// Queue an application event.
    pub fn emit(&mut self, event: E) {
        self.events.push_back(ServerEvent::Extension(event));
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

    /// A peer asks to associate (after `ServerConfig::policy` accepted it): refuse with an ACSE
    /// diagnostic, or accept and remember who `id` is.
    fn associate(
        &mut self,
        _id: ConnectionId,
        _req: &AssociateRequest,
    ) -> Result<(), AssociateDiagnostic> {
        Ok(())
    }

    /// Association `id` ended, however it ended; free what it held.
    fn closed(&mut self, _out: &mut Outbox<'_, Self::Event>, _id: ConnectionId) {}

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
    /// selected (e.g. `Status` of a transfer set), if any. The value is raw BER of one `Data`.
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
