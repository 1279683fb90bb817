use alloc::vec;
use alloc::vec::Vec;

use proptest::prelude::*;

use super::vectors::{self, ppdu};
use super::*;
use crate::ber::Writer;

fn pdv(context_id: i64, data: &[u8]) -> Pdv<'_> {
    Pdv { context_id, data }
}

#[test]
fn libiec61850_connect_ppdu_decodes_to_acse_and_mms_contexts_with_the_aarq() {
    let b = ppdu(vectors::CN_AARQ_INITIATE_REQ);
    let cp = ConnectPpdu::decode(b).unwrap();
    assert_eq!(cp.calling_selector, Some(&[0, 0, 0, 1][..]));
    assert_eq!(cp.called_selector, Some(&[0, 0, 0, 1][..]));
    assert_eq!(
        cp.contexts,
        vec![ContextDefinition::acse(), ContextDefinition::mms()]
    );
    assert_eq!(cp.user_data.len(), 1);
    assert_eq!(cp.user_data[0].context_id, ACSE_CONTEXT_ID);
    // The AARQ: [APPLICATION 0] with 0x54 content octets.
    assert_eq!(&cp.user_data[0].data[..2], &[0x60, 0x54]);
    assert_eq!(cp.user_data[0].data.len(), 0x56);
}

#[test]
fn re_encoding_libiec61850_connect_ppdu_gives_the_same_bytes() {
    let b = ppdu(vectors::CN_AARQ_INITIATE_REQ);
    let mut out = Vec::new();
    ConnectPpdu::decode(b).unwrap().encode(&mut out);
    assert_eq!(out, b);
}

#[test]
fn libiec61850_accept_ppdu_decodes_and_re_encodes_to_the_same_bytes() {
    let b = ppdu(vectors::AC_AARE_INITIATE_RESP);
    let AcceptOrReject::Accept(cpa) = decode_accept_or_reject(b).unwrap() else {
        panic!("a CPA is a SET");
    };
    assert_eq!(cpa, AcceptPpdu::decode(b).unwrap());
    assert_eq!(cpa.responding_selector, Some(&[0, 0, 0, 1][..]));
    assert_eq!(
        cpa.results,
        vec![
            ContextResultItem::accepted_ber(),
            ContextResultItem::accepted_ber()
        ]
    );
    assert_eq!(cpa.user_data.len(), 1);
    assert_eq!(cpa.user_data[0].context_id, ACSE_CONTEXT_ID);
    assert_eq!(&cpa.user_data[0].data[..2], &[0x61, 0x46]);
    let mut out = Vec::new();
    cpa.encode(&mut out);
    assert_eq!(out, b);
}

#[test]
fn libiec61850_data_phase_user_data_holds_one_mms_pdv() {
    let b = ppdu(vectors::DT_IDENTIFY_REQ);
    let p = decode_single_pdv(b).unwrap();
    assert_eq!(p.context_id, MMS_CONTEXT_ID);
    // confirmed-RequestPDU { invokeID 1, identify NULL }
    assert_eq!(p.data, &[0xa0, 0x05, 0x02, 0x01, 0x01, 0x82, 0x00]);
    assert_eq!(decode_user_data(b).unwrap(), vec![p]);
    for frame in [vectors::DT_IDENTIFY_RESP, vectors::DT_CONCLUDE_REQ] {
        assert_eq!(
            decode_single_pdv(ppdu(frame)).unwrap().context_id,
            MMS_CONTEXT_ID
        );
    }
}

#[test]
fn write_user_data_reproduces_libiec61850_data_phase_bytes() {
    let b = ppdu(vectors::DT_IDENTIFY_REQ);
    let mut out = Vec::new();
    let r = write_user_data(&mut Writer::new(&mut out), MMS_CONTEXT_ID, |w| {
        w.raw(&[0xa0, 0x05, 0x02, 0x01, 0x01, 0x82, 0x00]);
        42
    });
    assert_eq!(r, 42);
    assert_eq!(out, b);
    let mut again = Vec::new();
    encode_user_data(&[decode_single_pdv(b).unwrap()], &mut again);
    assert_eq!(again, b);
}

#[test]
fn libiec61850_release_carries_acse_on_context_1() {
    let rlrq = decode_single_pdv(ppdu(vectors::FN_RLRQ)).unwrap();
    assert_eq!(rlrq, pdv(ACSE_CONTEXT_ID, &[0x62, 0x03, 0x80, 0x01, 0x00]));
    let rlre = decode_single_pdv(ppdu(vectors::DN_RLRE)).unwrap();
    assert_eq!(rlre, pdv(ACSE_CONTEXT_ID, &[0x63, 0x00]));
}

#[test]
fn reject_ppdu_encodes_exactly_and_is_told_apart_from_accept() {
    let cpr = RejectPpdu {
        responding_selector: Some(&[0, 1]),
        results: vec![ContextResultItem {
            result: ContextResult::ProviderRejection,
            transfer_syntax: None,
            provider_reason: Some(CONTEXT_REASON_ABSTRACT_SYNTAX_NOT_SUPPORTED),
        }],
        provider_reason: Some(PROVIDER_REASON_CALLED_ADDRESS_UNKNOWN),
        user_data: vec![pdv(1, &[0x05, 0x00])],
    };
    let mut out = Vec::new();
    cpr.encode(&mut out);
    #[rustfmt::skip]
    let expected = [
        0x30, 0x1c,
        0x83, 0x02, 0x00, 0x01,                                 // responding-presentation-selector
        0xa5, 0x08, 0x30, 0x06, 0x80, 0x01, 0x02, 0x82, 0x01, 0x01, // result-list
        0x8a, 0x01, 0x03,                                       // provider-reason
        0x61, 0x09, 0x30, 0x07, 0x02, 0x01, 0x01, 0xa0, 0x02, 0x05, 0x00, // user-data
    ];
    assert_eq!(out, expected);
    assert_eq!(
        decode_accept_or_reject(&out).unwrap(),
        AcceptOrReject::Reject(cpr)
    );
}

#[test]
fn abort_ppdus_encode_exactly() {
    let abrt = [0x64, 0x03, 0x80, 0x01, 0x00];
    let aru = AbortPpdu::User {
        user_data: vec![pdv(ACSE_CONTEXT_ID, &abrt)],
    };
    let mut out = Vec::new();
    aru.encode(&mut out);
    #[rustfmt::skip]
    let expected = [
        0xa0, 0x0e, 0x61, 0x0c, 0x30, 0x0a, 0x02, 0x01, 0x01, 0xa0, 0x05,
        0x64, 0x03, 0x80, 0x01, 0x00,
    ];
    assert_eq!(out, expected);
    assert_eq!(AbortPpdu::decode(&out).unwrap(), aru);

    let arp = AbortPpdu::Provider {
        reason: Some(ABORT_REASON_UNRECOGNIZED_PPDU),
        event: Some(2),
    };
    out.clear();
    arp.encode(&mut out);
    assert_eq!(out, [0x30, 0x06, 0x80, 0x01, 0x01, 0x81, 0x01, 0x02]);
    assert_eq!(AbortPpdu::decode(&out).unwrap(), arp);
}

#[test]
fn indefinite_lengths_decode_like_definite_ones() {
    // libiec61850's CP with the outer SET re-encoded in the indefinite form.
    let b = ppdu(vectors::CN_AARQ_INITIATE_REQ);
    assert_eq!(&b[..3], &[0x31, 0x81, 0x98]);
    let mut indefinite = vec![0x31, 0x80];
    indefinite.extend_from_slice(&b[3..]);
    indefinite.extend_from_slice(&[0, 0]);
    assert_eq!(
        ConnectPpdu::decode(&indefinite).unwrap(),
        ConnectPpdu::decode(b).unwrap()
    );
}

#[test]
fn optional_and_unknown_connect_fields_are_skipped() {
    #[rustfmt::skip]
    let cp = [
        0x31, 0x1c,
        0xa0, 0x03, 0x80, 0x01, 0x01,             // mode-selector: normal
        0xa2, 0x15,
        0x80, 0x02, 0x07, 0x80,                   // protocol-version: version-1
        0x81, 0x01, 0x07,                         // calling selector (1 byte)
        0x88, 0x02, 0x06, 0x00,                   // presentation-requirements
        0x89, 0x02, 0x06, 0x40,                   // user-session-requirements
        0x9f, 0x1f, 0x01, 0x00,                   // an unknown extension
        0x61, 0x00,                               // empty fully-encoded data
    ];
    let d = ConnectPpdu::decode(&cp).unwrap();
    assert_eq!(d.calling_selector, Some(&[7][..]));
    assert_eq!(d.called_selector, None);
    assert!(d.contexts.is_empty() && d.user_data.is_empty());
}

#[test]
fn octet_aligned_pdvs_and_several_pdvs_are_accepted() {
    #[rustfmt::skip]
    let v = [
        0x61, 0x17,
        0x30, 0x08, 0x02, 0x01, 0x03, 0x81, 0x03, 0x04, 0x01, 0xaa,   // octet-aligned
        0x30, 0x0b, 0x06, 0x02, 0x51, 0x01, 0x02, 0x01, 0x01,         // with transfer-syntax-name
        0xa0, 0x02, 0x05, 0x00,
    ];
    let pdvs = decode_user_data(&v).unwrap();
    assert_eq!(
        pdvs,
        vec![pdv(3, &[0x04, 0x01, 0xaa]), pdv(1, &[0x05, 0x00])]
    );
    assert_eq!(decode_single_pdv(&v), Err(Error::MoreThanOnePdv));
}

#[test]
fn an_octet_aligned_apdu_may_nest_as_deep_as_its_single_asn1_type_re_encoding() {
    // Found by fuzzing::presentation: 62 nested indefinite-length SEQUENCEs were accepted octet-aligned
    // (read as if at the top level) but refused once re-encoded as single-ASN1-type (read at depth 3).
    use crate::ber::{Error as BerError, Tag};
    for levels in [1usize, 60, 61, 62, 63] {
        let mut apdu = [0x30u8, 0x80].repeat(levels);
        apdu.extend(vec![0u8; 2 * levels]);
        let mut octet_aligned = Vec::new();
        Writer::new(&mut octet_aligned).constructed(Tag::application_cons(1), |w| {
            w.constructed(Tag::SEQUENCE, |w| {
                w.integer(Tag::INTEGER, MMS_CONTEXT_ID);
                w.primitive(Tag::context(1), &apdu);
            })
        });
        let mut single_asn1 = Vec::new();
        encode_user_data(&[pdv(MMS_CONTEXT_ID, &apdu)], &mut single_asn1);
        let expected = if levels <= 61 {
            Ok(vec![pdv(MMS_CONTEXT_ID, &apdu)])
        } else {
            Err(Error::Ber(BerError::TooDeep))
        };
        assert_eq!(decode_user_data(&octet_aligned), expected, "{levels}");
        assert_eq!(decode_user_data(&single_asn1), expected, "{levels}");
    }
}

#[test]
fn unsupported_user_data_forms_are_refused_with_clear_errors() {
    assert_eq!(
        decode_user_data(&[0x40, 0x02, 0xab, 0xcd]),
        Err(Error::SimplyEncodedDataNotSupported)
    );
    assert_eq!(
        decode_single_pdv(&[0x40, 0x02, 0xab, 0xcd]),
        Err(Error::SimplyEncodedDataNotSupported)
    );
    // arbitrary [2] BIT STRING
    assert_eq!(
        decode_single_pdv(&[0x61, 0x09, 0x30, 0x07, 0x02, 0x01, 0x03, 0x82, 0x02, 0x00, 0xff]),
        Err(Error::PdvEncodingNotSupported)
    );
    assert_eq!(decode_user_data(&[0x61, 0x00]), Err(Error::EmptyUserData));
    assert_eq!(decode_single_pdv(&[0x61, 0x00]), Err(Error::EmptyUserData));
    assert_eq!(
        decode_single_pdv(&[0x61, 0x06, 0x30, 0x04, 0xa0, 0x02, 0x05, 0x00]),
        Err(Error::MissingContextId)
    );
    assert_eq!(
        decode_single_pdv(&[0x61, 0x05, 0x30, 0x03, 0x02, 0x01, 0x03]),
        Err(Error::MissingPdvValue)
    );
    // single-ASN1-type holding two elements
    assert_eq!(
        decode_single_pdv(&[
            0x61, 0x0b, 0x30, 0x09, 0x02, 0x01, 0x03, 0xa0, 0x04, 0x05, 0x00, 0x05, 0x00
        ]),
        Err(Error::Ber(ber::Error::TrailingData))
    );
    // trailing bytes after the user data
    let mut b = ppdu(vectors::DT_IDENTIFY_REQ).to_vec();
    b.push(0);
    assert_eq!(
        decode_single_pdv(&b),
        Err(Error::Ber(ber::Error::TrailingData))
    );
}

#[test]
fn connect_ppdus_outside_normal_mode_or_version_1_are_refused() {
    // mode-value 0: X.410-1984 mode.
    assert_eq!(
        ConnectPpdu::decode(&[0x31, 0x05, 0xa0, 0x03, 0x80, 0x01, 0x00]),
        Err(Error::ModeNotSupported(0))
    );
    assert_eq!(
        ConnectPpdu::decode(&[0x31, 0x02, 0xa2, 0x00]),
        Err(Error::MissingModeSelector)
    );
    // protocol-version with only bit 1 set
    assert_eq!(
        ConnectPpdu::decode(&[
            0x31, 0x0b, 0xa0, 0x03, 0x80, 0x01, 0x01, 0xa2, 0x04, 0x80, 0x02, 0x06, 0x40
        ]),
        Err(Error::NoCommonProtocolVersion)
    );
    let mut long = vec![
        0x31, 0x1a, 0xa0, 0x03, 0x80, 0x01, 0x01, 0xa2, 0x13, 0x81, 0x11,
    ];
    long.extend_from_slice(&[0x55; 17]);
    assert_eq!(ConnectPpdu::decode(&long), Err(Error::SelectorTooLong));
    assert_eq!(
        RejectPpdu::decode(&[0x31, 0x00]),
        Err(Error::X400ModeNotSupported)
    );
    assert_eq!(
        AbortPpdu::decode(&[0x31, 0x00]),
        Err(Error::X400ModeNotSupported)
    );
    // A context result outside 0..=2.
    assert_eq!(
        AcceptPpdu::decode(&[
            0x31, 0x0e, 0xa0, 0x03, 0x80, 0x01, 0x01, 0xa2, 0x07, 0xa5, 0x05, 0x30, 0x03, 0x80,
            0x01, 0x07
        ]),
        Err(Error::InvalidContextResult(7))
    );
}

#[test]
fn every_truncation_of_real_ppdus_is_an_error() {
    for frame in [
        vectors::CN_AARQ_INITIATE_REQ,
        vectors::AC_AARE_INITIATE_RESP,
        vectors::DT_IDENTIFY_REQ,
        vectors::FN_RLRQ,
    ] {
        let b = ppdu(frame);
        for n in 0..b.len() {
            let cut = &b[..n];
            assert!(ConnectPpdu::decode(cut).is_err(), "CP prefix {n}");
            assert!(AcceptPpdu::decode(cut).is_err());
            assert!(decode_accept_or_reject(cut).is_err());
            assert!(decode_user_data(cut).is_err());
            assert!(decode_single_pdv(cut).is_err());
        }
    }
}

#[test]
fn corrupting_any_byte_of_real_ppdus_never_panics() {
    for frame in [
        vectors::CN_AARQ_INITIATE_REQ,
        vectors::AC_AARE_INITIATE_RESP,
    ] {
        let b = ppdu(frame);
        for i in 0..b.len() {
            for x in [0x00, 0x01, 0x30, 0x31, 0x61, 0x80, 0xa0, 0xff] {
                let mut c = b.to_vec();
                c[i] = x;
                let _ = ConnectPpdu::decode(&c);
                let _ = decode_accept_or_reject(&c);
                let _ = AbortPpdu::decode(&c);
            }
        }
    }
}

#[test]
fn errors_display_as_sentences() {
    let s = alloc::format!("{}", Error::ModeNotSupported(0));
    assert!(s.contains("mode 0"));
    let s = alloc::format!("{}", Error::Ber(ber::Error::UnexpectedEnd));
    assert!(s.starts_with("presentation PPDU"));
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

/// Owned PDVs: (context id, APDU bytes as one OCTET STRING element).
fn arb_pdvs(max: usize) -> impl Strategy<Value = Vec<(i64, Vec<u8>)>> {
    proptest::collection::vec(
        (
            any::<i64>(),
            proptest::collection::vec(any::<u8>(), 0..200).prop_map(|c| {
                let mut out = Vec::new();
                Writer::new(&mut out).primitive(crate::ber::Tag::OCTET_STRING, &c);
                out
            }),
        ),
        0..max,
    )
}

fn borrow(pdvs: &[(i64, Vec<u8>)]) -> Vec<Pdv<'_>> {
    pdvs.iter().map(|(id, d)| pdv(*id, d)).collect()
}

fn arb_selector() -> impl Strategy<Value = Option<Vec<u8>>> {
    proptest::option::of(proptest::collection::vec(any::<u8>(), 0..=MAX_SELECTOR_LEN))
}

fn arb_result() -> impl Strategy<Value = ContextResultItem> {
    (
        0i64..3,
        proptest::option::of(arb_oid()),
        proptest::option::of(any::<i64>()),
    )
        .prop_map(|(r, transfer_syntax, provider_reason)| ContextResultItem {
            result: ContextResult::from_code(r).unwrap(),
            transfer_syntax,
            provider_reason,
        })
}

proptest! {
    #[test]
    fn connect_ppdus_round_trip(
        calling in arb_selector(),
        called in arb_selector(),
        contexts in proptest::collection::vec(
            (any::<i64>(), arb_oid(), proptest::collection::vec(arb_oid(), 0..3)), 0..4),
        pdvs in arb_pdvs(3),
    ) {
        let cp = ConnectPpdu {
            calling_selector: calling.as_deref(),
            called_selector: called.as_deref(),
            contexts: contexts.into_iter().map(|(id, abstract_syntax, transfer_syntaxes)| {
                ContextDefinition { id, abstract_syntax, transfer_syntaxes }
            }).collect(),
            user_data: borrow(&pdvs),
        };
        let mut out = Vec::new();
        cp.encode(&mut out);
        prop_assert_eq!(ConnectPpdu::decode(&out).unwrap(), cp);
    }

    #[test]
    fn accept_and_reject_ppdus_round_trip(
        sel in arb_selector(),
        results in proptest::collection::vec(arb_result(), 0..4),
        reason in proptest::option::of(any::<i64>()),
        pdvs in arb_pdvs(3),
    ) {
        let cpa = AcceptPpdu {
            responding_selector: sel.as_deref(),
            results: results.clone(),
            user_data: borrow(&pdvs),
        };
        let mut out = Vec::new();
        cpa.encode(&mut out);
        prop_assert_eq!(decode_accept_or_reject(&out).unwrap(), AcceptOrReject::Accept(cpa));
        let cpr = RejectPpdu {
            responding_selector: sel.as_deref(),
            results,
            provider_reason: reason,
            user_data: borrow(&pdvs),
        };
        out.clear();
        cpr.encode(&mut out);
        prop_assert_eq!(decode_accept_or_reject(&out).unwrap(), AcceptOrReject::Reject(cpr));
    }

    #[test]
    fn abort_ppdus_and_user_data_round_trip(
        pdvs in arb_pdvs(4),
        reason in proptest::option::of(any::<i64>()),
        event in proptest::option::of(any::<i64>()),
    ) {
        for abort in [AbortPpdu::User { user_data: borrow(&pdvs) }, AbortPpdu::Provider { reason, event }] {
            let mut out = Vec::new();
            abort.encode(&mut out);
            prop_assert_eq!(AbortPpdu::decode(&out).unwrap(), abort);
        }
        let mut out = Vec::new();
        encode_user_data(&borrow(&pdvs), &mut out);
        if pdvs.is_empty() {
            prop_assert!(out.is_empty());
        } else {
            prop_assert_eq!(decode_user_data(&out).unwrap(), borrow(&pdvs));
        }
        if let Some((id, data)) = pdvs.first() {
            out.clear();
            write_user_data(&mut Writer::new(&mut out), *id, |w| w.raw(data));
            prop_assert_eq!(decode_single_pdv(&out).unwrap(), pdv(*id, data));
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = ConnectPpdu::decode(&b);
        let _ = AcceptPpdu::decode(&b);
        let _ = RejectPpdu::decode(&b);
        let _ = AbortPpdu::decode(&b);
        let _ = decode_accept_or_reject(&b);
        let _ = decode_user_data(&b);
        let _ = decode_single_pdv(&b);
    }
}
