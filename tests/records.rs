//! The record stream: round trips, unknown fields, malformed input.

mod common;
use common::{gauntlet, ok, stderr, stdout};
use gauntlet::record::{Format, Record, RecordReader, RecordWriter, Status};
use std::io::Write;
use std::process::Stdio;

const FULL: &str = r#"{"window":1234,"uid":7,"hotkey":"5F3sa2TJAWMqDhXG6jhV4N8ko9SxwGy8TpaNS1repo5EYjQX","stake":12.5,"bucket":{"url":"s3://b/","endpoint":"http://127.0.0.1:9000"},"object":{"key":"gradient-1234-7-v0.1.0.safetensors","path":"/cache/ab","size":1024,"uploaded_at":"2026-11-25T10:00:00Z","sha256":"00ff"},"status":"ok","sync":{"steps_behind":0.4,"score":0.92},"eval":{"own_before":3.1,"own_after":3.0,"rand_before":3.2,"rand_after":3.15,"score":0.015625,"indicator":1},"rating":{"mu":27.1,"sigma":7.9,"ordinal":3.4,"bma":0.05,"final":0.17},"weight":0.12}"#;

#[test]
fn full_record_round_trips_exactly() {
    let r: Record = serde_json::from_str(FULL).unwrap();
    assert_eq!(serde_json::to_string(&r).unwrap(), FULL);
    assert_eq!(r.key(), (1234, 7));
    assert_eq!(r.rating.as_ref().unwrap().final_score, 0.17);
}

#[test]
fn unknown_fields_and_statuses_survive_at_every_level() {
    let line = r#"{"window":5,"uid":3,"status":"quarantined","reason":"later stage","eval":{"own_before":1.0,"own_after":0.5,"rand_before":1.0,"rand_after":0.9,"score":0.1,"indicator":-1,"flops":1.5e12},"dedupe":{"copied_from":4,"overlap":0.93,"cosine":0.99,"judged_by":"v9"},"future":[1,2,{"x":null}]}"#;
    let r: Record = serde_json::from_str(line).unwrap();
    assert_eq!(r.status, Status::Other("quarantined".into()));
    assert!(r.extra.contains_key("future"));
    assert_eq!(r.dedupe.as_ref().unwrap().copied_from, Some(4));
    assert!(r.dedupe.as_ref().unwrap().extra.contains_key("judged_by"));
    assert!(r.eval.as_ref().unwrap().extra.contains_key("flops"));
    let back: serde_json::Value =
        serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
    let orig: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(back, orig);
}

#[test]
fn floats_round_trip_bit_exactly() {
    for x in [
        0.1f64,
        1.0 / 3.0,
        2.2250738585072014e-308,
        6.02214076e23,
        -1.2345678901234567e-5,
    ] {
        let mut r = Record::new(1, 1);
        r.weight = Some(x);
        let back: Record = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back.weight.unwrap().to_bits(), x.to_bits());
    }
}

#[test]
fn reader_names_the_line_of_a_malformed_record() {
    let input =
        format!("{FULL}\n\n{{\"window\":1,\"uid\":2}}\n{{\"window\":1,\"uid\":\"seven\"}}\n");
    let mut reader = RecordReader::new(input.as_bytes(), "round.jsonl");
    assert!(reader.next().unwrap().is_ok());
    assert!(reader.next().unwrap().is_ok(), "blank lines are skipped");
    let err = reader.next().unwrap().unwrap_err().to_string();
    assert!(err.contains("round.jsonl line 4"), "{err}");
    assert!(err.contains("uid"), "{err}");
    for bad in [
        "not json",
        "[1,2]",
        r#"{"uid":1}"#,
        r#"{"window":-1,"uid":1}"#,
        r#"{"window":1,"uid":70000}"#,
        "{\"window\":1,\"uid\":1",
    ] {
        let mut reader = RecordReader::new(bad.as_bytes(), "x");
        assert!(reader.next().unwrap().is_err(), "{bad} is rejected");
    }
}

#[test]
fn writer_formats() {
    let r: Record = serde_json::from_str(FULL).unwrap();
    let mut w = RecordWriter::new(Vec::new(), Format::Jsonl);
    w.write(&r).unwrap();
    w.write(&Record::new(1, 2)).unwrap();
    let jsonl = String::from_utf8(w.finish().unwrap()).unwrap();
    assert_eq!(jsonl.lines().count(), 2);
    assert_eq!(jsonl.lines().next().unwrap(), FULL);

    let mut w = RecordWriter::new(Vec::new(), Format::Json);
    w.write(&r).unwrap();
    let json: Vec<Record> = serde_json::from_slice(&w.finish().unwrap()).unwrap();
    assert_eq!(json, vec![r.clone()]);

    let mut failed = Record::new(1234, 9);
    failed.fail(
        Status::Late,
        "uploaded 14.2 s after the boundary block; the put window is 10 s",
    );
    let table = gauntlet::record::table(&[r, failed]);
    for needle in ["uid", "status", "late", "14.2 s", "0.1200", "+1"] {
        assert!(table.contains(needle), "table shows {needle}:\n{table}");
    }
}

#[test]
fn show_streams_records_through_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let late =
        r#"{"window":1234,"uid":9,"status":"late","reason":"too late","extra_section":{"a":1}}"#;
    let input = format!("{FULL}\n{late}\n");
    let mut child = gauntlet(dir.path())
        .args(["show", "--format", "jsonl"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), input, "records pass through unchanged");

    std::fs::write(dir.path().join("r.jsonl"), &input).unwrap();
    let out = ok(gauntlet(dir.path()).args(["show", "r.jsonl", "--failed", "--format", "jsonl"]));
    assert_eq!(stdout(&out), format!("{late}\n"));
    let out = ok(gauntlet(dir.path()).args(["show", "r.jsonl", "--format", "table"]));
    assert!(stdout(&out).contains("too late"));

    std::fs::write(
        dir.path().join("bad.jsonl"),
        format!("{FULL}\n{{\"window\":1,\"uid\":2,\"status\":3}}\n"),
    )
    .unwrap();
    let out = gauntlet(dir.path())
        .args(["show", "bad.jsonl"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("bad.jsonl line 2"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("panicked"));
}
