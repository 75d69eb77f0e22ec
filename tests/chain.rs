//! The chain, offline: call data against the spec's vectors, an extrinsic signed with the
//! spec-218 metadata, stored values decoded, the commit-reveal hash against an independent
//! Python computation, hotkeys from real `bittensor-wallet` files, and `commit` against the
//! local ledger and against an endpoint that never answers.

mod common;

use common::{gauntlet, ok, python, stderr, stdout};
use gauntlet::chain::calls::{Call, OfflineChain};
use gauntlet::chain::scale::{
    commit_hash, epoch_index, epoch_start, normalize_weights, AxonInfo, BucketCommitment, Data,
    Registration,
};
use gauntlet::chain::wallet::Hotkey;
use std::path::{Path, PathBuf};
use std::process::Command;
use subxt_signer::sr25519::dev;

const GENESIS: [u8; 32] = [0x2f; 32];

fn metadata_file() -> PathBuf {
    common::repo().join("../shared/chain/subtensor-spec218.metadata.scale")
}

fn spec218() -> OfflineChain {
    let bytes = std::fs::read(metadata_file()).expect("../shared/chain metadata");
    OfflineChain::from_metadata_bytes(&bytes, GENESIS, 218, 1).unwrap()
}

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s.replace(' ', "")).unwrap()
}

fn bucket() -> BucketCommitment {
    BucketCommitment {
        account_id: "a".repeat(32),
        access_key_id: "K".repeat(32),
        secret_access_key: "s".repeat(64),
    }
}

#[test]
fn call_data_equals_the_spec_vectors() {
    let chain = spec218();
    let set = Call::SetWeights {
        netuid: 1,
        uids: vec![0, 1],
        values: vec![65535, 32768],
        version_key: 0,
    };
    assert_eq!(
        chain.call_data(&set).unwrap(),
        unhex("07 00 0100 08 0000 0100 08 ffff 0080 0000000000000000")
    );
    let commit = Call::CommitWeights {
        netuid: 1,
        commit_hash: [0xab; 32],
    };
    let mut expected = unhex("07 60 0100");
    expected.extend([0xab; 32]);
    assert_eq!(chain.call_data(&commit).unwrap(), expected);
    let reveal = Call::RevealWeights {
        netuid: 1,
        uids: vec![0, 1],
        values: vec![65535, 32768],
        salt: vec![1, 2],
        version_key: 7,
    };
    assert_eq!(
        chain.call_data(&reveal).unwrap(),
        unhex("07 61 0100 08 0000 0100 08 ffff 0080 08 0100 0200 0700000000000000")
    );
    let commitment = Call::SetCommitment {
        netuid: 1,
        bucket: bucket(),
    };
    // Commitments (18).set_commitment (0): netuid, one field, Raw128 (tag 129), 128 bytes.
    let mut expected = unhex("12 00 0100 04 81");
    expected.extend(bucket().to_bytes());
    assert_eq!(chain.call_data(&commitment).unwrap(), expected);
}

#[test]
fn an_offline_signed_extrinsic_has_the_spec_layout_and_a_valid_signature() {
    let chain = spec218();
    let alice = dev::alice();
    let call = Call::SetWeights {
        netuid: 1,
        uids: vec![0, 1],
        values: vec![65535, 32768],
        version_key: 0,
    };
    let signed = chain.sign(&call, &alice, 12).unwrap();
    let call_data = unhex("07 00 0100 08 0000 0100 08 ffff 0080 0000000000000000");
    // call ‖ era (immortal) ‖ nonce 12 ‖ tip 0 ‖ metadata-hash mode 0 ‖ spec 218 ‖ tx version 1 ‖
    // genesis ‖ genesis (immortal era's block) ‖ no metadata hash
    let mut payload = call_data.clone();
    payload.extend(unhex("00 30 00 00 da000000 01000000"));
    payload.extend(GENESIS);
    payload.extend(GENESIS);
    payload.push(0);
    assert_eq!(signed.signer_payload, payload);
    assert_eq!(
        signed.extrinsic.len(),
        127,
        "the spec's extrinsic is 127 bytes"
    );
    let x = &signed.extrinsic;
    assert_eq!(&x[..2], &unhex("f501")[..], "compact length 125");
    assert_eq!(x[2], 0x84, "signed, version 4");
    assert_eq!(x[3], 0x00, "MultiAddress::Id");
    assert_eq!(&x[4..36], &alice.public_key().0[..]);
    assert_eq!(x[36], 0x01, "MultiSignature::Sr25519");
    let mut sig = [0u8; 64];
    sig.copy_from_slice(&x[37..101]);
    assert_eq!(&x[101..105], &unhex("00 30 00 00")[..]);
    assert_eq!(&x[105..], &call_data[..]);
    assert!(subxt_signer::sr25519::verify(
        &subxt_signer::sr25519::Signature(sig),
        &payload,
        &alice.public_key()
    ));
    assert_eq!(
        signed.hash,
        sp_crypto_hashing::blake2_256(&signed.extrinsic),
        "the hash is blake2-256 of the extrinsic"
    );
}

#[test]
fn stored_commitments_and_axons_decode_and_bad_ones_are_refused() {
    // deposit(8) | block(4 LE) | 1 field | Raw128 | 128 bytes
    let mut raw = 5u64.to_le_bytes().to_vec();
    raw.extend(1234u32.to_le_bytes());
    raw.extend([0x04, 0x81]);
    raw.extend(bucket().to_bytes());
    let r = Registration::decode(&raw).unwrap();
    assert_eq!((r.deposit, r.block), (5, 1234));
    assert_eq!(BucketCommitment::from_registration(&r).unwrap(), bucket());
    assert!(
        !format!("{:?}", bucket()).contains(&"s".repeat(64)),
        "Debug hides the secret"
    );

    let mut short = 0u64.to_le_bytes().to_vec();
    short.extend(1u32.to_le_bytes());
    short.extend([0x04, 0x0b]);
    short.extend(b"0123456789");
    let r = Registration::decode(&short).unwrap();
    assert_eq!(r.fields, vec![Data::Raw(b"0123456789".to_vec())]);
    assert!(BucketCommitment::from_registration(&r)
        .unwrap_err()
        .contains("10 bytes long"));
    assert!(
        Registration::decode(&raw[..raw.len() - 1]).is_err(),
        "truncated"
    );
    let mut trailing = raw.clone();
    trailing.push(0);
    assert!(Registration::decode(&trailing).is_err(), "trailing bytes");
    let mut many = raw[..12].to_vec();
    many.extend([0x10]); // 4 fields: more than the 3 allowed
    assert!(Registration::decode(&many).is_err());
    // Random bytes never panic.
    let mut x = 0x9e3779b97f4a7c15u64;
    for len in 0..400 {
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let _ = Registration::decode(&bytes).map(|r| BucketCommitment::from_registration(&r));
    }

    // AxonInfo { block 10, version 2, ip 1.2.3.4, port 8091, ip_type 4, protocol 4, 0, 0 }
    let mut axon = 10u64.to_le_bytes().to_vec();
    axon.extend(2u32.to_le_bytes());
    axon.extend(0x01020304u128.to_le_bytes());
    axon.extend(8091u16.to_le_bytes());
    axon.extend([4, 4, 0, 0]);
    let a = AxonInfo::decode_exact(&axon).unwrap();
    assert_eq!((a.block, a.version, a.port, a.ip_type), (10, 2, 8091, 4));
    assert_eq!(a.address(), "1.2.3.4:8091");
    assert!(AxonInfo::decode_exact(&axon[..20]).is_err());
}

#[test]
fn a_commitment_cannot_choose_the_host_the_validator_talks_to() {
    // The first 32 characters become `https://{id}.r2.cloudflarestorage.com`.
    let hostile = [
        "a@evil.example#aaaaaaaaaaaaaaaaa", // userinfo: the host is evil.example
        "host:8443?aaaaaaaaaaaaaaaaaaaaaa", // a port, the rest a query
        "evil.example/aaaaaaaaaaaaaaaaaaa", // another host, the rest a path
        "aaaaaaaaaaaaaaaa?x=aaaaaaaaaaaaa", // a query
        "aaaaaaaaaaaaaaaa#aaaaaaaaaaaaaaa", // a fragment
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", // not how R2 spells an id
        "aaaaaaaaaaaaaaaa%2eaaaaaaaaaaaaa", // an escaped dot
    ];
    // deposit(8) | block(4 LE) | 1 field | Raw128 | account id, read key id, read secret
    let stored = |id: &str| {
        let mut raw = 5u64.to_le_bytes().to_vec();
        raw.extend(1u32.to_le_bytes());
        raw.extend([0x04, 0x81]);
        raw.extend(format!("{id}{}{}", "K".repeat(32), "s".repeat(64)).as_bytes());
        Registration::decode(&raw).unwrap()
    };
    for id in hostile {
        assert_eq!(id.len(), 32);
        let err = BucketCommitment::from_registration(&stored(id)).unwrap_err();
        assert!(err.contains("account id"), "{id}: {err}");
        assert!(!err.contains(&"s".repeat(64)), "the secret is not repeated");
    }
    let good = "0123456789abcdef0123456789abcdef";
    let r = BucketCommitment::from_registration(&stored(good)).unwrap();
    assert_eq!(r.account_id, good);
}

#[test]
fn commit_hash_matches_an_independent_python_computation() {
    let who = dev::alice().public_key().0;
    let (uids, values, salt) = (
        vec![0u16, 5, 9],
        vec![65535u16, 100, 7],
        vec![3u16, 1, 4, 1],
    );
    let ours = commit_hash(&who, 3, &uids, &values, &salt, 42);
    let script = r#"
import hashlib, struct, sys
who = bytes.fromhex(sys.argv[1])
def vec(xs): return bytes([len(xs) << 2]) + b"".join(struct.pack("<H", x) for x in xs)
data = who + struct.pack("<H", 3) + vec([0, 5, 9]) + vec([65535, 100, 7]) + vec([3, 1, 4, 1]) + struct.pack("<Q", 42)
print(hashlib.blake2b(data, digest_size=32).hexdigest())
"#;
    let out = Command::new(python())
        .args(["-c", script, &hex::encode(who)])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        hex::encode(ours),
        String::from_utf8_lossy(&out.stdout).trim()
    );
}

#[test]
fn weights_are_normalised_as_the_chain_takes_them() {
    let (uids, values) = normalize_weights(&[(4, 0.25), (1, 0.5), (2, 0.0), (7, f64::NAN)]);
    assert_eq!(uids, vec![1, 4]);
    // 0.25 / 0.5 · 65535 = 32767.5, rounded half to even as Python's round does.
    assert_eq!(values, vec![65535, 32768]);
    assert_eq!(normalize_weights(&[(1, 0.0)]), (vec![], vec![]));
    // Epochs: (block + netuid + 1) / (tempo + 1), and the first block of each.
    assert_eq!(epoch_index(356, 3, 360), 0);
    assert_eq!(epoch_index(357, 3, 360), 1);
    assert_eq!(epoch_start(1, 3, 360), 357);
}

/// A hotkey file made by the PyPI `bittensor-wallet` package.
fn make_wallet(dir: &Path, name: &str, hotkey: &str) -> String {
    let script = r#"
import sys
from bittensor_wallet import Wallet
w = Wallet(name=sys.argv[2], hotkey=sys.argv[3], path=sys.argv[1])
w.create_new_hotkey(use_password=False, overwrite=True, suppress=True)
print(w.hotkey.ss58_address)
"#;
    let out = Command::new(python())
        .args(["-c", script])
        .arg(dir)
        .args([name, hotkey])
        .output()
        .unwrap();
    assert!(out.status.success(), "bittensor-wallet: {}", stderr(&out));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn hotkeys_from_bittensor_wallet_files_give_their_address() {
    let dir = tempfile::tempdir().unwrap();
    let wallets = dir.path().join("wallets");
    for (name, hk) in [("validator", "default"), ("other", "hk2")] {
        let expected = make_wallet(&wallets, name, hk);
        let file = wallets.join(name).join("hotkeys").join(hk);
        let key = Hotkey::from_file(&file).unwrap();
        assert_eq!(key.ss58, expected);
        assert!(!format!("{key:?}").contains("secret"));
    }
    let file = wallets.join("validator/hotkeys/default");
    let text = std::fs::read_to_string(&file).unwrap();
    let secret: serde_json::Value = serde_json::from_str(&text).unwrap();
    let seed = secret["secretSeed"].as_str().unwrap().to_string();

    // Readable by others: refused with the fix.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = format!("{:#}", Hotkey::from_file(&file).unwrap_err());
    assert!(err.contains("chmod 600"), "{err}");
    assert!(!err.contains(&seed));
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();

    // Encrypted: refused, saying so.
    let enc = wallets.join("validator/hotkeys/encrypted");
    std::fs::write(&enc, b"$NACL\x00\x01\x02opaque").unwrap();
    std::fs::set_permissions(&enc, std::fs::Permissions::from_mode(0o600)).unwrap();
    let err = format!("{:#}", Hotkey::from_file(&enc).unwrap_err());
    assert!(err.contains("encrypted"), "{err}");

    // A file whose address disagrees with its secret: refused.
    let bad = wallets.join("validator/hotkeys/bad");
    let mut v = secret.clone();
    v["ss58Address"] = serde_json::json!("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY");
    std::fs::write(&bad, v.to_string()).unwrap();
    std::fs::set_permissions(&bad, std::fs::Permissions::from_mode(0o600)).unwrap();
    let err = format!("{:#}", Hotkey::from_file(&bad).unwrap_err());
    assert!(err.contains("damaged") && !err.contains(&seed), "{err}");
}

/// A validator's wallet in `dir/wallets`, made by bittensor-wallet: its address and the
/// flags that name it.
fn validator_wallet(dir: &Path) -> (String, Vec<String>) {
    let wallets = dir.join("wallets");
    let ss58 = make_wallet(&wallets, "v", "hk");
    let path = wallets.to_str().unwrap();
    let args = [
        "--wallet-path",
        path,
        "--wallet-name",
        "v",
        "--wallet-hotkey",
        "hk",
    ];
    (ss58, args.map(String::from).to_vec())
}

/// A state with weights pending for the given windows.
fn pending_state(path: &Path, windows: &[u64]) {
    let mut state = gauntlet::state::State::open(path, std::time::Duration::from_secs(5)).unwrap();
    let tx = state.begin().unwrap();
    for &w in windows {
        tx.put_weights(w, &[(1, 0.7), (2, 0.3), (3, 0.0)]).unwrap();
        tx.add_submission(w).unwrap();
    }
    tx.commit().unwrap();
}

fn submissions(path: &Path) -> Vec<gauntlet::state::Submission> {
    gauntlet::state::State::open(path, std::time::Duration::from_secs(5))
        .unwrap()
        .read()
        .submissions(&[])
        .unwrap()
}

#[test]
fn commit_to_the_local_ledger_sends_the_newest_window_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("network.yaml"),
        "clock:\n  genesis: 2026-01-01T00:00:00Z\n  window_seconds: 96\npeers: []\n",
    )
    .unwrap();
    let state = d.join("state.db");
    pending_state(&state, &[5, 6]);

    let dry = ok(gauntlet(d).args(["commit", "--network", "network.yaml", "--dry-run"]));
    assert!(stderr(&dry).contains("would send"), "{}", stderr(&dry));
    assert!(!d.join("ledger.jsonl").exists(), "a dry run sends nothing");
    assert!(submissions(&state)
        .iter()
        .all(|s| s.status.as_str() == "pending"));

    let (ss58, wallet_args) = validator_wallet(d);
    ok(gauntlet(d)
        .args(["commit", "--network", "network.yaml"])
        .args(&wallet_args));
    let ledger = gauntlet::chain::ledger::LocalChain::ledger(&d.join("network.yaml")).unwrap();
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0].uids, vec![1, 2]);
    assert_eq!(ledger[0].weights, vec![65535, 28086]);
    assert_eq!(ledger[0].validator, ss58);
    let subs = submissions(&state);
    assert_eq!(
        subs.iter()
            .map(|s| (s.window, s.status.as_str()))
            .collect::<Vec<_>>(),
        vec![(5, "superseded"), (6, "sent")]
    );
    // Nothing pending: a re-run sends nothing.
    let again = ok(gauntlet(d).args(["commit", "--network", "network.yaml"]));
    assert!(stderr(&again).contains("no weights pending"));
    assert_eq!(
        gauntlet::chain::ledger::LocalChain::ledger(&d.join("network.yaml"))
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn commit_reveal_v4_on_the_local_chain_is_sealed_until_its_round_then_revealed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let net = d.join("network.yaml");
    std::fs::write(
        &net,
        "clock:\n  genesis: 2026-01-01T00:00:00Z\n  window_seconds: 2\npeers: []\n\
         commit_reveal:\n  tempo: 1\n  beacon_seed: local test beacon\n",
    )
    .unwrap();
    let state = d.join("state.db");
    pending_state(&state, &[5, 6]);
    let (ss58, wallet_args) = validator_wallet(d);

    // Without the hotkey there is nothing to commit with: refused, nothing sent.
    let out = gauntlet(d)
        .args(["commit", "--network", "network.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("hotkey"), "{}", stderr(&out));

    let out = ok(gauntlet(d)
        .args(["commit", "--network", "network.yaml"])
        .args(&wallet_args));
    let said = stderr(&out);
    assert!(
        said.contains("timelocked") && said.contains("drand round"),
        "{said}"
    );
    // Sealed: the ledger has the commit but cannot read its weights before the round. The
    // ledger is read at given times (the round's start and a second before), not waited for.
    use gauntlet::chain::ledger::LocalChain;
    use gauntlet::chain::timelock::{QUICKNET_GENESIS, QUICKNET_PERIOD};
    let ledger = LocalChain::ledger(&net).unwrap();
    assert_eq!(ledger.len(), 1);
    let t = ledger[0].timelocked.clone().unwrap();
    let round_starts = std::time::UNIX_EPOCH
        + std::time::Duration::from_secs(QUICKNET_GENESIS + t.reveal_round * QUICKNET_PERIOD);
    assert_eq!(
        gauntlet::chain::timelock::round_at(
            round_starts
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs_f64()
        ),
        t.reveal_round
    );
    let before = round_starts - std::time::Duration::from_secs(1);
    let ledger = LocalChain::ledger_at(&net, before).unwrap();
    let t = ledger[0].timelocked.clone().unwrap();
    assert_eq!(t.state, "sealed");
    assert!(ledger[0].uids.is_empty());
    assert_eq!(
        submissions(&state)
            .iter()
            .map(|s| (s.window, s.status.as_str()))
            .collect::<Vec<_>>(),
        vec![(5, "superseded"), (6, "sent")]
    );

    // The round comes and the chain opens it.
    let opened = LocalChain::ledger_at(&net, round_starts).unwrap();
    assert_eq!(opened[0].timelocked.as_ref().unwrap().state, "revealed");
    assert_eq!(opened[0].uids, vec![1, 2]);
    assert_eq!(opened[0].weights, vec![65535, 28086]);
    assert_eq!(opened[0].validator, ss58);

    // A commit made under another seed does not open: the chain drops it, with why.
    let other = std::fs::read_to_string(&net)
        .unwrap()
        .replace("local test beacon", "another beacon");
    std::fs::write(&net, other).unwrap();
    let l = LocalChain::ledger_at(&net, round_starts).unwrap();
    let state_now = &l[0].timelocked.as_ref().unwrap().state;
    assert!(state_now.starts_with("dropped"), "{state_now}");
    assert!(l[0].uids.is_empty());
}

#[test]
fn an_unreachable_chain_fails_in_bounded_time_naming_it_and_weights_stay_pending() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let wallets = d.join("wallets");
    make_wallet(&wallets, "default", "default");
    let state = d.join("state.db");
    pending_state(&state, &[9]);
    // A port that accepts connections and never answers, and one where nothing listens.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_url = format!("ws://127.0.0.1:{}", silent.local_addr().unwrap().port());
    let closed_url = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("ws://127.0.0.1:{}", l.local_addr().unwrap().port())
    };
    for url in [&silent_url, &closed_url] {
        for args in [
            vec!["peers", "--network", url.as_str(), "--netuid", "3"],
            vec!["commit", "--network", url.as_str(), "--netuid", "3"],
        ] {
            let mut cmd = gauntlet(d);
            cmd.args(&args).args(["--set", "chain.timeout_seconds=2"]);
            if args[0] == "commit" {
                cmd.args(["--wallet-path", wallets.to_str().unwrap(), "--state"])
                    .arg(&state);
            }
            let mut child = cmd
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            // Bounded: the command ends by itself long before this deadline.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
            while child.try_wait().unwrap().is_none() {
                assert!(std::time::Instant::now() < deadline, "{args:?} hung");
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            let out = child.wait_with_output().unwrap();
            assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
            let err = stderr(&out);
            assert!(
                err.contains(url.as_str()),
                "{args:?} does not name {url}: {err}"
            );
        }
    }
    drop(silent);
    let subs = submissions(&state);
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0].status.as_str(), "pending");
}

#[test]
fn the_window_clock_follows_explicit_starts() {
    use gauntlet::time::parse_time;
    let t = |s: &str| parse_time(s).unwrap();
    let mut clock = gauntlet::chain::Clock {
        genesis: "2026-01-01T00:00:00Z".into(),
        window_seconds: 100.0,
        windows: Default::default(),
    };
    assert_eq!(clock.window_at(t("2026-01-01T00:05:00Z")).unwrap(), 3);
    // Window 3 started late (a slow block): at 300 s it has not begun.
    clock.windows.insert(3, "2026-01-01T00:06:00Z".into());
    assert_eq!(clock.window_at(t("2026-01-01T00:05:00Z")).unwrap(), 2);
    assert_eq!(clock.window_at(t("2026-01-01T00:06:00Z")).unwrap(), 3);
    // A clock kept by hand (the demo's) runs ahead of the formula.
    clock.windows.insert(9, "2026-01-01T00:06:30Z".into());
    assert_eq!(clock.window_at(t("2026-01-01T00:06:40Z")).unwrap(), 9);
}

#[test]
fn a_round_whose_commit_fails_goes_on_keeps_the_weights_pending_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Commit-reveal on, and no hotkey to commit with: the commit stage fails.
    std::fs::write(
        d.join("network.yaml"),
        "clock:\n  genesis: 2026-01-01T00:00:00Z\n  window_seconds: 96\n\
         peers:\n  - {uid: 1, hotkey: h1, stake: 1.0, bucket: {url: buckets}}\n\
         commit_reveal:\n  tempo: 1\n  beacon_seed: local test beacon\n",
    )
    .unwrap();
    pending_state(&d.join("state.db"), &[5]);
    std::fs::write(
        d.join("round.yaml"),
        "checkpoints: ckpts\nkeep: rounds\nstages: [peers, commit]\n",
    )
    .unwrap();
    let out = gauntlet(d)
        .args([
            "run",
            "round.yaml",
            "--window",
            "5",
            "--network",
            "network.yaml",
        ])
        .args(["--state", "state.db", "--format", "jsonl"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let said = stderr(&out);
    assert!(
        said.contains("run: commit: failed: ") && said.contains("stay pending for the next round"),
        "{said}"
    );
    // The records the commit was given pass on, to stdout and to the kept file.
    let printed = common::records(&out);
    assert_eq!(printed.iter().map(|r| r.uid).collect::<Vec<_>>(), [1]);
    let kept = std::fs::read_to_string(d.join("rounds/commit-5.jsonl")).unwrap();
    assert_eq!(kept, stdout(&out));
    assert_eq!(
        submissions(&d.join("state.db"))
            .iter()
            .map(|s| (s.window, s.status.as_str()))
            .collect::<Vec<_>>(),
        vec![(5, "pending")]
    );
}
