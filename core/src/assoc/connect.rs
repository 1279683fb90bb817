//! The association handshake and release: the PDUs nested inside one another across the layers.
//!
//! Connect: session CN ⊃ presentation CP ⊃ ACSE AARQ ⊃ MMS Initiate-Request; the answer is AC ⊃ CPA ⊃
//! AARE ⊃ Initiate-Response, or RF ⊃ CPR ⊃ AARE(rejected). Release: MMS Conclude in the data phase,
//! then FN ⊃ user-data ⊃ RLRQ and DN ⊃ user-data ⊃ RLRE.

use alloc::vec;
use alloc::vec::Vec;

use super::{mms_pdv, Association, Event, Negotiated, Role, State};
use crate::acse::{
    self, Aare, Aarq, Abrt, Apdu, AssociateDiagnostic, AssociateResult, Authentication, Rlrq,
};
use crate::assoc::{AbortSource, ApiError, AssocError, InitiateError, RefusalReason};
use crate::ber::Writer;
use crate::mms::{BitString, InitiateRequest, InitiateResponse, MmsPdu};
use crate::presentation::{
    self, AbortPpdu, AcceptOrReject, AcceptPpdu, ConnectPpdu, ContextDefinition, ContextResult,
    ContextResultItem, RejectPpdu,
};
use crate::session::{self, ConnectAccept, Spdu};

/// What a server keeps between the AssociateIndication and the application's decision.
#[derive(Clone, Debug)]
pub(super) struct PendingAccept {
    initiate: Option<InitiateRequest>,
    results: Vec<ContextResultItem>,
    calling_ssel: Option<Vec<u8>>,
}

/// ISO 9506-2 parameterCBB bits we support: str1, str2, vnam, vlis.
fn our_parameter_cbb() -> BitString {
    bits(11, &[0, 1, 2, 7])
}

/// ISO 9506-2 servicesSupported bits of the services this stack serves.
fn our_services() -> BitString {
    // status, getNameList, identify, read, write, getVariableAccessAttributes,
    // defineNamedVariableList, getNamedVariableListAttributes, deleteNamedVariableList,
    // informationReport, conclude, cancel.
    bits(85, &[0, 1, 2, 4, 5, 6, 11, 12, 13, 79, 83, 84])
}

fn bits(len: usize, set: &[usize]) -> BitString {
    let mut octets = vec![0u8; len.div_ceil(8)];
    for &b in set {
        octets[b / 8] |= 0x80 >> (b % 8);
    }
    BitString { octets, bits: len }
}

fn intersect(a: &BitString, b: &BitString) -> BitString {
    let octets = a
        .octets
        .iter()
        .zip(b.octets.iter().chain(core::iter::repeat(&0)))
        .map(|(x, y)| x & y)
        .collect();
    BitString {
        octets,
        bits: a.bits,
    }
}

impl Association {
    // ---- client ----

    pub(super) fn send_connect(&mut self) {
        let initiate = InitiateRequest {
            local_detail_calling: Some(self.config.max_pdu_size as i32),
            max_serv_outstanding_calling: self.config.max_serv_outstanding_calling as i16,
            max_serv_outstanding_called: self.config.max_serv_outstanding_called as i16,
            data_structure_nesting_level: Some(self.config.max_nesting as i8),
            version_number: 1,
            parameter_cbb: our_parameter_cbb(),
            services_supported: our_services(),
        };
        let mut mms = Vec::new();
        initiate.encode(&mut Writer::new(&mut mms));
        let aarq = Aarq {
            application_context: self.config.application_context.clone(),
            called: self.config.remote.clone(),
            calling: self.config.local.clone(),
            authentication: self
                .config
                .password
                .as_deref()
                .map(Authentication::Password),
            user_information: Some(mms_pdv(self.mms_ctx, &mms)),
        };
        let mut acse_bytes = Vec::new();
        aarq.encode(&mut acse_bytes);
        let ber = vec![presentation::ber_transfer_syntax()];
        let cp = ConnectPpdu {
            calling_selector: self.config.psel.0.as_deref(),
            called_selector: self.config.psel.1.as_deref(),
            contexts: vec![
                ContextDefinition {
                    id: self.acse_ctx,
                    abstract_syntax: presentation::acse_abstract_syntax(),
                    transfer_syntaxes: ber.clone(),
                },
                ContextDefinition {
                    id: self.mms_ctx,
                    abstract_syntax: presentation::mms_abstract_syntax(),
                    transfer_syntaxes: ber,
                },
            ],
            user_data: vec![mms_pdv(self.acse_ctx, &acse_bytes)],
        };
        let mut pres = Vec::new();
        cp.encode(&mut pres);
        let cn = Spdu::Connect(ConnectAccept {
            calling_selector: self.config.ssel.0.as_deref(),
            called_selector: self.config.ssel.1.as_deref(),
            user_data: &pres,
            ..ConnectAccept::default()
        });
        let mut bytes = Vec::new();
        cn.encode(&mut bytes);
        self.send_tsdu(&bytes);
    }

    pub(super) fn handle_accept(&mut self, user_data: &[u8]) {
        let (results, pdvs) = match presentation::decode_accept_or_reject(user_data) {
            Ok(AcceptOrReject::Accept(a)) => (a.results, a.user_data),
            Ok(AcceptOrReject::Reject(r)) => {
                let reason = self
                    .rejection(&r.user_data)
                    .unwrap_or(RefusalReason::Presentation {
                        provider_reason: r.provider_reason,
                    });
                self.refused(reason);
                return;
            }
            Err(e) => {
                self.fail_with_abort(AssocError::Presentation(e));
                return;
            }
        };
        if let Some((index, r)) = results
            .iter()
            .enumerate()
            .find(|(_, r)| r.result != ContextResult::Acceptance)
        {
            self.fail_with_abort(AssocError::Refused(RefusalReason::PresentationContext {
                index,
                result: r.result,
                provider_reason: r.provider_reason,
            }));
            return;
        }
        let Some(aare_pdv) = pdvs.iter().find(|p| p.context_id == self.acse_ctx) else {
            self.fail_with_abort(AssocError::Protocol("CPA without an AARE"));
            return;
        };
        let aare = match Apdu::decode(aare_pdv.data) {
            Ok(Apdu::Aare(a)) => a,
            Ok(_) => {
                self.fail_with_abort(AssocError::Protocol("CPA carries an APDU other than AARE"));
                return;
            }
            Err(e) => {
                self.fail_with_abort(AssocError::Acse(e));
                return;
            }
        };
        if aare.result != AssociateResult::Accepted {
            self.refused(RefusalReason::Acse {
                result: aare.result,
                diagnostic: aare.diagnostic,
            });
            return;
        }
        let Some(ui) = aare
            .user_information
            .filter(|p| p.context_id == self.mms_ctx)
        else {
            self.fail_with_abort(AssocError::InitiateFailed(
                InitiateError::MissingInitiateResponse,
            ));
            return;
        };
        match MmsPdu::decode(ui.data, &self.config.limits) {
            Ok(MmsPdu::InitiateResponse(r)) => {
                let n = Negotiated {
                    max_pdu_size: r
                        .local_detail_called
                        .map_or(self.config.max_pdu_size, |v| v.max(0) as u32),
                    max_serv_outstanding_calling: r.max_serv_outstanding_calling.max(1) as u16,
                    max_serv_outstanding_called: r.max_serv_outstanding_called.max(1) as u16,
                    max_nesting: r
                        .data_structure_nesting_level
                        .map_or(self.config.max_nesting, |v| v.max(0) as u8),
                    version: r.version_number,
                    tpdu_size: self.negotiated.tpdu_size,
                };
                // Never exceed what we proposed, whatever the peer answered.
                self.negotiated = Negotiated {
                    max_pdu_size: n.max_pdu_size.min(self.config.max_pdu_size),
                    max_serv_outstanding_calling: n
                        .max_serv_outstanding_calling
                        .min(self.config.max_serv_outstanding_calling),
                    max_serv_outstanding_called: n
                        .max_serv_outstanding_called
                        .min(self.config.max_serv_outstanding_called),
                    max_nesting: n.max_nesting.min(self.config.max_nesting),
                    ..n
                };
                self.state = State::Established;
                self.deadline = None;
                log_established(&self.negotiated);
                self.events.push_back(Event::Established(self.negotiated));
            }
            Ok(MmsPdu::InitiateError(e)) => {
                self.fail_with_abort(AssocError::InitiateFailed(InitiateError::Refused(e)));
            }
            Ok(_) => self.fail_with_abort(AssocError::InitiateFailed(InitiateError::UnexpectedPdu)),
            Err(e) => {
                self.fail_with_abort(AssocError::InitiateFailed(InitiateError::Undecodable(e)))
            }
        }
    }

    /// The ACSE refusal in a CPR's user data: ISO 8650-1 §7.1.4 carries a negative A-ASSOCIATE
    /// response as an AARE there, whichever lower layer delivers it.
    fn rejection(&self, pdvs: &[presentation::Pdv<'_>]) -> Option<RefusalReason> {
        pdvs.iter().find_map(|p| match Apdu::decode(p.data) {
            Ok(Apdu::Aare(a)) => Some(RefusalReason::Acse {
                result: a.result,
                diagnostic: a.diagnostic,
            }),
            _ => None,
        })
    }

    pub(super) fn handle_refuse(&mut self, reason: u8, user_data: &[u8]) {
        let refusal = match presentation::decode_accept_or_reject(user_data) {
            Ok(AcceptOrReject::Reject(r)) => self.rejection(&r.user_data).or(r
                .provider_reason
                .map(|p| RefusalReason::Presentation {
                    provider_reason: Some(p),
                })),
            _ => None,
        };
        self.refused(refusal.unwrap_or(RefusalReason::Session { reason }));
    }

    pub(super) fn send_release_request(&mut self) {
        let mut rlrq = Vec::new();
        Rlrq {
            reason: Some(0),
            user_information: None,
        }
        .encode(&mut rlrq);
        let pres = self.wrap_acse(&rlrq);
        self.send_spdu(&Spdu::Finish { user_data: &pres });
    }

    // ---- server ----

    #[cfg(feature = "server")]
    pub(super) fn handle_connect(&mut self, ca: ConnectAccept<'_>) {
        let cp = match ConnectPpdu::decode(ca.user_data) {
            Ok(cp) => cp,
            Err(e) => {
                self.fail_with_abort(AssocError::Presentation(e));
                return;
            }
        };
        // ISO 8823 §6.2.2: accept each context whose abstract syntax we speak with BER.
        let ber = presentation::ber_transfer_syntax();
        let mut results = Vec::with_capacity(cp.contexts.len());
        let (mut acse_ctx, mut mms_ctx) = (None, None);
        for c in &cp.contexts {
            let known = c.abstract_syntax == presentation::acse_abstract_syntax()
                || c.abstract_syntax == presentation::mms_abstract_syntax();
            if known && c.transfer_syntaxes.contains(&ber) {
                if c.abstract_syntax == presentation::acse_abstract_syntax() {
                    acse_ctx = Some(c.id);
                } else {
                    mms_ctx = Some(c.id);
                }
                results.push(ContextResultItem {
                    result: ContextResult::Acceptance,
                    transfer_syntax: Some(ber.clone()),
                    provider_reason: None,
                });
            } else {
                results.push(ContextResultItem {
                    result: ContextResult::ProviderRejection,
                    transfer_syntax: None,
                    // ISO 8823: 2 abstract-syntax-not-supported, 3 proposed-transfer-syntaxes-not-supported.
                    provider_reason: Some(if known { 3 } else { 2 }),
                });
            }
        }
        let (Some(acse_ctx), Some(mms_ctx)) = (acse_ctx, mms_ctx) else {
            self.fail_with_abort(AssocError::Protocol(
                "CP without ACSE and MMS presentation contexts",
            ));
            return;
        };
        self.acse_ctx = acse_ctx;
        self.mms_ctx = mms_ctx;
        let Some(aarq_pdv) = cp.user_data.iter().find(|p| p.context_id == acse_ctx) else {
            self.fail_with_abort(AssocError::Protocol("CP without an AARQ"));
            return;
        };
        let aarq = match Apdu::decode(aarq_pdv.data) {
            Ok(Apdu::Aarq(a)) => a,
            Ok(_) => {
                self.fail_with_abort(AssocError::Protocol("CP carries an APDU other than AARQ"));
                return;
            }
            Err(e) => {
                self.fail_with_abort(AssocError::Acse(e));
                return;
            }
        };
        self.pending = Some(PendingAccept {
            initiate: None,
            results,
            calling_ssel: ca.calling_selector.map(<[u8]>::to_vec),
        });
        self.state = State::ExpectAcceptDecision;
        if aarq.application_context != acse::mms_application_context() {
            self.reject_with(RefusalReason::ApplicationContextNotSupported);
            return;
        }
        let initiate = match aarq
            .user_information
            .filter(|p| p.context_id == mms_ctx)
            .map(|p| MmsPdu::decode(p.data, &self.config.limits))
        {
            Some(Ok(MmsPdu::InitiateRequest(i))) => i,
            _ => {
                self.reject_with(RefusalReason::MissingInitiateRequest);
                return;
            }
        };
        if let Some(p) = self.pending.as_mut() {
            p.initiate = Some(initiate.clone());
        }
        let password = match aarq.authentication {
            Some(Authentication::Password(p)) => Some(p.to_vec()),
            _ => None,
        };
        let tsel = self.config.tsel.clone();
        let req = super::AssociateRequest {
            calling: aarq.calling,
            called: aarq.called,
            application_context: aarq.application_context,
            tsel: (tsel.1, tsel.0),
            ssel: (
                ca.calling_selector.map(<[u8]>::to_vec),
                ca.called_selector.map(<[u8]>::to_vec),
            ),
            psel: (
                cp.calling_selector.map(<[u8]>::to_vec),
                cp.called_selector.map(<[u8]>::to_vec),
            ),
            password,
            initiate,
        };
        self.events
            .push_back(Event::AssociateIndication(alloc::boxed::Box::new(req)));
    }

    /// Server: accept the association announced by [`Event::AssociateIndication`], negotiating MMS
    /// parameters down to our configuration.
    pub fn accept(&mut self) -> Result<(), ApiError> {
        if self.role != Role::Server || self.state != State::ExpectAcceptDecision {
            return Err(self.invalid_state());
        }
        let Some(p) = self.pending.take() else {
            return Err(self.invalid_state());
        };
        let Some(i) = p.initiate.as_ref() else {
            return Err(self.invalid_state());
        };
        let c = &self.config;
        let n = Negotiated {
            max_pdu_size: i
                .local_detail_calling
                .map_or(c.max_pdu_size, |v| (v.max(0) as u32).min(c.max_pdu_size)),
            max_serv_outstanding_calling: (i.max_serv_outstanding_calling.max(1) as u16)
                .min(c.max_serv_outstanding_calling),
            max_serv_outstanding_called: (i.max_serv_outstanding_called.max(1) as u16)
                .min(c.max_serv_outstanding_called),
            max_nesting: i
                .data_structure_nesting_level
                .map_or(c.max_nesting, |v| (v.max(0) as u8).min(c.max_nesting)),
            version: i.version_number.clamp(0, 1),
            tpdu_size: self.negotiated.tpdu_size,
        };
        self.negotiated = n;
        let resp = InitiateResponse {
            local_detail_called: Some(n.max_pdu_size as i32),
            max_serv_outstanding_calling: n.max_serv_outstanding_calling as i16,
            max_serv_outstanding_called: n.max_serv_outstanding_called as i16,
            data_structure_nesting_level: Some(n.max_nesting as i8),
            version_number: n.version,
            parameter_cbb: intersect(&our_parameter_cbb(), &i.parameter_cbb),
            services_supported: our_services(),
        };
        let mut mms = Vec::new();
        resp.encode(&mut Writer::new(&mut mms));
        let aare = Apdu::Aare(Aare {
            application_context: acse::mms_application_context(),
            result: AssociateResult::Accepted,
            diagnostic: Some(AssociateDiagnostic::User(acse::user_diagnostic::NULL)),
            responding: self.config.local.clone(),
            user_information: Some(mms_pdv(self.mms_ctx, &mms)),
        });
        let mut acse_bytes = Vec::new();
        aare.encode(&mut acse_bytes);
        let cpa = AcceptPpdu {
            responding_selector: self.config.psel.0.as_deref(),
            results: p.results,
            user_data: vec![mms_pdv(self.acse_ctx, &acse_bytes)],
        };
        let mut pres = Vec::new();
        cpa.encode(&mut pres);
        let ac = Spdu::Accept(ConnectAccept {
            calling_selector: p.calling_ssel.as_deref(),
            called_selector: self.config.ssel.0.as_deref(),
            user_data: &pres,
            ..ConnectAccept::default()
        });
        let mut bytes = Vec::new();
        ac.encode(&mut bytes);
        self.send_tsdu(&bytes);
        self.state = State::Established;
        self.deadline = None;
        let _entered = self.entered();
        log_established(&n);
        self.events.push_back(Event::Established(n));
        Ok(())
    }

    /// Server: refuse the association announced by [`Event::AssociateIndication`] with an AARE
    /// rejected-permanent carrying `diagnostic`, e.g.
    /// `AssociateDiagnostic::User(acse::CALLING_AP_TITLE_NOT_RECOGNIZED)`.
    pub fn reject(&mut self, diagnostic: AssociateDiagnostic) -> Result<(), ApiError> {
        if self.role != Role::Server || self.state != State::ExpectAcceptDecision {
            return Err(self.invalid_state());
        }
        self.reject_with(RefusalReason::Application(diagnostic));
        Ok(())
    }

    /// Server: refuse the association with an AARE rejected-transient (a resource limit: the
    /// client may try again later).
    pub fn reject_transient(&mut self, diagnostic: AssociateDiagnostic) -> Result<(), ApiError> {
        if self.role != Role::Server || self.state != State::ExpectAcceptDecision {
            return Err(self.invalid_state());
        }
        self.reject_as(
            RefusalReason::Application(diagnostic),
            AssociateResult::RejectedTransient,
        );
        Ok(())
    }

    /// Answer the AARQ with an AARE rejected-permanent carrying `why`'s diagnostic.
    fn reject_with(&mut self, why: RefusalReason) {
        self.reject_as(why, AssociateResult::RejectedPermanent);
    }

    fn reject_as(&mut self, why: RefusalReason, result: AssociateResult) {
        let diagnostic = why.diagnostic();
        let results = self.pending.take().map(|p| p.results).unwrap_or_default();
        let aare = Apdu::Aare(Aare {
            application_context: acse::mms_application_context(),
            result,
            diagnostic,
            responding: self.config.local.clone(),
            user_information: None,
        });
        let mut acse_bytes = Vec::new();
        aare.encode(&mut acse_bytes);
        // ISO 8650 §7.1.4: a negative A-ASSOCIATE response rides a P-CONNECT user-rejection (CPR) in
        // an S-CONNECT refusal (RF, reason 0: rejection by the called SS-user).
        let cpr = RejectPpdu {
            responding_selector: self.config.psel.0.as_deref(),
            results,
            provider_reason: None,
            user_data: vec![mms_pdv(self.acse_ctx, &acse_bytes)],
        };
        let mut pres = Vec::new();
        cpr.encode(&mut pres);
        self.send_spdu(&Spdu::Refuse {
            reason: 0,
            user_data: &pres,
        });
        self.refused(why);
    }

    #[cfg(feature = "server")]
    pub(super) fn handle_release_request(&mut self, user_data: &[u8]) {
        let ok = presentation::decode_user_data(user_data)
            .ok()
            .and_then(|pdvs| pdvs.into_iter().find(|p| p.context_id == self.acse_ctx))
            .is_some_and(|p| matches!(Apdu::decode(p.data), Ok(Apdu::Rlrq(_))));
        if !ok {
            self.fail_with_abort(AssocError::Protocol("FINISH without an RLRQ"));
            return;
        }
        let rlre = Apdu::Rlre(acse::Rlre {
            reason: Some(0),
            user_information: None,
        });
        let mut acse_bytes = Vec::new();
        rlre.encode(&mut acse_bytes);
        let pres = self.wrap_acse(&acse_bytes);
        self.send_spdu(&Spdu::Disconnect { user_data: &pres });
        self.close(None);
    }

    // ---- both ----

    /// An encoded ACSE APDU as presentation user data on the ACSE context.
    fn wrap_acse(&self, acse_bytes: &[u8]) -> Vec<u8> {
        let mut pres = Vec::new();
        presentation::write_user_data(&mut Writer::new(&mut pres), self.acse_ctx, |w| {
            w.raw(acse_bytes)
        });
        pres
    }

    pub(super) fn send_user_abort(&mut self) {
        let abrt = Abrt {
            source: 0,
            diagnostic: None,
            user_information: None,
        };
        let mut acse_bytes = Vec::new();
        abrt.encode(&mut acse_bytes);
        let aru = AbortPpdu::User {
            user_data: vec![mms_pdv(self.acse_ctx, &acse_bytes)],
        };
        let mut pres = Vec::new();
        aru.encode(&mut pres);
        let td = session::ABORT_RELEASE_TRANSPORT | session::ABORT_USER;
        self.send_spdu(&Spdu::Abort {
            transport_disconnect: Some(td),
            user_data: &pres,
        });
    }

    pub(super) fn send_provider_abort(&mut self) {
        // ISO 8823 ARP, abort-reason 1 unrecognized-ppdu would fit most cases; 0 reason-not-specified is
        // the safe general answer.
        let arp = AbortPpdu::Provider {
            reason: Some(0),
            event: None,
        };
        let mut pres = Vec::new();
        arp.encode(&mut pres);
        self.send_spdu(&Spdu::Abort {
            transport_disconnect: Some(session::ABORT_RELEASE_TRANSPORT),
            user_data: &pres,
        });
    }

    fn send_spdu(&mut self, spdu: &Spdu<'_>) {
        let mut bytes = Vec::new();
        spdu.encode(&mut bytes);
        self.send_tsdu(&bytes);
    }

    fn send_tsdu(&mut self, tsdu: &[u8]) {
        crate::cotp::write_tsdu(
            &mut self.out,
            self.negotiated.tpdu_size,
            &mut self.scratch,
            |o| o.extend_from_slice(tsdu),
        );
    }
}

fn log_established(n: &Negotiated) {
    tracing::debug!(
        max_pdu_size = n.max_pdu_size,
        max_serv_outstanding_calling = n.max_serv_outstanding_calling,
        max_serv_outstanding_called = n.max_serv_outstanding_called,
        tpdu_size = n.tpdu_size,
        "association established"
    );
}

/// A readable account of an abort's user data (ARU with ABRT, or ARP).
pub(super) fn abort_source(user_data: &[u8]) -> AbortSource {
    match AbortPpdu::decode(user_data) {
        Ok(AbortPpdu::User { user_data }) => {
            match user_data.first().map(|p| Apdu::decode(p.data)) {
                Some(Ok(Apdu::Abrt(a))) => AbortSource::Acse {
                    source: a.source,
                    diagnostic: a.diagnostic,
                },
                _ => AbortSource::PresentationUser,
            }
        }
        Ok(AbortPpdu::Provider { reason, .. }) => AbortSource::Presentation { reason },
        Err(_) => AbortSource::Session,
    }
}
