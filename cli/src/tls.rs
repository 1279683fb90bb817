//! `--tls-*` options of `tase2 serve` and every client command: secure ICCP (IEC 62351-4).

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use tase2_cli::config::TlsSection;
use tase2_tls::{KeyUpdatePolicy, TlsSettings, Versions};

/// Seconds between looks at the CRL files of `tase2 serve` (by default).
pub const CRL_CHECK_S: u64 = 60;

/// `tase2 serve`: look at the CRL files every `every`; when one changed (time or size), build
/// the configuration again and reload it: new handshakes check the new CRLs, live connections
/// are checked again (closed if revoked) and renew their TLS 1.3 keys.
pub async fn watch_crls(
    settings: TlsSettings,
    reload: tase2_tokio::tls::TlsReload,
    every: Duration,
) {
    let stamp = |s: &TlsSettings| -> Vec<Option<(std::time::SystemTime, u64)>> {
        s.crls
            .iter()
            .map(|p| {
                std::fs::metadata(p)
                    .ok()
                    .and_then(|m| Some((m.modified().ok()?, m.len())))
            })
            .collect()
    };
    let mut last = stamp(&settings);
    loop {
        tokio::time::sleep(every).await;
        let now = stamp(&settings);
        if now == last {
            continue;
        }
        last = now;
        match tase2_tokio::tls::ServerTls::from_settings(&settings) {
            Ok(tls) => {
                println!("TLS: the CRLs changed: reloaded; live connections checked again and their TLS 1.3 keys renewed");
                if !reload.reload(tls) {
                    return;
                }
            }
            Err(e) => eprintln!(
                "tase2: TLS: the CRLs changed but cannot be used, keeping the old ones: {e}"
            ),
        }
    }
}

/// TLS options. Any of `--tls-cert`, `--tls-key`, `--tls-ca` turns TLS on.
#[derive(Args, Clone, Debug, Default)]
pub struct TlsArgs {
    /// TLS: our certificate chain (PEM). A server needs one; a client sends it when the server
    /// asks (mutual authentication, the default of `tase2 serve`).
    #[arg(long, value_name = "PEM")]
    pub tls_cert: Option<PathBuf>,
    /// TLS: the private key of --tls-cert (PEM).
    #[arg(long, value_name = "PEM")]
    pub tls_key: Option<PathBuf>,
    /// TLS: CA certificates whose peers we accept (PEM; repeat for more files).
    #[arg(long, value_name = "PEM")]
    pub tls_ca: Vec<PathBuf>,
    /// TLS: a certificate revocation list (PEM; repeat for more). With any CRL, a peer whose
    /// issuer has none is refused.
    #[arg(long, value_name = "PEM")]
    pub tls_crl: Vec<PathBuf>,
    /// TLS: accept only the peer certificate with this SHA-256 fingerprint (hex, `:` optional;
    /// repeat for more), on top of the CA check.
    #[arg(long, value_name = "SHA256")]
    pub tls_pin: Vec<String>,
    /// TLS versions: 1.2, 1.3 or 1.2,1.3 (the default).
    #[arg(long, value_name = "LIST")]
    pub tls_versions: Option<String>,
    /// TLS cipher suites by IANA name, comma-separated (default: the IEC 62351-3:2023 and
    /// IEC 62351-4:2018 AES-GCM suites).
    #[arg(long, value_name = "LIST")]
    pub tls_suites: Option<String>,
    /// Client: the name the server's certificate must carry (default: the host connected to).
    #[arg(long, value_name = "NAME")]
    pub tls_server_name: Option<String>,
    /// Renew TLS 1.3 keys (KeyUpdate) after this many seconds.
    #[arg(long, value_name = "S")]
    pub tls_key_update_s: Option<u64>,
    /// Renew TLS 1.3 keys after this many octets sent.
    #[arg(long, value_name = "OCTETS")]
    pub tls_key_update_bytes: Option<u64>,
    /// Server: TLS 1.3 session tickets per handshake (default 2). 0 lets libiec61850 1.6
    /// clients in over TLS 1.3 (they drop the connection on a ticket), without TLS 1.3
    /// resumption.
    #[arg(long, value_name = "N")]
    pub tls13_tickets: Option<usize>,
    /// Server: seconds between looks at the CRL files (default 60; 0: never); a change reloads
    /// them, checks live connections again and renews their TLS 1.3 keys.
    #[arg(long, value_name = "S")]
    pub tls_crl_check_s: Option<u64>,
}

impl TlsArgs {
    fn given(&self) -> bool {
        self.tls_cert.is_some() || self.tls_key.is_some() || !self.tls_ca.is_empty()
    }

    /// The settings of a client command, `None` without TLS.
    pub fn client(&self) -> Result<Option<TlsSettings>, String> {
        if !self.given() {
            return Ok(None);
        }
        self.settings(TlsSettings::default()).map(Some)
    }

    /// The settings of `tase2 serve`: the config file's `[server.tls]` (paths relative to
    /// `base`), overridden by the options; `None` without TLS.
    pub fn server(
        &self,
        file: Option<&TlsSection>,
        base: &Path,
    ) -> Result<Option<TlsSettings>, String> {
        if !self.given() && file.is_none() {
            return Ok(None);
        }
        let mut s = TlsSettings::default();
        if let Some(f) = file {
            let path = |p: &String| base.join(p);
            s.cert = f.cert.as_ref().map(path);
            s.key = f.key.as_ref().map(path);
            s.ca = f.ca.iter().map(path).collect();
            s.crls = f.crl.iter().map(path).collect();
            s.pinned = pins(&f.pinned)?;
            if let Some(v) = &f.versions {
                s.versions = Versions::parse(&v.join(",")).map_err(|e| e.to_string())?;
            }
            s.suites = f.suites.clone().unwrap_or_default();
            s.optional_client_auth = f.optional_client_auth;
            s.key_update = KeyUpdatePolicy {
                after: f.key_update_s.map(Duration::from_secs),
                after_bytes: f.key_update_bytes,
            };
            s.tls13_tickets = f.tls13_tickets;
        }
        self.settings(s).map(Some)
    }

    fn settings(&self, mut s: TlsSettings) -> Result<TlsSettings, String> {
        if let Some(c) = &self.tls_cert {
            s.cert = Some(c.clone());
        }
        if let Some(k) = &self.tls_key {
            s.key = Some(k.clone());
        }
        if !self.tls_ca.is_empty() {
            s.ca = self.tls_ca.clone();
        }
        if !self.tls_crl.is_empty() {
            s.crls = self.tls_crl.clone();
        }
        if !self.tls_pin.is_empty() {
            s.pinned = pins(&self.tls_pin)?;
        }
        if let Some(v) = &self.tls_versions {
            s.versions = Versions::parse(v).map_err(|e| e.to_string())?;
        }
        if let Some(list) = &self.tls_suites {
            s.suites = list
                .split(',')
                .map(|x| x.trim().to_owned())
                .filter(|x| !x.is_empty())
                .collect();
        }
        if self.tls_server_name.is_some() {
            s.server_name = self.tls_server_name.clone();
        }
        if let Some(t) = self.tls_key_update_s {
            s.key_update.after = Some(Duration::from_secs(t));
        }
        if let Some(b) = self.tls_key_update_bytes {
            s.key_update.after_bytes = Some(b);
        }
        if self.tls13_tickets.is_some() {
            s.tls13_tickets = self.tls13_tickets;
        }
        Ok(s)
    }
}

fn pins(list: &[String]) -> Result<Vec<[u8; 32]>, String> {
    list.iter()
        .map(|p| {
            tase2_core::server::parse_fingerprint(p)
                .ok_or_else(|| format!("not a SHA-256 fingerprint (64 hex digits): {p:?}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_config_gives_its_tls_settings_and_options_override_them() {
        let text = include_str!("../../examples/tls/serve-tls.toml");
        let m = tase2_cli::model::load(text, "serve-tls.toml", Default::default()).unwrap();
        let section = m.tls.as_ref().expect("[server.tls]");
        let base = Path::new("examples/tls");
        let s = TlsArgs::default()
            .server(Some(section), base)
            .unwrap()
            .unwrap();
        assert_eq!(s.cert, Some(base.join("../../build/tls-certs/server.pem")));
        assert_eq!(s.ca, [base.join("../../build/tls-certs/ca.pem")]);
        assert_eq!(s.crls.len(), 1);
        assert_eq!(s.versions, Versions::default());
        assert_eq!(s.key_update.after, Some(Duration::from_secs(3600)));
        assert_eq!(s.key_update.after_bytes, Some(1 << 30));
        assert!(!s.optional_client_auth);
        let args = TlsArgs {
            tls_cert: Some("mine.pem".into()),
            tls_versions: Some("1.3".into()),
            tls13_tickets: Some(0),
            ..TlsArgs::default()
        };
        let s = args.server(Some(section), base).unwrap().unwrap();
        assert_eq!(s.cert, Some(PathBuf::from("mine.pem")));
        assert!(!s.versions.tls12 && s.versions.tls13);
        assert_eq!(s.tls13_tickets, Some(0));
        // No section and no option: plain TCP.
        assert!(TlsArgs::default().server(None, base).unwrap().is_none());
        assert!(TlsArgs::default().client().unwrap().is_none());
        let pins = TlsArgs {
            tls_ca: vec!["ca.pem".into()],
            tls_pin: vec!["zz".into()],
            ..TlsArgs::default()
        };
        assert!(pins.client().unwrap_err().contains("fingerprint"));
    }
}
