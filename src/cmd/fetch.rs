//! `gauntlet fetch`: download each peer's pseudo-gradient and sync slice for its window.

use crate::cli::Ctx;
use anyhow::Result;
use gauntlet::fetch::{self, Options};
use gauntlet::record::RecordReader;
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
    let records = RecordReader::open(args.input.as_deref())?.collect::<Result<Vec<_>>>()?;
    // The buckets' read credentials: from the network file, or the chain's commitments.
    let window = records.first().map_or(0, |r| r.window);
    let network = args.chain.source(cfg).open(cfg)?.network(window)?;
    let opts = Options::from_config(cfg)?;
    let bar = ctx.ui.progress(records.len() as u64, "fetch");
    let (records, stats) = fetch::fetch(records, &network, &opts, &|| bar.inc(1))?;
    bar.finish_and_clear();
    ctx.ui.info(format!(
        "fetch: {} records, {} fetched ({} from the cache), {} failed, {} bytes downloaded",
        stats.records, stats.fetched, stats.from_cache, stats.failed, stats.bytes_downloaded
    ));
    if let Some(path) = args.stats {
        gauntlet::atomic::write(&path, serde_json::to_string(&stats)?.as_bytes())?;
    }
    let mut out = ctx.output().records();
    for r in &records {
        out.write(r)?;
    }
    let _stdout = out.finish()?;
    Ok(())
}
