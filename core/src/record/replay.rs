//! The replaying side: feed a log's inputs to a fresh core object on the recorded clock and check
//! that it gives out the recorded bytes, octet for octet.
//!
//! Outputs are compared as one octet stream per connection (a driver may drain in chunks of any
//! size); the fresh object is drained where the original was, so anything that depends on when
//! output leaves (back-pressure) replays the same way. The first difference stops the replay
//! with a [`Divergence`] naming the entry, the connection and the TPKT frames that differ.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::time::Duration;

use super::format::{Entry, Event, Header, Role};
use super::reader::{Reader, RecordError};
use crate::time::Instant;

/// A core object a log can be replayed into.
pub trait Replayable {
    /// The role its logs carry.
    const ROLE: Role;

    /// The digest of its configuration and model, compared with the log's header.
    fn fingerprint(&self) -> u64;

    /// Whether a log whose header carries `recorded` was made by an object like this one: its
    /// [`fingerprint`](Self::fingerprint) by default.
    fn made_this(&self, recorded: u64) -> bool {
        recorded == self.fingerprint()
    }

    /// Apply one input (never an [`Event::Output`]).
    fn apply(&mut self, at: Instant, event: &Event) -> Result<(), Mismatch>;

    /// Append the bytes pending for `conn` to `buf`; how many.
    fn transmit(&mut self, conn: u64, buf: &mut Vec<u8>) -> usize;

    /// Discard pending events (the application's reactions are in the log as inputs); how many.
    fn drain_events(&mut self) -> usize;
}

/// An input the fresh object did not take as the original did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mismatch {
    /// A command returned another operation id.
    OpId {
        /// Recorded.
        expected: u64,
        /// Now.
        got: u64,
    },
    /// A connection was accepted with another id, or refused where it was accepted (or the other
    /// way round).
    Connection {
        /// Recorded (`None`: refused).
        expected: Option<u64>,
        /// Now.
        got: Option<u64>,
    },
    /// The entry belongs to the other role.
    WrongRole,
    /// The original changed the object through a door the log cannot see.
    Unrecordable(String),
    /// A recorded input cannot be rebuilt (e.g. a request PDU that no longer decodes).
    BadInput(String),
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mismatch::OpId { expected, got } => {
                write!(f, "the command got operation id {got}, recorded {expected}")
            }
            Mismatch::Connection { expected, got } => {
                let show = |c: &Option<u64>| match c {
                    Some(c) => alloc::format!("accepted as connection {c}"),
                    None => String::from("refused"),
                };
                write!(
                    f,
                    "the connection was {}, recorded {}",
                    show(got),
                    show(expected)
                )
            }
            Mismatch::WrongRole => f.write_str("the entry does not belong to this role"),
            Mismatch::Unrecordable(what) => write!(
                f,
                "the recorded application used {what}, which a recording cannot see; the replay \
                 cannot go past it"
            ),
            Mismatch::BadInput(what) => write!(f, "a recorded input cannot be rebuilt: {what}"),
        }
    }
}

/// What differs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DivergenceKind {
    /// Both gave out bytes here, and they differ.
    Bytes,
    /// The original gave out bytes the fresh object did not.
    Missing,
    /// The fresh object gave out bytes the original did not.
    Extra,
    /// An input was not taken as recorded.
    Input(Mismatch),
}

/// Where a replay stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// Index of the entry (0 is the first after the header).
    pub index: u64,
    /// Its time.
    pub at: Instant,
    /// The connection.
    pub conn: u64,
    /// What differs.
    pub kind: DivergenceKind,
    /// Offset of the first differing octet in the connection's output stream.
    pub offset: usize,
    /// Offset of the TPKT frame holding it, in the same stream.
    pub frame_offset: usize,
    /// The recorded frame (as far as it was recorded).
    pub expected: Vec<u8>,
    /// The frame the fresh object gave out (as far as it went).
    pub produced: Vec<u8>,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.at.monotonic();
        write!(
            f,
            "entry {} at {}.{:06} s, connection {}: ",
            self.index,
            t.as_secs(),
            t.subsec_micros(),
            self.conn
        )?;
        match &self.kind {
            DivergenceKind::Bytes => write!(
                f,
                "output differs at octet {} (frame at {}, {} octets recorded, {} produced)",
                self.offset,
                self.frame_offset,
                self.expected.len(),
                self.produced.len()
            ),
            DivergenceKind::Missing => write!(
                f,
                "recorded output from octet {} was not produced",
                self.offset
            ),
            DivergenceKind::Extra => write!(
                f,
                "output from octet {} was produced but not recorded",
                self.offset
            ),
            DivergenceKind::Input(m) => write!(f, "{m}"),
        }
    }
}

/// Why a replay failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplayError {
    /// The log cannot be read (after the entries that were replayed).
    Record(RecordError),
    /// The log is of the other role.
    WrongRole {
        /// The log's.
        recorded: Role,
    },
    /// The object could not be rebuilt from the header.
    Setup(String),
    /// The rebuilt object is not the recorded one.
    Fingerprint {
        /// In the header.
        recorded: u64,
        /// Of the rebuilt object.
        built: u64,
    },
    /// The fresh object behaved differently.
    Diverged(Box<Divergence>),
}

impl fmt::Display for ReplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplayError::Record(e) => write!(f, "{e}"),
            ReplayError::WrongRole { recorded } => {
                write!(f, "the recording is of a {recorded:?}, not this role")
            }
            ReplayError::Setup(e) => write!(f, "cannot rebuild the recorded object: {e}"),
            ReplayError::Fingerprint { recorded, built } => write!(
                f,
                "the rebuilt object is not the recorded one (configuration or model fingerprint \
                 {built:016x}, recorded {recorded:016x})"
            ),
            ReplayError::Diverged(d) => write!(f, "replay diverged: {d}"),
        }
    }
}

impl core::error::Error for ReplayError {}

impl From<RecordError> for ReplayError {
    fn from(e: RecordError) -> Self {
        ReplayError::Record(e)
    }
}

/// What a replay went through.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplayStats {
    /// Entries read.
    pub entries: u64,
    /// Inputs applied (bytes, timers, closes, application calls).
    pub inputs: u64,
    /// Octets fed in.
    pub input_bytes: u64,
    /// Octets given out: checked, or (outputs not checked) produced by the fresh object.
    pub output_bytes: u64,
    /// Events the fresh object raised.
    pub events: u64,
    /// Connections seen.
    pub connections: usize,
    /// Recorded time from the header to the last entry.
    pub span: Duration,
}

/// One connection's output: the recorded stream against the produced one, trimmed to the last
/// whole TPKT frame that matched so a long recording replays in bounded memory.
#[derive(Default)]
struct Stream {
    /// Offset in the stream of `expected[0]` and `produced[0]` (a frame boundary).
    base: usize,
    expected: Vec<u8>,
    produced: Vec<u8>,
    /// Octets (from `base`) known equal.
    checked: usize,
}

impl Stream {
    /// Compare what both have; trim matched whole frames.
    fn check(&mut self) -> Result<(), (usize, usize)> {
        let n = self.expected.len().min(self.produced.len());
        if let Some(i) = (self.checked..n).find(|&i| self.expected[i] != self.produced[i]) {
            return Err(self.locate(i));
        }
        self.checked = n;
        // Drop whole frames below `checked`.
        let mut cut = 0;
        while let Some(len) = tpkt_len(&self.expected[cut..]) {
            if cut + len > self.checked {
                break;
            }
            cut += len;
        }
        if cut > 0 {
            self.expected.drain(..cut);
            self.produced.drain(..cut);
            self.checked -= cut;
            self.base += cut;
        }
        Ok(())
    }

    /// (stream offset of octet `i`, index of its frame's start within the buffers).
    fn locate(&self, i: usize) -> (usize, usize) {
        let mut start = 0;
        while let Some(len) = tpkt_len(&self.expected[start..]) {
            if start + len > i {
                break;
            }
            start += len;
        }
        (self.base + i, start)
    }

    fn frames(&self, start: usize) -> (Vec<u8>, Vec<u8>) {
        let take = |v: &[u8]| {
            let rest = &v[start.min(v.len())..];
            let len = tpkt_len(rest).unwrap_or(rest.len()).min(rest.len());
            rest[..len].to_vec()
        };
        (take(&self.expected), take(&self.produced))
    }
}

/// The length of the TPKT frame at the start of `b`, if its header is there and sane.
fn tpkt_len(b: &[u8]) -> Option<usize> {
    if b.len() < 4 || b[0] != 3 {
        return None;
    }
    let len = usize::from(u16::from_be_bytes([b[2], b[3]]));
    (len >= 4).then_some(len)
}

/// How a replay checks the fresh object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplayOptions {
    /// Compare every output octet with the log (the default). Off, only the inputs are fed: the
    /// fresh object's output is drained after each input and thrown away, and a header
    /// fingerprint of 0 (a log made from a packet capture, whose server was not ours) is not
    /// checked. That is how a third-party peer's traffic is fed through our stack: its octets
    /// will never equal ours, but what our object makes of the inputs (errors, aborts) shows.
    pub check_outputs: bool,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        ReplayOptions {
            check_outputs: true,
        }
    }
}

/// Replay the log `data` into `core` (built from the log's header by the caller) and check its
/// outputs.
pub fn replay<T: Replayable>(core: &mut T, data: &[u8]) -> Result<ReplayStats, ReplayError> {
    let mut reader = Reader::new(data)?;
    replay_reader(core, &mut reader)
}

/// [`replay`] with options, calling `on_input(core, index, entry)` after each input is applied
/// and before the object's pending events are discarded, so the caller can take the events it
/// wants (e.g. `Endpoint::poll_event` for peer errors) with the entry that raised them.
pub fn replay_with<T: Replayable>(
    core: &mut T,
    data: &[u8],
    options: &ReplayOptions,
    on_input: &mut dyn FnMut(&mut T, u64, &Entry),
) -> Result<ReplayStats, ReplayError> {
    let mut reader = Reader::new(data)?;
    replay_reader_with(core, &mut reader, options, on_input)
}

/// [`replay`] over an opened [`Reader`] (its header already checked by the caller's builder).
pub fn replay_reader<T: Replayable>(
    core: &mut T,
    reader: &mut Reader<'_>,
) -> Result<ReplayStats, ReplayError> {
    replay_reader_with(core, reader, &ReplayOptions::default(), &mut |_, _, _| {})
}

/// [`replay_with`] over an opened [`Reader`].
pub fn replay_reader_with<T: Replayable>(
    core: &mut T,
    reader: &mut Reader<'_>,
    options: &ReplayOptions,
    on_input: &mut dyn FnMut(&mut T, u64, &Entry),
) -> Result<ReplayStats, ReplayError> {
    let header = reader.header().clone();
    check_header::<T>(&header, core, options)?;
    let mut stats = ReplayStats::default();
    let mut streams: BTreeMap<u64, Stream> = BTreeMap::new();
    let mut last = header.start;
    let mut index = 0u64;
    while let Some(entry) = reader.next_entry()? {
        let at = entry.at;
        last = at;
        stats.entries += 1;
        match &entry.event {
            // Recorded octets of another implementation: nothing to compare them with.
            Event::Output { .. } if !options.check_outputs => {}
            Event::Output { conn, bytes } => {
                let s = streams.entry(*conn).or_default();
                s.expected.extend_from_slice(bytes);
                stats.output_bytes += bytes.len() as u64;
                while s.produced.len() < s.expected.len() {
                    if core.transmit(*conn, &mut s.produced) == 0 {
                        break;
                    }
                }
                let missing = s.produced.len() < s.expected.len();
                compare(s, index, at, *conn, missing)?;
            }
            input => {
                if let Event::Input { bytes, .. } = input {
                    stats.input_bytes += bytes.len() as u64;
                }
                if let Event::Open { conn }
                | Event::OpenFrom {
                    conn: Some(conn), ..
                } = input
                {
                    streams.entry(*conn).or_default();
                }
                stats.inputs += 1;
                core.apply(at, input).map_err(|m| {
                    let conn = match input {
                        Event::Open { conn }
                        | Event::Input { conn, .. }
                        | Event::TransportClosed { conn } => *conn,
                        _ => 0,
                    };
                    ReplayError::Diverged(Box::new(Divergence {
                        index,
                        at,
                        conn,
                        kind: DivergenceKind::Input(m),
                        offset: 0,
                        frame_offset: 0,
                        expected: Vec::new(),
                        produced: Vec::new(),
                    }))
                })?;
                on_input(core, index, &entry);
                stats.events += core.drain_events() as u64;
                if !options.check_outputs {
                    // Drain every connection as a driver would, so back-pressure never holds
                    // the object; the octets are counted, not kept.
                    let conns: Vec<u64> = match T::ROLE {
                        Role::Client => alloc::vec![0],
                        Role::Server => streams.keys().copied().collect(),
                    };
                    let mut sink = Vec::new();
                    for conn in conns {
                        while core.transmit(conn, &mut sink) > 0 {
                            stats.output_bytes += sink.len() as u64;
                            sink.clear();
                        }
                    }
                }
            }
        }
        index += 1;
    }
    stats.span = last.saturating_duration_since(header.start);
    if !options.check_outputs {
        stats.connections = streams.len();
        return Ok(stats);
    }
    // Whatever the fresh object still has to say was never recorded.
    let conns: Vec<u64> = streams.keys().copied().collect();
    let conns = if T::ROLE == Role::Client && conns.is_empty() {
        alloc::vec![0]
    } else {
        conns
    };
    for conn in conns {
        let s = streams.entry(conn).or_default();
        while core.transmit(conn, &mut s.produced) > 0 {}
        compare(s, index, last, conn, false)?;
        if s.produced.len() > s.expected.len() {
            let (offset, start) = s.locate(s.expected.len());
            let (expected, produced) = s.frames(start);
            return Err(ReplayError::Diverged(Box::new(Divergence {
                index,
                at: last,
                conn,
                kind: DivergenceKind::Extra,
                offset,
                frame_offset: s.base + start,
                expected,
                produced,
            })));
        }
    }
    stats.connections = streams.len();
    Ok(stats)
}

fn check_header<T: Replayable>(
    header: &Header,
    core: &T,
    options: &ReplayOptions,
) -> Result<(), ReplayError> {
    if header.role != T::ROLE {
        return Err(ReplayError::WrongRole {
            recorded: header.role,
        });
    }
    if header.fingerprint == 0 && !options.check_outputs {
        // A log of someone else's object (a packet capture): no model to compare with.
        return Ok(());
    }
    if !core.made_this(header.fingerprint) {
        let built = core.fingerprint();
        return Err(ReplayError::Fingerprint {
            recorded: header.fingerprint,
            built,
        });
    }
    Ok(())
}

fn compare(
    s: &mut Stream,
    index: u64,
    at: Instant,
    conn: u64,
    missing: bool,
) -> Result<(), ReplayError> {
    let diverged = |s: &Stream, kind, offset, start| {
        let (expected, produced) = s.frames(start);
        ReplayError::Diverged(Box::new(Divergence {
            index,
            at,
            conn,
            kind,
            offset,
            frame_offset: s.base + start,
            expected,
            produced,
        }))
    };
    if let Err((offset, start)) = s.check() {
        return Err(diverged(s, DivergenceKind::Bytes, offset, start));
    }
    if missing {
        let (offset, start) = s.locate(s.produced.len());
        return Err(diverged(s, DivergenceKind::Missing, offset, start));
    }
    Ok(())
}
