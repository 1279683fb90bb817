//! PPDU codecs: CP, CPA, CPR, ARU/ARP and the fully-encoded user data of the data phase.
//!
//! Grammar references are to the ASN.1 module of ISO 8823-1 / X.226 (`ISO8823-PRESENTATION`), named by
//! production (CP-type, CPA-PPDU, …) and field.

use alloc::vec::Vec;

use super::{
    AbortPpdu, AcceptOrReject, AcceptPpdu, ConnectPpdu, ContextDefinition, ContextResult,
    ContextResultItem, Error, Pdv, RejectPpdu, MAX_SELECTOR_LEN,
};
use crate::ber::{self, primitive, Class, ObjectIdentifier, Reader, Tag, Tlv, Writer};

/// SET / SET OF (constructed); `ber::Tag` has no constant for it.
pub(crate) const SET: Tag = Tag {
    class: Class::Universal,
    constructed: true,
    number: 17,
};
/// User-data `fully-encoded-data [APPLICATION 1] IMPLICIT SEQUENCE OF PDV-list`.
const FULLY_ENCODED: Tag = Tag::application_cons(1);
/// User-data `simply-encoded-data [APPLICATION 0] IMPLICIT OCTET STRING`.
const SIMPLY_ENCODED: Tag = Tag::application(0);
const SIMPLY_ENCODED_CONS: Tag = Tag::application_cons(0);

// Mode-selector ::= SET { mode-value [0] IMPLICIT INTEGER { x410-1984-mode (0), normal-mode (1) } }
const MODE_SELECTOR: Tag = Tag::context_cons(0);
const MODE_VALUE: Tag = Tag::context(0);
const NORMAL_MODE: i64 = 1;
const NORMAL_MODE_PARAMETERS: Tag = Tag::context_cons(2);

const PROTOCOL_VERSION: Tag = Tag::context(0);
const CALLING_SELECTOR: Tag = Tag::context(1);
const CALLED_SELECTOR: Tag = Tag::context(2);
const RESPONDING_SELECTOR: Tag = Tag::context(3);
const CONTEXT_DEFINITION_LIST: Tag = Tag::context_cons(4);
const CONTEXT_RESULT_LIST: Tag = Tag::context_cons(5);
const CPR_PROVIDER_REASON: Tag = Tag::context(10);

const RESULT: Tag = Tag::context(0);
const RESULT_TRANSFER_SYNTAX: Tag = Tag::context(1);
const RESULT_PROVIDER_REASON: Tag = Tag::context(2);

// ARU-PPDU normal-mode-parameters [0] IMPLICIT SEQUENCE; ARP-PPDU is a plain SEQUENCE.
const ARU_NORMAL: Tag = Tag::context_cons(0);
const ARP_REASON: Tag = Tag::context(0);
const ARP_EVENT: Tag = Tag::context(1);

// PDV-list presentation-data-values CHOICE (X.226 PDV-list; the same alternatives as EXTERNAL).
const SINGLE_ASN1_TYPE: Tag = Tag::context_cons(0);
const OCTET_ALIGNED: Tag = Tag::context(1);

fn int(t: &Tlv<'_>) -> Result<i64, Error> {
    Ok(primitive::decode_i64(t.primitive()?)?)
}

fn oid(t: &Tlv<'_>) -> Result<ObjectIdentifier, Error> {
    Ok(ObjectIdentifier::from_content(t.primitive()?)?)
}

fn selector<'a>(t: &Tlv<'a>) -> Result<&'a [u8], Error> {
    let s = t.primitive()?;
    if s.len() > MAX_SELECTOR_LEN {
        return Err(Error::SelectorTooLong);
    }
    Ok(s)
}

fn expect_tag(t: &Tlv<'_>, tag: Tag) -> Result<(), Error> {
    if t.tag != tag {
        return Err(Error::Ber(ber::Error::UnexpectedTag {
            expected: tag,
            found: t.tag,
        }));
    }
    Ok(())
}

/// Read a whole input that must be exactly one element.
pub(crate) fn only_element(b: &[u8]) -> Result<Tlv<'_>, ber::Error> {
    let mut r = Reader::new(b);
    let t = r.read()?;
    r.finish()?;
    Ok(t)
}

/// X.226 Protocol-version ::= BIT STRING { version-1 (0) }: the responder needs version-1 among the
/// proposed versions, otherwise there is no common version (X.226 CPR provider-reason
/// protocol-version-not-supported).
fn check_protocol_version(t: &Tlv<'_>) -> Result<(), Error> {
    let (octets, bits) = primitive::decode_bit_string(t.primitive()?)?;
    match octets.first() {
        Some(b) if bits >= 1 && b & 0x80 != 0 => Ok(()),
        _ => Err(Error::NoCommonProtocolVersion),
    }
}

/// The encoded APDU inside an EXTERNAL / PDV-list `encoding` CHOICE, or `None` for an alternative we do
/// not take (arbitrary BIT STRING, unknown tag). Shared with ACSE user-information.
pub(crate) fn pdv_value<'a>(t: &Tlv<'a>) -> Result<Option<&'a [u8]>, ber::Error> {
    match t.tag {
        // single-ASN1-type [0] ABSTRACT-SYNTAX.&Type: an explicit tag around exactly one value.
        SINGLE_ASN1_TYPE => {
            let mut r = t.reader()?;
            let apdu = r.read()?;
            r.finish()?;
            Ok(Some(apdu.raw))
        }
        // octet-aligned [1] IMPLICIT OCTET STRING: the APDU's encoding, which must be one element so
        // that `Pdv::data` means the same thing whatever the peer chose. It is read at the depth it
        // would have as single-ASN1-type, which is how encoders write it back.
        OCTET_ALIGNED => {
            let content = t.primitive()?;
            let mut r = t.embedded()?;
            r.read()?;
            r.finish()?;
            Ok(Some(content))
        }
        _ => Ok(None),
    }
}

/// Write a single-ASN1-type `[0]` around an already encoded APDU.
pub(crate) fn write_single_asn1_type(w: &mut Writer<'_>, data: &[u8]) {
    w.constructed(SINGLE_ASN1_TYPE, |w| w.raw(data));
}

/// PDV-list ::= SEQUENCE { transfer-syntax-name OPTIONAL, presentation-context-identifier,
/// presentation-data-values CHOICE { single-ASN1-type [0], octet-aligned [1], arbitrary [2] } }
fn decode_pdv<'a>(item: &Tlv<'a>) -> Result<Pdv<'a>, Error> {
    expect_tag(item, Tag::SEQUENCE)?;
    let mut r = item.reader()?;
    let mut context_id = None;
    let mut data = None;
    while let Some(t) = r.read_opt()? {
        match t.tag {
            // transfer-syntax-name is only meaningful for the default context, which we never
            // negotiate: every context is BER.
            Tag::OID => {}
            Tag::INTEGER => context_id = Some(int(&t)?),
            _ => data = Some(pdv_value(&t)?.ok_or(Error::PdvEncodingNotSupported)?),
        }
    }
    Ok(Pdv {
        context_id: context_id.ok_or(Error::MissingContextId)?,
        data: data.ok_or(Error::MissingPdvValue)?,
    })
}

/// User-data ::= CHOICE { simply-encoded-data [APPLICATION 0], fully-encoded-data [APPLICATION 1] }
fn decode_user_data_tlv<'a>(t: &Tlv<'a>) -> Result<Vec<Pdv<'a>>, Error> {
    match t.tag {
        FULLY_ENCODED => {
            let mut r = t.reader()?;
            let mut out = Vec::new();
            while let Some(item) = r.read_opt()? {
                out.push(decode_pdv(&item)?);
            }
            Ok(out)
        }
        SIMPLY_ENCODED | SIMPLY_ENCODED_CONS => Err(Error::SimplyEncodedDataNotSupported),
        found => Err(Error::Ber(ber::Error::UnexpectedTag {
            expected: FULLY_ENCODED,
            found,
        })),
    }
}

fn is_user_data(tag: Tag) -> bool {
    matches!(tag, FULLY_ENCODED | SIMPLY_ENCODED | SIMPLY_ENCODED_CONS)
}

/// Decode the user data of a P-DATA (the whole content of a session DT SPDU): fully-encoded data with
/// one or more PDVs. Simply-encoded data is refused ([`Error::SimplyEncodedDataNotSupported`]).
pub fn decode_user_data(b: &[u8]) -> Result<Vec<Pdv<'_>>, Error> {
    let pdvs = decode_user_data_tlv(&only_element(b)?)?;
    if pdvs.is_empty() {
        // X.226 Fully-encoded-data ::= SEQUENCE SIZE (1, ..., MAX) OF PDV-list.
        return Err(Error::EmptyUserData);
    }
    Ok(pdvs)
}

/// Decode P-DATA user data that must hold exactly one PDV, without allocating. This is what every
/// known ICCP peer sends for MMS traffic.
pub fn decode_single_pdv(b: &[u8]) -> Result<Pdv<'_>, Error> {
    // The browser package decodes every PDV the general way: the same result (the test
    // `single_pdv_fast_path_agrees_with_the_general_decoder`), 130 octets gzipped less code.
    if cfg!(target_arch = "wasm32") {
        return single_pdv_general(b);
    }
    match single_pdv_fast(b) {
        Some(pdv) => Ok(pdv),
        None => single_pdv_general(b),
    }
}

/// The data phase's usual shape, short lengths throughout: `61 L 30 L 02 01 <context> a0 L <one
/// element>`. `None` for anything else; what it accepts, [`single_pdv_general`] decodes the same.
#[inline]
fn single_pdv_fast(b: &[u8]) -> Option<Pdv<'_>> {
    let [0x61, l1, 0x30, l2, 0x02, 0x01, ctx, 0xa0, l3, data @ ..] = b else {
        return None;
    };
    let (l1, l2, l3) = (usize::from(*l1), usize::from(*l2), usize::from(*l3));
    let one_element =
        matches!(data, [t, l, ..] if t & 0x1f != 0x1f && *l < 0x80 && usize::from(*l) + 2 == l3);
    (l1 < 0x80 && l1 + 2 == b.len() && l2 + 2 == l1 && l3 + 5 == l2 && *ctx < 0x80 && one_element)
        .then_some(Pdv {
            context_id: i64::from(*ctx),
            data,
        })
}

fn single_pdv_general(b: &[u8]) -> Result<Pdv<'_>, Error> {
    let t = only_element(b)?;
    if t.tag != FULLY_ENCODED {
        // Reuse the general path for its precise error.
        decode_user_data_tlv(&t)?;
    }
    let mut r = t.reader()?;
    let first = r.read_opt()?.ok_or(Error::EmptyUserData)?;
    if !r.is_empty() {
        return Err(Error::MoreThanOnePdv);
    }
    decode_pdv(&first)
}

/// Write fully-encoded user data holding one PDV of `context_id`, whose single-ASN1-type content (the
/// APDU) `f` writes straight into the output.
pub fn write_user_data<R>(
    w: &mut Writer<'_>,
    context_id: i64,
    f: impl FnOnce(&mut Writer<'_>) -> R,
) -> R {
    w.constructed(FULLY_ENCODED, |w| {
        w.constructed(Tag::SEQUENCE, |w| {
            w.integer(Tag::INTEGER, context_id);
            w.constructed(SINGLE_ASN1_TYPE, f)
        })
    })
}

/// Write fully-encoded user data with the given PDVs; nothing at all when `pdvs` is empty (user-data is
/// OPTIONAL in every PPDU that carries it).
fn write_pdvs(w: &mut Writer<'_>, pdvs: &[Pdv<'_>]) {
    if pdvs.is_empty() {
        return;
    }
    w.constructed(FULLY_ENCODED, |w| {
        for p in pdvs {
            w.constructed(Tag::SEQUENCE, |w| {
                w.integer(Tag::INTEGER, p.context_id);
                write_single_asn1_type(w, p.data);
            });
        }
    });
}

/// Encode fully-encoded user data with several PDVs (the general form of [`write_user_data`]).
pub fn encode_user_data(pdvs: &[Pdv<'_>], out: &mut Vec<u8>) {
    write_pdvs(&mut Writer::new(out), pdvs);
}

fn write_mode_selector(w: &mut Writer<'_>) {
    w.constructed(MODE_SELECTOR, |w| w.integer(MODE_VALUE, NORMAL_MODE));
}

/// Check the Mode-selector SET: normal mode only.
fn check_mode_selector(t: &Tlv<'_>) -> Result<(), Error> {
    let mut r = t.reader()?;
    let mut mode = None;
    while let Some(v) = r.read_opt()? {
        if v.tag == MODE_VALUE {
            mode = Some(int(&v)?);
        }
    }
    match mode {
        Some(NORMAL_MODE) => Ok(()),
        Some(m) => Err(Error::ModeNotSupported(m)),
        None => Err(Error::MissingModeSelector),
    }
}

/// Read the outer SET of CP-type / CPA-PPDU: check the mode and return the normal-mode-parameters
/// (`None` when absent: every parameter then takes its default).
fn open_connect_set<'a>(b: &'a [u8]) -> Result<Option<Reader<'a>>, Error> {
    let set = only_element(b)?;
    expect_tag(&set, SET)?;
    let mut r = set.reader()?;
    let mut mode_seen = false;
    let mut params = None;
    // A SET: components may come in any order.
    while let Some(t) = r.read_opt()? {
        match t.tag {
            MODE_SELECTOR => {
                check_mode_selector(&t)?;
                mode_seen = true;
            }
            NORMAL_MODE_PARAMETERS => params = Some(t.reader()?),
            // x410-mode-parameters [1] is meaningless in normal mode; ignore it like other unknowns.
            _ => {}
        }
    }
    if !mode_seen {
        return Err(Error::MissingModeSelector);
    }
    Ok(params)
}

fn decode_context_definitions(t: &Tlv<'_>) -> Result<Vec<ContextDefinition>, Error> {
    let mut list = t.reader()?;
    let mut out = Vec::new();
    // Context-list ::= SEQUENCE OF SEQUENCE { presentation-context-identifier, abstract-syntax-name,
    // transfer-syntax-name-list SEQUENCE OF Transfer-syntax-name }
    while let Some(item) = list.read_opt()? {
        expect_tag(&item, Tag::SEQUENCE)?;
        let mut r = item.reader()?;
        let id = int(&r.expect(Tag::INTEGER)?)?;
        let abstract_syntax = oid(&r.expect(Tag::OID)?)?;
        let mut ts = r.expect(Tag::SEQUENCE)?.reader()?;
        let mut transfer_syntaxes = Vec::new();
        while let Some(t) = ts.read_opt()? {
            expect_tag(&t, Tag::OID)?;
            transfer_syntaxes.push(oid(&t)?);
        }
        out.push(ContextDefinition {
            id,
            abstract_syntax,
            transfer_syntaxes,
        });
    }
    Ok(out)
}

fn decode_context_results(t: &Tlv<'_>) -> Result<Vec<ContextResultItem>, Error> {
    let mut list = t.reader()?;
    let mut out = Vec::new();
    // Result-list ::= SEQUENCE OF SEQUENCE { result [0] IMPLICIT Result, transfer-syntax-name [1]
    // IMPLICIT OPTIONAL, provider-reason [2] IMPLICIT INTEGER OPTIONAL }
    while let Some(item) = list.read_opt()? {
        expect_tag(&item, Tag::SEQUENCE)?;
        let mut r = item.reader()?;
        let mut result = None;
        let mut transfer_syntax = None;
        let mut provider_reason = None;
        while let Some(f) = r.read_opt()? {
            match f.tag {
                RESULT => {
                    let v = int(&f)?;
                    result =
                        Some(ContextResult::from_code(v).ok_or(Error::InvalidContextResult(v))?);
                }
                RESULT_TRANSFER_SYNTAX => transfer_syntax = Some(oid(&f)?),
                RESULT_PROVIDER_REASON => provider_reason = Some(int(&f)?),
                _ => {}
            }
        }
        out.push(ContextResultItem {
            result: result.ok_or(Error::MissingContextResult)?,
            transfer_syntax,
            provider_reason,
        });
    }
    Ok(out)
}

fn write_context_results(w: &mut Writer<'_>, results: &[ContextResultItem]) {
    if results.is_empty() {
        return;
    }
    w.constructed(CONTEXT_RESULT_LIST, |w| {
        for item in results {
            w.constructed(Tag::SEQUENCE, |w| {
                w.integer(RESULT, item.result.code());
                if let Some(ts) = &item.transfer_syntax {
                    w.primitive(RESULT_TRANSFER_SYNTAX, ts.as_bytes());
                }
                if let Some(reason) = item.provider_reason {
                    w.integer(RESULT_PROVIDER_REASON, reason);
                }
            });
        }
    });
}

impl<'a> ConnectPpdu<'a> {
    /// Decode a CP-type (the whole user data of a session CN SPDU).
    pub fn decode(b: &'a [u8]) -> Result<Self, Error> {
        let mut cp = ConnectPpdu {
            calling_selector: None,
            called_selector: None,
            contexts: Vec::new(),
            user_data: Vec::new(),
        };
        let Some(mut r) = open_connect_set(b)? else {
            return Ok(cp);
        };
        while let Some(t) = r.read_opt()? {
            match t.tag {
                PROTOCOL_VERSION => check_protocol_version(&t)?,
                CALLING_SELECTOR => cp.calling_selector = Some(selector(&t)?),
                CALLED_SELECTOR => cp.called_selector = Some(selector(&t)?),
                CONTEXT_DEFINITION_LIST => cp.contexts = decode_context_definitions(&t)?,
                tag if is_user_data(tag) => cp.user_data = decode_user_data_tlv(&t)?,
                // default-context-name [6], presentation-requirements [8], user-session-requirements
                // [9], protocol-options [11], initiators-nominated-context [12], extensions [14]: none
                // changes how we talk to the peer, so they are skipped.
                _ => {}
            }
        }
        Ok(cp)
    }

    /// Append the CP-type encoding (normal mode, default protocol-version omitted).
    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut w = Writer::new(out);
        w.constructed(SET, |w| {
            write_mode_selector(w);
            w.constructed(NORMAL_MODE_PARAMETERS, |w| {
                if let Some(s) = self.calling_selector {
                    w.primitive(CALLING_SELECTOR, s);
                }
                if let Some(s) = self.called_selector {
                    w.primitive(CALLED_SELECTOR, s);
                }
                if !self.contexts.is_empty() {
                    w.constructed(CONTEXT_DEFINITION_LIST, |w| {
                        for c in &self.contexts {
                            w.constructed(Tag::SEQUENCE, |w| {
                                w.integer(Tag::INTEGER, c.id);
                                w.primitive(Tag::OID, c.abstract_syntax.as_bytes());
                                w.constructed(Tag::SEQUENCE, |w| {
                                    for ts in &c.transfer_syntaxes {
                                        w.primitive(Tag::OID, ts.as_bytes());
                                    }
                                });
                            });
                        }
                    });
                }
                write_pdvs(w, &self.user_data);
            });
        });
    }
}

impl<'a> AcceptPpdu<'a> {
    /// Decode a CPA-PPDU (the whole user data of a session AC SPDU).
    pub fn decode(b: &'a [u8]) -> Result<Self, Error> {
        let mut cpa = AcceptPpdu {
            responding_selector: None,
            results: Vec::new(),
            user_data: Vec::new(),
        };
        let Some(mut r) = open_connect_set(b)? else {
            return Ok(cpa);
        };
        while let Some(t) = r.read_opt()? {
            match t.tag {
                PROTOCOL_VERSION => check_protocol_version(&t)?,
                RESPONDING_SELECTOR => cpa.responding_selector = Some(selector(&t)?),
                CONTEXT_RESULT_LIST => cpa.results = decode_context_results(&t)?,
                tag if is_user_data(tag) => cpa.user_data = decode_user_data_tlv(&t)?,
                // presentation-requirements [8], user-session-requirements [9], protocol-options
                // [11], responders-nominated-context [13]: skipped.
                _ => {}
            }
        }
        Ok(cpa)
    }

    /// Append the CPA-PPDU encoding (normal mode, default protocol-version omitted).
    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut w = Writer::new(out);
        w.constructed(SET, |w| {
            write_mode_selector(w);
            w.constructed(NORMAL_MODE_PARAMETERS, |w| {
                if let Some(s) = self.responding_selector {
                    w.primitive(RESPONDING_SELECTOR, s);
                }
                write_context_results(w, &self.results);
                write_pdvs(w, &self.user_data);
            });
        });
    }
}

impl<'a> RejectPpdu<'a> {
    /// Decode a CPR-PPDU (the whole user data of a session RF SPDU).
    pub fn decode(b: &'a [u8]) -> Result<Self, Error> {
        let t = only_element(b)?;
        // CPR-PPDU ::= CHOICE { x400-mode-parameters RTORJapdu (a SET), normal-mode-parameters
        // SEQUENCE }
        if t.tag == SET {
            return Err(Error::X400ModeNotSupported);
        }
        expect_tag(&t, Tag::SEQUENCE)?;
        let mut cpr = RejectPpdu {
            responding_selector: None,
            results: Vec::new(),
            provider_reason: None,
            user_data: Vec::new(),
        };
        let mut r = t.reader()?;
        while let Some(t) = r.read_opt()? {
            match t.tag {
                PROTOCOL_VERSION => check_protocol_version(&t)?,
                RESPONDING_SELECTOR => cpr.responding_selector = Some(selector(&t)?),
                CONTEXT_RESULT_LIST => cpr.results = decode_context_results(&t)?,
                CPR_PROVIDER_REASON => cpr.provider_reason = Some(int(&t)?),
                tag if is_user_data(tag) => cpr.user_data = decode_user_data_tlv(&t)?,
                // default-context-result [7]: we never propose a default context.
                _ => {}
            }
        }
        Ok(cpr)
    }

    /// Append the CPR-PPDU encoding (normal mode).
    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut w = Writer::new(out);
        w.constructed(Tag::SEQUENCE, |w| {
            if let Some(s) = self.responding_selector {
                w.primitive(RESPONDING_SELECTOR, s);
            }
            write_context_results(w, &self.results);
            if let Some(reason) = self.provider_reason {
                w.integer(CPR_PROVIDER_REASON, reason);
            }
            write_pdvs(w, &self.user_data);
        });
    }
}

/// Decode the answer to a CP: a CPA-PPDU (a SET) or a CPR-PPDU (normal mode: a SEQUENCE).
pub fn decode_accept_or_reject(b: &[u8]) -> Result<AcceptOrReject<'_>, Error> {
    match Reader::new(b).peek_tag()? {
        Some(SET) => AcceptPpdu::decode(b).map(AcceptOrReject::Accept),
        Some(Tag::SEQUENCE) => RejectPpdu::decode(b).map(AcceptOrReject::Reject),
        Some(found) => Err(Error::Ber(ber::Error::UnexpectedTag {
            expected: SET,
            found,
        })),
        None => Err(Error::Ber(ber::Error::UnexpectedEnd)),
    }
}

impl<'a> AbortPpdu<'a> {
    /// Decode an Abort-type (the user data of a session AB SPDU): ARU-PPDU in normal mode or
    /// ARP-PPDU.
    pub fn decode(b: &'a [u8]) -> Result<Self, Error> {
        let t = only_element(b)?;
        match t.tag {
            // ARU-PPDU normal-mode-parameters [0] IMPLICIT SEQUENCE { presentation-context-identifier-list
            // [0] OPTIONAL, user-data OPTIONAL }
            ARU_NORMAL => {
                let mut r = t.reader()?;
                let mut user_data = Vec::new();
                while let Some(f) = r.read_opt()? {
                    if is_user_data(f.tag) {
                        user_data = decode_user_data_tlv(&f)?;
                    }
                    // The context-identifier list only matters for simply-encoded data.
                }
                Ok(AbortPpdu::User { user_data })
            }
            // ARP-PPDU ::= SEQUENCE { provider-reason [0] IMPLICIT Abort-reason OPTIONAL,
            // event-identifier [1] IMPLICIT Event-identifier OPTIONAL }
            Tag::SEQUENCE => {
                let mut r = t.reader()?;
                let (mut reason, mut event) = (None, None);
                while let Some(f) = r.read_opt()? {
                    match f.tag {
                        ARP_REASON => reason = Some(int(&f)?),
                        ARP_EVENT => event = Some(int(&f)?),
                        _ => {}
                    }
                }
                Ok(AbortPpdu::Provider { reason, event })
            }
            // ARU-PPDU x400-mode-parameters RTABapdu (a SET).
            SET => Err(Error::X400ModeNotSupported),
            found => Err(Error::Ber(ber::Error::UnexpectedTag {
                expected: ARU_NORMAL,
                found,
            })),
        }
    }

    /// Append the encoding: ARU-PPDU (normal mode) or ARP-PPDU.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut w = Writer::new(out);
        match self {
            AbortPpdu::User { user_data } => {
                w.constructed(ARU_NORMAL, |w| write_pdvs(w, user_data));
            }
            AbortPpdu::Provider { reason, event } => {
                w.constructed(Tag::SEQUENCE, |w| {
                    if let Some(r) = reason {
                        w.integer(ARP_REASON, *r);
                    }
                    if let Some(e) = event {
                        w.integer(ARP_EVENT, *e);
                    }
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::presentation::vectors::{self, ppdu};

    #[test]
    fn single_pdv_fast_path_agrees_with_the_general_decoder() {
        let b = ppdu(vectors::DT_IDENTIFY_REQ).to_vec();
        assert!(single_pdv_fast(&b).is_some());
        for i in 0..b.len() {
            for v in [
                0x00, 0x01, 0x02, 0x05, 0x1f, 0x30, 0x61, 0x7f, 0x80, 0x81, 0xa0, 0xff,
            ] {
                let mut m = b.clone();
                m[i] = v;
                if let Some(fast) = single_pdv_fast(&m) {
                    assert_eq!(single_pdv_general(&m), Ok(fast), "{m:02x?}");
                }
            }
        }
        for cut in 0..b.len() {
            assert_eq!(single_pdv_fast(&b[..cut]), None);
        }
    }
}
