//! Read (ISO 9506-2 §14.6).
//!
//! ```text
//! Read-Request  ::= SEQUENCE { specificationWithResult [0] IMPLICIT BOOLEAN DEFAULT FALSE,
//!                              variableAccessSpecification [1] VariableAccessSpecification }
//! Read-Response ::= SEQUENCE { variableAccessSpecification [0] VariableAccessSpecification OPTIONAL,
//!                              listOfAccessResult [1] IMPLICIT SEQUENCE OF AccessResult }
//! ```

use alloc::vec::Vec;

use super::access::{decode_results, encode_results};
use super::{AccessResult, Res, VariableAccessSpecification};
use crate::ber::{primitive, Tag, Tlv, Writer};
use crate::mms::DecodeLimits;

const TAG_SERVICE: Tag = Tag::context_cons(4);

/// A Read request.
#[derive(Clone, Debug, PartialEq)]
pub struct ReadRequest {
    /// Ask the server to return the variable access specification with the results.
    pub specification_with_result: bool,
    /// The variables to read.
    pub variables: VariableAccessSpecification,
}

/// A Read response.
#[derive(Clone, Debug, PartialEq)]
pub struct ReadResponse {
    /// The variable access specification, when the request asked for it.
    pub variables: Option<VariableAccessSpecification>,
    /// One result per variable (or per named-variable-list member).
    pub results: Vec<AccessResult>,
}

impl ReadRequest {
    pub(crate) fn decode(tlv: &Tlv<'_>, limits: &DecodeLimits) -> Res<Self> {
        let mut r = tlv.reader()?;
        let specification_with_result = match r.read_if(Tag::context(0))? {
            Some(t) => primitive::decode_bool(t.content)?,
            None => false,
        };
        let variables =
            VariableAccessSpecification::decode_explicit(&r.expect(Tag::context_cons(1))?, limits)?;
        r.finish()?;
        Ok(ReadRequest {
            specification_with_result,
            variables,
        })
    }

    pub(crate) fn encode(&self, w: &mut Writer<'_>) {
        w.constructed(TAG_SERVICE, |w| {
            if self.specification_with_result {
                w.boolean(Tag::context(0), true);
            }
            w.constructed(Tag::context_cons(1), |w| self.variables.encode(w));
        });
    }
}

impl ReadResponse {
    pub(crate) fn decode(tlv: &Tlv<'_>, limits: &DecodeLimits) -> Res<Self> {
        let mut r = tlv.reader()?;
        let variables = match r.read_if(Tag::context_cons(0))? {
            Some(t) => Some(VariableAccessSpecification::decode_explicit(&t, limits)?),
            None => None,
        };
        let results = decode_results(&r.expect(Tag::context_cons(1))?, limits)?;
        r.finish()?;
        Ok(ReadResponse { variables, results })
    }

    pub(crate) fn encode(&self, w: &mut Writer<'_>) {
        w.constructed(TAG_SERVICE, |w| {
            if let Some(v) = &self.variables {
                w.constructed(Tag::context_cons(0), |w| v.encode(w));
            }
            encode_results(w, Tag::context_cons(1), &self.results);
        });
    }
}
