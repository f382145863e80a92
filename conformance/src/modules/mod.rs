//! The Foundation's test plans and their modules (`PLANS`), and what modules share: building
//! authorization requests (OIDC Core §3.1.2.1, PKCE RFC 7636 §4), reading the
//! authorization response (Core §3.1.2.5/§3.1.2.6, RFC 9207 `iss`), redeeming the code
//! (Core §3.1.3) and calling UserInfo (Core §5.3).

mod backchannel;
mod discovery;
mod errors;
mod flow;
mod frontchannel;
mod logout;
mod request_object;
mod scopes;
mod session;
mod simple;
mod userinfo;

pub use flow::{AuthReq, Ctx, Tokens};

use anyhow::Result;

/// A module's verdict (the Foundation's result values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Verdict {
    Passed,
    Failed,
    Warning,
    Skipped,
    Review,
}

/// A verdict and why.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub verdict: Verdict,
    pub reason: String,
    /// A page a person should look at (REVIEW), already fetched.
    pub page: Option<String>,
}

impl Outcome {
    pub fn new(verdict: Verdict, reason: impl Into<String>) -> Self {
        Self {
            verdict,
            reason: reason.into(),
            page: None,
        }
    }
    pub fn passed(reason: impl Into<String>) -> Result<Self> {
        Ok(Self::new(Verdict::Passed, reason))
    }
    pub fn skipped(reason: impl Into<String>) -> Result<Self> {
        Ok(Self::new(Verdict::Skipped, reason))
    }
    pub fn review(reason: impl Into<String>, page: String) -> Result<Self> {
        Ok(Self {
            verdict: Verdict::Review,
            reason: reason.into(),
            page: Some(page),
        })
    }
}

/// A test plan: its modules in the Foundation's order.
pub struct Plan {
    pub name: &'static str,
    pub modules: &'static [&'static str],
    /// Every authorization request asks for `response_mode=form_post`.
    pub form_post: bool,
    /// Its modules run with the configuration's `backchannel_client` as the main client.
    pub backchannel: bool,
    /// Its modules run with the configuration's `frontchannel_client` as the main client, and
    /// only against an OP that says `frontchannel_logout_supported`.
    pub frontchannel: bool,
}

pub const BASIC_PLAN: &str = "oidcc-basic-certification-test-plan";

/// The plans this runner implements, in the order `--plan all` runs them.
pub const PLANS: &[Plan] = &[
    Plan {
        name: BASIC_PLAN,
        modules: BASIC_MODULES,
        form_post: false,
        backchannel: false,
        frontchannel: false,
    },
    Plan {
        name: "oidcc-config-certification-test-plan",
        modules: &["oidcc-discovery-endpoint-verification"],
        form_post: false,
        backchannel: false,
        frontchannel: false,
    },
    Plan {
        name: "oidcc-formpost-basic-certification-test-plan",
        modules: BASIC_MODULES,
        form_post: true,
        backchannel: false,
        frontchannel: false,
    },
    Plan {
        name: "oidcc-rp-initiated-logout-certification-test-plan",
        modules: LOGOUT_MODULES,
        form_post: false,
        backchannel: false,
        frontchannel: false,
    },
    Plan {
        name: "oidcc-backchannel-rp-initiated-logout-certification-test-plan",
        modules: &[
            "oidcc-backchannel-logout-discovery-endpoint-verification",
            "oidcc-backchannel-rp-initiated-logout",
        ],
        form_post: false,
        backchannel: true,
        frontchannel: false,
    },
    Plan {
        name: "oidcc-frontchannel-rp-initiated-logout-certification-test-plan",
        modules: &[
            "oidcc-frontchannel-logout-discovery-endpoint-verification",
            "oidcc-frontchannel-rp-initiated-logout",
        ],
        form_post: false,
        backchannel: false,
        frontchannel: true,
    },
];

/// `oidcc-rp-initiated-logout-certification-test-plan`'s modules.
pub const LOGOUT_MODULES: &[&str] = &[
    "oidcc-rp-initiated-logout-discovery-endpoint-verification",
    "oidcc-rp-initiated-logout",
    "oidcc-rp-initiated-logout-bad-post-logout-redirect-uri",
    "oidcc-rp-initiated-logout-modified-id-token-hint",
    "oidcc-rp-initiated-logout-no-id-token-hint",
    "oidcc-rp-initiated-logout-no-params",
    "oidcc-rp-initiated-logout-no-post-logout-redirect-uri",
    "oidcc-rp-initiated-logout-no-state",
    "oidcc-rp-initiated-logout-only-state",
    "oidcc-rp-initiated-logout-query-added-to-post-logout-redirect-uri",
    "oidcc-rp-initiated-logout-bad-id-token-hint",
];

/// The plan's modules, in the Foundation's order.
pub const BASIC_MODULES: &[&str] = &[
    "oidcc-server",
    "oidcc-response-type-missing",
    "oidcc-idtoken-signature",
    "oidcc-userinfo-get",
    "oidcc-userinfo-post-header",
    "oidcc-userinfo-post-body",
    "oidcc-ensure-request-without-nonce-succeeds-for-code-flow",
    "oidcc-scope-profile",
    "oidcc-scope-email",
    "oidcc-scope-address",
    "oidcc-scope-phone",
    "oidcc-scope-all",
    "oidcc-display-page",
    "oidcc-display-popup",
    "oidcc-prompt-login",
    "oidcc-prompt-none-not-logged-in",
    "oidcc-prompt-none-logged-in",
    "oidcc-max-age-1",
    "oidcc-max-age-10000",
    "oidcc-ensure-request-with-unknown-parameter-succeeds",
    "oidcc-id-token-hint",
    "oidcc-login-hint",
    "oidcc-ui-locales",
    "oidcc-claims-locales",
    "oidcc-ensure-request-with-acr-values-succeeds",
    "oidcc-codereuse",
    "oidcc-codereuse-30seconds",
    "oidcc-ensure-registered-redirect-uri",
    "oidcc-ensure-post-request-succeeds",
    "oidcc-server-client-secret-post",
    "oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported",
    "oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported",
    "oidcc-claims-essential",
    "oidcc-ensure-request-object-with-redirect-uri",
    "oidcc-refresh-token",
    "oidcc-ensure-request-with-valid-pkce-succeeds",
    "oidcc-alternate-happy-flow",
];

/// Runs one module by name.
pub async fn run(name: &str, ctx: &mut Ctx) -> Result<Outcome> {
    match name {
        "oidcc-server" => simple::server(ctx).await,
        "oidcc-idtoken-signature" => simple::idtoken_signature(ctx).await,
        "oidcc-userinfo-get" => simple::userinfo(ctx, userinfo::UserinfoHow::Get).await,
        "oidcc-userinfo-post-header" => {
            simple::userinfo(ctx, userinfo::UserinfoHow::PostHeader).await
        }
        "oidcc-userinfo-post-body" => simple::userinfo(ctx, userinfo::UserinfoHow::PostBody).await,
        "oidcc-ensure-request-without-nonce-succeeds-for-code-flow" => {
            simple::without_nonce(ctx).await
        }
        "oidcc-display-page" => simple::with_param(ctx, "display", "page").await,
        "oidcc-display-popup" => simple::with_param(ctx, "display", "popup").await,
        "oidcc-ensure-request-with-unknown-parameter-succeeds" => {
            simple::with_param(ctx, "extra", "foobar").await
        }
        "oidcc-login-hint" => simple::login_hint(ctx).await,
        "oidcc-ui-locales" => simple::with_param(ctx, "ui_locales", "se").await,
        "oidcc-claims-locales" => simple::with_param(ctx, "claims_locales", "se").await,
        "oidcc-ensure-request-with-acr-values-succeeds" => simple::acr_values(ctx).await,
        "oidcc-ensure-post-request-succeeds" => simple::post_request(ctx).await,
        "oidcc-server-client-secret-post" => simple::client_secret_post(ctx).await,
        "oidcc-ensure-request-with-valid-pkce-succeeds" => simple::valid_pkce(ctx).await,
        "oidcc-alternate-happy-flow" => simple::alternate(ctx).await,
        "oidcc-claims-essential" => scopes::claims_essential(ctx).await,
        "oidcc-scope-profile" => scopes::scope(ctx, &["profile"]).await,
        "oidcc-scope-email" => scopes::scope(ctx, &["email"]).await,
        "oidcc-scope-address" => scopes::scope(ctx, &["address"]).await,
        "oidcc-scope-phone" => scopes::scope(ctx, &["phone"]).await,
        "oidcc-scope-all" => scopes::scope(ctx, &["profile", "email", "address", "phone"]).await,
        "oidcc-prompt-login" => session::prompt_login(ctx).await,
        "oidcc-prompt-none-not-logged-in" => session::prompt_none_not_logged_in(ctx).await,
        "oidcc-prompt-none-logged-in" => session::prompt_none_logged_in(ctx).await,
        "oidcc-max-age-1" => session::max_age_1(ctx).await,
        "oidcc-max-age-10000" => session::max_age_10000(ctx).await,
        "oidcc-id-token-hint" => session::id_token_hint(ctx).await,
        "oidcc-response-type-missing" => errors::response_type_missing(ctx).await,
        "oidcc-ensure-registered-redirect-uri" => errors::unregistered_redirect_uri(ctx).await,
        "oidcc-codereuse" => errors::codereuse(ctx, 0).await,
        "oidcc-codereuse-30seconds" => errors::codereuse(ctx, 30).await,
        "oidcc-refresh-token" => errors::refresh_token(ctx).await,
        "oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported" => {
            request_object::request_uri_unsigned(ctx).await
        }
        "oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported" => {
            request_object::unsigned(ctx, false).await
        }
        "oidcc-ensure-request-object-with-redirect-uri" => {
            request_object::unsigned(ctx, true).await
        }
        "oidcc-discovery-endpoint-verification" => discovery::endpoint_verification(ctx).await,
        "oidcc-rp-initiated-logout-discovery-endpoint-verification" => {
            discovery::logout_endpoint_verification(ctx).await
        }
        "oidcc-backchannel-logout-discovery-endpoint-verification" => {
            discovery::backchannel_endpoint_verification(ctx).await
        }
        "oidcc-backchannel-rp-initiated-logout" => backchannel::rp_initiated(ctx).await,
        "oidcc-frontchannel-logout-discovery-endpoint-verification" => {
            discovery::frontchannel_endpoint_verification(ctx).await
        }
        "oidcc-frontchannel-rp-initiated-logout" => frontchannel::rp_initiated(ctx).await,
        other => match logout::VARIANTS.iter().find(|(n, _)| *n == other) {
            Some((_, v)) => logout::run(ctx, *v).await,
            None => anyhow::bail!("unknown module {other}"),
        },
    }
}
