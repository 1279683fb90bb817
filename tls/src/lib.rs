//! Secure ICCP: the TLS configuration (IEC 62351-3 and IEC 62351-4) that the tokio and mio
//! drivers share, so it is written once.
//!
//! TLS runs in the drivers, around the octets the sans-IO core sends and receives; the core never
//! sees it except for the peer's verified identity ([`peer_identity`], handed to
//! `Endpoint::authenticate`), which a bilateral table may bind a client to. This crate builds
//! [`rustls`] configurations from PEM files ([`TlsSettings`]): our certificate chain and key, the
//! CAs we trust, CRLs, optional pinning of the peer certificates allowed, the protocol versions
//! and cipher suites, and the `SSLKEYLOGFILE` key log.
//!
//! Defaults are the profile of IEC 62351-3:2023 and IEC 62351-4:2018:
//!
//! - TLS 1.2 and TLS 1.3 both on;
//! - TLS 1.3 suites `TLS_AES_128_GCM_SHA256` and `TLS_AES_256_GCM_SHA384`; TLS 1.2 suites
//!   `TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256` (the one IEC 62351-4:2018 mandates that rustls
//!   implements), `TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384` and their ECDSA twins;
//! - mutual authentication: a server asks for and requires a client certificate chaining to one
//!   of the CAs, a client verifies the server's chain and name; time validity is always checked,
//!   revocation against the CRLs given (a certificate whose status no CRL covers is refused once
//!   any CRL is configured);
//! - session resumption: rustls's in-memory caches (256 sessions), stateful on the server,
//!   tickets for TLS 1.3 on the client;
//! - the key log of `SSLKEYLOGFILE` when that variable is set (so tshark can decrypt a capture).
//!
//! What rustls does not do, and so neither do we: TLS renegotiation (IEC 62351-3 asks for it to
//! renew TLS 1.2 session keys; rustls refuses renegotiation on principle, as a source of
//! attacks such as the 2009 renegotiation injection; TLS 1.3 replaces it with KeyUpdate, see
//! [`KeyUpdatePolicy`]), CBC cipher suites (not implemented by rustls: padding-oracle history),
//! TLS 1.0 and 1.1, and non-ECDHE key exchange.

#![forbid(unsafe_code)]

mod der;
mod verify;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer, ServerName};
use rustls::{CertificateError, RootCertStore, SupportedCipherSuite, SupportedProtocolVersion};

pub use rustls;
pub use tase2_core::server::PeerIdentity;

/// The TCP port of secure ICCP (IEC 62351-4: ISO-TSAP over TLS).
pub const SECURE_ICCP_PORT: u16 = 3782;

/// The cipher suites used unless [`TlsSettings::suites`] names others: IEC 62351-3:2023 for TLS
/// 1.3, IEC 62351-4:2018 (and its recommended AES-256 companions) for TLS 1.2.
pub const DEFAULT_SUITES: [&str; 6] = [
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
];

/// Which TLS versions to offer or accept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Versions {
    /// TLS 1.2.
    pub tls12: bool,
    /// TLS 1.3.
    pub tls13: bool,
}

impl Default for Versions {
    fn default() -> Self {
        Versions {
            tls12: true,
            tls13: true,
        }
    }
}

impl Versions {
    /// Parse `"1.2"`, `"1.3"` or a list of them (`"1.2,1.3"`).
    pub fn parse(s: &str) -> Result<Versions, TlsError> {
        let mut v = Versions {
            tls12: false,
            tls13: false,
        };
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part {
                "1.2" | "TLSv1.2" | "tls1.2" => v.tls12 = true,
                "1.3" | "TLSv1.3" | "tls1.3" => v.tls13 = true,
                other => {
                    return Err(TlsError::Config(format!(
                        "unknown TLS version {other:?} (1.2 or 1.3; rustls has no older ones)"
                    )))
                }
            }
        }
        if !v.tls12 && !v.tls13 {
            return Err(TlsError::Config("no TLS version given".into()));
        }
        Ok(v)
    }
}

static KEY_UPDATES: AtomicU64 = AtomicU64::new(0);

/// TLS 1.3 key renewals this process started ([`KeyUpdateTimer`]), across connections: a
/// figure for diagnostics and tests.
pub fn key_updates_total() -> u64 {
    KEY_UPDATES.load(Ordering::Relaxed)
}

/// When a TLS 1.3 connection renews its traffic keys (KeyUpdate, RFC 8446 §4.6.3), the TLS 1.3
/// stand-in for the renegotiation IEC 62351-3 asks for. A TLS 1.2 connection cannot renew its
/// keys with rustls (no renegotiation); the policy does nothing there.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeyUpdatePolicy {
    /// After this long since the handshake or the last update.
    pub after: Option<Duration>,
    /// After this many octets sent (plaintext) since the handshake or the last update.
    pub after_bytes: Option<u64>,
}

/// Tracks one connection against a [`KeyUpdatePolicy`].
#[derive(Clone, Debug)]
pub struct KeyUpdateTimer {
    policy: KeyUpdatePolicy,
    since: Instant,
    sent: u64,
    updates: u64,
}

impl KeyUpdateTimer {
    /// Start counting at `now` (the end of the handshake).
    pub fn new(policy: KeyUpdatePolicy, now: Instant) -> KeyUpdateTimer {
        KeyUpdateTimer {
            policy,
            since: now,
            sent: 0,
            updates: 0,
        }
    }

    /// `n` octets were handed to TLS to send.
    pub fn sent(&mut self, n: usize) {
        self.sent = self.sent.saturating_add(n as u64);
    }

    /// Whether the keys are due for renewal at `now`.
    pub fn due(&self, now: Instant) -> bool {
        self.policy.after.is_some_and(|d| now >= self.since + d)
            || self.policy.after_bytes.is_some_and(|b| self.sent >= b)
    }

    /// When [`Self::due`] turns true by time alone.
    pub fn deadline(&self) -> Option<Instant> {
        self.policy.after.map(|d| self.since + d)
    }

    /// The keys were renewed at `now`.
    pub fn renewed(&mut self, now: Instant) {
        self.since = now;
        self.sent = 0;
        self.updates += 1;
        KEY_UPDATES.fetch_add(1, Ordering::Relaxed);
    }

    /// Start counting again at `now` (the end of the handshake), without counting an update.
    pub fn restart(&mut self, now: Instant) {
        self.since = now;
        self.sent = 0;
    }

    /// How many times the keys were renewed.
    pub fn updates(&self) -> u64 {
        self.updates
    }

    /// [`Self::maybe_update`] for a connection of either role.
    pub fn maybe_update_any(
        &mut self,
        now: Instant,
        conn: &mut rustls::Connection,
    ) -> Result<bool, rustls::Error> {
        if !self.due(now) || conn.protocol_version() != Some(rustls::ProtocolVersion::TLSv1_3) {
            return Ok(false);
        }
        conn.refresh_traffic_keys()?;
        self.renewed(now);
        tracing::debug!(
            updates = self.updates,
            "TLS 1.3 traffic keys renewed (KeyUpdate)"
        );
        Ok(true)
    }

    /// Renew `conn`'s keys if they are due and it runs TLS 1.3 (rustls queues the KeyUpdate
    /// message; the driver writes it out with its next `write_tls`). Returns whether it did.
    pub fn maybe_update<D>(
        &mut self,
        now: Instant,
        conn: &mut rustls::ConnectionCommon<D>,
    ) -> Result<bool, rustls::Error> {
        if !self.due(now) || conn.protocol_version() != Some(rustls::ProtocolVersion::TLSv1_3) {
            return Ok(false);
        }
        conn.refresh_traffic_keys()?;
        self.renewed(now);
        tracing::debug!(
            updates = self.updates,
            "TLS 1.3 traffic keys renewed (KeyUpdate)"
        );
        Ok(true)
    }
}

/// A TLS server's configuration as a driver takes it: the rustls config and the TLS 1.3 key
/// renewal policy.
#[derive(Clone, Debug)]
pub struct ServerTls {
    /// The rustls configuration ([`server_config`]).
    pub config: Arc<rustls::ServerConfig>,
    /// When TLS 1.3 connections renew their keys.
    pub key_update: KeyUpdatePolicy,
    /// The client certificate verifier inside `config` (CAs, CRLs, pins), to check a live
    /// connection's certificate again when the CRLs change ([`Self::recheck`]).
    pub verifier: Arc<dyn rustls::server::danger::ClientCertVerifier>,
}

impl ServerTls {
    /// Build from settings (PEM files and options).
    pub fn from_settings(settings: &TlsSettings) -> Result<ServerTls, TlsError> {
        let (config, verifier) = server_config_and_verifier(settings)?;
        Ok(ServerTls {
            config,
            key_update: settings.key_update,
            verifier,
        })
    }

    /// Check a live connection's peer chain (end-entity first, as
    /// `peer_certificates` gives it) against this configuration, at the present time: after a
    /// reload with new CRLs, a certificate they revoke fails here. A connection without a
    /// client certificate passes when this configuration lets such clients in.
    pub fn recheck(&self, chain: Option<&[CertificateDer<'_>]>) -> Result<(), rustls::Error> {
        match chain.and_then(|c| c.split_first()) {
            Some((end_entity, intermediates)) => self
                .verifier
                .verify_client_cert(
                    end_entity,
                    intermediates,
                    rustls::pki_types::UnixTime::now(),
                )
                .map(|_| ()),
            None if self.verifier.client_auth_mandatory() => {
                Err(rustls::Error::NoCertificatesPresented)
            }
            None => Ok(()),
        }
    }
}

/// A TLS client's configuration as a driver takes it.
#[derive(Clone, Debug)]
pub struct ClientTls {
    /// The rustls configuration ([`client_config`]).
    pub config: Arc<rustls::ClientConfig>,
    /// The name the server's certificate must carry; `None`: the host connected to.
    pub server_name: Option<String>,
    /// When the connection renews its keys (TLS 1.3).
    pub key_update: KeyUpdatePolicy,
}

impl ClientTls {
    /// Build from settings (PEM files and options).
    pub fn from_settings(settings: &TlsSettings) -> Result<ClientTls, TlsError> {
        Ok(ClientTls {
            config: client_config(settings)?,
            server_name: settings.server_name.clone(),
            key_update: settings.key_update,
        })
    }

    /// The server name to verify for a connection to `addr` (`host:port`).
    pub fn server_name_for(&self, addr: &str) -> Result<ServerName<'static>, TlsError> {
        let host = match &self.server_name {
            Some(n) => n.as_str(),
            None => host_of(addr),
        };
        ServerName::try_from(host.to_owned())
            .map_err(|e| TlsError::Config(format!("server name {host:?}: {e}")))
    }
}

/// What to build a TLS configuration from. Paths are PEM files.
#[derive(Clone, Debug, Default)]
pub struct TlsSettings {
    /// Our certificate chain (end-entity first). A server needs one; a client sends it when the
    /// server asks (mutual authentication).
    pub cert: Option<PathBuf>,
    /// The private key of [`Self::cert`] (PKCS#8, PKCS#1 or SEC1).
    pub key: Option<PathBuf>,
    /// Files of the CA certificates whose peers we accept.
    pub ca: Vec<PathBuf>,
    /// Files of certificate revocation lists of those CAs.
    pub crls: Vec<PathBuf>,
    /// SHA-256 fingerprints of the only peer certificates allowed (on top of the chain check);
    /// empty: any the CAs vouch for.
    pub pinned: Vec<[u8; 32]>,
    /// Versions; both by default.
    pub versions: Versions,
    /// Cipher suites by IANA name (`TLS_AES_128_GCM_SHA256`, `TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`,
    /// ...); empty: [`DEFAULT_SUITES`].
    pub suites: Vec<String>,
    /// Server: let a client without a certificate in (it then has no identity for the bilateral
    /// tables). Off by default: mutual authentication.
    pub optional_client_auth: bool,
    /// Client: the name the server's certificate must carry (a DNS name or an IP address);
    /// `None`: the host we connect to.
    pub server_name: Option<String>,
    /// Write the session keys to `SSLKEYLOGFILE` when that variable is set. On by default.
    pub no_key_log: bool,
    /// TLS 1.3 key renewal.
    pub key_update: KeyUpdatePolicy,
    /// Server: TLS 1.3 session tickets sent after a handshake (`None`: rustls's 2). They are
    /// how a TLS 1.3 client resumes; 0 turns TLS 1.3 resumption off, for clients that fail on
    /// a post-handshake NewSessionTicket (libiec61850 1.6 over mbedtls 3 does: its read returns
    /// MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET and it drops the connection).
    pub tls13_tickets: Option<usize>,
}

/// Why a TLS configuration could not be built, or a handshake failed.
#[derive(Debug)]
pub enum TlsError {
    /// A file could not be read.
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        error: io::Error,
    },
    /// A file holds no usable PEM object of the kind wanted.
    Pem {
        /// The file.
        path: PathBuf,
        /// What was wanted and what went wrong.
        what: String,
    },
    /// The settings do not make a configuration.
    Config(String),
    /// rustls refused the configuration.
    Rustls(rustls::Error),
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsError::Io { path, error } => write!(f, "{}: {error}", path.display()),
            TlsError::Pem { path, what } => write!(f, "{}: {what}", path.display()),
            TlsError::Config(m) => f.write_str(m),
            TlsError::Rustls(e) => write!(f, "TLS configuration refused: {e}"),
        }
    }
}

impl std::error::Error for TlsError {}

impl From<TlsError> for io::Error {
    fn from(e: TlsError) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidInput, e.to_string())
    }
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|error| TlsError::Io {
        path: path.to_owned(),
        error,
    })
}

/// Every certificate in a PEM file.
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    load_all(path, "certificates", "CERTIFICATE")
}

/// The private key in a PEM file.
pub fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let data = read(path)?;
    PrivateKeyDer::from_pem_slice(&data).map_err(|e| TlsError::Pem {
        path: path.to_owned(),
        what: format!("a private key: {e}"),
    })
}

/// Every CRL in a PEM file.
pub fn load_crls(path: &Path) -> Result<Vec<CertificateRevocationListDer<'static>>, TlsError> {
    load_all(path, "CRLs", "X509 CRL")
}

/// Every `label` section of a PEM file, at least one (`what` names them in an error).
fn load_all<T: PemObject>(path: &Path, what: &str, label: &str) -> Result<Vec<T>, TlsError> {
    let data = read(path)?;
    let all = T::pem_slice_iter(&data)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Pem {
            path: path.to_owned(),
            what: format!("{what}: {e}"),
        })?;
    if all.is_empty() {
        return Err(TlsError::Pem {
            path: path.to_owned(),
            what: format!("no {label} in the file"),
        });
    }
    Ok(all)
}

/// ring's provider with the cipher suites of `names` (or [`DEFAULT_SUITES`]) in that order.
pub fn provider(names: &[String]) -> Result<Arc<CryptoProvider>, TlsError> {
    let all = rustls::crypto::ring::default_provider();
    let wanted: Vec<&str> = if names.is_empty() {
        DEFAULT_SUITES.to_vec()
    } else {
        names.iter().map(String::as_str).collect()
    };
    let mut suites = Vec::new();
    for name in wanted {
        let found = all
            .cipher_suites
            .iter()
            .find(|s| suite_name(s) == name)
            .ok_or_else(|| {
                TlsError::Config(format!(
                    "unknown cipher suite {name:?} (rustls with ring has: {})",
                    all.cipher_suites
                        .iter()
                        .map(suite_name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
        suites.push(*found);
    }
    Ok(Arc::new(CryptoProvider {
        cipher_suites: suites,
        ..all
    }))
}

/// A suite's IANA name (`TLS_AES_128_GCM_SHA256`; rustls calls the TLS 1.3 ones `TLS13_...`).
pub fn suite_name(s: &SupportedCipherSuite) -> String {
    let raw = s.suite().as_str().unwrap_or("unknown");
    match raw.strip_prefix("TLS13_") {
        Some(rest) => format!("TLS_{rest}"),
        None => raw.to_owned(),
    }
}

fn versions(v: Versions) -> Vec<&'static SupportedProtocolVersion> {
    let mut out = Vec::new();
    if v.tls13 {
        out.push(&rustls::version::TLS13);
    }
    if v.tls12 {
        out.push(&rustls::version::TLS12);
    }
    out
}

fn roots(settings: &TlsSettings) -> Result<Arc<RootCertStore>, TlsError> {
    if settings.ca.is_empty() {
        return Err(TlsError::Config(
            "no CA certificate given (--tls-ca): peers cannot be verified".into(),
        ));
    }
    let mut store = RootCertStore::empty();
    for path in &settings.ca {
        for cert in load_certs(path)? {
            store.add(cert).map_err(|e| TlsError::Pem {
                path: path.clone(),
                what: format!("not a usable CA certificate: {e}"),
            })?;
        }
    }
    Ok(Arc::new(store))
}

fn crls(settings: &TlsSettings) -> Result<Vec<CertificateRevocationListDer<'static>>, TlsError> {
    let mut out = Vec::new();
    for path in &settings.crls {
        out.extend(load_crls(path)?);
    }
    Ok(out)
}

fn own(
    settings: &TlsSettings,
) -> Result<Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>, TlsError> {
    match (&settings.cert, &settings.key) {
        (Some(c), Some(k)) => Ok(Some((load_certs(c)?, load_key(k)?))),
        (None, None) => Ok(None),
        (Some(_), None) => Err(TlsError::Config(
            "a certificate without its key (--tls-key)".into(),
        )),
        (None, Some(_)) => Err(TlsError::Config(
            "a key without its certificate (--tls-cert)".into(),
        )),
    }
}

fn key_log(settings: &TlsSettings) -> Arc<dyn rustls::KeyLog> {
    if settings.no_key_log {
        Arc::new(rustls::NoKeyLog)
    } else {
        // Writes only when SSLKEYLOGFILE is set.
        Arc::new(rustls::KeyLogFile::new())
    }
}

/// A server configuration: our chain and key, client certificates required (unless
/// [`TlsSettings::optional_client_auth`]) and verified against the CAs, CRLs and pins.
pub fn server_config(settings: &TlsSettings) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    server_config_and_verifier(settings).map(|(c, _)| c)
}

type Verifier = Arc<dyn rustls::server::danger::ClientCertVerifier>;

fn server_config_and_verifier(
    settings: &TlsSettings,
) -> Result<(Arc<rustls::ServerConfig>, Verifier), TlsError> {
    let provider = provider(&settings.suites)?;
    let (chain, key) = own(settings)?.ok_or_else(|| {
        TlsError::Config("a TLS server needs a certificate and key (--tls-cert, --tls-key)".into())
    })?;
    let mut builder = rustls::server::WebPkiClientVerifier::builder_with_provider(
        roots(settings)?,
        provider.clone(),
    )
    .with_crls(crls(settings)?);
    if settings.optional_client_auth {
        builder = builder.allow_unauthenticated();
    }
    let webpki = builder
        .build()
        .map_err(|e| TlsError::Config(format!("client verifier: {e}")))?;
    let verifier = verify::PinnedClient::new(webpki, settings.pinned.clone());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions(settings.versions))
        .map_err(TlsError::Rustls)?
        .with_client_cert_verifier(verifier.clone())
        .with_single_cert(chain, key)
        .map_err(TlsError::Rustls)?;
    config.key_log = key_log(settings);
    if let Some(n) = settings.tls13_tickets {
        config.send_tls13_tickets = n;
    }
    Ok((Arc::new(config), verifier))
}

/// A client configuration: the server's chain verified against the CAs, CRLs and pins; our
/// chain and key sent when the server asks, if given.
pub fn client_config(settings: &TlsSettings) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    let provider = provider(&settings.suites)?;
    let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(
        roots(settings)?,
        provider.clone(),
    )
    .with_crls(crls(settings)?)
    .build()
    .map_err(|e| TlsError::Config(format!("server verifier: {e}")))?;
    let verifier = verify::PinnedServer::new(webpki, settings.pinned.clone());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions(settings.versions))
        .map_err(TlsError::Rustls)?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match own(settings)? {
        Some((chain, key)) => builder
            .with_client_auth_cert(chain, key)
            .map_err(TlsError::Rustls)?,
        None => builder.with_no_client_auth(),
    };
    config.key_log = key_log(settings);
    Ok(Arc::new(config))
}

fn host_of(addr: &str) -> &str {
    if let Some(rest) = addr.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match addr.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') && p.parse::<u16>().is_ok() => h,
        _ => addr,
    }
}

/// The verified identity of the peer of a connection whose handshake is done: subject, common
/// name and SHA-256 fingerprint of its end-entity certificate. `None` if it sent none.
pub fn peer_identity<D>(conn: &rustls::ConnectionCommon<D>) -> Option<PeerIdentity> {
    let cert = conn.peer_certificates()?.first()?;
    Some(identity_of(cert))
}

/// The identity of one certificate (its subject parsed from the DER; a certificate whose
/// subject cannot be parsed gets an empty one, and its fingerprint still binds it).
pub fn identity_of(cert: &CertificateDer<'_>) -> PeerIdentity {
    let fingerprint = fingerprint(cert);
    let (subject, common_name) = der::subject(cert.as_ref()).unwrap_or_default();
    PeerIdentity {
        subject,
        common_name,
        fingerprint,
    }
}

/// SHA-256 of a certificate's DER.
pub fn fingerprint(cert: &CertificateDer<'_>) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, cert.as_ref());
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// What a finished handshake agreed: version, suite and whether the session was resumed, for a
/// log line.
pub fn describe_session<D>(conn: &rustls::ConnectionCommon<D>) -> String {
    let version = match conn.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLS 1.3",
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLS 1.2",
        _ => "TLS ?",
    };
    let suite = conn
        .negotiated_cipher_suite()
        .map(|s| suite_name(&s))
        .unwrap_or_default();
    let kind = match conn.handshake_kind() {
        Some(rustls::HandshakeKind::Resumed) => ", resumed",
        _ => "",
    };
    format!("{version} {suite}{kind}")
}

/// Whether the first octets a client sent are plain RFC 1006 (a TPKT header, version 3) rather
/// than a TLS record: a plain-TCP ICCP client on a TLS port.
pub fn looks_like_tpkt(first: &[u8]) -> bool {
    first.first() == Some(&3) && first.get(1).is_none_or(|b| *b == 0)
}

/// A failed handshake in words: what was wrong with the peer's certificate (unknown CA,
/// expired, revoked, not pinned, ...), or that the peer refused ours.
pub fn describe_error(e: &rustls::Error) -> String {
    use rustls::Error as E;
    match e {
        E::InvalidCertificate(c) => format!("peer certificate refused: {}", describe_cert(c)),
        E::NoCertificatesPresented => {
            "the peer presented no certificate (mutual authentication is required)".into()
        }
        E::AlertReceived(a) => format!(
            "the peer refused the handshake: alert {a:?}{}",
            alert_hint(*a)
        ),
        E::PeerIncompatible(p) => {
            format!("no common TLS version or cipher suite with the peer: {p:?}")
        }
        E::InvalidMessage(m) => format!("the peer sent no valid TLS: {m:?}"),
        other => format!("TLS failed: {other}"),
    }
}

fn alert_hint(a: rustls::AlertDescription) -> &'static str {
    use rustls::AlertDescription as A;
    match a {
        A::UnknownCA => " (it does not trust our CA)",
        A::CertificateExpired => " (our certificate has expired)",
        A::CertificateRevoked => " (our certificate is revoked)",
        A::BadCertificate | A::CertificateUnknown => " (it refused our certificate)",
        A::CertificateRequired => " (it requires a client certificate)",
        A::HandshakeFailure => " (no common cipher suite?)",
        _ => "",
    }
}

fn describe_cert(c: &CertificateError) -> String {
    use CertificateError as C;
    match c {
        C::UnknownIssuer => "issued by an unknown CA".into(),
        C::Expired | C::ExpiredContext { .. } => "expired".into(),
        C::NotValidYet | C::NotValidYetContext { .. } => "not yet valid".into(),
        C::Revoked => "revoked (listed in a CRL)".into(),
        C::UnknownRevocationStatus => "revocation status unknown (no CRL of its issuer)".into(),
        C::ExpiredRevocationList | C::ExpiredRevocationListContext { .. } => {
            "the CRL has expired".into()
        }
        C::NotValidForName | C::NotValidForNameContext { .. } => {
            "not valid for the server name".into()
        }
        C::ApplicationVerificationFailure => "not one of the pinned certificates".into(),
        C::BadSignature => "bad signature".into(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse() {
        assert_eq!(
            Versions::parse("1.2").unwrap(),
            Versions {
                tls12: true,
                tls13: false
            }
        );
        assert_eq!(Versions::parse("1.2, 1.3").unwrap(), Versions::default());
        assert!(Versions::parse("1.1").is_err());
        assert!(Versions::parse("").is_err());
    }

    #[test]
    fn default_suites_exist_in_ring() {
        let p = provider(&[]).unwrap();
        let names: Vec<String> = p.cipher_suites.iter().map(suite_name).collect();
        assert_eq!(names, DEFAULT_SUITES);
        assert!(provider(&["TLS_RSA_WITH_AES_128_CBC_SHA".into()]).is_err());
    }

    #[test]
    fn host_of_addresses() {
        assert_eq!(host_of("127.0.0.1:3782"), "127.0.0.1");
        assert_eq!(host_of("[::1]:3782"), "::1");
        assert_eq!(host_of("iccp.example:102"), "iccp.example");
        assert_eq!(host_of("::1"), "::1");
    }

    #[test]
    fn tpkt_is_told_from_tls() {
        assert!(looks_like_tpkt(&[3, 0, 0, 22]));
        assert!(!looks_like_tpkt(&[0x16, 3, 1]));
    }

    #[test]
    fn key_update_timer_by_bytes_and_time() {
        let t0 = Instant::now();
        let mut t = KeyUpdateTimer::new(
            KeyUpdatePolicy {
                after: Some(Duration::from_secs(10)),
                after_bytes: Some(100),
            },
            t0,
        );
        assert!(!t.due(t0));
        t.sent(100);
        assert!(t.due(t0));
        t.renewed(t0);
        assert!(!t.due(t0 + Duration::from_secs(9)));
        assert!(t.due(t0 + Duration::from_secs(10)));
        assert_eq!(t.updates(), 1);
    }
}
