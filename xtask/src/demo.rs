//! `cargo xtask demo`: the browser ICCP viewer against `tase2 serve`, from a fresh machine.
//!
//! Installs what it needs (the wasm target, wasm-bindgen-cli of the locked version, wasm-opt,
//! node and npm), builds the wasm package into `web-demo/www/pkg` (for size: profile
//! `wasm-release`, then `wasm-opt -Oz`), installs the page's npm packages from its lockfile, builds
//! `tase2` and `tase2-web-demo`, starts `tase2 serve` on the embedded default model and the web demo
//! (page, wasm package and WebSocket proxy on one port, allow-listing only that server), and prints
//! the URL. Ctrl-C stops both. A second run rebuilds nothing that did not change.
//!
//! `cargo xtask wasm-pkg [OUT_DIR]` is the package build alone.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::setup::Setup;
use crate::util::*;

/// The wasm-opt features the module uses (wasm-bindgen 0.2.130's output on Rust 1.95).
const WASM_OPT_FEATURES: &[&str] = &[
    "--enable-bulk-memory",
    "--enable-mutable-globals",
    "--enable-sign-ext",
    "--enable-nontrapping-float-to-int",
    "--enable-reference-types",
    "--enable-multivalue",
];

/// wasm-opt's options for the package. `--ignore-implicit-traps` lets the optimiser take loads
/// and divisions as never trapping: Rust's code never relies on such a trap (a division checks
/// its divisor first, float to int casts saturate, a panic aborts through an explicit
/// `unreachable`, which this leaves alone); 0.4 KB of the gzipped package.
const WASM_OPT_OPTIONS: &[&str] = &[
    "-Oz",
    "--converge",
    "--strip-debug",
    "--strip-producers",
    "--ignore-implicit-traps",
];

/// wasm-bindgen's options for the package: its name and producers sections are nothing a
/// browser uses.
const BINDGEN_OPTIONS: &[&str] = &[
    "--target",
    "web",
    "--remove-name-section",
    "--remove-producers-section",
];

/// The toolchain of the size-optimised package build (`-Zbuild-std`, `-Cpanic=immediate-abort`).
pub(crate) const NIGHTLY: &str = "nightly";

/// Whether rustup has the [`NIGHTLY`] toolchain with its `rust-src` component.
pub(crate) fn nightly_with_rust_src() -> bool {
    output(Command::new("rustup").args([
        "component",
        "list",
        "--installed",
        "--toolchain",
        NIGHTLY,
    ]))
    .is_some_and(|s| s.lines().any(|l| l.trim().starts_with("rust-src")))
}

/// Options of `cargo xtask demo`.
struct DemoArgs {
    /// Where the page and proxy listen.
    listen: String,
    /// Where `tase2 serve` listens.
    server: String,
    /// Where a second `tase2 serve` (the viewer's backup) listens; `None`: no backup.
    backup: Option<String>,
}

fn parse(args: &[String]) -> Result<DemoArgs, String> {
    let mut a = DemoArgs {
        listen: "127.0.0.1:8080".into(),
        server: "127.0.0.1:10102".into(),
        backup: Some("127.0.0.1:10103".into()),
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--listen" => a.listen = it.next().ok_or("--listen needs HOST:PORT")?.clone(),
            "--server" => a.server = it.next().ok_or("--server needs HOST:PORT")?.clone(),
            "--backup" => a.backup = Some(it.next().ok_or("--backup needs HOST:PORT")?.clone()),
            "--no-backup" => a.backup = None,
            other => {
                return Err(format!(
                    "unknown option {other} (demo [--listen A] [--server A] [--backup A | --no-backup])"
                ))
            }
        }
    }
    Ok(a)
}

fn modified(p: &Path) -> Option<SystemTime> {
    fs::metadata(p).and_then(|m| m.modified()).ok()
}

/// Builds the wasm package into `out`; skips wasm-bindgen and wasm-opt when the package is newer
/// than the module cargo produced (cargo itself rebuilds only what changed).
pub(crate) fn wasm_pkg(root: &Path, out: &Path) -> Res {
    let args = [
        "build",
        "--profile",
        "wasm-release",
        "-p",
        "tase2-wasm",
        "--target",
        WASM_TARGET,
        // The browser needs only WasmSession; the plain-MMS WasmClient (feature mms-client)
        // stays out of the package.
        "--no-default-features",
    ];
    if nightly_with_rust_src() {
        // The standard library rebuilt for size with panics that abort at once: no panic
        // message formatting, no source locations, std's own size-over-speed choices (about
        // 12 KB of the gzipped package). Nightly only; `cargo xtask setup` installs its rust-src.
        run(Command::new("rustup")
            .args(["run", NIGHTLY, "cargo"])
            .args(args)
            .args([
                "-Zbuild-std=std,panic_abort",
                "-Zbuild-std-features=optimize_for_size",
            ])
            // Cargo's own RUSTC (set when xtask runs under cargo) would be the stable compiler.
            .env_remove("RUSTC")
            .env(
                "RUSTFLAGS",
                "-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none",
            ))?;
    } else {
        println!(
            "demo: no {NIGHTLY} toolchain with rust-src (`cargo xtask setup` installs it); \
             building with the standard library as shipped, which is larger"
        );
        run(Command::new(cargo()).args(args))?;
    }
    let module = target_dir(root)
        .join(WASM_TARGET)
        .join("wasm-release")
        .join("tase2_wasm.wasm");
    let packaged = out.join("tase2_wasm_bg.wasm");
    // The package remembers the module it was made from (path and modification time), so a
    // package built another way (another profile, by hand) is never taken for up to date.
    let stamp = out.join(".built-from");
    // The options too, so a change of them rebuilds the package.
    let source = format!(
        "{} {:?} {WASM_OPT_OPTIONS:?} {BINDGEN_OPTIONS:?}",
        module.display(),
        modified(&module)
    );
    if packaged.exists() && fs::read_to_string(&stamp).is_ok_and(|s| s == source) {
        println!("demo: wasm package up to date ({})", out.display());
        return packaged_twins(out, &packaged);
    }
    // wasm-opt runs on cargo's module, before wasm-bindgen: binaryen 108 (Debian) rewrites
    // wasm-bindgen's externref table in a way Chromium refuses (`WebAssembly.Table.set(): Argument
    // 1 is invalid for table`), while wasm-bindgen handles an optimised module well.
    let input = if on_path("wasm-opt") {
        // Same file name in another folder: wasm-bindgen names its output after the input.
        let dir = module.with_file_name("opt");
        fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let opt = dir.join("tase2_wasm.wasm");
        run(Command::new("wasm-opt")
            .args(WASM_OPT_OPTIONS)
            .args(WASM_OPT_FEATURES)
            .arg("-o")
            .arg(&opt)
            .arg(&module))?;
        opt
    } else {
        println!("demo: wasm-opt not found (Debian binaryen); the package is not size-optimised");
        module.clone()
    };
    run(Command::new("wasm-bindgen")
        .args(BINDGEN_OPTIONS)
        .arg("--out-dir")
        .arg(out)
        .arg(&input))?;
    fs::write(&stamp, source).map_err(|e| format!("cannot write {}: {e}", stamp.display()))?;
    packaged_twins(out, &packaged)
}

/// The gzip twins of a package in `out` (made only where missing or stale), then its size.
fn packaged_twins(out: &Path, packaged: &Path) -> Res {
    gzip_twins(&[packaged.to_path_buf(), out.join("tase2_wasm.js")])?;
    report_size(packaged)
}

/// The page's generated files that `tase2-web-demo` sends gzip-coded: the wasm package's module
/// and glue, and the chart library (its minified build) from `node_modules`.
pub(crate) fn page_twins(www: &Path) -> Res {
    let uplot = www.join("node_modules").join("uplot").join("dist");
    gzip_twins(&[
        www.join("pkg").join("tase2_wasm_bg.wasm"),
        www.join("pkg").join("tase2_wasm.js"),
        uplot.join("uPlot.iife.min.js"),
        uplot.join("uPlot.min.css"),
    ])
}

/// Writes `NAME.gz` (`gzip -9`, no name or time stamp) beside each file that exists and has no
/// twin as new as itself. `tase2-web-demo` serves a twin only when it is not older than its file,
/// so a file rebuilt without this step is served as it is, never from a stale twin.
fn gzip_twins(files: &[PathBuf]) -> Res {
    for f in files {
        let Some(made) = modified(f) else { continue };
        let mut twin = f.clone().into_os_string();
        twin.push(".gz");
        let twin = PathBuf::from(twin);
        if modified(&twin).is_some_and(|t| t >= made) {
            continue;
        }
        let gz = Command::new("gzip")
            .args(["-9", "-n", "-c"])
            .arg(f)
            .output()
            .map_err(|e| format!("cannot run gzip (Debian's gzip): {e}"))?;
        if !gz.status.success() {
            return Err(format!("gzip -9 {} failed ({})", f.display(), gz.status));
        }
        fs::write(&twin, gz.stdout).map_err(|e| format!("cannot write {}: {e}", twin.display()))?;
    }
    Ok(())
}

fn report_size(wasm: &Path) -> Res {
    let raw = fs::read(wasm).map_err(|e| format!("cannot read {}: {e}", wasm.display()))?;
    let gz = output(
        Command::new("sh")
            .arg("-c")
            .arg(format!("gzip -9 < '{}' | wc -c", wasm.display())),
    )
    .and_then(|s| s.trim().parse::<usize>().ok());
    match gz {
        Some(gz) => println!(
            "demo: wasm package {} octets, {gz} octets gzip -9",
            raw.len()
        ),
        None => println!("demo: wasm package {} octets", raw.len()),
    }
    Ok(())
}

/// `npm ci` in `dir` unless its `node_modules` is newer than its lockfile.
pub(crate) fn npm_ci(dir: &Path) -> Res {
    let stamp = dir.join("node_modules").join(".package-lock.json");
    if let (Some(lock), Some(done)) = (modified(&dir.join("package-lock.json")), modified(&stamp)) {
        if done >= lock {
            println!("demo: npm packages of {} up to date", dir.display());
            return Ok(());
        }
    }
    run(Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(dir))
}

fn wait_listening(addr: &str, child: &mut Child, what: &str) -> Res {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(addr).is_ok() {
            return Ok(());
        }
        if let Ok(Some(st)) = child.try_wait() {
            return Err(format!("{what} exited before listening on {addr} ({st})"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!("{what} does not listen on {addr} after 20 s"))
}

/// `cargo xtask demo [--listen HOST:PORT] [--server HOST:PORT] [--backup HOST:PORT | --no-backup]`.
pub(crate) fn demo(root: &Path, args: &[String]) -> Res {
    let a = parse(args)?;
    Setup::new(root).for_demo()?;
    let www = root.join("web-demo").join("www");
    wasm_pkg(root, &www.join("pkg"))?;
    npm_ci(&www)?;
    page_twins(&www)?;
    run(Command::new(cargo()).args([
        "build",
        "--release",
        "-p",
        "tase2-cli",
        "-p",
        "tase2-web-demo",
    ]))?;
    let bin = |name: &str| -> PathBuf { target_dir(root).join("release").join(name) };

    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    // The terminal's Ctrl-C reaches the children too (same process group); this also covers a
    // SIGTERM sent to us alone.
    ctrlc::set_handler(move || s.store(true, Ordering::SeqCst))
        .map_err(|e| format!("cannot handle Ctrl-C: {e}"))?;

    let mut children: Vec<(&str, Child)> = Vec::new();
    let result = (|| {
        let servers = std::iter::once(("tase2 serve", &a.server))
            .chain(a.backup.iter().map(|b| ("tase2 serve (backup)", b)));
        for (name, addr) in servers {
            let mut serve = Command::new(bin("tase2"));
            serve.args(["serve", "--listen", addr]);
            show(&serve);
            let child = serve
                .spawn()
                .map_err(|e| format!("cannot start tase2: {e}"))?;
            children.push((name, child));
            let last = children.len() - 1;
            wait_listening(addr, &mut children[last].1, name)?;
        }
        let mut web = Command::new(bin("tase2-web-demo"));
        web.args(["--listen", &a.listen, "--allow", &a.server]);
        if let Some(b) = &a.backup {
            web.args(["--allow", b]);
        }
        web.arg("--static").arg(&www);
        show(&web);
        children.push((
            "tase2-web-demo",
            web.spawn()
                .map_err(|e| format!("cannot start tase2-web-demo: {e}"))?,
        ));
        let last = children.len() - 1;
        wait_listening(&a.listen, &mut children[last].1, "tase2-web-demo")?;
        println!();
        match &a.backup {
            Some(b) => {
                println!("  FreeTase2 viewer:  http://{}/?backup={b}", a.listen);
                println!(
                    "  (tase2 serve on {} with a backup on {b}, default model; `kill {}` stops the \
                     primary and the viewer fails over; Ctrl-C stops everything)",
                    a.server,
                    children[0].1.id()
                );
            }
            None => {
                println!("  FreeTase2 viewer:  http://{}/", a.listen);
                println!(
                    "  (tase2 serve on {}, default model; Ctrl-C stops both)",
                    a.server
                );
            }
        }
        println!();
        // A killed primary is the failover demonstration, not a fault; the rest must run.
        let mut primary_gone = false;
        while !stop.load(Ordering::SeqCst) {
            for (i, (name, c)) in children.iter_mut().enumerate() {
                if let Ok(Some(st)) = c.try_wait() {
                    if i == 0 && a.backup.is_some() {
                        if !primary_gone {
                            println!(
                                "demo: the primary tase2 serve exited ({st}); the backup serves on"
                            );
                            primary_gone = true;
                        }
                        continue;
                    }
                    return Err(format!("{name} exited ({st})"));
                }
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        println!("demo: stopping");
        Ok(())
    })();
    for (_, c) in children.iter_mut() {
        let _ = c.kill();
        let _ = c.wait();
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_options_default_and_parse() {
        let a = parse(&[]).unwrap();
        assert_eq!(
            (a.listen.as_str(), a.server.as_str()),
            ("127.0.0.1:8080", "127.0.0.1:10102")
        );
        let a = parse(&["--listen".into(), "0.0.0.0:9000".into()]).unwrap();
        assert_eq!(a.listen, "0.0.0.0:9000");
        assert_eq!(a.backup.as_deref(), Some("127.0.0.1:10103"));
        let a = parse(&["--no-backup".into()]).unwrap();
        assert_eq!(a.backup, None);
        let a = parse(&["--backup".into(), "127.0.0.1:20000".into()]).unwrap();
        assert_eq!(a.backup.as_deref(), Some("127.0.0.1:20000"));
        assert!(parse(&["--bogus".into()]).is_err());
        assert!(parse(&["--backup".into()]).is_err());
    }
}
