//! `tase2-load`: a load client that keeps pipelined MMS Read requests outstanding against one server.
//!
//! It associates with the given AP titles, keeps `--depth` Read requests for one named variable in
//! flight on every association (never more than the negotiated `max_serv_outstanding_calling`;
//! the effective depth is printed) for a warm-up and then for `--seconds`. Every answer must be a
//! successful Read with exactly one `Success` result; anything else counts as an error. It then
//! waits for the requests still in flight, concludes the associations and prints one line:
//!
//! ```text
//! reads/s <N> depth <d> ok <count> errors <count>
//! ```
//!
//! `ok` and `errors` count every answer of the run (warm-up and drain included); `reads/s` counts only
//! those that arrived in the measured window. The exit status is non-zero on any error. Every wait is
//! bounded, so the tool stops by itself whatever the server does.
//!
//! `--connections N` runs N such associations at once, each with `--depth` reads in flight, and
//! prints their summed rate, with ` connections N` appended to the line.
//!
//! `--spin` polls the sockets without ever sleeping during the load. It burns the client's CPU,
//! but on a VM a sleeping vCPU is woken by the hypervisor, and the server's `send` pays for that
//! wake-up on loopback: with it the figure measures the server rather than the wake-ups of the
//! client's vCPU.
//!
//! # Design: cheap per read, so that the server is what is measured
//!
//! The client shares the machine with the server it measures, so what it spends per read is taken
//! from the server. It therefore runs on **one thread** whatever `--connections` is: every
//! association is a non-blocking socket (Nagle off) on one `mio` poll, and one `epoll_wait` wakes
//! it for whichever sockets have answers. Per wake-up it reads the clock once, reads each ready
//! socket (a short read means the socket is drained, as tokio does, so there is no extra `recv`
//! ending in `EWOULDBLOCK`), checks the answers, encodes the refill requests of that association
//! into one buffer and writes them with one `send`.
//!
//! - **Association set-up and release** go through the core's general [`Client`] (the COTP, session,
//!   presentation, ACSE and MMS Initiate/Conclude state machine), driven by the same poll.
//! - **During the load** the client's association is left alone (it has no request outstanding)
//!   and the data phase is run here with the core's public codecs: each Read request is the core's
//!   [`MmsPdu::encode`] of one prepared `ConfirmedRequest::Read` whose invoke id is set in place,
//!   framed by [`cotp::write_tsdu`], [`session::write_data_header`] and
//!   [`presentation::write_user_data`] into a reused buffer (no allocation per request); each
//!   answer is unframed by [`tpkt::frame_len`], [`Tpdu::decode`] (with the core's
//!   [`Reassembler`] for segmented TSDUs), [`Spdu::decode`] and
//!   [`presentation::decode_single_pdv`] (MMS context only), and then checked without allocating
//!   ([`one_success_read`]: a confirmed-ResponsePDU, Read service, no variable specification, one
//!   access result that [`DataRef::decode`] takes as a successful scalar). Whatever that cheap
//!   check does not accept goes to the core's general [`MmsPdu::decode`] and the same rule as
//!   before (one `Success` result), so every answer is still verified: a failure, a
//!   ConfirmedError, a Reject, an unknown invoke id or an undecodable PDU is an error; an
//!   unconfirmed PDU (an InformationReport) is ignored; anything else ends the association with an
//!   error.
//! - The invoke ids in flight live in a fixed table indexed by the low bits of the id (twice the
//!   depth, rounded up to a power of two; an id whose slot is taken is skipped), not a hash set.
//!
//! Over TLS (`--tls-ca`) the same loop runs rustls on the non-blocking sockets (plaintext read
//! until the socket says `EWOULDBLOCK`; records rustls could not send yet wait for the socket to be
//! writable); the TLS handshakes themselves run before, on the blocking socket, and are timed.
//!
//! # Other modes
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

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Parser;
use mio::{Events, Interest, Poll, Registry, Token};
use tase2_core::assoc::{AssociationConfig, Event};
use tase2_core::ber::{primitive, ObjectIdentifier, Reader, Tag, Writer};
use tase2_core::client::Client;
use tase2_core::cotp::{self, Reassembler, Tpdu};
use tase2_core::mms::{
    service_tag, AccessResult, ConfirmedRequest, ConfirmedResponse, DataRef, DecodeLimits, MmsPdu,
    ObjectName, ReadRequest, VariableAccessSpecification, VariableSpec,
};
use tase2_core::presentation::{self, MMS_CONTEXT_ID};
use tase2_core::session::{self, Spdu};
use tase2_core::{tpkt, Instant};
use tase2_tls::rustls;

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
    /// Associations loaded at once (all on one thread), every one with `--depth` reads in flight.
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
    /// During the load, poll the sockets without ever sleeping (burns the client's CPU): the
    /// server's answers then never wait for the client's CPU to wake up.
    #[arg(long)]
    spin: bool,
}

/// How long connecting, draining and releasing may each take at most.
const PHASE_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest one wait for readiness lasts: how often timers are looked at when nothing arrives
/// (also the blocking socket's read timeout during a TLS handshake).
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// How many failed answers are described on stderr per association (the rest are only counted).
const MAX_REPORTED_ERRORS: u64 = 5;

/// The size of the one receive buffer that every socket is read into.
const READ_BUFFER: usize = 64 * 1024;

/// The process clock as the core's [`Instant`]: monotonic since the first call, plus UTC. Only the
/// association's set-up and release need it; the load itself reads the monotonic clock alone, once
/// per wake-up.
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

/// `tls <version> <suite>` of a TLS connection.
fn describe_tls(c: &rustls::ClientConnection) -> Option<String> {
    let v = match c.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_3) => "1.3",
        _ => "1.2",
    };
    let suite = c
        .negotiated_cipher_suite()
        .map(|s| tase2_tls::suite_name(&s))?;
    Some(format!("tls {v} {suite}"))
}

/// A blocking socket, plain or TLS: what the TLS handshake runs on (and `--tls-handshakes`).
enum Stream {
    Plain(TcpStream),
    Tls(Box<(rustls::ClientConnection, TcpStream)>),
}

impl Stream {
    /// Over TLS: run the handshake to its end (the socket's read timeout only makes it retry).
    fn tls(
        sock: TcpStream,
        config: &Arc<rustls::ClientConfig>,
        addr: &SocketAddr,
    ) -> Result<Stream, String> {
        let name = rustls::pki_types::ServerName::IpAddress(addr.ip().into());
        let mut conn =
            rustls::ClientConnection::new(config.clone(), name).map_err(|e| format!("TLS: {e}"))?;
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
        match self {
            Stream::Plain(_) => None,
            Stream::Tls(t) => describe_tls(&t.0),
        }
    }

    /// The same socket, non-blocking, for the poll.
    fn into_nonblocking(self) -> Result<Sock, String> {
        let nb = |s: TcpStream| {
            s.set_nonblocking(true)
                .map(|()| mio::net::TcpStream::from_std(s))
                .map_err(|e| format!("socket options: {e}"))
        };
        Ok(match self {
            Stream::Plain(s) => Sock::Plain(nb(s)?),
            Stream::Tls(t) => {
                let (conn, s) = *t;
                Sock::Tls(Box::new(TlsSock {
                    conn,
                    tcp: nb(s)?,
                    drained: false,
                }))
            }
        })
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

/// A non-blocking socket on the poll, plain or TLS.
enum Sock {
    Plain(mio::net::TcpStream),
    Tls(Box<TlsSock>),
}

/// rustls over a non-blocking socket.
struct TlsSock {
    conn: rustls::ClientConnection,
    tcp: mio::net::TcpStream,
    /// The last socket read of this readiness event was short: the socket is drained, so reading
    /// it again before the next event would only return `WouldBlock`.
    drained: bool,
}

impl TlsSock {
    /// What rustls holds for the socket, as far as the socket takes it.
    fn write_tls(&mut self) -> std::io::Result<()> {
        while self.conn.wants_write() {
            match self.conn.write_tls(&mut self.tcp) {
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Plaintext into `buf`; it reads the socket only once rustls has no plaintext left (and not
    /// after a short read), so what rustls holds is always taken before the next wait.
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            match self.conn.reader().read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
            if self.drained {
                return Err(ErrorKind::WouldBlock.into());
            }
            let mut probe = ShortRead {
                inner: &mut self.tcp,
                short: false,
            };
            if self.conn.read_tls(&mut probe)? == 0 {
                return Ok(0);
            }
            self.drained = probe.short;
            self.conn
                .process_new_packets()
                .map_err(std::io::Error::other)?;
            // Answers rustls owes the peer (a KeyUpdate, say), as far as the socket takes them.
            self.write_tls()?;
        }
    }

    /// Plaintext from `buf`, taken only once rustls has sent what it held.
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.write_tls()?;
        if self.conn.wants_write() {
            return Err(ErrorKind::WouldBlock.into());
        }
        let n = self.conn.writer().write(buf)?;
        self.write_tls()?;
        Ok(n)
    }
}

/// A socket reader that notes whether the last read returned less than asked for.
struct ShortRead<'a> {
    inner: &'a mut mio::net::TcpStream,
    short: bool,
}

impl Read for ShortRead<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.short = n < buf.len();
        Ok(n)
    }
}

impl Sock {
    fn tcp(&mut self) -> &mut mio::net::TcpStream {
        match self {
            Sock::Plain(s) => s,
            Sock::Tls(t) => &mut t.tcp,
        }
    }

    /// A readiness event came: the socket may have more than the last read left.
    fn readable(&mut self) {
        if let Sock::Tls(t) = self {
            t.drained = false;
        }
    }

    /// Plaintext into `buf`: `Ok(0)` at the end of the stream, `WouldBlock` when nothing is
    /// there.
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Sock::Plain(s) => s.read(buf),
            Sock::Tls(t) => t.read(buf),
        }
    }

    /// Plaintext from `buf`, as much as is taken now (`WouldBlock`: none).
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sock::Plain(s) => s.write(buf),
            Sock::Tls(t) => t.write(buf),
        }
    }

    /// Whether TLS holds records the socket did not take yet.
    fn tls_pending(&self) -> bool {
        match self {
            Sock::Plain(_) => false,
            Sock::Tls(t) => t.conn.wants_write(),
        }
    }

    /// Sends what TLS still holds, as far as the socket takes it.
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sock::Plain(_) => Ok(()),
            Sock::Tls(t) => t.write_tls(),
        }
    }

    fn shutdown(&mut self) {
        if let Sock::Tls(t) = self {
            t.conn.send_close_notify();
            let _ = t.write_tls();
        }
        let _ = self.tcp().shutdown(std::net::Shutdown::Both);
    }
}

/// The invoke ids in flight on one association: a table indexed by the id's low bits.
struct InFlight {
    /// `Some(id)` while `id` awaits its answer.
    slots: Vec<Option<u32>>,
    /// `slots.len() - 1` (a power of two minus one).
    mask: usize,
    /// How many slots are taken.
    len: usize,
    /// The next id to try.
    next: u32,
}

impl InFlight {
    /// Room for `depth` ids in flight (twice that many slots, so a free one is always near).
    fn new(depth: usize) -> InFlight {
        let n = (depth.max(1) * 2).next_power_of_two();
        InFlight {
            slots: vec![None; n],
            mask: n - 1,
            len: 0,
            next: 1,
        }
    }

    /// A fresh id, now in flight (skipping ids whose slot is still taken). Only while
    /// `len < depth`, so a free slot exists.
    fn issue(&mut self) -> u32 {
        debug_assert!(self.len < self.slots.len());
        let mut id = self.next;
        while self.slots[id as usize & self.mask].is_some() {
            id = id.wrapping_add(1);
        }
        self.slots[id as usize & self.mask] = Some(id);
        self.next = id.wrapping_add(1);
        self.len += 1;
        id
    }

    /// Whether `id` is in flight.
    fn contains(&self, id: u32) -> bool {
        self.slots[id as usize & self.mask] == Some(id)
    }

    /// `true` if `id` was in flight (it no longer is).
    fn take(&mut self, id: u32) -> bool {
        let slot = &mut self.slots[id as usize & self.mask];
        if *slot == Some(id) {
            *slot = None;
            self.len -= 1;
            true
        } else {
            false
        }
    }
}

/// What the load phase counted on one association.
#[derive(Default)]
struct Tally {
    /// Successful answers over the whole run.
    ok: u64,
    /// Failed answers (and other peer complaints) over the whole run.
    errors: u64,
    /// Successful answers inside the measured window.
    measured: u64,
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

/// Who handles what arrives on an association.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// The core's [`Client`] (set-up, release).
    Assoc,
    /// The load's own data phase (see the module docs).
    Load,
    /// Failed or closed: nothing more is read or written.
    Done,
}

/// The invoke id of a confirmed-ResponsePDU answering a Read with exactly one successful result
/// whose value [`DataRef::decode`] fully checks (every scalar but strings and object identifiers,
/// which the owned decoder validates further), and with no variableAccessSpecification; `None`
/// for anything else, which then takes the core's general decoder. Walked with the core's BER
/// [`Reader`]; allocates nothing.
fn one_success_read(pdu: &[u8]) -> Option<u32> {
    let mut r = Reader::new(pdu);
    let resp = r.expect(Tag::context_cons(1)).ok()?;
    r.finish().ok()?;
    let mut resp = resp.reader().ok()?;
    let id = primitive::decode_u64(resp.expect(Tag::INTEGER).ok()?.content).ok()?;
    let id = u32::try_from(id).ok()?;
    let read = resp.expect(Tag::context_cons(service_tag::READ)).ok()?;
    resp.finish().ok()?;
    let mut read = read.reader().ok()?;
    let results = read.expect(Tag::context_cons(1)).ok()?;
    read.finish().ok()?;
    let mut results = results.reader().ok()?;
    let only = results.read().ok()?;
    results.finish().ok()?;
    match DataRef::decode(&only).ok()? {
        DataRef::Array(_)
        | DataRef::Structure(_)
        | DataRef::VisibleString(_)
        | DataRef::GeneralizedTime(_)
        | DataRef::MmsString(_)
        | DataRef::ObjectId(_) => None,
        _ => Some(id),
    }
}

/// One association: its socket, the core client that set it up, and the load's own state.
struct Conn {
    token: Token,
    sock: Sock,
    /// The sans-IO client (set-up and release).
    client: Client,
    mode: Mode,
    /// Why the association ended badly, once it did.
    failed: Option<String>,
    /// Outgoing bytes; `out[sent..]` is still to be written.
    out: Vec<u8>,
    sent: usize,
    /// Registered for WRITABLE too (output is waiting for room).
    write_interest: bool,
    /// Incoming bytes of the load not yet a whole TPKT frame.
    pending_in: Vec<u8>,
    /// COTP segments of an incoming TSDU split over several DT TPDUs.
    reassembly: Reassembler,
    /// [`cotp::write_tsdu`]'s scratch buffer.
    scratch: Vec<u8>,
    /// The Read request, its invoke id rewritten for every send.
    request: MmsPdu,
    flight: InFlight,
    tally: Tally,
    /// Input arrived in this wake-up: refill and write.
    dirty: bool,
    /// Largest TPKT frame accepted, TSDU reassembled, TPDU sent (from the negotiation).
    max_frame: usize,
    max_tsdu: usize,
    tpdu_size: usize,
    /// Decode limits of the general decoder.
    limits: DecodeLimits,
    /// Established (set-up) or released (release) already.
    reached: bool,
}

impl Conn {
    /// Connects the socket (and runs the TLS handshake, with `tls`) and starts the association
    /// (does not wait for it).
    fn open(
        addr: &SocketAddr,
        config: AssociationConfig,
        tls: Option<&Arc<rustls::ClientConfig>>,
        token: Token,
    ) -> Result<(Conn, Option<String>), String> {
        let stream = connect(addr)?;
        let stream = match tls {
            Some(t) => Stream::tls(stream, t, addr)?,
            None => Stream::Plain(stream),
        };
        let described = stream.describe();
        let limits = config.limits;
        Ok((
            Conn {
                token,
                sock: stream.into_nonblocking()?,
                client: Client::new(config, now()),
                mode: Mode::Assoc,
                failed: None,
                out: Vec::with_capacity(16 * 1024),
                sent: 0,
                write_interest: false,
                pending_in: Vec::new(),
                reassembly: Reassembler::default(),
                scratch: Vec::new(),
                request: MmsPdu::ConcludeRequest,
                flight: InFlight::new(1),
                tally: Tally::default(),
                dirty: false,
                max_frame: 0,
                max_tsdu: 0,
                tpdu_size: 0,
                limits,
                reached: false,
            },
            described,
        ))
    }

    /// Ends the association with an error: nothing more is read or written.
    fn fail(&mut self, why: String) {
        self.failed.get_or_insert(why);
        if self.mode != Mode::Done {
            self.mode = Mode::Done;
            self.sock.shutdown();
        }
    }

    /// Reads what the socket has and hands it on (to the client, or to the load).
    fn on_readable(&mut self, buf: &mut [u8], counting: bool) {
        let plain = matches!(self.sock, Sock::Plain(_));
        self.sock.readable();
        while self.mode != Mode::Done {
            match self.sock.read(buf) {
                Ok(0) => {
                    match self.mode {
                        Mode::Assoc => {
                            self.client.handle_transport_closed();
                            self.mode = Mode::Done;
                        }
                        _ => self.fail(
                            "association closed during the load: the server closed the connection"
                                .into(),
                        ),
                    }
                    return;
                }
                Ok(n) => {
                    self.dirty = true;
                    match self.mode {
                        Mode::Assoc => self.client.handle_input(now(), &buf[..n]),
                        Mode::Load => self.load_input(&buf[..n], counting),
                        Mode::Done => {}
                    }
                    // A short read drained the socket: later bytes bring a new event.
                    if plain && n < buf.len() {
                        return;
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    if self.mode == Mode::Assoc {
                        self.client.handle_transport_closed();
                    }
                    self.fail(format!("read: {e}"));
                    return;
                }
            }
        }
    }

    /// Writes what is queued (the client's output first, in its phases) as far as the socket
    /// takes it, and asks for WRITABLE while some is left.
    fn flush(&mut self, registry: &Registry) {
        if self.mode == Mode::Done {
            return;
        }
        if self.mode == Mode::Assoc {
            self.client.poll_transmit(&mut self.out);
        }
        if let Err(e) = self.sock.flush() {
            return self.fail(format!("write: {e}"));
        }
        while self.sent < self.out.len() {
            match self.sock.write(&self.out[self.sent..]) {
                Ok(0) => return self.fail("write: the socket takes nothing".into()),
                Ok(n) => self.sent += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return self.fail(format!("write: {e}")),
            }
        }
        if self.sent == self.out.len() {
            self.out.clear();
            self.sent = 0;
        }
        let blocked = self.sent < self.out.len() || self.sock.tls_pending();
        if blocked != self.write_interest {
            let interest = if blocked {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            if let Err(e) = registry.reregister(self.sock.tcp(), self.token, interest) {
                return self.fail(format!("poll: {e}"));
            }
            self.write_interest = blocked;
        }
    }

    /// Fires the client's timer if due (set-up and release only).
    fn client_timer(&mut self) {
        if self.mode == Mode::Assoc {
            let t = now();
            if self.client.poll_timeout().is_some_and(|d| d <= t) {
                self.client.handle_timeout(t);
            }
        }
    }

    /// From set-up to the load: prepares the request and the invoke-id table for `depth`.
    fn start_load(&mut self, name: &ObjectName, depth: usize) -> Result<(), String> {
        let negotiated = *self.client.negotiated();
        let config = self.client.association().config();
        self.max_frame = negotiated.tpdu_size.max(config.tpdu_size.bytes()) + tpkt::HEADER_LEN;
        self.max_tsdu = config.max_pdu_size.max(negotiated.max_pdu_size) as usize + 1024;
        self.tpdu_size = negotiated.tpdu_size;
        self.request = MmsPdu::ConfirmedRequest {
            invoke_id: 0,
            request: ConfirmedRequest::Read(ReadRequest {
                specification_with_result: false,
                variables: VariableAccessSpecification::ListOfVariable(vec![VariableSpec::named(
                    name.clone(),
                )]),
            }),
        };
        let mut probe = Vec::new();
        self.request.encode(&mut Writer::new(&mut probe));
        if probe.len() > negotiated.max_pdu_size as usize {
            return Err(format!(
                "the Read request ({} octets) exceeds the negotiated max PDU size {}",
                probe.len(),
                negotiated.max_pdu_size
            ));
        }
        self.flight = InFlight::new(depth);
        self.mode = Mode::Load;
        Ok(())
    }

    /// Queues Read requests until `depth` are in flight.
    fn refill(&mut self, depth: usize) {
        while self.flight.len < depth {
            let id = self.flight.issue();
            if let MmsPdu::ConfirmedRequest { invoke_id, .. } = &mut self.request {
                *invoke_id = id;
            }
            let request = &self.request;
            cotp::write_tsdu(&mut self.out, self.tpdu_size, &mut self.scratch, |o| {
                session::write_data_header(o);
                presentation::write_user_data(&mut Writer::new(o), MMS_CONTEXT_ID, |w| {
                    request.encode(w)
                });
            });
        }
    }

    /// Back from the load to the client (for the release): what arrived after the last answer.
    fn end_load(&mut self) {
        if self.mode == Mode::Load {
            self.mode = Mode::Assoc;
            if !self.pending_in.is_empty() {
                let rest = std::mem::take(&mut self.pending_in);
                self.client.handle_input(now(), &rest);
            }
        }
    }

    /// Load input: every whole TPKT frame is checked; the rest waits for more.
    fn load_input(&mut self, data: &[u8], counting: bool) {
        if self.pending_in.is_empty() {
            let used = self.frames(data, counting);
            if self.mode == Mode::Load {
                self.pending_in.extend_from_slice(&data[used..]);
            }
        } else {
            self.pending_in.extend_from_slice(data);
            let buf = std::mem::take(&mut self.pending_in);
            let used = self.frames(&buf, counting);
            self.pending_in = buf;
            self.pending_in.drain(..used);
        }
    }

    /// Handles the whole frames at the start of `data`; returns how many octets they took.
    fn frames(&mut self, data: &[u8], counting: bool) -> usize {
        let mut pos = 0;
        while self.mode == Mode::Load {
            let rest = &data[pos..];
            match tpkt::frame_len(rest, self.max_frame) {
                Ok(Some(len)) if len <= rest.len() => {
                    if let Err(e) = self.tpdu(&rest[tpkt::HEADER_LEN..len], counting) {
                        self.fail(format!("association closed during the load: {e}"));
                    }
                    pos += len;
                }
                Ok(_) => break,
                Err(e) => {
                    self.fail(format!("TPKT framing lost during the load: {e}"));
                    return data.len();
                }
            }
        }
        pos
    }

    /// One TPDU of the load.
    fn tpdu(&mut self, tpdu: &[u8], counting: bool) -> Result<(), String> {
        match Tpdu::decode(tpdu).map_err(|e| format!("COTP: {e}"))? {
            Tpdu::Data {
                eot: true,
                user_data,
            } if self.reassembly.is_empty() => self.tsdu(user_data, counting),
            Tpdu::Data {
                eot: true,
                user_data,
            } => {
                let tsdu = self
                    .reassembly
                    .finish(user_data, self.max_tsdu)
                    .map_err(|_| "TSDU too large".to_string())?;
                let r = self.tsdu(&tsdu, counting);
                self.reassembly.recycle(tsdu);
                r
            }
            Tpdu::Data {
                eot: false,
                user_data,
            } => self
                .reassembly
                .push(user_data, self.max_tsdu)
                .map_err(|_| "TSDU too large".to_string()),
            Tpdu::DisconnectRequest { reason, .. } => {
                Err(format!("transport disconnect request (reason {reason})"))
            }
            other => Err(format!("unexpected TPDU {other:?}")),
        }
    }

    /// One TSDU of the load: a session DT carrying presentation user data for MMS.
    fn tsdu(&mut self, tsdu: &[u8], counting: bool) -> Result<(), String> {
        let user_data = match Spdu::decode(tsdu).map_err(|e| format!("session: {e}"))? {
            Spdu::Data { user_data } => user_data,
            Spdu::Abort { .. } => return Err("aborted by the server (session AB)".into()),
            _ => return Err("SPDU other than data".into()),
        };
        let pdv =
            presentation::decode_single_pdv(user_data).map_err(|e| format!("presentation: {e}"))?;
        if pdv.context_id != MMS_CONTEXT_ID {
            return Err(format!(
                "data on presentation context {} instead of MMS",
                pdv.context_id
            ));
        }
        self.mms(pdv.data, counting)
    }

    /// One MMS PDU of the load: the cheap check, else the general decoder.
    fn mms(&mut self, pdu: &[u8], counting: bool) -> Result<(), String> {
        if let Some(id) = one_success_read(pdu) {
            if self.flight.take(id) {
                self.tally.ok += 1;
                self.tally.measured += u64::from(counting);
            } else {
                self.tally
                    .error(|| format!("answer to unknown invoke id {id}"));
            }
            return Ok(());
        }
        let (id, what) = match MmsPdu::decode(pdu, &self.limits) {
            Ok(MmsPdu::ConfirmedResponse {
                invoke_id,
                response,
            }) => {
                let good = matches!(&response, ConfirmedResponse::Read(r)
                    if r.results.len() == 1 && matches!(r.results[0], AccessResult::Success(_)));
                (invoke_id, (!good).then(|| format!("{response:?}")))
            }
            Ok(MmsPdu::ConfirmedError { invoke_id, error }) => {
                (invoke_id, Some(format!("ConfirmedError {error:?}")))
            }
            Ok(MmsPdu::Reject(r)) => match r.original_invoke_id {
                Some(id) if self.flight.contains(id) => (id, Some(format!("rejected {r:?}"))),
                _ => {
                    self.tally.error(|| format!("rejected {r:?}"));
                    return Ok(());
                }
            },
            Ok(MmsPdu::Unconfirmed(_)) => return Ok(()),
            Ok(other) => return Err(format!("unexpected MMS PDU {other:?}")),
            Err(e) => {
                self.tally.error(|| format!("undecodable MMS PDU: {e}"));
                return Ok(());
            }
        };
        if !self.flight.take(id) {
            self.tally
                .error(|| format!("answer to unknown invoke id {id}"));
            return Ok(());
        }
        match what {
            None => {
                self.tally.ok += 1;
                self.tally.measured += u64::from(counting);
            }
            Some(what) => self.tally.error(|| format!("read {id}: {what}")),
        }
        Ok(())
    }
}

/// A TCP connection with Nagle off and the short read timeout (for the TLS handshake).
fn connect(addr: &SocketAddr) -> Result<TcpStream, String> {
    let stream = TcpStream::connect_timeout(addr, PHASE_TIMEOUT)
        .map_err(|e| format!("connect {addr}: {e}"))?;
    stream
        .set_nodelay(true)
        .and_then(|()| stream.set_read_timeout(Some(POLL_INTERVAL)))
        .map_err(|e| format!("socket options: {e}"))?;
    Ok(stream)
}

/// Every association on one poll.
struct Driver {
    poll: Poll,
    events: Events,
    conns: Vec<Conn>,
    /// The receive buffer every socket is read into.
    buf: Vec<u8>,
    /// `--spin`: the load polls without sleeping.
    spin: bool,
}

impl Driver {
    fn new(mut conns: Vec<Conn>) -> Result<Driver, String> {
        let poll = Poll::new().map_err(|e| format!("poll: {e}"))?;
        for c in &mut conns {
            poll.registry()
                .register(c.sock.tcp(), c.token, Interest::READABLE)
                .map_err(|e| format!("poll: {e}"))?;
        }
        Ok(Driver {
            poll,
            events: Events::with_capacity(conns.len().max(16)),
            conns,
            buf: vec![0; READ_BUFFER],
            spin: false,
        })
    }

    /// Waits up to `timeout` for readiness.
    fn wait(&mut self, timeout: Duration) -> Result<(), String> {
        match self.poll.poll(&mut self.events, Some(timeout)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::Interrupted => {
                self.events.clear();
                Ok(())
            }
            Err(e) => Err(format!("poll: {e}")),
        }
    }

    /// Handles what the last wait reported: input read and handed on, waiting output written.
    fn dispatch(&mut self, counting: bool) {
        let registry = self.poll.registry();
        for ev in self.events.iter() {
            let Some(c) = self.conns.get_mut(ev.token().0) else {
                continue;
            };
            if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
                c.on_readable(&mut self.buf, counting);
            }
            if ev.is_writable() {
                c.flush(registry);
            }
        }
    }

    /// One turn of the set-up or release: wait, read, fire the clients' timers, write.
    fn assoc_turn(&mut self) -> Result<(), String> {
        self.wait(POLL_INTERVAL)?;
        self.dispatch(false);
        let registry = self.poll.registry();
        for c in &mut self.conns {
            c.client_timer();
            c.flush(registry);
        }
        Ok(())
    }

    /// Waits (bounded) until every association is established.
    fn establish(&mut self) -> Result<(), String> {
        let registry = self.poll.registry();
        for c in &mut self.conns {
            c.flush(registry);
        }
        let deadline = std::time::Instant::now() + PHASE_TIMEOUT;
        loop {
            let mut waiting = false;
            for c in &mut self.conns {
                while let Some(ev) = c.client.poll_event() {
                    match ev {
                        Event::Established(_) => c.reached = true,
                        Event::Closed(e) => {
                            return Err(format!(
                                "association refused or closed: {}",
                                e.map_or_else(|| "orderly release".to_string(), |e| e.to_string())
                            ))
                        }
                        _ => {}
                    }
                }
                if let Some(e) = &c.failed {
                    return Err(e.clone());
                }
                waiting |= !c.reached;
            }
            if !waiting {
                return Ok(());
            }
            if std::time::Instant::now() >= deadline {
                return Err("no association within the connect timeout".into());
            }
            self.assoc_turn()?;
        }
    }

    /// Keeps `depth` reads of `name` in flight on every association through the warm-up and the
    /// measured window, then drains; returns the window's length.
    fn load(
        &mut self,
        name: &ObjectName,
        depth: usize,
        warmup: Duration,
        window: Duration,
    ) -> Result<Duration, String> {
        let start = std::time::Instant::now();
        let measure_from = start + warmup;
        let measure_to = measure_from + window;
        let hard_stop = measure_to + PHASE_TIMEOUT;
        let registry = self.poll.registry();
        for c in &mut self.conns {
            c.start_load(name, depth)?;
            c.refill(depth);
            c.flush(registry);
        }
        let mut window_start: Option<std::time::Instant> = None;
        let mut window_len = window;
        let mut sending = true;
        let (mut t, mut woke) = (start, false);
        loop {
            if window_start.is_none() && t >= measure_from {
                window_start = Some(t);
            }
            if sending && t >= measure_to {
                sending = false;
                window_len = t - window_start.unwrap_or(measure_from);
            }
            if woke {
                self.dispatch(sending && window_start.is_some());
                let registry = self.poll.registry();
                for c in &mut self.conns {
                    if c.dirty {
                        c.dirty = false;
                        if sending && c.mode == Mode::Load {
                            c.refill(depth);
                        }
                        c.flush(registry);
                    }
                }
            }
            let busy = self
                .conns
                .iter()
                .filter(|c| c.mode == Mode::Load && c.flight.len > 0)
                .count();
            if busy == 0 && (!sending || self.conns.iter().all(|c| c.mode == Mode::Done)) {
                break;
            }
            if t >= hard_stop {
                for c in &mut self.conns {
                    if c.mode == Mode::Load && c.flight.len > 0 {
                        let n = c.flight.len;
                        c.fail(format!(
                            "{n} reads still unanswered {} s after the end",
                            PHASE_TIMEOUT.as_secs()
                        ));
                    }
                }
                break;
            }
            let next = if !sending {
                hard_stop
            } else if window_start.is_none() {
                measure_from
            } else {
                measure_to
            };
            let limit = if self.spin {
                Duration::ZERO
            } else {
                next.saturating_duration_since(t).min(POLL_INTERVAL)
            };
            self.wait(limit)?;
            // The clock, once per wake-up: it decides whether this wake-up's answers count.
            t = std::time::Instant::now();
            woke = true;
        }
        if sending {
            // Every association failed before the window's end: the window ends here.
            window_len = window_start.map_or(Duration::ZERO, |s| t - s);
        }
        for c in &mut self.conns {
            c.end_load();
        }
        Ok(window_len)
    }

    /// Concludes every association still up and waits (bounded) for the orderly releases; an
    /// association whose release fails gets that as its error.
    fn release(&mut self) -> Result<(), String> {
        let registry = self.poll.registry();
        for c in &mut self.conns {
            c.reached = c.mode == Mode::Done;
            if c.mode == Mode::Assoc {
                if let Err(e) = c.client.conclude(now()) {
                    c.fail(format!("conclude: {e}"));
                    c.reached = true;
                }
                c.flush(registry);
            }
        }
        let deadline = std::time::Instant::now() + PHASE_TIMEOUT;
        loop {
            let mut waiting = false;
            for c in &mut self.conns {
                while let Some(ev) = c.client.poll_event() {
                    if let Event::Closed(e) = ev {
                        if !c.reached {
                            c.reached = true;
                            match e {
                                None => {
                                    c.mode = Mode::Done;
                                    c.sock.shutdown();
                                }
                                Some(e) => c.fail(format!("release failed: {e}")),
                            }
                        }
                    }
                }
                waiting |= !c.reached;
            }
            if !waiting {
                return Ok(());
            }
            if std::time::Instant::now() >= deadline {
                for c in &mut self.conns {
                    if !c.reached {
                        c.fail("no orderly release within the timeout".into());
                    }
                }
                return Ok(());
            }
            self.assoc_turn()?;
        }
    }
}

/// The TLS client configuration of the `--tls-*` options, if any.
fn tls_config(args: &Args) -> Result<Option<Arc<rustls::ClientConfig>>, String> {
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
    config: &Arc<rustls::ClientConfig>,
    n: usize,
) -> Result<(), String> {
    let mut full_config = (**config).clone();
    full_config.resumption = rustls::client::Resumption::disabled();
    let full_config = Arc::new(full_config);
    let median = |mut v: Vec<Duration>| {
        v.sort();
        v.get(v.len() / 2).copied().unwrap_or_default()
    };
    let mut described = None;
    let mut once = |config: &Arc<rustls::ClientConfig>| {
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
    let mut tls_text = String::new();
    for i in 0..usize::from(count) {
        let t0 = std::time::Instant::now();
        let (conn, described) = Conn::open(&addr, config.clone(), tls.as_ref(), Token(i))?;
        if let (0, Some(d)) = (i, described) {
            tls_text = format!(" {d} tls_handshake_us {}", t0.elapsed().as_micros());
        }
        conns.push(conn);
    }
    let mut driver = Driver::new(conns)?;
    driver.spin = args.spin;
    driver.establish()?;
    let negotiated = *driver.conns[0].client.negotiated();
    if args.probe {
        println!(
            "max_serv_outstanding_calling {} max_pdu_size {}",
            negotiated.max_serv_outstanding_calling, negotiated.max_pdu_size
        );
        driver.release()?;
        return match driver.conns[0].failed.take() {
            Some(e) => Err(e),
            None => Ok(true),
        };
    }

    let depth = driver
        .conns
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
        driver.conns.len()
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

    let window = driver.load(&name, usize::from(depth), warmup, window)?;
    driver.release()?;
    let (mut measured, mut ok, mut errors, mut failed) = (0u64, 0u64, 0u64, None);
    for c in &mut driver.conns {
        measured += c.tally.measured;
        ok += c.tally.ok;
        errors += c.tally.errors;
        if let Some(e) = c.failed.take() {
            failed = Some(e);
        }
    }
    let rate = measured as f64 / window.as_secs_f64().max(1e-9);
    let more = if driver.conns.len() > 1 {
        format!(" connections {}", driver.conns.len())
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

#[cfg(test)]
mod tests {
    use super::*;
    use tase2_core::mms::{Data, DataAccessError, Float, ReadResponse, ServiceError};

    /// The MMS PDU `pdu`, encoded by the core.
    fn encoded(pdu: &MmsPdu) -> Vec<u8> {
        pdu.to_vec()
    }

    fn read_response(invoke_id: u32, results: Vec<AccessResult>) -> MmsPdu {
        MmsPdu::ConfirmedResponse {
            invoke_id,
            response: ConfirmedResponse::Read(ReadResponse {
                variables: None,
                results,
            }),
        }
    }

    #[test]
    fn the_cheap_check_takes_one_successful_scalar_read() {
        for (id, value) in [
            (7, Data::Float(Float::F32(1.5))),
            (70_000, Data::Integer(-3)),
            (u32::MAX, Data::Boolean(true)),
        ] {
            let pdu = encoded(&read_response(id, vec![AccessResult::Success(value)]));
            assert_eq!(one_success_read(&pdu), Some(id));
        }
    }

    #[test]
    fn the_cheap_check_leaves_everything_else_to_the_general_decoder() {
        let float = || AccessResult::Success(Data::Float(Float::F32(1.5)));
        let others = [
            read_response(1, vec![AccessResult::Failure(DataAccessError(10))]),
            read_response(1, vec![float(), float()]),
            read_response(1, vec![]),
            read_response(
                1,
                vec![AccessResult::Success(Data::Structure(vec![Data::Float(
                    Float::F32(1.0),
                )]))],
            ),
            read_response(
                1,
                vec![AccessResult::Success(Data::VisibleString("x".into()))],
            ),
            MmsPdu::ConfirmedResponse {
                invoke_id: 1,
                response: ConfirmedResponse::Read(ReadResponse {
                    variables: Some(VariableAccessSpecification::ListOfVariable(vec![
                        VariableSpec::named(ObjectName::domain("ICC1", "X")),
                    ])),
                    results: vec![float()],
                }),
            },
            MmsPdu::ConfirmedError {
                invoke_id: 1,
                error: ServiceError {
                    class: tase2_core::mms::ErrorClass::CANCEL_NOT_POSSIBLE,
                    additional_code: None,
                    description: None,
                },
            },
            MmsPdu::ConcludeResponse,
        ];
        for pdu in &others {
            assert_eq!(one_success_read(&encoded(pdu)), None, "{pdu:?}");
        }
        // Trailing octets after the PDU, or a cut one.
        let mut pdu = encoded(&read_response(1, vec![float()]));
        pdu.push(0);
        assert_eq!(one_success_read(&pdu), None);
        pdu.truncate(pdu.len() - 2);
        assert_eq!(one_success_read(&pdu), None);
    }

    #[test]
    fn in_flight_ids_are_unique_and_skip_taken_slots() {
        let mut f = InFlight::new(5);
        assert_eq!(f.slots.len(), 16);
        let ids: Vec<u32> = (0..5).map(|_| f.issue()).collect();
        assert_eq!(ids, [1, 2, 3, 4, 5]);
        assert!(f.contains(3) && !f.contains(6));
        // Answers in any order; an unknown or repeated one is refused.
        assert!(f.take(3) && !f.take(3) && !f.take(99) && f.take(1));
        assert_eq!(f.len, 3);
        assert_eq!((f.issue(), f.issue()), (6, 7));
        // Id 18 would share the slot of 2, still in flight: it is skipped for 19 (the slot of 3,
        // free again).
        f.next = 18;
        assert_eq!(f.issue(), 19);
        assert!(f.contains(2) && f.contains(19));
        // Past u32::MAX the ids wrap around.
        let mut f = InFlight::new(1);
        f.next = u32::MAX;
        assert_eq!((f.issue(), f.issue()), (u32::MAX, 0));
        assert!(f.take(u32::MAX) && f.take(0) && f.len == 0);
    }
}
