//! `gauntlet aggregate`: the outer step, from the top peers' pseudo-gradients to the next
//! window's checkpoint.

use crate::cli::{ChainArgs, Ctx};
use anyhow::Result;
use gauntlet::model::checkpoint::Checkpoints;
use gauntlet::stage::{Context, Stage};
use std::path::PathBuf;

/// Apply the top-G peers' combined update to the validator's model; records pass through
///
/// Takes one window's records from `rate` (with weights), reads the top hparams.max_topk_peers
/// peers' files again as untrusted input, L2-normalises each peer per chunk, averages them
/// per index, inverts the DCT and takes a sign-SGD step with weight decay at the window's
/// learning rate (warm-up, then cosine with warm restarts). The later variant
/// (hparams.eval_variant: clip-median) clips each peer to the median norm and steps by
/// hparams.outer_learning_rate without the sign. Writes checkpoint-{window+1}.safetensors
/// into the checkpoint folder and, with --sync-store, the validator's sync slice of the new
/// model. A checkpoint already there means the step was taken: a re-run changes nothing.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Records of one window from `gauntlet rate` [default: stdin]
    input: Option<PathBuf>,
    /// The validator's checkpoint folder (checkpoint-{window}.safetensors files)
    #[arg(long)]
    checkpoints: PathBuf,
    /// Folder that receives the validator's sync slice of the new model
    #[arg(long, value_name = "DIR")]
    sync_store: Option<PathBuf>,
    /// The validator's uid in the sync slice's key
    #[arg(long, default_value_t = 0)]
    uid: u16,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let cfg = ctx.config();
    let records = super::read_records(args.input.as_deref())?;
    let mut context = Context::new(cfg, ChainArgs::default().source(cfg));
    context.checkpoints = Some(Checkpoints::Folder(args.checkpoints));
    let stage = Stage::Aggregate {
        sync_store: args.sync_store,
        uid: args.uid,
    };
    super::run_stage(ctx, &context, &stage, super::window_of(&records), records)
}
