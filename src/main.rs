//! The `vhod` command.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = vhod::cli::Args::parse();
    match vhod::cli::run(args).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("vhod: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
