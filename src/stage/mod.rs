//! One entry point per stage. `gauntlet X` and the in-process round (`run`, `demo`) both call
//! [`run`] with a [`Context`] and the window's records, and get back the records, a note of
//! what the stage did and the messages for the operator: a command is its help, its arguments
//! and this call; a round is a loop over it.

mod kind;

pub use kind::Stage;

use crate::chain::{Chain, NetworkFile, Source};
use crate::config::Config;
use crate::model::checkpoint::Checkpoints;
use crate::record::{Record, Status};
use crate::state::State;
use anyhow::{Context as _, Result};
use std::cell::{OnceCell, RefCell};
use std::path::PathBuf;

/// What every stage may need, opened once per process and only when a stage needs it: the
/// chain (on subtensor each read is a query), the window's network (read once per window).
pub struct Context<'a> {
    pub cfg: &'a Config,
    source: Source,
    chain: OnceCell<Box<dyn Chain>>,
    network: RefCell<Option<(u64, NetworkFile)>>,
    /// The validator's checkpoints (filter, evaluate; aggregate needs a folder).
    pub checkpoints: Option<Checkpoints>,
    /// The state database (select, rate, commit).
    pub state: PathBuf,
    /// The validator's hotkey (commit).
    pub signer: Option<&'a crate::chain::wallet::Hotkey>,
    pub netuid: u16,
}

/// What a stage says to the operator besides its note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    Info(String),
    Warn(String),
    /// Printed even when the operator asked for quiet: what a dry run is for.
    Shown(String),
}

/// What a stage did.
#[derive(Debug)]
pub struct Done {
    pub records: Vec<Record>,
    /// One line: what the stage did.
    pub note: String,
    pub messages: Vec<Message>,
    /// The stage ran to its end but did not do its job (commit: the weights were not sent;
    /// they stay pending). The records are still good to pass on.
    pub failure: Option<String>,
}

impl Done {
    fn new(records: Vec<Record>, note: impl Into<String>) -> Done {
        Done {
            records,
            note: note.into(),
            messages: Vec::new(),
            failure: None,
        }
    }

    /// A stage that failed, passing `records` on as it was given them.
    pub fn failed(records: Vec<Record>, why: String) -> Done {
        Done {
            note: format!("failed: {why}"),
            failure: Some(why),
            ..Done::new(records, "")
        }
    }
}

impl<'a> Context<'a> {
    /// A context on `source`, with the state and netuid of the config.
    pub fn new(cfg: &'a Config, source: Source) -> Context<'a> {
        Context {
            cfg,
            source,
            chain: OnceCell::new(),
            network: RefCell::new(None),
            checkpoints: None,
            state: cfg.state.path.clone(),
            signer: None,
            netuid: cfg.chain.netuid,
        }
    }

    /// The chain, connected at the first call.
    pub fn chain(&self) -> Result<&dyn Chain> {
        if self.chain.get().is_none() {
            let chain = self.source.open(self.cfg)?;
            let _ = self.chain.set(chain);
        }
        Ok(self.chain.get().expect("set just above").as_ref())
    }

    /// The window the validator scores now: the chain's current window minus
    /// hparams.validator_offset.
    pub fn scored_window(&self) -> Result<u64> {
        Ok(self
            .chain()?
            .current_window()?
            .saturating_sub(self.cfg.hparams.validator_offset))
    }

    /// The network as of `window`, read once per window.
    fn network(&self, window: u64) -> Result<NetworkFile> {
        if let Some((w, n)) = &*self.network.borrow() {
            if *w == window {
                return Ok(n.clone());
            }
        }
        let n = self.chain()?.network(window)?;
        *self.network.borrow_mut() = Some((window, n.clone()));
        Ok(n)
    }

    fn checkpoints(&self, stage: &str) -> Result<&Checkpoints> {
        self.checkpoints
            .as_ref()
            .with_context(|| format!("{stage} needs the validator's checkpoints (--checkpoints)"))
    }

    fn open_state(&self) -> Result<State> {
        State::open(
            &self.state,
            crate::chain::seconds(self.cfg.state.wait_seconds),
        )
    }
}

/// Runs one stage on the records of `window`; `tick` is called once per record done, for
/// progress bars.
pub fn run(
    ctx: &Context,
    stage: &Stage,
    window: u64,
    records: Vec<Record>,
    tick: &(dyn Fn() + Sync),
) -> Result<Done> {
    let cfg = ctx.cfg;
    let mut records = records;
    Ok(match stage {
        Stage::Peers => {
            let now = ctx.chain()?.current_window()?;
            let records = ctx.network(window)?.records(window, now);
            let note = format!("window {window}: {} participants", records.len());
            Done::new(records, note)
        }
        Stage::Fetch { stats } => {
            let opts = crate::fetch::Options::from_config(cfg)?;
            let (records, s) = crate::fetch::fetch(records, &ctx.network(window)?, &opts, tick)?;
            if let Some(path) = stats {
                crate::atomic::write(path, serde_json::to_string(&s)?.as_bytes())?;
            }
            let note = format!(
                "{} records, {} fetched ({} from the cache), {} failed, {} bytes downloaded",
                s.records, s.fetched, s.from_cache, s.failed, s.bytes_downloaded
            );
            Done::new(records, note)
        }
        Stage::Filter => {
            let clock = ctx.network(window)?.clock;
            let checkpoints = ctx.checkpoints("filter")?.clone();
            let mut filter = crate::filter::Filter::new(cfg, clock, checkpoints)?;
            for r in records.iter_mut() {
                filter.apply(r)?;
                tick();
            }
            let ok = records.iter().filter(|r| r.status.is_ok()).count();
            let mut done = Done::new(records, format!("{ok} passed"));
            done.messages.extend(filter.warning().map(Message::Warn));
            done
        }
        Stage::Dedupe => {
            let compared = crate::dedupe::run(cfg, &mut records)?;
            let copies = count(&records, Status::Duplicate);
            Done::new(
                records,
                format!("{compared} peers compared, {copies} copies"),
            )
        }
        Stage::Select => {
            let chosen = crate::select::select(&mut ctx.open_state()?, cfg, &mut records)?;
            Done::new(records, format!("evaluating uids {chosen:?}"))
        }
        Stage::Evaluate { device, shard } => evaluate(ctx, device, *shard, records, tick)?,
        Stage::Rate { force } => rate(ctx, *force, records)?,
        Stage::Commit {
            dry_run,
            version_key,
        } => commit(ctx, *dry_run, *version_key, records)?,
        Stage::Aggregate { sync_store, uid } => aggregate(ctx, sync_store, *uid, records)?,
    })
}

fn count(records: &[Record], status: Status) -> usize {
    records.iter().filter(|r| r.status == status).count()
}

fn evaluate(
    ctx: &Context,
    device: &Option<String>,
    shard: Option<crate::evaluate::Shard>,
    records: Vec<Record>,
    tick: &(dyn Fn() + Sync),
) -> Result<Done> {
    let cfg = ctx.cfg;
    let device = crate::model::parse_device(device.as_deref().unwrap_or(&cfg.runtime.device))?;
    // Only where the window's end stops evaluation is the chain asked.
    let now = || ctx.chain()?.current_window();
    let stops = cfg.hparams.evaluation_stops_at_window_change;
    let records = crate::evaluate::run(
        cfg,
        records,
        ctx.checkpoints("evaluate")?,
        device,
        shard,
        stops.then_some(&now as crate::evaluate::WindowNow),
        tick,
    )?;
    let evaluated = records.iter().filter(|r| r.eval.is_some()).count();
    Ok(Done::new(
        records,
        format!("{evaluated} evaluated on {device:?}"),
    ))
}

fn rate(ctx: &Context, force: bool, records: Vec<Record>) -> Result<Done> {
    let h = &ctx.cfg.hparams;
    let admission = if force {
        crate::rate::Admission::Forced
    } else {
        crate::rate::Admission::Checked
    };
    let window = records.first().map(|r| r.window);
    let mut state = ctx.open_state()?;
    let outcome = crate::rate::rate(
        &mut state,
        h,
        h.weights_schedule,
        &h.ramp(),
        records,
        admission,
    )?;
    let path = ctx.state.display();
    let note = match (window, outcome.applied) {
        (None, _) => "no records".to_string(),
        (Some(w), true) => format!("window {w} applied to {path}"),
        (Some(w), false) => format!("window {w} was already applied to {path}; nothing changed"),
    };
    Ok(Done::new(outcome.records, note))
}

fn commit(
    ctx: &Context,
    dry_run: bool,
    version_key: Option<u64>,
    records: Vec<Record>,
) -> Result<Done> {
    let cfg = ctx.cfg;
    let mut state =
        State::open_existing(&ctx.state, crate::chain::seconds(cfg.state.wait_seconds))?;
    let opts = crate::commit::Options {
        netuid: ctx.netuid,
        version_key: version_key.or(cfg.chain.version_key),
        dry_run,
        block_seconds: cfg.chain.block_seconds,
    };
    let chain = ctx.chain()?;
    let outcomes = crate::commit::commit(&mut state, chain, ctx.signer, &opts)?;
    // Each submission is a message; the note counts them.
    let note = match outcomes.len() {
        0 => "no weights pending".to_string(),
        1 => "1 submission".to_string(),
        n => format!("{n} submissions"),
    };
    let mut done = Done::new(records, note);
    for o in &outcomes {
        let mut line = format!("window {}: {}: {}", o.window, o.action, o.detail);
        if let Some(data) = &o.call_data {
            line.push_str(&format!("\n  call data {data}"));
        }
        done.messages.push(if o.failed() {
            Message::Warn(line)
        } else if dry_run {
            Message::Shown(line)
        } else {
            Message::Info(line)
        });
    }
    if let Some(failed) = outcomes.iter().find(|o| o.failed()) {
        done.failure = Some(format!(
            "weights could not be sent to {} ({}); they stay pending in {} and the next `gauntlet commit` retries them",
            chain.describe(),
            failed.detail,
            ctx.state.display()
        ));
    }
    Ok(done)
}

fn aggregate(
    ctx: &Context,
    sync_store: &Option<PathBuf>,
    uid: u16,
    records: Vec<Record>,
) -> Result<Done> {
    let Checkpoints::Folder(folder) = ctx.checkpoints("aggregate")? else {
        anyhow::bail!("aggregate writes the next checkpoint into a folder: give --checkpoints DIR");
    };
    let store = sync_store
        .as_deref()
        .map(crate::store::LocalStore::open)
        .transpose()?;
    let sync_to = store.as_ref().map(|s| (s as &dyn crate::store::Store, uid));
    let report = crate::aggregate::aggregate(ctx.cfg, &records, folder, sync_to)?;
    let note = if report.applied {
        format!(
            "window {}: {} peers ({:?}) at lr {:.3e} -> {}",
            report.window,
            report.peers.len(),
            report.peers,
            report.lr,
            report.checkpoint.display()
        )
    } else if report.checkpoint.exists() {
        format!(
            "{} already exists; window {}'s step was taken, nothing changed",
            report.checkpoint.display(),
            report.window
        )
    } else {
        format!(
            "window {}: no peer with a positive weight and a readable file; the model stays",
            report.window
        )
    };
    let mut done = Done::new(records, note);
    for (uid, why) in &report.skipped {
        done.messages
            .push(Message::Warn(format!("uid {uid} left out: {why}")));
    }
    Ok(done)
}
