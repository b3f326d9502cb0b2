// lib.mjs: what the harness scripts share: argument parsing, exits (2 usage, 1 failure),
// reading text files as strict UTF-8, and loading llama.cpp (node-llama-cpp's prebuilt CPU
// binary, never a build or a download) with its log kept, so that a model that fails to
// load is reported with llama.cpp's own reason. See docs/interop-harness.md.
import fs from "node:fs";

let usageLine = "";

export function setUsage(line) {
  usageLine = line;
}

export function usage(msg) {
  if (msg) process.stderr.write(`${msg}\n`);
  process.stderr.write(`usage: ${usageLine}\n`);
  process.exit(2);
}

export function fail(msg) {
  process.stderr.write(`error: ${msg}\n`);
  process.exit(1);
}

// parseArgs(argv, {flags: ["--lines"], values: ["-n", "--ctx"]}) ->
// {positional: [...], "--lines": true, "-n": "5"}; an unknown option is a usage error.
export function parseArgs(argv, { flags = [], values = [] } = {}) {
  const out = { positional: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-h" || a === "--help") usage();
    if (flags.includes(a)) out[a] = true;
    else if (values.includes(a)) {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      out[a] = argv[++i];
    } else if (a.startsWith("-") && a !== "-") usage(`unknown option ${a}`);
    else out.positional.push(a);
  }
  return out;
}

export function intArg(s, name, min = 0) {
  if (!/^[0-9]+$/.test(s ?? "") || +s < min) usage(`${name} must be an integer >= ${min}`);
  return +s;
}

// The file as a string; bytes that are not UTF-8 fail (a JavaScript string would replace
// them and the tokenizer would see other bytes than the file has).
export function readUtf8(file) {
  let buf;
  try {
    buf = fs.readFileSync(file === "-" ? 0 : file);
  } catch (e) {
    fail(`${file}: ${e.message}`);
  }
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(buf);
  } catch {
    fail(`${file}: not valid UTF-8`);
  }
}

// The lines of a text without their "\n" (a "\r" stays); a final "\n" ends the last line
// and does not start an empty one.
export function splitLines(text) {
  const lines = text.split("\n");
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines;
}

export function readStdinLines() {
  return splitLines(fs.readFileSync(0, "utf8"));
}

// JSON arrays of ids, one a line (blank lines skipped).
export function parseIdLines(lines) {
  return lines.filter((l) => l.trim() !== "").map((l, i) => {
    let ids;
    try {
      ids = JSON.parse(l);
    } catch {
      fail(`stdin line ${i + 1}: not JSON`);
    }
    if (!Array.isArray(ids) || !ids.every((x) => Number.isInteger(x) && x >= 0))
      fail(`stdin line ${i + 1}: not a JSON array of token ids`);
    return ids;
  });
}

export const llamaLog = [];

export async function loadLlama() {
  const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
  try {
    return await getLlama({
      gpu: false,
      build: "never", // the prebuilt binary from @node-llama-cpp/linux-x64 or nothing
      usePrebuiltBinaries: true,
      skipDownload: true,
      progressLogs: false,
      logLevel: LlamaLogLevel.warn,
      logger: (level, message) => {
        llamaLog.push(`[${level}] ${message.trimEnd()}`);
        if (process.env.DOKJA_LLAMA_LOG) process.stderr.write(`llama.cpp [${level}] ${message}`);
      },
    });
  } catch (e) {
    fail(`node-llama-cpp could not load its prebuilt llama.cpp binary: ${e.message}`);
  }
}

// Walks a GGUF's header, key-value metadata and tensor infos with every length checked
// against the file's size; returns a reason when they do not fit, else null. node-llama-cpp
// parses the header in JavaScript before llama.cpp sees the file, and on a corrupt header
// (a huge count or length) that parser loops and grows for minutes: this check comes first.
export function ggufHeaderProblem(file) {
  const fd = fs.openSync(file, "r");
  try {
    const size = fs.fstatSync(fd).size;
    let buf = Buffer.alloc(0), base = 0, pos = 0;
    const need = (n) => {
      if (pos + n > size) throw new Error(`ends inside its metadata (at byte ${pos}, ${n} more needed, ${size} in the file)`);
      if (pos + n > base + buf.length) {
        const len = Math.min(size - pos, Math.max(n, 1 << 20));
        buf = Buffer.alloc(len);
        fs.readSync(fd, buf, 0, len, pos);
        base = pos;
      }
      const at = pos - base;
      pos += n;
      return at;
    };
    const u32 = () => buf.readUInt32LE(need(4));
    const u64 = () => { const v = buf.readBigUInt64LE(need(8)); if (v > BigInt(size)) throw new Error(`has a count or length ${v} larger than the file`); return Number(v); };
    const skipStr = () => { const n = u64(); need(n); };
    const scalar = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
    const skipValue = (type, depth) => {
      if (scalar[type]) need(scalar[type]);
      else if (type === 8) skipStr();
      else if (type === 9 && depth === 0) {
        const et = u32(), n = u64();
        if (scalar[et]) need(n * scalar[et]);
        else for (let i = 0; i < n; i++) skipValue(et, depth + 1);
      } else throw new Error(`has an unknown value type ${type}`);
    };
    if (size < 24) return "too short for a GGUF header";
    const m = need(4);
    if (buf.toString("latin1", m, m + 4) !== "GGUF") return "not a GGUF file (no GGUF magic)";
    const version = u32();
    if (version !== 2 && version !== 3) return `GGUF version ${version} (llama.cpp reads 2 and 3)`;
    const nTensors = u64(), nKv = u64();
    for (let i = 0; i < nKv; i++) { skipStr(); skipValue(u32(), 0); }
    for (let i = 0; i < nTensors; i++) {
      skipStr();
      const nd = u32();
      if (nd > 4) return `tensor ${i} has ${nd} dimensions (at most 4)`;
      need(8 * nd + 4 + 8);
    }
    return null;
  } catch (e) {
    return e.message;
  } finally {
    fs.closeSync(fd);
  }
}

// Loads a GGUF; on failure prints llama.cpp's log lines (the reason) and exits 1.
export async function loadModel(llama, modelPath, { vocabOnly = false } = {}) {
  if (!fs.existsSync(modelPath)) fail(`${modelPath}: no such file`);
  const problem = ggufHeaderProblem(modelPath);
  if (problem) fail(`${modelPath}: ${problem}`);
  try {
    return await llama.loadModel({ modelPath, vocabOnly, gpuLayers: 0, useMmap: true });
  } catch (e) {
    const reason = llamaLog.filter((l) => l.startsWith("[error]") || l.startsWith("[warn]"));
    fail(`${modelPath}: ${e.message}${reason.length ? "\n" + reason.join("\n") : ""}`);
  }
}

// The ids llama.cpp's own llama_tokenize(add_special=true) gives: BOS first when the model
// asks for it (tokenizer.ggml.add_bos_token), EOS last when it asks (add_eos_token).
// node-llama-cpp's tokenize() never adds them itself. bos: "model" | "always" | "never".
export function tokenizeLikeLlama(model, text, { bos = "model", special = false } = {}) {
  const ids = Array.from(model.tokenize(text, special));
  const addBos = bos === "always" || (bos === "model" && model.tokens.shouldPrependBosToken);
  if (addBos) {
    if (model.tokens.bos == null) fail("BOS asked for but the model has no BOS token");
    ids.unshift(model.tokens.bos);
  }
  if (bos === "model" && model.tokens.shouldAppendEosToken && model.tokens.eos != null) ids.push(model.tokens.eos);
  return ids;
}

export function utf8Hex(s) {
  return Buffer.from(s, "utf8").toString("hex");
}
