//! `vhod signer ...`: the trust anchors validation uses, and validating a signed document
//! exactly as `POST /api/signer/v1/validate` does.
//!
//! `vhod signer validate` exits with the verdict: 0 TOTAL_PASSED, 1 TOTAL_FAILED,
//! 2 INDETERMINATE; 3 when the command line or its files are wrong; 4 when the check could not
//! run (database, key-encryption key).

use crate::cli::USAGE_ERROR;
use crate::config::Config;
use anyhow::Context;
use clap::Subcommand;
use keys::SystemClock;
use signer::validate::{Indication, Input, Report, SignatureReport};
use signer::{Person, Signer};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// Exit code when validation could not run at all.
const CHECK_FAILED: u8 = 4;

/// `vhod signer ...`.
#[derive(Subcommand, Debug)]
pub enum SignerCmd {
    /// Trust anchors for validation (vhod's own root is always trusted).
    #[command(subcommand)]
    Trust(TrustCmd),
    /// Validate a signed document and print the report; exits 0 for TOTAL_PASSED, 1 for
    /// TOTAL_FAILED, 2 for INDETERMINATE, 3 for usage errors, 4 when the check could not run.
    Validate {
        /// The document: a signed PDF, an attached CMS signature, or the document a detached
        /// `--signature` signs.
        #[arg(long)]
        document: PathBuf,
        /// A detached CMS signature (DER or PEM) of `--document`.
        #[arg(long)]
        signature: Option<PathBuf>,
        /// Print the report as JSON (the API's answer).
        #[arg(long)]
        json: bool,
    },
}

/// `vhod signer trust ...`.
#[derive(Subcommand, Debug)]
pub enum TrustCmd {
    /// Trust a CA certificate (PEM or DER) as a root for validation.
    Add {
        /// The certificate file.
        #[arg(long)]
        cert: PathBuf,
    },
    /// List the trust anchors: vhod's own root, then those added.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Stop trusting the anchor with this SHA-256 fingerprint (hex, colons allowed).
    Remove {
        /// The fingerprint, as `trust list` shows it.
        fingerprint: String,
    },
}

/// Why a command failed, and so its exit code.
enum Failure {
    /// The command line or a file it names is wrong.
    Usage(anyhow::Error),
    /// The store or the keys failed.
    Check(anyhow::Error),
}

/// Runs a `vhod signer` command; errors are printed and become exit codes.
pub async fn run(c: &Config, cmd: SignerCmd) -> ExitCode {
    let result = match cmd {
        SignerCmd::Trust(t) => trust(c, t).await,
        SignerCmd::Validate {
            document,
            signature,
            json,
        } => validate(c, &document, signature.as_deref(), json).await,
    };
    match result {
        Ok(code) => code,
        Err(Failure::Usage(e)) => {
            eprintln!("vhod: {e:#}");
            ExitCode::from(USAGE_ERROR)
        }
        Err(Failure::Check(e)) => {
            eprintln!("vhod: {e:#}");
            ExitCode::from(CHECK_FAILED)
        }
    }
}

async fn open(c: &Config) -> Result<Signer, Failure> {
    let clock: Arc<dyn keys::Clock> = Arc::new(SystemClock);
    let db = crate::open_db(c).await.map_err(Failure::Check)?;
    let (ring, kek) = crate::open_keys(c, &db, clock.clone())
        .await
        .map_err(Failure::Check)?;
    crate::open_signer(c, &db, ring, &kek, clock)
        .await
        .map_err(Failure::Check)
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>, Failure> {
    std::fs::read(path)
        .with_context(|| format!("reading the {what} {}", path.display()))
        .map_err(Failure::Usage)
}

async fn trust(c: &Config, cmd: TrustCmd) -> Result<ExitCode, Failure> {
    use signer::TrustError;
    let usage_or_check = |e: TrustError| match e {
        TrustError::Store(_) | TrustError::Audit(_) => Failure::Check(e.into()),
        _ => Failure::Usage(e.into()),
    };
    match cmd {
        TrustCmd::Add { cert } => {
            let bytes = read(&cert, "certificate")?;
            let s = open(c).await?;
            let (anchor, added) = s
                .trust_anchors()
                .add(&bytes, "cli")
                .await
                .map_err(usage_or_check)?;
            let state = if added { "added" } else { "already trusted" };
            println!("{state}: {}  {}", anchor.fingerprint, anchor.subject);
        }
        TrustCmd::List { json } => {
            let s = open(c).await?;
            let list = s.trust_anchors().list().await.map_err(usage_or_check)?;
            if json {
                let text =
                    serde_json::to_string_pretty(&list).map_err(|e| Failure::Check(e.into()))?;
                println!("{text}");
            } else {
                for a in list {
                    println!(
                        "{}\t{}\tnot_after={}\t{}",
                        a.fingerprint,
                        a.source,
                        date(a.not_after),
                        a.subject
                    );
                }
            }
        }
        TrustCmd::Remove { fingerprint } => {
            let s = open(c).await?;
            if !s
                .trust_anchors()
                .remove(&fingerprint, "cli")
                .await
                .map_err(usage_or_check)?
            {
                return Err(Failure::Usage(anyhow::anyhow!(
                    "no trust anchor {fingerprint}"
                )));
            }
            println!("removed {fingerprint}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A unix time as RFC 3339 (UTC).
fn date(unix: i64) -> String {
    u64::try_from(unix)
        .ok()
        .and_then(|s| der::DateTime::from_unix_duration(std::time::Duration::from_secs(s)).ok())
        .map_or_else(|| unix.to_string(), |d| d.to_string())
}

async fn validate(
    c: &Config,
    document: &Path,
    signature: Option<&Path>,
    json: bool,
) -> Result<ExitCode, Failure> {
    let doc = read(document, "document")?;
    let sig = signature.map(|p| read(p, "signature")).transpose()?;
    let s = open(c).await?;
    let report = s
        .validate(Input::detect(&doc, sig.as_deref()))
        .await
        .map_err(|e| Failure::Check(e.into()))?;
    if json {
        let text = serde_json::to_string_pretty(&report).map_err(|e| Failure::Check(e.into()))?;
        println!("{text}");
    } else {
        print!("{}", summary(&report));
    }
    Ok(ExitCode::from(match report.indication {
        Indication::TotalPassed => 0,
        Indication::TotalFailed => 1,
        Indication::Indeterminate => 2,
    }))
}

/// The report for people: the verdict, then per signature who, when, the chain and the checks.
fn summary(r: &Report) -> String {
    let sub = r.sub_indication.as_ref().map(json_word);
    let mut out = verdict_line(r.indication, sub, &r.reason);
    for (i, s) in r.signatures.iter().enumerate() {
        out.push_str(&signature_block(i + 1, s));
    }
    out
}

fn verdict_line(indication: Indication, sub: Option<String>, reason: &str) -> String {
    let word = json_word(&indication);
    match sub {
        Some(sub) => format!("{word} {sub}: {reason}\n"),
        None => format!("{word}: {reason}\n"),
    }
}

fn signature_block(n: usize, s: &SignatureReport) -> String {
    let mut out = format!("\nsignature {n}: ");
    out.push_str(&verdict_line(s.indication, sub_name(s), &s.reason));
    if let Some(cert) = &s.signer {
        let p = Person::from_subject(&cert.subject);
        match &p.snils {
            Some(snils) => out.push_str(&format!("  signed by: {} (SNILS {snils})\n", p.name)),
            None => out.push_str(&format!("  signed by: {}\n", p.name)),
        }
    }
    if let Some(t) = &s.claimed_signing_time {
        out.push_str(&format!("  signing time (claimed): {t}\n"));
    }
    if let Some(ts) = &s.timestamp {
        let state = if ts.valid { "valid" } else { "not valid" };
        out.push_str(&format!(
            "  timestamp: {} ({state})\n",
            ts.time.as_deref().unwrap_or("?")
        ));
    }
    if !s.chain.is_empty() {
        let names: Vec<&str> = s.chain.iter().map(|c| c.subject.as_str()).collect();
        out.push_str(&format!("  chain: {}\n", names.join(" <- ")));
    }
    for check in &s.checks {
        out.push_str(&format!(
            "  {:<8} {}: {}\n",
            json_word(&check.outcome),
            check.name,
            check.detail
        ));
    }
    out
}

/// How serde spells a report enum (`TOTAL_PASSED`, `passed`...), so the summary and the JSON
/// use the same words.
fn json_word<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn sub_name(s: &SignatureReport) -> Option<String> {
    s.sub_indication.as_ref().map(json_word)
}
