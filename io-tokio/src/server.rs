//! An MMS / TASE.2 server over tokio: one task owns the core [`Endpoint`]; per-socket tasks only move
//! bytes to and from it.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};

use tase2_core::record::{RecordSink, RecordStartError};
use tase2_core::server::{ConnectionId, Endpoint, Hooks, NoHooks, ServerConfig, ServerEvent, Vmd};
use tase2_core::std_clock as clock;
use tase2_core::Instant;

use crate::recording::IdleFlush;

/// Messages queued for the endpoint task (socket input from every connection, commands) before a
/// sender waits for room.
const INBOX: usize = 256;
/// Chunks of output queued per connection for its writer task. When full, the endpoint keeps the
/// connection's further output in the core and its socket is not read until the writer drains.
const OUTBOX: usize = 32;
/// How long accepting pauses after an accept error (e.g. EMFILE: out of file descriptors), so a
/// persistent error does not spin.
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);
/// Messages the endpoint task handles before it flushes: under load one flush (and one turn of
/// the task's `select!`) serves a batch of inputs.
const BATCH: usize = 64;

/// Default idle time before TCP keepalive probes start on an accepted socket
/// ([`Server::set_keepalive`]).
pub const KEEPALIVE_IDLE: Duration = Duration::from_secs(60);
/// Time between TCP keepalive probes once they started (where the platform lets us set it).
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(10);
/// Unanswered keepalive probes after which the kernel declares the peer dead (where the platform
/// lets us set it): with the defaults a dead peer is found 60 + 3 × 10 = 90 s after it went
/// silent.
pub const KEEPALIVE_RETRIES: u32 = 3;

/// Called inside the endpoint task for every event, with the endpoint to act on (change the model,
/// send a report). Keep it quick: the whole server waits for it.
pub type EventHook<H = NoHooks> =
    Box<dyn FnMut(&mut Endpoint<H>, Instant, &ServerEvent<<H as Hooks>::Event>) + Send>;

/// A command run inside the endpoint task.
pub type Command<H = NoHooks> = Box<dyn FnOnce(&mut Endpoint<H>, Instant) + Send>;

enum Msg<H: Hooks> {
    Input(ConnectionId, Vec<u8>),
    TransportClosed(ConnectionId),
    /// The writer of a connection whose output stalled took a chunk: there is room again.
    Drained(ConnectionId),
    Command(Command<H>),
}

/// A bound server, not yet running. `H` extends plain MMS (e.g. `tase2_core::tase2::server::Tase2`).
pub struct Server<H: Hooks = NoHooks> {
    listener: TcpListener,
    endpoint: Endpoint<H>,
    hook: Option<EventHook<H>>,
    tx: mpsc::Sender<Msg<H>>,
    rx: mpsc::Receiver<Msg<H>>,
    keepalive: Option<Duration>,
}

/// Sends commands to a running [`Server`] from anywhere.
pub struct ServerHandle<H: Hooks = NoHooks> {
    tx: mpsc::Sender<Msg<H>>,
}

impl<H: Hooks> Clone for ServerHandle<H> {
    fn clone(&self) -> Self {
        ServerHandle {
            tx: self.tx.clone(),
        }
    }
}

impl<H: Hooks> ServerHandle<H> {
    /// Run `f` on the endpoint inside the server task (e.g. update points, send reports), waiting
    /// for room in the server's queue. Returns false when the server has stopped.
    pub async fn command(
        &self,
        f: impl FnOnce(&mut Endpoint<H>, Instant) + Send + 'static,
    ) -> bool {
        self.tx.send(Msg::Command(Box::new(f))).await.is_ok()
    }
}

/// The endpoint task's side of one connection's writer.
struct Writer {
    tx: mpsc::Sender<Vec<u8>>,
    /// Output taken from the core that did not fit the writer's queue.
    stalled: Option<Vec<u8>>,
    /// Set while `stalled` waits: the writer then sends [`Msg::Drained`] when it takes a chunk.
    wanted: Arc<AtomicBool>,
    /// Whether the reader may read: [`Endpoint::wants_input`] as of the last flush.
    gate: watch::Sender<bool>,
}

impl Writer {
    /// Queue `bytes`; false (and `bytes` kept in `stalled`) when the queue is full.
    fn offer(&mut self, bytes: Vec<u8>) -> bool {
        let bytes = match self.tx.try_send(bytes) {
            Ok(()) => return true,
            Err(mpsc::error::TrySendError::Full(b)) => b,
            // The socket is gone: its output has nowhere to go.
            Err(mpsc::error::TrySendError::Closed(_)) => return true,
        };
        // Ask for a wake-up, then try once more: the writer may have taken a chunk between the
        // first try and the flag (a spurious Drained is harmless).
        self.wanted.store(true, Ordering::SeqCst);
        match self.tx.try_send(bytes) {
            Err(mpsc::error::TrySendError::Full(b)) => {
                self.stalled = Some(b);
                false
            }
            _ => true,
        }
    }
}

impl Server<NoHooks> {
    /// Bind `addr` and prepare to serve `model` (plain MMS).
    pub async fn bind(
        addr: impl tokio::net::ToSocketAddrs,
        config: ServerConfig,
        model: Vmd,
    ) -> io::Result<Server> {
        Server::with_endpoint(addr, Endpoint::new(config, model)).await
    }
}

impl<H: Hooks + Send + 'static> Server<H> {
    /// Bind `addr` and prepare to serve `endpoint` (e.g. a TASE.2 server from
    /// `tase2_core::tase2::server::Tase2Builder`).
    pub async fn with_endpoint(
        addr: impl tokio::net::ToSocketAddrs,
        endpoint: Endpoint<H>,
    ) -> io::Result<Server<H>> {
        let listener = TcpListener::bind(addr).await?;
        Ok(Server::with_listener(listener, endpoint))
    }

    /// Serve `endpoint` on a listener the caller set up, e.g. with socket options that accepted
    /// sockets inherit (buffer sizes) through [`tokio::net::TcpSocket`].
    pub fn with_listener(listener: TcpListener, endpoint: Endpoint<H>) -> Server<H> {
        let (tx, rx) = mpsc::channel(INBOX);
        Server {
            listener,
            endpoint,
            hook: None,
            tx,
            rx,
            keepalive: Some(KEEPALIVE_IDLE),
        }
    }

    /// TCP keepalive on every socket accepted from now on: probes start after `idle` without
    /// traffic, then every [`KEEPALIVE_INTERVAL`], and after [`KEEPALIVE_RETRIES`] unanswered ones
    /// the kernel reports the connection broken (the reader sees an error and the association
    /// ends). This is how a peer that vanished without a FIN (power loss, a cable, a NAT that
    /// forgot us) is noticed by an association that only sends reports rarely or only receives.
    /// `None` turns it off. Default: [`KEEPALIVE_IDLE`] (60 s).
    pub fn set_keepalive(&mut self, idle: Option<Duration>) {
        self.keepalive = idle;
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Install the event hook.
    pub fn on_event(
        &mut self,
        hook: impl FnMut(&mut Endpoint<H>, Instant, &ServerEvent<H::Event>) + Send + 'static,
    ) {
        self.hook = Some(Box::new(hook));
    }

    /// Record the endpoint into `sink` (e.g. [`record_file`](crate::record_file)) from now on;
    /// call it before [`Self::run`]. `start` is the clock the model was built with (its initial
    /// time stamps), `setup_kind` and `setup` what a replay needs to build the same endpoint
    /// (the `tase2` tool writes `"tase2-serve-toml"` and the model's TOML), `producer` who wrote
    /// the log. Every call the driver makes is recorded; the event hook and
    /// [`ServerHandle::command`] closures are recorded as long as they use the endpoint's
    /// recordable calls (not `model_mut`, `hooks_mut` or `with_outbox`). The recording is
    /// flushed at most 100 ms after activity, and when the server is dropped (`run`'s future
    /// too: drop it to stop the server and complete the file).
    pub fn record(
        &mut self,
        start: Instant,
        setup_kind: &str,
        setup: Vec<u8>,
        producer: &str,
        sink: Box<dyn RecordSink>,
    ) -> Result<(), RecordStartError> {
        self.endpoint
            .record(start, setup_kind, setup, producer, sink)
    }

    /// The endpoint, before it runs (e.g. to read its model or fingerprint).
    pub fn endpoint(&self) -> &Endpoint<H> {
        &self.endpoint
    }

    /// A handle for sending commands once running.
    pub fn handle(&self) -> ServerHandle<H> {
        ServerHandle {
            tx: self.tx.clone(),
        }
    }

    /// Serve until the task is dropped. An accept error (e.g. EMFILE, out of file descriptors) is
    /// transient: it is logged (`tracing`) and accepting resumes after a short pause, while the
    /// connections already open are served on.
    pub async fn run(mut self) -> io::Result<()> {
        let mut writers: HashMap<ConnectionId, Writer> = HashMap::new();
        let mut accept_paused: Option<tokio::time::Instant> = None;
        let mut idle_flush = IdleFlush::default();
        loop {
            let deadline = self.endpoint.poll_timeout();
            let sleep = async {
                match deadline {
                    Some(d) => {
                        tokio::time::sleep_until(tokio::time::Instant::from_std(clock::to_std(d)))
                            .await
                    }
                    None => std::future::pending().await,
                }
            };
            let resume = async {
                match accept_paused {
                    Some(t) => tokio::time::sleep_until(t).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                accepted = self.listener.accept(), if accept_paused.is_none() => match accepted {
                    Ok((stream, peer)) => {
                        let _ = stream.set_nodelay(true);
                        if let Some(idle) = self.keepalive {
                            // Best effort: a socket without keepalive is still served.
                            if let Err(e) = set_keepalive(&stream, idle) {
                                tracing::debug!("TCP keepalive not set on {peer}: {e}");
                            }
                        }
                        match self.endpoint.open_from(clock::now(), peer.ip()) {
                            Ok(id) => {
                                writers.insert(id, spawn_socket(id, stream, self.tx.clone()));
                            }
                            // Its source holds too many connections: close at once.
                            Err(_) => drop(stream),
                        }
                    }
                    Err(e) => {
                        tracing::warn!("accept failed (retrying in {ACCEPT_PAUSE:?}): {e}");
                        accept_paused = Some(tokio::time::Instant::now() + ACCEPT_PAUSE);
                    }
                },
                () = resume => accept_paused = None,
                Some(msg) = self.rx.recv() => {
                    self.handle_msg(&mut writers, msg);
                    // Whatever else is queued already, before one flush for all of it.
                    for _ in 1..BATCH {
                        match self.rx.try_recv() {
                            Ok(msg) => self.handle_msg(&mut writers, msg),
                            Err(_) => break,
                        }
                    }
                }
                () = sleep => self.endpoint.handle_timeout(clock::now()),
                () = idle_flush.wait() => {
                    self.endpoint.flush_recording();
                    idle_flush.done();
                    continue;
                }
            }
            self.flush(&mut writers);
            idle_flush.touch(self.endpoint.is_recording());
        }
    }

    fn handle_msg(&mut self, writers: &mut HashMap<ConnectionId, Writer>, msg: Msg<H>) {
        let now = clock::now();
        match msg {
            Msg::Input(id, bytes) => self.endpoint.handle_input(now, id, &bytes),
            Msg::TransportClosed(id) => self.endpoint.handle_transport_closed(now, id),
            Msg::Drained(id) => {
                if let Some(w) = writers.get_mut(&id) {
                    if let Some(b) = w.stalled.take() {
                        if w.offer(b) {
                            // What it left in the endpoint meanwhile is not in the ready queue.
                            self.transmit(writers, id);
                        }
                    }
                }
            }
            Msg::Command(f) => f(&mut self.endpoint, now),
        }
    }

    /// Drain events (through the hook) and transmits until both are empty. Only connections
    /// with output (or that closed) are visited, in the order the endpoint queued them
    /// ([`Endpoint::poll_ready`]), so the cost of a flush does not grow with idle connections.
    fn flush(&mut self, writers: &mut HashMap<ConnectionId, Writer>) {
        loop {
            let mut progressed = false;
            while let Some(ev) = self.endpoint.poll_event() {
                progressed = true;
                if let Some(hook) = self.hook.as_mut() {
                    hook(&mut self.endpoint, clock::now(), &ev);
                }
            }
            while let Some(id) = self.endpoint.poll_ready() {
                progressed = true;
                self.transmit(writers, id);
            }
            if !progressed {
                break;
            }
        }
    }

    /// Move `id`'s output from the endpoint to its writer until the writer's queue is full; what
    /// does not fit stays in the endpoint (which counts it toward the output cap and holds the
    /// connection's input and reports back beyond it) until the writer drains
    /// ([`Msg::Drained`]). Then open or close the reader's gate as the endpoint wants input,
    /// and drop the writer of a connection the endpoint has forgotten: that lets it close the
    /// socket after its last bytes.
    fn transmit(&mut self, writers: &mut HashMap<ConnectionId, Writer>, id: ConnectionId) {
        let Some(w) = writers.get_mut(&id) else {
            // Without a writer (cannot happen) the bytes have nowhere to go: take them, so that
            // a closed connection is forgotten.
            while self.endpoint.poll_transmit(id, &mut Vec::new()) > 0 {}
            return;
        };
        if w.tx.is_closed() {
            // The writer is gone (its socket failed): nothing it held will be sent.
            w.stalled = None;
        }
        while w.stalled.is_none() {
            let mut buf = Vec::new();
            if self.endpoint.poll_transmit(id, &mut buf) == 0 {
                break;
            }
            w.offer(buf);
        }
        if !self.endpoint.is_open(id) {
            writers.remove(&id);
            return;
        }
        let want = self.endpoint.wants_input(id);
        w.gate
            .send_if_modified(|open| std::mem::replace(open, want) != want);
    }
}

/// Turn on TCP keepalive on `stream`: probes after `idle`, then every [`KEEPALIVE_INTERVAL`],
/// [`KEEPALIVE_RETRIES`] of them (the interval and count where the platform has them).
fn set_keepalive(stream: &TcpStream, idle: Duration) -> io::Result<()> {
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
    socket2::SockRef::from(stream).set_tcp_keepalive(&ka)
}

/// Split the socket into a reader task feeding the endpoint and a writer task fed by it. The
/// reader does not read while the writer's queue is full, nor while the endpoint holds the
/// connection's input because its output is backed up (its gate is closed): back-pressure per
/// connection, so a peer that does not read its answers has its requests wait in its own socket.
/// What the reader read before the gate closed (one read per message in the endpoint's queue at
/// most) is held by the endpoint, up to the same cap.
fn spawn_socket<H: Hooks + Send + 'static>(
    id: ConnectionId,
    stream: TcpStream,
    inbox: mpsc::Sender<Msg<H>>,
) -> Writer {
    let (mut rd, mut wr) = stream.into_split();
    let (wtx, mut wrx) = mpsc::channel::<Vec<u8>>(OUTBOX);
    let wanted = Arc::new(AtomicBool::new(false));
    let (gate, mut open) = watch::channel(true);
    // Weak, so that the writer ends (closing the socket) once the endpoint drops its sender.
    let room = wtx.downgrade();
    let tx = inbox.clone();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            // The endpoint dropped the connection (and this gate with it): nothing to read for.
            if open.wait_for(|open| *open).await.is_err() {
                return;
            }
            if let Some(w) = room.upgrade() {
                // Wait for room in the output queue; the permit is given back at once.
                let _ = w.reserve().await;
            }
            match rd.read(&mut buf).await {
                Ok(0) | Err(_) => {
                    let _ = tx.send(Msg::TransportClosed(id)).await;
                    return;
                }
                Ok(n) => {
                    if tx.send(Msg::Input(id, buf[..n].to_vec())).await.is_err() {
                        return;
                    }
                }
            }
        }
    });
    let flag = Arc::clone(&wanted);
    tokio::spawn(async move {
        while let Some(bytes) = wrx.recv().await {
            if flag.swap(false, Ordering::SeqCst) && inbox.send(Msg::Drained(id)).await.is_err() {
                return;
            }
            if wr.write_all(&bytes).await.is_err() {
                // The reader may be gated and never see the failure: tell the endpoint.
                let _ = inbox.send(Msg::TransportClosed(id)).await;
                return;
            }
        }
        let _ = wr.shutdown().await;
    });
    Writer {
        tx: wtx,
        stalled: None,
        wanted,
        gate,
    }
}
