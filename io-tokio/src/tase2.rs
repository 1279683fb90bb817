//! A typed TASE.2 client (IEC 60870-6-503 conformance blocks 1, 2, 4 and 5) on top of
//! [`Client`].
//!
//! [`Tase2Client`] speaks in TASE.2 terms where [`Client`] speaks MMS: the server's edition and
//! features, its ICC domain and bilateral table, points with their [`PointType`] and typed
//! [`PointValue`]s, data sets, DS transfer sets and the reports they send. Method families:
//!
//! - discovery: [`Tase2Client::version`], [`Tase2Client::features`],
//!   [`Tase2Client::bilateral_table_id`], [`Tase2Client::domains`], [`Tase2Client::variables`],
//!   [`Tase2Client::discover`] (all of them at once);
//! - points: [`Tase2Client::read_point`], [`Tase2Client::read_points`],
//!   [`Tase2Client::write_point`], [`Tase2Client::learn_types`];
//! - data sets: [`Tase2Client::define_data_set`], [`Tase2Client::data_set_members`],
//!   [`Tase2Client::delete_data_set`];
//! - transfer sets: [`Tase2Client::reserve_transfer_set`], [`Tase2Client::start_transfer_set`],
//!   [`Tase2Client::read_transfer_set`], [`Tase2Client::stop_transfer_set`];
//! - reports: [`Tase2Client::next_report`], with critical reports acknowledged automatically
//!   ([`Tase2Client::set_auto_ack`]) or by [`Tase2Client::ack`] / [`Tase2Client::nack`];
//! - information messages (block 4): [`Tase2Client::enable_info_messages`],
//!   [`Tase2Client::disable_info_messages`]; the messages come out of
//!   [`Tase2Client::next_report`] as [`Tase2Report::InfoMessage`], in arrival order with the
//!   transfer set reports;
//! - device control (block 5): [`Tase2Client::device_info`], [`Tase2Client::select`],
//!   [`Tase2Client::operate`], [`Tase2Client::select_operate`], [`Tase2Client::tag`],
//!   [`Tase2Client::set_tag`]; refusals are [`Error::Control`].
//!
//! The client learns point types from GetVariableAccessAttributes (once per name, cached) and data
//! set members from its own definitions or GetNamedVariableListAttributes, so that reports, which
//! carry bare MMS values, come out typed.
//!
//! ```no_run
//! # async fn demo() -> Result<(), tase2_tokio::Error> {
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

use std::collections::HashMap;

use tase2_core::assoc::AssociationConfig;
use tase2_core::mms::{
    AccessResult, ConfirmedRequest, ConfirmedResponse, Data, InformationReport, ObjectClass,
    ObjectName, ObjectScope, TypeDescription, UnconfirmedService,
};
use tase2_core::tase2::client::{self as t2, Report, ReportError};
use tase2_core::tase2::transfer_set::object_name_type;
use tase2_core::tase2::{
    names, DsConditions, DsTransferSetValue, Edition, Features, InfoMessage, PointType, PointValue,
};

use crate::{Client, Error};

mod control;
mod info;

pub use control::DeviceInfo;

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

/// A variable as discovery found it.
#[derive(Clone, Debug, PartialEq)]
pub struct VariableInfo {
    /// Its name.
    pub name: ObjectName,
    /// Its MMS type (`None` when GetVariableAccessAttributes failed).
    pub type_description: Option<TypeDescription>,
    /// Its point type, when the MMS type is one.
    pub point_type: Option<PointType>,
}

impl VariableInfo {
    /// The TASE.2 type name: a point type (`Data_RealQTimeTag`), or the standard object's type
    /// (`DSTransferSet`, `ObjectName`, `TASE2_Version`...); `None` for other MMS variables.
    pub fn tase2_type_name(&self) -> Option<&'static str> {
        let td = self.type_description.as_ref()?;
        if let Some(p) = self.point_type {
            return Some(p.name());
        }
        let standard = match self.name.item() {
            names::TASE2_VERSION => Some("TASE2_Version"),
            names::SUPPORTED_FEATURES => Some("Supported_Features"),
            names::BILATERAL_TABLE_ID => Some("Bilateral_Table_ID"),
            names::TRANSFER_SET_TIME_STAMP => Some("GMTBasedS"),
            names::DS_CONDITIONS_DETECTED => Some("DSConditions"),
            names::EVENT_CODE_DETECTED => Some("EventCode"),
            _ => None,
        };
        if standard.is_some() {
            return standard;
        }
        if [Edition::V2000_08, Edition::V1996_08]
            .into_iter()
            .any(|e| same_shape(&DsTransferSetValue::type_description(e), td))
        {
            return Some("DSTransferSet");
        }
        same_shape(&object_name_type(), td).then_some("ObjectName")
    }
}

impl VariableInfo {
    /// The other point types with the same MMS type as [`Self::point_type`], which the client
    /// cannot tell from it (e.g. `Data_State`, `Data_StateQ` and `Data_StateSupplemental` are all
    /// a BIT STRING(8)); empty when the type is unambiguous.
    pub fn alternative_point_types(&self) -> Vec<PointType> {
        let Some(found) = self.point_type else {
            return Vec::new();
        };
        PointType::all()
            .filter(|p| {
                *p != found
                    && PointType::from_type_description(&p.type_description()) == Some(found)
            })
            .collect()
    }
}

/// Whether `name` is a standard TASE.2 object that is not a point (whatever its MMS type looks
/// like: `Transfer_Set_Time_Stamp` is an INT32 like a `Data_Discrete`).
fn is_standard_object(name: &ObjectName) -> bool {
    is_report_variable(name)
        || matches!(
            name.item(),
            names::TASE2_VERSION
                | names::SUPPORTED_FEATURES
                | names::BILATERAL_TABLE_ID
                | names::NEXT_DS_TRANSFER_SET
                | names::TRANSFER_REPORT_ACK
                | names::TRANSFER_REPORT_NACK
                | names::INFO_MESS_HEADER
        )
}

/// Type equality ignoring component names (peers may leave them out) and string widths.
fn same_shape(a: &TypeDescription, b: &TypeDescription) -> bool {
    use TypeDescription as T;
    match (a, b) {
        (T::Structure { components: x, .. }, T::Structure { components: y, .. }) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|(p, q)| match (&p.type_spec, &q.type_spec) {
                        (
                            tase2_core::mms::TypeSpecification::Description(p),
                            tase2_core::mms::TypeSpecification::Description(q),
                        ) => same_shape(p, q),
                        _ => false,
                    })
        }
        (T::VisibleString(_), T::VisibleString(_)) => true,
        (T::Unsigned(_), T::Unsigned(_) | T::Integer(_)) => true,
        _ => a == b,
    }
}

/// One ICC domain as discovery found it.
#[derive(Debug)]
pub struct DomainInfo {
    /// The domain's name.
    pub name: String,
    /// Its `Bilateral_Table_ID` (`None` if absent or unreadable).
    pub table_id: Option<String>,
    /// Its variables.
    pub variables: Vec<VariableInfo>,
    /// Its data sets (named variable lists); empty if the server does not list them.
    pub data_sets: Vec<String>,
}

/// What [`Tase2Client::discover`] found. Objects a server lacks or refuses are `None` or empty,
/// so discovery also works on a plain MMS server.
#[derive(Debug)]
pub struct Discovery {
    /// `TASE2_Version` as (major, minor).
    pub version: Option<(i64, i64)>,
    /// The edition `version` names.
    pub edition: Option<Edition>,
    /// `Supported_Features`.
    pub features: Option<Features>,
    /// VCC-scope variables, or why the server did not list them.
    pub vcc: Result<Vec<VariableInfo>, Error>,
    /// The domains this client can see (normally its one ICC domain).
    pub domains: Vec<DomainInfo>,
}

/// A reported value.
#[derive(Clone, Debug, PartialEq)]
pub enum Reported {
    /// A point whose type the client knows, decoded.
    Point(PointType, PointValue),
    /// Any other value (unknown type, or a value that does not fit it).
    Other(Data),
}

/// A DS transfer set report with typed values.
#[derive(Clone, Debug, PartialEq)]
pub struct TypedReport {
    /// `Transfer_Set_Name`, when the data set carries it.
    pub transfer_set: Option<ObjectName>,
    /// `Transfer_Set_Time_Stamp` (seconds since 1970 UTC).
    pub timestamp: Option<i32>,
    /// `DSConditions_Detected`.
    pub conditions: Option<DsConditions>,
    /// `Event_Code_Detected`.
    pub event_code: Option<i16>,
    /// The data set named by a full report; `None` for a report by list of variables (RBE).
    pub data_set: Option<ObjectName>,
    /// Member values in report order (special variables and failed members left out).
    pub values: Vec<(ObjectName, Reported)>,
    /// Whether this client already acknowledged it (a critical report with auto-ACK on).
    pub acknowledged: bool,
}

impl TypedReport {
    /// The typed point values, in report order.
    pub fn points(&self) -> impl Iterator<Item = (&ObjectName, &PointValue)> + '_ {
        self.values.iter().filter_map(|(n, v)| match v {
            Reported::Point(_, p) => Some((n, p)),
            Reported::Other(_) => None,
        })
    }

    /// The last value reported for point `name`.
    pub fn point(&self, name: &ObjectName) -> Option<&PointValue> {
        self.points()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| v)
            .last()
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

/// An InformationReport that is neither a decodable transfer set report nor an information
/// message (e.g. a full report of a data set whose members could not be learnt, or a report
/// of a plain MMS server).
#[derive(Clone, Debug, PartialEq)]
pub struct UndecodedReport {
    /// The report as received.
    pub report: InformationReport,
    /// Why it was not decoded.
    pub error: ReportError,
}

/// A TASE.2 client association: a [`Client`] plus what the client learnt about the server.
pub struct Tase2Client {
    client: Client,
    edition: Edition,
    /// Point type per variable name (`None`: learnt, not a point).
    types: HashMap<ObjectName, Option<PointType>>,
    /// Members of the data sets this client defined or asked about.
    lists: HashMap<ObjectName, Vec<ObjectName>>,
    /// The transfer sets this client started, as configured.
    running: HashMap<ObjectName, DsTransferSetValue>,
    auto_ack: bool,
}

fn read_value(r: Option<AccessResult>) -> Result<Data, Error> {
    match r {
        Some(AccessResult::Success(d)) => Ok(d),
        Some(AccessResult::Failure(e)) => Err(Error::Access(e)),
        None => Err(Error::UnexpectedResponse),
    }
}

fn int(d: &Data) -> Option<i64> {
    match d {
        Data::Integer(v) => Some(*v),
        Data::Unsigned(v) => i64::try_from(*v).ok(),
        _ => None,
    }
}

impl Tase2Client {
    /// Connect to `addr` and read `TASE2_Version` (which fails on a server that is not TASE.2).
    pub async fn connect(
        addr: impl tokio::net::ToSocketAddrs,
        config: AssociationConfig,
    ) -> Result<Tase2Client, Error> {
        let mut c = Tase2Client::new(Client::connect(addr, config).await?);
        c.version().await?;
        Ok(c)
    }

    /// Wrap a connected client. The edition is taken to be 2000.08 until [`Self::version`] or
    /// [`Self::discover`] reads it.
    pub fn new(client: Client) -> Tase2Client {
        Tase2Client {
            client,
            edition: Edition::V2000_08,
            types: HashMap::new(),
            lists: HashMap::new(),
            running: HashMap::new(),
            auto_ack: true,
        }
    }

    /// The MMS client underneath, for any other service.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The server's edition (as last read; 2000.08 before).
    pub fn edition(&self) -> Edition {
        self.edition
    }

    /// Acknowledge critical reports as they are received (on by default): [`Self::next_report`]
    /// sends `Transfer_Report_ACK` for every report of a transfer set this client started with
    /// Critical set.
    pub fn set_auto_ack(&mut self, on: bool) {
        self.auto_ack = on;
    }

    /// Orderly release.
    pub async fn conclude(self) -> Result<(), Error> {
        self.client.conclude().await
    }

    // --- discovery ---

    /// `TASE2_Version` as (major, minor), without interpreting it.
    pub async fn version_numbers(&self) -> Result<(i64, i64), Error> {
        let name = ObjectName::vmd(names::TASE2_VERSION);
        let d = self.client.read(&name).await?;
        match &d {
            Data::Structure(c) => match c.as_slice() {
                [a, b] => int(a).zip(int(b)),
                _ => None,
            },
            _ => None,
        }
        .ok_or(Error::UnexpectedValue(name))
    }

    /// Read `TASE2_Version` and remember the edition (transfer set writes follow it).
    pub async fn version(&mut self) -> Result<Edition, Error> {
        let name = ObjectName::vmd(names::TASE2_VERSION);
        let d = self.client.read(&name).await?;
        let e = t2::parse_version(&d).ok_or(Error::UnexpectedValue(name))?;
        self.edition = e;
        Ok(e)
    }

    /// `Supported_Features`: the conformance blocks the server claims.
    pub async fn features(&self) -> Result<Features, Error> {
        let name = ObjectName::vmd(names::SUPPORTED_FEATURES);
        let d = self.client.read(&name).await?;
        t2::parse_features(&d).ok_or(Error::UnexpectedValue(name))
    }

    /// `Bilateral_Table_ID` of `domain`.
    pub async fn bilateral_table_id(&self, domain: &str) -> Result<String, Error> {
        let name = ObjectName::domain(domain, names::BILATERAL_TABLE_ID);
        let d = self.client.read(&name).await?;
        t2::parse_table_id(&d).ok_or(Error::UnexpectedValue(name))
    }

    /// The domains this client can see (a TASE.2 server shows each client its own ICC domain).
    pub async fn domains(&self) -> Result<Vec<String>, Error> {
        self.client.domain_names().await
    }

    /// The data sets (named variable lists) of `domain`, or of VCC scope with `None`.
    pub async fn data_sets(&self, domain: Option<&str>) -> Result<Vec<String>, Error> {
        let scope = domain.map_or(ObjectScope::Vmd, |d| ObjectScope::Domain(d.into()));
        self.client
            .get_name_list(ObjectClass::NamedVariableList, scope)
            .await
    }

    /// The variables of `domain` (VCC scope with `None`) with their types: GetNameList, then
    /// GetVariableAccessAttributes of each (pipelined). Point types are remembered for reports.
    pub async fn variables(&mut self, domain: Option<&str>) -> Result<Vec<VariableInfo>, Error> {
        let names: Vec<ObjectName> = self
            .client
            .variable_names(domain)
            .await?
            .into_iter()
            .map(|n| match domain {
                Some(d) => ObjectName::domain(d, n),
                None => ObjectName::vmd(n),
            })
            .collect();
        let types = self
            .client
            .request_many(
                names
                    .iter()
                    .map(|n| ConfirmedRequest::GetVariableAccessAttributes(n.clone())),
            )
            .await;
        Ok(names
            .into_iter()
            .zip(types)
            .map(|(name, t)| {
                let type_description = match t {
                    Ok(ConfirmedResponse::GetVariableAccessAttributes(a)) => {
                        Some(a.type_description)
                    }
                    _ => None,
                };
                let point_type = type_description
                    .as_ref()
                    .filter(|_| !is_standard_object(&name))
                    .and_then(PointType::from_type_description);
                if type_description.is_some() {
                    self.types.insert(name.clone(), point_type);
                }
                VariableInfo {
                    name,
                    type_description,
                    point_type,
                }
            })
            .collect())
    }

    /// Everything at once: version, features, VCC variables, and for each visible domain its
    /// bilateral table id, variables and data sets.
    pub async fn discover(&mut self) -> Result<Discovery, Error> {
        let version = self.version_numbers().await.ok();
        let edition = version.and_then(|(a, b)| Edition::from_version(a, b));
        if let Some(e) = edition {
            self.edition = e;
        }
        let features = self.features().await.ok();
        let vcc = self.variables(None).await;
        let mut domains = Vec::new();
        for name in self.domains().await? {
            let table_id = self.bilateral_table_id(&name).await.ok();
            let variables = self.variables(Some(&name)).await?;
            let data_sets = self.data_sets(Some(&name)).await.unwrap_or_default();
            domains.push(DomainInfo {
                name,
                table_id,
                variables,
                data_sets,
            });
        }
        Ok(Discovery {
            version,
            edition,
            features,
            vcc,
            domains,
        })
    }

    // --- points ---

    /// The point type of `name`, if learnt (by discovery, a data set, or [`Self::learn_types`]).
    pub fn point_type(&self, name: &ObjectName) -> Option<PointType> {
        self.types.get(name).copied().flatten()
    }

    /// The point types of `names`, asking the server (GetVariableAccessAttributes, pipelined)
    /// for those not known yet. `None` for a variable that is not a point or whose type the
    /// server would not give.
    pub async fn learn_types(&mut self, names: &[ObjectName]) -> Vec<Option<PointType>> {
        let unknown: Vec<ObjectName> = names
            .iter()
            .filter(|n| !self.types.contains_key(*n) && !is_standard_object(n))
            .cloned()
            .collect();
        let answers = self
            .client
            .request_many(
                unknown
                    .iter()
                    .map(|n| ConfirmedRequest::GetVariableAccessAttributes(n.clone())),
            )
            .await;
        for (n, a) in unknown.into_iter().zip(answers) {
            let t = match a {
                Ok(ConfirmedResponse::GetVariableAccessAttributes(a)) => {
                    PointType::from_type_description(&a.type_description)
                }
                _ => None,
            };
            self.types.insert(n, t);
        }
        names.iter().map(|n| self.point_type(n)).collect()
    }

    /// Read several points in one Read; one result each.
    pub async fn read_points(
        &mut self,
        names: &[ObjectName],
    ) -> Result<Vec<Result<PointValue, Error>>, Error> {
        let types = self.learn_types(names).await;
        let results = self.client.read_many(names).await?;
        if results.len() != names.len() {
            return Err(Error::UnexpectedResponse);
        }
        Ok(names
            .iter()
            .zip(types)
            .zip(results)
            .map(|((n, t), r)| {
                let t = t.ok_or_else(|| Error::NotAPoint(n.clone()))?;
                let d = read_value(Some(r))?;
                t.decode_data(&d)
                    .ok_or_else(|| Error::UnexpectedValue(n.clone()))
            })
            .collect())
    }

    /// Read one point.
    pub async fn read_point(&mut self, name: &ObjectName) -> Result<PointValue, Error> {
        self.read_points(std::slice::from_ref(name))
            .await?
            .pop()
            .unwrap_or(Err(Error::UnexpectedResponse))
    }

    /// Write a point (the bilateral table must grant the write), encoded for its type.
    pub async fn write_point(
        &mut self,
        name: &ObjectName,
        value: &PointValue,
    ) -> Result<(), Error> {
        let t = self.learn_types(std::slice::from_ref(name)).await[0]
            .ok_or_else(|| Error::NotAPoint(name.clone()))?;
        self.client.write(name, t.to_data(value)).await
    }

    // --- data sets ---

    /// Define a data set (DefineNamedVariableList) and learn its members' types, so that its
    /// reports decode. Put [`report_variables`] in it to have reports name their transfer set.
    pub async fn define_data_set(
        &mut self,
        name: &ObjectName,
        members: &[ObjectName],
    ) -> Result<(), Error> {
        self.client.define_list(name, members).await?;
        self.lists.insert(name.clone(), members.to_vec());
        self.learn_types(members).await;
        Ok(())
    }

    /// The members of a data set (GetNamedVariableListAttributes), remembered with their types
    /// for the data set's reports.
    pub async fn data_set_members(&mut self, name: &ObjectName) -> Result<Vec<ObjectName>, Error> {
        let members = self.client.list_members(name).await?;
        self.lists.insert(name.clone(), members.clone());
        self.learn_types(&members).await;
        Ok(members)
    }

    /// Delete a data set this client defined; true if the server deleted it.
    pub async fn delete_data_set(&mut self, name: &ObjectName) -> Result<bool, Error> {
        let deleted = self.client.delete_list(name).await?;
        if deleted {
            self.lists.remove(name);
        }
        Ok(deleted)
    }

    // --- transfer sets ---

    /// Reserve a DS transfer set of `domain` by reading its `Next_DSTransfer_Set`. A server with
    /// none free answers temporarily-unavailable ([`Error::Access`]).
    pub async fn reserve_transfer_set(&self, domain: &str) -> Result<ObjectName, Error> {
        let name = ObjectName::domain(domain, names::NEXT_DS_TRANSFER_SET);
        let d = self.client.read(&name).await?;
        t2::parse_next_transfer_set(&d).ok_or(Error::UnexpectedValue(name))
    }

    /// Configure and start a reserved transfer set: writes the whole structure in the server's
    /// edition with Status true. Asks for the data set's members first if this client does not
    /// know them, so its full reports decode (if the server will not say, the start goes on:
    /// [`Self::next_report`] asks again when a full report comes).
    pub async fn start_transfer_set(
        &mut self,
        transfer_set: &ObjectName,
        mut value: DsTransferSetValue,
    ) -> Result<(), Error> {
        if !self.lists.contains_key(&value.data_set) {
            let _ = self.data_set_members(&value.data_set).await;
        }
        value.status = true;
        if self.edition == Edition::V1996_08 {
            value.all_changes_reported = false;
        }
        self.client
            .write(transfer_set, t2::transfer_set_data(&value, self.edition))
            .await?;
        self.running.insert(transfer_set.clone(), value);
        Ok(())
    }

    /// Read a transfer set's configuration.
    pub async fn read_transfer_set(
        &self,
        transfer_set: &ObjectName,
    ) -> Result<DsTransferSetValue, Error> {
        let d = self.client.read(transfer_set).await?;
        DsTransferSetValue::from_data(&d).map_err(|_| Error::UnexpectedValue(transfer_set.clone()))
    }

    /// Stop a transfer set: a component write of `Status` = false, or, if the server refuses
    /// component access, a whole-structure write of the last configuration with Status false.
    pub async fn stop_transfer_set(&mut self, transfer_set: &ObjectName) -> Result<(), Error> {
        let status = t2::component(transfer_set.clone(), "Status");
        let r = match self.client.write_spec(status, Data::Boolean(false)).await {
            Err(Error::Access(_)) => {
                let mut v = self.running.get(transfer_set).cloned().unwrap_or_default();
                v.status = false;
                self.client
                    .write(transfer_set, t2::transfer_set_data(&v, self.edition))
                    .await
            }
            r => r,
        };
        if r.is_ok() {
            self.running.remove(transfer_set);
        }
        r
    }

    // --- reports ---

    /// The next InformationReport, decoded and typed; `None` once the association is gone: a
    /// transfer set report ([`Tase2Report::Transfer`]) or an information message
    /// ([`Tase2Report::InfoMessage`]), in arrival order; anything else is an
    /// [`UndecodedReport`]. A full report of a data set whose members are unknown triggers one
    /// GetNamedVariableListAttributes. Critical reports of transfer sets this client started are
    /// acknowledged here when auto-ACK is on (see [`TypedReport::acknowledged`]).
    ///
    /// Cancel-safe as long as no such members look-up or ACK is under way.
    pub async fn next_report(&mut self) -> Option<Result<Tase2Report, UndecodedReport>> {
        let raw = self.client.next_report().await?;
        if let Some(m) = InfoMessage::decode(&raw) {
            return Some(Ok(Tase2Report::InfoMessage(m)));
        }
        let mut decoded = Report::decode(&raw, |n| self.lists.get(n).map(Vec::as_slice));
        if let Err(ReportError::UnknownDataSet(n)) = &decoded {
            if self.data_set_members(&n.clone()).await.is_ok() {
                decoded = Report::decode(&raw, |n| self.lists.get(n).map(Vec::as_slice));
            }
        }
        let r = match decoded {
            Ok(r) => r,
            Err(error) => return Some(Err(UndecodedReport { report: raw, error })),
        };
        let values = r
            .values
            .into_iter()
            .map(|(name, d)| {
                let v = match self.point_type(&name) {
                    Some(t) => match t.decode_data(&d) {
                        Some(p) => Reported::Point(t, p),
                        None => Reported::Other(d),
                    },
                    None => Reported::Other(d),
                };
                (name, v)
            })
            .collect();
        let mut report = TypedReport {
            transfer_set: r.transfer_set,
            timestamp: r.timestamp,
            conditions: r.conditions,
            event_code: r.event_code,
            data_set: r.data_set,
            values,
            acknowledged: false,
        };
        if self.auto_ack {
            if let Some(ts) = self.critical_source(&report) {
                report.acknowledged = self.ack(&ts, report.timestamp.unwrap_or(0)).await.is_ok();
            }
        }
        Some(Ok(Tase2Report::Transfer(report)))
    }

    /// The critical transfer set of ours that sent `report`: the one it names, or, for a report
    /// that names none, the only critical transfer set running.
    fn critical_source(&self, report: &TypedReport) -> Option<ObjectName> {
        match &report.transfer_set {
            Some(ts) => self
                .running
                .get(ts)
                .is_some_and(|v| v.critical)
                .then(|| ts.clone()),
            None => {
                let mut critical = self.running.iter().filter(|(_, v)| {
                    v.critical && report.data_set.as_ref().is_none_or(|ds| *ds == v.data_set)
                });
                match (critical.next(), critical.next()) {
                    (Some((ts, _)), None) => Some(ts.clone()),
                    _ => None,
                }
            }
        }
    }

    /// Acknowledge the critical report of `transfer_set` stamped `timestamp`
    /// (`Transfer_Report_ACK`, an unconfirmed InformationReport).
    pub async fn ack(&self, transfer_set: &ObjectName, timestamp: i32) -> Result<(), Error> {
        self.client
            .send_unconfirmed(UnconfirmedService::InformationReport(t2::ack(
                transfer_set,
                timestamp,
            )))
            .await
    }

    /// Refuse the critical report of `transfer_set` (`Transfer_Report_NACK`).
    pub async fn nack(&self, transfer_set: &ObjectName) -> Result<(), Error> {
        self.client
            .send_unconfirmed(UnconfirmedService::InformationReport(t2::nack(
                transfer_set,
            )))
            .await
    }
}
