//! `tase2 watch`: define a data set, start a DS transfer set on it, print its reports live (and
//! the information messages the server sends), and clean up (stop, delete, conclude) on Ctrl-C or
//! after `--duration`.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use clap::Args;
use tase2_core::mms::ObjectName;
use tase2_core::tase2::{DsConditions, DsTransferSetValue, InfoMessage, InfoScope};
use tase2_tokio::tase2::{report_variables, Reported, Tase2Client, Tase2Report, TypedReport};

use crate::show;

/// What `tase2 watch` reports on, and how.
#[derive(Args)]
pub struct WatchArgs {
    /// The ICC domain (default: the first the server shows us, normally our only one).
    #[arg(long)]
    pub domain: Option<String>,
    /// Points to watch: comma-separated `NAME` (in the domain) or `DOMAIN/NAME`, or `all` for
    /// every point of the domain.
    #[arg(long, default_value = "all", value_delimiter = ',')]
    pub points: Vec<String>,
    /// Interval reports every S seconds (0: none).
    #[arg(long, default_value_t = 0, value_name = "S")]
    pub interval: i32,
    /// Integrity (full) reports every S seconds (0: none).
    #[arg(long, default_value_t = 10, value_name = "S")]
    pub integrity: i32,
    /// BufferTime: collect changes for S seconds before reporting them.
    #[arg(long, default_value_t = 0, value_name = "S")]
    pub buffer: i32,
    /// Report by exception: change reports carry only the changed points (the default).
    #[arg(long, overrides_with = "no_rbe")]
    pub rbe: bool,
    /// Change reports carry every point of the data set.
    #[arg(long, overrides_with = "rbe")]
    pub no_rbe: bool,
    /// Critical transfer set: every report is acknowledged (Transfer_Report_ACK).
    #[arg(long)]
    pub critical: bool,
    /// Stop after S seconds (default: run until Ctrl-C).
    #[arg(long, value_name = "S")]
    pub duration: Option<f64>,
    /// Name of the data set to define in the domain (default `DS_Watch_<pid>`).
    #[arg(long)]
    pub data_set: Option<String>,
    /// Do not enable information messages (by default `IM_Transfer_Set` is set and every message
    /// received is printed).
    #[arg(long)]
    pub no_info: bool,
    /// A backup server (host:port; repeat for more, in order of preference): when the
    /// association is lost the watch reconnects on its own, to the primary or a backup, restores
    /// its data set, transfer set and information messages there, and prints the gap.
    #[arg(long, value_name = "ADDR")]
    pub backup: Vec<String>,
    /// With --backup: go back to the primary once it accepts connections again, probing it
    /// every S seconds (default 2).
    #[arg(long, value_name = "S", num_args = 0..=1, default_missing_value = "2")]
    pub fail_back: Option<f64>,
    /// With --backup: read TASE2_Version every S seconds and count the link as dead when no
    /// answer comes within S seconds (default 2).
    #[arg(long, value_name = "S", default_value_t = 2.0)]
    pub keepalive: f64,
}

/// Report and value rates over a sliding window (or since the start, while that is shorter).
pub(crate) struct Rates {
    start: Instant,
    window: Duration,
    seen: VecDeque<(Instant, usize)>,
}

impl Rates {
    pub(crate) fn new(start: Instant, window: Duration) -> Self {
        Rates {
            start,
            window,
            seen: VecDeque::new(),
        }
    }

    /// Note a report of `values` values; returns (reports/s, values/s) over the window.
    pub(crate) fn note(&mut self, now: Instant, values: usize) -> (f64, f64) {
        self.seen.push_back((now, values));
        while self
            .seen
            .front()
            .is_some_and(|(t, _)| now.duration_since(*t) > self.window)
        {
            self.seen.pop_front();
        }
        let span = now
            .duration_since(self.start)
            .min(self.window)
            .max(Duration::from_secs(1))
            .as_secs_f64();
        let reports = self.seen.len() as f64 / span;
        let values = self.seen.iter().map(|(_, n)| *n).sum::<usize>() as f64 / span;
        (reports, values)
    }
}

impl WatchArgs {
    /// The data set the watch defines in `domain` for `points` (the `--data-set` name, or one
    /// of this process), with the report variables first: its name and members.
    pub(crate) fn data_set(
        &self,
        domain: &str,
        points: &[ObjectName],
    ) -> (ObjectName, Vec<ObjectName>) {
        let item = self
            .data_set
            .clone()
            .unwrap_or_else(|| format!("DS_Watch_{}", std::process::id()));
        let mut members = report_variables(domain).to_vec();
        members.extend(points.iter().cloned());
        (ObjectName::domain(domain, item.as_str()), members)
    }

    /// The transfer set these options ask for on data set `ds`: object changes, plus the
    /// interval and integrity conditions when their periods are set.
    pub(crate) fn transfer_set_value(&self, ds: &ObjectName) -> DsTransferSetValue {
        let mut conditions = DsConditions::OBJECT_CHANGE;
        if self.interval > 0 {
            conditions = conditions | DsConditions::INTERVAL;
        }
        if self.integrity > 0 {
            conditions = conditions | DsConditions::INTEGRITY;
        }
        DsTransferSetValue {
            data_set: ds.clone(),
            interval: self.interval,
            integrity_check: self.integrity,
            buffer_time: self.buffer,
            conditions,
            rbe: !self.no_rbe,
            critical: self.critical,
            ..DsTransferSetValue::default()
        }
    }
}

/// The width of the widest point name, for the report columns.
pub(crate) fn name_width(points: &[ObjectName]) -> usize {
    points
        .iter()
        .map(|p| show::name(p).len())
        .max()
        .unwrap_or(0)
}

/// Resolves on Ctrl-C, or once `duration` seconds (if given) have passed.
pub(crate) async fn until_stopped(duration: Option<f64>) {
    let deadline =
        duration.map(|s| tokio::time::Instant::now() + Duration::from_secs_f64(s.max(0.0)));
    let stop_at = async {
        match deadline {
            Some(d) => tokio::time::sleep_until(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = stop_at => {}
    }
}

pub(crate) fn print_report(r: &TypedReport, rates: (f64, f64), width: usize) {
    let when = r
        .timestamp
        .map(|t| show::time_of_day(i64::from(t)))
        .unwrap_or_else(|| "--:--:--".into());
    let ts = r
        .transfer_set
        .as_ref()
        .map(|t| t.item().to_string())
        .unwrap_or_else(|| "?".into());
    let conditions = r
        .conditions
        .map(|c| c.to_string())
        .unwrap_or_else(|| "?".into());
    let kind = if r.data_set.is_some() { "full" } else { "rbe" };
    let ack = if r.acknowledged { "  ACK" } else { "" };
    println!(
        "{when}  {ts}  {conditions} ({kind}, {} values){ack}    {:.1} reports/s  {:.1} values/s",
        r.values.len(),
        rates.0,
        rates.1
    );
    for (name, v) in &r.values {
        let (val, flags, stamp) = match v {
            Reported::Point(t, p) => show::point_columns(*t, p),
            Reported::Other(d) => (show::data(d), String::new(), String::new()),
        };
        println!(
            "  {:<width$}  {val:>14}  {flags:<28}  {stamp}",
            show::name(name)
        );
    }
}

/// Most message octets shown in hex.
const HEX_SHOWN: usize = 64;

/// One information message: when it arrived, scope, header, size, then the text (quoted) or
/// the octets in hex.
pub(crate) fn info_line(m: &InfoMessage, arrived: &str) -> String {
    let scope = match (m.scope, &m.domain) {
        (InfoScope::Icc, Some(d)) => format!("ICC {d}"),
        (InfoScope::Icc, None) => "ICC".into(),
        (InfoScope::Vcc, _) => "VCC".into(),
    };
    let h = &m.header;
    let body = match m.text() {
        Some(t) => format!("{t:?}"),
        None => {
            let hex: Vec<String> = m
                .data
                .iter()
                .take(HEX_SHOWN)
                .map(|b| format!("{b:02x}"))
                .collect();
            let more = if m.data.len() > HEX_SHOWN { " ..." } else { "" };
            format!("hex {}{more}", hex.join(" "))
        }
    };
    format!(
        "{arrived}  MESSAGE {scope}  InfoReference {}  LocalReference {}  MessageId {}  {} octets: {body}",
        h.info_reference,
        h.local_reference,
        h.message_id,
        m.data.len()
    )
}

pub(crate) fn now_of_day() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    show::time_of_day(secs)
}

pub(crate) fn point_name(domain: &str, p: &str) -> ObjectName {
    match p.split_once('/') {
        Some(("", item)) => ObjectName::vmd(item),
        Some((d, item)) => ObjectName::domain(d, item),
        None => ObjectName::domain(domain, p),
    }
}

/// Run the watch on an established client; always tries to clean up what it set up.
pub async fn watch(c: &mut Tase2Client, a: &WatchArgs) -> Result<(), String> {
    let e = |e: tase2_tokio::tase2::Error| e.to_string();
    let domain = match &a.domain {
        Some(d) => d.clone(),
        None => c
            .domains()
            .await
            .map_err(e)?
            .into_iter()
            .next()
            .ok_or("the server shows us no domain")?,
    };
    let points: Vec<ObjectName> = if a.points.iter().any(|p| p == "all") {
        c.variables(Some(&domain))
            .await
            .map_err(e)?
            .into_iter()
            .filter(|v| v.point_type.is_some())
            .map(|v| v.name)
            .collect()
    } else {
        let names: Vec<ObjectName> = a.points.iter().map(|p| point_name(&domain, p)).collect();
        for (n, t) in names.iter().zip(c.learn_types(&names).await) {
            if t.is_none() {
                return Err(format!("{}: not a point (or not visible)", show::name(n)));
            }
        }
        names
    };
    if points.is_empty() {
        return Err(format!("no points to watch in {domain}"));
    }
    let (ds, members) = a.data_set(&domain, &points);
    c.define_data_set(&ds, &members)
        .await
        .map_err(|e| format!("define data set {}: {e}", show::name(&ds)))?;

    let result = run(c, a, &domain, &ds, &points).await;
    let deleted = c.delete_data_set(&ds).await;
    result?;
    deleted.map_err(|e| format!("delete data set {}: {e}", show::name(&ds)))?;
    Ok(())
}

async fn run(
    c: &mut Tase2Client,
    a: &WatchArgs,
    domain: &str,
    ds: &ObjectName,
    points: &[ObjectName],
) -> Result<(), String> {
    let value = a.transfer_set_value(ds);
    let conditions = value.conditions;
    let ts = c
        .reserve_transfer_set(domain)
        .await
        .map_err(|e| format!("reserve a transfer set of {domain}: {e}"))?;
    println!(
        "watching {} points of {domain} through {} (data set {}; {conditions}; {}{})",
        points.len(),
        show::name(&ts),
        ds.item(),
        if value.rbe { "RBE" } else { "full reports" },
        if value.critical { ", critical" } else { "" },
    );
    c.start_transfer_set(&ts, value)
        .await
        .map_err(|e| format!("start {}: {e}", show::name(&ts)))?;
    if !a.no_info {
        // A server without block 4 refuses IM_Transfer_Set: the watch goes on without messages.
        match c.enable_info_messages().await {
            Ok(()) => println!("information messages enabled (IM_Transfer_Set)"),
            Err(e) => println!("information messages not enabled: {e}"),
        }
    }

    let width = name_width(points);
    let started = Instant::now();
    let stop = until_stopped(a.duration);
    tokio::pin!(stop);
    let mut rates = Rates::new(started, Duration::from_secs(10));
    println!(
        "  {:<width$}  {:>14}  {:<28}  TIMESTAMP",
        "POINT", "VALUE", "FLAGS"
    );
    let (mut reports, mut values, mut acked, mut messages) = (0usize, 0usize, 0usize, 0usize);
    let ended = loop {
        tokio::select! {
            r = c.next_report() => match r {
                Some(Ok(Tase2Report::InfoMessage(m))) => {
                    messages += 1;
                    println!("{}", info_line(&m, &now_of_day()));
                }
                Some(Ok(Tase2Report::Transfer(r))) => {
                    reports += 1;
                    values += r.values.len();
                    acked += usize::from(r.acknowledged);
                    let rate = rates.note(Instant::now(), r.values.len());
                    print_report(&r, rate, width);
                }
                Some(Err(u)) => println!("(a report that is not a transfer set report: {})", u.error),
                None => break Some("the association ended".to_string()),
            },
            () = &mut stop => break None,
        }
    };
    if let Some(why) = ended {
        return Err(why);
    }
    c.stop_transfer_set(&ts)
        .await
        .map_err(|e| format!("stop {}: {e}", show::name(&ts)))?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "stopped {}: {reports} reports, {values} values in {secs:.1} s{}{}",
        show::name(&ts),
        if a.critical {
            format!(", {acked} acknowledged")
        } else {
            String::new()
        },
        if a.no_info {
            String::new()
        } else {
            format!(", {messages} information messages")
        }
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_use_the_window() {
        let t0 = Instant::now();
        let mut r = Rates::new(t0, Duration::from_secs(10));
        assert_eq!(r.note(t0 + Duration::from_millis(300), 4), (1.0, 4.0));
        let (rep, val) = r.note(t0 + Duration::from_secs(2), 6);
        assert_eq!((rep, val), (1.0, 5.0));
        r.note(t0 + Duration::from_secs(19), 1);
        let (rep, val) = r.note(t0 + Duration::from_secs(20), 1);
        assert_eq!((rep, val), (0.2, 0.2));
    }

    #[test]
    fn information_messages_print_as_text_or_hex() {
        use tase2_core::tase2::InfoHeader;
        let header = InfoHeader {
            info_reference: 7,
            local_reference: 3,
            message_id: 42,
            size: 5,
        };
        let text = InfoMessage {
            scope: InfoScope::Vcc,
            domain: None,
            header,
            buffer: "Info_Buff_64".into(),
            data: b"hello".to_vec(),
        };
        assert_eq!(
            info_line(&text, "12:00:00"),
            "12:00:00  MESSAGE VCC  InfoReference 7  LocalReference 3  MessageId 42  5 octets: \"hello\""
        );
        let binary = InfoMessage {
            scope: InfoScope::Icc,
            domain: Some("ICC1".into()),
            data: (0..=70).map(|b| b as u8 | 0x80).collect(),
            ..text
        };
        let line = info_line(&binary, "12:00:01");
        assert!(
            line.starts_with("12:00:01  MESSAGE ICC ICC1  InfoReference 7  LocalReference 3  MessageId 42  71 octets: hex 80 81 82"),
            "{line}"
        );
        assert!(line.ends_with(" bf ..."), "{line}");
    }

    #[test]
    fn point_names_default_to_the_domain() {
        assert_eq!(
            point_name("ICC1", "Gen1_MW"),
            ObjectName::domain("ICC1", "Gen1_MW")
        );
        assert_eq!(
            point_name("ICC1", "ICC2/X"),
            ObjectName::domain("ICC2", "X")
        );
        assert_eq!(point_name("ICC1", "/V"), ObjectName::vmd("V"));
    }
}
