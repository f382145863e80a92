//! The registry check behind the `standard` level (issue 4, item 2): when a registry service
//! is configured, the person's checked data is POSTed to it as JSON, and only its positive
//! answer lets the level rise. The protocol (README, "Identity registry") follows how
//! SMEV-style registry checks answer: confirmed, or not confirmed with the fields that did
//! not match.
//!
//! Rules: a negative answer names the mismatched fields at the form; an unreachable
//! registry, a timeout, a non-2xx status or an answer that is not the protocol all mean
//! "try later" — nothing is saved, the level stays; logs carry the failure kind only, never
//! the personal data sent.

use crate::app::App;
use crate::i18n::Lang;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Where the registry is and how long to wait for it.
#[derive(Clone)]
pub struct RegistrySettings {
    /// The check endpoint; vhod POSTs the request JSON to it.
    pub url: String,
    /// The registry's name, kept in the level's evidence.
    pub name: String,
    /// How long one check may take.
    pub timeout: Duration,
    /// Sent as `Authorization: Bearer …` when set.
    pub token: Option<String>,
}

impl std::fmt::Debug for RegistrySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistrySettings")
            .field("url", &self.url)
            .field("name", &self.name)
            .field("timeout", &self.timeout)
            .field("token", &self.token.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

/// The request: the person's data as checked on input.
#[derive(Serialize)]
pub struct Person<'a> {
    /// Family name.
    pub family_name: &'a str,
    /// Given name.
    pub given_name: &'a str,
    /// Middle name, if any.
    pub middle_name: Option<&'a str>,
    /// `YYYY-MM-DD`.
    pub birth_date: &'a str,
    /// 11 digits.
    pub snils: &'a str,
    /// 4 digits.
    pub passport_series: &'a str,
    /// 6 digits.
    pub passport_number: &'a str,
    /// 12 digits, if given.
    pub inn: Option<&'a str>,
}

/// The registry's answer.
#[derive(Deserialize)]
struct Answer {
    confirmed: bool,
    #[serde(default)]
    mismatch: Vec<String>,
    #[serde(default)]
    result_id: Option<String>,
}

/// What the registry said.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The data matches; the registry's id of the answer.
    Confirmed(String),
    /// Not confirmed; the form fields that did not match (may be empty).
    Mismatch(Vec<&'static str>),
}

/// Why there is no verdict.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// Not reachable, or no answer in time.
    #[error("registry unreachable: {0}")]
    Unreachable(String),
    /// Answered with an error status.
    #[error("registry answered HTTP {0}")]
    Status(u16),
    /// Answered something that is not the protocol.
    #[error("registry answer is not the protocol")]
    Garbage,
}

/// The form field a registry field name stands for.
fn field(name: &str) -> Option<&'static str> {
    Some(match name {
        "family_name" => "family_name",
        "given_name" => "given_name",
        "middle_name" => "middle_name",
        "birth_date" => "birth_date",
        "snils" => "snils",
        "passport_series" => "passport_series",
        "passport" | "passport_number" => "passport_number",
        "inn" => "inn",
        _ => return None,
    })
}

/// Asks the registry about `p`.
pub async fn check(
    s: &RegistrySettings,
    request_id: &str,
    p: &Person<'_>,
) -> Result<Verdict, RegistryError> {
    let client = reqwest::Client::builder()
        .timeout(s.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| RegistryError::Unreachable(e.to_string()))?;
    let mut body = serde_json::to_value(p).map_err(|_| RegistryError::Garbage)?;
    body["request_id"] = request_id.into();
    let mut rb = client.post(&s.url).json(&body);
    if let Some(t) = &s.token {
        rb = rb.bearer_auth(t);
    }
    let r = rb
        .send()
        .await
        .map_err(|e| RegistryError::Unreachable(e.without_url().to_string()))?;
    if !r.status().is_success() {
        return Err(RegistryError::Status(r.status().as_u16()));
    }
    let bytes = r
        .bytes()
        .await
        .map_err(|e| RegistryError::Unreachable(e.without_url().to_string()))?;
    let a: Answer = serde_json::from_slice(&bytes).map_err(|_| RegistryError::Garbage)?;
    match (a.confirmed, a.mismatch.is_empty()) {
        (true, true) => Ok(Verdict::Confirmed(
            a.result_id.unwrap_or_else(|| request_id.to_owned()),
        )),
        // "Confirmed, but these fields differ" is not an answer one can act on.
        (true, false) => Err(RegistryError::Garbage),
        (false, _) => {
            let mut fields: Vec<&'static str> =
                a.mismatch.iter().filter_map(|m| field(m)).collect();
            fields.dedup();
            Ok(Verdict::Mismatch(fields))
        }
    }
}

/// Errors by form field, as the identity page shows them.
pub type FieldErrors = Vec<(&'static str, String)>;

/// The registry part of the level's evidence when a registry is configured and confirms
/// `p` (`Ok(None)`: no registry configured); otherwise the status and the errors to show
/// at the form.
pub async fn confirm(
    app: &App,
    lang: Lang,
    p: &Person<'_>,
) -> Result<Option<serde_json::Value>, (StatusCode, FieldErrors)> {
    let Some(s) = &app.settings.registry else {
        return Ok(None);
    };
    let request_id = uuid::Uuid::new_v4().to_string();
    match check(s, &request_id, p).await {
        Ok(Verdict::Confirmed(result_id)) => {
            tracing::info!(registry = %s.name, %request_id, %result_id, "registry confirmed");
            Ok(Some(serde_json::json!({
                "name": s.name, "at": app.now(), "request_id": request_id,
                "result_id": result_id,
            })))
        }
        Ok(Verdict::Mismatch(fields)) => {
            tracing::info!(registry = %s.name, %request_id, ?fields, "registry did not confirm");
            let mut errors: FieldErrors = fields
                .into_iter()
                .map(|f| (f, lang.t("registry_field_mismatch").to_owned()))
                .collect();
            errors.push(("registry", lang.t("registry_not_confirmed").to_owned()));
            Err((StatusCode::UNPROCESSABLE_ENTITY, errors))
        }
        Err(e) => {
            tracing::warn!(registry = %s.name, %request_id, error = %e, "registry check failed");
            let errors = vec![("registry", lang.t("registry_unavailable").to_owned())];
            Err((StatusCode::SERVICE_UNAVAILABLE, errors))
        }
    }
}
