//! Status (ISO 9506-2 §10.3).
//!
//! ```text
//! Status-Request  ::= BOOLEAN  -- extendedDerivation
//! Status-Response ::= SEQUENCE { vmdLogicalStatus [0] IMPLICIT INTEGER,
//!   vmdPhysicalStatus [1] IMPLICIT INTEGER, localDetail [2] IMPLICIT BIT STRING (SIZE(0..128)) OPTIONAL }
//! ```

use super::Res;
use crate::ber::{primitive, Tag, Tlv, Writer};
use crate::mms::data::BitString;

/// A Status response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusResponse {
    /// vmdLogicalStatus: 0 state-changes-allowed, 1 no-state-changes-allowed,
    /// 2 limited-services-allowed, 3 support-services-allowed.
    pub vmd_logical_status: i64,
    /// vmdPhysicalStatus: 0 operational, 1 partially-operational, 2 inoperable,
    /// 3 needs-commissioning.
    pub vmd_physical_status: i64,
    /// localDetail.
    pub local_detail: Option<BitString>,
}

impl StatusResponse {
    pub(crate) fn decode(tlv: &Tlv<'_>) -> Res<Self> {
        let mut r = tlv.reader()?;
        let vmd_logical_status = primitive::decode_i64(r.expect(Tag::context(0))?.content)?;
        let vmd_physical_status = primitive::decode_i64(r.expect(Tag::context(1))?.content)?;
        let local_detail = match r.read_if(Tag::context(2))? {
            Some(t) => {
                let (o, bits) = primitive::decode_bit_string(t.content)?;
                Some(BitString {
                    octets: o.to_vec(),
                    bits,
                })
            }
            None => None,
        };
        r.finish()?;
        Ok(StatusResponse {
            vmd_logical_status,
            vmd_physical_status,
            local_detail,
        })
    }

    pub(crate) fn encode(&self, w: &mut Writer<'_>) {
        w.constructed(Tag::context_cons(0), |w| {
            w.integer(Tag::context(0), self.vmd_logical_status);
            w.integer(Tag::context(1), self.vmd_physical_status);
            if let Some(b) = &self.local_detail {
                let b = BitString::from_octets(&b.octets, b.bits);
                w.bit_string(Tag::context(2), &b.octets, b.bits);
            }
        });
    }
}
