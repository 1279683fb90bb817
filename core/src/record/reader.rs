//! The reading side: a [`Reader`] walks a log held in memory and returns its entries, or a
//! [`RecordError`] that says where and why the log cannot be read. Nothing in a log is trusted:
//! lengths are bounded before anything is allocated.

use core::fmt;

use super::format::{checksum, Entry, Header, FORMAT_VERSION, FRAME_OVERHEAD, MAGIC};

/// Default bound on one frame (an entry holds at most one input or output buffer).
pub const DEFAULT_MAX_FRAME: usize = 16 * 1024 * 1024;

/// Why a log cannot be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordError {
    /// The file does not start with [`MAGIC`]: not a FreeTase2 recording.
    NotARecording,
    /// Written by a format version this build does not read.
    UnsupportedVersion {
        /// The file's version.
        found: u32,
        /// The newest this build reads.
        supported: u32,
    },
    /// The file ends inside a frame (a recording cut short, e.g. by a crash): the entries
    /// before `offset` are good.
    Truncated {
        /// Offset of the incomplete frame.
        offset: usize,
    },
    /// A frame claims more octets than the bound allows.
    FrameTooLarge {
        /// Offset of the frame.
        offset: usize,
        /// Its claimed length.
        len: usize,
        /// The bound.
        max: usize,
    },
    /// A frame's checksum does not match its contents: the file is corrupted.
    Corrupted {
        /// Offset of the frame.
        offset: usize,
    },
    /// A frame's contents are not a valid header or entry.
    Malformed {
        /// Offset of the frame.
        offset: usize,
        /// What postcard said.
        detail: postcard::Error,
    },
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordError::NotARecording => {
                f.write_str("not a FreeTase2 recording (no TASE2REC header)")
            }
            RecordError::UnsupportedVersion { found, supported } => write!(
                f,
                "recording format version {found}; this build reads up to {supported}"
            ),
            RecordError::Truncated { offset } => {
                write!(f, "recording ends inside the frame at offset {offset}")
            }
            RecordError::FrameTooLarge { offset, len, max } => write!(
                f,
                "frame at offset {offset} claims {len} octets (limit {max})"
            ),
            RecordError::Corrupted { offset } => {
                write!(
                    f,
                    "frame at offset {offset} is corrupted (checksum mismatch)"
                )
            }
            RecordError::Malformed { offset, detail } => {
                write!(f, "frame at offset {offset} does not decode: {detail}")
            }
        }
    }
}

impl core::error::Error for RecordError {}

/// Walks a log in memory: [`Reader::new`] checks the header, [`Reader::next_entry`] returns the
/// entries in order.
#[derive(Debug)]
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    max_frame: usize,
    header: Header,
}

impl<'a> Reader<'a> {
    /// Open a log with the default frame bound.
    pub fn new(data: &'a [u8]) -> Result<Reader<'a>, RecordError> {
        Reader::with_max_frame(data, DEFAULT_MAX_FRAME)
    }

    /// Open a log whose frames may not exceed `max_frame` octets.
    pub fn with_max_frame(data: &'a [u8], max_frame: usize) -> Result<Reader<'a>, RecordError> {
        if data.len() < MAGIC.len() || data[..MAGIC.len()] != MAGIC {
            return Err(RecordError::NotARecording);
        }
        let mut pos = MAGIC.len();
        let payload =
            frame(data, &mut pos, max_frame)?.ok_or(RecordError::Truncated { offset: pos })?;
        // The version leads the header (a varint), so a file of a newer version is recognised
        // as such even if the rest of its header would not decode here.
        let (version, _) =
            postcard::take_from_bytes::<u32>(payload).map_err(|detail| RecordError::Malformed {
                offset: MAGIC.len(),
                detail,
            })?;
        if version == 0 || version > FORMAT_VERSION {
            return Err(RecordError::UnsupportedVersion {
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        let header: Header =
            postcard::from_bytes(payload).map_err(|detail| RecordError::Malformed {
                offset: MAGIC.len(),
                detail,
            })?;
        Ok(Reader {
            data,
            pos,
            max_frame,
            header,
        })
    }

    /// The header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Offset of the next frame.
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// The next entry; `Ok(None)` at the end of the log.
    pub fn next_entry(&mut self) -> Result<Option<Entry>, RecordError> {
        let offset = self.pos;
        let Some(payload) = frame(self.data, &mut self.pos, self.max_frame)? else {
            return Ok(None);
        };
        postcard::from_bytes(payload)
            .map(Some)
            .map_err(|detail| RecordError::Malformed { offset, detail })
    }
}

impl Iterator for Reader<'_> {
    type Item = Result<Entry, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        let r = self.next_entry().transpose();
        if matches!(r, Some(Err(_))) {
            // An error is the end: never loop on a bad frame.
            self.pos = self.data.len();
        }
        r
    }
}

/// The payload of the frame at `*pos`, advancing past it; `None` at the end of `data`.
fn frame<'a>(data: &'a [u8], pos: &mut usize, max: usize) -> Result<Option<&'a [u8]>, RecordError> {
    let offset = *pos;
    let rest = &data[offset..];
    if rest.is_empty() {
        return Ok(None);
    }
    if rest.len() < FRAME_OVERHEAD {
        return Err(RecordError::Truncated { offset });
    }
    let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
    let sum = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]);
    if len > max {
        return Err(RecordError::FrameTooLarge { offset, len, max });
    }
    let payload = rest
        .get(FRAME_OVERHEAD..FRAME_OVERHEAD + len)
        .ok_or(RecordError::Truncated { offset })?;
    if checksum(payload) != sum {
        return Err(RecordError::Corrupted { offset });
    }
    *pos = offset + FRAME_OVERHEAD + len;
    Ok(Some(payload))
}
