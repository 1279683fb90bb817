//! Connection-oriented presentation protocol, normal mode (ISO 8823-1 / ITU-T X.226), BER only.
//!
//! The presentation layer of an ICCP association does little: at connect time it negotiates two
//! presentation contexts (ACSE and MMS, both with the BER transfer syntax) and carries the AARQ/AARE as
//! user data; afterwards every MMS PDU travels as *fully-encoded user data* tagged with the MMS context
//! identifier.
//!
//! - Connection: [`ConnectPpdu`] (CP), [`AcceptPpdu`] (CPA), [`RejectPpdu`] (CPR, see
//!   [`decode_accept_or_reject`]) and [`AbortPpdu`] (ARU / ARP).
//! - Data phase: [`decode_user_data`], [`decode_single_pdv`] (no allocation) and [`write_user_data`]
//!   (the APDU is written in place, never copied).
//!
//! Decoding is zero-copy: selectors and PDV data borrow from the input. Decoders never panic; unknown
//! optional fields at the grammar's extension points are skipped. Encoders append minimal definite-length
//! BER to a caller-owned buffer and omit fields that equal their default (protocol-version), as
//! libiec61850 does.

pub(crate) mod pdu;

use alloc::vec::Vec;
use core::fmt;

use crate::ber::{self, ObjectIdentifier};

pub use pdu::{
    decode_accept_or_reject, decode_single_pdv, decode_user_data, encode_user_data, write_user_data,
};

/// Presentation context identifier conventionally used for ACSE (libiec61850 and most ICCP stacks).
pub const ACSE_CONTEXT_ID: i64 = 1;
/// Presentation context identifier conventionally used for MMS (libiec61850 and most ICCP stacks).
pub const MMS_CONTEXT_ID: i64 = 3;

/// Longest presentation selector accepted from a peer. X.226 does not bound the OCTET STRING, but real
/// P-selectors are 1 to 4 octets (16 at most in published address plans); the bound keeps a hostile
/// peer from making us carry an arbitrary blob as an address.
pub const MAX_SELECTOR_LEN: usize = 16;

/// CPR provider-reason `reason-not-specified` (X.226 Provider-reason).
pub const PROVIDER_REASON_NOT_SPECIFIED: i64 = 0;
/// CPR provider-reason `temporary-congestion`.
pub const PROVIDER_REASON_TEMPORARY_CONGESTION: i64 = 1;
/// CPR provider-reason `local-limit-exceeded`.
pub const PROVIDER_REASON_LOCAL_LIMIT_EXCEEDED: i64 = 2;
/// CPR provider-reason `called-presentation-address-unknown`.
pub const PROVIDER_REASON_CALLED_ADDRESS_UNKNOWN: i64 = 3;
/// CPR provider-reason `protocol-version-not-supported`.
pub const PROVIDER_REASON_PROTOCOL_VERSION_NOT_SUPPORTED: i64 = 4;
/// CPR provider-reason `default-context-not-supported`.
pub const PROVIDER_REASON_DEFAULT_CONTEXT_NOT_SUPPORTED: i64 = 5;
/// CPR provider-reason `user-data-not-readable`.
pub const PROVIDER_REASON_USER_DATA_NOT_READABLE: i64 = 6;
/// CPR provider-reason `no-PSAP-available`.
pub const PROVIDER_REASON_NO_PSAP_AVAILABLE: i64 = 7;

/// Context-result provider-reason `reason-not-specified` (X.226 Result-list).
pub const CONTEXT_REASON_NOT_SPECIFIED: i64 = 0;
/// Context-result provider-reason `abstract-syntax-not-supported`.
pub const CONTEXT_REASON_ABSTRACT_SYNTAX_NOT_SUPPORTED: i64 = 1;
/// Context-result provider-reason `proposed-transfer-syntaxes-not-supported`.
pub const CONTEXT_REASON_TRANSFER_SYNTAXES_NOT_SUPPORTED: i64 = 2;
/// Context-result provider-reason `local-limit-on-DCS-exceeded`.
pub const CONTEXT_REASON_LOCAL_LIMIT_ON_DCS_EXCEEDED: i64 = 3;

/// ARP abort-reason `reason-not-specified` (X.226 Abort-reason).
pub const ABORT_REASON_NOT_SPECIFIED: i64 = 0;
/// ARP abort-reason `unrecognized-ppdu`.
pub const ABORT_REASON_UNRECOGNIZED_PPDU: i64 = 1;
/// ARP abort-reason `unexpected-ppdu`.
pub const ABORT_REASON_UNEXPECTED_PPDU: i64 = 2;
/// ARP abort-reason `unexpected-session-service-primitive`.
pub const ABORT_REASON_UNEXPECTED_SESSION_SERVICE_PRIMITIVE: i64 = 3;
/// ARP abort-reason `unrecognized-ppdu-parameter`.
pub const ABORT_REASON_UNRECOGNIZED_PPDU_PARAMETER: i64 = 4;
/// ARP abort-reason `unexpected-ppdu-parameter`.
pub const ABORT_REASON_UNEXPECTED_PPDU_PARAMETER: i64 = 5;
/// ARP abort-reason `invalid-ppdu-parameter-value`.
pub const ABORT_REASON_INVALID_PPDU_PARAMETER_VALUE: i64 = 6;

/// The X.226 name of a CPR provider-reason (`PROVIDER_REASON_*`), if X.226 defines it.
pub const fn provider_reason_name(v: i64) -> Option<&'static str> {
    Some(match v {
        PROVIDER_REASON_NOT_SPECIFIED => "reason-not-specified",
        PROVIDER_REASON_TEMPORARY_CONGESTION => "temporary-congestion",
        PROVIDER_REASON_LOCAL_LIMIT_EXCEEDED => "local-limit-exceeded",
        PROVIDER_REASON_CALLED_ADDRESS_UNKNOWN => "called-presentation-address-unknown",
        PROVIDER_REASON_PROTOCOL_VERSION_NOT_SUPPORTED => "protocol-version-not-supported",
        PROVIDER_REASON_DEFAULT_CONTEXT_NOT_SUPPORTED => "default-context-not-supported",
        PROVIDER_REASON_USER_DATA_NOT_READABLE => "user-data-not-readable",
        PROVIDER_REASON_NO_PSAP_AVAILABLE => "no-PSAP-available",
        _ => return None,
    })
}

/// The X.226 name of a context-result provider-reason (`CONTEXT_REASON_*`), if X.226 defines it.
pub const fn context_reason_name(v: i64) -> Option<&'static str> {
    Some(match v {
        CONTEXT_REASON_NOT_SPECIFIED => "reason-not-specified",
        CONTEXT_REASON_ABSTRACT_SYNTAX_NOT_SUPPORTED => "abstract-syntax-not-supported",
        CONTEXT_REASON_TRANSFER_SYNTAXES_NOT_SUPPORTED => {
            "proposed-transfer-syntaxes-not-supported"
        }
        CONTEXT_REASON_LOCAL_LIMIT_ON_DCS_EXCEEDED => "local-limit-on-DCS-exceeded",
        _ => return None,
    })
}

/// The X.226 name of an ARP abort-reason (`ABORT_REASON_*`), if X.226 defines it.
pub const fn abort_reason_name(v: i64) -> Option<&'static str> {
    Some(match v {
        ABORT_REASON_NOT_SPECIFIED => "reason-not-specified",
        ABORT_REASON_UNRECOGNIZED_PPDU => "unrecognized-ppdu",
        ABORT_REASON_UNEXPECTED_PPDU => "unexpected-ppdu",
        ABORT_REASON_UNEXPECTED_SESSION_SERVICE_PRIMITIVE => "unexpected-session-service-primitive",
        ABORT_REASON_UNRECOGNIZED_PPDU_PARAMETER => "unrecognized-ppdu-parameter",
        ABORT_REASON_UNEXPECTED_PPDU_PARAMETER => "unexpected-ppdu-parameter",
        ABORT_REASON_INVALID_PPDU_PARAMETER_VALUE => "invalid-ppdu-parameter-value",
        _ => return None,
    })
}

/// The ACSE abstract syntax `2.2.1.0.1` (joint-iso-itu-t association-control abstract-syntax apdus
/// version1).
pub fn acse_abstract_syntax() -> ObjectIdentifier {
    ObjectIdentifier::from_content(&[0x52, 0x01, 0x00, 0x01]).unwrap_or_else(|_| unreachable!())
}

/// The MMS abstract syntax `1.0.9506.2.1` (iso standard 9506 part 2 mms-abstract-syntax-version1).
pub fn mms_abstract_syntax() -> ObjectIdentifier {
    ObjectIdentifier::from_content(&[0x28, 0xca, 0x22, 0x02, 0x01])
        .unwrap_or_else(|_| unreachable!())
}

/// The BER transfer syntax `2.1.1` (joint-iso-itu-t asn1 basic-encoding).
pub fn ber_transfer_syntax() -> ObjectIdentifier {
    ObjectIdentifier::from_content(&[0x51, 0x01]).unwrap_or_else(|_| unreachable!())
}

/// One proposed presentation context (an item of the presentation-context-definition-list).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContextDefinition {
    /// The presentation-context-identifier (odd when proposed by the initiator).
    pub id: i64,
    /// The abstract-syntax-name, e.g. [`mms_abstract_syntax`].
    pub abstract_syntax: ObjectIdentifier,
    /// The proposed transfer-syntax-names, in order of preference; normally just
    /// [`ber_transfer_syntax`].
    pub transfer_syntaxes: Vec<ObjectIdentifier>,
}

impl ContextDefinition {
    /// The context libiec61850 and most ICCP stacks propose for ACSE: id 1, BER.
    pub fn acse() -> Self {
        ContextDefinition {
            id: ACSE_CONTEXT_ID,
            abstract_syntax: acse_abstract_syntax(),
            transfer_syntaxes: alloc::vec![ber_transfer_syntax()],
        }
    }

    /// The context libiec61850 and most ICCP stacks propose for MMS: id 3, BER.
    pub fn mms() -> Self {
        ContextDefinition {
            id: MMS_CONTEXT_ID,
            abstract_syntax: mms_abstract_syntax(),
            transfer_syntaxes: alloc::vec![ber_transfer_syntax()],
        }
    }
}

/// The outcome for one proposed presentation context (X.226 Result).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContextResult {
    /// `acceptance` (0).
    Acceptance,
    /// `user-rejection` (1).
    UserRejection,
    /// `provider-rejection` (2); the reason is in [`ContextResultItem::provider_reason`].
    ProviderRejection,
}

impl ContextResult {
    /// The wire value.
    pub const fn code(self) -> i64 {
        match self {
            ContextResult::Acceptance => 0,
            ContextResult::UserRejection => 1,
            ContextResult::ProviderRejection => 2,
        }
    }

    /// From the wire value; `None` for a value X.226 does not define.
    pub const fn from_code(v: i64) -> Option<Self> {
        match v {
            0 => Some(ContextResult::Acceptance),
            1 => Some(ContextResult::UserRejection),
            2 => Some(ContextResult::ProviderRejection),
            _ => None,
        }
    }
}

impl fmt::Display for ContextResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ContextResult::Acceptance => "acceptance",
            ContextResult::UserRejection => "user-rejection",
            ContextResult::ProviderRejection => "provider-rejection",
        })
    }
}

/// One item of a presentation-context-definition-result-list, in the order of the proposal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContextResultItem {
    /// Accepted or rejected, and by whom.
    pub result: ContextResult,
    /// The chosen transfer syntax (present on acceptance).
    pub transfer_syntax: Option<ObjectIdentifier>,
    /// Why the provider rejected the context (`CONTEXT_REASON_*`).
    pub provider_reason: Option<i64>,
}

impl ContextResultItem {
    /// Acceptance with the BER transfer syntax, as every ICCP responder answers.
    pub fn accepted_ber() -> Self {
        ContextResultItem {
            result: ContextResult::Acceptance,
            transfer_syntax: Some(ber_transfer_syntax()),
            provider_reason: None,
        }
    }
}

/// One presentation data value: an APDU of one presentation context.
///
/// **`data` is always one complete BER element** (the APDU): for the single-ASN1-type encoding it is the
/// element inside `[0]`, for octet-aligned it is the OCTET STRING content. Encoders write it back as
/// single-ASN1-type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pdv<'a> {
    /// The presentation-context-identifier the APDU belongs to.
    pub context_id: i64,
    /// The encoded APDU.
    pub data: &'a [u8],
}

/// CP-type: the connect request (normal mode).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectPpdu<'a> {
    /// calling-presentation-selector.
    pub calling_selector: Option<&'a [u8]>,
    /// called-presentation-selector.
    pub called_selector: Option<&'a [u8]>,
    /// presentation-context-definition-list.
    pub contexts: Vec<ContextDefinition>,
    /// User data (the AARQ), fully encoded; empty when absent.
    pub user_data: Vec<Pdv<'a>>,
}

/// CPA-PPDU: the connect accept (normal mode).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AcceptPpdu<'a> {
    /// responding-presentation-selector.
    pub responding_selector: Option<&'a [u8]>,
    /// presentation-context-definition-result-list, one item per proposed context.
    pub results: Vec<ContextResultItem>,
    /// User data (the AARE), fully encoded; empty when absent.
    pub user_data: Vec<Pdv<'a>>,
}

/// CPR-PPDU: the connect reject (normal mode).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RejectPpdu<'a> {
    /// responding-presentation-selector.
    pub responding_selector: Option<&'a [u8]>,
    /// presentation-context-definition-result-list.
    pub results: Vec<ContextResultItem>,
    /// provider-reason (`PROVIDER_REASON_*`); absent when the user (ACSE) rejected.
    pub provider_reason: Option<i64>,
    /// User data (a rejecting AARE), fully encoded; empty when absent.
    pub user_data: Vec<Pdv<'a>>,
}

/// Abort-type: an abort by the user (ARU-PPDU, normal mode) or the provider (ARP-PPDU).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AbortPpdu<'a> {
    /// ARU-PPDU: the user aborted, usually carrying an ACSE ABRT.
    User {
        /// User data, fully encoded; empty when absent.
        user_data: Vec<Pdv<'a>>,
    },
    /// ARP-PPDU: the presentation provider aborted.
    Provider {
        /// provider-reason (`ABORT_REASON_*`).
        reason: Option<i64>,
        /// event-identifier: the PPDU or session event that caused the abort.
        event: Option<i64>,
    },
}

/// The answer to a CP: accepted or rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AcceptOrReject<'a> {
    /// CPA-PPDU.
    Accept(AcceptPpdu<'a>),
    /// CPR-PPDU.
    Reject(RejectPpdu<'a>),
}

/// Why a PPDU was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The BER structure is malformed or does not follow the PPDU grammar.
    Ber(ber::Error),
    /// The mode-selector is missing.
    MissingModeSelector,
    /// The mode-selector asks for a mode other than normal (X.410-1984 mode is not supported).
    ModeNotSupported(i64),
    /// The X.400-mode alternative of CPR-PPDU or ARU-PPDU, which we do not support.
    X400ModeNotSupported,
    /// A protocol-version that does not include version-1.
    NoCommonProtocolVersion,
    /// A presentation selector longer than [`MAX_SELECTOR_LEN`].
    SelectorTooLong,
    /// User data in the simply-encoded form, which needs a default context we never negotiate.
    SimplyEncodedDataNotSupported,
    /// A PDV in the arbitrary (BIT STRING) encoding, or an unknown encoding choice.
    PdvEncodingNotSupported,
    /// A PDV-list without its presentation-context-identifier.
    MissingContextId,
    /// A PDV-list without presentation-data-values.
    MissingPdvValue,
    /// Fully-encoded user data with no PDV-list at all (X.226 requires at least one).
    EmptyUserData,
    /// The fast path wanted exactly one PDV and got several.
    MoreThanOnePdv,
    /// A context result other than acceptance, user-rejection or provider-rejection.
    InvalidContextResult(i64),
    /// A context result item without its result field.
    MissingContextResult,
}

impl From<ber::Error> for Error {
    fn from(e: ber::Error) -> Self {
        Error::Ber(e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Ber(e) => write!(f, "presentation PPDU: {e}"),
            Error::MissingModeSelector => f.write_str("presentation PPDU lacks its mode-selector"),
            Error::ModeNotSupported(m) => {
                write!(
                    f,
                    "presentation mode {m} is not supported (only normal mode)"
                )
            }
            Error::X400ModeNotSupported => {
                f.write_str("X.400-mode presentation PPDUs are not supported")
            }
            Error::NoCommonProtocolVersion => {
                f.write_str("presentation protocol-version does not include version-1")
            }
            Error::SelectorTooLong => f.write_str("presentation selector is too long"),
            Error::SimplyEncodedDataNotSupported => {
                f.write_str("simply-encoded presentation user data is not supported")
            }
            Error::PdvEncodingNotSupported => {
                f.write_str("presentation data value uses an unsupported encoding")
            }
            Error::MissingContextId => {
                f.write_str("presentation data value lacks its context identifier")
            }
            Error::MissingPdvValue => f.write_str("presentation data value lacks its data"),
            Error::EmptyUserData => f.write_str("fully-encoded user data holds no PDV"),
            Error::MoreThanOnePdv => f.write_str("expected exactly one presentation data value"),
            Error::InvalidContextResult(v) => write!(f, "invalid presentation context result {v}"),
            Error::MissingContextResult => {
                f.write_str("presentation context result item lacks its result")
            }
        }
    }
}

impl core::error::Error for Error {}

#[cfg(test)]
pub(crate) mod vectors;

#[cfg(test)]
mod tests;
