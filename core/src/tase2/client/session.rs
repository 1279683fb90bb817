//! [`Session`]: the TASE.2 client as a sans-IO state machine.

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::assoc::{
    ApiError, AssocError, AssociationConfig, Event, Negotiated, PeerError, RequestError,
};
use crate::client::Client;
use crate::deviation::{Deviation, DeviationKind};
use crate::mms::{
    AccessResult, ConfirmedRequest, ConfirmedResponse, Data, InformationReport, ObjectClass,
    ObjectName, ObjectScope, RejectPdu, TypeDescription, UnconfirmedService,
    VariableAccessSpecification,
};
use crate::record;
use crate::tase2::{
    names, ControlMode, ControlValue, DeviceKind, DsConditions, DsTransferSetValue, Edition,
    Features, InfoMessage, PointType, PointValue, Tag, TagValue,
};
use crate::time::Instant;
use crate::vec_map::VecMap;

use super::ops::{self, Cont, Known, Step, K};
use super::typing::standard_type_name;
use super::{ack, nack, Error, Report, ReportError};

/// Limits and defaults of a [`Session`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionConfig {
    /// Acknowledge critical reports of the transfer sets this session started, as they arrive
    /// (`Transfer_Report_ACK`). On by default.
    pub auto_ack: bool,
    /// At most this many names are gathered by one GetNameList walk (all its pages): a server
    /// that pages forever cannot grow the client without bound. Default 100,000.
    pub max_names: usize,
    /// InformationReports held in arrival order while the members of a data set are looked up
    /// (a full report of a data set this client does not know). Beyond it the oldest held report
    /// is delivered undecoded rather than dropped. Default 1,024.
    pub max_held_reports: usize,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            auto_ack: true,
            max_names: 100_000,
            max_held_reports: 1024,
        }
    }
}

/// The handle of one operation: returned at once by each command, carried by its
/// [`SessionEvent::Done`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct OpId(pub u64);

/// An application command: every operation a [`Session`] performs, as data (serialisable, so a
/// recording can log it and JavaScript can send it as JSON). [`Session::command`] starts one.
///
/// **Variants are only ever appended.**
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    /// Read `TASE2_Version` and adopt its edition → [`Outcome::Version`].
    Version,
    /// `TASE2_Version` as two integers, uninterpreted → [`Outcome::VersionNumbers`].
    VersionNumbers,
    /// `Supported_Features` → [`Outcome::Features`].
    Features,
    /// `Bilateral_Table_ID` of a domain → [`Outcome::TableId`].
    BilateralTableId {
        /// The ICC domain.
        domain: String,
    },
    /// The domains this client sees (all pages) → [`Outcome::Names`].
    Domains,
    /// The data sets of a domain, or of VCC scope with `None` → [`Outcome::Names`].
    DataSets {
        /// The domain, `None` for VCC.
        domain: Option<String>,
    },
    /// Variable names of a domain or of VCC (all pages) → [`Outcome::Names`].
    VariableNames {
        /// The domain, `None` for VCC.
        domain: Option<String>,
    },
    /// Variables with their types (GetNameList, then GetVariableAccessAttributes of each,
    /// pipelined) → [`Outcome::Variables`].
    Variables {
        /// The domain, `None` for VCC.
        domain: Option<String>,
    },
    /// Version, features, VCC variables and each visible domain's table id, variables and data
    /// sets → [`Outcome::Discovery`].
    Discover,
    /// Learn the point types of these variables (asking only for those not known yet) →
    /// [`Outcome::PointTypes`].
    LearnTypes {
        /// The variables.
        names: Vec<ObjectName>,
    },
    /// Read points in one Read → [`Outcome::Points`] (one result each).
    ReadPoints {
        /// The points.
        names: Vec<ObjectName>,
    },
    /// Write a point, encoded for its type (and the server's component order) → [`Outcome::Unit`].
    WritePoint {
        /// The point.
        name: ObjectName,
        /// Its new value.
        value: PointValue,
    },
    /// DefineNamedVariableList, then learn the members' types → [`Outcome::Unit`].
    DefineDataSet {
        /// The data set (normally in the client's ICC domain).
        name: ObjectName,
        /// Its members, in order.
        members: Vec<ObjectName>,
    },
    /// GetNamedVariableListAttributes; members remembered with their types → [`Outcome::Members`].
    DataSetMembers {
        /// The data set.
        name: ObjectName,
    },
    /// DeleteNamedVariableList → [`Outcome::Deleted`].
    DeleteDataSet {
        /// The data set.
        name: ObjectName,
    },
    /// Read `Next_DSTransfer_Set` of a domain → [`Outcome::TransferSet`].
    ReserveTransferSet {
        /// The ICC domain.
        domain: String,
    },
    /// Configure and start a reserved transfer set (whole-structure write in the server's edition,
    /// Status true) → [`Outcome::Unit`].
    StartTransferSet {
        /// The transfer set.
        transfer_set: ObjectName,
        /// Its configuration (`status` is set for you).
        value: DsTransferSetValue,
    },
    /// Reserve a transfer set of `domain` and start it → [`Outcome::TransferSet`].
    ReserveAndStart {
        /// The ICC domain.
        domain: String,
        /// The configuration.
        value: DsTransferSetValue,
    },
    /// Read a transfer set's configuration → [`Outcome::TransferSetValue`].
    ReadTransferSet {
        /// The transfer set.
        transfer_set: ObjectName,
    },
    /// Stop a transfer set: component write of Status, falling back to a whole-structure write →
    /// [`Outcome::Unit`].
    StopTransferSet {
        /// The transfer set.
        transfer_set: ObjectName,
    },
    /// Write `IM_Transfer_Set` (association-specific) to receive information messages or stop
    /// them → [`Outcome::Unit`].
    InfoMessages {
        /// True to receive.
        enable: bool,
    },
    /// What a device is: kind, SBO or direct, tagged (three GetVariableAccessAttributes) →
    /// [`Outcome::Device`].
    DeviceInfo {
        /// The `<Device>` object.
        device: ObjectName,
    },
    /// Select (Read of `<Device>_SBO`) → [`Outcome::CheckBackId`].
    Select {
        /// The device.
        device: ObjectName,
    },
    /// Operate (Write of `<Device>`) → [`Outcome::Unit`].
    Operate {
        /// The device.
        device: ObjectName,
        /// The command or setpoint.
        value: ControlValue,
    },
    /// Select then operate → [`Outcome::CheckBackId`] of the select.
    SelectOperate {
        /// The device.
        device: ObjectName,
        /// The command or setpoint.
        value: ControlValue,
    },
    /// Read `<Device>_TAG` → [`Outcome::Tag`].
    Tag {
        /// The device.
        device: ObjectName,
    },
    /// Write `<Device>_TAG` with a reason (printable ASCII, cut at 255) → [`Outcome::Unit`].
    SetTag {
        /// The device.
        device: ObjectName,
        /// The tag.
        value: TagValue,
        /// Why.
        reason: String,
    },
}

/// What a finished operation produced (the variant its [`Command`] names).
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Done, nothing to return.
    Unit,
    /// The server's edition.
    Version(Edition),
    /// `TASE2_Version` as (major, minor).
    VersionNumbers(i64, i64),
    /// `Supported_Features`.
    Features(Features),
    /// `Bilateral_Table_ID`.
    TableId(String),
    /// Names (domains, data sets, variables).
    Names(Vec<String>),
    /// Variables with their types.
    Variables(Vec<VariableInfo>),
    /// Everything discovery found.
    Discovery(Box<Discovery>),
    /// Point types, one per name asked (`None`: not a point, or the server would not say).
    PointTypes(Vec<Option<PointType>>),
    /// Point values, one result per name asked.
    Points(Vec<Result<PointValue, Error>>),
    /// A data set's members.
    Members(Vec<ObjectName>),
    /// Whether the server deleted the data set.
    Deleted(bool),
    /// A transfer set's name.
    TransferSet(ObjectName),
    /// A transfer set's configuration.
    TransferSetValue(DsTransferSetValue),
    /// What a device is.
    Device(DeviceInfo),
    /// The CheckBackID a select answered.
    CheckBackId(i16),
    /// A device's tag.
    Tag(Tag),
    /// The answer to a raw request ([`Session::request`]).
    Response(ConfirmedResponse),
}

/// A variable as discovery found it.
#[derive(Clone, Debug, PartialEq)]
pub struct VariableInfo {
    /// Its name.
    pub name: ObjectName,
    /// Its MMS type (`None` when GetVariableAccessAttributes failed).
    pub type_description: Option<TypeDescription>,
    /// Its point type, when the MMS type is one (liberally: see [`DeviationKind`]).
    pub point_type: Option<PointType>,
}

impl VariableInfo {
    /// The TASE.2 type name: a point type (`Data_RealQTimeTag`), or the standard object's type
    /// (`DSTransferSet`, `ObjectName`, `TASE2_Version`...) when its MMS type is the standard's;
    /// `None` otherwise (show the MMS type).
    pub fn tase2_type_name(&self) -> Option<&'static str> {
        let td = self.type_description.as_ref()?;
        if let Some(p) = self.point_type {
            return Some(p.name());
        }
        standard_type_name(self.name.item(), td)
    }

    /// The other point types with the same MMS type as [`Self::point_type`], which the client
    /// cannot tell from it (e.g. `Data_State`, `Data_StateQ` and `Data_StateSupplemental` are all
    /// a BIT STRING(8)); empty when the type is unambiguous.
    pub fn alternative_point_types(&self) -> Vec<PointType> {
        let Some(found) = self.point_type else {
            return Vec::new();
        };
        let mut v = Vec::new();
        // By name (one per type), not PointType's derived PartialEq, linked for this alone.
        let is_found = |t: PointType| t.name() == found.name();
        for p in PointType::all() {
            if !is_found(p)
                && PointType::from_type_description(&p.type_description()).is_some_and(is_found)
            {
                v.push(p);
            }
        }
        v
    }
}

/// One ICC domain as discovery found it.
#[derive(Clone, Debug, PartialEq)]
pub struct DomainInfo {
    /// The domain's name.
    pub name: String,
    /// Its `Bilateral_Table_ID` (`None` if absent or unreadable).
    pub table_id: Option<String>,
    /// Its variables.
    pub variables: Vec<VariableInfo>,
    /// Its data sets (named variable lists); empty if the server does not list them.
    pub data_sets: Vec<String>,
}

/// What [`Command::Discover`] found. Objects a server lacks or refuses are `None` or empty, so
/// discovery also works on a plain MMS server.
#[derive(Clone, Debug, PartialEq)]
pub struct Discovery {
    /// `TASE2_Version` as (major, minor).
    pub version: Option<(i64, i64)>,
    /// The edition `version` names.
    pub edition: Option<Edition>,
    /// `Supported_Features`.
    pub features: Option<Features>,
    /// VCC-scope variables, or why the server did not list them.
    pub vcc: Result<Vec<VariableInfo>, Error>,
    /// The domains this client can see (normally its one ICC domain).
    pub domains: Vec<DomainInfo>,
}

/// A device as GetVariableAccessAttributes shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceInfo {
    /// Its kind from its MMS type: INT16 is reported as [`DeviceKind::Command`] (a command and a
    /// discrete setpoint share the type), FLOAT32 as [`DeviceKind::RealSetpoint`].
    pub kind: DeviceKind,
    /// [`ControlMode::Sbo`] when `<Device>_SBO` exists.
    pub mode: ControlMode,
    /// Whether `<Device>_TAG` exists.
    pub tagged: bool,
}

/// A reported value.
#[derive(Clone, Debug, PartialEq)]
pub enum Reported {
    /// A point whose type the client knows, decoded.
    Point(PointType, PointValue),
    /// Any other value (unknown type, or a value that does not fit it).
    Other(Data),
}

/// A DS transfer set report with typed values.
#[derive(Clone, Debug, PartialEq)]
pub struct TypedReport {
    /// `Transfer_Set_Name`, when the report carries it.
    pub transfer_set: Option<ObjectName>,
    /// `Transfer_Set_Time_Stamp` (seconds since 1970 UTC).
    pub timestamp: Option<i32>,
    /// `DSConditions_Detected`.
    pub conditions: Option<DsConditions>,
    /// `Event_Code_Detected`.
    pub event_code: Option<i16>,
    /// The data set of a full report; `None` for a report by list of variables (RBE).
    pub data_set: Option<ObjectName>,
    /// Member values in report order (special variables and failed members left out).
    pub values: Vec<(ObjectName, Reported)>,
    /// Whether this session already acknowledged it (a critical report with auto-ACK on).
    pub acknowledged: bool,
}

impl TypedReport {
    /// The typed point values, in report order.
    pub fn points(&self) -> impl Iterator<Item = (&ObjectName, &PointValue)> + '_ {
        self.values.iter().filter_map(|(n, v)| match v {
            Reported::Point(_, p) => Some((n, p)),
            Reported::Other(_) => None,
        })
    }

    /// The last value reported for point `name`.
    pub fn point(&self, name: &ObjectName) -> Option<&PointValue> {
        self.points()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| v)
            .last()
    }
}

/// An InformationReport that is neither a decodable transfer set report nor an information
/// message (e.g. a full report of a data set whose members could not be learnt, or a report of a
/// plain MMS server). Delivered as it came: nothing is dropped.
#[derive(Clone, Debug, PartialEq)]
pub struct UndecodedReport {
    /// The report as received.
    pub report: InformationReport,
    /// Why it was not decoded.
    pub error: ReportError,
}

/// What a [`Session`] tells its owner. Drain with [`Session::poll_event`] after every input.
#[derive(Clone, Debug, PartialEq)]
pub enum SessionEvent {
    /// The association is up; commands issued before it now go out.
    Established(Negotiated),
    /// An operation finished.
    Done {
        /// Its handle.
        op: OpId,
        /// Its outcome, or why it failed.
        result: Result<Outcome, Error>,
    },
    /// A DS transfer set report, typed.
    Report(TypedReport),
    /// An information message (block 4).
    InfoMessage(InfoMessage),
    /// An InformationReport that could not be decoded as either.
    Undecoded(UndecodedReport),
    /// The server deviated from the standard in a way this session accepted (raised once per
    /// kind and object).
    Deviation(Deviation),
    /// The server made a protocol mistake that was answered (MMS Reject) without closing.
    PeerError(PeerError),
    /// The server rejected one of our PDUs.
    Rejected(RejectPdu),
    /// The association ended: `None` for an orderly release, the sticky cause otherwise.
    /// Reported once, last; every later command finishes with [`Error::Closed`] and this cause.
    Closed(Option<AssocError>),
}

struct Batch {
    op: Option<OpId>,
    answers: Vec<Option<ops::Answer>>,
    missing: usize,
    cont: Cont,
}

/// The TASE.2 client (conformance blocks 1, 2, 4 and 5, both editions) as a sans-IO state
/// machine over a [`Client`] association.
///
/// # Method families
///
/// - input: [`Self::handle_input`], [`Self::handle_timeout`], [`Self::handle_transport_closed`];
/// - output, drained until empty after every input and command: [`Self::poll_transmit`],
///   [`Self::poll_event`], [`Self::poll_timeout`];
/// - commands: [`Self::command`] (any [`Command`]), [`Self::request`] (any MMS request),
///   [`Self::ack`], [`Self::nack`], [`Self::conclude`], [`Self::abort`]. Each command returns an
///   [`OpId`] at once; its result arrives as one [`SessionEvent::Done`];
/// - getters: [`Self::edition`], [`Self::point_type`], [`Self::data_set`],
///   [`Self::running_transfer_sets`], [`Self::negotiated`], [`Self::error`].
///
/// A command issued before the association is up waits for it. Requests go out pipelined, at most
/// as many outstanding as Initiate negotiated; the rest wait their turn in order.
///
/// Unsolicited InformationReports come out typed: [`SessionEvent::Report`] (a full report of a
/// data set this session does not know triggers one GetNamedVariableListAttributes, once per data
/// set, with later reports held behind it so they keep their order), [`SessionEvent::InfoMessage`],
/// or [`SessionEvent::Undecoded`]. Critical reports of transfer sets this session started are
/// acknowledged inside the session when [`SessionConfig::auto_ack`] is on.
///
/// **`now` must never go backwards.**
pub struct Session {
    client: Client,
    known: Known,
    batches: VecMap<u64, Batch>,
    next_batch: u64,
    next_op: u64,
    invokes: VecMap<u32, (u64, usize)>,
    waiting: VecDeque<(u64, usize, ConfirmedRequest)>,
    held: VecDeque<InformationReport>,
    events: VecDeque<SessionEvent>,
    /// `Some` once the association ended (the inner `None`: released).
    closed: Option<Option<AssocError>>,
    /// What `new` was given, for a recording's header.
    setup: Option<Box<record::SessionSetup>>,
    /// When it was built.
    start: Instant,
    /// No input taken, no output given yet: recording may start.
    fresh: bool,
    journal: Option<Box<record::Journal>>,
}

impl core::fmt::Debug for Session {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Session")
            .field("client", &self.client)
            .field("operations", &self.batches.len())
            .field("waiting", &self.waiting.len())
            .field("held_reports", &self.held.len())
            .field("closed", &self.closed)
            .finish()
    }
}

impl Session {
    /// Start connecting: the first bytes are ready in [`Self::poll_transmit`] at once.
    pub fn new(association: AssociationConfig, config: SessionConfig, now: Instant) -> Session {
        let setup = record::SessionSetup {
            association: association.clone(),
            config: config.clone(),
        };
        let mut s = Session::with_client(Client::new(association, now), config);
        s.setup = Some(Box::new(setup));
        s.start = now;
        s
    }

    /// A session over a client association already started.
    pub fn with_client(client: Client, config: SessionConfig) -> Session {
        Session {
            client,
            known: Known::new(config),
            batches: VecMap::new(),
            next_batch: 0,
            next_op: 0,
            invokes: VecMap::new(),
            waiting: VecDeque::new(),
            held: VecDeque::new(),
            events: VecDeque::new(),
            closed: None,
            setup: None,
            start: Instant::ZERO,
            fresh: true,
            journal: None,
        }
    }

    // --- recording ---

    /// Record this session into `sink` (see [`crate::record`]): call it right after
    /// [`Self::new`], before any input, command or output. The log's header holds the
    /// association and session configuration (including any password, which the AARQ carries
    /// anyway: keep recordings as private as captures).
    pub fn record(
        &mut self,
        sink: Box<dyn record::RecordSink>,
        producer: &str,
    ) -> Result<(), record::RecordStartError> {
        if self.journal.is_some() {
            return Err(record::RecordStartError::AlreadyRecording);
        }
        let Some(setup) = self.setup.as_deref().filter(|_| self.fresh) else {
            return Err(record::RecordStartError::NotFresh);
        };
        let header = record::Header {
            version: record::FORMAT_VERSION,
            role: record::Role::Client,
            setup_kind: String::from(record::format::SESSION_SETUP),
            // `to_extend`, not `to_allocvec`: the same octets through the journal's serializer.
            setup: postcard::to_extend(setup, Vec::new()).unwrap_or_default(),
            fingerprint: self.fingerprint(),
            producer: String::from(producer),
            start: self.start,
        };
        self.journal = Some(Box::new(record::Journal::new(&header, sink)));
        Ok(())
    }

    /// The recording so far, if it goes to an in-memory sink (`Vec<u8>`).
    pub fn recording(&self) -> Option<&[u8]> {
        self.journal.as_ref()?.contents()
    }

    /// Write out what the recording sink buffers.
    pub fn flush_recording(&mut self) {
        if let Some(j) = &mut self.journal {
            j.flush();
        }
    }

    /// A digest of what the session was built with (a recording's fingerprint): of its setup
    /// in the recorded (postcard) form.
    pub fn fingerprint(&self) -> u64 {
        // Not of the `Debug` text as before: formatting the configuration cost the browser
        // package 8 KB. Older recordings still replay (`legacy_fingerprint`).
        let mut fp = record::format::Fingerprint::new();
        // As the header's setup is written (`to_extend`, the journal's serializer).
        fp.octets(&postcard::to_extend(&self.setup, Vec::new()).unwrap_or_default());
        fp.0
    }

    /// The fingerprint of recordings made before 2026-12: a digest of the setup's `Debug` text.
    /// Only replay asks for it, so a build that never replays (the browser's) leaves it out.
    pub(crate) fn legacy_fingerprint(&self) -> u64 {
        let mut fp = record::format::Fingerprint::new();
        let _ = core::fmt::write(&mut fp, format_args!("{:?}", self.setup));
        fp.0
    }

    fn log(&mut self, now: Instant, event: impl FnOnce() -> record::Event) {
        self.fresh = false;
        if let Some(j) = &mut self.journal {
            j.log(now, event());
        }
    }

    fn log_last(&mut self, event: impl FnOnce() -> record::Event) {
        self.fresh = false;
        if let Some(j) = &mut self.journal {
            j.log_last(event());
        }
    }

    // --- getters ---

    /// The MMS client underneath.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// What Initiate negotiated.
    pub fn negotiated(&self) -> &Negotiated {
        self.client.negotiated()
    }

    /// Whether the association is up.
    pub fn is_established(&self) -> bool {
        self.client.is_established()
    }

    /// Whether the association has ended.
    pub fn is_closed(&self) -> bool {
        self.closed.is_some()
    }

    /// The sticky cause of a failed association.
    pub fn error(&self) -> Option<&AssocError> {
        self.closed.as_ref().and_then(Option::as_ref)
    }

    /// The server's edition (as last read; 2000.08 before).
    pub fn edition(&self) -> Edition {
        self.known.edition
    }

    /// The point type learnt for `name`.
    pub fn point_type(&self, name: &ObjectName) -> Option<PointType> {
        self.known.typed(name).and_then(|t| t.point)
    }

    /// The members of a data set, as learnt.
    pub fn data_set(&self, name: &ObjectName) -> Option<&[ObjectName]> {
        self.known.lists.get(name).map(Vec::as_slice)
    }

    /// The transfer sets this session started, as configured.
    pub fn running_transfer_sets(
        &self,
    ) -> impl Iterator<Item = (&ObjectName, &DsTransferSetValue)> {
        self.known.running.iter()
    }

    /// Acknowledge critical reports automatically (see [`SessionConfig::auto_ack`]).
    pub fn set_auto_ack(&mut self, on: bool) {
        self.log_last(|| record::Event::Session(record::SessionInput::AutoAck(on)));
        self.known.config.auto_ack = on;
    }

    // --- input ---

    /// Bytes from the server, as they came (any split).
    pub fn handle_input(&mut self, now: Instant, data: &[u8]) {
        self.log(now, || record::Event::Input {
            conn: 0,
            bytes: data.to_vec(),
        });
        self.client.handle_input(now, data);
        self.drain(now);
    }

    /// The deadline from [`Self::poll_timeout`] passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.log(now, || record::Event::Timeout);
        self.client.handle_timeout(now);
        self.drain(now);
    }

    /// The transport closed.
    pub fn handle_transport_closed(&mut self, now: Instant) {
        self.log(now, || record::Event::TransportClosed { conn: 0 });
        self.client.handle_transport_closed();
        self.drain(now);
    }

    // --- output ---

    /// Bytes for the server, appended to `buf`; returns how many.
    pub fn poll_transmit(&mut self, buf: &mut Vec<u8>) -> usize {
        let n = self.client.poll_transmit(buf);
        if n > 0 {
            let bytes = &buf[buf.len() - n..];
            self.fresh = false;
            if let Some(j) = &mut self.journal {
                j.log_last(record::Event::Output {
                    conn: 0,
                    bytes: bytes.to_vec(),
                });
            }
        }
        n
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<SessionEvent> {
        self.events.pop_front()
    }

    /// The next deadline (request, connect or release timeout).
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.client.poll_timeout()
    }

    // --- commands ---

    /// Start `command`; its result arrives as [`SessionEvent::Done`] with the returned id.
    pub fn command(&mut self, now: Instant, command: Command) -> OpId {
        let logged = self.journal.is_some().then(|| command.clone());
        let op = self.command_step(now, command);
        self.log(now, || {
            record::Event::Session(record::SessionInput::Command {
                // `logged` is Some whenever the closure runs (a journal exists).
                command: logged.unwrap_or(Command::Version),
                op: op.0,
            })
        });
        op
    }

    fn command_step(&mut self, now: Instant, command: Command) -> OpId {
        let step = match command {
            Command::Version => ops::version(ops::finish(Outcome::Version)),
            Command::VersionNumbers => {
                ops::version_numbers(ops::finish(|(a, b)| Outcome::VersionNumbers(a, b)))
            }
            Command::Features => ops::features(ops::finish(Outcome::Features)),
            Command::BilateralTableId { domain } => {
                ops::table_id(domain, ops::finish(Outcome::TableId))
            }
            Command::Domains => ops::name_list(
                ObjectClass::Domain,
                ObjectScope::Vmd,
                ops::finish(Outcome::Names),
            ),
            Command::DataSets { domain } => ops::name_list(
                ObjectClass::NamedVariableList,
                scope(domain),
                ops::finish(Outcome::Names),
            ),
            Command::VariableNames { domain } => ops::name_list(
                ObjectClass::NamedVariable,
                scope(domain),
                ops::finish(Outcome::Names),
            ),
            Command::Variables { domain } => {
                ops::variables(domain, ops::finish(Outcome::Variables))
            }
            Command::Discover => ops::discover(ops::finish(|d| Outcome::Discovery(Box::new(d)))),
            Command::LearnTypes { names } => {
                let n2 = names.clone();
                ops::learn_types(
                    names,
                    Box::new(move |kn: &mut Known, r: Result<(), Error>| {
                        Step::Done(r.map(|()| {
                            let mut types = Vec::with_capacity(n2.len());
                            for n in &n2 {
                                types.push(kn.typed(n).and_then(|t| t.point));
                            }
                            Outcome::PointTypes(types)
                        }))
                    }),
                )
            }
            Command::ReadPoints { names } => ops::read_points(names, ops::finish(Outcome::Points)),
            Command::WritePoint { name, value } => {
                ops::write_point(name, value, ops::finish(|()| Outcome::Unit))
            }
            Command::DefineDataSet { name, members } => {
                ops::define_data_set(name, members, ops::finish(|()| Outcome::Unit))
            }
            Command::DataSetMembers { name } => {
                ops::data_set_members(name, ops::finish(Outcome::Members))
            }
            Command::DeleteDataSet { name } => {
                ops::delete_data_set(name, ops::finish(Outcome::Deleted))
            }
            Command::ReserveTransferSet { domain } => {
                ops::reserve(domain, ops::finish(Outcome::TransferSet))
            }
            Command::StartTransferSet {
                transfer_set,
                value,
            } => ops::start_transfer_set(transfer_set, value, ops::finish(|()| Outcome::Unit)),
            Command::ReserveAndStart { domain, value } => {
                ops::reserve_and_start(domain, value, ops::finish(Outcome::TransferSet))
            }
            Command::ReadTransferSet { transfer_set } => {
                ops::read_transfer_set(transfer_set, ops::finish(Outcome::TransferSetValue))
            }
            Command::StopTransferSet { transfer_set } => {
                ops::stop(transfer_set, ops::finish(|()| Outcome::Unit))
            }
            Command::InfoMessages { enable } => {
                ops::info_messages(enable, ops::finish(|()| Outcome::Unit))
            }
            Command::DeviceInfo { device } => {
                ops::device_info(device, ops::finish(Outcome::Device))
            }
            Command::Select { device } => ops::select(device, ops::finish(Outcome::CheckBackId)),
            Command::Operate { device, value } => {
                ops::operate(device, value, ops::finish(|()| Outcome::Unit))
            }
            Command::SelectOperate { device, value } => {
                ops::select_operate(device, value, ops::finish(Outcome::CheckBackId))
            }
            Command::Tag { device } => ops::tag(device, ops::finish(Outcome::Tag)),
            Command::SetTag {
                device,
                value,
                reason,
            } => ops::set_tag(device, value, &reason, ops::finish(|()| Outcome::Unit)),
        };
        self.start(now, step)
    }

    /// Send any confirmed MMS request; [`Outcome::Response`] carries the answer.
    pub fn request(&mut self, now: Instant, request: ConfirmedRequest) -> OpId {
        let pdu = self.journal.is_some().then(|| {
            crate::mms::MmsPdu::ConfirmedRequest {
                invoke_id: 0,
                request: request.clone(),
            }
            .to_vec()
        });
        let op = self.start(now, ops::raw(request));
        self.log(now, || {
            record::Event::Session(record::SessionInput::Request {
                pdu: pdu.unwrap_or_default(),
                op: op.0,
            })
        });
        op
    }

    /// Acknowledge the critical report of `transfer_set` stamped `timestamp`
    /// (`Transfer_Report_ACK`, an unconfirmed InformationReport).
    pub fn ack(&mut self, transfer_set: &ObjectName, timestamp: i32) -> Result<(), Error> {
        self.log_last(|| {
            record::Event::Session(record::SessionInput::Ack {
                transfer_set: transfer_set.clone(),
                timestamp,
            })
        });
        self.unconfirmed(ack(transfer_set, timestamp))
    }

    /// Refuse the critical report of `transfer_set` (`Transfer_Report_NACK`).
    pub fn nack(&mut self, transfer_set: &ObjectName) -> Result<(), Error> {
        self.log_last(|| {
            record::Event::Session(record::SessionInput::Nack {
                transfer_set: transfer_set.clone(),
            })
        });
        self.unconfirmed(nack(transfer_set))
    }

    fn unconfirmed(&mut self, r: InformationReport) -> Result<(), Error> {
        if let Some(c) = &self.closed {
            return Err(Error::Closed(c.clone()));
        }
        self.client
            .send_unconfirmed(UnconfirmedService::InformationReport(r))
            .map_err(Error::from)
    }

    /// Orderly release: Conclude, then ACSE release; [`SessionEvent::Closed`] with `None`
    /// confirms it.
    pub fn conclude(&mut self, now: Instant) -> Result<(), Error> {
        self.log(now, || {
            record::Event::Session(record::SessionInput::Conclude)
        });
        if let Some(c) = &self.closed {
            return Err(Error::Closed(c.clone()));
        }
        self.client.conclude(now).map_err(Error::from)
    }

    /// Abort at once.
    pub fn abort(&mut self, now: Instant) {
        self.log(now, || record::Event::Session(record::SessionInput::Abort));
        self.client.abort();
        self.drain(now);
    }

    // --- the engine ---

    fn start(&mut self, now: Instant, step: Step) -> OpId {
        let op = OpId(self.next_op);
        self.next_op += 1;
        if let Some(c) = &self.closed {
            let e = Error::Closed(c.clone());
            self.events
                .push_back(SessionEvent::Done { op, result: Err(e) });
            return op;
        }
        self.run(Some(op), step);
        self.send_waiting(now);
        op
    }

    /// Advance an operation until it waits for answers or is done.
    fn run(&mut self, op: Option<OpId>, mut step: Step) {
        loop {
            match step {
                Step::Done(result) => {
                    self.flush_deviations();
                    if let Some(op) = op {
                        self.events.push_back(SessionEvent::Done { op, result });
                    }
                    return;
                }
                Step::Send(requests, cont) if requests.is_empty() => {
                    step = cont(&mut self.known, Vec::new());
                }
                Step::Send(requests, cont) => {
                    let id = self.next_batch;
                    self.next_batch += 1;
                    let n = requests.len();
                    let mut answers = Vec::with_capacity(n);
                    for (i, r) in requests.into_iter().enumerate() {
                        self.waiting.push_back((id, i, r));
                        answers.push(None);
                    }
                    self.batches.insert(
                        id,
                        Batch {
                            op,
                            answers,
                            missing: n,
                            cont,
                        },
                    );
                    self.flush_deviations();
                    return;
                }
            }
        }
    }

    fn flush_deviations(&mut self) {
        while let Some(d) = self.known.deviations.pop_front() {
            self.events.push_back(SessionEvent::Deviation(d));
        }
    }

    fn answer(&mut self, batch: u64, index: usize, answer: ops::Answer) {
        let Some(b) = self.batches.get_mut(&batch) else {
            return;
        };
        if let Some(slot) = b.answers.get_mut(index) {
            if slot.is_none() {
                b.missing -= 1;
            }
            *slot = Some(answer);
        }
        if b.missing > 0 {
            return;
        }
        let Some(b) = self.batches.remove(&batch) else {
            return;
        };
        let mut answers = Vec::with_capacity(b.answers.len());
        for a in b.answers {
            answers.push(a.unwrap_or(Err(Error::UnexpectedResponse)));
        }
        let step = (b.cont)(&mut self.known, answers);
        self.run(b.op, step);
    }

    /// Send waiting requests while the negotiated window has room.
    fn send_waiting(&mut self, now: Instant) {
        if !self.client.is_established() || self.closed.is_some() {
            return;
        }
        let window = usize::from(self.client.negotiated().max_serv_outstanding_calling.max(1));
        while self.client.association().outstanding_requests() < window {
            let Some((batch, index, request)) = self.waiting.pop_front() else {
                break;
            };
            match self.client.request_ref(now, &request) {
                Ok(invoke_id) => {
                    self.invokes.insert(invoke_id, (batch, index));
                }
                Err(ApiError::TooManyOutstanding) => {
                    self.waiting.push_front((batch, index, request));
                    break;
                }
                Err(e) => self.answer(batch, index, Err(Error::from(e))),
            }
        }
    }

    fn drain(&mut self, now: Instant) {
        while let Some(ev) = self.client.poll_event() {
            match ev {
                Event::Established(n) => {
                    self.events.push_back(SessionEvent::Established(n));
                    self.send_waiting(now);
                }
                Event::Response { invoke_id, result } => {
                    if let Some((batch, index)) = self.invokes.remove(&invoke_id) {
                        self.answer(batch, index, result.map_err(Error::Request));
                    }
                    self.send_waiting(now);
                }
                Event::Unconfirmed(UnconfirmedService::InformationReport(r)) => {
                    self.held.push_back(r);
                }
                Event::PeerError(e) => self.events.push_back(SessionEvent::PeerError(e)),
                Event::Rejected(r) => self.events.push_back(SessionEvent::Rejected(r)),
                Event::Closed(cause) => self.close(cause),
                _ => {}
            }
        }
        self.process_reports();
        self.send_waiting(now);
    }

    fn close(&mut self, cause: Option<AssocError>) {
        if self.closed.is_some() {
            return;
        }
        self.closed = Some(cause.clone());
        self.waiting.clear();
        self.invokes.clear();
        let err = match &cause {
            // Requests still open at an orderly release got no answer.
            None => Error::Request(RequestError::AssociationClosed),
            Some(_) => Error::Closed(cause.clone()),
        };
        for (_, b) in core::mem::take(&mut self.batches) {
            if let Some(op) = b.op {
                self.events.push_back(SessionEvent::Done {
                    op,
                    result: Err(err.clone()),
                });
            }
        }
        // Reports held for a look-up that can no longer happen go out as they are.
        self.known.lookups.clear();
        while let Some(r) = self.held.pop_front() {
            self.deliver(r);
        }
        self.events.push_back(SessionEvent::Closed(cause));
    }

    // --- reports ---

    fn process_reports(&mut self) {
        while let Some(front) = self.held.front() {
            let wait_for = match &front.variables {
                // A look-up under way is waited for to its end: the members are known as soon
                // as GetNamedVariableListAttributes answers, their types only after it.
                // (Information messages come as a list of variables, never by list name.)
                VariableAccessSpecification::VariableListName(n)
                    if self.known.lookups.contains(n)
                        || (!self.known.lists.contains_key(n)
                            && !self.known.failed_lists.contains(n)
                            && self.named_after_transfer_set(n).is_none()) =>
                {
                    Some(n.clone())
                }
                _ => None,
            };
            let Some(list) = wait_for else {
                if let Some(r) = self.held.pop_front() {
                    self.deliver(r);
                }
                continue;
            };
            if self.known.lookups.insert(list.clone()) {
                let l2 = list.clone();
                let step = ops::data_set_members(
                    list,
                    Box::new(move |kn: &mut Known, r: Result<Vec<ObjectName>, Error>| {
                        kn.lookups.remove(&l2);
                        if r.is_err() {
                            kn.failed_lists.insert(l2);
                        }
                        Step::Done(Ok(Outcome::Unit))
                    }) as K<Vec<ObjectName>>,
                );
                self.run(None, step);
            }
            if self.held.len() > self.known.config.max_held_reports {
                if let Some(r) = self.held.pop_front() {
                    self.deliver(r);
                }
                continue;
            }
            break;
        }
    }

    /// The transfer set a report's list name stands for, when a deviating server names reports
    /// after the transfer set (often in VMD scope) instead of its data set.
    fn named_after_transfer_set(&self, list: &ObjectName) -> Option<ObjectName> {
        self.known
            .running
            .keys()
            .find(|ts| *ts == list || ts.item() == list.item())
            .cloned()
    }

    /// Decode and type one InformationReport and raise its event (undecoded if its data set is
    /// still unknown: no look-up is made from here).
    fn deliver(&mut self, raw: InformationReport) {
        if let Some(m) = InfoMessage::decode(&raw) {
            self.events.push_back(SessionEvent::InfoMessage(m));
            return;
        }
        let decoded = match &raw.variables {
            VariableAccessSpecification::VariableListName(n)
                if !self.known.lists.contains_key(n) =>
            {
                match self.named_after_transfer_set(n) {
                    Some(ts) => self.decode_named_after_transfer_set(&raw, ts),
                    None => Err(ReportError::UnknownDataSet(n.clone())),
                }
            }
            _ => Report::decode(&raw, |n| self.known.lists.get(n).map(Vec::as_slice)),
        };
        let r = match decoded {
            Ok(r) => r,
            Err(error) => {
                self.events
                    .push_back(SessionEvent::Undecoded(UndecodedReport {
                        report: raw,
                        error,
                    }));
                return;
            }
        };
        for k in &r.deviations {
            let object = r.transfer_set.clone().or_else(|| r.data_set.clone());
            self.known.deviate(*k, object);
        }
        let mut values = Vec::with_capacity(r.values.len());
        for (name, d) in r.values {
            let v = match self.known.typed(&name) {
                Some(t) => match (t.point, t.decode(&d)) {
                    (Some(p), Some(v)) => Reported::Point(p, v),
                    _ => Reported::Other(d),
                },
                None => Reported::Other(d),
            };
            values.push((name, v));
        }
        let mut report = TypedReport {
            transfer_set: r.transfer_set,
            timestamp: r.timestamp,
            conditions: r.conditions,
            event_code: r.event_code,
            data_set: r.data_set,
            values,
            acknowledged: false,
        };
        if self.known.config.auto_ack && self.closed.is_none() {
            if let Some(ts) = self.critical_source(&report) {
                report.acknowledged = self.ack(&ts, report.timestamp.unwrap_or(0)).is_ok();
            }
        }
        self.flush_deviations();
        self.events.push_back(SessionEvent::Report(report));
    }

    /// A report named after transfer set `ts`: the transfer set name, its time stamp and the
    /// conditions lead, then the values of the transfer set's data set.
    fn decode_named_after_transfer_set(
        &mut self,
        raw: &InformationReport,
        ts: ObjectName,
    ) -> Result<Report, ReportError> {
        let list = match &raw.variables {
            VariableAccessSpecification::VariableListName(n) => n.clone(),
            VariableAccessSpecification::ListOfVariable(_) => {
                return Err(ReportError::CountMismatch)
            }
        };
        let ds = self
            .known
            .running
            .get(&ts)
            .map(|v| v.data_set.clone())
            .ok_or_else(|| ReportError::UnknownDataSet(list.clone()))?;
        let members = self
            .known
            .lists
            .get(&ds)
            .cloned()
            .ok_or_else(|| ReportError::UnknownDataSet(ds.clone()))?;
        let domain = match &ts {
            ObjectName::DomainSpecific { domain, .. } => domain.clone(),
            _ => String::new(),
        };
        let mut names: Vec<ObjectName> = Vec::with_capacity(members.len() + 3);
        if raw.results.len() == members.len() + 3 {
            for &item in &[
                names::TRANSFER_SET_NAME,
                names::TRANSFER_SET_TIME_STAMP,
                names::DS_CONDITIONS_DETECTED,
            ] {
                names.push(ObjectName::domain(domain.as_str(), item));
            }
        } else if raw.results.len() != members.len() {
            return Err(ReportError::CountMismatch);
        }
        names.extend(members);
        // Decoded as if the report had listed these names, without building that report.
        let mut r = Report::decode_named(names, None, &raw.results)?;
        // The first component may carry the transfer set's name as a string.
        if r.transfer_set.is_none() {
            if let Some(AccessResult::Success(Data::VisibleString(_))) = raw.results.first() {
                r.transfer_set = Some(ts.clone());
            }
        }
        if r.transfer_set.is_none() {
            r.transfer_set = Some(ts.clone());
        }
        r.data_set = Some(ds);
        self.known
            .deviate(DeviationKind::ReportNamedAfterTransferSet, Some(list));
        Ok(r)
    }

    /// The critical transfer set of ours that sent `report`: the one it names, or, for a report
    /// that names none, the only critical transfer set running (for that data set).
    fn critical_source(&self, report: &TypedReport) -> Option<ObjectName> {
        match &report.transfer_set {
            Some(ts) => self
                .known
                .running
                .get(ts)
                .is_some_and(|v| v.critical)
                .then(|| ts.clone()),
            None => {
                // The only match, by a plain loop rather than a filter adapter.
                let mut only = None;
                for (ts, v) in self.known.running.iter() {
                    if v.critical && report.data_set.as_ref().is_none_or(|ds| *ds == v.data_set) {
                        if only.is_some() {
                            return None;
                        }
                        only = Some(ts);
                    }
                }
                only.cloned()
            }
        }
    }
}

fn scope(domain: Option<String>) -> ObjectScope {
    domain.map_or(ObjectScope::Vmd, ObjectScope::Domain)
}
