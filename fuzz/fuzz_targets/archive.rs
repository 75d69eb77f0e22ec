//! A whole `torch.save` archive (zip container, pickle, storages) on arbitrary bytes, reading
//! every tensor it declares.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(file) = gauntlet_formats::torch_save::read(data) {
        for t in file.tensors() {
            let _ = file.tensor(t);
        }
    }
});
