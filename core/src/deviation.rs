//! Deviations: what a peer did that the standards do not say, but whose intent was unambiguous,
//! so we accepted it.
//!
//! Deployed ICCP stacks deviate from IEC 60870-6 and ISO 9506 in known ways (component order,
//! integer widths, report naming, BER forms). FreeTase2 is strict in what it sends and liberal in
//! what it accepts: where the intent is clear it goes on, and raises an event carrying a
//! [`Deviation`] so that the application (and the engineer reading its log) knows what the peer
//! did and with which object. Nothing is accepted silently.
//!
//! **Variants of [`DeviationKind`] are only ever appended** (recordings carry them).

use core::fmt;

use serde::{Deserialize, Serialize};

use crate::mms::ObjectName;

/// One deviation from the standard that was accepted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deviation {
    /// What the peer did.
    pub kind: DeviationKind,
    /// The object concerned, when there is one.
    pub object: Option<ObjectName>,
}

impl Deviation {
    /// A deviation concerning `object`.
    pub fn on(kind: DeviationKind, object: ObjectName) -> Deviation {
        Deviation {
            kind,
            object: Some(object),
        }
    }

    /// A deviation concerning no particular object.
    pub fn new(kind: DeviationKind) -> Deviation {
        Deviation { kind, object: None }
    }
}

/// The kinds of deviation FreeTase2 recognises and accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum DeviationKind {
    /// A point structure whose components are named in another order than the standard's
    /// (`Value, Flags, TimeStamp` instead of `Value, TimeStamp, Flags`); matched by name.
    PointComponentOrder,
    /// A state point whose state is an integer (e.g. INT8) instead of the two state bits of its
    /// Flags; read as the state.
    StateAsInteger,
    /// A transfer report named after the transfer set instead of its data set, with the
    /// transfer set name, time stamp and conditions before the data set's values.
    ReportNamedAfterTransferSet,
    /// `Next_DSTransfer_Set` answered as a structure holding the transfer set's name as a string
    /// (among counters) instead of an ObjectName {Scope, DomainName, Name}.
    NextTransferSetAsString,
    /// A GetNameList page that does not advance past `continueAfter` (the server returned a page
    /// already received): paging stopped with the names received so far.
    NameListNotAdvancing,
    /// GetNameList `continueAfter` sent as an EXPLICIT `[2]` holding an Identifier instead of
    /// `[2] IMPLICIT Identifier`.
    ExplicitContinueAfter,
    /// A COTP connection request proposing a TPDU size larger than class 0 allows (2048); answered
    /// with the largest size the class allows.
    TpduSizeBeyondClass0,
    /// An ObjectName scope sent as an Integer where the standard has an Unsigned (or the reverse).
    ObjectNameScopeInteger,
    /// A transfer report time stamp sent as a BinaryTime or structure instead of an INT32
    /// GMTBasedS.
    ReportTimeStampNotGmtBasedS,
}

impl DeviationKind {
    /// A one-line description, for logs.
    pub fn describe(self) -> &'static str {
        match self {
            DeviationKind::PointComponentOrder => {
                "point components in a non-standard order (matched by name)"
            }
            DeviationKind::StateAsInteger => "state value sent as an integer instead of flag bits",
            DeviationKind::ReportNamedAfterTransferSet => {
                "transfer report named after the transfer set instead of the data set"
            }
            DeviationKind::NextTransferSetAsString => {
                "Next_DSTransfer_Set answered with a name string instead of an ObjectName"
            }
            DeviationKind::NameListNotAdvancing => {
                "GetNameList paging does not advance (a page came back again); paging stopped"
            }
            DeviationKind::ExplicitContinueAfter => {
                "GetNameList continueAfter in EXPLICIT form instead of IMPLICIT"
            }
            DeviationKind::TpduSizeBeyondClass0 => {
                "COTP TPDU size beyond the class 0 maximum of 2048 proposed"
            }
            DeviationKind::ObjectNameScopeInteger => {
                "ObjectName scope sent as an Integer instead of an Unsigned"
            }
            DeviationKind::ReportTimeStampNotGmtBasedS => {
                "report time stamp not an INT32 GMTBasedS"
            }
        }
    }
}

impl fmt::Display for Deviation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.describe())?;
        if let Some(o) = &self.object {
            write!(f, ": {o}")?;
        }
        Ok(())
    }
}
