//! Proptest strategies shared by the MMS tests.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

use super::pdu::*;
use super::types::{StructComponent, TypeDescription, TypeSpecification};
use super::{BinaryTime, BitString, Data, Float, ObjectName, UtcTime};
use crate::ber::{ObjectIdentifier, Writer};

pub fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

pub fn enc(f: impl FnOnce(&mut Writer<'_>)) -> Vec<u8> {
    let mut out = Vec::new();
    f(&mut Writer::new(&mut out));
    out
}

pub fn ident() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_$]{0,12}"
}

pub fn object_name() -> impl Strategy<Value = ObjectName> {
    prop_oneof![
        ident().prop_map(ObjectName::VmdSpecific),
        (ident(), ident()).prop_map(|(domain, item)| ObjectName::DomainSpecific { domain, item }),
        ident().prop_map(ObjectName::AaSpecific),
    ]
}

pub fn bit_string() -> impl Strategy<Value = BitString> {
    (0usize..40).prop_flat_map(|bits| {
        vec(any::<u8>(), bits.div_ceil(8)).prop_map(move |octets| BitString { octets, bits })
    })
}

pub fn oid() -> impl Strategy<Value = ObjectIdentifier> {
    (0u32..=2, 0u32..40, vec(0u32..100_000, 0..5)).prop_map(|(a, b, rest)| {
        let mut arcs = alloc::vec![a, b];
        arcs.extend(rest);
        ObjectIdentifier::from_arcs(&arcs).unwrap()
    })
}

pub fn data() -> impl Strategy<Value = Data> {
    let leaf = prop_oneof![
        any::<bool>().prop_map(Data::Boolean),
        bit_string().prop_map(Data::BitString),
        any::<i64>().prop_map(Data::Integer),
        any::<u64>().prop_map(Data::Unsigned),
        any::<f32>()
            .prop_filter("NaN", |v| !v.is_nan())
            .prop_map(|v| Data::Float(Float::F32(v))),
        any::<f64>()
            .prop_filter("NaN", |v| !v.is_nan())
            .prop_map(|v| Data::Float(Float::F64(v))),
        vec(any::<u8>(), 0..20).prop_map(Data::OctetString),
        "[ -~]{0,20}".prop_map(Data::VisibleString),
        "[0-9]{14}Z".prop_map(Data::GeneralizedTime),
        (any::<u32>(), option::of(any::<u16>())).prop_map(|(m, d)| Data::BinaryTime(BinaryTime {
            millis_since_midnight: m,
            days_since_1984: d
        })),
        (0i64..1_000_000).prop_map(Data::Bcd),
        bit_string().prop_map(Data::BooleanArray),
        oid().prop_map(Data::ObjectId),
        "\\PC{0,10}".prop_map(Data::MmsString),
        (any::<u32>(), 0u32..(1 << 24), any::<u8>()).prop_map(|(seconds, fraction, quality)| {
            Data::UtcTime(UtcTime {
                seconds,
                fraction,
                quality,
            })
        }),
    ];
    leaf.prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Data::Array),
            vec(inner, 0..6).prop_map(Data::Structure),
        ]
    })
}

pub fn type_description() -> impl Strategy<Value = TypeDescription> {
    let leaf = prop_oneof![
        Just(TypeDescription::Boolean),
        any::<i32>().prop_map(TypeDescription::BitString),
        any::<u8>().prop_map(TypeDescription::Integer),
        any::<u8>().prop_map(TypeDescription::Unsigned),
        (any::<u8>(), any::<u8>()).prop_map(|(f, e)| TypeDescription::FloatingPoint {
            format_width: f,
            exponent_width: e
        }),
        any::<i32>().prop_map(TypeDescription::OctetString),
        any::<i32>().prop_map(TypeDescription::VisibleString),
        Just(TypeDescription::GeneralizedTime),
        any::<bool>().prop_map(TypeDescription::BinaryTime),
        any::<u8>().prop_map(TypeDescription::Bcd),
        Just(TypeDescription::ObjId),
        any::<i32>().prop_map(TypeDescription::MmsString),
        Just(TypeDescription::UtcTime),
    ];
    leaf.prop_recursive(4, 32, 5, |inner| {
        let spec = prop_oneof![
            4 => inner.prop_map(TypeSpecification::Description),
            1 => object_name().prop_map(TypeSpecification::TypeName),
        ];
        prop_oneof![
            (any::<bool>(), any::<u32>(), spec.clone()).prop_map(|(packed, n, t)| {
                TypeDescription::Array {
                    packed,
                    number_of_elements: n,
                    element_type: Box::new(t),
                }
            }),
            (
                any::<bool>(),
                vec((option::of(ident()), spec), 0..5).prop_map(|v| v
                    .into_iter()
                    .map(|(name, type_spec)| StructComponent { name, type_spec })
                    .collect())
            )
                .prop_map(|(packed, components)| TypeDescription::Structure { packed, components }),
        ]
    })
}

pub fn variable_spec() -> impl Strategy<Value = VariableSpec> {
    (object_name(), option::of(vec(any::<u8>(), 0..8))).prop_map(|(name, alternate_access)| {
        VariableSpec {
            name,
            alternate_access,
        }
    })
}

pub fn vas() -> impl Strategy<Value = VariableAccessSpecification> {
    prop_oneof![
        vec(variable_spec(), 0..4).prop_map(VariableAccessSpecification::ListOfVariable),
        object_name().prop_map(VariableAccessSpecification::VariableListName),
    ]
}

pub fn access_result() -> impl Strategy<Value = AccessResult> {
    prop_oneof![
        any::<u8>().prop_map(|c| AccessResult::Failure(DataAccessError(c))),
        data().prop_map(AccessResult::Success),
    ]
}

pub fn service_error() -> impl Strategy<Value = ServiceError> {
    (
        0u8..=12,
        any::<i64>(),
        option::of(any::<i64>()),
        option::of("[ -~]{0,20}"),
    )
        .prop_map(|(class, code, additional_code, description)| ServiceError {
            class: ErrorClass { class, code },
            additional_code,
            description,
        })
}

fn object_class() -> impl Strategy<Value = ObjectClass> {
    prop_oneof![
        (-3i64..40).prop_map(ObjectClass::from_number),
        any::<i64>().prop_map(ObjectClass::CompanionStandard),
    ]
}

pub fn confirmed_request() -> impl Strategy<Value = ConfirmedRequest> {
    let unsupported = prop_oneof![Just(3u32), 7u32..=10, 14u32..=78];
    prop_oneof![
        any::<bool>().prop_map(|e| ConfirmedRequest::Status {
            extended_derivation: e
        }),
        (
            object_class(),
            prop_oneof![
                Just(ObjectScope::Vmd),
                ident().prop_map(ObjectScope::Domain),
                Just(ObjectScope::AssociationSpecific)
            ],
            option::of(ident())
        )
            .prop_map(|(object_class, scope, continue_after)| {
                ConfirmedRequest::GetNameList(GetNameListRequest {
                    object_class,
                    scope,
                    continue_after,
                })
            }),
        Just(ConfirmedRequest::Identify),
        (any::<bool>(), vas()).prop_map(|(s, variables)| ConfirmedRequest::Read(ReadRequest {
            specification_with_result: s,
            variables
        })),
        (vas(), vec(data(), 0..4)).prop_map(|(variables, data)| ConfirmedRequest::Write(
            WriteRequest { variables, data }
        )),
        object_name().prop_map(ConfirmedRequest::GetVariableAccessAttributes),
        (object_name(), vec(variable_spec(), 0..4)).prop_map(|(name, variables)| {
            ConfirmedRequest::DefineNamedVariableList(DefineNamedVariableListRequest {
                name,
                variables,
            })
        }),
        object_name().prop_map(ConfirmedRequest::GetNamedVariableListAttributes),
        (
            prop_oneof![
                Just(DeleteScope::Specific),
                Just(DeleteScope::AaSpecific),
                Just(DeleteScope::Domain),
                Just(DeleteScope::Vmd)
            ],
            vec(object_name(), 0..3),
            option::of(ident())
        )
            .prop_map(|(scope, names, domain)| {
                ConfirmedRequest::DeleteNamedVariableList(DeleteNamedVariableListRequest {
                    scope,
                    names,
                    domain,
                })
            }),
        unsupported.prop_map(|service_tag| ConfirmedRequest::Unsupported { service_tag }),
    ]
}

pub fn confirmed_response() -> impl Strategy<Value = ConfirmedResponse> {
    let write_result = prop_oneof![
        Just(WriteResult::Success),
        any::<u8>().prop_map(|c| WriteResult::Failure(DataAccessError(c))),
    ];
    prop_oneof![
        (any::<i64>(), any::<i64>(), option::of(bit_string())).prop_map(|(l, p, d)| {
            ConfirmedResponse::Status(StatusResponse {
                vmd_logical_status: l,
                vmd_physical_status: p,
                local_detail: d,
            })
        }),
        (vec(ident(), 0..5), any::<bool>()).prop_map(|(identifiers, more_follows)| {
            ConfirmedResponse::GetNameList(GetNameListResponse {
                identifiers,
                more_follows,
            })
        }),
        (
            "[ -~]{0,10}",
            "[ -~]{0,10}",
            "[ -~]{0,10}",
            vec(oid(), 0..3)
        )
            .prop_map(|(vendor_name, model_name, revision, abstract_syntaxes)| {
                ConfirmedResponse::Identify(IdentifyResponse {
                    vendor_name,
                    model_name,
                    revision,
                    abstract_syntaxes,
                })
            }),
        (option::of(vas()), vec(access_result(), 0..4)).prop_map(|(variables, results)| {
            ConfirmedResponse::Read(ReadResponse { variables, results })
        }),
        vec(write_result, 0..5).prop_map(ConfirmedResponse::Write),
        (any::<bool>(), type_description()).prop_map(|(mms_deletable, type_description)| {
            ConfirmedResponse::GetVariableAccessAttributes(GetVariableAccessAttributesResponse {
                mms_deletable,
                type_description,
            })
        }),
        Just(ConfirmedResponse::DefineNamedVariableList),
        (any::<bool>(), vec(variable_spec(), 0..4)).prop_map(|(mms_deletable, variables)| {
            ConfirmedResponse::GetNamedVariableListAttributes(
                GetNamedVariableListAttributesResponse {
                    mms_deletable,
                    variables,
                },
            )
        }),
        (any::<u32>(), any::<u32>()).prop_map(|(m, d)| {
            ConfirmedResponse::DeleteNamedVariableList {
                number_matched: m,
                number_deleted: d,
            }
        }),
    ]
}

pub fn mms_pdu() -> impl Strategy<Value = MmsPdu> {
    let initiate = || {
        (
            option::of(any::<i32>()),
            any::<i16>(),
            any::<i16>(),
            option::of(any::<i8>()),
            any::<i16>(),
            bit_string(),
            bit_string(),
        )
    };
    prop_oneof![
        (any::<u32>(), confirmed_request())
            .prop_map(|(invoke_id, request)| MmsPdu::ConfirmedRequest { invoke_id, request }),
        (any::<u32>(), confirmed_response()).prop_map(|(invoke_id, response)| {
            MmsPdu::ConfirmedResponse {
                invoke_id,
                response,
            }
        }),
        (any::<u32>(), service_error())
            .prop_map(|(invoke_id, error)| MmsPdu::ConfirmedError { invoke_id, error }),
        (vas(), vec(access_result(), 0..4)).prop_map(|(variables, results)| {
            MmsPdu::Unconfirmed(UnconfirmedService::InformationReport(InformationReport {
                variables,
                results,
            }))
        }),
        (1u32..=30).prop_map(|t| MmsPdu::Unconfirmed(UnconfirmedService::Other(t))),
        (option::of(any::<u32>()), 1u8..=11, -3i64..20).prop_map(|(id, kind, code)| {
            MmsPdu::Reject(RejectPdu {
                original_invoke_id: id,
                reason: RejectReason { kind, code },
            })
        }),
        any::<u32>().prop_map(MmsPdu::CancelRequest),
        any::<u32>().prop_map(MmsPdu::CancelResponse),
        (any::<u32>(), service_error())
            .prop_map(|(invoke_id, error)| MmsPdu::CancelError { invoke_id, error }),
        initiate().prop_map(|(l, a, b, n, v, c, s)| {
            MmsPdu::InitiateRequest(InitiateRequest {
                local_detail_calling: l,
                max_serv_outstanding_calling: a,
                max_serv_outstanding_called: b,
                data_structure_nesting_level: n,
                version_number: v,
                parameter_cbb: c,
                services_supported: s,
            })
        }),
        initiate().prop_map(|(l, a, b, n, v, c, s)| {
            MmsPdu::InitiateResponse(InitiateResponse {
                local_detail_called: l,
                max_serv_outstanding_calling: a,
                max_serv_outstanding_called: b,
                data_structure_nesting_level: n,
                version_number: v,
                parameter_cbb: c,
                services_supported: s,
            })
        }),
        service_error().prop_map(MmsPdu::InitiateError),
        Just(MmsPdu::ConcludeRequest),
        Just(MmsPdu::ConcludeResponse),
        service_error().prop_map(MmsPdu::ConcludeError),
    ]
}
