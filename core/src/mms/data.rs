//! The MMS `Data` type (ISO 9506-2 §14.4, with the IEC 61850-8-1 additions `MMSString` and
//! `UtcTime`), owned ([`Data`]) and as a zero-allocation view ([`DataRef`]).
//!
//! ```text
//! Data ::= CHOICE {                       -- [0] is reserved for AccessResult failure
//!   array [1] IMPLICIT SEQUENCE OF Data,  structure [2] IMPLICIT SEQUENCE OF Data,
//!   boolean [3] BOOLEAN,  bit-string [4] BIT STRING,  integer [5] INTEGER,  unsigned [6] INTEGER,
//!   floating-point [7] FloatingPoint,  octet-string [9],  visible-string [10],
//!   generalized-time [11],  binary-time [12] TimeOfDay,  bcd [13] INTEGER,
//!   booleanArray [14] BIT STRING,  objId [15] OBJECT IDENTIFIER,  mMSString [16],  utc-time [17] }
//! ```

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use super::DecodeLimits;
use crate::ber::{self, primitive, Class, ObjectIdentifier, Reader, Tag, Tlv, Writer};

pub(crate) const TAG_ARRAY: Tag = Tag::context_cons(1);
pub(crate) const TAG_STRUCTURE: Tag = Tag::context_cons(2);
pub(crate) const TAG_BOOLEAN: Tag = Tag::context(3);
pub(crate) const TAG_BIT_STRING: Tag = Tag::context(4);
pub(crate) const TAG_INTEGER: Tag = Tag::context(5);
pub(crate) const TAG_UNSIGNED: Tag = Tag::context(6);
pub(crate) const TAG_FLOAT: Tag = Tag::context(7);
pub(crate) const TAG_OCTET_STRING: Tag = Tag::context(9);
pub(crate) const TAG_VISIBLE_STRING: Tag = Tag::context(10);
pub(crate) const TAG_GENERALIZED_TIME: Tag = Tag::context(11);
pub(crate) const TAG_BINARY_TIME: Tag = Tag::context(12);
pub(crate) const TAG_BCD: Tag = Tag::context(13);
pub(crate) const TAG_BOOLEAN_ARRAY: Tag = Tag::context(14);
pub(crate) const TAG_OBJ_ID: Tag = Tag::context(15);
pub(crate) const TAG_MMS_STRING: Tag = Tag::context(16);
pub(crate) const TAG_UTC_TIME: Tag = Tag::context(17);

/// FloatingPoint exponent width of IEEE 754 single precision (ISO 9506-2 §14.4.2.2).
const EXPONENT_WIDTH_F32: u8 = 8;
/// FloatingPoint exponent width of IEEE 754 double precision.
const EXPONENT_WIDTH_F64: u8 = 11;

/// A BIT STRING value: `bits` bits, bit 0 being the most significant bit of `octets[0]`.
///
/// **Invariant expected by the encoder: `octets.len() == bits.div_ceil(8)`**; the encoder pads or
/// truncates to that length if it does not hold. Unused trailing bits are kept as received.
#[derive(Clone, Debug, PartialEq, Eq, Default, Hash)]
pub struct BitString {
    /// The octets, most significant bit first.
    pub octets: Vec<u8>,
    /// The number of bits.
    pub bits: usize,
}

impl BitString {
    /// `bits` zero bits.
    pub fn with_len(bits: usize) -> Self {
        BitString {
            octets: alloc::vec![0; bits.div_ceil(8)],
            bits,
        }
    }

    /// A bit string from octets and a bit count (octets beyond `bits.div_ceil(8)` are dropped,
    /// missing ones are zero).
    pub fn from_octets(octets: &[u8], bits: usize) -> Self {
        let mut o = octets.to_vec();
        o.resize(bits.div_ceil(8), 0);
        BitString { octets: o, bits }
    }

    /// Number of bits.
    pub fn len(&self) -> usize {
        self.bits
    }

    /// Whether there are no bits.
    pub fn is_empty(&self) -> bool {
        self.bits == 0
    }

    /// Bit `i` (false beyond the end).
    pub fn get(&self, i: usize) -> bool {
        i < self.bits
            && self
                .octets
                .get(i / 8)
                .is_some_and(|o| o & (0x80 >> (i % 8)) != 0)
    }

    /// Set bit `i`, growing the string to `i + 1` bits if it is shorter.
    pub fn set(&mut self, i: usize, v: bool) {
        if i >= self.bits {
            self.bits = i + 1;
        }
        let need = self.bits.div_ceil(8);
        if self.octets.len() < need {
            self.octets.resize(need, 0);
        }
        let mask = 0x80u8 >> (i % 8);
        if v {
            self.octets[i / 8] |= mask;
        } else {
            self.octets[i / 8] &= !mask;
        }
    }
}

/// An MMS floating-point value. On the wire: one exponent-width octet, then the IEEE 754 bytes
/// big-endian (ISO 9506-2 §14.4.2.2). Widths 8 (single) and 11 (double) are supported; any other
/// width is a decode error.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Float {
    /// IEEE 754 single precision (exponent width 8).
    F32(f32),
    /// IEEE 754 double precision (exponent width 11).
    F64(f64),
}

impl Float {
    /// The value as `f64`.
    pub fn to_f64(self) -> f64 {
        match self {
            Float::F32(v) => f64::from(v),
            Float::F64(v) => v,
        }
    }
}

/// MMS `TimeOfDay` (binary-time): milliseconds since midnight and, in the six-octet form, days
/// since 1 January 1984.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BinaryTime {
    /// Milliseconds since midnight.
    pub millis_since_midnight: u32,
    /// Days since 1984-01-01; `None` for the four-octet form.
    pub days_since_1984: Option<u16>,
}

/// IEC 61850-8-1 `UtcTime`: seconds since 1970-01-01 UTC, a 24-bit binary fraction of a second,
/// and the time-quality octet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UtcTime {
    /// Seconds since the Unix epoch.
    pub seconds: u32,
    /// Fraction of a second in units of 2^-24 s (only the low 24 bits are encoded).
    pub fraction: u32,
    /// Time quality: leap-second-known, clock-failure, not-synchronized, accuracy bits.
    pub quality: u8,
}

impl UtcTime {
    fn from_octets(c: &[u8]) -> Result<Self, DataError> {
        match c {
            [s0, s1, s2, s3, f0, f1, f2, q] => Ok(UtcTime {
                seconds: u32::from_be_bytes([*s0, *s1, *s2, *s3]),
                fraction: u32::from_be_bytes([0, *f0, *f1, *f2]),
                quality: *q,
            }),
            _ => Err(DataError::InvalidTime),
        }
    }

    fn to_octets(self) -> [u8; 8] {
        let s = self.seconds.to_be_bytes();
        let f = self.fraction.to_be_bytes();
        [s[0], s[1], s[2], s[3], f[1], f[2], f[3], self.quality]
    }
}

impl BinaryTime {
    fn from_octets(c: &[u8]) -> Result<Self, DataError> {
        match c {
            [m0, m1, m2, m3] => Ok(BinaryTime {
                millis_since_midnight: u32::from_be_bytes([*m0, *m1, *m2, *m3]),
                days_since_1984: None,
            }),
            [m0, m1, m2, m3, d0, d1] => Ok(BinaryTime {
                millis_since_midnight: u32::from_be_bytes([*m0, *m1, *m2, *m3]),
                days_since_1984: Some(u16::from_be_bytes([*d0, *d1])),
            }),
            _ => Err(DataError::InvalidTime),
        }
    }

    fn write(self, w: &mut Writer<'_>) {
        let m = self.millis_since_midnight.to_be_bytes();
        match self.days_since_1984 {
            None => w.primitive(TAG_BINARY_TIME, &m),
            Some(d) => {
                let d = d.to_be_bytes();
                w.primitive(TAG_BINARY_TIME, &[m[0], m[1], m[2], m[3], d[0], d[1]]);
            }
        }
    }
}

/// Why a `Data` element was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataError {
    /// Malformed BER.
    Ber(ber::Error),
    /// Nesting deeper than [`DecodeLimits::max_data_depth`].
    TooDeep,
    /// A list longer than [`DecodeLimits::max_list_len`].
    TooManyElements,
    /// A tag that is not a `Data` alternative (or in the wrong form).
    UnknownTag(Tag),
    /// A floating-point value with an unsupported exponent width or length.
    InvalidFloat,
    /// A binary-time or UTC-time of the wrong length.
    InvalidTime,
    /// A string that is not valid UTF-8.
    InvalidString,
}

// Out of line in the wasm build, as the MMS PDU error's conversions (150 octets gzipped).
impl From<ber::Error> for DataError {
    #[cfg_attr(target_arch = "wasm32", inline(never))]
    fn from(e: ber::Error) -> Self {
        match e {
            ber::Error::TooDeep => DataError::TooDeep,
            e => DataError::Ber(e),
        }
    }
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataError::Ber(e) => write!(f, "MMS data: {e}"),
            DataError::TooDeep => f.write_str("MMS data nested deeper than the limit"),
            DataError::TooManyElements => f.write_str("MMS data list longer than the limit"),
            DataError::UnknownTag(t) => write!(f, "MMS data: unknown alternative {t}"),
            DataError::InvalidFloat => f.write_str("MMS data: unsupported floating-point format"),
            DataError::InvalidTime => f.write_str("MMS data: time value of the wrong length"),
            DataError::InvalidString => f.write_str("MMS data: string is not valid UTF-8"),
        }
    }
}

impl core::error::Error for DataError {}

/// An owned MMS `Data` value.
#[derive(Clone, Debug, PartialEq)]
pub enum Data {
    /// `[1]` array: elements of one type.
    Array(Vec<Data>),
    /// `[2]` structure: components in declaration order.
    Structure(Vec<Data>),
    /// `[3]` BOOLEAN.
    Boolean(bool),
    /// `[4]` BIT STRING.
    BitString(BitString),
    /// `[5]` INTEGER.
    Integer(i64),
    /// `[6]` unsigned INTEGER.
    Unsigned(u64),
    /// `[7]` floating-point.
    Float(Float),
    /// `[9]` OCTET STRING.
    OctetString(Vec<u8>),
    /// `[10]` VisibleString.
    VisibleString(String),
    /// `[11]` GeneralizedTime (kept as its text).
    GeneralizedTime(String),
    /// `[12]` binary-time (TimeOfDay).
    BinaryTime(BinaryTime),
    /// `[13]` BCD, as its integer value.
    Bcd(i64),
    /// `[14]` booleanArray.
    BooleanArray(BitString),
    /// `[15]` OBJECT IDENTIFIER.
    ObjectId(ObjectIdentifier),
    /// `[16]` MMSString (UTF-8).
    MmsString(String),
    /// `[17]` UtcTime.
    UtcTime(UtcTime),
}

impl Data {
    /// Decode one `Data` element (a `Data` CHOICE alternative, i.e. the element itself, not a
    /// wrapper around it).
    pub fn decode(tlv: &Tlv<'_>, limits: &DecodeLimits) -> Result<Data, DataError> {
        DataRef::decode(tlv)?.to_owned_at(limits, 0)
    }

    /// Append the BER encoding.
    pub fn encode(&self, w: &mut Writer<'_>) {
        match self {
            Data::Array(v) => w.constructed(TAG_ARRAY, |w| encode_members(w, v)),
            Data::Structure(v) => w.constructed(TAG_STRUCTURE, |w| encode_members(w, v)),
            Data::Boolean(b) => w.boolean(TAG_BOOLEAN, *b),
            Data::BitString(b) => write_bits(w, TAG_BIT_STRING, &b.octets, b.bits),
            Data::Integer(v) => put_int(w, TAG_INTEGER, *v),
            Data::Unsigned(v) => w.unsigned(TAG_UNSIGNED, *v),
            Data::Float(Float::F32(v)) => write::float32(w, *v),
            Data::Float(Float::F64(v)) => write::float64(w, *v),
            Data::OctetString(o) => w.primitive(TAG_OCTET_STRING, o),
            Data::VisibleString(s) => w.primitive(TAG_VISIBLE_STRING, s.as_bytes()),
            Data::GeneralizedTime(s) => w.primitive(TAG_GENERALIZED_TIME, s.as_bytes()),
            Data::BinaryTime(t) => t.write(w),
            Data::Bcd(v) => w.integer(TAG_BCD, *v),
            Data::BooleanArray(b) => write_bits(w, TAG_BOOLEAN_ARRAY, &b.octets, b.bits),
            Data::ObjectId(o) => w.primitive(TAG_OBJ_ID, o.as_bytes()),
            Data::MmsString(s) => w.primitive(TAG_MMS_STRING, s.as_bytes()),
            Data::UtcTime(t) => w.primitive(TAG_UTC_TIME, &t.to_octets()),
        }
    }
}

/// Members of an array or structure. The scalars of TASE.2 point values are written inline
/// (no recursive call per member): this is the server's Read-response and report hot path.
#[inline]
fn encode_members(w: &mut Writer<'_>, members: &[Data]) {
    // The browser package is no server: it writes each member through `Data::encode`, the same
    // octets (the test `members_are_written_as_each_alone`) in less code (110 octets gzipped).
    if cfg!(target_arch = "wasm32") {
        encode_each(w, members);
        return;
    }
    for d in members {
        match d {
            Data::Float(Float::F32(v)) => write::float32(w, *v),
            Data::Integer(v) => put_int(w, TAG_INTEGER, *v),
            Data::Unsigned(v) if *v < 0x8000_0000 => put_int(w, TAG_UNSIGNED, *v as i64),
            Data::BitString(b) => write_bits(w, TAG_BIT_STRING, &b.octets, b.bits),
            Data::Boolean(b) => w.raw(&[tag_octet(TAG_BOOLEAN), 1, if *b { 0xff } else { 0 }]),
            d => d.encode(w),
        }
    }
}

/// Members of an array or structure, each as [`Data::encode`] writes it alone.
fn encode_each(w: &mut Writer<'_>, members: &[Data]) {
    for d in members {
        d.encode(w);
    }
}

/// An INTEGER-shaped element with a low tag number, written with one fixed-size append for the
/// common widths (the hot path: no variable-length copy). Forced inline everywhere but in the
/// wasm build, where the copies cost the browser package 380 octets gzipped.
#[cfg_attr(not(target_arch = "wasm32"), inline(always))]
fn put_int(w: &mut Writer<'_>, tag: Tag, v: i64) {
    let (b, n) = primitive::encode_i64(v);
    let t = tag_octet(tag);
    match n {
        1 => w.raw(&[t, 1, b[7]]),
        2 => w.raw(&[t, 2, b[6], b[7]]),
        3 => w.raw(&[t, 3, b[5], b[6], b[7]]),
        4 => w.raw(&[t, 4, b[4], b[5], b[6], b[7]]),
        _ => w.integer(tag, v),
    }
}

/// The identifier octet of a low-numbered tag (all `Data` tags are below 31).
#[inline(always)]
const fn tag_octet(tag: Tag) -> u8 {
    (tag.class as u8) << 6 | if tag.constructed { 0x20 } else { 0 } | tag.number as u8
}

/// BIT STRING with exactly `bits.div_ceil(8)` content octets, whatever `octets` holds.
#[inline]
fn write_bits(w: &mut Writer<'_>, tag: Tag, octets: &[u8], bits: usize) {
    let n = bits.div_ceil(8);
    if n == 1 && octets.len() == 1 {
        // The TASE.2 Flags case: one write.
        w.raw(&[tag_octet(tag), 2, (8 - bits) as u8, octets[0]]);
        return;
    }
    if octets.len() == n {
        w.bit_string(tag, octets, bits);
        return;
    }
    w.tag(tag);
    w.length(n + 1);
    w.raw(&[(n * 8 - bits) as u8]);
    let have = octets.len().min(n);
    w.raw(&octets[..have]);
    for _ in have..n {
        w.raw(&[0]);
    }
}

fn utf8(c: &[u8]) -> Result<String, DataError> {
    core::str::from_utf8(c)
        .map(String::from)
        .map_err(|_| DataError::InvalidString)
}

/// MMS `Unsigned`. Leniency: some stacks send values with the top bit set without the leading zero
/// octet (e.g. `ff ff ff ff` for 2^32-1); those are read as unsigned magnitudes, as they meant.
fn decode_unsigned(c: &[u8]) -> Result<u64, DataError> {
    match primitive::decode_u64(c) {
        Ok(v) => Ok(v),
        Err(ber::Error::InvalidValue) if c.len() <= 8 => {
            Ok(c.iter().fold(0u64, |v, &b| (v << 8) | u64::from(b)))
        }
        Err(e) => Err(e.into()),
    }
}

/// A borrowed view of one `Data` element: scalars are decoded, arrays and structures stay as
/// readers over their (undecoded) members. Decoding one costs no allocation.
#[derive(Clone, Debug)]
pub enum DataRef<'a> {
    /// `[1]` array: a reader over the elements.
    Array(Reader<'a>),
    /// `[2]` structure: a reader over the components.
    Structure(Reader<'a>),
    /// `[3]` BOOLEAN.
    Boolean(bool),
    /// `[4]` BIT STRING.
    BitString {
        /// Content octets after the unused-bits octet.
        octets: &'a [u8],
        /// Number of bits.
        bits: usize,
    },
    /// `[5]` INTEGER.
    Integer(i64),
    /// `[6]` unsigned INTEGER.
    Unsigned(u64),
    /// `[7]` floating-point.
    Float(Float),
    /// `[9]` OCTET STRING.
    OctetString(&'a [u8]),
    /// `[10]` VisibleString, raw octets.
    VisibleString(&'a [u8]),
    /// `[11]` GeneralizedTime, raw octets.
    GeneralizedTime(&'a [u8]),
    /// `[12]` binary-time.
    BinaryTime(BinaryTime),
    /// `[13]` BCD.
    Bcd(i64),
    /// `[14]` booleanArray.
    BooleanArray {
        /// Content octets after the unused-bits octet.
        octets: &'a [u8],
        /// Number of bits.
        bits: usize,
    },
    /// `[15]` OBJECT IDENTIFIER content octets (not validated).
    ObjectId(&'a [u8]),
    /// `[16]` MMSString, raw UTF-8 octets (not validated).
    MmsString(&'a [u8]),
    /// `[17]` UtcTime.
    UtcTime(UtcTime),
}

impl<'a> DataRef<'a> {
    /// Decode the element's alternative and scalar value; members of arrays and structures are not
    /// looked at (see [`DataRef::members`]).
    // Forced inline into the server's decoding loops, but not in the wasm build: its four copies
    // there (and `next_in`'s) cost the browser package about 950 octets gzipped.
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))]
    pub fn decode(tlv: &Tlv<'a>) -> Result<Self, DataError> {
        let t = tlv.tag;
        if t.class != Class::Context {
            return Err(DataError::UnknownTag(t));
        }
        if t.constructed {
            return match t.number {
                1 => Ok(DataRef::Array(tlv.reader()?)),
                2 => Ok(DataRef::Structure(tlv.reader()?)),
                _ => Err(DataError::UnknownTag(t)),
            };
        }
        let c = tlv.content;
        Ok(match t.number {
            3 => DataRef::Boolean(primitive::decode_bool(c)?),
            4 => {
                let (octets, bits) = primitive::decode_bit_string(c)?;
                DataRef::BitString { octets, bits }
            }
            5 => DataRef::Integer(primitive::decode_i64(c)?),
            6 => DataRef::Unsigned(decode_unsigned(c)?),
            7 => DataRef::Float(match c {
                [EXPONENT_WIDTH_F32, b @ ..] if b.len() == 4 => {
                    Float::F32(f32::from_be_bytes([b[0], b[1], b[2], b[3]]))
                }
                [EXPONENT_WIDTH_F64, b @ ..] if b.len() == 8 => Float::F64(f64::from_be_bytes([
                    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
                ])),
                _ => return Err(DataError::InvalidFloat),
            }),
            9 => DataRef::OctetString(c),
            10 => DataRef::VisibleString(c),
            11 => DataRef::GeneralizedTime(c),
            12 => DataRef::BinaryTime(BinaryTime::from_octets(c)?),
            13 => DataRef::Bcd(primitive::decode_i64(c)?),
            14 => {
                let (octets, bits) = primitive::decode_bit_string(c)?;
                DataRef::BooleanArray { octets, bits }
            }
            15 => DataRef::ObjectId(c),
            16 => DataRef::MmsString(c),
            17 => DataRef::UtcTime(UtcTime::from_octets(c)?),
            _ => return Err(DataError::UnknownTag(t)),
        })
    }

    /// Decode the next element of `r` (e.g. the next member of a structure); `None` at the end.
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))]
    pub fn next_in(r: &mut Reader<'a>) -> Result<Option<Self>, DataError> {
        match r.read_opt()? {
            Some(t) => DataRef::decode(&t).map(Some),
            None => Ok(None),
        }
    }

    /// An iterator over the members of an array or structure; `None` for scalars.
    pub fn members(&self) -> Option<DataIter<'a>> {
        match self {
            DataRef::Array(r) | DataRef::Structure(r) => Some(DataIter(r.clone())),
            _ => None,
        }
    }

    /// The value of a floating-point element (F64 narrowed to `f32`).
    #[inline]
    pub fn as_f32(&self) -> Option<f32> {
        match self {
            DataRef::Float(Float::F32(v)) => Some(*v),
            DataRef::Float(Float::F64(v)) => Some(*v as f32),
            _ => None,
        }
    }

    /// The value of an integer, unsigned (if it fits) or BCD element.
    #[inline]
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            DataRef::Integer(v) | DataRef::Bcd(v) => Some(*v),
            DataRef::Unsigned(v) => i64::try_from(*v).ok(),
            _ => None,
        }
    }

    /// The value of a BOOLEAN element.
    #[inline]
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            DataRef::Boolean(v) => Some(*v),
            _ => None,
        }
    }

    /// The octets and bit count of a bit-string (or booleanArray) element.
    #[inline]
    pub fn as_bits(&self) -> Option<(&'a [u8], usize)> {
        match self {
            DataRef::BitString { octets, bits } | DataRef::BooleanArray { octets, bits } => {
                Some((octets, *bits))
            }
            _ => None,
        }
    }

    /// The whole value as owned [`Data`], within `limits`.
    pub fn to_owned(&self, limits: &DecodeLimits) -> Result<Data, DataError> {
        self.to_owned_at(limits, 0)
    }

    fn to_owned_at(&self, limits: &DecodeLimits, depth: u8) -> Result<Data, DataError> {
        Ok(match self {
            DataRef::Array(r) => Data::Array(members_owned(r, limits, depth)?),
            DataRef::Structure(r) => Data::Structure(members_owned(r, limits, depth)?),
            DataRef::Boolean(b) => Data::Boolean(*b),
            DataRef::BitString { octets, bits } => Data::BitString(BitString {
                octets: octets.to_vec(),
                bits: *bits,
            }),
            DataRef::Integer(v) => Data::Integer(*v),
            DataRef::Unsigned(v) => Data::Unsigned(*v),
            DataRef::Float(v) => Data::Float(*v),
            DataRef::OctetString(o) => Data::OctetString(o.to_vec()),
            DataRef::VisibleString(s) => Data::VisibleString(utf8(s)?),
            DataRef::GeneralizedTime(s) => Data::GeneralizedTime(utf8(s)?),
            DataRef::BinaryTime(t) => Data::BinaryTime(*t),
            DataRef::Bcd(v) => Data::Bcd(*v),
            DataRef::BooleanArray { octets, bits } => Data::BooleanArray(BitString {
                octets: octets.to_vec(),
                bits: *bits,
            }),
            DataRef::ObjectId(o) => Data::ObjectId(ObjectIdentifier::from_content(o)?),
            DataRef::MmsString(s) => Data::MmsString(utf8(s)?),
            DataRef::UtcTime(t) => Data::UtcTime(*t),
        })
    }
}

fn members_owned(r: &Reader<'_>, limits: &DecodeLimits, depth: u8) -> Result<Vec<Data>, DataError> {
    if depth >= limits.max_data_depth {
        return Err(DataError::TooDeep);
    }
    let mut r = r.clone();
    let mut out = Vec::new();
    while let Some(t) = r.read_opt()? {
        if out.len() >= limits.max_list_len {
            return Err(DataError::TooManyElements);
        }
        out.push(DataRef::decode(&t)?.to_owned_at(limits, depth + 1)?);
    }
    Ok(out)
}

/// Iterator over the members of an array or structure [`DataRef`].
#[derive(Clone, Debug)]
pub struct DataIter<'a>(Reader<'a>);

impl<'a> Iterator for DataIter<'a> {
    type Item = Result<DataRef<'a>, DataError>;
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match DataRef::next_in(&mut self.0) {
            Ok(Some(d)) => Some(Ok(d)),
            Ok(None) => None,
            Err(e) => {
                // Stop after the first error: the rest of the reader cannot be trusted.
                self.0 = Reader::new(&[]);
                Some(Err(e))
            }
        }
    }
}

/// Writers for `Data` elements straight into a [`Writer`], for hot paths that produce values
/// without building [`Data`] (server Read responses and reports).
pub mod write {
    use super::*;

    /// A structure whose components `f` writes.
    #[inline]
    pub fn structure(w: &mut Writer<'_>, f: impl FnOnce(&mut Writer<'_>)) {
        w.constructed(TAG_STRUCTURE, f);
    }

    /// An array whose elements `f` writes.
    #[inline]
    pub fn array(w: &mut Writer<'_>, f: impl FnOnce(&mut Writer<'_>)) {
        w.constructed(TAG_ARRAY, f);
    }

    /// A BOOLEAN.
    #[inline]
    pub fn boolean(w: &mut Writer<'_>, v: bool) {
        w.boolean(TAG_BOOLEAN, v);
    }

    /// An INTEGER.
    #[inline]
    pub fn integer(w: &mut Writer<'_>, v: i64) {
        put_int(w, TAG_INTEGER, v);
    }

    /// An unsigned INTEGER.
    #[inline]
    pub fn unsigned(w: &mut Writer<'_>, v: u64) {
        w.unsigned(TAG_UNSIGNED, v);
    }

    /// A single-precision floating-point value.
    #[inline]
    pub fn float32(w: &mut Writer<'_>, v: f32) {
        let b = v.to_be_bytes();
        w.raw(&[
            tag_octet(TAG_FLOAT),
            5,
            EXPONENT_WIDTH_F32,
            b[0],
            b[1],
            b[2],
            b[3],
        ]);
    }

    /// A double-precision floating-point value.
    #[inline]
    pub fn float64(w: &mut Writer<'_>, v: f64) {
        let b = v.to_be_bytes();
        w.primitive(
            TAG_FLOAT,
            &[
                EXPONENT_WIDTH_F64,
                b[0],
                b[1],
                b[2],
                b[3],
                b[4],
                b[5],
                b[6],
                b[7],
            ],
        );
    }

    /// A BIT STRING of `bits` bits from `octets` (padded or cut to `bits.div_ceil(8)` octets).
    #[inline]
    pub fn bit_string(w: &mut Writer<'_>, octets: &[u8], bits: usize) {
        write_bits(w, TAG_BIT_STRING, octets, bits);
    }

    /// An OCTET STRING.
    #[inline]
    pub fn octet_string(w: &mut Writer<'_>, v: &[u8]) {
        w.primitive(TAG_OCTET_STRING, v);
    }

    /// A VisibleString.
    #[inline]
    pub fn visible_string(w: &mut Writer<'_>, v: &str) {
        w.primitive(TAG_VISIBLE_STRING, v.as_bytes());
    }

    /// A UtcTime.
    #[inline]
    pub fn utc_time(w: &mut Writer<'_>, v: UtcTime) {
        w.primitive(TAG_UTC_TIME, &v.to_octets());
    }
}

#[cfg(test)]
mod tests;
