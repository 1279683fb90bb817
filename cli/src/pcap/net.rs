//! Ethernet, IPv4 and TCP: the frames an export synthesises (checksums right, so a capture tool
//! checking them finds nothing to say) and the parsing of captured frames down to a TCP segment
//! (Ethernet with VLAN tags, Linux cooked v1 and v2, BSD loopback, raw IP; IPv4 and IPv6).
//! Facts from RFC 791, RFC 793/9293, RFC 8200, IEEE 802.3 and the link-type registry.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::file::{
    LINKTYPE_ETHERNET, LINKTYPE_IPV4, LINKTYPE_IPV6, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2,
    LINKTYPE_NULL, LINKTYPE_RAW,
};

/// TCP flag bits.
pub mod flags {
    /// No more data from the sender.
    pub const FIN: u8 = 0x01;
    /// Synchronise sequence numbers.
    pub const SYN: u8 = 0x02;
    /// Reset the connection.
    pub const RST: u8 = 0x04;
    /// Push.
    pub const PSH: u8 = 0x08;
    /// The acknowledgment field is significant.
    pub const ACK: u8 = 0x10;
}

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_QINQ: u16 = 0x88a8;
const PROTO_TCP: u8 = 6;

/// One end of a TCP connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct End {
    /// The address.
    pub ip: IpAddr,
    /// The port.
    pub port: u16,
}

/// A TCP segment as captured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Sender.
    pub src: End,
    /// Receiver.
    pub dst: End,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number.
    pub ack: u32,
    /// Flags ([`flags`]).
    pub flags: u8,
    /// The payload.
    pub payload: Vec<u8>,
}

/// What one captured frame is, for the importer.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// A TCP segment.
    Tcp(Segment),
    /// Not TCP over IP (ARP, UDP, ...): nothing to import.
    Other,
    /// TCP that cannot be read, with why (a fragment, cut short by the snap length, ...).
    Unusable(String),
}

/// The one's-complement sum of RFC 1071 over `data`, folded, starting from `sum`.
fn ones_sum(mut sum: u32, data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        sum += u32::from(*last) << 8;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum
}

fn checksum(sum: u32) -> u16 {
    !(sum as u16)
}

/// An Ethernet II frame carrying an IPv4 packet carrying one TCP segment, with correct IP and
/// TCP checksums. `mss` adds the MSS option (on SYN segments). `ip_id` is the IP
/// identification.
#[allow(clippy::too_many_arguments)]
pub fn frame(
    src_mac: [u8; 6],
    dst_mac: [u8; 6],
    src: (Ipv4Addr, u16),
    dst: (Ipv4Addr, u16),
    seq: u32,
    ack: u32,
    tcp_flags: u8,
    mss: Option<u16>,
    ip_id: u16,
    payload: &[u8],
) -> Vec<u8> {
    let opt_len = if mss.is_some() { 4 } else { 0 };
    let tcp_len = 20 + opt_len + payload.len();
    let ip_len = 20 + tcp_len;
    let mut f = Vec::with_capacity(14 + ip_len);
    f.extend_from_slice(&dst_mac);
    f.extend_from_slice(&src_mac);
    f.extend_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
    // IPv4 header: version 4, 5 words; don't fragment; TTL 64.
    let ip = f.len();
    f.extend_from_slice(&[0x45, 0]);
    f.extend_from_slice(&(ip_len as u16).to_be_bytes());
    f.extend_from_slice(&ip_id.to_be_bytes());
    f.extend_from_slice(&0x4000u16.to_be_bytes());
    f.extend_from_slice(&[64, PROTO_TCP, 0, 0]);
    f.extend_from_slice(&src.0.octets());
    f.extend_from_slice(&dst.0.octets());
    let sum = checksum(ones_sum(0, &f[ip..ip + 20]));
    f[ip + 10..ip + 12].copy_from_slice(&sum.to_be_bytes());
    // TCP header.
    let tcp = f.len();
    f.extend_from_slice(&src.1.to_be_bytes());
    f.extend_from_slice(&dst.1.to_be_bytes());
    f.extend_from_slice(&seq.to_be_bytes());
    f.extend_from_slice(&ack.to_be_bytes());
    f.push((((20 + opt_len) / 4) as u8) << 4);
    f.push(tcp_flags);
    f.extend_from_slice(&65535u16.to_be_bytes()); // window
    f.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent pointer
    if let Some(mss) = mss {
        f.extend_from_slice(&[2, 4]);
        f.extend_from_slice(&mss.to_be_bytes());
    }
    f.extend_from_slice(payload);
    // The pseudo-header: source, destination, zero, protocol, TCP length.
    let mut pseudo = [0u8; 12];
    pseudo[..4].copy_from_slice(&src.0.octets());
    pseudo[4..8].copy_from_slice(&dst.0.octets());
    pseudo[9] = PROTO_TCP;
    pseudo[10..].copy_from_slice(&(tcp_len as u16).to_be_bytes());
    let sum = checksum(ones_sum(ones_sum(0, &pseudo), &f[tcp..]));
    f[tcp + 16..tcp + 18].copy_from_slice(&sum.to_be_bytes());
    f
}

/// Parse a captured frame of `linktype` down to its TCP segment.
pub fn parse(linktype: u16, data: &[u8]) -> Result<Parsed, String> {
    let (ethertype, ip) = match linktype {
        LINKTYPE_ETHERNET => {
            let mut at = 12;
            let mut et = be16(data, at).ok_or("Ethernet header cut short")?;
            // 802.1Q / 802.1ad tags, at most two (a bound, not a loop on hostile input).
            for _ in 0..2 {
                if et == ETHERTYPE_VLAN || et == ETHERTYPE_QINQ {
                    at += 4;
                    et = be16(data, at).ok_or("VLAN tag cut short")?;
                }
            }
            (et, &data[(at + 2).min(data.len())..])
        }
        LINKTYPE_LINUX_SLL => (
            be16(data, 14).ok_or("Linux cooked header cut short")?,
            data.get(16..).unwrap_or_default(),
        ),
        LINKTYPE_LINUX_SLL2 => (
            be16(data, 0).ok_or("Linux cooked v2 header cut short")?,
            data.get(20..).unwrap_or_default(),
        ),
        LINKTYPE_NULL => {
            let fam = data.get(..4).ok_or("loopback header cut short")?;
            // The family is in the capturing host's byte order: 2 is IPv4 in either; IPv6 is
            // 24, 28 or 30 depending on the BSD.
            let le = u32::from_le_bytes([fam[0], fam[1], fam[2], fam[3]]);
            let be = u32::from_be_bytes([fam[0], fam[1], fam[2], fam[3]]);
            let et = match (le, be) {
                (2, _) | (_, 2) => ETHERTYPE_IPV4,
                (24 | 28 | 30, _) | (_, 24 | 28 | 30) => ETHERTYPE_IPV6,
                _ => return Ok(Parsed::Other),
            };
            (et, &data[4..])
        }
        LINKTYPE_RAW | LINKTYPE_IPV4 | LINKTYPE_IPV6 => match data.first().map(|b| b >> 4) {
            Some(4) => (ETHERTYPE_IPV4, data),
            Some(6) => (ETHERTYPE_IPV6, data),
            _ => return Ok(Parsed::Other),
        },
        other => {
            return Err(format!(
                "link type {other} is not read (Ethernet, Linux cooked v1/v2, BSD loopback and \
                 raw IP are)"
            ))
        }
    };
    Ok(match ethertype {
        ETHERTYPE_IPV4 => ipv4(ip),
        ETHERTYPE_IPV6 => ipv6(ip),
        _ => Parsed::Other,
    })
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn ipv4(p: &[u8]) -> Parsed {
    let Some(&vihl) = p.first() else {
        return Parsed::Unusable("IPv4 header cut short".into());
    };
    let ihl = usize::from(vihl & 0x0f) * 4;
    if vihl >> 4 != 4 || ihl < 20 || p.len() < ihl {
        return Parsed::Unusable("bad or cut IPv4 header".into());
    }
    if p[9] != PROTO_TCP {
        return Parsed::Other;
    }
    let frag = u16::from_be_bytes([p[6], p[7]]);
    if frag & 0x3fff != 0 {
        // More fragments, or an offset: reassembling IP is out of scope (TCP over a LAN with
        // don't-fragment is never fragmented).
        return Parsed::Unusable("a fragmented IPv4 packet (not reassembled)".into());
    }
    let total = usize::from(u16::from_be_bytes([p[2], p[3]]));
    // The total length bounds the packet (Ethernet pads short frames); TSO captures may say 0.
    let end = if total >= ihl && total <= p.len() {
        total
    } else if total == 0 {
        p.len()
    } else {
        return Parsed::Unusable("IPv4 packet cut short by the capture's snap length".into());
    };
    let src = IpAddr::V4(Ipv4Addr::new(p[12], p[13], p[14], p[15]));
    let dst = IpAddr::V4(Ipv4Addr::new(p[16], p[17], p[18], p[19]));
    tcp(src, dst, &p[ihl..end])
}

fn ipv6(p: &[u8]) -> Parsed {
    if p.len() < 40 || p[0] >> 4 != 6 {
        return Parsed::Unusable("bad or cut IPv6 header".into());
    }
    if p[6] != PROTO_TCP {
        // Extension headers are not followed: TCP behind one is not read.
        return Parsed::Other;
    }
    let len = usize::from(u16::from_be_bytes([p[4], p[5]]));
    if 40 + len > p.len() {
        return Parsed::Unusable("IPv6 packet cut short by the capture's snap length".into());
    }
    let addr = |at: usize| {
        let mut a = [0u8; 16];
        a.copy_from_slice(&p[at..at + 16]);
        IpAddr::V6(Ipv6Addr::from(a))
    };
    tcp(addr(8), addr(24), &p[40..40 + len])
}

fn tcp(src: IpAddr, dst: IpAddr, t: &[u8]) -> Parsed {
    let (Some(sp), Some(dp), Some(seq), Some(ack)) =
        (be16(t, 0), be16(t, 2), be32(t, 4), be32(t, 8))
    else {
        return Parsed::Unusable("TCP header cut short".into());
    };
    let off = usize::from(t.get(12).copied().unwrap_or(0) >> 4) * 4;
    if off < 20 || t.len() < off {
        return Parsed::Unusable("bad or cut TCP header".into());
    }
    Parsed::Tcp(Segment {
        src: End { ip: src, port: sp },
        dst: End { ip: dst, port: dp },
        seq,
        ack,
        flags: t[13],
        payload: t[off..].to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_built_frame_parses_back_with_valid_checksums() {
        let f = frame(
            [2, 0, 0, 0, 0, 1],
            [2, 0, 0, 0, 0, 2],
            (Ipv4Addr::new(10, 0, 0, 1), 49152),
            (Ipv4Addr::new(10, 0, 0, 2), 102),
            1000,
            2000,
            flags::PSH | flags::ACK,
            None,
            7,
            b"hello",
        );
        // The checksums verify: the sum over a header with its checksum is all ones.
        assert_eq!(ones_sum(0, &f[14..34]), 0xffff);
        let Ok(Parsed::Tcp(s)) = parse(LINKTYPE_ETHERNET, &f) else {
            panic!("not parsed")
        };
        assert_eq!(s.src.port, 49152);
        assert_eq!(s.dst.ip, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)));
        assert_eq!((s.seq, s.ack), (1000, 2000));
        assert_eq!(s.payload, b"hello");
        let mut pseudo = Vec::new();
        pseudo.extend_from_slice(&f[26..34]);
        pseudo.extend_from_slice(&[0, 6, 0, (f.len() - 34) as u8]);
        assert_eq!(ones_sum(ones_sum(0, &pseudo), &f[34..]), 0xffff);
        // Odd length: the pad octet counts as zero.
        assert_eq!(ones_sum(0, &[0x12]), 0x1200);
    }

    #[test]
    fn cooked_captures_and_truncated_frames() {
        let f = frame(
            [0; 6],
            [0; 6],
            (Ipv4Addr::LOCALHOST, 1),
            (Ipv4Addr::LOCALHOST, 2),
            1,
            0,
            flags::SYN,
            Some(1460),
            0,
            &[],
        );
        let ip = &f[14..];
        let mut sll = vec![0u8; 16];
        sll[14..].copy_from_slice(&0x0800u16.to_be_bytes());
        sll.extend_from_slice(ip);
        assert!(
            matches!(parse(LINKTYPE_LINUX_SLL, &sll), Ok(Parsed::Tcp(s)) if s.flags == flags::SYN)
        );
        let mut sll2 = vec![0u8; 20];
        sll2[..2].copy_from_slice(&0x0800u16.to_be_bytes());
        sll2.extend_from_slice(ip);
        assert!(matches!(
            parse(LINKTYPE_LINUX_SLL2, &sll2),
            Ok(Parsed::Tcp(_))
        ));
        for cut in 0..f.len() {
            let _ = parse(LINKTYPE_ETHERNET, &f[..cut]);
            let _ = parse(LINKTYPE_LINUX_SLL2, &sll2[..cut.min(sll2.len())]);
        }
        assert!(matches!(
            parse(LINKTYPE_ETHERNET, &f[..40]),
            Ok(Parsed::Unusable(_))
        ));
        assert!(parse(147, &f).unwrap_err().contains("link type 147"));
    }
}
