//! A passkey as the confirmation of a signing request (`POST /account/sign/{id}/passkey`,
//! WebAuthn §7.2 verified by webauthn-rs through `passkey::assertion`).
//!
//! Rules:
//! - The challenge is bound to this request and its set digest. webauthn-rs 0.6 makes the
//!   challenge itself (random, 32 bytes) and offers no way to supply one short of its
//!   `danger-*` internals, so the challenge is not derived from the digest; instead the
//!   single-use ceremony state holds the account, the request id and the set digest the page
//!   showed beside webauthn-rs's state. On finish the state must name this account, this
//!   request and the digest posted back, and that digest must equal the one the signer
//!   derives again from the stored documents (`check_confirmable`, the same check as for
//!   codes). An assertion made for one request therefore cannot sign another, nor the same
//!   request after its documents changed.
//! - Only the account's own credentials are offered and accepted; user verification is
//!   required; the ceremony state is consumed atomically, so an answer is used once.
//! - A refused answer (another account's key, a wrong or replayed assertion, a ceremony of
//!   another request) counts toward the request's attempt limit like a wrong code; a
//!   confirmed one signs through the same path as a code, recorded with `amr` `hwk`.

use super::{sign, wrong_factor, Confirming};
use crate::app::{App, AppState};
use crate::passkey::assertion::{check_own, start_own};
use crate::passkey::{put_state, relying_party, take_state};
use crate::store::{Account, StoreError};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use signer::requests::RequestInfo;
use webauthn_rs::prelude::{PasskeyAuthentication, PublicKeyCredential};

/// The kind of ceremony state in the cache.
const KIND: &str = "sign";

/// RFC 8176 `amr` of a passkey: proof of possession of a hardware-secured key.
const AMR: &str = "hwk";

/// A passkey ceremony for one signing request, kept in the shared cache until the browser
/// answers.
#[derive(Serialize, Deserialize)]
struct Ceremony {
    /// The account whose credentials were allowed.
    account_id: String,
    /// The request the page showed.
    request_id: String,
    /// The set digest the page showed.
    set_digest: String,
    /// webauthn-rs's state: the challenge and the allowed credentials.
    state: PasskeyAuthentication,
}

/// Starts a ceremony for the page of `r` when passkeys work here and `a` has one: the token
/// the form posts back and the options for `navigator.credentials.get`.
pub(super) async fn start(
    app: &App,
    a: &Account,
    r: &RequestInfo,
) -> Result<Option<(String, String)>, StoreError> {
    let Some((state, options)) = start_own(app, &a.id).await? else {
        return Ok(None);
    };
    let c = Ceremony {
        account_id: a.id.clone(),
        request_id: r.id.clone(),
        set_digest: r.set_digest.clone(),
        state,
    };
    match put_state(app, KIND, &c).await {
        Ok(token) => Ok(Some((token, options))),
        Err(e) => {
            // The page still offers the other factors.
            tracing::error!(error = %e, "ceremony not stored");
            Ok(None)
        }
    }
}

/// `POST /account/sign/{id}/passkey`: the browser's answer to the page's passkey challenge,
/// with the set digest the page showed.
pub(crate) async fn confirm(
    State(app): State<AppState>,
    headers: HeaderMap,
    Confirming(t): Confirming,
) -> Response {
    let id = t.request.id.clone();
    let lang = t.lang;
    let Some(rp) = relying_party(&app) else {
        return crate::passkey::unavailable(&app, lang);
    };
    let token = t.form.get("ceremony").unwrap_or("");
    let taken: Option<Ceremony> = match take_state(&app, KIND, token).await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "ceremony lookup failed");
            return app.pages.unavailable(lang);
        }
    };
    let Some(c) = taken else {
        // Unknown, expired or spent: nothing was asserted; the page starts a new one.
        return t
            .page(
                &app,
                &headers,
                StatusCode::BAD_REQUEST,
                Some("passkey_expired"),
            )
            .await;
    };
    let (a, digest) = (&t.account, t.digest());
    let bound = c.account_id == a.id && c.request_id == id && c.set_digest == digest;
    let cred = serde_json::from_str::<PublicKeyCredential>(t.form.get("credential").unwrap_or(""));
    let ok = bound
        && match check_own(&app, &rp, &c.state, &a.id, cred.ok().as_ref(), lang).await {
            Ok(ok) => ok,
            Err(r) => return r,
        };
    if !ok {
        return wrong_factor(
            &app,
            &headers,
            &t,
            "wrong_passkey",
            "sign_passkey_refused",
            None,
        )
        .await;
    }
    sign(&app, &headers, &t, &c.set_digest, AMR).await
}
