//! Errors that decide the process's exit code.
//!
//! Every other failure is an `anyhow::Error` (exit 1). A [`UsageError`] is the caller's
//! mistake in how gauntlet was invoked (a bad flag value, an unknown config key), which the
//! binary reports with exit code 2, as it does clap's own parse errors.

use std::fmt;

#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Returns early with a [`UsageError`] built like `format!`.
#[macro_export]
macro_rules! usage_bail {
    ($($arg:tt)*) => {
        return Err(anyhow::Error::new($crate::UsageError(format!($($arg)*))))
    };
}
