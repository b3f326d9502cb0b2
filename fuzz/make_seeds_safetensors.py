#!/usr/bin/python3
"""Writes the seed corpus of fuzz/fuzz_safetensors.c: valid files of each dtype and
crafted invalid ones (run once; the files are committed)."""
import json, os, struct

D = os.path.join(os.path.dirname(__file__), "corpus", "safetensors")
os.makedirs(D, exist_ok=True)


def image(header, data=b"", pad=True, length=None):
    h = json.dumps(header, separators=(",", ":")).encode() if not isinstance(header, bytes) else header
    if pad:
        h += b" " * (-len(h) % 8)
    n = len(h) if length is None else length
    return struct.pack("<Q", n) + h + data


def t(dtype, shape, b, e):
    return {"dtype": dtype, "shape": shape, "data_offsets": [b, e]}


seeds = {
    "f32": image({"__metadata__": {"format": "pt"}, "w": t("F32", [2, 2], 0, 16)}, struct.pack("<4f", 1, 2, 3, 4)),
    "bf16": image({"a": t("BF16", [3], 0, 6), "b": t("F32", [1], 6, 10)}, b"\x80\x3f\x00\x40\x00\xc0" + struct.pack("<f", 1)),
    "f16_unpadded": image({"h": t("F16", [2], 0, 4)}, b"\x00\x3c\x01\x00", pad=False),
    "empty_tensor": image({"z": t("F32", [0, 5], 0, 0), "w": t("F32", [1], 0, 4)}, struct.pack("<f", 7)),
    "no_tensors": image({}),
    "meta_only": image({"__metadata__": {"k": "v", "한": "글"}}),
    "gap": image({"w": t("F32", [1], 4, 8)}, b"\0" * 8),
    "overlap": image({"a": t("F32", [2], 0, 8), "b": t("F32", [1], 4, 8)}, b"\0" * 8),
    "trailing": image({"w": t("F32", [1], 0, 4)}, b"\0" * 12),
    "bad_dtype": image({"w": t("I8", [4], 0, 4)}, b"\0" * 4),
    "overflow": image({"w": t("F32", [2**40, 2**40], 0, 4)}, b"\0" * 4),
    "end_before_begin": image({"w": t("F32", [1], 4, 0)}, b"\0" * 4),
    "dup_keys": image(b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', b"\0" * 4),
    "bad_meta": image({"__metadata__": {"k": 1}}),
    "not_object": image([1, 2]),
    "long_header": image({}, length=10**9),
    "truncated": image({"w": t("F32", [4], 0, 16)}, b"\0" * 16)[:-5],
    "invalid_utf8": image(b'{"\xff":{}}'),
    "short": b"\x01\x02\x03",
}
for name, data in seeds.items():
    with open(os.path.join(D, name), "wb") as f:
        f.write(data)
print(f"wrote {len(seeds)} seeds to {D}")
