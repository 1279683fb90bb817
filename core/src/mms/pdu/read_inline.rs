//! The server's hot path for the commonest request of all: a Read of named variables (ISO 9506-2
//! §14.6), recognized in its plain encoding and kept inline, without allocating.
//!
//! ```text
//! a0 L  confirmed-RequestPDU
//!   02 L  invokeID
//!   a4 L  read
//!     a1 L  variableAccessSpecification
//!       a0 L  listOfVariable
//!         30 L  a0 L  ObjectName     (one per variable, no alternateAccess)
//! ```
//!
//! [`InlineRead::recognize`] accepts only a strict subset of what [`MmsPdu::decode`] accepts:
//! short lengths, no `specificationWithResult`, no alternate access, nothing trailing, names in
//! ASCII (as ISO 9506-2 §7.5.1 has them; other UTF-8 goes the general way), at most [`DecodeLimits::max_list_len`] variables, and a list that fits
//! [`INLINE_READ`] octets. Everything else (every malformed PDU included) goes the general way,
//! so errors, rejects and deviations are exactly those of the owned decoder; what is recognized
//! decodes there to [`InlineRead::to_request`].
//!
//! [`MmsPdu::decode`]: super::MmsPdu::decode

use alloc::string::String;
use alloc::vec::Vec;

use super::{ReadRequest, VariableAccessSpecification, VariableSpec};
use crate::mms::{DecodeLimits, ObjectName};

/// Most octets of a listOfVariable content kept inline: room for a few TASE.2 names of typical
/// length (a domain-specific name `ICC1`/`Voltage_1` takes 23 octets). Larger lists take the
/// general path.
pub(crate) const INLINE_READ: usize = 110;

/// A recognized Read request (see the module docs): its invoke id and the content octets of its
/// listOfVariable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct InlineRead {
    /// The invoke id to answer.
    pub(crate) invoke_id: u32,
    len: u8,
    list: [u8; INLINE_READ],
}

/// A variable name borrowed from an encoding, its identifiers checked to be ASCII (so each octet
/// is one `char`: no UTF-8 validation, which costs more than the rest of the decoding).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NameRef<'a> {
    /// `[0]` VMD-specific.
    Vmd(&'a [u8]),
    /// `[1]` domain-specific: domain, item.
    Domain(&'a [u8], &'a [u8]),
    /// `[2]` association-specific.
    Aa(&'a [u8]),
}

/// `s` becomes the ASCII `v`.
fn set(s: &mut String, v: &[u8]) {
    s.clear();
    // Checked to be ASCII already: never empty for a non-empty `v`.
    s.push_str(core::str::from_utf8(v).unwrap_or_default());
}

fn string(v: &[u8]) -> String {
    let mut s = String::with_capacity(v.len());
    set(&mut s, v);
    s
}

impl NameRef<'_> {
    /// The owned name.
    pub(crate) fn to_owned(self) -> ObjectName {
        match self {
            NameRef::Vmd(s) => ObjectName::VmdSpecific(string(s)),
            NameRef::Domain(d, i) => ObjectName::DomainSpecific {
                domain: string(d),
                item: string(i),
            },
            NameRef::Aa(s) => ObjectName::AaSpecific(string(s)),
        }
    }

    /// Make `into` this name, reusing its strings' storage when the scope is the same.
    pub(crate) fn fill(self, into: &mut ObjectName) {
        match (self, &mut *into) {
            (NameRef::Domain(d, i), ObjectName::DomainSpecific { domain, item }) => {
                set(domain, d);
                set(item, i);
            }
            (NameRef::Vmd(v), ObjectName::VmdSpecific(s))
            | (NameRef::Aa(v), ObjectName::AaSpecific(s)) => set(s, v),
            _ => *into = self.to_owned(),
        }
    }
}

/// One element with a one-octet identifier `tag` and a short definite length at the front of
/// `b`: its content and what follows.
#[inline]
fn element(b: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    match b {
        [t, l, rest @ ..] if *t == tag && *l < 0x80 && usize::from(*l) <= rest.len() => {
            Some(rest.split_at(usize::from(*l)))
        }
        _ => None,
    }
}

/// An ASCII `Identifier` (`1a`, or the implicit `80`/`82` of a name) at the front of `b`.
#[inline]
fn identifier(b: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (c, rest) = element(b, tag)?;
    c.iter().all(|&b| b < 0x80).then_some((c, rest))
}

/// The first variable name of a listOfVariable content, and the entries after it.
#[inline]
fn next_name(b: &[u8]) -> Option<(NameRef<'_>, &[u8])> {
    let (entry, rest) = element(b, 0x30)?;
    let (spec, after) = element(entry, 0xa0)?;
    if !after.is_empty() {
        return None; // alternateAccess, or anything else
    }
    let name = match spec.first()? {
        0x80 => {
            let (s, tail) = identifier(spec, 0x80)?;
            tail.is_empty().then_some(NameRef::Vmd(s))?
        }
        0x82 => {
            let (s, tail) = identifier(spec, 0x82)?;
            tail.is_empty().then_some(NameRef::Aa(s))?
        }
        _ => {
            let (dom, tail) = element(spec, 0xa1)?;
            if !tail.is_empty() {
                return None;
            }
            let (d, dom) = identifier(dom, 0x1a)?;
            let (i, dom) = identifier(dom, 0x1a)?;
            dom.is_empty().then_some(NameRef::Domain(d, i))?
        }
    };
    Some((name, rest))
}

impl InlineRead {
    /// Recognize a whole MMS PDU as a plain Read of named variables; `None`: decode it the
    /// general way.
    #[inline]
    pub(crate) fn recognize(pdu: &[u8], limits: &DecodeLimits) -> Option<InlineRead> {
        let (req, rest) = element(pdu, 0xa0)?;
        if !rest.is_empty() {
            return None;
        }
        let (id, req) = element(req, 0x02)?;
        // Unsigned32 as `u32_of` reads it: non-negative, non-minimal forms allowed.
        if id.is_empty() || id.len() > 5 || id[0] & 0x80 != 0 {
            return None;
        }
        let invoke_id =
            u32::try_from(id.iter().fold(0u64, |v, &b| (v << 8) | u64::from(b))).ok()?;
        let (read, rest) = element(req, 0xa4)?;
        if !rest.is_empty() {
            return None;
        }
        let (spec, rest) = element(read, 0xa1)?;
        if !rest.is_empty() {
            return None;
        }
        let (list, rest) = element(spec, 0xa0)?;
        if !rest.is_empty() || list.len() > INLINE_READ {
            return None;
        }
        let mut n = 0usize;
        let mut b = list;
        while !b.is_empty() {
            b = next_name(b)?.1;
            n += 1;
        }
        if n > limits.max_list_len {
            return None;
        }
        let mut out = InlineRead {
            invoke_id,
            len: list.len() as u8,
            list: [0; INLINE_READ],
        };
        out.list[..list.len()].copy_from_slice(list);
        Some(out)
    }

    /// The names read, in order.
    pub(crate) fn names(&self) -> impl Iterator<Item = NameRef<'_>> {
        let mut b = self.list.get(..usize::from(self.len)).unwrap_or_default();
        core::iter::from_fn(move || {
            // Recognized already: this cannot fail, and would just end the list if it did.
            let (name, rest) = next_name(b)?;
            b = rest;
            Some(name)
        })
    }

    /// The request as the general decoder gives it.
    pub(crate) fn to_request(&self) -> ReadRequest {
        ReadRequest {
            specification_with_result: false,
            variables: VariableAccessSpecification::ListOfVariable(
                self.names()
                    .map(|n| VariableSpec::named(n.to_owned()))
                    .collect::<Vec<_>>(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mms::{ConfirmedRequest, MmsPdu};

    fn general(pdu: &[u8]) -> Option<MmsPdu> {
        MmsPdu::decode(pdu, &DecodeLimits::default()).ok()
    }

    fn read_pdu(invoke_id: u32, names: &[ObjectName]) -> Vec<u8> {
        let mut out = Vec::new();
        MmsPdu::ConfirmedRequest {
            invoke_id,
            request: ConfirmedRequest::Read(ReadRequest {
                specification_with_result: false,
                variables: VariableAccessSpecification::ListOfVariable(
                    names.iter().cloned().map(VariableSpec::named).collect(),
                ),
            }),
        }
        .encode(&mut crate::ber::Writer::new(&mut out));
        out
    }

    #[test]
    fn recognized_reads_decode_as_the_general_decoder_does() {
        let names = [
            ObjectName::domain("ICC1", "P7"),
            ObjectName::vmd("Bilateral_Table_ID"),
            ObjectName::AaSpecific("Transfer_Set_Name".into()),
        ];
        for (id, n) in [(0u32, 1usize), (7, 2), (0x7fff_ffff, 3), (u32::MAX, 1)] {
            let pdu = read_pdu(id, &names[..n]);
            let r = InlineRead::recognize(&pdu, &DecodeLimits::default()).expect("recognized");
            assert_eq!(r.invoke_id, id);
            assert_eq!(
                general(&pdu),
                Some(MmsPdu::ConfirmedRequest {
                    invoke_id: id,
                    request: ConfirmedRequest::Read(r.to_request())
                })
            );
        }
    }

    #[test]
    fn anything_but_the_plain_form_goes_the_general_way() {
        let plain = read_pdu(1, &[ObjectName::domain("ICC1", "P7")]);
        assert!(InlineRead::recognize(&plain, &DecodeLimits::default()).is_some());
        // Too many variables for the limits.
        let limits = DecodeLimits {
            max_list_len: 0,
            ..DecodeLimits::default()
        };
        assert!(InlineRead::recognize(&plain, &limits).is_none());
        // Every truncation, and every single-octet change, is either refused here or decodes
        // the same in the general decoder.
        for cut in 0..plain.len() {
            assert!(InlineRead::recognize(&plain[..cut], &DecodeLimits::default()).is_none());
        }
        for i in 0..plain.len() {
            for v in [0x00, 0x01, 0x1a, 0x30, 0x7f, 0x80, 0x81, 0xa0, 0xa1, 0xff] {
                let mut p = plain.clone();
                p[i] = v;
                if let Some(r) = InlineRead::recognize(&p, &DecodeLimits::default()) {
                    assert_eq!(
                        general(&p),
                        Some(MmsPdu::ConfirmedRequest {
                            invoke_id: r.invoke_id,
                            request: ConfirmedRequest::Read(r.to_request())
                        }),
                        "{p:02x?}"
                    );
                }
            }
        }
        // Non-ASCII names (valid UTF-8 or not), a long list, specificationWithResult and trailing octets.
        let utf8 = read_pdu(1, &[ObjectName::domain("ICC1", "P\u{e9}")]);
        assert!(InlineRead::recognize(&utf8, &DecodeLimits::default()).is_none());
        let mut bad = utf8.clone();
        let at = bad.len() - 2;
        bad[at] = 0xc3;
        bad[at + 1] = 0x28;
        assert!(InlineRead::recognize(&bad, &DecodeLimits::default()).is_none());
        let long: Vec<ObjectName> = (0..8)
            .map(|i| ObjectName::domain("ICC1", alloc::format!("Point_{i}")))
            .collect();
        assert!(InlineRead::recognize(&read_pdu(1, &long), &DecodeLimits::default()).is_none());
        let mut trailing = plain.clone();
        trailing.extend_from_slice(&[5, 0]);
        assert!(InlineRead::recognize(&trailing, &DecodeLimits::default()).is_none());
    }

    #[test]
    fn fill_reuses_the_scope_and_switches_it() {
        let mut n = ObjectName::vmd("x");
        NameRef::Domain(b"ICC1", b"P7").fill(&mut n);
        assert_eq!(n, ObjectName::domain("ICC1", "P7"));
        NameRef::Domain(b"ICC2", b"P8").fill(&mut n);
        assert_eq!(n, ObjectName::domain("ICC2", "P8"));
        NameRef::Aa(b"T").fill(&mut n);
        assert_eq!(n, ObjectName::AaSpecific("T".into()));
        NameRef::Vmd(b"V").fill(&mut n);
        assert_eq!(n, ObjectName::vmd("V"));
    }
}
