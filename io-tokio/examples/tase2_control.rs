//! Device control and information messages with `Tase2Client`: tag a breaker, see the tag refuse a
//! close, open it, clear the tag, close it (select-before-operate), move a real setpoint, then wait
//! for an information message.
//!
//! ```sh
//! cargo run -p tase2-tokio --example tase2_server -- 127.0.0.1:10102 &
//! cargo run -p tase2-tokio --example tase2_control -- 127.0.0.1:10102 [BREAKER] [SETPOINT]
//! ```
//!
//! `BREAKER` (default `ICC1/Brk1_Cmd`) is a tagged select-before-operate command, `SETPOINT`
//! (default `ICC1/Gen1_MW_SP`) a real setpoint; `/NAME` names a VCC-scope device.

use std::time::Duration;

use tase2_core::assoc::AssociationConfig;
use tase2_core::mms::ObjectName;
use tase2_core::tase2::client::Error as T2Error;
use tase2_core::tase2::{Command, ControlValue, TagValue};
use tase2_tokio::tase2::{Error, Tase2Client, Tase2Report};

fn name(s: &str) -> ObjectName {
    match s.split_once('/') {
        Some(("", item)) => ObjectName::vmd(item),
        Some((domain, item)) => ObjectName::domain(domain, item),
        None => ObjectName::domain("ICC1", s),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:10102".into());
    let breaker = name(&args.next().unwrap_or_else(|| "ICC1/Brk1_Cmd".into()));
    let setpoint = name(&args.next().unwrap_or_else(|| "ICC1/Gen1_MW_SP".into()));
    let config =
        AssociationConfig::with_ap_titles(("1.1.1.999".parse()?, 12), ("1.1.1.998".parse()?, 12));
    let mut c = Tase2Client::connect(&addr, config).await?;
    c.enable_info_messages().await?;

    println!("{breaker}: {:?}", c.device_info(&breaker).await?);
    c.set_tag(&breaker, TagValue::CloseOnlyInhibit, "crew on line 4")
        .await?;
    println!("{breaker}: tag {:?}", c.tag(&breaker).await?);

    // The tag refuses a close: the error says which request failed and why.
    let close = ControlValue::Command(Command::On);
    match c.select_operate(&breaker, close).await {
        Err(Error::Tase2(T2Error::Control(e))) => println!("{breaker}: close: {e}"),
        other => println!("{breaker}: close despite the tag? {other:?}"),
    }
    let id = c
        .select_operate(&breaker, ControlValue::Command(Command::Off))
        .await?;
    println!("{breaker}: opened (CheckBackID {id})");
    c.set_tag(&breaker, TagValue::None, "").await?;
    let id = c.select(&breaker).await?;
    c.operate(&breaker, close).await?;
    println!("{breaker}: selected (CheckBackID {id}), closed");

    c.operate(&setpoint, ControlValue::Real(412.5)).await?;
    println!("{setpoint}: set to 412.5");

    println!("waiting up to 15 s for an information message...");
    let wait = async {
        while let Some(r) = c.next_report().await {
            if let Ok(Tase2Report::InfoMessage(m)) = r {
                return Some(m);
            }
        }
        None
    };
    match tokio::time::timeout(Duration::from_secs(15), wait).await {
        Ok(Some(m)) => println!(
            "message {:?} InfoReference {} MessageId {}: {}",
            m.scope,
            m.header.info_reference,
            m.header.message_id,
            m.text()
                .map_or_else(|| format!("{:02x?}", m.data), str::to_string)
        ),
        Ok(None) => println!("the association ended"),
        Err(_) => println!("no message"),
    }
    c.conclude().await?;
    Ok(())
}
