"""The reference network's pseudo-gradient codec, transcribed in plain PyTorch.

Templar v0.2.88 `src/tplr/compress.py` (adapted from bloc97/DeMo): `TransformDCT` with
FFT-based orthonormal DCT bases and einsum chunk transforms, `CompressDCT` top-k with 8-bit
quantisation, `batch_decompress` with per-chunk L2 normalisation and scatter-mean. Used by the
tests (tests/codec.rs) as the expected result and by benches/ as the side-by-side reference.

    python demo_codec.py SPEC.json [SPEC.json ...]
SPEC: {"shape": [...], "chunk_target": 64, "topk": 32, "bins": 256|0, "range": 6,
       "inputs": ["a.f32", ...], "out": "decoded.f32", "normalise": true, "mode": "roundtrip"|"batch"}
Each input is a raw little-endian f32 tensor of `shape`. "roundtrip" decodes each input's own
encoding (one output per input, concatenated); "batch" encodes every input and writes the one
combined batch_decompress + decode.
"""
import json
import math
import sys

import torch


def _get_divisors(n):
    return [d for d in range(1, n + 1) if n % d == 0]


def _get_smaller_split(n, close_to):
    all_divisors = _get_divisors(n)
    for ix, val in enumerate(all_divisors):
        if val == close_to:
            return val
        if val > close_to:
            if ix == 0:
                return val
            return all_divisors[ix - 1]
    return n


def _dct_fft_impl(v):
    return torch.view_as_real(torch.fft.fft(v, dim=1))


def _idct_irfft_impl(V):
    return torch.fft.irfft(torch.view_as_complex(V), n=V.shape[1], dim=1)


def _dct(x, norm=None):
    x_shape = x.shape
    N = x_shape[-1]
    x = x.contiguous().view(-1, N)
    v = torch.cat([x[:, ::2], x[:, 1::2].flip([1])], dim=1)
    Vc = _dct_fft_impl(v)
    k = -torch.arange(N, dtype=x.dtype, device=x.device)[None, :] * math.pi / (2 * N)
    W_r = torch.cos(k)
    W_i = torch.sin(k)
    V = Vc[:, :, 0] * W_r - Vc[:, :, 1] * W_i
    if norm == "ortho":
        V[:, 0] /= math.sqrt(N) * 2
        V[:, 1:] /= math.sqrt(N / 2) * 2
    V = 2 * V.view(*x_shape)
    return V


def _idct(X, norm=None):
    x_shape = X.shape
    N = x_shape[-1]
    X_v = X.contiguous().view(-1, x_shape[-1]) / 2
    if norm == "ortho":
        X_v[:, 0] *= math.sqrt(N) * 2
        X_v[:, 1:] *= math.sqrt(N / 2) * 2
    k = torch.arange(x_shape[-1], dtype=X.dtype, device=X.device)[None, :] * math.pi / (2 * N)
    W_r = torch.cos(k)
    W_i = torch.sin(k)
    V_t_r = X_v
    V_t_i = torch.cat([X_v[:, :1] * 0, -X_v.flip([1])[:, :-1]], dim=1)
    V_r = V_t_r * W_r - V_t_i * W_i
    V_i = V_t_r * W_i + V_t_i * W_r
    V = torch.cat([V_r.unsqueeze(2), V_i.unsqueeze(2)], dim=2)
    v = _idct_irfft_impl(V)
    x = v.new_zeros(v.shape)
    x[:, ::2] += v[:, : N - (N // 2)]
    x[:, 1::2] += v.flip([1])[:, : N // 2]
    return x.view(*x_shape)


class TransformDCT:
    def __init__(self, shapes, target_chunk, norm="ortho"):
        self.shape_dict = {}
        self.f_dict = {}
        self.b_dict = {}
        for shape in shapes:
            for s in shape:
                sc = _get_smaller_split(s, target_chunk)
                self.shape_dict[s] = sc
                if sc not in self.f_dict:
                    I = torch.eye(sc)
                    self.f_dict[sc] = _dct(I, norm=norm)
                    self.b_dict[sc] = _idct(I, norm=norm)

    def einsum_2d(self, x, b, d=None):
        if d is None:
            return torch.einsum("...ij, jb -> ...ib", x, b)
        return torch.einsum("...ijkl, jb, ld -> ...ikbd", x, b, d)

    def einsum_2d_t(self, x, b, d=None):
        if d is None:
            return torch.einsum("...ij, jb -> ...ib", x, b)
        return torch.einsum("...ijkl, kb, ld -> ...ibjd", x, b, d)

    @torch.no_grad()
    def encode(self, x):
        if len(x.shape) > 1:
            n1 = self.shape_dict[x.shape[0]]
            n2 = self.shape_dict[x.shape[1]]
            x = x.reshape(x.shape[0] // n1, n1, x.shape[1] // n2, n2)  # (y h) (x w) -> y h x w
            return self.einsum_2d(x, self.f_dict[n1], self.f_dict[n2])
        n1 = self.shape_dict[x.shape[0]]
        x = x.reshape(x.shape[0] // n1, n1)  # (x w) -> x w
        return self.einsum_2d(x, self.f_dict[n1])

    @torch.no_grad()
    def decode(self, x):
        if len(x.shape) > 2:
            n1 = x.shape[2]
            n2 = x.shape[3]
            x = self.einsum_2d_t(x, self.b_dict[n1], self.b_dict[n2])
            return x.reshape(x.shape[0] * x.shape[1], x.shape[2] * x.shape[3])  # y h x w -> (y h) (x w)
        n1 = x.shape[1]
        x = self.einsum_2d(x, self.b_dict[n1])
        return x.reshape(-1)  # x w -> (x w)


class CompressDCT:
    def __init__(self, use_quantization=True, quantization_bins=256, quantization_range=6):
        self.use_quantization = use_quantization
        self.n_bins = quantization_bins
        self.range_in_sigmas = quantization_range

    def _clamp_topk(self, x, topk):
        if topk > x.shape[-1]:
            topk = x.shape[-1]
        if topk < 1:
            topk = 1
        return topk

    @torch.no_grad()
    def compress(self, x, topk):
        xshape = x.shape
        if len(x.shape) > 2:
            x = x.reshape(x.shape[0], x.shape[1], -1)  # y x h w -> y x (h w)
        totalk = x.shape[-1]
        topk = self._clamp_topk(x, topk)
        idx_int64 = torch.topk(x.abs(), k=topk, dim=-1, largest=True, sorted=False).indices
        val = torch.gather(x, dim=-1, index=idx_int64)
        idx = idx_int64.to(torch.int16)
        quant_params = None
        if self.use_quantization:
            val, quant_params = self._quantize_values(val)
        return idx, val, xshape, totalk, quant_params

    @torch.no_grad()
    def decompress(self, p, idx, val, xshape, totalk, quantize_params=None):
        if self.use_quantization and quantize_params is not None:
            val = self._dequantize_values(val, quantize_params)
        x = torch.zeros(xshape, device=p.device, dtype=p.dtype)
        if len(xshape) > 2:
            x = x.reshape(xshape[0], xshape[1], -1)
        idx_int64 = idx.to(torch.int64)
        x.scatter_reduce_(dim=-1, index=idx_int64, src=val, reduce="mean", include_self=False).reshape(xshape)
        if len(x.shape) > 2:
            x = x.reshape(xshape)
        return x

    @torch.no_grad()
    def batch_decompress(self, p, idx, val, xshape, totalk, quantize_params=None, normalise=True):
        if quantize_params is not None and not isinstance(quantize_params, list):
            quantize_params = [quantize_params] * len(val)
        processed_vals = []
        for i in range(len(val)):
            v = val[i].to(p.device)
            if self.use_quantization and quantize_params and i < len(quantize_params):
                v = self._dequantize_values(v, quantize_params[i])
            if normalise:
                eps = 1e-8
                if len(v.shape) == 3:
                    l2_norm = torch.norm(v, p=2, dim=2, keepdim=True)
                    v = v / (l2_norm + eps)
                elif len(v.shape) == 2:
                    l2_norm = torch.norm(v, p=2, dim=1, keepdim=True)
                    v = v / (l2_norm + eps)
            processed_vals.append(v)
        idx_concat = torch.cat([i.to(p.device) for i in idx], dim=-1)
        val_concat = torch.cat(processed_vals, dim=-1).to(p.dtype)
        return self.decompress(p, idx_concat, val_concat, xshape, totalk, quantize_params=None)

    def _quantize_values(self, val):
        offset = self.n_bins // 2
        shift = val.mean()
        centered_val = val - shift
        if centered_val.numel() <= 1:
            std_unbiased = torch.tensor(0.0, device=val.device, dtype=val.dtype)
        else:
            std_unbiased = centered_val.norm() / math.sqrt(centered_val.numel() - 1)
        scale = self.range_in_sigmas * std_unbiased / self.n_bins
        if scale == 0 or torch.isnan(scale) or torch.isinf(scale):
            scale = torch.tensor(1.0, dtype=centered_val.dtype, device=val.device)
        centered_val = centered_val.to(torch.float32)
        quantized_val = (centered_val / scale + offset).round().clamp(0, self.n_bins - 1).to(torch.uint8)
        sums = torch.zeros(self.n_bins, dtype=torch.float32, device=val.device)
        counts = torch.zeros(self.n_bins, dtype=torch.float32, device=val.device)
        sums.scatter_add_(0, quantized_val.flatten().long(), centered_val.flatten())
        counts.scatter_add_(0, quantized_val.flatten().long(), torch.ones_like(centered_val.flatten()))
        lookup = torch.where(counts > 0, sums / counts, torch.zeros_like(sums))
        return quantized_val, (shift, float(scale), offset, lookup, val.dtype)

    def _dequantize_values(self, val, quant_params):
        shift, scale, offset, lookup, orig_dtype = quant_params
        deq = lookup[val.long()] + shift
        return deq.to(orig_dtype)


def read_f32(path, shape):
    with open(path, "rb") as f:
        data = bytearray(f.read())
    return torch.frombuffer(data, dtype=torch.float32).reshape(shape).clone()


def main():
    for path in sys.argv[1:]:
        run(json.load(open(path)))


def run(spec):
    torch.set_num_threads(int(spec.get("threads", 1)))
    shape = spec["shape"]
    bins = spec.get("bins", 256)
    transform = TransformDCT([shape], spec.get("chunk_target", 64))
    compress = CompressDCT(use_quantization=bins > 0, quantization_bins=max(bins, 2), quantization_range=spec.get("range", 6))
    p = torch.zeros(shape)
    xs = [read_f32(path, shape) for path in spec["inputs"]]
    encoded = [compress.compress(transform.encode(x), spec["topk"]) for x in xs]
    if spec.get("mode", "roundtrip") == "roundtrip":
        outs = [transform.decode(compress.decompress(transform.encode(p), idx, val, xshape, totalk, qp))
                for (idx, val, xshape, totalk, qp) in encoded]
    else:
        idx = [e[0] for e in encoded]
        val = [e[1] for e in encoded]
        qps = [e[4] for e in encoded] if bins > 0 else None
        xshape, totalk = encoded[0][2], encoded[0][3]
        outs = [transform.decode(compress.batch_decompress(transform.encode(p), idx, val, xshape, totalk, qps,
                                                           normalise=spec.get("normalise", True)))]
    with open(spec["out"], "wb") as f:
        for o in outs:
            f.write(o.contiguous().to(torch.float32).numpy().tobytes())
    if bins > 0 and "tables" in spec:
        with open(spec["tables"], "wb") as f:
            for e in encoded:
                shift, scale, offset, lookup, _ = e[4]
                f.write(torch.cat([torch.tensor([float(shift), scale]), lookup]).to(torch.float32).numpy().tobytes())


if __name__ == "__main__":
    main()
