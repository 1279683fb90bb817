//! `tase2 operate` and `tase2 tag`: device control (TASE.2 block 5) from the command line.

use tase2_core::assoc::RequestError;
use tase2_core::mms::ObjectName;
use tase2_core::tase2::client::{self as t2, parse_control_value, ControlErrorKind, ControlOp};
use tase2_core::tase2::{ControlMode, DeviceKind, Tag, TagValue};
use tase2_tokio::tase2::{Error, Tase2Client};

use crate::show;

/// `tase2 operate` options besides the server.
#[derive(clap::Args)]
pub struct OperateArgs {
    /// The device, `DOMAIN/DEVICE` (or `/DEVICE` for VCC scope).
    pub device: String,
    /// The value: `on`, `close`, `raise` / `off`, `open`, `trip`, `lower` for a command; an
    /// integer for a discrete setpoint; a number for a real setpoint (the device's MMS type
    /// decides).
    #[arg(allow_hyphen_values = true)]
    pub value: String,
    /// Select first (read `<DEVICE>_SBO`, which prints the CheckBackID), then operate.
    #[arg(long)]
    pub sbo: bool,
}

/// `tase2 tag` options besides the server.
#[derive(clap::Args)]
pub struct TagArgs {
    /// The device, `DOMAIN/DEVICE` (or `/DEVICE` for VCC scope).
    pub device: String,
    /// Set the tag: `none`, `open-and-close` (inhibit select and operate) or `close-only`
    /// (inhibit close).
    #[arg(long, value_name = "TAG", value_parser = parse_tag)]
    pub set: Option<TagValue>,
    /// The reason stored with the tag (with --set).
    #[arg(long, value_name = "TEXT", requires = "set")]
    pub reason: Option<String>,
}

fn parse_tag(s: &str) -> Result<TagValue, String> {
    TagValue::parse(s).ok_or_else(|| format!("{s}: expected none, open-and-close or close-only"))
}

/// What a tag value means, in words.
fn tag_value(v: TagValue) -> &'static str {
    match v {
        TagValue::None => "none",
        TagValue::OpenAndCloseInhibit => "open-and-close inhibit",
        TagValue::CloseOnlyInhibit => "close-only inhibit",
        TagValue::Invalid => "invalid",
    }
}

/// A tag in one line: `tag close-only inhibit (armed), reason "crew on line 4"`.
pub fn tag_line(t: &Tag) -> String {
    let mut s = format!("tag {}", tag_value(t.value));
    if t.armed {
        s.push_str(" (armed)");
    }
    if !t.reason.is_empty() {
        s.push_str(&format!(", reason {:?}", t.reason));
    }
    s
}

/// What the VALUE argument may be for a device of `kind`.
fn expected(kind: DeviceKind) -> &'static str {
    match kind {
        DeviceKind::Command | DeviceKind::DiscreteSetpoint => {
            "on/off/close/open/trip/raise/lower or an integer (the device is an INT16: a command \
             or a discrete setpoint)"
        }
        DeviceKind::RealSetpoint => "a number (the device is a FLOAT32 real setpoint)",
    }
}

/// A failure of the device's request, with a hint when the cause is likely the missing --sbo.
fn refusal(e: Error, sbo_device_without_select: bool) -> String {
    match e {
        Error::Tase2(t2::Error::Control(c))
            if sbo_device_without_select
                && c.op == ControlOp::Operate
                && c.kind == ControlErrorKind::AccessDenied =>
        {
            format!("{c}; the device is select-before-operate: add --sbo")
        }
        e => e.to_string(),
    }
}

/// Operate a device; the line to print on success, the reason on failure (both start with the
/// device's name).
pub async fn operate(
    c: &Tase2Client,
    device: &ObjectName,
    a: &OperateArgs,
) -> Result<String, String> {
    let n = show::name(device);
    let info = c.device_info(device).await.map_err(|e| match e {
        Error::Tase2(t2::Error::Request(RequestError::Service(e))) => {
            format!("{n}: no such device visible to us (GetVariableAccessAttributes: {e})")
        }
        e => format!("{n}: {e}"),
    })?;
    let value = parse_control_value(info.kind, &a.value)
        .ok_or_else(|| format!("{n}: {}: expected {}", a.value, expected(info.kind)))?;
    let mut line = format!("{n}: ");
    if a.sbo {
        let id = c
            .select(device)
            .await
            .map_err(|e| format!("{n}: {}", refusal(e, false)))?;
        line.push_str(&format!("selected (CheckBackID {id}), "));
    }
    let unselected = !a.sbo && info.mode == ControlMode::Sbo;
    match c.operate(device, value).await {
        Ok(()) => {
            line.push_str(&format!("operated: {value}"));
            Ok(line)
        }
        Err(e) => {
            line.push_str(&refusal(e, unselected));
            Err(line)
        }
    }
}

/// Show, or set and show, a device's tag.
pub async fn tag(c: &Tase2Client, device: &ObjectName, a: &TagArgs) -> Result<String, String> {
    let n = show::name(device);
    if let Some(v) = a.set {
        c.set_tag(device, v, a.reason.as_deref().unwrap_or(""))
            .await
            .map_err(|e| format!("{n}: {e}"))?;
    }
    let t = c.tag(device).await.map_err(|e| format!("{n}: {e}"))?;
    Ok(format!(
        "{n}: {}{}",
        if a.set.is_some() { "set: " } else { "" },
        tag_line(&t)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    use tase2_core::acse::ApInvocation;
    use tase2_core::assoc::AssociationConfig;
    use tase2_core::server::ServerConfig;
    use tase2_core::tase2::server::{DeviceSpec, OperatePolicy, Tase2Builder, Tase2Config};
    use tase2_core::tase2::{BilateralTable, ClientMatch, Rights};
    use tase2_tokio::Server;

    #[test]
    fn tags_print_in_words() {
        assert_eq!(tag_line(&Tag::default()), "tag none");
        let t = Tag {
            value: TagValue::CloseOnlyInhibit,
            armed: true,
            reason: "crew on line 4".into(),
        };
        assert_eq!(
            tag_line(&t),
            "tag close-only inhibit (armed), reason \"crew on line 4\""
        );
        assert_eq!(parse_tag("Close-Only"), Ok(TagValue::CloseOnlyInhibit));
        assert!(parse_tag("maybe").is_err());
    }

    /// A server with ICC1/Brk1_Cmd (SBO, tagged, CheckBackID 101), ICC1/Gen1_MW_SP (real
    /// setpoint) and ICC1/Tap1_SP (INT16), every operate accepted.
    async fn server() -> std::net::SocketAddr {
        let mut b = Tase2Builder::new(Tase2Config {
            select_timeout: Duration::from_secs(300),
            operate: OperatePolicy::AcceptAll,
            ..Tase2Config::default()
        });
        b.domain("ICC1", 1).unwrap();
        b.device(
            Some("ICC1"),
            "Brk1_Cmd",
            DeviceSpec::new(DeviceKind::Command, ControlMode::Sbo)
                .tagged()
                .check_back_id(101),
        )
        .unwrap();
        b.device(
            Some("ICC1"),
            "Gen1_MW_SP",
            DeviceSpec::new(DeviceKind::RealSetpoint, ControlMode::Direct),
        )
        .unwrap();
        b.device(
            Some("ICC1"),
            "Tap1_SP",
            DeviceSpec::new(DeviceKind::DiscreteSetpoint, ControlMode::Direct),
        )
        .unwrap();
        b.table(
            BilateralTable::new(
                "BLT_ICC1",
                ClientMatch::ap_title(&[1, 1, 1, 999], 12),
                "ICC1",
            )
            .grant("Brk1_Cmd", Rights::READ_WRITE)
            .grant("Gen1_MW_SP", Rights::READ_WRITE)
            .grant("Tap1_SP", Rights::READ_WRITE),
        )
        .unwrap();
        let mut config = ServerConfig::default();
        config.association.local = ApInvocation {
            ap_title: Some("1.1.1.998".parse().unwrap()),
            ae_qualifier: Some(12),
            ..Default::default()
        };
        let server = Server::with_endpoint("127.0.0.1:0", b.build(config).unwrap())
            .await
            .unwrap();
        let addr = server.local_addr().unwrap();
        tokio::spawn(server.run());
        addr
    }

    fn args(value: &str, sbo: bool) -> OperateArgs {
        OperateArgs {
            device: String::new(),
            value: value.into(),
            sbo,
        }
    }

    #[tokio::test]
    async fn operate_and_tag_print_what_happened() {
        let addr = server().await;
        let config = AssociationConfig::with_ap_titles(
            ("1.1.1.999".parse().unwrap(), 12),
            ("1.1.1.998".parse().unwrap(), 12),
        );
        let c = Tase2Client::connect(addr, config).await.unwrap();
        let brk = ObjectName::domain("ICC1", "Brk1_Cmd");
        let sp = ObjectName::domain("ICC1", "Gen1_MW_SP");
        let tap = ObjectName::domain("ICC1", "Tap1_SP");

        assert_eq!(
            operate(&c, &brk, &args("close", true)).await,
            Ok("ICC1/Brk1_Cmd: selected (CheckBackID 101), operated: on".into())
        );
        assert_eq!(
            operate(&c, &brk, &args("trip", false)).await,
            Err(
                "ICC1/Brk1_Cmd: operate refused: object-access-denied (not selected, the select \
                 expired or is held by another client, the tag inhibits it, or this client may \
                 not operate it); the device is select-before-operate: add --sbo"
                    .into()
            )
        );
        assert_eq!(
            operate(&c, &sp, &args("-12.5", false)).await,
            Ok("ICC1/Gen1_MW_SP: operated: -12.5".into())
        );
        assert_eq!(
            operate(&c, &tap, &args("-3", false)).await,
            Ok("ICC1/Tap1_SP: operated: -3".into())
        );
        let e = operate(&c, &sp, &args("close", false)).await.unwrap_err();
        assert!(
            e.starts_with("ICC1/Gen1_MW_SP: close: expected a number"),
            "{e}"
        );
        assert_eq!(
            operate(&c, &sp, &args("1", true)).await,
            Err(
                "ICC1/Gen1_MW_SP: select refused: object-non-existent (no such device, or it \
                 is not select-before-operate (no _SBO object))"
                    .into()
            )
        );
        assert_eq!(
            operate(&c, &ObjectName::domain("ICC1", "Nope"), &args("1", false)).await,
            Err(
                "ICC1/Nope: no such device visible to us (GetVariableAccessAttributes: \
                 access: object-non-existent)"
                    .into()
            )
        );

        let set = TagArgs {
            device: String::new(),
            set: Some(TagValue::OpenAndCloseInhibit),
            reason: Some("crew on line 4".into()),
        };
        assert_eq!(
            tag(&c, &brk, &set).await,
            Ok("ICC1/Brk1_Cmd: set: tag open-and-close inhibit, reason \"crew on line 4\"".into())
        );
        assert_eq!(
            operate(&c, &brk, &args("on", true)).await,
            Err(
                "ICC1/Brk1_Cmd: select refused: object-access-denied (the device is tagged \
                 (open-and-close inhibit), or this client may not operate it)"
                    .into()
            )
        );
        let show = TagArgs {
            device: String::new(),
            set: None,
            reason: None,
        };
        assert_eq!(
            tag(&c, &brk, &show).await,
            Ok("ICC1/Brk1_Cmd: tag open-and-close inhibit, reason \"crew on line 4\"".into())
        );
        assert_eq!(
            tag(&c, &sp, &show).await,
            Err(
                "ICC1/Gen1_MW_SP: tag read refused: object-non-existent (no such device, or \
                 it has no tag (no _TAG object))"
                    .into()
            )
        );
        c.conclude().await.unwrap();
    }
}
