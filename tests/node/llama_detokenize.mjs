#!/usr/bin/env node
// llama_detokenize.mjs MODEL.gguf [--special]
// Reads JSON arrays of token ids from stdin, one a line; prints for each a JSON object
// {"text": ..., "hex": ...}: llama.cpp's llama_detokenize of the ids (remove_special=false;
// special tokens render as their text with --special, as nothing without), and the hex of
// its UTF-8 bytes. node-llama-cpp hands the bytes over as a JavaScript string, so bytes
// that are not valid UTF-8 (a token sequence cut inside a character) arrive as U+FFFD:
// "lossy": true marks a text that contains U+FFFD.
import { setUsage, usage, parseArgs, readStdinLines, parseIdLines, loadLlama, loadModel, utf8Hex, fail } from "./lib.mjs";

setUsage("node llama_detokenize.mjs MODEL.gguf [--special] < IDS.jsonl");
const a = parseArgs(process.argv.slice(2), { flags: ["--special"] });
if (a.positional.length !== 1) usage();
const idLines = parseIdLines(readStdinLines());
const llama = await loadLlama();
const model = await loadModel(llama, a.positional[0], { vocabOnly: true });
const nVocab = model.fileInfo.metadata.tokenizer?.ggml?.tokens?.length;
const out = [];
for (const ids of idLines) {
  const bad = nVocab != null ? ids.find((x) => x >= nVocab) : undefined;
  if (bad !== undefined) fail(`token id ${bad} is out of the vocabulary (${nVocab})`);
  const text = model.detokenize(ids, !!a["--special"]);
  out.push(JSON.stringify({ text, hex: utf8Hex(text), lossy: text.includes("\uFFFD") }));
}
process.stdout.write(out.length ? out.join("\n") + "\n" : "");
