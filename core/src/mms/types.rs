//! MMS type specifications (ISO 9506-2 §14.1; `mMSString` and `utc-time` from IEC 61850-8-1).
//!
//! ```text
//! TypeSpecification ::= CHOICE {
//!   typeName [0] ObjectName,
//!   array [1] IMPLICIT SEQUENCE { packed [0] BOOLEAN DEFAULT FALSE,
//!                                 numberOfElements [1] Unsigned32, elementType [2] TypeSpecification },
//!   structure [2] IMPLICIT SEQUENCE { packed [0] BOOLEAN DEFAULT FALSE,
//!       components [1] IMPLICIT SEQUENCE OF SEQUENCE {
//!           componentName [0] IMPLICIT Identifier OPTIONAL, componentType [1] TypeSpecification } },
//!   boolean [3] NULL, bit-string [4] Integer32, integer [5] Unsigned8, unsigned [6] Unsigned8,
//!   floating-point [7] IMPLICIT SEQUENCE { format-width Unsigned8, exponent-width Unsigned8 },
//!   octet-string [9] Integer32, visible-string [10] Integer32, generalized-time [11] NULL,
//!   binary-time [12] BOOLEAN, bcd [13] Unsigned8, objId [15] NULL,
//!   mMSString [16] Integer32, utc-time [17] NULL }
//! ```
//! String and bit-string sizes: a negative value `-n` means "variable length, at most `n`".
//! Decode errors are reported as [`DataError`] (the same failure classes as for `Data`).

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use super::data::{BinaryTime, BitString, Data, DataError, Float, UtcTime};
use super::object_name::{identifier, ObjectName};
use super::DecodeLimits;
use crate::ber::{self, primitive, Class, ObjectIdentifier, Tag, Tlv, Writer};

const TAG_TYPE_NAME: Tag = Tag::context_cons(0);

/// A type: by name or by description.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TypeSpecification {
    /// `[0]` a named type (cannot be resolved by this codec).
    TypeName(ObjectName),
    /// An inline description.
    Description(TypeDescription),
}

/// An MMS type description.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TypeDescription {
    /// `[1]` array.
    Array {
        /// Packed encoding requested (DEFAULT FALSE).
        packed: bool,
        /// Number of elements.
        number_of_elements: u32,
        /// Element type.
        element_type: Box<TypeSpecification>,
    },
    /// `[2]` structure.
    Structure {
        /// Packed encoding requested (DEFAULT FALSE).
        packed: bool,
        /// Components in order.
        components: Vec<StructComponent>,
    },
    /// `[3]` BOOLEAN.
    Boolean,
    /// `[4]` BIT STRING of this many bits; negative: variable, at most `-n`.
    BitString(i32),
    /// `[5]` INTEGER of this many bits (8, 16, 32, 64).
    Integer(u8),
    /// `[6]` unsigned INTEGER of this many bits.
    Unsigned(u8),
    /// `[7]` floating point (IEEE 754 single: 32/8, double: 64/11).
    FloatingPoint {
        /// Total bits of the number (sign, exponent and fraction).
        format_width: u8,
        /// Bits of the exponent.
        exponent_width: u8,
    },
    /// `[9]` OCTET STRING; size as for `BitString`.
    OctetString(i32),
    /// `[10]` VisibleString; size as for `BitString`.
    VisibleString(i32),
    /// `[11]` GeneralizedTime.
    GeneralizedTime,
    /// `[12]` binary-time; true: six-octet form with the date.
    BinaryTime(bool),
    /// `[13]` BCD with this many digits.
    Bcd(u8),
    /// `[15]` OBJECT IDENTIFIER.
    ObjId,
    /// `[16]` MMSString; size as for `BitString`.
    MmsString(i32),
    /// `[17]` UtcTime.
    UtcTime,
}

/// One component of a structure type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StructComponent {
    /// `componentName`, if given.
    pub name: Option<String>,
    /// `componentType`.
    pub type_spec: TypeSpecification,
}

impl TypeSpecification {
    /// Decode the CHOICE element.
    pub fn decode(tlv: &Tlv<'_>, limits: &DecodeLimits) -> Result<Self, DataError> {
        Self::decode_at(tlv, limits, 0)
    }

    fn decode_at(tlv: &Tlv<'_>, limits: &DecodeLimits, depth: u8) -> Result<Self, DataError> {
        if tlv.tag == TAG_TYPE_NAME {
            return Ok(TypeSpecification::TypeName(ObjectName::decode_explicit(
                tlv,
            )?));
        }
        TypeDescription::decode_at(tlv, limits, depth).map(TypeSpecification::Description)
    }

    /// Decode an explicitly tagged TypeSpecification (`[n] TypeSpecification`).
    pub(crate) fn decode_explicit(
        tlv: &Tlv<'_>,
        limits: &DecodeLimits,
        depth: u8,
    ) -> Result<Self, DataError> {
        let mut r = tlv.reader()?;
        let t = Self::decode_at(&r.read()?, limits, depth)?;
        r.finish()?;
        Ok(t)
    }

    /// Append the CHOICE element.
    pub fn encode(&self, w: &mut Writer<'_>) {
        match self {
            TypeSpecification::TypeName(n) => w.constructed(TAG_TYPE_NAME, |w| n.encode(w)),
            TypeSpecification::Description(d) => d.encode(w),
        }
    }

    /// Whether `data` conforms; a named type cannot be resolved here and accepts anything.
    pub fn matches(&self, data: &Data) -> bool {
        match self {
            TypeSpecification::TypeName(_) => true,
            TypeSpecification::Description(d) => d.matches(data),
        }
    }

    /// Default value; a named type yields an empty structure.
    pub fn default_value(&self) -> Data {
        match self {
            TypeSpecification::TypeName(_) => Data::Structure(Vec::new()),
            TypeSpecification::Description(d) => d.default_value(),
        }
    }
}

fn small<T: TryFrom<i64>>(c: &[u8]) -> Result<T, ber::Error> {
    T::try_from(primitive::decode_i64(c)?).map_err(|_| ber::Error::IntegerOverflow)
}

fn null(c: &[u8]) -> Result<(), ber::Error> {
    if c.is_empty() {
        Ok(())
    } else {
        Err(ber::Error::InvalidValue)
    }
}

impl TypeDescription {
    /// Decode the CHOICE element (any alternative but `[0] typeName`).
    pub fn decode(tlv: &Tlv<'_>, limits: &DecodeLimits) -> Result<Self, DataError> {
        Self::decode_at(tlv, limits, 0)
    }

    fn decode_at(tlv: &Tlv<'_>, limits: &DecodeLimits, depth: u8) -> Result<Self, DataError> {
        let t = tlv.tag;
        if t.class != Class::Context {
            return Err(DataError::UnknownTag(t));
        }
        if t.constructed {
            if !matches!(t.number, 1 | 2 | 7) {
                return Err(DataError::UnknownTag(t));
            }
            let mut r = tlv.reader()?;
            if t.number == 7 {
                let format_width = small(r.expect(Tag::INTEGER)?.content)?;
                let exponent_width = small(r.expect(Tag::INTEGER)?.content)?;
                r.finish()?;
                return Ok(TypeDescription::FloatingPoint {
                    format_width,
                    exponent_width,
                });
            }
            if depth >= limits.max_data_depth {
                return Err(DataError::TooDeep);
            }
            let packed = match r.read_if(Tag::context(0))? {
                Some(p) => primitive::decode_bool(p.content)?,
                None => false,
            };
            if t.number == 1 {
                let n = r.expect(Tag::context(1))?;
                let number_of_elements = u32::try_from(primitive::decode_u64(n.content)?)
                    .map_err(|_| ber::Error::IntegerOverflow)?;
                let et = r.expect(Tag::context_cons(2))?;
                let element_type =
                    Box::new(TypeSpecification::decode_explicit(&et, limits, depth + 1)?);
                r.finish()?;
                return Ok(TypeDescription::Array {
                    packed,
                    number_of_elements,
                    element_type,
                });
            }
            let mut list = r.expect(Tag::context_cons(1))?.reader()?;
            r.finish()?;
            let mut components = Vec::new();
            while let Some(c) = list.read_opt()? {
                if components.len() >= limits.max_list_len {
                    return Err(DataError::TooManyElements);
                }
                if c.tag != Tag::SEQUENCE {
                    return Err(DataError::UnknownTag(c.tag));
                }
                let mut cr = c.reader()?;
                let name = match cr.read_if(Tag::context(0))? {
                    Some(n) => Some(identifier(n.content)?),
                    None => None,
                };
                let ct = cr.expect(Tag::context_cons(1))?;
                let type_spec = TypeSpecification::decode_explicit(&ct, limits, depth + 1)?;
                cr.finish()?;
                components.push(StructComponent { name, type_spec });
            }
            return Ok(TypeDescription::Structure { packed, components });
        }
        let c = tlv.content;
        Ok(match t.number {
            3 => {
                null(c)?;
                TypeDescription::Boolean
            }
            4 => TypeDescription::BitString(small(c)?),
            5 => TypeDescription::Integer(small(c)?),
            6 => TypeDescription::Unsigned(small(c)?),
            9 => TypeDescription::OctetString(small(c)?),
            10 => TypeDescription::VisibleString(small(c)?),
            11 => {
                null(c)?;
                TypeDescription::GeneralizedTime
            }
            12 => TypeDescription::BinaryTime(primitive::decode_bool(c)?),
            13 => TypeDescription::Bcd(small(c)?),
            15 => {
                null(c)?;
                TypeDescription::ObjId
            }
            16 => TypeDescription::MmsString(small(c)?),
            17 => {
                null(c)?;
                TypeDescription::UtcTime
            }
            _ => return Err(DataError::UnknownTag(t)),
        })
    }

    /// Append the CHOICE element.
    pub fn encode(&self, w: &mut Writer<'_>) {
        match self {
            TypeDescription::Array {
                packed,
                number_of_elements,
                element_type,
            } => w.constructed(Tag::context_cons(1), |w| {
                if *packed {
                    w.boolean(Tag::context(0), true);
                }
                w.unsigned(Tag::context(1), u64::from(*number_of_elements));
                w.constructed(Tag::context_cons(2), |w| element_type.encode(w));
            }),
            TypeDescription::Structure { packed, components } => {
                w.constructed(Tag::context_cons(2), |w| {
                    if *packed {
                        w.boolean(Tag::context(0), true);
                    }
                    w.constructed(Tag::context_cons(1), |w| {
                        for c in components {
                            w.constructed(Tag::SEQUENCE, |w| {
                                if let Some(n) = &c.name {
                                    w.primitive(Tag::context(0), n.as_bytes());
                                }
                                w.constructed(Tag::context_cons(1), |w| c.type_spec.encode(w));
                            });
                        }
                    });
                })
            }
            TypeDescription::Boolean => w.null(Tag::context(3)),
            TypeDescription::BitString(n) => w.integer(Tag::context(4), i64::from(*n)),
            TypeDescription::Integer(n) => w.integer(Tag::context(5), i64::from(*n)),
            TypeDescription::Unsigned(n) => w.integer(Tag::context(6), i64::from(*n)),
            TypeDescription::FloatingPoint {
                format_width,
                exponent_width,
            } => w.constructed(Tag::context_cons(7), |w| {
                w.integer(Tag::INTEGER, i64::from(*format_width));
                w.integer(Tag::INTEGER, i64::from(*exponent_width));
            }),
            TypeDescription::OctetString(n) => w.integer(Tag::context(9), i64::from(*n)),
            TypeDescription::VisibleString(n) => w.integer(Tag::context(10), i64::from(*n)),
            TypeDescription::GeneralizedTime => w.null(Tag::context(11)),
            TypeDescription::BinaryTime(d) => w.boolean(Tag::context(12), *d),
            TypeDescription::Bcd(n) => w.integer(Tag::context(13), i64::from(*n)),
            TypeDescription::ObjId => w.null(Tag::context(15)),
            TypeDescription::MmsString(n) => w.integer(Tag::context(16), i64::from(*n)),
            TypeDescription::UtcTime => w.null(Tag::context(17)),
        }
    }

    /// Whether `data` conforms: the same kind and shape (array length, structure component count,
    /// recursively), integers within the declared width, a fixed-size bit string of exactly that
    /// size, variable bit strings and all strings within their bound (a positive string size is
    /// taken as a bound too: peers write shorter values into fixed-size strings), floats of the
    /// declared exponent width, binary-time with or without the date as declared.
    pub fn matches(&self, data: &Data) -> bool {
        fn within(len: usize, n: i32) -> bool {
            len <= n.unsigned_abs() as usize
        }
        match (self, data) {
            (
                TypeDescription::Array {
                    number_of_elements,
                    element_type,
                    ..
                },
                Data::Array(v),
            ) => {
                v.len() == *number_of_elements as usize && v.iter().all(|d| element_type.matches(d))
            }
            (TypeDescription::Structure { components, .. }, Data::Structure(v)) => {
                v.len() == components.len()
                    && components
                        .iter()
                        .zip(v)
                        .all(|(c, d)| c.type_spec.matches(d))
            }
            (TypeDescription::Boolean, Data::Boolean(_)) => true,
            (TypeDescription::BitString(n), Data::BitString(b)) => {
                if *n >= 0 {
                    b.bits == *n as usize
                } else {
                    within(b.bits, *n)
                }
            }
            (TypeDescription::Integer(bits), Data::Integer(v)) => {
                *bits == 0 || *bits >= 64 || {
                    let half = 1i64 << (bits - 1);
                    (-half..half).contains(v)
                }
            }
            (TypeDescription::Unsigned(bits), Data::Unsigned(v)) => {
                *bits == 0 || *bits >= 64 || *v < (1u64 << bits)
            }
            (TypeDescription::FloatingPoint { exponent_width, .. }, Data::Float(f)) => matches!(
                (exponent_width, f),
                (8, Float::F32(_)) | (11, Float::F64(_))
            ),
            (TypeDescription::OctetString(n), Data::OctetString(o)) => within(o.len(), *n),
            (TypeDescription::VisibleString(n), Data::VisibleString(s)) => within(s.len(), *n),
            (TypeDescription::MmsString(n), Data::MmsString(s)) => within(s.chars().count(), *n),
            (TypeDescription::GeneralizedTime, Data::GeneralizedTime(_)) => true,
            (TypeDescription::BinaryTime(date), Data::BinaryTime(t)) => {
                t.days_since_1984.is_some() == *date
            }
            (TypeDescription::Bcd(digits), Data::Bcd(v)) => {
                *v >= 0 && (*digits >= 19 || *v < 10i64.pow(u32::from(*digits)))
            }
            (TypeDescription::ObjId, Data::ObjectId(_)) => true,
            (TypeDescription::UtcTime, Data::UtcTime(_)) => true,
            _ => false,
        }
    }

    /// The default value of this type: zeros, false, empty variable-size strings, zero-filled
    /// fixed-size octet and bit strings, arrays of default elements, OID `0.0`.
    pub fn default_value(&self) -> Data {
        match self {
            TypeDescription::Array {
                number_of_elements,
                element_type,
                ..
            } => Data::Array(
                (0..*number_of_elements)
                    .map(|_| element_type.default_value())
                    .collect(),
            ),
            TypeDescription::Structure { components, .. } => Data::Structure(
                components
                    .iter()
                    .map(|c| c.type_spec.default_value())
                    .collect(),
            ),
            TypeDescription::Boolean => Data::Boolean(false),
            TypeDescription::BitString(n) => {
                Data::BitString(BitString::with_len(usize::try_from(*n).unwrap_or(0)))
            }
            TypeDescription::Integer(_) => Data::Integer(0),
            TypeDescription::Unsigned(_) => Data::Unsigned(0),
            TypeDescription::FloatingPoint { exponent_width, .. } => {
                if *exponent_width == 11 {
                    Data::Float(Float::F64(0.0))
                } else {
                    Data::Float(Float::F32(0.0))
                }
            }
            TypeDescription::OctetString(n) => {
                Data::OctetString(alloc::vec![0; usize::try_from(*n).unwrap_or(0)])
            }
            TypeDescription::VisibleString(_) => Data::VisibleString(String::new()),
            TypeDescription::GeneralizedTime => Data::GeneralizedTime(String::new()),
            TypeDescription::BinaryTime(date) => Data::BinaryTime(BinaryTime {
                millis_since_midnight: 0,
                days_since_1984: date.then_some(0),
            }),
            TypeDescription::Bcd(_) => Data::Bcd(0),
            // `0.0` is a constant, valid OID: this cannot fail.
            TypeDescription::ObjId => {
                Data::ObjectId(ObjectIdentifier::from_arcs(&[0, 0]).expect("0.0 is a valid OID"))
            }
            TypeDescription::MmsString(_) => Data::MmsString(String::new()),
            TypeDescription::UtcTime => Data::UtcTime(UtcTime {
                seconds: 0,
                fraction: 0,
                quality: 0,
            }),
        }
    }
}

#[cfg(test)]
mod tests;
