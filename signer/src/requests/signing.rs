//! What the citizen does with a request (called by the IdP's pages after they checked the
//! session and the second factor): sign it, decline it, or fail to confirm it.
//!
//! Rules: only the addressed account; only while pending and unexpired; signing re-derives the
//! set digest from storage and refuses one that differs from what was confirmed; the signing
//! certificate is a valid, unexpired certificate of the account; the state change is one
//! conditional UPDATE (`WHERE status = 'pending'`), so two confirmations cannot both sign.
//! Every outcome writes an audit event.

use super::store::{RequestInfo, Status};
use super::tsa::CaTsa;
use super::{set_digest, Format, Level};
use crate::cades::{self, Packaging, SignerHandle};
use crate::{pades, Signer, TimestampSource};
use base64::Engine;
use der::Decode;
use keys::audit::NewEvent;
use keys::ca::{CertStatus, CitizenCert};
use serde_json::json;
use std::time::{Duration, UNIX_EPOCH};
use x509_cert::Certificate;

/// Wrong confirmations after which a request can no longer be signed (only declined).
pub const MAX_FAILED_ATTEMPTS: i64 = 5;

/// Why a request was not signed or declined.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// No such request for this account.
    #[error("no such signing request")]
    NotFound,
    /// Already signed, declined or expired.
    #[error("the request is {}", .0.as_str())]
    Closed(Status),
    /// The confirmed set of documents is not the stored one.
    #[error("the confirmed documents are not the documents of the request")]
    DigestMismatch,
    /// The account has no valid certificate.
    #[error("the account has no valid signing certificate")]
    NoCertificate,
    /// Too many wrong confirmations.
    #[error("too many wrong confirmations")]
    Locked,
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] sqlx::Error),
    /// The CA failed (key unreadable...).
    #[error("CA: {0}")]
    Ca(#[from] keys::ca::CaError),
    /// The signature could not be made.
    #[error("signing failed: {0}")]
    Signing(String),
}

/// A random URL-safe id of 128 bits.
pub(crate) fn random_id() -> String {
    let mut b = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

impl Signer {
    /// The request `id` if it is addressed to `account_id`.
    pub async fn request_for_account(
        &self,
        id: &str,
        account_id: &str,
    ) -> Result<Option<RequestInfo>, sqlx::Error> {
        Ok(self
            .request(id)
            .await?
            .filter(|r| r.account_id == account_id))
    }

    /// The certificate a signature of `account_id` would use now: the newest valid one.
    pub async fn signing_certificate(
        &self,
        account_id: &str,
    ) -> Result<Option<CitizenCert>, keys::ca::CaError> {
        let now = self.clock.now();
        Ok(self
            .ca
            .list_for_account(account_id)
            .await?
            .into_iter()
            .find(|c| c.status == CertStatus::Valid && c.not_before <= now && now < c.not_after))
    }

    /// The pending request `id` of `account_id`, or why it cannot be acted on.
    async fn open_request(&self, id: &str, account_id: &str) -> Result<RequestInfo, SignError> {
        let r = self
            .request_for_account(id, account_id)
            .await?
            .ok_or(SignError::NotFound)?;
        if r.status != Status::Pending {
            return Err(SignError::Closed(r.status));
        }
        Ok(r)
    }

    async fn audit(&self, account_id: &str, action: &str, details: serde_json::Value) {
        self.audit_as(
            &format!("account:{account_id}"),
            account_id,
            action,
            details,
        )
        .await;
    }

    /// Appends an audit event about `account_id` by `actor`; a failure is logged, not
    /// returned (the change it records has been made).
    pub(super) async fn audit_as(
        &self,
        actor: &str,
        account_id: &str,
        action: &str,
        details: serde_json::Value,
    ) {
        let e = NewEvent {
            actor,
            action,
            subject: Some(account_id),
            details,
        };
        if let Err(err) = self.audit.append(e).await {
            tracing::error!(error = %err, action, "audit event not written");
        }
    }

    /// Records a refused confirmation (a wrong or reused code, or no certificate), with the
    /// reason, in the request's counter and the audit trail. Returns the failures so far.
    pub async fn refuse_confirmation(
        &self,
        id: &str,
        account_id: &str,
        reason: &str,
    ) -> Result<i64, sqlx::Error> {
        sqlx::query(
            "UPDATE signer_requests SET failed_attempts = failed_attempts + 1 \
             WHERE id = $1 AND account_id = $2 AND status = 'pending'",
        )
        .bind(id)
        .bind(account_id)
        .execute(&self.pool)
        .await?;
        let r = self.request_for_account(id, account_id).await?;
        self.audit(
            account_id,
            "signature.refused",
            json!({
                "request_id": id,
                "reason": reason,
                "set_digest": r.as_ref().map(|r| r.set_digest.clone()),
            }),
        )
        .await;
        Ok(r.map_or(0, |r| r.failed_attempts))
    }

    /// Whether a confirmation may still be tried (fewer than [`MAX_FAILED_ATTEMPTS`] failures).
    pub async fn check_confirmable(
        &self,
        id: &str,
        account_id: &str,
        confirmed_digest: &str,
    ) -> Result<RequestInfo, SignError> {
        let r = self.open_request(id, account_id).await?;
        if r.failed_attempts >= MAX_FAILED_ATTEMPTS {
            return Err(SignError::Locked);
        }
        let derived = set_digest(r.documents.iter().map(|d| d.sha256.as_str()));
        if derived != r.set_digest || !constant_eq(&derived, confirmed_digest) {
            self.audit(
                account_id,
                "signature.refused",
                json!({"request_id": id, "reason": "digest_mismatch",
                       "set_digest": derived, "confirmed": confirmed_digest}),
            )
            .await;
            return Err(SignError::DigestMismatch);
        }
        Ok(r)
    }

    /// Signs every document of request `id` for `account_id`, once the caller checked the
    /// citizen's second factor over `confirmed_digest`; `amr` names that factor (RFC 8176:
    /// `otp`, `sms`, `hwk`) in the audit trail.
    pub async fn sign_request(
        &self,
        id: &str,
        account_id: &str,
        confirmed_digest: &str,
        amr: &str,
    ) -> Result<RequestInfo, SignError> {
        let r = self
            .check_confirmable(id, account_id, confirmed_digest)
            .await?;
        let Some(cert) = self.signing_certificate(account_id).await? else {
            self.refuse_confirmation(id, account_id, "no_certificate")
                .await?;
            return Err(SignError::NoCertificate);
        };
        let key = self.ca.citizen_key(&cert.serial).await?;
        let handle = SignerHandle {
            key,
            cert: Certificate::from_der(&cert.der)
                .map_err(|e| SignError::Signing(e.to_string()))?,
            chain: vec![Certificate::from_der(self.ca.issuing_der())
                .map_err(|e| SignError::Signing(e.to_string()))?],
        };
        let mut contents = Vec::with_capacity(r.documents.len());
        for d in &r.documents {
            let (content, _) = self
                .document_bytes(id, d.n)
                .await?
                .ok_or(SignError::NotFound)?;
            contents.push((d.n, content));
        }
        let now = self.clock.now();
        let when = UNIX_EPOCH + Duration::from_secs(u64::try_from(now).unwrap_or(0));
        let (format, level) = (r.format, r.level);
        let tsa = CaTsa {
            ca: self.ca.clone(),
            rt: tokio::runtime::Handle::current(),
        };
        let signed = tokio::task::spawn_blocking(move || {
            let tsa: Option<&dyn TimestampSource> = (level == Level::BT).then_some(&tsa as _);
            contents
                .into_iter()
                .map(|(n, content)| {
                    let sig = match format {
                        Format::CadesDetached => {
                            cades::sign(&content, Packaging::Detached, &handle, when, tsa)
                                .map_err(|e| e.to_string())
                        }
                        Format::CadesAttached => {
                            cades::sign(&content, Packaging::Attached, &handle, when, tsa)
                                .map_err(|e| e.to_string())
                        }
                        Format::Pades => {
                            pades::sign_pdf(&content, &handle, when, tsa).map_err(|e| e.to_string())
                        }
                    };
                    sig.map(|s| (n, s))
                })
                .collect::<Result<Vec<_>, String>>()
        })
        .await
        .map_err(|e| SignError::Signing(e.to_string()))?
        .map_err(SignError::Signing)?;
        let claim = sqlx::query(
            "UPDATE signer_requests SET status = 'signed', decided_at = $1, cert_serial = $2, \
             cert_der = $3 WHERE id = $4 AND status = 'pending' AND expires_at > $5",
        )
        .bind(now)
        .bind(&cert.serial)
        .bind(cert.der.as_slice())
        .bind(id)
        .bind(now);
        let Some(mut tx) = claim_pending(self.pool.begin().await?, claim).await? else {
            return Err(self.closed(id).await?);
        };
        for (n, sig) in &signed {
            sqlx::query(
                "UPDATE signer_documents SET signature = $1 WHERE request_id = $2 AND n = $3",
            )
            .bind(sig.as_slice())
            .bind(id)
            .bind(*n)
            .execute(&mut *tx)
            .await?;
        }
        self.queue_webhook(&mut tx, &r, "signed", now).await?;
        tx.commit().await?;
        self.audit(
            account_id,
            "signature.created",
            json!({
                "format": r.format.as_str(),
                "level": r.level.as_str(),
                "certificate": cert.serial,
                "amr": amr,
                "request": event_details(&r),
            }),
        )
        .await;
        self.request(id).await?.ok_or(SignError::NotFound)
    }

    /// Declines request `id` for `account_id`.
    pub async fn decline_request(&self, id: &str, account_id: &str) -> Result<(), SignError> {
        let r = self.open_request(id, account_id).await?;
        let now = self.clock.now();
        let claim = sqlx::query(
            "UPDATE signer_requests SET status = 'declined', decided_at = $1 \
             WHERE id = $2 AND status = 'pending' AND expires_at > $3",
        )
        .bind(now)
        .bind(id)
        .bind(now);
        let Some(mut tx) = claim_pending(self.pool.begin().await?, claim).await? else {
            return Err(self.closed(id).await?);
        };
        self.queue_webhook(&mut tx, &r, "declined", now).await?;
        tx.commit().await?;
        self.audit(
            account_id,
            "signature.declined",
            json!({ "request": event_details(&r) }),
        )
        .await;
        Ok(())
    }

    /// The error for a request that a conditional UPDATE found no longer pending.
    async fn closed(&self, id: &str) -> Result<SignError, sqlx::Error> {
        let status = self
            .request(id)
            .await?
            .map_or(Status::Expired, |r| r.status);
        Ok(SignError::Closed(status))
    }

    /// Queues the webhook event `status` of `r` (if it has a webhook URL) in the same
    /// transaction as the change it reports, due at once (`next_at` 0); a second event of the
    /// same kind for one request is dropped.
    pub(super) async fn queue_webhook(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        r: &RequestInfo,
        status: &str,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        let Some(url) = &r.webhook_url else {
            return Ok(());
        };
        sqlx::query(
            "INSERT INTO signer_webhooks (event_id, request_id, url, status, event_at, next_at) \
             VALUES ($1, $2, $3, $4, $5, 0) ON CONFLICT (request_id, status) DO NOTHING",
        )
        .bind(format!("ev_{}", random_id()))
        .bind(&r.id)
        .bind(url)
        .bind(status)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}

/// What audit events say about a request: its id, client, set digest and document hashes.
pub(super) fn event_details(r: &RequestInfo) -> serde_json::Value {
    json!({
        "request_id": r.id,
        "client_id": r.client_id,
        "set_digest": r.set_digest,
        "documents": r.documents.iter().map(|d| &d.sha256).collect::<Vec<_>>(),
    })
}

fn constant_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Runs `update`, a conditional UPDATE that matches a request only while it is pending, as
/// the first statement of `tx`: the transaction to go on with, or `None` (rolled back) when
/// the request was no longer pending, so of two deciders exactly one goes on.
pub(super) async fn claim_pending<'c, 'q>(
    mut tx: sqlx::Transaction<'c, sqlx::Any>,
    update: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
) -> Result<Option<sqlx::Transaction<'c, sqlx::Any>>, sqlx::Error> {
    if update.execute(&mut *tx).await?.rows_affected() == 0 {
        tx.rollback().await?;
        return Ok(None);
    }
    Ok(Some(tx))
}
