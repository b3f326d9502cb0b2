#!/usr/bin/env bash
# bench/pretok.sh: the pre-tokenizers side by side, to choose the default.
#
# For each candidate, trains a 32k tokenizer (`dokja tokenizer train --pretokenizer NAME`)
# on the Korean + English text of ../shared/data the way bench/tokenizer.sh does (every
# ko_* and en_* file, 90 % of the lines; every tenth line held out), and reports on the
# held-out text, encoded line by line (`tokenizer stats --lines`): Korean tokens per
# Hangul syllable, English tokens per word, the share of byte-level tokens in Korean,
# and the training wall time. One name per splitter family: names that share one
# (gpt-2 / exaone4 / a.x-4.0 / trillion, llama-bpe / midm-2.0, qwen2 / solar-open /
# kormo) give identical tokenizers.
#
# usage: bench/pretok.sh [NAME...]   (default: every family, and dokja-v1)
# env:   DATA (default ../shared/data), WORK (scratch dir, default a temp dir),
#        THREADS (training threads, default 2), VOCAB (default 32000)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data}
THREADS=${THREADS:-2}
VOCAB=${VOCAB:-32000}
NAMES=("$@")
[ ${#NAMES[@]} -gt 0 ] || NAMES=(dokja-v1 gpt-2 llama-bpe qwen2 exaone exaone-moe kanana2)
command -v jq >/dev/null || { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq jq >/dev/null; }
make -s -j2 build/dokja
DOKJA=$PWD/build/dokja

WORK=${WORK:-$(mktemp -d)}
mkdir -p "$WORK"
echo "scratch: $WORK" >&2
: > "$WORK/ko_train.txt"; : > "$WORK/ko_test.txt"; : > "$WORK/en_train.txt"; : > "$WORK/en_test.txt"
for f in "$DATA"/ko_*/*; do
  awk 'NR % 10 == 0' "$f" >> "$WORK/ko_test.txt"; awk 'NR % 10 != 0' "$f" >> "$WORK/ko_train.txt"
done
for f in "$DATA"/en_*/*; do
  awk 'NR % 10 == 0' "$f" >> "$WORK/en_test.txt"; awk 'NR % 10 != 0' "$f" >> "$WORK/en_train.txt"
done
cat "$WORK/ko_train.txt" "$WORK/en_train.txt" > "$WORK/train.txt"
mb() { awk -v b="$(stat -c %s "$1")" 'BEGIN { printf "%.1f", b / 1e6 }'; }
echo "train: $(mb "$WORK/train.txt") MB; held out: Korean $(mb "$WORK/ko_test.txt") MB, English $(mb "$WORK/en_test.txt") MB" >&2

printf '| pre-tokenizer | Korean tokens / syllable | English tokens / word | byte-level tokens, Korean | training wall time |\n'
printf '|---|---:|---:|---:|---:|\n'
for N in "${NAMES[@]}"; do
  t0=$(date +%s.%N)
  "$DOKJA" tokenizer train -q --threads "$THREADS" --vocab-size "$VOCAB" --pretokenizer "$N" \
      -o "$WORK/$N.json" "$WORK/train.txt" >/dev/null
  t1=$(date +%s.%N)
  ko=$("$DOKJA" tokenizer stats --json --lines -t "$WORK/$N.json" "$WORK/ko_test.txt")
  en=$("$DOKJA" tokenizer stats --json --lines -t "$WORK/$N.json" "$WORK/en_test.txt")
  awk -v n="$N" -v kt="$(jq .total.tokens <<<"$ko")" -v ks="$(jq .total.hangul_syllables <<<"$ko")" \
      -v kp="$(jq .total.partial_tokens <<<"$ko")" -v et="$(jq .total.tokens <<<"$en")" \
      -v ew="$(jq .total.words <<<"$en")" -v t="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" \
      'BEGIN { printf "| `%s` | %.4f | %.4f | %.2f %% | %.1f s |\n", n, kt / ks, et / ew, 100 * kp / kt, t }'
done
