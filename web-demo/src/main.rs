//! `tase2-web-demo`: run the WebSocket-to-TCP proxy; see `--help`.

use std::process::ExitCode;
use std::sync::Arc;

use tase2_web_demo::cli::{self, Command};
use tase2_web_demo::proxy::{self, AllowList, ProxyConfig};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let (listen, allow) = match cli::parse(std::env::args().skip(1)) {
        Ok(Command::Help) => {
            print!("{}", cli::HELP);
            return ExitCode::SUCCESS;
        }
        Ok(Command::Proxy { listen, allow }) => (listen, allow),
        Err(e) => {
            eprintln!("tase2-web-demo: {e}");
            return ExitCode::from(2);
        }
    };
    let allow = match AllowList::new(allow) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("tase2-web-demo: {e}");
            return ExitCode::from(2);
        }
    };
    let listener = match tokio::net::TcpListener::bind(listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("tase2-web-demo: cannot listen on {listen}: {e}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!("proxying ws://{listen}/ to {}", allow.targets().join(", "));
    match proxy::serve(listener, Arc::new(ProxyConfig::new(allow))).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tase2-web-demo: {e}");
            ExitCode::FAILURE
        }
    }
}
