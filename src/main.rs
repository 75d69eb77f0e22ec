//! `gauntlet`: parse the arguments, run one command, map its outcome to an exit code
//! (0 ok, 1 failure, 2 usage).

mod cli;
mod cmd;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
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
