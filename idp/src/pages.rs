//! Server-rendered pages: one auto-escaping minijinja environment, templates compiled in.
//!
//! Protocol code hands data to these functions and never builds HTML itself.

use crate::i18n::Lang;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use minijinja::{context, Environment, Value};

/// A template failed to load or render (a bug, reported as a 500 page).
#[derive(Debug, thiserror::Error)]
#[error("template error: {0}")]
pub struct PageError(#[from] minijinja::Error);

/// The compiled templates.
pub struct Pages {
    env: Environment<'static>,
    /// Each language's texts as one template value (Russian, English), built once: turning
    /// the whole table into a template map on every render cost more than the page itself.
    texts: [Value; 2],
}

/// The site stylesheet, served at `/static/vhod.css`.
pub const STYLESHEET: &str = include_str!("../templates/vhod.css");

/// The passkey ceremonies' script, served at `/static/passkey.js`.
pub const PASSKEY_SCRIPT: &str = include_str!("../templates/passkey.js");

impl Pages {
    /// Compiles every template.
    pub fn new() -> Result<Pages, PageError> {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
        for (name, src) in [
            ("base.html", include_str!("../templates/base.html")),
            ("login.html", include_str!("../templates/login.html")),
            ("totp.html", include_str!("../templates/totp.html")),
            ("outbox.html", include_str!("../templates/outbox.html")),
            ("register.html", include_str!("../templates/register.html")),
            ("account.html", include_str!("../templates/account.html")),
            ("identity.html", include_str!("../templates/identity.html")),
            ("profile.html", include_str!("../templates/profile.html")),
            (
                "notifications.html",
                include_str!("../templates/notifications.html"),
            ),
            (
                "totp_enrol.html",
                include_str!("../templates/totp_enrol.html"),
            ),
            ("services.html", include_str!("../templates/services.html")),
            ("recover.html", include_str!("../templates/recover.html")),
            ("history.html", include_str!("../templates/history.html")),
            ("sign.html", include_str!("../templates/sign.html")),
            (
                "signatures.html",
                include_str!("../templates/signatures.html"),
            ),
            ("delete.html", include_str!("../templates/delete.html")),
            ("password.html", include_str!("../templates/password.html")),
            ("sessions.html", include_str!("../templates/sessions.html")),
            ("factors.html", include_str!("../templates/factors.html")),
            ("passkeys.html", include_str!("../templates/passkeys.html")),
            (
                "passkey_form.html",
                include_str!("../templates/passkey_form.html"),
            ),
            (
                "certificates.html",
                include_str!("../templates/certificates.html"),
            ),
            (
                "passkey_sign_in.html",
                include_str!("../templates/passkey_sign_in.html"),
            ),
            ("consent.html", include_str!("../templates/consent.html")),
            ("device.html", include_str!("../templates/device.html")),
            ("error.html", include_str!("../templates/error.html")),
            ("logout.html", include_str!("../templates/logout.html")),
            ("validate.html", include_str!("../templates/validate.html")),
            (
                "form_post.html",
                include_str!("../templates/form_post.html"),
            ),
        ] {
            env.add_template(name, src)?;
        }
        Ok(Pages {
            env,
            texts: [Lang::Ru, Lang::En].map(|l| Value::from_serialize(l.texts())),
        })
    }

    /// Renders `name` with `ctx` plus the language's texts.
    pub fn render(&self, name: &str, lang: Lang, ctx: Value) -> Result<String, PageError> {
        let texts = match lang {
            Lang::Ru => &self.texts[0],
            Lang::En => &self.texts[1],
        };
        let full = context! { lang => lang.tag(), t => texts, ..ctx };
        Ok(self.env.get_template(name)?.render(full)?)
    }

    /// A rendered page as a response, or the error page if rendering failed.
    pub fn page(&self, status: StatusCode, name: &str, lang: Lang, ctx: Value) -> Response {
        match self.render(name, lang, ctx) {
            Ok(html) => html_response(status, html),
            Err(e) => {
                tracing::error!(error = %e, "page render failed");
                html_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    lang.t("err_server").to_owned(),
                )
            }
        }
    }

    /// The page shown when a backend (database, cache) failed: 503, no details.
    pub fn unavailable(&self, lang: Lang) -> Response {
        self.error(
            StatusCode::SERVICE_UNAVAILABLE,
            lang,
            "err_server",
            None,
            None,
        )
    }

    /// The error page people see when they cannot be sent back to the service.
    pub fn error(
        &self,
        status: StatusCode,
        lang: Lang,
        message_key: &str,
        code: Option<&str>,
        detail: Option<&str>,
    ) -> Response {
        self.page(
            status,
            "error.html",
            lang,
            context! { message => lang.t(message_key), code => code, detail => detail },
        )
    }
}

/// An HTML response that is never cached.
pub fn html_response(status: StatusCode, html: String) -> Response {
    let mut r = (status, html).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_template_file_is_compiled_in() {
        let pages = super::Pages::new().expect("templates compile");
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        for entry in std::fs::read_dir(dir).expect("templates dir") {
            let name = entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned();
            if name.ends_with(".html") {
                assert!(
                    pages.env.get_template(&name).is_ok(),
                    "{name} is not registered in Pages::new"
                );
            }
        }
    }
}
