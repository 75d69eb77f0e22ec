//! One file per subcommand: its help text, its arguments, and a short `run`.

mod aggregate;
mod audit;
mod commit;
mod completions;
mod config;
mod convert;
mod data;
mod dedupe;
mod demo;
mod evaluate;
mod fetch;
mod filter;
mod inspect;
mod model;
mod peer;
mod peers;
mod rate;
mod run;
mod select;
mod show;
mod state;

use crate::cli::{Cli, Ctx};
use anyhow::Result;
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum Command {
    Config(config::Args),
    Completions(completions::Args),
    #[command(subcommand)]
    Data(data::Command),
    #[command(subcommand)]
    Model(model::Command),
    Peers(peers::Args),
    Fetch(fetch::Args),
    Filter(filter::Args),
    Dedupe(dedupe::Args),
    Evaluate(evaluate::Args),
    Select(select::Args),
    Rate(rate::Args),
    Commit(commit::Args),
    Aggregate(aggregate::Args),
    Run(run::Args),
    Audit(audit::Args),
    #[command(subcommand)]
    State(state::Command),
    Peer(peer::Args),
    Inspect(inspect::Args),
    Convert(convert::Args),
    Show(show::Args),
    Demo(demo::Args),
}

pub fn run(cli: Cli) -> Result<()> {
    if let Command::Completions(args) = &cli.command {
        // Needs no config: works even where the config file is broken.
        return completions::run(args);
    }
    // The demo runs on the embedded local defaults; every other command on the built-in ones.
    let base = matches!(cli.command, Command::Demo(_))
        .then_some(("examples/local.yaml", gauntlet::config::LOCAL_DEFAULTS));
    let ctx = Ctx::new(&cli.global, base)?;
    match cli.command {
        Command::Config(args) => config::run(&ctx, args),
        Command::Completions(_) => unreachable!("handled above"),
        Command::Data(cmd) => data::run(&ctx, cmd),
        Command::Model(cmd) => model::run(&ctx, cmd),
        Command::Peers(args) => peers::run(&ctx, args),
        Command::Fetch(args) => fetch::run(&ctx, args),
        Command::Filter(args) => filter::run(&ctx, args),
        Command::Dedupe(args) => dedupe::run(&ctx, args),
        Command::Evaluate(args) => evaluate::run(&ctx, args),
        Command::Select(args) => select::run(&ctx, args),
        Command::Rate(args) => rate::run(&ctx, args),
        Command::Commit(args) => commit::run(&ctx, args),
        Command::Aggregate(args) => aggregate::run(&ctx, args),
        Command::Run(args) => run::run(&ctx, args),
        Command::Audit(args) => audit::run(&ctx, args),
        Command::State(cmd) => state::run(&ctx, cmd),
        Command::Peer(args) => peer::run(&ctx, args),
        Command::Inspect(args) => inspect::run(&ctx, args),
        Command::Convert(args) => convert::run(&ctx, args),
        Command::Show(args) => show::run(&ctx, args),
        Command::Demo(args) => demo::run(&ctx, args),
    }
}
