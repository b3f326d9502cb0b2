#!/usr/bin/env bash
# bench/lineage_cache.sh: the lineage pairs of a selection round (every team against every
# known model, and every pair of teams: N*M + N(N-1)/2 pairs) on models of config (b)
# (bench/configs/b.json: 12 layers, hidden 768, MLP 2048, 12 heads, vocabulary 32000;
# BF16 safetensors written by build/bench_lineage_write, random: no training), timed
# without and then with one shared lineage_cache (build/bench_lineage_cache), which also
# checks that every report is identical but for its timings.
#
# Known models k1..kM are seeds 1..M; team t1 is k1 with its MLP neurons permuted and 10 %
# noise (a disguised copy: one derived pair), t2..tN are seeds 101... Every model gets the
# same dokja tokenizer (2000 ids, trained here on ../shared/data), so the activation test
# runs (NO_ACT=1: weights only).
#
# usage: bench/lineage_cache.sh [TEAMS] [KNOWN] [THREADS]     (defaults 2 2 2: 5 pairs)
#   LINEAGE_CACHE_DIR  where the models go (default build/lineage-cache-b; reused if there)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-2}
M=${2:-2}
THREADS=${3:-2}
DIR=${LINEAGE_CACHE_DIR:-build/lineage-cache-b}
DATA=${DOKJA_DATA:-../shared/data}
make -s -j2 build/dokja build/bench_lineage_write build/bench_lineage_cache
mkdir -p "$DIR"
if [ ! -f "$DIR/tok.json" ]; then
  build/dokja tokenizer train -q --vocab-size 2000 -o "$DIR/tok.json" "$DATA/ko_libreoffice_help" \
    "$DATA/en_tinyshakespeare" >/dev/null
fi
write() { # NAME ARGS...
  local name=$1; shift
  if [ ! -f "$DIR/$name/.done" ]; then
    echo "writing $DIR/$name ($*)" >&2
    build/bench_lineage_write "$DIR/$name" --layers 12 --dim 768 --ffn 2048 --heads 12 --vocab 32000 "$@" >/dev/null
    cp "$DIR/tok.json" "$DIR/$name/dokja_tokenizer.json"
    touch "$DIR/$name/.done"
  fi
}
known=() teams=()
for k in $(seq 1 "$M"); do write "k$k" --seed "$k"; known+=("$DIR/k$k"); done
write t1 --from-seed 1 --noise 0.1
teams+=("$DIR/t1")
for t in $(seq 2 "$N"); do write "t$t" --seed $((100 + t)); teams+=("$DIR/t$t"); done
cat "$DIR"/*/model*.safetensors >/dev/null # the page cache warm for both passes
echo "dokja kernel path: $(build/dokja version | sed -n 's/^kernel path: //p'); CPU: $(lscpu | sed -n 's/^Model name: *//p')"
act=()
[ "${NO_ACT:-}" = 1 ] && act=(--no-activations)
build/bench_lineage_cache --threads "$THREADS" "${act[@]}" --known "${known[@]}" --teams "${teams[@]}"
