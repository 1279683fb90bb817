//! What the std drivers of FreeTase2 (`tase2-tokio`, `tase2-mio`) share, so that each is
//! written once: TCP keepalive on accepted sockets, recording a core object into a file with a
//! flush after idle time, and the servers' opt-in busy-poll window. The drivers re-export what
//! their users need; depend on this crate directly only to write another driver.

use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

use tase2_core::record::{IoSink, RecordSink};

/// Default idle time before TCP keepalive probes start on an accepted socket.
pub const KEEPALIVE_IDLE: Duration = Duration::from_secs(60);
/// Time between TCP keepalive probes once they started (where the platform lets us set it).
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(10);
/// Unanswered keepalive probes after which the kernel declares the peer dead (where the platform
/// lets us set it): with the defaults a dead peer is found 60 + 3 × 10 = 90 s after it went
/// silent.
pub const KEEPALIVE_RETRIES: u32 = 3;

/// Turn on TCP keepalive on `socket`: probes after `idle`, then every [`KEEPALIVE_INTERVAL`],
/// [`KEEPALIVE_RETRIES`] of them (the interval and count where the platform has them). Pass
/// `socket2::SockRef::from(&stream)` for any std, tokio or mio TCP stream.
pub fn set_keepalive(socket: socket2::SockRef<'_>, idle: Duration) -> io::Result<()> {
    let ka = socket2::TcpKeepalive::new().with_time(idle);
    #[cfg(any(
        target_os = "linux",
        target_os = "android",
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd",
        target_os = "netbsd",
        target_os = "windows"
    ))]
    let ka = ka.with_interval(KEEPALIVE_INTERVAL);
    #[cfg(any(
        target_os = "linux",
        target_os = "android",
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd",
        target_os = "netbsd"
    ))]
    let ka = ka.with_retries(KEEPALIVE_RETRIES);
    socket.set_tcp_keepalive(&ka)
}

/// How long recorded frames may wait in the sink's buffer while the driver is idle: the sink
/// itself flushes only when a later frame arrives, so without this the last moments before a
/// quiet spell would stay in memory until the next input.
pub const IDLE_FLUSH: Duration = Duration::from_millis(100);

/// A recording sink writing the file at `path` (created, or truncated if it exists), buffered:
/// frames go out every 100 ms of recorded time or 64 KiB, and when the core object is dropped.
pub fn record_file(path: impl AsRef<Path>) -> io::Result<Box<dyn RecordSink>> {
    let file = std::fs::File::create(path)?;
    Ok(Box::new(IoSink::new(file)))
}

/// When the driver next flushes the recording: set when something was recorded, taken once the
/// driver has been idle for [`IDLE_FLUSH`].
#[derive(Debug, Default)]
pub struct IdleFlush {
    due: Option<Instant>,
}

impl IdleFlush {
    /// Something may have been recorded: flush within [`IDLE_FLUSH`] unless already due.
    pub fn touch(&mut self, recording: bool) {
        if recording && self.due.is_none() {
            self.due = Some(Instant::now() + IDLE_FLUSH);
        }
    }

    /// When the flush is due, if one is.
    pub fn due(&self) -> Option<Instant> {
        self.due
    }

    /// How long until the flush is due, if one is.
    pub fn timeout(&self) -> Option<Duration> {
        self.due
            .map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// Whether the flush is due now (and if so, it counts as done).
    pub fn take_due(&mut self) -> bool {
        let due = self.due.is_some_and(|d| d <= Instant::now());
        if due {
            self.due = None;
        }
        due
    }

    /// The flush happened.
    pub fn done(&mut self) {
        self.due = None;
    }
}

/// The opt-in busy-poll of a server thread: after input it keeps polling its sockets without
/// sleeping for `window`, and sleeps once that long passed with no new input.
///
/// Why: on a VM a sleeping vCPU is woken through the hypervisor, so an association that pipelines
/// its requests pays a sleep and a wake-up of the server per batch, and with one association that
/// wake-up, not the server's work, bounds the reads per second. Spinning trades CPU for it: the
/// thread burns its core for `window` after every input, which is wrong as a default for a
/// control centre's server (its links are mostly quiet) and right for a dedicated gateway that
/// must answer in microseconds. A quiet link costs at most one `window` of spinning per burst.
///
/// The driver counts inputs (any count that grows with each input will do) and asks
/// [`Self::keep_spinning`] on each pass; no clock is read on the input path.
#[derive(Debug, Clone)]
pub struct SpinWindow {
    window: Duration,
    seen: u64,
    since: Option<Instant>,
}

impl SpinWindow {
    /// Spin for `window` after the last input.
    pub fn new(window: Duration) -> SpinWindow {
        SpinWindow {
            window,
            seen: 0,
            since: None,
        }
    }

    /// The window.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// Whether to poll again without sleeping, given the input count now and the time: true
    /// while the count moved less than the window ago. Only a count that moved opens the window
    /// (a wake-up for a timer does not), measured from the call that first sees it.
    pub fn keep_spinning(&mut self, inputs: u64, now: Instant) -> bool {
        if inputs != self.seen {
            self.seen = inputs;
            self.since = Some(now);
        }
        self.since
            .is_some_and(|s| now.saturating_duration_since(s) < self.window)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_flush_is_due_only_after_something_was_recorded() {
        let mut f = IdleFlush::default();
        f.touch(false);
        assert_eq!(f.due(), None);
        f.touch(true);
        let due = f.due().expect("scheduled");
        // A second touch does not push the deadline back.
        f.touch(true);
        assert_eq!(f.due(), Some(due));
        assert!(f.timeout().unwrap() <= IDLE_FLUSH);
        f.done();
        assert_eq!(f.due(), None);
        assert!(!f.take_due());
    }

    #[test]
    fn spin_window_spins_after_input_and_stops_when_quiet() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut w = SpinWindow::new(ms(10));
        // No input yet: no spinning.
        assert!(!w.keep_spinning(0, t0));
        // Input opens the window, measured from when it was seen.
        assert!(w.keep_spinning(1, t0 + ms(1)));
        assert!(w.keep_spinning(1, t0 + ms(10)));
        // Quiet for the whole window: sleep, and stay asleep on later looks (timer wake-ups).
        assert!(!w.keep_spinning(1, t0 + ms(11)));
        assert!(!w.keep_spinning(1, t0 + ms(50)));
        // New input restarts it each time.
        assert!(w.keep_spinning(2, t0 + ms(60)));
        assert!(w.keep_spinning(3, t0 + ms(69)));
        assert!(w.keep_spinning(3, t0 + ms(78)));
        assert!(!w.keep_spinning(3, t0 + ms(79)));
        // A zero window never spins.
        let mut off = SpinWindow::new(Duration::ZERO);
        assert!(!off.keep_spinning(5, t0));
        assert_eq!(off.window(), Duration::ZERO);
    }

    #[test]
    fn keepalive_is_set_on_a_socket() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let s = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
        set_keepalive(socket2::SockRef::from(&s), Duration::from_secs(30)).unwrap();
        assert!(socket2::SockRef::from(&s).keepalive().unwrap());
        #[cfg(target_os = "linux")]
        assert_eq!(
            socket2::SockRef::from(&s).tcp_keepalive_time().unwrap(),
            Duration::from_secs(30)
        );
    }
}
