//! `gauntlet inspect`: check one pseudo-gradient or sync slice as a validator would.

use crate::cli::Ctx;
use anyhow::Result;
use gauntlet::peer;
use gauntlet::wire::{self, gradient, SyncSlice};
use std::path::PathBuf;

/// Check a peer's uploaded file against the configured model and codec, and say why it is refused
///
/// Runs every check the validator runs (size cap before reading, header, dtypes, shapes,
/// offsets, index ranges, duplicates, finiteness, quantisation) and prints a JSON summary, or
/// the reason it was refused with exit code 1.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The file (gradient-…safetensors or sync-…safetensors)
    file: PathBuf,
    /// Expect this window
    #[arg(long)]
    window: Option<u64>,
    /// Expect this uid
    #[arg(long)]
    uid: Option<u16>,
    /// The file is a sync slice [default: guessed from the name]
    #[arg(long)]
    sync: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let cfg = ctx.config();
    let (codec, layouts) = peer::layouts(cfg, tch::Device::Cpu)?;
    let is_sync = args.sync
        || args.file.file_name().is_some_and(|n| {
            let n = n.to_string_lossy();
            n.starts_with("sync-") || n.starts_with("debug-")
        });
    let summary = if is_sync {
        let params: Vec<(String, i64)> = layouts
            .iter()
            .map(|l| {
                let numel = l.shape.iter().product();
                let (_, len) = wire::sync::positions(
                    numel,
                    cfg.hparams.sync_value_offset,
                    cfg.hparams.sync_values_per_param,
                );
                (l.name.clone(), len)
            })
            .collect();
        let bytes = wire::read_capped(&args.file, 1 << 30)?;
        bytes
            .and_then(|b| SyncSlice::decode(&b, &params, args.window, args.uid))
            .map(|s| serde_json::json!({"kind": "sync", "window": s.window, "uid": s.uid, "parameters": s.values.len()}))
    } else {
        let expect = gradient::Expect {
            layouts: &layouts,
            codec: &codec.params,
            window: args.window,
            uid: args.uid,
        };
        wire::read_capped(&args.file, expect.size_cap())?
            .and_then(|b| gradient::decode_file(&b, &expect))
            .map(|g| {
                serde_json::json!({
                    "kind": "gradient",
                    "window": g.meta.window,
                    "uid": g.meta.uid,
                    "global_step": g.meta.global_step,
                    "codec": g.meta.codec,
                    "receipt": g.meta.receipt,
                    "parameters": g.params.len(),
                })
            })
    };
    match summary {
        Ok(s) => {
            println!("{}", serde_json::to_string(&s)?);
            Ok(())
        }
        Err(reject) => anyhow::bail!("{} is refused: {}", args.file.display(), reject.reason()),
    }
}
