//! Client-side TASE.2 helpers for an MMS client association: decoding reports, acknowledging
//! critical ones, reading the standard objects and building transfer set writes.
//!
//! The MMS requests themselves are those of [`crate::client`] (Read, Write, DefineNamedVariableList,
//! ...); these helpers give their TASE.2 meaning.

use alloc::string::String;
use alloc::vec::Vec;

use super::transfer_set::{object_name_data, parse_object_name};
use super::{names, DsConditions, DsTransferSetValue, Edition, Features};
use crate::ber::Writer;
use crate::mms::{
    AccessResult, Data, InformationReport, ObjectName, VariableAccessSpecification, VariableSpec,
};

/// A DS transfer set report, decoded.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// `Transfer_Set_Name`, when the data set carries it.
    pub transfer_set: Option<ObjectName>,
    /// `Transfer_Set_Time_Stamp` (seconds since 1970 UTC).
    pub timestamp: Option<i32>,
    /// `DSConditions_Detected`.
    pub conditions: Option<DsConditions>,
    /// `Event_Code_Detected`.
    pub event_code: Option<i16>,
    /// The data set named (full reports), `None` for a report by list of variables.
    pub data_set: Option<ObjectName>,
    /// Point values by name, in report order (a point may appear more than once when every
    /// change is reported). Failed members are left out.
    pub values: Vec<(ObjectName, Data)>,
}

/// Why an InformationReport is not a transfer set report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReportError {
    /// A full report of a data set whose members are not known (define or read its attributes
    /// first).
    UnknownDataSet(ObjectName),
    /// Member and value counts differ.
    CountMismatch,
    /// It is an information message or an ACK, not a data report.
    NotADataReport,
}

impl Report {
    /// Decode `report`; `members` gives the member names of a data set the client knows.
    pub fn decode<'a>(
        report: &InformationReport,
        members: impl FnOnce(&ObjectName) -> Option<&'a [ObjectName]>,
    ) -> Result<Report, ReportError> {
        let (names_list, data_set): (Vec<ObjectName>, Option<ObjectName>) = match &report.variables
        {
            VariableAccessSpecification::ListOfVariable(v) => {
                (v.iter().map(|v| v.name.clone()).collect(), None)
            }
            VariableAccessSpecification::VariableListName(n) => match members(n) {
                Some(m) => (m.to_vec(), Some(n.clone())),
                None => return Err(ReportError::UnknownDataSet(n.clone())),
            },
        };
        if names_list.len() != report.results.len() {
            return Err(ReportError::CountMismatch);
        }
        let mut r = Report {
            transfer_set: None,
            timestamp: None,
            conditions: None,
            event_code: None,
            data_set,
            values: Vec::new(),
        };
        for (name, result) in names_list.into_iter().zip(&report.results) {
            let AccessResult::Success(d) = result else {
                continue;
            };
            match name.item() {
                names::TRANSFER_SET_NAME => r.transfer_set = parse_object_name(d),
                names::TRANSFER_SET_TIME_STAMP => {
                    r.timestamp = int(d).and_then(|v| i32::try_from(v).ok())
                }
                names::DS_CONDITIONS_DETECTED => {
                    if let Data::BitString(b) = d {
                        r.conditions = Some(DsConditions::from_octet(
                            b.octets.first().copied().unwrap_or(0),
                        ))
                    }
                }
                names::EVENT_CODE_DETECTED => {
                    r.event_code = int(d).and_then(|v| i16::try_from(v).ok())
                }
                names::INFO_MESS_HEADER
                | names::TRANSFER_REPORT_ACK
                | names::TRANSFER_REPORT_NACK => return Err(ReportError::NotADataReport),
                _ => r.values.push((name, d.clone())),
            }
        }
        Ok(r)
    }

    /// The acknowledgement a critical report needs (`None` without a transfer set name).
    pub fn ack(&self) -> Option<InformationReport> {
        let ts = self.transfer_set.as_ref()?;
        Some(ack(ts, self.timestamp.unwrap_or(0)))
    }
}

fn int(d: &Data) -> Option<i64> {
    match d {
        Data::Integer(v) => Some(*v),
        Data::Unsigned(v) => i64::try_from(*v).ok(),
        _ => None,
    }
}

fn domain_of(ts: &ObjectName, item: &str) -> ObjectName {
    match ts {
        ObjectName::DomainSpecific { domain, .. } => ObjectName::domain(domain.as_str(), item),
        _ => ObjectName::vmd(item),
    }
}

/// `Transfer_Report_ACK` for the report of transfer set `ts` stamped `timestamp` (an unconfirmed
/// InformationReport to send back).
pub fn ack(ts: &ObjectName, timestamp: i32) -> InformationReport {
    InformationReport {
        variables: VariableAccessSpecification::ListOfVariable(alloc::vec![
            VariableSpec::named(domain_of(ts, names::TRANSFER_REPORT_ACK)),
            VariableSpec::named(domain_of(ts, names::TRANSFER_SET_TIME_STAMP)),
        ]),
        results: alloc::vec![
            AccessResult::Success(object_name_data(ts)),
            AccessResult::Success(Data::Integer(timestamp.into())),
        ],
    }
}

/// `Transfer_Report_NACK` for transfer set `ts`.
pub fn nack(ts: &ObjectName) -> InformationReport {
    InformationReport {
        variables: VariableAccessSpecification::ListOfVariable(alloc::vec![VariableSpec::named(
            domain_of(ts, names::TRANSFER_REPORT_NACK)
        )]),
        results: alloc::vec![AccessResult::Success(object_name_data(ts))],
    }
}

/// The edition a `TASE2_Version` value announces.
pub fn parse_version(d: &Data) -> Option<Edition> {
    let Data::Structure(c) = d else { return None };
    match c.as_slice() {
        [a, b] => Edition::from_version(int(a)?, int(b)?),
        _ => None,
    }
}

/// The blocks a `Supported_Features` value announces.
pub fn parse_features(d: &Data) -> Option<Features> {
    match d {
        Data::BitString(b) => Some(Features::from_octets(&b.octets)),
        _ => None,
    }
}

/// A `Bilateral_Table_ID` value.
pub fn parse_table_id(d: &Data) -> Option<String> {
    match d {
        Data::VisibleString(s) | Data::MmsString(s) => Some(s.clone()),
        _ => None,
    }
}

/// A `Next_DSTransfer_Set` value: the reserved transfer set's name.
pub fn parse_next_transfer_set(d: &Data) -> Option<ObjectName> {
    parse_object_name(d)
}

/// The value to write to a transfer set in `edition` (whole structure).
pub fn transfer_set_data(v: &DsTransferSetValue, edition: Edition) -> Data {
    v.to_data(edition)
}

/// A variable specification that selects one component of a structure (MMS alternate access),
/// e.g. `Status` of a transfer set, for a component write.
pub fn component(name: ObjectName, component: &str) -> VariableSpec {
    let mut aa = Vec::new();
    Writer::new(&mut aa).primitive(crate::ber::Tag::context(1), component.as_bytes());
    VariableSpec {
        name,
        alternate_access: Some(aa),
    }
}

/// The standard name of a domain's report variable or object (`ICC1/Transfer_Set_Name`...).
pub fn icc(domain: &str, item: &str) -> ObjectName {
    ObjectName::domain(domain, item)
}
