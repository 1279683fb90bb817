//! What dissected PDUs mean in TASE.2: a transfer set started, a report of a transfer set with
//! its points, a select or an operate, an information message.
//!
//! One [`Tase2View`] follows one association (both directions): a response is told by the
//! request of its invoke id, a report by the data set the client defined. Names are the TASE.2
//! ones (IEC 60870-6-503 and -802); anything else is told as plain MMS.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::{AcseKind, CotpKind, Pdu, SpduKind};
use crate::acse::AssociateResult;
use crate::mms::{
    AccessResult, ConfirmedRequest as Q, ConfirmedResponse as R, Data, MmsPdu, ObjectClass,
    ObjectName, ObjectScope, UnconfirmedService as U, VariableAccessSpecification as V,
    WriteResult,
};
use crate::tase2::device::SBO_SUFFIX;
use crate::tase2::info::{InfoMessage, IM_TRANSFER_SET};
use crate::tase2::names;
use crate::tase2::transfer_set::{parse_object_name, DsTransferSetValue};

/// A PDU's meaning in one line: the service and what it says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Meaning {
    /// The service, e.g. `Associate`, `Read`, `Select`, `Report`.
    pub service: String,
    /// What it says, e.g. `report of transfer set ICC1/DSTransfer_Set_1 with 3 points`.
    pub summary: String,
}

/// `1 point`, `2 points`.
fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

fn m(service: &str, summary: String) -> Meaning {
    Meaning {
        service: String::from(service),
        summary,
    }
}

/// What a request was, to tell its response.
#[derive(Clone, Debug)]
enum Pending {
    Select(ObjectName),
    Reserve,
    StartStop(ObjectName, bool),
    Operate(ObjectName),
    Other(&'static str),
}

/// Follows one association and gives each PDU its TASE.2 [`Meaning`].
#[derive(Debug, Default)]
pub struct Tase2View {
    pending: BTreeMap<u32, Pending>,
    /// Data sets defined on the association, by name: their members.
    data_sets: BTreeMap<ObjectName, Vec<ObjectName>>,
    /// Devices selected (their `_SBO` read), so the write that follows is the operate.
    selected: BTreeSet<ObjectName>,
}

/// The report header variables of a data set (not points).
const REPORT_HEADER: [&str; 4] = [
    names::TRANSFER_SET_NAME,
    names::TRANSFER_SET_TIME_STAMP,
    names::DS_CONDITIONS_DETECTED,
    names::EVENT_CODE_DETECTED,
];

fn item(n: &ObjectName) -> &str {
    match n {
        ObjectName::VmdSpecific(s) | ObjectName::AaSpecific(s) => s,
        ObjectName::DomainSpecific { item, .. } => item,
    }
}

fn with_item(n: &ObjectName, new: &str) -> ObjectName {
    match n {
        ObjectName::VmdSpecific(_) => ObjectName::VmdSpecific(new.into()),
        ObjectName::AaSpecific(_) => ObjectName::AaSpecific(new.into()),
        ObjectName::DomainSpecific { domain, .. } => ObjectName::domain(domain, new),
    }
}

fn list(names: &[&ObjectName]) -> String {
    let mut s: Vec<String> = names.iter().take(3).map(|n| n.to_string()).collect();
    if names.len() > 3 {
        s.push(format!("… ({} in all)", names.len()));
    }
    s.join(", ")
}

fn value(d: &Data) -> String {
    match d {
        Data::Integer(v) => v.to_string(),
        Data::Unsigned(v) => v.to_string(),
        Data::Boolean(b) => b.to_string(),
        Data::Float(f) => format!("{f:?}"),
        Data::VisibleString(s) | Data::MmsString(s) => format!("{s:?}"),
        other => {
            let s = format!("{other:?}");
            if s.len() > 60 {
                format!(
                    "{}…",
                    &s[..s.char_indices().nth(60).map_or(s.len(), |(i, _)| i)]
                )
            } else {
                s
            }
        }
    }
}

impl Tase2View {
    /// A view of a fresh association.
    pub fn new() -> Self {
        Self::default()
    }

    /// The meaning of the next PDU of the association (either direction).
    pub fn meaning(&mut self, pdu: &Pdu) -> Meaning {
        if let Some((layer, why)) = &pdu.error {
            if pdu.mms.is_none() {
                return m("undecodable", format!("{layer}: {why}"));
            }
        }
        if let Some(a) = &pdu.acse {
            return self.acse(a, pdu);
        }
        if let Some(mms) = &pdu.mms {
            return self.mms(mms);
        }
        match (pdu.cotp, pdu.spdu) {
            (Some(CotpKind::ConnectionRequest), _) => m(
                "Connect",
                String::from("transport connection request (COTP CR)"),
            ),
            (Some(CotpKind::ConnectionConfirm), _) => m(
                "Connect",
                String::from("transport connection confirmed (COTP CC)"),
            ),
            (Some(CotpKind::DisconnectRequest(_)), _) | (Some(CotpKind::Error(_)), _) => {
                m("Disconnect", pdu.summary.clone())
            }
            (_, Some(SpduKind::Abort | SpduKind::AbortAccept)) => m("Abort", pdu.summary.clone()),
            (_, Some(SpduKind::Refuse(_))) => m("Associate", format!("refused: {}", pdu.summary)),
            _ => m("-", pdu.summary.clone()),
        }
    }

    fn acse(&mut self, a: &AcseKind, pdu: &Pdu) -> Meaning {
        match a {
            AcseKind::Aarq { calling, called } => {
                let ap = |a: &crate::acse::ApInvocation| match (&a.ap_title, a.ae_qualifier) {
                    (Some(t), Some(q)) => format!("{t}/{q}"),
                    (Some(t), None) => t.to_string(),
                    _ => String::from("?"),
                };
                let initiate = if matches!(pdu.mms, Some(MmsPdu::InitiateRequest(_))) {
                    "MMS Initiate"
                } else {
                    "no MMS Initiate"
                };
                m(
                    "Initiate",
                    format!(
                        "associate request from {} to {} ({initiate})",
                        ap(calling),
                        ap(called)
                    ),
                )
            }
            AcseKind::Aare { result, diagnostic } => {
                if *result == AssociateResult::Accepted
                    && matches!(pdu.mms, Some(MmsPdu::InitiateResponse(_)))
                {
                    m("Initiate", String::from("associate accepted"))
                } else {
                    let why = match (diagnostic, &pdu.mms) {
                        (_, Some(MmsPdu::InitiateError(e))) => format!("MMS Initiate error: {e}"),
                        (Some(d), _) => d.to_string(),
                        (None, _) => result.to_string(),
                    };
                    m("Initiate", format!("associate refused: {why}"))
                }
            }
            AcseKind::Rlrq => m("Release", String::from("release request")),
            AcseKind::Rlre => m("Release", String::from("release response")),
            AcseKind::Abrt { source } => m(
                "Abort",
                format!(
                    "association aborted by the {}",
                    if *source == 0 { "user" } else { "provider" }
                ),
            ),
        }
    }

    fn mms(&mut self, pdu: &MmsPdu) -> Meaning {
        match pdu {
            MmsPdu::ConfirmedRequest { invoke_id, request } => self.request(*invoke_id, request),
            MmsPdu::ConfirmedResponse {
                invoke_id,
                response,
            } => self.response(*invoke_id, response),
            MmsPdu::ConfirmedError { invoke_id, error } => {
                let what = match self.pending.remove(invoke_id) {
                    Some(Pending::Select(d)) => format!("select of {d} refused"),
                    Some(Pending::Operate(d)) => format!("operate of {d} refused"),
                    Some(Pending::Reserve) => String::from("no transfer set reserved"),
                    Some(Pending::StartStop(t, _)) => format!("transfer set {t} refused"),
                    Some(Pending::Other(s)) => format!("{s} failed"),
                    None => String::from("request failed"),
                };
                m("Error", format!("{what}: {error} (invoke {invoke_id})"))
            }
            MmsPdu::Unconfirmed(U::InformationReport(r)) => self.report(r),
            MmsPdu::Unconfirmed(U::Other(tag)) => {
                m("Unconfirmed", format!("unconfirmed service [{tag}]"))
            }
            MmsPdu::Reject(r) => m("Reject", r.to_string()),
            MmsPdu::InitiateRequest(_) => m("Initiate", String::from("MMS Initiate request")),
            MmsPdu::InitiateResponse(_) => m("Initiate", String::from("MMS Initiate response")),
            MmsPdu::InitiateError(e) => m("Initiate", format!("refused: {e}")),
            MmsPdu::ConcludeRequest => m("Conclude", String::from("conclude request")),
            MmsPdu::ConcludeResponse => m("Conclude", String::from("concluded")),
            MmsPdu::ConcludeError(e) => m("Conclude", format!("refused: {e}")),
            other => m("Cancel", super::mms_summary(other)),
        }
    }

    fn request(&mut self, id: u32, q: &Q) -> Meaning {
        let (pending, meaning) = match q {
            Q::GetNameList(g) => {
                let class = match g.object_class {
                    ObjectClass::Domain => "domains",
                    ObjectClass::NamedVariable => "variables",
                    ObjectClass::NamedVariableList => "data sets",
                    _ => "objects",
                };
                let scope = match &g.scope {
                    ObjectScope::Vmd => String::from("of the VCC"),
                    ObjectScope::Domain(d) => format!("in {d}"),
                    ObjectScope::AssociationSpecific => String::from("of the association"),
                };
                let scope = if g.object_class == ObjectClass::Domain {
                    String::new()
                } else {
                    format!(" {scope}")
                };
                let after = match &g.continue_after {
                    Some(a) => format!(" after {a}"),
                    None => String::new(),
                };
                (
                    Pending::Other("GetNameList"),
                    m("GetNameList", format!("list of {class}{scope}{after}")),
                )
            }
            Q::Read(r) => self.read(r),
            Q::Write(w) => self.write(w),
            Q::Identify => (
                Pending::Other("Identify"),
                m("Identify", String::from("identify request")),
            ),
            Q::Status { .. } => (
                Pending::Other("Status"),
                m("Status", String::from("status request")),
            ),
            Q::GetVariableAccessAttributes(n) => (
                Pending::Other("GetVariableAccessAttributes"),
                m("GetType", format!("type of {n}")),
            ),
            Q::DefineNamedVariableList(d) => {
                self.data_sets.insert(
                    d.name.clone(),
                    d.variables.iter().map(|v| v.name.clone()).collect(),
                );
                (
                    Pending::Other("DefineNamedVariableList"),
                    m(
                        "DefineDataSet",
                        format!(
                            "define data set {} with {} members",
                            d.name,
                            d.variables.len()
                        ),
                    ),
                )
            }
            Q::GetNamedVariableListAttributes(n) => (
                Pending::Other("GetNamedVariableListAttributes"),
                m("DataSetMembers", format!("members of data set {n}")),
            ),
            Q::DeleteNamedVariableList(d) => {
                let names: Vec<&ObjectName> = d.names.iter().collect();
                for n in &d.names {
                    self.data_sets.remove(n);
                }
                (
                    Pending::Other("DeleteNamedVariableList"),
                    m("DeleteDataSet", format!("delete data set {}", list(&names))),
                )
            }
            Q::Unsupported { service_tag } => (
                Pending::Other("request"),
                m("Request", format!("MMS service [{service_tag}]")),
            ),
        };
        self.pending.insert(id, pending);
        Meaning {
            summary: format!("{} (invoke {id})", meaning.summary),
            ..meaning
        }
    }

    fn read(&mut self, r: &crate::mms::ReadRequest) -> (Pending, Meaning) {
        let vars: Vec<&ObjectName> = match &r.variables {
            V::ListOfVariable(v) => v.iter().map(|v| &v.name).collect(),
            V::VariableListName(n) => {
                return (
                    Pending::Other("Read"),
                    m("Read", format!("read of data set {n}")),
                )
            }
        };
        if let [one] = vars.as_slice() {
            if let Some(device) = item(one).strip_suffix(SBO_SUFFIX) {
                let device = with_item(one, device);
                self.selected.insert(device.clone());
                let s = format!("select {device} (read of {one})");
                return (Pending::Select(device), m("Select", s));
            }
            if item(one) == names::NEXT_DS_TRANSFER_SET {
                return (
                    Pending::Reserve,
                    m(
                        "Reserve",
                        format!("reserve a DS transfer set (read of {one})"),
                    ),
                );
            }
        }
        (
            Pending::Other("Read"),
            m(
                "Read",
                format!(
                    "read of {} variable{}: {}",
                    vars.len(),
                    if vars.len() == 1 { "" } else { "s" },
                    list(&vars)
                ),
            ),
        )
    }

    fn write(&mut self, w: &crate::mms::WriteRequest) -> (Pending, Meaning) {
        let vars: Vec<&ObjectName> = match &w.variables {
            V::ListOfVariable(v) => v.iter().map(|v| &v.name).collect(),
            V::VariableListName(n) => {
                return (
                    Pending::Other("Write"),
                    m("Write", format!("write of data set {n}")),
                )
            }
        };
        if let ([name], [data]) = (vars.as_slice(), w.data.as_slice()) {
            let it = item(name);
            if it.starts_with(names::DS_TRANSFER_SET_PREFIX) {
                // A whole-structure write, or a component write of Status (a BOOLEAN alone:
                // the alternate access names the component).
                let status = match (DsTransferSetValue::from_data(data), data) {
                    (Ok(v), _) => Some((v.status, format!("data set {}, Status", v.data_set))),
                    (Err(_), Data::Boolean(on)) => Some((*on, String::from("Status component"))),
                    _ => None,
                };
                return match status {
                    Some((on, how)) => (
                        Pending::StartStop((*name).clone(), on),
                        m(
                            "TransferSet",
                            format!(
                                "{} transfer set {name} ({how} {on})",
                                if on { "start" } else { "stop" }
                            ),
                        ),
                    ),
                    None => (
                        Pending::Other("transfer set write"),
                        m("TransferSet", format!("write of transfer set {name}")),
                    ),
                };
            }
            if it == IM_TRANSFER_SET {
                let on = matches!(data, Data::Boolean(true));
                return (
                    Pending::Other("information message transfer set"),
                    m(
                        "InfoMessages",
                        format!(
                            "{} information messages ({name} = {on})",
                            if on { "enable" } else { "disable" }
                        ),
                    ),
                );
            }
            if it == names::TRANSFER_REPORT_ACK || it == names::TRANSFER_REPORT_NACK {
                let ack = it == names::TRANSFER_REPORT_ACK;
                return (
                    Pending::Other(if ack { "report ACK" } else { "report NACK" }),
                    m(
                        if ack { "Ack" } else { "Nack" },
                        format!(
                            "{} of a critical report",
                            if ack { "acknowledgement" } else { "refusal" }
                        ),
                    ),
                );
            }
            if let Some(device) = it.strip_suffix("_TAG") {
                let device = with_item(name, device);
                return (
                    Pending::Other("tag"),
                    m("Tag", format!("set tag of {device} = {}", value(data))),
                );
            }
            // A device's write is its operate; after a select there is no doubt, a scalar
            // write of a plain name is almost always one too (setpoints and commands).
            let scalar = matches!(data, Data::Integer(_) | Data::Unsigned(_) | Data::Float(_));
            if self.selected.remove(*name) || scalar {
                return (
                    Pending::Operate((*name).clone()),
                    m("Operate", format!("operate {name} = {}", value(data))),
                );
            }
        }
        (
            Pending::Other("Write"),
            m(
                "Write",
                format!("write of {} variable(s): {}", vars.len(), list(&vars)),
            ),
        )
    }

    fn response(&mut self, id: u32, r: &R) -> Meaning {
        let pending = self.pending.remove(&id);
        let failures = |res: &[AccessResult]| {
            res.iter()
                .filter(|r| matches!(r, AccessResult::Failure(_)))
                .count()
        };
        let meaning = match (pending, r) {
            (Some(Pending::Select(d)), R::Read(rr)) => match rr.results.as_slice() {
                [AccessResult::Success(v)] => {
                    m("Select", format!("{d} selected, CheckBackID {}", value(v)))
                }
                [AccessResult::Failure(e)] => m("Select", format!("select of {d} refused: {e}")),
                _ => m("Select", format!("select of {d} answered oddly")),
            },
            (Some(Pending::Reserve), R::Read(rr)) => match rr.results.as_slice() {
                [AccessResult::Success(v)] => match parse_object_name(v) {
                    Some(ts) => m("Reserve", format!("transfer set {ts} reserved")),
                    None => m("Reserve", format!("reserved: {}", value(v))),
                },
                [AccessResult::Failure(e)] => m("Reserve", format!("no transfer set: {e}")),
                _ => m("Reserve", String::from("answered oddly")),
            },
            (Some(Pending::StartStop(ts, on)), R::Write(res)) => match res.as_slice() {
                [WriteResult::Success] => m(
                    "TransferSet",
                    format!(
                        "transfer set {ts} {}",
                        if on { "started" } else { "stopped" }
                    ),
                ),
                [WriteResult::Failure(e)] => {
                    m("TransferSet", format!("transfer set {ts} refused: {e}"))
                }
                _ => m("TransferSet", String::from("answered oddly")),
            },
            (Some(Pending::Operate(d)), R::Write(res)) => match res.as_slice() {
                [WriteResult::Success] => m("Operate", format!("{d} operated")),
                [WriteResult::Failure(e)] => m("Operate", format!("operate of {d} refused: {e}")),
                _ => m("Operate", String::from("answered oddly")),
            },
            (_, R::Read(rr)) => m(
                "Read",
                format!(
                    "{}, {}",
                    count(rr.results.len(), "result"),
                    count(failures(&rr.results), "failure")
                ),
            ),
            (_, R::Write(res)) => {
                let bad = res
                    .iter()
                    .filter(|r| matches!(r, WriteResult::Failure(_)))
                    .count();
                m(
                    "Write",
                    format!("{}, {}", count(res.len(), "result"), count(bad, "failure")),
                )
            }
            (_, R::GetNameList(g)) => {
                let names: Vec<&str> = g.identifiers.iter().take(4).map(|s| s.as_str()).collect();
                let more = if g.identifiers.len() > 4 { ", …" } else { "" };
                m(
                    "GetNameList",
                    format!(
                        "{}: {}{more}{}",
                        count(g.identifiers.len(), "name"),
                        names.join(", "),
                        if g.more_follows { " (more follow)" } else { "" }
                    ),
                )
            }
            (_, R::Identify(i)) => m(
                "Identify",
                format!("{} {} {}", i.vendor_name, i.model_name, i.revision),
            ),
            (_, R::Status(_)) => m("Status", String::from("status")),
            (_, R::GetVariableAccessAttributes(_)) => m("GetType", String::from("type")),
            (_, R::DefineNamedVariableList) => m("DefineDataSet", String::from("data set defined")),
            (_, R::GetNamedVariableListAttributes(a)) => {
                m("DataSetMembers", format!("{} members", a.variables.len()))
            }
            (_, R::DeleteNamedVariableList { number_deleted, .. }) => {
                m("DeleteDataSet", format!("{number_deleted} deleted"))
            }
        };
        Meaning {
            summary: format!("{} (invoke {id})", meaning.summary),
            ..meaning
        }
    }

    fn report(&mut self, r: &crate::mms::InformationReport) -> Meaning {
        if let Some(info) = InfoMessage::decode(r) {
            let text = match info.text() {
                Some(t) => format!(": {t:?}"),
                None => String::new(),
            };
            return m(
                "InfoMessage",
                format!(
                    "information message {} in {} ({} octets){text}",
                    info.header.info_reference,
                    info.buffer,
                    info.data.len()
                ),
            );
        }
        // A transfer report: its first value is Transfer_Set_Name.
        let members: Option<Vec<ObjectName>> = match &r.variables {
            V::VariableListName(ds) => self.data_sets.get(ds).cloned(),
            V::ListOfVariable(v) => Some(v.iter().map(|v| v.name.clone()).collect()),
        };
        let first_is_name = match &members {
            Some(m) => m
                .first()
                .is_some_and(|n| item(n) == names::TRANSFER_SET_NAME),
            None => false,
        };
        let ts = match r.results.first() {
            Some(AccessResult::Success(d)) => parse_object_name(d),
            _ => None,
        };
        let ts = match ts {
            Some(ts) if first_is_name || members.is_none() => ts,
            _ => {
                return m(
                    "Report",
                    format!(
                        "information report {}, {}",
                        super::variables(&r.variables),
                        count(r.results.len(), "value")
                    ),
                )
            }
        };
        let points = match &members {
            Some(ms) => count(
                ms.iter()
                    .filter(|n| !REPORT_HEADER.contains(&item(n)))
                    .count(),
                "point",
            ),
            None => format!("{} (data set not seen)", count(r.results.len(), "value")),
        };
        m(
            "Report",
            format!("report of transfer set {ts} with {points}"),
        )
    }
}
