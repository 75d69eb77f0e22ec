//! Commit-reveal v4 against the Bittensor SDK's own timelock (PyPI bittensor-drand 2.0.0,
//! tests/reference/timelock.py), with a real quicknet pulse as the key that opens it: round
//! 1000's signature, published by drand (api.drand.sh/<quicknet>/public/1000).
//!
//! What the chain runs to open a commit is the SDK's library (the same `tle` revision), so a
//! commit of ours that the SDK opens with the round's signature is one the chain opens; and
//! the SDK's commit for a schedule, opened here, shows we aim at the same round with the same
//! payload.

mod common;

use gauntlet::chain::scale::{epoch_index, epoch_start};
use gauntlet::chain::timelock::{self, EpochSchedule};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

const ROUND: u64 = 1000;
const SIGNATURE: &str = "b44679b9a59af2ec876b1a6b1ad52ea9b1615fc3982b19576350f93447cb1125e342b73a8dd2bacbe47e4b6b63ed5e39";

/// The SDK, asked one JSON line at a time.
struct Sdk {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Sdk {
    fn start() -> Sdk {
        let script = common::repo().join("tests/reference/timelock.py");
        let mut child = Command::new(common::python())
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("run tests/reference/timelock.py (scripts/setup installs bittensor-drand)");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Sdk {
            child,
            stdin,
            stdout,
        }
    }

    fn ask(&mut self, req: Value) -> Value {
        writeln!(self.stdin, "{req}").unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        assert!(!line.is_empty(), "the SDK script failed on {req}");
        serde_json::from_str(&line).unwrap()
    }
}

impl Drop for Sdk {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn signature() -> Vec<u8> {
    hex::decode(SIGNATURE).unwrap()
}

fn unhex(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

#[test]
fn the_quicknet_pulse_verifies_so_our_identity_is_drands() {
    let key = timelock::quicknet_key();
    assert!(timelock::verify_round(ROUND, &signature(), &key).unwrap());
    assert!(!timelock::verify_round(ROUND + 1, &signature(), &key).unwrap());
}

#[test]
fn payload_is_the_chains_scale_encoding() {
    let p = timelock::payload(&[1; 32], &[0, 5], &[65535, 1], 7);
    let mut want = vec![0x80];
    want.extend([1u8; 32]);
    want.extend([0x08, 0x00, 0x00, 0x05, 0x00]);
    want.extend([0x08, 0xff, 0xff, 0x01, 0x00]);
    want.extend(7u64.to_le_bytes());
    assert_eq!(p, want);
}

#[test]
fn our_commit_opens_in_the_sdk_and_the_sdks_opens_here() {
    let mut sdk = Sdk::start();
    let plaintext = timelock::payload(&[9; 32], &[1, 2, 3], &[100, 65535, 7], 42);
    let ct = timelock::encrypt(&plaintext, ROUND, &timelock::quicknet_key()).unwrap();
    let opened = sdk.ask(json!({"op": "decrypt", "ciphertext": hex::encode(&ct), "round": ROUND, "signature": SIGNATURE}));
    assert_eq!(unhex(&opened["plaintext"]), plaintext);
    assert_eq!(timelock::decrypt(&ct, &signature()).unwrap(), plaintext);

    let theirs = sdk.ask(
        json!({"op": "encrypt_at_round", "plaintext": hex::encode(&plaintext), "round": ROUND}),
    );
    let theirs = unhex(&theirs["ciphertext"]);
    assert_eq!(
        theirs.len(),
        ct.len(),
        "the same layout, byte for byte in size"
    );
    assert_eq!(timelock::decrypt(&theirs, &signature()).unwrap(), plaintext);

    // Another round's pulse opens neither; a cut or padded ciphertext is refused, not a panic.
    let mut other = signature();
    other[47] ^= 1;
    assert!(timelock::decrypt(&ct, &other).is_err());
    // The body's inner lengths are checked before anything reserves memory for them.
    let body = 96 + 40 + 40 + 8;
    let mut huge = ct.clone();
    huge[body..body + 8].copy_from_slice(&(u64::MAX / 2).to_le_bytes());
    for bad in [
        &ct[..ct.len() - 1],
        &ct[..96],
        &[&ct[..], &[0]].concat()[..],
        &huge[..],
    ] {
        assert!(timelock::decrypt(bad, &signature()).is_err());
    }
}

/// Schedules from the situations the chain distinguishes: a fixed-tempo runtime at several
/// offsets, an epoch due from the owner, a subnet past the tempo bound, a longer reveal period.
fn schedules() -> Vec<(&'static str, EpochSchedule, u64)> {
    let s = |last, pending, index, tempo, since, block| EpochSchedule {
        last_epoch_block: last,
        pending_epoch_at: pending,
        epoch_index: index,
        tempo,
        blocks_since_last_step: since,
        block,
    };
    vec![
        ("epoch just ran", s(10, 0, 0, 50, 0, 10), 1),
        ("mid epoch", s(100, 0, 7, 360, 200, 300), 1),
        (
            "epoch runs in the landing block",
            s(100, 0, 7, 360, 359, 459),
            1,
        ),
        ("owner-triggered epoch due", s(80, 95, 3, 20, 11, 91), 1),
        ("past the tempo bound", s(0, 0, 1, 360, 60_000, 1_000), 1),
        ("two-epoch reveal", s(1000, 0, 12, 99, 40, 1040), 2),
        (
            "fixed tempo, netuid 3",
            EpochSchedule::fixed(7_200_123, 3, 360),
            1,
        ),
        (
            "fixed tempo, netuid 0",
            EpochSchedule::fixed(719, 0, 359),
            1,
        ),
    ]
}

#[test]
fn the_reveal_block_and_payload_are_the_sdks() {
    let mut sdk = Sdk::start();
    let hotkey = [7u8; 32];
    let (uids, values) = (vec![0u16, 4, 9], vec![65535u16, 1200, 3]);
    for (name, sched, period) in schedules() {
        let reveal = sched.first_reveal_block(period).unwrap();
        assert!(reveal > sched.block, "{name}");
        // A block time that puts round 1000 three blocks past our reveal block: the SDK lands
        // on round 1000 (whose pulse we hold) only if it predicts the very same block.
        let blocks = (reveal + 3 - sched.block) as f64;
        let now = timelock::unix_now();
        let target = (timelock::QUICKNET_GENESIS + ROUND * timelock::QUICKNET_PERIOD) as f64 + 1.5;
        let block_time = (target - now) / blocks;
        let answer = sdk.ask(json!({
            "op": "commit_v2",
            "uids": uids, "weights": values, "version_key": 5,
            "last_epoch_block": sched.last_epoch_block, "pending_epoch_at": sched.pending_epoch_at,
            "subnet_epoch_index": sched.epoch_index, "tempo": sched.tempo,
            "blocks_since_last_step": sched.blocks_since_last_step, "current_block": sched.block,
            "subnet_reveal_period_epochs": period, "block_time": block_time,
            "hotkey": hex::encode(hotkey),
        }));
        assert_eq!(
            answer["round"],
            json!(ROUND),
            "{name}: reveal block {reveal}"
        );
        assert_eq!(
            timelock::reveal_round(reveal, sched.block, block_time, now),
            ROUND,
            "{name}"
        );
        let opened = timelock::decrypt(&unhex(&answer["ciphertext"]), &signature()).unwrap();
        assert_eq!(
            opened,
            timelock::payload(&hotkey, &uids, &values, 5),
            "{name}"
        );
    }
}

#[test]
fn a_fixed_tempo_reveals_where_commit_reveal_v2_does() {
    for (block, netuid, tempo) in [
        (7_200_123u64, 3u16, 360u16),
        (719, 0, 359),
        (0, 1, 10),
        (99, 2, 9),
    ] {
        let sched = EpochSchedule::fixed(block, netuid, tempo);
        let reveal = sched.first_reveal_block(1).unwrap();
        let commit_epoch = epoch_index(block + 1, netuid, tempo);
        assert_eq!(
            reveal,
            epoch_start(commit_epoch + 1, netuid, tempo),
            "block {block}"
        );
    }
    assert!(EpochSchedule::fixed(10, 1, 0)
        .first_reveal_block(1)
        .is_err());
}

#[test]
fn a_commit_is_aimed_at_a_future_round_and_sized_for_the_chain() {
    let sched = EpochSchedule::fixed(1_000_000, 3, 360);
    let uids: Vec<u16> = (0..256).collect();
    let values = vec![256u16; 256];
    let commit = |uids: &[u16], values: &[u16]| {
        timelock::commit(
            &timelock::payload(&[3; 32], uids, values, 1),
            &sched,
            1,
            12.0,
            &timelock::quicknet_key(),
        )
    };
    let c = commit(&uids, &values).unwrap();
    let current_round = timelock::round_at(timelock::unix_now());
    let ahead = (c.reveal_block + 3 - sched.block) * 12 / timelock::QUICKNET_PERIOD;
    assert!(c.round >= current_round + ahead - 1 && c.round <= current_round + ahead + 1);
    assert!(c.ciphertext.len() <= timelock::MAX_COMMIT_BYTES);
    let too_many: Vec<u16> = (0..2000).collect();
    let err = commit(&too_many, &too_many).unwrap_err();
    assert!(
        format!("{err:#}").contains("over the chain's limit"),
        "{err:#}"
    );
}
