//! A whole native gradient (safetensors) as a validator reads it: container, metadata, then
//! every parameter's values through the checks of `gauntlet_formats::gradient`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "spec.rs"]
mod spec;

fuzz_target!(|data: &[u8]| spec::native(data));
