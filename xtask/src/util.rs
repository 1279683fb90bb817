//! Helpers shared by the commands: running programs, finding paths and ports, parsing options.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The wasm target the core must build for.
pub(crate) const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// Result of a step: `Err` carries a one-line reason.
pub(crate) type Res = Result<(), String>;

/// The workspace root: the parent of this crate's manifest directory.
pub(crate) fn repo_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(Path::to_path_buf).unwrap_or(manifest)
}

/// The `cargo` that runs us (falls back to `cargo` on `PATH`).
pub(crate) fn cargo() -> String {
    env::var("CARGO").unwrap_or_else(|_| "cargo".to_string())
}

/// Prints a command line the way a shell user would type it.
pub(crate) fn show(cmd: &Command) {
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
pub(crate) fn run(cmd: &mut Command) -> Res {
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
pub(crate) fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// True if `prog` is found on `PATH` as an executable file.
pub(crate) fn on_path(prog: &str) -> bool {
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
pub(crate) fn is_root() -> bool {
    output(Command::new("id").arg("-u")).is_some_and(|s| s.trim() == "0")
}

/// Path of the Python interpreter in the project venv.
pub(crate) fn venv_python(root: &Path) -> PathBuf {
    root.join("build").join("venv").join("bin").join("python")
}

/// The cargo target directory (from `cargo metadata`, so `CARGO_TARGET_DIR` and config apply).
pub(crate) fn target_dir(root: &Path) -> PathBuf {
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
pub(crate) fn json_string_field(json: &str, key: &str) -> Option<String> {
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
pub(crate) fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// A positive integer option value.
pub(crate) fn positive<T: std::str::FromStr + PartialOrd + Default>(
    v: &str,
    flag: &str,
) -> Result<T, String> {
    v.parse()
        .ok()
        .filter(|n| *n > T::default())
        .ok_or_else(|| format!("{flag} needs a positive integer"))
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
}
