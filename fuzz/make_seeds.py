"""Writes valid seeds for the native_gradient and reference_gradient fuzz targets, for the
small model of fuzz_targets/spec.rs: the first byte is the variant (bit 0: 8-bin codes,
bit 1: 12-bit packed indices), the rest the file. The reference files are written by
PyTorch's own torch.save. Run with the python that has torch (scripts/setup installs it):
    /opt/torch-venv-2.11.0/bin/python fuzz/make_seeds.py
"""
import io
import json
import os
import struct

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
PARAMS = [("a", (2, 4), 16), ("b", (1, 2), 4096)]


def indices(shape, totalk):
    rows, k = shape
    return [[(r * 3 + j * 5) % totalk for j in range(k)] for r in range(rows)]


def packed(idx):
    flat = [i for row in idx for i in row]
    if len(flat) % 2:
        flat.append(0)
    out = bytearray()
    for a, b in zip(flat[::2], flat[1::2]):
        out += bytes([a & 0xFF, (a >> 8) | ((b & 0x0F) << 4), b >> 4])
    return bytes(out)


def tensors(variant):
    """(name, dtype, shape, bytes) of a valid native gradient."""
    out = []
    for name, shape, totalk in PARAMS:
        idx = indices(shape, totalk)
        if variant & 2:
            b = packed(idx)
            out.append((f"{name}.idxs", "U8", [len(b)], b))
        else:
            b = struct.pack(f"<{shape[0] * shape[1]}h", *[i for r in idx for i in r])
            out.append((f"{name}.idxs", "I16", list(shape), b))
        n = shape[0] * shape[1]
        if variant & 1:
            out.append((f"{name}.vals", "U8", list(shape), bytes(i % 8 for i in range(n))))
            table = [0.1, 0.5] + [x - 3.5 for x in range(8)]
            out.append((f"{name}.quant", "F32", [10], struct.pack("<10f", *table)))
        else:
            out.append((f"{name}.vals", "F32", list(shape), struct.pack(f"<{n}f", *[0.25 * i for i in range(n)])))
    return out


def safetensors(variant):
    header, data = {"__metadata__": {"format": "gauntlet-gradient", "window": "5"}}, b""
    for name, dtype, shape, b in tensors(variant):
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(b)]}
        data += b
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + data


def torch_file(variant):
    sd = {}
    for name, shape, totalk in PARAMS:
        idx = indices(shape, totalk)
        if variant & 2:
            sd[f"{name}.idxs"] = torch.frombuffer(bytearray(packed(idx)), dtype=torch.uint8)
        else:
            sd[f"{name}.idxs"] = torch.tensor(idx, dtype=torch.int16)
        n = shape[0] * shape[1]
        if variant & 1:
            sd[f"{name}.vals"] = torch.tensor([i % 8 for i in range(n)], dtype=torch.uint8).view(shape)
            lookup = torch.tensor([x - 3.5 for x in range(8)], dtype=torch.float32)
            sd[f"{name}.quant_params"] = (torch.tensor(0.1), 0.5, 4, lookup, torch.float32)
        else:
            sd[f"{name}.vals"] = torch.arange(n, dtype=torch.float32).view(shape) * 0.25
    sd["metadata"] = {"window": 5, "pages_info": [("gauntlet", 1, "train")]}
    buf = io.BytesIO()
    torch.save({"state_dict": sd, "global_step": 3}, buf)
    return buf.getvalue()


def sync_file():
    buf = io.BytesIO()
    sd = {"a_debug": torch.tensor([0.5, -1.0]), "b_debug": [2.0], "successful_peers": [], "skipped_peers": []}
    torch.save({"state_dict": sd, "global_step": 0}, buf)
    return buf.getvalue()


def write(target, name, data):
    d = os.path.join(HERE, "seeds", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


for v in range(4):
    write("native_gradient", f"valid-{v}", bytes([v]) + safetensors(v))
    write("reference_gradient", f"valid-{v}.pt", bytes([v]) + torch_file(v))
write("reference_gradient", "sync.pt", bytes([0]) + sync_file())
