#!/usr/bin/env bash
# bench/ledger.sh: the training ledger's overhead on a `dokja train` step (issue 14's
# target: at most 2 % on config (b)). The per-step record and the checkpoint digests
# (bench_ledger) against the bare step time (`dokja bench step`), in the same run, for
# checkpoints every 100 steps (the default) and, the worst case, every step. The
# checkpoint file's own write is not the ledger's cost and is not counted.
#
# usage: bench/ledger.sh [CONFIG BATCH SEQ]   (default bench/configs/b.json 4 512)
set -euo pipefail
cd "$(dirname "$0")/.."
CFG=${1:-bench/configs/b.json}
B=${2:-4}
T=${3:-512}
make -s -j2 build/dokja build/bench_ledger
tps=$(build/dokja bench step --model "$CFG" --batch "$B" --seq "$T" --steps 3 --json | tail -1 |
       sed -E 's/.*"tokens_per_s": ([0-9.e+-]+).*/\1/')
step=$(awk -v t="$tps" -v b="$B" -v s="$T" 'BEGIN { printf "%.4f", b * s / t }')
costs=$(build/bench_ledger "$CFG" "$B")
echo "$(lscpu | sed -n 's/^Model name: *//p'), $(build/dokja version | tail -1)"
echo "config $CFG, batch $B x $T: step $step s; ledger costs $costs"
awk -v s="$step" -v c="$costs" 'BEGIN {
  match(c, /"weights_digest_s": [0-9.]+/); w = substr(c, RSTART + 20, RLENGTH - 20) + 0
  match(c, /"optimizer_digest_s": [0-9.]+/); o = substr(c, RSTART + 22, RLENGTH - 22) + 0
  match(c, /"step_record_s": [0-9.]+/); r = substr(c, RSTART + 17, RLENGTH - 17) + 0
  printf "per step record: %.1f us = %.4f %% of a step\n", r * 1e6, 100 * r / s
  for (k = 100; k >= 1; k = (k == 100 ? 10 : k == 10 ? 1 : 0)) {
    printf "checkpoint every %3d steps: %.3f %% of step time\n", k, 100 * (r + (w + o) / k) / s
    if (k == 1) break
  }
}'
