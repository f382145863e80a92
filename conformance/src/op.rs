//! The OP under test as seen from the RP: discovery (OIDC Discovery 1.0 §4, issuer match
//! §4.3) and its JWKS (Core §10.1.1), fetched once per run.

use crate::config::Config;
use crate::http::Http;
use anyhow::{bail, Context, Result};
use serde_json::Value;
use url::Url;

/// Discovered OP metadata.
pub struct Op {
    pub issuer: String,
    pub meta: Value,
    pub jwks: Value,
    pub cfg: Config,
}

impl Op {
    /// Fetches `/.well-known/openid-configuration` and the JWKS.
    pub async fn discover(issuer: &str, cfg: Config, http: &Http) -> Result<Op> {
        let issuer = issuer.trim_end_matches('/').to_owned();
        let url = Url::parse(&format!("{issuer}/.well-known/openid-configuration"))?;
        let r = http.get(&url, &[]).await?;
        if r.status != 200 {
            bail!("discovery: HTTP {} from {url}", r.status);
        }
        let meta = r.json()?;
        let got = meta.get("issuer").and_then(Value::as_str).unwrap_or("");
        if got != issuer {
            bail!("discovery issuer {got:?} != {issuer:?} (Discovery §4.3)");
        }
        let jwks_uri = meta
            .get("jwks_uri")
            .and_then(Value::as_str)
            .context("no jwks_uri")?;
        let r = http.get(&Url::parse(jwks_uri)?, &[]).await?;
        if r.status != 200 {
            bail!("jwks: HTTP {} from {jwks_uri}", r.status);
        }
        let jwks = r.json()?;
        Ok(Op {
            issuer,
            meta,
            jwks,
            cfg,
        })
    }

    /// A metadata endpoint URL, e.g. `token_endpoint`.
    pub fn endpoint(&self, name: &str) -> Result<Url> {
        let s = self
            .meta
            .get(name)
            .and_then(Value::as_str)
            .with_context(|| format!("discovery has no {name}"))?;
        Ok(Url::parse(s)?)
    }

    /// Whether metadata array `key` lists `value`.
    pub fn lists(&self, key: &str, value: &str) -> bool {
        self.meta
            .get(key)
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|v| v.as_str() == Some(value)))
    }

    /// A boolean metadata value, `default` when absent (Discovery §3 defaults).
    pub fn flag(&self, key: &str, default: bool) -> bool {
        self.meta
            .get(key)
            .and_then(Value::as_bool)
            .unwrap_or(default)
    }

    /// `id_token_signing_alg_values_supported`.
    pub fn id_token_algs(&self) -> Option<Vec<String>> {
        self.meta
            .get("id_token_signing_alg_values_supported")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
    }
}
