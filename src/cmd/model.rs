//! `gauntlet model`: describe, initialise and measure models.

use crate::cli::Ctx;
use anyhow::Result;
use clap::Subcommand;
use gauntlet::data::{Dataset, PageAssigner};
use gauntlet::model::{self, LlamaConfig, Model};
use std::path::PathBuf;

/// Models: presets, checkpoints, losses
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Describe a model preset: its config, parameter count, and (with --shapes) every tensor
    Info(InfoArgs),
    /// Write a freshly initialised checkpoint (seeded by model.init_seed)
    Init(InitArgs),
    /// Mean next-token loss of a checkpoint on some pages of the data
    Loss(LossArgs),
}

#[derive(clap::Args, Debug)]
pub struct InfoArgs {
    /// Preset name or config.json [default: model.preset from the config]
    #[arg(long)]
    preset: Option<String>,
    /// List every parameter's name and shape
    #[arg(long)]
    shapes: bool,
}

#[derive(clap::Args, Debug)]
pub struct InitArgs {
    /// Where to write: a .safetensors file, or a folder with --shard-size
    #[arg(long, short)]
    out: PathBuf,
    /// Split into files of at most this many bytes, with a model.safetensors.index.json
    #[arg(long, value_name = "BYTES")]
    shard_size: Option<u64>,
}

#[derive(clap::Args, Debug)]
pub struct LossArgs {
    /// The checkpoint: a .safetensors file, an index .json, or a folder
    #[arg(long)]
    checkpoint: PathBuf,
    /// Pages to measure on
    #[arg(long, value_delimiter = ',', conflicts_with = "uid")]
    pages: Vec<u64>,
    /// Measure on the pages this peer is assigned in --window
    #[arg(long, requires = "window")]
    uid: Option<u16>,
    #[arg(long)]
    window: Option<u64>,
}

pub fn run(ctx: &Ctx, cmd: Command) -> Result<()> {
    let cfg = ctx.config();
    match cmd {
        Command::Info(a) => {
            let preset = a.preset.unwrap_or_else(|| cfg.model.preset.clone());
            let config = LlamaConfig::preset(&preset)?;
            let mut out = serde_json::json!({
                "preset": preset,
                "config": config,
                "parameters": config.param_count(),
                "tensors": config.param_shapes().len(),
            });
            if a.shapes {
                out["shapes"] = config
                    .param_shapes()
                    .into_iter()
                    .map(|(n, s)| serde_json::json!([n, s]))
                    .collect();
            }
            ctx.output().value(&out)
        }
        Command::Init(a) => {
            let (config, device, dtype) = model::from_settings(cfg)?;
            let m = Model::init(&config, device, dtype, cfg.model.init_seed)?;
            m.save(&a.out, a.shard_size)?;
            ctx.ui.info(format!(
                "wrote a {} model ({} parameters, seed {}) to {}",
                cfg.model.preset,
                m.param_count(),
                cfg.model.init_seed,
                a.out.display()
            ));
            Ok(())
        }
        Command::Loss(a) => {
            let (config, device, dtype) = model::from_settings(cfg)?;
            let data = Dataset::configured(cfg)?;
            model::check_vocab(&config, &data)?;
            let pages = match (a.uid, a.window) {
                (Some(uid), Some(w)) => PageAssigner::configured(cfg, &data)?.assigned(uid, w),
                _ if !a.pages.is_empty() => a.pages.clone(),
                _ => gauntlet::usage_bail!(
                    "say which pages to measure on: --pages N,M,… or --uid U --window W"
                ),
            };
            let m = Model::load(&config, device, dtype, &a.checkpoint)?;
            let batches = data.batches(&pages, cfg.hparams.batch_size)?;
            let loss = m.mean_loss(&batches, Some(data.eos_id()));
            let out = serde_json::json!({
                "checkpoint": a.checkpoint.display().to_string(),
                "pages": pages,
                "batches": batches.len(),
                "loss": loss,
                "perplexity": loss.exp(),
            });
            ctx.output().value(&out)
        }
    }
}
