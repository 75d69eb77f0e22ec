//! fetch and filter through the binary, against a real S3 server and a local folder.

mod common;
#[path = "common/s3.rs"]
mod s3;

use common::{local_net, ok, pipe, records, stderr};
use gauntlet::chain::BucketSpec;
use gauntlet::record::{Record, Status};
use gauntlet::secret::Secret;
use gauntlet::store::{S3Store, Store};
use s3::{S3Server, ACCESS_KEY, SECRET_KEY};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const WINDOW: u64 = 3;
const WINDOW_SECONDS: f64 = 96.0;
const WRONG_SECRET: &str = "wrong-secret-0000000000000000000000000000000000000000";

fn spec(server: &S3Server, bucket: &str, secret: &str) -> BucketSpec {
    BucketSpec {
        url: format!("s3://{bucket}"),
        endpoint: Some(server.endpoint()),
        region: Some("us-east-1".into()),
        access_key_id: Some(Secret::new(ACCESS_KEY)),
        secret_access_key: Some(Secret::new(secret)),
    }
}

fn admin(server: &S3Server, bucket: &str) -> S3Store {
    let s = S3Store::open(
        bucket,
        &spec(server, bucket, SECRET_KEY),
        Default::default(),
    )
    .unwrap();
    s.create_bucket().unwrap();
    s
}

fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

/// A network file whose put window for WINDOW opens at `open`.
fn write_network(dir: &Path, open: SystemTime, peers: &[(u16, serde_json::Value)]) {
    let genesis = open - Duration::from_secs_f64((WINDOW + 1) as f64 * WINDOW_SECONDS);
    let peers: Vec<_> = peers.iter().map(|(uid, b)| serde_json::json!({"uid": uid, "hotkey": format!("hotkey-{uid}"), "stake": *uid as f64, "bucket": b})).collect();
    let net = serde_json::json!({"clock": {"genesis": rfc3339(genesis), "window_seconds": WINDOW_SECONDS}, "peers": peers});
    std::fs::write(
        dir.join("network.yaml"),
        yaml_serde::to_string(&net).unwrap(),
    )
    .unwrap();
}

fn sleep_until(t: SystemTime) {
    if let Ok(d) = t.duration_since(SystemTime::now()) {
        std::thread::sleep(d);
    }
}

/// peers | fetch | filter through the binary; every command's stdout and stderr is kept.
fn round(dir: &Path, transcript: &mut String) -> (Vec<Record>, serde_json::Value) {
    let w = WINDOW.to_string();
    let peers = ok(common::gauntlet(dir).args(["peers", "--window", &w, "--format", "jsonl"]));
    let fetched = pipe(
        dir,
        &["fetch", "--format", "jsonl", "--stats", "stats.json"],
        &peers.stdout,
    );
    assert!(fetched.status.success(), "{}", stderr(&fetched));
    let filtered = pipe(
        dir,
        &["filter", "--checkpoints", "ckpts", "--format", "jsonl"],
        &fetched.stdout,
    );
    assert!(filtered.status.success(), "{}", stderr(&filtered));
    for o in [&peers, &fetched, &filtered] {
        transcript.push_str(&String::from_utf8_lossy(&o.stdout));
        transcript.push_str(&String::from_utf8_lossy(&o.stderr));
    }
    let stats =
        serde_json::from_str(&std::fs::read_to_string(dir.join("stats.json")).unwrap()).unwrap();
    (records(&filtered), stats)
}

fn by_uid(records: &[Record]) -> BTreeMap<u16, &Record> {
    records.iter().map(|r| (r.uid, r)).collect()
}

fn peer_upload(dir: &Path, uid: u16, extra: &[&str]) {
    let (u, w) = (uid.to_string(), WINDOW.to_string());
    let out = common::gauntlet(dir)
        .args([
            "peer",
            "--uid",
            &u,
            "--window",
            &w,
            "--checkpoints",
            "ckpts",
        ])
        .args(extra)
        .output()
        .unwrap();
    assert!(out.status.success(), "peer {uid}: {}", stderr(&out));
    assert!(!String::from_utf8_lossy(&out.stdout).contains(SECRET_KEY));
}

#[test]
fn a_window_on_s3_every_way_a_peer_can_fail() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    local_net(d);
    let server = S3Server::start();
    let stores: BTreeMap<u16, S3Store> = (1..=8)
        .map(|uid| (uid, admin(&server, &format!("peer-{uid}"))))
        .collect();
    let peers: Vec<(u16, serde_json::Value)> = (1..=8)
        .map(|uid| {
            (
                uid,
                s3::bucket_yaml(
                    &server,
                    &format!("peer-{uid}"),
                    if uid == 6 { WRONG_SECRET } else { SECRET_KEY },
                ),
            )
        })
        .collect();
    // The put window is set from when the uploads really landed (S3 times have one-second
    // resolution), so a slow machine cannot move an upload across its edge.
    write_network(d, SystemTime::now(), &peers);
    let landed = |uid: u16| {
        stores[&uid]
            .head(&gauntlet::wire::gradient_key(WINDOW, uid, "1"))
            .unwrap()
            .uploaded_at
    };
    let whole_second_after = |t: SystemTime| {
        UNIX_EPOCH + Duration::from_secs(t.duration_since(UNIX_EPOCH).unwrap().as_secs() + 1)
    };

    peer_upload(d, 3, &[]); // lands before the put window opens: early
    let open = whole_second_after(landed(3));
    sleep_until(open + Duration::from_millis(100));
    peer_upload(d, 1, &[]);
    peer_upload(d, 2, &[]);
    let good = stores[&1]
        .get(&gauntlet::wire::gradient_key(WINDOW, 1, "1"))
        .unwrap()
        .unwrap();
    stores[&6]
        .put(&gauntlet::wire::gradient_key(WINDOW, 6, "1"), &good)
        .unwrap(); // unreadable: wrong secret
    let mut hostile = good.clone();
    hostile[8..40].copy_from_slice(&[b'x'; 32]);
    stores[&7]
        .put(&gauntlet::wire::gradient_key(WINDOW, 7, "1"), &hostile)
        .unwrap();
    let cfg = gauntlet::config::LoadedConfig::load(Some(&d.join("gauntlet.yaml")), Vec::new(), &[])
        .unwrap()
        .config;
    let (codec, layouts) = gauntlet::wire::layouts(&cfg, tch::Device::Cpu).unwrap();
    let cap = gauntlet::wire::gradient::size_cap(&layouts, &codec.params);
    let oversized = vec![7u8; cap as usize + 1];
    stores[&8]
        .put(&gauntlet::wire::gradient_key(WINDOW, 8, "1"), &oversized)
        .unwrap();
    let last_on_time = [1, 2, 6, 7, 8].into_iter().map(landed).max().unwrap();
    let close = whole_second_after(last_on_time) + Duration::from_secs(1);
    let delta = close.duration_since(open).unwrap().as_secs_f64();
    sleep_until(close + Duration::from_millis(1200));
    peer_upload(d, 4, &[]); // lands after the put window closed: late
    assert!(landed(4) > close);
    // uid 5 never uploads.
    write_network(d, open, &peers);
    let config = std::fs::read_to_string(d.join("gauntlet.yaml")).unwrap();
    std::fs::write(
        d.join("gauntlet.yaml"),
        config.replace(
            "time_window_delta_seconds: 10.0",
            &format!("time_window_delta_seconds: {delta}"),
        ),
    )
    .unwrap();

    let mut transcript = String::new();
    let (records, stats) = round(d, &mut transcript);
    let r = by_uid(&records);
    assert_eq!(r.len(), 8);
    for uid in [1, 2] {
        assert_eq!(
            r[&uid].status,
            Status::Ok,
            "uid {uid}: {:?}",
            r[&uid].reason
        );
        let sync = r[&uid].sync.as_ref().unwrap();
        assert_eq!(
            (sync.steps_behind, sync.score),
            (0.0, 1.0),
            "an honest peer is in sync"
        );
        assert_eq!(
            r[&uid]
                .object
                .as_ref()
                .unwrap()
                .sha256
                .as_ref()
                .unwrap()
                .len(),
            64
        );
    }
    let expect = [
        (3, Status::Early, "before the put window"),
        (4, Status::Late, "after the put window"),
        (5, Status::Missing, "no gradient-3-5"),
        (6, Status::Unreachable, "HTTP 403"),
        (7, Status::Malformed, "header"),
        (8, Status::TooLarge, "not downloaded"),
    ];
    for (uid, status, why) in expect {
        let reason = r[&uid].reason.clone().unwrap_or_default();
        assert_eq!(r[&uid].status, status, "uid {uid}: {reason}");
        assert!(reason.contains(why), "uid {uid}: {reason}");
    }
    // The oversized object was refused on its HEAD: not one of its bytes was downloaded.
    let fetched: u64 = records
        .iter()
        .filter_map(|r| r.object.as_ref())
        .map(|o| o.size.unwrap() + o.sync.as_ref().map(|s| s.size.unwrap()).unwrap_or(0))
        .sum();
    assert_eq!(
        stats["bytes_downloaded"].as_u64().unwrap(),
        fetched,
        "{stats}"
    );
    assert!(fetched < oversized.len() as u64 * 2);
    // Nothing secret in any record, message or error.
    for secret in [SECRET_KEY, ACCESS_KEY, WRONG_SECRET] {
        assert!(
            !transcript.contains(secret),
            "a credential leaked into the output"
        );
    }
    assert!(transcript.contains("s3://peer-6"), "errors name the bucket");

    // A re-run downloads nothing it already holds.
    let (again, stats) = round(d, &mut transcript);
    assert_eq!(stats["bytes_downloaded"].as_u64().unwrap(), 0, "{stats}");
    assert_eq!(
        again
            .iter()
            .map(|r| (r.uid, r.status.clone()))
            .collect::<Vec<_>>(),
        records
            .iter()
            .map(|r| (r.uid, r.status.clone()))
            .collect::<Vec<_>>()
    );
}

/// What must agree between a folder and S3: uid, status, content hash, key, size.
type Comparable = (u16, Status, Option<String>, Option<String>, Option<u64>);

#[test]
fn the_same_window_from_a_folder_and_from_s3_gives_the_same_records() {
    let server = S3Server::start();
    let mut outputs = Vec::new();
    for on_s3 in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        local_net(d);
        let open = SystemTime::now() - Duration::from_secs(2);
        let peers: Vec<(u16, serde_json::Value)> = (1..=3)
            .map(|uid| {
                let b = if on_s3 {
                    admin(&server, &format!("same-{uid}"));
                    s3::bucket_yaml(&server, &format!("same-{uid}"), SECRET_KEY)
                } else {
                    serde_json::json!({"url": format!("file://{}", d.join(format!("bucket-{uid}")).display())})
                };
                (uid, b)
            })
            .collect();
        std::fs::write(
            d.join("gauntlet.yaml"),
            std::fs::read_to_string(d.join("gauntlet.yaml"))
                .unwrap()
                .replace(
                    "time_window_delta_seconds: 10.0",
                    "time_window_delta_seconds: 600",
                ),
        )
        .unwrap();
        write_network(d, open, &peers);
        peer_upload(d, 1, &[]);
        peer_upload(d, 2, &[]);
        peer_upload(d, 3, &["--behave", "desync"]);
        let (records, _) = round(d, &mut String::new());
        outputs.push(records);
    }
    let view = |rs: &[Record]| -> Vec<Comparable> {
        rs.iter()
            .map(|r| {
                let o = r.object.as_ref();
                let sha = if r.uid == 3 {
                    None
                } else {
                    o.and_then(|o| o.sha256.clone())
                };
                (
                    r.uid,
                    r.status.clone(),
                    sha,
                    o.map(|o| o.key.clone()),
                    o.and_then(|o| o.size),
                )
            })
            .collect()
    };
    assert_eq!(view(&outputs[0]), view(&outputs[1]));
    assert_eq!(outputs[0][2].status, Status::Desynced);
    assert!(outputs[0][2].sync.as_ref().unwrap().steps_behind > 5.0);
    assert_eq!(outputs[0][0].sync, outputs[1][0].sync);
}

#[test]
fn a_server_killed_mid_download_costs_only_the_unfinished_peers_and_a_rerun_completes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    local_net(d);
    let mut server = S3Server::start();
    let n = 8u16;
    let size = 48usize << 20;
    let open = SystemTime::now() - Duration::from_secs(2);
    let peers: Vec<(u16, serde_json::Value)> = (1..=n)
        .map(|uid| {
            let s = admin(&server, &format!("big-{uid}"));
            let body: Vec<u8> = (0..size)
                .map(|i| (i as u32).wrapping_mul(2654435761).wrapping_add(uid as u32) as u8)
                .collect();
            s.put(&gauntlet::wire::gradient_key(WINDOW, uid, "1"), &body)
                .unwrap();
            (
                uid,
                s3::bucket_yaml(&server, &format!("big-{uid}"), SECRET_KEY),
            )
        })
        .collect();
    write_network(d, open, &peers);
    let sets = [
        "--set",
        "fetch.concurrency=1",
        "--set",
        "fetch.attempts=2",
        "--set",
        "fetch.backoff_seconds=0.1",
        "--set",
        "fetch.max_bytes=100000000",
    ];
    let w = WINDOW.to_string();
    let peers_out = ok(common::gauntlet(d).args(["peers", "--window", &w, "--format", "jsonl"]));
    std::fs::write(d.join("peers.jsonl"), &peers_out.stdout).unwrap();

    let child = common::gauntlet(d)
        .args(["fetch", "peers.jsonl", "--format", "jsonl"])
        .args(sets)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Kill the server once the first object is in the cache and the next is on its way.
    let objects = d.join("cache/objects");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let done = walk_files(&objects);
        if done >= 1 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "fetch never finished an object"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    server.kill();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "a dead server fails peers, not the stage: {}",
        stderr(&out)
    );
    let first = records(&out);
    let fetched = first.iter().filter(|r| r.status == Status::Ok).count();
    let unreachable: Vec<&Record> = first
        .iter()
        .filter(|r| r.status == Status::Unreachable)
        .collect();
    assert!(
        fetched >= 1 && !unreachable.is_empty(),
        "fetched {fetched}, unreachable {}",
        unreachable.len()
    );
    assert_eq!(fetched + unreachable.len(), n as usize);
    assert!(
        unreachable[0].reason.as_ref().unwrap().contains("attempts"),
        "{:?}",
        unreachable[0].reason
    );

    server.restart();
    let out = common::gauntlet(d)
        .args([
            "fetch",
            "peers.jsonl",
            "--format",
            "jsonl",
            "--stats",
            "stats.json",
        ])
        .args(sets)
        // A restarted server may still answer 500 for a moment; an operator's rerun retries.
        .args([
            "--set",
            "fetch.attempts=5",
            "--set",
            "fetch.backoff_seconds=0.5",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let second = records(&out);
    assert!(
        second.iter().all(|r| r.status == Status::Ok),
        "{:?}",
        second.iter().map(|r| &r.reason).collect::<Vec<_>>()
    );
    let stats: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("stats.json")).unwrap()).unwrap();
    assert_eq!(
        stats["from_cache"].as_u64().unwrap() as usize,
        fetched,
        "{stats}"
    );
    assert!(
        stats["bytes_downloaded"].as_u64().unwrap() <= ((n as usize - fetched) * size) as u64,
        "{stats}"
    );
    for r in &second {
        let o = r.object.as_ref().unwrap();
        let path = o.path.as_ref().unwrap();
        assert_eq!(
            gauntlet::fetch::sha256_file(Path::new(path)).unwrap(),
            *o.sha256.as_ref().unwrap()
        );
        assert_eq!(std::fs::metadata(path).unwrap().len(), size as u64);
    }
}

fn walk_files(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| {
            if e.path().is_dir() {
                walk_files(&e.path())
            } else {
                1
            }
        })
        .sum()
}

#[test]
fn listing_goes_past_one_page_and_bad_credentials_are_refused() {
    let server = S3Server::start();
    let store = std::sync::Arc::new(admin(&server, "many"));
    std::thread::scope(|s| {
        for t in 0..8 {
            let store = store.clone();
            s.spawn(move || {
                for i in (t..1215).step_by(8) {
                    store
                        .put(&format!("gradient-{i:05}-1-v1.safetensors"), b"x")
                        .unwrap();
                }
            });
        }
    });
    let keys = store.list("gradient-").unwrap();
    assert_eq!(keys.len(), 1215);
    assert_eq!(keys[1214], "gradient-01214-1-v1.safetensors");
    assert_eq!(store.list("gradient-0012").unwrap().len(), 10);
    let wrong = S3Store::open(
        "many",
        &spec(&server, "many", WRONG_SECRET),
        Default::default(),
    )
    .unwrap();
    assert_eq!(
        wrong.head("gradient-00001-1-v1.safetensors").unwrap_err(),
        gauntlet::store::StoreError::Denied { status: 403 }
    );
    let err = format!("{:#}", wrong.put("k", b"v").unwrap_err());
    assert!(
        err.contains("403") && !err.contains(WRONG_SECRET) && !err.contains(ACCESS_KEY),
        "{err}"
    );
    assert_eq!(
        store.head("nope").unwrap_err(),
        gauntlet::store::StoreError::NotFound
    );
    // The client settings R2 needs: checksums only when required. (Path-style addressing is
    // exercised by every request above: a virtual-hosted name under 127.0.0.1 cannot resolve.)
    let conf = gauntlet::store::s3_client_config(&spec(&server, "many", SECRET_KEY)).unwrap();
    assert_eq!(
        conf.request_checksum_calculation(),
        Some(&aws_sdk_s3::config::RequestChecksumCalculation::WhenRequired)
    );
    assert_eq!(
        conf.response_checksum_validation(),
        Some(&aws_sdk_s3::config::ResponseChecksumValidation::WhenRequired)
    );
}
