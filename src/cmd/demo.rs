//! `gauntlet demo`: the main job on the embedded local defaults.

use crate::cli::Ctx;
use anyhow::Result;
use gauntlet::record::Format;
use std::path::PathBuf;

/// Run the main job on the embedded local defaults (examples/local.yaml, compiled in)
///
/// Packs the embedded corpus, builds the tiny model, trains it window by window on one
/// peer's assigned pages, and reports its loss on held-out pages.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Working folder for the corpus, shards and checkpoints
    #[arg(long, default_value = "gauntlet-demo")]
    dir: PathBuf,
    /// Windows to train
    #[arg(long, default_value_t = 6)]
    windows: u64,
    /// Optimiser steps per window
    #[arg(long, default_value_t = 10)]
    steps: usize,
    /// AdamW learning rate
    #[arg(long, default_value_t = 3e-3)]
    lr: f64,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    if args.steps == 0 || args.windows == 0 {
        gauntlet::usage_bail!("--windows and --steps must be at least 1");
    }
    let report = gauntlet::demo::run(
        ctx.config(),
        &args.dir,
        args.windows,
        args.steps,
        args.lr,
        &ctx.ui,
    )?;
    match ctx.format {
        Format::Table => {
            let mut b = tabled::builder::Builder::default();
            b.push_record([
                "window",
                "pages",
                "train loss (first step)",
                "train loss (last step)",
                "held-out loss",
            ]);
            b.push_record([
                "-".into(),
                "-".into(),
                "-".into(),
                "-".into(),
                format!("{:.4}", report.heldout_loss_initial),
            ]);
            for w in &report.windows {
                b.push_record([
                    w.window.to_string(),
                    format!("{:?}", w.pages),
                    format!("{:.4}", w.train_loss_first),
                    format!("{:.4}", w.train_loss_last),
                    format!("{:.4}", w.heldout_loss),
                ]);
            }
            let mut t = b.build();
            t.with(tabled::settings::Style::sharp());
            println!("{t}");
            let last = report
                .windows
                .last()
                .map(|w| w.heldout_loss)
                .unwrap_or(f64::NAN);
            println!(
                "held-out loss {:.4} -> {:.4} over {} windows (uniform guess {:.4}); checkpoints in {}",
                report.heldout_loss_initial,
                last,
                report.windows.len(),
                report.uniform_loss,
                args.dir.display()
            );
        }
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Format::Jsonl => println!("{}", serde_json::to_string(&report)?),
    }
    Ok(())
}
