//! ISO 8073 / X.224 class 0 TPDUs: CR, CC, DR, DT, ER.

use alloc::vec::Vec;
use core::fmt;

/// A TPDU code (X.224 §13.1, high nibble of the second octet). Unknown codes survive decoding.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct TpduCode(pub u8);

impl TpduCode {
    /// Connection request.
    pub const CR: TpduCode = TpduCode(0xe0);
    /// Connection confirm.
    pub const CC: TpduCode = TpduCode(0xd0);
    /// Disconnect request.
    pub const DR: TpduCode = TpduCode(0x80);
    /// Data.
    pub const DT: TpduCode = TpduCode(0xf0);
    /// TPDU error.
    pub const ER: TpduCode = TpduCode(0x70);
}

/// A maximum TPDU size as X.224 §13.3.4 (b) codes it: 2^n octets for n in 7..=13.
///
/// The parameter can code 128 to 8192 octets, but class 0 (the only class RFC 1006 carries) allows
/// 128 to 2048 only: [`TpduSize::CLASS0_MAX`]. Larger codes still decode, so that a lenient peer's
/// CR can be answered with a size class 0 allows.
#[derive(
    Clone, Copy, PartialEq, Eq, Debug, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct TpduSize(u8);

impl TpduSize {
    /// The class 0 default when the CR names none (X.224 §13.3.4 (b)).
    pub const DEFAULT: TpduSize = TpduSize(7);
    /// 2048 octets, the largest class 0 allows (X.224 §13.3.4 (b): 8192 is for classes 1 to 4).
    /// What we propose by default.
    pub const CLASS0_MAX: TpduSize = TpduSize(11);
    /// 8192 octets, the largest the parameter codes. Only classes 1 to 4 may use it; some class 0
    /// peers (libiec61850) propose it anyway.
    pub const MAX: TpduSize = TpduSize(13);

    /// From the parameter's code; `None` outside 7..=13.
    pub const fn from_code(code: u8) -> Option<TpduSize> {
        if code >= 7 && code <= 13 {
            Some(TpduSize(code))
        } else {
            None
        }
    }

    /// The size of exactly `bytes` octets; `None` unless a power of two in 128..=8192.
    pub const fn from_bytes(bytes: usize) -> Option<TpduSize> {
        if bytes.is_power_of_two() {
            TpduSize::from_code(bytes.trailing_zeros() as u8)
        } else {
            None
        }
    }

    /// Whether class 0 allows this size (at most [`TpduSize::CLASS0_MAX`]).
    pub const fn is_class0(self) -> bool {
        self.0 <= TpduSize::CLASS0_MAX.0
    }

    /// The largest size not above `bytes` (at least 128).
    pub const fn at_most(bytes: usize) -> TpduSize {
        let mut code = 13;
        while code > 7 && (1usize << code) > bytes {
            code -= 1;
        }
        TpduSize(code)
    }

    /// The parameter code.
    pub const fn code(self) -> u8 {
        self.0
    }

    /// The size in octets.
    pub const fn bytes(self) -> usize {
        1 << self.0
    }
}

/// The parameters a CR or CC carries (X.224 §13.3, §13.4).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ConnectParams<'a> {
    /// DST-REF: zero in a CR; the peer's SRC-REF in a CC.
    pub dst_ref: u16,
    /// SRC-REF: the sender's reference.
    pub src_ref: u16,
    /// Class and options octet; class 0 is `0x00`.
    pub class_option: u8,
    /// Proposed (CR) or chosen (CC) maximum TPDU size.
    pub tpdu_size: Option<TpduSize>,
    /// Preferred maximum TPDU size in units of 128 octets (X.224 §13.3.4 (c)), if sent.
    pub preferred_max_tpdu_size: Option<u32>,
    /// Calling transport selector.
    pub calling_tsel: Option<&'a [u8]>,
    /// Called (CR) or responding (CC) transport selector.
    pub called_tsel: Option<&'a [u8]>,
}

/// One class 0 TPDU.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tpdu<'a> {
    /// Connection request.
    ConnectionRequest(ConnectParams<'a>),
    /// Connection confirm.
    ConnectionConfirm(ConnectParams<'a>),
    /// Data: a segment of one TSDU; `eot` marks its last segment.
    Data {
        /// End of TSDU.
        eot: bool,
        /// The segment.
        user_data: &'a [u8],
    },
    /// Disconnect request.
    DisconnectRequest {
        /// The peer's reference.
        dst_ref: u16,
        /// The sender's reference.
        src_ref: u16,
        /// X.224 §13.5.3 (d): the reason; [`disconnect_reason_name`] names it.
        reason: u8,
    },
    /// TPDU error: the peer refused one of ours.
    Error {
        /// The peer's reference.
        dst_ref: u16,
        /// X.224 §13.12.3 (c): 0 not specified, 1 invalid parameter code, 2 invalid TPDU type,
        /// 3 invalid parameter value ([`error_cause_name`] names it).
        cause: u8,
    },
}

/// The X.224 §13.5.3 (d) meaning of a DR reason, if X.224 defines it.
pub const fn disconnect_reason_name(reason: u8) -> Option<&'static str> {
    Some(match reason {
        0 => "reason not specified",
        1 => "congestion at TSAP",
        2 => "session entity not attached to TSAP",
        3 => "address unknown",
        128 => "normal disconnect initiated by the session entity",
        129 => "remote transport entity congestion at connect request time",
        130 => "connection negotiation failed",
        131 => "duplicate source reference",
        132 => "mismatched references",
        133 => "protocol error",
        135 => "reference overflow",
        136 => "connection request refused on this network connection",
        138 => "header or parameter length invalid",
        _ => return None,
    })
}

/// The X.224 §13.12.3 (c) meaning of an ER reject cause, if X.224 defines it.
pub const fn error_cause_name(cause: u8) -> Option<&'static str> {
    Some(match cause {
        0 => "reason not specified",
        1 => "invalid parameter code",
        2 => "invalid TPDU type",
        3 => "invalid parameter value",
        _ => return None,
    })
}

/// Why a TPDU was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// Shorter than its header says.
    Truncated,
    /// A TPDU code class 0 does not use.
    UnknownCode(TpduCode),
    /// The length indicator is 255 (reserved) or runs past the data.
    BadLengthIndicator(u8),
    /// A parameter runs past the header or has a wrong value.
    BadParameter(u8),
}

/// An octet as `{:#04x}` writes it (`0x0f`), without linking the integer hex formatter for
/// these two messages alone.
struct Hex(u8);

impl fmt::Display for Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write;
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        f.write_str("0x")?;
        f.write_char(char::from(DIGITS[usize::from(self.0 >> 4)]))?;
        f.write_char(char::from(DIGITS[usize::from(self.0 & 15)]))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Truncated => f.write_str("COTP TPDU truncated"),
            Error::UnknownCode(c) => write!(f, "COTP TPDU code {} not used by class 0", Hex(c.0)),
            Error::BadLengthIndicator(li) => write!(f, "COTP length indicator {li} invalid"),
            Error::BadParameter(p) => write!(f, "COTP parameter {} invalid", Hex(*p)),
        }
    }
}

impl core::error::Error for Error {}

// Parameter codes, X.224 §13.3.4.
const P_TPDU_SIZE: u8 = 0xc0;
const P_CALLING_TSEL: u8 = 0xc1;
const P_CALLED_TSEL: u8 = 0xc2;
const P_PREFERRED_SIZE: u8 = 0xf0;
const P_INVALID_TPDU: u8 = 0xc1;

/// Longest transport selector accepted. X.224 leaves it open; real deployments use 2 octets. The bound
/// keeps the CR within one minimal TPDU.
pub const MAX_TSEL_LEN: usize = 32;

impl<'a> Tpdu<'a> {
    /// Decode one TPDU: the whole payload of one TPKT.
    pub fn decode(b: &'a [u8]) -> Result<Tpdu<'a>, Error> {
        let (&li, rest) = b.split_first().ok_or(Error::Truncated)?;
        // X.224 §13.2.1: LI 255 is reserved; the header may not run past the TPDU.
        if li == 255 || usize::from(li) > rest.len() || li < 1 {
            return Err(Error::BadLengthIndicator(li));
        }
        let (header, user_data) = rest.split_at(usize::from(li));
        let code = TpduCode(header[0] & 0xf0);
        match code {
            TpduCode::DT => {
                let &nr = header.get(1).ok_or(Error::BadLengthIndicator(li))?;
                Ok(Tpdu::Data {
                    eot: nr & 0x80 != 0,
                    user_data,
                })
            }
            TpduCode::CR | TpduCode::CC => {
                let fixed = header.get(1..6).ok_or(Error::BadLengthIndicator(li))?;
                let mut p = ConnectParams {
                    dst_ref: u16::from_be_bytes([fixed[0], fixed[1]]),
                    src_ref: u16::from_be_bytes([fixed[2], fixed[3]]),
                    class_option: fixed[4],
                    ..ConnectParams::default()
                };
                for (code, value) in Params(&header[6..]) {
                    let (code, value) = (code?, value);
                    match code {
                        P_TPDU_SIZE => {
                            let c = *value.first().ok_or(Error::BadParameter(code))?;
                            p.tpdu_size =
                                Some(TpduSize::from_code(c).ok_or(Error::BadParameter(code))?);
                        }
                        P_CALLING_TSEL | P_CALLED_TSEL => {
                            if value.len() > MAX_TSEL_LEN {
                                return Err(Error::BadParameter(code));
                            }
                            if code == P_CALLING_TSEL {
                                p.calling_tsel = Some(value);
                            } else {
                                p.called_tsel = Some(value);
                            }
                        }
                        P_PREFERRED_SIZE => {
                            if value.is_empty() || value.len() > 4 {
                                return Err(Error::BadParameter(code));
                            }
                            p.preferred_max_tpdu_size =
                                Some(value.iter().fold(0u32, |v, &b| (v << 8) | u32::from(b)));
                        }
                        // X.224 §13.3.4: parameters class 0 does not use are ignored.
                        _ => {}
                    }
                }
                if !user_data.is_empty() {
                    // Class 0 carries no user data in CR/CC (X.224 §13.3.5).
                    return Err(Error::BadLengthIndicator(li));
                }
                Ok(if code == TpduCode::CR {
                    Tpdu::ConnectionRequest(p)
                } else {
                    Tpdu::ConnectionConfirm(p)
                })
            }
            TpduCode::DR => {
                let f = header.get(1..6).ok_or(Error::BadLengthIndicator(li))?;
                Ok(Tpdu::DisconnectRequest {
                    dst_ref: u16::from_be_bytes([f[0], f[1]]),
                    src_ref: u16::from_be_bytes([f[2], f[3]]),
                    reason: f[4],
                })
            }
            TpduCode::ER => {
                let f = header.get(1..4).ok_or(Error::BadLengthIndicator(li))?;
                Ok(Tpdu::Error {
                    dst_ref: u16::from_be_bytes([f[0], f[1]]),
                    cause: f[2],
                })
            }
            other => Err(Error::UnknownCode(other)),
        }
    }

    /// Append this TPDU (without TPKT header).
    pub fn encode(&self, out: &mut Vec<u8>) {
        let li_pos = out.len();
        out.push(0);
        match self {
            Tpdu::ConnectionRequest(p) | Tpdu::ConnectionConfirm(p) => {
                let code = if matches!(self, Tpdu::ConnectionRequest(_)) {
                    TpduCode::CR
                } else {
                    TpduCode::CC
                };
                out.push(code.0);
                out.extend_from_slice(&p.dst_ref.to_be_bytes());
                out.extend_from_slice(&p.src_ref.to_be_bytes());
                out.push(p.class_option);
                if let Some(s) = p.tpdu_size {
                    out.extend_from_slice(&[P_TPDU_SIZE, 1, s.code()]);
                }
                if let Some(t) = p.calling_tsel {
                    out.extend_from_slice(&[P_CALLING_TSEL, t.len() as u8]);
                    out.extend_from_slice(t);
                }
                if let Some(t) = p.called_tsel {
                    out.extend_from_slice(&[P_CALLED_TSEL, t.len() as u8]);
                    out.extend_from_slice(t);
                }
                if let Some(size) = p.preferred_max_tpdu_size {
                    let b = size.to_be_bytes();
                    let skip = b.iter().take(3).take_while(|&&x| x == 0).count();
                    out.extend_from_slice(&[P_PREFERRED_SIZE, (4 - skip) as u8]);
                    out.extend_from_slice(&b[skip..]);
                }
            }
            Tpdu::Data { eot, user_data } => {
                out.extend_from_slice(&[TpduCode::DT.0, if *eot { 0x80 } else { 0 }]);
                out[li_pos] = 2;
                out.extend_from_slice(user_data);
                return;
            }
            Tpdu::DisconnectRequest {
                dst_ref,
                src_ref,
                reason,
            } => {
                out.push(TpduCode::DR.0);
                out.extend_from_slice(&dst_ref.to_be_bytes());
                out.extend_from_slice(&src_ref.to_be_bytes());
                out.push(*reason);
            }
            Tpdu::Error { dst_ref, cause } => {
                out.push(TpduCode::ER.0);
                out.extend_from_slice(&dst_ref.to_be_bytes());
                out.push(*cause);
            }
        }
        out[li_pos] = (out.len() - li_pos - 1) as u8;
    }

    /// An ER that echoes the offending TPDU's header in the invalid-TPDU parameter (X.224 §13.12.4).
    pub fn encode_error(out: &mut Vec<u8>, dst_ref: u16, cause: u8, bad: &[u8]) {
        let echo = &bad[..bad.len().min(64)];
        out.push((4 + 2 + echo.len()) as u8);
        out.push(TpduCode::ER.0);
        out.extend_from_slice(&dst_ref.to_be_bytes());
        out.push(cause);
        out.extend_from_slice(&[P_INVALID_TPDU, echo.len() as u8]);
        out.extend_from_slice(echo);
    }
}

/// The class 0 DT header with EOT set: what precedes every unsegmented TSDU.
pub const DT_EOT_HEADER: [u8; 3] = [2, 0xf0, 0x80];

/// Walks `code, length, value` parameters, refusing any that run past the header.
struct Params<'a>(&'a [u8]);

impl<'a> Iterator for Params<'a> {
    type Item = (Result<u8, Error>, &'a [u8]);
    fn next(&mut self) -> Option<Self::Item> {
        let (&code, rest) = self.0.split_first()?;
        let Some((&len, rest)) = rest.split_first() else {
            self.0 = &[];
            return Some((Err(Error::BadParameter(code)), &[]));
        };
        let Some(value) = rest.get(..usize::from(len)) else {
            self.0 = &[];
            return Some((Err(Error::BadParameter(code)), &[]));
        };
        self.0 = &rest[usize::from(len)..];
        Some((Ok(code), value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::ToString;

    #[test]
    fn an_octet_is_written_as_the_hex_format_writes_it() {
        for b in 0..=u8::MAX {
            assert_eq!(Hex(b).to_string(), format!("{b:#04x}"));
        }
        assert_eq!(
            Error::BadParameter(0xc2).to_string(),
            "COTP parameter 0xc2 invalid"
        );
    }

    // libiec61850's CR as captured (tests/data/libiec61850/01_c2s_cotp_cr.hex): TPDU size 8192, T-selectors 00 01.
    const CR: &[u8] = &[
        0x11, 0xe0, 0x00, 0x00, 0x00, 0x01, 0x00, 0xc0, 0x01, 0x0d, 0xc2, 0x02, 0x00, 0x01, 0xc1,
        0x02, 0x00, 0x01,
    ];

    #[test]
    fn decodes_a_connection_request_with_selectors_and_size() {
        let Tpdu::ConnectionRequest(p) = Tpdu::decode(CR).unwrap() else {
            panic!("not a CR")
        };
        assert_eq!(p.src_ref, 1);
        assert_eq!(p.tpdu_size, Some(TpduSize::MAX));
        assert_eq!(p.called_tsel, Some(&[0, 1][..]));
        assert_eq!(p.calling_tsel, Some(&[0, 1][..]));
        let mut out = Vec::new();
        Tpdu::ConnectionRequest(p).encode(&mut out);
        let again = Tpdu::decode(&out).unwrap();
        assert_eq!(again, Tpdu::decode(CR).unwrap());
    }

    #[test]
    fn data_tpdus_carry_eot_and_user_data() {
        let b = [2, 0xf0, 0x80, 1, 2, 3];
        assert_eq!(
            Tpdu::decode(&b).unwrap(),
            Tpdu::Data {
                eot: true,
                user_data: &[1, 2, 3]
            }
        );
        let b = [2, 0xf0, 0x00, 9];
        assert_eq!(
            Tpdu::decode(&b).unwrap(),
            Tpdu::Data {
                eot: false,
                user_data: &[9]
            }
        );
        let mut out = Vec::new();
        Tpdu::Data {
            eot: true,
            user_data: &[7],
        }
        .encode(&mut out);
        assert_eq!(out, [2, 0xf0, 0x80, 7]);
    }

    #[test]
    fn bad_headers_are_errors_not_panics() {
        assert_eq!(Tpdu::decode(&[]), Err(Error::Truncated));
        assert_eq!(Tpdu::decode(&[5, 0xe0]), Err(Error::BadLengthIndicator(5)));
        assert_eq!(
            Tpdu::decode(&[255, 0xe0]),
            Err(Error::BadLengthIndicator(255))
        );
        assert_eq!(
            Tpdu::decode(&[1, 0x10]),
            Err(Error::UnknownCode(TpduCode(0x10)))
        );
        assert_eq!(Tpdu::decode(&[1, 0xf0]), Err(Error::BadLengthIndicator(1)));
        assert!(Tpdu::decode(&[8, 0xe0, 0, 0, 0, 1, 0, 0xc0, 0x05]).is_err());
        assert!(Tpdu::decode(&[9, 0xe0, 0, 0, 0, 1, 0, 0xc0, 1, 0x05]).is_err());
        for cut in 0..CR.len() {
            let _ = Tpdu::decode(&CR[..cut]);
        }
    }

    #[test]
    fn disconnect_and_error_round_trip() {
        for t in [
            Tpdu::DisconnectRequest {
                dst_ref: 7,
                src_ref: 9,
                reason: 0,
            },
            Tpdu::Error {
                dst_ref: 7,
                cause: 2,
            },
            Tpdu::ConnectionConfirm(ConnectParams {
                dst_ref: 1,
                src_ref: 2,
                tpdu_size: Some(TpduSize::at_most(1500)),
                preferred_max_tpdu_size: Some(64),
                ..Default::default()
            }),
        ] {
            let mut out = Vec::new();
            t.encode(&mut out);
            assert_eq!(Tpdu::decode(&out).unwrap(), t);
        }
        assert_eq!(TpduSize::at_most(1500).bytes(), 1024);
        assert_eq!(TpduSize::from_bytes(2048), Some(TpduSize::CLASS0_MAX));
        assert_eq!(TpduSize::from_bytes(1000), None);
        assert_eq!(TpduSize::from_bytes(64), None);
        assert_eq!(TpduSize::from_bytes(16384), None);
        assert!(TpduSize::CLASS0_MAX.is_class0() && !TpduSize::MAX.is_class0());
        let mut out = Vec::new();
        Tpdu::encode_error(&mut out, 3, 2, &[1, 0x10]);
        assert_eq!(
            Tpdu::decode(&out).unwrap(),
            Tpdu::Error {
                dst_ref: 3,
                cause: 2
            }
        );
    }
}
