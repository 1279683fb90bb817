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
        for part in s.split('.') {
            if n == MAX_ARCS {
                return Err(Error::InvalidValue);
            }
            arcs[n] = part.parse().map_err(|_| Error::InvalidValue)?;
            n += 1;
        }
        Self::from_arcs(&arcs[..n])
    }
}

impl fmt::Display for ObjectIdentifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.arcs().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "{a}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for ObjectIdentifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Oid({self})")
    }
}
