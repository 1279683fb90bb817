//! The [`Hooks`] of [`Tase2`]: association binding, visibility and rights from the bilateral
//! tables, and reads.

use super::builder::type_of_special;
use super::transfer::{self};
use super::{ConnEntry, Slot, Tase2, Tase2Event};
use crate::acse::{user_diagnostic, AssociateDiagnostic};
use crate::assoc::AssociateRequest;
use crate::ber::Writer;
use crate::mms::{Data, DataAccessError, ObjectName};
use crate::server::{ConnectionId, Ctx, Hooks, Outbox};
use crate::tase2::bilateral::{BilateralTable, Unlisted};
use crate::tase2::names;
use crate::tase2::transfer_set::DsTransferSetValue;
use crate::time::Instant;

impl Hooks for Tase2 {
    type Event = Tase2Event;

    fn digest(&self, out: &mut dyn core::fmt::Write) -> core::fmt::Result {
        // What a client can see: edition, tables, points with types and values, devices. The
        // operate policy is a function and cannot be digested.
        write!(out, "{:?}{:?}", self.config.edition, self.config.unlisted)?;
        for t in &self.tables {
            write!(out, "{t:?}")?;
        }
        for (p, name, ty) in self.points() {
            write!(out, "{name:?}{ty:?}{:?}", self.value(p))?;
        }
        for (_, name, spec) in self.devices() {
            write!(out, "{name:?}{spec:?}")?;
        }
        // Local tags set at build time are configuration too.
        for e in &self.devices.list {
            write!(out, "{:?}", e.tag_state())?;
        }
        Ok(())
    }

    fn associate(
        &mut self,
        id: ConnectionId,
        req: &AssociateRequest,
    ) -> Result<(), AssociateDiagnostic> {
        self.associate_authenticated(id, req, None)
    }

    fn associate_authenticated(
        &mut self,
        id: ConnectionId,
        req: &AssociateRequest,
        identity: Option<&crate::server::PeerIdentity>,
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
        if let Some(t) = table {
            // IEC 62351-4: the table binds the client's certificate and password as well as its
            // AP-title; a mismatch is an authentication failure, not an unknown AP-title.
            if let Err(why) = self.tables[t].authenticate(identity, req.password.as_deref()) {
                tracing::info!(table = %self.tables[t].id, ?why, "association refused: authentication");
                return Err(AssociateDiagnostic::User(why.diagnostic()));
            }
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
        let Tase2 {
            sets,
            points,
            schedule,
            ..
        } = self;
        for (i, ts) in sets.iter_mut().enumerate() {
            if ts.owner == Some(id) {
                schedule.touch(ts, i as u32);
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

    fn writable(&mut self, _out: &mut Outbox<'_, Tase2Event>, id: ConnectionId) {
        for (i, ts) in self.sets.iter_mut().enumerate() {
            if ts.owner == Some(id) {
                if let Some(run) = ts.run.as_mut() {
                    run.blocked = false;
                    self.schedule.touch(ts, i as u32);
                }
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

    fn read_access(&self, id: ConnectionId, name: &ObjectName) -> Result<(), DataAccessError> {
        // `visible` and `may_read` with the table's rights looked up once.
        if let ObjectName::DomainSpecific { domain, .. } = name {
            if !self.domain_visible(id, domain) {
                return Err(DataAccessError::OBJECT_NON_EXISTENT);
            }
        }
        let r = self.rights(id, name);
        let visible = r.read
            || r.write
            || matches!(name, ObjectName::AaSpecific(_))
            || self.is_transfer_object(name);
        if !visible {
            return Err(DataAccessError::OBJECT_NON_EXISTENT);
        }
        let readable = if self.is_select(name) {
            r.write
        } else {
            r.read || self.is_transfer_object(name)
        };
        if readable {
            Ok(())
        } else {
            Err(DataAccessError::OBJECT_ACCESS_DENIED)
        }
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
                crate::tase2::transfer_set::write_object_name(w, &ts.name);
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
        self.write_slot(ctx, slot, component, value)
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
        self.schedule
            .next()
            .into_iter()
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
    pub(super) fn conn_domain(&self, id: ConnectionId) -> Option<u32> {
        self.conns.get(&id)?.domain
    }

    pub(super) fn table_of(&self, id: ConnectionId) -> Option<&BilateralTable> {
        self.tables.get(self.conns.get(&id)?.table?)
    }

    pub(super) fn rights(&self, id: ConnectionId, name: &ObjectName) -> crate::tase2::Rights {
        let Some(t) = self.table_of(id) else {
            // VCC-only clients read VCC objects.
            return crate::tase2::Rights::READ;
        };
        // `<Device>_SBO` and `<Device>_TAG` carry their device's rights.
        match name {
            ObjectName::VmdSpecific(n) => t.rights_on(true, self.devices.device_item(n)),
            ObjectName::DomainSpecific { item: n, .. } => {
                t.rights_on(false, self.devices.device_item(n))
            }
            ObjectName::AaSpecific(_) => crate::tase2::Rights::READ_WRITE,
        }
    }

    /// Whether `name` is a `<Device>_SBO`: reading it selects, which needs the write right.
    pub(super) fn is_select(&self, name: &ObjectName) -> bool {
        match name {
            ObjectName::VmdSpecific(n) | ObjectName::DomainSpecific { item: n, .. } => {
                self.devices.base_of(n).is_some_and(|(_, sbo)| sbo)
            }
            ObjectName::AaSpecific(_) => false,
        }
    }

    pub(super) fn is_transfer_object(&self, name: &ObjectName) -> bool {
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
}
