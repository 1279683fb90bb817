//! What an association tells its owner, and why it can fail.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::acse::{ApInvocation, AssociateDiagnostic};
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
            RequestError::Service(e) => write!(f, "service error {e:?}"),
            RequestError::Rejected(r) => write!(f, "rejected: {r:?}"),
            RequestError::Timeout => f.write_str("request timed out"),
            RequestError::AssociationClosed => f.write_str("association closed before the answer"),
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
    /// The handshake was refused by the peer (client) or by our application (server).
    Refused {
        /// Which layer refused and why.
        reason: String,
        /// The ACSE diagnostic, when ACSE refused.
        diagnostic: Option<AssociateDiagnostic>,
    },
    /// The MMS Initiate failed.
    InitiateFailed(String),
    /// The peer sent something the protocol does not allow here.
    Protocol(&'static str),
    /// The peer aborted (ACSE ABRT, session AB, presentation ARP or COTP DR).
    AbortedByPeer(String),
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
            AssocError::Refused { reason, diagnostic } => {
                write!(f, "association refused: {reason} ({diagnostic:?})")
            }
            AssocError::InitiateFailed(r) => write!(f, "MMS initiate failed: {r}"),
            AssocError::Protocol(r) => write!(f, "protocol violation: {r}"),
            AssocError::AbortedByPeer(r) => write!(f, "aborted by peer: {r}"),
            AssocError::AbortedLocally => f.write_str("aborted locally"),
            AssocError::Timeout(what) => write!(f, "timeout: {what}"),
            AssocError::TransportClosed => f.write_str("transport closed"),
        }
    }
}

/// A caller mistake: refused without touching the association.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiError {
    /// Not in a state that allows this (not established, already closing, wrong role).
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
            ApiError::InvalidState => "not allowed in the association's current state",
            ApiError::TooManyOutstanding => "negotiated outstanding request limit reached",
            ApiError::PduTooLarge => "PDU exceeds the negotiated max PDU size",
            ApiError::UnknownInvokeId => "no such outstanding request",
        })
    }
}
