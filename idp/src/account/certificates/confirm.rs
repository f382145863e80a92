//! The second factor asked again before a certificate is issued (or revoked without the
//! password): an authenticator app's code, a code sent by SMS or e-mail on request, or a
//! passkey. Each is checked by the same functions as at sign-in, with the same rules:
//!
//! - an app code works once (its step is remembered in the shared cache, on every node);
//! - a sent code works once, for 10 minutes, five wrong tries end it (`otp_factor::check`);
//! - a passkey challenge works once and only with this account's credentials;
//! - every refusal counts toward the account's second-factor limit (`fail:otp:<id>`, the
//!   counter of the sign-in's code and passkey steps): past five in the window every
//!   attempt is refused until the window ends.
//!
//! Recovery codes are not accepted: they restore access, they do not confirm a signature
//! key's creation.

use crate::app::App;
use crate::oauth::params::Params;
use crate::otp_factor::{self, Factors, Method, Refusal};
use crate::passkey::assertion::{row_of, same_credential, verify};
use crate::store::Account;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{PasskeyAuthentication, PublicKeyCredential};

/// The purpose under which sent codes for certificates are kept (message kind
/// `certificate_code`).
pub const PURPOSE: &str = "certificate";

/// A factor that can confirm issuance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proof {
    /// A code: from the app, or sent by SMS or e-mail.
    Code(Method),
    /// A passkey assertion.
    Passkey,
}

impl Proof {
    /// The form and audit name.
    pub fn as_str(self) -> &'static str {
        match self {
            Proof::Code(m) => m.as_str(),
            Proof::Passkey => "passkey",
        }
    }
}

/// The ways `f` offers, the app first, recovery codes left out.
pub fn offered(f: &Factors) -> Vec<Proof> {
    let mut out: Vec<Proof> = [Method::Totp, Method::Sms, Method::Email]
        .into_iter()
        .filter(|m| f.has(*m))
        .map(Proof::Code)
        .collect();
    if f.passkey {
        out.push(Proof::Passkey);
    }
    out
}

/// A passkey ceremony for confirming, kept in the shared cache until the browser answers.
#[derive(Serialize, Deserialize)]
pub struct Ceremony {
    /// The account it was started for.
    pub account_id: String,
    /// webauthn-rs's state: the challenge and the account's credentials.
    pub state: PasskeyAuthentication,
}

/// The kind of ceremony state in the cache.
pub const CEREMONY_KIND: &str = "cert";

fn unavailable(what: &str, e: impl std::fmt::Display) -> Refusal {
    tracing::error!(error = %e, "{what}");
    (StatusCode::SERVICE_UNAVAILABLE, "err_server")
}

/// Refuses when the account's second-factor limit is reached (the sign-in's limit).
pub async fn within_limit(app: &App, account_id: &str) -> Result<(), Refusal> {
    match otp_factor::too_many_failures(app, account_id).await {
        Ok(false) => Ok(()),
        Ok(true) => Err((StatusCode::TOO_MANY_REQUESTS, "too_many_attempts")),
        Err(e) => Err(unavailable("counter lookup failed", e)),
    }
}

/// Counts one refused confirmation toward the account's second-factor limit.
pub async fn count_failure(app: &App, account_id: &str) {
    otp_factor::count_failure(app, account_id).await;
}

/// Checks the factor named by the form's `method` (with `code`, or `ceremony` and
/// `credential` for a passkey) for `a`, whose factors are `f`. `Ok` with the factor used;
/// `Err` with the status and text key to show.
pub async fn check(app: &App, a: &Account, f: &Factors, form: &Params) -> Result<Proof, Refusal> {
    within_limit(app, &a.id).await?;
    let picked = form.get("method").unwrap_or("");
    let proof = offered(f)
        .into_iter()
        .find(|p| p.as_str() == picked)
        .ok_or((StatusCode::BAD_REQUEST, "err_mfa_method"))?;
    let typed = form.get("code").unwrap_or("");
    let outcome = match proof {
        Proof::Code(Method::Totp) => totp(app, a, typed).await?,
        Proof::Code(m) => match otp_factor::check(app, &a.id, m, PURPOSE, typed).await {
            Err((StatusCode::SERVICE_UNAVAILABLE, k)) => {
                return Err((StatusCode::SERVICE_UNAVAILABLE, k))
            }
            other => other,
        },
        Proof::Passkey => passkey(app, a, form).await?,
    };
    match outcome {
        Ok(()) => {
            otp_factor::clear_failures(app, &a.id).await;
            Ok(proof)
        }
        Err(refusal) => {
            count_failure(app, &a.id).await;
            Err(refusal)
        }
    }
}

/// An authenticator app's code: `Ok(Err(..))` when refused, `Err` when a backend failed.
async fn totp(app: &App, a: &Account, typed: &str) -> Result<Result<(), Refusal>, Refusal> {
    let refused = (StatusCode::UNAUTHORIZED, "bad_totp");
    let Some(sealed) = a.totp_secret.as_deref() else {
        return Ok(Err(refused));
    };
    let Some(secret) = crate::totp::open(&app.secrets.factor_key, sealed) else {
        return Err(unavailable("TOTP secret", "cannot be opened"));
    };
    let Some(step) = crate::totp::matching_step(&secret, typed, app.now()) else {
        return Ok(Err(refused));
    };
    let fresh = crate::totp::spend_step(app, &a.id, step)
        .await
        .map_err(|e| unavailable("replay cache failed", e))?;
    Ok(if fresh { Ok(()) } else { Err(refused) })
}

/// A passkey assertion for one of `a`'s credentials, answering the ceremony the page
/// started.
async fn passkey(app: &App, a: &Account, form: &Params) -> Result<Result<(), Refusal>, Refusal> {
    let refused = (StatusCode::UNAUTHORIZED, "passkey_refused");
    let lang = crate::i18n::Lang::Ru;
    let Some(rp) = crate::passkey::relying_party(app) else {
        return Ok(Err((StatusCode::BAD_REQUEST, "passkey_unavailable")));
    };
    let token = form.get("ceremony").unwrap_or("");
    let taken: Option<Ceremony> = crate::passkey::take_state(app, CEREMONY_KIND, token)
        .await
        .map_err(|e| unavailable("ceremony lookup failed", e))?;
    let Some(c) = taken.filter(|c| c.account_id == a.id) else {
        return Ok(Err((StatusCode::BAD_REQUEST, "passkey_expired")));
    };
    let Ok(cred) =
        serde_json::from_str::<PublicKeyCredential>(form.get("credential").unwrap_or(""))
    else {
        return Ok(Err(refused));
    };
    let row = match row_of(app, &cred, lang).await {
        Ok(Some(row)) if row.account_id == a.id => row,
        Ok(_) => return Ok(Err(refused)),
        Err(_) => return Err(unavailable("passkey lookup failed", "")),
    };
    let finish = |pk: &webauthn_rs::prelude::Passkey, cr: &PublicKeyCredential| {
        rp.finish_passkey_authentication(cr, &c.state)
            .and_then(|r| same_credential(r, pk))
    };
    match verify(app, &row, &cred, finish, lang).await {
        Ok(true) => Ok(Ok(())),
        Ok(false) => Ok(Err(refused)),
        Err(_) => Err(unavailable("passkey check failed", "")),
    }
}

/// Starts a passkey ceremony for `a` (when passkeys work here and the account has one):
/// the token the form posts back and the options for `navigator.credentials.get`.
pub async fn start_passkey(app: &App, a: &Account) -> Option<(String, String)> {
    let (state, options) = crate::passkey::assertion::start_own(app, &a.id)
        .await
        .ok()??;
    let c = Ceremony {
        account_id: a.id.clone(),
        state,
    };
    let token = crate::passkey::put_state(app, CEREMONY_KIND, &c)
        .await
        .ok()?;
    Some((token, options))
}
