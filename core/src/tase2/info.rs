//! Information messages (conformance block 4): free text or binary messages between control
//! centers.
//!
//! A client enables reception by writing `true` to its association-specific `IM_Transfer_Set`.
//! The server then sends each message as an InformationReport of two variables:
//! `Info_Mess_Header` { InfoReference, LocalReference, MessageId, Size: INT32 } and
//! `Info_Buff_<n>` (OCTET STRING, the message), both in VCC scope or in the client's ICC domain.
//! The buffer named `Info_Buff_<n>` holds at most `n` octets.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use crate::mms::{
    AccessResult, Data, InformationReport, ObjectName, StructComponent, TypeDescription,
    TypeSpecification, VariableAccessSpecification,
};

/// The association-specific variable a client writes `true` to in order to receive messages.
pub const IM_TRANSFER_SET: &str = "IM_Transfer_Set";
/// The message header object.
pub const INFO_MESS_HEADER: &str = "Info_Mess_Header";
/// Prefix of the message buffers; the suffix is the buffer's size in octets.
pub const INFO_BUFF_PREFIX: &str = "Info_Buff_";

/// The header of a message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InfoHeader {
    /// What kind of message (agreed in the bilateral table).
    pub info_reference: i32,
    /// A further reference agreed between the two centers.
    pub local_reference: i32,
    /// The message's number (chosen by the sender).
    pub message_id: i32,
    /// Octets in the message.
    pub size: i32,
}

impl InfoHeader {
    /// The MMS type of `Info_Mess_Header`.
    pub fn type_description() -> TypeDescription {
        let c = |name: &str| StructComponent {
            name: Some(name.into()),
            type_spec: TypeSpecification::Description(TypeDescription::Integer(32)),
        };
        TypeDescription::Structure {
            packed: false,
            components: vec![
                c("InfoReference"),
                c("LocalReference"),
                c("MessageId"),
                c("Size"),
            ],
        }
    }

    /// The MMS value.
    pub fn to_data(&self) -> Data {
        Data::Structure(vec![
            Data::Integer(self.info_reference.into()),
            Data::Integer(self.local_reference.into()),
            Data::Integer(self.message_id.into()),
            Data::Integer(self.size.into()),
        ])
    }

    /// From an MMS value.
    pub fn from_data(data: &Data) -> Option<InfoHeader> {
        let Data::Structure(c) = data else {
            return None;
        };
        let int = |d: &Data| match d {
            Data::Integer(v) => i32::try_from(*v).ok(),
            _ => None,
        };
        let [a, b, m, s] = c.as_slice() else {
            return None;
        };
        Some(InfoHeader {
            info_reference: int(a)?,
            local_reference: int(b)?,
            message_id: int(m)?,
            size: int(s)?,
        })
    }
}

/// Where a message lives: VCC scope (every client the table admits) or ICC (one client's domain).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum InfoScope {
    /// VMD-specific objects.
    #[default]
    Vcc,
    /// Domain-specific objects in the client's ICC domain.
    Icc,
}

/// A received information message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InfoMessage {
    /// VCC or ICC.
    pub scope: InfoScope,
    /// The ICC domain, for ICC scope.
    pub domain: Option<String>,
    /// The header.
    pub header: InfoHeader,
    /// The name of the buffer it came in (`Info_Buff_<n>`).
    pub buffer: String,
    /// The message octets.
    pub data: Vec<u8>,
}

impl InfoMessage {
    /// The message as text, if it is printable ASCII or UTF-8 (a trailing NUL is dropped).
    pub fn text(&self) -> Option<&str> {
        let bytes = self.data.strip_suffix(&[0]).unwrap_or(&self.data);
        core::str::from_utf8(bytes)
            .ok()
            .filter(|s| s.chars().all(|c| !c.is_control() || c == '\n' || c == '\t'))
    }

    /// Recognise an information message in a report: a list of variables whose first is
    /// `Info_Mess_Header` and whose second is an `Info_Buff_<n>` of the same scope. `None` for
    /// any other report (a data set transfer report, say).
    pub fn decode(report: &InformationReport) -> Option<InfoMessage> {
        let VariableAccessSpecification::ListOfVariable(vars) = &report.variables else {
            return None;
        };
        let [h, b] = vars.as_slice() else {
            return None;
        };
        let (scope, domain, header_item, buffer_item) = match (&h.name, &b.name) {
            (ObjectName::VmdSpecific(h), ObjectName::VmdSpecific(b)) => {
                (InfoScope::Vcc, None, h, b)
            }
            (
                ObjectName::DomainSpecific { domain, item: h },
                ObjectName::DomainSpecific {
                    domain: d2,
                    item: b,
                },
            ) if domain == d2 => (InfoScope::Icc, Some(domain.clone()), h, b),
            _ => return None,
        };
        if header_item != INFO_MESS_HEADER || !buffer_item.starts_with(INFO_BUFF_PREFIX) {
            return None;
        }
        let [AccessResult::Success(hd), AccessResult::Success(Data::OctetString(data))] =
            report.results.as_slice()
        else {
            return None;
        };
        let header = InfoHeader::from_data(hd)?;
        Some(InfoMessage {
            scope,
            domain,
            header,
            buffer: buffer_item.clone(),
            data: data.clone(),
        })
    }
}

/// The buffer size an `Info_Buff_<n>` name says.
pub fn buffer_size(item: &str) -> Option<usize> {
    item.strip_prefix(INFO_BUFF_PREFIX)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mms::VariableSpec;

    #[test]
    fn decode_icc_message() {
        let header = InfoHeader {
            info_reference: 7,
            local_reference: 1,
            message_id: 42,
            size: 5,
        };
        assert!(InfoHeader::type_description().matches(&header.to_data()));
        let spec = |item: &str| VariableSpec {
            name: ObjectName::domain("ICC1", item),
            alternate_access: None,
        };
        let report = InformationReport {
            variables: VariableAccessSpecification::ListOfVariable(vec![
                spec(INFO_MESS_HEADER),
                spec("Info_Buff_1024"),
            ]),
            results: vec![
                AccessResult::Success(header.to_data()),
                AccessResult::Success(Data::OctetString(b"hello".to_vec())),
            ],
        };
        let m = InfoMessage::decode(&report).unwrap();
        assert_eq!(m.scope, InfoScope::Icc);
        assert_eq!(m.header, header);
        assert_eq!(m.text(), Some("hello"));
        assert_eq!(buffer_size(&m.buffer), Some(1024));
        let mut other = report.clone();
        other.results.pop();
        assert_eq!(InfoMessage::decode(&other), None);
    }
}
