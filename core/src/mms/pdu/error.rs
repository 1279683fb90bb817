//! ServiceError (ISO 9506-2 §7.4).
//!
//! ```text
//! ServiceError ::= SEQUENCE {
//!   errorClass [0] CHOICE { vmd-state [0] INTEGER, application-reference [1], definition [2],
//!       resource [3], service [4], service-preempt [5], time-resolution [6], access [7],
//!       initiate [8], conclude [9], cancel [10], file [11], others [12] },
//!   additionalCode [1] IMPLICIT INTEGER OPTIONAL,
//!   additionalDescription [2] IMPLICIT VisibleString OPTIONAL,
//!   serviceSpecificInformation [3] CHOICE { … } OPTIONAL }   -- skipped when decoding
//! ```

use alloc::string::String;
use core::fmt;

use super::{explicit_inner, PduErrorKind, Res};
use crate::ber::{primitive, Class, Tag, Tlv, Writer};
use crate::mms::object_name::identifier;

/// An error class and its code (ISO 9506-2 §7.4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ErrorClass {
    /// The class: 0 vmd-state, 1 application-reference, 2 definition, 3 resource, 4 service,
    /// 5 service-preempt, 6 time-resolution, 7 access, 8 initiate, 9 conclude, 10 cancel,
    /// 11 file, 12 others.
    pub class: u8,
    /// The code within the class.
    pub code: i64,
}

macro_rules! classes {
    ($($(#[$m:meta])* $ctor:ident = $n:expr;)*) => {
        impl ErrorClass {
            $(
                $(#[$m])*
                pub const fn $ctor(code: i64) -> Self {
                    ErrorClass { class: $n, code }
                }
            )*
        }
    };
}

classes! {
    /// Class 0 vmd-state.
    vmd_state = 0;
    /// Class 1 application-reference.
    application_reference = 1;
    /// Class 2 definition.
    definition = 2;
    /// Class 3 resource.
    resource = 3;
    /// Class 4 service.
    service = 4;
    /// Class 5 service-preempt.
    service_preempt = 5;
    /// Class 6 time-resolution.
    time_resolution = 6;
    /// Class 7 access.
    access = 7;
    /// Class 8 initiate.
    initiate = 8;
    /// Class 9 conclude.
    conclude = 9;
    /// Class 10 cancel.
    cancel = 10;
    /// Class 11 file.
    file = 11;
    /// Class 12 others.
    others = 12;
}

impl ErrorClass {
    /// vmd-state other (0/0).
    pub const VMD_STATE_OTHER: Self = Self::vmd_state(0);
    /// vmd-state vmd-state-conflict (0/1).
    pub const VMD_STATE_CONFLICT: Self = Self::vmd_state(1);
    /// definition other (2/0).
    pub const DEFINITION_OTHER: Self = Self::definition(0);
    /// definition object-undefined (2/1).
    pub const DEFINITION_OBJECT_UNDEFINED: Self = Self::definition(1);
    /// definition invalid-address (2/2).
    pub const DEFINITION_INVALID_ADDRESS: Self = Self::definition(2);
    /// definition type-unsupported (2/3).
    pub const DEFINITION_TYPE_UNSUPPORTED: Self = Self::definition(3);
    /// definition type-inconsistent (2/4).
    pub const DEFINITION_TYPE_INCONSISTENT: Self = Self::definition(4);
    /// definition object-exists (2/5).
    pub const DEFINITION_OBJECT_EXISTS: Self = Self::definition(5);
    /// definition object-attribute-inconsistent (2/6).
    pub const DEFINITION_OBJECT_ATTRIBUTE_INCONSISTENT: Self = Self::definition(6);
    /// resource other (3/0).
    pub const RESOURCE_OTHER: Self = Self::resource(0);
    /// resource memory-unavailable (3/1).
    pub const RESOURCE_MEMORY_UNAVAILABLE: Self = Self::resource(1);
    /// resource capability-unavailable (3/4).
    pub const RESOURCE_CAPABILITY_UNAVAILABLE: Self = Self::resource(4);
    /// service other (4/0).
    pub const SERVICE_OTHER: Self = Self::service(0);
    /// service primitives-out-of-sequence (4/1).
    pub const SERVICE_PRIMITIVES_OUT_OF_SEQUENCE: Self = Self::service(1);
    /// service object-state-conflict (4/2).
    pub const SERVICE_OBJECT_STATE_CONFLICT: Self = Self::service(2);
    /// service pdu-size (4/3).
    pub const SERVICE_PDU_SIZE: Self = Self::service(3);
    /// service continuation-invalid (4/4).
    pub const SERVICE_CONTINUATION_INVALID: Self = Self::service(4);
    /// service object-constraint-conflict (4/5).
    pub const SERVICE_OBJECT_CONSTRAINT_CONFLICT: Self = Self::service(5);
    /// access other (7/0).
    pub const ACCESS_OTHER: Self = Self::access(0);
    /// access object-access-unsupported (7/1).
    pub const ACCESS_OBJECT_ACCESS_UNSUPPORTED: Self = Self::access(1);
    /// access object-non-existent (7/2).
    pub const ACCESS_OBJECT_NON_EXISTENT: Self = Self::access(2);
    /// access object-access-denied (7/3).
    pub const ACCESS_OBJECT_ACCESS_DENIED: Self = Self::access(3);
    /// access object-invalidated (7/4).
    pub const ACCESS_OBJECT_INVALIDATED: Self = Self::access(4);
    /// initiate other (8/0).
    pub const INITIATE_OTHER: Self = Self::initiate(0);
    /// initiate version-incompatible (8/1).
    pub const INITIATE_VERSION_INCOMPATIBLE: Self = Self::initiate(1);
    /// initiate max-segment-insufficient (8/2).
    pub const INITIATE_MAX_SEGMENT_INSUFFICIENT: Self = Self::initiate(2);
    /// initiate max-services-outstanding-calling-insufficient (8/3).
    pub const INITIATE_MAX_SERVICES_OUTSTANDING_CALLING_INSUFFICIENT: Self = Self::initiate(3);
    /// initiate max-services-outstanding-called-insufficient (8/4).
    pub const INITIATE_MAX_SERVICES_OUTSTANDING_CALLED_INSUFFICIENT: Self = Self::initiate(4);
    /// initiate service-CBB-insufficient (8/5).
    pub const INITIATE_SERVICE_CBB_INSUFFICIENT: Self = Self::initiate(5);
    /// initiate parameter-CBB-insufficient (8/6).
    pub const INITIATE_PARAMETER_CBB_INSUFFICIENT: Self = Self::initiate(6);
    /// initiate nesting-level-insufficient (8/7).
    pub const INITIATE_NESTING_LEVEL_INSUFFICIENT: Self = Self::initiate(7);
    /// conclude further-communication-required (9/1).
    pub const CONCLUDE_FURTHER_COMMUNICATION_REQUIRED: Self = Self::conclude(1);
    /// cancel invoke-id-unknown (10/1).
    pub const CANCEL_INVOKE_ID_UNKNOWN: Self = Self::cancel(1);
    /// cancel cancel-not-possible (10/2).
    pub const CANCEL_NOT_POSSIBLE: Self = Self::cancel(2);
}

impl ErrorClass {
    /// The ISO 9506-2 §7.4.1 name of the class (`access`), if the class is one it defines.
    pub fn class_name(self) -> Option<&'static str> {
        CLASSES.get(usize::from(self.class)).map(|c| c.0)
    }

    /// The ISO 9506-2 §7.4.1 name of the code within its class (`object-non-existent`), if defined.
    /// Class `others` has no named codes.
    pub fn code_name(self) -> Option<&'static str> {
        let codes = CLASSES.get(usize::from(self.class))?.1;
        usize::try_from(self.code)
            .ok()
            .and_then(|c| codes.get(c))
            .copied()
    }
}

/// ISO 9506-2 §7.4.1: each errorClass alternative and its named codes, in code order.
const CLASSES: [(&str, &[&str]); 13] = [
    (
        "vmd-state",
        &[
            "other",
            "vmd-state-conflict",
            "vmd-operational-problem",
            "domain-transfer-problem",
            "state-machine-id-invalid",
        ],
    ),
    (
        "application-reference",
        &[
            "other",
            "application-unreachable",
            "connection-lost",
            "application-reference-invalid",
            "context-unsupported",
        ],
    ),
    (
        "definition",
        &[
            "other",
            "object-undefined",
            "invalid-address",
            "type-unsupported",
            "type-inconsistent",
            "object-exists",
            "object-attribute-inconsistent",
        ],
    ),
    (
        "resource",
        &[
            "other",
            "memory-unavailable",
            "processor-resource-unavailable",
            "mass-storage-unavailable",
            "capability-unavailable",
            "capability-unknown",
        ],
    ),
    (
        "service",
        &[
            "other",
            "primitives-out-of-sequence",
            "object-state-conflict",
            "pdu-size",
            "continuation-invalid",
            "object-constraint-conflict",
        ],
    ),
    (
        "service-preempt",
        &["other", "timeout", "deadlock", "cancel"],
    ),
    (
        "time-resolution",
        &["other", "unsupportable-time-resolution"],
    ),
    (
        "access",
        &[
            "other",
            "object-access-unsupported",
            "object-non-existent",
            "object-access-denied",
            "object-invalidated",
        ],
    ),
    (
        "initiate",
        &[
            "other",
            "version-incompatible",
            "max-segment-insufficient",
            "max-services-outstanding-calling-insufficient",
            "max-services-outstanding-called-insufficient",
            "service-CBB-insufficient",
            "parameter-CBB-insufficient",
            "nesting-level-insufficient",
        ],
    ),
    ("conclude", &["other", "further-communication-required"]),
    (
        "cancel",
        &["other", "invoke-id-unknown", "cancel-not-possible"],
    ),
    (
        "file",
        &[
            "other",
            "filename-ambiguous",
            "file-busy",
            "filename-syntax-error",
            "content-type-invalid",
            "position-invalid",
            "file-access-denied",
            "file-non-existent",
            "duplicate-filename",
            "insufficient-space-in-filestore",
        ],
    ),
    ("others", &[]),
];

impl fmt::Display for ErrorClass {
    /// The ISO 9506-2 names, `access: object-non-existent`; numbers where a name is not defined
    /// (`others: 7`, `class 13: 2`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.class_name(), self.code_name()) {
            (Some(c), Some(n)) => write!(f, "{c}: {n}"),
            (Some(c), None) => write!(f, "{c}: {}", self.code),
            (None, _) => write!(f, "class {}: {}", self.class, self.code),
        }
    }
}

/// An MMS ServiceError. The serviceSpecificInformation is skipped when decoding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceError {
    /// errorClass and code.
    pub class: ErrorClass,
    /// additionalCode.
    pub additional_code: Option<i64>,
    /// additionalDescription.
    pub description: Option<String>,
}

impl From<ErrorClass> for ServiceError {
    fn from(class: ErrorClass) -> Self {
        ServiceError {
            class,
            additional_code: None,
            description: None,
        }
    }
}

impl ServiceError {
    /// Decode the content of an implicitly tagged ServiceError SEQUENCE.
    pub(crate) fn decode_content(tlv: &Tlv<'_>) -> Res<Self> {
        let mut r = tlv.reader()?;
        let c = explicit_inner(&r.expect(Tag::context_cons(0))?)?;
        if c.tag.class != Class::Context || c.tag.constructed || c.tag.number > 12 {
            return Err(PduErrorKind::Invalid("errorClass"));
        }
        let class = ErrorClass {
            class: c.tag.number as u8,
            code: primitive::decode_i64(c.content)?,
        };
        let additional_code = match r.read_if(Tag::context(1))? {
            Some(t) => Some(primitive::decode_i64(t.content)?),
            None => None,
        };
        let description = match r.read_if(Tag::context(2))? {
            Some(t) => Some(identifier(t.content)?),
            None => None,
        };
        // serviceSpecificInformation [3] and later extensions are skipped.
        Ok(ServiceError {
            class,
            additional_code,
            description,
        })
    }

    /// Append the SEQUENCE content (the caller writes the tag).
    pub(crate) fn encode_content(&self, w: &mut Writer<'_>) {
        w.constructed(Tag::context_cons(0), |w| {
            w.integer(Tag::context(u32::from(self.class.class)), self.class.code)
        });
        if let Some(c) = self.additional_code {
            w.integer(Tag::context(1), c);
        }
        if let Some(d) = &self.description {
            w.primitive(Tag::context(2), d.as_bytes());
        }
    }
}

impl fmt::Display for ServiceError {
    /// The class and code by name, then the additional code and description when present:
    /// `access: object-non-existent (additional code 3: no such point)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.class)?;
        match (self.additional_code, &self.description) {
            (Some(c), Some(d)) => write!(f, " (additional code {c}: {d})"),
            (Some(c), None) => write!(f, " (additional code {c})"),
            (None, Some(d)) => write!(f, " ({d})"),
            (None, None) => Ok(()),
        }
    }
}

impl core::error::Error for ServiceError {}
