#!/usr/bin/python3
"""tests/torch_reference.py: the PyTorch oracle for tests/test_torch_parity.c.

Builds tiny Llama-family models in plain PyTorch (no transformers library), mirroring
Hugging Face's LlamaForCausalLM: RMSNorm, rotate_half RoPE (cos/sin computed in
float64, cast to float32), grouped-query causal attention, optional q/k/v biases,
SwiGLU MLP, tied or untied head, mean cross-entropy with ignore index -100. For each
fixture it writes, under tests/fixtures/torch/<name>/:
  config.json           Hugging Face config
  model.safetensors     the weights (F32, Hugging Face names), written by this script
  batch.json            {"batch", "seq", "inputs", "targets"}
  expected.safetensors  "logits" [B*S, V], "loss" [1], "grad.<name>" for every parameter
Run with /usr/bin/python3 (Debian's python3-torch); deterministic: the same bytes on
every run. The C test needs only the files.
"""
import json, math, os, struct

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "torch")

FIXTURES = {
    "gqa": dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                intermediate_size=96, vocab_size=67, rope_theta=10000.0, rms_norm_eps=1e-5,
                tie_word_embeddings=False, attention_bias=False, batch=2, seq=9, seed=1),
    "tied_bias": dict(hidden_size=48, num_hidden_layers=2, num_attention_heads=3, num_key_value_heads=3,
                      intermediate_size=80, vocab_size=53, rope_theta=500000.0, rms_norm_eps=1e-6,
                      tie_word_embeddings=True, attention_bias=True, batch=3, seq=7, seed=2),
    "mqa": dict(hidden_size=32, num_hidden_layers=1, num_attention_heads=4, num_key_value_heads=1,
                intermediate_size=40, vocab_size=41, rope_theta=10000.0, rms_norm_eps=1e-5,
                tie_word_embeddings=False, attention_bias=False, batch=2, seq=6, seed=3),
}


def write_safetensors(path, tensors, meta=None):
    header, off, blobs = {}, 0, []
    if meta:
        header["__metadata__"] = meta
    for name, t in tensors:
        b = t.detach().contiguous().to(torch.float32).numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def param_names(c):
    names = ["model.embed_tokens.weight"]
    for l in range(c["num_hidden_layers"]):
        p = f"model.layers.{l}."
        names.append(p + "input_layernorm.weight")
        for x in "qkv":
            names.append(p + f"self_attn.{x}_proj.weight")
            if c["attention_bias"]:
                names.append(p + f"self_attn.{x}_proj.bias")
        names += [p + "self_attn.o_proj.weight", p + "post_attention_layernorm.weight",
                  p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight", p + "mlp.down_proj.weight"]
    names.append("model.norm.weight")
    if not c["tie_word_embeddings"]:
        names.append("lm_head.weight")
    return names


def make_weights(c, g):
    D, H, KV = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"]
    hd, F, V = D // H, c["intermediate_size"], c["vocab_size"]
    shapes = {"embed_tokens": (V, D), "q_proj.weight": (H * hd, D), "k_proj.weight": (KV * hd, D),
              "v_proj.weight": (KV * hd, D), "o_proj.weight": (D, H * hd), "gate_proj": (F, D),
              "up_proj": (F, D), "down_proj": (D, F), "lm_head": (V, D)}
    w = {}
    for n in param_names(c):
        if n.endswith("norm.weight"):
            w[n] = 1 + 0.1 * torch.randn(D, generator=g)
        elif n.endswith(".bias"):
            rows = H * hd if ".q_proj" in n else KV * hd
            w[n] = 0.05 * torch.randn(rows, generator=g)
        else:
            shape = next(s for k, s in shapes.items() if k in n)
            w[n] = 0.08 * torch.randn(*shape, generator=g)
    return {k: v.float().requires_grad_(True) for k, v in w.items()}


def rms(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def forward(c, w, ids, targets):
    B, S = ids.shape
    D, H, KV = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"]
    hd, eps = D // H, c["rms_norm_eps"]
    inv = c["rope_theta"] ** (-torch.arange(0, hd, 2, dtype=torch.float64) / hd)
    ang = torch.arange(S, dtype=torch.float64)[:, None] * inv[None, :]
    cos = torch.cat([ang.cos(), ang.cos()], -1).float()
    sin = torch.cat([ang.sin(), ang.sin()], -1).float()

    def rope(x):
        half = hd // 2
        return x * cos + torch.cat([-x[..., half:], x[..., :half]], -1) * sin

    x = w["model.embed_tokens.weight"][ids]
    mask = torch.ones(S, S, dtype=torch.bool).triu(1)
    for l in range(c["num_hidden_layers"]):
        p = f"model.layers.{l}."
        h = rms(x, w[p + "input_layernorm.weight"], eps)
        def lin(name, t, bias=True):
            y = t @ w[p + name + ".weight"].t()
            if c["attention_bias"] and bias:
                y = y + w[p + name + ".bias"]
            return y
        q = lin("self_attn.q_proj", h).view(B, S, H, hd).transpose(1, 2)
        k = lin("self_attn.k_proj", h).view(B, S, KV, hd).transpose(1, 2)
        v = lin("self_attn.v_proj", h).view(B, S, KV, hd).transpose(1, 2)
        q, k = rope(q), rope(k)
        k = k.repeat_interleave(H // KV, 1)
        v = v.repeat_interleave(H // KV, 1)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
        att = att.masked_fill(mask, float("-inf")).softmax(-1)
        a = (att @ v).transpose(1, 2).reshape(B, S, H * hd)
        x = x + a @ w[p + "self_attn.o_proj.weight"].t()
        h = rms(x, w[p + "post_attention_layernorm.weight"], eps)
        gate = h @ w[p + "mlp.gate_proj.weight"].t()
        up = h @ w[p + "mlp.up_proj.weight"].t()
        x = x + (torch.nn.functional.silu(gate) * up) @ w[p + "mlp.down_proj.weight"].t()
    x = rms(x, w["model.norm.weight"], eps)
    head = w["model.embed_tokens.weight"] if c["tie_word_embeddings"] else w["lm_head.weight"]
    logits = (x @ head.t()).reshape(B * S, -1)
    loss = torch.nn.functional.cross_entropy(logits, targets.reshape(-1), ignore_index=-100)
    return logits, loss


def self_check():
    """The oracle itself: its gradients agree with finite differences in float64."""
    c = dict(FIXTURES["gqa"], hidden_size=16, intermediate_size=24, vocab_size=11, seq=5)
    g = torch.Generator().manual_seed(0)
    w = {k: v.detach().double().requires_grad_(True) for k, v in make_weights(c, g).items()}
    ids = torch.randint(0, c["vocab_size"], (2, c["seq"]), generator=g)
    tg = torch.roll(ids, -1, 1)
    tg[:, -1] = -100
    names = list(w)
    def f(*ts):
        return forward(c, dict(zip(names, ts)), ids, tg)[1]
    ok = torch.autograd.gradcheck(f, tuple(w[n] for n in names), eps=1e-6, atol=1e-6)
    print("self-check: float64 gradcheck of the reference model:", "ok" if ok else "FAILED")


def main():
    torch.set_num_threads(1)
    self_check()
    for name, spec in FIXTURES.items():
        c = {k: v for k, v in spec.items() if k not in ("batch", "seq", "seed")}
        c.update({"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_act": "silu",
                  "max_position_embeddings": 64})
        g = torch.Generator().manual_seed(spec["seed"])
        w = make_weights(c, g)
        B, S = spec["batch"], spec["seq"]
        ids = torch.randint(0, c["vocab_size"], (B, S), generator=g)
        tg = torch.roll(ids, -1, 1)
        tg[:, -1] = -100
        flat = tg.view(-1)
        for i in torch.randperm(B * S - 1, generator=g)[:2].tolist():
            flat[i] = -100
        logits, loss = forward(c, w, ids, tg)
        loss.backward()
        d = os.path.join(OUT, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(c, f, indent=2, sort_keys=True)
            f.write("\n")
        with open(os.path.join(d, "batch.json"), "w") as f:
            json.dump({"batch": B, "seq": S, "inputs": ids.tolist(), "targets": tg.tolist()}, f)
            f.write("\n")
        names = param_names(c)
        write_safetensors(os.path.join(d, "model.safetensors"), [(n, w[n]) for n in names], {"format": "pt"})
        write_safetensors(os.path.join(d, "expected.safetensors"),
                          [("logits", logits), ("loss", loss.reshape(1))] +
                          [("grad." + n, w[n].grad) for n in names])
        print(f"{name}: loss {loss.item():.6f}, {len(names)} parameters -> {d}")
    print("torch", torch.__version__)


if __name__ == "__main__":
    main()
