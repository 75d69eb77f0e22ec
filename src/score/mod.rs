//! The mechanism's figures: sync score now; LossScore, ratings and weights as they land.

pub mod openskill;
pub mod penalties;
pub mod stats;
pub mod sync;
pub mod weights;
