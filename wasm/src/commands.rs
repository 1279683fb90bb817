//! Commands from JSON: the core's [`Command`] serde form, with shorthands JavaScript can write by
//! hand (see the [crate docs](crate#commands)). Read with the small reader of [`crate::jw`] and
//! mapped by hand: serde's buffering of internally tagged enums weighed more than the rest of
//! the wasm's JSON together.

use tase2_core::mms::ObjectName;
use tase2_core::tase2::client::Command;
use tase2_core::tase2::{
    Command as DeviceCommand, ControlValue, DsConditions, DsTransferSetValue, Flags, PointValue,
    StateValue, TagValue, Timestamp, Value as PointVal,
};

use crate::events::CONDITION_NAMES;
use crate::jw::{self, J};

type R<T> = Result<T, String>;

// The value readers, `arg` and `build` are `#[inline(never)]`: each has one caller, and LLVM
// inlining them into it made the package about 430 octets larger gzipped (`cargo xtask wasm-pkg`).

/// An object name from its string form: `"DOMAIN/ITEM"` (domain-specific, split at the first
/// `/`), `"@aa/ITEM"` (association-specific) or `"ITEM"` (VMD-specific, TASE.2 VCC scope).
pub fn object_name(s: &str) -> ObjectName {
    // Octets compared, not `str::strip_prefix` (see the refreshed report's retagging).
    if s.as_bytes().starts_with(b"@aa/") {
        return ObjectName::AaSpecific(s[4..].into());
    }
    // The first `/` by a byte loop, as `split_once('/')` finds it, without the library's memchr.
    match s.bytes().position(|b| b == b'/') {
        Some(i) => ObjectName::domain(&s[..i], &s[i + 1..]),
        None => ObjectName::vmd(s),
    }
}

fn bad<T>(k: &str, v: &J, expected: &str) -> R<T> {
    Err(mistyped(k, v, expected))
}

// The message apart from `bad`: one copy of its formatting, not one per result type.
#[inline(never)]
fn mistyped(k: &str, v: &J, expected: &str) -> String {
    format!("`{k}`: {} where {expected} was expected", v.kind())
}

fn req<'a>(o: &'a J, k: &str) -> R<&'a J> {
    o.get(k).ok_or_else(|| format!("missing field `{k}`"))
}

fn string(v: &J, k: &str) -> R<String> {
    match v {
        J::Str(s) => Ok(s.clone()),
        _ => bad(k, v, "a string"),
    }
}

fn req_string(o: &J, k: &str) -> R<String> {
    string(req(o, k)?, k)
}

/// An optional string: missing or `null` is `None`.
fn opt_string(o: &J, k: &str) -> R<Option<String>> {
    match o.get(k) {
        None | Some(J::Null) => Ok(None),
        Some(v) => string(v, k).map(Some),
    }
}

/// An integer type a field holds: its range, and the conversion once a value is in it.
trait Int: Sized {
    const MIN: i64;
    const MAX: i64;
    fn of(x: i64) -> Self;
}

macro_rules! ints {
    ($($t:ty),*) => {$(
        impl Int for $t {
            const MIN: i64 = <$t>::MIN as i64;
            const MAX: i64 = <$t>::MAX as i64;
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            fn of(x: i64) -> Self {
                x as $t
            }
        }
    )*};
}

ints!(u8, u16, i16, i32);

// One range test for every integer type, not a `TryFrom` and its error path in each.
fn int_in(v: &J, k: &str, min: i64, max: i64) -> R<i64> {
    match v.as_i64() {
        Some(x) if (min..=max).contains(&x) => Ok(x),
        _ => bad(k, v, "an integer in range"),
    }
}

fn int<T: Int>(v: &J, k: &str) -> R<T> {
    int_in(v, k, T::MIN, T::MAX).map(T::of)
}

/// The names with `sep` between them.
// A loop, not `[&str]::join`: the two error messages that list names are all that need it.
fn joined(names: &[&str], sep: &str) -> String {
    let mut s = String::new();
    for (i, n) in names.iter().enumerate() {
        if i > 0 {
            s.push_str(sep);
        }
        s.push_str(n);
    }
    s
}

fn boolean(v: &J, k: &str) -> R<bool> {
    match v {
        J::Bool(b) => Ok(*b),
        _ => bad(k, v, "a boolean"),
    }
}

/// A name as a string, or the serde form of [`ObjectName`].
fn name(v: &J, k: &str) -> R<ObjectName> {
    match v {
        J::Str(s) => Ok(object_name(s)),
        J::Obj(o) if o.len() == 1 => {
            let (variant, x) = &o[0];
            match variant.as_str() {
                "VmdSpecific" => Ok(ObjectName::VmdSpecific(string(x, k)?)),
                "AaSpecific" => Ok(ObjectName::AaSpecific(string(x, k)?)),
                "DomainSpecific" => Ok(ObjectName::domain(
                    req_string(x, "domain")?,
                    req_string(x, "item")?,
                )),
                _ => bad(k, v, "an object name"),
            }
        }
        _ => bad(k, v, "an object name"),
    }
}

fn req_name(o: &J, k: &str) -> R<ObjectName> {
    name(req(o, k)?, k)
}

fn req_names(o: &J, k: &str) -> R<Vec<ObjectName>> {
    match req(o, k)? {
        J::Arr(items) => {
            let mut names = Vec::with_capacity(items.len());
            for v in items {
                names.push(name(v, k)?);
            }
            Ok(names)
        }
        v => bad(k, v, "an array of names"),
    }
}

/// Conditions as a list of names (`["interval", "change"]`) or the bit number.
#[inline(never)]
fn conditions(v: &J) -> R<DsConditions> {
    let J::Arr(items) = v else {
        return int(v, "conditions").map(DsConditions);
    };
    let mut bits = 0u8;
    for item in items {
        let n = item.as_str().ok_or("conditions: names expected")?;
        let i = CONDITION_NAMES
            .iter()
            .position(|c| *c == n)
            .ok_or_else(|| {
                format!(
                    "conditions: unknown \"{n}\" (one of {})",
                    joined(&CONDITION_NAMES, ", ")
                )
            })?;
        bits |= 1 << i;
    }
    Ok(DsConditions(bits))
}

/// A transfer set configuration: missing fields take their defaults, `data_set` may be a string
/// and `conditions` a list of names.
#[inline(never)]
fn transfer_set_value(v: &J) -> R<DsTransferSetValue> {
    let J::Obj(fields) = v else {
        return bad("value", v, "a transfer set object");
    };
    let mut t = DsTransferSetValue::default();
    for (k, x) in fields {
        match k.as_str() {
            "data_set" => t.data_set = name(x, k)?,
            "start_time" => t.start_time = int(x, k)?,
            "interval" => t.interval = int(x, k)?,
            "tle" => t.tle = int(x, k)?,
            "buffer_time" => t.buffer_time = int(x, k)?,
            "integrity_check" => t.integrity_check = int(x, k)?,
            "conditions" => t.conditions = conditions(x)?,
            "block_data" => t.block_data = boolean(x, k)?,
            "critical" => t.critical = boolean(x, k)?,
            "rbe" => t.rbe = boolean(x, k)?,
            "all_changes_reported" => t.all_changes_reported = boolean(x, k)?,
            "status" => t.status = boolean(x, k)?,
            "event_code_requested" => t.event_code_requested = int(x, k)?,
            _ => {}
        }
    }
    Ok(t)
}

fn device_command(s: &str) -> R<DeviceCommand> {
    DeviceCommand::parse(s)
        .ok_or_else(|| format!("unknown command value \"{s}\" (on/close or off/trip)"))
}

/// A control value: a command word (`"on"`, `"close"`, `"off"`, `"trip"`, ...), `{"real": x}`,
/// `{"discrete": n}`, or the serde form (`{"Command": "On"}`, `{"Real": x}`, `{"Discrete": n}`).
#[inline(never)]
fn control_value(v: &J) -> R<ControlValue> {
    match v {
        J::Str(s) => device_command(s).map(ControlValue::Command),
        J::Obj(o) if o.len() == 1 => {
            let (variant, x) = &o[0];
            match variant.as_str() {
                "real" | "Real" => match x.as_f64() {
                    Some(x) => Ok(ControlValue::Real(x as f32)),
                    None => bad(variant, x, "a number"),
                },
                "discrete" | "Discrete" => {
                    let n = x
                        .as_i64()
                        .ok_or_else(|| format!("`{variant}`: an integer expected"))?;
                    i16::try_from(n)
                        .map(ControlValue::Discrete)
                        .map_err(|_| format!("discrete setpoint {n} beyond INT16"))
                }
                "Command" => match x {
                    J::Str(s) => device_command(s).map(ControlValue::Command),
                    _ => bad(variant, x, "a string"),
                },
                _ => bad("value", v, "a control value"),
            }
        }
        _ => bad("value", v, "a control value"),
    }
}

/// A tag: `"none"`, `"open-and-close"`, `"close-only"` (or 0-2).
#[inline(never)]
fn tag_value(v: &J) -> R<TagValue> {
    let text = match v {
        J::Str(s) | J::Num(s) => s.as_str(),
        _ => return bad("value", v, "a tag"),
    };
    TagValue::parse(text)
        .ok_or_else(|| format!("unknown tag \"{text}\" (none, open-and-close, close-only)"))
}

fn state(v: &J) -> R<StateValue> {
    match v.as_str() {
        Some("Between") => Ok(StateValue::Between),
        Some("Off") => Ok(StateValue::Off),
        Some("On") => Ok(StateValue::On),
        Some("Invalid") => Ok(StateValue::Invalid),
        _ => bad("State", v, "Between, Off, On or Invalid"),
    }
}

/// The serde form of a point's [`PointVal`]: `{"Real": x}`, `{"State": "On"}`, ...
#[inline(never)]
fn point_val(v: &J) -> R<PointVal> {
    let J::Obj(o) = v else {
        return bad("value", v, "a point value");
    };
    let [(variant, x)] = o.as_slice() else {
        return bad("value", v, "a point value");
    };
    let k = variant.as_str();
    Ok(match k {
        "Real" => match x.as_f64() {
            Some(x) => PointVal::Real(x as f32),
            None => return bad(k, x, "a number"),
        },
        "State" => PointVal::State(state(x)?),
        "Discrete" => PointVal::Discrete(int(x, k)?),
        "StateSupplemental" => PointVal::StateSupplemental(int(x, k)?),
        "SingleEvent" => PointVal::SingleEvent {
            flags: int(req(x, "flags")?, "flags")?,
            operating_time: int(req(x, "operating_time")?, "operating_time")?,
        },
        "PackedEvent" => PointVal::PackedEvent {
            events: int(req(x, "events")?, "events")?,
            flags: int(req(x, "flags")?, "flags")?,
            operating_time: int(req(x, "operating_time")?, "operating_time")?,
        },
        _ => return bad("value", v, "a point value"),
    })
}

/// A point value: a number is a valid real value, an object the serde form of [`PointValue`]
/// (`value` required; `flags`, `timestamp` and `cov` default to 0).
#[inline(never)]
fn point_value(v: &J) -> R<PointValue> {
    if let Some(x) = v.as_f64() {
        return Ok(PointValue::real(x as f32));
    }
    if !matches!(v, J::Obj(_)) {
        return bad("value", v, "a number or a point value");
    }
    let mut p = PointValue::new(point_val(req(v, "value")?)?);
    if let Some(f) = v.get("flags") {
        p.flags = Flags(int(f, "flags")?);
    }
    if let Some(t) = v.get("timestamp") {
        p.timestamp = Timestamp {
            seconds: int(req(t, "seconds")?, "seconds")?,
            millis: int(req(t, "millis")?, "millis")?,
        };
    }
    if let Some(c) = v.get("cov") {
        p.cov = int(c, "cov")?;
    }
    Ok(p)
}

/// What a command's field holds, and so how it is read.
#[derive(Clone, Copy)]
enum Kind {
    Str,
    OptStr,
    Name,
    Names,
    Point,
    TransferSet,
    Control,
    Tag,
    Bool,
}

/// A field read by its [`Kind`].
enum Arg {
    Str(String),
    OptStr(Option<String>),
    Name(ObjectName),
    Names(Vec<ObjectName>),
    Point(PointValue),
    TransferSet(DsTransferSetValue),
    Control(ControlValue),
    Tag(TagValue),
    Bool(bool),
}

#[inline(never)]
fn arg(o: &J, k: &str, kind: Kind) -> R<Arg> {
    Ok(match kind {
        Kind::Str => Arg::Str(req_string(o, k)?),
        Kind::OptStr => Arg::OptStr(opt_string(o, k)?),
        Kind::Name => Arg::Name(req_name(o, k)?),
        Kind::Names => Arg::Names(req_names(o, k)?),
        Kind::Point => Arg::Point(point_value(req(o, k)?)?),
        Kind::TransferSet => Arg::TransferSet(transfer_set_value(req(o, k)?)?),
        Kind::Control => Arg::Control(control_value(req(o, k)?)?),
        Kind::Tag => Arg::Tag(tag_value(req(o, k)?)?),
        Kind::Bool => Arg::Bool(boolean(req(o, k)?, k)?),
    })
}

/// A command's fields, read in the order its table entry lists them, taken out in that order
/// by its builder. A taker meets only the kind the table gave its field.
struct Args(std::vec::IntoIter<Arg>);

/// The takers of [`Args`], one per [`Arg`] alternative.
macro_rules! takers {
    ($($fn:ident: $alt:ident => $ty:ty;)*) => {
        impl Args {
            $(
                fn $fn(&mut self) -> $ty {
                    match self.0.next() {
                        Some(Arg::$alt(v)) => v,
                        _ => unreachable!(),
                    }
                }
            )*
        }
    };
}

takers! {
    string: Str => String;
    opt_string: OptStr => Option<String>;
    name: Name => ObjectName;
    names: Names => Vec<ObjectName>;
    point: Point => PointValue;
    transfer_set: TransferSet => DsTransferSetValue;
    control: Control => ControlValue;
    tag: Tag => TagValue;
    boolean: Bool => bool;
}

/// The command table (each command's name and its fields, in the order they are read and
/// checked) and the builder of each from its fields. A table, not a match on the name with the
/// fields read in each arm: the name is looked up by one loop and the fields read by another,
/// so the reading and its error paths are not repeated for every command.
macro_rules! commands {
    ($a:ident; $($name:literal [$($field:literal: $kind:ident),*] => $build:expr;)*) => {
        /// The commands, as `command` names them, with their fields.
        const COMMANDS: &[(&str, &[(&str, Kind)])] =
            &[$(($name, &[$(($field, Kind::$kind)),*])),*];

        /// Command `i` of [`COMMANDS`] from its fields.
        #[inline(never)]
        fn build(i: usize, $a: &mut Args) -> Command {
            let mut k = 0;
            $(
                if i == k {
                    return $build;
                }
                k += 1;
            )*
            let _ = k;
            unreachable!()
        }
    };
}

commands! { a;
    "version" [] => Command::Version;
    "version_numbers" [] => Command::VersionNumbers;
    "features" [] => Command::Features;
    "bilateral_table_id" ["domain": Str] => Command::BilateralTableId { domain: a.string() };
    "domains" [] => Command::Domains;
    "data_sets" ["domain": OptStr] => Command::DataSets { domain: a.opt_string() };
    "variable_names" ["domain": OptStr] => Command::VariableNames { domain: a.opt_string() };
    "variables" ["domain": OptStr] => Command::Variables { domain: a.opt_string() };
    "discover" [] => Command::Discover;
    "learn_types" ["names": Names] => Command::LearnTypes { names: a.names() };
    "read_points" ["names": Names] => Command::ReadPoints { names: a.names() };
    "write_point" ["name": Name, "value": Point] => Command::WritePoint {
        name: a.name(),
        value: a.point(),
    };
    "define_data_set" ["name": Name, "members": Names] => Command::DefineDataSet {
        name: a.name(),
        members: a.names(),
    };
    "data_set_members" ["name": Name] => Command::DataSetMembers { name: a.name() };
    "delete_data_set" ["name": Name] => Command::DeleteDataSet { name: a.name() };
    "reserve_transfer_set" ["domain": Str] => Command::ReserveTransferSet { domain: a.string() };
    "start_transfer_set" ["transfer_set": Name, "value": TransferSet] =>
        Command::StartTransferSet {
            transfer_set: a.name(),
            value: a.transfer_set(),
        };
    "reserve_and_start" ["domain": Str, "value": TransferSet] => Command::ReserveAndStart {
        domain: a.string(),
        value: a.transfer_set(),
    };
    "read_transfer_set" ["transfer_set": Name] =>
        Command::ReadTransferSet { transfer_set: a.name() };
    "stop_transfer_set" ["transfer_set": Name] =>
        Command::StopTransferSet { transfer_set: a.name() };
    "info_messages" ["enable": Bool] => Command::InfoMessages { enable: a.boolean() };
    "device_info" ["device": Name] => Command::DeviceInfo { device: a.name() };
    "select" ["device": Name] => Command::Select { device: a.name() };
    "operate" ["device": Name, "value": Control] => Command::Operate {
        device: a.name(),
        value: a.control(),
    };
    "select_operate" ["device": Name, "value": Control] => Command::SelectOperate {
        device: a.name(),
        value: a.control(),
    };
    "tag" ["device": Name] => Command::Tag { device: a.name() };
    "set_tag" ["device": Name, "value": Tag, "reason": Str] => Command::SetTag {
        device: a.name(),
        value: a.tag(),
        reason: a.string(),
    };
}

fn command(o: &J, c: &str) -> R<Command> {
    let Some(i) = COMMANDS.iter().position(|(n, _)| *n == c) else {
        let mut names = String::new();
        for (i, (n, _)) in COMMANDS.iter().enumerate() {
            if i > 0 {
                names.push_str("`, `");
            }
            names.push_str(n);
        }
        return Err(format!("unknown variant `{c}`, expected one of `{names}`"));
    };
    let fields = COMMANDS[i].1;
    let mut args = Vec::with_capacity(fields.len());
    for &(k, kind) in fields {
        args.push(arg(o, k, kind)?);
    }
    Ok(build(i, &mut Args(args.into_iter())))
}

/// Parse a command from JSON (the shorthands applied, then the core's serde form).
pub fn parse(json: &str) -> Result<Command, String> {
    let v = jw::parse(json).map_err(|e| format!("invalid JSON: {e}"))?;
    if !matches!(v, J::Obj(_)) {
        return Err("a command is a JSON object".into());
    }
    let c = v
        .get("command")
        .and_then(J::as_str)
        .ok_or("a command object needs a \"command\" string")?;
    command(&v, c).map_err(|e| format!("invalid command: {e}"))
}

/// A transfer set configuration from its JSON shorthand (for `WasmSession::reserve_and_start`,
/// feature `methods`).
#[cfg(feature = "methods")]
pub fn parse_transfer_set_value(json: &str) -> Result<DsTransferSetValue, String> {
    let v = jw::parse(json).map_err(|e| format!("invalid JSON: {e}"))?;
    transfer_set_value(&v).map_err(|e| format!("invalid transfer set value: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tase2_core::tase2::Command as Cmd;

    #[test]
    fn integer_fields_take_what_try_from_takes() {
        fn same<T: Int + TryFrom<i64> + PartialEq + std::fmt::Debug>() {
            for x in [
                i64::MIN,
                -70_000,
                -32_769,
                -32_768,
                -129,
                -128,
                -1,
                0,
                1,
                127,
                128,
            ]
            .into_iter()
            .chain([255, 256, 32_767, 32_768, 65_535, 65_536, 1 << 31, i64::MAX])
            .chain([-(1 << 31), (1 << 31) - 1, -(1 << 31) - 1])
            {
                let v = J::Num(x.to_string());
                assert_eq!(int::<T>(&v, "k").ok(), T::try_from(x).ok(), "{x}");
            }
        }
        same::<u8>();
        same::<u16>();
        same::<i16>();
        same::<i32>();
    }

    #[test]
    fn a_name_splits_at_its_first_slash_as_split_once_does() {
        for s in ["D/I", "D/I/J", "/I", "D/", "/", "//", "DI", "", "é/ü"] {
            let want = match s.split_once('/') {
                Some((d, i)) => ObjectName::domain(d, i),
                None => ObjectName::vmd(s),
            };
            assert_eq!(object_name(s), want, "{s:?}");
        }
    }

    #[test]
    fn names_are_strings_in_three_scopes() {
        assert_eq!(object_name("ICC1/P1"), ObjectName::domain("ICC1", "P1"));
        assert_eq!(object_name("Freq"), ObjectName::vmd("Freq"));
        assert_eq!(
            object_name("@aa/IM_Transfer_Set"),
            ObjectName::AaSpecific("IM_Transfer_Set".into())
        );
        assert_eq!(
            parse(r#"{"command":"read_points","names":["ICC1/P1",{"VmdSpecific":"Freq"}]}"#),
            Ok(Command::ReadPoints {
                names: vec![ObjectName::domain("ICC1", "P1"), ObjectName::vmd("Freq")]
            })
        );
    }

    #[test]
    fn a_transfer_set_needs_only_its_data_set_and_conditions_take_names() {
        let c = parse(
            r#"{"command":"reserve_and_start","domain":"ICC1",
                "value":{"data_set":"ICC1/DS","interval":2,"conditions":["interval","change"],"rbe":true}}"#,
        )
        .unwrap();
        assert_eq!(
            c,
            Command::ReserveAndStart {
                domain: "ICC1".into(),
                value: DsTransferSetValue {
                    data_set: ObjectName::domain("ICC1", "DS"),
                    interval: 2,
                    conditions: DsConditions::INTERVAL | DsConditions::OBJECT_CHANGE,
                    rbe: true,
                    ..Default::default()
                }
            }
        );
        let e = parse(r#"{"command":"reserve_and_start","domain":"D","value":{"data_set":"D/X","conditions":["often"]}}"#)
            .unwrap_err();
        assert!(e.contains("unknown \"often\""), "{e}");
    }

    #[test]
    fn control_values_and_tags_take_words() {
        assert_eq!(
            parse(r#"{"command":"select_operate","device":"ICC1/Brk1_Cmd","value":"close"}"#),
            Ok(Command::SelectOperate {
                device: ObjectName::domain("ICC1", "Brk1_Cmd"),
                value: ControlValue::Command(Cmd::On)
            })
        );
        assert_eq!(
            parse(r#"{"command":"operate","device":"ICC1/SP","value":{"real":412.5}}"#),
            Ok(Command::Operate {
                device: ObjectName::domain("ICC1", "SP"),
                value: ControlValue::Real(412.5)
            })
        );
        assert_eq!(
            parse(r#"{"command":"operate","device":"ICC1/SP","value":{"Discrete":-3}}"#),
            Ok(Command::Operate {
                device: ObjectName::domain("ICC1", "SP"),
                value: ControlValue::Discrete(-3)
            })
        );
        assert_eq!(
            parse(r#"{"command":"set_tag","device":"D/B","value":"close-only","reason":"crew"}"#),
            Ok(Command::SetTag {
                device: ObjectName::domain("D", "B"),
                value: TagValue::CloseOnlyInhibit,
                reason: "crew".into()
            })
        );
    }

    #[test]
    fn mistakes_are_errors_in_words() {
        assert!(parse("[").unwrap_err().starts_with("invalid JSON"));
        assert!(parse("[1]").unwrap_err().contains("JSON object"));
        assert!(parse(r#"{"names":[]}"#)
            .unwrap_err()
            .contains("\"command\""));
        let e = parse(r#"{"command":"fly"}"#).unwrap_err();
        assert!(
            e.starts_with("invalid command: unknown variant `fly`"),
            "{e}"
        );
        let e = parse(r#"{"command":"operate","device":"D/B","value":"maybe"}"#).unwrap_err();
        assert!(e.contains("maybe"), "{e}");
        assert_eq!(parse(r#"{"command":"discover"}"#), Ok(Command::Discover));
    }

    #[test]
    fn the_core_serde_forms_are_read_too() {
        use tase2_core::tase2::{Flags, StateValue, Timestamp, Value as V};
        assert_eq!(
            parse(
                r#"{"command":"write_point","name":{"DomainSpecific":{"domain":"D","item":"P"}},
                    "value":{"value":{"State":"On"},"flags":4,"timestamp":{"seconds":5,"millis":6},"cov":7}}"#
            ),
            Ok(Command::WritePoint {
                name: ObjectName::domain("D", "P"),
                value: PointValue {
                    value: V::State(StateValue::On),
                    flags: Flags(4),
                    timestamp: Timestamp {
                        seconds: 5,
                        millis: 6
                    },
                    cov: 7
                }
            })
        );
        assert_eq!(
            parse(r#"{"command":"write_point","name":"Freq","value":50}"#),
            Ok(Command::WritePoint {
                name: ObjectName::vmd("Freq"),
                value: PointValue::real(50.0)
            })
        );
        assert_eq!(
            parse(r#"{"command":"operate","device":{"AaSpecific":"X"},"value":{"Command":"Off"}}"#),
            Ok(Command::Operate {
                device: ObjectName::AaSpecific("X".into()),
                value: ControlValue::Command(Cmd::Off)
            })
        );
        assert_eq!(
            parse(r#"{"command":"data_sets","domain":null}"#),
            Ok(Command::DataSets { domain: None })
        );
        assert_eq!(
            parse(r#"{"command":"variables","domain":"ICC1","extra":1}"#),
            Ok(Command::Variables {
                domain: Some("ICC1".into())
            })
        );
        assert_eq!(
            parse(
                r#"{"command":"start_transfer_set","transfer_set":"D/TS","value":{"data_set":"D/DS","conditions":5}}"#
            ),
            Ok(Command::StartTransferSet {
                transfer_set: ObjectName::domain("D", "TS"),
                value: DsTransferSetValue {
                    data_set: ObjectName::domain("D", "DS"),
                    conditions: DsConditions(5),
                    ..Default::default()
                }
            })
        );
        assert_eq!(
            parse(r#"{"command":"info_messages","enable":true}"#),
            Ok(Command::InfoMessages { enable: true })
        );
    }

    #[test]
    fn a_missing_or_mistyped_field_is_named() {
        let e = parse(r#"{"command":"read_points"}"#).unwrap_err();
        assert_eq!(e, "invalid command: missing field `names`");
        let e = parse(r#"{"command":"info_messages","enable":1}"#).unwrap_err();
        assert!(e.contains("`enable`"), "{e}");
        let e = parse(r#"{"command":"reserve_and_start","domain":"D","value":{"interval":1.5}}"#)
            .unwrap_err();
        assert!(e.contains("`interval`"), "{e}");
        let e = parse(r#"{"command":"operate","device":"D/B","value":{"discrete":40000}}"#)
            .unwrap_err();
        assert!(e.contains("beyond INT16"), "{e}");
        // The shorthand parser exists only with the feature `methods`.
        #[cfg(feature = "methods")]
        {
            let e = parse_transfer_set_value("[]").unwrap_err();
            assert!(e.starts_with("invalid transfer set value"), "{e}");
            assert_eq!(
                parse_transfer_set_value(r#"{"data_set":"D/X"}"#),
                Ok(DsTransferSetValue {
                    data_set: ObjectName::domain("D", "X"),
                    ..Default::default()
                })
            );
        }
    }

    #[test]
    fn aa_specific_names_are_what_strip_prefix_leaves() {
        for s in [
            "@aa/x", "@aa/", "@aa", "@a/x", "@aa/é/y", "D/x", "x", "", "é@aa/x",
        ] {
            let want = match s.strip_prefix("@aa/") {
                Some(item) => ObjectName::AaSpecific(item.into()),
                None => match s.split_once('/') {
                    Some((d, i)) => ObjectName::domain(d, i),
                    None => ObjectName::vmd(s),
                },
            };
            assert_eq!(object_name(s), want, "{s}");
        }
    }
}
