//! An OpenID Connect conformance runner: drives any OpenID provider over HTTP as a relying
//! party, module by module, the way the OpenID Foundation test plans do, and writes a JSON and
//! HTML report. Plans: `oidcc-basic-certification-test-plan` and its form-post twin (OpenID
//! Connect Core 1.0 §3.1 code flow, §5 claims, §6 request objects, §12 refresh; RFC 6749;
//! RFC 7636; OAuth 2.0 Form Post Response Mode), `oidcc-config-certification-test-plan`
//! (Discovery 1.0), `oidcc-rp-initiated-logout-certification-test-plan` (RP-Initiated
//! Logout 1.0) and `oidcc-backchannel-rp-initiated-logout-certification-test-plan`
//! (Back-Channel Logout 1.0).

pub mod browser;
pub mod config;
pub mod html;
pub mod http;
pub mod idtoken;
pub mod jose;
pub mod modules;
pub mod op;
pub mod redact;
pub mod report;

#[cfg(test)]
mod tests;

use anyhow::{bail, Result};
use modules::{Ctx, Verdict};
use report::Entry;
use std::sync::Arc;

/// Runs each plan in `plans` (a name from [`modules::PLANS`], or `all`) against `issuer`;
/// only the modules named in `only`, when not empty.
pub async fn run(
    issuer: &str,
    cfg: config::Config,
    plans: &[String],
    only: &[String],
) -> Result<Vec<Entry>> {
    let mut selected: Vec<&modules::Plan> = Vec::new();
    for name in plans {
        if name == "all" {
            selected.extend(modules::PLANS);
        } else if let Some(p) = modules::PLANS.iter().find(|p| p.name == name) {
            selected.push(p);
        } else {
            let known: Vec<&str> = modules::PLANS.iter().map(|p| p.name).collect();
            bail!(
                "unknown plan {name}; this runner implements {}",
                known.join(", ")
            );
        }
    }
    if let Some(m) = only
        .iter()
        .find(|m| !selected.iter().any(|p| p.modules.contains(&m.as_str())))
    {
        bail!("no selected plan has a module named {m}");
    }
    let pw = cfg.browser.password_field.clone();
    let http = http::Http::new(http::Log::default(), &pw, cfg.ca_pem.as_deref())?;
    let mut entries = Vec::new();
    for plan in selected {
        let mut cfg = cfg.clone();
        if plan.form_post {
            for c in [
                Some(&mut cfg.client),
                cfg.client2.as_mut(),
                cfg.post_client.as_mut(),
            ]
            .into_iter()
            .flatten()
            {
                c.response_mode = Some("form_post".into());
            }
        }
        let mut skip = None;
        if plan.backchannel {
            match cfg.backchannel_client.clone() {
                Some(c) => cfg.client = c,
                None => skip = Some("no backchannel_client is configured"),
            }
        }
        if plan.frontchannel {
            match cfg.frontchannel_client.clone() {
                Some(c) => cfg.client = c,
                None => skip = Some("no frontchannel_client is configured"),
            }
        }
        let op = Arc::new(op::Op::discover(issuer, cfg, &http).await?);
        if plan.form_post && !op.lists("response_modes_supported", "form_post") {
            skip = Some("the OP does not list form_post in response_modes_supported");
        }
        let front = op.meta.get("frontchannel_logout_supported");
        if plan.frontchannel && front != Some(&serde_json::Value::Bool(true)) {
            skip = Some("the OP does not say frontchannel_logout_supported");
        }
        for name in plan.modules {
            if !only.is_empty() && !only.iter().any(|o| o == name) {
                continue;
            }
            let mut ctx = Ctx::new(op.clone());
            let (result, reason, page) = match skip {
                Some(why) => (Verdict::Skipped, why.to_owned(), None),
                None => match modules::run(name, &mut ctx).await {
                    Ok(o) if o.verdict == Verdict::Passed && !ctx.warnings.is_empty() => (
                        Verdict::Warning,
                        format!("{}; {}", ctx.warnings.join("; "), o.reason),
                        None,
                    ),
                    Ok(o) => (o.verdict, o.reason, o.page),
                    Err(e) => (Verdict::Failed, format!("{e:#}"), None),
                },
            };
            let page = page.map(|p| redact::body(&p, "text/html", &pw));
            println!(
                "{:<8} {}/{name}: {reason}",
                format!("{result:?}").to_uppercase(),
                short(plan.name)
            );
            entries.push(Entry {
                plan: plan.name.to_owned(),
                name: (*name).to_owned(),
                result,
                reason,
                exchanges: ctx.log.take(),
                page,
            });
        }
    }
    Ok(entries)
}

/// `oidcc-formpost-basic-certification-test-plan` -> `formpost-basic`, for console lines.
fn short(plan: &str) -> &str {
    plan.trim_start_matches("oidcc-")
        .trim_end_matches("-certification-test-plan")
}
