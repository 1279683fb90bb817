//! A tiny JSON writer for events and MMS values: no serde_json in the wasm binary.
//!
//! Numbers outside JavaScript's safe integer range (±2^53 − 1) are written as strings so no digit is
//! silently lost; non-finite floats are the strings `"NaN"`, `"Infinity"` and `"-Infinity"`.

use std::fmt::Write;

use tase2_core::assoc::{Event, RequestError};
use tase2_core::mms::{
    AccessResult, BitString, ConfirmedResponse, Data, Float, InformationReport, UnconfirmedService,
    VariableAccessSpecification, WriteResult,
};

/// Largest integer a JavaScript number holds exactly (`Number.MAX_SAFE_INTEGER`).
const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

pub use crate::jw::string;

fn int(out: &mut String, v: i64) {
    if (-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).contains(&v) {
        let _ = write!(out, "{v}");
    } else {
        let _ = write!(out, "\"{v}\"");
    }
}

fn uint(out: &mut String, v: u64) {
    match i64::try_from(v) {
        Ok(v) => int(out, v),
        Err(_) => {
            let _ = write!(out, "\"{v}\"");
        }
    }
}

fn float(out: &mut String, v: f64, shortest: impl FnOnce(&mut String)) {
    if v.is_nan() {
        out.push_str("\"NaN\"");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 {
            "\"Infinity\""
        } else {
            "\"-Infinity\""
        });
    } else {
        // Rust's float Display is the shortest round-trip form and never uses an exponent, so it
        // is a valid JSON number.
        shortest(out);
    }
}

fn bits(out: &mut String, b: &BitString) {
    crate::jw::bits(out, &b.octets, b.bits);
}

fn list<T>(out: &mut String, items: &[T], mut each: impl FnMut(&mut String, &T)) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        each(out, item);
    }
    out.push(']');
}

/// Append an MMS value: arrays and structures as JSON arrays, numbers as numbers, strings as
/// strings, bit strings as `"0101"`, octet strings as hex, times as small objects.
pub fn data(out: &mut String, d: &Data) {
    match d {
        Data::Array(v) | Data::Structure(v) => list(out, v, data),
        Data::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        Data::BitString(b) | Data::BooleanArray(b) => bits(out, b),
        Data::Integer(v) | Data::Bcd(v) => int(out, *v),
        Data::Unsigned(v) => uint(out, *v),
        Data::Float(Float::F32(v)) => float(out, f64::from(*v), |o| {
            let _ = write!(o, "{v}");
        }),
        Data::Float(Float::F64(v)) => float(out, *v, |o| {
            let _ = write!(o, "{v}");
        }),
        Data::OctetString(o) => {
            out.push('"');
            for b in o {
                let _ = write!(out, "{b:02x}");
            }
            out.push('"');
        }
        Data::VisibleString(s) | Data::MmsString(s) | Data::GeneralizedTime(s) => string(out, s),
        Data::BinaryTime(t) => {
            let _ = write!(
                out,
                "{{\"ms_of_day\":{},\"days_since_1984\":",
                t.millis_since_midnight
            );
            match t.days_since_1984 {
                Some(d) => {
                    let _ = write!(out, "{d}}}");
                }
                None => out.push_str("null}"),
            }
        }
        Data::ObjectId(oid) => string(out, &oid.to_string()),
        Data::UtcTime(t) => {
            let _ = write!(out, "{{\"utc_seconds\":");
            let secs =
                f64::from(t.seconds) + f64::from(t.fraction & 0xff_ffff) / f64::from(1u32 << 24);
            float(out, secs, |o| {
                let _ = write!(o, "{secs}");
            });
            let _ = write!(out, ",\"quality\":{}}}", t.quality);
        }
    }
}

fn access_result(out: &mut String, r: &AccessResult) {
    match r {
        AccessResult::Success(d) => data(out, d),
        AccessResult::Failure(e) => {
            out.push_str("{\"failure\":");
            string(out, &e.to_string());
            out.push('}');
        }
    }
}

fn variables(out: &mut String, v: &VariableAccessSpecification) {
    match v {
        VariableAccessSpecification::VariableListName(name) => {
            out.push_str("{\"list\":");
            string(out, &name.to_string());
            out.push('}');
        }
        VariableAccessSpecification::ListOfVariable(specs) => {
            out.push_str("{\"names\":");
            list(out, specs, |o, s| string(o, &s.name.to_string()));
            out.push('}');
        }
    }
}

/// `"service":…,"summary":…,"result":…` for a successful response (after a comma).
fn response(out: &mut String, r: &ConfirmedResponse) {
    let (service, summary) = match r {
        ConfirmedResponse::Identify(i) => (
            "identify",
            format!("{} {} {}", i.vendor_name, i.model_name, i.revision),
        ),
        ConfirmedResponse::GetNameList(n) => (
            "get_name_list",
            format!(
                "{} names{}",
                n.identifiers.len(),
                if n.more_follows { ", more follow" } else { "" }
            ),
        ),
        ConfirmedResponse::Read(r) => {
            let failed = r
                .results
                .iter()
                .filter(|r| matches!(r, AccessResult::Failure(_)))
                .count();
            (
                "read",
                format!("{} results, {failed} failed", r.results.len()),
            )
        }
        ConfirmedResponse::Status(s) => (
            "status",
            format!(
                "logical {}, physical {}",
                s.vmd_logical_status, s.vmd_physical_status
            ),
        ),
        ConfirmedResponse::Write(w) => ("write", format!("{} results", w.len())),
        other => ("other", format!("{other:?}")),
    };
    out.push_str("\"service\":");
    string(out, service);
    out.push_str(",\"summary\":");
    string(out, &summary);
    out.push_str(",\"result\":");
    match r {
        ConfirmedResponse::Identify(i) => {
            out.push_str("{\"vendor\":");
            string(out, &i.vendor_name);
            out.push_str(",\"model\":");
            string(out, &i.model_name);
            out.push_str(",\"revision\":");
            string(out, &i.revision);
            out.push('}');
        }
        ConfirmedResponse::GetNameList(n) => {
            out.push_str("{\"names\":");
            list(out, &n.identifiers, |o, s| string(o, s));
            let _ = write!(out, ",\"more_follows\":{}}}", n.more_follows);
        }
        ConfirmedResponse::Read(r) => {
            out.push_str("{\"values\":");
            list(out, &r.results, access_result);
            out.push('}');
        }
        ConfirmedResponse::Status(s) => {
            let _ = write!(
                out,
                "{{\"logical\":{},\"physical\":{}}}",
                s.vmd_logical_status, s.vmd_physical_status
            );
        }
        ConfirmedResponse::Write(w) => {
            out.push_str("{\"results\":");
            list(out, w, |o, r| match r {
                WriteResult::Success => o.push_str("true"),
                WriteResult::Failure(e) => {
                    o.push_str("{\"failure\":");
                    string(o, &e.to_string());
                    o.push('}');
                }
            });
            out.push('}');
        }
        _ => out.push_str("null"),
    }
}

fn request_error(out: &mut String, e: &RequestError) {
    let kind = match e {
        RequestError::Service(_) => "service",
        RequestError::Rejected(_) => "rejected",
        RequestError::Timeout => "timeout",
        RequestError::AssociationClosed => "closed",
    };
    out.push_str("\"error\":");
    string(out, kind);
    out.push_str(",\"summary\":");
    string(out, &e.to_string());
}

fn report(out: &mut String, r: &InformationReport) {
    out.push_str("{\"type\":\"report\",\"variables\":");
    variables(out, &r.variables);
    out.push_str(",\"values\":");
    list(out, &r.results, access_result);
    out.push('}');
}

/// One event as a JSON object with a `type` field: `established`, `response`, `report`,
/// `unconfirmed`, `peer_error`, `rejected`, `closed` or `other`.
pub fn event(e: &Event) -> String {
    let mut out = String::new();
    match e {
        Event::Established(n) => {
            let _ = write!(
                out,
                "{{\"type\":\"established\",\"max_pdu_size\":{},\"max_outstanding\":{}}}",
                n.max_pdu_size, n.max_serv_outstanding_calling
            );
        }
        Event::Response { invoke_id, result } => {
            let _ = write!(out, "{{\"type\":\"response\",\"invoke_id\":{invoke_id},");
            match result {
                Ok(r) => {
                    out.push_str("\"ok\":true,");
                    response(&mut out, r);
                }
                Err(e) => {
                    out.push_str("\"ok\":false,");
                    request_error(&mut out, e);
                }
            }
            out.push('}');
        }
        Event::Unconfirmed(UnconfirmedService::InformationReport(r)) => report(&mut out, r),
        Event::Unconfirmed(UnconfirmedService::Other(tag)) => {
            let _ = write!(out, "{{\"type\":\"unconfirmed\",\"service_tag\":{tag}}}");
        }
        Event::PeerError(p) => {
            out.push_str("{\"type\":\"peer_error\",\"summary\":");
            string(&mut out, &p.to_string());
            out.push('}');
        }
        Event::Rejected(r) => {
            out.push_str("{\"type\":\"rejected\",\"summary\":");
            string(&mut out, &r.reason.to_string());
            out.push('}');
        }
        Event::Closed(err) => {
            out.push_str("{\"type\":\"closed\",\"error\":");
            match err {
                None => out.push_str("null"),
                Some(e) => string(&mut out, &e.to_string()),
            }
            out.push('}');
        }
        other => {
            out.push_str("{\"type\":\"other\",\"summary\":");
            string(&mut out, &format!("{other:?}"));
            out.push('}');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tase2_core::assoc::AssocError;
    use tase2_core::mms::{BinaryTime, DataAccessError, ObjectName, UtcTime, VariableSpec};

    fn json(d: &Data) -> String {
        let mut s = String::new();
        data(&mut s, d);
        s
    }

    #[test]
    fn strings_escape_quotes_backslashes_and_control_characters() {
        let mut s = String::new();
        string(&mut s, "a\"b\\c\nd\u{1}é");
        assert_eq!(s, r#""a\"b\\c\nd\u0001é""#);
    }

    #[test]
    fn scalars_render_as_json_values() {
        assert_eq!(json(&Data::Integer(-42)), "-42");
        assert_eq!(json(&Data::Integer(i64::MAX)), "\"9223372036854775807\"");
        assert_eq!(json(&Data::Unsigned(u64::MAX)), "\"18446744073709551615\"");
        assert_eq!(json(&Data::Float(Float::F32(231.5))), "231.5");
        assert_eq!(json(&Data::Float(Float::F32(0.1))), "0.1");
        assert_eq!(
            json(&Data::Float(Float::F64(1e21))),
            "1000000000000000000000"
        );
        assert_eq!(json(&Data::Float(Float::F64(f64::NAN))), "\"NaN\"");
        assert_eq!(
            json(&Data::Float(Float::F32(f32::NEG_INFINITY))),
            "\"-Infinity\""
        );
        assert_eq!(json(&Data::Boolean(true)), "true");
        assert_eq!(json(&Data::OctetString(vec![0x0a, 0xff])), "\"0aff\"");
        assert_eq!(
            json(&Data::BitString(BitString::from_octets(&[0b1010_0000], 4))),
            "\"1010\""
        );
        assert_eq!(json(&Data::VisibleString("x\"y".into())), r#""x\"y""#);
        assert_eq!(
            json(&Data::BinaryTime(BinaryTime {
                millis_since_midnight: 1000,
                days_since_1984: None
            })),
            r#"{"ms_of_day":1000,"days_since_1984":null}"#
        );
        assert_eq!(
            json(&Data::UtcTime(UtcTime {
                seconds: 1_700_000_000,
                fraction: 1 << 23,
                quality: 10
            })),
            r#"{"utc_seconds":1700000000.5,"quality":10}"#
        );
    }

    #[test]
    fn structures_and_arrays_nest_as_arrays() {
        let d = Data::Structure(vec![
            Data::Integer(1),
            Data::Array(vec![Data::Boolean(false), Data::MmsString("ü".into())]),
            Data::Structure(vec![]),
        ]);
        assert_eq!(json(&d), r#"[1,[false,"ü"],[]]"#);
    }

    #[test]
    fn reports_and_closes_have_their_own_types() {
        let r = Event::Unconfirmed(UnconfirmedService::InformationReport(InformationReport {
            variables: VariableAccessSpecification::ListOfVariable(vec![VariableSpec::named(
                ObjectName::domain("ICC1", "P1"),
            )]),
            results: vec![
                AccessResult::Success(Data::Integer(7)),
                AccessResult::Failure(DataAccessError::OBJECT_NON_EXISTENT),
            ],
        }));
        assert_eq!(
            event(&r),
            format!(
                r#"{{"type":"report","variables":{{"names":["{}"]}},"values":[7,{{"failure":"{}"}}]}}"#,
                ObjectName::domain("ICC1", "P1"),
                DataAccessError::OBJECT_NON_EXISTENT
            )
        );
        assert_eq!(
            event(&Event::Closed(None)),
            r#"{"type":"closed","error":null}"#
        );
        assert_eq!(
            event(&Event::Closed(Some(AssocError::TransportClosed))),
            r#"{"type":"closed","error":"transport closed"}"#
        );
        assert_eq!(
            event(&Event::Response {
                invoke_id: 3,
                result: Err(RequestError::Timeout)
            }),
            r#"{"type":"response","invoke_id":3,"ok":false,"error":"timeout","summary":"request timed out"}"#
        );
        assert_eq!(
            event(&Event::Response {
                invoke_id: 4,
                result: Err(RequestError::Service(
                    tase2_core::mms::ErrorClass::ACCESS_OBJECT_NON_EXISTENT.into()
                ))
            }),
            r#"{"type":"response","invoke_id":4,"ok":false,"error":"service","summary":"the peer answered with a service error: access: object-non-existent"}"#
        );
        assert_eq!(
            event(&Event::Closed(Some(AssocError::Refused(
                tase2_core::assoc::RefusalReason::Acse {
                    result: tase2_core::acse::AssociateResult::RejectedPermanent,
                    diagnostic: Some(tase2_core::acse::AssociateDiagnostic::User(3)),
                }
            )))),
            r#"{"type":"closed","error":"association refused by the peer's ACSE: rejected-permanent, calling-AP-title-not-recognized"}"#
        );
    }
}
