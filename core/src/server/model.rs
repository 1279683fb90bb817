//! The data an MMS server serves: a VMD with VMD-scope and domain-scope named variables and named
//! variable lists.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use crate::mms::{Data, ObjectName, TypeDescription};

/// Identify response contents (ISO 9506-2 §10.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// Vendor name.
    pub vendor: String,
    /// Model name.
    pub model: String,
    /// Revision.
    pub revision: String,
}

impl Default for Identity {
    fn default() -> Self {
        Identity {
            vendor: "FreeTase2".into(),
            model: "tase2".into(),
            revision: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

/// A named variable: its type, its current value and what clients may do with it.
#[derive(Clone, Debug, PartialEq)]
pub struct Variable {
    /// The MMS type, answered by GetVariableAccessAttributes and checked on Write.
    pub type_description: TypeDescription,
    /// The current value.
    pub value: Data,
    /// Whether clients may write it.
    pub writable: bool,
    /// `Some`: the value lives with the endpoint's [`Hooks`](super::Hooks) (which serve Read and
    /// Write of it); `value` is then only a placeholder of the right type.
    pub slot: Option<u32>,
}

impl Variable {
    /// A read-only variable holding `value`.
    pub fn read_only(type_description: TypeDescription, value: Data) -> Self {
        Variable {
            type_description,
            value,
            writable: false,
            slot: None,
        }
    }

    /// A writable variable holding `value`.
    pub fn writable(type_description: TypeDescription, value: Data) -> Self {
        Variable {
            type_description,
            value,
            writable: true,
            slot: None,
        }
    }
}

impl Variable {
    /// A variable whose value the endpoint's hooks hold in `slot`.
    pub fn slotted(type_description: TypeDescription, slot: u32, writable: bool) -> Self {
        let value = type_description.default_value();
        Variable {
            type_description,
            value,
            writable,
            slot: Some(slot),
        }
    }
}

/// A named variable list (data set): ordered member names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamedVariableList {
    /// Members, in order.
    pub members: Vec<ObjectName>,
    /// Whether a client may delete it (true for client-defined lists).
    pub deletable: bool,
}

/// One MMS domain.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Domain {
    /// Domain-specific variables, by name (kept in MMS collation order by the map).
    pub variables: BTreeMap<String, Variable>,
    /// Domain-specific named variable lists.
    pub lists: BTreeMap<String, NamedVariableList>,
}

/// The virtual manufacturing device a server exposes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Vmd {
    /// What Identify answers.
    pub identity: Identity,
    /// VMD-specific variables.
    pub variables: BTreeMap<String, Variable>,
    /// VMD-specific named variable lists.
    pub lists: BTreeMap<String, NamedVariableList>,
    /// Domains by name.
    pub domains: BTreeMap<String, Domain>,
    /// Association-specific variables: every association has its own instance of each (TASE.2's
    /// `IM_Transfer_Set`). Give them a [`Variable::slot`] so the hooks keep one value per
    /// association; one without a slot reads its template value and refuses writes.
    pub aa_variables: BTreeMap<String, Variable>,
}

impl Vmd {
    /// The variable `name` names, in any scope (an association-specific one is its template).
    pub fn variable(&self, name: &ObjectName) -> Option<&Variable> {
        match name {
            ObjectName::VmdSpecific(n) => self.variables.get(n),
            ObjectName::DomainSpecific { domain, item } => {
                self.domains.get(domain)?.variables.get(item)
            }
            ObjectName::AaSpecific(n) => self.aa_variables.get(n),
        }
    }

    /// Mutable access to the variable `name` names (VMD and domain scope: association-specific
    /// values are the hooks').
    pub fn variable_mut(&mut self, name: &ObjectName) -> Option<&mut Variable> {
        match name {
            ObjectName::VmdSpecific(n) => self.variables.get_mut(n),
            ObjectName::DomainSpecific { domain, item } => {
                self.domains.get_mut(domain)?.variables.get_mut(item)
            }
            ObjectName::AaSpecific(_) => None,
        }
    }

    /// Set a variable's value; `false` if it does not exist or the value does not fit its type.
    pub fn set_value(&mut self, name: &ObjectName, value: Data) -> bool {
        match self.variable_mut(name) {
            Some(v) if v.type_description.matches(&value) => {
                v.value = value;
                true
            }
            _ => false,
        }
    }

    /// Add a domain (replacing any of the same name) and return it for filling.
    pub fn domain_mut(&mut self, name: &str) -> &mut Domain {
        self.domains.entry(name.into()).or_default()
    }
}
