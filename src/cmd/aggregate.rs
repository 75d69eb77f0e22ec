//! `gauntlet aggregate`: the outer step, from the top peers' pseudo-gradients to the next
//! window's checkpoint.

use crate::cli::Ctx;
use anyhow::Result;
use gauntlet::record::RecordReader;
use gauntlet::store::{LocalStore, Store};
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
    let records = RecordReader::open(args.input.as_deref())?.collect::<Result<Vec<_>>>()?;
    let store = args
        .sync_store
        .as_deref()
        .map(LocalStore::open)
        .transpose()?;
    let sync_to = store.as_ref().map(|s| (s as &dyn Store, args.uid));
    let report = gauntlet::aggregate::aggregate(cfg, &records, &args.checkpoints, sync_to)?;
    for (uid, why) in &report.skipped {
        ctx.ui.warn(format!("aggregate: uid {uid} left out: {why}"));
    }
    if report.applied {
        ctx.ui.info(format!(
            "aggregate: window {}: {} peers ({:?}) at lr {:.3e} -> {}",
            report.window,
            report.peers.len(),
            report.peers,
            report.lr,
            report.checkpoint.display()
        ));
    } else if report.checkpoint.exists() {
        ctx.ui.info(format!(
            "aggregate: {} already exists; window {}'s step was taken, nothing changed",
            report.checkpoint.display(),
            report.window
        ));
    } else {
        ctx.ui.info(format!(
            "aggregate: window {}: no peer with a positive weight and a readable file; the model stays",
            report.window
        ));
    }
    let mut out = ctx.output().records();
    for r in &records {
        out.write(r)?;
    }
    let _stdout = out.finish()?;
    Ok(())
}
