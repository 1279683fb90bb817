//! GetVariableAccessAttributes (ISO 9506-2 §14.9).
//!
//! ```text
//! GetVariableAccessAttributes-Request ::= CHOICE { name [0] ObjectName, address [1] Address }
//! GetVariableAccessAttributes-Response ::= SEQUENCE { mmsDeletable [0] IMPLICIT BOOLEAN,
//!   address [1] Address OPTIONAL, typeSpecification [2] TypeSpecification }
//! ```
//! The address form of the request decodes as `ConfirmedRequest::Unsupported { service_tag: 6 }`;
//! an address in a response is skipped.

use super::{explicit_inner, ConfirmedRequest, PduErrorKind, Res};
use crate::ber::{primitive, Tag, Tlv, Writer};
use crate::mms::object_name::ObjectName;
use crate::mms::types::{TypeDescription, TypeSpecification};
use crate::mms::DecodeLimits;

const TAG_SERVICE: Tag = Tag::context_cons(6);

/// A GetVariableAccessAttributes response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GetVariableAccessAttributesResponse {
    /// Whether the variable may be deleted through MMS.
    pub mms_deletable: bool,
    /// The variable's type. A `typeName` specification on the wire is refused (TASE.2 servers
    /// always describe the type).
    pub type_description: TypeDescription,
}

pub(crate) fn decode_request(tlv: &Tlv<'_>) -> Res<ConfirmedRequest> {
    let inner = explicit_inner(tlv)?;
    match inner.tag {
        t if t == Tag::context_cons(0) => Ok(ConfirmedRequest::GetVariableAccessAttributes(
            ObjectName::decode_explicit(&inner)?,
        )),
        t if t == Tag::context_cons(1) => Ok(ConfirmedRequest::Unsupported {
            service_tag: super::service_tag::GET_VARIABLE_ACCESS_ATTRIBUTES,
        }),
        _ => Err(PduErrorKind::Invalid("getVariableAccessAttributes request")),
    }
}

impl GetVariableAccessAttributesResponse {
    pub(crate) fn decode(tlv: &Tlv<'_>, limits: &DecodeLimits) -> Res<Self> {
        let mut r = tlv.reader()?;
        let mms_deletable = primitive::decode_bool(r.expect(Tag::context(0))?.content)?;
        r.read_if(Tag::context_cons(1))?; // address
        let ts = explicit_inner(&r.expect(Tag::context_cons(2))?)?;
        r.finish()?;
        match TypeSpecification::decode(&ts, limits)? {
            TypeSpecification::Description(type_description) => Ok(Self {
                mms_deletable,
                type_description,
            }),
            TypeSpecification::TypeName(_) => Err(PduErrorKind::Unsupported(
                "typeName in getVariableAccessAttributes response",
            )),
        }
    }

    pub(crate) fn encode(&self, w: &mut Writer<'_>) {
        w.constructed(TAG_SERVICE, |w| {
            w.boolean(Tag::context(0), self.mms_deletable);
            w.constructed(Tag::context_cons(2), |w| self.type_description.encode(w));
        });
    }
}
