//! The task behind a [`Tase2Client`](super::Tase2Client): it owns the socket and the core
//! [`Session`], turns messages into session commands and session events into replies, reports and
//! diagnostics. All protocol work is the session's; this loop only moves bytes and runs its timer.

use std::collections::{HashMap, VecDeque};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot, watch};

use tase2_core::assoc::{AssocError, Negotiated};
use tase2_core::mms::ConfirmedRequest;
use tase2_core::std_clock;
use tase2_core::tase2::client::{self as t2, Command, OpId, Outcome, Session, SessionEvent};
use tase2_core::tase2::Edition;

use super::{Diagnostic, Tase2Report, UndecodedReport};

/// The answer to one message.
pub(super) type Reply<T> = oneshot::Sender<Result<T, t2::Error>>;

/// What the report channel carries.
pub(super) type Received = Result<Tase2Report, UndecodedReport>;

/// A message from the client handle to its driver.
pub(super) enum Msg {
    /// Start a session command.
    Command(Command, Reply<Outcome>),
    /// Send a raw MMS request.
    Request(ConfirmedRequest, Reply<Outcome>),
    /// Run a closure on the session (getters, ACK, NACK, auto-ACK); it answers by itself.
    With(Box<dyn FnOnce(&mut Session) + Send>),
    /// Orderly release; answered once the association is closed.
    Conclude(Reply<()>),
}

/// What the driver mirrors for the handle's synchronous getters.
#[derive(Clone, Debug)]
pub(super) struct State {
    /// The session's edition.
    pub edition: Edition,
    /// `Some` once the association ended (the inner `None`: released).
    pub closed: Option<Option<AssocError>>,
}

/// The driver's ends of the channels.
pub(super) struct Ends {
    pub commands: mpsc::Receiver<Msg>,
    pub reports: mpsc::Sender<Received>,
    pub diagnostics: mpsc::Sender<Diagnostic>,
    pub state: watch::Sender<State>,
    /// The session records: flush the recording when idle.
    pub recording: bool,
}

struct Driver {
    session: Session,
    diagnostics: mpsc::Sender<Diagnostic>,
    state: watch::Sender<State>,
    ready: Option<oneshot::Sender<Result<Negotiated, t2::Error>>>,
    pending: HashMap<OpId, Reply<Outcome>>,
    concluding: Option<Reply<()>>,
    /// The release's answer, held until the socket's orderly end: a caller that exits once
    /// `conclude` returns would otherwise close the socket with the server's last octets
    /// unread, and the kernel would answer them with a reset.
    concluded: Option<(Reply<()>, Result<(), t2::Error>)>,
    /// Reports not yet in the channel: while any wait, the socket is not read.
    outbox: VecDeque<Received>,
    closed: bool,
}

/// Run the session on the two halves of a stream (TCP, or TLS over TCP) until the association is
/// closed and every report is handed over (or the handle is gone).
pub(super) async fn drive<R, W>(
    mut rd: R,
    mut wr: W,
    session: Session,
    ends: Ends,
    ready: oneshot::Sender<Result<Negotiated, t2::Error>>,
) where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let Ends {
        mut commands,
        reports,
        diagnostics,
        state,
        recording,
    } = ends;
    let mut d = Driver {
        session,
        diagnostics,
        state,
        ready: Some(ready),
        pending: HashMap::new(),
        concluding: None,
        concluded: None,
        outbox: VecDeque::new(),
        closed: false,
    };
    let mut inbuf = vec![0u8; 16 * 1024];
    let mut out = Vec::new();
    let mut commands_open = true;
    let mut writable = true;
    let mut idle_flush = crate::recording::IdleFlush::default();
    loop {
        while d.session.poll_transmit(&mut out) > 0 {}
        if !out.is_empty() {
            if writable {
                // flush: TLS may hold records until told (a no-op on TCP).
                let written = match wr.write_all(&out).await {
                    Ok(()) => wr.flush().await,
                    Err(e) => Err(e),
                };
                if let Err(e) = written {
                    tracing::debug!("TASE.2 client socket write failed: {e}");
                    writable = false;
                    d.session.handle_transport_closed(std_clock::now());
                }
            }
            out.clear();
        }
        d.dispatch();
        d.offer(&reports);
        if d.closed && d.outbox.is_empty() {
            break;
        }
        let deadline = if d.closed {
            None
        } else {
            d.session.poll_timeout()
        };
        let sleep = async {
            match deadline {
                Some(t) => {
                    tokio::time::sleep_until(tokio::time::Instant::from_std(std_clock::to_std(t)))
                        .await
                }
                None => std::future::pending().await,
            }
        };
        let reading = !d.closed && d.outbox.is_empty();
        tokio::select! {
            read = rd.read(&mut inbuf), if reading => match read {
                Ok(0) => d.session.handle_transport_closed(std_clock::now()),
                Ok(n) => d.session.handle_input(std_clock::now(), &inbuf[..n]),
                Err(e) => {
                    tracing::debug!("TASE.2 client socket read failed: {e}");
                    d.session.handle_transport_closed(std_clock::now());
                }
            },
            msg = commands.recv(), if commands_open => match msg {
                Some(m) => d.handle(m),
                // The handle is gone: release politely, or abort if that is not possible.
                None => {
                    commands_open = false;
                    if d.session.conclude(std_clock::now()).is_err() {
                        d.session.abort(std_clock::now());
                    }
                }
            },
            permit = reports.reserve(), if !d.outbox.is_empty() => match permit {
                Ok(p) => {
                    if let Some(r) = d.outbox.pop_front() {
                        p.send(r);
                    }
                }
                // Nobody listens any more.
                Err(_) => d.outbox.clear(),
            },
            () = sleep => d.session.handle_timeout(std_clock::now()),
            () = crate::recording::idle_wait(&idle_flush) => {
                d.session.flush_recording();
                idle_flush.done();
                continue;
            }
        }
        idle_flush.touch(recording);
    }
    crate::close::close(&mut rd, &mut wr).await;
    if let Some((reply, r)) = d.concluded.take() {
        let _ = reply.send(r);
    }
}

impl Driver {
    fn handle(&mut self, msg: Msg) {
        let now = std_clock::now();
        match msg {
            Msg::Command(c, reply) => {
                let op = self.session.command(now, c);
                self.pending.insert(op, reply);
            }
            Msg::Request(r, reply) => {
                let op = self.session.request(now, r);
                self.pending.insert(op, reply);
            }
            Msg::With(f) => f(&mut self.session),
            Msg::Conclude(reply) => match self.session.conclude(now) {
                Ok(()) => self.concluding = Some(reply),
                Err(e) => {
                    let _ = reply.send(Err(e));
                }
            },
        }
    }

    /// Mirror what the synchronous getters read; done before every reply, so a caller woken by
    /// one sees its effect (e.g. the edition `version` adopted).
    fn mirror(&self) {
        let edition = self.session.edition();
        self.state.send_if_modified(|s| {
            let changed = s.edition != edition;
            s.edition = edition;
            changed
        });
    }

    fn dispatch(&mut self) {
        while let Some(ev) = self.session.poll_event() {
            match ev {
                SessionEvent::Established(n) => {
                    if let Some(r) = self.ready.take() {
                        let _ = r.send(Ok(n));
                    }
                }
                SessionEvent::Done { op, result } => {
                    self.mirror();
                    if let Some(reply) = self.pending.remove(&op) {
                        let _ = reply.send(result);
                    }
                }
                SessionEvent::Report(r) => {
                    self.outbox.push_back(Ok(Tase2Report::Transfer(r)));
                }
                SessionEvent::InfoMessage(m) => {
                    self.outbox.push_back(Ok(Tase2Report::InfoMessage(m)));
                }
                SessionEvent::Undecoded(u) => self.outbox.push_back(Err(u)),
                SessionEvent::Deviation(x) => self.diagnose(Diagnostic::Deviation(x)),
                SessionEvent::PeerError(x) => self.diagnose(Diagnostic::PeerError(x)),
                SessionEvent::Rejected(x) => self.diagnose(Diagnostic::Rejected(x)),
                SessionEvent::Closed(cause) => self.close(cause),
            }
        }
    }

    fn close(&mut self, cause: Option<AssocError>) {
        self.closed = true;
        self.state.send_modify(|s| s.closed = Some(cause.clone()));
        let err = t2::Error::Closed(cause.clone());
        if let Some(r) = self.ready.take() {
            let _ = r.send(Err(err.clone()));
        }
        if let Some(c) = self.concluding.take() {
            // Answered once the socket has ended in order (see `drive`).
            self.concluded = Some((
                c,
                match cause {
                    None => Ok(()),
                    Some(_) => Err(err.clone()),
                },
            ));
        }
        // The session finished every operation before closing; anything left never started.
        for (_, reply) in self.pending.drain() {
            let _ = reply.send(Err(err.clone()));
        }
    }

    /// Diagnostics are advisory: they never hold up the socket. One that finds the queue full
    /// (nobody calls `next_diagnostic`) is logged instead.
    fn diagnose(&mut self, d: Diagnostic) {
        tracing::debug!("TASE.2 client: {d}");
        if let Err(mpsc::error::TrySendError::Full(d)) = self.diagnostics.try_send(d) {
            tracing::warn!("TASE.2 client diagnostic not queued (queue full): {d}");
        }
    }

    /// Move waiting reports into the channel while it has room.
    fn offer(&mut self, reports: &mpsc::Sender<Received>) {
        while let Some(r) = self.outbox.pop_front() {
            match reports.try_send(r) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(r)) => {
                    self.outbox.push_front(r);
                    return;
                }
                Err(mpsc::error::TrySendError::Closed(_)) => {
                    self.outbox.clear();
                    return;
                }
            }
        }
    }
}
