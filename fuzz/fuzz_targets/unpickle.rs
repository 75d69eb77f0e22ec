//! The allow-list unpickler on arbitrary bytes: refusals are fine, panics and runaway memory
//! are not.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(u) = gauntlet_formats::torch_save::pickle::unpickle(data) {
        let _ = u.tree();
    }
});
