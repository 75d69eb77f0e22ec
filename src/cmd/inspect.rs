//! `gauntlet inspect`: check one pseudo-gradient or sync slice as a validator would.

use crate::cli::Ctx;
use anyhow::{Context, Result};
use gauntlet::wire::{self, gradient, SyncSlice};
use std::path::PathBuf;

/// Check a peer's uploaded file against the configured model and codec, and say why it is refused
///
/// Runs every check the validator runs (size cap before reading, header, dtypes, shapes,
/// offsets, index ranges, duplicates, finiteness, quantisation) and prints a JSON summary, or
/// the reason it was refused with exit code 1. Reads gauntlet's files and the reference's
/// (`gradient-…pt`, `debug-…pt`) alike; with --dense, writes the update the file decodes to
/// (each parameter by the model's name, in the model's layout) as float32 safetensors, for a
/// look at what a peer sent or a comparison with another implementation's decode.
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
    /// Write the decoded update of a gradient here (safetensors, float32)
    #[arg(long, value_name = "FILE")]
    dense: Option<PathBuf>,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let cfg = ctx.config();
    let (codec, layouts) = gauntlet::wire::layouts(cfg, tch::Device::Cpu)?;
    let is_sync = args.sync
        || args.file.file_name().is_some_and(|n| {
            let n = n.to_string_lossy();
            n.starts_with("sync-") || n.starts_with("debug-")
        });
    anyhow::ensure!(
        !(is_sync && args.dense.is_some()),
        gauntlet::UsageError("--dense decodes a gradient; a sync slice holds plain values".into())
    );
    let mut dense = None;
    let summary = if is_sync {
        let params = wire::sync::params(
            &layouts,
            cfg.hparams.sync_value_offset,
            cfg.hparams.sync_values_per_param,
        );
        let bytes = wire::read_capped(&args.file, wire::sync::size_cap(&params))?;
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
                if let Some(out) = &args.dense {
                    dense = Some((out.clone(), write_dense(out, &codec, &layouts, &g)));
                }
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
    if let Some((out, written)) = dense {
        written.with_context(|| format!("cannot write the decoded update to {}", out.display()))?;
    }
    match summary {
        Ok(s) => ctx.output().value(&s),
        Err(reject) => anyhow::bail!("{} is refused: {}", args.file.display(), reject.reason()),
    }
}

/// Each parameter's decoded update, by the model's name and in its layout, as float32.
fn write_dense(
    out: &std::path::Path,
    codec: &gauntlet::codec::Codec,
    layouts: &[gauntlet::codec::Layout],
    g: &wire::Gradient,
) -> Result<()> {
    use gauntlet::tensor_io::{write_safetensors, TensorBytes};
    let tensors = layouts
        .iter()
        .zip(&g.params)
        .map(|(l, e)| {
            let t = codec.decode(l, e).to_kind(tch::Kind::Float);
            Ok((l.name.clone(), TensorBytes::from_tensor(&t)?))
        })
        .collect::<Result<Vec<_>>>()?;
    gauntlet::atomic::write_with(out, |file| {
        write_safetensors(file, &Default::default(), &tensors)
    })
}
