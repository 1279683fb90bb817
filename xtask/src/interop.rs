//! `cargo xtask interop`: the `tests/interop` scripts against the `tase2` binary.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::util::*;

/// The `tase2` binary: `prebuilt`, else built (release unless `debug`).
fn tase2_bin(root: &Path, debug: bool, prebuilt: Option<PathBuf>) -> Result<PathBuf, String> {
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
    Ok(bin)
}

/// `cargo xtask fixtures [--debug] [--bin PATH]`: `tests/interop/record_fixtures.py`, which
/// rewrites the recordings in `tests/data/recordings` (then `cargo test -p tase2-tests --test
/// replay_fixtures` checks them).
pub(crate) fn fixtures(root: &Path, args: &[String]) -> Res {
    let mut debug = false;
    let mut prebuilt: Option<PathBuf> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--debug" => debug = true,
            "--bin" => {
                let p = it.next().ok_or("--bin needs a path")?;
                prebuilt = Some(PathBuf::from(p));
            }
            s => return Err(format!("unknown fixtures option {s}")),
        }
    }
    let py = venv_python(root);
    if !py.exists() {
        return Err("build/venv missing: run `cargo xtask setup`".into());
    }
    let bin = tase2_bin(root, debug, prebuilt)?;
    let script = root
        .join("tests")
        .join("interop")
        .join("record_fixtures.py");
    let mut cmd = Command::new(&py);
    cmd.arg(&script)
        .arg("--tase2")
        .arg(&bin)
        .env("PYTHONDONTWRITEBYTECODE", "1");
    run(&mut cmd)
}

/// `cargo xtask interop [--debug] [FILTER]`.
pub(crate) fn interop(root: &Path, args: &[String]) -> Res {
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
    let bin = tase2_bin(root, debug, prebuilt)?;

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
