//! The citizen's signing pages: `/account/sign/{id}` shows a signing request (client, each
//! document's name, type, size and SHA-256, previews of PDFs and images, the certificate that
//! will sign) and takes the confirmation; `/account/signatures` lists pending requests and
//! what was signed or declined.
//!
//! Rules: only the account the request names may see or act on it (anyone else gets 404);
//! every form carries the session's CSRF token; the confirmation carries the set digest the
//! page showed, which the signer compares with the one derived from storage; the second
//! factor is the authenticator app's code, spent once (the same replay key as sign-in), or a
//! code sent by SMS or e-mail whose message names the document count and the digest's prefix
//! and which is stored under that digest, so it confirms that set only, or a passkey whose
//! ceremony is bound to the request and its digest (`passkey`); wrong codes and refused
//! passkeys count towards the request's attempt limit. Every handler starts with [`target`]:
//! the account, the CSRF token of a form, and the request as far as the handler needs it.
//! The documents themselves are served by `document`.

mod document;
mod passkey;

pub use document::document;
pub(crate) use passkey::confirm as confirm_passkey;

use super::{signed_in, signed_in_form, when};
use crate::app::{App, AppState};
use crate::i18n::Lang;
use crate::oauth::params::Params;
use crate::otp_factor::{self, Method};
use crate::store::Account;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use minijinja::{context, Value};
use signer::requests::{DocType, RequestInfo, SignError, Status};
use std::time::Duration;

/// The page's CSP: the defaults plus framing our own document previews.
const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; object-src 'self'; frame-src 'self'; frame-ancestors 'none'; \
     base-uri 'none'; form-action 'self'";

fn human_size(bytes: i64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{:.1} KB", b as f64 / 1024.0),
        b => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
    }
}

async fn client_name(app: &App, client_id: &str) -> String {
    match app.db.clients().get(client_id).await {
        Ok(Some(c)) => c.name,
        _ => client_id.to_owned(),
    }
}

fn status_text(lang: Lang, s: Status) -> &'static str {
    lang.t(match s {
        Status::Pending => "sign_status_pending",
        Status::Signed => "sign_status_signed",
        Status::Declined => "sign_status_declined",
        Status::Expired => "sign_status_expired",
    })
}

fn documents(r: &RequestInfo) -> Vec<Value> {
    r.documents
        .iter()
        .map(|d| {
            let t = DocType::from_media_type(&d.media_type);
            let preview = match t {
                Some(DocType::Pdf) => "pdf",
                Some(DocType::Png | DocType::Jpeg) => "image",
                _ => "",
            };
            context! {
                n => d.n,
                name => &d.name,
                kind => t.map_or("?", DocType::label),
                size => human_size(d.size),
                sha256 => &d.sha256,
                preview,
                url => format!("/account/sign/{}/documents/{}", r.id, d.n),
            }
        })
        .collect()
}

/// The request `id` if the signed-in account may see it, or the page that says why not.
async fn load(app: &App, lang: Lang, id: &str, a: &Account) -> Result<RequestInfo, Response> {
    match app.signer.request_for_account(id, &a.id).await {
        Ok(Some(r)) => Ok(r),
        Ok(None) => Err(app
            .pages
            .error(StatusCode::NOT_FOUND, lang, "sign_not_found", None, None)),
        Err(e) => {
            tracing::error!(error = %e, "signing request lookup failed");
            Err(app.pages.unavailable(lang))
        }
    }
}

/// Renders the signing page for `r`, with `error` (a text key) if a confirmation failed.
async fn page(
    app: &App,
    headers: &HeaderMap,
    lang: Lang,
    a: &Account,
    r: &RequestInfo,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    page_sent(app, headers, lang, a, r, status, error, None).await
}

/// The signing page; `sent` names the channel a code just went to.
#[expect(
    clippy::too_many_arguments,
    reason = "one page, its request and its state"
)]
async fn page_sent(
    app: &App,
    headers: &HeaderMap,
    lang: Lang,
    a: &Account,
    r: &RequestInfo,
    status: StatusCode,
    error: Option<&str>,
    sent: Option<Method>,
) -> Response {
    let channels: Vec<Value> = [Method::Sms, Method::Email]
        .into_iter()
        .filter(|m| otp_factor::recipient(a, *m).is_some())
        .map(|m| {
            context! {
                method => m.as_str(),
                label => lang.t(if m == Method::Sms { "sign_send_sms" } else { "sign_send_email" }),
            }
        })
        .collect();
    let cert = match app.signer.signing_certificate(&a.id).await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "certificate lookup failed");
            return app.pages.unavailable(lang);
        }
    };
    let cert = cert.map(|c| {
        context! {
            serial => c.serial,
            alg => c.key_alg.as_str(),
            not_after => when(c.not_after),
        }
    });
    // A ceremony only where the passkey can sign: an open request and a certificate.
    let ceremony = match (&cert, r.status) {
        (Some(_), Status::Pending) => match passkey::start(app, a, r).await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "passkey lookup failed");
                return app.pages.unavailable(lang);
            }
        },
        _ => None,
    };
    let csrf = crate::session::csrf_for(app, headers).unwrap_or_default();
    let mut resp = app.pages.page(
        status,
        "sign.html",
        lang,
        context! {
            id => &r.id,
            client => client_name(app, &r.client_id).await,
            status => r.status.as_str(),
            status_text => status_text(lang, r.status),
            format => r.format.as_str(),
            level => r.level.as_str(),
            expires => when(r.expires_at),
            decided => r.decided_at.map(when),
            set_digest => &r.set_digest,
            documents => documents(r),
            cert,
            has_totp => a.totp_secret.is_some(),
            passkey_ceremony => ceremony.as_ref().map(|c| c.0.clone()),
            passkey_options => ceremony.as_ref().map(|c| c.1.clone()),
            channels,
            sent => sent.map(Method::as_str),
            sent_to => sent.map(|m| otp_factor::masked(a, m)),
            error => error.map(|k| lang.t(k)),
            csrf,
        },
    );
    resp.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_CSP),
    );
    resp
}

/// `GET /account/sign/{id}`.
pub async fn show(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    match target(&app, &headers, &id, &[], Need::View).await {
        Ok(t) => t.page(&app, &headers, StatusCode::OK, None).await,
        Err(resp) => resp,
    }
}

/// Whether `typed` is the account's authenticator code now, not used before.
async fn totp_ok(app: &App, a: &Account, typed: &str) -> Result<bool, Response> {
    let Some(secret) = a
        .totp_secret
        .as_deref()
        .and_then(|s| crate::totp::open(&app.secrets.factor_key, s))
    else {
        return Ok(false);
    };
    let Some(step) = crate::totp::matching_step(&secret, typed, app.now()) else {
        return Ok(false);
    };
    // The sign-in replay key: a code that signed in cannot also sign, nor the reverse.
    let used = format!("totp:used:{}:{step}", a.id);
    let window = Duration::from_secs(crate::totp::REPLAY_WINDOW_SECS);
    app.cache
        .put_if_absent(&used, b"1", window)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "replay cache failed");
            app.pages.unavailable(Lang::Ru)
        })
}

fn refusal(e: &SignError) -> (StatusCode, &'static str) {
    match e {
        SignError::NotFound => (StatusCode::NOT_FOUND, "sign_not_found"),
        SignError::Closed(_) => (StatusCode::CONFLICT, "sign_closed"),
        SignError::DigestMismatch => (StatusCode::CONFLICT, "sign_digest_mismatch"),
        SignError::NoCertificate => (StatusCode::CONFLICT, "sign_no_certificate"),
        SignError::Locked => (StatusCode::TOO_MANY_REQUESTS, "sign_locked"),
        SignError::Store(_) | SignError::Ca(_) | SignError::Signing(_) => {
            (StatusCode::SERVICE_UNAVAILABLE, "err_server")
        }
    }
}

/// After a failure: the page again with the reason (or the error page when the request is
/// gone).
async fn refused(
    app: &App,
    headers: &HeaderMap,
    lang: Lang,
    a: &Account,
    id: &str,
    e: &SignError,
) -> Response {
    let (status, key) = refusal(e);
    if matches!(
        e,
        SignError::Store(_) | SignError::Ca(_) | SignError::Signing(_)
    ) {
        tracing::error!(error = %e, request = id, "signing failed");
    }
    match load(app, lang, id, a).await {
        Ok(r) => page(app, headers, lang, a, &r, status, Some(key)).await,
        Err(resp) => resp,
    }
}

/// How far a handler needs its request checked before it acts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Need {
    /// To see it: the account's own request, in any state.
    View,
    /// To act on it by a form: also the session's CSRF token.
    Form,
    /// To confirm it: also open, under the attempt limit and showing the same documents (the
    /// posted set digest equals the one derived from storage) — before a code is sent or
    /// spent, or a passkey checked.
    Confirm,
}

/// A request a handler may act on: who asks, in which language, what they posted.
struct Target {
    lang: Lang,
    account: Account,
    form: Params,
    request: RequestInfo,
}

impl Target {
    /// The set digest the page showed and the form posted back.
    fn digest(&self) -> &str {
        self.form.get("set_digest").unwrap_or("")
    }

    /// The signing page for this request, with `error` (a text key).
    async fn page(
        &self,
        app: &App,
        headers: &HeaderMap,
        status: StatusCode,
        error: Option<&str>,
    ) -> Response {
        let (lang, a, r) = (self.lang, &self.account, &self.request);
        page(app, headers, lang, a, r, status, error).await
    }
}

/// [`target`] as an extractor, for the handlers that confirm a request (`Need::Confirm`):
/// the request `id` from the path, the posted form from the body.
pub(crate) struct Confirming(Target);

/// [`target`] as an extractor, for the handlers that act on a request by a form
/// (`Need::Form`).
pub(crate) struct Deciding(Target);

impl axum::extract::FromRequest<AppState> for Confirming {
    type Rejection = Response;
    async fn from_request(req: axum::extract::Request, app: &AppState) -> Result<Self, Response> {
        target_of(req, app, Need::Confirm).await.map(Confirming)
    }
}

impl axum::extract::FromRequest<AppState> for Deciding {
    type Rejection = Response;
    async fn from_request(req: axum::extract::Request, app: &AppState) -> Result<Self, Response> {
        target_of(req, app, Need::Form).await.map(Deciding)
    }
}

/// The path's request id and the body (within the route's body limit), then [`target`].
async fn target_of(
    req: axum::extract::Request,
    app: &AppState,
    need: Need,
) -> Result<Target, Response> {
    use axum::extract::{FromRequest, FromRequestParts};
    use axum::response::IntoResponse;
    let (mut parts, body) = req.into_parts();
    let Path(id) = Path::<String>::from_request_parts(&mut parts, app)
        .await
        .map_err(IntoResponse::into_response)?;
    let headers = parts.headers.clone();
    let req = axum::extract::Request::from_parts(parts, body);
    let body = Bytes::from_request(req, app)
        .await
        .map_err(IntoResponse::into_response)?;
    target(app, &headers, &id, &body, need).await
}

/// The start every handler here shares: the signed-in account, the CSRF token of a posted
/// form (`body`), and the request `id` checked as `need` says; otherwise the page to give
/// (sign-in, 403, 404, or the signing page with the reason).
async fn target(
    app: &App,
    headers: &HeaderMap,
    id: &str,
    body: &[u8],
    need: Need,
) -> Result<Target, Response> {
    let lang = Lang::choose(&[], headers);
    let (account, form) = match need {
        Need::View => (signed_in(app, headers, lang).await?.1, Params::default()),
        Need::Form | Need::Confirm => signed_in_form(app, headers, lang, body).await?,
    };
    let request = match need {
        Need::View | Need::Form => load(app, lang, id, &account).await?,
        Need::Confirm => {
            let digest = form.get("set_digest").unwrap_or("");
            match app.signer.check_confirmable(id, &account.id, digest).await {
                Ok(r) => r,
                Err(e) => return Err(refused(app, headers, lang, &account, id, &e).await),
            }
        }
    };
    Ok(Target {
        lang,
        account,
        form,
        request,
    })
}

/// Counts a refused confirmation (`reason`) toward the request's attempt limit; then the page
/// with the refusal `key` and `sent` (the channel a code went to, if any).
async fn wrong_factor(
    app: &App,
    headers: &HeaderMap,
    t: &Target,
    reason: &str,
    key: &str,
    sent: Option<Method>,
) -> Response {
    let (lang, a, id) = (t.lang, &t.account, t.request.id.as_str());
    if let Err(e) = app.signer.refuse_confirmation(id, &a.id, reason).await {
        tracing::error!(error = %e, "failed attempt not recorded");
        return app.pages.unavailable(lang);
    }
    match load(app, lang, id, a).await {
        Ok(r) => {
            let status = StatusCode::UNAUTHORIZED;
            page_sent(app, headers, lang, a, &r, status, Some(key), sent).await
        }
        Err(resp) => resp,
    }
}

/// Signs the request of `t` over the digest its factor confirmed (`amr` names the factor);
/// the page with the outcome.
async fn sign(app: &App, headers: &HeaderMap, t: &Target, digest: &str, amr: &str) -> Response {
    let (lang, a, id) = (t.lang, &t.account, t.request.id.as_str());
    match app.signer.sign_request(id, &a.id, digest, amr).await {
        Ok(r) => page(app, headers, lang, a, &r, StatusCode::OK, None).await,
        Err(e) => refused(app, headers, lang, a, id, &e).await,
    }
}

/// `POST /account/sign/{id}`: the confirmation (set digest + authenticator code).
pub(crate) async fn confirm(
    State(app): State<AppState>,
    headers: HeaderMap,
    Confirming(t): Confirming,
) -> Response {
    let id = t.request.id.clone();
    let (a, digest) = (&t.account, t.digest());
    let typed = t.form.get("code").unwrap_or("").trim();
    let sent = t
        .form
        .get("method")
        .and_then(Method::parse)
        .filter(|m| m.is_sent());
    let fresh = match sent {
        // The code is stored under this digest: it confirms this set of documents only.
        Some(m) => {
            match otp_factor::check(&app, &a.id, m, &code_purpose(&id, digest), typed).await {
                Ok(()) => true,
                Err((StatusCode::SERVICE_UNAVAILABLE, _)) => return app.pages.unavailable(t.lang),
                Err(_) => false,
            }
        }
        None => match totp_ok(&app, a, typed).await {
            Ok(x) => x,
            Err(r) => return r,
        },
    };
    if !fresh {
        return wrong_factor(&app, &headers, &t, "wrong_factor", "bad_totp", sent).await;
    }
    let amr = sent.unwrap_or(Method::Totp).amr()[1];
    sign(&app, &headers, &t, digest, amr).await
}

/// The purpose a sent code is stored under: the request and the set digest it confirms.
fn code_purpose(id: &str, digest: &str) -> String {
    format!("sign:{id}:{digest}")
}

/// `POST /account/sign/{id}/send`: sends a code by SMS or e-mail for the set digest shown.
pub(crate) async fn send_code(
    State(app): State<AppState>,
    headers: HeaderMap,
    Confirming(t): Confirming,
) -> Response {
    let id = t.request.id.clone();
    let (lang, a, r, digest) = (t.lang, &t.account, &t.request, t.digest());
    let Some(m) = t
        .form
        .get("method")
        .and_then(Method::parse)
        .filter(|m| m.is_sent())
    else {
        let status = StatusCode::BAD_REQUEST;
        return t
            .page(&app, &headers, status, Some("err_channel_unavailable"))
            .await;
    };
    let wording = otp_factor::Wording {
        kind: "sign_code".into(),
        subject: lang.t("sign_code_subject").into(),
        text: lang
            .t("sign_code_text")
            .replace("{count}", &r.documents.len().to_string())
            .replace("{digest}", digest.get(..8).unwrap_or(digest)),
    };
    match otp_factor::send_worded(&app, a, m, &code_purpose(&id, digest), &wording).await {
        Ok(()) => page_sent(&app, &headers, lang, a, r, StatusCode::OK, None, Some(m)).await,
        Err((status, key)) => t.page(&app, &headers, status, Some(key)).await,
    }
}

/// `POST /account/sign/{id}/decline`.
pub(crate) async fn decline(
    State(app): State<AppState>,
    headers: HeaderMap,
    Deciding(t): Deciding,
) -> Response {
    let id = t.request.id.clone();
    let (lang, a) = (t.lang, &t.account);
    match app.signer.decline_request(&id, &a.id).await {
        Ok(()) => match load(&app, lang, &id, a).await {
            Ok(r) => page(&app, &headers, lang, a, &r, StatusCode::OK, None).await,
            Err(resp) => resp,
        },
        Err(e) => refused(&app, &headers, lang, a, &id, &e).await,
    }
}

/// `GET /account/signatures`: requests waiting for the citizen, then what was signed,
/// declined or let expire.
pub async fn list(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let lang = Lang::choose(&[], &headers);
    let (_, a) = match signed_in(&app, &headers, lang).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let requests = match app.signer.requests_for_account(&a.id, 100).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "signing requests lookup failed");
            return app.pages.unavailable(lang);
        }
    };
    let (mut pending, mut history) = (Vec::new(), Vec::new());
    for r in &requests {
        let row = context! {
            id => &r.id,
            client => client_name(&app, &r.client_id).await,
            status => r.status.as_str(),
            status_text => status_text(lang, r.status),
            format => r.format.as_str(),
            when => when(r.decided_at.unwrap_or(r.created_at)),
            documents => r.documents.iter().map(|d| d.name.clone()).collect::<Vec<_>>(),
        };
        if r.status == Status::Pending {
            pending.push(row);
        } else {
            history.push(row);
        }
    }
    app.pages.page(
        StatusCode::OK,
        "signatures.html",
        lang,
        context! { pending, history },
    )
}
