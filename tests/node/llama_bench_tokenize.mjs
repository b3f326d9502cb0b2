#!/usr/bin/env node
// llama_bench_tokenize.mjs MODEL.gguf TEXTFILE [--lines] [--repeat R]
// llama.cpp's tokenizer throughput on a file: the model is opened vocabulary-only, the
// text is tokenized once to warm up and then R times (default 3), the whole file in one
// call (or line by line with --lines; no BOS, special texts plain). Prints one JSON object:
// {bytes, tokens, bytes_per_token, runs_s, best_s, mb_per_s (10^6 bytes per second of the
// best run), load_ms, threads: 1}. llama_tokenize runs on one thread.
import fs from "node:fs";
import { setUsage, usage, parseArgs, intArg, readUtf8, splitLines, loadLlama, loadModel } from "./lib.mjs";

setUsage("node llama_bench_tokenize.mjs MODEL.gguf TEXTFILE [--lines] [--repeat R]");
const a = parseArgs(process.argv.slice(2), { flags: ["--lines"], values: ["--repeat"] });
if (a.positional.length !== 2) usage();
const repeat = a["--repeat"] === undefined ? 3 : intArg(a["--repeat"], "--repeat", 1);
const [modelPath, textPath] = a.positional;
const text = readUtf8(textPath);
const bytes = fs.statSync(textPath).size;
const llama = await loadLlama();
const t0 = performance.now();
const model = await loadModel(llama, modelPath, { vocabOnly: true });
const loadMs = performance.now() - t0;
const inputs = a["--lines"] ? splitLines(text) : [text];
const run = () => {
  let n = 0;
  for (const t of inputs) n += model.tokenize(t, false).length;
  return n;
};
const tokens = run();
const runs = [];
for (let i = 0; i < repeat; i++) {
  const s = performance.now();
  run();
  runs.push((performance.now() - s) / 1000);
}
const best = Math.min(...runs);
console.log(JSON.stringify({
  bytes,
  tokens,
  bytes_per_token: +(bytes / tokens).toFixed(3),
  runs_s: runs.map((x) => +x.toFixed(4)),
  best_s: +best.toFixed(4),
  mb_per_s: +(bytes / best / 1e6).toFixed(3),
  load_ms: +loadMs.toFixed(1),
  threads: 1,
}));
