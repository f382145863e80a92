//! The profile in the personal account (`/account/profile`): the name fields and the
//! contacts, with the forms that change them (`crate::profile_contact` for the contacts).
//!
//! Rules: the display name and the name parts can be edited while the account is at the
//! `simplified` level; once a level rests on checked identity data (`standard`,
//! `confirmed`) they are shown read-only with how to change them, so the level never
//! silently outlives the data it was given for. Names are letters with space, hyphen,
//! apostrophe and dot, at most 100 characters; every form carries the session's CSRF token.

use crate::account::{signed_in, signed_in_form};
use crate::app::{App, AppState};
use crate::i18n::Lang;
use crate::profile_contact::Pending;
use crate::session;
use crate::store::Account;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;

/// Whether the name fields are locked: a level above `simplified` was given for them.
pub fn names_locked(a: &Account) -> bool {
    a.level != "simplified"
}

/// What the profile page says after a form, beside the data.
#[derive(Default)]
pub struct Say<'a> {
    /// An error, shown as an alert.
    pub error: Option<&'a str>,
    /// A confirmation.
    pub notice: Option<&'a str>,
}

/// Renders the profile page.
pub fn render(
    app: &App,
    headers: &HeaderMap,
    lang: Lang,
    status: StatusCode,
    a: &Account,
    pending: Option<&Pending>,
    say: Say<'_>,
) -> Response {
    app.pages.page(
        status,
        "profile.html",
        lang,
        context! {
            csrf => session::csrf_for(app, headers).unwrap_or_default(),
            login => &a.login,
            name => &a.name, given_name => &a.given_name, family_name => &a.family_name,
            locked => names_locked(a),
            email => &a.email, email_verified => a.email_verified,
            phone => &a.phone, phone_verified => a.phone_verified,
            pending => pending.map(|p| p.contact.value()),
            error => say.error, notice => say.notice,
        },
    )
}

/// `GET /account/profile`.
pub async fn show(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let lang = Lang::choose(&[], &headers);
    let (_, a) = match signed_in(&app, &headers, lang).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let pending = match crate::profile_contact::load(&app, &a.id).await {
        Ok(p) => p,
        Err(()) => return app.pages.unavailable(lang),
    };
    render(
        &app,
        &headers,
        lang,
        StatusCode::OK,
        &a,
        pending.as_ref(),
        Say::default(),
    )
}

/// A name field as typed: `Ok(None)` when empty.
fn name_field(typed: &str) -> Result<Option<String>, ()> {
    let v = typed.split_whitespace().collect::<Vec<_>>().join(" ");
    if v.is_empty() {
        return Ok(None);
    }
    let ok =
        v.chars().count() <= 100 && v.chars().all(|c| c.is_alphabetic() || " -'’.".contains(c));
    if ok {
        Ok(Some(v))
    } else {
        Err(())
    }
}

/// `POST /account/profile/name`: the display name and the name parts.
pub async fn save_names(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let lang = Lang::choose(&[], &headers);
    let (a, form) = match signed_in_form(&app, &headers, lang, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let page = |status, error| {
        let say = Say {
            error: Some(lang.t(error)),
            notice: None,
        };
        render(&app, &headers, lang, status, &a, None, say)
    };
    if names_locked(&a) {
        return page(StatusCode::CONFLICT, "profile_names_locked");
    }
    let field = |k: &str| name_field(form.get(k).unwrap_or(""));
    let (Ok(name), Ok(given), Ok(family)) =
        (field("name"), field("given_name"), field("family_name"))
    else {
        return page(StatusCode::BAD_REQUEST, "profile_err_name");
    };
    let saved = app
        .db
        .accounts()
        .set_names(
            &a.id,
            name.as_deref(),
            given.as_deref(),
            family.as_deref(),
            app.now(),
        )
        .await;
    if let Err(e) = saved {
        tracing::error!(error = %e, "profile names not saved");
        return app.pages.unavailable(lang);
    }
    crate::oauth::authorize::response::redirect("/account/profile")
}

#[cfg(test)]
mod tests {
    use super::name_field;

    #[test]
    fn names_are_letters_and_a_few_marks() {
        assert_eq!(name_field("  Анна  Мария "), Ok(Some("Анна Мария".into())));
        assert_eq!(name_field("O'Neil-Smith"), Ok(Some("O'Neil-Smith".into())));
        assert_eq!(name_field("   "), Ok(None));
        for bad in ["<script>", "Анна1", "a\u{0}b", &"я".repeat(101)] {
            assert_eq!(name_field(bad), Err(()), "{bad:?}");
        }
    }
}
