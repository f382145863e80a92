//! An OpenID Connect conformance runner: drives any OpenID provider over HTTP as a relying
//! party, module by module, the way the OpenID Foundation test plans do, and writes a JSON and
//! HTML report. This slice implements `oidcc-basic-certification-test-plan` (OpenID Connect
//! Core 1.0 §3.1 code flow, §5 claims, §6 request objects, §12 refresh; RFC 6749; RFC 7636).

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

/// Runs `plan` (only the modules named in `only`, when not empty) against `issuer`.
pub async fn run(
    issuer: &str,
    cfg: config::Config,
    plan: &str,
    only: &[String],
) -> Result<Vec<Entry>> {
    if plan != modules::BASIC_PLAN {
        bail!(
            "unknown plan {plan}; this runner implements {}",
            modules::BASIC_PLAN
        );
    }
    let pw = cfg.browser.password_field.clone();
    let http = http::Http::new(http::Log::default(), &pw)?;
    let op = Arc::new(op::Op::discover(issuer, cfg, &http).await?);
    let mut entries = Vec::new();
    for name in modules::BASIC_MODULES {
        if !only.is_empty() && !only.iter().any(|o| o == name) {
            continue;
        }
        let mut ctx = Ctx::new(op.clone());
        let (result, reason, page) = match modules::run(name, &mut ctx).await {
            Ok(o) if o.verdict == Verdict::Passed && !ctx.warnings.is_empty() => (
                Verdict::Warning,
                format!("{}; {}", ctx.warnings.join("; "), o.reason),
                None,
            ),
            Ok(o) => (o.verdict, o.reason, o.page),
            Err(e) => (Verdict::Failed, format!("{e:#}"), None),
        };
        let page = page.map(|p| redact::body(&p, "text/html", &pw));
        println!(
            "{:<8} {name}: {reason}",
            format!("{result:?}").to_uppercase()
        );
        entries.push(Entry {
            plan: plan.to_owned(),
            name: (*name).to_owned(),
            result,
            reason,
            exchanges: ctx.log.take(),
            page,
        });
    }
    Ok(entries)
}
