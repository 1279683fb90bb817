//! Content-octet codecs for the universal primitive types.

use super::Error;

/// Decode two's-complement INTEGER content into an `i64`.
///
/// Redundant leading sign octets (non-minimal encodings) are accepted; a value that does not fit is an
/// error, never a silent truncation.
#[inline]
pub fn decode_i64(content: &[u8]) -> Result<i64, Error> {
    let (&first, _) = content.split_first().ok_or(Error::InvalidValue)?;
    let neg = first & 0x80 != 0;
    let fill = if neg { 0xff } else { 0 };
    let mut c = content;
    while c.len() > 8 && c[0] == fill && (c[1] & 0x80 != 0) == neg {
        c = &c[1..];
    }
    if c.len() > 8 {
        return Err(Error::IntegerOverflow);
    }
    let mut v: i64 = if neg { -1 } else { 0 };
    for &b in c {
        v = (v << 8) | i64::from(b);
    }
    Ok(v)
}

/// Decode INTEGER content that must be non-negative into a `u64` (MMS `Unsigned`).
#[inline]
pub fn decode_u64(content: &[u8]) -> Result<u64, Error> {
    let (&first, _) = content.split_first().ok_or(Error::InvalidValue)?;
    if first & 0x80 != 0 {
        return Err(Error::InvalidValue);
    }
    let mut c = content;
    while c.len() > 1 && c[0] == 0 {
        c = &c[1..];
    }
    if c.len() > 8 {
        return Err(Error::IntegerOverflow);
    }
    Ok(c.iter().fold(0u64, |v, &b| (v << 8) | u64::from(b)))
}

/// Decode BOOLEAN content: any non-zero octet is true (X.690 §8.2.2).
#[inline]
pub fn decode_bool(content: &[u8]) -> Result<bool, Error> {
    match content {
        [b] => Ok(*b != 0),
        _ => Err(Error::InvalidValue),
    }
}

/// Decode BIT STRING content into (octets, number of bits).
#[inline]
pub fn decode_bit_string(content: &[u8]) -> Result<(&[u8], usize), Error> {
    let (&unused, octets) = content.split_first().ok_or(Error::InvalidValue)?;
    if unused > 7 || (octets.is_empty() && unused != 0) {
        return Err(Error::InvalidValue);
    }
    Ok((octets, octets.len() * 8 - usize::from(unused)))
}

/// Minimal two's-complement octets of `v`: the value sits in the last `n` of the 8 returned octets.
#[inline]
pub fn encode_i64(v: i64) -> ([u8; 8], usize) {
    // The significant bits of the magnitude, plus one for the sign, in whole octets.
    let magnitude = if v < 0 { !v } else { v } as u64;
    let n = (64 - magnitude.leading_zeros() as usize) / 8 + 1;
    (v.to_be_bytes(), n)
}

/// Minimal non-negative INTEGER octets of `v`: the value sits in the last `n` of the 9 returned octets.
#[inline]
pub fn encode_u64(v: u64) -> ([u8; 9], usize) {
    let mut out = [0u8; 9];
    out[1..].copy_from_slice(&v.to_be_bytes());
    // The significant bits, plus a zero sign bit, in whole octets.
    let n = (64 - v.leading_zeros() as usize) / 8 + 1;
    (out, n)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The octet-trimming definition of minimal: drop a leading octet while the next one
    /// carries the same sign.
    fn minimal_by_trimming(bytes: &[u8]) -> usize {
        let mut n = bytes.len();
        while n > 1 {
            let (lead, next) = (bytes[bytes.len() - n], bytes[bytes.len() - n + 1]);
            if (lead == 0 && next & 0x80 == 0) || (lead == 0xff && next & 0x80 != 0) {
                n -= 1;
            } else {
                break;
            }
        }
        n
    }

    #[test]
    fn integer_lengths_match_the_trimming_definition() {
        let mut values = alloc::vec![0i64, 1, -1, i64::MAX, i64::MIN];
        for shift in 0..64 {
            let p = 1i64 << shift;
            values.extend([
                p,
                p.wrapping_sub(1),
                p.wrapping_add(1),
                p.wrapping_neg(),
                p.wrapping_neg().wrapping_sub(1),
                p.wrapping_neg().wrapping_add(1),
            ]);
        }
        for v in values {
            let (b, n) = encode_i64(v);
            assert_eq!(n, minimal_by_trimming(&b), "{v}");
            let u = v as u64;
            let (b, n) = encode_u64(u);
            assert_eq!(n, minimal_by_trimming(&b), "{u}");
        }
    }

    #[test]
    fn integers_encode_minimally_and_decode_back() {
        for v in [
            0i64,
            1,
            -1,
            127,
            128,
            -128,
            -129,
            255,
            256,
            i64::MAX,
            i64::MIN,
            2000,
            -5,
        ] {
            let (b, n) = encode_i64(v);
            assert_eq!(decode_i64(&b[8 - n..]).unwrap(), v);
        }
        assert_eq!(encode_i64(127).1, 1);
        assert_eq!(encode_i64(128).1, 2);
        assert_eq!(encode_i64(-128).1, 1);
        assert_eq!(encode_i64(-129).1, 2);
    }

    #[test]
    fn unsigned_keeps_a_leading_zero_for_high_bit_values() {
        let (b, n) = encode_u64(0x80);
        assert_eq!(&b[9 - n..], &[0x00, 0x80]);
        let (b, n) = encode_u64(u64::MAX);
        assert_eq!(n, 9);
        assert_eq!(decode_u64(&b[9 - n..]).unwrap(), u64::MAX);
    }

    #[test]
    fn non_minimal_integers_are_accepted_but_overflow_is_an_error() {
        assert_eq!(decode_i64(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 5]).unwrap(), 5);
        assert_eq!(
            decode_i64(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfb]).unwrap(),
            -5
        );
        assert_eq!(
            decode_i64(&[1, 0, 0, 0, 0, 0, 0, 0, 0]),
            Err(Error::IntegerOverflow)
        );
        assert_eq!(decode_i64(&[]), Err(Error::InvalidValue));
        assert_eq!(decode_u64(&[0x80]), Err(Error::InvalidValue));
    }

    #[test]
    fn bit_strings_check_their_unused_bit_count() {
        assert_eq!(decode_bit_string(&[4, 0xf0]).unwrap(), (&[0xf0][..], 4));
        assert_eq!(decode_bit_string(&[8, 0]), Err(Error::InvalidValue));
        assert_eq!(decode_bit_string(&[1]), Err(Error::InvalidValue));
        assert_eq!(decode_bit_string(&[0]).unwrap().1, 0);
    }
}
