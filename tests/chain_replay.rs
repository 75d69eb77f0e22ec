//! The chain against a real node's answers: sessions recorded between gauntlet and the real
//! subtensor runtime (spec 218, `../shared/chain/recorded/`), played back by a WebSocket
//! JSON-RPC server on 127.0.0.1. `peers` must print what the recording's expectation lists;
//! `commit` must submit extrinsics that decode to the call the chain's rules call for, signed
//! by the test's own hotkey (made by the PyPI `bittensor-wallet`), and leave the state the
//! recorded run left. Every public method of `Subtensor` and of its `Chain` runs against one.

mod common;
#[path = "common/replay.rs"]
mod replay;

use common::{gauntlet, python, stderr, stdout};
use gauntlet::chain::subtensor::{Subtensor, SubtensorChain};
use gauntlet::chain::Chain;
use parity_scale_codec::{Compact, Decode, Encode};
use replay::{account_swaps, recorded, Replay};
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// The recorded validator's public key (`subnet.json`).
const VALIDATOR: &str = "043212dd46d057a43c3089731a5f09af24ac1ab09a1478f6a4c4b5f9397c6324";
const GENESIS: [u8; 32] = [0x45; 32];

fn expect(name: &str) -> Value {
    let path = recorded().join(format!("{name}.expect.json"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn key(hex_str: &str) -> [u8; 32] {
    hex::decode(hex_str.trim_start_matches("0x"))
        .unwrap()
        .try_into()
        .unwrap()
}

/// A hotkey made by bittensor-wallet at `$HOME/.bittensor/wallets/owner/hotkeys/validator`
/// (the recorded runs' wallet names): its public key.
fn own_validator_key(home: &Path) -> [u8; 32] {
    let script = r#"
import sys
from bittensor_wallet import Wallet
w = Wallet(name="owner", hotkey="validator", path=sys.argv[1])
w.create_new_hotkey(use_password=False, overwrite=True, suppress=True)
print(w.hotkey.public_key.hex())
"#;
    let out = Command::new(python())
        .args(["-c", script])
        .arg(home.join(".bittensor/wallets"))
        .output()
        .unwrap();
    assert!(out.status.success(), "bittensor-wallet: {}", stderr(&out));
    key(String::from_utf8_lossy(&out.stdout).trim())
}

/// The recorded command with `$URL` for the replay's address.
fn command_args(expect: &Value, url: &str) -> Vec<String> {
    expect["command"].as_array().unwrap()[1..]
        .iter()
        .map(|a| a.as_str().unwrap().replace("$URL", url))
        .collect()
}

fn submissions(path: &Path) -> Vec<gauntlet::state::Submission> {
    gauntlet::state::State::open(path, Duration::from_secs(5))
        .unwrap()
        .read()
        .submissions(&[])
        .unwrap()
}

/// A signed v4 extrinsic taken apart: signer, signature, era bytes, nonce, tip, call data.
struct Extrinsic {
    signer: [u8; 32],
    signature: [u8; 64],
    era: Vec<u8>,
    nonce: u32,
    tip: u128,
    call: Vec<u8>,
}

fn decode_extrinsic(bytes: &[u8]) -> Extrinsic {
    let mut x = bytes;
    let len = Compact::<u32>::decode(&mut x).unwrap().0 as usize;
    assert_eq!(len, x.len(), "the length prefix covers the extrinsic");
    assert_eq!(x[0], 0x84, "signed, version 4");
    assert_eq!(x[1], 0x00, "MultiAddress::Id");
    let signer: [u8; 32] = x[2..34].try_into().unwrap();
    assert_eq!(x[34], 0x01, "MultiSignature::Sr25519");
    let signature: [u8; 64] = x[35..99].try_into().unwrap();
    let mut rest = &x[99..];
    let era = if rest[0] == 0 {
        vec![0]
    } else {
        rest[..2].to_vec()
    };
    rest = &rest[era.len()..];
    let nonce = Compact::<u32>::decode(&mut rest).unwrap().0;
    let tip = Compact::<u128>::decode(&mut rest).unwrap().0;
    assert_eq!(rest[0], 0x00, "CheckMetadataHash mode 0");
    Extrinsic {
        signer,
        signature,
        era,
        nonce,
        tip,
        call: rest[1..].to_vec(),
    }
}

/// A mortal era's two bytes, as sp-runtime encodes them.
fn mortal_era(period: u64, phase: u64) -> Vec<u8> {
    let quantize = (period >> 12).max(1);
    let low = (period.trailing_zeros() as u64)
        .saturating_sub(1)
        .clamp(1, 15);
    let encoded = (low | ((phase / quantize) << 4)) as u16;
    encoded.to_le_bytes().to_vec()
}

/// Checks one submitted extrinsic against the recording's `submitted[]` entry: the signer is
/// `signer`, the signature verifies over spec 218's signed payload, the era, nonce and tip are
/// the recorded ones, and the call data is `call`.
fn check_submitted(bytes: &[u8], want: &Value, signer: &[u8; 32], call: &[u8]) {
    let x = decode_extrinsic(bytes);
    assert_eq!(&x.signer, signer, "signed by the test's hotkey");
    assert_eq!(hex::encode(&x.call), hex::encode(call), "the call data");
    let ext = &want["extensions"];
    let era = &ext["era"];
    assert_eq!(
        x.era,
        mortal_era(
            era["mortal"]["period"].as_u64().unwrap(),
            era["mortal"]["phase"].as_u64().unwrap()
        ),
        "mortal era born at the recorded head"
    );
    assert_eq!(x.nonce as u64, ext["nonce"].as_u64().unwrap());
    assert_eq!(x.tip, 0);
    let mut payload = x.call.clone();
    payload.extend(&x.era);
    payload.extend(Compact(x.nonce).encode());
    payload.extend(Compact(x.tip).encode());
    payload.push(0);
    payload.extend(218u32.to_le_bytes());
    payload.extend(1u32.to_le_bytes());
    payload.extend(GENESIS);
    payload.extend(key(era["block"]["hash"].as_str().unwrap()));
    payload.push(0);
    if payload.len() > 256 {
        payload = sp_crypto_hashing::blake2_256(&payload).to_vec();
    }
    assert!(
        subxt_signer::sr25519::verify(
            &subxt_signer::sr25519::Signature(x.signature),
            &payload,
            &subxt_signer::sr25519::PublicKey(*signer)
        ),
        "the signature verifies under the hotkey's public key"
    );
}

/// One recorded commit run replayed with the test's own hotkey: its exit status, stderr, the
/// state after it and what it submitted.
struct CommitRun {
    stderr: String,
    success: bool,
    state: Vec<gauntlet::state::Submission>,
    submitted: Vec<Vec<u8>>,
    unanswered: Vec<String>,
    signer: [u8; 32],
}

impl CommitRun {
    fn window(&self, window: u64) -> &gauntlet::state::Submission {
        self.state.iter().find(|s| s.window == window).unwrap()
    }
}

fn replay_commit(
    name: &str,
    edit_state: &dyn Fn(&Path),
    edit_recording: &dyn Fn(&mut Value),
) -> CommitRun {
    replay_commit_as(name, edit_state, edit_recording, &|args, _| args)
}

/// Changes a recorded command's arguments, given them and the recorded validator's stand-in.
type EditArgs<'a> = &'a dyn Fn(Vec<String>, &[u8; 32]) -> Vec<String>;

/// As `replay_commit`, with the recorded command's arguments changed by `edit_args` (given
/// them and the account that stands for the recorded validator).
fn replay_commit_as(
    name: &str,
    edit_state: &dyn Fn(&Path),
    edit_recording: &dyn Fn(&mut Value),
    edit_args: EditArgs,
) -> CommitRun {
    let expect = expect(name);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let signer = own_validator_key(d);
    for (to, from) in expect["cwd_files"].as_object().unwrap() {
        std::fs::copy(recorded().join(from.as_str().unwrap()), d.join(to)).unwrap();
    }
    edit_state(&d.join("state.db"));
    let swaps = account_swaps(&key(VALIDATOR), &signer);
    let replay = Replay::start_edited(
        &recorded().join(format!("{name}.jsonl")),
        &swaps,
        edit_recording,
    );
    let out = gauntlet(d)
        .args(edit_args(command_args(&expect, &replay.url), &signer))
        .output()
        .unwrap();
    let seen = replay.seen();
    CommitRun {
        stderr: stderr(&out),
        success: out.status.success(),
        state: submissions(&d.join("state.db")),
        submitted: seen.submitted.iter().map(|(_, b)| b.clone()).collect(),
        unanswered: seen.unanswered.clone(),
        signer,
    }
}

/// The submitted extrinsics that reached the node's `author_submitAndWatchExtrinsic` (subxt
/// tries `transactionWatch_v1` first, which the recorded node refused): the distinct ones.
fn distinct(submitted: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    for s in submitted {
        if !out.contains(s) {
            out.push(s.clone());
        }
    }
    out
}

/// A JSON value with every number as an f64 (the recording writes a stake of 0.0 as 0).
fn same_numbers(v: &Value) -> Value {
    match v {
        Value::Number(n) => serde_json::json!(n.as_f64().unwrap()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), same_numbers(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(same_numbers).collect()),
        other => other.clone(),
    }
}

#[test]
fn peers_against_the_real_runtime_prints_the_recorded_records() {
    let expect = expect("peers");
    let dir = tempfile::tempdir().unwrap();
    let replay = Replay::start(&recorded().join("peers.jsonl"), &[]);
    let out = gauntlet(dir.path())
        .args(command_args(&expect, &replay.url))
        .output()
        .unwrap();
    assert!(out.status.success(), "peers: {}", stderr(&out));
    let mut printed: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // The roster came after the recording: each record carries the same one, of the uids
    // printed, listed while the runtime was in a window at or after the one listed.
    let rosters: Vec<Value> = printed
        .iter_mut()
        .map(|r| r.as_object_mut().unwrap().remove("roster").unwrap())
        .collect();
    let roster: gauntlet::record::Roster = serde_json::from_value(rosters[0].clone()).unwrap();
    assert!(rosters.iter().all(|r| *r == rosters[0]));
    let uids = printed.iter().map(|r| r["uid"].as_u64().unwrap() as u16);
    let listed = gauntlet::record::Roster::of(uids, roster.network_window);
    assert_eq!(roster, listed);
    assert!(roster.network_window >= printed[0]["window"].as_u64().unwrap());
    let recorded = expect["printed_recorded"].as_array().unwrap();
    assert_eq!(printed.len(), recorded.len());
    for (got, want) in printed.iter().zip(recorded) {
        assert_eq!(
            same_numbers(got),
            same_numbers(want),
            "{got} against {want}"
        );
    }
    for (record, want) in printed.iter().zip(expect["records"].as_array().unwrap()) {
        assert_eq!(record["uid"], want["uid"]);
        assert_eq!(record["hotkey"], want["hotkey"]);
        assert_eq!(record["stake"].as_f64(), want["stake"].as_f64());
        assert_eq!(record["status"], want["status"]);
        if let Some(reason) = want["reason_contains"].as_str() {
            assert!(record["reason"].as_str().unwrap().contains(reason));
        }
    }
    let all = format!("{}{}", stdout(&out), stderr(&out));
    for secret in expect["must_not_print"]["strings"].as_array().unwrap() {
        assert!(!all.contains(secret.as_str().unwrap()), "a secret printed");
    }
    assert!(replay.seen().unanswered.is_empty(), "{:?}", replay.seen());
}

#[test]
fn set_weights_against_the_real_runtime_submits_the_chains_call() {
    let name = "commit-set-weights";
    let expect = expect(name);
    let run = replay_commit(name, &|_| {}, &|_| {});
    assert!(run.success, "{}", run.stderr);
    assert!(
        run.stderr.contains("commit: window 100: sent: "),
        "{}",
        run.stderr
    );
    assert!(run.unanswered.is_empty(), "{:?}", run.unanswered);
    let want = &expect["submitted"][0];
    let submitted = distinct(&run.submitted);
    assert_eq!(submitted.len(), 1);
    let call = hex::decode(want["call_data"].as_str().unwrap().trim_start_matches("0x")).unwrap();
    check_submitted(&submitted[0], want, &run.signer, &call);
    let s = run.window(100);
    assert_eq!(s.status.as_str(), "sent");
    assert_eq!(
        s.block_hash.as_deref(),
        want["recorded"]["finalized_in"].as_str()
    );
    assert_eq!(
        s.extrinsic_hash,
        Some(format!(
            "0x{}",
            hex::encode(sp_crypto_hashing::blake2_256(&submitted[0]))
        ))
    );
}

#[test]
fn a_dry_run_and_a_rate_limited_run_send_nothing_and_say_why() {
    let run = replay_commit("commit-dry-run", &|_| {}, &|_| {});
    assert!(run.success, "{}", run.stderr);
    assert!(run.submitted.is_empty());
    let want = expect("commit-set-weights")["submitted"][0]["call_data"].clone();
    assert!(
        run.stderr
            .contains(&format!("call data {}", want.as_str().unwrap())),
        "{}",
        run.stderr
    );
    assert_eq!(run.window(100).status.as_str(), "pending");

    // Without the wallet, by the hotkey's address: the same call, and nothing sent.
    let no_wallet = |state: &Path| {
        std::fs::remove_dir_all(state.parent().unwrap().join(".bittensor")).unwrap();
    };
    let by_address = replay_commit_as("commit-dry-run", &no_wallet, &|_| {}, &|args, signer| {
        let mut out = Vec::new();
        let mut it = args.into_iter();
        while let Some(a) = it.next() {
            if a.starts_with("--wallet-") {
                it.next();
            } else {
                out.push(a);
            }
        }
        out.push("--hotkey-ss58".into());
        out.push(gauntlet::chain::subtensor::ss58(signer));
        out
    });
    assert!(by_address.success, "{}", by_address.stderr);
    assert!(by_address.submitted.is_empty());
    assert!(
        by_address
            .stderr
            .contains(&format!("call data {}", want.as_str().unwrap())),
        "{}",
        by_address.stderr
    );
    assert_eq!(by_address.window(100).status.as_str(), "pending");

    // LastUpdate 17 + WeightsSetRateLimit 20: the chain takes it in block 37 at the earliest,
    // so it can be sent at the head #36; the head is #18.
    let run = replay_commit("commit-rate-limited", &|_| {}, &|_| {});
    assert!(run.success, "{}", run.stderr);
    assert!(run.submitted.is_empty());
    assert!(
        run.stderr.contains("commit: window 101: waiting: ")
            && run
                .stderr
                .contains("in block 37, so it can be sent from block 36 "),
        "{}",
        run.stderr
    );
    assert_eq!(run.window(101).status.as_str(), "pending");
}

/// The commit hash of spec 218's commit-reveal v2, computed here from the SCALE encoding.
fn commit_hash(who: &[u8; 32], s: &gauntlet::state::Submission) -> [u8; 32] {
    let preimage = (
        *who,
        2u16,
        s.uids.clone().unwrap(),
        s.values.clone().unwrap(),
        s.salt.clone().unwrap(),
        s.version_key.unwrap(),
    );
    sp_crypto_hashing::blake2_256(&preimage.encode())
}

#[test]
fn a_hash_commit_against_the_real_runtime_is_then_revealed_in_its_epoch() {
    let name = "commit-reveal-v2";
    let expect = expect(name);
    let run = replay_commit(name, &|_| {}, &|_| {});
    assert!(run.success, "{}", run.stderr);
    let s = run.window(102);
    assert_eq!(s.status.as_str(), "committed");
    // Sent at the head #39, included in #40: epoch ⌊(40 + 3) / 11⌋ = 3, revealed in epoch 4
    // (blocks 41–51).
    assert_eq!(s.commit_epoch, Some(3));
    assert!(
        run.stderr.contains("reveal from block 41"),
        "{}",
        run.stderr
    );
    let want = &expect["submitted"][0];
    assert_eq!(
        s.block_hash.as_deref(),
        want["recorded"]["finalized_in"].as_str(),
        "a sent commit keeps the hash of the block that included it"
    );
    let hash = commit_hash(&run.signer, s);
    assert_eq!(s.commit_hash, Some(format!("0x{}", hex::encode(hash))));
    let mut call = vec![7, 96, 2, 0];
    call.extend(hash);
    let submitted = distinct(&run.submitted);
    assert_eq!(submitted.len(), 1);
    check_submitted(&submitted[0], want, &run.signer, &call);

    // At the head #40 the reveal epoch has not begun: nothing is sent.
    let run = replay_commit("commit-reveal-v2-early", &|_| {}, &|_| {});
    assert!(run.success, "{}", run.stderr);
    assert!(run.submitted.is_empty());
    assert!(
        run.stderr.contains("commit: window 102: waiting: ") && run.stderr.contains("block 41"),
        "{}",
        run.stderr
    );
    assert_eq!(run.window(102).status.as_str(), "committed");

    // In epoch 4: reveal_weights with the state's uids, values, salt and version key.
    let name = "commit-reveal-v2-reveal";
    let expect = self::expect(name);
    let run = replay_commit(name, &|_| {}, &|_| {});
    assert!(run.success, "{}", run.stderr);
    assert!(
        run.stderr.contains("commit: window 102: revealed: "),
        "{}",
        run.stderr
    );
    let want = &expect["submitted"][0];
    let call = hex::decode(want["call_data"].as_str().unwrap().trim_start_matches("0x")).unwrap();
    let submitted = distinct(&run.submitted);
    assert_eq!(submitted.len(), 1);
    check_submitted(&submitted[0], want, &run.signer, &call);
    let s = run.window(102);
    assert_eq!((s.status.as_str(), s.commit_epoch), ("sent", Some(3)));
    assert_eq!(
        s.block_hash.as_deref(),
        want["recorded"]["finalized_in"].as_str()
    );
}

/// Sets the commit epoch of window 102's commit, as an earlier run could have left it.
fn set_commit_epoch(path: &Path, epoch: u64) {
    let db = rusqlite::Connection::open(path).unwrap();
    let n = db
        .execute(
            "UPDATE submissions SET commit_epoch = ?1 WHERE window = 102",
            [epoch as i64],
        )
        .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn a_commit_past_its_reveal_epoch_is_committed_again_not_revealed() {
    // The reveal run's chain (head #41, epoch 4) with a commit of epoch 2: its reveal epoch
    // (3) is over, so the chain would refuse the reveal (ExpiredWeightCommit). The recorded
    // node answers the one submission it has, whatever it is.
    let run = replay_commit(
        "commit-reveal-v2-reveal",
        &|p| set_commit_epoch(p, 2),
        &|_| {},
    );
    assert!(run.success, "{}", run.stderr);
    assert!(
        run.stderr.contains("commit: window 102: expired: ")
            && run.stderr.contains("commit: window 102: committed: "),
        "{}",
        run.stderr
    );
    let submitted = distinct(&run.submitted);
    assert_eq!(submitted.len(), 1);
    let x = decode_extrinsic(&submitted[0]);
    assert_eq!(&x.call[..2], &[7, 96], "commit_weights, not reveal_weights");
    let s = run.window(102);
    assert_eq!(s.status.as_str(), "committed");
    assert_eq!(&x.call[4..], &commit_hash(&run.signer, s)[..]);
    // Included in #42: epoch ⌊45 / 11⌋ = 4.
    assert_eq!(s.commit_epoch, Some(4));
}

/// The header of block `hash` in the recording, with its number changed to `number` (a
/// one-byte compact after the 32-byte parent hash).
fn renumber_header(hash: &'static str, number: u8) -> impl Fn(&mut Value) {
    let asked = std::sync::Mutex::new(Vec::<Value>::new());
    move |line: &mut Value| {
        let received = line["dir"] == "recv";
        let Some(msg) = line.get_mut("msg") else {
            return;
        };
        if msg["method"] == "archive_v1_header" && msg["params"][0] == hash {
            asked.lock().unwrap().push(msg["id"].clone());
        } else if received && asked.lock().unwrap().contains(&msg["id"]) {
            let header = msg["result"].as_str().unwrap().to_string();
            let mut bytes = hex::decode(&header[2..]).unwrap();
            assert_eq!(bytes[32] & 3, 0, "a one-byte compact number");
            bytes[32] = number << 2;
            msg["result"] = Value::String(format!("0x{}", hex::encode(bytes)));
        }
    }
}

#[test]
fn a_commit_included_in_an_epochs_first_block_counts_in_that_epoch() {
    // The recorded commit was sent at the head #39 and included in #40. Here the node says
    // the including block is #41, the first block of epoch 4: the chain then counts the
    // commit in epoch 4 and opens its reveal in epoch 5 (block 52), whatever block the
    // commit was sent at.
    let included = "0xcb2643bacfd4ebc4569ab4862785a7fc1d5daf5df0951a3949ad94aa72296856";
    let run = replay_commit("commit-reveal-v2", &|_| {}, &renumber_header(included, 41));
    assert!(run.success, "{}", run.stderr);
    let s = run.window(102);
    assert_eq!((s.status.as_str(), s.commit_epoch), ("committed", Some(4)));
    assert!(
        run.stderr.contains("reveal from block 52"),
        "{}",
        run.stderr
    );
}

#[test]
fn every_chain_method_runs_against_the_real_runtime() {
    let timeout = Duration::from_secs(20);
    let peers = Replay::start(&recorded().join("peers.jsonl"), &[]);
    let chain = Subtensor::connect(&peers.url, 2, timeout).unwrap();
    assert_eq!(chain.current_block().unwrap(), 16);
    let neurons = chain.metagraph().unwrap();
    assert_eq!(neurons.len(), 6);
    assert_eq!(hex::encode(neurons[0].hotkey), VALIDATOR);
    assert!(neurons[0].validator_permit);
    assert_eq!(neurons[2].stake, 2.940836275);
    let commitments = chain.commitments().unwrap();
    assert_eq!(commitments.len(), 5);
    assert_eq!(commitments.values().filter(|c| c.is_ok()).count(), 3);
    let t8 = chain.block_time(8).unwrap();
    assert!(t8 > std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000));
    let err = format!("{:#}", chain.block_time(0).unwrap_err());
    assert!(
        err.contains("block 0") && err.contains("no timestamp"),
        "{err}"
    );

    let set = Replay::start(&recorded().join("commit-set-weights.jsonl"), &[]);
    let chain = Subtensor::connect(&set.url, 2, timeout).unwrap();
    let rules = chain.weight_rules(&key(VALIDATOR)).unwrap();
    assert_eq!(
        (rules.block, rules.uid, rules.rate_limit, rules.last_update),
        (16, Some(0), 1, 3)
    );
    assert_eq!((rules.version_key, rules.commit_reveal), (7, false));
    assert_eq!((rules.tempo, rules.reveal_period_epochs), (10, 1));
    assert_eq!(chain.epoch(&rules), 1);
    // A read the node cannot answer is an error naming the storage item, never "not
    // registered" (the replay has no answer for another hotkey's uid).
    let err = format!("{:#}", chain.weight_rules(&[7; 32]).unwrap_err());
    assert!(err.contains("SubtensorModule.Uids"), "{err}");
    assert!(set.seen().unanswered.len() == 1);

    // The same through gauntlet's Chain: network, the window clock, rules, call data, submit.
    let cfg = gauntlet::config::Config::default();
    let peers_chain = SubtensorChain::connect(&peers.url, 2, &cfg).unwrap();
    assert!(peers_chain.describe().contains(&peers.url));
    let window = peers_chain.current_window().unwrap();
    let network = peers_chain.network(window).unwrap();
    assert_eq!(network.peers.len() + network.unlisted.len(), 6);
    assert!(
        !network.clock.genesis.starts_with("1970"),
        "{}",
        network.clock.genesis
    );
    let dir = tempfile::tempdir().unwrap();
    let signer = own_validator_key(dir.path());
    let hotkey = gauntlet::chain::wallet::Hotkey::from_file(
        &dir.path()
            .join(".bittensor/wallets/owner/hotkeys/validator"),
    )
    .unwrap();
    let swapped = Replay::start(
        &recorded().join("commit-set-weights.jsonl"),
        &account_swaps(&key(VALIDATOR), &signer),
    );
    let chain = SubtensorChain::connect(&swapped.url, 2, &cfg).unwrap();
    assert_eq!(chain.weight_rules(Some(&hotkey)).unwrap().uid, Some(0));
    let call = gauntlet::chain::calls::Call::SetWeights {
        netuid: 2,
        uids: vec![1, 2, 3],
        values: vec![65535, 24617, 247],
        version_key: 7,
    };
    let want = expect("commit-set-weights")["submitted"][0].clone();
    let data = chain.call_data(&call).unwrap().unwrap();
    assert_eq!(format!("0x{}", hex::encode(&data)), want["call_data"]);
    let included = chain.submit(&call, Some(&hotkey)).unwrap();
    assert_eq!(
        (included.block, included.block_hash.as_str()),
        (17, want["recorded"]["finalized_in"].as_str().unwrap())
    );
    let submitted = distinct(
        &swapped
            .seen()
            .submitted
            .iter()
            .map(|(_, b)| b.clone())
            .collect::<Vec<_>>(),
    );
    check_submitted(&submitted[0], &want, &signer, &data);
}
