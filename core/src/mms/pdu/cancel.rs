//! Cancel (ISO 9506-2 §8.3).
//!
//! ```text
//! Cancel-RequestPDU  ::= Unsigned32  -- originalInvokeID
//! Cancel-ResponsePDU ::= Unsigned32  -- originalInvokeID
//! Cancel-ErrorPDU    ::= SEQUENCE { originalInvokeID [0] IMPLICIT Unsigned32,
//!                                   serviceError [1] IMPLICIT ServiceError }
//! ```

use super::{u32_of, Res, ServiceError};
use crate::ber::{Tag, Tlv, Writer};

pub(crate) fn decode_id(tlv: &Tlv<'_>) -> Res<u32> {
    u32_of(tlv.primitive()?)
}

pub(crate) fn decode_error(tlv: &Tlv<'_>) -> Res<(u32, ServiceError)> {
    let mut r = tlv.reader()?;
    let id = u32_of(r.expect(Tag::context(0))?.content)?;
    let e = ServiceError::decode_content(&r.expect(Tag::context_cons(1))?)?;
    r.finish()?;
    Ok((id, e))
}

pub(crate) fn encode_request(w: &mut Writer<'_>, id: u32) {
    w.unsigned(Tag::context(5), u64::from(id));
}

pub(crate) fn encode_response(w: &mut Writer<'_>, id: u32) {
    w.unsigned(Tag::context(6), u64::from(id));
}

pub(crate) fn encode_error(w: &mut Writer<'_>, id: u32, e: &ServiceError) {
    w.constructed(Tag::context_cons(7), |w| {
        w.unsigned(Tag::context(0), u64::from(id));
        w.constructed(Tag::context_cons(1), |w| e.encode_content(w));
    });
}
