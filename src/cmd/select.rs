//! `gauntlet select`: which peers to evaluate this window when not all can be.

use crate::cli::{ChainArgs, Ctx};
use anyhow::Result;
use gauntlet::stage::{Context, Stage};
use std::path::PathBuf;

/// Choose the peers to evaluate this window (rating bins and waiting counters); mark the rest not_selected
///
/// For validators with less GPU than peers: with enough candidates, a random rating bin, then
/// hparams.uids_per_window peers drawn by waiting counters (the longer a peer waited, the
/// likelier). The others pass through as `not_selected` (no slash). Seeded by evaluate.seed
/// and the window, stored in the state: a re-run repeats the same choice.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Records of one window from `gauntlet filter` [default: stdin]
    input: Option<PathBuf>,
    /// The state database [default: state.path]
    #[arg(long)]
    state: Option<PathBuf>,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let cfg = ctx.config();
    let source = ChainArgs::default().source(cfg);
    source.require_secret_seed(cfg)?;
    let records = super::read_records(args.input.as_deref())?;
    let mut context = Context::new(cfg, source);
    if let Some(path) = args.state {
        context.state = path;
    }
    let window = super::window_of(&records);
    super::run_stage(ctx, &context, &Stage::Select, window, records)
}
