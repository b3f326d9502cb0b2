#!/usr/bin/python3
"""Writes the SentencePiece-style seed of fuzz/fuzz_tokenizer_json.c (Llama 2's layout:
byte fallback tokens, a Prepend/Replace normalizer, merges as "a b"); the byte-level seed
is a tokenizer.json that `dokja export hf` wrote. Standard library only."""
import json, os

D = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "tokenizer_json")
os.makedirs(D, exist_ok=True)
vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
for b in range(256):
    vocab["<0x%02X>" % b] = len(vocab)
for piece in ["\u2581", "h", "e", "l", "o", "\u2581h", "ll", "\u2581he", "\u2581hell", "\u2581hello", "안", "녕", "안녕"]:
    vocab[piece] = len(vocab)
merges = ["\u2581 h", "l l", "\u2581h e", "\u2581he ll", "\u2581hell o", "안 녕"]
tj = {
    "version": "1.0", "truncation": None, "padding": None,
    "added_tokens": [{"id": i, "content": c, "single_word": False, "lstrip": False, "rstrip": False,
                      "normalized": False, "special": True} for c, i in [("<unk>", 0), ("<s>", 1), ("</s>", 2)]],
    "normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "\u2581"},
                                                        {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]},
    "pre_tokenizer": None,
    "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                                                                {"Sequence": {"id": "A", "type_id": 0}}],
                       "pair": [], "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
    "decoder": None,
    "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
              "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True, "vocab": vocab, "merges": merges},
}
with open(os.path.join(D, "spm_style.json"), "w", encoding="utf-8") as f:
    json.dump(tj, f, ensure_ascii=False)
