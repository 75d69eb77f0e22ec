//! Plain local training: what a peer does with its pages, and what the demo and tests use to
//! show that the model learns.

use super::Model;
use anyhow::Result;
use tch::{nn, nn::OptimizerConfig, Tensor};

/// AdamW over the model's variables.
pub struct Trainer {
    opt: nn::Optimizer,
    pad_id: Option<i64>,
}

impl Trainer {
    pub fn new(model: &Model, lr: f64, pad_id: Option<i64>) -> Result<Trainer> {
        let opt = nn::AdamW::default().build(&model.vs, lr)?;
        Ok(Trainer { opt, pad_id })
    }

    /// One optimiser step on one batch; returns the batch's loss before the step.
    pub fn step(&mut self, model: &Model, batch: &Tensor) -> Result<f64> {
        let loss = model
            .llama
            .loss(&batch.to_device(model.device()), self.pad_id);
        self.opt.zero_grad();
        loss.f_backward()?;
        self.opt.step();
        Ok(loss.f_double_value(&[])?)
    }

    /// `steps` optimiser steps cycling over `batches`; the loss of each step.
    pub fn run(&mut self, model: &Model, batches: &[Tensor], steps: usize) -> Result<Vec<f64>> {
        anyhow::ensure!(!batches.is_empty(), "no batches to train on");
        (0..steps)
            .map(|s| self.step(model, &batches[s % batches.len()]))
            .collect()
    }
}
