//! FreeTase2 over tokio: [`Client::connect`] and [`Server::bind`] drive the sans-IO core
//! (`tase2-core`) on tokio sockets.
//!
//! The core does all protocol work; this crate only moves bytes and runs the one timer the core asks
//! for. A server is one task owning the core `Endpoint` (so point updates and reports need no locks)
//! plus a reader and a writer task per socket. [`Tase2Client`] ([`tase2`]) is the typed TASE.2
//! client: a thin async handle over the core's TASE.2 `Session` (discovery, points, data sets,
//! transfer sets, reports, information messages and device control); [`Client`] is the plain MMS
//! client over the core's MMS `Client`. Every channel between tasks is bounded: a full queue
//! stops the socket being read (back-pressure), it never drops.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use tase2_core::assoc::AssociationConfig;
//! use tase2_core::mms::ObjectName;
//! let config = AssociationConfig::with_ap_titles(("1.1.1.999".parse()?, 12), ("1.1.1.998".parse()?, 12));
//! let client = tase2_tokio::Client::connect("127.0.0.1:102", config).await?;
//! println!("{:?}", client.identify().await?);
//! println!("{:?}", client.read(&ObjectName::domain("ICC1", "Point_0001")).await?);
//! client.conclude().await?;
//! # Ok(()) }
//! ```

mod client;
mod close;
mod link;
mod recording;
mod server;
pub mod tase2;
#[cfg(feature = "tls")]
pub mod tls;

/// The system clock as the core's `Instant`: the core's shared [`tase2_core::std_clock`].
pub mod clock {
    pub use tase2_core::std_clock::{now, to_std, until};
}

pub use client::{Client, Error};
pub use link::{FailoverClient, FailoverOptions};
pub use recording::{record_file, RecordFile};
pub use server::{
    Command, EventHook, Server, ServerHandle, KEEPALIVE_IDLE, KEEPALIVE_INTERVAL, KEEPALIVE_RETRIES,
};
pub use tase2::Tase2Client;
