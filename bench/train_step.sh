#!/usr/bin/env bash
# bench/train_step.sh: the full training step of `dokja train` (data, forward, backward,
# gradient reduction, clipping, optimizer, logging) beside the bare step of
# `dokja bench step` (forward, backward, AdamW on a fixed batch), for the model-core
# configs (a) and (b), in the same run. The difference is overhead to remove.
#
# usage: bench/train_step.sh [STEPS]   (default 6; the first step is not counted)
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${1:-6}
make -s -j2 build/dokja
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
D=build/dokja
SRC="../shared/data/ko_nsmc ../shared/data/ko_boddari ../shared/data/en_gutenberg"
printf '%-6s %-10s %14s %14s %8s\n' config batch "full tok/s" "bare tok/s" "full/bare"
for cfg in a:8:256:8000 b:4:512:32000; do
  IFS=: read -r name B T V <<< "$cfg"
  $D tokenizer train -q --vocab-size "$V" -o "$W/tok$V.json" $SRC >/dev/null
  [ -d "$W/data$V" ] || $D data build -q -t "$W/tok$V.json" -o "$W/data$V" $SRC >/dev/null
  $D train -q --data "$W/data$V" --model "bench/configs/$name.json" -o "$W/run_$name" --steps "$STEPS" \
    --batch-size "$B" --seq-len "$T" --eval-every 0 --checkpoint-every 0 --threads 2
  # median tokens/s over steps 2..STEPS (step 1 warms up; the last step also writes the model)
  full=$(sed -n "2,$((STEPS - 1))p" "$W/run_$name/metrics.jsonl" | sed -E 's/.*"tokens_per_s":([0-9.]+).*/\1/' | sort -n |
         awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  bare=$($D bench step --model "bench/configs/$name.json" --batch "$B" --seq "$T" --steps "$((STEPS - 1))" --json |
         tail -1 | sed -E 's/.*"tokens_per_s": ([0-9.]+).*/\1/')
  printf '%-6s %-10s %14.0f %14.0f %7.3f\n' "$name" "$B x $T" "$full" "$bare" "$(awk -v a="$full" -v b="$bare" 'BEGIN{print a/b}')"
done
