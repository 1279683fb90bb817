//! The JSON of [`crate::WasmSession`]'s events, written straight from the core's values (see
//! [`crate::jw`]): this module is the one place the event format is defined (the table in the
//! [crate docs](crate) summarises it). No intermediate tree of JSON structs: building, writing
//! and dropping one cost the browser package about twice the code of writing at once.
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
use tase2_core::assoc::RequestError;
use tase2_core::deviation::DeviationKind;
use tase2_core::mms::{
    AccessResult, BitString, ConfirmedResponse, Data, Float, ObjectName, TypeDescription,
    TypeSpecification, VariableAccessSpecification,
};
use tase2_core::tase2::client::{
    ControlErrorKind, ControlOp, Discovery, DomainInfo, Error, Outcome, ReportError, Reported,
    SessionEvent, TypedReport, UndecodedReport, VariableInfo,
};
use tase2_core::tase2::{
    ControlMode, CurrentSource, DeviceKind, DsConditions, DsTransferSetValue, Edition, Features,
    Form, InfoMessage, InfoScope, PointType, PointValue, StateValue, TagValue, Validity,
    Value as PointVal,
};

/// A session event as its JSON text (what [`event`] renders).
#[derive(Clone, Debug, PartialEq)]
pub struct EventJson(pub String);

/// A pre-rendered JSON value (a point, an outcome, an MMS value), written as is.
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

/// The names of the DS conditions, bit 0 first (as [`DsConditions`]'s Display writes them).
pub const CONDITION_NAMES: [&str; 5] = ["interval", "integrity", "change", "operator", "external"];

/// Condition names of `c`, bit 0 first.
pub fn conditions(c: DsConditions) -> Vec<&'static str> {
    let mut names = Vec::new();
    for (i, n) in CONDITION_NAMES.iter().enumerate() {
        if c.0 & (1 << i) != 0 {
            names.push(*n);
        }
    }
    names
}

/// An object name as the string commands and events use.
pub fn name(n: &ObjectName) -> String {
    jw::text(n)
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

/// The condition names of `c` as a JSON array, written as found (what `conditions` lists).
fn conditions_into(out: &mut String, c: DsConditions) {
    out.push('[');
    let mut first = true;
    for (i, n) in CONDITION_NAMES.iter().enumerate() {
        if c.0 & (1 << i) != 0 {
            if !core::mem::take(&mut first) {
                out.push(',');
            }
            jw::string(out, n);
        }
    }
    out.push(']');
}

/// The conformance blocks of `f` as a JSON array, written as found (what `blocks` lists).
fn blocks_into(out: &mut String, f: Features) {
    out.push('[');
    let mut first = true;
    for b in 1..=12u8 {
        if f.has_block(b) {
            if !core::mem::take(&mut first) {
                out.push(',');
            }
            jw::uint(out, b.into());
        }
    }
    out.push(']');
}

#[cfg(test)]
fn blocks(f: Features) -> Vec<u8> {
    let mut v = Vec::new();
    for b in 1..=12 {
        if f.has_block(b) {
            v.push(b);
        }
    }
    v
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

fn bits_into(out: &mut String, b: &BitString) {
    jw::bits(out, &b.octets, b.bits);
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
                jw::uint(out, *v);
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
        Data::ObjectId(oid) => jw::string(out, &jw::text(oid)),
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

fn access_result_into(out: &mut String, r: &AccessResult) {
    match r {
        AccessResult::Success(d) => mms_value_into(out, d),
        AccessResult::Failure(e) => {
            let mut o = Obj::new(out);
            o.field("failure", &jw::text(e));
            o.end();
        }
    }
}

/// A size bound: `n`, or `<=n` for a variable size up to `n` (given negative).
fn size(out: &mut String, n: i32) {
    if n < 0 {
        out.push_str("<=");
    }
    jw::uint(out, i64::from(n).unsigned_abs());
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
                out.push_str(&jw::text(n));
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
            jw::uint(out, u64::from(*number_of_elements));
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
            jw::uint(out, u64::from(*n));
        }
        TypeDescription::Unsigned(n) => {
            out.push_str("UINT");
            jw::uint(out, u64::from(*n));
        }
        TypeDescription::FloatingPoint {
            format_width,
            exponent_width,
        } => match (format_width, exponent_width) {
            (32, 8) => out.push_str("FLOAT32"),
            (64, 11) => out.push_str("FLOAT64"),
            (f, e) => {
                out.push_str("FLOAT(");
                jw::uint(out, u64::from(*f));
                out.push(',');
                jw::uint(out, u64::from(*e));
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
            jw::uint(out, u64::from(*n));
            out.push(')');
        }
        TypeDescription::ObjId => out.push_str("OBJECT IDENTIFIER"),
        TypeDescription::MmsString(n) => sized(out, "MMSString", *n),
        TypeDescription::UtcTime => out.push_str("UtcTime"),
    }
}

/// A name as a JSON string.
pub(crate) fn name_into(out: &mut String, n: &ObjectName) {
    jw::string(out, &name(n));
}

/// A name, or `null`.
fn opt_name_into(out: &mut String, n: Option<&ObjectName>) {
    match n {
        Some(n) => name_into(out, n),
        None => out.push_str("null"),
    }
}

/// A JSON array of `items`, each written by `f`.
pub(crate) fn list<T>(out: &mut String, items: &[T], mut f: impl FnMut(&mut String, &T)) {
    out.push('[');
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        f(out, v);
    }
    out.push(']');
}

/// An object written by `f` (its fields).
fn object(out: &mut String, f: impl FnOnce(&mut Obj)) {
    let mut o = Obj::new(out);
    f(&mut o);
    o.end();
}

fn variable_into(out: &mut String, v: &VariableInfo) {
    let tase2_type = v.tase2_type_name();
    object(out, |o| {
        name_into(o.key("name"), &v.name);
        o.field("tase2_type", &tase2_type).field(
            "mms_type",
            &match tase2_type {
                Some(_) => None,
                None => v.type_description.as_ref().map(mms_type),
            },
        );
        // The types' names written from the types, without a list of names made first.
        let alternatives = v.alternative_point_types();
        if !alternatives.is_empty() {
            list(o.key("alternative_types"), &alternatives, |out, p| {
                jw::string(out, p.name())
            });
        }
    });
}

/// A variable of discovery: `{name, tase2_type, mms_type, alternative_types?}`.
pub fn variable(v: &VariableInfo) -> Raw {
    raw(|out| variable_into(out, v))
}

fn variables_into(out: &mut String, v: &[VariableInfo]) {
    list(out, v, variable_into);
}

fn domain_into(out: &mut String, d: &DomainInfo) {
    object(out, |o| {
        o.field("name", &d.name).field("table_id", &d.table_id);
        variables_into(o.key("variables"), &d.variables);
        o.field("data_sets", &d.data_sets);
    });
}

fn discovery_fields(o: &mut Obj, d: &Discovery) {
    o.field("version", &d.version)
        .field("edition", &d.edition.map(edition));
    match d.features {
        Some(f) => blocks_into(o.key("features"), f),
        None => o.key("features").push_str("null"),
    }
    match &d.vcc {
        Ok(v) => variables_into(o.key("vcc"), v),
        Err(e) => {
            o.key("vcc").push_str("null");
            o.field("vcc_error", &jw::text(e));
        }
    }
    list(o.key("domains"), &d.domains, domain_into);
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

fn point_fields(o: &mut Obj, n: &ObjectName, t: Option<PointType>, v: &PointValue) {
    let (has_flags, has_time) = parts(t);
    // Straight from the octet: no BitString is built just to be written.
    let byte = |out: &mut String, b: u8| jw::bits(out, &[b], 8);
    name_into(o.key("name"), n);
    o.field("point_type", &t.map(PointType::name));
    let out = o.key("value");
    match v.value {
        PointVal::Real(x) => jw::float(out, x),
        PointVal::State(s) => jw::string(out, state(s)),
        PointVal::Discrete(x) => x.write_json(out),
        PointVal::StateSupplemental(x) => x.write_json(out),
        PointVal::SingleEvent {
            flags,
            operating_time,
        } => object(out, |e| {
            byte(e.key("event_flags"), flags);
            e.field("operating_time_ms", &operating_time);
        }),
        PointVal::PackedEvent {
            events,
            flags,
            operating_time,
        } => object(out, |e| {
            byte(e.key("events"), events);
            byte(e.key("event_flags"), flags);
            e.field("operating_time_ms", &operating_time);
        }),
    }
    let out = o.key("flags");
    if has_flags {
        let wire = v.wire_flags();
        object(out, |f| {
            f.field("validity", validity(wire.validity()))
                .field("source", source(wire.source()))
                .field("off_normal", &wire.off_normal())
                .field("timestamp_invalid", &wire.timestamp_invalid())
                .some(
                    "state",
                    &matches!(v.value, PointVal::State(_)).then(|| state(wire.state())),
                )
                .field("raw", &wire.0);
        });
    } else {
        out.push_str("null");
    }
    let out = o.key("timestamp");
    if has_time {
        object(out, |s| {
            s.field("seconds", &v.timestamp.seconds)
                .field("ms", &v.timestamp.millis);
        });
    } else {
        out.push_str("null");
    }
    if matches!(t, Some(PointType::Indication(_, Form::Extended))) {
        o.field("cov", &v.cov);
    }
}

fn point_into(out: &mut String, n: &ObjectName, t: Option<PointType>, v: &PointValue) {
    object(out, |o| point_fields(o, n, t, v));
}

/// A typed point value `{name, point_type, value, flags, timestamp, cov?}`; `t` decides which
/// parts are shown (all when unknown).
pub fn point(n: &ObjectName, t: Option<PointType>, v: &PointValue) -> Raw {
    raw(|out| point_into(out, n, t, v))
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

/// An operation error's fields, flattened into the enclosing object: `error`, `kind`, and
/// `code`, `object`, `control` where they apply.
fn error_fields(o: &mut Obj, e: &Error) {
    o.field("error", &jw::text(e));
    let (kind, code, object_name) = match e {
        Error::Api(_) => ("api", None, None),
        Error::Request(RequestError::Service(_)) => ("service_error", None, None),
        Error::Request(RequestError::Rejected(_)) => ("rejected", None, None),
        Error::Request(RequestError::Timeout) => ("timeout", None, None),
        Error::Request(RequestError::AssociationClosed) => ("association_closed", None, None),
        Error::Access(a) => ("access", Some(a.0), None),
        Error::UnexpectedResponse => ("unexpected_response", None, None),
        Error::Closed(_) => ("closed", None, None),
        Error::UnexpectedValue(n) => ("unexpected_value", None, Some(n)),
        Error::NotAPoint(n) => ("not_a_point", None, Some(n)),
        Error::Control(c) => ("control", Some(c.code().0), None),
        Error::NotADevice(n) => ("not_a_device", None, Some(n)),
    };
    o.field("kind", kind).some("code", &code);
    if let Some(n) = object_name {
        name_into(o.key("object"), n);
    }
    if let Error::Control(c) = e {
        object(o.key("control"), |j| {
            j.field("op", control_op(c.op))
                .field("kind", control_kind(c.kind))
                .field("explanation", &c.explanation());
        });
    }
}

/// An operation error as an object: `error` (text), `kind`, and `code`, `object`, `control` where
/// they apply.
pub fn error(e: &Error) -> Raw {
    raw(|out| object(out, |o| error_fields(o, e)))
}

fn transfer_set_value_into(out: &mut String, v: &DsTransferSetValue) {
    object(out, |o| {
        name_into(o.key("data_set"), &v.data_set);
        o.field("start_time", &v.start_time)
            .field("interval", &v.interval)
            .field("tle", &v.tle)
            .field("buffer_time", &v.buffer_time)
            .field("integrity_check", &v.integrity_check);
        conditions_into(o.key("conditions"), v.conditions);
        o.field("block_data", &v.block_data)
            .field("critical", &v.critical)
            .field("rbe", &v.rbe)
            .field("all_changes_reported", &v.all_changes_reported)
            .field("status", &v.status)
            .field("event_code_requested", &v.event_code_requested);
    });
}

/// A transfer set configuration, `conditions` as names.
pub fn transfer_set_value(v: &DsTransferSetValue) -> Raw {
    raw(|out| transfer_set_value_into(out, v))
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

fn outcome_into(out: &mut String, oc: &Outcome, names: &[ObjectName], types: &[Option<PointType>]) {
    let mut o = Obj::new(out);
    match oc {
        Outcome::Unit => {
            o.field("kind", "unit");
        }
        Outcome::Version(e) => {
            o.field("kind", "version").field("edition", edition(*e));
        }
        Outcome::VersionNumbers(major, minor) => {
            o.field("kind", "version_numbers")
                .field("major", major)
                .field("minor", minor);
        }
        Outcome::Features(f) => {
            o.field("kind", "features");
            blocks_into(o.key("blocks"), *f);
        }
        Outcome::TableId(t) => {
            o.field("kind", "table_id").field("table_id", t);
        }
        Outcome::Names(n) => {
            o.field("kind", "names").field("names", n);
        }
        Outcome::Variables(v) => {
            o.field("kind", "variables");
            variables_into(o.key("variables"), v);
        }
        Outcome::Discovery(d) => {
            o.field("kind", "discovery");
            discovery_fields(&mut o, d);
        }
        Outcome::PointTypes(t) => {
            o.field("kind", "point_types");
            list(o.key("point_types"), t, |out, t| {
                t.map(PointType::name).write_json(out)
            });
        }
        Outcome::Points(results) => {
            o.field("kind", "points");
            let out = o.key("points");
            out.push('[');
            for (i, r) in results.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let n = names
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| ObjectName::vmd(format!("#{i}")));
                object(out, |p| match r {
                    Ok(v) => {
                        p.field("ok", &true);
                        point_fields(p, &n, types.get(i).copied().flatten(), v);
                    }
                    Err(e) => {
                        p.field("ok", &false);
                        name_into(p.key("name"), &n);
                        error_fields(p, e);
                    }
                });
            }
            out.push(']');
        }
        Outcome::Members(m) => {
            o.field("kind", "members");
            list(o.key("members"), m, name_into);
        }
        Outcome::Deleted(d) => {
            o.field("kind", "deleted").field("deleted", d);
        }
        Outcome::TransferSet(t) => {
            o.field("kind", "transfer_set");
            name_into(o.key("transfer_set"), t);
        }
        Outcome::TransferSetValue(v) => {
            o.field("kind", "transfer_set_value");
            transfer_set_value_into(o.key("value"), v);
        }
        Outcome::Device(d) => {
            o.field("kind", "device")
                .field("device_kind", device_kind_name(d.kind))
                .field(
                    "mode",
                    match d.mode {
                        ControlMode::Sbo => "sbo",
                        ControlMode::Direct => "direct",
                    },
                )
                .field("tagged", &d.tagged);
        }
        Outcome::CheckBackId(id) => {
            o.field("kind", "check_back_id").field("check_back_id", id);
        }
        Outcome::Tag(t) => {
            o.field("kind", "tag")
                .field("tag", tag_name(t.value))
                .field("armed", &t.armed)
                .field("reason", &t.reason);
        }
        // Unreachable from WasmSession (no raw requests); the service name only, as Debug
        // formatting of every MMS type would weigh in the wasm.
        Outcome::Response(r) => {
            o.field("kind", "response")
                .field("response", response_service(r));
        }
    }
    o.end();
}

/// An outcome. `names` are the points a `read_points` asked for (to name its results) and
/// `types` the point types the session knows for them.
pub fn outcome(o: &Outcome, names: &[ObjectName], types: &[Option<PointType>]) -> Raw {
    raw(|out| outcome_into(out, o, names, types))
}

fn report_fields(o: &mut Obj, r: &TypedReport) {
    opt_name_into(o.key("transfer_set"), r.transfer_set.as_ref());
    o.field("timestamp", &r.timestamp);
    match r.conditions {
        Some(c) => conditions_into(o.key("conditions"), c),
        None => o.key("conditions").push_str("null"),
    }
    o.field("event_code", &r.event_code);
    opt_name_into(o.key("data_set"), r.data_set.as_ref());
    let out = o.key("points");
    out.push('[');
    let mut first = true;
    for (n, v) in &r.values {
        if let Reported::Point(t, p) = v {
            if !first {
                out.push(',');
            }
            first = false;
            point_into(out, n, Some(*t), p);
        }
    }
    out.push(']');
    if r.values
        .iter()
        .any(|(_, v)| matches!(v, Reported::Other(_)))
    {
        let out = o.key("other");
        out.push('[');
        let mut first = true;
        for (n, v) in &r.values {
            if let Reported::Other(d) = v {
                if !first {
                    out.push(',');
                }
                first = false;
                object(out, |m| {
                    name_into(m.key("name"), n);
                    mms_value_into(m.key("mms"), d);
                });
            }
        }
        out.push(']');
    }
    o.field("acknowledged", &r.acknowledged);
}

/// A typed report's fields as an object (without `type`).
pub fn report(r: &TypedReport) -> Raw {
    raw(|out| object(out, |o| report_fields(o, r)))
}

fn info_message_fields(o: &mut Obj, m: &InfoMessage) {
    o.field(
        "scope",
        match m.scope {
            InfoScope::Vcc => "vcc",
            InfoScope::Icc => "icc",
        },
    )
    .field("domain", &m.domain)
    .field("info_reference", &m.header.info_reference)
    .field("local_reference", &m.header.local_reference)
    .field("message_id", &m.header.message_id)
    .field("size", &m.header.size)
    .field("buffer", &m.buffer);
    match m.text() {
        Some(t) => {
            o.field("text", t);
        }
        None => {
            let out = o.key("hex");
            out.push('"');
            jw::hex(out, &m.data);
            out.push('"');
        }
    }
}

/// An information message's fields as an object (without `type`).
pub fn info_message(m: &InfoMessage) -> Raw {
    raw(|out| object(out, |o| info_message_fields(o, m)))
}

fn undecoded_fields(o: &mut Obj, u: &UndecodedReport) {
    match &u.error {
        ReportError::UnknownDataSet(n) => o.field("reason", &format!("unknown data set {n}")),
        ReportError::CountMismatch => o.field("reason", "member and value counts differ"),
        ReportError::NotADataReport => o.field("reason", "not a data report"),
    };
    match &u.report.variables {
        VariableAccessSpecification::VariableListName(n) => {
            name_into(o.key("list"), n);
            o.key("names").push_str("[]");
        }
        VariableAccessSpecification::ListOfVariable(v) => {
            o.key("list").push_str("null");
            list(o.key("names"), v, |out, s| name_into(out, &s.name));
        }
    }
    list(o.key("values"), &u.report.results, access_result_into);
}

/// The JSON of a session event, appended to `out`. For a `done` of `read_points`, `names` and
/// `types` name its results (see [`outcome`]); pass empty slices otherwise.
pub fn write_event(
    out: &mut String,
    e: &SessionEvent,
    names: &[ObjectName],
    types: &[Option<PointType>],
) {
    let mut o = Obj::new(out);
    match e {
        SessionEvent::Established(n) => {
            o.field("type", "established")
                .field("max_pdu_size", &n.max_pdu_size)
                .field("max_outstanding", &n.max_serv_outstanding_calling)
                .field("tpdu_size", &n.tpdu_size);
        }
        SessionEvent::Done { op, result } => {
            o.field("type", "done")
                .field("op", &op.0)
                .field("ok", &result.is_ok());
            match result {
                Ok(r) => outcome_into(o.key("result"), r, names, types),
                Err(e) => error_fields(&mut o, e),
            }
        }
        SessionEvent::Report(r) => {
            o.field("type", "report");
            report_fields(&mut o, r);
        }
        SessionEvent::InfoMessage(m) => {
            o.field("type", "info_message");
            info_message_fields(&mut o, m);
        }
        SessionEvent::Undecoded(u) => {
            o.field("type", "undecoded");
            undecoded_fields(&mut o, u);
        }
        SessionEvent::Deviation(d) => {
            o.field("type", "deviation")
                .field("kind", deviation_name(d.kind))
                .field("description", d.kind.describe());
            opt_name_into(o.key("object"), d.object.as_ref());
        }
        // Display, not Debug: Debug formatting of the core's types would weigh in the wasm.
        SessionEvent::PeerError(p) => {
            o.field("type", "peer_error").field("error", &jw::text(p));
        }
        SessionEvent::Rejected(r) => {
            o.field("type", "rejected")
                .field("invoke_id", &r.original_invoke_id)
                .field("reason", &jw::text(&r.reason));
        }
        SessionEvent::Closed(c) => {
            o.field("type", "closed")
                .field("error", &c.as_ref().map(|e| jw::text(e)));
        }
    }
    o.end();
}

/// The JSON of a session event (see [`write_event`]).
pub fn json(e: &SessionEvent, names: &[ObjectName], types: &[Option<PointType>]) -> String {
    let mut s = String::new();
    write_event(&mut s, e, names, types);
    s
}

/// A session event rendered (see [`write_event`]); kept for callers of the former tree form.
pub fn event(e: &SessionEvent, names: &[ObjectName], types: &[Option<PointType>]) -> EventJson {
    EventJson(json(e, names, types))
}

/// The event's JSON text.
pub fn to_string(e: &EventJson) -> String {
    e.0.clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn js<T: ToJson + ?Sized>(v: &T) -> Value {
        serde_json::from_str(&v.to_json()).unwrap()
    }
    use tase2_core::mms::DataAccessError;
    use tase2_core::tase2::client::{ControlError, OpId};
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
        let d = json(
            &SessionEvent::Done {
                op: OpId(4),
                result: Err(e),
            },
            &[],
            &[],
        );
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
    fn a_variable_lists_the_point_types_it_cannot_be_told_from() {
        let t = PointType::Indication(Family::State, Form::Plain);
        let v = VariableInfo {
            name: ObjectName::domain("ICC1", "Brk"),
            type_description: Some(t.type_description()),
            point_type: Some(t),
        };
        let want: Vec<&str> = v
            .alternative_point_types()
            .iter()
            .map(|p| p.name())
            .collect();
        assert!(!want.is_empty());
        assert_eq!(js(&variable(&v))["alternative_types"], json!(want));
    }

    #[test]
    fn condition_and_block_lists_are_written_as_their_vectors_would_be() {
        for c in 0..=u8::MAX {
            let mut out = String::new();
            conditions_into(&mut out, DsConditions(c));
            assert_eq!(out, conditions(DsConditions(c)).to_json(), "{c}");
        }
        for f in (0..=u16::MAX).step_by(7).chain([0x1fff, 0xffff]) {
            let mut out = String::new();
            blocks_into(&mut out, Features(f));
            assert_eq!(out, blocks(Features(f)).to_json(), "{f}");
        }
    }

    #[test]
    fn enumerations_are_snake_case_and_mms_values_keep_js_precision() {
        assert_eq!(device_kind_name(DeviceKind::RealSetpoint), "real_setpoint");
        assert_eq!(
            tag_name(TagValue::OpenAndCloseInhibit),
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
        let done = SessionEvent::Done {
            op: OpId(7),
            result: Ok(Outcome::Points(vec![Err(e)])),
        };
        let s = json(&done, &[ObjectName::domain("D", "X")], &[None]);
        let prefix = r#"{"type":"done","op":7,"ok":true,"result":{"kind":"points","points":[{"ok":false,"name":"D/X","error":"#;
        assert!(s.starts_with(prefix), "{s}");
        assert!(
            s.ends_with(r#""kind":"not_a_point","object":"D/X"}]}}"#),
            "{s}"
        );
        // A result without a name asked for is named by its index.
        let s = json(&done, &[], &[]);
        assert!(s.contains(r##""name":"#0""##), "{s}");
        assert_eq!(
            json(&SessionEvent::Closed(None), &[], &[]),
            r#"{"type":"closed","error":null}"#
        );
        assert_eq!(
            outcome(&Outcome::TableId("x\"y".into()), &[], &[]).0,
            r#"{"kind":"table_id","table_id":"x\"y"}"#
        );
        let d = Discovery {
            version: Some((2, 1)),
            edition: None,
            features: Some(Features::from_octets(&[0b1100_0000])),
            vcc: Err(Error::UnexpectedResponse),
            domains: vec![],
        };
        let s = outcome(&Outcome::Discovery(Box::new(d)), &[], &[]).0;
        assert!(
            s.starts_with(r#"{"kind":"discovery","version":[2,1],"edition":null,"features":[1,2],"vcc":null,"vcc_error":"#),
            "{s}"
        );
        assert!(s.ends_with(r#","domains":[]}"#), "{s}");
        // The former entry points give the same text.
        assert_eq!(
            to_string(&event(&SessionEvent::Closed(None), &[], &[])),
            r#"{"type":"closed","error":null}"#
        );
    }
}
