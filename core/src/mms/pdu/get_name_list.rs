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
use crate::deviation::{Deviation, DeviationKind};
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
    /// Decode the request; deviations accepted on the way are appended to `noted`.
    pub(crate) fn decode(tlv: &Tlv<'_>, noted: &mut Vec<Deviation>) -> Res<Self> {
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
        let continue_after = if let Some(t) = r.read_if(Tag::context(2))? {
            Some(identifier(t.content)?)
        } else if let Some(t) = r.read_if(Tag::context_cons(2))? {
            // ISO 9506-2 §10.5.1 has `continueAfter [2] IMPLICIT Identifier`; some clients send
            // the Identifier inside an EXPLICIT [2] (`a2 L 1a L …`). Nothing else can be meant, so
            // accept it and say so. Anything but one Identifier inside is still invalid.
            let inner = explicit_inner(&t)?;
            if inner.tag != TAG_IDENTIFIER {
                return Err(PduErrorKind::Invalid("continueAfter"));
            }
            let name = identifier(inner.primitive()?)?;
            noted.push(Deviation::new(DeviationKind::ExplicitContinueAfter));
            Some(name)
        } else {
            None
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

#[cfg(test)]
mod tests {
    use alloc::vec;

    use super::*;
    use crate::mms::testutil::hex;
    use crate::mms::{ConfirmedRequest, MmsPdu, RejectReason};

    // confirmed-RequestPDU { invokeID 7, getNameList { objectClass namedVariable,
    // objectScope domainSpecific "ICC1", continueAfter … } }; only continueAfter differs.
    const HEAD: &str = "020107";
    const CLASS_AND_SCOPE: &str = "a003800100a106810449434331";
    const POINT_0100: &str = "506f696e745f30313030";

    fn request(continue_after: &str) -> Vec<u8> {
        let body = hex(&alloc::format!("{CLASS_AND_SCOPE}{continue_after}").replace(' ', ""));
        let mut svc = vec![0xa1, body.len() as u8];
        svc.extend(body);
        let mut pdu = vec![0xa0, (svc.len() + 3) as u8];
        pdu.extend(hex(HEAD));
        pdu.extend(svc);
        pdu
    }

    fn decode(b: &[u8]) -> (Result<MmsPdu, crate::mms::PduError>, Vec<Deviation>) {
        let mut noted = Vec::new();
        let r = MmsPdu::decode_with_deviations(b, &DecodeLimits::default(), &mut noted);
        (r, noted)
    }

    fn continue_after_of(pdu: MmsPdu) -> Option<String> {
        let MmsPdu::ConfirmedRequest {
            invoke_id: 7,
            request: ConfirmedRequest::GetNameList(r),
        } = pdu
        else {
            panic!("{pdu:?}")
        };
        assert_eq!(r.object_class, ObjectClass::NamedVariable);
        assert_eq!(r.scope, ObjectScope::Domain("ICC1".into()));
        r.continue_after
    }

    #[test]
    fn an_explicit_continue_after_decodes_and_is_noted() {
        // a2 0c { 1a 0a "Point_0100" }: an EXPLICIT [2] around a VisibleString.
        let b = request(&alloc::format!("a20c1a0a{POINT_0100}"));
        assert_eq!(b[..2], [0xa0, 0x20]);
        let (r, noted) = decode(&b);
        assert_eq!(continue_after_of(r.unwrap()).as_deref(), Some("Point_0100"));
        assert_eq!(
            noted,
            [Deviation::new(DeviationKind::ExplicitContinueAfter)]
        );
    }

    #[test]
    fn an_implicit_continue_after_notes_no_deviation() {
        // 82 0a "Point_0100": [2] IMPLICIT Identifier, as ISO 9506-2 §10.5.1 has it.
        let (r, noted) = decode(&request(&alloc::format!("820a{POINT_0100}")));
        assert_eq!(continue_after_of(r.unwrap()).as_deref(), Some("Point_0100"));
        assert!(noted.is_empty());
        let (r, noted) = decode(&request(""));
        assert_eq!(continue_after_of(r.unwrap()), None);
        assert!(noted.is_empty());
    }

    #[test]
    fn an_explicit_continue_after_not_holding_one_identifier_is_rejected() {
        for bad in [
            "a203020105".into(),                        // an INTEGER inside
            "a200".into(),                              // nothing inside
            alloc::format!("a20c1a0a{POINT_0100}00"),   // length runs past
            alloc::format!("a20e1a0a{POINT_0100}0500"), // something after the Identifier
            "a2031a01ff".into(),                        // not text
            "a2043a021a00".into(),                      // a constructed VisibleString
        ] {
            let (r, _) = decode(&request(&bad));
            let e = r.expect_err(&bad);
            assert_eq!(e.invoke_id, Some(7), "{bad}");
            assert_eq!(e.reject, RejectReason::INVALID_ARGUMENT, "{bad}");
        }
    }

    #[test]
    fn our_encoder_writes_continue_after_implicit() {
        let req = GetNameListRequest {
            object_class: ObjectClass::NamedVariable,
            scope: ObjectScope::Domain("ICC1".into()),
            continue_after: Some("Point_0100".into()),
        };
        let mut out = Vec::new();
        req.encode(&mut Writer::new(&mut out));
        let implicit = request(&alloc::format!("820a{POINT_0100}"));
        // The service element of the full PDU above: after a0 1e 02 01 07.
        assert_eq!(out, implicit[5..]);
    }
}
