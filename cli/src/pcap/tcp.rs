//! TCP reassembly of a capture into conversations with one server port: per connection and
//! direction, the octet stream in sequence order, retransmissions and overlaps trimmed, a few
//! out-of-order segments held until the gap before them fills. What it cannot make whole (a
//! segment the capture lost, a connection whose start is not in the capture) it refuses or
//! leaves out, and says so: a recording with a hole would replay into nonsense.

use std::collections::HashMap;
use std::time::Duration;

use tase2_core::record::{Entry, Event};
use tase2_core::Instant;

use super::file::Packet;
use super::net::{self, flags, End, Parsed, Segment};

/// Out-of-order segments held per direction before the capture is declared to have a hole.
const MAX_PENDING_SEGMENTS: usize = 256;
/// Out-of-order octets held per direction.
const MAX_PENDING_OCTETS: usize = 4 << 20;

/// Which side of the conversations a recording is made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Side {
    /// The server's: one connection per TCP connection, client octets as input.
    Server,
    /// One client's: connection 0, server octets as input.
    Client,
}

/// Direction of a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// Client to server.
    ToServer,
    /// Server to client.
    ToClient,
}

/// What happened on a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Happening {
    /// The client's SYN.
    Open,
    /// Octets now in order.
    Data(Dir, Vec<u8>),
    /// The first FIN (once the stream before it is whole) or RST.
    Closed,
}

/// One happening at a capture time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timed {
    /// Capture time, ns since the Unix epoch.
    pub ts_nanos: i128,
    /// The connection, 0-based in the order their SYNs were captured.
    pub conn: usize,
    /// What.
    pub what: Happening,
}

/// A capture's conversations with one server port.
#[derive(Debug, Default)]
pub struct Conversations {
    /// Time of the first packet of the capture, ns since the Unix epoch.
    pub first_ts: Option<i128>,
    /// Everything, in capture order.
    pub timeline: Vec<Timed>,
    /// The client end of each connection.
    pub clients: Vec<End>,
    /// Things left out, for people.
    pub warnings: Vec<String>,
}

#[derive(Default)]
struct Half {
    /// The next sequence number expected (known once its SYN is seen).
    next: Option<u32>,
    isn: u32,
    pending: Vec<(u32, Vec<u8>)>,
    pending_octets: usize,
    fin: Option<u32>,
}

impl Half {
    /// Take a segment; the octets now in order.
    fn take(&mut self, seq: u32, payload: &[u8]) -> Result<Vec<u8>, String> {
        let Some(next) = self.next else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        if !Self::append(next, seq, payload, &mut out) {
            if self.pending.len() >= MAX_PENDING_SEGMENTS
                || self.pending_octets + payload.len() > MAX_PENDING_OCTETS
            {
                return Err(format!(
                    "a segment is missing from the capture at relative sequence {} (more than \
                     {MAX_PENDING_SEGMENTS} segments or {} MiB arrived after the hole)",
                    next.wrapping_sub(self.isn),
                    MAX_PENDING_OCTETS >> 20
                ));
            }
            self.pending_octets += payload.len();
            self.pending.push((seq, payload.to_vec()));
            return Ok(out);
        }
        self.next = Some(next.wrapping_add(out.len() as u32));
        // Segments held for this gap may follow now.
        while let Some(i) = self
            .pending
            .iter()
            .position(|(s, _)| (s.wrapping_sub(self.next.unwrap_or(0)) as i32) <= 0)
        {
            let (s, p) = self.pending.swap_remove(i);
            self.pending_octets -= p.len();
            let before = out.len();
            let next = self.next.unwrap_or(0);
            Self::append(next, s, &p, &mut out);
            self.next = Some(next.wrapping_add((out.len() - before) as u32));
        }
        Ok(out)
    }

    /// Append what of `payload` (at `seq`) follows `next`: false if it starts beyond `next`.
    fn append(next: u32, seq: u32, payload: &[u8], out: &mut Vec<u8>) -> bool {
        let rel = seq.wrapping_sub(next) as i32;
        if rel > 0 {
            return false;
        }
        // Already seen up to `-rel` octets in (a retransmission or an overlap).
        let skip = rel.unsigned_abs() as usize;
        if skip < payload.len() {
            out.extend_from_slice(&payload[skip..]);
        }
        true
    }

    /// Whether the stream has reached its FIN.
    fn finished(&self) -> bool {
        self.fin.is_some() && self.fin == self.next
    }
}

struct Conn {
    index: usize,
    c: Half,
    s: Half,
    closed: bool,
    after_close: usize,
}

/// Reassemble every TCP connection to `server_port` in `packets`.
pub fn reassemble(packets: &[Packet], server_port: u16) -> Result<Conversations, String> {
    let mut conv = Conversations {
        first_ts: packets.first().map(|p| p.ts_nanos),
        ..Default::default()
    };
    // (client, server) -> connection; the newest one of a 4-tuple (ports are reused).
    let mut live: HashMap<(End, End), Conn> = HashMap::new();
    let mut unknown: HashMap<(End, End), usize> = HashMap::new();
    let mut unusable = 0usize;
    for (n, p) in packets.iter().enumerate() {
        let seg =
            match net::parse(p.linktype, &p.data).map_err(|e| format!("packet {}: {e}", n + 1))? {
                Parsed::Tcp(s) => s,
                Parsed::Other => continue,
                Parsed::Unusable(why) => {
                    unusable += 1;
                    if unusable <= 3 {
                        conv.warnings
                            .push(format!("packet {}: {why}; left out", n + 1));
                    }
                    continue;
                }
            };
        let (key, dir) = if seg.dst.port == server_port {
            ((seg.src, seg.dst), Dir::ToServer)
        } else if seg.src.port == server_port {
            ((seg.dst, seg.src), Dir::ToClient)
        } else {
            continue;
        };
        let ts = p.ts_nanos;
        let syn = seg.flags & flags::SYN != 0;
        let ack = seg.flags & flags::ACK != 0;
        if syn && !ack && dir == Dir::ToServer {
            if let Some(c) = live.get(&key) {
                if c.c.isn == seg.seq {
                    continue; // the SYN again (or seen twice on a capture of `any`)
                }
            }
            if let Some(old) = live.remove(&key) {
                close(&mut conv, ts, &old);
            }
            let index = conv.clients.len();
            conv.clients.push(key.0);
            conv.timeline.push(Timed {
                ts_nanos: ts,
                conn: index,
                what: Happening::Open,
            });
            let c = Conn {
                index,
                c: Half {
                    next: Some(seg.seq.wrapping_add(1)),
                    isn: seg.seq,
                    ..Default::default()
                },
                s: Half::default(),
                closed: false,
                after_close: 0,
            };
            live.insert(key, c);
            continue;
        }
        let Some(c) = live.get_mut(&key) else {
            if !seg.payload.is_empty() {
                *unknown.entry(key).or_default() += seg.payload.len();
            }
            continue;
        };
        if syn && ack && dir == Dir::ToClient {
            if c.s.next.is_none() {
                c.s.next = Some(seg.seq.wrapping_add(1));
                c.s.isn = seg.seq;
            }
            continue;
        }
        segment(&mut conv, ts, c, dir, &seg).map_err(|e| {
            format!(
                "connection {} (client {}:{}), {} stream: {e}",
                c.index + 1,
                key.0.ip,
                key.0.port,
                match dir {
                    Dir::ToServer => "client to server",
                    Dir::ToClient => "server to client",
                }
            )
        })?;
    }
    let mut rest: Vec<_> = live.into_iter().collect();
    rest.sort_by_key(|(_, c)| c.index);
    for (key, c) in rest {
        for (half, name) in [(&c.c, "client to server"), (&c.s, "server to client")] {
            if let (Some(next), false) = (half.next, half.pending.is_empty()) {
                return Err(format!(
                    "connection {} (client {}:{}), {name} stream: a segment is missing from the \
                     capture at relative sequence {}; a recording cannot skip it",
                    c.index + 1,
                    key.0.ip,
                    key.0.port,
                    next.wrapping_sub(half.isn)
                ));
            }
        }
        if c.after_close > 0 {
            conv.warnings.push(format!(
                "connection {}: {} octets after the transport closed are not in the recording",
                c.index + 1,
                c.after_close
            ));
        }
    }
    let mut unknown: Vec<_> = unknown.into_iter().collect();
    unknown.sort();
    for ((client, _), octets) in unknown {
        conv.warnings.push(format!(
            "the connection of client {}:{} began before the capture ({octets} octets left out: \
             a replay needs the association from its start)",
            client.ip, client.port
        ));
    }
    if unusable > 3 {
        conv.warnings
            .push(format!("{unusable} packets in all could not be read"));
    }
    Ok(conv)
}

fn close(conv: &mut Conversations, ts: i128, c: &Conn) {
    if !c.closed {
        conv.timeline.push(Timed {
            ts_nanos: ts,
            conn: c.index,
            what: Happening::Closed,
        });
    }
}

fn segment(
    conv: &mut Conversations,
    ts: i128,
    c: &mut Conn,
    dir: Dir,
    seg: &Segment,
) -> Result<(), String> {
    if c.closed {
        c.after_close += seg.payload.len();
        return Ok(());
    }
    if seg.flags & flags::RST != 0 {
        close(conv, ts, c);
        c.closed = true;
        return Ok(());
    }
    let half = match dir {
        Dir::ToServer => &mut c.c,
        Dir::ToClient => &mut c.s,
    };
    if half.next.is_none() && !seg.payload.is_empty() {
        // The SYN-ACK was not captured: the first octets seen start the stream.
        half.next = Some(seg.seq);
        half.isn = seg.seq.wrapping_sub(1);
        conv.warnings.push(format!(
            "connection {}: the server's SYN-ACK is not in the capture; its stream starts at \
             the first octets seen",
            c.index + 1
        ));
    }
    let data = half.take(seg.seq, &seg.payload)?;
    if seg.flags & flags::FIN != 0 && half.fin.is_none() {
        half.fin = Some(seg.seq.wrapping_add(seg.payload.len() as u32));
    }
    let finished = half.finished();
    if !data.is_empty() {
        conv.timeline.push(Timed {
            ts_nanos: ts,
            conn: c.index,
            what: Happening::Data(dir, data),
        });
    }
    if finished {
        close(conv, ts, c);
        c.closed = true;
    }
    Ok(())
}

/// The entries of one side's recording, and the recording's start.
pub struct Recorded {
    /// The clock at the first packet of the capture.
    pub start: Instant,
    /// The entries.
    pub entries: Vec<Entry>,
    /// Connections in the recording.
    pub connections: usize,
}

/// The entries of `side`'s recording (`connection`, 0-based, picks a client's connection).
pub fn entries(conv: &Conversations, side: Side, connection: usize) -> Result<Recorded, String> {
    let t0 = conv.first_ts.unwrap_or(0);
    let instant = |ts: i128| {
        // A capture not in time order does not move the clock back.
        let since = u64::try_from(ts - t0).unwrap_or(0);
        let utc = i64::try_from(ts.div_euclid(1000)).unwrap_or(0);
        Instant::new(Duration::from_nanos(since), utc)
    };
    let start = instant(t0);
    let mut last = start;
    let mut entries = Vec::new();
    if side == Side::Client && connection >= conv.clients.len() {
        return Err(format!(
            "the capture has {} connection(s) to the server port; connection {} was asked",
            conv.clients.len(),
            connection + 1
        ));
    }
    for t in &conv.timeline {
        let at = instant(t.ts_nanos);
        let at = if at.monotonic() < last.monotonic() {
            last
        } else {
            at
        };
        last = at;
        let event = match side {
            Side::Server => {
                // Our endpoint numbers its connections from 1 in the order it opens them.
                let conn = t.conn as u64 + 1;
                match &t.what {
                    Happening::Open => Event::Open { conn },
                    Happening::Data(Dir::ToServer, b) => Event::Input {
                        conn,
                        bytes: b.clone(),
                    },
                    Happening::Data(Dir::ToClient, b) => Event::Output {
                        conn,
                        bytes: b.clone(),
                    },
                    Happening::Closed => Event::TransportClosed { conn },
                }
            }
            Side::Client => {
                if t.conn != connection {
                    continue;
                }
                match &t.what {
                    Happening::Open => continue,
                    Happening::Data(Dir::ToClient, b) => Event::Input {
                        conn: 0,
                        bytes: b.clone(),
                    },
                    Happening::Data(Dir::ToServer, b) => Event::Output {
                        conn: 0,
                        bytes: b.clone(),
                    },
                    Happening::Closed => Event::TransportClosed { conn: 0 },
                }
            }
        };
        entries.push(Entry { at, event });
    }
    Ok(Recorded {
        start,
        entries,
        connections: match side {
            Side::Server => conv.clients.len(),
            Side::Client => 1,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retransmissions_overlaps_and_reordering_come_out_in_order() {
        let mut h = Half {
            next: Some(101),
            isn: 100,
            ..Default::default()
        };
        assert_eq!(h.take(101, b"abc").unwrap(), b"abc");
        assert_eq!(h.take(101, b"abc").unwrap(), b"", "a retransmission");
        assert_eq!(h.take(103, b"cde").unwrap(), b"de", "an overlap");
        assert_eq!(h.take(109, b"ij").unwrap(), b"", "held: a hole before it");
        assert_eq!(h.take(106, b"fgh").unwrap(), b"fghij", "the hole filled");
        assert!(h.pending.is_empty());
        // Sequence numbers wrap.
        let mut w = Half {
            next: Some(u32::MAX - 1),
            ..Default::default()
        };
        assert_eq!(w.take(u32::MAX - 1, b"wxyz").unwrap(), b"wxyz");
        assert_eq!(w.next, Some(2));
    }

    #[test]
    fn a_hole_that_never_fills_is_refused_with_words() {
        let mut h = Half {
            next: Some(1),
            isn: 0,
            ..Default::default()
        };
        let mut err = None;
        for k in 0..(MAX_PENDING_SEGMENTS as u32 + 1) {
            if let Err(e) = h.take(1000 + k * 10, &[0; 10]) {
                err = Some(e);
                break;
            }
        }
        let err = err.expect("refused");
        assert!(
            err.contains("missing from the capture at relative sequence 1"),
            "{err}"
        );
    }
}
