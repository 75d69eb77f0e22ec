//! The main job on the embedded local defaults.
//!
//! For now: pack the embedded corpus, build the `tiny` model, and train it as one peer would,
//! window by window on its assigned pages, measuring the loss on held-out pages that no
//! window trained on. The whole local network (peers, validator, ranking) comes with the
//! later stages.

use crate::config::Config;
use crate::data::pack::{self, DocSplit};
use crate::data::{Dataset, PageAssigner, Tokenizer};
use crate::model::{self, Model, Trainer};
use crate::ui::Ui;
use anyhow::{Context, Result};
use serde::Serialize;
use std::collections::HashSet;
use std::path::Path;

/// The embedded corpus: short English texts, packed with the byte-level tokenizer.
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

/// The peer the demo trains as.
const DEMO_UID: u16 = 1;
/// Seed of the held-out page draw.
const HELDOUT_SEED: u64 = 7;

#[derive(Clone, Debug, Serialize)]
pub struct WindowFigures {
    pub window: u64,
    pub pages: Vec<u64>,
    pub train_loss_first: f64,
    pub train_loss_last: f64,
    pub heldout_loss: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub parameters: u64,
    pub tokens: u64,
    pub pages: u64,
    pub heldout_pages: Vec<u64>,
    /// ln(vocab): the loss of a model that guesses uniformly.
    pub uniform_loss: f64,
    pub heldout_loss_initial: f64,
    pub windows: Vec<WindowFigures>,
}

/// Writes the embedded corpus into `dir` and packs it into `shards`.
pub fn pack_corpus(dir: &Path, shards: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for (name, text) in CORPUS {
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

/// Trains the model as peer 1 for `windows` windows of `steps` AdamW steps at `lr`.
pub fn run(
    cfg: &Config,
    dir: &Path,
    windows: u64,
    steps: usize,
    lr: f64,
    ui: &Ui,
) -> Result<Report> {
    let shards = dir.join("shards");
    pack_corpus(&dir.join("corpus"), &shards)?;
    let h = &cfg.hparams;
    let data = Dataset::open(&shards, h.sequence_length, h.rows_per_page)?;
    let (config, device, dtype) = model::from_settings(cfg)?;
    model::check_vocab(&config, &data)?;
    let pa = PageAssigner::new(
        &cfg.data.assignment_key,
        data.num_pages(),
        h.pages_per_window,
    )?;

    let trained: HashSet<u64> = (0..windows)
        .flat_map(|w| pa.assigned(DEMO_UID, w))
        .collect();
    let heldout: Vec<u64> = pa
        .random(HELDOUT_SEED, 0, data.num_pages() as usize, &[])?
        .into_iter()
        .filter(|p| !trained.contains(p))
        .take(h.pages_per_window)
        .collect();
    anyhow::ensure!(
        !heldout.is_empty(),
        "every page of the corpus is trained on in {windows} windows: run fewer windows"
    );
    let heldout_batches = data.batches(&heldout, h.batch_size)?;

    let m = Model::init(&config, device, dtype, cfg.model.init_seed)?;
    m.save(&dir.join("model-initial.safetensors"), None)?;
    let pad = Some(data.eos_id());
    let mut report = Report {
        parameters: m.param_count(),
        tokens: data.manifest.total_tokens(),
        pages: data.num_pages(),
        heldout_pages: heldout.clone(),
        uniform_loss: (config.vocab_size as f64).ln(),
        heldout_loss_initial: m.mean_loss(&heldout_batches, pad),
        windows: Vec::new(),
    };
    ui.info(format!(
        "tiny model, {} parameters, on {} tokens ({} pages); held-out loss {:.3} (uniform guess: {:.3})",
        report.parameters, report.tokens, report.pages, report.heldout_loss_initial, report.uniform_loss
    ));
    let mut trainer = Trainer::new(&m, lr, pad)?;
    let bar = ui.progress(windows, "training");
    for w in 0..windows {
        let pages = pa.assigned(DEMO_UID, w);
        let losses = trainer.run(&m, &data.batches(&pages, h.batch_size)?, steps)?;
        report.windows.push(WindowFigures {
            window: w,
            pages,
            train_loss_first: losses[0],
            train_loss_last: *losses.last().expect("steps ≥ 1"),
            heldout_loss: m.mean_loss(&heldout_batches, pad),
        });
        bar.inc(1);
    }
    bar.finish_and_clear();
    m.save(&dir.join("model-final.safetensors"), None)?;
    Ok(report)
}
