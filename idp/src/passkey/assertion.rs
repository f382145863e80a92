//! Checking a passkey assertion (WebAuthn §7.2, verified by webauthn-rs), shared by the
//! sign-in (`interaction::passkey`), password recovery (`recover::factor`) and the account
//! pages that ask the second factor again (certificates, signing).
//!
//! Rules:
//! - The credential is looked up by its id; as a second factor only the named account's own
//!   credentials count, and the assertion must be for the very credential found.
//! - A bad signature, a wrong origin or RP ID, or a sign counter that did not grow (§6.1.1:
//!   a possibly cloned authenticator) is a refusal, not an error.
//! - A good assertion stores the grown counter and the time of use.

use super::credential_key;
use crate::app::App;
use crate::i18n::Lang;
use crate::store::passkeys::PasskeyRow;
use crate::store::StoreError;
use axum::response::Response;
use serde::Serialize;
use webauthn_rs::prelude::{
    AuthenticationResult, Passkey, PasskeyAuthentication, PublicKeyCredential, Webauthn,
    WebauthnError, WebauthnResult,
};

/// The account's passkeys, as webauthn-rs credentials.
pub async fn keys_of(app: &App, account_id: &str) -> Result<Vec<Passkey>, StoreError> {
    let rows = app.db.passkeys().list(account_id).await?;
    Ok(rows
        .iter()
        .filter_map(|r| serde_json::from_str(&r.passkey).ok())
        .collect())
}

/// Starts an assertion over `account_id`'s own passkeys (user verification required):
/// webauthn-rs's state, for the caller to keep in its single-use ceremony, and the options
/// for the page. `Ok(None)` when passkeys cannot work on this issuer, the account has none,
/// or webauthn-rs refuses to start.
pub async fn start_own(
    app: &App,
    account_id: &str,
) -> Result<Option<(PasskeyAuthentication, String)>, StoreError> {
    let Some(rp) = super::relying_party(app) else {
        return Ok(None);
    };
    let keys = keys_of(app, account_id).await?;
    if keys.is_empty() {
        return Ok(None);
    }
    match rp.start_passkey_authentication(&keys) {
        Ok((options, state)) => Ok(Some((state, request_options(&options)))),
        Err(e) => {
            tracing::error!(error = %e, "passkey assertion not started");
            Ok(None)
        }
    }
}

/// Request options as JSON for a page, without conditional mediation: the page asks on a
/// click.
pub fn request_options<T: Serialize>(o: &T) -> String {
    let mut v = serde_json::to_value(o).unwrap_or_default();
    if let Some(m) = v.as_object_mut() {
        m.remove("mediation");
    }
    super::options_json(&v)
}

/// The result, when it is for the credential `pk` (the one found by its id).
pub fn same_credential(
    r: AuthenticationResult,
    pk: &Passkey,
) -> WebauthnResult<AuthenticationResult> {
    if r.cred_id() == pk.cred_id() {
        Ok(r)
    } else {
        Err(WebauthnError::CredentialNotFound)
    }
}

/// The stored passkey the assertion names, if any. `Err` is the page for a backend failure.
pub async fn row_of(
    app: &App,
    cred: &PublicKeyCredential,
    lang: Lang,
) -> Result<Option<PasskeyRow>, Response> {
    let key = credential_key(cred.get_credential_id());
    app.db.passkeys().by_credential(&key).await.map_err(|e| {
        tracing::error!(error = %e, "passkey lookup failed");
        app.pages.unavailable(lang)
    })
}

/// Verifies the assertion with `finish` against the stored credential `row`; on success
/// stores the grown sign counter and the time of use. `Err` carries the page for a
/// backend failure.
pub async fn verify(
    app: &App,
    row: &PasskeyRow,
    cred: &PublicKeyCredential,
    finish: impl FnOnce(&Passkey, &PublicKeyCredential) -> WebauthnResult<AuthenticationResult>,
    lang: Lang,
) -> Result<bool, Response> {
    let Ok(mut pk) = serde_json::from_str::<Passkey>(&row.passkey) else {
        tracing::error!(passkey = %row.id, "stored passkey cannot be read");
        return Err(app.pages.unavailable(lang));
    };
    let result = match finish(&pk, cred) {
        Ok(r) => r,
        Err(e) => {
            // CredentialPossibleCompromise: the counter went back (§6.1.1).
            tracing::info!(passkey = %row.id, error = %e, "passkey assertion refused");
            return Ok(false);
        }
    };
    pk.update_credential(&result);
    let Ok(json) = serde_json::to_string(&pk) else {
        return Err(app.pages.unavailable(lang));
    };
    if let Err(e) = app.db.passkeys().used(&row.id, &json, app.now()).await {
        tracing::error!(error = %e, "passkey use not recorded");
        return Err(app.pages.unavailable(lang));
    }
    Ok(true)
}

/// Checks `cred` as a passkey of `account_id` answering the challenge of `state` (started
/// with that account's credentials). `Ok(false)` for a missing answer, another account's or
/// an unknown credential, or a refused assertion; `Err` is the page for a backend failure.
pub async fn check_own(
    app: &App,
    rp: &Webauthn,
    state: &PasskeyAuthentication,
    account_id: &str,
    cred: Option<&PublicKeyCredential>,
    lang: Lang,
) -> Result<bool, Response> {
    let Some(cred) = cred else {
        return Ok(false);
    };
    match row_of(app, cred, lang).await? {
        Some(row) if row.account_id == account_id => {
            let finish = |pk: &Passkey, c: &PublicKeyCredential| {
                rp.finish_passkey_authentication(c, state)
                    .and_then(|r| same_credential(r, pk))
            };
            verify(app, &row, cred, finish, lang).await
        }
        _ => Ok(false),
    }
}
