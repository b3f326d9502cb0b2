#!/usr/bin/env bash
# bench/lineage.sh: `dokja lineage` at real scale. Writes three Llama-7B-shaped models
# (hidden 4096, MLP 11008, 32 heads, vocabulary 32000, BF16 safetensors in one shard per
# layer; about 13 GB each) with build/bench_lineage_write: A (seed 1), B (seed 2,
# unrelated) and C (A with every layer's MLP neurons permuted and 10 % noise: a
# disguised copy), then times the unrelated pair A-B and the derived pair A-C.
#
# usage: bench/lineage.sh [LAYERS] [THREADS]     (defaults 32 and 2)
#   LINEAGE_DIR  where the models go (default build/lineage-7b-L<LAYERS>; reused if there)
#   MAP=full     also time the unscreened layer map (slow at 32 layers: the square of the depth)
# Each pair runs twice: "cold" after dropping the page cache (as for freshly copied files;
# needs root, else the cache is as it is and the row says "as is"), then "warm" at once.
set -euo pipefail
cd "$(dirname "$0")/.."
LAYERS=${1:-32}
THREADS=${2:-2}
DIR=${LINEAGE_DIR:-build/lineage-7b-L$LAYERS}
make -s -j2 build/dokja build/bench_lineage_write
mkdir -p "$DIR"
write() { # NAME ARGS...
  local name=$1; shift
  if [ ! -f "$DIR/$name/.done" ]; then
    echo "writing $DIR/$name ($*)" >&2
    build/bench_lineage_write "$DIR/$name" --layers "$LAYERS" "$@"
    touch "$DIR/$name/.done"
  fi
}
write a --seed 1
write b --seed 2
write c --from-seed 1 --noise 0.1
echo "dokja kernel path: $(build/dokja version | sed -n 's/^kernel path: //p'); models: $LAYERS layers, hidden 4096, MLP 11008, BF16 ($(du -sh "$DIR/a" | cut -f1) each)"
printf '%-6s %-7s %-7s %8s %8s %8s %8s %7s %-12s %-11s %9s %7s\n' pair map cache total "map" reads products LAP verdict kind "log10 p" refined
modes=auto
[ "${MAP:-}" = full ] && modes="auto full"
for mode in $modes; do
  for pair in a:b a:c; do
    IFS=: read -r x y <<< "$pair"
    for cache in cold warm; do
      label=$cache
      if [ "$cache" = cold ]; then
        if [ -w /proc/sys/vm/drop_caches ]; then sync; echo 3 > /proc/sys/vm/drop_caches; else label="as is"; fi
      fi
      j=$(build/dokja lineage "$DIR/$x" "$DIR/$y" --map "$mode" --threads "$THREADS" --json -q)
      echo "$j" | python3 -c '
import json, sys
d = json.load(sys.stdin); m = d["layer_map"]; s = d["seconds"]
print("%-6s %-7s %-7s %8.1f %8.1f %8.1f %8.1f %7.1f %-12s %-11s %9.1f %7s" % (sys.argv[1], sys.argv[2], sys.argv[3],
      s["total"], s["layer_map"], s["weight_reads"], s["products"], s["lap"], d["verdict"], d["kind"], d["log10_p"],
      m.get("pairs_tested_in_full", "all")))' "$x-$y" "$mode" "$label"
    done
  done
done
