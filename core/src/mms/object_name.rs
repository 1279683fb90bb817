//! MMS `ObjectName` (ISO 9506-2 §7.5.1).
//!
//! ```text
//! ObjectName ::= CHOICE {
//!   vmd-specific    [0] IMPLICIT Identifier,
//!   domain-specific [1] IMPLICIT SEQUENCE { domainId Identifier, itemId Identifier },
//!   aa-specific     [2] IMPLICIT Identifier }
//! ```

use alloc::string::String;
use core::fmt;

use crate::ber::{self, Tag, Tlv, Writer};

/// `Identifier ::= VisibleString` as it appears untagged inside domain-specific names and lists.
pub(crate) const TAG_IDENTIFIER: Tag = Tag::universal(26);

const TAG_VMD: Tag = Tag::context(0);
const TAG_DOMAIN: Tag = Tag::context_cons(1);
const TAG_AA: Tag = Tag::context(2);

/// The name of an MMS object and its scope.
#[allow(clippy::derive_ord_xor_partial_ord)]
#[derive(Clone, Debug, PartialEq, Eq, Hash, Ord, serde::Serialize, serde::Deserialize)]
pub enum ObjectName {
    /// `[0]` a VMD-specific name (TASE.2 VCC scope).
    VmdSpecific(String),
    /// `[1]` a name inside a domain (TASE.2 ICC scope).
    DomainSpecific {
        /// The domain.
        domain: String,
        /// The item inside the domain.
        item: String,
    },
    /// `[2]` an association-specific name.
    AaSpecific(String),
}

// `partial_cmp` through the derived `Ord`: a derived `partial_cmp` is a second copy of the
// same comparison in every build that links both. The lint guards against two orders; this is
// one by construction (the allow is on the type, where the lint looks).
impl PartialOrd for ObjectName {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl ObjectName {
    /// A domain-specific name.
    pub fn domain(domain: impl Into<String>, item: impl Into<String>) -> Self {
        ObjectName::DomainSpecific {
            domain: domain.into(),
            item: item.into(),
        }
    }

    /// A VMD-specific name.
    pub fn vmd(item: impl Into<String>) -> Self {
        ObjectName::VmdSpecific(item.into())
    }

    /// The item part of the name, whatever the scope.
    pub fn item(&self) -> &str {
        match self {
            ObjectName::VmdSpecific(s) | ObjectName::AaSpecific(s) => s,
            ObjectName::DomainSpecific { item, .. } => item,
        }
    }

    /// Decode the CHOICE element itself (`80`, `a1` or `82`).
    pub fn decode(tlv: &Tlv<'_>) -> Result<Self, ber::Error> {
        match tlv.tag {
            TAG_VMD => Ok(ObjectName::VmdSpecific(identifier(tlv.content)?)),
            TAG_AA => Ok(ObjectName::AaSpecific(identifier(tlv.content)?)),
            TAG_DOMAIN => {
                let mut r = tlv.reader()?;
                let domain = identifier(r.expect(TAG_IDENTIFIER)?.content)?;
                let item = identifier(r.expect(TAG_IDENTIFIER)?.content)?;
                r.finish()?;
                Ok(ObjectName::DomainSpecific { domain, item })
            }
            found => Err(ber::Error::UnexpectedTag {
                expected: TAG_DOMAIN,
                found,
            }),
        }
    }

    /// Decode an explicitly tagged ObjectName (`[n] ObjectName`): the wrapper must hold exactly one.
    pub(crate) fn decode_explicit(tlv: &Tlv<'_>) -> Result<Self, ber::Error> {
        let mut r = tlv.reader()?;
        let name = ObjectName::decode(&r.read()?)?;
        r.finish()?;
        Ok(name)
    }

    /// Append the CHOICE element.
    pub fn encode(&self, w: &mut Writer<'_>) {
        match self {
            ObjectName::VmdSpecific(s) => w.primitive(TAG_VMD, s.as_bytes()),
            ObjectName::AaSpecific(s) => w.primitive(TAG_AA, s.as_bytes()),
            ObjectName::DomainSpecific { domain, item } => w.constructed(TAG_DOMAIN, |w| {
                w.primitive(TAG_IDENTIFIER, domain.as_bytes());
                w.primitive(TAG_IDENTIFIER, item.as_bytes());
            }),
        }
    }
}

impl fmt::Display for ObjectName {
    /// `item`, `domain/item` or `@aa/item`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ObjectName::VmdSpecific(s) => f.write_str(s),
            ObjectName::DomainSpecific { domain, item } => write!(f, "{domain}/{item}"),
            ObjectName::AaSpecific(s) => write!(f, "@aa/{s}"),
        }
    }
}

/// Decode an `Identifier` (VisibleString) content. Identifiers must be UTF-8 (they are ASCII by
/// ISO 9506-2 §7.5.1); anything else is refused rather than altered.
pub(crate) fn identifier(c: &[u8]) -> Result<String, ber::Error> {
    core::str::from_utf8(c)
        .map(String::from)
        .map_err(|_| ber::Error::InvalidValue)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ber::Reader;
    use alloc::vec::Vec;

    #[test]
    fn the_order_is_the_derived_one() {
        // The same shape with the derived order.
        #[derive(PartialEq, Eq, PartialOrd, Ord)]
        enum Derived<'a> {
            Vmd(&'a str),
            Domain { domain: &'a str, item: &'a str },
            Aa(&'a str),
        }
        fn derived(n: &ObjectName) -> Derived<'_> {
            match n {
                ObjectName::VmdSpecific(s) => Derived::Vmd(s),
                ObjectName::DomainSpecific { domain, item } => Derived::Domain { domain, item },
                ObjectName::AaSpecific(s) => Derived::Aa(s),
            }
        }
        let mut names = Vec::new();
        for a in ["", "A", "B", "AB"] {
            names.push(ObjectName::vmd(a));
            names.push(ObjectName::AaSpecific(a.into()));
            for b in ["", "A", "B", "AB"] {
                names.push(ObjectName::domain(a, b));
            }
        }
        for x in &names {
            for y in &names {
                assert_eq!(x.cmp(y), derived(x).cmp(&derived(y)), "{x:?} {y:?}");
                assert_eq!(x.partial_cmp(y), Some(x.cmp(y)));
            }
        }
    }

    #[test]
    fn domain_specific_name_matches_libiec61850_bytes() {
        let bytes = hex("a1111a04494343311a094747494f3124445331");
        let tlv = Reader::new(&bytes).read().unwrap();
        let n = ObjectName::decode(&tlv).unwrap();
        assert_eq!(n, ObjectName::domain("ICC1", "GGIO1$DS1"));
        let mut out = Vec::new();
        n.encode(&mut Writer::new(&mut out));
        assert_eq!(out, bytes);
    }

    #[test]
    fn vmd_and_aa_names_round_trip() {
        for n in [
            ObjectName::vmd("TASE2_Version"),
            ObjectName::AaSpecific("IM_Transfer_Set".into()),
        ] {
            let mut out = Vec::new();
            n.encode(&mut Writer::new(&mut out));
            let tlv = Reader::new(&out).read().unwrap();
            assert_eq!(ObjectName::decode(&tlv).unwrap(), n);
        }
    }

    #[test]
    fn domain_name_with_missing_item_is_an_error() {
        let bytes = hex("a1061a0449434331");
        let tlv = Reader::new(&bytes).read().unwrap();
        assert!(ObjectName::decode(&tlv).is_err());
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }
}
