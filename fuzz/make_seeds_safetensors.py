#!/usr/bin/python3
"""Writes the seed corpus of fuzz/fuzz_safetensors.c: valid files of each dtype and
crafted invalid ones, each a few bytes away from a valid file so the fuzzer starts
next to every check (run once; the files are committed). Standard library only."""
import json, os, struct

D = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "safetensors")
os.makedirs(D, exist_ok=True)


def image(header, data=b"", pad=True, length=None):
    """8-byte little-endian header length, the header (padded with spaces), the data."""
    h = header if isinstance(header, bytes) else json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    if pad:
        h += b" " * (-len(h) % 8)
    n = len(h) if length is None else length
    return struct.pack("<Q", n) + h + data


def t(dtype, shape, b, e):
    return {"dtype": dtype, "shape": shape, "data_offsets": [b, e]}


seeds = {
    # valid
    "f32": image({"__metadata__": {"format": "pt"}, "w": t("F32", [2, 2], 0, 16)}, struct.pack("<4f", 1, 2, 3, 4)),
    "bf16": image({"a": t("BF16", [3], 0, 6), "b": t("F32", [1], 6, 10)}, b"\x80\x3f\x00\x40\x00\xc0" + struct.pack("<f", 1)),
    "f16_unpadded": image({"h": t("F16", [2], 0, 4)}, b"\x00\x3c\x01\x00", pad=False),
    "f16_special": image({"h": t("F16", [2, 3], 0, 12)}, struct.pack("<6H", 0x7C00, 0xFC00, 0x7E00, 0x03FF, 0x8001, 0x7BFF)),
    "empty_tensor": image({"z": t("F32", [0, 5], 0, 0), "w": t("F32", [1], 0, 4)}, struct.pack("<f", 7)),
    "empties_shared": image({"a": t("F16", [1], 0, 2), "z1": t("BF16", [0], 2, 2), "z2": t("F32", [3, 0], 2, 2),
                             "b": t("F32", [], 2, 6), "z3": t("F16", [0], 6, 6)}, b"\x00\x3c" + struct.pack("<f", 2)),
    "unicode": image({"__metadata__": {"k\"q": "v\\n", "한": "글"}, "층.\"가중치\"": t("F32", [1, 1, 1, 1, 1, 1, 1, 2], 0, 8)},
                     struct.pack("<2f", -1, 0.5)),
    "no_tensors": image({}),
    "meta_only": image({"__metadata__": {"k": "v", "한": "글"}}),
    # invalid, one check each
    "gap": image({"w": t("F32", [1], 4, 8)}, b"\0" * 8),
    "gap_between": image({"a": t("F32", [1], 0, 4), "b": t("F32", [1], 8, 12)}, b"\0" * 12),
    "overlap": image({"a": t("F32", [2], 0, 8), "b": t("F32", [1], 4, 8)}, b"\0" * 8),
    "trailing": image({"w": t("F32", [1], 0, 4)}, b"\0" * 12),
    "truncated": image({"w": t("F32", [4], 0, 16)}, b"\0" * 16)[:-5],
    "bad_dtype": image({"w": t("I8", [4], 0, 4)}, b"\0" * 4),
    "overflow": image({"w": t("F32", [2**40, 2**40], 0, 4)}, b"\0" * 4),
    "bytes_overflow": image({"w": t("F32", [2**62], 0, 0)}),
    "end_before_begin": image({"w": t("F32", [1], 4, 0)}, b"\0" * 4),
    "size_mismatch": image({"w": t("BF16", [3], 0, 8)}, b"\0" * 8),
    "nine_dims": image({"w": t("F32", [1] * 9, 0, 4)}, b"\0" * 4),
    "extra_field": image({"w": dict(t("F32", [1], 0, 4), x=1)}, b"\0" * 4),
    "float_offsets": image(b'{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4.0]}}', b"\0" * 4),
    "dup_keys": image(b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', b"\0" * 4),
    "bad_meta": image({"__metadata__": {"k": 1}}),
    "empty_name": image({"": t("F32", [1], 0, 4)}, b"\0" * 4),
    "not_object": image([1, 2]),
    "long_header": image({}, length=10**9),
    "invalid_utf8": image(b'{"\xff":{}}'),
    "short": b"\x01\x02\x03",
}
for name, data in seeds.items():
    with open(os.path.join(D, name), "wb") as f:
        f.write(data)
print(f"wrote {len(seeds)} seeds to {D}")
