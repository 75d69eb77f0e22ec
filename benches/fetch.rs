//! Fetching a window of 64 peers' 28 MB pseudo-gradients from a local S3 server (SeaweedFS, as
//! in the tests): gauntlet's fetch stage against a boto3 thread-pool download of the same
//! objects (benches/reference/fetch_ref.py), both streaming to files with SHA-256, in one run.
//!
//!     cargo bench --bench fetch [-- --objects N --mib M --concurrency C]

mod common;

#[path = "../tests/common/s3.rs"]
mod s3;

use gauntlet::chain::{BucketSpec, Clock, NetworkFile, PeerEntry};
use gauntlet::record::Record;
use gauntlet::secret::Secret;
use gauntlet::store::{S3Store, Store};
use std::time::{Duration, Instant};

fn main() {
    let objects = common::arg("--objects", 64) as u16;
    let mib = common::arg("--mib", 28);
    let concurrency = common::arg("--concurrency", 16);
    let server = s3::S3Server::start();
    let spec = BucketSpec {
        url: "s3://bench".into(),
        endpoint: Some(server.endpoint()),
        region: Some("us-east-1".into()),
        access_key_id: Some(Secret::new(s3::ACCESS_KEY)),
        secret_access_key: Some(Secret::new(s3::SECRET_KEY)),
    };
    let store = S3Store::open("bench", &spec).unwrap();
    store.create_bucket().unwrap();
    let keys: Vec<String> = (1..=objects)
        .map(|uid| gauntlet::wire::gradient_key(0, uid, "1"))
        .collect();
    let t0 = Instant::now();
    std::thread::scope(|s| {
        for chunk in keys.chunks(keys.len().div_ceil(8)) {
            let store = &store;
            s.spawn(move || {
                for key in chunk {
                    let body: Vec<u8> = (0..mib << 20)
                        .map(|i| {
                            (i as u32)
                                .wrapping_mul(2654435761)
                                .wrapping_add(key.len() as u32) as u8
                        })
                        .collect();
                    store.put(key, &body).unwrap();
                }
            });
        }
    });
    eprintln!(
        "uploaded {objects} × {mib} MiB in {:.1} s",
        t0.elapsed().as_secs_f64()
    );

    let network = NetworkFile {
        clock: Clock {
            genesis: "2026-01-01T00:00:00Z".into(),
            window_seconds: 96.0,
            windows: Default::default(),
        },
        peers: (1..=objects)
            .map(|uid| PeerEntry {
                uid,
                hotkey: String::new(),
                stake: 0.0,
                bucket: spec.clone(),
            })
            .collect(),
        unlisted: Vec::new(),
        commit_reveal: None,
        base: Default::default(),
    };
    let dir = tempfile::tempdir().unwrap();
    let opts = gauntlet::fetch::Options {
        compat: Default::default(),
        cache: dir.path().join("cache"),
        concurrency,
        attempts: 4,
        backoff: Duration::from_millis(250),
        max_bytes: (mib as u64 + 1) << 20,
        max_sync_bytes: 1 << 20,
        version: "1".into(),
    };
    let records: Vec<Record> = network.records(0);
    let cpu0 = cpu_seconds();
    let t0 = Instant::now();
    let (out, stats) = gauntlet::fetch::fetch(records, &network, &opts, &|| {}).unwrap();
    let ours = t0.elapsed().as_secs_f64();
    let our_cpu = cpu_seconds() - cpu0;
    assert!(
        out.iter().all(|r| r.status.is_ok()),
        "{:?}",
        out.iter().map(|r| &r.reason).collect::<Vec<_>>()
    );

    let python = common::python();
    let out_dir = dir.path().join("boto3");
    std::fs::create_dir_all(&out_dir).unwrap();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/benches/reference/fetch_ref.py"
    );
    let out = std::process::Command::new(python)
        .args([
            script,
            &server.endpoint(),
            "bench",
            s3::ACCESS_KEY,
            s3::SECRET_KEY,
            out_dir.to_str().unwrap(),
            &concurrency.to_string(),
        ])
        .args(&keys)
        .output()
        .expect("run the boto3 reference (scripts/setup installs boto3)");
    assert!(
        out.status.success(),
        "boto3 reference failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reference: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let theirs = reference["seconds"].as_f64().unwrap();
    let total = stats.bytes_downloaded as f64 / (1 << 20) as f64;
    println!(
        "fetching {objects} objects of {mib} MiB from a local S3 server, {concurrency} at a time:"
    );
    let their_cpu = reference["cpu_seconds"].as_f64().unwrap();
    println!("  gauntlet fetch (HEAD, GET, SHA-256, cache)   {ours:6.2} s  {:7.0} MiB/s  client CPU {our_cpu:5.2} s", total / ours);
    println!("  boto3 thread pool (GET, SHA-256, file)        {theirs:6.2} s  {:7.0} MiB/s  client CPU {their_cpu:5.2} s", total / theirs);
    println!(
        "  ratio {:.2}x wall, {:.2}x client CPU (the S3 server shares the same cores)",
        theirs / ours,
        their_cpu / our_cpu
    );
}

/// User + system CPU seconds of this process so far.
fn cpu_seconds() -> f64 {
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes one rusage struct to the pointer it is given.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 * 1e-6;
    t(u.ru_utime) + t(u.ru_stime)
}
