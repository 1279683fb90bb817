//! The MMS client: one typed method per confirmed service over a client [`Association`].
//!
//! Every request method queues the request and returns its invoke id at once; the answer arrives as
//! [`Event::Response`] with that id (or a typed [`RequestError`]). Drive it exactly like an
//! [`Association`]: feed bytes and timeouts in, drain transmits and events out.

use alloc::string::String;
use alloc::vec::Vec;

use crate::assoc::{ApiError, Association, AssociationConfig, Event, Negotiated};
use crate::mms::{
    ConfirmedRequest, Data, DefineNamedVariableListRequest, DeleteNamedVariableListRequest,
    DeleteScope, GetNameListRequest, ObjectClass, ObjectName, ObjectScope, ReadRequest,
    UnconfirmedService, VariableAccessSpecification, VariableSpec, WriteRequest,
};
use crate::time::Instant;

pub use crate::assoc::RequestError;

/// An MMS client association.
#[derive(Debug)]
pub struct Client {
    assoc: Association,
}

fn specs(names: &[ObjectName]) -> Vec<VariableSpec> {
    names
        .iter()
        .map(|n| VariableSpec {
            name: n.clone(),
            alternate_access: None,
        })
        .collect()
}

impl Client {
    /// Start connecting: the first bytes are ready in [`Self::poll_transmit`] at once.
    pub fn new(config: AssociationConfig, now: Instant) -> Self {
        Client {
            assoc: Association::client(config, now),
        }
    }

    /// The underlying association.
    pub fn association(&self) -> &Association {
        &self.assoc
    }

    /// Whether requests may be sent.
    pub fn is_established(&self) -> bool {
        self.assoc.is_established()
    }

    /// Whether the association has ended.
    pub fn is_closed(&self) -> bool {
        self.assoc.is_closed()
    }

    /// What Initiate negotiated.
    pub fn negotiated(&self) -> &Negotiated {
        self.assoc.negotiated()
    }

    /// Bytes from the server.
    pub fn handle_input(&mut self, now: Instant, data: &[u8]) {
        self.assoc.handle_input(now, data);
    }

    /// The deadline from [`Self::poll_timeout`] passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.assoc.handle_timeout(now);
    }

    /// The transport closed.
    pub fn handle_transport_closed(&mut self) {
        self.assoc.handle_transport_closed();
    }

    /// Bytes for the server, appended to `buf`; returns how many.
    pub fn poll_transmit(&mut self, buf: &mut Vec<u8>) -> usize {
        self.assoc.poll_transmit(buf)
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.assoc.poll_event()
    }

    /// The next deadline.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.assoc.poll_timeout()
    }

    /// Send any confirmed request.
    pub fn request(&mut self, now: Instant, request: ConfirmedRequest) -> Result<u32, ApiError> {
        self.assoc.send_request(now, request)
    }

    /// [`Self::request`] with the request borrowed.
    pub(crate) fn request_ref(
        &mut self,
        now: Instant,
        request: &ConfirmedRequest,
    ) -> Result<u32, ApiError> {
        self.assoc.send_request_ref(now, request)
    }

    /// Send an unconfirmed PDU, e.g. the InformationReport that acknowledges a critical TASE.2
    /// report (`tase2::client::ack`).
    pub fn send_unconfirmed(&mut self, service: UnconfirmedService) -> Result<(), ApiError> {
        self.assoc.send_unconfirmed(service)
    }

    /// Identify: vendor, model and revision.
    pub fn identify(&mut self, now: Instant) -> Result<u32, ApiError> {
        self.request(now, ConfirmedRequest::Identify)
    }

    /// Status of the VMD.
    pub fn status(&mut self, now: Instant) -> Result<u32, ApiError> {
        self.request(
            now,
            ConfirmedRequest::Status {
                extended_derivation: false,
            },
        )
    }

    /// GetNameList for one page; continue with the last name received while `more_follows`.
    pub fn get_name_list(
        &mut self,
        now: Instant,
        object_class: ObjectClass,
        scope: ObjectScope,
        continue_after: Option<String>,
    ) -> Result<u32, ApiError> {
        self.request(
            now,
            ConfirmedRequest::GetNameList(GetNameListRequest {
                object_class,
                scope,
                continue_after,
            }),
        )
    }

    /// Read named variables.
    pub fn read(&mut self, now: Instant, names: &[ObjectName]) -> Result<u32, ApiError> {
        self.request(
            now,
            ConfirmedRequest::Read(ReadRequest {
                specification_with_result: false,
                variables: VariableAccessSpecification::ListOfVariable(specs(names)),
            }),
        )
    }

    /// Read every member of a named variable list.
    pub fn read_list(&mut self, now: Instant, list: ObjectName) -> Result<u32, ApiError> {
        self.request(
            now,
            ConfirmedRequest::Read(ReadRequest {
                specification_with_result: false,
                variables: VariableAccessSpecification::VariableListName(list),
            }),
        )
    }

    /// Write named variables, one value each.
    pub fn write(
        &mut self,
        now: Instant,
        names: &[ObjectName],
        values: Vec<Data>,
    ) -> Result<u32, ApiError> {
        self.request(
            now,
            ConfirmedRequest::Write(WriteRequest {
                variables: VariableAccessSpecification::ListOfVariable(specs(names)),
                data: values,
            }),
        )
    }

    /// Write variables given by full specifications (e.g. one component of a structure selected
    /// by alternate access, see `tase2::client::component`), one value each.
    pub fn write_specs(
        &mut self,
        now: Instant,
        specs: Vec<crate::mms::VariableSpec>,
        values: Vec<Data>,
    ) -> Result<u32, ApiError> {
        self.request(
            now,
            ConfirmedRequest::Write(WriteRequest {
                variables: VariableAccessSpecification::ListOfVariable(specs),
                data: values,
            }),
        )
    }

    /// The type of a named variable.
    pub fn get_variable_access_attributes(
        &mut self,
        now: Instant,
        name: ObjectName,
    ) -> Result<u32, ApiError> {
        self.request(now, ConfirmedRequest::GetVariableAccessAttributes(name))
    }

    /// Define a named variable list.
    pub fn define_named_variable_list(
        &mut self,
        now: Instant,
        name: ObjectName,
        members: &[ObjectName],
    ) -> Result<u32, ApiError> {
        self.request(
            now,
            ConfirmedRequest::DefineNamedVariableList(DefineNamedVariableListRequest {
                name,
                variables: specs(members),
            }),
        )
    }

    /// The members of a named variable list.
    pub fn get_named_variable_list_attributes(
        &mut self,
        now: Instant,
        name: ObjectName,
    ) -> Result<u32, ApiError> {
        self.request(now, ConfirmedRequest::GetNamedVariableListAttributes(name))
    }

    /// Delete named variable lists by name.
    pub fn delete_named_variable_lists(
        &mut self,
        now: Instant,
        names: &[ObjectName],
    ) -> Result<u32, ApiError> {
        self.request(
            now,
            ConfirmedRequest::DeleteNamedVariableList(DeleteNamedVariableListRequest {
                scope: DeleteScope::Specific,
                names: names.to_vec(),
                domain: None,
            }),
        )
    }

    /// Orderly release: Conclude, then ACSE release. [`Event::Closed`] with `None` confirms it.
    pub fn conclude(&mut self, now: Instant) -> Result<(), ApiError> {
        self.assoc.conclude(now)
    }

    /// Abort at once.
    pub fn abort(&mut self) {
        self.assoc.abort();
    }
}
