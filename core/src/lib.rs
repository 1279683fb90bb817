//! FreeTase2 core: a sans-IO ICCP / TASE.2 stack.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod ber;
pub mod mms;
pub mod time;

pub use time::Instant;
