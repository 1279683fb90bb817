//! Initiate (ISO 9506-2 §8.2), carried in the ACSE AARQ/AARE user information.
//!
//! ```text
//! Initiate-RequestPDU ::= SEQUENCE {
//!   localDetailCalling [0] IMPLICIT Integer32 OPTIONAL,
//!   proposedMaxServOutstandingCalling [1] IMPLICIT Integer16,
//!   proposedMaxServOutstandingCalled [2] IMPLICIT Integer16,
//!   proposedDataStructureNestingLevel [3] IMPLICIT Integer8 OPTIONAL,
//!   mmsInitRequestDetail [4] IMPLICIT SEQUENCE { proposedVersionNumber [0] IMPLICIT Integer16,
//!       proposedParameterCBB [1] IMPLICIT ParameterSupportOptions,
//!       servicesSupportedCalling [2] IMPLICIT ServiceSupportOptions } }
//! Initiate-ResponsePDU ::= the same shape with "negotiated" values, localDetailCalled and
//!   servicesSupportedCalled.
//! ```

use super::{int_of, Res};
use crate::ber::{primitive, Tag, Tlv, Writer};
use crate::mms::data::BitString;

/// Bit numbers of ServiceSupportOptions (ISO 9506-2 §8.2.1; 85 bits in version 1).
pub mod services_supported {
    /// Number of bits in ServiceSupportOptions (MMS version 1).
    pub const BITS: usize = 85;
    /// status.
    pub const STATUS: usize = 0;
    /// getNameList.
    pub const GET_NAME_LIST: usize = 1;
    /// identify.
    pub const IDENTIFY: usize = 2;
    /// rename.
    pub const RENAME: usize = 3;
    /// read.
    pub const READ: usize = 4;
    /// write.
    pub const WRITE: usize = 5;
    /// getVariableAccessAttributes.
    pub const GET_VARIABLE_ACCESS_ATTRIBUTES: usize = 6;
    /// defineNamedVariable.
    pub const DEFINE_NAMED_VARIABLE: usize = 7;
    /// defineScatteredAccess.
    pub const DEFINE_SCATTERED_ACCESS: usize = 8;
    /// getScatteredAccessAttributes.
    pub const GET_SCATTERED_ACCESS_ATTRIBUTES: usize = 9;
    /// deleteVariableAccess.
    pub const DELETE_VARIABLE_ACCESS: usize = 10;
    /// defineNamedVariableList.
    pub const DEFINE_NAMED_VARIABLE_LIST: usize = 11;
    /// getNamedVariableListAttributes.
    pub const GET_NAMED_VARIABLE_LIST_ATTRIBUTES: usize = 12;
    /// deleteNamedVariableList.
    pub const DELETE_NAMED_VARIABLE_LIST: usize = 13;
    /// defineNamedType.
    pub const DEFINE_NAMED_TYPE: usize = 14;
    /// getNamedTypeAttributes.
    pub const GET_NAMED_TYPE_ATTRIBUTES: usize = 15;
    /// deleteNamedType.
    pub const DELETE_NAMED_TYPE: usize = 16;
    /// getDomainAttributes.
    pub const GET_DOMAIN_ATTRIBUTES: usize = 37;
    /// getCapabilityList.
    pub const GET_CAPABILITY_LIST: usize = 71;
    /// fileOpen.
    pub const FILE_OPEN: usize = 72;
    /// fileRead.
    pub const FILE_READ: usize = 73;
    /// fileClose.
    pub const FILE_CLOSE: usize = 74;
    /// fileRename.
    pub const FILE_RENAME: usize = 75;
    /// fileDelete.
    pub const FILE_DELETE: usize = 76;
    /// fileDirectory.
    pub const FILE_DIRECTORY: usize = 77;
    /// unsolicitedStatus.
    pub const UNSOLICITED_STATUS: usize = 78;
    /// informationReport.
    pub const INFORMATION_REPORT: usize = 79;
    /// eventNotification.
    pub const EVENT_NOTIFICATION: usize = 80;
    /// attachToEventCondition.
    pub const ATTACH_TO_EVENT_CONDITION: usize = 81;
    /// attachToSemaphore.
    pub const ATTACH_TO_SEMAPHORE: usize = 82;
    /// conclude.
    pub const CONCLUDE: usize = 83;
    /// cancel.
    pub const CANCEL: usize = 84;
}

/// Bit numbers of ParameterSupportOptions (the parameter conformance building blocks).
pub mod parameter_cbb {
    /// Number of bits commonly sent (libiec61850 sends 11).
    pub const BITS: usize = 11;
    /// str1: arrays.
    pub const STR1: usize = 0;
    /// str2: structures.
    pub const STR2: usize = 1;
    /// vnam: named variables.
    pub const VNAM: usize = 2;
    /// valt: alternate access.
    pub const VALT: usize = 3;
    /// vadr: addressed variables.
    pub const VADR: usize = 4;
    /// vsca: scattered access.
    pub const VSCA: usize = 5;
    /// tpy: third party.
    pub const TPY: usize = 6;
    /// vlis: named variable lists.
    pub const VLIS: usize = 7;
    /// real: REAL data (bit 8).
    pub const REAL: usize = 8;
    /// cei: condition event information (bit 10; bit 9 is unused).
    pub const CEI: usize = 10;
}

/// An Initiate request (client proposal).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitiateRequest {
    /// localDetailCalling: proposed maximum MMS PDU size.
    pub local_detail_calling: Option<i32>,
    /// proposedMaxServOutstandingCalling.
    pub max_serv_outstanding_calling: i16,
    /// proposedMaxServOutstandingCalled.
    pub max_serv_outstanding_called: i16,
    /// proposedDataStructureNestingLevel.
    pub data_structure_nesting_level: Option<i8>,
    /// proposedVersionNumber.
    pub version_number: i16,
    /// proposedParameterCBB.
    pub parameter_cbb: BitString,
    /// servicesSupportedCalling.
    pub services_supported: BitString,
}

/// An Initiate response (negotiated values).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitiateResponse {
    /// localDetailCalled: negotiated maximum MMS PDU size.
    pub local_detail_called: Option<i32>,
    /// negotiatedMaxServOutstandingCalling.
    pub max_serv_outstanding_calling: i16,
    /// negotiatedMaxServOutstandingCalled.
    pub max_serv_outstanding_called: i16,
    /// negotiatedDataStructureNestingLevel.
    pub data_structure_nesting_level: Option<i8>,
    /// negotiatedVersionNumber.
    pub version_number: i16,
    /// negotiatedParameterCBB.
    pub parameter_cbb: BitString,
    /// servicesSupportedCalled.
    pub services_supported: BitString,
}

/// The shared shape of both PDUs.
struct Fields {
    local_detail: Option<i32>,
    calling: i16,
    called: i16,
    nesting: Option<i8>,
    version: i16,
    cbb: BitString,
    services: BitString,
}

fn bits(t: &Tlv<'_>) -> Res<BitString> {
    let (o, n) = primitive::decode_bit_string(t.primitive()?)?;
    Ok(BitString {
        octets: o.to_vec(),
        bits: n,
    })
}

impl Fields {
    fn decode(tlv: &Tlv<'_>) -> Res<Self> {
        let mut r = tlv.reader()?;
        let local_detail = match r.read_if(Tag::context(0))? {
            Some(t) => Some(int_of(t.content)?),
            None => None,
        };
        let calling = int_of(r.expect(Tag::context(1))?.content)?;
        let called = int_of(r.expect(Tag::context(2))?.content)?;
        let nesting = match r.read_if(Tag::context(3))? {
            Some(t) => Some(int_of(t.content)?),
            None => None,
        };
        let mut d = r.expect(Tag::context_cons(4))?.reader()?;
        r.finish()?;
        let version = int_of(d.expect(Tag::context(0))?.content)?;
        let cbb = bits(&d.expect(Tag::context(1))?)?;
        let services = bits(&d.expect(Tag::context(2))?)?;
        // Later editions may add fields to the detail; they are skipped.
        Ok(Fields {
            local_detail,
            calling,
            called,
            nesting,
            version,
            cbb,
            services,
        })
    }

    fn encode(&self, w: &mut Writer<'_>, tag: u32) {
        w.constructed(Tag::context_cons(tag), |w| {
            if let Some(l) = self.local_detail {
                w.integer(Tag::context(0), i64::from(l));
            }
            w.integer(Tag::context(1), i64::from(self.calling));
            w.integer(Tag::context(2), i64::from(self.called));
            if let Some(n) = self.nesting {
                w.integer(Tag::context(3), i64::from(n));
            }
            w.constructed(Tag::context_cons(4), |w| {
                w.integer(Tag::context(0), i64::from(self.version));
                let c = BitString::from_octets(&self.cbb.octets, self.cbb.bits);
                w.bit_string(Tag::context(1), &c.octets, c.bits);
                let s = BitString::from_octets(&self.services.octets, self.services.bits);
                w.bit_string(Tag::context(2), &s.octets, s.bits);
            });
        });
    }
}

impl InitiateRequest {
    /// Decode the `[8]` element.
    pub(crate) fn decode(tlv: &Tlv<'_>) -> Res<Self> {
        let f = Fields::decode(tlv)?;
        Ok(InitiateRequest {
            local_detail_calling: f.local_detail,
            max_serv_outstanding_calling: f.calling,
            max_serv_outstanding_called: f.called,
            data_structure_nesting_level: f.nesting,
            version_number: f.version,
            parameter_cbb: f.cbb,
            services_supported: f.services,
        })
    }

    /// Append the `[8]` initiate-RequestPDU element.
    pub fn encode(&self, w: &mut Writer<'_>) {
        Fields {
            local_detail: self.local_detail_calling,
            calling: self.max_serv_outstanding_calling,
            called: self.max_serv_outstanding_called,
            nesting: self.data_structure_nesting_level,
            version: self.version_number,
            cbb: self.parameter_cbb.clone(),
            services: self.services_supported.clone(),
        }
        .encode(w, 8);
    }
}

impl InitiateResponse {
    /// Decode the `[9]` element.
    pub(crate) fn decode(tlv: &Tlv<'_>) -> Res<Self> {
        let f = Fields::decode(tlv)?;
        Ok(InitiateResponse {
            local_detail_called: f.local_detail,
            max_serv_outstanding_calling: f.calling,
            max_serv_outstanding_called: f.called,
            data_structure_nesting_level: f.nesting,
            version_number: f.version,
            parameter_cbb: f.cbb,
            services_supported: f.services,
        })
    }

    /// Append the `[9]` initiate-ResponsePDU element.
    pub fn encode(&self, w: &mut Writer<'_>) {
        Fields {
            local_detail: self.local_detail_called,
            calling: self.max_serv_outstanding_calling,
            called: self.max_serv_outstanding_called,
            nesting: self.data_structure_nesting_level,
            version: self.version_number,
            cbb: self.parameter_cbb.clone(),
            services: self.services_supported.clone(),
        }
        .encode(w, 9);
    }
}
