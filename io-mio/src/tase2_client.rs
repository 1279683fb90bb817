//! [`MioTase2Client`]: a [`MioSession`] on a `Poll` of its own, driven from the calling thread.

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use mio::{Events, Poll, Token};
use tase2_core::assoc::AssociationConfig;
use tase2_core::record::RecordSink;
use tase2_core::tase2::client::{
    Command, Error, Outcome, Session, SessionConfig, SessionEvent, TypedReport,
};
use tase2_core::tase2::InfoMessage;

use crate::MioSession;

const SOCKET: Token = Token(0);

/// Why a [`MioTase2Client`] call failed.
#[derive(Debug)]
pub enum Tase2ClientError {
    /// The socket failed (connect refused, reset, ...).
    Io(io::Error),
    /// The operation failed: the server refused it (e.g. [`Error::Control`] for a device), its
    /// answer has not the TASE.2 shape, or the association ended ([`Error::Closed`]).
    Session(Error),
}

impl fmt::Display for Tase2ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tase2ClientError::Io(e) => write!(f, "I/O: {e}"),
            Tase2ClientError::Session(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Tase2ClientError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Tase2ClientError::Io(e) => Some(e),
            Tase2ClientError::Session(e) => Some(e),
        }
    }
}

impl From<io::Error> for Tase2ClientError {
    fn from(e: io::Error) -> Self {
        Tase2ClientError::Io(e)
    }
}

impl From<Error> for Tase2ClientError {
    fn from(e: Error) -> Self {
        Tase2ClientError::Session(e)
    }
}

/// A blocking TASE.2 client: a [`MioSession`] and a [`Poll`] of its own; every method runs the
/// loop on the calling thread until what it waits for happens.
///
/// The session's timers bound each wait (connect, request and release timeouts of the
/// [`AssociationConfig`]), so [`Self::run`] always returns. Events no call waited for (reports,
/// information messages, deviations) are kept, in order, for [`Self::next_report`],
/// [`Self::next_info_message`] and [`Self::next_event`].
pub struct MioTase2Client {
    poll: Poll,
    events: Events,
    session: MioSession,
    pending: VecDeque<SessionEvent>,
}

impl MioTase2Client {
    /// Connect to `addr` and associate; returns once the association is established.
    pub fn connect(
        addr: SocketAddr,
        association: AssociationConfig,
    ) -> Result<Self, Tase2ClientError> {
        Self::connect_with(addr, association, SessionConfig::default())
    }

    /// [`Self::connect`] with session settings (auto-ACK, limits).
    pub fn connect_with(
        addr: SocketAddr,
        association: AssociationConfig,
        config: SessionConfig,
    ) -> Result<Self, Tase2ClientError> {
        Self::start(MioSession::connect(addr, association, config)?)
    }

    /// [`Self::connect_with`] over TLS (secure ICCP); `host` is the name or address the server's
    /// certificate must carry unless `tls` names one. See [`MioSession::connect_tls`].
    #[cfg(feature = "tls")]
    pub fn connect_tls(
        addr: SocketAddr,
        host: &str,
        tls: &crate::tls::ClientTls,
        association: AssociationConfig,
        config: SessionConfig,
    ) -> Result<Self, Tase2ClientError> {
        Self::start(MioSession::connect_tls(
            addr,
            host,
            tls,
            association,
            config,
        )?)
    }

    /// [`Self::connect_with`], recording the session into `sink` (e.g.
    /// [`record_file`](crate::record_file)) from its first octet; see [`MioSession::record`].
    pub fn connect_recording(
        addr: SocketAddr,
        association: AssociationConfig,
        config: SessionConfig,
        sink: Box<dyn RecordSink>,
        producer: &str,
    ) -> Result<Self, Tase2ClientError> {
        let mut session = MioSession::connect(addr, association, config)?;
        session
            .record(sink, producer)
            .map_err(|e| Tase2ClientError::Io(io::Error::other(e)))?;
        Self::start(session)
    }

    /// Register `session` on a poll of its own and wait for the association.
    fn start(mut session: MioSession) -> Result<Self, Tase2ClientError> {
        let poll = Poll::new()?;
        session.register(poll.registry(), SOCKET)?;
        let mut c = MioTase2Client {
            poll,
            events: Events::with_capacity(16),
            session,
            pending: VecDeque::new(),
        };
        c.wait_for(|e| matches!(e, SessionEvent::Established(_)), None)?;
        Ok(c)
    }

    /// The core session: its state, the edition, learnt point types and data sets.
    pub fn session(&self) -> &Session {
        self.session.session()
    }

    /// Run `command` and wait for its outcome.
    pub fn run(&mut self, command: Command) -> Result<Outcome, Tase2ClientError> {
        let op = self.session.command(command);
        let done = self.wait_for(
            |e| matches!(e, SessionEvent::Done { op: o, .. } if *o == op),
            None,
        )?;
        match done {
            Some(SessionEvent::Done { result, .. }) => result.map_err(Tase2ClientError::Session),
            // Without a deadline `wait_for` returns a matching event or an error.
            _ => Err(Tase2ClientError::Session(Error::UnexpectedResponse)),
        }
    }

    /// Wait up to `timeout` for the next DS transfer set report. `Ok(None)` when none came in
    /// time; other events stay queued.
    pub fn next_report(
        &mut self,
        timeout: Duration,
    ) -> Result<Option<TypedReport>, Tase2ClientError> {
        let e = self.wait_for(|e| matches!(e, SessionEvent::Report(_)), Some(timeout))?;
        Ok(match e {
            Some(SessionEvent::Report(r)) => Some(r),
            _ => None,
        })
    }

    /// Wait up to `timeout` for the next information message. `Ok(None)` when none came in time;
    /// other events stay queued.
    pub fn next_info_message(
        &mut self,
        timeout: Duration,
    ) -> Result<Option<InfoMessage>, Tase2ClientError> {
        let e = self.wait_for(|e| matches!(e, SessionEvent::InfoMessage(_)), Some(timeout))?;
        Ok(match e {
            Some(SessionEvent::InfoMessage(m)) => Some(m),
            _ => None,
        })
    }

    /// Wait up to `timeout` for the next event no call waited for. `Ok(None)` when none came in
    /// time.
    pub fn next_event(
        &mut self,
        timeout: Duration,
    ) -> Result<Option<SessionEvent>, Tase2ClientError> {
        self.wait_for(|_| true, Some(timeout))
    }

    /// Write out what the session's recording buffers (it is also flushed while a call waits
    /// and when the client is dropped).
    pub fn flush_recording(&mut self) {
        self.session.flush_recording();
    }

    /// Release the association in order and close the socket.
    pub fn conclude(&mut self) -> Result<(), Tase2ClientError> {
        self.session.conclude()?;
        match self.wait_for(|e| matches!(e, SessionEvent::Closed(_)), None)? {
            Some(SessionEvent::Closed(None)) => Ok(()),
            Some(SessionEvent::Closed(cause)) => {
                Err(Tase2ClientError::Session(Error::Closed(cause)))
            }
            _ => Err(Tase2ClientError::Session(Error::UnexpectedResponse)),
        }
    }

    /// Drive the loop until an event matching `want` arrives (taken out of the queue), `timeout`
    /// passes (`Ok(None)`) or the session has closed with no such event queued (an error).
    fn wait_for(
        &mut self,
        mut want: impl FnMut(&SessionEvent) -> bool,
        timeout: Option<Duration>,
    ) -> Result<Option<SessionEvent>, Tase2ClientError> {
        let end = timeout.map(|t| std::time::Instant::now() + t);
        loop {
            while let Some(e) = self.session.poll_event() {
                self.pending.push_back(e);
            }
            if let Some(pos) = self.pending.iter().position(&mut want) {
                return Ok(self.pending.remove(pos));
            }
            if self.session.session().is_closed() {
                return Err(self.closed_error());
            }
            let left = end.map(|e| e.saturating_duration_since(std::time::Instant::now()));
            if left == Some(Duration::ZERO) {
                return Ok(None);
            }
            let wait = self.session.timeout().into_iter().chain(left).min();
            match self.poll.poll(&mut self.events, wait) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
            for event in &self.events {
                self.session.handle_ready(event);
            }
            self.session.handle_timeout();
        }
    }

    /// Why the session is closed: the socket's failure if it was one, else the session's cause.
    fn closed_error(&self) -> Tase2ClientError {
        match self.session.io_error() {
            Some(e) => Tase2ClientError::Io(io::Error::new(e.kind(), e.to_string())),
            None => Tase2ClientError::Session(Error::Closed(self.session().error().cloned())),
        }
    }
}

impl fmt::Debug for MioTase2Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MioTase2Client")
            .field("session", &self.session)
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}
