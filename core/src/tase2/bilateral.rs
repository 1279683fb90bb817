//! Bilateral tables: which client may associate, which ICC domain it gets, and what it may do.
//!
//! A table names its client by ACSE AP-title and AE-qualifier (and, if configured, selectors),
//! binds it to one ICC domain, and grants read / write rights per object. Objects the table does
//! not list get [`BilateralTable::default_rights`]. A device's rights are those of its name: read
//! lets a client read `<Device>` and `<Device>_TAG`; write lets it select (`<Device>_SBO`),
//! operate and tag. Information messages reach a client only if its table admits them
//! ([`BilateralTable::admit_info`]); a table may give a device its own CheckBackID.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use super::info::InfoScope;
use crate::assoc::AssociateRequest;
use crate::ber::ObjectIdentifier;
use crate::server::PeerIdentity;

/// What may be done with one object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rights {
    /// Read it (and put it in data sets).
    pub read: bool,
    /// Write it.
    pub write: bool,
}

impl Rights {
    /// Read only.
    pub const READ: Rights = Rights {
        read: true,
        write: false,
    };
    /// Read and write.
    pub const READ_WRITE: Rights = Rights {
        read: true,
        write: true,
    };
    /// Nothing.
    pub const NONE: Rights = Rights {
        read: false,
        write: false,
    };
}

/// How a client is recognised. `None` fields match anything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientMatch {
    /// Calling AP-title.
    pub ap_title: Option<ObjectIdentifier>,
    /// Calling AE-qualifier.
    pub ae_qualifier: Option<i64>,
    /// Calling presentation selector.
    pub p_selector: Option<Vec<u8>>,
    /// Calling session selector.
    pub s_selector: Option<Vec<u8>>,
    /// Calling transport selector.
    pub t_selector: Option<Vec<u8>>,
}

impl ClientMatch {
    /// A client by AP-title arcs and AE-qualifier (the usual TASE.2 identity).
    pub fn ap_title(arcs: &[u32], ae_qualifier: i64) -> ClientMatch {
        ClientMatch {
            ap_title: ObjectIdentifier::from_arcs(arcs).ok(),
            ae_qualifier: Some(ae_qualifier),
            ..ClientMatch::default()
        }
    }

    /// Whether `req` comes from this client. A field set here must be present and equal.
    pub fn matches(&self, req: &AssociateRequest) -> bool {
        fn eq<T: PartialEq>(want: &Option<T>, got: &Option<T>) -> bool {
            want.as_ref().is_none_or(|w| got.as_ref() == Some(w))
        }
        eq(&self.ap_title, &req.calling.ap_title)
            && eq(&self.ae_qualifier, &req.calling.ae_qualifier)
            && eq(&self.p_selector, &req.psel.0)
            && eq(&self.s_selector, &req.ssel.0)
            && eq(&self.t_selector, &req.tsel.0)
    }
}

/// One bilateral table.
#[derive(Clone, PartialEq, Eq)]
pub struct BilateralTable {
    /// `Bilateral_Table_ID` (VisibleString(32)) as the client reads it in its domain.
    pub id: String,
    /// Who the client is.
    pub client: ClientMatch,
    /// The client's ICC domain.
    pub domain: String,
    /// Rights on objects the table does not list (ICC and VCC alike).
    pub default_rights: Rights,
    /// Rights per object: the item name for the ICC domain, `/Name` for VCC-scope objects.
    pub rights: BTreeMap<String, Rights>,
    /// The information messages the client receives.
    pub info_messages: Vec<InfoGrant>,
    /// CheckBackIDs this client gets for devices, keyed like `rights` (else the device's own).
    pub check_back_ids: BTreeMap<String, i16>,
    /// The TLS client certificate the client must have authenticated with (IEC 62351-4: the
    /// certificate binds the transport, the AP-title the application association). `None`: any
    /// or none.
    pub certificate: Option<CertificateBinding>,
    /// The ACSE password (authentication mechanism 2.2.3.1, ISO 8650) the AARQ must carry.
    /// `None`: none asked for.
    pub password: Option<Vec<u8>>,
}

// By hand: the fields added for TLS show only when set, so the Debug text of a table without
// them (which a recording's model fingerprint digests) is what it was before they existed.
impl core::fmt::Debug for BilateralTable {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut d = f.debug_struct("BilateralTable");
        d.field("id", &self.id)
            .field("client", &self.client)
            .field("domain", &self.domain)
            .field("default_rights", &self.default_rights)
            .field("rights", &self.rights)
            .field("info_messages", &self.info_messages)
            .field("check_back_ids", &self.check_back_ids);
        if let Some(c) = &self.certificate {
            d.field("certificate", c);
        }
        if self.password.is_some() {
            // Never the password itself.
            d.field("password", &"set");
        }
        d.finish()
    }
}

/// Which client certificate a bilateral table accepts. Every field set must match.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CertificateBinding {
    /// The subject: its whole DN as [`PeerIdentity::subject`] writes it, or its common name alone.
    pub subject: Option<String>,
    /// SHA-256 fingerprints of the certificates admitted (any one of them; empty: any).
    pub fingerprints: Vec<[u8; 32]>,
}

impl CertificateBinding {
    /// Whether `identity` is one of the certificates this binding admits.
    pub fn matches(&self, identity: &PeerIdentity) -> bool {
        let subject = self
            .subject
            .as_deref()
            .is_none_or(|s| s == identity.subject || Some(s) == identity.common_name.as_deref());
        let fingerprint =
            self.fingerprints.is_empty() || self.fingerprints.contains(&identity.fingerprint);
        subject && fingerprint
    }
}

/// Why a client that a table names was refused after all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthRefusal {
    /// The table binds a certificate and the transport proved none (plain TCP, or a TLS client
    /// without a certificate).
    CertificateRequired,
    /// The client's certificate is not the one the table binds.
    CertificateMismatch,
    /// The table asks for an ACSE password and the AARQ carried none.
    PasswordRequired,
    /// The AARQ carried another password.
    PasswordWrong,
}

impl AuthRefusal {
    /// The ACSE service-user diagnostic of the AARE (ISO 8650-1): authentication-required when
    /// nothing was offered, authentication-failure when what was offered is wrong.
    pub fn diagnostic(self) -> u8 {
        use crate::acse::user_diagnostic as d;
        match self {
            AuthRefusal::CertificateRequired | AuthRefusal::PasswordRequired => {
                d::AUTHENTICATION_REQUIRED
            }
            AuthRefusal::CertificateMismatch | AuthRefusal::PasswordWrong => {
                d::AUTHENTICATION_FAILURE
            }
        }
    }
}

/// One kind of information message a bilateral table admits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InfoGrant {
    /// VCC-scope or ICC-scope messages.
    pub scope: InfoScope,
    /// The InfoReference admitted.
    pub info_reference: i32,
    /// The LocalReference admitted (`None`: any).
    pub local_reference: Option<i32>,
}

impl BilateralTable {
    /// A table for `client` on `domain`, read-only by default.
    pub fn new(id: impl Into<String>, client: ClientMatch, domain: impl Into<String>) -> Self {
        BilateralTable {
            id: id.into(),
            client,
            domain: domain.into(),
            default_rights: Rights::READ,
            rights: BTreeMap::new(),
            info_messages: Vec::new(),
            check_back_ids: BTreeMap::new(),
            certificate: None,
            password: None,
        }
    }

    /// Binding the client to a TLS client certificate as well as to its AP-title.
    pub fn certificate(mut self, binding: CertificateBinding) -> Self {
        self.certificate = Some(binding);
        self
    }

    /// Asking the client for an ACSE password.
    pub fn password(mut self, password: impl Into<Vec<u8>>) -> Self {
        self.password = Some(password.into());
        self
    }

    /// Whether a client this table names also proved who it is: the certificate the transport
    /// verified (`identity`) and the AARQ's password (`password`, [`AssociateRequest::password`]),
    /// as far as the table asks for them.
    pub fn authenticate(
        &self,
        identity: Option<&PeerIdentity>,
        password: Option<&[u8]>,
    ) -> Result<(), AuthRefusal> {
        if let Some(binding) = &self.certificate {
            match identity {
                None => return Err(AuthRefusal::CertificateRequired),
                Some(id) if !binding.matches(id) => return Err(AuthRefusal::CertificateMismatch),
                Some(_) => {}
            }
        }
        if let Some(want) = &self.password {
            match password {
                None => return Err(AuthRefusal::PasswordRequired),
                // Not a secret worth a constant-time compare: ACSE passwords travel in clear
                // (inside TLS at best), and the refusal says the same either way.
                Some(got) if got != want.as_slice() => return Err(AuthRefusal::PasswordWrong),
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// Admitting the information messages of `scope` with `info_reference` (and
    /// `local_reference`, or any if `None`).
    pub fn admit_info(
        mut self,
        scope: InfoScope,
        info_reference: i32,
        local_reference: Option<i32>,
    ) -> Self {
        self.info_messages.push(InfoGrant {
            scope,
            info_reference,
            local_reference,
        });
        self
    }

    /// Whether the client receives a message of `scope` with these references.
    pub fn admits_info(&self, scope: InfoScope, info_reference: i32, local_reference: i32) -> bool {
        self.info_messages.iter().any(|g| {
            g.scope == scope
                && g.info_reference == info_reference
                && g.local_reference.is_none_or(|l| l == local_reference)
        })
    }

    /// With the CheckBackID this client gets for a device (`"Name"` in the ICC domain, `"/Name"`
    /// in VCC scope).
    pub fn check_back_id(mut self, device: impl Into<String>, id: i16) -> Self {
        self.check_back_ids.insert(device.into(), id);
        self
    }

    /// With rights on one object (`"Name"` in the ICC domain, `"/Name"` in VCC scope).
    pub fn grant(mut self, object: impl Into<String>, rights: Rights) -> Self {
        self.rights.insert(object.into(), rights);
        self
    }

    /// The rights on an object of the client's domain (`vcc` false) or of VCC scope.
    pub fn rights_on(&self, vcc: bool, item: &str) -> Rights {
        lookup(&self.rights, vcc, item).unwrap_or(self.default_rights)
    }

    /// The CheckBackID this table sets for a device, if any.
    pub fn check_back_on(&self, vcc: bool, item: &str) -> Option<i16> {
        lookup(&self.check_back_ids, vcc, item)
    }
}

/// An entry keyed by item name, or `/Name` for VCC scope.
fn lookup<T: Copy>(map: &BTreeMap<String, T>, vcc: bool, item: &str) -> Option<T> {
    if vcc {
        // Avoid an allocation per lookup: VCC keys start with '/'.
        map.range::<str, _>((
            core::ops::Bound::Included("/"),
            core::ops::Bound::Excluded("0"),
        ))
        .find(|(k, _)| &k[1..] == item)
        .map(|(_, r)| *r)
    } else {
        map.get(item).copied()
    }
}

/// What happens to a client no table names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Unlisted {
    /// Refused at association: AARE rejected-permanent, calling-AP-title-not-recognized.
    #[default]
    Refuse,
    /// Associated with VCC scope only (read-only).
    VccOnly,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rights_per_object_with_defaults() {
        let t = BilateralTable::new("BLT1", ClientMatch::ap_title(&[1, 1, 1, 999], 12), "ICC1")
            .grant("Setpoint", Rights::READ_WRITE)
            .grant("/Secret", Rights::NONE);
        assert_eq!(t.rights_on(false, "Setpoint"), Rights::READ_WRITE);
        assert_eq!(t.rights_on(false, "Other"), Rights::READ);
        assert_eq!(t.rights_on(true, "Secret"), Rights::NONE);
        assert_eq!(t.rights_on(true, "Setpoint"), Rights::READ);
    }

    #[test]
    fn certificate_binding_matches_subject_or_common_name_and_fingerprint() {
        let id = PeerIdentity {
            subject: "O=Utility A, CN=client-1".into(),
            common_name: Some("client-1".into()),
            fingerprint: [7; 32],
        };
        let by = |subject: Option<&str>, fps: &[[u8; 32]]| CertificateBinding {
            subject: subject.map(Into::into),
            fingerprints: fps.to_vec(),
        };
        assert!(by(Some("client-1"), &[]).matches(&id));
        assert!(by(Some("O=Utility A, CN=client-1"), &[]).matches(&id));
        assert!(by(None, &[[1; 32], [7; 32]]).matches(&id));
        assert!(!by(Some("client-2"), &[]).matches(&id));
        assert!(!by(Some("client-1"), &[[1; 32]]).matches(&id));
        let t = BilateralTable::new("B", ClientMatch::ap_title(&[1, 1, 1, 999], 12), "ICC1")
            .certificate(by(Some("client-1"), &[]));
        assert_eq!(t.authenticate(Some(&id), None), Ok(()));
        assert_eq!(
            t.authenticate(None, None),
            Err(AuthRefusal::CertificateRequired)
        );
        let other = PeerIdentity {
            common_name: Some("client-2".into()),
            subject: "CN=client-2".into(),
            ..id.clone()
        };
        assert_eq!(
            t.authenticate(Some(&other), None),
            Err(AuthRefusal::CertificateMismatch)
        );
        assert_eq!(AuthRefusal::CertificateMismatch.diagnostic(), 13);
        let t = t.password(*b"secret");
        assert_eq!(t.authenticate(Some(&id), Some(b"secret")), Ok(()));
        assert_eq!(
            t.authenticate(Some(&id), Some(b"guess")),
            Err(AuthRefusal::PasswordWrong)
        );
        assert_eq!(
            t.authenticate(Some(&id), None),
            Err(AuthRefusal::PasswordRequired)
        );
    }
}
