//! [`MioSession`]: the core TASE.2 client [`Session`] over one non-blocking socket, as a part of
//! the caller's [`mio`] loop.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use mio::event::Event;
use mio::net::TcpStream;

use crate::socket::Socket;
use mio::{Interest, Registry, Token};
use tase2_core::assoc::AssociationConfig;
use tase2_core::mms::ConfirmedRequest;
use tase2_core::record::{RecordSink, RecordStartError};
use tase2_core::std_clock;
use tase2_core::tase2::client::{Command, Error, OpId, Session, SessionConfig, SessionEvent};
use tase2_core::Instant;

use crate::recording::IdleFlush;
use crate::{read_some, write_out, ReadOutcome, READ_BUFFER_SIZE};

/// A TASE.2 client association on one non-blocking socket, for the caller's [`mio::Poll`] loop:
/// a [`TcpStream`] and a core [`Session`], nothing more.
///
/// # The loop
///
/// [`Self::connect`] starts the TCP connect and the association; [`Self::register`] it under a
/// token of yours, then on every turn:
///
/// 1. wait with [`Self::timeout`] as (part of) the `Poll` timeout,
/// 2. pass the events of its token to [`Self::handle_ready`],
/// 3. call [`Self::handle_timeout`] (it does nothing before the session's deadline),
/// 4. drain [`Self::poll_event`].
///
/// Commands ([`Self::command`]) may be issued at any time, even before the association is up
/// (they wait for it); each returns an [`OpId`] and its result arrives as one
/// [`SessionEvent::Done`]. Every method that gives the session input or a command writes what the
/// session has for the server at once; the socket asks for WRITABLE readiness only while bytes
/// are left over. A socket failure (connect refused, reset) closes the session (its pending
/// operations finish with [`Error::Closed`], then [`SessionEvent::Closed`]) and is kept in
/// [`Self::io_error`]. The socket is shut once the session has closed.
pub struct MioSession {
    socket: Socket,
    session: Session,
    /// Where the socket is registered (a clone of the caller's registry).
    registry: Option<Registry>,
    token: Token,
    /// The TCP connect completed.
    connected: bool,
    /// The socket is shut: the session closed, or the transport failed.
    shut: bool,
    /// Bytes the session gave us that the socket has not taken yet.
    unsent: Vec<u8>,
    /// What the socket is registered for.
    interest: Interest,
    buf: Vec<u8>,
    io_error: Option<io::Error>,
    recording: bool,
    idle_flush: IdleFlush,
}

impl MioSession {
    /// Start connecting to `addr` and associating as `association` says. Nothing is sent before
    /// [`Self::register`]; the session's connect timeout (in `association`) bounds the TCP
    /// connect too.
    pub fn connect(
        addr: SocketAddr,
        association: AssociationConfig,
        config: SessionConfig,
    ) -> io::Result<Self> {
        Self::over(
            Socket::Plain(TcpStream::connect(addr)?),
            association,
            config,
        )
    }

    /// [`Self::connect`] over TLS (secure ICCP, IEC 62351-4): the TLS handshake runs first, the
    /// server's certificate verified as `tls` says (its name: [`tase2_tls::ClientTls::server_name`],
    /// else `host`, the name or address the caller connects to). A refused handshake closes the
    /// session with the reason in [`Self::io_error`].
    #[cfg(feature = "tls")]
    pub fn connect_tls(
        addr: SocketAddr,
        host: &str,
        tls: &crate::tls::ClientTls,
        association: AssociationConfig,
        config: SessionConfig,
    ) -> io::Result<Self> {
        let tcp = TcpStream::connect(addr)?;
        let t = crate::tls::TlsSocket::client(tcp, tls, host)?;
        Self::over(Socket::Tls(Box::new(t)), association, config)
    }

    fn over(
        socket: Socket,
        association: AssociationConfig,
        config: SessionConfig,
    ) -> io::Result<Self> {
        Ok(MioSession {
            socket,
            session: Session::new(association, config, std_clock::now()),
            registry: None,
            token: Token(0),
            connected: false,
            shut: false,
            unsent: Vec::new(),
            // Until the connect completes we wait for WRITABLE; see `check_connected`.
            interest: Interest::READABLE | Interest::WRITABLE,
            buf: vec![0; READ_BUFFER_SIZE],
            io_error: None,
            recording: false,
            idle_flush: IdleFlush::default(),
        })
    }

    /// Record the session into `sink` (e.g. [`record_file`](crate::record_file); see
    /// `tase2_core::record`): call it right after [`Self::connect`], before the first
    /// [`Self::handle_ready`] or command. The log replays with
    /// `tase2_core::record::replay_session`; it is flushed at most 100 ms after each activity
    /// (from [`Self::handle_timeout`], which [`Self::timeout`] wakes for) and when the session is
    /// dropped. Changes through [`Self::session_mut`] are recorded too (every mutating call of the
    /// session is).
    pub fn record(
        &mut self,
        sink: Box<dyn RecordSink>,
        producer: &str,
    ) -> Result<(), RecordStartError> {
        self.session.record(sink, producer)?;
        self.recording = true;
        Ok(())
    }

    /// Write out what the session's recording buffers.
    pub fn flush_recording(&mut self) {
        self.session.flush_recording();
    }

    /// Register the socket in `registry` under `token`.
    pub fn register(&mut self, registry: &Registry, token: Token) -> io::Result<()> {
        registry.register(&mut self.socket, token, self.interest)?;
        self.registry = Some(registry.try_clone()?);
        self.token = token;
        Ok(())
    }

    /// The token it was registered under.
    pub fn token(&self) -> Token {
        self.token
    }

    /// The core session: its state, the edition, learnt point types and data sets.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The core session, e.g. for [`Session::ack`]; call [`Self::flush`] after a change that
    /// sends something.
    pub fn session_mut(&mut self) -> &mut Session {
        &mut self.session
    }

    /// The socket failure that closed the session, if one did.
    pub fn io_error(&self) -> Option<&io::Error> {
        self.io_error.as_ref()
    }

    /// Start `command`; its result arrives as [`SessionEvent::Done`] with the returned id.
    pub fn command(&mut self, command: Command) -> OpId {
        let now = std_clock::now();
        let op = self.session.command(now, command);
        self.write(now);
        op
    }

    /// Send any confirmed MMS request; its answer arrives as [`SessionEvent::Done`].
    pub fn request(&mut self, request: ConfirmedRequest) -> OpId {
        let now = std_clock::now();
        let op = self.session.request(now, request);
        self.write(now);
        op
    }

    /// Release the association in order; [`SessionEvent::Closed`] with `None` confirms it.
    pub fn conclude(&mut self) -> Result<(), Error> {
        let now = std_clock::now();
        let r = self.session.conclude(now);
        self.write(now);
        r
    }

    /// Abort the association at once and shut the socket.
    pub fn abort(&mut self) {
        let now = std_clock::now();
        self.session.abort(now);
        self.write(now);
    }

    /// The next event of the session.
    pub fn poll_event(&mut self) -> Option<SessionEvent> {
        self.session.poll_event()
    }

    /// How long the loop may wait before [`Self::handle_timeout`] has work.
    pub fn timeout(&self) -> Option<Duration> {
        let deadline = self
            .session
            .poll_timeout()
            .map(|d| std_clock::until(std_clock::now(), d));
        deadline.into_iter().chain(self.idle_flush.timeout()).min()
    }

    /// Handle a readiness event of its token: finish the connect, read what came, write what
    /// waits.
    pub fn handle_ready(&mut self, event: &Event) {
        if self.shut {
            return;
        }
        let now = std_clock::now();
        if !self.connected {
            self.check_connected(now);
        }
        let readable = event.is_readable() || event.is_read_closed() || event.is_error();
        if readable && self.connected && !self.shut {
            self.read_all(now);
        }
        self.write(now);
    }

    /// Run the session's timers if their deadline passed. Call it after every wakeup.
    pub fn handle_timeout(&mut self) {
        let now = std_clock::now();
        if self.session.poll_timeout().is_some_and(|d| d <= now) {
            self.session.handle_timeout(now);
            self.write(now);
        }
        if self.idle_flush.take_due() {
            self.session.flush_recording();
        }
    }

    /// Write what the session has for the server (after [`Self::session_mut`]); the other methods
    /// do it themselves.
    pub fn flush(&mut self) {
        self.write(std_clock::now());
    }

    /// A non-blocking connect finished when the socket turns writable with no error and a peer.
    fn check_connected(&mut self, now: Instant) {
        match self.socket.take_error() {
            Ok(None) => {}
            Ok(Some(e)) | Err(e) => return self.fail(now, e),
        }
        match self.socket.peer_addr() {
            Ok(_) => {
                self.connected = true;
                // Requests and responses are small and latency-bound.
                let _ = self.socket.set_nodelay(true);
            }
            // Spurious wakeup: still connecting.
            Err(e) if e.kind() == io::ErrorKind::NotConnected => {}
            Err(e) => self.fail(now, e),
        }
    }

    /// Edge-triggered: read until the socket would block.
    fn read_all(&mut self, now: Instant) {
        loop {
            match read_some(&mut self.socket, &mut self.buf) {
                ReadOutcome::Data(n) => self.session.handle_input(now, &self.buf[..n]),
                ReadOutcome::WouldBlock => return,
                ReadOutcome::Closed => {
                    if let Some(e) = self.socket.take_failure() {
                        self.io_error.get_or_insert(e);
                    }
                    self.session.handle_transport_closed(now);
                    return self.shut();
                }
            }
        }
    }

    /// Write what the session has; WRITABLE interest while anything is left; shut the socket once
    /// the session has closed.
    fn write(&mut self, now: Instant) {
        // Every call that gives the session input ends here: what it recorded goes to the file
        // soon.
        self.idle_flush.touch(self.recording);
        if self.shut {
            return;
        }
        if self.connected {
            self.session.poll_transmit(&mut self.unsent);
            if let Err(e) = write_out(&mut self.socket, &mut self.unsent) {
                return self.fail(now, e);
            }
        }
        if self.session.is_closed() {
            // Its last bytes (a release or an abort) went out as far as the socket took them.
            return self.shut();
        }
        if !self.connected {
            return;
        }
        let want = if self.unsent.is_empty() && !self.socket.tls_pending() {
            Interest::READABLE
        } else {
            Interest::READABLE | Interest::WRITABLE
        };
        if want != self.interest {
            if let Some(registry) = &self.registry {
                if let Err(e) = registry.reregister(&mut self.socket, self.token, want) {
                    return self.fail(now, e);
                }
            }
            self.interest = want;
        }
    }

    fn fail(&mut self, now: Instant, e: io::Error) {
        self.io_error.get_or_insert(e);
        self.session.handle_transport_closed(now);
        self.shut();
    }

    fn shut(&mut self) {
        self.shut = true;
        self.unsent.clear();
        if let Some(registry) = &self.registry {
            let _ = registry.deregister(&mut self.socket);
        }
        let _ = self.socket.shutdown(std::net::Shutdown::Both);
    }
}

impl std::fmt::Debug for MioSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MioSession")
            .field("socket", &self.socket)
            .field("token", &self.token)
            .field("connected", &self.connected)
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}
