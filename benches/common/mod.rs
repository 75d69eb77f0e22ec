//! Helpers shared by the benchmarks.
#![allow(dead_code)]

/// The value after `name` on the command line (`cargo bench --bench X -- --name N`).
pub fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The Python with torch that scripts/setup installs (TORCH_VENV as there).
pub fn python() -> String {
    std::env::var("GAUNTLET_TEST_PYTHON").unwrap_or_else(|_| {
        format!(
            "{}/bin/python",
            std::env::var("TORCH_VENV").unwrap_or_else(|_| "/opt/torch-venv-2.11.0".into())
        )
    })
}
