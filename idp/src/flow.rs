//! Multi-step pages outside the OAuth interaction (registration, password recovery): the
//! state lives in the shared cache under a random id, every form carries the flow's CSRF
//! token, and the flow is bound to the browser that began it by a cookie scoped to its path.

use crate::app::App;
use crate::crypto::{ct_eq, random_token};
use crate::i18n::Lang;
use crate::oauth::params::Params;
use crate::session::get_json;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// What binds a flow to its browser and forms.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Binding {
    /// Random id, in the URL.
    pub id: String,
    /// CSRF token every form must echo.
    pub csrf: String,
    /// Value of the browser-binding cookie.
    pub browser: String,
    /// The page language, chosen when the flow began.
    pub lang: Lang,
}

impl Binding {
    /// A fresh binding for the browser that sent `headers`.
    pub fn new(headers: &HeaderMap) -> Binding {
        Binding {
            id: random_token(16),
            csrf: random_token(24),
            browser: random_token(24),
            lang: Lang::choose(&[], headers),
        }
    }
}

/// A flow's state: it carries its binding.
pub trait Bound: Serialize + DeserializeOwned {
    /// The binding.
    fn binding(&self) -> &Binding;
}

/// One kind of flow: where it lives and how long.
pub struct Kind {
    /// Cache key prefix.
    pub prefix: &'static str,
    /// The URL path the flow's pages hang under (`/register`).
    pub path: &'static str,
    /// The browser-binding cookie's name.
    pub cookie: &'static str,
    /// How long an idle flow lives.
    pub ttl: Duration,
}

impl Kind {
    fn key(&self, id: &str) -> String {
        format!("{}:{id}", self.prefix)
    }

    /// The flow's own path, `/register/{id}`.
    pub fn path_of(&self, id: &str) -> String {
        format!("{}/{id}", self.path)
    }

    /// Stores the flow's state.
    pub async fn save<T: Bound>(&self, app: &App, f: &T) -> Result<(), Response> {
        let b = f.binding();
        let json = serde_json::to_vec(f).map_err(|_| app.pages.unavailable(b.lang))?;
        app.cache
            .put(&self.key(&b.id), &json, self.ttl)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, flow = self.prefix, "flow store failed");
                app.pages.unavailable(b.lang)
            })
    }

    /// The code step of a flow: checks the typed `code` against the flow's sent code (which
    /// counts the attempt), marks the step done when it is right, and stores the flow. Gives
    /// the status and, for a wrong code, the message to show; `Err` is the page for a store
    /// failure.
    pub async fn check_code<T: Bound>(
        &self,
        app: &App,
        f: &mut T,
        parts: fn(&mut T) -> (&mut SentCode, &mut bool),
        form: &Params,
    ) -> Result<(StatusCode, Option<String>), Response> {
        let (code, done) = parts(f);
        let result = code.check(form.get("code").unwrap_or(""), app.now());
        if result.is_ok() {
            *done = true;
        }
        self.save(app, f).await?;
        let lang = f.binding().lang;
        Ok(match result {
            Ok(()) => (StatusCode::OK, None),
            Err((status, key)) => (status, Some(lang.t(key).to_owned())),
        })
    }

    /// Stores a new flow and sends the browser to it with its binding cookie.
    pub async fn begin<T: Bound>(&self, app: &App, f: &T) -> Response {
        if let Err(r) = self.save(app, f).await {
            return r;
        }
        let path = self.path_of(&f.binding().id);
        let mut r = crate::oauth::authorize::response::redirect(&path);
        if let Some(c) = crate::http::set_cookie(
            self.cookie,
            &f.binding().browser,
            &path,
            self.ttl.as_secs() as i64,
            app.settings.secure_cookies,
        ) {
            r.headers_mut().append(header::SET_COOKIE, c);
        }
        r
    }

    /// Loads the flow this browser owns; otherwise the page to show.
    pub async fn load<T: Bound>(
        &self,
        app: &App,
        id: &str,
        headers: &HeaderMap,
    ) -> Result<T, Response> {
        let lang = Lang::choose(&[], headers);
        let expired = || {
            app.pages
                .error(StatusCode::NOT_FOUND, lang, "err_expired", None, None)
        };
        if id.len() > 64 {
            return Err(expired());
        }
        let f: Option<T> = get_json(app.cache.as_ref(), &self.key(id))
            .await
            .map_err(|e| {
                tracing::error!(error = %e, flow = self.prefix, "flow lookup failed");
                app.pages.unavailable(lang)
            })?;
        let f = f.ok_or_else(expired)?;
        let b = f.binding();
        if !crate::http::cookie(headers, self.cookie).is_some_and(|c| ct_eq(c, &b.browser)) {
            return Err(app
                .pages
                .error(StatusCode::FORBIDDEN, b.lang, "err_csrf", None, None));
        }
        Ok(f)
    }

    /// Loads the flow a form was posted to and checks the form's CSRF token.
    pub async fn load_form<T: Bound>(
        &self,
        app: &App,
        id: &str,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(T, Params), Response> {
        let f: T = self.load(app, id, headers).await?;
        let form = Params::parse(body);
        let b = f.binding();
        if !form.get("csrf").is_some_and(|c| ct_eq(c, &b.csrf)) {
            return Err(app
                .pages
                .error(StatusCode::FORBIDDEN, b.lang, "err_csrf", None, None));
        }
        Ok((f, form))
    }

    /// Ends the flow: its state is forgotten and its cookie cleared on `r`.
    pub async fn finish(&self, app: &App, id: &str, r: &mut Response) {
        let _ = app.cache.delete(&self.key(id)).await;
        if let Some(c) = crate::http::set_cookie(
            self.cookie,
            "",
            &self.path_of(id),
            0,
            app.settings.secure_cookies,
        ) {
            r.headers_mut().append(header::SET_COOKIE, c);
        }
    }
}

/// A 6-digit code sent in a message: only its salted hash is kept, with its expiry and the
/// attempts made.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SentCode {
    hash: Option<String>,
    salt: String,
    expires: i64,
    attempts: u32,
}

impl SentCode {
    /// How long a code works, seconds.
    pub const TTL: i64 = 600;
    /// Wrong attempts a code allows.
    pub const ATTEMPTS: u32 = 5;

    /// A new random code to send.
    pub fn fresh() -> String {
        use rand::Rng;
        format!("{:06}", rand::thread_rng().gen_range(0..1_000_000u32))
    }

    /// `code` was sent at `now`. With `valid` false nothing will match (an address that must
    /// not learn it is taken, a login that does not exist) but the timers run the same.
    pub fn set(&mut self, code: &str, now: i64, valid: bool) {
        self.salt = random_token(12);
        self.hash = valid.then(|| crate::crypto::sha256_b64(&format!("{}:{code}", self.salt)));
        self.expires = now + Self::TTL;
        self.attempts = 0;
    }

    /// Checks what was typed (spaces ignored). A match spends the code; otherwise the status
    /// and the text key to show.
    pub fn check(&mut self, typed: &str, now: i64) -> Result<(), (StatusCode, &'static str)> {
        let typed: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
        if self.attempts >= Self::ATTEMPTS {
            return Err((StatusCode::TOO_MANY_REQUESTS, "err_code_attempts"));
        }
        if now >= self.expires {
            return Err((StatusCode::BAD_REQUEST, "err_code_expired"));
        }
        self.attempts += 1;
        let given = crate::crypto::sha256_b64(&format!("{}:{typed}", self.salt));
        match &self.hash {
            Some(h) if typed.len() == 6 && ct_eq(h, &given) => {
                self.hash = None;
                Ok(())
            }
            _ if self.attempts >= Self::ATTEMPTS => {
                Err((StatusCode::TOO_MANY_REQUESTS, "err_code_attempts"))
            }
            _ => Err((StatusCode::BAD_REQUEST, "err_code_wrong")),
        }
    }
}
