//! `gauntlet run`: a round described in a YAML workflow, in one process.

use crate::cli::{ChainArgs, Ctx, WalletArgs};
use anyhow::Result;
use gauntlet::round::{Round, Stage, Workflow};
use std::path::PathBuf;

/// Run a validation round from a workflow file, in one process; the last stage's records to stdout
///
/// The workflow names the stages in order (peers first, then any of fetch, filter, dedupe,
/// select, evaluate, rate, commit, aggregate, with their options), the validator's checkpoint
/// folder and, optionally, the window and a folder to keep each stage's records in
/// (`{stage}-{window}.jsonl`). The stages are the same library calls as the commands, so the
/// result is the one `peers | fetch | filter | dedupe | evaluate | rate` then `commit` and
/// `aggregate` give (workflows/round.sh and workflows/round.yaml are the same round). The
/// chain is read once per round. As in round.sh, a failed commit does not stop the round: the
/// weights stay pending, the outer step still runs, and the run exits 1 at the end. Relative
/// paths in the workflow are taken from the working directory, as the shell's are.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The workflow file (see workflows/round.yaml)
    workflow: PathBuf,
    /// The window [default: the workflow's, else the current window − validator_offset]
    #[arg(long)]
    window: Option<u64>,
    /// The state database [default: state.path]
    #[arg(long)]
    state: Option<PathBuf>,
    /// Keep each stage's records in DIR [default: the workflow's keep]
    #[arg(long, value_name = "DIR")]
    keep: Option<PathBuf>,
    #[command(flatten)]
    chain: ChainArgs,
    #[command(flatten)]
    wallet: WalletArgs,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let cfg = ctx.config();
    let workflow = Workflow::read(&args.workflow)?;
    let source = args.chain.source(cfg);
    let seeded = workflow
        .stages
        .iter()
        .any(|s| matches!(s, Stage::Evaluate { .. } | Stage::Select));
    if seeded {
        source.require_secret_seed(cfg)?;
    }
    let commits = workflow
        .stages
        .iter()
        .any(|s| matches!(s, Stage::Commit { .. }));
    let signer = if commits {
        args.wallet.signer(cfg, &source)?
    } else {
        None
    };
    let chain = source.open(cfg)?;
    let window = match args.window.or(workflow.window) {
        Some(w) => w,
        None => chain
            .current_window()?
            .saturating_sub(cfg.hparams.validator_offset),
    };
    let round = Round {
        cfg,
        chain: chain.as_ref(),
        checkpoints: workflow.checkpoints.clone(),
        state: args.state.unwrap_or_else(|| cfg.state.path.clone()),
        signer: signer.as_ref(),
        netuid: args.chain.netuid.unwrap_or(cfg.chain.netuid),
        keep: args.keep.or(workflow.keep.clone()),
    };
    ctx.ui.info(format!(
        "run: window {window} on {}: {}",
        chain.describe(),
        workflow
            .stages
            .iter()
            .map(Stage::name)
            .collect::<Vec<_>>()
            .join(" → ")
    ));
    let outcome = round.run(window, &workflow.stages, &|note| {
        ctx.ui.info(format!("run: {note}"))
    })?;
    let mut out = ctx.output().records();
    for r in &outcome.records {
        out.write(r)?;
    }
    let _stdout = out.finish()?;
    if let Some(e) = outcome.commit_error {
        anyhow::bail!(
            "window {window}: the weights were not sent to {}: {e}",
            chain.describe()
        );
    }
    Ok(())
}
