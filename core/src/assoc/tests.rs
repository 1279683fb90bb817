//! A server association fed libiec61850's real frames, intact and broken at every layer.

use alloc::vec::Vec;

use super::*;
use crate::mms::{ConfirmedRequest, ConfirmedResponse};

fn hex(s: &str) -> Vec<u8> {
    let s = s.trim();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

macro_rules! frame {
    ($name:literal) => {
        hex(include_str!(concat!(
            "../../../tests/data/libiec61850/",
            $name,
            ".hex"
        )))
    };
}

fn drain(a: &mut Association) -> (Vec<u8>, Vec<Event>) {
    let mut out = Vec::new();
    while a.poll_transmit(&mut out) > 0 {}
    let mut events = Vec::new();
    while let Some(e) = a.poll_event() {
        events.push(e);
    }
    (out, events)
}

/// A server association that has accepted libiec61850's real connect.
fn established() -> Association {
    let now = Instant::ZERO;
    let mut a = Association::server(AssociationConfig::default(), now);
    a.handle_input(now, &frame!("01_c2s_cotp_cr"));
    let (cc, _) = drain(&mut a);
    assert_eq!(cc[5], 0xd0, "answers the CR with a CC");
    a.handle_input(now, &frame!("03_c2s_session_cn_aarq_initiate_req"));
    let (_, events) = drain(&mut a);
    let Some(Event::AssociateIndication(req)) = events.first() else {
        panic!("{events:?}")
    };
    assert_eq!(req.calling.ap_title, Some("1.1.1.999".parse().unwrap()));
    assert_eq!(req.called.ap_title, Some("1.1.1.998".parse().unwrap()));
    a.accept().unwrap();
    let (ac, events) = drain(&mut a);
    assert_eq!(ac[7], 0x0e, "session ACCEPT");
    assert!(matches!(events[0], Event::Established(_)));
    a
}

fn identify_request() -> Vec<u8> {
    frame!("05_c2s_mms_identify_req")
}

/// Feed an established association libiec61850's Identify request with octet `at` replaced by
/// `byte`, and drain what it answered.
fn break_identify_at(at: usize, byte: u8) -> (Vec<u8>, Vec<Event>) {
    let mut a = established();
    let mut f = identify_request();
    f[at] = byte;
    a.handle_input(Instant::ZERO, &f);
    let drained = drain(&mut a);
    assert!(a.is_closed(), "a broken lower layer ends the association");
    drained
}

#[test]
fn libiec61850_connect_and_identify_byte_by_byte() {
    let now = Instant::ZERO;
    let mut a = Association::server(AssociationConfig::default(), now);
    let mut all = frame!("01_c2s_cotp_cr");
    all.extend(frame!("03_c2s_session_cn_aarq_initiate_req"));
    // Bytes arrive one at a time: nothing may depend on how TCP split them.
    for b in &all {
        a.handle_input(now, core::slice::from_ref(b));
        while let Some(e) = a.poll_event() {
            if matches!(e, Event::AssociateIndication(_)) {
                a.accept().unwrap();
            }
        }
    }
    assert!(a.is_established());
    assert_eq!(a.negotiated().max_pdu_size, 65_000);
    for b in identify_request() {
        a.handle_input(now, &[b]);
    }
    let (_, events) = drain(&mut a);
    assert!(
        matches!(
            events.last(),
            Some(Event::Request {
                request: ConfirmedRequest::Identify,
                ..
            })
        ),
        "{events:?}"
    );
}

#[test]
fn the_response_to_libiec61850_is_what_a_peer_expects() {
    let mut a = established();
    a.handle_input(Instant::ZERO, &identify_request());
    let (_, events) = drain(&mut a);
    let Some(Event::Request { invoke_id, .. }) = events.last() else {
        panic!()
    };
    a.send_response(
        *invoke_id,
        ConfirmedResponse::Identify(crate::mms::IdentifyResponse {
            vendor_name: "v".into(),
            model_name: "m".into(),
            revision: "r".into(),
            abstract_syntaxes: Vec::new(),
        }),
    )
    .unwrap();
    let (out, _) = drain(&mut a);
    // TPKT, COTP DT EOT, session GT+DT, presentation user data on context 3, MMS confirmed response.
    assert_eq!(&out[..4], &[3, 0, 0, out.len() as u8]);
    assert_eq!(&out[4..11], &[2, 0xf0, 0x80, 1, 0, 1, 0]);
    assert_eq!(out[11], 0x61);
    assert!(
        out.windows(3).any(|w| w == [0x02, 0x01, 0x03]),
        "context id 3"
    );
    assert_eq!(
        a.send_response(*invoke_id, ConfirmedResponse::DefineNamedVariableList),
        Err(ApiError::UnknownInvokeId)
    );
}

#[test]
fn a_bad_tpkt_header_closes_with_a_tpkt_error() {
    let (_, events) = break_identify_at(0, 2);
    assert!(
        matches!(
            events.last(),
            Some(Event::Closed(Some(AssocError::Tpkt(_))))
        ),
        "{events:?}"
    );
}

#[test]
fn a_bad_tpdu_is_answered_with_a_cotp_er() {
    let (out, events) = break_identify_at(5, 0x10); // no such TPDU code
    assert_eq!(out[5], 0x70, "ER TPDU");
    assert!(
        matches!(
            events.last(),
            Some(Event::Closed(Some(AssocError::Cotp(_))))
        ),
        "{events:?}"
    );
}

#[test]
fn a_bad_spdu_is_answered_with_a_session_abort() {
    let (out, events) = break_identify_at(7, 0x30);
    assert_eq!(out[7], 0x19, "session ABORT");
    assert!(
        matches!(
            events.last(),
            Some(Event::Closed(Some(AssocError::Session(_))))
        ),
        "{events:?}"
    );
}

#[test]
fn a_bad_ppdu_is_answered_with_a_session_abort() {
    let (out, events) = break_identify_at(11, 0x65); // not fully-encoded user data
    assert_eq!(out[7], 0x19, "session ABORT carrying a presentation ARP");
    assert!(
        matches!(
            events.last(),
            Some(Event::Closed(Some(AssocError::Presentation(_))))
        ),
        "{events:?}"
    );
}

#[test]
fn a_bad_mms_pdu_is_rejected_and_the_association_lives_on() {
    let mut a = established();
    let good = identify_request();
    let mms_at = good.len() - 7; // a0 05 02 01 01 82 00: the confirmed-request PDU
    assert_eq!(good[mms_at], 0xa0);
    for corrupt in [
        |f: &mut Vec<u8>, i: usize| f[i] = 0xaf, // unknown PDU type [15]
        |f: &mut Vec<u8>, i: usize| f[i + 5] = 0x9f, // unknown service
        |f: &mut Vec<u8>, i: usize| f[i + 3] = 0x02, // invoke id swallows the next tag
        |f: &mut Vec<u8>, i: usize| f[i + 3] = 0x05, // invoke id length runs past
    ] {
        let mut f = good.clone();
        corrupt(&mut f, mms_at);
        a.handle_input(Instant::ZERO, &f);
        let (out, events) = drain(&mut a);
        assert!(!a.is_closed(), "{events:?}");
        assert!(out.contains(&0xa4), "a Reject PDU [4] is sent: {out:02x?}");
        assert!(
            matches!(events.last(), Some(Event::PeerError(_))),
            "{events:?}"
        );
    }
    // The association still serves requests.
    a.handle_input(Instant::ZERO, &good);
    let (_, events) = drain(&mut a);
    assert!(
        matches!(events.last(), Some(Event::Request { .. })),
        "{events:?}"
    );
}

#[test]
fn truncations_and_bit_flips_of_every_frame_never_panic() {
    let frames = [
        frame!("01_c2s_cotp_cr"),
        frame!("03_c2s_session_cn_aarq_initiate_req"),
        frame!("05_c2s_mms_identify_req"),
        frame!("13_c2s_mms_read_req"),
        frame!("21_c2s_mms_write_req"),
        frame!("25_c2s_mms_define_named_variable_list_req"),
        frame!("35_c2s_session_fn_rlrq"),
    ];
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for (i, f) in frames.iter().enumerate() {
        for variant in 0..200 {
            let mut a = if i < 2 {
                Association::server(AssociationConfig::default(), Instant::ZERO)
            } else {
                established()
            };
            if i == 1 {
                a.handle_input(Instant::ZERO, &frames[0]);
            }
            let mut g = f.clone();
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            if variant % 2 == 0 {
                g.truncate((seed as usize) % g.len());
                // Keep the TPKT length honest so the cut reaches the inner layers.
                if g.len() >= 4 {
                    let n = g.len() as u16;
                    g[2..4].copy_from_slice(&n.to_be_bytes());
                }
            } else {
                let at = 4 + (seed as usize) % (g.len() - 4);
                g[at] ^= 1 << ((seed >> 32) % 8);
            }
            a.handle_input(Instant::ZERO, &g);
            let (_, events) = drain(&mut a);
            if let Some(Event::AssociateIndication(_)) = events.first() {
                let _ = a.accept();
            }
            // Whatever happened, something was said about it or it was valid.
            let _ = events;
        }
    }
}

#[test]
fn over_long_tpkt_beyond_the_negotiated_tpdu_is_refused() {
    let mut a = established();
    let mut f = identify_request();
    f[2] = 0xff;
    f[3] = 0xff;
    a.handle_input(Instant::ZERO, &f);
    let (_, events) = drain(&mut a);
    assert!(
        matches!(
            events.last(),
            Some(Event::Closed(Some(AssocError::Tpkt(_))))
        ),
        "{events:?}"
    );
}

/// The CR a client association queues at once.
fn our_cr(config: AssociationConfig) -> Vec<u8> {
    let mut a = Association::client(config, Instant::ZERO);
    drain(&mut a).0
}

#[test]
fn our_cr_proposes_2048_octets() {
    assert_eq!(
        our_cr(AssociationConfig::default()),
        [
            0x03, 0x00, 0x00, 0x16, // TPKT, 22 octets
            0x11, 0xe0, // LI 17, CR
            0x00, 0x00, 0x00, 0x01, 0x00, // DST-REF 0, SRC-REF 1, class 0
            0xc0, 0x01, 0x0b, // TPDU size 2^11 = 2048, the class 0 maximum
            0xc1, 0x02, 0x00, 0x01, // calling T-selector
            0xc2, 0x02, 0x00, 0x01, // called T-selector
        ]
    );
}

#[test]
fn a_configured_1024_proposes_code_0a() {
    let mut config = AssociationConfig::default();
    config.set_tpdu_size(1024).unwrap();
    let cr = our_cr(config);
    assert_eq!(cr[11..14], [0xc0, 0x01, 0x0a]);
}

#[test]
fn tpdu_sizes_class0_does_not_allow_are_refused_or_clamped() {
    let mut config = AssociationConfig::default();
    for bad in [4096, 8192, 1000, 64, 0] {
        assert_eq!(config.set_tpdu_size(bad), Err(InvalidTpduSize(bad)));
    }
    assert_eq!(config.tpdu_size, TpduSize::CLASS0_MAX, "left unchanged");
    config.set_tpdu_size(128).unwrap();
    assert_eq!(our_cr(config.clone())[11..14], [0xc0, 0x01, 0x07]);
    // Set directly, past the setter: clamped to 2048 when the association starts.
    config.tpdu_size = TpduSize::MAX;
    let a = Association::client(config, Instant::ZERO);
    assert_eq!(a.config().tpdu_size, TpduSize::CLASS0_MAX);
    let mut a = a;
    assert_eq!(drain(&mut a).0[11..14], [0xc0, 0x01, 0x0b]);
}

#[test]
fn a_cc_answering_more_than_we_proposed_leaves_us_at_our_proposal() {
    let mut a = Association::client(AssociationConfig::default(), Instant::ZERO);
    drain(&mut a);
    // libiec61850's CC: c0 01 0d, 8192.
    a.handle_input(Instant::ZERO, &frame!("02_s2c_cotp_cc"));
    let (cn, events) = drain(&mut a);
    assert_eq!(cn[7], 0x0d, "session CONNECT follows");
    assert_eq!(a.negotiated().tpdu_size, 2048);
    assert!(events.is_empty(), "{events:?}");
}

#[test]
fn a_server_answers_an_8192_proposal_with_2048_and_a_deviation() {
    let mut a = Association::server(AssociationConfig::default(), Instant::ZERO);
    a.handle_input(Instant::ZERO, &frame!("01_c2s_cotp_cr"));
    let (cc, events) = drain(&mut a);
    assert_eq!(cc[5], 0xd0);
    assert_eq!(cc[11..14], [0xc0, 0x01, 0x0b]);
    assert_eq!(a.negotiated().tpdu_size, 2048);
    assert_eq!(
        events,
        [Event::Deviation(crate::Deviation::new(
            crate::DeviationKind::TpduSizeBeyondClass0
        ))]
    );
}

#[test]
fn commands_after_the_transport_closed_return_the_sticky_cause() {
    let mut a = established();
    a.handle_transport_closed();
    let (_, events) = drain(&mut a);
    assert_eq!(events, [Event::Closed(Some(AssocError::TransportClosed))]);
    let closed = Err(ApiError::Closed(Some(AssocError::TransportClosed)));
    assert_eq!(
        a.send_request(Instant::ZERO, ConfirmedRequest::Identify)
            .map(|_| ()),
        closed
    );
    assert_eq!(
        a.send_unconfirmed(crate::mms::UnconfirmedService::InformationReport(
            crate::mms::InformationReport {
                variables: crate::mms::VariableAccessSpecification::ListOfVariable(Vec::new()),
                results: Vec::new(),
            }
        )),
        closed
    );
    assert_eq!(
        a.send_error(
            1,
            crate::mms::ServiceError::from(crate::mms::ErrorClass::ACCESS_OTHER)
        ),
        closed
    );
    assert_eq!(a.reject_request(1, RejectReason::OTHER), closed);
}

#[test]
fn a_peer_abort_names_the_layer_that_aborted() {
    // A session AB whose presentation ARU carries an ACSE ABRT from the user, no-reason-given
    // would need a captured frame; build the cases from their parts instead.
    use crate::acse::{ABORT_NO_REASON, ABORT_SOURCE_USER};
    let cases = [
        (
            AbortSource::Acse {
                source: ABORT_SOURCE_USER,
                diagnostic: Some(ABORT_NO_REASON),
            },
            "ACSE ABRT from the acse-service-user: no-reason-given",
        ),
        (
            AbortSource::Presentation {
                reason: Some(crate::presentation::ABORT_REASON_UNEXPECTED_PPDU),
            },
            "presentation provider abort: unexpected-ppdu",
        ),
        (
            AbortSource::Presentation { reason: Some(99) },
            "presentation provider abort: reason 99",
        ),
        (
            AbortSource::Cotp { reason: 128 },
            "COTP disconnect: normal disconnect initiated by the session entity",
        ),
        (
            AbortSource::CotpError { cause: 2 },
            "COTP error TPDU: invalid TPDU type",
        ),
    ];
    for (source, text) in cases {
        assert_eq!(
            alloc::format!("{}", AssocError::AbortedByPeer(source)),
            alloc::format!("aborted by peer: {text}")
        );
    }
}

#[test]
fn refusals_name_the_layer_and_its_reason() {
    use crate::acse::{user_diagnostic, AssociateDiagnostic, AssociateResult};
    let cases = [
        (
            RefusalReason::Acse {
                result: AssociateResult::RejectedTransient,
                diagnostic: Some(AssociateDiagnostic::User(
                    user_diagnostic::AUTHENTICATION_FAILURE,
                )),
            },
            "association refused by the peer's ACSE: rejected-transient, authentication-failure",
        ),
        (
            RefusalReason::Acse {
                result: AssociateResult::RejectedPermanent,
                diagnostic: Some(AssociateDiagnostic::Provider(2)),
            },
            "association refused by the peer's ACSE: rejected-permanent, \
             acse-service-provider no-common-acse-version",
        ),
        (
            RefusalReason::Presentation {
                provider_reason: Some(crate::presentation::PROVIDER_REASON_TEMPORARY_CONGESTION),
            },
            "association refused by the peer's presentation provider: temporary-congestion",
        ),
        (
            RefusalReason::Session { reason: 130 },
            "association refused by the peer's session: SS-user not attached to SSAP",
        ),
        (
            RefusalReason::Cotp { reason: 3 },
            "association refused by the peer's transport: address unknown",
        ),
        (
            RefusalReason::Application(AssociateDiagnostic::User(
                user_diagnostic::CALLED_AP_TITLE_NOT_RECOGNIZED,
            )),
            "association refused by the application: called-AP-title-not-recognized",
        ),
    ];
    for (reason, text) in cases {
        assert_eq!(alloc::format!("{}", AssocError::Refused(reason)), text);
    }
}

#[test]
fn a_dr_answering_the_cr_is_a_transport_refusal() {
    let now = Instant::ZERO;
    let mut a = Association::client(AssociationConfig::default(), now);
    let _ = drain(&mut a);
    // TPKT, then DR: LI 6, code 0x80, DST-REF, SRC-REF, reason 129 (remote congestion).
    a.handle_input(
        now,
        &hex("0300000b 06 80 0001 0000 81".replace(' ', "").as_str()),
    );
    let (_, events) = drain(&mut a);
    let e = AssocError::Refused(RefusalReason::Cotp { reason: 129 });
    assert_eq!(events, [Event::Closed(Some(e.clone()))]);
    assert_eq!(
        alloc::format!("{e}"),
        "association refused by the peer's transport: remote transport entity congestion at \
         connect request time"
    );
}
