//! Answering each MMS confirmed service from the model (ISO 9506-1 clauses named at each service).

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use super::{Ctx, Endpoint, Hooks, NamedVariableList, ServerEvent, Variable, Vmd};
use crate::assoc::ApiError;
use crate::ber::Writer;
#[cfg(feature = "server")]
use crate::mms::pdu::InlineRead;
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

/// Whether association `id` may know that `name` exists (its domain and the object itself).
pub(super) fn visible<H: Hooks>(hooks: &H, id: ConnectionId, name: &ObjectName) -> bool {
    match name {
        ObjectName::DomainSpecific { domain, .. } => {
            hooks.domain_visible(id, domain) && hooks.visible(id, name)
        }
        _ => hooks.visible(id, name),
    }
}

/// The variable `name` if `id` may see it; a hidden object answers like a missing one.
fn lookup<'m, H: Hooks>(
    model: &'m Vmd,
    hooks: &H,
    id: ConnectionId,
    name: &ObjectName,
) -> Result<&'m Variable, DataAccessError> {
    if !visible(hooks, id, name) {
        return Err(DataAccessError::OBJECT_NON_EXISTENT);
    }
    model
        .variable(name)
        .ok_or(DataAccessError::OBJECT_NON_EXISTENT)
}

/// Encode the value of `name` for `ctx.id` (an AccessResult element) straight into `w`.
fn write_value<H: Hooks>(
    ctx: &mut Ctx<'_, H::Event>,
    hooks: &mut H,
    name: &ObjectName,
    w: &mut Writer<'_>,
) {
    // The model first, then visibility and the read right in one hook call: all three are
    // pure, and a hidden or missing variable answers object-non-existent either way.
    let v = match ctx.model.variable(name) {
        Some(v) => hooks.read_access(ctx.id, name).map(|()| v),
        None => Err(DataAccessError::OBJECT_NON_EXISTENT),
    };
    let r = match v {
        Ok(v) => match v.slot {
            Some(slot) => hooks.read(ctx, name, slot, w),
            None => {
                write_access_success(w, &v.value);
                Ok(())
            }
        },
        Err(e) => Err(e),
    };
    if let Err(e) = r {
        write_access_failure(w, e);
    }
}

/// The value of `name` for `ctx.id` as an owned AccessResult (for the rare owned paths).
pub(super) fn value_of<H: Hooks>(
    ctx: &mut Ctx<'_, H::Event>,
    hooks: &mut H,
    name: &ObjectName,
) -> AccessResult {
    let mut buf = Vec::new();
    write_value(ctx, hooks, name, &mut Writer::new(&mut buf));
    let decoded = crate::ber::Reader::new(&buf)
        .read()
        .ok()
        .and_then(|tlv| AccessResult::decode(&tlv, &crate::mms::DecodeLimits::default()).ok());
    decoded.unwrap_or(AccessResult::Failure(DataAccessError::OBJECT_VALUE_INVALID))
}

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

pub(super) fn serve<H: Hooks>(
    ep: &mut Endpoint<H>,
    now: Instant,
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
            read_streamed(ep, now, id, invoke_id, &req.variables);
            return;
        }
        ConfirmedRequest::Read(req) => Ok(read(ep, now, id, req)),
        ConfirmedRequest::Write(req) => match write(ep, now, id, invoke_id, req) {
            Ok(Some(resp)) => Ok(resp),
            // The hooks answer later (Endpoint::complete_write).
            Ok(None) => return,
            Err(e) => Err(e),
        },
        ConfirmedRequest::GetVariableAccessAttributes(name) => {
            match lookup(&ep.model, &ep.hooks, id, &name) {
                Ok(v) => Ok(ConfirmedResponse::GetVariableAccessAttributes(
                    GetVariableAccessAttributesResponse {
                        mms_deletable: false,
                        type_description: v.type_description.clone(),
                    },
                )),
                Err(_) => Err(err(ErrorClass::ACCESS_OBJECT_NON_EXISTENT)),
            }
        }
        ConfirmedRequest::DefineNamedVariableList(req) => define_list(ep, id, req),
        ConfirmedRequest::GetNamedVariableListAttributes(name) => {
            let conn = &ep.conns[&id];
            let l = match &name {
                n if !visible(&ep.hooks, id, n) => None,
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
fn get_name_list<H: Hooks>(
    ep: &Endpoint<H>,
    id: ConnectionId,
    req: GetNameListRequest,
) -> Result<ConfirmedResponse, ServiceError> {
    let conn = &ep.conns[&id];
    let model = &ep.model;
    let hooks = &ep.hooks;
    let no_domain = || err(ErrorClass::ACCESS_OBJECT_NON_EXISTENT);
    if let ObjectScope::Domain(d) = &req.scope {
        if !hooks.domain_visible(id, d) {
            return Err(no_domain());
        }
    }
    let mut names: Vec<&String> = match (&req.object_class, &req.scope) {
        (ObjectClass::NamedVariable, ObjectScope::Vmd) => model.variables.keys().collect(),
        (ObjectClass::NamedVariableList, ObjectScope::Vmd) => model.lists.keys().collect(),
        (ObjectClass::Domain, ObjectScope::Vmd) => model
            .domains
            .keys()
            .filter(|d| hooks.domain_visible(id, d))
            .collect(),
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
        (ObjectClass::NamedVariable, ObjectScope::AssociationSpecific) => {
            model.aa_variables.keys().collect()
        }
        // Domains exist only at VMD scope.
        (ObjectClass::Domain, _) => {
            return Err(err(ErrorClass::SERVICE_OBJECT_CONSTRAINT_CONFLICT))
        }
        (_, ObjectScope::Domain(d)) if !model.domains.contains_key(d) => return Err(no_domain()),
        // Object classes this server has no instances of.
        _ => Vec::new(),
    };
    let object = |n: &str| match &req.scope {
        ObjectScope::Vmd => ObjectName::vmd(n),
        ObjectScope::Domain(d) => ObjectName::domain(d.as_str(), n),
        ObjectScope::AssociationSpecific => ObjectName::AaSpecific(n.into()),
    };
    if req.object_class != ObjectClass::Domain {
        names.retain(|n| hooks.visible(id, &object(n)));
    }
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
fn read_streamed<H: Hooks>(
    ep: &mut Endpoint<H>,
    now: Instant,
    id: ConnectionId,
    invoke_id: u32,
    spec: &VariableAccessSpecification,
) {
    let Endpoint {
        model,
        conns,
        hooks,
        events,
        ..
    } = ep;
    let Some(super::Conn {
        assoc, aa_lists, ..
    }) = conns.get_mut(&id)
    else {
        return;
    };
    let mut ctx = Ctx::new(now, id, model, events);
    let list_visible = match spec {
        VariableAccessSpecification::VariableListName(list) => visible(hooks, id, list),
        _ => true,
    };
    let sent = assoc.send_raw_mms(Some(invoke_id), |w| {
        write_read_response(w, invoke_id, |w| match spec {
            VariableAccessSpecification::ListOfVariable(vars) => vars
                .iter()
                .for_each(|v| write_value(&mut ctx, hooks, &v.name, w)),
            VariableAccessSpecification::VariableListName(list) => {
                match list_members(model, aa_lists, list).filter(|_| list_visible) {
                    Some(members) => members
                        .iter()
                        .for_each(|m| write_value(&mut ctx, hooks, m, w)),
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

/// ISO 9506-1 §14.6 Read of a plain list of named variables ([`InlineRead`]): as
/// [`read_streamed`], each name borrowed from the request into one reused [`ObjectName`].
#[cfg(feature = "server")]
pub(super) fn read_inline<H: Hooks>(
    ep: &mut Endpoint<H>,
    now: Instant,
    id: ConnectionId,
    read: &InlineRead,
) {
    let Endpoint {
        model,
        conns,
        hooks,
        events,
        scratch_name,
        ..
    } = ep;
    let Some(super::Conn { assoc, .. }) = conns.get_mut(&id) else {
        return;
    };
    let mut ctx = Ctx::new(now, id, model, events);
    let invoke_id = read.invoke_id;
    let sent = assoc.send_raw_mms(Some(invoke_id), |w| {
        write_read_response(w, invoke_id, |w| {
            for name in read.names() {
                name.fill(scratch_name);
                write_value(&mut ctx, hooks, scratch_name, w);
            }
        })
    });
    if sent == Err(ApiError::PduTooLarge) {
        // The answer does not fit the negotiated PDU size: say so rather than cut it.
        let _ = assoc.send_error(invoke_id, err(ErrorClass::RESOURCE_CAPABILITY_UNAVAILABLE));
    }
}

/// ISO 9506-1 §14.6 Read, echoing the variable access specification (specificationWithResult).
fn read<H: Hooks>(
    ep: &mut Endpoint<H>,
    now: Instant,
    id: ConnectionId,
    req: ReadRequest,
) -> ConfirmedResponse {
    let conn = &ep.conns[&id];
    let mut ctx = Ctx::new(now, id, &ep.model, &mut ep.events);
    let hooks = &mut ep.hooks;
    let results = match &req.variables {
        VariableAccessSpecification::ListOfVariable(vars) => vars
            .iter()
            .map(|v| value_of(&mut ctx, hooks, &v.name))
            .collect(),
        VariableAccessSpecification::VariableListName(list) => {
            match list_members(ctx.model, &conn.aa_lists, list).filter(|_| visible(hooks, id, list))
            {
                Some(members) => members
                    .iter()
                    .map(|m| value_of(&mut ctx, hooks, m))
                    .collect(),
                // An unknown list name has no member to fail individually; one failure says it.
                None => alloc::vec![AccessResult::Failure(DataAccessError::OBJECT_NON_EXISTENT)],
            }
        }
    };
    let variables = req.specification_with_result.then(|| req.variables.clone());
    ConfirmedResponse::Read(ReadResponse { variables, results })
}

/// ISO 9506-1 §14.7 Write: each value checked against its variable's type before storing.
/// `Ok(None)`: the hooks deferred at least one variable; the response waits for
/// `complete_write`.
fn write<H: Hooks>(
    ep: &mut Endpoint<H>,
    now: Instant,
    id: ConnectionId,
    invoke_id: u32,
    req: WriteRequest,
) -> Result<Option<ConfirmedResponse>, ServiceError> {
    let targets: Vec<(ObjectName, Option<String>)> = match &req.variables {
        VariableAccessSpecification::ListOfVariable(vars) => vars
            .iter()
            .map(|v| {
                let component = v
                    .alternate_access
                    .as_deref()
                    .map(super::hooks::component_of);
                (v.name.clone(), component.map(|c| c.unwrap_or_default()))
            })
            .collect(),
        VariableAccessSpecification::VariableListName(list) => {
            let conn = &ep.conns[&id];
            list_members(&ep.model, &conn.aa_lists, list)
                .filter(|_| visible(&ep.hooks, id, list))
                .ok_or(err(ErrorClass::ACCESS_OBJECT_NON_EXISTENT))?
                .iter()
                .map(|m| (m.clone(), None))
                .collect()
        }
    };
    if targets.len() != req.data.len() {
        return Err(err(ErrorClass::ACCESS_OBJECT_ACCESS_DENIED));
    }
    let mut results = Vec::with_capacity(targets.len());
    let mut waiting = Vec::new();
    for ((name, component), value) in targets.into_iter().zip(req.data) {
        match write_one(ep, now, id, &name, component.as_deref(), &value) {
            Ok(Some(token)) => {
                waiting.push((token, results.len(), name, value));
                results.push(None);
            }
            Ok(None) => {
                ep.events
                    .push_back(ServerEvent::Written { id, name, value });
                results.push(Some(WriteResult::Success));
            }
            Err(e) => results.push(Some(WriteResult::Failure(e))),
        }
    }
    if waiting.is_empty() {
        return Ok(Some(ConfirmedResponse::Write(
            results.into_iter().flatten().collect(),
        )));
    }
    let Some(conn) = ep.conns.get_mut(&id) else {
        return Ok(None);
    };
    conn.pending_writes.push(super::hooks::PendingWrite {
        invoke_id,
        results,
        waiting: waiting
            .into_iter()
            .map(|(t, i, n, v)| (t.seq(), i, n, v))
            .collect(),
    });
    Ok(None)
}

/// Write one variable; `component` is `Some("")` for an alternate access other than one
/// component name.
fn write_one<H: Hooks>(
    ep: &mut Endpoint<H>,
    now: Instant,
    id: ConnectionId,
    name: &ObjectName,
    component: Option<&str>,
    value: &crate::mms::Data,
) -> Result<Option<super::WriteToken>, DataAccessError> {
    let v = lookup(&ep.model, &ep.hooks, id, name)?;
    if !ep.hooks.may_write(id, name) {
        return Err(DataAccessError::OBJECT_ACCESS_DENIED);
    }
    if component == Some("") {
        return Err(DataAccessError::OBJECT_ACCESS_UNSUPPORTED);
    }
    if let Some(slot) = v.slot {
        let mut ctx = Ctx::new(now, id, &ep.model, &mut ep.events);
        ctx.next_write = Some(&mut ep.next_write);
        ep.hooks.write(&mut ctx, name, slot, component, value)?;
        return Ok(ctx.deferred);
    }
    // An association-specific variable without a slot has no per-association value to store.
    if !v.writable || matches!(name, ObjectName::AaSpecific(_)) {
        return Err(DataAccessError::OBJECT_ACCESS_DENIED);
    }
    if component.is_some() {
        // Component writes are served for hook-held variables only.
        return Err(DataAccessError::OBJECT_ACCESS_UNSUPPORTED);
    }
    if !v.type_description.matches(value) {
        return Err(DataAccessError::TYPE_INCONSISTENT);
    }
    if let Some(v) = ep.model.variable_mut(name) {
        v.value = value.clone();
    }
    Ok(None)
}

/// ISO 9506-1 §14.10 DefineNamedVariableList.
fn define_list<H: Hooks>(
    ep: &mut Endpoint<H>,
    id: ConnectionId,
    req: DefineNamedVariableListRequest,
) -> Result<ConfirmedResponse, ServiceError> {
    let conn = &ep.conns[&id];
    if let ObjectName::DomainSpecific { domain, .. } = &req.name {
        if !ep.hooks.domain_visible(id, domain) {
            return Err(err(ErrorClass::DEFINITION_OBJECT_UNDEFINED));
        }
    }
    if !ep.hooks.may_define_list(id, &req.name) {
        return Err(err(ErrorClass::ACCESS_OBJECT_ACCESS_DENIED));
    }
    if conn.defined >= ep.config.max_client_lists
        || req.variables.len() > ep.config.max_list_members
    {
        return Err(err(ErrorClass::RESOURCE_CAPABILITY_UNAVAILABLE));
    }
    if req.variables.is_empty()
        || req
            .variables
            .iter()
            .any(|v| lookup(&ep.model, &ep.hooks, id, &v.name).is_err())
    {
        return Err(err(ErrorClass::DEFINITION_OBJECT_UNDEFINED));
    }
    if req
        .variables
        .iter()
        .any(|v| !ep.hooks.may_read(id, &v.name))
    {
        return Err(err(ErrorClass::ACCESS_OBJECT_ACCESS_DENIED));
    }
    // The same member twice would make positions in reports ambiguous.
    let mut sorted: Vec<&ObjectName> = req.variables.iter().map(|v| &v.name).collect();
    sorted.sort();
    if sorted.windows(2).any(|p| p[0] == p[1]) {
        return Err(err(ErrorClass::DEFINITION_OBJECT_ATTRIBUTE_INCONSISTENT));
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
fn delete_lists<H: Hooks>(
    ep: &mut Endpoint<H>,
    id: ConnectionId,
    req: DeleteNamedVariableListRequest,
) -> ConfirmedResponse {
    let (mut matched, mut deleted) = (0u32, 0u32);
    let hooks = &ep.hooks;
    let mut delete_in = |map: &mut BTreeMap<String, NamedVariableList>,
                         item: Option<&str>,
                         name: &dyn Fn(&str) -> ObjectName| {
        let keys: Vec<String> = match item {
            Some(i) => map
                .contains_key(i)
                .then(|| String::from(i))
                .into_iter()
                .collect(),
            None => map.keys().cloned().collect(),
        };
        for k in keys {
            let full = name(&k);
            if !visible(hooks, id, &full) {
                continue;
            }
            matched += 1;
            if map.get(&k).is_some_and(|l| l.deletable) && hooks.may_delete_list(id, &full) {
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
                    ObjectName::VmdSpecific(n) => {
                        delete_in(&mut ep.model.lists, Some(n), &|k| ObjectName::vmd(k))
                    }
                    ObjectName::DomainSpecific { domain, item } => {
                        if let Some(d) = ep.model.domains.get_mut(domain) {
                            delete_in(&mut d.lists, Some(item), &|k| {
                                ObjectName::domain(domain.as_str(), k)
                            });
                        }
                    }
                    ObjectName::AaSpecific(n) => delete_in(&mut conn.aa_lists, Some(n), &|k| {
                        ObjectName::AaSpecific(k.into())
                    }),
                }
            }
        }
        DeleteScope::AaSpecific => delete_in(&mut conn.aa_lists, None, &|k| {
            ObjectName::AaSpecific(k.into())
        }),
        DeleteScope::Domain => {
            if let Some((dn, d)) = req
                .domain
                .as_ref()
                .and_then(|d| ep.model.domains.get_mut(d).map(|x| (d.clone(), x)))
            {
                delete_in(&mut d.lists, None, &|k| ObjectName::domain(dn.as_str(), k));
            }
        }
        DeleteScope::Vmd => delete_in(&mut ep.model.lists, None, &|k| ObjectName::vmd(k)),
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
