use alloc::vec;
use alloc::vec::Vec;

use proptest::prelude::*;

use super::*;
use crate::presentation::vectors::{self, ppdu};
use crate::presentation::{
    decode_single_pdv, AcceptPpdu, ConnectPpdu, ACSE_CONTEXT_ID, MMS_CONTEXT_ID,
};

fn oid(s: &str) -> ObjectIdentifier {
    s.parse().unwrap()
}

fn round_trip(apdu: &Apdu<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    apdu.encode(&mut out);
    assert_eq!(&Apdu::decode(&out).unwrap(), apdu);
    out
}

/// The AARQ inside libiec61850's CP.
fn libiec61850_aarq() -> &'static [u8] {
    let cp = ConnectPpdu::decode(ppdu(vectors::CN_AARQ_INITIATE_REQ)).unwrap();
    assert_eq!(cp.user_data[0].context_id, ACSE_CONTEXT_ID);
    cp.user_data[0].data
}

fn libiec61850_aare() -> &'static [u8] {
    let cpa = AcceptPpdu::decode(ppdu(vectors::AC_AARE_INITIATE_RESP)).unwrap();
    cpa.user_data[0].data
}

#[test]
fn libiec61850_aarq_names_both_ap_titles_and_carries_the_mms_initiate() {
    let b = libiec61850_aarq();
    let Apdu::Aarq(aarq) = Apdu::decode(b).unwrap() else {
        panic!("an AARQ");
    };
    assert_eq!(aarq.application_context, mms_application_context());
    assert_eq!(aarq.called.ap_title, Some(oid("1.1.1.998")));
    assert_eq!(aarq.called.ae_qualifier, Some(12));
    assert_eq!(aarq.calling.ap_title, Some(oid("1.1.1.999")));
    assert_eq!(aarq.calling.ae_qualifier, Some(12));
    assert_eq!(aarq.calling.ap_invocation_id, None);
    assert_eq!(aarq.authentication, None);
    let ui = aarq.user_information.unwrap();
    assert_eq!(ui.context_id, MMS_CONTEXT_ID);
    // MMS initiate-RequestPDU [8].
    assert_eq!(&ui.data[..2], &[0xa8, 0x26]);
}

#[test]
fn re_encoding_libiec61850_aarq_and_aare_gives_the_same_bytes() {
    for b in [libiec61850_aarq(), libiec61850_aare()] {
        let mut out = Vec::new();
        Apdu::decode(b).unwrap().encode(&mut out);
        assert_eq!(out, b);
    }
}

#[test]
fn libiec61850_aare_accepts_with_a_null_user_diagnostic() {
    let Apdu::Aare(aare) = Apdu::decode(libiec61850_aare()).unwrap() else {
        panic!("an AARE");
    };
    assert_eq!(aare.application_context, mms_application_context());
    assert_eq!(aare.result, AssociateResult::Accepted);
    assert_eq!(
        aare.diagnostic,
        Some(AssociateDiagnostic::User(user_diagnostic::NULL))
    );
    assert_eq!(aare.responding, ApInvocation::default());
    let ui = aare.user_information.unwrap();
    assert_eq!(ui.context_id, MMS_CONTEXT_ID);
    // MMS initiate-ResponsePDU [9].
    assert_eq!(&ui.data[..2], &[0xa9, 0x26]);
}

#[test]
fn libiec61850_release_apdus_decode_and_re_encode() {
    let rlrq = decode_single_pdv(ppdu(vectors::FN_RLRQ)).unwrap().data;
    assert_eq!(
        Apdu::decode(rlrq).unwrap(),
        Apdu::Rlrq(Rlrq {
            reason: Some(RELEASE_REQUEST_NORMAL),
            user_information: None
        })
    );
    assert_eq!(round_trip(&Apdu::decode(rlrq).unwrap()), rlrq);
    let rlre = decode_single_pdv(ppdu(vectors::DN_RLRE)).unwrap().data;
    assert_eq!(
        Apdu::decode(rlre).unwrap(),
        Apdu::Rlre(Rlre {
            reason: None,
            user_information: None
        })
    );
    assert_eq!(round_trip(&Apdu::decode(rlre).unwrap()), rlre);
}

#[test]
fn password_aarq_encodes_requirements_mechanism_and_charstring() {
    let aarq = Apdu::Aarq(Aarq {
        application_context: mms_application_context(),
        called: ApInvocation::default(),
        calling: ApInvocation::default(),
        authentication: Some(Authentication::Password(b"secret")),
        user_information: None,
    });
    #[rustfmt::skip]
    let expected = [
        0x60, 0x1c,
        0xa1, 0x07, 0x06, 0x05, 0x28, 0xca, 0x22, 0x02, 0x03, // application-context-name
        0x8a, 0x02, 0x07, 0x80,                               // sender-acse-requirements: authentication
        0x8b, 0x03, 0x52, 0x03, 0x01,                         // mechanism-name 2.2.3.1
        0xac, 0x08, 0x80, 0x06, b's', b'e', b'c', b'r', b'e', b't', // charstring
    ];
    assert_eq!(round_trip(&aarq), expected);
}

#[test]
fn other_authentication_keeps_the_value_element_as_sent() {
    let aarq = Apdu::Aarq(Aarq {
        application_context: mms_application_context(),
        called: ApInvocation::default(),
        calling: ApInvocation::default(),
        authentication: Some(Authentication::Other {
            mechanism: Some(oid("1.2.3")),
            value: &[0x81, 0x02, 0x00, 0xff],
        }),
        user_information: None,
    });
    round_trip(&aarq);
    // A charstring without the password mechanism name is not taken as a password.
    let mut b = round_trip(&Apdu::Aarq(Aarq {
        authentication: Some(Authentication::Password(b"pw")),
        ..match &aarq {
            Apdu::Aarq(a) => a.clone(),
            _ => unreachable!(),
        }
    }));
    // Drop mechanism-name (8b 03 52 03 01) and fix the outer length.
    let pos = b.windows(2).position(|w| w == [0x8b, 0x03]).unwrap();
    b.drain(pos..pos + 5);
    b[1] -= 5;
    let Apdu::Aarq(d) = Apdu::decode(&b).unwrap() else {
        panic!("an AARQ")
    };
    assert_eq!(
        d.authentication,
        Some(Authentication::Other {
            mechanism: None,
            value: &[0x80, 0x02, b'p', b'w']
        })
    );
}

#[test]
fn rejecting_aare_encodes_exactly() {
    let aare = Apdu::Aare(Aare {
        application_context: mms_application_context(),
        result: AssociateResult::RejectedPermanent,
        diagnostic: Some(AssociateDiagnostic::User(
            user_diagnostic::CALLING_AP_TITLE_NOT_RECOGNIZED,
        )),
        responding: ApInvocation {
            ap_title: Some(oid("1.1.1.998")),
            ae_qualifier: Some(12),
            ap_invocation_id: None,
            ae_invocation_id: Some(-1),
        },
        user_information: None,
    });
    #[rustfmt::skip]
    let expected = [
        0x61, 0x27,
        0xa1, 0x07, 0x06, 0x05, 0x28, 0xca, 0x22, 0x02, 0x03, // application-context-name
        0xa2, 0x03, 0x02, 0x01, 0x01,                         // result: rejected-permanent
        0xa3, 0x05, 0xa1, 0x03, 0x02, 0x01, 0x03,             // acse-service-user 3
        0xa4, 0x06, 0x06, 0x04, 0x29, 0x01, 0x87, 0x66,       // responding-AP-title
        0xa5, 0x03, 0x02, 0x01, 0x0c,                         // responding-AE-qualifier
        0xa7, 0x03, 0x02, 0x01, 0xff,                         // responding-AE-invocation-id
    ];
    assert_eq!(round_trip(&aare), expected);
}

#[test]
fn aare_without_diagnostic_encodes_service_user_null() {
    let aare = Aare {
        application_context: mms_application_context(),
        result: AssociateResult::Accepted,
        diagnostic: None,
        responding: ApInvocation::default(),
        user_information: None,
    };
    let mut out = Vec::new();
    Apdu::Aare(aare.clone()).encode(&mut out);
    assert_eq!(
        Apdu::decode(&out).unwrap(),
        Apdu::Aare(Aare {
            diagnostic: Some(AssociateDiagnostic::User(0)),
            ..aare
        })
    );
}

#[test]
fn abort_encodes_exactly() {
    let abrt = Apdu::Abrt(Abrt {
        source: ABORT_SOURCE_PROVIDER,
        diagnostic: Some(ABORT_PROTOCOL_ERROR),
        user_information: None,
    });
    assert_eq!(
        round_trip(&abrt),
        [0x64, 0x06, 0x80, 0x01, 0x01, 0x81, 0x01, 0x02]
    );
}

#[test]
fn protocol_version_1_and_unknown_extensions_are_accepted() {
    #[rustfmt::skip]
    let b = [
        0x60, 0x13,
        0x80, 0x02, 0x07, 0x80,                               // protocol-version: version1
        0xa1, 0x07, 0x06, 0x05, 0x28, 0xca, 0x22, 0x02, 0x03,
        0x9d, 0x02, 0x41, 0x42,                               // implementation-information [29]
        0xad, 0x00,                                           // aSO-context-name-list [13]
    ];
    let Apdu::Aarq(a) = Apdu::decode(&b).unwrap() else {
        panic!("an AARQ")
    };
    assert_eq!(a.application_context, mms_application_context());
    let mut v = b.to_vec();
    v[5] = 0x00; // version1 bit cleared
    assert_eq!(Apdu::decode(&v), Err(Error::NoCommonAcseVersion));
}

#[test]
fn malformed_or_unsupported_apdus_are_refused() {
    let ctx = [0xa1, 0x07, 0x06, 0x05, 0x28, 0xca, 0x22, 0x02, 0x03];
    let aarq = |fields: &[u8]| {
        let mut v = vec![0x60, (ctx.len() + fields.len()) as u8];
        v.extend_from_slice(&ctx);
        v.extend_from_slice(fields);
        v
    };
    // AP-title form 1 (a Name: SEQUENCE)
    assert_eq!(
        Apdu::decode(&aarq(&[0xa6, 0x02, 0x30, 0x00])),
        Err(Error::ApTitleFormNotSupported)
    );
    // AE-qualifier form 1 (an RDN: SET)
    assert_eq!(
        Apdu::decode(&aarq(&[0xa7, 0x02, 0x31, 0x00])),
        Err(Error::AeQualifierFormNotSupported)
    );
    // Two EXTERNALs
    let ext = [0x28, 0x07, 0x02, 0x01, 0x03, 0xa0, 0x02, 0x05, 0x00];
    let mut two = vec![0xbe, 0x12];
    two.extend_from_slice(&ext);
    two.extend_from_slice(&ext);
    assert_eq!(
        Apdu::decode(&aarq(&two)),
        Err(Error::MoreThanOneUserInformation)
    );
    // EXTERNAL with only a direct-reference
    assert_eq!(
        Apdu::decode(&aarq(&[
            0xbe, 0x0a, 0x28, 0x08, 0x06, 0x02, 0x51, 0x01, 0xa0, 0x02, 0x05, 0x00
        ])),
        Err(Error::MissingContextId)
    );
    // EXTERNAL in the arbitrary encoding
    assert_eq!(
        Apdu::decode(&aarq(&[
            0xbe, 0x09, 0x28, 0x07, 0x02, 0x01, 0x03, 0x82, 0x02, 0x00, 0xff
        ])),
        Err(Error::UserInformationEncodingNotSupported)
    );
    assert_eq!(
        Apdu::decode(&[0x60, 0x00]),
        Err(Error::MissingApplicationContext)
    );
    let mut bad_result = vec![0x61, 0x0e];
    bad_result.extend_from_slice(&ctx);
    bad_result.extend_from_slice(&[0xa2, 0x03, 0x02, 0x01, 0x03]);
    assert_eq!(
        Apdu::decode(&bad_result),
        Err(Error::InvalidAssociateResult(3))
    );
    bad_result.truncate(11);
    bad_result[1] = 0x09;
    assert_eq!(
        Apdu::decode(&bad_result),
        Err(Error::MissingAssociateResult)
    );
    assert_eq!(
        Apdu::decode(&[0x64, 0x03, 0x80, 0x01, 0x02]),
        Err(Error::InvalidAbortSource(2))
    );
    assert_eq!(Apdu::decode(&[0x64, 0x00]), Err(Error::MissingAbortSource));
    assert_eq!(
        Apdu::decode(&[0x65, 0x00]),
        Err(Error::UnknownApdu(Tag::application_cons(5)))
    );
    assert_eq!(
        Apdu::decode(&[0x62, 0x00, 0x00]),
        Err(Error::Ber(ber::Error::TrailingData))
    );
}

#[test]
fn every_truncation_of_real_apdus_is_an_error() {
    for b in [libiec61850_aarq(), libiec61850_aare()] {
        for n in 0..b.len() {
            assert!(Apdu::decode(&b[..n]).is_err(), "prefix {n}");
        }
    }
}

#[test]
fn corrupting_any_byte_of_real_apdus_never_panics() {
    for b in [libiec61850_aarq(), libiec61850_aare()] {
        for i in 0..b.len() {
            for x in [0x00, 0x02, 0x06, 0x28, 0x30, 0x80, 0xa0, 0xbe, 0xff] {
                let mut c = b.to_vec();
                c[i] = x;
                let _ = Apdu::decode(&c);
            }
        }
    }
}

#[test]
fn errors_display_as_sentences() {
    let s = alloc::format!("{}", Error::InvalidAbortSource(7));
    assert!(s.contains("abort-source 7"));
}

fn arb_oid() -> impl Strategy<Value = ObjectIdentifier> {
    (
        0u32..3,
        0u32..40,
        proptest::collection::vec(any::<u32>(), 0..5),
    )
        .prop_map(|(a, b, rest)| {
            let mut arcs = vec![a, b];
            arcs.extend(rest);
            ObjectIdentifier::from_arcs(&arcs).unwrap()
        })
}

fn arb_ap() -> impl Strategy<Value = ApInvocation> {
    (
        proptest::option::of(arb_oid()),
        proptest::option::of(any::<i64>()),
        proptest::option::of(any::<i64>()),
        proptest::option::of(any::<i64>()),
    )
        .prop_map(
            |(ap_title, ae_qualifier, ap_invocation_id, ae_invocation_id)| ApInvocation {
                ap_title,
                ae_qualifier,
                ap_invocation_id,
                ae_invocation_id,
            },
        )
}

/// (context id, one BER element) for user-information.
fn arb_ui() -> impl Strategy<Value = Option<(i64, Vec<u8>)>> {
    proptest::option::of((
        any::<i64>(),
        proptest::collection::vec(any::<u8>(), 0..150).prop_map(|c| {
            let mut out = Vec::new();
            crate::ber::Writer::new(&mut out).primitive(Tag::OCTET_STRING, &c);
            out
        }),
    ))
}

fn ui(v: &Option<(i64, Vec<u8>)>) -> Option<Pdv<'_>> {
    v.as_ref().map(|(id, d)| Pdv {
        context_id: *id,
        data: d,
    })
}

proptest! {
    #[test]
    fn aarq_round_trips(
        ctx in arb_oid(),
        called in arb_ap(),
        calling in arb_ap(),
        password in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..20)),
        info in arb_ui(),
    ) {
        round_trip(&Apdu::Aarq(Aarq {
            application_context: ctx,
            called,
            calling,
            authentication: password.as_deref().map(Authentication::Password),
            user_information: ui(&info),
        }));
    }

    #[test]
    fn aare_round_trips(
        ctx in arb_oid(),
        result in 0i64..3,
        provider in any::<bool>(),
        diag in any::<u8>(),
        responding in arb_ap(),
        info in arb_ui(),
    ) {
        round_trip(&Apdu::Aare(Aare {
            application_context: ctx,
            result: AssociateResult::from_code(result).unwrap(),
            diagnostic: Some(if provider {
                AssociateDiagnostic::Provider(diag)
            } else {
                AssociateDiagnostic::User(diag)
            }),
            responding,
            user_information: ui(&info),
        }));
    }

    #[test]
    fn release_and_abort_round_trip(
        reason in proptest::option::of(any::<i64>()),
        source in 0u8..2,
        info in arb_ui(),
    ) {
        round_trip(&Apdu::Rlrq(Rlrq { reason, user_information: ui(&info) }));
        round_trip(&Apdu::Rlre(Rlre { reason, user_information: ui(&info) }));
        round_trip(&Apdu::Abrt(Abrt { source, diagnostic: reason, user_information: ui(&info) }));
    }

    #[test]
    fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = Apdu::decode(&b);
    }

    #[test]
    fn arbitrary_content_under_each_apdu_tag_never_panics(
        tag in 0x60u8..0x65,
        body in proptest::collection::vec(any::<u8>(), 0..120),
    ) {
        let mut b = Vec::new();
        crate::ber::Writer::new(&mut b).primitive(Tag::application_cons(u32::from(tag & 0x1f)), &body);
        let _ = Apdu::decode(&b);
    }
}
