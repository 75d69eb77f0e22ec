//! `gauntlet convert`: a pseudo-gradient between the reference network's format and gauntlet's.

use crate::cli::Ctx;
use anyhow::Result;
use gauntlet::wire::{self, gradient, reference};
use std::path::{Path, PathBuf};

/// Convert a pseudo-gradient between the reference's torch.save format (.pt) and the native one
///
/// The input is checked exactly as a validator checks an upload, against the configured model
/// and codec, then written in the other format: a `torch.save` archive in the reference's
/// paper-era layout becomes a native safetensors file, and a native file becomes a `.pt` that
/// PyTorch loads with `torch.load(..., weights_only=True)` and the reference decodes. The
/// reference's file does not carry its uid: it is taken from --uid, else from a name of the
/// reference's form (gradient-{window}-{uid}-v{version}.pt).
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The file to convert (native .safetensors or reference .pt)
    input: PathBuf,
    /// Where to write the other format
    output: PathBuf,
    /// The peer's uid [default: the native file's, or from the reference file's name]
    #[arg(long)]
    uid: Option<u16>,
    /// Expect this window
    #[arg(long)]
    window: Option<u64>,
}

/// The uid in a reference object key: gradient-{window}-{uid}-v{version}.pt.
fn uid_from_name(path: &Path) -> Option<u16> {
    let name = path.file_name()?.to_str()?;
    let mut parts = name.strip_prefix("gradient-")?.splitn(3, '-');
    parts.next()?.parse::<u64>().ok()?;
    parts.next()?.parse().ok()
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let cfg = ctx.config();
    let (codec, layouts) = gauntlet::wire::layouts(cfg, tch::Device::Cpu)?;
    let expect = gradient::Expect {
        layouts: &layouts,
        codec: &codec.params,
        window: args.window,
        uid: args.uid,
    };
    let bytes = wire::read_capped(&args.input, expect.size_cap())?
        .map_err(|r| anyhow::anyhow!("{} is refused: {}", args.input.display(), r.reason()))?;
    let from_reference = reference::is_torch_archive(&bytes);
    let mut g = gradient::decode_file(&bytes, &expect)
        .map_err(|r| anyhow::anyhow!("{} is refused: {}", args.input.display(), r.reason()))?;
    let out = if from_reference {
        g.meta.uid = match args.uid.or_else(|| uid_from_name(&args.input)) {
            Some(uid) => uid,
            None => gauntlet::usage_bail!(
                "{} does not say its uid: give --uid (the reference keeps it in the object key)",
                args.input.display()
            ),
        };
        gradient::encode_file(&g.meta, &layouts, &g.params)?
    } else {
        reference::encode_file(&g.meta, &layouts, &g.params)?
    };
    gauntlet::atomic::write(&args.output, &out)?;
    ctx.ui.info(format!(
        "convert: {} ({}) -> {} ({}): window {}, uid {}, {} parameters",
        args.input.display(),
        if from_reference {
            "reference"
        } else {
            "native"
        },
        args.output.display(),
        if from_reference {
            "native"
        } else {
            "reference"
        },
        g.meta.window,
        g.meta.uid,
        g.params.len()
    ));
    Ok(())
}
