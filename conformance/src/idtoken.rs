//! ID Token validation as a Relying Party must do it (OIDC Core §2 claims, §3.1.3.7
//! validation steps 1–13, §3.1.3.6 `at_hash`), against the OP's JWKS (Core §10.1).

use crate::jose;
use anyhow::{bail, ensure, Context, Result};
use serde_json::Value;

/// What the ID Token must match.
#[derive(Debug, Clone, Default)]
pub struct Expect {
    pub issuer: String,
    pub client_id: String,
    /// The nonce sent in the authorization request, if any.
    pub nonce: Option<String>,
    /// The access token issued with it, to check `at_hash` when present.
    pub access_token: Option<String>,
    /// `max_age` was requested (or `auth_time` is required otherwise): `auth_time` REQUIRED.
    pub require_auth_time: bool,
    /// The OP's `id_token_signing_alg_values_supported`, if advertised.
    pub algs: Option<Vec<String>>,
}

/// A validated ID Token.
#[derive(Debug, Clone)]
pub struct IdToken {
    pub raw: String,
    pub alg: String,
    pub claims: Value,
    pub sub: String,
    pub auth_time: Option<i64>,
    pub iat: i64,
    /// Non-fatal findings.
    pub warnings: Vec<String>,
}

fn int(claims: &Value, name: &str) -> Result<Option<i64>> {
    match claims.get(name) {
        None => Ok(None),
        Some(v) => v
            .as_i64()
            .or_else(|| v.as_f64().map(|f| f as i64))
            .map(Some)
            .with_context(|| format!("{name} is not a number: {v}")),
    }
}

/// Validates `token`; `now` is Unix seconds. Errors name the failed check.
pub fn validate(token: &str, jwks: &Value, exp: &Expect, now: i64) -> Result<IdToken> {
    let jws = jose::decode(token).context("ID Token")?;
    let alg = jws.alg().to_owned();
    ensure!(alg != "none", "ID Token is unsigned (alg none); Core §3.1.3.7 step 7 requires a signature for the code flow");
    if let Some(algs) = &exp.algs {
        ensure!(
            algs.contains(&alg),
            "ID Token alg {alg} is not in id_token_signing_alg_values_supported {algs:?}"
        );
    }
    jose::verify(&jws, jwks).context("ID Token signature (Core §3.1.3.7 step 6)")?;
    let c = &jws.claims;
    let mut warnings = Vec::new();
    // Step 2: iss.
    let iss = c.get("iss").and_then(Value::as_str).unwrap_or("");
    ensure!(
        iss == exp.issuer,
        "iss {iss:?} != issuer {:?} (Core §3.1.3.7 step 2)",
        exp.issuer
    );
    // Steps 3–5: aud, azp.
    let aud: Vec<&str> = match c.get("aud") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => bail!("aud missing or not a string/array (Core §2)"),
    };
    ensure!(
        aud.contains(&exp.client_id.as_str()),
        "aud {aud:?} does not contain client_id {:?} (step 3)",
        exp.client_id
    );
    let azp = c.get("azp").and_then(Value::as_str);
    if aud.len() > 1 {
        ensure!(azp.is_some(), "multiple audiences but no azp (step 4)");
    }
    if let Some(azp) = azp {
        ensure!(azp == exp.client_id, "azp {azp:?} != client_id (step 5)");
    }
    // Steps 9–10: exp, iat.
    let e = int(c, "exp")?.context("exp missing (Core §2)")?;
    ensure!(
        e > now - 5,
        "ID Token expired: exp {e} <= now {now} (step 9)"
    );
    let iat = int(c, "iat")?.context("iat missing (Core §2)")?;
    ensure!(iat <= now + 300, "iat {iat} is in the future (now {now})");
    ensure!(
        iat >= now - 600,
        "iat {iat} is more than 10 minutes old (step 10)"
    );
    ensure!(e > iat, "exp {e} is not after iat {iat}");
    // Step 11: nonce.
    let nonce = c.get("nonce").and_then(Value::as_str);
    match (&exp.nonce, nonce) {
        (Some(want), Some(got)) => ensure!(
            want == got,
            "nonce {got:?} != sent nonce {want:?} (step 11)"
        ),
        (Some(_), None) => bail!("nonce was sent but the ID Token has none (step 11)"),
        (None, Some(got)) => warnings.push(format!(
            "ID Token carries nonce {got:?} though none was sent"
        )),
        (None, None) => {}
    }
    // Step 13 / §2: auth_time.
    let auth_time = int(c, "auth_time")?;
    if exp.require_auth_time {
        ensure!(
            auth_time.is_some(),
            "auth_time missing though max_age was requested (Core §3.1.2.1)"
        );
    }
    if let Some(t) = auth_time {
        ensure!(t <= now + 300, "auth_time {t} is in the future");
    }
    // §2: sub.
    let sub = c
        .get("sub")
        .and_then(Value::as_str)
        .context("sub missing or not a string (Core §2)")?;
    ensure!(
        !sub.is_empty() && sub.len() <= 255 && sub.is_ascii(),
        "sub must be 1-255 ASCII characters (Core §2)"
    );
    // §3.1.3.6: at_hash, when present.
    if let (Some(h), Some(at)) = (c.get("at_hash"), &exp.access_token) {
        let want = jose::half_hash(&alg, at)?;
        ensure!(
            h.as_str() == Some(want.as_str()),
            "at_hash {h} does not match the access token (Core §3.1.3.6)"
        );
    }
    if let Some(acr) = c.get("acr") {
        ensure!(acr.is_string(), "acr is not a string (Core §2)");
    }
    if let Some(amr) = c.get("amr") {
        ensure!(
            amr.as_array()
                .is_some_and(|a| a.iter().all(Value::is_string)),
            "amr is not an array of strings (Core §2)"
        );
    }
    Ok(IdToken {
        raw: token.to_owned(),
        alg,
        claims: c.clone(),
        sub: sub.to_owned(),
        auth_time,
        iat,
        warnings,
    })
}
