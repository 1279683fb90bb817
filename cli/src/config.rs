//! The TOML configuration of `tase2 serve`: the file format, parsing, and errors that point at the
//! offending line.
//!
//! The format is documented key by key in the README and, with comments, in
//! `examples/tase2-server.toml`, which is also the embedded default model ([`DEFAULT`]).
//! [`crate::model::build`] turns a parsed [`File`] into a TASE.2 server endpoint.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

/// The embedded default model: the example configuration of the repository, so the example is
/// always a valid, tested configuration.
pub const DEFAULT: &str = include_str!("../../examples/tase2-server.toml");

/// What the default model is called in messages.
pub const DEFAULT_ORIGIN: &str = "the default model";

/// A configuration problem: where (file and, when known, line and column) and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The file (or [`DEFAULT_ORIGIN`]).
    pub origin: String,
    /// 1-based line and column, when the problem has a place in the file.
    pub at: Option<(usize, usize)>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.at {
            Some((line, col)) => write!(f, "{}:{line}:{col}: {}", self.origin, self.message),
            None => write!(f, "{}: {}", self.origin, self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Turns byte spans of one text into [`ConfigError`]s.
pub struct Source<'a> {
    /// The TOML text.
    pub text: &'a str,
    /// Its file name, for messages.
    pub origin: &'a str,
}

impl Source<'_> {
    /// An error at the start of `span`.
    pub fn error_at(&self, span: Range<usize>, message: impl Into<String>) -> ConfigError {
        let start = span.start.min(self.text.len());
        let before = &self.text[..start];
        let line = before.matches('\n').count() + 1;
        let col = before
            .rfind('\n')
            .map_or(before, |n| &before[n + 1..])
            .chars()
            .count()
            + 1;
        ConfigError {
            origin: self.origin.into(),
            at: Some((line, col)),
            message: message.into(),
        }
    }

    /// An error with no place in the file.
    pub fn error(&self, message: impl Into<String>) -> ConfigError {
        ConfigError {
            origin: self.origin.into(),
            at: None,
            message: message.into(),
        }
    }

    /// Parse the text.
    pub fn parse(&self) -> Result<File, ConfigError> {
        toml::from_str(self.text).map_err(|e| {
            let message = e.message().trim_end().to_string();
            match e.span() {
                Some(span) => self.error_at(span, message),
                None => self.error(message),
            }
        })
    }
}

/// A whole configuration file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    /// `[server]`: addressing and behaviour.
    #[serde(default)]
    pub server: ServerSection,
    /// `[vcc]`: VMD-scope objects every client sees.
    #[serde(default)]
    pub vcc: VccSection,
    /// `[[domain]]`: the ICC domains.
    #[serde(default, rename = "domain")]
    pub domains: Vec<DomainSection>,
    /// `[[bilateral_table]]`: who may associate, with which domain and rights.
    #[serde(default, rename = "bilateral_table")]
    pub tables: Vec<Spanned<TableSection>>,
    /// `[simulation]`: points that change on their own.
    pub simulation: Option<SimulationSection>,
}

/// `[server]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    /// Address to listen on (`--listen` overrides it).
    #[serde(default = "default_listen")]
    pub listen: String,
    /// Our AP-title (clients calling another one are refused).
    pub ap_title: Option<Spanned<String>>,
    /// Our AE-qualifier.
    #[serde(default = "default_ae")]
    pub ae_qualifier: i64,
    /// The TASE.2 edition.
    #[serde(default)]
    pub edition: EditionName,
    /// What happens to a client no bilateral table names.
    #[serde(default)]
    pub unlisted: UnlistedName,
    /// Seconds a critical report waits for its ACK.
    #[serde(default = "default_ack_timeout")]
    pub ack_timeout_s: u64,
    /// Seconds a select (read of `<Device>_SBO`) keeps a device armed.
    #[serde(default = "default_select_timeout")]
    pub select_timeout_s: Spanned<u64>,
    /// Seconds an operate waits for the (simulated) field device's answer.
    #[serde(default = "default_operate_timeout")]
    pub operate_timeout_s: Spanned<u64>,
    /// The Identify answer.
    #[serde(default)]
    pub identity: IdentitySection,
    /// Secure ICCP: serve over TLS (IEC 62351-4).
    pub tls: Option<TlsSection>,
}

/// `[server.tls]`: serve secure ICCP (TLS, IEC 62351-3 and -4). Paths are relative to the
/// configuration file. The command line's `--tls-*` options override these keys.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSection {
    /// Our certificate chain (PEM).
    pub cert: Option<String>,
    /// Its private key (PEM).
    pub key: Option<String>,
    /// CA certificates whose clients are accepted (PEM files).
    #[serde(default)]
    pub ca: Vec<String>,
    /// Certificate revocation lists (PEM files).
    #[serde(default)]
    pub crl: Vec<String>,
    /// SHA-256 fingerprints of the only client certificates accepted (hex, `:` optional).
    #[serde(default)]
    pub pinned: Vec<String>,
    /// TLS versions: `["1.2", "1.3"]` (the default) or one of them.
    pub versions: Option<Vec<String>>,
    /// Cipher suites by IANA name (default: those of IEC 62351-3:2023 and IEC 62351-4:2018).
    pub suites: Option<Vec<String>>,
    /// Let clients without a certificate in (off: mutual authentication).
    #[serde(default)]
    pub optional_client_auth: bool,
    /// Renew TLS 1.3 keys after this many seconds.
    pub key_update_s: Option<u64>,
    /// Renew TLS 1.3 keys after this many octets sent.
    pub key_update_bytes: Option<u64>,
    /// TLS 1.3 session tickets sent per handshake (default 2; 0 for libiec61850 clients, which
    /// drop the connection on a NewSessionTicket, at the price of TLS 1.3 resumption).
    pub tls13_tickets: Option<usize>,
    /// Seconds between looks at the CRL files (default 60; 0: never): a change reloads them.
    pub crl_check_s: Option<u64>,
}

impl Default for ServerSection {
    fn default() -> Self {
        ServerSection {
            listen: default_listen(),
            ap_title: None,
            ae_qualifier: default_ae(),
            edition: EditionName::default(),
            unlisted: UnlistedName::default(),
            ack_timeout_s: default_ack_timeout(),
            select_timeout_s: default_select_timeout(),
            operate_timeout_s: default_operate_timeout(),
            identity: IdentitySection::default(),
            tls: None,
        }
    }
}

fn default_listen() -> String {
    "0.0.0.0:102".into()
}

fn default_ae() -> i64 {
    12
}

fn default_ack_timeout() -> u64 {
    30
}

fn default_select_timeout() -> Spanned<u64> {
    Spanned::new(0..0, 10)
}

fn default_operate_timeout() -> Spanned<u64> {
    Spanned::new(0..0, 5)
}

fn default_transfer_sets() -> usize {
    8
}

/// `edition = "2000.08" | "1996.08"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
pub enum EditionName {
    /// 2000.08.
    #[default]
    #[serde(rename = "2000.08")]
    V2000,
    /// 1996.08.
    #[serde(rename = "1996.08")]
    V1996,
}

/// `unlisted = "refuse" | "vcc-only"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnlistedName {
    /// Refuse the association.
    #[default]
    Refuse,
    /// Associate with VCC scope only.
    VccOnly,
}

/// `[server.identity]`: what Identify answers. Unset fields keep the built-in values.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentitySection {
    /// Vendor name.
    pub vendor: Option<String>,
    /// Model name.
    pub model: Option<String>,
    /// Revision.
    pub revision: Option<String>,
}

/// `[vcc]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VccSection {
    /// Add a `Sample_<Type>` point of every point type of the edition.
    #[serde(default)]
    pub sample_points: bool,
    /// Add `Report_Trigger`, `Report_Counter` and the data set `Vcc_Report` (the interop tests'
    /// report trigger: writing true sends the writer a report of `Vcc_Report`).
    #[serde(default)]
    pub test_report_trigger: bool,
    /// `[[vcc.point]]`.
    #[serde(default, rename = "point")]
    pub points: Vec<PointSection>,
    /// `[[vcc.data_set]]`.
    #[serde(default, rename = "data_set")]
    pub data_sets: Vec<DataSetSection>,
    /// `[[vcc.device]]`.
    #[serde(default, rename = "device")]
    pub devices: Vec<DeviceSection>,
    /// Sizes in octets of the information message buffers `Info_Buff_<n>` (block 4).
    #[serde(default)]
    pub info_buffers: Vec<Spanned<i64>>,
}

/// `[[domain]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainSection {
    /// The domain's name.
    pub name: Spanned<String>,
    /// How many DS transfer sets it offers.
    #[serde(default = "default_transfer_sets")]
    pub transfer_sets: usize,
    /// Add a `Sample_<Type>` point of every point type of the edition.
    #[serde(default)]
    pub sample_points: bool,
    /// Add `Point_0001`.. `Point_<N>` (Data_RealQTimeTag, value n × 1.5, timestamp
    /// 1700000000 + n): the fixed points the interop tests read.
    #[serde(default)]
    pub test_points: u32,
    /// Add the writable plain MMS structure `Nested` of the interop tests.
    #[serde(default)]
    pub test_structure: bool,
    /// `[[domain.point]]`.
    #[serde(default, rename = "point")]
    pub points: Vec<PointSection>,
    /// `[[domain.data_set]]`.
    #[serde(default, rename = "data_set")]
    pub data_sets: Vec<DataSetSection>,
    /// `[[domain.device]]`.
    #[serde(default, rename = "device")]
    pub devices: Vec<DeviceSection>,
    /// Sizes in octets of the information message buffers `Info_Buff_<n>` (block 4).
    #[serde(default)]
    pub info_buffers: Vec<Spanned<i64>>,
}

/// A device (`[[vcc.device]]` or `[[domain.device]]`, block 5): `<name>`, plus `<name>_SBO` for
/// select-before-operate and `<name>_TAG` if tagged.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceSection {
    /// Its MMS name.
    pub name: Spanned<String>,
    /// What it is.
    pub kind: DeviceKindName,
    /// Direct operate or select-before-operate.
    #[serde(default)]
    pub mode: ModeName,
    /// Whether it has a `<name>_TAG`.
    #[serde(default)]
    pub tagged: bool,
    /// The CheckBackID a select answers (a bilateral table may set its own).
    #[serde(default)]
    pub check_back_id: i16,
    /// A point of the same scope the simulation sets when an operate succeeds: a State point for
    /// a command (on/closed, off/open), a Real or Discrete point for a setpoint of that kind.
    pub feedback: Option<Spanned<String>>,
    /// What the simulated field device answers to an operate.
    #[serde(default)]
    pub answer: AnswerName,
    /// An initial local tag: `"close-only"` or `"open-and-close"` (no client may change it).
    pub tag: Option<Spanned<String>>,
    /// Why the local tag is set.
    pub tag_reason: Option<Spanned<String>>,
}

/// `kind = "command" | "discrete-setpoint" | "real-setpoint"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceKindName {
    /// A command (INT16: 0 off, 1 on).
    Command,
    /// A discrete setpoint (INT16).
    DiscreteSetpoint,
    /// A real setpoint (FLOAT32).
    RealSetpoint,
}

/// `mode = "direct" | "sbo"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModeName {
    /// A write of the device operates at once.
    #[default]
    Direct,
    /// Select-before-operate.
    Sbo,
}

/// `answer = "accept" | "refuse" | "ignore"`: what the simulated field device does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AnswerName {
    /// The operate succeeds (and sets the feedback point).
    #[default]
    Accept,
    /// The device fails: the client gets hardware-fault.
    Refuse,
    /// No answer: the operate times out (temporarily-unavailable).
    Ignore,
}

/// A point (`[[vcc.point]]` or `[[domain.point]]`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointSection {
    /// Its MMS name.
    pub name: Spanned<String>,
    /// Its type, `Data_RealQTimeTag` or `RealQTimeTag`.
    #[serde(rename = "type")]
    pub ptype: Spanned<String>,
    /// Initial value: a number for real, discrete and state-supplemental points and for the event
    /// flags of protection events; `"on"`, `"off"`, `"between"` or `"invalid"` for states.
    pub value: Option<Spanned<toml::Value>>,
    /// Quality flags: an octet (0-255) or words such as `"suspect,estimated,off-normal"`.
    pub flags: Option<Spanned<toml::Value>>,
    /// Initial timestamp, seconds since 1970 UTC (default: when the server starts).
    pub timestamp: Option<Spanned<i64>>,
    /// Whether clients may write it (given the bilateral table's write right).
    #[serde(default)]
    pub writable: bool,
}

/// A predefined data set.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSetSection {
    /// Its name.
    pub name: Spanned<String>,
    /// Members: item names in the same scope, or `/Name` for a VCC object.
    pub members: Vec<Spanned<String>>,
}

/// `[[bilateral_table]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableSection {
    /// `Bilateral_Table_ID`.
    pub id: Spanned<String>,
    /// Who the client is.
    pub client: ClientSection,
    /// The client's ICC domain.
    pub domain: Spanned<String>,
    /// Rights on objects `rights` does not list.
    #[serde(default)]
    pub default_rights: RightsName,
    /// Rights per object: the item name for objects of the domain, `/Name` for VCC objects.
    #[serde(default)]
    pub rights: BTreeMap<String, RightsName>,
    /// The information messages the client receives.
    #[serde(default)]
    pub info_messages: Vec<InfoGrantSection>,
    /// CheckBackIDs this client gets for devices (keys as in `rights`), instead of the device's
    /// own.
    pub check_back_ids: Option<Spanned<BTreeMap<String, i16>>>,
    /// The TLS client certificate the client must have (secure ICCP).
    pub certificate: Option<Spanned<CertificateSection>>,
    /// The ACSE password the client's AARQ must carry.
    pub password: Option<String>,
}

/// A table's `certificate`: every key given must match.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateSection {
    /// The subject's common name, or its whole DN (`O=Utility A, CN=iccp-client-1`).
    pub subject: Option<String>,
    /// SHA-256 fingerprints admitted (hex, `:` optional; any of them).
    #[serde(default)]
    pub fingerprints: Vec<String>,
}

/// One entry of a table's `info_messages`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InfoGrantSection {
    /// `"vcc"` or `"icc"`.
    pub scope: ScopeName,
    /// The InfoReference admitted.
    pub info_reference: i32,
    /// The LocalReference admitted (any if unset).
    pub local_reference: Option<i32>,
}

/// `scope = "vcc" | "icc"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScopeName {
    /// VCC scope (VMD-specific objects).
    Vcc,
    /// The client's ICC domain.
    Icc,
}

/// `client = { ... }` of a bilateral table. Unset fields match anything.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSection {
    /// Calling AP-title.
    pub ap_title: Option<Spanned<String>>,
    /// Calling AE-qualifier.
    pub ae_qualifier: Option<i64>,
    /// Calling presentation selector, hex.
    pub p_selector: Option<Spanned<String>>,
    /// Calling session selector, hex.
    pub s_selector: Option<Spanned<String>>,
    /// Calling transport selector, hex.
    pub t_selector: Option<Spanned<String>>,
}

/// `"read" | "read-write" | "none"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RightsName {
    /// Read only.
    #[default]
    Read,
    /// Read and write.
    ReadWrite,
    /// Neither: the object does not exist for the client.
    None,
}

/// `[simulation]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulationSection {
    /// Milliseconds between steps.
    #[serde(default = "default_period")]
    pub period_ms: Spanned<u64>,
    /// Seed of the pseudo-random generator (the same seed gives the same sequence).
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// `[[simulation.point]]`.
    #[serde(default, rename = "point")]
    pub points: Vec<Spanned<SimPointSection>>,
    /// `[[simulation.info_message]]`.
    #[serde(default, rename = "info_message")]
    pub info_messages: Vec<Spanned<SimInfoSection>>,
}

/// `[[simulation.info_message]]`: an information message sent periodically.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimInfoSection {
    /// The ICC domain (VCC scope if unset).
    pub domain: Option<Spanned<String>>,
    /// Seconds between messages.
    pub every_s: Spanned<u64>,
    /// The header's InfoReference.
    pub info_reference: i32,
    /// The header's LocalReference.
    #[serde(default)]
    pub local_reference: i32,
    /// A text message; `{n}` is replaced by the running message number (also the MessageId).
    pub text: Option<Spanned<String>>,
    /// A binary message, in hex (whitespace allowed).
    pub hex: Option<Spanned<String>>,
}

fn default_period() -> Spanned<u64> {
    Spanned::new(0..0, 1000)
}

fn default_seed() -> u64 {
    1
}

/// `[[simulation.point]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimPointSection {
    /// The point: `DOMAIN/Name` or `/Name` for VCC.
    pub name: Spanned<String>,
    /// What it does.
    pub behaviour: BehaviourName,
    /// Walk: lowest value.
    pub min: Option<f64>,
    /// Walk: highest value.
    pub max: Option<f64>,
    /// Walk: largest change per step.
    pub step: Option<f64>,
    /// Toggle: chance per step that the state flips (0-1).
    pub probability: Option<f64>,
}

/// `behaviour = "walk" | "toggle"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BehaviourName {
    /// Random walk (real and discrete points).
    Walk,
    /// Flip between on and off (state points).
    Toggle,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<File, ConfigError> {
        Source {
            text,
            origin: "t.toml",
        }
        .parse()
    }

    #[test]
    fn syntax_errors_name_file_line_and_column() {
        let e = parse("[server]\nap_title = \"1.1.1.998\"\nedition = \"2001\"\n").unwrap_err();
        assert_eq!(e.at, Some((3, 11)), "{e}");
        assert!(e.to_string().starts_with("t.toml:3:11: "), "{e}");
        let e = parse("[server]\nlisten = 5\n").unwrap_err();
        assert_eq!(e.at.map(|a| a.0), Some(2), "{e}");
        let e = parse("[[domain]]\nname = \"A\"\ntransfer_set = 3\n").unwrap_err();
        assert!(e.message.contains("transfer_set"), "{e}");
        assert_eq!(e.at.map(|a| a.0), Some(3), "{e}");
    }

    #[test]
    fn an_empty_file_is_an_empty_model() {
        let f = parse("").unwrap();
        assert_eq!(f.server.listen, "0.0.0.0:102");
        assert!(f.domains.is_empty() && f.tables.is_empty() && f.simulation.is_none());
    }
}
