//! The writing side: a [`Journal`] inside a core object encodes every call as a frame and hands
//! it to a [`RecordSink`] at once, so memory stays bounded by one frame whatever the length of
//! the recording.

use alloc::boxed::Box;
use alloc::vec::Vec;

use super::format::{write_frame, Entry, Event, Header, MAGIC};
use crate::time::Instant;

/// Where a recording goes. Each call gets one whole frame; what the sink does with it (write a
/// file, keep it in memory, send it away) is its business.
pub trait RecordSink: Send {
    /// Take one frame, encoded at `at` (a sink that buffers can flush on time without a clock).
    fn write(&mut self, at: Instant, frame: &[u8]);
    /// Write out anything buffered (called when the core object is dropped or asked to).
    fn flush(&mut self) {}
    /// The whole log so far, if the sink keeps it in memory (the `Vec<u8>` sink does).
    fn contents(&self) -> Option<&[u8]> {
        None
    }
}

/// The recording kept in memory (the browser viewer's download button, tests).
impl RecordSink for Vec<u8> {
    fn write(&mut self, _at: Instant, frame: &[u8]) {
        self.extend_from_slice(frame);
    }
    fn contents(&self) -> Option<&[u8]> {
        Some(self)
    }
}

/// The recorder inside a core object: encodes each call and passes the frame on.
pub struct Journal {
    sink: Box<dyn RecordSink>,
    frame: Vec<u8>,
    /// The latest `now` seen: the time of calls that take none (output, acks).
    last: Instant,
}

impl core::fmt::Debug for Journal {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Journal").finish_non_exhaustive()
    }
}

impl Journal {
    /// Start a log: the magic and the header go to `sink` at once.
    pub fn new(header: &Header, mut sink: Box<dyn RecordSink>) -> Journal {
        let mut frame = Vec::with_capacity(256);
        frame.extend_from_slice(&MAGIC);
        write_frame(&mut frame, header);
        sink.write(header.start, &frame);
        sink.flush();
        frame.clear();
        Journal {
            sink,
            frame,
            last: header.start,
        }
    }

    /// Record `event` at `at`.
    pub fn log(&mut self, at: Instant, event: Event) {
        // `now` never goes backwards for a well-behaved caller; a log keeps it monotonic anyway.
        let at = if at < self.last { self.last } else { at };
        self.last = at;
        self.frame.clear();
        write_frame(&mut self.frame, &Entry { at, event });
        self.sink.write(at, &self.frame);
        // A long recording must not keep its largest frame's buffer forever.
        if self.frame.capacity() > 64 * 1024 {
            self.frame = Vec::with_capacity(256);
        }
    }

    /// Record `event` at the latest time seen (for calls that take no `now`).
    pub fn log_last(&mut self, event: Event) {
        self.log(self.last, event);
    }

    /// Flush the sink.
    pub fn flush(&mut self) {
        self.sink.flush();
    }

    /// The log so far, if the sink keeps it in memory.
    pub fn contents(&self) -> Option<&[u8]> {
        self.sink.contents()
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        self.sink.flush();
    }
}

/// A sink over any `std::io::Write` (a file): frames are buffered and written out when 64 KiB
/// are waiting or 100 ms of recorded time have passed since the last write, so a crash loses at
/// most the last moments. The first I/O error stops the recording (and is kept for
/// [`IoSink::error`]); the core object goes on.
#[cfg(feature = "std")]
pub struct IoSink<W: std::io::Write + Send> {
    out: W,
    buf: Vec<u8>,
    last: Option<Instant>,
    error: std::sync::Arc<std::sync::Mutex<Option<std::io::Error>>>,
}

#[cfg(feature = "std")]
impl<W: std::io::Write + Send> IoSink<W> {
    /// Buffer frames for `out`.
    pub fn new(out: W) -> Self {
        IoSink {
            out,
            buf: Vec::with_capacity(64 * 1024),
            last: None,
            error: Default::default(),
        }
    }

    /// A handle on the first I/O error, readable after the sink went into a core object.
    pub fn error(&self) -> std::sync::Arc<std::sync::Mutex<Option<std::io::Error>>> {
        self.error.clone()
    }

    fn write_out(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        let r = self
            .out
            .write_all(&self.buf)
            .and_then(|()| self.out.flush());
        self.buf.clear();
        if let Err(e) = r {
            let mut slot = self.error.lock().unwrap_or_else(|p| p.into_inner());
            slot.get_or_insert(e);
        }
    }

    fn failed(&self) -> bool {
        self.error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
    }
}

#[cfg(feature = "std")]
impl<W: std::io::Write + Send> RecordSink for IoSink<W> {
    fn write(&mut self, at: Instant, frame: &[u8]) {
        if self.failed() {
            return;
        }
        self.buf.extend_from_slice(frame);
        let due = self.last.is_none_or(|l| {
            at.saturating_duration_since(l) >= core::time::Duration::from_millis(100)
        });
        if due || self.buf.len() >= 64 * 1024 {
            self.write_out();
            self.last = Some(at);
        }
    }

    fn flush(&mut self) {
        if !self.failed() {
            self.write_out();
        }
    }
}
