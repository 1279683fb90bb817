//! The core objects a log replays into: a client [`Session`] and a TASE.2 [`Endpoint`].

use alloc::string::String;
use alloc::vec::Vec;

use super::format::{
    Event, FailoverInput, FailoverSetup, Role, ServerInput, SessionInput, SessionSetup,
    FAILOVER_SETUP, SESSION_SETUP,
};
use super::reader::Reader;
use super::replay::{replay_reader, Mismatch, ReplayError, ReplayStats, Replayable};
use crate::mms::{DataAccessError, MmsPdu, UnconfirmedService};
use crate::server::{ConnectionId, Endpoint};
use crate::tase2::client::{Failover, Session};
use crate::tase2::server::{DeviceId, OperateId, PointId, Tase2};
use crate::time::Instant;

impl Replayable for Session {
    const ROLE: Role = Role::Client;

    fn fingerprint(&self) -> u64 {
        Session::fingerprint(self)
    }

    fn made_this(&self, recorded: u64) -> bool {
        // Recordings made before the fingerprint was a digest of the postcard setup carry the
        // digest of its `Debug` text.
        recorded == Session::fingerprint(self) || recorded == self.legacy_fingerprint()
    }

    fn apply(&mut self, at: Instant, event: &Event) -> Result<(), Mismatch> {
        match event {
            Event::Input { bytes, .. } => self.handle_input(at, bytes),
            Event::Timeout => self.handle_timeout(at),
            Event::TransportClosed { .. } => self.handle_transport_closed(at),
            Event::Session(input) => match input {
                SessionInput::Command { command, op } => {
                    let got = self.command(at, command.clone()).0;
                    if got != *op {
                        return Err(Mismatch::OpId { expected: *op, got });
                    }
                }
                SessionInput::Request { pdu, op } => {
                    let limits = crate::mms::DecodeLimits::default();
                    let request = match MmsPdu::decode(pdu, &limits) {
                        Ok(MmsPdu::ConfirmedRequest { request, .. }) => request,
                        Ok(_) => return Err(Mismatch::BadInput("not a confirmed request".into())),
                        Err(e) => return Err(Mismatch::BadInput(alloc::format!("{e}"))),
                    };
                    let got = self.request(at, request).0;
                    if got != *op {
                        return Err(Mismatch::OpId { expected: *op, got });
                    }
                }
                // Their results are errors the session gives again the same way.
                SessionInput::Ack {
                    transfer_set,
                    timestamp,
                } => drop(self.ack(transfer_set, *timestamp)),
                SessionInput::Nack { transfer_set } => drop(self.nack(transfer_set)),
                SessionInput::Conclude => drop(self.conclude(at)),
                SessionInput::Abort => self.abort(at),
                SessionInput::AutoAck(on) => self.set_auto_ack(*on),
            },
            Event::Unrecordable { what } => return Err(Mismatch::Unrecordable(what.clone())),
            Event::Open { .. }
            | Event::OpenRefused
            | Event::OpenFrom { .. }
            | Event::Authenticated { .. }
            | Event::TransportRefused { .. }
            | Event::Server(_)
            | Event::Failover(_)
            | Event::Output { .. } => return Err(Mismatch::WrongRole),
        }
        Ok(())
    }

    fn transmit(&mut self, _conn: u64, buf: &mut Vec<u8>) -> usize {
        self.poll_transmit(buf)
    }

    fn drain_events(&mut self) -> usize {
        core::iter::from_fn(|| self.poll_event()).count()
    }
}

impl Replayable for Endpoint<Tase2> {
    const ROLE: Role = Role::Server;

    fn fingerprint(&self) -> u64 {
        Endpoint::fingerprint(self)
    }

    fn apply(&mut self, at: Instant, event: &Event) -> Result<(), Mismatch> {
        let access = |r: &Result<(), u8>| r.map_err(DataAccessError);
        match event {
            Event::Open { conn } => {
                let got = self.open(at).ok().map(|c| c.0);
                if got != Some(*conn) {
                    return Err(Mismatch::Connection {
                        expected: Some(*conn),
                        got,
                    });
                }
            }
            Event::OpenRefused => {
                if let Ok(c) = self.open(at) {
                    return Err(Mismatch::Connection {
                        expected: None,
                        got: Some(c.0),
                    });
                }
            }
            Event::OpenFrom { source, conn } => {
                let ip = match source.as_slice() {
                    &[a, b, c, d] => core::net::IpAddr::from([a, b, c, d]),
                    s => match <[u8; 16]>::try_from(s) {
                        Ok(a) => core::net::IpAddr::from(a),
                        Err(_) => return Err(Mismatch::BadInput("a source address".into())),
                    },
                };
                let got = self.open_from(at, ip).ok().map(|c| c.0);
                if got != *conn {
                    return Err(Mismatch::Connection {
                        expected: *conn,
                        got,
                    });
                }
            }
            Event::Input { conn, bytes } => self.handle_input(at, ConnectionId(*conn), bytes),
            Event::Authenticated { conn, identity } => {
                self.authenticate(at, ConnectionId(*conn), identity.clone())
            }
            Event::TransportRefused { conn, reason } => {
                self.transport_refused(at, ConnectionId(*conn), reason)
            }
            Event::Timeout => self.handle_timeout(at),
            Event::TransportClosed { conn } => {
                self.handle_transport_closed(at, ConnectionId(*conn))
            }
            Event::Server(input) => match input {
                ServerInput::RunHooks => self.run_hooks(at),
                ServerInput::Update { point, value } => {
                    self.update(at, PointId(*point), *value);
                }
                ServerInput::UpdateMany(batch) => {
                    self.update_many(at, batch.iter().map(|(p, v)| (PointId(*p), *v)));
                }
                ServerInput::OperatorRequest { domain } => {
                    self.operator_request(at, domain.as_deref())
                }
                ServerInput::ExternalEvent { domain, code } => {
                    self.external_event(at, domain.as_deref(), *code)
                }
                ServerInput::AnswerOperate { op, result } => {
                    drop(self.answer_operate(OperateId(*op), access(result)))
                }
                ServerInput::SetTag {
                    device,
                    value,
                    reason,
                } => drop(self.set_tag(at, DeviceId(*device), *value, reason)),
                ServerInput::SendInfoMessage {
                    domain,
                    header,
                    data,
                } => drop(self.send_info_message(domain.as_deref(), *header, data)),
                ServerInput::CompleteWrite { token, result } => {
                    drop(self.complete_write(*token, access(result)))
                }
                ServerInput::SendInformationReport { conn, pdu } => {
                    let limits = crate::mms::DecodeLimits::default();
                    let report = match MmsPdu::decode(pdu, &limits) {
                        Ok(MmsPdu::Unconfirmed(UnconfirmedService::InformationReport(r))) => r,
                        Ok(_) => return Err(Mismatch::BadInput("not an InformationReport".into())),
                        Err(e) => return Err(Mismatch::BadInput(alloc::format!("{e}"))),
                    };
                    drop(self.send_information_report(ConnectionId(*conn), report));
                }
                ServerInput::ReportList { conn, list } => {
                    drop(self.report_list(at, ConnectionId(*conn), list))
                }
                ServerInput::Abort { conn } => self.abort(at, ConnectionId(*conn)),
                ServerInput::SetValue { name, data } => {
                    let value = crate::ber::Reader::new(data)
                        .read()
                        .ok()
                        .and_then(|tlv| {
                            crate::mms::Data::decode(&tlv, &crate::mms::DecodeLimits::default())
                                .ok()
                        })
                        .ok_or_else(|| {
                            Mismatch::BadInput(String::from("a value that does not decode"))
                        })?;
                    self.set_value(at, name, value);
                }
            },
            Event::Unrecordable { what } => return Err(Mismatch::Unrecordable(what.clone())),
            Event::Session(_) | Event::Failover(_) | Event::Output { .. } => {
                return Err(Mismatch::WrongRole)
            }
        }
        Ok(())
    }

    fn transmit(&mut self, conn: u64, buf: &mut Vec<u8>) -> usize {
        self.poll_transmit(ConnectionId(conn), buf)
    }

    fn drain_events(&mut self) -> usize {
        core::iter::from_fn(|| self.poll_event()).count()
    }
}

impl Replayable for Failover {
    const ROLE: Role = Role::Failover;

    fn fingerprint(&self) -> u64 {
        Failover::fingerprint(self)
    }

    fn made_this(&self, recorded: u64) -> bool {
        // Recordings made before the fingerprint was a digest of the postcard setup carry the
        // digest of its `Debug` text.
        recorded == Failover::fingerprint(self) || recorded == self.legacy_fingerprint()
    }

    fn apply(&mut self, at: Instant, event: &Event) -> Result<(), Mismatch> {
        let endpoint = |e: &u64| usize::try_from(*e).unwrap_or(usize::MAX);
        match event {
            Event::Input { bytes, .. } => self.handle_input(at, bytes),
            Event::Timeout => self.handle_timeout(at),
            Event::TransportClosed { .. } => self.handle_transport_closed(at),
            Event::Failover(input) => match input {
                FailoverInput::Connected { endpoint: e } => self.handle_connected(at, endpoint(e)),
                FailoverInput::ConnectFailed { endpoint: e } => {
                    self.handle_connect_failed(at, endpoint(e))
                }
                FailoverInput::Probe { endpoint: e, up } => self.handle_probe(at, endpoint(e), *up),
                FailoverInput::Command { command, op } => {
                    let got = self.command(at, command.clone()).0;
                    if got != *op {
                        return Err(Mismatch::OpId { expected: *op, got });
                    }
                }
                FailoverInput::Conclude => self.conclude(at),
                FailoverInput::Abort => self.abort(at),
                FailoverInput::Ack {
                    transfer_set,
                    timestamp,
                } => drop(self.ack(at, transfer_set, *timestamp)),
                FailoverInput::Nack { transfer_set } => drop(self.nack(at, transfer_set)),
                FailoverInput::AutoAck(on) => self.set_auto_ack(at, *on),
            },
            Event::Unrecordable { what } => return Err(Mismatch::Unrecordable(what.clone())),
            Event::Open { .. }
            | Event::OpenRefused
            | Event::OpenFrom { .. }
            | Event::Server(_)
            | Event::Session(_)
            | Event::Authenticated { .. }
            | Event::TransportRefused { .. }
            | Event::Output { .. } => return Err(Mismatch::WrongRole),
        }
        Ok(())
    }

    fn transmit(&mut self, conn: u64, buf: &mut Vec<u8>) -> usize {
        if self.current_conn() == Some(conn) {
            self.poll_transmit(buf)
        } else {
            0
        }
    }

    fn drain_events(&mut self) -> usize {
        // The driver's actions are outputs as well; what the driver did about them is logged.
        let actions = core::iter::from_fn(|| self.poll_action()).count();
        actions + core::iter::from_fn(|| self.poll_event()).count()
    }

    fn current_conn(&self) -> Option<u64> {
        Failover::current_conn(self)
    }
}

/// Replay a failover client's log: the client is rebuilt from the header by itself.
pub fn replay_failover(data: &[u8]) -> Result<ReplayStats, ReplayError> {
    let mut reader = Reader::new(data)?;
    let h = reader.header();
    if h.role != Role::Failover {
        return Err(ReplayError::WrongRole { recorded: h.role });
    }
    if h.setup_kind != FAILOVER_SETUP {
        return Err(ReplayError::Setup(alloc::format!(
            "setup of kind {:?}, expected {FAILOVER_SETUP:?}",
            h.setup_kind
        )));
    }
    let setup: FailoverSetup = postcard::from_bytes(&h.setup)
        .map_err(|e| ReplayError::Setup(alloc::format!("failover setup: {e}")))?;
    let mut failover = Failover::new(setup.config, h.start);
    replay_reader(&mut failover, &mut reader)
}

/// Replay a client session's log: the session is rebuilt from the header by itself.
pub fn replay_session(data: &[u8]) -> Result<ReplayStats, ReplayError> {
    let mut reader = Reader::new(data)?;
    let h = reader.header();
    if h.role != Role::Client {
        return Err(ReplayError::WrongRole { recorded: h.role });
    }
    if h.setup_kind != SESSION_SETUP {
        return Err(ReplayError::Setup(alloc::format!(
            "setup of kind {:?}, expected {SESSION_SETUP:?}",
            h.setup_kind
        )));
    }
    let setup: SessionSetup = postcard::from_bytes(&h.setup)
        .map_err(|e| ReplayError::Setup(alloc::format!("session setup: {e}")))?;
    let mut session = Session::new(setup.association, setup.config, h.start);
    replay_reader(&mut session, &mut reader)
}
