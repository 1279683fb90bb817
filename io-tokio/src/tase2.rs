//! A typed TASE.2 client (IEC 60870-6-503 conformance blocks 1, 2, 4 and 5) over tokio: a thin
//! async wrapper over the core's sans-IO [`Session`].
//!
//! [`Tase2Client`] speaks in TASE.2 terms: the server's edition and features, its ICC domain and
//! bilateral table, points with their [`PointType`] and typed [`PointValue`]s, data sets, DS
//! transfer sets and the reports they send, information messages and device control. All of it
//! is the session's work; this module only carries commands to it and answers back.
//!
//! # How it runs
//!
//! [`Tase2Client::connect`] spawns one driver task that owns the socket and the session. Each
//! method sends a [`Command`] over a bounded channel (it waits when the channel is full) and
//! awaits the matching [`SessionEvent::Done`](tase2_core::tase2::client::SessionEvent::Done).
//! Methods take `&self`, so several can be awaited at once (e.g. with `tokio::join!`): the session
//! pipelines their requests within the window Initiate negotiated.
//!
//! Unsolicited traffic comes out of two bounded queues:
//!
//! - [`Tase2Client::next_report`]: transfer set reports, information messages and undecodable
//!   reports, in arrival order. **When this queue is full the driver stops reading the socket**
//!   until it drains: nothing is dropped, but the answers to commands wait behind the reports
//!   too (and fail once the request timeout passes). Call `next_report` whenever reports or
//!   information messages are enabled;
//! - [`Tase2Client::next_diagnostic`]: what the server did that the session accepted or
//!   answered without closing ([`Diagnostic`]). Advisory: these never hold up the socket; one
//!   that finds its queue full is logged through `tracing` instead.
//!
//! Method families:
//!
//! - discovery: [`Tase2Client::version`], [`Tase2Client::version_numbers`],
//!   [`Tase2Client::features`], [`Tase2Client::bilateral_table_id`], [`Tase2Client::domains`],
//!   [`Tase2Client::data_sets`], [`Tase2Client::variables`], [`Tase2Client::variable_names`],
//!   [`Tase2Client::discover`] (all of them at once);
//! - points: [`Tase2Client::read_point`], [`Tase2Client::read_points`],
//!   [`Tase2Client::write_point`], [`Tase2Client::learn_types`], [`Tase2Client::point_type`];
//! - data sets: [`Tase2Client::define_data_set`], [`Tase2Client::data_set_members`],
//!   [`Tase2Client::delete_data_set`];
//! - transfer sets: [`Tase2Client::reserve_transfer_set`], [`Tase2Client::start_transfer_set`],
//!   [`Tase2Client::read_transfer_set`], [`Tase2Client::stop_transfer_set`];
//! - reports: [`Tase2Client::next_report`], with critical reports acknowledged by the session as
//!   they arrive ([`Tase2Client::set_auto_ack`]) or by [`Tase2Client::ack`] /
//!   [`Tase2Client::nack`];
//! - information messages (block 4): [`Tase2Client::enable_info_messages`],
//!   [`Tase2Client::disable_info_messages`]; the messages come out of
//!   [`Tase2Client::next_report`] as [`Tase2Report::InfoMessage`];
//! - device control (block 5): [`Tase2Client::device_info`], [`Tase2Client::select`],
//!   [`Tase2Client::operate`], [`Tase2Client::select_operate`], [`Tase2Client::tag`],
//!   [`Tase2Client::set_tag`]; refusals are [`t2::Error::Control`];
//! - plain MMS: [`Tase2Client::request`], [`Tase2Client::read`], [`Tase2Client::read_many`];
//! - getters: [`Tase2Client::edition`], [`Tase2Client::negotiated`],
//!   [`Tase2Client::close_reason`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), tase2_tokio::tase2::Error> {
//! use tase2_core::assoc::AssociationConfig;
//! use tase2_core::mms::ObjectName;
//! use tase2_core::tase2::{Command, ControlValue, DsConditions, DsTransferSetValue};
//! use tase2_tokio::tase2::{report_variables, Tase2Client, Tase2Report};
//!
//! let config = AssociationConfig::with_ap_titles(
//!     ("1.1.1.999".parse().unwrap(), 12),
//!     ("1.1.1.998".parse().unwrap(), 12),
//! );
//! let mut c = Tase2Client::connect("127.0.0.1:102", config).await?;
//! let domain = c.domains().await?.remove(0);
//! let ds = ObjectName::domain(domain.as_str(), "DS_Mine");
//! let mut members = report_variables(&domain).to_vec();
//! members.push(ObjectName::domain(domain.as_str(), "Gen1_MW"));
//! c.define_data_set(&ds, &members).await?;
//! let ts = c.reserve_transfer_set(&domain).await?;
//! c.start_transfer_set(&ts, DsTransferSetValue {
//!     data_set: ds.clone(),
//!     integrity_check: 60,
//!     conditions: DsConditions::INTEGRITY | DsConditions::OBJECT_CHANGE,
//!     rbe: true,
//!     ..Default::default()
//! }).await?;
//! c.enable_info_messages().await?;
//! while let Some(Ok(received)) = c.next_report().await {
//!     match received {
//!         Tase2Report::Transfer(report) => {
//!             for (name, value) in report.points() {
//!                 println!("{name} = {:?} {}", value.value, value.flags);
//!             }
//!         }
//!         Tase2Report::InfoMessage(m) => println!("message {}: {:?}", m.header.message_id, m.text()),
//!     }
//! #   break;
//! }
//! let breaker = ObjectName::domain(domain.as_str(), "Brk1_Cmd");
//! let check_back_id = c.select_operate(&breaker, ControlValue::Command(Command::On)).await?;
//! println!("closed (CheckBackID {check_back_id})");
//! c.stop_transfer_set(&ts).await?;
//! c.delete_data_set(&ds).await?;
//! c.conclude().await
//! # }
//! ```

use std::fmt;
use std::io;

use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, watch};

use tase2_core::assoc::{AssocError, AssociationConfig, Negotiated, PeerError};
use tase2_core::deviation::Deviation;
use tase2_core::mms::{
    AccessResult, ConfirmedRequest, ConfirmedResponse, Data, ObjectName, ReadRequest, RejectPdu,
    VariableAccessSpecification, VariableSpec,
};
use tase2_core::std_clock;
use tase2_core::tase2::client::{self as t2, Command, Outcome, Session, SessionConfig};
use tase2_core::tase2::{
    names, ControlValue, DsTransferSetValue, Edition, Features, InfoMessage, PointType, PointValue,
    Tag, TagValue,
};

pub use tase2_core::tase2::client::{
    DeviceInfo, Discovery, DomainInfo, Reported, TypedReport, UndecodedReport, VariableInfo,
};

mod driver;

use driver::{Msg, Received, State};

/// The four special report variables of `domain` (`Transfer_Set_Name`,
/// `Transfer_Set_Time_Stamp`, `DSConditions_Detected`, `Event_Code_Detected`), to put first in a
/// data set so that its reports say which transfer set sent them, when and why.
pub fn report_variables(domain: &str) -> [ObjectName; 4] {
    [
        names::TRANSFER_SET_NAME,
        names::TRANSFER_SET_TIME_STAMP,
        names::DS_CONDITIONS_DETECTED,
        names::EVENT_CODE_DETECTED,
    ]
    .map(|n| ObjectName::domain(domain, n))
}

/// Whether `name` is one of the special report variables (in any domain).
pub fn is_report_variable(name: &ObjectName) -> bool {
    matches!(
        name.item(),
        names::TRANSFER_SET_NAME
            | names::TRANSFER_SET_TIME_STAMP
            | names::DS_CONDITIONS_DETECTED
            | names::EVENT_CODE_DETECTED
    )
}

/// Why a [`Tase2Client`] call failed: the socket, or the TASE.2 operation (the core's error,
/// which says whose mistake it was).
#[derive(Debug)]
pub enum Error {
    /// The TCP connection could not be made.
    Io(io::Error),
    /// The operation failed: the server's answer, a value without the TASE.2 shape, the
    /// association (e.g. refused or closed) or the call itself.
    Tase2(t2::Error),
}

impl Error {
    /// The TASE.2 operation's error, when it is one.
    pub fn tase2(&self) -> Option<&t2::Error> {
        match self {
            Error::Tase2(e) => Some(e),
            Error::Io(_) => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "connection failed: {e}"),
            Error::Tase2(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            Error::Tase2(e) => Some(e),
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}

impl From<t2::Error> for Error {
    fn from(e: t2::Error) -> Self {
        Error::Tase2(e)
    }
}

/// What [`Tase2Client::next_report`] received: a transfer set report or an information message.
/// Both kinds travel as MMS InformationReports on the one association and come out of the one
/// method in the order they arrived, so a loop over it sees all of them.
#[derive(Clone, Debug, PartialEq)]
pub enum Tase2Report {
    /// A DS transfer set report (blocks 1 and 2), typed.
    Transfer(TypedReport),
    /// An information message (block 4; after [`Tase2Client::enable_info_messages`]).
    InfoMessage(InfoMessage),
}

impl Tase2Report {
    /// The transfer set report, if it is one.
    pub fn transfer(&self) -> Option<&TypedReport> {
        match self {
            Tase2Report::Transfer(r) => Some(r),
            Tase2Report::InfoMessage(_) => None,
        }
    }

    /// The information message, if it is one.
    pub fn info_message(&self) -> Option<&InfoMessage> {
        match self {
            Tase2Report::InfoMessage(m) => Some(m),
            Tase2Report::Transfer(_) => None,
        }
    }
}

/// What the server did that the session accepted or answered without closing
/// ([`Tase2Client::next_diagnostic`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Diagnostic {
    /// A deviation from the standard the session accepted (raised once per kind and object).
    Deviation(Deviation),
    /// A protocol mistake, answered with an MMS Reject.
    PeerError(PeerError),
    /// The server rejected one of our PDUs (the operation it belonged to fails as well).
    Rejected(RejectPdu),
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Diagnostic::Deviation(d) => write!(f, "accepted deviation: {d}"),
            Diagnostic::PeerError(e) => {
                f.write_str("server protocol error, rejected: ")?;
                match e {
                    PeerError::UndecodableMms(e) => write!(f, "an undecodable MMS PDU ({e})"),
                    PeerError::TooManyOutstanding { invoke_id } => write!(
                        f,
                        "request {invoke_id} beyond the negotiated outstanding limit"
                    ),
                    PeerError::DuplicateInvokeId(id) => {
                        write!(f, "a request reusing invoke id {id}")
                    }
                    PeerError::PduTooLarge(n) => {
                        write!(f, "a PDU of {n} octets, beyond the negotiated maximum")
                    }
                    PeerError::UnexpectedInvokeId(id) => {
                        write!(f, "an answer to invoke id {id}, which was not asked")
                    }
                    PeerError::Unexpected(what) => write!(f, "{what}"),
                }
            }
            Diagnostic::Rejected(r) => {
                f.write_str("the server rejected our PDU")?;
                if let Some(id) = r.original_invoke_id {
                    write!(f, " (invoke id {id})")?;
                }
                write!(f, ": {}", r.reason)
            }
        }
    }
}

/// How [`Tase2Client::connect_with`] sets up the client.
#[derive(Clone, Debug)]
pub struct Tase2Options {
    /// The session's limits and defaults (auto-ACK, name and held-report limits).
    pub session: SessionConfig,
    /// Read `TASE2_Version` once associated, failing on a server that is not TASE.2 (and adopting
    /// its edition). On by default; turn it off to talk to a plain MMS server (e.g. to browse it),
    /// the edition then being 2000.08 until [`Tase2Client::version`] or
    /// [`Tase2Client::discover`] reads it.
    pub read_version: bool,
    /// Commands queued for the driver before a method waits for room. Default 64.
    pub command_queue: usize,
    /// Reports and information messages queued for [`Tase2Client::next_report`]; when full, the
    /// socket is not read until it drains. Default 1,024.
    pub report_queue: usize,
    /// Diagnostics queued for [`Tase2Client::next_diagnostic`]; beyond it they are only logged.
    /// Default 256.
    pub diagnostic_queue: usize,
    /// Record the session into a file (see `tase2_core::record`): every input, command and
    /// output from the association's start, replayable with `tase2_core::record::replay_session`.
    /// The file is flushed at most 100 ms after each activity and when the session ends.
    /// Default: not recorded.
    pub record: Option<crate::RecordFile>,
}

impl Default for Tase2Options {
    fn default() -> Self {
        Tase2Options {
            session: SessionConfig::default(),
            read_version: true,
            command_queue: 64,
            report_queue: 1024,
            diagnostic_queue: 256,
            record: None,
        }
    }
}

/// A TASE.2 client association: a handle to the driver task that owns the socket and the core
/// session. Dropping it releases the association (or aborts it if a release cannot start).
pub struct Tase2Client {
    tx: mpsc::Sender<Msg>,
    reports: mpsc::Receiver<Received>,
    diagnostics: mpsc::Receiver<Diagnostic>,
    state: watch::Receiver<State>,
    negotiated: Negotiated,
}

/// The outcome variant a command promises, or [`t2::Error::UnexpectedResponse`].
macro_rules! expect {
    ($outcome:expr, $pat:pat => $v:expr) => {
        match $outcome {
            $pat => Ok($v),
            _ => Err(Error::Tase2(t2::Error::UnexpectedResponse)),
        }
    };
}

impl Tase2Client {
    /// Connect to `addr`, associate and read `TASE2_Version` (which fails on a server that is
    /// not TASE.2).
    pub async fn connect(
        addr: impl tokio::net::ToSocketAddrs,
        config: AssociationConfig,
    ) -> Result<Tase2Client, Error> {
        Tase2Client::connect_with(addr, config, Tase2Options::default()).await
    }

    /// Connect to `addr` and associate with the given options (see
    /// [`Tase2Options::read_version`] for a plain MMS server).
    pub async fn connect_with(
        addr: impl tokio::net::ToSocketAddrs,
        config: AssociationConfig,
        options: Tase2Options,
    ) -> Result<Tase2Client, Error> {
        let stream = TcpStream::connect(addr).await?;
        Tase2Client::connect_stream(stream, config, options).await
    }

    /// Associate over a TCP connection the caller opened, e.g. from a socket bound to a chosen
    /// source address or with its own buffer sizes ([`tokio::net::TcpSocket`]). Nagle is turned
    /// off; otherwise as [`Self::connect_with`].
    pub async fn connect_stream(
        stream: TcpStream,
        config: AssociationConfig,
        options: Tase2Options,
    ) -> Result<Tase2Client, Error> {
        let _ = stream.set_nodelay(true);
        let (rd, wr) = stream.into_split();
        Tase2Client::connect_halves(rd, wr, config, options).await
    }

    /// Connect to `addr` over TLS (secure ICCP, IEC 62351-4; usually port 3782), then associate
    /// as [`Self::connect_with`] does. A refused TLS handshake (the server's certificate from an
    /// unknown CA, expired, revoked, not pinned, or the server refused ours) is an
    /// [`Error::Io`] of kind `PermissionDenied` saying why.
    #[cfg(feature = "tls")]
    pub async fn connect_tls(
        addr: &str,
        tls: &crate::tls::ClientTls,
        config: AssociationConfig,
        options: Tase2Options,
    ) -> Result<Tase2Client, Error> {
        let stream = TcpStream::connect(addr).await?;
        let _ = stream.set_nodelay(true);
        let tls = crate::tls::handshake(tls, stream, addr).await?;
        let (rd, wr) = tokio::io::split(tls);
        Tase2Client::connect_halves(rd, wr, config, options).await
    }

    async fn connect_halves<R, W>(
        rd: R,
        wr: W,
        config: AssociationConfig,
        options: Tase2Options,
    ) -> Result<Tase2Client, Error>
    where
        R: tokio::io::AsyncRead + Unpin + Send + 'static,
        W: tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let mut session = Session::new(config, options.session, std_clock::now());
        if let Some(r) = &options.record {
            let sink = crate::record_file(&r.path)?;
            session
                .record(sink, &r.producer)
                .map_err(|e| Error::Io(io::Error::other(e)))?;
        }
        let (tx, commands) = mpsc::channel(options.command_queue.max(1));
        let (rtx, reports) = mpsc::channel(options.report_queue.max(1));
        let (dtx, diagnostics) = mpsc::channel(options.diagnostic_queue.max(1));
        let (stx, state) = watch::channel(State {
            edition: session.edition(),
            closed: None,
        });
        let (ready_tx, ready) = oneshot::channel();
        let ends = driver::Ends {
            commands,
            reports: rtx,
            diagnostics: dtx,
            state: stx,
            recording: options.record.is_some(),
        };
        tokio::spawn(driver::drive(rd, wr, session, ends, ready_tx));
        let negotiated = ready.await.map_err(|_| t2::Error::Closed(None))??;
        let c = Tase2Client {
            tx,
            reports,
            diagnostics,
            state,
            negotiated,
        };
        if options.read_version {
            c.version().await?;
        }
        Ok(c)
    }

    // --- getters ---

    /// What MMS Initiate negotiated.
    pub fn negotiated(&self) -> &Negotiated {
        &self.negotiated
    }

    /// The server's edition (as last read by [`Self::version`], [`Self::version_numbers`] or
    /// [`Self::discover`]; 2000.08 before). Mirrored from the session: up to date when any
    /// method that read it has returned.
    pub fn edition(&self) -> Edition {
        self.state.borrow().edition
    }

    /// Why the association ended: `None` while it is up, `Some(None)` after an orderly release,
    /// `Some(Some(cause))` otherwise.
    pub fn close_reason(&self) -> Option<Option<AssocError>> {
        self.state.borrow().closed.clone()
    }

    /// The point type of `name`, if learnt (by discovery, a data set, or [`Self::learn_types`]).
    /// Asks the driver, so it is async; `None` as well once the association is gone.
    pub async fn point_type(&self, name: &ObjectName) -> Option<PointType> {
        let name = name.clone();
        self.with(move |s| Ok(s.point_type(&name)))
            .await
            .ok()
            .flatten()
    }

    // --- plumbing ---

    fn closed(&self) -> t2::Error {
        t2::Error::Closed(self.close_reason().unwrap_or(None))
    }

    async fn send(&self, msg: Msg) -> Result<(), Error> {
        self.tx
            .send(msg)
            .await
            .map_err(|_| Error::Tase2(self.closed()))
    }

    async fn settle<T>(&self, rx: oneshot::Receiver<Result<T, t2::Error>>) -> Result<T, Error> {
        match rx.await {
            Ok(r) => r.map_err(Error::Tase2),
            Err(_) => Err(Error::Tase2(self.closed())),
        }
    }

    /// Run any [`Command`] on the session and await its outcome.
    pub async fn command(&self, command: Command) -> Result<Outcome, Error> {
        let (tx, rx) = oneshot::channel();
        self.send(Msg::Command(command, tx)).await?;
        self.settle(rx).await
    }

    /// Run `f` on the session inside the driver and return what it gives.
    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Session) -> Result<T, t2::Error> + Send + 'static,
    ) -> Result<T, Error> {
        let (tx, rx) = oneshot::channel();
        self.send(Msg::With(Box::new(move |s| {
            let _ = tx.send(f(s));
        })))
        .await?;
        self.settle(rx).await
    }

    // --- plain MMS ---

    /// Send any confirmed MMS request (pipelined with the session's own) and await its answer.
    pub async fn request(&self, request: ConfirmedRequest) -> Result<ConfirmedResponse, Error> {
        let (tx, rx) = oneshot::channel();
        self.send(Msg::Request(request, tx)).await?;
        expect!(self.settle(rx).await?, Outcome::Response(r) => r)
    }

    /// Read several variables in one Read, untyped; one result each.
    pub async fn read_many(&self, names: &[ObjectName]) -> Result<Vec<AccessResult>, Error> {
        let variables = VariableAccessSpecification::ListOfVariable(
            names
                .iter()
                .map(|n| VariableSpec {
                    name: n.clone(),
                    alternate_access: None,
                })
                .collect(),
        );
        let request = ConfirmedRequest::Read(ReadRequest {
            specification_with_result: false,
            variables,
        });
        match self.request(request).await? {
            ConfirmedResponse::Read(r) if r.results.len() == names.len() => Ok(r.results),
            _ => Err(Error::Tase2(t2::Error::UnexpectedResponse)),
        }
    }

    /// Read one variable, untyped.
    pub async fn read(&self, name: &ObjectName) -> Result<Data, Error> {
        match self.read_many(std::slice::from_ref(name)).await?.pop() {
            Some(AccessResult::Success(d)) => Ok(d),
            Some(AccessResult::Failure(e)) => Err(Error::Tase2(t2::Error::Access(e))),
            None => Err(Error::Tase2(t2::Error::UnexpectedResponse)),
        }
    }

    // --- discovery ---

    /// `TASE2_Version` as (major, minor), without interpreting it (the edition is adopted when
    /// it names one).
    pub async fn version_numbers(&self) -> Result<(i64, i64), Error> {
        expect!(self.command(Command::VersionNumbers).await?, Outcome::VersionNumbers(a, b) => (a, b))
    }

    /// Read `TASE2_Version` and adopt its edition (transfer set writes follow it).
    pub async fn version(&self) -> Result<Edition, Error> {
        expect!(self.command(Command::Version).await?, Outcome::Version(e) => e)
    }

    /// `Supported_Features`: the conformance blocks the server claims.
    pub async fn features(&self) -> Result<Features, Error> {
        expect!(self.command(Command::Features).await?, Outcome::Features(f) => f)
    }

    /// `Bilateral_Table_ID` of `domain`.
    pub async fn bilateral_table_id(&self, domain: &str) -> Result<String, Error> {
        let c = Command::BilateralTableId {
            domain: domain.into(),
        };
        expect!(self.command(c).await?, Outcome::TableId(t) => t)
    }

    /// The domains this client can see (a TASE.2 server shows each client its own ICC domain).
    pub async fn domains(&self) -> Result<Vec<String>, Error> {
        expect!(self.command(Command::Domains).await?, Outcome::Names(n) => n)
    }

    /// The data sets (named variable lists) of `domain`, or of VCC scope with `None`.
    pub async fn data_sets(&self, domain: Option<&str>) -> Result<Vec<String>, Error> {
        let c = Command::DataSets {
            domain: domain.map(Into::into),
        };
        expect!(self.command(c).await?, Outcome::Names(n) => n)
    }

    /// Variable names of `domain`, or of VCC scope with `None` (all pages), without types.
    pub async fn variable_names(&self, domain: Option<&str>) -> Result<Vec<String>, Error> {
        let c = Command::VariableNames {
            domain: domain.map(Into::into),
        };
        expect!(self.command(c).await?, Outcome::Names(n) => n)
    }

    /// The variables of `domain` (VCC scope with `None`) with their types: GetNameList, then
    /// GetVariableAccessAttributes of each (pipelined). Point types are remembered for reports.
    pub async fn variables(&self, domain: Option<&str>) -> Result<Vec<VariableInfo>, Error> {
        let c = Command::Variables {
            domain: domain.map(Into::into),
        };
        expect!(self.command(c).await?, Outcome::Variables(v) => v)
    }

    /// Everything at once: version, features, VCC variables, and for each visible domain its
    /// bilateral table id, variables and data sets.
    pub async fn discover(&self) -> Result<Discovery, Error> {
        expect!(self.command(Command::Discover).await?, Outcome::Discovery(d) => *d)
    }

    // --- points ---

    /// The point types of `names`, asking the server (GetVariableAccessAttributes, pipelined)
    /// for those not known yet. `None` for a variable that is not a point, whose type the server
    /// would not give, or when the association is gone.
    pub async fn learn_types(&self, names: &[ObjectName]) -> Vec<Option<PointType>> {
        let c = Command::LearnTypes {
            names: names.to_vec(),
        };
        match self.command(c).await {
            Ok(Outcome::PointTypes(t)) if t.len() == names.len() => t,
            _ => vec![None; names.len()],
        }
    }

    /// Read several points in one Read (their types learnt first); one result each.
    pub async fn read_points(
        &self,
        names: &[ObjectName],
    ) -> Result<Vec<Result<PointValue, Error>>, Error> {
        let c = Command::ReadPoints {
            names: names.to_vec(),
        };
        expect!(
            self.command(c).await?,
            Outcome::Points(p) => p.into_iter().map(|r| r.map_err(Error::Tase2)).collect()
        )
    }

    /// Read one point.
    pub async fn read_point(&self, name: &ObjectName) -> Result<PointValue, Error> {
        self.read_points(std::slice::from_ref(name))
            .await?
            .pop()
            .unwrap_or(Err(Error::Tase2(t2::Error::UnexpectedResponse)))
    }

    /// Write a point (the bilateral table must grant the write), encoded for its type.
    pub async fn write_point(&self, name: &ObjectName, value: &PointValue) -> Result<(), Error> {
        let c = Command::WritePoint {
            name: name.clone(),
            value: *value,
        };
        expect!(self.command(c).await?, Outcome::Unit => ())
    }

    // --- data sets ---

    /// Define a data set (DefineNamedVariableList) and learn its members' types, so that its
    /// reports decode. Put [`report_variables`] in it to have reports name their transfer set.
    pub async fn define_data_set(
        &self,
        name: &ObjectName,
        members: &[ObjectName],
    ) -> Result<(), Error> {
        let c = Command::DefineDataSet {
            name: name.clone(),
            members: members.to_vec(),
        };
        expect!(self.command(c).await?, Outcome::Unit => ())
    }

    /// The members of a data set (GetNamedVariableListAttributes), remembered with their types
    /// for the data set's reports.
    pub async fn data_set_members(&self, name: &ObjectName) -> Result<Vec<ObjectName>, Error> {
        let c = Command::DataSetMembers { name: name.clone() };
        expect!(self.command(c).await?, Outcome::Members(m) => m)
    }

    /// Delete a data set this client defined; true if the server deleted it.
    pub async fn delete_data_set(&self, name: &ObjectName) -> Result<bool, Error> {
        let c = Command::DeleteDataSet { name: name.clone() };
        expect!(self.command(c).await?, Outcome::Deleted(d) => d)
    }

    // --- transfer sets ---

    /// Reserve a DS transfer set of `domain` by reading its `Next_DSTransfer_Set`. A server with
    /// none free answers temporarily-unavailable ([`t2::Error::Access`]).
    pub async fn reserve_transfer_set(&self, domain: &str) -> Result<ObjectName, Error> {
        let c = Command::ReserveTransferSet {
            domain: domain.into(),
        };
        expect!(self.command(c).await?, Outcome::TransferSet(t) => t)
    }

    /// Configure and start a reserved transfer set: writes the whole structure in the server's
    /// edition with Status true. Asks for the data set's members first if the session does not
    /// know them, so its full reports decode (if the server will not say, the start goes on: the
    /// session asks again when a full report comes).
    pub async fn start_transfer_set(
        &self,
        transfer_set: &ObjectName,
        value: DsTransferSetValue,
    ) -> Result<(), Error> {
        let c = Command::StartTransferSet {
            transfer_set: transfer_set.clone(),
            value,
        };
        expect!(self.command(c).await?, Outcome::Unit => ())
    }

    /// Read a transfer set's configuration.
    pub async fn read_transfer_set(
        &self,
        transfer_set: &ObjectName,
    ) -> Result<DsTransferSetValue, Error> {
        let c = Command::ReadTransferSet {
            transfer_set: transfer_set.clone(),
        };
        expect!(self.command(c).await?, Outcome::TransferSetValue(v) => v)
    }

    /// Stop a transfer set: a component write of `Status` = false, or, if the server refuses
    /// component access, a whole-structure write of the last configuration with Status false.
    pub async fn stop_transfer_set(&self, transfer_set: &ObjectName) -> Result<(), Error> {
        let c = Command::StopTransferSet {
            transfer_set: transfer_set.clone(),
        };
        expect!(self.command(c).await?, Outcome::Unit => ())
    }

    // --- reports ---

    /// The next InformationReport, decoded and typed by the session; `None` once the association
    /// is gone and every report was taken: a transfer set report ([`Tase2Report::Transfer`]) or
    /// an information message ([`Tase2Report::InfoMessage`]), in arrival order; anything else is
    /// an [`UndecodedReport`]. Critical reports of transfer sets this client started were
    /// acknowledged on arrival when auto-ACK is on (see [`TypedReport::acknowledged`]).
    ///
    /// Cancel-safe (a report is taken only when it is returned).
    pub async fn next_report(&mut self) -> Option<Result<Tase2Report, UndecodedReport>> {
        self.reports.recv().await
    }

    /// The next [`Diagnostic`]; `None` once the association is gone and every one was taken.
    /// Cancel-safe.
    pub async fn next_diagnostic(&mut self) -> Option<Diagnostic> {
        self.diagnostics.recv().await
    }

    /// Acknowledge critical reports as they arrive (on by default): the session sends
    /// `Transfer_Report_ACK` for every report of a transfer set this client started with
    /// Critical set. Applies to every report that arrives after this returns; reports already
    /// queued for [`Self::next_report`] keep what was done with them.
    pub async fn set_auto_ack(&self, on: bool) -> Result<(), Error> {
        self.with(move |s| {
            s.set_auto_ack(on);
            Ok(())
        })
        .await
    }

    /// Acknowledge the critical report of `transfer_set` stamped `timestamp`
    /// (`Transfer_Report_ACK`, an unconfirmed InformationReport); returns once it is queued for
    /// the socket.
    pub async fn ack(&self, transfer_set: &ObjectName, timestamp: i32) -> Result<(), Error> {
        let ts = transfer_set.clone();
        self.with(move |s| s.ack(&ts, timestamp)).await
    }

    /// Refuse the critical report of `transfer_set` (`Transfer_Report_NACK`).
    pub async fn nack(&self, transfer_set: &ObjectName) -> Result<(), Error> {
        let ts = transfer_set.clone();
        self.with(move |s| s.nack(&ts)).await
    }

    // --- information messages (block 4) ---

    /// Receive information messages: writes `true` to this association's `IM_Transfer_Set`
    /// (association-specific). The server then sends every message its bilateral table admits
    /// for this client; they come out of [`Self::next_report`].
    pub async fn enable_info_messages(&self) -> Result<(), Error> {
        let c = Command::InfoMessages { enable: true };
        expect!(self.command(c).await?, Outcome::Unit => ())
    }

    /// Stop receiving information messages (`IM_Transfer_Set` = false). Messages already on
    /// their way may still arrive.
    pub async fn disable_info_messages(&self) -> Result<(), Error> {
        let c = Command::InfoMessages { enable: false };
        expect!(self.command(c).await?, Outcome::Unit => ())
    }

    // --- device control (block 5) ---
    //
    // A device is named by its `<Device>` object (`ICC1/Brk1_Cmd`); the session derives
    // `<Device>_SBO` and `<Device>_TAG` from it. A refusal comes back as `t2::Error::Control`,
    // whose `ControlError` says which request failed and what the DataAccessError means.

    /// What `device` is: its kind, whether it is select-before-operate, whether it is tagged
    /// (three GetVariableAccessAttributes, pipelined). Fails with [`t2::Error::NotADevice`] when
    /// `<Device>` is neither an INT16 nor a FLOAT32, and with the server's error when it does not
    /// exist.
    pub async fn device_info(&self, device: &ObjectName) -> Result<DeviceInfo, Error> {
        let c = Command::DeviceInfo {
            device: device.clone(),
        };
        expect!(self.command(c).await?, Outcome::Device(d) => d)
    }

    /// Select `device` (a Read of `<Device>_SBO`): the server arms it for this association until
    /// its select timeout and answers the CheckBackID, which is returned. The next
    /// [`Self::operate`] of this association operates it (one operate per select).
    pub async fn select(&self, device: &ObjectName) -> Result<i16, Error> {
        let c = Command::Select {
            device: device.clone(),
        };
        expect!(self.command(c).await?, Outcome::CheckBackId(id) => id)
    }

    /// Operate `device` with `value` (a Write of `<Device>`): a direct-operate device operates
    /// at once; a select-before-operate device must have been selected by this association
    /// ([`Self::select`]) within its select timeout. Returns once the server (and the
    /// application behind it) accepted the operate.
    pub async fn operate(&self, device: &ObjectName, value: ControlValue) -> Result<(), Error> {
        let c = Command::Operate {
            device: device.clone(),
            value,
        };
        expect!(self.command(c).await?, Outcome::Unit => ())
    }

    /// Select then operate `device` in one call; returns the CheckBackID of the select.
    pub async fn select_operate(
        &self,
        device: &ObjectName,
        value: ControlValue,
    ) -> Result<i16, Error> {
        let c = Command::SelectOperate {
            device: device.clone(),
            value,
        };
        expect!(self.command(c).await?, Outcome::CheckBackId(id) => id)
    }

    /// The tag of `device` (a Read of `<Device>_TAG`).
    pub async fn tag(&self, device: &ObjectName) -> Result<Tag, Error> {
        let c = Command::Tag {
            device: device.clone(),
        };
        expect!(self.command(c).await?, Outcome::Tag(t) => t)
    }

    /// Set (or, with [`TagValue::None`], clear) the tag of `device` with a reason (printable
    /// ASCII, at most 255 characters; a longer one is cut). Only the client that set a tag may
    /// change it, and not while the device is selected.
    pub async fn set_tag(
        &self,
        device: &ObjectName,
        value: TagValue,
        reason: &str,
    ) -> Result<(), Error> {
        let c = Command::SetTag {
            device: device.clone(),
            value,
            reason: reason.into(),
        };
        expect!(self.command(c).await?, Outcome::Unit => ())
    }

    // --- release ---

    /// Orderly release: Conclude, ACSE release, then the socket closes.
    pub async fn conclude(mut self) -> Result<(), Error> {
        let (tx, rx) = oneshot::channel();
        self.send(Msg::Conclude(tx)).await?;
        // Nobody can take a report any more: let the driver drop them instead of waiting for a
        // reader before it closes the socket and answers.
        self.reports.close();
        self.settle(rx).await
    }
}
