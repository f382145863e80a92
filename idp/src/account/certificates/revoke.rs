//! `POST /account/certificates/revoke`: the citizen revokes one of their certificates, after
//! typing the password again or giving the second factor (the rules of `confirm`).
//!
//! RFC 5280 §5.3.1 reasons a citizen may give: keyCompromise (the key may be in other
//! hands), cessationOfOperation (no longer needed) or unspecified. A wrong password counts
//! toward the account's second-factor limit like a wrong code, so neither can be guessed
//! here faster than at sign-in.

use super::{audit, confirm, follow, page, Extra};
use crate::app::AppState;
use crate::i18n::Lang;
use crate::otp_factor;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use keys::ca::{CertStatus, CrlReason};
use serde_json::json;

/// The reasons offered: (form value, CRL reason).
const REASONS: [(&str, CrlReason); 3] = [
    ("keyCompromise", CrlReason::KeyCompromise),
    ("cessationOfOperation", CrlReason::CessationOfOperation),
    ("unspecified", CrlReason::Unspecified),
];

/// `POST /account/certificates/revoke` with `serial`, `reason`, and `password` or the
/// second factor (`method`, `code`).
pub async fn revoke(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let lang = Lang::choose(&[], &headers);
    let (a, form, f) = match super::posted(&app, &headers, lang, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let refuse = |key: &'static str| Extra {
        error: Some(lang.t(key)),
        ..Extra::default()
    };
    let serial = form.get("serial").unwrap_or("").to_ascii_lowercase();
    let cert = match app.signer.ca.find(&serial).await {
        Ok(Some(c)) if c.account_id == a.id => c,
        Ok(_) => {
            let extra = refuse("cert_not_found");
            return page(&app, &headers, lang, StatusCode::NOT_FOUND, &a, extra).await;
        }
        Err(e) => {
            tracing::error!(error = %e, "certificate lookup failed");
            return app.pages.unavailable(lang);
        }
    };
    let picked = form.get("reason").unwrap_or("");
    let Some((_, reason)) = REASONS.iter().find(|(k, _)| *k == picked) else {
        let extra = refuse("cert_bad_reason");
        return page(&app, &headers, lang, StatusCode::BAD_REQUEST, &a, extra).await;
    };
    if cert.status != CertStatus::Valid {
        let extra = refuse("cert_already_revoked");
        return page(&app, &headers, lang, StatusCode::CONFLICT, &a, extra).await;
    }
    let confirmed = match form.get("password").filter(|p| !p.is_empty()) {
        Some(p) => password(&app, &a, p).await,
        None => confirm::check(&app, &a, &f, &form)
            .await
            .map(|p| p.as_str()),
    };
    let by = match confirmed {
        Ok(by) => by,
        Err((StatusCode::SERVICE_UNAVAILABLE, _)) => return app.pages.unavailable(lang),
        Err((status, key)) => {
            audit(
                &app,
                &a,
                "certificate.revocation_refused",
                json!({ "serial": cert.serial, "refusal": key }),
            )
            .await;
            return page(&app, &headers, lang, status, &a, refuse(key)).await;
        }
    };
    match app.signer.ca.revoke(&cert.serial, *reason, app.now()).await {
        Ok(true) => {}
        Ok(false) => {
            let extra = refuse("cert_already_revoked");
            return page(&app, &headers, lang, StatusCode::CONFLICT, &a, extra).await;
        }
        Err(e) => {
            tracing::error!(error = %e, "certificate not revoked");
            return app.pages.unavailable(lang);
        }
    }
    let details = json!({
        "serial": cert.serial, "reason": follow::reason_name(*reason),
        "cause": "citizen", "confirmed_by": by,
    });
    super::done(&app, &a, "certificate.revoked", details, lang).await
}

/// The password typed again: `Ok("password")`, or the refusal; a wrong one counts toward
/// the account's second-factor limit, and past it every attempt is refused.
async fn password(
    app: &crate::app::App,
    a: &crate::store::Account,
    typed: &str,
) -> Result<&'static str, otp_factor::Refusal> {
    confirm::within_limit(app, &a.id).await?;
    if crate::password::verify(typed.to_owned(), a.password_hash.clone()).await {
        return Ok("password");
    }
    confirm::count_failure(app, &a.id).await;
    Err((StatusCode::UNAUTHORIZED, "err_factor_password"))
}
