//! `gauntlet peers`: the participants of a window, one record each.

use crate::cli::Ctx;
use anyhow::Result;
use gauntlet::chain::NetworkFile;
use gauntlet::record::RecordWriter;
use std::path::PathBuf;

/// The window's participants: uid, hotkey, stake and bucket (never credentials), one record each
///
/// Reads the local network file (network.file in the config). The window defaults to the one
/// the validator scores now: the clock's current window minus hparams.validator_offset.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The window [default: the current window − validator_offset]
    #[arg(long)]
    window: Option<u64>,
    /// The network file [default: network.file from the config]
    #[arg(long)]
    network: Option<PathBuf>,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let cfg = ctx.config();
    let network = NetworkFile::read(args.network.as_ref().unwrap_or(&cfg.network.file))?;
    let window = match args.window {
        Some(w) => w,
        None => network
            .clock
            .window_at(std::time::SystemTime::now())?
            .saturating_sub(cfg.hparams.validator_offset),
    };
    let mut out = RecordWriter::new(std::io::stdout().lock(), ctx.format);
    for r in network.records(window) {
        out.write(&r)?;
    }
    let _stdout = out.finish()?;
    Ok(())
}
