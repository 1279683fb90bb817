use alloc::vec::Vec;

use super::*;

#[test]
fn reads_definite_indefinite_and_non_minimal_lengths_alike() {
    // SEQUENCE { INTEGER 5, [0] cons { BOOLEAN true } } in three length styles.
    let definite = [0x30, 0x08, 0x02, 0x01, 0x05, 0xa0, 0x03, 0x01, 0x01, 0xff];
    let indefinite = [
        0x30, 0x80, 0x02, 0x01, 0x05, 0xa0, 0x80, 0x01, 0x01, 0xff, 0, 0, 0, 0,
    ];
    let non_minimal = [
        0x30, 0x82, 0x00, 0x09, 0x02, 0x81, 0x01, 0x05, 0xa0, 0x03, 0x01, 0x01, 0xff,
    ];
    for input in [&definite[..], &indefinite[..], &non_minimal[..]] {
        let mut r = Reader::new(input);
        let seq = r.expect(Tag::SEQUENCE).unwrap();
        r.finish().unwrap();
        let mut inner = seq.reader().unwrap();
        let i = inner.expect(Tag::INTEGER).unwrap();
        assert_eq!(primitive::decode_i64(i.content).unwrap(), 5);
        let ctx = inner.expect(Tag::context_cons(0)).unwrap();
        let b = ctx.reader().unwrap().expect(Tag::BOOLEAN).unwrap();
        assert!(primitive::decode_bool(b.content).unwrap());
        inner.finish().unwrap();
    }
}

#[test]
fn an_over_long_length_is_an_error_at_every_level_including_the_outermost() {
    assert_eq!(
        Reader::new(&[0x30, 0x05, 0x02, 0x01, 0x05]).read(),
        Err(Error::LengthOverflow)
    );
    let inner_too_long = [0x30, 0x03, 0x02, 0x05, 0x05];
    let seq = Reader::new(&inner_too_long).read().unwrap();
    assert_eq!(seq.reader().unwrap().read(), Err(Error::LengthOverflow));
    assert_eq!(
        Reader::new(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).read(),
        Err(Error::LengthOverflow)
    );
}

#[test]
fn truncated_and_malformed_headers_are_errors() {
    assert_eq!(Reader::new(&[0x30]).read(), Err(Error::UnexpectedEnd));
    assert_eq!(Reader::new(&[0x1f]).read(), Err(Error::UnexpectedEnd));
    assert_eq!(
        Reader::new(&[0x1f, 0x80, 0x01, 0x00]).read(),
        Err(Error::InvalidTag)
    );
    assert_eq!(Reader::new(&[0x30, 0xff]).read(), Err(Error::InvalidLength));
    assert_eq!(
        Reader::new(&[0x02, 0x80, 0, 0]).read(),
        Err(Error::InvalidLength)
    );
    assert_eq!(
        Reader::new(&[0x30, 0x80, 0x02, 0x01, 0x05]).read(),
        Err(Error::UnexpectedEnd)
    );
    assert_eq!(
        Reader::new(&[0x30, 0x80, 0x02, 0x01]).read(),
        Err(Error::LengthOverflow)
    );
}

#[test]
fn multi_byte_tag_numbers_round_trip() {
    for number in [0u32, 30, 31, 127, 128, 16383, 16384, u32::MAX] {
        for class in [
            Class::Universal,
            Class::Application,
            Class::Context,
            Class::Private,
        ] {
            let tag = Tag {
                class,
                constructed: false,
                number,
            };
            let mut buf = Vec::new();
            Writer::new(&mut buf).primitive(tag, &[1, 2]);
            let tlv = Reader::new(&buf).read().unwrap();
            assert_eq!(tlv.tag, tag);
            assert_eq!(tlv.content, &[1, 2]);
        }
    }
}

#[test]
fn nesting_past_the_limit_is_refused() {
    // 10 nested SEQUENCEs around NULL.
    let mut buf = Vec::new();
    fn nest(w: &mut Writer<'_>, n: usize) {
        if n == 0 {
            w.null(Tag::NULL);
        } else {
            w.constructed(Tag::SEQUENCE, |w| nest(w, n - 1));
        }
    }
    nest(&mut Writer::new(&mut buf), 10);
    fn walk(t: Tlv<'_>) -> Result<usize, Error> {
        if !t.tag.constructed {
            return Ok(0);
        }
        Ok(1 + walk(t.reader()?.read()?)?)
    }
    assert_eq!(
        walk(Reader::with_max_depth(&buf, 10).read().unwrap()),
        Ok(10)
    );
    assert_eq!(
        walk(Reader::with_max_depth(&buf, 9).read().unwrap()),
        Err(Error::TooDeep)
    );
    // Indefinite lengths are bounded too, while being measured.
    let mut deep = Vec::new();
    deep.extend(core::iter::repeat_n([0x30u8, 0x80], 100).flatten());
    deep.extend(core::iter::repeat_n(0u8, 200));
    assert_eq!(Reader::new(&deep).read(), Err(Error::TooDeep));
}

#[test]
fn an_embedded_encoding_is_read_one_level_deeper_than_its_octet_string() {
    // OCTET STRING { SEQUENCE (indefinite) { NULL } } read with a limit of 2: the OCTET STRING is at
    // depth 0, the embedded SEQUENCE at 1 and what it holds at 2.
    let b = [0x04, 0x06, 0x30, 0x80, 0x05, 0x00, 0x00, 0x00];
    let os = Reader::with_max_depth(&b, 2).read().unwrap();
    let seq = os.embedded().unwrap().read().unwrap();
    assert_eq!(seq.tag, Tag::SEQUENCE);
    assert_eq!(seq.reader().unwrap().read().unwrap().tag, Tag::NULL);
    let os = Reader::with_max_depth(&b, 1).read().unwrap();
    assert_eq!(os.embedded().unwrap().read(), Err(Error::TooDeep));
    let os = Reader::with_max_depth(&b, 0).read().unwrap();
    assert_eq!(os.embedded().err(), Some(Error::TooDeep));
    let cons = Reader::new(&[0x30, 0x00]).read().unwrap();
    assert_eq!(cons.embedded().err(), Some(Error::Constructed));
}

#[test]
fn writer_emits_minimal_lengths_for_every_size() {
    for len in [0usize, 1, 127, 128, 255, 256, 65535, 65536, 70000] {
        let content = alloc::vec![0xabu8; len];
        let mut buf = Vec::new();
        Writer::new(&mut buf).constructed(Tag::SEQUENCE, |w| w.raw(&content));
        let header = buf.len() - len;
        let expected_header = match len {
            0..=127 => 2,
            128..=255 => 3,
            256..=65535 => 4,
            _ => 5,
        };
        assert_eq!(header, expected_header, "len {len}");
        let tlv = Reader::new(&buf).read().unwrap();
        assert_eq!(tlv.content.len(), len);
    }
}

#[test]
fn object_identifiers_parse_print_and_encode() {
    let mms: ObjectIdentifier = "1.0.9506.2.1".parse().unwrap();
    assert_eq!(mms.as_bytes(), &[0x28, 0xca, 0x22, 0x02, 0x01]);
    assert_eq!(alloc::format!("{mms}"), "1.0.9506.2.1");
    let ap: ObjectIdentifier = "1.1.1.999".parse().unwrap();
    assert_eq!(ap.as_bytes(), &[0x29, 0x01, 0x87, 0x67]);
    assert_eq!(
        ObjectIdentifier::from_content(&[0x29, 0x01, 0x87, 0x67]).unwrap(),
        ap
    );
    assert!(ObjectIdentifier::from_content(&[0x29, 0x80, 0x01]).is_err());
    assert!(ObjectIdentifier::from_content(&[0x29, 0x81]).is_err());
    assert!("1".parse::<ObjectIdentifier>().is_err());
    assert!("3.1".parse::<ObjectIdentifier>().is_err());
    assert_eq!(
        alloc::format!("{}", "2.999.3".parse::<ObjectIdentifier>().unwrap()),
        "2.999.3"
    );
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn arbitrary_input_never_panics(data in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut r = Reader::new(&data);
            while let Ok(Some(t)) = r.read_opt() {
                if let Ok(mut inner) = t.reader() { let _ = inner.read(); }
            }
        }

        #[test]
        fn integers_round_trip(v in any::<i64>()) {
            let mut buf = Vec::new();
            Writer::new(&mut buf).integer(Tag::INTEGER, v);
            let t = Reader::new(&buf).read().unwrap();
            prop_assert_eq!(primitive::decode_i64(t.content).unwrap(), v);
        }

        #[test]
        fn oids_round_trip(arcs in proptest::collection::vec(any::<u32>(), 0..10), a in 0u32..2, b in 0u32..40) {
            let mut all = alloc::vec![a, b];
            all.extend(arcs);
            let oid = ObjectIdentifier::from_arcs(&all).unwrap();
            let back: Vec<u64> = ObjectIdentifier::from_content(oid.as_bytes()).unwrap().arcs().collect();
            prop_assert_eq!(back, all.iter().map(|&x| u64::from(x)).collect::<Vec<_>>());
        }
    }
}

#[test]
fn tags_print_in_asn1_notation() {
    assert_eq!(
        alloc::format!(
            "{}",
            Error::UnexpectedTag {
                expected: Tag::context_cons(1),
                found: Tag::universal(2),
            }
        ),
        "expected BER tag [1 cons], found [UNIVERSAL 2]"
    );
}
