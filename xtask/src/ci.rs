//! `cargo xtask ci`: setup, fmt, clippy, the wasm build, the tests and the interop suite.

use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::Instant;

use crate::interop::interop;
use crate::setup::Setup;
use crate::util::*;

pub(crate) struct Step {
    /// Shown in the header and in the failure message.
    name: &'static str,
    /// The work.
    run: Box<dyn Fn() -> Res>,
}

/// A step that runs `cargo ARGS`.
pub(crate) fn cargo_step(name: &'static str, args: &'static [&'static str]) -> Step {
    Step {
        name,
        run: Box::new(move || run(Command::new(cargo()).args(args))),
    }
}

/// `cargo xtask ci`: every step in order, stopping at the first failure.
pub(crate) fn ci(root: &Path, args: &[String]) -> ExitCode {
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
    // The browser package's configuration (`cargo xtask wasm-pkg`: no default features), so
    // code gated on them stays warning-free and its tests keep compiling.
    steps.push(cargo_step(
        "clippy (browser package features)",
        &[
            "clippy",
            "-p",
            "tase2-core",
            "-p",
            "tase2-wasm",
            "--no-default-features",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    ));
    steps.push(Step {
        name: "doc",
        run: Box::new(|| {
            run(Command::new(cargo())
                .args(["doc", "--workspace", "--no-deps"])
                .env("RUSTDOCFLAGS", "-D warnings"))
        }),
    });
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
        name: "wasm smoke (node, proxy)",
        // WasmSession in Node against a real `tase2 serve` through the web-demo proxy: discovery,
        // transfer set reports, select-before-operate, release.
        run: Box::new(move || {
            run(Command::new("bash")
                .arg(r.join("wasm/js/run-session-smoke.sh"))
                .arg("3"))
        }),
    });
    let r = root.to_path_buf();
    steps.push(Step {
        name: "browser (chromium)",
        // The viewer in Debian's chromium through our web demo against `tase2 serve`: associate,
        // typed points, live values, quality colours, SBO with CheckBackID, tags, information
        // messages, reassociation after a server restart; screenshots in build/viewer/.
        run: Box::new(move || {
            run(Command::new("bash").arg(r.join("web-demo/tests/browser/run.sh")))
        }),
    });
    let r = root.to_path_buf();
    steps.push(Step {
        name: "browser via websockify",
        // The same page and checks through Debian's websockify, the reference proxy.
        run: Box::new(move || {
            run(Command::new("bash")
                .arg(r.join("web-demo/tests/browser/run.sh"))
                .env("PROXY", "websockify"))
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
