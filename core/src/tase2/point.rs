//! Indication points (IEC 60870-6-802 §7.1): the families, their forms and typed values, with the
//! MMS type each maps to and the encoder that writes a value straight into a PDU.

use alloc::vec::Vec;

use super::flags::{Flags, StateValue};
use super::Edition;
use crate::ber::Writer;
use crate::mms::data::write;
use crate::mms::{Data, DataRef, StructComponent, TypeDescription, TypeSpecification};

/// What an indication point measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Family {
    /// `Data_Real`: FLOAT32.
    Real,
    /// `Data_State`: the state lives in the flag octet.
    State,
    /// `Data_Discrete`: INT32.
    Discrete,
    /// `Data_StateSupplemental`: a BIT STRING(8) of its own beside the flags.
    StateSupplemental,
}

/// How much comes with the value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Form {
    /// The value alone.
    Plain,
    /// Value and flags.
    Q,
    /// Value, timestamp (INT32 seconds) and flags.
    QTimeTag,
    /// QTimeTag plus the change-of-value counter COV (UNSIGNED16).
    Extended,
    /// Value, timestamp with milliseconds, flags (edition 2000.08 only).
    QTimeTagExtended,
}

/// The type of a point: an indication family and form, or a protection equipment event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum PointType {
    /// An indication point.
    Indication(Family, Form),
    /// Single protection event: { EventFlags BIT STRING(8), OperatingTime INT32 (ms), EventTime }.
    SingleEvent,
    /// Packed protection event: { PackedEvent BIT STRING(8), PackedEventFlags BIT STRING(8),
    /// OperatingTime INT32 (ms), EventTime }.
    PackedEvent,
}

/// A TASE.2 timestamp: seconds since 1970 UTC and milliseconds (kept only by the forms that carry
/// them).
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Timestamp {
    /// GMT-based seconds.
    pub seconds: i32,
    /// Milliseconds within the second (0-999).
    pub millis: u16,
}

impl Timestamp {
    /// From microseconds since 1970 UTC (the core's [`crate::Instant::utc_micros`]).
    pub fn from_utc_micros(us: i64) -> Timestamp {
        let s = us.div_euclid(1_000_000);
        let ms = us.rem_euclid(1_000_000) / 1000;
        Timestamp {
            seconds: s.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32,
            millis: ms as u16,
        }
    }
}

/// A point's value apart from flags, timestamp and COV.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Value {
    /// A real value.
    Real(f32),
    /// A state (encoded in the flag octet).
    State(StateValue),
    /// A discrete value.
    Discrete(i32),
    /// A state-supplemental octet.
    StateSupplemental(u8),
    /// A single protection event.
    SingleEvent {
        /// Event flags.
        flags: u8,
        /// Operating time in milliseconds.
        operating_time: i32,
    },
    /// A packed protection event.
    PackedEvent {
        /// Packed event bits.
        events: u8,
        /// Packed event flags.
        flags: u8,
        /// Operating time in milliseconds.
        operating_time: i32,
    },
}

/// The full value of a point: what every form is made of. A form that lacks a part ignores it.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PointValue {
    /// The value.
    pub value: Value,
    /// Quality flags (for `Data_State` the state bits come from `value`).
    pub flags: Flags,
    /// When it was measured (for events: the event time).
    pub timestamp: Timestamp,
    /// Change-of-value counter (Extended forms).
    pub cov: u16,
}

impl PointValue {
    /// A real value, valid, timestamp 0.
    pub fn real(v: f32) -> Self {
        Self::new(Value::Real(v))
    }

    /// A state, valid.
    pub fn state(s: StateValue) -> Self {
        Self::new(Value::State(s))
    }

    /// A discrete value, valid.
    pub fn discrete(v: i32) -> Self {
        Self::new(Value::Discrete(v))
    }

    /// `value` with valid flags, timestamp 0 and COV 0.
    pub fn new(value: Value) -> Self {
        PointValue {
            value,
            flags: Flags::VALID,
            timestamp: Timestamp::default(),
            cov: 0,
        }
    }

    /// With these flags.
    pub fn with_flags(mut self, flags: Flags) -> Self {
        self.flags = flags;
        self
    }

    /// With this timestamp.
    pub fn at(mut self, timestamp: Timestamp) -> Self {
        self.timestamp = timestamp;
        self
    }

    /// The flag octet as sent: for a state point, its state bits from the value.
    pub fn wire_flags(&self) -> Flags {
        match self.value {
            Value::State(s) => self.flags.with_state(s),
            _ => self.flags,
        }
    }

    /// The value as a float, for display and simulation.
    pub fn as_f64(&self) -> f64 {
        match self.value {
            Value::Real(v) => f64::from(v),
            Value::State(s) => s as u8 as f64,
            Value::Discrete(v) => f64::from(v),
            Value::StateSupplemental(v) => f64::from(v),
            Value::SingleEvent { flags, .. } => f64::from(flags),
            Value::PackedEvent { events, .. } => f64::from(events),
        }
    }
}

fn comp(name: &str, t: TypeDescription) -> StructComponent {
    StructComponent {
        name: Some(name.into()),
        type_spec: TypeSpecification::Description(t),
    }
}

fn structure(components: Vec<StructComponent>) -> TypeDescription {
    TypeDescription::Structure {
        packed: false,
        components,
    }
}

const FLOAT32: TypeDescription = TypeDescription::FloatingPoint {
    format_width: 32,
    exponent_width: 8,
};

/// `TimeStampExtended` { GMTBasedS INT32, Milliseconds INT16 }.
fn timestamp_extended() -> TypeDescription {
    structure(alloc::vec![
        comp("GMTBasedS", TypeDescription::Integer(32)),
        comp("Milliseconds", TypeDescription::Integer(16)),
    ])
}

/// Why a point type cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EditionMismatch;

// A table rather than a flat_map over families and forms: each search over the types is then a
// plain array loop in the wasm, not a copy of the nested adapters.
/// Every type, in [`PointType::all`]'s order: each family in its five forms, then the events.
const ALL_POINT_TYPES: [PointType; 22] = {
    use Family::*;
    use Form::*;
    use PointType::*;
    [
        Indication(Real, Plain),
        Indication(Real, Q),
        Indication(Real, QTimeTag),
        Indication(Real, Extended),
        Indication(Real, QTimeTagExtended),
        Indication(State, Plain),
        Indication(State, Q),
        Indication(State, QTimeTag),
        Indication(State, Extended),
        Indication(State, QTimeTagExtended),
        Indication(Discrete, Plain),
        Indication(Discrete, Q),
        Indication(Discrete, QTimeTag),
        Indication(Discrete, Extended),
        Indication(Discrete, QTimeTagExtended),
        Indication(StateSupplemental, Plain),
        Indication(StateSupplemental, Q),
        Indication(StateSupplemental, QTimeTag),
        Indication(StateSupplemental, Extended),
        Indication(StateSupplemental, QTimeTagExtended),
        SingleEvent,
        PackedEvent,
    ]
};

impl PointType {
    /// Whether `edition` has this type (QTimeTagExtended is 2000.08 only).
    pub fn exists_in(self, edition: Edition) -> bool {
        !matches!(
            (self, edition),
            (
                PointType::Indication(_, Form::QTimeTagExtended),
                Edition::V1996_08
            )
        )
    }

    /// The standard type name, e.g. `Data_RealQTimeTag`.
    // Not inlined: each inlined copy carried its own copy of the names.
    #[inline(never)]
    pub fn name(self) -> &'static str {
        use Family::*;
        use Form::*;
        match self {
            PointType::SingleEvent => "Data_SingleProtectionEvent",
            PointType::PackedEvent => "Data_PackedProtectionEvent",
            PointType::Indication(f, form) => match (f, form) {
                (Real, Plain) => "Data_Real",
                (Real, Q) => "Data_RealQ",
                (Real, QTimeTag) => "Data_RealQTimeTag",
                (Real, Extended) => "Data_RealExtended",
                (Real, QTimeTagExtended) => "Data_RealQTimeTagExtended",
                (State, Plain) => "Data_State",
                (State, Q) => "Data_StateQ",
                (State, QTimeTag) => "Data_StateQTimeTag",
                (State, Extended) => "Data_StateExtended",
                (State, QTimeTagExtended) => "Data_StateQTimeTagExtended",
                (Discrete, Plain) => "Data_Discrete",
                (Discrete, Q) => "Data_DiscreteQ",
                (Discrete, QTimeTag) => "Data_DiscreteQTimeTag",
                (Discrete, Extended) => "Data_DiscreteExtended",
                (Discrete, QTimeTagExtended) => "Data_DiscreteQTimeTagExtended",
                (StateSupplemental, Plain) => "Data_StateSupplemental",
                (StateSupplemental, Q) => "Data_StateSupplementalQ",
                (StateSupplemental, QTimeTag) => "Data_StateSupplementalQTimeTag",
                (StateSupplemental, Extended) => "Data_StateSupplementalExtended",
                (StateSupplemental, QTimeTagExtended) => "Data_StateSupplementalQTimeTagExtended",
            },
        }
    }

    /// Every type, for parsing names and for tests.
    pub fn all() -> impl Iterator<Item = PointType> {
        // Over the table by reference: the array's by-value iterator kept a `next` of its own.
        ALL_POINT_TYPES.iter().copied()
    }

    /// The type named `name` (`Data_RealQ`, or without the `Data_` prefix).
    pub fn from_name(name: &str) -> Option<PointType> {
        let full = name.strip_prefix("Data_").unwrap_or(name);
        PointType::all().find(|t| &t.name()[5..] == full)
    }

    /// The family's natural zero value.
    pub fn zero(self) -> PointValue {
        PointValue::new(match self {
            PointType::Indication(Family::Real, _) => Value::Real(0.0),
            PointType::Indication(Family::State, _) => Value::State(StateValue::Between),
            PointType::Indication(Family::Discrete, _) => Value::Discrete(0),
            PointType::Indication(Family::StateSupplemental, _) => Value::StateSupplemental(0),
            PointType::SingleEvent => Value::SingleEvent {
                flags: 0,
                operating_time: 0,
            },
            PointType::PackedEvent => Value::PackedEvent {
                events: 0,
                flags: 0,
                operating_time: 0,
            },
        })
    }

    /// The MMS type (GetVariableAccessAttributes answers it; writes are checked against it).
    pub fn type_description(self) -> TypeDescription {
        use TypeDescription as T;
        let flags = || comp("Flags", T::BitString(8));
        match self {
            PointType::SingleEvent => structure(alloc::vec![
                comp("EventFlags", T::BitString(8)),
                comp("OperatingTime", T::Integer(32)),
                comp("EventTime", timestamp_extended()),
            ]),
            PointType::PackedEvent => structure(alloc::vec![
                comp("PackedEvent", T::BitString(8)),
                comp("PackedEventFlags", T::BitString(8)),
                comp("OperatingTime", T::Integer(32)),
                comp("EventTime", timestamp_extended()),
            ]),
            PointType::Indication(family, form) => {
                let value = match family {
                    Family::Real => Some(FLOAT32),
                    Family::Discrete => Some(T::Integer(32)),
                    Family::StateSupplemental => Some(T::BitString(8)),
                    // The state is in the flags.
                    Family::State => None,
                };
                if matches!(form, Form::Plain) || (family == Family::State && form == Form::Q) {
                    return value.unwrap_or(T::BitString(8));
                }
                let mut c = Vec::with_capacity(4);
                if let Some(v) = value {
                    c.push(comp("Value", v));
                }
                match form {
                    Form::QTimeTag | Form::Extended => c.push(comp("TimeStamp", T::Integer(32))),
                    Form::QTimeTagExtended => c.push(comp("TimeStamp", timestamp_extended())),
                    _ => {}
                }
                c.push(flags());
                if form == Form::Extended {
                    c.push(comp("COV", T::Unsigned(16)));
                }
                structure(c)
            }
        }
    }

    /// Encode `v` in this type's MMS form: one `Data` element, no allocation.
    pub fn encode(self, v: &PointValue, w: &mut Writer<'_>) {
        let flags = [v.wire_flags().0];
        let ts_ext = |w: &mut Writer<'_>| {
            write::structure(w, |w| {
                write::integer(w, i64::from(v.timestamp.seconds));
                write::integer(w, i64::from(v.timestamp.millis));
            })
        };
        match self {
            PointType::SingleEvent => {
                let (f, op) = match v.value {
                    Value::SingleEvent {
                        flags,
                        operating_time,
                    } => (flags, operating_time),
                    _ => (0, 0),
                };
                write::structure(w, |w| {
                    write::bit_string(w, &[f], 8);
                    write::integer(w, i64::from(op));
                    ts_ext(w);
                });
            }
            PointType::PackedEvent => {
                let (e, f, op) = match v.value {
                    Value::PackedEvent {
                        events,
                        flags,
                        operating_time,
                    } => (events, flags, operating_time),
                    _ => (0, 0, 0),
                };
                write::structure(w, |w| {
                    write::bit_string(w, &[e], 8);
                    write::bit_string(w, &[f], 8);
                    write::integer(w, i64::from(op));
                    ts_ext(w);
                });
            }
            PointType::Indication(family, form) => {
                let value = |w: &mut Writer<'_>| match v.value {
                    Value::Real(x) => write::float32(w, x),
                    Value::Discrete(x) => write::integer(w, i64::from(x)),
                    Value::StateSupplemental(x) => write::bit_string(w, &[x], 8),
                    _ => match family {
                        Family::Real => write::float32(w, v.as_f64() as f32),
                        Family::Discrete => write::integer(w, v.as_f64() as i64),
                        _ => write::bit_string(w, &[0], 8),
                    },
                };
                if form == Form::Plain || (family == Family::State && form == Form::Q) {
                    if family == Family::State {
                        write::bit_string(w, &flags, 8);
                    } else {
                        value(w);
                    }
                    return;
                }
                write::structure(w, |w| {
                    if family != Family::State {
                        value(w);
                    }
                    match form {
                        Form::QTimeTag | Form::Extended => {
                            write::integer(w, i64::from(v.timestamp.seconds))
                        }
                        Form::QTimeTagExtended => ts_ext(w),
                        _ => {}
                    }
                    write::bit_string(w, &flags, 8);
                    if form == Form::Extended {
                        write::unsigned(w, u64::from(v.cov));
                    }
                });
            }
        }
    }

    /// Encode `v` into a new buffer.
    pub fn encode_to_vec(self, v: &PointValue) -> Vec<u8> {
        let mut buf = Vec::new();
        self.encode(v, &mut Writer::new(&mut buf));
        buf
    }

    /// Encode `v` as an owned `Data`.
    pub fn to_data(self, v: &PointValue) -> Data {
        let mut buf = Vec::new();
        self.encode(v, &mut Writer::new(&mut buf));
        crate::ber::Reader::new(&buf)
            .read()
            .ok()
            .and_then(|t| Data::decode(&t, &crate::mms::DecodeLimits::default()).ok())
            .unwrap_or(Data::Boolean(false))
    }

    /// Decode a value of this type from a received `Data` view (a report or a read); `None` if its
    /// shape does not match.
    pub fn decode(self, d: &DataRef<'_>) -> Option<PointValue> {
        let octet = |d: &DataRef<'_>| d.as_bits().and_then(|(o, n)| (n == 8).then(|| o[0]));
        let ts_ext = |d: &DataRef<'_>| -> Option<Timestamp> {
            let mut m = d.members()?;
            let s = m.next()?.ok()?.as_i64()?;
            let ms = m.next()?.ok()?.as_i64()?;
            Some(Timestamp {
                seconds: i32::try_from(s).ok()?,
                millis: u16::try_from(ms).ok()?,
            })
        };
        let mut p = self.zero();
        match self {
            PointType::SingleEvent | PointType::PackedEvent => {
                let mut m = d.members()?;
                let mut next = || m.next().and_then(|r| r.ok());
                let a = octet(&next()?)?;
                let b = if matches!(self, PointType::PackedEvent) {
                    Some(octet(&next()?)?)
                } else {
                    None
                };
                let op = i32::try_from(next()?.as_i64()?).ok()?;
                p.timestamp = ts_ext(&next()?)?;
                p.value = match b {
                    Some(f) => Value::PackedEvent {
                        events: a,
                        flags: f,
                        operating_time: op,
                    },
                    None => Value::SingleEvent {
                        flags: a,
                        operating_time: op,
                    },
                };
            }
            PointType::Indication(family, form) => {
                let set_value = |p: &mut PointValue, d: &DataRef<'_>| -> Option<()> {
                    p.value = match family {
                        Family::Real => Value::Real(d.as_f32()?),
                        Family::Discrete => Value::Discrete(i32::try_from(d.as_i64()?).ok()?),
                        Family::StateSupplemental => Value::StateSupplemental(octet(d)?),
                        Family::State => unreachable_state(),
                    };
                    Some(())
                };
                let set_flags = |p: &mut PointValue, f: u8| {
                    p.flags = Flags(f);
                    if family == Family::State {
                        p.value = Value::State(p.flags.state());
                    }
                };
                if form == Form::Plain || (family == Family::State && form == Form::Q) {
                    if family == Family::State {
                        set_flags(&mut p, octet(d)?);
                    } else {
                        set_value(&mut p, d)?;
                    }
                    return Some(p);
                }
                let mut m = d.members()?;
                let mut next = || m.next().and_then(|r| r.ok());
                if family != Family::State {
                    set_value(&mut p, &next()?)?;
                }
                match form {
                    Form::QTimeTag | Form::Extended => {
                        p.timestamp.seconds = i32::try_from(next()?.as_i64()?).ok()?
                    }
                    Form::QTimeTagExtended => p.timestamp = ts_ext(&next()?)?,
                    _ => {}
                }
                set_flags(&mut p, octet(&next()?)?);
                if form == Form::Extended {
                    p.cov = u16::try_from(next()?.as_i64()?).ok()?;
                }
                if next().is_some() {
                    return None;
                }
            }
        }
        Some(p)
    }

    /// Decode a value of this type from an owned `Data` (a value from `MmsPdu::decode`); `None`
    /// if its shape does not match.
    pub fn decode_data(self, d: &Data) -> Option<PointValue> {
        let mut buf = Vec::new();
        d.encode(&mut Writer::new(&mut buf));
        let tlv = crate::ber::Reader::new(&buf).read().ok()?;
        self.decode(&DataRef::decode(&tlv).ok()?)
    }

    /// Guess a point type from an MMS type description (a client's view after
    /// GetVariableAccessAttributes): the first type whose description matches.
    pub fn from_type_description(t: &TypeDescription) -> Option<PointType> {
        PointType::all().find(|p| shape_eq(&p.type_description(), t))
    }
}

/// Structural equality of type descriptions; component names count when both sides have them
/// (peers may omit them, and without names `Data_DiscreteQ` and `Data_StateQTimeTag` look alike).
pub(crate) fn shape_eq(a: &TypeDescription, b: &TypeDescription) -> bool {
    match (a, b) {
        (
            TypeDescription::Structure { components: x, .. },
            TypeDescription::Structure { components: y, .. },
        ) => {
            x.len() == y.len()
                && x.iter().zip(y).all(|(p, q)| {
                    let names_agree = match (&p.name, &q.name) {
                        (Some(a), Some(b)) => a == b,
                        _ => true,
                    };
                    names_agree
                        && match (&p.type_spec, &q.type_spec) {
                            (
                                TypeSpecification::Description(p),
                                TypeSpecification::Description(q),
                            ) => shape_eq(p, q),
                            _ => false,
                        }
                })
        }
        _ => a == b,
    }
}

// Family::State never has a separate value component; the callers above never reach this.
fn unreachable_state() -> Value {
    Value::State(StateValue::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ber::Reader;

    fn sample(t: PointType) -> PointValue {
        let mut p = t.zero();
        p.value = match p.value {
            Value::Real(_) => Value::Real(-12.5),
            Value::State(_) => Value::State(StateValue::On),
            Value::Discrete(_) => Value::Discrete(-70000),
            Value::StateSupplemental(_) => Value::StateSupplemental(0xa5),
            Value::SingleEvent { .. } => Value::SingleEvent {
                flags: 0x81,
                operating_time: 42,
            },
            Value::PackedEvent { .. } => Value::PackedEvent {
                events: 3,
                flags: 0x40,
                operating_time: 7,
            },
        };
        p.flags = Flags(0b0010_0110);
        p.timestamp = Timestamp {
            seconds: 1_700_000_000,
            millis: 250,
        };
        p.cov = 9;
        p
    }

    #[test]
    fn every_type_round_trips_and_matches_its_description() {
        for t in PointType::all() {
            let v = sample(t);
            let mut buf = Vec::new();
            t.encode(&v, &mut Writer::new(&mut buf));
            let tlv = Reader::new(&buf).read().unwrap();
            let d = DataRef::decode(&tlv).unwrap();
            let back = t.decode(&d).unwrap_or_else(|| panic!("{}", t.name()));
            let owned = t.to_data(&v);
            assert!(t.type_description().matches(&owned), "{}", t.name());
            assert_eq!(t.decode_data(&owned), Some(back), "{}", t.name());
            assert_eq!(PointType::from_name(t.name()), Some(t));
            // What the form carries survives; the rest is dropped.
            assert_eq!(back.value, v.value, "{}", t.name());
            if let PointType::Indication(_, form) = t {
                let has_flags = form != Form::Plain || matches!(v.value, Value::State(_));
                if has_flags {
                    assert_eq!(back.wire_flags(), v.wire_flags(), "{}", t.name());
                }
                match form {
                    Form::QTimeTag => assert_eq!(back.timestamp.seconds, v.timestamp.seconds),
                    Form::Extended => assert_eq!(back.cov, 9),
                    Form::QTimeTagExtended => assert_eq!(back.timestamp, v.timestamp),
                    _ => {}
                }
            }
            assert_eq!(
                PointType::from_type_description(&t.type_description())
                    .map(|p| p.type_description()),
                Some(t.type_description())
            );
        }
    }

    #[test]
    fn real_q_time_tag_bytes() {
        let v = PointValue::real(1.0).with_flags(Flags(0x20)).at(Timestamp {
            seconds: 1,
            millis: 0,
        });
        let mut buf = Vec::new();
        PointType::Indication(Family::Real, Form::QTimeTag).encode(&v, &mut Writer::new(&mut buf));
        assert_eq!(
            buf,
            [
                0xa2, 0x0e, 0x87, 0x05, 0x08, 0x3f, 0x80, 0x00, 0x00, 0x85, 0x01, 0x01, 0x84, 0x02,
                0x00, 0x20
            ]
        );
    }

    #[test]
    fn wrong_shapes_are_refused() {
        let t = PointType::Indication(Family::Real, Form::Q);
        let mut buf = Vec::new();
        write::integer(&mut Writer::new(&mut buf), 5);
        let tlv = Reader::new(&buf).read().unwrap();
        assert_eq!(t.decode(&DataRef::decode(&tlv).unwrap()), None);
        assert!(!PointType::Indication(Family::Real, Form::QTimeTagExtended)
            .exists_in(Edition::V1996_08));
    }
}
