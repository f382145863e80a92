//! `/validate`: the public page where anyone checks a signed document (no sign-in). It asks
//! the signer exactly what `POST /api/signer/v1/validate` asks, and shows the verdict for
//! people: a headline, the ETSI EN 319 102-1 indication and sub-indication with a
//! plain-language explanation, then per signature who signed, when, the chain and each check.
//!
//! Rules:
//! - the form is `multipart/form-data` (a document and an optional detached signature, with
//!   the limits of the API) and carries a CSRF token: an HMAC of a random cookie scoped to
//!   `/validate` (a signed double-submit cookie; there is no session to bind to);
//! - the page and the API share one per-address rate limit;
//! - an upload that is too large, a form without a document or a bad token gets the form
//!   again with the reason, never a raw error.

use crate::app::{App, AppState};
use crate::crypto::{ct_eq, hmac_b64, random_token};
use crate::i18n::Lang;
use axum::extract::{FromRequest, Multipart, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;
use serde::Serialize;
use signer::http::upload::{self, UploadError};
use signer::http::validate::{admit, peer, Refusal};
use signer::validate::{Check, Indication, Input, Outcome, Report, SignatureReport, SubIndication};
use signer::Person;
use std::collections::HashMap;

/// The page's path (and its cookie's).
pub const PATH: &str = "/validate";
/// The CSRF cookie.
const COOKIE: &str = "vhod_validate";
/// How long the CSRF cookie lives, seconds.
const COOKIE_TTL: i64 = 12 * 3600;

/// The language: `?ui_locales=` (the form posts to the page's own language), then
/// `Accept-Language`.
fn lang(asked: Option<&str>, headers: &HeaderMap) -> Lang {
    let asked: Vec<String> = asked
        .map(|s| s.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    Lang::choose(&asked, headers)
}

fn csrf_token(app: &App, cookie: &str) -> String {
    hmac_b64(
        &app.secrets.client_secret_key,
        format!("validate-csrf:{cookie}").as_bytes(),
    )
}

/// The form, with a CSRF token bound to this browser's cookie (made when it has none).
fn form_page(
    app: &App,
    headers: &HeaderMap,
    lang: Lang,
    status: StatusCode,
    error: Option<&str>,
    report: Option<View>,
) -> Response {
    let existing = crate::http::cookie(headers, COOKIE)
        .filter(|c| c.len() >= 32 && c.len() <= 64)
        .map(str::to_owned);
    let fresh = existing.is_none();
    let cookie = existing.unwrap_or_else(|| random_token(24));
    let mut r = app.pages.page(
        status,
        "validate.html",
        lang,
        context! {
            csrf => csrf_token(app, &cookie),
            error,
            report,
            max_document_mb => signer::MAX_DOCUMENT / (1024 * 1024),
            max_signature_mb => signer::MAX_SIGNATURE / (1024 * 1024),
        },
    );
    if fresh {
        if let Some(c) = crate::http::set_cookie(
            COOKIE,
            &cookie,
            PATH,
            COOKIE_TTL,
            app.settings.secure_cookies,
        ) {
            r.headers_mut().append(header::SET_COOKIE, c);
        }
    }
    r
}

/// `GET /validate`.
pub async fn show(
    State(app): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let lang = lang(q.get("ui_locales").map(String::as_str), &headers);
    form_page(&app, &headers, lang, StatusCode::OK, None, None)
}

/// `POST /validate`.
pub async fn submit(
    State(app): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    req: Request,
) -> Response {
    let headers = req.headers().clone();
    let lang = lang(q.get("ui_locales").map(String::as_str), &headers);
    let again = |lang: Lang, status: StatusCode, key: &str| {
        form_page(&app, &headers, lang, status, Some(lang.t(key)), None)
    };
    match admit(&app.signer, peer(&req), &headers).await {
        Ok(()) => {}
        Err(Refusal::TooMany) => return again(lang, StatusCode::TOO_MANY_REQUESTS, "val_too_many"),
        Err(Refusal::Unavailable) => return app.pages.unavailable(lang),
    }
    let read = match Multipart::from_request(req, &()).await {
        Ok(m) => upload::read(m).await,
        Err(e) => Err(UploadError::Malformed(e.body_text())),
    };
    let upload = match read {
        Ok(u) => u,
        Err(UploadError::TooLarge(_)) => {
            return again(lang, StatusCode::PAYLOAD_TOO_LARGE, "val_too_large")
        }
        Err(UploadError::Malformed(_)) => {
            return again(lang, StatusCode::BAD_REQUEST, "val_bad_form")
        }
    };
    let csrf_ok = crate::http::cookie(&headers, COOKIE).is_some_and(|c| {
        upload
            .field("csrf")
            .is_some_and(|t| ct_eq(t, &csrf_token(&app, c)))
    });
    if !csrf_ok {
        return again(lang, StatusCode::FORBIDDEN, "err_csrf");
    }
    let Some(document) = upload.document.as_deref().filter(|d| !d.is_empty()) else {
        return again(lang, StatusCode::BAD_REQUEST, "val_no_document");
    };
    let report = match app
        .signer
        .validate(Input::detect(document, upload.signature.as_deref()))
        .await
    {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "validation policy unavailable");
            return app.pages.unavailable(lang);
        }
    };
    let view = View::of(&report, lang);
    form_page(&app, &headers, lang, StatusCode::OK, None, Some(view))
}

/// A verdict as the page shows it: the colour, the words, the explanation.
#[derive(Serialize)]
struct Verdict {
    /// `ok`, `bad` or `unknown`: the colour.
    class: &'static str,
    /// "The signature is valid" and the like, in the page's language.
    headline: &'static str,
    indication: String,
    sub_indication: Option<String>,
    explanation: &'static str,
    reason: String,
}

impl Verdict {
    /// `prefix` picks the headline texts: `val_headline` for the document, `val_sig` for one
    /// signature.
    fn of(
        indication: Indication,
        sub: Option<SubIndication>,
        reason: &str,
        prefix: &str,
        lang: Lang,
    ) -> Verdict {
        let class = match indication {
            Indication::TotalPassed => "ok",
            Indication::TotalFailed => "bad",
            Indication::Indeterminate => "unknown",
        };
        Verdict {
            class,
            headline: lang.t(&format!("{prefix}_{class}")),
            indication: word(&indication),
            sub_indication: sub.as_ref().map(word),
            explanation: explanation(sub, lang),
            reason: reason.to_owned(),
        }
    }
}

/// The report as the page shows it.
#[derive(Serialize)]
struct View {
    #[serde(flatten)]
    verdict: Verdict,
    signatures: Vec<SignatureView>,
}

#[derive(Serialize)]
struct SignatureView {
    #[serde(flatten)]
    verdict: Verdict,
    name: Option<String>,
    snils: Option<String>,
    claimed_time: Option<String>,
    timestamp: Option<String>,
    timestamp_valid: bool,
    tsa: Option<String>,
    chain: Vec<String>,
    checks: Vec<CheckView>,
}

#[derive(Serialize)]
struct CheckView {
    label: String,
    outcome: &'static str,
    outcome_label: &'static str,
    detail: String,
}

/// How serde spells a report word (`TOTAL_PASSED`, `HASH_FAILURE`).
fn word<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

impl View {
    fn of(r: &Report, lang: Lang) -> View {
        View {
            verdict: Verdict::of(
                r.indication,
                r.sub_indication,
                &r.reason,
                "val_headline",
                lang,
            ),
            signatures: r.signatures.iter().map(|s| sig_view(s, lang)).collect(),
        }
    }
}

fn sig_view(s: &SignatureReport, lang: Lang) -> SignatureView {
    let person = s.signer.as_ref().map(|c| Person::from_subject(&c.subject));
    let stamp = s.timestamp.as_ref();
    SignatureView {
        verdict: Verdict::of(s.indication, s.sub_indication, &s.reason, "val_sig", lang),
        name: person.as_ref().map(|p| p.name.clone()),
        snils: person.and_then(|p| p.snils),
        claimed_time: s.claimed_signing_time.clone(),
        timestamp: stamp.and_then(|t| t.time.clone()),
        timestamp_valid: stamp.is_some_and(|t| t.valid),
        tsa: stamp
            .and_then(|t| t.tsa.as_ref())
            .map(|c| Person::from_subject(&c.subject).name),
        chain: s
            .chain
            .iter()
            .map(|c| Person::from_subject(&c.subject).name)
            .collect(),
        checks: s.checks.iter().map(|c| check_view(c, lang)).collect(),
    }
}

fn check_view(c: &Check, lang: Lang) -> CheckView {
    let label = lang.t(&format!("val_check_{}", c.name));
    let outcome = match c.outcome {
        Outcome::Passed => "passed",
        Outcome::Failed => "failed",
        Outcome::Warning => "warning",
        Outcome::Skipped => "skipped",
    };
    CheckView {
        label: if label.is_empty() {
            c.name.to_owned()
        } else {
            label.to_owned()
        },
        outcome,
        outcome_label: lang.t(&format!("val_outcome_{outcome}")),
        detail: c.detail.clone(),
    }
}

/// The plain-language explanation of a sub-indication (`val_sub_` and its JSON word in lower
/// case), or of a pass.
fn explanation(s: Option<SubIndication>, lang: Lang) -> &'static str {
    let key = s.map_or("val_sub_none".to_owned(), |s| {
        format!("val_sub_{}", word(&s).to_lowercase())
    });
    lang.t(&key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sub_indication_is_explained_in_both_languages() {
        for s in SubIndication::ALL {
            for lang in [Lang::Ru, Lang::En] {
                assert!(!explanation(Some(s), lang).is_empty(), "{s:?} in {lang:?}");
            }
        }
        assert!(!explanation(None, Lang::En).is_empty());
    }

    #[test]
    fn every_check_the_validator_names_has_a_label() {
        for name in [
            "format",
            "content_type",
            "message_digest",
            "signing_certificate",
            "signing_certificate_reference",
            "signature_value",
            "algorithms",
            "signature_timestamp",
            "document_timestamp",
            "key_usage",
            "certificate_chain",
            "revocation",
            "revocation_ca",
            "validity_period",
        ] {
            for lang in [Lang::Ru, Lang::En] {
                assert!(!lang.t(&format!("val_check_{name}")).is_empty(), "{name}");
            }
        }
    }
}
