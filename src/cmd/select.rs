//! `gauntlet select`: which peers to evaluate this window when not all can be.

use crate::cli::Ctx;
use anyhow::Result;
use gauntlet::record::RecordReader;
use gauntlet::state::State;
use std::path::PathBuf;
use std::time::Duration;

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
    crate::cli::ChainArgs::default()
        .source(cfg)
        .require_secret_seed(cfg)?;
    let mut records = RecordReader::open(args.input.as_deref())?.collect::<Result<Vec<_>>>()?;
    let path = args.state.unwrap_or_else(|| cfg.state.path.clone());
    let mut state = State::open(
        &path,
        Duration::from_secs_f64(cfg.state.wait_seconds.max(0.0)),
    )?;
    let chosen = gauntlet::select::select(&mut state, cfg, &mut records)?;
    ctx.ui.info(format!("select: evaluating uids {chosen:?}"));
    let mut out = ctx.output().records();
    for r in &records {
        out.write(r)?;
    }
    let _stdout = out.finish()?;
    Ok(())
}
