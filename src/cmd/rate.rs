//! `gauntlet rate`: ratings, moving averages, slashes, final scores and weights.

use crate::cli::{ChainArgs, Ctx};
use anyhow::Result;
use gauntlet::stage::{Context, Stage};
use std::path::PathBuf;

/// Apply a window's evaluations to the validator's state; records gain `rating` and `weight`
///
/// One OpenSkill Plackett–Luce match of the evaluated peers (by score, in record order), the
/// indicator moving average, slashes for missing/late/early/malformed/desynced/duplicate
/// peers (positive scores only), inactivity decay and reset, final = ordinal · max(0, BMA) ·
/// sync, and weights (hparams.weights_schedule). The window is applied once, in one
/// transaction: re-running it changes nothing and prints the records as first rated.
///
/// Only whole windows are applied, in order: a stream that lacks peers `gauntlet peers` listed
/// for the window, a window that had not begun when they were listed, or one older than the
/// last applied is refused and the state left as it was (`--force` applies it anyway). To
/// rate a damaged window again: `gauntlet state forget --window W`, then windows W… in order.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Records of one window from `gauntlet evaluate` [default: stdin]
    input: Option<PathBuf>,
    /// The state database [default: state.path]
    #[arg(long)]
    state: Option<PathBuf>,
    /// Apply the records as they are: part of a window, a window not begun, or out of order
    #[arg(long)]
    force: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let cfg = ctx.config();
    let records = super::read_records(args.input.as_deref())?;
    let mut context = Context::new(cfg, ChainArgs::default().source(cfg));
    if let Some(path) = args.state {
        context.state = path;
    }
    let stage = Stage::Rate { force: args.force };
    super::run_stage(ctx, &context, &stage, super::window_of(&records), records)
}
