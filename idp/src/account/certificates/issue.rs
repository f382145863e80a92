//! `POST /account/certificates/code` (a code by SMS or e-mail for the issuance) and
//! `POST /account/certificates/issue` (a new certificate, with the second factor).

use super::{audit, confirm, key_alg, not_entitled, page, subject_of, Extra};
use crate::app::AppState;
use crate::i18n::Lang;
use crate::otp_factor::{self, Method};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;

/// `POST /account/certificates/code`: sends a code to the confirmed phone or address named
/// by `method` (the limits of `otp_factor::send`: a minute between codes, ten an hour).
pub async fn send_code(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let lang = Lang::choose(&[], &headers);
    let (a, form, f) = match super::posted(&app, &headers, lang, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let picked = form.get("method").and_then(Method::parse);
    let Some(m) = picked.filter(|m| m.is_sent() && f.has(*m)) else {
        let extra = Extra {
            error: Some(lang.t("err_mfa_method")),
            ..Extra::default()
        };
        return page(&app, &headers, lang, StatusCode::BAD_REQUEST, &a, extra).await;
    };
    if let Some(k) = not_entitled(&a, &f) {
        let extra = Extra {
            error: Some(lang.t(k)),
            ..Extra::default()
        };
        return page(&app, &headers, lang, StatusCode::FORBIDDEN, &a, extra).await;
    }
    let (status, error) = match otp_factor::send(&app, &a, m, confirm::PURPOSE, lang).await {
        Ok(()) => (StatusCode::OK, None),
        Err((status, key)) => (status, Some(lang.t(key))),
    };
    let extra = Extra {
        error,
        sent: Some(m),
        method: Some(m.as_str()),
    };
    page(&app, &headers, lang, status, &a, extra).await
}

/// `POST /account/certificates/issue`: with `alg` (p256, rsa2048, rsa3072) and the second
/// factor, issues a certificate to a confirmed account.
pub async fn issue(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let lang = Lang::choose(&[], &headers);
    let (a, form, f) = match super::posted(&app, &headers, lang, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let refuse = |key: &'static str| Extra {
        error: Some(lang.t(key)),
        method: form.get("method"),
        ..Extra::default()
    };
    if let Some(k) = not_entitled(&a, &f) {
        let why = match k {
            "cert_need_confirmed" => "level_too_low",
            "cert_need_factor" => "no_second_factor",
            _ => "account_locked",
        };
        audit(
            &app,
            &a,
            "certificate.refused",
            json!({ "reason": why, "level": a.level }),
        )
        .await;
        return page(&app, &headers, lang, StatusCode::FORBIDDEN, &a, refuse(k)).await;
    }
    let Some(alg) = key_alg(&form) else {
        return page(
            &app,
            &headers,
            lang,
            StatusCode::BAD_REQUEST,
            &a,
            refuse("cert_bad_alg"),
        )
        .await;
    };
    let subject = match subject_of(&app, &a).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            audit(
                &app,
                &a,
                "certificate.refused",
                json!({ "reason": "no_identity_data" }),
            )
            .await;
            let extra = refuse("cert_need_identity");
            return page(&app, &headers, lang, StatusCode::CONFLICT, &a, extra).await;
        }
        Err(r) => return r,
    };
    let proof = match confirm::check(&app, &a, &f, &form).await {
        Ok(p) => p,
        Err((StatusCode::SERVICE_UNAVAILABLE, _)) => return app.pages.unavailable(lang),
        Err((status, key)) => {
            let method = form.get("method").unwrap_or("");
            audit(
                &app,
                &a,
                "certificate.refused",
                json!({ "reason": "second_factor", "method": method, "refusal": key }),
            )
            .await;
            return page(&app, &headers, lang, status, &a, refuse(key)).await;
        }
    };
    let cert = match app.signer.ca.issue(&a.id, &subject, alg, None).await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "certificate not issued");
            return app.pages.unavailable(lang);
        }
    };
    let details = json!({
        "serial": cert.serial, "key_alg": alg.as_str(), "not_before": cert.not_before,
        "not_after": cert.not_after, "second_factor": proof.as_str(),
    });
    super::done(&app, &a, "certificate.issued", details, lang).await
}
