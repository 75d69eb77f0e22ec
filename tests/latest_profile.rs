//! The latest reference's mechanism as a profile (`examples/templar-v2.1.28.yaml`): it layers
//! over any configuration, the demo network runs under it and still pays the honest peers,
//! and its rules act in `rate` as the spec says.

mod common;

use common::{gauntlet, ok, stdout};
use gauntlet::config::{Config, HyperParams};
use gauntlet::record::{Record, Status};
use gauntlet::state::State;
use std::time::Duration;

fn profile() -> std::path::PathBuf {
    common::repo().join("examples/templar-v2.1.28.yaml")
}

/// The profile's hyper-parameters, as `--config` loads them over the defaults.
fn latest() -> HyperParams {
    let text = std::fs::read_to_string(profile()).unwrap();
    let cfg: Config = yaml_serde::from_str(&text).unwrap();
    cfg.hparams
}

#[test]
fn the_profile_layers_over_any_config_and_says_where_each_value_came_from() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(gauntlet(dir.path()).args([
        "config",
        "--config",
        profile().to_str().unwrap(),
        "--sources",
        "--format",
        "jsonl",
    ]));
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let source = |key: &str| {
        lines
            .iter()
            .find(|l| l["key"] == key)
            .unwrap_or_else(|| panic!("{key} in {lines:?}"))["source"]
            .to_string()
    };
    assert!(source("hparams.bma_threshold").contains("templar-v2.1.28.yaml"));
    assert!(source("hparams.missing_slash_escalation").contains("templar-v2.1.28.yaml"));
    // Not a mechanism key: left to the other layers.
    assert!(!source("hparams.sequence_length").contains("templar-v2.1.28.yaml"));
    assert!(!source("model.preset").contains("templar-v2.1.28.yaml"));
}

#[test]
fn the_demo_network_under_the_latest_reference_pays_the_honest_peers() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(gauntlet(dir.path()).args([
        "demo",
        "--dir",
        "net",
        "--windows",
        "13",
        "--config",
        profile().to_str().unwrap(),
        "--format",
        "json",
    ]));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        report["honest_weight_share"].as_f64().unwrap() > 0.5,
        "{report}"
    );
    let board = report["leaderboard"].as_array().unwrap();
    let weights = |honest: bool| -> Vec<f64> {
        board
            .iter()
            .filter(|s| (s["behaviour"] == "honest") == honest)
            .map(|s| s["weight"].as_f64().unwrap())
            .collect()
    };
    let lowest_honest = weights(true).into_iter().fold(f64::INFINITY, f64::min);
    let highest_other = weights(false).into_iter().fold(0.0, f64::max);
    assert!(
        lowest_honest > highest_other,
        "every adversary below every honest peer: {board:?}"
    );
}

fn evaluated(window: u64, uid: u16, score: f64) -> Record {
    common::evaluated_record(window, uid, score, 1, 1.0)
}

fn rate(state: &mut State, h: &HyperParams, records: Vec<Record>) -> Vec<Record> {
    common::rate_as_given(state, h, records).records
}

#[test]
fn a_missing_peer_plays_the_penalty_score_and_keeps_its_slash() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = State::open(&dir.path().join("s.db"), Duration::from_secs(5)).unwrap();
    let h = latest();
    rate(
        &mut state,
        &h,
        (1..=4).map(|u| evaluated(0, u, 0.01 * u as f64)).collect(),
    );
    let before = state.read().peers().unwrap()[&4].clone();
    assert!(before.final_score > 0.0);
    let mut missing = Record::new(1, 4);
    missing.fail(Status::Missing, "test");
    let mut records: Vec<Record> = (1..=3).map(|u| evaluated(1, u, 0.01)).collect();
    records.push(missing);
    rate(&mut state, &h, records);
    let after = state.read().peers().unwrap()[&4].clone();
    // It played last (−99): its rating fell; its final is the slash's 0.75, not a
    // recomputation from the fallen rating.
    assert!(after.rating.unwrap().mu < before.rating.unwrap().mu);
    assert!((after.final_score - 0.75 * before.final_score).abs() < 1e-12);
    assert_eq!(after.history.consecutive_misses, 1);
    // A second miss in a row: ×0.5.
    let mut missing = Record::new(2, 4);
    missing.fail(Status::Missing, "test");
    rate(&mut state, &h, vec![evaluated(2, 1, 0.01), missing]);
    let again = state.read().peers().unwrap()[&4].clone();
    assert!((again.final_score - 0.5 * after.final_score).abs() < 1e-12);
}

#[test]
fn a_run_of_negative_evaluations_leaves_a_peer_out_of_the_aggregation() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = State::open(&dir.path().join("s.db"), Duration::from_secs(5)).unwrap();
    let h = latest();
    let mut last = Vec::new();
    for w in 0..3 {
        // Five peers improve the model; uid 9 makes it worse every window.
        let mut records: Vec<Record> = (1..=5).map(|u| evaluated(w, u, 0.02)).collect();
        records.push(evaluated(w, 9, -0.01));
        last = rate(&mut state, &h, records);
    }
    let nine = last.iter().find(|r| r.uid == 9).unwrap();
    assert!(nine.rating.as_ref().unwrap().excluded, "{nine:?}");
    let cfg = Config {
        hparams: h.clone(),
        ..Default::default()
    };
    for r in &mut last {
        r.object.as_mut().unwrap().path = Some("x".into());
        r.weight = Some(1.0);
    }
    let chosen = gauntlet::aggregate::gather_set(&cfg, &last);
    assert!(chosen.iter().all(|r| r.uid != 9));
    assert_eq!(chosen.len(), 5);
    // In a window bad for everyone (the fifth-best score negative), no one is excluded.
    let dir = tempfile::tempdir().unwrap();
    let mut state = State::open(&dir.path().join("s.db"), Duration::from_secs(5)).unwrap();
    for w in 0..3 {
        last = rate(
            &mut state,
            &h,
            (1..=5).map(|u| evaluated(w, u, -0.01)).collect(),
        );
    }
    assert!(last.iter().all(|r| !r.rating.as_ref().unwrap().excluded));
}
