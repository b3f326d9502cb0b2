#!/usr/bin/env node
// llama_tokenize.mjs MODEL.gguf TEXTFILE [--lines] [--no-bos|--bos] [--special]
// The token ids llama.cpp gives for the file (or for each line, without its "\n", with
// --lines): one JSON array a line on stdout. BOS comes first when the model's
// tokenizer.ggml.add_bos_token says so (as llama_tokenize with add_special=true does);
// --no-bos leaves it out, --bos adds it anyway. --special parses special-token texts in
// the input (e.g. "<|endoftext|>") as those tokens; by default they are plain text.
// The model is opened vocabulary-only (no weights are read).
import { setUsage, usage, parseArgs, readUtf8, splitLines, loadLlama, loadModel, tokenizeLikeLlama } from "./lib.mjs";

setUsage("node llama_tokenize.mjs MODEL.gguf TEXTFILE [--lines] [--no-bos|--bos] [--special]");
const a = parseArgs(process.argv.slice(2), { flags: ["--lines", "--no-bos", "--bos", "--special"] });
if (a.positional.length !== 2) usage();
if (a["--no-bos"] && a["--bos"]) usage("--no-bos and --bos exclude each other");
const [modelPath, textPath] = a.positional;
const text = readUtf8(textPath);
const llama = await loadLlama();
const model = await loadModel(llama, modelPath, { vocabOnly: true });
const opts = { bos: a["--no-bos"] ? "never" : a["--bos"] ? "always" : "model", special: !!a["--special"] };
const inputs = a["--lines"] ? splitLines(text) : [text];
const out = inputs.map((t) => JSON.stringify(tokenizeLikeLlama(model, t, opts)));
process.stdout.write(out.length ? out.join("\n") + "\n" : "");
