#!/usr/bin/env python3
"""gen_spm_model_from_gguf.py GGUF OUT.model: a SentencePiece model file (the ModelProto
of sentencepiece_model.proto, written field by field) holding a GGUF "llama" vocabulary:
its pieces, scores and types, BPE with byte fallback, and Llama 2's normalizer spec
(identity, a dummy prefix, extra white space kept). Debian's spm_encode then encodes with
it as SentencePiece encodes with Llama 2's own tokenizer.model, whose pieces, scores and
types these are (llama.cpp's converter copies them from it). A reference-oracle fixture
script: tests/test_real_gguf.c compares dokja's ids on the GGUF with spm_encode's on the
model this writes (tests/fixtures/ollama/README.md). Needs only the standard library."""
import struct
import sys


def read_gguf_vocab(path):
    f = open(path, "rb").read()
    assert f[:4] == b"GGUF", "not a GGUF file"
    o = 8
    n_tensors, n_kv = struct.unpack_from("<QQ", f, o)
    o += 16

    def rstr(o):
        (n,) = struct.unpack_from("<Q", f, o)
        return f[o + 8:o + 8 + n], o + 8 + n

    scalar = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}

    def rval(t, o):
        if t == 8:
            return rstr(o)
        if t == 9:
            et, n = struct.unpack_from("<IQ", f, o)
            o += 12
            out = []
            for _ in range(n):
                v, o = rval(et, o)
                out.append(v)
            return out, o
        (v,) = struct.unpack_from(scalar[t], f, o)
        return v, o + struct.calcsize(scalar[t])

    kv = {}
    for _ in range(n_kv):
        k, o = rstr(o)
        (t,) = struct.unpack_from("<I", f, o)
        v, o = rval(t, o + 4)
        kv[k.decode()] = v
    assert kv["tokenizer.ggml.model"] == b"llama", "not a SentencePiece (llama) vocabulary"
    return kv["tokenizer.ggml.tokens"], kv["tokenizer.ggml.scores"], kv["tokenizer.ggml.token_type"], kv


def varint(x):
    x &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = x & 0x7F
        x >>= 7
        out.append(b | (0x80 if x else 0))
        if not x:
            return bytes(out)


def field_varint(num, v):
    return varint(num << 3 | 0) + varint(v)


def field_bytes(num, b):
    return varint(num << 3 | 2) + varint(len(b)) + b


def field_float(num, x):
    return varint(num << 3 | 5) + struct.pack("<f", x)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: gen_spm_model_from_gguf.py GGUF OUT.model")
    tokens, scores, types, kv = read_gguf_vocab(sys.argv[1])
    model = bytearray()
    for piece, score, typ in zip(tokens, scores, types):
        # SentencePiece: piece = 1, score = 2, type = 3 (the same numbering as GGUF's)
        model += field_bytes(1, field_bytes(1, piece) + field_float(2, score) + field_varint(3, typ))
    unk = kv.get("tokenizer.ggml.unknown_token_id", 0)
    bos = kv.get("tokenizer.ggml.bos_token_id", 1)
    eos = kv.get("tokenizer.ggml.eos_token_id", 2)
    # TrainerSpec: model_type = 3 (BPE = 2), vocab_size = 4, byte_fallback = 35,
    # unk_id = 40, bos_id = 41, eos_id = 42, pad_id = 43 (-1: none)
    trainer = (field_varint(3, 2) + field_varint(4, len(tokens)) + field_varint(35, 1) + field_varint(40, unk)
               + field_varint(41, bos) + field_varint(42, eos) + field_varint(43, -1))
    # NormalizerSpec: name = 1, add_dummy_prefix = 3, remove_extra_whitespaces = 4,
    # escape_whitespaces = 5: Llama 2's tokenizer.model
    normalizer = field_bytes(1, b"identity") + field_varint(3, 1) + field_varint(4, 0) + field_varint(5, 1)
    model += field_bytes(2, trainer) + field_bytes(3, normalizer)
    open(sys.argv[2], "wb").write(bytes(model))


main()
