//! `gauntlet fetch`: download each peer's pseudo-gradient and sync slice for its window.

use crate::cli::Ctx;
use anyhow::Result;
use gauntlet::stage::{Context, Stage};
use std::path::PathBuf;

/// Download each peer's pseudo-gradient and sync slice into the cache; the record gains `object`
///
/// HEAD first: an object over the size cap is refused before any byte is downloaded. Then a
/// streaming GET into a content-addressed cache, resumed after a failure, with per-request
/// timeouts and retries with backoff for timeouts, 5xx and dropped connections (none for 403
/// or 404). A peer that cannot be fetched is marked missing, too_large or unreachable with
/// the reason; the others go on. Re-running skips what the cache already holds intact.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Records from `gauntlet peers` [default: stdin]
    input: Option<PathBuf>,
    #[command(flatten)]
    chain: crate::cli::ChainArgs,
    /// Write a JSON summary (objects fetched, from cache, failed, bytes downloaded) here
    #[arg(long, value_name = "FILE")]
    stats: Option<PathBuf>,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let cfg = ctx.config();
    let records = super::read_records(args.input.as_deref())?;
    // The buckets' read credentials: from the network file, or the chain's commitments.
    let context = Context::new(cfg, args.chain.source(cfg));
    let stage = Stage::Fetch { stats: args.stats };
    super::run_stage(ctx, &context, &stage, super::window_of(&records), records)
}
