//! Command-line arguments of the `tase2-web-demo` binary.

use std::net::SocketAddr;

/// The text `--help` prints.
pub const HELP: &str = "\
tase2-web-demo: the FreeTase2 web demo

For now it runs a websockify-compatible WebSocket-to-TCP proxy, so that the browser build of the
client (tase2-wasm) can reach a TASE.2 / ICCP server: a page opens
  ws://LISTEN/?target=HOST:PORT   (subprotocol \"binary\")
and the proxy relays bytes to HOST:PORT if, and only if, it is on the allow-list. Without
?target= the first allowed target is used.

Later it will also host the viewer page and the wasm package, and an embedded demo server with
simulated points.

USAGE:
    tase2-web-demo [--listen ADDR] --allow HOST:PORT [--allow HOST:PORT ...]

OPTIONS:
    --listen ADDR       address for WebSocket clients [default: 127.0.0.1:8080]
    --allow HOST:PORT   a target the proxy may connect to (repeatable; at least one)
    -h, --help          print this help
";

/// What the command line asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Print [`HELP`].
    Help,
    /// Run the proxy.
    Proxy {
        /// Where to listen for WebSocket clients.
        listen: SocketAddr,
        /// Allowed `host:port` targets.
        allow: Vec<String>,
    },
}

/// Parse the arguments after the program name.
pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Command, String> {
    let mut listen: SocketAddr = ([127, 0, 0, 1], 8080).into();
    let mut allow = Vec::new();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--listen" => {
                let v = args.next().ok_or("--listen needs an address")?;
                listen = v.parse().map_err(|e| format!("--listen {v:?}: {e}"))?;
            }
            "--allow" => allow.push(args.next().ok_or("--allow needs HOST:PORT")?),
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    if allow.is_empty() {
        return Err("at least one --allow HOST:PORT is required (try --help)".into());
    }
    Ok(Command::Proxy { listen, allow })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &[&str]) -> Vec<String> {
        s.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn help_wins_and_mentions_the_viewer_and_the_allow_list() {
        assert_eq!(
            parse(args(&["--allow", "h:1", "--help"])),
            Ok(Command::Help)
        );
        assert!(HELP.contains("viewer") && HELP.contains("--allow"));
    }

    #[test]
    fn listen_and_repeated_allows_are_collected() {
        assert_eq!(
            parse(args(&[
                "--allow",
                "a:1",
                "--listen",
                "0.0.0.0:9000",
                "--allow",
                "b:2"
            ])),
            Ok(Command::Proxy {
                listen: "0.0.0.0:9000".parse().unwrap(),
                allow: args(&["a:1", "b:2"]),
            })
        );
    }

    #[test]
    fn missing_values_and_unknown_flags_are_errors() {
        assert!(parse(args(&[])).unwrap_err().contains("--allow"));
        assert!(parse(args(&["--allow"])).is_err());
        assert!(parse(args(&["--allow", "a:1", "--listen", "nope"])).is_err());
        assert!(parse(args(&["--verbose"]))
            .unwrap_err()
            .contains("--verbose"));
    }
}
