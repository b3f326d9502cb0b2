#!/usr/bin/env bash
# bench/generate.sh: dokja's prompt processing and decoding against PyTorch's (KV cache,
# fp32), side by side on config (b) of the model-core issue (and (a)). dokja also reports
# the fraction of the FMA peak and of the read bandwidth it measures in the same run.
# PyTorch gets its best (bench/torch_env.sh: OpenBLAS variables unset,
# OMP_WAIT_POLICY=PASSIVE, tcmalloc).
#
# ROUNDS > 1 runs dokja and PyTorch in turn that many times; each figure is the best
# run's (prompt and its share of the peak from the run with the fastest prompt, decoding
# and its share of the bandwidth from the run with the fastest decoding), as in
# bench/step.sh: this VM's cores and memory bandwidth change speed for minutes at a time.
#
# usage: bench/generate.sh [THREADS] [PROMPT] [GEN] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=${1:-2}
P=${2:-128}
N=${3:-64}
ROUNDS=${4:-1}
source bench/torch_env.sh
make -s -j2 build/dokja
echo "dokja kernel path: $(build/dokja version | sed -n 's/^kernel path: //p') (DOKJA_ISA=${DOKJA_ISA:-auto})"
echo "PyTorch: $TORCH_ISA"
num() { echo "$1" | sed -E "s/.*\"$2\": ([0-9.]+).*/\\1/"; }
gt() { awk -v a="$1" -v b="$2" 'BEGIN{exit !(a > b)}'; }
printf '%-6s %14s %10s %14s %10s %12s %12s\n' config "prompt tok/s" "of peak" "decode tok/s" "of bw" "torch prompt" "torch decode"
for name in b a; do
  pre=0 pre_f=0 dec=0 dec_f=0 tpre=0 tdec=0
  for ((r = 0; r < ROUNDS; r++)); do
    j=$(build/dokja bench generate --model "bench/configs/$name.json" --prompt-len "$P" --gen "$N" --threads "$THREADS" --json | tail -1)
    if gt "$(num "$j" prefill_tokens_per_s)" "$pre"; then
      pre=$(num "$j" prefill_tokens_per_s) pre_f=$(num "$j" prefill_peak_fraction)
    fi
    if gt "$(num "$j" decode_tokens_per_s)" "$dec"; then
      dec=$(num "$j" decode_tokens_per_s) dec_f=$(num "$j" decode_bandwidth_fraction)
    fi
    pt=$(torch_run "$THREADS" bench/torch_generate.py --config "bench/configs/$name.json" --prompt-len "$P" --gen "$N")
    if gt "$(num "$pt" prefill_tokens_per_s)" "$tpre"; then tpre=$(num "$pt" prefill_tokens_per_s); fi
    if gt "$(num "$pt" decode_tokens_per_s)" "$tdec"; then tdec=$(num "$pt" decode_tokens_per_s); fi
  done
  printf '%-6s %14.0f %9.1f%% %14.1f %9.1f%% %12.0f %12.1f\n' "$name" "$pre" \
    "$(awk -v m="$pre_f" 'BEGIN{print 100*m}')" "$dec" "$(awk -v m="$dec_f" 'BEGIN{print 100*m}')" "$tpre" "$tdec"
done
[ "$ROUNDS" -le 1 ] || echo "Each figure the best of $ROUNDS rounds (dokja and PyTorch in turn)."
echo "of peak: prompt GFLOP/s over the fp32 FMA peak; of bw: decode bytes read per second over the"
echo "read bandwidth of a 1 GiB huge-page buffer; both measured by dokja bench generate in the same run."
