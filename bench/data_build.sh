#!/usr/bin/env bash
# bench/data_build.sh: the whole `dokja data build` pipeline (read, normalise, exact
# dedupe, scrub, MinHash near-dup removal, tokenize, shard, manifest) timed on the dev
# corpora and, with --big, on a synthetic mix (build/bench_synth_mix: the dev text once,
# then rounds of edited near-copies). Issue 16's target: at least 20 MB/s per core.
#
# No peer tool: the pipelines that do this elsewhere (datatrove and the like) are Python
# and cannot be installed on this machine, so the figures are compared against the
# target (ratio = MB/s / (20 MB/s x threads); >= 1.0 meets it) and against the
# configurations themselves: the default (near-dup removal and scrubbing on),
# --no-near-dup, and --no-near-dup --no-scrub, each on 1 thread and on all (nproc).
#
# The sources: the nine dev corpora (every directory of DATA except eval_*), one source
# each. The tokenizer: 8k BPE trained once on ko_nsmc, ko_laws and en_tinyshakespeare,
# cached in CACHE. Every configuration runs R times, the configurations alternating so
# that load drift hits all alike; /usr/bin/time gives wall, user and sys seconds and
# the peak RSS. MB = 10^6 bytes of input files; MB/s from the best wall; MB per
# CPU-second from the run with the least user+sys. Each output directory is removed
# after it is measured.
#
# With --big, a projection for 1 TB: from the wall rate and from the CPU time, and the
# peak RSS per GB of input (the near-duplicate signatures are held in memory).
#
# With --long, the same dev text cut into documents of about 2 KB (consecutive lines
# joined by a space until 2,000 bytes): the dev corpora are mostly one short line per
# document (82 bytes on average), where each document's fixed costs (its signature's
# 112 bins, its hash-set slot, its <|eos|>) dominate; web and book documents are
# kilobytes long.
#
# With --signed, the first pass signed elsewhere (issue 16's "many machines"): each
# source signed by its own `dokja data sign` process (as each partner would, on its own
# machine), then `dokja data build --signatures` on all of them, beside the default
# build in alternating rounds; the two datasets are compared (shards byte for byte, the
# manifests but for the list of signature files). Reported: the signing processes' sum
# and longest (the critical path when partners sign in parallel), the signature bytes,
# and the build's wall, CPU and peak RSS with and without the signatures.
#
# usage: bench/data_build.sh [-r R] [--long] [--signed] [--big BYTES] [--big-only]
#   -r R         runs per configuration on the dev corpora (default 3; env R)
#   --long       also the table for the dev text in ~2 KB documents (cached in CACHE)
#   --big BYTES  also generate the synthetic mix of BYTES (1G = 10^9; cached in CACHE)
#                and run the default configuration on it once on all threads
#   --signed     also the signed-elsewhere comparison (on the dev corpora, and on the
#                mix with --big)
#   --big-only   skip the dev-corpora table (with --big)
# env: DATA (../shared/data), CACHE (${TMPDIR:-/tmp}/dokja-bench-data), SEED (2026)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data}
CACHE=${CACHE:-${TMPDIR:-/tmp}/dokja-bench-data}
SEED=${SEED:-2026}
R=${R:-3}
BIG=
DEV=1
LONG=0
SIGNED=0
while [ $# -gt 0 ]; do
  case $1 in
    -r|--runs) R=$2; shift 2 ;;
    --big) BIG=$2; shift 2 ;;
    --big-only) DEV=0; shift ;;
    --long) LONG=1; shift ;;
    --signed) SIGNED=1; shift ;;
    *) echo "usage: $0 [-r R] [--long] [--signed] [--big BYTES] [--big-only]" >&2; exit 2 ;;
  esac
done
[ -x /usr/bin/time ] || { echo "$0: /usr/bin/time is needed (apt-get install time)" >&2; exit 1; }
if command -v jq >/dev/null; then
  near_dropped() { jq '[.sources[].dropped.near_duplicate] | add' "$1"; }
  exact_dropped() { jq '[.sources[].dropped.exact_duplicate] | add' "$1"; }
  docs_in() { jq '[.sources[].documents] | add' "$1"; }
else
  jsum() { python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(sum(eval("s"+sys.argv[2]) for s in m["sources"]))' "$@"; }
  near_dropped() { jsum "$1" '["dropped"]["near_duplicate"]'; }
  exact_dropped() { jsum "$1" '["dropped"]["exact_duplicate"]'; }
  docs_in() { jsum "$1" '["documents"]'; }
fi

# Builds: any failure stops the script (set -e) with make's own errors above.
make -j2 build/dokja >&2
make -j2 build/bench_synth_mix >&2
DOKJA=$PWD/build/dokja
NPROC=$(nproc)
THREADS=(1)
[ "$NPROC" -gt 1 ] && THREADS+=("$NPROC")

mkdir -p "$CACHE"
WORK=$(mktemp -d "$CACHE/run.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# The tokenizer, trained once.
TOK=$CACHE/tok8k.dokja
if ! "$DOKJA" tokenizer info -t "$TOK" >/dev/null 2>&1; then
  echo "training the 8k tokenizer into $TOK" >&2
  "$DOKJA" tokenizer train -q --vocab-size 8000 -o "$TOK" \
    "$DATA/ko_nsmc" "$DATA/ko_laws" "$DATA/en_tinyshakespeare" >&2
fi

SOURCES=()
for d in "$DATA"/*/; do
  d=${d%/}
  case ${d##*/} in eval_*) continue ;; esac
  SOURCES+=("$d")
done
bytes_of() { find "$@" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f", s }'; }

# run NAME THREADS ARGS... -> appends "name threads wall user sys rss_kb near exact docs"
# to $WORK/results
run() {
  local name=$1 t=$2; shift 2
  local out=$WORK/out tf=$WORK/time log=$WORK/log
  rm -rf "$out"
  if ! /usr/bin/time -f '%e %U %S %M' -o "$tf" "$DOKJA" data build -q -t "$TOK" -o "$out" \
      --threads "$t" "$@" >"$log" 2>&1; then
    echo "$0: dokja data build failed ($name, --threads $t):" >&2
    cat "$log" "$tf" >&2
    exit 1
  fi
  local m=$out/manifest.json
  echo "$name $t $(tail -n 1 "$tf") $(near_dropped "$m") $(exact_dropped "$m") $(docs_in "$m")" >>"$WORK/results"
  rm -rf "$out"
}

# table FILE MB: the Markdown table of the results in FILE for MB megabytes of input
table() {
  awk -v mb="$2" '
    { key = $1 " " $2; if (!(key in n)) order[++k] = key
      n[key]++; w[key, n[key]] = $3; cpu = $4 + $5
      if (!(key in bw) || $3 < bw[key]) bw[key] = $3
      if (!(key in bc) || cpu < bc[key]) bc[key] = cpu
      if ($6 > rss[key]) rss[key] = $6
      near[key] = $7; exact[key] = $8; docs[key] = $9 }
    END {
      print "| configuration | threads | runs | best wall s | median wall s | MB/s (best) | MB per CPU-s | ratio to target | peak RSS MB | near dups dropped | exact dups dropped | documents read |"
      print "|---|---|---|---|---|---|---|---|---|---|---|---|"
      for (i = 1; i <= k; i++) {
        key = order[i]; split(key, f, " "); c = n[key]
        for (a = 1; a <= c; a++) s[a] = w[key, a]
        for (a = 1; a <= c; a++) for (b = a + 1; b <= c; b++) if (s[b] < s[a]) { x = s[a]; s[a] = s[b]; s[b] = x }
        med = c % 2 ? s[(c + 1) / 2] : (s[c / 2] + s[c / 2 + 1]) / 2
        cfg = f[1]; gsub(/_/, " ", cfg)
        printf "| %s | %d | %d | %.2f | %.2f | %.1f | %.1f | %.2f | %.0f | %d | %d | %d |\n", cfg, f[2], c,
               bw[key], med, mb / bw[key], mb / bc[key], mb / bw[key] / (20 * f[2]), rss[key] / 1024,
               near[key], exact[key], docs[key]
        best[key] = bw[key]
      }
      for (i = 1; i <= k; i++) {
        key = order[i]; split(key, f, " ")
        nn = "--no-near-dup " f[2]; ns = "--no-near-dup_--no-scrub " f[2]
        if (f[1] == "default" && (nn in best) && (ns in best))
          printf "threads %d, best wall: default / --no-near-dup = %.2f (near-dup removal); --no-near-dup / --no-near-dup --no-scrub = %.2f (scrubbing)\n", f[2], best[key] / best[nn], best[nn] / best[ns]
      }
    }' "$1"
}

# sweep MB SOURCES...: the three configurations on each thread count, R rounds
# alternating, then their table
sweep() {
  local mb=$1; shift
  : >"$WORK/results"
  for ((r = 1; r <= R; r++)); do
    for t in "${THREADS[@]}"; do
      run default "$t" "$@"
      run --no-near-dup "$t" --no-near-dup "$@"
      run --no-near-dup_--no-scrub "$t" --no-near-dup --no-scrub "$@"
    done
  done
  table "$WORK/results" "$mb"
}

# signed MB THREADS SOURCES...: each source signed by its own process, then the build
# with the signatures, beside the default build; R rounds alternating; then the summary
signed() {
  local mb=$1 t=$2; shift 2
  local tf=$WORK/time log=$WORK/log sigs=() i r
  : >"$WORK/signed"
  for ((r = 1; r <= R; r++)); do
    sigs=()
    i=0
    for src in "$@"; do
      i=$((i + 1))
      rm -f "$WORK/p$i.sig"
      /usr/bin/time -f '%e %U %S %M' -o "$tf" "$DOKJA" data sign -q --threads "$t" -o "$WORK/p$i.sig" "$src" >"$log" 2>&1 ||
        { echo "$0: dokja data sign failed on $src:" >&2; cat "$log" "$tf" >&2; exit 1; }
      echo "sign $r $(tail -n 1 "$tf") $(stat -c %s "$WORK/p$i.sig")" >>"$WORK/signed"
      sigs+=(--signatures "$WORK/p$i.sig")
    done
    for mode in default signed; do
      rm -rf "$WORK/ds-$mode"
      local extra=()
      [ "$mode" = signed ] && extra=("${sigs[@]}")
      /usr/bin/time -f '%e %U %S %M' -o "$tf" "$DOKJA" data build -q -t "$TOK" -o "$WORK/ds-$mode" --threads "$t" \
        "${extra[@]}" "$@" >"$log" 2>&1 || { echo "$0: dokja data build ($mode) failed:" >&2; cat "$log" "$tf" >&2; exit 1; }
      echo "build-$mode $r $(tail -n 1 "$tf") 0" >>"$WORK/signed"
    done
    # the same dataset: every shard byte for byte, the manifest but for signature_files
    local same=yes
    (cd "$WORK/ds-default" && sha256sum -- *.tok) >"$WORK/a.sum"
    (cd "$WORK/ds-signed" && sha256sum -- *.tok) >"$WORK/b.sum"
    cmp -s "$WORK/a.sum" "$WORK/b.sum" || same=no
    python3 -c 'import json,sys
a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); del b["near_dup"]["signature_files"]
sys.exit(0 if a == b else 1)' "$WORK/ds-default/manifest.json" "$WORK/ds-signed/manifest.json" || same=no
    echo "round $r: the dataset built with signatures is identical to the default build's: $same"
    [ "$same" = yes ] || exit 1
    rm -rf "$WORK/ds-default" "$WORK/ds-signed" "$WORK"/p*.sig
  done
  awk -v mb="$mb" -v n="$#" -v t="$t" '
    $1 == "sign" { r = $2; w[r] += $3; c[r] += $4 + $5; if ($3 > mx[r]) mx[r] = $3; if ($6 > srss) srss = $6; bytes[r] += $7 }
    $1 ~ /^build-/ { k = $1; cpu = $4 + $5
      if (!(k in bw) || $3 < bw[k]) bw[k] = $3
      if (!(k in bc) || cpu < bc[k]) bc[k] = cpu
      if ($6 > rss[k]) rss[k] = $6 }
    END {
      for (r in w) { if (!(bsw) || w[r] < bsw) bsw = w[r]; if (!(bsc) || c[r] < bsc) bsc = c[r]; if (!(bmx) || mx[r] < bmx) bmx = mx[r]; sb = bytes[r] }
      printf "signing, %d processes (one per source) of %d threads: sum of walls %.2f s, longest %.2f s (the critical path when partners sign in parallel), %.2f CPU-s (%.1f MB per CPU-s), peak RSS %.0f MB each at most; signatures %.1f MB (%.2f bytes per input byte)\n", n, t, bsw, bmx, bsc, mb / bsc, srss / 1024, sb / 1e6, sb / (mb * 1e6)
      printf "| build (%d threads) | best wall s | MB/s | CPU-s (least) | MB per CPU-s | peak RSS MB |\n|---|---|---|---|---|---|\n", t
      for (k in bw) printf "| %s | %.2f | %.1f | %.2f | %.1f | %.0f |\n", k == "build-default" ? "default (reads every file twice)" : "with --signatures (reads once)", bw[k], mb / bw[k], bc[k], mb / bc[k], rss[k] / 1024
      printf "build with signatures / default: %.2f of the wall, %.2f of the CPU\n", bw["build-signed"] / bw["build-default"], bc["build-signed"] / bc["build-default"]
    }' "$WORK/signed"
}

echo "CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -n 1); avx512f: $(grep -qw avx512f /proc/cpuinfo && echo yes || echo no); nproc $NPROC"
echo "$("$DOKJA" --version 2>&1 | head -n 1); commit $(git rev-parse --short HEAD)$(git status --porcelain | grep -q . && echo -dirty)"
echo "tokenizer: $TOK (8k, trained on ko_nsmc, ko_laws, en_tinyshakespeare)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

if [ "$DEV" = 1 ]; then
  DEV_BYTES=$(bytes_of "${SOURCES[@]}")
  DEV_MB=$(awk -v b="$DEV_BYTES" 'BEGIN { printf "%.1f", b / 1e6 }')
  echo
  echo "dev corpora: ${#SOURCES[@]} sources, $DEV_BYTES bytes ($DEV_MB MB): ${SOURCES[*]##*/}; $R runs each"
  sweep "$DEV_MB" "${SOURCES[@]}"
fi

if [ "$SIGNED" = 1 ] && [ "$DEV" = 1 ]; then
  DEV_BYTES=$(bytes_of "${SOURCES[@]}")
  DEV_MB=$(awk -v b="$DEV_BYTES" 'BEGIN { printf "%.1f", b / 1e6 }')
  echo
  echo "dev corpora signed elsewhere: ${#SOURCES[@]} sources ($DEV_MB MB), one signing process per source; $R rounds"
  signed "$DEV_MB" "$NPROC" "${SOURCES[@]}"
fi

if [ "$LONG" = 1 ]; then
  LONGDIR=$CACHE/long-2k
  if [ ! -f "$LONGDIR/done" ]; then
    rm -rf "$LONGDIR"
    for d in "${SOURCES[@]}"; do
      mkdir -p "$LONGDIR/${d##*/}"
      find "$d" -type f | LC_ALL=C sort | xargs cat |
        awk '{ buf = buf (buf == "" ? "" : " ") $0 } length(buf) >= 2000 { print buf; buf = "" } END { if (buf != "") print buf }' \
          >"$LONGDIR/${d##*/}/text.txt"
    done
    touch "$LONGDIR/done"
  fi
  LSOURCES=()
  for d in "${SOURCES[@]}"; do LSOURCES+=("$LONGDIR/${d##*/}"); done
  LONG_BYTES=$(bytes_of "${LSOURCES[@]}")
  LONG_MB=$(awk -v b="$LONG_BYTES" 'BEGIN { printf "%.1f", b / 1e6 }')
  echo
  echo "dev text in ~2 KB documents: ${#LSOURCES[@]} sources in $LONGDIR, $LONG_BYTES bytes ($LONG_MB MB); $R runs each"
  sweep "$LONG_MB" "${LSOURCES[@]}"
fi

if [ -n "$BIG" ]; then
  # The mix, cached by size, seed and the generator's sources.
  KEY=$(cat bench/bench_synth_mix.c bench/dedupe_corpus.c bench/dedupe_corpus.h | sha256sum | cut -c1-12)
  MIX=$CACHE/mix-$BIG-seed$SEED-$KEY
  if [ ! -f "$MIX/done" ]; then
    rm -rf "$MIX"
    mkdir -p "$MIX"
    echo "generating the synthetic mix into $MIX" >&2
    mkdir -p "$MIX/data"
    build/bench_synth_mix --data "$DATA" --out "$MIX/data/mix" --bytes "$BIG" --seed "$SEED" >"$MIX/summary.txt"
    touch "$MIX/done"
  fi
  BIG_BYTES=$(bytes_of "$MIX/data")
  BIG_MB=$(awk -v b="$BIG_BYTES" 'BEGIN { printf "%.1f", b / 1e6 }')
  echo
  echo "synthetic mix: $(find "$MIX/data" -type f | wc -l) files in $MIX/data, $BIG_BYTES bytes ($BIG_MB MB), one source"
  cat "$MIX/summary.txt"
  : >"$WORK/results"
  run default "$NPROC" "$MIX/data"
  table "$WORK/results" "$BIG_MB"
  # 1 TB = 10^6 MB: at the wall rate measured (the load of other jobs included), and in
  # CPU time (user + sys), which is what the machine would need were it idle and the
  # run scaled perfectly over its cores; peak RSS per GB of input.
  awk -v mb="$BIG_MB" -v t="$NPROC" '{
    printf "projection for 1 TB: %.1f h at the wall rate measured here (%d threads, %.1f MB/s per thread); ", 1e6 / (mb / $3) / 3600, t, mb / $3 / t
    printf "%.1f CPU-hours at %.1f MB per CPU-s (%.1f h on %d idle cores, %.2f h on 64); ", 1e6 / (mb / ($4 + $5)) / 3600, mb / ($4 + $5), 1e6 / (mb / ($4 + $5)) / 3600 / t, t, 1e6 / (mb / ($4 + $5)) / 3600 / 64
    printf "peak RSS %.2f GB per GB of input\n", $6 / 1024 / 1024 / (mb / 1000) }' "$WORK/results"
  if [ "$SIGNED" = 1 ]; then
    # the mix's files as partners: each file its own source and signing process
    mapfile -t MIXFILES < <(find "$MIX/data" -type f | LC_ALL=C sort)
    echo
    echo "synthetic mix signed elsewhere: ${#MIXFILES[@]} files, one signing process each, one source each in the build; $R rounds"
    signed "$BIG_MB" "$NPROC" "${MIXFILES[@]}"
  fi
fi
echo
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
