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
use gauntlet::record::{Record, RecordReader};
use gauntlet::stage::{self, Message, Stage};
use std::path::Path;

/// A stage's input records: from `input`, or stdin.
fn read_records(input: Option<&Path>) -> Result<Vec<Record>> {
    RecordReader::open(input)?.collect()
}

/// Runs one stage as its command: a progress bar, its messages and note for the operator, its
/// records to stdout, and its failure (if any) as the exit status once the records are out.
fn run_stage(
    ctx: &Ctx,
    context: &stage::Context,
    stage: &Stage,
    window: u64,
    records: Vec<Record>,
) -> Result<()> {
    let name = stage.name();
    let steps = match stage {
        Stage::Evaluate { .. } => records.iter().filter(|r| r.status.is_ok()).count(),
        _ => records.len(),
    };
    let bar = ctx.ui.progress(steps as u64, name);
    let done = stage::run(context, stage, window, records, &|| bar.inc(1))?;
    bar.finish_and_clear();
    for m in &done.messages {
        match m {
            Message::Info(m) => ctx.ui.info(format!("{name}: {m}")),
            Message::Warn(m) => ctx.ui.warn(format!("{name}: {m}")),
            // What a dry run is for: shown even with --quiet.
            Message::Shown(m) => eprintln!("{name}: {m}"),
        }
    }
    ctx.ui.info(format!("{name}: {}", done.note));
    let mut out = ctx.output().records();
    for r in &done.records {
        out.write(r)?;
    }
    let _stdout = out.finish()?;
    match done.failure {
        Some(why) => anyhow::bail!("{why}"),
        None => Ok(()),
    }
}

/// The window of a stage's input (that of its first record; 0 for none).
fn window_of(records: &[Record]) -> u64 {
    records.first().map_or(0, |r| r.window)
}

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
