#!/usr/bin/python3
"""bench/torch_generate.py: the PyTorch peer for `dokja bench generate`.

The same Llama-family model as bench/torch_step.py (plain PyTorch, fp32), with a
key/value cache: a random prompt of P tokens in one pass (best of 3), then N tokens
decoded one at a time (greedy). Prints one JSON line:
{"prefill_tokens_per_s", "decode_tokens_per_s", "threads", "torch"}.

usage: bench/torch_generate.py --config CONFIG.json --prompt-len P --gen N [--threads N]
"""
import argparse, json, math, os, sys, time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_step import Llama  # noqa: E402


def forward_kv(model, ids, cache, pos):
    """Logits of the last position; appends this chunk's keys and values to cache."""
    B, S = ids.shape
    x = model.embed(ids)
    c, s = model.cos[pos:pos + S], model.sin[pos:pos + S]

    def rope(t):
        h = t.shape[-1] // 2
        return t * c + torch.cat([-t[..., h:], t[..., :h]], -1) * s

    for li, m in enumerate(model.layers):
        h = model.rms(x, m.n1)
        q = rope(m.q(h).view(B, S, model.H, model.hd).transpose(1, 2))
        k = rope(m.k(h).view(B, S, model.KV, model.hd).transpose(1, 2))
        v = m.v(h).view(B, S, model.KV, model.hd).transpose(1, 2)
        if li < len(cache):
            k = torch.cat([cache[li][0], k], 2)
            v = torch.cat([cache[li][1], v], 2)
            cache[li] = (k, v)
        else:
            cache.append((k, v))
        rep = model.H // model.KV
        kk, vv = (k.repeat_interleave(rep, 1), v.repeat_interleave(rep, 1)) if rep > 1 else (k, v)
        att = (q @ kk.transpose(-1, -2)) / math.sqrt(model.hd)
        if S > 1:  # the prompt: causal within it (it starts the cache at pos 0)
            att = att.masked_fill(torch.ones(S, kk.shape[2], dtype=torch.bool).triu(1 + pos), float("-inf"))
        a = att.softmax(-1) @ vv
        x = x + m.o(a.transpose(1, 2).reshape(B, S, -1))
        h = model.rms(x, m.n2)
        x = x + m.down(F.silu(m.gate(h)) * m.up(h))
    x = model.rms(x[:, -1:], model.norm)
    return x @ model.embed.weight.t() if model.tied else model.head(x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--prompt-len", type=int, default=128)
    ap.add_argument("--gen", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    c = json.load(open(a.config))
    c["max_position_embeddings"] = max(c.get("max_position_embeddings", 2048), a.prompt_len + a.gen)
    model = Llama(c).eval()
    ids = torch.randint(0, c["vocab_size"], (1, a.prompt_len))
    with torch.inference_mode():
        best = 1e30
        for _ in range(3):
            cache = []
            t0 = time.perf_counter()
            logits = forward_kv(model, ids, cache, 0)
            best = min(best, time.perf_counter() - t0)
        t0 = time.perf_counter()
        for i in range(a.gen):
            nxt = logits[:, -1].argmax(-1, keepdim=True)
            logits = forward_kv(model, nxt, cache, a.prompt_len + i)
        dec = time.perf_counter() - t0
    print(json.dumps({"prefill_tokens_per_s": a.prompt_len / best, "decode_tokens_per_s": a.gen / dec,
                      "threads": a.threads, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
