//! The system clock as the core sees it.
//!
//! The core takes time as an argument ([`Instant`]): a monotonic reading for its timers and the UTC
//! wall clock for protocol timestamps. [`now`] builds one from `std::time`: the monotonic part counts
//! from the first call in this process, so every reading from it (client, server, any thread) shares
//! one origin and never goes backwards; the UTC part is [`SystemTime`], which may step.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tase2_core::Instant;

static ORIGIN: OnceLock<std::time::Instant> = OnceLock::new();

/// The current time: monotonic since the process's first call, UTC from the system clock.
pub fn now() -> Instant {
    let origin = *ORIGIN.get_or_init(std::time::Instant::now);
    Instant::new(origin.elapsed(), utc_micros(SystemTime::now()))
}

/// How long from `now` until `deadline` (zero if it already passed).
pub fn until(now: Instant, deadline: Instant) -> Duration {
    deadline.saturating_duration_since(now)
}

/// Microseconds since the Unix epoch, negative before it, saturating far outside `i64`.
fn utc_micros(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_micros()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_micros()).map_or(i64::MIN, |us| -us),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_are_monotonic_and_utc_is_the_system_clock() {
        let a = now();
        std::thread::sleep(Duration::from_millis(5));
        let b = now();
        assert!(b - a >= Duration::from_millis(5));
        let sys = utc_micros(SystemTime::now());
        assert!(
            (sys - b.utc_micros()).abs() < 5_000_000,
            "{sys} vs {}",
            b.utc_micros()
        );
        assert_eq!(until(b, a), Duration::ZERO);
        assert_eq!(until(a, a + Duration::from_secs(2)), Duration::from_secs(2));
    }

    #[test]
    fn times_before_the_epoch_are_negative() {
        let t = UNIX_EPOCH - Duration::from_secs(3);
        assert_eq!(utc_micros(t), -3_000_000);
        assert_eq!(utc_micros(UNIX_EPOCH + Duration::from_micros(7)), 7);
    }
}
