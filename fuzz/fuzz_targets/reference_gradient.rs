//! A whole reference gradient (`torch.save` archive) as a validator reads it: archive, pickle,
//! state dict, every parameter staged after its dtype and shape checks, then the values'
//! checks; and the same bytes as a reference sync slice.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "spec.rs"]
mod spec;

fuzz_target!(|data: &[u8]| spec::reference(data));
