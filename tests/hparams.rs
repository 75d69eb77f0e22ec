//! The hyper-parameters: reference defaults, documentation, schedules.

use gauntlet::config::{HyperParams, LoadedConfig, LOCAL_DEFAULTS};

#[test]
fn every_hyper_parameter_is_documented_in_the_local_example() {
    let local: yaml_serde::Value = yaml_serde::from_str(LOCAL_DEFAULTS).unwrap();
    let defaults = yaml_serde::to_value(HyperParams::default()).unwrap();
    for (key, _) in defaults.as_mapping().unwrap() {
        let key = key.as_str().unwrap();
        assert!(
            local["hparams"].get(key).is_some(),
            "examples/local.yaml does not document hparams.{key}"
        );
        let line = LOCAL_DEFAULTS
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{key}:")))
            .unwrap();
        assert!(
            line.contains('#'),
            "hparams.{key} has no comment in examples/local.yaml"
        );
    }
    let loaded =
        LoadedConfig::load_over(Some(("local", LOCAL_DEFAULTS)), None, Vec::new(), &[]).unwrap();
    assert_eq!(loaded.config.model.preset, "tiny");
}

#[test]
fn defaults_are_the_paper_era_reference() {
    let h = HyperParams::default();
    assert_eq!(
        (h.openskill_beta, h.openskill_tau, h.binary_score_ma_alpha),
        (7.0, 0.1, 0.05)
    );
    assert_eq!(
        (
            h.power_normalisation,
            h.eval_lr_factor,
            h.validator_sample_rate
        ),
        (2.2, 0.2, 0.1)
    );
    assert_eq!(
        (h.missing_slash, h.sync_slash, h.inactivity_slash),
        (0.75, 0.75, 0.75)
    );
    assert_eq!(
        (
            h.reset_inactivity_windows,
            h.max_topk_peers,
            h.uids_per_window
        ),
        (25, 15, 4)
    );
    assert_eq!(
        (
            h.blocks_per_window,
            h.time_window_delta_seconds,
            h.topk_compression
        ),
        (8, 10.0, 32)
    );
    assert_eq!(
        (
            h.sync_max_steps_behind,
            h.sync_score_max_steps,
            h.sync_score_exponent
        ),
        (3.0, 5.0, 2.5)
    );
}

#[test]
fn sync_score_follows_the_reference_curve() {
    let h = HyperParams::default();
    assert_eq!(h.sync_score(0.0), 1.0);
    assert!((h.sync_score(1.0) - 0.8f64.powf(2.5)).abs() < 1e-15);
    assert_eq!(h.sync_score(5.0), 0.0);
    assert_eq!(h.sync_score(50.0), 0.0);
    assert_eq!(h.sync_score(f64::NAN), 0.0);
}

#[test]
fn learning_rate_schedule_matches_torch_sequential_lr() {
    // Values of torch's SequentialLR(LinearLR(0.1, 250), CosineAnnealingWarmRestarts(20000, 2, 4e-5)).
    let h = HyperParams::default();
    assert!((h.lr_at(0) - 4e-5).abs() < 1e-18);
    assert!((h.lr_at(125) - 2.2e-4).abs() < 1e-12);
    assert!((h.lr_at(250) - 4e-4).abs() < 1e-15);
    assert!(
        (h.lr_at(250 + 10_000) - 2.2e-4).abs() < 1e-12,
        "half way down the first cosine"
    );
    assert!((h.lr_at(250 + 20_000) - 4e-4).abs() < 1e-15, "warm restart");
    assert!(
        (h.lr_at(250 + 20_000 + 20_000) - 2.2e-4).abs() < 1e-12,
        "second period is twice as long"
    );
}

#[test]
fn secrets_are_redacted_wherever_they_sit() {
    let tree: yaml_serde::Value = yaml_serde::from_str(
        "store:\n  access_key_id: AKIA1\n  secret_access_key: s3cr3t\n  endpoint: http://x\npeers:\n  - uid: 1\n    read_secret: abc\nwallet:\n  password: hunter2\n  empty_secret: null\n",
    )
    .unwrap();
    let text = yaml_serde::to_string(&gauntlet::config::redact(&tree)).unwrap();
    for secret in ["AKIA1", "s3cr3t", "abc", "hunter2"] {
        assert!(!text.contains(secret), "{secret} leaked:\n{text}");
    }
    assert!(text.contains("http://x") && text.contains("<redacted>"));
}
