//! The multi-request operations of a [`Session`](super::Session), as small continuation chains.
//!
//! An operation is a [`Step`]: either done, or a batch of MMS requests (sent pipelined, within the
//! negotiated window) plus what to do with their answers. Each continuation sees only what the
//! session knows ([`Known`]: edition, point types, data sets, running transfer sets), never the
//! association, so an operation cannot bypass the window or the sticky close; the engine in
//! `session.rs` routes answers back by invoke id.

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;

use crate::deviation::{Deviation, DeviationKind};
use crate::mms::{
    AccessResult, ConfirmedRequest, ConfirmedResponse, Data, DefineNamedVariableListRequest,
    DeleteNamedVariableListRequest, DeleteScope, GetNameListRequest, ObjectClass, ObjectName,
    ObjectScope, ReadRequest, VariableAccessSpecification, VariableSpec, WriteRequest, WriteResult,
};
use crate::tase2::device::MAX_TAG_REASON;
use crate::tase2::info::IM_TRANSFER_SET;
use crate::tase2::transfer_set::parse_object_name;
use crate::tase2::{
    names, ControlMode, ControlValue, DeviceKind, DsTransferSetValue, Edition, Tag, TagValue,
};
use crate::vec_map::{VecMap, VecSet};

use super::session::{DeviceInfo, Discovery, DomainInfo, Outcome, SessionConfig, VariableInfo};
use super::typing::{is_standard_object, type_point, Typed};
use super::{
    component, parse_check_back_id, parse_features, parse_table_id, parse_version, sbo_name,
    tag_name, ControlError, ControlOp, Error,
};

/// One answer to one request of a batch.
pub(crate) type Answer = Result<ConfirmedResponse, Error>;
/// What to do with a batch's answers (in request order).
pub(crate) type Cont = Box<dyn FnOnce(&mut Known, Vec<Answer>) -> Step + Send>;
/// A continuation expecting a typed result.
pub(crate) type K<T> = Box<dyn FnOnce(&mut Known, Result<T, Error>) -> Step + Send>;

/// Where an operation stands.
pub(crate) enum Step {
    /// Finished.
    Done(Result<Outcome, Error>),
    /// Send these requests, then continue with their answers.
    Send(Vec<ConfirmedRequest>, Cont),
}

/// What the session has learnt about the server; all a continuation may touch.
#[derive(Debug, Default)]
pub(crate) struct Known {
    pub edition: Edition,
    pub types: VecMap<ObjectName, Typed>,
    pub lists: VecMap<ObjectName, Vec<ObjectName>>,
    /// Data sets whose members could not be learnt: their reports are not looked up again.
    pub failed_lists: VecSet<ObjectName>,
    /// Member look-ups under way for held reports.
    pub lookups: VecSet<ObjectName>,
    pub running: VecMap<ObjectName, DsTransferSetValue>,
    /// Deviations to raise as events, in order.
    pub deviations: VecDeque<Deviation>,
    /// Deviations already raised: each (kind, object) once per session, so a deviating server
    /// does not flood the application with the same event on every report.
    seen: VecSet<(DeviationKind, Option<ObjectName>)>,
    pub config: SessionConfig,
}

impl Known {
    pub(crate) fn new(config: SessionConfig) -> Known {
        Known {
            config,
            ..Known::default()
        }
    }

    /// Raise a deviation (once per kind and object).
    pub(crate) fn deviate(&mut self, kind: DeviationKind, object: Option<ObjectName>) {
        if self.seen.insert((kind, object.clone())) {
            self.deviations.push_back(Deviation { kind, object });
        }
    }

    /// The point type learnt for `name`.
    pub(crate) fn typed(&self, name: &ObjectName) -> Option<&Typed> {
        self.types.get(name)
    }

    /// Record the type the server announced for `name` (raising a deviation if it deviates).
    pub(crate) fn learn(
        &mut self,
        name: &ObjectName,
        td: &crate::mms::TypeDescription,
    ) -> Option<crate::tase2::PointType> {
        let (typed, deviation) = type_point(td, is_standard_object(name.item()));
        if let Some(k) = deviation {
            self.deviate(k, Some(name.clone()));
        }
        let p = typed.point;
        self.types.insert(name.clone(), typed);
        p
    }
}

fn boxed<T>(f: impl FnOnce(&mut Known, Result<T, Error>) -> Step + Send + 'static) -> K<T> {
    Box::new(f)
}

/// Send one request; continue with its answer.
pub(crate) fn one(
    request: ConfirmedRequest,
    f: impl FnOnce(&mut Known, Answer) -> Step + Send + 'static,
) -> Step {
    one_dyn(request, Box::new(f))
}

// The unwrapping of the single answer once, not in every operation's continuation.
fn one_dyn(request: ConfirmedRequest, f: K<ConfirmedResponse>) -> Step {
    Step::Send(
        alloc::vec![request],
        Box::new(move |k, mut answers| {
            f(k, answers.pop().unwrap_or(Err(Error::UnexpectedResponse)))
        }),
    )
}

/// Finish with `f`'s outcome.
// A function pointer, not a closure type: the operations finishing with the same result type
// share one continuation.
pub(crate) fn finish<T: 'static>(f: fn(T) -> Outcome) -> K<T> {
    boxed(move |_, r| Step::Done(r.map(f)))
}

fn spec(name: ObjectName) -> VariableSpec {
    VariableSpec {
        name,
        alternate_access: None,
    }
}

// The request lists are built by plain loops in these two helpers rather than by a collected
// iterator chain at each use: each chain is its own copy of Vec's from-iterator code in the wasm.

/// The names as a list of variables.
fn specs(names: Vec<ObjectName>) -> Vec<VariableSpec> {
    let mut v = Vec::with_capacity(names.len());
    for n in names {
        v.push(spec(n));
    }
    v
}

/// A GetVariableAccessAttributes request for each name.
fn attribute_requests(names: &[ObjectName]) -> Vec<ConfirmedRequest> {
    let mut v = Vec::with_capacity(names.len());
    for n in names {
        v.push(ConfirmedRequest::GetVariableAccessAttributes(n.clone()));
    }
    v
}

// --- MMS building blocks ---

pub(crate) fn read_many(names: Vec<ObjectName>, k: K<Vec<AccessResult>>) -> Step {
    let expected = names.len();
    let req = ConfirmedRequest::Read(ReadRequest {
        specification_with_result: false,
        variables: VariableAccessSpecification::ListOfVariable(specs(names)),
    });
    one(req, move |kn, a| match a {
        Ok(ConfirmedResponse::Read(r)) if r.results.len() == expected => k(kn, Ok(r.results)),
        Ok(_) => k(kn, Err(Error::UnexpectedResponse)),
        Err(e) => k(kn, Err(e)),
    })
}

pub(crate) fn read(name: ObjectName, k: K<Data>) -> Step {
    read_many(
        alloc::vec![name],
        boxed(move |kn, r| {
            k(
                kn,
                r.and_then(|mut v: Vec<AccessResult>| match v.pop() {
                    Some(AccessResult::Success(d)) => Ok(d),
                    Some(AccessResult::Failure(e)) => Err(Error::Access(e)),
                    None => Err(Error::UnexpectedResponse),
                }),
            )
        }),
    )
}

pub(crate) fn write(variable: VariableSpec, value: Data, k: K<()>) -> Step {
    let req = ConfirmedRequest::Write(WriteRequest {
        variables: VariableAccessSpecification::ListOfVariable(alloc::vec![variable]),
        data: alloc::vec![value],
    });
    one(req, move |kn, a| {
        let r = match a {
            Ok(ConfirmedResponse::Write(r)) => match r.first() {
                Some(WriteResult::Success) if r.len() == 1 => Ok(()),
                Some(WriteResult::Failure(e)) if r.len() == 1 => Err(Error::Access(*e)),
                _ => Err(Error::UnexpectedResponse),
            },
            Ok(_) => Err(Error::UnexpectedResponse),
            Err(e) => Err(e),
        };
        k(kn, r)
    })
}

/// Every name of `class` in `scope`, following moreFollows. A server whose next page does not
/// advance (it returns a name already received, or nothing new) would make a naive client loop
/// forever and grow without bound: paging stops there with the names received so far and a
/// [`DeviationKind::NameListNotAdvancing`] deviation. The total is also capped by
/// [`SessionConfig::max_names`].
pub(crate) fn name_list(class: ObjectClass, scope: ObjectScope, k: K<Vec<String>>) -> Step {
    name_page(class, scope, None, Vec::new(), VecSet::new(), k)
}

fn name_page(
    class: ObjectClass,
    scope: ObjectScope,
    after: Option<String>,
    mut acc: Vec<String>,
    mut seen: VecSet<String>,
    k: K<Vec<String>>,
) -> Step {
    let req = ConfirmedRequest::GetNameList(GetNameListRequest {
        object_class: class,
        scope: scope.clone(),
        continue_after: after,
    });
    one(req, move |kn, a| {
        let page = match a {
            Ok(ConfirmedResponse::GetNameList(p)) => p,
            Ok(_) => return k(kn, Err(Error::UnexpectedResponse)),
            Err(e) => return k(kn, Err(e)),
        };
        let mut advanced = false;
        for n in page.identifiers {
            if acc.len() >= kn.config.max_names {
                break;
            }
            if seen.insert(n.clone()) {
                acc.push(n);
                advanced = true;
            }
        }
        if !page.more_follows {
            return k(kn, Ok(acc));
        }
        if !advanced || acc.len() >= kn.config.max_names {
            let object = match &scope {
                ObjectScope::Domain(d) => Some(ObjectName::domain(d.as_str(), "")),
                _ => None,
            };
            kn.deviate(DeviationKind::NameListNotAdvancing, object);
            return k(kn, Ok(acc));
        }
        let last = acc.last().cloned();
        name_page(class, scope, last, acc, seen, k)
    })
}

fn scope_of(domain: Option<&str>) -> ObjectScope {
    domain.map_or(ObjectScope::Vmd, |d| ObjectScope::Domain(d.into()))
}

fn full_name(domain: Option<&str>, item: String) -> ObjectName {
    match domain {
        Some(d) => ObjectName::domain(d, item),
        None => ObjectName::vmd(item),
    }
}

/// GetVariableAccessAttributes of every name not typed yet (pipelined); the types are learnt.
pub(crate) fn learn_types(names: Vec<ObjectName>, k: K<()>) -> Step {
    // The caller's names, deduplicated, minus those known and the standard objects.
    let mut unknown: Vec<ObjectName> = Vec::new();
    Step::Send(
        Vec::new(),
        Box::new(move |kn, _| {
            let mut set = VecSet::new();
            for n in names {
                if !kn.types.contains_key(&n)
                    && !is_standard_object(n.item())
                    && set.insert(n.clone())
                {
                    unknown.push(n);
                }
            }
            let reqs = attribute_requests(&unknown);
            Step::Send(
                reqs,
                Box::new(move |kn, answers| {
                    for (n, a) in unknown.iter().zip(answers) {
                        match a {
                            Ok(ConfirmedResponse::GetVariableAccessAttributes(a)) => {
                                kn.learn(n, &a.type_description);
                            }
                            // Not a point as far as this client can tell; not asked again.
                            _ => {
                                kn.types.insert(n.clone(), Typed::NONE);
                            }
                        }
                    }
                    k(kn, Ok(()))
                }),
            )
        }),
    )
}

pub(crate) fn variables(domain: Option<String>, k: K<Vec<VariableInfo>>) -> Step {
    let scope = scope_of(domain.as_deref());
    name_list(
        ObjectClass::NamedVariable,
        scope,
        boxed(move |_, r: Result<Vec<String>, Error>| {
            let items = match r {
                Ok(n) => n,
                Err(e) => return k_err(k, e),
            };
            let mut names = Vec::with_capacity(items.len());
            for i in items {
                names.push(full_name(domain.as_deref(), i));
            }
            let reqs = attribute_requests(&names);
            Step::Send(
                reqs,
                Box::new(move |kn, answers| {
                    let mut infos = Vec::with_capacity(names.len());
                    for (name, a) in names.into_iter().zip(answers) {
                        let type_description = match a {
                            Ok(ConfirmedResponse::GetVariableAccessAttributes(a)) => {
                                Some(a.type_description)
                            }
                            _ => None,
                        };
                        let point_type =
                            type_description.as_ref().and_then(|td| kn.learn(&name, td));
                        infos.push(VariableInfo {
                            name,
                            type_description,
                            point_type,
                        });
                    }
                    k(kn, Ok(infos))
                }),
            )
        }),
    )
}

// A continuation called with an error from a place that has no Known at hand: the engine always
// calls continuations with one, so errors are delivered through a zero-request step.
fn k_err<T: Send + 'static>(k: K<T>, e: Error) -> Step {
    Step::Send(Vec::new(), Box::new(move |kn, _| k(kn, Err(e))))
}

fn int(d: &Data) -> Option<i64> {
    match d {
        Data::Integer(v) => Some(*v),
        Data::Unsigned(v) => i64::try_from(*v).ok(),
        _ => None,
    }
}

pub(crate) fn version_numbers(k: K<(i64, i64)>) -> Step {
    let name = ObjectName::vmd(names::TASE2_VERSION);
    read(
        name.clone(),
        boxed(move |kn, r| {
            let r = r.and_then(|d| {
                match &d {
                    Data::Structure(c) => match c.as_slice() {
                        [a, b] => int(a).zip(int(b)),
                        _ => None,
                    },
                    _ => None,
                }
                .ok_or(Error::UnexpectedValue(name))
            });
            if let Ok((a, b)) = r {
                if let Some(e) = Edition::from_version(a, b) {
                    kn.edition = e;
                }
            }
            k(kn, r)
        }),
    )
}

pub(crate) fn version(k: K<Edition>) -> Step {
    let name = ObjectName::vmd(names::TASE2_VERSION);
    read(
        name.clone(),
        boxed(move |kn, r| {
            let r = r.and_then(|d| parse_version(&d).ok_or(Error::UnexpectedValue(name)));
            if let Ok(e) = r {
                kn.edition = e;
            }
            k(kn, r)
        }),
    )
}

pub(crate) fn features(k: K<crate::tase2::Features>) -> Step {
    let name = ObjectName::vmd(names::SUPPORTED_FEATURES);
    read(
        name.clone(),
        boxed(move |kn, r| {
            k(
                kn,
                r.and_then(|d| parse_features(&d).ok_or(Error::UnexpectedValue(name))),
            )
        }),
    )
}

pub(crate) fn table_id(domain: String, k: K<String>) -> Step {
    let name = ObjectName::domain(domain.as_str(), names::BILATERAL_TABLE_ID);
    read(
        name.clone(),
        boxed(move |kn, r| {
            k(
                kn,
                r.and_then(|d| parse_table_id(&d).ok_or(Error::UnexpectedValue(name))),
            )
        }),
    )
}

pub(crate) fn discover(k: K<Discovery>) -> Step {
    version_numbers(boxed(move |_, v| {
        let version = v.ok();
        let edition = version.and_then(|(a, b)| Edition::from_version(a, b));
        features(boxed(move |_, f| {
            let features = f.ok();
            variables(
                None,
                boxed(move |_, vcc| {
                    name_list(
                        ObjectClass::Domain,
                        ObjectScope::Vmd,
                        boxed(move |_, d: Result<Vec<String>, Error>| match d {
                            Err(e) => k_err(k, e),
                            Ok(names) => discover_domains(
                                names.into(),
                                Discovery {
                                    version,
                                    edition,
                                    features,
                                    vcc,
                                    domains: Vec::new(),
                                },
                                k,
                            ),
                        }),
                    )
                }),
            )
        }))
    }))
}

fn discover_domains(mut rest: VecDeque<String>, mut found: Discovery, k: K<Discovery>) -> Step {
    let Some(name) = rest.pop_front() else {
        return k_err_ok(k, found);
    };
    table_id(
        name.clone(),
        boxed(move |_, t| {
            let table_id = t.ok();
            let n2 = name.clone();
            variables(
                Some(name.clone()),
                boxed(move |_, v| match v {
                    Err(e) => k_err(k, e),
                    Ok(variables) => name_list(
                        ObjectClass::NamedVariableList,
                        ObjectScope::Domain(n2.clone()),
                        boxed(move |_, ds| {
                            found.domains.push(DomainInfo {
                                name: n2,
                                table_id,
                                variables,
                                data_sets: ds.unwrap_or_default(),
                            });
                            discover_domains(rest, found, k)
                        }),
                    ),
                }),
            )
        }),
    )
}

fn k_err_ok<T: Send + 'static>(k: K<T>, v: T) -> Step {
    Step::Send(Vec::new(), Box::new(move |kn, _| k(kn, Ok(v))))
}

// --- points ---

pub(crate) fn read_points(
    names: Vec<ObjectName>,
    k: K<Vec<Result<crate::tase2::PointValue, Error>>>,
) -> Step {
    let n2 = names.clone();
    learn_types(
        names,
        boxed(move |_, _| {
            let n3 = n2.clone();
            read_many(
                n2,
                boxed(move |kn, r| {
                    let r = r.map(|results: Vec<AccessResult>| {
                        let mut values = Vec::with_capacity(results.len());
                        for (n, res) in n3.iter().zip(results) {
                            values.push(point_value(kn, n, res));
                        }
                        values
                    });
                    k(kn, r)
                }),
            )
        }),
    )
}

fn point_value(
    kn: &Known,
    n: &ObjectName,
    res: AccessResult,
) -> Result<crate::tase2::PointValue, Error> {
    let t = kn
        .typed(n)
        .filter(|t| t.point.is_some())
        .ok_or_else(|| Error::NotAPoint(n.clone()))?;
    let d = match res {
        AccessResult::Success(d) => d,
        AccessResult::Failure(e) => return Err(Error::Access(e)),
    };
    t.decode(&d)
        .ok_or_else(|| Error::UnexpectedValue(n.clone()))
}

pub(crate) fn write_point(name: ObjectName, value: crate::tase2::PointValue, k: K<()>) -> Step {
    learn_types(
        alloc::vec![name.clone()],
        boxed(move |kn, _| {
            let Some(d) = kn.typed(&name).and_then(|t| t.encode(&value)) else {
                return k(kn, Err(Error::NotAPoint(name)));
            };
            write(spec(name), d, k)
        }),
    )
}

// --- data sets ---

pub(crate) fn define_data_set(name: ObjectName, members: Vec<ObjectName>, k: K<()>) -> Step {
    let req = ConfirmedRequest::DefineNamedVariableList(DefineNamedVariableListRequest {
        name: name.clone(),
        variables: specs(members.clone()),
    });
    one(req, move |kn, a| match a {
        Ok(ConfirmedResponse::DefineNamedVariableList) => {
            kn.lists.insert(name, members.clone());
            learn_types(members, k)
        }
        Ok(_) => k(kn, Err(Error::UnexpectedResponse)),
        Err(e) => k(kn, Err(e)),
    })
}

pub(crate) fn data_set_members(name: ObjectName, k: K<Vec<ObjectName>>) -> Step {
    one(
        ConfirmedRequest::GetNamedVariableListAttributes(name.clone()),
        move |kn, a| match a {
            Ok(ConfirmedResponse::GetNamedVariableListAttributes(a)) => {
                let mut members = Vec::with_capacity(a.variables.len());
                for v in a.variables {
                    members.push(v.name);
                }
                kn.lists.insert(name, members.clone());
                let m2 = members.clone();
                learn_types(members, boxed(move |kn, _| k(kn, Ok(m2))))
            }
            Ok(_) => k(kn, Err(Error::UnexpectedResponse)),
            Err(e) => k(kn, Err(e)),
        },
    )
}

pub(crate) fn delete_data_set(name: ObjectName, k: K<bool>) -> Step {
    let req = ConfirmedRequest::DeleteNamedVariableList(DeleteNamedVariableListRequest {
        scope: DeleteScope::Specific,
        names: alloc::vec![name.clone()],
        domain: None,
    });
    one(req, move |kn, a| match a {
        Ok(ConfirmedResponse::DeleteNamedVariableList { number_deleted, .. }) => {
            let deleted = number_deleted == 1;
            if deleted {
                kn.lists.remove(&name);
            }
            k(kn, Ok(deleted))
        }
        Ok(_) => k(kn, Err(Error::UnexpectedResponse)),
        Err(e) => k(kn, Err(e)),
    })
}

// --- transfer sets ---

/// The reserved transfer set in a `Next_DSTransfer_Set` value: the standard ObjectName, or (a
/// deviation seen in deployed servers) a structure holding the transfer set's name as a string
/// among integer counters, taken to be in the domain read.
fn next_transfer_set(kn: &mut Known, domain: &str, d: &Data) -> Option<ObjectName> {
    if let Some(n) = parse_object_name(d) {
        return Some(n);
    }
    let Data::Structure(c) = d else { return None };
    let mut strings = c.iter().filter_map(|x| match x {
        Data::VisibleString(s) | Data::MmsString(s) => Some(s),
        _ => None,
    });
    let (Some(s), None) = (strings.next(), strings.next()) else {
        return None;
    };
    let others_are_counters = c.iter().all(|x| {
        matches!(
            x,
            Data::VisibleString(_) | Data::MmsString(_) | Data::Integer(_) | Data::Unsigned(_)
        )
    });
    if !others_are_counters || !crate::tase2::server::valid_name(s) {
        return None;
    }
    let ts = ObjectName::domain(domain, s.as_str());
    kn.deviate(DeviationKind::NextTransferSetAsString, Some(ts.clone()));
    Some(ts)
}

pub(crate) fn reserve(domain: String, k: K<ObjectName>) -> Step {
    let name = ObjectName::domain(domain.as_str(), names::NEXT_DS_TRANSFER_SET);
    read(
        name.clone(),
        boxed(move |kn, r| {
            let r = r.and_then(|d| {
                next_transfer_set(kn, &domain, &d).ok_or(Error::UnexpectedValue(name))
            });
            k(kn, r)
        }),
    )
}

fn start(transfer_set: ObjectName, mut value: DsTransferSetValue, k: K<()>) -> Step {
    Step::Send(
        Vec::new(),
        Box::new(move |kn, _| {
            value.status = true;
            // AllChangesReported does not exist in 1996.08 (12 components).
            if kn.edition == Edition::V1996_08 {
                value.all_changes_reported = false;
            }
            let data = value.to_data(kn.edition);
            let ts = transfer_set.clone();
            write(
                spec(transfer_set),
                data,
                boxed(move |kn, r| {
                    if r.is_ok() {
                        kn.running.insert(ts, value);
                    }
                    k(kn, r)
                }),
            )
        }),
    )
}

/// Configure and start `transfer_set`: learn its data set's members first when unknown (so its
/// full reports decode; if the server will not say, the start goes on), then write the whole
/// structure in the server's edition with Status true.
pub(crate) fn start_transfer_set(
    transfer_set: ObjectName,
    value: DsTransferSetValue,
    k: K<()>,
) -> Step {
    Step::Send(
        Vec::new(),
        Box::new(move |kn, _| {
            if kn.lists.contains_key(&value.data_set) {
                start(transfer_set, value, k)
            } else {
                let ds = value.data_set.clone();
                data_set_members(ds, boxed(move |_, _| start(transfer_set, value, k)))
            }
        }),
    )
}

pub(crate) fn reserve_and_start(
    domain: String,
    value: DsTransferSetValue,
    k: K<ObjectName>,
) -> Step {
    reserve(
        domain,
        boxed(move |kn, r: Result<ObjectName, Error>| match r {
            Ok(ts) => {
                let t2 = ts.clone();
                start_transfer_set(ts, value, boxed(move |kn, r| k(kn, r.map(|()| t2))))
            }
            Err(e) => k(kn, Err(e)),
        }),
    )
}

pub(crate) fn read_transfer_set(ts: ObjectName, k: K<DsTransferSetValue>) -> Step {
    read(
        ts.clone(),
        boxed(move |kn, r| {
            k(
                kn,
                r.and_then(|d| {
                    DsTransferSetValue::from_data(&d).map_err(|_| Error::UnexpectedValue(ts))
                }),
            )
        }),
    )
}

/// A component write of `Status` = false, or, if the server refuses component access, a
/// whole-structure write of the last configuration with Status false.
pub(crate) fn stop(ts: ObjectName, k: K<()>) -> Step {
    let t2 = ts.clone();
    write(
        component(ts.clone(), "Status"),
        Data::Boolean(false),
        boxed(move |kn, r| match r {
            Err(Error::Access(_)) => {
                let mut v = kn.running.get(&t2).cloned().unwrap_or_default();
                v.status = false;
                let data = v.to_data(kn.edition);
                write(
                    spec(t2.clone()),
                    data,
                    boxed(move |kn, r| {
                        if r.is_ok() {
                            kn.running.remove(&t2);
                        }
                        k(kn, r)
                    }),
                )
            }
            r => {
                if r.is_ok() {
                    kn.running.remove(&ts);
                }
                k(kn, r)
            }
        }),
    )
}

pub(crate) fn info_messages(on: bool, k: K<()>) -> Step {
    write(
        spec(ObjectName::AaSpecific(IM_TRANSFER_SET.into())),
        Data::Boolean(on),
        k,
    )
}

// --- device control ---

fn control<T: Send + 'static>(op: ControlOp, k: K<T>) -> K<T> {
    boxed(move |kn, r: Result<T, Error>| {
        k(
            kn,
            r.map_err(|e| match e {
                Error::Access(code) => Error::Control(ControlError::new(op, code)),
                e => e,
            }),
        )
    })
}

pub(crate) fn device_info(device: ObjectName, k: K<DeviceInfo>) -> Step {
    let reqs = attribute_requests(&[device.clone(), sbo_name(&device), tag_name(&device)]);
    Step::Send(
        reqs,
        Box::new(move |kn, answers| {
            let mut answers = answers.into_iter();
            let kind = match answers.next() {
                Some(Ok(ConfirmedResponse::GetVariableAccessAttributes(a))) => {
                    match DeviceKind::from_type_description(&a.type_description) {
                        Some(kind) => kind,
                        None => return k(kn, Err(Error::NotADevice(device))),
                    }
                }
                Some(Err(e)) => return k(kn, Err(e)),
                _ => return k(kn, Err(Error::UnexpectedResponse)),
            };
            let exists = |a: Option<Answer>| {
                matches!(
                    a,
                    Some(Ok(ConfirmedResponse::GetVariableAccessAttributes(_)))
                )
            };
            let mode = if exists(answers.next()) {
                ControlMode::Sbo
            } else {
                ControlMode::Direct
            };
            let tagged = exists(answers.next());
            k(kn, Ok(DeviceInfo { kind, mode, tagged }))
        }),
    )
}

pub(crate) fn select(device: ObjectName, k: K<i16>) -> Step {
    let name = sbo_name(&device);
    read(
        name.clone(),
        control(
            ControlOp::Select,
            boxed(move |kn, r: Result<Data, Error>| {
                k(
                    kn,
                    r.and_then(|d| parse_check_back_id(&d).ok_or(Error::UnexpectedValue(name))),
                )
            }),
        ),
    )
}

pub(crate) fn operate(device: ObjectName, value: ControlValue, k: K<()>) -> Step {
    write(
        spec(device),
        value.to_data(),
        control(ControlOp::Operate, k),
    )
}

pub(crate) fn select_operate(device: ObjectName, value: ControlValue, k: K<i16>) -> Step {
    let d2 = device.clone();
    select(
        device,
        boxed(move |kn, r| match r {
            Ok(id) => operate(d2, value, boxed(move |kn, r| k(kn, r.map(|()| id)))),
            Err(e) => k(kn, Err(e)),
        }),
    )
}

pub(crate) fn tag(device: ObjectName, k: K<Tag>) -> Step {
    let name = tag_name(&device);
    read(
        name.clone(),
        control(
            ControlOp::ReadTag,
            boxed(move |kn, r: Result<Data, Error>| {
                k(
                    kn,
                    r.and_then(|d| Tag::from_data(&d).ok_or(Error::UnexpectedValue(name))),
                )
            }),
        ),
    )
}

pub(crate) fn set_tag(device: ObjectName, value: TagValue, reason: &str, k: K<()>) -> Step {
    // The printable ASCII characters, at most MAX_TAG_REASON of them. By octets: every octet of
    // a non-ASCII character is non-ASCII, so this keeps what filtering the chars would.
    let mut text = String::new();
    for b in reason.bytes() {
        if text.len() == MAX_TAG_REASON {
            break;
        }
        if b.is_ascii() && !b.is_ascii_control() {
            text.push(char::from(b));
        }
    }
    let tag = Tag {
        value,
        armed: false,
        reason: text,
    };
    write(
        spec(tag_name(&device)),
        tag.to_data(),
        control(ControlOp::SetTag, k),
    )
}

/// Any confirmed request, answered as it came.
pub(crate) fn raw(request: ConfirmedRequest) -> Step {
    one(request, |_, a| Step::Done(a.map(Outcome::Response)))
}
