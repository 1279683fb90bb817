//! Association configuration: identities, selectors, MMS limits and timers.

use alloc::vec::Vec;
use core::time::Duration;

use crate::acse::ApInvocation;
use crate::ber::ObjectIdentifier;
use crate::cotp::TpduSize;
use crate::mms::DecodeLimits;

/// Default MMS max PDU size we propose and accept. 65,000 is what most MMS stacks use; it keeps a PDU
/// inside one maximal TSDU with room for the upper-layer headers.
pub const DEFAULT_MAX_PDU_SIZE: u32 = 65_000;

/// Default outstanding confirmed requests, each direction. Deployed TASE.2 servers use 5 to 20.
pub const DEFAULT_MAX_OUTSTANDING: u16 = 10;

/// Default data structure nesting level. TASE.2 objects nest three levels at most; 10 leaves room.
pub const DEFAULT_MAX_NESTING: u8 = 10;

/// Everything an association needs to know about itself and its peer.
///
/// The defaults interoperate with libiec61850 and other MMS stacks; only the AP-titles usually need
/// setting.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct AssociationConfig {
    /// Our AP-title, AE-qualifier and invocation ids (calling side for a client, responding for a server).
    pub local: ApInvocation,
    /// The peer's: called side for a client. A server ignores it and reports what the client sent.
    pub remote: ApInvocation,
    /// Transport selectors (local, remote).
    pub tsel: (Option<Vec<u8>>, Option<Vec<u8>>),
    /// Session selectors (local, remote).
    pub ssel: (Option<Vec<u8>>, Option<Vec<u8>>),
    /// Presentation selectors (local, remote).
    pub psel: (Option<Vec<u8>>, Option<Vec<u8>>),
    /// Password sent in the AARQ (ACSE authentication mechanism 2.2.3.1); client only.
    pub password: Option<Vec<u8>>,
    /// Largest MMS PDU we accept, proposed in Initiate; the negotiated value is enforced both ways.
    pub max_pdu_size: u32,
    /// Confirmed requests the calling side may have outstanding.
    pub max_serv_outstanding_calling: u16,
    /// Confirmed requests the called side may have outstanding.
    pub max_serv_outstanding_called: u16,
    /// Data structure nesting level proposed and enforced on decoding.
    pub max_nesting: u8,
    /// TPDU size proposed in the CR (client) or the largest answered in the CC (server); 2048 by
    /// default.
    ///
    /// ISO 8073 / X.224 §13.3.4 (b): class 0 allows 128 to 2048 octets, and strict peers close the
    /// connection on anything larger, so **a value above [`TpduSize::CLASS0_MAX`] is clamped to
    /// 2048** when the association starts. [`AssociationConfig::set_tpdu_size`] refuses such values
    /// outright. A server still accepts a client's larger proposal: it answers 2048 (or less) and
    /// reports [`DeviationKind::TpduSizeBeyondClass0`](crate::DeviationKind::TpduSizeBeyondClass0).
    pub tpdu_size: TpduSize,
    /// Time allowed from the first byte to an established association.
    pub connect_timeout: Duration,
    /// Time a confirmed request may wait for its answer before the client gives up on it.
    pub request_timeout: Duration,
    /// Time allowed for an orderly release before the transport is simply closed.
    pub release_timeout: Duration,
    /// Application context proposed in the AARQ; MMS (1.0.9506.2.3) by default.
    pub application_context: ObjectIdentifier,
    /// Bounds on decoded MMS data.
    pub limits: DecodeLimits,
}

impl Default for AssociationConfig {
    fn default() -> Self {
        AssociationConfig {
            local: ApInvocation::default(),
            remote: ApInvocation::default(),
            tsel: (Some(alloc::vec![0, 1]), Some(alloc::vec![0, 1])),
            ssel: (Some(alloc::vec![0, 1]), Some(alloc::vec![0, 1])),
            psel: (Some(alloc::vec![0, 0, 0, 1]), Some(alloc::vec![0, 0, 0, 1])),
            password: None,
            max_pdu_size: DEFAULT_MAX_PDU_SIZE,
            max_serv_outstanding_calling: DEFAULT_MAX_OUTSTANDING,
            max_serv_outstanding_called: DEFAULT_MAX_OUTSTANDING,
            max_nesting: DEFAULT_MAX_NESTING,
            tpdu_size: TpduSize::CLASS0_MAX,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(10),
            release_timeout: Duration::from_secs(5),
            application_context: crate::acse::mms_application_context(),
            limits: DecodeLimits::default(),
        }
    }
}

impl AssociationConfig {
    /// A configuration with our AP-title / AE-qualifier and the peer's; everything else default.
    pub fn with_ap_titles(local: (ObjectIdentifier, i64), remote: (ObjectIdentifier, i64)) -> Self {
        AssociationConfig {
            local: ApInvocation {
                ap_title: Some(local.0),
                ae_qualifier: Some(local.1),
                ..Default::default()
            },
            remote: ApInvocation {
                ap_title: Some(remote.0),
                ae_qualifier: Some(remote.1),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    /// Set the TPDU size to propose (client) or answer at most (server), in octets.
    ///
    /// Refuses anything but 128, 256, 512, 1024 or 2048: X.224 §13.3.4 (b) codes powers of two
    /// only, and class 0 stops at 2048.
    pub fn set_tpdu_size(&mut self, bytes: usize) -> Result<(), InvalidTpduSize> {
        match TpduSize::from_bytes(bytes) {
            Some(s) if s.is_class0() => {
                self.tpdu_size = s;
                Ok(())
            }
            _ => Err(InvalidTpduSize(bytes)),
        }
    }
}

/// A TPDU size [`AssociationConfig::set_tpdu_size`] refused: not a power of two from 128 to 2048.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidTpduSize(pub usize);

impl core::fmt::Display for InvalidTpduSize {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "TPDU size {} invalid: COTP class 0 allows 128, 256, 512, 1024 or 2048",
            self.0
        )
    }
}

impl core::error::Error for InvalidTpduSize {}

/// What the two sides agreed on in MMS Initiate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Negotiated {
    /// Max MMS PDU size, both directions.
    pub max_pdu_size: u32,
    /// Confirmed requests the calling side (client) may have outstanding.
    pub max_serv_outstanding_calling: u16,
    /// Confirmed requests the called side (server) may have outstanding.
    pub max_serv_outstanding_called: u16,
    /// Data structure nesting level.
    pub max_nesting: u8,
    /// MMS version.
    pub version: i16,
    /// Negotiated TPDU size in octets.
    pub tpdu_size: usize,
}
