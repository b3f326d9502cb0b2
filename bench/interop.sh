#!/usr/bin/env bash
# bench/interop.sh: exports and imports of config (b) (134 M parameters) timed, and the
# tokenizers side by side on the same text: dokja's own encoder, dokja on the exported
# GGUF vocabulary and tokenizer.json, llama.cpp (node-llama-cpp) and Hugging Face's
# tokenizers (transformers.js and the Rust library), with the ids of every valid UTF-8
# line of the dev corpora (../shared/data ko_* and en_*) compared against dokja's.
#
# usage: bench/interop.sh [WORKDIR]   (default /tmp/dokja-bench-interop; ~1.5 GB of files)
set -euo pipefail
cd "$(dirname "$0")/.."
W=${1:-/tmp/dokja-bench-interop}
D=$PWD/build/dokja
make -s -j2 build/dokja
scripts/node-deps.sh >/dev/null
mkdir -p "$W"
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p'), kernel path: $(build/dokja version | sed -n 's/^kernel path: //p')"
secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}'; }
peak() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }

# a config (b) model: a 32k tokenizer on the dev text, one training step
if [ ! -f "$W/b/model.safetensors" ]; then
  for f in ../shared/data/ko_*/* ../shared/data/en_*/*; do cat "$f"; done | LC_ALL=C.UTF-8 grep -ax '.*' > "$W/all.txt"
  $D tokenizer train -q --vocab-size 32000 --threads 2 -o "$W/tok.json" "$W/all.txt" >/dev/null
  head -c 5000000 "$W/all.txt" | sed '$d' > "$W/small.txt"
  rm -rf "$W/data" "$W/b"
  $D data build -q -t "$W/tok.json" -o "$W/data" "$W/small.txt" >/dev/null
  $D train -q --data "$W/data" --model bench/configs/b.json -o "$W/b" --steps 1 --batch-size 1 --seq-len 16 >/dev/null 2>&1
fi
echo "== export and import of config (b), 134 M parameters (target: under 2 s each)"
printf '%-28s %8s %10s %10s\n' step seconds "peak MiB" "size MB"
for t in f32 f16 bf16 q8_0; do
  rm -f "$W/b_$t.gguf"; sync
  s=$(secs $D export gguf "$W/b" -o "$W/b_$t.gguf" --type "$t")
  rm -f "$W/b_$t.gguf"; m=$(peak $D export gguf "$W/b" -o "$W/b_$t.gguf" --type "$t")
  printf '%-28s %8s %10d %10.0f\n' "export gguf --type $t" "$s" $((m / 1024)) "$(stat -c %s "$W/b_$t.gguf" | awk '{print $1/1e6}')"
done
rm -rf "$W/b_hf"; s=$(secs $D export hf "$W/b" -o "$W/b_hf"); printf '%-28s %8s\n' "export hf" "$s"
for t in f32 q8_0; do
  rm -rf "$W/imp_$t"; sync
  s=$(secs $D import gguf "$W/b_$t.gguf" -o "$W/imp_$t")
  rm -rf "$W/imp_$t"; m=$(peak $D import gguf "$W/b_$t.gguf" -o "$W/imp_$t")
  printf '%-28s %8s %10d\n' "import gguf ($t)" "$s" $((m / 1024))
done
rm -rf "$W/imp_hf"; s=$(secs $D import hf "$W/b_hf" -o "$W/imp_hf"); printf '%-28s %8s\n' "import hf" "$s"

echo "== tokenizers on every valid UTF-8 line of the dev corpora ($(wc -l < "$W/all.txt") lines, $(($(stat -c %s "$W/all.txt") / 1000000)) MB)"
$D tokenizer encode -t "$W/tok.json" "$W/all.txt" | awk '{gsub(/ /, ","); print "[" $0 "]"}' > "$W/want.txt"
printf '%-36s %10s %12s\n' tokenizer "MB/s" "lines differ"
mbps() { awk -v b="$(stat -c %s "$W/all.txt")" -v s="$1" 'BEGIN{printf "%.1f", b/1e6/s}'; }
for t in "$W/tok.json" "$W/b_f32.gguf" "$W/b_hf/tokenizer.json"; do
  s=$(secs $D tokenizer encode -t "$t" "$W/all.txt")
  $D tokenizer encode -t "$t" "$W/all.txt" | awk '{gsub(/ /, ","); print "[" $0 "]"}' > "$W/got.txt"
  printf '%-36s %10s %12s\n' "dokja -t $(basename "$t")" "$(mbps "$s")" "$(cmp -l "$W/want.txt" "$W/got.txt" 2>/dev/null | wc -l)"
done
s=$(secs node tests/node/llama_tokenize.mjs "$W/b_f32.gguf" "$W/all.txt" --lines --no-bos)
node tests/node/llama_tokenize.mjs "$W/b_f32.gguf" "$W/all.txt" --lines --no-bos > "$W/got.txt"
printf '%-36s %10s %12s\n' "llama.cpp (node, incl. start-up)" "$(mbps "$s")" "$(diff "$W/want.txt" "$W/got.txt" | grep -c '^>' || true)"
node tests/node/llama_bench_tokenize.mjs "$W/b_f32.gguf" "$W/all.txt" --lines | sed 's/^/  llama.cpp tokenizer alone: /'
for impl in rust transformers; do
  s=$(secs node tests/node/hf_tokenize.mjs "$W/b_hf" "$W/all.txt" --lines --no-special --impl $impl)
  node tests/node/hf_tokenize.mjs "$W/b_hf" "$W/all.txt" --lines --no-special --impl $impl > "$W/got.txt"
  printf '%-36s %10s %12s\n' "HF $impl (node, incl. start-up)" "$(mbps "$s")" "$(diff "$W/want.txt" "$W/got.txt" | grep -c '^>' || true)"
done
