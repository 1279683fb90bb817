//! The simulated transport between one client and the server: two ordered byte pipes with a
//! latency, jitter and chunking, like a TCP connection seen from the application.

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::time::Duration;

use super::SimRng;
use crate::time::Instant;

/// How a simulated link carries bytes, in both directions. The default is an ideal link: every
/// byte arrives at once, in the write it was sent in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkConfig {
    /// One-way delay of every write.
    pub latency: Duration,
    /// Up to this much more delay per write, drawn from the simulator's seed. Bytes still arrive
    /// in order (a write never overtakes an earlier one), as on TCP.
    pub jitter: Duration,
    /// Split every write into pieces of 1 to `max_chunk` octets, sizes drawn from the seed, each
    /// handed to the receiver by its own `handle_input` (exercises TPKT reassembly). 0: whole
    /// writes.
    pub max_chunk: usize,
}

/// Which way bytes went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From a client to the server.
    ToServer,
    /// From the server to a client.
    ToClient,
}

/// One piece of bytes handed to a receiver (see [`Sim::trace`](super::Sim::trace)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// When.
    pub at: Instant,
    /// The client's index.
    pub client: usize,
    /// Which way.
    pub direction: Direction,
    /// How many octets.
    pub len: usize,
}

/// One direction of a link: writes in flight, each due at its arrival time.
#[derive(Debug, Default)]
pub(super) struct Pipe {
    queue: VecDeque<(Instant, Vec<u8>)>,
}

impl Pipe {
    /// Put a write on the wire at `now`.
    pub(super) fn send(&mut self, now: Instant, bytes: &[u8], cfg: &LinkConfig, rng: &mut SimRng) {
        let jitter = if cfg.jitter.is_zero() {
            Duration::ZERO
        } else {
            let nanos = u64::try_from(cfg.jitter.as_nanos()).unwrap_or(u64::MAX);
            Duration::from_nanos(rng.below(nanos.saturating_add(1)))
        };
        let mut at = now + cfg.latency + jitter;
        // In order, as on a stream transport: a later write never arrives first.
        if let Some((last, _)) = self.queue.back() {
            at = at.max(*last);
        }
        if cfg.max_chunk == 0 {
            self.queue.push_back((at, bytes.to_vec()));
            return;
        }
        let mut rest = bytes;
        while !rest.is_empty() {
            let n = 1 + rng.below(cfg.max_chunk.min(rest.len()) as u64) as usize;
            let (piece, tail) = rest.split_at(n);
            self.queue.push_back((at, piece.to_vec()));
            rest = tail;
        }
    }

    /// The next piece due by `now`.
    pub(super) fn pop_due(&mut self, now: Instant) -> Option<Vec<u8>> {
        if self.queue.front().is_some_and(|(at, _)| *at <= now) {
            self.queue.pop_front().map(|(_, b)| b)
        } else {
            None
        }
    }

    /// When the next piece arrives.
    pub(super) fn next_arrival(&self) -> Option<Instant> {
        self.queue.front().map(|(at, _)| *at)
    }

    /// Octets in flight.
    pub(super) fn in_flight(&self) -> usize {
        self.queue.iter().map(|(_, b)| b.len()).sum()
    }

    /// Lose everything in flight (the connection is gone).
    pub(super) fn clear(&mut self) {
        self.queue.clear();
    }
}

/// A client's link and its own stall.
#[derive(Debug, Default)]
pub(super) struct Link {
    pub(super) config: LinkConfig,
    pub(super) up: Pipe,
    pub(super) down: Pipe,
    /// The client reads, writes and keeps time again at this instant.
    pub(super) stalled_until: Option<Instant>,
}

impl Link {
    pub(super) fn new(config: LinkConfig) -> Link {
        Link {
            config,
            ..Link::default()
        }
    }

    pub(super) fn reset(&mut self) {
        self.up.clear();
        self.down.clear();
        self.stalled_until = None;
    }
}
