//! [`FailoverClient`]: a TASE.2 client that reconnects, fails over to backups and fails back, over
//! tokio. A thin driver of the core's sans-IO [`Failover`]: the policy (which endpoint, when,
//! what to restore) is all the core's; this task only opens and closes sockets, moves bytes and
//! runs the one timer.
//!
//! ```no_run
//! # async fn demo() -> Result<(), tase2_core::tase2::client::Error> {
//! use std::time::Duration;
//! use tase2_core::assoc::AssociationConfig;
//! use tase2_core::tase2::client::{Command, EndpointSpec, FailoverConfig, FailoverEvent, SessionEvent};
//! use tase2_tokio::FailoverClient;
//!
//! let assoc = AssociationConfig::with_ap_titles(
//!     ("1.1.1.999".parse().unwrap(), 12),
//!     ("1.1.1.998".parse().unwrap(), 12),
//! );
//! let mut config = FailoverConfig::new(vec![
//!     EndpointSpec::new("10.0.0.1:102", assoc.clone()),
//!     EndpointSpec::new("10.0.0.2:102", assoc),
//! ]);
//! config.fail_back = Some(Duration::from_secs(10));
//! let mut c = FailoverClient::start(config);
//! let domains = c.command(Command::Domains).await?;
//! while let Some(e) = c.next_event().await {
//!     match e {
//!         FailoverEvent::Session(SessionEvent::Report(r)) => println!("{} values", r.values.len()),
//!         FailoverEvent::Lost { endpoint, cause } => println!("lost {endpoint}: {cause:?}"),
//!         FailoverEvent::Restored { endpoint, gap, .. } => println!("on {endpoint} after {gap:?}"),
//!         _ => {}
//!     }
//! #   break;
//! }
//! # let _ = domains; Ok(()) }
//! ```

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::io;
use std::pin::Pin;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};

use tase2_core::mms::ObjectName;
use tase2_core::std_clock;
use tase2_core::tase2::client::{
    self as t2, Command, Failover, FailoverAction, FailoverConfig, FailoverEvent, OpId, Outcome,
    SessionEvent,
};

type Reply = oneshot::Sender<Result<Outcome, t2::Error>>;

/// How long recorded frames may wait in the sink while the link is quiet.
const IDLE_FLUSH: std::time::Duration = std::time::Duration::from_millis(100);
type Connecting = Pin<Box<dyn Future<Output = io::Result<TcpStream>> + Send>>;

enum Msg {
    Command(Command, Reply),
    Ack(Ack, oneshot::Sender<Result<(), t2::Error>>),
    AutoAck(bool),
    Conclude(oneshot::Sender<()>),
}

/// An acknowledgement of a critical report by the application.
enum Ack {
    Ack(ObjectName, i32),
    Nack(ObjectName),
}

/// How [`FailoverClient::start_with`] runs.
#[derive(Clone, Debug)]
pub struct FailoverOptions {
    /// Commands queued for the driver before [`FailoverClient::command`] waits. Default 64.
    pub command_queue: usize,
    /// Events queued for [`FailoverClient::next_event`]; when full, the socket is not read until
    /// it drains. Default 1,024.
    pub event_queue: usize,
    /// Record the link into a file (see `tase2_core::record`): every connect, octet, timer and
    /// command across all its associations, replayable with
    /// `tase2_core::record::replay_failover`. Default: not recorded.
    pub record: Option<crate::RecordFile>,
}

impl Default for FailoverOptions {
    fn default() -> Self {
        FailoverOptions {
            command_queue: 64,
            event_queue: 1024,
            record: None,
        }
    }
}

/// The handle of a reconnecting TASE.2 client: commands in, events out. Each
/// [`tase2_core::tase2::client::EndpointSpec::address`] is a `host:port` for
/// [`TcpStream::connect`]. Dropping the handle concludes the association and stops the task.
pub struct FailoverClient {
    tx: mpsc::Sender<Msg>,
    events: mpsc::Receiver<FailoverEvent>,
}

impl FailoverClient {
    /// Start the client task with default options; it connects to the primary at once.
    pub fn start(config: FailoverConfig) -> FailoverClient {
        let (tx, rx) = mpsc::channel(64);
        let (etx, events) = mpsc::channel(1024);
        let addrs = config.endpoints.iter().map(|e| e.address.clone()).collect();
        let fo = Failover::new(config, std_clock::now());
        tokio::spawn(drive(fo, addrs, rx, etx, false));
        FailoverClient { tx, events }
    }

    /// Start the client task; fails only when the recording file cannot be created.
    pub fn start_with(
        config: FailoverConfig,
        options: FailoverOptions,
    ) -> io::Result<FailoverClient> {
        let (tx, rx) = mpsc::channel(options.command_queue.max(1));
        let (etx, events) = mpsc::channel(options.event_queue.max(1));
        let addrs = config.endpoints.iter().map(|e| e.address.clone()).collect();
        let mut fo = Failover::new(config, std_clock::now());
        if let Some(r) = &options.record {
            let sink = crate::record_file(&r.path)?;
            fo.record(sink, &r.producer)
                .map_err(|e| io::Error::other(e.to_string()))?;
        }
        tokio::spawn(drive(fo, addrs, rx, etx, options.record.is_some()));
        Ok(FailoverClient { tx, events })
    }

    /// Run `command` (on the current association, or the next one if none is up: see
    /// [`Failover`]).
    pub async fn command(&self, command: Command) -> Result<Outcome, t2::Error> {
        self.ask(|reply| Msg::Command(command, reply)).await
    }

    /// Send the task the message `msg` builds around a reply channel and wait for the reply;
    /// a task that has ended answers [`t2::Error::Closed`].
    async fn ask<T>(
        &self,
        msg: impl FnOnce(oneshot::Sender<Result<T, t2::Error>>) -> Msg,
    ) -> Result<T, t2::Error> {
        let (reply, rx) = oneshot::channel();
        let gone = || t2::Error::Closed(None);
        self.tx.send(msg(reply)).await.map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }

    /// Acknowledge the critical report of `transfer_set` stamped `timestamp` on the current
    /// association (see [`Failover::ack`]: the report's name, or the one the application first
    /// got). Only needed with auto-acknowledgement off ([`Self::set_auto_ack`],
    /// `SessionConfig::auto_ack`).
    pub async fn ack(&self, transfer_set: &ObjectName, timestamp: i32) -> Result<(), t2::Error> {
        let ack = Ack::Ack(transfer_set.clone(), timestamp);
        self.ask(|reply| Msg::Ack(ack, reply)).await
    }

    /// Refuse the critical report of `transfer_set` (see [`Failover::nack`]).
    pub async fn nack(&self, transfer_set: &ObjectName) -> Result<(), t2::Error> {
        let nack = Ack::Nack(transfer_set.clone());
        self.ask(|reply| Msg::Ack(nack, reply)).await
    }

    /// Acknowledge critical reports inside the session (the default) or leave them to
    /// [`Self::ack`] and [`Self::nack`], on this association and every later one.
    pub async fn set_auto_ack(&self, on: bool) -> Result<(), t2::Error> {
        self.tx
            .send(Msg::AutoAck(on))
            .await
            .map_err(|_| t2::Error::Closed(None))
    }

    /// The next event: reports, information messages and other session events, and the link's
    /// own (lost, connecting, restored, refreshed, failing back); `None` once the task ended.
    /// Operation results go to [`Self::command`] instead.
    pub async fn next_event(&mut self) -> Option<FailoverEvent> {
        self.events.recv().await
    }

    /// Release the association and end the task (the application should stop its transfer
    /// sets and delete its data sets first).
    pub async fn conclude(mut self) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Msg::Conclude(tx)).await.is_ok() {
            // Events keep flowing until the task ends: drain them so it is never held up.
            let drain = async { while self.events.recv().await.is_some() {} };
            let _ = tokio::join!(rx, drain);
        }
    }
}

struct Driver {
    fo: Failover,
    addrs: Vec<String>,
    pending: HashMap<OpId, Reply>,
    outbox: VecDeque<FailoverEvent>,
    rd: Option<OwnedReadHalf>,
    wr: Option<OwnedWriteHalf>,
    connecting: Option<(usize, Connecting)>,
    probing: Option<(usize, Connecting)>,
    concluded: Option<oneshot::Sender<()>>,
}

fn connect(addr: String) -> Connecting {
    Box::pin(async move {
        let s = TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        Ok(s)
    })
}

async fn next_of(c: &mut Option<(usize, Connecting)>) -> (usize, io::Result<TcpStream>) {
    match c {
        Some((e, f)) => {
            let r = f.await;
            (*e, r)
        }
        None => std::future::pending().await,
    }
}

async fn read_from(rd: &mut Option<OwnedReadHalf>, buf: &mut [u8]) -> io::Result<usize> {
    match rd {
        Some(r) => r.read(buf).await,
        None => std::future::pending().await,
    }
}

async fn drive(
    fo: Failover,
    addrs: Vec<String>,
    mut commands: mpsc::Receiver<Msg>,
    events: mpsc::Sender<FailoverEvent>,
    recording: bool,
) {
    let mut d = Driver {
        fo,
        addrs,
        pending: HashMap::new(),
        outbox: VecDeque::new(),
        rd: None,
        wr: None,
        connecting: None,
        probing: None,
        concluded: None,
    };
    let mut inbuf = vec![0u8; 16 * 1024];
    let mut out = Vec::new();
    let mut commands_open = true;
    // The recording sink flushes when a later frame comes; after a quiet spell of 100 ms the
    // driver flushes it, so the file is never more than that behind.
    let mut flush_at: Option<tokio::time::Instant> = None;
    loop {
        d.actions();
        while d.fo.poll_transmit(&mut out) > 0 {}
        if !out.is_empty() {
            if let Some(wr) = &mut d.wr {
                if let Err(e) = wr.write_all(&out).await {
                    tracing::debug!("TASE.2 failover client: socket write failed: {e}");
                    d.drop_socket();
                    d.fo.handle_transport_closed(std_clock::now());
                }
            }
            out.clear();
            continue;
        }
        d.dispatch();
        d.offer(&events);
        if d.fo.is_closed() && d.outbox.is_empty() {
            break;
        }
        let deadline = d.fo.poll_timeout();
        let sleep = async {
            match deadline {
                Some(t) => {
                    tokio::time::sleep_until(tokio::time::Instant::from_std(std_clock::to_std(t)))
                        .await
                }
                None => std::future::pending().await,
            }
        };
        let reading = d.outbox.is_empty();
        tokio::select! {
            read = read_from(&mut d.rd, &mut inbuf), if reading => match read {
                Ok(0) => {
                    d.drop_socket();
                    d.fo.handle_transport_closed(std_clock::now());
                }
                Ok(n) => d.fo.handle_input(std_clock::now(), &inbuf[..n]),
                Err(e) => {
                    tracing::debug!("TASE.2 failover client: socket read failed: {e}");
                    d.drop_socket();
                    d.fo.handle_transport_closed(std_clock::now());
                }
            },
            (endpoint, r) = next_of(&mut d.connecting) => {
                d.connecting = None;
                match r {
                    Ok(s) => {
                        let (rd, wr) = s.into_split();
                        d.rd = Some(rd);
                        d.wr = Some(wr);
                        d.fo.handle_connected(std_clock::now(), endpoint);
                    }
                    Err(e) => {
                        tracing::debug!("TASE.2 failover client: connect to {} failed: {e}", d.addrs[endpoint]);
                        d.fo.handle_connect_failed(std_clock::now(), endpoint);
                    }
                }
            },
            (endpoint, r) = next_of(&mut d.probing) => {
                d.probing = None;
                // A probe only checks that the endpoint accepts a connection.
                d.fo.handle_probe(std_clock::now(), endpoint, r.is_ok());
            },
            msg = commands.recv(), if commands_open => match msg {
                Some(Msg::Command(c, reply)) => {
                    let op = d.fo.command(std_clock::now(), c);
                    d.pending.insert(op, reply);
                }
                Some(Msg::Ack(ack, reply)) => {
                    let now = std_clock::now();
                    let r = match ack {
                        Ack::Ack(name, stamp) => d.fo.ack(now, &name, stamp),
                        Ack::Nack(name) => d.fo.nack(now, &name),
                    };
                    let _ = reply.send(r);
                }
                Some(Msg::AutoAck(on)) => d.fo.set_auto_ack(std_clock::now(), on),
                Some(Msg::Conclude(done)) => {
                    d.concluded = Some(done);
                    d.fo.conclude(std_clock::now());
                }
                None => {
                    commands_open = false;
                    d.fo.conclude(std_clock::now());
                }
            },
            permit = events.reserve(), if !d.outbox.is_empty() => match permit {
                Ok(p) => {
                    if let Some(e) = d.outbox.pop_front() {
                        p.send(e);
                    }
                }
                Err(_) => d.outbox.clear(),
            },
            () = sleep => d.fo.handle_timeout(std_clock::now()),
            () = async {
                match flush_at {
                    Some(t) => tokio::time::sleep_until(t).await,
                    None => std::future::pending().await,
                }
            } => {
                d.fo.flush_recording();
                flush_at = None;
                continue;
            }
        }
        if recording && flush_at.is_none() {
            flush_at = Some(tokio::time::Instant::now() + IDLE_FLUSH);
        }
    }
    d.fo.flush_recording();
    if let Some(mut wr) = d.wr.take() {
        match d.rd.as_mut() {
            Some(rd) => crate::close::close(rd, &mut wr).await,
            None => {
                let _ = wr.shutdown().await;
            }
        }
    }
    if let Some(done) = d.concluded.take() {
        let _ = done.send(());
    }
}

impl Driver {
    fn drop_socket(&mut self) {
        self.rd = None;
        self.wr = None;
    }

    fn actions(&mut self) {
        while let Some(a) = self.fo.poll_action() {
            match a {
                FailoverAction::Connect { endpoint } => {
                    self.drop_socket();
                    let addr = self.addrs.get(endpoint).cloned().unwrap_or_default();
                    tracing::debug!("TASE.2 failover client: connecting to {addr}");
                    self.connecting = Some((endpoint, connect(addr)));
                }
                FailoverAction::Disconnect => {
                    self.connecting = None;
                    self.drop_socket();
                }
                FailoverAction::Probe { endpoint } => {
                    let addr = self.addrs.get(endpoint).cloned().unwrap_or_default();
                    self.probing = Some((endpoint, connect(addr)));
                }
            }
        }
    }

    fn dispatch(&mut self) {
        while let Some(e) = self.fo.poll_event() {
            match e {
                FailoverEvent::Session(SessionEvent::Done { op, result }) => {
                    if let Some(reply) = self.pending.remove(&op) {
                        let _ = reply.send(result);
                    }
                }
                e => {
                    tracing::debug!("TASE.2 failover client: {e:?}");
                    self.outbox.push_back(e);
                }
            }
        }
    }

    fn offer(&mut self, events: &mpsc::Sender<FailoverEvent>) {
        while let Some(e) = self.outbox.pop_front() {
            match events.try_send(e) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(e)) => {
                    self.outbox.push_front(e);
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
