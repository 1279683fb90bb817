//! How values, types and times are printed.

use tase2_core::mms::{Data, ObjectName, TypeDescription, TypeSpecification};
use tase2_core::tase2::{Family, Form, PointType, PointValue, StateValue, Timestamp, Value};

/// A `Data` value in one line.
pub fn data(d: &Data) -> String {
    match d {
        Data::Structure(v) | Data::Array(v) => {
            let inner: Vec<String> = v.iter().map(data).collect();
            format!("{{{}}}", inner.join(", "))
        }
        Data::Float(f) => format!("{}", f.to_f64()),
        Data::Integer(i) => i.to_string(),
        Data::Unsigned(u) => u.to_string(),
        Data::Boolean(b) => b.to_string(),
        Data::VisibleString(s) | Data::MmsString(s) => format!("{s:?}"),
        Data::BitString(b) => (0..b.bits)
            .map(|i| if b.get(i) { '1' } else { '0' })
            .collect(),
        other => format!("{other:?}"),
    }
}

/// `DOMAIN/NAME`, `/NAME` (VMD scope) or `@NAME` (association scope).
pub fn name(n: &ObjectName) -> String {
    match n {
        ObjectName::VmdSpecific(i) => format!("/{i}"),
        ObjectName::DomainSpecific { domain, item } => format!("{domain}/{item}"),
        ObjectName::AaSpecific(i) => format!("@{i}"),
    }
}

/// A short MMS type: `FLOAT32`, `INT16`, `BIT STRING(8)`, `{FLOAT32, INT32, BIT STRING(8)}`...
pub fn mms_type(t: &TypeDescription) -> String {
    use TypeDescription as T;
    match t {
        T::Boolean => "BOOLEAN".into(),
        T::Integer(n) => format!("INT{n}"),
        T::Unsigned(n) => format!("UINT{n}"),
        T::FloatingPoint { format_width, .. } => format!("FLOAT{format_width}"),
        T::BitString(n) => format!("BIT STRING({n})"),
        T::VisibleString(n) => format!("VisibleString({n})"),
        T::Structure { components, .. } => {
            let inner: Vec<String> = components
                .iter()
                .map(|c| match &c.type_spec {
                    TypeSpecification::Description(d) => mms_type(d),
                    other => format!("{other:?}"),
                })
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
        other => format!("{other:?}"),
    }
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar.
fn civil(days: i64) -> (i64, u32, u32) {
    // Shift to a calendar whose years start on 1 March, so the leap day ends the year; eras are
    // the 400-year cycles of 146097 days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Seconds since 1970 UTC as `2026-11-21T19:58:37Z`.
pub fn utc(seconds: i64) -> String {
    let (y, mo, d) = civil(seconds.div_euclid(86_400));
    let s = seconds.rem_euclid(86_400);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// Seconds since 1970 UTC as the time of day, `19:58:37`.
pub fn time_of_day(seconds: i64) -> String {
    let s = seconds.rem_euclid(86_400);
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

fn timestamp(t: Timestamp, millis: bool) -> String {
    let mut s = utc(i64::from(t.seconds));
    if millis {
        s.insert_str(s.len() - 1, &format!(".{:03}", t.millis));
    }
    s
}

fn state(s: StateValue) -> &'static str {
    match s {
        StateValue::Between => "between",
        StateValue::Off => "off",
        StateValue::On => "on",
        StateValue::Invalid => "invalid",
    }
}

/// A point's value alone.
pub fn value(v: &PointValue) -> String {
    match v.value {
        Value::Real(x) => x.to_string(),
        Value::State(s) => state(s).into(),
        Value::Discrete(x) => x.to_string(),
        Value::StateSupplemental(x) => format!("{x:08b}"),
        Value::SingleEvent {
            flags,
            operating_time,
        } => format!("events {flags:08b} op {operating_time} ms"),
        Value::PackedEvent {
            events,
            flags,
            operating_time,
        } => format!("events {events:08b} flags {flags:08b} op {operating_time} ms"),
    }
}

/// The parts of a point value its type carries: (value, flags, timestamp), empty when absent.
pub fn point_columns(t: PointType, v: &PointValue) -> (String, String, String) {
    let (has_flags, ts) = match t {
        PointType::Indication(family, form) => (
            form != Form::Plain || family == Family::State,
            match form {
                Form::QTimeTag | Form::Extended => Some(false),
                Form::QTimeTagExtended => Some(true),
                _ => None,
            },
        ),
        PointType::SingleEvent | PointType::PackedEvent => (false, Some(true)),
    };
    let mut val = value(v);
    if matches!(t, PointType::Indication(_, Form::Extended)) {
        val.push_str(&format!(" (cov {})", v.cov));
    }
    let flags = if has_flags {
        v.flags.to_string()
    } else {
        String::new()
    };
    let ts = ts.map(|ms| timestamp(v.timestamp, ms)).unwrap_or_default();
    (val, flags, ts)
}

/// A point in one line: `value  [flags]  timestamp`.
pub fn point(t: PointType, v: &PointValue) -> String {
    let (val, flags, ts) = point_columns(t, v);
    let mut s = val;
    if !flags.is_empty() {
        s.push_str(&format!("  [{flags}]"));
    }
    if !ts.is_empty() {
        s.push_str("  ");
        s.push_str(&ts);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use tase2_core::tase2::Flags;

    #[test]
    fn dates_are_gregorian() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(utc(-1), "1969-12-31T23:59:59Z");
        assert_eq!(time_of_day(1_700_000_000), "22:13:20");
    }

    #[test]
    fn points_show_what_their_form_carries() {
        let v = PointValue::real(1.5)
            .with_flags(Flags(0b0010_0000))
            .at(Timestamp {
                seconds: 1_700_000_000,
                millis: 5,
            });
        let real = |f| PointType::Indication(Family::Real, f);
        assert_eq!(point(real(Form::Plain), &v), "1.5");
        assert_eq!(point(real(Form::Q), &v), "1.5  [suspect,telemetered]");
        assert_eq!(
            point(real(Form::QTimeTag), &v),
            "1.5  [suspect,telemetered]  2023-11-14T22:13:20Z"
        );
        assert_eq!(
            point(real(Form::QTimeTagExtended), &v),
            "1.5  [suspect,telemetered]  2023-11-14T22:13:20.005Z"
        );
        let s = PointValue::state(StateValue::On);
        assert_eq!(
            point(PointType::Indication(Family::State, Form::Plain), &s),
            "on  [valid,telemetered]"
        );
    }
}
