//! `tase2 serve`: a TASE.2 server for a model from a TOML file (or the embedded default), with
//! simulated points, simulated field devices answering operates, periodic information messages,
//! and one line of output per association, transfer set, report, device control and information
//! message event.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use tase2_core::acse::{user_diagnostic, AssociateDiagnostic};
use tase2_core::assoc::AssocError;
use tase2_core::mms::{Data, DataAccessError, ObjectName};
use tase2_core::server::{Endpoint, ServerEvent};
use tase2_core::tase2::server::{ControlRefusal, DeviceId, Tase2, Tase2Event};
use tase2_core::tase2::{DsTransferSetValue, TagValue, Timestamp};
use tase2_tokio::{clock, Server, ServerHandle};

use crate::config::{ConfigError, DEFAULT, DEFAULT_ORIGIN};
use crate::model::{self, Model, REPORT_COUNTER, REPORT_TRIGGER, VCC_REPORT};
use crate::sim::{next_message_number, InfoSim, Simulation};

/// The output of a running server, shared by the event hook and the simulation tasks.
type Log = Arc<Mutex<dyn FnMut(String) + Send>>;

fn emit(log: &Log, line: String) {
    (log.lock().unwrap_or_else(PoisonError::into_inner))(line);
}

/// Exit code for a configuration that cannot be read or is invalid.
pub const EXIT_CONFIG: i32 = 2;

/// `tase2 serve` options.
#[derive(clap::Args)]
pub struct ServeArgs {
    /// TOML model to serve (see examples/tase2-server.toml); default: the embedded default model.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address to listen on (default: `listen` of the config's `[server]`, else 0.0.0.0:102).
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    /// Only check the configuration: print a summary and exit.
    #[arg(long)]
    check: bool,
    /// Record the server into FILE (created or truncated): every connection, octet, timer and
    /// application call, with the model's TOML in the header, so a replay rebuilds the same
    /// server and checks every octet it sent. Flushed 100 ms after activity and on Ctrl-C or
    /// SIGTERM.
    #[arg(long, value_name = "FILE")]
    record: Option<PathBuf>,
    /// Busy-poll for this many microseconds after each input instead of sleeping (0: off, the
    /// default). For a dedicated gateway where one pipelining client must be answered without
    /// the server thread's sleep and wake-up per batch; it burns a core while traffic flows.
    #[arg(long, value_name = "MICROSECONDS", default_value_t = 0)]
    busy_poll: u64,
    /// Dual role, as bilateral ICCP links run: also be a client of the partner at ADDR (repeat
    /// for the partner's backups, in order), watching its points with the reconnect and failover
    /// policy of `tase2 watch --backup` (restored after every loss, failing back to the first
    /// ADDR); its reports are printed among this server's lines.
    #[arg(long, value_name = "ADDR")]
    peer: Vec<String>,
    /// The partner's points to watch (as `watch --points`).
    #[arg(
        long,
        value_name = "P1,P2",
        default_value = "Gen1_MW,Freq_Hz",
        value_delimiter = ','
    )]
    peer_points: Vec<String>,
    /// Our AP-title as the partner's client.
    #[arg(long, default_value = "1.1.1.999")]
    peer_local_ap_title: String,
    /// The partner's AP-title.
    #[arg(long, default_value = "1.1.1.998")]
    peer_remote_ap_title: String,
    #[command(flatten)]
    tls: crate::tls::TlsArgs,
}

use tase2_cli::SERVE_SETUP_KIND as SETUP_KIND;

/// The `producer` of logs this tool writes.
pub fn producer(command: &str) -> String {
    format!("tase2 {command} {} (tokio)", env!("CARGO_PKG_VERSION"))
}

/// What `load` read: the model, its origin, its TOML text and the instant it was built with.
struct Loaded {
    model: Model,
    origin: String,
    text: String,
    start: tase2_core::Instant,
}

/// Read and build the configuration `args` name.
fn load(args: &ServeArgs) -> Result<Loaded, ConfigError> {
    let (text, origin) = match &args.config {
        Some(path) => {
            let origin = path.display().to_string();
            let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
                origin: origin.clone(),
                at: None,
                message: e.to_string(),
            })?;
            (text, origin)
        }
        None => (DEFAULT.to_string(), DEFAULT_ORIGIN.to_string()),
    };
    // One reading of the clock: the model's initial time stamps and a recording's start.
    let start = clock::now();
    let model = model::load(&text, &origin, timestamp(start))?;
    Ok(Loaded {
        model,
        origin,
        text,
        start,
    })
}

/// `at` as a TASE.2 timestamp: the initial timestamp of points that have none of their own.
pub fn timestamp(at: tase2_core::Instant) -> Timestamp {
    Timestamp::from_utc_micros(at.utc_micros())
}

/// Now, as a TASE.2 timestamp.
#[cfg(test)]
fn start_time() -> Timestamp {
    timestamp(clock::now())
}

/// Run `tase2 serve`. A configuration error exits the process with [`EXIT_CONFIG`].
pub async fn run(args: ServeArgs) -> Result<(), String> {
    let Loaded {
        model,
        origin,
        text,
        start,
    } = match load(&args) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("tase2: {e}");
            std::process::exit(EXIT_CONFIG);
        }
    };
    if args.check {
        println!("{origin}: ok: {}", model.summary);
        return Ok(());
    }
    let listen = args.listen.clone().unwrap_or_else(|| model.listen.clone());
    let base = args
        .config
        .as_deref()
        .and_then(|p| p.parent())
        .unwrap_or(std::path::Path::new("."));
    let crl_check = args
        .tls
        .tls_crl_check_s
        .or(model.tls.as_ref().and_then(|t| t.crl_check_s))
        .unwrap_or(crate::tls::CRL_CHECK_S);
    let tls = match args.tls.server(model.tls.as_ref(), base)? {
        Some(settings) => Some((
            tase2_tokio::tls::ServerTls::from_settings(&settings)
                .map_err(|e| format!("TLS: {e}"))?,
            settings,
        )),
        None => None,
    };
    let secure = tls.is_some();
    let mut serving = bind(model, &listen, |line| println!("{line}"))
        .await
        .map_err(|e| format!("bind {listen}: {e}"))?;
    if let Some((tls, settings)) = tls {
        let reload = serving.server.set_tls(tls);
        if !settings.crls.is_empty() && crl_check > 0 {
            tokio::spawn(crate::tls::watch_crls(
                settings,
                reload,
                std::time::Duration::from_secs(crl_check),
            ));
        }
    }
    if args.busy_poll > 0 {
        serving
            .server
            .set_busy_poll(Some(std::time::Duration::from_micros(args.busy_poll)));
    }
    if let Some(path) = &args.record {
        let sink = tase2_tokio::record_file(path)
            .map_err(|e| format!("--record {}: {e}", path.display()))?;
        serving
            .server
            .record(
                start,
                SETUP_KIND,
                text.into_bytes(),
                &producer("serve"),
                sink,
            )
            .map_err(|e| format!("--record {}: {e}", path.display()))?;
    }
    println!(
        "tase2 serving {origin} on {}{}{} ({})",
        serving.addr,
        if secure { " over TLS" } else { "" },
        if args.busy_poll > 0 {
            format!(", busy-polling {} µs after input", args.busy_poll)
        } else {
            String::new()
        },
        serving.summary
    );
    let peering = !args.peer.is_empty();
    let peer = async {
        if peering {
            peer(&args).await
        } else {
            std::future::pending().await
        }
    };
    // Returning drops the server, which flushes the recording: stop on Ctrl-C and on SIGTERM
    // (what service managers and test harnesses send) alike. With a peer, Ctrl-C first lets the
    // client side clean up at the partner (stop, delete, conclude).
    tokio::select! {
        r = serving.server.run() => r.map_err(|e| e.to_string()),
        r = peer => r,
        _ = tokio::signal::ctrl_c(), if !peering => Ok(()),
        () = terminated() => Ok(()),
    }
}

/// The client side of the dual role: a failover watch of the partner.
async fn peer(args: &ServeArgs) -> Result<(), String> {
    let oid = |s: &str| {
        s.parse()
            .map_err(|_| format!("{s}: not an AP-title (an OID such as 1.1.1.999)"))
    };
    let association = tase2_core::assoc::AssociationConfig::with_ap_titles(
        (oid(&args.peer_local_ap_title)?, 12),
        (oid(&args.peer_remote_ap_title)?, 12),
    );
    let watch = crate::watch::WatchArgs {
        domain: None,
        points: args.peer_points.clone(),
        interval: 0,
        integrity: 10,
        buffer: 0,
        rbe: true,
        no_rbe: false,
        critical: false,
        duration: None,
        data_set: Some(format!("DS_Peer_{}", std::process::id())),
        no_info: true,
        backup: args.peer[1..].to_vec(),
        fail_back: (args.peer.len() > 1).then_some(2.0),
        keepalive: 2.0,
    };
    // A partner that is not up yet (or goes away) is waited for: the link retries on its own.
    crate::watch_failover::watch(&args.peer[0], association, &watch, true, None)
        .await
        .map_err(|e| format!("peer: {e}"))
}

/// SIGTERM (never, where there is none).
async fn terminated() {
    #[cfg(unix)]
    if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        s.recv().await;
        return;
    }
    std::future::pending::<()>().await;
}

/// A bound server with its event printer and simulation installed.
pub struct Serving {
    /// The server; `run` it.
    pub server: Server<Tase2>,
    /// The address bound.
    pub addr: SocketAddr,
    /// The model's one-line description.
    pub summary: String,
}

/// Bind `listen` for `model`: events are described to `log`, one line each; the simulated field
/// devices answer operates; the simulation and the information messages (if any) start with the
/// server.
pub async fn bind(
    model: Model,
    listen: &str,
    log: impl FnMut(String) + Send + 'static,
) -> io::Result<Serving> {
    let Model {
        endpoint,
        simulation,
        report_trigger,
        field_devices,
        info_messages,
        summary,
        ..
    } = model;
    let log: Log = Arc::new(Mutex::new(log));
    let mut server = Server::with_endpoint(listen, endpoint).await?;
    let addr = server.local_addr()?;
    let hook_log = Arc::clone(&log);
    server.on_event(move |ep, now, ev| {
        if report_trigger {
            trigger_report(ep, now, ev);
        }
        if let Some(line) = describe(ep, ev) {
            emit(&hook_log, line);
        }
        // Describe the request first: the answer's own events follow it.
        if let ServerEvent::Extension(Tase2Event::OperateRequested {
            op, device, value, ..
        }) = ev
        {
            field_devices.operate(ep, now, *op, *device, *value);
        }
    });
    if let Some(sim) = simulation {
        spawn_simulation(server.handle(), sim);
    }
    for m in info_messages {
        spawn_info_message(server.handle(), m, Arc::clone(&log));
    }
    Ok(Serving {
        server,
        addr,
        summary,
    })
}

/// Writing `true` to `Report_Trigger` sends the writer a report of `Vcc_Report`.
fn trigger_report(
    ep: &mut Endpoint<Tase2>,
    now: tase2_core::Instant,
    ev: &ServerEvent<Tase2Event>,
) {
    let ServerEvent::Written { id, name, value } = ev else {
        return;
    };
    if *name != ObjectName::vmd(REPORT_TRIGGER) || *value != Data::Boolean(true) {
        return;
    }
    let counter = ObjectName::vmd(REPORT_COUNTER);
    let next = match ep.model().variable(&counter).map(|v| &v.value) {
        Some(Data::Integer(n)) => n + 1,
        _ => 1,
    };
    // Recordable, unlike `model_mut().set_value`: a recording of `serve` replays past it.
    ep.set_value(now, &counter, Data::Integer(next));
    if let Err(e) = ep.report_list(now, *id, &ObjectName::vmd(VCC_REPORT)) {
        eprintln!("association {}: report of {VCC_REPORT}: {e}", id.0);
    }
}

/// Step the simulation every period, inside the server task.
fn spawn_simulation(handle: ServerHandle<Tase2>, sim: Simulation) {
    let period = sim.period;
    let sim = Arc::new(Mutex::new(sim));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first tick is immediate: the initial values stand for one period.
        tick.tick().await;
        loop {
            tick.tick().await;
            let sim = Arc::clone(&sim);
            let alive = handle
                .command(move |ep, now| {
                    let updates = sim
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .step(ep.tase2());
                    ep.update_many(now, updates);
                })
                .await;
            if !alive {
                return;
            }
        }
    });
}

/// Send information message `m` every `m.every`, inside the server task; each one sent to at least
/// one association is logged.
fn spawn_info_message(handle: ServerHandle<Tase2>, m: InfoSim, log: Log) {
    let m = Arc::new(m);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(m.every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        let mut n = 0;
        loop {
            tick.tick().await;
            n = next_message_number(n);
            let (m, log) = (Arc::clone(&m), Arc::clone(&log));
            let alive = handle
                .command(move |ep, _now| {
                    let (header, data) = m.message(n);
                    let scope = m.domain.as_deref().unwrap_or("VCC");
                    match ep.send_info_message(m.domain.as_deref(), header, &data) {
                        Ok(d) if d.sent.is_empty() => {}
                        Ok(d) => {
                            let to: Vec<String> =
                                d.sent.iter().map(|id| id.0.to_string()).collect();
                            emit(
                                &log,
                                format!(
                                    "information message {n} ({scope}, InfoReference {}, \
                                 LocalReference {}, {} octets) sent to association {}",
                                    header.info_reference,
                                    header.local_reference,
                                    data.len(),
                                    to.join(", ")
                                ),
                            );
                        }
                        Err(e) => emit(&log, format!("information message {n} ({scope}): {e}")),
                    }
                })
                .await;
            if !alive {
                return;
            }
        }
    });
}

/// `DOMAIN/Name`, or `/Name` for VCC scope.
fn show_name(n: &ObjectName) -> String {
    match n {
        ObjectName::VmdSpecific(i) => format!("/{i}"),
        ObjectName::DomainSpecific { domain, item } => format!("{domain}/{item}"),
        ObjectName::AaSpecific(i) => format!("@{i}"),
    }
}

fn show_transfer_set(v: &DsTransferSetValue) -> String {
    let mut s = format!(
        "data set {}, conditions {}, interval {} s, integrity {} s, buffer {} s",
        show_name(&v.data_set),
        v.conditions,
        v.interval,
        v.integrity_check,
        v.buffer_time
    );
    for (on, what) in [
        (v.rbe, "RBE"),
        (v.critical, "critical"),
        (v.all_changes_reported, "all changes"),
    ] {
        if on {
            s.push_str(", ");
            s.push_str(what);
        }
    }
    s
}

/// A device's name, `DOMAIN/Name` or `/Name`.
fn device_name(ep: &Endpoint<Tase2>, device: DeviceId) -> String {
    ep.tase2()
        .devices()
        .nth(device.0 as usize)
        .map_or_else(|| format!("device {}", device.0), |(_, n, _)| show_name(n))
}

fn show_tag(v: TagValue) -> &'static str {
    match v {
        TagValue::None => "none",
        TagValue::OpenAndCloseInhibit => "open-and-close inhibit",
        TagValue::CloseOnlyInhibit => "close-only inhibit",
        TagValue::Invalid => "invalid",
    }
}

fn show_error(e: DataAccessError) -> String {
    e.name()
        .map_or_else(|| format!("access error {}", e.0), str::to_string)
}

/// What was refused and why, with the error the client got.
fn show_refusal(device: &str, reason: ControlRefusal) -> String {
    use ControlRefusal as R;
    let what = match reason {
        R::NotSelected => format!("operate of {device} refused: not selected"),
        R::SelectExpired => format!("operate of {device} refused: the select expired"),
        R::SelectedByOther => {
            format!("operate of {device} refused: selected by another association")
        }
        R::InUse => format!("select of {device} refused: selected by another association"),
        R::Tagged => format!("{device} refused: the tag inhibits it"),
        R::Busy => format!("{device} refused: an operate is in progress"),
        R::WrongType => format!("{device} refused: value of the wrong type"),
        R::InvalidValue => format!("{device} refused: value out of range"),
        R::Armed => format!("tag change of {device} refused: the device is armed"),
        R::TagOwnedByOther => {
            format!("tag change of {device} refused: the tag belongs to someone else")
        }
        R::Application(_) => format!("operate of {device} refused by the field device"),
        R::Unanswered => format!("operate of {device} refused: the field device did not answer"),
    };
    format!("{what} ({})", show_error(reason.access_error()))
}

/// One line for an event worth printing.
pub fn describe(ep: &Endpoint<Tase2>, ev: &ServerEvent<Tase2Event>) -> Option<String> {
    use Tase2Event as T;
    let line = match ev {
        // Printed with its binding, from Tase2Event::Bound.
        ServerEvent::Associated { .. } => return None,
        // Points and transfer sets have their own, more telling, TASE.2 events.
        ServerEvent::Written { name, .. }
            if ep.model().variable(name).is_some_and(|v| v.slot.is_some()) =>
        {
            return None
        }
        ServerEvent::Written { id, name, .. } => {
            format!("association {}: wrote {}", id.0, show_name(name))
        }
        ServerEvent::ListDefined { id, name } => {
            format!("association {}: defined data set {}", id.0, show_name(name))
        }
        ServerEvent::ListsDeleted { id, count } => {
            format!("association {}: deleted {count} data set(s)", id.0)
        }
        ServerEvent::PeerError { id, error } => {
            format!("association {}: peer error: {error}", id.0)
        }
        ServerEvent::Deviation { id, deviation } => {
            format!("association {}: accepted deviation: {deviation}", id.0)
        }
        ServerEvent::Admission(a) => a.to_string(),
        ServerEvent::Closed { id, error: None } => format!("association {} released", id.0),
        ServerEvent::Closed {
            id,
            error: Some(AssocError::Refused(r)),
        } => {
            let why = match r.diagnostic() {
                Some(AssociateDiagnostic::User(
                    user_diagnostic::CALLING_AP_TITLE_NOT_RECOGNIZED,
                )) => "calling AP-title in no bilateral table",
                Some(AssociateDiagnostic::User(
                    user_diagnostic::CALLED_AP_TITLE_NOT_RECOGNIZED,
                )) => "called AP-title is not ours",
                _ => "refused by the application",
            };
            match r.diagnostic() {
                Some(d) => format!("association {} refused: {why} ({d})", id.0),
                None => format!("association {} refused: {why}", id.0),
            }
        }
        ServerEvent::Closed { id, error: Some(e) } => {
            format!("association {} closed: {e}", id.0)
        }
        ServerEvent::Extension(e) => match e {
            T::Bound { id, table, domain } => {
                let who = ep
                    .peer(*id)
                    .map(|p| {
                        let title = p
                            .calling
                            .ap_title
                            .as_ref()
                            .map_or_else(|| "-".to_string(), ToString::to_string);
                        let ae = p
                            .calling
                            .ae_qualifier
                            .map_or_else(|| "-".to_string(), |q| q.to_string());
                        format!("{title}/{ae}")
                    })
                    .unwrap_or_else(|| "?".into());
                match (table, domain) {
                    (Some(t), Some(d)) => format!(
                        "association {}: {who}, bilateral table {t}, domain {d}",
                        id.0
                    ),
                    (Some(t), None) => {
                        format!("association {}: {who}, bilateral table {t}", id.0)
                    }
                    (None, _) => format!(
                        "association {}: {who}, no bilateral table: VCC scope only",
                        id.0
                    ),
                }
            }
            T::TransferSetReserved { id, name } => {
                format!("association {}: reserved {}", id.0, show_name(name))
            }
            T::TransferSetStarted { id, name, value } => format!(
                "association {}: started {}: {}",
                id.0,
                show_name(name),
                show_transfer_set(value)
            ),
            T::TransferSetStopped { id, name } => {
                format!("association {}: stopped {}", id.0, show_name(name))
            }
            T::PointWritten { id, point, value } => {
                let name = ep
                    .tase2()
                    .point_name(*point)
                    .map_or_else(|| format!("point {}", point.0), show_name);
                format!(
                    "association {}: wrote {name} = {} ({})",
                    id.0,
                    value.as_f64(),
                    value.flags
                )
            }
            T::ReportAcked {
                id,
                name,
                timestamp,
            } => format!(
                "association {}: ACK of {} report {timestamp}",
                id.0,
                show_name(name)
            ),
            T::ReportNacked { id, name } => {
                format!("association {}: NACK of {}", id.0, show_name(name))
            }
            T::AckTimeout {
                id,
                name,
                timestamp,
            } => format!(
                "association {}: no ACK of {} report {timestamp} in time",
                id.0,
                show_name(name)
            ),
            T::ReportExpired { id, name } => format!(
                "association {}: {} report older than TLE, discarded",
                id.0,
                show_name(name)
            ),
            T::ChangesDropped { id, name, count } => format!(
                "association {}: {} dropped {count} buffered change(s)",
                id.0,
                show_name(name)
            ),
            T::ReportMemberTooLarge { id, name } => format!(
                "association {}: {} member too large for the PDU size, left out",
                id.0,
                show_name(name)
            ),
            T::UnexpectedReport { id } => {
                format!("association {}: unexpected unconfirmed PDU", id.0)
            }
            T::InfoMessagesEnabled { id, enabled } => format!(
                "association {}: information messages {}",
                id.0,
                if *enabled { "enabled" } else { "disabled" }
            ),
            T::InfoMessageTooLarge {
                id,
                size,
                max_pdu_size,
            } => format!(
                "association {}: information message of {size} octets exceeds its PDU size \
                 ({max_pdu_size}), not sent",
                id.0
            ),
            T::Selected {
                id,
                device,
                check_back_id,
            } => format!(
                "association {}: selected {} (CheckBackID {check_back_id})",
                id.0,
                device_name(ep, *device)
            ),
            T::SelectTimedOut { id, device } => format!(
                "association {}: select of {} timed out",
                id.0,
                device_name(ep, *device)
            ),
            T::OperateRequested {
                id, device, value, ..
            } => format!(
                "association {}: operate {} = {value}",
                id.0,
                device_name(ep, *device)
            ),
            T::Operated { id, device, value } => format!(
                "association {}: operated {} = {value}",
                id.0,
                device_name(ep, *device)
            ),
            T::ControlRefused { id, device, reason } => {
                let mut name = device_name(ep, *device);
                if *reason == ControlRefusal::Tagged {
                    if let Some(d) = ep.tase2().device(clock::now(), *device) {
                        name = format!("{name} (tag {})", show_tag(d.tag.value));
                    }
                }
                format!("association {}: {}", id.0, show_refusal(&name, *reason))
            }
            T::TagChanged { id, device, tag } => {
                let what = match tag.value {
                    TagValue::None => "no tag".to_string(),
                    v if tag.reason.is_empty() => show_tag(v).to_string(),
                    v => format!("{} ({})", show_tag(v), tag.reason),
                };
                let name = device_name(ep, *device);
                match id {
                    Some(id) => format!("association {}: tag of {name}: {what}", id.0),
                    None => format!("local tag of {name}: {what}"),
                }
            }
        },
    };
    Some(line)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tase2_core::assoc::AssociationConfig;
    use tase2_core::mms::{AccessResult, Data, DataAccessError, Float, ObjectName};
    use tase2_core::tase2::client::{
        parse_next_transfer_set, parse_table_id, parse_version, transfer_set_data,
    };
    use tase2_core::tase2::info::IM_TRANSFER_SET;
    use tase2_core::tase2::{
        DsConditions, DsTransferSetValue, Edition, InfoMessage, InfoScope, PointType, StateValue,
        Tag, TagValue, Value,
    };
    use tase2_tokio::{Client, Error};
    use tokio::sync::mpsc;

    use super::*;

    fn icc1(item: &str) -> ObjectName {
        ObjectName::domain("ICC1", item)
    }

    /// The access error of a failed read or write.
    fn access<T: std::fmt::Debug>(r: Result<T, Error>) -> DataAccessError {
        match r {
            Err(Error::Access(e)) => e,
            other => panic!("expected an access error, got {other:?}"),
        }
    }

    /// The state of a Data_StateQTimeTag point.
    async fn state(c: &Client, name: &ObjectName) -> StateValue {
        let d = c.read(name).await.unwrap();
        let t = PointType::from_name("Data_StateQTimeTag").unwrap();
        match t.decode_data(&d).map(|v| v.value) {
            Some(Value::State(s)) => s,
            other => panic!("{name}: {other:?}"),
        }
    }

    fn tag(value: TagValue, reason: &str) -> Data {
        Tag {
            value,
            armed: false,
            reason: reason.into(),
        }
        .to_data()
    }

    fn real(x: f32) -> Data {
        Data::Float(Float::F32(x))
    }

    fn as_client(ap_title: &str) -> AssociationConfig {
        AssociationConfig::with_ap_titles(
            (ap_title.parse().unwrap(), 12),
            ("1.1.1.998".parse().unwrap(), 12),
        )
    }

    async fn start() -> (SocketAddr, mpsc::UnboundedReceiver<String>) {
        let model = model::load(DEFAULT, DEFAULT_ORIGIN, start_time()).unwrap();
        let (tx, rx) = mpsc::unbounded_channel();
        let serving = bind(model, "127.0.0.1:0", move |line| {
            let _ = tx.send(line);
        })
        .await
        .unwrap();
        let addr = serving.addr;
        tokio::spawn(serving.server.run());
        (addr, rx)
    }

    async fn expect_line(rx: &mut mpsc::UnboundedReceiver<String>, parts: &[&str]) -> String {
        let wait = async {
            while let Some(line) = rx.recv().await {
                if parts.iter().all(|p| line.contains(p)) {
                    return line;
                }
            }
            panic!("log ended");
        };
        tokio::time::timeout(Duration::from_secs(5), wait)
            .await
            .unwrap_or_else(|_| panic!("no log line with {parts:?}"))
    }

    #[tokio::test]
    async fn the_default_model_serves_its_bilateral_tables_over_tcp() {
        let (addr, mut log) = start().await;

        let mut c = Client::connect(addr, as_client("1.1.1.999")).await.unwrap();
        expect_line(
            &mut log,
            &["1.1.1.999/12", "bilateral table BLT_ICC1", "domain ICC1"],
        )
        .await;
        let v = c.read(&ObjectName::vmd("TASE2_Version")).await.unwrap();
        assert_eq!(parse_version(&v), Some(Edition::V2000_08));
        let id = c
            .read(&ObjectName::domain("ICC1", "Bilateral_Table_ID"))
            .await
            .unwrap();
        assert_eq!(parse_table_id(&id).as_deref(), Some("BLT_ICC1"));
        // ICC2 belongs to another client.
        assert_eq!(c.domain_names().await.unwrap(), ["ICC1"]);
        assert!(c
            .read(&ObjectName::domain("ICC2", "Bilateral_Table_ID"))
            .await
            .is_err());

        // A DS transfer set on DS_Grid reports every second.
        let ts = c
            .read(&ObjectName::domain("ICC1", "Next_DSTransfer_Set"))
            .await
            .unwrap();
        let ts = parse_next_transfer_set(&ts).unwrap();
        expect_line(&mut log, &["reserved ICC1/DSTransfer_Set_1"]).await;
        let value = DsTransferSetValue {
            data_set: ObjectName::domain("ICC1", "DS_Grid"),
            interval: 1,
            conditions: DsConditions::INTERVAL,
            status: true,
            ..DsTransferSetValue::default()
        };
        c.write(&ts, transfer_set_data(&value, Edition::V2000_08))
            .await
            .unwrap();
        expect_line(&mut log, &["started ICC1/DSTransfer_Set_1", "DS_Grid"]).await;
        let report = tokio::time::timeout(Duration::from_secs(5), c.next_report())
            .await
            .expect("a report within 5 s")
            .expect("a report");
        assert_eq!(report.results.len(), 12, "{report:?}");
        assert!(report
            .results
            .iter()
            .all(|r| matches!(r, AccessResult::Success(_))));

        // The grid points change on their own.
        let gen = ObjectName::domain("ICC1", "Gen1_MW");
        let first = c.read(&gen).await.unwrap();
        let mut changed = false;
        for _ in 0..30 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if c.read(&gen).await.unwrap() != first {
                changed = true;
                break;
            }
        }
        assert!(changed, "Gen1_MW stayed {first:?} for 3 s");
        c.conclude().await.unwrap();
        expect_line(&mut log, &["stopped ICC1/DSTransfer_Set_1"]).await;

        // ICC2's client sees ICC2.
        let c2 = Client::connect(addr, as_client("1.1.1.997")).await.unwrap();
        let id = c2
            .read(&ObjectName::domain("ICC2", "Bilateral_Table_ID"))
            .await
            .unwrap();
        assert_eq!(id, Data::VisibleString("BLT_ICC2".into()));
        c2.conclude().await.unwrap();

        // A client no bilateral table names is refused.
        match Client::connect(addr, as_client("1.1.1.555")).await {
            Err(e @ Error::Association(_)) => assert_eq!(
                e.to_string(),
                "association refused by the peer's ACSE: rejected-permanent, \
                 calling-AP-title-not-recognized"
            ),
            Err(e) => panic!("refused, but not at association: {e}"),
            Ok(_) => panic!("1.1.1.555 was accepted"),
        }
        expect_line(
            &mut log,
            &["refused: calling AP-title in no bilateral table (calling-AP-title-not-recognized)"],
        )
        .await;
    }

    /// The TASE.2 client (the core Session over tokio) against the default model: discovery
    /// (block 1), a typed transfer set report (block 2), an information message (block 4) and
    /// select-before-operate (block 5), on one association.
    #[tokio::test]
    async fn the_tase2_client_runs_blocks_1_2_4_and_5_against_the_default_model() {
        use tase2_tokio::tase2::{Tase2Client, Tase2Report};
        let (addr, mut log) = start().await;
        let mut c = Tase2Client::connect(addr, as_client("1.1.1.999"))
            .await
            .unwrap();
        assert_eq!(c.edition(), Edition::V2000_08);
        let d = c.discover().await.unwrap();
        assert_eq!(d.domains.len(), 1);
        assert_eq!(d.domains[0].table_id.as_deref(), Some("BLT_ICC1"));
        assert!(d.domains[0].data_sets.iter().any(|s| s == "DS_Grid"));

        let ts = c.reserve_transfer_set("ICC1").await.unwrap();
        let value = DsTransferSetValue {
            data_set: icc1("DS_Grid"),
            interval: 1,
            conditions: DsConditions::INTERVAL,
            ..DsTransferSetValue::default()
        };
        c.start_transfer_set(&ts, value).await.unwrap();
        c.enable_info_messages().await.unwrap();
        expect_line(&mut log, &["information messages enabled"]).await;
        assert_eq!(
            c.select_operate(
                &icc1("Brk1_Cmd"),
                tase2_core::tase2::ControlValue::Discrete(1)
            )
            .await
            .unwrap(),
            101
        );
        expect_line(&mut log, &["operated ICC1/Brk1_Cmd = on"]).await;

        // The bulletin comes every 5 s; reports every second, typed from discovery.
        let (mut typed, mut message) = (false, false);
        let wait = async {
            while !(typed && message) {
                match c.next_report().await.expect("association open") {
                    Ok(Tase2Report::Transfer(r)) => {
                        assert_eq!(r.data_set.as_ref(), Some(&icc1("DS_Grid")));
                        typed |= r.points().next().is_some();
                    }
                    Ok(Tase2Report::InfoMessage(m)) => {
                        assert!(m.header.message_id >= 1);
                        message = true;
                    }
                    Err(u) => panic!("undecoded: {u:?}"),
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(8), wait)
            .await
            .expect("a typed report and an information message within 8 s");
        c.stop_transfer_set(&ts).await.unwrap();
        c.conclude().await.unwrap();
    }

    #[tokio::test]
    async fn devices_of_the_default_model_select_operate_and_refuse() {
        let (addr, mut log) = start().await;
        let c = Client::connect(addr, as_client("1.1.1.999")).await.unwrap();

        // Select-before-operate: the select answers the CheckBackID, the operate closes Brk1.
        let sbo = c.read(&icc1("Brk1_Cmd_SBO")).await.unwrap();
        assert_eq!(sbo, Data::Integer(101));
        expect_line(&mut log, &["selected ICC1/Brk1_Cmd (CheckBackID 101)"]).await;
        c.write(&icc1("Brk1_Cmd"), Data::Integer(1)).await.unwrap();
        expect_line(&mut log, &["operated ICC1/Brk1_Cmd = on"]).await;
        assert_eq!(state(&c, &icc1("Brk1")).await, StateValue::On);
        assert_eq!(c.read(&icc1("Brk1_Cmd")).await.unwrap(), Data::Integer(1));
        // The select was used up: a second operate is not selected.
        assert_eq!(
            access(c.write(&icc1("Brk1_Cmd"), Data::Integer(0)).await),
            DataAccessError::OBJECT_ACCESS_DENIED
        );
        expect_line(
            &mut log,
            &["operate of ICC1/Brk1_Cmd refused: not selected (object-access-denied)"],
        )
        .await;
        c.read(&icc1("Brk1_Cmd_SBO")).await.unwrap();
        c.write(&icc1("Brk1_Cmd"), Data::Integer(0)).await.unwrap();
        assert_eq!(state(&c, &icc1("Brk1")).await, StateValue::Off);

        // The bilateral table's own CheckBackID for Brk2_Cmd.
        assert_eq!(
            c.read(&icc1("Brk2_Cmd_SBO")).await.unwrap(),
            Data::Integer(1202)
        );
        // A value of the wrong type, a command out of range.
        assert_eq!(
            access(c.write(&icc1("Brk2_Cmd"), real(1.0)).await),
            DataAccessError::TYPE_INCONSISTENT
        );
        assert_eq!(
            access(c.write(&icc1("Gen1_Start"), Data::Integer(2)).await),
            DataAccessError::OBJECT_VALUE_INVALID
        );

        // Direct operates; the real setpoint's feedback point follows.
        c.write(&icc1("Gen1_Start"), Data::Integer(1))
            .await
            .unwrap();
        c.write(&icc1("Gen1_MW_SP"), real(123.5)).await.unwrap();
        expect_line(&mut log, &["operated ICC1/Gen1_MW_SP = 123.5"]).await;
        assert_eq!(c.read(&icc1("Setpoint_Real")).await.unwrap(), real(123.5));

        // The faulty breaker: selected, then its field device fails the operate.
        assert_eq!(
            c.read(&icc1("Brk9_Cmd_SBO")).await.unwrap(),
            Data::Integer(109)
        );
        assert_eq!(
            access(c.write(&icc1("Brk9_Cmd"), Data::Integer(1)).await),
            DataAccessError::HARDWARE_FAULT
        );
        expect_line(
            &mut log,
            &["operate of ICC1/Brk9_Cmd refused by the field device (hardware-fault)"],
        )
        .await;

        // The capacitor bank is tagged close-only locally: open works, close does not, and the
        // client cannot change the tag.
        assert_eq!(
            access(c.write(&icc1("Cap1_Cmd"), Data::Integer(1)).await),
            DataAccessError::OBJECT_ACCESS_DENIED
        );
        c.write(&icc1("Cap1_Cmd"), Data::Integer(0)).await.unwrap();
        let t = Tag::from_data(&c.read(&icc1("Cap1_Cmd_TAG")).await.unwrap()).unwrap();
        assert_eq!(t.value, TagValue::CloseOnlyInhibit);
        assert_eq!(t.reason, "capacitor bank maintenance");
        assert_eq!(
            access(
                c.write(&icc1("Cap1_Cmd_TAG"), tag(TagValue::None, ""))
                    .await
            ),
            DataAccessError::OBJECT_ACCESS_DENIED
        );

        // Brk3_Cmd is read-only for this client: readable, neither selectable nor operable.
        assert_eq!(c.read(&icc1("Brk3_Cmd")).await.unwrap(), Data::Integer(0));
        assert_eq!(
            access(c.read(&icc1("Brk3_Cmd_SBO")).await),
            DataAccessError::OBJECT_ACCESS_DENIED
        );
        assert_eq!(
            access(c.write(&icc1("Brk3_Cmd"), Data::Integer(1)).await),
            DataAccessError::OBJECT_ACCESS_DENIED
        );
        c.conclude().await.unwrap();

        // ICC2's client has its own breaker with its own CheckBackID.
        let c2 = Client::connect(addr, as_client("1.1.1.997")).await.unwrap();
        assert_eq!(
            c2.read(&ObjectName::domain("ICC2", "Brk1_Cmd_SBO"))
                .await
                .unwrap(),
            Data::Integer(301)
        );
        c2.conclude().await.unwrap();
    }

    #[tokio::test]
    async fn tags_belong_to_the_association_that_set_them() {
        let (addr, mut log) = start().await;
        let a = Client::connect(addr, as_client("1.1.1.999")).await.unwrap();
        let b = Client::connect(addr, as_client("1.1.1.999")).await.unwrap();
        let t = Tag::from_data(&a.read(&icc1("Brk1_Cmd_TAG")).await.unwrap()).unwrap();
        assert_eq!(t, Tag::default());

        a.write(
            &icc1("Brk1_Cmd_TAG"),
            tag(TagValue::OpenAndCloseInhibit, "crew on line"),
        )
        .await
        .unwrap();
        expect_line(
            &mut log,
            &["tag of ICC1/Brk1_Cmd: open-and-close inhibit (crew on line)"],
        )
        .await;
        assert_eq!(
            access(a.read(&icc1("Brk1_Cmd_SBO")).await),
            DataAccessError::OBJECT_ACCESS_DENIED
        );
        assert_eq!(
            access(
                b.write(&icc1("Brk1_Cmd_TAG"), tag(TagValue::None, ""))
                    .await
            ),
            DataAccessError::OBJECT_ACCESS_DENIED
        );
        assert_eq!(
            access(
                a.write(&icc1("Brk1_Cmd_TAG"), tag(TagValue::Invalid, ""))
                    .await
            ),
            DataAccessError::OBJECT_VALUE_INVALID
        );
        // Close-only: open allowed, close refused.
        a.write(
            &icc1("Brk1_Cmd_TAG"),
            tag(TagValue::CloseOnlyInhibit, "close-only"),
        )
        .await
        .unwrap();
        a.read(&icc1("Brk1_Cmd_SBO")).await.unwrap();
        // A tag cannot change while the device is armed.
        assert_eq!(
            access(
                a.write(&icc1("Brk1_Cmd_TAG"), tag(TagValue::None, ""))
                    .await
            ),
            DataAccessError::TEMPORARILY_UNAVAILABLE
        );
        let armed = Tag::from_data(&a.read(&icc1("Brk1_Cmd_TAG")).await.unwrap()).unwrap();
        assert!(armed.armed);
        assert_eq!(
            access(a.write(&icc1("Brk1_Cmd"), Data::Integer(1)).await),
            DataAccessError::OBJECT_ACCESS_DENIED
        );
        a.read(&icc1("Brk1_Cmd_SBO")).await.unwrap();
        a.write(&icc1("Brk1_Cmd"), Data::Integer(0)).await.unwrap();

        // Cleared by its owner, the device selects again; while A holds the select, B's select
        // waits and B's operate is refused.
        a.write(&icc1("Brk1_Cmd_TAG"), tag(TagValue::None, ""))
            .await
            .unwrap();
        a.read(&icc1("Brk1_Cmd_SBO")).await.unwrap();
        assert_eq!(
            access(b.read(&icc1("Brk1_Cmd_SBO")).await),
            DataAccessError::TEMPORARILY_UNAVAILABLE
        );
        assert_eq!(
            access(b.write(&icc1("Brk1_Cmd"), Data::Integer(1)).await),
            DataAccessError::OBJECT_ACCESS_DENIED
        );
        expect_line(
            &mut log,
            &["select of ICC1/Brk1_Cmd refused: selected by another association (temporarily-unavailable)"],
        )
        .await;
        expect_line(
            &mut log,
            &["operate of ICC1/Brk1_Cmd refused: selected by another association (object-access-denied)"],
        )
        .await;
        a.write(&icc1("Brk1_Cmd"), Data::Integer(1)).await.unwrap();
        a.conclude().await.unwrap();
        b.conclude().await.unwrap();
    }

    /// The next information message on `c` within `within`.
    async fn next_info(c: &mut Client, within: Duration) -> InfoMessage {
        let wait = async {
            loop {
                let r = c.next_report().await.expect("association open");
                if let Some(m) = InfoMessage::decode(&r) {
                    return m;
                }
            }
        };
        tokio::time::timeout(within, wait)
            .await
            .expect("an information message in time")
    }

    #[tokio::test]
    async fn information_messages_reach_the_clients_their_tables_admit() {
        let (addr, mut log) = start().await;
        let mut c1 = Client::connect(addr, as_client("1.1.1.999")).await.unwrap();
        let mut c2 = Client::connect(addr, as_client("1.1.1.997")).await.unwrap();
        let im = ObjectName::AaSpecific(IM_TRANSFER_SET.into());
        assert_eq!(c1.read(&im).await.unwrap(), Data::Boolean(false));
        c1.write(&im, Data::Boolean(true)).await.unwrap();
        expect_line(&mut log, &["information messages enabled"]).await;
        c2.write(&im, Data::Boolean(true)).await.unwrap();
        assert_eq!(c1.read(&im).await.unwrap(), Data::Boolean(true));

        // Every 5 s: the VCC bulletin to both, each domain's own message to its client only.
        let (mut vcc, mut own) = (false, false);
        while !(vcc && own) {
            let m = next_info(&mut c1, Duration::from_secs(7)).await;
            let n = m.header.message_id;
            assert!(n >= 1, "{m:?}");
            match m.scope {
                InfoScope::Vcc => {
                    assert_eq!(m.buffer, "Info_Buff_1024");
                    assert_eq!(m.header.info_reference, 1);
                    assert_eq!(
                        m.text(),
                        Some(format!("FreeTase2 VCC bulletin {n}").as_str())
                    );
                    vcc = true;
                }
                InfoScope::Icc => {
                    assert_eq!(m.domain.as_deref(), Some("ICC1"));
                    assert_eq!(
                        m.buffer, "Info_Buff_256",
                        "the smallest buffer that holds it"
                    );
                    let text = format!("ICC1 operations log entry {n}");
                    assert_eq!((m.header.info_reference, m.header.local_reference), (10, 1));
                    assert_eq!(m.header.size as usize, text.len());
                    assert_eq!(m.data, text.as_bytes());
                    own = true;
                }
            }
        }
        expect_line(
            &mut log,
            &[
                "information message",
                "(ICC1, InfoReference 10, LocalReference 1",
            ],
        )
        .await;
        let (mut vcc, mut own) = (false, false);
        while !(vcc && own) {
            let m = next_info(&mut c2, Duration::from_secs(7)).await;
            match m.scope {
                InfoScope::Vcc => vcc = true,
                InfoScope::Icc => {
                    assert_eq!(m.domain.as_deref(), Some("ICC2"), "{m:?}");
                    assert_eq!(
                        m.text(),
                        Some(format!("ICC2 notice {}", m.header.message_id).as_str())
                    );
                    own = true;
                }
            }
        }
        // Disabled: no more messages.
        c1.write(&im, Data::Boolean(false)).await.unwrap();
        expect_line(&mut log, &["information messages disabled"]).await;
        while let Ok(Some(_)) =
            tokio::time::timeout(Duration::from_millis(50), c1.next_report()).await
        {}
        assert!(
            tokio::time::timeout(Duration::from_secs(6), c1.next_report())
                .await
                .is_err(),
            "a message after IM_Transfer_Set = false"
        );
        c1.conclude().await.unwrap();
        c2.conclude().await.unwrap();
    }

    #[tokio::test]
    async fn an_unanswered_operate_times_out() {
        let text = "[server]\noperate_timeout_s = 1\n[[domain]]\nname = \"D\"\n\
                    [[domain.device]]\nname = \"Brk8_Cmd\"\nkind = \"command\"\n\
                    answer = \"ignore\"\n[[bilateral_table]]\nid = \"T\"\n\
                    client = { ap_title = \"1.1.1.999\" }\ndomain = \"D\"\n\
                    rights = { Brk8_Cmd = \"read-write\" }\n";
        let model = model::load(text, "t.toml", start_time()).unwrap();
        let (tx, mut log) = mpsc::unbounded_channel();
        let serving = bind(model, "127.0.0.1:0", move |line| {
            let _ = tx.send(line);
        })
        .await
        .unwrap();
        let addr = serving.addr;
        tokio::spawn(serving.server.run());
        let c = Client::connect(addr, as_client("1.1.1.999")).await.unwrap();
        let started = std::time::Instant::now();
        let r = c
            .write(&ObjectName::domain("D", "Brk8_Cmd"), Data::Integer(1))
            .await;
        assert_eq!(access(r), DataAccessError::TEMPORARILY_UNAVAILABLE);
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(900) && took < Duration::from_secs(4),
            "{took:?}"
        );
        expect_line(&mut log, &["operate D/Brk8_Cmd = on"]).await;
        expect_line(
            &mut log,
            &["operate of D/Brk8_Cmd refused: the field device did not answer (temporarily-unavailable)"],
        )
        .await;
        c.conclude().await.unwrap();
    }
}
