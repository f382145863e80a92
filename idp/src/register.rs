//! Self-registration (`/register`): a phone number or an e-mail address confirmed by a
//! one-time code, then a password; the new account is at level `simplified`.
//!
//! Rules:
//! - The code has 6 digits, lives 10 minutes and allows 5 attempts; a new code can be sent
//!   at most every 60 s and 5 times per registration, 10 times an hour per address and 30
//!   times an hour per IP address (counters in the shared cache, so on every node).
//! - An address that already belongs to an account gets a warning instead of a code and the
//!   page looks exactly the same: no code works, so nobody learns who is registered.
//! - The password follows NIST SP 800-63B (`password_policy`): at least 15 characters (no
//!   second factor yet), no composition rules, not on the common-password list, not the
//!   address itself.
//! - Every form carries the flow's CSRF token; the flow is bound to the browser that started
//!   it by a cookie scoped to its path, and lives 30 minutes.

use crate::app::{App, AppState};
use crate::crypto::sha256_b64;
use crate::flow::{Binding, Bound, Kind, SentCode};
use crate::http::FormPost;
use crate::i18n::Lang;
use crate::notify::{Message, Recipient};
use crate::password_policy::{hash_new, NewPasswordError};
use crate::store::{NewAccount, StoreError};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Seconds between two sends in one registration.
const RESEND_AFTER: i64 = 60;
/// Codes one registration may send.
const SENDS_PER_FLOW: usize = 5;
/// Codes one address may receive per hour, across registrations and nodes.
const SENDS_PER_ADDRESS: u64 = 10;
/// Codes one IP address may ask for per hour.
const SENDS_PER_IP: u64 = 30;
/// The registration flow's lifetime.
const FLOW_TTL: Duration = Duration::from_secs(1800);

/// A phone number or an e-mail address, normalised.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "lowercase")]
pub enum Contact {
    /// Lower-cased e-mail address.
    Email(String),
    /// E.164 phone number.
    Phone(String),
}

impl Contact {
    /// Parses what a person typed: an e-mail address, or a phone number (spaces, dashes
    /// and brackets allowed; a Russian `8…` or `7…` becomes `+7…`).
    pub fn parse(input: &str) -> Option<Contact> {
        let s = input.trim();
        if s.contains('@') {
            let s = s.to_lowercase();
            let (local, domain) = s.rsplit_once('@')?;
            let ok = !local.is_empty()
                && local.len() <= 64
                && s.len() <= 254
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !s.chars().any(|c| c.is_whitespace() || c.is_control())
                && !local.contains('@');
            return ok.then_some(Contact::Email(s));
        }
        let plus = s.starts_with('+');
        let rest = if plus { &s[1..] } else { s };
        if !rest
            .chars()
            .all(|c| c.is_ascii_digit() || " -()".contains(c))
        {
            return None;
        }
        let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
        let e164 = match (plus, digits.len(), digits.chars().next()) {
            (false, 11, Some('8')) | (false, 11, Some('7')) => format!("+7{}", &digits[1..]),
            (false, 10, Some('9')) => format!("+7{digits}"),
            (true, 10..=15, _) => format!("+{digits}"),
            _ => return None,
        };
        Some(Contact::Phone(e164))
    }

    /// The normalised address.
    pub fn value(&self) -> &str {
        match self {
            Contact::Email(v) | Contact::Phone(v) => v,
        }
    }

    /// Where a message to this address goes.
    pub fn recipient(&self) -> Recipient {
        match self {
            Contact::Email(v) => Recipient::Email(v.clone()),
            Contact::Phone(v) => Recipient::Sms(v.clone()),
        }
    }
}

/// A registration in progress.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Flow {
    #[serde(flatten)]
    b: Binding,
    contact: Option<Contact>,
    /// The code sent last.
    code: SentCode,
    /// Unix times of the codes sent.
    sends: Vec<i64>,
    /// The address belongs to an account already: no code is valid.
    taken: bool,
    verified: bool,
    /// The sign-in this registration was started from, which goes on once the account
    /// exists (`/interaction/{id}/register`).
    #[serde(default)]
    interaction: Option<String>,
}

impl Bound for Flow {
    fn binding(&self) -> &Binding {
        &self.b
    }
}

const FLOW: Kind = Kind {
    prefix: "reg",
    path: "/register",
    cookie: "vhod_registration",
    ttl: FLOW_TTL,
};

/// Renders the flow's page for its current step.
fn render(app: &App, f: &Flow, status: StatusCode, error: Option<String>) -> Response {
    let step = if f.verified {
        "password"
    } else if f.contact.is_some() {
        "code"
    } else {
        "contact"
    };
    let contact = f.contact.as_ref().map(Contact::value).unwrap_or("");
    app.pages.page(
        status,
        "register.html",
        f.b.lang,
        context! { id => &f.b.id, csrf => &f.b.csrf, step, contact, error },
    )
}

/// `GET /register`: starts a registration.
pub async fn start(State(app): State<AppState>, headers: HeaderMap) -> Response {
    begin(&app, &headers, None).await
}

/// Starts a registration; with `interaction`, the sign-in that goes on once the account
/// exists.
pub(crate) async fn begin(app: &App, headers: &HeaderMap, interaction: Option<String>) -> Response {
    let f = Flow {
        b: Binding::new(headers),
        contact: None,
        code: SentCode::default(),
        sends: Vec::new(),
        taken: false,
        verified: false,
        interaction,
    };
    FLOW.begin(app, &f).await
}

/// `GET /register/{id}`: the current step.
pub async fn show(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match FLOW.load::<Flow>(&app, &id, &headers).await {
        Ok(f) => render(&app, &f, StatusCode::OK, None),
        Err(r) => r,
    }
}

/// Counts one send against `counter` (an hour's window); false when over `limit`.
async fn within(app: &App, counter: &str, limit: u64) -> Result<bool, Response> {
    match app.cache.incr(counter, Duration::from_secs(3600)).await {
        Ok(n) => Ok(n <= limit),
        Err(e) => {
            tracing::error!(error = %e, "counter update failed");
            Err(app.pages.unavailable(Lang::Ru))
        }
    }
}

/// The registration code limits, shared by every page that sends a code to a new address:
/// one send per 60 s and 5 per flow (`sends` holds the flow's send times), 10 an hour per
/// address and 30 an hour per IP address (counters in the shared cache). Counts this send.
pub(crate) async fn check_send_limits(
    app: &App,
    lang: Lang,
    contact: &Contact,
    sends: &[i64],
    ip: &str,
) -> Result<(), (StatusCode, String)> {
    let now = app.now();
    let wait = sends.last().map_or(0, |t| t + RESEND_AFTER - now);
    if wait > 0 || sends.len() >= SENDS_PER_FLOW {
        return Err((
            StatusCode::TOO_MANY_REQUESTS,
            lang.t("err_resend_wait").into(),
        ));
    }
    let addr = format!("reg:sends:{}", sha256_b64(contact.value()));
    let by_ip = format!("reg:ip:{ip}");
    for (counter, limit) in [(addr, SENDS_PER_ADDRESS), (by_ip, SENDS_PER_IP)] {
        match within(app, &counter, limit).await {
            Ok(true) => {}
            Ok(false) => {
                return Err((
                    StatusCode::TOO_MANY_REQUESTS,
                    lang.t("too_many_attempts").into(),
                ))
            }
            Err(_) => return Err((StatusCode::SERVICE_UNAVAILABLE, lang.t("err_server").into())),
        }
    }
    Ok(())
}

/// Sends a new code (or, for a taken address, the warning) if the limits allow.
async fn send_code(app: &App, f: &mut Flow, ip: &str) -> Result<(), (StatusCode, String)> {
    let lang = f.b.lang;
    let Some(contact) = f.contact.clone() else {
        return Err((StatusCode::BAD_REQUEST, lang.t("err_expired").into()));
    };
    let now = app.now();
    check_send_limits(app, lang, &contact, &f.sends, ip).await?;
    let code = SentCode::fresh();
    let text = if f.taken {
        lang.t("reg_taken_text").to_owned()
    } else {
        lang.t("reg_code_text").replace("{code}", &code)
    };
    let m = Message {
        to: contact.recipient(),
        kind: if f.taken {
            "registration_attempt".into()
        } else {
            "registration_code".into()
        },
        subject: lang.t("reg_code_subject").into(),
        text,
    };
    if let Err(e) = app.notifier.send(&m, now).await {
        tracing::error!(error = %e, "registration code not sent");
        return Err((
            StatusCode::SERVICE_UNAVAILABLE,
            lang.t("err_channel_unavailable").into(),
        ));
    }
    f.code.set(&code, now, !f.taken);
    f.sends.push(now);
    Ok(())
}

/// `POST /register/{id}/contact`: the address; sends the first code.
pub async fn contact(FormPost(app, peer, id, headers, body): FormPost) -> Response {
    let (mut f, form) = match FLOW.load_form::<Flow>(&app, &id, &headers, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if f.contact.is_some() {
        return render(&app, &f, StatusCode::OK, None);
    }
    let Some(contact) = Contact::parse(form.get("contact").unwrap_or("")) else {
        let e = f.b.lang.t("err_contact_format").to_owned();
        return render(&app, &f, StatusCode::BAD_REQUEST, Some(e));
    };
    if !app.notifier.can_send(&contact.recipient()) {
        let e = f.b.lang.t("err_channel_unavailable").to_owned();
        return render(&app, &f, StatusCode::BAD_REQUEST, Some(e));
    }
    f.taken = match app.db.accounts().by_contact(contact.value()).await {
        Ok(a) => a.is_some(),
        Err(e) => {
            tracing::error!(error = %e, "account lookup failed");
            return app.pages.unavailable(f.b.lang);
        }
    };
    f.contact = Some(contact);
    let ip = crate::http::client_ip(peer, &headers, &app.settings.trusted_proxies);
    let sent = send_code(&app, &mut f, &ip.to_string()).await;
    if let Err((status, e)) = sent {
        f.contact = None;
        return render(&app, &f, status, Some(e));
    }
    if let Err(r) = FLOW.save(&app, &f).await {
        return r;
    }
    render(&app, &f, StatusCode::OK, None)
}

/// `POST /register/{id}/resend`.
pub async fn resend(FormPost(app, peer, id, headers, body): FormPost) -> Response {
    let (mut f, _) = match FLOW.load_form::<Flow>(&app, &id, &headers, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if f.verified {
        return render(&app, &f, StatusCode::OK, None);
    }
    let ip = crate::http::client_ip(peer, &headers, &app.settings.trusted_proxies);
    let (status, error) = match send_code(&app, &mut f, &ip.to_string()).await {
        Ok(()) => (StatusCode::OK, None),
        Err((s, e)) => (s, Some(e)),
    };
    if let Err(r) = FLOW.save(&app, &f).await {
        return r;
    }
    render(&app, &f, status, error)
}

/// `POST /register/{id}/code`.
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
    if f.verified || f.contact.is_none() {
        return render(&app, &f, StatusCode::OK, None);
    }
    match FLOW
        .check_code(&app, &mut f, |f| (&mut f.code, &mut f.verified), &form)
        .await
    {
        Ok((status, error)) => render(&app, &f, status, error),
        Err(r) => r,
    }
}

/// `POST /register/{id}/password`: creates the account.
pub async fn password(FormPost(app, peer, id, headers, body): FormPost) -> Response {
    let (f, form) = match FLOW.load_form::<Flow>(&app, &id, &headers, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (true, Some(contact)) = (f.verified, f.contact.clone()) else {
        return render(&app, &f, StatusCode::BAD_REQUEST, None);
    };
    let pw = form.get("password").unwrap_or("");
    let again = form.get("password2").unwrap_or("");
    let hash = match hash_new(pw, again, false, contact.value(), f.b.lang).await {
        Ok(h) => h,
        Err(NewPasswordError::Refused(e)) => {
            return render(&app, &f, StatusCode::BAD_REQUEST, Some(e))
        }
        Err(NewPasswordError::Unavailable) => return app.pages.unavailable(f.b.lang),
    };
    let (email, phone) = match &contact {
        Contact::Email(e) => (Some(e.clone()), None),
        Contact::Phone(p) => (None, Some(p.clone())),
    };
    let a = NewAccount {
        login: contact.value().to_owned(),
        password_hash: hash,
        email_verified: email.is_some(),
        phone_verified: phone.is_some(),
        email,
        phone,
        ..Default::default()
    };
    let account_id = match app.db.accounts().insert(&a, app.now()).await {
        Ok(id) => id,
        Err(StoreError::Conflict(_)) => {
            let e = f.b.lang.t("err_already_registered").to_owned();
            return render(&app, &f, StatusCode::CONFLICT, Some(e));
        }
        Err(e) => {
            tracing::error!(error = %e, "account creation failed");
            return app.pages.unavailable(f.b.lang);
        }
    };
    let ip = crate::http::client_ip(peer, &headers, &app.settings.trusted_proxies).to_string();
    let went_on = match &f.interaction {
        Some(ix) => crate::interaction::registered(&app, ix, &account_id, &headers, &ip).await,
        None => None,
    };
    // The flow is over (below): its page cannot be replayed.
    let mut r = went_on.unwrap_or_else(|| {
        app.pages.page(
            StatusCode::CREATED,
            "register.html",
            f.b.lang,
            context! { step => "done", contact => contact.value() },
        )
    });
    FLOW.finish(&app, &f.b.id, &mut r).await;
    r
}

#[cfg(test)]
mod tests {
    use super::Contact;

    #[test]
    fn contacts_are_normalised() {
        let e = |s: &str| Some(Contact::Email(s.into()));
        let p = |s: &str| Some(Contact::Phone(s.into()));
        assert_eq!(
            Contact::parse(" Alice@Example.COM "),
            e("alice@example.com")
        );
        assert_eq!(Contact::parse("8 (999) 000-11-22"), p("+79990001122"));
        assert_eq!(Contact::parse("+7 999 000 11 22"), p("+79990001122"));
        assert_eq!(Contact::parse("9990001122"), p("+79990001122"));
        assert_eq!(Contact::parse("+44 20 7946 0958"), p("+442079460958"));
        for bad in [
            "",
            "alice@",
            "@example.com",
            "a b@example.com",
            "a@example",
            "12345",
            "+7abc",
            "a@@b.c",
        ] {
            assert_eq!(Contact::parse(bad), None, "{bad:?}");
        }
    }
}
