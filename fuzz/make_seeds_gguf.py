#!/usr/bin/python3
"""Writes the seed corpus of fuzz/fuzz_gguf.c: small valid GGUF files with every
value type and the tensor types dokja reads, and invalid ones a few bytes away from
them (run once; the files are committed). Standard library only."""
import os, struct

D = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "gguf")
os.makedirs(D, exist_ok=True)


def s(x):
    b = x.encode() if isinstance(x, str) else x
    return struct.pack("<Q", len(b)) + b


def kv(key, vtype, payload):
    return s(key) + struct.pack("<I", vtype) + payload


def tinfo(name, ne, ttype, off):
    return s(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<Q", n) for n in ne) + struct.pack("<IQ", ttype, off)


def gguf(kvs, tensors, data, version=3, align=32):
    h = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kvs)) + b"".join(kvs) + b"".join(tensors)
    h += b"\0" * (-len(h) % align)
    return h + data


KVS = [
    kv("general.architecture", 8, s("llama")),
    kv("u8", 0, b"\x07"), kv("i8", 1, b"\xff"), kv("u16", 2, b"\x01\x02"), kv("i16", 3, b"\xff\xff"),
    kv("u32", 4, struct.pack("<I", 5)), kv("i32", 5, struct.pack("<i", -5)), kv("f32", 6, struct.pack("<f", 0.5)),
    kv("bool", 7, b"\x01"), kv("u64", 10, struct.pack("<Q", 9)), kv("i64", 11, struct.pack("<q", -9)),
    kv("f64", 12, struct.pack("<d", 1e-5)),
    kv("tokenizer.ggml.tokens", 9, struct.pack("<IQ", 8, 3) + s("a") + s("\u0120b") + s("")),
    kv("tokenizer.ggml.token_type", 9, struct.pack("<IQ", 5, 3) + struct.pack("<3i", 1, 3, 5)),
]
f32 = struct.pack("<8f", *range(8))
f16 = struct.pack("<8H", 0x3C00, 0xC000, 0x7BFF, 0x0001, 0x8000, 0x7C00, 0x7E00, 0x3555)
q8 = struct.pack("<H", 0x2C00) + bytes(range(32))
seeds = {
    "all_types": gguf(KVS, [tinfo("a", [8], 0, 0), tinfo("b", [4, 2], 1, 32), tinfo("c", [8], 30, 64), tinfo("q", [32], 8, 96)],
                      f32 + b"\0" * 16 + f16 + f16 + b"\0" * 16 + q8 + b"\0" * 30),
    "v2": gguf(KVS[:3], [tinfo("a", [8], 0, 0)], f32, version=2),
    "align8": gguf([kv("general.alignment", 4, struct.pack("<I", 8))], [tinfo("a", [2], 0, 0), tinfo("b", [2], 0, 8)], f32[:16], align=8),
    "q4k": gguf([], [tinfo("k", [256], 12, 0)], b"\0" * 144),
    "no_tensors": gguf(KVS, [], b""),
    "overlap": gguf([kv("general.alignment", 4, struct.pack("<I", 8))], [tinfo("a", [4], 0, 0), tinfo("b", [2], 0, 8)], f32, align=8),
    "dup_key": gguf([KVS[1], KVS[1]], [], b""),
    "dup_tensor": gguf([], [tinfo("a", [8], 0, 0), tinfo("a", [8], 0, 32)], f32 + b"\0" * 32 + f32),
    "bad_type": gguf([], [tinfo("a", [8], 5, 0)], f32),
    "truncated": gguf(KVS, [tinfo("a", [8], 0, 0)], f32)[:-5],
}
for name, data in seeds.items():
    with open(os.path.join(D, name), "wb") as f:
        f.write(data)
