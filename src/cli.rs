//! The command line: global options shared by every command, and the context they build.

use crate::cmd::Command;
use anyhow::Result;
use clap::{Args, Parser, ValueEnum};
use gauntlet::config::LoadedConfig;
use gauntlet::output::{Format, Output};
use gauntlet::ui::Ui;
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "gauntlet",
    version,
    about = "Validate a permissionless distributed-training network: decide each window which peers helped train the model, and pay them for it.",
    long_about = "gauntlet implements the Gauntlet incentive mechanism (arXiv 2505.21684). Each stage is a subcommand that reads per-peer records (JSON lines) from a file or stdin and writes them to stdout, so a validation round is a shell pipeline.\n\nConfiguration: --config FILE, else ./gauntlet.yaml, else ~/.config/gauntlet/config.yaml; every key can be overridden by GAUNTLET_<SECTION>__<KEY> or --set section.key=value. `gauntlet config` shows the effective values.",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug)]
pub struct GlobalArgs {
    /// YAML config file [default: ./gauntlet.yaml, then ~/.config/gauntlet/config.yaml]
    #[arg(long, global = true, value_name = "FILE", env = "GAUNTLET_CONFIG")]
    pub config: Option<PathBuf>,

    /// Override one config key (repeatable), e.g. --set hparams.openskill_beta=7
    #[arg(long = "set", global = true, value_name = "KEY=VALUE")]
    pub set: Vec<String>,

    /// Output format: auto is a table on a terminal and JSON lines on a pipe
    #[arg(long, global = true, value_enum, default_value_t = FormatArg::Auto)]
    pub format: FormatArg,

    /// Print nothing on stderr but warnings and errors
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Say more about what is happening (repeatable)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// Where the validator's (or a peer's) model for a window is: a folder of
/// checkpoint-{window}.safetensors files, or one checkpoint.
#[derive(Args, Debug)]
pub struct CheckpointArgs {
    /// Folder of checkpoint-{window}.safetensors files (the newest at or before the window is used)
    #[arg(
        long,
        conflicts_with = "checkpoint",
        required_unless_present = "checkpoint"
    )]
    pub checkpoints: Option<PathBuf>,
    /// One checkpoint to use whatever the window
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
}

impl CheckpointArgs {
    pub fn into_checkpoints(self) -> gauntlet::model::checkpoint::Checkpoints {
        match (self.checkpoint, self.checkpoints) {
            (Some(file), _) => gauntlet::model::checkpoint::Checkpoints::File(file),
            (None, Some(dir)) => gauntlet::model::checkpoint::Checkpoints::Folder(dir),
            (None, None) => unreachable!("clap requires one of --checkpoint and --checkpoints"),
        }
    }
}

/// Where peers come from and weights go, as btcli spells it.
#[derive(Args, Debug, Default)]
pub struct ChainArgs {
    /// finney, test, local, a ws(s):// URL, or a local network file [default: chain.network, else network.file]
    #[arg(long, value_name = "NETWORK")]
    pub network: Option<String>,
    /// The subnet [default: chain.netuid]
    #[arg(long)]
    pub netuid: Option<u16>,
}

impl ChainArgs {
    pub fn source(&self, cfg: &gauntlet::config::Config) -> gauntlet::chain::Source {
        let netuid = self.netuid.unwrap_or(cfg.chain.netuid);
        match self.network.as_deref().unwrap_or(&cfg.chain.network) {
            "" => gauntlet::chain::Source::File(cfg.network.file.clone()),
            network => gauntlet::chain::Source::parse(network, netuid),
        }
    }
}

/// The validator's hotkey in a Bittensor wallet, as btcli spells it.
#[derive(Args, Debug)]
pub struct WalletArgs {
    /// The wallet [default: chain.wallet_name]
    #[arg(long)]
    pub wallet_name: Option<String>,
    /// The hotkey that signs [default: chain.wallet_hotkey]
    #[arg(long)]
    pub wallet_hotkey: Option<String>,
    /// The wallets folder [default: chain.wallet_path]
    #[arg(long)]
    pub wallet_path: Option<PathBuf>,
}

impl WalletArgs {
    pub fn wallet(&self, cfg: &gauntlet::config::Config) -> gauntlet::chain::wallet::WalletRef {
        let c = &cfg.chain;
        gauntlet::chain::wallet::WalletRef {
            path: self
                .wallet_path
                .clone()
                .unwrap_or_else(|| c.wallet_path.clone()),
            name: self
                .wallet_name
                .clone()
                .unwrap_or_else(|| c.wallet_name.clone()),
            hotkey: self
                .wallet_hotkey
                .clone()
                .unwrap_or_else(|| c.wallet_hotkey.clone()),
        }
    }

    /// Whether the operator named a wallet on the command line.
    pub fn given(&self) -> bool {
        self.wallet_name.is_some() || self.wallet_hotkey.is_some() || self.wallet_path.is_some()
    }

    /// The hotkey that signs: needed on a real chain; the local ledger records it when given.
    pub fn signer(
        &self,
        cfg: &gauntlet::config::Config,
        source: &gauntlet::chain::Source,
    ) -> Result<Option<gauntlet::chain::wallet::Hotkey>> {
        let on_subtensor = matches!(source, gauntlet::chain::Source::Subtensor { .. });
        if on_subtensor || self.given() {
            Ok(Some(gauntlet::chain::wallet::Hotkey::load(
                &self.wallet(cfg),
            )?))
        } else {
            Ok(None)
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Auto,
    Jsonl,
    Json,
    Table,
}

/// What every command gets: the effective config, how to talk to the operator, and the
/// output format.
pub struct Ctx {
    pub loaded: LoadedConfig,
    pub ui: Ui,
    pub format: Format,
}

impl Ctx {
    /// The context with `base` (a name and YAML text) layered over the built-in defaults.
    pub fn new(global: &GlobalArgs, base: Option<(&'static str, &str)>) -> Result<Ctx> {
        let env = std::env::vars().filter(|(k, _)| k.starts_with("GAUNTLET_"));
        let loaded = LoadedConfig::load_over(base, global.config.as_deref(), env, &global.set)?;
        let format = match global.format {
            FormatArg::Jsonl => Format::Jsonl,
            FormatArg::Json => Format::Json,
            FormatArg::Table => Format::Table,
            FormatArg::Auto if std::io::stdout().is_terminal() => Format::Table,
            FormatArg::Auto => Format::Jsonl,
        };
        let ui = Ui::new(global.quiet, global.verbose);
        if let Some(file) = &loaded.file {
            ui.detail(format!("config: {}", file.display()));
        }
        if loaded.config.runtime.threads > 0 {
            tch::set_num_threads(loaded.config.runtime.threads as i32);
        }
        Ok(Ctx { loaded, ui, format })
    }

    pub fn config(&self) -> &gauntlet::config::Config {
        &self.loaded.config
    }

    /// Stdout in the chosen format: the one way a command writes its output.
    pub fn output(&self) -> Output<std::io::StdoutLock<'static>> {
        Output::stdout(self.format)
    }
}
