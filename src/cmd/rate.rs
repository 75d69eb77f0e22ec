//! `gauntlet rate`: ratings, moving averages, slashes, final scores and weights.

use crate::cli::Ctx;
use anyhow::Result;
use gauntlet::rate::Admission;
use gauntlet::record::RecordReader;
use gauntlet::state::State;
use std::path::PathBuf;
use std::time::Duration;

/// Apply a window's evaluations to the validator's state; records gain `rating` and `weight`
///
/// One OpenSkill Plackett–Luce match of the evaluated peers (by score, in record order), the
/// indicator moving average, slashes for missing/late/early/malformed/desynced/duplicate
/// peers (positive scores only), inactivity decay and reset, final = ordinal · max(0, BMA) ·
/// sync, and weights (hparams.weights_schedule). The window is applied once, in one
/// transaction: re-running it changes nothing and prints the records as first rated.
///
/// Only whole windows are applied, in order: a stream that lacks peers `gauntlet peers` listed
/// for the window, a window that had not begun when they were listed, or one older than the
/// last applied is refused and the state left as it was (`--force` applies it anyway). To
/// rate a damaged window again: `gauntlet state forget --window W`, then windows W… in order.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Records of one window from `gauntlet evaluate` [default: stdin]
    input: Option<PathBuf>,
    /// The state database [default: state.path]
    #[arg(long)]
    state: Option<PathBuf>,
    /// Apply the records as they are: part of a window, a window not begun, or out of order
    #[arg(long)]
    force: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let cfg = ctx.config();
    let records = RecordReader::open(args.input.as_deref())?.collect::<Result<Vec<_>>>()?;
    let path = args.state.unwrap_or_else(|| cfg.state.path.clone());
    let mut state = State::open(
        &path,
        Duration::from_secs_f64(cfg.state.wait_seconds.max(0.0)),
    )?;
    let h = &cfg.hparams;
    let admission = if args.force {
        Admission::Forced
    } else {
        Admission::Checked
    };
    let outcome = gauntlet::rate::rate(
        &mut state,
        h,
        h.weights_schedule,
        &h.ramp(),
        records,
        admission,
    )?;
    if let Some(w) = outcome.records.first().map(|r| r.window) {
        if outcome.applied {
            ctx.ui
                .info(format!("rate: window {w} applied to {}", path.display()));
        } else {
            ctx.ui.info(format!(
                "rate: window {w} was already applied to {}; nothing changed",
                path.display()
            ));
        }
    }
    let mut out = ctx.output().records();
    for r in &outcome.records {
        out.write(r)?;
    }
    let _stdout = out.finish()?;
    Ok(())
}
