//! Failover over TCP (issue 13): two `tase2 serve` processes on the default model, a primary and
//! a backup. Two clients watch points on the primary: the library's `FailoverClient` (in this
//! process, so every event can be checked) and `tase2 watch --backup --fail-back` (a process,
//! as an operator would run it). The primary is killed: both are on the backup and reports flow
//! again; the gap from the detected loss to the first report there is measured and printed. The
//! primary comes back: both fail back, and the backup is left with no data set or transfer set
//! of theirs (checked by a third client reading the backup's data sets and every transfer set's
//! Status). At the end nothing is left on the primary either.
//!
//! The same under mio: the blocking `MioFailoverClient` (the mio driver of the same core
//! `Failover`) watches the primary, rides through its death on the backup, fails back when it
//! returns, leaves nothing behind, and its recording of the whole link replays on the core.
//!
//! Dual role: two `tase2 serve --peer` processes, each serving its model and watching the other's
//! points over an association of its own, as bilateral ICCP links run; one restarts and both
//! links come back.
//!
//! Wall-clock bounds are generous (shared CI machines); the figure printed is the one to read.

#![cfg(unix)]

mod common;

use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

use common::{free_port, lines, serve, serve_with, tase2_bin, wait_line, Proc};

use tase2_core::assoc::AssociationConfig;
use tase2_core::mms::ObjectName;
use tase2_core::tase2::client::{
    Command, EndpointSpec, Error, FailoverConfig, FailoverEvent, Keepalive, LossCause, Outcome,
    SessionEvent,
};
use tase2_core::tase2::{DsConditions, DsTransferSetValue};
use tase2_mio::MioFailoverClient;
use tase2_tokio::tase2::{report_variables, Tase2Client, Tase2Options};
use tase2_tokio::FailoverClient;

fn association() -> AssociationConfig {
    AssociationConfig::with_ap_titles(
        ("1.1.1.999".parse().unwrap(), 12),
        ("1.1.1.998".parse().unwrap(), 12),
    )
}

fn icc1(item: &str) -> ObjectName {
    ObjectName::domain("ICC1", item)
}

/// The watch both drivers' tests set up: data set `name` of the report variables and three
/// grid points, and a DS transfer set with integrity and RBE on it: (the data set, the command
/// that defines it, the command that reserves and starts the transfer set).
fn grid_watch(name: &str) -> (ObjectName, Command, Command) {
    let ds = icc1(name);
    let mut members = report_variables("ICC1").to_vec();
    members.extend(["Gen1_MW", "Gen2_MW", "Freq_Hz"].map(icc1));
    let define = Command::DefineDataSet {
        name: ds.clone(),
        members,
    };
    let start = Command::ReserveAndStart {
        domain: "ICC1".into(),
        value: DsTransferSetValue {
            data_set: ds.clone(),
            integrity_check: 30,
            conditions: DsConditions::INTEGRITY | DsConditions::OBJECT_CHANGE,
            rbe: true,
            ..Default::default()
        },
    };
    (ds, define, start)
}

/// What another client sees on `addr`: the data sets of ICC1 and the transfer sets running or held
/// by another association.
async fn leftovers(addr: &str) -> (Vec<String>, Vec<String>) {
    let options = Tase2Options {
        read_version: false,
        ..Tase2Options::default()
    };
    let c = Tase2Client::connect_with(addr, association(), options)
        .await
        .unwrap();
    let mut lists = c.data_sets(Some("ICC1")).await.unwrap();
    lists.retain(|l| l != "DS_Grid" && l != "DS_Predefined");
    let mut running = Vec::new();
    for n in 1..=8 {
        let ts = icc1(&format!("DSTransfer_Set_{n}"));
        // A transfer set held by another association is not ours to read: object-access-denied.
        match c.read_transfer_set(&ts).await {
            Ok(v) if !v.status => {}
            Ok(_) | Err(tase2_tokio::tase2::Error::Tase2(Error::Access(_))) => {
                running.push(ts.item().to_string())
            }
            Err(e) => panic!("{e}"),
        }
    }
    c.conclude().await.unwrap();
    (lists, running)
}

/// The next event `f` selects within `limit` (others are dropped, reports counted).
async fn until(
    c: &mut FailoverClient,
    limit: Duration,
    mut f: impl FnMut(&FailoverEvent) -> bool,
) -> FailoverEvent {
    let end = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(end, c.next_event()).await {
            Ok(Some(e)) if f(&e) => return e,
            Ok(Some(_)) => {}
            Ok(None) => panic!("the client ended"),
            Err(_) => panic!("no such event within {limit:?}"),
        }
    }
}

/// The loss of the primary when its process died: its transport closed.
fn assert_primary_closed(lost: &FailoverEvent) {
    assert!(
        matches!(
            lost,
            FailoverEvent::Lost {
                endpoint: 0,
                cause: LossCause::Closed(_)
            }
        ),
        "{lost:?}"
    );
}

fn is_report(e: &FailoverEvent) -> bool {
    matches!(e, FailoverEvent::Session(SessionEvent::Report(_)))
}

#[test]
fn a_watch_rides_through_the_primarys_death_and_fails_back_leaving_nothing_behind() {
    let bin = tase2_bin();
    let (p, b) = (free_port(), free_port());
    let (primary, backup) = (format!("127.0.0.1:{p}"), format!("127.0.0.1:{b}"));
    let mut primary_proc = Some(serve(&bin, &primary));
    let _backup_proc = serve(&bin, &backup);

    // The operator's watch, a process.
    let mut watch = Proc(
        Process::new(&bin)
            .args([
                "watch",
                &primary,
                "--backup",
                &backup,
                "--fail-back",
                "1",
                "--points",
                "Gen1_MW,Freq_Hz,Brk1",
                "--data-set",
                "DS_Cli",
                "--no-info",
                "--duration",
                "40",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let watch_out = lines(&mut watch.0);
    let mut seen = Vec::new();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut config = FailoverConfig::new(vec![
            EndpointSpec::new(primary.as_str(), association()),
            EndpointSpec::new(backup.as_str(), association()),
        ]);
        config.fail_back = Some(Duration::from_secs(1));
        config.keepalive = Some(Keepalive {
            interval: Duration::from_secs(2),
            timeout: Duration::from_secs(2),
        });
        let mut c = FailoverClient::start(config);
        c.command(Command::Version).await.unwrap();
        let (ds, define, start) = grid_watch("DS_Lib");
        c.command(define).await.unwrap();
        let Outcome::TransferSet(ts) = c.command(start).await.unwrap() else {
            panic!()
        };
        c.command(Command::InfoMessages { enable: true })
            .await
            .unwrap();
        // The default model's grid points change every second.
        until(&mut c, Duration::from_secs(10), is_report).await;
        wait_line(&watch_out, Duration::from_secs(20), "change (rbe", &mut seen);

        // The primary dies.
        drop(primary_proc.take());
        let lost = until(&mut c, Duration::from_secs(10), |e| {
            matches!(e, FailoverEvent::Lost { .. })
        })
        .await;
        let detected = Instant::now();
        assert_primary_closed(&lost);
        // Until restoration is complete: the first values (refresh or report) and the refresh.
        let (mut first, mut refreshed) = (None, None);
        let restored = until(&mut c, Duration::from_secs(10), |e| {
            if is_report(e) || matches!(e, FailoverEvent::Refreshed(_)) {
                first.get_or_insert_with(|| detected.elapsed());
            }
            if let FailoverEvent::Refreshed(r) = e {
                refreshed = Some(r.values.len());
            }
            matches!(e, FailoverEvent::Restored { .. })
        })
        .await;
        let gap = first.expect("values before the end of restoration");
        assert_eq!(refreshed, Some(3), "every point of the data set read again");
        let FailoverEvent::Restored {
            endpoint,
            gap: restore_gap,
            failed,
            transfer_sets,
            ..
        } = restored
        else {
            unreachable!()
        };
        assert_eq!(endpoint, 1);
        assert!(failed.is_empty(), "{failed:?}");
        assert_eq!(transfer_sets[0].0, ts);
        // Change reports flow on the backup.
        until(&mut c, Duration::from_secs(10), is_report).await;
        println!(
            "failover: first values on the backup {:.1} ms after the loss was detected \
             (restoration {:.1} ms)",
            gap.as_secs_f64() * 1e3,
            restore_gap.as_secs_f64() * 1e3
        );
        assert!(gap < Duration::from_secs(10), "{gap:?}");
        let again = wait_line(&watch_out, Duration::from_secs(20), "REPORTS AGAIN", &mut seen);
        println!("tase2 watch: {again}");
        wait_line(&watch_out, Duration::from_secs(10), "RESTORED on", &mut seen);

        // The primary returns: both fail back, and leave nothing on the backup.
        primary_proc = Some(serve(&bin, &primary));
        let fb = until(&mut c, Duration::from_secs(10), |e| {
            matches!(e, FailoverEvent::FailingBack { .. })
        })
        .await;
        assert_eq!(fb, FailoverEvent::FailingBack { from: 1, to: 0 });
        let r = until(&mut c, Duration::from_secs(10), |e| {
            matches!(e, FailoverEvent::Restored { .. })
        })
        .await;
        assert!(
            matches!(r, FailoverEvent::Restored { endpoint: 0, ref failed, .. } if failed.is_empty()),
            "{r:?}"
        );
        until(&mut c, Duration::from_secs(10), is_report).await;
        wait_line(&watch_out, Duration::from_secs(20), "FAILING BACK", &mut seen);
        wait_line(&watch_out, Duration::from_secs(10), "RESTORED on", &mut seen);
        let (lists, running) = leftovers(&backup).await;
        assert!(lists.is_empty(), "data sets left on the backup: {lists:?}");
        assert!(running.is_empty(), "transfer sets left on the backup: {running:?}");
        let (lists, running) = leftovers(&primary).await;
        let mut lists = lists;
        lists.sort();
        assert_eq!(lists, ["DS_Cli", "DS_Lib"]);
        assert_eq!(running.len(), 2);

        // The application cleans up by the names it knows; nothing is left on the primary.
        c.command(Command::StopTransferSet { transfer_set: ts })
            .await
            .unwrap();
        c.command(Command::DeleteDataSet { name: ds }).await.unwrap();
        c.conclude().await;
        // The watch stops as on Ctrl-C: it stops its transfer set and deletes its data set.
        // SAFETY: a signal to our own child process.
        unsafe { libc::kill(watch.0.id() as i32, libc::SIGINT) };
        wait_line(&watch_out, Duration::from_secs(20), "stopped ICC1/", &mut seen);
        assert!(watch.0.wait().unwrap().success());
        let (lists, running) = leftovers(&primary).await;
        assert!(running.is_empty(), "{running:?}");
        assert!(lists.is_empty(), "{lists:?}");
    });
}

#[test]
fn two_servers_peer_with_each_other_in_both_directions_and_ride_through_a_restart() {
    let bin = tase2_bin();
    let (pa, pb) = (free_port(), free_port());
    let (a, b) = (format!("127.0.0.1:{pa}"), format!("127.0.0.1:{pb}"));
    let mut seen_a = Vec::new();
    let mut seen_b = Vec::new();
    // A starts first: its partner is not there yet, its link waits for it.
    let mut pa_proc = serve_with(&bin, &a, &["--peer", &b], Stdio::piped());
    let out_a = lines(&mut pa_proc.0);
    let mut pb_proc = serve_with(&bin, &b, &["--peer", &a], Stdio::piped());
    let out_b = lines(&mut pb_proc.0);
    let limit = Duration::from_secs(30);
    for (out, seen) in [(&out_a, &mut seen_a), (&out_b, &mut seen_b)] {
        // The partner's client reached our server, and our client gets the partner's reports
        // (in either order).
        let mut client_in = false;
        let mut reports = false;
        while !(client_in && reports) {
            let l = wait_line(out, limit, "", seen);
            client_in |= l.contains("bilateral table BLT_ICC1") && l.contains("1.1.1.999/12");
            reports |= l.contains("change (rbe") || l.contains("integrity (");
        }
    }
    // B dies and comes back: A's link is lost, then restored on B; B's own link comes up again.
    let _ = pb_proc.0.kill();
    let _ = pb_proc.0.wait();
    wait_line(&out_a, limit, &format!("LOST {b}"), &mut seen_a);
    let mut pb_proc = serve_with(&bin, &b, &["--peer", &a], Stdio::piped());
    let out_b = lines(&mut pb_proc.0);
    let mut seen_b = Vec::new();
    let restored = wait_line(&out_a, limit, &format!("RESTORED on {b}"), &mut seen_a);
    println!("dual role: {restored}");
    // A's server took back the transfer set B's dead client held (B never stopped it).
    assert!(
        seen_a
            .iter()
            .any(|l| l.contains(": stopped ICC1/DSTransfer_Set_")),
        "{seen_a:#?}"
    );
    wait_line(&out_a, limit, "change (rbe", &mut seen_a);
    wait_line(&out_b, limit, "change (rbe", &mut seen_b);
    // Ctrl-C on A: its client cleans up at B before A stops.
    // SAFETY: a signal to our own child process.
    unsafe { libc::kill(pa_proc.0.id() as i32, libc::SIGINT) };
    wait_line(&out_b, limit, "deleted 1 data set(s)", &mut seen_b);
    assert!(pa_proc.0.wait().unwrap().success(), "{seen_a:#?}");
    // SAFETY: as above.
    unsafe { libc::kill(pb_proc.0.id() as i32, libc::SIGINT) };
    let _ = pb_proc.0.wait();
}

/// The next event `f` selects within `limit`, from the mio client (others dropped).
fn until_mio(
    c: &mut MioFailoverClient,
    limit: Duration,
    mut f: impl FnMut(&FailoverEvent) -> bool,
) -> FailoverEvent {
    let end = Instant::now() + limit;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "no such event within {limit:?}");
        match c.next_event(left).unwrap() {
            Some(e) if f(&e) => return e,
            Some(_) => {}
            None if c.failover().is_closed() => panic!("the client ended"),
            None => {}
        }
    }
}

/// The Gen1_MW and Freq_Hz values of a report (the model's points that change every second).
fn grid_values(e: &FailoverEvent) -> Vec<String> {
    match e {
        FailoverEvent::Session(SessionEvent::Report(r)) | FailoverEvent::Refreshed(r) => r
            .points()
            .filter(|(n, _)| matches!(n.item(), "Gen1_MW" | "Freq_Hz"))
            .map(|(n, v)| format!("{}={v:?}", n.item()))
            .collect(),
        _ => Vec::new(),
    }
}

#[test]
fn under_mio_a_failover_client_rides_through_the_primarys_death_and_fails_back() {
    let bin = tase2_bin();
    let (p, b) = (free_port(), free_port());
    let (primary, backup) = (format!("127.0.0.1:{p}"), format!("127.0.0.1:{b}"));
    let primary_proc = serve(&bin, &primary);
    let _backup_proc = serve(&bin, &backup);
    let log = std::env::temp_dir().join(format!("tase2-mio-failover-{}.t2r", std::process::id()));

    let mut config = FailoverConfig::new(vec![
        EndpointSpec::new(primary.as_str(), association()),
        EndpointSpec::new(backup.as_str(), association()),
    ]);
    config.fail_back = Some(Duration::from_secs(1));
    config.keepalive = Some(Keepalive {
        interval: Duration::from_secs(2),
        timeout: Duration::from_secs(2),
    });
    let mut c = MioFailoverClient::start(config).unwrap();
    c.record(tase2_mio::record_file(&log).unwrap(), "mio failover test")
        .unwrap();
    c.run(Command::Version).unwrap();
    let (ds, define, start) = grid_watch("DS_Mio");
    c.run(define).unwrap();
    let Outcome::TransferSet(ts) = c.run(start).unwrap() else {
        panic!()
    };
    let before = until_mio(&mut c, Duration::from_secs(10), is_report);
    assert!(!grid_values(&before).is_empty(), "{before:?}");
    assert!(c.failover().is_up());
    assert_eq!(c.failover().endpoint(), 0);

    // The primary dies.
    drop(primary_proc);
    let lost = until_mio(&mut c, Duration::from_secs(10), |e| {
        matches!(e, FailoverEvent::Lost { .. })
    });
    let detected = Instant::now();
    assert_primary_closed(&lost);
    let (mut first, mut refreshed) = (None, Vec::new());
    let restored = until_mio(&mut c, Duration::from_secs(10), |e| {
        if is_report(e) || matches!(e, FailoverEvent::Refreshed(_)) {
            first.get_or_insert_with(|| detected.elapsed());
        }
        if matches!(e, FailoverEvent::Refreshed(_)) {
            refreshed = grid_values(e);
        }
        matches!(e, FailoverEvent::Restored { .. })
    });
    let gap = first.expect("values before the end of restoration");
    assert_eq!(
        refreshed.len(),
        2,
        "Gen1_MW and Freq_Hz read again: {refreshed:?}"
    );
    let FailoverEvent::Restored {
        endpoint,
        gap: restore_gap,
        data_sets,
        transfer_sets,
        failed,
    } = restored
    else {
        unreachable!()
    };
    assert_eq!(endpoint, 1);
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(data_sets, std::slice::from_ref(&ds));
    assert_eq!(transfer_sets[0].0, ts);
    assert_eq!(c.failover().endpoint(), 1);
    // Change reports with values flow on the backup, under the transfer set it has there.
    let on_backup = until_mio(&mut c, Duration::from_secs(10), |e| {
        !grid_values(e).is_empty() && is_report(e)
    });
    let FailoverEvent::Session(SessionEvent::Report(r)) = &on_backup else {
        unreachable!()
    };
    assert_eq!(r.transfer_set.as_ref(), Some(&transfer_sets[0].1));
    println!(
        "mio failover: first values on the backup {:.1} ms after the loss was detected \
         (restoration {:.1} ms)",
        gap.as_secs_f64() * 1e3,
        restore_gap.as_secs_f64() * 1e3
    );
    assert!(gap < Duration::from_secs(10), "{gap:?}");

    // The primary returns: the client fails back and leaves nothing on the backup.
    let _primary_back = serve(&bin, &primary);
    let fb = until_mio(&mut c, Duration::from_secs(10), |e| {
        matches!(e, FailoverEvent::FailingBack { .. })
    });
    assert_eq!(fb, FailoverEvent::FailingBack { from: 1, to: 0 });
    let r = until_mio(&mut c, Duration::from_secs(10), |e| {
        matches!(e, FailoverEvent::Restored { .. })
    });
    assert!(
        matches!(r, FailoverEvent::Restored { endpoint: 0, ref failed, .. } if failed.is_empty()),
        "{r:?}"
    );
    until_mio(&mut c, Duration::from_secs(10), |e| {
        !grid_values(e).is_empty() && is_report(e)
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (lists, running) = rt.block_on(leftovers(&backup));
    assert!(lists.is_empty(), "data sets left on the backup: {lists:?}");
    assert!(
        running.is_empty(),
        "transfer sets left on the backup: {running:?}"
    );
    let (lists, running) = rt.block_on(leftovers(&primary));
    assert_eq!(lists, ["DS_Mio"]);
    assert_eq!(running.len(), 1);

    // The application cleans up by the names it knows; nothing is left on the primary.
    c.run(Command::StopTransferSet { transfer_set: ts })
        .unwrap();
    c.run(Command::DeleteDataSet { name: ds }).unwrap();
    c.conclude().unwrap();
    let closed = until_mio(&mut c, Duration::from_secs(5), |e| {
        matches!(e, FailoverEvent::Session(SessionEvent::Closed(_)))
    });
    assert_eq!(closed, FailoverEvent::Session(SessionEvent::Closed(None)));
    drop(c);
    let (lists, running) = rt.block_on(leftovers(&primary));
    assert!(running.is_empty(), "{running:?}");
    assert!(lists.is_empty(), "{lists:?}");

    // The recording holds the three associations and replays octet for octet.
    let data = std::fs::read(&log).unwrap();
    let _ = std::fs::remove_file(&log);
    let stats = tase2_core::record::replay_failover(&data).unwrap();
    assert_eq!(stats.connections, 3, "{stats:?}");
    println!(
        "mio failover recording: {} octets, {} entries, replayed",
        data.len(),
        stats.entries
    );
}

/// A critical variant of [`grid_watch`]'s transfer set.
fn critical(start: Command) -> Command {
    match start {
        Command::ReserveAndStart { domain, value } => Command::ReserveAndStart {
            domain,
            value: DsTransferSetValue {
                critical: true,
                ..value
            },
        },
        other => other,
    }
}

/// The transfer set and time stamp of a report not yet acknowledged.
fn unacknowledged(e: &FailoverEvent) -> (ObjectName, i32) {
    match e {
        FailoverEvent::Session(SessionEvent::Report(r)) => {
            assert!(!r.acknowledged, "auto-ack is off: {r:?}");
            (r.transfer_set.clone().unwrap(), r.timestamp.unwrap())
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn with_auto_ack_off_both_drivers_acknowledge_critical_reports_by_hand() {
    let bin = tase2_bin();
    let addr = format!("127.0.0.1:{}", free_port());
    let mut server = serve_with(&bin, &addr, &[], Stdio::piped());
    let out = lines(&mut server.0);
    let mut seen = Vec::new();
    let mut config = FailoverConfig::new(vec![EndpointSpec::new(addr.as_str(), association())]);
    config.session.auto_ack = false;

    // mio: a report comes unacknowledged; ack and nack reach the server.
    let mut c = MioFailoverClient::start(config.clone()).unwrap();
    let (_, define, start) = grid_watch("DS_AckMio");
    c.run(define).unwrap();
    let Outcome::TransferSet(ts) = c.run(critical(start)).unwrap() else {
        panic!()
    };
    let (name, stamp) = unacknowledged(&until_mio(&mut c, Duration::from_secs(10), is_report));
    assert_eq!(name, ts);
    c.ack(&name, stamp).unwrap();
    wait_line(
        &out,
        Duration::from_secs(10),
        &format!("ACK of ICC1/{} report {stamp}", name.item()),
        &mut seen,
    );
    let (name, _) = unacknowledged(&until_mio(&mut c, Duration::from_secs(10), is_report));
    c.nack(&name).unwrap();
    wait_line(
        &out,
        Duration::from_secs(10),
        &format!("NACK of ICC1/{}", name.item()),
        &mut seen,
    );
    // Back on: the session acknowledges by itself.
    c.set_auto_ack(true);
    let auto = until_mio(&mut c, Duration::from_secs(10), is_report);
    assert!(
        matches!(&auto, FailoverEvent::Session(SessionEvent::Report(r)) if r.acknowledged),
        "{auto:?}"
    );
    c.run(Command::StopTransferSet { transfer_set: ts })
        .unwrap();
    c.conclude().unwrap();

    // tokio: the same through the task's handle.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut c = FailoverClient::start(config);
        let (_, define, start) = grid_watch("DS_AckTokio");
        c.command(define).await.unwrap();
        let Outcome::TransferSet(ts) = c.command(critical(start)).await.unwrap() else {
            panic!()
        };
        let (name, stamp) =
            unacknowledged(&until(&mut c, Duration::from_secs(10), is_report).await);
        c.ack(&name, stamp).await.unwrap();
        wait_line(
            &out,
            Duration::from_secs(10),
            &format!("ACK of ICC1/{} report {stamp}", name.item()),
            &mut seen,
        );
        let (name, _) = unacknowledged(&until(&mut c, Duration::from_secs(10), is_report).await);
        c.nack(&name).await.unwrap();
        wait_line(
            &out,
            Duration::from_secs(10),
            &format!("NACK of ICC1/{}", name.item()),
            &mut seen,
        );
        c.set_auto_ack(true).await.unwrap();
        let auto = until(&mut c, Duration::from_secs(10), is_report).await;
        assert!(
            matches!(&auto, FailoverEvent::Session(SessionEvent::Report(r)) if r.acknowledged),
            "{auto:?}"
        );
        c.command(Command::StopTransferSet { transfer_set: ts })
            .await
            .unwrap();
        c.conclude().await;
    });
}
