//! `gauntlet state`: look into the validator's state, move ratings in and out.

use crate::cli::Ctx;
use anyhow::{Context, Result};
use clap::Subcommand;
use gauntlet::score::openskill::Rating;
use gauntlet::state::State;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The validator's state: ratings, weights, history
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Print every peer's rating as {"<uid>": {"mu", "sigma", "ordinal"}} (the reference's form)
    Export(Common),
    /// Load ratings from that form (e.g. a reference validator's), in one transaction
    Import(ImportArgs),
    /// The weights of a window [default: the latest]
    Weights(WeightsArgs),
    /// Every peer's current figures
    Peers(Common),
    /// A window's records as `rate` applied them, to compare, re-run or audit it
    Records(RecordsArgs),
    /// Undo the applied windows from W on (ratings, history, weights, pending submissions), so
    /// that a damaged window can be rated again; then rate W and the windows after it in order
    Forget(ForgetArgs),
    /// Write a consistent copy of the state to FILE, safe while validators run
    Backup(BackupArgs),
}

#[derive(clap::Args, Debug)]
pub struct RecordsArgs {
    #[arg(long)]
    window: u64,
    #[command(flatten)]
    common: Common,
}

#[derive(clap::Args, Debug)]
pub struct ForgetArgs {
    /// The first window to undo; every applied window after it goes too
    #[arg(long)]
    window: u64,
    #[command(flatten)]
    common: Common,
}

#[derive(clap::Args, Debug)]
pub struct BackupArgs {
    /// Where the copy goes (replaced whole if it exists)
    file: PathBuf,
    #[command(flatten)]
    common: Common,
}

#[derive(clap::Args, Debug)]
pub struct Common {
    /// The state database [default: state.path]
    #[arg(long)]
    state: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    file: PathBuf,
    #[command(flatten)]
    common: Common,
}

#[derive(clap::Args, Debug)]
pub struct WeightsArgs {
    #[arg(long)]
    window: Option<u64>,
    #[command(flatten)]
    common: Common,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Exported {
    mu: f64,
    sigma: f64,
    #[serde(default)]
    ordinal: f64,
}

/// The state, which must exist: a typo in the path must not look like an empty state (nor
/// leave a new file behind). Read-only but for `forget`, the one subcommand here that changes
/// it.
fn open(ctx: &Ctx, c: &Common, write: bool) -> Result<State> {
    let cfg = ctx.config();
    let path = c.state.as_ref().unwrap_or(&cfg.state.path);
    let wait = gauntlet::chain::seconds(cfg.state.wait_seconds);
    if write {
        State::open_existing(path, wait)
    } else {
        State::open_read_only(path, wait)
    }
}

pub fn run(ctx: &Ctx, cmd: Command) -> Result<()> {
    match cmd {
        Command::Export(c) => {
            let state = open(ctx, &c, false)?;
            let out: BTreeMap<String, Exported> = state
                .read()
                .peers()?
                .into_values()
                .filter_map(|p| {
                    p.rating.map(|r| {
                        (
                            p.uid.to_string(),
                            Exported {
                                mu: r.mu,
                                sigma: r.sigma,
                                ordinal: r.ordinal(),
                            },
                        )
                    })
                })
                .collect();
            ctx.output().keyed("uid", &out)?;
        }
        Command::Import(a) => {
            let text = std::fs::read_to_string(&a.file)
                .with_context(|| format!("cannot read {}", a.file.display()))?;
            let ratings: BTreeMap<String, Exported> =
                serde_json::from_str(&text).with_context(|| {
                    format!(
                        "{} is not {{\"<uid>\": {{\"mu\", \"sigma\"}}}}",
                        a.file.display()
                    )
                })?;
            // Importing may start a state: the one command here that creates it.
            let cfg = ctx.config();
            let mut state = State::open(
                a.common.state.as_ref().unwrap_or(&cfg.state.path),
                gauntlet::chain::seconds(cfg.state.wait_seconds),
            )?;
            let tx = state.begin()?;
            let mut peers = tx.read().peers()?;
            for (uid, r) in &ratings {
                let uid: u16 = uid
                    .parse()
                    .with_context(|| format!("{uid:?} is not a uid"))?;
                anyhow::ensure!(
                    r.mu.is_finite() && r.sigma.is_finite() && r.sigma > 0.0,
                    "uid {uid}: mu and sigma must be finite, sigma positive"
                );
                let p = peers.entry(uid).or_insert_with(|| gauntlet::state::Peer {
                    uid,
                    waiting: 1,
                    ..Default::default()
                });
                p.rating = Some(Rating {
                    mu: r.mu,
                    sigma: r.sigma,
                });
                tx.put_peer(p)?;
            }
            tx.commit()?;
            ctx.ui.info(format!("imported {} ratings", ratings.len()));
        }
        Command::Weights(a) => {
            let state = open(ctx, &a.common, false)?;
            let (window, weights) = state.read().weights(a.window)?;
            let out = serde_json::json!({"window": window, "weights": weights.iter().map(|(u, w)| serde_json::json!({"uid": u, "weight": w})).collect::<Vec<_>>()});
            ctx.output().value(&out)?;
        }
        Command::Peers(c) => {
            let state = open(ctx, &c, false)?;
            ctx.output().items(state.read().peers()?.into_values())?;
        }
        Command::Records(a) => {
            let state = open(ctx, &a.common, false)?;
            anyhow::ensure!(
                state.read().applied(a.window)?,
                "window {} has not been applied to {}",
                a.window,
                state.path().display()
            );
            let records = state.read().history(a.window)?;
            let mut out = ctx.output().records();
            for r in &records {
                out.write(r)?;
            }
            let _stdout = out.finish()?;
        }
        Command::Forget(a) => {
            let mut state = open(ctx, &a.common, true)?;
            let tx = state.begin()?;
            let forgotten = tx.forget(a.window)?;
            tx.commit()?;
            let windows = &forgotten.windows;
            ctx.ui.info(format!(
                "forgot windows {:?} in {}: rate window {} and the ones after it again, in order",
                windows,
                state.path().display(),
                a.window
            ));
            if !forgotten.on_chain.is_empty() {
                ctx.ui.warn(format!(
                    "the weights of windows {:?} had already gone to the chain; they stay there and are not sent again",
                    forgotten.on_chain
                ));
            }
        }
        Command::Backup(a) => {
            let state = open(ctx, &a.common, false)?;
            state.backup(&a.file)?;
            ctx.ui.info(format!(
                "copied {} to {}",
                state.path().display(),
                a.file.display()
            ));
        }
    }
    Ok(())
}
