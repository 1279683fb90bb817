//! An MMS / TASE.2 server over tokio.
//!
//! The endpoint and every socket live on one thread of their own (a current-thread runtime with
//! a `LocalSet`, started by [`Server::run`]): each connection's task reads its socket straight
//! into the endpoint and writes what the endpoint has for it, so a pipelined request costs no
//! channel hop, no copy of its octets and no cross-thread wake-up. Other tasks reach the server
//! only through [`ServerHandle::command`].
//!
//! Back-pressure per connection: a task reads only while [`Endpoint::wants_input`] says so, and
//! takes output from the endpoint only when its socket took the previous batch, so a slow reader's
//! output waits in the core (bounded by `ServerConfig::max_queued_output`) and never in the driver.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, Notify};

use tase2_core::record::{RecordSink, RecordStartError};
use tase2_core::server::{ConnectionId, Endpoint, Hooks, NoHooks, ServerConfig, ServerEvent, Vmd};
use tase2_core::std_clock as clock;
use tase2_core::Instant;

use crate::recording::IdleFlush;

/// Commands queued for the server before [`ServerHandle::command`] waits for room.
const INBOX: usize = 256;
/// How long accepting pauses after an accept error (e.g. EMFILE: out of file descriptors), so a
/// persistent error does not spin.
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);
/// Octets read from a socket at a time.
const READ_CHUNK: usize = 16 * 1024;

pub use tase2_driver_util::{KEEPALIVE_IDLE, KEEPALIVE_INTERVAL, KEEPALIVE_RETRIES};

/// Called inside the endpoint task for every event, with the endpoint to act on (change the model,
/// send a report). Keep it quick: the whole server waits for it.
pub type EventHook<H = NoHooks> =
    Box<dyn FnMut(&mut Endpoint<H>, Instant, &ServerEvent<<H as Hooks>::Event>) + Send>;

/// A command run inside the endpoint task.
pub type Command<H = NoHooks> = Box<dyn FnOnce(&mut Endpoint<H>, Instant) + Send>;

enum Msg<H: Hooks> {
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
    busy_poll: Option<Duration>,
    #[cfg(feature = "tls")]
    tls: Option<tokio::sync::watch::Receiver<crate::tls::ServerTls>>,
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

impl<H: Hooks + Send + 'static> Server<H>
where
    H::Event: Send,
{
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
            busy_poll: None,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }

    /// Serve secure ICCP (IEC 62351-4): every accepted connection runs a TLS handshake first
    /// (see [`crate::tls`]). The connection counts as in its handshake from the accept on, so
    /// the endpoint's handshake deadline and pending pool cover a TLS handshake that stalls.
    /// The handle returned replaces the configuration while the server runs (new CRLs).
    #[cfg(feature = "tls")]
    pub fn set_tls(&mut self, tls: crate::tls::ServerTls) -> crate::tls::TlsReload {
        let (tx, rx) = tokio::sync::watch::channel(tls);
        self.tls = Some(rx);
        crate::tls::TlsReload::new(tx)
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

    /// Busy-poll (opt-in, off by default): after each input the server thread keeps polling its
    /// sockets without sleeping for `window`, so the next batch of a pipelining client is read
    /// without the sleep and wake-up between them (on a VM a wake-up goes through the
    /// hypervisor). It costs a core while traffic flows and at most `window` of spinning after
    /// the last input; see [`tase2_driver_util::SpinWindow`]. `None` or a zero window: the
    /// thread sleeps whenever nothing is ready.
    pub fn set_busy_poll(&mut self, window: Option<Duration>) {
        self.busy_poll = window.filter(|w| !w.is_zero());
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

    /// Serve until this future is dropped (which stops the server, completing a recording) or
    /// the server thread fails. The endpoint and the sockets run on a thread of their own (a
    /// current-thread runtime: each connection's task reads straight into the endpoint and writes
    /// what it has for it, reading only while the endpoint wants input); the future only waits
    /// for it, so it may be spawned on any runtime. An accept error (e.g. EMFILE, out of file descriptors) is transient: it is
    /// logged (`tracing`) and accepting resumes after a short pause, while the connections
    /// already open are served on.
    pub async fn run(self) -> io::Result<()> {
        let Server {
            listener,
            endpoint,
            hook,
            tx,
            rx,
            keepalive,
            busy_poll,
            #[cfg(feature = "tls")]
            tls,
        } = self;
        // The handles keep their own senders; this one must not keep the inbox open forever.
        drop(tx);
        let listener = listener.into_std()?;
        let (done_tx, done_rx) = oneshot::channel::<io::Result<()>>();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("tase2-server".into())
            .spawn(move || {
                let r = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .and_then(|rt| {
                        let local = tokio::task::LocalSet::new();
                        local.block_on(
                            &rt,
                            serve(
                                listener,
                                endpoint,
                                hook,
                                rx,
                                stop_rx,
                                Tuning {
                                    keepalive,
                                    busy_poll,
                                },
                                #[cfg(feature = "tls")]
                                tls,
                            ),
                        )
                    });
                let _ = done_tx.send(r);
            })?;
        // Dropped with this future: the server thread sees it and stops.
        let _stop = stop_tx;
        done_rx
            .await
            .unwrap_or_else(|_| Err(io::Error::other("the server thread ended unexpectedly")))
    }
}

/// What the server thread shares between its tasks (one thread: `Rc` and `RefCell`, never held
/// across an await).
pub(crate) struct Core<H: Hooks> {
    pub(crate) endpoint: Endpoint<H>,
    hook: Option<EventHook<H>>,
    /// Each connection task's wake-up: output is waiting for it.
    pub(crate) conns: HashMap<ConnectionId, Rc<Notify>>,
    /// Something may have been recorded since the last flush.
    activity: bool,
    /// The deadline the server thread sleeps until: a connection task wakes it only when the
    /// endpoint's next deadline comes earlier (or while recording, for the idle flush).
    armed: Option<Instant>,
    /// Inputs handed to the endpoint so far: the busy-poll task's sign of traffic.
    inputs: u64,
    /// The busy-poll task, while it sleeps until the next input.
    spinner_asleep: Option<Rc<Notify>>,
}

impl<H: Hooks> Core<H> {
    /// Input from connection `id` (`clock::now()` read by the caller): to the endpoint, counted
    /// for the busy-poll, whose task is woken if it sleeps.
    pub(crate) fn handle_input(&mut self, now: Instant, id: ConnectionId, bytes: &[u8]) {
        self.endpoint.handle_input(now, id, bytes);
        self.inputs = self.inputs.wrapping_add(1);
        if let Some(wake) = self.spinner_asleep.take() {
            wake.notify_one();
        }
    }

    /// Drain events (through the hook) and wake the connections that have output, until quiet.
    pub(crate) fn settle(&mut self) {
        self.settle_for(None);
    }

    /// [`Self::settle`] from the task of connection `me`, which polls its own output next
    /// instead of being woken: whether `me` has output waiting.
    fn settle_for(&mut self, me: Option<ConnectionId>) -> bool {
        let mut mine = false;
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
                if Some(id) == me {
                    mine = true;
                    continue;
                }
                match self.conns.get(&id) {
                    Some(n) => n.notify_one(),
                    // No task (cannot happen): the octets have nowhere to go.
                    None => {
                        let mut sink = Vec::new();
                        self.endpoint.poll_transmit(id, &mut sink);
                    }
                }
            }
            if !progressed {
                break;
            }
        }
        self.activity = true;
        mine
    }

    /// Whether the server thread must look again after a connection task's input: the
    /// endpoint's next deadline is earlier than the one it sleeps until, or a recording may
    /// need its idle flush. (A later deadline only makes it wake once for nothing.)
    fn server_must_look(&self) -> bool {
        if self.endpoint.is_recording() {
            return true;
        }
        match (self.endpoint.poll_timeout(), self.armed) {
            (Some(next), Some(armed)) => next < armed,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }
}

pub(crate) type Shared<H> = Rc<(RefCell<Core<H>>, Notify)>;

/// The server thread's settings of [`Server::set_keepalive`] and [`Server::set_busy_poll`].
struct Tuning {
    keepalive: Option<Duration>,
    busy_poll: Option<Duration>,
}

/// The server thread: accept, commands, timers; the connection tasks do their own I/O.
async fn serve<H: Hooks + 'static>(
    listener: std::net::TcpListener,
    endpoint: Endpoint<H>,
    hook: Option<EventHook<H>>,
    mut rx: mpsc::Receiver<Msg<H>>,
    mut stop: oneshot::Receiver<()>,
    Tuning {
        keepalive,
        busy_poll,
    }: Tuning,
    #[cfg(feature = "tls")] tls: Option<tokio::sync::watch::Receiver<crate::tls::ServerTls>>,
) -> io::Result<()> {
    listener.set_nonblocking(true)?;
    let listener = TcpListener::from_std(listener)?;
    // The Notify beside the core: a connection task moved a deadline or recorded something.
    let shared: Shared<H> = Rc::new((
        RefCell::new(Core {
            endpoint,
            hook,
            conns: HashMap::new(),
            activity: false,
            armed: None,
            inputs: 0,
            spinner_asleep: None,
        }),
        Notify::new(),
    ));
    if let Some(window) = busy_poll {
        tokio::task::spawn_local(spin(Rc::clone(&shared), window));
    }
    let mut accept_paused: Option<tokio::time::Instant> = None;
    let mut inbox_open = true;
    let mut idle_flush = IdleFlush::default();
    loop {
        let deadline = {
            let mut core = shared.0.borrow_mut();
            core.armed = core.endpoint.poll_timeout();
            core.armed
        };
        let sleep = async {
            match deadline {
                Some(d) => {
                    tokio::time::sleep_until(tokio::time::Instant::from_std(clock::to_std(d))).await
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
            _ = &mut stop => return Ok(()),
            accepted = listener.accept(), if accept_paused.is_none() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    if let Some(idle) = keepalive {
                        // Best effort: a socket without keepalive is still served.
                        if let Err(e) = tase2_driver_util::set_keepalive(socket2::SockRef::from(&stream), idle) {
                            tracing::debug!("TCP keepalive not set on {peer}: {e}");
                        }
                    }
                    let opened = shared.0.borrow_mut().endpoint.open_from(clock::now(), peer.ip());
                    match opened {
                        Ok(id) => {
                            let wake = Rc::new(Notify::new());
                            shared.0.borrow_mut().conns.insert(id, Rc::clone(&wake));
                            let shared = Rc::clone(&shared);
                            #[cfg(feature = "tls")]
                            if let Some(tls) = &tls {
                                let task = crate::tls::connection(shared, id, stream, peer, wake, tls.clone());
                                tokio::task::spawn_local(task);
                            } else {
                                tokio::task::spawn_local(connection(shared, id, stream, wake));
                            }
                            #[cfg(not(feature = "tls"))]
                            tokio::task::spawn_local(connection(shared, id, stream, wake));
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
            msg = rx.recv(), if inbox_open => match msg {
                Some(Msg::Command(f)) => {
                    let mut core = shared.0.borrow_mut();
                    f(&mut core.endpoint, clock::now());
                }
                None => inbox_open = false,
            },
            () = sleep => shared.0.borrow_mut().endpoint.handle_timeout(clock::now()),
            // A connection task moved a deadline (or recorded something): look again.
            () = shared.1.notified() => {}
            () = crate::recording::idle_wait(&idle_flush) => {
                shared.0.borrow_mut().endpoint.flush_recording();
                idle_flush.done();
                continue;
            }
        }
        let mut core = shared.0.borrow_mut();
        core.settle();
        let recording = core.activity && core.endpoint.is_recording();
        core.activity = false;
        drop(core);
        idle_flush.touch(recording);
    }
}

/// One connection: read into the endpoint while it wants input, write what it has for us when
/// the socket can take it, close once the endpoint has forgotten the connection.
async fn connection<H: Hooks + 'static>(
    shared: Shared<H>,
    id: ConnectionId,
    mut stream: TcpStream,
    wake: Rc<Notify>,
) {
    let mut input = vec![0u8; READ_CHUNK];
    // Halves that only borrow: the read half's `poll_read` (unlike `try_read`) clears the
    // socket's readiness after a short read, so a batch costs one `recv`, not a second one
    // that only says `EAGAIN`; the write half writes while the read waits.
    let (mut rd, wr) = stream.split();
    let mut out: Vec<u8> = Vec::new();
    let mut sent = 0;
    let mut read_open = true;
    // Whether to look for output: after every wake-up, and while `settle_for` says there is
    // more for us (no self-notification round trip, no empty poll after each batch).
    let mut poll = true;
    loop {
        // Take the next batch only once the socket took the last one.
        if sent == out.len() && poll {
            out.clear();
            sent = 0;
            poll = false;
            let open = {
                let mut core = shared.0.borrow_mut();
                let n = core.endpoint.poll_transmit(id, &mut out);
                let open = core.endpoint.is_open(id);
                if n > 0 {
                    poll = core.settle_for(Some(id));
                }
                if !open {
                    core.conns.remove(&id);
                }
                open
            };
            if !open {
                shared.1.notify_one();
                finish(stream, &out).await;
                return;
            }
        }
        while sent < out.len() {
            match wr.try_write(&out[sent..]) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => {
                    transport_closed(&shared, id);
                    out.clear();
                    sent = 0;
                    read_open = false;
                    break;
                }
            }
        }
        if sent == out.len() && poll {
            // All written, and more is waiting.
            continue;
        }
        let want_write = sent < out.len();
        let want_read = read_open && shared.0.borrow().endpoint.wants_input(id);
        // Whatever wakes us, look for output next.
        poll = true;
        tokio::select! {
            // Cancel-safe: a read that loses the race has taken nothing.
            r = rd.read(&mut input), if want_read => {
                match r {
                    Ok(0) => {
                        read_open = false;
                        transport_closed(&shared, id);
                    }
                    Ok(n) => {
                        let mut core = shared.0.borrow_mut();
                        core.handle_input(clock::now(), id, &input[..n]);
                        core.settle_for(Some(id));
                        let look = core.server_must_look();
                        drop(core);
                        if look {
                            shared.1.notify_one();
                        }
                    }
                    Err(_) => {
                        read_open = false;
                        transport_closed(&shared, id);
                    }
                }
            }
            _ = wr.writable(), if want_write => {}
            () = wake.notified() => {}
        }
    }
}

/// The busy-poll: while input came less than `window` ago, yield instead of letting the thread
/// sleep. tokio runs a task that yielded only after polling its I/O driver without a timeout, so
/// each turn is one `epoll_wait` that returns at once, and a socket that became readable wakes its
/// connection task as usual: the connection tasks need not know. Quiet for the window, it sleeps
/// until the next input.
async fn spin<H: Hooks>(shared: Shared<H>, window: Duration) {
    let mut w = tase2_driver_util::SpinWindow::new(window);
    loop {
        let inputs = shared.0.borrow().inputs;
        if w.keep_spinning(inputs, std::time::Instant::now()) {
            tokio::task::yield_now().await;
            continue;
        }
        let wake = Rc::new(Notify::new());
        shared.0.borrow_mut().spinner_asleep = Some(Rc::clone(&wake));
        wake.notified().await;
    }
}

pub(crate) fn transport_closed<H: Hooks>(shared: &Shared<H>, id: ConnectionId) {
    let mut core = shared.0.borrow_mut();
    core.endpoint.handle_transport_closed(clock::now(), id);
    core.settle();
    drop(core);
    shared.1.notify_one();
}

/// The last octets of a connection the endpoint has forgotten, then an orderly shutdown (FIN);
/// the socket closes when the stream drops.
async fn finish(mut stream: TcpStream, bytes: &[u8]) {
    use tokio::io::AsyncWriteExt;
    if stream.write_all(bytes).await.is_ok() {
        let _ = stream.shutdown().await;
    }
}
