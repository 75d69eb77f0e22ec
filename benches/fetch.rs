//! Fetching a window of 64 peers' 28 MB pseudo-gradients from a local S3 server (SeaweedFS, as
//! in the tests): gauntlet's fetch stage against a boto3 thread-pool download of the same
//! objects (benches/reference/fetch_ref.py), both streaming to files with SHA-256, in one run.
//!
//! Two setups, each with an untimed warm-up round, then the two clients interleaved over
//! `--trials` rounds (a fresh folder for every client, made just after the previous client's
//! is deleted, and a `sync` before each, so neither pays for the other's disk writes) and the
//! medians compared:
//! - shared: server and client on the same cores, as the tests run them. On a small machine
//!   the server's own CPU sets the pace for both clients.
//! - separate cores: the server pinned to the first half of the CPUs and the clients to the
//!   second half, as a validator meets R2, whose servers are not on its machine. This measures
//!   the clients.
//!
//!     cargo bench --bench fetch [-- --objects N --mib M --concurrency C --trials T]

mod common;

#[path = "../tests/common/s3.rs"]
mod s3;

use gauntlet::chain::{BucketSpec, Clock, NetworkFile, PeerEntry};
use gauntlet::record::Record;
use gauntlet::secret::Secret;
use gauntlet::store::{S3Store, Store};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Wall, client CPU and server CPU seconds of one download of every object.
struct Trial {
    wall: f64,
    cpu: f64,
    /// The part of `cpu` spent in the kernel: socket reads, and writes into the page cache.
    sys: f64,
    server: f64,
}

struct Bench {
    server: s3::S3Server,
    keys: Vec<String>,
    network: NetworkFile,
    concurrency: usize,
    bytes: u64,
}

fn main() {
    let objects = common::arg("--objects", 64) as u16;
    let mib = common::arg("--mib", 28);
    let concurrency = common::arg("--concurrency", 16);
    let trials = common::arg("--trials", 5).max(1);
    let bench = Bench::upload(objects, mib, concurrency);
    println!(
        "fetching {objects} objects of {mib} MiB from a local S3 server, {concurrency} at a time, median of {trials} interleaved trials:"
    );
    bench.compare("shared cores", trials);
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cpus >= 2 {
        let (server, client) = (
            format!("0-{}", cpus / 2 - 1),
            format!("{}-{}", cpus / 2, cpus - 1),
        );
        pin(bench.server.pid().expect("the server runs"), &server);
        pin(std::process::id(), &client);
        bench.compare(
            &format!("separate cores (server {server}, clients {client})"),
            trials,
        );
    }
}

/// Pins every thread of a process (and what it starts later) to a CPU list.
fn pin(pid: u32, cpus: &str) {
    let out = Command::new("taskset")
        .args(["-a", "-c", "-p", cpus, &pid.to_string()])
        .output()
        .expect("taskset (util-linux)");
    assert!(
        out.status.success(),
        "taskset: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

impl Bench {
    fn upload(objects: u16, mib: usize, concurrency: usize) -> Bench {
        let server = s3::S3Server::start();
        let spec = BucketSpec {
            url: "s3://bench".into(),
            endpoint: Some(server.endpoint()),
            region: Some("us-east-1".into()),
            access_key_id: Some(Secret::new(s3::ACCESS_KEY)),
            secret_access_key: Some(Secret::new(s3::SECRET_KEY)),
        };
        let store = S3Store::open("bench", &spec, Default::default()).unwrap();
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
                                    .wrapping_add(key.len() as u32)
                                    as u8
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
        Bench {
            server,
            keys,
            network,
            concurrency,
            bytes: objects as u64 * ((mib as u64) << 20),
        }
    }

    /// Interleaves the two clients (ours, theirs, theirs, ours, …) and prints the medians.
    fn compare(&self, setup: &str, trials: usize) {
        // Each client writes into a fresh folder, and the previous client's folder is deleted
        // just before it starts. On a VM that hands freed memory back to its host (free page
        // reporting), pages touched for the first time cost a host fault each: 1.8 GB of page
        // cache then costs 2.5-4 s of system time instead of 0.4 s, at random. Reusing the pages
        // just freed gives both clients the cost of an ordinary machine.
        let mut last: Option<tempfile::TempDir> = None;
        let mut run = |client: fn(&Bench, &Path) -> Trial| {
            drop(last.take());
            let dir = tempfile::tempdir().unwrap();
            let trial = self.timed(|| client(self, dir.path()));
            last = Some(dir);
            trial
        };
        // One untimed round first: the server's first reads of each object are slower
        // (metadata not cached yet), and that must not count against whoever goes first.
        run(Bench::gauntlet);
        run(Bench::boto3);
        let (mut ours, mut theirs, mut floor) = (Vec::new(), Vec::new(), Vec::new());
        for t in 0..trials {
            if t % 2 == 0 {
                ours.push(run(Bench::gauntlet));
                theirs.push(run(Bench::boto3));
            } else {
                theirs.push(run(Bench::boto3));
                ours.push(run(Bench::gauntlet));
            }
            let before = self.server_cpu();
            if let Some(c) = self.curl() {
                floor.push(Trial {
                    server: self.server_cpu() - before,
                    ..c
                });
            }
        }
        let mib = self.bytes as f64 / (1 << 20) as f64;
        let row = |name: &str, v: &[Trial]| {
            let wall = median(v.iter().map(|t| t.wall).collect());
            let cpu = median(v.iter().map(|t| t.cpu).collect());
            let sys = median(v.iter().map(|t| t.sys).collect());
            let server = median(v.iter().map(|t| t.server).collect());
            let (lo, hi) = v.iter().fold((f64::MAX, 0f64), |(lo, hi), t| {
                (lo.min(t.wall), hi.max(t.wall))
            });
            println!(
                "    {name:44} {wall:6.2} s ({lo:.2}-{hi:.2})  {:5.0} MiB/s  client CPU {cpu:5.2} s (sys {sys:4.2})  server CPU {server:5.2} s",
                mib / wall
            );
            (wall, cpu)
        };
        println!("  {setup}:");
        let (w1, c1) = row("gauntlet fetch (HEAD, GET, SHA-256, cache)", &ours);
        let (w2, c2) = row("boto3 thread pool (GET, SHA-256, file)", &theirs);
        if floor.is_empty() {
            println!("    (no curl with --aws-sigv4 here: the server's own pace is not shown)");
        } else {
            row("curl, GET only to /dev/null (server's pace)", &floor);
        }
        println!("    ratio {:.2}x wall, {:.2}x client CPU", w2 / w1, c2 / c1);
    }

    /// Adds the server's CPU seconds over a client's run to the client's trial.
    fn timed(&self, run: impl FnOnce() -> Trial) -> Trial {
        let before = self.server_cpu();
        let trial = run();
        Trial {
            server: self.server_cpu() - before,
            ..trial
        }
    }

    /// User + system CPU seconds the server has used so far.
    fn server_cpu(&self) -> f64 {
        let pid = self.server.pid().expect("the server runs");
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // The fields after the command name, which is in parentheses: utime and stime are
        // the 12th and 13th of them.
        let fields: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .collect();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        // SAFETY: sysconf only reads its argument.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
        (ticks(11) + ticks(12)) / hz
    }

    /// The server alone setting the pace: curl fetching every object into /dev/null, with no
    /// hashing and no files; `None` where curl cannot sign S3 requests.
    fn curl(&self) -> Option<Trial> {
        let mut cmd = Command::new("curl");
        cmd.args(["-sf", "--parallel", "--parallel-max"])
            .arg(self.concurrency.to_string())
            .args(["--aws-sigv4", "aws:amz:us-east-1:s3", "--user"])
            .arg(format!("{}:{}", s3::ACCESS_KEY, s3::SECRET_KEY));
        for key in &self.keys {
            cmd.arg(format!("{}/bench/{key}", self.server.endpoint()))
                .args(["-o", "/dev/null"]);
        }
        settle();
        let (cpu0, sys0) = children_cpu_seconds();
        let t0 = Instant::now();
        let ok = cmd
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .ok()?
            .success();
        let wall = t0.elapsed().as_secs_f64();
        let (cpu1, sys1) = children_cpu_seconds();
        ok.then_some(Trial {
            wall,
            cpu: cpu1 - cpu0,
            sys: sys1 - sys0,
            server: 0.0,
        })
    }

    fn gauntlet(&self, dir: &Path) -> Trial {
        let opts = gauntlet::fetch::Options {
            compat: Default::default(),
            cache: dir.join("cache"),
            concurrency: self.concurrency,
            attempts: 4,
            backoff: Duration::from_millis(250),
            max_bytes: self.bytes,
            max_sync_bytes: 1 << 20,
            version: "1".into(),
            timeouts: Default::default(),
        };
        let records: Vec<Record> = self.network.records(0, 0);
        settle();
        let (cpu0, sys0) = cpu_seconds();
        let t0 = Instant::now();
        let (out, stats) = gauntlet::fetch::fetch(records, &self.network, &opts, &|| {}).unwrap();
        let wall = t0.elapsed().as_secs_f64();
        let (cpu1, sys1) = cpu_seconds();
        assert!(
            out.iter().all(|r| r.status.is_ok()),
            "{:?}",
            out.iter().map(|r| &r.reason).collect::<Vec<_>>()
        );
        assert_eq!(
            stats.bytes_downloaded, self.bytes,
            "everything downloaded afresh"
        );
        Trial {
            wall,
            cpu: cpu1 - cpu0,
            sys: sys1 - sys0,
            server: 0.0,
        }
    }

    fn boto3(&self, dir: &Path) -> Trial {
        let out_dir = dir.join("boto3");
        std::fs::create_dir_all(&out_dir).unwrap();
        settle();
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/benches/reference/fetch_ref.py"
        );
        let r = common::run_json(
            Command::new(common::python())
                .args([
                    script,
                    &self.server.endpoint(),
                    "bench",
                    s3::ACCESS_KEY,
                    s3::SECRET_KEY,
                    out_dir.to_str().unwrap(),
                    &self.concurrency.to_string(),
                ])
                .args(&self.keys),
            "the boto3 reference (scripts/setup installs boto3)",
        );
        assert_eq!(r["bytes"].as_u64(), Some(self.bytes));
        Trial {
            wall: r["seconds"].as_f64().unwrap(),
            cpu: r["cpu_seconds"].as_f64().unwrap(),
            sys: r["sys_seconds"].as_f64().unwrap(),
            server: 0.0,
        }
    }
}

/// Writes out what earlier runs left dirty in the page cache, so that neither client pays
/// for the other's disk writes.
fn settle() {
    // SAFETY: sync takes no arguments and cannot fail.
    unsafe { libc::sync() };
}

/// User + system CPU seconds of this process so far, and the system part.
fn cpu_seconds() -> (f64, f64) {
    rusage_seconds(libc::RUSAGE_SELF)
}

/// User + system CPU seconds of the child processes waited for so far, and the system part.
fn children_cpu_seconds() -> (f64, f64) {
    rusage_seconds(libc::RUSAGE_CHILDREN)
}

fn rusage_seconds(who: libc::c_int) -> (f64, f64) {
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes one rusage struct to the pointer it is given.
    unsafe { libc::getrusage(who, &mut u) };
    let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 * 1e-6;
    (t(u.ru_utime) + t(u.ru_stime), t(u.ru_stime))
}
