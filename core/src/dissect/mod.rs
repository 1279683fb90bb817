//! A passive dissector: one direction of one connection's octet stream, decoded into PDUs.
//!
//! It reads what a peer sent (a recording, a capture) without taking part: TPKT frames are split,
//! COTP DT segments joined up to EOT, and each TSDU decoded through session, presentation, ACSE
//! and MMS with the same decoders the stack runs on. Every [`Pdu`] carries its layer stack, a
//! one-line summary and a field tree (one [`Field`] line each) that two PDUs can be compared by
//! ([`diff_fields`]): a replay that diverged can say which layer and which field differ.
//!
//! Nothing is trusted: a PDU that does not decode is a [`Pdu`] with [`Pdu::error`] set at the
//! layer where decoding stopped; a stream whose TPKT framing breaks yields one last PDU saying so
//! and nothing after it (there is no way to find the next frame).
//!
//! [`tase2`] gives the PDUs their TASE.2 meaning (transfer sets, reports, select and operate).

pub mod tase2;

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt::Write as _;

use crate::acse::{self, Apdu, AssociateDiagnostic, AssociateResult, Authentication};
use crate::cotp::{self, Tpdu};
use crate::mms::{DecodeLimits, MmsPdu};
use crate::presentation::{self, AbortPpdu, AcceptOrReject, ConnectPpdu, Pdv};
use crate::session::Spdu;
use crate::tpkt;

/// Largest TSDU joined from segments; more is reported as an error rather than buffered.
pub const MAX_TSDU: usize = 1 << 20;

/// A protocol layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Layer {
    /// RFC 1006 TPKT.
    Tpkt,
    /// ISO 8073 / X.224 class 0 transport.
    Cotp,
    /// ISO 8327 / X.225 session.
    Session,
    /// ISO 8823 / X.226 presentation.
    Presentation,
    /// ISO 8650 / X.227 association control.
    Acse,
    /// ISO 9506 MMS.
    Mms,
}

impl Layer {
    /// The layer's short name, as printed.
    pub const fn name(self) -> &'static str {
        match self {
            Layer::Tpkt => "TPKT",
            Layer::Cotp => "COTP",
            Layer::Session => "Session",
            Layer::Presentation => "Presentation",
            Layer::Acse => "ACSE",
            Layer::Mms => "MMS",
        }
    }
}

impl core::fmt::Display for Layer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// One line of a PDU's field tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// The layer the line belongs to.
    pub layer: Layer,
    /// The line, indented by four spaces per level (as `{:#?}` renders a struct).
    pub text: String,
}

/// The COTP TPDU of a PDU (DT for every data-phase PDU).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CotpKind {
    /// Connection request.
    ConnectionRequest,
    /// Connection confirm.
    ConnectionConfirm,
    /// Data (the TSDU of one or more DT TPDUs).
    Data,
    /// Disconnect request, with its reason.
    DisconnectRequest(u8),
    /// TPDU error, with its cause.
    Error(u8),
}

/// The session SPDU of a PDU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpduKind {
    /// CN.
    Connect,
    /// AC.
    Accept,
    /// RF, with its reason.
    Refuse(u8),
    /// FN.
    Finish,
    /// DN.
    Disconnect,
    /// NF.
    NotFinished,
    /// AB.
    Abort,
    /// AA.
    AbortAccept,
    /// GT + DT.
    Data,
}

/// The ACSE APDU of a PDU, with what a reader wants of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AcseKind {
    /// AARQ.
    Aarq {
        /// calling AP-title and AE-qualifier.
        calling: acse::ApInvocation,
        /// called AP-title and AE-qualifier.
        called: acse::ApInvocation,
    },
    /// AARE.
    Aare {
        /// The result.
        result: AssociateResult,
        /// Who answered and why.
        diagnostic: Option<AssociateDiagnostic>,
    },
    /// RLRQ.
    Rlrq,
    /// RLRE.
    Rlre,
    /// ABRT.
    Abrt {
        /// 0 user, 1 provider.
        source: u8,
    },
}

/// One PDU of a stream: one COTP TPDU, or one TSDU joined from its DT segments.
#[derive(Clone, Debug, PartialEq)]
pub struct Pdu {
    /// Offset in the stream of its first TPKT frame.
    pub offset: usize,
    /// Octets of the stream it spans (all its frames).
    pub len: usize,
    /// TPKT frames it came in.
    pub frames: usize,
    /// The layers decoded, lowest first.
    pub layers: Vec<Layer>,
    /// One line, e.g. `MMS Read request (invoke 3): 2 variables`.
    pub summary: String,
    /// The field tree, layer by layer.
    pub fields: Vec<Field>,
    /// The COTP TPDU, if the frame got that far.
    pub cotp: Option<CotpKind>,
    /// The session SPDU.
    pub spdu: Option<SpduKind>,
    /// The ACSE APDU.
    pub acse: Option<AcseKind>,
    /// The MMS PDU.
    pub mms: Option<MmsPdu>,
    /// Where and why decoding stopped, if it did.
    pub error: Option<(Layer, String)>,
}

impl Pdu {
    fn new(offset: usize, len: usize, frames: usize) -> Self {
        Pdu {
            offset,
            len,
            frames,
            layers: Vec::new(),
            summary: String::new(),
            fields: Vec::new(),
            cotp: None,
            spdu: None,
            acse: None,
            mms: None,
            error: None,
        }
    }

    /// The highest layer decoded.
    pub fn top(&self) -> Option<Layer> {
        self.layers.last().copied()
    }

    /// Whether `offset` of the stream falls inside this PDU.
    pub fn contains(&self, offset: usize) -> bool {
        self.offset <= offset && offset < self.offset + self.len
    }

    fn layer(&mut self, layer: Layer, line: String) {
        if self.layers.last() != Some(&layer) {
            self.layers.push(layer);
        }
        self.fields.push(Field { layer, text: line });
    }

    /// Add the lines of `{:#?}` of `value`, indented one level.
    fn tree(&mut self, layer: Layer, value: &dyn core::fmt::Debug) {
        let text = format!("{value:#?}");
        for line in text.lines() {
            self.fields.push(Field {
                layer,
                text: format!("    {line}"),
            });
        }
    }

    fn fail(&mut self, layer: Layer, why: String) {
        self.fields.push(Field {
            layer,
            text: format!("{} does not decode: {why}", layer.name()),
        });
        if self.summary.is_empty() {
            self.summary = format!("{} undecodable: {why}", layer.name());
        } else {
            let _ = write!(self.summary, " ({} undecodable: {why})", layer.name());
        }
        self.error = Some((layer, why));
    }
}

/// Splits one direction of a connection into [`Pdu`]s as octets arrive.
#[derive(Debug, Default)]
pub struct Dissector {
    /// Octets not yet a whole TPKT frame.
    buf: Vec<u8>,
    /// Stream offset of `buf[0]`.
    base: usize,
    /// DT segments of a TSDU not yet ended: (stream offset of the first, frames, octets).
    partial: Option<(usize, usize, usize)>,
    reassembler: cotp::Reassembler,
    /// Framing was lost; everything after is ignored.
    broken: bool,
}

impl Dissector {
    /// A dissector at stream offset 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add the next octets of the stream; the PDUs they complete.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Pdu> {
        let mut out = Vec::new();
        if self.broken {
            self.base += bytes.len();
            return out;
        }
        // Taken out so that `frame` may borrow `self` while the frames are read.
        let mut buf = core::mem::take(&mut self.buf);
        buf.extend_from_slice(bytes);
        let mut used = 0;
        loop {
            let rest = &buf[used..];
            let offset = self.base + used;
            let len = match tpkt::frame_len(rest, tpkt::MAX_TPKT_LEN) {
                Ok(Some(len)) if len <= rest.len() => len,
                Ok(_) => break,
                Err(e) => {
                    let mut p = Pdu::new(offset, rest.len(), 1);
                    p.fail(
                        Layer::Tpkt,
                        format!("{e}; framing lost, the rest is skipped"),
                    );
                    out.push(p);
                    used = buf.len();
                    self.broken = true;
                    break;
                }
            };
            let frame = &rest[..len];
            if let Some(p) = self.frame(offset, frame) {
                out.push(p);
            }
            used += len;
        }
        buf.drain(..used);
        self.buf = buf;
        self.base += used;
        out
    }

    /// Octets pushed that are not yet part of a PDU (an incomplete frame or TSDU).
    pub fn pending(&self) -> usize {
        self.buf.len() + self.partial.map_or(0, |(_, _, n)| n)
    }

    /// What is left at the end of the stream: an incomplete frame or unfinished TSDU, as a PDU
    /// whose error says so.
    pub fn finish(&mut self) -> Option<Pdu> {
        if self.broken {
            return None;
        }
        let (offset, frames, octets) = match self.partial.take() {
            Some((o, f, n)) => (o, f, n + self.buf.len()),
            None if !self.buf.is_empty() => (self.base, 0, self.buf.len()),
            None => return None,
        };
        let mut p = Pdu::new(offset, octets, frames);
        if frames > 0 {
            p.layer(
                Layer::Tpkt,
                format!("TPKT {frames} frames, {octets} octets"),
            );
            p.cotp = Some(CotpKind::Data);
            p.fail(
                Layer::Cotp,
                String::from("the stream ends inside a segmented TSDU (no EOT)"),
            );
        } else {
            p.fail(
                Layer::Tpkt,
                format!("the stream ends inside a frame ({octets} octets)"),
            );
        }
        self.buf.clear();
        self.reassembler = cotp::Reassembler::default();
        Some(p)
    }

    /// One whole TPKT frame at `offset`.
    fn frame(&mut self, offset: usize, frame: &[u8]) -> Option<Pdu> {
        let tpdu = match Tpdu::decode(&frame[tpkt::HEADER_LEN..]) {
            Ok(t) => t,
            Err(e) => {
                let mut p = Pdu::new(offset, frame.len(), 1);
                p.layer(Layer::Tpkt, tpkt_line(frame.len(), 1));
                p.fail(Layer::Cotp, e.to_string());
                return Some(p);
            }
        };
        let Tpdu::Data { eot, user_data } = tpdu else {
            let mut p = Pdu::new(offset, frame.len(), 1);
            p.layer(Layer::Tpkt, tpkt_line(frame.len(), 1));
            control_tpdu(&mut p, &tpdu);
            return Some(p);
        };
        let (start, frames, octets) = match self.partial.take() {
            Some((s, f, n)) => (s, f + 1, n + frame.len()),
            None => (offset, 1, frame.len()),
        };
        if !eot {
            if self.reassembler.push(user_data, MAX_TSDU).is_err() {
                let mut p = Pdu::new(start, octets, frames);
                p.layer(Layer::Tpkt, tpkt_line(octets, frames));
                p.cotp = Some(CotpKind::Data);
                p.fail(
                    Layer::Cotp,
                    format!("segmented TSDU over {MAX_TSDU} octets, dropped"),
                );
                return Some(p);
            }
            self.partial = Some((start, frames, octets));
            return None;
        }
        let mut p = Pdu::new(start, octets, frames);
        p.layer(Layer::Tpkt, tpkt_line(octets, frames));
        p.cotp = Some(CotpKind::Data);
        match self.reassembler.finish(user_data, MAX_TSDU) {
            Ok(tsdu) => {
                p.layer(
                    Layer::Cotp,
                    format!(
                        "COTP DT, {} segment{}, TSDU {} octets",
                        frames,
                        if frames == 1 { "" } else { "s" },
                        tsdu.len()
                    ),
                );
                session(&mut p, &tsdu);
                self.reassembler.recycle(tsdu);
            }
            Err(_) => p.fail(
                Layer::Cotp,
                format!("segmented TSDU over {MAX_TSDU} octets, dropped"),
            ),
        }
        Some(p)
    }
}

/// Dissect a whole stream (all octets one side sent), the incomplete rest included.
pub fn dissect_stream(stream: &[u8]) -> Vec<Pdu> {
    let mut d = Dissector::new();
    let mut v = d.push(stream);
    v.extend(d.finish());
    v
}

fn tpkt_line(octets: usize, frames: usize) -> String {
    if frames == 1 {
        format!("TPKT version 3, length {octets}")
    } else {
        format!("TPKT {frames} frames, {octets} octets")
    }
}

fn control_tpdu(p: &mut Pdu, t: &Tpdu<'_>) {
    let (kind, line) = match t {
        Tpdu::ConnectionRequest(c) => (
            CotpKind::ConnectionRequest,
            format!("COTP CR (connection request) {}", connect_params(c)),
        ),
        Tpdu::ConnectionConfirm(c) => (
            CotpKind::ConnectionConfirm,
            format!("COTP CC (connection confirm) {}", connect_params(c)),
        ),
        Tpdu::DisconnectRequest { reason, .. } => (
            CotpKind::DisconnectRequest(*reason),
            format!(
                "COTP DR (disconnect request): {}",
                cotp::disconnect_reason_name(*reason).unwrap_or("reason unknown")
            ),
        ),
        Tpdu::Error { cause, .. } => (
            CotpKind::Error(*cause),
            format!(
                "COTP ER (TPDU error): {}",
                cotp::error_cause_name(*cause).unwrap_or("cause unknown")
            ),
        ),
        Tpdu::Data { .. } => (CotpKind::Data, String::from("COTP DT")),
    };
    p.cotp = Some(kind);
    p.summary = line.clone();
    p.layer(Layer::Cotp, line);
    p.tree(Layer::Cotp, t);
}

fn connect_params(c: &cotp::ConnectParams<'_>) -> String {
    let mut s = format!("src-ref {:#06x}", c.src_ref);
    if let Some(size) = c.tpdu_size {
        let _ = write!(s, ", TPDU size {}", size.bytes());
    }
    s
}

fn session(p: &mut Pdu, tsdu: &[u8]) {
    let spdu = match Spdu::decode(tsdu) {
        Ok(s) => s,
        Err(e) => return p.fail(Layer::Session, e.to_string()),
    };
    let (kind, name) = match &spdu {
        Spdu::Connect(_) => (SpduKind::Connect, "CN (connect)"),
        Spdu::Accept(_) => (SpduKind::Accept, "AC (accept)"),
        Spdu::Refuse { reason, .. } => (SpduKind::Refuse(*reason), "RF (refuse)"),
        Spdu::Finish { .. } => (SpduKind::Finish, "FN (finish)"),
        Spdu::Disconnect { .. } => (SpduKind::Disconnect, "DN (disconnect)"),
        Spdu::NotFinished { .. } => (SpduKind::NotFinished, "NF (not finished)"),
        Spdu::Abort { .. } => (SpduKind::Abort, "AB (abort)"),
        Spdu::AbortAccept => (SpduKind::AbortAccept, "AA (abort accept)"),
        Spdu::Data { .. } => (SpduKind::Data, "GT+DT (data transfer)"),
    };
    p.spdu = Some(kind);
    p.summary = format!("Session {name}");
    p.layer(Layer::Session, format!("Session {name}"));
    match spdu {
        Spdu::Connect(ca) | Spdu::Accept(ca) => {
            p.fields.push(Field {
                layer: Layer::Session,
                text: format!(
                    "    version {:#04x}, requirements {:#06x}, calling selector {:?}, called \
                     selector {:?}, user data {} octets",
                    ca.version,
                    ca.session_requirements,
                    ca.calling_selector,
                    ca.called_selector,
                    ca.user_data.len()
                ),
            });
            if kind == SpduKind::Connect {
                match ConnectPpdu::decode(ca.user_data) {
                    Ok(cp) => {
                        p.layer(
                            Layer::Presentation,
                            format!(
                                "Presentation CP, {} contexts, calling selector {:?}, called \
                                 selector {:?}",
                                cp.contexts.len(),
                                cp.calling_selector,
                                cp.called_selector
                            ),
                        );
                        for c in &cp.contexts {
                            p.fields.push(Field {
                                layer: Layer::Presentation,
                                text: format!("    context {}: {}", c.id, c.abstract_syntax),
                            });
                        }
                        pdvs(p, &cp.user_data);
                    }
                    Err(e) => p.fail(Layer::Presentation, e.to_string()),
                }
            } else {
                accept_or_reject(p, ca.user_data);
            }
        }
        Spdu::Refuse { reason, user_data } => {
            p.fields.push(Field {
                layer: Layer::Session,
                text: format!(
                    "    reason {reason}: {}",
                    crate::session::refuse_reason_name(reason).unwrap_or("unknown")
                ),
            });
            if !user_data.is_empty() {
                accept_or_reject(p, user_data);
            }
        }
        Spdu::Finish { user_data }
        | Spdu::Disconnect { user_data }
        | Spdu::NotFinished { user_data }
        | Spdu::Data { user_data } => {
            if user_data.is_empty() && kind != SpduKind::Data {
                return;
            }
            match presentation::decode_user_data(user_data) {
                Ok(v) => {
                    p.layer(
                        Layer::Presentation,
                        format!("Presentation user data, {} PDV", v.len()),
                    );
                    pdvs(p, &v);
                }
                Err(e) => p.fail(Layer::Presentation, e.to_string()),
            }
        }
        Spdu::Abort { user_data, .. } => {
            if user_data.is_empty() {
                return;
            }
            match AbortPpdu::decode(user_data) {
                Ok(AbortPpdu::User { user_data }) => {
                    p.layer(
                        Layer::Presentation,
                        String::from("Presentation ARU (user abort)"),
                    );
                    pdvs(p, &user_data);
                }
                Ok(AbortPpdu::Provider { reason, event }) => {
                    let line = format!(
                        "Presentation ARP (provider abort): {}, event {event:?}",
                        reason
                            .and_then(presentation::abort_reason_name)
                            .unwrap_or("reason not given")
                    );
                    p.summary = line.clone();
                    p.layer(Layer::Presentation, line);
                }
                Err(e) => p.fail(Layer::Presentation, e.to_string()),
            }
        }
        Spdu::AbortAccept => {}
    }
}

fn accept_or_reject(p: &mut Pdu, user_data: &[u8]) {
    match presentation::decode_accept_or_reject(user_data) {
        Ok(AcceptOrReject::Accept(a)) => {
            p.layer(
                Layer::Presentation,
                format!("Presentation CPA, {} context results", a.results.len()),
            );
            for r in &a.results {
                p.fields.push(Field {
                    layer: Layer::Presentation,
                    text: format!("    {}", r.result),
                });
            }
            pdvs(p, &a.user_data);
        }
        Ok(AcceptOrReject::Reject(r)) => {
            let line = format!(
                "Presentation CPR (connect reject), reason {:?}",
                r.provider_reason
            );
            p.summary = line.clone();
            p.layer(Layer::Presentation, line);
            pdvs(p, &r.user_data);
        }
        Err(e) => p.fail(Layer::Presentation, e.to_string()),
    }
}

fn pdvs(p: &mut Pdu, pdvs: &[Pdv<'_>]) {
    for pdv in pdvs {
        p.fields.push(Field {
            layer: Layer::Presentation,
            text: format!(
                "    PDV context {}, {} octets",
                pdv.context_id,
                pdv.data.len()
            ),
        });
    }
    for pdv in pdvs {
        apdu(p, pdv);
    }
}

/// An APDU: ACSE if its tag is of the application class, else MMS. The context ids a peer
/// negotiated are in the CP of the other direction; the tag says the same thing without it.
fn apdu(p: &mut Pdu, pdv: &Pdv<'_>) {
    match pdv.data.first() {
        Some(t) if t & 0xc0 == 0x40 => acse_apdu(p, pdv.data),
        Some(_) => mms(p, pdv.data),
        None => p.fail(Layer::Presentation, String::from("empty PDV")),
    }
}

fn acse_apdu(p: &mut Pdu, data: &[u8]) {
    let apdu = match Apdu::decode(data) {
        Ok(a) => a,
        Err(e) => return p.fail(Layer::Acse, e.to_string()),
    };
    let ui = match &apdu {
        Apdu::Aarq(a) => a.user_information,
        Apdu::Aare(a) => a.user_information,
        Apdu::Rlrq(a) => a.user_information,
        Apdu::Rlre(a) => a.user_information,
        Apdu::Abrt(a) => a.user_information,
    };
    let (kind, line) = match &apdu {
        Apdu::Aarq(a) => (
            AcseKind::Aarq {
                calling: a.calling.clone(),
                called: a.called.clone(),
            },
            format!(
                "ACSE AARQ (associate request) from {} to {}",
                ap(&a.calling),
                ap(&a.called)
            ),
        ),
        Apdu::Aare(a) => (
            AcseKind::Aare {
                result: a.result,
                diagnostic: a.diagnostic,
            },
            match a.diagnostic {
                Some(d) if a.result != AssociateResult::Accepted => {
                    format!("ACSE AARE (associate response) {}: {d}", a.result)
                }
                _ => format!("ACSE AARE (associate response) {}", a.result),
            },
        ),
        Apdu::Rlrq(_) => (AcseKind::Rlrq, String::from("ACSE RLRQ (release request)")),
        Apdu::Rlre(_) => (AcseKind::Rlre, String::from("ACSE RLRE (release response)")),
        Apdu::Abrt(a) => (
            AcseKind::Abrt { source: a.source },
            format!(
                "ACSE ABRT (abort) by the {}",
                if a.source == acse::ABORT_SOURCE_USER {
                    "user"
                } else {
                    "provider"
                }
            ),
        ),
    };
    p.acse = Some(kind);
    p.summary = line.clone();
    p.layer(Layer::Acse, line);
    // The tree without the embedded octets (they are decoded below) and without a password.
    let ui_line = |ui: Option<Pdv<'_>>| {
        ui.map(|u| format!("context {}, {} octets", u.context_id, u.data.len()))
    };
    match &apdu {
        Apdu::Aarq(a) => {
            p.tree(Layer::Acse, &a.application_context);
            p.tree(Layer::Acse, &("called", &a.called));
            p.tree(Layer::Acse, &("calling", &a.calling));
            let auth = match &a.authentication {
                None => String::from("none"),
                Some(Authentication::Password(pw)) => format!("password ({} octets)", pw.len()),
                Some(Authentication::Other { mechanism, .. }) => {
                    format!("mechanism {mechanism:?}")
                }
            };
            p.tree(Layer::Acse, &("authentication", auth));
        }
        Apdu::Aare(a) => {
            p.tree(Layer::Acse, &a.application_context);
            p.tree(Layer::Acse, &("result", a.result, a.diagnostic));
            p.tree(Layer::Acse, &("responding", &a.responding));
        }
        Apdu::Rlrq(a) => p.tree(Layer::Acse, &("reason", a.reason)),
        Apdu::Rlre(a) => p.tree(Layer::Acse, &("reason", a.reason)),
        Apdu::Abrt(a) => p.tree(Layer::Acse, &("source", a.source, a.diagnostic)),
    }
    p.tree(Layer::Acse, &("user information", ui_line(ui)));
    if let Some(ui) = ui {
        mms(p, ui.data);
    }
}

fn ap(a: &acse::ApInvocation) -> String {
    match (&a.ap_title, a.ae_qualifier) {
        (Some(t), Some(q)) => format!("{t}/{q}"),
        (Some(t), None) => t.to_string(),
        (None, _) => String::from("(no AP-title)"),
    }
}

fn mms(p: &mut Pdu, data: &[u8]) {
    let pdu = match MmsPdu::decode(data, &DecodeLimits::default()) {
        Ok(m) => m,
        Err(e) => return p.fail(Layer::Mms, e.to_string()),
    };
    let line = format!("MMS {}", mms_summary(&pdu));
    // Below ACSE the association is the story; MMS adds the detail.
    if p.acse.is_some() {
        let _ = write!(p.summary, "; {line}");
    } else {
        p.summary = line.clone();
    }
    p.layer(Layer::Mms, line);
    p.tree(Layer::Mms, &pdu);
    p.mms = Some(pdu);
}

/// A one-line account of an MMS PDU, as MMS sees it.
pub fn mms_summary(pdu: &MmsPdu) -> String {
    use crate::mms::{ConfirmedRequest as Q, ConfirmedResponse as R, UnconfirmedService as U};
    match pdu {
        MmsPdu::ConfirmedRequest { invoke_id, request } => {
            let what = match request {
                Q::Status { .. } => String::from("Status"),
                Q::GetNameList(g) => format!("GetNameList {:?} in {:?}", g.object_class, g.scope),
                Q::Identify => String::from("Identify"),
                Q::Read(r) => format!("Read {}", variables(&r.variables)),
                Q::Write(w) => format!("Write {}", variables(&w.variables)),
                Q::GetVariableAccessAttributes(n) => format!("GetVariableAccessAttributes {n}"),
                Q::DefineNamedVariableList(d) => format!(
                    "DefineNamedVariableList {} ({} members)",
                    d.name,
                    d.variables.len()
                ),
                Q::GetNamedVariableListAttributes(n) => {
                    format!("GetNamedVariableListAttributes {n}")
                }
                Q::DeleteNamedVariableList(_) => String::from("DeleteNamedVariableList"),
                Q::Unsupported { service_tag } => format!("service [{service_tag}]"),
            };
            format!("{what} request (invoke {invoke_id})")
        }
        MmsPdu::ConfirmedResponse {
            invoke_id,
            response,
        } => {
            let what = match response {
                R::Status(_) => String::from("Status"),
                R::GetNameList(g) => format!(
                    "GetNameList, {} names{}",
                    g.identifiers.len(),
                    if g.more_follows { ", more follow" } else { "" }
                ),
                R::Identify(_) => String::from("Identify"),
                R::Read(r) => format!("Read, {} results", r.results.len()),
                R::Write(w) => format!("Write, {} results", w.len()),
                R::GetVariableAccessAttributes(_) => String::from("GetVariableAccessAttributes"),
                R::DefineNamedVariableList => String::from("DefineNamedVariableList"),
                R::GetNamedVariableListAttributes(a) => format!(
                    "GetNamedVariableListAttributes, {} members",
                    a.variables.len()
                ),
                R::DeleteNamedVariableList { number_deleted, .. } => {
                    format!("DeleteNamedVariableList, {number_deleted} deleted")
                }
            };
            format!("{what} response (invoke {invoke_id})")
        }
        MmsPdu::ConfirmedError { invoke_id, error } => {
            format!("confirmed error (invoke {invoke_id}): {error}")
        }
        MmsPdu::Unconfirmed(U::InformationReport(r)) => format!(
            "InformationReport {}, {} results",
            variables(&r.variables),
            r.results.len()
        ),
        MmsPdu::Unconfirmed(U::Other(tag)) => format!("unconfirmed service [{tag}]"),
        MmsPdu::Reject(r) => format!("Reject: {r}"),
        MmsPdu::CancelRequest(id) => format!("Cancel request (invoke {id})"),
        MmsPdu::CancelResponse(id) => format!("Cancel response (invoke {id})"),
        MmsPdu::CancelError { invoke_id, error } => {
            format!("Cancel error (invoke {invoke_id}): {error}")
        }
        MmsPdu::InitiateRequest(_) => String::from("Initiate request"),
        MmsPdu::InitiateResponse(_) => String::from("Initiate response"),
        MmsPdu::InitiateError(e) => format!("Initiate error: {e}"),
        MmsPdu::ConcludeRequest => String::from("Conclude request"),
        MmsPdu::ConcludeResponse => String::from("Conclude response"),
        MmsPdu::ConcludeError(e) => format!("Conclude error: {e}"),
    }
}

fn variables(v: &crate::mms::VariableAccessSpecification) -> String {
    use crate::mms::VariableAccessSpecification as V;
    match v {
        V::VariableListName(n) => format!("of list {n}"),
        V::ListOfVariable(vars) => match vars.as_slice() {
            [one] => format!("of {}", one.name),
            many => format!("of {} variables", many.len()),
        },
    }
}

/// The first difference between two PDUs' field trees.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldDiff {
    /// The layer of the first differing line (of the first tree that has it).
    pub layer: Layer,
    /// The fields enclosing it, outermost first, e.g. `["ConfirmedRequest", "request", "Read"]`.
    pub path: Vec<String>,
    /// The line in the first tree (`None`: the tree ends before).
    pub left: Option<String>,
    /// The line in the second tree.
    pub right: Option<String>,
}

impl FieldDiff {
    /// The name of the differing field: the text before `:` of the line; for a bare value (an
    /// element of a tuple or list) the innermost named field enclosing it, else its first word.
    pub fn field(&self) -> String {
        let line = self.left.as_deref().or(self.right.as_deref()).unwrap_or("");
        let line = line.trim();
        let named = line
            .find(':')
            .is_some_and(|c| !line[..c].contains(['(', '{', '[', '"', ' ']));
        if !named {
            let field = self
                .path
                .iter()
                .rev()
                .find(|p| p.starts_with(|c: char| c.is_ascii_lowercase() || c == '_'));
            if let Some(f) = field {
                return f.clone();
            }
        }
        field_name(line)
    }
}

fn field_name(line: &str) -> String {
    let end = line.find([':', '(', '{', ',', ' ']).unwrap_or(line.len());
    String::from(&line[..end])
}

fn indent(s: &str) -> usize {
    s.len() - s.trim_start().len()
}

/// Compare two field trees line by line; `None` if they are the same.
pub fn diff_fields(left: &[Field], right: &[Field]) -> Option<FieldDiff> {
    let differs = |i: &usize| left.get(*i) != right.get(*i);
    let mut i = (0..left.len().max(right.len())).find(differs)?;
    // A layer's first line sums it up; the field below that differs says more.
    if let (Some(l), Some(r)) = (left.get(i), right.get(i)) {
        if indent(&l.text) == 0 && l.layer == r.layer {
            let detail = (i + 1..left.len().min(right.len()))
                .take_while(|&j| left[j].layer == l.layer && right[j].layer == l.layer)
                .find(|j| differs(j) && indent(&left[*j].text) > 0);
            i = detail.unwrap_or(i);
        }
    }
    let here = left.get(i).or(right.get(i))?;
    let tree = if left.get(i).is_some() { left } else { right };
    // The enclosing lines: walk back to ever smaller indentation within the layer.
    let mut path = Vec::new();
    let mut level = indent(&here.text);
    for f in tree[..i].iter().rev() {
        if f.layer != here.layer {
            break;
        }
        let d = indent(&f.text);
        // The layer's summary line (no indentation) is not a field.
        if d == 0 {
            break;
        }
        if d < level {
            let name = field_name(f.text.trim());
            if !name.is_empty() {
                path.push(name);
            }
            level = d;
        }
    }
    path.reverse();
    Some(FieldDiff {
        layer: here.layer,
        path,
        left: left.get(i).map(|f| String::from(f.text.trim())),
        right: right.get(i).map(|f| String::from(f.text.trim())),
    })
}

#[cfg(test)]
mod tests;
