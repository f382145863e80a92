//! Second factors, decided in one place: which an account has (authenticator app, one-time
//! codes by SMS or e-mail, recovery codes), and the sending and checking of codes by SMS or
//! e-mail. Passkeys count as a factor here; their ceremony lives in `crate::passkey`.
//!
//! Rules (NIST SP 800-63B §5.1.3, the registration code rules of `flow::SentCode`): a code
//! has 6 digits, works for 10 minutes and once; 5 wrong attempts end it; a new one may be
//! sent only a minute after the last, and at most 10 an hour per account. Codes and counters
//! live in the shared cache, so the limits hold across nodes. A code goes only to a
//! confirmed phone or e-mail address; a channel whose address is no longer confirmed is not
//! a factor. `amr` (RFC 8176): SMS is `sms`; RFC 8176 has no value for e-mail, so an
//! e-mailed code reports `otp` (a one-time password), like the authenticator app.

use crate::app::App;
use crate::flow::SentCode;
use crate::i18n::Lang;
use crate::notify::{Message, Recipient};
use crate::store::{Account, StoreError};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Seconds between two codes sent for one account and purpose.
pub const RESEND_AFTER: u64 = 60;
/// Codes one account may be sent per hour.
const SENDS_PER_HOUR: u64 = 10;

/// A way to give the second factor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// A code from the authenticator app (RFC 6238).
    Totp,
    /// A code sent by SMS to the confirmed phone.
    Sms,
    /// A code sent by e-mail to the confirmed address.
    Email,
    /// One of the single-use recovery codes.
    Recovery,
}

impl Method {
    /// The wire and form name.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Totp => "totp",
            Method::Sms => "sms",
            Method::Email => "email",
            Method::Recovery => "recovery",
        }
    }

    /// Parses a form value.
    pub fn parse(s: &str) -> Option<Method> {
        [Method::Totp, Method::Sms, Method::Email, Method::Recovery]
            .into_iter()
            .find(|m| m.as_str() == s)
    }

    /// Whether the code is sent to the person (SMS, e-mail).
    pub fn is_sent(self) -> bool {
        matches!(self, Method::Sms | Method::Email)
    }

    /// `amr` of a sign-in with the password and this factor (RFC 8176).
    pub fn amr(self) -> [&'static str; 3] {
        match self {
            Method::Sms => ["pwd", "sms", "mfa"],
            Method::Totp | Method::Email | Method::Recovery => ["pwd", "otp", "mfa"],
        }
    }
}

/// The second factors an account has.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Factors {
    /// An authenticator app.
    pub totp: bool,
    /// Codes by SMS (to a confirmed phone).
    pub sms: bool,
    /// Codes by e-mail (to a confirmed address).
    pub email: bool,
    /// Unspent recovery codes (they stand in for the app).
    pub recovery: bool,
    /// A passkey (WebAuthn), asked on its own page rather than as a code.
    pub passkey: bool,
}

impl Factors {
    /// Whether the account has a second factor (recovery codes alone are not one).
    pub fn any(&self) -> bool {
        self.totp || self.sms || self.email || self.passkey
    }

    /// Whether `m` can be used now.
    pub fn has(&self, m: Method) -> bool {
        match m {
            Method::Totp => self.totp,
            Method::Sms => self.sms,
            Method::Email => self.email,
            Method::Recovery => self.recovery,
        }
    }

    /// Every usable method, the authenticator app first.
    pub fn methods(&self) -> Vec<Method> {
        [Method::Totp, Method::Sms, Method::Email, Method::Recovery]
            .into_iter()
            .filter(|m| self.has(*m))
            .collect()
    }

    /// The method asked for first at sign-in.
    pub fn first(&self) -> Option<Method> {
        self.methods().into_iter().next()
    }
}

/// The second factors of `a`, as its row was read (the code factors come with the row).
pub async fn factors(app: &App, a: &Account) -> Result<Factors, StoreError> {
    let recovery = a.totp_secret.is_some() && app.db.recovery_codes().remaining(&a.id).await? > 0;
    Ok(Factors {
        totp: a.totp_secret.is_some(),
        sms: a.otp_sms && recipient(a, Method::Sms).is_some(),
        email: a.otp_email && recipient(a, Method::Email).is_some(),
        recovery,
        passkey: a.passkeys > 0,
    })
}

/// Whether `a` has a second factor: the one answer to "must this sign-in give a second
/// factor", "may the password be 8 characters" and "does a client's MFA rule hold".
pub async fn has_second_factor(app: &App, a: &Account) -> Result<bool, StoreError> {
    Ok(factors(app, a).await?.any())
}

/// Where a code for `m` goes: the confirmed phone or e-mail address, nothing otherwise.
pub fn recipient(a: &Account, m: Method) -> Option<Recipient> {
    match m {
        Method::Sms => a
            .phone
            .clone()
            .filter(|_| a.phone_verified)
            .map(Recipient::Sms),
        Method::Email => a
            .email
            .clone()
            .filter(|_| a.email_verified)
            .map(Recipient::Email),
        Method::Totp | Method::Recovery => None,
    }
}

/// The address a code went to, partly hidden (`+7999*****22`, `a***@example.com`).
pub fn masked(a: &Account, m: Method) -> String {
    match recipient(a, m) {
        Some(Recipient::Sms(p)) => {
            let chars: Vec<char> = p.chars().collect();
            chars
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    if i < 5 || i + 2 >= chars.len() {
                        *c
                    } else {
                        '*'
                    }
                })
                .collect()
        }
        Some(Recipient::Email(e)) => match e.split_once('@') {
            Some((local, domain)) => {
                let first: String = local.chars().take(1).collect();
                format!("{first}***@{domain}")
            }
            None => String::new(),
        },
        None => String::new(),
    }
}

/// Why a code was not sent or not accepted: the status and the text key to show.
pub type Refusal = (StatusCode, &'static str);

fn code_key(purpose: &str, account_id: &str, m: Method) -> String {
    format!("otp:{purpose}:{account_id}:{}", m.as_str())
}

/// Sends a new code for `m` to `a` (for `purpose`: `signin`, `enrol`), if the limits allow.
/// A new code replaces the one sent before.
pub async fn send(
    app: &App,
    a: &Account,
    m: Method,
    purpose: &str,
    lang: Lang,
) -> Result<(), Refusal> {
    let wording = Wording {
        kind: format!("{purpose}_code"),
        subject: lang.t("otp_code_subject").into(),
        text: lang.t("otp_code_text").into(),
    };
    send_worded(app, a, m, purpose, &wording).await
}

/// What a code message says: its kind (for the outbox and notification settings), subject
/// and text, where `{code}` stands for the code.
pub struct Wording {
    /// The message kind.
    pub kind: String,
    /// The subject (e-mail).
    pub subject: String,
    /// The text with a `{code}` placeholder.
    pub text: String,
}

/// As [`send`], with the message's own wording (e.g. one naming what the code confirms).
pub async fn send_worded(
    app: &App,
    a: &Account,
    m: Method,
    purpose: &str,
    wording: &Wording,
) -> Result<(), Refusal> {
    let unavailable = (StatusCode::SERVICE_UNAVAILABLE, "err_server");
    let Some(to) = recipient(a, m) else {
        return Err((StatusCode::BAD_REQUEST, "err_channel_unavailable"));
    };
    let key = code_key(purpose, &a.id, m);
    if !resend_allowed(app, &format!("{key}:last"))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "resend gate failed");
            unavailable
        })?
    {
        return Err((StatusCode::TOO_MANY_REQUESTS, "err_resend_wait"));
    }
    let hourly = format!("otp:sends:{}", a.id);
    match app.cache.incr(&hourly, Duration::from_secs(3600)).await {
        Ok(n) if n > SENDS_PER_HOUR => {
            return Err((StatusCode::TOO_MANY_REQUESTS, "too_many_attempts"))
        }
        Ok(_) => {}
        Err(e) => {
            tracing::error!(error = %e, "send counter failed");
            return Err(unavailable);
        }
    }
    let code = SentCode::fresh();
    let now = app.now();
    let msg = Message {
        to,
        kind: wording.kind.clone(),
        subject: wording.subject.clone(),
        text: wording.text.replace("{code}", &code),
    };
    if let Err(e) = app.notifier.send(&msg, now).await {
        tracing::error!(error = %e, "one-time code not sent");
        return Err((StatusCode::SERVICE_UNAVAILABLE, "err_channel_unavailable"));
    }
    let mut sent = SentCode::default();
    sent.set(&code, now, true);
    let stored = async {
        let json = serde_json::to_vec(&sent).map_err(|e| e.to_string())?;
        let ttl = Duration::from_secs(SentCode::TTL as u64);
        app.cache
            .delete(&format!("{key}:tries"))
            .await
            .map_err(|e| e.to_string())?;
        app.cache
            .put(&key, &json, ttl)
            .await
            .map_err(|e| e.to_string())
    };
    stored.await.map_err(|e| {
        tracing::error!(error = %e, "one-time code not stored");
        unavailable
    })
}

/// Whether a code may be sent now: the gate holds the last send's time for a minute (set
/// atomically, so two nodes cannot both send); a gate older than a minute by the app's clock
/// is passed too.
async fn resend_allowed(app: &App, gate: &str) -> Result<bool, crate::cache::CacheError> {
    let now = app.now();
    let ttl = Duration::from_secs(RESEND_AFTER);
    if app
        .cache
        .put_if_absent(gate, now.to_string().as_bytes(), ttl)
        .await?
    {
        return Ok(true);
    }
    let last = app
        .cache
        .get(gate)
        .await?
        .and_then(|v| String::from_utf8(v).ok())
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(now);
    if now < last + RESEND_AFTER as i64 {
        return Ok(false);
    }
    app.cache.put(gate, now.to_string().as_bytes(), ttl).await?;
    Ok(true)
}

/// Checks a typed code for `m`. A match spends it (once, on every node); every attempt is
/// counted, and the fifth wrong one ends the code.
pub async fn check(
    app: &App,
    account_id: &str,
    m: Method,
    purpose: &str,
    typed: &str,
) -> Result<(), Refusal> {
    let unavailable = |e: crate::cache::CacheError| {
        tracing::error!(error = %e, "one-time code lookup failed");
        (StatusCode::SERVICE_UNAVAILABLE, "err_server")
    };
    let key = code_key(purpose, account_id, m);
    let expired = (StatusCode::BAD_REQUEST, "err_code_expired");
    let Some(raw) = app.cache.get(&key).await.map_err(unavailable)? else {
        return Err(expired);
    };
    let Ok(mut sent) = serde_json::from_slice::<SentCode>(&raw) else {
        return Err(expired);
    };
    let ttl = Duration::from_secs(SentCode::TTL as u64);
    let tries = app
        .cache
        .incr(&format!("{key}:tries"), ttl)
        .await
        .map_err(unavailable)?;
    let attempts = (StatusCode::TOO_MANY_REQUESTS, "err_code_attempts");
    if tries > u64::from(SentCode::ATTEMPTS) {
        return Err(attempts);
    }
    match sent.check(typed, app.now()) {
        // Whoever takes the code out of the cache first is the one that used it.
        Ok(()) => match app.cache.consume(&key).await.map_err(unavailable)? {
            Some(_) => Ok(()),
            None => Err(expired),
        },
        Err((_, "err_code_wrong")) if tries >= u64::from(SentCode::ATTEMPTS) => Err(attempts),
        Err(e) => Err(e),
    }
}

/// Wrong answers to an account's authenticator app, recovery codes or passkeys allowed in one
/// window, over its sign-ins and recoveries together; past them every answer is refused until
/// the window ends.
pub const MAX_FAILURES: u64 = 5;
/// How long wrong answers are remembered (as for failed passwords).
const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);

fn failure_counter(account_id: &str) -> String {
    format!("fail:otp:{account_id}")
}

/// Whether the account's wrong second-factor answers reached `MAX_FAILURES` in the window.
pub async fn too_many_failures(
    app: &App,
    account_id: &str,
) -> Result<bool, crate::cache::CacheError> {
    let n = app
        .cache
        .get(&failure_counter(account_id))
        .await?
        .and_then(|v| String::from_utf8(v).ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    Ok(n >= MAX_FAILURES)
}

/// Counts a wrong second-factor answer of the account (a failure is logged, not raised: the
/// answer is refused either way).
pub async fn count_failure(app: &App, account_id: &str) {
    if let Err(e) = app
        .cache
        .incr(&failure_counter(account_id), FAILURE_WINDOW)
        .await
    {
        tracing::error!(error = %e, "counter update failed");
    }
}

/// Forgets the account's wrong second-factor answers, after a right one.
pub async fn clear_failures(app: &App, account_id: &str) {
    let _ = app.cache.delete(&failure_counter(account_id)).await;
}

/// Why an authenticator-app or recovery code could not be checked at all (a wrong code is
/// `Ok(false)`, not this).
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The stored authenticator key does not open under the configured key.
    #[error("the TOTP secret cannot be opened")]
    Sealed,
    /// The replay cache failed.
    #[error(transparent)]
    Cache(#[from] crate::cache::CacheError),
    /// The recovery-code store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks `typed` as the account's authenticator-app code (RFC 6238) or, failing that, as one
/// of its recovery codes. A match is used up: the app code's step is remembered in the
/// shared cache, the recovery code spent atomically in the database, so either works once
/// on every node. `Ok(false)` for a wrong, replayed or spent code.
pub async fn check_app_code(app: &App, a: &Account, typed: &str) -> Result<bool, CheckError> {
    let secret = match a.totp_secret.as_deref() {
        // No authenticator app: only recovery codes (there are none without one, so false).
        None => None,
        Some(sealed) => {
            Some(crate::totp::open(&app.secrets.factor_key, sealed).ok_or(CheckError::Sealed)?)
        }
    };
    let now = app.now();
    let step = secret
        .as_deref()
        .and_then(|s| crate::totp::matching_step(s, typed, now));
    if let Some(step) = step {
        let used = format!("totp:used:{}:{step}", a.id);
        let window = Duration::from_secs(crate::totp::REPLAY_WINDOW_SECS);
        return Ok(app.cache.put_if_absent(&used, b"1", window).await?);
    }
    match crate::totp::normalise_recovery_code(typed) {
        Some(c) => {
            let hash = crate::totp::recovery_hash(&app.secrets.recovery_key, &a.id, &c);
            Ok(app.db.recovery_codes().spend(&a.id, &hash, now).await?)
        }
        None => Ok(false),
    }
}
