//! [`Failover`]: the TASE.2 client session that reconnects, fails over, fails back and restores
//! its setup (see its docs).

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

use serde::{Deserialize, Serialize};

use crate::assoc::{AssocError, AssociationConfig, RequestError};
use crate::mms::ObjectName;
use crate::record::{self, FailoverInput, RecordSink};
use crate::sim::SimRng;
use crate::tase2::{names, DsTransferSetValue};
use crate::time::Instant;
use crate::vec_map::VecMap;

use super::session::{
    Command, OpId, Outcome, Reported, Session, SessionConfig, SessionEvent, TypedReport,
};
use super::Error;

/// One server the link may connect to.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EndpointSpec {
    /// Where it is, for the driver (e.g. `"10.0.0.1:102"`); the core never reads it.
    pub address: String,
    /// The association to make with it (AP titles, selectors, timeouts).
    pub association: AssociationConfig,
}

impl EndpointSpec {
    /// An endpoint at `address` with `association`.
    pub fn new(address: impl Into<String>, association: AssociationConfig) -> EndpointSpec {
        EndpointSpec {
            address: address.into(),
            association,
        }
    }
}

/// How long the link waits between rounds of attempts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backoff {
    /// The wait after the first failed round. Default 250 ms.
    pub min: Duration,
    /// The longest wait. Default 30 s.
    pub max: Duration,
    /// Each further failed round multiplies the wait by this. Default 2.
    pub factor: u32,
    /// Up to this percentage of the wait is taken off at random (0..=100), so that many clients
    /// of one failed server do not come back in step. Default 20.
    pub jitter_percent: u8,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            min: Duration::from_millis(250),
            max: Duration::from_secs(30),
            factor: 2,
            jitter_percent: 20,
        }
    }
}

impl Backoff {
    /// The wait before round `round` + 1 without jitter (`round` ≥ 1 failed rounds so far).
    pub fn base(&self, round: u32) -> Duration {
        let mut d = self.min.min(self.max);
        for _ in 1..round {
            if d >= self.max {
                break;
            }
            d = d.saturating_mul(self.factor.max(1)).min(self.max);
        }
        d
    }

    /// The shortest and longest wait after `round` failed rounds (the jitter's range).
    pub fn bounds(&self, round: u32) -> (Duration, Duration) {
        let base = self.base(round);
        let j = u32::from(self.jitter_percent.min(100));
        (base * (100 - j) / 100, base)
    }

    fn draw(&self, round: u32, rng: &mut SimRng) -> Duration {
        let base = self.base(round);
        let base_us = crate::time::micros_saturating(base);
        let span = base_us / 100 * u64::from(self.jitter_percent.min(100))
            + base_us % 100 * u64::from(self.jitter_percent.min(100)) / 100;
        Duration::from_micros(base_us - rng.below(span + 1))
    }
}

/// Dead-link detection: a periodic read that must be answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Keepalive {
    /// How often `TASE2_Version` is read. Default 5 s.
    pub interval: Duration,
    /// How long an answer may take before the link counts as dead. Default 5 s.
    pub timeout: Duration,
}

impl Default for Keepalive {
    fn default() -> Self {
        Keepalive {
            interval: Duration::from_secs(5),
            timeout: Duration::from_secs(5),
        }
    }
}

/// What a [`Failover`] does; every field has a sane default but the endpoints.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FailoverConfig {
    /// The servers, primary first. An empty list never connects.
    pub endpoints: Vec<EndpointSpec>,
    /// The configuration of each session.
    pub session: SessionConfig,
    /// The waits between rounds.
    pub backoff: Backoff,
    /// The seed of the backoff's jitter.
    pub seed: u64,
    /// Go back to the primary when it answers a probe, probing every this often while on a
    /// backup. Default `None`: stay where the link is.
    pub fail_back: Option<Duration>,
    /// Dead-link detection. Default on ([`Keepalive::default`]).
    pub keepalive: Option<Keepalive>,
    /// A transport connect (or probe) not finished within this is abandoned. Default 5 s.
    pub connect_timeout: Duration,
    /// An association up this long is stable: the backoff starts over. Default 10 s.
    pub stable_after: Duration,
    /// A fail-back's clean-up on the backup (stop, delete, conclude) gets this long before the
    /// association is aborted. Default 2 s.
    pub leave_timeout: Duration,
    /// Most data sets plus transfer sets remembered for restoration; beyond it a setup command
    /// still runs but is not remembered ([`FailoverEvent::NotRemembered`]). Default 64.
    pub max_remembered: usize,
    /// Most commands held while no association is up; beyond it a command fails at once.
    /// Default 64.
    pub max_queued: usize,
    /// A held command not sent within this fails with [`RequestError::Timeout`]. Default 30 s.
    pub queue_timeout: Duration,
}

impl Default for FailoverConfig {
    fn default() -> Self {
        FailoverConfig {
            endpoints: Vec::new(),
            session: SessionConfig::default(),
            backoff: Backoff::default(),
            seed: DEFAULT_SEED,
            fail_back: None,
            keepalive: Some(Keepalive::default()),
            connect_timeout: Duration::from_secs(5),
            stable_after: Duration::from_secs(10),
            leave_timeout: Duration::from_secs(2),
            max_remembered: 64,
            max_queued: 64,
            queue_timeout: Duration::from_secs(30),
        }
    }
}

/// The default jitter seed (any fixed value: a driver that wants its clients to differ seeds each
/// one, e.g. from its process id).
const DEFAULT_SEED: u64 = 0x7a5e_2000_fa11_0e00;

impl FailoverConfig {
    /// The defaults with these endpoints (primary first).
    pub fn new(endpoints: Vec<EndpointSpec>) -> FailoverConfig {
        FailoverConfig {
            endpoints,
            ..FailoverConfig::default()
        }
    }
}

/// What the driver must do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailoverAction {
    /// Open a transport to endpoint `endpoint`, then call [`Failover::handle_connected`] or
    /// [`Failover::handle_connect_failed`].
    Connect {
        /// Index in [`FailoverConfig::endpoints`].
        endpoint: usize,
    },
    /// Close the current transport (if it is still open) and feed nothing more from it.
    Disconnect,
    /// See whether endpoint `endpoint` accepts a transport connection (then close it), and say so
    /// with [`Failover::handle_probe`].
    Probe {
        /// Index in [`FailoverConfig::endpoints`].
        endpoint: usize,
    },
}

/// Why an attempt to associate failed.
#[derive(Clone, Debug, PartialEq)]
pub enum AttemptError {
    /// The driver could not open the transport.
    Transport,
    /// The transport did not open within [`FailoverConfig::connect_timeout`].
    ConnectTimeout,
    /// The association was refused or ended before it was up.
    Association(Option<AssocError>),
}

/// Why an association that was up is gone.
#[derive(Clone, Debug, PartialEq)]
pub enum LossCause {
    /// It ended: `None` for a release by the server, the cause otherwise (transport closed,
    /// abort, protocol error).
    Closed(Option<AssocError>),
    /// The keepalive read was not answered in time; the link aborted it.
    NoAnswer,
    /// The link left it to fail back to the primary.
    FailBack,
}

/// What a [`Failover`] tells its owner. Drain with [`Failover::poll_event`].
#[derive(Clone, Debug, PartialEq)]
pub enum FailoverEvent {
    /// An event of the current session, passed through. [`SessionEvent::Done`] carries the
    /// link's operation id; [`SessionEvent::Closed`] comes only once, when the link itself ends
    /// ([`Failover::conclude`], [`Failover::abort`]).
    Session(SessionEvent),
    /// A transport connection to `endpoint` is asked for.
    Connecting {
        /// The endpoint.
        endpoint: usize,
        /// Failed rounds so far.
        round: u32,
    },
    /// An attempt failed.
    AttemptFailed {
        /// The endpoint.
        endpoint: usize,
        /// Why.
        cause: AttemptError,
    },
    /// Every endpoint failed in this round: the link waits `delay` before the next.
    Waiting {
        /// Failed rounds so far.
        round: u32,
        /// The wait (backoff with jitter).
        delay: Duration,
    },
    /// An association is up on `endpoint` (restoration, if any, follows).
    Up {
        /// The endpoint.
        endpoint: usize,
    },
    /// The association on `endpoint` is gone; the link reconnects.
    Lost {
        /// The endpoint.
        endpoint: usize,
        /// Why.
        cause: LossCause,
    },
    /// What the application had set up is back, on `endpoint`.
    Restored {
        /// The endpoint.
        endpoint: usize,
        /// From the loss to the end of restoration (refresh included).
        gap: Duration,
        /// The data sets defined again.
        data_sets: Vec<ObjectName>,
        /// Each transfer set restored: (the name the application knows, the name it has now).
        transfer_sets: Vec<(ObjectName, ObjectName)>,
        /// What could not be restored (data set, transfer set, or `IM_Transfer_Set`), and why.
        failed: Vec<(ObjectName, Error)>,
    },
    /// The values of a restored transfer set's points, read once after restoration (in the
    /// shape of a report: `data_set` and the new `transfer_set` named, no conditions).
    Refreshed(TypedReport),
    /// The primary answered a probe: the link leaves backup `from` (after cleaning up there).
    FailingBack {
        /// The backup left.
        from: usize,
        /// The endpoint returned to.
        to: usize,
    },
    /// A setup command succeeded but is beyond [`FailoverConfig::max_remembered`]: this data set
    /// or transfer set will not be restored after a loss.
    NotRemembered(ObjectName),
}

/// What to remember when an application command succeeds.
#[derive(Clone, Debug)]
enum Remember {
    Nothing,
    Version,
    DataSet(ObjectName, Vec<ObjectName>),
    ForgetDataSet(ObjectName),
    Start {
        original: ObjectName,
        sent: ObjectName,
        value: DsTransferSetValue,
    },
    ReserveAndStart(DsTransferSetValue),
    Stop(ObjectName),
    Info(bool),
}

enum RestoreOp {
    Ignore,
    Define(ObjectName),
    Start(ObjectName),
    Info,
    Refresh {
        transfer_set: ObjectName,
        data_set: ObjectName,
        names: Vec<ObjectName>,
    },
}

enum Op {
    App { id: OpId, remember: Remember },
    Keepalive,
    Restore(RestoreOp),
    Leave,
}

/// A transfer set the application started.
#[derive(Clone, Debug)]
struct RememberedSet {
    /// The name the application got first.
    original: ObjectName,
    /// Its name on the current association (`None`: not running there).
    current: Option<ObjectName>,
    value: DsTransferSetValue,
}

#[derive(Default)]
struct Setup {
    version: bool,
    data_sets: Vec<(ObjectName, Vec<ObjectName>)>,
    transfer_sets: Vec<RememberedSet>,
    info: bool,
}

struct Restoring {
    pending: usize,
    lost_at: Instant,
    data_sets: Vec<ObjectName>,
    transfer_sets: Vec<(ObjectName, ObjectName)>,
    failed: Vec<(ObjectName, Error)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Waiting out a backoff.
    ExpectRetry { at: Instant },
    /// A transport was asked for.
    ExpectTransport { endpoint: usize, deadline: Instant },
    /// The session is associating.
    ExpectAssociation,
    /// Up (restoring or restored).
    Up,
    /// Cleaning up on a backup before failing back to `to`.
    Leaving {
        to: usize,
        deadline: Instant,
        concluding: bool,
    },
    /// The application asked to end.
    Closing,
    /// Ended.
    Closed,
}

/// Where each new session's recording goes: given the endpoint, a sink (or `None`: not recorded).
pub type Recorder = Box<dyn FnMut(usize) -> Option<Box<dyn RecordSink>> + Send>;

/// A TASE.2 client that rides through its partner's failover without an operator.
///
/// A control center's client must survive the loss of its association: the partner's primary
/// server restarts or fails over to a backup, a firewall resets the connection, a link goes
/// silent. [`Failover`] owns the current [`Session`] and, when it is lost, connects again on its
/// own, to an ordered list of server endpoints (primary first, then backups), with a backoff drawn
/// from a seed; on every new association it restores what the application had set up (data sets,
/// transfer sets with the same conditions, information messages), refreshes every value once, and
/// says what happened ([`FailoverEvent::Lost`], [`FailoverEvent::Restored`] with the gap).
///
/// It is sans-IO like the session: it never opens a socket, it asks the driver to through
/// [`Failover::poll_action`] ([`FailoverAction::Connect`], [`FailoverAction::Disconnect`],
/// [`FailoverAction::Probe`]) and hears back through [`Failover::handle_connected`],
/// [`Failover::handle_connect_failed`] and [`Failover::handle_probe`]. So tokio, mio and wasm
/// drivers get the same policy, and the pair tests run it on a virtual clock.
///
/// # The policy
///
/// - **Rounds.** A round tries every endpoint once, in list order, without waiting between them.
///   The first round after the loss of an association that had been stable (up for
///   [`FailoverConfig::stable_after`]) starts at the endpoint after the lost one; later rounds
///   start at the primary (endpoint 0). An association lost before it was stable counts as a
///   failed attempt of the round it belongs to, so a server that accepts and drops at once
///   (flapping) is retried no faster than the backoff allows.
/// - **Backoff.** After a round in which every attempt failed the link waits
///   `min · factor^(round − 1)`, at most `max`, minus a jitter of up to
///   [`Backoff::jitter_percent`] percent drawn from [`FailoverConfig::seed`] (SplitMix64: the same
///   seed gives the same waits). It goes back to round 0 once an association is stable.
/// - **Dead links.** With [`FailoverConfig::keepalive`], every `interval` the link reads
///   `TASE2_Version`; no answer within `timeout` aborts the association
///   ([`LossCause::NoAnswer`]). A transport connect that does not finish within
///   [`FailoverConfig::connect_timeout`] is abandoned.
/// - **Fail-back.** With [`FailoverConfig::fail_back`], while on a backup the link asks the driver
///   to probe the primary every interval; when it answers, the link stops its transfer sets and
///   deletes its data sets on the backup (so nothing is left behind there), concludes, and
///   connects to the primary.
/// - **Restoration.** The link remembers the setup commands that succeeded: [`Command::Version`],
///   [`Command::DefineDataSet`] (forgotten by [`Command::DeleteDataSet`]),
///   [`Command::StartTransferSet`] and [`Command::ReserveAndStart`] (forgotten by
///   [`Command::StopTransferSet`]) and [`Command::InfoMessages`]. On a new association after a
///   loss it issues them again, pipelined: each data set is deleted (a server keeps a client's
///   domain data set after its association died) and defined again, each transfer set is
///   reserved anew in its domain and started with the same configuration, information messages
///   are enabled; then every restored transfer set's points are read once
///   ([`FailoverEvent::Refreshed`]). The server may hand out another transfer set than before: the
///   link maps the name the application knows to the new one in the commands it passes on
///   ([`Failover::current_transfer_set`]), and [`FailoverEvent::Restored`] lists the mapping.
///   What is remembered is bounded ([`FailoverConfig::max_remembered`]).
/// - **Commands while down.** A command issued while no association is up waits (at most
///   [`FailoverConfig::max_queued`] of them, each at most [`FailoverConfig::queue_timeout`]) and
///   goes out on the next association, after the restoration. Operations in flight when an
///   association is lost fail with [`Error::Closed`], as on a plain session.
///
/// # Method families
///
/// - input: [`Self::handle_connected`], [`Self::handle_connect_failed`], [`Self::handle_probe`],
///   [`Self::handle_input`], [`Self::handle_timeout`], [`Self::handle_transport_closed`];
/// - output, drained until empty after every input and command: [`Self::poll_action`],
///   [`Self::poll_transmit`], [`Self::poll_event`], [`Self::poll_timeout`];
/// - commands: [`Self::command`], [`Self::conclude`], [`Self::abort`];
/// - getters: [`Self::session`], [`Self::endpoint`], [`Self::is_up`],
///   [`Self::current_transfer_set`], [`Self::remembered_data_sets`],
///   [`Self::remembered_transfer_sets`].
///
/// **The driver holds at most one transport** (plus short-lived probes): after
/// [`FailoverAction::Disconnect`] it closes the current one and feeds nothing more from it; bytes
/// from [`Self::poll_transmit`] always belong to the transport of the last
/// [`Self::handle_connected`].
///
/// # Recording
///
/// [`Self::record`] journals the link as a whole: every call (the driver's connects, failures
/// and probes, bytes, timers, closes, commands) and every octet given out, each association's
/// as its own connection (numbered from 0). [`crate::record::replay_failover`] rebuilds the link
/// from the log's header and checks every octet, across failovers. Each association's
/// [`Session`] can also record itself on its own ([`Self::set_recorder`]): one log per
/// association, each replayable like any session's.
///
/// **`now` must never go backwards.**
pub struct Failover {
    config: FailoverConfig,
    rng: SimRng,
    phase: Phase,
    session: Option<Session>,
    /// What a session that ended by our own hand (its ABORT, say) still had for its transport:
    /// handed out by `poll_transmit` before any further action, so the peer learns why.
    parting: Vec<u8>,
    /// The current transport was reported closed: a session ending with it has no one to tell.
    transport_gone: bool,
    /// The endpoint of the current (or last) session.
    endpoint: usize,
    next_endpoint: usize,
    /// Endpoints tried in the current round.
    tried: usize,
    /// Failed rounds since the last stable association.
    round: u32,
    /// When the last association was lost (cleared once restored).
    lost_at: Option<Instant>,
    last_cause: Option<AssocError>,
    /// The current session's operations, by its ids.
    ops: VecMap<OpId, Op>,
    next_op: u64,
    queued: VecDeque<(OpId, Command, Remember, Instant)>,
    setup: Setup,
    restoring: Option<Restoring>,
    keepalive: Option<(OpId, Instant)>,
    next_keepalive: Option<Instant>,
    stable_at: Option<Instant>,
    next_probe: Option<Instant>,
    probe_deadline: Option<Instant>,
    leave_pending: usize,
    /// The next loss is ours (keepalive or fail-back): its cause.
    leaving_cause: Option<LossCause>,
    actions: VecDeque<FailoverAction>,
    events: VecDeque<FailoverEvent>,
    recorder: Option<Recorder>,
    /// Sessions made so far; the current one is connection `sessions - 1` in a recording.
    sessions: u64,
    /// Critical reports acknowledged inside each session ([`Self::set_auto_ack`]); starts as
    /// the configuration's.
    auto_ack: bool,
    /// When it was built.
    start: Instant,
    /// No input taken, no output given yet: recording may start.
    fresh: bool,
    journal: Option<Box<record::Journal>>,
}

impl core::fmt::Debug for Failover {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Failover")
            .field("phase", &self.phase)
            .field("endpoint", &self.endpoint)
            .field("round", &self.round)
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

fn is_report_variable(name: &ObjectName) -> bool {
    matches!(
        name.item(),
        names::TRANSFER_SET_NAME
            | names::TRANSFER_SET_TIME_STAMP
            | names::DS_CONDITIONS_DETECTED
            | names::EVENT_CODE_DETECTED
    )
}

impl Failover {
    /// A link that connects to the primary at once ([`FailoverAction::Connect`] is ready).
    pub fn new(config: FailoverConfig, now: Instant) -> Failover {
        let mut f = Failover {
            rng: SimRng::new(config.seed),
            auto_ack: config.session.auto_ack,
            config,
            phase: Phase::ExpectRetry { at: now },
            session: None,
            endpoint: 0,
            next_endpoint: 0,
            tried: 0,
            round: 0,
            lost_at: None,
            last_cause: None,
            ops: VecMap::new(),
            next_op: 0,
            queued: VecDeque::new(),
            setup: Setup::default(),
            restoring: None,
            keepalive: None,
            next_keepalive: None,
            stable_at: None,
            next_probe: None,
            probe_deadline: None,
            leave_pending: 0,
            leaving_cause: None,
            actions: VecDeque::new(),
            events: VecDeque::new(),
            recorder: None,
            sessions: 0,
            start: now,
            fresh: true,
            journal: None,
            parting: Vec::new(),
            transport_gone: false,
        };
        if !f.config.endpoints.is_empty() {
            f.connect_next(now);
        }
        f
    }

    /// Record every session from now on: `recorder` gives a sink for each new association (given
    /// its endpoint). Each log replays on its own ([`crate::record`]). This changes nothing the
    /// link does, so the link's own recording ([`Self::record`]) does not log it.
    pub fn set_recorder(&mut self, recorder: Recorder) {
        self.recorder = Some(recorder);
    }

    /// Record the link into `sink` (see [`crate::record`]): call it right after [`Self::new`],
    /// before any input, command or output. The header holds the configuration (including any
    /// password the association configurations carry: keep recordings as private as captures).
    pub fn record(
        &mut self,
        sink: Box<dyn RecordSink>,
        producer: &str,
    ) -> Result<(), record::RecordStartError> {
        if self.journal.is_some() {
            return Err(record::RecordStartError::AlreadyRecording);
        }
        if !self.fresh {
            return Err(record::RecordStartError::NotFresh);
        }
        let setup = self.recorded_setup();
        let header = record::Header {
            version: record::FORMAT_VERSION,
            role: record::Role::Failover,
            setup_kind: String::from(record::FAILOVER_SETUP),
            fingerprint: record::format::Fingerprint::of(&setup),
            setup,
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

    /// A digest of the configuration (a recording's fingerprint): of its recorded (postcard)
    /// form.
    pub fn fingerprint(&self) -> u64 {
        // Not of the `Debug` text as before: formatting the configuration pulled every config
        // type's `Debug` into the browser package. Older recordings still replay
        // (`legacy_fingerprint`).
        record::format::Fingerprint::of(&self.recorded_setup())
    }

    /// The fingerprint of recordings made before 2026-12: a digest of the configuration's `Debug`
    /// text. Only replay asks for it, so a build that never replays (the browser's) leaves it out.
    pub(crate) fn legacy_fingerprint(&self) -> u64 {
        let mut fp = record::format::Fingerprint::new();
        let _ = core::fmt::write(&mut fp, format_args!("{:?}", self.config));
        fp.0
    }

    /// The header's setup: a [`record::FailoverSetup`] in postcard, which is the configuration's
    /// own postcard (a struct of one field adds nothing), so it is written without a copy.
    fn recorded_setup(&self) -> Vec<u8> {
        // `to_extend`, not `to_allocvec`: the same octets through the serializer the journal
        // already links, not a second copy of it.
        postcard::to_extend(&self.config, Vec::new()).unwrap_or_default()
    }

    /// The connection number of the current session in a recording (`None` before the first).
    pub fn current_conn(&self) -> Option<u64> {
        self.session
            .as_ref()
            .map(|_| self.sessions.saturating_sub(1))
    }

    fn log(&mut self, now: Instant, event: impl FnOnce(u64) -> record::Event) {
        self.fresh = false;
        let conn = self.sessions.saturating_sub(1);
        if let Some(j) = &mut self.journal {
            j.log(now, event(conn));
        }
    }

    // --- getters ---

    /// The configuration.
    pub fn config(&self) -> &FailoverConfig {
        &self.config
    }

    /// The current session (associating, up, or leaving), if any.
    pub fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }

    /// The endpoint of the current or last session.
    pub fn endpoint(&self) -> usize {
        self.endpoint
    }

    /// Whether an association is up and restored.
    pub fn is_up(&self) -> bool {
        matches!(self.phase, Phase::Up) && self.restoring.is_none()
    }

    /// Whether the link has ended ([`Self::conclude`], [`Self::abort`]).
    pub fn is_closed(&self) -> bool {
        matches!(self.phase, Phase::Closed)
    }

    /// The name transfer set `name` (as the application first got it) has on the current
    /// association; `None` when it is not running there.
    pub fn current_transfer_set(&self, name: &ObjectName) -> Option<&ObjectName> {
        self.setup
            .transfer_sets
            .iter()
            .find(|t| t.original == *name)
            .and_then(|t| t.current.as_ref())
    }

    /// The data sets remembered for restoration, in definition order.
    pub fn remembered_data_sets(&self) -> impl Iterator<Item = &ObjectName> {
        self.setup.data_sets.iter().map(|(n, _)| n)
    }

    /// The transfer sets remembered for restoration: (the name the application knows, its
    /// configuration).
    pub fn remembered_transfer_sets(
        &self,
    ) -> impl Iterator<Item = (&ObjectName, &DsTransferSetValue)> {
        self.setup
            .transfer_sets
            .iter()
            .map(|t| (&t.original, &t.value))
    }

    // --- driver input ---

    /// The transport asked for by [`FailoverAction::Connect`] is open: a new session starts (its
    /// first bytes are ready in [`Self::poll_transmit`]).
    pub fn handle_connected(&mut self, now: Instant, endpoint: usize) {
        self.log(now, |_| {
            record::Event::Failover(FailoverInput::Connected {
                endpoint: endpoint as u64,
            })
        });
        let Phase::ExpectTransport { endpoint: e, .. } = self.phase else {
            return;
        };
        if e != endpoint {
            return;
        }
        let Some(spec) = self.config.endpoints.get(endpoint) else {
            return;
        };
        let mut session = self.config.session.clone();
        session.auto_ack = self.auto_ack;
        let mut s = Session::new(spec.association.clone(), session, now);
        if let Some(r) = &mut self.recorder {
            if let Some(sink) = r(endpoint) {
                let _ = s.record(sink, "tase2-core failover");
            }
        }
        self.session = Some(s);
        self.transport_gone = false;
        self.sessions += 1;
        self.endpoint = endpoint;
        self.ops = VecMap::new();
        self.phase = Phase::ExpectAssociation;
        self.drain_session(now);
    }

    /// The transport asked for by [`FailoverAction::Connect`] could not be opened.
    pub fn handle_connect_failed(&mut self, now: Instant, endpoint: usize) {
        self.log(now, |_| {
            record::Event::Failover(FailoverInput::ConnectFailed {
                endpoint: endpoint as u64,
            })
        });
        if let Phase::ExpectTransport { endpoint: e, .. } = self.phase {
            if e == endpoint {
                self.events.push_back(FailoverEvent::AttemptFailed {
                    endpoint,
                    cause: AttemptError::Transport,
                });
                self.attempt_failed(now);
            }
        }
    }

    /// The answer to [`FailoverAction::Probe`]: whether `endpoint` accepted a connection.
    pub fn handle_probe(&mut self, now: Instant, endpoint: usize, up: bool) {
        self.log(now, |_| {
            record::Event::Failover(FailoverInput::Probe {
                endpoint: endpoint as u64,
                up,
            })
        });
        self.probe(now, endpoint, up);
    }

    fn probe(&mut self, now: Instant, endpoint: usize, up: bool) {
        if self.probe_deadline.take().is_none() {
            return;
        }
        let on_backup = matches!(self.phase, Phase::Up) && self.endpoint != endpoint;
        if up && on_backup && self.restoring.is_none() {
            self.leave(now, endpoint);
        } else if on_backup {
            self.next_probe = self.config.fail_back.map(|d| now + d);
        }
    }

    /// Bytes from the current transport.
    pub fn handle_input(&mut self, now: Instant, data: &[u8]) {
        self.log(now, |conn| record::Event::Input {
            conn,
            bytes: data.to_vec(),
        });
        if let Some(s) = &mut self.session {
            s.handle_input(now, data);
            self.drain_session(now);
        }
    }

    /// The current transport closed.
    pub fn handle_transport_closed(&mut self, now: Instant) {
        self.log(now, |conn| record::Event::TransportClosed { conn });
        self.transport_gone = true;
        if let Some(s) = &mut self.session {
            s.handle_transport_closed(now);
            self.drain_session(now);
        }
    }

    /// The deadline from [`Self::poll_timeout`] passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.log(now, |_| record::Event::Timeout);
        if let Some(s) = &mut self.session {
            if s.poll_timeout().is_some_and(|t| t <= now) {
                s.handle_timeout(now);
                self.drain_session(now);
            }
        }
        while let Some((id, _, _, _)) = self.queued.front().filter(|q| q.3 <= now) {
            let id = *id;
            self.queued.pop_front();
            self.done(id, Err(Error::Request(RequestError::Timeout)));
        }
        match self.phase {
            Phase::ExpectRetry { at } if at <= now && !self.config.endpoints.is_empty() => {
                self.connect_next(now);
            }
            Phase::ExpectTransport { endpoint, deadline } if deadline <= now => {
                self.actions.push_back(FailoverAction::Disconnect);
                self.events.push_back(FailoverEvent::AttemptFailed {
                    endpoint,
                    cause: AttemptError::ConnectTimeout,
                });
                self.attempt_failed(now);
            }
            Phase::Leaving { deadline, .. } if deadline <= now => {
                if let Some(s) = &mut self.session {
                    s.abort(now);
                }
                self.drain_session(now);
            }
            _ => {}
        }
        if !matches!(self.phase, Phase::Up) {
            return;
        }
        if self.stable_at.is_some_and(|t| t <= now) {
            self.stable_at = None;
            self.round = 0;
            self.tried = 0;
        }
        if self.keepalive.is_some_and(|(_, t)| t <= now) {
            self.keepalive = None;
            self.leaving_cause = Some(LossCause::NoAnswer);
            if let Some(s) = &mut self.session {
                s.abort(now);
            }
            self.drain_session(now);
            return;
        }
        if self.next_keepalive.is_some_and(|t| t <= now) {
            let k = self.config.keepalive.unwrap_or_default();
            self.next_keepalive = Some(now + k.interval);
            if self.keepalive.is_none() {
                if let Some(op) = self.issue(now, Command::VersionNumbers, Op::Keepalive) {
                    self.keepalive = Some((op, now + k.timeout));
                }
            }
        }
        if self.probe_deadline.is_some_and(|t| t <= now) {
            self.probe(now, 0, false);
        }
        if self.next_probe.is_some_and(|t| t <= now) && self.probe_deadline.is_none() {
            self.next_probe = None;
            self.probe_deadline = Some(now + self.config.connect_timeout);
            self.actions
                .push_back(FailoverAction::Probe { endpoint: 0 });
        }
        self.drain_session(now);
    }

    // --- output ---

    /// The next thing the driver must do. `None` while a session that just ended still has
    /// octets for its transport: take them with [`Self::poll_transmit`] first (its ABORT, after
    /// a keepalive found no answer, should reach the peer before the transport closes).
    pub fn poll_action(&mut self) -> Option<FailoverAction> {
        if !self.parting.is_empty() {
            return None;
        }
        self.actions.pop_front()
    }

    /// Bytes for the current transport, appended to `buf`; returns how many.
    pub fn poll_transmit(&mut self, buf: &mut Vec<u8>) -> usize {
        let n = if !self.parting.is_empty() {
            buf.extend_from_slice(&self.parting);
            core::mem::take(&mut self.parting).len()
        } else {
            match &mut self.session {
                Some(s) => s.poll_transmit(buf),
                None => 0,
            }
        };
        if n > 0 {
            self.fresh = false;
            let conn = self.sessions.saturating_sub(1);
            if let Some(j) = &mut self.journal {
                j.log_last(record::Event::Output {
                    conn,
                    bytes: buf[buf.len() - n..].to_vec(),
                });
            }
        }
        n
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<FailoverEvent> {
        self.events.pop_front()
    }

    /// The next deadline.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut next: Option<Instant> = None;
        let mut consider = |t: Option<Instant>| earlier(&mut next, t);
        consider(self.session.as_ref().and_then(Session::poll_timeout));
        consider(self.queued.front().map(|q| q.3));
        match self.phase {
            Phase::ExpectRetry { at } if !self.config.endpoints.is_empty() => consider(Some(at)),
            Phase::ExpectTransport { deadline, .. } | Phase::Leaving { deadline, .. } => {
                consider(Some(deadline))
            }
            Phase::Up => {
                consider(self.stable_at);
                consider(self.keepalive.map(|k| k.1));
                consider(self.next_keepalive);
                consider(self.next_probe);
                consider(self.probe_deadline);
            }
            _ => {}
        }
        next
    }

    // --- commands ---

    /// Start `command` on the current association, or on the next one if none is up (see the
    /// [`Failover`] docs); its result arrives as [`SessionEvent::Done`] with the returned id.
    pub fn command(&mut self, now: Instant, command: Command) -> OpId {
        let id = OpId(self.next_op);
        if self.journal.is_some() {
            let c = command.clone();
            self.log(now, |_| {
                record::Event::Failover(FailoverInput::Command {
                    command: c,
                    op: id.0,
                })
            });
        }
        self.fresh = false;
        self.next_op += 1;
        if matches!(self.phase, Phase::Closing | Phase::Closed) {
            self.done(id, Err(Error::Closed(None)));
            return id;
        }
        let (command, remember) = self.translate(command);
        if matches!(self.phase, Phase::Up) {
            self.issue(now, command, Op::App { id, remember });
            self.drain_session(now);
        } else if self.queued.len() >= self.config.max_queued {
            self.done(id, Err(Error::Closed(self.last_cause.clone())));
        } else {
            let deadline = now + self.config.queue_timeout;
            self.queued.push_back((id, command, remember, deadline));
        }
        id
    }

    // --- critical reports ---

    /// Acknowledge the critical report of `transfer_set` stamped `timestamp`
    /// (`Transfer_Report_ACK`) on the current association. `transfer_set` is the name the report
    /// carried, or the name the application first got, which is mapped to the one the transfer
    /// set has now ([`Self::current_transfer_set`]). Only needed with auto-acknowledgement off
    /// ([`Self::set_auto_ack`], [`SessionConfig::auto_ack`]); a report is acknowledged on the
    /// association it came on, so with none up this fails with [`Error::Closed`] (the server
    /// takes an unacknowledged critical report as undelivered).
    pub fn ack(
        &mut self,
        now: Instant,
        transfer_set: &ObjectName,
        timestamp: i32,
    ) -> Result<(), Error> {
        self.log(now, |_| {
            record::Event::Failover(FailoverInput::Ack {
                transfer_set: transfer_set.clone(),
                timestamp,
            })
        });
        let name = self.current_name(transfer_set);
        let r = self.up_session()?.ack(&name, timestamp);
        self.drain_session(now);
        r
    }

    /// Refuse the critical report of `transfer_set` (`Transfer_Report_NACK`); the names and
    /// the failure as for [`Self::ack`].
    pub fn nack(&mut self, now: Instant, transfer_set: &ObjectName) -> Result<(), Error> {
        self.log(now, |_| {
            record::Event::Failover(FailoverInput::Nack {
                transfer_set: transfer_set.clone(),
            })
        });
        let name = self.current_name(transfer_set);
        let r = self.up_session()?.nack(&name);
        self.drain_session(now);
        r
    }

    /// Acknowledge critical reports inside the session (on, the default of
    /// [`SessionConfig::auto_ack`]), or leave it to the application ([`Self::ack`],
    /// [`Self::nack`]): for the current association and every later one.
    pub fn set_auto_ack(&mut self, now: Instant, on: bool) {
        self.log(now, |_| record::Event::Failover(FailoverInput::AutoAck(on)));
        self.auto_ack = on;
        if let Some(s) = &mut self.session {
            s.set_auto_ack(on);
        }
    }

    /// Whether critical reports are acknowledged inside the session ([`Self::set_auto_ack`]).
    pub fn auto_ack(&self) -> bool {
        self.auto_ack
    }

    /// `name` as the current association knows it: a restored transfer set's new name, else
    /// `name` itself.
    fn current_name(&self, name: &ObjectName) -> ObjectName {
        self.current_transfer_set(name).unwrap_or(name).clone()
    }

    /// The session, unless none is associated (connecting, associating, or gone).
    fn up_session(&mut self) -> Result<&mut Session, Error> {
        let up = matches!(self.phase, Phase::Up | Phase::Leaving { .. });
        match &mut self.session {
            Some(s) if up && !s.is_closed() => Ok(s),
            _ => Err(Error::Closed(self.last_cause.clone())),
        }
    }

    /// End the link: release the current association (the application should stop its
    /// transfer sets and delete its data sets first) and connect no more.
    /// [`SessionEvent::Closed`] confirms it.
    pub fn conclude(&mut self, now: Instant) {
        self.log(now, |_| record::Event::Failover(FailoverInput::Conclude));
        self.end(now, false);
    }

    /// End the link at once: abort the current association and connect no more.
    pub fn abort(&mut self, now: Instant) {
        self.log(now, |_| record::Event::Failover(FailoverInput::Abort));
        self.end(now, true);
    }

    fn end(&mut self, now: Instant, abort: bool) {
        if matches!(self.phase, Phase::Closing | Phase::Closed) {
            return;
        }
        let had_transport = matches!(self.phase, Phase::ExpectTransport { .. });
        self.phase = Phase::Closing;
        for (id, _, _, _) in core::mem::take(&mut self.queued) {
            self.done(id, Err(Error::Closed(None)));
        }
        match &mut self.session {
            Some(s) => {
                if abort || !s.is_established() || s.conclude(now).is_err() {
                    s.abort(now);
                }
            }
            None => {
                if had_transport {
                    self.actions.push_back(FailoverAction::Disconnect);
                }
                self.phase = Phase::Closed;
                self.events
                    .push_back(FailoverEvent::Session(SessionEvent::Closed(None)));
            }
        }
        self.drain_session(now);
    }

    // --- the policy ---

    fn connect_next(&mut self, now: Instant) {
        let n = self.config.endpoints.len();
        let endpoint = self.next_endpoint % n;
        self.phase = Phase::ExpectTransport {
            endpoint,
            deadline: now + self.config.connect_timeout,
        };
        self.endpoint = endpoint;
        self.actions.push_back(FailoverAction::Connect { endpoint });
        self.events.push_back(FailoverEvent::Connecting {
            endpoint,
            round: self.round,
        });
    }

    /// The attempt on `self.endpoint` failed: the next endpoint of the round, or a backoff.
    fn attempt_failed(&mut self, now: Instant) {
        let n = self.config.endpoints.len();
        self.tried += 1;
        if self.tried < n {
            self.next_endpoint = (self.endpoint + 1) % n;
            self.connect_next(now);
            return;
        }
        self.tried = 0;
        self.round = self.round.saturating_add(1);
        self.next_endpoint = 0;
        let delay = self.config.backoff.draw(self.round, &mut self.rng);
        self.phase = Phase::ExpectRetry { at: now + delay };
        self.events.push_back(FailoverEvent::Waiting {
            round: self.round,
            delay,
        });
    }

    /// Send `command` on the current session and track it.
    fn issue(&mut self, now: Instant, command: Command, op: Op) -> Option<OpId> {
        let s = self.session.as_mut()?;
        let sop = s.command(now, command);
        self.ops.insert(sop, op);
        Some(sop)
    }

    fn done(&mut self, op: OpId, result: Result<Outcome, Error>) {
        self.events
            .push_back(FailoverEvent::Session(SessionEvent::Done { op, result }));
    }

    /// The command to send for the application's, and what to remember if it succeeds.
    fn translate(&self, command: Command) -> (Command, Remember) {
        let original_of = |ts: &ObjectName| {
            self.setup
                .transfer_sets
                .iter()
                .find(|t| t.original == *ts || t.current.as_ref() == Some(ts))
        };
        match command {
            Command::Version => (Command::Version, Remember::Version),
            Command::DefineDataSet { name, members } => {
                let r = Remember::DataSet(name.clone(), members.clone());
                (Command::DefineDataSet { name, members }, r)
            }
            Command::DeleteDataSet { name } => {
                let r = Remember::ForgetDataSet(name.clone());
                (Command::DeleteDataSet { name }, r)
            }
            Command::StartTransferSet {
                transfer_set,
                value,
            } => {
                let (original, sent) = match original_of(&transfer_set) {
                    Some(t) => (
                        t.original.clone(),
                        t.current.clone().unwrap_or(transfer_set),
                    ),
                    None => (transfer_set.clone(), transfer_set),
                };
                let r = Remember::Start {
                    original,
                    sent: sent.clone(),
                    value: value.clone(),
                };
                (
                    Command::StartTransferSet {
                        transfer_set: sent,
                        value,
                    },
                    r,
                )
            }
            Command::ReserveAndStart { domain, value } => {
                let r = Remember::ReserveAndStart(value.clone());
                (Command::ReserveAndStart { domain, value }, r)
            }
            Command::StopTransferSet { transfer_set } => match original_of(&transfer_set) {
                Some(t) => (
                    Command::StopTransferSet {
                        transfer_set: t.current.clone().unwrap_or(transfer_set),
                    },
                    Remember::Stop(t.original.clone()),
                ),
                None => (Command::StopTransferSet { transfer_set }, Remember::Nothing),
            },
            Command::ReadTransferSet { transfer_set } => {
                let sent = original_of(&transfer_set)
                    .and_then(|t| t.current.clone())
                    .unwrap_or(transfer_set);
                (
                    Command::ReadTransferSet { transfer_set: sent },
                    Remember::Nothing,
                )
            }
            Command::InfoMessages { enable } => {
                (Command::InfoMessages { enable }, Remember::Info(enable))
            }
            c => (c, Remember::Nothing),
        }
    }

    fn remembered(&self) -> usize {
        self.setup.data_sets.len() + self.setup.transfer_sets.len()
    }

    /// An application command succeeded: remember what it set up.
    fn remember(&mut self, remember: Remember, outcome: &Outcome) {
        let full = self.remembered() >= self.config.max_remembered;
        match remember {
            Remember::Nothing => {}
            Remember::Version => self.setup.version = true,
            Remember::DataSet(name, members) => {
                if let Some(d) = self.setup.data_sets.iter_mut().find(|d| d.0 == name) {
                    d.1 = members;
                } else if full {
                    self.events.push_back(FailoverEvent::NotRemembered(name));
                } else {
                    self.setup.data_sets.push((name, members));
                }
            }
            Remember::ForgetDataSet(name) => self.setup.data_sets.retain(|d| d.0 != name),
            Remember::Start {
                original,
                sent,
                value,
            } => {
                if let Some(t) = self
                    .setup
                    .transfer_sets
                    .iter_mut()
                    .find(|t| t.original == original)
                {
                    t.current = Some(sent);
                    t.value = value;
                } else if full {
                    self.events
                        .push_back(FailoverEvent::NotRemembered(original));
                } else {
                    self.setup.transfer_sets.push(RememberedSet {
                        original,
                        current: Some(sent),
                        value,
                    });
                }
            }
            Remember::ReserveAndStart(value) => {
                if let Outcome::TransferSet(name) = outcome {
                    if full {
                        self.events
                            .push_back(FailoverEvent::NotRemembered(name.clone()));
                    } else {
                        self.setup.transfer_sets.push(RememberedSet {
                            original: name.clone(),
                            current: Some(name.clone()),
                            value,
                        });
                    }
                }
            }
            Remember::Stop(original) => self.setup.transfer_sets.retain(|t| t.original != original),
            Remember::Info(on) => self.setup.info = on,
        }
    }

    /// The association is up: restore (after a loss), then send what waited.
    fn associated(&mut self, now: Instant) {
        self.phase = Phase::Up;
        self.events.push_back(FailoverEvent::Up {
            endpoint: self.endpoint,
        });
        self.stable_at = Some(now + self.config.stable_after);
        self.next_keepalive = self.config.keepalive.map(|k| now + k.interval);
        self.keepalive = None;
        if let Some(lost_at) = self.lost_at {
            self.restoring = Some(Restoring {
                pending: 0,
                lost_at,
                data_sets: Vec::new(),
                transfer_sets: Vec::new(),
                failed: Vec::new(),
            });
            let mut n = 0;
            for (command, op) in self.restoration() {
                n += usize::from(self.issue(now, command, Op::Restore(op)).is_some());
            }
            if let Some(r) = &mut self.restoring {
                r.pending = n;
            }
            self.restore_step(now);
        } else {
            self.arm_probe(now);
        }
        for (id, command, remember, _) in core::mem::take(&mut self.queued) {
            self.issue(now, command, Op::App { id, remember });
        }
    }

    /// The commands that bring back what the application set up, in order, each with what its
    /// result restores. Transfer sets are forgotten as running: the new association has none yet.
    fn restoration(&mut self) -> Vec<(Command, RestoreOp)> {
        let setup = &mut self.setup;
        let mut out = Vec::new();
        if setup.version {
            out.push((Command::Version, RestoreOp::Ignore));
        }
        for (name, members) in &setup.data_sets {
            let delete = Command::DeleteDataSet { name: name.clone() };
            out.push((delete, RestoreOp::Ignore));
            let define = Command::DefineDataSet {
                name: name.clone(),
                members: members.clone(),
            };
            out.push((define, RestoreOp::Define(name.clone())));
        }
        for t in &mut setup.transfer_sets {
            t.current = None;
            let domain = match &t.original {
                ObjectName::DomainSpecific { domain, .. } => domain.clone(),
                _ => String::new(),
            };
            let start = Command::ReserveAndStart {
                domain,
                value: t.value.clone(),
            };
            out.push((start, RestoreOp::Start(t.original.clone())));
        }
        if setup.info {
            out.push((Command::InfoMessages { enable: true }, RestoreOp::Info));
        }
        out
    }

    /// Finish restoration when nothing is pending.
    fn restore_step(&mut self, now: Instant) {
        let Some(r) = self.restoring.take_if(|r| r.pending == 0) else {
            return;
        };
        self.lost_at = None;
        self.events.push_back(FailoverEvent::Restored {
            endpoint: self.endpoint,
            gap: now.saturating_duration_since(r.lost_at),
            data_sets: r.data_sets,
            transfer_sets: r.transfer_sets,
            failed: r.failed,
        });
        self.arm_probe(now);
    }

    fn arm_probe(&mut self, now: Instant) {
        self.next_probe = match self.config.fail_back {
            Some(d) if self.endpoint != 0 => Some(now + d),
            _ => None,
        };
    }

    fn restored(&mut self, now: Instant, op: RestoreOp, result: Result<Outcome, Error>) {
        let Some(r) = &mut self.restoring else {
            return;
        };
        r.pending = r.pending.saturating_sub(1);
        match (op, result) {
            (RestoreOp::Ignore, _) => {}
            (RestoreOp::Define(name), Ok(_)) => r.data_sets.push(name),
            (RestoreOp::Define(name), Err(e)) => r.failed.push((name, e)),
            (RestoreOp::Start(original), Ok(Outcome::TransferSet(new))) => {
                r.transfer_sets.push((original.clone(), new.clone()));
                let mut refresh = None;
                if let Some(t) = self
                    .setup
                    .transfer_sets
                    .iter_mut()
                    .find(|t| t.original == original)
                {
                    t.current = Some(new.clone());
                    let ds = t.value.data_set.clone();
                    // The members as the application defined them, else as the server gave them.
                    let members = match self.setup.data_sets.iter().find(|(n, _)| *n == ds) {
                        Some((_, members)) => Some(members.as_slice()),
                        None => self.session.as_ref().and_then(|s| s.data_set(&ds)),
                    };
                    if let Some(members) = members {
                        let mut names = Vec::new();
                        for m in members {
                            if !is_report_variable(m) {
                                names.push(m.clone());
                            }
                        }
                        refresh = Some((ds, names));
                    }
                }
                if let Some((data_set, names)) = refresh.filter(|(_, n)| !n.is_empty()) {
                    let c = Command::ReadPoints {
                        names: names.clone(),
                    };
                    let op = RestoreOp::Refresh {
                        transfer_set: new,
                        data_set,
                        names,
                    };
                    if self.issue(now, c, Op::Restore(op)).is_some() {
                        if let Some(r) = &mut self.restoring {
                            r.pending += 1;
                        }
                    }
                }
            }
            (RestoreOp::Start(original), Ok(_)) => {
                r.failed.push((original, Error::UnexpectedResponse));
            }
            (RestoreOp::Start(original), Err(e)) => r.failed.push((original, e)),
            (RestoreOp::Info, Ok(_)) => {}
            (RestoreOp::Info, Err(e)) => r.failed.push((
                ObjectName::AaSpecific(crate::tase2::info::IM_TRANSFER_SET.into()),
                e,
            )),
            (
                RestoreOp::Refresh {
                    transfer_set,
                    data_set,
                    names,
                },
                Ok(Outcome::Points(points)),
            ) => {
                let s = self.session.as_ref();
                let mut values = Vec::new();
                for (n, p) in names.into_iter().zip(points) {
                    if let (Ok(v), Some(t)) = (p, s.and_then(|s| s.point_type(&n))) {
                        values.push((n, Reported::Point(t, v)));
                    }
                }
                self.events.push_back(FailoverEvent::Refreshed(TypedReport {
                    transfer_set: Some(transfer_set),
                    timestamp: None,
                    conditions: None,
                    event_code: None,
                    data_set: Some(data_set),
                    values,
                    acknowledged: false,
                }));
            }
            (RestoreOp::Refresh { data_set, .. }, Ok(_)) => {
                r.failed.push((data_set, Error::UnexpectedResponse));
            }
            (RestoreOp::Refresh { data_set, .. }, Err(e)) => r.failed.push((data_set, e)),
        }
        self.restore_step(now);
    }

    /// Fail back: clean up on the backup, then conclude; the primary is connected once the
    /// association is closed.
    fn leave(&mut self, now: Instant, to: usize) {
        self.events.push_back(FailoverEvent::FailingBack {
            from: self.endpoint,
            to,
        });
        self.phase = Phase::Leaving {
            to,
            deadline: now + self.config.leave_timeout,
            concluding: false,
        };
        self.next_probe = None;
        self.next_keepalive = None;
        self.keepalive = None;
        self.leaving_cause = Some(LossCause::FailBack);
        let mut cleanup = Vec::new();
        for t in &self.setup.transfer_sets {
            if let Some(transfer_set) = t.current.clone() {
                cleanup.push(Command::StopTransferSet { transfer_set });
            }
        }
        for d in &self.setup.data_sets {
            cleanup.push(Command::DeleteDataSet { name: d.0.clone() });
        }
        let mut n = 0;
        for c in cleanup {
            n += usize::from(self.issue(now, c, Op::Leave).is_some());
        }
        self.leave_pending = n;
        self.leave_step(now);
    }

    fn leave_step(&mut self, now: Instant) {
        let Phase::Leaving {
            to,
            deadline,
            concluding: false,
        } = self.phase
        else {
            return;
        };
        if self.leave_pending > 0 {
            return;
        }
        self.phase = Phase::Leaving {
            to,
            deadline,
            concluding: true,
        };
        if let Some(s) = &mut self.session {
            if s.conclude(now).is_err() {
                s.abort(now);
            }
        }
    }

    /// Take the current session's events.
    fn drain_session(&mut self, now: Instant) {
        loop {
            let Some(ev) = self.session.as_mut().and_then(Session::poll_event) else {
                return;
            };
            match ev {
                SessionEvent::Established(n) => {
                    self.events
                        .push_back(FailoverEvent::Session(SessionEvent::Established(n)));
                    if matches!(self.phase, Phase::ExpectAssociation) {
                        self.associated(now);
                    }
                }
                SessionEvent::Done { op, result } => match self.ops.remove(&op) {
                    // The association is going: what the link itself asked fails with it, and
                    // the loss, not these failures, is what happened.
                    Some(Op::Keepalive | Op::Restore(_) | Op::Leave)
                        if self.session.as_ref().is_some_and(Session::is_closed) => {}
                    Some(Op::App { id, remember }) => {
                        if let Ok(o) = &result {
                            self.remember(remember, o);
                        }
                        self.done(id, result);
                    }
                    Some(Op::Keepalive) => {
                        let dead = matches!(result, Err(Error::Request(RequestError::Timeout)));
                        if self.keepalive.is_some_and(|(k, _)| k == op) {
                            self.keepalive = None;
                        }
                        if dead && matches!(self.phase, Phase::Up) {
                            self.leaving_cause = Some(LossCause::NoAnswer);
                            if let Some(s) = &mut self.session {
                                s.abort(now);
                            }
                        }
                    }
                    Some(Op::Restore(r)) => self.restored(now, r, result),
                    Some(Op::Leave) => {
                        self.leave_pending = self.leave_pending.saturating_sub(1);
                        self.leave_step(now);
                    }
                    None => {}
                },
                SessionEvent::Closed(cause) => {
                    self.session_closed(now, cause);
                    return;
                }
                other => self.events.push_back(FailoverEvent::Session(other)),
            }
        }
    }

    fn session_closed(&mut self, now: Instant, cause: Option<AssocError>) {
        if let Some(mut s) = self.session.take() {
            if !self.transport_gone {
                while s.poll_transmit(&mut self.parting) > 0 {}
            }
        }
        self.ops = VecMap::new();
        self.restoring = None;
        self.keepalive = None;
        self.next_keepalive = None;
        self.next_probe = None;
        self.probe_deadline = None;
        let stable = self.stable_at.take().is_none();
        if cause.is_some() {
            self.last_cause = cause.clone();
        }
        self.actions.push_back(FailoverAction::Disconnect);
        let ours = self.leaving_cause.take();
        match self.phase {
            Phase::Closing | Phase::Closed => {
                self.phase = Phase::Closed;
                self.events
                    .push_back(FailoverEvent::Session(SessionEvent::Closed(cause)));
            }
            Phase::ExpectAssociation => {
                self.events.push_back(FailoverEvent::AttemptFailed {
                    endpoint: self.endpoint,
                    cause: AttemptError::Association(cause),
                });
                self.attempt_failed(now);
            }
            Phase::Leaving { to, .. } => {
                self.events.push_back(FailoverEvent::Lost {
                    endpoint: self.endpoint,
                    cause: LossCause::FailBack,
                });
                self.lost_at.get_or_insert(now);
                self.round = 0;
                self.tried = 0;
                self.next_endpoint = to;
                self.connect_next(now);
            }
            Phase::Up | Phase::ExpectRetry { .. } | Phase::ExpectTransport { .. } => {
                self.events.push_back(FailoverEvent::Lost {
                    endpoint: self.endpoint,
                    cause: ours.unwrap_or(LossCause::Closed(cause)),
                });
                self.lost_at.get_or_insert(now);
                if stable {
                    self.round = 0;
                    self.tried = 0;
                    self.next_endpoint = (self.endpoint + 1) % self.config.endpoints.len().max(1);
                    self.connect_next(now);
                } else {
                    self.attempt_failed(now);
                }
            }
        }
    }
}

/// `next` moved to `t` if `t` is earlier (or `next` is unset). Out of line: inlined, the
/// comparison was repeated for every deadline `poll_timeout` considers.
#[inline(never)]
fn earlier(next: &mut Option<Instant>, t: Option<Instant>) {
    if let Some(t) = t {
        *next = Some(next.map_or(t, |n| n.min(t)));
    }
}
