//! Why a model is refused.

use alloc::string::String;

/// Why [`Tase2Builder::build`] refused a model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModelError {
    /// A name is not a valid MMS identifier (`[A-Za-z0-9_$]`, at most 32 characters).
    InvalidName(String),
    /// The same name twice in one scope.
    Duplicate(String),
    /// A data set member or a table's domain that does not exist.
    Unknown(String),
    /// A point type the edition does not have (QTimeTagExtended in 1996.08).
    EditionMismatch(String),
}

impl core::fmt::Display for ModelError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ModelError::InvalidName(n) => write!(f, "invalid MMS name {n:?}"),
            ModelError::Duplicate(n) => write!(f, "{n} defined twice"),
            ModelError::Unknown(n) => write!(f, "{n} does not exist"),
            ModelError::EditionMismatch(n) => write!(f, "{n}: type not in this edition"),
        }
    }
}

impl core::error::Error for ModelError {}

/// Whether `name` is a valid MMS identifier.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 32
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$')
        && !name.as_bytes()[0].is_ascii_digit()
}
