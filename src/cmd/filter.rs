//! `gauntlet filter`: stage 1, the fast checks.

use crate::cli::{CheckpointArgs, Ctx};
use anyhow::Result;
use gauntlet::filter::Filter;
use gauntlet::record::RecordReader;
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
    let records = RecordReader::open(args.input.as_deref())?.collect::<Result<Vec<_>>>()?;
    let window = records.first().map_or(0, |r| r.window);
    let clock = args.chain.source(cfg).open(cfg)?.network(window)?.clock;
    let mut filter = Filter::new(cfg, clock, args.model.into_checkpoints())?;
    let mut out = ctx.output().records();
    for mut r in records {
        filter.apply(&mut r)?;
        out.write(&r)?;
    }
    if let Some(warning) = filter.warning() {
        ctx.ui.warn(warning);
    }
    let _stdout = out.finish()?;
    Ok(())
}
