//! Shared flow steps: authorization request with PKCE S256 (Core §3.1.2.1, RFC 7636 §4.1–4.3),
//! authorization response checks (Core §3.1.2.5, RFC 6749 §4.1.2 state echo, RFC 9207 iss),
//! token request and response (Core §3.1.3.1–§3.1.3.3, client auth Core §9) ; UserInfo is in
//! `userinfo`.

use crate::browser::{Browser, Flow, Outcome};
use crate::config::{AuthMethod, Client};
use crate::http::{Http, Log, Resp};
use crate::idtoken::{self, Expect, IdToken};
use crate::jose;
use crate::op::Op;
use anyhow::{bail, ensure, Context, Result};
use rand::RngCore;
use serde_json::Value;
use sha2::Digest;
use std::sync::Arc;
use url::Url;

pub fn random() -> String {
    let mut b = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut b);
    jose::b64e(&b)
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// An authorization request being built.
#[derive(Debug, Clone)]
pub struct AuthReq {
    pub client: Client,
    pub params: Vec<(String, String)>,
    pub verifier: String,
}

impl AuthReq {
    /// `response_type=code`, state, nonce and PKCE S256.
    pub fn new(client: &Client, scope: &str) -> Self {
        let verifier = random() + &random();
        let challenge = jose::b64e(&sha2::Sha256::digest(verifier.as_bytes()));
        let params = [
            ("response_type", "code".to_owned()),
            ("client_id", client.client_id.clone()),
            ("redirect_uri", client.redirect_uri.clone()),
            ("scope", scope.to_owned()),
            ("state", random()),
            ("nonce", random()),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256".to_owned()),
        ];
        let mut params: Vec<(String, String)> =
            params.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        if let Some(m) = &client.response_mode {
            params.push(("response_mode".to_owned(), m.clone()));
        }
        Self {
            client: client.clone(),
            params,
            verifier,
        }
    }
    pub fn set(mut self, k: &str, v: &str) -> Self {
        self.params.retain(|(n, _)| n != k);
        self.params.push((k.to_owned(), v.to_owned()));
        self
    }
    pub fn remove(mut self, k: &str) -> Self {
        self.params.retain(|(n, _)| n != k);
        self
    }
    pub fn get(&self, k: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    }
    pub fn url(&self, op: &Op) -> Result<Url> {
        let mut u = op.endpoint("authorization_endpoint")?;
        u.query_pairs_mut().extend_pairs(&self.params);
        Ok(u)
    }
    pub fn redirect(&self) -> Result<Url> {
        Ok(Url::parse(
            self.get("redirect_uri")
                .unwrap_or(&self.client.redirect_uri),
        )?)
    }
}

/// Tokens from a successful code redemption.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub id: IdToken,
    pub response: Value,
    pub flow: Flow,
}

/// One module run: the OP, the exchange log, warnings raised so far.
pub struct Ctx {
    pub op: Arc<Op>,
    pub log: Log,
    pub warnings: Vec<String>,
}

impl Ctx {
    pub fn new(op: Arc<Op>) -> Self {
        Self {
            op,
            log: Log::default(),
            warnings: Vec::new(),
        }
    }
    pub fn warn(&mut self, w: impl Into<String>) {
        self.warnings.push(w.into());
    }
    pub fn client(&self) -> &Client {
        &self.op.cfg.client
    }
    /// A fresh browser: empty cookie jar.
    pub fn browser(&self) -> Result<Browser> {
        let cfg = &self.op.cfg;
        let http = Http::new(
            self.log.clone(),
            &cfg.browser.password_field,
            cfg.ca_pem.as_deref(),
        )?;
        Ok(Browser::new(
            http,
            self.op.cfg.user.clone(),
            self.op.cfg.browser.clone(),
        ))
    }

    /// Runs the authorization request in `b` until the redirect URI.
    pub async fn authorize(&self, b: &Browser, req: &AuthReq, post: bool) -> Result<Flow> {
        b.authorize(&req.url(&self.op)?, post, &[req.redirect()?])
            .await
    }

    /// The successful authorization response's code, after checking state and iss.
    pub fn code(&mut self, flow: &Flow, req: &AuthReq) -> Result<String> {
        let params = match &flow.outcome {
            Outcome::Page { status, url, .. } => {
                bail!("the OP showed a page (HTTP {status} at {url}) instead of redirecting back")
            }
            Outcome::Redirect {
                params, form_post, ..
            } => {
                if req.get("response_mode") == Some("form_post") {
                    ensure!(
                        *form_post,
                        "response_mode=form_post requested but the response came in the URL \
                         (Form Post Response Mode §2)"
                    );
                }
                params
            }
        };
        self.check_state_iss(params, req)?;
        if let Some(e) = params.get("error") {
            bail!(
                "authorization error {e:?}: {}",
                params.get("error_description").map_or("", String::as_str)
            );
        }
        params
            .get("code")
            .cloned()
            .context("authorization response has no code (Core §3.1.2.5)")
    }

    /// RFC 6749 §4.1.2 / §4.1.2.1: state echoed; RFC 9207 §2.4: iss matches when present.
    pub fn check_state_iss(
        &mut self,
        params: &std::collections::BTreeMap<String, String>,
        req: &AuthReq,
    ) -> Result<()> {
        if let Some(sent) = req.get("state") {
            let got = params.get("state").map(String::as_str);
            ensure!(
                got == Some(sent),
                "state {got:?} != sent state (RFC 6749 §4.1.2)"
            );
        }
        if let Some(iss) = params.get("iss") {
            ensure!(
                *iss == self.op.issuer,
                "authorization response iss {iss:?} != issuer (RFC 9207 §2.4)"
            );
        } else if self
            .op
            .flag("authorization_response_iss_parameter_supported", false)
        {
            bail!("iss missing though authorization_response_iss_parameter_supported is true (RFC 9207 §2)");
        }
        Ok(())
    }

    /// POSTs to the token endpoint with `client`'s authentication method.
    pub async fn token_request(
        &self,
        http: &Http,
        client: &Client,
        mut form: Vec<(String, String)>,
    ) -> Result<Resp> {
        let url = self.op.endpoint("token_endpoint")?;
        let mut headers = Vec::new();
        match client.auth_method {
            AuthMethod::ClientSecretBasic => {
                // RFC 6749 §2.3.1: form-urlencode id and secret before base64.
                let enc = |s: &str| {
                    url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>()
                };
                let cred = format!("{}:{}", enc(&client.client_id), enc(&client.client_secret));
                use base64::Engine;
                let b = base64::engine::general_purpose::STANDARD.encode(cred);
                headers.push(("authorization", format!("Basic {b}")));
            }
            AuthMethod::ClientSecretPost => {
                form.push(("client_id".into(), client.client_id.clone()));
                form.push(("client_secret".into(), client.client_secret.clone()));
            }
        }
        http.post_form(&url, &headers, &form).await
    }

    /// The code grant request (Core §3.1.3.1).
    pub async fn redeem_raw(&self, http: &Http, req: &AuthReq, code: &str) -> Result<Resp> {
        let form = vec![
            ("grant_type".into(), "authorization_code".into()),
            ("code".into(), code.to_owned()),
            ("redirect_uri".into(), req.redirect()?.to_string()),
            ("code_verifier".into(), req.verifier.clone()),
        ];
        self.token_request(http, &req.client, form).await
    }

    /// Redeems `code` and validates the token response and ID Token.
    pub async fn redeem(
        &mut self,
        http: &Http,
        req: &AuthReq,
        code: &str,
        flow: Flow,
    ) -> Result<Tokens> {
        let r = self.redeem_raw(http, req, code).await?;
        ensure!(
            r.status == 200,
            "token endpoint: HTTP {} {}",
            r.status,
            r.body
        );
        let v = r.json()?;
        if !r
            .header("cache-control")
            .is_some_and(|c| c.contains("no-store"))
        {
            self.warn("token response lacks Cache-Control: no-store (RFC 6749 §5.1)");
        }
        let tt = v.get("token_type").and_then(Value::as_str).unwrap_or("");
        ensure!(
            tt.eq_ignore_ascii_case("bearer"),
            "token_type {tt:?} is not Bearer (Core §3.1.3.3)"
        );
        let at = v
            .get("access_token")
            .and_then(Value::as_str)
            .context("no access_token (RFC 6749 §5.1)")?;
        let idt = v
            .get("id_token")
            .and_then(Value::as_str)
            .context("no id_token (Core §3.1.3.3)")?;
        let exp = Expect {
            issuer: self.op.issuer.clone(),
            client_id: req.client.client_id.clone(),
            nonce: req.get("nonce").map(str::to_owned),
            access_token: Some(at.to_owned()),
            require_auth_time: req.get("max_age").is_some(),
            algs: self.op.id_token_algs(),
        };
        let id = idtoken::validate(idt, &self.op.jwks, &exp, now())?;
        self.warnings.extend(id.warnings.iter().cloned());
        Ok(Tokens {
            access_token: at.to_owned(),
            refresh_token: v
                .get("refresh_token")
                .and_then(Value::as_str)
                .map(str::to_owned),
            id,
            response: v,
            flow,
        })
    }

    /// Authorization, code and redemption in one go.
    pub async fn login(&mut self, b: &Browser, req: &AuthReq) -> Result<Tokens> {
        let flow = self.authorize(b, req, false).await?;
        let code = self.code(&flow, req)?;
        self.redeem(&b.http, req, &code, flow).await
    }
}
