//! The mechanism's figures: sync score now; LossScore, ratings and weights as they land.

pub mod sync;
