"""The Bittensor SDK's timelock (PyPI bittensor-drand 2.0.0) for tests/timelock.rs.

Reads one JSON request per line on stdin, writes one JSON answer per line:
  {"op": "decrypt", "ciphertext": HEX, "round": N, "signature": HEX}  -> {"plaintext": HEX}
  {"op": "encrypt_at_round", "plaintext": HEX, "round": N}            -> {"ciphertext": HEX, "round": N}
  {"op": "commit_v2", ...get_encrypted_commit_v2's arguments...}        -> {"ciphertext": HEX, "round": N}
The SDK's decrypt takes the chain's UserData {encrypted_data: Vec<u8>, reveal_round: u64}
SCALE-encoded, and encrypt_at_round returns the same; the commit is the bare ciphertext.
"""
import json
import sys

import bittensor_drand as bd


def compact(n):
    if n < 1 << 6:
        return bytes([n << 2])
    if n < 1 << 14:
        return ((n << 2) | 1).to_bytes(2, "little")
    return ((n << 2) | 2).to_bytes(4, "little")


def user_data(ct, rnd):
    return compact(len(ct)) + ct + rnd.to_bytes(8, "little")


def from_user_data(b):
    mode = b[0] & 3
    size = {0: 1, 1: 2, 2: 4}[mode]
    n = int.from_bytes(b[:size], "little") >> 2
    return b[size:size + n], int.from_bytes(b[size + n:size + n + 8], "little")


for line in sys.stdin:
    req = json.loads(line)
    op = req.pop("op")
    if op == "decrypt":
        ct = bytes.fromhex(req["ciphertext"])
        pt = bd.decrypt_with_signature(user_data(ct, req["round"]), req["signature"])
        out = {"plaintext": pt.hex()}
    elif op == "encrypt_at_round":
        wrapped, rnd = bd.encrypt_at_round(bytes.fromhex(req["plaintext"]), req["round"])
        ct, inner = from_user_data(wrapped)
        assert inner == rnd, (inner, rnd)
        out = {"ciphertext": ct.hex(), "round": rnd}
    elif op == "commit_v2":
        req["hotkey"] = bytes.fromhex(req["hotkey"])
        ct, rnd = bd.get_encrypted_commit_v2(**req)
        out = {"ciphertext": bytes(ct).hex(), "round": rnd}
    else:
        raise SystemExit(f"unknown op {op}")
    print(json.dumps(out), flush=True)
