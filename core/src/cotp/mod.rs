//! ISO 8073 / X.224 class 0 transport on RFC 1006: TPDUs, TSDU segmentation and reassembly.
//!
//! Class 0 has no flow control or multiplexing, so the "state machine" is just connect / data /
//! disconnect, run by [`crate::assoc`]. What lives here is the codec ([`Tpdu`]) plus the two pieces
//! every TSDU needs: [`write_tsdu`] splits an outgoing one into DT TPDUs no larger than the negotiated
//! TPDU size, and [`Reassembler`] joins incoming segments up to EOT.

mod pdu;

pub use pdu::{
    disconnect_reason_name, error_cause_name, ConnectParams, Error, Tpdu, TpduCode, TpduSize,
    DT_EOT_HEADER, MAX_TSEL_LEN,
};

use alloc::vec::Vec;

use crate::tpkt;

/// Write one TSDU whose bytes `f` appends, framed as TPKT + DT TPDUs of at most `max_tpdu` octets
/// (COTP header included).
///
/// The usual TSDU fits one TPDU and is written in place with no copy; a longer one is moved to
/// `scratch` once and cut into segments, the last marked EOT (X.224 §13.7).
// Forced inline off wasm: the association's send path (LLVM's own choice flips with unrelated
// changes around it, 100 instructions of a one-point Read).
#[cfg_attr(not(target_arch = "wasm32"), inline(always))]
pub fn write_tsdu<R>(
    out: &mut Vec<u8>,
    max_tpdu: usize,
    scratch: &mut Vec<u8>,
    f: impl FnOnce(&mut Vec<u8>) -> R,
) -> R {
    let start = begin_tsdu(out);
    let r = f(out);
    finish_tsdu(out, start, max_tpdu, scratch);
    r
}

// The framing around `f`, not generic: one copy for every instance of `write_tsdu` in the wasm
// build; forced inline elsewhere, as it was before the split (the server's send path).

/// Open the first TPKT and DT header; returns where the TPKT starts.
#[cfg_attr(not(target_arch = "wasm32"), inline(always))]
fn begin_tsdu(out: &mut Vec<u8>) -> usize {
    let start = tpkt::begin(out);
    out.extend_from_slice(&DT_EOT_HEADER);
    start
}

/// Close the TSDU begun at `start`: one TPDU if it fits, else cut into segments.
#[cfg_attr(not(target_arch = "wasm32"), inline(always))]
fn finish_tsdu(out: &mut Vec<u8>, start: usize, max_tpdu: usize, scratch: &mut Vec<u8>) {
    let seg_max = max_tpdu
        .max(TpduSize::DEFAULT.bytes())
        .min(tpkt::MAX_TPKT_LEN - tpkt::HEADER_LEN)
        - DT_EOT_HEADER.len();
    let body = start + tpkt::HEADER_LEN + DT_EOT_HEADER.len();
    if out.len() - body <= seg_max {
        tpkt::finish(out, start);
        return;
    }
    scratch.clear();
    scratch.extend_from_slice(&out[body..]);
    out.truncate(start);
    let mut chunks = scratch.chunks(seg_max).peekable();
    while let Some(chunk) = chunks.next() {
        let s = tpkt::begin(out);
        let eot = chunks.peek().is_none();
        out.extend_from_slice(&[2, 0xf0, if eot { 0x80 } else { 0 }]);
        out.extend_from_slice(chunk);
        tpkt::finish(out, s);
    }
}

/// Joins DT segments into TSDUs, refusing any TSDU larger than its limit so a peer cannot make us
/// buffer without bound.
#[derive(Debug, Default)]
pub struct Reassembler {
    buf: Vec<u8>,
}

/// The reassembled TSDU would exceed the configured maximum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TsduTooLarge;

impl core::fmt::Display for TsduTooLarge {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("reassembled TSDU exceeds the limit")
    }
}

impl core::error::Error for TsduTooLarge {}

impl Reassembler {
    /// Whether no partial TSDU is buffered.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Add a non-final segment.
    pub fn push(&mut self, segment: &[u8], max_tsdu: usize) -> Result<(), TsduTooLarge> {
        if self.buf.len() + segment.len() > max_tsdu {
            self.buf.clear();
            return Err(TsduTooLarge);
        }
        self.buf.extend_from_slice(segment);
        Ok(())
    }

    /// Add the final segment and hand out the whole TSDU. Give the buffer back with [`Self::recycle`]
    /// to keep its capacity.
    pub fn finish(&mut self, last: &[u8], max_tsdu: usize) -> Result<Vec<u8>, TsduTooLarge> {
        self.push(last, max_tsdu)?;
        Ok(core::mem::take(&mut self.buf))
    }

    /// Return a buffer taken by [`Self::finish`].
    pub fn recycle(&mut self, mut buf: Vec<u8>) {
        buf.clear();
        self.buf = buf;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(out: &[u8]) -> Vec<(bool, Vec<u8>)> {
        let mut v = Vec::new();
        let mut rest = out;
        while let Some(len) = tpkt::frame_len(rest, tpkt::MAX_TPKT_LEN).unwrap() {
            let Tpdu::Data { eot, user_data } = Tpdu::decode(&rest[4..len]).unwrap() else {
                panic!()
            };
            v.push((eot, user_data.to_vec()));
            rest = &rest[len..];
        }
        assert!(rest.is_empty());
        v
    }

    #[test]
    fn a_small_tsdu_is_one_frame_written_in_place() {
        let mut out = Vec::new();
        write_tsdu(&mut out, 1024, &mut Vec::new(), |o| {
            o.extend_from_slice(&[1, 2, 3])
        });
        assert_eq!(out, [3, 0, 0, 10, 2, 0xf0, 0x80, 1, 2, 3]);
    }

    #[test]
    fn a_large_tsdu_is_segmented_and_reassembles() {
        let payload: Vec<u8> = (0..3000u32).map(|i| i as u8).collect();
        let mut out = Vec::new();
        write_tsdu(&mut out, 1024, &mut Vec::new(), |o| {
            o.extend_from_slice(&payload)
        });
        let f = frames(&out);
        assert_eq!(f.len(), 3);
        assert!(f.iter().all(|(_, d)| d.len() + 3 <= 1024));
        assert_eq!(
            f.iter().map(|(e, _)| *e).collect::<Vec<_>>(),
            [false, false, true]
        );
        let mut r = Reassembler::default();
        r.push(&f[0].1, 4096).unwrap();
        r.push(&f[1].1, 4096).unwrap();
        assert_eq!(r.finish(&f[2].1, 4096).unwrap(), payload);
        assert!(r.is_empty());
    }

    #[test]
    fn reassembly_beyond_the_limit_is_refused() {
        let mut r = Reassembler::default();
        r.push(&[0; 100], 150).unwrap();
        assert_eq!(r.push(&[0; 100], 150), Err(TsduTooLarge));
        assert!(r.is_empty());
    }
}
