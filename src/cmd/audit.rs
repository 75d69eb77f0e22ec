//! `gauntlet audit`: everything about one peer, explained.

use crate::cli::Ctx;
use anyhow::Result;
use gauntlet::output::{styled, Format};
use gauntlet::state::State;
use std::path::PathBuf;

/// One peer explained: each stage's figures, statuses and reasons, and how its weight follows
///
/// From the validator's state (every window `rate` applied): upload, sync, losses, LossScore,
/// indicator, rating, BMA, final score and weight, each with the formula that produced it. A
/// table on a terminal, JSON on a pipe.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(long)]
    uid: u16,
    /// One window
    #[arg(long, conflicts_with = "last")]
    window: Option<u64>,
    /// The peer's last N windows
    #[arg(long, default_value_t = 1)]
    last: usize,
    /// The state database [default: state.path]
    #[arg(long)]
    state: Option<PathBuf>,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let cfg = ctx.config();
    let state = State::open_read_only(
        args.state.as_ref().unwrap_or(&cfg.state.path),
        gauntlet::chain::seconds(cfg.state.wait_seconds),
    )?;
    let records = match args.window {
        Some(w) => state
            .read()
            .history(w)?
            .into_iter()
            .filter(|r| r.uid == args.uid)
            .collect(),
        None => state.read().peer_history(args.uid, args.last.max(1))?,
    };
    if records.is_empty() {
        anyhow::bail!(
            "the state {} has no rated window for uid {}{}",
            state.path().display(),
            args.uid,
            args.window
                .map(|w| format!(" in window {w}"))
                .unwrap_or_default()
        );
    }
    let explained: Vec<_> = records
        .iter()
        .map(|r| gauntlet::audit::explain(r, &cfg.hparams))
        .collect();
    let mut out = ctx.output();
    match out.format() {
        Format::Table => {
            for e in &explained {
                let mut b = tabled::builder::Builder::default();
                b.push_record([
                    format!("uid {} · window {}", e.uid, e.window),
                    String::new(),
                ]);
                for (k, v) in &e.figures {
                    b.push_record([k.clone(), v.clone()]);
                }
                out.table(&styled(b.build()))?;
            }
            Ok(())
        }
        Format::Json | Format::Jsonl => out.items(&explained),
    }
}
