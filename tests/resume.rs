//! A resumed download against a server that ignores `Range`: Python's own `http.server`
//! (the standard library's, which answers every GET with the whole file and a 200). A peer's
//! file half-downloaded by an earlier attempt must not be completed with the whole object
//! appended: the fetch starts again from zero and caches exactly the object.

mod common;

use gauntlet::chain::{BucketSpec, Clock, NetworkFile, PeerEntry};
use gauntlet::record::Status;
use gauntlet::secret::Secret;
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// `python -m http.server` on 127.0.0.1 and a free port, serving `dir`; stopped on drop.
struct RangeIgnoringServer {
    child: Child,
    port: u16,
}

impl RangeIgnoringServer {
    fn start(dir: &std::path::Path) -> RangeIgnoringServer {
        let mut child = Command::new(common::python())
            .args([
                "-u",
                "-m",
                "http.server",
                "0",
                "--bind",
                "127.0.0.1",
                "--directory",
            ])
            .arg(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // "Serving HTTP on 127.0.0.1 port 41234 (http://127.0.0.1:41234/) ..."
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .split_whitespace()
            .skip_while(|w| *w != "port")
            .nth(1)
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("http.server said {line:?}"));
        RangeIgnoringServer { child, port }
    }
}

impl Drop for RangeIgnoringServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_resume_the_server_ignores_starts_again_from_zero() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = gauntlet::wire::gradient_key(0, 1, "1");
    let object: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::create_dir_all(d.join("www/bucket")).unwrap();
    std::fs::write(d.join("www/bucket").join(&key), &object).unwrap();
    let server = RangeIgnoringServer::start(&d.join("www"));

    let bucket = BucketSpec {
        url: "s3://bucket".into(),
        endpoint: Some(format!("http://127.0.0.1:{}", server.port)),
        region: Some("auto".into()),
        access_key_id: Some(Secret::new("READKEY")),
        secret_access_key: Some(Secret::new("READSECRET")),
    };
    // What an earlier, broken attempt left, where fetch keeps it (by store, key and ETag,
    // which this server does not send): the object's first 100,000 bytes.
    let store = gauntlet::store::open(&bucket, d, Default::default())
        .unwrap()
        .describe();
    let id = hex::encode(Sha256::digest(format!("{store}\n{key}")));
    let etag_id = hex::encode(Sha256::digest(format!("{id}\n")));
    let partial = d.join("cache/partial").join(etag_id);
    std::fs::create_dir_all(partial.parent().unwrap()).unwrap();
    std::fs::write(&partial, &object[..100_000]).unwrap();

    let network = NetworkFile {
        clock: Clock {
            genesis: "2026-01-01T00:00:00Z".into(),
            window_seconds: 60.0,
            windows: Default::default(),
        },
        peers: vec![PeerEntry {
            uid: 1,
            hotkey: "peer-1".into(),
            stake: 1.0,
            bucket,
        }],
        unlisted: Vec::new(),
        commit_reveal: None,
        base: d.to_path_buf(),
    };
    let mut cfg = gauntlet::config::Config::default();
    cfg.fetch.cache = d.join("cache");
    cfg.fetch.attempts = 1;
    let opts = gauntlet::fetch::Options::from_config(&cfg).unwrap();
    let (records, _) =
        gauntlet::fetch::fetch(network.records(0, 0), &network, &opts, &|| {}).unwrap();
    let r = &records[0];
    assert_eq!(r.status, Status::Ok, "{:?}", r.reason);
    let object_info = r.object.as_ref().unwrap();
    let cached = std::fs::read(object_info.path.as_ref().unwrap()).unwrap();
    assert_eq!(
        cached.len(),
        object.len(),
        "not the partial plus the whole object"
    );
    assert!(cached == object);
    assert_eq!(
        object_info.sha256.as_deref(),
        Some(hex::encode(Sha256::digest(&object)).as_str())
    );
    assert!(
        !partial.exists(),
        "the resumed partial became the cached object"
    );
}
