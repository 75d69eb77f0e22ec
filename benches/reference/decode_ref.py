"""Side-by-side reference for benches/decode.rs: the reference network's decode of one peer's
pseudo-gradient (dequantise, scatter-mean decompress, inverse DCT via einsum), in PyTorch, on
the same file gauntlet decodes.

    python decode_ref.py FILE SHAPES.json REPS THREADS
Prints one JSON line: seconds per full decode (best of REPS) and per-parameter checksums.
"""
import json
import os
import struct
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "reference"))
from demo_codec import CompressDCT, TransformDCT  # noqa: E402

DTYPES = {"I16": torch.int16, "U8": torch.uint8, "F32": torch.float32, "I32": torch.int32}


def read_safetensors(path):
    data = open(path, "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    body = memoryview(data)[8 + n:]
    tensors = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        s, t = e["data_offsets"]
        tensors[name] = torch.frombuffer(bytearray(body[s:t]), dtype=DTYPES[e["dtype"]]).reshape(e["shape"])
    return header.get("__metadata__", {}), tensors


def main():
    path, shapes_path, reps, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    torch.set_num_threads(threads)
    shapes = json.load(open(shapes_path))  # [[name, shape], ...]
    transform = TransformDCT([s for _, s in shapes], 64)
    compress = CompressDCT(use_quantization=True, quantization_bins=256, quantization_range=6)
    best = float("inf")
    sums = None
    for _ in range(reps):
        t0 = time.perf_counter()
        _, tensors = read_safetensors(path)
        out = []
        for name, shape in shapes:
            p = torch.zeros(shape)
            idx = tensors[name + ".idxs"]
            codes = tensors[name + ".vals"]
            q = tensors[name + ".quant"]
            qp = (q[0], float(q[1]), 128, q[2:], torch.float32)
            xshape = transform.encode(p).shape if len(shape) > 1 else (shape[0] // transform.shape_dict[shape[0]], transform.shape_dict[shape[0]])
            totalk = xshape[-1] * (xshape[-2] if len(xshape) > 2 else 1)
            dense = transform.decode(compress.decompress(p, idx, codes, xshape, totalk, qp))
            out.append(dense)
        best = min(best, time.perf_counter() - t0)
        sums = [[float(d.abs().sum()), float(d.pow(2).sum())] for d in out]
    print(json.dumps({"seconds": best, "sums": sums}))


if __name__ == "__main__":
    main()
