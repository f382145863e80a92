//! The Python venv with pyHanko and reportlab that tests use as independent tools. Shared by
//! signer's tests and the workspace's end-to-end tests (included there by `#[path]`), so both
//! use one venv, built once.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The venv: `VHOD_SIGNER_TEST_VENV`, by default `.venv` in `tests_dir` (signer's `tests`
/// directory, which holds `requirements.txt`). Made on first use from `requirements.txt`
/// (python3's venv and pip from PyPI), and again whenever that file changes, so the README's
/// test command works on a fresh machine; a lock file keeps parallel test processes from
/// building it twice. Failing to build it fails the test.
pub fn venv_in(tests_dir: &Path) -> PathBuf {
    let dir = std::env::var_os("VHOD_SIGNER_TEST_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| tests_dir.join(".venv"));
    ensure_venv(&dir, &tests_dir.join("requirements.txt"));
    dir
}

fn ensure_venv(dir: &Path, req: &Path) {
    let stamp = dir.join(".requirements");
    let ready = || {
        dir.join("bin/pyhanko").exists()
            && std::fs::read(&stamp).ok() == Some(std::fs::read(req).expect("requirements.txt"))
    };
    if ready() {
        return;
    }
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent).expect("venv parent directory");
    }
    let lock = std::fs::File::create(dir.with_extension("lock")).expect("venv lock file");
    lock.lock().expect("venv lock");
    if ready() {
        return;
    }
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let made = Command::new(&python).args(["-m", "venv"]).arg(dir).status();
    assert!(
        made.is_ok_and(|s| s.success()),
        "{python} -m venv {} failed",
        dir.display()
    );
    let pip = Command::new(dir.join("bin/pip"))
        .args(["install", "-q", "--disable-pip-version-check", "-r"])
        .arg(req)
        .status();
    assert!(
        pip.is_ok_and(|s| s.success()),
        "pip install -r {} failed",
        req.display()
    );
    std::fs::copy(req, &stamp).expect("venv stamp");
}
