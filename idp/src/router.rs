//! All routes in one place. The discovery document is built from the same table, so the
//! two cannot drift.

use crate::app::AppState;
use crate::{interaction, oauth};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::Router;
use tower::util::{MapFutureLayer, MapResponseLayer};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;

/// Token endpoint path (client assertions may name it as audience).
pub const TOKEN: &str = "/token";

/// Pushed authorization request endpoint path (DPoP proofs name it as `htu`).
pub const PAR: &str = "/par";

/// UserInfo endpoint path (DPoP proofs name it as `htu`).
pub const USERINFO: &str = "/userinfo";

/// One protocol endpoint: its discovery metadata name, path and handlers.
pub struct Endpoint {
    /// Discovery metadata member naming this endpoint, if any.
    pub metadata: Option<&'static str>,
    /// Path.
    pub path: &'static str,
    /// Handlers.
    pub route: fn() -> MethodRouter<AppState>,
}

/// Every protocol endpoint.
pub const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        metadata: None,
        path: "/.well-known/openid-configuration",
        route: || get(oauth::discovery::discovery),
    },
    Endpoint {
        metadata: Some("jwks_uri"),
        path: "/jwks",
        route: || get(oauth::jwks::jwks),
    },
    Endpoint {
        metadata: Some("authorization_endpoint"),
        path: "/authorize",
        route: || get(oauth::authorize::get).post(oauth::authorize::post),
    },
    Endpoint {
        metadata: Some("token_endpoint"),
        path: TOKEN,
        route: || post(oauth::token::token),
    },
    Endpoint {
        metadata: Some("userinfo_endpoint"),
        path: USERINFO,
        route: || get(oauth::userinfo::get).post(oauth::userinfo::post),
    },
    Endpoint {
        metadata: Some("introspection_endpoint"),
        path: "/introspect",
        route: || post(oauth::introspection::introspect),
    },
    Endpoint {
        metadata: Some("revocation_endpoint"),
        path: "/revoke",
        route: || post(oauth::revocation::revoke),
    },
    Endpoint {
        metadata: Some("pushed_authorization_request_endpoint"),
        path: PAR,
        route: || post(oauth::par::push),
    },
    Endpoint {
        metadata: Some("device_authorization_endpoint"),
        path: "/device_authorization",
        route: || post(oauth::device::authorize),
    },
    Endpoint {
        metadata: Some("end_session_endpoint"),
        path: "/logout",
        route: || get(oauth::end_session::get).post(oauth::end_session::post),
    },
];

/// Largest request body accepted anywhere (forms, assertions).
pub const BODY_LIMIT: usize = 64 * 1024;

/// Builds the router.
pub fn router(state: AppState) -> Router {
    let secure = state.settings.secure_cookies;
    let mut r = Router::new();
    for e in ENDPOINTS {
        r = r.route(e.path, (e.route)());
    }
    let r = r
        .route("/interaction/{id}", get(interaction::show))
        .route("/interaction/{id}/login", post(interaction::login))
        .route("/interaction/{id}/register", get(interaction::register))
        .route("/interaction/{id}/totp", post(interaction::totp))
        .route("/interaction/{id}/otp", post(interaction::otp))
        .route("/interaction/{id}/resend", post(interaction::resend))
        .route("/interaction/{id}/method", post(interaction::choose_method))
        .route(
            "/interaction/{id}/switch",
            post(interaction::switch_account),
        )
        .route(
            "/interaction/{id}/passkey",
            get(interaction::passkey_start).post(interaction::passkey),
        )
        .route("/interaction/{id}/consent", post(interaction::consent))
        .route("/device", get(oauth::device::start))
        .route(
            "/device/{id}",
            get(oauth::device::show).post(oauth::device::enter),
        )
        .route("/static/vhod.css", get(stylesheet))
        .route("/static/passkey.js", get(passkey_script))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(crate::metrics::metrics))
        .route("/dev/outbox", get(crate::notify::outbox_page))
        .route("/account", get(crate::account::overview))
        .route("/account/callback", get(crate::account::callback))
        .route(
            "/account/identity",
            get(crate::account::identity_form).post(crate::account::identity_submit),
        )
        .route(
            "/account/totp",
            get(crate::account::totp_start).post(crate::account::totp_confirm),
        )
        .route("/account/factors", get(crate::account::factors::show))
        .route("/account/factors/add", post(crate::account::factors::add))
        .route(
            "/account/factors/confirm",
            post(crate::account::factors::confirm),
        )
        .route(
            "/account/factors/remove",
            post(crate::account::factors::remove),
        )
        .route("/account/profile", get(crate::profile::show))
        .route("/account/profile/name", post(crate::profile::save_names))
        .route(
            "/account/profile/contact",
            post(crate::profile_contact::start),
        )
        .route(
            "/account/profile/code",
            post(crate::profile_contact::confirm),
        )
        .route(
            "/account/profile/resend",
            post(crate::profile_contact::resend),
        )
        .route(
            "/account/profile/cancel",
            post(crate::profile_contact::cancel),
        )
        .route(
            "/account/profile/remove",
            post(crate::profile_contact::remove),
        )
        .route(
            "/account/notifications",
            get(crate::notification_settings::show).post(crate::notification_settings::save),
        )
        .route("/account/passkeys", get(crate::passkey::account::list))
        .route("/account/passkeys/add", post(crate::passkey::account::add))
        .route(
            "/account/passkeys/finish",
            post(crate::passkey::account::finish),
        )
        .route(
            "/account/passkeys/rename",
            post(crate::passkey::account::rename),
        )
        .route(
            "/account/passkeys/remove",
            post(crate::passkey::account::remove),
        )
        .route(
            "/account/certificates",
            get(crate::account::certificates::show),
        )
        .route(
            "/account/certificates/code",
            post(crate::account::certificates::send_code),
        )
        .route(
            "/account/certificates/issue",
            post(crate::account::certificates::issue),
        )
        .route(
            "/account/certificates/revoke",
            post(crate::account::certificates::revoke),
        )
        .route(
            "/account/certificates/{serial}/{format}",
            get(crate::account::certificates::download),
        )
        .route("/account/signatures", get(crate::account::sign::list))
        .route(
            "/account/sign/{id}",
            get(crate::account::sign::show).post(crate::account::sign::confirm),
        )
        .route(
            "/account/sign/{id}/send",
            post(crate::account::sign::send_code),
        )
        .route(
            "/account/sign/{id}/decline",
            post(crate::account::sign::decline),
        )
        .route(
            "/account/sign/{id}/passkey",
            post(crate::account::sign::confirm_passkey),
        )
        .route(
            "/account/sign/{id}/documents/{n}",
            get(crate::account::sign::document),
        )
        .route("/account/services", get(crate::account::services))
        .route("/account/history", get(crate::account::history))
        .route(
            "/account/password",
            get(crate::account::password::show).post(crate::account::password::change),
        )
        .route("/account/sessions", get(crate::account::sessions))
        .route("/account/sessions/end", post(crate::account::end_session))
        .route(
            "/account/sessions/end-others",
            post(crate::account::end_other_sessions),
        )
        .route("/account/export", get(crate::account::export))
        .route(
            "/account/delete",
            get(crate::account::delete_form).post(crate::account::delete),
        )
        .route(
            "/account/services/revoke",
            post(crate::account::revoke_service),
        )
        .route("/recover", get(crate::recover::start))
        .route("/recover/{id}", get(crate::recover::show))
        .route("/recover/{id}/login", post(crate::recover::login))
        .route("/recover/{id}/code", post(crate::recover::code))
        .route("/recover/{id}/factor", post(crate::recover::factor))
        .route("/recover/{id}/method", post(crate::recover::choose_factor))
        .route("/recover/{id}/send", post(crate::recover::send_factor_code))
        .route("/recover/{id}/passkey", post(crate::recover::passkey))
        .route("/recover/{id}/password", post(crate::recover::password))
        .route("/register", get(crate::register::start))
        .route("/register/{id}", get(crate::register::show))
        .route("/register/{id}/contact", post(crate::register::contact))
        .route("/register/{id}/code", post(crate::register::code))
        .route("/register/{id}/resend", post(crate::register::resend))
        .route("/register/{id}/password", post(crate::register::password))
        // Uploads of signed documents: the signer's limits, not the forms' (the innermost
        // limit holds).
        .route(
            crate::validate_page::PATH,
            get(crate::validate_page::show)
                .post(crate::validate_page::submit)
                .layer(DefaultBodyLimit::max(signer::http::upload::MAX_BODY)),
        )
        .fallback(not_found);
    let signer = state.signer.clone();
    // One `Router::layer` call for the whole stack (outermost first): every call wraps each
    // route in another boxed service, cloned and boxed again on every request.
    let layers = tower::ServiceBuilder::new()
        .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), RandomId))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
        .layer(MapResponseLayer::new(move |r| {
            crate::http::security_headers(r, secure)
        }))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(MapFutureLayer::new(crate::http::after_queued));
    // The signer's routes set their own body limits (documents are far larger than forms);
    // the innermost limit is the one that holds.
    r.with_state(state)
        .merge(signer::http::router(signer))
        .layer(layers)
}

/// Header carrying the request id (kept if the proxy sent one, made otherwise).
static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Makes request ids from the thread-local CSPRNG: a UUID v4 asks the kernel for
/// randomness on every request, which showed up on the token endpoint's profile.
#[derive(Clone, Copy)]
struct RandomId;

impl MakeRequestId for RandomId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&crate::crypto::random_token(12))
            .ok()
            .map(RequestId::new)
    }
}

/// One span per request, named by method, path and request id (never the query: it can
/// hold codes and tokens). Debug level: at `info`, formatting a span per request cost a
/// fifth of the token endpoint's throughput; `VHOD_LOG=debug` turns it on.
fn request_span(req: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::debug_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
}

async fn stylesheet() -> Response {
    static_file(crate::pages::STYLESHEET, "text/css; charset=utf-8")
}

/// The script that runs the WebAuthn ceremonies of the passkey pages.
async fn passkey_script() -> Response {
    static_file(
        crate::pages::PASSKEY_SCRIPT,
        "text/javascript; charset=utf-8",
    )
}

/// A compiled-in static file, cacheable for an hour.
fn static_file(body: &'static str, content_type: &'static str) -> Response {
    let mut r = body.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    r
}

async fn readyz(State(app): State<AppState>) -> Response {
    let db = sqlx::query("SELECT 1").execute(&app.db.pool).await.is_ok();
    let cache = app.cache.get("readyz").await.is_ok();
    if db && cache {
        (StatusCode::OK, "ready").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready").into_response()
    }
}

async fn not_found() -> Response {
    crate::api_error::problem(StatusCode::NOT_FOUND, "Not Found", "no such resource")
}
