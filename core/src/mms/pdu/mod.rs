//! MMS PDUs (ISO 9506-2 §7): the `MMSpdu` CHOICE and every service TASE.2 uses.
//!
//! [`MmsPdu::decode`] takes the MMS PDU octets (the presentation data value of the MMS abstract
//! syntax) and [`MmsPdu::encode`] writes them. For the server hot path,
//! [`write_confirmed_response`], [`write_read_response`] and [`write_information_report`] write
//! responses and reports straight from application values.
//!
//! **Error policy.** A failed decode returns a [`PduError`] carrying the invoke id (when it could be
//! read) and the [`RejectReason`] to answer with: e.g. an unknown service tag gives
//! confirmed-requestPDU unrecognized-service, a malformed argument invalid-argument, nesting past
//! [`DecodeLimits::max_data_depth`] max-recursion-exceeded, an undecodable outer element
//! pdu-error invalid-pdu. Services ISO 9506-2 defines but this codec does not implement decode to
//! [`ConfirmedRequest::Unsupported`] so a server can answer them instead of dropping them. Never
//! answer a Reject PDU with a Reject.

mod access;
mod cancel;
mod conclude;
mod error;
mod get_name_list;
mod identify;
mod information_report;
mod initiate;
mod named_variable_list;
mod read;
// The server's hot path for plain Reads; a client never recognizes one.
#[cfg(feature = "server")]
mod read_inline;
mod reject;
mod status;
mod variable_access_attributes;
mod write;

#[cfg(test)]
mod tests;

pub use access::{AccessResult, DataAccessError, VariableAccessSpecification, VariableSpec};
pub use error::{ErrorClass, ServiceError};
pub use get_name_list::{GetNameListRequest, GetNameListResponse, ObjectClass, ObjectScope};
pub use identify::IdentifyResponse;
pub use information_report::InformationReport;
pub use initiate::{parameter_cbb, services_supported, InitiateRequest, InitiateResponse};
pub use named_variable_list::{
    DefineNamedVariableListRequest, DeleteNamedVariableListRequest, DeleteScope,
    GetNamedVariableListAttributesResponse,
};
pub use read::{ReadRequest, ReadResponse};
#[cfg(feature = "server")]
pub(crate) use read_inline::InlineRead;
pub use reject::{RejectPdu, RejectReason};
pub use status::StatusResponse;
pub use variable_access_attributes::GetVariableAccessAttributesResponse;
pub use write::{WriteRequest, WriteResult};

use alloc::vec::Vec;
use core::fmt;

use super::data::DataError;
use super::object_name::ObjectName;
use super::DecodeLimits;
use crate::ber::{self, primitive, Class, Reader, Tag, Tlv, Writer};
use crate::deviation::Deviation;

/// Highest ConfirmedServiceRequest tag ISO 9506-2 defines (77 fileDirectory, 78
/// additionalService). Requests with these tags that this codec does not implement decode to
/// [`ConfirmedRequest::Unsupported`]; higher tags are unrecognized services.
pub const MAX_KNOWN_SERVICE_TAG: u32 = 78;

/// Service tags (ConfirmedServiceRequest / -Response alternatives, ISO 9506-2 §7.2).
pub mod service_tag {
    /// status.
    pub const STATUS: u32 = 0;
    /// getNameList.
    pub const GET_NAME_LIST: u32 = 1;
    /// identify.
    pub const IDENTIFY: u32 = 2;
    /// read.
    pub const READ: u32 = 4;
    /// write.
    pub const WRITE: u32 = 5;
    /// getVariableAccessAttributes.
    pub const GET_VARIABLE_ACCESS_ATTRIBUTES: u32 = 6;
    /// defineNamedVariableList.
    pub const DEFINE_NAMED_VARIABLE_LIST: u32 = 11;
    /// getNamedVariableListAttributes.
    pub const GET_NAMED_VARIABLE_LIST_ATTRIBUTES: u32 = 12;
    /// deleteNamedVariableList.
    pub const DELETE_NAMED_VARIABLE_LIST: u32 = 13;
}

/// An MMS PDU (`MMSpdu ::= CHOICE`, ISO 9506-2 §7.1).
#[derive(Clone, Debug, PartialEq)]
pub enum MmsPdu {
    /// `[0]` confirmed-RequestPDU.
    ConfirmedRequest {
        /// invokeID.
        invoke_id: u32,
        /// The service request.
        request: ConfirmedRequest,
    },
    /// `[1]` confirmed-ResponsePDU.
    ConfirmedResponse {
        /// invokeID of the request.
        invoke_id: u32,
        /// The service response.
        response: ConfirmedResponse,
    },
    /// `[2]` confirmed-ErrorPDU (the optional modifierPosition is dropped).
    ConfirmedError {
        /// invokeID of the request.
        invoke_id: u32,
        /// The error.
        error: ServiceError,
    },
    /// `[3]` unconfirmed-PDU.
    Unconfirmed(UnconfirmedService),
    /// `[4]` rejectPDU.
    Reject(RejectPdu),
    /// `[5]` cancel-RequestPDU: the invokeID to cancel.
    CancelRequest(u32),
    /// `[6]` cancel-ResponsePDU.
    CancelResponse(u32),
    /// `[7]` cancel-ErrorPDU.
    CancelError {
        /// originalInvokeID.
        invoke_id: u32,
        /// The error.
        error: ServiceError,
    },
    /// `[8]` initiate-RequestPDU.
    InitiateRequest(InitiateRequest),
    /// `[9]` initiate-ResponsePDU.
    InitiateResponse(InitiateResponse),
    /// `[10]` initiate-ErrorPDU.
    InitiateError(ServiceError),
    /// `[11]` conclude-RequestPDU.
    ConcludeRequest,
    /// `[12]` conclude-ResponsePDU.
    ConcludeResponse,
    /// `[13]` conclude-ErrorPDU.
    ConcludeError(ServiceError),
}

/// A ConfirmedServiceRequest.
#[derive(Clone, Debug, PartialEq)]
pub enum ConfirmedRequest {
    /// `[0]` status; the BOOLEAN is extendedDerivation.
    Status {
        /// Ask the VMD to derive the status by extended self-diagnosis.
        extended_derivation: bool,
    },
    /// `[1]` getNameList.
    GetNameList(GetNameListRequest),
    /// `[2]` identify.
    Identify,
    /// `[4]` read.
    Read(ReadRequest),
    /// `[5]` write.
    Write(WriteRequest),
    /// `[6]` getVariableAccessAttributes by name. The address form decodes as
    /// `Unsupported { service_tag: 6 }`.
    GetVariableAccessAttributes(ObjectName),
    /// `[11]` defineNamedVariableList.
    DefineNamedVariableList(DefineNamedVariableListRequest),
    /// `[12]` getNamedVariableListAttributes.
    GetNamedVariableListAttributes(ObjectName),
    /// `[13]` deleteNamedVariableList.
    DeleteNamedVariableList(DeleteNamedVariableListRequest),
    /// A service ISO 9506-2 defines (tag ≤ [`MAX_KNOWN_SERVICE_TAG`]) that this codec does not
    /// decode (without the crate feature `server`: any request); its argument is skipped. Answer with a Reject (unrecognized-service) or a
    /// ConfirmedError. Encodes as an empty primitive element with that tag, except
    /// getVariableAccessAttributes (`[6]`), which encodes in the address form with an empty address.
    Unsupported {
        /// The ConfirmedServiceRequest tag number.
        service_tag: u32,
    },
}

/// A ConfirmedServiceResponse.
#[derive(Clone, Debug, PartialEq)]
pub enum ConfirmedResponse {
    /// `[0]` status.
    Status(StatusResponse),
    /// `[1]` getNameList.
    GetNameList(GetNameListResponse),
    /// `[2]` identify.
    Identify(IdentifyResponse),
    /// `[4]` read.
    Read(ReadResponse),
    /// `[5]` write: one result per variable.
    Write(Vec<WriteResult>),
    /// `[6]` getVariableAccessAttributes.
    GetVariableAccessAttributes(GetVariableAccessAttributesResponse),
    /// `[11]` defineNamedVariableList (NULL).
    DefineNamedVariableList,
    /// `[12]` getNamedVariableListAttributes.
    GetNamedVariableListAttributes(GetNamedVariableListAttributesResponse),
    /// `[13]` deleteNamedVariableList.
    DeleteNamedVariableList {
        /// numberMatched.
        number_matched: u32,
        /// numberDeleted.
        number_deleted: u32,
    },
}

/// An UnconfirmedService.
#[derive(Clone, Debug, PartialEq)]
pub enum UnconfirmedService {
    /// `[0]` informationReport.
    InformationReport(InformationReport),
    /// Any other unconfirmed service (`[1]` unsolicitedStatus, `[2]` eventNotification, …), by tag;
    /// its content is skipped. Encodes as an empty primitive element with that tag.
    Other(u32),
}

/// What went wrong while decoding a PDU.
#[derive(Clone, Debug, PartialEq)]
pub enum PduErrorKind {
    /// Malformed BER.
    Ber(ber::Error),
    /// A malformed `Data` value or type description.
    Data(DataError),
    /// The outer tag is no MMSpdu alternative.
    UnknownPdu(u32),
    /// A service tag no edition of ISO 9506-2 defines here.
    UnrecognizedService(u32),
    /// A construct ISO 9506-2 allows that this codec does not implement (request modifiers;
    /// variable specifications by address, description, scattered access or invalidated).
    Unsupported(&'static str),
    /// A list longer than [`DecodeLimits::max_list_len`].
    TooManyElements,
    /// Structurally wrong content.
    Invalid(&'static str),
}

// The two conversions are out of line in the wasm build: inlined at every `?` of the decoders,
// they cost the browser package 420 octets gzipped.
impl From<ber::Error> for PduErrorKind {
    #[cfg_attr(target_arch = "wasm32", inline(never))]
    fn from(e: ber::Error) -> Self {
        match e {
            ber::Error::TooDeep => PduErrorKind::Data(DataError::TooDeep),
            e => PduErrorKind::Ber(e),
        }
    }
}

impl From<DataError> for PduErrorKind {
    #[cfg_attr(target_arch = "wasm32", inline(never))]
    fn from(e: DataError) -> Self {
        match e {
            DataError::TooManyElements => PduErrorKind::TooManyElements,
            e => PduErrorKind::Data(e),
        }
    }
}

impl fmt::Display for PduErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PduErrorKind::Ber(e) => write!(f, "{e}"),
            PduErrorKind::Data(e) => write!(f, "{e}"),
            PduErrorKind::UnknownPdu(t) => write!(f, "unknown MMS PDU type [{t}]"),
            PduErrorKind::UnrecognizedService(t) => write!(f, "unrecognized MMS service [{t}]"),
            PduErrorKind::Unsupported(what) => write!(f, "unsupported MMS construct: {what}"),
            PduErrorKind::TooManyElements => f.write_str("MMS list longer than the limit"),
            PduErrorKind::Invalid(what) => write!(f, "invalid MMS PDU: {what}"),
        }
    }
}

impl core::error::Error for PduErrorKind {}

/// A PDU that could not be decoded, with what to answer.
#[derive(Clone, Debug, PartialEq)]
pub struct PduError {
    /// The invoke id of the confirmed request/response/error, when it could be read.
    pub invoke_id: Option<u32>,
    /// What went wrong.
    pub kind: PduErrorKind,
    /// The reject reason to answer with (ISO 9506-2 §7.3 RejectPDU).
    pub reject: RejectReason,
}

impl PduError {
    fn new(invoke_id: Option<u32>, kind: PduErrorKind, reject: RejectReason) -> Self {
        PduError {
            invoke_id,
            kind,
            reject,
        }
    }

    /// The Reject PDU answering this error.
    pub fn reject_pdu(&self) -> RejectPdu {
        RejectPdu {
            original_invoke_id: self.invoke_id,
            reason: self.reject,
        }
    }
}

impl fmt::Display for PduError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)?;
        if let Some(id) = self.invoke_id {
            write!(f, " (invoke id {id})")?;
        }
        write!(f, "; reject {}", self.reject)
    }
}

impl core::error::Error for PduError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        Some(&self.kind)
    }
}

/// Result of the service-level decoders.
pub(crate) type Res<T> = Result<T, PduErrorKind>;

/// Decode an `Unsigned32` content.
pub(crate) fn u32_of(c: &[u8]) -> Res<u32> {
    u32::try_from(primitive::decode_u64(c)?).map_err(|_| ber::Error::IntegerOverflow.into())
}

/// Decode an INTEGER content into a narrower signed type.
pub(crate) fn int_of<T: TryFrom<i64>>(c: &[u8]) -> Res<T> {
    T::try_from(primitive::decode_i64(c)?).map_err(|_| ber::Error::IntegerOverflow.into())
}

/// Push onto a decoded list, enforcing [`DecodeLimits::max_list_len`].
pub(crate) fn push_bounded<T>(v: &mut Vec<T>, x: T, limits: &DecodeLimits) -> Res<()> {
    if v.len() >= limits.max_list_len {
        return Err(PduErrorKind::TooManyElements);
    }
    v.push(x);
    Ok(())
}

/// The single element inside an explicit tag.
pub(crate) fn explicit_inner<'a>(tlv: &Tlv<'a>) -> Res<Tlv<'a>> {
    let mut r = tlv.reader()?;
    let inner = r.read()?;
    r.finish()?;
    Ok(inner)
}

const TAG_INVOKE_ID: Tag = Tag::INTEGER;

impl MmsPdu {
    /// Decode one MMS PDU; `b` must hold exactly the PDU.
    ///
    /// Deviations from ISO 9506-2 that the decoder accepts (see [`crate::deviation`]) are not
    /// reported; use [`MmsPdu::decode_with_deviations`] to hear of them.
    pub fn decode(b: &[u8], limits: &DecodeLimits) -> Result<MmsPdu, PduError> {
        MmsPdu::decode_with_deviations(b, limits, &mut Vec::new())
    }

    /// Decode one MMS PDU like [`MmsPdu::decode`], appending to `noted` every deviation from
    /// ISO 9506-2 accepted on the way (e.g. an EXPLICIT GetNameList `continueAfter`), in the order
    /// met. On error, what was appended is meaningless. `noted` is not allocated unless a
    /// deviation is met.
    pub fn decode_with_deviations(
        b: &[u8],
        limits: &DecodeLimits,
        noted: &mut Vec<Deviation>,
    ) -> Result<MmsPdu, PduError> {
        let mut r = Reader::new(b);
        let invalid =
            |e: ber::Error| PduError::new(None, e.into(), RejectReason::PDU_ERROR_INVALID_PDU);
        let tlv = r.read().map_err(invalid)?;
        r.finish().map_err(invalid)?;
        let t = tlv.tag;
        if t.class != Class::Context || t.number > 13 {
            return Err(PduError::new(
                None,
                PduErrorKind::UnknownPdu(t.number),
                RejectReason::PDU_ERROR_UNKNOWN_PDU_TYPE,
            ));
        }
        match t.number {
            0 => decode_confirmed_request(&tlv, limits, noted),
            1 => decode_confirmed_response(&tlv, limits),
            2 => decode_confirmed_error(&tlv),
            n => decode_other(n, &tlv, limits).map_err(|kind| {
                let reject = reject_for(n, &kind);
                PduError::new(None, kind, reject)
            }),
        }
    }

    /// Append the BER encoding.
    pub fn encode(&self, w: &mut Writer<'_>) {
        match self {
            MmsPdu::ConfirmedRequest { invoke_id, request } => {
                encode_confirmed_request(w, *invoke_id, request)
            }
            MmsPdu::ConfirmedResponse {
                invoke_id,
                response,
            } => w.constructed(Tag::context_cons(1), |w| {
                w.unsigned(TAG_INVOKE_ID, u64::from(*invoke_id));
                response.encode(w);
            }),
            MmsPdu::ConfirmedError { invoke_id, error } => {
                w.constructed(Tag::context_cons(2), |w| {
                    w.unsigned(Tag::context(0), u64::from(*invoke_id));
                    w.constructed(Tag::context_cons(2), |w| error.encode_content(w));
                })
            }
            MmsPdu::Unconfirmed(s) => encode_unconfirmed(w, s),
            MmsPdu::Reject(r) => r.encode(w),
            MmsPdu::CancelRequest(id) => cancel::encode_request(w, *id),
            MmsPdu::CancelResponse(id) => cancel::encode_response(w, *id),
            MmsPdu::CancelError { invoke_id, error } => cancel::encode_error(w, *invoke_id, error),
            MmsPdu::InitiateRequest(r) => r.encode(w),
            MmsPdu::InitiateResponse(r) => r.encode(w),
            MmsPdu::InitiateError(e) => {
                w.constructed(Tag::context_cons(10), |w| e.encode_content(w))
            }
            MmsPdu::ConcludeRequest => conclude::encode_request(w),
            MmsPdu::ConcludeResponse => conclude::encode_response(w),
            MmsPdu::ConcludeError(e) => conclude::encode_error(w, e),
        }
    }

    /// The encoding as a new vector.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut Writer::new(&mut out));
        out
    }
}

// The association writes its PDUs with these rather than [`MmsPdu::encode`], so a build that
// never answers requests (the browser client) links no response encoders.

/// Append a confirmed-RequestPDU.
pub(crate) fn encode_confirmed_request(w: &mut Writer<'_>, invoke_id: u32, r: &ConfirmedRequest) {
    w.constructed(Tag::context_cons(0), |w| {
        w.unsigned(TAG_INVOKE_ID, u64::from(invoke_id));
        r.encode(w);
    })
}

/// Append an unconfirmed-PDU.
pub(crate) fn encode_unconfirmed(w: &mut Writer<'_>, s: &UnconfirmedService) {
    w.constructed(Tag::context_cons(3), |w| match s {
        UnconfirmedService::InformationReport(r) => r.encode(w),
        UnconfirmedService::Other(t) => w.null(Tag::context(*t)),
    })
}

pub(crate) use cancel::encode_error as encode_cancel_error;
pub(crate) use conclude::encode_request as encode_conclude_request;
// Only a server answers a conclude.
#[cfg(feature = "server")]
pub(crate) use conclude::{
    encode_error as encode_conclude_error, encode_response as encode_conclude_response,
};

/// The reject reason for a failure inside PDU alternative `pdu` (ISO 9506-2 §7.3).
fn reject_for(pdu: u32, kind: &PduErrorKind) -> RejectReason {
    let too_deep = matches!(kind, PduErrorKind::Data(DataError::TooDeep));
    let overflow = matches!(kind, PduErrorKind::Ber(ber::Error::IntegerOverflow));
    let unrecognized = matches!(kind, PduErrorKind::UnrecognizedService(_));
    match pdu {
        0 if unrecognized => RejectReason::UNRECOGNIZED_SERVICE,
        0 if too_deep => RejectReason::MAX_RECURSION_EXCEEDED,
        0 if overflow => RejectReason::VALUE_OUT_OF_RANGE,
        0 if matches!(kind, PduErrorKind::Unsupported("listOfModifier")) => {
            RejectReason::UNRECOGNIZED_MODIFIER
        }
        0 => RejectReason::INVALID_ARGUMENT,
        1 if unrecognized => RejectReason::RESPONSE_UNRECOGNIZED_SERVICE,
        1 if too_deep => RejectReason::RESPONSE_MAX_RECURSION_EXCEEDED,
        1 if overflow => RejectReason::RESPONSE_VALUE_OUT_OF_RANGE,
        1 => RejectReason::RESPONSE_INVALID_RESULT,
        2 if overflow => RejectReason::ERROR_VALUE_OUT_OF_RANGE,
        2 => RejectReason::ERROR_INVALID_SERVICE_ERROR,
        3 if too_deep => RejectReason::UNCONFIRMED_MAX_RECURSION_EXCEEDED,
        3 if overflow => RejectReason::UNCONFIRMED_VALUE_OUT_OF_RANGE,
        3 => RejectReason::UNCONFIRMED_INVALID_ARGUMENT,
        5 => RejectReason::CANCEL_REQUEST_OTHER,
        6 => RejectReason::CANCEL_RESPONSE_OTHER,
        7 => RejectReason::CANCEL_ERROR_INVALID_SERVICE_ERROR,
        11 => RejectReason::CONCLUDE_REQUEST_INVALID_ARGUMENT,
        12 => RejectReason::CONCLUDE_RESPONSE_INVALID_RESULT,
        13 => RejectReason::CONCLUDE_ERROR_INVALID_SERVICE_ERROR,
        _ => RejectReason::PDU_ERROR_INVALID_PDU,
    }
}

/// Read the invokeID at the start of a confirmed PDU; failure is answered with invalid-invokeID.
fn invoke_id(r: &mut Reader<'_>, tag: Tag, reject: RejectReason) -> Result<u32, PduError> {
    r.expect(tag)
        .map_err(PduErrorKind::from)
        .and_then(|t| u32_of(t.primitive()?))
        .map_err(|k| PduError::new(None, k, reject))
}

fn decode_confirmed_request(
    tlv: &Tlv<'_>,
    limits: &DecodeLimits,
    noted: &mut Vec<Deviation>,
) -> Result<MmsPdu, PduError> {
    let mut r = tlv
        .reader()
        .map_err(|e| PduError::new(None, e.into(), RejectReason::PDU_ERROR_INVALID_PDU))?;
    let invoke_id = invoke_id(&mut r, TAG_INVOKE_ID, RejectReason::INVALID_INVOKE_ID)?;
    let mut body = || -> Res<ConfirmedRequest> {
        let svc = r.read()?;
        if svc.tag == Tag::SEQUENCE {
            // listOfModifier: attach-to-event-condition / attach-to-semaphore change when the
            // service runs; executing the service without them would be wrong.
            return Err(PduErrorKind::Unsupported("listOfModifier"));
        }
        // Anything after the service (the [79] request detail of ISO 9506-2:2003) is an
        // extension we skip.
        ConfirmedRequest::decode(&svc, limits, noted)
    };
    match body() {
        Ok(request) => Ok(MmsPdu::ConfirmedRequest { invoke_id, request }),
        Err(kind) => {
            let reject = reject_for(0, &kind);
            Err(PduError::new(Some(invoke_id), kind, reject))
        }
    }
}

fn decode_confirmed_response(tlv: &Tlv<'_>, limits: &DecodeLimits) -> Result<MmsPdu, PduError> {
    let mut r = tlv
        .reader()
        .map_err(|e| PduError::new(None, e.into(), RejectReason::PDU_ERROR_INVALID_PDU))?;
    let invoke_id = invoke_id(
        &mut r,
        TAG_INVOKE_ID,
        RejectReason::RESPONSE_INVALID_INVOKE_ID,
    )?;
    let mut body = || -> Res<ConfirmedResponse> {
        let svc = r.read()?;
        ConfirmedResponse::decode(&svc, limits)
    };
    match body() {
        Ok(response) => Ok(MmsPdu::ConfirmedResponse {
            invoke_id,
            response,
        }),
        Err(kind) => {
            let reject = reject_for(1, &kind);
            Err(PduError::new(Some(invoke_id), kind, reject))
        }
    }
}

fn decode_confirmed_error(tlv: &Tlv<'_>) -> Result<MmsPdu, PduError> {
    let mut r = tlv
        .reader()
        .map_err(|e| PduError::new(None, e.into(), RejectReason::PDU_ERROR_INVALID_PDU))?;
    let invoke_id = invoke_id(
        &mut r,
        Tag::context(0),
        RejectReason::ERROR_INVALID_INVOKE_ID,
    )?;
    let body = || -> Res<ServiceError> {
        r.read_if(Tag::context(1))?; // modifierPosition
        let e = ServiceError::decode_content(&r.expect(Tag::context_cons(2))?)?;
        r.finish()?;
        Ok(e)
    };
    match body() {
        Ok(error) => Ok(MmsPdu::ConfirmedError { invoke_id, error }),
        Err(kind) => {
            let reject = reject_for(2, &kind);
            Err(PduError::new(Some(invoke_id), kind, reject))
        }
    }
}

fn decode_other(n: u32, tlv: &Tlv<'_>, limits: &DecodeLimits) -> Res<MmsPdu> {
    Ok(match n {
        3 => {
            let mut r = tlv.reader()?;
            let svc = r.read()?;
            // The optional [79] request detail after the service is skipped.
            MmsPdu::Unconfirmed(match svc.tag {
                t if t == Tag::context_cons(0) => {
                    UnconfirmedService::InformationReport(InformationReport::decode(&svc, limits)?)
                }
                t if t.class == Class::Context => UnconfirmedService::Other(t.number),
                _ => return Err(PduErrorKind::Invalid("unconfirmed service tag")),
            })
        }
        4 => MmsPdu::Reject(RejectPdu::decode(tlv)?),
        5 => MmsPdu::CancelRequest(cancel::decode_id(tlv)?),
        6 => MmsPdu::CancelResponse(cancel::decode_id(tlv)?),
        7 => {
            let (invoke_id, error) = cancel::decode_error(tlv)?;
            MmsPdu::CancelError { invoke_id, error }
        }
        8 => MmsPdu::InitiateRequest(InitiateRequest::decode(tlv)?),
        9 => MmsPdu::InitiateResponse(InitiateResponse::decode(tlv)?),
        10 => MmsPdu::InitiateError(ServiceError::decode_content(tlv)?),
        11 => {
            conclude::check_null(tlv)?;
            MmsPdu::ConcludeRequest
        }
        12 => {
            conclude::check_null(tlv)?;
            MmsPdu::ConcludeResponse
        }
        _ => MmsPdu::ConcludeError(ServiceError::decode_content(tlv)?),
    })
}

impl ConfirmedRequest {
    /// The ConfirmedServiceRequest tag of this request.
    pub fn service_tag(&self) -> u32 {
        match self {
            ConfirmedRequest::Status { .. } => service_tag::STATUS,
            ConfirmedRequest::GetNameList(_) => service_tag::GET_NAME_LIST,
            ConfirmedRequest::Identify => service_tag::IDENTIFY,
            ConfirmedRequest::Read(_) => service_tag::READ,
            ConfirmedRequest::Write(_) => service_tag::WRITE,
            ConfirmedRequest::GetVariableAccessAttributes(_) => {
                service_tag::GET_VARIABLE_ACCESS_ATTRIBUTES
            }
            ConfirmedRequest::DefineNamedVariableList(_) => service_tag::DEFINE_NAMED_VARIABLE_LIST,
            ConfirmedRequest::GetNamedVariableListAttributes(_) => {
                service_tag::GET_NAMED_VARIABLE_LIST_ATTRIBUTES
            }
            ConfirmedRequest::DeleteNamedVariableList(_) => service_tag::DELETE_NAMED_VARIABLE_LIST,
            ConfirmedRequest::Unsupported { service_tag } => *service_tag,
        }
    }

    /// Decode the ConfirmedServiceRequest CHOICE element; accepted deviations go to `noted`.
    fn decode(svc: &Tlv<'_>, limits: &DecodeLimits, noted: &mut Vec<Deviation>) -> Res<Self> {
        let t = svc.tag;
        if t.class != Class::Context || t.number > MAX_KNOWN_SERVICE_TAG {
            return Err(PduErrorKind::UnrecognizedService(t.number));
        }
        if !cfg!(feature = "server") {
            // A client answers every request alike (it serves none), so it carries no request
            // decoders; the argument is skipped as for any service not implemented.
            return Ok(ConfirmedRequest::Unsupported {
                service_tag: t.number,
            });
        }
        Ok(match t.number {
            0 => ConfirmedRequest::Status {
                extended_derivation: primitive::decode_bool(svc.primitive()?)?,
            },
            1 => ConfirmedRequest::GetNameList(GetNameListRequest::decode(svc, noted)?),
            2 => {
                svc.primitive()?;
                ConfirmedRequest::Identify
            }
            4 => ConfirmedRequest::Read(ReadRequest::decode(svc, limits)?),
            5 => ConfirmedRequest::Write(WriteRequest::decode(svc, limits)?),
            6 => variable_access_attributes::decode_request(svc)?,
            11 => ConfirmedRequest::DefineNamedVariableList(
                DefineNamedVariableListRequest::decode(svc, limits)?,
            ),
            12 => {
                ConfirmedRequest::GetNamedVariableListAttributes(ObjectName::decode_explicit(svc)?)
            }
            13 => ConfirmedRequest::DeleteNamedVariableList(
                DeleteNamedVariableListRequest::decode(svc, limits)?,
            ),
            n => ConfirmedRequest::Unsupported { service_tag: n },
        })
    }

    /// Append the ConfirmedServiceRequest CHOICE element.
    fn encode(&self, w: &mut Writer<'_>) {
        match self {
            ConfirmedRequest::Status {
                extended_derivation,
            } => w.boolean(Tag::context(0), *extended_derivation),
            ConfirmedRequest::GetNameList(r) => r.encode(w),
            ConfirmedRequest::Identify => w.null(Tag::context(2)),
            ConfirmedRequest::Read(r) => r.encode(w),
            ConfirmedRequest::Write(r) => r.encode(w),
            ConfirmedRequest::GetVariableAccessAttributes(n) => w
                .constructed(Tag::context_cons(6), |w| {
                    w.constructed(Tag::context_cons(0), |w| n.encode(w))
                }),
            ConfirmedRequest::DefineNamedVariableList(r) => r.encode(w),
            ConfirmedRequest::GetNamedVariableListAttributes(n) => {
                w.constructed(Tag::context_cons(12), |w| n.encode(w))
            }
            ConfirmedRequest::DeleteNamedVariableList(r) => r.encode(w),
            // getVariableAccessAttributes decodes as Unsupported only in its address form; write
            // that form (with an empty Address) so the encoding decodes back to the same value.
            ConfirmedRequest::Unsupported {
                service_tag: service_tag::GET_VARIABLE_ACCESS_ATTRIBUTES,
            } => w.constructed(Tag::context_cons(6), |w| {
                w.constructed(Tag::context_cons(1), |_| {})
            }),
            ConfirmedRequest::Unsupported { service_tag } => w.null(Tag::context(*service_tag)),
        }
    }
}

impl ConfirmedResponse {
    /// The ConfirmedServiceResponse tag of this response.
    pub fn service_tag(&self) -> u32 {
        match self {
            ConfirmedResponse::Status(_) => service_tag::STATUS,
            ConfirmedResponse::GetNameList(_) => service_tag::GET_NAME_LIST,
            ConfirmedResponse::Identify(_) => service_tag::IDENTIFY,
            ConfirmedResponse::Read(_) => service_tag::READ,
            ConfirmedResponse::Write(_) => service_tag::WRITE,
            ConfirmedResponse::GetVariableAccessAttributes(_) => {
                service_tag::GET_VARIABLE_ACCESS_ATTRIBUTES
            }
            ConfirmedResponse::DefineNamedVariableList => service_tag::DEFINE_NAMED_VARIABLE_LIST,
            ConfirmedResponse::GetNamedVariableListAttributes(_) => {
                service_tag::GET_NAMED_VARIABLE_LIST_ATTRIBUTES
            }
            ConfirmedResponse::DeleteNamedVariableList { .. } => {
                service_tag::DELETE_NAMED_VARIABLE_LIST
            }
        }
    }

    fn decode(svc: &Tlv<'_>, limits: &DecodeLimits) -> Res<Self> {
        let t = svc.tag;
        if t.class != Class::Context {
            return Err(PduErrorKind::UnrecognizedService(t.number));
        }
        Ok(match t.number {
            0 => ConfirmedResponse::Status(StatusResponse::decode(svc)?),
            1 => ConfirmedResponse::GetNameList(GetNameListResponse::decode(svc, limits)?),
            2 => ConfirmedResponse::Identify(IdentifyResponse::decode(svc, limits)?),
            4 => ConfirmedResponse::Read(ReadResponse::decode(svc, limits)?),
            5 => ConfirmedResponse::Write(write::decode_response(svc, limits)?),
            6 => ConfirmedResponse::GetVariableAccessAttributes(
                GetVariableAccessAttributesResponse::decode(svc, limits)?,
            ),
            11 => {
                svc.primitive()?;
                ConfirmedResponse::DefineNamedVariableList
            }
            12 => ConfirmedResponse::GetNamedVariableListAttributes(
                GetNamedVariableListAttributesResponse::decode(svc, limits)?,
            ),
            13 => named_variable_list::decode_delete_response(svc)?,
            n => return Err(PduErrorKind::UnrecognizedService(n)),
        })
    }

    fn encode(&self, w: &mut Writer<'_>) {
        match self {
            ConfirmedResponse::Status(r) => r.encode(w),
            ConfirmedResponse::GetNameList(r) => r.encode(w),
            ConfirmedResponse::Identify(r) => r.encode(w),
            ConfirmedResponse::Read(r) => r.encode(w),
            ConfirmedResponse::Write(v) => write::encode_response(w, v),
            ConfirmedResponse::GetVariableAccessAttributes(r) => r.encode(w),
            ConfirmedResponse::DefineNamedVariableList => w.null(Tag::context(11)),
            ConfirmedResponse::GetNamedVariableListAttributes(r) => r.encode(w),
            ConfirmedResponse::DeleteNamedVariableList {
                number_matched,
                number_deleted,
            } => w.constructed(Tag::context_cons(13), |w| {
                w.unsigned(Tag::context(0), u64::from(*number_matched));
                w.unsigned(Tag::context(1), u64::from(*number_deleted));
            }),
        }
    }
}

/// Write a confirmed-ResponsePDU whose service response is the constructed element
/// `[service_tag]` with content written by `f` (e.g. for Read, `f` writes
/// `[1] listOfAccessResult`; see [`write_read_response`]).
#[inline]
pub fn write_confirmed_response(
    w: &mut Writer<'_>,
    invoke_id: u32,
    service_tag: u32,
    f: impl FnOnce(&mut Writer<'_>),
) {
    w.constructed(Tag::context_cons(1), |w| {
        w.unsigned(TAG_INVOKE_ID, u64::from(invoke_id));
        w.constructed(Tag::context_cons(service_tag), f);
    });
}

/// Write a Read confirmed-ResponsePDU without variableAccessSpecification; `f` writes the
/// access results (e.g. with [`write_access_success`] / [`write_access_failure`] or the
/// [`crate::mms::data::write`] helpers, one element per variable).
#[inline]
pub fn write_read_response(w: &mut Writer<'_>, invoke_id: u32, f: impl FnOnce(&mut Writer<'_>)) {
    write_confirmed_response(w, invoke_id, service_tag::READ, |w| {
        w.constructed(Tag::context_cons(1), f)
    });
}

/// Write an unconfirmed-PDU InformationReport of `variables`; `f` writes the content of
/// listOfAccessResult (one access result per variable or list member).
#[inline]
pub fn write_information_report(
    w: &mut Writer<'_>,
    variables: &VariableAccessSpecification,
    f: impl FnOnce(&mut Writer<'_>),
) {
    w.constructed(Tag::context_cons(3), |w| {
        w.constructed(Tag::context_cons(0), |w| {
            variables.encode(w);
            w.constructed(Tag::context_cons(0), f);
        })
    });
}

/// Write a successful AccessResult: the data element itself.
#[inline]
pub fn write_access_success(w: &mut Writer<'_>, data: &super::Data) {
    data.encode(w);
}

/// Write a failed AccessResult (`[0] IMPLICIT DataAccessError`).
#[inline]
pub fn write_access_failure(w: &mut Writer<'_>, error: DataAccessError) {
    w.integer(Tag::context(0), i64::from(error.0));
}
