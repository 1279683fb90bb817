//! TASE.2 (IEC 60870-6-503 services, -802 object models) on top of the MMS endpoint: conformance
//! blocks 1 (data values, data sets, DS transfer sets), 2 (report by exception, integrity,
//! critical reports), 4 (information messages) and 5 (device control: select-before-operate,
//! tags), server and client, editions 1996.08 and 2000.08.
//!
//! - [`flags`], [`point`]: indication points and their typed values.
//! - [`transfer_set`]: the DS transfer set object and the TASE.2 `ObjectName` value.
//! - [`info`]: information messages (block 4).
//! - [`device`]: device control values and tags (block 5).
//! - [`bilateral`]: bilateral tables (who may associate, which ICC domain, which rights).
//! - [`server`]: the server, an [`Endpoint`](crate::server::Endpoint) extended by [`server::Tase2`].
//! - [`client`]: typed helpers for a client association (reports, transfer set writes, ACKs).

pub mod bilateral;
pub mod client;
pub mod device;
pub mod flags;
pub mod info;
pub mod point;
pub mod server;
pub mod transfer_set;

pub use bilateral::{
    AuthRefusal, BilateralTable, CertificateBinding, ClientMatch, Rights, Unlisted,
};
pub use device::{Command, ControlMode, ControlValue, DeviceKind, Tag, TagValue};
pub use flags::{CurrentSource, Flags, StateValue, Validity};
pub use info::{InfoHeader, InfoMessage, InfoScope};
pub use point::{Family, Form, PointType, PointValue, Timestamp, Value};
pub use transfer_set::{DsConditions, DsTransferSetValue};

/// The TASE.2 edition a model follows (what `TASE2_Version` says).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Edition {
    /// IEC 60870-6-503:1997 / -802:1996.08 (version {1996, 8}).
    V1996_08,
    /// 2000.08 (version {2000, 8}): adds AllChangesReported and the QTimeTagExtended points.
    #[default]
    V2000_08,
}

impl Edition {
    /// `(MajorVersionNumber, MinorVersionNumber)`.
    pub fn version(self) -> (i16, i16) {
        match self {
            Edition::V1996_08 => (1996, 8),
            Edition::V2000_08 => (2000, 8),
        }
    }

    /// The edition of a `TASE2_Version` value.
    pub fn from_version(major: i64, minor: i64) -> Option<Edition> {
        match (major, minor) {
            (1996, 8) => Some(Edition::V1996_08),
            (2000, 8) => Some(Edition::V2000_08),
            _ => None,
        }
    }
}

/// Standard object names (IEC 60870-6-503 / -802).
pub mod names {
    /// VCC: `TASE2_Version`.
    pub const TASE2_VERSION: &str = "TASE2_Version";
    /// VCC: `Supported_Features`.
    pub const SUPPORTED_FEATURES: &str = "Supported_Features";
    /// ICC: `Bilateral_Table_ID`.
    pub const BILATERAL_TABLE_ID: &str = "Bilateral_Table_ID";
    /// ICC: reading it reserves a DS transfer set.
    pub const NEXT_DS_TRANSFER_SET: &str = "Next_DSTransfer_Set";
    /// Report variable: the transfer set's ObjectName.
    pub const TRANSFER_SET_NAME: &str = "Transfer_Set_Name";
    /// Report variable: INT32 seconds of the report.
    pub const TRANSFER_SET_TIME_STAMP: &str = "Transfer_Set_Time_Stamp";
    /// Report variable: conditions detected, BIT STRING(5).
    pub const DS_CONDITIONS_DETECTED: &str = "DSConditions_Detected";
    /// Report variable: INT16 event code.
    pub const EVENT_CODE_DETECTED: &str = "Event_Code_Detected";
    /// Client to server: a critical report was received.
    pub const TRANSFER_REPORT_ACK: &str = "Transfer_Report_ACK";
    /// Client to server: a critical report was refused.
    pub const TRANSFER_REPORT_NACK: &str = "Transfer_Report_NACK";
    /// ICC: information message header (block 4).
    pub const INFO_MESS_HEADER: &str = "Info_Mess_Header";
    /// The DS transfer sets of a domain are named with this prefix and 1, 2, ...
    pub const DS_TRANSFER_SET_PREFIX: &str = "DSTransfer_Set_";
}

/// `Supported_Features` bits: conformance block n is bit n-1 of a BIT STRING(12).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Features(pub u16);

impl Features {
    /// The blocks this implementation serves: 1 (basic), 2 (extended condition monitoring),
    /// 4 (information messages) and 5 (device control).
    pub const IMPLEMENTED: Features = Features(0b1_1011);

    /// Whether block `n` (1-9) is set.
    pub fn has_block(self, n: u8) -> bool {
        (1..=12).contains(&n) && self.0 & (1 << (n - 1)) != 0
    }

    /// The BIT STRING(12) octets.
    pub fn to_octets(self) -> [u8; 2] {
        let mut o = [0u8; 2];
        for i in 0..12 {
            if self.0 & (1 << i) != 0 {
                o[i / 8] |= 0x80 >> (i % 8);
            }
        }
        o
    }

    /// From BIT STRING octets.
    pub fn from_octets(o: &[u8]) -> Features {
        let mut f = 0u16;
        for i in 0..12 {
            if o.get(i / 8).is_some_and(|b| b & (0x80 >> (i % 8)) != 0) {
                f |= 1 << i;
            }
        }
        Features(f)
    }
}
