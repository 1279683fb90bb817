//! InformationReport (ISO 9506-2 §14.8): how TASE.2 servers send data-set reports and how clients
//! acknowledge critical reports.
//!
//! ```text
//! InformationReport ::= SEQUENCE { variableAccessSpecification VariableAccessSpecification,
//!                                  listOfAccessResult [0] IMPLICIT SEQUENCE OF AccessResult }
//! ```

use alloc::vec::Vec;

use super::access::{decode_results, encode_results};
use super::{AccessResult, Res, VariableAccessSpecification};
use crate::ber::{Tag, Tlv, Writer};
use crate::mms::DecodeLimits;

/// An InformationReport.
#[derive(Clone, Debug, PartialEq)]
pub struct InformationReport {
    /// The reported variables or the named variable list.
    pub variables: VariableAccessSpecification,
    /// One result per variable or list member.
    pub results: Vec<AccessResult>,
}

impl InformationReport {
    /// Decode the `[0]` unconfirmed-service element.
    pub(crate) fn decode(tlv: &Tlv<'_>, limits: &DecodeLimits) -> Res<Self> {
        let mut r = tlv.reader()?;
        let variables = VariableAccessSpecification::decode(&r.read()?, limits)?;
        let results = decode_results(&r.expect(Tag::context_cons(0))?, limits)?;
        r.finish()?;
        Ok(InformationReport { variables, results })
    }

    /// Append the `[0]` unconfirmed-service element.
    pub(crate) fn encode(&self, w: &mut Writer<'_>) {
        w.constructed(Tag::context_cons(0), |w| {
            self.variables.encode(w);
            encode_results(w, Tag::context_cons(0), &self.results);
        });
    }
}
