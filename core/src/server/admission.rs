//! Admission: who gets a connection slot, and who loses it.
//!
//! A control center peers with tens of utilities and must never be locked out by one broken or
//! hostile peer. So connections that have not finished their handshake live in their own bounded
//! pool with a short deadline, and when the pool is full the *oldest* of them makes room: never an
//! established association, never the newcomer (a flood of half-open sockets then only churns
//! the pool, and a real client that completes its handshake in time gets through). Established
//! associations have their own limit, enforced by refusing the AARQ with an ACSE diagnostic so
//! the client learns why. Every refusal and eviction is an [`AdmissionEvent`].

use core::fmt;
use core::net::IpAddr;
use core::time::Duration;

use alloc::string::String;

use super::ConnectionId;

/// A refusal or eviction by the endpoint's admission rules ([`super::ServerEvent::Admission`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdmissionEvent {
    /// [`Endpoint::open_from`](super::Endpoint::open_from) refused a connection: its source
    /// already holds `limit` ([`ServerConfig::max_per_source`](super::ServerConfig::max_per_source)).
    SourceLimit {
        /// The source address.
        source: IpAddr,
        /// The limit.
        limit: usize,
    },
    /// A connection still in its handshake was dropped to make room for a newcomer: the pool of
    /// `limit` pending connections was full.
    PendingPoolFull {
        /// The connection dropped (the oldest pending one).
        id: ConnectionId,
        /// [`ServerConfig::max_pending`](super::ServerConfig::max_pending).
        limit: usize,
    },
    /// A connection did not complete its handshake in time.
    HandshakeTimeout {
        /// The connection.
        id: ConnectionId,
        /// [`ServerConfig::handshake_timeout`](super::ServerConfig::handshake_timeout).
        after: Duration,
    },
    /// The association was refused (AARE rejected-transient, no-reason-given): `limit`
    /// associations are established already.
    AssociationLimit {
        /// The connection.
        id: ConnectionId,
        /// [`ServerConfig::max_associations`](super::ServerConfig::max_associations).
        limit: usize,
    },
    /// An established association sent nothing for `after` and was aborted.
    Idle {
        /// The association.
        id: ConnectionId,
        /// [`ServerConfig::idle_timeout`](super::ServerConfig::idle_timeout).
        after: Duration,
    },
    /// The peer did not take its output: `queued` octets stayed above the cap for `after`, and
    /// the association was aborted.
    StuckReader {
        /// The association.
        id: ConnectionId,
        /// Octets queued.
        queued: usize,
        /// [`ServerConfig::stuck_timeout`](super::ServerConfig::stuck_timeout).
        after: Duration,
    },
    /// The peer kept sending while its input was on hold (its output above the cap) until the
    /// held input reached `limit` octets; the association was aborted.
    InputFlood {
        /// The association.
        id: ConnectionId,
        /// Octets held.
        limit: usize,
    },
    /// The transport refused the connection or ended it
    /// ([`Endpoint::transport_refused`](super::Endpoint::transport_refused)): a TLS handshake
    /// that failed (unknown CA, expired, revoked, not pinned, no certificate, plain TCP on the
    /// TLS port), or a certificate that no longer passes a reloaded configuration.
    TransportRefused {
        /// The connection.
        id: ConnectionId,
        /// Its source address, when the driver gave one
        /// ([`Endpoint::open_from`](super::Endpoint::open_from)).
        source: Option<IpAddr>,
        /// Why, in words.
        reason: String,
    },
}

impl AdmissionEvent {
    /// The connection concerned, if it got one.
    pub fn id(&self) -> Option<ConnectionId> {
        match self {
            AdmissionEvent::SourceLimit { .. } => None,
            AdmissionEvent::PendingPoolFull { id, .. }
            | AdmissionEvent::HandshakeTimeout { id, .. }
            | AdmissionEvent::AssociationLimit { id, .. }
            | AdmissionEvent::Idle { id, .. }
            | AdmissionEvent::StuckReader { id, .. }
            | AdmissionEvent::InputFlood { id, .. }
            | AdmissionEvent::TransportRefused { id, .. } => Some(*id),
        }
    }
}

impl fmt::Display for AdmissionEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = |d: &Duration| d.as_secs_f64();
        match self {
            AdmissionEvent::SourceLimit { source, limit } => write!(
                f,
                "connection from {source} refused: it already has {limit} connections"
            ),
            AdmissionEvent::PendingPoolFull { id, limit } => write!(
                f,
                "connection {} dropped before completing its handshake: {limit} connections \
                 were waiting, the oldest makes room",
                id.0
            ),
            AdmissionEvent::HandshakeTimeout { id, after } => write!(
                f,
                "connection {} dropped: no association within {} s",
                id.0,
                secs(after)
            ),
            AdmissionEvent::AssociationLimit { id, limit } => write!(
                f,
                "association {} refused: {limit} associations are established already",
                id.0
            ),
            AdmissionEvent::Idle { id, after } => write!(
                f,
                "association {} aborted: nothing received for {} s",
                id.0,
                secs(after)
            ),
            AdmissionEvent::StuckReader { id, queued, after } => write!(
                f,
                "association {} aborted: its peer took no output for {} s ({queued} octets \
                 queued)",
                id.0,
                secs(after)
            ),
            AdmissionEvent::InputFlood { id, limit } => write!(
                f,
                "association {} aborted: it sent {limit} octets while its own output was held \
                 back",
                id.0
            ),
            AdmissionEvent::TransportRefused { id, source, reason } => match source {
                Some(src) => write!(f, "TLS refused connection {} from {src}: {reason}", id.0),
                None => write!(f, "TLS refused connection {}: {reason}", id.0),
            },
        }
    }
}

/// Why [`Endpoint::open`](super::Endpoint::open) or
/// [`Endpoint::open_from`](super::Endpoint::open_from) refused a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenError {
    /// Its source already holds [`ServerConfig::max_per_source`](super::ServerConfig::max_per_source)
    /// connections.
    SourceLimit,
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::SourceLimit => f.write_str("too many connections from this source"),
        }
    }
}

impl core::error::Error for OpenError {}
