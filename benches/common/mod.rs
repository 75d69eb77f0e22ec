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

/// Runs a reference script that prints one JSON object, and returns it; fails with the
/// script's stderr if it fails.
pub fn run_json(cmd: &mut std::process::Command, what: &str) -> serde_json::Value {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{what} printed no JSON result: {e}"))
}
