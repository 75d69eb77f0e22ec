//! `gauntlet`: parse the arguments, run one command, map its outcome to an exit code
//! (0 ok, 1 failure, 2 usage).

mod cli;
mod cmd;

use clap::Parser;
use std::process::ExitCode;

/// Ctrl-C or a scheduler's TERM: every state change is a transaction and every file is
/// written whole, so nothing is left half-done; say so and exit 128 + the signal (130, 143).
extern "C" fn interrupted(signal: libc::c_int) {
    const MESSAGE: &[u8] =
        b"\ngauntlet: interrupted; the state is intact; run it again to resume\n";
    // SAFETY: write(2) and _exit(2) are async-signal-safe; MESSAGE is a static buffer.
    unsafe {
        libc::write(2, MESSAGE.as_ptr().cast(), MESSAGE.len());
        libc::_exit(128 + signal);
    }
}

fn main() -> ExitCode {
    for signal in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: installs a handler that only calls async-signal-safe functions.
        unsafe {
            libc::signal(signal, interrupted as *const () as libc::sighandler_t);
        }
    }
    let cli = cli::Cli::parse();
    match cmd::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            if gauntlet::output::is_broken_pipe(&err) {
                // `gauntlet … | head` closing the pipe early is not a failure.
                return ExitCode::SUCCESS;
            }
            let usage = err.downcast_ref::<gauntlet::UsageError>().is_some();
            eprintln!("error: {err:#}");
            if usage {
                eprintln!("(see `gauntlet --help` or `gauntlet <command> --help`)");
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}
