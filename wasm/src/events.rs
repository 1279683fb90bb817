//! The JSON shapes of [`crate::WasmSession`]'s events, as Rust structs serialised with serde: this
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

use serde::Serialize;
use serde_json::{json, Value};
use tase2_core::assoc::{AssocError, Negotiated, PeerError, RequestError};
use tase2_core::deviation::Deviation;
use tase2_core::mms::{
    AccessResult, BitString, Data, Float, ObjectName, RejectPdu, TypeDescription,
    TypeSpecification, VariableAccessSpecification,
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
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
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
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DoneJson {
    /// The id the command returned.
    pub op: u64,
    /// Whether it succeeded.
    pub ok: bool,
    /// The outcome, when `ok`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<OutcomeJson>,
    /// Why it failed, when not `ok`: flattened (`error`, `kind`, ...).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub failure: Option<ErrorJson>,
}

/// Why an operation (or one point of a read) failed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ErrorJson {
    /// The error as text.
    pub error: String,
    /// Machine kind: `api`, `service_error`, `rejected`, `timeout`, `association_closed`,
    /// `access`, `unexpected_response`, `closed`, `unexpected_value`, `not_a_point`, `control`,
    /// `not_a_device`.
    pub kind: &'static str,
    /// The MMS DataAccessError code (`access` and `control`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<u8>,
    /// The object concerned (`unexpected_value`, `not_a_point`, `not_a_device`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// A refused select, operate or tag request (`control`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub control: Option<ControlJson>,
}

/// A refused device control request, classified.
#[derive(Clone, Debug, PartialEq, Serialize)]
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
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
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
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VariableJson {
    /// Its name.
    pub name: String,
    /// The TASE.2 type name (`Data_RealQTimeTag`, `DSTransferSet`, ...), or `null`.
    pub tase2_type: Option<&'static str>,
    /// The MMS type as text when there is no TASE.2 name (`null` when unknown or named).
    pub mms_type: Option<String>,
    /// Other point types with the same MMS type (omitted when unambiguous).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alternative_types: Vec<&'static str>,
}

/// One domain as discovery found it.
#[derive(Clone, Debug, PartialEq, Serialize)]
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
#[derive(Clone, Debug, PartialEq, Serialize)]
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vcc_error: Option<String>,
    /// The visible domains.
    pub domains: Vec<DomainJson>,
}

/// A typed point value.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PointJson {
    /// The point.
    pub name: String,
    /// Its TASE.2 type, or `null` when not known.
    pub point_type: Option<&'static str>,
    /// A number (real, discrete, state supplemental), a state string (`on`, `off`, `between`,
    /// `invalid`), or an object for protection events.
    pub value: Value,
    /// The quality flags, decoded (`null` for a form without flags).
    pub flags: Option<FlagsJson>,
    /// The time stamp (`null` for a form without one).
    pub timestamp: Option<TimestampJson>,
    /// Change-of-value counter (Extended forms only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cov: Option<u16>,
}

/// One result of a `read_points`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum PointResultJson {
    /// Read and typed.
    Ok {
        /// Always true.
        ok: bool,
        /// The value.
        #[serde(flatten)]
        point: PointJson,
    },
    /// Failed.
    Err {
        /// Always false.
        ok: bool,
        /// The point.
        name: String,
        /// Why.
        #[serde(flatten)]
        error: ErrorJson,
    },
}

/// `Data_Flags`, decoded.
#[derive(Clone, Debug, PartialEq, Serialize)]
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<&'static str>,
    /// The octet as sent.
    pub raw: u8,
}

/// A TASE.2 time stamp.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct TimestampJson {
    /// Seconds since 1970 UTC.
    pub seconds: i32,
    /// Milliseconds within the second (0 for forms without them).
    pub ms: u16,
}

/// `{"type":"report"}`.
#[derive(Clone, Debug, PartialEq, Serialize)]
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
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other: Vec<Value>,
    /// Whether the session already acknowledged it (critical, auto-ACK).
    pub acknowledged: bool,
}

/// `{"type":"info_message"}`.
#[derive(Clone, Debug, PartialEq, Serialize)]
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The message octets in hex, when not text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hex: Option<String>,
}

/// `{"type":"undecoded"}`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UndecodedJson {
    /// Why it was not decoded.
    pub reason: String,
    /// The named variable list, or `null` for a list of variables.
    pub list: Option<String>,
    /// The variables, for a list of variables (else empty).
    pub names: Vec<String>,
    /// The values as MMS JSON (a failed access as `{"failure": text}`).
    pub values: Vec<Value>,
}

/// A DS transfer set configuration (what `read_transfer_set` returns; commands accept the same
/// fields, all optional except `data_set`).
#[derive(Clone, Debug, PartialEq, Serialize)]
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

/// `CamelCase` to `snake_case`.
fn snake(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for (i, c) in s.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The snake_case name of a unit enum variant, via its serde name.
fn variant_name<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(Value::String(s)) => snake(&s),
        Ok(other) => other.to_string(),
        Err(_) => String::from("unknown"),
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

/// A JSON number for a float; non-finite values as the strings `NaN`, `Infinity`, `-Infinity`.
fn float(v: f64) -> Value {
    if v.is_nan() {
        json!("NaN")
    } else if v.is_infinite() {
        json!(if v > 0.0 { "Infinity" } else { "-Infinity" })
    } else {
        json!(v)
    }
}

/// An f32 as the JSON number of its shortest decimal form (231.5, not 231.5000000001).
fn float32(v: f32) -> Value {
    if !v.is_finite() {
        return float(f64::from(v));
    }
    // The shortest round-trip decimal of the f32, read back as f64: `0.1f32` is `0.1`.
    format!("{v}")
        .parse::<f64>()
        .map_or_else(|_| float(f64::from(v)), float)
}

/// Largest integer a JavaScript number holds exactly.
const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

fn int(v: i64) -> Value {
    if (-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).contains(&v) {
        json!(v)
    } else {
        json!(v.to_string())
    }
}

fn bits(b: &BitString) -> String {
    (0..b.bits)
        .map(|i| {
            let set = b
                .octets
                .get(i / 8)
                .is_some_and(|o| o & (0x80 >> (i % 8)) != 0);
            if set {
                '1'
            } else {
                '0'
            }
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// An MMS value as JSON: integers as numbers (beyond ±2^53 as strings), floats as numbers,
/// strings as strings, structures and arrays as arrays, bit strings as `"0101"`, octet strings
/// as hex, BinaryTime as `{"ms_of_day", "days_since_1984"}`, UtcTime as `{"utc_seconds",
/// "quality"}`.
pub fn mms_value(d: &Data) -> Value {
    match d {
        Data::Array(v) | Data::Structure(v) => Value::Array(v.iter().map(mms_value).collect()),
        Data::Boolean(b) => json!(b),
        Data::BitString(b) | Data::BooleanArray(b) => json!(bits(b)),
        Data::Integer(v) | Data::Bcd(v) => int(*v),
        Data::Unsigned(v) => i64::try_from(*v).map_or_else(|_| json!(v.to_string()), int),
        Data::Float(Float::F32(v)) => float32(*v),
        Data::Float(Float::F64(v)) => float(*v),
        Data::OctetString(o) => json!(hex(o)),
        Data::VisibleString(s) | Data::MmsString(s) | Data::GeneralizedTime(s) => json!(s),
        Data::BinaryTime(t) => {
            json!({"ms_of_day": t.millis_since_midnight, "days_since_1984": t.days_since_1984})
        }
        Data::ObjectId(oid) => json!(oid.to_string()),
        Data::UtcTime(t) => json!({
            "utc_seconds": float(f64::from(t.seconds) + f64::from(t.fraction & 0xff_ffff) / f64::from(1u32 << 24)),
            "quality": t.quality,
        }),
    }
}

fn access_result(r: &AccessResult) -> Value {
    match r {
        AccessResult::Success(d) => mms_value(d),
        AccessResult::Failure(e) => json!({"failure": e.to_string()}),
    }
}

fn size(n: i32) -> String {
    if n < 0 {
        format!("<={}", -i64::from(n))
    } else {
        n.to_string()
    }
}

/// An MMS type as compact text: `INT16`, `FLOAT32`, `BIT STRING(8)`, `VisibleString(<=32)`,
/// `{Value FLOAT32, Flags BIT STRING(8)}`, `ARRAY[4] OF INT8`.
pub fn mms_type(t: &TypeDescription) -> String {
    fn spec(s: &TypeSpecification) -> String {
        match s {
            TypeSpecification::TypeName(n) => format!("type {n}"),
            TypeSpecification::Description(t) => mms_type(t),
        }
    }
    match t {
        TypeDescription::Array {
            number_of_elements,
            element_type,
            ..
        } => format!("ARRAY[{number_of_elements}] OF {}", spec(element_type)),
        TypeDescription::Structure { components, .. } => {
            let parts: Vec<String> = components
                .iter()
                .map(|c| match &c.name {
                    Some(n) => format!("{n} {}", spec(&c.type_spec)),
                    None => spec(&c.type_spec),
                })
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        TypeDescription::Boolean => "BOOLEAN".into(),
        TypeDescription::BitString(n) => format!("BIT STRING({})", size(*n)),
        TypeDescription::Integer(n) => format!("INT{n}"),
        TypeDescription::Unsigned(n) => format!("UINT{n}"),
        TypeDescription::FloatingPoint {
            format_width,
            exponent_width,
        } => match (format_width, exponent_width) {
            (32, 8) => "FLOAT32".into(),
            (64, 11) => "FLOAT64".into(),
            (f, e) => format!("FLOAT({f},{e})"),
        },
        TypeDescription::OctetString(n) => format!("OCTET STRING({})", size(*n)),
        TypeDescription::VisibleString(n) => format!("VisibleString({})", size(*n)),
        TypeDescription::GeneralizedTime => "GeneralizedTime".into(),
        TypeDescription::BinaryTime(date) => {
            if *date {
                "TimeOfDay(6)".into()
            } else {
                "TimeOfDay(4)".into()
            }
        }
        TypeDescription::Bcd(n) => format!("BCD({n})"),
        TypeDescription::ObjId => "OBJECT IDENTIFIER".into(),
        TypeDescription::MmsString(n) => format!("MMSString({})", size(*n)),
        TypeDescription::UtcTime => "UtcTime".into(),
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
    let value = match v.value {
        PointVal::Real(x) => float32(x),
        PointVal::State(s) => json!(state(s)),
        PointVal::Discrete(x) => json!(x),
        PointVal::StateSupplemental(x) => json!(x),
        PointVal::SingleEvent {
            flags,
            operating_time,
        } => {
            json!({"event_flags": bits(&BitString::from_octets(&[flags], 8)), "operating_time_ms": operating_time})
        }
        PointVal::PackedEvent {
            events,
            flags,
            operating_time,
        } => json!({
            "events": bits(&BitString::from_octets(&[events], 8)),
            "event_flags": bits(&BitString::from_octets(&[flags], 8)),
            "operating_time_ms": operating_time,
        }),
    };
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
    variant_name(&k)
}

fn tag(t: &Tag) -> OutcomeJson {
    OutcomeJson::Tag {
        tag: tag_value(t.value),
        armed: t.armed,
        reason: t.reason.clone(),
    }
}

fn tag_value(t: TagValue) -> String {
    variant_name(&t)
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
        Outcome::Response(r) => OutcomeJson::Response {
            response: format!("{r:?}"),
        },
    }
}

/// A typed report.
pub fn report(r: &TypedReport) -> ReportJson {
    let mut points = Vec::new();
    let mut other = Vec::new();
    for (n, v) in &r.values {
        match v {
            Reported::Point(t, p) => points.push(point(n, Some(*t), p)),
            Reported::Other(d) => other.push(json!({"name": name(n), "mms": mms_value(d)})),
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
        kind: variant_name(&d.kind),
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
        error: match e {
            PeerError::UndecodableMms(p) => format!("undecodable MMS PDU: {p}"),
            other => format!("{other:?}"),
        },
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
    // Serialising these plain structs cannot fail (no maps with non-string keys, no custom
    // serialisers); the fallback keeps the contract of always returning an object.
    serde_json::to_string(e)
        .unwrap_or_else(|e| format!("{{\"type\":\"internal_error\",\"error\":\"{e}\"}}"))
}

#[cfg(test)]
mod tests {
    use super::*;
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
        let j =
            serde_json::to_value(point(&ObjectName::domain("ICC1", "P1"), Some(t), &v)).unwrap();
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
        let j = serde_json::to_value(point(
            &ObjectName::vmd("Brk"),
            Some(t),
            &PointValue::state(StateValue::On),
        ))
        .unwrap();
        assert_eq!(j["value"], "on");
        assert_eq!(j["flags"]["state"], "on");
        assert_eq!(j["timestamp"], Value::Null);
        let t = PointType::Indication(Family::Real, Form::Plain);
        let j = serde_json::to_value(point(
            &ObjectName::vmd("X"),
            Some(t),
            &PointValue::real(0.1),
        ))
        .unwrap();
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
            variant_name(&tase2_core::deviation::DeviationKind::ReportNamedAfterTransferSet),
            "report_named_after_transfer_set"
        );
        assert_eq!(
            mms_value(&Data::Integer(i64::MAX)),
            json!("9223372036854775807")
        );
        assert_eq!(mms_value(&Data::Float(Float::F64(f64::NAN))), json!("NaN"));
        assert_eq!(
            mms_value(&Data::Structure(vec![
                Data::OctetString(vec![0x0a, 0xff]),
                Data::BitString(BitString::from_octets(&[0b1010_0000], 4))
            ])),
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
    }
}
