//! The main job on the embedded local defaults: a whole local network on one machine.
//!
//! A network file with fifteen peers (honest ones, one of each misbehaviour of `gauntlet
//! peer` and the strongest rational strategies) sharing a folder bucket, the `tiny` model, the embedded corpus. Each window the
//! peers train and upload, then the validator runs its round in process (`peers | fetch |
//! filter | dedupe | evaluate | rate | commit`, then `aggregate`) and the next window's model
//! is the outer step's. At the end: the leaderboard and the held-out loss over the windows.
//!
//! Every step of a window is idempotent and the next window's checkpoint is written last, so
//! a demo killed mid-window and started again resumes at that window without losing or
//! double-counting anything.

use crate::chain::local::{BucketSpec, Clock, NetworkFile, PeerEntry};
use crate::chain::Source;
use crate::config::Config;
use crate::data::pack::{self, DocSplit};
use crate::data::{Dataset, Tokenizer};
use crate::model::checkpoint::Checkpoints;
use crate::model::{self, checkpoint, Model};
use crate::peer::{Behaviour, Job};
use crate::round::{Outcome, Workflow};
use crate::stage::{self, Stage};
use crate::state::State;
use crate::store::LocalStore;
use crate::time::format_time;
use crate::ui::Ui;
use anyhow::{Context, Result};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The embedded corpus: short English texts, packed with the byte-level tokenizer.
/// The demo's configuration, written in its folder, where `gauntlet` run by hand finds it.
pub const CONFIG_FILE: &str = "gauntlet.yaml";

pub const CORPUS: [(&str, &str); 6] = [
    (
        "distributed-training.txt",
        include_str!("../examples/corpus/distributed-training.txt"),
    ),
    (
        "incentives.txt",
        include_str!("../examples/corpus/incentives.txt"),
    ),
    (
        "operations.txt",
        include_str!("../examples/corpus/operations.txt"),
    ),
    ("river.txt", include_str!("../examples/corpus/river.txt")),
    (
        "kitchen.txt",
        include_str!("../examples/corpus/kitchen.txt"),
    ),
    (
        "weather.txt",
        include_str!("../examples/corpus/weather.txt"),
    ),
];

/// Writes the embedded corpus into `dir` and packs it into `shards`.
pub fn pack_corpus(dir: &Path, shards: &Path) -> Result<()> {
    pack_texts(&CORPUS, dir, shards)
}

/// The text the demo holds out: no peer trains on it, the held-out loss is measured on it.
const HELDOUT_TEXT: &str = "weather.txt";

fn pack_texts(texts: &[(&str, &str)], dir: &Path, shards: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for (name, text) in texts {
        std::fs::write(dir.join(name), text)?;
    }
    pack::pack(
        &[dir.to_path_buf()],
        shards,
        &Tokenizer::Bytes,
        DocSplit::Paragraph,
        64 << 20,
    )?;
    Ok(())
}

/// The demo's peers: honest ones, then one of each misbehaviour.
pub fn lineup() -> Vec<(u16, Behaviour)> {
    let mut peers: Vec<(u16, Behaviour)> = (1..=4).map(|uid| (uid, Behaviour::Honest)).collect();
    peers.extend([
        (5, Behaviour::FreeRider),
        (
            6,
            Behaviour::Copycat {
                of: vec![1],
                perturb: 0.0,
            },
        ),
        (7, Behaviour::Noise),
        (8, Behaviour::Zero),
        // Uploads a minute after its put window closed.
        (9, Behaviour::Late { by: 120.0 }),
        (10, Behaviour::Stale { by: 3 }),
        (11, Behaviour::Lazy { fraction: 0.1 }),
        (12, Behaviour::Desync),
        // The strongest of a rational peer's strategies (benches/incentives.rs): a copy of
        // uid 2 drowned in three times its norm of one own row's gradient, orthogonal to the
        // copy, so that no copy check sees it; one row of work; and training on the pages
        // the validator draws at random when its seed is the public default.
        (
            13,
            Behaviour::CopyHint {
                of: 2,
                rows: 1,
                scale: 3.0,
                orthogonal: true,
            },
        ),
        (
            14,
            Behaviour::Partial {
                rows: 1,
                feedback: false,
            },
        ),
        (
            15,
            Behaviour::PredictRandom {
                uids: (1..=15).collect(),
            },
        ),
    ]);
    peers
}

#[derive(Clone, Debug, Serialize)]
pub struct WindowFigures {
    pub window: u64,
    /// The peers whose updates the outer step took.
    pub aggregated: Vec<u16>,
    /// The held-out loss of the next window's model.
    pub heldout_loss: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Standing {
    pub uid: u16,
    pub behaviour: String,
    pub ordinal: f64,
    pub mu: f64,
    pub sigma: f64,
    pub bma: f64,
    pub sync: f64,
    pub weight: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub parameters: u64,
    pub peers: usize,
    pub heldout_pages: Vec<u64>,
    /// ln(vocab): the loss of a model that guesses uniformly.
    pub uniform_loss: f64,
    pub heldout_loss_initial: f64,
    pub windows: Vec<WindowFigures>,
    /// Best weight first.
    pub leaderboard: Vec<Standing>,
    /// The honest peers' share of the last window's weight.
    pub honest_weight_share: f64,
    /// Windows this run did (the rest were done by an earlier run of the same folder).
    pub resumed_at: u64,
    /// The configuration the demo ran with, written into its folder.
    pub config_file: PathBuf,
    /// The shell pipeline that runs the last window again by hand with that configuration.
    pub reproduce: String,
}

/// The config the demo runs with: `cfg` with every path inside `dir`.
pub fn demo_config(cfg: &Config, dir: &Path) -> Config {
    let mut c = cfg.clone();
    c.data.shards = dir.join("shards");
    c.fetch.cache = dir.join("cache");
    c.state.path = dir.join("state.db");
    c.network.file = dir.join("network.yaml");
    c.chain.network = String::new();
    // Fifteen peers on a 15K-token corpus: smaller pages (512 tokens), so that each peer's
    // pages and the validator's random pages still fit beside each other.
    c.hparams.rows_per_page = 4;
    c.hparams.batch_size = 4;
    // Twelve peers train one after another inside the put window: on a loaded machine that
    // can take longer than the reference's 10 s, and an honest peer must never count as late.
    // The late peer uploads 120 s after the window opened, so it is still late.
    c.hparams.time_window_delta_seconds = c.hparams.time_window_delta_seconds.max(60.0);
    // The reference sets weights every 50 windows; a demo of a dozen would show the ledger
    // receiving them once, before any peer was rated.
    c.hparams.windows_per_weights = c.hparams.windows_per_weights.clamp(1, 4);
    c
}

/// The demo's local network in its folder: the corpus and shards, the first checkpoint, the
/// network file whose clock this process keeps, and the peers' folder bucket.
pub struct Net {
    pub cfg: Config,
    pub dir: PathBuf,
    pub peers: Vec<(u16, Behaviour)>,
    network: NetworkFile,
    store: LocalStore,
}

impl Net {
    /// Opens the demo network in `dir`, creating what is not there yet.
    pub fn open(cfg: &Config, dir: &Path) -> Result<Net> {
        Net::with_peers(cfg, dir, lineup())
    }

    /// Opens a local network of `peers` in `dir`, creating what is not there yet.
    pub fn with_peers(cfg: &Config, dir: &Path, peers: Vec<(u16, Behaviour)>) -> Result<Net> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let dir = std::path::absolute(dir)?;
        let cfg = demo_config(cfg, &dir);
        let heldout_shards = dir.join("heldout-shards");
        if !cfg.data.shards.join("manifest.json").exists()
            || !heldout_shards.join("manifest.json").exists()
        {
            let (heldout, train): (Vec<_>, Vec<_>) = CORPUS
                .iter()
                .copied()
                .partition(|(name, _)| *name == HELDOUT_TEXT);
            pack_texts(&train, &dir.join("corpus/train"), &cfg.data.shards)?;
            pack_texts(&heldout, &dir.join("corpus/heldout"), &heldout_shards)?;
        }
        let data = Dataset::configured(&cfg)?;
        let (config, device, dtype) = model::from_settings(&cfg)?;
        model::check_vocab(&config, &data)?;
        let first = dir.join("checkpoints").join(checkpoint::window_file(0));
        if !first.exists() {
            Model::init(&config, device, dtype, cfg.model.init_seed)?.save(&first, None)?;
        }
        let network = if cfg.network.file.exists() {
            NetworkFile::read(&cfg.network.file)?
        } else {
            NetworkFile {
                clock: Clock {
                    genesis: format_time(SystemTime::now()),
                    window_seconds: 96.0,
                    windows: Default::default(),
                },
                peers: peers
                    .iter()
                    .map(|(uid, _)| PeerEntry {
                        uid: *uid,
                        hotkey: format!("demo-peer-{uid}"),
                        stake: 1.0,
                        bucket: BucketSpec {
                            url: "buckets".into(),
                            endpoint: None,
                            region: None,
                            access_key_id: None,
                            secret_access_key: None,
                        },
                    })
                    .collect(),
                unlisted: Vec::new(),
                commit_reveal: None,
                base: dir.clone(),
            }
        };
        let store = LocalStore::open(dir.join("buckets"))?;
        let settings = format!(
            "# The configuration `gauntlet demo` ran with in this folder: the stages run here by\n# hand (`gauntlet peers --window W | gauntlet fetch | ...`) read it and give the demo's\n# records.\n{}",
            yaml_serde::to_string(&crate::config::redact(&yaml_serde::to_value(&cfg)?))?
        );
        crate::atomic::write(&dir.join(CONFIG_FILE), settings.as_bytes())?;
        Ok(Net {
            cfg,
            dir,
            peers,
            network,
            store,
        })
    }

    /// The pipeline that runs window `w`'s validation by hand in the demo's folder, with the
    /// configuration it wrote there; `rate` prints the records as the demo rated them, and
    /// `evaluate`'s output is the same but for the ratings and weights.
    pub fn reproduce(&self, w: u64) -> String {
        format!(
            "cd '{}' && gauntlet peers --window {w} | gauntlet fetch | gauntlet filter --checkpoints checkpoints | gauntlet dedupe | gauntlet evaluate --checkpoints checkpoints | gauntlet rate",
            // Quoted for the shell, whatever the folder's name holds.
            self.dir.display().to_string().replace('\'', r"'\''")
        )
    }

    /// The validator's checkpoint folder.
    pub fn checkpoints(&self) -> PathBuf {
        self.dir.join("checkpoints")
    }

    /// Whether window `w` is done: its outer step (the last thing a window writes) is there.
    pub fn done(&self, w: u64) -> bool {
        self.checkpoints()
            .join(checkpoint::window_file(w + 1))
            .exists()
    }

    /// Opens window `w`'s put window now (this process is the chain's clock) and has every
    /// peer train and upload.
    pub fn upload(&mut self, w: u64) -> Result<()> {
        self.network
            .clock
            .windows
            .insert(w + 1, format_time(SystemTime::now()));
        self.network.write(&self.cfg.network.file)?;
        for (uid, behaviour) in &self.peers {
            let job = Job {
                uid: *uid,
                window: w,
                behaviour: behaviour.clone(),
                checkpoints: Checkpoints::Folder(self.checkpoints()),
                state_dir: self.dir.join("peer-state"),
                max_batches: None,
            };
            crate::peer::run(&self.cfg, &job, &self.store)
                .with_context(|| format!("demo peer {uid} in window {w}"))?;
        }
        Ok(())
    }

    /// The validator's round, as a workflow file would say it.
    pub fn workflow(&self) -> Workflow {
        Workflow {
            window: None,
            checkpoints: self.checkpoints(),
            keep: None,
            stages: vec![
                Stage::Peers,
                Stage::Fetch { stats: None },
                Stage::Filter,
                Stage::Dedupe,
                Stage::Evaluate {
                    device: None,
                    shard: None,
                },
                Stage::Rate { force: false },
                Stage::Commit {
                    dry_run: false,
                    version_key: None,
                },
                Stage::Aggregate {
                    sync_store: Some(self.dir.join("validator")),
                    uid: 0,
                },
            ],
        }
    }

    /// The validator's round of window `w`, in process, committing to the local ledger.
    pub fn validate(&self, w: u64, progress: &dyn Fn(&str)) -> Result<Outcome> {
        let workflow = self.workflow();
        let mut ctx = stage::Context::new(&self.cfg, Source::File(self.cfg.network.file.clone()));
        ctx.checkpoints = Some(Checkpoints::Folder(workflow.checkpoints));
        crate::round::run(&ctx, w, &workflow.stages, None, progress)
    }
}

/// Runs (or resumes) the demo network in `dir` for `windows` windows.
pub fn run(cfg: &Config, dir: &Path, windows: u64, ui: &Ui) -> Result<Report> {
    let mut net = Net::open(cfg, dir)?;
    let cfg = &net.cfg.clone();
    let h = &cfg.hparams;
    let (config, device, dtype) = model::from_settings(cfg)?;
    let ckpts = net.checkpoints();
    let held = Dataset::open(
        &net.dir.join("heldout-shards"),
        h.sequence_length,
        h.rows_per_page,
    )?;
    let heldout: Vec<u64> = (0..held.num_pages()).collect();
    let heldout_batches = held.batches(&heldout, h.batch_size)?;
    let heldout_loss = |w: u64| -> Result<f64> {
        let (_, path) = Checkpoints::Folder(ckpts.clone()).resolve(w)?;
        let m = Model::load(&config, device, dtype, &path)?;
        Ok(m.mean_loss(&heldout_batches, Some(held.eos_id())))
    };
    let first = ckpts.join(checkpoint::window_file(0));
    let mut report = Report {
        parameters: Model::load(&config, device, dtype, &first)?.param_count(),
        peers: net.peers.len(),
        heldout_pages: heldout.clone(),
        uniform_loss: (config.vocab_size as f64).ln(),
        heldout_loss_initial: heldout_loss(0)?,
        windows: Vec::new(),
        leaderboard: Vec::new(),
        honest_weight_share: 0.0,
        resumed_at: 0,
        config_file: net.dir.join(CONFIG_FILE),
        reproduce: net.reproduce(windows - 1),
    };
    ui.info(format!(
        "demo: {} peers, tiny model ({} parameters), {} windows in {}; held-out loss {:.3} (uniform guess {:.3})",
        net.peers.len(), report.parameters, windows, net.dir.display(), report.heldout_loss_initial, report.uniform_loss
    ));

    report.resumed_at = (0..windows).find(|&w| !net.done(w)).unwrap_or(windows);
    let bar = ui.progress(windows, "demo windows");
    bar.inc(report.resumed_at);
    for w in 0..windows {
        let mut aggregated = Vec::new();
        if w >= report.resumed_at {
            net.upload(w)?;
            let outcome = net.validate(w, &|note| ui.detail(format!("window {w}: {note}")))?;
            if let Some(e) = &outcome.commit_error {
                ui.warn(format!("window {w}: commit: {e}"));
            }
            aggregated = crate::aggregate::gather_set(cfg, &outcome.records)
                .iter()
                .map(|r| r.uid)
                .collect();
            bar.inc(1);
        }
        report.windows.push(WindowFigures {
            window: w,
            aggregated,
            heldout_loss: heldout_loss(w + 1)?,
        });
    }
    bar.finish_and_clear();
    leaderboard(cfg, &net.peers, &mut report)?;
    Ok(report)
}

fn leaderboard(cfg: &Config, peers: &[(u16, Behaviour)], report: &mut Report) -> Result<()> {
    let state = State::open(
        &cfg.state.path,
        crate::chain::seconds(cfg.state.wait_seconds),
    )?;
    let (_, weights) = state.read().weights(None)?;
    let rows = state.read().peers()?;
    let weight_of = |uid: u16| {
        weights
            .iter()
            .find(|(u, _)| *u == uid)
            .map_or(0.0, |(_, w)| *w)
    };
    let total: f64 = weights.iter().map(|(_, w)| w).sum();
    let honest: f64 = peers
        .iter()
        .filter(|(_, b)| *b == Behaviour::Honest)
        .map(|(uid, _)| weight_of(*uid))
        .sum();
    report.honest_weight_share = if total > 0.0 { honest / total } else { 0.0 };
    report.leaderboard = peers
        .iter()
        .map(|(uid, b)| {
            let row = rows.get(uid).cloned().unwrap_or_default();
            let (mu, sigma, ordinal) = row
                .rating
                .map_or((0.0, 0.0, 0.0), |r| (r.mu, r.sigma, r.ordinal()));
            Standing {
                uid: *uid,
                behaviour: b.name().to_string(),
                ordinal,
                mu,
                sigma,
                bma: row.bma,
                sync: row.sync,
                weight: weight_of(*uid),
            }
        })
        .collect();
    report.leaderboard.sort_by(|a, b| {
        b.weight
            .partial_cmp(&a.weight)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(
                b.ordinal
                    .partial_cmp(&a.ordinal)
                    .unwrap_or(std::cmp::Ordering::Equal),
            )
    });
    Ok(())
}
