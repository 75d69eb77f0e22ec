//! `gauntlet peers`: the participants of a window, one record each.

use crate::cli::Ctx;
use anyhow::Result;
use gauntlet::stage::{Context, Stage};

/// The window's participants: uid, hotkey, stake and bucket (never credentials), one record each
///
/// From the local network file (network.file), or from subtensor with --network
/// finney|test|local|ws(s)://… --netuid N: the metagraph's uids, hotkeys and stakes, and each
/// peer's bucket from its commitment (the reference's 128 characters; a uid without a usable
/// one is `missing`, with why). The window defaults to the one the validator scores now: the
/// current window minus hparams.validator_offset.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The window [default: the current window − validator_offset]
    #[arg(long)]
    window: Option<u64>,
    #[command(flatten)]
    chain: crate::cli::ChainArgs,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let cfg = ctx.config();
    let context = Context::new(cfg, args.chain.source(cfg));
    let window = match args.window {
        Some(w) => w,
        None => context.scored_window()?,
    };
    super::run_stage(ctx, &context, &Stage::Peers, window, Vec::new())
}
