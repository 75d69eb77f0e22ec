//! `gauntlet evaluate`: LossScore and the own-versus-random indicator per peer.

use crate::cli::{CheckpointArgs, Ctx};
use anyhow::Result;
use gauntlet::evaluate::{self, Shard};
use gauntlet::record::RecordReader;
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
    args.chain.source(cfg).require_secret_seed(cfg)?;
    let device =
        gauntlet::model::parse_device(args.device.as_deref().unwrap_or(&cfg.runtime.device))?;
    let checkpoints = args.model.into_checkpoints();
    let records = RecordReader::open(args.input.as_deref())?.collect::<Result<Vec<_>>>()?;
    ctx.ui.detail(format!("evaluating on {device:?}"));
    let bar = ctx.ui.progress(
        records.iter().filter(|r| r.status.is_ok()).count() as u64,
        "evaluate",
    );
    // Only where the window's end should stop evaluation is the chain asked.
    let chain = cfg
        .hparams
        .evaluation_stops_at_window_change
        .then(|| args.chain.source(cfg).open(cfg))
        .transpose()?;
    let now = chain.as_ref().map(|c| move || c.current_window());
    let records = evaluate::run(
        cfg,
        records,
        &checkpoints,
        device,
        args.shard,
        now.as_ref().map(|f| f as evaluate::WindowNow),
        &|| bar.inc(1),
    )?;
    bar.finish_and_clear();
    let mut out = ctx.output().records();
    for r in &records {
        out.write(r)?;
    }
    let _stdout = out.finish()?;
    Ok(())
}
