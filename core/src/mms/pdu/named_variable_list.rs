//! Named variable lists, i.e. TASE.2 data sets (ISO 9506-2 §14.12–14.14).
//!
//! ```text
//! DefineNamedVariableList-Request ::= SEQUENCE { variableListName ObjectName,
//!   listOfVariable [0] IMPLICIT SEQUENCE OF SEQUENCE { variableSpecification, alternateAccess [5] OPTIONAL } }
//! DefineNamedVariableList-Response ::= NULL
//! GetNamedVariableListAttributes-Request ::= ObjectName
//! GetNamedVariableListAttributes-Response ::= SEQUENCE { mmsDeletable [0] IMPLICIT BOOLEAN,
//!   listOfVariable [1] IMPLICIT SEQUENCE OF SEQUENCE { … } }
//! DeleteNamedVariableList-Request ::= SEQUENCE {
//!   scopeOfDelete [0] IMPLICIT INTEGER { specific(0), aa-specific(1), domain(2), vmd(3) } DEFAULT specific,
//!   listOfVariableListName [1] IMPLICIT SEQUENCE OF ObjectName OPTIONAL,
//!   domainName [2] IMPLICIT Identifier OPTIONAL }
//! DeleteNamedVariableList-Response ::= SEQUENCE { numberMatched [0] IMPLICIT Unsigned32,
//!   numberDeleted [1] IMPLICIT Unsigned32 }
//! ```

use alloc::string::String;
use alloc::vec::Vec;

use super::access::{decode_variable_list, encode_variable_list};
use super::{push_bounded, u32_of, ConfirmedResponse, PduErrorKind, Res, VariableSpec};
use crate::ber::{primitive, Tag, Tlv, Writer};
use crate::mms::object_name::{identifier, ObjectName};
use crate::mms::DecodeLimits;

/// A DefineNamedVariableList request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DefineNamedVariableListRequest {
    /// The list's name.
    pub name: ObjectName,
    /// Its members.
    pub variables: Vec<VariableSpec>,
}

/// A GetNamedVariableListAttributes response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GetNamedVariableListAttributesResponse {
    /// Whether the list may be deleted through MMS.
    pub mms_deletable: bool,
    /// Its members.
    pub variables: Vec<VariableSpec>,
}

/// scopeOfDelete.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum DeleteScope {
    /// 0: the lists named in `names`.
    #[default]
    Specific,
    /// 1: every association-specific list.
    AaSpecific,
    /// 2: every list of `domain`.
    Domain,
    /// 3: every VMD-specific list.
    Vmd,
}

/// A DeleteNamedVariableList request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeleteNamedVariableListRequest {
    /// scopeOfDelete (always encoded, as libiec61850 does, although it defaults to specific).
    pub scope: DeleteScope,
    /// listOfVariableListName (empty when absent; encoded only when non-empty).
    pub names: Vec<ObjectName>,
    /// domainName.
    pub domain: Option<String>,
}

impl DefineNamedVariableListRequest {
    pub(crate) fn decode(tlv: &Tlv<'_>, limits: &DecodeLimits) -> Res<Self> {
        let mut r = tlv.reader()?;
        let name = ObjectName::decode(&r.read()?)?;
        let variables = decode_variable_list(&r.expect(Tag::context_cons(0))?, limits)?;
        r.finish()?;
        Ok(DefineNamedVariableListRequest { name, variables })
    }

    pub(crate) fn encode(&self, w: &mut Writer<'_>) {
        w.constructed(Tag::context_cons(11), |w| {
            self.name.encode(w);
            encode_variable_list(w, Tag::context_cons(0), &self.variables);
        });
    }
}

impl GetNamedVariableListAttributesResponse {
    pub(crate) fn decode(tlv: &Tlv<'_>, limits: &DecodeLimits) -> Res<Self> {
        let mut r = tlv.reader()?;
        let mms_deletable = primitive::decode_bool(r.expect(Tag::context(0))?.content)?;
        let variables = decode_variable_list(&r.expect(Tag::context_cons(1))?, limits)?;
        r.finish()?;
        Ok(GetNamedVariableListAttributesResponse {
            mms_deletable,
            variables,
        })
    }

    pub(crate) fn encode(&self, w: &mut Writer<'_>) {
        w.constructed(Tag::context_cons(12), |w| {
            w.boolean(Tag::context(0), self.mms_deletable);
            encode_variable_list(w, Tag::context_cons(1), &self.variables);
        });
    }
}

impl DeleteNamedVariableListRequest {
    pub(crate) fn decode(tlv: &Tlv<'_>, limits: &DecodeLimits) -> Res<Self> {
        let mut r = tlv.reader()?;
        let scope = match r.read_if(Tag::context(0))? {
            Some(t) => match primitive::decode_i64(t.content)? {
                0 => DeleteScope::Specific,
                1 => DeleteScope::AaSpecific,
                2 => DeleteScope::Domain,
                3 => DeleteScope::Vmd,
                _ => return Err(PduErrorKind::Invalid("scopeOfDelete")),
            },
            None => DeleteScope::Specific,
        };
        let mut names = Vec::new();
        if let Some(l) = r.read_if(Tag::context_cons(1))? {
            let mut l = l.reader()?;
            while let Some(t) = l.read_opt()? {
                push_bounded(&mut names, ObjectName::decode(&t)?, limits)?;
            }
        }
        let domain = match r.read_if(Tag::context(2))? {
            Some(t) => Some(identifier(t.content)?),
            None => None,
        };
        r.finish()?;
        Ok(DeleteNamedVariableListRequest {
            scope,
            names,
            domain,
        })
    }

    pub(crate) fn encode(&self, w: &mut Writer<'_>) {
        w.constructed(Tag::context_cons(13), |w| {
            let scope = match self.scope {
                DeleteScope::Specific => 0,
                DeleteScope::AaSpecific => 1,
                DeleteScope::Domain => 2,
                DeleteScope::Vmd => 3,
            };
            w.integer(Tag::context(0), scope);
            if !self.names.is_empty() {
                w.constructed(Tag::context_cons(1), |w| {
                    self.names.iter().for_each(|n| n.encode(w))
                });
            }
            if let Some(d) = &self.domain {
                w.primitive(Tag::context(2), d.as_bytes());
            }
        });
    }
}

pub(crate) fn decode_delete_response(tlv: &Tlv<'_>) -> Res<ConfirmedResponse> {
    let mut r = tlv.reader()?;
    let number_matched = u32_of(r.expect(Tag::context(0))?.content)?;
    let number_deleted = u32_of(r.expect(Tag::context(1))?.content)?;
    r.finish()?;
    Ok(ConfirmedResponse::DeleteNamedVariableList {
        number_matched,
        number_deleted,
    })
}
