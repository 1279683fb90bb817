//! Deployed servers' deviations, each shown by a scripted server that puts them on the wire: a real
//! server-role association (every byte encoded and decoded by the stack) whose MMS answers the test
//! writes by hand. The session must accept what is unambiguous, raise a `Deviation` naming it and
//! the object, and never loop or guess.

use core::time::Duration;
use std::collections::VecDeque;

use tase2_core::assoc::{Association, AssociationConfig, Event};
use tase2_core::deviation::DeviationKind;
use tase2_core::mms::{
    AccessResult, BinaryTime, BitString, ConfirmedRequest, ConfirmedResponse, Data, Float,
    GetNameListResponse, GetNamedVariableListAttributesResponse,
    GetVariableAccessAttributesResponse, InformationReport, ObjectName, ReadResponse,
    StructComponent, TypeDescription, TypeSpecification, UnconfirmedService,
    VariableAccessSpecification, VariableSpec, WriteResult,
};
use tase2_core::tase2::client::{Command, Outcome, Reported, Session, SessionConfig, SessionEvent};
use tase2_core::tase2::transfer_set::object_name_data;
use tase2_core::tase2::{
    DsConditions, DsTransferSetValue, Family, Form, PointType, StateValue, Value,
};
use tase2_core::Instant;

type Answerer = Box<dyn FnMut(&ConfirmedRequest) -> ConfirmedResponse>;

/// A server association answering by script.
struct Scripted {
    now: Instant,
    server: Association,
    client: Session,
    answer: Answerer,
    requests: Vec<ConfirmedRequest>,
    events: VecDeque<SessionEvent>,
}

impl Scripted {
    fn new(answer: Answerer) -> Scripted {
        let now = Instant::virtual_at(Duration::ZERO, 1_700_000_000);
        let mut s = Scripted {
            now,
            server: Association::server(AssociationConfig::default(), now),
            client: Session::new(AssociationConfig::default(), SessionConfig::default(), now),
            answer,
            requests: Vec::new(),
            events: VecDeque::new(),
        };
        s.pump();
        assert!(s.client.is_established());
        s
    }

    fn pump(&mut self) {
        for _ in 0..10_000 {
            let mut moved = false;
            let mut buf = Vec::new();
            if self.client.poll_transmit(&mut buf) > 0 {
                self.server.handle_input(self.now, &buf);
                moved = true;
            }
            while let Some(e) = self.server.poll_event() {
                match e {
                    Event::AssociateIndication(_) => self.server.accept().unwrap(),
                    Event::Request { invoke_id, request } => {
                        let response = (self.answer)(&request);
                        self.requests.push(request);
                        self.server.send_response(invoke_id, response).unwrap();
                    }
                    _ => {}
                }
            }
            buf.clear();
            if self.server.poll_transmit(&mut buf) > 0 {
                self.client.handle_input(self.now, &buf);
                moved = true;
            }
            while let Some(e) = self.client.poll_event() {
                self.events.push_back(e);
            }
            if !moved {
                return;
            }
        }
        panic!("the exchange does not settle");
    }

    fn run(&mut self, c: Command) -> Result<Outcome, tase2_core::tase2::client::Error> {
        let op = self.client.command(self.now, c);
        self.pump();
        let pos = self
            .events
            .iter()
            .position(|e| matches!(e, SessionEvent::Done { op: o, .. } if *o == op))
            .unwrap_or_else(|| panic!("not done: {:?}", self.events));
        match self.events.remove(pos) {
            Some(SessionEvent::Done { result, .. }) => result,
            _ => unreachable!(),
        }
    }

    fn report(&mut self, r: InformationReport) {
        self.server
            .send_unconfirmed(UnconfirmedService::InformationReport(r))
            .unwrap();
        self.pump();
    }

    fn deviations(&self) -> Vec<(DeviationKind, Option<ObjectName>)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                SessionEvent::Deviation(d) => Some((d.kind, d.object.clone())),
                _ => None,
            })
            .collect()
    }
}

fn comp(n: &str, t: TypeDescription) -> StructComponent {
    StructComponent {
        name: Some(n.into()),
        type_spec: TypeSpecification::Description(t),
    }
}

fn flags(o: u8) -> Data {
    Data::BitString(BitString {
        octets: vec![o],
        bits: 8,
    })
}

const F32: TypeDescription = TypeDescription::FloatingPoint {
    format_width: 32,
    exponent_width: 8,
};

fn icc1(i: &str) -> ObjectName {
    ObjectName::domain("ICC1", i)
}

fn gvaa(t: TypeDescription) -> ConfirmedResponse {
    ConfirmedResponse::GetVariableAccessAttributes(GetVariableAccessAttributesResponse {
        mms_deletable: false,
        type_description: t,
    })
}

fn read_ok(d: Data) -> ConfirmedResponse {
    ConfirmedResponse::Read(ReadResponse {
        variables: None,
        results: vec![AccessResult::Success(d)],
    })
}

#[test]
fn value_flags_timestamp_points_and_integer_states_read_by_name() {
    let mut s = Scripted::new(Box::new(|r| match r {
        ConfirmedRequest::GetVariableAccessAttributes(n) if n.item() == "Line1_MW" => {
            gvaa(TypeDescription::Structure {
                packed: false,
                components: vec![
                    comp("Value", F32),
                    comp("Flags", TypeDescription::BitString(8)),
                    comp("TimeStamp", TypeDescription::Integer(32)),
                ],
            })
        }
        ConfirmedRequest::GetVariableAccessAttributes(_) => gvaa(TypeDescription::Structure {
            packed: false,
            components: vec![
                comp("Value", TypeDescription::Integer(8)),
                comp("TimeStamp", TypeDescription::Integer(32)),
                comp("Flags", TypeDescription::BitString(8)),
            ],
        }),
        ConfirmedRequest::Read(_) => ConfirmedResponse::Read(ReadResponse {
            variables: None,
            results: vec![
                AccessResult::Success(Data::Structure(vec![
                    Data::Float(Float::F32(97.5)),
                    flags(0b0000_1000),
                    Data::Integer(1_700_000_100),
                ])),
                AccessResult::Success(Data::Structure(vec![
                    Data::Integer(2),
                    Data::Integer(1_700_000_200),
                    flags(0),
                ])),
            ],
        }),
        other => panic!("unexpected {other:?}"),
    }));
    let Ok(Outcome::Points(v)) = s.run(Command::ReadPoints {
        names: vec![icc1("Line1_MW"), icc1("Brk7")],
    }) else {
        panic!("{:?}", s.events)
    };
    let mw = v[0].as_ref().unwrap();
    assert_eq!(mw.value, Value::Real(97.5));
    assert_eq!(mw.timestamp.seconds, 1_700_000_100);
    assert_eq!(mw.flags.0, 0b0000_1000);
    let brk = v[1].as_ref().unwrap();
    assert_eq!(brk.value, Value::State(StateValue::On));
    assert_eq!(brk.timestamp.seconds, 1_700_000_200);
    assert_eq!(
        s.client.point_type(&icc1("Brk7")),
        Some(PointType::Indication(Family::State, Form::QTimeTag))
    );
    assert_eq!(
        s.deviations(),
        vec![
            (DeviationKind::PointComponentOrder, Some(icc1("Line1_MW"))),
            (DeviationKind::StateAsInteger, Some(icc1("Brk7"))),
        ]
    );
    // A write goes back in the server's own order.
    let v = tase2_core::tase2::PointValue::real(12.0);
    s.answer = Box::new(|_| ConfirmedResponse::Write(vec![WriteResult::Success]));
    assert_eq!(
        s.run(Command::WritePoint {
            name: icc1("Line1_MW"),
            value: v,
        }),
        Ok(Outcome::Unit)
    );
    let ConfirmedRequest::Write(w) = s.requests.last().unwrap() else {
        panic!()
    };
    let Data::Structure(c) = &w.data[0] else {
        panic!()
    };
    assert!(matches!(c[0], Data::Float(_)) && matches!(c[1], Data::BitString(_)));
    assert!(matches!(c[2], Data::Integer(0)));
}

#[test]
fn next_ds_transfer_set_as_a_name_string_among_counters_is_accepted() {
    let mut s = Scripted::new(Box::new(|r| match r {
        ConfirmedRequest::Read(_) => read_ok(Data::Structure(vec![
            Data::Unsigned(3),
            Data::VisibleString("DSTrans7".into()),
            Data::Integer(12),
        ])),
        other => panic!("unexpected {other:?}"),
    }));
    assert_eq!(
        s.run(Command::ReserveTransferSet {
            domain: "ICC1".into()
        }),
        Ok(Outcome::TransferSet(icc1("DSTrans7")))
    );
    assert_eq!(
        s.deviations(),
        vec![(
            DeviationKind::NextTransferSetAsString,
            Some(icc1("DSTrans7"))
        )]
    );
    // Two strings: ambiguous, refused rather than guessed.
    s.answer = Box::new(|_| {
        read_ok(Data::Structure(vec![
            Data::VisibleString("A".into()),
            Data::VisibleString("B".into()),
        ]))
    });
    assert!(s
        .run(Command::ReserveTransferSet {
            domain: "ICC1".into()
        })
        .is_err());
}

#[test]
fn a_name_list_that_returns_page_one_again_stops_instead_of_looping() {
    let mut s = Scripted::new(Box::new(|r| match r {
        ConfirmedRequest::GetNameList(_) => ConfirmedResponse::GetNameList(GetNameListResponse {
            identifiers: vec!["A".into(), "B".into(), "C".into()],
            more_follows: true,
        }),
        other => panic!("unexpected {other:?}"),
    }));
    let r = s.run(Command::VariableNames {
        domain: Some("ICC1".into()),
    });
    assert_eq!(
        r,
        Ok(Outcome::Names(vec!["A".into(), "B".into(), "C".into()]))
    );
    assert_eq!(
        s.requests.len(),
        2,
        "page 1, then page 2 = page 1 again: stop"
    );
    let [(DeviationKind::NameListNotAdvancing, _)] = s.deviations().as_slice() else {
        panic!("{:?}", s.deviations())
    };
}

#[test]
fn a_name_list_that_pages_forever_is_capped() {
    let mut page = 0u32;
    let mut s = Scripted::new(Box::new(move |r| match r {
        ConfirmedRequest::GetNameList(_) => {
            page += 1;
            ConfirmedResponse::GetNameList(GetNameListResponse {
                identifiers: (0..100).map(|i| format!("N{page}_{i}")).collect(),
                more_follows: true,
            })
        }
        other => panic!("unexpected {other:?}"),
    }));
    let Ok(Outcome::Names(n)) = s.run(Command::Domains) else {
        panic!()
    };
    assert_eq!(n.len(), SessionConfig::default().max_names);
    assert!(s
        .deviations()
        .iter()
        .any(|(k, _)| *k == DeviationKind::NameListNotAdvancing));
}

#[test]
fn a_report_named_after_the_transfer_set_with_leading_specials_is_decoded() {
    let ds = icc1("DS1");
    let ts = icc1("DSTrans1");
    let members = vec![icc1("P1"), icc1("P2")];
    let m2 = members.clone();
    let mut s = Scripted::new(Box::new(move |r| match r {
        ConfirmedRequest::GetNamedVariableListAttributes(_) => {
            ConfirmedResponse::GetNamedVariableListAttributes(
                GetNamedVariableListAttributesResponse {
                    mms_deletable: true,
                    variables: m2.iter().cloned().map(VariableSpec::named).collect(),
                },
            )
        }
        ConfirmedRequest::GetVariableAccessAttributes(_) => gvaa(F32),
        ConfirmedRequest::Write(_) => ConfirmedResponse::Write(vec![WriteResult::Success]),
        other => panic!("unexpected {other:?}"),
    }));
    assert_eq!(
        s.run(Command::StartTransferSet {
            transfer_set: ts.clone(),
            value: DsTransferSetValue {
                data_set: ds.clone(),
                conditions: DsConditions::OBJECT_CHANGE,
                ..Default::default()
            },
        }),
        Ok(Outcome::Unit)
    );
    // VMD-scope name of the transfer set; name, BinaryTime, conditions, then the values.
    s.report(InformationReport {
        variables: VariableAccessSpecification::VariableListName(ObjectName::vmd("DSTrans1")),
        results: vec![
            AccessResult::Success(object_name_data(&ts)),
            AccessResult::Success(Data::BinaryTime(BinaryTime {
                millis_since_midnight: 3_600_000,
                days_since_1984: Some(14_600),
            })),
            AccessResult::Success(Data::BitString(BitString {
                octets: vec![DsConditions::OBJECT_CHANGE.to_octet()],
                bits: 5,
            })),
            AccessResult::Success(Data::Float(Float::F32(1.5))),
            AccessResult::Success(Data::Float(Float::F32(2.5))),
        ],
    });
    let r = s
        .events
        .iter()
        .find_map(|e| match e {
            SessionEvent::Report(r) => Some(r.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{:?}", s.events));
    assert_eq!(r.transfer_set, Some(ts));
    assert_eq!(r.data_set, Some(ds));
    // 1984-01-01 + 14,600 days + 1 h.
    assert_eq!(r.timestamp, Some(441_763_200 + 14_600 * 86_400 + 3_600));
    assert!(r.conditions.unwrap().contains(DsConditions::OBJECT_CHANGE));
    assert!(matches!(
        r.values.as_slice(),
        [(_, Reported::Point(_, a)), (_, Reported::Point(_, b))]
            if a.value == Value::Real(1.5) && b.value == Value::Real(2.5)
    ));
    let kinds: Vec<_> = s.deviations().into_iter().map(|(k, _)| k).collect();
    assert!(
        kinds.contains(&DeviationKind::ReportNamedAfterTransferSet),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&DeviationKind::ReportTimeStampNotGmtBasedS),
        "{kinds:?}"
    );
    // Raised once, not once per report.
    let before = s.deviations().len();
    s.report(InformationReport {
        variables: VariableAccessSpecification::VariableListName(ObjectName::vmd("DSTrans1")),
        results: vec![
            AccessResult::Success(object_name_data(&icc1("DSTrans1"))),
            AccessResult::Success(Data::Integer(1_700_000_000)),
            AccessResult::Success(Data::BitString(BitString {
                octets: vec![0x20],
                bits: 5,
            })),
            AccessResult::Success(Data::Float(Float::F32(3.0))),
            AccessResult::Success(Data::Float(Float::F32(4.0))),
        ],
    });
    assert_eq!(s.deviations().len(), before);
}

#[test]
fn a_report_of_an_unknown_list_is_looked_up_once_and_delivered_undecoded_if_it_cannot_be() {
    let mut s = Scripted::new(Box::new(|r| match r {
        ConfirmedRequest::GetNamedVariableListAttributes(_) => {
            // The server will not say: a plain error-free answer of another kind is not an
            // answer either; use an empty read result to make it fail.
            read_ok(Data::Boolean(true))
        }
        other => panic!("unexpected {other:?}"),
    }));
    let list = icc1("Mystery");
    for _ in 0..3 {
        s.report(InformationReport {
            variables: VariableAccessSpecification::VariableListName(list.clone()),
            results: vec![AccessResult::Success(Data::Integer(1))],
        });
    }
    let lookups = s
        .requests
        .iter()
        .filter(|r| matches!(r, ConfirmedRequest::GetNamedVariableListAttributes(_)))
        .count();
    assert_eq!(lookups, 1, "looked up once, not once per report");
    let undecoded = s
        .events
        .iter()
        .filter(|e| matches!(e, SessionEvent::Undecoded(_)))
        .count();
    assert_eq!(undecoded, 3, "nothing dropped");
}
