//! RejectPDU (ISO 9506-2 §7.3).
//!
//! ```text
//! RejectPDU ::= SEQUENCE { originalInvokeID [0] IMPLICIT Unsigned32 OPTIONAL,
//!   rejectReason CHOICE { confirmed-requestPDU [1] INTEGER, confirmed-responsePDU [2],
//!     confirmed-errorPDU [3], unconfirmedPDU [4], pdu-error [5], cancel-requestPDU [6],
//!     cancel-responsePDU [7], cancel-errorPDU [8], conclude-requestPDU [9],
//!     conclude-responsePDU [10], conclude-errorPDU [11] } }
//! ```

use core::fmt;

use super::{u32_of, PduErrorKind, Res};
use crate::ber::{primitive, Class, Tag, Tlv, Writer};

/// A Reject PDU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RejectPdu {
    /// The invoke id of the rejected PDU, if known.
    pub original_invoke_id: Option<u32>,
    /// Why.
    pub reason: RejectReason,
}

/// A reject reason: which kind of PDU was rejected (the rejectReason CHOICE tag) and the code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RejectReason {
    /// 1 confirmed-requestPDU, 2 confirmed-responsePDU, 3 confirmed-errorPDU, 4 unconfirmedPDU,
    /// 5 pdu-error, 6 cancel-requestPDU, 7 cancel-responsePDU, 8 cancel-errorPDU,
    /// 9 conclude-requestPDU, 10 conclude-responsePDU, 11 conclude-errorPDU.
    pub kind: u8,
    /// The code within that kind.
    pub code: i64,
}

const fn rr(kind: u8, code: i64) -> RejectReason {
    RejectReason { kind, code }
}

impl RejectReason {
    /// confirmed-requestPDU other.
    pub const OTHER: Self = rr(1, 0);
    /// confirmed-requestPDU unrecognized-service.
    pub const UNRECOGNIZED_SERVICE: Self = rr(1, 1);
    /// confirmed-requestPDU unrecognized-modifier.
    pub const UNRECOGNIZED_MODIFIER: Self = rr(1, 2);
    /// confirmed-requestPDU invalid-invokeID.
    pub const INVALID_INVOKE_ID: Self = rr(1, 3);
    /// confirmed-requestPDU invalid-argument.
    pub const INVALID_ARGUMENT: Self = rr(1, 4);
    /// confirmed-requestPDU invalid-modifier.
    pub const INVALID_MODIFIER: Self = rr(1, 5);
    /// confirmed-requestPDU max-serv-outstanding-exceeded.
    pub const MAX_SERV_OUTSTANDING_EXCEEDED: Self = rr(1, 6);
    /// confirmed-requestPDU max-recursion-exceeded.
    pub const MAX_RECURSION_EXCEEDED: Self = rr(1, 8);
    /// confirmed-requestPDU value-out-of-range.
    pub const VALUE_OUT_OF_RANGE: Self = rr(1, 9);
    /// confirmed-responsePDU other.
    pub const RESPONSE_OTHER: Self = rr(2, 0);
    /// confirmed-responsePDU unrecognized-service.
    pub const RESPONSE_UNRECOGNIZED_SERVICE: Self = rr(2, 1);
    /// confirmed-responsePDU invalid-invokeID.
    pub const RESPONSE_INVALID_INVOKE_ID: Self = rr(2, 2);
    /// confirmed-responsePDU invalid-result.
    pub const RESPONSE_INVALID_RESULT: Self = rr(2, 3);
    /// confirmed-responsePDU max-recursion-exceeded.
    pub const RESPONSE_MAX_RECURSION_EXCEEDED: Self = rr(2, 5);
    /// confirmed-responsePDU value-out-of-range.
    pub const RESPONSE_VALUE_OUT_OF_RANGE: Self = rr(2, 6);
    /// confirmed-errorPDU other.
    pub const ERROR_OTHER: Self = rr(3, 0);
    /// confirmed-errorPDU unrecognized-service.
    pub const ERROR_UNRECOGNIZED_SERVICE: Self = rr(3, 1);
    /// confirmed-errorPDU invalid-invokeID.
    pub const ERROR_INVALID_INVOKE_ID: Self = rr(3, 2);
    /// confirmed-errorPDU invalid-serviceError.
    pub const ERROR_INVALID_SERVICE_ERROR: Self = rr(3, 3);
    /// confirmed-errorPDU value-out-of-range.
    pub const ERROR_VALUE_OUT_OF_RANGE: Self = rr(3, 4);
    /// unconfirmedPDU other.
    pub const UNCONFIRMED_OTHER: Self = rr(4, 0);
    /// unconfirmedPDU unrecognized-service.
    pub const UNCONFIRMED_UNRECOGNIZED_SERVICE: Self = rr(4, 1);
    /// unconfirmedPDU invalid-argument.
    pub const UNCONFIRMED_INVALID_ARGUMENT: Self = rr(4, 2);
    /// unconfirmedPDU max-recursion-exceeded.
    pub const UNCONFIRMED_MAX_RECURSION_EXCEEDED: Self = rr(4, 3);
    /// unconfirmedPDU value-out-of-range.
    pub const UNCONFIRMED_VALUE_OUT_OF_RANGE: Self = rr(4, 4);
    /// pdu-error unknown-pdu-type.
    pub const PDU_ERROR_UNKNOWN_PDU_TYPE: Self = rr(5, 0);
    /// pdu-error invalid-pdu.
    pub const PDU_ERROR_INVALID_PDU: Self = rr(5, 1);
    /// Alias of [`RejectReason::PDU_ERROR_INVALID_PDU`].
    pub const INVALID_PDU: Self = Self::PDU_ERROR_INVALID_PDU;
    /// pdu-error illegal-acse-mapping.
    pub const PDU_ERROR_ILLEGAL_ACSE_MAPPING: Self = rr(5, 2);
    /// cancel-requestPDU other.
    pub const CANCEL_REQUEST_OTHER: Self = rr(6, 0);
    /// cancel-requestPDU invalid-invokeID.
    pub const CANCEL_REQUEST_INVALID_INVOKE_ID: Self = rr(6, 1);
    /// cancel-responsePDU other.
    pub const CANCEL_RESPONSE_OTHER: Self = rr(7, 0);
    /// cancel-responsePDU invalid-invokeID.
    pub const CANCEL_RESPONSE_INVALID_INVOKE_ID: Self = rr(7, 1);
    /// cancel-errorPDU other.
    pub const CANCEL_ERROR_OTHER: Self = rr(8, 0);
    /// cancel-errorPDU invalid-invokeID.
    pub const CANCEL_ERROR_INVALID_INVOKE_ID: Self = rr(8, 1);
    /// cancel-errorPDU invalid-serviceError.
    pub const CANCEL_ERROR_INVALID_SERVICE_ERROR: Self = rr(8, 2);
    /// conclude-requestPDU other.
    pub const CONCLUDE_REQUEST_OTHER: Self = rr(9, 0);
    /// conclude-requestPDU invalid-argument.
    pub const CONCLUDE_REQUEST_INVALID_ARGUMENT: Self = rr(9, 1);
    /// conclude-responsePDU other.
    pub const CONCLUDE_RESPONSE_OTHER: Self = rr(10, 0);
    /// conclude-responsePDU invalid-result.
    pub const CONCLUDE_RESPONSE_INVALID_RESULT: Self = rr(10, 1);
    /// conclude-errorPDU other.
    pub const CONCLUDE_ERROR_OTHER: Self = rr(11, 0);
    /// conclude-errorPDU invalid-serviceError.
    pub const CONCLUDE_ERROR_INVALID_SERVICE_ERROR: Self = rr(11, 1);
}

/// ISO 9506-2 §7.3: each rejectReason alternative and its named codes, in code order (`None` for
/// a reserved code).
const KINDS: [(&str, &[Option<&str>]); 11] = [
    (
        "confirmed-requestPDU",
        &[
            Some("other"),
            Some("unrecognized-service"),
            Some("unrecognized-modifier"),
            Some("invalid-invokeID"),
            Some("invalid-argument"),
            Some("invalid-modifier"),
            Some("max-serv-outstanding-exceeded"),
            None,
            Some("max-recursion-exceeded"),
            Some("value-out-of-range"),
        ],
    ),
    (
        "confirmed-responsePDU",
        &[
            Some("other"),
            Some("unrecognized-service"),
            Some("invalid-invokeID"),
            Some("invalid-result"),
            None,
            Some("max-recursion-exceeded"),
            Some("value-out-of-range"),
        ],
    ),
    (
        "confirmed-errorPDU",
        &[
            Some("other"),
            Some("unrecognized-service"),
            Some("invalid-invokeID"),
            Some("invalid-serviceError"),
            Some("value-out-of-range"),
        ],
    ),
    (
        "unconfirmedPDU",
        &[
            Some("other"),
            Some("unrecognized-service"),
            Some("invalid-argument"),
            Some("max-recursion-exceeded"),
            Some("value-out-of-range"),
        ],
    ),
    (
        "pdu-error",
        &[
            Some("unknown-pdu-type"),
            Some("invalid-pdu"),
            Some("illegal-acse-mapping"),
        ],
    ),
    (
        "cancel-requestPDU",
        &[Some("other"), Some("invalid-invokeID")],
    ),
    (
        "cancel-responsePDU",
        &[Some("other"), Some("invalid-invokeID")],
    ),
    (
        "cancel-errorPDU",
        &[
            Some("other"),
            Some("invalid-invokeID"),
            Some("invalid-serviceError"),
            Some("value-out-of-range"),
        ],
    ),
    (
        "conclude-requestPDU",
        &[Some("other"), Some("invalid-argument")],
    ),
    (
        "conclude-responsePDU",
        &[Some("other"), Some("invalid-result")],
    ),
    (
        "conclude-errorPDU",
        &[
            Some("other"),
            Some("invalid-serviceError"),
            Some("value-out-of-range"),
        ],
    ),
];

impl RejectReason {
    /// The ISO 9506-2 §7.3 name of the rejected PDU kind (`confirmed-requestPDU`), if defined.
    pub fn kind_name(self) -> Option<&'static str> {
        KINDS
            .get(usize::from(self.kind).checked_sub(1)?)
            .map(|k| k.0)
    }

    /// The ISO 9506-2 §7.3 name of the code within its kind (`invalid-argument`), if defined.
    pub fn code_name(self) -> Option<&'static str> {
        let codes = KINDS.get(usize::from(self.kind).checked_sub(1)?)?.1;
        usize::try_from(self.code)
            .ok()
            .and_then(|c| codes.get(c).copied().flatten())
    }
}

impl fmt::Display for RejectReason {
    /// The ISO 9506-2 names, `confirmed-requestPDU: invalid-argument`; numbers where a name is
    /// not defined.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.kind_name(), self.code_name()) {
            (Some(k), Some(c)) => write!(f, "{k}: {c}"),
            (Some(k), None) => write!(f, "{k}: {}", self.code),
            (None, _) => write!(f, "reject-kind-{}: {}", self.kind, self.code),
        }
    }
}

impl fmt::Display for RejectPdu {
    /// The reason, then the rejected invoke id when known:
    /// `confirmed-requestPDU: invalid-argument (invoke id 7)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.reason)?;
        if let Some(id) = self.original_invoke_id {
            write!(f, " (invoke id {id})")?;
        }
        Ok(())
    }
}

impl RejectPdu {
    pub(crate) fn decode(tlv: &Tlv<'_>) -> Res<Self> {
        let mut r = tlv.reader()?;
        let original_invoke_id = match r.read_if(Tag::context(0))? {
            Some(t) => Some(u32_of(t.content)?),
            None => None,
        };
        let reason = r.read()?;
        if reason.tag.class != Class::Context || reason.tag.constructed {
            return Err(PduErrorKind::Invalid("rejectReason"));
        }
        let kind =
            u8::try_from(reason.tag.number).map_err(|_| PduErrorKind::Invalid("rejectReason"))?;
        let code = primitive::decode_i64(reason.content)?;
        r.finish()?;
        Ok(RejectPdu {
            original_invoke_id,
            reason: RejectReason { kind, code },
        })
    }

    /// Append the `[4]` rejectPDU element.
    pub fn encode(&self, w: &mut Writer<'_>) {
        w.constructed(Tag::context_cons(4), |w| {
            if let Some(id) = self.original_invoke_id {
                w.unsigned(Tag::context(0), u64::from(id));
            }
            w.integer(Tag::context(u32::from(self.reason.kind)), self.reason.code);
        });
    }
}
