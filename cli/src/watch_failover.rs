//! `tase2 watch ADDR --backup ADDR2 [--fail-back]`: the watch over the core's reconnect and
//! failover policy ([`tase2_core::tase2::client::Failover`] through
//! [`tase2_tokio::FailoverClient`]). It sets up as the plain watch does; when the association is
//! lost the link reconnects (primary, then backups, with backoff), restores the data set, the
//! transfer set and information messages, and this prints what happened and the gap from the
//! loss to the first report on the new association.

use std::time::{Duration, Instant};

use tase2_core::assoc::AssociationConfig;
use tase2_core::mms::ObjectName;
use tase2_core::tase2::client::{
    Command, EndpointSpec, FailoverConfig, FailoverEvent, Keepalive, LossCause, Outcome,
    SessionEvent,
};
use tase2_tokio::FailoverClient;

use crate::show;
use crate::watch::{
    info_line, name_width, now_of_day, point_name, print_report, until_stopped, Rates, WatchArgs,
};

fn unexpected(what: &str, o: Outcome) -> String {
    format!("{what}: unexpected answer {o:?}")
}

/// Watch through a failover link to `primary` and the backups of `a`; cleans up what it set up
/// (on the server it is on at the end) on Ctrl-C or after `--duration`. With `patient`, the
/// set-up waits for a server to come up however long it takes (the dual role's partner);
/// otherwise a command waits at most the default 30 s.
pub async fn watch(
    primary: &str,
    association: AssociationConfig,
    a: &WatchArgs,
    patient: bool,
    record: Option<tase2_tokio::RecordFile>,
) -> Result<(), String> {
    let mut addrs = vec![primary.to_string()];
    addrs.extend(a.backup.iter().cloned());
    let mut config = FailoverConfig::new(
        addrs
            .iter()
            .map(|addr| EndpointSpec::new(addr.as_str(), association.clone()))
            .collect(),
    );
    config.fail_back = a.fail_back.map(|s| Duration::from_secs_f64(s.max(0.1)));
    let k = Duration::from_secs_f64(a.keepalive.max(0.1));
    config.keepalive = Some(Keepalive {
        interval: k,
        timeout: k,
    });
    config.seed = u64::from(std::process::id());
    if patient {
        config.queue_timeout = Duration::from_secs(365 * 24 * 3600);
    }
    let path = record.as_ref().map(|r| r.path.display().to_string());
    let options = tase2_tokio::FailoverOptions {
        record,
        ..Default::default()
    };
    let mut c = FailoverClient::start_with(config, options)
        .map_err(|e| format!("--record {}: {e}", path.unwrap_or_default()))?;
    let result = run(&mut c, a, &addrs).await;
    c.conclude().await;
    result
}

async fn run(c: &mut FailoverClient, a: &WatchArgs, addrs: &[String]) -> Result<(), String> {
    let e = |what: &'static str| move |e: tase2_core::tase2::client::Error| format!("{what}: {e}");
    // The server's edition decides the transfer set layout (remembered: read again after a
    // failover).
    c.command(Command::Version)
        .await
        .map_err(e("not a TASE.2 server?"))?;
    let domain = match &a.domain {
        Some(d) => d.clone(),
        None => match c.command(Command::Domains).await.map_err(e("domains"))? {
            Outcome::Names(n) => n
                .into_iter()
                .next()
                .ok_or("the server shows us no domain")?,
            o => return Err(unexpected("domains", o)),
        },
    };
    let points: Vec<ObjectName> = if a.points.iter().any(|p| p == "all") {
        match c
            .command(Command::Variables {
                domain: Some(domain.clone()),
            })
            .await
            .map_err(e("variables"))?
        {
            Outcome::Variables(v) => v
                .into_iter()
                .filter(|v| v.point_type.is_some())
                .map(|v| v.name)
                .collect(),
            o => return Err(unexpected("variables", o)),
        }
    } else {
        let names: Vec<ObjectName> = a.points.iter().map(|p| point_name(&domain, p)).collect();
        match c
            .command(Command::LearnTypes {
                names: names.clone(),
            })
            .await
            .map_err(e("types"))?
        {
            Outcome::PointTypes(t) => {
                if let Some((n, _)) = names.iter().zip(&t).find(|(_, t)| t.is_none()) {
                    return Err(format!("{}: not a point (or not visible)", show::name(n)));
                }
            }
            o => return Err(unexpected("types", o)),
        }
        names
    };
    if points.is_empty() {
        return Err(format!("no points to watch in {domain}"));
    }
    let (ds, members) = a.data_set(&domain, &points);
    c.command(Command::DefineDataSet {
        name: ds.clone(),
        members,
    })
    .await
    .map_err(|e| format!("define data set {}: {e}", show::name(&ds)))?;
    let result = watch_reports(c, a, addrs, &domain, &ds, &points).await;
    let deleted = cleanup(c, Command::DeleteDataSet { name: ds.clone() }).await;
    result?;
    deleted.map_err(|e| format!("delete data set {}: {e}", show::name(&ds)))?;
    Ok(())
}

/// Most time a clean-up command may wait: with no server up it would wait for one, and the
/// operator who pressed Ctrl-C wants to leave (the server reclaims the transfer set anyway).
const CLEANUP_TIMEOUT: Duration = Duration::from_secs(5);

async fn cleanup(c: &FailoverClient, command: Command) -> Result<Outcome, String> {
    match tokio::time::timeout(CLEANUP_TIMEOUT, c.command(command)).await {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(_) => Err(format!(
            "no server up within {} s",
            CLEANUP_TIMEOUT.as_secs()
        )),
    }
}

async fn watch_reports(
    c: &mut FailoverClient,
    a: &WatchArgs,
    addrs: &[String],
    domain: &str,
    ds: &ObjectName,
    points: &[ObjectName],
) -> Result<(), String> {
    let value = a.transfer_set_value(ds);
    let conditions = value.conditions;
    let ts = match c
        .command(Command::ReserveTransferSet {
            domain: domain.to_string(),
        })
        .await
        .map_err(|e| format!("reserve a transfer set of {domain}: {e}"))?
    {
        Outcome::TransferSet(ts) => ts,
        o => return Err(unexpected("reserve", o)),
    };
    println!(
        "watching {} points of {domain} through {} (data set {}; {conditions}; {}{}); {}{}",
        points.len(),
        show::name(&ts),
        ds.item(),
        if value.rbe { "RBE" } else { "full reports" },
        if value.critical { ", critical" } else { "" },
        if addrs.len() > 1 {
            format!("failover to {}", addrs[1..].join(", "))
        } else {
            "reconnecting if lost".to_string()
        },
        if a.fail_back.is_some() {
            ", fail-back to the primary"
        } else {
            ""
        }
    );
    c.command(Command::StartTransferSet {
        transfer_set: ts.clone(),
        value,
    })
    .await
    .map_err(|e| format!("start {}: {e}", show::name(&ts)))?;
    if !a.no_info {
        match c.command(Command::InfoMessages { enable: true }).await {
            Ok(_) => println!("information messages enabled (IM_Transfer_Set)"),
            Err(e) => println!("information messages not enabled: {e}"),
        }
    }
    let width = name_width(points);
    let started = Instant::now();
    let stop = until_stopped(a.duration);
    tokio::pin!(stop);
    let mut rates = Rates::new(started, Duration::from_secs(10));
    let (mut reports, mut values, mut messages, mut failovers) = (0usize, 0usize, 0usize, 0usize);
    // When the last loss was detected, and on which endpoint the link is.
    let mut lost: Option<Instant> = None;
    let mut on = 0usize;
    let addr = |i: usize| addrs.get(i).map_or("?", String::as_str);
    loop {
        tokio::select! {
            ev = c.next_event() => {
                let Some(ev) = ev else { return Err("the link ended".into()) };
                let reported = matches!(
                    ev,
                    FailoverEvent::Session(SessionEvent::Report(_)) | FailoverEvent::Refreshed(_)
                );
                if reported {
                    if let Some(t) = lost.take() {
                        println!(
                            "{}  REPORTS AGAIN {:.3} s after the loss was detected (on {})",
                            now_of_day(),
                            t.elapsed().as_secs_f64(),
                            addr(on)
                        );
                    }
                }
                match ev {
                    FailoverEvent::Session(SessionEvent::Report(r)) => {
                        reports += 1;
                        values += r.values.len();
                        let rate = rates.note(Instant::now(), r.values.len());
                        print_report(&r, rate, width);
                    }
                    FailoverEvent::Session(SessionEvent::InfoMessage(m)) => {
                        messages += 1;
                        println!("{}", info_line(&m, &now_of_day()));
                    }
                    FailoverEvent::Refreshed(r) => {
                        println!("{}  REFRESH: every value read again after restoration", now_of_day());
                        let rate = rates.note(Instant::now(), r.values.len());
                        print_report(&r, rate, width);
                    }
                    FailoverEvent::Lost { endpoint, cause } => {
                        lost.get_or_insert_with(Instant::now);
                        let why = match cause {
                            LossCause::Closed(None) => "released by the server".to_string(),
                            LossCause::Closed(Some(e)) => e.to_string(),
                            LossCause::NoAnswer => "no answer to the keepalive read".into(),
                            LossCause::FailBack => "left to fail back".into(),
                        };
                        println!("{}  LOST {} ({why}); reconnecting", now_of_day(), addr(endpoint));
                    }
                    FailoverEvent::Connecting { endpoint, round } if round > 0 || lost.is_some() => {
                        println!("{}  connecting to {} (round {round})", now_of_day(), addr(endpoint));
                    }
                    FailoverEvent::AttemptFailed { endpoint, cause } => {
                        println!("{}  {} failed: {cause:?}", now_of_day(), addr(endpoint));
                    }
                    FailoverEvent::Waiting { round, delay } => {
                        println!(
                            "{}  every server failed (round {round}); next try in {:.3} s",
                            now_of_day(),
                            delay.as_secs_f64()
                        );
                    }
                    FailoverEvent::Up { endpoint } => on = endpoint,
                    FailoverEvent::Restored { endpoint, gap, data_sets, transfer_sets, failed } => {
                        failovers += 1;
                        let sets: Vec<String> = transfer_sets
                            .iter()
                            .map(|(old, new)| format!("{} -> {}", show::name(old), show::name(new)))
                            .collect();
                        println!(
                            "{}  RESTORED on {} in {:.3} s: {} data set(s), transfer set {}{}",
                            now_of_day(),
                            addr(endpoint),
                            gap.as_secs_f64(),
                            data_sets.len(),
                            sets.join(", "),
                            if failed.is_empty() {
                                String::new()
                            } else {
                                let f: Vec<String> = failed
                                    .iter()
                                    .map(|(n, e)| format!("{}: {e}", show::name(n)))
                                    .collect();
                                format!("; not restored: {}", f.join(", "))
                            }
                        );
                    }
                    FailoverEvent::FailingBack { from, to } => {
                        println!(
                            "{}  FAILING BACK from {} to {} (cleaning up on {})",
                            now_of_day(),
                            addr(from),
                            addr(to),
                            addr(from)
                        );
                    }
                    FailoverEvent::NotRemembered(n) => {
                        println!("{}: will not be restored after a loss", show::name(&n));
                    }
                    _ => {}
                }
            }
            () = &mut stop => break,
        }
    }
    cleanup(
        c,
        Command::StopTransferSet {
            transfer_set: ts.clone(),
        },
    )
    .await
    .map_err(|e| format!("stop {}: {e}", show::name(&ts)))?;
    println!(
        "stopped {}: {reports} reports, {values} values in {:.1} s, {failovers} failover(s){}",
        show::name(&ts),
        started.elapsed().as_secs_f64(),
        if a.no_info {
            String::new()
        } else {
            format!(", {messages} information messages")
        }
    );
    Ok(())
}
