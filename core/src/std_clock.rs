//! The system clock as the core's [`Instant`] (feature `std`): the one clock every driver uses.
//!
//! The monotonic part counts from the first reading in this process, so every reading from it
//! (client, server, any thread, any driver) shares one origin and never goes backwards; the UTC
//! part is [`SystemTime`], which may step (NTP), and only feeds protocol timestamps. A deadline the
//! core gives back converts to a [`std::time::Instant`] with [`to_std`], for `tokio::time::sleep_until`
//! or a `mio::Poll` timeout.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::Instant;

static ORIGIN: OnceLock<std::time::Instant> = OnceLock::new();

fn origin() -> std::time::Instant {
    *ORIGIN.get_or_init(std::time::Instant::now)
}

/// Now: monotonic since the process's first reading, UTC from the system clock.
pub fn now() -> Instant {
    Instant::new(origin().elapsed(), utc_micros(SystemTime::now()))
}

/// The [`std::time::Instant`] at which the core's `deadline` falls.
pub fn to_std(deadline: Instant) -> std::time::Instant {
    origin() + deadline.monotonic()
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
    fn readings_are_monotonic_share_one_origin_and_convert_back() {
        let a = now();
        let b = now();
        assert!(b >= a);
        let wall = utc_micros(SystemTime::now());
        assert!((b.utc_micros() - wall).abs() < 5_000_000);
        let later = b + Duration::from_millis(250);
        let d = to_std(later) - to_std(b);
        assert_eq!(d, Duration::from_millis(250));
        assert_eq!(until(later, b), Duration::ZERO);
    }

    #[test]
    fn utc_before_the_epoch_is_negative() {
        let t = UNIX_EPOCH - Duration::from_secs(2);
        assert_eq!(utc_micros(t), -2_000_000);
    }
}
