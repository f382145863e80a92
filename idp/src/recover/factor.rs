//! The second-factor step of a recovery (`/recover/{id}/factor`, `/method`, `/send`,
//! `/passkey`): the account's factors, as at sign-in, less the channel the recovery code went
//! by (see the module above for why).
//!
//! Rules:
//! - The person may pick any offered way — authenticator app or recovery code, a code by SMS
//!   or e-mail, a passkey — and nothing else.
//! - An SMS or e-mail code goes out only when asked for, by `otp_factor::send` (6 digits, 10
//!   minutes, single-use, 5 attempts, a minute between sends, an hourly cap per account
//!   shared with sign-in) and is checked by `otp_factor::check`.
//! - A passkey answers a challenge bound to this recovery and its account (WebAuthn §7.2,
//!   single-use state in the shared cache); only the account's own credentials count.
//! - Every answer counts toward the recovery's own limit; a wrong app code, recovery code or
//!   passkey also toward the account's second-factor limit shared with sign-in
//!   (`otp_factor::MAX_FAILURES`), which refuses every answer while it is reached.

use super::{render, Flow, FLOW};
use crate::app::{App, AppState};
use crate::flow::SentCode;
use crate::otp_factor::{self, Factors, Method};
use crate::passkey::assertion::{check_own, keys_of, request_options};
use crate::passkey::{put_state, relying_party, take_state};
use crate::store::Account;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{PasskeyAuthentication, PublicKeyCredential};

/// `otp_factor` purpose of second-factor codes sent during a recovery (messages of kind
/// `recovery_factor_code`).
const PURPOSE: &str = "recovery_factor";

/// Answers one recovery may give before it must start over.
const ATTEMPTS: u32 = SentCode::ATTEMPTS * 2;

/// A way to give the second factor here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum Way {
    /// A code: the app's, a recovery code, or one sent by SMS or e-mail.
    Code(Method),
    /// A passkey.
    Passkey,
}

impl Way {
    /// The form value.
    fn as_str(self) -> &'static str {
        match self {
            Way::Code(m) => m.as_str(),
            Way::Passkey => "passkey",
        }
    }

    fn parse(s: &str) -> Option<Way> {
        match s {
            "passkey" => Some(Way::Passkey),
            _ => Method::parse(s).map(Way::Code),
        }
    }
}

/// A passkey assertion in progress for a recovery, kept in the cache until the browser
/// answers.
#[derive(Serialize, Deserialize)]
struct Assertion {
    /// The recovery it belongs to.
    flow: String,
    /// The account whose credentials were allowed.
    account_id: String,
    /// webauthn-rs's state (the challenge and the allowed credentials).
    state: PasskeyAuthentication,
}

/// The factors that may serve in a recovery whose code went by `channel`: the account's
/// without that channel. When nothing is left (`!any()`), nothing is asked.
pub(super) fn usable(all: Factors, channel: Option<Method>) -> Factors {
    let mut f = all;
    match channel {
        Some(Method::Sms) => f.sms = false,
        Some(Method::Email) => f.email = false,
        _ => {}
    }
    f
}

/// The ways offered for `f`, codes first (the authenticator app before sent codes).
fn ways(f: &Factors, passkeys_work: bool) -> Vec<Way> {
    let mut w: Vec<Way> = f.methods().into_iter().map(Way::Code).collect();
    if f.passkey && passkeys_work {
        w.push(Way::Passkey);
    }
    w
}

/// The flow's account and the ways it may give its factor now.
struct Step {
    account: Account,
    ways: Vec<Way>,
    /// The account has passkeys (offered or not).
    passkey: bool,
}

impl Step {
    /// The way asked now: the one picked while still offered, else the first.
    fn current(&self, f: &Flow) -> Option<Way> {
        f.way
            .filter(|w| self.ways.contains(w))
            .or(self.ways.first().copied())
    }
}

async fn load_step(app: &App, f: &Flow, account_id: &str) -> Result<Step, Response> {
    let lang = f.b.lang;
    let account = match app.db.accounts().get(account_id).await {
        Ok(Some(a)) => a,
        Ok(None) => {
            return Err(app
                .pages
                .error(StatusCode::NOT_FOUND, lang, "err_expired", None, None))
        }
        Err(e) => {
            tracing::error!(error = %e, "account lookup failed");
            return Err(app.pages.unavailable(lang));
        }
    };
    let all = otp_factor::factors(app, &account).await.map_err(|e| {
        tracing::error!(error = %e, "factor lookup failed");
        app.pages.unavailable(lang)
    })?;
    let f2 = usable(all, f.channel);
    Ok(Step {
        ways: ways(&f2, relying_party(app).is_some()),
        passkey: f2.passkey,
        account,
    })
}

/// Renders the second-factor step; starts a passkey ceremony when that is the way asked.
pub(super) async fn page(
    app: &App,
    f: &Flow,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    let lang = f.b.lang;
    let Some(account_id) = f.account_id.as_deref() else {
        return app.pages.unavailable(lang);
    };
    let s = match load_step(app, f, account_id).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Some(way) = s.current(f) else {
        // Passkeys only, on an issuer where they cannot work; or the factors went meanwhile
        // (a new recovery then asks what the account has now).
        if s.passkey {
            return crate::passkey::unavailable(app, lang);
        }
        return app
            .pages
            .error(StatusCode::CONFLICT, lang, "err_expired", None, None);
    };
    let others: Vec<_> = s
        .ways
        .iter()
        .filter(|w| **w != way)
        .map(|w| {
            let label = lang.t(&format!("mfa_method_{}", w.as_str()));
            context! { value => w.as_str(), label }
        })
        .collect();
    let (mut ceremony, mut options) = (None, None);
    let mut sent = false;
    let mut sent_to = String::new();
    match way {
        Way::Passkey => match start_passkey(app, f, &s.account).await {
            Ok((token, o)) => (ceremony, options) = (Some(token), Some(o)),
            Err(r) => return r,
        },
        Way::Code(m) if m.is_sent() => {
            sent = true;
            sent_to = otp_factor::masked(&s.account, m);
        }
        Way::Code(_) => {}
    }
    let code_sent = matches!(way, Way::Code(m) if f.sent == Some(m));
    app.pages.page(
        status,
        "recover.html",
        lang,
        context! {
            id => &f.b.id, csrf => &f.b.csrf, step => "factor", error, others,
            method => way.as_str(), sent, code_sent, sent_to, ceremony, options,
        },
    )
}

/// Starts a passkey assertion for the account, bound to this recovery: its token and the
/// options for the page.
async fn start_passkey(
    app: &App,
    f: &Flow,
    account: &Account,
) -> Result<(String, String), Response> {
    let lang = f.b.lang;
    let Some(rp) = relying_party(app) else {
        return Err(crate::passkey::unavailable(app, lang));
    };
    let keys = keys_of(app, &account.id).await.map_err(|e| {
        tracing::error!(error = %e, "passkey lookup failed");
        app.pages.unavailable(lang)
    })?;
    let (options, state) = rp.start_passkey_authentication(&keys).map_err(|e| {
        tracing::error!(error = %e, "passkey assertion not started");
        crate::passkey::unavailable(app, lang)
    })?;
    let a = Assertion {
        flow: f.b.id.clone(),
        account_id: account.id.clone(),
        state,
    };
    let token = put_state(app, "recover", &a).await.map_err(|e| {
        tracing::error!(error = %e, "ceremony not stored");
        app.pages.unavailable(lang)
    })?;
    Ok((token, request_options(&options)))
}

/// Loads the flow a second-factor form was posted to, when it is at that step; otherwise
/// the response to give (the flow's current page, or an error).
async fn load(
    app: &App,
    id: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(Flow, Step, crate::oauth::params::Params), Response> {
    let (f, form) = FLOW.load_form::<Flow>(app, id, headers, body).await?;
    let Some(account_id) = f.account_id.clone().filter(|_| f.step() == "factor") else {
        return Err(render(app, &f, StatusCode::OK, None).await);
    };
    let s = load_step(app, &f, &account_id).await?;
    Ok((f, s, form))
}

/// Sends a code for `m` and records it; the page to show.
async fn send_code(app: &App, mut f: Flow, s: &Step, m: Method) -> Response {
    let lang = f.b.lang;
    let refused = otp_factor::send(app, &s.account, m, PURPOSE, lang)
        .await
        .err();
    if refused.is_none() {
        f.sent = Some(m);
    }
    if let Err(r) = FLOW.save(app, &f).await {
        return r;
    }
    match refused {
        None => render(app, &f, StatusCode::OK, None).await,
        Some((status, key)) => render(app, &f, status, Some(lang.t(key).to_owned())).await,
    }
}

/// `POST /recover/{id}/method`: the person picks another offered way; picking SMS or
/// e-mail sends a code.
pub async fn choose(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (mut f, s, form) = match load(&app, &id, &headers, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let picked = form
        .get("method")
        .and_then(Way::parse)
        .filter(|w| s.ways.contains(w));
    let Some(way) = picked else {
        let e = f.b.lang.t("err_mfa_method").to_owned();
        return render(&app, &f, StatusCode::BAD_REQUEST, Some(e)).await;
    };
    f.way = Some(way);
    match way {
        Way::Code(m) if m.is_sent() => send_code(&app, f, &s, m).await,
        _ => {
            if let Err(r) = FLOW.save(&app, &f).await {
                return r;
            }
            render(&app, &f, StatusCode::OK, None).await
        }
    }
}

/// `POST /recover/{id}/send`: a code (or a new one) by the SMS or e-mail way asked now.
pub async fn send(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (f, s, _) = match load(&app, &id, &headers, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match s.current(&f) {
        Some(Way::Code(m)) if m.is_sent() => send_code(&app, f, &s, m).await,
        _ => {
            let e = f.b.lang.t("err_mfa_method").to_owned();
            render(&app, &f, StatusCode::BAD_REQUEST, Some(e)).await
        }
    }
}

/// Counts an answer against the recovery's limit; `Err` is the page when the limit is
/// reached (or the flow cannot be stored).
async fn count_attempt(app: &App, f: &mut Flow) -> Result<(), Response> {
    if f.factor_attempts >= ATTEMPTS {
        let e = f.b.lang.t("err_code_attempts").to_owned();
        return Err(render(app, f, StatusCode::TOO_MANY_REQUESTS, Some(e)).await);
    }
    f.factor_attempts += 1;
    FLOW.save(app, f).await
}

/// Whether the account's shared second-factor limit is reached; `Err` is the page to give
/// when it is (or the counter cannot be read).
async fn within_account_limit(app: &App, f: &Flow, account_id: &str) -> Result<(), Response> {
    match otp_factor::too_many_failures(app, account_id).await {
        Ok(false) => Ok(()),
        Ok(true) => {
            let e = f.b.lang.t("too_many_attempts").to_owned();
            Err(render(app, f, StatusCode::TOO_MANY_REQUESTS, Some(e)).await)
        }
        Err(e) => {
            tracing::error!(error = %e, "counter lookup failed");
            Err(app.pages.unavailable(f.b.lang))
        }
    }
}

/// The factor was given: on to the new password.
async fn passed(app: &App, mut f: Flow) -> Response {
    f.factor_ok = true;
    if let Some(a) = f.account_id.as_deref() {
        otp_factor::clear_failures(app, a).await;
    }
    if let Err(r) = FLOW.save(app, &f).await {
        return r;
    }
    render(app, &f, StatusCode::OK, None).await
}

/// `POST /recover/{id}/factor`: a code for the way asked now — the app's or a recovery
/// code, or the one sent by SMS or e-mail.
pub async fn factor(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (mut f, s, form) = match load(&app, &id, &headers, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let lang = f.b.lang;
    let Some(Way::Code(m)) = s.current(&f) else {
        let e = lang.t("err_mfa_method").to_owned();
        return render(&app, &f, StatusCode::BAD_REQUEST, Some(e)).await;
    };
    if let Err(r) = count_attempt(&app, &mut f).await {
        return r;
    }
    let typed = form.get("code").unwrap_or("");
    let account = &s.account;
    if m.is_sent() {
        return match otp_factor::check(&app, &account.id, m, PURPOSE, typed).await {
            Ok(()) => passed(&app, f).await,
            Err((status, key)) => render(&app, &f, status, Some(lang.t(key).to_owned())).await,
        };
    }
    if let Err(r) = within_account_limit(&app, &f, &account.id).await {
        return r;
    }
    match otp_factor::check_app_code(&app, account, typed).await {
        Ok(true) => passed(&app, f).await,
        Ok(false) => {
            otp_factor::count_failure(&app, &account.id).await;
            let e = lang.t("bad_totp").to_owned();
            render(&app, &f, StatusCode::UNAUTHORIZED, Some(e)).await
        }
        Err(e) => {
            tracing::error!(account = %account.id, error = %e, "code check failed");
            app.pages.unavailable(lang)
        }
    }
}

/// `POST /recover/{id}/passkey`: the browser's answer to the recovery's passkey challenge.
pub async fn passkey(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (mut f, s, form) = match load(&app, &id, &headers, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let lang = f.b.lang;
    let Some(rp) = relying_party(&app).filter(|_| s.current(&f) == Some(Way::Passkey)) else {
        let e = lang.t("err_mfa_method").to_owned();
        return render(&app, &f, StatusCode::BAD_REQUEST, Some(e)).await;
    };
    let token = form.get("ceremony").unwrap_or("");
    let taken: Option<Assertion> = match take_state(&app, "recover", token).await {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(error = %e, "ceremony lookup failed");
            return app.pages.unavailable(lang);
        }
    };
    let account = &s.account;
    let Some(a) = taken.filter(|a| a.flow == f.b.id && a.account_id == account.id) else {
        let e = lang.t("passkey_expired").to_owned();
        return render(&app, &f, StatusCode::BAD_REQUEST, Some(e)).await;
    };
    if let Err(r) = count_attempt(&app, &mut f).await {
        return r;
    }
    if let Err(r) = within_account_limit(&app, &f, &account.id).await {
        return r;
    }
    let cred = serde_json::from_str::<PublicKeyCredential>(form.get("credential").unwrap_or(""));
    match check_own(&app, &rp, &a.state, &account.id, cred.ok().as_ref(), lang).await {
        Ok(true) => passed(&app, f).await,
        Ok(false) => {
            otp_factor::count_failure(&app, &account.id).await;
            let e = lang.t("passkey_refused").to_owned();
            render(&app, &f, StatusCode::UNAUTHORIZED, Some(e)).await
        }
        Err(r) => r,
    }
}
