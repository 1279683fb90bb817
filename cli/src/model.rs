//! From a parsed configuration to a TASE.2 server endpoint: points, devices, information buffers,
//! data sets, bilateral tables and the simulation, each checked with an error that names the
//! place in the file.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use tase2_core::acse::ApInvocation;
use tase2_core::ber::ObjectIdentifier;
use tase2_core::mms::{Data, ObjectName, StructComponent, TypeDescription, TypeSpecification};
use tase2_core::server::{Endpoint, Identity, ServerConfig, Variable};
use tase2_core::tase2::device::MAX_TAG_REASON;
use tase2_core::tase2::server::{
    DeviceId, DeviceSpec, ModelError, OperatePolicy, Tase2, Tase2Builder, Tase2Config,
};
use tase2_core::tase2::{
    names, BilateralTable, CertificateBinding, ClientMatch, ControlMode, CurrentSource, DeviceKind,
    Edition, Family, Flags, Form, InfoScope, PointType, PointValue, Rights, StateValue, TagValue,
    Timestamp, Unlisted, Validity, Value,
};
use toml::Spanned;

use crate::config::{
    AnswerName, BehaviourName, ConfigError, DataSetSection, DeviceKindName, DeviceSection,
    EditionName, File, ModeName, PointSection, RightsName, ScopeName, SimInfoSection, Source,
    TableSection, UnlistedName,
};
use crate::sim::{Answer, Behaviour, FieldDevice, FieldDevices, InfoBody, InfoSim, Simulation};

/// The VCC variable whose write of `true` triggers a report (`[vcc] test_report_trigger`).
pub const REPORT_TRIGGER: &str = "Report_Trigger";
/// The counter the trigger increments.
pub const REPORT_COUNTER: &str = "Report_Counter";
/// The VCC data set the trigger reports.
pub const VCC_REPORT: &str = "Vcc_Report";

/// Most `test_points` of one domain (the names have room for more, a server's memory less so).
const MAX_TEST_POINTS: u32 = 100_000;

/// A server ready to run.
pub struct Model {
    /// The endpoint.
    pub endpoint: Endpoint<Tase2>,
    /// `[server] listen`.
    pub listen: String,
    /// The simulation, if any point is simulated.
    pub simulation: Option<Simulation>,
    /// Whether `Report_Trigger` exists and should send reports.
    pub report_trigger: bool,
    /// The simulated field devices that answer operates.
    pub field_devices: FieldDevices,
    /// Information messages sent periodically.
    pub info_messages: Vec<InfoSim>,
    /// One line describing the model, for the startup message.
    pub summary: String,
    /// `[server.tls]`, if any.
    pub tls: Option<crate::config::TlsSection>,
}

/// Parse and build `text` (named `origin` in errors); `start` stamps points that have no
/// timestamp of their own.
pub fn load(text: &str, origin: &str, start: Timestamp) -> Result<Model, ConfigError> {
    let src = Source { text, origin };
    let file = src.parse()?;
    build(&src, &file, start)
}

/// `Sample_<Type>`, e.g. `Sample_RealQTimeTag`. The one name over the MMS limit of 32 characters,
/// `Sample_StateSupplementalQTimeTagExtended`, is shortened to `Sample_StateSuppQTimeTagExtended`.
pub fn sample_name(t: PointType) -> String {
    let short = &t.name()[5..];
    let name = format!("Sample_{short}");
    if name.len() <= 32 {
        name
    } else {
        format!("Sample_{}", short.replace("Supplemental", "Supp"))
    }
}

struct Build<'a> {
    src: &'a Source<'a>,
    edition: Edition,
    start: Timestamp,
    /// The model; it checks names, scopes and references itself (`ModelError`), this file adds
    /// the position in the file.
    b: Tase2Builder,
    /// Points and their types, for the feedback checks and the simulation.
    points: HashMap<ObjectName, PointType>,
    domains: BTreeSet<String>,
    /// Information buffer sizes per scope (`None`: VCC).
    info_sizes: BTreeMap<Option<String>, Vec<usize>>,
    field_devices: FieldDevices,
    /// Initial local tags: device, tag, reason.
    local_tags: Vec<(DeviceId, TagValue, String)>,
}

fn object(domain: Option<&str>, item: &str) -> ObjectName {
    match domain {
        Some(d) => ObjectName::domain(d, item),
        None => ObjectName::vmd(item),
    }
}

/// `DOMAIN/Name` or `/Name`.
fn parse_object(s: &str) -> Option<ObjectName> {
    match s.split_once('/')? {
        ("", item) => Some(ObjectName::vmd(item)),
        (domain, item) => Some(ObjectName::domain(domain, item)),
    }
}

fn oid(src: &Source<'_>, s: &Spanned<String>) -> Result<ObjectIdentifier, ConfigError> {
    s.get_ref().parse().map_err(|_| {
        src.error_at(
            s.span(),
            format!("not an AP-title (object identifier): {:?}", s.get_ref()),
        )
    })
}

fn hex(src: &Source<'_>, s: &Spanned<String>) -> Result<Vec<u8>, ConfigError> {
    let t = s.get_ref();
    let bad = || src.error_at(s.span(), format!("not a hex selector: {t:?}"));
    if t.len() % 2 != 0 || t.is_empty() {
        return Err(bad());
    }
    (0..t.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(t.get(i..i + 2).ok_or_else(bad)?, 16).map_err(|_| bad()))
        .collect()
}

fn rights(r: RightsName) -> Rights {
    match r {
        RightsName::Read => Rights::READ,
        RightsName::ReadWrite => Rights::READ_WRITE,
        RightsName::None => Rights::NONE,
    }
}

fn structure(components: Vec<(&str, TypeDescription)>) -> TypeDescription {
    TypeDescription::Structure {
        packed: false,
        components: components
            .into_iter()
            .map(|(n, t)| StructComponent {
                name: Some(n.into()),
                type_spec: TypeSpecification::Description(t),
            })
            .collect(),
    }
}

/// Parse quality flags: an octet, or comma-separated words.
fn parse_flags(v: &toml::Value) -> Result<Flags, String> {
    match v {
        toml::Value::Integer(n) => u8::try_from(*n)
            .map(Flags)
            .map_err(|_| format!("flags octet out of range 0-255: {n}")),
        toml::Value::String(s) => {
            let mut f = Flags::VALID;
            for word in s.split([',', ' ', '|']).filter(|w| !w.is_empty()) {
                f = match word {
                    "valid" => f.with_validity(Validity::Valid),
                    "held" => f.with_validity(Validity::Held),
                    "suspect" => f.with_validity(Validity::Suspect),
                    "not-valid" => f.with_validity(Validity::NotValid),
                    "telemetered" => f.with_source(CurrentSource::Telemetered),
                    "calculated" => f.with_source(CurrentSource::Calculated),
                    "entered" => f.with_source(CurrentSource::Entered),
                    "estimated" => f.with_source(CurrentSource::Estimated),
                    "off-normal" => f.with_off_normal(true),
                    "ts-invalid" => f.with_timestamp_invalid(true),
                    other => {
                        return Err(format!(
                            "unknown flag {other:?} (valid, held, suspect, not-valid, telemetered, \
                             calculated, entered, estimated, off-normal, ts-invalid)"
                        ))
                    }
                };
            }
            Ok(f)
        }
        other => Err(format!(
            "flags must be an octet or a string of words, not {}",
            other.type_str()
        )),
    }
}

/// Parse an initial value for a point of type `t`.
fn parse_value(t: PointType, v: &toml::Value) -> Result<Value, String> {
    let int = |lo: i64, hi: i64| match v {
        toml::Value::Integer(n) if (lo..=hi).contains(n) => Ok(*n),
        toml::Value::Integer(n) => Err(format!("value {n} out of range {lo}..={hi}")),
        other => Err(format!("expected an integer, not {}", other.type_str())),
    };
    Ok(match t.zero().value {
        Value::Real(_) => match v {
            toml::Value::Float(f) => Value::Real(*f as f32),
            toml::Value::Integer(n) => Value::Real(*n as f32),
            other => return Err(format!("expected a number, not {}", other.type_str())),
        },
        Value::Discrete(_) => Value::Discrete(int(i32::MIN.into(), i32::MAX.into())? as i32),
        Value::StateSupplemental(_) => Value::StateSupplemental(int(0, 255)? as u8),
        Value::State(_) => Value::State(match v.as_str() {
            Some("on" | "closed") => StateValue::On,
            Some("off" | "open" | "tripped") => StateValue::Off,
            Some("between") => StateValue::Between,
            Some("invalid") => StateValue::Invalid,
            _ => return Err(
                "a state is \"on\" (\"closed\"), \"off\" (\"open\", \"tripped\"), \"between\" or \
                     \"invalid\""
                    .into(),
            ),
        }),
        Value::SingleEvent { operating_time, .. } => Value::SingleEvent {
            flags: int(0, 255)? as u8,
            operating_time,
        },
        Value::PackedEvent {
            flags,
            operating_time,
            ..
        } => Value::PackedEvent {
            events: int(0, 255)? as u8,
            flags,
            operating_time,
        },
    })
}

fn sample_value(t: PointType) -> Value {
    match t.zero().value {
        Value::Real(_) => Value::Real(12.5),
        Value::Discrete(_) => Value::Discrete(42),
        Value::State(_) => Value::State(StateValue::On),
        Value::StateSupplemental(_) => Value::StateSupplemental(0x5a),
        Value::SingleEvent { .. } => Value::SingleEvent {
            flags: 0x80,
            operating_time: 20,
        },
        Value::PackedEvent { .. } => Value::PackedEvent {
            events: 0x01,
            flags: 0x80,
            operating_time: 20,
        },
    }
}

impl Build<'_> {
    /// A model error at `span` of the file.
    fn refused(&self, span: std::ops::Range<usize>, e: ModelError) -> ConfigError {
        self.src.error_at(span, e.to_string())
    }

    fn point(&mut self, domain: Option<&str>, p: &PointSection) -> Result<(), ConfigError> {
        let src = self.src;
        let t = PointType::from_name(p.ptype.get_ref()).ok_or_else(|| {
            src.error_at(
                p.ptype.span(),
                format!(
                    "unknown point type {:?} (e.g. Data_RealQTimeTag or RealQTimeTag)",
                    p.ptype.get_ref()
                ),
            )
        })?;
        let mut v = t.zero().at(self.start);
        if let Some(value) = &p.value {
            v.value = parse_value(t, value.get_ref())
                .map_err(|m| src.error_at(value.span(), format!("{}: {m}", p.name.get_ref())))?;
        }
        if let Some(flags) = &p.flags {
            v.flags = parse_flags(flags.get_ref())
                .map_err(|m| src.error_at(flags.span(), format!("{}: {m}", p.name.get_ref())))?;
        }
        if let Some(ts) = &p.timestamp {
            let seconds = i32::try_from(*ts.get_ref())
                .map_err(|_| src.error_at(ts.span(), "timestamp out of range (INT32 seconds)"))?;
            v.timestamp = Timestamp { seconds, millis: 0 };
        }
        let name = p.name.get_ref();
        let added = if p.writable {
            self.b.writable_point(domain, name, t, v)
        } else {
            self.b.point(domain, name, t, v)
        };
        added.map_err(|e| match e {
            ModelError::PointTypeNotInEdition { .. } => self.refused(p.ptype.span(), e),
            e => self.refused(p.name.span(), e),
        })?;
        self.points.insert(object(domain, name), t);
        Ok(())
    }

    /// A generated point (sample or test point), named by us.
    fn generated(
        &mut self,
        domain: Option<&str>,
        name: &str,
        t: PointType,
        v: PointValue,
    ) -> Result<(), ConfigError> {
        self.b.point(domain, name, t, v).map_err(|e| match e {
            ModelError::DuplicateName { .. } => self
                .src
                .error(format!("{e} (a generated point has that name)")),
            e => self.src.error(e.to_string()),
        })?;
        self.points.insert(object(domain, name), t);
        Ok(())
    }

    fn samples(&mut self, domain: Option<&str>) -> Result<(), ConfigError> {
        let edition = self.edition;
        for t in PointType::all().filter(|t| t.exists_in(edition)) {
            let v = PointValue::new(sample_value(t)).at(self.start);
            self.generated(domain, &sample_name(t), t, v)?;
        }
        Ok(())
    }

    fn test_points(&mut self, domain: &str, count: u32) -> Result<(), ConfigError> {
        let t = PointType::Indication(Family::Real, Form::QTimeTag);
        for n in 1..=count {
            let v = PointValue::real(n as f32 * 1.5).at(Timestamp {
                seconds: 1_700_000_000 + n as i32,
                millis: 0,
            });
            self.generated(Some(domain), &format!("Point_{n:04}"), t, v)?;
        }
        Ok(())
    }

    fn plain(&mut self, domain: Option<&str>, name: &str, v: Variable) -> Result<(), ConfigError> {
        self.b
            .variable(domain, name, v)
            .map_err(|e| self.src.error(e.to_string()))?;
        Ok(())
    }

    /// `Nested`: { A INT16, B { C BOOLEAN, D VisibleString(32) }, E ARRAY\[3\] OF UNSIGNED8 }.
    fn test_structure(&mut self, domain: &str) -> Result<(), ConfigError> {
        let t = structure(vec![
            ("A", TypeDescription::Integer(16)),
            (
                "B",
                structure(vec![
                    ("C", TypeDescription::Boolean),
                    ("D", TypeDescription::VisibleString(32)),
                ]),
            ),
            (
                "E",
                TypeDescription::Array {
                    packed: false,
                    number_of_elements: 3,
                    element_type: Box::new(TypeSpecification::Description(
                        TypeDescription::Unsigned(8),
                    )),
                },
            ),
        ]);
        let v = Data::Structure(vec![
            Data::Integer(-5),
            Data::Structure(vec![
                Data::Boolean(true),
                Data::VisibleString("hello".into()),
            ]),
            Data::Array(vec![
                Data::Unsigned(1),
                Data::Unsigned(2),
                Data::Unsigned(3),
            ]),
        ]);
        self.plain(Some(domain), "Nested", Variable::writable(t, v))
    }

    fn report_trigger(&mut self) -> Result<(), ConfigError> {
        self.plain(
            None,
            REPORT_TRIGGER,
            Variable::writable(TypeDescription::Boolean, Data::Boolean(false)),
        )?;
        self.plain(
            None,
            REPORT_COUNTER,
            Variable::read_only(TypeDescription::Integer(32), Data::Integer(0)),
        )?;
        self.b
            .data_set(None, VCC_REPORT, &[names::TASE2_VERSION, REPORT_COUNTER])
            .map_err(|e| self.src.error(e.to_string()))?;
        Ok(())
    }

    /// A device (block 5), after the points of its scope (its feedback point is one of them).
    fn device(&mut self, domain: Option<&str>, d: &DeviceSection) -> Result<(), ConfigError> {
        let src = self.src;
        let name = d.name.get_ref();
        let kind = match d.kind {
            DeviceKindName::Command => DeviceKind::Command,
            DeviceKindName::DiscreteSetpoint => DeviceKind::DiscreteSetpoint,
            DeviceKindName::RealSetpoint => DeviceKind::RealSetpoint,
        };
        let mode = match d.mode {
            ModeName::Direct => ControlMode::Direct,
            ModeName::Sbo => ControlMode::Sbo,
        };
        let mut spec = DeviceSpec::new(kind, mode).check_back_id(d.check_back_id);
        if d.tagged {
            spec = spec.tagged();
        }
        let id = self
            .b
            .device(domain, name, spec)
            .map_err(|e| self.refused(d.name.span(), e))?;
        let feedback = match &d.feedback {
            None => None,
            Some(f) => Some(self.feedback(domain, name, kind, f)?),
        };
        let tag = match &d.tag {
            None => None,
            Some(t) => {
                let value = TagValue::parse(t.get_ref())
                    .filter(|v| *v != TagValue::Invalid)
                    .ok_or_else(|| {
                        src.error_at(
                            t.span(),
                            format!(
                                "device {name}: unknown tag {:?} (\"close-only\", \
                                 \"open-and-close\" or \"none\")",
                                t.get_ref()
                            ),
                        )
                    })?;
                if !d.tagged {
                    return Err(src.error_at(
                        t.span(),
                        format!("device {name}: a tag needs tagged = true"),
                    ));
                }
                Some(value)
            }
        };
        let reason = match (&d.tag_reason, tag) {
            (None, _) => String::new(),
            (Some(r), None) => {
                return Err(
                    src.error_at(r.span(), format!("device {name}: tag_reason without a tag"))
                )
            }
            (Some(r), Some(_)) => {
                let text = r.get_ref();
                if text.len() > MAX_TAG_REASON
                    || !text.bytes().all(|b| b.is_ascii() && !b.is_ascii_control())
                {
                    return Err(src.error_at(
                        r.span(),
                        format!(
                            "device {name}: tag_reason must be at most {MAX_TAG_REASON} \
                             printable ASCII characters"
                        ),
                    ));
                }
                text.clone()
            }
        };
        let answer = match d.answer {
            AnswerName::Accept => Answer::Accept,
            AnswerName::Refuse => Answer::Refuse,
            AnswerName::Ignore => Answer::Ignore,
        };
        self.field_devices.add(id, FieldDevice { answer, feedback });
        if let Some(t) = tag.filter(|t| *t != TagValue::None) {
            self.local_tags.push((id, t, reason));
        }
        Ok(())
    }

    /// A device's feedback point: in the device's scope, of a type its values fit.
    fn feedback(
        &self,
        domain: Option<&str>,
        device: &str,
        kind: DeviceKind,
        f: &Spanned<String>,
    ) -> Result<tase2_core::tase2::server::PointId, ConfigError> {
        let src = self.src;
        let item = f.get_ref();
        let o = object(domain, item);
        let scope = domain.unwrap_or("VCC scope");
        let t = self.points.get(&o).copied().ok_or_else(|| {
            src.error_at(
                f.span(),
                format!(
                    "device {device}: feedback point {item:?} does not exist in {scope} (name a \
                     point of the device's own scope, defined before it)"
                ),
            )
        })?;
        let (fits, wants) = match (kind, t.zero().value) {
            (DeviceKind::Command, v) => (matches!(v, Value::State(_)), "a state point"),
            (DeviceKind::RealSetpoint, v) => (matches!(v, Value::Real(_)), "a real point"),
            (DeviceKind::DiscreteSetpoint, v) => {
                (matches!(v, Value::Discrete(_)), "a discrete point")
            }
        };
        if !fits {
            return Err(src.error_at(
                f.span(),
                format!(
                    "device {device}: feedback point {item} is a {}; a {} needs {wants}",
                    t.name(),
                    match kind {
                        DeviceKind::Command => "command",
                        DeviceKind::RealSetpoint => "real setpoint",
                        DeviceKind::DiscreteSetpoint => "discrete setpoint",
                    }
                ),
            ));
        }
        self.b
            .point_id(&o)
            .ok_or_else(|| src.error(format!("{o}: no point id")))
    }

    /// `info_buffers = [..]` of a scope (block 4).
    fn info_buffers(
        &mut self,
        domain: Option<&str>,
        sizes: &[Spanned<i64>],
    ) -> Result<(), ConfigError> {
        for size in sizes {
            let n = *size.get_ref();
            // A negative size is no usize; the builder checks the rest of the range.
            let n = usize::try_from(n).map_err(|_| {
                self.src.error_at(
                    size.span(),
                    format!("information buffer size {n} out of range 1..={}", i32::MAX),
                )
            })?;
            self.b
                .info_buffer(domain, n)
                .map(|_| ())
                .map_err(|e| self.refused(size.span(), e))?;
            let list = self.info_sizes.entry(domain.map(String::from)).or_default();
            list.push(n);
            list.sort_unstable();
        }
        Ok(())
    }

    /// One `[[simulation.info_message]]`.
    fn info_message(&self, m: &Spanned<SimInfoSection>) -> Result<InfoSim, ConfigError> {
        let src = self.src;
        let sm = m.get_ref();
        let domain = match &sm.domain {
            Some(d) if !self.domains.contains(d.get_ref()) => {
                return Err(src.error_at(
                    d.span(),
                    format!("information message: no domain named {:?}", d.get_ref()),
                ))
            }
            Some(d) => Some(d.get_ref().clone()),
            None => None,
        };
        let every = *sm.every_s.get_ref();
        if every == 0 {
            return Err(src.error_at(sm.every_s.span(), "every_s must be at least 1"));
        }
        let body = match (&sm.text, &sm.hex) {
            (Some(t), None) => InfoBody::Text(t.get_ref().clone()),
            (None, Some(h)) => InfoBody::Binary(hex_octets(h.get_ref()).ok_or_else(|| {
                src.error_at(
                    h.span(),
                    format!("information message: not hex octets: {:?}", h.get_ref()),
                )
            })?),
            _ => return Err(src.error_at(m.span(), "information message: give either text or hex")),
        };
        let sim = InfoSim {
            domain,
            every: Duration::from_secs(every),
            info_reference: sm.info_reference,
            local_reference: sm.local_reference,
            body,
        };
        let scope = sim.domain.as_deref().unwrap_or("VCC scope");
        let Some(&largest) = self.info_sizes.get(&sim.domain).and_then(|s| s.last()) else {
            return Err(src.error_at(
                m.span(),
                format!("information message: {scope} has no info_buffers"),
            ));
        };
        if sim.max_len() > largest {
            return Err(src.error_at(
                m.span(),
                format!(
                    "information message of up to {} octets does not fit the largest \
                     information buffer of {scope} ({largest})",
                    sim.max_len()
                ),
            ));
        }
        Ok(sim)
    }

    fn data_set(&mut self, domain: Option<&str>, ds: &DataSetSection) -> Result<(), ConfigError> {
        let src = self.src;
        let name = ds.name.get_ref();
        let members: Vec<&str> = ds.members.iter().map(|m| m.get_ref().as_str()).collect();
        let refused = match self.b.data_set(domain, name, &members) {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        // An unknown member is shown where it is written.
        let span = match &refused {
            ModelError::UnknownMember { member, .. } => ds
                .members
                .iter()
                .find(|m| {
                    let o = match (m.get_ref().strip_prefix('/'), domain) {
                        (Some(v), _) => ObjectName::vmd(v),
                        (None, d) => object(d, m.get_ref()),
                    };
                    &o == member
                })
                .map_or(ds.name.span(), |m| m.span()),
            _ => ds.name.span(),
        };
        Err(src.error_at(span, refused.to_string()))
    }

    /// One `[[bilateral_table]]`, added to the model.
    fn table(&mut self, t: &Spanned<TableSection>) -> Result<(), ConfigError> {
        let src = self.src;
        let tab = t.get_ref();
        let c = &tab.client;
        let client = ClientMatch {
            ap_title: c.ap_title.as_ref().map(|s| oid(src, s)).transpose()?,
            ae_qualifier: c.ae_qualifier,
            p_selector: c.p_selector.as_ref().map(|s| hex(src, s)).transpose()?,
            s_selector: c.s_selector.as_ref().map(|s| hex(src, s)).transpose()?,
            t_selector: c.t_selector.as_ref().map(|s| hex(src, s)).transpose()?,
        };
        let mut table = BilateralTable::new(
            tab.id.get_ref().as_str(),
            client,
            tab.domain.get_ref().as_str(),
        );
        table.default_rights = rights(tab.default_rights);
        for (object, r) in &tab.rights {
            table.rights.insert(object.clone(), rights(*r));
        }
        for g in &tab.info_messages {
            let scope = match g.scope {
                ScopeName::Vcc => InfoScope::Vcc,
                ScopeName::Icc => InfoScope::Icc,
            };
            table = table.admit_info(scope, g.info_reference, g.local_reference);
        }
        if let Some(c) = &tab.certificate {
            let mut binding = CertificateBinding {
                subject: c.get_ref().subject.clone(),
                fingerprints: Vec::new(),
            };
            for f in &c.get_ref().fingerprints {
                let fp = tase2_core::server::parse_fingerprint(f).ok_or_else(|| {
                    src.error_at(
                        c.span(),
                        format!("not a SHA-256 fingerprint (64 hex digits): {f:?}"),
                    )
                })?;
                binding.fingerprints.push(fp);
            }
            if binding.subject.is_none() && binding.fingerprints.is_empty() {
                return Err(src.error_at(
                    c.span(),
                    "a certificate binding needs `subject` or `fingerprints`",
                ));
            }
            table = table.certificate(binding);
        }
        if let Some(pw) = &tab.password {
            table = table.password(pw.as_bytes());
        }
        if let Some(ids) = &tab.check_back_ids {
            for (device, cb) in ids.get_ref() {
                table = table.check_back_id(device.as_str(), *cb);
            }
        }
        self.b.table(table).map(|_| ()).map_err(|e| {
            let span = match e {
                ModelError::InvalidTableId(_) | ModelError::DuplicateTable(_) => tab.id.span(),
                ModelError::TableDomainUnknown { .. } | ModelError::TableDomainTaken { .. } => {
                    tab.domain.span()
                }
                ModelError::TableUnknownDevice { .. } => tab
                    .check_back_ids
                    .as_ref()
                    .map_or(t.span(), |ids| ids.span()),
                _ => t.span(),
            };
            self.refused(span, e)
        })?;
        Ok(())
    }
}

/// Build the server `file` describes.
pub fn build(src: &Source<'_>, file: &File, start: Timestamp) -> Result<Model, ConfigError> {
    let s = &file.server;
    let edition = match s.edition {
        EditionName::V2000 => Edition::V2000_08,
        EditionName::V1996 => Edition::V1996_08,
    };
    let ap_title = match &s.ap_title {
        Some(t) => oid(src, t)?,
        None => "1.1.1.998"
            .parse()
            .map_err(|_| src.error("bad built-in AP-title"))?,
    };
    if s.ack_timeout_s == 0 {
        return Err(src.error("[server] ack_timeout_s must be at least 1"));
    }
    for (key, v) in [
        ("select_timeout_s", &s.select_timeout_s),
        ("operate_timeout_s", &s.operate_timeout_s),
    ] {
        if *v.get_ref() == 0 {
            return Err(src.error_at(v.span(), format!("{key} must be at least 1")));
        }
    }
    let config = Tase2Config {
        edition,
        local_ap_title: Some(ap_title.clone()),
        unlisted: match s.unlisted {
            UnlistedName::Refuse => Unlisted::Refuse,
            UnlistedName::VccOnly => Unlisted::VccOnly,
        },
        ack_timeout: Duration::from_secs(s.ack_timeout_s),
        select_timeout: Duration::from_secs(*s.select_timeout_s.get_ref()),
        operate: OperatePolicy::AskApplication {
            timeout: Duration::from_secs(*s.operate_timeout_s.get_ref()),
        },
        ..Tase2Config::default()
    };
    let mut identity = Identity::default();
    if let Some(v) = &s.identity.vendor {
        identity.vendor = v.clone();
    }
    if let Some(m) = &s.identity.model {
        identity.model = m.clone();
    }
    if let Some(r) = &s.identity.revision {
        identity.revision = r.clone();
    }
    let mut b = Build {
        src,
        edition,
        start,
        b: Tase2Builder::new(config).identity(identity),
        points: HashMap::new(),
        domains: BTreeSet::new(),
        info_sizes: BTreeMap::new(),
        field_devices: FieldDevices::default(),
        local_tags: Vec::new(),
    };

    // VCC objects.
    if file.vcc.test_report_trigger {
        b.report_trigger()?;
    }
    if file.vcc.sample_points {
        b.samples(None)?;
    }
    for p in &file.vcc.points {
        b.point(None, p)?;
    }
    for d in &file.vcc.devices {
        b.device(None, d)?;
    }
    b.info_buffers(None, &file.vcc.info_buffers)?;

    // ICC domains and their points.
    for d in &file.domains {
        let name = d.name.get_ref();
        b.b.domain(name, d.transfer_sets)
            .map(|_| ())
            .map_err(|e| b.refused(d.name.span(), e))?;
        b.domains.insert(name.clone());
        if d.test_points > MAX_TEST_POINTS {
            return Err(src.error_at(
                d.name.span(),
                format!("domain {name}: test_points is at most {MAX_TEST_POINTS}"),
            ));
        }
        b.test_points(name, d.test_points)?;
        if d.test_structure {
            b.test_structure(name)?;
        }
        if d.sample_points {
            b.samples(Some(name))?;
        }
        for p in &d.points {
            b.point(Some(name), p)?;
        }
        for dev in &d.devices {
            b.device(Some(name), dev)?;
        }
        b.info_buffers(Some(name), &d.info_buffers)?;
    }

    // Data sets, then the tables (whose rights may name data sets).
    for ds in &file.vcc.data_sets {
        b.data_set(None, ds)?;
    }
    for d in &file.domains {
        for ds in &d.data_sets {
            b.data_set(Some(d.name.get_ref()), ds)?;
        }
    }
    for t in &file.tables {
        b.table(t)?;
    }

    // The simulation.
    let simulation = match &file.simulation {
        None => None,
        Some(sim) => {
            let period = *sim.period_ms.get_ref();
            if period == 0 {
                return Err(src.error_at(sim.period_ms.span(), "period_ms must be at least 1"));
            }
            let mut s = Simulation::new(Duration::from_millis(period), sim.seed);
            let mut seen = BTreeSet::new();
            for p in &sim.points {
                let behaviour = sim_point(&b, p)?;
                let name = p.get_ref().name.get_ref();
                let o = parse_object(name).unwrap_or_else(|| ObjectName::vmd(""));
                let id = b.b.point_id(&o).ok_or_else(|| {
                    src.error_at(p.get_ref().name.span(), format!("no point named {name}"))
                })?;
                if !seen.insert(o) {
                    return Err(src.error_at(
                        p.get_ref().name.span(),
                        format!("{name} is simulated twice"),
                    ));
                }
                s.add(id, behaviour);
            }
            (!s.is_empty()).then_some(s)
        }
    };
    let info_messages = match &file.simulation {
        None => Vec::new(),
        Some(sim) => sim
            .info_messages
            .iter()
            .map(|m| b.info_message(m))
            .collect::<Result<_, _>>()?,
    };

    let points = b.points.len();
    let simulated = simulation.as_ref().map_or(0, Simulation::len);
    let (major, minor) = edition.version();
    let buffers: usize = b.info_sizes.values().map(Vec::len).sum();
    let summary = format!(
        "TASE.2 {major}.{minor:02}, {} domains, {} bilateral tables, {points} points ({simulated} simulated), {} devices, {buffers} information buffers ({} messages simulated)",
        b.domains.len(),
        file.tables.len(),
        b.field_devices.len(),
        info_messages.len(),
    );
    let mut server = ServerConfig::default();
    server.association.local = ApInvocation {
        ap_title: Some(ap_title),
        ae_qualifier: Some(s.ae_qualifier),
        ..Default::default()
    };
    let Build {
        b: mut builder,
        field_devices,
        local_tags,
        ..
    } = b;
    // Through the builder, not `Endpoint::set_tag` after the build: the tags are part of the
    // built model, so `tase2 serve --record` can start recording the fresh endpoint and a replay
    // loading the same TOML gets the same one.
    for (device, tag, reason) in local_tags {
        builder
            .local_tag(device, tag, &reason)
            .map_err(|e| src.error(format!("local tag: {e}")))?;
    }
    let endpoint = builder
        .build(server)
        .map_err(|e| src.error(format!("model: {e}")))?;
    Ok(Model {
        endpoint,
        listen: s.listen.clone(),
        simulation,
        report_trigger: file.vcc.test_report_trigger,
        field_devices,
        info_messages,
        summary,
        tls: s.tls.clone(),
    })
}

/// Octets from hex digits (whitespace between them allowed).
fn hex_octets(text: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = text
        .bytes()
        .filter(|b| !b.is_ascii_whitespace())
        .map(|b| (b as char).to_digit(16).map(|d| d as u8))
        .collect::<Option<_>>()?;
    if digits.len() % 2 != 0 {
        return None;
    }
    Some(digits.chunks(2).map(|p| p[0] << 4 | p[1]).collect())
}

/// Check one `[[simulation.point]]` against its point's type.
fn sim_point(
    b: &Build<'_>,
    p: &Spanned<crate::config::SimPointSection>,
) -> Result<Behaviour, ConfigError> {
    let src = b.src;
    let sp = p.get_ref();
    let name = sp.name.get_ref();
    let at = |m: String| src.error_at(sp.name.span(), m);
    let o = parse_object(name)
        .ok_or_else(|| at(format!("{name:?}: name points as DOMAIN/Name or /Name")))?;
    let t = *b
        .points
        .get(&o)
        .ok_or_else(|| at(format!("no point named {name}")))?;
    let family = match t {
        PointType::Indication(f, _) => Some(f),
        _ => None,
    };
    match sp.behaviour {
        BehaviourName::Walk => {
            if !matches!(family, Some(Family::Real | Family::Discrete)) {
                return Err(at(format!(
                    "{name}: a walk needs a real or discrete point, not {}",
                    t.name()
                )));
            }
            let (Some(min), Some(max), Some(step)) = (sp.min, sp.max, sp.step) else {
                return Err(at(format!("{name}: a walk needs min, max and step")));
            };
            if !(min.is_finite() && max.is_finite() && step.is_finite()) || min > max || step <= 0.0
            {
                return Err(at(format!(
                    "{name}: a walk needs finite min <= max and step > 0"
                )));
            }
            if sp.probability.is_some() {
                return Err(at(format!("{name}: probability is for toggle")));
            }
            Ok(Behaviour::Walk { min, max, step })
        }
        BehaviourName::Toggle => {
            if family != Some(Family::State) {
                return Err(at(format!(
                    "{name}: a toggle needs a state point, not {}",
                    t.name()
                )));
            }
            let Some(probability) = sp.probability.filter(|p| (0.0..=1.0).contains(p)) else {
                return Err(at(format!(
                    "{name}: a toggle needs a probability from 0 to 1"
                )));
            };
            if sp.min.is_some() || sp.max.is_some() || sp.step.is_some() {
                return Err(at(format!("{name}: min, max and step are for walk")));
            }
            Ok(Behaviour::Toggle { probability })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tase2_core::mms::Float;
    use tase2_core::tase2::server::{valid_name, OperatePolicy};
    use tase2_core::Instant;

    fn real(x: f32) -> Data {
        Data::Float(Float::F32(x))
    }

    fn start() -> Timestamp {
        Timestamp {
            seconds: 1_800_000_000,
            millis: 0,
        }
    }

    fn err(text: &str) -> ConfigError {
        match load(text, "bad.toml", start()) {
            Ok(_) => panic!("accepted:\n{text}"),
            Err(e) => e,
        }
    }

    #[test]
    fn the_embedded_default_builds() {
        let m = load(crate::config::DEFAULT, "default", start()).unwrap();
        let t = m.endpoint.tase2();
        for d in ["ICC1", "ICC2"] {
            for p in [
                "Gen1_MW",
                "Gen2_MW",
                "Line1_MW",
                "Line2_MW",
                "Load1_MW",
                "Freq_Hz",
                "Brk1",
                "Brk2",
                "Tap1",
                "Sample_RealQTimeTag",
                "Sample_SingleProtectionEvent",
                "Sample_PackedProtectionEvent",
                "Sample_StateSuppQTimeTagExtended",
            ] {
                assert!(
                    t.point_id(&ObjectName::domain(d, p)).is_some(),
                    "{d}/{p} missing"
                );
            }
            let model = m.endpoint.model();
            let dom = &model.domains[d];
            assert!(dom.lists.contains_key("DS_Grid"), "{d}/DS_Grid");
            assert!(dom.variables.contains_key("DSTransfer_Set_8"));
            assert!(!dom.variables.contains_key("DSTransfer_Set_9"));
            assert_eq!(
                dom.variables["Bilateral_Table_ID"].value,
                Data::VisibleString(format!("BLT_{d}"))
            );
        }
        let model = m.endpoint.model();
        assert!(model.variables.contains_key(REPORT_TRIGGER));
        assert!(model.lists.contains_key(VCC_REPORT));
        assert!(t.point_id(&ObjectName::vmd("System_Frequency")).is_some());
        assert!(t.point_id(&ObjectName::vmd("Sample_Real")).is_some());
        // The interop tests' objects.
        let icc1 = &model.domains["ICC1"];
        assert!(icc1.lists.contains_key("DS_Predefined"));
        assert!(icc1.variables.contains_key("Nested"));
        let p7 = t
            .point_id(&ObjectName::domain("ICC1", "Point_0007"))
            .unwrap();
        let v = t.value(p7).unwrap();
        assert_eq!(v.value, Value::Real(10.5));
        assert_eq!(v.timestamp.seconds, 1_700_000_007);
        assert!(t
            .point_id(&ObjectName::domain("ICC1", "Point_0400"))
            .is_some());
        assert!(t
            .point_id(&ObjectName::domain("ICC2", "Point_0010"))
            .is_some());
        let sp = t
            .point_id(&ObjectName::domain("ICC1", "Setpoint_Real"))
            .unwrap();
        assert_eq!(
            t.point_type(sp).unwrap().to_data(t.value(sp).unwrap()),
            real(0.0)
        );
        assert_eq!(m.listen, "0.0.0.0:102");
        assert!(m.report_trigger);

        // Devices (block 5).
        let now = Instant::virtual_at(Duration::ZERO, 1_800_000_000);
        let dev = |d: &str, n: &str| {
            let id = t
                .device_id(&ObjectName::domain(d, n))
                .unwrap_or_else(|| panic!("device {d}/{n} missing"));
            (id, t.device(now, id).unwrap())
        };
        let expected: &[(&str, &str, DeviceKind, ControlMode, bool, i16)] = &[
            (
                "ICC1",
                "Brk1_Cmd",
                DeviceKind::Command,
                ControlMode::Sbo,
                true,
                101,
            ),
            (
                "ICC1",
                "Brk2_Cmd",
                DeviceKind::Command,
                ControlMode::Sbo,
                true,
                102,
            ),
            (
                "ICC1",
                "Brk3_Cmd",
                DeviceKind::Command,
                ControlMode::Sbo,
                false,
                103,
            ),
            (
                "ICC1",
                "Gen1_Start",
                DeviceKind::Command,
                ControlMode::Direct,
                false,
                0,
            ),
            (
                "ICC1",
                "Gen1_MW_SP",
                DeviceKind::RealSetpoint,
                ControlMode::Direct,
                false,
                0,
            ),
            (
                "ICC1",
                "Tap1_SP",
                DeviceKind::DiscreteSetpoint,
                ControlMode::Sbo,
                true,
                201,
            ),
            (
                "ICC1",
                "Cap1_Cmd",
                DeviceKind::Command,
                ControlMode::Direct,
                true,
                0,
            ),
            (
                "ICC1",
                "Brk9_Cmd",
                DeviceKind::Command,
                ControlMode::Sbo,
                false,
                109,
            ),
            (
                "ICC1",
                "Brk8_Cmd",
                DeviceKind::Command,
                ControlMode::Direct,
                false,
                0,
            ),
            (
                "ICC2",
                "Brk1_Cmd",
                DeviceKind::Command,
                ControlMode::Sbo,
                true,
                301,
            ),
            (
                "ICC2",
                "Gen1_MW_SP",
                DeviceKind::RealSetpoint,
                ControlMode::Direct,
                false,
                0,
            ),
        ];
        assert_eq!(t.devices().count(), expected.len());
        assert_eq!(m.field_devices.len(), expected.len());
        for &(d, n, kind, mode, tagged, cb) in expected {
            let (_, s) = dev(d, n);
            assert_eq!(
                (
                    s.spec.kind,
                    s.spec.mode,
                    s.spec.tagged,
                    s.spec.check_back_id
                ),
                (kind, mode, tagged, cb),
                "{d}/{n}"
            );
            let vars = &model.domains[d].variables;
            assert_eq!(
                vars.contains_key(&format!("{n}_SBO")),
                mode == ControlMode::Sbo
            );
            assert_eq!(vars.contains_key(&format!("{n}_TAG")), tagged);
        }
        let (cap, s) = dev("ICC1", "Cap1_Cmd");
        assert_eq!(s.tag.value, TagValue::CloseOnlyInhibit);
        assert_eq!(s.tag.reason, "capacitor bank maintenance");
        let brk1 = t.point_id(&ObjectName::domain("ICC1", "Brk1")).unwrap();
        let setpoint = t
            .point_id(&ObjectName::domain("ICC1", "Setpoint_Real"))
            .unwrap();
        let field = |d: &str, n: &str| m.field_devices.get(dev(d, n).0);
        assert_eq!(
            field("ICC1", "Brk1_Cmd"),
            FieldDevice {
                answer: Answer::Accept,
                feedback: Some(brk1)
            }
        );
        assert_eq!(field("ICC1", "Gen1_MW_SP").feedback, Some(setpoint));
        assert_eq!(field("ICC1", "Brk9_Cmd").answer, Answer::Refuse);
        assert_eq!(field("ICC1", "Brk8_Cmd").answer, Answer::Ignore);
        assert_eq!(m.field_devices.get(cap).feedback, None);

        // Information buffers and messages (block 4).
        for (vars, items) in [
            (
                &model.variables,
                &["Info_Mess_Header", "Info_Buff_1024"][..],
            ),
            (
                &model.domains["ICC1"].variables,
                &["Info_Mess_Header", "Info_Buff_256", "Info_Buff_4096"],
            ),
            (
                &model.domains["ICC2"].variables,
                &["Info_Mess_Header", "Info_Buff_1024"],
            ),
        ] {
            for i in items {
                assert!(vars.contains_key(*i), "{i}");
            }
        }
        let msgs: Vec<_> = m
            .info_messages
            .iter()
            .map(|i| (i.domain.as_deref(), i.every, i.message(3)))
            .collect();
        let text = |s: &str, r: i32, l: i32| {
            let header = tase2_core::tase2::InfoHeader {
                info_reference: r,
                local_reference: l,
                message_id: 3,
                size: s.len() as i32,
            };
            (header, s.as_bytes().to_vec())
        };
        let five = Duration::from_secs(5);
        assert_eq!(
            msgs,
            [
                (None, five, text("FreeTase2 VCC bulletin 3", 1, 0)),
                (
                    Some("ICC1"),
                    five,
                    text("ICC1 operations log entry 3", 10, 1)
                ),
                (Some("ICC2"), five, text("ICC2 notice 3", 20, 0)),
            ]
        );

        // The tables' device rights, CheckBackIDs and information messages.
        assert_eq!(t.config().select_timeout, Duration::from_secs(10));
        assert_eq!(
            t.config().operate,
            OperatePolicy::AskApplication {
                timeout: Duration::from_secs(5)
            }
        );
        let sim = m.simulation.unwrap();
        assert_eq!(sim.period, Duration::from_secs(1));
        assert!(sim.len() >= 18, "{}", sim.len());
    }

    #[test]
    fn binary_messages_and_vcc_devices() {
        let text =
            "[vcc]\ninfo_buffers = [8]\n[[vcc.point]]\nname = \"Tap\"\ntype = \"Discrete\"\n\
                    [[vcc.device]]\nname = \"Tap_SP\"\nkind = \"discrete-setpoint\"\n\
                    feedback = \"Tap\"\n[simulation]\n[[simulation.info_message]]\n\
                    every_s = 2\ninfo_reference = 7\nhex = \"00 ff 10\"\n";
        let m = load(text, "t.toml", start()).unwrap();
        let t = m.endpoint.tase2();
        let id = t.device_id(&ObjectName::vmd("Tap_SP")).unwrap();
        let tap = t.point_id(&ObjectName::vmd("Tap")).unwrap();
        assert_eq!(m.field_devices.get(id).feedback, Some(tap));
        let (h, data) = m.info_messages[0].message(1);
        assert_eq!(data, [0x00, 0xff, 0x10]);
        assert_eq!((h.info_reference, h.local_reference, h.size), (7, 0, 3));
        assert_eq!(m.info_messages[0].domain, None);
        assert!(
            m.summary.contains("1 devices, 1 information buffers"),
            "{}",
            m.summary
        );
    }

    #[test]
    fn every_sample_name_is_a_valid_mms_name() {
        for t in PointType::all() {
            assert!(valid_name(&sample_name(t)), "{}", sample_name(t));
        }
        let names: BTreeSet<String> = PointType::all().map(sample_name).collect();
        assert_eq!(names.len(), PointType::all().count());
    }

    #[test]
    fn bad_configs_give_clear_errors() {
        let cases: &[(&str, &str, Option<usize>)] = &[
            (
                "[[domain]]\nname = \"A\"\n[[domain.point]]\nname = \"P\"\ntype = \"RealQTT\"\n",
                "unknown point type \"RealQTT\"",
                Some(5),
            ),
            (
                "[[domain]]\nname = \"A\"\n[[bilateral_table]]\nid = \"B\"\nclient = { ap_title = \"1.2.3\" }\ndomain = \"C\"\n",
                "no domain named \"C\"",
                Some(6),
            ),
            (
                "[[domain]]\nname = \"A\"\n[[domain.point]]\nname = \"Bad.Name\"\ntype = \"Real\"\n",
                "invalid MMS name \"Bad.Name\"",
                Some(4),
            ),
            (
                "[[domain]]\nname = \"A\"\n[[domain.point]]\nname = \"S\"\ntype = \"StateQ\"\nvalue = 3\n",
                "a state is",
                Some(6),
            ),
            (
                "[[domain]]\nname = \"A\"\n[[domain.data_set]]\nname = \"DS\"\nmembers = [\"Transfer_Set_Name\", \"Nope\"]\n",
                "member A/Nope does not exist",
                Some(5),
            ),
            (
                "[server]\nedition = \"1996.08\"\n[vcc]\n[[vcc.point]]\nname = \"X\"\ntype = \"RealQTimeTagExtended\"\n",
                "does not exist in edition 1996.08",
                Some(6),
            ),
            (
                "[[vcc.point]]\nname = \"X\"\ntype = \"RealQ\"\n[simulation]\n[[simulation.point]]\nname = \"/X\"\nbehaviour = \"toggle\"\nprobability = 0.5\n",
                "a toggle needs a state point",
                Some(6),
            ),
            (
                "[[vcc.point]]\nname = \"X\"\ntype = \"RealQ\"\n[[vcc.point]]\nname = \"X\"\ntype = \"StateQ\"\n",
                "X is defined twice",
                Some(5),
            ),
            ("[server]\nap_title = \"one.two\"\n", "not an AP-title", Some(2)),
            ("[server]\nunlisted = \"maybe\"\n", "unknown variant", Some(2)),
            ("[server]\nselect_timeout_s = 0\n", "select_timeout_s must be at least 1", Some(2)),
            (
                "[[domain]]\nname = \"A\"\n[[domain.device]]\nname = \"D\"\nkind = \"switch\"\n",
                "unknown variant `switch`, expected one of `command`, `discrete-setpoint`, `real-setpoint`",
                Some(5),
            ),
            (
                "[[domain]]\nname = \"A\"\n[[domain.device]]\nname = \"D\"\nkind = \"command\"\nmode = \"select\"\n",
                "unknown variant `select`",
                Some(6),
            ),
            (
                "[[domain]]\nname = \"A\"\n[[domain.device]]\nname = \"D\"\nkind = \"command\"\ncheck_back_id = 40000\n",
                "i16",
                Some(6),
            ),
            (
                "[[domain]]\nname = \"A\"\n[[domain.device]]\nname = \"D\"\nkind = \"command\"\ntagged = true\ntag = \"red\"\n",
                "device D: unknown tag \"red\"",
                Some(7),
            ),
            (
                "[[domain]]\nname = \"A\"\n[[domain.device]]\nname = \"D\"\nkind = \"command\"\ntag = \"close-only\"\n",
                "device D: a tag needs tagged = true",
                Some(6),
            ),
            (
                "[[domain]]\nname = \"A\"\n[[domain.device]]\nname = \"D\"\nkind = \"command\"\nfeedback = \"Brk\"\n",
                "device D: feedback point \"Brk\" does not exist in A",
                Some(6),
            ),
            (
                "[[domain]]\nname = \"A\"\n[[domain.point]]\nname = \"MW\"\ntype = \"RealQ\"\n[[domain.device]]\nname = \"D\"\nkind = \"command\"\nfeedback = \"MW\"\n",
                "feedback point MW is a Data_RealQ; a command needs a state point",
                Some(9),
            ),
            (
                "[[domain]]\nname = \"A\"\n[[domain.point]]\nname = \"S\"\ntype = \"StateQ\"\n[[domain.device]]\nname = \"D\"\nkind = \"real-setpoint\"\nfeedback = \"S\"\n",
                "a real setpoint needs a real point",
                Some(9),
            ),
            (
                "[[domain]]\nname = \"A\"\n[[domain.device]]\nname = \"Breaker_Command_Number_00000001\"\nkind = \"command\"\n",
                "is too long",
                Some(4),
            ),
            (
                "[[domain]]\nname = \"A\"\n[[domain.point]]\nname = \"D_SBO\"\ntype = \"Real\"\n[[domain.device]]\nname = \"D\"\nkind = \"command\"\nmode = \"sbo\"\n",
                "A/D_SBO is defined twice",
                Some(7),
            ),
            (
                "[[domain]]\nname = \"A\"\ninfo_buffers = [64, 0]\n",
                "information buffer size 0 out of range",
                Some(3),
            ),
            (
                "[[domain]]\nname = \"A\"\ninfo_buffers = [64, 64]\n",
                "A/Info_Buff_64 is defined twice",
                Some(3),
            ),
            (
                "[[domain]]\nname = \"A\"\n[[bilateral_table]]\nid = \"T\"\nclient = { ap_title = \"1.2.3\" }\ndomain = \"A\"\ncheck_back_ids = { Nope = 1 }\n",
                "bilateral table T: check_back_ids for A/Nope, which is not a device",
                Some(7),
            ),
            (
                "[[domain]]\nname = \"A\"\n[[bilateral_table]]\nid = \"T\"\nclient = { ap_title = \"1.2.3\" }\ndomain = \"A\"\ninfo_messages = [{ scope = \"ICC\", info_reference = 1 }]\n",
                "unknown variant `ICC`",
                Some(7),
            ),
            (
                "[[domain]]\nname = \"A\"\ninfo_buffers = [16]\n[simulation]\n[[simulation.info_message]]\ndomain = \"A\"\nevery_s = 1\ninfo_reference = 1\ntext = \"message number {n}\"\n",
                "information message of up to 25 octets does not fit the largest information buffer of A (16)",
                Some(5),
            ),
            (
                "[[domain]]\nname = \"A\"\n[simulation]\n[[simulation.info_message]]\ndomain = \"A\"\nevery_s = 1\ninfo_reference = 1\ntext = \"x\"\n",
                "information message: A has no info_buffers",
                Some(4),
            ),
            (
                "[vcc]\ninfo_buffers = [16]\n[simulation]\n[[simulation.info_message]]\nevery_s = 1\ninfo_reference = 1\nhex = \"0a0\"\n",
                "not hex octets",
                Some(7),
            ),
            (
                "[vcc]\ninfo_buffers = [16]\n[simulation]\n[[simulation.info_message]]\nevery_s = 1\ninfo_reference = 1\n",
                "give either text or hex",
                Some(4),
            ),
            (
                "[simulation]\n[[simulation.info_message]]\ndomain = \"B\"\nevery_s = 1\ninfo_reference = 1\ntext = \"x\"\n",
                "no domain named \"B\"",
                Some(3),
            ),
            // Checked by the model builder; the file position is the CLI's.
            (
                "[[domain]]\nname = \"A\"\n[[bilateral_table]]\nid = \"T\"\nclient = { ap_title = \"1.2.3\" }\ndomain = \"A\"\n[[bilateral_table]]\nid = \"U\"\nclient = { ap_title = \"1.2.4\" }\ndomain = \"A\"\n",
                "bilateral table U: domain A already belongs to table T",
                Some(10),
            ),
            (
                "[[domain]]\nname = \"A\"\n[[domain]]\nname = \"B\"\n[[bilateral_table]]\nid = \"T\"\nclient = { ap_title = \"1.2.3\" }\ndomain = \"A\"\n[[bilateral_table]]\nid = \"T\"\nclient = { ap_title = \"1.2.4\" }\ndomain = \"B\"\n",
                "bilateral table T is defined twice",
                Some(10),
            ),
            (
                "[[domain]]\nname = \"A\"\n[[bilateral_table]]\nid = \"T\"\nclient = { ap_title = \"1.2.3\" }\ndomain = \"A\"\nrights = { Nope = \"read\" }\n",
                "bilateral table T: rights for A/Nope, which does not exist",
                Some(3),
            ),
            (
                "[[domain]]\nname = \"A\"\n[[domain.data_set]]\nname = \"DS\"\nmembers = [\"Transfer_Set_Name\"]\n[[domain.data_set]]\nname = \"DS\"\nmembers = [\"Transfer_Set_Name\"]\n",
                "data set A/DS is defined twice",
                Some(7),
            ),
            (
                "[[domain]]\nname = \"A\"\n[[domain]]\nname = \"A\"\n",
                "domain A is defined twice",
                Some(4),
            ),
            (
                "[[domain]]\nname = \"A\"\ninfo_buffers = [64]\n[[domain.point]]\nname = \"Info_Mess_Header\"\ntype = \"Real\"\n",
                "A/Info_Mess_Header is defined twice",
                Some(3),
            ),
        ];
        for (text, want, line) in cases {
            let e = err(text);
            assert!(e.message.contains(want), "{want:?} not in {e}");
            assert_eq!(e.at.map(|a| a.0), *line, "{e}");
            assert!(e.to_string().starts_with("bad.toml:"), "{e}");
        }
    }
}
