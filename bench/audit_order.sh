#!/usr/bin/env bash
# bench/audit_order.sh: validates `dokja ledger audit-order` (the training-order test) on
# real text: two runs of the same config on the same data that differ only in the data
# order (--data-seed), each model tested against the first run's ledger. The first must
# give a tiny p-value (it was trained in that order), the second a p-value that is not
# small (same data, another order). Prints both, with the CPU and the run's size.
#
# usage: bench/audit_order.sh [CONFIG STEPS BATCH SEQ SEQUENCES]
#        (default configs/tiny-ko.json 1500 16 128 8000)
set -euo pipefail
cd "$(dirname "$0")/.."
CFG=${1:-configs/tiny-ko.json}
STEPS=${2:-1500}
B=${3:-16}
T=${4:-128}
N=${5:-8000}
make -s -j2 build/dokja
W=${AUDIT_ORDER_DIR:-$(mktemp -d)}
D=build/dokja
SRC="../shared/data/ko_nsmc ../shared/data/ko_boddari ../shared/data/ko_laws ../shared/data/en_gutenberg"
echo "$(lscpu | sed -n 's/^Model name: *//p'), $(build/dokja version | tail -1)"
[ -f "$W/tok.json" ] || $D tokenizer train -q --vocab-size 8000 -o "$W/tok.json" $SRC >/dev/null
[ -d "$W/data" ] || $D data build -q -t "$W/tok.json" -o "$W/data" $SRC >/dev/null
for s in 1 2; do
  [ -f "$W/run$s/model.safetensors" ] ||
    $D train -q --data "$W/data" --model "$CFG" -o "$W/run$s" --steps "$STEPS" --batch-size "$B" --seq-len "$T" \
      --lr 3e-3 --seed 1 --data-seed "$s" --eval-every 0 --checkpoint-every 0 --threads "${THREADS:-2}" >/dev/null
done
echo "config $CFG, $STEPS steps x $B x $T tokens, $N sequences scored"
for s in 1 2; do
  echo "-- model of run $s (data order $s) against run 1's ledger:"
  $D ledger audit-order -q -m "$W/run$s" --data "$W/data" --ledger "$W/run1" --sequences "$N" || true
done
