//! Recording a driver's core object into a file (see `tase2_core::record`).

use std::path::PathBuf;

pub use tase2_driver_util::record_file;
pub(crate) use tase2_driver_util::IdleFlush;

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

/// Wait until `flush` is due (forever if none is).
pub(crate) async fn idle_wait(flush: &IdleFlush) {
    match flush.due() {
        Some(t) => tokio::time::sleep_until(tokio::time::Instant::from_std(t)).await,
        None => std::future::pending().await,
    }
}
