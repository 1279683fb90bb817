//! OBJECT IDENTIFIER values (X.690 §8.19).

use alloc::vec::Vec;
use core::fmt;
use core::str::FromStr;

use super::Error;

/// Most arcs an OID may have. AP-titles and syntax names have 4 to 7; the bound stops a hostile peer
/// from making us hold an arbitrarily long one.
const MAX_ARCS: usize = 32;

/// An object identifier kept in its encoded content form, so comparing a received OID against a known
/// one is a byte comparison and decoding copies nothing but the bytes.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct ObjectIdentifier(Vec<u8>);

impl ObjectIdentifier {
    /// Build from arcs, e.g. `&[1, 0, 9506, 2, 1]`. Needs at least two arcs, the first 0..=2 and,
    /// below 2, a second arc under 40.
    pub fn from_arcs(arcs: &[u32]) -> Result<Self, Error> {
        if arcs.len() < 2 || arcs.len() > MAX_ARCS || arcs[0] > 2 || (arcs[0] < 2 && arcs[1] >= 40)
        {
            return Err(Error::InvalidValue);
        }
        let mut out = Vec::with_capacity(arcs.len() + 4);
        let first = u64::from(arcs[0]) * 40 + u64::from(arcs[1]);
        push_arc(&mut out, first);
        for &a in &arcs[2..] {
            push_arc(&mut out, u64::from(a));
        }
        Ok(ObjectIdentifier(out))
    }

    /// Take OID content octets as received, after checking they are well formed.
    pub fn from_content(content: &[u8]) -> Result<Self, Error> {
        validate(content)?;
        Ok(ObjectIdentifier(content.to_vec()))
    }

    /// The encoded content octets.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The arcs, decoded.
    pub fn arcs(&self) -> impl Iterator<Item = u64> + '_ {
        let mut sub = self
            .0
            .split_inclusive(|b| b & 0x80 == 0)
            .map(|g| g.iter().fold(0u64, |v, &b| (v << 7) | u64::from(b & 0x7f)));
        let first = sub.next().unwrap_or(0);
        let (a, b) = if first < 80 {
            (first / 40, first % 40)
        } else {
            (2, first - 80)
        };
        [a, b].into_iter().chain(sub)
    }
}

fn push_arc(out: &mut Vec<u8>, v: u64) {
    let groups = ((64 - v.leading_zeros()).max(1)).div_ceil(7);
    for i in (0..groups).rev() {
        let b = ((v >> (7 * i)) & 0x7f) as u8;
        out.push(if i == 0 { b } else { b | 0x80 });
    }
}

fn validate(content: &[u8]) -> Result<(), Error> {
    if content.is_empty() || content.last().is_some_and(|b| b & 0x80 != 0) {
        return Err(Error::InvalidValue);
    }
    let mut arcs = 0;
    let mut start = true;
    let mut width = 0;
    for &b in content {
        // X.690 §8.19.2: each subidentifier is minimal: no leading 0x80 octet.
        if start && b == 0x80 {
            return Err(Error::InvalidValue);
        }
        width += 1;
        if width > 9 {
            return Err(Error::IntegerOverflow);
        }
        start = b & 0x80 == 0;
        if start {
            arcs += 1;
            width = 0;
        }
    }
    if arcs + 1 > MAX_ARCS {
        return Err(Error::InvalidValue);
    }
    Ok(())
}

impl FromStr for ObjectIdentifier {
    type Err = Error;
    /// Parse dotted notation, e.g. `"1.1.1.999"`.
    fn from_str(s: &str) -> Result<Self, Error> {
        let mut arcs = [0u32; MAX_ARCS];
        let mut n = 0;
        // Bytes, not `str::split` and `u32::from_str`: the same grammar (an optional `+`, then
        // decimal digits) without linking the char searcher and the integer parser.
        for part in s.as_bytes().split(|b| *b == b'.') {
            if n == MAX_ARCS {
                return Err(Error::InvalidValue);
            }
            arcs[n] = decimal_arc(part).ok_or(Error::InvalidValue)?;
            n += 1;
        }
        Self::from_arcs(&arcs[..n])
    }
}

/// One arc in decimal, as `u32::from_str` reads it.
fn decimal_arc(part: &[u8]) -> Option<u32> {
    let digits = part.strip_prefix(b"+").unwrap_or(part);
    if digits.is_empty() {
        return None;
    }
    let mut v: u32 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u32::from(c - b'0'))?;
    }
    Some(v)
}

impl fmt::Display for ObjectIdentifier {
    // The arcs as `arcs` decodes them (a trailing unfinished group counts, no group at all is
    // `0.0`), by one loop over the octets rather than its chain of iterator adapters.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        let mut arc = |f: &mut fmt::Formatter<'_>, v: u64| {
            if core::mem::take(&mut first) {
                let (a, b) = if v < 80 {
                    (v / 40, v % 40)
                } else {
                    (2, v - 80)
                };
                write!(f, "{a}.{b}")
            } else {
                write!(f, ".{v}")
            }
        };
        let mut v = 0u64;
        let mut open = false;
        for &b in &self.0 {
            v = (v << 7) | u64::from(b & 0x7f);
            open = true;
            if b & 0x80 == 0 {
                arc(f, v)?;
                v = 0;
                open = false;
            }
        }
        if open || self.0.is_empty() {
            arc(f, v)?;
        }
        Ok(())
    }
}

impl fmt::Debug for ObjectIdentifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Oid({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn the_text_is_the_arcs_joined_by_dots() {
        let octets = [0x00, 0x01, 0x27, 0x28, 0x4f, 0x50, 0x7f, 0x80, 0x81, 0xff];
        let mut contents = alloc::vec![alloc::vec![]];
        for _ in 0..3 {
            let mut longer = Vec::new();
            for c in &contents {
                for &b in &octets {
                    let mut c = c.clone();
                    c.push(b);
                    longer.push(c);
                }
            }
            contents.extend(longer);
        }
        contents.sort();
        contents.dedup();
        for c in contents {
            let oid = ObjectIdentifier(c);
            let mut want = alloc::string::String::new();
            for (i, a) in oid.arcs().enumerate() {
                if i > 0 {
                    want.push('.');
                }
                want.push_str(&a.to_string());
            }
            assert_eq!(oid.to_string(), want, "{:?}", oid.0);
        }
    }

    #[test]
    fn arcs_read_as_u32_from_str_reads_them() {
        for part in [
            "",
            "0",
            "7",
            "+7",
            "+",
            "-1",
            "007",
            "4294967295",
            "4294967296",
            "99999999999",
            "1a",
            " 1",
            "1 ",
            "++1",
            "١",
        ] {
            assert_eq!(
                decimal_arc(part.as_bytes()),
                part.parse::<u32>().ok(),
                "{part:?}"
            );
        }
    }

    #[test]
    fn dotted_notation_round_trips_and_bad_forms_are_errors() {
        let oid: ObjectIdentifier = "1.3.9999.1.7".parse().unwrap();
        assert_eq!(oid.to_string(), "1.3.9999.1.7");
        for bad in ["", "1.", ".1", "1..2", "1.x", "1.-2"] {
            assert!(bad.parse::<ObjectIdentifier>().is_err(), "{bad:?}");
        }
    }
}
