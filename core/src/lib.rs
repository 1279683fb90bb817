//! FreeTase2 core: a sans-IO ICCP / TASE.2 (IEC 60870-6) stack, from RFC 1006 up to MMS.
//!
//! This crate consumes and produces bytes; it never touches a socket, a thread or a clock. The same
//! code runs under tokio (`tase2-tokio`), mio (`tase2-mio`), in a browser (`tase2-wasm`) and in
//! deterministic replays and tests.
//!
//! # Layers
//!
//! | module | standard | what it holds |
//! | --- | --- | --- |
//! | [`ber`] | X.690 | zero-copy reader, minimal-length writer, OIDs |
//! | [`tpkt`] | RFC 1006 | packet framing |
//! | [`cotp`] | ISO 8073 / X.224 class 0 | TPDUs, segmentation, reassembly |
//! | [`session`] | ISO 8327 / X.225 | SPDUs (kernel + duplex) |
//! | [`presentation`] | ISO 8823 / X.226 | CP / CPA / CPR / ARU / ARP, user data |
//! | [`acse`] | ISO 8650 / X.227 | AARQ / AARE / RLRQ / RLRE / ABRT |
//! | [`mms`] | ISO 9506-2 | every PDU, `Data`, `TypeDescription` |
//! | [`assoc`] | all of the above | one association's state machine, both roles |
//! | [`server`] | ISO 9506-1 | an endpoint serving a VMD to many associations |
//! | [`client`] | ISO 9506-1 | typed requests over a client association |
//!
//! # Driving it
//!
//! Every state machine follows the same contract (quinn-proto's): feed input with `handle_input(now,
//! bytes)` and `handle_timeout(now)`; after each, drain `poll_transmit` (bytes into a buffer you own),
//! `poll_event` and `poll_timeout` until empty. **`now` must never go backwards.** Time is the crate's
//! own serialisable [`Instant`], so every input can be logged and replayed.
//!
//! # Panics and errors
//!
//! Nothing a peer sends can make this crate panic: decoders read through bounds-checked cursors and
//! return errors, and every peer mistake is answered the way its protocol expects (COTP ER, session
//! abort, MMS Reject or ConfirmedError) and reported as an event. A panic is a bug; please report it.
//!
//! # Features
//!
//! `server` (default) is the responder's side: it decodes the MMS confirmed requests a server
//! answers and answers the handshake (CR, CONNECT with its CP-PPDU and AARQ, FINISH). A client-only
//! build (the browser package) goes without: it sees every request as
//! [`mms::ConfirmedRequest::Unsupported`], an AARQ as an unknown APDU, and a server-role
//! [`assoc::Association`] refuses the connection.
//! `std` adds the system clock (module `std_clock`).
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(any(test, feature = "std"))]
extern crate std;

pub mod acse;
pub mod assoc;
pub mod ber;
pub mod client;
pub mod cotp;
pub mod deviation;
pub mod dissect;
#[doc(hidden)]
pub mod fuzzing;
pub mod mms;
pub mod presentation;
pub mod record;
pub mod server;
pub mod session;
pub mod sim;
#[cfg(feature = "std")]
pub mod std_clock;
pub mod tase2;
pub mod time;
pub mod tpkt;
mod vec_map;

pub use deviation::{Deviation, DeviationKind};
pub use time::Instant;
