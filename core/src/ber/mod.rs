//! Basic Encoding Rules (ITU-T X.690): the codec under presentation, ACSE and MMS.
//!
//! [`Reader`] walks encoded elements without allocating; [`Writer`] appends minimal definite-length
//! encodings to a caller-owned `Vec<u8>`. Content codecs for the primitive types are in [`primitive`].

mod oid;
pub mod primitive;
mod reader;
mod writer;

pub use oid::ObjectIdentifier;
pub use reader::{Reader, Tlv, DEFAULT_MAX_DEPTH};
pub use writer::Writer;

use core::fmt;

/// Tag class (X.690 §8.1.2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Class {
    /// Universal types (INTEGER, SEQUENCE, …).
    Universal = 0,
    /// Application-wide tags (ACSE APDUs, presentation CP-type components).
    Application = 1,
    /// Context-specific tags (most MMS fields).
    Context = 2,
    /// Private tags.
    Private = 3,
}

impl Class {
    const fn from_bits(b: u8) -> Class {
        match b & 3 {
            0 => Class::Universal,
            1 => Class::Application,
            2 => Class::Context,
            _ => Class::Private,
        }
    }
}

/// A BER identifier: class, primitive or constructed form, and tag number.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tag {
    /// The class.
    pub class: Class,
    /// Constructed (true) or primitive form.
    pub constructed: bool,
    /// The tag number (any size; numbers ≥ 31 use the high-tag-number form).
    pub number: u32,
}

impl Tag {
    /// A universal primitive tag.
    pub const fn universal(number: u32) -> Tag {
        Tag {
            class: Class::Universal,
            constructed: false,
            number,
        }
    }
    /// A context-specific primitive tag `[n]`.
    pub const fn context(number: u32) -> Tag {
        Tag {
            class: Class::Context,
            constructed: false,
            number,
        }
    }
    /// A context-specific constructed tag `[n]`.
    pub const fn context_cons(number: u32) -> Tag {
        Tag {
            class: Class::Context,
            constructed: true,
            number,
        }
    }
    /// An application primitive tag `[APPLICATION n]`.
    pub const fn application(number: u32) -> Tag {
        Tag {
            class: Class::Application,
            constructed: false,
            number,
        }
    }
    /// An application constructed tag `[APPLICATION n]`.
    pub const fn application_cons(number: u32) -> Tag {
        Tag {
            class: Class::Application,
            constructed: true,
            number,
        }
    }
    /// The same class and number in constructed form.
    pub const fn into_constructed(self) -> Tag {
        Tag {
            constructed: true,
            ..self
        }
    }

    /// BOOLEAN.
    pub const BOOLEAN: Tag = Tag::universal(1);
    /// INTEGER.
    pub const INTEGER: Tag = Tag::universal(2);
    /// BIT STRING.
    pub const BIT_STRING: Tag = Tag::universal(3);
    /// OCTET STRING.
    pub const OCTET_STRING: Tag = Tag::universal(4);
    /// NULL.
    pub const NULL: Tag = Tag::universal(5);
    /// OBJECT IDENTIFIER.
    pub const OID: Tag = Tag::universal(6);
    /// EXTERNAL (constructed).
    pub const EXTERNAL: Tag = Tag {
        class: Class::Universal,
        constructed: true,
        number: 8,
    };
    /// SEQUENCE / SEQUENCE OF (constructed).
    pub const SEQUENCE: Tag = Tag {
        class: Class::Universal,
        constructed: true,
        number: 16,
    };
    /// GraphicString.
    pub const GRAPHIC_STRING: Tag = Tag::universal(25);
}

impl fmt::Display for Tag {
    /// ASN.1 notation: `[APPLICATION 1 cons]`, `[3]` (context-specific), `[UNIVERSAL 16 cons]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let class = match self.class {
            Class::Universal => "UNIVERSAL ",
            Class::Application => "APPLICATION ",
            Class::Context => "",
            Class::Private => "PRIVATE ",
        };
        let form = if self.constructed { " cons" } else { "" };
        write!(f, "[{class}{}{form}]", self.number)
    }
}

/// Why BER input was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The input ended inside an element.
    UnexpectedEnd,
    /// A length runs past its enclosing element or input, or does not fit in memory.
    LengthOverflow,
    /// The reserved length form, or the indefinite form on a primitive element.
    InvalidLength,
    /// A malformed high-tag-number identifier.
    InvalidTag,
    /// Nesting beyond the configured depth limit.
    TooDeep,
    /// A different element than the grammar allows here.
    UnexpectedTag {
        /// What the grammar wanted.
        expected: Tag,
        /// What came.
        found: Tag,
    },
    /// A primitive form where a constructed one is required.
    NotConstructed,
    /// A constructed form where a primitive one is required.
    Constructed,
    /// Content octets that are not a valid value of their type.
    InvalidValue,
    /// An integer too large for its target type.
    IntegerOverflow,
    /// Bytes left over after the last element.
    TrailingData,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::UnexpectedEnd => f.write_str("input ends inside a BER element"),
            Error::LengthOverflow => f.write_str("BER length runs past the enclosing data"),
            Error::InvalidLength => f.write_str("invalid BER length form"),
            Error::InvalidTag => f.write_str("malformed BER identifier"),
            Error::TooDeep => f.write_str("BER nesting deeper than the configured limit"),
            Error::UnexpectedTag { expected, found } => {
                write!(f, "expected BER tag {expected}, found {found}")
            }
            Error::NotConstructed => {
                f.write_str("primitive BER element where constructed required")
            }
            Error::Constructed => f.write_str("constructed BER element where primitive required"),
            Error::InvalidValue => f.write_str("invalid BER content"),
            Error::IntegerOverflow => f.write_str("BER integer out of range"),
            Error::TrailingData => f.write_str("trailing bytes after BER element"),
        }
    }
}

impl core::error::Error for Error {}

#[cfg(test)]
mod tests;
