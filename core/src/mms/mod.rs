//! MMS (Manufacturing Message Specification, ISO 9506-1/-2): the application protocol under TASE.2.
//!
//! - [`Data`] / [`DataRef`]: the MMS `Data` type, owned or as a zero-allocation view.
//! - [`TypeDescription`]: MMS type descriptions (ISO 9506-2 §14.1), with conformance checks.
//! - [`ObjectName`]: VMD-, domain- and association-specific names.
//! - [`pdu`]: every PDU of the MMS abstract syntax that TASE.2 uses, with [`MmsPdu::decode`] /
//!   [`MmsPdu::encode`] and hot-path writers that skip building owned PDUs.
//!
//! Decoding never panics. It is lenient where ISO 9506 allows (indefinite and non-minimal lengths,
//! unknown trailing extension fields) and bounded everywhere else by [`DecodeLimits`]. A failed
//! decode of a confirmed request carries the invoke id and the [`RejectReason`] to answer with.

pub mod data;
pub mod object_name;
pub mod pdu;
pub mod types;

#[cfg(test)]
mod testutil;

pub use data::{BinaryTime, BitString, Data, DataError, DataRef, Float, UtcTime};
pub use object_name::ObjectName;
pub use pdu::*;
pub use types::{StructComponent, TypeDescription, TypeSpecification};

/// Default limit on `Data` / type-description nesting. TASE.2 objects nest at most four or five
/// levels (a transfer set holding an ObjectName structure); libiec61850 proposes 10 at Initiate.
/// 16 gives ample room while bounding recursion on hostile input.
pub const DEFAULT_MAX_DATA_DEPTH: u8 = 16;

/// Default limit on the number of elements in any one decoded list (array or structure members,
/// variables, access results, identifiers). A 65,000-octet MMS PDU holds at most ~32,000 two-octet
/// elements; the bound stops one list from turning a small PDU into a large allocation when the
/// caller feeds us bigger reassembled buffers.
pub const DEFAULT_MAX_LIST_LEN: usize = 32_768;

/// Bounds applied while decoding, against peers that send deeply nested or huge structures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DecodeLimits {
    /// Deepest `Data` (or `TypeSpecification`) nesting accepted; a top-level scalar is depth 0,
    /// the members of a top-level structure depth 1. Exceeding it is `DataError::TooDeep`.
    pub max_data_depth: u8,
    /// Most elements accepted in any one list.
    pub max_list_len: usize,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            max_data_depth: DEFAULT_MAX_DATA_DEPTH,
            max_list_len: DEFAULT_MAX_LIST_LEN,
        }
    }
}
