//! Discovery modules. `oidcc-discovery-endpoint-verification` (the whole of
//! `oidcc-config-certification-test-plan`): OpenID Connect Discovery 1.0 §4 (the document is
//! served as JSON with HTTP 200), §4.3 (issuer matches), §3 (required and recommended
//! metadata: `response_types_supported`, `subject_types_supported`,
//! `id_token_signing_alg_values_supported` including RS256, `jwks_uri`, endpoints, `claims_supported`,
//! `scopes_supported` with `openid`), RFC 8414 §2 (issuer is an https URL without query or
//! fragment, locales are BCP 47 tags, `code_challenge_methods_supported` is an array),
//! RFC 6749 §3.3 (scope syntax), RFC 7517 §4–5 and RFC 7518 §6 (the JWKS holds well-formed
//! public keys only: no private members, no symmetric keys), and every `*_endpoint` uses https.
//! `oidcc-rp-initiated-logout-discovery-endpoint-verification`: RP-Initiated Logout 1.0 §2.1
//! (`end_session_endpoint` present, https).
//!
//! As the Foundation's module does, a missing `userinfo_endpoint`, `claims_supported` or
//! `scopes_supported`, a `request_object_signing_alg_values_supported` without RS256, and a
//! non-canonical locale casing are WARNINGs; everything else listed is a FAILURE.

use super::flow::Ctx;
use super::Outcome;
use anyhow::{bail, Result};
use serde_json::Value;
use url::Url;

/// Collects failed checks so one run reports all of them.
#[derive(Default)]
struct Findings(Vec<String>);

impl Findings {
    fn check(&mut self, ok: bool, msg: impl FnOnce() -> String) {
        if !ok {
            self.0.push(msg());
        }
    }
    fn finish(self, passed: String) -> Result<Outcome> {
        if self.0.is_empty() {
            Outcome::passed(passed)
        } else {
            bail!("{}", self.0.join("; "))
        }
    }
}

fn strings(v: Option<&Value>) -> Option<Vec<&str>> {
    v?.as_array()?.iter().map(Value::as_str).collect()
}

/// RFC 8414 §2 / Discovery: an https URL.
fn is_https(s: &str) -> bool {
    Url::parse(s).is_ok_and(|u| u.scheme() == "https" && u.host_str().is_some())
}

/// Every metadata member whose name ends in `_endpoint` is an https URL.
fn endpoints_https(meta: &Value, f: &mut Findings) {
    if let Some(m) = meta.as_object() {
        for (k, v) in m {
            if k.ends_with("_endpoint") {
                let s = v.as_str().unwrap_or("");
                f.check(is_https(s), || format!("{k} {v} is not an https URL"));
            }
        }
    }
}

/// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
fn scope_token_ok(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
}

/// A BCP 47 language tag, syntax only (RFC 5646 §2.1): alphanumeric subtags of 1–8
/// characters joined by hyphens, the first 2–8 letters (or `i`/`x` for the old forms).
fn locale_ok(s: &str) -> bool {
    let mut parts = s.split('-');
    let first = parts.next().unwrap_or("");
    let first_ok =
        (first.len() >= 2 && first.len() <= 8 && first.bytes().all(|b| b.is_ascii_alphabetic()))
            || first.eq_ignore_ascii_case("i")
            || first.eq_ignore_ascii_case("x");
    first_ok
        && parts
            .all(|p| !p.is_empty() && p.len() <= 8 && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// RFC 5646 §2.1.1 canonical casing: language lower case, 2-letter region upper case,
/// 4-letter script title case.
fn locale_canonical(s: &str) -> bool {
    s.split('-').enumerate().all(|(i, p)| {
        if i == 0 {
            p.bytes().all(|b| !b.is_ascii_uppercase())
        } else if p.len() == 2 && p.bytes().all(|b| b.is_ascii_alphabetic()) {
            p.bytes().all(|b| b.is_ascii_uppercase())
        } else if p.len() == 4 && p.bytes().all(|b| b.is_ascii_alphabetic()) {
            p.bytes().next().is_some_and(|b| b.is_ascii_uppercase())
                && p.bytes().skip(1).all(|b| b.is_ascii_lowercase())
        } else {
            true
        }
    })
}

/// RFC 7517 §4, RFC 7518 §6: a public key with the members its `kty` needs, no private
/// members, no symmetric key.
fn check_jwk(k: &Value, f: &mut Findings) {
    let kid = k
        .get("kid")
        .and_then(Value::as_str)
        .unwrap_or("(no kid)")
        .to_owned();
    let kty = k.get("kty").and_then(Value::as_str).unwrap_or("");
    let has = |m: &str| {
        k.get(m)
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty())
    };
    match kty {
        "EC" => f.check(has("crv") && has("x") && has("y"), || {
            format!("EC key {kid} lacks crv, x or y (RFC 7518 §6.2.1)")
        }),
        "RSA" => f.check(has("n") && has("e"), || {
            format!("RSA key {kid} lacks n or e (RFC 7518 §6.3.1)")
        }),
        "OKP" => f.check(has("crv") && has("x"), || {
            format!("OKP key {kid} lacks crv or x (RFC 8037 §2)")
        }),
        "oct" => f.check(false, || {
            format!("symmetric (oct) key {kid} published in the JWKS (RFC 7518 §6.4)")
        }),
        other => f.check(false, || format!("key {kid} has unknown kty {other:?}")),
    }
    for private in ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] {
        f.check(k.get(private).is_none(), || {
            format!("key {kid} publishes private member {private:?} (RFC 7518 §6.3.2.1)")
        });
    }
    if let Some(u) = k.get("use").and_then(Value::as_str) {
        f.check(u == "sig" || u == "enc", || {
            format!("key {kid} has use {u:?} (RFC 7517 §4.2)")
        });
    }
}

/// `oidcc-discovery-endpoint-verification`.
pub async fn endpoint_verification(ctx: &mut Ctx) -> Result<Outcome> {
    let b = ctx.browser()?;
    let url = Url::parse(&format!(
        "{}/.well-known/openid-configuration",
        ctx.op.issuer
    ))?;
    let r = b.http.get(&url, &[]).await?;
    let mut f = Findings::default();
    if r.status != 200 {
        bail!(
            "discovery: HTTP {} (200 expected, Discovery §4.2)",
            r.status
        );
    }
    let ct = r.header("content-type").unwrap_or("");
    f.check(
        ct.split(';')
            .next()
            .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json")),
        || format!("discovery Content-Type {ct:?} is not application/json (Discovery §4.2)"),
    );
    let meta = r.json()?;
    let get = |k: &str| meta.get(k);

    let issuer = get("issuer").and_then(Value::as_str).unwrap_or("");
    f.check(issuer == ctx.op.issuer, || {
        format!("issuer {issuer:?} != {:?} (Discovery §4.3)", ctx.op.issuer)
    });
    f.check(
        Url::parse(issuer)
            .is_ok_and(|u| u.scheme() == "https" && u.query().is_none() && u.fragment().is_none()),
        || {
            format!(
                "issuer {issuer:?} is not an https URL without query and fragment (RFC 8414 §2)"
            )
        },
    );

    let rts = strings(get("response_types_supported"));
    f.check(rts.as_ref().is_some_and(|v| v.contains(&"code")), || {
        "response_types_supported is missing or lacks \"code\" (Discovery §3, Core §3)".into()
    });
    let subs = strings(get("subject_types_supported"));
    f.check(
        subs.as_ref()
            .is_some_and(|v| !v.is_empty() && v.iter().all(|s| *s == "public" || *s == "pairwise")),
        || {
            "subject_types_supported must be a non-empty array of public/pairwise (Discovery §3)"
                .into()
        },
    );
    let algs = strings(get("id_token_signing_alg_values_supported"));
    f.check(algs.as_ref().is_some_and(|v| v.contains(&"RS256")), || {
        "id_token_signing_alg_values_supported must include RS256 (Discovery §3)".into()
    });
    if let Some(v) = get("userinfo_signing_alg_values_supported") {
        f.check(strings(Some(v)).is_some(), || {
            "userinfo_signing_alg_values_supported is not an array of strings (Discovery §3)".into()
        });
    }

    for required in ["authorization_endpoint", "token_endpoint", "jwks_uri"] {
        f.check(get(required).and_then(Value::as_str).is_some(), || {
            format!("{required} missing (Discovery §3)")
        });
    }
    if get("userinfo_endpoint").is_none() {
        ctx.warn("userinfo_endpoint is missing (RECOMMENDED, Discovery §3)");
    }
    endpoints_https(&meta, &mut f);
    let jwks_uri = get("jwks_uri").and_then(Value::as_str).unwrap_or("");
    f.check(is_https(jwks_uri), || {
        format!("jwks_uri {jwks_uri:?} is not an https URL (Discovery §3)")
    });

    let mut nkeys = 0;
    if let Ok(u) = Url::parse(jwks_uri) {
        let r = b.http.get(&u, &[]).await?;
        let jwks = if r.status == 200 { r.json().ok() } else { None };
        match jwks
            .as_ref()
            .and_then(|j| j.get("keys"))
            .and_then(Value::as_array)
        {
            None => f.check(false, || {
                format!(
                    "jwks_uri: HTTP {}, no JSON {{\"keys\": [...]}} (RFC 7517 §5)",
                    r.status
                )
            }),
            Some(keys) => {
                nkeys = keys.len();
                f.check(!keys.is_empty(), || "the JWKS has no keys".into());
                for k in keys {
                    check_jwk(k, &mut f);
                }
            }
        }
    }

    if let Some(v) = get("request_object_signing_alg_values_supported") {
        if !strings(Some(v)).is_some_and(|a| a.contains(&"RS256")) {
            ctx.warn("request_object_signing_alg_values_supported lacks RS256 (Discovery §3)");
        }
    }
    if get("claims_supported").is_none() {
        ctx.warn("claims_supported is missing (RECOMMENDED, Discovery §3)");
    }
    if let Some(v) = get("grant_types_supported") {
        f.check(strings(Some(v)).is_some_and(|a| !a.is_empty()), || {
            "grant_types_supported must be a non-empty array (Discovery §3)".into()
        });
    }
    match get("scopes_supported") {
        None => ctx.warn("scopes_supported is missing (RECOMMENDED, Discovery §3)"),
        Some(v) => match strings(Some(v)) {
            None => f.check(false, || {
                "scopes_supported is not an array of strings".into()
            }),
            Some(a) => {
                f.check(a.contains(&"openid"), || {
                    "scopes_supported lacks openid (Discovery §3)".into()
                });
                for s in a.iter().filter(|s| !scope_token_ok(s)) {
                    f.check(false, || {
                        format!("scope {s:?} is not a scope-token (RFC 6749 §3.3)")
                    });
                }
            }
        },
    }
    for key in ["ui_locales_supported", "claims_locales_supported"] {
        let Some(v) = get(key) else { continue };
        let Some(a) = strings(Some(v)) else {
            f.check(false, || format!("{key} is not an array of strings"));
            continue;
        };
        for l in a {
            if !locale_ok(l) {
                f.check(false, || {
                    format!("{key}: {l:?} is not a BCP 47 tag (RFC 8414 §2)")
                });
            } else if !locale_canonical(l) {
                ctx.warn(format!(
                    "{key}: {l:?} is not in canonical casing (RFC 5646 §2.1.1)"
                ));
            }
        }
    }
    if let Some(v) = get("code_challenge_methods_supported") {
        f.check(v.is_array(), || {
            "code_challenge_methods_supported is not an array (RFC 8414 §2)".into()
        });
    }
    f.finish(format!(
        "metadata complete; {nkeys} public key(s) in the JWKS; all endpoints https"
    ))
}

/// `oidcc-rp-initiated-logout-discovery-endpoint-verification`.
pub async fn logout_endpoint_verification(ctx: &mut Ctx) -> Result<Outcome> {
    let mut f = Findings::default();
    endpoints_https(&ctx.op.meta, &mut f);
    let ese = ctx
        .op
        .meta
        .get("end_session_endpoint")
        .and_then(Value::as_str)
        .unwrap_or("");
    f.check(!ese.is_empty(), || {
        "end_session_endpoint missing (RP-Initiated Logout §2.1)".into()
    });
    f.finish(format!("end_session_endpoint {ese}"))
}

/// What every logout plan's discovery module checks first: all endpoints https, and an
/// `end_session_endpoint` (RP-Initiated Logout §2.1).
fn logout_basics(meta: &Value, f: &mut Findings) {
    endpoints_https(meta, f);
    f.check(
        meta.get("end_session_endpoint")
            .and_then(Value::as_str)
            .is_some(),
        || "end_session_endpoint missing (RP-Initiated Logout §2.1)".into(),
    );
}

/// `oidcc-backchannel-logout-discovery-endpoint-verification`: what `-rp-initiated-logout-`'s
/// checks, and `backchannel_logout_supported` (Back-Channel Logout §2.1) true; without
/// `backchannel_logout_session_supported` an RP cannot rely on `sid` (a warning).
pub async fn backchannel_endpoint_verification(ctx: &mut Ctx) -> Result<Outcome> {
    let meta = ctx.op.meta.clone();
    let supported = meta
        .get("backchannel_logout_supported")
        .and_then(Value::as_bool);
    let sessions = meta
        .get("backchannel_logout_session_supported")
        .and_then(Value::as_bool);
    if sessions != Some(true) {
        ctx.warn("backchannel_logout_session_supported is not true: Logout Tokens may lack sid");
    }
    let mut f = Findings::default();
    logout_basics(&meta, &mut f);
    f.check(supported == Some(true), || {
        format!(
            "backchannel_logout_supported is {supported:?}, not true (Back-Channel Logout §2.1)"
        )
    });
    f.finish(format!(
        "backchannel_logout_supported true, backchannel_logout_session_supported {sessions:?}"
    ))
}

/// `oidcc-frontchannel-logout-discovery-endpoint-verification`: what `-rp-initiated-logout-`'s
/// checks, `frontchannel_logout_supported` (Front-Channel Logout §3) true, and
/// `frontchannel_logout_session_supported` true, which the Foundation's certification of this
/// profile requires (`iss` and `sid` in the front-channel request).
pub async fn frontchannel_endpoint_verification(ctx: &mut Ctx) -> Result<Outcome> {
    let meta = ctx.op.meta.clone();
    let flag = |k: &str| meta.get(k).and_then(Value::as_bool);
    let (supported, sessions) = (
        flag("frontchannel_logout_supported"),
        flag("frontchannel_logout_session_supported"),
    );
    let mut f = Findings::default();
    logout_basics(&meta, &mut f);
    f.check(supported == Some(true), || {
        format!(
            "frontchannel_logout_supported is {supported:?}, not true (Front-Channel Logout §3)"
        )
    });
    f.check(sessions == Some(true), || {
        format!(
            "frontchannel_logout_session_supported is {sessions:?}, not true (Front-Channel \
             Logout §3; certification needs iss and sid)"
        )
    });
    f.finish("frontchannel_logout_supported and frontchannel_logout_session_supported true".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locales_and_scopes() {
        assert!(locale_ok("en") && locale_ok("ru-RU") && locale_ok("zh-Hant-TW"));
        assert!(!locale_ok("e") && !locale_ok("en_US") && !locale_ok("en-") && !locale_ok(""));
        assert!(locale_canonical("en-US") && locale_canonical("zh-Hant-TW"));
        assert!(!locale_canonical("en-us") && !locale_canonical("EN"));
        assert!(scope_token_ok("openid") && scope_token_ok("urn:x:y"));
        assert!(!scope_token_ok("a b") && !scope_token_ok("a\"b") && !scope_token_ok(""));
    }

    #[test]
    fn jwks_private_and_symmetric_keys_are_findings() {
        let mut f = Findings::default();
        check_jwk(
            &serde_json::json!({"kty":"EC","crv":"P-256","x":"a","y":"b","kid":"1","use":"sig"}),
            &mut f,
        );
        assert!(f.0.is_empty(), "{:?}", f.0);
        check_jwk(
            &serde_json::json!({"kty":"EC","crv":"P-256","x":"a","y":"b","d":"secret"}),
            &mut f,
        );
        check_jwk(&serde_json::json!({"kty":"oct","k":"c2VjcmV0"}), &mut f);
        assert_eq!(f.0.len(), 3, "{:?}", f.0);
    }
}
