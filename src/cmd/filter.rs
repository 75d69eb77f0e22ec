//! `gauntlet filter`: stage 1, the fast checks.

use crate::cli::{CheckpointArgs, Ctx};
use anyhow::Result;
use gauntlet::stage::{Context, Stage};
use std::path::PathBuf;

/// Stage 1: mark peers that uploaded early or late, whose file is malformed, or that are out of sync
///
/// Upload times are checked against the put window (the start of the next window plus
/// hparams.time_window_delta_seconds); files get every check of the wire reader; the sync
/// slice is compared with the validator's model for the window (steps behind by
/// hparams.sync_method, score (1 − min(x, max)/max)^exponent, desynced over
/// hparams.sync_max_steps_behind). The record gains `sync`; failures get a status and reason.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Records from `gauntlet fetch` [default: stdin]
    input: Option<PathBuf>,
    #[command(flatten)]
    model: CheckpointArgs,
    /// Where the window clock comes from (the network file, or the chain's block times)
    #[command(flatten)]
    chain: crate::cli::ChainArgs,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let cfg = ctx.config();
    let records = super::read_records(args.input.as_deref())?;
    let mut context = Context::new(cfg, args.chain.source(cfg));
    context.checkpoints = Some(args.model.into_checkpoints());
    let window = super::window_of(&records);
    super::run_stage(ctx, &context, &Stage::Filter, window, records)
}
