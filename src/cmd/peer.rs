//! `gauntlet peer`: a reference peer that trains on its pages and uploads a pseudo-gradient.

use crate::cli::{CheckpointArgs, Ctx};
use anyhow::Context;
use anyhow::Result;
use clap::ValueEnum;
use gauntlet::chain::NetworkFile;
use gauntlet::peer::{self, Behaviour, Job};
use gauntlet::store::{LocalStore, Store};
use std::path::PathBuf;

/// Act as a peer for one window: train on the assigned pages, upload the pseudo-gradient and sync slice
///
/// Loads the window's model (the newest checkpoint-{w}.safetensors at or before the window in
/// --checkpoints, or --checkpoint), trains on the pages assigned to --uid for --window, folds
/// the gradient into its error-feedback buffer (kept in --state between windows), encodes it
/// with the network's codec and writes gradient-{window}-{uid}-v{version}.safetensors and
/// sync-{window}-{uid}-v{version}.safetensors to the store. --behave makes it misbehave, for
/// tests and the demo. Prints a JSON report.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(long)]
    uid: u16,
    #[arg(long)]
    window: u64,
    /// The store to upload to: a folder (or file:// URL) [default: the peer's bucket in the network file]
    #[arg(long)]
    store: Option<PathBuf>,
    /// The network file whose bucket entry for --uid to upload to [default: network.file]
    #[arg(long, conflicts_with = "store")]
    network: Option<PathBuf>,
    #[command(flatten)]
    model: CheckpointArgs,
    /// Where the error-feedback buffer is kept between windows [default: ./peer-state]
    #[arg(long)]
    state: Option<PathBuf>,
    /// Train on at most this many batches of the assigned pages
    #[arg(long)]
    batches: Option<usize>,
    /// How to behave
    #[arg(long, value_enum, default_value_t = Behave::Honest)]
    behave: Behave,
    /// copycat, copy-hint, shuffle, relabel: the peer whose upload to copy (copycat: repeat to
    /// average several); predict-random: the uids the validator evaluates
    #[arg(long, required_if_eq_any([("behave", "copycat"), ("behave", "copy-hint"), ("behave", "shuffle"), ("behave", "relabel")]))]
    of: Vec<u16>,
    /// partial, copy-hint: the rows of its own pages to train on
    #[arg(long, default_value_t = 1)]
    rows: usize,
    /// copy-hint: the hint's norm, per parameter, relative to the copied update's
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// copy-hint: remove the hint's component along the copied update
    #[arg(long)]
    orthogonal: bool,
    /// shuffle: the fraction of each chunk's indices moved
    #[arg(long, default_value_t = 0.5)]
    moved: f64,
    /// partial: send the gradient through the error-feedback buffer (as feedback does)
    #[arg(long)]
    with_feedback: bool,
    /// copycat: relative noise added to the copied values (0 = exact copy)
    #[arg(long, default_value_t = 0.0)]
    perturb: f64,
    /// stale: train on the model of this many windows ago
    #[arg(long, default_value_t = 3)]
    stale_by: u64,
    /// lazy: the fraction of its batches to train on
    #[arg(long, default_value_t = 0.1)]
    fraction: f64,
    /// late: seconds to upload after time
    #[arg(long, default_value_t = 60.0)]
    late_by: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Behave {
    Honest,
    FreeRider,
    Copycat,
    Noise,
    Zero,
    Late,
    Stale,
    Lazy,
    Desync,
    CopyHint,
    Shuffle,
    Relabel,
    Partial,
    Feedback,
    PredictRandom,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    if !(0.0..=1.0).contains(&args.fraction)
        || !(0.0..=1.0).contains(&args.moved)
        || args.perturb < 0.0
        || args.late_by < 0.0
        || args.scale < 0.0
    {
        gauntlet::usage_bail!(
            "--fraction and --moved must be in [0, 1]; --perturb, --late-by and --scale not negative"
        );
    }
    let of = args.of.first().copied().unwrap_or_default();
    let behaviour = match args.behave {
        Behave::Honest => Behaviour::Honest,
        Behave::FreeRider => Behaviour::FreeRider,
        Behave::Copycat => Behaviour::Copycat {
            of: args.of.clone(),
            perturb: args.perturb,
        },
        Behave::Noise => Behaviour::Noise,
        Behave::Zero => Behaviour::Zero,
        Behave::Late => Behaviour::Late { by: args.late_by },
        Behave::Stale => Behaviour::Stale { by: args.stale_by },
        Behave::Lazy => Behaviour::Lazy {
            fraction: args.fraction,
        },
        Behave::Desync => Behaviour::Desync,
        Behave::CopyHint => Behaviour::CopyHint {
            of,
            rows: args.rows,
            scale: args.scale,
            orthogonal: args.orthogonal,
        },
        Behave::Shuffle => Behaviour::Shuffle {
            of,
            fraction: args.moved,
        },
        Behave::Relabel => Behaviour::Relabel { of },
        Behave::Partial => Behaviour::Partial {
            rows: args.rows,
            feedback: args.with_feedback,
        },
        Behave::Feedback => Behaviour::Feedback,
        Behave::PredictRandom => Behaviour::PredictRandom {
            uids: args.of.clone(),
        },
    };
    let checkpoints = args.model.into_checkpoints();
    let store: Box<dyn Store> = match &args.store {
        Some(dir) => Box::new(LocalStore::open(dir)?),
        None => {
            let network =
                NetworkFile::read(args.network.as_ref().unwrap_or(&ctx.config().network.file))?;
            let peer = network
                .peer(args.uid)
                .with_context(|| format!("uid {} is not in the network file", args.uid))?;
            let timeouts = gauntlet::store::Timeouts::configured(ctx.config());
            gauntlet::store::open(&peer.bucket, &network.base, timeouts)?
        }
    };
    let state_dir = args.state.unwrap_or_else(|| PathBuf::from("peer-state"));
    let job = Job {
        uid: args.uid,
        window: args.window,
        behaviour,
        checkpoints,
        state_dir,
        max_batches: args.batches,
    };
    let report = peer::run(ctx.config(), &job, store.as_ref())?;
    ctx.ui.detail(format!(
        "uid {} window {}: uploaded {} ({} bytes)",
        report.uid, report.window, report.gradient_key, report.gradient_bytes
    ));
    ctx.output().value(&report)
}
