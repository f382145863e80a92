//! The `vhod` command.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = match vhod::cli::Args::try_parse() {
        Ok(args) => args,
        Err(e) => {
            let _ = e.print();
            // --help and --version are not errors. Usage errors exit 3, not clap's 2: for
            // `vhod signer validate`, 1 and 2 are verdicts (TOTAL_FAILED, INDETERMINATE).
            return if e.use_stderr() {
                std::process::ExitCode::from(vhod::cli::USAGE_ERROR)
            } else {
                std::process::ExitCode::SUCCESS
            };
        }
    };
    match vhod::cli::run(args).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("vhod: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
