//! Failpoints for the crash and locking tests, built only with the `failpoints` feature (which
//! `scripts/test` turns on): a release build has none and reads no such variable.
//!
//! `GAUNTLET_FAILPOINT_<NAME>=FILE` makes the process stop at the failpoint `<name>`, say
//! `failpoint <name>: pausing` on stderr, and go on once FILE is gone: a test decides when,
//! so nothing depends on how fast a loaded machine is.

/// The environment variables of failpoints: not config keys.
pub const PREFIX: &str = "GAUNTLET_FAILPOINT_";

/// Stops here while the failpoint's file exists (where the variable names one).
pub fn pause(name: &str) {
    let var = format!("{PREFIX}{}", name.to_uppercase());
    let Some(file) = std::env::var_os(&var) else {
        return;
    };
    let file = std::path::PathBuf::from(file);
    eprintln!("failpoint {name}: pausing while {} exists", file.display());
    while file.exists() {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}
