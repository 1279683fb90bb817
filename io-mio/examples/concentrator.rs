//! A TASE.2 concentrator on one mio loop, one thread: a TASE.2 client session to an upstream
//! server starts a DS transfer set there, and every point value its reports carry is written into
//! the points of a local TASE.2 server, which serves them again (with the upstream's timestamps
//! and quality) to its own clients.
//!
//! ```text
//! # the upstream: the CLI's default model (domain ICC1 for client 1.1.1.999/12, simulated points)
//! cargo run -p tase2-cli -- serve --listen 127.0.0.1:10102
//! # the concentrator: upstream address, then where to listen (these are the defaults)
//! cargo run -p tase2-mio --example concentrator -- 127.0.0.1:10102 127.0.0.1:10103
//! # a client of the concentrator, watching the re-served points
//! cargo run -p tase2-cli -- watch 127.0.0.1:10103
//! ```
//!
//! Both sides use the AP-titles of the CLI's defaults: the concentrator calls the upstream as
//! 1.1.1.999 (AE 12) and is itself 1.1.1.998 (AE 12), serving domain ICC1 to client 1.1.1.999.
//! Its points are those of [`POINTS`]: the ones of the same name upstream are concentrated. The
//! data set it defines upstream is named after its process id (client-defined data sets outlive
//! the association). When the upstream association ends the program exits.

use std::error::Error;

use mio::{Events, Poll, Token};
use tase2_core::assoc::AssociationConfig;
use tase2_core::mms::ObjectName;
use tase2_core::server::{Endpoint, ServerConfig, ServerEvent};
use tase2_core::tase2::client::{Command, Outcome, Reported, SessionConfig, SessionEvent};
use tase2_core::tase2::server::{PointId, Tase2, Tase2Builder, Tase2Config};
use tase2_core::tase2::{
    BilateralTable, ClientMatch, DsConditions, DsTransferSetValue, Family, Form, PointType,
};
use tase2_mio::{clock, MioEndpoint, MioSession};

const UPSTREAM: Token = Token(0);
/// The local server takes this token and every one above.
const SERVER: Token = Token(1);
/// The local domain the points are served in.
const DOMAIN: &str = "ICC1";

const fn point(family: Family, form: Form) -> PointType {
    PointType::Indication(family, form)
}

/// The concentrated points: the named ones of ICC1 in the CLI's default model.
const POINTS: &[(&str, PointType)] = &[
    ("Gen1_MW", point(Family::Real, Form::QTimeTag)),
    ("Gen2_MW", point(Family::Real, Form::QTimeTag)),
    ("Line1_MW", point(Family::Real, Form::QTimeTag)),
    ("Line2_MW", point(Family::Real, Form::QTimeTag)),
    ("Load1_MW", point(Family::Real, Form::QTimeTag)),
    ("Freq_Hz", point(Family::Real, Form::Q)),
    ("Brk1", point(Family::State, Form::QTimeTag)),
    ("Brk2", point(Family::State, Form::QTimeTag)),
    ("Tap1", point(Family::Discrete, Form::QTimeTag)),
];

/// The local server: [`POINTS`] in ICC1 (zero until the first report), a data set of them, two
/// transfer sets, for client 1.1.1.999/12.
fn local_server() -> Result<Endpoint<Tase2>, Box<dyn Error>> {
    let mut b = Tase2Builder::new(Tase2Config {
        local_ap_title: Some("1.1.1.998".parse()?),
        ..Tase2Config::default()
    });
    b.domain(DOMAIN, 2).unwrap();
    for &(name, ptype) in POINTS {
        b.point(Some(DOMAIN), name, ptype, ptype.zero()).unwrap();
    }
    let mut members = vec![
        "Transfer_Set_Name",
        "Transfer_Set_Time_Stamp",
        "DSConditions_Detected",
    ];
    members.extend(POINTS.iter().map(|(name, _)| *name));
    b.data_set(Some(DOMAIN), "DS_Concentrated", &members)
        .unwrap();
    b.table(BilateralTable::new(
        "BLT_Concentrator",
        ClientMatch::ap_title(&[1, 1, 1, 999], 12),
        DOMAIN,
    ))
    .unwrap();
    Ok(b.build(ServerConfig::default())?)
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let upstream_addr = args
        .next()
        .unwrap_or_else(|| "127.0.0.1:10102".into())
        .parse()?;
    let listen = args
        .next()
        .unwrap_or_else(|| "127.0.0.1:10103".into())
        .parse()?;

    let mut server = MioEndpoint::with_endpoint(listen, local_server()?)?;
    let association =
        AssociationConfig::with_ap_titles(("1.1.1.999".parse()?, 12), ("1.1.1.998".parse()?, 12));
    let mut upstream = MioSession::connect(upstream_addr, association, SessionConfig::default())?;

    let mut poll = Poll::new()?;
    server.register(poll.registry(), SERVER)?;
    upstream.register(poll.registry(), UPSTREAM)?;
    println!(
        "serving on {}, upstream {upstream_addr}",
        server.local_addr()?
    );

    // The upstream's ICC domain first (it waits for the association); then, in `on_domains`, the
    // data set and the transfer set.
    let domains = upstream.command(Command::Domains);
    let mut events = Events::with_capacity(256);
    loop {
        let timeout = server.timeout().into_iter().chain(upstream.timeout()).min();
        poll.poll(&mut events, timeout)?;
        for event in &events {
            if event.token() == UPSTREAM {
                upstream.handle_ready(event);
            } else if server.owns(event.token()) {
                server.handle_ready(event)?;
            }
        }
        upstream.handle_timeout();
        server.handle_timeout()?;

        while let Some(event) = upstream.poll_event() {
            match event {
                SessionEvent::Established(_) => println!("upstream: associated"),
                SessionEvent::Done { op, result } if op == domains => match result {
                    Ok(Outcome::Names(names)) if !names.is_empty() => {
                        on_domains(&mut upstream, &names[0]);
                    }
                    other => return Err(format!("upstream: no ICC domain ({other:?})").into()),
                },
                SessionEvent::Done { result, .. } => match result {
                    Ok(Outcome::TransferSet(ts)) => println!("upstream: {ts} started"),
                    Ok(Outcome::Points(values)) => {
                        // The first values, before any report: the read of `on_domains`.
                        let updates: Vec<_> = POINTS
                            .iter()
                            .zip(values)
                            .filter_map(|((name, _), v)| Some((local(&server, name)?, v.ok()?)))
                            .collect();
                        let n = server.endpoint_mut().update_many(clock::now(), updates);
                        server.flush()?;
                        println!("upstream: read {n} points");
                    }
                    Ok(_) => {}
                    Err(e) => return Err(format!("upstream: {e}").into()),
                },
                SessionEvent::Report(report) => {
                    // Every typed value of a concentrated point, as it came (value, flags, time).
                    let updates: Vec<_> = report
                        .values
                        .iter()
                        .filter_map(|(name, v)| match v {
                            Reported::Point(ptype, value) => {
                                let id = local(&server, name.item())?;
                                let ours = server.endpoint().tase2().point_type(id)?;
                                (ours == *ptype).then_some((id, *value))
                            }
                            Reported::Other(_) => None,
                        })
                        .collect();
                    let n = server.endpoint_mut().update_many(clock::now(), updates);
                    server.flush()?;
                    let kind = if report.data_set.is_some() {
                        "full"
                    } else {
                        "rbe"
                    };
                    println!(
                        "upstream: report ({kind}, {} values), {n} re-served",
                        report.values.len()
                    );
                }
                SessionEvent::Closed(cause) => {
                    println!("upstream: closed ({cause:?}); exiting");
                    return Ok(());
                }
                other => println!("upstream: {other:?}"),
            }
        }
        while let Some(event) = server.poll_event() {
            match event {
                ServerEvent::Associated { id, peer } => {
                    println!("local {id:?}: associated, {:?}", peer.calling.ap_title)
                }
                ServerEvent::Closed { id, error } => println!("local {id:?}: closed {error:?}"),
                ServerEvent::Extension(e) => println!("local: {e:?}"),
                _ => {}
            }
        }
    }
}

/// The local point `item` of [`DOMAIN`].
fn local(server: &MioEndpoint<Tase2>, item: &str) -> Option<PointId> {
    server
        .endpoint()
        .tase2()
        .point_id(&ObjectName::domain(DOMAIN, item))
}

/// Define a data set of [`POINTS`] in the upstream's ICC domain `domain`, read them once (the
/// values to serve until the first report) and start a transfer set on the data set: changes by
/// exception at once, everything every 30 s. The three go out pipelined.
fn on_domains(upstream: &mut MioSession, domain: &str) {
    println!("upstream: domain {domain}");
    let data_set = ObjectName::domain(domain, format!("DS_Conc_{}", std::process::id()));
    let mut members: Vec<ObjectName> = [
        "Transfer_Set_Name",
        "Transfer_Set_Time_Stamp",
        "DSConditions_Detected",
    ]
    .iter()
    .map(|item| ObjectName::domain(domain, *item))
    .collect();
    members.extend(
        POINTS
            .iter()
            .map(|(name, _)| ObjectName::domain(domain, *name)),
    );
    let points: Vec<ObjectName> = members[3..].to_vec();
    upstream.command(Command::DefineDataSet {
        name: data_set.clone(),
        members,
    });
    upstream.command(Command::ReadPoints { names: points });
    upstream.command(Command::ReserveAndStart {
        domain: domain.into(),
        value: DsTransferSetValue {
            data_set,
            integrity_check: 30,
            conditions: DsConditions::INTEGRITY | DsConditions::OBJECT_CHANGE,
            rbe: true,
            ..Default::default()
        },
    });
}
