//! Variable access building blocks shared by Read, Write, InformationReport and named variable
//! lists (ISO 9506-2 §14.4).
//!
//! ```text
//! VariableAccessSpecification ::= CHOICE {
//!   listOfVariable   [0] IMPLICIT SEQUENCE OF SEQUENCE {
//!                        variableSpecification VariableSpecification,
//!                        alternateAccess [5] IMPLICIT AlternateAccess OPTIONAL },
//!   variableListName [1] ObjectName }
//! VariableSpecification ::= CHOICE { name [0] ObjectName, address [1], variableDescription [2],
//!                                    scatteredAccessDescription [3], invalidated [4] NULL }
//! AccessResult ::= CHOICE { failure [0] IMPLICIT DataAccessError, success Data }
//! ```

use alloc::vec::Vec;
use core::fmt;

use super::{explicit_inner, push_bounded, PduErrorKind, Res};
use crate::ber::{primitive, Class, Tag, Tlv, Writer};
use crate::mms::data::Data;
use crate::mms::object_name::ObjectName;
use crate::mms::DecodeLimits;

const TAG_LIST_OF_VARIABLE: Tag = Tag::context_cons(0);
const TAG_VARIABLE_LIST_NAME: Tag = Tag::context_cons(1);
const TAG_NAME: Tag = Tag::context_cons(0);
const TAG_ALTERNATE_ACCESS: Tag = Tag::context_cons(5);
const TAG_FAILURE: Tag = Tag::context(0);

/// Which variables a Read, Write or InformationReport is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VariableAccessSpecification {
    /// `[0]` listOfVariable.
    ListOfVariable(Vec<VariableSpec>),
    /// `[1]` variableListName: a named variable list (a TASE.2 data set).
    VariableListName(ObjectName),
}

/// One entry of a variable list: a variable by name.
///
/// Only the `name` form of VariableSpecification is supported; the address, variableDescription,
/// scatteredAccessDescription and invalidated forms make the whole PDU fail to decode with
/// [`PduErrorKind::Unsupported`] (answered with Reject invalid-argument): TASE.2 addresses every
/// object by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VariableSpec {
    /// The variable's name.
    pub name: ObjectName,
    /// The content octets of `[5] alternateAccess`, kept undecoded so a server can echo or refuse
    /// them; `None` when absent.
    pub alternate_access: Option<Vec<u8>>,
}

impl VariableSpec {
    /// A plain named variable.
    pub fn named(name: ObjectName) -> Self {
        VariableSpec {
            name,
            alternate_access: None,
        }
    }

    /// Decode the SEQUENCE element.
    pub(crate) fn decode(tlv: &Tlv<'_>) -> Res<Self> {
        if tlv.tag != Tag::SEQUENCE {
            return Err(PduErrorKind::Invalid(
                "variable list entry is not a SEQUENCE",
            ));
        }
        let mut r = tlv.reader()?;
        let spec = r.read()?;
        let name = match spec.tag {
            TAG_NAME => ObjectName::decode_explicit(&spec)?,
            t if t.class == Class::Context && (1..=4).contains(&t.number) => {
                return Err(PduErrorKind::Unsupported(
                    "variableSpecification other than name",
                ))
            }
            _ => return Err(PduErrorKind::Invalid("variableSpecification")),
        };
        let alternate_access = r.read_if(TAG_ALTERNATE_ACCESS)?.map(|t| t.content.to_vec());
        r.finish()?;
        Ok(VariableSpec {
            name,
            alternate_access,
        })
    }

    /// Append the SEQUENCE element.
    pub(crate) fn encode(&self, w: &mut Writer<'_>) {
        w.constructed(Tag::SEQUENCE, |w| {
            w.constructed(TAG_NAME, |w| self.name.encode(w));
            if let Some(a) = &self.alternate_access {
                w.tag(TAG_ALTERNATE_ACCESS);
                w.length(a.len());
                w.raw(a);
            }
        });
    }
}

/// Decode the content of a `SEQUENCE OF SEQUENCE { variableSpecification, alternateAccess }`.
pub(crate) fn decode_variable_list(tlv: &Tlv<'_>, limits: &DecodeLimits) -> Res<Vec<VariableSpec>> {
    let mut r = tlv.reader()?;
    let mut out = Vec::new();
    while let Some(t) = r.read_opt()? {
        push_bounded(&mut out, VariableSpec::decode(&t)?, limits)?;
    }
    Ok(out)
}

/// Append a `[tag] IMPLICIT SEQUENCE OF SEQUENCE { … }` variable list.
pub(crate) fn encode_variable_list(w: &mut Writer<'_>, tag: Tag, list: &[VariableSpec]) {
    w.constructed(tag, |w| list.iter().for_each(|v| v.encode(w)));
}

impl VariableAccessSpecification {
    /// Decode the CHOICE element (`a0` or `a1`).
    pub(crate) fn decode(tlv: &Tlv<'_>, limits: &DecodeLimits) -> Res<Self> {
        match tlv.tag {
            TAG_LIST_OF_VARIABLE => Ok(VariableAccessSpecification::ListOfVariable(
                decode_variable_list(tlv, limits)?,
            )),
            TAG_VARIABLE_LIST_NAME => Ok(VariableAccessSpecification::VariableListName(
                ObjectName::decode_explicit(tlv)?,
            )),
            _ => Err(PduErrorKind::Invalid("variableAccessSpecification")),
        }
    }

    /// Decode an explicitly tagged VariableAccessSpecification.
    pub(crate) fn decode_explicit(tlv: &Tlv<'_>, limits: &DecodeLimits) -> Res<Self> {
        Self::decode(&explicit_inner(tlv)?, limits)
    }

    /// Append the CHOICE element.
    pub fn encode(&self, w: &mut Writer<'_>) {
        match self {
            VariableAccessSpecification::ListOfVariable(l) => {
                encode_variable_list(w, TAG_LIST_OF_VARIABLE, l)
            }
            VariableAccessSpecification::VariableListName(n) => {
                w.constructed(TAG_VARIABLE_LIST_NAME, |w| n.encode(w))
            }
        }
    }
}

/// The result of accessing one variable.
#[derive(Clone, Debug, PartialEq)]
pub enum AccessResult {
    /// `[0]` failure.
    Failure(DataAccessError),
    /// success: the value.
    Success(Data),
}

impl AccessResult {
    /// Decode one AccessResult element.
    pub(crate) fn decode(tlv: &Tlv<'_>, limits: &DecodeLimits) -> Res<Self> {
        if tlv.tag == TAG_FAILURE {
            return Ok(AccessResult::Failure(DataAccessError::decode(tlv.content)?));
        }
        Ok(AccessResult::Success(Data::decode(tlv, limits)?))
    }

    /// Append the element.
    pub fn encode(&self, w: &mut Writer<'_>) {
        match self {
            AccessResult::Failure(e) => super::write_access_failure(w, *e),
            AccessResult::Success(d) => d.encode(w),
        }
    }
}

/// Decode a `[tag] IMPLICIT SEQUENCE OF AccessResult`.
pub(crate) fn decode_results(tlv: &Tlv<'_>, limits: &DecodeLimits) -> Res<Vec<AccessResult>> {
    let mut r = tlv.reader()?;
    let mut out = Vec::new();
    while let Some(t) = r.read_opt()? {
        push_bounded(&mut out, AccessResult::decode(&t, limits)?, limits)?;
    }
    Ok(out)
}

/// Append a `[tag] IMPLICIT SEQUENCE OF AccessResult`.
pub(crate) fn encode_results(w: &mut Writer<'_>, tag: Tag, results: &[AccessResult]) {
    w.constructed(tag, |w| results.iter().for_each(|r| r.encode(w)));
}

/// A DataAccessError code (ISO 9506-2 §14.4.6). Unknown codes survive decoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct DataAccessError(pub u8);

impl DataAccessError {
    /// object-invalidated.
    pub const OBJECT_INVALIDATED: Self = Self(0);
    /// hardware-fault.
    pub const HARDWARE_FAULT: Self = Self(1);
    /// temporarily-unavailable.
    pub const TEMPORARILY_UNAVAILABLE: Self = Self(2);
    /// object-access-denied.
    pub const OBJECT_ACCESS_DENIED: Self = Self(3);
    /// object-undefined.
    pub const OBJECT_UNDEFINED: Self = Self(4);
    /// invalid-address.
    pub const INVALID_ADDRESS: Self = Self(5);
    /// type-unsupported.
    pub const TYPE_UNSUPPORTED: Self = Self(6);
    /// type-inconsistent.
    pub const TYPE_INCONSISTENT: Self = Self(7);
    /// object-attribute-inconsistent.
    pub const OBJECT_ATTRIBUTE_INCONSISTENT: Self = Self(8);
    /// object-access-unsupported.
    pub const OBJECT_ACCESS_UNSUPPORTED: Self = Self(9);
    /// object-non-existent.
    pub const OBJECT_NON_EXISTENT: Self = Self(10);
    /// object-value-invalid.
    pub const OBJECT_VALUE_INVALID: Self = Self(11);

    fn decode(c: &[u8]) -> Res<Self> {
        let v = primitive::decode_i64(c)?;
        u8::try_from(v)
            .map(DataAccessError)
            .map_err(|_| crate::ber::Error::IntegerOverflow.into())
    }

    /// The ISO 9506-2 name, if the code is standard.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "object-invalidated",
            1 => "hardware-fault",
            2 => "temporarily-unavailable",
            3 => "object-access-denied",
            4 => "object-undefined",
            5 => "invalid-address",
            6 => "type-unsupported",
            7 => "type-inconsistent",
            8 => "object-attribute-inconsistent",
            9 => "object-access-unsupported",
            10 => "object-non-existent",
            11 => "object-value-invalid",
            _ => return None,
        })
    }
}

impl fmt::Display for DataAccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "data-access-error({})", self.0),
        }
    }
}

impl core::error::Error for DataAccessError {}
