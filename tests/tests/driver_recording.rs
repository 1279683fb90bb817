//! Recording under each driver: the same scripted conversation (version, a read, a data set and
//! an integrity + RBE transfer set with its reports, select-before-operate of a breaker answered
//! by the simulated field device, stop, delete, release) between `tase2 serve`'s default model
//! and a TASE.2 client, run once over tokio (`Server::record`, `Tase2Options::record`) and once
//! over mio (`MioServer::record`, `MioTase2Client::connect_recording`). Each run's server log is
//! rebuilt from its header the way `tase2 replay` does (the TOML in the header) and its client
//! log by `replay_session`; both replay on the pure core octet for octet.

use std::path::PathBuf;
use std::time::Duration;

use tase2_cli::{config, model, server_from_header, SERVE_SETUP_KIND};
use tase2_core::assoc::AssociationConfig;
use tase2_core::mms::ObjectName;
use tase2_core::record::{self, Event, Reader, ReplayStats, Role};
use tase2_core::server::ServerEvent;
use tase2_core::std_clock;
use tase2_core::tase2::client::{Command, Outcome};
use tase2_core::tase2::server::Tase2Event;
use tase2_core::tase2::{
    Command as Cmd, ControlValue, DsConditions, DsTransferSetValue, Timestamp,
};

fn icc1(item: &str) -> ObjectName {
    ObjectName::domain("ICC1", item)
}

fn association() -> AssociationConfig {
    AssociationConfig::with_ap_titles(
        ("1.1.1.999".parse().unwrap(), 12),
        ("1.1.1.998".parse().unwrap(), 12),
    )
}

/// The default model as `tase2 serve` loads it: one clock reading for its time stamps and the
/// recording's start.
fn default_model() -> (model::Model, tase2_core::Instant) {
    let start = std_clock::now();
    let m = model::load(
        config::DEFAULT,
        config::DEFAULT_ORIGIN,
        Timestamp::from_utc_micros(start.utc_micros()),
    )
    .unwrap();
    (m, start)
}

/// The conversation before the reports are awaited, and after.
fn before_reports() -> Vec<Command> {
    let mut members: Vec<ObjectName> = [
        "Transfer_Set_Name",
        "Transfer_Set_Time_Stamp",
        "DSConditions_Detected",
        "Event_Code_Detected",
        "Gen1_MW",
        "Brk1",
    ]
    .map(icc1)
    .to_vec();
    members.dedup();
    vec![
        Command::Version,
        Command::ReadPoints {
            names: vec![icc1("Gen1_MW"), icc1("Brk1")],
        },
        Command::DefineDataSet {
            name: icc1("DS_Rec"),
            members,
        },
        Command::ReserveAndStart {
            domain: "ICC1".into(),
            value: DsTransferSetValue {
                data_set: icc1("DS_Rec"),
                integrity_check: 1,
                conditions: DsConditions::INTEGRITY | DsConditions::OBJECT_CHANGE,
                rbe: true,
                ..Default::default()
            },
        },
    ]
}

fn after_reports(transfer_set: ObjectName) -> Vec<Command> {
    vec![
        Command::SelectOperate {
            device: icc1("Brk1_Cmd"),
            value: ControlValue::Command(Cmd::On),
        },
        Command::StopTransferSet { transfer_set },
        Command::DeleteDataSet {
            name: icc1("DS_Rec"),
        },
    ]
}

/// How long the transfer set runs: two integrity periods and a half.
const REPORTS_FOR: Duration = Duration::from_millis(2500);

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("freetase2-{}-{name}", std::process::id()))
}

/// Replay a server log rebuilt from its header, and a client log; check both did real work.
fn replay_both(server_log: &[u8], client_log: &[u8], driver: &str) -> (ReplayStats, ReplayStats) {
    let header = Reader::new(server_log).unwrap().header().clone();
    assert_eq!(header.role, Role::Server);
    assert_eq!(header.setup_kind, SERVE_SETUP_KIND);
    assert!(header.producer.contains(driver), "{}", header.producer);
    let mut m = server_from_header(&header).unwrap();
    let server = record::replay(&mut m.endpoint, server_log).unwrap();
    assert_eq!(server.connections, 1, "{server:?}");
    assert!(server.output_bytes > 500, "{server:?}");
    assert!(server.span >= REPORTS_FOR, "{server:?}");
    // The field device's answer is in the log as the application's call.
    let answered = Reader::new(server_log).unwrap().any(|e| {
        matches!(
            e.unwrap().event,
            Event::Server(record::ServerInput::AnswerOperate { result: Ok(()), .. })
        )
    });
    assert!(answered, "no recorded answer_operate");
    let client = record::replay_session(client_log).unwrap();
    assert!(
        client.input_bytes >= server.output_bytes - 64,
        "{client:?} {server:?}"
    );
    assert!(client.output_bytes > 300, "{client:?}");
    (server, client)
}

#[test]
fn a_conversation_recorded_under_mio_replays_on_the_core() {
    use tase2_mio::{MioServer, MioTase2Client};

    let (m, start) = default_model();
    let model::Model {
        endpoint,
        field_devices,
        ..
    } = m;
    let mut server = MioServer::with_endpoint("127.0.0.1:0".parse().unwrap(), endpoint).unwrap();
    server
        .record(
            start,
            SERVE_SETUP_KIND,
            config::DEFAULT.as_bytes().to_vec(),
            "driver_recording test (mio)",
            Box::new(Vec::<u8>::new()),
        )
        .unwrap();
    let addr = server.local_addr().unwrap();
    let serving = std::thread::spawn(move || loop {
        server.run_once(Some(Duration::from_millis(50))).unwrap();
        let mut closed = false;
        while let Some(e) = server.poll_event() {
            match e {
                ServerEvent::Extension(Tase2Event::OperateRequested {
                    op, device, value, ..
                }) => {
                    field_devices.operate(
                        server.endpoint_mut(),
                        std_clock::now(),
                        op,
                        device,
                        value,
                    );
                }
                ServerEvent::Closed { .. } => closed = true,
                _ => {}
            }
        }
        server.flush().unwrap();
        if closed {
            return server.endpoint().recording().unwrap().to_vec();
        }
    });

    let mut c = MioTase2Client::connect_recording(
        addr,
        association(),
        Default::default(),
        Box::new(Vec::<u8>::new()),
        "driver_recording test (mio)",
    )
    .unwrap();
    let mut ts = None;
    for cmd in before_reports() {
        if let Outcome::TransferSet(name) = c.run(cmd).unwrap() {
            ts = Some(name);
        }
    }
    let end = std::time::Instant::now() + REPORTS_FOR;
    let mut reports = 0;
    while let Some(left) = end.checked_duration_since(std::time::Instant::now()) {
        if c.next_report(left).unwrap().is_some() {
            reports += 1;
        }
    }
    assert!(reports >= 2, "reports: {reports}");
    for cmd in after_reports(ts.unwrap()) {
        c.run(cmd).unwrap();
    }
    c.conclude().unwrap();
    let client_log = c.session().recording().unwrap().to_vec();
    let server_log = serving.join().unwrap();
    replay_both(&server_log, &client_log, "mio");
}

#[test]
fn a_conversation_recorded_under_tokio_replays_on_the_core() {
    use tase2_tokio::tase2::{Tase2Client, Tase2Options};
    use tase2_tokio::{RecordFile, Server};

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (server_path, client_path) = (temp("tokio-server.rec"), temp("tokio-client.rec"));
    rt.block_on(async {
        let (m, start) = default_model();
        let model::Model {
            endpoint,
            field_devices,
            ..
        } = m;
        let mut server = Server::with_endpoint("127.0.0.1:0", endpoint)
            .await
            .unwrap();
        server
            .record(
                start,
                SERVE_SETUP_KIND,
                config::DEFAULT.as_bytes().to_vec(),
                "driver_recording test (tokio)",
                tase2_tokio::record_file(&server_path).unwrap(),
            )
            .unwrap();
        server.on_event(move |ep, now, ev| {
            if let ServerEvent::Extension(Tase2Event::OperateRequested {
                op, device, value, ..
            }) = ev
            {
                field_devices.operate(ep, now, *op, *device, *value);
            }
        });
        let addr = server.local_addr().unwrap();
        let running = tokio::spawn(server.run());

        let options = Tase2Options {
            record: Some(RecordFile::new(&client_path).producer("driver_recording test (tokio)")),
            ..Tase2Options::default()
        };
        let mut c = Tase2Client::connect_with(addr, association(), options)
            .await
            .unwrap();
        let mut ts = None;
        for cmd in before_reports() {
            if let Outcome::TransferSet(name) = c.command(cmd).await.unwrap() {
                ts = Some(name);
            }
        }
        let mut reports = 0;
        let _ = tokio::time::timeout(REPORTS_FOR, async {
            while c.next_report().await.is_some() {
                reports += 1;
            }
        })
        .await;
        assert!(reports >= 2, "reports: {reports}");
        for cmd in after_reports(ts.unwrap()) {
            c.command(cmd).await.unwrap();
        }
        c.conclude().await.unwrap();
        // Let the server see the release, then stop it: dropping it flushes its recording.
        tokio::time::sleep(Duration::from_millis(200)).await;
        running.abort();
        let _ = running.await;
    });
    // The client's driver task ended with the association; the runtime is gone: both files are
    // complete.
    drop(rt);
    let server_log = std::fs::read(&server_path).unwrap();
    let client_log = std::fs::read(&client_path).unwrap();
    let _ = std::fs::remove_file(&server_path);
    let _ = std::fs::remove_file(&client_path);
    replay_both(&server_log, &client_log, "tokio");
}
