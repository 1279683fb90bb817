//! The client sides the simulator can pump.

use alloc::vec::Vec;

use crate::client::Client;
use crate::tase2::client::{Session, SessionEvent};
use crate::time::Instant;

/// A client side the simulator can pump: the TASE.2 [`Session`] or the plain MMS [`Client`].
pub trait Peer {
    /// What it reports.
    type Event;
    /// Bytes to send, appended to `buf`.
    fn poll_transmit(&mut self, buf: &mut Vec<u8>) -> usize;
    /// Bytes received.
    fn handle_input(&mut self, now: Instant, data: &[u8]);
    /// A deadline passed.
    fn handle_timeout(&mut self, now: Instant);
    /// The transport closed.
    fn handle_transport_closed(&mut self, now: Instant);
    /// The next deadline.
    fn poll_timeout(&self) -> Option<Instant>;
    /// The next event.
    fn poll_event(&mut self) -> Option<Self::Event>;
    /// Whether the association is up, or has ended (connect stops waiting then).
    fn is_settled(&self) -> bool;
}

impl Peer for Session {
    type Event = SessionEvent;
    fn poll_transmit(&mut self, buf: &mut Vec<u8>) -> usize {
        Session::poll_transmit(self, buf)
    }
    fn handle_input(&mut self, now: Instant, data: &[u8]) {
        Session::handle_input(self, now, data)
    }
    fn handle_timeout(&mut self, now: Instant) {
        Session::handle_timeout(self, now)
    }
    fn handle_transport_closed(&mut self, now: Instant) {
        Session::handle_transport_closed(self, now)
    }
    fn poll_timeout(&self) -> Option<Instant> {
        Session::poll_timeout(self)
    }
    fn poll_event(&mut self) -> Option<SessionEvent> {
        Session::poll_event(self)
    }
    fn is_settled(&self) -> bool {
        self.is_established() || self.is_closed()
    }
}

impl Peer for Client {
    type Event = crate::assoc::Event;
    fn poll_transmit(&mut self, buf: &mut Vec<u8>) -> usize {
        Client::poll_transmit(self, buf)
    }
    fn handle_input(&mut self, now: Instant, data: &[u8]) {
        Client::handle_input(self, now, data)
    }
    fn handle_timeout(&mut self, now: Instant) {
        Client::handle_timeout(self, now)
    }
    fn handle_transport_closed(&mut self, _now: Instant) {
        Client::handle_transport_closed(self)
    }
    fn poll_timeout(&self) -> Option<Instant> {
        Client::poll_timeout(self)
    }
    fn poll_event(&mut self) -> Option<crate::assoc::Event> {
        Client::poll_event(self)
    }
    fn is_settled(&self) -> bool {
        self.is_established() || self.is_closed()
    }
}
