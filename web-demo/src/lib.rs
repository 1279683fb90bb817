//! FreeTase2 web demo: a websockify-compatible WebSocket-to-TCP proxy, and later the viewer.
//!
//! A browser cannot open a TCP socket, so the wasm client (`tase2-wasm`) talks to a TASE.2 server
//! through a WebSocket. [`proxy`] is the other end of that WebSocket: it accepts connections that
//! ask for the `binary` subprotocol and relays bytes to a `host:port` on its allow-list, and to
//! nothing else. Serving the viewer page, the wasm package and an embedded demo server with
//! simulated points is planned.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use std::sync::Arc;
//! use tase2_web_demo::proxy::{self, AllowList, ProxyConfig};
//!
//! let allow = AllowList::new(["127.0.0.1:102"]).expect("valid targets");
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! proxy::serve(listener, Arc::new(ProxyConfig::new(allow))).await
//! # }
//! ```

#![forbid(unsafe_code)]

pub mod cli;
pub mod proxy;
