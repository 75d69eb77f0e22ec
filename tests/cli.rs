//! The command line through the binary: help, config layering, completions, exit codes.

mod common;
use common::{gauntlet, ok, repo, stderr, stdout};

fn effective_beta(dir: &std::path::Path, setup: impl FnOnce(&mut std::process::Command)) -> f64 {
    let mut cmd = gauntlet(dir);
    cmd.args(["config", "--format", "json"]);
    setup(&mut cmd);
    let out = ok(&mut cmd);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("config prints JSON");
    v["hparams"]["openskill_beta"]
        .as_f64()
        .expect("beta is a number")
}

#[test]
fn help_and_config_work_from_any_directory_with_no_environment() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(gauntlet(dir.path()).arg("--help"));
    for cmd in ["config", "completions", "data", "model", "show", "demo"] {
        assert!(stdout(&out).contains(cmd), "help lists {cmd}");
    }
    let out = ok(gauntlet(dir.path()).args(["config", "--format", "table"]));
    let yaml: yaml_serde::Value = yaml_serde::from_str(&stdout(&out)).unwrap();
    assert_eq!(yaml["hparams"]["openskill_beta"].as_f64(), Some(7.0));
    assert_eq!(yaml["hparams"]["power_normalisation"].as_f64(), Some(2.2));
}

#[test]
fn config_precedence_is_flag_then_env_then_file_then_default() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert_eq!(effective_beta(d, |_| {}), 7.0, "default");

    std::fs::write(d.join("gauntlet.yaml"), "hparams:\n  openskill_beta: 8\n").unwrap();
    assert_eq!(
        effective_beta(d, |_| {}),
        8.0,
        "./gauntlet.yaml over the default"
    );

    assert_eq!(
        effective_beta(d, |c| {
            c.env("GAUNTLET_HPARAMS__OPENSKILL_BETA", "9");
        }),
        9.0,
        "env over file"
    );

    assert_eq!(
        effective_beta(d, |c| {
            c.env("GAUNTLET_HPARAMS__OPENSKILL_BETA", "9")
                .args(["--set", "hparams.openskill_beta=10"]);
        }),
        10.0,
        "flag over env"
    );

    // An explicit --config wins over ./gauntlet.yaml; the home config is the last fall-back.
    std::fs::write(d.join("other.yaml"), "hparams:\n  openskill_beta: 11\n").unwrap();
    assert_eq!(
        effective_beta(d, |c| {
            c.args(["--config", "other.yaml"]);
        }),
        11.0
    );
    std::fs::remove_file(d.join("gauntlet.yaml")).unwrap();
    std::fs::create_dir_all(d.join(".config/gauntlet")).unwrap();
    std::fs::write(
        d.join(".config/gauntlet/config.yaml"),
        "hparams:\n  openskill_beta: 12\n",
    )
    .unwrap();
    assert_eq!(effective_beta(d, |_| {}), 12.0, "home config");
    assert_eq!(
        effective_beta(d, |c| {
            c.env("GAUNTLET_CONFIG", d.join("other.yaml"));
        }),
        11.0
    );
}

#[test]
fn config_sources_name_each_keys_origin_and_variable() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("gauntlet.yaml"),
        "model:\n  preset: small\n",
    )
    .unwrap();
    let out = ok(gauntlet(dir.path())
        .args(["config", "--sources", "--format", "table"])
        .args(["--set", "runtime.device=cpu"])
        .env("GAUNTLET_HPARAMS__TOPK_COMPRESSION", "64"));
    let text = stdout(&out);
    let line = |key: &str| {
        text.lines()
            .find(|l| l.contains(&format!(" {key} ")))
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        line("model.preset").contains("file gauntlet.yaml"),
        "{text}"
    );
    assert!(
        line("hparams.topk_compression").contains("env GAUNTLET_HPARAMS__TOPK_COMPRESSION"),
        "{text}"
    );
    assert!(line("runtime.device").contains("--set"), "{text}");
    assert!(line("hparams.openskill_tau").contains("default"), "{text}");
    assert!(
        line("hparams.openskill_tau").contains("GAUNTLET_HPARAMS__OPENSKILL_TAU"),
        "{text}"
    );
}

#[test]
fn bad_configuration_is_named_with_the_right_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    // A key that does not exist on the command line is a usage error (2).
    let out = gauntlet(dir.path())
        .args(["config", "--set", "hparams.betta=7"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("hparams.betta"), "{}", stderr(&out));
    // A typo in the file is a usage error too, naming the key and the file.
    std::fs::write(
        dir.path().join("gauntlet.yaml"),
        "hparams:\n  openskil_beta: 7\n",
    )
    .unwrap();
    let out = gauntlet(dir.path()).arg("config").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("hparams.openskil_beta") && stderr(&out).contains("gauntlet.yaml"),
        "{}",
        stderr(&out)
    );
    // A value of the wrong type.
    std::fs::write(
        dir.path().join("gauntlet.yaml"),
        "hparams:\n  openskill_beta: seven\n",
    )
    .unwrap();
    let out = gauntlet(dir.path()).arg("config").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("openskill_beta"), "{}", stderr(&out));
    std::fs::remove_file(dir.path().join("gauntlet.yaml")).unwrap();
    // Values out of range, from any layer, name their key and where they were set.
    for (set, why) in [
        ("fetch.read_timeout_seconds=-1", "must not be negative"),
        ("state.wait_seconds=-5", "must not be negative"),
        ("hparams.openskill_sigma=0", "above 0"),
        ("hparams.uids_per_window=0", "at least 1"),
        ("hparams.openskill_beta=.inf", "finite"),
        ("hparams.openskill_beta=inf", "expected f64"),
        ("hparams.dedupe_min_cosine=1.5", "[0, 1]"),
    ] {
        let out = gauntlet(dir.path())
            .args(["config", "--set", set])
            .output()
            .unwrap();
        let key = set.split('=').next().unwrap();
        assert_eq!(out.status.code(), Some(2), "{set}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(key) && stderr(&out).contains(why),
            "{set}: {}",
            stderr(&out)
        );
    }
    // A misspelt variable is refused as a misspelt key is.
    let out = gauntlet(dir.path())
        .arg("config")
        .env("GAUNTLET_HPARAMS__OPENSKIL_BETA", "7")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("GAUNTLET_HPARAMS__OPENSKIL_BETA"),
        "{}",
        stderr(&out)
    );
    // Each shipped profile passes the checks.
    for profile in ["local.yaml", "templar-v2.1.28.yaml"] {
        let path = repo().join("examples").join(profile);
        ok(gauntlet(dir.path())
            .arg("--config")
            .arg(&path)
            .arg("config"));
    }
    // clap's own errors are usage errors too.
    let out = gauntlet(dir.path())
        .arg("no-such-command")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn checked_in_completions_are_current() {
    let dir = tempfile::tempdir().unwrap();
    for (shell, file) in [
        ("bash", "gauntlet.bash"),
        ("zsh", "_gauntlet"),
        ("fish", "gauntlet.fish"),
    ] {
        let out = ok(gauntlet(dir.path()).args(["completions", shell]));
        let checked_in = std::fs::read_to_string(repo().join("completions").join(file))
            .unwrap_or_else(|_| panic!("completions/{file} is missing: run scripts/completions"));
        assert!(
            stdout(&out) == checked_in,
            "completions/{file} is out of date with the command line: run scripts/completions and commit the result"
        );
    }
}

#[test]
fn completions_work_even_with_a_broken_config() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("gauntlet.yaml"), "this: [is not valid").unwrap();
    let out = ok(gauntlet(dir.path()).args(["completions", "zsh"]));
    assert!(stdout(&out).contains("#compdef gauntlet"));
}

/// On a chain network the public default evaluation seed is refused before anything runs,
/// naming the key and how to set a secret one; on the local network it is the default.
#[test]
fn the_public_seed_is_refused_on_a_chain_network() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec![
            "evaluate",
            "--network",
            "wss://127.0.0.1:9",
            "--checkpoint",
            "x",
        ],
        vec!["--set", "chain.network=finney", "select"],
    ] {
        let out = gauntlet(dir.path())
            .args(&args)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains("evaluate.seed") && err.contains("GAUNTLET_EVALUATE__SEED"),
            "{args:?}: {err}"
        );
    }
    let out = gauntlet(dir.path())
        .args([
            "--set",
            "chain.network=finney",
            "--set",
            "evaluate.seed=982451653",
            "select",
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(!stderr(&out).contains("evaluate.seed"), "{}", stderr(&out));
}
