//! Recordings and packet captures, both ways.
//!
//! - **Export** ([`export`]): a recording becomes a pcapng of synthesised Ethernet / IPv4 / TCP
//!   frames, so Wireshark and tshark decode its TPKT / COTP / session / presentation / ACSE / MMS
//!   as on a wire: the client is 10.0.0.1 on an ephemeral port per connection, the server
//!   10.0.0.2:102 (the port tshark's TPKT dissector takes without options). Each connection gets
//!   a three-way handshake, sequence and acknowledgment numbers that follow the octets,
//!   segments of at most 1460 octets, checksums that verify, and FIN/ACK when its transport
//!   closed. Times are the entries' UTC clock.
//! - **Import** ([`import`]): a pcap or pcapng capture (Ethernet, Linux cooked v1/v2, loopback,
//!   raw IP) becomes the recording of one side of the TCP connections to a server port, the
//!   streams reassembled (retransmissions and reordering handled, a lost segment refused). A capture of a
//!   third-party peer can then be fed through our server, inputs only (`--check`).

mod file;
mod net;
mod tcp;

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use tase2_core::record::{
    self, format, Entry, Event, Header, Reader, ReplayOptions, Role, FORMAT_VERSION,
};
use tase2_core::server::ServerEvent;
use tase2_core::Instant;

pub use tcp::Side;

/// The `setup_kind` of a recording imported from a capture without a model.
pub const PCAP_IMPORT: &str = "pcap-import";
/// The `setup_kind` of a server recording whose setup is the model's TOML (as `tase2 serve
/// --record` writes it).
pub const SERVE_TOML: &str = "tase2-serve-toml";

/// The largest TCP payload of an exported segment (an Ethernet MTU of 1500 less 40 octets of
/// IPv4 and TCP headers).
pub const MSS: usize = 1460;

const CLIENT_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const SERVER_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
// Locally administered unicast addresses: no vendor's.
const CLIENT_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
const SERVER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];
/// The receiver acknowledges after this many segments, so the octets in flight stay well inside
/// the 65535-octet window the frames advertise (no "window full" from an analyser).
const ACK_EVERY: usize = 16;

/// How [`export`] lays out the frames.
#[derive(Clone, Debug)]
pub struct ExportOptions {
    /// The server's TCP port (102, ISO-TSAP, by default).
    pub server_port: u16,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions { server_port: 102 }
    }
}

/// What an export wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExportStats {
    /// Frames written.
    pub packets: usize,
    /// TCP connections.
    pub connections: usize,
    /// Payload octets.
    pub octets: u64,
    /// Set when the recording could not be read to its end (the frames before are written).
    pub stopped: Option<String>,
}

/// One TCP connection being synthesised.
struct Flow {
    client_port: u16,
    /// Next sequence number of the client and of the server.
    c_seq: u32,
    s_seq: u32,
    c_ip_id: u16,
    s_ip_id: u16,
}

struct Exporter {
    w: file::PcapngWriter,
    opts: ExportOptions,
    stats: ExportStats,
    flows: std::collections::BTreeMap<u64, Flow>,
}

impl Exporter {
    fn send(&mut self, at: i64, conn: u64, to_server: bool, tcp_flags: u8, payload: &[u8]) {
        let port = self.opts.server_port;
        let Some(f) = self.flows.get_mut(&conn) else {
            return;
        };
        let syn = tcp_flags & net::flags::SYN != 0;
        let (src, dst, smac, dmac, seq, ack, id) = if to_server {
            f.c_ip_id = f.c_ip_id.wrapping_add(1);
            (
                (CLIENT_IP, f.client_port),
                (SERVER_IP, port),
                CLIENT_MAC,
                SERVER_MAC,
                f.c_seq,
                f.s_seq,
                f.c_ip_id,
            )
        } else {
            f.s_ip_id = f.s_ip_id.wrapping_add(1);
            (
                (SERVER_IP, port),
                (CLIENT_IP, f.client_port),
                SERVER_MAC,
                CLIENT_MAC,
                f.s_seq,
                f.c_seq,
                f.s_ip_id,
            )
        };
        // The first SYN acknowledges nothing.
        let ack = if tcp_flags & net::flags::ACK != 0 {
            ack
        } else {
            0
        };
        let frame = net::frame(
            smac,
            dmac,
            src,
            dst,
            seq,
            ack,
            tcp_flags,
            syn.then_some(MSS as u16),
            id,
            payload,
        );
        // SYN and FIN take one sequence number each.
        let used =
            payload.len() as u32 + u32::from(syn) + u32::from(tcp_flags & net::flags::FIN != 0);
        if to_server {
            f.c_seq = f.c_seq.wrapping_add(used);
        } else {
            f.s_seq = f.s_seq.wrapping_add(used);
        }
        self.w.packet(at, &frame);
        self.stats.packets += 1;
        self.stats.octets += payload.len() as u64;
    }

    fn open(&mut self, at: i64, conn: u64) {
        if self.flows.contains_key(&conn) {
            return;
        }
        let n = self.stats.connections as u32;
        self.stats.connections += 1;
        // Deterministic initial sequence numbers, distinct per connection and side.
        self.flows.insert(
            conn,
            Flow {
                client_port: 49152 + (n % 16384) as u16,
                c_seq: 0x1000_0000u32.wrapping_add(n.wrapping_mul(0x0100_0000)),
                s_seq: 0x8000_0000u32.wrapping_add(n.wrapping_mul(0x0100_0000)),
                c_ip_id: 0,
                s_ip_id: 0,
            },
        );
        use net::flags::{ACK, SYN};
        self.send(at, conn, true, SYN, &[]);
        self.send(at, conn, false, SYN | ACK, &[]);
        self.send(at, conn, true, ACK, &[]);
    }

    fn data(&mut self, at: i64, conn: u64, to_server: bool, bytes: &[u8]) {
        use net::flags::{ACK, PSH};
        self.open(at, conn);
        let chunks: Vec<&[u8]> = bytes.chunks(MSS).collect();
        let last = chunks.len().saturating_sub(1);
        for (i, c) in chunks.into_iter().enumerate() {
            let fl = if i == last { PSH | ACK } else { ACK };
            self.send(at, conn, to_server, fl, c);
            if (i + 1) % ACK_EVERY == 0 || i == last {
                self.send(at, conn, !to_server, ACK, &[]);
            }
        }
    }

    fn close(&mut self, at: i64, conn: u64) {
        use net::flags::{ACK, FIN};
        if !self.flows.contains_key(&conn) {
            return;
        }
        self.send(at, conn, true, FIN | ACK, &[]);
        self.send(at, conn, false, FIN | ACK, &[]);
        self.send(at, conn, true, ACK, &[]);
        self.flows.remove(&conn);
    }
}

/// The pcapng of the recording `log` (see the [module docs](self)).
pub fn export_bytes(log: &[u8], opts: &ExportOptions) -> Result<(Vec<u8>, ExportStats), String> {
    let mut reader = Reader::new(log).map_err(|e| format!("not a readable recording: {e}"))?;
    let role = reader.header().role;
    let mut x = Exporter {
        w: file::PcapngWriter::new(
            concat!(
                "FreeTase2 tase2 ",
                env!("CARGO_PKG_VERSION"),
                " export-pcap"
            ),
            file::LINKTYPE_ETHERNET,
        ),
        opts: opts.clone(),
        stats: ExportStats::default(),
        flows: Default::default(),
    };
    // A refused connection has no id of its own: ids above any the endpoint can give.
    let mut refused = u64::MAX / 2;
    loop {
        let Entry { at, event } = match reader.next_entry() {
            Ok(Some(e)) => e,
            Ok(None) => break,
            Err(e) => {
                x.stats.stopped = Some(e.to_string());
                break;
            }
        };
        let t = at.utc_micros();
        // Input is what the recorded object received: from the client for a server.
        let client_sent_input = role == Role::Server;
        match event {
            Event::Open { conn } => x.open(t, conn),
            Event::OpenFrom {
                conn: Some(conn), ..
            } => x.open(t, conn),
            Event::OpenRefused | Event::OpenFrom { conn: None, .. } => {
                refused += 1;
                x.open(t, refused);
                x.close(t, refused);
            }
            Event::Input { conn, bytes } => x.data(t, conn, client_sent_input, &bytes),
            Event::Output { conn, bytes } => x.data(t, conn, !client_sent_input, &bytes),
            Event::TransportClosed { conn } | Event::TransportRefused { conn, .. } => {
                x.close(t, conn)
            }
            Event::Timeout
            | Event::Session(_)
            | Event::Server(_)
            | Event::Failover(_)
            | Event::Unrecordable { .. }
            | Event::Authenticated { .. } => {}
        }
    }
    Ok((x.w.finish(), x.stats))
}

/// [`export_bytes`] into the file `out`.
pub fn export(log: &[u8], out: &Path, opts: &ExportOptions) -> Result<ExportStats, String> {
    let (bytes, stats) = export_bytes(log, opts)?;
    std::fs::write(out, bytes).map_err(|e| format!("{}: {e}", out.display()))?;
    Ok(stats)
}

/// How [`import`] makes its recording.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// The server's TCP port in the capture.
    pub server_port: u16,
    /// Whose recording.
    pub side: Side,
    /// For [`Side::Client`]: which connection (0-based, in the order of their SYNs).
    pub connection: usize,
    /// Who made it, for the header's `producer`.
    pub producer: String,
}

/// An imported capture.
pub struct Imported {
    /// The clock at the capture's first packet (the header's `start`).
    pub start: Instant,
    /// The entries.
    pub entries: Vec<Entry>,
    /// Connections in the recording.
    pub connections: usize,
    /// What was left out, for people.
    pub warnings: Vec<String>,
    role: Role,
    producer: String,
}

impl Imported {
    /// The recording, with `setup_kind`, `setup` and `fingerprint` as given (a capture alone
    /// gives [`PCAP_IMPORT`], nothing and 0).
    pub fn to_log(&self, setup_kind: &str, setup: Vec<u8>, fingerprint: u64) -> Vec<u8> {
        let mut out = Vec::new();
        format::write_header(
            &mut out,
            &Header {
                version: FORMAT_VERSION,
                role: self.role,
                setup_kind: setup_kind.into(),
                setup,
                fingerprint,
                producer: self.producer.clone(),
                start: self.start,
            },
        );
        for e in &self.entries {
            format::write_entry(&mut out, e);
        }
        out
    }
}

/// Read the capture `data` and make one side's recording of it.
pub fn import(data: &[u8], opts: &ImportOptions) -> Result<Imported, String> {
    let packets = file::read(data)?;
    let conv = tcp::reassemble(&packets, opts.server_port)?;
    if conv.clients.is_empty() {
        return Err(format!(
            "no TCP connection to port {} starts in the capture",
            opts.server_port
        ));
    }
    let rec = tcp::entries(&conv, opts.side, opts.connection)?;
    Ok(Imported {
        start: rec.start,
        entries: rec.entries,
        connections: rec.connections,
        warnings: conv.warnings,
        role: match opts.side {
            Side::Server => Role::Server,
            Side::Client => Role::Client,
        },
        producer: opts.producer.clone(),
    })
}

// --------------------------------------------------------------------------------------------
// The commands

/// `tase2 export-pcap` options.
#[derive(clap::Args)]
pub struct ExportPcapArgs {
    /// The recording (`tase2 serve --record`, a client's `--record`, or `import-pcap`).
    file: PathBuf,
    /// The pcapng to write.
    out: PathBuf,
    /// The server's TCP port in the frames.
    #[arg(long, default_value_t = 102)]
    server_port: u16,
}

/// `tase2 import-pcap` options.
#[derive(clap::Args)]
pub struct ImportPcapArgs {
    /// The capture, pcap or pcapng.
    capture: PathBuf,
    /// The TCP port of the server in the capture.
    #[arg(long, value_name = "N")]
    server_port: u16,
    /// Whose recording to make.
    #[arg(long, value_enum, default_value_t = Side::Server)]
    side: Side,
    /// With --side client: which connection to the server port (1 is the first SYN captured).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    connection: u64,
    /// The recording to write.
    #[arg(short, long, value_name = "OUT")]
    out: Option<PathBuf>,
    /// The model TOML the captured server ran (a server recording then carries it, with its
    /// fingerprint, as `tase2 serve --record` would).
    #[arg(long, value_name = "TOML")]
    model: Option<PathBuf>,
    /// Feed the client's octets through our server built from this model TOML, inputs only,
    /// and report what it finds wrong (peer errors, aborts).
    #[arg(long, value_name = "MODEL.toml")]
    check: Option<PathBuf>,
}

/// Run `tase2 export-pcap`.
pub fn run_export(args: &ExportPcapArgs) -> Result<(), String> {
    let log = std::fs::read(&args.file).map_err(|e| format!("{}: {e}", args.file.display()))?;
    write_pcapng(
        &log,
        &args.out,
        &ExportOptions {
            server_port: args.server_port,
        },
    )
}

/// Export `log` to the pcapng `out` and say what was written on stdout (also the `--pcapng OUT`
/// of `tase2 replay`).
pub fn write_pcapng(log: &[u8], out: &Path, opts: &ExportOptions) -> Result<(), String> {
    let stats = export(log, out, opts)?;
    println!(
        "{}: {} frames, {} connection(s), {} payload octets",
        out.display(),
        stats.packets,
        stats.connections,
        stats.octets
    );
    if let Some(why) = stats.stopped {
        println!("the recording could not be read to its end (frames up to there written): {why}");
    }
    Ok(())
}

fn model_timestamp(start: Instant) -> tase2_core::tase2::Timestamp {
    tase2_core::tase2::Timestamp::from_utc_micros(start.utc_micros())
}

fn load_model(path: &Path, start: Instant) -> Result<(String, crate::model::Model), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let origin = path.display().to_string();
    let model =
        crate::model::load(&text, &origin, model_timestamp(start)).map_err(|e| e.to_string())?;
    Ok((text, model))
}

/// Run `tase2 import-pcap`; `Err` when the capture cannot be imported or `--check` found
/// errors.
pub fn run_import(args: &ImportPcapArgs) -> Result<(), String> {
    if args.out.is_none() && args.check.is_none() {
        return Err("nothing to do: give -o OUT, --check MODEL.toml, or both".into());
    }
    if args.side == Side::Client && (args.model.is_some() || args.check.is_some()) {
        return Err("--model and --check are for --side server".into());
    }
    let data =
        std::fs::read(&args.capture).map_err(|e| format!("{}: {e}", args.capture.display()))?;
    let name = args
        .capture
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let imported = import(
        &data,
        &ImportOptions {
            server_port: args.server_port,
            side: args.side,
            connection: usize::try_from(args.connection - 1).unwrap_or(usize::MAX),
            producer: format!(
                "tase2 {} import-pcap of {name} (server port {})",
                env!("CARGO_PKG_VERSION"),
                args.server_port
            ),
        },
    )
    .map_err(|e| format!("{}: {e}", args.capture.display()))?;
    for w in &imported.warnings {
        println!("warning: {w}");
    }
    let log = match &args.model {
        Some(path) => {
            let (text, model) = load_model(path, imported.start)?;
            imported.to_log(SERVE_TOML, text.into_bytes(), model.endpoint.fingerprint())
        }
        None => imported.to_log(PCAP_IMPORT, Vec::new(), 0),
    };
    if let Some(out) = &args.out {
        std::fs::write(out, &log).map_err(|e| format!("{}: {e}", out.display()))?;
        println!(
            "{}: {} entries, {} connection(s)",
            out.display(),
            imported.entries.len(),
            imported.connections
        );
    }
    if let Some(path) = &args.check {
        let (_, model) = load_model(path, imported.start)?;
        let report = check(model.endpoint, &log)?;
        for line in &report.lines {
            println!("{line}");
        }
        println!("{}", report.summary());
        if !report.errors.is_empty() {
            return Err(format!(
                "our server found {} error(s) in the capture's client traffic",
                report.errors.len()
            ));
        }
    }
    Ok(())
}

/// What our server made of a recording's inputs.
#[derive(Debug, Default)]
pub struct CheckReport {
    /// Associations accepted.
    pub associated: usize,
    /// Associations our server refused (by its model: bilateral tables, AP titles).
    pub refused: Vec<String>,
    /// Peer errors and associations that ended in error.
    pub errors: Vec<String>,
    /// Every line above, in order.
    pub lines: Vec<String>,
    /// The replay's numbers.
    pub stats: record::ReplayStats,
}

impl CheckReport {
    /// One line.
    pub fn summary(&self) -> String {
        format!(
            "check: {} input(s), {} octets in, {} octets out from our server; {} association(s), \
             {} refused, {} error(s)",
            self.stats.inputs,
            self.stats.input_bytes,
            self.stats.output_bytes,
            self.associated,
            self.refused.len(),
            self.errors.len()
        )
    }
}

/// Replay the inputs of the server recording `log` into `endpoint` (outputs not compared) and
/// collect what it reports.
pub fn check(
    mut endpoint: tase2_core::server::Endpoint<tase2_core::tase2::server::Tase2>,
    log: &[u8],
) -> Result<CheckReport, String> {
    let mut r = CheckReport::default();
    let opts = ReplayOptions {
        check_outputs: false,
    };
    let stats = record::replay_with(&mut endpoint, log, &opts, &mut |ep, index, entry| {
        let t = entry.at.monotonic();
        let at = format!(
            "entry {index} at {}.{:06} s",
            t.as_secs(),
            t.subsec_micros()
        );
        while let Some(ev) = ep.poll_event() {
            match ev {
                ServerEvent::Associated { .. } => r.associated += 1,
                ServerEvent::PeerError { id, error } => {
                    let line = format!("{at}: connection {}: peer error: {error}", id.0);
                    r.lines.push(line.clone());
                    r.errors.push(line);
                }
                ServerEvent::Closed {
                    id,
                    error: Some(tase2_core::assoc::AssocError::Refused(why)),
                } => {
                    let line = format!("{at}: connection {}: refused: {why}", id.0);
                    r.lines.push(line.clone());
                    r.refused.push(line);
                }
                ServerEvent::Closed { id, error: Some(e) } => {
                    let line = format!("{at}: connection {}: ended in error: {e}", id.0);
                    r.lines.push(line.clone());
                    r.errors.push(line);
                }
                _ => {}
            }
        }
    })
    .map_err(|e| format!("replay: {e}"))?;
    r.stats = stats;
    Ok(r)
}

#[cfg(test)]
mod tests;
