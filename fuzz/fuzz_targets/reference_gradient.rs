//! A whole reference gradient (`torch.save` archive) as a validator reads it: archive, pickle,
//! state dict, every parameter staged after its dtype and shape checks, then the values'
//! checks; and the same bytes as a reference sync slice.
#![no_main]

use gauntlet_formats::reference::{read_gradient, read_sync, OtherNaming};
use libfuzzer_sys::fuzz_target;

#[path = "spec.rs"]
mod spec;

fuzz_target!(|data: &[u8]| {
    let Some((&variant, file)) = data.split_first() else {
        return;
    };
    let spec = spec::spec(variant);
    let others = [OtherNaming {
        setting: "torchtitan".into(),
        first: "tok_embeddings.weight".into(),
    }];
    let _ = read_gradient(file, &spec, None, &others);
    let params = [("a".to_string(), 2u64), ("b".to_string(), 1u64)];
    let _ = read_sync(file, &params, |stem| stem.to_string());
});
