"""Writes one hostile file per class of resource attack, with Python's own pickle and zipfile
and PyTorch's own torch.save, for tests/resources.rs, sized to a model's cap:

    python hostile_files.py SPEC.json
    SPEC: {"out": DIR, "cap": BYTES, "quant_bins": BINS, "params": [{"file_name", "idx_dtype", "idx_stored",
           "shape", "vals_dtype"}...]}  (the model's reference-format parameters)

Each file is named CLASS.pt (or .safetensors); the sync file is a sparse 1 GiB file.
"""
import io
import json
import os
import pickle
import sys
import zipfile

import torch

DTYPES = {"I16": torch.int16, "I32": torch.int32, "U8": torch.uint8, "F32": torch.float32}


def archive(path, pickled, storages=(), extra=()):
    """A torch.save-shaped archive around raw pickle bytes, written by zipfile (stored)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", pickled)
        z.writestr("archive/byteorder", "little")
        for key, data in storages:
            z.writestr(f"archive/data/{key}", data)
        for name, data in extra:
            z.writestr(name, data)
        z.writestr("archive/version", "3\n")


def save(path, obj):
    buf = io.BytesIO()
    torch.save(obj, buf)
    with open(path, "wb") as f:
        f.write(buf.getvalue())


def laughs_string(out):
    # One 64 KiB string memoised once, referenced 2**22 times through two shared lists.
    s = "x" * 65536
    inner = [s] * 2048
    outer = [inner] * 2048
    archive(os.path.join(out, "laughs-string.pt"), pickle.dumps({"state_dict": outer}, protocol=2))


def laughs_tensor(out):
    # The same shape with one shared tensor, as torch.save's own pickler memoises it.
    t = torch.zeros(4)
    inner = [t] * 2048
    save(os.path.join(out, "laughs-tensor.pt"), {"state_dict": {"x": [inner] * 2048}})


def numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def views(out, cap, params, bins):
    # Many tensors viewing one storage: 120 views of a storage filling the cap under names
    # no model has, then each parameter's tensors with the right dtype and shape.
    base = torch.zeros(max(cap - (1 << 20), 1 << 20) // 2, dtype=torch.int16)
    save(os.path.join(out, "views-whole.pt"), {"state_dict": {f"p{i}idxs": base for i in range(120)}})
    # torch.save keeps one dtype per storage: one storage per dtype, as large as the largest
    # tensor of that dtype, every tensor of that dtype a view of it.
    wanted = [
        (p["file_name"] + suffix, dtype, shape)
        for p in params
        for suffix, dtype, shape in [("idxs", p["idx_dtype"], p["idx_stored"]), ("vals", p["vals_dtype"], p["shape"])]
    ]
    bases = {}
    for _, dtype, shape in wanted:
        bases[dtype] = max(bases.get(dtype, 0), numel(shape))
    bases = {d: torch.zeros(n, dtype=DTYPES[d]) for d, n in bases.items()}
    sd = {"metadata": {"window": 0}}
    for name, dtype, shape in wanted:
        sd[name] = bases[dtype][: numel(shape)].view(shape)
    for p in params:
        if bins:
            lookup = torch.arange(bins, dtype=torch.float32)
            sd[p["file_name"] + "quant_params"] = (torch.tensor(0.0), 1.0, bins // 2, lookup, torch.float32)
    save(os.path.join(out, "views-layout.pt"), {"state_dict": sd, "global_step": 0})


def flood(out):
    # Opcode floods just under the 4 MiB pickle cap: NONE (a shared constant) and empty
    # dicts (a new object each), and one just over it.
    n = (4 << 20) - 16
    archive(os.path.join(out, "flood-none.pt"), b"\x80\x02" + b"N" * n + b".")
    archive(os.path.join(out, "flood-dicts.pt"), b"\x80\x02" + b"}" * n + b".")
    archive(os.path.join(out, "flood-over-cap.pt"), b"\x80\x02" + b"N" * (n + 64) + b".")


def zip_entries(out, cap):
    # As many stored entries as fit the cap, up to zip's 65535 (each costs ~100 bytes here),
    # with one name repeated at the very end so a duplicate check must reach it.
    count = min(65533, (cap - 4096) // 110)
    names = [(f"archive/data/{i:x}", b"") for i in range(count)]
    names.append(("archive/data/0", b""))
    archive(os.path.join(out, "zip-entries.pt"), pickle.dumps({}, protocol=2), extra=names)


def sync(out):
    path = os.path.join(out, "debug-0-1-v1.pt")
    with open(path, "wb") as f:
        f.write(b"PK\x03\x04")
        f.truncate(1 << 30)


def main():
    spec = json.load(open(sys.argv[1]))
    out, cap, params = spec["out"], spec["cap"], spec["params"]
    os.makedirs(out, exist_ok=True)
    laughs_string(out)
    laughs_tensor(out)
    views(out, cap, params, spec["quant_bins"])
    flood(out)
    zip_entries(out, cap)
    sync(out)


if __name__ == "__main__":
    main()
