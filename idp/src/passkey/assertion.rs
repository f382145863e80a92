//! Checking a passkey assertion against a stored credential (WebAuthn §7.2, by webauthn-rs):
//! shared by the sign-in and by the account pages that ask for the second factor again
//! (certificate issuance).
//!
//! Rules: the assertion must be for the credential it names (`same_credential`); on success
//! the grown sign counter and the time of use are stored, so a counter that goes back later
//! (§6.1.1, a possibly cloned authenticator) is refused.

use crate::app::App;
use crate::i18n::Lang;
use crate::passkey::credential_key;
use crate::store::passkeys::PasskeyRow;
use axum::response::Response;
use webauthn_rs::prelude::{AuthenticationResult, Passkey, PublicKeyCredential, WebauthnResult};

/// The result, when it is for the credential `pk` (the one found by its id).
pub(crate) fn same_credential(
    r: AuthenticationResult,
    pk: &Passkey,
) -> WebauthnResult<AuthenticationResult> {
    if r.cred_id() == pk.cred_id() {
        Ok(r)
    } else {
        Err(webauthn_rs::prelude::WebauthnError::CredentialNotFound)
    }
}

/// Verifies the assertion with `finish` against the stored credential `row`; on success
/// stores the grown sign counter and the time of use. `Err` carries the page for a
/// backend failure.
pub(crate) async fn verify(
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

/// The stored passkey the assertion names, if any.
pub(crate) async fn row_of(
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
