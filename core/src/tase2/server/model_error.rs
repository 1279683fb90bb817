//! Why a model is refused: the checks every [`Tase2Builder`](super::Tase2Builder) method makes
//! before it changes anything.

use alloc::string::String;

use crate::mms::ObjectName;
use crate::tase2::Edition;

/// Most members of a predefined data set: the default limit of a peer's decoder on the entries
/// of one list ([`crate::mms::DEFAULT_MAX_LIST_LEN`]). A larger data set could neither be read
/// (GetNamedVariableListAttributes) nor reported in one InformationReport to such a peer.
pub const MAX_DATA_SET_MEMBERS: usize = crate::mms::DEFAULT_MAX_LIST_LEN;

/// Longest MMS identifier (ISO 9506-2 §7.5.1: `Identifier ::= VisibleString (SIZE(1..32))`).
pub const MAX_NAME_LEN: usize = 32;

/// Why a [`Tase2Builder`](super::Tase2Builder) method refused an object. The model is left as it
/// was before the call.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ModelError {
    /// The name is not an MMS identifier: `[A-Za-z0-9_$]`, 1 to 32 characters, not starting with
    /// a digit (so no dot: the TASE.2 object names are flat).
    InvalidName(String),
    /// A device name leaves no room for `<name>_SBO` and `<name>_TAG` within 32 characters.
    DeviceNameTooLong(String),
    /// The variable name is taken already in its scope (`scope` `None`: VCC scope).
    DuplicateName {
        /// The ICC domain, or `None` for VCC scope.
        scope: Option<String>,
        /// The item name.
        name: String,
    },
    /// The domain is defined twice.
    DuplicateDomain(String),
    /// The data set name is taken already in its scope.
    DuplicateDataSet(ObjectName),
    /// No ICC domain has this name (add it with `domain` first).
    UnknownDomain(String),
    /// The point type does not exist in the edition served (QTimeTagExtended in 1996.08).
    PointTypeNotInEdition {
        /// The point.
        name: String,
        /// The type's name (`Data_RealQTimeTagExtended`).
        ptype: &'static str,
        /// The edition served.
        edition: Edition,
    },
    /// A data set member that is no variable of the model (defined before the data set).
    UnknownMember {
        /// The data set.
        data_set: ObjectName,
        /// The member.
        member: ObjectName,
    },
    /// A data set with more than [`MAX_DATA_SET_MEMBERS`] members.
    DataSetTooLarge {
        /// The data set.
        data_set: ObjectName,
        /// Its members.
        members: usize,
    },
    /// An information buffer size of 0 or beyond `i32::MAX` (the header's `Size` is an INT32).
    InfoBufferSizeOutOfRange(usize),
    /// A `Bilateral_Table_ID` that is not 1 to 32 visible ASCII characters (VisibleString(32)).
    InvalidTableId(String),
    /// Two bilateral tables with the same `Bilateral_Table_ID`.
    DuplicateTable(String),
    /// A bilateral table's domain does not exist.
    TableDomainUnknown {
        /// The table.
        table: String,
        /// Its domain.
        domain: String,
    },
    /// A second bilateral table for a domain (a domain has one `Bilateral_Table_ID`).
    TableDomainTaken {
        /// The table.
        table: String,
        /// Its domain.
        domain: String,
        /// The table the domain belongs to.
        other: String,
    },
    /// A bilateral table whose client match names nothing, so every client would match.
    TableMatchesEveryClient(String),
    /// A bilateral table grants rights on an object (variable or data set) that does not exist.
    TableRightsUnknownObject {
        /// The table.
        table: String,
        /// The object.
        object: ObjectName,
    },
    /// A bilateral table gives a CheckBackID to something that is not a device.
    TableUnknownDevice {
        /// The table.
        table: String,
        /// The name given.
        device: ObjectName,
    },
}

/// `domain/item` or `item`.
fn scoped(scope: &Option<String>, name: &str) -> ObjectName {
    match scope {
        Some(d) => ObjectName::domain(d.as_str(), name),
        None => ObjectName::vmd(name),
    }
}

impl core::fmt::Display for ModelError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        use crate::tase2::device::{SBO_SUFFIX, TAG_SUFFIX};
        match self {
            ModelError::InvalidName(n) => write!(
                f,
                "invalid MMS name {n:?} (letters, digits, _ and $, at most {MAX_NAME_LEN}, not \
                 starting with a digit)"
            ),
            ModelError::DeviceNameTooLong(n) => write!(
                f,
                "device name {n:?} is too long: {n}{SBO_SUFFIX} and {n}{TAG_SUFFIX} must be MMS \
                 names too (at most {} characters)",
                MAX_NAME_LEN - SBO_SUFFIX.len()
            ),
            ModelError::DuplicateName { scope, name } => {
                write!(f, "{} is defined twice", scoped(scope, name))
            }
            ModelError::DuplicateDomain(d) => write!(f, "domain {d} is defined twice"),
            ModelError::DuplicateDataSet(d) => write!(f, "data set {d} is defined twice"),
            ModelError::UnknownDomain(d) => write!(f, "no domain named {d:?}"),
            ModelError::PointTypeNotInEdition {
                name,
                ptype,
                edition,
            } => {
                let (major, minor) = edition.version();
                write!(
                    f,
                    "{name}: {ptype} does not exist in edition {major}.{minor:02}"
                )
            }
            ModelError::UnknownMember { data_set, member } => {
                write!(f, "data set {data_set}: member {member} does not exist")
            }
            ModelError::DataSetTooLarge { data_set, members } => write!(
                f,
                "data set {data_set} has {members} members; at most {MAX_DATA_SET_MEMBERS}"
            ),
            ModelError::InfoBufferSizeOutOfRange(n) => write!(
                f,
                "information buffer size {n} out of range 1..={}",
                i32::MAX
            ),
            ModelError::InvalidTableId(id) => write!(
                f,
                "Bilateral_Table_ID {id:?} must be 1-32 visible ASCII characters"
            ),
            ModelError::DuplicateTable(id) => write!(f, "bilateral table {id} is defined twice"),
            ModelError::TableDomainUnknown { table, domain } => {
                write!(f, "bilateral table {table}: no domain named {domain:?}")
            }
            ModelError::TableDomainTaken {
                table,
                domain,
                other,
            } => write!(
                f,
                "bilateral table {table}: domain {domain} already belongs to table {other}"
            ),
            ModelError::TableMatchesEveryClient(t) => write!(
                f,
                "bilateral table {t}: the client must name at least an ap_title"
            ),
            ModelError::TableRightsUnknownObject { table, object } => write!(
                f,
                "bilateral table {table}: rights for {object}, which does not exist"
            ),
            ModelError::TableUnknownDevice { table, device } => write!(
                f,
                "bilateral table {table}: check_back_ids for {device}, which is not a device"
            ),
        }
    }
}

impl core::error::Error for ModelError {}

/// Whether `name` is a valid MMS identifier (ISO 9506-2 §7.5.1): `[A-Za-z0-9_$]`, 1 to 32
/// characters, not starting with a digit.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$')
        && !name.as_bytes()[0].is_ascii_digit()
}

/// `Ok` if `name` is a valid MMS identifier.
pub(super) fn check_name(name: &str) -> Result<(), ModelError> {
    if valid_name(name) {
        Ok(())
    } else {
        Err(ModelError::InvalidName(name.into()))
    }
}
