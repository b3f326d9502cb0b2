#!/usr/bin/python3
"""bench/torch_step.py: the PyTorch peer for `dokja bench step`.

Runs training steps (forward, backward, AdamW) of the same Llama-family model as
dokja (plain PyTorch, fp32, no transformers library) on random tokens and prints one
JSON line: {"tokens_per_s", "step_s", "threads", "torch", "params"}.

usage: bench/torch_step.py --config CONFIG.json --batch B --seq T --steps N [--threads N] [--warmup W]
Give PyTorch its best: run it with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset and
OMP_WAIT_POLICY=PASSIVE (bench/step.sh does).
"""
import argparse, json, math, time

import torch
import torch.nn.functional as F


class Llama(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        D, H, KV = c["hidden_size"], c["num_attention_heads"], c.get("num_key_value_heads", c["num_attention_heads"])
        Fd, V, L = c["intermediate_size"], c["vocab_size"], c["num_hidden_layers"]
        self.H, self.KV, self.hd, self.eps = H, KV, D // H, c.get("rms_norm_eps", 1e-6)
        bias = c.get("attention_bias", False)
        self.embed = torch.nn.Embedding(V, D)
        self.layers = torch.nn.ModuleList()
        for _ in range(L):
            m = torch.nn.Module()
            m.n1 = torch.nn.Parameter(torch.ones(D))
            m.q = torch.nn.Linear(D, H * self.hd, bias=bias)
            m.k = torch.nn.Linear(D, KV * self.hd, bias=bias)
            m.v = torch.nn.Linear(D, KV * self.hd, bias=bias)
            m.o = torch.nn.Linear(H * self.hd, D, bias=False)
            m.n2 = torch.nn.Parameter(torch.ones(D))
            m.gate = torch.nn.Linear(D, Fd, bias=False)
            m.up = torch.nn.Linear(D, Fd, bias=False)
            m.down = torch.nn.Linear(Fd, D, bias=False)
            self.layers.append(m)
        self.norm = torch.nn.Parameter(torch.ones(D))
        self.tied = c.get("tie_word_embeddings", False)
        self.head = None if self.tied else torch.nn.Linear(D, V, bias=False)
        theta = c.get("rope_theta", 10000.0)
        T = c.get("max_position_embeddings", 2048)
        inv = theta ** (-torch.arange(0, self.hd, 2, dtype=torch.float64) / self.hd)
        ang = torch.arange(T, dtype=torch.float64)[:, None] * inv[None, :]
        self.register_buffer("cos", torch.cat([ang.cos(), ang.cos()], -1).float())
        self.register_buffer("sin", torch.cat([ang.sin(), ang.sin()], -1).float())

    def rms(self, x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * w

    def rope(self, x, S):
        c, s = self.cos[:S], self.sin[:S]
        h = x.shape[-1] // 2
        rot = torch.cat([-x[..., h:], x[..., :h]], -1)
        return x * c + rot * s

    def forward(self, ids, targets):
        B, S = ids.shape
        x = self.embed(ids)
        for m in self.layers:
            h = self.rms(x, m.n1)
            q = m.q(h).view(B, S, self.H, self.hd).transpose(1, 2)
            k = m.k(h).view(B, S, self.KV, self.hd).transpose(1, 2)
            v = m.v(h).view(B, S, self.KV, self.hd).transpose(1, 2)
            q, k = self.rope(q, S), self.rope(k, S)
            rep = self.H // self.KV
            if rep > 1:
                k, v = k.repeat_interleave(rep, 1), v.repeat_interleave(rep, 1)
            a = F.scaled_dot_product_attention(q, k, v, is_causal=True) if hasattr(F, "scaled_dot_product_attention") else None
            if a is None:
                att = (q @ k.transpose(-1, -2)) / math.sqrt(self.hd)
                att = att.masked_fill(torch.ones(S, S, dtype=torch.bool).triu(1), float("-inf")).softmax(-1)
                a = att @ v
            x = x + m.o(a.transpose(1, 2).reshape(B, S, -1))
            h = self.rms(x, m.n2)
            x = x + m.down(F.silu(m.gate(h)) * m.up(h))
        x = self.rms(x, self.norm)
        logits = x @ self.embed.weight.t() if self.tied else self.head(x)
        return F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--seq", type=int, required=True)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    c = json.load(open(a.config))
    model = Llama(c)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.95), weight_decay=0.1)
    V = c["vocab_size"]
    ids = torch.randint(0, V, (a.batch, a.seq))
    tg = torch.randint(0, V, (a.batch, a.seq))

    def step():
        opt.zero_grad(set_to_none=True)
        loss = model(ids, tg)
        loss.backward()
        opt.step()

    for _ in range(a.warmup):
        step()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        step()
    dt = (time.perf_counter() - t0) / a.steps
    print(json.dumps({"tokens_per_s": a.batch * a.seq / dt, "step_s": dt, "threads": a.threads,
                      "torch": torch.__version__, "params": sum(p.numel() for p in model.parameters())}))


if __name__ == "__main__":
    main()
