//! UserInfo calls (OIDC Core §5.3.1 request, §5.3.2 response: JSON or signed JWT, `sub`
//! equal to the ID Token's) with the three bearer methods of RFC 6750 §2.1 (header, GET
//! and POST) and §2.2 (form body).

use super::flow::{Ctx, Tokens};
use crate::http::{Http, Resp};
use crate::jose;
use anyhow::{ensure, Context, Result};
use serde_json::Value;

/// How to present the access token at UserInfo.
#[derive(Debug, Clone, Copy)]
pub enum UserinfoHow {
    Get,
    PostHeader,
    PostBody,
}

impl Ctx {
    /// Calls UserInfo; returns the raw response.
    pub async fn userinfo_raw(&self, http: &Http, at: &str, how: UserinfoHow) -> Result<Resp> {
        let url = self.op.endpoint("userinfo_endpoint")?;
        let bearer = vec![("authorization", format!("Bearer {at}"))];
        match how {
            UserinfoHow::Get => http.get(&url, &bearer).await,
            UserinfoHow::PostHeader => http.post_form(&url, &bearer, &[]).await,
            UserinfoHow::PostBody => {
                http.post_form(&url, &[], &[("access_token".into(), at.to_owned())])
                    .await
            }
        }
    }

    /// Calls UserInfo and checks the response (Core §5.3.2): 200, JSON, `sub` = ID Token sub.
    pub async fn userinfo(&self, http: &Http, t: &Tokens, how: UserinfoHow) -> Result<Value> {
        let r = self.userinfo_raw(http, &t.access_token, how).await?;
        ensure!(
            r.status == 200,
            "userinfo ({how:?}): HTTP {} {}",
            r.status,
            r.body
        );
        let ct = r.header("content-type").unwrap_or("");
        let v = if ct.starts_with("application/jwt") {
            let jws = jose::decode(r.body.trim())?;
            jose::verify(&jws, &self.op.jwks).context("signed UserInfo response")?;
            jws.claims
        } else {
            ensure!(
                ct.starts_with("application/json"),
                "userinfo content-type {ct:?} is not application/json (Core §5.3.2)"
            );
            r.json()?
        };
        let sub = v.get("sub").and_then(Value::as_str);
        ensure!(
            sub == Some(t.id.sub.as_str()),
            "userinfo sub {sub:?} != ID Token sub {:?} (Core §5.3.2)",
            t.id.sub
        );
        Ok(v)
    }
}
