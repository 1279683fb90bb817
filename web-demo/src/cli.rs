//! Command-line arguments of the `tase2-web-demo` binary (clap).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use crate::proxy::{AllowList, ProxyConfig};

/// tase2-web-demo: the FreeTase2 web demo on one port.
///
/// Serves the viewer page and the wasm package (static files from --static DIR), the proxy's
/// allow-list at /targets.json, and a websockify-compatible WebSocket-to-TCP proxy so that the
/// browser build of the client (tase2-wasm) can reach a TASE.2 / ICCP server: the page opens
///   ws://LISTEN/ws?target=HOST:PORT   (subprotocol "binary"; the path / works too)
/// and the proxy relays bytes to HOST:PORT if, and only if, it is on the allow-list. Without
/// ?target= the first allowed target is used.
///
/// A WebSocket upgrade from a browser must come from the page's own origin (http://LISTEN as the
/// browser addressed it) or an --allow-origin; requests without an Origin header (Node, websockify
/// clients) are accepted.
#[derive(Clone, Debug, Parser)]
#[command(name = "tase2-web-demo", version, verbatim_doc_comment)]
pub struct Args {
    /// Address to listen on for HTTP and WebSocket clients.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// A target the proxy may connect to (repeatable; at least one). The first is the default.
    #[arg(long = "allow", value_name = "HOST:PORT", required = true)]
    pub allow: Vec<String>,

    /// Directory to serve files from (index.html at /); without it only /targets.json and the
    /// proxy are served.
    #[arg(long = "static", value_name = "DIR")]
    pub static_dir: Option<PathBuf>,

    /// A browser origin allowed to open the proxy besides the page's own, e.g.
    /// http://localhost:3000 (repeatable).
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    pub allow_origin: Vec<String>,

    /// Close a proxied session after this many seconds without traffic either way.
    #[arg(long, value_name = "SECS", default_value_t = 300,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub idle_timeout: u64,

    /// Largest WebSocket message or frame accepted from the browser, in octets; a larger one
    /// closes the session with code 1009.
    #[arg(long, value_name = "BYTES", default_value_t = crate::proxy::MAX_MESSAGE_SIZE,
          value_parser = parse_size)]
    pub max_frame: usize,

    /// Most proxied WebSocket sessions at once; further upgrades get HTTP 503.
    #[arg(long, value_name = "N", default_value_t = crate::proxy::MAX_SESSIONS,
          value_parser = parse_sessions)]
    pub max_sessions: usize,
}

fn parse_size(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n >= 1024 => Ok(n),
        Ok(_) => Err("at least 1024 octets (an MMS PDU needs more)".into()),
        Err(e) => Err(e.to_string()),
    }
}

fn parse_sessions(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        Ok(_) => Err("at least 1".into()),
        Err(e) => Err(e.to_string()),
    }
}

impl Args {
    /// The listener configuration these arguments ask for; fails on an allow-list entry that is
    /// not `host:port`.
    pub fn config(&self) -> Result<ProxyConfig, String> {
        let mut config = ProxyConfig::new(AllowList::new(self.allow.clone())?);
        config.static_dir = self.static_dir.clone();
        config.allow_origins = self.allow_origin.clone();
        config.idle_timeout = Duration::from_secs(self.idle_timeout);
        config.max_message_size = self.max_frame;
        config.max_sessions = self.max_sessions;
        Ok(config)
    }

    /// The line printed on start.
    pub fn banner(&self) -> String {
        let files = match &self.static_dir {
            Some(d) => format!("static {}", d.display()),
            None => "no static files".to_string(),
        };
        format!(
            "tase2-web-demo: serving http://{l}/ ({files}), proxy ws://{l}/ws to {}",
            self.allow.join(", "),
            l = self.listen
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(s: &[&str]) -> Result<Args, clap::Error> {
        Args::try_parse_from(std::iter::once("tase2-web-demo").chain(s.iter().copied()))
    }

    #[test]
    fn the_definition_is_consistent_and_help_names_every_flag() {
        Args::command().debug_assert();
        let help = Args::command().render_long_help().to_string();
        for flag in [
            "--listen",
            "--allow",
            "--static",
            "--allow-origin",
            "--idle-timeout",
            "--max-frame",
            "--max-sessions",
            "/ws",
            "viewer",
        ] {
            assert!(help.contains(flag), "{flag} missing from\n{help}");
        }
        assert!(!help.contains("Later"), "{help}");
    }

    #[test]
    fn defaults_and_repeated_flags() {
        let a = parse(&["--allow", "a:1"]).unwrap();
        assert_eq!(a.listen, "127.0.0.1:8080".parse().unwrap());
        let c = a.config().unwrap();
        assert_eq!(c.idle_timeout, Duration::from_secs(300));
        assert_eq!(c.max_message_size, 1 << 20);
        assert_eq!(c.max_sessions, 64);
        assert_eq!(c.static_dir, None);
        assert!(c.allow_origins.is_empty());
        assert_eq!(
            a.banner(),
            "tase2-web-demo: serving http://127.0.0.1:8080/ (no static files), proxy ws://127.0.0.1:8080/ws to a:1"
        );

        let a = parse(&[
            "--allow",
            "a:1",
            "--listen",
            "0.0.0.0:9000",
            "--allow",
            "b:2",
            "--static",
            "build/web",
            "--allow-origin",
            "http://x:1",
            "--allow-origin",
            "http://y:2",
            "--idle-timeout",
            "7",
            "--max-frame",
            "4096",
            "--max-sessions",
            "3",
        ])
        .unwrap();
        let c = a.config().unwrap();
        assert_eq!(c.allow.targets(), ["a:1", "b:2"]);
        assert_eq!(c.static_dir, Some(PathBuf::from("build/web")));
        assert_eq!(c.allow_origins, ["http://x:1", "http://y:2"]);
        assert_eq!(c.idle_timeout, Duration::from_secs(7));
        assert_eq!(c.max_message_size, 4096);
        assert_eq!(c.max_sessions, 3);
        assert_eq!(
            a.banner(),
            "tase2-web-demo: serving http://0.0.0.0:9000/ (static build/web), proxy ws://0.0.0.0:9000/ws to a:1, b:2"
        );
    }

    #[test]
    fn missing_or_bad_values_are_errors() {
        assert!(parse(&[]).unwrap_err().to_string().contains("--allow"));
        assert!(parse(&["--allow"]).is_err());
        assert!(parse(&["--allow", "a:1", "--listen", "nope"]).is_err());
        assert!(parse(&["--allow", "a:1", "--idle-timeout", "0"]).is_err());
        assert!(parse(&["--allow", "a:1", "--max-frame", "10"]).is_err());
        assert!(parse(&["--allow", "a:1", "--max-sessions", "0"]).is_err());
        assert!(parse(&["--verbose"])
            .unwrap_err()
            .to_string()
            .contains("--verbose"));
        assert!(parse(&["--allow", "nope"]).unwrap().config().is_err());
    }
}
