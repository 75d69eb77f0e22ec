//! The round three ways (the shell pipeline of workflows/round.sh, `gauntlet run` on a
//! workflow file, and the demo's in-process round) giving the same records and state; the
//! demo settling on the honest peers; and a demo killed mid-window resuming without losing or
//! double-counting a window.

mod common;

use common::{gauntlet, ok};
use gauntlet::chain::ledger::{LedgerEntry, LocalChain};
use gauntlet::config::{Config, LoadedConfig, LOCAL_DEFAULTS};
use gauntlet::record::Record;
use gauntlet::state::{Peer, State, Submission};
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;
use std::time::Duration;

/// The stages of the demo's round and of workflows/round.yaml, in order.
const ROUND: [&str; 8] = [
    "peers",
    "fetch",
    "filter",
    "dedupe",
    "evaluate",
    "rate",
    "commit",
    "aggregate",
];

fn local_config() -> Config {
    LoadedConfig::load_over(
        Some(("local", LOCAL_DEFAULTS)),
        None,
        Vec::new(),
        &["runtime.device=cpu".to_string()],
    )
    .unwrap()
    .config
}

/// Everything a round leaves that must not depend on how it was run.
#[derive(Debug)]
struct Left {
    records: Vec<Record>,
    peers: BTreeMap<u16, Peer>,
    history: Vec<Record>,
    weights: (Option<u64>, Vec<(u16, f64)>),
    submissions: Vec<Submission>,
    ledger: Vec<LedgerEntry>,
    next_checkpoint: Vec<u8>,
    sync_slice: Vec<u8>,
}

fn left(net: &gauntlet::demo::Net, records: Vec<Record>) -> Left {
    let state = State::open(&net.cfg.state.path, Duration::from_secs(5)).unwrap();
    let r = state.read();
    let submissions = r
        .submissions(&[])
        .unwrap()
        .into_iter()
        // When, and so the local chain's extrinsic hash, depends on the wall clock.
        .map(|s| Submission {
            created_at: String::new(),
            sent_at: None,
            detail: None,
            block_hash: None,
            extrinsic_hash: None,
            ..s
        })
        .collect();
    let ledger = LocalChain::ledger(&net.cfg.network.file)
        .unwrap()
        .into_iter()
        // When it arrived depends on the wall clock, not on how the round was run.
        .map(|e| LedgerEntry {
            received_at: String::new(),
            block: 0,
            ..e
        })
        .collect();
    let sync_dir = net.dir.join("validator");
    let mut sync_files: Vec<_> = std::fs::read_dir(&sync_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    sync_files.sort();
    assert_eq!(sync_files.len(), 1, "one sync slice in {sync_dir:?}");
    Left {
        records,
        peers: r.peers().unwrap(),
        history: r.history(0).unwrap(),
        weights: r.weights(None).unwrap(),
        submissions,
        ledger,
        next_checkpoint: std::fs::read(net.checkpoints().join("checkpoint-1.safetensors")).unwrap(),
        sync_slice: std::fs::read(&sync_files[0]).unwrap(),
    }
}

/// Compares two rounds' leftovers part by part, naming the first that differs.
fn same(a: &Left, b: &Left, what: &str) {
    assert_eq!(a.records.len(), b.records.len(), "{what}: record count");
    for (x, y) in a.records.iter().zip(&b.records) {
        assert_eq!(x, y, "{what}: the record of uid {}", x.uid);
    }
    assert_eq!(a.peers, b.peers, "{what}: the state's peers");
    assert_eq!(a.history, b.history, "{what}: the state's history");
    assert_eq!(a.weights, b.weights, "{what}: the state's weights");
    assert_eq!(
        a.submissions, b.submissions,
        "{what}: the state's submissions"
    );
    assert_eq!(a.ledger, b.ledger, "{what}: the ledger");
    assert!(
        a.next_checkpoint == b.next_checkpoint,
        "{what}: the next checkpoint"
    );
    assert!(
        a.sync_slice == b.sync_slice,
        "{what}: the validator's sync slice"
    );
}

/// Removes what the validator's round writes, keeping the peers' uploads.
fn reset(net: &gauntlet::demo::Net) {
    let d = &net.dir;
    for f in ["state.db", "state.db-wal", "state.db-shm", "ledger.jsonl"] {
        let _ = std::fs::remove_file(d.join(f));
    }
    let _ = std::fs::remove_file(net.checkpoints().join("checkpoint-1.safetensors"));
    for sub in ["cache", "validator", "rounds"] {
        let _ = std::fs::remove_dir_all(d.join(sub));
    }
}

fn jsonl(path: &Path) -> Vec<Record> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn pipeline_run_and_in_process_round_agree() {
    let tmp = tempfile::tempdir().unwrap();
    let mut net = gauntlet::demo::Net::open(&local_config(), &tmp.path().join("net")).unwrap();
    net.upload(0).unwrap();
    let config = tmp.path().join("gauntlet.yaml");
    std::fs::write(&config, yaml_serde::to_string(&net.cfg).unwrap()).unwrap();
    let ledger = LocalChain::ledger_path(&net.cfg.network.file);

    // The demo's own round, in this process.
    let outcome = net.validate(0, &|_| {}).unwrap();
    assert!(outcome.commit_error.is_none(), "{:?}", outcome.commit_error);
    assert!(ledger.exists(), "the round committed to the local ledger");
    let in_process = left(&net, outcome.records);
    assert!(
        in_process
            .records
            .iter()
            .any(|r| r.weight.unwrap_or(0.0) > 0.0),
        "the round gave weights"
    );

    // The shell pipeline, workflows/round.sh, with the binary on PATH.
    reset(&net);
    let bin = Path::new(env!("CARGO_BIN_EXE_gauntlet")).parent().unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let mut sh = std::process::Command::new("bash");
    sh.arg(common::repo().join("workflows/round.sh"))
        .arg("0")
        .current_dir(&net.dir)
        .env("PATH", path)
        .env("GAUNTLET_CONFIG", &config)
        .env("CHECKPOINTS", net.checkpoints())
        .env("SYNC_STORE", net.dir.join("validator"))
        .env("OUT", net.dir.join("rounds"));
    ok(&mut sh);
    let pipeline = left(&net, jsonl(&net.dir.join("rounds/rated-0.jsonl")));
    same(
        &in_process,
        &pipeline,
        "workflows/round.sh against the in-process round",
    );

    // gauntlet run on the demo's round as a workflow file.
    reset(&net);
    let mut workflow = net.workflow();
    workflow.window = Some(0);
    workflow.keep = Some(net.dir.join("rounds"));
    let file = tmp.path().join("round.yaml");
    std::fs::write(&file, yaml_serde::to_string(&workflow).unwrap()).unwrap();
    let out = ok(gauntlet(&net.dir)
        .arg("--config")
        .arg(&config)
        .args(["run", "--format", "jsonl"])
        .arg(&file));
    let run = left(&net, common::records(&out));
    same(
        &in_process,
        &run,
        "gauntlet run against the in-process round",
    );
    for stage in ROUND {
        assert!(
            net.dir.join(format!("rounds/{stage}-0.jsonl")).exists(),
            "run keeps the {stage} stage's records"
        );
    }
    assert_eq!(jsonl(&net.dir.join("rounds/rate-0.jsonl")), run.records);
}

#[test]
fn the_checked_in_round_workflow_parses() {
    let w = gauntlet::round::Workflow::read(&common::repo().join("workflows/round.yaml")).unwrap();
    let names: Vec<_> = w.stages.iter().map(|s| s.name()).collect();
    assert_eq!(names, ROUND);
}

#[derive(serde::Deserialize)]
struct Standing {
    uid: u16,
    behaviour: String,
    weight: f64,
}

#[derive(serde::Deserialize)]
struct Window {
    heldout_loss: f64,
}

#[derive(serde::Deserialize)]
struct Report {
    heldout_loss_initial: f64,
    windows: Vec<Window>,
    leaderboard: Vec<Standing>,
    honest_weight_share: f64,
    resumed_at: u64,
    config_file: std::path::PathBuf,
    reproduce: String,
}

fn demo(dir: &Path, windows: u64) -> Report {
    let out = ok(gauntlet(dir).args([
        "demo",
        "--dir",
        "net",
        "--windows",
        &windows.to_string(),
        "--format",
        "json",
    ]));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_shortened_demo_pays_the_honest_peers_and_the_model_learns() {
    let tmp = tempfile::tempdir().unwrap();
    let report = demo(tmp.path(), 8);
    let honest: Vec<&Standing> = report
        .leaderboard
        .iter()
        .filter(|s| s.behaviour == "honest")
        .collect();
    let others: Vec<&Standing> = report
        .leaderboard
        .iter()
        .filter(|s| s.behaviour != "honest")
        .collect();
    assert_eq!((honest.len(), others.len()), (4, 11));
    let lowest_honest = honest
        .iter()
        .map(|s| s.weight)
        .fold(f64::INFINITY, f64::min);
    for s in &others {
        assert!(
            s.weight < lowest_honest,
            "uid {} ({}) has weight {} ≥ the lowest honest peer's {lowest_honest}",
            s.uid,
            s.behaviour,
            s.weight
        );
    }
    assert!(
        report.honest_weight_share >= 0.9,
        "honest peers hold {:.3} of the weight",
        report.honest_weight_share
    );
    let last = report.windows.last().unwrap().heldout_loss;
    assert!(
        last < report.heldout_loss_initial,
        "held-out loss {} -> {last}",
        report.heldout_loss_initial
    );
}

/// What a window decided about each peer, without where and when its files were.
fn outcomes(records: Vec<Record>) -> Vec<serde_json::Value> {
    records
        .into_iter()
        .map(|r| {
            serde_json::json!({
                "uid": r.uid, "status": r.status, "sync": r.sync, "eval": r.eval,
                "rating": r.rating, "weight": r.weight,
            })
        })
        .collect()
}

#[test]
fn a_demo_killed_mid_window_resumes_without_losing_or_double_counting() {
    let whole = tempfile::tempdir().unwrap();
    demo(whole.path(), 3);

    let tmp = tempfile::tempdir().unwrap();
    let mut child = gauntlet(tmp.path())
        .args([
            "demo",
            "--dir",
            "net",
            "--windows",
            "3",
            "-v",
            "--format",
            "json",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Killed right after window 1 was rated, before its outer step: the most a crash can leave
    // half done (rated in the state, no next checkpoint).
    let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut seen = Vec::new();
    for line in stderr.lines() {
        let line = line.unwrap();
        let rated = line.starts_with("window 1: rate:");
        seen.push(line);
        if rated {
            child.kill().unwrap();
            break;
        }
    }
    child.wait().unwrap();
    let net = tmp.path().join("net");
    assert!(
        seen.iter()
            .any(|l| l.starts_with("window 1: rate: window 1 applied")),
        "the demo never rated window 1:\n{}",
        seen.join("\n")
    );
    let resumed = demo(tmp.path(), 3);
    assert!(resumed.resumed_at <= 1, "resumed at {}", resumed.resumed_at);
    assert_eq!(resumed.windows.len(), 3);

    let open = |dir: &Path| State::open(&dir.join("net/state.db"), Duration::from_secs(5)).unwrap();
    let (a, b) = (open(whole.path()), open(tmp.path()));
    for w in 0..3 {
        assert!(b.read().applied(w).unwrap(), "window {w} was lost");
        assert_eq!(
            outcomes(a.read().history(w).unwrap()),
            outcomes(b.read().history(w).unwrap()),
            "window {w} was rated differently"
        );
    }
    assert_eq!(
        a.read().peers().unwrap(),
        b.read().peers().unwrap(),
        "the ratings differ from an uninterrupted run's: a window counted twice or not at all"
    );
    for w in 1..=3 {
        let name = format!("checkpoints/checkpoint-{w}.safetensors");
        assert_eq!(
            std::fs::read(whole.path().join("net").join(&name)).unwrap(),
            std::fs::read(net.join(&name)).unwrap(),
            "{name} differs from an uninterrupted run's"
        );
    }
    let ledger = |dir: &Path| {
        LocalChain::ledger(&dir.join("net/network.yaml"))
            .unwrap()
            .len()
    };
    assert_eq!(
        ledger(whole.path()),
        ledger(tmp.path()),
        "the ledger got a window twice"
    );
}

/// Runs a shell line with the built binary first on PATH, in `dir`, with nothing of the
/// caller's GAUNTLET_* environment; returns its output (any exit status).
fn sh(dir: &Path, line: &str) -> std::process::Output {
    let bin = Path::new(env!("CARGO_BIN_EXE_gauntlet")).parent().unwrap();
    let mut cmd = std::process::Command::new("bash");
    cmd.args(["-o", "pipefail", "-c", line])
        .current_dir(dir)
        .env("HOME", dir)
        .env(
            "PATH",
            format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
        );
    for (k, _) in std::env::vars() {
        if k.starts_with("GAUNTLET_") {
            cmd.env_remove(k);
        }
    }
    cmd.output().unwrap()
}

/// Records without what depends on when or how they were rated: the rating and weight `rate`
/// adds, and the network's window when `peers` listed them.
fn unrated(records: Vec<Record>) -> Vec<Record> {
    records
        .into_iter()
        .map(|mut r| {
            r.rating = None;
            r.weight = None;
            if let Some(roster) = &mut r.roster {
                roster.network_window = 0;
            }
            r
        })
        .collect()
}

#[test]
fn a_round_by_hand_gives_the_demos_records_and_damaged_windows_are_undone() {
    let tmp = tempfile::tempdir().unwrap();
    let report = demo(tmp.path(), 4);
    let net = tmp.path().join("net");
    assert_eq!(report.config_file, net.join("gauntlet.yaml"));
    let state_records = |state: &str, w: u64| {
        common::records(&ok(gauntlet(&net).args([
            "state",
            "records",
            "--window",
            &w.to_string(),
            "--state",
            state,
            "--format",
            "jsonl",
        ])))
    };
    // The pipeline the demo printed, run by hand in its folder with the configuration it wrote.
    let by_hand = sh(&net, &report.reproduce);
    assert!(by_hand.status.success(), "{}", common::stderr(&by_hand));
    let demo_3 = state_records("state.db", 3);
    assert_eq!(common::records(&by_hand), demo_3);
    // Up to evaluate, twice over: the demo's records but for the ratings.
    let stages = report.reproduce.rsplit_once(" | gauntlet rate").unwrap().0;
    let stages = stages.split_once(" && ").unwrap().1;
    for w in [2, 3] {
        let line = format!(
            "{} > evaluated-{w}.jsonl",
            stages.replace("--window 3", &format!("--window {w}"))
        );
        let out = sh(&net, &line);
        assert!(out.status.success(), "{}", common::stderr(&out));
        let evaluated = jsonl(&net.join(format!("evaluated-{w}.jsonl")));
        assert_eq!(
            unrated(evaluated),
            unrated(state_records("state.db", w)),
            "window {w} by hand differs from the demo's"
        );
    }

    // A validator whose settings differ from the peers' is told so by their receipts.
    for (key, value) in [
        ("hparams.rows_per_page", "8"),
        ("hparams.batch_size", "8"),
        ("hparams.pages_per_window", "3"),
        ("data.assignment_key", "another-network"),
    ] {
        let line = format!(
            "gauntlet peers --window 3 | gauntlet fetch | gauntlet filter --checkpoints checkpoints --set {key}={value}"
        );
        let out = sh(&net, &line);
        assert!(out.status.success(), "{}", common::stderr(&out));
        let misassigned: Vec<Record> = common::records(&out)
            .into_iter()
            .filter(|r| r.status == gauntlet::record::Status::Misassigned)
            .collect();
        assert!(misassigned.len() >= 10, "{key}: {misassigned:?}");
        for r in &misassigned {
            assert!(
                r.reason.as_ref().unwrap().contains(key),
                "{key}: {:?}",
                r.reason
            );
        }
        assert!(
            common::stderr(&out)
                .contains("receipts disagree with this validator's page assignment"),
            "{}",
            common::stderr(&out)
        );
    }

    // A consistent copy, then windows undone and refused on it.
    ok(gauntlet(&net).args(["state", "backup", "copy.db"]));
    let figures = |state: &str| {
        let peers = common::stdout(&ok(
            gauntlet(&net).args(["state", "peers", "--state", state, "--format", "json"])
        ));
        let weights = common::stdout(&ok(
            gauntlet(&net).args(["state", "weights", "--state", state, "--format", "json"])
        ));
        (peers, weights)
    };
    let uninterrupted = figures("state.db");
    assert_eq!(figures("copy.db"), uninterrupted, "the backup is the state");
    // And a whole database to SQLite itself (Python's sqlite3, not ours).
    let check = "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); print(c.execute('pragma integrity_check').fetchone()[0], c.execute('select count(*) from windows').fetchone()[0])";
    let out = ok(std::process::Command::new(common::python())
        .args(["-c", check])
        .arg(net.join("copy.db")));
    assert_eq!(
        common::stdout(&out).trim(),
        "ok 4",
        "{}",
        common::stderr(&out)
    );
    let rate = |input: &str, extra: &[&str]| {
        let mut line = format!("{input} | gauntlet rate --state copy.db --format jsonl");
        for a in extra {
            line.push(' ');
            line.push_str(a);
        }
        sh(&net, &line)
    };
    let refused = |out: &std::process::Output, why: &str, before: &(String, String)| {
        assert_eq!(out.status.code(), Some(1), "{}", common::stderr(out));
        assert!(common::stderr(out).contains(why), "{}", common::stderr(out));
        assert_eq!(&figures("copy.db"), before, "a refusal changed the state");
    };
    ok(gauntlet(&net).args(["state", "forget", "--window", "2", "--state", "copy.db"]));
    let forgotten = figures("copy.db");
    assert_ne!(forgotten, uninterrupted);
    // Part of a window, a window not begun, and (after 3) an older one are refused.
    refused(
        &rate("head -5 evaluated-2.jsonl", &[]),
        "window 2 is not whole",
        &forgotten,
    );
    refused(
        &rate("gauntlet peers --window 500", &[]),
        "window 500 had not begun",
        &forgotten,
    );
    let partial = rate("head -5 evaluated-2.jsonl", &["--force"]);
    assert!(partial.status.success(), "{}", common::stderr(&partial));
    ok(gauntlet(&net).args(["state", "forget", "--window", "2", "--state", "copy.db"]));
    assert_eq!(
        figures("copy.db"),
        forgotten,
        "forget undid the forced window"
    );
    // Re-rated whole and in order: the state an uninterrupted run has.
    for w in [2, 3] {
        let out = rate(&format!("cat evaluated-{w}.jsonl"), &[]);
        assert!(out.status.success(), "{}", common::stderr(&out));
        assert_eq!(
            unrated(common::records(&out)),
            unrated(state_records("state.db", w))
        );
    }
    assert_eq!(figures("copy.db"), uninterrupted);
    assert_eq!(unrated(state_records("copy.db", 3)), unrated(demo_3));
    ok(gauntlet(&net).args(["state", "forget", "--window", "2", "--state", "copy.db"]));
    assert!(rate("cat evaluated-3.jsonl", &[]).status.success());
    let at_3 = figures("copy.db");
    refused(
        &rate("cat evaluated-2.jsonl", &[]),
        "window 2 is older than window 3",
        &at_3,
    );
}
