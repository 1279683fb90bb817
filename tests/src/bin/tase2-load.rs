//! `tase2-load`: a load client that keeps pipelined MMS Read requests outstanding against one server.
//!
//! It drives the core [`Client`] over a blocking [`TcpStream`] (Nagle off): associate with the given AP
//! titles, wait for the association, then keep `--depth` Read requests for one named variable in
//! flight (never more than the negotiated `max_serv_outstanding_calling`; the effective depth is
//! printed) for a warm-up and then for `--seconds`. Every answer must be a successful Read with
//! exactly one `Success` result; anything else counts as an error. It then waits for the requests
//! still in flight, concludes the association and prints one line:
//!
//! ```text
//! reads/s <N> depth <d> ok <count> errors <count>
//! ```
//!
//! `ok` and `errors` count every answer of the run (warm-up and drain included); `reads/s` counts only
//! those that arrived in the measured window. The exit status is non-zero on any error. Every wait is
//! bounded, so the tool stops by itself whatever the server does.
//!
//! `--connections N` runs N such associations in parallel (one thread each, each with `--depth` reads
//! in flight) and prints their summed rate, with ` connections N` appended to the line.
//!
//! `--probe` only associates, prints `max_serv_outstanding_calling <n> max_pdu_size <n>` and
//! concludes: `cargo xtask bench` uses it to pick one depth that every server accepts.
//!
//! `--tls-ca FILE` (with `--tls-cert`, `--tls-key` for mutual authentication, `--tls-versions`)
//! runs every association over TLS (rustls, the same configuration as the drivers, `tase2-tls`)
//! and appends ` tls <version> <suite> tls_handshake_us <n>` (the first association's TLS
//! handshake, from the TCP connect on) to the line. `--tls-handshakes N` only times N full TLS
//! handshakes (no resumption) and N resumed ones and prints their medians:
//! `tls_handshake_full_us <n> tls_handshake_resumed_us <n> tls <version> <suite>`.

use std::collections::HashSet;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Parser;
use tase2_core::assoc::{AssociationConfig, Event};
use tase2_core::ber::ObjectIdentifier;
use tase2_core::client::Client;
use tase2_core::mms::{AccessResult, ConfirmedResponse, ObjectName};
use tase2_core::Instant;

/// Pipelined MMS Read load against one server.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Server address, host:port.
    addr: String,
    /// Domain of the variable to read.
    #[arg(long, default_value = "ICC1")]
    domain: String,
    /// Item (variable name) inside the domain.
    #[arg(long, default_value = "Setpoint_Real")]
    item: String,
    /// Read requests to keep outstanding (clamped to what the server negotiates).
    #[arg(long, default_value_t = 10)]
    depth: u16,
    /// Length of the measured window, in seconds.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Associations loaded in parallel, one thread each, every one with `--depth` reads in flight.
    #[arg(long, default_value_t = 1)]
    connections: u16,
    /// Length of the unmeasured warm-up before it, in seconds.
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// Only associate, print what was negotiated and conclude.
    #[arg(long)]
    probe: bool,
    /// Our AP-title.
    #[arg(long, default_value = "1.1.1.999")]
    local_ap_title: String,
    /// Our AE-qualifier.
    #[arg(long, default_value_t = 12)]
    local_ae: i64,
    /// The server's AP-title.
    #[arg(long, default_value = "1.1.1.998")]
    remote_ap_title: String,
    /// The server's AE-qualifier.
    #[arg(long, default_value_t = 12)]
    remote_ae: i64,
    /// TLS: CA certificates to verify the server with (turns TLS on).
    #[arg(long)]
    tls_ca: Option<std::path::PathBuf>,
    /// TLS: our certificate chain.
    #[arg(long)]
    tls_cert: Option<std::path::PathBuf>,
    /// TLS: its key.
    #[arg(long)]
    tls_key: Option<std::path::PathBuf>,
    /// TLS versions: 1.2, 1.3 or 1.2,1.3.
    #[arg(long)]
    tls_versions: Option<String>,
    /// Only time this many full and this many resumed TLS handshakes.
    #[arg(long)]
    tls_handshakes: Option<usize>,
}

/// How long connecting, draining and releasing may each take at most.
const PHASE_TIMEOUT: Duration = Duration::from_secs(10);

/// Socket read timeout: how often the loop wakes up to look at its deadlines when nothing arrives.
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// How many failed answers are described on stderr (the rest are only counted).
const MAX_REPORTED_ERRORS: u64 = 5;

/// The process clock as the core's [`Instant`]: monotonic since the first call, plus UTC.
fn now() -> Instant {
    static START: OnceLock<std::time::Instant> = OnceLock::new();
    let start = *START.get_or_init(std::time::Instant::now);
    let utc = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    Instant::new(start.elapsed(), utc.as_micros() as i64)
}

/// A parsed object identifier, or a readable error.
fn oid(s: &str) -> Result<ObjectIdentifier, String> {
    s.parse()
        .map_err(|_| format!("not an object identifier: {s}"))
}

/// A blocking socket, plain or TLS.
enum Stream {
    Plain(TcpStream),
    Tls(Box<(tase2_tls::rustls::ClientConnection, TcpStream)>),
}

impl Stream {
    /// Over TLS: run the handshake to its end (the socket's read timeout only makes it retry).
    fn tls(
        sock: TcpStream,
        config: &std::sync::Arc<tase2_tls::rustls::ClientConfig>,
        addr: &SocketAddr,
    ) -> Result<Stream, String> {
        let name = tase2_tls::rustls::pki_types::ServerName::IpAddress(addr.ip().into());
        let mut conn = tase2_tls::rustls::ClientConnection::new(config.clone(), name)
            .map_err(|e| format!("TLS: {e}"))?;
        let mut sock = sock;
        let deadline = std::time::Instant::now() + PHASE_TIMEOUT;
        while conn.is_handshaking() {
            if std::time::Instant::now() > deadline {
                return Err("TLS handshake timed out".into());
            }
            match conn.complete_io(&mut sock) {
                Ok(_) => {}
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) => return Err(format!("TLS handshake: {e}")),
            }
        }
        Ok(Stream::Tls(Box::new((conn, sock))))
    }

    fn shutdown(&mut self) {
        match self {
            Stream::Plain(s) => {
                let _ = s.shutdown(std::net::Shutdown::Both);
            }
            Stream::Tls(t) => {
                let (conn, sock) = &mut **t;
                conn.send_close_notify();
                let _ = conn.write_tls(sock);
                let _ = sock.shutdown(std::net::Shutdown::Both);
            }
        }
    }

    /// `tls <version> <suite>` of a TLS stream.
    fn describe(&self) -> Option<String> {
        let Stream::Tls(t) = self else { return None };
        let c = &t.0;
        let v = match c.protocol_version() {
            Some(tase2_tls::rustls::ProtocolVersion::TLSv1_3) => "1.3",
            _ => "1.2",
        };
        let suite = c
            .negotiated_cipher_suite()
            .map(|s| tase2_tls::suite_name(&s))?;
        Some(format!("tls {v} {suite}"))
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let (conn, sock) = match self {
            Stream::Plain(s) => return s.read(buf),
            Stream::Tls(t) => {
                let (c, s) = &mut **t;
                (c, s)
            }
        };
        loop {
            match conn.reader().read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
            if conn.read_tls(sock)? == 0 {
                return Ok(0);
            }
            conn.process_new_packets().map_err(std::io::Error::other)?;
            while conn.wants_write() {
                conn.write_tls(sock)?;
            }
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(t) => {
                let (conn, sock) = &mut **t;
                conn.writer().write_all(buf)?;
                while conn.wants_write() {
                    conn.write_tls(sock)?;
                }
                Ok(buf.len())
            }
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One client association over a blocking socket.
struct Conn {
    /// The socket, with a short read timeout.
    stream: Stream,
    /// The sans-IO client.
    client: Client,
    /// Outgoing bytes, reused.
    out: Vec<u8>,
    /// Incoming bytes, reused.
    inbuf: Vec<u8>,
}

impl Conn {
    /// Connects the socket (and runs the TLS handshake, with `tls`) and starts the association
    /// (does not wait for it).
    fn open(
        addr: &SocketAddr,
        config: AssociationConfig,
        tls: Option<&std::sync::Arc<tase2_tls::rustls::ClientConfig>>,
    ) -> Result<Conn, String> {
        let stream = connect(addr)?;
        let stream = match tls {
            Some(t) => Stream::tls(stream, t, addr)?,
            None => Stream::Plain(stream),
        };
        Ok(Conn {
            stream,
            client: Client::new(config, now()),
            out: Vec::with_capacity(16 * 1024),
            inbuf: vec![0; 64 * 1024],
        })
    }

    /// Writes everything the client has queued.
    fn flush(&mut self) -> Result<(), String> {
        self.out.clear();
        if self.client.poll_transmit(&mut self.out) > 0 {
            self.stream
                .write_all(&self.out)
                .map_err(|e| format!("write: {e}"))?;
        }
        Ok(())
    }

    /// Waits up to [`POLL_INTERVAL`] for bytes and feeds them in; fires due timers; flushes answers.
    fn pump(&mut self) -> Result<(), String> {
        match self.stream.read(&mut self.inbuf) {
            Ok(0) => self.client.handle_transport_closed(),
            Ok(n) => self.client.handle_input(now(), &self.inbuf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => {
                self.client.handle_transport_closed();
                return Err(format!("read: {e}"));
            }
        }
        let t = now();
        if self.client.poll_timeout().is_some_and(|d| d <= t) {
            self.client.handle_timeout(t);
        }
        self.flush()
    }

    /// Waits for the association, within [`PHASE_TIMEOUT`].
    fn establish(&mut self) -> Result<(), String> {
        self.flush()?;
        let deadline = std::time::Instant::now() + PHASE_TIMEOUT;
        while std::time::Instant::now() < deadline {
            self.pump()?;
            while let Some(ev) = self.client.poll_event() {
                match ev {
                    Event::Established(_) => return Ok(()),
                    Event::Closed(e) => {
                        return Err(format!(
                            "association refused or closed: {}",
                            e.map_or_else(|| "orderly release".to_string(), |e| e.to_string())
                        ))
                    }
                    _ => {}
                }
            }
        }
        Err("no association within the connect timeout".into())
    }

    /// Concludes and waits (bounded) for the orderly release; an error if it did not complete.
    fn release(&mut self) -> Result<(), String> {
        self.client
            .conclude(now())
            .map_err(|e| format!("conclude: {e}"))?;
        self.flush()?;
        let deadline = std::time::Instant::now() + PHASE_TIMEOUT;
        while std::time::Instant::now() < deadline {
            self.pump()?;
            while let Some(ev) = self.client.poll_event() {
                if let Event::Closed(e) = ev {
                    self.stream.shutdown();
                    return match e {
                        None => Ok(()),
                        Some(e) => Err(format!("release failed: {e}")),
                    };
                }
            }
        }
        Err("no orderly release within the timeout".into())
    }
}

/// A TCP connection with Nagle off and the short read timeout.
fn connect(addr: &SocketAddr) -> Result<TcpStream, String> {
    let stream = TcpStream::connect_timeout(addr, PHASE_TIMEOUT)
        .map_err(|e| format!("connect {addr}: {e}"))?;
    stream
        .set_nodelay(true)
        .and_then(|()| stream.set_read_timeout(Some(POLL_INTERVAL)))
        .map_err(|e| format!("socket options: {e}"))?;
    Ok(stream)
}

/// The TLS client configuration of the `--tls-*` options, if any.
fn tls_config(
    args: &Args,
) -> Result<Option<std::sync::Arc<tase2_tls::rustls::ClientConfig>>, String> {
    let Some(ca) = &args.tls_ca else {
        return Ok(None);
    };
    let mut s = tase2_tls::TlsSettings {
        cert: args.tls_cert.clone(),
        key: args.tls_key.clone(),
        ca: vec![ca.clone()],
        ..Default::default()
    };
    if let Some(v) = &args.tls_versions {
        s.versions = tase2_tls::Versions::parse(v).map_err(|e| e.to_string())?;
    }
    tase2_tls::client_config(&s)
        .map(Some)
        .map_err(|e| format!("TLS: {e}"))
}

/// `--tls-handshakes N`: N full handshakes, then N resumed ones; prints the medians.
fn time_handshakes(
    addr: &SocketAddr,
    config: &std::sync::Arc<tase2_tls::rustls::ClientConfig>,
    n: usize,
) -> Result<(), String> {
    let mut full_config = (**config).clone();
    full_config.resumption = tase2_tls::rustls::client::Resumption::disabled();
    let full_config = std::sync::Arc::new(full_config);
    let median = |mut v: Vec<Duration>| {
        v.sort();
        v.get(v.len() / 2).copied().unwrap_or_default()
    };
    let mut described = None;
    let mut once = |config: &std::sync::Arc<tase2_tls::rustls::ClientConfig>| {
        let t0 = std::time::Instant::now();
        let sock = connect(addr)?;
        let mut s = Stream::tls(sock, config, addr)?;
        let took = t0.elapsed();
        described = s.describe();
        // Take the TLS 1.3 tickets (outside the timing): the next resumed handshake needs one.
        let mut b = [0u8; 1];
        let _ = s.read(&mut b);
        s.shutdown();
        Ok::<_, String>(took)
    };
    let mut full = Vec::with_capacity(n);
    for _ in 0..n {
        full.push(once(&full_config)?);
    }
    // The first one fills the session cache.
    once(config)?;
    let mut resumed = Vec::with_capacity(n);
    for _ in 0..n {
        resumed.push(once(config)?);
    }
    println!(
        "tls_handshake_full_us {} tls_handshake_resumed_us {} {}",
        median(full).as_micros(),
        median(resumed).as_micros(),
        described.unwrap_or_default()
    );
    Ok(())
}

/// What the load phase counted.
#[derive(Default)]
struct Tally {
    /// Successful answers over the whole run.
    ok: u64,
    /// Failed answers (and other peer complaints) over the whole run.
    errors: u64,
    /// Successful answers inside the measured window.
    measured: u64,
    /// Length of the measured window.
    window: Duration,
}

impl Tally {
    /// Counts a failure, describing the first few on stderr.
    fn error(&mut self, what: impl FnOnce() -> String) {
        self.errors += 1;
        if self.errors <= MAX_REPORTED_ERRORS {
            eprintln!("tase2-load: error: {}", what());
        }
    }
}

/// Keeps `depth` reads of `name` in flight through warm-up and the measured window, then drains.
fn load(
    conn: &mut Conn,
    name: &ObjectName,
    depth: usize,
    warmup: Duration,
    window: Duration,
) -> Result<Tally, String> {
    let names = [name.clone()];
    let mut tally = Tally::default();
    let mut in_flight: HashSet<u32> = HashSet::with_capacity(depth * 2);
    let start = std::time::Instant::now();
    let measure_from = start + warmup;
    let measure_to = measure_from + window;
    let hard_stop = measure_to + PHASE_TIMEOUT;
    let mut window_start: Option<std::time::Instant> = None;
    let mut sending = true;

    loop {
        let t = std::time::Instant::now();
        if window_start.is_none() && t >= measure_from {
            window_start = Some(t);
        }
        if sending && t >= measure_to {
            sending = false;
            tally.window = t - window_start.unwrap_or(measure_from);
        }
        if !sending && in_flight.is_empty() {
            return Ok(tally);
        }
        if t >= hard_stop {
            return Err(format!(
                "{} reads still unanswered {} s after the end",
                in_flight.len(),
                PHASE_TIMEOUT.as_secs()
            ));
        }
        if sending && in_flight.len() < depth {
            let now = now();
            while in_flight.len() < depth {
                let id = conn
                    .client
                    .read(now, &names)
                    .map_err(|e| format!("read request refused locally: {e}"))?;
                in_flight.insert(id);
            }
            conn.flush()?;
        }
        conn.pump()?;
        let counting = sending && window_start.is_some();
        while let Some(ev) = conn.client.poll_event() {
            match ev {
                Event::Response { invoke_id, result } => {
                    if !in_flight.remove(&invoke_id) {
                        tally.error(|| format!("answer to unknown invoke id {invoke_id}"));
                        continue;
                    }
                    match result {
                        Ok(ConfirmedResponse::Read(r))
                            if r.results.len() == 1
                                && matches!(r.results[0], AccessResult::Success(_)) =>
                        {
                            tally.ok += 1;
                            if counting {
                                tally.measured += 1;
                            }
                        }
                        other => tally.error(|| format!("read {invoke_id}: {other:?}")),
                    }
                }
                Event::Closed(e) => {
                    return Err(format!(
                        "association closed during the load: {}",
                        e.map_or_else(|| "orderly release".to_string(), |e| e.to_string())
                    ))
                }
                Event::PeerError(e) => tally.error(|| format!("peer error {e:?}")),
                Event::Rejected(r) => tally.error(|| format!("rejected {r:?}")),
                _ => {}
            }
        }
    }
}

/// The whole run; `Ok(true)` when no answer failed.
fn run(args: &Args) -> Result<bool, String> {
    let addr = args
        .addr
        .to_socket_addrs()
        .map_err(|e| format!("{}: {e}", args.addr))?
        .next()
        .ok_or_else(|| format!("{}: no address", args.addr))?;
    if args.depth == 0 {
        return Err("--depth must be at least 1".into());
    }
    let mut config = AssociationConfig::with_ap_titles(
        (oid(&args.local_ap_title)?, args.local_ae),
        (oid(&args.remote_ap_title)?, args.remote_ae),
    );
    // Propose at least the requested depth (the Initiate field is an Integer16).
    config.max_serv_outstanding_calling = config
        .max_serv_outstanding_calling
        .max(args.depth)
        .min(i16::MAX as u16);

    if args.connections == 0 {
        return Err("--connections must be at least 1".into());
    }
    let tls = tls_config(args)?;
    if let (Some(n), Some(t)) = (args.tls_handshakes, &tls) {
        time_handshakes(&addr, t, n.max(1))?;
        return Ok(true);
    }
    let count = if args.probe { 1 } else { args.connections };
    let mut conns = Vec::with_capacity(usize::from(count));
    let mut handshake = None;
    for _ in 0..count {
        let t0 = std::time::Instant::now();
        let mut conn = Conn::open(&addr, config.clone(), tls.as_ref())?;
        handshake.get_or_insert(t0.elapsed());
        conn.establish()?;
        conns.push(conn);
    }
    let tls_text = match (conns[0].stream.describe(), handshake) {
        (Some(d), Some(h)) => format!(" {d} tls_handshake_us {}", h.as_micros()),
        _ => String::new(),
    };
    let negotiated = *conns[0].client.negotiated();
    if args.probe {
        println!(
            "max_serv_outstanding_calling {} max_pdu_size {}",
            negotiated.max_serv_outstanding_calling, negotiated.max_pdu_size
        );
        conns[0].release()?;
        return Ok(true);
    }

    let depth = conns
        .iter()
        .map(|c| c.client.negotiated().max_serv_outstanding_calling)
        .fold(args.depth, u16::min);
    eprintln!(
        "tase2-load: {} {}/{}: depth {depth} (asked {}, server allows {}), {} association(s)",
        addr,
        args.domain,
        args.item,
        args.depth,
        negotiated.max_serv_outstanding_calling,
        conns.len()
    );
    let secs = |s: f64, what: &str| {
        Duration::try_from_secs_f64(s).map_err(|_| format!("bad --{what} {s}"))
    };
    let window = secs(args.seconds, "seconds")?;
    if window.is_zero() {
        return Err("--seconds must be positive".into());
    }
    let warmup = secs(args.warmup, "warmup")?;
    let name = ObjectName::domain(args.domain.as_str(), args.item.as_str());

    // Every association in its own thread; each concludes once its reads are answered.
    let results: Vec<Result<Tally, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = conns
            .iter_mut()
            .map(|conn| {
                let name = &name;
                scope.spawn(move || {
                    let tally = load(conn, name, usize::from(depth), warmup, window)?;
                    conn.release()?;
                    Ok(tally)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a load thread panicked".into()))
            })
            .collect()
    });
    let (mut rate, mut ok, mut errors, mut failed) = (0.0, 0u64, 0u64, None);
    for r in results {
        match r {
            Ok(t) => {
                rate += t.measured as f64 / t.window.as_secs_f64().max(1e-9);
                ok += t.ok;
                errors += t.errors;
            }
            Err(e) => failed = Some(e),
        }
    }
    let more = if conns.len() > 1 {
        format!(" connections {}", conns.len())
    } else {
        String::new()
    };
    println!("reads/s {rate:.0} depth {depth} ok {ok} errors {errors}{more}{tls_text}");
    if let Some(e) = failed {
        return Err(e);
    }
    Ok(errors == 0)
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("tase2-load: {e}");
            ExitCode::FAILURE
        }
    }
}
