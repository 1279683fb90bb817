//! FreeTase2 project automation, run as `cargo xtask <command>` (alias in `.cargo/config.toml`).
//!
//! Commands:
//!
//! - `setup`: idempotent installer of everything the tests need on a fresh Debian machine (as
//!   root): tshark (apt), a Python venv at `build/venv` with the real peers (`pyiec61850-ng`,
//!   `open61850`, `iec61850`), the `wasm32-unknown-unknown` target, rustfmt, clippy, and
//!   wasm-bindgen-cli of the locked wasm-bindgen version (`wasm-bindgen`,
//!   `wasm-bindgen-test-runner`).
//! - `ci`: setup, fmt check, clippy, the wasm build of the core, the workspace tests, the wasm32
//!   tests of `tase2-wasm` on Node (`wasm-bindgen-test-runner`) and the interop suite; stops at
//!   the first failing step and ends with a `N passed, N failed` line.
//! - `interop`: builds the `tase2` binary and runs every `tests/interop/test_*.py` against it.
//! - `bench`: the criterion benches of `tase2-core` (when there are any), then the load comparison
//!   of the issue: the `tase2-load` client (pipelined Reads of one FLOAT32) against our `tase2 serve`
//!   and against libiec61850's IedServer at the same depth; prints reads/s of each, the ratio and the
//!   server CPU time per read, and writes them to `build/bench/results.txt`. `--connections N` loads
//!   N associations at once; `--pin same|split` pins server and client with `taskset`. Then the
//!   report fan-out of the core (`core/benches/report_fanout.rs`: 100,000 points, 20 associations
//!   with an RBE transfer set over 5,000 points each, 10 % of the points changing per second and a
//!   saturating run): point updates encoded per second and server CPU per update. `--fanout-only`
//!   runs that alone. Then the replay figures (`core/benches/replay_hour.rs`: an hour-long
//!   recording of a 1,000-point RBE link made on the core's simulator, both sides replayed;
//!   `--no-replay` skips them). Last, the report latency of 1,000 associations with an RBE
//!   transfer set each under both drivers (`tests/benches/association_latency.rs`;
//!   `--no-latency` skips it).
//! - `capture`: regenerates the libiec61850 byte vectors under `tests/data/libiec61850`.
//! - `fixtures`: regenerates the recordings under `tests/data/recordings` (libiec61850's client
//!   and `tase2 watch` against `tase2 serve --record`; `tests/interop/record_fixtures.py`).
//!
//! Standard library only.

mod bench;
mod capture;
mod ci;
mod demo;
mod fuzz;
mod interop;
mod setup;
mod util;

use std::env;
use std::process::ExitCode;

use setup::Setup;
use util::repo_root;

/// Usage text.
const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  demo [--listen HOST:PORT] [--server HOST:PORT]
                        the browser viewer: installs what it needs, builds the wasm package and the
                        binaries, runs tase2 serve (default model, 127.0.0.1:10102) and the web demo
                        (page + proxy, http://127.0.0.1:8080/); Ctrl-C stops both
  wasm-pkg [OUT_DIR]    build the browser wasm package (default web-demo/www/pkg), size-optimised,
                        with gzip twins (NAME.gz) of its module and glue
  page-twins [WWW_DIR]  gzip twins of the page's generated files (the package, the chart library in
                        node_modules; default web-demo/www), which tase2-web-demo sends gzip-coded
  setup                 install tshark, the Python peers (build/venv), the wasm target, rustfmt, clippy
  ci [--skip-setup]     setup, fmt, clippy, wasm build, tests, interop; prints `N passed, N failed`
  interop [--debug] [--bin PATH] [FILTER]
                        build tase2 (release unless --debug; --bin uses a prebuilt binary instead)
                        and run tests/interop/test_*.py (only those whose name contains FILTER)
  bench [--depth N] [--seconds S] [--connections N] [--rounds N] [--pin none|same|split] [--spin]
        [--busy-poll US] [--no-criterion] [--no-load] [--no-fanout | --fanout-only] [--no-replay] [--no-latency]
        [--no-tls | --tls-only] [--fanout-seconds S] [--fanout-rounds N] [-- CRITERION ARGS]
                        criterion benches of tase2-core, then reads/s of tase2-load against
                        tase2 serve and libiec61850's IedServer (same depth), and their ratio,
                        then tase2 serve over TLS 1.3 and 1.2 against plain TCP on one
                        association (reads/s, CPU per read) and the TLS handshake time,
                        then the report fan-out (100,000 points, 20 RBE transfer sets: point
                        updates encoded per second, CPU per update; S simulated seconds of 10 %
                        changing, default 60, and N saturating rounds, default 10);
                        results in build/bench/results.txt
  capture               regenerate tests/data/libiec61850 from a real libiec61850 session
  fixtures [--debug] [--bin PATH]
                        regenerate the recordings in tests/data/recordings (libiec61850 and
                        tase2 watch against tase2 serve --record); cargo test replays them
  fuzz [--seconds N] [TARGET...]
                        run the cargo-fuzz targets in fuzz/ one after another (nightly; installs
                        cargo-fuzz if missing), N seconds each (default 60)
";

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let Some(cmd) = args.first() else {
        eprint!("{USAGE}");
        return ExitCode::from(2);
    };
    let rest = &args[1..];
    let root = repo_root();
    if let Err(e) = env::set_current_dir(&root) {
        eprintln!("xtask: cannot enter {}: {e}", root.display());
        return ExitCode::FAILURE;
    }
    // A command's one optional directory argument, `default` under the root when not given.
    let dir_arg = |default: &str| {
        rest.first()
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| root.join(default))
    };
    let result = match cmd.as_str() {
        "demo" => demo::demo(&root, rest),
        "wasm-pkg" => {
            let out = dir_arg("web-demo/www/pkg");
            Setup::new(&root)
                .for_demo()
                .and_then(|()| demo::wasm_pkg(&root, &out))
        }
        "page-twins" => demo::page_twins(&dir_arg("web-demo/www")),
        "setup" => Setup::new(&root).run(),
        "ci" => return ci::ci(&root, rest),
        "interop" => interop::interop(&root, rest),
        "bench" => bench::bench(&root, rest),
        "capture" => capture::capture(&root),
        "fixtures" => interop::fixtures(&root, rest),
        "fuzz" => fuzz::fuzz(rest),
        "help" | "-h" | "--help" => {
            print!("{USAGE}");
            Ok(())
        }
        other => {
            eprintln!("xtask: unknown command `{other}`\n");
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask {cmd}: error: {e}");
            ExitCode::FAILURE
        }
    }
}
