//! FreeTase2 project automation, run as `cargo xtask <command>` (alias in `.cargo/config.toml`).
//!
//! Commands:
//!
//! - `setup`: idempotent installer of everything the tests need on a fresh Debian machine (as
//!   root): tshark (apt), a Python venv at `build/venv` with the real peers (`pyiec61850-ng`,
//!   `open61850`, `iec61850`), the `wasm32-unknown-unknown` target, rustfmt and clippy.
//! - `ci`: setup, fmt check, clippy, the wasm build of the core, the workspace tests and the interop
//!   suite; stops at the first failing step and ends with a `N passed, N failed` line.
//! - `interop`: builds the `tase2` binary and runs every `tests/interop/test_*.py` against it.
//! - `bench`: `cargo bench -p tase2-core`.
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
  bench [ARGS...]       cargo bench -p tase2-core [ARGS...]
  capture               regenerate tests/data/libiec61850 from a real libiec61850 session
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
        "bench" => bench(rest),
        "capture" => capture(&root),
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
        &["build", "-p", "tase2-core", "--target", WASM_TARGET],
    ));
    steps.push(cargo_step("test", &["test", "--workspace"]));
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
                .map_or(true, |f| p.to_string_lossy().contains(f))
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
// bench, capture

/// `cargo xtask bench [ARGS...]`: for now `cargo bench -p tase2-core [ARGS...]`.
fn bench(args: &[String]) -> Res {
    run(Command::new(cargo())
        .args(["bench", "-p", "tase2-core"])
        .args(args))
}

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

#[cfg(test)]
mod tests {
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
    fn requirements_are_pinned() {
        assert!(PY_REQUIREMENTS.lines().all(|l| l.contains("==")));
    }
}
