#!/usr/bin/env node
// check.mjs: loads each reference implementation once (llama.cpp's prebuilt CPU binary
// through node-llama-cpp, transformers.js, HF's Rust tokenizers) and prints their versions
// as one JSON object; exit 1 when one does not load. scripts/node-deps.sh runs it after
// an install and writes the stamp that have_node.sh checks.
import fs from "node:fs";
import { loadLlama, fail } from "./lib.mjs";

const version = (pkg) => JSON.parse(fs.readFileSync(new URL(`./node_modules/${pkg}/package.json`, import.meta.url))).version;
const t0 = performance.now();
const llama = await loadLlama();
const llamaMs = performance.now() - t0;
if (llama.gpu !== false) fail(`llama.cpp runs on ${llama.gpu}, not the CPU`);
let transformers;
try {
  transformers = await import("@huggingface/transformers");
  const { Tokenizer } = await import("@anush008/tokenizers");
  if (typeof Tokenizer.fromString !== "function") throw new Error("no Tokenizer.fromString");
} catch (e) {
  fail(`a Hugging Face tokenizer library does not load: ${e.message}`);
}
console.log(JSON.stringify({
  node: process.version,
  node_llama_cpp: version("node-llama-cpp"),
  llama_cpp: llama.llamaCppRelease,
  llama_build: llama.buildType,
  llama_system_info: llama.systemInfo.trim(),
  llama_init_ms: +llamaMs.toFixed(0),
  transformers_js: transformers.env.version,
  hf_tokenizers_js: version("@huggingface/tokenizers"),
  hf_tokenizers_rust_bindings: version("@anush008/tokenizers"),
}));
