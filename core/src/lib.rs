//! FreeTase2 core: a sans-IO ICCP / TASE.2 stack.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod acse;
pub mod ber;
pub mod presentation;
pub mod time;

pub use time::Instant;
pub mod cotp;
#[doc(hidden)]
pub mod fuzzing;
pub mod session;
pub mod tpkt;
