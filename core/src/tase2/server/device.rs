//! Device control in the server (block 5): select-before-operate, tags, and the application's
//! decision on every operate.
//!
//! A select arms the device for one association until `Tase2Config::select_timeout`; the next
//! operate by that association disarms it, whatever its outcome (one operate per select). An
//! operate that passes the rules is held: the application hears
//! [`Tase2Event::OperateRequested`] and answers with [`Endpoint::answer_operate`], and only then
//! does the client get its Write response (or, under [`OperatePolicy::AcceptAll`], at once).

use alloc::collections::BTreeSet;
use alloc::string::String;
use core::time::Duration;

use super::{ConnectionId, Tase2, Tase2Event};
use crate::assoc::ApiError;
use crate::mms::{DataAccessError, ObjectName};
use crate::server::{Ctx, Endpoint, Outbox, WriteToken};
use crate::tase2::device::{ControlMode, ControlValue, DeviceKind, Tag, TagValue};
use crate::time::Instant;

/// A device of the model, as returned by [`super::Tase2Builder::device`].
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct DeviceId(pub u32);

/// One operate waiting for the application's answer ([`Endpoint::answer_operate`]).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct OperateId(pub u64);

/// How a device is defined.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeviceSpec {
    /// Command, discrete or real setpoint.
    pub kind: DeviceKind,
    /// Direct operate or select-before-operate.
    pub mode: ControlMode,
    /// Whether it has a `<Device>_TAG`.
    pub tagged: bool,
    /// The CheckBackID a select answers (a bilateral table may set its own).
    pub check_back_id: i16,
}

impl DeviceSpec {
    /// An untagged device with CheckBackID 0.
    pub fn new(kind: DeviceKind, mode: ControlMode) -> Self {
        DeviceSpec {
            kind,
            mode,
            tagged: false,
            check_back_id: 0,
        }
    }

    /// With a `<Device>_TAG`.
    pub fn tagged(mut self) -> Self {
        self.tagged = true;
        self
    }

    /// With this CheckBackID.
    pub fn check_back_id(mut self, id: i16) -> Self {
        self.check_back_id = id;
        self
    }
}

/// Who decides whether an operate succeeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperatePolicy {
    /// The application: it hears [`Tase2Event::OperateRequested`] and answers with
    /// [`Endpoint::answer_operate`] within `timeout`; an unanswered operate is refused with
    /// temporarily-unavailable and [`ControlRefusal::Unanswered`].
    AskApplication {
        /// How long the client's Write waits for the answer.
        timeout: Duration,
    },
    /// Every operate that passes the select and tag rules succeeds at once (simulators, tests).
    AcceptAll,
}

impl Default for OperatePolicy {
    fn default() -> Self {
        OperatePolicy::AskApplication {
            timeout: Duration::from_secs(5),
        }
    }
}

/// Why a select, operate or tag write was refused (in [`Tase2Event::ControlRefused`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ControlRefusal {
    /// An SBO device operated without a select (object-access-denied).
    NotSelected,
    /// The select timed out before the operate (object-access-denied).
    SelectExpired,
    /// An operate while another association holds the select (object-access-denied).
    SelectedByOther,
    /// A select while another association holds the select (temporarily-unavailable).
    InUse,
    /// The device's tag inhibits it (object-access-denied).
    Tagged,
    /// An operate of the device is waiting for the application (temporarily-unavailable).
    Busy,
    /// The value has the wrong MMS type (type-inconsistent).
    WrongType,
    /// The value is out of range (object-value-invalid).
    InvalidValue,
    /// A tag cannot change while the device is armed (temporarily-unavailable).
    Armed,
    /// The tag was set by another association or locally (object-access-denied).
    TagOwnedByOther,
    /// The application refused the operate with this error.
    Application(DataAccessError),
    /// The application did not answer within the policy's timeout (temporarily-unavailable).
    Unanswered,
}

impl ControlRefusal {
    /// The MMS access error a client gets.
    pub fn access_error(self) -> DataAccessError {
        match self {
            ControlRefusal::NotSelected
            | ControlRefusal::SelectExpired
            | ControlRefusal::SelectedByOther
            | ControlRefusal::Tagged
            | ControlRefusal::TagOwnedByOther => DataAccessError::OBJECT_ACCESS_DENIED,
            ControlRefusal::Busy
            | ControlRefusal::InUse
            | ControlRefusal::Armed
            | ControlRefusal::Unanswered => DataAccessError::TEMPORARILY_UNAVAILABLE,
            ControlRefusal::WrongType => DataAccessError::TYPE_INCONSISTENT,
            ControlRefusal::InvalidValue => DataAccessError::OBJECT_VALUE_INVALID,
            ControlRefusal::Application(e) => e,
        }
    }
}

/// Why [`Endpoint::set_tag`] refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TagError {
    /// No such device, or it has no tag.
    NoTag,
    /// The device is armed (selected) or operating.
    Armed,
    /// [`TagValue::Invalid`] cannot be set.
    Invalid,
}

impl core::fmt::Display for TagError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            TagError::NoTag => "the device has no tag",
            TagError::Armed => "a tag cannot change while the device is armed",
            TagError::Invalid => "tag value 3 (invalid) cannot be set",
        })
    }
}

impl core::error::Error for TagError {}

/// A device as the application sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct DeviceState {
    /// Its name.
    pub name: ObjectName,
    /// Its definition.
    pub spec: DeviceSpec,
    /// The last value an operate succeeded with.
    pub last: Option<ControlValue>,
    /// The association holding a select, if armed.
    pub armed_by: Option<ConnectionId>,
    /// Its tag (always the default for an untagged device).
    pub tag: Tag,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TagOwner {
    Nobody,
    Local,
    /// The association that set it; when it ends (`open` false) another association of the same
    /// bilateral table may change it, so a reconnecting control center is not locked out.
    Client {
        id: ConnectionId,
        table: Option<usize>,
        open: bool,
    },
}

#[derive(Clone, Copy, Debug)]
struct Armed {
    id: ConnectionId,
    until: Instant,
}

#[derive(Clone, Copy, Debug)]
struct Pending {
    op: OperateId,
    token: WriteToken,
    value: ControlValue,
    deadline: Instant,
}

pub(super) struct DeviceEntry {
    pub(super) name: ObjectName,
    spec: DeviceSpec,
    last: Option<ControlValue>,
    armed: Option<Armed>,
    tag: TagValue,
    reason: String,
    owner: TagOwner,
    pending: Option<Pending>,
}

impl DeviceEntry {
    pub(super) fn new(name: ObjectName, spec: DeviceSpec) -> Self {
        DeviceEntry {
            name,
            spec,
            last: None,
            armed: None,
            tag: TagValue::None,
            reason: String::new(),
            owner: TagOwner::Nobody,
            pending: None,
        }
    }

    /// Tag it from the control center itself (see [`Endpoint::set_tag`]); the caller checked
    /// that it is tagged, not armed, and the value valid.
    pub(super) fn set_local_tag(&mut self, value: TagValue, reason: &str) {
        self.tag = value;
        // VisibleString: printable ASCII only.
        self.reason = reason
            .chars()
            .filter(|c| c.is_ascii() && !c.is_ascii_control())
            .take(crate::tase2::device::MAX_TAG_REASON)
            .collect();
        self.owner = match value {
            TagValue::None => TagOwner::Nobody,
            _ => TagOwner::Local,
        };
    }

    /// Whether it has a tag at all.
    pub(super) fn is_tagged(&self) -> bool {
        self.spec.tagged
    }

    /// Its tag and reason, for the endpoint's digest.
    pub(super) fn tag_state(&self) -> (TagValue, &str) {
        (self.tag, &self.reason)
    }

    fn armed_at(&self, now: Instant) -> Option<Armed> {
        self.armed.filter(|a| now < a.until)
    }

    fn tag_value(&self, now: Instant) -> Tag {
        Tag {
            value: self.tag,
            armed: self.armed_at(now).is_some() || self.pending.is_some(),
            reason: self.reason.clone(),
        }
    }
}

/// Device state of the server: entries, the set of devices with a running timer.
#[derive(Default)]
pub(super) struct Devices {
    pub(super) list: alloc::vec::Vec<DeviceEntry>,
    /// Item names of every device, so `<Device>_SBO` / `_TAG` find their device's rights without
    /// allocating.
    pub(super) items: BTreeSet<String>,
    /// Devices by name.
    index: alloc::collections::BTreeMap<ObjectName, u32>,
    /// Devices armed or with an operate pending: the only ones `poll_timeout`, `run` and
    /// `answer_operate` look at.
    active: BTreeSet<u32>,
    next_op: u64,
}

impl Devices {
    pub(super) fn add(&mut self, name: ObjectName, spec: DeviceSpec) -> DeviceId {
        if let ObjectName::DomainSpecific { item, .. } | ObjectName::VmdSpecific(item) = &name {
            self.items.insert(item.clone());
        }
        let id = self.list.len() as u32;
        self.index.insert(name.clone(), id);
        self.list.push(DeviceEntry::new(name, spec));
        DeviceId(id)
    }

    /// The device item a `<Device>_SBO` / `<Device>_TAG` item belongs to, and whether it is the
    /// select object.
    // Inlinable into the Read path's rights look-up whatever codegen unit it lands in: where
    // the partition put it apart, every Read paid the calls.
    #[inline]
    pub(super) fn base_of<'n>(&self, item: &'n str) -> Option<(&'n str, bool)> {
        use crate::tase2::device::{SBO_SUFFIX, TAG_SUFFIX};
        let (base, sbo) = match item.strip_suffix(SBO_SUFFIX) {
            Some(b) => (b, true),
            None => (item.strip_suffix(TAG_SUFFIX)?, false),
        };
        self.items.contains(base).then_some((base, sbo))
    }

    /// The item whose rights apply to `item`: its device for a device's SBO or tag object.
    #[inline]
    pub(super) fn device_item<'n>(&self, item: &'n str) -> &'n str {
        self.base_of(item).map_or(item, |(b, _)| b)
    }

    pub(super) fn poll_timeout(&self) -> Option<Instant> {
        self.active
            .iter()
            .filter_map(|&d| {
                let e = &self.list[d as usize];
                let a = e.armed.map(|a| a.until);
                let p = e.pending.map(|p| p.deadline);
                a.into_iter().chain(p).min()
            })
            .min()
    }

    pub(super) fn closed(&mut self, id: ConnectionId) {
        for &d in &self.active {
            let e = &mut self.list[d as usize];
            if e.armed.is_some_and(|a| a.id == id) {
                e.armed = None;
            }
            // Its Write response can no longer be delivered; a late answer fails cleanly.
            if e.pending.is_some_and(|p| p.token.id == id) {
                e.pending = None;
            }
        }
        for e in &mut self.list {
            if let TagOwner::Client { id: o, open, .. } = &mut e.owner {
                if *o == id {
                    *open = false;
                }
            }
        }
        let list = &self.list;
        self.active
            .retain(|&d| list[d as usize].armed.is_some() || list[d as usize].pending.is_some());
    }
}

fn refuse(
    ctx: &mut Ctx<'_, Tase2Event>,
    device: DeviceId,
    reason: ControlRefusal,
) -> DataAccessError {
    ctx.emit(Tase2Event::ControlRefused {
        id: ctx.id,
        device,
        reason,
    });
    reason.access_error()
}

impl Tase2 {
    /// The table index of an association.
    fn table_index(&self, id: ConnectionId) -> Option<usize> {
        self.conns.get(&id)?.table
    }

    /// Read of `<Device>_SBO`: select.
    pub(super) fn select(
        &mut self,
        ctx: &mut Ctx<'_, Tase2Event>,
        d: u32,
    ) -> Result<i16, DataAccessError> {
        let device = DeviceId(d);
        let check_back = {
            let e = &self.devices.list[d as usize];
            let (vcc, item) = match &e.name {
                ObjectName::VmdSpecific(i) => (true, i.as_str()),
                ObjectName::DomainSpecific { item, .. } => (false, item.as_str()),
                ObjectName::AaSpecific(i) => (false, i.as_str()),
            };
            self.table_of(ctx.id)
                .and_then(|t| t.check_back_on(vcc, item))
                .unwrap_or(e.spec.check_back_id)
        };
        let timeout = self.config.select_timeout;
        let e = &mut self.devices.list[d as usize];
        if e.tag.inhibits(None) {
            return Err(refuse(ctx, device, ControlRefusal::Tagged));
        }
        if e.pending.is_some() {
            return Err(refuse(ctx, device, ControlRefusal::Busy));
        }
        if e.armed_at(ctx.now).is_some_and(|a| a.id != ctx.id) {
            return Err(refuse(ctx, device, ControlRefusal::InUse));
        }
        e.armed = Some(Armed {
            id: ctx.id,
            until: ctx.now + timeout,
        });
        self.devices.active.insert(d);
        ctx.emit(Tase2Event::Selected {
            id: ctx.id,
            device,
            check_back_id: check_back,
        });
        Ok(check_back)
    }

    /// Write of `<Device>`: operate.
    pub(super) fn operate(
        &mut self,
        ctx: &mut Ctx<'_, Tase2Event>,
        d: u32,
        value: &crate::mms::Data,
    ) -> Result<(), DataAccessError> {
        let device = DeviceId(d);
        let policy = self.config.operate;
        let e = &mut self.devices.list[d as usize];
        let v = match e.spec.kind.decode(value) {
            Ok(v) => v,
            Err(true) => return Err(refuse(ctx, device, ControlRefusal::WrongType)),
            Err(false) => return Err(refuse(ctx, device, ControlRefusal::InvalidValue)),
        };
        if e.pending.is_some() {
            return Err(refuse(ctx, device, ControlRefusal::Busy));
        }
        if e.spec.mode == ControlMode::Sbo {
            match e.armed {
                None => return Err(refuse(ctx, device, ControlRefusal::NotSelected)),
                Some(a) if a.id != ctx.id => {
                    return Err(refuse(ctx, device, ControlRefusal::SelectedByOther))
                }
                Some(a) if ctx.now >= a.until => {
                    // Its timer has not run yet: the timeout is this operate's news too.
                    e.armed = None;
                    ctx.emit(Tase2Event::SelectTimedOut { id: a.id, device });
                    return Err(refuse(ctx, device, ControlRefusal::SelectExpired));
                }
                // One operate per select, whatever its outcome.
                Some(_) => e.armed = None,
            }
        }
        if e.tag.inhibits(Some(v)) {
            return Err(refuse(ctx, device, ControlRefusal::Tagged));
        }
        match policy {
            OperatePolicy::AcceptAll => {
                e.last = Some(v);
                ctx.emit(Tase2Event::Operated {
                    id: ctx.id,
                    device,
                    value: v,
                });
            }
            OperatePolicy::AskApplication { timeout } => {
                let Some(token) = ctx.defer_write() else {
                    return Err(DataAccessError::OBJECT_ACCESS_DENIED);
                };
                self.devices.next_op += 1;
                let op = OperateId(self.devices.next_op);
                e.pending = Some(Pending {
                    op,
                    token,
                    value: v,
                    deadline: ctx.now + timeout,
                });
                self.devices.active.insert(d);
                ctx.emit(Tase2Event::OperateRequested {
                    id: ctx.id,
                    op,
                    device,
                    value: v,
                });
            }
        }
        Ok(())
    }

    /// Read of `<Device>`: the last value operated (0 before any).
    pub(super) fn device_value(&self, d: u32) -> ControlValue {
        let e = &self.devices.list[d as usize];
        e.last.unwrap_or(match e.spec.kind {
            DeviceKind::Command => ControlValue::Command(crate::tase2::Command::Off),
            DeviceKind::DiscreteSetpoint => ControlValue::Discrete(0),
            DeviceKind::RealSetpoint => ControlValue::Real(0.0),
        })
    }

    /// Read of `<Device>_TAG`.
    pub(super) fn tag(&self, now: Instant, d: u32) -> Tag {
        self.devices.list[d as usize].tag_value(now)
    }

    /// Write of `<Device>_TAG`.
    pub(super) fn write_tag(
        &mut self,
        ctx: &mut Ctx<'_, Tase2Event>,
        d: u32,
        value: &crate::mms::Data,
    ) -> Result<(), DataAccessError> {
        let device = DeviceId(d);
        let Some(new) = Tag::from_data(value) else {
            return Err(refuse(ctx, device, ControlRefusal::WrongType));
        };
        if new.value == TagValue::Invalid {
            return Err(refuse(ctx, device, ControlRefusal::InvalidValue));
        }
        let table = self.table_index(ctx.id);
        let e = &mut self.devices.list[d as usize];
        if e.armed_at(ctx.now).is_some() || e.pending.is_some() {
            return Err(refuse(ctx, device, ControlRefusal::Armed));
        }
        let may = match e.owner {
            TagOwner::Nobody => true,
            TagOwner::Local => false,
            TagOwner::Client { id, table: t, open } => id == ctx.id || (!open && t == table),
        };
        if !may {
            return Err(refuse(ctx, device, ControlRefusal::TagOwnedByOther));
        }
        e.tag = new.value;
        e.reason = new.reason;
        e.owner = match new.value {
            TagValue::None => TagOwner::Nobody,
            _ => TagOwner::Client {
                id: ctx.id,
                table,
                open: true,
            },
        };
        let tag = e.tag_value(ctx.now);
        ctx.emit(Tase2Event::TagChanged {
            id: Some(ctx.id),
            device,
            tag,
        });
        Ok(())
    }

    /// Timers: selects that expire, operates the application left unanswered.
    pub(super) fn run_devices(&mut self, out: &mut Outbox<'_, Tase2Event>, now: Instant) {
        if self.devices.active.is_empty() {
            return;
        }
        let Devices { list, active, .. } = &mut self.devices;
        active.retain(|&d| {
            let e = &mut list[d as usize];
            let device = DeviceId(d);
            if let Some(a) = e.armed.filter(|a| now >= a.until) {
                e.armed = None;
                out.emit(Tase2Event::SelectTimedOut { id: a.id, device });
            }
            if let Some(p) = e.pending.filter(|p| now >= p.deadline) {
                e.pending = None;
                let reason = ControlRefusal::Unanswered;
                out.emit(Tase2Event::ControlRefused {
                    id: p.token.id,
                    device,
                    reason,
                });
                let _ = out.complete_write(p.token, Err(reason.access_error()));
            }
            e.armed.is_some() || e.pending.is_some()
        });
    }

    /// The id of the device `name`.
    pub fn device_id(&self, name: &ObjectName) -> Option<DeviceId> {
        self.devices.index.get(name).map(|&i| DeviceId(i))
    }

    /// A device's state at `now`.
    pub fn device(&self, now: Instant, device: DeviceId) -> Option<DeviceState> {
        let e = self.devices.list.get(device.0 as usize)?;
        Some(DeviceState {
            name: e.name.clone(),
            spec: e.spec,
            last: e.last,
            armed_by: e.armed_at(now).map(|a| a.id),
            tag: e.tag_value(now),
        })
    }

    /// Every device: id, name, definition.
    pub fn devices(&self) -> impl Iterator<Item = (DeviceId, &ObjectName, DeviceSpec)> + '_ {
        self.devices
            .list
            .iter()
            .enumerate()
            .map(|(i, e)| (DeviceId(i as u32), &e.name, e.spec))
    }
}

impl Endpoint<Tase2> {
    /// Answer an operate the application heard of in [`Tase2Event::OperateRequested`]: `Ok`
    /// executes it (the client's Write succeeds, [`Tase2Event::Operated`] follows), `Err` refuses
    /// it with that access error (hardware-fault is the usual one for a device that failed).
    /// Fails with [`ApiError::InvalidState`] if `op` is not waiting (answered, timed out, or its
    /// association ended).
    pub fn answer_operate(
        &mut self,
        op: OperateId,
        result: Result<(), DataAccessError>,
    ) -> Result<(), ApiError> {
        self.log_last(|| {
            crate::record::Event::Server(crate::record::ServerInput::AnswerOperate {
                op: op.0,
                result: result.map_err(|e| e.0),
            })
        });
        self.with_outbox_now(|h, out| {
            let Devices { list, active, .. } = &mut h.devices;
            let d = active
                .iter()
                .copied()
                .find(|&d| list[d as usize].pending.is_some_and(|p| p.op == op))
                .ok_or(ApiError::InvalidState)?;
            let e = &mut list[d as usize];
            let Some(p) = e.pending.take() else {
                return Err(ApiError::InvalidState);
            };
            if e.armed.is_none() {
                active.remove(&d);
            }
            let device = DeviceId(d);
            match result {
                Ok(()) => {
                    e.last = Some(p.value);
                    out.emit(Tase2Event::Operated {
                        id: p.token.id,
                        device,
                        value: p.value,
                    });
                }
                Err(err) => out.emit(Tase2Event::ControlRefused {
                    id: p.token.id,
                    device,
                    reason: ControlRefusal::Application(err),
                }),
            }
            out.complete_write(p.token, result)
        })
    }

    /// Set a device's tag from the control center itself (local tagging): it overrides any
    /// client's tag, and no client may change it until it is cleared here ([`TagValue::None`]).
    pub fn set_tag(
        &mut self,
        now: Instant,
        device: DeviceId,
        value: TagValue,
        reason: &str,
    ) -> Result<(), TagError> {
        self.log(now, || {
            crate::record::Event::Server(crate::record::ServerInput::SetTag {
                device: device.0,
                value,
                reason: reason.into(),
            })
        });
        let h = self.hooks_now_mut();
        let e = h
            .devices
            .list
            .get_mut(device.0 as usize)
            .filter(|e| e.spec.tagged)
            .ok_or(TagError::NoTag)?;
        if value == TagValue::Invalid {
            return Err(TagError::Invalid);
        }
        if e.armed_at(now).is_some() || e.pending.is_some() {
            return Err(TagError::Armed);
        }
        e.set_local_tag(value, reason);
        let tag = e.tag_value(now);
        self.with_outbox_now(|_, out| {
            out.emit(Tase2Event::TagChanged {
                id: None,
                device,
                tag,
            })
        });
        Ok(())
    }
}
