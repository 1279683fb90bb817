//! Identify (ISO 9506-2 §10.2).
//!
//! ```text
//! Identify-Request  ::= NULL
//! Identify-Response ::= SEQUENCE { vendorName [0] IMPLICIT VisibleString,
//!   modelName [1] IMPLICIT VisibleString, revision [2] IMPLICIT VisibleString,
//!   listOfAbstractSyntaxes [3] IMPLICIT SEQUENCE OF OBJECT IDENTIFIER OPTIONAL }
//! ```

use alloc::string::String;
use alloc::vec::Vec;

use super::{push_bounded, Res};
use crate::ber::{ObjectIdentifier, Tag, Tlv, Writer};
use crate::mms::object_name::identifier;
use crate::mms::DecodeLimits;

/// An Identify response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentifyResponse {
    /// vendorName.
    pub vendor_name: String,
    /// modelName.
    pub model_name: String,
    /// revision.
    pub revision: String,
    /// listOfAbstractSyntaxes (empty when absent; encoded only when non-empty).
    pub abstract_syntaxes: Vec<ObjectIdentifier>,
}

impl IdentifyResponse {
    pub(crate) fn decode(tlv: &Tlv<'_>, limits: &DecodeLimits) -> Res<Self> {
        let mut r = tlv.reader()?;
        let vendor_name = identifier(r.expect(Tag::context(0))?.content)?;
        let model_name = identifier(r.expect(Tag::context(1))?.content)?;
        let revision = identifier(r.expect(Tag::context(2))?.content)?;
        let mut abstract_syntaxes = Vec::new();
        if let Some(l) = r.read_if(Tag::context_cons(3))? {
            let mut l = l.reader()?;
            while let Some(t) = l.read_opt()? {
                if t.tag != Tag::OID {
                    return Err(super::PduErrorKind::Invalid(
                        "abstract syntax is not an OID",
                    ));
                }
                push_bounded(
                    &mut abstract_syntaxes,
                    ObjectIdentifier::from_content(t.content)?,
                    limits,
                )?;
            }
        }
        r.finish()?;
        Ok(IdentifyResponse {
            vendor_name,
            model_name,
            revision,
            abstract_syntaxes,
        })
    }

    pub(crate) fn encode(&self, w: &mut Writer<'_>) {
        w.constructed(Tag::context_cons(2), |w| {
            w.primitive(Tag::context(0), self.vendor_name.as_bytes());
            w.primitive(Tag::context(1), self.model_name.as_bytes());
            w.primitive(Tag::context(2), self.revision.as_bytes());
            if !self.abstract_syntaxes.is_empty() {
                w.constructed(Tag::context_cons(3), |w| {
                    for o in &self.abstract_syntaxes {
                        w.primitive(Tag::OID, o.as_bytes());
                    }
                });
            }
        });
    }
}
