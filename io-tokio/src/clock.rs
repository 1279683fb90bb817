//! The system clock as the core's [`Instant`].

use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tase2_core::Instant;

static START: OnceLock<std::time::Instant> = OnceLock::new();

/// Now: monotonic time since the first call in this process, and the UTC wall clock.
pub fn now() -> Instant {
    let start = *START.get_or_init(std::time::Instant::now);
    let mono = start.elapsed();
    let utc = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    Instant::new(mono, utc.as_micros() as i64)
}

/// The tokio instant at which the core's `deadline` falls.
pub fn to_tokio(deadline: Instant) -> tokio::time::Instant {
    let start = *START.get_or_init(std::time::Instant::now);
    tokio::time::Instant::from_std(start + deadline.monotonic())
}
