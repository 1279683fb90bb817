use alloc::vec;
use alloc::vec::Vec;

use super::tase2::Tase2View;
use super::*;
use crate::ber::Writer;
use crate::mms::{
    ConfirmedRequest, ObjectName, ReadRequest, VariableAccessSpecification, VariableSpec,
};

/// A data-phase TSDU carrying `pdu`, framed in DT TPDUs of at most `max_tpdu` octets.
fn frames(pdu: &MmsPdu, max_tpdu: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut scratch = Vec::new();
    cotp::write_tsdu(&mut out, max_tpdu, &mut scratch, |out| {
        crate::session::write_data_header(out);
        let mut w = Writer::new(out);
        presentation::write_user_data(&mut w, presentation::MMS_CONTEXT_ID, |w| pdu.encode(w));
    });
    out
}

fn read(invoke_id: u32, names: &[&str]) -> MmsPdu {
    MmsPdu::ConfirmedRequest {
        invoke_id,
        request: ConfirmedRequest::Read(ReadRequest {
            specification_with_result: false,
            variables: VariableAccessSpecification::ListOfVariable(
                names
                    .iter()
                    .map(|n| VariableSpec::named(ObjectName::domain("ICC1", *n)))
                    .collect(),
            ),
        }),
    }
}

#[test]
fn a_data_pdu_decodes_through_every_layer() {
    let bytes = frames(&read(7, &["P1", "P2"]), 2048);
    let pdus = dissect_stream(&bytes);
    assert_eq!(pdus.len(), 1);
    let p = &pdus[0];
    assert_eq!(
        p.layers,
        [
            Layer::Tpkt,
            Layer::Cotp,
            Layer::Session,
            Layer::Presentation,
            Layer::Mms
        ]
    );
    assert_eq!(p.error, None);
    assert_eq!((p.offset, p.len, p.frames), (0, bytes.len(), 1));
    assert_eq!(p.summary, "MMS Read of 2 variables request (invoke 7)");
    assert!(p
        .fields
        .iter()
        .any(|f| f.layer == Layer::Mms && f.text.contains("invoke_id: 7")));
    let meaning = Tase2View::new().meaning(p);
    assert_eq!(meaning.service, "Read");
    assert!(meaning.summary.contains("ICC1/P1"), "{meaning:?}");
}

#[test]
fn segments_are_joined_and_bytes_may_arrive_in_any_chunks() {
    let names: Vec<String> = (0..40).map(|i| alloc::format!("Point_{i:03}")).collect();
    let refs: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
    let pdu = read(1, &refs);
    let mut bytes = frames(&pdu, 128);
    bytes.extend(frames(&read(2, &["P1"]), 128));
    let mut d = Dissector::new();
    let mut got = Vec::new();
    for chunk in bytes.chunks(5) {
        got.extend(d.push(chunk));
    }
    assert_eq!(d.pending(), 0);
    assert_eq!(got.len(), 2);
    assert!(got[0].frames > 4, "{}", got[0].frames);
    assert_eq!(got[0].mms.as_ref(), Some(&pdu));
    assert_eq!(got[1].offset, got[0].len);
    assert!(got[1].contains(got[0].len + 3));
}

#[test]
fn a_stream_cut_inside_a_tsdu_says_so() {
    let names: Vec<String> = (0..40).map(|i| alloc::format!("Point_{i:03}")).collect();
    let refs: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
    let bytes = frames(&read(1, &refs), 128);
    let pdus = dissect_stream(&bytes[..300]);
    assert_eq!(pdus.len(), 1);
    assert_eq!(pdus[0].error.as_ref().map(|e| e.0), Some(Layer::Cotp));
}

#[test]
fn garbage_gives_errors_never_panics() {
    let pdus = dissect_stream(b"GET / HTTP/1.1\r\n\r\n");
    assert_eq!(pdus.len(), 1);
    assert_eq!(pdus[0].error.as_ref().map(|e| e.0), Some(Layer::Tpkt));
    // A good frame whose MMS octets are damaged decodes down to where it breaks.
    let mut bytes = frames(&read(7, &["P1"]), 2048);
    let n = bytes.len();
    bytes[n - 4] = 0xff;
    let p = &dissect_stream(&bytes)[0];
    assert!(p.error.is_some(), "{p:?}");
    // Every prefix and every single-octet change of a real PDU: no panic.
    let good = frames(&read(9, &["P1", "Brk1_SBO"]), 2048);
    for cut in 0..good.len() {
        let _ = dissect_stream(&good[..cut]);
    }
    for i in 0..good.len() {
        for x in [0x00, 0x01, 0x80, 0xff] {
            let mut b = good.clone();
            b[i] ^= x;
            for p in dissect_stream(&b) {
                let _ = Tase2View::new().meaning(&p);
            }
        }
    }
}

#[test]
fn the_first_differing_field_is_named_with_its_path() {
    let a = &dissect_stream(&frames(&read(7, &["P1", "P2"]), 2048))[0];
    let b = &dissect_stream(&frames(&read(7, &["P1", "P3"]), 2048))[0];
    let d = diff_fields(&a.fields, &b.fields).unwrap();
    assert_eq!(d.layer, Layer::Mms);
    assert_eq!(d.field(), "item");
    assert_eq!(d.left.as_deref(), Some("item: \"P2\","));
    assert_eq!(d.right.as_deref(), Some("item: \"P3\","));
    assert!(d.path.iter().any(|p| p == "variables"), "{:?}", d.path);
    assert_eq!(diff_fields(&a.fields, &a.fields), None);
    let c = &dissect_stream(&frames(&read(8, &["P1", "P2"]), 2048))[0];
    let d = diff_fields(&a.fields, &c.fields).unwrap();
    assert_eq!(d.field(), "invoke_id");
    assert_eq!(d.path, vec![String::from("ConfirmedRequest")]);
}

#[test]
fn a_select_and_its_answer_are_told_as_such() {
    let mut v = Tase2View::new();
    let p = &dissect_stream(&frames(&read(3, &["Brk1_SBO"]), 2048))[0];
    let m = v.meaning(p);
    assert_eq!(m.service, "Select");
    assert!(m.summary.contains("ICC1/Brk1"), "{m:?}");
    let answer = MmsPdu::ConfirmedResponse {
        invoke_id: 3,
        response: crate::mms::ConfirmedResponse::Read(crate::mms::ReadResponse {
            variables: None,
            results: vec![crate::mms::AccessResult::Success(
                crate::mms::Data::Integer(101),
            )],
        }),
    };
    let p = &dissect_stream(&frames(&answer, 2048))[0];
    let m = v.meaning(p);
    assert_eq!(m.service, "Select");
    assert!(m.summary.contains("CheckBackID 101"), "{m:?}");
}
