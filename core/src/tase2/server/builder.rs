//! [`Tase2Builder`]: the model of a TASE.2 server.

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::model_error::{check_name, valid_name, MAX_DATA_SET_MEMBERS};
use super::transfer::{self, Subs, TransferSet};
use super::{
    device, info, DeviceId, DeviceSpec, DomainEntry, ModelError, PointEntry, PointId, Slot, Tase2,
    Tase2Config,
};
use crate::ber::Writer;
use crate::mms::{BitString, Data, ObjectName, TypeDescription};
use crate::server::{Endpoint, NamedVariableList, ServerConfig, Variable, Vmd};
use crate::tase2::bilateral::{BilateralTable, ClientMatch};
use crate::tase2::point::{PointType, PointValue};
use crate::tase2::transfer_set::{object_name_type, DsTransferSetValue};
use crate::tase2::{names, Features};

/// Builds a TASE.2 server model.
pub struct Tase2Builder {
    config: Tase2Config,
    vmd: Vmd,
    tase2: Tase2,
}

impl core::fmt::Debug for Tase2Builder {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Tase2Builder")
            .field("model", &self.tase2)
            .finish_non_exhaustive()
    }
}

pub(super) fn type_of_special(item: &str) -> Option<TypeDescription> {
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
            schedule: transfer::Schedule::default(),
            devices: device::Devices::default(),
            info_buffers: info::Buffers::new(),
        };
        let mut b = Tase2Builder { config, vmd, tase2 };
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

    /// `Ok` if `domain` is `None` (VCC scope) or an ICC domain added before.
    fn check_scope(&self, domain: Option<&str>) -> Result<(), ModelError> {
        match domain {
            Some(d) if !self.tase2.domain_index.contains_key(d) => {
                Err(ModelError::UnknownDomain(d.into()))
            }
            _ => Ok(()),
        }
    }

    /// The variables of VCC scope or of `domain` (which exists: see `check_scope`).
    fn variables_in(&mut self, domain: Option<&str>) -> &mut BTreeMap<String, Variable> {
        match domain {
            Some(d) => &mut self.vmd.domain_mut(d).variables,
            None => &mut self.vmd.variables,
        }
    }

    /// `Ok` if no variable of VCC scope or `domain` is called `name`.
    fn check_free(&self, domain: Option<&str>, name: &str) -> Result<(), ModelError> {
        let taken = match domain {
            Some(d) => self
                .vmd
                .domains
                .get(d)
                .is_some_and(|d| d.variables.contains_key(name)),
            None => self.vmd.variables.contains_key(name),
        };
        if taken {
            Err(ModelError::DuplicateName {
                scope: domain.map(String::from),
                name: name.into(),
            })
        } else {
            Ok(())
        }
    }

    fn slot(&mut self, s: Slot) -> u32 {
        self.tase2.slots.push(s);
        (self.tase2.slots.len() - 1) as u32
    }

    /// Add an ICC domain with `transfer_sets` DS transfer sets (`DSTransfer_Set_1`...) and the
    /// standard ICC objects. A bilateral table binds a client to it.
    ///
    /// # Errors
    /// [`ModelError::InvalidName`], [`ModelError::DuplicateDomain`].
    pub fn domain(&mut self, name: &str, transfer_sets: usize) -> Result<&mut Self, ModelError> {
        check_name(name)?;
        if self.tase2.domain_index.contains_key(name) {
            return Err(ModelError::DuplicateDomain(name.into()));
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
        Ok(self)
    }

    /// Add a point: `domain` `None` for VCC scope. Returns its id for updates.
    ///
    /// # Errors
    /// [`ModelError::InvalidName`], [`ModelError::PointTypeNotInEdition`],
    /// [`ModelError::UnknownDomain`], [`ModelError::DuplicateName`].
    pub fn point(
        &mut self,
        domain: Option<&str>,
        name: &str,
        ptype: PointType,
        initial: PointValue,
    ) -> Result<PointId, ModelError> {
        self.add_point(domain, name, ptype, initial, false)
    }

    /// Add a point clients may write (given the bilateral table's write right).
    ///
    /// # Errors
    /// As [`Self::point`].
    pub fn writable_point(
        &mut self,
        domain: Option<&str>,
        name: &str,
        ptype: PointType,
        initial: PointValue,
    ) -> Result<PointId, ModelError> {
        self.add_point(domain, name, ptype, initial, true)
    }

    fn add_point(
        &mut self,
        domain: Option<&str>,
        name: &str,
        ptype: PointType,
        initial: PointValue,
        writable: bool,
    ) -> Result<PointId, ModelError> {
        check_name(name)?;
        if !ptype.exists_in(self.config.edition) {
            return Err(ModelError::PointTypeNotInEdition {
                name: name.into(),
                ptype: ptype.name(),
                edition: self.config.edition,
            });
        }
        self.check_scope(domain)?;
        self.check_free(domain, name)?;
        let id = PointId(self.tase2.points.len() as u32);
        let object = scoped(domain, name);
        let slot = self.slot(Slot::Point(id.0));
        let var = Variable::slotted(ptype.type_description(), slot, writable);
        self.variables_in(domain).insert(name.into(), var);
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
        Ok(id)
    }

    /// Tag `device` locally from the start, as [`Endpoint::set_tag`] would right after the build:
    /// part of the built model (a recording can start after it, and its fingerprint covers it).
    ///
    /// # Errors
    /// [`TagError::NoTag`](super::TagError::NoTag) if the device has no tag,
    /// [`TagError::Invalid`](super::TagError::Invalid) for
    /// [`TagValue::Invalid`](crate::tase2::TagValue::Invalid).
    pub fn local_tag(
        &mut self,
        device: DeviceId,
        value: crate::tase2::TagValue,
        reason: &str,
    ) -> Result<(), super::TagError> {
        let e = self
            .tase2
            .devices
            .list
            .get_mut(device.0 as usize)
            .filter(|e| e.is_tagged())
            .ok_or(super::TagError::NoTag)?;
        if value == crate::tase2::TagValue::Invalid {
            return Err(super::TagError::Invalid);
        }
        e.set_local_tag(value, reason);
        Ok(())
    }

    /// Add a device (block 5): `<name>`, plus `<name>_SBO` for select-before-operate and
    /// `<name>_TAG` if tagged; `domain` `None` for VCC scope. Who may operate it is the bilateral
    /// tables' write right on `name`.
    ///
    /// # Errors
    /// [`ModelError::InvalidName`], [`ModelError::DeviceNameTooLong`] (the derived names must be
    /// MMS names too), [`ModelError::UnknownDomain`], [`ModelError::DuplicateName`] (for any of
    /// the three names).
    pub fn device(
        &mut self,
        domain: Option<&str>,
        name: &str,
        spec: DeviceSpec,
    ) -> Result<DeviceId, ModelError> {
        use crate::tase2::device::{Tag, SBO_SUFFIX, TAG_SUFFIX};
        check_name(name)?;
        // The longest derived name must be an MMS identifier too.
        if !valid_name(&alloc::format!("{name}{SBO_SUFFIX}")) {
            return Err(ModelError::DeviceNameTooLong(name.into()));
        }
        self.check_scope(domain)?;
        let sbo = spec.mode == crate::tase2::ControlMode::Sbo;
        let mut names = alloc::vec![name.to_string()];
        if sbo {
            names.push(alloc::format!("{name}{SBO_SUFFIX}"));
        }
        if spec.tagged {
            names.push(alloc::format!("{name}{TAG_SUFFIX}"));
        }
        for n in &names {
            self.check_free(domain, n)?;
        }
        let id = self.tase2.devices.add(scoped(domain, name), spec);
        let mut names = names.into_iter();
        let mut vars = alloc::vec![(
            names.next().unwrap_or_default(),
            Variable::slotted(
                spec.kind.type_description(),
                self.slot(Slot::Device(id.0)),
                true
            ),
        )];
        if sbo {
            let s = self.slot(Slot::DeviceSbo(id.0));
            vars.push((
                names.next().unwrap_or_default(),
                Variable::slotted(TypeDescription::Integer(16), s, false),
            ));
        }
        if spec.tagged {
            let s = self.slot(Slot::DeviceTag(id.0));
            vars.push((
                names.next().unwrap_or_default(),
                Variable::slotted(Tag::type_description(), s, true),
            ));
        }
        let scope = self.variables_in(domain);
        scope.extend(vars);
        Ok(id)
    }

    /// Add an information message buffer `Info_Buff_<size>` (and `Info_Mess_Header`, once) in
    /// VCC scope (`domain` `None`) or an ICC domain (block 4). Messages up to `size` octets
    /// travel in it.
    ///
    /// # Errors
    /// [`ModelError::UnknownDomain`], [`ModelError::InfoBufferSizeOutOfRange`],
    /// [`ModelError::DuplicateName`] (this buffer twice, or another object named like it or like
    /// `Info_Mess_Header`).
    pub fn info_buffer(
        &mut self,
        domain: Option<&str>,
        size: usize,
    ) -> Result<&mut Self, ModelError> {
        use crate::tase2::info::{InfoHeader, INFO_BUFF_PREFIX, INFO_MESS_HEADER};
        self.check_scope(domain)?;
        let di = domain.and_then(|d| self.tase2.domain_index.get(d).copied());
        if size == 0 || size > i32::MAX as usize {
            return Err(ModelError::InfoBufferSizeOutOfRange(size));
        }
        let first = self
            .tase2
            .info_buffers
            .get(&di)
            .is_none_or(|s| s.is_empty());
        if first {
            self.check_free(domain, INFO_MESS_HEADER)?;
        }
        let item = alloc::format!("{INFO_BUFF_PREFIX}{size}");
        self.check_free(domain, &item)?;
        let sizes = self.tase2.info_buffers.entry(di).or_default();
        sizes.push(size);
        sizes.sort_unstable();
        let vars = self.variables_in(domain);
        vars.entry(INFO_MESS_HEADER.into()).or_insert_with(|| {
            let t = InfoHeader::type_description();
            let v = t.default_value();
            Variable::read_only(t, v)
        });
        vars.insert(
            item,
            Variable::read_only(
                TypeDescription::OctetString(-(size as i32)),
                Data::OctetString(Vec::new()),
            ),
        );
        Ok(self)
    }

    /// Add a plain MMS variable (neither point nor TASE.2 object), e.g. a configuration value.
    ///
    /// # Errors
    /// [`ModelError::InvalidName`], [`ModelError::UnknownDomain`], [`ModelError::DuplicateName`]
    /// (a plain variable does not replace another object).
    pub fn variable(
        &mut self,
        domain: Option<&str>,
        name: &str,
        variable: Variable,
    ) -> Result<&mut Self, ModelError> {
        check_name(name)?;
        self.check_scope(domain)?;
        self.check_free(domain, name)?;
        self.variables_in(domain).insert(name.into(), variable);
        Ok(self)
    }

    /// Add a predefined data set (not deletable by clients). Members are item names in the same
    /// domain, or `/Name` for a VCC object; each must be a variable added before.
    ///
    /// # Errors
    /// [`ModelError::InvalidName`], [`ModelError::UnknownDomain`],
    /// [`ModelError::DuplicateDataSet`], [`ModelError::UnknownMember`],
    /// [`ModelError::DataSetTooLarge`].
    pub fn data_set(
        &mut self,
        domain: Option<&str>,
        name: &str,
        members: &[&str],
    ) -> Result<&mut Self, ModelError> {
        check_name(name)?;
        self.check_scope(domain)?;
        let data_set = scoped(domain, name);
        let taken = match domain {
            Some(d) => self
                .vmd
                .domains
                .get(d)
                .is_some_and(|d| d.lists.contains_key(name)),
            None => self.vmd.lists.contains_key(name),
        };
        if taken {
            return Err(ModelError::DuplicateDataSet(data_set));
        }
        let mut list = Vec::with_capacity(members.len());
        for m in members {
            let member = match (m.strip_prefix('/'), domain) {
                (Some(v), _) => ObjectName::vmd(v),
                (None, d) => scoped(d, m),
            };
            if self.vmd.variable(&member).is_none() {
                return Err(ModelError::UnknownMember { data_set, member });
            }
            list.push(member);
        }
        if list.len() > MAX_DATA_SET_MEMBERS {
            return Err(ModelError::DataSetTooLarge {
                data_set,
                members: list.len(),
            });
        }
        let nvl = NamedVariableList {
            members: list,
            deletable: false,
        };
        let lists = match domain {
            Some(d) => &mut self.vmd.domain_mut(d).lists,
            None => &mut self.vmd.lists,
        };
        lists.insert(name.into(), nvl);
        Ok(self)
    }

    /// Add a bilateral table: its domain must exist and have no table yet (`Bilateral_Table_ID`
    /// is set in it); the objects it grants rights on and the devices it gives CheckBackIDs to
    /// must have been added before.
    ///
    /// # Errors
    /// [`ModelError::InvalidTableId`], [`ModelError::DuplicateTable`],
    /// [`ModelError::TableDomainUnknown`], [`ModelError::TableDomainTaken`],
    /// [`ModelError::TableMatchesEveryClient`], [`ModelError::TableRightsUnknownObject`],
    /// [`ModelError::TableUnknownDevice`].
    pub fn table(&mut self, table: BilateralTable) -> Result<&mut Self, ModelError> {
        let id = &table.id;
        if id.is_empty() || id.len() > 32 || !id.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ModelError::InvalidTableId(id.clone()));
        }
        if self.tase2.tables.iter().any(|t| &t.id == id) {
            return Err(ModelError::DuplicateTable(id.clone()));
        }
        let domain = &table.domain;
        if !self.tase2.domain_index.contains_key(domain) {
            return Err(ModelError::TableDomainUnknown {
                table: id.clone(),
                domain: domain.clone(),
            });
        }
        if let Some(other) = self.tase2.tables.iter().find(|t| &t.domain == domain) {
            return Err(ModelError::TableDomainTaken {
                table: id.clone(),
                domain: domain.clone(),
                other: other.id.clone(),
            });
        }
        if table.client == ClientMatch::default() {
            return Err(ModelError::TableMatchesEveryClient(id.clone()));
        }
        // Keys are item names in the table's domain, `/Name` in VCC scope.
        let object = |key: &str| match key.strip_prefix('/') {
            Some(v) => ObjectName::vmd(v),
            None => ObjectName::domain(domain.as_str(), key),
        };
        for key in table.rights.keys() {
            let o = object(key);
            let exists = self.vmd.variable(&o).is_some()
                || o == ObjectName::domain(domain.as_str(), names::BILATERAL_TABLE_ID)
                || match &o {
                    ObjectName::DomainSpecific { domain, item } => self
                        .vmd
                        .domains
                        .get(domain)
                        .is_some_and(|d| d.lists.contains_key(item)),
                    ObjectName::VmdSpecific(item) => self.vmd.lists.contains_key(item),
                    ObjectName::AaSpecific(_) => false,
                };
            if !exists {
                return Err(ModelError::TableRightsUnknownObject {
                    table: id.clone(),
                    object: o,
                });
            }
        }
        for key in table.check_back_ids.keys() {
            let o = object(key);
            if self.tase2.device_id(&o).is_none() {
                return Err(ModelError::TableUnknownDevice {
                    table: id.clone(),
                    device: o,
                });
            }
        }
        if let Some(d) = self.vmd.domains.get_mut(domain) {
            d.variables.insert(
                names::BILATERAL_TABLE_ID.into(),
                Variable::read_only(
                    TypeDescription::VisibleString(32),
                    Data::VisibleString(id.clone()),
                ),
            );
        }
        self.tase2.tables.push(table);
        Ok(self)
    }

    /// The id of a point added before, by name.
    pub fn point_id(&self, name: &ObjectName) -> Option<PointId> {
        self.tase2.point_index.get(name).map(|&i| PointId(i))
    }

    /// The server endpoint. Every object was checked when it was added, so this succeeds today;
    /// the `Result` leaves room for checks that need the whole model.
    ///
    /// # Errors
    /// None yet.
    pub fn build(self, config: ServerConfig) -> Result<Endpoint<Tase2>, ModelError> {
        Ok(Endpoint::with_hooks(config, self.vmd, self.tase2))
    }
}

/// `domain/item`, or `item` in VCC scope.
fn scoped(domain: Option<&str>, item: &str) -> ObjectName {
    match domain {
        Some(d) => ObjectName::domain(d, item),
        None => ObjectName::vmd(item),
    }
}
