//! `gauntlet commit`: the state's pending weights to the chain.

use crate::cli::{ChainArgs, Ctx, WalletArgs};
use anyhow::Result;
use gauntlet::chain::wallet::Hotkey;
use gauntlet::stage::{Context, Stage};
use std::io::IsTerminal;
use std::path::PathBuf;

/// Send the newest pending weights from the state to the chain; records pass through unchanged
///
/// Weights are the state's for the newest pending window, normalised to u16 as the chain does
/// (the largest is 65535), with the subnet's version key. Where the subnet runs commit-reveal
/// v4 (CommitRevealWeightsVersion 4), the weights go out encrypted to the drand round at which
/// the chain reveals them itself (commit_timelocked_weights); on runtimes with the hash
/// commit-reveal (v2), they are committed as a hash now and revealed by a later run in the
/// reveal epoch, commit epoch + RevealPeriodEpochs, as the chain counts it from the block that
/// included the commit (the salt is kept in the state, so a restart still reveals; a commit
/// whose reveal epoch passed is committed again). Commit-reveal v3 is refused, saying so. The
/// subnet's rate limit is read first, counted at the block a submission would land in: when
/// it is not allowed yet, the run says from which block, leaves the weights pending and exits
/// 0. A failed submission stays pending with its error and the next run retries it; nothing is
/// marked sent before a finalized block included it. With the local network file, the weights
/// go to its ledger (ledger.jsonl beside it).
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Records to pass through (from `gauntlet rate`) [default: stdin when it is a pipe]
    input: Option<PathBuf>,
    /// The state database [default: state.path]
    #[arg(long)]
    state: Option<PathBuf>,
    #[command(flatten)]
    chain: ChainArgs,
    #[command(flatten)]
    wallet: WalletArgs,
    /// The weights' version key [default: chain.version_key, else the subnet's]
    #[arg(long)]
    version_key: Option<u64>,
    /// Print each call and its encoded bytes instead of sending it; change nothing
    #[arg(long)]
    dry_run: bool,
    /// With --dry-run: the validator's hotkey by its ss58 address, where its wallet is not on
    /// this machine (nothing can be signed with it)
    #[arg(long, value_name = "SS58", requires = "dry_run", conflicts_with_all = ["wallet_name", "wallet_hotkey", "wallet_path"])]
    hotkey_ss58: Option<String>,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let cfg = ctx.config();
    let records = match &args.input {
        Some(p) => super::read_records(Some(p))?,
        None if !std::io::stdin().is_terminal() => super::read_records(None)?,
        None => Vec::new(),
    };
    let source = args.chain.source(cfg);
    let signer = match &args.hotkey_ss58 {
        Some(address) => Some(Hotkey::address(address)?),
        None => args.wallet.signer(cfg, &source).map_err(|e| {
            if args.dry_run {
                e.context("a dry run without the wallet can name the validator's hotkey by its address instead: --hotkey-ss58 5…")
            } else {
                e
            }
        })?,
    };
    let mut context = Context::new(cfg, source);
    if let Some(path) = args.state {
        context.state = path;
    }
    context.signer = signer.as_ref();
    context.netuid = args.chain.netuid.unwrap_or(cfg.chain.netuid);
    let stage = Stage::Commit {
        dry_run: args.dry_run,
        version_key: args.version_key,
    };
    super::run_stage(ctx, &context, &stage, super::window_of(&records), records)
}
