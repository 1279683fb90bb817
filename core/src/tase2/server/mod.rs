//! The TASE.2 server: an MMS [`Endpoint`] whose [`Hooks`] are [`Tase2`].
//!
//! Build one with [`Tase2Builder`]: points in VCC scope and in ICC domains, predefined data sets,
//! a pool of DS transfer sets per domain and the bilateral tables. The result is an
//! `Endpoint<Tase2>` that a driver runs like any endpoint; the application updates points with
//! [`Endpoint::update`] / [`Endpoint::update_many`], raises conditions with
//! [`Endpoint::operator_request`] / [`Endpoint::external_event`], and hears what clients did
//! through [`ServerEvent::Extension`](crate::server::ServerEvent::Extension) carrying a
//! [`Tase2Event`].
//!
//! ```
//! use tase2_core::server::ServerConfig;
//! use tase2_core::tase2::server::{Tase2Builder, Tase2Config};
//! use tase2_core::tase2::{BilateralTable, ClientMatch, Family, Form, PointType, PointValue, Rights};
//!
//! let mut b = Tase2Builder::new(Tase2Config::default());
//! b.domain("ICC1", 8);
//! let mw = b.point(
//!     Some("ICC1"),
//!     "Gen1_MW",
//!     PointType::Indication(Family::Real, Form::QTimeTag),
//!     PointValue::real(0.0),
//! );
//! b.data_set(Some("ICC1"), "DS_Grid", &["Transfer_Set_Name", "Gen1_MW"]);
//! b.table(
//!     BilateralTable::new("BLT_ICC1", ClientMatch::ap_title(&[1, 1, 1, 999], 12), "ICC1")
//!         .grant("Gen1_MW", Rights::READ),
//! );
//! let mut server = b.build(ServerConfig::default()).unwrap();
//! let now = tase2_core::Instant::virtual_at(core::time::Duration::ZERO, 1_700_000_000);
//! assert!(server.update(now, mw, PointValue::real(412.5)));
//! assert_eq!(server.tase2().value(mw).unwrap().value, tase2_core::tase2::Value::Real(412.5));
//! ```
//!
//! Point updates cost work proportional to the transfer sets that contain the point (each point
//! keeps its subscribers), never a scan of the model or of the associations.

mod device;
mod info;
#[cfg(test)]
mod tests;
mod transfer;

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::time::Duration;

use super::bilateral::{BilateralTable, Unlisted};
use super::point::{PointType, PointValue, Timestamp};
use super::transfer_set::{object_name_type, DsTransferSetValue};
use super::{names, Edition, Features};
use crate::acse::{user_diagnostic, AssociateDiagnostic};
use crate::assoc::AssociateRequest;
use crate::ber::{ObjectIdentifier, Writer};
use crate::mms::{BitString, Data, DataAccessError, ObjectName, TypeDescription};
use crate::server::{
    ConnectionId, Ctx, Endpoint, Hooks, NamedVariableList, Outbox, ServerConfig, Variable, Vmd,
};
use crate::time::Instant;

pub use device::{
    ControlRefusal, DeviceId, DeviceSpec, DeviceState, OperateId, OperatePolicy, TagError,
};
pub use info::{InfoDelivery, InfoError};
pub use transfer::TransferSetId;
use transfer::{Member, Subs, TransferSet};

/// A point of the model, as returned by [`Tase2Builder::point`].
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct PointId(pub u32);

/// TASE.2 server settings.
#[derive(Clone, Debug)]
pub struct Tase2Config {
    /// The edition served (`TASE2_Version`, transfer set layout).
    pub edition: Edition,
    /// Our AP-title: a client that calls another one is refused (called-AP-title-not-recognized).
    /// `None` accepts any called AP-title.
    pub local_ap_title: Option<ObjectIdentifier>,
    /// What happens to a client no bilateral table names.
    pub unlisted: Unlisted,
    /// How long a critical report waits for `Transfer_Report_ACK` before the application hears
    /// [`Tase2Event::AckTimeout`].
    pub ack_timeout: Duration,
    /// Most changes a transfer set with AllChangesReported holds between reports; beyond it the
    /// oldest are dropped and [`Tase2Event::ChangesDropped`] says so.
    pub max_buffered_changes: usize,
    /// How long a select (read of `<Device>_SBO`) keeps a device armed.
    pub select_timeout: Duration,
    /// Who decides whether an operate succeeds.
    pub operate: OperatePolicy,
}

impl Default for Tase2Config {
    fn default() -> Self {
        Tase2Config {
            edition: Edition::V2000_08,
            local_ap_title: None,
            unlisted: Unlisted::Refuse,
            ack_timeout: Duration::from_secs(30),
            max_buffered_changes: 10_000,
            select_timeout: Duration::from_secs(10),
            operate: OperatePolicy::default(),
        }
    }
}

/// What the TASE.2 server application hears (besides the MMS-level `ServerEvent`s).
#[derive(Clone, Debug, PartialEq)]
pub enum Tase2Event {
    /// A client associated under a bilateral table (`None`: VCC scope only).
    Bound {
        /// The association.
        id: ConnectionId,
        /// The table's `Bilateral_Table_ID`.
        table: Option<String>,
        /// The client's ICC domain.
        domain: Option<String>,
    },
    /// A client reserved a transfer set through `Next_DSTransfer_Set`.
    TransferSetReserved {
        /// The association.
        id: ConnectionId,
        /// The transfer set.
        name: ObjectName,
    },
    /// A client started (or reconfigured) a transfer set.
    TransferSetStarted {
        /// The association.
        id: ConnectionId,
        /// The transfer set.
        name: ObjectName,
        /// Its configuration.
        value: DsTransferSetValue,
    },
    /// A transfer set stopped (written Status false, or its association ended).
    TransferSetStopped {
        /// The association.
        id: ConnectionId,
        /// The transfer set.
        name: ObjectName,
    },
    /// A client wrote a point (already stored and reported).
    PointWritten {
        /// The association.
        id: ConnectionId,
        /// The point.
        point: PointId,
        /// The value.
        value: PointValue,
    },
    /// A critical report was acknowledged.
    ReportAcked {
        /// The association.
        id: ConnectionId,
        /// The transfer set.
        name: ObjectName,
        /// The report's `Transfer_Set_Time_Stamp`.
        timestamp: i32,
    },
    /// A critical report was refused by the client (`Transfer_Report_NACK`).
    ReportNacked {
        /// The association.
        id: ConnectionId,
        /// The transfer set.
        name: ObjectName,
    },
    /// No ACK came for a critical report within `Tase2Config::ack_timeout`.
    AckTimeout {
        /// The association.
        id: ConnectionId,
        /// The transfer set.
        name: ObjectName,
        /// The report's timestamp.
        timestamp: i32,
    },
    /// A report waited longer than the transfer set's TLE (behind an unacknowledged critical
    /// report) and was discarded.
    ReportExpired {
        /// The association.
        id: ConnectionId,
        /// The transfer set.
        name: ObjectName,
    },
    /// AllChangesReported overflowed `max_buffered_changes`: `count` oldest changes were dropped.
    ChangesDropped {
        /// The association.
        id: ConnectionId,
        /// The transfer set.
        name: ObjectName,
        /// How many.
        count: usize,
    },
    /// A single member value does not fit the negotiated PDU size: it was left out of a report.
    ReportMemberTooLarge {
        /// The association.
        id: ConnectionId,
        /// The transfer set.
        name: ObjectName,
    },
    /// An ACK/NACK or other unconfirmed PDU from a client that matched nothing.
    UnexpectedReport {
        /// The association.
        id: ConnectionId,
    },
    /// A client enabled or disabled information messages (`IM_Transfer_Set`).
    InfoMessagesEnabled {
        /// The association.
        id: ConnectionId,
        /// Enabled or disabled.
        enabled: bool,
    },
    /// An information message does not fit an association's negotiated PDU: it was not sent
    /// to it.
    InfoMessageTooLarge {
        /// The association.
        id: ConnectionId,
        /// The encoded report's size.
        size: usize,
        /// The association's negotiated maximum.
        max_pdu_size: usize,
    },
    /// A client selected a device (read `<Device>_SBO`); it is armed for the select timeout.
    Selected {
        /// The association.
        id: ConnectionId,
        /// The device.
        device: DeviceId,
        /// The CheckBackID answered.
        check_back_id: i16,
    },
    /// A select expired without an operate.
    SelectTimedOut {
        /// The association that selected.
        id: ConnectionId,
        /// The device.
        device: DeviceId,
    },
    /// A client operates a device and the rules allow it: answer with
    /// [`Endpoint::answer_operate`] (under [`OperatePolicy::AskApplication`]).
    OperateRequested {
        /// The association.
        id: ConnectionId,
        /// The handle to answer with.
        op: OperateId,
        /// The device.
        device: DeviceId,
        /// The value.
        value: crate::tase2::ControlValue,
    },
    /// An operate succeeded (the client's Write answered success).
    Operated {
        /// The association.
        id: ConnectionId,
        /// The device.
        device: DeviceId,
        /// The value.
        value: crate::tase2::ControlValue,
    },
    /// A select, operate or tag write was refused (the client got `reason.access_error()`).
    ControlRefused {
        /// The association.
        id: ConnectionId,
        /// The device.
        device: DeviceId,
        /// Why.
        reason: ControlRefusal,
    },
    /// A device's tag changed (`id` `None`: set locally with [`Endpoint::set_tag`]).
    TagChanged {
        /// The association that wrote it.
        id: Option<ConnectionId>,
        /// The device.
        device: DeviceId,
        /// The new tag.
        tag: crate::tase2::Tag,
    },
}

/// Why [`Tase2Builder::build`] refused a model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModelError {
    /// A name is not a valid MMS identifier (`[A-Za-z0-9_$]`, at most 32 characters).
    InvalidName(String),
    /// The same name twice in one scope.
    Duplicate(String),
    /// A data set member or a table's domain that does not exist.
    Unknown(String),
    /// A point type the edition does not have (QTimeTagExtended in 1996.08).
    EditionMismatch(String),
}

impl core::fmt::Display for ModelError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ModelError::InvalidName(n) => write!(f, "invalid MMS name {n:?}"),
            ModelError::Duplicate(n) => write!(f, "{n} defined twice"),
            ModelError::Unknown(n) => write!(f, "{n} does not exist"),
            ModelError::EditionMismatch(n) => write!(f, "{n}: type not in this edition"),
        }
    }
}

impl core::error::Error for ModelError {}

/// Whether `name` is a valid MMS identifier.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 32
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$')
        && !name.as_bytes()[0].is_ascii_digit()
}

/// What an update touches of a point, in one cache line (an update of a random point costs one
/// miss here); the name lives apart, in `Tase2::point_names`.
#[repr(align(64))]
pub(crate) struct PointEntry {
    pub(crate) ptype: PointType,
    pub(crate) value: PointValue,
    pub(crate) writable: bool,
    /// Where its variable specification as a report lists it (`SEQUENCE { name [0] ObjectName }`),
    /// encoded once when the point is added, lies in [`Tase2::specs`]: (offset, length).
    pub(crate) spec: (u32, u32),
    /// Transfer sets whose running data set contains this point: (transfer set, member index).
    pub(crate) subs: Subs,
}

#[derive(Default)]
struct DomainEntry {
    name: String,
    /// The transfer sets of this domain, in name order.
    pool: Vec<u32>,
}

#[derive(Default)]
struct ConnEntry {
    table: Option<usize>,
    domain: Option<u32>,
    /// `IM_Transfer_Set` of this association.
    im_enabled: bool,
}

/// Slot numbers: what a slotted MMS variable is.
#[derive(Clone, Copy, Debug)]
enum Slot {
    Point(u32),
    NextTransferSet(u32),
    TransferSet(u32),
    Device(u32),
    DeviceSbo(u32),
    DeviceTag(u32),
    ImTransferSet,
}

/// The TASE.2 state an `Endpoint<Tase2>` carries: points, transfer sets, bilateral tables.
pub struct Tase2 {
    config: Tase2Config,
    tables: Vec<BilateralTable>,
    points: Vec<PointEntry>,
    /// The name of every point, by point id.
    point_names: Vec<ObjectName>,
    point_index: BTreeMap<ObjectName, u32>,
    domains: Vec<DomainEntry>,
    domain_index: BTreeMap<String, u32>,
    slots: Vec<Slot>,
    conns: BTreeMap<ConnectionId, ConnEntry>,
    sets: Vec<TransferSet>,
    /// Associations accepted since the last `run`, to announce with [`Tase2Event::Bound`].
    bound: Vec<ConnectionId>,
    /// The encoded variable specifications of every point, back to back (see `PointEntry::spec`):
    /// a report copies them instead of encoding each name again.
    specs: Vec<u8>,
    /// Reusable encoding buffers for reports.
    scratch: transfer::Scratch,
    devices: device::Devices,
    info_buffers: info::Buffers,
}

impl core::fmt::Debug for Tase2 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Tase2")
            .field("edition", &self.config.edition)
            .field("points", &self.points.len())
            .field("domains", &self.domains.len())
            .field("transfer_sets", &self.sets.len())
            .field("associations", &self.conns.len())
            .finish()
    }
}

/// Builds a TASE.2 server model.
pub struct Tase2Builder {
    config: Tase2Config,
    vmd: Vmd,
    tase2: Tase2,
    errors: Vec<ModelError>,
}

fn type_of_special(item: &str) -> Option<TypeDescription> {
    Some(match item {
        names::TRANSFER_SET_NAME | names::TRANSFER_REPORT_ACK | names::TRANSFER_REPORT_NACK => {
            object_name_type()
        }
        names::TRANSFER_SET_TIME_STAMP => TypeDescription::Integer(32),
        names::DS_CONDITIONS_DETECTED => TypeDescription::BitString(5),
        names::EVENT_CODE_DETECTED => TypeDescription::Integer(16),
        _ => return None,
    })
}

impl Tase2Builder {
    /// An empty model with `TASE2_Version` and `Supported_Features` in VCC scope.
    pub fn new(config: Tase2Config) -> Self {
        let mut vmd = Vmd::default();
        let (major, minor) = config.edition.version();
        vmd.variables.insert(
            names::TASE2_VERSION.into(),
            Variable::read_only(
                TypeDescription::Structure {
                    packed: false,
                    components: alloc::vec![
                        crate::mms::StructComponent {
                            name: Some("MajorVersionNumber".into()),
                            type_spec: crate::mms::TypeSpecification::Description(
                                TypeDescription::Integer(16),
                            ),
                        },
                        crate::mms::StructComponent {
                            name: Some("MinorVersionNumber".into()),
                            type_spec: crate::mms::TypeSpecification::Description(
                                TypeDescription::Integer(16),
                            ),
                        },
                    ],
                },
                Data::Structure(alloc::vec![
                    Data::Integer(major.into()),
                    Data::Integer(minor.into())
                ]),
            ),
        );
        vmd.variables.insert(
            names::SUPPORTED_FEATURES.into(),
            Variable::read_only(
                TypeDescription::BitString(12),
                Data::BitString(BitString {
                    octets: Features::IMPLEMENTED.to_octets().to_vec(),
                    bits: 12,
                }),
            ),
        );
        let tase2 = Tase2 {
            config: config.clone(),
            tables: Vec::new(),
            points: Vec::new(),
            point_names: Vec::new(),
            point_index: BTreeMap::new(),
            domains: Vec::new(),
            domain_index: BTreeMap::new(),
            slots: Vec::new(),
            conns: BTreeMap::new(),
            sets: Vec::new(),
            bound: Vec::new(),
            specs: Vec::new(),
            scratch: transfer::Scratch::default(),
            devices: device::Devices::default(),
            info_buffers: info::Buffers::new(),
        };
        let mut b = Tase2Builder {
            config,
            vmd,
            tase2,
            errors: Vec::new(),
        };
        let im = b.slot(Slot::ImTransferSet);
        b.vmd.aa_variables.insert(
            crate::tase2::info::IM_TRANSFER_SET.into(),
            Variable::slotted(TypeDescription::Boolean, im, true),
        );
        b
    }

    /// The MMS identity (Identify response).
    pub fn identity(mut self, identity: crate::server::Identity) -> Self {
        self.vmd.identity = identity;
        self
    }

    fn check_name(&mut self, name: &str) -> bool {
        if valid_name(name) {
            true
        } else {
            self.errors.push(ModelError::InvalidName(name.into()));
            false
        }
    }

    /// The name of `name` in VCC scope or `domain` (which must exist).
    fn object_in(&mut self, domain: Option<&str>, name: &str) -> ObjectName {
        match domain {
            Some(d) => {
                if !self.tase2.domain_index.contains_key(d) {
                    self.errors.push(ModelError::Unknown(d.into()));
                }
                ObjectName::domain(d, name)
            }
            None => ObjectName::vmd(name),
        }
    }

    /// The variables of VCC scope or of `domain`.
    fn variables_in(&mut self, domain: Option<&str>) -> &mut BTreeMap<String, Variable> {
        match domain {
            Some(d) => &mut self.vmd.domain_mut(d).variables,
            None => &mut self.vmd.variables,
        }
    }

    /// Add `var` as `name` in VCC scope or `domain`; a name taken already is a model error.
    fn add_variable(&mut self, domain: Option<&str>, name: String, var: Variable) {
        if self
            .variables_in(domain)
            .insert(name.clone(), var)
            .is_some()
        {
            let object = match domain {
                Some(d) => ObjectName::domain(d, name),
                None => ObjectName::VmdSpecific(name),
            };
            self.errors
                .push(ModelError::Duplicate(alloc::format!("{object}")));
        }
    }

    fn slot(&mut self, s: Slot) -> u32 {
        self.tase2.slots.push(s);
        (self.tase2.slots.len() - 1) as u32
    }

    /// Add an ICC domain with `transfer_sets` DS transfer sets (`DSTransfer_Set_1`...) and the
    /// standard ICC objects. A bilateral table binds a client to it.
    pub fn domain(&mut self, name: &str, transfer_sets: usize) -> &mut Self {
        if !self.check_name(name) {
            return self;
        }
        if self.tase2.domain_index.contains_key(name) {
            self.errors.push(ModelError::Duplicate(name.into()));
            return self;
        }
        let di = self.tase2.domains.len() as u32;
        self.tase2.domain_index.insert(name.into(), di);
        self.tase2.domains.push(DomainEntry {
            name: name.into(),
            pool: Vec::new(),
        });
        let next = self.slot(Slot::NextTransferSet(di));
        let ts_type = DsTransferSetValue::type_description(self.config.edition);
        let mut pool = Vec::new();
        let mut vars = BTreeMap::new();
        vars.insert(
            names::NEXT_DS_TRANSFER_SET.to_string(),
            Variable::slotted(object_name_type(), next, false),
        );
        for special in [
            names::TRANSFER_SET_NAME,
            names::TRANSFER_SET_TIME_STAMP,
            names::DS_CONDITIONS_DETECTED,
            names::EVENT_CODE_DETECTED,
            names::TRANSFER_REPORT_ACK,
            names::TRANSFER_REPORT_NACK,
        ] {
            let t = type_of_special(special).unwrap_or(TypeDescription::Boolean);
            let v = t.default_value();
            vars.insert(special.to_string(), Variable::read_only(t, v));
        }
        for n in 1..=transfer_sets {
            let item = alloc::format!("{}{n}", names::DS_TRANSFER_SET_PREFIX);
            let ti = self.tase2.sets.len() as u32;
            self.tase2.sets.push(TransferSet::new(
                ObjectName::domain(name, item.as_str()),
                di,
            ));
            pool.push(ti);
            let s = self.slot(Slot::TransferSet(ti));
            vars.insert(item, Variable::slotted(ts_type.clone(), s, true));
        }
        self.tase2.domains[di as usize].pool = pool;
        let d = self.vmd.domain_mut(name);
        d.variables.extend(vars);
        self
    }

    /// Add a point: `domain` `None` for VCC scope. Returns its id for updates.
    pub fn point(
        &mut self,
        domain: Option<&str>,
        name: &str,
        ptype: PointType,
        initial: PointValue,
    ) -> PointId {
        self.add_point(domain, name, ptype, initial, false)
    }

    /// Add a point clients may write (given the bilateral table's write right).
    pub fn writable_point(
        &mut self,
        domain: Option<&str>,
        name: &str,
        ptype: PointType,
        initial: PointValue,
    ) -> PointId {
        self.add_point(domain, name, ptype, initial, true)
    }

    fn add_point(
        &mut self,
        domain: Option<&str>,
        name: &str,
        ptype: PointType,
        initial: PointValue,
        writable: bool,
    ) -> PointId {
        let id = PointId(self.tase2.points.len() as u32);
        self.check_name(name);
        if !ptype.exists_in(self.config.edition) {
            self.errors.push(ModelError::EditionMismatch(alloc::format!(
                "{name}: {}",
                ptype.name()
            )));
        }
        let object = self.object_in(domain, name);
        let slot = self.slot(Slot::Point(id.0));
        let var = Variable::slotted(ptype.type_description(), slot, writable);
        self.add_variable(domain, name.into(), var);
        self.tase2.point_index.insert(object.clone(), id.0);
        let specs = &mut self.tase2.specs;
        let at = specs.len();
        transfer::write_spec(&mut Writer::new(specs), &object);
        self.tase2.point_names.push(object);
        self.tase2.points.push(PointEntry {
            ptype,
            value: initial,
            writable,
            spec: (at as u32, (specs.len() - at) as u32),
            subs: Subs::default(),
        });
        id
    }

    /// Add a device (block 5): `<name>`, plus `<name>_SBO` for select-before-operate and
    /// `<name>_TAG` if tagged; `domain` `None` for VCC scope. Who may operate it is the bilateral
    /// tables' write right on `name`.
    pub fn device(&mut self, domain: Option<&str>, name: &str, spec: DeviceSpec) -> DeviceId {
        use crate::tase2::device::{Tag, SBO_SUFFIX, TAG_SUFFIX};
        // The longest derived name must be an MMS identifier too.
        self.check_name(&alloc::format!("{name}{SBO_SUFFIX}"));
        let object = self.object_in(domain, name);
        let id = self.tase2.devices.add(object.clone(), spec);
        let mut vars = alloc::vec![(
            name.to_string(),
            Variable::slotted(
                spec.kind.type_description(),
                self.slot(Slot::Device(id.0)),
                true
            ),
        )];
        if spec.mode == crate::tase2::ControlMode::Sbo {
            let s = self.slot(Slot::DeviceSbo(id.0));
            vars.push((
                alloc::format!("{name}{SBO_SUFFIX}"),
                Variable::slotted(TypeDescription::Integer(16), s, false),
            ));
        }
        if spec.tagged {
            let s = self.slot(Slot::DeviceTag(id.0));
            vars.push((
                alloc::format!("{name}{TAG_SUFFIX}"),
                Variable::slotted(Tag::type_description(), s, true),
            ));
        }
        for (n, v) in vars {
            self.add_variable(domain, n, v);
        }
        id
    }

    /// Add an information message buffer `Info_Buff_<size>` (and `Info_Mess_Header`, once) in
    /// VCC scope (`domain` `None`) or an ICC domain (block 4). Messages up to `size` octets
    /// travel in it.
    pub fn info_buffer(&mut self, domain: Option<&str>, size: usize) -> &mut Self {
        use crate::tase2::info::{InfoHeader, INFO_BUFF_PREFIX, INFO_MESS_HEADER};
        let di = match domain {
            Some(d) => match self.tase2.domain_index.get(d) {
                Some(&i) => Some(i),
                None => {
                    self.errors.push(ModelError::Unknown(d.into()));
                    return self;
                }
            },
            None => None,
        };
        if size == 0 || size > i32::MAX as usize {
            self.errors.push(ModelError::InvalidName(alloc::format!(
                "{INFO_BUFF_PREFIX}{size}"
            )));
            return self;
        }
        let sizes = self.tase2.info_buffers.entry(di).or_default();
        if sizes.contains(&size) {
            self.errors.push(ModelError::Duplicate(alloc::format!(
                "{INFO_BUFF_PREFIX}{size}"
            )));
            return self;
        }
        sizes.push(size);
        sizes.sort_unstable();
        let vars = self.variables_in(domain);
        vars.entry(INFO_MESS_HEADER.into()).or_insert_with(|| {
            let t = InfoHeader::type_description();
            let v = t.default_value();
            Variable::read_only(t, v)
        });
        vars.insert(
            alloc::format!("{INFO_BUFF_PREFIX}{size}"),
            Variable::read_only(
                TypeDescription::OctetString(-(size as i32)),
                Data::OctetString(Vec::new()),
            ),
        );
        self
    }

    /// Add a plain MMS variable (neither point nor TASE.2 object), e.g. a configuration value.
    pub fn variable(&mut self, domain: Option<&str>, name: &str, variable: Variable) -> &mut Self {
        if self.check_name(name) {
            // Replacing is allowed here: a plain variable may override a default object.
            self.variables_in(domain).insert(name.into(), variable);
        }
        self
    }

    /// Add a predefined data set (not deletable by clients). Members are item names in the same
    /// domain, or `/Name` for a VCC object.
    pub fn data_set(&mut self, domain: Option<&str>, name: &str, members: &[&str]) -> &mut Self {
        if !self.check_name(name) {
            return self;
        }
        let mut list = Vec::new();
        for m in members {
            let object = match (m.strip_prefix('/'), domain) {
                (Some(v), _) => ObjectName::vmd(v),
                (None, None) => ObjectName::vmd(*m),
                (None, Some(d)) => ObjectName::domain(d, *m),
            };
            if self.vmd.variable(&object).is_none() {
                self.errors
                    .push(ModelError::Unknown(alloc::format!("{object}")));
            }
            list.push(object);
        }
        let nvl = NamedVariableList {
            members: list,
            deletable: false,
        };
        let lists = match domain {
            Some(d) => &mut self.vmd.domain_mut(d).lists,
            None => &mut self.vmd.lists,
        };
        if lists.insert(name.into(), nvl).is_some() {
            self.errors.push(ModelError::Duplicate(name.into()));
        }
        self
    }

    /// Add a bilateral table (its domain must exist; `Bilateral_Table_ID` is set in it).
    pub fn table(&mut self, table: BilateralTable) -> &mut Self {
        match self.vmd.domains.get_mut(&table.domain) {
            Some(d) => {
                d.variables.insert(
                    names::BILATERAL_TABLE_ID.into(),
                    Variable::read_only(
                        TypeDescription::VisibleString(32),
                        Data::VisibleString(table.id.clone()),
                    ),
                );
            }
            None => self.errors.push(ModelError::Unknown(table.domain.clone())),
        }
        self.tase2.tables.push(table);
        self
    }

    /// The id of a point added before, by name.
    pub fn point_id(&self, name: &ObjectName) -> Option<PointId> {
        self.tase2.point_index.get(name).map(|&i| PointId(i))
    }

    /// The server endpoint (the first model error, if any).
    pub fn build(self, config: ServerConfig) -> Result<Endpoint<Tase2>, ModelError> {
        if let Some(e) = self.errors.into_iter().next() {
            return Err(e);
        }
        Ok(Endpoint::with_hooks(config, self.vmd, self.tase2))
    }
}

impl Tase2 {
    /// The configuration.
    pub fn config(&self) -> &Tase2Config {
        &self.config
    }

    fn conn_domain(&self, id: ConnectionId) -> Option<u32> {
        self.conns.get(&id)?.domain
    }

    fn table_of(&self, id: ConnectionId) -> Option<&BilateralTable> {
        self.tables.get(self.conns.get(&id)?.table?)
    }

    fn rights(&self, id: ConnectionId, name: &ObjectName) -> super::Rights {
        let Some(t) = self.table_of(id) else {
            // VCC-only clients read VCC objects.
            return super::Rights::READ;
        };
        // `<Device>_SBO` and `<Device>_TAG` carry their device's rights.
        match name {
            ObjectName::VmdSpecific(n) => t.rights_on(true, self.devices.device_item(n)),
            ObjectName::DomainSpecific { item: n, .. } => {
                t.rights_on(false, self.devices.device_item(n))
            }
            ObjectName::AaSpecific(_) => super::Rights::READ_WRITE,
        }
    }

    /// Whether `name` is a `<Device>_SBO`: reading it selects, which needs the write right.
    fn is_select(&self, name: &ObjectName) -> bool {
        match name {
            ObjectName::VmdSpecific(n) | ObjectName::DomainSpecific { item: n, .. } => {
                self.devices.base_of(n).is_some_and(|(_, sbo)| sbo)
            }
            ObjectName::AaSpecific(_) => false,
        }
    }

    /// Number of points.
    pub fn point_count(&self) -> usize {
        self.points.len()
    }

    /// A point's current value.
    pub fn value(&self, point: PointId) -> Option<&PointValue> {
        self.points.get(point.0 as usize).map(|p| &p.value)
    }

    /// A point's type.
    pub fn point_type(&self, point: PointId) -> Option<PointType> {
        self.points.get(point.0 as usize).map(|p| p.ptype)
    }

    /// A point's name.
    pub fn point_name(&self, point: PointId) -> Option<&ObjectName> {
        self.point_names.get(point.0 as usize)
    }

    /// The id of the point `name`.
    pub fn point_id(&self, name: &ObjectName) -> Option<PointId> {
        self.point_index.get(name).map(|&i| PointId(i))
    }

    /// Every point.
    pub fn points(&self) -> impl Iterator<Item = (PointId, &ObjectName, PointType)> + '_ {
        self.points
            .iter()
            .enumerate()
            .zip(&self.point_names)
            .map(|((i, p), name)| (PointId(i as u32), name, p.ptype))
    }

    /// The value of transfer set `name` (owner, configuration).
    pub fn transfer_set(
        &self,
        name: &ObjectName,
    ) -> Option<(Option<ConnectionId>, &DsTransferSetValue)> {
        self.sets
            .iter()
            .find(|t| &t.name == name)
            .map(|t| (t.owner, &t.value))
    }

    /// Store `value` for `point` (COV kept by the server, timestamp from `now` if zero) and queue
    /// it for every transfer set that reports it.
    fn set_point(&mut self, now: Instant, point: PointId, mut value: PointValue) -> bool {
        let Some(p) = self.points.get_mut(point.0 as usize) else {
            return false;
        };
        if value.timestamp == Timestamp::default() {
            value.timestamp = Timestamp::from_utc_micros(now.utc_micros());
        }
        let changed = value.value != p.value.value || value.wire_flags() != p.value.wire_flags();
        value.cov = if changed {
            p.value.cov.wrapping_add(1)
        } else {
            p.value.cov
        };
        p.value = value;
        // Object change means the value or its quality changed: a fresh timestamp on the same
        // value is stored (and read) but not reported by exception.
        if !changed {
            return true;
        }
        for (ts, member) in p.subs.iter() {
            transfer::note_change(
                &mut self.sets[ts as usize],
                &self.config,
                now,
                member,
                &value,
            );
        }
        true
    }
}

impl Endpoint<Tase2> {
    /// Update one point and send the reports that are due at once (BufferTime 0). Only a change
    /// of value or flags counts as an object change (and increments the COV of Extended points);
    /// a timestamp of zero is replaced by `now`.
    pub fn update(&mut self, now: Instant, point: PointId, value: PointValue) -> bool {
        let ok = self.hooks_mut().set_point(now, point, value);
        self.run_hooks(now);
        ok
    }

    /// Update many points; reports go out once, after the whole batch.
    pub fn update_many(
        &mut self,
        now: Instant,
        updates: impl IntoIterator<Item = (PointId, PointValue)>,
    ) -> usize {
        let h = self.hooks_mut();
        let n = updates
            .into_iter()
            .filter(|(p, v)| h.set_point(now, *p, *v))
            .count();
        self.run_hooks(now);
        n
    }

    /// Raise the operator-request condition on the running transfer sets of `domain` (all
    /// domains if `None`) that requested it.
    pub fn operator_request(&mut self, now: Instant, domain: Option<&str>) {
        self.raise(now, domain, super::DsConditions::OPERATOR_REQUEST, 0);
    }

    /// Raise the other-external-event condition with `event_code` on the running transfer sets of
    /// `domain` (all if `None`) that requested it and whose EventCodeRequested is 0 or this code.
    pub fn external_event(&mut self, now: Instant, domain: Option<&str>, event_code: i16) {
        self.raise(now, domain, super::DsConditions::EXTERNAL_EVENT, event_code);
    }

    fn raise(
        &mut self,
        now: Instant,
        domain: Option<&str>,
        condition: super::DsConditions,
        code: i16,
    ) {
        let h = self.hooks_mut();
        let di = domain.map(|d| h.domain_index.get(d).copied());
        if di == Some(None) {
            return;
        }
        let di = di.flatten();
        for ts in &mut h.sets {
            if di.is_none_or(|d| d == ts.domain) {
                transfer::raise(ts, now, condition, code);
            }
        }
        self.run_hooks(now);
    }

    /// The TASE.2 state (points, transfer sets).
    pub fn tase2(&self) -> &Tase2 {
        self.hooks()
    }
}

impl Hooks for Tase2 {
    type Event = Tase2Event;

    fn associate(
        &mut self,
        id: ConnectionId,
        req: &AssociateRequest,
    ) -> Result<(), AssociateDiagnostic> {
        if let (Some(ours), Some(called)) = (&self.config.local_ap_title, &req.called.ap_title) {
            if ours != called {
                return Err(AssociateDiagnostic::User(
                    user_diagnostic::CALLED_AP_TITLE_NOT_RECOGNIZED,
                ));
            }
        }
        let table = self.tables.iter().position(|t| t.client.matches(req));
        if table.is_none() && self.config.unlisted == Unlisted::Refuse {
            return Err(AssociateDiagnostic::User(
                user_diagnostic::CALLING_AP_TITLE_NOT_RECOGNIZED,
            ));
        }
        let domain = table.and_then(|t| self.domain_index.get(&self.tables[t].domain).copied());
        self.conns.insert(
            id,
            ConnEntry {
                table,
                domain,
                im_enabled: false,
            },
        );
        self.bound.push(id);
        Ok(())
    }

    fn closed(&mut self, out: &mut Outbox<'_, Tase2Event>, id: ConnectionId) {
        self.conns.remove(&id);
        self.devices.closed(id);
        let Tase2 { sets, points, .. } = self;
        for (i, ts) in sets.iter_mut().enumerate() {
            if ts.owner == Some(id) {
                if ts.run.is_some() {
                    out.emit(Tase2Event::TransferSetStopped {
                        id,
                        name: ts.name.clone(),
                    });
                }
                transfer::stop(ts, i as u32, points);
                ts.owner = None;
                ts.value = DsTransferSetValue::default();
            }
        }
    }

    fn domain_visible(&self, id: ConnectionId, domain: &str) -> bool {
        let Some(d) = self.conn_domain(id) else {
            return false;
        };
        self.domains[d as usize].name == domain
    }

    fn visible(&self, id: ConnectionId, name: &ObjectName) -> bool {
        // A name the table grants nothing on does not exist for this client.
        let r = self.rights(id, name);
        r.read
            || r.write
            || matches!(name, ObjectName::AaSpecific(_))
            || self.is_transfer_object(name)
    }

    fn may_read(&self, id: ConnectionId, name: &ObjectName) -> bool {
        if self.is_select(name) {
            return self.rights(id, name).write;
        }
        self.rights(id, name).read || self.is_transfer_object(name)
    }

    fn may_write(&self, id: ConnectionId, name: &ObjectName) -> bool {
        // Transfer sets are the owner's to write; the write hook checks that.
        self.is_transfer_object(name) || self.rights(id, name).write
    }

    fn may_define_list(&self, id: ConnectionId, name: &ObjectName) -> bool {
        match name {
            ObjectName::DomainSpecific { domain, .. } => self.domain_visible(id, domain),
            ObjectName::AaSpecific(_) => true,
            // VCC-scope data sets are the server's to define.
            ObjectName::VmdSpecific(_) => false,
        }
    }

    fn may_delete_list(&self, _id: ConnectionId, name: &ObjectName) -> bool {
        !self
            .sets
            .iter()
            .any(|t| t.run.as_ref().is_some_and(|r| r.list() == name))
    }

    fn read(
        &mut self,
        ctx: &mut Ctx<'_, Tase2Event>,
        _name: &ObjectName,
        slot: u32,
        w: &mut Writer<'_>,
    ) -> Result<(), DataAccessError> {
        match self.slots.get(slot as usize).copied() {
            Some(Slot::Point(p)) => {
                let p = &self.points[p as usize];
                p.ptype.encode(&p.value, w);
                Ok(())
            }
            Some(Slot::NextTransferSet(d)) => {
                let free = self.domains[d as usize]
                    .pool
                    .iter()
                    .copied()
                    .find(|&t| self.sets[t as usize].owner.is_none())
                    .ok_or(DataAccessError::TEMPORARILY_UNAVAILABLE)?;
                let ts = &mut self.sets[free as usize];
                ts.owner = Some(ctx.id);
                super::transfer_set::write_object_name(w, &ts.name);
                ctx.emit(Tase2Event::TransferSetReserved {
                    id: ctx.id,
                    name: ts.name.clone(),
                });
                Ok(())
            }
            Some(Slot::TransferSet(t)) => {
                let ts = &self.sets[t as usize];
                if ts.owner.is_some_and(|o| o != ctx.id) {
                    return Err(DataAccessError::OBJECT_ACCESS_DENIED);
                }
                ts.value.to_data(self.config.edition).encode(w);
                Ok(())
            }
            Some(Slot::Device(d)) => {
                self.device_value(d).to_data().encode(w);
                Ok(())
            }
            Some(Slot::DeviceSbo(d)) => {
                let check_back = self.select(ctx, d)?;
                w.integer(crate::ber::Tag::context(5), check_back.into());
                Ok(())
            }
            Some(Slot::DeviceTag(d)) => {
                self.tag(ctx.now, d).to_data().encode(w);
                Ok(())
            }
            Some(Slot::ImTransferSet) => {
                w.boolean(crate::ber::Tag::context(3), self.im_enabled(ctx.id));
                Ok(())
            }
            None => Err(DataAccessError::OBJECT_NON_EXISTENT),
        }
    }

    fn write(
        &mut self,
        ctx: &mut Ctx<'_, Tase2Event>,
        _name: &ObjectName,
        slot: u32,
        component: Option<&str>,
        value: &Data,
    ) -> Result<(), DataAccessError> {
        let slot = self.slots.get(slot as usize).copied();
        // Only a transfer set has components a client may write one at a time.
        if component.is_some() && !matches!(slot, Some(Slot::TransferSet(_))) {
            return Err(DataAccessError::OBJECT_ACCESS_UNSUPPORTED);
        }
        match slot {
            Some(Slot::Point(p)) => {
                let entry = &self.points[p as usize];
                if !entry.writable {
                    return Err(DataAccessError::OBJECT_ACCESS_DENIED);
                }
                let pv = entry
                    .ptype
                    .decode_data(value)
                    .ok_or(DataAccessError::TYPE_INCONSISTENT)?;
                self.set_point(ctx.now, PointId(p), pv);
                let value = self.points[p as usize].value;
                ctx.emit(Tase2Event::PointWritten {
                    id: ctx.id,
                    point: PointId(p),
                    value,
                });
                Ok(())
            }
            Some(Slot::TransferSet(t)) => self.write_transfer_set(ctx, t, component, value),
            Some(Slot::Device(d)) => self.operate(ctx, d, value),
            Some(Slot::DeviceTag(d)) => self.write_tag(ctx, d, value),
            Some(Slot::ImTransferSet) => {
                let Data::Boolean(enabled) = value else {
                    return Err(DataAccessError::TYPE_INCONSISTENT);
                };
                if self.set_im_enabled(ctx.id, *enabled) {
                    ctx.emit(Tase2Event::InfoMessagesEnabled {
                        id: ctx.id,
                        enabled: *enabled,
                    });
                }
                Ok(())
            }
            _ => Err(DataAccessError::OBJECT_ACCESS_DENIED),
        }
    }

    fn unconfirmed(
        &mut self,
        ctx: &mut Ctx<'_, Tase2Event>,
        service: &crate::mms::UnconfirmedService,
    ) {
        match service {
            crate::mms::UnconfirmedService::InformationReport(report) => {
                transfer::acknowledgement(self, ctx, report)
            }
            _ => ctx.emit(Tase2Event::UnexpectedReport { id: ctx.id }),
        }
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.sets
            .iter()
            .filter_map(transfer::next_deadline)
            .chain(self.devices.poll_timeout())
            .min()
    }

    fn run(&mut self, out: &mut Outbox<'_, Tase2Event>, now: Instant) {
        // `associate` has no event queue: announce the bindings it made here, right after the
        // input that carried the AARQ.
        for id in core::mem::take(&mut self.bound) {
            let Some(c) = self.conns.get(&id) else {
                continue;
            };
            out.emit(Tase2Event::Bound {
                id,
                table: c.table.map(|t| self.tables[t].id.clone()),
                domain: c.domain.map(|d| self.domains[d as usize].name.clone()),
            });
        }
        self.run_devices(out, now);
        transfer::run(self, out, now);
    }
}

impl Tase2 {
    fn is_transfer_object(&self, name: &ObjectName) -> bool {
        match name {
            ObjectName::DomainSpecific { item, .. } => {
                item == names::NEXT_DS_TRANSFER_SET
                    || item.starts_with(names::DS_TRANSFER_SET_PREFIX)
                    || type_of_special(item).is_some()
                    || item == names::BILATERAL_TABLE_ID
                    || item == names::INFO_MESS_HEADER
                    || item.starts_with(crate::tase2::info::INFO_BUFF_PREFIX)
            }
            ObjectName::VmdSpecific(item) => {
                item == names::TASE2_VERSION
                    || item == names::SUPPORTED_FEATURES
                    || item == names::INFO_MESS_HEADER
                    || item.starts_with(crate::tase2::info::INFO_BUFF_PREFIX)
            }
            ObjectName::AaSpecific(_) => false,
        }
    }

    fn write_transfer_set(
        &mut self,
        ctx: &mut Ctx<'_, Tase2Event>,
        t: u32,
        component: Option<&str>,
        value: &Data,
    ) -> Result<(), DataAccessError> {
        use super::transfer_set::TransferSetError as E;
        let edition = self.config.edition;
        let ts = &self.sets[t as usize];
        if ts.owner.is_some_and(|o| o != ctx.id) {
            return Err(DataAccessError::OBJECT_ACCESS_DENIED);
        }
        let map = |e: E| match e {
            E::Type => DataAccessError::TYPE_INCONSISTENT,
            E::Value => DataAccessError::OBJECT_VALUE_INVALID,
            E::Component => DataAccessError::OBJECT_NON_EXISTENT,
        };
        let mut new = ts.value.clone();
        match component {
            None => {
                let d = DsTransferSetValue::from_data(value).map_err(map)?;
                new = d;
            }
            Some(c) => {
                if edition == Edition::V1996_08 && c == "AllChangesReported" {
                    return Err(DataAccessError::OBJECT_NON_EXISTENT);
                }
                new.set_component(c, value).map_err(map)?;
            }
        }
        if edition == Edition::V1996_08 {
            new.all_changes_reported = false;
        }
        let members = if new.status {
            Some(self.resolve(ctx, &new)?)
        } else {
            None
        };
        let Tase2 { sets, points, .. } = self;
        let ts = &mut sets[t as usize];
        ts.owner = Some(ctx.id);
        let was_running = ts.run.is_some();
        transfer::stop(ts, t, points);
        ts.value = new;
        match members {
            Some(m) => {
                transfer::start(ts, t, points, m, ctx.now);
                ctx.emit(Tase2Event::TransferSetStarted {
                    id: ctx.id,
                    name: ts.name.clone(),
                    value: ts.value.clone(),
                });
            }
            None if was_running => ctx.emit(Tase2Event::TransferSetStopped {
                id: ctx.id,
                name: ts.name.clone(),
            }),
            None => {}
        }
        Ok(())
    }

    /// Check a configuration about to start and resolve its data set's members.
    fn resolve(
        &self,
        ctx: &Ctx<'_, Tase2Event>,
        v: &DsTransferSetValue,
    ) -> Result<Vec<Member>, DataAccessError> {
        use super::DsConditions as C;
        let invalid = DataAccessError::OBJECT_VALUE_INVALID;
        if v.block_data
            || v.conditions.is_empty()
            || (v.conditions.contains(C::INTERVAL) && v.interval <= 0)
            || (v.conditions.contains(C::INTEGRITY) && v.integrity_check <= 0)
        {
            return Err(invalid);
        }
        // The data set must be one this client can see: in its domain (or VCC).
        let visible = match &v.data_set {
            ObjectName::DomainSpecific { domain, .. } => self.domain_visible(ctx.id, domain),
            ObjectName::VmdSpecific(_) => true,
            ObjectName::AaSpecific(_) => false,
        };
        let list = match &v.data_set {
            ObjectName::VmdSpecific(n) => ctx.model.lists.get(n),
            ObjectName::DomainSpecific { domain, item } => ctx
                .model
                .domains
                .get(domain)
                .and_then(|d| d.lists.get(item)),
            ObjectName::AaSpecific(_) => None,
        };
        let list = list.filter(|_| visible).ok_or(invalid)?;
        Ok(list
            .members
            .iter()
            .map(|m| match (m, self.point_index.get(m)) {
                (_, Some(&p)) => Member::Point(p),
                (ObjectName::DomainSpecific { item, .. }, None) => {
                    transfer::Special::from_item(item)
                        .map(Member::Special)
                        .unwrap_or_else(|| Member::Other(m.clone().into()))
                }
                _ => Member::Other(m.clone().into()),
            })
            .collect())
    }
}
