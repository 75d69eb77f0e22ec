"""Writes real `torch.save` files for tests/torch_files.rs: reference-layout gradients with
random contents (and their decode in PyTorch, as the reference validator does it), and
hostile archives that would run code or exhaust memory if loaded carelessly.

    python torch_files.py paper SPEC.json      # {"shapes": [[name, shape]...], "out", "dense", "seed", "quant", "window", "topk"}
    python torch_files.py decode SPEC.json     # {"shapes", "file", "dense", "quant", "window", "global_step"}
    python torch_files.py hostile KIND OUT MARKER
"""
import io
import json
import os
import pickle
import struct
import sys
import zipfile

import torch

sys.path.insert(0, os.path.dirname(__file__))
from demo_codec import CompressDCT, TransformDCT  # noqa: E402


def paper(spec):
    torch.manual_seed(spec["seed"])
    torch.set_num_threads(1)
    shapes = spec["shapes"]
    quant = spec["quant"]
    transform = TransformDCT([s for _, s in shapes], 64)
    compress = CompressDCT(use_quantization=quant, quantization_bins=256, quantization_range=6)
    sd = {}
    dense = []
    for name, shape in shapes:
        x = torch.randn(shape) * (0.5 + torch.rand(1).item())
        idx, val, xshape, totalk, qp = compress.compress(transform.encode(x), spec["topk"])
        sd[name + "idxs"] = idx
        sd[name + "vals"] = val
        sd[name + "quant_params"] = qp
        p = torch.zeros(shape)
        dense.append(transform.decode(compress.decompress(transform.encode(p), idx, val, xshape, totalk, qp)))
    sd["metadata"] = {"pages_info": [("HuggingFaceFW_fineweb-edu-score-2", 1024 * i, "train") for i in range(3)],
                      "window": spec["window"]}
    torch.save({"state_dict": sd, "global_step": spec["global_step"]}, spec["out"])
    with open(spec["dense"], "wb") as f:
        for d in dense:
            f.write(d.contiguous().to(torch.float32).numpy().tobytes())


def pack12(idx):
    """The later layout's index packing: pairs of 12-bit indices in 3 bytes, flat."""
    flat = idx.flatten().to(torch.int32)
    assert flat.numel() % 2 == 0 and int(flat.max()) < 4096
    a, b = flat[0::2], flat[1::2]
    out = torch.zeros(flat.numel() // 2 * 3, dtype=torch.uint8)
    out[0::3] = (a & 0xFF).to(torch.uint8)
    out[1::3] = (((a >> 8) & 0x0F) | ((b & 0x0F) << 4)).to(torch.uint8)
    out[2::3] = ((b >> 4) & 0xFF).to(torch.uint8)
    return out


def later(spec):
    """The later layout (no DCT: top-k of each 64x64 chunk itself, 12-bit packed indices,
    4-bin codes) with random contents, and its decode."""
    torch.manual_seed(spec["seed"])
    torch.set_num_threads(1)
    shapes = spec["shapes"]
    transform = TransformDCT([s for _, s in shapes], 64)
    compress = CompressDCT(use_quantization=True, quantization_bins=4, quantization_range=6)
    sd = {}
    dense = []
    for name, shape in shapes:
        x = torch.randn(shape)
        if len(shape) == 2:
            h, w = transform.shape_dict[shape[0]], transform.shape_dict[shape[1]]
            chunks = x.reshape(shape[0] // h, h, shape[1] // w, w).permute(0, 2, 1, 3).contiguous()
        else:
            w = transform.shape_dict[shape[0]]
            chunks = x.reshape(-1, w)
        idx, val, xshape, totalk, qp = compress.compress(chunks, spec["topk"])
        sd[name + "idxs"] = pack12(idx)
        sd[name + "vals"] = val
        sd[name + "quant_params"] = qp
        c = compress.decompress(torch.zeros(xshape), idx, val, xshape, totalk, qp)
        if len(shape) == 2:
            c = c.permute(0, 2, 1, 3).reshape(shape)
        else:
            c = c.reshape(shape)
        dense.append(c)
    sd["metadata"] = {"window": spec["window"], "sample_digest": "00" * 16, "sample_count": 3}
    torch.save({"state_dict": sd, "global_step": spec["global_step"]}, spec["out"])
    with open(spec["dense"], "wb") as f:
        for d in dense:
            f.write(d.contiguous().to(torch.float32).numpy().tobytes())


def decode(spec):
    """Loads a reference gradient as the reference validator would (weights_only) and decodes it."""
    torch.set_num_threads(1)
    shapes = spec["shapes"]
    transform = TransformDCT([s for _, s in shapes], 64)
    compress = CompressDCT(use_quantization=spec["quant"], quantization_bins=256, quantization_range=6)
    obj = torch.load(spec["file"], weights_only=True)
    sd = obj["state_dict"]
    assert sd["metadata"]["window"] == spec["window"], sd["metadata"]
    assert obj["global_step"] == spec["global_step"], obj["global_step"]
    with open(spec["dense"], "wb") as f:
        for name, shape in shapes:
            p = torch.zeros(shape)
            xshape = transform.encode(p).shape
            totalk = xshape[-1] * (xshape[-2] if len(xshape) > 2 else 1)
            x = compress.decompress(p, sd[name + "idxs"], sd[name + "vals"], xshape, totalk, sd[name + "quant_params"])
            f.write(transform.decode(x).contiguous().to(torch.float32).numpy().tobytes())


class Evil:
    def __init__(self, fn, arg):
        self.fn, self.arg = fn, arg

    def __reduce__(self):
        return (self.fn, (self.arg,))


class Arbitrary:
    """An arbitrary class: unpickling it would import this module and call it."""

    def __reduce__(self):
        return (Arbitrary, ())


def tensor_pickle(storage_numel, offset, size, stride, key="0"):
    """A pickle of {"x": tensor} whose storage and view are stated by hand."""
    out = io.BytesIO()
    out.write(b"\x80\x02}q\x00X\x01\x00\x00\x00xq\x01ctorch._utils\n_rebuild_tensor_v2\nq\x02(")
    out.write(b"(X\x07\x00\x00\x00storagectorch\nFloatStorage\n")
    out.write(b"X" + struct.pack("<I", len(key)) + key.encode())
    out.write(b"X\x03\x00\x00\x00cpu")
    out.write(b"\x8a\x08" + struct.pack("<q", storage_numel))
    out.write(b"tQ")
    out.write(b"\x8a\x08" + struct.pack("<q", offset))
    out.write(b"(" + b"".join(b"\x8a\x08" + struct.pack("<q", s) for s in size) + b"t")
    out.write(b"(" + b"".join(b"\x8a\x08" + struct.pack("<q", s) for s in stride) + b"t")
    out.write(b"\x89ccollections\nOrderedDict\n)Rtq\x03Rs.")
    return out.getvalue()


def archive(path, pkl, storages, compress=False):
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", method) as z:
        z.writestr("archive/data.pkl", pkl)
        z.writestr("archive/byteorder", "little")
        for key, data in storages.items():
            z.writestr("archive/data/" + key, data)
        z.writestr("archive/version", "3\n")


def hostile(kind, out, marker):
    cmd = "touch " + marker
    if kind == "os_system":
        torch.save({"state_dict": {"x": Evil(os.system, cmd)}}, out)
    elif kind == "builtins_eval":
        torch.save({"state_dict": {"x": Evil(eval, "__import__('os').system(%r)" % cmd)}}, out)
    elif kind == "arbitrary_class":
        torch.save({"state_dict": {"x": Arbitrary()}}, out)
    elif kind == "recursive":
        loop = []
        loop.append(loop)
        torch.save({"state_dict": {"x": loop}}, out)
    elif kind == "offset_past_data":
        archive(out, tensor_pickle(4, 3, [4], [1]), {"0": b"\0" * 16})
    elif kind == "huge_storage":
        # 10 GB declared for a 16-byte entry.
        archive(out, tensor_pickle(10 * 2**30 // 4, 0, [10 * 2**30 // 4], [1]), {"0": b"\0" * 16})
    elif kind == "zip_bomb":
        # 1 GiB of zeros deflates to about a megabyte.
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("archive/data.pkl", tensor_pickle(4, 0, [4], [1]))
            with z.open("archive/data/0", "w", force_zip64=True) as f:
                block = b"\0" * (1 << 20)
                for _ in range(1024):
                    f.write(block)
    else:
        raise SystemExit("unknown kind " + kind)


if __name__ == "__main__":
    if sys.argv[1] == "paper":
        paper(json.load(open(sys.argv[2])))
    elif sys.argv[1] == "later":
        later(json.load(open(sys.argv[2])))
    elif sys.argv[1] == "decode":
        decode(json.load(open(sys.argv[2])))
    else:
        hostile(*sys.argv[2:5])
