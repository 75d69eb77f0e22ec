//! What a run says to the person watching it: messages and progress bars on stderr.
//!
//! Records go to stdout; everything here goes to stderr, so pipelines stay clean. Progress
//! bars are drawn only when stderr is a terminal and `--quiet` is off.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;

#[derive(Clone, Copy, Debug, Default)]
pub struct Ui {
    pub quiet: bool,
    pub verbose: u8,
}

impl Ui {
    pub fn new(quiet: bool, verbose: u8) -> Self {
        Ui { quiet, verbose }
    }

    /// A line for the operator, unless `--quiet`.
    pub fn info(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", msg.as_ref());
        }
    }

    /// A line shown only with `-v`.
    pub fn detail(&self, msg: impl AsRef<str>) {
        if !self.quiet && self.verbose > 0 {
            eprintln!("{}", msg.as_ref());
        }
    }

    /// A warning: shown even with `--quiet`, since it means something needs attention.
    pub fn warn(&self, msg: impl AsRef<str>) {
        eprintln!("warning: {}", msg.as_ref());
    }

    /// A progress bar of `len` steps on stderr, hidden off a terminal or with `--quiet`.
    pub fn progress(&self, len: u64, what: &str) -> ProgressBar {
        if self.quiet || !std::io::stderr().is_terminal() {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::new(len);
        bar.set_style(
            ProgressStyle::with_template("{msg:>12} [{bar:30}] {pos}/{len} {elapsed_precise}")
                .expect("static template")
                .progress_chars("=> "),
        );
        bar.set_message(what.to_string());
        bar
    }
}
