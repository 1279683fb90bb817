//! The log format: a file header, then one frame per [`Entry`].
//!
//! ```text
//! file   = MAGIC (8 octets "TASE2REC") frame(Header) frame(Entry)*
//! frame  = length (u32 LE) checksum (u32 LE, FNV-1a of the payload) payload (postcard)
//! ```
//!
//! Payloads are postcard over serde. **Compatibility rule:** enum variants and struct fields are
//! only ever appended (postcard writes a variant as its index and fields in order), so a reader of a
//! later version reads every earlier file; [`FORMAT_VERSION`] changes only when that rule cannot
//! hold, and a reader refuses versions it does not know rather than guess.

use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::mms::ObjectName;
use crate::server::WriteToken;
use crate::tase2::client::Command;
use crate::tase2::{InfoHeader, PointValue, TagValue};
use crate::time::Instant;

/// The first eight octets of every log.
pub const MAGIC: [u8; 8] = *b"TASE2REC";

/// The version this build writes and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;

/// [`Header::setup_kind`] of a client session's log.
pub const SESSION_SETUP: &str = "session";

/// Octets of a frame's length and checksum.
pub const FRAME_OVERHEAD: usize = 8;

/// Which core object a log records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    /// A TASE.2 client [`Session`](crate::tase2::client::Session): one association, connection 0.
    Client,
    /// A server [`Endpoint`](crate::server::Endpoint): any number of connections.
    Server,
    /// A reconnecting client [`Failover`](crate::tase2::client::Failover): one connection per
    /// association, numbered from 0 in the order they were made.
    Failover,
}

/// The first frame: what was recorded and how to rebuild it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// [`FORMAT_VERSION`] of the writer.
    pub version: u32,
    /// The kind of core object.
    pub role: Role,
    /// What [`Self::setup`] holds: `"session"` for a client session (postcard of
    /// [`SessionSetup`]); for a server, a name chosen by the application that built it (the
    /// `tase2` tool writes `"tase2-serve-toml"` with the model's TOML).
    pub setup_kind: String,
    /// Everything needed to build the same core object again.
    #[serde(with = "octets")]
    pub setup: Vec<u8>,
    /// A digest of the core object as it was when recording started (configuration and model);
    /// a replay checks the object it built against it before feeding any input.
    pub fingerprint: u64,
    /// Who wrote the log (program, version, driver), for people.
    pub producer: String,
    /// The time recording started: the clock the object was built with.
    pub start: Instant,
}

/// How to rebuild a client session: the arguments of
/// [`Session::new`](crate::tase2::client::Session::new).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SessionSetup {
    /// The association configuration.
    pub association: crate::assoc::AssociationConfig,
    /// The session configuration.
    pub config: crate::tase2::client::SessionConfig,
}

/// [`Header::setup_kind`] of a failover client's log.
pub const FAILOVER_SETUP: &str = "failover";

/// How to rebuild a failover client: the arguments of
/// [`Failover::new`](crate::tase2::client::Failover::new).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FailoverSetup {
    /// The configuration (endpoints with their association configuration, policy, seed).
    pub config: crate::tase2::client::FailoverConfig,
}

/// One thing that happened to the core object, at a time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The `now` of the call.
    pub at: Instant,
    /// The call.
    pub event: Event,
}

/// A call into the core object (an input) or bytes it gave out (an output). Variants are only
/// ever appended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Event {
    /// The server accepted a transport connection; the id it gave it.
    Open {
        /// The connection id.
        conn: u64,
    },
    /// The server refused a transport connection (too many associations).
    OpenRefused,
    /// Bytes arrived on a connection (a client session's is 0).
    Input {
        /// The connection.
        conn: u64,
        /// The bytes as they came.
        #[serde(with = "octets")]
        bytes: Vec<u8>,
    },
    /// Bytes the core gave out for a connection, one `poll_transmit` each.
    Output {
        /// The connection.
        conn: u64,
        /// The bytes.
        #[serde(with = "octets")]
        bytes: Vec<u8>,
    },
    /// `handle_timeout`.
    Timeout,
    /// The transport of a connection closed.
    TransportClosed {
        /// The connection.
        conn: u64,
    },
    /// An application call on a client session.
    Session(SessionInput),
    /// An application call on a TASE.2 server endpoint.
    Server(ServerInput),
    /// The application changed the core through a door the log cannot see (such as
    /// `Endpoint::model_mut`); a replay stops here and says so.
    Unrecordable {
        /// The door.
        what: String,
    },
    /// `Endpoint::open_from`: a transport connection from a source address (4 or 16 octets),
    /// and the id it got (`None`: refused).
    OpenFrom {
        /// The source address.
        #[serde(with = "octets")]
        source: Vec<u8>,
        /// The connection id, if accepted.
        conn: Option<u64>,
    },
    /// A call on a failover client that is not bytes, a timer or a close.
    Failover(FailoverInput),
    /// `Endpoint::authenticate`: the transport (TLS) verified the peer's certificate.
    Authenticated {
        /// The connection.
        conn: u64,
        /// Who the certificate says the peer is.
        identity: crate::server::PeerIdentity,
    },
    /// `Endpoint::transport_refused`: the transport (TLS) refused the peer or ended the
    /// connection.
    TransportRefused {
        /// The connection.
        conn: u64,
        /// Why, in words.
        reason: String,
    },
}

/// Calls on a failover client [`Failover`](crate::tase2::client::Failover) (its bytes, timers
/// and closes are [`Event::Input`], [`Event::Timeout`], [`Event::TransportClosed`], and its output
/// [`Event::Output`], with the association's number as the connection). Variants are only ever
/// appended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum FailoverInput {
    /// `handle_connected`.
    Connected {
        /// The endpoint.
        endpoint: u64,
    },
    /// `handle_connect_failed`.
    ConnectFailed {
        /// The endpoint.
        endpoint: u64,
    },
    /// `handle_probe`.
    Probe {
        /// The endpoint.
        endpoint: u64,
        /// Whether it accepted a connection.
        up: bool,
    },
    /// `command`, with the operation id it returned.
    Command {
        /// The command.
        command: Command,
        /// The id returned.
        op: u64,
    },
    /// `conclude`.
    Conclude,
    /// `abort`.
    Abort,
    /// `ack`, with the transfer set's name as the application gave it.
    Ack {
        /// The transfer set.
        transfer_set: ObjectName,
        /// The report's time stamp.
        timestamp: i32,
    },
    /// `nack`, with the transfer set's name as the application gave it.
    Nack {
        /// The transfer set.
        transfer_set: ObjectName,
    },
    /// `set_auto_ack`.
    AutoAck(bool),
}

/// Application calls on a client [`Session`](crate::tase2::client::Session). Variants are only
/// ever appended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum SessionInput {
    /// `command`, with the operation id it returned.
    Command {
        /// The command.
        command: Command,
        /// The id returned.
        op: u64,
    },
    /// `request`: the MMS confirmed request as a whole PDU (invoke id 0), with the id returned.
    Request {
        /// BER of the `confirmed-RequestPDU`.
        #[serde(with = "octets")]
        pdu: Vec<u8>,
        /// The id returned.
        op: u64,
    },
    /// `ack`.
    Ack {
        /// The transfer set.
        transfer_set: ObjectName,
        /// The report's time stamp.
        timestamp: i32,
    },
    /// `nack`.
    Nack {
        /// The transfer set.
        transfer_set: ObjectName,
    },
    /// `conclude`.
    Conclude,
    /// `abort`.
    Abort,
    /// `set_auto_ack`.
    AutoAck(bool),
}

/// Application calls on a TASE.2 server [`Endpoint`](crate::server::Endpoint). Variants are only
/// ever appended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ServerInput {
    /// `run_hooks`.
    RunHooks,
    /// `update`.
    Update {
        /// The point.
        point: u32,
        /// The value.
        value: PointValue,
    },
    /// `update_many`, as the whole batch.
    UpdateMany(Vec<(u32, PointValue)>),
    /// `operator_request`.
    OperatorRequest {
        /// The domain, all if `None`.
        domain: Option<String>,
    },
    /// `external_event`.
    ExternalEvent {
        /// The domain, all if `None`.
        domain: Option<String>,
        /// The event code.
        code: i16,
    },
    /// `answer_operate`; the error as its DataAccessError code.
    AnswerOperate {
        /// The operate.
        op: u64,
        /// The answer.
        result: Result<(), u8>,
    },
    /// `set_tag` (local tagging).
    SetTag {
        /// The device.
        device: u32,
        /// The tag.
        value: TagValue,
        /// The reason.
        reason: String,
    },
    /// `send_info_message`.
    SendInfoMessage {
        /// The domain, VCC if `None`.
        domain: Option<String>,
        /// The header.
        header: InfoHeader,
        /// The message.
        #[serde(with = "octets")]
        data: Vec<u8>,
    },
    /// `complete_write`; the error as its DataAccessError code.
    CompleteWrite {
        /// The deferred write.
        token: WriteToken,
        /// The answer.
        result: Result<(), u8>,
    },
    /// `send_information_report`: the report as a whole unconfirmed PDU.
    SendInformationReport {
        /// The association.
        conn: u64,
        /// BER of the `unconfirmed-PDU`.
        #[serde(with = "octets")]
        pdu: Vec<u8>,
    },
    /// `report_list`.
    ReportList {
        /// The association.
        conn: u64,
        /// The named variable list.
        list: ObjectName,
    },
    /// `abort`.
    Abort {
        /// The association.
        conn: u64,
    },
    /// `set_value`: the value as BER `Data`.
    SetValue {
        /// The variable.
        name: ObjectName,
        /// BER of the value.
        #[serde(with = "octets")]
        data: Vec<u8>,
    },
}

/// FNV-1a, 32 bits: the frame checksum (catches flipped bits that still decode; not security).
pub(crate) fn checksum(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for &b in bytes {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// Start a log in `out`: the magic and the header frame.
pub fn write_header(out: &mut Vec<u8>, header: &Header) {
    out.extend_from_slice(&MAGIC);
    write_frame(out, header);
}

/// Append one entry's frame to `out` (tools that make logs of their own: an import of a capture,
/// an edited fixture).
pub fn write_entry(out: &mut Vec<u8>, entry: &Entry) {
    write_frame(out, entry);
}

/// Append one frame holding `value` to `out`.
pub(crate) fn write_frame<T: Serialize>(out: &mut Vec<u8>, value: &T) {
    let start = out.len();
    out.extend_from_slice(&[0; FRAME_OVERHEAD]);
    // Serialising our own types into a Vec cannot fail (no maps with non-string keys, no
    // unsized sequences); should it ever, the frame is dropped rather than half written.
    match postcard::to_extend(value, core::mem::take(out)) {
        Ok(v) => *out = v,
        Err(_) => {
            out.truncate(start);
            return;
        }
    }
    seal_frame(out, start);
}

/// Fill in the length and checksum of the frame at `start` (not generic: one copy for every
/// instance of [`write_frame`]).
fn seal_frame(out: &mut [u8], start: usize) {
    let len = (out.len() - start - FRAME_OVERHEAD) as u32;
    let sum = checksum(&out[start + FRAME_OVERHEAD..]);
    out[start..start + 4].copy_from_slice(&len.to_le_bytes());
    out[start + 4..start + 8].copy_from_slice(&sum.to_le_bytes());
}

/// FNV-1a, 64 bits, as a `fmt::Write` so a `Debug` rendering can be digested without allocating.
pub(crate) struct Fingerprint(pub u64);

impl Fingerprint {
    pub(crate) fn new() -> Self {
        Fingerprint(0xcbf2_9ce4_8422_2325)
    }
}

impl Fingerprint {
    /// The digest of `octets` alone.
    pub(crate) fn of(octets: &[u8]) -> u64 {
        let mut fp = Fingerprint::new();
        fp.octets(octets);
        fp.0
    }

    /// Fold `octets` into the digest (FNV-1a).
    pub(crate) fn octets(&mut self, octets: &[u8]) {
        for &b in octets {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

impl core::fmt::Write for Fingerprint {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.octets(s.as_bytes());
        Ok(())
    }
}

/// `Vec<u8>` fields as one run of octets: postcard writes `serialize_bytes` exactly as it writes
/// a sequence of `u8` (a varint length, then the octets), so the format is unchanged, but a reader
/// copies the run at once instead of visiting every octet.
mod octets {
    use alloc::vec::Vec;
    use core::fmt;
    use serde::{de, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(v)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        struct Octets;
        impl<'de> de::Visitor<'de> for Octets {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("octets")
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                Ok(v.to_vec())
            }
            fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
                Ok(v)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut a: A) -> Result<Vec<u8>, A::Error> {
                // Bounded: the hint comes from the file.
                let mut v = Vec::with_capacity(a.size_hint().unwrap_or(0).min(64 * 1024));
                while let Some(b) = a.next_element()? {
                    v.push(b);
                }
                Ok(v)
            }
        }
        d.deserialize_byte_buf(Octets)
    }
}

#[cfg(test)]
mod setup_tests {
    use super::*;

    // The setups are written through `to_extend`, whose serializer the journal already links;
    // the octets must stay those `to_allocvec` wrote.
    #[test]
    fn setups_extend_as_allocvec_writes_them() {
        let session = SessionSetup {
            association: crate::assoc::AssociationConfig::default(),
            config: crate::tase2::client::SessionConfig::default(),
        };
        assert_eq!(
            postcard::to_extend(&session, Vec::new()).unwrap(),
            postcard::to_allocvec(&session).unwrap()
        );
        let failover = FailoverSetup {
            config: crate::tase2::client::FailoverConfig::default(),
        };
        assert_eq!(
            postcard::to_extend(&failover, Vec::new()).unwrap(),
            postcard::to_allocvec(&failover).unwrap()
        );
    }
}
