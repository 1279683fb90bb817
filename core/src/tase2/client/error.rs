//! Why a TASE.2 client operation failed.

use core::fmt;

use crate::assoc::{ApiError, AssocError, RequestError};
use crate::mms::{DataAccessError, ObjectName};

use super::ControlError;

/// Why an operation of a [`Session`](super::Session) failed. Each variant says whose mistake it
/// was: the server's answer ([`Error::Access`], [`Error::Request`], [`Error::Control`]), a value that
/// does not have the TASE.2 shape ([`Error::UnexpectedValue`], [`Error::NotAPoint`],
/// [`Error::NotADevice`]), the association ([`Error::Closed`]) or the caller ([`Error::Api`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Error {
    /// The association refused the request (e.g. a PDU beyond the negotiated size).
    Api(ApiError),
    /// The server answered with a ConfirmedError, rejected the request, or did not answer within
    /// the request timeout.
    Request(RequestError),
    /// The server refused access to the variable.
    Access(DataAccessError),
    /// The server answered with a response of another service than the one asked for.
    UnexpectedResponse,
    /// The association is gone: `None` after an orderly release, else the sticky cause.
    Closed(Option<AssocError>),
    /// The server's value does not have the shape TASE.2 defines for this object (e.g. a
    /// `TASE2_Version` that is not two integers, or a point value that does not fit its type).
    UnexpectedValue(ObjectName),
    /// The variable's type is not a TASE.2 point type.
    NotAPoint(ObjectName),
    /// The server refused a device select, operate or tag request (block 5).
    Control(ControlError),
    /// The variable's type is not that of a TASE.2 device (INT16 or FLOAT32).
    NotADevice(ObjectName),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Api(e) => write!(f, "{e}"),
            Error::Request(e) => write!(f, "{e}"),
            Error::Access(e) => write!(f, "access refused: {e}"),
            Error::UnexpectedResponse => f.write_str("the server answered another service"),
            Error::Closed(None) => f.write_str("association released"),
            Error::Closed(Some(e)) => write!(f, "association closed: {e}"),
            Error::UnexpectedValue(n) => write!(f, "{n}: value not of the TASE.2 type expected"),
            Error::NotAPoint(n) => write!(f, "{n}: not a TASE.2 point type"),
            Error::Control(e) => write!(f, "{e}"),
            Error::NotADevice(n) => write!(f, "{n}: not a TASE.2 device (INT16 or FLOAT32)"),
        }
    }
}

impl core::error::Error for Error {}

impl From<RequestError> for Error {
    fn from(e: RequestError) -> Self {
        Error::Request(e)
    }
}

impl From<ApiError> for Error {
    /// A command refused because the association is gone carries the sticky cause as
    /// [`Error::Closed`]; any other refusal stays [`Error::Api`].
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::Closed(cause) => Error::Closed(cause),
            e => Error::Api(e),
        }
    }
}
