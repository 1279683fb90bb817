//! ISO 8327-1 / X.225 SPDUs used by the kernel and duplex functional units.

use alloc::vec::Vec;
use core::fmt;

/// An SPDU identifier (X.225 §8.3, table 10). Unknown values survive decoding.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SpduType(pub u8);

impl SpduType {
    /// Data transfer (category 2), also Give Tokens (category 0): both are 1.
    pub const DATA_TRANSFER: SpduType = SpduType(1);
    /// Not finished.
    pub const NOT_FINISHED: SpduType = SpduType(8);
    /// Finish.
    pub const FINISH: SpduType = SpduType(9);
    /// Disconnect.
    pub const DISCONNECT: SpduType = SpduType(10);
    /// Refuse.
    pub const REFUSE: SpduType = SpduType(12);
    /// Connect.
    pub const CONNECT: SpduType = SpduType(13);
    /// Accept.
    pub const ACCEPT: SpduType = SpduType(14);
    /// Abort.
    pub const ABORT: SpduType = SpduType(25);
    /// Abort accept.
    pub const ABORT_ACCEPT: SpduType = SpduType(26);
}

// Parameter and group identifiers, X.225 §8.3.
const PGI_CONNECT_ACCEPT_ITEM: u8 = 5;
const PI_TRANSPORT_DISCONNECT: u8 = 17;
const PI_PROTOCOL_OPTIONS: u8 = 19;
const PI_SESSION_REQUIREMENTS: u8 = 20;
const PI_VERSION: u8 = 22;
const PI_REFLECT: u8 = 49;
const PI_REASON_CODE: u8 = 50;
const PI_CALLING_SSEL: u8 = 51;
const PI_CALLED_SSEL: u8 = 52;
const PGI_USER_DATA: u8 = 193;
const PGI_EXTENDED_USER_DATA: u8 = 194;

/// X.225 §8.3.1.7: version 2 bit of the version number parameter.
pub const VERSION_2: u8 = 0x02;
/// Session requirements with only the duplex functional unit, what MMS uses (X.225 §8.3.1.16).
pub const DUPLEX: u16 = 0x0002;
/// X.225 §8.3.1.4: the selector parameters hold at most 16 octets.
pub const MAX_SSEL_LEN: usize = 16;

/// Parameters of a CONNECT or ACCEPT SPDU.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectAccept<'a> {
    /// Protocol options (X.225 §8.3.1.6): 0 unless extended concatenation is used.
    pub protocol_options: u8,
    /// Proposed (CN) or selected (AC) version bits; [`VERSION_2`] in practice.
    pub version: u8,
    /// Session user requirements (functional units); [`DUPLEX`] for MMS.
    pub session_requirements: u16,
    /// Calling session selector.
    pub calling_selector: Option<&'a [u8]>,
    /// Called (CN) or responding (AC) session selector.
    pub called_selector: Option<&'a [u8]>,
    /// User data: the presentation CP / CPA PPDU.
    pub user_data: &'a [u8],
}

impl Default for ConnectAccept<'_> {
    fn default() -> Self {
        ConnectAccept {
            protocol_options: 0,
            version: VERSION_2,
            session_requirements: DUPLEX,
            calling_selector: None,
            called_selector: None,
            user_data: &[],
        }
    }
}

/// One SPDU (or the Give Tokens + Data Transfer pair that carries every data-phase TSDU).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Spdu<'a> {
    /// CN: connect.
    Connect(ConnectAccept<'a>),
    /// AC: accept.
    Accept(ConnectAccept<'a>),
    /// RF: refuse.
    Refuse {
        /// Reason code (X.225 §8.3.3.17); [`refuse_reason_name`] names it.
        reason: u8,
        /// User data following the reason code (a presentation CPR).
        user_data: &'a [u8],
    },
    /// FN: finish (orderly release request).
    Finish {
        /// User data: the presentation-wrapped RLRQ.
        user_data: &'a [u8],
    },
    /// DN: disconnect (orderly release response).
    Disconnect {
        /// User data: the presentation-wrapped RLRE.
        user_data: &'a [u8],
    },
    /// NF: not finished (release refused).
    NotFinished {
        /// User data.
        user_data: &'a [u8],
    },
    /// AB: abort.
    Abort {
        /// Transport disconnect flags (X.225 §8.3.9.3), if sent.
        transport_disconnect: Option<u8>,
        /// User data: a presentation ARU / ARP.
        user_data: &'a [u8],
    },
    /// AA: abort accept.
    AbortAccept,
    /// DT (after GT): the data phase carrier.
    Data {
        /// User information: a presentation user-data PPDU.
        user_data: &'a [u8],
    },
}

/// The X.225 §8.3.3.17 meaning of an RF reason code, if X.225 defines it.
pub const fn refuse_reason_name(reason: u8) -> Option<&'static str> {
    Some(match reason {
        0 => "rejection by the called SS-user, reason not specified",
        1 => "rejection by the called SS-user due to temporary congestion",
        2 => "rejection by the called SS-user",
        129 => "session selector unknown",
        130 => "SS-user not attached to SSAP",
        131 => "SPM congestion at connect time",
        132 => "proposed protocol versions not supported",
        133 => "rejection by the SPM, reason not specified",
        134 => "rejection by the SPM, implementation restriction",
        _ => return None,
    })
}

/// Why an SPDU was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// Shorter than its length indicator says.
    Truncated,
    /// An SPDU type this implementation does not handle.
    UnknownType(SpduType),
    /// A parameter with a wrong length or value.
    BadParameter(u8),
    /// A mandatory parameter is missing.
    MissingParameter(u8),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Truncated => f.write_str("session SPDU truncated"),
            Error::UnknownType(t) => write!(f, "session SPDU type {} not supported", t.0),
            Error::BadParameter(p) => write!(f, "session parameter {p} invalid"),
            Error::MissingParameter(p) => write!(f, "session parameter {p} missing"),
        }
    }
}

impl core::error::Error for Error {}

/// Split `SI LI params…` into (SI, parameter area, what follows the area).
fn split_spdu(b: &[u8]) -> Result<(SpduType, &[u8], &[u8]), Error> {
    let (&si, rest) = b.split_first().ok_or(Error::Truncated)?;
    let (len, rest) = read_li(rest)?;
    if rest.len() < len {
        return Err(Error::Truncated);
    }
    let (params, after) = rest.split_at(len);
    Ok((SpduType(si), params, after))
}

/// X.225 §8.2.5: a length indicator is one octet 0..=254, or 255 followed by two octets.
fn read_li(b: &[u8]) -> Result<(usize, &[u8]), Error> {
    match b {
        [0xff, hi, lo, rest @ ..] => Ok((usize::from(u16::from_be_bytes([*hi, *lo])), rest)),
        [0xff, ..] | [] => Err(Error::Truncated),
        [li, rest @ ..] => Ok((usize::from(*li), rest)),
    }
}

fn write_li(out: &mut Vec<u8>, len: usize) {
    if len < 255 {
        out.push(len as u8);
    } else {
        out.push(0xff);
        out.extend_from_slice(&(len.min(0xffff) as u16).to_be_bytes());
    }
}

/// Walks `PI/PGI, LI, value` units.
struct Params<'a>(&'a [u8]);

impl<'a> Iterator for Params<'a> {
    type Item = Result<(u8, &'a [u8]), Error>;
    fn next(&mut self) -> Option<Self::Item> {
        let (&code, rest) = self.0.split_first()?;
        let item = read_li(rest).and_then(|(len, rest)| {
            let value = rest.get(..len).ok_or(Error::BadParameter(code))?;
            self.0 = &rest[len..];
            Ok((code, value))
        });
        if item.is_err() {
            self.0 = &[];
        }
        Some(item)
    }
}

fn one_octet(code: u8, v: &[u8]) -> Result<u8, Error> {
    match v {
        [b] => Ok(*b),
        _ => Err(Error::BadParameter(code)),
    }
}

fn selector(code: u8, v: &[u8]) -> Result<&[u8], Error> {
    if v.len() > MAX_SSEL_LEN {
        return Err(Error::BadParameter(code));
    }
    Ok(v)
}

/// Find the user data parameter; anything else in the area is ignored (X.225 §7.1: unknown
/// parameters of a known SPDU are not a protocol error for the kernel units we implement).
fn user_data_of(params: &[u8]) -> Result<&[u8], Error> {
    for p in Params(params) {
        let (code, v) = p?;
        if code == PGI_USER_DATA || code == PGI_EXTENDED_USER_DATA {
            return Ok(v);
        }
    }
    Ok(&[])
}

fn decode_connect_accept(params: &[u8]) -> Result<ConnectAccept<'_>, Error> {
    let mut ca = ConnectAccept {
        version: 0,
        session_requirements: DUPLEX,
        ..Default::default()
    };
    let mut version_seen = false;
    for p in Params(params) {
        let (code, v) = p?;
        match code {
            PGI_CONNECT_ACCEPT_ITEM => {
                for q in Params(v) {
                    let (c, w) = q?;
                    match c {
                        PI_PROTOCOL_OPTIONS => ca.protocol_options = one_octet(c, w)?,
                        PI_VERSION => {
                            ca.version = one_octet(c, w)?;
                            version_seen = true;
                        }
                        _ => {}
                    }
                }
            }
            PI_SESSION_REQUIREMENTS => match v {
                [hi, lo] => ca.session_requirements = u16::from_be_bytes([*hi, *lo]),
                _ => return Err(Error::BadParameter(code)),
            },
            PI_CALLING_SSEL => ca.calling_selector = Some(selector(code, v)?),
            PI_CALLED_SSEL => ca.called_selector = Some(selector(code, v)?),
            PGI_USER_DATA | PGI_EXTENDED_USER_DATA => ca.user_data = v,
            _ => {}
        }
    }
    if !version_seen {
        // X.225 §8.3.1.7: absent means version 1 only.
        ca.version = 0x01;
    }
    Ok(ca)
}

impl<'a> Spdu<'a> {
    /// Decode the SPDU(s) of one TSDU.
    pub fn decode(b: &'a [u8]) -> Result<Spdu<'a>, Error> {
        let (si, params, after) = split_spdu(b)?;
        match si {
            SpduType::DATA_TRANSFER => {
                // X.225 §7.11.2: a category 0 GT (empty here) is concatenated before the DT. Some
                // peers omit it; a DT's user information never starts with an SPDU identifier of 1.
                if params.is_empty() && after.first() == Some(&1) {
                    let (_, _, data) = split_spdu(after)?;
                    return Ok(Spdu::Data { user_data: data });
                }
                Ok(Spdu::Data { user_data: after })
            }
            SpduType::CONNECT => Ok(Spdu::Connect(decode_connect_accept(params)?)),
            SpduType::ACCEPT => Ok(Spdu::Accept(decode_connect_accept(params)?)),
            SpduType::FINISH => Ok(Spdu::Finish {
                user_data: user_data_of(params)?,
            }),
            SpduType::DISCONNECT => Ok(Spdu::Disconnect {
                user_data: user_data_of(params)?,
            }),
            SpduType::NOT_FINISHED => Ok(Spdu::NotFinished {
                user_data: user_data_of(params)?,
            }),
            SpduType::ABORT => {
                let mut td = None;
                let mut ud: &[u8] = &[];
                for p in Params(params) {
                    let (code, v) = p?;
                    match code {
                        PI_TRANSPORT_DISCONNECT => td = Some(one_octet(code, v)?),
                        PGI_USER_DATA | PGI_EXTENDED_USER_DATA => ud = v,
                        PI_REFLECT => {}
                        _ => {}
                    }
                }
                Ok(Spdu::Abort {
                    transport_disconnect: td,
                    user_data: ud,
                })
            }
            SpduType::ABORT_ACCEPT => Ok(Spdu::AbortAccept),
            SpduType::REFUSE => {
                for p in Params(params) {
                    let (code, v) = p?;
                    if code == PI_REASON_CODE {
                        // X.225 §8.3.3.17: the reason code octet, then user data if reason is 0.
                        let (&reason, user_data) =
                            v.split_first().ok_or(Error::BadParameter(code))?;
                        return Ok(Spdu::Refuse { reason, user_data });
                    }
                }
                Err(Error::MissingParameter(PI_REASON_CODE))
            }
            other => Err(Error::UnknownType(other)),
        }
    }

    /// Append this SPDU.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let si = match self {
            Spdu::Connect(_) => SpduType::CONNECT,
            Spdu::Accept(_) => SpduType::ACCEPT,
            Spdu::Refuse { .. } => SpduType::REFUSE,
            Spdu::Finish { .. } => SpduType::FINISH,
            Spdu::Disconnect { .. } => SpduType::DISCONNECT,
            Spdu::NotFinished { .. } => SpduType::NOT_FINISHED,
            Spdu::Abort { .. } => SpduType::ABORT,
            Spdu::AbortAccept => SpduType::ABORT_ACCEPT,
            Spdu::Data { user_data } => {
                write_data_header(out);
                out.extend_from_slice(user_data);
                return;
            }
        };
        let mut p = Vec::with_capacity(32);
        let param = |p: &mut Vec<u8>, code: u8, v: &[u8]| {
            p.push(code);
            write_li(p, v.len());
            p.extend_from_slice(v);
        };
        match self {
            Spdu::Connect(ca) | Spdu::Accept(ca) => {
                param(
                    &mut p,
                    PGI_CONNECT_ACCEPT_ITEM,
                    &[
                        PI_PROTOCOL_OPTIONS,
                        1,
                        ca.protocol_options,
                        PI_VERSION,
                        1,
                        ca.version,
                    ],
                );
                param(
                    &mut p,
                    PI_SESSION_REQUIREMENTS,
                    &ca.session_requirements.to_be_bytes(),
                );
                if let Some(s) = ca.calling_selector {
                    param(&mut p, PI_CALLING_SSEL, s);
                }
                if let Some(s) = ca.called_selector {
                    param(&mut p, PI_CALLED_SSEL, s);
                }
                param(&mut p, PGI_USER_DATA, ca.user_data);
            }
            Spdu::Refuse { reason, user_data } => {
                param(&mut p, PI_TRANSPORT_DISCONNECT, &[1]);
                let mut v = Vec::with_capacity(1 + user_data.len());
                v.push(*reason);
                v.extend_from_slice(user_data);
                param(&mut p, PI_REASON_CODE, &v);
            }
            Spdu::Finish { user_data }
            | Spdu::Disconnect { user_data }
            | Spdu::NotFinished { user_data } => {
                if !user_data.is_empty() {
                    param(&mut p, PGI_USER_DATA, user_data);
                }
            }
            Spdu::Abort {
                transport_disconnect,
                user_data,
            } => {
                if let Some(td) = transport_disconnect {
                    param(&mut p, PI_TRANSPORT_DISCONNECT, &[*td]);
                }
                if !user_data.is_empty() {
                    param(&mut p, PGI_USER_DATA, user_data);
                }
            }
            Spdu::AbortAccept | Spdu::Data { .. } => {}
        }
        out.push(si.0);
        write_li(out, p.len());
        out.extend_from_slice(&p);
    }
}

/// Append the Give Tokens + Data Transfer header (`01 00 01 00`) that precedes every data-phase
/// presentation PPDU; the caller appends the PPDU right after it.
pub fn write_data_header(out: &mut Vec<u8>) {
    out.extend_from_slice(&[1, 0, 1, 0]);
}

/// Transport disconnect flags for an abort that releases the transport connection (X.225 §8.3.9.3).
pub const ABORT_RELEASE_TRANSPORT: u8 = 0x01;
/// … and marks the abort as coming from the user.
pub const ABORT_USER: u8 = 0x02;

#[cfg(test)]
mod tests {
    use super::*;

    // Session part of libiec61850's connect (tests/data/libiec61850/03_…), user data cut to 2 octets.
    const CN: &[u8] = &[
        0x0d, 0x18, 0x05, 0x06, 0x13, 0x01, 0x00, 0x16, 0x01, 0x02, 0x14, 0x02, 0x00, 0x02, 0x33,
        0x02, 0x00, 0x01, 0x34, 0x02, 0x00, 0x01, 0xc1, 0x02, 0x31, 0x00,
    ];

    #[test]
    fn decodes_a_libiec61850_connect_and_encodes_it_back_identically() {
        let Spdu::Connect(ca) = Spdu::decode(CN).unwrap() else {
            panic!("not CN")
        };
        assert_eq!(ca.version, VERSION_2);
        assert_eq!(ca.session_requirements, DUPLEX);
        assert_eq!(ca.calling_selector, Some(&[0, 1][..]));
        assert_eq!(ca.called_selector, Some(&[0, 1][..]));
        assert_eq!(ca.user_data, &[0x31, 0x00]);
        let mut out = Vec::new();
        Spdu::Connect(ca).encode(&mut out);
        assert_eq!(out, CN);
    }

    #[test]
    fn decodes_release_and_data_frames_from_libiec61850() {
        // 35_c2s_session_fn_rlrq and 36_s2c_session_dn_rlre, session parts.
        let fn_ = [0x09, 0x04, 0xc1, 0x02, 0x61, 0x00];
        assert_eq!(
            Spdu::decode(&fn_).unwrap(),
            Spdu::Finish {
                user_data: &[0x61, 0x00]
            }
        );
        let dn = [0x0a, 0x04, 0xc1, 0x02, 0x61, 0x00];
        assert_eq!(
            Spdu::decode(&dn).unwrap(),
            Spdu::Disconnect {
                user_data: &[0x61, 0x00]
            }
        );
        let dt = [1, 0, 1, 0, 0x61, 0x02, 0x30, 0x00];
        assert_eq!(
            Spdu::decode(&dt).unwrap(),
            Spdu::Data {
                user_data: &[0x61, 0x02, 0x30, 0x00]
            }
        );
        let bare_dt = [1, 0, 0x61, 0x00];
        assert_eq!(
            Spdu::decode(&bare_dt).unwrap(),
            Spdu::Data {
                user_data: &[0x61, 0x00]
            }
        );
        let mut out = Vec::new();
        Spdu::Finish {
            user_data: &[0x61, 0x00],
        }
        .encode(&mut out);
        assert_eq!(out, fn_);
    }

    #[test]
    fn long_user_data_uses_the_three_octet_length_indicator() {
        let ud = alloc::vec![0x55u8; 300];
        let mut out = Vec::new();
        Spdu::Accept(ConnectAccept {
            user_data: &ud,
            ..Default::default()
        })
        .encode(&mut out);
        assert_eq!(&out[..2], &[0x0e, 0xff]);
        let Spdu::Accept(ca) = Spdu::decode(&out).unwrap() else {
            panic!()
        };
        assert_eq!(ca.user_data.len(), 300);
    }

    #[test]
    fn refuse_abort_and_bad_input() {
        for s in [
            Spdu::Refuse {
                reason: 0,
                user_data: &[1, 2],
            },
            Spdu::Abort {
                transport_disconnect: Some(ABORT_RELEASE_TRANSPORT | ABORT_USER),
                user_data: &[9],
            },
            Spdu::AbortAccept,
            Spdu::NotFinished { user_data: &[] },
        ] {
            let mut out = Vec::new();
            s.encode(&mut out);
            assert_eq!(Spdu::decode(&out).unwrap(), s);
        }
        assert_eq!(Spdu::decode(&[]), Err(Error::Truncated));
        assert_eq!(Spdu::decode(&[0x0d, 0x05, 0x05]), Err(Error::Truncated));
        assert_eq!(
            Spdu::decode(&[0x0d, 0x03, 0x14, 0x01, 0x02]),
            Err(Error::BadParameter(20))
        );
        assert_eq!(
            Spdu::decode(&[0x0d, 0x02, 0x05, 0x09]),
            Err(Error::BadParameter(5))
        );
        assert_eq!(
            Spdu::decode(&[0x30, 0x00]),
            Err(Error::UnknownType(SpduType(0x30)))
        );
        assert_eq!(
            Spdu::decode(&[0x0c, 0x00]),
            Err(Error::MissingParameter(50))
        );
        for cut in 0..CN.len() {
            let _ = Spdu::decode(&CN[..cut]);
        }
    }
}
