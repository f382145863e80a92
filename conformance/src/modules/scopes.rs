//! Scope and claims modules: standard scopes map to claims (OIDC Core §5.4) returned by
//! UserInfo with the standard types (§5.1), and the `claims` request parameter with an
//! essential claim (§5.5, §5.5.1).

use super::flow::{AuthReq, Ctx};
use super::userinfo::UserinfoHow;
use super::Outcome;
use anyhow::{ensure, Result};
use serde_json::Value;

/// The claims each standard scope requests (Core §5.4).
pub fn scope_claims(scope: &str) -> &'static [&'static str] {
    match scope {
        "profile" => &[
            "name",
            "family_name",
            "given_name",
            "middle_name",
            "nickname",
            "preferred_username",
            "profile",
            "picture",
            "website",
            "gender",
            "birthdate",
            "zoneinfo",
            "locale",
            "updated_at",
        ],
        "email" => &["email", "email_verified"],
        "address" => &["address"],
        "phone" => &["phone_number", "phone_number_verified"],
        _ => &[],
    }
}

/// Checks the JSON types of the standard claims present (Core §5.1).
pub fn check_types(v: &Value) -> Result<()> {
    for (name, val) in v.as_object().into_iter().flatten() {
        let ok = match name.as_str() {
            "email_verified" | "phone_number_verified" => val.is_boolean(),
            "updated_at" => val.is_number(),
            "address" => val.is_object(),
            "sub" | "name" | "family_name" | "given_name" | "middle_name" | "nickname"
            | "preferred_username" | "profile" | "picture" | "website" | "email" | "gender"
            | "birthdate" | "zoneinfo" | "locale" | "phone_number" => val.is_string(),
            _ => true,
        };
        ensure!(
            ok,
            "claim {name} has the wrong JSON type: {val} (Core §5.1)"
        );
    }
    Ok(())
}

/// `oidcc-scope-*`: request the scopes; WARNING when a scope's claims are all missing from
/// UserInfo (the OP may decline to release them), FAILED on wrong claim types.
pub async fn scope(ctx: &mut Ctx, scopes: &[&str]) -> Result<Outcome> {
    for s in scopes {
        if ctx.op.meta.get("scopes_supported").is_some() && !ctx.op.lists("scopes_supported", s) {
            ctx.warn(format!("scope {s} is not in scopes_supported"));
        }
    }
    let b = ctx.browser()?;
    let req = AuthReq::new(ctx.client(), &format!("openid {}", scopes.join(" ")));
    let t = ctx.login(&b, &req).await?;
    let v = ctx.userinfo(&b.http, &t, UserinfoHow::Get).await?;
    check_types(&v)?;
    check_types(&t.id.claims)?;
    let mut got = Vec::new();
    for s in scopes {
        let present: Vec<&str> = scope_claims(s)
            .iter()
            .copied()
            .filter(|c| v.get(*c).is_some())
            .collect();
        if present.is_empty() {
            ctx.warn(format!(
                "scope {s} requested but none of {:?} is in the UserInfo response",
                scope_claims(s)
            ));
        }
        got.extend(present);
    }
    Outcome::passed(format!("userinfo returned {got:?}"))
}

/// `oidcc-claims-essential`: `claims={"userinfo":{"name":{"essential":true}}}` with scope
/// openid only; WARNING when `name` is not returned.
pub async fn claims_essential(ctx: &mut Ctx) -> Result<Outcome> {
    if !ctx.op.flag("claims_parameter_supported", false) {
        ctx.warn("claims_parameter_supported is not true in discovery");
    }
    let b = ctx.browser()?;
    let claims = r#"{"userinfo":{"name":{"essential":true}}}"#;
    let req = AuthReq::new(ctx.client(), "openid").set("claims", claims);
    let t = ctx.login(&b, &req).await?;
    let v = ctx.userinfo(&b.http, &t, UserinfoHow::Get).await?;
    check_types(&v)?;
    match v.get("name") {
        Some(n) => Outcome::passed(format!("essential claim name returned: {n}")),
        None => {
            ctx.warn("essential claim name was requested but is not in the UserInfo response (Core §5.5.1)");
            Outcome::passed("flow with claims parameter succeeded")
        }
    }
}
