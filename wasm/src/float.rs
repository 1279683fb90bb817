//! Shortest round-trip decimals for `f32` and `f64`, written like Rust's `Display` (no exponent),
//! and decimals read back into floats, both without core's float formatting and parsing.
//!
//! Why not `Display` and `str::parse`: core's formatting links Grisu with its Dragon fallback
//! and the fixed-precision modes beside them, and its parser the Eisel-Lemire tables (10 KB of
//! 128-bit powers of five) beside a big-decimal fallback: together about a tenth of the gzipped
//! browser package. Here the digits come from a 128-bit scaled product, and [`nearest`] is the
//! judge: for each digit count from one up, the two decimals around the value are tried
//! (nearest first) and the first that reads back as the same float wins. The decimals that read
//! back as a float form an interval around it, so if any decimal of n digits does, one of those
//! two does; 128 bits of precision keep the product far closer to the truth than that interval is
//! wide, so the neighbours are the right ones.
//!
//! Reading a decimal rounds the same 128-bit product to the float's precision, and settles it
//! with exact big-integer arithmetic when the product lies too close to a halfway point between
//! two floats to tell (a tie, or within the product's error of one), so every result is the
//! correctly rounded one `str::parse` gives.

use std::cmp::Ordering;

/// A binary float format: `p` significand bits (with the hidden one); a finite value is
/// `q · 2^e` with `q < 2^p` and `e_min <= e <= e_max`.
#[derive(Clone, Copy)]
struct Format {
    p: u32,
    e_min: i32,
    e_max: i32,
}

const F32: Format = Format {
    p: 24,
    e_min: -149,
    e_max: 104,
};

const F64: Format = Format {
    p: 53,
    e_min: -1074,
    e_max: 971,
};

/// A float the writer handles.
pub trait Shortest: Copy {
    /// The value, exactly, as f64.
    fn wide(self) -> f64;
    /// Significant digits that always suffice to read back the same value.
    const MAX_DIGITS: u32;
    /// Whether `c · 10^exp` reads back as `self` or `-self` (finite).
    fn reads_back(self, c: u64, exp: i32) -> bool;
}

impl Shortest for f32 {
    fn wide(self) -> f64 {
        f64::from(self)
    }
    const MAX_DIGITS: u32 = 9;
    fn reads_back(self, c: u64, exp: i32) -> bool {
        nearest(c, exp, F32) == u64::from(self.abs().to_bits())
    }
}

impl Shortest for f64 {
    fn wide(self) -> f64 {
        self
    }
    const MAX_DIGITS: u32 = 17;
    fn reads_back(self, c: u64, exp: i32) -> bool {
        nearest(c, exp, F64) == self.abs().to_bits()
    }
}

/// `m · 2^e` with the top bit of `m` set.
#[derive(Clone, Copy)]
struct Fp {
    m: u128,
    e: i32,
}

impl Fp {
    /// The high half of the 256-bit product, renormalised.
    fn mul(self, o: Fp) -> Fp {
        let (a1, a0) = (self.m >> 64, self.m & u128::from(u64::MAX));
        let (b1, b0) = (o.m >> 64, o.m & u128::from(u64::MAX));
        let (hl, lh) = (a1 * b0, a0 * b1);
        let mid = ((a0 * b0) >> 64) + (hl & u128::from(u64::MAX)) + (lh & u128::from(u64::MAX));
        let hi = a1 * b1 + (hl >> 64) + (lh >> 64) + (mid >> 64);
        let e = self.e + o.e + 128;
        if hi >> 127 == 1 {
            Fp { m: hi, e }
        } else {
            Fp {
                m: (hi << 1) | ((mid >> 63) & 1),
                e: e - 1,
            }
        }
    }

    /// 10^k, within a few units of the 128th bit.
    fn pow10(k: i32) -> Fp {
        let mut base = if k >= 0 {
            TEN
        } else {
            // 1/10 = (2^130 / 5) · 2^-131.
            Fp {
                m: (u128::MAX / 5) << 2,
                e: -131,
            }
        };
        let mut acc = Fp {
            m: 1 << 127,
            e: -127,
        };
        let mut n = k.unsigned_abs();
        while n > 0 {
            if n & 1 == 1 {
                acc = acc.mul(base);
            }
            base = base.mul(base);
            n >>= 1;
        }
        acc
    }

    /// The integer part and the fraction (as a multiple of 2^-128); `None` beyond u64.
    fn split(self) -> Option<(u64, u128)> {
        match self.e.unsigned_abs() {
            _ if self.e >= 0 => None,
            shift @ 1..=127 => Some((
                u64::try_from(self.m >> shift).ok()?,
                self.m << (128 - shift),
            )),
            128 => Some((0, self.m)),
            _ => Some((0, 0)),
        }
    }
}

const HALF: u128 = 1 << 127;
const TIE: u128 = 1 << 76;
const TEN: Fp = Fp {
    m: 10 << 124,
    e: -124,
};

/// The shortest decimal `digits · 10^exp` that `reads_back` accepts for `x` (finite, positive);
/// `digits` has no trailing zero. Not generic, so f32 and f64 share one copy.
fn digits(x: f64, max_digits: u32, reads_back: &dyn Fn(u64, i32) -> bool) -> (u64, i32) {
    let bits = x.to_bits();
    let (mut f, mut e2) = (bits & ((1 << 52) - 1), ((bits >> 52) & 0x7ff) as i32);
    if e2 == 0 {
        e2 = 1; // subnormal
    } else {
        f |= 1 << 52;
    }
    e2 -= 1075;
    let lz = (f as u128).leading_zeros();
    let x = Fp {
        m: (f as u128) << lz,
        e: e2 - lz as i32,
    };
    // floor(log10 x), estimated from the binary exponent, then corrected to make x · 10^-k10
    // land in [1, 10).
    let top = x.e + 127;
    let mut k10 = (top * 1233) >> 12;
    let mut p = Fp::pow10(-k10);
    loop {
        match x.mul(p).split() {
            Some((0, _)) => {
                k10 -= 1;
                p = p.mul(TEN);
            }
            Some((i, _)) if i >= 10 => {
                k10 += 1;
                p = Fp::pow10(-k10);
            }
            _ => break,
        }
    }
    let mut last = (0, 0);
    for n in 1..=max_digits {
        let exp = k10 + 1 - n as i32;
        if let Some((int, frac)) = x.mul(p).split() {
            // A fraction this close to a half is a tie within the product's error (a few units
            // of 2^-70): like Display, take the upper decimal first.
            let up = frac >= HALF - TIE;
            let (near, far) = if up { (int + 1, int) } else { (int, int + 1) };
            for c in [near, far] {
                if c != 0 && reads_back(c, exp) {
                    return strip(c, exp);
                }
            }
            last = (near, exp);
        }
        p = p.mul(TEN);
    }
    // Unreachable for a correct MAX_DIGITS; the nearest widest decimal is the best there is.
    strip(last.0, last.1)
}

fn strip(mut c: u64, mut exp: i32) -> (u64, i32) {
    while c != 0 && c % 10 == 0 {
        c /= 10;
        exp += 1;
    }
    (c, exp)
}

/// Append `v` (finite) as its shortest round-trip decimal, as `Display` writes it: no exponent,
/// `-0` for negative zero, no `.0` for whole numbers.
// The tests' entry; the JSON writer calls `write_wide` with the type's parts itself.
#[cfg(test)]
pub fn write<F: Shortest>(out: &mut String, v: F) {
    write_wide(out, v.wide(), F::MAX_DIGITS, &|c, exp| v.reads_back(c, exp));
}

/// `write` with the float as f64, its digit bound and its read-back test: one body for both
/// float types.
pub(crate) fn write_wide(
    out: &mut String,
    x: f64,
    max_digits: u32,
    reads_back: &dyn Fn(u64, i32) -> bool,
) {
    if x.is_sign_negative() {
        out.push('-');
    }
    if x == 0.0 {
        out.push('0');
        return;
    }
    // The digits of -v are those of v.
    let (c, exp) = digits(x.abs(), max_digits, reads_back);
    // The JSON writer's digit loop, not `to_string`: no formatter is set up for it.
    let mut d = String::new();
    crate::jw::uint(&mut d, c);
    if exp >= 0 {
        out.push_str(&d);
        zeros(out, exp as usize);
    } else {
        let point = d.len() as i64 + i64::from(exp);
        if point > 0 {
            out.push_str(&d[..point as usize]);
            out.push('.');
            out.push_str(&d[point as usize..]);
        } else {
            out.push_str("0.");
            zeros(out, point.unsigned_abs() as usize);
            out.push_str(&d);
        }
    }
}

// A push loop, not `extend(repeat_n(..))`: the only user of String's Extend<char>.
fn zeros(out: &mut String, n: usize) {
    for _ in 0..n {
        out.push('0');
    }
}

/// Significant digits a decimal is read with; any further nonzero digits count as one more
/// nonzero digit below them. 800 is past the 767 that an f64 halfway point can need, so the
/// rounding is the exact value's, and it bounds the work an absurdly long number costs.
const MAX_READ_DIGITS: usize = 800;

/// The JSON number `s` (`-`, digits, `.` digits, `e` sign digits) as the nearest f64, as
/// `str::parse` reads it; `None` if `s` is no such number.
pub fn parse_f64(s: &str) -> Option<f64> {
    let (neg, digits, exp) = decimal(s)?;
    let bits = match u64::try_from(digits.len()) {
        // Up to 19 digits the value is a u64 times a power of ten.
        Ok(0..=19) => nearest(
            digits.iter().fold(0u64, |c, &d| c * 10 + u64::from(d)),
            exp,
            F64,
        ),
        _ => exact(&digits, exp, F64),
    };
    let v = f64::from_bits(bits);
    Some(if neg { -v } else { v })
}

/// The sign, the significant digits (no leading zeros, at most one past [`MAX_READ_DIGITS`])
/// and the power of ten they are scaled by.
fn decimal(s: &str) -> Option<(bool, Vec<u8>, i32)> {
    let b = s.as_bytes();
    let neg = matches!(b.first(), Some(b'-'));
    let mut at = usize::from(neg);
    let mut digits = Vec::new();
    let mut exp: i64 = 0;
    let mut seen = false;
    let mut point = false;
    let mut sticky = false;
    while let Some(&c) = b.get(at) {
        match c {
            b'0'..=b'9' => {
                seen = true;
                if point {
                    exp -= 1;
                }
                if digits.len() < MAX_READ_DIGITS {
                    // Leading zeros are no digits (those after the point still scale).
                    if c != b'0' || !digits.is_empty() {
                        digits.push(c - b'0');
                    }
                } else {
                    // A dropped digit scales what is kept.
                    exp += 1;
                    sticky |= c != b'0';
                }
            }
            b'.' if !point => point = true,
            _ => break,
        }
        at += 1;
    }
    if !seen {
        return None;
    }
    if let Some(b'e' | b'E') = b.get(at) {
        at += 1;
        let eneg = matches!(b.get(at), Some(b'-'));
        if let Some(b'+' | b'-') = b.get(at) {
            at += 1;
        }
        let start = at;
        let mut e: i64 = 0;
        while let Some(&c @ b'0'..=b'9') = b.get(at) {
            // Saturating: beyond this every value is 0 or infinite anyway.
            e = (e * 10 + i64::from(c - b'0')).min(1 << 40);
            at += 1;
        }
        if at == start {
            return None;
        }
        exp += if eneg { -e } else { e };
    }
    if at != b.len() {
        return None;
    }
    if sticky {
        // One more nonzero digit stands for everything dropped.
        digits.push(1);
        exp -= 1;
    }
    // Trailing zeros carry no value; dropping them keeps the big-integer work small.
    while let Some(0) = digits.last() {
        digits.pop();
        exp += 1;
    }
    let exp = i32::try_from(exp.clamp(-(1 << 30), 1 << 30)).ok()?;
    Some((neg, digits, exp))
}

/// The bits of the float of format `f` nearest to `c · 10^exp` (ties to even), sign clear.
fn nearest(c: u64, exp: i32, f: Format) -> u64 {
    if c == 0 {
        return 0;
    }
    if let Some(bits) = beyond(i64::from(c.ilog10() + 1) + i64::from(exp), f) {
        return bits;
    }
    // c · 10^exp as m · 2^e, m within 2^-100 of the exact value relative to it (the product
    // of 128-bit factors, each within a few units of its 128th bit).
    let lz = c.leading_zeros() + 64;
    let x = Fp {
        m: u128::from(c) << lz,
        e: -(lz as i32),
    }
    .mul(Fp::pow10(exp));
    // Keep p bits, fewer below the normal range.
    let mut shift = 128 - f.p as i32;
    let e = x.e + shift;
    if e < f.e_min {
        shift += f.e_min - e;
    }
    if shift >= 127 {
        return exact(&decimal_digits(c), exp, f);
    }
    let half = 1u128 << (shift - 1);
    let rest = x.m & ((half << 1) - 1);
    const TOLERANCE: u128 = 1 << 28;
    if rest.abs_diff(half) <= TOLERANCE {
        // Too close to halfway to tell: the exact value decides.
        return exact(&decimal_digits(c), exp, f);
    }
    let q = (x.m >> shift) as u64 + u64::from(rest > half);
    assemble(q, x.e + shift, f)
}

/// The bits of `q · 2^e` (`q` rounded, at most `2^p`, `e >= e_min` unless `q` is 0), or
/// infinity beyond the format's range.
fn assemble(q: u64, e: i32, f: Format) -> u64 {
    let (q, e) = if q == 1 << f.p {
        (q >> 1, e + 1)
    } else {
        (q, e)
    };
    let infinity = ((f.e_max - f.e_min + 2) as u64) << (f.p - 1);
    if e > f.e_max {
        infinity
    } else if q < 1 << (f.p - 1) {
        // Subnormal (e is e_min): the exponent field is zero.
        q
    } else {
        (((e - f.e_min + 1) as u64) << (f.p - 1)) | (q - (1 << (f.p - 1)))
    }
}

/// 0 or infinity when a value of `x` = digits + exponent (in `[10^(x - 1), 10^x)`) is surely
/// beyond `f`'s range.
fn beyond(x: i64, f: Format) -> Option<u64> {
    // 3.321 < log2(10): for x <= 0 the value is below 2^(3.321 x), for x >= 1 at least
    // 2^(3.321 (x - 1)).
    if x * 3321 <= (i64::from(f.e_min) - 1) * 1000 {
        // Below half the smallest subnormal.
        return Some(0);
    }
    if (x - 1) * 3321 >= i64::from(f.e_max + f.p as i32) * 1000 {
        // At least twice the largest finite value.
        return Some(((f.e_max - f.e_min + 2) as u64) << (f.p - 1));
    }
    None
}

fn decimal_digits(mut c: u64) -> Vec<u8> {
    let mut d = Vec::new();
    while c > 0 {
        d.push((c % 10) as u8);
        c /= 10;
    }
    d.reverse();
    d
}

/// The bits of the float of format `f` nearest to `digits · 10^exp` (ties to even), from exact
/// big-integer arithmetic: `digits` (decimal digit values, no leading zero) over a power of ten,
/// divided down to `p` bits.
fn exact(digits: &[u8], exp: i32, f: Format) -> u64 {
    if digits.is_empty() {
        return 0;
    }
    if let Some(bits) = beyond(digits.len() as i64 + i64::from(exp), f) {
        return bits;
    }
    let mut num = Big(Vec::new());
    for &d in digits {
        num.mul_add(10, u32::from(d));
    }
    let mut den = Big(vec![1]);
    if exp >= 0 {
        num.mul_pow10(exp.unsigned_abs());
    } else {
        den.mul_pow10(exp.unsigned_abs());
    }
    // num / den lies in (2^(l - 1), 2^(l + 1)) for l the difference of their bit lengths, so
    // at 2^(l - p) the quotient has p or p + 1 bits.
    let l = num.bits() as i32 - den.bits() as i32;
    let mut e = (l - f.p as i32).max(f.e_min);
    loop {
        let (n, d) = if e >= 0 {
            (num.shl(0), den.shl(e as u32))
        } else {
            (num.shl(e.unsigned_abs()), den.shl(0))
        };
        let (q, r) = n.div_small_quotient(&d, f.p + 1);
        if q >= 1 << f.p {
            e += 1;
            continue;
        }
        let up = match r.shl(1).cmp_big(&d) {
            Ordering::Greater => true,
            Ordering::Equal => q & 1 == 1,
            Ordering::Less => false,
        };
        return assemble(q + u64::from(up), e, f);
    }
}

/// A natural number in 32-bit limbs, least significant first, with no high zero limb.
// No Clone: `shl(0)` copies, and Vec<u32>'s clone would be linked for that alone.
struct Big(Vec<u32>);

impl Big {
    /// `self · m + a`.
    fn mul_add(&mut self, m: u32, a: u32) {
        let mut carry = u64::from(a);
        for l in &mut self.0 {
            let v = u64::from(*l) * u64::from(m) + carry;
            *l = v as u32;
            carry = v >> 32;
        }
        if carry > 0 {
            self.0.push(carry as u32);
        }
    }

    /// `self · 10^k`.
    fn mul_pow10(&mut self, mut k: u32) {
        while k >= 9 {
            self.mul_add(1_000_000_000, 0);
            k -= 9;
        }
        self.mul_add(10u32.pow(k), 0);
    }

    fn bits(&self) -> u32 {
        self.0.last().map_or(0, |t| {
            32 * (self.0.len() as u32 - 1) + 32 - t.leading_zeros()
        })
    }

    /// `self · 2^n`.
    fn shl(&self, n: u32) -> Big {
        let (limbs, bits) = ((n / 32) as usize, n % 32);
        let mut out = vec![0; limbs];
        let mut carry = 0u32;
        for &l in &self.0 {
            if bits == 0 {
                out.push(l);
            } else {
                out.push((l << bits) | carry);
                carry = l >> (32 - bits);
            }
        }
        if carry > 0 {
            out.push(carry);
        }
        Big(out)
    }

    // Index loops, not `then_with` over reversed iterators' `cmp`: that chain cost more code.
    fn cmp_big(&self, o: &Big) -> Ordering {
        let (a, b) = (&self.0, &o.0);
        if a.len() != b.len() {
            return a.len().cmp(&b.len());
        }
        for i in (0..a.len()).rev() {
            if a[i] != b[i] {
                return a[i].cmp(&b[i]);
            }
        }
        Ordering::Equal
    }

    /// `self - o`, for `o <= self`.
    fn sub(&mut self, o: &Big) {
        let mut borrow = 0i64;
        for (i, l) in self.0.iter_mut().enumerate() {
            let v = i64::from(*l) - i64::from(o.0.get(i).copied().unwrap_or(0)) - borrow;
            borrow = i64::from(v < 0);
            *l = (v + (borrow << 32)) as u32;
        }
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    /// Quotient and remainder of `self / d`, for a quotient below `2^(bits + 1)`.
    fn div_small_quotient(mut self, d: &Big, bits: u32) -> (u64, Big) {
        let mut q = 0u64;
        for i in (0..=bits).rev() {
            let s = d.shl(i);
            if self.cmp_big(&s) != Ordering::Less {
                self.sub(&s);
                q |= 1 << i;
            }
        }
        (q, self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown<F: Shortest>(v: F) -> String {
        let mut s = String::new();
        write(&mut s, v);
        s
    }

    /// A xorshift stream: bit patterns across the whole range, reproducibly.
    fn patterns(n: usize) -> impl Iterator<Item = u64> {
        let mut s = 0x9e37_79b9_7f4a_7c15u64;
        (0..n).map(move |_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        })
    }

    /// Decimals from the xorshift stream: 1 to 25 digits, exponents across both formats and
    /// past them, with and without a point.
    fn decimals(n: usize) -> impl Iterator<Item = String> {
        patterns(n).map(|b| {
            let len = 1 + (b % 25) as usize;
            let mut d = String::new();
            let mut x = b.rotate_left(17) | 1;
            for _ in 0..len {
                d.push(char::from(b'0' + (x % 10) as u8));
                x = (x / 10) ^ x.rotate_left(23);
            }
            let exp = ((b >> 40) % 760) as i64 - 380;
            match b >> 62 {
                0 => format!("{d}e{exp}"),
                1 if exp >= 0 => format!("-{d}E+{exp}"),
                1 => format!("-{d}E{exp}"),
                2 => format!("{}.{}e{exp}", &d[..1], &d[1..]),
                _ => d,
            }
        })
    }

    fn read_f32(s: &str) -> f32 {
        let (neg, digits, exp) = decimal(s).unwrap();
        let v = f32::from_bits(exact(&digits, exp, F32) as u32);
        if neg {
            -v
        } else {
            v
        }
    }

    #[test]
    fn decimals_read_as_str_parse_reads_them() {
        let special = [
            "0",
            "-0",
            "0.0",
            "1",
            "412.5",
            "-2.5e3",
            "0.1",
            "0.30000000000000004",
            "9007199254740993",
            "9007199254740993.0000000000000000000000000001",
            "2.2250738585072011e-308",
            "2.2250738585072014e-308",
            "4.9406564584124654e-324",
            "2.4703282292062327e-324",
            "2.4703282292062328e-324",
            "1.7976931348623157e308",
            "1.7976931348623158e308",
            "1.7976931348623159e308",
            "1e400",
            "1e-400",
            "1e99999999999999999999999",
            "1e-99999999999999999999999",
            "123456789012345678901234567890",
            "0.000000000000000000000000000000000000000000001",
            "7.2057594037927933e16",
        ];
        let long = format!("{}e-300", "3".repeat(900));
        let long_half = format!("9007199254740993{}", "0".repeat(850));
        let long_above = format!("9007199254740993{}1", "0".repeat(850));
        for s in special
            .into_iter()
            .map(String::from)
            .chain([long, long_half, long_above])
            .chain(decimals(40_000))
        {
            let want: f64 = s.parse().unwrap();
            assert_eq!(parse_f64(&s).map(f64::to_bits), Some(want.to_bits()), "{s}");
            // The exact path alone agrees too, and in f32.
            let (neg, digits, exp) = decimal(&s).unwrap();
            let v = f64::from_bits(exact(&digits, exp, F64));
            assert_eq!((if neg { -v } else { v }).to_bits(), want.to_bits(), "{s}");
            let want32: f32 = s.parse().unwrap();
            assert_eq!(read_f32(&s).to_bits(), want32.to_bits(), "{s} as f32");
        }
        for bad in ["", "-", ".", "e5", "1e", "1e+", "1x", "--1"] {
            assert_eq!(parse_f64(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn floats_read_back_from_their_nearest_decimals() {
        // The fast product path against the exact one, where they matter most: the decimals
        // next to each float's shortest form and halfway points between floats.
        for b in patterns(20_000) {
            let v = f64::from_bits(b & !(1 << 63));
            if !v.is_finite() || v == 0.0 {
                continue;
            }
            let (c, exp) = digits(v, 17, &|c, exp| v.reads_back(c, exp));
            for c in [c - 1, c, c + 1] {
                assert_eq!(
                    nearest(c, exp, F64),
                    exact(&decimal_digits(c), exp, F64),
                    "{c}e{exp}"
                );
            }
        }
        // 2^53 + 1 and its neighbours: a tie to even either way.
        for c in [9_007_199_254_740_993u64, 9_007_199_254_740_995] {
            assert_eq!(
                f64::from_bits(nearest(c, 0, F64)),
                format!("{c}").parse::<f64>().unwrap()
            );
        }
    }

    #[test]
    fn f32_as_display_writes_it() {
        let special = [
            0.1f32,
            231.5,
            1.0,
            -0.0,
            0.0,
            f32::MAX,
            f32::MIN_POSITIVE,
            1e-45,
            f32::EPSILON,
            16_777_216.0,
            3.4e38,
            -7.25,
            100.0,
            1e10,
        ];
        for v in special
            .into_iter()
            .chain(patterns(200_000).map(|b| f32::from_bits(b as u32)))
            .filter(|v| v.is_finite())
        {
            assert_eq!(shown(v), v.to_string(), "{:#x}", v.to_bits());
        }
    }

    #[test]
    fn f64_as_display_writes_it() {
        let special = [
            0.1f64,
            1733055123.456789,
            1.0,
            -0.0,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
            f64::EPSILON,
            9007199254740993.0,
            123456789012345680.0,
            0.3,
            2.0f64.powi(-1074),
        ];
        for v in special
            .into_iter()
            .chain(patterns(200_000).map(f64::from_bits))
            .filter(|v| v.is_finite())
        {
            assert_eq!(shown(v), v.to_string(), "{:#x}", v.to_bits());
        }
    }

    #[test]
    fn big_comparison_is_the_limbs_reversed_order() {
        let limbs: Vec<Vec<u32>> = vec![
            vec![],
            vec![1],
            vec![2],
            vec![u32::MAX],
            vec![0, 1],
            vec![1, 1],
            vec![0, 2],
            vec![u32::MAX, 1],
            vec![5, 0, 7],
            vec![4, 1, 7],
            vec![5, 0, 8],
        ];
        for a in &limbs {
            for b in &limbs {
                let want = a
                    .len()
                    .cmp(&b.len())
                    .then_with(|| a.iter().rev().cmp(b.iter().rev()));
                assert_eq!(Big(a.clone()).cmp_big(&Big(b.clone())), want, "{a:?} {b:?}");
            }
        }
    }
}
