#!/usr/bin/env node
// llama_greedy.mjs MODEL.gguf (--prompt TEXT | --prompt-ids JSON) -n N [--ctx C] [--no-bos]
//                  [--stop-at-eos] [--threads T]
// Greedy decoding in llama.cpp: the prompt's ids (BOS first when the model asks for it,
// as in llama_tokenize.mjs; --prompt-ids takes the ids as they are), then exactly N new
// tokens, each the argmax of the logits (LlamaContextSequence.evaluate with temperature 0:
// node-llama-cpp's sampler chain is then llama_sampler_init_greedy alone; no repetition
// penalty, no top-k/p, no grammar, no chat template). An end-of-generation token does not
// stop it unless --stop-at-eos: "eos_at" tells the index of the first one in "ids", or null.
// Prints one JSON object: {prompt_ids, ids, text, eos_at, n_ctx, timing_ms}. The context
// (default: prompt + N) must hold prompt and generation: no context shift happens.
// Tests should pass --threads 1: with more threads than free cores ggml crawls.
import { setUsage, usage, parseArgs, intArg, loadLlama, loadModel, tokenizeLikeLlama, fail } from "./lib.mjs";

setUsage("node llama_greedy.mjs MODEL.gguf (--prompt TEXT | --prompt-ids JSON) -n N [--ctx C] [--no-bos] [--stop-at-eos] [--threads T]");
const a = parseArgs(process.argv.slice(2), {
  flags: ["--no-bos", "--stop-at-eos"],
  values: ["--prompt", "--prompt-ids", "-n", "--ctx", "--threads"],
});
if (a.positional.length !== 1 || a["-n"] === undefined) usage();
if ((a["--prompt"] === undefined) === (a["--prompt-ids"] === undefined)) usage("give one of --prompt and --prompt-ids");
const n = intArg(a["-n"], "-n", 0);
const threads = a["--threads"] === undefined ? 2 : intArg(a["--threads"], "--threads", 1);
let promptIds = null;
if (a["--prompt-ids"] !== undefined) {
  try {
    promptIds = JSON.parse(a["--prompt-ids"]);
  } catch {
    usage("--prompt-ids must be a JSON array of ids");
  }
  if (!Array.isArray(promptIds) || !promptIds.every((x) => Number.isInteger(x) && x >= 0)) usage("--prompt-ids must be a JSON array of ids");
}

const t0 = performance.now();
const llama = await loadLlama();
const t1 = performance.now();
const model = await loadModel(llama, a.positional[0]);
const t2 = performance.now();
if (promptIds === null) promptIds = tokenizeLikeLlama(model, a["--prompt"], { bos: a["--no-bos"] ? "never" : "model" });
if (promptIds.length === 0) fail("the prompt has no tokens (an empty prompt without BOS)");
const nVocab = model.fileInfo.metadata.tokenizer?.ggml?.tokens?.length;
if (nVocab != null && promptIds.some((x) => x >= nVocab)) fail(`a prompt id is out of the vocabulary (${nVocab})`);
const need = promptIds.length + n;
const nCtx = a["--ctx"] === undefined ? need : intArg(a["--ctx"], "--ctx", 1);
if (need > nCtx) fail(`prompt (${promptIds.length}) + n (${n}) = ${need} tokens do not fit the context of ${nCtx}`);
let context;
try {
  context = await model.createContext({ contextSize: nCtx, batchSize: Math.min(nCtx, 512), threads, sequences: 1 });
} catch (e) {
  fail(`creating a context of ${nCtx}: ${e.message}`);
}
const seq = context.getSequence();
const t3 = performance.now();
const ids = [];
let eosAt = null;
let tFirst = null;
if (n > 0) {
  for await (const tok of seq.evaluate(promptIds, { temperature: 0, topK: 1, yieldEogToken: true })) {
    if (tFirst === null) tFirst = performance.now();
    ids.push(tok);
    if (eosAt === null && model.isEogToken(tok)) {
      eosAt = ids.length - 1;
      if (a["--stop-at-eos"]) break;
    }
    if (ids.length >= n) break;
  }
}
const t4 = performance.now();
console.log(JSON.stringify({
  prompt_ids: promptIds,
  ids,
  text: model.detokenize(ids),
  eos_at: eosAt,
  n_ctx: context.contextSize,
  timing_ms: {
    llama_init: +(t1 - t0).toFixed(1),
    model_load: +(t2 - t1).toFixed(1),
    context: +(t3 - t2).toFixed(1),
    prefill_and_first: tFirst === null ? null : +(tFirst - t3).toFixed(1),
    generate: +(t4 - t3).toFixed(1),
  },
}));
await context.dispose();
