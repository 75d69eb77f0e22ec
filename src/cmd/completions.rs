//! `gauntlet completions SHELL`: shell completion scripts.
//!
//! The repository keeps them under `completions/` (regenerate with `scripts/completions`); a
//! test fails when they fall behind the command line.

use anyhow::Result;
use clap::CommandFactory;
use clap_complete::Shell;

/// Print the completion script for a shell
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Install: gauntlet completions bash > ~/.local/share/bash-completion/completions/gauntlet\n         gauntlet completions zsh > \"${fpath[1]}/_gauntlet\"\n         gauntlet completions fish > ~/.config/fish/completions/gauntlet.fish"
)]
pub struct Args {
    /// bash, zsh, fish, elvish or powershell
    #[arg(value_enum)]
    shell: Shell,
}

pub fn run(args: &Args) -> Result<()> {
    let mut cmd = crate::cli::Cli::command();
    // Generated whole first: clap_complete panics on a failed write, the output path does not.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "gauntlet", &mut script);
    gauntlet::output::Output::stdout(gauntlet::output::Format::Jsonl).bytes(&script)
}
