//! Authorization endpoint (OIDC Core §3.1.2, RFC 6749 §4.1.1), GET and POST.
//!
//! The rules run in this order (see `checks`): client, its Request Object if any
//! (`request_object`), redirect URI, response mode, then — errors now go back to the
//! client — a Request Object that could not be used, well-formedness, response type, scope, PKCE, prompt,
//! max_age, claims, id_token_hint. Then the session decides: answer at once (SSO), fail
//! `prompt=none`, or hand the browser to an interaction for login and consent.

mod check_claims;
mod check_client;
mod check_pkce;
mod check_prompt;
mod check_response;
mod check_scope;
mod check_well_formed;
pub mod checks;
pub mod request;
pub mod response;

use crate::app::{App, AppState};
use crate::i18n::Lang;
use crate::interaction::{self, Interaction};
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::params::Params;
use crate::oauth::types::{split_list, Prompt};
use crate::session::{self, Session};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use checks::PageError;
use request::AuthRequest;
use std::net::{IpAddr, SocketAddr};

/// `GET /authorize`.
pub async fn get(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    handle(&app, peer, Params::from_query(q.as_deref()), &headers).await
}

/// `POST /authorize` (form-encoded body).
pub async fn post(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(&app, peer, Params::parse(&body), &headers).await
}

async fn handle(app: &App, peer: SocketAddr, p: Params, headers: &HeaderMap) -> Response {
    let lang = Lang::choose(&split_list(p.get("ui_locales").unwrap_or("")), headers);
    // A pushed request (RFC 9126 §4) stands in for everything but `client_id`. Any other
    // `request_uri` (a Request Object by reference, OIDC Core §6.2) is not fetched: it goes
    // the normal way and is answered `request_uri_not_supported`.
    let pushed = p
        .get("request_uri")
        .is_some_and(|u| u.starts_with(crate::oauth::par::REQUEST_URI_PREFIX));
    let p = if pushed {
        match crate::oauth::par::resolve(app, &p).await {
            Ok(stored) => stored,
            Err(crate::oauth::par::Unresolved::Invalid) => {
                return page_error(app, lang, PageError::BadRequestUri)
            }
            Err(crate::oauth::par::Unresolved::Server) => {
                return page_error(app, lang, PageError::Server)
            }
        }
    } else {
        p
    };
    let lang = if pushed {
        Lang::choose(&split_list(p.get("ui_locales").unwrap_or("")), headers)
    } else {
        lang
    };
    let client = match checks::check_client(app, &p).await {
        Ok(c) => c,
        Err(e) => return page_error(app, lang, e),
    };
    // A Request Object (OIDC Core §6.1) replaces the parameters it carries. One that cannot
    // be used is answered once the redirect URI (the request's own) is known.
    let has_object = p.has("request");
    // A pushed request's object was applied, and its signature required, at the push.
    let must_be_signed = client.require_signed_request_object && !pushed;
    let applied = crate::oauth::request_object::apply(app, &client, &p, must_be_signed).await;
    let (p, object_error) = match applied {
        Ok(applied) => (applied, None),
        Err(e) => {
            let mut outer = p;
            outer.remove("request");
            (outer, Some(e))
        }
    };
    let lang = if has_object {
        Lang::choose(&split_list(p.get("ui_locales").unwrap_or("")), headers)
    } else {
        lang
    };
    let redirect_uri = match checks::check_redirect_uri(&client, &p) {
        Ok(u) => u,
        Err(e) => return page_error(app, lang, e),
    };
    let state = p.get("state");
    let reply = |mode| response::Reply {
        mode,
        redirect_uri: &redirect_uri,
        client_id: &client.id,
        alg: client.authorization_signed_response_alg.as_deref(),
    };
    let mode = match checks::check_response_mode(&p) {
        Ok(m) => m,
        Err((m, e)) => return response::error(app, &reply(m), &e, state, lang),
    };
    let to = reply(mode);
    if let Some(e) = object_error {
        return response::error(app, &to, &e, state, lang);
    }
    let must_push = client.require_pushed_authorization_requests
        || (app.settings.require_par && client.id != crate::account::CLIENT_ID);
    if must_push && !pushed {
        let e = OAuthError::invalid_request(
            "this client must push its authorization requests (RFC 9126)",
        );
        return response::error(app, &to, &e, state, lang);
    }
    let req = match checks::build(app, &client, redirect_uri.clone(), mode, &p) {
        Ok(r) => r,
        Err(e) => return response::error(app, &to, &e, state, lang),
    };
    let ip = crate::http::client_ip(peer, headers, &app.settings.trusted_proxies);
    match decide(app, &req, headers, lang, Some(ip)).await {
        Ok(r) => r,
        Err(e) => response::error(app, &to, &e, state, lang),
    }
}

fn page_error(app: &App, lang: Lang, e: PageError) -> Response {
    let (key, code) = match e {
        PageError::UnknownClient => ("err_unknown_client", "invalid_client"),
        PageError::BadRedirectUri => ("err_bad_redirect", "invalid_redirect_uri"),
        PageError::BadRequestUri => ("err_request_uri", "invalid_request_uri"),
        PageError::Server => ("err_server", "server_error"),
    };
    let status = if matches!(e, PageError::Server) {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::BAD_REQUEST
    };
    app.pages.error(status, lang, key, Some(code), None)
}

/// Whether the session may answer without showing the login page.
fn session_fits(app: &App, req: &AuthRequest, s: &Session) -> bool {
    let now = app.now();
    !(req.prompts(Prompt::Login)
        || req.prompts(Prompt::SelectAccount)
        || req.prompts(Prompt::Create)
        || req.max_age.is_some_and(|m| now - s.auth_time >= m)
        || req.hint_sub.as_ref().is_some_and(|h| h != &s.account_id))
}

/// Whether the account still has to consent to what the request asks.
pub async fn needs_consent(
    app: &App,
    req: &AuthRequest,
    account_id: &str,
) -> Result<bool, OAuthError> {
    if req.prompts(Prompt::Consent) {
        return Ok(true);
    }
    // The account area is the provider itself: nothing to consent to.
    if req.client_id == crate::account::CLIENT_ID {
        return Ok(false);
    }
    let remembered = app.db.consents().get(account_id, &req.client_id).await?;
    Ok(!remembered.is_some_and(|c| c.covers(&req.scope, &req.claim_names(None))))
}

/// The levels a request names in an essential `acr` claim (OIDC Core §5.5.1.1: `value` or
/// `values`, in the `id_token` or `userinfo` member), if it has one.
fn essential_acr(req: &AuthRequest) -> Option<Vec<String>> {
    let claims = req.claims.as_ref()?.as_object()?;
    let mut out = Vec::new();
    for member in ["id_token", "userinfo"] {
        let Some(acr) = claims.get(member).and_then(|m| m.get("acr")) else {
            continue;
        };
        if acr.get("essential").and_then(|e| e.as_bool()) != Some(true) {
            continue;
        }
        let listed = acr.get("values").and_then(|v| v.as_array());
        let values = listed.into_iter().flatten().chain(acr.get("value"));
        out.extend(values.filter_map(|v| v.as_str().map(str::to_owned)));
    }
    (!out.is_empty()).then_some(out)
}

/// What the client or the request demands of every sign-in that `account` cannot meet: a
/// minimum level above the account's (the client's `min_level`, or an essential `acr` claim
/// — `acr_values` is voluntary and never refuses), or a second factor the account does not
/// have (`has_factor`). Levels are ordered (`ACR_VALUES`, lowest first), so a higher level
/// satisfies a lower one. Levels cannot be raised during a sign-in (that takes identity
/// proofing), so this ends the request with `unmet_authentication_requirements`.
pub fn unmet(
    client: &crate::store::Client,
    account: &crate::store::Account,
    has_factor: bool,
    req: &AuthRequest,
) -> Option<OAuthError> {
    let rank = |l: &str| {
        crate::oauth::discovery::ACR_VALUES
            .iter()
            .position(|v| *v == l)
    };
    if let Some(wanted) = essential_acr(req) {
        let have = rank(&account.level);
        if !wanted
            .iter()
            .filter_map(|w| rank(w))
            .any(|w| have >= Some(w))
        {
            return Some(OAuthError::new(
                ErrorCode::UnmetAuthenticationRequirements,
                "the account's level is not one the essential acr claim asks for",
            ));
        }
    }
    if let Some(min) = &client.min_level {
        if rank(&account.level) < rank(min) {
            return Some(OAuthError::new(
                ErrorCode::UnmetAuthenticationRequirements,
                "the service needs a higher account level",
            ));
        }
    }
    if client.require_mfa && !has_factor {
        return Some(OAuthError::new(
            ErrorCode::UnmetAuthenticationRequirements,
            "the service needs a second factor, which the account does not have",
        ));
    }
    None
}

/// For a usable session: the step-up its client requires (the second factor when the
/// session was made without one; the session keeps its `sid`), an error when the account
/// cannot meet the client's or the request's requirements, or nothing to do.
async fn step_up(
    app: &App,
    req: &AuthRequest,
    s: &Session,
    ip: Option<IpAddr>,
) -> Result<Option<Response>, OAuthError> {
    let Some(client) = app.client(&req.client_id).await? else {
        return Ok(None);
    };
    if !client.require_mfa && client.min_level.is_none() && essential_acr(req).is_none() {
        return Ok(None);
    }
    let Some(account) = app.db.accounts().get(&s.account_id).await? else {
        return Ok(None);
    };
    let factors = crate::otp_factor::factors(app, &account).await?;
    if let Some(e) = unmet(&client, &account, factors.any(), req) {
        return Err(e);
    }
    if client.require_mfa && !s.amr.iter().any(|a| a == "mfa") {
        if req.prompts(Prompt::None) {
            return Err(OAuthError::new(
                ErrorCode::InteractionRequired,
                "the service needs a second factor",
            ));
        }
        // The password was checked when the session began: only the code is asked.
        let mut ix = Interaction::new(req.clone(), None);
        ix.reauth = Some(interaction::Reauth {
            session: s.clone(),
            login: account.login.clone(),
        });
        count_start(app, ip).await?;
        let r = interaction::start_step_up(app, ix, &account, factors, s.auth_time).await?;
        return Ok(Some(r));
    }
    Ok(None)
}

/// A live session the request will not take as it is only because it is too old
/// (`max_age`) or `prompt=login` asks to sign in again: the same account re-authenticates
/// (password, then its second factor), and the session keeps its `sid`.
async fn reauthenticate(
    app: &App,
    req: &AuthRequest,
    s: Session,
    ip: Option<IpAddr>,
) -> Result<Option<Response>, OAuthError> {
    if req.prompts(Prompt::SelectAccount)
        || req.prompts(Prompt::Create)
        || req.hint_sub.as_ref().is_some_and(|h| h != &s.account_id)
    {
        return Ok(None);
    }
    let Some(account) = app.db.accounts().get(&s.account_id).await? else {
        return Ok(None);
    };
    let mut ix = Interaction::new(req.clone(), None);
    ix.reauth = Some(interaction::Reauth {
        session: s,
        login: account.login,
    });
    count_start(app, ip).await?;
    Ok(Some(interaction::start(app, ix).await?))
}

/// Counts a request about to start an interaction (state kept for half an hour) against
/// its address's limit ([`crate::oauth::limit`]): over it, `temporarily_unavailable`
/// (RFC 6749 §4.1.2.1) goes back to the client and nothing is stored. A request a session
/// answers at once is not counted, nor one without an address (a device's request, counted
/// when the device made it).
async fn count_start(app: &App, ip: Option<IpAddr>) -> Result<(), OAuthError> {
    let Some(ip) = ip else { return Ok(()) };
    match crate::oauth::limit::authorization(app, ip).await? {
        None => Ok(()),
        Some(wait) => Err(OAuthError::too_many(
            wait,
            crate::oauth::limit::description(wait),
        )),
    }
}

/// What the session, the request and the client call for: a code at once (single sign-on),
/// an error for `prompt=none`, or the login or consent page. Also where a device's request
/// (RFC 8628) goes once the person typed its code. A request that starts an interaction
/// from `ip` counts against that address's limit.
pub(crate) async fn decide(
    app: &App,
    req: &AuthRequest,
    headers: &HeaderMap,
    lang: Lang,
    ip: Option<IpAddr>,
) -> Result<Response, OAuthError> {
    let current = session::current(app, headers).await?;
    let (usable, stale) = match current {
        Some(s) if session_fits(app, req, &s) => (Some(s), None),
        other => (None, other),
    };
    if let Some(s) = &usable {
        if let Some(r) = step_up(app, req, s, ip).await? {
            return Ok(r);
        }
    }
    if let Some(s) = stale.filter(|_| !req.prompts(Prompt::None)) {
        if let Some(r) = reauthenticate(app, req, s, ip).await? {
            return Ok(r);
        }
    }
    if req.prompts(Prompt::None) {
        let Some(s) = usable else {
            return Err(OAuthError::new(
                ErrorCode::LoginRequired,
                "the person is not signed in",
            ));
        };
        if needs_consent(app, req, &s.account_id).await? {
            return Err(OAuthError::new(
                ErrorCode::ConsentRequired,
                "consent is required",
            ));
        }
        return response::issue_code(app, req, &s, None, lang).await;
    }
    if let Some(s) = &usable {
        if !needs_consent(app, req, &s.account_id).await? {
            return response::issue_code(app, req, s, None, lang).await;
        }
    }
    count_start(app, ip).await?;
    if req.prompts(Prompt::Create) {
        return interaction::start_registration(app, Interaction::new(req.clone(), None)).await;
    }
    interaction::start_here(app, Interaction::new(req.clone(), usable), headers).await
}
