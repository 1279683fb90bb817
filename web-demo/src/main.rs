//! `tase2-web-demo`: serve the viewer page, the wasm package and the WebSocket-to-TCP proxy on one
//! listener; see `--help`.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use tase2_web_demo::cli::Args;
use tase2_web_demo::proxy;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    let config = match args.config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("tase2-web-demo: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(dir) = &config.static_dir {
        if !dir.is_dir() {
            eprintln!(
                "tase2-web-demo: --static {}: not a directory",
                dir.display()
            );
            return ExitCode::from(2);
        }
    }
    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("tase2-web-demo: cannot listen on {}: {e}", args.listen);
            return ExitCode::FAILURE;
        }
    };
    println!("{}", args.banner());
    match proxy::serve(listener, Arc::new(config)).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tase2-web-demo: {e}");
            ExitCode::FAILURE
        }
    }
}
