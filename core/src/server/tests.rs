//! Client and server endpoint pumped together in memory on a virtual clock (quinn-proto's `Pair`).

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::time::Duration;

use super::*;
use crate::acse::{self, AssociateDiagnostic};
use crate::assoc::{AssociationConfig, Event, RequestError};
use crate::client::Client;
use crate::mms::{
    AccessResult, BitString, ConfirmedResponse, Data, DataAccessError, Float, ObjectClass,
    ObjectName, ObjectScope, StructComponent, TypeDescription, TypeSpecification,
    UnconfirmedService, VariableAccessSpecification, WriteResult,
};

/// The shared pair harness (`crate::sim`) with one plain MMS client, `clients[0]`.
pub(crate) type Pair<H = NoHooks> = crate::sim::Sim<H, Client>;

fn f32_type() -> TypeDescription {
    TypeDescription::FloatingPoint {
        format_width: 32,
        exponent_width: 8,
    }
}

fn point_type() -> TypeDescription {
    let comp = |n: &str, t| StructComponent {
        name: Some(n.into()),
        type_spec: TypeSpecification::Description(t),
    };
    TypeDescription::Structure {
        packed: false,
        components: vec![
            comp("Value", f32_type()),
            comp("TimeStamp", TypeDescription::Integer(32)),
            comp("Flags", TypeDescription::BitString(8)),
        ],
    }
}

fn point(n: u32) -> Data {
    Data::Structure(vec![
        Data::Float(Float::F32(n as f32 * 1.5)),
        Data::Integer(1_700_000_000 + i64::from(n)),
        Data::BitString(BitString {
            octets: vec![0],
            bits: 8,
        }),
    ])
}

pub(crate) fn model(points: u32) -> Vmd {
    let mut vmd = Vmd::default();
    vmd.variables.insert(
        "TASE2_Version".into(),
        Variable::read_only(
            TypeDescription::Structure {
                packed: false,
                components: vec![
                    StructComponent {
                        name: Some("Major".into()),
                        type_spec: TypeSpecification::Description(TypeDescription::Integer(16)),
                    },
                    StructComponent {
                        name: Some("Minor".into()),
                        type_spec: TypeSpecification::Description(TypeDescription::Integer(16)),
                    },
                ],
            },
            Data::Structure(vec![Data::Integer(2000), Data::Integer(8)]),
        ),
    );
    let d = vmd.domain_mut("ICC1");
    for n in 1..=points {
        d.variables.insert(
            alloc::format!("Point_{n:04}"),
            Variable::read_only(point_type(), point(n)),
        );
    }
    d.variables.insert(
        "Setpoint_Real".into(),
        Variable::writable(f32_type(), Data::Float(Float::F32(0.0))),
    );
    d.lists.insert(
        "DS_Predefined".into(),
        NamedVariableList {
            members: (1..=3)
                .map(|n| ObjectName::domain("ICC1", alloc::format!("Point_{n:04}")))
                .collect(),
            deletable: false,
        },
    );
    vmd.domain_mut("ICC2");
    vmd
}

fn client_config() -> AssociationConfig {
    AssociationConfig::with_ap_titles(
        ("1.1.1.999".parse().unwrap(), 12),
        ("1.1.1.998".parse().unwrap(), 12),
    )
}

impl Pair {
    pub(crate) fn serving(server_config: ServerConfig, model: Vmd) -> Pair {
        Pair::with_hooks(server_config, model, NoHooks)
    }

    pub(crate) fn connected(points: u32) -> Pair {
        let mut p = Pair::serving(ServerConfig::default(), model(points));
        p.drive();
        assert!(
            p.clients[0].session.is_established(),
            "client events: {:?}",
            p.clients[0].events
        );
        p
    }
}

impl<H: Hooks> Pair<H> {
    /// A server and one client whose connection is open but has moved no byte yet.
    pub(crate) fn with_hooks(server_config: ServerConfig, model: Vmd, hooks: H) -> Pair<H> {
        let now = Instant::virtual_at(Duration::ZERO, 1_700_000_000);
        let server = Endpoint::with_hooks(server_config, model, hooks);
        let mut p = crate::sim::Sim::new(server, now);
        p.open_with(|now| Client::new(client_config(), now));
        p
    }

    /// Move bytes both ways until nothing moves, collecting events.
    pub(crate) fn drive(&mut self) {
        self.deliver();
    }

    /// The response to `id`, taken from the collected events.
    pub(crate) fn response(&mut self, id: u32) -> Result<ConfirmedResponse, RequestError> {
        self.drive();
        let events = &mut self.clients[0].events;
        let pos = events
            .iter()
            .position(|e| matches!(e, Event::Response { invoke_id, .. } if *invoke_id == id))
            .unwrap_or_else(|| panic!("no response to {id}: {events:?}"));
        match events.remove(pos) {
            Event::Response { result, .. } => result,
            _ => unreachable!(),
        }
    }
}

#[test]
fn handshake_negotiates_and_both_sides_hear_of_it() {
    let p = Pair::connected(3);
    assert!(p.clients[0]
        .events
        .iter()
        .any(|e| matches!(e, Event::Established(_))));
    let ServerEvent::Associated { peer, .. } = &p.server_events[0] else {
        panic!("{:?}", p.server_events)
    };
    assert_eq!(peer.calling.ap_title, Some("1.1.1.999".parse().unwrap()));
    assert_eq!(peer.calling.ae_qualifier, Some(12));
    assert_eq!(
        p.clients[0].session.negotiated().max_pdu_size,
        crate::assoc::DEFAULT_MAX_PDU_SIZE
    );
}

#[test]
fn identify_read_write_and_gvaa_answer_from_the_model() {
    let mut p = Pair::connected(10);
    let id = p.clients[0].session.identify(p.now).unwrap();
    let ConfirmedResponse::Identify(i) = p.response(id).unwrap() else {
        panic!()
    };
    assert_eq!(i.vendor_name, "FreeTase2");

    let id = p.clients[0]
        .session
        .read(
            p.now,
            &[
                ObjectName::domain("ICC1", "Point_0007"),
                ObjectName::domain("ICC1", "Nope"),
            ],
        )
        .unwrap();
    let ConfirmedResponse::Read(r) = p.response(id).unwrap() else {
        panic!()
    };
    assert_eq!(r.results[0], AccessResult::Success(point(7)));
    assert_eq!(
        r.results[1],
        AccessResult::Failure(DataAccessError::OBJECT_NON_EXISTENT)
    );

    let sp = ObjectName::domain("ICC1", "Setpoint_Real");
    let id = p.clients[0]
        .session
        .write(
            p.now,
            core::slice::from_ref(&sp),
            vec![Data::Float(Float::F32(42.25))],
        )
        .unwrap();
    assert_eq!(
        p.response(id).unwrap(),
        ConfirmedResponse::Write(vec![WriteResult::Success])
    );
    assert_eq!(
        p.server.model().variable(&sp).unwrap().value,
        Data::Float(Float::F32(42.25))
    );
    assert!(p
        .server_events
        .iter()
        .any(|e| matches!(e, ServerEvent::Written { name, .. } if *name == sp)));

    let id = p.clients[0]
        .session
        .write(p.now, core::slice::from_ref(&sp), vec![Data::Integer(1)])
        .unwrap();
    assert_eq!(
        p.response(id).unwrap(),
        ConfirmedResponse::Write(vec![WriteResult::Failure(
            DataAccessError::TYPE_INCONSISTENT
        )])
    );
    let id = p.clients[0]
        .session
        .write(
            p.now,
            &[ObjectName::domain("ICC1", "Point_0001")],
            vec![point(9)],
        )
        .unwrap();
    assert_eq!(
        p.response(id).unwrap(),
        ConfirmedResponse::Write(vec![WriteResult::Failure(
            DataAccessError::OBJECT_ACCESS_DENIED
        )])
    );

    let id = p.clients[0]
        .session
        .get_variable_access_attributes(p.now, ObjectName::domain("ICC1", "Point_0001"))
        .unwrap();
    let ConfirmedResponse::GetVariableAccessAttributes(g) = p.response(id).unwrap() else {
        panic!()
    };
    assert_eq!(g.type_description, point_type());
    let id = p.clients[0]
        .session
        .get_variable_access_attributes(p.now, ObjectName::vmd("Nope"))
        .unwrap();
    assert!(matches!(p.response(id), Err(RequestError::Service(_))));
}

#[test]
fn get_name_list_pages_through_more_names_than_fit_one_pdu() {
    let mut config = ServerConfig::default();
    config.association.max_pdu_size = 1000;
    let mut p = Pair::serving(config, model(400));
    p.drive();
    let mut all: Vec<String> = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let id = p.clients[0]
            .session
            .get_name_list(
                p.now,
                ObjectClass::NamedVariable,
                ObjectScope::Domain("ICC1".into()),
                after.clone(),
            )
            .unwrap();
        let ConfirmedResponse::GetNameList(r) = p.response(id).unwrap() else {
            panic!()
        };
        pages += 1;
        all.extend(r.identifiers.iter().cloned());
        if !r.more_follows {
            break;
        }
        after = r.identifiers.last().cloned();
    }
    assert!(
        pages > 1,
        "400 names in a 1000-octet PDU need several pages"
    );
    assert_eq!(all.len(), 401);
    let mut sorted = all.clone();
    sorted.sort();
    assert_eq!(all, sorted, "collation order");

    let id = p.clients[0]
        .session
        .get_name_list(p.now, ObjectClass::Domain, ObjectScope::Vmd, None)
        .unwrap();
    let ConfirmedResponse::GetNameList(r) = p.response(id).unwrap() else {
        panic!()
    };
    assert_eq!(r.identifiers, ["ICC1", "ICC2"]);
    let id = p.clients[0]
        .session
        .get_name_list(
            p.now,
            ObjectClass::NamedVariable,
            ObjectScope::Domain("ICC9".into()),
            None,
        )
        .unwrap();
    assert!(matches!(p.response(id), Err(RequestError::Service(_))));
}

#[test]
fn named_variable_lists_are_defined_read_and_deleted() {
    let mut p = Pair::connected(5);
    let ds = ObjectName::domain("ICC1", "DS_Test");
    let members = [
        ObjectName::domain("ICC1", "Point_0001"),
        ObjectName::domain("ICC1", "Point_0002"),
    ];
    let id = p.clients[0]
        .session
        .define_named_variable_list(p.now, ds.clone(), &members)
        .unwrap();
    assert_eq!(
        p.response(id).unwrap(),
        ConfirmedResponse::DefineNamedVariableList
    );
    let id = p.clients[0]
        .session
        .define_named_variable_list(p.now, ds.clone(), &members)
        .unwrap();
    assert!(
        matches!(p.response(id), Err(RequestError::Service(_))),
        "duplicate name refused"
    );
    let id = p.clients[0]
        .session
        .define_named_variable_list(
            p.now,
            ObjectName::domain("ICC1", "Bad"),
            &[ObjectName::domain("ICC1", "Nope")],
        )
        .unwrap();
    assert!(
        matches!(p.response(id), Err(RequestError::Service(_))),
        "unknown member refused"
    );

    let id = p.clients[0].session.read_list(p.now, ds.clone()).unwrap();
    let ConfirmedResponse::Read(r) = p.response(id).unwrap() else {
        panic!()
    };
    assert_eq!(
        r.results,
        vec![
            AccessResult::Success(point(1)),
            AccessResult::Success(point(2))
        ]
    );

    let id = p.clients[0]
        .session
        .get_named_variable_list_attributes(p.now, ds.clone())
        .unwrap();
    let ConfirmedResponse::GetNamedVariableListAttributes(a) = p.response(id).unwrap() else {
        panic!()
    };
    assert!(a.mms_deletable);
    assert_eq!(a.variables.len(), 2);

    let id = p.clients[0]
        .session
        .delete_named_variable_lists(
            p.now,
            &[ds.clone(), ObjectName::domain("ICC1", "DS_Predefined")],
        )
        .unwrap();
    assert_eq!(
        p.response(id).unwrap(),
        ConfirmedResponse::DeleteNamedVariableList {
            number_matched: 2,
            number_deleted: 1
        }
    );
    assert!(
        p.server.model().domains["ICC1"]
            .lists
            .contains_key("DS_Predefined"),
        "server lists are not deletable"
    );
}

#[test]
fn information_reports_reach_the_client() {
    let mut p = Pair::connected(3);
    p.server
        .report_list(
            p.now,
            p.clients[0].conn,
            &ObjectName::domain("ICC1", "DS_Predefined"),
        )
        .unwrap();
    p.drive();
    let report = p.clients[0].events.iter().find_map(|e| match e {
        Event::Unconfirmed(UnconfirmedService::InformationReport(r)) => Some(r.clone()),
        _ => None,
    });
    let r = report.expect("report delivered");
    assert_eq!(
        r.variables,
        VariableAccessSpecification::VariableListName(ObjectName::domain("ICC1", "DS_Predefined"))
    );
    assert_eq!(r.results[2], AccessResult::Success(point(3)));
}

/// Hooks whose one slotted variable reads as the UTC seconds of the `now` its read saw.
#[derive(Default)]
struct Clock {
    seen: Vec<Instant>,
}

impl Hooks for Clock {
    type Event = core::convert::Infallible;

    fn read(
        &mut self,
        ctx: &mut Ctx<'_, Self::Event>,
        _name: &ObjectName,
        _slot: u32,
        w: &mut crate::ber::Writer<'_>,
    ) -> Result<(), DataAccessError> {
        self.seen.push(ctx.now);
        Data::Integer(ctx.now.utc_micros() / 1_000_000).encode(w);
        Ok(())
    }
}

#[test]
fn a_list_report_reads_slotted_members_at_the_now_passed() {
    let mut vmd = model(1);
    vmd.domain_mut("ICC1").variables.insert(
        "Clock".into(),
        Variable::slotted(TypeDescription::Integer(32), 0, false),
    );
    vmd.domain_mut("ICC1").lists.insert(
        "DS_Clock".into(),
        NamedVariableList {
            members: vec![ObjectName::domain("ICC1", "Clock")],
            deletable: false,
        },
    );
    let mut p = Pair::with_hooks(ServerConfig::default(), vmd, Clock::default());
    p.drive();
    assert!(p.clients[0].session.is_established());
    let later = p.now + Duration::from_secs(90);
    p.server
        .report_list(
            later,
            p.clients[0].conn,
            &ObjectName::domain("ICC1", "DS_Clock"),
        )
        .unwrap();
    assert_eq!(p.server.hooks().seen, [later]);
    p.drive();
    let report = p.clients[0].events.iter().find_map(|e| match e {
        Event::Unconfirmed(UnconfirmedService::InformationReport(r)) => Some(r.clone()),
        _ => None,
    });
    assert_eq!(
        report.expect("report delivered").results,
        [AccessResult::Success(Data::Integer(1_700_000_090))]
    );
}

#[test]
fn orderly_release_closes_both_sides_without_error() {
    let mut p = Pair::connected(1);
    p.clients[0].session.conclude(p.now).unwrap();
    p.drive();
    assert!(p.clients[0].session.is_closed());
    assert_eq!(p.clients[0].events.last(), Some(&Event::Closed(None)));
    assert!(p
        .server_events
        .iter()
        .any(|e| matches!(e, ServerEvent::Closed { error: None, .. })));
    assert_eq!(
        p.server.connections().count(),
        0,
        "connection forgotten once its last bytes are out"
    );
}

#[test]
fn commands_after_the_transport_closed_name_the_cause() {
    let mut p = Pair::connected(1);
    p.clients[0].session.handle_transport_closed();
    let err = p.clients[0].session.identify(p.now).unwrap_err();
    assert_eq!(err, ApiError::Closed(Some(AssocError::TransportClosed)));
    assert_eq!(
        alloc::format!("{err}"),
        "association closed: transport closed"
    );
    assert_eq!(
        p.clients[0].session.conclude(p.now),
        Err(ApiError::Closed(Some(AssocError::TransportClosed)))
    );
}

#[test]
fn commands_after_an_orderly_release_say_released() {
    let mut p = Pair::connected(1);
    p.clients[0].session.conclude(p.now).unwrap();
    p.drive();
    let err = p.clients[0].session.identify(p.now).unwrap_err();
    assert_eq!(err, ApiError::Closed(None));
    assert_eq!(alloc::format!("{err}"), "association released");
}

#[test]
fn a_policy_refusal_is_an_aare_reject_with_the_diagnostic() {
    let config = ServerConfig {
        policy: |_| {
            Err(AssociateDiagnostic::User(
                acse::user_diagnostic::CALLING_AP_TITLE_NOT_RECOGNIZED,
            ))
        },
        ..ServerConfig::default()
    };
    let mut p = Pair::serving(config, model(1));
    p.drive();
    assert!(p.clients[0].session.is_closed());
    let Some(Event::Closed(Some(e @ AssocError::Refused(reason)))) = p.clients[0].events.last()
    else {
        panic!("{:?}", p.clients[0].events)
    };
    assert_eq!(
        *reason,
        crate::assoc::RefusalReason::Acse {
            result: acse::AssociateResult::RejectedPermanent,
            diagnostic: Some(AssociateDiagnostic::User(
                acse::user_diagnostic::CALLING_AP_TITLE_NOT_RECOGNIZED
            )),
        }
    );
    assert_eq!(
        alloc::format!("{e}"),
        "association refused by the peer's ACSE: rejected-permanent, \
         calling-AP-title-not-recognized"
    );
}

#[test]
fn requests_time_out_on_the_virtual_clock() {
    let mut p = Pair::connected(1);
    let id = p.clients[0].session.identify(p.now).unwrap();
    // The request leaves but the server never sees it.
    let mut lost = Vec::new();
    p.clients[0].session.poll_transmit(&mut lost);
    assert_eq!(
        p.clients[0].session.poll_timeout(),
        Some(p.now + Duration::from_secs(10))
    );
    p.advance(Duration::from_secs(9));
    assert!(!p.clients[0]
        .events
        .iter()
        .any(|e| matches!(e, Event::Response { .. })));
    p.advance(Duration::from_secs(1));
    assert_eq!(p.response(id), Err(RequestError::Timeout));
}

#[test]
fn the_client_respects_the_negotiated_outstanding_limit() {
    let mut config = ServerConfig::default();
    config.association.max_serv_outstanding_calling = 2;
    let mut p = Pair::serving(config, model(1));
    p.drive();
    assert_eq!(
        p.clients[0]
            .session
            .negotiated()
            .max_serv_outstanding_calling,
        2
    );
    p.clients[0].session.identify(p.now).unwrap();
    p.clients[0].session.identify(p.now).unwrap();
    assert_eq!(
        p.clients[0].session.identify(p.now),
        Err(ApiError::TooManyOutstanding)
    );
    p.drive();
    assert!(
        p.clients[0].session.identify(p.now).is_ok(),
        "answers free the slots"
    );
}

#[test]
fn a_handshake_that_stalls_times_out() {
    let now = Instant::ZERO;
    let mut server = Endpoint::new(ServerConfig::default(), Vmd::default());
    let id = server.open(now).unwrap();
    server.handle_input(now, id, &[3, 0, 0]);
    // `ServerConfig::handshake_timeout` (5 s) bounds the association's own 10 s.
    assert_eq!(server.poll_timeout(), Some(now + Duration::from_secs(5)));
    server.handle_timeout(now + Duration::from_secs(5));
    assert_eq!(
        server.poll_event(),
        Some(ServerEvent::Admission(AdmissionEvent::HandshakeTimeout {
            id,
            after: Duration::from_secs(5)
        }))
    );
    assert!(matches!(
        server.poll_event(),
        Some(ServerEvent::Closed { id: i, error: Some(_) }) if i == id
    ));
    assert_eq!(server.connection_counts(), (0, 0));
}

#[test]
fn association_specific_variables_without_hooks_read_their_template_and_refuse_writes() {
    let mut m = model(1);
    m.aa_variables.insert(
        "Session_Flag".into(),
        Variable::writable(TypeDescription::Boolean, Data::Boolean(true)),
    );
    let mut p = Pair::serving(ServerConfig::default(), m);
    p.drive();
    let id = p.clients[0]
        .session
        .get_name_list(
            p.now,
            ObjectClass::NamedVariable,
            ObjectScope::AssociationSpecific,
            None,
        )
        .unwrap();
    let ConfirmedResponse::GetNameList(l) = p.response(id).unwrap() else {
        panic!()
    };
    assert_eq!(l.identifiers, vec![String::from("Session_Flag")]);
    let name = ObjectName::AaSpecific("Session_Flag".into());
    let id = p.clients[0]
        .session
        .read(p.now, core::slice::from_ref(&name))
        .unwrap();
    let ConfirmedResponse::Read(r) = p.response(id).unwrap() else {
        panic!()
    };
    assert_eq!(r.results, vec![AccessResult::Success(Data::Boolean(true))]);
    // No per-association storage without hooks: a write would leak to every association.
    let id = p.clients[0]
        .session
        .write(p.now, &[name], vec![Data::Boolean(false)])
        .unwrap();
    assert_eq!(
        p.response(id).unwrap(),
        ConfirmedResponse::Write(vec![WriteResult::Failure(
            DataAccessError::OBJECT_ACCESS_DENIED
        )])
    );
}

/// One MMS PDU framed by hand the way any peer frames it: TPKT, COTP DT with EOT, session
/// GIVE-TOKENS + DATA, presentation fully-encoded user data on the MMS context (3). Short PDUs only
/// (every length fits one octet).
fn hand_framed(mms: &[u8]) -> Vec<u8> {
    assert!(mms.len() < 100);
    let pdv_len = 3 + 2 + mms.len();
    let mut f = vec![3, 0, 0, 0, 2, 0xf0, 0x80, 1, 0, 1, 0];
    f.extend([
        0x61,
        (pdv_len + 2) as u8,
        0x30,
        pdv_len as u8,
        0x02,
        0x01,
        0x03,
    ]);
    f.extend([0xa0, mms.len() as u8]);
    f.extend_from_slice(mms);
    let n = f.len() as u16;
    f[2..4].copy_from_slice(&n.to_be_bytes());
    f
}

/// GetNameList { namedVariable, domainSpecific "ICC1", `continue_after` (encoded as given) } with
/// invoke id `invoke_id`, as a client would send it.
fn get_name_list_bytes(invoke_id: u32, continue_after: &[u8]) -> Vec<u8> {
    let mut svc = vec![0xa0, 0x03, 0x80, 0x01, 0x00];
    svc.extend([0xa1, 0x06, 0x81, 0x04, b'I', b'C', b'C', b'1']);
    svc.extend_from_slice(continue_after);
    let mut pdu = vec![0xa0, (3 + 2 + svc.len()) as u8, 0x02, 0x01, invoke_id as u8];
    pdu.extend([0xa1, svc.len() as u8]);
    pdu.extend(svc);
    pdu
}

/// Send `mms` to the server in place of the request the client just queued as `id`, so the answer
/// reaches the client as the answer to `id`.
fn replace_request(p: &mut Pair, id: u32, mms: &[u8]) -> Result<ConfirmedResponse, RequestError> {
    assert!(id < 128);
    let mut ours = Vec::new();
    p.clients[0].session.poll_transmit(&mut ours);
    assert!(!ours.is_empty(), "the client queued its own request");
    p.server.handle_input(
        p.now,
        p.clients[0].conn,
        &hand_framed(&get_name_list_bytes(id, mms)),
    );
    p.response(id)
}

fn deviations(p: &Pair) -> Vec<(ConnectionId, Deviation)> {
    p.server_events
        .iter()
        .filter_map(|e| match e {
            ServerEvent::Deviation { id, deviation } => Some((*id, deviation.clone())),
            _ => None,
        })
        .collect()
}

fn get_name_list_after_point_0003(p: &mut Pair, continue_after: &[u8]) -> Vec<String> {
    let id = p.clients[0]
        .session
        .get_name_list(
            p.now,
            ObjectClass::NamedVariable,
            ObjectScope::Domain("ICC1".into()),
            None,
        )
        .unwrap();
    let ConfirmedResponse::GetNameList(r) = replace_request(p, id, continue_after).unwrap() else {
        panic!()
    };
    r.identifiers
}

/// A connected pair whose server lists at most three names per GetNameList response.
fn paged_by_three() -> Pair {
    let config = ServerConfig {
        max_names_per_response: 3,
        ..ServerConfig::default()
    };
    let mut p = Pair::serving(config, model(10));
    p.drive();
    p
}

#[test]
fn an_explicit_continue_after_gets_the_right_page_and_a_deviation_event() {
    let mut p = paged_by_three();
    // a2 0c { 1a 0a "Point_0003" }: EXPLICIT [2] around the Identifier.
    let mut explicit = vec![0xa2, 0x0c, 0x1a, 0x0a];
    explicit.extend_from_slice(b"Point_0003");
    let names = get_name_list_after_point_0003(&mut p, &explicit);
    assert_eq!(names, ["Point_0004", "Point_0005", "Point_0006"]);
    assert_eq!(
        deviations(&p),
        [(
            p.clients[0].conn,
            Deviation::new(crate::DeviationKind::ExplicitContinueAfter)
        )]
    );
}

#[test]
fn an_implicit_continue_after_raises_no_deviation() {
    let mut p = paged_by_three();
    // 82 0a "Point_0003": [2] IMPLICIT Identifier (ISO 9506-2 §10.5.1).
    let mut implicit = vec![0x82, 0x0a];
    implicit.extend_from_slice(b"Point_0003");
    let names = get_name_list_after_point_0003(&mut p, &implicit);
    assert_eq!(names, ["Point_0004", "Point_0005", "Point_0006"]);
    assert!(deviations(&p).is_empty(), "{:?}", p.server_events);
}

#[test]
fn an_explicit_continue_after_holding_an_integer_is_rejected() {
    let mut p = Pair::connected(10);
    let id = p.clients[0]
        .session
        .get_name_list(
            p.now,
            ObjectClass::NamedVariable,
            ObjectScope::Domain("ICC1".into()),
            None,
        )
        .unwrap();
    // a2 03 { 02 01 05 }: an INTEGER where the Identifier should be.
    let r = replace_request(&mut p, id, &[0xa2, 0x03, 0x02, 0x01, 0x05]);
    let Err(RequestError::Rejected(rej)) = r else {
        panic!("{r:?}")
    };
    assert_eq!(rej.reason, crate::mms::RejectReason::INVALID_ARGUMENT);
    assert!(deviations(&p).is_empty());
    assert!(p
        .server_events
        .iter()
        .any(|e| matches!(e, ServerEvent::PeerError { .. })));
}

#[test]
fn libiec61850s_8192_octet_tpdu_proposal_is_answered_2048_with_a_deviation_event() {
    // libiec61850's CR proposes c0 01 0d (8192), which class 0 does not allow.
    let text = include_str!("../../../tests/data/libiec61850/01_c2s_cotp_cr.hex").trim();
    let cr: Vec<u8> = (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect();
    assert!(cr.windows(3).any(|w| w == [0xc0, 0x01, 0x0d]));
    let now = Instant::ZERO;
    let mut server = Endpoint::new(ServerConfig::default(), model(1));
    let id = server.open(now).unwrap();
    server.handle_input(now, id, &cr);
    let mut cc = Vec::new();
    server.poll_transmit(id, &mut cc);
    // TPKT, then LI, CC code d0, DST-REF = its SRC-REF 1, our SRC-REF, class 0, TPDU size 2048.
    assert_eq!(cc[..4], [3, 0, 0, cc.len() as u8]);
    assert_eq!(cc[5..8], [0xd0, 0x00, 0x01]);
    assert_eq!(cc[10], 0x00, "class 0");
    assert_eq!(cc[11..14], [0xc0, 0x01, 0x0b], "TPDU size 2048");
    let events: Vec<_> = core::iter::from_fn(|| server.poll_event()).collect();
    assert_eq!(
        events,
        [ServerEvent::Deviation {
            id,
            deviation: Deviation::new(crate::DeviationKind::TpduSizeBeyondClass0)
        }]
    );
}

#[test]
fn a_class0_tpdu_proposal_is_answered_without_a_deviation() {
    let now = Instant::ZERO;
    let mut server = Endpoint::new(ServerConfig::default(), model(1));
    let id = server.open(now).unwrap();
    // CR: LI 17, e0, DST-REF 0, SRC-REF 1, class 0, c0 01 0a (1024), c2 02 00 01, c1 02 00 01.
    let cr = [
        3, 0, 0, 0x16, 0x11, 0xe0, 0, 0, 0, 1, 0, 0xc0, 1, 0x0a, 0xc2, 2, 0, 1, 0xc1, 2, 0, 1,
    ];
    server.handle_input(now, id, &cr);
    let mut cc = Vec::new();
    server.poll_transmit(id, &mut cc);
    assert_eq!(cc[11..14], [0xc0, 0x01, 0x0a], "the proposal is kept");
    assert_eq!(server.poll_event(), None);
}

/// Whether the calling test (`name`, its path below the crate) runs here. `tracing` caches each
/// log callsite's interest globally; a callsite that another test thread registers for the
/// first time while the subscriber below is being installed can be cached as uninteresting,
/// and its line is then lost (seen in CI). So a test that reads log lines runs in a child
/// process of the test binary that runs it alone: there the parent returns `false` after the
/// child passed, and the child gets `true`.
fn alone(name: &str) -> bool {
    const CHILD: &str = "TASE2_TEST_ALONE";
    if std::env::var_os(CHILD).is_some() {
        return true;
    }
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .args([name, "--exact", "--test-threads=1", "--nocapture"])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{name} in its own process:\n{text}");
    // It must really have run, not matched nothing.
    assert!(
        text.contains("1 passed"),
        "{name} did not run alone:\n{text}"
    );
    false
}

/// Log lines written by a `tracing` subscriber (debug and above) while `f` runs.
fn traced(f: impl FnOnce()) -> String {
    use std::sync::{Arc, Mutex};
    #[derive(Clone)]
    struct Lines(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Lines {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let lines = Lines(Arc::new(Mutex::new(Vec::new())));
    let writer = lines.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .without_time()
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        // Other tests, running at the same time without a subscriber, may have had callsites
        // cached as uninteresting before this subscriber existed: ask again.
        tracing::callsite::rebuild_interest_cache();
        f()
    });
    let out = lines.0.lock().unwrap().clone();
    String::from_utf8(out).unwrap()
}

#[test]
fn diagnostics_name_the_association_and_what_happened_to_it() {
    if !alone("server::tests::diagnostics_name_the_association_and_what_happened_to_it") {
        return;
    }
    let log = traced(|| {
        let mut p = paged_by_three();
        let mut explicit = vec![0xa2, 0x0c, 0x1a, 0x0a];
        explicit.extend_from_slice(b"Point_0003");
        get_name_list_after_point_0003(&mut p, &explicit);
        p.clients[0].session.conclude(p.now).unwrap();
        p.drive();
    });
    // Each line carries its association's span: role and, on the server, the connection id.
    let server_line = |what: &str| {
        log.lines()
            .any(|l| l.contains("association{role=Server id=1}") && l.contains(what))
    };
    assert!(server_line("connection opened"), "{log}");
    assert!(server_line("association established"), "{log}");
    assert!(
        server_line("peer deviation accepted")
            && server_line("GetNameList continueAfter in EXPLICIT form"),
        "{log}"
    );
    assert!(server_line("association released"), "{log}");
    assert!(
        log.lines()
            .any(|l| l.contains("association{role=Client}") && l.contains("association released")),
        "{log}"
    );
}

#[test]
fn diagnostics_tell_of_a_request_timeout_and_a_refusal() {
    if !alone("server::tests::diagnostics_tell_of_a_request_timeout_and_a_refusal") {
        return;
    }
    let log = traced(|| {
        let mut p = Pair::connected(1);
        // The server never sees the request: it times out at the client.
        let id = p.clients[0].session.identify(p.now).unwrap();
        let mut lost = Vec::new();
        p.clients[0].session.poll_transmit(&mut lost);
        p.advance(Duration::from_secs(11));
        assert!(matches!(p.response(id), Err(RequestError::Timeout)));
        let config = ServerConfig {
            policy: |_| {
                Err(AssociateDiagnostic::User(
                    acse::user_diagnostic::CALLING_AP_TITLE_NOT_RECOGNIZED,
                ))
            },
            ..ServerConfig::default()
        };
        let mut p = Pair::serving(config, model(1));
        p.drive();
    });
    assert!(
        log.lines().any(|l| l.contains("association{role=Client}")
            && l.contains("request timed out")
            && l.contains("invoke_id=")),
        "{log}"
    );
    assert!(
        log.lines().any(|l| l.contains("role=Server")
            && l.contains("association refused")
            && l.contains("cause=")),
        "{log}"
    );
}
