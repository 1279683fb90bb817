//! Commands from JSON: the core's [`Command`] serde form, with shorthands JavaScript can write by
//! hand (see the [crate docs](crate#commands)).

use serde_json::{Map, Value};
use tase2_core::mms::ObjectName;
use tase2_core::tase2::client::Command;
use tase2_core::tase2::{
    Command as DeviceCommand, ControlValue, DsConditions, DsTransferSetValue, PointValue, TagValue,
};

use crate::events::CONDITION_NAMES;

/// An object name from its string form: `"DOMAIN/ITEM"` (domain-specific, split at the first
/// `/`), `"@aa/ITEM"` (association-specific) or `"ITEM"` (VMD-specific, TASE.2 VCC scope).
pub fn object_name(s: &str) -> ObjectName {
    if let Some(item) = s.strip_prefix("@aa/") {
        return ObjectName::AaSpecific(item.into());
    }
    match s.split_once('/') {
        Some((domain, item)) => ObjectName::domain(domain, item),
        None => ObjectName::vmd(s),
    }
}

fn to_value<T: serde::Serialize>(v: &T) -> Result<Value, String> {
    serde_json::to_value(v).map_err(|e| e.to_string())
}

/// A name given as a string becomes the serde form of [`ObjectName`]; anything else is left for
/// serde to judge.
fn name(v: &mut Value) -> Result<(), String> {
    if let Value::String(s) = v {
        *v = to_value(&object_name(s))?;
    }
    Ok(())
}

fn names(v: &mut Value) -> Result<(), String> {
    if let Value::Array(items) = v {
        items.iter_mut().try_for_each(name)?;
    }
    Ok(())
}

/// Conditions as a list of names (`["interval", "change"]`) or the bit number.
fn conditions(v: &mut Value) -> Result<(), String> {
    let Value::Array(items) = v else {
        return Ok(());
    };
    let mut bits = 0u8;
    for item in items.iter() {
        let n = item.as_str().ok_or("conditions: names expected")?;
        let i = CONDITION_NAMES
            .iter()
            .position(|c| *c == n)
            .ok_or_else(|| {
                format!(
                    "conditions: unknown {n:?} (one of {})",
                    CONDITION_NAMES.join(", ")
                )
            })?;
        bits |= 1 << i;
    }
    *v = to_value(&DsConditions(bits))?;
    Ok(())
}

/// A transfer set configuration: missing fields take their defaults, `data_set` may be a string
/// and `conditions` a list of names.
fn transfer_set_value(v: &mut Value) -> Result<(), String> {
    let Value::Object(given) = v else {
        return Ok(());
    };
    let Value::Object(mut full) = to_value(&DsTransferSetValue::default())? else {
        return Err("transfer set defaults".into());
    };
    for (k, mut x) in core::mem::take(given) {
        match k.as_str() {
            "data_set" => name(&mut x)?,
            "conditions" => conditions(&mut x)?,
            _ => {}
        }
        full.insert(k, x);
    }
    *v = Value::Object(full);
    Ok(())
}

/// A control value: a command word (`"on"`, `"close"`, `"off"`, `"trip"`, ...), `{"real": x}`,
/// `{"discrete": n}`, or the serde form.
fn control_value(v: &mut Value) -> Result<(), String> {
    match v {
        Value::String(s) => {
            let c = DeviceCommand::parse(s)
                .ok_or_else(|| format!("unknown command value {s:?} (on/close or off/trip)"))?;
            *v = to_value(&ControlValue::Command(c))?;
        }
        Value::Object(o) if o.len() == 1 => {
            if let Some(x) = o.get("real").and_then(Value::as_f64) {
                *v = to_value(&ControlValue::Real(x as f32))?;
            } else if let Some(x) = o.get("discrete").and_then(Value::as_i64) {
                let x =
                    i16::try_from(x).map_err(|_| format!("discrete setpoint {x} beyond INT16"))?;
                *v = to_value(&ControlValue::Discrete(x))?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// A tag: `"none"`, `"open-and-close"`, `"close-only"` (or 0-2), or the serde form.
fn tag_value(v: &mut Value) -> Result<(), String> {
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return Ok(()),
    };
    let t = TagValue::parse(&text)
        .ok_or_else(|| format!("unknown tag {text:?} (none, open-and-close, close-only)"))?;
    *v = to_value(&t)?;
    Ok(())
}

/// A point value: a number is a valid real value, anything else the serde form of
/// [`PointValue`].
fn point_value(v: &mut Value) -> Result<(), String> {
    if let Some(x) = v.as_f64() {
        *v = to_value(&PointValue::real(x as f32))?;
    }
    Ok(())
}

fn normalise(o: &mut Map<String, Value>) -> Result<(), String> {
    let command = o
        .get("command")
        .and_then(Value::as_str)
        .ok_or("a command object needs a \"command\" string")?
        .to_owned();
    for (k, v) in o.iter_mut() {
        match k.as_str() {
            "name" | "device" | "transfer_set" => name(v)?,
            "names" | "members" => names(v)?,
            "value" => match command.as_str() {
                "start_transfer_set" | "reserve_and_start" => transfer_set_value(v)?,
                "operate" | "select_operate" => control_value(v)?,
                "set_tag" => tag_value(v)?,
                "write_point" => point_value(v)?,
                _ => {}
            },
            _ => {}
        }
    }
    Ok(())
}

/// Parse a command from JSON (the shorthands applied, then the core's serde form).
pub fn parse(json: &str) -> Result<Command, String> {
    let mut v: Value = serde_json::from_str(json).map_err(|e| format!("invalid JSON: {e}"))?;
    let Value::Object(o) = &mut v else {
        return Err("a command is a JSON object".into());
    };
    normalise(o)?;
    serde_json::from_value(v).map_err(|e| format!("invalid command: {e}"))
}

/// A transfer set configuration from its JSON shorthand (for [`crate::WasmSession::reserve_and_start`]).
pub fn parse_transfer_set_value(json: &str) -> Result<DsTransferSetValue, String> {
    let mut v: Value = serde_json::from_str(json).map_err(|e| format!("invalid JSON: {e}"))?;
    transfer_set_value(&mut v)?;
    serde_json::from_value(v).map_err(|e| format!("invalid transfer set value: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tase2_core::tase2::Command as Cmd;

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
}
