//! The core's one notion of time.
//!
//! The core never reads a clock (`no_std`, deterministic, replayable): every call that needs time takes
//! an [`Instant`]. Adapters build it from the system clock; tests and replays make it up.

use core::ops::{Add, Sub};
use core::time::Duration;
use serde::{Deserialize, Serialize};

/// A point in time as the core sees it: a monotonic reading for timers plus the UTC wall clock for
/// protocol timestamps (TASE.2 `TimeStamp`, MMS UTC-time).
///
/// Ordering and differences use the monotonic reading only, so a wall-clock step (NTP, leap second)
/// never fires or starves a timer. Adding a [`Duration`] advances both readings together.
///
/// **Invariant: the monotonic reading passed to a core object never goes backwards.**
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Instant {
    mono_micros: u64,
    utc_micros: i64,
}

impl Instant {
    /// The start of a virtual clock: monotonic zero at the Unix epoch. Handy for tests.
    pub const ZERO: Instant = Instant {
        mono_micros: 0,
        utc_micros: 0,
    };

    /// Build an instant from a monotonic reading (any fixed origin) and the UTC time in microseconds
    /// since 1970-01-01T00:00:00Z.
    pub const fn new(monotonic: Duration, utc_micros: i64) -> Self {
        Instant {
            mono_micros: monotonic.as_micros() as u64,
            utc_micros,
        }
    }

    /// A virtual clock reading at `monotonic` whose wall clock starts at `utc_epoch_seconds`.
    pub const fn virtual_at(monotonic: Duration, utc_epoch_seconds: i64) -> Self {
        let mono = monotonic.as_micros() as u64;
        Instant {
            mono_micros: mono,
            utc_micros: utc_epoch_seconds * 1_000_000 + mono as i64,
        }
    }

    /// The monotonic reading.
    pub const fn monotonic(&self) -> Duration {
        Duration::from_micros(self.mono_micros)
    }

    /// UTC microseconds since the Unix epoch.
    pub const fn utc_micros(&self) -> i64 {
        self.utc_micros
    }

    /// UTC whole seconds since the Unix epoch (the TASE.2 `GMTBasedS` / `TimeStamp` unit).
    pub const fn utc_seconds(&self) -> i64 {
        self.utc_micros.div_euclid(1_000_000)
    }

    /// Monotonic time elapsed since `earlier`, zero if `earlier` is later.
    pub fn saturating_duration_since(&self, earlier: Instant) -> Duration {
        Duration::from_micros(self.mono_micros.saturating_sub(earlier.mono_micros))
    }
}

impl PartialEq for Instant {
    fn eq(&self, other: &Self) -> bool {
        self.mono_micros == other.mono_micros
    }
}
impl Eq for Instant {}
impl PartialOrd for Instant {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Instant {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        self.mono_micros.cmp(&other.mono_micros)
    }
}

/// `d` in whole microseconds, `u64::MAX` beyond. In 64-bit arithmetic, unlike
/// `Duration::as_micros`, and with the overflow found by a comparison, not an overflowing
/// multiply: on wasm32 both of those are a 128-bit multiply (a library call), and every deadline
/// the client computes inlines this.
pub(crate) fn micros_saturating(d: Duration) -> u64 {
    let secs = d.as_secs();
    if secs > u64::MAX / 1_000_000 {
        return u64::MAX;
    }
    (secs * 1_000_000).saturating_add(u64::from(d.subsec_micros()))
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, d: Duration) -> Instant {
        let us = micros_saturating(d).min(i64::MAX as u64);
        Instant {
            mono_micros: self.mono_micros.saturating_add(us),
            utc_micros: self.utc_micros.saturating_add(us as i64),
        }
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, earlier: Instant) -> Duration {
        self.saturating_duration_since(earlier)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adding_a_duration_moves_both_clocks_and_ordering_ignores_utc() {
        let t0 = Instant::virtual_at(Duration::ZERO, 1_700_000_000);
        let t1 = t0 + Duration::from_millis(2500);
        assert_eq!(t1.utc_seconds(), 1_700_000_002);
        assert_eq!(t1 - t0, Duration::from_millis(2500));
        let stepped = Instant::new(Duration::from_millis(2500), 0);
        assert_eq!(stepped, t1, "equality is by the monotonic reading");
        assert_eq!(t0 - t1, Duration::ZERO);
    }

    #[test]
    fn microseconds_are_those_of_as_micros_up_to_the_saturation() {
        for d in [
            Duration::ZERO,
            Duration::from_nanos(999),
            Duration::from_nanos(1_999),
            Duration::new(3, 999_999_999),
            Duration::from_secs(u64::MAX / 1_000_000),
        ] {
            assert_eq!(u128::from(micros_saturating(d)), d.as_micros(), "{d:?}");
        }
        assert_eq!(micros_saturating(Duration::MAX), u64::MAX);
        assert_eq!(
            micros_saturating(Duration::from_secs(u64::MAX / 1_000_000 + 1)),
            u64::MAX
        );
        // A deadline beyond any clock saturates rather than wrapping.
        let far = Instant::virtual_at(Duration::from_secs(1), 0) + Duration::MAX;
        assert_eq!(
            far.monotonic(),
            Duration::from_micros(i64::MAX as u64 + 1_000_000)
        );
    }
}
