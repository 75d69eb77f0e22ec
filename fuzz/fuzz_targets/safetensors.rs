//! The safetensors reader on arbitrary bytes, reading every tensor's bytes it accepts.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(file) = gauntlet_formats::safetensors::parse(data, 1 << 20) {
        for e in &file.entries {
            let _ = file.bytes(e).len();
        }
    }
});
