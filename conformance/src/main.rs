//! `conformance --issuer URL --config FILE [--plan NAME] [--out DIR]`: runs an OpenID
//! Foundation test plan (OpenID Connect Core 1.0 conformance) against an OP over HTTP.

use clap::Parser;
use conformance::modules::Verdict;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "conformance", about = "OpenID Connect OP conformance runner")]
struct Args {
    /// The OP's issuer identifier.
    #[arg(long)]
    issuer: String,
    /// Configuration file (TOML, or JSON with a .json extension).
    #[arg(long)]
    config: PathBuf,
    /// The test plan.
    #[arg(long, default_value = conformance::modules::BASIC_PLAN)]
    plan: String,
    /// Report directory.
    #[arg(long, default_value = "target/conformance")]
    out: PathBuf,
    /// Run only these modules (repeatable).
    #[arg(long = "module")]
    modules: Vec<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let result = async {
        let cfg = conformance::config::Config::load(&args.config)?;
        let entries = conformance::run(&args.issuer, cfg, &args.plan, &args.modules).await?;
        conformance::report::write(&args.out, &args.issuer, &entries)?;
        anyhow::Ok(entries)
    }
    .await;
    match result {
        Ok(entries) => {
            let n = |v| entries.iter().filter(|e| e.result == v).count();
            println!("report: {}", args.out.join("report.html").display());
            println!(
                "{} passed, {} failed",
                n(Verdict::Passed),
                n(Verdict::Failed)
            );
            if n(Verdict::Failed) > 0 {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            println!("0 passed, 1 failed");
            ExitCode::from(2)
        }
    }
}
