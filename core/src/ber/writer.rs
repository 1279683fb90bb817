//! Fast BER writer with minimal definite lengths.

use alloc::vec::Vec;

use super::{primitive, Tag};

/// Appends BER elements to a caller-owned buffer.
///
/// Constructed elements are written in one pass: the content goes straight after a one-octet length
/// placeholder and is shifted once if it turns out to need a long-form length. Lengths are always
/// definite and minimal (X.690 §10.1, DER-style), which every peer accepts.
#[derive(Debug)]
pub struct Writer<'b> {
    buf: &'b mut Vec<u8>,
}

impl<'b> Writer<'b> {
    /// A writer appending to `buf`.
    pub fn new(buf: &'b mut Vec<u8>) -> Self {
        Writer { buf }
    }

    /// The bytes written so far (including whatever `buf` held before).
    pub fn as_slice(&self) -> &[u8] {
        self.buf
    }

    /// Number of bytes in the underlying buffer.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether the underlying buffer is empty.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Append bytes that are already BER.
    #[inline]
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Append an identifier.
    #[inline]
    pub fn tag(&mut self, tag: Tag) {
        let first = (tag.class as u8) << 6 | if tag.constructed { 0x20 } else { 0 };
        if tag.number < 0x1f {
            self.buf.push(first | tag.number as u8);
            return;
        }
        self.buf.push(first | 0x1f);
        let n = tag.number;
        let groups = (32 - n.leading_zeros()).div_ceil(7);
        for i in (0..groups).rev() {
            let b = ((n >> (7 * i)) & 0x7f) as u8;
            self.buf.push(if i == 0 { b } else { b | 0x80 });
        }
    }

    /// Append a definite length in its minimal form.
    #[inline]
    pub fn length(&mut self, len: usize) {
        if len < 0x80 {
            self.buf.push(len as u8);
        } else {
            let n = (usize::BITS - len.leading_zeros()).div_ceil(8) as usize;
            self.buf.push(0x80 | n as u8);
            for i in (0..n).rev() {
                self.buf.push((len >> (8 * i)) as u8);
            }
        }
    }

    /// Append a primitive element.
    #[inline]
    pub fn primitive(&mut self, tag: Tag, content: &[u8]) {
        self.tag(tag);
        self.length(content.len());
        self.buf.extend_from_slice(content);
    }

    /// Append a constructed element whose content `f` writes.
    #[inline]
    pub fn constructed<R>(&mut self, tag: Tag, f: impl FnOnce(&mut Writer<'_>) -> R) -> R {
        let at = self.open(tag);
        let r = f(&mut Writer { buf: self.buf });
        self.close(at);
        r
    }

    // The two halves of `constructed` are not generic, so its hundred instances do not each
    // carry a copy of them: out of line in the wasm build, where the copies were its size, and
    // forced inline elsewhere, where the server's encoders want them in place (250 instructions
    // of a one-point Read when they were mere `#[inline]` hints).

    /// Start a constructed element: its identifier and a one-octet length placeholder; returns
    /// where the placeholder is, for [`Self::close`].
    #[cfg_attr(target_arch = "wasm32", inline(never))]
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))]
    fn open(&mut self, tag: Tag) -> usize {
        self.tag(tag);
        let len_pos = self.buf.len();
        self.buf.push(0);
        len_pos
    }

    /// End the constructed element opened at `len_pos`: its content is everything after the
    /// placeholder, whose length goes there (moving the content on for a long form).
    #[cfg_attr(target_arch = "wasm32", inline(never))]
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))]
    fn close(&mut self, len_pos: usize) {
        let start = len_pos + 1;
        let len = self.buf.len() - start;
        if len < 0x80 {
            self.buf[len_pos] = len as u8;
        } else {
            let n = (usize::BITS - len.leading_zeros()).div_ceil(8) as usize;
            self.buf.resize(self.buf.len() + n, 0);
            self.buf.copy_within(start..start + len, start + n);
            self.buf[len_pos] = 0x80 | n as u8;
            for i in 0..n {
                self.buf[len_pos + 1 + i] = (len >> (8 * (n - 1 - i))) as u8;
            }
        }
    }

    /// Append a BOOLEAN-shaped element (true encodes as 0xff).
    #[inline]
    pub fn boolean(&mut self, tag: Tag, v: bool) {
        self.primitive(tag, &[if v { 0xff } else { 0 }]);
    }

    /// Append an INTEGER-shaped element in its minimal two's-complement form.
    #[inline]
    pub fn integer(&mut self, tag: Tag, v: i64) {
        let (bytes, n) = primitive::encode_i64(v);
        self.primitive(tag, &bytes[8 - n..]);
    }

    /// Append an unsigned value as a (non-negative) INTEGER, e.g. MMS `Unsigned`.
    #[inline]
    pub fn unsigned(&mut self, tag: Tag, v: u64) {
        let (bytes, n) = primitive::encode_u64(v);
        self.primitive(tag, &bytes[9 - n..]);
    }

    /// Append a BIT STRING-shaped element from its octets and its bit count.
    #[inline]
    pub fn bit_string(&mut self, tag: Tag, octets: &[u8], bits: usize) {
        let unused = (octets.len() * 8).saturating_sub(bits).min(7) as u8;
        self.tag(tag);
        self.length(octets.len() + 1);
        self.buf.push(unused);
        self.buf.extend_from_slice(octets);
    }

    /// Append an empty element (NULL-shaped).
    #[inline]
    pub fn null(&mut self, tag: Tag) {
        self.primitive(tag, &[]);
    }
}
