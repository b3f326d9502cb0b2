#!/usr/bin/env bash
# scripts/run-default.sh [OUT]: the main job on the built-in default.
# Installs what it needs from Debian (build tools, and the Korean and English
# LibreOffice help and the Korean Debian FAQ as the corpus), builds dokja, extracts
# the corpus, trains a Korean-first tokenizer on it, prints the tokenizer's
# statistics on held-out text, tokenizes the corpus into a dataset, pretrains a
# small model (configs/tiny-ko.json) from scratch on it for STEPS steps (default
# 600: about 3 minutes on 2 cores), prints its validation loss beside the data's
# unigram entropy, and samples Korean and English text from it. Output: OUT (out/).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-out}
STEPS=${STEPS:-600}
scripts/deps.sh $(cat scripts/build-deps.txt) libreoffice-help-ko libreoffice-help-en-us debian-faq-ko
make -s -j"$(nproc 2>/dev/null || echo 2)" build/dokja
D=build/dokja
rm -rf "$OUT/data" "$OUT/model"
mkdir -p "$OUT"
echo "== corpus: $OUT/corpus"
$D corpus debian -o "$OUT/corpus"
# Every tenth line is held out to measure the tokenizer on text it has not seen.
for L in ko en; do
  awk 'NR % 10 != 0' "$OUT/corpus/$L.txt" > "$OUT/corpus/$L.train.txt"
  awk 'NR % 10 == 0' "$OUT/corpus/$L.txt" > "$OUT/corpus/$L.heldout.txt"
done
echo "== tokenizer: $OUT/dokja_tokenizer.json"
$D tokenizer train --vocab-size 8000 -o "$OUT/dokja_tokenizer.json" "$OUT/corpus/ko.train.txt" "$OUT/corpus/en.train.txt"
echo "== statistics on held-out text"
$D tokenizer stats -t "$OUT/dokja_tokenizer.json" --lines "$OUT/corpus/ko.heldout.txt" "$OUT/corpus/en.heldout.txt"
echo "== a sample"
s="대한민국의 주권은 국민에게 있고, 모든 권력은 국민으로부터 나온다. Hello, world!"
echo "$s"
echo "$s" | $D tokenizer encode -t "$OUT/dokja_tokenizer.json"
echo "== dataset: $OUT/data"
$D data build -q -t "$OUT/dokja_tokenizer.json" -o "$OUT/data" "$OUT/corpus/ko.txt" "$OUT/corpus/en.txt"
echo "== pretraining configs/tiny-ko.json from scratch: $OUT/model"
$D train --data "$OUT/data" --model configs/tiny-ko.json -o "$OUT/model" --steps "$STEPS" \
  --batch-size 16 --seq-len 128 --lr 3e-3 --eval-every 100 --checkpoint-every 100
echo "== the training ledger: $OUT/model/ledger.jsonl ($(wc -l < "$OUT/model/ledger.jsonl") records; docs/ledger.md)"
head -c 400 "$OUT/model/ledger.jsonl"; echo " ..."
$D ledger verify "$OUT/model" --data "$OUT/data" --html "$OUT/model/ledger.html"
echo "  certificate: $OUT/model/ledger.html"
echo "== result: validation loss against the unigram entropy (nats per token)"
$D data info "$OUT/data" | grep "unigram entropy"
echo "  final: $(tail -1 "$OUT/model/metrics.jsonl")"
ls -l "$OUT/model"
echo "== samples (temperature 0.8, seed 1)"
$D generate -m "$OUT/model" -p "대한민국의" -n 48
$D generate -m "$OUT/model" -p "파일을 저장하려면" -n 48
$D generate -m "$OUT/model" -p "To insert a table" -n 48
