#!/usr/bin/env bash
# bench/step.sh: dokja's training step against PyTorch's, side by side, on the model-core
# configs (a) d384 L6 V8192 batch 8 x 256 and (b) d768 L12 V32000 batch 4 x 512.
# dokja runs in the environment as it is; PyTorch gets its best (bench/torch_env.sh:
# OpenBLAS variables unset, OMP_WAIT_POLICY=PASSIVE, tcmalloc).
#
# ROUNDS > 1 runs dokja fp32, PyTorch and dokja bf16 in turn that many times and keeps
# each one's best: on a shared VM whose cores change speed for minutes at a time, one
# run of each gave ratios 15 % apart from one invocation to the next.
#
# usage: bench/step.sh [THREADS] [STEPS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=${1:-2}
STEPS=${2:-5}
ROUNDS=${3:-1}
source bench/torch_env.sh
make -s -j2 build/dokja
echo "dokja kernel path: $(build/dokja version | sed -n 's/^kernel path: //p') (DOKJA_ISA=${DOKJA_ISA:-auto})"
echo "PyTorch: $TORCH_ISA"
printf '%-6s %-12s %12s %10s %8s %12s %12s %10s %10s %10s %10s\n' config "batch" "dokja tok/s" "GFLOP/s" "MFU" "bf16 tok/s" "torch tok/s" "ratio" "bf16 ratio" "bf16/fp32" "emu/fp32"
for cfg in a:8:256 b:4:512; do
  IFS=: read -r name B T <<< "$cfg"
  tps=0 gf=0 mfu=0 ptps=0 btps=0 lsum=0 esum=0
  for ((r = 0; r < ROUNDS; r++)); do
    out=$(build/dokja bench step --model "bench/configs/$name.json" --batch "$B" --seq "$T" --steps "$STEPS" --threads "$THREADS" --json)
    echo "$out" | sed 's/^/  /' >&2
    j=$(echo "$out" | tail -1)
    t=$(echo "$j" | sed -E 's/.*"tokens_per_s": ([0-9.]+).*/\1/')
    if awk -v a="$t" -v b="$tps" 'BEGIN{exit !(a > b)}'; then
      tps=$t
      gf=$(echo "$j" | sed -E 's/.*"gflops": ([0-9.]+).*/\1/')
      mfu=$(echo "$j" | sed -E 's/.*"mfu": ([0-9.]+).*/\1/')
    fi
    pt=$(torch_run "$THREADS" bench/torch_step.py --config "bench/configs/$name.json" --batch "$B" --seq "$T" --steps "$STEPS")
    t=$(echo "$pt" | sed -E 's/.*"tokens_per_s": ([0-9.]+).*/\1/')
    ptps=$(awk -v a="$t" -v b="$ptps" 'BEGIN{print (a > b ? a : b)}')
    bf=$(build/dokja bench step --model "bench/configs/$name.json" --batch "$B" --seq "$T" --steps "$STEPS" --threads "$THREADS" --bf16 --vs-fp32 --json 2>/dev/null | tail -1 || true)
    t=$(echo "$bf" | sed -E 's/.*"tokens_per_s": ([0-9.]+).*/\1/'); t=${t:-0}
    btps=$(awk -v a="$t" -v b="$btps" 'BEGIN{print (a > b ? a : b)}')
    q=$(echo "$bf" | sed -E 's/.*"bf16_vs_fp32": ([0-9.]+).*/\1/'); q=${q:-1}
    lsum=$(awk -v s="$lsum" -v q="$q" 'BEGIN{print s + log(q)}')
    # the emulation (what CPUs without AVX512_BF16 run): the run above, unless it used the instructions
    if ! echo "$bf" | grep -q '"bf16_emulated": true'; then
      bf=$(build/dokja bench step --model "bench/configs/$name.json" --batch "$B" --seq "$T" --steps "$STEPS" --threads "$THREADS" --bf16-emulated --vs-fp32 --json 2>/dev/null | tail -1 || true)
      q=$(echo "$bf" | sed -E 's/.*"bf16_vs_fp32": ([0-9.]+).*/\1/'); q=${q:-1}
    fi
    esum=$(awk -v s="$esum" -v q="$q" 'BEGIN{print s + log(q)}')
  done
  printf '%-6s %-12s %12.0f %10.1f %7.1f%% %12.0f %12.0f %9.2fx %9.2fx %9.3fx %9.3fx\n' "$name" "${B} x ${T}" "$tps" "$gf" \
    "$(awk -v m="$mfu" 'BEGIN{print 100*m}')" "$btps" "$ptps" "$(awk -v a="$tps" -v b="$ptps" 'BEGIN{print a/b}')" \
    "$(awk -v a="$btps" -v b="$ptps" 'BEGIN{print a/b}')" "$(awk -v s="$lsum" -v n="$ROUNDS" 'BEGIN{print exp(s/n)}')" \
    "$(awk -v s="$esum" -v n="$ROUNDS" 'BEGIN{print exp(s/n)}')"
done
[ "$ROUNDS" -le 1 ] || echo "Each figure the best of $ROUNDS rounds (dokja fp32, PyTorch, dokja bf16 in turn)."
echo "MFU: GFLOP/s over the fp32 FMA peak measured in the same run by dokja bench step."
echo "bf16: dokja bench step --bf16 (bf16 operands, fp32 accumulation; AMX tiles where the CPU has them)."
echo "bf16/fp32: bf16 steps over fp32 steps interleaved in one process (--vs-fp32), geometric mean of the rounds;"
echo "  the separate tok/s columns come from runs minutes apart on a machine whose speed drifts."
echo "emu/fp32: the same ratio for --bf16-emulated (operands rounded to bf16, fp32 kernels: what CPUs without"
echo "  AVX512_BF16 run); the bf16/fp32 column itself where the bf16 run was already emulated."
