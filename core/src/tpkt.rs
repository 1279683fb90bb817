//! RFC 1006 §6: the TPKT header that frames ISO transport on TCP.
//!
//! `03 00 LL LL`: version 3, a reserved octet, and the length of the whole packet, header included.

use alloc::vec::Vec;
use core::fmt;

/// Octets in a TPKT header.
pub const HEADER_LEN: usize = 4;

/// RFC 1006 §6: the length field is 16 bits, so no packet exceeds this.
pub const MAX_TPKT_LEN: usize = 65_535;

/// The smallest legal packet: a header plus the shortest TPDU (class 0 DT: `02 f0 80`).
pub const MIN_TPKT_LEN: usize = HEADER_LEN + 3;

/// Why a TPKT header was refused. Both are fatal: framing is lost for the rest of the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// RFC 1006 §6: the version must be 3.
    BadVersion(u8),
    /// A packet length below [`MIN_TPKT_LEN`] or above the configured maximum.
    BadLength(usize),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::BadVersion(v) => write!(f, "TPKT version {v}, expected 3"),
            Error::BadLength(n) => write!(f, "TPKT length {n} out of range"),
        }
    }
}

impl core::error::Error for Error {}

/// Length of the first packet in `buf`, header included, once its header is complete; `Ok(None)`
/// while fewer than four octets are buffered. Packets longer than `max_len` are refused so a peer
/// cannot make us buffer more than we agreed to.
pub fn frame_len(buf: &[u8], max_len: usize) -> Result<Option<usize>, Error> {
    let Some(&[version, _, hi, lo]) = buf.get(..HEADER_LEN) else {
        return Ok(None);
    };
    if version != 3 {
        return Err(Error::BadVersion(version));
    }
    let len = usize::from(u16::from_be_bytes([hi, lo]));
    if len < MIN_TPKT_LEN || len > max_len.min(MAX_TPKT_LEN) {
        return Err(Error::BadLength(len));
    }
    Ok(Some(len))
}

/// Start a packet: push a header with a placeholder length and return where it starts.
pub fn begin(out: &mut Vec<u8>) -> usize {
    let start = out.len();
    out.extend_from_slice(&[3, 0, 0, 0]);
    start
}

/// Fill in the length of the packet that [`begin`] started at `start`.
///
/// The caller keeps packets within [`MAX_TPKT_LEN`] (COTP segmentation guarantees it); a longer one is
/// a bug in this crate, caught in debug builds.
pub fn finish(out: &mut [u8], start: usize) {
    let len = out.len() - start;
    debug_assert!(
        len <= MAX_TPKT_LEN,
        "TPKT overflow: COTP segmentation failed"
    );
    let len = len.min(MAX_TPKT_LEN) as u16;
    out[start + 2..start + 4].copy_from_slice(&len.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_for_a_whole_header_then_reads_the_length() {
        assert_eq!(frame_len(&[3, 0, 0], MAX_TPKT_LEN), Ok(None));
        assert_eq!(frame_len(&[3, 0, 0, 22, 0x11], MAX_TPKT_LEN), Ok(Some(22)));
        assert_eq!(
            frame_len(&[3, 0, 0xff, 0xff], MAX_TPKT_LEN),
            Ok(Some(65_535))
        );
    }

    #[test]
    fn refuses_a_bad_version_or_length() {
        assert_eq!(
            frame_len(&[2, 0, 0, 22], MAX_TPKT_LEN),
            Err(Error::BadVersion(2))
        );
        assert_eq!(
            frame_len(&[3, 0, 0, 6], MAX_TPKT_LEN),
            Err(Error::BadLength(6))
        );
        assert_eq!(
            frame_len(&[3, 0, 0x10, 0], 2048),
            Err(Error::BadLength(4096))
        );
    }

    #[test]
    fn begin_and_finish_frame_a_payload() {
        let mut out = alloc::vec![0xaa];
        let start = begin(&mut out);
        out.extend_from_slice(&[2, 0xf0, 0x80]);
        finish(&mut out, start);
        assert_eq!(out, [0xaa, 3, 0, 0, 7, 2, 0xf0, 0x80]);
    }
}
