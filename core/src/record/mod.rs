//! Deterministic record and replay of core objects.
//!
//! The core is sans-IO and clock-free, so everything a [`Session`](crate::tase2::client::Session)
//! or a TASE.2 server [`Endpoint`](crate::server::Endpoint) does follows from its calls: bytes in,
//! timers fired, transports closed, application commands, each with its `now`. A recording is
//! those calls, plus every octet given out; a replay feeds the calls to a fresh object on the
//! recorded clock and checks the octets. A partner's link debugged from a recording, a regression
//! suite of real third-party sessions, a browser session replayed in a unit test: all the same.
//!
//! - **Recording** is built into the objects: [`Session::record`](crate::tase2::client::Session::record)
//!   and [`Endpoint::record`](crate::server::Endpoint::record) take a [`RecordSink`] before the
//!   first input; from then on every public call that changes the object is logged (one frame
//!   at a time, so memory stays bounded; `IoSink` (feature `std`) writes a file and flushes every 100 ms of
//!   recorded time). Calls the log cannot see (`model_mut`, `hooks_mut`, `with_outbox`) are
//!   logged as [`Event::Unrecordable`] and stop a replay there with a clear error.
//! - **The format** ([`format`]) is versioned postcard frames with checksums; variants are only
//!   ever appended. [`Reader`] reads it and refuses bad files (truncated, corrupted, hostile
//!   lengths, newer versions) with a [`RecordError`], never a panic.
//! - **Replay** ([`replay()`]) drives any [`Replayable`]: the session and `Endpoint<Tase2>` are.
//!   [`replay_session`] rebuilds a client session from the header by itself; a server needs its
//!   model, which the application that recorded it knows how to build (the `tase2` tool embeds
//!   the model's TOML).
//!
//! ```
//! use tase2_core::record::{self, Reader};
//! use tase2_core::tase2::client::{Command, Session, SessionConfig};
//! use tase2_core::assoc::AssociationConfig;
//! use tase2_core::Instant;
//!
//! let now = Instant::ZERO;
//! let mut s = Session::new(AssociationConfig::default(), SessionConfig::default(), now);
//! s.record(Box::new(Vec::<u8>::new()), "doc example").unwrap();
//! s.command(now, Command::Discover);
//! let mut out = Vec::new();
//! s.poll_transmit(&mut out); // the connect request
//! s.handle_transport_closed(now); // nobody answered
//! let log = s.recording().unwrap().to_vec();
//!
//! assert_eq!(Reader::new(&log).unwrap().header().producer, "doc example");
//! let stats = record::replay_session(&log).unwrap();
//! assert_eq!(stats.output_bytes, out.len() as u64);
//! ```

pub mod format;
mod journal;
mod reader;
mod replay;
mod targets;

pub use format::{
    Entry, Event, FailoverInput, FailoverSetup, Header, Role, ServerInput, SessionInput,
    SessionSetup, FAILOVER_SETUP, FORMAT_VERSION, MAGIC,
};
#[cfg(feature = "std")]
pub use journal::IoSink;
pub use journal::{Journal, RecordSink};
pub use reader::{Reader, RecordError, DEFAULT_MAX_FRAME};
pub use replay::{
    replay, replay_reader, replay_reader_with, replay_with, Divergence, DivergenceKind, Mismatch,
    ReplayError, ReplayOptions, ReplayStats, Replayable,
};
pub use targets::{replay_failover, replay_session};

/// Why recording could not start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordStartError {
    /// The object already took input (or gave output): a replay from its construction would not
    /// see what happened before.
    NotFresh,
    /// It is recording already.
    AlreadyRecording,
}

impl core::fmt::Display for RecordStartError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            RecordStartError::NotFresh => {
                "recording must start before the first input (a replay starts from a fresh object)"
            }
            RecordStartError::AlreadyRecording => "already recording",
        })
    }
}

impl core::error::Error for RecordStartError {}
