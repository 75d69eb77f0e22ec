//! `gauntlet evaluate`: LossScore and the own-versus-random indicator per peer.

use crate::cli::{CheckpointArgs, Ctx};
use anyhow::Result;
use gauntlet::evaluate::Shard;
use gauntlet::stage::{Context, Stage};
use std::path::PathBuf;

/// Measure each peer's update: loss before and after on its own pages and on common random pages
///
/// For every record still ok after `filter`, applies θ' = θ − step · direction (sign of the
/// decoded update, or hparams.eval_variant: clip-median) to the window's model and measures the
/// loss on a seeded sample of the peer's assigned pages and of the window's random pages. The
/// record gains `eval`: the four losses, `score` (relative improvement on random pages) and
/// `indicator` (+1 when its own pages improved more). A re-run gives the same numbers.
///
/// Scale out with --shard K/N under any scheduler (workflows/ has a Slurm array and a
/// Kubernetes indexed Job): each process evaluates one contiguous block and outputs only its
/// records, so `cat shard-0 … shard-N-1` equals the unsharded output. With
/// hparams.evaluation_stops_at_window_change (the latest reference's rule), evaluation stops
/// when the chain's window changes (--network), and the peers not reached are `not_evaluated`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Records from `gauntlet filter` [default: stdin]
    input: Option<PathBuf>,
    #[command(flatten)]
    model: CheckpointArgs,
    /// auto, cpu, cuda or cuda:N [default: runtime.device]; bf16 compute on CUDA, f32 on CPU
    #[arg(long)]
    device: Option<String>,
    /// Evaluate only the K-th of N blocks of peers (K from 0)
    #[arg(long, value_name = "K/N")]
    shard: Option<Shard>,
    /// Where the chain's window comes from, for hparams.evaluation_stops_at_window_change
    #[command(flatten)]
    chain: crate::cli::ChainArgs,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let cfg = ctx.config();
    let source = args.chain.source(cfg);
    source.require_secret_seed(cfg)?;
    let records = super::read_records(args.input.as_deref())?;
    let mut context = Context::new(cfg, source);
    context.checkpoints = Some(args.model.into_checkpoints());
    let stage = Stage::Evaluate {
        device: args.device,
        shard: args.shard,
    };
    super::run_stage(ctx, &context, &stage, super::window_of(&records), records)
}
