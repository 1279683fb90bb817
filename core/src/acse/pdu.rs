//! ACSE APDU codecs. Field tags follow the ASN.1 module ACSE-1 of ISO 8650-1 / X.227; the module's
//! default tagging is explicit, so every tag not marked IMPLICIT there wraps the whole inner value
//! (e.g. calling-AP-title `[6]` wraps the AP-title CHOICE, whose form 2 is a universal OID).

use alloc::vec::Vec;

use super::{
    password_mechanism, Aare, Aarq, Abrt, ApInvocation, Apdu, AssociateDiagnostic, AssociateResult,
    Authentication, Error, Pdv, Rlre, Rlrq,
};
use crate::ber::{self, primitive, ObjectIdentifier, Tag, Tlv, Writer};
use crate::presentation::pdu::{only_element, pdv_value, write_single_asn1_type};

const AARQ: Tag = Tag::application_cons(0);
const AARE: Tag = Tag::application_cons(1);
const RLRQ: Tag = Tag::application_cons(2);
const RLRE: Tag = Tag::application_cons(3);
const ABRT: Tag = Tag::application_cons(4);

/// protocol-version [0] IMPLICIT BIT STRING { version1 (0) } DEFAULT { version1 }
const PROTOCOL_VERSION: Tag = Tag::context(0);
/// aSO-context-name [1] (explicit OBJECT IDENTIFIER)
const APPLICATION_CONTEXT: Tag = Tag::context_cons(1);

// AARQ: called-* [2]..[5], calling-* [6]..[9]; AARE: responding-* [4]..[7].
const AARQ_CALLED: u32 = 2;
const AARQ_CALLING: u32 = 6;
const AARE_RESPONDING: u32 = 4;

/// sender-acse-requirements [10] IMPLICIT ACSE-requirements (BIT STRING { authentication (0), … })
const SENDER_ACSE_REQUIREMENTS: Tag = Tag::context(10);
/// mechanism-name [11] IMPLICIT OBJECT IDENTIFIER
const MECHANISM_NAME: Tag = Tag::context(11);
/// calling-authentication-value [12] EXPLICIT Authentication-value
const CALLING_AUTHENTICATION_VALUE: Tag = Tag::context_cons(12);
/// Authentication-value charstring [0] IMPLICIT GraphicString
const CHARSTRING: Tag = Tag::context(0);

/// AARE result [2] (explicit Associate-result INTEGER)
const RESULT: Tag = Tag::context_cons(2);
/// AARE result-source-diagnostic [3] (explicit CHOICE { acse-service-user [1], acse-service-provider
/// [2] }, each an explicit INTEGER)
const RESULT_SOURCE_DIAGNOSTIC: Tag = Tag::context_cons(3);
const DIAGNOSTIC_USER: Tag = Tag::context_cons(1);
const DIAGNOSTIC_PROVIDER: Tag = Tag::context_cons(2);

/// RLRQ / RLRE reason [0] IMPLICIT INTEGER
const RELEASE_REASON: Tag = Tag::context(0);
/// ABRT abort-source [0] IMPLICIT INTEGER, abort-diagnostic [1] IMPLICIT ENUMERATED
const ABORT_SOURCE: Tag = Tag::context(0);
const ABORT_DIAGNOSTIC: Tag = Tag::context(1);

/// user-information [30] IMPLICIT Association-data (SEQUENCE OF EXTERNAL)
const USER_INFORMATION: Tag = Tag::context_cons(30);
/// ObjectDescriptor, the optional data-value-descriptor of EXTERNAL.
const OBJECT_DESCRIPTOR: Tag = Tag::universal(7);

fn int(t: &Tlv<'_>) -> Result<i64, Error> {
    Ok(primitive::decode_i64(t.primitive()?)?)
}

fn oid(t: &Tlv<'_>) -> Result<ObjectIdentifier, Error> {
    Ok(ObjectIdentifier::from_content(t.primitive()?)?)
}

/// The single element inside an explicit tag.
fn explicit<'a>(t: &Tlv<'a>) -> Result<Tlv<'a>, Error> {
    let mut r = t.reader()?;
    let inner = r.read()?;
    r.finish()?;
    Ok(inner)
}

fn explicit_int(t: &Tlv<'_>) -> Result<i64, Error> {
    let inner = explicit(t)?;
    if inner.tag != Tag::INTEGER {
        return Err(Error::Ber(ber::Error::UnexpectedTag {
            expected: Tag::INTEGER,
            found: inner.tag,
        }));
    }
    int(&inner)
}

fn explicit_oid(t: &Tlv<'_>) -> Result<ObjectIdentifier, Error> {
    let inner = explicit(t)?;
    if inner.tag != Tag::OID {
        return Err(Error::Ber(ber::Error::UnexpectedTag {
            expected: Tag::OID,
            found: inner.tag,
        }));
    }
    oid(&inner)
}

/// X.227: the acceptor needs version1 among the proposed versions, else the association fails with
/// acse-service-provider no-common-acse-version.
fn check_protocol_version(t: &Tlv<'_>) -> Result<(), Error> {
    let (octets, bits) = primitive::decode_bit_string(t.primitive()?)?;
    match octets.first() {
        Some(b) if bits >= 1 && b & 0x80 != 0 => Ok(()),
        _ => Err(Error::NoCommonAcseVersion),
    }
}

/// Fill one field of an [`ApInvocation`] if `t` is one of the four tags starting at `base`. Returns
/// whether it was.
fn decode_ap_field(ap: &mut ApInvocation, base: u32, t: &Tlv<'_>) -> Result<bool, Error> {
    if t.tag.class != ber::Class::Context || !t.tag.constructed {
        return Ok(false);
    }
    match t.tag.number.wrapping_sub(base) {
        0 => {
            // AP-title ::= CHOICE { ap-title-form1 Name, ap-title-form2 OBJECT IDENTIFIER, … }
            let inner = explicit(t)?;
            if inner.tag != Tag::OID {
                return Err(Error::ApTitleFormNotSupported);
            }
            ap.ap_title = Some(oid(&inner)?);
        }
        1 => {
            // AE-qualifier ::= CHOICE { ae-qualifier-form1 RDN, ae-qualifier-form2 INTEGER, … }
            let inner = explicit(t)?;
            if inner.tag != Tag::INTEGER {
                return Err(Error::AeQualifierFormNotSupported);
            }
            ap.ae_qualifier = Some(int(&inner)?);
        }
        2 => ap.ap_invocation_id = Some(explicit_int(t)?),
        3 => ap.ae_invocation_id = Some(explicit_int(t)?),
        _ => return Ok(false),
    }
    Ok(true)
}

fn write_ap(w: &mut Writer<'_>, base: u32, ap: &ApInvocation) {
    if let Some(title) = &ap.ap_title {
        w.constructed(Tag::context_cons(base), |w| {
            w.primitive(Tag::OID, title.as_bytes())
        });
    }
    if let Some(q) = ap.ae_qualifier {
        w.constructed(Tag::context_cons(base + 1), |w| w.integer(Tag::INTEGER, q));
    }
    if let Some(id) = ap.ap_invocation_id {
        w.constructed(Tag::context_cons(base + 2), |w| w.integer(Tag::INTEGER, id));
    }
    if let Some(id) = ap.ae_invocation_id {
        w.constructed(Tag::context_cons(base + 3), |w| w.integer(Tag::INTEGER, id));
    }
}

/// user-information [30] IMPLICIT SEQUENCE OF EXTERNAL, where EXTERNAL (X.690 §8.18) ::= [UNIVERSAL 8]
/// IMPLICIT SEQUENCE { direct-reference OID OPTIONAL, indirect-reference INTEGER OPTIONAL,
/// data-value-descriptor ObjectDescriptor OPTIONAL, encoding CHOICE { single-ASN1-type [0],
/// octet-aligned [1], arbitrary [2] } }
fn decode_user_information<'a>(t: &Tlv<'a>) -> Result<Option<Pdv<'a>>, Error> {
    let mut r = t.reader()?;
    let Some(ext) = r.read_opt()? else {
        // SIZE (1..MAX) is violated, but an empty list carries nothing to lose.
        return Ok(None);
    };
    if !r.is_empty() {
        return Err(Error::MoreThanOneUserInformation);
    }
    if ext.tag != Tag::EXTERNAL {
        return Err(Error::Ber(ber::Error::UnexpectedTag {
            expected: Tag::EXTERNAL,
            found: ext.tag,
        }));
    }
    let mut r = ext.reader()?;
    let mut context_id = None;
    let mut data = None;
    while let Some(f) = r.read_opt()? {
        match f.tag {
            // direct-reference names the transfer syntax; with presentation contexts the
            // indirect-reference is what identifies the abstract syntax.
            Tag::OID | OBJECT_DESCRIPTOR => {}
            Tag::INTEGER => context_id = Some(int(&f)?),
            _ => {
                data = Some(pdv_value(&f)?.ok_or(Error::UserInformationEncodingNotSupported)?);
            }
        }
    }
    Ok(Some(Pdv {
        context_id: context_id.ok_or(Error::MissingContextId)?,
        data: data.ok_or(Error::UserInformationEncodingNotSupported)?,
    }))
}

fn write_user_information(w: &mut Writer<'_>, pdv: &Option<Pdv<'_>>) {
    if let Some(p) = pdv {
        w.constructed(USER_INFORMATION, |w| {
            w.constructed(Tag::EXTERNAL, |w| {
                w.integer(Tag::INTEGER, p.context_id);
                write_single_asn1_type(w, p.data);
            });
        });
    }
}

#[cfg(feature = "server")]
fn decode_aarq<'a>(t: &Tlv<'a>) -> Result<Aarq<'a>, Error> {
    let mut r = t.reader()?;
    let mut application_context = None;
    let mut called = ApInvocation::default();
    let mut calling = ApInvocation::default();
    let mut mechanism = None;
    let mut auth_value: Option<Tlv<'a>> = None;
    let mut user_information = None;
    while let Some(f) = r.read_opt()? {
        match f.tag {
            PROTOCOL_VERSION => check_protocol_version(&f)?,
            APPLICATION_CONTEXT => application_context = Some(explicit_oid(&f)?),
            // The requirements bit only announces the authentication fields; their presence is
            // what counts.
            SENDER_ACSE_REQUIREMENTS => {}
            MECHANISM_NAME => mechanism = Some(oid(&f)?),
            CALLING_AUTHENTICATION_VALUE => auth_value = Some(explicit(&f)?),
            USER_INFORMATION => user_information = decode_user_information(&f)?,
            _ => {
                if !decode_ap_field(&mut called, AARQ_CALLED, &f)? {
                    decode_ap_field(&mut calling, AARQ_CALLING, &f)?;
                }
                // Anything else (aSO-context-name-list [13], implementation-information [29], the
                // higher-level-association extensions [14]..[16]) sits at an extension point: skip.
            }
        }
    }
    let authentication = match (mechanism, auth_value) {
        (Some(m), Some(v)) if m == password_mechanism() && v.tag == CHARSTRING => {
            Some(Authentication::Password(v.content))
        }
        (mechanism, Some(v)) => Some(Authentication::Other {
            mechanism,
            value: v.raw,
        }),
        // A mechanism without a value authenticates nothing; keep it visible to the caller.
        (Some(m), None) => Some(Authentication::Other {
            mechanism: Some(m),
            value: &[],
        }),
        (None, None) => None,
    };
    Ok(Aarq {
        application_context: application_context.ok_or(Error::MissingApplicationContext)?,
        called,
        calling,
        authentication,
        user_information,
    })
}

fn encode_aarq(w: &mut Writer<'_>, a: &Aarq<'_>) {
    w.constructed(AARQ, |w| {
        w.constructed(APPLICATION_CONTEXT, |w| {
            w.primitive(Tag::OID, a.application_context.as_bytes())
        });
        write_ap(w, AARQ_CALLED, &a.called);
        write_ap(w, AARQ_CALLING, &a.calling);
        if let Some(auth) = &a.authentication {
            // ACSE-requirements BIT STRING { authentication (0) }: one bit, set.
            w.bit_string(SENDER_ACSE_REQUIREMENTS, &[0x80], 1);
            match auth {
                Authentication::Password(p) => {
                    w.primitive(MECHANISM_NAME, password_mechanism().as_bytes());
                    w.constructed(CALLING_AUTHENTICATION_VALUE, |w| w.primitive(CHARSTRING, p));
                }
                Authentication::Other { mechanism, value } => {
                    if let Some(m) = mechanism {
                        w.primitive(MECHANISM_NAME, m.as_bytes());
                    }
                    if !value.is_empty() {
                        w.constructed(CALLING_AUTHENTICATION_VALUE, |w| w.raw(value));
                    }
                }
            }
        }
        write_user_information(w, &a.user_information);
    });
}

fn decode_diagnostic(t: &Tlv<'_>) -> Result<AssociateDiagnostic, Error> {
    let choice = explicit(t)?;
    let v = explicit_int(&choice)?;
    let v = u8::try_from(v).map_err(|_| Error::InvalidDiagnostic)?;
    match choice.tag {
        DIAGNOSTIC_USER => Ok(AssociateDiagnostic::User(v)),
        DIAGNOSTIC_PROVIDER => Ok(AssociateDiagnostic::Provider(v)),
        _ => Err(Error::InvalidDiagnostic),
    }
}

fn decode_aare<'a>(t: &Tlv<'a>) -> Result<Aare<'a>, Error> {
    let mut r = t.reader()?;
    let mut application_context = None;
    let mut result = None;
    let mut diagnostic = None;
    let mut responding = ApInvocation::default();
    let mut user_information = None;
    while let Some(f) = r.read_opt()? {
        match f.tag {
            PROTOCOL_VERSION => check_protocol_version(&f)?,
            APPLICATION_CONTEXT => application_context = Some(explicit_oid(&f)?),
            RESULT => {
                let v = explicit_int(&f)?;
                result =
                    Some(AssociateResult::from_code(v).ok_or(Error::InvalidAssociateResult(v))?);
            }
            RESULT_SOURCE_DIAGNOSTIC => diagnostic = Some(decode_diagnostic(&f)?),
            USER_INFORMATION => user_information = decode_user_information(&f)?,
            _ => {
                // responder-acse-requirements [8], mechanism-name [9], responding-authentication-value
                // [10], aSO-context-name-list [11], implementation-information [29] and the
                // extensions [12]..[14] are skipped.
                decode_ap_field(&mut responding, AARE_RESPONDING, &f)?;
            }
        }
    }
    Ok(Aare {
        application_context: application_context.ok_or(Error::MissingApplicationContext)?,
        result: result.ok_or(Error::MissingAssociateResult)?,
        diagnostic,
        responding,
        user_information,
    })
}

fn encode_aare(w: &mut Writer<'_>, a: &Aare<'_>) {
    w.constructed(AARE, |w| {
        w.constructed(APPLICATION_CONTEXT, |w| {
            w.primitive(Tag::OID, a.application_context.as_bytes())
        });
        w.constructed(RESULT, |w| w.integer(Tag::INTEGER, a.result.code()));
        let (tag, v) = match a.diagnostic {
            Some(AssociateDiagnostic::Provider(v)) => (DIAGNOSTIC_PROVIDER, v),
            Some(AssociateDiagnostic::User(v)) => (DIAGNOSTIC_USER, v),
            None => (DIAGNOSTIC_USER, super::user_diagnostic::NULL),
        };
        w.constructed(RESULT_SOURCE_DIAGNOSTIC, |w| {
            w.constructed(tag, |w| w.integer(Tag::INTEGER, i64::from(v)))
        });
        write_ap(w, AARE_RESPONDING, &a.responding);
        write_user_information(w, &a.user_information);
    });
}

/// RLRQ and RLRE share their shape: reason [0] IMPLICIT INTEGER OPTIONAL, …, user-information [30].
fn decode_release<'a>(t: &Tlv<'a>) -> Result<(Option<i64>, Option<Pdv<'a>>), Error> {
    let mut r = t.reader()?;
    let (mut reason, mut user_information) = (None, None);
    while let Some(f) = r.read_opt()? {
        match f.tag {
            RELEASE_REASON => reason = Some(int(&f)?),
            USER_INFORMATION => user_information = decode_user_information(&f)?,
            // aso-qualifier [13], asoi-identifier [14]: extensions, skipped.
            _ => {}
        }
    }
    Ok((reason, user_information))
}

fn encode_release(w: &mut Writer<'_>, tag: Tag, reason: Option<i64>, ui: &Option<Pdv<'_>>) {
    w.constructed(tag, |w| {
        if let Some(r) = reason {
            w.integer(RELEASE_REASON, r);
        }
        write_user_information(w, ui);
    });
}

fn decode_abrt<'a>(t: &Tlv<'a>) -> Result<Abrt<'a>, Error> {
    let mut r = t.reader()?;
    let (mut source, mut diagnostic, mut user_information) = (None, None, None);
    while let Some(f) = r.read_opt()? {
        match f.tag {
            ABORT_SOURCE => {
                let v = int(&f)?;
                // ABRT-source ::= INTEGER { acse-service-user (0), acse-service-provider (1) }
                source = Some(
                    u8::try_from(v)
                        .ok()
                        .filter(|s| *s <= 1)
                        .ok_or(Error::InvalidAbortSource(v))?,
                );
            }
            ABORT_DIAGNOSTIC => diagnostic = Some(int(&f)?),
            USER_INFORMATION => user_information = decode_user_information(&f)?,
            _ => {}
        }
    }
    Ok(Abrt {
        source: source.ok_or(Error::MissingAbortSource)?,
        diagnostic,
        user_information,
    })
}

impl<'a> Apdu<'a> {
    /// Decode one ACSE APDU: the whole data of its presentation data value.
    pub fn decode(b: &'a [u8]) -> Result<Self, Error> {
        let t = only_element(b)?;
        match t.tag {
            // Only a responder reads an AARQ (feature `server`); without it an AARQ is an
            // APDU this build does not know.
            #[cfg(feature = "server")]
            AARQ => decode_aarq(&t).map(Apdu::Aarq),
            AARE => decode_aare(&t).map(Apdu::Aare),
            RLRQ => decode_release(&t).map(|(reason, user_information)| {
                Apdu::Rlrq(Rlrq {
                    reason,
                    user_information,
                })
            }),
            RLRE => decode_release(&t).map(|(reason, user_information)| {
                Apdu::Rlre(Rlre {
                    reason,
                    user_information,
                })
            }),
            ABRT => decode_abrt(&t).map(Apdu::Abrt),
            tag => Err(Error::UnknownApdu(tag)),
        }
    }

    /// Append the APDU's encoding.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut w = Writer::new(out);
        match self {
            Apdu::Aarq(a) => encode_aarq(&mut w, a),
            Apdu::Aare(a) => encode_aare(&mut w, a),
            Apdu::Rlrq(r) => encode_release(&mut w, RLRQ, r.reason, &r.user_information),
            Apdu::Rlre(r) => encode_release(&mut w, RLRE, r.reason, &r.user_information),
            Apdu::Abrt(a) => encode_abrt(&mut w, a),
        }
    }
}

fn encode_abrt(w: &mut Writer<'_>, a: &Abrt<'_>) {
    w.constructed(ABRT, |w| {
        w.integer(ABORT_SOURCE, i64::from(a.source));
        if let Some(d) = a.diagnostic {
            w.integer(ABORT_DIAGNOSTIC, d);
        }
        write_user_information(w, &a.user_information);
    });
}

// The association writes the APDUs a client sends with these rather than [`Apdu::encode`], so
// a build without the server links no AARE encoder.

impl Aarq<'_> {
    /// Append the encoding of this AARQ (as [`Apdu::encode`] writes it).
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        encode_aarq(&mut Writer::new(out), self);
    }
}

impl Rlrq<'_> {
    /// Append the encoding of this RLRQ (as [`Apdu::encode`] writes it).
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        encode_release(
            &mut Writer::new(out),
            RLRQ,
            self.reason,
            &self.user_information,
        );
    }
}

impl Abrt<'_> {
    /// Append the encoding of this ABRT (as [`Apdu::encode`] writes it).
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        encode_abrt(&mut Writer::new(out), self);
    }
}
