//! The DS transfer set object (IEC 60870-6-503 §8.1.2 / -802 `DSTransferSet`): its fields, its
//! MMS type in both editions, and the `ObjectName` value TASE.2 uses to name objects in data.

use alloc::string::String;
use alloc::vec::Vec;

use super::Edition;
use crate::ber::Writer;
use crate::mms::data::write;
use crate::mms::{
    BitString, Data, ObjectName, StructComponent, TypeDescription, TypeSpecification,
};

/// The conditions a transfer set reports on (`DSConditions`, BIT STRING(5), bit 0 first).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct DsConditions(pub u8);

impl DsConditions {
    /// Bit 0: interval timeout.
    pub const INTERVAL: DsConditions = DsConditions(1);
    /// Bit 1: integrity timeout.
    pub const INTEGRITY: DsConditions = DsConditions(2);
    /// Bit 2: object change.
    pub const OBJECT_CHANGE: DsConditions = DsConditions(4);
    /// Bit 3: operator request.
    pub const OPERATOR_REQUEST: DsConditions = DsConditions(8);
    /// Bit 4: other external event.
    pub const EXTERNAL_EVENT: DsConditions = DsConditions(16);

    /// Whether every condition of `other` is in `self`.
    pub fn contains(self, other: DsConditions) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether no condition is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The BIT STRING(5) octet: condition bit n is bit n counted from the most significant bit.
    pub fn to_octet(self) -> u8 {
        (0..5).fold(0, |o, i| {
            if self.0 & (1 << i) != 0 {
                o | (0x80 >> i)
            } else {
                o
            }
        })
    }

    /// From the BIT STRING octet.
    pub fn from_octet(o: u8) -> DsConditions {
        DsConditions((0..5).fold(0, |c, i| {
            if o & (0x80 >> i) != 0 {
                c | (1 << i)
            } else {
                c
            }
        }))
    }
}

impl core::ops::BitOr for DsConditions {
    type Output = DsConditions;
    fn bitor(self, rhs: Self) -> Self {
        DsConditions(self.0 | rhs.0)
    }
}

impl core::fmt::Display for DsConditions {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let names = ["interval", "integrity", "change", "operator", "external"];
        let mut first = true;
        for (i, n) in names.iter().enumerate() {
            if self.0 & (1 << i) != 0 {
                if !first {
                    f.write_str("+")?;
                }
                f.write_str(n)?;
                first = false;
            }
        }
        if first {
            f.write_str("-")?;
        }
        Ok(())
    }
}

/// The values of a DS transfer set, as clients write and read them. Times are seconds.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DsTransferSetValue {
    /// The data set reported.
    pub data_set: ObjectName,
    /// When reporting starts (seconds since 1970 UTC; 0 = at once).
    pub start_time: i32,
    /// Interval of the interval condition.
    pub interval: i32,
    /// Time limit for execution: a report older than this is not sent (0 = no limit).
    pub tle: i32,
    /// How long changes are collected before an object-change report.
    pub buffer_time: i32,
    /// Period of integrity reports.
    pub integrity_check: i32,
    /// Conditions requested.
    pub conditions: DsConditions,
    /// Block data (conformance block 3; not supported, must be false).
    pub block_data: bool,
    /// Reports must be acknowledged.
    pub critical: bool,
    /// Report by exception: change reports carry only changed members.
    pub rbe: bool,
    /// Every change is reported, not only the last one per buffer period (2000.08).
    pub all_changes_reported: bool,
    /// Running.
    pub status: bool,
    /// Event code requested (reported as `Event_Code_Detected`).
    pub event_code_requested: i16,
}

impl Default for DsTransferSetValue {
    fn default() -> Self {
        DsTransferSetValue {
            data_set: ObjectName::vmd(""),
            start_time: 0,
            interval: 0,
            tle: 0,
            buffer_time: 0,
            integrity_check: 0,
            conditions: DsConditions::default(),
            block_data: false,
            critical: false,
            rbe: false,
            all_changes_reported: false,
            status: false,
            event_code_requested: 0,
        }
    }
}

/// Component names in order (2000.08; 1996.08 lacks `AllChangesReported`).
pub const COMPONENTS: [&str; 13] = [
    "DataSetName",
    "StartTime",
    "Interval",
    "TLE",
    "BufferTime",
    "IntegrityCheck",
    "DSConditionsRequested",
    "BlockData",
    "Critical",
    "RBE",
    "AllChangesReported",
    "Status",
    "EventCodeRequested",
];

/// Whether component `name` is in `edition` (1996.08 has no `AllChangesReported`).
fn in_edition(name: &str, edition: Edition) -> bool {
    edition == Edition::V2000_08 || name != "AllChangesReported"
}

/// Why a transfer set value was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransferSetError {
    /// The value's shape does not match the type (answered type-inconsistent).
    Type,
    /// A component is out of range, e.g. a negative interval (answered object-value-invalid).
    Value,
    /// No such component (answered object-non-existent... of the component).
    Component,
}

impl core::fmt::Display for TransferSetError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            TransferSetError::Type => "the value does not have the transfer set component's type",
            TransferSetError::Value => "a transfer set component value is out of range",
            TransferSetError::Component => "no such transfer set component",
        })
    }
}

impl core::error::Error for TransferSetError {}

fn comp(name: &str, t: TypeDescription) -> StructComponent {
    StructComponent {
        name: Some(name.into()),
        type_spec: TypeSpecification::Description(t),
    }
}

/// The MMS type of a TASE.2 `ObjectName` value: { Scope UNSIGNED8, DomainName, Name }.
pub fn object_name_type() -> TypeDescription {
    TypeDescription::Structure {
        packed: false,
        components: alloc::vec![
            comp("Scope", TypeDescription::Unsigned(8)),
            comp("DomainName", TypeDescription::VisibleString(32)),
            comp("Name", TypeDescription::VisibleString(32)),
        ],
    }
}

/// Encode `name` as a TASE.2 ObjectName value (scope 0 VMD, 1 domain, 2 association).
pub fn write_object_name(w: &mut Writer<'_>, name: &ObjectName) {
    let (scope, domain, item) = match name {
        ObjectName::VmdSpecific(i) => (0, "", i.as_str()),
        ObjectName::DomainSpecific { domain, item } => (1, domain.as_str(), item.as_str()),
        ObjectName::AaSpecific(i) => (2, "", i.as_str()),
    };
    write::structure(w, |w| {
        write::unsigned(w, scope);
        write::visible_string(w, domain);
        write::visible_string(w, item);
    });
}

/// An owned ObjectName value.
pub fn object_name_data(name: &ObjectName) -> Data {
    let (scope, domain, item) = match name {
        ObjectName::VmdSpecific(i) => (0, String::new(), i.clone()),
        ObjectName::DomainSpecific { domain, item } => (1, domain.clone(), item.clone()),
        ObjectName::AaSpecific(i) => (2, String::new(), i.clone()),
    };
    Data::Structure(alloc::vec![
        Data::Unsigned(scope),
        Data::VisibleString(domain),
        Data::VisibleString(item),
    ])
}

/// Decode an ObjectName value (scope may come as unsigned or integer).
pub fn parse_object_name(d: &Data) -> Option<ObjectName> {
    let Data::Structure(c) = d else { return None };
    let [scope, Data::VisibleString(domain), Data::VisibleString(item)] = c.as_slice() else {
        return None;
    };
    let scope = match scope {
        Data::Unsigned(s) => *s as i64,
        Data::Integer(s) => *s,
        _ => return None,
    };
    match scope {
        0 => Some(ObjectName::VmdSpecific(item.clone())),
        1 => Some(ObjectName::DomainSpecific {
            domain: domain.clone(),
            item: item.clone(),
        }),
        2 => Some(ObjectName::AaSpecific(item.clone())),
        _ => None,
    }
}

impl DsTransferSetValue {
    /// The MMS type in `edition`.
    pub fn type_description(edition: Edition) -> TypeDescription {
        use TypeDescription as T;
        let mut c = alloc::vec![
            comp("DataSetName", object_name_type()),
            comp("StartTime", T::Integer(32)),
            comp("Interval", T::Integer(32)),
            comp("TLE", T::Integer(32)),
            comp("BufferTime", T::Integer(32)),
            comp("IntegrityCheck", T::Integer(32)),
            comp("DSConditionsRequested", T::BitString(5)),
            comp("BlockData", T::Boolean),
            comp("Critical", T::Boolean),
            comp("RBE", T::Boolean),
            comp("AllChangesReported", T::Boolean),
            comp("Status", T::Boolean),
            comp("EventCodeRequested", T::Integer(16)),
        ];
        if edition == Edition::V1996_08 {
            c.remove(10);
        }
        T::Structure {
            packed: false,
            components: c,
        }
    }

    /// The component names of `edition`, in order.
    pub fn components(edition: Edition) -> impl Iterator<Item = &'static str> {
        COMPONENTS
            .into_iter()
            .filter(move |c| in_edition(c, edition))
    }

    /// Owned MMS value in `edition`.
    pub fn to_data(&self, edition: Edition) -> Data {
        let mut c = Vec::with_capacity(COMPONENTS.len());
        // A plain loop over the table, not `components`' filter adapter (in the client's
        // package once for each caller).
        for &name in &COMPONENTS {
            if in_edition(name, edition) {
                c.push(self.component(name).unwrap_or(Data::Boolean(false)));
            }
        }
        Data::Structure(c)
    }

    /// One component's value.
    pub fn component(&self, name: &str) -> Option<Data> {
        Some(match name {
            "DataSetName" => object_name_data(&self.data_set),
            "StartTime" => Data::Integer(self.start_time.into()),
            "Interval" => Data::Integer(self.interval.into()),
            "TLE" => Data::Integer(self.tle.into()),
            "BufferTime" => Data::Integer(self.buffer_time.into()),
            "IntegrityCheck" => Data::Integer(self.integrity_check.into()),
            "DSConditionsRequested" => Data::BitString(BitString {
                octets: alloc::vec![self.conditions.to_octet()],
                bits: 5,
            }),
            "BlockData" => Data::Boolean(self.block_data),
            "Critical" => Data::Boolean(self.critical),
            "RBE" => Data::Boolean(self.rbe),
            "AllChangesReported" => Data::Boolean(self.all_changes_reported),
            "Status" => Data::Boolean(self.status),
            "EventCodeRequested" => Data::Integer(self.event_code_requested.into()),
            _ => return None,
        })
    }

    /// Set one component from a written value (nothing changes on error).
    pub fn set_component(&mut self, name: &str, d: &Data) -> Result<(), TransferSetError> {
        use TransferSetError::*;
        let int32 = |d: &Data| match d {
            Data::Integer(v) => i32::try_from(*v).map_err(|_| Value),
            Data::Unsigned(v) => i32::try_from(*v).map_err(|_| Value),
            _ => Err(Type),
        };
        let seconds = |d: &Data| {
            let v = int32(d)?;
            if v < 0 {
                Err(Value)
            } else {
                Ok(v)
            }
        };
        let boolean = |d: &Data| match d {
            Data::Boolean(b) => Ok(*b),
            _ => Err(Type),
        };
        match name {
            "DataSetName" => self.data_set = parse_object_name(d).ok_or(Type)?,
            "StartTime" => self.start_time = int32(d)?,
            "Interval" => self.interval = seconds(d)?,
            "TLE" => self.tle = seconds(d)?,
            "BufferTime" => self.buffer_time = seconds(d)?,
            "IntegrityCheck" => self.integrity_check = seconds(d)?,
            "DSConditionsRequested" => match d {
                Data::BitString(b) if b.bits <= 8 => {
                    self.conditions =
                        DsConditions::from_octet(b.octets.first().copied().unwrap_or(0))
                }
                _ => return Err(Type),
            },
            "BlockData" => self.block_data = boolean(d)?,
            "Critical" => self.critical = boolean(d)?,
            "RBE" => self.rbe = boolean(d)?,
            "AllChangesReported" => self.all_changes_reported = boolean(d)?,
            "Status" => self.status = boolean(d)?,
            "EventCodeRequested" => {
                self.event_code_requested = i16::try_from(int32(d)?).map_err(|_| Value)?
            }
            _ => return Err(Component),
        }
        Ok(())
    }

    /// The value of a whole-structure write in `edition` (either edition's component count is
    /// accepted: a 1996.08 client may write 12 components to a 2000.08 server and the other way).
    pub fn from_data(d: &Data) -> Result<DsTransferSetValue, TransferSetError> {
        let Data::Structure(c) = d else {
            return Err(TransferSetError::Type);
        };
        let edition = match c.len() {
            13 => Edition::V2000_08,
            12 => Edition::V1996_08,
            _ => return Err(TransferSetError::Type),
        };
        let mut v = DsTransferSetValue::default();
        // The edition's components in order (as many as `c` holds), by a plain loop.
        let mut values = c.iter();
        for &n in &COMPONENTS {
            if in_edition(n, edition) {
                if let Some(d) = values.next() {
                    v.set_component(n, d)?;
                }
            }
        }
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> DsTransferSetValue {
        DsTransferSetValue {
            data_set: ObjectName::domain("ICC1", "DS1"),
            start_time: 0,
            interval: 2,
            tle: 60,
            buffer_time: 1,
            integrity_check: 10,
            conditions: DsConditions::INTERVAL | DsConditions::OBJECT_CHANGE,
            block_data: false,
            critical: true,
            rbe: true,
            all_changes_reported: true,
            status: true,
            event_code_requested: 7,
        }
    }

    #[test]
    fn both_editions_round_trip_and_match_their_type() {
        for ed in [Edition::V2000_08, Edition::V1996_08] {
            let v = sample();
            let d = v.to_data(ed);
            assert!(DsTransferSetValue::type_description(ed).matches(&d));
            let mut back = DsTransferSetValue::from_data(&d).unwrap();
            if ed == Edition::V1996_08 {
                assert!(!back.all_changes_reported);
                back.all_changes_reported = true;
            }
            assert_eq!(back, v);
        }
    }

    #[test]
    fn conditions_bits_are_msb_first() {
        let c = DsConditions::INTERVAL | DsConditions::OBJECT_CHANGE;
        assert_eq!(c.to_octet(), 0b1010_0000);
        assert_eq!(DsConditions::from_octet(0b1010_0000), c);
        assert_eq!(alloc::format!("{c}"), "interval+change");
    }

    #[test]
    fn bad_writes_are_refused_without_change() {
        let mut v = sample();
        assert_eq!(
            v.set_component("Interval", &Data::Integer(-1)),
            Err(TransferSetError::Value)
        );
        assert_eq!(
            v.set_component("RBE", &Data::Integer(1)),
            Err(TransferSetError::Type)
        );
        assert_eq!(
            v.set_component("Nope", &Data::Integer(1)),
            Err(TransferSetError::Component)
        );
        assert_eq!(v, sample());
        assert_eq!(
            DsTransferSetValue::from_data(&Data::Structure(alloc::vec![Data::Boolean(true)])),
            Err(TransferSetError::Type)
        );
    }
}
