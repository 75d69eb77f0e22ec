//! Undoing windows and copying the state: before a window is applied, every peer's row is kept
//! (for the last `UNDO_WINDOWS` windows), so that `forget` can put the state back as it was
//! before a damaged window and the windows after it; `backup` writes a consistent copy while
//! other processes go on writing.

use super::{windows, Peer, State, Tx};
use anyhow::{Context, Result};
use rusqlite::{params, OptionalExtension};
use std::path::Path;

/// How many of the latest applied windows can be forgotten.
pub const UNDO_WINDOWS: usize = 64;

/// What `forget` undid.
#[derive(Debug, PartialEq, Eq)]
pub struct Forgotten {
    /// The applied windows undone, oldest first.
    pub windows: Vec<u64>,
    /// Windows among them whose weights had already gone to the chain (sent, or committed and
    /// waiting for their reveal): those submissions are kept, and are not sent again.
    pub on_chain: Vec<u64>,
}

impl Tx<'_> {
    /// Keeps every peer's row as it was before `window` is applied, and drops the oldest
    /// snapshots past `UNDO_WINDOWS`.
    pub fn put_snapshot(&self, window: u64, peers: &[&Peer]) -> Result<()> {
        self.tx.execute(
            "INSERT OR REPLACE INTO snapshots (window, peers) VALUES (?1, ?2)",
            params![window as i64, serde_json::to_string(peers)?],
        )?;
        self.tx.execute(
            "DELETE FROM snapshots WHERE window NOT IN (SELECT window FROM snapshots ORDER BY window DESC LIMIT ?1)",
            [UNDO_WINDOWS as i64],
        )?;
        Ok(())
    }

    /// Undoes every applied window from `from` on: the peers go back to what they were before
    /// the first of them, and those windows' history, weights, pending submissions and later
    /// selections go. They can then be rated again, in order.
    pub fn forget(&self, from: u64) -> Result<Forgotten> {
        let applied = "SELECT window FROM windows WHERE window >= ?1 ORDER BY window";
        let applied = windows(&self.tx, applied, [from as i64])?;
        let Some(&first) = applied.first() else {
            anyhow::bail!("no window from {from} on has been applied: there is nothing to forget");
        };
        let snapshot: Option<String> = self
            .tx
            .query_row(
                "SELECT peers FROM snapshots WHERE window = ?1",
                [first as i64],
                |r| r.get(0),
            )
            .optional()?;
        let Some(snapshot) = snapshot else {
            anyhow::bail!(
                "window {first} can no longer be undone: the state keeps what the peers were before each of its last {UNDO_WINDOWS} windows only; restore a copy made by `gauntlet state backup` instead"
            );
        };
        let peers: Vec<Peer> = serde_json::from_str(&snapshot)
            .with_context(|| format!("the state's snapshot before window {first} is damaged"))?;
        self.tx.execute("DELETE FROM peers", [])?;
        for p in &peers {
            self.put_peer(p)?;
        }
        for table in ["windows", "history", "weights", "snapshots"] {
            self.tx.execute(
                &format!("DELETE FROM {table} WHERE window >= ?1"),
                [from as i64],
            )?;
        }
        // A selection of `first` or before was made before `first` was applied: its counts
        // are in the snapshot, and a re-run must repeat it.
        self.tx
            .execute("DELETE FROM selections WHERE window > ?1", [first as i64])?;
        let sent = "SELECT window FROM submissions WHERE window >= ?1 AND status IN ('sent', 'committed') ORDER BY window";
        let on_chain = windows(&self.tx, sent, [from as i64])?;
        self.tx.execute(
            "DELETE FROM submissions WHERE window >= ?1 AND status IN ('pending', 'superseded')",
            [from as i64],
        )?;
        Ok(Forgotten {
            windows: applied,
            on_chain,
        })
    }
}

impl State {
    /// Writes a consistent copy of the state to `to` (SQLite's `VACUUM INTO`: one read
    /// transaction, so writers in other processes go on), published whole or not at all.
    pub fn backup(&self, to: &Path) -> Result<()> {
        anyhow::ensure!(
            std::fs::canonicalize(to).ok() != std::fs::canonicalize(&self.path).ok(),
            "{} is the state itself: give the backup another path",
            to.display()
        );
        let tmp = crate::atomic::temp_path(to);
        let _ = std::fs::remove_file(&tmp);
        let result = self
            .conn
            .execute(
                "VACUUM INTO ?1",
                [tmp.to_str()
                    .with_context(|| format!("{} is not a UTF-8 path", to.display()))?],
            )
            .with_context(|| format!("cannot copy the state to {}", tmp.display()))
            .and_then(|_| crate::atomic::publish(&tmp, to));
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }
}
