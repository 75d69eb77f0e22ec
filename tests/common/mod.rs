//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The built `gauntlet` binary, run in `dir` with a private HOME and no GAUNTLET_* variables
/// from the caller's environment, so that no config of the machine leaks in.
pub fn gauntlet(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gauntlet"));
    for (k, _) in std::env::vars() {
        if k.starts_with("GAUNTLET_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("HOME", dir).current_dir(dir);
    cmd
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn corpus() -> PathBuf {
    repo().join("examples/corpus")
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs the command and insists that it exits 0, showing its stderr otherwise.
pub fn ok(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("run gauntlet");
    assert!(
        out.status.success(),
        "gauntlet failed ({:?}):\n{}",
        out.status,
        stderr(&out)
    );
    out
}
