//! Minting and checking our JWTs: access tokens per RFC 9068 (`typ: at+jwt`) and ID tokens
//! per OIDC Core §2, signed with the key ring's current key (for ID Tokens, the current key
//! of the client's `id_token_signed_response_alg`).

use crate::app::App;
use crate::crypto::random_token;
use crate::oauth::error::OAuthError;
use crate::store::Client;
use serde::Serialize;
use serde_json::{Map, Value};
use std::sync::Arc;

/// What an access token carries besides the standard claims.
pub struct AccessToken<'a> {
    /// Subject (account id, or client id for client credentials).
    pub sub: &'a str,
    /// Client.
    pub client_id: &'a str,
    /// Space-separated scopes.
    pub scope: &'a str,
    /// Grant id (absent for client credentials).
    pub grant_id: Option<&'a str>,
    /// Authentication time.
    pub auth_time: Option<i64>,
    /// Assurance level.
    pub acr: Option<&'a str>,
    /// Session id.
    pub sid: Option<&'a str>,
    /// The thumbprint of the DPoP key the token is bound to (RFC 9449 §6.1).
    pub jkt: Option<&'a str>,
    /// The resource servers it is for (RFC 8707, RFC 9068 §3); empty: this provider.
    pub audience: &'a [String],
}

/// A token's `aud`: one value as a string, several as an array (RFC 7519 §4.1.3).
#[derive(Serialize)]
#[serde(untagged)]
enum Aud<'a> {
    One(&'a str),
    Many(&'a [String]),
}

/// `cnf` (RFC 7800) of a DPoP-bound token.
#[derive(Serialize)]
struct Cnf<'a> {
    jkt: &'a str,
}

#[derive(Serialize)]
struct AtClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: Aud<'a>,
    client_id: &'a str,
    iat: i64,
    exp: i64,
    jti: String,
    scope: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    gid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    auth_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    acr: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cnf: Option<Cnf<'a>>,
}

/// Signs an access token; returns it and its lifetime in seconds.
pub fn access_token(app: &App, at: &AccessToken<'_>) -> Result<(String, i64), OAuthError> {
    let now = app.now();
    let ttl = app.settings.access_token_ttl;
    let claims = AtClaims {
        iss: &app.settings.issuer,
        sub: at.sub,
        aud: match at.audience {
            [] => Aud::One(&app.settings.issuer),
            [one] => Aud::One(one),
            many => Aud::Many(many),
        },
        client_id: at.client_id,
        iat: now,
        exp: now + ttl,
        jti: random_token(16),
        scope: at.scope,
        gid: at.grant_id,
        auth_time: at.auth_time,
        acr: at.acr,
        sid: at.sid,
        cnf: at.jkt.map(|jkt| Cnf { jkt }),
    };
    let jwt = keys::sign_jwt(&app.keys.signer(), Some("at+jwt"), &claims)?;
    // A citizen's token comes back to userinfo; a client's own (client credentials) goes
    // to resource servers, which check it against the JWKS.
    if at.grant_id.is_some() {
        app.issued.record(&jwt);
    }
    Ok((jwt, ttl))
}

/// The SHA-256 digests of the access tokens this node signed lately, in two generations of
/// at most [`Issued::GENERATION`] each (the older one is dropped when the newer is full).
///
/// The exact bytes of a token found here were signed by this node, so checking its
/// signature again (a P-256 verification: the largest part of a userinfo call) proves
/// nothing new; everything else is still checked, including that its key is still
/// published. A digest of the whole token, never of its signature alone: a signature taken
/// from one of our tokens and put under another payload does not match.
#[derive(Default)]
pub struct Issued {
    generations: std::sync::Mutex<[std::collections::HashSet<[u8; 32]>; 2]>,
}

impl Issued {
    /// Digests kept per generation (32 bytes each, plus the set's own).
    pub const GENERATION: usize = 50_000;

    fn digest(token: &str) -> [u8; 32] {
        use sha2::{Digest, Sha256};
        Sha256::digest(token.as_bytes()).into()
    }

    /// Remembers that this node signed `token`.
    pub fn record(&self, token: &str) {
        let d = Self::digest(token);
        let mut g = match self.generations.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if g[0].len() >= Self::GENERATION {
            g[1] = std::mem::take(&mut g[0]);
        }
        g[0].insert(d);
    }

    /// Whether this node signed exactly `token` lately.
    pub fn contains(&self, token: &str) -> bool {
        let d = Self::digest(token);
        let g = match self.generations.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        g[0].contains(&d) || g[1].contains(&d)
    }
}

impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issued").finish_non_exhaustive()
    }
}

/// The key that signs `client`'s ID Tokens: the one of its registered
/// `id_token_signed_response_alg`, else the primary key.
pub fn id_token_signer(app: &App, client: &Client) -> Arc<keys::SigningKey> {
    signer_of(
        app,
        &client.id,
        client.id_token_signed_response_alg.as_deref(),
        "id_token_signed_response_alg",
        None,
    )
}

/// The current key of `alg`, a client's registered algorithm (named `field`, for the log),
/// else the key of `default`, the algorithm the answer's standard names when the client
/// registered none (RS256 for RFC 9701 introspection answers and JARM responses), else the
/// primary key.
pub(crate) fn signer_of(
    app: &App,
    client_id: &str,
    alg: Option<&str>,
    field: &str,
    default: Option<keys::Alg>,
) -> Arc<keys::SigningKey> {
    match alg.and_then(|a| a.parse::<keys::Alg>().ok()) {
        None => default
            .and_then(|d| app.keys.signer_for(d))
            .unwrap_or_else(|| app.keys.signer()),
        Some(alg) => app.keys.signer_for(alg).unwrap_or_else(|| {
            // Registration checks the alg against the configuration; this happens only if
            // the configuration dropped it since. The client's validation will say so.
            tracing::error!(
                client_id,
                alg = alg.as_str(),
                field,
                "no signing key for the client's algorithm; using the primary key"
            );
            app.keys.signer()
        }),
    }
}

/// The UserInfo Response as a JWT (OpenID Connect Core 1.0 §5.3.2) for a client registered
/// with `userinfo_signed_response_alg` `alg`: the claims with `iss`, `aud` (the client) and
/// `iat`, signed with the current key of that algorithm.
pub fn userinfo_jwt(
    app: &App,
    client: &Client,
    alg: &str,
    claims: Map<String, Value>,
) -> Result<String, OAuthError> {
    let key = signer_of(
        app,
        &client.id,
        Some(alg),
        "userinfo_signed_response_alg",
        None,
    );
    let mut c = claims;
    stamp(app, &mut c, &client.id, app.now());
    Ok(keys::sign_jwt(&key, Some("JWT"), &c)?)
}

/// Adds what every JWT vhod signs for `client` carries: `iss`, `aud` and `iat`.
fn stamp(app: &App, c: &mut Map<String, Value>, client_id: &str, now: i64) {
    c.insert("iss".into(), app.settings.issuer.clone().into());
    c.insert("aud".into(), client_id.into());
    c.insert("iat".into(), now.into());
}

/// Signs an ID token for `client` with the standard claims plus `extra` (user claims,
/// nonce, hashes).
pub fn id_token(
    app: &App,
    sub: &str,
    client: &Client,
    extra: Map<String, Value>,
) -> Result<String, OAuthError> {
    let client_id = client.id.as_str();
    let now = app.now();
    let mut c = extra;
    stamp(app, &mut c, client_id, now);
    c.insert("sub".into(), sub.into());
    c.insert("azp".into(), client_id.into());
    c.insert("exp".into(), (now + app.settings.id_token_ttl).into());
    Ok(keys::sign_jwt(
        &id_token_signer(app, client),
        Some("JWT"),
        &c,
    )?)
}

/// Verifies a JWT signed by one of our published keys; `typ` must match when given.
fn verify_own(app: &App, token: &str, typ: Option<&str>) -> Result<Map<String, Value>, OAuthError> {
    let bad = || OAuthError::invalid_token("the token is invalid");
    let key_of = |h: &keys::JwsHeader| h.kid.as_deref().and_then(|k| app.keys.public_key(k));
    let (header, payload) = if typ == Some("at+jwt") && app.issued.contains(token) {
        // Signed here (see `Issued`): decoded as strictly, and its key must still be
        // published, but the signature is not verified twice.
        let (h, p, _, _) = keys::decode_unverified(token).map_err(|_| bad())?;
        if key_of(&h).is_none() {
            return Err(bad());
        }
        (h, p)
    } else {
        keys::verify_jws(token, key_of).map_err(|_| bad())?
    };
    if let Some(t) = typ {
        if !header.typ.as_deref().is_some_and(|h| {
            h.eq_ignore_ascii_case(t) || h.eq_ignore_ascii_case(&format!("application/{t}"))
        }) {
            return Err(bad());
        }
    }
    let Value::Object(claims) = payload else {
        return Err(bad());
    };
    if claims.get("iss").and_then(Value::as_str) != Some(app.settings.issuer.as_str()) {
        return Err(bad());
    }
    Ok(claims)
}

/// Verifies an ID token we issued, ignoring expiry (for `id_token_hint`). Our other JWTs
/// (access tokens, Logout Tokens) are typed, and are not ID tokens.
pub fn verify_own_id_token(app: &App, token: &str) -> Result<Map<String, Value>, OAuthError> {
    let claims = verify_own(app, token, None)?;
    let typ = keys::decode_unverified(token)
        .ok()
        .and_then(|(h, ..)| h.typ)
        .unwrap_or_default();
    if !typ.is_empty() && !typ.eq_ignore_ascii_case("JWT") {
        return Err(OAuthError::invalid_token("the token is not an ID token"));
    }
    Ok(claims)
}

/// A verified, live access token's claims.
pub struct ValidAccessToken {
    /// Every claim.
    pub claims: Map<String, Value>,
    /// The live grant the token belongs to (none for client credentials).
    pub grant: Option<crate::store::Grant>,
}

impl ValidAccessToken {
    /// A string claim.
    pub fn str(&self, k: &str) -> Option<&str> {
        self.claims.get(k).and_then(Value::as_str)
    }
    /// Scopes.
    pub fn scopes(&self) -> Vec<&str> {
        self.str("scope")
            .unwrap_or("")
            .split(' ')
            .filter(|s| !s.is_empty())
            .collect()
    }
}

/// Checks an access token: our signature, `at+jwt`, not expired, its grant not revoked and
/// the token itself not revoked.
pub async fn verify_access_token(app: &App, token: &str) -> Result<ValidAccessToken, OAuthError> {
    let claims = verify_access_token_claims(app, token).await?;
    let grant = match claims.get("gid").and_then(Value::as_str) {
        Some(gid) => Some(live_grant(app.db.grants().get(gid).await?, app.now())?),
        None => None,
    };
    Ok(ValidAccessToken { claims, grant })
}

/// What [`verify_access_token`] checks except the grant, which the caller checks with
/// [`live_grant`] (the userinfo endpoint reads it with the account, in one query).
pub async fn verify_access_token_claims(
    app: &App,
    token: &str,
) -> Result<Map<String, Value>, OAuthError> {
    let claims = verify_own(app, token, Some("at+jwt"))?;
    let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
    if exp <= app.now() {
        return Err(OAuthError::invalid_token("the token has expired"));
    }
    if let Some(jti) = claims.get("jti").and_then(Value::as_str) {
        if app.cache.get(&revoked_jti_key(jti)).await?.is_some() {
            return Err(OAuthError::invalid_token("the token was revoked"));
        }
    }
    Ok(claims)
}

/// The grant an access token names, if it still lives.
pub fn live_grant(
    grant: Option<crate::store::Grant>,
    now: i64,
) -> Result<crate::store::Grant, OAuthError> {
    match grant {
        Some(g) if g.is_active(now) => Ok(g),
        _ => Err(OAuthError::invalid_token("the token was revoked")),
    }
}

/// Cache key marking a revoked access token id.
pub fn revoked_jti_key(jti: &str) -> String {
    format!("revoked-at:{jti}")
}

#[cfg(test)]
mod issued_tests {
    use super::Issued;

    #[test]
    fn only_the_exact_tokens_recorded_are_known() {
        let i = Issued::default();
        i.record("h.p.s");
        assert!(i.contains("h.p.s"));
        assert!(
            !i.contains("h.q.s"),
            "the same signature under another payload"
        );
        assert!(!i.contains("h.p.s "));
    }

    #[test]
    fn the_memory_keeps_two_generations_at_most() {
        let i = Issued::default();
        i.record("first");
        for n in 0..Issued::GENERATION {
            i.record(&n.to_string());
        }
        // One generation later the first is still known...
        assert!(i.contains("first"));
        for n in 0..Issued::GENERATION {
            i.record(&format!("x{n}"));
        }
        // ...two later it is forgotten, and the memory holds at most two generations.
        assert!(!i.contains("first"));
        assert!(i.contains(&format!("x{}", Issued::GENERATION - 1)));
        let g = i.generations.lock().unwrap();
        assert!(g[0].len() + g[1].len() <= 2 * Issued::GENERATION);
    }
}
