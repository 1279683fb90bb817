//! Recording a driver's core object into a file (see `tase2_core::record`).

use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

use tase2_core::record::{IoSink, RecordSink};

/// How long recorded frames may wait in the sink's buffer while the loop is idle: the sink
/// itself flushes only when a later frame arrives, so without this the last moments before a
/// quiet spell would stay in memory until the next input.
const IDLE_FLUSH: Duration = Duration::from_millis(100);

/// A recording sink writing the file at `path` (created, or truncated if it exists), buffered:
/// frames go out every 100 ms of recorded time or 64 KiB, and when the core object is dropped.
pub fn record_file(path: impl AsRef<Path>) -> io::Result<Box<dyn RecordSink>> {
    let file = std::fs::File::create(path)?;
    Ok(Box::new(IoSink::new(file)))
}

/// When the loop next flushes the recording.
#[derive(Debug, Default)]
pub(crate) struct IdleFlush {
    due: Option<Instant>,
}

impl IdleFlush {
    /// Something may have been recorded: flush within [`IDLE_FLUSH`] unless already due.
    pub(crate) fn touch(&mut self, recording: bool) {
        if recording && self.due.is_none() {
            self.due = Some(Instant::now() + IDLE_FLUSH);
        }
    }

    /// How long until the flush is due, if one is.
    pub(crate) fn timeout(&self) -> Option<Duration> {
        self.due
            .map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// Whether the flush is due now (and if so, it counts as done).
    pub(crate) fn take_due(&mut self) -> bool {
        let due = self.due.is_some_and(|d| d <= Instant::now());
        if due {
            self.due = None;
        }
        due
    }
}
