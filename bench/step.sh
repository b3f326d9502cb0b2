#!/usr/bin/env bash
# bench/step.sh: dokja's training step against PyTorch's, side by side, on the model-core
# configs (a) d384 L6 V8192 batch 8 x 256 and (b) d768 L12 V32000 batch 4 x 512.
# dokja runs in the environment as it is; PyTorch gets its best (bench/torch_env.sh:
# OpenBLAS variables unset, OMP_WAIT_POLICY=PASSIVE, tcmalloc).
#
# usage: bench/step.sh [THREADS] [STEPS]
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=${1:-2}
STEPS=${2:-5}
source bench/torch_env.sh
make -s -j2 build/dokja
echo "dokja kernel path: $(build/dokja version | sed -n 's/^kernel path: //p') (DOKJA_ISA=${DOKJA_ISA:-auto})"
echo "PyTorch: $TORCH_ISA"
printf '%-6s %-12s %12s %10s %8s %12s %12s %10s %10s\n' config "batch" "dokja tok/s" "GFLOP/s" "MFU" "bf16 tok/s" "torch tok/s" "ratio" "bf16 ratio"
for cfg in a:8:256 b:4:512; do
  IFS=: read -r name B T <<< "$cfg"
  out=$(build/dokja bench step --model "bench/configs/$name.json" --batch "$B" --seq "$T" --steps "$STEPS" --threads "$THREADS" --json)
  echo "$out" | sed 's/^/  /' >&2
  j=$(echo "$out" | tail -1)
  tps=$(echo "$j" | sed -E 's/.*"tokens_per_s": ([0-9.]+).*/\1/')
  gf=$(echo "$j" | sed -E 's/.*"gflops": ([0-9.]+).*/\1/')
  mfu=$(echo "$j" | sed -E 's/.*"mfu": ([0-9.]+).*/\1/')
  pt=$(torch_run "$THREADS" bench/torch_step.py --config "bench/configs/$name.json" --batch "$B" --seq "$T" --steps "$STEPS")
  ptps=$(echo "$pt" | sed -E 's/.*"tokens_per_s": ([0-9.]+).*/\1/')
  bf=$(build/dokja bench step --model "bench/configs/$name.json" --batch "$B" --seq "$T" --steps "$STEPS" --threads "$THREADS" --bf16 --json 2>/dev/null | tail -1 || true)
  btps=$(echo "$bf" | sed -E 's/.*"tokens_per_s": ([0-9.]+).*/\1/'); btps=${btps:-0}
  printf '%-6s %-12s %12.0f %10.1f %7.1f%% %12.0f %12.0f %9.2fx %9.2fx\n' "$name" "${B} x ${T}" "$tps" "$gf" \
    "$(awk -v m="$mfu" 'BEGIN{print 100*m}')" "$btps" "$ptps" "$(awk -v a="$tps" -v b="$ptps" 'BEGIN{print a/b}')" \
    "$(awk -v a="$btps" -v b="$ptps" 'BEGIN{print a/b}')"
done
echo "MFU: GFLOP/s over the fp32 FMA peak measured in the same run by dokja bench step."
echo "bf16: dokja bench step --bf16 (bf16 operands, fp32 accumulation; AMX tiles where the CPU has them)."
