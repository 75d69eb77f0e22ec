//! rate and the state: the mechanism's arithmetic, idempotence, crashes, concurrency.

mod common;
#[cfg(feature = "failpoints")]
use common::pipe;
use common::{gauntlet, ok, stderr};
use gauntlet::config::HyperParams;
use gauntlet::record::{Record, Status};
use gauntlet::score::openskill::PlackettLuce;
use gauntlet::state::State;
#[cfg(feature = "failpoints")]
use std::io::{BufRead, BufReader};
#[cfg(feature = "failpoints")]
use std::process::Stdio;
use std::time::Duration;

fn evaluated(window: u64, uid: u16, score: f64, indicator: i8, sync: f64) -> Record {
    common::evaluated_record(window, uid, score, indicator, sync)
}

fn failed(window: u64, uid: u16, status: Status) -> Record {
    let mut r = Record::new(window, uid);
    r.fail(status, "test");
    r
}

fn window(w: u64) -> Vec<Record> {
    common::listed(vec![
        evaluated(w, 1, 0.020, 1, 1.0),
        evaluated(w, 2, 0.010, 1, 0.8),
        evaluated(w, 3, 0.015, -1, 1.0),
        evaluated(w, 4, -0.005, 1, 1.0),
        failed(w, 5, Status::Missing),
        failed(w, 6, Status::Desynced),
    ])
}

fn rate(state: &mut State, h: &HyperParams, records: Vec<Record>) -> gauntlet::rate::Outcome {
    common::rate_as_given(state, h, records)
}

#[test]
fn one_window_follows_the_reference_formulas() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = State::open(&dir.path().join("s.db"), Duration::from_secs(5)).unwrap();
    let h = HyperParams::default();
    let out = rate(&mut state, &h, window(10));
    assert!(out.applied);
    let model = PlackettLuce::from_hparams(&h);
    let expected = model.rate_scores(&[model.rating(); 4], &[0.020, 0.010, 0.015, -0.005]);
    for (i, r) in out.records.iter().take(4).enumerate() {
        let rating = r.rating.as_ref().unwrap();
        assert_eq!(
            (rating.mu, rating.sigma),
            (expected[i].mu, expected[i].sigma)
        );
        let indicator = r.eval.as_ref().unwrap().indicator as f64;
        assert_eq!(rating.bma, 0.05 * indicator);
        let sync = r.sync.as_ref().unwrap().score;
        assert_eq!(
            rating.final_score,
            expected[i].ordinal() * (0.05 * indicator).max(0.0) * sync
        );
    }
    // Weights: final^2.2 normalised over the positive finals only.
    let finals: Vec<f64> = out
        .records
        .iter()
        .take(4)
        .map(|r| r.rating.as_ref().unwrap().final_score)
        .collect();
    let total: f64 = finals
        .iter()
        .filter(|f| **f > 0.0)
        .map(|f| f.powf(2.2))
        .sum();
    for (r, f) in out.records.iter().zip(&finals) {
        let want = if *f > 0.0 { f.powf(2.2) / total } else { 0.0 };
        assert!((r.weight.unwrap() - want).abs() < 1e-15, "uid {}", r.uid);
    }
    assert_eq!(out.records[4].weight, Some(0.0));
    assert!(
        out.records[4].rating.is_none(),
        "a peer never evaluated has no rating"
    );
    let (w, weights) = state.read().weights(None).unwrap();
    assert_eq!(w, Some(10));
    assert!((weights.iter().map(|(_, w)| w).sum::<f64>() - 1.0).abs() < 1e-12);
}

#[test]
fn slashes_touch_only_positive_scores_and_persist_on_the_bma() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = State::open(&dir.path().join("s.db"), Duration::from_secs(5)).unwrap();
    let h = HyperParams::default();
    rate(&mut state, &h, window(1));
    let before = state.read().peers().unwrap();
    // Window 2: uid 1 misses, uid 4 (negative final) is late, uid 2 is desynced.
    let out = rate(
        &mut state,
        &h,
        vec![
            failed(2, 1, Status::Missing),
            failed(2, 4, Status::Late),
            failed(2, 2, Status::Desynced),
            evaluated(2, 3, 0.01, 1, 1.0),
            evaluated(2, 7, 0.02, 1, 1.0),
        ],
    );
    assert!(out.applied);
    let after = state.read().peers().unwrap();
    assert_eq!(after[&1].final_score, before[&1].final_score * 0.75);
    assert_eq!(after[&1].bma, before[&1].bma * 0.75);
    assert_eq!(
        after[&2].final_score,
        before[&2].final_score * 0.75,
        "desync slash"
    );
    assert!(before[&4].final_score <= 0.0);
    assert_eq!(
        after[&4].final_score, before[&4].final_score,
        "a non-positive score is not slashed"
    );
    assert_eq!(after[&4].bma, before[&4].bma);
}

#[test]
fn inactive_peers_decay_then_reset() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = State::open(&dir.path().join("s.db"), Duration::from_secs(5)).unwrap();
    let h = HyperParams {
        recent_windows: 2,
        reset_inactivity_windows: 3,
        ..Default::default()
    };
    rate(&mut state, &h, window(1));
    let start = state.read().peers().unwrap()[&1].final_score;
    assert!(start > 0.0);
    let mut last = start;
    for w in 2..=8 {
        rate(
            &mut state,
            &h,
            vec![evaluated(w, 2, 0.01, 1, 1.0), evaluated(w, 3, 0.02, 1, 1.0)],
        );
        let p = state.read().peers().unwrap()[&1].clone();
        if w <= 3 {
            assert_eq!(
                p.final_score, start,
                "window {w}: still within recent_windows"
            );
        } else if w <= 7 {
            assert_eq!(
                p.final_score,
                last * 0.75,
                "window {w}: one inactivity slash per window"
            );
        } else {
            assert_eq!(
                (p.final_score, p.bma, p.rating),
                (0.0, 0.0, None),
                "window {w}: reset"
            );
        }
        last = p.final_score;
    }
}

#[test]
fn rerunning_a_window_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = State::open(&dir.path().join("s.db"), Duration::from_secs(5)).unwrap();
    let h = HyperParams::default();
    let first = rate(&mut state, &h, window(3));
    let peers = state.read().peers().unwrap();
    let again = rate(&mut state, &h, window(3));
    assert!(!again.applied);
    assert_eq!(
        again.records, first.records,
        "the re-run prints the records as first rated"
    );
    assert_eq!(state.read().peers().unwrap(), peers);
    let mixed = gauntlet::rate::rate(
        &mut state,
        &h,
        h.weights_schedule,
        &h.ramp(),
        vec![Record::new(1, 1), Record::new(2, 2)],
        gauntlet::rate::Admission::Forced,
    );
    assert!(mixed.is_err());
}

fn jsonl(records: &[Record]) -> String {
    records
        .iter()
        .map(|r| serde_json::to_string(r).unwrap() + "\n")
        .collect()
}

#[cfg(feature = "failpoints")]
/// Waits until the child says it holds the window's transaction open.
fn wait_for_pause(child: &mut std::process::Child) -> std::process::ChildStderr {
    let stderr = child.stderr.take().unwrap();
    let mut reader = BufReader::new(stderr);
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "rate ended before pausing"
        );
        if line.contains("pausing") {
            return reader.into_inner();
        }
    }
}

fn export(dir: &std::path::Path) -> String {
    common::stdout(&ok(
        gauntlet(dir).args(["state", "export", "--state", "s.db"])
    ))
}

/// The failpoint that holds `rate`'s transaction open, written but not committed, while the
/// returned file exists.
#[cfg(feature = "failpoints")]
fn hold(dir: &std::path::Path) -> (&'static str, std::path::PathBuf) {
    let file = dir.join("hold-the-transaction");
    std::fs::write(&file, "").unwrap();
    ("GAUNTLET_FAILPOINT_RATE_BEFORE_COMMIT", file)
}

#[cfg(feature = "failpoints")]
#[test]
fn kill_9_in_the_middle_of_a_window_leaves_the_state_as_before() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = pipe(
        d,
        &["rate", "--state", "s.db", "--format", "jsonl"],
        jsonl(&window(1)).as_bytes(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let before = export(d);
    let (var, held) = hold(d);
    let mut child = gauntlet(d)
        .args(["rate", "--state", "s.db", "--format", "jsonl"])
        .env(var, &held)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(jsonl(&window(2)).as_bytes()).unwrap();
    }
    let _stderr = wait_for_pause(&mut child);
    // SAFETY: kill(2) with SIGKILL on our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    child.wait().unwrap();
    assert_eq!(export(d), before, "the killed window left no trace");
    let state = State::open(&d.join("s.db"), Duration::from_secs(5)).unwrap();
    assert!(!state.read().applied(2).unwrap());
    drop(state);
    let out = pipe(
        d,
        &["rate", "--state", "s.db"],
        jsonl(&window(2)).as_bytes(),
    );
    assert!(
        out.status.success() && stderr(&out).contains("window 2 applied"),
        "{}",
        stderr(&out)
    );
    assert_ne!(export(d), before);
}

#[cfg(feature = "failpoints")]
#[test]
fn two_processes_never_interleave() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let input = jsonl(&window(5));
    std::fs::write(d.join("w5.jsonl"), &input).unwrap();
    std::fs::write(d.join("w6.jsonl"), jsonl(&window(6))).unwrap();
    let (var, held) = hold(d);
    let mut first = gauntlet(d)
        .args(["rate", "w5.jsonl", "--state", "s.db", "--format", "jsonl"])
        .env(var, &held)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _stderr = wait_for_pause(&mut first);
    // One that will not wait long enough is told who holds the lock.
    let impatient = gauntlet(d)
        .args([
            "rate",
            "w6.jsonl",
            "--state",
            "s.db",
            "--set",
            "state.wait_seconds=0.2",
        ])
        .output()
        .unwrap();
    assert_eq!(impatient.status.code(), Some(1));
    assert!(
        stderr(&impatient).contains("locked by another gauntlet process"),
        "{}",
        stderr(&impatient)
    );
    // One that waits applies its window after the first commits, once the first goes on.
    let second = gauntlet(d)
        .args(["rate", "w6.jsonl", "--state", "s.db"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::fs::remove_file(&held).unwrap();
    let second = second.wait_with_output().unwrap();
    assert!(second.status.success(), "{}", stderr(&second));
    assert!(first.wait().unwrap().success());
    // The same as applying the two windows one after the other.
    let serial = tempfile::tempdir().unwrap();
    for w in ["w5.jsonl", "w6.jsonl"] {
        std::fs::copy(d.join(w), serial.path().join(w)).unwrap();
        ok(gauntlet(serial.path()).args(["rate", w, "--state", "s.db"]));
    }
    assert_eq!(export(d), export(serial.path()));
}

#[test]
fn ratings_export_and_import_in_the_reference_form() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("in.jsonl"), jsonl(&window(1))).unwrap();
    ok(gauntlet(d).args(["rate", "in.jsonl", "--state", "s.db"]));
    let exported: serde_json::Value = serde_json::from_str(&export(d)).unwrap();
    let one = &exported["1"];
    assert!(
        (one["ordinal"].as_f64().unwrap()
            - (one["mu"].as_f64().unwrap() - 3.0 * one["sigma"].as_f64().unwrap()))
        .abs()
            < 1e-12
    );
    std::fs::write(d.join("ratings.json"), exported.to_string()).unwrap();
    ok(gauntlet(d).args(["state", "import", "ratings.json", "--state", "other.db"]));
    let other = common::stdout(&ok(
        gauntlet(d).args(["state", "export", "--state", "other.db"])
    ));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&other).unwrap(),
        exported
    );
    std::fs::write(d.join("bad.json"), r#"{"x": {"mu": 1, "sigma": 1}}"#).unwrap();
    assert_eq!(
        gauntlet(d)
            .args(["state", "import", "bad.json", "--state", "other.db"])
            .output()
            .unwrap()
            .status
            .code(),
        Some(1)
    );
    let weights: serde_json::Value = serde_json::from_str(&common::stdout(&ok(
        gauntlet(d).args(["state", "weights", "--state", "s.db"])
    )))
    .unwrap();
    assert_eq!(weights["window"], 1);
}

#[test]
fn select_draws_from_one_bin_by_waiting_counters_and_repeats_on_rerun() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut state = State::open(&d.join("s.db"), Duration::from_secs(5)).unwrap();
    let cfg = gauntlet::config::Config::default();
    let candidates = |w: u64| -> Vec<Record> {
        (0..60u16)
            .map(|uid| {
                let mut r = Record::new(w, uid);
                r.stake = Some(if uid == 59 { 50_000.0 } else { 10.0 });
                if uid == 58 {
                    r.fail(Status::Missing, "x");
                }
                r
            })
            .collect()
    };
    let mut chosen_ever = std::collections::BTreeSet::new();
    for w in 0..80 {
        let mut records = candidates(w);
        let chosen = gauntlet::select::select(&mut state, &cfg, &mut records).unwrap();
        assert_eq!(chosen.len(), 4, "window {w}");
        assert!(
            !chosen.contains(&59),
            "a validator-sized stake is not evaluated"
        );
        assert!(!chosen.contains(&58), "a failed peer is not a candidate");
        let marked = records
            .iter()
            .filter(|r| r.status == Status::NotSelected)
            .count();
        assert_eq!(
            marked,
            60 - 4 - 1,
            "everyone else ok is marked not_selected"
        );
        chosen_ever.extend(chosen.iter().copied());
        if w == 5 {
            let peers = state.read().peers().unwrap();
            let mut again = candidates(w);
            assert_eq!(
                gauntlet::select::select(&mut state, &cfg, &mut again).unwrap(),
                chosen,
                "a re-run repeats the choice"
            );
            assert_eq!(
                state.read().peers().unwrap(),
                peers,
                "and counts nothing twice"
            );
        }
    }
    // Waiting counters keep anyone from starving: over 80 windows of 4, all 58 candidates were seen.
    assert_eq!(chosen_ever.len(), 58, "{chosen_ever:?}");
}

#[test]
fn audit_explains_every_figure_of_a_weight() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("in.jsonl"), jsonl(&window(1))).unwrap();
    ok(gauntlet(d).args(["rate", "in.jsonl", "--state", "s.db"]));
    let out = ok(gauntlet(d).args([
        "audit", "--uid", "2", "--window", "1", "--state", "s.db", "--format", "json",
    ]));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let figures: std::collections::BTreeMap<String, String> = v[0]["figures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p[0].as_str().unwrap().to_string(),
                p[1].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for k in [
        "status",
        "sync",
        "score (LossScore)",
        "indicator",
        "rating",
        "BMA",
        "final",
        "weight",
    ] {
        assert!(figures.contains_key(k), "audit shows {k}: {figures:?}");
    }
    assert!(figures["final"].contains("ordinal × max(0, BMA) × sync"));
    assert!(figures["weight"].contains("final^2.2"));
    let table = ok(gauntlet(d).args([
        "audit", "--uid", "5", "--state", "s.db", "--format", "table",
    ]));
    assert!(common::stdout(&table).contains("missing"));
    let none = gauntlet(d)
        .args(["audit", "--uid", "99", "--state", "s.db"])
        .output()
        .unwrap();
    assert_eq!(none.status.code(), Some(1));
    assert!(stderr(&none).contains("uid 99"));
}

#[test]
fn copies_are_slashed_reset_or_barred_by_level() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = State::open(&dir.path().join("s.db"), Duration::from_secs(5)).unwrap();
    let h = HyperParams::default();
    rate(&mut state, &h, window(1));
    let before = state.read().peers().unwrap();
    let dup = |uid: u16, level: &str| {
        let mut r = failed(2, uid, Status::Duplicate);
        r.dedupe = Some(
            serde_json::from_value(
                serde_json::json!({"copied_from": 9, "overlap": 0.45, "cosine": 0.99, "level": level}),
            )
            .unwrap(),
        );
        r
    };
    rate(
        &mut state,
        &h,
        vec![
            dup(1, "high"),
            dup(2, "max"),
            dup(3, "mega"),
            evaluated(2, 4, 0.01, 1, 1.0),
            evaluated(2, 7, 0.02, 1, 1.0),
        ],
    );
    let after = state.read().peers().unwrap();
    assert_eq!(
        after[&1].final_score,
        before[&1].final_score * 0.5,
        "high: × idx_overlap_slash"
    );
    assert_eq!(
        (
            after[&2].rating,
            after[&2].bma,
            after[&2].final_score,
            after[&2].banned_until
        ),
        (None, 0.0, 0.0, None),
        "max: reset"
    );
    assert_eq!(
        after[&3].banned_until,
        Some(2 + 200),
        "mega: reset and barred"
    );
    // A barred peer is not selected for evaluation.
    let cfg = gauntlet::config::Config::default();
    let mut records: Vec<Record> = (1..=4).map(|u| Record::new(3, u)).collect();
    let chosen = gauntlet::select::select(&mut state, &cfg, &mut records).unwrap();
    assert!(!chosen.contains(&3) && chosen.len() == 3, "{chosen:?}");
}

#[test]
fn read_commands_never_create_a_state_and_a_damaged_one_says_how_to_recover() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let reads: [&[&str]; 8] = [
        &["state", "export"],
        &["state", "weights"],
        &["state", "peers"],
        &["state", "records", "--window", "1"],
        &["state", "forget", "--window", "1"],
        &["state", "backup", "copy.db"],
        &["audit", "--uid", "1"],
        &["commit", "--network", "net.yaml"],
    ];
    for args in reads {
        let out = gauntlet(d)
            .args(args)
            .args(["--state", "typo.db"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("no state database at typo.db"),
            "{args:?}: {}",
            stderr(&out)
        );
        assert!(!d.join("typo.db").exists(), "{args:?} created the state");
        assert!(!d.join("copy.db").exists(), "{args:?} wrote a copy");
    }
    std::fs::write(d.join("bad.db"), "not a database ".repeat(300)).unwrap();
    let out = gauntlet(d)
        .args(["state", "export", "--state", "bad.db"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("bad.db is damaged") && err.contains("sqlite3 bad.db .recover"),
        "{err}"
    );
}
