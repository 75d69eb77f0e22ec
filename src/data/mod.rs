//! Training data: pre-tokenized shards, pages of rows, and which pages each peer trains on.

pub mod pack;
pub mod pages;
pub mod receipt;
pub mod shards;
pub mod tokenizer;

pub use pages::PageAssigner;
pub use shards::{Dataset, Manifest};
pub use tokenizer::Tokenizer;
