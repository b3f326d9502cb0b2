#!/usr/bin/env bash
# bench/generate.sh: dokja's prompt processing and decoding against PyTorch's (KV cache,
# fp32), side by side on config (b) of the model-core issue (and (a)). dokja also reports
# the fraction of the FMA peak and of the read bandwidth it measures in the same run.
# PyTorch gets its best (bench/torch_env.sh: OpenBLAS variables unset,
# OMP_WAIT_POLICY=PASSIVE, tcmalloc).
#
# usage: bench/generate.sh [THREADS] [PROMPT] [GEN]
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=${1:-2}
P=${2:-128}
N=${3:-64}
source bench/torch_env.sh
make -s -j2 build/dokja
echo "dokja kernel path: $(build/dokja version | sed -n 's/^kernel path: //p') (DOKJA_ISA=${DOKJA_ISA:-auto})"
echo "PyTorch: $TORCH_ISA"
num() { echo "$1" | sed -E "s/.*\"$2\": ([0-9.]+).*/\\1/"; }
printf '%-6s %14s %10s %14s %10s %12s %12s\n' config "prompt tok/s" "of peak" "decode tok/s" "of bw" "torch prompt" "torch decode"
for name in b a; do
  j=$(build/dokja bench generate --model "bench/configs/$name.json" --prompt-len "$P" --gen "$N" --threads "$THREADS" --json | tail -1)
  pt=$(torch_run "$THREADS" bench/torch_generate.py --config "bench/configs/$name.json" --prompt-len "$P" --gen "$N")
  printf '%-6s %14.0f %9.1f%% %14.1f %9.1f%% %12.0f %12.1f\n' "$name" "$(num "$j" prefill_tokens_per_s)" \
    "$(awk -v m="$(num "$j" prefill_peak_fraction)" 'BEGIN{print 100*m}')" "$(num "$j" decode_tokens_per_s)" \
    "$(awk -v m="$(num "$j" decode_bandwidth_fraction)" 'BEGIN{print 100*m}')" \
    "$(num "$pt" prefill_tokens_per_s)" "$(num "$pt" decode_tokens_per_s)"
done
echo "of peak: prompt GFLOP/s over the fp32 FMA peak; of bw: decode bytes read per second over the"
echo "read bandwidth of a 1 GiB huge-page buffer; both measured by dokja bench generate in the same run."
