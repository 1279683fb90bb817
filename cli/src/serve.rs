//! `tase2 serve`: a TASE.2 server for a model from a TOML file (or the embedded default), with
//! simulated points and one line of output per association, transfer set and report event.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use tase2_core::acse::{user_diagnostic, AssociateDiagnostic};
use tase2_core::assoc::AssocError;
use tase2_core::mms::{Data, ObjectName};
use tase2_core::server::{Endpoint, ServerEvent};
use tase2_core::tase2::server::{Tase2, Tase2Event};
use tase2_core::tase2::{DsTransferSetValue, Timestamp};
use tase2_tokio::{clock, Server, ServerHandle};

use crate::config::{ConfigError, DEFAULT, DEFAULT_ORIGIN};
use crate::model::{self, Model, REPORT_COUNTER, REPORT_TRIGGER, VCC_REPORT};
use crate::sim::Simulation;

/// Exit code for a configuration that cannot be read or is invalid.
pub const EXIT_CONFIG: i32 = 2;

/// `tase2 serve` options.
#[derive(clap::Args)]
pub struct ServeArgs {
    /// TOML model to serve (see examples/tase2-server.toml); default: the embedded default model.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address to listen on (default: `listen` of the config's [server], else 0.0.0.0:102).
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    /// Only check the configuration: print a summary and exit.
    #[arg(long)]
    check: bool,
}

/// Read and build the configuration `args` name.
fn load(args: &ServeArgs) -> Result<(Model, String), ConfigError> {
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
    let model = model::load(&text, &origin, start_time())?;
    Ok((model, origin))
}

/// Now, as a TASE.2 timestamp: the initial timestamp of points that have none of their own.
fn start_time() -> Timestamp {
    Timestamp::from_utc_micros(clock::now().utc_micros())
}

/// Run `tase2 serve`. A configuration error exits the process with [`EXIT_CONFIG`].
pub async fn run(args: ServeArgs) -> Result<(), String> {
    let (model, origin) = match load(&args) {
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
    let serving = bind(model, &listen, |line| println!("{line}"))
        .await
        .map_err(|e| format!("bind {listen}: {e}"))?;
    println!(
        "tase2 serving {origin} on {} ({})",
        serving.addr, serving.summary
    );
    tokio::select! {
        r = serving.server.run() => r.map_err(|e| e.to_string()),
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
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

/// Bind `listen` for `model`: events are described to `log`, one line each, and the simulation
/// (if any) starts with the server.
pub async fn bind(
    model: Model,
    listen: &str,
    mut log: impl FnMut(String) + Send + 'static,
) -> io::Result<Serving> {
    let Model {
        endpoint,
        simulation,
        report_trigger,
        summary,
        ..
    } = model;
    let mut server = Server::with_endpoint(listen, endpoint).await?;
    let addr = server.local_addr()?;
    server.on_event(move |ep, _now, ev| {
        if report_trigger {
            trigger_report(ep, ev);
        }
        if let Some(line) = describe(ep, ev) {
            log(line);
        }
    });
    if let Some(sim) = simulation {
        spawn_simulation(server.handle(), sim);
    }
    Ok(Serving {
        server,
        addr,
        summary,
    })
}

/// Writing `true` to `Report_Trigger` sends the writer a report of `Vcc_Report`.
fn trigger_report(ep: &mut Endpoint<Tase2>, ev: &ServerEvent<Tase2Event>) {
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
    ep.model_mut().set_value(&counter, Data::Integer(next));
    if let Err(e) = ep.report_list(*id, &ObjectName::vmd(VCC_REPORT)) {
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
            let alive = handle.command(move |ep, now| {
                let updates = sim
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .step(ep.tase2());
                ep.update_many(now, updates);
            });
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
            format!("association {}: peer error {error:?}", id.0)
        }
        ServerEvent::Closed { id, error: None } => format!("association {} released", id.0),
        ServerEvent::Closed {
            id,
            error:
                Some(AssocError::Refused {
                    diagnostic: Some(AssociateDiagnostic::User(d)),
                    ..
                }),
        } => {
            let why = match *d {
                user_diagnostic::CALLING_AP_TITLE_NOT_RECOGNIZED => {
                    "calling AP-title in no bilateral table"
                }
                user_diagnostic::CALLED_AP_TITLE_NOT_RECOGNIZED => "called AP-title is not ours",
                _ => "refused by the application",
            };
            format!("association {} refused: {why} (ACSE diagnostic {d})", id.0)
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
            other => format!("{other:?}"),
        },
    };
    Some(line)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tase2_core::assoc::AssociationConfig;
    use tase2_core::mms::{AccessResult, Data, ObjectName};
    use tase2_core::tase2::client::{
        parse_next_transfer_set, parse_table_id, parse_version, transfer_set_data,
    };
    use tase2_core::tase2::{DsConditions, DsTransferSetValue, Edition};
    use tase2_tokio::{Client, Error};
    use tokio::sync::mpsc;

    use super::*;

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
            Err(Error::Association(_)) => {}
            Err(e) => panic!("refused, but not at association: {e}"),
            Ok(_) => panic!("1.1.1.555 was accepted"),
        }
        expect_line(
            &mut log,
            &["refused: calling AP-title in no bilateral table"],
        )
        .await;
    }
}
