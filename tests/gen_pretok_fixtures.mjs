// gen_pretok_fixtures.mjs: the oracle for dokja's llama.cpp-compatible pre-tokenizers.
//
// Splits text with JavaScript's regex engine (Node's RegExp, flags "gu": code points,
// \p{..} classes, lookahead) using the regex strings llama.cpp's llama-vocab.cpp gives
// each pre-tokenizer family, pass after pass as llama.cpp's unicode_regex_split runs
// them (each pass splits the pieces of the previous one; text between matches is a
// piece of its own). Writes tests/fixtures/pretok/oracle.json, which
// tests/test_pretok.c compares against chunk by chunk (no Node needed to run the tests).
//
//   node tests/gen_pretok_fixtures.mjs [DATA_DIR]      (default ../shared/data)
//
// One substitution: \s and \S mean what they mean in llama.cpp, the White_Space
// property (which has U+0085 and not U+FEFF; JavaScript's \s is the other way round).
// Samples of real text containing code points assigned after Unicode 15.0 (the UCD
// dokja's tables come from; Node's is newer) or invalid UTF-8 are left out.
import fs from 'node:fs';
import path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
const DATA = process.argv[2] || path.join(here, '..', '..', 'shared', 'data');
const OUT = path.join(here, 'fixtures', 'pretok', 'oracle.json');
const UCD = '/usr/share/unicode/UnicodeData.txt';

const GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
const CONTR = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";
const FAMILIES = {
  // LLAMA_VOCAB_PRE_TYPE_GPT2 ("gpt-2", "exaone4", "a.x-4.0", "trillion"); llama.cpp's
  // string lacks the final |\s+, which its hand-written splitter adds.
  gpt2: [GPT2],
  // LLAMA_VOCAB_PRE_TYPE_EXAONE ("exaone"): \p{N} first, then GPT2's.
  exaone: ["\\p{N}", GPT2],
  // LLAMA_VOCAB_PRE_TYPE_LLAMA3 ("llama-bpe", "midm-2.0"), as adapted in llama.cpp.
  llama3: [CONTR + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"],
  // LLAMA_VOCAB_PRE_TYPE_QWEN2 ("qwen2", "kormo") and SOLAR_OPEN ("solar-open").
  qwen2: [CONTR + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"],
  // LLAMA_VOCAB_PRE_TYPE_EXAONE_MOE ("exaone-moe").
  exaone_moe: [CONTR + "|[^\\r\\n\\p{L}\\p{N}]?(?:\\p{L}\\p{M}*(?: \\p{L}\\p{M}*)*)+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]?|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+"],
  // LLAMA_VOCAB_PRE_TYPE_GPT4O ("kanana2"), llama.cpp's adaptation for std::regex.
  gpt4o: ["[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+" + CONTR + "?|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*" + CONTR + "?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"],
};

const WS = "\\t-\\r \\x85\\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000";
function llamaWhitespace(re) {
  let out = '', inClass = false;
  for (let i = 0; i < re.length; i++) {
    const c = re[i];
    if (c === '\\') {
      const d = re[i + 1];
      if (d === 's') out += inClass ? WS : '[' + WS + ']';
      else if (d === 'S') { if (inClass) throw new Error('\\S in a class'); out += '[^' + WS + ']'; }
      else out += c + d;
      i++;
      continue;
    }
    if (c === '[' && !inClass) inClass = true;
    else if (c === ']' && inClass) inClass = false;
    out += c;
  }
  return out;
}
const COMPILED = Object.fromEntries(Object.entries(FAMILIES).map(
  ([k, res]) => [k, res.map((r) => new RegExp(llamaWhitespace(r), 'gu'))]));

// Pieces of `text` (strings), pass after pass.
function split(family, text) {
  let pieces = [text];
  for (const re of COMPILED[family]) {
    const next = [];
    for (const p of pieces) {
      let at = 0;
      for (const m of p.matchAll(re)) {
        if (m.index > at) next.push(p.slice(at, m.index));
        next.push(m[0]);
        at = m.index + m[0].length;
      }
      if (at < p.length) next.push(p.slice(at));
    }
    pieces = next;
  }
  return pieces;
}
function byteEnds(pieces) {
  const ends = [];
  let e = 0;
  for (const p of pieces) { e += Buffer.byteLength(p, 'utf8'); ends.push(e); }
  return ends;
}
// FNV-1a 32 of the chunk byte lengths written as "l1,l2,...," (tests/test_pretok.c).
function hashEnds(ends) {
  let h = 0x811c9dc5, prev = 0;
  const s = ends.map((e) => { const l = e - prev; prev = e; return l + ','; }).join('');
  for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 0x01000193) >>> 0; }
  return h >>> 0;
}

// ---- hand-written cases ----------------------------------------------------------
const rep = (s, n) => s.repeat(n);
const CASES = [
  '', ' ', '  ', 'a', "'", "''", "'s", " 's", "x's", "X'S", "it's", "IT'S", "they're", "THEY'RE",
  "we've", "We'Ve", "I'm", "I'M", "you'll", "YOU'LL", "he'd", "HE'D", "'sam", "'Ll", "'lL", "'re'", "don't'",
  "o'clock", "rock 'n' roll", "'' 's '", "Hello world", " Hello  world ", "Hello   world\n",
  'hello\nworld', 'hello\r\nworld\r\n', 'a \n b', 'a\t\tb', 'a \t b', '\n\n\n', ' \n \n ', '\r\n\r\n  x',
  'tab\tseparated\tvalues\n', 'end with spaces   ', '   start with spaces', '\u3000전각\u3000공백\u3000',
  'nbsp\u00a0here', '\u0085next line\u0085', 'bom\ufeffinside', 'zwsp\u200binside', 'a\u2028b\u2029c',
  'word.\nnext', 'word...\n\nnext', 'Hi!!!\r\n', '?!\n', ' ...\n', 'a/b/c', 'x:/\n/', '--\n--\n', '(1) [2] {3}',
  '3.14159', '1234567890', ' 1234567', 'x1234y', '٣٤٥ arabic-indic', '²³ superscripts', 'Ⅻ roman', '①②③',
  '2015년 3월 14일', ' 2015년', '제1조(목적) 이 법은', '<2016.2.3>', '1. 삭제 <2016.2.3>',
  '안녕하세요', ' 안녕하세요 세계', '한국어와 English 섞기', '한국어English섞기', 'ㅋㅋㅋㅋ ㅎㅎ', '한\u1100\u1161글',
  'Café crème', 'Cafe\u0301 cre\u0300me', 'naïve résumé', 'ÉCOLE école', 'straße STRASSE', 'İstanbul ıi',
  'Привет, мир!', 'ПРИВЕТмир', 'приветМИР', 'ΑΒΓ αβγ', 'HELLOпривет', 'helloПРИВЕТ', 'éA', 'Aé', 'AéB', 'aÉb', 'ABc', 'ABC.',
  "Café's", "CAFÉ'S", "AéB's x", "ÉA're", "naïveté'd", "ÀB'll", "AB'VE", "ǅungla ǅ", "ʰmod ʰA", "xʰY'm",
  'McDonald', 'iPhone', 'eBay', 'HTTPServer', 'camelCaseWord', 'snake_case_word', 'kebab-case-word',
  '中文字符测试', '日本語のテキスト', 'カタカナ', 'ｈａｌｆｗｉｄｔｈ ｶﾀｶﾅ', '한자漢字混用',
  'emoji 😀👍🏽 🇰🇷 👨‍👩‍👧', '😀😀😀', ' 😀', 'a😀b', '❤️', '\u0301combining first', 'x\u0301\u0302y',
  'हिन्दी भाषा', 'ไทยภาษา', 'עברית', 'العربية', 'ქართული',
  '$100 + €50 = ¥?', '#hashtag @user', 'e-mail: a.b@c.de', 'https://example.com/a?b=c&d=e',
  '"quoted" \'single\'', '«guillemets»', '„German“', '—dash–', '…ellipsis', '·middle·dot',
  'line1\nline2\n\nline4\n', '\t\n\t\n', 'a\u000bb\u000cc', 'ctrl\u0001\u001fchars', '\u001c\u001d\u001e\u001f',
  rep('=', 400), rep('=', 400) + '\n' + rep('-', 300), rep('가', 200), ' ' + rep('한글', 150), rep('9', 50),
  rep(' ', 300) + 'x', rep(' ', 300), rep('\n', 300), rep('ab ', 200), rep('!?', 160) + '\n\n',
  rep('word ', 100) + '\n', rep('한국어 문장 ', 60), rep('\u3000', 10) + '가', 'mixed\u3000 \u3000space',
];

function isValidUtf8(buf) { return Buffer.from(buf.toString('utf8'), 'utf8').equals(buf); }

// Code points assigned in Unicode 15.0 (Debian's UnicodeData.txt).
const assigned15 = new Set();
{
  let first = -1;
  for (const line of fs.readFileSync(UCD, 'utf8').split('\n')) {
    if (!line) continue;
    const f = line.split(';'), cp = parseInt(f[0], 16);
    if (f[1].endsWith(', First>')) { first = cp; continue; }
    if (f[1].endsWith(', Last>')) { for (let c = first; c <= cp; c++) assigned15.add(c); continue; }
    assigned15.add(cp);
  }
}
const unassignedNow = /\p{Cn}/u;
function onlyUnicode15(s) {
  for (const ch of s) {
    const cp = ch.codePointAt(0);
    if (!assigned15.has(cp) && !unassignedNow.test(ch) && !(cp >= 0xE000 && cp <= 0xF8FF) && cp < 0xF0000)
      return false;
  }
  return true;
}

const fam = Object.keys(FAMILIES);
const out = {
  generator: 'tests/gen_pretok_fixtures.mjs', node: process.version, node_unicode: process.versions.unicode,
  families: fam, regex: FAMILIES, cases: [], files: [], samples: [],
};
for (const text of CASES) {
  if (!onlyUnicode15(text)) throw new Error('case uses code points after Unicode 15.0: ' + text);
  const ends = {};
  for (const f of fam) ends[f] = byteEnds(split(f, text));
  out.cases.push({ text, ends });
}

// ---- samples of ../shared/data: two consecutive lines with their newlines ---------
const SAMPLES_PER_FILE = 45;
let skipped = 0;
const dirs = fs.readdirSync(DATA).filter((d) => /^(ko|en)_/.test(d)).sort();
for (const d of dirs) {
  for (const name of fs.readdirSync(path.join(DATA, d)).sort()) {
    const rel = d + '/' + name, buf = fs.readFileSync(path.join(DATA, rel));
    const starts = [0];
    for (let i = 0; i < buf.length; i++) if (buf[i] === 10 && i + 1 < buf.length) starts.push(i + 1);
    const nl = starts.length;
    if (nl < 2) continue;
    const stride = Math.max(1, Math.floor(nl / SAMPLES_PER_FILE));
    let fileIndex = -1;
    for (let k = 0; k + 1 < nl; k += stride) {
      const off = starts[k], end = k + 2 < nl ? starts[k + 2] : buf.length;
      const bytes = buf.subarray(off, end);
      if (bytes.length > 20000) continue;
      const text = bytes.toString('utf8');
      if (!isValidUtf8(bytes) || !onlyUnicode15(text)) { skipped++; continue; }
      if (fileIndex < 0) { fileIndex = out.files.length; out.files.push(rel); }
      out.samples.push([fileIndex, off, bytes.length, ...fam.map((f) => hashEnds(byteEnds(split(f, text))))]);
    }
  }
}
fs.mkdirSync(path.dirname(OUT), { recursive: true });
let json = JSON.stringify(out, null, 0);
// one sample per line, so diffs stay readable
json = json.replace(/\],\[/g, '],\n[').replace(/\},\{"text"/g, '},\n{"text"');
fs.writeFileSync(OUT, json + '\n');
console.error(`${OUT}: ${out.cases.length} cases, ${out.samples.length} samples from ${out.files.length} files ` +
  `(${skipped} left out), ${fs.statSync(OUT).size} bytes`);
