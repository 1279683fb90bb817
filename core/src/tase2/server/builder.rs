//! [`Tase2Builder`]: the model of a TASE.2 server.

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::model_error::valid_name;
use super::transfer::{self, Subs, TransferSet};
use super::{
    device, info, DeviceId, DeviceSpec, DomainEntry, ModelError, PointEntry, PointId, Slot, Tase2,
    Tase2Config,
};
use crate::ber::Writer;
use crate::mms::{BitString, Data, ObjectName, TypeDescription};
use crate::server::{Endpoint, NamedVariableList, ServerConfig, Variable, Vmd};
use crate::tase2::bilateral::BilateralTable;
use crate::tase2::point::{PointType, PointValue};
use crate::tase2::transfer_set::{object_name_type, DsTransferSetValue};
use crate::tase2::{names, Features};

/// Builds a TASE.2 server model.
pub struct Tase2Builder {
    config: Tase2Config,
    vmd: Vmd,
    tase2: Tase2,
    errors: Vec<ModelError>,
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
