//! Revocation follows the account: when an account stops being entitled to its certificates
//! (its level drops below `confirmed`, it is locked after too many failed sign-ins, or it is
//! deleted), every certificate of it still valid is revoked at once, each with its own audit
//! event naming who acted and why.
//!
//! RFC 5280 §5.3.1 reasons: `privilegeWithdrawn` when the level drops or the account is
//! locked (the holder lost the right, nothing says the key leaked); `cessationOfOperation`
//! when the account is deleted (the subject's use of the certificate ended).

use crate::app::App;
use crate::i18n::Lang;
use crate::store::Account;
use keys::audit::{Audit, NewEvent};
use keys::ca::{Ca, CaError, CertStatus, CrlReason};

/// Why an account's certificates are revoked without the citizen asking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cause {
    /// The level dropped below `confirmed`.
    LevelLowered,
    /// The account was locked after too many failed sign-ins.
    Locked,
    /// The account was deleted.
    Deleted,
}

impl Cause {
    /// The name kept in the audit event.
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::LevelLowered => "level_lowered",
            Cause::Locked => "account_locked",
            Cause::Deleted => "account_deleted",
        }
    }

    /// The CRL reason code it maps to.
    pub fn reason(self) -> CrlReason {
        match self {
            Cause::LevelLowered | Cause::Locked => CrlReason::PrivilegeWithdrawn,
            Cause::Deleted => CrlReason::CessationOfOperation,
        }
    }
}

/// The wire name of a CRL reason (RFC 5280 §5.3.1), as audit events and pages use it.
pub fn reason_name(r: CrlReason) -> &'static str {
    match r {
        CrlReason::Unspecified => "unspecified",
        CrlReason::KeyCompromise => "keyCompromise",
        CrlReason::CaCompromise => "cACompromise",
        CrlReason::AffiliationChanged => "affiliationChanged",
        CrlReason::Superseded => "superseded",
        CrlReason::CessationOfOperation => "cessationOfOperation",
        CrlReason::CertificateHold => "certificateHold",
        CrlReason::RemoveFromCRL => "removeFromCRL",
        CrlReason::PrivilegeWithdrawn => "privilegeWithdrawn",
        CrlReason::AaCompromise => "aACompromise",
    }
}

/// Revokes every valid certificate of `account_id` for `cause`, writing one audit event per
/// certificate (`certificate.revoked`, subject the account, the serial in the details) with
/// `actor` as who acted. Returns the serials revoked by this call.
pub async fn revoke_all(
    ca: &Ca,
    audit: &Audit,
    account_id: &str,
    cause: Cause,
    actor: &str,
    now: i64,
) -> Result<Vec<String>, CaError> {
    let mut revoked = Vec::new();
    for c in ca.list_for_account(account_id).await? {
        if c.status != CertStatus::Valid {
            continue;
        }
        // Another node may revoke the same certificate at the same moment: only the one
        // whose update took it records the event.
        if !ca.revoke(&c.serial, cause.reason(), now).await? {
            continue;
        }
        let event = NewEvent {
            actor,
            action: "certificate.revoked",
            subject: Some(account_id),
            details: serde_json::json!({
                "serial": c.serial,
                "reason": reason_name(cause.reason()),
                "cause": cause.as_str(),
            }),
        };
        if let Err(e) = audit.append(event).await {
            tracing::error!(error = %e, serial = %c.serial, "revocation not audited");
        }
        revoked.push(c.serial);
    }
    Ok(revoked)
}

/// [`revoke_all`] from a request or the sign-in: failures are logged (the account change
/// that caused it stands), and the citizen is told when something was revoked.
pub async fn on_account_change(app: &App, a: &Account, cause: Cause, actor: &str, lang: Lang) {
    let ca = &app.signer.ca;
    match revoke_all(ca, &app.audit, &a.id, cause, actor, app.now()).await {
        Ok(serials) if !serials.is_empty() => {
            tracing::info!(account = %a.id, count = serials.len(), cause = cause.as_str(), "certificates revoked");
            crate::notify::tell(app, a, "certificate_revoked", lang).await;
        }
        Ok(_) => {}
        Err(e) => {
            tracing::error!(account = %a.id, error = %e, "certificates not revoked");
        }
    }
}
