//! GetNameList (ISO 9506-2 §10.5).
//!
//! ```text
//! GetNameList-Request ::= SEQUENCE {
//!   extendedObjectClass [0] CHOICE { objectClass [0] IMPLICIT ObjectClass, csObjectClass [1] … },
//!   objectScope [1] CHOICE { vmdSpecific [0] NULL, domainSpecific [1] Identifier, aaSpecific [2] NULL },
//!   continueAfter [2] IMPLICIT Identifier OPTIONAL }
//! GetNameList-Response ::= SEQUENCE { listOfIdentifier [0] IMPLICIT SEQUENCE OF Identifier,
//!                                     moreFollows [1] IMPLICIT BOOLEAN DEFAULT TRUE }
//! ```

use alloc::string::String;
use alloc::vec::Vec;

use super::{explicit_inner, push_bounded, PduErrorKind, Res};
use crate::ber::{primitive, Tag, Tlv, Writer};
use crate::mms::object_name::{identifier, TAG_IDENTIFIER};
use crate::mms::DecodeLimits;

const TAG_SERVICE: Tag = Tag::context_cons(1);

/// The class of objects to list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ObjectClass {
    /// 0 namedVariable.
    NamedVariable,
    /// 1 scatteredAccess.
    ScatteredAccess,
    /// 2 namedVariableList.
    NamedVariableList,
    /// 3 namedType.
    NamedType,
    /// 4 semaphore.
    Semaphore,
    /// 5 eventCondition.
    EventCondition,
    /// 6 eventAction.
    EventAction,
    /// 7 eventEnrollment.
    EventEnrollment,
    /// 8 journal.
    Journal,
    /// 9 domain.
    Domain,
    /// 10 programInvocation.
    ProgramInvocation,
    /// 11 operatorStation.
    OperatorStation,
    /// Another basic object class number.
    Other(i64),
    /// `[1]` csObjectClass (companion-standard class), by number.
    CompanionStandard(i64),
}

impl ObjectClass {
    /// The basicObjectClass number (`None` for a companion-standard class).
    pub fn number(self) -> Option<i64> {
        Some(match self {
            ObjectClass::NamedVariable => 0,
            ObjectClass::ScatteredAccess => 1,
            ObjectClass::NamedVariableList => 2,
            ObjectClass::NamedType => 3,
            ObjectClass::Semaphore => 4,
            ObjectClass::EventCondition => 5,
            ObjectClass::EventAction => 6,
            ObjectClass::EventEnrollment => 7,
            ObjectClass::Journal => 8,
            ObjectClass::Domain => 9,
            ObjectClass::ProgramInvocation => 10,
            ObjectClass::OperatorStation => 11,
            ObjectClass::Other(n) => n,
            ObjectClass::CompanionStandard(_) => return None,
        })
    }

    /// The class with basicObjectClass number `n`.
    pub fn from_number(n: i64) -> Self {
        match n {
            0 => ObjectClass::NamedVariable,
            1 => ObjectClass::ScatteredAccess,
            2 => ObjectClass::NamedVariableList,
            3 => ObjectClass::NamedType,
            4 => ObjectClass::Semaphore,
            5 => ObjectClass::EventCondition,
            6 => ObjectClass::EventAction,
            7 => ObjectClass::EventEnrollment,
            8 => ObjectClass::Journal,
            9 => ObjectClass::Domain,
            10 => ObjectClass::ProgramInvocation,
            11 => ObjectClass::OperatorStation,
            n => ObjectClass::Other(n),
        }
    }
}

/// Where to look for names.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ObjectScope {
    /// `[0]` VMD-specific objects.
    Vmd,
    /// `[1]` objects of this domain.
    Domain(String),
    /// `[2]` association-specific objects.
    AssociationSpecific,
}

/// A GetNameList request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GetNameListRequest {
    /// What kind of objects.
    pub object_class: ObjectClass,
    /// Which scope.
    pub scope: ObjectScope,
    /// Continue after this name (paging).
    pub continue_after: Option<String>,
}

/// A GetNameList response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GetNameListResponse {
    /// The names, in order.
    pub identifiers: Vec<String>,
    /// More names follow (ask again with `continue_after`). On the wire the field is
    /// DEFAULT TRUE: absent means true. We always encode it explicitly.
    pub more_follows: bool,
}

impl GetNameListRequest {
    pub(crate) fn decode(tlv: &Tlv<'_>) -> Res<Self> {
        let mut r = tlv.reader()?;
        let class = explicit_inner(&r.expect(Tag::context_cons(0))?)?;
        let n = primitive::decode_i64(class.primitive()?)?;
        let object_class = match class.tag {
            t if t == Tag::context(0) => ObjectClass::from_number(n),
            t if t == Tag::context(1) => ObjectClass::CompanionStandard(n),
            _ => return Err(PduErrorKind::Invalid("extendedObjectClass")),
        };
        let scope = explicit_inner(&r.expect(Tag::context_cons(1))?)?;
        let scope = match scope.tag {
            t if t == Tag::context(0) => ObjectScope::Vmd,
            t if t == Tag::context(1) => ObjectScope::Domain(identifier(scope.content)?),
            t if t == Tag::context(2) => ObjectScope::AssociationSpecific,
            _ => return Err(PduErrorKind::Invalid("objectScope")),
        };
        let continue_after = match r.read_if(Tag::context(2))? {
            Some(t) => Some(identifier(t.content)?),
            None => None,
        };
        r.finish()?;
        Ok(GetNameListRequest {
            object_class,
            scope,
            continue_after,
        })
    }

    pub(crate) fn encode(&self, w: &mut Writer<'_>) {
        w.constructed(TAG_SERVICE, |w| {
            w.constructed(Tag::context_cons(0), |w| match self.object_class.number() {
                Some(n) => w.integer(Tag::context(0), n),
                None => {
                    if let ObjectClass::CompanionStandard(n) = self.object_class {
                        w.integer(Tag::context(1), n);
                    }
                }
            });
            w.constructed(Tag::context_cons(1), |w| match &self.scope {
                ObjectScope::Vmd => w.null(Tag::context(0)),
                ObjectScope::Domain(d) => w.primitive(Tag::context(1), d.as_bytes()),
                ObjectScope::AssociationSpecific => w.null(Tag::context(2)),
            });
            if let Some(c) = &self.continue_after {
                w.primitive(Tag::context(2), c.as_bytes());
            }
        });
    }
}

impl GetNameListResponse {
    pub(crate) fn decode(tlv: &Tlv<'_>, limits: &DecodeLimits) -> Res<Self> {
        let mut r = tlv.reader()?;
        let mut list = r.expect(Tag::context_cons(0))?.reader()?;
        let mut identifiers = Vec::new();
        while let Some(t) = list.read_opt()? {
            if t.tag != TAG_IDENTIFIER {
                return Err(PduErrorKind::Invalid("listOfIdentifier entry"));
            }
            push_bounded(&mut identifiers, identifier(t.content)?, limits)?;
        }
        let more_follows = match r.read_if(Tag::context(1))? {
            Some(t) => primitive::decode_bool(t.content)?,
            None => true,
        };
        r.finish()?;
        Ok(GetNameListResponse {
            identifiers,
            more_follows,
        })
    }

    pub(crate) fn encode(&self, w: &mut Writer<'_>) {
        w.constructed(TAG_SERVICE, |w| {
            w.constructed(Tag::context_cons(0), |w| {
                for i in &self.identifiers {
                    w.primitive(TAG_IDENTIFIER, i.as_bytes());
                }
            });
            w.boolean(Tag::context(1), self.more_follows);
        });
    }
}
