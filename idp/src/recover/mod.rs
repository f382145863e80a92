//! Password recovery (`/recover`): a code to a confirmed phone or e-mail address of the
//! account, then its second factor when it has one (`factor`), then a new password.
//!
//! Rules:
//! - The same page follows whether or not the login exists or has a confirmed address; a
//!   code goes out only to a confirmed address of a real account. Codes: 6 digits, 10
//!   minutes, 5 attempts; at most 3 per recovery and 5 an hour per login, 30 per IP.
//! - An account with any second factor (`otp_factor::factors`) must also give one of them
//!   (RFC 8176 `mfa` stays meaningful): its authenticator app or a recovery code, a code by
//!   SMS or e-mail, or a passkey. The channel the recovery code went by is not offered as
//!   that factor when the account has another: a second code to the same inbox proves
//!   nothing new. When that channel is the account's only factor, nothing more is asked:
//!   the recovery code already proved possession of it, and asking for a second code to the
//!   same place would only repeat that proof.
//! - The new password follows NIST SP 800-63B (`password_policy`).
//! - On success: the password is replaced, failures and any lock are cleared, every grant
//!   (refresh and access tokens) is revoked and every session ended, and the citizen is
//!   told on their confirmed addresses.

mod factor;

pub use factor::{choose as choose_factor, factor, passkey, send as send_factor_code};

use crate::app::{App, AppState};
use crate::crypto::sha256_b64;
use crate::flow::{Binding, Bound, Kind, SentCode};
use crate::http::FormPost;
use crate::notify::{Message, Recipient};
use crate::otp_factor::Method;
use crate::password_policy::{hash_new, NewPasswordError};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;
use serde::{Deserialize, Serialize};
use std::time::Duration;

const SENDS_PER_FLOW: u32 = 3;
const SENDS_PER_LOGIN: u64 = 5;
const SENDS_PER_IP: u64 = 30;
const FLOW_TTL: Duration = Duration::from_secs(1800);

/// A recovery in progress.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Flow {
    #[serde(flatten)]
    b: Binding,
    /// The account, when the login named one with a confirmed address.
    account_id: Option<String>,
    /// Where the code went, masked, for the page (also shown when nothing was sent).
    shown_to: Option<String>,
    code: SentCode,
    /// Second-factor attempts.
    factor_attempts: u32,
    sends: u32,
    code_ok: bool,
    factor_needed: bool,
    factor_ok: bool,
    /// The channel the recovery code went by (SMS or e-mail).
    #[serde(default)]
    channel: Option<Method>,
    /// The way of giving the second factor the person picked (else the first offered).
    #[serde(default)]
    way: Option<factor::Way>,
    /// The code channel a second-factor code was sent by in this recovery.
    #[serde(default)]
    sent: Option<Method>,
}

impl Bound for Flow {
    fn binding(&self) -> &Binding {
        &self.b
    }
}

const FLOW: Kind = Kind {
    prefix: "recover",
    path: "/recover",
    cookie: "vhod_recovery",
    ttl: FLOW_TTL,
};

impl Flow {
    fn step(&self) -> &'static str {
        if !self.code_ok {
            if self.shown_to.is_some() {
                "code"
            } else {
                "login"
            }
        } else if self.factor_needed && !self.factor_ok {
            "factor"
        } else {
            "password"
        }
    }
}

async fn render(app: &App, f: &Flow, status: StatusCode, error: Option<String>) -> Response {
    if f.step() == "factor" {
        return factor::page(app, f, status, error).await;
    }
    app.pages.page(
        status,
        "recover.html",
        f.b.lang,
        context! { id => &f.b.id, csrf => &f.b.csrf, step => f.step(), shown_to => &f.shown_to, error },
    )
}

/// `GET /recover`.
pub async fn start(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let f = Flow {
        b: Binding::new(&headers),
        account_id: None,
        shown_to: None,
        code: SentCode::default(),
        factor_attempts: 0,
        sends: 0,
        code_ok: false,
        factor_needed: false,
        factor_ok: false,
        channel: None,
        way: None,
        sent: None,
    };
    FLOW.begin(&app, &f).await
}

/// `GET /recover/{id}`.
pub async fn show(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match FLOW.load::<Flow>(&app, &id, &headers).await {
        Ok(f) => render(&app, &f, StatusCode::OK, None).await,
        Err(r) => r,
    }
}

/// `a***@example.com`, `+7******1122`: enough for the person to know where to look.
fn mask(r: &Recipient) -> String {
    match r {
        Recipient::Email(e) => match e.split_once('@') {
            Some((l, d)) => format!("{}***@{d}", l.chars().next().unwrap_or('*')),
            None => "***".into(),
        },
        Recipient::Sms(p) => {
            let n = p.chars().count();
            p.chars()
                .enumerate()
                .map(|(i, c)| if i < 2 || i + 4 >= n { c } else { '*' })
                .collect()
        }
    }
}

/// `POST /recover/{id}/login`: the login (or address); sends a code to a confirmed address.
pub async fn login(FormPost(app, peer, id, headers, body): FormPost) -> Response {
    let (mut f, form) = match FLOW.load_form::<Flow>(&app, &id, &headers, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if f.sends >= SENDS_PER_FLOW {
        let e = f.b.lang.t("too_many_attempts").to_owned();
        return render(&app, &f, StatusCode::TOO_MANY_REQUESTS, Some(e)).await;
    }
    let typed = form.get("login").unwrap_or("").trim().to_lowercase();
    if typed.is_empty() || typed.len() > 254 {
        let e = f.b.lang.t("err_contact_format").to_owned();
        return render(&app, &f, StatusCode::BAD_REQUEST, Some(e)).await;
    }
    let ip = crate::http::client_ip(peer, &headers, &app.settings.trusted_proxies);
    for (counter, limit) in [
        (
            format!("recover:sends:{}", sha256_b64(&typed)),
            SENDS_PER_LOGIN,
        ),
        (format!("recover:ip:{ip}"), SENDS_PER_IP),
    ] {
        match app.cache.incr(&counter, Duration::from_secs(3600)).await {
            Ok(n) if n <= limit => {}
            Ok(_) => {
                let e = f.b.lang.t("too_many_attempts").to_owned();
                return render(&app, &f, StatusCode::TOO_MANY_REQUESTS, Some(e)).await;
            }
            Err(e) => {
                tracing::error!(error = %e, "counter update failed");
                return app.pages.unavailable(f.b.lang);
            }
        }
    }
    let account = match app.db.accounts().by_contact(&typed).await {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(error = %e, "account lookup failed");
            return app.pages.unavailable(f.b.lang);
        }
    };
    // Where to send: the confirmed address the person typed, else the confirmed e-mail,
    // else the confirmed phone.
    let to = account.as_ref().and_then(|a| {
        let email = a.email.clone().filter(|_| a.email_verified);
        let phone = a.phone.clone().filter(|_| a.phone_verified);
        match (&email, &phone) {
            (_, Some(p)) if *p == typed => Some(Recipient::Sms(p.clone())),
            (Some(e), _) => Some(Recipient::Email(e.clone())),
            (None, Some(p)) => Some(Recipient::Sms(p.clone())),
            (None, None) => None,
        }
    });
    f.sends += 1;
    f.shown_to = Some(to.as_ref().map_or_else(|| typed.clone(), mask));
    f.account_id = None;
    f.factor_needed = false;
    f.factor_ok = false;
    (f.channel, f.way, f.sent) = (None, None, None);
    // Nothing matches until a code really goes out.
    f.code.set("", app.now(), false);
    if let (Some(a), Some(to)) = (account, to) {
        let channel = match to {
            Recipient::Sms(_) => Method::Sms,
            Recipient::Email(_) => Method::Email,
        };
        let code = SentCode::fresh();
        let m = Message {
            to,
            kind: "recovery_code".into(),
            subject: f.b.lang.t("reg_code_subject").into(),
            text: f.b.lang.t("recover_code_text").replace("{code}", &code),
        };
        // Not waiting for the mail or SMS server: unknown logins get no message, and the
        // answer's timing must not tell the two apart.
        if let Err(e) = app.notifier.send_detached(m, app.now()) {
            tracing::error!(error = %e, "recovery code not sent");
        } else {
            f.code.set(&code, app.now(), true);
            f.account_id = Some(a.id.clone());
            f.channel = Some(channel);
        }
    }
    if let Err(r) = FLOW.save(&app, &f).await {
        return r;
    }
    render(&app, &f, StatusCode::OK, None).await
}

/// `POST /recover/{id}/code`.
pub async fn code(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (mut f, form) = match FLOW.load_form::<Flow>(&app, &id, &headers, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if f.step() != "code" {
        return render(&app, &f, StatusCode::OK, None).await;
    }
    let lang = f.b.lang;
    let result = f.code.check(form.get("code").unwrap_or(""), app.now());
    if result.is_ok() {
        // Whether a second factor is asked is looked up only now, with the code right: at the
        // login step, a look-up that only real accounts get would show in the answer's timing.
        // Saved together with `code_ok`, so no request sees the code done without it.
        f.factor_needed = match factor_needed(&app, &f).await {
            Ok(n) => n,
            Err(e) => {
                tracing::error!(error = %e, "factor lookup failed");
                return app.pages.unavailable(lang);
            }
        };
        f.code_ok = true;
    }
    if let Err(r) = FLOW.save(&app, &f).await {
        return r;
    }
    match result {
        Ok(()) => render(&app, &f, StatusCode::OK, None).await,
        Err((status, key)) => render(&app, &f, status, Some(lang.t(key).to_owned())).await,
    }
}

/// Whether the recovering account must give a second factor: any of its factors but the
/// channel the recovery code went by (an account gone since asks for none; the password step
/// then finds it gone).
async fn factor_needed(app: &App, f: &Flow) -> Result<bool, crate::store::StoreError> {
    let Some(id) = f.account_id.as_deref() else {
        return Ok(false);
    };
    let Some(account) = app.db.accounts().get(id).await? else {
        return Ok(false);
    };
    let all = crate::otp_factor::factors(app, &account).await?;
    Ok(factor::usable(all, f.channel).any())
}

/// `POST /recover/{id}/password`: sets the new password and ends everything old.
pub async fn password(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (f, form) = match FLOW.load_form::<Flow>(&app, &id, &headers, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(account_id) = f.account_id.clone().filter(|_| f.step() == "password") else {
        return render(&app, &f, StatusCode::BAD_REQUEST, None).await;
    };
    let account = match app.db.accounts().get(&account_id).await {
        Ok(Some(a)) => a,
        _ => return app.pages.unavailable(f.b.lang),
    };
    let mfa = match crate::otp_factor::has_second_factor(&app, &account).await {
        Ok(m) => m,
        Err(_) => return app.pages.unavailable(f.b.lang),
    };
    let pw = form.get("password").unwrap_or("");
    let again = form.get("password2").unwrap_or("");
    let hash = match hash_new(pw, again, mfa, &account.login, f.b.lang).await {
        Ok(h) => h,
        Err(NewPasswordError::Refused(e)) => {
            return render(&app, &f, StatusCode::BAD_REQUEST, Some(e)).await
        }
        Err(NewPasswordError::Unavailable) => return app.pages.unavailable(f.b.lang),
    };
    let now = app.now();
    let done = async {
        app.db
            .accounts()
            .set_password(&account.id, &hash, now)
            .await?;
        app.db.grants().revoke_all(&account.id, now).await?;
        Ok::<_, crate::store::StoreError>(())
    };
    if let Err(e) = done.await {
        tracing::error!(error = %e, "password reset failed");
        return app.pages.unavailable(f.b.lang);
    }
    if let Err(e) = crate::session::end_all(&app, &account.id).await {
        tracing::error!(error = %e, "sessions not ended after a password reset");
    }
    crate::account::tell(&app, &account, "password_changed", f.b.lang).await;
    let mut r = app.pages.page(
        StatusCode::OK,
        "recover.html",
        f.b.lang,
        context! { step => "done" },
    );
    FLOW.finish(&app, &f.b.id, &mut r).await;
    r
}
