//! The TASE.2 server: an MMS [`Endpoint`] whose [`Hooks`](crate::server::Hooks) are [`Tase2`].
//!
//! Build one with [`Tase2Builder`]: points in VCC scope and in ICC domains, predefined data sets,
//! a pool of DS transfer sets per domain and the bilateral tables. Each builder method checks its
//! object against the model so far (names, scopes, references) and refuses it with a
//! [`ModelError`], leaving the model unchanged. The result is an
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
//! # fn main() -> Result<(), tase2_core::tase2::server::ModelError> {
//! let mut b = Tase2Builder::new(Tase2Config::default());
//! b.domain("ICC1", 8)?;
//! let mw = b.point(
//!     Some("ICC1"),
//!     "Gen1_MW",
//!     PointType::Indication(Family::Real, Form::QTimeTag),
//!     PointValue::real(0.0),
//! )?;
//! b.data_set(Some("ICC1"), "DS_Grid", &["Transfer_Set_Name", "Gen1_MW"])?;
//! b.table(
//!     BilateralTable::new("BLT_ICC1", ClientMatch::ap_title(&[1, 1, 1, 999], 12), "ICC1")
//!         .grant("Gen1_MW", Rights::READ),
//! )?;
//! let mut server = b.build(ServerConfig::default())?;
//! let now = tase2_core::Instant::virtual_at(core::time::Duration::ZERO, 1_700_000_000);
//! assert!(server.update(now, mw, PointValue::real(412.5)));
//! assert_eq!(server.tase2().value(mw).unwrap().value, tase2_core::tase2::Value::Real(412.5));
//! # Ok(())
//! # }
//! ```
//!
//! Point updates cost work proportional to the transfer sets that contain the point (each point
//! keeps its subscribers), never a scan of the model or of the associations.

mod builder;
mod device;
mod events;
mod hooks;
mod info;
mod model_error;
#[cfg(test)]
mod tests;
mod transfer;
mod writes;

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

use super::bilateral::{BilateralTable, Unlisted};
use super::point::{PointType, PointValue, Timestamp};
use super::transfer_set::DsTransferSetValue;
use super::Edition;
use crate::ber::ObjectIdentifier;
use crate::mms::ObjectName;
use crate::server::{ConnectionId, Endpoint};
use crate::time::Instant;

pub use builder::Tase2Builder;
pub use device::{
    ControlRefusal, DeviceId, DeviceSpec, DeviceState, OperateId, OperatePolicy, TagError,
};
pub use events::Tase2Event;
pub use info::{InfoDelivery, InfoError};
pub use model_error::{valid_name, ModelError, MAX_DATA_SET_MEMBERS};
pub use transfer::TransferSetId;
use transfer::{Subs, TransferSet};

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
    schedule: transfer::Schedule,
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

impl Tase2 {
    /// The configuration.
    pub fn config(&self) -> &Tase2Config {
        &self.config
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
            let set = &mut self.sets[ts as usize];
            transfer::note_change(set, &self.config, now, member, &value);
            self.schedule.touch(set, ts);
        }
        true
    }
}

impl Endpoint<Tase2> {
    /// Update one point and send the reports that are due at once (BufferTime 0). Only a change
    /// of value or flags counts as an object change (and increments the COV of Extended points);
    /// a timestamp of zero is replaced by `now`.
    pub fn update(&mut self, now: Instant, point: PointId, value: PointValue) -> bool {
        self.log(now, || {
            crate::record::Event::Server(crate::record::ServerInput::Update {
                point: point.0,
                value,
            })
        });
        let ok = self.hooks_now_mut().set_point(now, point, value);
        self.run_hooks_now(now);
        ok
    }

    /// Update many points; reports go out once, after the whole batch.
    pub fn update_many(
        &mut self,
        now: Instant,
        updates: impl IntoIterator<Item = (PointId, PointValue)>,
    ) -> usize {
        let n = if self.is_recording() {
            let batch: Vec<(PointId, PointValue)> = updates.into_iter().collect();
            self.log(now, || {
                crate::record::Event::Server(crate::record::ServerInput::UpdateMany(
                    batch.iter().map(|(p, v)| (p.0, *v)).collect(),
                ))
            });
            let h = self.hooks_now_mut();
            batch
                .into_iter()
                .filter(|(p, v)| h.set_point(now, *p, *v))
                .count()
        } else {
            self.touch();
            let h = self.hooks_now_mut();
            updates
                .into_iter()
                .filter(|(p, v)| h.set_point(now, *p, *v))
                .count()
        };
        self.run_hooks_now(now);
        n
    }

    /// Raise the operator-request condition on the running transfer sets of `domain` (all
    /// domains if `None`) that requested it.
    pub fn operator_request(&mut self, now: Instant, domain: Option<&str>) {
        self.log(now, || {
            crate::record::Event::Server(crate::record::ServerInput::OperatorRequest {
                domain: domain.map(Into::into),
            })
        });
        self.raise(now, domain, super::DsConditions::OPERATOR_REQUEST, 0);
    }

    /// Raise the other-external-event condition with `event_code` on the running transfer sets of
    /// `domain` (all if `None`) that requested it and whose EventCodeRequested is 0 or this code.
    pub fn external_event(&mut self, now: Instant, domain: Option<&str>, event_code: i16) {
        self.log(now, || {
            crate::record::Event::Server(crate::record::ServerInput::ExternalEvent {
                domain: domain.map(Into::into),
                code: event_code,
            })
        });
        self.raise(now, domain, super::DsConditions::EXTERNAL_EVENT, event_code);
    }

    fn raise(
        &mut self,
        now: Instant,
        domain: Option<&str>,
        condition: super::DsConditions,
        code: i16,
    ) {
        let h = self.hooks_now_mut();
        let di = domain.map(|d| h.domain_index.get(d).copied());
        if di == Some(None) {
            return;
        }
        let di = di.flatten();
        for (i, ts) in h.sets.iter_mut().enumerate() {
            if di.is_none_or(|d| d == ts.domain) {
                transfer::raise(ts, now, condition, code);
                h.schedule.touch(ts, i as u32);
            }
        }
        self.run_hooks_now(now);
    }

    /// The TASE.2 state (points, transfer sets).
    pub fn tase2(&self) -> &Tase2 {
        self.hooks()
    }
}
