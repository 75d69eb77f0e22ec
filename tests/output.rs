//! Every command's stdout: `--format` honoured, and a closed pipe (`… | head -1`) is a quiet
//! exit 0, never a panic.

mod common;
use common::{gauntlet, local_net, ok, stdout};
use gauntlet::record::{Record, Status};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::Stdio;

/// How the reader goes away: after the first line (as `head -1`), or before reading anything
/// (so that the command's first write already finds the pipe closed, however short it is).
#[derive(Clone, Copy, Debug)]
enum Close {
    AfterFirstLine,
    AtOnce,
}

/// Runs `args` in `dir` with stdout into a reader that closes early; insists on exit 0 and a
/// stderr with no panic and no error.
fn closed_early(dir: &Path, args: &[&str], close: Close) {
    let mut child = gauntlet(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run gauntlet");
    let mut err = child.stderr.take().unwrap();
    let stderr = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let out = child.stdout.take().unwrap();
    if let Close::AfterFirstLine = close {
        let mut first = String::new();
        BufReader::new(out).read_line(&mut first).unwrap();
        assert!(!first.is_empty(), "{args:?} printed nothing");
    } else {
        drop(out);
    }
    let status = child.wait().unwrap();
    let stderr = stderr.join().unwrap();
    assert!(
        !stderr.contains("panicked") && !stderr.contains("error:"),
        "{args:?} ({close:?}): {stderr}"
    );
    assert_eq!(status.code(), Some(0), "{args:?} ({close:?}): {stderr}");
}

/// Both ways of closing, for JSON (lines, on a pipe) and for a table. (`--format json` writes
/// through the same calls as JSON lines.)
fn closed_early_every_way(dir: &Path, args: &[&str]) {
    for format in ["auto", "table"] {
        let mut with_format = args.to_vec();
        with_format.extend(["--format", format]);
        for close in [Close::AfterFirstLine, Close::AtOnce] {
            closed_early(dir, &with_format, close);
        }
    }
}

fn evaluated(window: u64, uid: u16, score: f64) -> Record {
    let indicator = if score > 0.0 { 1 } else { -1 };
    common::evaluated_record(window, uid, score, indicator, 1.0)
}

/// A local network (packed data, window-0 checkpoint), a network file of three peers, one
/// peer upload in `store/`, and a state `s.db` with 300 peers rated in window 1 (enough
/// output to fill a pipe).
fn world(d: &Path) {
    local_net(d);
    let peers: Vec<_> = (1..=3u16)
        .map(|uid| {
            serde_json::json!({
                "uid": uid,
                "hotkey": format!("hotkey-{uid}"),
                "stake": uid as f64,
                "bucket": {"url": format!("file://{}", d.join(format!("bucket-{uid}")).display())},
            })
        })
        .collect();
    let net = serde_json::json!({
        "clock": {"genesis": "2026-01-01T00:00:00Z", "window_seconds": 96},
        "peers": peers,
    });
    std::fs::write(d.join("network.yaml"), yaml_serde::to_string(&net).unwrap()).unwrap();
    ok(gauntlet(d).args([
        "peer",
        "--uid",
        "1",
        "--window",
        "0",
        "--store",
        "store",
        "--checkpoints",
        "ckpts",
        "--batches",
        "1",
    ]));
    let records = (0..300u16).map(|uid| {
        if uid % 7 == 3 {
            let mut r = Record::new(1, uid);
            r.fail(Status::Missing, "no upload");
            r
        } else {
            evaluated(1, uid, (uid as f64 - 100.0) / 10_000.0)
        }
    });
    let mut lines = String::new();
    for r in common::listed(records.collect()) {
        lines.push_str(&serde_json::to_string(&r).unwrap());
        lines.push('\n');
    }
    std::fs::write(d.join("rated.jsonl"), lines).unwrap();
    ok(gauntlet(d).args([
        "rate",
        "rated.jsonl",
        "--state",
        "s.db",
        "--format",
        "jsonl",
    ]));
}

#[test]
fn no_command_panics_when_its_reader_goes_away() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    world(d);
    let gradient = "store/gradient-0-1-v1.safetensors";
    let sync = "store/sync-0-1-v1.safetensors";
    for args in [
        &["config", "--sources"][..],
        &["config"],
        &[
            "data",
            "pages",
            "--uid",
            "1",
            "--window",
            "0",
            "--windows",
            "3000",
        ],
        &[
            "data",
            "pages",
            "--random",
            "7",
            "--window",
            "0",
            "--windows",
            "50",
        ],
        &["data", "info"],
        &["model", "info", "--preset", "tiny", "--shapes"],
        &["model", "info"],
        &["state", "export", "--state", "s.db"],
        &["state", "weights", "--state", "s.db"],
        &["state", "peers", "--state", "s.db"],
        &["audit", "--uid", "5", "--state", "s.db"],
        &["inspect", gradient, "--window", "0", "--uid", "1"],
        &["inspect", sync],
        &["peers", "--window", "0"],
        &["show", "rated.jsonl"],
        &["rate", "rated.jsonl", "--state", "s.db"],
    ] {
        closed_early_every_way(d, args);
    }
    // The slow ones (a forward pass, a training step) in one format.
    for args in [
        &[
            "model",
            "loss",
            "--checkpoint",
            "ckpts/checkpoint-0.safetensors",
            "--pages",
            "0",
        ][..],
        &[
            "peer",
            "--uid",
            "2",
            "--window",
            "0",
            "--store",
            "store",
            "--checkpoints",
            "ckpts",
            "--batches",
            "1",
        ],
    ] {
        for close in [Close::AfterFirstLine, Close::AtOnce] {
            closed_early(d, args, close);
        }
    }
    // Every stage, each on the records of the one before, and a round of them.
    let save = |name: &str, args: &[&str]| {
        let out = ok(gauntlet(d).args(args).args(["--format", "jsonl"]));
        std::fs::write(d.join(name), &out.stdout).unwrap();
    };
    save("peers.jsonl", &["peers", "--window", "0"]);
    save("fetched.jsonl", &["fetch", "peers.jsonl"]);
    save(
        "filtered.jsonl",
        &["filter", "fetched.jsonl", "--checkpoints", "ckpts"],
    );
    save("deduped.jsonl", &["dedupe", "filtered.jsonl"]);
    save(
        "evaluated.jsonl",
        &["evaluate", "deduped.jsonl", "--checkpoints", "ckpts"],
    );
    std::fs::write(
        d.join("round.yaml"),
        "checkpoints: ckpts\nstages: [peers, fetch, filter, dedupe]\n",
    )
    .unwrap();
    for args in [
        &["fetch", "peers.jsonl"][..],
        &["filter", "fetched.jsonl", "--checkpoints", "ckpts"],
        &["dedupe", "filtered.jsonl"],
        &["select", "deduped.jsonl", "--state", "select.db"],
        &["evaluate", "deduped.jsonl", "--checkpoints", "ckpts"],
        &["commit", "evaluated.jsonl", "--state", "s.db"],
        &["aggregate", "evaluated.jsonl", "--checkpoints", "ckpts"],
        &["run", "round.yaml", "--window", "0"],
        &["state", "records", "--window", "1", "--state", "s.db"],
    ] {
        closed_early_every_way(d, args);
    }
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        for close in [Close::AfterFirstLine, Close::AtOnce] {
            closed_early(d, &["completions", shell], close);
        }
    }
}

/// The first line of a sharp tabled table.
fn is_table(text: &str) -> bool {
    text.starts_with('┌')
}

#[test]
fn format_table_is_honoured_by_every_command_that_prints() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    world(d);
    let table = |args: &[&str]| {
        let out = stdout(&ok(gauntlet(d).args(args).args(["--format", "table"])));
        assert!(is_table(&out), "{args:?} prints no table:\n{out}");
        out
    };
    let t = table(&[
        "inspect",
        "store/gradient-0-1-v1.safetensors",
        "--window",
        "0",
    ]);
    assert!(
        t.contains("kind") && t.contains("gradient") && t.contains("global_step"),
        "{t}"
    );
    let t = table(&["inspect", "store/sync-0-1-v1.safetensors"]);
    assert!(t.contains("sync") && t.contains("parameters"), "{t}");
    let t = table(&["state", "export", "--state", "s.db"]);
    let header = t.lines().nth(1).unwrap();
    assert!(
        header.contains("uid") && header.contains("mu") && header.contains("sigma"),
        "{t}"
    );
    let t = table(&["state", "weights", "--state", "s.db"]);
    assert!(t.contains("window") && t.contains("weights:"), "{t}");
    let t = table(&["state", "peers", "--state", "s.db"]);
    assert!(t.lines().nth(1).unwrap().contains("uid"), "{t}");
    let t = table(&["model", "info", "--preset", "tiny", "--shapes"]);
    assert!(
        t.contains("parameters") && t.contains("config.hidden_size") && t.contains("shapes:"),
        "{t}"
    );
    let t = table(&["data", "pages", "--uid", "1", "--window", "0"]);
    assert!(t.lines().nth(1).unwrap().contains("pages"), "{t}");
    table(&["data", "info"]);
    table(&["peers", "--window", "0"]);
    table(&["config", "--sources"]);

    // The same commands give JSON on a pipe (auto) and with --format json.
    for args in [
        &["state", "export", "--state", "s.db"][..],
        &["state", "weights", "--state", "s.db"],
        &["model", "info", "--preset", "tiny"],
        &["inspect", "store/sync-0-1-v1.safetensors"],
    ] {
        for format in ["auto", "json"] {
            let out = stdout(&ok(gauntlet(d).args(args).args(["--format", format])));
            serde_json::from_str::<serde_json::Value>(&out)
                .unwrap_or_else(|e| panic!("{args:?} {format:?}: {e}\n{out}"));
        }
    }
    // A list is JSON lines on a pipe, one JSON array with --format json.
    let lines = stdout(&ok(gauntlet(d).args(["config", "--sources"])));
    for l in lines.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        assert!(v["key"].is_string() && v["source"].is_string(), "{l}");
    }
    let all =
        stdout(&ok(gauntlet(d).args([
            "state", "peers", "--state", "s.db", "--format", "json",
        ])));
    let all: Vec<serde_json::Value> = serde_json::from_str(&all).unwrap();
    assert!(all.len() >= 257, "every rated peer: {}", all.len());
}

/// A write that fails part-way leaves the file as it was and no temporary beside it; one that
/// succeeds replaces it whole.
#[test]
fn a_failed_write_leaves_the_old_file_and_no_temporary() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    gauntlet::atomic::write(&path, b"old").unwrap();
    let failed = gauntlet::atomic::write_with(&path, |out| {
        std::io::Write::write_all(out, b"half of the new")?;
        anyhow::bail!("the disk is full")
    });
    assert!(format!("{:#}", failed.unwrap_err()).contains("the disk is full"));
    assert_eq!(std::fs::read(&path).unwrap(), b"old");
    gauntlet::atomic::write(&path, b"new").unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"new");
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["state.json"]);
}

/// Ctrl-C and TERM end a command with a word and the shell's codes (130, 143), not silently.
#[test]
fn an_interrupted_command_says_so_and_exits_130_or_143() {
    let dir = tempfile::tempdir().unwrap();
    for (signal, code) in [(libc::SIGINT, 130), (libc::SIGTERM, 143)] {
        // `show` waits for records on its stdin, which stays open.
        let child = common::gauntlet(dir.path())
            .arg("show")
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Once the process catches the signal (its SigCgt mask says so), send it.
        let caught = |pid: u32| {
            std::fs::read_to_string(format!("/proc/{pid}/status"))
                .ok()
                .and_then(|s| {
                    let line = s.lines().find(|l| l.starts_with("SigCgt:"))?.to_string();
                    u64::from_str_radix(line.split_whitespace().nth(1)?, 16).ok()
                })
                .is_some_and(|mask| mask & (1 << (signal - 1)) != 0)
        };
        let start = std::time::Instant::now();
        while !caught(child.id()) {
            assert!(
                start.elapsed().as_secs() < 120,
                "the handler was never installed"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        // SAFETY: sends a signal to the child this test started.
        assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, signal) }, 0);
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{err}");
        assert!(err.contains("interrupted; the state is intact"), "{err}");
    }
}
