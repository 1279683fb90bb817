//! `cargo xtask capture`: regenerate the libiec61850 byte vectors.

use std::path::Path;
use std::process::Command;

use crate::util::*;

/// `cargo xtask capture`: reruns the libiec61850 capture into `tests/data/libiec61850`.
pub(crate) fn capture(root: &Path) -> Res {
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
