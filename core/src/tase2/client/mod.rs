//! Client-side TASE.2 helpers for an MMS client association: decoding reports, acknowledging
//! critical ones, reading the standard objects, building transfer set writes, and device control
//! (block 5: the select and tag object names, parsing operate values, classifying refusals as
//! [`ControlError`]).
//!
//! The MMS requests themselves are those of [`crate::client`] (Read, Write, DefineNamedVariableList,
//! ...); these helpers give their TASE.2 meaning. [`Session`] puts them together: the whole TASE.2
//! client as a sans-IO state machine, the one every driver (tokio, mio, wasm) wraps.

mod error;
mod failover;
mod ops;
mod session;
mod typing;

pub use error::Error;
pub use failover::{
    AttemptError, Backoff, EndpointSpec, Failover, FailoverAction, FailoverConfig, FailoverEvent,
    Keepalive, LossCause, Recorder,
};
pub use session::{
    Command, DeviceInfo, Discovery, DomainInfo, OpId, Outcome, Reported, Session, SessionConfig,
    SessionEvent, TypedReport, UndecodedReport, VariableInfo,
};
pub use typing::{is_standard_object, standard_type_name};

use alloc::string::String;
use alloc::vec::Vec;

use super::device::{Command as DeviceCommand, ControlValue, DeviceKind, SBO_SUFFIX, TAG_SUFFIX};
use super::transfer_set::{object_name_data, parse_object_name};
use super::{names, DsConditions, DsTransferSetValue, Edition, Features};
use crate::ber::Writer;
use crate::mms::{
    AccessResult, Data, DataAccessError, InformationReport, ObjectName,
    VariableAccessSpecification, VariableSpec,
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
    /// What deviated from the standard but was accepted (e.g. a BinaryTime time stamp).
    pub deviations: Vec<crate::deviation::DeviationKind>,
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

impl core::fmt::Display for ReportError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ReportError::UnknownDataSet(n) => write!(f, "the members of data set {n} are unknown"),
            ReportError::CountMismatch => f.write_str("member and value counts differ"),
            ReportError::NotADataReport => {
                f.write_str("an information message or ACK, not a data report")
            }
        }
    }
}

impl core::error::Error for ReportError {}

impl Report {
    /// Decode `report`; `members` gives the member names of a data set the client knows.
    pub fn decode<'a>(
        report: &InformationReport,
        members: impl FnOnce(&ObjectName) -> Option<&'a [ObjectName]>,
    ) -> Result<Report, ReportError> {
        let known = match &report.variables {
            VariableAccessSpecification::VariableListName(n) => members(n),
            VariableAccessSpecification::ListOfVariable(_) => None,
        };
        Report::decode_members(report, known)
    }

    // The body once, not once per caller's look-up closure.
    fn decode_members(
        report: &InformationReport,
        known: Option<&[ObjectName]>,
    ) -> Result<Report, ReportError> {
        let (names_list, data_set): (Vec<ObjectName>, Option<ObjectName>) = match &report.variables
        {
            VariableAccessSpecification::ListOfVariable(v) => {
                let mut names = Vec::with_capacity(v.len());
                for s in v {
                    names.push(s.name.clone());
                }
                (names, None)
            }
            VariableAccessSpecification::VariableListName(n) => match known {
                Some(m) => (m.to_vec(), Some(n.clone())),
                None => return Err(ReportError::UnknownDataSet(n.clone())),
            },
        };
        Report::decode_named(names_list, data_set, &report.results)
    }

    /// Decode `results` as the values of `names`, in order.
    pub(crate) fn decode_named(
        names_list: Vec<ObjectName>,
        data_set: Option<ObjectName>,
        results: &[AccessResult],
    ) -> Result<Report, ReportError> {
        if names_list.len() != results.len() {
            return Err(ReportError::CountMismatch);
        }
        let mut r = Report {
            transfer_set: None,
            timestamp: None,
            conditions: None,
            event_code: None,
            data_set,
            values: Vec::new(),
            deviations: Vec::new(),
        };
        for (name, result) in names_list.into_iter().zip(results) {
            let AccessResult::Success(d) = result else {
                continue;
            };
            match name.item() {
                names::TRANSFER_SET_NAME => r.transfer_set = parse_object_name(d),
                names::TRANSFER_SET_TIME_STAMP => {
                    r.timestamp = int(d).and_then(|v| i32::try_from(v).ok());
                    if r.timestamp.is_none() {
                        // Some servers stamp reports with a BinaryTime (TimeOfDay with date):
                        // unambiguous, so read it and say so.
                        r.timestamp = binary_time_seconds(d);
                        if r.timestamp.is_some() {
                            r.deviations
                                .push(crate::deviation::DeviationKind::ReportTimeStampNotGmtBasedS);
                        }
                    }
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

/// Seconds since 1970 of a six-octet BinaryTime (days since 1984-01-01 and milliseconds).
fn binary_time_seconds(d: &Data) -> Option<i32> {
    // 1984-01-01T00:00:00Z in seconds since the Unix epoch.
    const EPOCH_1984: i64 = 441_763_200;
    let Data::BinaryTime(t) = d else { return None };
    let days = i64::from(t.days_since_1984?);
    i32::try_from(EPOCH_1984 + days * 86_400 + i64::from(t.millis_since_midnight / 1000)).ok()
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

// --- device control (block 5) ---

/// A name in the same scope as `device`, with `suffix` appended to its item.
fn suffixed(device: &ObjectName, suffix: &str) -> ObjectName {
    // The item joined once, not formatted in each arm.
    let mut name = device.clone();
    match &mut name {
        ObjectName::VmdSpecific(i)
        | ObjectName::AaSpecific(i)
        | ObjectName::DomainSpecific { item: i, .. } => i.push_str(suffix),
    }
    name
}

/// `<Device>_SBO`: reading it selects the device (select-before-operate) and answers its
/// CheckBackID.
pub fn sbo_name(device: &ObjectName) -> ObjectName {
    suffixed(device, SBO_SUFFIX)
}

/// `<Device>_TAG`: the device's tag.
pub fn tag_name(device: &ObjectName) -> ObjectName {
    suffixed(device, TAG_SUFFIX)
}

/// The CheckBackID a read of `<Device>_SBO` answered (an INT16).
pub fn parse_check_back_id(d: &Data) -> Option<i16> {
    int(d).and_then(|v| i16::try_from(v).ok())
}

/// Parse an operate value for a device of `kind` (as [`DeviceKind::from_type_description`] says
/// it: an INT16 device is reported as [`DeviceKind::Command`], since commands and discrete
/// setpoints share the type):
///
/// - [`DeviceKind::Command`]: a command word (`on`, `close`, `raise`, `off`, `open`, `trip`,
///   `lower`, any case) gives a command; an integer gives a discrete setpoint (on the wire a
///   command is the INT16 0 or 1 either way);
/// - [`DeviceKind::DiscreteSetpoint`]: an integer (INT16 range);
/// - [`DeviceKind::RealSetpoint`]: a number (finite, FLOAT32 range).
pub fn parse_control_value(kind: DeviceKind, s: &str) -> Option<ControlValue> {
    let s = s.trim();
    let integer = || s.parse::<i16>().ok().map(ControlValue::Discrete);
    match kind {
        DeviceKind::Command => {
            if s.bytes().any(|b| b.is_ascii_alphabetic()) {
                DeviceCommand::parse(s).map(ControlValue::Command)
            } else {
                integer()
            }
        }
        DeviceKind::DiscreteSetpoint => integer(),
        DeviceKind::RealSetpoint => s
            .parse::<f32>()
            .ok()
            .filter(|v| v.is_finite())
            .map(ControlValue::Real),
    }
}

/// A device control request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ControlOp {
    /// Read of `<Device>_SBO`.
    Select,
    /// Write of `<Device>`.
    Operate,
    /// Read of `<Device>_TAG`.
    ReadTag,
    /// Write of `<Device>_TAG`.
    SetTag,
}

impl core::fmt::Display for ControlOp {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            ControlOp::Select => "select",
            ControlOp::Operate => "operate",
            ControlOp::ReadTag => "tag read",
            ControlOp::SetTag => "tag change",
        })
    }
}

/// What a refusal of a device control request means, from its MMS DataAccessError.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ControlErrorKind {
    /// object-access-denied (3): for an operate, not selected, select expired or held by another
    /// client; for a select or operate, tagged; for a tag change, the tag belongs to another
    /// client; or the bilateral table does not let this client operate the device.
    AccessDenied,
    /// temporarily-unavailable (2): another client holds the select, an operate is in progress,
    /// the controlling application did not answer in time, or (tag change) the device is armed.
    TemporarilyUnavailable,
    /// type-inconsistent (7): the value has the wrong MMS type for the device.
    TypeInconsistent,
    /// object-value-invalid (11): the value is out of range (a command other than 0 or 1, a tag of
    /// 3).
    ValueInvalid,
    /// hardware-fault (1): the device or the application controlling it refused the operate.
    HardwareFault,
    /// object-non-existent (10): no such device visible to this client, or (select) it is not
    /// select-before-operate, or (tag) it has no tag.
    NonExistent,
    /// Any other DataAccessError.
    Other(DataAccessError),
}

impl ControlErrorKind {
    /// The kind of a DataAccessError.
    pub fn of(e: DataAccessError) -> ControlErrorKind {
        match e {
            DataAccessError::OBJECT_ACCESS_DENIED => ControlErrorKind::AccessDenied,
            DataAccessError::TEMPORARILY_UNAVAILABLE => ControlErrorKind::TemporarilyUnavailable,
            DataAccessError::TYPE_INCONSISTENT => ControlErrorKind::TypeInconsistent,
            DataAccessError::OBJECT_VALUE_INVALID => ControlErrorKind::ValueInvalid,
            DataAccessError::HARDWARE_FAULT => ControlErrorKind::HardwareFault,
            DataAccessError::OBJECT_NON_EXISTENT => ControlErrorKind::NonExistent,
            other => ControlErrorKind::Other(other),
        }
    }

    /// The DataAccessError it stands for.
    pub fn code(self) -> DataAccessError {
        match self {
            ControlErrorKind::AccessDenied => DataAccessError::OBJECT_ACCESS_DENIED,
            ControlErrorKind::TemporarilyUnavailable => DataAccessError::TEMPORARILY_UNAVAILABLE,
            ControlErrorKind::TypeInconsistent => DataAccessError::TYPE_INCONSISTENT,
            ControlErrorKind::ValueInvalid => DataAccessError::OBJECT_VALUE_INVALID,
            ControlErrorKind::HardwareFault => DataAccessError::HARDWARE_FAULT,
            ControlErrorKind::NonExistent => DataAccessError::OBJECT_NON_EXISTENT,
            ControlErrorKind::Other(e) => e,
        }
    }
}

/// A select, operate or tag request the server refused, classified.
///
/// ```
/// use tase2_core::mms::DataAccessError;
/// use tase2_core::tase2::client::{ControlError, ControlErrorKind, ControlOp};
///
/// let e = ControlError::new(ControlOp::Operate, DataAccessError::OBJECT_ACCESS_DENIED);
/// assert_eq!(e.kind, ControlErrorKind::AccessDenied);
/// assert!(e.to_string().starts_with("operate refused: object-access-denied (not selected"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ControlError {
    /// The request.
    pub op: ControlOp,
    /// What the refusal means.
    pub kind: ControlErrorKind,
}

impl ControlError {
    /// The refusal of `op` with `error`.
    pub fn new(op: ControlOp, error: DataAccessError) -> ControlError {
        ControlError {
            op,
            kind: ControlErrorKind::of(error),
        }
    }

    /// The DataAccessError the server answered.
    pub fn code(&self) -> DataAccessError {
        self.kind.code()
    }

    /// What the refusal most likely means for this request (`None` for codes TASE.2 device
    /// control does not use).
    // Not inlined: each inlined copy carried its own copy of the texts.
    #[inline(never)]
    pub fn explanation(&self) -> Option<&'static str> {
        use ControlErrorKind as K;
        use ControlOp as O;
        Some(match (self.kind, self.op) {
            (K::AccessDenied, O::Select) => {
                "the device is tagged (open-and-close inhibit), or this client may not operate it"
            }
            (K::AccessDenied, O::Operate) => {
                "not selected, the select expired or is held by another client, the tag \
                 inhibits it, or this client may not operate it"
            }
            (K::AccessDenied, O::SetTag) => {
                "the tag was set by another client or locally, or this client may not tag the \
                 device"
            }
            (K::AccessDenied, O::ReadTag) => "this client may not read the tag",
            (K::TemporarilyUnavailable, O::Select) => {
                "another client holds the select, or an operate is in progress"
            }
            (K::TemporarilyUnavailable, O::Operate) => {
                "an operate is in progress, or the controlling application did not answer in time"
            }
            (K::TemporarilyUnavailable, O::SetTag) => {
                "the device is selected or operating: its tag cannot change now"
            }
            (K::TemporarilyUnavailable, O::ReadTag) => "the tag cannot be read now",
            (K::TypeInconsistent, _) => "the value has the wrong type for this object",
            (K::ValueInvalid, _) => "the value is out of range",
            (K::HardwareFault, _) => "the device or its controlling application refused it",
            (K::NonExistent, O::Select) => {
                "no such device, or it is not select-before-operate (no _SBO object)"
            }
            (K::NonExistent, O::Operate) => "no such device",
            (K::NonExistent, O::ReadTag | O::SetTag) => {
                "no such device, or it has no tag (no _TAG object)"
            }
            (K::Other(_), _) => return None,
        })
    }
}

impl core::fmt::Display for ControlError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} refused: {}", self.op, self.code())?;
        match self.explanation() {
            Some(e) => write!(f, " ({e})"),
            None => Ok(()),
        }
    }
}

impl core::error::Error for ControlError {}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn device_object_names_keep_the_scope() {
        let d = ObjectName::domain("ICC1", "Brk1_Cmd");
        assert_eq!(sbo_name(&d), ObjectName::domain("ICC1", "Brk1_Cmd_SBO"));
        assert_eq!(tag_name(&d), ObjectName::domain("ICC1", "Brk1_Cmd_TAG"));
        assert_eq!(
            sbo_name(&ObjectName::vmd("Cap1")),
            ObjectName::vmd("Cap1_SBO")
        );
        assert_eq!(parse_check_back_id(&Data::Integer(101)), Some(101));
        assert_eq!(parse_check_back_id(&Data::Integer(70_000)), None);
        assert_eq!(parse_check_back_id(&Data::Boolean(true)), None);
    }

    #[test]
    fn control_values_parse_by_kind() {
        use super::DeviceCommand as C;
        use DeviceKind::*;
        let on = Some(ControlValue::Command(C::On));
        let off = Some(ControlValue::Command(C::Off));
        assert_eq!(parse_control_value(Command, "Close"), on);
        assert_eq!(parse_control_value(Command, "trip"), off);
        assert_eq!(parse_control_value(Command, "raise"), on);
        assert_eq!(
            parse_control_value(Command, "-7"),
            Some(ControlValue::Discrete(-7))
        );
        assert_eq!(parse_control_value(Command, "shut"), None);
        assert_eq!(parse_control_value(DiscreteSetpoint, "on"), None);
        assert_eq!(parse_control_value(DiscreteSetpoint, "40000"), None);
        assert_eq!(
            parse_control_value(RealSetpoint, "412.5"),
            Some(ControlValue::Real(412.5))
        );
        assert_eq!(
            parse_control_value(RealSetpoint, "3"),
            Some(ControlValue::Real(3.0))
        );
        assert_eq!(parse_control_value(RealSetpoint, "1e39"), None);
        assert_eq!(parse_control_value(RealSetpoint, "NaN"), None);
    }

    #[test]
    fn control_errors_classify_and_explain() {
        let e = ControlError::new(ControlOp::Select, DataAccessError::TEMPORARILY_UNAVAILABLE);
        assert_eq!(e.kind, ControlErrorKind::TemporarilyUnavailable);
        assert_eq!(
            e.to_string(),
            "select refused: temporarily-unavailable (another client holds the select, or an \
             operate is in progress)"
        );
        let e = ControlError::new(ControlOp::Operate, DataAccessError::HARDWARE_FAULT);
        assert_eq!(e.kind, ControlErrorKind::HardwareFault);
        assert_eq!(e.code(), DataAccessError::HARDWARE_FAULT);
        let e = ControlError::new(ControlOp::SetTag, DataAccessError(42));
        assert_eq!(e.kind, ControlErrorKind::Other(DataAccessError(42)));
        assert_eq!(e.to_string(), "tag change refused: data-access-error(42)");
        for code in 0..=12 {
            let k = ControlErrorKind::of(DataAccessError(code));
            assert_eq!(k.code(), DataAccessError(code));
        }
    }
}
