//! TypeDescription tests: libiec61850 bytes, conformance, defaults, round trips.

use alloc::vec;
use proptest::prelude::*;

use super::*;
use crate::ber::Reader;
use crate::mms::testutil::{self, enc, hex};

fn decode(b: &[u8]) -> Result<TypeSpecification, DataError> {
    let tlv = Reader::new(b).read()?;
    TypeSpecification::decode(&tlv, &DecodeLimits::default())
}

fn mv() -> TypeDescription {
    // libiec61850's CDC MV AnIn1: { mag { f FLOAT32 }, q BIT STRING(-13), t UtcTime }.
    let comp = |n: &str, t: TypeDescription| StructComponent {
        name: Some(n.into()),
        type_spec: TypeSpecification::Description(t),
    };
    TypeDescription::Structure {
        packed: false,
        components: vec![
            comp(
                "mag",
                TypeDescription::Structure {
                    packed: false,
                    components: vec![comp(
                        "f",
                        TypeDescription::FloatingPoint {
                            format_width: 32,
                            exponent_width: 8,
                        },
                    )],
                },
            ),
            comp("q", TypeDescription::BitString(-13)),
            comp("t", TypeDescription::UtcTime),
        ],
    }
}

#[test]
fn libiec61850_type_description_decodes_and_re_encodes() {
    let b = hex("a231a12f301a80036d6167a113a211a10f300d800166a108a7060201200201083008800171a1038401f33007800174a1029100");
    assert_eq!(decode(&b).unwrap(), TypeSpecification::Description(mv()));
    assert_eq!(enc(|w| mv().encode(w)), b);
}

#[test]
fn simple_types_have_the_expected_bytes() {
    let cases = [
        (TypeDescription::Boolean, "8300"),
        (TypeDescription::Integer(32), "850120"),
        (TypeDescription::Unsigned(16), "860110"),
        (TypeDescription::VisibleString(32), "8a0120"),
        (TypeDescription::OctetString(-255), "8902ff01"),
        (TypeDescription::BinaryTime(true), "8c01ff"),
        (TypeDescription::MmsString(-64), "9001c0"),
        (
            TypeDescription::Array {
                packed: false,
                number_of_elements: 3,
                element_type: Box::new(TypeSpecification::Description(TypeDescription::Boolean)),
            },
            "a1078101 03a2028300",
        ),
    ];
    for (t, h) in cases {
        let b = hex(h);
        assert_eq!(enc(|w| t.encode(w)), b, "{t:?}");
        assert_eq!(decode(&b).unwrap(), TypeSpecification::Description(t));
    }
    let named = TypeSpecification::TypeName(ObjectName::vmd("T"));
    let b = enc(|w| named.encode(w));
    assert_eq!(b, hex("a0038001 54"));
    assert_eq!(decode(&b).unwrap(), named);
}

#[test]
fn matches_checks_kind_shape_and_bounds() {
    let t = mv();
    let good = t.default_value();
    assert!(t.matches(&good));
    assert!(!t.matches(&Data::Structure(vec![])));
    assert!(!TypeDescription::Integer(8).matches(&Data::Integer(128)));
    assert!(TypeDescription::Integer(8).matches(&Data::Integer(-128)));
    assert!(TypeDescription::Integer(32).matches(&Data::Integer(i64::from(i32::MAX))));
    assert!(!TypeDescription::Integer(32).matches(&Data::Unsigned(1)));
    assert!(!TypeDescription::Unsigned(16).matches(&Data::Unsigned(65536)));
    assert!(TypeDescription::BitString(8).matches(&Data::BitString(BitString::with_len(8))));
    assert!(!TypeDescription::BitString(8).matches(&Data::BitString(BitString::with_len(7))));
    assert!(TypeDescription::BitString(-8).matches(&Data::BitString(BitString::with_len(7))));
    assert!(TypeDescription::VisibleString(4).matches(&Data::VisibleString("abcd".into())));
    assert!(!TypeDescription::VisibleString(4).matches(&Data::VisibleString("abcde".into())));
    assert!(!TypeDescription::FloatingPoint {
        format_width: 64,
        exponent_width: 11
    }
    .matches(&Data::Float(Float::F32(0.0))));
    assert!(
        !TypeDescription::BinaryTime(true).matches(&Data::BinaryTime(BinaryTime {
            millis_since_midnight: 0,
            days_since_1984: None
        }))
    );
    assert!(TypeDescription::Bcd(2).matches(&Data::Bcd(99)));
    assert!(!TypeDescription::Bcd(2).matches(&Data::Bcd(100)));
    assert!(TypeSpecification::TypeName(ObjectName::vmd("x")).matches(&Data::Boolean(true)));
}

#[test]
fn hostile_type_descriptions_are_errors() {
    let mut b = hex("8300");
    for _ in 0..40 {
        let mut n = hex("a1008101 01a200");
        // array { numberOfElements 1, elementType [2] { <b> } }
        let inner_len = b.len();
        n[1] = (3 + 2 + inner_len) as u8;
        n[6] = inner_len as u8;
        n.truncate(7);
        n.extend_from_slice(&b);
        b = n;
        if b.len() > 120 {
            break;
        }
    }
    assert_eq!(decode(&b), Err(DataError::TooDeep));
    assert!(decode(&hex("a700")).is_err());
    assert!(decode(&hex("8801 00")).is_err());
    assert!(decode(&hex("830101")).is_err());
    assert!(decode(&hex("a2 03 a1 01 05")).is_err());
}

proptest! {
    #[test]
    fn type_descriptions_round_trip(t in testutil::type_description()) {
        let b = enc(|w| t.encode(w));
        prop_assert_eq!(decode(&b).unwrap(), TypeSpecification::Description(t));
    }

    #[test]
    fn default_values_conform(t in testutil::type_description()) {
        // Keep arrays small enough to build; only IEEE widths have a Data representation.
        fn small(t: &TypeDescription) -> bool {
            match t {
                TypeDescription::Array { number_of_elements, element_type, .. } => {
                    *number_of_elements <= 8 && match &**element_type {
                        TypeSpecification::Description(d) => small(d),
                        TypeSpecification::TypeName(_) => true,
                    }
                }
                TypeDescription::Structure { components, .. } => components.iter().all(|c| match &c.type_spec {
                    TypeSpecification::Description(d) => small(d),
                    TypeSpecification::TypeName(_) => true,
                }),
                TypeDescription::FloatingPoint { exponent_width, .. } => matches!(exponent_width, 8 | 11),
                _ => true,
            }
        }
        prop_assume!(small(&t));
        prop_assert!(t.matches(&t.default_value()), "{:?}", t);
    }
}
