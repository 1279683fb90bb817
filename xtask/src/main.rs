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
//!   runs that alone.
//! - `capture`: regenerates the libiec61850 byte vectors under `tests/data/libiec61850`.
//!
//! Standard library only.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

/// Python packages installed into `build/venv`, one pip requirement a line. The marker file in the
/// venv holds this exact text once they are installed, so `setup` skips pip when it matches.
const PY_REQUIREMENTS: &str = "pyiec61850-ng==1.6.1.10\nopen61850==0.9.12\niec61850==0.14.0\n";

/// Name of the marker file inside the venv.
const VENV_MARKER: &str = ".freetase2-requirements";

/// The modules the interop scripts import; `setup` checks they load.
const PY_IMPORT_CHECK: &str = "import pyiec61850.pyiec61850, open61850.mms, iec61850";

/// The wasm target the core must build for.
const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// Usage text.
const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  setup                 install tshark, the Python peers (build/venv), the wasm target, rustfmt, clippy
  ci [--skip-setup]     setup, fmt, clippy, wasm build, tests, interop; prints `N passed, N failed`
  interop [--debug] [--bin PATH] [FILTER]
                        build tase2 (release unless --debug; --bin uses a prebuilt binary instead)
                        and run tests/interop/test_*.py (only those whose name contains FILTER)
  bench [--depth N] [--seconds S] [--connections N] [--rounds N] [--pin none|same|split]
        [--no-criterion] [--no-load] [--no-fanout | --fanout-only]
        [--fanout-seconds S] [--fanout-rounds N] [-- CRITERION ARGS]
                        criterion benches of tase2-core, then reads/s of tase2-load against
                        tase2 serve and libiec61850's IedServer (same depth), and their ratio,
                        then the report fan-out (100,000 points, 20 RBE transfer sets: point
                        updates encoded per second, CPU per update; S simulated seconds of 10 %
                        changing, default 60, and N saturating rounds, default 10);
                        results in build/bench/results.txt
  capture               regenerate tests/data/libiec61850 from a real libiec61850 session
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
    let result = match cmd.as_str() {
        "setup" => Setup::new(&root).run(),
        "ci" => return ci(&root, rest),
        "interop" => interop(&root, rest),
        "bench" => bench(&root, rest),
        "capture" => capture(&root),
        "fuzz" => fuzz(rest),
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

/// Result of a step: `Err` carries a one-line reason.
type Res = Result<(), String>;

/// The workspace root: the parent of this crate's manifest directory.
fn repo_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(Path::to_path_buf).unwrap_or(manifest)
}

/// The `cargo` that runs us (falls back to `cargo` on `PATH`).
fn cargo() -> String {
    env::var("CARGO").unwrap_or_else(|_| "cargo".to_string())
}

/// Prints a command line the way a shell user would type it.
fn show(cmd: &Command) {
    let mut line = String::from("$");
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            let _ = write!(line, " {}={}", k.to_string_lossy(), v.to_string_lossy());
        }
    }
    let _ = write!(line, " {}", cmd.get_program().to_string_lossy());
    for a in cmd.get_args() {
        let a = a.to_string_lossy();
        if a.is_empty() || a.contains(' ') {
            let _ = write!(line, " '{a}'");
        } else {
            let _ = write!(line, " {a}");
        }
    }
    println!("{line}");
}

/// Runs a command with inherited stdio; an error if it cannot start or exits non-zero.
fn run(cmd: &mut Command) -> Res {
    show(cmd);
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {}: {e}", cmd.get_program().to_string_lossy()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "`{}` failed ({status})",
            cmd.get_program().to_string_lossy()
        ))
    }
}

/// Runs a command quietly and returns its stdout if it succeeded.
fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// True if `prog` is found on `PATH` as an executable file.
fn on_path(prog: &str) -> bool {
    env::var_os("PATH").is_some_and(|paths| {
        env::split_paths(&paths).any(|dir| {
            let p = dir.join(prog);
            p.is_file()
                && fs::metadata(&p).is_ok_and(|m| {
                    use std::os::unix::fs::PermissionsExt;
                    m.permissions().mode() & 0o111 != 0
                })
        })
    })
}

/// True when running as root (`id -u` prints 0).
fn is_root() -> bool {
    output(Command::new("id").arg("-u")).is_some_and(|s| s.trim() == "0")
}

/// Path of the Python interpreter in the project venv.
fn venv_python(root: &Path) -> PathBuf {
    root.join("build").join("venv").join("bin").join("python")
}

// ------------------------------------------------------------------------------------------------
// setup

/// The idempotent installer behind `cargo xtask setup`.
struct Setup {
    /// Workspace root.
    root: PathBuf,
    /// Whether `apt-get update` already ran in this process.
    apt_updated: bool,
}

impl Setup {
    /// A set-up for the workspace at `root`.
    fn new(root: &Path) -> Self {
        Setup {
            root: root.to_path_buf(),
            apt_updated: false,
        }
    }

    /// Runs every set-up step.
    fn run(mut self) -> Res {
        self.tshark()?;
        self.python_venv()?;
        self.rust_tools()?;
        self.wasm_bindgen_cli()?;
        println!("setup: everything is installed");
        Ok(())
    }

    /// `apt-get install -y PKGS` (after one `apt-get update`), as root, non-interactively.
    fn apt_install(&mut self, pkgs: &[&str]) -> Res {
        if !is_root() {
            return Err(format!(
                "missing Debian packages {pkgs:?}; run `cargo xtask setup` as root or \
                 `sudo apt-get install -y {}`",
                pkgs.join(" ")
            ));
        }
        if !self.apt_updated {
            run(Command::new("apt-get")
                .args(["update", "-q"])
                .env("DEBIAN_FRONTEND", "noninteractive"))?;
            self.apt_updated = true;
        }
        run(Command::new("apt-get")
            .args(["install", "-y", "-q", "--no-install-recommends"])
            .args(pkgs)
            .env("DEBIAN_FRONTEND", "noninteractive"))
    }

    /// tshark, with the non-setuid dumpcap answer pre-seeded so the install never prompts.
    fn tshark(&mut self) -> Res {
        if on_path("tshark") {
            println!("setup: tshark present");
            return Ok(());
        }
        if is_root() && on_path("debconf-set-selections") {
            show(&Command::new("debconf-set-selections"));
            let mut child = Command::new("debconf-set-selections")
                .stdin(std::process::Stdio::piped())
                .spawn()
                .map_err(|e| format!("debconf-set-selections: {e}"))?;
            if let Some(stdin) = child.stdin.as_mut() {
                use std::io::Write;
                stdin
                    .write_all(b"wireshark-common wireshark-common/install-setuid boolean false\n")
                    .map_err(|e| format!("debconf-set-selections: {e}"))?;
            }
            let st = child
                .wait()
                .map_err(|e| format!("debconf-set-selections: {e}"))?;
            if !st.success() {
                return Err(format!("debconf-set-selections failed ({st})"));
            }
        }
        self.apt_install(&["tshark"])?;
        if on_path("tshark") {
            Ok(())
        } else {
            Err("tshark still missing after apt-get install".into())
        }
    }

    /// `build/venv` with the Python peers; pip is skipped when the marker matches and imports work.
    fn python_venv(&mut self) -> Res {
        let venv = self.root.join("build").join("venv");
        let py = venv_python(&self.root);
        let marker = venv.join(VENV_MARKER);
        if py.exists()
            && fs::read_to_string(&marker).is_ok_and(|m| m == PY_REQUIREMENTS)
            && output(Command::new(&py).args(["-c", PY_IMPORT_CHECK])).is_some()
        {
            println!("setup: python venv build/venv up to date");
            return Ok(());
        }
        if !py.exists() {
            let venv_ok = on_path("python3")
                && output(Command::new("python3").args(["-c", "import venv, ensurepip"])).is_some();
            if !venv_ok {
                self.apt_install(&["python3", "python3-venv", "python3-pip"])?;
            }
            if run(Command::new("python3").arg("-m").arg("venv").arg(&venv)).is_err() {
                // Debian splits ensurepip into python3-venv; a half-made venv is removed first.
                let _ = fs::remove_dir_all(&venv);
                self.apt_install(&["python3-venv"])?;
                run(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
            }
        }
        run(Command::new(&py)
            .args(["-m", "pip", "install", "-q", "--disable-pip-version-check"])
            .args(PY_REQUIREMENTS.lines()))?;
        run(Command::new(&py).args(["-c", PY_IMPORT_CHECK]))?;
        fs::write(&marker, PY_REQUIREMENTS)
            .map_err(|e| format!("cannot write {}: {e}", marker.display()))?;
        Ok(())
    }

    /// The wasm target and the rustfmt / clippy components, through rustup.
    fn rust_tools(&mut self) -> Res {
        if !on_path("rustup") {
            println!("setup: rustup not found; assuming the toolchain has {WASM_TARGET}, rustfmt, clippy");
            return Ok(());
        }
        let targets = output(Command::new("rustup").args(["target", "list", "--installed"]))
            .unwrap_or_default();
        if targets.lines().any(|l| l.trim() == WASM_TARGET) {
            println!("setup: rust target {WASM_TARGET} present");
        } else {
            run(Command::new("rustup").args(["target", "add", WASM_TARGET]))?;
        }
        let comps = output(Command::new("rustup").args(["component", "list", "--installed"]))
            .unwrap_or_default();
        let missing: Vec<&str> = ["rustfmt", "clippy"]
            .into_iter()
            .filter(|c| !comps.lines().any(|l| l.starts_with(&format!("{c}-"))))
            .collect();
        if missing.is_empty() {
            println!("setup: rustfmt and clippy present");
            Ok(())
        } else {
            run(Command::new("rustup")
                .args(["component", "add"])
                .args(&missing))
        }
    }
}

impl Setup {
    /// `wasm-bindgen` and `wasm-bindgen-test-runner` of exactly the wasm-bindgen version in
    /// `Cargo.lock` (the CLI refuses modules of another version): `cargo install`, about 3 minutes
    /// when missing.
    fn wasm_bindgen_cli(&mut self) -> Res {
        let lock = fs::read_to_string(self.root.join("Cargo.lock"))
            .map_err(|e| format!("cannot read Cargo.lock: {e}"))?;
        let Some(version) = locked_version(&lock, "wasm-bindgen") else {
            println!("setup: no wasm-bindgen in Cargo.lock; wasm-bindgen-cli not needed");
            return Ok(());
        };
        let have = output(Command::new("wasm-bindgen").arg("--version")).unwrap_or_default();
        if have.split_whitespace().nth(1) == Some(version.as_str())
            && on_path("wasm-bindgen-test-runner")
        {
            println!("setup: wasm-bindgen-cli {version} present");
            return Ok(());
        }
        run(Command::new(cargo()).args(["install", "wasm-bindgen-cli", "--version", &version]))
    }
}

/// The version of package `name` in a `Cargo.lock` (the first entry of that name).
fn locked_version(lock: &str, name: &str) -> Option<String> {
    let mut lines = lock.lines();
    while let Some(l) = lines.next() {
        if l.trim() == format!("name = \"{name}\"") {
            let v = lines.next()?.trim().strip_prefix("version = \"")?;
            return Some(v.trim_end_matches('"').to_string());
        }
    }
    None
}

// ------------------------------------------------------------------------------------------------
// ci

/// One CI step: a name and what it does.
struct Step {
    /// Shown in the header and in the failure message.
    name: &'static str,
    /// The work.
    run: Box<dyn Fn() -> Res>,
}

/// A step that runs `cargo ARGS`.
fn cargo_step(name: &'static str, args: &'static [&'static str]) -> Step {
    Step {
        name,
        run: Box::new(move || run(Command::new(cargo()).args(args))),
    }
}

/// `cargo xtask ci`: every step in order, stopping at the first failure.
fn ci(root: &Path, args: &[String]) -> ExitCode {
    let skip_setup = args.iter().any(|a| a == "--skip-setup");
    let mut steps: Vec<Step> = Vec::new();
    if !skip_setup {
        let r = root.to_path_buf();
        steps.push(Step {
            name: "setup",
            run: Box::new(move || Setup::new(&r).run()),
        });
    }
    steps.push(cargo_step("fmt", &["fmt", "--all", "--", "--check"]));
    steps.push(cargo_step(
        "clippy",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    ));
    steps.push(cargo_step(
        "wasm build",
        &[
            "build",
            "-p",
            "tase2-core",
            "-p",
            "tase2-wasm",
            "--target",
            WASM_TARGET,
        ],
    ));
    steps.push(cargo_step("test", &["test", "--workspace"]));
    steps.push(Step {
        name: "wasm test (node)",
        run: Box::new(|| {
            run(Command::new(cargo())
                .args([
                    "test",
                    "-p",
                    "tase2-wasm",
                    "--target",
                    WASM_TARGET,
                    "--test",
                    "wasm",
                ])
                .env(
                    "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
                    "wasm-bindgen-test-runner",
                ))
        }),
    });
    let r = root.to_path_buf();
    steps.push(Step {
        name: "interop",
        run: Box::new(move || interop(&r, &[])),
    });

    let total = steps.len();
    let (mut passed, mut failed) = (0usize, 0usize);
    for (i, step) in steps.iter().enumerate() {
        println!("\n==== [{}/{}] {} ====", i + 1, total, step.name);
        let t = Instant::now();
        match (step.run)() {
            Ok(()) => {
                passed += 1;
                println!(
                    "==== {}: ok ({:.1} s) ====",
                    step.name,
                    t.elapsed().as_secs_f64()
                );
            }
            Err(e) => {
                failed += 1;
                println!("==== {}: FAILED: {e} ====", step.name);
                println!("\nci failed at step `{}`", step.name);
                println!("{passed} passed, {failed} failed");
                return ExitCode::FAILURE;
            }
        }
    }
    println!("\nci: all {total} steps passed");
    println!("{passed} passed, {failed} failed");
    ExitCode::SUCCESS
}

// ------------------------------------------------------------------------------------------------
// interop

/// The cargo target directory (from `cargo metadata`, so `CARGO_TARGET_DIR` and config apply).
fn target_dir(root: &Path) -> PathBuf {
    output(Command::new(cargo()).args([
        "metadata",
        "--format-version",
        "1",
        "--no-deps",
        "--offline",
    ]))
    .and_then(|json| json_string_field(&json, "target_directory"))
    .map(PathBuf::from)
    .unwrap_or_else(|| root.join("target"))
}

/// The value of the first `"key":"value"` string field in a JSON text (no escapes but `\\` and `\"`).
fn json_string_field(json: &str, key: &str) -> Option<String> {
    let pat = format!("\"{key}\":\"");
    let start = json.find(&pat)? + pat.len();
    let mut out = String::new();
    let mut chars = json[start..].chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out),
            '\\' => out.push(chars.next()?),
            c => out.push(c),
        }
    }
    None
}

/// A TCP port on 127.0.0.1 that is free right now.
fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// `cargo xtask interop [--debug] [FILTER]`.
/// A positive integer option value.
fn positive<T: std::str::FromStr + PartialOrd + Default>(v: &str, flag: &str) -> Result<T, String> {
    v.parse()
        .ok()
        .filter(|n| *n > T::default())
        .ok_or_else(|| format!("{flag} needs a positive integer"))
}

fn interop(root: &Path, args: &[String]) -> Res {
    let mut debug = false;
    let mut prebuilt: Option<PathBuf> = None;
    let mut filter: Option<String> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--debug" => debug = true,
            "--bin" => {
                let p = it.next().ok_or("--bin needs a path")?;
                prebuilt = Some(PathBuf::from(p));
            }
            s if s.starts_with("--") => return Err(format!("unknown interop option {s}")),
            s => filter = Some(s.to_string()),
        }
    }
    let py = venv_python(root);
    if !py.exists() {
        return Err("build/venv missing: run `cargo xtask setup`".into());
    }

    let bin = match prebuilt {
        Some(p) => p,
        None => {
            let mut build = Command::new(cargo());
            build.args(["build", "-p", "tase2-cli"]);
            if !debug {
                build.arg("--release");
            }
            run(&mut build)?;
            target_dir(root)
                .join(if debug { "debug" } else { "release" })
                .join("tase2")
        }
    };
    if !bin.exists() {
        return Err(format!("tase2 binary not found at {}", bin.display()));
    }

    let dir = root.join("tests").join("interop");
    let mut scripts: Vec<PathBuf> = fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("test_") && n.ends_with(".py"))
        })
        .filter(|p| {
            filter
                .as_deref()
                .is_none_or(|f| p.to_string_lossy().contains(f))
        })
        .collect();
    scripts.sort();
    if scripts.is_empty() {
        return Err("no interop scripts matched".into());
    }

    let capture_dir = root.join("build").join("interop");
    let mut failures = Vec::new();
    for s in &scripts {
        let name = s
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        println!("\n---- interop: {name} ----");
        let port = free_port()?;
        let t = Instant::now();
        let r = run(Command::new(&py)
            .arg("-u")
            .arg(s)
            .arg("--tase2")
            .arg(&bin)
            .arg("--port")
            .arg(port.to_string())
            .arg("--capture-dir")
            .arg(&capture_dir));
        let secs = t.elapsed().as_secs_f64();
        match r {
            Ok(()) => println!("---- PASS {name} ({secs:.1} s) ----"),
            Err(_) => {
                println!("---- FAIL {name} ({secs:.1} s) ----");
                failures.push(name);
            }
        }
    }
    println!(
        "\ninterop: {} passed, {} failed",
        scripts.len() - failures.len(),
        failures.len()
    );
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("interop scripts failed: {}", failures.join(", ")))
    }
}

// ------------------------------------------------------------------------------------------------
// bench

/// Options of `cargo xtask bench`.
struct BenchOpts {
    /// Requested read depth; clamped to what both servers negotiate.
    depth: u16,
    /// Measured seconds per load run.
    seconds: f64,
    /// Associations the load client runs in parallel, each with `depth` reads in flight.
    connections: u16,
    /// Load runs per server (alternating); the median of each is reported.
    rounds: usize,
    /// CPU placement of the server and the load client.
    pin: Pin,
    /// Skip the criterion benches.
    no_criterion: bool,
    /// Skip the load comparison.
    no_load: bool,
    /// Skip the report fan-out.
    no_fanout: bool,
    /// Simulated seconds of the fan-out's 10 % run.
    fanout_seconds: u32,
    /// Rounds over every point of the fan-out's saturating run.
    fanout_rounds: u32,
    /// Extra arguments for the criterion benches (after `--`).
    criterion_args: Vec<String>,
}

impl BenchOpts {
    /// Parses `[--depth N] [--seconds S] [--connections N] [--rounds N] [--pin MODE]
    /// [--no-criterion] [--no-load] [--no-fanout | --fanout-only] [--fanout-seconds S]
    /// [--fanout-rounds N] [-- ARGS...]`.
    fn parse(args: &[String]) -> Result<BenchOpts, String> {
        let mut o = BenchOpts {
            depth: 10,
            seconds: 10.0,
            connections: 1,
            rounds: 1,
            pin: Pin::None,
            no_criterion: false,
            no_load: false,
            no_fanout: false,
            fanout_seconds: 60,
            fanout_rounds: 10,
            criterion_args: Vec::new(),
        };
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut value = |what: &str| {
                it.next()
                    .cloned()
                    .ok_or_else(|| format!("{what} needs a value"))
            };
            match a.as_str() {
                "--depth" => {
                    o.depth = value("--depth")?
                        .parse()
                        .ok()
                        .filter(|d| *d > 0)
                        .ok_or("--depth needs a positive integer")?
                }
                "--seconds" => {
                    o.seconds = value("--seconds")?
                        .parse()
                        .ok()
                        .filter(|s: &f64| *s > 0.0 && s.is_finite())
                        .ok_or("--seconds needs a positive number")?
                }
                "--connections" => {
                    o.connections = positive(&value("--connections")?, "--connections")?
                }
                "--rounds" => o.rounds = positive(&value("--rounds")?, "--rounds")?,
                "--pin" => {
                    o.pin = match value("--pin")?.as_str() {
                        "none" => Pin::None,
                        "same" => Pin::Same,
                        "split" => Pin::Split,
                        other => {
                            return Err(format!("--pin takes none, same or split, not {other}"))
                        }
                    }
                }
                "--no-criterion" => o.no_criterion = true,
                "--no-load" => o.no_load = true,
                "--no-fanout" => o.no_fanout = true,
                "--fanout-only" => {
                    o.no_criterion = true;
                    o.no_load = true;
                    o.no_fanout = false;
                }
                "--fanout-seconds" => {
                    o.fanout_seconds = positive(&value("--fanout-seconds")?, "--fanout-seconds")?
                }
                "--fanout-rounds" => {
                    o.fanout_rounds = positive(&value("--fanout-rounds")?, "--fanout-rounds")?
                }
                "--" => {
                    o.criterion_args = it.cloned().collect();
                    break;
                }
                other => return Err(format!("unknown bench option {other}")),
            }
        }
        let given = |flag: &str| args.iter().take_while(|a| *a != "--").any(|a| a == flag);
        if given("--no-fanout") && given("--fanout-only") {
            return Err("--no-fanout and --fanout-only exclude each other".into());
        }
        Ok(o)
    }
}

/// Where the servers and the load client may run (through `taskset`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pin {
    /// Wherever the scheduler puts them (the default).
    None,
    /// Server and client share CPU 0: no cross-CPU wake-ups, so the figure follows CPU cost.
    Same,
    /// Server on CPU 1, client on CPU 0: every round trip crosses CPUs.
    Split,
}

impl Pin {
    /// The CPU list for the server, the one for the client; `None` when not pinned.
    fn cpus(self) -> Option<(&'static str, &'static str)> {
        match self {
            Pin::None => None,
            Pin::Same => Some(("0", "0")),
            Pin::Split => Some(("1", "0")),
        }
    }

    /// A command running `program`, under `taskset -c CPUS` when pinned.
    fn command(cpus: Option<&str>, program: &Path) -> Command {
        match cpus {
            Some(c) => {
                let mut cmd = Command::new("taskset");
                cmd.arg("-c").arg(c).arg(program);
                cmd
            }
            None => Command::new(program),
        }
    }

    /// Its name in reports.
    fn name(self) -> &'static str {
        match self {
            Pin::None => "not pinned",
            Pin::Same => "server and client pinned to CPU 0",
            Pin::Split => "server pinned to CPU 1, client to CPU 0",
        }
    }
}

/// CPU time (user + system, all threads) a process has used so far; `None` if unreadable.
fn process_cpu(pid: u32) -> Option<std::time::Duration> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    let hz: u64 = output(Command::new("getconf").arg("CLK_TCK"))
        .and_then(|s| s.trim().parse().ok())
        .filter(|h| *h > 0)
        .unwrap_or(100);
    Some(std::time::Duration::from_micros(ticks * 1_000_000 / hz))
}

/// The variable our server is read through: a FLOAT32 of the default model.
const BENCH_OURS_ITEM: &str = "Setpoint_Real";

/// The same shape in libiec61850's IedServer model (a FLOAT32 under `GGIO1.AnIn1.mag.f`).
const BENCH_IED_ITEM: &str = "GGIO1$MX$AnIn1$mag$f";

/// The domain of both variables.
const BENCH_DOMAIN: &str = "ICC1";

/// The target ratio of the issue: our server at least this many times libiec61850's reads/s.
const BENCH_TARGET_RATIO: f64 = 3.0;

/// `cargo xtask bench`: the criterion benches of the core (when there are any), then the same Rust
/// load client (`tase2-load`, pipelined reads) against our `tase2 serve` and against libiec61850's
/// IedServer, one after the other; prints reads/s of each and the ratio and writes them to
/// `build/bench/results.txt`.
fn bench(root: &Path, args: &[String]) -> Res {
    let opts = BenchOpts::parse(args)?;
    let started = std::time::SystemTime::now();
    let target = target_dir(root);
    let mut report = String::new();

    if !opts.no_criterion {
        let benches = core_bench_names(root);
        if benches.is_empty() {
            println!("bench: tase2-core has no benches yet; skipping criterion");
        } else {
            let mut cmd = Command::new(cargo());
            cmd.args(["bench", "-p", "tase2-core"]);
            // Name each bench target: the lib's libtest harness would reject criterion's options.
            for b in &benches {
                cmd.args(["--bench", b]);
            }
            cmd.args(["--", "--warm-up-time", "1", "--measurement-time", "3"])
                .args(&opts.criterion_args);
            run(&mut cmd)?;
            let figures = criterion_figures(&target.join("criterion"), started);
            if !figures.is_empty() {
                report.push_str("criterion (tase2-core, mean time per iteration):\n");
                let width = figures.iter().map(|(id, _)| id.len()).max().unwrap_or(0);
                for (id, ns) in &figures {
                    let _ = writeln!(report, "  {id:<width$}  {:>12}", human_ns(*ns));
                }
                report.push('\n');
            }
        }
    }

    if !opts.no_load {
        report.push_str(&load_comparison(root, &target, &opts)?);
    }

    if !opts.no_fanout {
        if !report.is_empty() {
            report.push('\n');
        }
        report.push_str(&report_fanout(&opts)?);
    }

    let dir = root.join("build").join("bench");
    fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let file = dir.join("results.txt");
    fs::write(&file, &report).map_err(|e| format!("{}: {e}", file.display()))?;
    println!("\n{report}(written to {})", file.display());
    Ok(())
}

/// The bench targets of `core/`: `[[bench]]` names in its manifest and `core/benches/*.rs` stems.
fn core_bench_names(root: &Path) -> Vec<String> {
    let core = root.join("core");
    let mut names: Vec<String> = Vec::new();
    if let Ok(manifest) = fs::read_to_string(core.join("Cargo.toml")) {
        let mut in_bench = false;
        for line in manifest.lines().map(str::trim) {
            if line.starts_with('[') {
                in_bench = line == "[[bench]]";
            } else if in_bench {
                if let Some(v) = line
                    .strip_prefix("name")
                    .map(str::trim_start)
                    .and_then(|l| l.strip_prefix('='))
                {
                    names.push(v.trim().trim_matches('"').to_string());
                }
            }
        }
    }
    if let Ok(dir) = fs::read_dir(core.join("benches")) {
        for p in dir.filter_map(|e| e.ok().map(|e| e.path())) {
            if p.extension().is_some_and(|e| e == "rs") {
                if let Some(stem) = p.file_stem().and_then(|s| s.to_str()) {
                    names.push(stem.to_string());
                }
            }
        }
    }
    names.sort();
    names.dedup();
    names
}

/// `(benchmark id, mean ns)` of every criterion result under `dir` written since `since`.
fn criterion_figures(dir: &Path, since: std::time::SystemTime) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for p in entries.filter_map(|e| e.ok().map(|e| e.path())) {
            if !p.is_dir() {
                continue;
            }
            if p.file_name().is_some_and(|n| n == "new") {
                let est = p.join("estimates.json");
                let fresh = fs::metadata(&est)
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| t >= since);
                let id = fs::read_to_string(p.join("benchmark.json"))
                    .ok()
                    .and_then(|j| json_string_field(&j, "full_id"));
                let mean = fs::read_to_string(&est)
                    .ok()
                    .and_then(|j| json_mean_estimate(&j));
                if let (true, Some(id), Some(mean)) = (fresh, id, mean) {
                    out.push((id, mean));
                }
            } else if p.file_name().is_some_and(|n| n != "report") {
                stack.push(p);
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// `mean.point_estimate` of a criterion `estimates.json`.
fn json_mean_estimate(json: &str) -> Option<f64> {
    let mean = &json[json.find("\"mean\"")?..];
    let pat = "\"point_estimate\":";
    let rest = mean[mean.find(pat)? + pat.len()..].trim_start();
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E')))
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// A duration in nanoseconds with a readable unit.
fn human_ns(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.3} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.3} µs", ns / 1e3)
    } else {
        format!("{ns:.1} ns")
    }
}

/// A server process under test; killed on drop if still running.
struct BenchServer {
    /// What it is, for messages.
    name: &'static str,
    /// The process.
    child: std::process::Child,
    /// Its stdin, held open (libiec61850's wrapper stops when it closes).
    stdin: Option<std::process::ChildStdin>,
    /// The port it listens on.
    port: u16,
}

impl BenchServer {
    /// Its process id (`taskset` execs the server, so it is the server's own).
    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Spawns `cmd` (stdout piped) and waits until a stdout line contains `ready`.
    fn start(
        name: &'static str,
        cmd: &mut Command,
        port: u16,
        ready: &'static str,
    ) -> Result<BenchServer, String> {
        use std::io::BufRead;
        use std::process::Stdio;
        show(cmd);
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {name}: {e}"))?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().ok_or("no stdout pipe")?;
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        // Keeps draining stdout after the ready line so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = tx.send(line);
            }
        });
        let server = BenchServer {
            name,
            child,
            stdin,
            port,
        };
        let deadline = Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) if line.contains(ready) => {
                    println!("bench: {name} ready on port {port}");
                    return Ok(server);
                }
                Ok(_) => {}
                Err(_) => return Err(format!("{name} did not print `{ready}` in time")),
            }
        }
    }

    /// Stops the server: closes its stdin, sends SIGINT, waits up to 5 s, then kills it.
    fn stop(mut self) {
        self.stdin = None;
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + std::time::Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                println!("bench: {} stopped", self.name);
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        println!("bench: {} did not stop in 5 s; killing it", self.name);
    }
}

impl Drop for BenchServer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// The two servers of the comparison.
#[derive(Clone, Copy)]
enum Peer {
    /// `tase2 serve`.
    Ours,
    /// libiec61850's IedServer through `tests/interop/iedserver.py`.
    Libiec61850,
}

impl Peer {
    /// The item read from it (domain [`BENCH_DOMAIN`]).
    fn item(self) -> &'static str {
        match self {
            Peer::Ours => BENCH_OURS_ITEM,
            Peer::Libiec61850 => BENCH_IED_ITEM,
        }
    }

    /// Starts it on a free port, on `cpus` when given.
    fn start(self, root: &Path, tase2: &Path, cpus: Option<&str>) -> Result<BenchServer, String> {
        let port = free_port()?;
        match self {
            Peer::Ours => BenchServer::start(
                "tase2 serve",
                Pin::command(cpus, tase2)
                    .arg("serve")
                    .arg("--listen")
                    .arg(format!("127.0.0.1:{port}")),
                port,
                "tase2 serving",
            ),
            Peer::Libiec61850 => BenchServer::start(
                "libiec61850 IedServer",
                Pin::command(cpus, &venv_python(root))
                    .arg("-u")
                    .arg(root.join("tests").join("interop").join("iedserver.py"))
                    .arg(port.to_string()),
                port,
                "READY",
            ),
        }
    }
}

/// Runs `tase2-load ARGS` against `127.0.0.1:port` (on `cpus` when given) and returns its stdout.
fn load_client(
    load: &Path,
    cpus: Option<&str>,
    port: u16,
    item: &str,
    extra: &[String],
) -> Result<String, String> {
    let mut cmd = Pin::command(cpus, load);
    cmd.arg(format!("127.0.0.1:{port}"))
        .args(["--domain", BENCH_DOMAIN, "--item", item])
        .args(extra);
    show(&cmd);
    let out = cmd
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", load.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    print!("{stdout}");
    if out.status.success() {
        Ok(stdout)
    } else {
        Err(format!(
            "tase2-load failed ({}): {}",
            out.status,
            stdout.trim()
        ))
    }
}

/// The number after `key` in a `key value key value` line of `text`.
fn field(text: &str, key: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        let mut words = l.split_whitespace();
        while let Some(w) = words.next() {
            if w == key {
                return words.next()?.parse().ok();
            }
        }
        None
    })
}

/// The median of some figures (the mean of the middle two for an even count).
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => v[n / 2],
        _ => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// The load comparison part of `cargo xtask bench`; returns the report text.
fn load_comparison(root: &Path, target: &Path, opts: &BenchOpts) -> Result<String, String> {
    let loadavg = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    if !venv_python(root).exists() {
        println!("bench: build/venv missing; running setup first");
        Setup::new(root).run()?;
    }
    run(Command::new(cargo()).args([
        "build",
        "--release",
        "-p",
        "tase2-cli",
        "-p",
        "tase2-tests",
        "--bins",
    ]))?;
    let cpus = opts.pin.cpus();
    if cpus.is_some() {
        if !on_path("taskset") {
            return Err("--pin needs taskset (Debian util-linux)".into());
        }
        if opts.pin == Pin::Split && std::thread::available_parallelism().map_or(1, |n| n.get()) < 2
        {
            return Err("--pin split needs two CPUs".into());
        }
    }
    let (server_cpus, client_cpus) = (cpus.map(|c| c.0), cpus.map(|c| c.1));
    let release = target.join("release");
    let (tase2, load) = (release.join("tase2"), release.join("tase2-load"));
    for b in [&tase2, &load] {
        if !b.exists() {
            return Err(format!("{} not built", b.display()));
        }
    }

    // One depth for both: the smallest of the request and what each server negotiates.
    let mut depth = opts.depth;
    for peer in [Peer::Ours, Peer::Libiec61850] {
        let server = peer.start(root, &tase2, server_cpus)?;
        let probe = load_client(
            &load,
            client_cpus,
            server.port,
            peer.item(),
            &["--probe".into(), "--depth".into(), opts.depth.to_string()],
        )?;
        server.stop();
        let allowed = field(&probe, "max_serv_outstanding_calling")
            .ok_or("the probe printed no max_serv_outstanding_calling")?;
        depth = depth.min(allowed as u16);
    }
    println!(
        "bench: depth {depth} for both servers (asked {})",
        opts.depth
    );

    let args = vec![
        "--depth".to_string(),
        depth.to_string(),
        "--seconds".to_string(),
        opts.seconds.to_string(),
        "--connections".to_string(),
        opts.connections.to_string(),
    ];
    // Per server: reads/s and server CPU microseconds per read, one entry a round.
    let (mut ours, mut theirs) = ((Vec::new(), Vec::new()), (Vec::new(), Vec::new()));
    for round in 1..=opts.rounds {
        println!("\nbench: round {round}/{}", opts.rounds);
        for peer in [Peer::Ours, Peer::Libiec61850] {
            let server = peer.start(root, &tase2, server_cpus)?;
            let cpu_before = process_cpu(server.pid());
            let r = load_client(&load, client_cpus, server.port, peer.item(), &args);
            let cpu_after = process_cpu(server.pid());
            server.stop();
            let r = r?;
            let rate = field(&r, "reads/s").ok_or("tase2-load printed no reads/s")?;
            let ok = field(&r, "ok").unwrap_or(0.0);
            let cpu_per_read = match (cpu_before, cpu_after) {
                (Some(a), Some(b)) if ok > 0.0 => (b - a).as_secs_f64() * 1e6 / ok,
                _ => f64::NAN,
            };
            let slot = match peer {
                Peer::Ours => &mut ours,
                Peer::Libiec61850 => &mut theirs,
            };
            slot.0.push(rate);
            slot.1.push(cpu_per_read);
        }
    }
    let (ours, ours_cpu) = (median(ours.0), median(ours.1));
    let (theirs, theirs_cpu) = (median(theirs.0), median(theirs.1));
    let ratio = if theirs > 0.0 { ours / theirs } else { 0.0 };
    let mut text = String::new();
    let _ = writeln!(
        text,
        "load (tase2-load, Read of one FLOAT32, {} association(s) x depth {depth}, {} s after 1 s \
         warm-up, median of {} run(s), {}):",
        opts.connections,
        opts.seconds,
        opts.rounds,
        opts.pin.name()
    );
    let _ = writeln!(
        text,
        "  ours        tase2 serve            {BENCH_DOMAIN}/{BENCH_OURS_ITEM:<24} {ours:>10.0} reads/s  \
         server CPU {ours_cpu:>6.2} µs/read"
    );
    let _ = writeln!(
        text,
        "  libiec61850 IedServer (1.6.1)      {BENCH_DOMAIN}/{BENCH_IED_ITEM:<24} {theirs:>10.0} reads/s  \
         server CPU {theirs_cpu:>6.2} µs/read"
    );
    let _ = writeln!(
        text,
        "  ratio ours/libiec61850 {ratio:.2} (target >= {BENCH_TARGET_RATIO}: {})",
        if ratio >= BENCH_TARGET_RATIO {
            "met"
        } else {
            "NOT met"
        }
    );
    let _ = writeln!(
        text,
        "  server CPU per read libiec61850/ours {:.2}",
        theirs_cpu / ours_cpu
    );
    let _ = writeln!(
        text,
        "  cpus {}, load average before: {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        loadavg
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    Ok(text)
}

/// The issue's fan-out target: point updates encoded per second per core.
const FANOUT_TARGET_PER_CORE: f64 = 2_000_000.0;

/// The fields of the `fanout NAME:` line of the fan-out bench's output.
fn fanout_line<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let prefix = format!("fanout {name}:");
    text.lines().find(|l| l.starts_with(&prefix))
}

/// A count with thousands separators.
fn thousands(v: f64) -> String {
    let digits = format!("{:.0}", v.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The report fan-out part of `cargo xtask bench` (`core/benches/report_fanout.rs` in its one-shot
/// mode); returns the report text.
fn report_fanout(opts: &BenchOpts) -> Result<String, String> {
    let loadavg = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let mut cmd = Command::new(cargo());
    cmd.args([
        "bench",
        "-p",
        "tase2-core",
        "--bench",
        "report_fanout",
        "--",
        "--fanout-report",
        "--seconds",
        &opts.fanout_seconds.to_string(),
        "--rounds",
        &opts.fanout_rounds.to_string(),
    ]);
    show(&cmd);
    let out = cmd
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo bench: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    print!("{stdout}");
    if !out.status.success() {
        return Err(format!("the report fan-out bench failed ({})", out.status));
    }
    let mut text = String::new();
    let _ = writeln!(
        text,
        "report fan-out (tase2-core, sans-IO, virtual clock; 20 ICC domains x 5,000 points, 20 \
         associations each with an RBE transfer set over its 5,000 points; server side timed: \
         update_many + report encoding + poll_transmit; every report decoded by its client):"
    );
    for (name, what) in [
        (
            "ten_percent",
            format!("10 % changing/s ({} simulated s)", opts.fanout_seconds),
        ),
        (
            "saturating",
            format!("saturating ({} rounds x 100,000)", opts.fanout_rounds),
        ),
    ] {
        let line = fanout_line(&stdout, name)
            .ok_or_else(|| format!("the fan-out bench printed no `fanout {name}:` line"))?;
        let get =
            |key: &str| field(line, key).ok_or_else(|| format!("`fanout {name}:` has no {key}"));
        let (updates, decoded) = (get("updates")?, get("decoded")?);
        if updates != decoded {
            return Err(format!(
                "fan-out {name}: {updates} updates but {decoded} point values decoded"
            ));
        }
        let per_cpu = get("updates_per_cpu_s")?;
        let _ = writeln!(
            text,
            "  {what:<36} {:>11} updates/s of server CPU ({:>11}/s wall), {:>6.1} ns CPU/update, \
             {:.1} octets/update; target >= {} per core: {}",
            thousands(per_cpu),
            thousands(get("updates_per_wall_s")?),
            get("cpu_ns_per_update")?,
            get("octets_per_update")?,
            thousands(FANOUT_TARGET_PER_CORE),
            if per_cpu >= FANOUT_TARGET_PER_CORE {
                "met"
            } else {
                "NOT met"
            }
        );
    }
    if let Some(l) = fanout_line(&stdout, "ten_percent_load") {
        let _ = writeln!(text, "  {}", l.trim_start_matches("fanout ").trim());
    }
    let _ = writeln!(
        text,
        "  cpus {}, load average before: {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        loadavg
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    Ok(text)
}

// ------------------------------------------------------------------------------------------------
// capture

/// `cargo xtask capture`: reruns the libiec61850 capture into `tests/data/libiec61850`.
fn capture(root: &Path) -> Res {
    let py = venv_python(root);
    if !py.exists() {
        return Err("build/venv missing: run `cargo xtask setup`".into());
    }
    run(Command::new(py)
        .arg(
            root.join("tests")
                .join("interop")
                .join("capture_libiec61850.py"),
        )
        .arg("--out")
        .arg(root.join("tests").join("data").join("libiec61850")))
}

// ------------------------------------------------------------------------------------------------
// fuzz

/// `cargo xtask fuzz [--seconds N] [TARGET...]`: every cargo-fuzz target (or the named ones) for N
/// seconds each, one after another (the machine has 2 cores). The corpus directory comes first so
/// libFuzzer writes new inputs there, not into the committed seeds.
fn fuzz(args: &[String]) -> Res {
    let mut seconds = 60u64;
    let mut targets: Vec<String> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--seconds" {
            seconds = it
                .next()
                .and_then(|v| v.parse().ok())
                .ok_or("--seconds takes a number")?;
        } else {
            targets.push(a.clone());
        }
    }
    // `$CARGO` is the stable cargo; `rustup run nightly` picks nightly's.
    let nightly = || {
        let mut c = Command::new("rustup");
        c.args(["run", "nightly", "cargo"]);
        c
    };
    if !nightly()
        .args(["fuzz", "--version"])
        .stdout(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
    {
        run(nightly().args(["install", "cargo-fuzz", "--locked"]))?;
    }
    if targets.is_empty() {
        let out = Command::new("rustup")
            .args(["run", "nightly", "cargo", "fuzz", "list"])
            .output()
            .map_err(|e| format!("cargo fuzz list: {e}"))?;
        targets = String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .map(String::from)
            .collect();
    }
    for t in &targets {
        let corpus = format!("fuzz/corpus/{t}");
        std::fs::create_dir_all(&corpus).map_err(|e| format!("{corpus}: {e}"))?;
        let mut cmd = nightly();
        cmd.args(["fuzz", "run", t, &corpus, &format!("fuzz/seeds/{t}")]);
        let regressions = format!("fuzz/regressions/{t}");
        if Path::new(&regressions).is_dir() {
            cmd.arg(&regressions);
        }
        cmd.arg("--").arg(format!("-max_total_time={seconds}"));
        println!("==== fuzz {t} ({seconds} s) ====");
        run(&mut cmd)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_locked_wasm_bindgen_version_is_found() {
        let lock = "[[package]]\nname = \"wasm-bindgen-test\"\nversion = \"0.3.80\"\n\n\
                    [[package]]\nname = \"wasm-bindgen\"\nversion = \"0.2.130\"\n";
        assert_eq!(
            super::locked_version(lock, "wasm-bindgen").as_deref(),
            Some("0.2.130")
        );
        assert_eq!(super::locked_version(lock, "serde"), None);
    }

    use super::*;

    #[test]
    fn json_field() {
        let j = r#"{"packages":[],"target_directory":"/a/b \"c\"","x":1}"#;
        assert_eq!(
            json_string_field(j, "target_directory").as_deref(),
            Some("/a/b \"c\"")
        );
        assert_eq!(json_string_field(j, "nope"), None);
    }

    #[test]
    fn bench_helpers() {
        let est = r#"{"mean":{"confidence_interval":{"lower_bound":1.0},"point_estimate":1234.5,"standard_error":2.0},"median":{"point_estimate":9.0}}"#;
        assert_eq!(json_mean_estimate(est), Some(1234.5));
        let out = "noise\nreads/s 41234 depth 5 ok 9 errors 0\n";
        assert_eq!(field(out, "reads/s"), Some(41234.0));
        assert_eq!(field(out, "depth"), Some(5.0));
        assert_eq!(field(out, "nope"), None);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(human_ns(1500.0), "1.500 µs");
    }

    #[test]
    fn bench_options() {
        let a: Vec<String> = ["--depth", "4", "--no-load", "--", "--quick"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let o = BenchOpts::parse(&a).unwrap();
        assert_eq!((o.depth, o.no_load, o.no_criterion), (4, true, false));
        assert_eq!(o.criterion_args, vec!["--quick".to_string()]);
        assert!(BenchOpts::parse(&["--depth".into(), "0".into()]).is_err());
        assert!(BenchOpts::parse(&["--bogus".into()]).is_err());
        let o = BenchOpts::parse(&[
            "--fanout-only".into(),
            "--fanout-seconds".into(),
            "5".into(),
        ])
        .unwrap();
        assert!(o.no_criterion && o.no_load && !o.no_fanout);
        assert_eq!((o.fanout_seconds, o.fanout_rounds), (5, 10));
        assert!(BenchOpts::parse(&["--no-fanout".into(), "--fanout-only".into()]).is_err());
        assert!(BenchOpts::parse(&["--fanout-rounds".into(), "0".into()]).is_err());
    }

    #[test]
    fn fanout_helpers() {
        let out = "fanout setup: x\nfanout ten_percent: updates 10 decoded 10 updates_per_cpu_s \
                   2500000 verdict met\nfanout saturating: updates 7\n";
        let l = fanout_line(out, "ten_percent").unwrap();
        assert_eq!(field(l, "updates_per_cpu_s"), Some(2_500_000.0));
        assert_eq!(
            field(fanout_line(out, "saturating").unwrap(), "updates"),
            Some(7.0)
        );
        assert_eq!(fanout_line(out, "nope"), None);
        assert_eq!(thousands(2_000_000.0), "2,000,000");
        assert_eq!(thousands(999.4), "999");
        assert_eq!(thousands(1000.0), "1,000");
    }

    #[test]
    fn requirements_are_pinned() {
        assert!(PY_REQUIREMENTS.lines().all(|l| l.contains("==")));
    }
}
