//! Device control (conformance block 5): the values a client operates devices with, and device tags.
//!
//! A device `<Device>` is a command (INT16: 0 off/trip/lower, 1 on/close/raise), a discrete
//! setpoint (INT16) or a real setpoint (FLOAT32). A select-before-operate device has
//! `<Device>_SBO` (reading it selects and answers the CheckBackID, INT16); a tagged device has
//! `<Device>_TAG` = { Flags BIT STRING(3), Reason VisibleString(255) }.

use alloc::string::String;
use alloc::vec;

use crate::mms::{BitString, Data, Float, StructComponent, TypeDescription, TypeSpecification};

/// Suffix of a device's select object.
pub const SBO_SUFFIX: &str = "_SBO";
/// Suffix of a device's tag object.
pub const TAG_SUFFIX: &str = "_TAG";
/// Longest tag reason (VisibleString(255)).
pub const MAX_TAG_REASON: usize = 255;

/// What a device is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum DeviceKind {
    /// A command: 0 off/trip/lower, 1 on/close/raise (INT16).
    Command,
    /// A discrete setpoint (INT16).
    DiscreteSetpoint,
    /// A real setpoint (FLOAT32).
    RealSetpoint,
}

impl DeviceKind {
    /// The MMS type of `<Device>`.
    pub fn type_description(self) -> TypeDescription {
        match self {
            DeviceKind::Command | DeviceKind::DiscreteSetpoint => TypeDescription::Integer(16),
            DeviceKind::RealSetpoint => TypeDescription::FloatingPoint {
                format_width: 32,
                exponent_width: 8,
            },
        }
    }

    /// The device kind a type description says (commands and discrete setpoints share INT16:
    /// `Command` is answered for both).
    pub fn from_type_description(t: &TypeDescription) -> Option<DeviceKind> {
        match t {
            TypeDescription::Integer(16) => Some(DeviceKind::Command),
            TypeDescription::FloatingPoint {
                format_width: 32, ..
            } => Some(DeviceKind::RealSetpoint),
            _ => None,
        }
    }

    /// Decode an operate value of this kind: `Err(true)` for the wrong MMS type, `Err(false)` for
    /// the right type out of range (a command other than 0 or 1, an INT16 that overflows, a real
    /// setpoint that is NaN, infinite or beyond FLOAT32).
    pub fn decode(self, data: &Data) -> Result<ControlValue, bool> {
        match (self, data) {
            (DeviceKind::Command, Data::Integer(v)) => match v {
                0 => Ok(ControlValue::Command(Command::Off)),
                1 => Ok(ControlValue::Command(Command::On)),
                _ => Err(false),
            },
            (DeviceKind::DiscreteSetpoint, Data::Integer(v)) => i16::try_from(*v)
                .map(ControlValue::Discrete)
                .map_err(|_| false),
            (DeviceKind::RealSetpoint, Data::Float(f)) => {
                // A setpoint a device cannot reach is refused, not passed on.
                let r = f.to_f64() as f32;
                if !r.is_finite() {
                    return Err(false);
                }
                Ok(ControlValue::Real(r))
            }
            _ => Err(true),
        }
    }

    /// The kind of a value.
    pub fn of(value: ControlValue) -> DeviceKind {
        match value {
            ControlValue::Command(_) => DeviceKind::Command,
            ControlValue::Discrete(_) => DeviceKind::DiscreteSetpoint,
            ControlValue::Real(_) => DeviceKind::RealSetpoint,
        }
    }
}

/// A command value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Command {
    /// 0: off, trip, open, lower.
    Off,
    /// 1: on, close, raise.
    On,
}

impl Command {
    /// Parse `on`/`close`/`raise`/`1` or `off`/`trip`/`open`/`lower`/`0` (any case).
    pub fn parse(s: &str) -> Option<Command> {
        match s.to_ascii_lowercase().as_str() {
            "1" | "on" | "close" | "raise" => Some(Command::On),
            "0" | "off" | "trip" | "open" | "lower" => Some(Command::Off),
            _ => None,
        }
    }
}

/// A value a device is operated with.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum ControlValue {
    /// A command.
    Command(Command),
    /// A discrete setpoint.
    Discrete(i16),
    /// A real setpoint.
    Real(f32),
}

impl ControlValue {
    /// The MMS value written to `<Device>`.
    pub fn to_data(self) -> Data {
        match self {
            ControlValue::Command(Command::Off) => Data::Integer(0),
            ControlValue::Command(Command::On) => Data::Integer(1),
            ControlValue::Discrete(v) => Data::Integer(v.into()),
            ControlValue::Real(v) => Data::Float(Float::F32(v)),
        }
    }

    /// Whether this operate closes (the only operation a close-only-inhibit tag refuses).
    pub fn is_close(self) -> bool {
        self == ControlValue::Command(Command::On)
    }
}

impl core::fmt::Display for ControlValue {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ControlValue::Command(Command::On) => f.write_str("on"),
            ControlValue::Command(Command::Off) => f.write_str("off"),
            ControlValue::Discrete(v) => write!(f, "{v}"),
            ControlValue::Real(v) => write!(f, "{v}"),
        }
    }
}

/// How a device is operated.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum ControlMode {
    /// A Write of `<Device>` operates at once.
    #[default]
    Direct,
    /// Select-before-operate: read `<Device>_SBO`, then write `<Device>` within the select
    /// timeout.
    Sbo,
}

/// The two tag bits of `<Device>_TAG`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum TagValue {
    /// 0: no tag.
    #[default]
    None,
    /// 1: open-and-close inhibit: the device refuses select and operate.
    OpenAndCloseInhibit,
    /// 2: close-only inhibit: the device refuses close.
    CloseOnlyInhibit,
    /// 3: invalid (never accepted in a write).
    Invalid,
}

impl TagValue {
    /// From the two bits (0-3).
    pub fn from_bits(bits: u8) -> TagValue {
        match bits & 3 {
            0 => TagValue::None,
            1 => TagValue::OpenAndCloseInhibit,
            2 => TagValue::CloseOnlyInhibit,
            _ => TagValue::Invalid,
        }
    }

    /// The two bits.
    pub fn bits(self) -> u8 {
        match self {
            TagValue::None => 0,
            TagValue::OpenAndCloseInhibit => 1,
            TagValue::CloseOnlyInhibit => 2,
            TagValue::Invalid => 3,
        }
    }

    /// Parse `none`, `open-and-close` (or `inhibit`), `close-only`, or 0-2.
    pub fn parse(s: &str) -> Option<TagValue> {
        match s.to_ascii_lowercase().replace('_', "-").as_str() {
            "0" | "none" | "clear" => Some(TagValue::None),
            "1" | "open-and-close" | "open-and-close-inhibit" | "inhibit" => {
                Some(TagValue::OpenAndCloseInhibit)
            }
            "2" | "close-only" | "close-only-inhibit" => Some(TagValue::CloseOnlyInhibit),
            _ => None,
        }
    }

    /// Whether a device with this tag refuses `value` (a select is checked with `None`).
    pub fn inhibits(self, value: Option<ControlValue>) -> bool {
        match self {
            TagValue::OpenAndCloseInhibit | TagValue::Invalid => true,
            TagValue::CloseOnlyInhibit => value.is_some_and(ControlValue::is_close),
            TagValue::None => false,
        }
    }
}

/// The value of `<Device>_TAG`.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Tag {
    /// The tag.
    pub value: TagValue,
    /// The device is selected (armed); set by the server, ignored in writes.
    pub armed: bool,
    /// Why (at most 255 characters).
    pub reason: String,
}

impl Tag {
    /// The MMS type of `<Device>_TAG`.
    pub fn type_description() -> TypeDescription {
        let component = |name: &str, t| StructComponent {
            name: Some(name.into()),
            type_spec: TypeSpecification::Description(t),
        };
        TypeDescription::Structure {
            packed: false,
            components: vec![
                component("Flags", TypeDescription::BitString(3)),
                component(
                    "Reason",
                    TypeDescription::VisibleString(MAX_TAG_REASON as i32),
                ),
            ],
        }
    }

    /// The Flags octet: tag bits 0-1 (bit 0 most significant), Armed bit 2.
    pub fn flags_octet(&self) -> u8 {
        (self.value.bits() << 6) | if self.armed { 0x20 } else { 0 }
    }

    /// The MMS value.
    pub fn to_data(&self) -> Data {
        Data::Structure(vec![
            Data::BitString(BitString {
                octets: vec![self.flags_octet()],
                bits: 3,
            }),
            Data::VisibleString(self.reason.clone()),
        ])
    }

    /// From an MMS value (`None` if it is not a tag structure).
    pub fn from_data(data: &Data) -> Option<Tag> {
        let Data::Structure(c) = data else {
            return None;
        };
        let [Data::BitString(flags), Data::VisibleString(reason)] = c.as_slice() else {
            return None;
        };
        if reason.len() > MAX_TAG_REASON {
            return None;
        }
        let octet = flags.octets.first().copied().unwrap_or(0);
        Some(Tag {
            value: TagValue::from_bits(octet >> 6),
            armed: octet & 0x20 != 0,
            reason: reason.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_round_trip_and_bits() {
        let t = Tag {
            value: TagValue::CloseOnlyInhibit,
            armed: true,
            reason: "crew on line".into(),
        };
        assert_eq!(t.flags_octet(), 0b1010_0000);
        assert!(Tag::type_description().matches(&t.to_data()));
        assert_eq!(Tag::from_data(&t.to_data()), Some(t));
        assert_eq!(Tag::from_data(&Data::Integer(1)), None);
    }

    #[test]
    fn decode_control_values() {
        use DeviceKind::*;
        assert_eq!(
            Command.decode(&Data::Integer(1)),
            Ok(ControlValue::Command(super::Command::On))
        );
        assert_eq!(Command.decode(&Data::Integer(2)), Err(false));
        assert_eq!(Command.decode(&Data::Boolean(true)), Err(true));
        assert_eq!(DiscreteSetpoint.decode(&Data::Integer(70000)), Err(false));
        assert_eq!(
            RealSetpoint.decode(&Data::Float(Float::F32(1.5))),
            Ok(ControlValue::Real(1.5))
        );
        assert_eq!(RealSetpoint.decode(&Data::Integer(1)), Err(true));
        assert_eq!(
            RealSetpoint.decode(&Data::Float(Float::F32(f32::NAN))),
            Err(false)
        );
        assert_eq!(
            RealSetpoint.decode(&Data::Float(Float::F64(1e300))),
            Err(false)
        );
        assert!(
            TagValue::CloseOnlyInhibit.inhibits(Some(ControlValue::Command(super::Command::On)))
        );
        assert!(!TagValue::CloseOnlyInhibit.inhibits(None));
        assert!(TagValue::OpenAndCloseInhibit.inhibits(None));
    }
}
