//! Device control (conformance block 5) for [`Tase2Client`]: select, operate, tags.
//!
//! A device is named by its `<Device>` object (`ICC1/Brk1_Cmd`); the client derives
//! `<Device>_SBO` and `<Device>_TAG` from it. A refusal by the server comes back as
//! [`Error::Control`], whose [`ControlError`] says which request failed and what the MMS
//! DataAccessError means ([`ControlErrorKind`](tase2_core::tase2::client::ControlErrorKind));
//! any other failure (socket, association, reject) is the usual [`Error`].

use tase2_core::mms::{ConfirmedRequest, ConfirmedResponse, ObjectName};
use tase2_core::tase2::client::{self as t2, ControlError, ControlOp};
use tase2_core::tase2::{ControlMode, ControlValue, DeviceKind, Tag, TagValue};

use super::Tase2Client;
use crate::Error;

/// A device as GetVariableAccessAttributes shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Its kind from its MMS type: INT16 is reported as [`DeviceKind::Command`] (a command and a
    /// discrete setpoint share the type), FLOAT32 as [`DeviceKind::RealSetpoint`].
    pub kind: DeviceKind,
    /// [`ControlMode::Sbo`] when `<Device>_SBO` exists.
    pub mode: ControlMode,
    /// Whether `<Device>_TAG` exists.
    pub tagged: bool,
}

/// An access failure of `op` as [`Error::Control`]; anything else unchanged.
fn control(op: ControlOp) -> impl Fn(Error) -> Error {
    move |e| match e {
        Error::Access(code) => Error::Control(ControlError::new(op, code)),
        e => e,
    }
}

impl Tase2Client {
    /// What `device` is: its kind, whether it is select-before-operate, whether it is tagged
    /// (three GetVariableAccessAttributes, pipelined). Fails with [`Error::NotADevice`] when
    /// `<Device>` is neither an INT16 nor a FLOAT32, and with the server's error when it does not
    /// exist.
    pub async fn device_info(&self, device: &ObjectName) -> Result<DeviceInfo, Error> {
        let mut answers = self
            .client
            .request_many(
                [device.clone(), t2::sbo_name(device), t2::tag_name(device)]
                    .map(ConfirmedRequest::GetVariableAccessAttributes),
            )
            .await
            .into_iter();
        let kind = match answers.next() {
            Some(Ok(ConfirmedResponse::GetVariableAccessAttributes(a))) => {
                DeviceKind::from_type_description(&a.type_description)
                    .ok_or_else(|| Error::NotADevice(device.clone()))?
            }
            Some(Err(e)) => return Err(e),
            _ => return Err(Error::UnexpectedResponse),
        };
        let exists = |a: Option<Result<ConfirmedResponse, Error>>| {
            matches!(
                a,
                Some(Ok(ConfirmedResponse::GetVariableAccessAttributes(_)))
            )
        };
        let mode = if exists(answers.next()) {
            ControlMode::Sbo
        } else {
            ControlMode::Direct
        };
        Ok(DeviceInfo {
            kind,
            mode,
            tagged: exists(answers.next()),
        })
    }

    /// Select `device` (a Read of `<Device>_SBO`): the server arms it for this association until
    /// its select timeout and answers the CheckBackID, which is returned. The next
    /// [`Self::operate`] of this association operates it (one operate per select).
    pub async fn select(&self, device: &ObjectName) -> Result<i16, Error> {
        let name = t2::sbo_name(device);
        let d = self
            .client
            .read(&name)
            .await
            .map_err(control(ControlOp::Select))?;
        t2::parse_check_back_id(&d).ok_or(Error::UnexpectedValue(name))
    }

    /// Operate `device` with `value` (a Write of `<Device>`): a direct-operate device operates
    /// at once; a select-before-operate device must have been selected by this association
    /// ([`Self::select`]) within its select timeout. Returns once the server (and the
    /// application behind it) accepted the operate.
    pub async fn operate(&self, device: &ObjectName, value: ControlValue) -> Result<(), Error> {
        self.client
            .write(device, value.to_data())
            .await
            .map_err(control(ControlOp::Operate))
    }

    /// Select then operate `device` in one call; returns the CheckBackID of the select.
    pub async fn select_operate(
        &self,
        device: &ObjectName,
        value: ControlValue,
    ) -> Result<i16, Error> {
        let check_back_id = self.select(device).await?;
        self.operate(device, value).await?;
        Ok(check_back_id)
    }

    /// The tag of `device` (a Read of `<Device>_TAG`).
    pub async fn tag(&self, device: &ObjectName) -> Result<Tag, Error> {
        let name = t2::tag_name(device);
        let d = self
            .client
            .read(&name)
            .await
            .map_err(control(ControlOp::ReadTag))?;
        Tag::from_data(&d).ok_or(Error::UnexpectedValue(name))
    }

    /// Set (or, with [`TagValue::None`], clear) the tag of `device` with a reason (printable
    /// ASCII, at most 255 characters; a longer one is cut). Only the client that set a tag may
    /// change it, and not while the device is selected.
    pub async fn set_tag(
        &self,
        device: &ObjectName,
        value: TagValue,
        reason: &str,
    ) -> Result<(), Error> {
        let tag = Tag {
            value,
            armed: false,
            reason: reason
                .chars()
                .filter(|c| c.is_ascii() && !c.is_ascii_control())
                .take(tase2_core::tase2::device::MAX_TAG_REASON)
                .collect(),
        };
        self.client
            .write(&t2::tag_name(device), tag.to_data())
            .await
            .map_err(control(ControlOp::SetTag))
    }
}
