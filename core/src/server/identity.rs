//! Who a peer proved to be below the association: the certificate it authenticated with in a
//! TLS handshake (IEC 62351-3), as the driver that ran the handshake saw it.
//!
//! The core runs no TLS and parses no certificate: a driver verifies the chain (trust anchors,
//! time, revocation) and hands the endpoint what a bilateral table may bind a client to, with
//! [`Endpoint::authenticate`](super::Endpoint::authenticate), before the first octet of the
//! connection. The endpoint keeps it for the connection's life and checks it at association
//! (`tase2::BilateralTable::certificate`).

use alloc::string::String;
use core::fmt;

use serde::{Deserialize, Serialize};

/// The verified identity of a peer's end-entity certificate.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PeerIdentity {
    /// The subject's distinguished name, RFC 4514 style, most significant RDN first as written
    /// in the certificate (e.g. `C=DE, O=Utility A, CN=iccp-client-1`).
    pub subject: String,
    /// The subject's common name (CN), if it has one.
    pub common_name: Option<String>,
    /// SHA-256 of the certificate's DER encoding.
    pub fingerprint: [u8; 32],
}

impl PeerIdentity {
    /// The fingerprint as colon-separated upper-case hex pairs (`AB:01:...`), as `openssl x509
    /// -fingerprint -sha256` prints it.
    pub fn fingerprint_hex(&self) -> Fingerprint<'_> {
        Fingerprint(&self.fingerprint)
    }
}

/// A SHA-256 fingerprint shown as `AB:01:...` ([`PeerIdentity::fingerprint_hex`]).
pub struct Fingerprint<'a>(pub &'a [u8; 32]);

impl fmt::Display for Fingerprint<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Display for PeerIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (SHA-256 {})", self.subject, self.fingerprint_hex())
    }
}

/// Parse a SHA-256 fingerprint written as 64 hex digits, with or without `:` between pairs.
pub fn parse_fingerprint(s: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    let mut digits = s.chars().filter(|c| *c != ':');
    for b in out.iter_mut() {
        let hi = digits.next()?.to_digit(16)?;
        let lo = digits.next()?.to_digit(16)?;
        *b = (hi * 16 + lo) as u8;
    }
    digits.next().is_none().then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_round_trips_with_and_without_colons() {
        let id = PeerIdentity {
            subject: "CN=a".into(),
            common_name: Some("a".into()),
            fingerprint: core::array::from_fn(|i| i as u8 * 7),
        };
        let shown = alloc::format!("{}", id.fingerprint_hex());
        assert_eq!(&shown[..8], "00:07:0E");
        assert_eq!(parse_fingerprint(&shown), Some(id.fingerprint));
        assert_eq!(
            parse_fingerprint(&shown.replace(':', "")),
            Some(id.fingerprint)
        );
        assert_eq!(parse_fingerprint("00:07"), None);
        assert_eq!(parse_fingerprint(&alloc::format!("{shown}:00")), None);
    }
}
