//! MMS PDU tests: libiec61850 vectors, exact bytes, error mapping, hostile input, round trips.

use alloc::string::ToString;
use alloc::vec;
use alloc::vec::Vec;
use proptest::prelude::*;

use super::*;
use crate::mms::testutil::{self, enc, hex};
use crate::mms::{Data, DecodeLimits, Float, TypeDescription};

/// MMS PDUs cut out of libiec61850 1.6.1 client/server traffic (tests/data/libiec61850 in the main
/// tree: the bytes after the presentation PDV's `02 01 03 a0 L`, or inside ACSE user-information
/// for the Initiate pair). All of them are minimal DER-style encodings, so re-encoding our decode
/// must give the same bytes.
const LIBIEC61850: &[(&str, &str)] = &[
    ("03_initiate_req", "a826800300fde881010582010583010aa416800101810305f100820c03ee1c00000408000079ef18"),
    ("04_initiate_resp", "a926800300fde881010582010583010aa416800101810305f100820c03ee1c00000002000040ed18"),
    ("05_identify_req", "a0050201018200"),
    ("06_identify_resp", "a12a020101a225800f6c696269656336313835302e636f6d810b4c494249454336313835308205312e362e31"),
    ("07_get_name_list_domain_req", "a00e020102a109a003800109a1028000"),
    ("08_get_name_list_domain_resp", "a110020102a10ba0061a0449434331810100"),
    ("09_get_name_list_vmd_req", "a00e020103a109a003800100a1028000"),
    ("10_get_name_list_vmd_error", "a20a800103a205a003870101"),
    ("11_get_name_list_domain_vars_req", "a012020104a10da003800100a106810449434331"),
    ("12_get_name_list_domain_vars_resp", "a181f5020104a181efa081e91a054747494f311a084747494f312444431a0d4747494f3124444324496e64311a0f4747494f3124444324496e643124641a084747494f31244d581a0e4747494f31244d5824416e496e311a124747494f31244d5824416e496e31246d61671a144747494f31244d5824416e496e31246d616724661a104747494f31244d5824416e496e3124711a104747494f31244d5824416e496e3124741a084747494f312453541a0d4747494f3124535424496e64311a0f4747494f3124535424496e643124711a134747494f3124535424496e643124737456616c1a0f4747494f3124535424496e64312474810100"),
    ("13_read_req", "a025020105a420a11ea01c301aa018a1161a04494343311a0e4747494f31244d5824416e496e31"),
    ("14_read_resp", "a121020105a41ca11aa218a20787050800000000840303000091080000000000000000"),
    ("15_read_req", "a02b020106a426a124a0223020a01ea11c1a04494343311a144747494f31244d5824416e496e31246d61672466"),
    ("16_read_resp", "a10e020106a409a10787050800000000"),
    ("17_read_req", "a026020107a421a11fa01d301ba019a1171a04494343311a0f4747494f31244d58244e6f53756368"),
    ("18_read_object_non_existent_resp", "a10a020107a405a10380010a"),
    ("19_gvaa_req", "a01f020108a61aa018a1161a04494343311a0e4747494f31244d5824416e496e31"),
    ("20_gvaa_resp", "a13d020108a638800100a233a231a12f301a80036d6167a113a211a10f300d800166a108a7060201200201083008800171a1038401f33007800174a1029100"),
    ("21_write_req", "a032020109a52da0223020a01ea11c1a04494343311a144747494f31244d5824416e496e31246d61672466a0078705083fc00000"),
    ("22_write_denied_resp", "a108020109a503800103"),
    ("23_write_req", "a02d02010aa528a01d301ba019a1171a04494343311a0f4747494f3124444324496e64312464a0078a0568656c6c6f"),
    ("24_write_resp", "a10702010aa5028100"),
    ("25_define_nvl_req", "a05d02010bab58a1111a04494343311a094747494f3124445331a0433020a01ea11c1a04494343311a144747494f31244d5824416e496e31246d61672466301fa01da11b1a04494343311a134747494f3124535424496e643124737456616c"),
    ("26_define_nvl_resp", "a10502010b8b00"),
    ("27_read_nvl_req", "a01c02010ca417a115a113a1111a04494343311a094747494f3124445331"),
    ("28_read_nvl_resp", "a11102010ca40ca10a87050800000000830100"),
    ("29_get_name_list_nvl_req", "a01202010da10da003800102a106810449434331"),
    ("30_get_name_list_nvl_resp", "a11502010da110a00b1a094747494f3124445331810100"),
    ("31_delete_nvl_req", "a01d02010ead18800100a113a1111a04494343311a094747494f3124445331"),
    ("32_delete_nvl_resp", "a10b02010ead06800101810101"),
    ("33_conclude_req", "8b00"),
    ("34_conclude_resp", "8c00"),
];

fn vector(name: &str) -> Vec<u8> {
    let (_, h) = LIBIEC61850
        .iter()
        .find(|(n, _)| n.starts_with(name))
        .unwrap();
    hex(h)
}

fn decode(b: &[u8]) -> Result<MmsPdu, PduError> {
    MmsPdu::decode(b, &DecodeLimits::default())
}

#[test]
fn every_libiec61850_pdu_decodes_and_re_encodes_byte_identically() {
    for (name, h) in LIBIEC61850 {
        let b = hex(h);
        let pdu = decode(&b).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(pdu.to_vec(), b, "{name}: {pdu:?}");
    }
}

#[test]
fn libiec61850_initiate_request_fields() {
    let MmsPdu::InitiateRequest(r) = decode(&vector("03")).unwrap() else {
        panic!()
    };
    assert_eq!(r.local_detail_calling, Some(65000));
    assert_eq!(r.max_serv_outstanding_calling, 5);
    assert_eq!(r.max_serv_outstanding_called, 5);
    assert_eq!(r.data_structure_nesting_level, Some(10));
    assert_eq!(r.version_number, 1);
    assert_eq!(r.parameter_cbb.bits, 11);
    assert!(r.parameter_cbb.get(parameter_cbb::STR1));
    assert!(r.parameter_cbb.get(parameter_cbb::VLIS));
    assert!(r.parameter_cbb.get(parameter_cbb::STR2));
    assert!(r.parameter_cbb.get(parameter_cbb::VNAM));
    assert!(!r.parameter_cbb.get(parameter_cbb::REAL));
    assert_eq!(r.services_supported.bits, services_supported::BITS);
    for bit in [
        services_supported::STATUS,
        services_supported::GET_NAME_LIST,
        services_supported::IDENTIFY,
        services_supported::READ,
        services_supported::WRITE,
        services_supported::GET_VARIABLE_ACCESS_ATTRIBUTES,
        services_supported::DEFINE_NAMED_VARIABLE_LIST,
        services_supported::DELETE_NAMED_VARIABLE_LIST,
        services_supported::INFORMATION_REPORT,
        services_supported::CONCLUDE,
        services_supported::CANCEL,
    ] {
        assert!(r.services_supported.get(bit), "bit {bit}");
    }
}

#[test]
fn libiec61850_identify_and_name_lists() {
    assert_eq!(
        decode(&vector("05")).unwrap(),
        MmsPdu::ConfirmedRequest {
            invoke_id: 1,
            request: ConfirmedRequest::Identify
        }
    );
    let MmsPdu::ConfirmedResponse {
        response: ConfirmedResponse::Identify(id),
        ..
    } = decode(&vector("06")).unwrap()
    else {
        panic!()
    };
    assert_eq!(
        (&*id.vendor_name, &*id.model_name, &*id.revision),
        ("libiec61850.com", "LIBIEC61850", "1.6.1")
    );
    assert_eq!(
        decode(&vector("11")).unwrap(),
        MmsPdu::ConfirmedRequest {
            invoke_id: 4,
            request: ConfirmedRequest::GetNameList(GetNameListRequest {
                object_class: ObjectClass::NamedVariable,
                scope: ObjectScope::Domain("ICC1".into()),
                continue_after: None,
            })
        }
    );
    let MmsPdu::ConfirmedResponse {
        response: ConfirmedResponse::GetNameList(l),
        ..
    } = decode(&vector("12")).unwrap()
    else {
        panic!()
    };
    assert_eq!(l.identifiers.len(), 15);
    assert_eq!(l.identifiers[5], "GGIO1$MX$AnIn1");
    assert!(!l.more_follows);
    assert_eq!(
        decode(&vector("10")).unwrap(),
        MmsPdu::ConfirmedError {
            invoke_id: 3,
            error: ErrorClass::ACCESS_OBJECT_ACCESS_UNSUPPORTED.into()
        }
    );
}

#[test]
fn libiec61850_read_write_and_data_sets() {
    let name = ObjectName::domain("ICC1", "GGIO1$MX$AnIn1$mag$f");
    assert_eq!(
        decode(&vector("15")).unwrap(),
        MmsPdu::ConfirmedRequest {
            invoke_id: 6,
            request: ConfirmedRequest::Read(ReadRequest {
                specification_with_result: false,
                variables: VariableAccessSpecification::ListOfVariable(vec![VariableSpec::named(
                    name.clone()
                )]),
            })
        }
    );
    assert_eq!(
        decode(&vector("16")).unwrap(),
        MmsPdu::ConfirmedResponse {
            invoke_id: 6,
            response: ConfirmedResponse::Read(ReadResponse {
                variables: None,
                results: vec![AccessResult::Success(Data::Float(Float::F32(0.0)))],
            })
        }
    );
    assert_eq!(
        decode(&vector("18")).unwrap(),
        MmsPdu::ConfirmedResponse {
            invoke_id: 7,
            response: ConfirmedResponse::Read(ReadResponse {
                variables: None,
                results: vec![AccessResult::Failure(DataAccessError::OBJECT_NON_EXISTENT)],
            })
        }
    );
    let MmsPdu::ConfirmedRequest {
        request: ConfirmedRequest::Write(w),
        ..
    } = decode(&vector("21")).unwrap()
    else {
        panic!()
    };
    assert_eq!(w.data, vec![Data::Float(Float::F32(1.5))]);
    assert_eq!(
        decode(&vector("22")).unwrap(),
        MmsPdu::ConfirmedResponse {
            invoke_id: 9,
            response: ConfirmedResponse::Write(vec![WriteResult::Failure(
                DataAccessError::OBJECT_ACCESS_DENIED
            )]),
        }
    );
    let MmsPdu::ConfirmedRequest {
        request: ConfirmedRequest::DefineNamedVariableList(d),
        ..
    } = decode(&vector("25")).unwrap()
    else {
        panic!()
    };
    assert_eq!(d.name, ObjectName::domain("ICC1", "GGIO1$DS1"));
    assert_eq!(d.variables.len(), 2);
    assert_eq!(d.variables[0].name, name);
    assert_eq!(
        decode(&vector("27")).unwrap(),
        MmsPdu::ConfirmedRequest {
            invoke_id: 12,
            request: ConfirmedRequest::Read(ReadRequest {
                specification_with_result: false,
                variables: VariableAccessSpecification::VariableListName(ObjectName::domain(
                    "ICC1",
                    "GGIO1$DS1"
                )),
            })
        }
    );
    assert_eq!(
        decode(&vector("32")).unwrap(),
        MmsPdu::ConfirmedResponse {
            invoke_id: 14,
            response: ConfirmedResponse::DeleteNamedVariableList {
                number_matched: 1,
                number_deleted: 1
            }
        }
    );
}

#[test]
fn libiec61850_variable_access_attributes_type() {
    let MmsPdu::ConfirmedResponse {
        response: ConfirmedResponse::GetVariableAccessAttributes(a),
        ..
    } = decode(&vector("20")).unwrap()
    else {
        panic!()
    };
    assert!(!a.mms_deletable);
    let TypeDescription::Structure { components, .. } = &a.type_description else {
        panic!()
    };
    let names: Vec<_> = components.iter().map(|c| c.name.as_deref()).collect();
    assert_eq!(names, [Some("mag"), Some("q"), Some("t")]);
    let ty = &a.type_description;
    let MmsPdu::ConfirmedResponse {
        response: ConfirmedResponse::Read(r),
        ..
    } = decode(&vector("14")).unwrap()
    else {
        panic!()
    };
    let AccessResult::Success(value) = &r.results[0] else {
        panic!()
    };
    assert!(ty.matches(value), "{ty:?} vs {value:?}");
    assert!(ty.matches(&ty.default_value()));
}

#[test]
fn get_name_list_more_follows_defaults_to_true_and_false_is_encoded() {
    // a1 { 02 01 02, a1 { a0 { 1a 04 ICC1 } } } without moreFollows.
    let b = hex("a10d020102a108a0061a0449434331");
    let MmsPdu::ConfirmedResponse {
        response: ConfirmedResponse::GetNameList(l),
        ..
    } = decode(&b).unwrap()
    else {
        panic!()
    };
    assert!(l.more_follows);
    let done = GetNameListResponse {
        identifiers: vec!["ICC1".into()],
        more_follows: false,
    };
    let out = enc(|w| done.encode(w));
    assert!(out.ends_with(&[0x81, 0x01, 0x00]), "{out:02x?}");
}

#[test]
fn unimplemented_service_decodes_as_unsupported() {
    // [0] { invokeID 7, [72] fileOpen { … } }: high-tag-number form bf 48.
    let b = hex("a009020107bf4803800130");
    assert_eq!(
        decode(&b).unwrap(),
        MmsPdu::ConfirmedRequest {
            invoke_id: 7,
            request: ConfirmedRequest::Unsupported { service_tag: 72 }
        }
    );
    // getVariableAccessAttributes by address.
    let b = hex("a00a020107a605a103800101");
    assert_eq!(
        decode(&b).unwrap(),
        MmsPdu::ConfirmedRequest {
            invoke_id: 7,
            request: ConfirmedRequest::Unsupported { service_tag: 6 }
        }
    );
}

#[test]
fn an_unsupported_get_variable_access_attributes_request_re_encodes_to_itself() {
    // Found by fuzzing::mms: Unsupported { service_tag: 6 } (the address form) was written as the
    // primitive `86 00`, which the decoder refuses since the request is a constructed CHOICE.
    let pdu = decode(&hex("a00a020107a605a103800101")).unwrap();
    let out = pdu.to_vec();
    // [0] { invokeID 7, [6] { address [1] { } } }
    assert_eq!(out, hex("a007020107a602a100"));
    assert_eq!(decode(&out).unwrap(), pdu);
    for service_tag in [3, 72] {
        let pdu = MmsPdu::ConfirmedRequest {
            invoke_id: 1,
            request: ConfirmedRequest::Unsupported { service_tag },
        };
        assert_eq!(decode(&pdu.to_vec()).unwrap(), pdu);
    }
}

#[test]
fn unknown_service_is_rejected_with_unrecognized_service_and_the_invoke_id() {
    let b = hex("a006020109bf6400");
    let e = decode(&b).unwrap_err();
    assert_eq!(e.invoke_id, Some(9));
    assert_eq!(e.kind, PduErrorKind::UnrecognizedService(100));
    assert_eq!(e.reject, RejectReason::UNRECOGNIZED_SERVICE);
    let reject = MmsPdu::Reject(e.reject_pdu()).to_vec();
    assert_eq!(reject, hex("a406800109810101"));
}

#[test]
fn malformed_argument_is_rejected_with_invalid_argument() {
    // Read whose variableAccessSpecification is a bare INTEGER.
    let b = hex("a00a020105a405a103020101");
    let e = decode(&b).unwrap_err();
    assert_eq!(
        (e.invoke_id, e.reject),
        (Some(5), RejectReason::INVALID_ARGUMENT)
    );
    assert!(!e.to_string().is_empty());
}

#[test]
fn variable_by_address_is_unsupported_and_answered_with_invalid_argument() {
    // Read of listOfVariable { { address [1] numericAddress 1 } }.
    let b = hex("a00f020105a40aa108a006300 4a1028001"
        .replace(' ', "")
        .as_str());
    let e = decode(&b).unwrap_err();
    assert!(matches!(e.kind, PduErrorKind::Unsupported(_)), "{e:?}");
    assert_eq!(e.reject, RejectReason::INVALID_ARGUMENT);
}

#[test]
fn modifiers_are_rejected_as_unrecognized_modifier() {
    let b = hex("a009020101300082008200");
    let e = decode(&b).unwrap_err();
    assert_eq!(
        (e.invoke_id, e.reject),
        (Some(1), RejectReason::UNRECOGNIZED_MODIFIER)
    );
}

#[test]
fn bad_invoke_id_is_rejected_without_an_id() {
    let e = decode(&hex("a0038200ff")).unwrap_err();
    assert_eq!(e.invoke_id, None);
    assert_eq!(e.reject, RejectReason::INVALID_INVOKE_ID);
    let e = decode(&hex("a009020501000000008200")).unwrap_err();
    assert_eq!(e.reject, RejectReason::INVALID_INVOKE_ID);
}

#[test]
fn unknown_pdu_type_and_garbage_map_to_pdu_errors() {
    let e = decode(&hex("ae00")).unwrap_err();
    assert_eq!(e.reject, RejectReason::PDU_ERROR_UNKNOWN_PDU_TYPE);
    let e = decode(&hex("3000")).unwrap_err();
    assert_eq!(e.reject, RejectReason::PDU_ERROR_UNKNOWN_PDU_TYPE);
    let e = decode(&hex("a005")).unwrap_err();
    assert_eq!(e.reject, RejectReason::PDU_ERROR_INVALID_PDU);
    let e = decode(&hex("8b008b00")).unwrap_err();
    assert_eq!(e.reject, RejectReason::PDU_ERROR_INVALID_PDU);
    assert!(decode(&[]).is_err());
}

fn nested_write(depth: usize) -> Vec<u8> {
    let mut d = Data::Boolean(true);
    for _ in 0..depth {
        d = Data::Structure(vec![d]);
    }
    MmsPdu::ConfirmedRequest {
        invoke_id: 3,
        request: ConfirmedRequest::Write(WriteRequest {
            variables: VariableAccessSpecification::VariableListName(ObjectName::vmd("x")),
            data: vec![d],
        }),
    }
    .to_vec()
}

#[test]
fn data_nesting_past_the_limit_is_rejected_with_max_recursion_exceeded() {
    let limits = DecodeLimits::default();
    let ok = nested_write(usize::from(limits.max_data_depth));
    assert!(decode(&ok).is_ok());
    let e = decode(&nested_write(usize::from(limits.max_data_depth) + 1)).unwrap_err();
    assert_eq!(
        (e.invoke_id, e.reject),
        (Some(3), RejectReason::MAX_RECURSION_EXCEEDED)
    );
    // Far past the BER reader's own depth limit: still an error value, no stack overflow.
    let e = decode(&nested_write(200)).unwrap_err();
    assert_eq!(e.reject, RejectReason::MAX_RECURSION_EXCEEDED);
}

#[test]
fn lists_longer_than_the_limit_are_refused() {
    let pdu = MmsPdu::ConfirmedResponse {
        invoke_id: 1,
        response: ConfirmedResponse::Write(vec![WriteResult::Success; 10]),
    }
    .to_vec();
    let limits = DecodeLimits {
        max_list_len: 9,
        ..DecodeLimits::default()
    };
    let e = MmsPdu::decode(&pdu, &limits).unwrap_err();
    assert_eq!(e.kind, PduErrorKind::TooManyElements);
    assert_eq!(e.reject, RejectReason::RESPONSE_INVALID_RESULT);
}

#[test]
fn indefinite_and_non_minimal_lengths_are_accepted() {
    // 05_identify_req with an indefinite outer length and a long-form invokeID length.
    let b = hex("a0800281010182000000");
    assert_eq!(
        decode(&b).unwrap(),
        MmsPdu::ConfirmedRequest {
            invoke_id: 1,
            request: ConfirmedRequest::Identify
        }
    );
}

#[test]
fn trailing_request_detail_is_skipped() {
    // identify request followed by a [79] cs-request-detail.
    let b = hex("a00a0201018200bf4f020500");
    assert!(matches!(
        decode(&b).unwrap(),
        MmsPdu::ConfirmedRequest {
            request: ConfirmedRequest::Identify,
            ..
        }
    ));
}

#[test]
fn every_truncation_of_every_vector_is_an_error_not_a_panic() {
    for (name, h) in LIBIEC61850 {
        let b = hex(h);
        for n in 0..b.len() {
            assert!(decode(&b[..n]).is_err(), "{name} cut at {n}");
        }
    }
}

#[test]
fn corrupted_vectors_never_panic() {
    for (_, h) in LIBIEC61850 {
        let b = hex(h);
        for i in 0..b.len() {
            for x in [0x00u8, 0xff, 0x80, 0x1f, 0x01] {
                let mut c = b.clone();
                c[i] ^= x;
                let _ = decode(&c);
            }
        }
    }
}

#[test]
fn hot_path_writers_match_owned_encoding() {
    let results = vec![
        AccessResult::Success(Data::Structure(vec![
            Data::Float(Float::F32(1.25)),
            Data::Integer(1_700_000_000),
        ])),
        AccessResult::Failure(DataAccessError::OBJECT_ACCESS_DENIED),
    ];
    let owned = MmsPdu::ConfirmedResponse {
        invoke_id: 300,
        response: ConfirmedResponse::Read(ReadResponse {
            variables: None,
            results: results.clone(),
        }),
    }
    .to_vec();
    let fast = enc(|w| {
        write_read_response(w, 300, |w| {
            crate::mms::data::write::structure(w, |w| {
                crate::mms::data::write::float32(w, 1.25);
                crate::mms::data::write::integer(w, 1_700_000_000);
            });
            write_access_failure(w, DataAccessError::OBJECT_ACCESS_DENIED);
        })
    });
    assert_eq!(fast, owned);

    let vars = VariableAccessSpecification::VariableListName(ObjectName::domain("ICC1", "DS1"));
    let owned = MmsPdu::Unconfirmed(UnconfirmedService::InformationReport(InformationReport {
        variables: vars.clone(),
        results: results.clone(),
    }))
    .to_vec();
    let fast =
        enc(|w| write_information_report(w, &vars, |w| results.iter().for_each(|r| r.encode(w))));
    assert_eq!(fast, owned);
    let via_success = enc(|w| {
        write_confirmed_response(w, 1, service_tag::READ, |w| {
            w.constructed(crate::ber::Tag::context_cons(1), |w| {
                write_access_success(w, &Data::Boolean(true))
            })
        })
    });
    assert_eq!(
        via_success,
        hex("a10a020101a405a103830 1ff".replace(' ', "").as_str())
    );
}

#[test]
fn exact_bytes_of_small_pdus() {
    let cases: Vec<(MmsPdu, &str)> = vec![
        (MmsPdu::CancelRequest(5), "850105"),
        (MmsPdu::CancelResponse(5), "860105"),
        (
            MmsPdu::CancelError {
                invoke_id: 5,
                error: ErrorClass::CANCEL_NOT_POSSIBLE.into(),
            },
            "a70a800105a105a0038a0102",
        ),
        (
            MmsPdu::InitiateError(ErrorClass::INITIATE_VERSION_INCOMPATIBLE.into()),
            "aa05a003880101",
        ),
        (
            MmsPdu::ConcludeError(ErrorClass::CONCLUDE_FURTHER_COMMUNICATION_REQUIRED.into()),
            "ad05a003890101",
        ),
        (
            MmsPdu::Reject(RejectPdu {
                original_invoke_id: None,
                reason: RejectReason::PDU_ERROR_INVALID_PDU,
            }),
            "a403850101",
        ),
        (
            MmsPdu::ConfirmedRequest {
                invoke_id: 1,
                request: ConfirmedRequest::Status {
                    extended_derivation: false,
                },
            },
            "a006020101800100",
        ),
        (
            MmsPdu::ConfirmedError {
                invoke_id: 2,
                error: ServiceError {
                    class: ErrorClass::DEFINITION_OBJECT_UNDEFINED,
                    additional_code: Some(7),
                    description: Some("no".into()),
                },
            },
            "a211800102a20ca0038201018101078202 6e6f",
        ),
    ];
    for (pdu, h) in cases {
        let b = hex(h);
        assert_eq!(pdu.to_vec(), b, "{pdu:?}");
        assert_eq!(decode(&b).unwrap(), pdu);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_pdu_round_trips(pdu in testutil::mms_pdu()) {
        let b = pdu.to_vec();
        prop_assert_eq!(decode(&b).unwrap(), pdu.clone());
    }

    #[test]
    fn random_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = decode(&b);
    }

    #[test]
    fn mutated_pdus_never_panic(pdu in testutil::mms_pdu(), i in any::<usize>(), x in any::<u8>()) {
        let mut b = pdu.to_vec();
        let i = i % b.len();
        b[i] ^= x;
        let _ = decode(&b);
        let _ = decode(&b[..i]);
    }
}

#[test]
fn failures_outside_requests_map_to_their_own_reject_kinds() {
    // InformationReport nested too deep → unconfirmedPDU max-recursion-exceeded.
    let mut d = Data::Boolean(true);
    for _ in 0..20 {
        d = Data::Array(vec![d]);
    }
    let report = MmsPdu::Unconfirmed(UnconfirmedService::InformationReport(InformationReport {
        variables: VariableAccessSpecification::VariableListName(ObjectName::vmd("DS")),
        results: vec![AccessResult::Success(d)],
    }))
    .to_vec();
    let e = decode(&report).unwrap_err();
    assert_eq!(e.reject, RejectReason::UNCONFIRMED_MAX_RECURSION_EXCEEDED);
    // Read response with an unknown Data tag → confirmed-responsePDU invalid-result, with the id.
    let e = decode(&hex("a10b020105a406a1048800 8300"
        .replace(' ', "")
        .as_str()))
    .unwrap_err();
    assert_eq!(
        (e.invoke_id, e.reject),
        (Some(5), RejectReason::RESPONSE_INVALID_RESULT)
    );
    // Response for a service we have no response type for.
    let e = decode(&hex("a1050201058300")).unwrap_err();
    assert_eq!(e.reject, RejectReason::RESPONSE_UNRECOGNIZED_SERVICE);
    // Confirmed error with a garbage ServiceError.
    let e = decode(&hex("a2078001038201ff00")).unwrap_err();
    assert_eq!(e.invoke_id, Some(3));
    assert_eq!(e.reject, RejectReason::ERROR_INVALID_SERVICE_ERROR);
    // Conclude request with content.
    let e = decode(&hex("8b0100")).unwrap_err();
    assert_eq!(e.reject, RejectReason::CONCLUDE_REQUEST_INVALID_ARGUMENT);
}

#[test]
fn service_errors_print_their_iso_9506_names() {
    let text = |e: ServiceError| alloc::format!("{e}");
    assert_eq!(
        text(ErrorClass::ACCESS_OBJECT_NON_EXISTENT.into()),
        "access: object-non-existent"
    );
    assert_eq!(
        text(ErrorClass::SERVICE_PDU_SIZE.into()),
        "service: pdu-size"
    );
    assert_eq!(text(ErrorClass::file(6).into()), "file: file-access-denied");
    assert_eq!(text(ErrorClass::others(7).into()), "others: 7");
    assert_eq!(text(ErrorClass::access(99).into()), "access: 99");
    assert_eq!(
        text(ErrorClass { class: 13, code: 2 }.into()),
        "class 13: 2"
    );
    assert_eq!(
        text(ServiceError {
            class: ErrorClass::DEFINITION_OBJECT_UNDEFINED,
            additional_code: Some(3),
            description: Some("no such point".into()),
        }),
        "definition: object-undefined (additional code 3: no such point)"
    );
}

#[test]
fn reject_reasons_print_their_iso_9506_names() {
    let text = |r: RejectReason| alloc::format!("{r}");
    assert_eq!(
        text(RejectReason::INVALID_ARGUMENT),
        "confirmed-requestPDU: invalid-argument"
    );
    assert_eq!(
        text(RejectReason::PDU_ERROR_INVALID_PDU),
        "pdu-error: invalid-pdu"
    );
    assert_eq!(
        text(RejectReason::CONCLUDE_ERROR_INVALID_SERVICE_ERROR),
        "conclude-errorPDU: invalid-serviceError"
    );
    // Code 7 of confirmed-requestPDU is reserved.
    assert_eq!(
        text(RejectReason { kind: 1, code: 7 }),
        "confirmed-requestPDU: 7"
    );
    assert_eq!(text(RejectReason { kind: 0, code: 1 }), "reject-kind-0: 1");
    assert_eq!(
        alloc::format!(
            "{}",
            RejectPdu {
                original_invoke_id: Some(7),
                reason: RejectReason::MAX_SERV_OUTSTANDING_EXCEEDED,
            }
        ),
        "confirmed-requestPDU: max-serv-outstanding-exceeded (invoke id 7)"
    );
}
