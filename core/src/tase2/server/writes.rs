//! The write dispatch: points, transfer sets, devices and `IM_Transfer_Set`.

use alloc::vec::Vec;

use super::transfer::{self, Member};
use super::{PointId, Slot, Tase2, Tase2Event};
use crate::mms::{Data, DataAccessError, ObjectName};
use crate::server::{Ctx, Hooks};
use crate::tase2::transfer_set::DsTransferSetValue;
use crate::tase2::Edition;

impl Tase2 {
    /// Write `value` (or its `component`) to the object in slot `slot`.
    pub(super) fn write_slot(
        &mut self,
        ctx: &mut Ctx<'_, Tase2Event>,
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

    fn write_transfer_set(
        &mut self,
        ctx: &mut Ctx<'_, Tase2Event>,
        t: u32,
        component: Option<&str>,
        value: &Data,
    ) -> Result<(), DataAccessError> {
        use crate::tase2::transfer_set::TransferSetError as E;
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
        let Tase2 {
            sets,
            points,
            schedule,
            ..
        } = self;
        let ts = &mut sets[t as usize];
        schedule.touch(ts, t);
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
        use crate::tase2::DsConditions as C;
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
