#!/usr/bin/env node
// hf_tokenize.mjs DIR TEXTFILE [--lines|--cases] [--no-special] [--impl transformers|rust]
// hf_tokenize.mjs DIR --decode [--skip-special] [--impl transformers|rust] < IDS.jsonl
// A Hugging Face tokenizer from a local folder (tokenizer.json, tokenizer_config.json;
// nothing is fetched). Encoding prints the ids of the file (or of each line, without its
// "\n", with --lines; of each case of llama.cpp's vocabulary-test format, texts each
// followed by a line "__ggml_vocab_test__", with --cases), one JSON array a line; special tokens (the post-processor's, e.g.
// a BOS) are added unless --no-special. --decode reads JSON id arrays from stdin, one a
// line, and prints {"text", "hex"} for each (the decoder's clean-up of spaces as the
// tokenizer_config says; special tokens dropped with --skip-special).
// --impl transformers (default): transformers.js AutoTokenizer (@huggingface/transformers);
// --impl rust: HF's Rust tokenizers library (Tokenizer.fromFile, @anush008/tokenizers),
// the implementation Python's transformers runs; it reads tokenizer.json only.
import path from "node:path";
import fs from "node:fs";
import { setUsage, usage, parseArgs, readUtf8, splitLines, readStdinLines, parseIdLines, utf8Hex, fail } from "./lib.mjs";

setUsage("node hf_tokenize.mjs DIR TEXTFILE [--lines|--cases] [--no-special] [--impl transformers|rust]\n" +
  "       node hf_tokenize.mjs DIR --decode [--skip-special] [--impl transformers|rust] < IDS.jsonl");
const a = parseArgs(process.argv.slice(2), { flags: ["--lines", "--cases", "--no-special", "--decode", "--skip-special"], values: ["--impl"] });
const impl = a["--impl"] ?? "transformers";
if (impl !== "transformers" && impl !== "rust") usage("--impl is transformers or rust");
const decode = !!a["--decode"];
if (a.positional.length !== (decode ? 1 : 2)) usage();
if (decode && (a["--lines"] || a["--no-special"])) usage("--lines and --no-special are for encoding");
if (!decode && a["--skip-special"]) usage("--skip-special is for --decode");
const dir = path.resolve(a.positional[0]);
if (!fs.existsSync(path.join(dir, "tokenizer.json"))) fail(`${dir}: no tokenizer.json`);
if (a["--lines"] && a["--cases"]) usage("--lines and --cases exclude each other");
// --cases: llama.cpp's vocabulary-test format, texts each followed by "\n__ggml_vocab_test__\n"
const cases = (t) => t.split("\n__ggml_vocab_test__\n").slice(0, -1);
const inputs = decode ? parseIdLines(readStdinLines())
  : a["--lines"] ? splitLines(readUtf8(a.positional[1]))
  : a["--cases"] ? cases(readUtf8(a.positional[1])) : [readUtf8(a.positional[1])];

let encode, decodeIds;
if (impl === "transformers") {
  const { AutoTokenizer, env } = await import("@huggingface/transformers");
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = path.dirname(dir) + path.sep;
  env.useFSCache = false;
  env.useBrowserCache = false;
  let tok;
  try {
    tok = await AutoTokenizer.from_pretrained(path.basename(dir), { local_files_only: true });
  } catch (e) {
    fail(`transformers.js could not load the tokenizer in ${dir}: ${e.message}`);
  }
  encode = async (t) => tok.encode(t, { add_special_tokens: !a["--no-special"] });
  // transformers.js throws on an empty list; the text of no tokens is ""
  decodeIds = async (ids) => (ids.length ? tok.decode(ids, { skip_special_tokens: !!a["--skip-special"] }) : "");
} else {
  const { Tokenizer } = await import("@anush008/tokenizers");
  let tok;
  try {
    tok = Tokenizer.fromFile(path.join(dir, "tokenizer.json"));
  } catch (e) {
    fail(`tokenizers could not load ${dir}/tokenizer.json: ${e.message}`);
  }
  encode = async (t) => (await tok.encode(t, null, { addSpecialTokens: !a["--no-special"] })).getIds();
  decodeIds = async (ids) => tok.decode(ids, !!a["--skip-special"]);
}
const out = [];
for (const x of inputs) {
  if (decode) {
    const text = await decodeIds(x);
    out.push(JSON.stringify({ text, hex: utf8Hex(text) }));
  } else out.push(JSON.stringify(Array.from(await encode(x), Number)));
}
process.stdout.write(out.length ? out.join("\n") + "\n" : "");
