//! A lean JSON writer (the event side) and reader (the command side): no serde in the wasm
//! binary, whose size is most of the browser's first load.

use std::fmt::{Display, Write};

/// Append `s` as a JSON string literal (RFC 8259 §7).
pub fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                out.push_str("\\u00");
                let b = c as u8;
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 15)]));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Append a bit string as a JSON string of `0` and `1`, most significant bit first.
pub fn bits(out: &mut String, octets: &[u8], bits: usize) {
    out.push('"');
    for i in 0..bits {
        let set = octets
            .get(i / 8)
            .is_some_and(|o| o & (0x80 >> (i % 8)) != 0);
        out.push(if set { '1' } else { '0' });
    }
    out.push('"');
}

/// Append the octets as lowercase hex (no quotes).
pub fn hex(out: &mut String, bytes: &[u8]) {
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
}

/// A value's `Display` text. One function through `dyn`, not a `to_string` instance for every
/// error and name type the events show.
#[inline(never)]
pub fn text(d: &dyn Display) -> String {
    d.to_string()
}

/// Append a number (or anything whose Display is a JSON value).
pub fn num(out: &mut String, v: impl Display) {
    let _ = write!(out, "{v}");
}

/// Append an unsigned integer in decimal. Written by hand: `core::fmt`'s argument handling at
/// every call cost the package more than these lines.
pub fn uint(out: &mut String, n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut n = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend(digits[at..].iter().map(|&d| char::from(d)));
}

/// Append a signed integer in decimal.
fn sint(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
    }
    uint(out, n.unsigned_abs());
}

/// Append a float as the shortest decimal that reads back as it (`231.5`, `1.0`); non-finite
/// values as the strings `"NaN"`, `"Infinity"`, `"-Infinity"`.
pub fn float<F: crate::float::Shortest>(out: &mut String, v: F) {
    float_wide(out, v.wide(), F::MAX_DIGITS, &|c, exp| v.reads_back(c, exp));
}

// The body once for f32 and f64 (see `float::write_wide`).
#[allow(clippy::manual_contains)]
fn float_wide(out: &mut String, x: f64, max_digits: u32, reads_back: &dyn Fn(u64, i32) -> bool) {
    if x.is_nan() {
        out.push_str("\"NaN\"");
    } else if x.is_infinite() {
        out.push_str(if x > 0.0 {
            "\"Infinity\""
        } else {
            "\"-Infinity\""
        });
    } else {
        // The shortest round-trip form without an exponent, as Rust's float Display writes it;
        // a whole number gets `.0`, as serde_json writes it.
        let start = out.len();
        crate::float::write_wide(out, x, max_digits, reads_back);
        // A byte loop, not `contains`: with the name reader's split, the only users of the
        // library's memchr (hence the allow on this function).
        if !out.as_bytes()[start..].iter().any(|&b| b == b'.') {
            out.push_str(".0");
        }
    }
}

/// Largest integer a JavaScript number holds exactly (`Number.MAX_SAFE_INTEGER`).
const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// Append an integer as a number, or as a string beyond ±2^53 − 1 so no digit is lost.
pub fn int(out: &mut String, v: i64) {
    if (-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).contains(&v) {
        sint(out, v);
    } else {
        out.push('"');
        sint(out, v);
        out.push('"');
    }
}

/// A value that writes itself as JSON.
pub trait ToJson {
    /// Append the JSON text.
    fn write_json(&self, out: &mut String);

    /// The JSON text.
    fn to_json(&self) -> String {
        let mut s = String::new();
        self.write_json(&mut s);
        s
    }
}

impl ToJson for str {
    fn write_json(&self, out: &mut String) {
        string(out, self)
    }
}

impl ToJson for String {
    fn write_json(&self, out: &mut String) {
        string(out, self)
    }
}

impl ToJson for &str {
    fn write_json(&self, out: &mut String) {
        string(out, self)
    }
}

impl ToJson for bool {
    fn write_json(&self, out: &mut String) {
        out.push_str(if *self { "true" } else { "false" })
    }
}

macro_rules! integers {
    ($($t:ty => $f:ident,)*) => {$(
        impl ToJson for $t {
            fn write_json(&self, out: &mut String) {
                $f(out, (*self).into())
            }
        }
    )*};
}
integers!(u8 => uint, u16 => uint, u32 => uint, u64 => uint, i16 => sint, i32 => sint,
    i64 => sint,);

impl ToJson for usize {
    fn write_json(&self, out: &mut String) {
        uint(out, *self as u64)
    }
}

impl<T: ToJson> ToJson for Option<T> {
    fn write_json(&self, out: &mut String) {
        match self {
            Some(v) => v.write_json(out),
            None => out.push_str("null"),
        }
    }
}

impl<T: ToJson> ToJson for [T] {
    fn write_json(&self, out: &mut String) {
        out.push('[');
        for (i, v) in self.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            v.write_json(out);
        }
        out.push(']');
    }
}

impl<T: ToJson> ToJson for Vec<T> {
    fn write_json(&self, out: &mut String) {
        self.as_slice().write_json(out)
    }
}

impl<A: ToJson, B: ToJson> ToJson for (A, B) {
    fn write_json(&self, out: &mut String) {
        out.push('[');
        self.0.write_json(out);
        out.push(',');
        self.1.write_json(out);
        out.push(']');
    }
}

/// An object being written: fields in call order.
pub struct Obj<'a> {
    out: &'a mut String,
    first: bool,
}

impl<'a> Obj<'a> {
    /// Open an object.
    pub fn new(out: &'a mut String) -> Self {
        out.push('{');
        Obj { out, first: true }
    }

    /// Start a field: the key and its colon; the value is for the caller to append.
    pub fn key(&mut self, k: &str) -> &mut String {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        string(self.out, k);
        self.out.push(':');
        self.out
    }

    /// A field.
    pub fn field<T: ToJson + ?Sized>(&mut self, k: &str, v: &T) -> &mut Self {
        v.write_json(self.key(k));
        self
    }

    /// A field that is left out when `None`.
    pub fn some<T: ToJson>(&mut self, k: &str, v: &Option<T>) -> &mut Self {
        if let Some(v) = v {
            self.field(k, v);
        }
        self
    }

    /// Close the object.
    pub fn end(self) {
        self.out.push('}');
    }
}

/// A JSON value as read by [`parse`]: numbers keep their text, objects their order.
#[derive(Clone, Debug, PartialEq)]
pub enum J {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as written.
    Num(String),
    /// A string, unescaped.
    Str(String),
    /// An array.
    Arr(Vec<J>),
    /// An object.
    Obj(Vec<(String, J)>),
}

impl J {
    /// The value of key `k` (the last one given) of an object.
    pub fn get(&self, k: &str) -> Option<&J> {
        match self {
            // The last of duplicate keys by a forward scan: smaller than `rev().find()`.
            J::Obj(o) => {
                let mut found = None;
                for (key, v) in o {
                    if key == k {
                        found = Some(v);
                    }
                }
                found
            }
            _ => None,
        }
    }

    /// A string's text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            J::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A number as f64.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            // Not `str::parse`: core's float parser is a tenth of the gzipped package.
            J::Num(n) => crate::float::parse_f64(n),
            _ => None,
        }
    }

    /// A number written as an integer.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            J::Num(n) => int_text(n),
            _ => None,
        }
    }

    /// What kind of value this is, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            J::Null => "null",
            J::Bool(_) => "a boolean",
            J::Num(_) => "a number",
            J::Str(_) => "a string",
            J::Arr(_) => "an array",
            J::Obj(_) => "an object",
        }
    }
}

/// `s` as `str::parse::<i64>` reads it (an optional sign, decimal digits, in range), by a byte
/// loop: the integer parser of `core` cost the package more.
fn int_text(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let (neg, digits) = match b {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, b),
    };
    if digits.is_empty() {
        return None;
    }
    let mut v: i64 = 0;
    for &c in digits {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        // Negatives accumulate downwards, so i64::MIN reads too.
        v = v.checked_mul(10)?;
        v = if neg {
            v.checked_sub(i64::from(d))?
        } else {
            v.checked_add(i64::from(d))?
        };
    }
    Some(v)
}

struct Reader<'a> {
    s: &'a [u8],
    at: usize,
    depth: u32,
}

/// Deepest nesting read (a stack guard: commands are at most a few levels deep).
const MAX_DEPTH: u32 = 64;

impl Reader<'_> {
    fn err<T>(&self, what: &str) -> Result<T, String> {
        Err(self.message(what))
    }

    // The message apart from `err`: one copy of its formatting, not one per result type.
    #[inline(never)]
    fn message(&self, what: &str) -> String {
        format!("{what} at offset {}", self.at)
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.s.get(self.at) {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.at).copied()
    }

    fn eat(&mut self, c: u8) -> Result<(), String> {
        if self.peek() == Some(c) {
            self.at += 1;
            Ok(())
        } else {
            // Pushed, not formatted: a char's `Display` (with its padding) is linked for this alone.
            let mut what = String::from("expected `");
            what.push(char::from(c));
            what.push('`');
            self.err(&what)
        }
    }

    fn word(&mut self, w: &str, v: J) -> Result<J, String> {
        if self.s[self.at..].starts_with(w.as_bytes()) {
            self.at += w.len();
            Ok(v)
        } else {
            self.err("expected a value")
        }
    }

    fn value(&mut self) -> Result<J, String> {
        match self.peek() {
            None => self.err("unexpected end"),
            Some(b'n') => self.word("null", J::Null),
            Some(b't') => self.word("true", J::Bool(true)),
            Some(b'f') => self.word("false", J::Bool(false)),
            Some(b'"') => self.string().map(J::Str),
            Some(b'[') => {
                self.nest()?;
                self.at += 1;
                let mut items = Vec::new();
                if self.peek() == Some(b']') {
                    self.at += 1;
                } else {
                    loop {
                        items.push(self.value()?);
                        match self.peek() {
                            Some(b',') => self.at += 1,
                            Some(b']') => {
                                self.at += 1;
                                break;
                            }
                            _ => return self.err("expected `,` or `]`"),
                        }
                    }
                }
                self.depth -= 1;
                Ok(J::Arr(items))
            }
            Some(b'{') => {
                self.nest()?;
                self.at += 1;
                let mut fields = Vec::new();
                if self.peek() == Some(b'}') {
                    self.at += 1;
                } else {
                    loop {
                        if self.peek() != Some(b'"') {
                            return self.err("expected a key");
                        }
                        let k = self.string()?;
                        self.eat(b':')?;
                        fields.push((k, self.value()?));
                        match self.peek() {
                            Some(b',') => self.at += 1,
                            Some(b'}') => {
                                self.at += 1;
                                break;
                            }
                            _ => return self.err("expected `,` or `}`"),
                        }
                    }
                }
                self.depth -= 1;
                Ok(J::Obj(fields))
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => self.err("expected a value"),
        }
    }

    fn nest(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.err("nested too deep");
        }
        Ok(())
    }

    fn digits(&mut self) -> usize {
        let start = self.at;
        while let Some(b'0'..=b'9') = self.s.get(self.at) {
            self.at += 1;
        }
        self.at - start
    }

    fn number(&mut self) -> Result<J, String> {
        let start = self.at;
        if self.s[self.at] == b'-' {
            self.at += 1;
        }
        let int = self.digits();
        if int == 0 || (int > 1 && self.s[self.at - int] == b'0') {
            return self.err("invalid number");
        }
        if let Some(b'.') = self.s.get(self.at) {
            self.at += 1;
            if self.digits() == 0 {
                return self.err("invalid number");
            }
        }
        if let Some(b'e' | b'E') = self.s.get(self.at) {
            self.at += 1;
            if let Some(b'+' | b'-') = self.s.get(self.at) {
                self.at += 1;
            }
            if self.digits() == 0 {
                return self.err("invalid number");
            }
        }
        // ASCII only: each octet is its char.
        let text = self.s[start..self.at]
            .iter()
            .map(|&b| char::from(b))
            .collect();
        Ok(J::Num(text))
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let mut v = 0;
        for _ in 0..4 {
            let d = match self.s.get(self.at) {
                Some(c @ b'0'..=b'9') => c - b'0',
                Some(c @ b'a'..=b'f') => c - b'a' + 10,
                Some(c @ b'A'..=b'F') => c - b'A' + 10,
                _ => return self.err("invalid \\u escape"),
            };
            v = v * 16 + u32::from(d);
            self.at += 1;
        }
        Ok(v)
    }

    fn string(&mut self) -> Result<String, String> {
        self.at += 1; // the opening quote
        let mut out = Vec::new();
        loop {
            let Some(&c) = self.s.get(self.at) else {
                return self.err("unterminated string");
            };
            self.at += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let Some(&e) = self.s.get(self.at) else {
                        return self.err("unterminated string");
                    };
                    self.at += 1;
                    let ch = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = self.hex4()?;
                            let code = if (0xd800..0xdc00).contains(&hi)
                                && self.s[self.at..].starts_with(b"\\u")
                            {
                                self.at += 2;
                                let lo = self.hex4()?;
                                if !(0xdc00..0xe000).contains(&lo) {
                                    return self.err("invalid surrogate pair");
                                }
                                0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00)
                            } else {
                                hi
                            };
                            match char::from_u32(code) {
                                Some(ch) => ch,
                                None => return self.err("invalid \\u escape"),
                            }
                        }
                        _ => return self.err("invalid escape"),
                    };
                    let mut buf = [0; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                0..=0x1f => return self.err("control character in string"),
                c => out.push(c),
            }
        }
        // The input is a &str and escapes add whole characters: always valid UTF-8.
        String::from_utf8(out).or_else(|_| self.err("invalid UTF-8"))
    }
}

/// Read one JSON value (RFC 8259), nothing but whitespace after it.
pub fn parse(s: &str) -> Result<J, String> {
    let mut r = Reader {
        s: s.as_bytes(),
        at: 0,
        depth: 0,
    };
    let v = r.value()?;
    if r.peek().is_some() {
        return r.err("trailing characters");
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_json_allows_and_refuses_the_rest() {
        let v =
            parse(r#" {"a":[1,-2.5e3,true,null],"b":"x\"\u00e9\ud83d\ude00\n","a":{}} "#).unwrap();
        assert_eq!(v.get("a"), Some(&J::Obj(vec![])), "the last duplicate key");
        assert_eq!(v.get("b").and_then(J::as_str), Some("x\"é😀\n"));
        let J::Obj(o) = &v else { panic!() };
        assert_eq!(
            o[0].1,
            J::Arr(vec![
                J::Num("1".into()),
                J::Num("-2.5e3".into()),
                J::Bool(true),
                J::Null
            ])
        );
        for bad in [
            "", "[", "[1,]", "{\"a\"}", "01", "1.", "-", "\"\\x\"", "tru", "1 2", "{1:2}",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        assert!(parse(&"[".repeat(100)).unwrap_err().contains("deep"));
        assert_eq!(parse(r#"{"a" 1}"#).unwrap_err(), "expected `:` at offset 5");
    }

    #[test]
    fn integers_read_as_str_parse_reads_them() {
        for t in [
            "0",
            "-0",
            "+0",
            "7",
            "-7",
            "+7",
            "",
            "-",
            "+",
            "+-1",
            "1.5",
            "1e3",
            "12a",
            " 1",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775808",
            "-9223372036854775809",
            "00012",
            "99999999999999999999",
        ] {
            assert_eq!(int_text(t), t.parse::<i64>().ok(), "{t:?}");
        }
    }

    #[test]
    fn writes_integers_as_serde_json_does() {
        for v in [0i64, 7, -7, 1 << 53, -(1 << 53) + 1, i64::MIN, i64::MAX] {
            let mut out = String::new();
            v.write_json(&mut out);
            assert_eq!(out, serde_json::to_string(&v).unwrap());
        }
        for v in [0u64, 10, 99, u64::MAX] {
            let mut out = String::new();
            v.write_json(&mut out);
            assert_eq!(out, serde_json::to_string(&v).unwrap());
        }
        let mut out = String::new();
        (-300i16).write_json(&mut out);
        (255u8).write_json(&mut out);
        usize::MAX.write_json(&mut out);
        assert_eq!(out, format!("-300255{}", usize::MAX));
        // Beyond ±2^53 − 1 as strings, so JavaScript loses no digit.
        let mut out = String::new();
        int(&mut out, i64::MIN);
        assert_eq!(out, "\"-9223372036854775808\"");
    }

    #[test]
    fn writes_floats_and_strings_as_serde_json_does() {
        let mut s = String::new();
        float(&mut s, 1.0f64);
        s.push(' ');
        float(&mut s, 0.1f32);
        s.push(' ');
        float(&mut s, f64::NEG_INFINITY);
        s.push(' ');
        int(&mut s, i64::MAX);
        s.push(' ');
        string(&mut s, "a\"\\\u{1}");
        assert_eq!(
            s,
            r#"1.0 0.1 "-Infinity" "9223372036854775807" "a\"\\\u0001""#
        );
    }

    #[test]
    fn uint_writes_what_to_string_writes() {
        let mut cases = vec![0, 9, 10, 99, 100, u64::MAX, u64::MAX - 1];
        cases.extend((0..64).flat_map(|i| [1u64 << i, (1u64 << i) - 1, 10u64.pow(i % 20)]));
        for n in cases {
            let mut s = String::new();
            uint(&mut s, n);
            assert_eq!(s, n.to_string());
        }
    }
}
