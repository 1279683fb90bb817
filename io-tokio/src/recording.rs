//! Recording a driver's core object into a file (see `tase2_core::record`).

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tase2_core::record::{IoSink, RecordSink};

/// How long recorded frames may wait in the sink's buffer while the driver is idle: the sink
/// itself flushes only when a later frame arrives, so without this the last moments before a
/// quiet spell would stay in memory until the next input.
pub(crate) const IDLE_FLUSH: Duration = Duration::from_millis(100);

/// A recording sink writing the file at `path` (created, or truncated if it exists), buffered:
/// frames go out every 100 ms of recorded time or 64 KiB, and when the core object is dropped.
pub fn record_file(path: impl AsRef<Path>) -> io::Result<Box<dyn RecordSink>> {
    let file = std::fs::File::create(path)?;
    Ok(Box::new(IoSink::new(file)))
}

/// Where a [`Tase2Client`](crate::Tase2Client) records its session: a file, and the producer
/// written into the log's header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordFile {
    /// The log file (created, or truncated if it exists).
    pub path: PathBuf,
    /// Who wrote the log, for people reading it (program, version).
    pub producer: String,
}

impl RecordFile {
    /// Record into `path`, with this crate as the producer.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        RecordFile {
            path: path.into(),
            producer: concat!("tase2-tokio ", env!("CARGO_PKG_VERSION")).into(),
        }
    }

    /// The same with another producer.
    pub fn producer(mut self, producer: impl Into<String>) -> Self {
        self.producer = producer.into();
        self
    }
}

/// When the driver next flushes the recording: set when something was recorded, taken when the
/// driver has been idle for [`IDLE_FLUSH`].
#[derive(Default)]
pub(crate) struct IdleFlush {
    due: Option<tokio::time::Instant>,
}

impl IdleFlush {
    /// Something may have been recorded: flush within [`IDLE_FLUSH`] unless already due.
    pub(crate) fn touch(&mut self, recording: bool) {
        if recording && self.due.is_none() {
            self.due = Some(tokio::time::Instant::now() + IDLE_FLUSH);
        }
    }

    /// Wait until the flush is due (forever if none is).
    pub(crate) async fn wait(&self) {
        match self.due {
            Some(t) => tokio::time::sleep_until(t).await,
            None => std::future::pending().await,
        }
    }

    /// The flush happened.
    pub(crate) fn done(&mut self) {
        self.due = None;
    }
}
