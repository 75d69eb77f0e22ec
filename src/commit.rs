//! Sending the state's pending weights to the chain, so that none are lost and none are
//! marked sent before the chain included them.
//!
//! Each run: first reveal any commit whose reveal epoch has come (commit-reveal), then send
//! the newest pending window's weights: `set_weights` where commit-reveal is off, a hash
//! commit where it is on (uids, values and salt are written to the state before the commit
//! leaves, so a restart can still reveal), or, where the subnet runs commit-reveal v4, a
//! commit timelocked to the drand round at which the chain reveals it by itself. The rate
//! limit is read from the chain first: when the next submission is not allowed yet, the run
//! says from which block it is and changes nothing. A failed submission stays pending with its error and is retried by the next run;
//! once a window's weights are sent, older pending windows are superseded.

use crate::chain::calls::Call;
use crate::chain::scale::{commit_hash, epoch_index, epoch_start, normalize_weights};
use crate::chain::timelock;
use crate::chain::wallet::Hotkey;
use crate::chain::Chain;
use crate::chain::{Included, WeightRules};
use crate::state::{State, Submission, SubmissionStatus};
use crate::time::now;
use anyhow::Result;
use serde::Serialize;

#[derive(Clone, Debug)]
pub struct Options {
    pub netuid: u16,
    /// Overrides the subnet's `WeightsVersionKey`.
    pub version_key: Option<u64>,
    /// Print the calls and their encoded bytes; send nothing, change nothing.
    pub dry_run: bool,
    /// Seconds per block, to say when in time a block comes.
    pub block_seconds: f64,
}

/// What a run did with one window's weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Sent,
    Committed,
    Revealed,
    /// Commit-reveal v4: sent encrypted; the chain reveals it.
    Timelocked,
    Waiting,
    DryRun,
    Failed,
    Expired,
    Superseded,
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Action::Sent => "sent",
            Action::Committed => "committed",
            Action::Revealed => "revealed",
            Action::Timelocked => "timelocked",
            Action::Waiting => "waiting",
            Action::DryRun => "dry_run",
            Action::Failed => "failed",
            Action::Expired => "expired",
            Action::Superseded => "superseded",
        })
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Outcome {
    pub window: u64,
    pub action: Action,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call_data: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_block: Option<u64>,
}

impl Outcome {
    fn new(window: u64, action: Action, detail: impl Into<String>) -> Outcome {
        Outcome {
            window,
            action,
            detail: detail.into(),
            call: None,
            call_data: None,
            next_block: None,
        }
    }

    pub fn failed(&self) -> bool {
        self.action == Action::Failed
    }
}

/// One window's weights as the chain takes them.
struct Weights {
    uids: Vec<u16>,
    values: Vec<u16>,
    version_key: u64,
}

struct Run<'a> {
    state: &'a mut State,
    chain: &'a dyn Chain,
    signer: Option<&'a Hotkey>,
    opts: &'a Options,
    out: Vec<Outcome>,
}

pub fn commit(
    state: &mut State,
    chain: &dyn Chain,
    signer: Option<&Hotkey>,
    opts: &Options,
) -> Result<Vec<Outcome>> {
    let mut run = Run {
        state,
        chain,
        signer,
        opts,
        out: Vec::new(),
    };
    let committed = run
        .state
        .read()
        .submissions(&[SubmissionStatus::Committed])?;
    let pending = run.state.read().submissions(&[SubmissionStatus::Pending])?;
    if committed.is_empty() && pending.is_empty() {
        return Ok(run.out);
    }
    let rules = chain.weight_rules(signer)?;
    if let Some(h) = signer {
        if rules.uid.is_none() && chain.requires_registration() {
            anyhow::bail!(
                "the hotkey {} is not registered on subnet {} of {}: register it (btcli subnets register) before setting weights",
                h.ss58,
                opts.netuid,
                chain.describe()
            );
        }
    }
    for c in committed {
        run.reveal(c, &rules)?;
    }
    if let Some(newest) = run
        .state
        .read()
        .submissions(&[SubmissionStatus::Pending])?
        .pop()
    {
        run.send(newest, &rules)?;
    }
    Ok(run.out)
}

impl Run<'_> {
    fn eta(&self, rules: &WeightRules, block: u64) -> String {
        let per_block = rules.block_seconds.unwrap_or(self.opts.block_seconds);
        let secs = block.saturating_sub(rules.block) as f64 * per_block;
        format!("block {block} (about {secs:.0} s from now)")
    }

    /// Submits a call (or prints it on a dry run) and reports whether it was included.
    fn submit(
        &mut self,
        window: u64,
        call: &Call,
        done: Action,
    ) -> Result<Option<(Outcome, Included)>> {
        if self.opts.dry_run {
            let mut o = Outcome::new(
                window,
                Action::DryRun,
                format!("would send: {}", call.describe()),
            );
            o.call = Some(call.describe());
            o.call_data = self
                .chain
                .call_data(call)?
                .map(|b| format!("0x{}", hex::encode(b)));
            self.out.push(o);
            return Ok(None);
        }
        match self.chain.submit(call, self.signer) {
            Ok(included) => {
                let mut o = Outcome::new(
                    window,
                    done,
                    format!(
                        "{} included in block {} (extrinsic {})",
                        call.describe(),
                        included.block_hash,
                        included.extrinsic_hash
                    ),
                );
                o.call = Some(call.describe());
                Ok(Some((o, included)))
            }
            Err(e) => {
                let msg = format!("{e:#}");
                let tx = self.state.begin()?;
                let mut s = tx
                    .read()
                    .submissions(&[])?
                    .into_iter()
                    .find(|s| s.window == window)
                    .ok_or_else(|| anyhow::anyhow!("window {window} vanished from the state"))?;
                s.attempts += 1;
                s.last_error = Some(msg.clone());
                tx.put_submission(&s)?;
                tx.commit()?;
                self.out.push(Outcome::new(
                    window,
                    Action::Failed,
                    format!("{msg}; the weights stay pending and the next run retries"),
                ));
                Ok(None)
            }
        }
    }

    /// Marks a window sent (and every older pending window superseded) in one transaction.
    fn mark_sent(&mut self, mut s: Submission, o: &Outcome, included: &Included) -> Result<()> {
        let tx = self.state.begin()?;
        for older in tx.read().submissions(&[SubmissionStatus::Pending])? {
            if older.window < s.window {
                let mut older = older;
                older.status = SubmissionStatus::Superseded;
                older.detail = Some(format!("window {}'s weights were sent first", s.window));
                tx.put_submission(&older)?;
            }
        }
        s.status = SubmissionStatus::Sent;
        s.sent_at = Some(now());
        s.detail = Some(o.detail.clone());
        s.last_error = None;
        s.block_hash = Some(included.block_hash.clone());
        s.extrinsic_hash = Some(included.extrinsic_hash.clone());
        tx.put_submission(&s)?;
        tx.commit()
    }

    fn send(&mut self, mut s: Submission, rules: &WeightRules) -> Result<()> {
        let window = s.window;
        let next = rules.next_allowed_block();
        if !rules.may_submit() {
            // A submission lands in the block after the one it is sent at.
            let mut o = Outcome::new(
                window,
                Action::Waiting,
                format!(
                    "the subnet's rate limit ({} blocks) allows the next submission in block {next}, so it can be sent from {}; the weights stay pending",
                    rules.rate_limit,
                    self.eta(rules, next - 1)
                ),
            );
            o.next_block = Some(next);
            self.out.push(o);
            return Ok(());
        }
        let (_, weights) = self.state.read().weights(Some(window))?;
        let (uids, values) = normalize_weights(&weights);
        if uids.is_empty() {
            self.out.push(Outcome::new(
                window,
                Action::Waiting,
                "no peer has a positive weight in this window; nothing to send",
            ));
            return Ok(());
        }
        let version_key = self.opts.version_key.unwrap_or(rules.version_key);
        let netuid = self.opts.netuid;
        if !rules.commit_reveal {
            let call = Call::SetWeights {
                netuid,
                uids: uids.clone(),
                values: values.clone(),
                version_key,
            };
            if let Some((o, included)) = self.submit(window, &call, Action::Sent)? {
                s.uids = Some(uids);
                s.values = Some(values);
                s.version_key = Some(version_key);
                s.attempts += 1;
                self.mark_sent(s, &o, &included)?;
                self.out.push(o);
            }
            return Ok(());
        }
        let Some(signer) = self.signer else {
            anyhow::bail!(
                "commit-reveal needs the validator's hotkey (--wallet-name, --wallet-hotkey)"
            );
        };
        match rules.commit_reveal_version {
            3 => anyhow::bail!(
                "subnet {netuid} of {} uses commit-reveal v3 (commit_crv3_weights), which gauntlet does not send: runtimes since mid-2025 use v4, which it does",
                self.chain.describe()
            ),
            v if v >= 4 => {
                let weights = Weights {
                    uids,
                    values,
                    version_key,
                };
                return self.send_timelocked(s, rules, signer, weights);
            }
            _ => {}
        }
        // The same weights keep the same salt across retries, so a commit that did land
        // before a crash is revealed with what it committed.
        let same = s.uids.as_ref() == Some(&uids)
            && s.values.as_ref() == Some(&values)
            && s.version_key == Some(version_key);
        let salt = match (&s.salt, same) {
            (Some(salt), true) => salt.clone(),
            _ => (0..8).map(|_| rand::random::<u16>()).collect(),
        };
        let hash = commit_hash(&signer.account, netuid, &uids, &values, &salt, version_key);
        let call = Call::CommitWeights {
            netuid,
            commit_hash: hash,
        };
        if !self.opts.dry_run {
            s.uids = Some(uids);
            s.values = Some(values);
            s.salt = Some(salt);
            s.version_key = Some(version_key);
            s.commit_hash = Some(format!("0x{}", hex::encode(hash)));
            // Where it lands, until the chain says (a crash before then keeps this guess).
            s.commit_epoch = Some(epoch_index(rules.landing_block(), netuid, rules.tempo));
            s.attempts += 1;
            s.detail = Some("commit submitted, not yet confirmed".into());
            let tx = self.state.begin()?;
            tx.put_submission(&s)?;
            tx.commit()?;
        }
        if let Some((o, included)) = self.submit(window, &call, Action::Committed)? {
            let tx = self.state.begin()?;
            s.status = SubmissionStatus::Committed;
            s.detail = Some(o.detail.clone());
            s.last_error = None;
            // The chain counts the commit in the epoch of the block that included it.
            let commit_epoch = epoch_index(included.block, netuid, rules.tempo);
            s.commit_epoch = Some(commit_epoch);
            s.block_hash = Some(included.block_hash);
            s.extrinsic_hash = Some(included.extrinsic_hash);
            tx.put_submission(&s)?;
            tx.commit()?;
            let reveal = commit_epoch + rules.reveal_period_epochs;
            let mut o = o;
            o.next_block = Some(epoch_start(reveal, netuid, rules.tempo));
            o.detail = format!(
                "{}; reveal from {}",
                o.detail,
                self.eta(rules, o.next_block.unwrap_or(0))
            );
            self.out.push(o);
        }
        Ok(())
    }

    /// Commit-reveal v4: the weights go out encrypted to the drand round at which the chain
    /// reveals them itself, so once the commit is included nothing is left to do.
    fn send_timelocked(
        &mut self,
        mut s: Submission,
        rules: &WeightRules,
        signer: &Hotkey,
        w: Weights,
    ) -> Result<()> {
        let netuid = self.opts.netuid;
        let tl = timelock::commit(
            &timelock::payload(&signer.account, &w.uids, &w.values, w.version_key),
            &rules.schedule(netuid),
            rules.reveal_period_epochs,
            rules.block_seconds.unwrap_or(self.opts.block_seconds),
            &rules
                .beacon_key
                .clone()
                .unwrap_or_else(timelock::quicknet_key),
        )?;
        let call = Call::CommitTimelockedWeights {
            netuid,
            commit: tl.ciphertext,
            reveal_round: tl.round,
            commit_reveal_version: rules.commit_reveal_version,
        };
        if let Some((mut o, included)) = self.submit(s.window, &call, Action::Timelocked)? {
            s.uids = Some(w.uids);
            s.values = Some(w.values);
            s.version_key = Some(w.version_key);
            s.attempts += 1;
            o.next_block = Some(tl.reveal_block);
            o.detail = format!(
                "{}; the chain reveals them itself at drand round {}, at {}",
                o.detail,
                tl.round,
                self.eta(rules, tl.reveal_block)
            );
            self.mark_sent(s, &o, &included)?;
            self.out.push(o);
        }
        Ok(())
    }

    fn reveal(&mut self, mut s: Submission, rules: &WeightRules) -> Result<()> {
        let netuid = self.opts.netuid;
        // The chain takes a reveal only in the block range of epoch commit + RevealPeriodEpochs.
        // It is sent once the head is in that epoch (so it cannot land early) and while the
        // block it lands in still is (else it would land expired).
        let now_epoch = epoch_index(rules.block, netuid, rules.tempo);
        let landing_epoch = epoch_index(rules.landing_block(), netuid, rules.tempo);
        let reveal_epoch = s.commit_epoch.unwrap_or(0) + rules.reveal_period_epochs;
        if now_epoch < reveal_epoch {
            let start = epoch_start(reveal_epoch, netuid, rules.tempo);
            let mut o = Outcome::new(
                s.window,
                Action::Waiting,
                format!(
                    "committed; the reveal opens in epoch {reveal_epoch}, at {}",
                    self.eta(rules, start)
                ),
            );
            o.next_block = Some(start);
            self.out.push(o);
            return Ok(());
        }
        if landing_epoch > reveal_epoch {
            // Past its reveal epoch the chain drops the commit (`ExpiredWeightCommit`).
            // Commit the weights again.
            s.status = SubmissionStatus::Pending;
            s.salt = None;
            s.commit_hash = None;
            s.commit_epoch = None;
            s.detail = Some(format!(
                "the commit of epoch {} expired unrevealed; committing again",
                reveal_epoch - rules.reveal_period_epochs
            ));
            let tx = self.state.begin()?;
            tx.put_submission(&s)?;
            tx.commit()?;
            self.out.push(Outcome::new(
                s.window,
                Action::Expired,
                s.detail.clone().unwrap_or_default(),
            ));
            return Ok(());
        }
        let (Some(uids), Some(values), Some(salt), Some(version_key)) = (
            s.uids.clone(),
            s.values.clone(),
            s.salt.clone(),
            s.version_key,
        ) else {
            anyhow::bail!(
                "window {}'s commit lacks its uids, values or salt in the state",
                s.window
            );
        };
        let call = Call::RevealWeights {
            netuid,
            uids,
            values,
            salt,
            version_key,
        };
        if let Some((o, included)) = self.submit(s.window, &call, Action::Revealed)? {
            s.attempts += 1;
            self.mark_sent(s, &o, &included)?;
            self.out.push(o);
        }
        Ok(())
    }
}
