//! Information messages in the server (block 4): `IM_Transfer_Set` per association, and sending a
//! message to exactly the associations whose bilateral table admits it.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use super::{ConnectionId, Tase2, Tase2Event};
use crate::ber::{Tag, Writer};
use crate::mms::{
    write_access_success, write_information_report, ObjectName, VariableAccessSpecification,
    VariableSpec,
};
use crate::server::Endpoint;
use crate::tase2::info::{InfoHeader, InfoScope, INFO_BUFF_PREFIX, INFO_MESS_HEADER};

/// Why [`Endpoint::send_info_message`] sent nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InfoError {
    /// The domain does not exist.
    UnknownDomain,
    /// The scope has no `Info_Buff_<n>`.
    NoBuffer,
    /// The message is larger than the largest buffer of its scope (never cut).
    TooLarge {
        /// Octets in the message.
        size: usize,
        /// The largest buffer.
        largest: usize,
    },
}

impl core::fmt::Display for InfoError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            InfoError::UnknownDomain => f.write_str("no such ICC domain"),
            InfoError::NoBuffer => f.write_str("no Info_Buff_<n> in this scope"),
            InfoError::TooLarge { size, largest } => write!(
                f,
                "message of {size} octets exceeds the largest information buffer ({largest})"
            ),
        }
    }
}

impl core::error::Error for InfoError {}

/// Where a message went.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InfoDelivery {
    /// The associations it was sent to.
    pub sent: Vec<ConnectionId>,
    /// Associations that would receive it but negotiated a PDU too small for it (each also gets a
    /// [`Tase2Event::InfoMessageTooLarge`]); they were sent nothing.
    pub too_large: Vec<ConnectionId>,
}

/// Buffer sizes per scope (`None`: VCC; else the domain index), ascending.
pub(super) type Buffers = BTreeMap<Option<u32>, Vec<usize>>;

impl Tase2 {
    /// Whether `id` receives a message of this scope and references.
    fn receives(&self, id: ConnectionId, domain: Option<u32>, h: &InfoHeader) -> bool {
        let Some(c) = self.conns.get(&id).filter(|c| c.im_enabled) else {
            return false;
        };
        let scope = match domain {
            None => InfoScope::Vcc,
            Some(d) if c.domain == Some(d) => InfoScope::Icc,
            Some(_) => return false,
        };
        self.table_of(id)
            .is_some_and(|t| t.admits_info(scope, h.info_reference, h.local_reference))
    }

    /// Write of `IM_Transfer_Set`.
    pub(super) fn set_im_enabled(&mut self, id: ConnectionId, enabled: bool) -> bool {
        let Some(c) = self.conns.get_mut(&id) else {
            return false;
        };
        let changed = c.im_enabled != enabled;
        c.im_enabled = enabled;
        changed
    }

    /// Whether `id` enabled information messages.
    pub fn im_enabled(&self, id: ConnectionId) -> bool {
        self.conns.get(&id).is_some_and(|c| c.im_enabled)
    }
}

impl Endpoint<Tase2> {
    /// Send an information message (text or binary) in VCC scope (`domain` `None`) or in the ICC
    /// domain `domain`, to every association that enabled `IM_Transfer_Set` and whose bilateral
    /// table admits it (scope, InfoReference, LocalReference); an ICC message goes only to the
    /// client of that domain. `header.size` is set to the length of `data`. The message travels
    /// in the smallest `Info_Buff_<n>` of the scope that holds it; a message larger than every
    /// buffer is refused, and one larger than an association's negotiated PDU is not sent to it
    /// (see [`InfoDelivery::too_large`]).
    pub fn send_info_message(
        &mut self,
        domain: Option<&str>,
        mut header: InfoHeader,
        data: &[u8],
    ) -> Result<InfoDelivery, InfoError> {
        self.log_last(|| {
            crate::record::Event::Server(crate::record::ServerInput::SendInfoMessage {
                domain: domain.map(Into::into),
                header,
                data: data.to_vec(),
            })
        });
        let h = self.hooks();
        let di = match domain {
            Some(d) => Some(*h.domain_index.get(d).ok_or(InfoError::UnknownDomain)?),
            None => None,
        };
        let sizes = h.info_buffers.get(&di).ok_or(InfoError::NoBuffer)?;
        let size = *sizes
            .iter()
            .find(|&&n| n >= data.len())
            .ok_or(InfoError::TooLarge {
                size: data.len(),
                largest: sizes.last().copied().unwrap_or(0),
            })?;
        header.size = data.len() as i32;
        let buffer = alloc::format!("{INFO_BUFF_PREFIX}{size}");
        let name = |item: &str| match domain {
            Some(d) => ObjectName::domain(d, item),
            None => ObjectName::vmd(item),
        };
        let spec = |name| VariableSpec {
            name,
            alternate_access: None,
        };
        let vars = VariableAccessSpecification::ListOfVariable(alloc::vec![
            spec(name(INFO_MESS_HEADER)),
            spec(name(&buffer)),
        ]);
        let mut pdu = Vec::new();
        write_information_report(&mut Writer::new(&mut pdu), &vars, |w| {
            write_access_success(w, &header.to_data());
            w.primitive(Tag::context(9), data);
        });
        let recipients: Vec<ConnectionId> = h
            .conns
            .keys()
            .copied()
            .filter(|&id| h.receives(id, di, &header))
            .collect();
        let mut delivery = InfoDelivery::default();
        self.with_outbox_now(|_, out| {
            for id in recipients {
                match out.send_raw(id, |w| w.raw(&pdu)) {
                    Ok(()) => delivery.sent.push(id),
                    Err(crate::assoc::ApiError::PduTooLarge) => {
                        out.emit(Tase2Event::InfoMessageTooLarge {
                            id,
                            size: pdu.len(),
                            max_pdu_size: out.max_pdu_size(id).unwrap_or(0),
                        });
                        delivery.too_large.push(id);
                    }
                    // Not established (releasing): nothing to deliver to.
                    Err(_) => {}
                }
            }
        });
        Ok(delivery)
    }
}
