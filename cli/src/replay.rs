//! `tase2 replay FILE`: replay a recording into a fresh core object and check every octet it
//! gives out; on a divergence, show where and what differs, decoded layer by layer. With
//! `--timeline`, print the recorded conversation one line per PDU with its TASE.2 meaning
//! instead (no replay).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant as WallClock};

use tase2_core::dissect::tase2::Tase2View;
use tase2_core::dissect::{self, diff_fields, Dissector, Pdu};
use tase2_core::record::{
    self, Divergence, DivergenceKind, Event, FailoverInput, Header, Reader, ReplayError,
    ReplayStats, Role, ServerInput, SessionInput,
};
use tase2_core::Instant;

/// Exit code: the replay diverged from the recording.
pub const EXIT_DIVERGED: i32 = 1;
/// Exit code: the file cannot be read, or the recorded object cannot be rebuilt.
pub const EXIT_UNREADABLE: i32 = 2;

/// `tase2 replay` arguments.
#[derive(clap::Args)]
pub struct ReplayArgs {
    /// The recording (of `--record`, or of the core's `Session::record` / `Endpoint::record`).
    pub file: PathBuf,
    /// Print the recorded conversation, one line per PDU (time, direction, connection, service,
    /// TASE.2 meaning), instead of replaying it.
    #[arg(long)]
    pub timeline: bool,
    /// Also write the recorded conversation as a pcapng capture (synthesised TCP/IP frames on
    /// port 102) that tshark and Wireshark decode as RFC 1006 / MMS.
    #[arg(long, value_name = "OUT")]
    pub pcapng: Option<PathBuf>,
}

/// Run `tase2 replay`; the process exit code.
pub fn run(args: &ReplayArgs) -> i32 {
    let name = args.file.display().to_string();
    let data = match std::fs::read(&args.file) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("tase2 replay: cannot read {name}: {e}");
            return EXIT_UNREADABLE;
        }
    };
    if let Some(out) = &args.pcapng {
        if let Err(e) =
            crate::pcap::write_pcapng(&data, out, &crate::pcap::ExportOptions::default())
        {
            eprintln!("tase2 replay: {e}");
            return EXIT_UNREADABLE;
        }
    }
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let code = execute(
        &name,
        &data,
        args.timeline,
        &mut stdout.lock(),
        &mut stderr.lock(),
    );
    let _ = std::io::stdout().flush();
    code
}

/// The command on a log held in memory: report on `out`, errors on `err`; the exit code.
pub fn execute(
    name: &str,
    data: &[u8],
    timeline: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let result = if timeline {
        print_timeline(data, out)
    } else {
        replay(name, data, out)
    };
    match result {
        Ok(()) => 0,
        Err(Failure::Unreadable(msg)) => {
            let _ = writeln!(err, "tase2 replay: {name}: {msg}");
            EXIT_UNREADABLE
        }
        Err(Failure::Diverged(report)) => {
            let _ = write!(out, "{report}");
            let _ = writeln!(err, "tase2 replay: {name}: the replay diverged (see above)");
            EXIT_DIVERGED
        }
    }
}

enum Failure {
    /// Exit 2, with the message.
    Unreadable(String),
    /// Exit 1, with the report.
    Diverged(String),
}

fn unreadable(e: impl std::fmt::Display) -> Failure {
    Failure::Unreadable(e.to_string())
}

/// A recorded source address (4 or 16 octets) as text.
fn show_source(octets: &[u8]) -> String {
    match octets.len() {
        4 => std::net::Ipv4Addr::new(octets[0], octets[1], octets[2], octets[3]).to_string(),
        16 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(octets);
            std::net::Ipv6Addr::from(a).to_string()
        }
        _ => format!("{octets:02x?}"),
    }
}

fn secs(d: Duration) -> String {
    format!("{}.{:03}", d.as_secs(), d.subsec_millis())
}

/// Rebuild the recorded object from the header and replay the log into it.
fn replay(name: &str, data: &[u8], out: &mut dyn Write) -> Result<(), Failure> {
    let reader = Reader::new(data).map_err(unreadable)?;
    let header = reader.header().clone();
    let started = WallClock::now();
    let result = match header.role {
        Role::Client => record::replay_session(data),
        Role::Failover => record::replay_failover(data),
        Role::Server => {
            let mut model = tase2_cli::server_from_header(&header)
                .map_err(|e| Failure::Unreadable(format!("{name}: {e}")))?;
            record::replay(&mut model.endpoint, data)
        }
    };
    let wall = started.elapsed();
    match result {
        Ok(stats) => {
            let _ = writeln!(out, "{}", summary(name, &stats, wall));
            Ok(())
        }
        Err(ReplayError::Diverged(d)) => Err(Failure::Diverged(divergence(&header, data, &d))),
        Err(e @ ReplayError::Record(_)) => Err(Failure::Unreadable(format!(
            "{e} (the entries before it replayed)"
        ))),
        Err(e) => Err(unreadable(e)),
    }
}

fn summary(name: &str, s: &ReplayStats, wall: Duration) -> String {
    let speed = if wall.as_secs_f64() > 0.0 {
        format!(
            ", {:.0}x recorded time",
            s.span.as_secs_f64() / wall.as_secs_f64()
        )
    } else {
        String::new()
    };
    format!(
        "{name}: replayed octet for octet: {} entries, {} inputs, {} octets in, {} octets out, {} \
         connection{}, {} s recorded, replayed in {:.1} ms{speed}",
        s.entries,
        s.inputs,
        s.input_bytes,
        s.output_bytes,
        s.connections,
        if s.connections == 1 { "" } else { "s" },
        secs(s.span),
        wall.as_secs_f64() * 1000.0,
    )
}

/// Everything the recorded object gave out on `conn`, in order.
fn recorded_output(data: &[u8], conn: u64) -> Vec<u8> {
    let mut v = Vec::new();
    if let Ok(r) = Reader::new(data) {
        for e in r.map_while(Result::ok) {
            if let Event::Output { conn: c, bytes } = e.event {
                if c == conn {
                    v.extend_from_slice(&bytes);
                }
            }
        }
    }
    v
}

/// The PDU of `stream` that holds octet `at`.
fn pdu_at(stream: &[u8], at: usize) -> Option<Pdu> {
    dissect::dissect_stream(stream)
        .into_iter()
        .find(|p| p.contains(at))
}

/// The report of a divergence: where, what, the two PDUs decoded and compared, the octets.
fn divergence(header: &Header, data: &[u8], d: &Divergence) -> String {
    let mut s = String::new();
    let at = d.at.saturating_duration_since(header.start);
    let what = match &d.kind {
        DivergenceKind::Bytes => format!(
            "the output differs at octet {} of the connection's stream (octet {} of its TPKT \
             frame)",
            d.offset,
            d.offset - d.frame_offset
        ),
        DivergenceKind::Missing => format!(
            "the recording has output from octet {} that the replay did not produce",
            d.offset
        ),
        DivergenceKind::Extra => format!(
            "the replay produced output from octet {} that was not recorded",
            d.offset
        ),
        DivergenceKind::Input(m) => format!("an input was not taken as recorded: {m}"),
    };
    s.push_str(&format!(
        "DIVERGED at {} s, connection {}, entry {}: {what}\n",
        secs(at),
        d.conn,
        d.index
    ));
    if matches!(d.kind, DivergenceKind::Input(_)) {
        return s;
    }
    // All octets before the frame matched, so both sides share the recorded prefix: that lets a
    // PDU segmented over several frames be joined on the produced side too.
    let recorded = recorded_output(data, d.conn);
    let prefix = &recorded[..d.frame_offset.min(recorded.len())];
    let expected = if recorded.len() > d.frame_offset {
        pdu_at(&recorded, d.frame_offset)
    } else {
        None
    };
    let produced = if d.produced.is_empty() {
        None
    } else {
        let mut stream = prefix.to_vec();
        stream.extend_from_slice(&d.produced);
        pdu_at(&stream, d.frame_offset)
    };
    let line = |p: &Option<Pdu>| match p {
        Some(p) => {
            let layers: Vec<&str> = p.layers.iter().map(|l| l.name()).collect();
            format!("{} [{}]", p.summary, layers.join("/"))
        }
        None => String::from("(nothing)"),
    };
    s.push_str(&format!("  recorded: {}\n", line(&expected)));
    s.push_str(&format!("  produced: {}\n", line(&produced)));
    if let (Some(e), Some(p)) = (&expected, &produced) {
        match diff_fields(&e.fields, &p.fields) {
            Some(f) => {
                let path = if f.path.is_empty() {
                    String::new()
                } else {
                    format!(" (in {})", f.path.join(" > "))
                };
                s.push_str(&format!(
                    "  first difference: {} field `{}`{path}\n",
                    f.layer,
                    f.field()
                ));
                let show = |l: &Option<String>| l.clone().unwrap_or_else(|| "(absent)".into());
                s.push_str(&format!("    recorded: {}\n", show(&f.left)));
                s.push_str(&format!("    produced: {}\n", show(&f.right)));
            }
            None => s.push_str(
                "  the PDUs decode the same: the octets differ in encoding only (lengths, \
                 padding, element order)\n",
            ),
        }
    }
    s.push_str(&hex_side_by_side(
        &d.expected,
        &d.produced,
        d.offset - d.frame_offset,
        d.frame_offset,
    ));
    s
}

/// Both frames in hex, 8 octets a row side by side, around `at` (an offset in the frames); rows
/// with a differing octet are marked.
fn hex_side_by_side(expected: &[u8], produced: &[u8], at: usize, base: usize) -> String {
    const ROW: usize = 8;
    let mut s = format!(
        "  octets of the frame at stream offset {base} (recorded {} octets, produced {}):\n",
        expected.len(),
        produced.len()
    );
    s.push_str(&format!(
        "    {:>6}  {:<w$}  {}\n",
        "offset",
        "recorded",
        "produced",
        w = ROW * 3 - 1
    ));
    let len = expected.len().max(produced.len());
    let first = (at / ROW).saturating_sub(2) * ROW;
    let last = ((at / ROW + 3) * ROW).min(len);
    let cells = |b: &[u8], from: usize| {
        (from..from + ROW)
            .map(|i| b.get(i).map_or(String::from("  "), |x| format!("{x:02x}")))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut row = first;
    if first > 0 {
        s.push_str("    ...\n");
    }
    while row < last {
        let differs = (row..row + ROW).any(|i| expected.get(i) != produced.get(i));
        s.push_str(&format!(
            "    {row:>6}  {}  {}{}\n",
            cells(expected, row),
            cells(produced, row),
            if differs { "  <" } else { "" }
        ));
        row += ROW;
    }
    if last < len {
        s.push_str("    ...\n");
    }
    s
}

/// Print the log one line per PDU and per non-octet event.
fn print_timeline(data: &[u8], out: &mut dyn Write) -> Result<(), Failure> {
    let mut reader = Reader::new(data).map_err(unreadable)?;
    let header = reader.header().clone();
    let _ = writeln!(
        out,
        "recording of a {:?} by {:?} (format {}, setup {:?}); → sent by it, ← received",
        header.role, header.producer, header.version, header.setup_kind
    );
    let mut t = Timeline {
        start: header.start,
        out,
        ins: BTreeMap::new(),
        outs: BTreeMap::new(),
        views: BTreeMap::new(),
        timers: None,
    };
    for entry in reader.by_ref() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                t.flush_timers();
                return Err(Failure::Unreadable(format!(
                    "{e} (the timeline above is complete up to there)"
                )));
            }
        };
        t.entry(entry.at, &entry.event);
    }
    t.flush_timers();
    // What a side left half sent.
    let conns: Vec<u64> = t.ins.keys().chain(t.outs.keys()).copied().collect();
    for conn in conns {
        for (dir, map) in [("←", 0), ("→", 1)] {
            let d = if map == 0 { &mut t.ins } else { &mut t.outs };
            if let Some(p) = d.get_mut(&conn).and_then(Dissector::finish) {
                let _ = writeln!(
                    t.out,
                    "{:>10}  {dir} #{conn:<3} {:<14} {}",
                    "end", "incomplete", p.summary
                );
            }
        }
    }
    Ok(())
}

struct Timeline<'a> {
    start: Instant,
    out: &'a mut dyn Write,
    ins: BTreeMap<u64, Dissector>,
    outs: BTreeMap<u64, Dissector>,
    views: BTreeMap<u64, Tase2View>,
    /// A run of timer calls not yet printed: (first, count).
    timers: Option<(Instant, u64)>,
}

impl Timeline<'_> {
    fn line(&mut self, at: Instant, dir: &str, conn: Option<u64>, service: &str, text: &str) {
        let t = secs(at.saturating_duration_since(self.start));
        let conn = conn.map_or(String::from("    "), |c| format!("#{c:<3}"));
        let _ = writeln!(self.out, "{t:>10}  {dir} {conn} {service:<14} {text}");
    }

    /// Timer calls come in long runs when nothing happens; one line per run.
    fn flush_timers(&mut self) {
        if let Some((at, n)) = self.timers.take() {
            let text = if n == 1 {
                String::from("timer call")
            } else {
                format!("{n} timer calls")
            };
            self.line(at, "·", None, "timer", &text);
        }
    }

    fn entry(&mut self, at: Instant, event: &Event) {
        if let Event::Timeout = event {
            let (first, n) = self.timers.unwrap_or((at, 0));
            self.timers = Some((first, n + 1));
            return;
        }
        self.flush_timers();
        match event {
            Event::Input { conn, bytes } | Event::Output { conn, bytes } => {
                let output = matches!(event, Event::Output { .. });
                let side = if output {
                    &mut self.outs
                } else {
                    &mut self.ins
                };
                let pdus = side.entry(*conn).or_default().push(bytes);
                for p in pdus {
                    let meaning = self.views.entry(*conn).or_default().meaning(&p);
                    let dir = if output { "→" } else { "←" };
                    self.line(at, dir, Some(*conn), &meaning.service, &meaning.summary);
                }
            }
            Event::Open { conn } => {
                // A connection id may come back after a close: start it afresh.
                self.ins.remove(conn);
                self.outs.remove(conn);
                self.views.remove(conn);
                self.line(
                    at,
                    "·",
                    Some(*conn),
                    "open",
                    "transport connection accepted",
                );
            }
            Event::OpenRefused => self.line(
                at,
                "·",
                None,
                "open",
                "transport connection refused (no room for another association)",
            ),
            Event::OpenFrom {
                source,
                conn: Some(conn),
            } => {
                self.ins.remove(conn);
                self.outs.remove(conn);
                self.views.remove(conn);
                let text = format!("transport connection from {} accepted", show_source(source));
                self.line(at, "·", Some(*conn), "open", &text);
            }
            Event::OpenFrom { source, conn: None } => {
                let text = format!(
                    "transport connection from {} refused (too many from this source)",
                    show_source(source)
                );
                self.line(at, "·", None, "open", &text);
            }
            Event::TransportClosed { conn } => self.line(
                at,
                "·",
                Some(*conn),
                "closed",
                "transport connection closed",
            ),
            Event::Authenticated { conn, identity } => {
                let text = format!("TLS peer certificate {identity}");
                self.line(at, "·", Some(*conn), "authenticated", &text);
            }
            Event::TransportRefused { conn, reason } => {
                let text = format!("TLS refused the connection: {reason}");
                self.line(at, "·", Some(*conn), "refused", &text);
            }
            Event::Timeout => {}
            Event::Session(input) => {
                let text = session_input(input);
                self.line(at, "·", Some(0), "application", &text);
            }
            Event::Server(input) => {
                let (conn, text) = server_input(input);
                self.line(at, "·", conn, "application", &text);
            }
            Event::Failover(input) => {
                let text = match input {
                    FailoverInput::Connected { endpoint } => {
                        format!("transport to endpoint {endpoint} open")
                    }
                    FailoverInput::ConnectFailed { endpoint } => {
                        format!("transport to endpoint {endpoint} failed")
                    }
                    FailoverInput::Probe { endpoint, up } => format!(
                        "probe of endpoint {endpoint}: {}",
                        if *up { "up" } else { "down" }
                    ),
                    FailoverInput::Command { command, op } => {
                        format!("command {} (operation {op})", variant(command))
                    }
                    FailoverInput::Conclude => "conclude".into(),
                    FailoverInput::Abort => "abort".into(),
                    FailoverInput::Ack {
                        transfer_set,
                        timestamp,
                    } => format!("ack report of {transfer_set} stamped {timestamp}"),
                    FailoverInput::Nack { transfer_set } => {
                        format!("nack report of {transfer_set}")
                    }
                    FailoverInput::AutoAck(on) => format!("automatic report ACK {on}"),
                };
                self.line(at, "·", None, "application", &text);
            }
            Event::Unrecordable { what } => self.line(
                at,
                "!",
                None,
                "unrecordable",
                &format!("the application used {what}; a replay stops here"),
            ),
        }
    }
}

/// The variant name of a `Debug` rendering: `SelectOperate { .. }` gives `SelectOperate`.
fn variant(d: &dyn std::fmt::Debug) -> String {
    let s = format!("{d:?}");
    let end = s.find([' ', '(', '{']).unwrap_or(s.len());
    s[..end].to_string()
}

fn session_input(input: &SessionInput) -> String {
    match input {
        SessionInput::Command { command, op } => {
            format!("command {} (operation {op})", variant(command))
        }
        SessionInput::Request { pdu, op } => {
            format!("request of {} octets (operation {op})", pdu.len())
        }
        SessionInput::Ack { transfer_set, .. } => format!("ack report of {transfer_set}"),
        SessionInput::Nack { transfer_set } => format!("nack report of {transfer_set}"),
        SessionInput::Conclude => String::from("conclude"),
        SessionInput::Abort => String::from("abort"),
        SessionInput::AutoAck(on) => format!("automatic report ACK {on}"),
    }
}

fn server_input(input: &ServerInput) -> (Option<u64>, String) {
    let all = |d: &Option<String>| d.clone().unwrap_or_else(|| String::from("all domains"));
    match input {
        ServerInput::RunHooks => (None, String::from("run hooks")),
        ServerInput::Update { point, .. } => (None, format!("update point {point}")),
        ServerInput::UpdateMany(v) => (None, format!("update {} points", v.len())),
        ServerInput::OperatorRequest { domain } => {
            (None, format!("operator request for {}", all(domain)))
        }
        ServerInput::ExternalEvent { domain, code } => {
            (None, format!("external event {code} for {}", all(domain)))
        }
        ServerInput::AnswerOperate { op, result } => (
            None,
            match result {
                Ok(()) => format!("operate {op} answered: done"),
                Err(e) => format!("operate {op} answered: error {e}"),
            },
        ),
        ServerInput::SetTag { device, .. } => (None, format!("set tag of device {device}")),
        ServerInput::SendInfoMessage { domain, data, .. } => (
            None,
            format!(
                "send information message ({} octets) to {}",
                data.len(),
                domain.as_deref().unwrap_or("VCC")
            ),
        ),
        ServerInput::CompleteWrite { result, .. } => {
            (None, format!("complete a deferred write: {result:?}"))
        }
        ServerInput::SendInformationReport { conn, .. } => {
            (Some(*conn), String::from("send an information report"))
        }
        ServerInput::ReportList { conn, list } => (Some(*conn), format!("report list {list}")),
        ServerInput::Abort { conn } => (Some(*conn), String::from("abort")),
        ServerInput::SetValue { name, .. } => (None, format!("set value of {name}")),
    }
}

#[cfg(test)]
mod tests;
