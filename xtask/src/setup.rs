//! `cargo xtask setup`: the idempotent installer of what the tests need.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::*;

/// Python packages installed into `build/venv`, one pip requirement a line. The marker file in the
/// venv holds this exact text once they are installed, so `setup` skips pip when it matches.
pub(crate) const PY_REQUIREMENTS: &str =
    "pyiec61850-ng==1.6.1.10\nopen61850==0.9.12\niec61850==0.14.0\n";

/// Name of the marker file inside the venv.
pub(crate) const VENV_MARKER: &str = ".freetase2-requirements";

/// The modules the interop scripts import; `setup` checks they load.
pub(crate) const PY_IMPORT_CHECK: &str = "import pyiec61850.pyiec61850, open61850.mms, iec61850";

/// The idempotent installer behind `cargo xtask setup`.
pub(crate) struct Setup {
    /// Workspace root.
    root: PathBuf,
    /// Whether `apt-get update` already ran in this process.
    apt_updated: bool,
}

impl Setup {
    /// A set-up for the workspace at `root`.
    pub(crate) fn new(root: &Path) -> Self {
        Setup {
            root: root.to_path_buf(),
            apt_updated: false,
        }
    }

    /// Runs every set-up step.
    pub(crate) fn run(mut self) -> Res {
        self.tshark()?;
        // The TLS tests make their certificates with scripts/make-test-certs.sh.
        self.debian_tools(&[("openssl", "openssl")])?;
        self.python_venv()?;
        self.rust_tools()?;
        self.nightly_rust_src()?;
        self.wasm_bindgen_cli()?;
        self.browser_tools()?;
        println!("setup: everything is installed");
        Ok(())
    }

    /// What `cargo xtask demo` needs: the wasm target, nightly's rust-src, wasm-bindgen-cli,
    /// wasm-opt, node and npm.
    pub(crate) fn for_demo(mut self) -> Res {
        self.rust_tools()?;
        self.nightly_rust_src()?;
        self.wasm_bindgen_cli()?;
        self.debian_tools(&[("wasm-opt", "binaryen"), ("node", "nodejs"), ("npm", "npm")])
    }

    /// The browser test's tools: Debian's chromium (driven by npm playwright-core; no browser
    /// download), websockify (the reference proxy the page must also work through), wasm-opt,
    /// node and npm.
    fn browser_tools(&mut self) -> Res {
        self.debian_tools(&[
            ("chromium", "chromium"),
            ("websockify", "websockify"),
            ("wasm-opt", "binaryen"),
            ("node", "nodejs"),
            ("npm", "npm"),
        ])
    }

    /// Each (program, Debian package) whose program is not on PATH is installed.
    fn debian_tools(&mut self, tools: &[(&str, &str)]) -> Res {
        let missing: Vec<&str> = tools
            .iter()
            .filter(|(prog, _)| !on_path(prog))
            .map(|(_, pkg)| *pkg)
            .collect();
        if missing.is_empty() {
            let names: Vec<&str> = tools.iter().map(|(p, _)| *p).collect();
            println!("setup: {} present", names.join(", "));
            return Ok(());
        }
        self.apt_install(&missing)
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
    /// The nightly toolchain with `rust-src`, for the browser package's size build
    /// (`-Zbuild-std`, see `demo::wasm_pkg`): installed through rustup when missing (the
    /// minimal profile; the component alone when the toolchain is there).
    fn nightly_rust_src(&mut self) -> Res {
        use crate::demo::{nightly_with_rust_src, NIGHTLY};
        if !on_path("rustup") {
            println!("setup: rustup not found; the wasm package builds with the shipped std");
            return Ok(());
        }
        if nightly_with_rust_src() {
            println!("setup: {NIGHTLY} toolchain with rust-src present");
            return Ok(());
        }
        let toolchains =
            output(Command::new("rustup").args(["toolchain", "list"])).unwrap_or_default();
        let installed = if toolchains
            .lines()
            .any(|l| l.starts_with(&format!("{NIGHTLY}-")))
        {
            run(Command::new("rustup").args([
                "component",
                "add",
                "rust-src",
                "--toolchain",
                NIGHTLY,
            ]))
        } else {
            run(Command::new("rustup").args([
                "toolchain",
                "install",
                NIGHTLY,
                "--profile",
                "minimal",
                "--component",
                "rust-src",
            ]))
        };
        // Offline or without the rustup server: the package still builds, with the shipped std
        // (about 10 KB gzip larger); not a reason to stop the set-up.
        if let Err(e) = installed {
            println!(
                "setup: could not install {NIGHTLY}'s rust-src ({e}); the wasm package builds \
                 with the shipped std"
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirements_are_pinned() {
        assert!(PY_REQUIREMENTS.lines().all(|l| l.contains("==")));
    }
}

impl Setup {
    /// `wasm-bindgen` and `wasm-bindgen-test-runner` of exactly the wasm-bindgen version in
    /// `Cargo.lock` (the CLI refuses modules of another version): `cargo install`, about 3 minutes
    /// when missing.
    pub(crate) fn wasm_bindgen_cli(&mut self) -> Res {
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
pub(crate) fn locked_version(lock: &str, name: &str) -> Option<String> {
    let mut lines = lock.lines();
    while let Some(l) = lines.next() {
        if l.trim() == format!("name = \"{name}\"") {
            let v = lines.next()?.trim().strip_prefix("version = \"")?;
            return Some(v.trim_end_matches('"').to_string());
        }
    }
    None
}

#[cfg(test)]
mod wasm_bindgen_tests {
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
}
