//! Write (ISO 9506-2 §14.7).
//!
//! ```text
//! Write-Request  ::= SEQUENCE { variableAccessSpecification VariableAccessSpecification,
//!                               listOfData [0] IMPLICIT SEQUENCE OF Data }
//! Write-Response ::= SEQUENCE OF CHOICE { failure [0] IMPLICIT DataAccessError,
//!                                         success [1] IMPLICIT NULL }
//! ```

use alloc::vec::Vec;

use super::{push_bounded, DataAccessError, PduErrorKind, Res, VariableAccessSpecification};
use crate::ber::{primitive, Tag, Tlv, Writer};
use crate::mms::data::Data;
use crate::mms::DecodeLimits;

const TAG_SERVICE: Tag = Tag::context_cons(5);
const TAG_FAILURE: Tag = Tag::context(0);
const TAG_SUCCESS: Tag = Tag::context(1);

/// A Write request.
#[derive(Clone, Debug, PartialEq)]
pub struct WriteRequest {
    /// The variables to write.
    pub variables: VariableAccessSpecification,
    /// One value per variable.
    pub data: Vec<Data>,
}

/// The outcome of writing one variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteResult {
    /// `[1]` success.
    Success,
    /// `[0]` failure.
    Failure(DataAccessError),
}

impl WriteRequest {
    pub(crate) fn decode(tlv: &Tlv<'_>, limits: &DecodeLimits) -> Res<Self> {
        let mut r = tlv.reader()?;
        let variables = VariableAccessSpecification::decode(&r.read()?, limits)?;
        let mut list = r.expect(Tag::context_cons(0))?.reader()?;
        r.finish()?;
        let mut data = Vec::new();
        while let Some(t) = list.read_opt()? {
            push_bounded(&mut data, Data::decode(&t, limits)?, limits)?;
        }
        Ok(WriteRequest { variables, data })
    }

    pub(crate) fn encode(&self, w: &mut Writer<'_>) {
        w.constructed(TAG_SERVICE, |w| {
            self.variables.encode(w);
            w.constructed(Tag::context_cons(0), |w| {
                self.data.iter().for_each(|d| d.encode(w))
            });
        });
    }
}

pub(crate) fn decode_response(tlv: &Tlv<'_>, limits: &DecodeLimits) -> Res<Vec<WriteResult>> {
    let mut r = tlv.reader()?;
    let mut out = Vec::new();
    while let Some(t) = r.read_opt()? {
        let res = match t.tag {
            TAG_SUCCESS => WriteResult::Success,
            TAG_FAILURE => {
                let v = primitive::decode_i64(t.content)?;
                WriteResult::Failure(DataAccessError(
                    u8::try_from(v).map_err(|_| crate::ber::Error::IntegerOverflow)?,
                ))
            }
            _ => return Err(PduErrorKind::Invalid("write result")),
        };
        push_bounded(&mut out, res, limits)?;
    }
    Ok(out)
}

pub(crate) fn encode_response(w: &mut Writer<'_>, results: &[WriteResult]) {
    w.constructed(TAG_SERVICE, |w| {
        for r in results {
            match r {
                WriteResult::Success => w.null(TAG_SUCCESS),
                WriteResult::Failure(e) => w.integer(TAG_FAILURE, i64::from(e.0)),
            }
        }
    });
}
