//! Information messages (conformance block 4) for [`Tase2Client`]: enabling reception. The
//! messages themselves come out of [`Tase2Client::next_report`] as
//! [`Tase2Report::InfoMessage`](super::Tase2Report::InfoMessage).

use tase2_core::mms::{Data, ObjectName};
use tase2_core::tase2::info::IM_TRANSFER_SET;

use super::Tase2Client;
use crate::Error;

impl Tase2Client {
    /// Receive information messages: writes `true` to this association's `IM_Transfer_Set`
    /// (association-specific). The server then sends every message its bilateral table admits
    /// for this client.
    pub async fn enable_info_messages(&self) -> Result<(), Error> {
        self.set_info_messages(true).await
    }

    /// Stop receiving information messages (`IM_Transfer_Set` = false). Messages already on
    /// their way may still arrive.
    pub async fn disable_info_messages(&self) -> Result<(), Error> {
        self.set_info_messages(false).await
    }

    async fn set_info_messages(&self, on: bool) -> Result<(), Error> {
        self.client
            .write(
                &ObjectName::AaSpecific(IM_TRANSFER_SET.into()),
                Data::Boolean(on),
            )
            .await
    }
}
