//! What an association tells its owner, and why it can fail.

use alloc::vec::Vec;
use core::fmt;

use crate::acse::{self, ApInvocation, AssociateDiagnostic, AssociateResult};
use crate::ber::ObjectIdentifier;
use crate::mms::{
    ConfirmedRequest, ConfirmedResponse, InitiateRequest, PduError, RejectPdu, ServiceError,
    UnconfirmedService,
};

use super::Negotiated;
use crate::deviation::Deviation;

/// A client's association request, as the server sees it before deciding.
#[derive(Clone, Debug, PartialEq)]
pub struct AssociateRequest {
    /// The caller's AP-title, AE-qualifier and invocation ids.
    pub calling: ApInvocation,
    /// Whom the caller addressed.
    pub called: ApInvocation,
    /// The application context the caller proposed.
    pub application_context: ObjectIdentifier,
    /// Transport selectors (calling, called).
    pub tsel: (Option<Vec<u8>>, Option<Vec<u8>>),
    /// Session selectors (calling, called).
    pub ssel: (Option<Vec<u8>>, Option<Vec<u8>>),
    /// Presentation selectors (calling, called).
    pub psel: (Option<Vec<u8>>, Option<Vec<u8>>),
    /// Password (mechanism 2.2.3.1), when the caller authenticated.
    pub password: Option<Vec<u8>>,
    /// The MMS Initiate the caller proposed.
    pub initiate: InitiateRequest,
}

/// Something an association reports. Drain with `poll_event` after every input.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// Server role: a client asks to associate. Answer with `accept` or `reject`.
    AssociateIndication(alloc::boxed::Box<AssociateRequest>),
    /// The association is established (both roles).
    Established(Negotiated),
    /// Server role: a confirmed request to answer with the same invoke id.
    Request {
        /// The invoke id to answer.
        invoke_id: u32,
        /// The request.
        request: ConfirmedRequest,
    },
    /// Client role: the answer to one of our requests.
    Response {
        /// The invoke id returned when the request was sent.
        invoke_id: u32,
        /// The answer, or why there is none.
        result: Result<ConfirmedResponse, RequestError>,
    },
    /// An unconfirmed service (InformationReport) from the peer.
    Unconfirmed(UnconfirmedService),
    /// The peer made a mistake that we answered (MMS Reject, ConfirmedError) without closing.
    PeerError(PeerError),
    /// The peer rejected one of our PDUs.
    Rejected(RejectPdu),
    /// The association ended. `None` for an orderly release; the reason otherwise. Reported once, last.
    Closed(Option<AssocError>),
    /// The peer deviated from the standard in a way whose intent was clear; we accepted it and went
    /// on (see [`crate::deviation`]). Reported before the event of what it concerns, if any.
    Deviation(Deviation),
}

/// Why a confirmed request got no response.
#[derive(Clone, Debug, PartialEq)]
pub enum RequestError {
    /// The peer answered with a ConfirmedError.
    Service(ServiceError),
    /// The peer rejected the request.
    Rejected(RejectPdu),
    /// No answer within the request timeout.
    Timeout,
    /// The association closed first.
    AssociationClosed,
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestError::Service(e) => write!(f, "the peer answered with a service error: {e}"),
            RequestError::Rejected(r) => write!(f, "the peer rejected the request: {r}"),
            RequestError::Timeout => f.write_str("request timed out"),
            RequestError::AssociationClosed => f.write_str("association closed before the answer"),
        }
    }
}

impl core::error::Error for RequestError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            RequestError::Service(e) => Some(e),
            _ => None,
        }
    }
}

/// A non-fatal peer mistake and what we answered.
#[derive(Clone, Debug, PartialEq)]
pub enum PeerError {
    /// An MMS PDU we could not decode; a Reject was sent.
    UndecodableMms(PduError),
    /// A request beyond the negotiated outstanding limit; a Reject was sent.
    TooManyOutstanding {
        /// Its invoke id.
        invoke_id: u32,
    },
    /// A request reusing an invoke id still outstanding; a Reject was sent.
    DuplicateInvokeId(u32),
    /// An MMS PDU larger than the negotiated maximum; a Reject was sent.
    PduTooLarge(usize),
    /// A response or error for an invoke id we are not waiting for; a Reject was sent.
    UnexpectedInvokeId(u32),
    /// A PDU not allowed in this state or role; a Reject was sent.
    Unexpected(&'static str),
}

impl fmt::Display for PeerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PeerError::UndecodableMms(e) => write!(f, "undecodable MMS PDU: {e}"),
            PeerError::TooManyOutstanding { invoke_id } => write!(
                f,
                "request {invoke_id} exceeds the negotiated outstanding request limit"
            ),
            PeerError::DuplicateInvokeId(id) => {
                write!(f, "request reuses invoke id {id}, still outstanding")
            }
            PeerError::PduTooLarge(n) => {
                write!(f, "MMS PDU of {n} octets exceeds the negotiated maximum")
            }
            PeerError::UnexpectedInvokeId(id) => {
                write!(f, "answer for invoke id {id}, which is not outstanding")
            }
            PeerError::Unexpected(what) => write!(f, "unexpected PDU: {what}"),
        }
    }
}

impl core::error::Error for PeerError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            PeerError::UndecodableMms(e) => Some(e),
            _ => None,
        }
    }
}

/// Who refused an association and why: the peer's answer to our connect (client), or our own
/// refusal (server). The codes are the wire values of the layer that refused.
#[derive(Clone, Debug, PartialEq)]
pub enum RefusalReason {
    /// The peer's ACSE answered with an AARE that does not accept (ISO 8650-1 §7.1.4), carried in a
    /// presentation CPR or a session RF.
    Acse {
        /// rejected-permanent or rejected-transient.
        result: AssociateResult,
        /// The result-source-diagnostic, when sent.
        diagnostic: Option<AssociateDiagnostic>,
    },
    /// The peer's presentation provider rejected the connect: a CPR without an AARE (X.226
    /// §6.2.4). The provider-reason is one of [`crate::presentation`]'s `PROVIDER_REASON_*`.
    Presentation {
        /// The CPR provider-reason, when sent.
        provider_reason: Option<i64>,
    },
    /// The peer accepted the presentation connect but not a presentation context we proposed.
    PresentationContext {
        /// Which context, counting from 0 in the order we proposed them.
        index: usize,
        /// user-rejection or provider-rejection.
        result: crate::presentation::ContextResult,
        /// The provider-reason (`CONTEXT_REASON_*`), when sent.
        provider_reason: Option<i64>,
    },
    /// The peer's session refused the connect: an RF SPDU without an AARE (X.225 §8.3.3.17).
    Session {
        /// The RF reason code; see [`crate::session::refuse_reason_name`].
        reason: u8,
    },
    /// The peer's transport refused the connection: a DR TPDU answering our CR (X.224 §6.6).
    Cotp {
        /// The DR reason; see [`crate::cotp::disconnect_reason_name`].
        reason: u8,
    },
    /// Server: our application refused with [`super::Association::reject`].
    Application(AssociateDiagnostic),
    /// Server: the AARQ proposes an application context other than MMS (answered
    /// application-context-name-not-supported).
    ApplicationContextNotSupported,
    /// Server: the AARQ carries no valid MMS initiate-request (answered no-reason-given).
    MissingInitiateRequest,
}

impl RefusalReason {
    /// The ACSE diagnostic the refusal carried or answered, if any.
    pub fn diagnostic(&self) -> Option<AssociateDiagnostic> {
        match self {
            RefusalReason::Acse { diagnostic, .. } => *diagnostic,
            RefusalReason::Application(d) => Some(*d),
            RefusalReason::ApplicationContextNotSupported => Some(AssociateDiagnostic::User(
                acse::user_diagnostic::APPLICATION_CONTEXT_NAME_NOT_SUPPORTED,
            )),
            RefusalReason::MissingInitiateRequest => {
                Some(AssociateDiagnostic::User(acse::user_diagnostic::NO_REASON))
            }
            _ => None,
        }
    }
}

/// `name` when known, else `what N`.
struct Named<'a, T>(Option<&'a str>, &'a str, T);

impl<T: fmt::Display> fmt::Display for Named<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(n) => f.write_str(n),
            None => write!(f, "{} {}", self.1, self.2),
        }
    }
}

impl fmt::Display for RefusalReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RefusalReason::Acse { result, diagnostic } => {
                write!(f, "refused by the peer's ACSE: {result}")?;
                match diagnostic {
                    Some(d) => write!(f, ", {d}"),
                    None => Ok(()),
                }
            }
            RefusalReason::Presentation { provider_reason } => {
                f.write_str("refused by the peer's presentation provider")?;
                match provider_reason {
                    Some(r) => write!(
                        f,
                        ": {}",
                        Named(crate::presentation::provider_reason_name(*r), "reason", r)
                    ),
                    None => Ok(()),
                }
            }
            RefusalReason::PresentationContext {
                index,
                result,
                provider_reason,
            } => {
                write!(f, "the peer refused presentation context {index}: {result}")?;
                match provider_reason {
                    Some(r) => write!(
                        f,
                        ", {}",
                        Named(crate::presentation::context_reason_name(*r), "reason", r)
                    ),
                    None => Ok(()),
                }
            }
            RefusalReason::Session { reason } => write!(
                f,
                "refused by the peer's session: {}",
                Named(
                    crate::session::refuse_reason_name(*reason),
                    "reason",
                    reason
                )
            ),
            RefusalReason::Cotp { reason } => write!(
                f,
                "refused by the peer's transport: {}",
                Named(
                    crate::cotp::disconnect_reason_name(*reason),
                    "reason",
                    reason
                )
            ),
            RefusalReason::Application(d) => write!(f, "refused by the application: {d}"),
            RefusalReason::ApplicationContextNotSupported => {
                f.write_str("refused: the AARQ proposes an application context other than MMS")
            }
            RefusalReason::MissingInitiateRequest => {
                f.write_str("refused: the AARQ carries no valid MMS initiate-request")
            }
        }
    }
}

/// Why the MMS Initiate inside an accepting AARE failed (client).
#[derive(Clone, Debug, PartialEq)]
pub enum InitiateError {
    /// The AARE accepts but carries no MMS user information.
    MissingInitiateResponse,
    /// The peer answered with an initiate-ErrorPDU (ISO 9506-2 §8.2).
    Refused(ServiceError),
    /// The AARE carries an MMS PDU other than initiate-response or initiate-error.
    UnexpectedPdu,
    /// The MMS PDU in the AARE could not be decoded.
    Undecodable(PduError),
}

impl fmt::Display for InitiateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InitiateError::MissingInitiateResponse => {
                f.write_str("the AARE carries no MMS initiate-response")
            }
            InitiateError::Refused(e) => write!(f, "the peer answered initiate-error: {e}"),
            InitiateError::UnexpectedPdu => {
                f.write_str("the AARE carries an MMS PDU other than an initiate-response")
            }
            InitiateError::Undecodable(e) => {
                write!(f, "the MMS PDU in the AARE is undecodable: {e}")
            }
        }
    }
}

impl core::error::Error for InitiateError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            InitiateError::Refused(e) => Some(e),
            InitiateError::Undecodable(e) => Some(e),
            _ => None,
        }
    }
}

/// Which layer of the peer aborted an established (or establishing) association, and why.
#[derive(Clone, Debug, PartialEq)]
pub enum AbortSource {
    /// An ACSE ABRT, in a presentation ARU, in a session AB (ISO 8650-1 §7.3).
    Acse {
        /// abort-source: [`acse::ABORT_SOURCE_USER`] or [`acse::ABORT_SOURCE_PROVIDER`].
        source: u8,
        /// The ABRT-diagnostic (`acse::ABORT_*`), when sent.
        diagnostic: Option<i64>,
    },
    /// A presentation ARU (user abort) without an ACSE ABRT.
    PresentationUser,
    /// A presentation ARP: the peer's presentation provider aborted (X.226 §6.4.2).
    Presentation {
        /// The abort-reason (`presentation::ABORT_REASON_*`), when sent.
        reason: Option<i64>,
    },
    /// A session AB without a readable presentation abort.
    Session,
    /// A session RF or AA outside the connect handshake.
    SessionRefuse,
    /// A COTP DR (X.224 §13.5).
    Cotp {
        /// The DR reason; see [`crate::cotp::disconnect_reason_name`].
        reason: u8,
    },
    /// A COTP ER: the peer's transport refused one of our TPDUs (X.224 §13.12).
    CotpError {
        /// The reject cause; see [`crate::cotp::error_cause_name`].
        cause: u8,
    },
}

impl fmt::Display for AbortSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AbortSource::Acse { source, diagnostic } => {
                let who = match *source {
                    acse::ABORT_SOURCE_USER => "acse-service-user",
                    acse::ABORT_SOURCE_PROVIDER => "acse-service-provider",
                    _ => "unknown source",
                };
                write!(f, "ACSE ABRT from the {who}")?;
                match diagnostic {
                    Some(d) => write!(
                        f,
                        ": {}",
                        Named(acse::abort_diagnostic_name(*d), "diagnostic", d)
                    ),
                    None => Ok(()),
                }
            }
            AbortSource::PresentationUser => f.write_str("presentation user abort"),
            AbortSource::Presentation { reason } => {
                f.write_str("presentation provider abort")?;
                match reason {
                    Some(r) => write!(
                        f,
                        ": {}",
                        Named(crate::presentation::abort_reason_name(*r), "reason", r)
                    ),
                    None => Ok(()),
                }
            }
            AbortSource::Session => f.write_str("session abort"),
            AbortSource::SessionRefuse => f.write_str("session refuse outside the handshake"),
            AbortSource::Cotp { reason } => write!(
                f,
                "COTP disconnect: {}",
                Named(
                    crate::cotp::disconnect_reason_name(*reason),
                    "reason",
                    reason
                )
            ),
            AbortSource::CotpError { cause } => write!(
                f,
                "COTP error TPDU: {}",
                Named(crate::cotp::error_cause_name(*cause), "cause", cause)
            ),
        }
    }
}

/// A fatal association failure: reported once in [`Event::Closed`] and kept by the association.
#[derive(Clone, Debug, PartialEq)]
pub enum AssocError {
    /// Framing lost: an invalid TPKT header.
    Tpkt(crate::tpkt::Error),
    /// An invalid TPDU (an ER was sent).
    Cotp(crate::cotp::Error),
    /// An invalid SPDU (an abort was sent).
    Session(crate::session::Error),
    /// An invalid PPDU (an abort was sent).
    Presentation(crate::presentation::Error),
    /// An invalid ACSE APDU (an abort was sent).
    Acse(crate::acse::Error),
    /// A reassembled TSDU beyond the limit.
    TsduTooLarge,
    /// The handshake was refused by the peer (client) or by us (server).
    Refused(RefusalReason),
    /// The MMS Initiate failed.
    InitiateFailed(InitiateError),
    /// The peer sent something the protocol does not allow here.
    Protocol(&'static str),
    /// The peer aborted (ACSE ABRT, session AB, presentation ARP, COTP DR or ER).
    AbortedByPeer(AbortSource),
    /// We aborted on the application's request.
    AbortedLocally,
    /// The handshake or release did not finish in time.
    Timeout(&'static str),
    /// The transport closed under the association.
    TransportClosed,
}

impl fmt::Display for AssocError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AssocError::Tpkt(e) => write!(f, "TPKT: {e}"),
            AssocError::Cotp(e) => write!(f, "COTP: {e}"),
            AssocError::Session(e) => write!(f, "session: {e}"),
            AssocError::Presentation(e) => write!(f, "presentation: {e}"),
            AssocError::Acse(e) => write!(f, "ACSE: {e}"),
            AssocError::TsduTooLarge => f.write_str("reassembled TSDU exceeds the limit"),
            AssocError::Refused(r) => write!(f, "association {r}"),
            AssocError::InitiateFailed(r) => write!(f, "MMS initiate failed: {r}"),
            AssocError::Protocol(r) => write!(f, "protocol violation: {r}"),
            AssocError::AbortedByPeer(r) => write!(f, "aborted by peer: {r}"),
            AssocError::AbortedLocally => f.write_str("aborted locally"),
            AssocError::Timeout(what) => write!(f, "timeout: {what}"),
            AssocError::TransportClosed => f.write_str("transport closed"),
        }
    }
}

impl core::error::Error for AssocError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            AssocError::Tpkt(e) => Some(e),
            AssocError::Cotp(e) => Some(e),
            AssocError::Session(e) => Some(e),
            AssocError::Presentation(e) => Some(e),
            AssocError::Acse(e) => Some(e),
            AssocError::InitiateFailed(e) => Some(e),
            _ => None,
        }
    }
}

/// A command the association refused without touching it.
///
/// Once the association has closed, every command fails with [`ApiError::Closed`], which carries
/// the sticky cause (the same as [`Event::Closed`] and [`super::Association::error`]), so a driver
/// that only sees the command's result can still say why: "association closed: transport closed".
#[derive(Clone, Debug, PartialEq)]
pub enum ApiError {
    /// The association has ended: `None` after an orderly release, the fatal cause otherwise.
    Closed(Option<AssocError>),
    /// Not in a state that allows this (not yet established, closing, or the wrong role).
    InvalidState,
    /// The negotiated number of outstanding requests is reached.
    TooManyOutstanding,
    /// The encoded PDU exceeds the negotiated max PDU size.
    PduTooLarge,
    /// No such outstanding request.
    UnknownInvokeId,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ApiError::Closed(None) => "association released",
            ApiError::Closed(Some(e)) => return write!(f, "association closed: {e}"),
            ApiError::InvalidState => "not allowed in the association's current state",
            ApiError::TooManyOutstanding => "negotiated outstanding request limit reached",
            ApiError::PduTooLarge => "PDU exceeds the negotiated max PDU size",
            ApiError::UnknownInvokeId => "no such outstanding request",
        })
    }
}

impl core::error::Error for ApiError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            ApiError::Closed(Some(e)) => Some(e),
            _ => None,
        }
    }
}
