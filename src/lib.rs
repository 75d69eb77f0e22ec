//! gauntlet: a validator toolkit for the Gauntlet incentive mechanism of permissionless
//! distributed LLM training (arXiv 2505.21684).
//!
//! The library holds everything the stages share; the `gauntlet` binary (`src/main.rs`,
//! `src/cmd/`) is a thin reading of arguments around it. Library code knows nothing of the
//! command line.

pub mod aggregate;
pub mod atomic;
pub mod audit;
pub mod chain;
pub mod codec;
pub mod commit;
pub mod config;
pub mod data;
pub mod dedupe;
pub mod demo;
pub mod error;
pub mod evaluate;
#[cfg(feature = "failpoints")]
pub mod failpoint;
pub mod fetch;
pub mod filter;
pub mod model;
pub mod output;
pub mod peer;
pub mod rate;
pub mod record;
pub mod round;
pub mod score;
pub mod secret;
pub mod select;
pub mod stage;
pub mod state;
pub mod store;
pub mod tensor_io;
pub mod time;
pub use gauntlet_formats::torch_save;
pub mod ui;
pub mod wire;

pub use error::UsageError;
