//! The recording HTTP client: every request a module makes (RFC 9110 messages) is kept as an
//! [`Exchange`], with secrets redacted (see `redact`), so a FAILED verdict can show its
//! evidence. Redirects are never followed here; the browser (`browser`) follows them itself.

use crate::redact;
use anyhow::{Context, Result};
use std::sync::{Arc, Mutex};
use url::Url;

/// One redacted request/response pair.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Exchange {
    pub method: String,
    pub url: String,
    pub request_headers: Vec<(String, String)>,
    pub request_body: String,
    pub status: u16,
    pub response_headers: Vec<(String, String)>,
    pub response_body: String,
}

/// The exchanges of one module run.
#[derive(Clone, Default)]
pub struct Log(Arc<Mutex<Vec<Exchange>>>);

impl Log {
    pub fn push(&self, e: Exchange) {
        if let Ok(mut v) = self.0.lock() {
            v.push(e);
        }
    }
    pub fn take(&self) -> Vec<Exchange> {
        self.0
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default()
    }
}

/// A response, body read as text.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
    pub url: Url,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    pub fn json(&self) -> Result<serde_json::Value> {
        serde_json::from_str(&self.body)
            .with_context(|| format!("HTTP {} body from {} is not JSON", self.status, self.url))
    }

    /// Fails unless this is an HTTP 400 OAuth error with code `expected` (RFC 6749 §5.2);
    /// `what` names the request in the message.
    pub fn expect_oauth_error(&self, expected: &str, what: &str) -> Result<()> {
        anyhow::ensure!(
            self.status == 400,
            "{what}: HTTP {} ({expected} with 400 expected, RFC 6749 §5.2)",
            self.status
        );
        let json = self.json()?;
        let err = json
            .get("error")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("");
        anyhow::ensure!(
            err == expected,
            "{what}: error {err:?}, {expected} expected (RFC 6749 §5.2)"
        );
        Ok(())
    }
}

/// An HTTP client with its own cookie jar (a "browser profile") and a shared log.
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    log: Log,
    password_field: String,
}

impl Http {
    /// A fresh client: empty cookie jar, no automatic redirects; trusts the system's roots
    /// plus the certificates in `ca_pem`.
    pub fn new(log: Log, password_field: &str, ca_pem: Option<&[u8]>) -> Result<Self> {
        let mut builder = reqwest::Client::builder();
        if let Some(pem) = ca_pem {
            for cert in reqwest::Certificate::from_pem_bundle(pem).context("ca_file")? {
                builder = builder.add_root_certificate(cert);
            }
        }
        let client = builder
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(30))
            .user_agent("vhod-conformance/0.1")
            .build()?;
        Ok(Self {
            client,
            log,
            password_field: password_field.to_owned(),
        })
    }

    pub async fn get(&self, url: &Url, headers: &[(&str, String)]) -> Result<Resp> {
        self.send("GET", url, headers, None).await
    }

    pub async fn post_form(
        &self,
        url: &Url,
        headers: &[(&str, String)],
        form: &[(String, String)],
    ) -> Result<Resp> {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        self.send("POST", url, headers, Some(body)).await
    }

    async fn send(
        &self,
        method: &str,
        url: &Url,
        headers: &[(&str, String)],
        body: Option<String>,
    ) -> Result<Resp> {
        let mut rb = if method == "POST" {
            self.client.post(url.clone())
        } else {
            self.client.get(url.clone())
        };
        for (k, v) in headers {
            rb = rb.header(*k, v);
        }
        if let Some(b) = &body {
            // Content-Length even for an empty body (RFC 9110 §8.6), as browsers send it:
            // some servers otherwise take the request to have no form content at all.
            rb = rb
                .header("content-type", "application/x-www-form-urlencoded")
                .header("content-length", b.len())
                .body(b.clone());
        }
        let req = rb.build()?;
        let request_headers = req
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    redact::header(k.as_str(), v.to_str().unwrap_or("")),
                )
            })
            .collect();
        let res = self
            .client
            .execute(req)
            .await
            .with_context(|| format!("{method} {url} failed"))?;
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let body_text = res.text().await.unwrap_or_default();
        let ct = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        self.log.push(Exchange {
            method: method.to_owned(),
            url: redact::url(url.as_str(), &self.password_field),
            request_headers,
            request_body: body
                .as_deref()
                .map(|b| redact::form(b, &self.password_field))
                .unwrap_or_default(),
            status,
            response_headers: headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.to_string(),
                        redact::header(k.as_str(), v.to_str().unwrap_or("")),
                    )
                })
                .collect(),
            response_body: redact::body(&body_text, &ct, &self.password_field),
        });
        Ok(Resp {
            status,
            headers,
            body: body_text,
            url: url.clone(),
        })
    }
}
