//! ISO 8327-1 / X.225 connection-oriented session protocol, kernel and duplex functional units.
//!
//! MMS uses the session layer as a thin envelope: CONNECT / ACCEPT carry the presentation connect,
//! every data TSDU is Give Tokens + Data Transfer, and FINISH / DISCONNECT carry the ACSE release.
//! Selectors are kept and exposed; whether they must match is the association's configuration.

mod pdu;

pub use pdu::{
    refuse_reason_name, write_data_header, ConnectAccept, Error, Spdu, SpduType,
    ABORT_RELEASE_TRANSPORT, ABORT_USER, DUPLEX, MAX_SSEL_LEN, VERSION_2,
};
