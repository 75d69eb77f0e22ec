//! A peer's receipt (the pages, batches and tokens it says it trained on) against what this
//! validator computes for it. A receipt is the peer's own claim: a peer that names its pages
//! but trained on others is caught by the evaluation, not here. What this catches at once is
//! a validator (or a peer) whose settings differ from the network's: the other side's pages,
//! rows and batches then disagree, and each disagreement names the setting behind it.

use super::{Dataset, PageAssigner};
use crate::config::HyperParams;
use crate::wire::gradient::Receipt;

/// Why `receipt` disagrees with the validator's own assignment for `uid` in `window`, naming
/// the setting that differs; `None` when it agrees, or names no pages (the reference's files
/// carry no receipt).
pub fn disagreement(
    receipt: &Receipt,
    assigner: &PageAssigner,
    data: &Dataset,
    h: &HyperParams,
    uid: u16,
    window: u64,
) -> Option<String> {
    if receipt.pages.is_empty() {
        return None;
    }
    let assigned = assigner.assigned(uid, window);
    if receipt.pages.len() != assigned.len() {
        return Some(format!(
            "its receipt names {} pages, this validator assigns {} a window: hparams.pages_per_window differs between them",
            receipt.pages.len(),
            assigned.len()
        ));
    }
    let pages = data.num_pages();
    if let Some(p) = receipt.pages.iter().find(|&&p| p >= pages) {
        return Some(format!(
            "its receipt names page {p}, but this validator's data has {pages} pages: data.shards, hparams.sequence_length or hparams.rows_per_page differ between them"
        ));
    }
    let (mut named, mut expected) = (receipt.pages.clone(), assigned.clone());
    named.sort_unstable();
    expected.sort_unstable();
    if named != expected {
        return Some(format!(
            "its receipt names pages {:?}, this validator assigns {assigned:?} to uid {uid} in window {window}: data.assignment_key, the data (data.shards, hparams.sequence_length, hparams.rows_per_page) or hparams.pages_per_window differ between them, or the peer trained on other pages",
            receipt.pages
        ));
    }
    let rows = assigned.len() as u64 * h.rows_per_page as u64;
    let most_batches = rows.div_ceil(h.batch_size.max(1) as u64);
    if receipt.batches > most_batches {
        return Some(format!(
            "its receipt names {} batches, but {rows} rows make at most {most_batches} with this validator's hparams.batch_size {}: hparams.batch_size or hparams.rows_per_page differ between them",
            receipt.batches, h.batch_size
        ));
    }
    let most_tokens = rows * h.sequence_length as u64;
    if receipt.tokens > most_tokens {
        return Some(format!(
            "its receipt names {} tokens, but its pages hold at most {most_tokens} with this validator's hparams.sequence_length {} and hparams.rows_per_page {}: those differ between them",
            receipt.tokens, h.sequence_length, h.rows_per_page
        ));
    }
    None
}
