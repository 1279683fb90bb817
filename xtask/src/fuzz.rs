//! `cargo xtask fuzz`: the cargo-fuzz targets one after another.

use std::path::Path;
use std::process::Command;

use crate::util::*;

/// `cargo xtask fuzz [--seconds N] [TARGET...]`: every cargo-fuzz target (or the named ones) for N
/// seconds each, one after another (the machine has 2 cores). The corpus directory comes first so
/// libFuzzer writes new inputs there, not into the committed seeds.
pub(crate) fn fuzz(args: &[String]) -> Res {
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
