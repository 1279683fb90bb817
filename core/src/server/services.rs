//! Answering each MMS confirmed service from the model (ISO 9506-1 clauses named at each service).

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use super::{Endpoint, NamedVariableList, ServerEvent, Vmd};
use crate::assoc::ApiError;
use crate::ber::Writer;
use crate::mms::{write_access_failure, write_access_success, write_read_response};
use crate::mms::{
    AccessResult, ConfirmedRequest, ConfirmedResponse, DataAccessError,
    DefineNamedVariableListRequest, DeleteNamedVariableListRequest, DeleteScope, ErrorClass,
    GetNameListRequest, GetNameListResponse, GetNamedVariableListAttributesResponse,
    GetVariableAccessAttributesResponse, IdentifyResponse, ObjectClass, ObjectName, ObjectScope,
    ReadRequest, ReadResponse, RejectReason, ServiceError, StatusResponse,
    VariableAccessSpecification, VariableSpec, WriteRequest, WriteResult,
};
use crate::server::ConnectionId;
use crate::time::Instant;

use crate::assoc::service_error as err;

type AaLists = BTreeMap<String, NamedVariableList>;

/// The members of `list`, or `None` if no such list is visible to this association.
pub(super) fn list_members<'m>(
    model: &'m Vmd,
    aa: &'m AaLists,
    list: &ObjectName,
) -> Option<&'m [ObjectName]> {
    let l = match list {
        ObjectName::VmdSpecific(n) => model.lists.get(n),
        ObjectName::DomainSpecific { domain, item } => model.domains.get(domain)?.lists.get(item),
        ObjectName::AaSpecific(n) => aa.get(n),
    }?;
    Some(&l.members)
}

pub(super) fn serve(
    ep: &mut Endpoint,
    _now: Instant,
    id: ConnectionId,
    invoke_id: u32,
    request: ConfirmedRequest,
) {
    let answer = match request {
        ConfirmedRequest::Identify => Ok(ConfirmedResponse::Identify(IdentifyResponse {
            vendor_name: ep.model.identity.vendor.clone(),
            model_name: ep.model.identity.model.clone(),
            revision: ep.model.identity.revision.clone(),
            abstract_syntaxes: Vec::new(),
        })),
        // ISO 9506-1 §10.3: logical state 0 state-changes-allowed, physical 0 operational.
        ConfirmedRequest::Status { .. } => Ok(ConfirmedResponse::Status(StatusResponse {
            vmd_logical_status: 0,
            vmd_physical_status: 0,
            local_detail: None,
        })),
        ConfirmedRequest::GetNameList(req) => get_name_list(ep, id, req),
        ConfirmedRequest::Read(req) if !req.specification_with_result => {
            read_streamed(ep, id, invoke_id, &req.variables);
            return;
        }
        ConfirmedRequest::Read(req) => Ok(read(ep, id, req)),
        ConfirmedRequest::Write(req) => write(ep, id, req),
        ConfirmedRequest::GetVariableAccessAttributes(name) => match ep.model.variable(&name) {
            Some(v) => Ok(ConfirmedResponse::GetVariableAccessAttributes(
                GetVariableAccessAttributesResponse {
                    mms_deletable: false,
                    type_description: v.type_description.clone(),
                },
            )),
            None => Err(err(ErrorClass::ACCESS_OBJECT_NON_EXISTENT)),
        },
        ConfirmedRequest::DefineNamedVariableList(req) => define_list(ep, id, req),
        ConfirmedRequest::GetNamedVariableListAttributes(name) => {
            let conn = &ep.conns[&id];
            let l = match &name {
                ObjectName::VmdSpecific(n) => ep.model.lists.get(n),
                ObjectName::DomainSpecific { domain, item } => {
                    ep.model.domains.get(domain).and_then(|d| d.lists.get(item))
                }
                ObjectName::AaSpecific(n) => conn.aa_lists.get(n),
            };
            match l {
                Some(l) => Ok(ConfirmedResponse::GetNamedVariableListAttributes(
                    GetNamedVariableListAttributesResponse {
                        mms_deletable: l.deletable,
                        variables: l
                            .members
                            .iter()
                            .map(|m| VariableSpec {
                                name: m.clone(),
                                alternate_access: None,
                            })
                            .collect(),
                    },
                )),
                None => Err(err(ErrorClass::ACCESS_OBJECT_NON_EXISTENT)),
            }
        }
        ConfirmedRequest::DeleteNamedVariableList(req) => Ok(delete_lists(ep, id, req)),
        ConfirmedRequest::Unsupported { .. } => {
            // ISO 9506-2 §7.5: an unrecognized service is rejected, not answered.
            if let Some(c) = ep.conns.get_mut(&id) {
                let _ = c
                    .assoc
                    .reject_request(invoke_id, RejectReason::UNRECOGNIZED_SERVICE);
            }
            return;
        }
    };
    let Some(conn) = ep.conns.get_mut(&id) else {
        return;
    };
    let sent = match answer {
        Ok(resp) => conn.assoc.send_response(invoke_id, resp),
        Err(e) => conn.assoc.send_error(invoke_id, e),
    };
    if sent == Err(ApiError::PduTooLarge) {
        // The answer does not fit the negotiated PDU size: say so rather than cut it.
        let _ = conn
            .assoc
            .send_error(invoke_id, err(ErrorClass::RESOURCE_CAPABILITY_UNAVAILABLE));
    }
}

/// ISO 9506-1 §10.5 GetNameList, in MMS collation order, as many names as fit the negotiated PDU.
fn get_name_list(
    ep: &Endpoint,
    id: ConnectionId,
    req: GetNameListRequest,
) -> Result<ConfirmedResponse, ServiceError> {
    let conn = &ep.conns[&id];
    let model = &ep.model;
    let no_domain = || err(ErrorClass::ACCESS_OBJECT_NON_EXISTENT);
    let names: Vec<&String> = match (&req.object_class, &req.scope) {
        (ObjectClass::NamedVariable, ObjectScope::Vmd) => model.variables.keys().collect(),
        (ObjectClass::NamedVariableList, ObjectScope::Vmd) => model.lists.keys().collect(),
        (ObjectClass::Domain, ObjectScope::Vmd) => model.domains.keys().collect(),
        (ObjectClass::NamedVariable, ObjectScope::Domain(d)) => model
            .domains
            .get(d)
            .ok_or_else(no_domain)?
            .variables
            .keys()
            .collect(),
        (ObjectClass::NamedVariableList, ObjectScope::Domain(d)) => model
            .domains
            .get(d)
            .ok_or_else(no_domain)?
            .lists
            .keys()
            .collect(),
        (ObjectClass::NamedVariableList, ObjectScope::AssociationSpecific) => {
            conn.aa_lists.keys().collect()
        }
        // Domains exist only at VMD scope.
        (ObjectClass::Domain, _) => {
            return Err(err(ErrorClass::SERVICE_OBJECT_CONSTRAINT_CONFLICT))
        }
        (_, ObjectScope::Domain(d)) if !model.domains.contains_key(d) => return Err(no_domain()),
        // Object classes this server has no instances of.
        _ => Vec::new(),
    };
    let start = match &req.continue_after {
        Some(after) => names.partition_point(|n| n.as_str() <= after.as_str()),
        None => 0,
    };
    // Budget: the negotiated PDU less the response envelope (invoke id, tags, moreFollows).
    let budget = (conn.assoc.negotiated().max_pdu_size as usize).saturating_sub(32);
    let mut used = 0;
    let mut identifiers = Vec::new();
    for n in &names[start..] {
        let cost = n.len() + if n.len() < 128 { 2 } else { 4 };
        if used + cost > budget || identifiers.len() == ep.config.max_names_per_response {
            break;
        }
        used += cost;
        identifiers.push((*n).clone());
    }
    let more_follows = start + identifiers.len() < names.len();
    Ok(ConfirmedResponse::GetNameList(GetNameListResponse {
        identifiers,
        more_follows,
    }))
}

/// ISO 9506-1 §14.6 Read, the usual form (no specification echoed): each value is encoded straight
/// from the model into the transmit buffer, with no owned copy of the response.
fn read_streamed(
    ep: &mut Endpoint,
    id: ConnectionId,
    invoke_id: u32,
    spec: &VariableAccessSpecification,
) {
    let Endpoint { model, conns, .. } = ep;
    let Some(super::Conn {
        assoc, aa_lists, ..
    }) = conns.get_mut(&id)
    else {
        return;
    };
    let write_one = |w: &mut Writer<'_>, name: &ObjectName| match model.variable(name) {
        Some(v) => write_access_success(w, &v.value),
        None => write_access_failure(w, DataAccessError::OBJECT_NON_EXISTENT),
    };
    let sent = assoc.send_raw_mms(Some(invoke_id), |w| {
        write_read_response(w, invoke_id, |w| match spec {
            VariableAccessSpecification::ListOfVariable(vars) => {
                vars.iter().for_each(|v| write_one(w, &v.name))
            }
            VariableAccessSpecification::VariableListName(list) => {
                match list_members(model, aa_lists, list) {
                    Some(members) => members.iter().for_each(|m| write_one(w, m)),
                    // An unknown list name has no member to fail individually; one failure says it.
                    None => write_access_failure(w, DataAccessError::OBJECT_NON_EXISTENT),
                }
            }
        })
    });
    if sent == Err(ApiError::PduTooLarge) {
        // The answer does not fit the negotiated PDU size: say so rather than cut it.
        let _ = assoc.send_error(invoke_id, err(ErrorClass::RESOURCE_CAPABILITY_UNAVAILABLE));
    }
}

/// ISO 9506-1 §14.6 Read, echoing the variable access specification (specificationWithResult).
fn read(ep: &Endpoint, id: ConnectionId, req: ReadRequest) -> ConfirmedResponse {
    let conn = &ep.conns[&id];
    let value_of = |name: &ObjectName| match ep.model.variable(name) {
        Some(v) => AccessResult::Success(v.value.clone()),
        None => AccessResult::Failure(DataAccessError::OBJECT_NON_EXISTENT),
    };
    let results = match &req.variables {
        VariableAccessSpecification::ListOfVariable(vars) => {
            vars.iter().map(|v| value_of(&v.name)).collect()
        }
        VariableAccessSpecification::VariableListName(list) => {
            match list_members(&ep.model, &conn.aa_lists, list) {
                Some(members) => members.iter().map(value_of).collect(),
                // An unknown list name has no member to fail individually; one failure says it.
                None => alloc::vec![AccessResult::Failure(DataAccessError::OBJECT_NON_EXISTENT)],
            }
        }
    };
    let variables = req.specification_with_result.then(|| req.variables.clone());
    ConfirmedResponse::Read(ReadResponse { variables, results })
}

/// ISO 9506-1 §14.7 Write: each value checked against its variable's type before storing.
fn write(
    ep: &mut Endpoint,
    id: ConnectionId,
    req: WriteRequest,
) -> Result<ConfirmedResponse, ServiceError> {
    let names: Vec<ObjectName> = match &req.variables {
        VariableAccessSpecification::ListOfVariable(vars) => {
            vars.iter().map(|v| v.name.clone()).collect()
        }
        VariableAccessSpecification::VariableListName(list) => {
            let conn = &ep.conns[&id];
            list_members(&ep.model, &conn.aa_lists, list)
                .ok_or(err(ErrorClass::ACCESS_OBJECT_NON_EXISTENT))?
                .to_vec()
        }
    };
    if names.len() != req.data.len() {
        return Err(err(ErrorClass::ACCESS_OBJECT_ACCESS_DENIED));
    }
    let mut results = Vec::with_capacity(names.len());
    for (name, value) in names.into_iter().zip(req.data) {
        let r = match ep.model.variable_mut(&name) {
            None => WriteResult::Failure(DataAccessError::OBJECT_NON_EXISTENT),
            Some(v) if !v.writable => WriteResult::Failure(DataAccessError::OBJECT_ACCESS_DENIED),
            Some(v) if !v.type_description.matches(&value) => {
                WriteResult::Failure(DataAccessError::TYPE_INCONSISTENT)
            }
            Some(v) => {
                v.value = value.clone();
                ep.events
                    .push_back(ServerEvent::Written { id, name, value });
                WriteResult::Success
            }
        };
        results.push(r);
    }
    Ok(ConfirmedResponse::Write(results))
}

/// ISO 9506-1 §14.10 DefineNamedVariableList.
fn define_list(
    ep: &mut Endpoint,
    id: ConnectionId,
    req: DefineNamedVariableListRequest,
) -> Result<ConfirmedResponse, ServiceError> {
    let conn = &ep.conns[&id];
    if conn.defined >= ep.config.max_client_lists
        || req.variables.len() > ep.config.max_list_members
    {
        return Err(err(ErrorClass::RESOURCE_CAPABILITY_UNAVAILABLE));
    }
    if req.variables.is_empty()
        || req
            .variables
            .iter()
            .any(|v| ep.model.variable(&v.name).is_none())
    {
        return Err(err(ErrorClass::DEFINITION_OBJECT_UNDEFINED));
    }
    let list = NamedVariableList {
        members: req.variables.iter().map(|v| v.name.clone()).collect(),
        deletable: true,
    };
    let exists = match &req.name {
        ObjectName::VmdSpecific(n) => ep.model.lists.contains_key(n),
        ObjectName::DomainSpecific { domain, item } => match ep.model.domains.get(domain) {
            Some(d) => d.lists.contains_key(item),
            None => return Err(err(ErrorClass::DEFINITION_OBJECT_UNDEFINED)),
        },
        ObjectName::AaSpecific(n) => conn.aa_lists.contains_key(n),
    };
    if exists {
        return Err(err(ErrorClass::DEFINITION_OBJECT_EXISTS));
    }
    let Some(conn) = ep.conns.get_mut(&id) else {
        return Err(err(ErrorClass::SERVICE_OTHER));
    };
    match &req.name {
        ObjectName::VmdSpecific(n) => {
            ep.model.lists.insert(n.clone(), list);
        }
        ObjectName::DomainSpecific { domain, item } => {
            if let Some(d) = ep.model.domains.get_mut(domain) {
                d.lists.insert(item.clone(), list);
            }
        }
        ObjectName::AaSpecific(n) => {
            conn.aa_lists.insert(n.clone(), list);
        }
    }
    conn.defined += 1;
    ep.events
        .push_back(ServerEvent::ListDefined { id, name: req.name });
    Ok(ConfirmedResponse::DefineNamedVariableList)
}

/// ISO 9506-1 §14.12 DeleteNamedVariableList: only deletable (client-defined) lists go.
fn delete_lists(
    ep: &mut Endpoint,
    id: ConnectionId,
    req: DeleteNamedVariableListRequest,
) -> ConfirmedResponse {
    let (mut matched, mut deleted) = (0u32, 0u32);
    let mut delete_in = |map: &mut BTreeMap<String, NamedVariableList>, item: Option<&str>| {
        let keys: Vec<String> = match item {
            Some(i) => map
                .contains_key(i)
                .then(|| String::from(i))
                .into_iter()
                .collect(),
            None => map.keys().cloned().collect(),
        };
        for k in keys {
            matched += 1;
            if map.get(&k).is_some_and(|l| l.deletable) {
                map.remove(&k);
                deleted += 1;
            }
        }
    };
    let Some(conn) = ep.conns.get_mut(&id) else {
        return ConfirmedResponse::DeleteNamedVariableList {
            number_matched: 0,
            number_deleted: 0,
        };
    };
    match req.scope {
        DeleteScope::Specific => {
            for name in &req.names {
                match name {
                    ObjectName::VmdSpecific(n) => delete_in(&mut ep.model.lists, Some(n)),
                    ObjectName::DomainSpecific { domain, item } => {
                        if let Some(d) = ep.model.domains.get_mut(domain) {
                            delete_in(&mut d.lists, Some(item));
                        }
                    }
                    ObjectName::AaSpecific(n) => delete_in(&mut conn.aa_lists, Some(n)),
                }
            }
        }
        DeleteScope::AaSpecific => delete_in(&mut conn.aa_lists, None),
        DeleteScope::Domain => {
            if let Some(d) = req
                .domain
                .as_ref()
                .and_then(|d| ep.model.domains.get_mut(d))
            {
                delete_in(&mut d.lists, None);
            }
        }
        DeleteScope::Vmd => delete_in(&mut ep.model.lists, None),
    }
    conn.defined = conn.defined.saturating_sub(deleted as usize);
    if deleted > 0 {
        ep.events
            .push_back(ServerEvent::ListsDeleted { id, count: deleted });
    }
    ConfirmedResponse::DeleteNamedVariableList {
        number_matched: matched,
        number_deleted: deleted,
    }
}
