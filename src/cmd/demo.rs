//! `gauntlet demo`: the main job on the embedded local defaults.

use crate::cli::Ctx;
use anyhow::Result;
use gauntlet::output::{styled, Format};
use std::path::PathBuf;

/// Run a whole local network on the embedded defaults (examples/local.yaml, compiled in)
///
/// Twelve peers (four honest, then a free-rider, a copycat, noise, zero, late, stale, lazy
/// and desync peer) share a folder bucket and train the tiny model on the embedded corpus.
/// Each window they train and upload, then the validator runs its round in process (peers,
/// fetch, filter, dedupe, evaluate, rate, commit to the local ledger) and the outer step
/// (aggregate) makes the next window's model. At the end: the leaderboard and the held-out
/// loss over the windows. Started again on the same folder, it resumes where it stopped.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Working folder: corpus, shards, network file, buckets, checkpoints, state, ledger
    #[arg(long, default_value = "gauntlet-demo")]
    dir: PathBuf,
    /// Windows to run
    #[arg(long, default_value_t = 12)]
    windows: u64,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    if args.windows == 0 {
        gauntlet::usage_bail!("--windows must be at least 1");
    }
    let report = gauntlet::demo::run(ctx.config(), &args.dir, args.windows, &ctx.ui)?;
    let mut out = ctx.output();
    match out.format() {
        Format::Table => {
            let mut b = tabled::builder::Builder::default();
            b.push_record([
                "uid",
                "behaviour",
                "rating",
                "μ",
                "σ",
                "BMA",
                "sync",
                "weight",
            ]);
            for s in &report.leaderboard {
                b.push_record([
                    s.uid.to_string(),
                    s.behaviour.clone(),
                    format!("{:.3}", s.ordinal),
                    format!("{:.3}", s.mu),
                    format!("{:.3}", s.sigma),
                    format!("{:.3}", s.bma),
                    format!("{:.3}", s.sync),
                    format!("{:.4}", s.weight),
                ]);
            }
            out.table(&styled(b.build()))?;
            let mut b = tabled::builder::Builder::default();
            b.push_record(["window", "aggregated peers", "held-out loss after"]);
            b.push_record([
                "start".into(),
                "-".into(),
                format!("{:.4}", report.heldout_loss_initial),
            ]);
            for w in &report.windows {
                b.push_record([
                    w.window.to_string(),
                    format!("{:?}", w.aggregated),
                    format!("{:.4}", w.heldout_loss),
                ]);
            }
            out.table(&styled(b.build()))?;
            let last = report.windows.last().map_or(f64::NAN, |w| w.heldout_loss);
            out.text(&format!(
                "honest peers hold {:.1}% of the weight; held-out loss {:.4} -> {:.4} over {} windows (uniform guess {:.4}); everything is in {}",
                100.0 * report.honest_weight_share,
                report.heldout_loss_initial,
                last,
                report.windows.len(),
                report.uniform_loss,
                args.dir.display()
            ))?;
            out.text(&format!(
                "the demo ran with {}; to run its last window again by hand:\n  {}",
                report.config_file.display(),
                report.reproduce
            ))
        }
        Format::Json | Format::Jsonl => out.value(&report),
    }
}
