"""Side-by-side reference for benches/evaluate.rs: the reference validator's evaluation of
peers (Templar v0.2.88 validator.py, LossScore): for each peer a deep copy of the model per
data set, the peer's update decoded and applied as θ − step·sign(decode), and four loss passes
(own and random data, before and after), on the same checkpoint, files and batches gauntlet
uses. The model is a plain PyTorch LlamaForCausalLM with Hugging Face's parameter names.

    python evaluate_ref.py SPEC.json
SPEC: {"checkpoint", "config", "shapes", "step", "eos", "threads",
       "random": "rand.i64", "peers": [{"uid", "file", "own": "own.i64"}], "batch": [b, t]}
Prints one JSON line: seconds per peer and each peer's figures.
"""
import copy
import json
import math
import os
import struct
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "reference"))
from demo_codec import CompressDCT, TransformDCT  # noqa: E402
from decode_ref import read_safetensors  # noqa: E402


class RMSNorm(nn.Module):
    def __init__(self, n, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.eps = eps

    def forward(self, x):
        dtype = x.dtype
        x = x.float()
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x.to(dtype)


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        h, self.nh, self.nkv = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"]
        self.hd = h // self.nh
        self.q_proj = nn.Linear(h, h, bias=False)
        self.k_proj = nn.Linear(h, self.nkv * self.hd, bias=False)
        self.v_proj = nn.Linear(h, self.nkv * self.hd, bias=False)
        self.o_proj = nn.Linear(h, h, bias=False)

    def forward(self, x, cos, sin):
        b, t, h = x.shape
        q = self.q_proj(x).view(b, t, self.nh, self.hd).transpose(1, 2)
        k = self.k_proj(x).view(b, t, self.nkv, self.hd).transpose(1, 2)
        v = self.v_proj(x).view(b, t, self.nkv, self.hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=self.nkv != self.nh)
        return self.o_proj(y.transpose(1, 2).contiguous().view(b, t, h))


class MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        h, i = c["hidden_size"], c["intermediate_size"]
        self.gate_proj = nn.Linear(h, i, bias=False)
        self.up_proj = nn.Linear(h, i, bias=False)
        self.down_proj = nn.Linear(i, h, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self_attn = Attention(c)
        self.mlp = MLP(c)
        self.input_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.post_attention_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])

    def forward(self, x, cos, sin):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin)
        return x + self.mlp(self.post_attention_layernorm(x))


class Inner(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed_tokens = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.layers = nn.ModuleList([Layer(c) for _ in range(c["num_hidden_layers"])])
        self.norm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])


class LlamaForCausalLM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.model = Inner(c)
        self.lm_head = nn.Linear(c["hidden_size"], c["vocab_size"], bias=False)
        dim = c["hidden_size"] // c["num_attention_heads"]
        inv = 1.0 / (c["rope_theta"] ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim))
        freqs = torch.outer(torch.arange(c["max_position_embeddings"], dtype=torch.float32), inv.float())
        emb = torch.cat([freqs, freqs], dim=-1)
        self.register_buffer("cos", emb.cos(), persistent=False)
        self.register_buffer("sin", emb.sin(), persistent=False)

    def loss(self, ids, eos):
        t = ids.shape[1]
        x = self.model.embed_tokens(ids)
        for layer in self.model.layers:
            x = layer(x, self.cos[:t], self.sin[:t])
        logits = self.lm_head(self.model.norm(x)).float()
        labels = ids.masked_fill(ids == eos, -100)
        return F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1), ignore_index=-100)


def batches(path, shape):
    data = bytearray(open(path, "rb").read())
    t = torch.frombuffer(data, dtype=torch.int64)
    return list(t.view(-1, shape[0], shape[1]))


def main():
    spec = json.load(open(sys.argv[1]))
    torch.set_num_threads(spec.get("threads", 1))
    torch.set_grad_enabled(False)
    model = LlamaForCausalLM(spec["config"])
    _, weights = read_safetensors(spec["checkpoint"])
    model.load_state_dict({k: v.clone() for k, v in weights.items()})
    shapes = spec["shapes"]
    transform = TransformDCT([s for _, s in shapes], 64)
    compress = CompressDCT(use_quantization=True, quantization_bins=256, quantization_range=6)
    step, eos, shape = spec["step"], spec["eos"], spec["batch"]
    random_batches = batches(spec["random"], shape)

    def total_loss(m, bs):
        return sum(float(m.loss(b.unsqueeze(0) if b.dim() == 1 else b, eos)) for b in bs)

    def apply(m, tensors):
        params = dict(m.named_parameters())
        for name, s in shapes:
            p = params[name]
            q = tensors[name + ".quant"]
            qp = (q[0], float(q[1]), 128, q[2:], torch.float32)
            xshape = transform.encode(p.data).shape
            totalk = xshape[-1] * (xshape[-2] if len(xshape) > 2 else 1)
            dense = transform.decode(compress.decompress(p.data, tensors[name + ".idxs"], tensors[name + ".vals"], xshape, totalk, qp))
            p.data.sub_(step * dense.sign())

    out = []
    t0 = time.perf_counter()
    for peer in spec["peers"]:
        own = batches(peer["own"], shape)
        _, tensors = read_safetensors(peer["file"])
        own_before = total_loss(model, own)
        rand_before = total_loss(model, random_batches)
        m_own = copy.deepcopy(model)
        apply(m_own, tensors)
        own_after = total_loss(m_own, own)
        del m_own
        m_rand = copy.deepcopy(model)
        apply(m_rand, tensors)
        rand_after = total_loss(m_rand, random_batches)
        del m_rand
        score = (rand_before - rand_after) / rand_before
        own_imp = (own_before - own_after) / own_before
        out.append({"uid": peer["uid"], "own_before": own_before, "own_after": own_after, "rand_before": rand_before,
                    "rand_after": rand_after, "score": score, "indicator": 1 if own_imp > score else -1})
    seconds = (time.perf_counter() - t0) / len(spec["peers"])
    print(json.dumps({"seconds_per_peer": seconds, "peers": out}))


if __name__ == "__main__":
    main()
