//! A small TASE.2 server built with `Tase2Builder`, with simulated measurements: the model a
//! TASE.2 client (`tase2 browse / read / watch`, or `Tase2Client`) can be tried against.
//!
//! ```sh
//! cargo run -p tase2-tokio --example tase2_server -- 127.0.0.1:10102          # edition 2000.08
//! cargo run -p tase2-tokio --example tase2_server -- 127.0.0.1:10102 1996     # edition 1996.08
//! cargo run -p tase2-cli -- watch 127.0.0.1:10102 --integrity 5
//! ```
//!
//! The model: AP-title 1.1.1.998 / AE-qualifier 12; domains `ICC1` and `ICC2`, each with eight DS
//! transfer sets (`DSTransfer_Set_1..8`), the points `Gen1_MW`, `Gen2_MW`, `Line1_MW`,
//! `Line2_MW`, `Load1_MW` (Data_RealQTimeTag), `Freq_Hz` (Data_RealQ), `Brk1`, `Brk2`
//! (Data_StateQTimeTag), `Tap1` (Data_DiscreteQTimeTag), one `Sample_<Type>` point of every
//! type (`Sample_SupplQTimeTagExtended`: names have at most 32 characters), and the data set `DS_Grid`. Bilateral tables: client 1.1.1.999/12 gets `ICC1`
//! (table `BLT_ICC1`), client 1.1.1.997/12 gets `ICC2` (`BLT_ICC2`). Every second the MW values
//! and the frequency move, and every 7 seconds `Brk1` changes state.
//!
//! Devices (block 5), in each domain: `Brk1_Cmd` (command, select-before-operate, tagged,
//! CheckBackID 101; operating it sets `Brk1`), `Gen1_MW_SP` (real setpoint, direct) and
//! `Tap1_SP` (discrete setpoint, direct); each client may operate its domain's devices, and the
//! application accepts every operate. Information messages (block 4): every 10 seconds a VCC text
//! message (InfoReference 1) to every client that enabled them, and an ICC binary one
//! (InfoReference 2) to each domain's client.
//!
//! ```sh
//! cargo run -p tase2-cli -- operate 127.0.0.1:10102 ICC1/Brk1_Cmd open --sbo
//! cargo run -p tase2-cli -- tag 127.0.0.1:10102 ICC1/Brk1_Cmd --set close-only --reason "crew"
//! cargo run -p tase2-tokio --example tase2_control -- 127.0.0.1:10102
//! ```

use std::time::Duration;

use tase2_core::acse::ApInvocation;
use tase2_core::server::{ServerConfig, ServerEvent};
use tase2_core::tase2::server::{DeviceSpec, PointId, Tase2Builder, Tase2Config, Tase2Event};
use tase2_core::tase2::{
    BilateralTable, ClientMatch, Command, ControlMode, ControlValue, DeviceKind, Edition, Family,
    Form, InfoHeader, InfoScope, PointType, PointValue, Rights, StateValue, Timestamp,
};

const REAL_QTT: PointType = PointType::Indication(Family::Real, Form::QTimeTag);

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:10102".into());
    let edition = match args.next().as_deref() {
        Some("1996") => Edition::V1996_08,
        _ => Edition::V2000_08,
    };

    // Initial values are stamped with the start time.
    let t0 = Timestamp {
        seconds: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs() as i32,
        millis: 0,
    };
    let mut b = Tase2Builder::new(Tase2Config {
        edition,
        local_ap_title: Some("1.1.1.998".parse()?),
        ..Tase2Config::default()
    });
    // The simulated real points: (point, value at rest, amplitude).
    let mut sim: Vec<(PointId, f32, f32)> = Vec::new();
    let mut breakers = Vec::new();
    // Each domain's breaker command and the state point it drives.
    let mut commands = Vec::new();
    b.info_buffer(None, 256)?;
    for (domain, client) in [("ICC1", 999), ("ICC2", 997)] {
        b.domain(domain, 8)?;
        for (name, base) in [
            ("Gen1_MW", 250.0),
            ("Gen2_MW", 180.0),
            ("Line1_MW", 120.0),
            ("Line2_MW", -60.0),
            ("Load1_MW", 310.0),
        ] {
            let id = b.point(Some(domain), name, REAL_QTT, PointValue::real(base).at(t0))?;
            sim.push((id, base, f32::abs(base) * 0.02));
        }
        let freq = b.point(
            Some(domain),
            "Freq_Hz",
            PointType::Indication(Family::Real, Form::Q),
            PointValue::real(50.0).at(t0),
        )?;
        sim.push((freq, 50.0, 0.05));
        let state = PointType::Indication(Family::State, Form::QTimeTag);
        breakers.push(b.point(
            Some(domain),
            "Brk1",
            state,
            PointValue::state(StateValue::On).at(t0),
        )?);
        b.point(
            Some(domain),
            "Brk2",
            state,
            PointValue::state(StateValue::Off).at(t0),
        )?;
        b.point(
            Some(domain),
            "Tap1",
            PointType::Indication(Family::Discrete, Form::QTimeTag),
            PointValue::discrete(5).at(t0),
        )?;
        // One point of every type the edition has, at its zero value.
        for t in PointType::all().filter(|t| t.exists_in(edition)) {
            let mut name = format!("Sample_{}", &t.name()["Data_".len()..]);
            if name.len() > 32 {
                // MMS names have at most 32 characters.
                name = name.replace("StateSupplemental", "Suppl");
            }
            b.point(Some(domain), &name, t, t.zero().at(t0))?;
        }
        b.data_set(
            Some(domain),
            "DS_Grid",
            &[
                "Transfer_Set_Name",
                "Transfer_Set_Time_Stamp",
                "DSConditions_Detected",
                "Event_Code_Detected",
                "Gen1_MW",
                "Gen2_MW",
                "Load1_MW",
                "Freq_Hz",
                "Brk1",
            ],
        )?;
        let brk1_cmd = b.device(
            Some(domain),
            "Brk1_Cmd",
            DeviceSpec::new(DeviceKind::Command, ControlMode::Sbo)
                .tagged()
                .check_back_id(101),
        )?;
        commands.push((brk1_cmd, *breakers.last().unwrap()));
        b.device(
            Some(domain),
            "Gen1_MW_SP",
            DeviceSpec::new(DeviceKind::RealSetpoint, ControlMode::Direct),
        )?;
        b.device(
            Some(domain),
            "Tap1_SP",
            DeviceSpec::new(DeviceKind::DiscreteSetpoint, ControlMode::Direct),
        )?;
        b.info_buffer(Some(domain), 256)?;
        b.table(
            BilateralTable::new(
                format!("BLT_{domain}"),
                ClientMatch::ap_title(&[1, 1, 1, client], 12),
                domain,
            )
            .grant("Brk1_Cmd", Rights::READ_WRITE)
            .grant("Gen1_MW_SP", Rights::READ_WRITE)
            .grant("Tap1_SP", Rights::READ_WRITE)
            .admit_info(InfoScope::Vcc, 1, None)
            .admit_info(InfoScope::Icc, 2, None),
        )?;
    }

    let mut config = ServerConfig::default();
    config.association.local = ApInvocation {
        ap_title: Some("1.1.1.998".parse()?),
        ae_qualifier: Some(12),
        ..Default::default()
    };
    let mut server = tase2_tokio::Server::with_endpoint(&addr, b.build(config)?).await?;
    server.on_event(move |ep, now, ev| match ev {
        // The application: accept every operate; a breaker command moves its breaker.
        ServerEvent::Extension(Tase2Event::OperateRequested { op, .. }) => {
            println!("{ev:?}");
            let _ = ep.answer_operate(*op, Ok(()));
        }
        ServerEvent::Extension(Tase2Event::Operated { device, value, .. }) => {
            println!("{ev:?}");
            if let Some(&(_, point)) = commands.iter().find(|(d, _)| d == device) {
                let s = match value {
                    ControlValue::Command(Command::On) => StateValue::On,
                    _ => StateValue::Off,
                };
                ep.update(now, point, PointValue::state(s));
            }
        }
        ServerEvent::Associated { id, peer } => println!(
            "association {}: {}/{}",
            id.0,
            peer.calling
                .ap_title
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            peer.calling.ae_qualifier.unwrap_or_default()
        ),
        ServerEvent::Extension(e) => println!("{e:?}"),
        ServerEvent::Closed { id, error } => println!("association {} closed {error:?}", id.0),
        _ => {}
    });
    println!("TASE.2 {:?} server on {}", edition, server.local_addr()?);

    // The simulation: runs inside the server task through commands.
    let handle = server.handle();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let mut n = 0u32;
        loop {
            tick.tick().await;
            n += 1;
            let sim = sim.clone();
            let breakers = breakers.clone();
            let alive = handle
                .command(move |ep, now| {
                    let phase = n as f32 * 0.3;
                    let updates = sim.iter().enumerate().map(|(i, &(id, base, swing))| {
                        let v = base + swing * (phase + i as f32).sin();
                        (id, PointValue::real((v * 100.0).round() / 100.0))
                    });
                    let mut updates: Vec<_> = updates.collect();
                    if n % 7 == 0 {
                        let s = if n % 14 == 0 {
                            StateValue::On
                        } else {
                            StateValue::Off
                        };
                        updates.extend(breakers.iter().map(|&b| (b, PointValue::state(s))));
                    }
                    ep.update_many(now, updates);
                    if n % 10 == 0 {
                        let header = |info_reference| InfoHeader {
                            info_reference,
                            message_id: n as i32 / 10,
                            ..InfoHeader::default()
                        };
                        let text = format!("system normal, {n} s since start");
                        let _ = ep.send_info_message(None, header(1), text.as_bytes());
                        for domain in ["ICC1", "ICC2"] {
                            let _ = ep.send_info_message(Some(domain), header(2), &n.to_be_bytes());
                        }
                    }
                })
                .await;
            if !alive {
                return;
            }
        }
    });
    tokio::select! {
        r = server.run() => r?,
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(())
}
