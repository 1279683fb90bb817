//! What the TASE.2 server application hears.

use alloc::string::String;

use super::{ControlRefusal, DeviceId, OperateId, PointId};
use crate::mms::ObjectName;
use crate::server::ConnectionId;
use crate::tase2::point::PointValue;
use crate::tase2::transfer_set::DsTransferSetValue;

/// What the TASE.2 server application hears (besides the MMS-level `ServerEvent`s).
#[derive(Clone, Debug, PartialEq)]
pub enum Tase2Event {
    /// A client associated under a bilateral table (`None`: VCC scope only).
    Bound {
        /// The association.
        id: ConnectionId,
        /// The table's `Bilateral_Table_ID`.
        table: Option<String>,
        /// The client's ICC domain.
        domain: Option<String>,
    },
    /// A client reserved a transfer set through `Next_DSTransfer_Set`.
    TransferSetReserved {
        /// The association.
        id: ConnectionId,
        /// The transfer set.
        name: ObjectName,
    },
    /// A client started (or reconfigured) a transfer set.
    TransferSetStarted {
        /// The association.
        id: ConnectionId,
        /// The transfer set.
        name: ObjectName,
        /// Its configuration.
        value: DsTransferSetValue,
    },
    /// A transfer set stopped (written Status false, or its association ended).
    TransferSetStopped {
        /// The association.
        id: ConnectionId,
        /// The transfer set.
        name: ObjectName,
    },
    /// A client wrote a point (already stored and reported).
    PointWritten {
        /// The association.
        id: ConnectionId,
        /// The point.
        point: PointId,
        /// The value.
        value: PointValue,
    },
    /// A critical report was acknowledged.
    ReportAcked {
        /// The association.
        id: ConnectionId,
        /// The transfer set.
        name: ObjectName,
        /// The report's `Transfer_Set_Time_Stamp`.
        timestamp: i32,
    },
    /// A critical report was refused by the client (`Transfer_Report_NACK`).
    ReportNacked {
        /// The association.
        id: ConnectionId,
        /// The transfer set.
        name: ObjectName,
    },
    /// No ACK came for a critical report within `Tase2Config::ack_timeout`.
    AckTimeout {
        /// The association.
        id: ConnectionId,
        /// The transfer set.
        name: ObjectName,
        /// The report's timestamp.
        timestamp: i32,
    },
    /// A report waited longer than the transfer set's TLE (behind an unacknowledged critical
    /// report) and was discarded.
    ReportExpired {
        /// The association.
        id: ConnectionId,
        /// The transfer set.
        name: ObjectName,
    },
    /// AllChangesReported overflowed `max_buffered_changes`: `count` oldest changes were dropped.
    ChangesDropped {
        /// The association.
        id: ConnectionId,
        /// The transfer set.
        name: ObjectName,
        /// How many.
        count: usize,
    },
    /// A single member value does not fit the negotiated PDU size: it was left out of a report.
    ReportMemberTooLarge {
        /// The association.
        id: ConnectionId,
        /// The transfer set.
        name: ObjectName,
    },
    /// An ACK/NACK or other unconfirmed PDU from a client that matched nothing.
    UnexpectedReport {
        /// The association.
        id: ConnectionId,
    },
    /// A client enabled or disabled information messages (`IM_Transfer_Set`).
    InfoMessagesEnabled {
        /// The association.
        id: ConnectionId,
        /// Enabled or disabled.
        enabled: bool,
    },
    /// An information message does not fit an association's negotiated PDU: it was not sent
    /// to it.
    InfoMessageTooLarge {
        /// The association.
        id: ConnectionId,
        /// The encoded report's size.
        size: usize,
        /// The association's negotiated maximum.
        max_pdu_size: usize,
    },
    /// A client selected a device (read `<Device>_SBO`); it is armed for the select timeout.
    Selected {
        /// The association.
        id: ConnectionId,
        /// The device.
        device: DeviceId,
        /// The CheckBackID answered.
        check_back_id: i16,
    },
    /// A select expired without an operate.
    SelectTimedOut {
        /// The association that selected.
        id: ConnectionId,
        /// The device.
        device: DeviceId,
    },
    /// A client operates a device and the rules allow it: answer with
    /// [`Endpoint::answer_operate`](crate::server::Endpoint::answer_operate) (under
    /// [`OperatePolicy::AskApplication`](super::OperatePolicy::AskApplication)).
    OperateRequested {
        /// The association.
        id: ConnectionId,
        /// The handle to answer with.
        op: OperateId,
        /// The device.
        device: DeviceId,
        /// The value.
        value: crate::tase2::ControlValue,
    },
    /// An operate succeeded (the client's Write answered success).
    Operated {
        /// The association.
        id: ConnectionId,
        /// The device.
        device: DeviceId,
        /// The value.
        value: crate::tase2::ControlValue,
    },
    /// A select, operate or tag write was refused (the client got `reason.access_error()`).
    ControlRefused {
        /// The association.
        id: ConnectionId,
        /// The device.
        device: DeviceId,
        /// Why.
        reason: ControlRefusal,
    },
    /// A device's tag changed (`id` `None`: set locally with [`Endpoint::set_tag`](crate::server::Endpoint::set_tag)).
    TagChanged {
        /// The association that wrote it.
        id: Option<ConnectionId>,
        /// The device.
        device: DeviceId,
        /// The new tag.
        tag: crate::tase2::Tag,
    },
}
