//! A WebSocket JSON-RPC server that plays back a session recorded between gauntlet and a real
//! subtensor runtime (`../shared/chain/recorded/`), on 127.0.0.1, as that folder's README says
//! a replay must: reads answered by method and params, submissions by the next recorded one of
//! their method whatever the extrinsic (the submitted bytes then replace the recorded ones in
//! everything served after), unsubscribes answered `null`, anything else an error naming it.

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio_tungstenite::tungstenite::Message;

pub fn recorded() -> PathBuf {
    crate::common::repo().join("../shared/chain/recorded")
}

const SUBMISSIONS: [&str; 4] = [
    "author_submitAndWatchExtrinsic",
    "author_submitExtrinsic",
    "transactionWatch_v1_submitAndWatch",
    "transaction_v1_broadcast",
];

const UNSUBSCRIBES: [&str; 6] = [
    "archive_v1_stopStorage",
    "chainHead_v1_unfollow",
    "chainHead_v1_stopOperation",
    "author_unwatchExtrinsic",
    "transactionWatch_v1_unwatch",
    "transaction_v1_stop",
];

/// One recorded request with what the node sent back for it.
#[derive(Clone, Debug)]
struct Exchange {
    method: String,
    /// The params in a canonical form (object keys sorted), for matching.
    key: String,
    /// The request's params as sent (a submission's first param is its extrinsic).
    params: Value,
    response: Value,
    notifications: Vec<Value>,
}

/// What the server saw: submitted extrinsics and requests it had no answer for.
#[derive(Default, Debug)]
pub struct Seen {
    pub submitted: Vec<(String, Vec<u8>)>,
    pub unanswered: Vec<String>,
}

struct Session {
    reads: Vec<Exchange>,
    used: Vec<bool>,
    submissions: Vec<Exchange>,
    next_submission: HashMap<String, usize>,
    /// (recorded extrinsic hex, submitted extrinsic hex), lowercase without 0x.
    replace: Vec<(String, String)>,
}

/// A running replay; stopped when dropped.
pub struct Replay {
    pub url: String,
    seen: Arc<Mutex<Seen>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// The recording's lines with `swaps` applied to their text and blobs expanded.
fn load(path: &Path, swaps: &[(String, String)], edit: &dyn Fn(&mut Value)) -> Vec<Value> {
    let dir = path.parent().unwrap();
    let text = std::fs::read_to_string(path).expect("a recorded session");
    let mut lines = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut line = line.to_string();
        for (from, to) in swaps {
            line = line.replace(from.as_str(), to);
        }
        if let Some(start) = line.find("\"$blob:") {
            let end = start + 1 + line[start + 1..].find('"').unwrap();
            let file = &line[start + 7..end];
            let bytes = std::fs::read(dir.join("blobs").join(file)).expect("a recorded blob");
            line = format!(
                "{}\"0x{}\"{}",
                &line[..start],
                hex::encode(bytes),
                &line[end + 1..]
            );
        }
        let mut v: Value = serde_json::from_str(&line).expect("a JSON line");
        edit(&mut v);
        lines.push(v);
    }
    lines
}

fn canonical(v: &Value) -> String {
    fn sort(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<_> = m.keys().collect();
                keys.sort();
                Value::Object(keys.into_iter().map(|k| (k.clone(), sort(&m[k]))).collect())
            }
            Value::Array(a) => Value::Array(a.iter().map(sort).collect()),
            other => other.clone(),
        }
    }
    sort(v).to_string()
}

fn session(lines: &[Value]) -> Session {
    let mut exchanges = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line["dir"] != "send" {
            continue;
        }
        let msg = &line["msg"];
        let id = msg["id"].clone();
        let response = lines[i + 1..]
            .iter()
            .find(|l| l["dir"] == "recv" && l["msg"]["id"] == id)
            .map(|l| l["msg"].clone())
            .unwrap_or_else(|| panic!("the recording has no answer to {msg}"));
        let sub = response["result"].as_str().map(String::from);
        let notifications = lines
            .iter()
            .filter(|l| {
                l["dir"] == "recv"
                    && l["msg"].get("id").is_none()
                    && sub.is_some()
                    && l["msg"]["params"]["subscription"].as_str() == sub.as_deref()
            })
            .map(|l| l["msg"].clone())
            .collect();
        let params = msg.get("params").cloned().unwrap_or(Value::Null);
        exchanges.push(Exchange {
            method: msg["method"].as_str().unwrap().to_string(),
            key: canonical(&params),
            params,
            response,
            notifications,
        });
    }
    let (submissions, reads): (Vec<_>, Vec<_>) = exchanges
        .into_iter()
        .partition(|e| SUBMISSIONS.contains(&e.method.as_str()));
    Session {
        used: vec![false; reads.len()],
        reads,
        submissions,
        next_submission: HashMap::new(),
        replace: Vec::new(),
    }
}

fn error(id: &Value, message: String) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32099, "message": message}})
}

impl Session {
    /// The messages to send for one request, in order.
    fn answer(&mut self, req: &Value, seen: &Mutex<Seen>) -> Vec<Value> {
        let id = req["id"].clone();
        let method = req["method"].as_str().unwrap_or_default().to_string();
        let params = req.get("params").cloned().unwrap_or(Value::Null);
        let exchange = if SUBMISSIONS.contains(&method.as_str()) {
            let next = self.next_submission.entry(method.clone()).or_default();
            let found = self
                .submissions
                .iter()
                .filter(|e| e.method == method)
                .nth(*next)
                .cloned();
            *next += 1;
            let Some(found) = found else {
                seen.lock()
                    .unwrap()
                    .unanswered
                    .push(format!("{method} {params}"));
                return vec![error(
                    &id,
                    format!("the recording submits nothing more by {method}"),
                )];
            };
            let submitted = params[0].as_str().unwrap_or_default().to_lowercase();
            let recorded = found.params[0].as_str().unwrap_or_default().to_lowercase();
            let submitted = submitted.trim_start_matches("0x").to_string();
            seen.lock()
                .unwrap()
                .submitted
                .push((method.clone(), hex::decode(&submitted).unwrap_or_default()));
            self.replace
                .push((recorded.trim_start_matches("0x").to_string(), submitted));
            found
        } else {
            let key = canonical(&params);
            let matching: Vec<usize> = (0..self.reads.len())
                .filter(|&i| self.reads[i].method == method && self.reads[i].key == key)
                .collect();
            let pick = matching
                .iter()
                .copied()
                .find(|&i| !self.used[i])
                .or_else(|| matching.iter().copied().rev().find(|&i| self.used[i]));
            match pick {
                Some(i) => {
                    self.used[i] = true;
                    self.reads[i].clone()
                }
                None if UNSUBSCRIBES.contains(&method.as_str()) => {
                    return vec![json!({"jsonrpc": "2.0", "id": id, "result": null})]
                }
                None => {
                    let what = format!("{method} {params}");
                    seen.lock().unwrap().unanswered.push(what.clone());
                    return vec![error(&id, format!("not in the recording: {what}"))];
                }
            }
        };
        let mut response = exchange.response;
        response["id"] = id;
        std::iter::once(response)
            .chain(exchange.notifications)
            .map(|m| self.replaced(m))
            .collect()
    }

    fn replaced(&self, msg: Value) -> Value {
        if self.replace.is_empty() {
            return msg;
        }
        let mut text = msg.to_string();
        for (from, to) in &self.replace {
            text = text.replace(from.as_str(), to);
        }
        serde_json::from_str(&text).unwrap()
    }
}

async fn serve(
    stream: tokio::net::TcpStream,
    session: Arc<Mutex<Session>>,
    seen: Arc<Mutex<Seen>>,
) {
    let Ok(ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    let (mut tx, mut rx) = ws.split();
    while let Some(Ok(frame)) = rx.next().await {
        let Message::Text(text) = frame else {
            if frame.is_close() {
                break;
            }
            continue;
        };
        let Ok(req) = serde_json::from_str::<Value>(text.as_str()) else {
            continue;
        };
        let out = session.lock().unwrap().answer(&req, &seen);
        for msg in out {
            if tx.send(Message::text(msg.to_string())).await.is_err() {
                return;
            }
        }
    }
}

impl Replay {
    /// Serves `recording` (a `NAME.jsonl` of the recorded folder) with `swaps` applied to its
    /// text, and `edit` to each of its lines.
    pub fn start(recording: &Path, swaps: &[(String, String)]) -> Replay {
        Replay::start_edited(recording, swaps, &|_| {})
    }

    pub fn start_edited(
        recording: &Path,
        swaps: &[(String, String)],
        edit: &dyn Fn(&mut Value),
    ) -> Replay {
        let lines = load(recording, swaps, edit);
        let session = Arc::new(Mutex::new(session(&lines)));
        let seen = Arc::new(Mutex::new(Seen::default()));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("ws://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let seen2 = seen.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let mut stopped = stopped;
                loop {
                    tokio::select! {
                        _ = &mut stopped => break,
                        conn = listener.accept() => {
                            let Ok((stream, _)) = conn else { break };
                            tokio::spawn(serve(stream, session.clone(), seen2.clone()));
                        }
                    }
                }
            });
        });
        Replay {
            url,
            seen,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// What was submitted, and what had no answer, so far.
    pub fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap()
    }
}

impl Drop for Replay {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The text swaps that make a recording speak of `to` (a public key) where it spoke of `from`:
/// the key's hex, its Blake2_128Concat and Twox64Concat storage-key hashes, and its ss58.
pub fn account_swaps(from: &[u8; 32], to: &[u8; 32]) -> Vec<(String, String)> {
    let forms = |k: &[u8; 32]| {
        [
            hex::encode(k),
            hex::encode(sp_crypto_hashing::blake2_128(k)),
            hex::encode(sp_crypto_hashing::twox_64(k)),
            gauntlet::chain::subtensor::ss58(k),
        ]
    };
    forms(from).into_iter().zip(forms(to)).collect()
}
