//! The JSON shapes of [`crate::WasmSession`]'s events, as Rust structs written by hand (see [`crate::jw`]): this
//! module is the one place the event format is defined (the table in the [crate docs](crate)
//! summarises it).
//!
//! Conventions:
//!
//! - every event is an object with a `type` field, every operation outcome an object with a `kind`
//!   field;
//! - object names are strings: `"DOMAIN/ITEM"` (ICC scope), `"ITEM"` (VCC scope), `"@aa/ITEM"`
//!   (association scope), the same form commands accept;
//! - enumerations are snake_case strings (`"valid"`, `"telemetered"`, `"access_denied"`);
//! - absent optional values are `null`;
//! - MMS values that are not typed points render as in [`mms_value`].

use crate::jw::{self, Obj, ToJson};
use tase2_core::assoc::{AssocError, Negotiated, PeerError, RequestError};
use tase2_core::deviation::{Deviation, DeviationKind};
use tase2_core::mms::{
    AccessResult, BitString, ConfirmedResponse, Data, Float, ObjectName, RejectPdu,
    TypeDescription, TypeSpecification, VariableAccessSpecification,
};
use tase2_core::tase2::client::{
    ControlError, ControlErrorKind, ControlOp, DeviceInfo, Discovery, DomainInfo, Error, OpId,
    Outcome, ReportError, Reported, SessionEvent, TypedReport, UndecodedReport, VariableInfo,
};
use tase2_core::tase2::{
    ControlMode, CurrentSource, DeviceKind, DsConditions, DsTransferSetValue, Edition, Features,
    Form, InfoMessage, InfoScope, PointType, PointValue, StateValue, Tag, TagValue, Validity,
    Value as PointVal,
};

/// One event of a [`crate::WasmSession`], as JSON (`type` names the variant).
#[derive(Clone, Debug, PartialEq)]
pub enum EventJson {
    /// The association is up.
    Established {
        /// Negotiated max MMS PDU size (octets).
        max_pdu_size: u32,
        /// Requests the client may have outstanding.
        max_outstanding: u16,
        /// Negotiated COTP TPDU size (octets).
        tpdu_size: usize,
    },
    /// An operation finished.
    Done(DoneJson),
    /// A DS transfer set report.
    Report(ReportJson),
    /// An information message (block 4).
    InfoMessage(InfoMessageJson),
    /// An InformationReport that was neither.
    Undecoded(UndecodedJson),
    /// A peer deviation from the standard that was accepted.
    Deviation {
        /// Machine name, e.g. `report_named_after_transfer_set`.
        kind: String,
        /// One line for people.
        description: &'static str,
        /// The object concerned, or `null`.
        object: Option<String>,
    },
    /// The server made a protocol mistake that was answered without closing.
    PeerError {
        /// What it did.
        error: String,
    },
    /// The server rejected one of our PDUs.
    Rejected {
        /// The invoke id it names, or `null`.
        invoke_id: Option<u32>,
        /// The reject reason.
        reason: String,
    },
    /// The association ended (the last event).
    Closed {
        /// `null` for an orderly release, the cause otherwise.
        error: Option<String>,
    },
}

/// `{"type":"done"}`: one operation's result.
#[derive(Clone, Debug, PartialEq)]
pub struct DoneJson {
    /// The id the command returned.
    pub op: u64,
    /// Whether it succeeded.
    pub ok: bool,
    /// The outcome, when `ok`.
    pub result: Option<OutcomeJson>,
    /// Why it failed, when not `ok`: flattened (`error`, `kind`, ...).
    pub failure: Option<ErrorJson>,
}

/// Why an operation (or one point of a read) failed.
#[derive(Clone, Debug, PartialEq)]
pub struct ErrorJson {
    /// The error as text.
    pub error: String,
    /// Machine kind: `api`, `service_error`, `rejected`, `timeout`, `association_closed`,
    /// `access`, `unexpected_response`, `closed`, `unexpected_value`, `not_a_point`, `control`,
    /// `not_a_device`.
    pub kind: &'static str,
    /// The MMS DataAccessError code (`access` and `control`).
    pub code: Option<u8>,
    /// The object concerned (`unexpected_value`, `not_a_point`, `not_a_device`).
    pub object: Option<String>,
    /// A refused select, operate or tag request (`control`).
    pub control: Option<ControlJson>,
}

/// A refused device control request, classified.
#[derive(Clone, Debug, PartialEq)]
pub struct ControlJson {
    /// `select`, `operate`, `read_tag` or `set_tag`.
    pub op: &'static str,
    /// `access_denied`, `temporarily_unavailable`, `type_inconsistent`, `value_invalid`,
    /// `hardware_fault`, `non_existent` or `other`.
    pub kind: &'static str,
    /// What the refusal most likely means, or `null`.
    pub explanation: Option<&'static str>,
}

/// What a finished operation produced (`kind` names the variant).
#[derive(Clone, Debug, PartialEq)]
pub enum OutcomeJson {
    /// Done, nothing to return.
    Unit,
    /// The server's edition (`"2000.08"` or `"1996.08"`).
    Version {
        /// The edition.
        edition: &'static str,
    },
    /// `TASE2_Version` as two integers.
    VersionNumbers {
        /// Major.
        major: i64,
        /// Minor.
        minor: i64,
    },
    /// The conformance blocks of `Supported_Features`.
    Features {
        /// Block numbers, ascending.
        blocks: Vec<u8>,
    },
    /// `Bilateral_Table_ID`.
    TableId {
        /// The id.
        table_id: String,
    },
    /// Names (domains, data sets or variables).
    Names {
        /// The names.
        names: Vec<String>,
    },
    /// Variables with their types.
    Variables {
        /// The variables.
        variables: Vec<VariableJson>,
    },
    /// Everything discovery found.
    Discovery(DiscoveryJson),
    /// Point types (TASE.2 names), one per name asked (`null`: not a point).
    PointTypes {
        /// The types.
        point_types: Vec<Option<&'static str>>,
    },
    /// Point values, one per name asked, in order.
    Points {
        /// Each a [`PointJson`] (`ok: true`) or an error (`ok: false`, `name`, `error`, `kind`).
        points: Vec<PointResultJson>,
    },
    /// A data set's members.
    Members {
        /// The members.
        members: Vec<String>,
    },
    /// Whether the server deleted the data set.
    Deleted {
        /// Deleted.
        deleted: bool,
    },
    /// A transfer set's name.
    TransferSet {
        /// The name.
        transfer_set: String,
    },
    /// A transfer set's configuration.
    TransferSetValue {
        /// The configuration.
        value: TransferSetJson,
    },
    /// What a device is.
    Device {
        /// `command`, `discrete_setpoint` or `real_setpoint`.
        device_kind: String,
        /// `sbo` or `direct`.
        mode: &'static str,
        /// Whether it has a tag.
        tagged: bool,
    },
    /// The CheckBackID a select answered.
    CheckBackId {
        /// The id.
        check_back_id: i16,
    },
    /// A device's tag.
    Tag {
        /// `none`, `open_and_close_inhibit`, `close_only_inhibit` or `invalid`.
        tag: String,
        /// Selected at the moment.
        armed: bool,
        /// Why.
        reason: String,
    },
    /// The answer to a raw MMS request (debug text).
    Response {
        /// The response.
        response: String,
    },
}

/// A variable as discovery found it.
#[derive(Clone, Debug, PartialEq)]
pub struct VariableJson {
    /// Its name.
    pub name: String,
    /// The TASE.2 type name (`Data_RealQTimeTag`, `DSTransferSet`, ...), or `null`.
    pub tase2_type: Option<&'static str>,
    /// The MMS type as text when there is no TASE.2 name (`null` when unknown or named).
    pub mms_type: Option<String>,
    /// Other point types with the same MMS type (omitted when unambiguous).
    pub alternative_types: Vec<&'static str>,
}

/// One domain as discovery found it.
#[derive(Clone, Debug, PartialEq)]
pub struct DomainJson {
    /// Its name.
    pub name: String,
    /// `Bilateral_Table_ID`, or `null`.
    pub table_id: Option<String>,
    /// Its variables.
    pub variables: Vec<VariableJson>,
    /// Its data sets.
    pub data_sets: Vec<String>,
}

/// `{"kind":"discovery"}`.
#[derive(Clone, Debug, PartialEq)]
pub struct DiscoveryJson {
    /// `[major, minor]` of `TASE2_Version`, or `null`.
    pub version: Option<(i64, i64)>,
    /// `"2000.08"`, `"1996.08"` or `null`.
    pub edition: Option<&'static str>,
    /// Conformance blocks, or `null`.
    pub features: Option<Vec<u8>>,
    /// VCC variables, or `null` when the server did not list them (see `vcc_error`).
    pub vcc: Option<Vec<VariableJson>>,
    /// Why VCC was not listed (omitted when it was).
    pub vcc_error: Option<String>,
    /// The visible domains.
    pub domains: Vec<DomainJson>,
}

/// A typed point value.
#[derive(Clone, Debug, PartialEq)]
pub struct PointJson {
    /// The point.
    pub name: String,
    /// Its TASE.2 type, or `null` when not known.
    pub point_type: Option<&'static str>,
    /// A number (real, discrete, state supplemental), a state string (`on`, `off`, `between`,
    /// `invalid`), or an object for protection events.
    pub value: Raw,
    /// The quality flags, decoded (`null` for a form without flags).
    pub flags: Option<FlagsJson>,
    /// The time stamp (`null` for a form without one).
    pub timestamp: Option<TimestampJson>,
    /// Change-of-value counter (Extended forms only).
    pub cov: Option<u16>,
}

/// One result of a `read_points`.
#[derive(Clone, Debug, PartialEq)]
pub enum PointResultJson {
    /// Read and typed.
    Ok {
        /// Always true.
        ok: bool,
        /// The value.
        point: PointJson,
    },
    /// Failed.
    Err {
        /// Always false.
        ok: bool,
        /// The point.
        name: String,
        /// Why.
        error: ErrorJson,
    },
}

/// `Data_Flags`, decoded.
#[derive(Clone, Debug, PartialEq)]
pub struct FlagsJson {
    /// `valid`, `held`, `suspect` or `not_valid`.
    pub validity: &'static str,
    /// `telemetered`, `calculated`, `entered` or `estimated`.
    pub source: &'static str,
    /// The normal-value bit.
    pub off_normal: bool,
    /// The timestamp-quality bit.
    pub timestamp_invalid: bool,
    /// State points only: the state bits (`on`, `off`, `between`, `invalid`).
    pub state: Option<&'static str>,
    /// The octet as sent.
    pub raw: u8,
}

/// A TASE.2 time stamp.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TimestampJson {
    /// Seconds since 1970 UTC.
    pub seconds: i32,
    /// Milliseconds within the second (0 for forms without them).
    pub ms: u16,
}

/// `{"type":"report"}`.
#[derive(Clone, Debug, PartialEq)]
pub struct ReportJson {
    /// The transfer set, or `null`.
    pub transfer_set: Option<String>,
    /// `Transfer_Set_Time_Stamp` seconds, or `null`.
    pub timestamp: Option<i32>,
    /// The conditions detected as names (`interval`, `integrity`, `change`, `operator`,
    /// `external`), or `null`.
    pub conditions: Option<Vec<&'static str>>,
    /// `Event_Code_Detected`, or `null`.
    pub event_code: Option<i16>,
    /// The data set of a full report, `null` for a report by list of variables.
    pub data_set: Option<String>,
    /// Typed point values, in report order.
    pub points: Vec<PointJson>,
    /// Members whose type is not known, as MMS values: `{"name", "mms"}` (omitted when none).
    pub other: Vec<Raw>,
    /// Whether the session already acknowledged it (critical, auto-ACK).
    pub acknowledged: bool,
}

/// `{"type":"info_message"}`.
#[derive(Clone, Debug, PartialEq)]
pub struct InfoMessageJson {
    /// `vcc` or `icc`.
    pub scope: &'static str,
    /// The ICC domain, or `null`.
    pub domain: Option<String>,
    /// Header `InfoReference`.
    pub info_reference: i32,
    /// Header `LocalReference`.
    pub local_reference: i32,
    /// Header `MessageId`.
    pub message_id: i32,
    /// Header `Size`.
    pub size: i32,
    /// The buffer it came in (`Info_Buff_<n>`).
    pub buffer: String,
    /// The message as text, when printable (else omitted and `hex` given).
    pub text: Option<String>,
    /// The message octets in hex, when not text.
    pub hex: Option<String>,
}

/// `{"type":"undecoded"}`.
#[derive(Clone, Debug, PartialEq)]
pub struct UndecodedJson {
    /// Why it was not decoded.
    pub reason: String,
    /// The named variable list, or `null` for a list of variables.
    pub list: Option<String>,
    /// The variables, for a list of variables (else empty).
    pub names: Vec<String>,
    /// The values as MMS JSON (a failed access as `{"failure": text}`).
    pub values: Vec<Raw>,
}

/// A DS transfer set configuration (what `read_transfer_set` returns; commands accept the same
/// fields, all optional except `data_set`).
#[derive(Clone, Debug, PartialEq)]
pub struct TransferSetJson {
    /// The data set.
    pub data_set: String,
    /// Start time (seconds since 1970, 0 = at once).
    pub start_time: i32,
    /// Interval (s).
    pub interval: i32,
    /// Time limit for execution (s).
    pub tle: i32,
    /// Buffer time (s).
    pub buffer_time: i32,
    /// Integrity period (s).
    pub integrity_check: i32,
    /// Conditions as names.
    pub conditions: Vec<&'static str>,
    /// Block data.
    pub block_data: bool,
    /// Critical.
    pub critical: bool,
    /// Report by exception.
    pub rbe: bool,
    /// All changes reported (2000.08).
    pub all_changes_reported: bool,
    /// Running.
    pub status: bool,
    /// Event code requested.
    pub event_code_requested: i16,
}

/// The names of the DS conditions, bit 0 first (as [`DsConditions`]'s Display writes them).
pub const CONDITION_NAMES: [&str; 5] = ["interval", "integrity", "change", "operator", "external"];

/// Condition names of `c`, bit 0 first.
pub fn conditions(c: DsConditions) -> Vec<&'static str> {
    CONDITION_NAMES
        .iter()
        .enumerate()
        .filter(|(i, _)| c.0 & (1 << i) != 0)
        .map(|(_, n)| *n)
        .collect()
}

/// An object name as the string commands and events use.
pub fn name(n: &ObjectName) -> String {
    n.to_string()
}

/// The snake_case name of a device kind.
fn device_kind_name(k: DeviceKind) -> &'static str {
    match k {
        DeviceKind::Command => "command",
        DeviceKind::DiscreteSetpoint => "discrete_setpoint",
        DeviceKind::RealSetpoint => "real_setpoint",
    }
}

/// The snake_case name of a tag value.
fn tag_name(t: TagValue) -> &'static str {
    match t {
        TagValue::None => "none",
        TagValue::OpenAndCloseInhibit => "open_and_close_inhibit",
        TagValue::CloseOnlyInhibit => "close_only_inhibit",
        TagValue::Invalid => "invalid",
    }
}

/// The snake_case name of a deviation kind.
fn deviation_name(k: DeviationKind) -> &'static str {
    match k {
        DeviationKind::PointComponentOrder => "point_component_order",
        DeviationKind::StateAsInteger => "state_as_integer",
        DeviationKind::ReportNamedAfterTransferSet => "report_named_after_transfer_set",
        DeviationKind::NextTransferSetAsString => "next_transfer_set_as_string",
        DeviationKind::NameListNotAdvancing => "name_list_not_advancing",
        DeviationKind::ExplicitContinueAfter => "explicit_continue_after",
        DeviationKind::TpduSizeBeyondClass0 => "tpdu_size_beyond_class0",
        DeviationKind::ObjectNameScopeInteger => "object_name_scope_integer",
        DeviationKind::ReportTimeStampNotGmtBasedS => "report_time_stamp_not_gmt_based_s",
        // The enum is non-exhaustive: a kind added in the core is named here too.
        _ => "unknown",
    }
}

fn edition(e: Edition) -> &'static str {
    match e {
        Edition::V1996_08 => "1996.08",
        Edition::V2000_08 => "2000.08",
    }
}

fn blocks(f: Features) -> Vec<u8> {
    (1..=12).filter(|b| f.has_block(*b)).collect()
}

fn state(s: StateValue) -> &'static str {
    match s {
        StateValue::Between => "between",
        StateValue::Off => "off",
        StateValue::On => "on",
        StateValue::Invalid => "invalid",
    }
}

fn validity(v: Validity) -> &'static str {
    match v {
        Validity::Valid => "valid",
        Validity::Held => "held",
        Validity::Suspect => "suspect",
        Validity::NotValid => "not_valid",
    }
}

fn source(s: CurrentSource) -> &'static str {
    match s {
        CurrentSource::Telemetered => "telemetered",
        CurrentSource::Calculated => "calculated",
        CurrentSource::Entered => "entered",
        CurrentSource::Estimated => "estimated",
    }
}

/// A pre-rendered JSON value (an MMS value, a point's value), written as is.
#[derive(Clone, Debug, PartialEq)]
pub struct Raw(pub String);

impl ToJson for Raw {
    fn write_json(&self, out: &mut String) {
        out.push_str(&self.0)
    }
}

fn raw(f: impl FnOnce(&mut String)) -> Raw {
    let mut s = String::new();
    f(&mut s);
    Raw(s)
}

fn bits_into(out: &mut String, b: &BitString) {
    jw::bits(out, &b.octets, b.bits);
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::new();
    jw::hex(&mut s, bytes);
    s
}

fn mms_value_into(out: &mut String, d: &Data) {
    match d {
        Data::Array(v) | Data::Structure(v) => {
            out.push('[');
            for (i, d) in v.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                mms_value_into(out, d);
            }
            out.push(']');
        }
        Data::Boolean(b) => b.write_json(out),
        Data::BitString(b) | Data::BooleanArray(b) => bits_into(out, b),
        Data::Integer(v) | Data::Bcd(v) => jw::int(out, *v),
        Data::Unsigned(v) => match i64::try_from(*v) {
            Ok(v) => jw::int(out, v),
            Err(_) => {
                out.push('"');
                jw::num(out, v);
                out.push('"');
            }
        },
        Data::Float(Float::F32(v)) => jw::float(out, *v),
        Data::Float(Float::F64(v)) => jw::float(out, *v),
        Data::OctetString(o) => {
            out.push('"');
            jw::hex(out, o);
            out.push('"');
        }
        Data::VisibleString(s) | Data::MmsString(s) | Data::GeneralizedTime(s) => {
            jw::string(out, s)
        }
        Data::BinaryTime(t) => {
            let mut o = Obj::new(out);
            o.field("ms_of_day", &t.millis_since_midnight)
                .field("days_since_1984", &t.days_since_1984);
            o.end();
        }
        Data::ObjectId(oid) => jw::string(out, &oid.to_string()),
        Data::UtcTime(t) => {
            let mut o = Obj::new(out);
            let secs =
                f64::from(t.seconds) + f64::from(t.fraction & 0xff_ffff) / f64::from(1u32 << 24);
            jw::float(o.key("utc_seconds"), secs);
            o.field("quality", &t.quality);
            o.end();
        }
    }
}

/// An MMS value as JSON: integers as numbers (beyond ±2^53 as strings), floats as numbers,
/// strings as strings, structures and arrays as arrays, bit strings as `"0101"`, octet strings
/// as hex, BinaryTime as `{"ms_of_day", "days_since_1984"}`, UtcTime as `{"utc_seconds",
/// "quality"}`.
pub fn mms_value(d: &Data) -> Raw {
    raw(|out| mms_value_into(out, d))
}

fn access_result(r: &AccessResult) -> Raw {
    match r {
        AccessResult::Success(d) => mms_value(d),
        AccessResult::Failure(e) => raw(|out| {
            let mut o = Obj::new(out);
            o.field("failure", &e.to_string());
            o.end();
        }),
    }
}

/// A size bound: `n`, or `<=n` for a variable size up to `n` (given negative).
fn size(out: &mut String, n: i32) {
    if n < 0 {
        out.push_str("<=");
    }
    push_int(out, i64::from(n).unsigned_abs());
}

fn push_int(out: &mut String, n: u64) {
    // Written by hand: `format!` argument handling cost more than these lines.
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut n = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend(digits[at..].iter().map(|&d| char::from(d)));
}

/// An MMS type as compact text: `INT16`, `FLOAT32`, `BIT STRING(8)`, `VisibleString(<=32)`,
/// `{Value FLOAT32, Flags BIT STRING(8)}`, `ARRAY[4] OF INT8`.
pub fn mms_type(t: &TypeDescription) -> String {
    let mut out = String::new();
    write_mms_type(&mut out, t);
    out
}

fn write_mms_type(out: &mut String, t: &TypeDescription) {
    fn spec(out: &mut String, s: &TypeSpecification) {
        match s {
            TypeSpecification::TypeName(n) => {
                out.push_str("type ");
                out.push_str(&n.to_string());
            }
            TypeSpecification::Description(t) => write_mms_type(out, t),
        }
    }
    // A name and a bound in parentheses, e.g. `BIT STRING(8)`.
    let sized = |out: &mut String, name: &str, n: i32| {
        out.push_str(name);
        out.push('(');
        size(out, n);
        out.push(')');
    };
    match t {
        TypeDescription::Array {
            number_of_elements,
            element_type,
            ..
        } => {
            out.push_str("ARRAY[");
            push_int(out, u64::from(*number_of_elements));
            out.push_str("] OF ");
            spec(out, element_type);
        }
        TypeDescription::Structure { components, .. } => {
            out.push('{');
            for (i, c) in components.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                if let Some(n) = &c.name {
                    out.push_str(n);
                    out.push(' ');
                }
                spec(out, &c.type_spec);
            }
            out.push('}');
        }
        TypeDescription::Boolean => out.push_str("BOOLEAN"),
        TypeDescription::BitString(n) => sized(out, "BIT STRING", *n),
        TypeDescription::Integer(n) => {
            out.push_str("INT");
            push_int(out, u64::from(*n));
        }
        TypeDescription::Unsigned(n) => {
            out.push_str("UINT");
            push_int(out, u64::from(*n));
        }
        TypeDescription::FloatingPoint {
            format_width,
            exponent_width,
        } => match (format_width, exponent_width) {
            (32, 8) => out.push_str("FLOAT32"),
            (64, 11) => out.push_str("FLOAT64"),
            (f, e) => {
                out.push_str("FLOAT(");
                push_int(out, u64::from(*f));
                out.push(',');
                push_int(out, u64::from(*e));
                out.push(')');
            }
        },
        TypeDescription::OctetString(n) => sized(out, "OCTET STRING", *n),
        TypeDescription::VisibleString(n) => sized(out, "VisibleString", *n),
        TypeDescription::GeneralizedTime => out.push_str("GeneralizedTime"),
        TypeDescription::BinaryTime(date) => out.push_str(if *date {
            "TimeOfDay(6)"
        } else {
            "TimeOfDay(4)"
        }),
        TypeDescription::Bcd(n) => {
            out.push_str("BCD(");
            push_int(out, u64::from(*n));
            out.push(')');
        }
        TypeDescription::ObjId => out.push_str("OBJECT IDENTIFIER"),
        TypeDescription::MmsString(n) => sized(out, "MMSString", *n),
        TypeDescription::UtcTime => out.push_str("UtcTime"),
    }
}

/// A variable of discovery.
pub fn variable(v: &VariableInfo) -> VariableJson {
    let tase2_type = v.tase2_type_name();
    VariableJson {
        name: name(&v.name),
        tase2_type,
        mms_type: match tase2_type {
            Some(_) => None,
            None => v.type_description.as_ref().map(mms_type),
        },
        alternative_types: v
            .alternative_point_types()
            .into_iter()
            .map(PointType::name)
            .collect(),
    }
}

fn domain(d: &DomainInfo) -> DomainJson {
    DomainJson {
        name: d.name.clone(),
        table_id: d.table_id.clone(),
        variables: d.variables.iter().map(variable).collect(),
        data_sets: d.data_sets.clone(),
    }
}

fn discovery(d: &Discovery) -> DiscoveryJson {
    DiscoveryJson {
        version: d.version,
        edition: d.edition.map(edition),
        features: d.features.map(blocks),
        vcc: d
            .vcc
            .as_ref()
            .ok()
            .map(|v| v.iter().map(variable).collect()),
        vcc_error: d.vcc.as_ref().err().map(ToString::to_string),
        domains: d.domains.iter().map(domain).collect(),
    }
}

/// Whether a point of type `t` carries flags and a time stamp; `(true, true)` when unknown.
fn parts(t: Option<PointType>) -> (bool, bool) {
    match t {
        None => (true, true),
        Some(PointType::Indication(_, Form::Plain)) => (false, false),
        Some(PointType::Indication(_, Form::Q)) => (true, false),
        Some(PointType::Indication(_, _)) => (true, true),
        Some(PointType::SingleEvent | PointType::PackedEvent) => (false, true),
    }
}

/// A typed point value; `point_type` decides which parts are shown (all when unknown).
pub fn point(n: &ObjectName, t: Option<PointType>, v: &PointValue) -> PointJson {
    let (has_flags, has_time) = parts(t);
    let byte = |out: &mut String, b: u8| bits_into(out, &BitString::from_octets(&[b], 8));
    let value = raw(|out| match v.value {
        PointVal::Real(x) => jw::float(out, x),
        PointVal::State(s) => jw::string(out, state(s)),
        PointVal::Discrete(x) => jw::num(out, x),
        PointVal::StateSupplemental(x) => jw::num(out, x),
        PointVal::SingleEvent {
            flags,
            operating_time,
        } => {
            let mut o = Obj::new(out);
            byte(o.key("event_flags"), flags);
            o.field("operating_time_ms", &operating_time);
            o.end();
        }
        PointVal::PackedEvent {
            events,
            flags,
            operating_time,
        } => {
            let mut o = Obj::new(out);
            byte(o.key("events"), events);
            byte(o.key("event_flags"), flags);
            o.field("operating_time_ms", &operating_time);
            o.end();
        }
    });
    let wire = v.wire_flags();
    let flags = has_flags.then(|| FlagsJson {
        validity: validity(wire.validity()),
        source: source(wire.source()),
        off_normal: wire.off_normal(),
        timestamp_invalid: wire.timestamp_invalid(),
        state: matches!(v.value, PointVal::State(_)).then(|| state(wire.state())),
        raw: wire.0,
    });
    let cov = matches!(t, Some(PointType::Indication(_, Form::Extended))).then_some(v.cov);
    PointJson {
        name: name(n),
        point_type: t.map(PointType::name),
        value,
        flags,
        timestamp: has_time.then_some(TimestampJson {
            seconds: v.timestamp.seconds,
            ms: v.timestamp.millis,
        }),
        cov,
    }
}

fn control_op(op: ControlOp) -> &'static str {
    match op {
        ControlOp::Select => "select",
        ControlOp::Operate => "operate",
        ControlOp::ReadTag => "read_tag",
        ControlOp::SetTag => "set_tag",
    }
}

fn control_kind(k: ControlErrorKind) -> &'static str {
    match k {
        ControlErrorKind::AccessDenied => "access_denied",
        ControlErrorKind::TemporarilyUnavailable => "temporarily_unavailable",
        ControlErrorKind::TypeInconsistent => "type_inconsistent",
        ControlErrorKind::ValueInvalid => "value_invalid",
        ControlErrorKind::HardwareFault => "hardware_fault",
        ControlErrorKind::NonExistent => "non_existent",
        ControlErrorKind::Other(_) => "other",
    }
}

fn control(e: &ControlError) -> ControlJson {
    ControlJson {
        op: control_op(e.op),
        kind: control_kind(e.kind),
        explanation: e.explanation(),
    }
}

/// An operation error.
pub fn error(e: &Error) -> ErrorJson {
    let mut j = ErrorJson {
        error: e.to_string(),
        kind: "api",
        code: None,
        object: None,
        control: None,
    };
    match e {
        Error::Api(_) => {}
        Error::Request(RequestError::Service(_)) => j.kind = "service_error",
        Error::Request(RequestError::Rejected(_)) => j.kind = "rejected",
        Error::Request(RequestError::Timeout) => j.kind = "timeout",
        Error::Request(RequestError::AssociationClosed) => j.kind = "association_closed",
        Error::Access(a) => {
            j.kind = "access";
            j.code = Some(a.0);
        }
        Error::UnexpectedResponse => j.kind = "unexpected_response",
        Error::Closed(_) => j.kind = "closed",
        Error::UnexpectedValue(n) => {
            j.kind = "unexpected_value";
            j.object = Some(name(n));
        }
        Error::NotAPoint(n) => {
            j.kind = "not_a_point";
            j.object = Some(name(n));
        }
        Error::Control(c) => {
            j.kind = "control";
            j.code = Some(c.code().0);
            j.control = Some(control(c));
        }
        Error::NotADevice(n) => {
            j.kind = "not_a_device";
            j.object = Some(name(n));
        }
    }
    j
}

/// A transfer set configuration.
pub fn transfer_set_value(v: &DsTransferSetValue) -> TransferSetJson {
    TransferSetJson {
        data_set: name(&v.data_set),
        start_time: v.start_time,
        interval: v.interval,
        tle: v.tle,
        buffer_time: v.buffer_time,
        integrity_check: v.integrity_check,
        conditions: conditions(v.conditions),
        block_data: v.block_data,
        critical: v.critical,
        rbe: v.rbe,
        all_changes_reported: v.all_changes_reported,
        status: v.status,
        event_code_requested: v.event_code_requested,
    }
}

fn device(d: &DeviceInfo) -> OutcomeJson {
    OutcomeJson::Device {
        device_kind: device_kind(d.kind),
        mode: match d.mode {
            ControlMode::Sbo => "sbo",
            ControlMode::Direct => "direct",
        },
        tagged: d.tagged,
    }
}

fn device_kind(k: DeviceKind) -> String {
    device_kind_name(k).into()
}

fn tag(t: &Tag) -> OutcomeJson {
    OutcomeJson::Tag {
        tag: tag_value(t.value),
        armed: t.armed,
        reason: t.reason.clone(),
    }
}

fn tag_value(t: TagValue) -> String {
    tag_name(t).into()
}

/// An outcome. `names` are the points a `read_points` asked for (to name its results) and
/// `types` the point types the session knows for them.
pub fn outcome(o: &Outcome, names: &[ObjectName], types: &[Option<PointType>]) -> OutcomeJson {
    match o {
        Outcome::Unit => OutcomeJson::Unit,
        Outcome::Version(e) => OutcomeJson::Version {
            edition: edition(*e),
        },
        Outcome::VersionNumbers(major, minor) => OutcomeJson::VersionNumbers {
            major: *major,
            minor: *minor,
        },
        Outcome::Features(f) => OutcomeJson::Features { blocks: blocks(*f) },
        Outcome::TableId(t) => OutcomeJson::TableId {
            table_id: t.clone(),
        },
        Outcome::Names(n) => OutcomeJson::Names { names: n.clone() },
        Outcome::Variables(v) => OutcomeJson::Variables {
            variables: v.iter().map(variable).collect(),
        },
        Outcome::Discovery(d) => OutcomeJson::Discovery(discovery(d)),
        Outcome::PointTypes(t) => OutcomeJson::PointTypes {
            point_types: t.iter().map(|t| t.map(PointType::name)).collect(),
        },
        Outcome::Points(results) => OutcomeJson::Points {
            points: results
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let n = names
                        .get(i)
                        .cloned()
                        .unwrap_or_else(|| ObjectName::vmd(format!("#{i}")));
                    match r {
                        Ok(v) => PointResultJson::Ok {
                            ok: true,
                            point: point(&n, types.get(i).copied().flatten(), v),
                        },
                        Err(e) => PointResultJson::Err {
                            ok: false,
                            name: name(&n),
                            error: error(e),
                        },
                    }
                })
                .collect(),
        },
        Outcome::Members(m) => OutcomeJson::Members {
            members: m.iter().map(name).collect(),
        },
        Outcome::Deleted(d) => OutcomeJson::Deleted { deleted: *d },
        Outcome::TransferSet(t) => OutcomeJson::TransferSet {
            transfer_set: name(t),
        },
        Outcome::TransferSetValue(v) => OutcomeJson::TransferSetValue {
            value: transfer_set_value(v),
        },
        Outcome::Device(d) => device(d),
        Outcome::CheckBackId(id) => OutcomeJson::CheckBackId { check_back_id: *id },
        Outcome::Tag(t) => tag(t),
        // Unreachable from WasmSession (no raw requests); the service name only, as Debug
        // formatting of every MMS type would weigh in the wasm.
        Outcome::Response(r) => OutcomeJson::Response {
            response: response_service(r).into(),
        },
    }
}

fn response_service(r: &ConfirmedResponse) -> &'static str {
    match r {
        ConfirmedResponse::Status(_) => "status",
        ConfirmedResponse::GetNameList(_) => "get_name_list",
        ConfirmedResponse::Identify(_) => "identify",
        ConfirmedResponse::Read(_) => "read",
        ConfirmedResponse::Write(_) => "write",
        ConfirmedResponse::GetVariableAccessAttributes(_) => "get_variable_access_attributes",
        ConfirmedResponse::DefineNamedVariableList => "define_named_variable_list",
        ConfirmedResponse::GetNamedVariableListAttributes(_) => {
            "get_named_variable_list_attributes"
        }
        ConfirmedResponse::DeleteNamedVariableList { .. } => "delete_named_variable_list",
    }
}

/// A typed report.
pub fn report(r: &TypedReport) -> ReportJson {
    let mut points = Vec::new();
    let mut other = Vec::new();
    for (n, v) in &r.values {
        match v {
            Reported::Point(t, p) => points.push(point(n, Some(*t), p)),
            Reported::Other(d) => other.push(raw(|out| {
                let mut o = Obj::new(out);
                o.field("name", &name(n));
                mms_value_into(o.key("mms"), d);
                o.end();
            })),
        }
    }
    ReportJson {
        transfer_set: r.transfer_set.as_ref().map(name),
        timestamp: r.timestamp,
        conditions: r.conditions.map(conditions),
        event_code: r.event_code,
        data_set: r.data_set.as_ref().map(name),
        points,
        other,
        acknowledged: r.acknowledged,
    }
}

/// An information message.
pub fn info_message(m: &InfoMessage) -> InfoMessageJson {
    let text = m.text().map(String::from);
    InfoMessageJson {
        scope: match m.scope {
            InfoScope::Vcc => "vcc",
            InfoScope::Icc => "icc",
        },
        domain: m.domain.clone(),
        info_reference: m.header.info_reference,
        local_reference: m.header.local_reference,
        message_id: m.header.message_id,
        size: m.header.size,
        buffer: m.buffer.clone(),
        hex: text.is_none().then(|| hex(&m.data)),
        text,
    }
}

fn undecoded(u: &UndecodedReport) -> UndecodedJson {
    let (list, names) = match &u.report.variables {
        VariableAccessSpecification::VariableListName(n) => (Some(name(n)), Vec::new()),
        VariableAccessSpecification::ListOfVariable(v) => {
            (None, v.iter().map(|s| name(&s.name)).collect())
        }
    };
    UndecodedJson {
        reason: match &u.error {
            ReportError::UnknownDataSet(n) => format!("unknown data set {n}"),
            ReportError::CountMismatch => "member and value counts differ".into(),
            ReportError::NotADataReport => "not a data report".into(),
        },
        list,
        names,
        values: u.report.results.iter().map(access_result).collect(),
    }
}

fn deviation(d: &Deviation) -> EventJson {
    EventJson::Deviation {
        kind: deviation_name(d.kind).into(),
        description: d.kind.describe(),
        object: d.object.as_ref().map(name),
    }
}

fn established(n: &Negotiated) -> EventJson {
    EventJson::Established {
        max_pdu_size: n.max_pdu_size,
        max_outstanding: n.max_serv_outstanding_calling,
        tpdu_size: n.tpdu_size,
    }
}

fn peer_error(e: &PeerError) -> EventJson {
    EventJson::PeerError {
        // Display, not Debug: Debug formatting of the core's types would weigh in the wasm.
        error: e.to_string(),
    }
}

fn rejected(r: &RejectPdu) -> EventJson {
    EventJson::Rejected {
        invoke_id: r.original_invoke_id,
        reason: r.reason.to_string(),
    }
}

fn closed(e: &Option<AssocError>) -> EventJson {
    EventJson::Closed {
        error: e.as_ref().map(ToString::to_string),
    }
}

/// The JSON shape of a session event. For a `done` of `read_points`, `names` and `types` name
/// its results (see [`outcome`]); pass empty slices otherwise.
pub fn event(e: &SessionEvent, names: &[ObjectName], types: &[Option<PointType>]) -> EventJson {
    match e {
        SessionEvent::Established(n) => established(n),
        SessionEvent::Done { op, result } => EventJson::Done(done(*op, result, names, types)),
        SessionEvent::Report(r) => EventJson::Report(report(r)),
        SessionEvent::InfoMessage(m) => EventJson::InfoMessage(info_message(m)),
        SessionEvent::Undecoded(u) => EventJson::Undecoded(undecoded(u)),
        SessionEvent::Deviation(d) => deviation(d),
        SessionEvent::PeerError(p) => peer_error(p),
        SessionEvent::Rejected(r) => rejected(r),
        SessionEvent::Closed(c) => closed(c),
    }
}

fn done(
    op: OpId,
    result: &Result<Outcome, Error>,
    names: &[ObjectName],
    types: &[Option<PointType>],
) -> DoneJson {
    match result {
        Ok(o) => DoneJson {
            op: op.0,
            ok: true,
            result: Some(outcome(o, names, types)),
            failure: None,
        },
        Err(e) => DoneJson {
            op: op.0,
            ok: false,
            result: None,
            failure: Some(error(e)),
        },
    }
}

/// The event as a JSON string.
pub fn to_string(e: &EventJson) -> String {
    e.to_json()
}

/// A struct written as an object: its fields, in declaration order (flattened structs write
/// theirs into the enclosing object).
trait Fields {
    fn fields(&self, o: &mut Obj);
}

macro_rules! objects {
    ($($t:ty)*) => {$(
        impl ToJson for $t {
            fn write_json(&self, out: &mut String) {
                let mut o = Obj::new(out);
                self.fields(&mut o);
                o.end();
            }
        }
    )*};
}
objects!(EventJson DoneJson ErrorJson ControlJson OutcomeJson VariableJson DomainJson
    DiscoveryJson PointJson PointResultJson FlagsJson TimestampJson ReportJson InfoMessageJson
    UndecodedJson TransferSetJson);

impl Fields for EventJson {
    fn fields(&self, o: &mut Obj) {
        match self {
            EventJson::Established {
                max_pdu_size,
                max_outstanding,
                tpdu_size,
            } => {
                o.field("type", "established")
                    .field("max_pdu_size", max_pdu_size)
                    .field("max_outstanding", max_outstanding)
                    .field("tpdu_size", tpdu_size);
            }
            EventJson::Done(d) => {
                o.field("type", "done");
                d.fields(o);
            }
            EventJson::Report(r) => {
                o.field("type", "report");
                r.fields(o);
            }
            EventJson::InfoMessage(m) => {
                o.field("type", "info_message");
                m.fields(o);
            }
            EventJson::Undecoded(u) => {
                o.field("type", "undecoded");
                u.fields(o);
            }
            EventJson::Deviation {
                kind,
                description,
                object,
            } => {
                o.field("type", "deviation")
                    .field("kind", kind)
                    .field("description", description)
                    .field("object", object);
            }
            EventJson::PeerError { error } => {
                o.field("type", "peer_error").field("error", error);
            }
            EventJson::Rejected { invoke_id, reason } => {
                o.field("type", "rejected")
                    .field("invoke_id", invoke_id)
                    .field("reason", reason);
            }
            EventJson::Closed { error } => {
                o.field("type", "closed").field("error", error);
            }
        }
    }
}

impl Fields for DoneJson {
    fn fields(&self, o: &mut Obj) {
        o.field("op", &self.op)
            .field("ok", &self.ok)
            .some("result", &self.result);
        if let Some(f) = &self.failure {
            f.fields(o);
        }
    }
}

impl Fields for ErrorJson {
    fn fields(&self, o: &mut Obj) {
        o.field("error", &self.error)
            .field("kind", self.kind)
            .some("code", &self.code)
            .some("object", &self.object)
            .some("control", &self.control);
    }
}

impl Fields for ControlJson {
    fn fields(&self, o: &mut Obj) {
        o.field("op", self.op)
            .field("kind", self.kind)
            .field("explanation", &self.explanation);
    }
}

impl Fields for OutcomeJson {
    fn fields(&self, o: &mut Obj) {
        match self {
            OutcomeJson::Unit => {
                o.field("kind", "unit");
            }
            OutcomeJson::Version { edition } => {
                o.field("kind", "version").field("edition", edition);
            }
            OutcomeJson::VersionNumbers { major, minor } => {
                o.field("kind", "version_numbers")
                    .field("major", major)
                    .field("minor", minor);
            }
            OutcomeJson::Features { blocks } => {
                o.field("kind", "features").field("blocks", blocks);
            }
            OutcomeJson::TableId { table_id } => {
                o.field("kind", "table_id").field("table_id", table_id);
            }
            OutcomeJson::Names { names } => {
                o.field("kind", "names").field("names", names);
            }
            OutcomeJson::Variables { variables } => {
                o.field("kind", "variables").field("variables", variables);
            }
            OutcomeJson::Discovery(d) => {
                o.field("kind", "discovery");
                d.fields(o);
            }
            OutcomeJson::PointTypes { point_types } => {
                o.field("kind", "point_types")
                    .field("point_types", point_types);
            }
            OutcomeJson::Points { points } => {
                o.field("kind", "points").field("points", points);
            }
            OutcomeJson::Members { members } => {
                o.field("kind", "members").field("members", members);
            }
            OutcomeJson::Deleted { deleted } => {
                o.field("kind", "deleted").field("deleted", deleted);
            }
            OutcomeJson::TransferSet { transfer_set } => {
                o.field("kind", "transfer_set")
                    .field("transfer_set", transfer_set);
            }
            OutcomeJson::TransferSetValue { value } => {
                o.field("kind", "transfer_set_value").field("value", value);
            }
            OutcomeJson::Device {
                device_kind,
                mode,
                tagged,
            } => {
                o.field("kind", "device")
                    .field("device_kind", device_kind)
                    .field("mode", mode)
                    .field("tagged", tagged);
            }
            OutcomeJson::CheckBackId { check_back_id } => {
                o.field("kind", "check_back_id")
                    .field("check_back_id", check_back_id);
            }
            OutcomeJson::Tag { tag, armed, reason } => {
                o.field("kind", "tag")
                    .field("tag", tag)
                    .field("armed", armed)
                    .field("reason", reason);
            }
            OutcomeJson::Response { response } => {
                o.field("kind", "response").field("response", response);
            }
        }
    }
}

impl Fields for VariableJson {
    fn fields(&self, o: &mut Obj) {
        o.field("name", &self.name)
            .field("tase2_type", &self.tase2_type)
            .field("mms_type", &self.mms_type);
        if !self.alternative_types.is_empty() {
            o.field("alternative_types", &self.alternative_types);
        }
    }
}

impl Fields for DomainJson {
    fn fields(&self, o: &mut Obj) {
        o.field("name", &self.name)
            .field("table_id", &self.table_id)
            .field("variables", &self.variables)
            .field("data_sets", &self.data_sets);
    }
}

impl Fields for DiscoveryJson {
    fn fields(&self, o: &mut Obj) {
        o.field("version", &self.version)
            .field("edition", &self.edition)
            .field("features", &self.features)
            .field("vcc", &self.vcc)
            .some("vcc_error", &self.vcc_error)
            .field("domains", &self.domains);
    }
}

impl Fields for PointJson {
    fn fields(&self, o: &mut Obj) {
        o.field("name", &self.name)
            .field("point_type", &self.point_type)
            .field("value", &self.value)
            .field("flags", &self.flags)
            .field("timestamp", &self.timestamp)
            .some("cov", &self.cov);
    }
}

impl Fields for PointResultJson {
    fn fields(&self, o: &mut Obj) {
        match self {
            PointResultJson::Ok { ok, point } => {
                o.field("ok", ok);
                point.fields(o);
            }
            PointResultJson::Err { ok, name, error } => {
                o.field("ok", ok).field("name", name);
                error.fields(o);
            }
        }
    }
}

impl Fields for FlagsJson {
    fn fields(&self, o: &mut Obj) {
        o.field("validity", self.validity)
            .field("source", self.source)
            .field("off_normal", &self.off_normal)
            .field("timestamp_invalid", &self.timestamp_invalid)
            .some("state", &self.state)
            .field("raw", &self.raw);
    }
}

impl Fields for TimestampJson {
    fn fields(&self, o: &mut Obj) {
        o.field("seconds", &self.seconds).field("ms", &self.ms);
    }
}

impl Fields for ReportJson {
    fn fields(&self, o: &mut Obj) {
        o.field("transfer_set", &self.transfer_set)
            .field("timestamp", &self.timestamp)
            .field("conditions", &self.conditions)
            .field("event_code", &self.event_code)
            .field("data_set", &self.data_set)
            .field("points", &self.points);
        if !self.other.is_empty() {
            o.field("other", &self.other);
        }
        o.field("acknowledged", &self.acknowledged);
    }
}

impl Fields for InfoMessageJson {
    fn fields(&self, o: &mut Obj) {
        o.field("scope", self.scope)
            .field("domain", &self.domain)
            .field("info_reference", &self.info_reference)
            .field("local_reference", &self.local_reference)
            .field("message_id", &self.message_id)
            .field("size", &self.size)
            .field("buffer", &self.buffer)
            .some("text", &self.text)
            .some("hex", &self.hex);
    }
}

impl Fields for UndecodedJson {
    fn fields(&self, o: &mut Obj) {
        o.field("reason", &self.reason)
            .field("list", &self.list)
            .field("names", &self.names)
            .field("values", &self.values);
    }
}

impl Fields for TransferSetJson {
    fn fields(&self, o: &mut Obj) {
        o.field("data_set", &self.data_set)
            .field("start_time", &self.start_time)
            .field("interval", &self.interval)
            .field("tle", &self.tle)
            .field("buffer_time", &self.buffer_time)
            .field("integrity_check", &self.integrity_check)
            .field("conditions", &self.conditions)
            .field("block_data", &self.block_data)
            .field("critical", &self.critical)
            .field("rbe", &self.rbe)
            .field("all_changes_reported", &self.all_changes_reported)
            .field("status", &self.status)
            .field("event_code_requested", &self.event_code_requested);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn js<T: ToJson + ?Sized>(v: &T) -> Value {
        serde_json::from_str(&v.to_json()).unwrap()
    }
    use tase2_core::mms::DataAccessError;
    use tase2_core::tase2::{Family, Flags, Timestamp};

    #[test]
    fn a_real_q_time_tag_point_shows_its_flags_and_time_stamp() {
        let v = PointValue::real(231.5)
            .with_flags(Flags::VALID.with_validity(Validity::Suspect))
            .at(Timestamp {
                seconds: 1_700_000_000,
                millis: 0,
            });
        let t = PointType::Indication(Family::Real, Form::QTimeTag);
        let j = js(&point(&ObjectName::domain("ICC1", "P1"), Some(t), &v));
        assert_eq!(
            j,
            json!({
                "name": "ICC1/P1", "point_type": "Data_RealQTimeTag", "value": 231.5,
                "flags": {"validity": "suspect", "source": "telemetered", "off_normal": false,
                          "timestamp_invalid": false, "raw": 32},
                "timestamp": {"seconds": 1_700_000_000, "ms": 0},
            })
        );
    }

    #[test]
    fn a_state_point_carries_its_state_and_a_plain_point_has_no_flags() {
        let t = PointType::Indication(Family::State, Form::Q);
        let j = js(&point(
            &ObjectName::vmd("Brk"),
            Some(t),
            &PointValue::state(StateValue::On),
        ));
        assert_eq!(j["value"], "on");
        assert_eq!(j["flags"]["state"], "on");
        assert_eq!(j["timestamp"], Value::Null);
        let t = PointType::Indication(Family::Real, Form::Plain);
        let j = js(&point(
            &ObjectName::vmd("X"),
            Some(t),
            &PointValue::real(0.1),
        ));
        assert_eq!(j["value"], json!(0.1), "the f32's shortest decimal");
        assert_eq!(j["flags"], Value::Null);
    }

    #[test]
    fn a_refused_operate_is_a_control_error_with_its_explanation() {
        let e = Error::Control(ControlError::new(
            ControlOp::Operate,
            DataAccessError::OBJECT_ACCESS_DENIED,
        ));
        let d = to_string(&EventJson::Done(done(OpId(4), &Err(e), &[], &[])));
        let v: Value = serde_json::from_str(&d).unwrap();
        assert_eq!(v["type"], "done");
        assert_eq!(v["op"], 4);
        assert_eq!(v["ok"], false);
        assert_eq!(v["kind"], "control");
        assert_eq!(v["code"], 3);
        assert_eq!(v["control"]["op"], "operate");
        assert_eq!(v["control"]["kind"], "access_denied");
        assert!(v["control"]["explanation"]
            .as_str()
            .unwrap()
            .contains("not selected"));
        assert!(v["error"].as_str().unwrap().starts_with("operate refused"));
        assert!(v.get("result").is_none());
    }

    #[test]
    fn enumerations_are_snake_case_and_mms_values_keep_js_precision() {
        assert_eq!(device_kind(DeviceKind::RealSetpoint), "real_setpoint");
        assert_eq!(
            tag_value(TagValue::OpenAndCloseInhibit),
            "open_and_close_inhibit"
        );
        assert_eq!(
            deviation_name(DeviationKind::ReportNamedAfterTransferSet),
            "report_named_after_transfer_set"
        );
        assert_eq!(
            js(&mms_value(&Data::Integer(i64::MAX))),
            json!("9223372036854775807")
        );
        assert_eq!(
            js(&mms_value(&Data::Float(Float::F64(f64::NAN)))),
            json!("NaN")
        );
        assert_eq!(
            js(&mms_value(&Data::Structure(vec![
                Data::OctetString(vec![0x0a, 0xff]),
                Data::BitString(BitString::from_octets(&[0b1010_0000], 4))
            ]))),
            json!(["0aff", "1010"])
        );
        assert_eq!(
            conditions(DsConditions::INTEGRITY | DsConditions::OBJECT_CHANGE),
            ["integrity", "change"]
        );
        assert_eq!(
            mms_type(&TypeDescription::Structure {
                packed: false,
                components: vec![tase2_core::mms::StructComponent {
                    name: Some("Value".into()),
                    type_spec: TypeSpecification::Description(TypeDescription::VisibleString(-32)),
                }],
            }),
            "{Value VisibleString(<=32)}"
        );
        let d = |t| TypeSpecification::Description(t);
        let every = TypeDescription::Structure {
            packed: false,
            components: vec![
                tase2_core::mms::StructComponent {
                    name: Some("A".into()),
                    type_spec: d(TypeDescription::Array {
                        packed: false,
                        number_of_elements: 4,
                        element_type: Box::new(d(TypeDescription::Integer(8))),
                    }),
                },
                tase2_core::mms::StructComponent {
                    name: None,
                    type_spec: d(TypeDescription::BitString(8)),
                },
                tase2_core::mms::StructComponent {
                    name: Some("N".into()),
                    type_spec: TypeSpecification::TypeName(ObjectName::domain("D", "T")),
                },
            ],
        };
        assert_eq!(
            mms_type(&every),
            "{A ARRAY[4] OF INT8, BIT STRING(8), N type D/T}"
        );
        for (t, text) in [
            (TypeDescription::Unsigned(32), "UINT32"),
            (
                TypeDescription::FloatingPoint {
                    format_width: 32,
                    exponent_width: 8,
                },
                "FLOAT32",
            ),
            (
                TypeDescription::FloatingPoint {
                    format_width: 40,
                    exponent_width: 9,
                },
                "FLOAT(40,9)",
            ),
            (TypeDescription::OctetString(-16), "OCTET STRING(<=16)"),
            (TypeDescription::MmsString(0), "MMSString(0)"),
            (TypeDescription::Bcd(4), "BCD(4)"),
            (TypeDescription::BinaryTime(true), "TimeOfDay(6)"),
        ] {
            assert_eq!(mms_type(&t), text);
        }
    }

    #[test]
    fn events_are_written_in_field_order_with_flattened_errors() {
        let e = Error::NotAPoint(ObjectName::domain("D", "X"));
        let ev = EventJson::Done(DoneJson {
            op: 7,
            ok: true,
            result: Some(OutcomeJson::Points {
                points: vec![PointResultJson::Err {
                    ok: false,
                    name: "D/X".into(),
                    error: error(&e),
                }],
            }),
            failure: None,
        });
        let s = to_string(&ev);
        let prefix = r#"{"type":"done","op":7,"ok":true,"result":{"kind":"points","points":[{"ok":false,"name":"D/X","error":"#;
        assert!(s.starts_with(prefix), "{s}");
        assert!(
            s.ends_with(r#""kind":"not_a_point","object":"D/X"}]}}"#),
            "{s}"
        );
        assert_eq!(
            to_string(&closed(&None)),
            r#"{"type":"closed","error":null}"#
        );
        assert_eq!(
            to_string(&EventJson::Rejected {
                invoke_id: Some(3),
                reason: "x\"y".into()
            }),
            r#"{"type":"rejected","invoke_id":3,"reason":"x\"y"}"#
        );
        let d = DiscoveryJson {
            version: Some((2, 1)),
            edition: None,
            features: Some(vec![1, 2]),
            vcc: None,
            vcc_error: Some("no".into()),
            domains: vec![],
        };
        assert_eq!(
            OutcomeJson::Discovery(d).to_json(),
            r#"{"kind":"discovery","version":[2,1],"edition":null,"features":[1,2],"vcc":null,"vcc_error":"no","domains":[]}"#
        );
    }
}
