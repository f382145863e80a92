//! The citizen's e-signature certificates in the personal account (`/account/certificates`):
//! the list (serial, subject, key algorithm, validity, status, revocation), PEM and DER
//! downloads, issuance of a new one and revocation.
//!
//! Rules (issue 5; DOMAIN.md "Account levels"):
//! - only a `confirmed` account may get a certificate; others are told why and how to raise
//!   the level, and the refusal is audited;
//! - issuance needs the second factor, asked again (`confirm`); an account without one is
//!   told to add one;
//! - the subject is built from the account's identity data (full name, SNILS, INN when
//!   known), never from what the form says; the key pair is made and kept server-side,
//!   encrypted (`keys::ca`);
//! - every issuance, refusal and revocation is an audit event whose subject is the account
//!   id, with the serial in the details; the citizen is told of issuance and revocation.

use super::{factors_of, signed_in, signed_in_form, when};
use crate::app::{App, AppState};
use crate::i18n::Lang;
use crate::otp_factor::{self, Factors};
use crate::session;
use crate::store::Account;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use keys::audit::NewEvent;
use keys::ca::{CertStatus, CitizenCert, CitizenSubject, Inn, KeyAlg, Snils};
use minijinja::context;

pub mod confirm;
pub mod follow;
mod issue;
mod revoke;

pub use issue::{issue, send_code};
pub use revoke::revoke;

/// The key algorithms offered, the default first: (form value, label).
const ALGS: [(&str, KeyAlg); 3] = [
    ("p256", KeyAlg::P256),
    ("rsa2048", KeyAlg::Rsa2048),
    ("rsa3072", KeyAlg::Rsa3072),
];

/// The key algorithm a form names (`p256` when none is named).
fn key_alg(form: &crate::oauth::params::Params) -> Option<KeyAlg> {
    let v = form.get("alg").unwrap_or("p256");
    ALGS.iter().find(|(k, _)| *k == v).map(|(_, a)| *a)
}

/// What the page shows besides the list.
#[derive(Default)]
struct Extra<'a> {
    /// An error above the forms.
    error: Option<&'a str>,
    /// A code was just sent by this method (`sms`, `email`).
    sent: Option<otp_factor::Method>,
    /// The method preselected in the issuance form.
    method: Option<&'a str>,
}

/// The common name in a certificate's subject, for the list.
fn common_name(der: &[u8]) -> String {
    use der::Decode;
    let Ok(cert) = x509_cert::Certificate::from_der(der) else {
        return String::new();
    };
    let cn = const_oid::db::rfc4519::CN;
    cert.tbs_certificate
        .subject
        .0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .find(|atv| atv.oid == cn)
        .and_then(|atv| atv.value.decode_as::<String>().ok())
        .unwrap_or_default()
}

fn row(c: &CitizenCert, now: i64, lang: Lang) -> minijinja::Value {
    let (status, revoked_at, reason) = match c.status {
        CertStatus::Revoked { at, reason } => {
            ("revoked", Some(when(at)), Some(follow::reason_name(reason)))
        }
        CertStatus::Valid if c.not_after < now => ("expired", None, None),
        CertStatus::Valid => ("valid", None, None),
    };
    context! {
        serial => &c.serial,
        subject => common_name(&c.der),
        alg => c.key_alg.as_str(),
        from => when(c.not_before),
        to => when(c.not_after),
        status,
        status_name => lang.t(&format!("cert_status_{status}")),
        revoked_at,
        reason,
        reason_name => reason.map(|r| lang.t(&format!("cert_reason_{r}"))),
    }
}

/// Why `a` may not get a certificate now: the text key, or `None` when it may.
fn not_entitled(a: &Account, f: &Factors) -> Option<&'static str> {
    if a.level != "confirmed" {
        Some("cert_need_confirmed")
    } else if a.locked_at.is_some() {
        Some("account_locked")
    } else if !f.any() {
        Some("cert_need_factor")
    } else {
        None
    }
}

async fn page(
    app: &App,
    headers: &HeaderMap,
    lang: Lang,
    status: StatusCode,
    a: &Account,
    extra: Extra<'_>,
) -> Response {
    let certs = match app.signer.ca.list_for_account(&a.id).await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "certificate list failed");
            return app.pages.unavailable(lang);
        }
    };
    let f = match factors_of(app, a, lang).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let now = app.now();
    let rows: Vec<_> = certs.iter().map(|c| row(c, now, lang)).collect();
    let blocked = not_entitled(a, &f);
    let offered = confirm::offered(&f);
    let passkey = if blocked.is_none() && offered.contains(&confirm::Proof::Passkey) {
        confirm::start_passkey(app, a).await
    } else {
        None
    };
    let methods: Vec<_> = offered
        .iter()
        .filter(|p| **p != confirm::Proof::Passkey)
        .map(|p| {
            let m = p.as_str();
            context! {
                method => m,
                label => lang.t(&format!("mfa_method_{m}")),
                selected => extra.method == Some(m),
                sent => matches!(p, confirm::Proof::Code(x) if x.is_sent()),
            }
        })
        .collect();
    let algs: Vec<_> = ALGS
        .iter()
        .map(|(k, a)| context! { value => k, label => a.as_str() })
        .collect();
    app.pages.page(
        status,
        "certificates.html",
        lang,
        context! {
            csrf => session::csrf_for(app, headers).unwrap_or_default(),
            certs => rows,
            level => &a.level,
            blocked => blocked.map(|k| lang.t(k)),
            blocked_key => blocked,
            methods,
            algs,
            passkey_ceremony => passkey.as_ref().map(|p| p.0.clone()),
            passkey_options => passkey.as_ref().map(|p| p.1.clone()),
            sent_to => extra.sent.map(|m| otp_factor::masked(a, m)),
            error => extra.error,
        },
    )
}

/// `GET /account/certificates`.
pub async fn show(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let lang = Lang::choose(&[], &headers);
    let (_, a) = match signed_in(&app, &headers, lang).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    page(&app, &headers, lang, StatusCode::OK, &a, Extra::default()).await
}

/// `GET /account/certificates/{serial}/{format}`: one of the account's certificates as
/// `pem` (`application/x-pem-file`) or `der` (`application/pkix-cert`, RFC 2585).
pub async fn download(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path((serial, format)): Path<(String, String)>,
) -> Response {
    let lang = Lang::choose(&[], &headers);
    let (_, a) = match signed_in(&app, &headers, lang).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let not_found = || {
        app.pages
            .error(StatusCode::NOT_FOUND, lang, "cert_not_found", None, None)
    };
    if serial.len() > 64 || !serial.bytes().all(|b| b.is_ascii_hexdigit()) {
        return not_found();
    }
    let cert = match app.signer.ca.find(&serial.to_ascii_lowercase()).await {
        Ok(Some(c)) if c.account_id == a.id => c,
        Ok(_) => return not_found(),
        Err(e) => {
            tracing::error!(error = %e, "certificate lookup failed");
            return app.pages.unavailable(lang);
        }
    };
    let (body, media, ext) = match format.as_str() {
        "pem" => (
            keys::ca::cert_pem(&cert.der).into_bytes(),
            "application/x-pem-file",
            "pem",
        ),
        "der" => (cert.der, "application/pkix-cert", "cer"),
        _ => return not_found(),
    };
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}.{ext}\"", cert.serial))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The subject of `a`'s certificate, from the identity data given for the level; `None`
/// when there is none (or it cannot be opened).
async fn subject_of(app: &App, a: &Account) -> Result<Option<CitizenSubject>, Response> {
    let row = app.db.identities().get(&a.id).await.map_err(|e| {
        tracing::error!(error = %e, "identity lookup failed");
        app.pages.unavailable(Lang::Ru)
    })?;
    let Some(row) = row else { return Ok(None) };
    let i = row.identity;
    let key = &app.secrets.identity_key;
    let snils =
        crate::identity::open(key, "snils", &i.snils_enc).and_then(|s| Snils::parse(&s).ok());
    let inn = i
        .inn_enc
        .as_deref()
        .and_then(|b| crate::identity::open(key, "inn", b))
        .and_then(|s| Inn::parse(&s).ok());
    let Some(snils) = snils else { return Ok(None) };
    Ok(Some(CitizenSubject {
        surname: i.family_name,
        given_name: i.given_name,
        patronymic: i.middle_name,
        snils: Some(snils),
        inn,
    }))
}

/// Appends an audit event about `a`'s certificates, logging a failure (the trail's own
/// alarm) without failing the request.
async fn audit(app: &App, a: &Account, action: &str, details: serde_json::Value) {
    let actor = format!("account:{}", a.id);
    let e = NewEvent {
        actor: &actor,
        action,
        subject: Some(&a.id),
        details,
    };
    if let Err(e) = app.audit.append(e).await {
        tracing::error!(error = %e, action, "audit event not written");
    }
}

/// After an issuance or a revocation: the audit event, the notice to the citizen
/// (`certificate.issued` tells `certificate_issued`, ...), and back to the list.
async fn done(
    app: &App,
    a: &Account,
    action: &str,
    details: serde_json::Value,
    lang: Lang,
) -> Response {
    audit(app, a, action, details).await;
    let notice = action.replace('.', "_");
    crate::notify::tell(app, a, &notice, lang).await;
    crate::oauth::authorize::response::redirect("/account/certificates")
}

/// A posted certificate form: the signed-in account (CSRF checked), the form, and the
/// account's second factors.
async fn posted(
    app: &App,
    headers: &HeaderMap,
    lang: Lang,
    body: &[u8],
) -> Result<(Account, crate::oauth::params::Params, Factors), Response> {
    let (a, form) = signed_in_form(app, headers, lang, body).await?;
    let f = factors_of(app, &a, lang).await?;
    Ok((a, form, f))
}
