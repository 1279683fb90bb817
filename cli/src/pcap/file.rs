//! Capture files: a pcapng writer (one section, one Ethernet interface, enhanced packet blocks)
//! and a reader of both pcapng and the classic pcap format, written from the formats'
//! specifications (the pcapng IETF draft, the libpcap file format). The reader trusts nothing:
//! every length is checked against what is left before it is used, so a damaged or hostile file
//! gets an error that says where, never a panic or a huge allocation.

/// LINKTYPE_ETHERNET.
pub const LINKTYPE_ETHERNET: u16 = 1;
/// LINKTYPE_NULL (BSD loopback: a 4-octet address family in the host's byte order).
pub const LINKTYPE_NULL: u16 = 0;
/// LINKTYPE_RAW (an IPv4 or IPv6 packet, no link header).
pub const LINKTYPE_RAW: u16 = 101;
/// LINKTYPE_LINUX_SLL (Linux "cooked" capture, v1: captures on `any`).
pub const LINKTYPE_LINUX_SLL: u16 = 113;
/// LINKTYPE_IPV4.
pub const LINKTYPE_IPV4: u16 = 228;
/// LINKTYPE_IPV6.
pub const LINKTYPE_IPV6: u16 = 229;
/// LINKTYPE_LINUX_SLL2 (Linux "cooked" capture, v2).
pub const LINKTYPE_LINUX_SLL2: u16 = 276;

const SHB: u32 = 0x0A0D_0D0A;
const IDB: u32 = 0x0000_0001;
const OBSOLETE_PB: u32 = 0x0000_0002;
const SPB: u32 = 0x0000_0003;
const EPB: u32 = 0x0000_0006;
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;

/// One packet read from a capture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    /// Capture time, nanoseconds since the Unix epoch (`None` if the file gave no usable time).
    pub ts_nanos: i128,
    /// The link type of its interface.
    pub linktype: u16,
    /// The octets captured (possibly fewer than were on the wire).
    pub data: Vec<u8>,
    /// The length on the wire.
    pub orig_len: u32,
}

// --------------------------------------------------------------------------------------------
// Writing

/// A pcapng file being written in memory: one section, one interface.
pub struct PcapngWriter {
    out: Vec<u8>,
}

fn pad4(n: usize) -> usize {
    (4 - n % 4) % 4
}

fn push_option(body: &mut Vec<u8>, code: u16, value: &[u8]) {
    body.extend_from_slice(&code.to_le_bytes());
    // Options written here are short strings of ours; longer is cut rather than overflowing.
    let len = value.len().min(usize::from(u16::MAX) - 3);
    body.extend_from_slice(&(len as u16).to_le_bytes());
    body.extend_from_slice(&value[..len]);
    body.extend(std::iter::repeat_n(0, pad4(len)));
}

impl PcapngWriter {
    /// A section header naming `application`, and one interface of `linktype` with microsecond
    /// timestamps (the pcapng default resolution, so no `if_tsresol` option is needed).
    pub fn new(application: &str, linktype: u16) -> Self {
        let mut w = PcapngWriter { out: Vec::new() };
        let mut shb = Vec::new();
        shb.extend_from_slice(&BYTE_ORDER_MAGIC.to_le_bytes());
        shb.extend_from_slice(&1u16.to_le_bytes()); // major version
        shb.extend_from_slice(&0u16.to_le_bytes()); // minor version
        shb.extend_from_slice(&(-1i64).to_le_bytes()); // section length: not given
        push_option(&mut shb, 4, application.as_bytes()); // shb_userappl
        push_option(&mut shb, 0, &[]); // opt_endofopt
        w.block(SHB, &shb);
        let mut idb = Vec::new();
        idb.extend_from_slice(&linktype.to_le_bytes());
        idb.extend_from_slice(&0u16.to_le_bytes()); // reserved
        idb.extend_from_slice(&0u32.to_le_bytes()); // snaplen: no limit
        w.block(IDB, &idb);
        w
    }

    fn block(&mut self, kind: u32, body: &[u8]) {
        let total = (12 + body.len() + pad4(body.len())) as u32;
        self.out.extend_from_slice(&kind.to_le_bytes());
        self.out.extend_from_slice(&total.to_le_bytes());
        self.out.extend_from_slice(body);
        self.out.extend(std::iter::repeat_n(0, pad4(body.len())));
        self.out.extend_from_slice(&total.to_le_bytes());
    }

    /// An enhanced packet block on interface 0 at `ts_micros` (UTC microseconds; a time before
    /// 1970 is written as 1970).
    pub fn packet(&mut self, ts_micros: i64, frame: &[u8]) {
        let ts = ts_micros.max(0) as u64;
        let mut epb = Vec::with_capacity(20 + frame.len() + 3);
        epb.extend_from_slice(&0u32.to_le_bytes()); // interface id
        epb.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
        epb.extend_from_slice(&(ts as u32).to_le_bytes());
        epb.extend_from_slice(&(frame.len() as u32).to_le_bytes()); // captured
        epb.extend_from_slice(&(frame.len() as u32).to_le_bytes()); // on the wire
        epb.extend_from_slice(frame);
        self.block(EPB, &epb);
    }

    /// The file.
    pub fn finish(self) -> Vec<u8> {
        self.out
    }
}

// --------------------------------------------------------------------------------------------
// Reading

/// Bound on one packet (a capture's snap length is at most 256 KiB in practice).
const MAX_PACKET: usize = 1 << 20;

/// A little cursor over a slice that fails instead of panicking.
struct Cur<'a> {
    b: &'a [u8],
    big_endian: bool,
}

impl<'a> Cur<'a> {
    fn take(&self, at: usize, n: usize) -> Option<&'a [u8]> {
        self.b.get(at..at.checked_add(n)?)
    }
    fn u16(&self, at: usize) -> Option<u16> {
        let s: [u8; 2] = self.take(at, 2)?.try_into().ok()?;
        Some(if self.big_endian {
            u16::from_be_bytes(s)
        } else {
            u16::from_le_bytes(s)
        })
    }
    fn u32(&self, at: usize) -> Option<u32> {
        let s: [u8; 4] = self.take(at, 4)?.try_into().ok()?;
        Some(if self.big_endian {
            u32::from_be_bytes(s)
        } else {
            u32::from_le_bytes(s)
        })
    }
}

/// Read a pcap or pcapng file (told apart by their first octets).
pub fn read(data: &[u8]) -> Result<Vec<Packet>, String> {
    match data.get(..4) {
        Some([0x0A, 0x0D, 0x0D, 0x0A]) => read_pcapng(data),
        Some(m) => {
            let m = u32::from_le_bytes([m[0], m[1], m[2], m[3]]);
            match m {
                0xa1b2_c3d4 | 0xa1b2_3c4d | 0xd4c3_b2a1 | 0x4d3c_b2a1 => read_pcap(data),
                _ => Err("not a pcap or pcapng capture (unknown magic number)".into()),
            }
        }
        None => Err("not a capture: shorter than any header".into()),
    }
}

fn read_pcap(data: &[u8]) -> Result<Vec<Packet>, String> {
    let magic = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
    let (big_endian, nanos) = match magic {
        0xa1b2_c3d4 => (false, false),
        0xa1b2_3c4d => (false, true),
        0xd4c3_b2a1 => (true, false),
        _ => (true, true),
    };
    let c = Cur {
        b: data,
        big_endian,
    };
    let short = || "pcap: the file header is cut short".to_string();
    let major = c.u16(4).ok_or_else(short)?;
    if major != 2 {
        return Err(format!("pcap: version {major} is not 2"));
    }
    // The link type's low 16 bits; the upper bits carry FCS information, not needed here.
    let linktype = (c.u32(20).ok_or_else(short)? & 0xffff) as u16;
    let mut at = 24;
    let mut packets = Vec::new();
    while at < data.len() {
        let rec = |what: &str| format!("pcap: packet record at offset {at}: {what}");
        let (Some(sec), Some(frac), Some(incl), Some(orig)) =
            (c.u32(at), c.u32(at + 4), c.u32(at + 8), c.u32(at + 12))
        else {
            return Err(rec("header cut short"));
        };
        let incl = incl as usize;
        if incl > MAX_PACKET {
            return Err(rec(&format!("claims {incl} octets (at most {MAX_PACKET})")));
        }
        let body = c.take(at + 16, incl).ok_or_else(|| rec("data cut short"))?;
        let ts_nanos =
            i128::from(sec) * 1_000_000_000 + i128::from(frac) * if nanos { 1 } else { 1000 };
        packets.push(Packet {
            ts_nanos,
            linktype,
            data: body.to_vec(),
            orig_len: orig,
        });
        at += 16 + incl;
    }
    Ok(packets)
}

/// What the reader keeps of an interface description block.
#[derive(Clone, Copy)]
struct Interface {
    linktype: u16,
    /// Timestamp units per second.
    units: u128,
    /// `if_tsoffset`, seconds.
    offset: i64,
}

fn read_pcapng(data: &[u8]) -> Result<Vec<Packet>, String> {
    let mut packets = Vec::new();
    let mut interfaces: Vec<Interface> = Vec::new();
    let mut c = Cur {
        b: data,
        big_endian: false,
    };
    let mut at = 0usize;
    while at < data.len() {
        let err = |what: &str| format!("pcapng: block at offset {at}: {what}");
        let kind_raw = c.take(at, 4).ok_or_else(|| err("cut short"))?;
        if kind_raw == [0x0A, 0x0D, 0x0D, 0x0A] {
            // A section header: its byte-order magic says how the section is written.
            let bom = c
                .take(at + 8, 4)
                .ok_or_else(|| err("section header cut short"))?;
            c.big_endian = match bom {
                [0x1A, 0x2B, 0x3C, 0x4D] => true,
                [0x4D, 0x3C, 0x2B, 0x1A] => false,
                _ => return Err(err("section header with a bad byte-order magic")),
            };
            let major = c.u16(at + 12).ok_or_else(|| err("cut short"))?;
            if major != 1 {
                return Err(err(&format!("section of pcapng version {major}, not 1")));
            }
            interfaces.clear();
        }
        let kind = c.u32(at).ok_or_else(|| err("cut short"))?;
        let total = c.u32(at + 4).ok_or_else(|| err("cut short"))? as usize;
        if total < 12 || total % 4 != 0 {
            return Err(err(&format!("impossible block length {total}")));
        }
        if total > MAX_PACKET + 1024 {
            return Err(err(&format!("claims {total} octets")));
        }
        let block = c.take(at, total).ok_or_else(|| err("cut short"))?;
        if c.u32(at + total - 4) != Some(total as u32) {
            return Err(err(
                "the trailing block length does not match the leading one",
            ));
        }
        let body = Cur {
            b: &block[8..total - 4],
            big_endian: c.big_endian,
        };
        match kind {
            IDB => {
                let linktype = body
                    .u16(0)
                    .ok_or_else(|| err("interface block cut short"))?;
                let mut iface = Interface {
                    linktype,
                    units: 1_000_000,
                    offset: 0,
                };
                for (code, value) in options(&body, 8) {
                    match (code, value) {
                        (9, [r]) => {
                            // if_tsresol: 10^-n, or 2^-n when the high bit is set.
                            let n = u32::from(r & 0x7f);
                            let units = if r & 0x80 == 0 {
                                10u128.checked_pow(n)
                            } else {
                                2u128.checked_pow(n)
                            };
                            iface.units = units
                                .filter(|u| *u > 0 && *u <= 1_000_000_000_000_000_000)
                                .ok_or_else(|| err("unusable timestamp resolution"))?;
                        }
                        (14, v) if v.len() == 8 => {
                            let a: [u8; 8] = v.try_into().unwrap_or_default();
                            iface.offset = if c.big_endian {
                                i64::from_be_bytes(a)
                            } else {
                                i64::from_le_bytes(a)
                            };
                        }
                        _ => {}
                    }
                }
                interfaces.push(iface);
            }
            EPB | OBSOLETE_PB => {
                let (id, ts_at) = if kind == EPB {
                    (body.u32(0), 4)
                } else {
                    (body.u16(0).map(u32::from), 4)
                };
                let id = id.ok_or_else(|| err("packet block cut short"))? as usize;
                let iface = *interfaces
                    .get(id)
                    .ok_or_else(|| err(&format!("packet on undescribed interface {id}")))?;
                let hi = body.u32(ts_at).ok_or_else(|| err("cut short"))?;
                let lo = body.u32(ts_at + 4).ok_or_else(|| err("cut short"))?;
                let cap = body.u32(ts_at + 8).ok_or_else(|| err("cut short"))? as usize;
                let orig = body.u32(ts_at + 12).ok_or_else(|| err("cut short"))?;
                let frame = body
                    .take(ts_at + 16, cap)
                    .ok_or_else(|| err("packet data beyond its block"))?;
                let ticks = (u128::from(hi) << 32) | u128::from(lo);
                let ts_nanos = (ticks * 1_000_000_000 / iface.units) as i128
                    + i128::from(iface.offset) * 1_000_000_000;
                packets.push(Packet {
                    ts_nanos,
                    linktype: iface.linktype,
                    data: frame.to_vec(),
                    orig_len: orig,
                });
            }
            SPB => {
                // A simple packet block has no time: it takes the previous packet's.
                let iface = *interfaces
                    .first()
                    .ok_or_else(|| err("simple packet block before any interface"))?;
                let orig = body.u32(0).ok_or_else(|| err("cut short"))?;
                let frame = &body.b[4.min(body.b.len())..];
                let cap = frame.len().min(orig as usize);
                packets.push(Packet {
                    ts_nanos: packets.last().map_or(0, |p: &Packet| p.ts_nanos),
                    linktype: iface.linktype,
                    data: frame[..cap].to_vec(),
                    orig_len: orig,
                });
            }
            // Section headers (handled above), name resolution, statistics, custom blocks.
            _ => {}
        }
        at += total;
    }
    Ok(packets)
}

/// The options of a block body from `from`: (code, value) until the end or `opt_endofopt`.
/// Malformed options end the list (they carry nothing this reader needs to be right).
fn options<'a>(body: &Cur<'a>, from: usize) -> Vec<(u16, &'a [u8])> {
    let mut v = Vec::new();
    let mut at = from;
    while let (Some(code), Some(len)) = (body.u16(at), body.u16(at + 2)) {
        if code == 0 {
            break;
        }
        let len = usize::from(len);
        let Some(value) = body.take(at + 4, len) else {
            break;
        };
        v.push((code, value));
        at += 4 + len + pad4(len);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_pcapng_reads_back() {
        let mut w = PcapngWriter::new("test", LINKTYPE_ETHERNET);
        w.packet(1_700_000_000_123_456, &[1, 2, 3]);
        w.packet(1_700_000_001_000_000, &[4; 61]);
        let f = w.finish();
        assert_eq!(f.len() % 4, 0);
        let p = read(&f).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].data, [1, 2, 3]);
        assert_eq!(p[0].ts_nanos, 1_700_000_000_123_456_000);
        assert_eq!(p[1].data.len(), 61);
        assert_eq!(p[1].linktype, LINKTYPE_ETHERNET);
    }

    #[test]
    fn classic_pcap_in_both_byte_orders_and_nanoseconds() {
        let mut le = Vec::new();
        le.extend_from_slice(&0xa1b2_3c4du32.to_le_bytes());
        le.extend_from_slice(&2u16.to_le_bytes());
        le.extend_from_slice(&4u16.to_le_bytes());
        le.extend_from_slice(&[0; 8]);
        le.extend_from_slice(&65535u32.to_le_bytes());
        le.extend_from_slice(&113u32.to_le_bytes());
        le.extend_from_slice(&10u32.to_le_bytes());
        le.extend_from_slice(&5u32.to_le_bytes());
        le.extend_from_slice(&2u32.to_le_bytes());
        le.extend_from_slice(&2u32.to_le_bytes());
        le.extend_from_slice(&[7, 8]);
        let p = read(&le).unwrap();
        assert_eq!(p[0].ts_nanos, 10_000_000_005);
        assert_eq!(p[0].linktype, LINKTYPE_LINUX_SLL);
        let mut be = Vec::new();
        be.extend_from_slice(&0xa1b2_c3d4u32.to_be_bytes());
        be.extend_from_slice(&2u16.to_be_bytes());
        be.extend_from_slice(&4u16.to_be_bytes());
        be.extend_from_slice(&[0; 8]);
        be.extend_from_slice(&65535u32.to_be_bytes());
        be.extend_from_slice(&1u32.to_be_bytes());
        be.extend_from_slice(&3u32.to_be_bytes());
        be.extend_from_slice(&7u32.to_be_bytes());
        be.extend_from_slice(&1u32.to_be_bytes());
        be.extend_from_slice(&1u32.to_be_bytes());
        be.push(9);
        let p = read(&be).unwrap();
        assert_eq!(p[0].ts_nanos, 3_000_007_000);
        assert_eq!(p[0].data, [9]);
    }

    #[test]
    fn damaged_files_get_errors_never_panics() {
        let mut w = PcapngWriter::new("test", LINKTYPE_ETHERNET);
        w.packet(5, &[0xaa; 100]);
        let f = w.finish();
        for cut in 0..f.len() {
            let _ = read(&f[..cut]);
        }
        for i in 0..f.len() {
            let mut g = f.clone();
            g[i] ^= 0xff;
            let _ = read(&g);
        }
        assert!(read(b"hello world!").unwrap_err().contains("unknown magic"));
        assert!(read(&f[..f.len() - 1]).unwrap_err().contains("offset"));
    }
}
