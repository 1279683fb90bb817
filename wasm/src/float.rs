//! Shortest round-trip decimals for `f32` and `f64`, written like Rust's `Display` (no exponent).
//!
//! Why not `Display`: it links core's whole float formatting (Grisu with its Dragon fallback and
//! the fixed-precision modes beside them), about a twentieth of the browser package. Here the
//! digits come from a 128-bit scaled product, and the float parser already linked for commands
//! is the judge: for each digit count from one up, the two decimals around the value are tried
//! (nearest first) and the first that parses back to the same float wins. The decimals that read
//! back as a float form an interval around it, so if any decimal of n digits does, one of those
//! two does; 128 bits of precision keep the product far closer to the truth than that interval is
//! wide, so the neighbours are the right ones.

/// A float the writer handles.
pub trait Shortest: Copy {
    /// The value, exactly, as f64.
    fn wide(self) -> f64;
    /// Significant digits that always suffice to read back the same value.
    const MAX_DIGITS: u32;
    /// Whether `s` (a decimal like `123e-4`) parses back to `self`.
    fn reads_back(self, s: &str) -> bool;
}

impl Shortest for f32 {
    fn wide(self) -> f64 {
        f64::from(self)
    }
    const MAX_DIGITS: u32 = 9;
    fn reads_back(self, s: &str) -> bool {
        s.parse::<f32>() == Ok(self)
    }
}

impl Shortest for f64 {
    fn wide(self) -> f64 {
        self
    }
    const MAX_DIGITS: u32 = 17;
    fn reads_back(self, s: &str) -> bool {
        s.parse::<f64>() == Ok(self)
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
fn digits(x: f64, max_digits: u32, reads_back: &dyn Fn(&str) -> bool) -> (u64, i32) {
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
    let mut text = String::new();
    let mut last = (0, 0);
    for n in 1..=max_digits {
        let exp = k10 + 1 - n as i32;
        if let Some((int, frac)) = x.mul(p).split() {
            // A fraction this close to a half is a tie within the product's error (a few units
            // of 2^-70): like Display, take the upper decimal first.
            let up = frac >= HALF - TIE;
            let (near, far) = if up { (int + 1, int) } else { (int, int + 1) };
            for c in [near, far] {
                text.clear();
                let _ = std::fmt::Write::write_fmt(&mut text, format_args!("{c}e{exp}"));
                if c != 0 && reads_back(&text) {
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
pub fn write<F: Shortest>(out: &mut String, v: F) {
    let x = v.wide();
    if x.is_sign_negative() {
        out.push('-');
    }
    if x == 0.0 {
        out.push('0');
        return;
    }
    // The digits of -v are those of v; the parser is handed the sign back.
    let (c, exp) = digits(x.abs(), F::MAX_DIGITS, &|s: &str| {
        if x < 0.0 {
            v.reads_back(&["-", s].concat())
        } else {
            v.reads_back(s)
        }
    });
    let d = c.to_string();
    if exp >= 0 {
        out.push_str(&d);
        out.extend(std::iter::repeat_n('0', exp as usize));
    } else {
        let point = d.len() as i64 + i64::from(exp);
        if point > 0 {
            out.push_str(&d[..point as usize]);
            out.push('.');
            out.push_str(&d[point as usize..]);
        } else {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', point.unsigned_abs() as usize));
            out.push_str(&d);
        }
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
}
