//! Conclude (ISO 9506-2 §8.4): `Conclude-RequestPDU ::= NULL`, `Conclude-ResponsePDU ::= NULL`,
//! `Conclude-ErrorPDU ::= ServiceError`.

use super::{PduErrorKind, Res, ServiceError};
use crate::ber::{Tag, Tlv, Writer};

pub(crate) fn check_null(tlv: &Tlv<'_>) -> Res<()> {
    if tlv.primitive()?.is_empty() {
        Ok(())
    } else {
        Err(PduErrorKind::Invalid("conclude PDU is not NULL"))
    }
}

pub(crate) fn encode_request(w: &mut Writer<'_>) {
    w.null(Tag::context(11));
}

pub(crate) fn encode_response(w: &mut Writer<'_>) {
    w.null(Tag::context(12));
}

pub(crate) fn encode_error(w: &mut Writer<'_>, e: &ServiceError) {
    w.constructed(Tag::context_cons(13), |w| e.encode_content(w));
}
