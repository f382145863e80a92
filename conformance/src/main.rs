//! `conformance --issuer URL --config FILE [--plan NAME|all]... [--out DIR]`: runs OpenID
//! Foundation test plans (OpenID Connect conformance) against an OP over HTTP.

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
    /// A test plan (repeatable), or `all` for every plan.
    #[arg(long = "plan", default_value = conformance::modules::BASIC_PLAN)]
    plans: Vec<String>,
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
        let entries = conformance::run(&args.issuer, cfg, &args.plans, &args.modules).await?;
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
