//! An MMS / TASE.2 server over tokio: one task owns the core [`Endpoint`]; per-socket tasks only move
//! bytes to and from it.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use tase2_core::server::{ConnectionId, Endpoint, Hooks, NoHooks, ServerConfig, ServerEvent, Vmd};
use tase2_core::Instant;

use crate::clock;

/// Called inside the endpoint task for every event, with the endpoint to act on (change the model,
/// send a report). Keep it quick: the whole server waits for it.
pub type EventHook<H = NoHooks> =
    Box<dyn FnMut(&mut Endpoint<H>, Instant, &ServerEvent<<H as Hooks>::Event>) + Send>;

/// A command run inside the endpoint task.
pub type Command<H = NoHooks> = Box<dyn FnOnce(&mut Endpoint<H>, Instant) + Send>;

enum Msg<H: Hooks> {
    Input(ConnectionId, Vec<u8>),
    TransportClosed(ConnectionId),
    Command(Command<H>),
}

/// A bound server, not yet running. `H` extends plain MMS (e.g. `tase2_core::tase2::server::Tase2`).
pub struct Server<H: Hooks = NoHooks> {
    listener: TcpListener,
    endpoint: Endpoint<H>,
    hook: Option<EventHook<H>>,
    tx: mpsc::UnboundedSender<Msg<H>>,
    rx: mpsc::UnboundedReceiver<Msg<H>>,
}

/// Sends commands to a running [`Server`] from anywhere.
pub struct ServerHandle<H: Hooks = NoHooks> {
    tx: mpsc::UnboundedSender<Msg<H>>,
}

impl<H: Hooks> Clone for ServerHandle<H> {
    fn clone(&self) -> Self {
        ServerHandle {
            tx: self.tx.clone(),
        }
    }
}

impl<H: Hooks> ServerHandle<H> {
    /// Run `f` on the endpoint inside the server task (e.g. update points, send reports).
    /// Returns false when the server has stopped.
    pub fn command(&self, f: impl FnOnce(&mut Endpoint<H>, Instant) + Send + 'static) -> bool {
        self.tx.send(Msg::Command(Box::new(f))).is_ok()
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
        let (tx, rx) = mpsc::unbounded_channel();
        Ok(Server {
            listener,
            endpoint,
            hook: None,
            tx,
            rx,
        })
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

    /// A handle for sending commands once running.
    pub fn handle(&self) -> ServerHandle<H> {
        ServerHandle {
            tx: self.tx.clone(),
        }
    }

    /// Serve until the task is dropped.
    pub async fn run(mut self) -> io::Result<()> {
        let mut writers: HashMap<ConnectionId, mpsc::UnboundedSender<Vec<u8>>> = HashMap::new();
        loop {
            let deadline = self.endpoint.poll_timeout();
            let sleep = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(clock::to_tokio(d)).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                accepted = self.listener.accept() => {
                    let (stream, _) = accepted?;
                    let _ = stream.set_nodelay(true);
                    match self.endpoint.open(clock::now()) {
                        Ok(id) => writers.insert(id, spawn_socket(id, stream, self.tx.clone())),
                        // Over the association limit: close at once.
                        Err(_) => None,
                    };
                }
                Some(msg) = self.rx.recv() => {
                    let now = clock::now();
                    match msg {
                        Msg::Input(id, bytes) => self.endpoint.handle_input(now, id, &bytes),
                        Msg::TransportClosed(id) => self.endpoint.handle_transport_closed(now, id),
                        Msg::Command(f) => f(&mut self.endpoint, now),
                    }
                }
                () = sleep => self.endpoint.handle_timeout(clock::now()),
            }
            self.flush(&mut writers);
        }
    }

    /// Drain events (through the hook) and transmits until both are empty.
    fn flush(&mut self, writers: &mut HashMap<ConnectionId, mpsc::UnboundedSender<Vec<u8>>>) {
        let mut closed = false;
        loop {
            let mut progressed = false;
            while let Some(ev) = self.endpoint.poll_event() {
                progressed = true;
                closed |= matches!(ev, ServerEvent::Closed { .. });
                if let Some(hook) = self.hook.as_mut() {
                    hook(&mut self.endpoint, clock::now(), &ev);
                }
            }
            let mut buf = Vec::new();
            while let Some(id) = self.endpoint.poll_transmit_any(&mut buf) {
                progressed = true;
                if !buf.is_empty() {
                    if let Some(w) = writers.get(&id) {
                        let _ = w.send(std::mem::take(&mut buf));
                    }
                }
            }
            if !progressed {
                break;
            }
        }
        if !closed {
            return;
        }
        // Connections the endpoint has forgotten: dropping the sender lets the writer close the socket
        // after its last bytes.
        let live: std::collections::HashSet<ConnectionId> = self.endpoint.connections().collect();
        writers.retain(|id, _| live.contains(id));
    }
}

/// Split the socket into a reader task feeding the endpoint and a writer task fed by it.
fn spawn_socket<H: Hooks + Send + 'static>(
    id: ConnectionId,
    stream: TcpStream,
    tx: mpsc::UnboundedSender<Msg<H>>,
) -> mpsc::UnboundedSender<Vec<u8>> {
    let (mut rd, mut wr) = stream.into_split();
    let (wtx, mut wrx) = mpsc::unbounded_channel::<Vec<u8>>();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match rd.read(&mut buf).await {
                Ok(0) | Err(_) => {
                    let _ = tx.send(Msg::TransportClosed(id));
                    return;
                }
                Ok(n) => {
                    if tx.send(Msg::Input(id, buf[..n].to_vec())).is_err() {
                        return;
                    }
                }
            }
        }
    });
    tokio::spawn(async move {
        while let Some(bytes) = wrx.recv().await {
            if wr.write_all(&bytes).await.is_err() {
                return;
            }
        }
        let _ = wr.shutdown().await;
    });
    wtx
}
