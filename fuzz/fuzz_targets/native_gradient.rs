//! A whole native gradient (safetensors) as a validator reads it: container, metadata, then
//! every parameter's values through the checks of `gauntlet_formats::gradient`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "spec.rs"]
mod spec;

fuzz_target!(|data: &[u8]| {
    let Some((&variant, file)) = data.split_first() else {
        return;
    };
    let spec = spec::spec(variant);
    let _ = gauntlet_formats::gradient::read_native(file, &spec, 1 << 16, |md| Ok(md.len()));
});
