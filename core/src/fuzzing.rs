//! Fuzz bodies, one per decoding layer plus the whole server association. Not part of the public
//! API.
//!
//! The `fuzz/` cargo-fuzz targets are shims that call these functions, and
//! `core/tests/fuzz_seeds.rs` replays the seed corpus and mutations of it through them in
//! `cargo test`, so the bodies run in CI without a nightly toolchain.
//!
//! Each function feeds arbitrary bytes to every decoder of its layer. A decoder may refuse the input,
//! but **it must never panic**. When it accepts the input, the value is encoded, decoded again and
//! compared: the second decode must give the same value and re-encoding it the same bytes. A
//! mismatch is a bug, so these functions assert (and thus panic) on it; that is how the fuzzer
//! reports it. [`association`] checks the state machine instead: no input sequence may panic it.

use alloc::string::ToString;
use alloc::vec::Vec;

use crate::acse::{self, Apdu, AssociateDiagnostic};
use crate::assoc::{Association, Event};
use crate::ber::{self, primitive, ObjectIdentifier, Reader, Tag, Tlv, Writer};
use crate::cotp::{self, Reassembler, Tpdu, TpduSize};
use crate::mms::{
    Data, DataRef, DecodeLimits, ErrorClass, MmsPdu, ObjectName, TypeDescription, TypeSpecification,
};
use crate::presentation::{
    self, AbortPpdu, AcceptOrReject, AcceptPpdu, ConnectPpdu, Pdv, RejectPpdu,
};
use crate::session::Spdu;
use crate::time::Instant;
use crate::tpkt;

/// Encode `first`, decode the bytes with `decode`, and check that the result equals `expected`
/// (`first` itself unless the encoding normalises a field) and encodes to the same bytes.
macro_rules! round_trip {
    ($first:expr, $decode:expr) => {
        round_trip!($first, $decode, $first)
    };
    ($first:expr, $decode:expr, $expected:expr) => {{
        let first = &$first;
        let mut bytes = Vec::new();
        first.encode(&mut bytes);
        let second = match $decode(&bytes[..]) {
            Ok(v) => v,
            Err(e) => panic!("re-encoding of {first:?} does not decode: {e:?}\n{bytes:02x?}"),
        };
        assert_eq!(
            second, $expected,
            "decode -> encode -> decode changed the value"
        );
        let mut again = Vec::new();
        second.encode(&mut again);
        assert_eq!(again, bytes, "encoding the decoded value changed the bytes");
    }};
}

/// BER (X.690): walk every element with the default and a tight depth limit, run the primitive
/// content codecs on every primitive element, then re-encode the tree with definite lengths and
/// check that it decodes to the same tree.
pub fn ber(data: &[u8]) {
    let depth = data.first().map_or(0, |b| b % 8);
    let _ = elements(Reader::with_max_depth(data, depth));
    let Ok(tree) = elements(Reader::new(data)) else {
        return;
    };
    let mut bytes = Vec::new();
    write_elements(&mut Writer::new(&mut bytes), &tree);
    let again = match elements(Reader::new(&bytes)) {
        Ok(t) => t,
        Err(e) => panic!("re-encoded BER does not decode: {e:?}\n{bytes:02x?}"),
    };
    assert_eq!(again, tree, "BER tree changed by re-encoding");
    let mut twice = Vec::new();
    write_elements(&mut Writer::new(&mut twice), &again);
    assert_eq!(twice, bytes);
}

/// A decoded BER element.
#[derive(Debug, PartialEq, Eq)]
enum Node<'a> {
    Primitive(Tag, &'a [u8]),
    Constructed(Tag, Vec<Node<'a>>),
    /// A constructed element whose content is not a list of valid elements (kept as raw content).
    Opaque(Tag, &'a [u8]),
}

fn elements(mut r: Reader<'_>) -> Result<Vec<Node<'_>>, ber::Error> {
    let mut out = Vec::new();
    loop {
        let peeked = r.peek_tag()?;
        let Some(tlv) = r.read_opt()? else {
            assert_eq!(peeked, None);
            return Ok(out);
        };
        assert_eq!(peeked, Some(tlv.tag));
        check_raw(&tlv);
        out.push(if tlv.tag.constructed {
            assert_eq!(tlv.primitive(), Err(ber::Error::Constructed));
            match tlv.reader().and_then(elements) {
                Ok(children) => Node::Constructed(tlv.tag, children),
                Err(_) => Node::Opaque(tlv.tag, tlv.content),
            }
        } else {
            assert_eq!(tlv.reader().err(), Some(ber::Error::NotConstructed));
            primitives(tlv.content);
            Node::Primitive(tlv.tag, tlv.content)
        });
    }
}

/// `raw` is the whole element: reading it again gives the same element and nothing else.
fn check_raw(tlv: &Tlv<'_>) {
    let mut r = Reader::new(tlv.raw);
    let same = r.expect(tlv.tag);
    assert_eq!(same.map(|t| (t.tag, t.content)), Ok((tlv.tag, tlv.content)));
    assert!(r.is_empty());
    let mut r = Reader::new(tlv.raw);
    assert!(matches!(r.read_if(tlv.tag), Ok(Some(_))));
    assert_eq!(r.finish(), Ok(()));
}

fn write_elements(w: &mut Writer<'_>, nodes: &[Node<'_>]) {
    for n in nodes {
        match n {
            Node::Primitive(tag, content) => w.primitive(*tag, content),
            Node::Constructed(tag, children) => {
                w.constructed(*tag, |w| write_elements(w, children))
            }
            Node::Opaque(tag, content) => w.constructed(*tag, |w| w.raw(content)),
        }
    }
}

/// Every content codec of `ber::primitive` and OBJECT IDENTIFIER on `content`, with round trips.
fn primitives(content: &[u8]) {
    if let Ok(v) = primitive::decode_i64(content) {
        let (b, n) = primitive::encode_i64(v);
        assert!(n <= content.len(), "minimal INTEGER longer than the input");
        assert_eq!(primitive::decode_i64(&b[8 - n..]), Ok(v));
    }
    if let Ok(v) = primitive::decode_u64(content) {
        let (b, n) = primitive::encode_u64(v);
        assert!(
            n <= content.len(),
            "minimal unsigned INTEGER longer than the input"
        );
        assert_eq!(primitive::decode_u64(&b[9 - n..]), Ok(v));
        assert_eq!(
            primitive::decode_i64(&b[9 - n..]).ok(),
            i64::try_from(v).ok()
        );
    }
    if let Ok(v) = primitive::decode_bool(content) {
        let mut b = Vec::new();
        Writer::new(&mut b).boolean(Tag::BOOLEAN, v);
        assert_eq!(primitive::decode_bool(&b[2..]), Ok(v));
    }
    if let Ok((octets, bits)) = primitive::decode_bit_string(content) {
        assert!(bits <= octets.len() * 8);
        let mut b = Vec::new();
        Writer::new(&mut b).bit_string(Tag::BIT_STRING, octets, bits);
        let t = Reader::new(&b).read().map(|t| t.content);
        assert_eq!(t.map(primitive::decode_bit_string), Ok(Ok((octets, bits))));
    }
    if let Ok(oid) = ObjectIdentifier::from_content(content) {
        assert_eq!(oid.as_bytes(), content);
        let text = oid.to_string();
        match text.parse::<ObjectIdentifier>() {
            Ok(parsed) => assert_eq!(parsed, oid, "{text}"),
            // Dotted notation takes u32 arcs only.
            Err(_) => assert!(oid.arcs().any(|a| a > u64::from(u32::MAX)), "{text}"),
        }
    }
}

/// TPKT (RFC 1006 §6): the header check with several limits, then the input as a stream of packets,
/// each re-framed with `begin` / `finish`.
pub fn tpkt(data: &[u8]) {
    let own_limit = data
        .get(1..3)
        .map_or(0, |b| usize::from(u16::from_be_bytes([b[0], b[1]])));
    for max in [
        tpkt::MAX_TPKT_LEN,
        0,
        tpkt::MIN_TPKT_LEN,
        usize::MAX,
        own_limit,
    ] {
        match tpkt::frame_len(data, max) {
            Ok(None) => assert!(data.len() < tpkt::HEADER_LEN),
            Ok(Some(len)) => {
                assert!((tpkt::MIN_TPKT_LEN..=max.min(tpkt::MAX_TPKT_LEN)).contains(&len));
            }
            Err(_) => assert!(data.len() >= tpkt::HEADER_LEN),
        }
    }
    let mut rest = data;
    while let Ok(Some(len)) = tpkt::frame_len(rest, tpkt::MAX_TPKT_LEN) {
        let Some(packet) = rest.get(..len) else {
            break;
        };
        let mut out = Vec::new();
        let start = tpkt::begin(&mut out);
        out.extend_from_slice(&packet[tpkt::HEADER_LEN..]);
        tpkt::finish(&mut out, start);
        assert_eq!(tpkt::frame_len(&out, tpkt::MAX_TPKT_LEN), Ok(Some(len)));
        assert_eq!(out[0], 3);
        assert_eq!(out[2..], packet[2..]);
        rest = &rest[len..];
    }
}

/// COTP class 0 (X.224): the input as a TPDU, as the offending TPDU an ER echoes, and as a TSDU
/// segmented into DT TPDUs and reassembled.
pub fn cotp(data: &[u8]) {
    if let Ok(tpdu) = Tpdu::decode(data) {
        round_trip!(tpdu, Tpdu::decode);
    }

    let dst_ref = data
        .get(..2)
        .map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
    let cause = data.get(2).copied().unwrap_or(0);
    let mut er = Vec::new();
    Tpdu::encode_error(&mut er, dst_ref, cause, data);
    assert_eq!(Tpdu::decode(&er), Ok(Tpdu::Error { dst_ref, cause }));

    let size_byte = data.first().copied().unwrap_or(0);
    let max_tpdu = TpduSize::from_code(7 + size_byte % 7).map_or(128, TpduSize::bytes);
    assert!(TpduSize::at_most(data.len()).bytes() <= data.len().max(128));
    let mut out = Vec::new();
    cotp::write_tsdu(&mut out, max_tpdu, &mut Vec::new(), |o| {
        o.extend_from_slice(data)
    });
    let mut reassembler = Reassembler::default();
    let mut rest = &out[..];
    let mut tsdu = None;
    while let Ok(Some(len)) = tpkt::frame_len(rest, tpkt::MAX_TPKT_LEN) {
        assert!(tsdu.is_none(), "a DT TPDU after the EOT one");
        assert!(len - tpkt::HEADER_LEN <= max_tpdu);
        let Ok(Tpdu::Data { eot, user_data }) = Tpdu::decode(&rest[tpkt::HEADER_LEN..len]) else {
            panic!("write_tsdu wrote something other than DT TPDUs: {out:02x?}");
        };
        if eot {
            tsdu = Some(reassembler.finish(user_data, data.len()));
        } else {
            assert_eq!(reassembler.push(user_data, data.len()), Ok(()));
        }
        rest = &rest[len..];
    }
    assert!(rest.is_empty());
    assert_eq!(tsdu.as_ref().map(|r| r.as_deref()), Some(Ok(data)));
    if !data.is_empty() {
        let mut r = Reassembler::default();
        assert!(r.finish(data, data.len() - 1).is_err());
        assert!(r.is_empty());
    }
}

/// Session (X.225): the input as an SPDU.
pub fn session(data: &[u8]) {
    let Ok(spdu) = Spdu::decode(data) else {
        return;
    };
    let mut bytes = Vec::new();
    spdu.encode(&mut bytes);
    // X.225 §8.2.5: a parameter area is at most 65 535 octets. Decoding a long one and adding the
    // parameters the encoder always writes may exceed that; the encoder then cannot represent it.
    if bytes.len() > 0xffff {
        return;
    }
    round_trip!(spdu, Spdu::decode);
}

/// Presentation (X.226): the input as each PPDU (CP, CPA, CPR, ARU / ARP) and as the user data of
/// P-DATA, both the general and the single-PDV decoder, which must agree.
pub fn presentation(data: &[u8]) {
    if let Ok(cp) = ConnectPpdu::decode(data) {
        round_trip!(cp, ConnectPpdu::decode);
    }
    match presentation::decode_accept_or_reject(data) {
        Ok(AcceptOrReject::Accept(cpa)) => assert_eq!(AcceptPpdu::decode(data), Ok(cpa)),
        Ok(AcceptOrReject::Reject(cpr)) => assert_eq!(RejectPpdu::decode(data), Ok(cpr)),
        Err(_) => {}
    }
    if let Ok(cpa) = AcceptPpdu::decode(data) {
        round_trip!(cpa, AcceptPpdu::decode);
    }
    if let Ok(cpr) = RejectPpdu::decode(data) {
        round_trip!(cpr, RejectPpdu::decode);
    }
    if let Ok(abort) = AbortPpdu::decode(data) {
        round_trip!(abort, AbortPpdu::decode);
    }

    let all = presentation::decode_user_data(data);
    let single = presentation::decode_single_pdv(data);
    if let Ok(p) = &single {
        assert_eq!(all.as_deref(), Ok(&[*p][..]));
    }
    if let Ok([p]) = all.as_deref() {
        assert_eq!(single, Ok(*p));
    }
    if let Ok(pdvs) = &all {
        let mut bytes = Vec::new();
        presentation::encode_user_data(pdvs, &mut bytes);
        assert_eq!(presentation::decode_user_data(&bytes).as_ref(), Ok(pdvs));
    }
    if let Ok(p) = single {
        let mut bytes = Vec::new();
        presentation::write_user_data(&mut Writer::new(&mut bytes), p.context_id, |w| {
            w.raw(p.data)
        });
        assert_eq!(presentation::decode_single_pdv(&bytes), Ok(p));
    }
}

/// ACSE (X.227): the input as an APDU, and every APDU carried by the input read as a presentation
/// PPDU (the seeds are presentation PPDUs).
pub fn acse(data: &[u8]) {
    apdu(data);
    for pdv in pdvs(data) {
        apdu(pdv.data);
    }
}

fn apdu(data: &[u8]) {
    let Ok(apdu) = Apdu::decode(data) else {
        return;
    };
    let mut expected = apdu.clone();
    if let Apdu::Aare(aare) = &mut expected {
        // The AARE's result-source-diagnostic is mandatory on the wire; `None` encodes as
        // acse-service-user null.
        aare.diagnostic
            .get_or_insert(AssociateDiagnostic::User(acse::user_diagnostic::NULL));
    }
    round_trip!(apdu, Apdu::decode, expected);
}

/// The PDVs of whichever PPDU `data` is.
fn pdvs(data: &[u8]) -> Vec<Pdv<'_>> {
    if let Ok(cp) = ConnectPpdu::decode(data) {
        return cp.user_data;
    }
    match presentation::decode_accept_or_reject(data) {
        Ok(AcceptOrReject::Accept(cpa)) => return cpa.user_data,
        Ok(AcceptOrReject::Reject(cpr)) => return cpr.user_data,
        Err(_) => {}
    }
    if let Ok(AbortPpdu::User { user_data }) = AbortPpdu::decode(data) {
        return user_data;
    }
    presentation::decode_user_data(data).unwrap_or_default()
}

/// Like `round_trip!` for the MMS codecs, which write through a [`Writer`]. Values holding a NaN
/// float are compared by their encoding only, since NaN is not equal to itself.
macro_rules! mms_round_trip {
    ($first:expr, |$b:ident| $decode:expr) => {{
        let first = &$first;
        let mut bytes = Vec::new();
        first.encode(&mut Writer::new(&mut bytes));
        let second = {
            let $b = &bytes[..];
            match $decode {
                Ok(v) => v,
                Err(e) => panic!("re-encoding of {first:?} does not decode: {e:?}\n{bytes:02x?}"),
            }
        };
        if second != *first {
            let text = alloc::format!("{first:?}");
            assert!(
                text.contains("NaN"),
                "decode -> encode -> decode changed the value: {first:?} became {second:?}"
            );
        }
        let mut again = Vec::new();
        second.encode(&mut Writer::new(&mut again));
        assert_eq!(again, bytes, "encoding the decoded value changed the bytes");
    }};
}

/// MMS (ISO 9506-2): the input as an MMS PDU with the default limits and with tight ones, and its
/// first element as `Data` (owned and borrowed), `TypeDescription`, `TypeSpecification` and
/// `ObjectName`.
pub fn mms(data: &[u8]) {
    let limits = DecodeLimits::default();
    let tight = DecodeLimits {
        max_data_depth: data.first().map_or(0, |b| b % 4),
        max_list_len: data.get(1).map_or(0, |b| usize::from(b % 8)),
    };
    let _ = MmsPdu::decode(data, &tight);
    if let Ok(pdu) = MmsPdu::decode(data, &limits) {
        mms_round_trip!(pdu, |b| MmsPdu::decode(b, &limits));
    }

    let Ok(tlv) = Reader::new(data).read() else {
        return;
    };
    if let Ok(d) = Data::decode(&tlv, &limits) {
        mms_round_trip!(d, |b| first_tlv(b).and_then(
            |t| Data::decode(&t, &limits).map_err(|e| alloc::format!("{e:?}"))
        ));
    }
    let _ = Data::decode(&tlv, &tight);
    if let Ok(r) = DataRef::decode(&tlv) {
        let _ = (r.as_f32(), r.as_i64(), r.as_bool(), r.as_bits());
        let _ = r.to_owned(&limits);
        if let Some(members) = r.members() {
            for m in members.take(64) {
                if m.is_err() {
                    break;
                }
            }
        }
    }
    if let Ok(t) = TypeDescription::decode(&tlv, &limits) {
        mms_round_trip!(t, |b| first_tlv(b).and_then(|t| {
            TypeDescription::decode(&t, &limits).map_err(|e| alloc::format!("{e:?}"))
        }));
    }
    let _ = TypeDescription::decode(&tlv, &tight);
    if let Ok(t) = TypeSpecification::decode(&tlv, &limits) {
        mms_round_trip!(t, |b| first_tlv(b).and_then(|t| {
            TypeSpecification::decode(&t, &limits).map_err(|e| alloc::format!("{e:?}"))
        }));
    }
    if let Ok(n) = ObjectName::decode(&tlv) {
        mms_round_trip!(n, |b| first_tlv(b).and_then(
            |t| ObjectName::decode(&t).map_err(|e| alloc::format!("{e:?}"))
        ));
    }
}

/// The first element of `b`, with the error as text so every MMS decoder's error fits.
fn first_tlv(b: &[u8]) -> Result<Tlv<'_>, alloc::string::String> {
    Reader::new(b).read().map_err(|e| alloc::format!("{e:?}"))
}

/// A server [`Association`] fed the input in chunks: the first octet gives the chunk length (0: all
/// at once), the rest is the byte stream from the client. After each chunk every transmit and event
/// is drained; an association indication is accepted and every confirmed request answered with a
/// ConfirmedError, so the whole connect and data phase can be reached.
pub fn association(data: &[u8]) {
    let Some((&chunk, stream)) = data.split_first() else {
        return;
    };
    let chunk = if chunk == 0 {
        stream.len().max(1)
    } else {
        usize::from(chunk)
    };
    let mut now = Instant::ZERO;
    let mut assoc = Association::server(Default::default(), now);
    let mut out = Vec::new();
    for piece in stream.chunks(chunk) {
        assoc.handle_input(now, piece);
        drain(&mut assoc, &mut out);
        if let Some(deadline) = assoc.poll_timeout() {
            // Virtual time advances a little with each chunk, firing only deadlines that passed.
            now = now + core::time::Duration::from_millis(100);
            if now >= deadline {
                assoc.handle_timeout(now);
                drain(&mut assoc, &mut out);
            }
        }
    }
    assoc.handle_transport_closed();
    drain(&mut assoc, &mut out);
    assert!(assoc.poll_event().is_none());
}

fn drain(assoc: &mut Association, out: &mut Vec<u8>) {
    loop {
        out.clear();
        let sent = assoc.poll_transmit(out);
        let mut progressed = sent > 0;
        while let Some(event) = assoc.poll_event() {
            progressed = true;
            match event {
                Event::AssociateIndication(_) => {
                    assoc.accept().expect("accepting an indicated association");
                }
                Event::Request { invoke_id, .. } => {
                    // The association may have closed meanwhile: an error answer is fine then.
                    let _ = assoc.send_error(invoke_id, ErrorClass::VMD_STATE_OTHER.into());
                }
                _ => {}
            }
        }
        if !progressed {
            return;
        }
    }
}

/// TASE.2: the input as a `Data` element decoded as every point type (a decoded value re-encodes
/// to something that decodes to the same value) and as a transfer set value (both editions); as
/// an MMS PDU, a client InformationReport decoded as a transfer set report; and a confirmed request
/// served by a TASE.2 server endpoint (bilateral table, points, transfer sets, devices, information
/// messages) to a connected client.
pub fn tase2(data: &[u8]) {
    use crate::tase2::client::Report;
    use crate::tase2::point::PointType;
    use crate::tase2::DsTransferSetValue;

    let limits = DecodeLimits::default();
    if let Ok(tlv) = Reader::new(data).read() {
        if let Ok(d) = DataRef::decode(&tlv) {
            for t in PointType::all() {
                if let Some(v) = t.decode(&d) {
                    let mut buf = Vec::new();
                    t.encode(&v, &mut Writer::new(&mut buf));
                    let tlv2 = Reader::new(&buf).read().expect("own encoding");
                    let again = t
                        .decode(&DataRef::decode(&tlv2).expect("own encoding"))
                        .expect("own encoding decodes");
                    assert_eq!(t.encode_to_vec(&again), buf, "{}", t.name());
                }
            }
        }
        if let Ok(d) = Data::decode(&tlv, &limits) {
            if let Ok(v) = DsTransferSetValue::from_data(&d) {
                for ed in [
                    crate::tase2::Edition::V1996_08,
                    crate::tase2::Edition::V2000_08,
                ] {
                    let back = DsTransferSetValue::from_data(&v.to_data(ed)).expect("round trip");
                    assert_eq!(back.data_set, v.data_set);
                    assert_eq!(back.interval, v.interval);
                }
            }
            let _ = crate::tase2::transfer_set::parse_object_name(&d);
            let _ = crate::tase2::client::parse_version(&d);
            if let Some(t) = crate::tase2::Tag::from_data(&d) {
                assert_eq!(crate::tase2::Tag::from_data(&t.to_data()), Some(t));
            }
            if let Some(h) = crate::tase2::InfoHeader::from_data(&d) {
                assert_eq!(crate::tase2::InfoHeader::from_data(&h.to_data()), Some(h));
            }
            for k in [
                crate::tase2::DeviceKind::Command,
                crate::tase2::DeviceKind::DiscreteSetpoint,
                crate::tase2::DeviceKind::RealSetpoint,
            ] {
                if let Ok(v) = k.decode(&d) {
                    // Compared encoded: NaN is a valid setpoint and never equals itself.
                    let enc = |v: crate::tase2::ControlValue| {
                        let mut b = Vec::new();
                        v.to_data().encode(&mut Writer::new(&mut b));
                        b
                    };
                    let again = k.decode(&v.to_data()).expect("own encoding decodes");
                    assert_eq!(enc(again), enc(v));
                }
            }
        }
    }
    let Ok(pdu) = MmsPdu::decode(data, &limits) else {
        return;
    };
    match pdu {
        MmsPdu::Unconfirmed(crate::mms::UnconfirmedService::InformationReport(r)) => {
            let members = [ObjectName::vmd("A")];
            let _ = crate::tase2::InfoMessage::decode(&r);
            let _ = Report::decode(&r, |_| Some(&members[..]));
            let _ = Report::decode(&r, |_| None);
            tase2_server_input(|c, now| {
                let _ = c.send_unconfirmed(crate::mms::UnconfirmedService::InformationReport(r));
                let _ = now;
            });
        }
        MmsPdu::ConfirmedRequest { request, .. } => tase2_server_input(|c, now| {
            let _ = c.request(now, request);
        }),
        _ => {}
    }
}

/// A TASE.2 server with one connected client; `f` makes the client send something, then both
/// sides run for a while with updates and timers.
fn tase2_server_input(f: impl FnOnce(&mut crate::client::Client, Instant)) {
    use crate::tase2::bilateral::{BilateralTable, ClientMatch, Rights};
    use crate::tase2::point::{Family, Form, PointType, PointValue};
    use crate::tase2::server::{DeviceSpec, OperatePolicy, Tase2Builder, Tase2Config};
    use crate::tase2::{ControlMode, DeviceKind, InfoHeader, InfoScope};

    type Model = (
        crate::server::Endpoint<crate::tase2::server::Tase2>,
        crate::tase2::server::PointId,
    );
    fn model() -> Result<Model, crate::tase2::server::ModelError> {
        // Short timers, so selects and unanswered operates expire within the run below.
        let mut b = Tase2Builder::new(Tase2Config {
            select_timeout: core::time::Duration::from_secs(1),
            operate: OperatePolicy::AskApplication {
                timeout: core::time::Duration::from_secs(1),
            },
            ..Tase2Config::default()
        });
        b.domain("ICC1", 2)?;
        let p = b.point(
            Some("ICC1"),
            "P1",
            PointType::Indication(Family::Real, Form::QTimeTag),
            PointValue::real(1.0),
        )?;
        b.writable_point(
            Some("ICC1"),
            "W1",
            PointType::Indication(Family::Discrete, Form::Q),
            PointValue::discrete(1),
        )?;
        b.data_set(Some("ICC1"), "DS", &["Transfer_Set_Name", "P1", "W1"])?;
        b.device(
            Some("ICC1"),
            "D1",
            DeviceSpec::new(DeviceKind::Command, ControlMode::Sbo).tagged(),
        )?;
        b.device(
            Some("ICC1"),
            "D2",
            DeviceSpec::new(DeviceKind::RealSetpoint, ControlMode::Direct),
        )?;
        b.info_buffer(Some("ICC1"), 64)?;
        b.info_buffer(None, 64)?;
        b.table(
            BilateralTable::new("T", ClientMatch::ap_title(&[1, 1, 1, 999], 12), "ICC1")
                .grant("D1", Rights::READ_WRITE)
                .grant("D2", Rights::READ_WRITE)
                .admit_info(InfoScope::Icc, 1, None)
                .admit_info(InfoScope::Vcc, 1, None),
        )?;
        Ok((b.build(Default::default())?, p))
    }
    let Ok((mut server, p)) = model() else {
        panic!("fuzz model builds")
    };
    let mut now = Instant::virtual_at(core::time::Duration::ZERO, 1_700_000_000);
    let conn = server.open(now).expect("first association");
    let mut client = crate::client::Client::new(
        crate::assoc::AssociationConfig::with_ap_titles(
            ("1.1.1.999".parse().expect("oid"), 12),
            ("1.1.1.998".parse().expect("oid"), 12),
        ),
        now,
    );
    let pump = |server: &mut crate::server::Endpoint<crate::tase2::server::Tase2>,
                client: &mut crate::client::Client,
                now: Instant| {
        for _ in 0..64 {
            let mut buf = Vec::new();
            let a = client.poll_transmit(&mut buf);
            server.handle_input(now, conn, &buf);
            let mut back = Vec::new();
            let b = server.poll_transmit(conn, &mut back);
            client.handle_input(now, &back);
            while client.poll_event().is_some() {}
            let mut answered = false;
            while let Some(e) = server.poll_event() {
                // Accept every other operate, refuse the rest, leave some to time out.
                if let crate::server::ServerEvent::Extension(
                    crate::tase2::server::Tase2Event::OperateRequested { op, .. },
                ) = e
                {
                    if op.0 % 3 != 0 {
                        let r = if op.0 % 3 == 1 {
                            Ok(())
                        } else {
                            Err(crate::mms::DataAccessError::HARDWARE_FAULT)
                        };
                        server.answer_operate(op, r).expect("a pending operate");
                        answered = true;
                    }
                }
            }
            if a == 0 && b == 0 && !answered {
                return;
            }
        }
    };
    pump(&mut server, &mut client, now);
    f(&mut client, now);
    pump(&mut server, &mut client, now);
    for i in 0..4 {
        now = now + core::time::Duration::from_millis(700);
        server.update(now, p, PointValue::real(i as f32));
        let h = InfoHeader {
            info_reference: 1,
            ..InfoHeader::default()
        };
        let _ = server.send_info_message(Some("ICC1"), h, b"fuzz");
        server.handle_timeout(now);
        pump(&mut server, &mut client, now);
    }
}

/// The TASE.2 client session under hostile server input: an established [`Session`] with
/// operations in flight (discovery, a transfer set start, a select) talks to a scripted server
/// association. The input, cut into MMS PDUs at each length prefix it starts with, is sent by
/// that server: responses answer the oldest outstanding request whatever it was, unconfirmed PDUs
/// (reports) arrive unsolicited; what does not decode goes to the session as raw TPKT bytes. No
/// input may panic the session, and every operation must finish (`Done`) once the association
/// closes.
///
/// [`Session`]: crate::tase2::client::Session
pub fn tase2_client(data: &[u8]) {
    use crate::assoc::{Association, AssociationConfig, Event};
    use crate::mms::ObjectName;
    use crate::tase2::client::{Command, Session, SessionConfig, SessionEvent};
    use crate::tase2::{DsConditions, DsTransferSetValue};

    let limits = DecodeLimits::default();
    let mut now = Instant::virtual_at(core::time::Duration::ZERO, 1_700_000_000);
    let mut server = Association::server(AssociationConfig::default(), now);
    let mut session = Session::new(AssociationConfig::default(), SessionConfig::default(), now);
    let mut pending: alloc::collections::VecDeque<u32> = alloc::collections::VecDeque::new();
    let mut ops = Vec::new();
    let mut done = 0usize;
    let pump = |server: &mut Association,
                session: &mut Session,
                pending: &mut alloc::collections::VecDeque<u32>,
                done: &mut usize,
                now: Instant| {
        for _ in 0..256 {
            let mut buf = Vec::new();
            let a = session.poll_transmit(&mut buf);
            server.handle_input(now, &buf);
            while let Some(e) = server.poll_event() {
                match e {
                    Event::AssociateIndication(_) => {
                        let _ = server.accept();
                    }
                    Event::Request { invoke_id, .. } => pending.push_back(invoke_id),
                    _ => {}
                }
            }
            buf.clear();
            let b = server.poll_transmit(&mut buf);
            session.handle_input(now, &buf);
            while let Some(e) = session.poll_event() {
                if matches!(e, SessionEvent::Done { .. }) {
                    *done += 1;
                }
            }
            if a == 0 && b == 0 {
                return;
            }
        }
    };
    pump(&mut server, &mut session, &mut pending, &mut done, now);
    let icc = |i: &str| ObjectName::domain("ICC1", i);
    ops.push(session.command(now, Command::Discover));
    ops.push(session.command(
        now,
        Command::StartTransferSet {
            transfer_set: icc("TS1"),
            value: DsTransferSetValue {
                data_set: icc("DS1"),
                conditions: DsConditions::OBJECT_CHANGE,
                critical: true,
                ..DsTransferSetValue::default()
            },
        },
    ));
    ops.push(session.command(
        now,
        Command::SelectOperate {
            device: icc("D1"),
            value: crate::tase2::ControlValue::Real(1.0),
        },
    ));
    pump(&mut server, &mut session, &mut pending, &mut done, now);
    let mut rest = data;
    while let Some((&len, tail)) = rest.split_first() {
        let n = usize::from(len).min(tail.len());
        let (pdu, next) = tail.split_at(n);
        rest = next;
        match MmsPdu::decode(pdu, &limits) {
            Ok(MmsPdu::ConfirmedResponse { response, .. }) => {
                if let Some(id) = pending.pop_front() {
                    let _ = server.send_response(id, response);
                }
            }
            Ok(MmsPdu::ConfirmedError { error, .. }) => {
                if let Some(id) = pending.pop_front() {
                    let _ = server.send_error(id, error);
                }
            }
            Ok(MmsPdu::Unconfirmed(u)) => {
                let _ = server.send_unconfirmed(u);
            }
            _ => session.handle_input(now, pdu),
        }
        now = now + core::time::Duration::from_millis(300);
        session.handle_timeout(now);
        server.handle_timeout(now);
        pump(&mut server, &mut session, &mut pending, &mut done, now);
    }
    session.handle_transport_closed(now);
    while let Some(e) = session.poll_event() {
        if matches!(e, SessionEvent::Done { .. }) {
            done += 1;
        }
    }
    assert!(
        done >= ops.len(),
        "every operation finishes once the association is gone"
    );
}

/// The reconnect and failover policy under any ordering of what its driver and its servers do:
/// each input octet is one step (the requested transport opens or fails, a probe answers, the
/// transport drops, time passes, the server answers the oldest request with an error, the
/// application issues a setup command, the link is concluded or aborted), with a scripted server
/// association behind every transport. No sequence may panic the link; at the end it is aborted,
/// and then every command issued must have finished.
pub fn failover(data: &[u8]) {
    use crate::assoc::AssociationConfig;
    use crate::tase2::client::{
        Command, EndpointSpec, Failover, FailoverAction, FailoverConfig, FailoverEvent,
        SessionEvent,
    };
    use crate::tase2::{DsConditions, DsTransferSetValue};
    use core::time::Duration;

    let mut now = Instant::virtual_at(Duration::ZERO, 1_700_000_000);
    let mut config = FailoverConfig::new(alloc::vec![
        EndpointSpec::new("a", AssociationConfig::default()),
        EndpointSpec::new("b", AssociationConfig::default()),
    ]);
    config.fail_back = Some(Duration::from_secs(1));
    config.max_queued = 4;
    config.max_remembered = 3;
    let mut fo = Failover::new(config, now);
    let mut server: Option<Association> = None;
    let mut asked: Option<usize> = None;
    let mut pending: alloc::collections::VecDeque<u32> = alloc::collections::VecDeque::new();
    let (mut issued, mut done) = (0usize, 0usize);
    let icc = |i: &str| ObjectName::domain("ICC1", i);
    let step = |fo: &mut Failover,
                server: &mut Option<Association>,
                asked: &mut Option<usize>,
                pending: &mut alloc::collections::VecDeque<u32>,
                done: &mut usize,
                now: Instant| {
        for _ in 0..256 {
            let mut moved = false;
            while let Some(a) = fo.poll_action() {
                moved = true;
                match a {
                    FailoverAction::Connect { endpoint } => *asked = Some(endpoint),
                    FailoverAction::Disconnect => {
                        *server = None;
                        pending.clear();
                    }
                    FailoverAction::Probe { .. } => {}
                }
            }
            let mut buf = Vec::new();
            if fo.poll_transmit(&mut buf) > 0 {
                moved = true;
                if let Some(s) = server.as_mut() {
                    s.handle_input(now, &buf);
                }
            }
            if let Some(s) = server.as_mut() {
                while let Some(e) = s.poll_event() {
                    match e {
                        Event::AssociateIndication(_) => {
                            let _ = s.accept();
                        }
                        Event::Request { invoke_id, .. } => pending.push_back(invoke_id),
                        _ => {}
                    }
                }
                buf.clear();
                if s.poll_transmit(&mut buf) > 0 {
                    moved = true;
                    fo.handle_input(now, &buf);
                }
            }
            while let Some(e) = fo.poll_event() {
                moved = true;
                if matches!(e, FailoverEvent::Session(SessionEvent::Done { .. })) {
                    *done += 1;
                }
            }
            if !moved {
                return;
            }
        }
    };
    for &b in data {
        let arg = b >> 3;
        match b & 7 {
            0 => {
                if let Some(e) = asked.take() {
                    server = Some(Association::server(AssociationConfig::default(), now));
                    pending.clear();
                    fo.handle_connected(now, e);
                }
            }
            1 => {
                let e = asked.take().unwrap_or(usize::from(arg) % 3);
                fo.handle_connect_failed(now, e);
            }
            2 => fo.handle_probe(now, usize::from(arg) % 2, arg & 1 == 1),
            3 => {
                server = None;
                pending.clear();
                fo.handle_transport_closed(now);
            }
            4 => {
                now = now + Duration::from_millis(50 * u64::from(arg) + 1);
                if let Some(s) = server.as_mut() {
                    s.handle_timeout(now);
                }
                fo.handle_timeout(now);
            }
            5 => {
                if let (Some(s), Some(id)) = (server.as_mut(), pending.pop_front()) {
                    let _ = s.send_error(id, ErrorClass::ACCESS_OBJECT_NON_EXISTENT.into());
                }
            }
            6 => {
                issued += 1;
                let value = DsTransferSetValue {
                    data_set: icc("DS1"),
                    conditions: DsConditions::OBJECT_CHANGE,
                    ..DsTransferSetValue::default()
                };
                let c = match arg % 6 {
                    0 => Command::DefineDataSet {
                        name: icc("DS1"),
                        members: alloc::vec![icc("P1")],
                    },
                    1 => Command::ReserveAndStart {
                        domain: "ICC1".into(),
                        value,
                    },
                    2 => Command::StartTransferSet {
                        transfer_set: icc("TS1"),
                        value,
                    },
                    3 => Command::StopTransferSet {
                        transfer_set: icc("TS1"),
                    },
                    4 => Command::InfoMessages { enable: true },
                    _ => Command::DeleteDataSet { name: icc("DS1") },
                };
                fo.command(now, c);
            }
            _ if arg == 0 => fo.conclude(now),
            _ if arg == 1 => fo.abort(now),
            _ => {}
        }
        step(
            &mut fo,
            &mut server,
            &mut asked,
            &mut pending,
            &mut done,
            now,
        );
    }
    fo.abort(now);
    step(
        &mut fo,
        &mut server,
        &mut asked,
        &mut pending,
        &mut done,
        now,
    );
    assert!(fo.is_closed(), "an aborted link is closed");
    assert_eq!(
        done, issued,
        "every command finishes once the link is aborted"
    );
}

/// The session log reader and replay under hostile files: any octets are read as a log (every
/// entry until the first error, which must be a [`RecordError`](crate::record::RecordError),
/// never a panic or an unbounded allocation), and a readable client-session log is replayed
/// (bounded by its entries).
pub fn record(data: &[u8]) {
    use crate::record::{replay_session, Reader, Role};
    let Ok(reader) = Reader::with_max_frame(data, 1 << 20) else {
        return;
    };
    let role = reader.header().role;
    // Each frame takes at least its 8-octet prefix, so this ends within data.len() / 8 steps.
    let entries = reader.take_while(Result::is_ok).count();
    assert!(entries <= data.len() / 8);
    match role {
        Role::Client => drop(replay_session(data)),
        Role::Failover => drop(crate::record::replay_failover(data)),
        Role::Server => {}
    }
}
