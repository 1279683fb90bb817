//! `Data` / `DataRef` tests: exact bytes per alternative, limits, hostile input, round trips.

use alloc::vec;
use alloc::vec::Vec;
use proptest::prelude::*;

use super::*;
use crate::ber::Reader;
use crate::mms::testutil::{self, enc, hex};

fn decode(b: &[u8]) -> Result<Data, DataError> {
    let tlv = Reader::new(b).read()?;
    Data::decode(&tlv, &DecodeLimits::default())
}

#[test]
fn each_alternative_has_the_expected_bytes() {
    let oid = ObjectIdentifier::from_arcs(&[1, 0, 9506, 2, 1]).unwrap();
    let cases: Vec<(Data, &str)> = vec![
        (Data::Boolean(true), "8301ff"),
        (Data::Boolean(false), "830100"),
        (
            Data::BitString(BitString::from_octets(&[0b1010_0000], 3)),
            "840205a0",
        ),
        (Data::BitString(BitString::with_len(13)), "8403030000"),
        (Data::Integer(-1), "8501ff"),
        (Data::Integer(1_700_000_000), "85046553f100"),
        (Data::Unsigned(0x80), "86020080"),
        (Data::Float(Float::F32(1.5)), "8705083fc00000"),
        (Data::Float(Float::F64(1.5)), "87090b3ff8000000000000"),
        (Data::OctetString(vec![1, 2]), "89020102"),
        (Data::VisibleString("hello".into()), "8a0568656c6c6f"),
        (
            Data::GeneralizedTime("20240101000000Z".into()),
            "8b0f32303234303130313030303030305a",
        ),
        (
            Data::BinaryTime(BinaryTime {
                millis_since_midnight: 1000,
                days_since_1984: None,
            }),
            "8c04000003e8",
        ),
        (
            Data::BinaryTime(BinaryTime {
                millis_since_midnight: 1000,
                days_since_1984: Some(2),
            }),
            "8c06000003e80002",
        ),
        (Data::Bcd(42), "8d012a"),
        (
            Data::BooleanArray(BitString::from_octets(&[0x80], 1)),
            "8e020780",
        ),
        (Data::ObjectId(oid), "8f0528ca220201"),
        (Data::MmsString("é".into()), "9002c3a9"),
        (
            Data::UtcTime(UtcTime {
                seconds: 1,
                fraction: 0x800000,
                quality: 0x0a,
            }),
            "9108000000018000000a",
        ),
        (
            Data::Structure(vec![Data::Boolean(true), Data::Array(vec![])]),
            "a2058301ffa100",
        ),
    ];
    for (d, h) in cases {
        let b = hex(h);
        assert_eq!(enc(|w| d.encode(w)), b, "{d:?}");
        assert_eq!(decode(&b).unwrap(), d, "{h}");
    }
}

#[test]
fn libiec61850_mv_structure_decodes() {
    // GGIO1$MX$AnIn1 read result: { mag { f 0.0 }, q BIT STRING(13), t UtcTime }.
    let b = hex("a218a20787050800000000840303000091080000000000000000");
    let d = decode(&b).unwrap();
    let Data::Structure(m) = &d else { panic!() };
    assert_eq!(m[0], Data::Structure(vec![Data::Float(Float::F32(0.0))]));
    assert_eq!(m[1], Data::BitString(BitString::with_len(13)));
    assert!(matches!(m[2], Data::UtcTime(_)));
    assert_eq!(enc(|w| d.encode(w)), b);
}

#[test]
fn data_ref_reads_a_structure_without_allocating_members() {
    let b = enc(|w| {
        write::structure(w, |w| {
            write::float32(w, 2.5);
            write::integer(w, -7);
            write::bit_string(w, &[0x40], 8);
        })
    });
    let tlv = Reader::new(&b).read().unwrap();
    let d = DataRef::decode(&tlv).unwrap();
    let mut m = d.members().unwrap();
    assert_eq!(m.next().unwrap().unwrap().as_f32(), Some(2.5));
    assert_eq!(m.next().unwrap().unwrap().as_i64(), Some(-7));
    assert_eq!(
        m.next().unwrap().unwrap().as_bits(),
        Some((&[0x40u8][..], 8))
    );
    assert!(m.next().is_none());
    assert_eq!(
        d.to_owned(&DecodeLimits::default()).unwrap(),
        Data::Structure(vec![
            Data::Float(Float::F32(2.5)),
            Data::Integer(-7),
            Data::BitString(BitString::from_octets(&[0x40], 8)),
        ])
    );
}

#[test]
fn float_with_unsupported_width_is_refused() {
    assert_eq!(decode(&hex("8705093fc00000")), Err(DataError::InvalidFloat));
    assert_eq!(decode(&hex("8704083fc000")), Err(DataError::InvalidFloat));
    assert_eq!(decode(&hex("8700")), Err(DataError::InvalidFloat));
}

#[test]
fn bad_values_are_errors() {
    assert_eq!(decode(&hex("8c03000000")), Err(DataError::InvalidTime));
    assert_eq!(
        decode(&hex("910700000000000000")),
        Err(DataError::InvalidTime)
    );
    assert_eq!(decode(&hex("8a01ff")), Err(DataError::InvalidString));
    assert_eq!(
        decode(&hex("8800")),
        Err(DataError::UnknownTag(crate::ber::Tag::context(8)))
    );
    assert!(matches!(
        decode(&hex("8000")),
        Err(DataError::UnknownTag(_))
    ));
    assert!(matches!(
        decode(&hex("0201ff")),
        Err(DataError::UnknownTag(_))
    ));
    // primitive structure, constructed boolean
    assert!(decode(&hex("8200")).is_err());
    assert!(decode(&hex("a303010100")).is_err());
    assert!(decode(&hex("8f0180")).is_err());
    assert!(decode(&hex("840108")).is_err());
}

#[test]
fn unsigned_without_leading_zero_is_read_as_a_magnitude() {
    assert_eq!(
        decode(&hex("8604ffffffff")).unwrap(),
        Data::Unsigned(0xffff_ffff)
    );
}

#[test]
fn depth_and_length_limits_apply() {
    let mut d = Data::Integer(1);
    for _ in 0..3 {
        d = Data::Array(vec![d]);
    }
    let b = enc(|w| d.encode(w));
    let tlv = Reader::new(&b).read().unwrap();
    let tight = DecodeLimits {
        max_data_depth: 2,
        ..DecodeLimits::default()
    };
    assert_eq!(Data::decode(&tlv, &tight), Err(DataError::TooDeep));
    let ok = DecodeLimits {
        max_data_depth: 3,
        ..DecodeLimits::default()
    };
    assert_eq!(Data::decode(&tlv, &ok).unwrap(), d);

    let wide = Data::Structure(vec![Data::Boolean(false); 5]);
    let b = enc(|w| wide.encode(w));
    let tlv = Reader::new(&b).read().unwrap();
    let narrow = DecodeLimits {
        max_list_len: 4,
        ..DecodeLimits::default()
    };
    assert_eq!(Data::decode(&tlv, &narrow), Err(DataError::TooManyElements));
}

#[test]
fn bit_string_helpers() {
    let mut b = BitString::with_len(5);
    assert_eq!(b.octets, vec![0]);
    b.set(0, true);
    b.set(4, true);
    assert_eq!(b.octets, vec![0b1000_1000]);
    assert!(b.get(0) && !b.get(1) && b.get(4) && !b.get(5) && !b.get(100));
    b.set(9, true);
    assert_eq!(
        (b.bits, b.octets.clone()),
        (10, vec![0b1000_1000, 0b0100_0000])
    );
    b.set(0, false);
    assert!(!b.get(0));
    // Encoding pads or trims octets to the bit count.
    let odd = BitString {
        octets: vec![0xff, 0xff],
        bits: 4,
    };
    assert_eq!(enc(|w| Data::BitString(odd).encode(w)), hex("840204ff"));
    let short = BitString {
        octets: vec![],
        bits: 9,
    };
    assert_eq!(enc(|w| Data::BitString(short).encode(w)), hex("8403070000"));
}

proptest! {
    #[test]
    fn data_round_trips(d in testutil::data()) {
        let b = enc(|w| d.encode(w));
        prop_assert_eq!(decode(&b).unwrap(), d);
    }

    #[test]
    fn members_are_written_as_each_alone(d in prop::collection::vec(testutil::data(), 0..8)) {
        let edges = [
            Data::Unsigned(0x7fff_ffff),
            Data::Unsigned(0x8000_0000),
            Data::Integer(i64::MIN),
            Data::Integer(-129),
            Data::Boolean(true),
            Data::Boolean(false),
        ];
        let mut members = d;
        members.extend(edges);
        prop_assert_eq!(
            enc(|w| encode_members(w, &members)),
            enc(|w| encode_each(w, &members))
        );
    }

    #[test]
    fn data_ref_agrees_with_owned_decode(d in testutil::data()) {
        let b = enc(|w| d.encode(w));
        let tlv = Reader::new(&b).read().unwrap();
        let r = DataRef::decode(&tlv).unwrap();
        prop_assert_eq!(r.to_owned(&DecodeLimits::default()).unwrap(), d);
    }

    #[test]
    fn truncated_data_is_an_error(d in testutil::data(), cut in any::<usize>()) {
        let b = enc(|w| d.encode(w));
        let cut = cut % b.len();
        prop_assert!(decode(&b[..cut]).is_err());
    }

    #[test]
    fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..48)) {
        let _ = decode(&b);
        if let Ok(t) = Reader::new(&b).read() {
            if let Ok(r) = DataRef::decode(&t) {
                if let Some(m) = r.members() {
                    m.for_each(drop);
                }
            }
        }
    }
}
