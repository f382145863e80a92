//! The run's report: `report.json` (`{"modules": [{plan, name, result, reason}]}`, the
//! Foundation's result values) and a self-contained `report.html` showing, for FAILED and
//! REVIEW modules, the redacted HTTP exchanges (RFC 9110 messages) and saved pages.

use crate::http::Exchange;
use crate::modules::Verdict;
use anyhow::Result;
use serde_json::json;
use std::fmt::Write;
use std::path::Path;

/// One module's result.
#[derive(Debug, Clone)]
pub struct Entry {
    pub plan: String,
    pub name: String,
    pub result: Verdict,
    pub reason: String,
    pub exchanges: Vec<Exchange>,
    /// A page for a person to review, already redacted.
    pub page: Option<String>,
}

/// HTML-escapes text for element content and attribute values.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

pub fn json(entries: &[Entry]) -> serde_json::Value {
    let modules: Vec<_> = entries
        .iter()
        .map(|e| json!({"plan": e.plan, "name": e.name, "result": e.result, "reason": e.reason}))
        .collect();
    json!({ "modules": modules })
}

fn verdict_str(v: Verdict) -> &'static str {
    match v {
        Verdict::Passed => "PASSED",
        Verdict::Failed => "FAILED",
        Verdict::Warning => "WARNING",
        Verdict::Skipped => "SKIPPED",
        Verdict::Review => "REVIEW",
    }
}

fn exchange_html(out: &mut String, x: &Exchange) {
    let mut req = format!("{} {}\n", x.method, x.url);
    for (k, v) in &x.request_headers {
        let _ = writeln!(req, "{k}: {v}");
    }
    if !x.request_body.is_empty() {
        let _ = write!(req, "\n{}", x.request_body);
    }
    let mut resp = format!("HTTP {}\n", x.status);
    for (k, v) in &x.response_headers {
        let _ = writeln!(resp, "{k}: {v}");
    }
    let body: String = x.response_body.chars().take(4000).collect();
    let _ = write!(resp, "\n{body}");
    let _ = write!(
        out,
        "<details><summary>{} {} → {}</summary><pre>{}</pre><pre>{}</pre></details>",
        esc(&x.method),
        esc(&x.url),
        x.status,
        esc(&req),
        esc(&resp)
    );
}

pub fn html(issuer: &str, entries: &[Entry]) -> String {
    let count = |v| entries.iter().filter(|e| e.result == v).count();
    let mut out = String::from(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>OpenID conformance report</title><style>\
         body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}\
         .PASSED{background:#dfd}.FAILED{background:#fcc}.WARNING{background:#ffd}.SKIPPED{background:#eee}.REVIEW{background:#def}\
         pre{background:#f6f6f6;padding:6px;white-space:pre-wrap;word-break:break-all}iframe{width:100%;height:300px;border:1px solid #999}</style></head><body>",
    );
    let _ = write!(
        out,
        "<h1>OpenID conformance report</h1><p>Issuer: <code>{}</code></p><p>{} passed, {} failed, {} warning, {} skipped, {} review</p>",
        esc(issuer),
        count(Verdict::Passed),
        count(Verdict::Failed),
        count(Verdict::Warning),
        count(Verdict::Skipped),
        count(Verdict::Review)
    );
    let mut plans: Vec<&str> = entries.iter().map(|e| e.plan.as_str()).collect();
    plans.dedup();
    for plan in plans {
        let _ = write!(
            out,
            "<h2>{}</h2><table><tr><th>Module</th><th>Result</th><th>Reason</th></tr>",
            esc(plan)
        );
        for e in entries.iter().filter(|e| e.plan == plan) {
            let v = verdict_str(e.result);
            let _ = write!(
                out,
                "<tr class=\"{v}\"><td><a href=\"#{0}\">{0}</a></td><td>{v}</td><td>{1}</td></tr>",
                esc(&e.name),
                esc(&e.reason)
            );
        }
        out.push_str("</table>");
    }
    for e in entries
        .iter()
        .filter(|e| matches!(e.result, Verdict::Failed | Verdict::Review))
    {
        let v = verdict_str(e.result);
        let _ = write!(
            out,
            "<h3 id=\"{0}\" class=\"{v}\">{0}: {v}</h3><p>{1}</p>",
            esc(&e.name),
            esc(&e.reason)
        );
        if let Some(page) = &e.page {
            let _ = write!(
                out,
                "<p>Page shown by the OP:</p><iframe sandbox srcdoc=\"{}\"></iframe>",
                esc(page)
            );
        }
        out.push_str("<p>HTTP exchanges (secrets redacted):</p>");
        for x in &e.exchanges {
            exchange_html(&mut out, x);
        }
    }
    out.push_str("</body></html>\n");
    out
}

/// Writes `report.json` and `report.html` into `dir`.
pub fn write(dir: &Path, issuer: &str, entries: &[Entry]) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(
        dir.join("report.json"),
        serde_json::to_string_pretty(&json(entries))?,
    )?;
    std::fs::write(dir.join("report.html"), html(issuer, entries))?;
    Ok(())
}
