//! Association control (ISO 8650-1 / ITU-T X.227 ACSE), kernel plus password authentication, BER.
//!
//! An ICCP association opens with an AARQ carrying the MMS initiate-request and the client's AP-title and
//! AE-qualifier; the server answers with an AARE (accepted, or rejected with a diagnostic such as
//! calling-AP-title-not-recognized). Release is RLRQ/RLRE, abort is ABRT. Each APDU travels as a
//! presentation data value of the ACSE context, and carries its MMS APDU as user-information: an EXTERNAL
//! naming the MMS presentation context, kept here as a [`Pdv`].
//!
//! [`Apdu::decode`] borrows from its input and never panics; extension fields it does not know are
//! skipped. [`Apdu::encode`] writes minimal definite-length BER and omits protocol-version, whose
//! default is version1 (libiec61850 omits it too).

mod pdu;

use core::fmt;

use crate::ber::{self, ObjectIdentifier, Tag};
pub use crate::presentation::Pdv;

/// The MMS application context name `1.0.9506.2.3` (iso standard 9506 part 2 mms-application-context).
pub fn mms_application_context() -> ObjectIdentifier {
    ObjectIdentifier::from_content(&[0x28, 0xca, 0x22, 0x02, 0x03])
        .unwrap_or_else(|_| unreachable!())
}

/// The password authentication mechanism `2.2.3.1` (joint-iso-itu-t association-control
/// authentication-mechanism password-1).
pub fn password_mechanism() -> ObjectIdentifier {
    ObjectIdentifier::from_content(&[0x52, 0x03, 0x01]).unwrap_or_else(|_| unreachable!())
}

/// acse-service-user diagnostics of an AARE (X.227 Associate-source-diagnostic).
pub mod user_diagnostic {
    /// null: used with result accepted.
    pub const NULL: u8 = 0;
    /// no-reason-given.
    pub const NO_REASON: u8 = 1;
    /// application-context-name-not-supported.
    pub const APPLICATION_CONTEXT_NAME_NOT_SUPPORTED: u8 = 2;
    /// calling-AP-title-not-recognized: the usual ICCP refusal of a client without a bilateral table.
    pub const CALLING_AP_TITLE_NOT_RECOGNIZED: u8 = 3;
    /// calling-AP-invocation-identifier-not-recognized.
    pub const CALLING_AP_INVOCATION_ID_NOT_RECOGNIZED: u8 = 4;
    /// calling-AE-qualifier-not-recognized.
    pub const CALLING_AE_QUALIFIER_NOT_RECOGNIZED: u8 = 5;
    /// calling-AE-invocation-identifier-not-recognized.
    pub const CALLING_AE_INVOCATION_ID_NOT_RECOGNIZED: u8 = 6;
    /// called-AP-title-not-recognized: the client addressed another AP-title than ours.
    pub const CALLED_AP_TITLE_NOT_RECOGNIZED: u8 = 7;
    /// called-AP-invocation-identifier-not-recognized.
    pub const CALLED_AP_INVOCATION_ID_NOT_RECOGNIZED: u8 = 8;
    /// called-AE-qualifier-not-recognized.
    pub const CALLED_AE_QUALIFIER_NOT_RECOGNIZED: u8 = 9;
    /// called-AE-invocation-identifier-not-recognized.
    pub const CALLED_AE_INVOCATION_ID_NOT_RECOGNIZED: u8 = 10;
    /// authentication-mechanism-name-not-recognized.
    pub const AUTHENTICATION_MECHANISM_NAME_NOT_RECOGNIZED: u8 = 11;
    /// authentication-mechanism-name-required.
    pub const AUTHENTICATION_MECHANISM_NAME_REQUIRED: u8 = 12;
    /// authentication-failure.
    pub const AUTHENTICATION_FAILURE: u8 = 13;
    /// authentication-required.
    pub const AUTHENTICATION_REQUIRED: u8 = 14;

    /// The X.227 name of an acse-service-user diagnostic, if it is one X.227 defines.
    pub const fn name(v: u8) -> Option<&'static str> {
        Some(match v {
            NULL => "null",
            NO_REASON => "no-reason-given",
            APPLICATION_CONTEXT_NAME_NOT_SUPPORTED => "application-context-name-not-supported",
            CALLING_AP_TITLE_NOT_RECOGNIZED => "calling-AP-title-not-recognized",
            CALLING_AP_INVOCATION_ID_NOT_RECOGNIZED => {
                "calling-AP-invocation-identifier-not-recognized"
            }
            CALLING_AE_QUALIFIER_NOT_RECOGNIZED => "calling-AE-qualifier-not-recognized",
            CALLING_AE_INVOCATION_ID_NOT_RECOGNIZED => {
                "calling-AE-invocation-identifier-not-recognized"
            }
            CALLED_AP_TITLE_NOT_RECOGNIZED => "called-AP-title-not-recognized",
            CALLED_AP_INVOCATION_ID_NOT_RECOGNIZED => {
                "called-AP-invocation-identifier-not-recognized"
            }
            CALLED_AE_QUALIFIER_NOT_RECOGNIZED => "called-AE-qualifier-not-recognized",
            CALLED_AE_INVOCATION_ID_NOT_RECOGNIZED => {
                "called-AE-invocation-identifier-not-recognized"
            }
            AUTHENTICATION_MECHANISM_NAME_NOT_RECOGNIZED => {
                "authentication-mechanism-name-not-recognized"
            }
            AUTHENTICATION_MECHANISM_NAME_REQUIRED => "authentication-mechanism-name-required",
            AUTHENTICATION_FAILURE => "authentication-failure",
            AUTHENTICATION_REQUIRED => "authentication-required",
            _ => return None,
        })
    }
}

/// acse-service-provider diagnostics of an AARE (X.227 Associate-source-diagnostic).
pub mod provider_diagnostic {
    /// null.
    pub const NULL: u8 = 0;
    /// no-reason-given.
    pub const NO_REASON: u8 = 1;
    /// no-common-acse-version.
    pub const NO_COMMON_ACSE_VERSION: u8 = 2;

    /// The X.227 name of an acse-service-provider diagnostic, if it is one X.227 defines.
    pub const fn name(v: u8) -> Option<&'static str> {
        Some(match v {
            NULL => "null",
            NO_REASON => "no-reason-given",
            NO_COMMON_ACSE_VERSION => "no-common-acse-version",
            _ => return None,
        })
    }
}

/// RLRQ Release-request-reason `normal`.
pub const RELEASE_REQUEST_NORMAL: i64 = 0;
/// RLRQ Release-request-reason `urgent`.
pub const RELEASE_REQUEST_URGENT: i64 = 1;
/// RLRQ / RLRE reason `user-defined`.
pub const RELEASE_USER_DEFINED: i64 = 30;
/// RLRE Release-response-reason `normal`.
pub const RELEASE_RESPONSE_NORMAL: i64 = 0;
/// RLRE Release-response-reason `not-finished`.
pub const RELEASE_RESPONSE_NOT_FINISHED: i64 = 1;

/// ABRT abort-source `acse-service-user`.
pub const ABORT_SOURCE_USER: u8 = 0;
/// ABRT abort-source `acse-service-provider`.
pub const ABORT_SOURCE_PROVIDER: u8 = 1;
/// ABRT-diagnostic `no-reason-given`.
pub const ABORT_NO_REASON: i64 = 1;
/// ABRT-diagnostic `protocol-error`.
pub const ABORT_PROTOCOL_ERROR: i64 = 2;
/// ABRT-diagnostic `authentication-mechanism-name-not-recognized`.
pub const ABORT_AUTHENTICATION_MECHANISM_NAME_NOT_RECOGNIZED: i64 = 3;
/// ABRT-diagnostic `authentication-mechanism-name-required`.
pub const ABORT_AUTHENTICATION_MECHANISM_NAME_REQUIRED: i64 = 4;
/// ABRT-diagnostic `authentication-failure`.
pub const ABORT_AUTHENTICATION_FAILURE: i64 = 5;
/// ABRT-diagnostic `authentication-required`.
pub const ABORT_AUTHENTICATION_REQUIRED: i64 = 6;

/// The X.227 name of an ABRT-diagnostic, if it is one X.227 defines.
pub const fn abort_diagnostic_name(v: i64) -> Option<&'static str> {
    Some(match v {
        ABORT_NO_REASON => "no-reason-given",
        ABORT_PROTOCOL_ERROR => "protocol-error",
        ABORT_AUTHENTICATION_MECHANISM_NAME_NOT_RECOGNIZED => {
            "authentication-mechanism-name-not-recognized"
        }
        ABORT_AUTHENTICATION_MECHANISM_NAME_REQUIRED => "authentication-mechanism-name-required",
        ABORT_AUTHENTICATION_FAILURE => "authentication-failure",
        ABORT_AUTHENTICATION_REQUIRED => "authentication-required",
        _ => return None,
    })
}

/// The addressing of one side of an association: AP-title, AE-qualifier and invocation identifiers.
/// ICCP identifies peers by AP-title (form 2, an OID such as `1.1.1.999`) and AE-qualifier (form 2, an
/// integer such as 12).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ApInvocation {
    /// AP-title, form 2 (an object identifier).
    pub ap_title: Option<ObjectIdentifier>,
    /// AE-qualifier, form 2 (an integer).
    pub ae_qualifier: Option<i64>,
    /// AP-invocation-identifier.
    pub ap_invocation_id: Option<i64>,
    /// AE-invocation-identifier.
    pub ae_invocation_id: Option<i64>,
}

/// The calling-authentication-value of an AARQ with its mechanism.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Authentication<'a> {
    /// Password authentication: mechanism [`password_mechanism`], value `charstring [0]`
    /// (a GraphicString; the octets as sent).
    Password(&'a [u8]),
    /// Any other mechanism or value form.
    Other {
        /// mechanism-name, when present.
        mechanism: Option<ObjectIdentifier>,
        /// The whole encoded Authentication-value CHOICE element (e.g. `81 …` for bitstring), as found
        /// inside the `[12]` tag; encoders write it back unchanged.
        value: &'a [u8],
    },
}

/// AARQ-apdu: the associate request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Aarq<'a> {
    /// aSO-context-name (application-context-name), normally [`mms_application_context`].
    pub application_context: ObjectIdentifier,
    /// called-AP-title / AE-qualifier / invocation identifiers (`[2]`–`[5]`).
    pub called: ApInvocation,
    /// calling-AP-title / AE-qualifier / invocation identifiers (`[6]`–`[9]`).
    pub calling: ApInvocation,
    /// Authentication (`[10]`–`[12]`).
    pub authentication: Option<Authentication<'a>>,
    /// user-information: the MMS initiate-request.
    pub user_information: Option<Pdv<'a>>,
}

/// Associate-result of an AARE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssociateResult {
    /// accepted (0).
    Accepted,
    /// rejected-permanent (1).
    RejectedPermanent,
    /// rejected-transient (2).
    RejectedTransient,
}

impl AssociateResult {
    /// The wire value.
    pub const fn code(self) -> i64 {
        match self {
            AssociateResult::Accepted => 0,
            AssociateResult::RejectedPermanent => 1,
            AssociateResult::RejectedTransient => 2,
        }
    }

    /// From the wire value; `None` for a value X.227 does not define.
    pub const fn from_code(v: i64) -> Option<Self> {
        match v {
            0 => Some(AssociateResult::Accepted),
            1 => Some(AssociateResult::RejectedPermanent),
            2 => Some(AssociateResult::RejectedTransient),
            _ => None,
        }
    }
}

impl fmt::Display for AssociateResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AssociateResult::Accepted => "accepted",
            AssociateResult::RejectedPermanent => "rejected-permanent",
            AssociateResult::RejectedTransient => "rejected-transient",
        })
    }
}

/// Associate-source-diagnostic of an AARE: who answered and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssociateDiagnostic {
    /// acse-service-user `[1]`; see [`user_diagnostic`].
    User(u8),
    /// acse-service-provider `[2]`; see [`provider_diagnostic`].
    Provider(u8),
}

impl fmt::Display for AssociateDiagnostic {
    /// The X.227 name (`calling-AP-title-not-recognized`); a value X.227 does not define names its
    /// source and number.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            AssociateDiagnostic::User(v) => match user_diagnostic::name(v) {
                Some(n) => f.write_str(n),
                None => write!(f, "acse-service-user diagnostic {v}"),
            },
            AssociateDiagnostic::Provider(v) => match provider_diagnostic::name(v) {
                Some(n) => write!(f, "acse-service-provider {n}"),
                None => write!(f, "acse-service-provider diagnostic {v}"),
            },
        }
    }
}

/// AARE-apdu: the associate response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Aare<'a> {
    /// aSO-context-name (application-context-name).
    pub application_context: ObjectIdentifier,
    /// The result.
    pub result: AssociateResult,
    /// result-source-diagnostic. The field is mandatory on the wire: `None` encodes as
    /// acse-service-user null.
    pub diagnostic: Option<AssociateDiagnostic>,
    /// responding-AP-title / AE-qualifier / invocation identifiers (`[4]`–`[7]`).
    pub responding: ApInvocation,
    /// user-information: the MMS initiate-response (or initiate-error).
    pub user_information: Option<Pdv<'a>>,
}

/// RLRQ-apdu: the release request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rlrq<'a> {
    /// Release-request-reason (`RELEASE_REQUEST_*`).
    pub reason: Option<i64>,
    /// user-information.
    pub user_information: Option<Pdv<'a>>,
}

/// RLRE-apdu: the release response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rlre<'a> {
    /// Release-response-reason (`RELEASE_RESPONSE_*`).
    pub reason: Option<i64>,
    /// user-information.
    pub user_information: Option<Pdv<'a>>,
}

/// ABRT-apdu: the abort.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Abrt<'a> {
    /// abort-source: [`ABORT_SOURCE_USER`] (0) or [`ABORT_SOURCE_PROVIDER`] (1).
    pub source: u8,
    /// abort-diagnostic (`ABORT_*`).
    pub diagnostic: Option<i64>,
    /// user-information.
    pub user_information: Option<Pdv<'a>>,
}

/// Any ACSE APDU.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Apdu<'a> {
    /// `[APPLICATION 0]` AARQ.
    Aarq(Aarq<'a>),
    /// `[APPLICATION 1]` AARE.
    Aare(Aare<'a>),
    /// `[APPLICATION 2]` RLRQ.
    Rlrq(Rlrq<'a>),
    /// `[APPLICATION 3]` RLRE.
    Rlre(Rlre<'a>),
    /// `[APPLICATION 4]` ABRT.
    Abrt(Abrt<'a>),
}

/// Why an ACSE APDU was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The BER structure is malformed or does not follow the APDU grammar.
    Ber(ber::Error),
    /// An element that is not an ACSE APDU (or an APDU type we do not know, e.g. A-ALTER).
    UnknownApdu(Tag),
    /// protocol-version without version1: no common ACSE version.
    NoCommonAcseVersion,
    /// The mandatory application-context-name is missing.
    MissingApplicationContext,
    /// The AARE lacks its result.
    MissingAssociateResult,
    /// An Associate-result value X.227 does not define.
    InvalidAssociateResult(i64),
    /// A result-source-diagnostic that is neither acse-service-user nor acse-service-provider, or a
    /// value beyond 255.
    InvalidDiagnostic,
    /// An AP-title in form 1 (directory name) or form 3; ICCP uses form 2 (an OID).
    ApTitleFormNotSupported,
    /// An AE-qualifier in form 1 (directory RDN); ICCP uses form 2 (an integer).
    AeQualifierFormNotSupported,
    /// A user-information EXTERNAL without indirect-reference (the presentation context id).
    MissingContextId,
    /// A user-information EXTERNAL without its encoding, or in the arbitrary (BIT STRING) encoding.
    UserInformationEncodingNotSupported,
    /// More than one EXTERNAL in user-information; MMS carries exactly one.
    MoreThanOneUserInformation,
    /// The ABRT lacks its abort-source.
    MissingAbortSource,
    /// An abort-source other than service-user (0) or service-provider (1).
    InvalidAbortSource(i64),
}

impl From<ber::Error> for Error {
    fn from(e: ber::Error) -> Self {
        Error::Ber(e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Ber(e) => write!(f, "ACSE APDU: {e}"),
            Error::UnknownApdu(t) => write!(f, "not a known ACSE APDU: tag {t}"),
            Error::NoCommonAcseVersion => f.write_str("ACSE protocol-version lacks version1"),
            Error::MissingApplicationContext => {
                f.write_str("ACSE APDU lacks its application-context-name")
            }
            Error::MissingAssociateResult => f.write_str("AARE lacks its result"),
            Error::InvalidAssociateResult(v) => write!(f, "invalid AARE result {v}"),
            Error::InvalidDiagnostic => f.write_str("invalid AARE result-source-diagnostic"),
            Error::ApTitleFormNotSupported => {
                f.write_str("AP-title is not in form 2 (object identifier)")
            }
            Error::AeQualifierFormNotSupported => {
                f.write_str("AE-qualifier is not in form 2 (integer)")
            }
            Error::MissingContextId => {
                f.write_str("ACSE user-information lacks its presentation context identifier")
            }
            Error::UserInformationEncodingNotSupported => {
                f.write_str("ACSE user-information uses a missing or unsupported encoding")
            }
            Error::MoreThanOneUserInformation => {
                f.write_str("ACSE user-information holds more than one EXTERNAL")
            }
            Error::MissingAbortSource => f.write_str("ABRT lacks its abort-source"),
            Error::InvalidAbortSource(v) => write!(f, "invalid ABRT abort-source {v}"),
        }
    }
}

impl core::error::Error for Error {}

#[cfg(test)]
mod tests;
