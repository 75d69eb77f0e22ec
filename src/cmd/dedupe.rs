//! `gauntlet dedupe`: peers that copied another peer's upload of the same window.

use crate::cli::{ChainArgs, Ctx};
use anyhow::Result;
use gauntlet::stage::{Context, Stage};
use std::path::PathBuf;

/// Mark peers whose upload copies another's of the same window (the later uploader is blamed)
///
/// Compares every pair of the window's ok peers: per-chunk top-k index overlap and the cosine
/// of their values on shared indices, size-weighted over parameters. Over
/// hparams.idx_overlap_threshold with agreeing values (hparams.dedupe_min_cosine), the peer
/// that uploaded later becomes `duplicate`, with `dedupe: {copied_from, overlap, cosine,
/// level}`; equal upload times blame no one. Run it after filter, before evaluate.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Records of one window from `gauntlet filter` [default: stdin]
    input: Option<PathBuf>,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let cfg = ctx.config();
    let records = super::read_records(args.input.as_deref())?;
    let context = Context::new(cfg, ChainArgs::default().source(cfg));
    let window = super::window_of(&records);
    super::run_stage(ctx, &context, &Stage::Dedupe, window, records)
}
