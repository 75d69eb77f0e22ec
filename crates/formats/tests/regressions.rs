//! Inputs the fuzzers once crashed on (`tests/regressions/`, named `TARGET-what.*`): each must
//! now be read or refused without a panic, through the same calls as its fuzz target.

use gauntlet_formats::{safetensors, torch_save};

#[path = "../../../fuzz/fuzz_targets/spec.rs"]
mod spec;

#[test]
fn every_fuzz_regression_is_refused_or_read_without_a_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let data = std::fs::read(&path).unwrap();
        if name.starts_with("archive-") {
            if let Ok(file) = torch_save::read(&data) {
                for t in file.tensors() {
                    let _ = file.tensor(t);
                }
            }
        } else if name.starts_with("unpickle-") {
            if let Ok(u) = torch_save::pickle::unpickle(&data) {
                let _ = u.tree();
            }
        } else if name.starts_with("safetensors-") {
            let _ = safetensors::parse(&data, 1 << 20);
        } else if name.starts_with("native_gradient-") {
            spec::native(&data);
        } else if name.starts_with("reference_gradient-") {
            spec::reference(&data);
        } else {
            panic!("{name}: name regressions TARGET-what (a fuzz target's name)");
        }
        seen += 1;
    }
    assert!(seen > 0, "no regressions in {}", dir.display());
}

#[test]
fn an_empty_tensor_far_past_its_storage_is_refused() {
    let data = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/regressions/archive-empty-tensor-far-offset.pt"),
    )
    .unwrap();
    let reject = torch_save::read(&data).err().expect("refused");
    assert_eq!(reject.code(), "bad_storage", "{}", reject.reason());
}
