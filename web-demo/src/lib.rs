//! FreeTase2 web demo: the viewer page, the wasm package and a websockify-compatible
//! WebSocket-to-TCP proxy, all on one listener.
//!
//! A browser cannot open a TCP socket, so the wasm client (`tase2-wasm`) talks to a TASE.2 server
//! through a WebSocket. [`proxy`] is the other end of that WebSocket: it accepts connections that
//! ask for the `binary` subprotocol and relays bytes to a `host:port` on its allow-list, and to
//! nothing else. The same listener answers plain HTTP: static files from one directory (the page
//! and the wasm package, see [`http`]) and `/targets.json`, the allow-list for the page to offer.
//! The routing, the refusals and the limits are described in [`proxy`]; the binary's flags in
//! [`cli`].
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use std::sync::Arc;
//! use tase2_web_demo::proxy::{self, AllowList, ProxyConfig};
//!
//! let allow = AllowList::new(["127.0.0.1:102"]).expect("valid targets");
//! let mut config = ProxyConfig::new(allow);
//! config.static_dir = Some("build/web".into());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! proxy::serve(listener, Arc::new(config)).await
//! # }
//! ```

#![forbid(unsafe_code)]

pub mod cli;
pub mod http;
pub mod proxy;
