#!/usr/bin/env bash
# scripts/test.sh: builds dokja and runs the whole test suite twice: optimised, then
# under AddressSanitizer + UndefinedBehaviorSanitizer, and its multi-threaded tests under
# ThreadSanitizer; then the kernel and whole-model
# tests once more on every lower kernel path this CPU runs (avx2, generic: see
# src/kernels/isa.h). After the optimised pass, tests/hostile.sh runs every command
# against hostile inputs (its failures count like the tests'). Installs missing Debian
# build dependencies first. The last line is the combined "N passed, N failed". Every
# pass runs the slow tests too (DOKJA_TEST_FULL=1; the sanitizer build compiles the
# slowest ones out).
# --aarch64 (CI does it): then also the kernel and model tests cross-built for 64-bit
# ARM and run under qemu-user (scripts/test-aarch64.sh; it installs a cross compiler,
# qemu and arm64 multiarch libraries, so it is not the default).
set -uo pipefail
cd "$(dirname "$0")/.."
export DOKJA_TEST_FULL=1
aarch64=0
case "${1:-}" in
  --aarch64) aarch64=1 ;;
  "") ;;
  *) echo "usage: scripts/test.sh [--aarch64]" >&2; exit 2 ;;
esac
scripts/deps.sh $(cat scripts/build-deps.txt) || exit 1
jobs=$(nproc 2>/dev/null || echo 2)
status=0
total_pass=0; total_fail=0
run() { # run LABEL make-target | run LABEL -- command...
  local label=$1; shift
  echo "== $label"
  local log; log=$(mktemp)
  if [ "$1" = -- ]; then shift; "$@" 2>&1 | tee "$log"; else make -s -j"$jobs" "$@" 2>&1 | tee "$log"; fi
  local rc=${PIPESTATUS[0]}
  local line; line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -1)
  rm -f "$log"
  if [ -z "$line" ]; then
    echo "$label: the test runner did not finish (exit $rc)"; total_fail=$((total_fail + 1)); status=1; return
  fi
  total_pass=$((total_pass + ${line%% passed*}))
  local f=${line#*, }; total_fail=$((total_fail + ${f%% failed}))
  [ "$rc" -eq 0 ] || status=1
}
run "tests (-O2)" test-full
# every command against hostile inputs, on the optimised build/dokja just built (the
# sanitizer build needs more address space than the sweep's 1 GB limit): docs/reliability.md
run "hostile inputs (tests/hostile.sh)" -- bash tests/hostile.sh
run "tests (ASan + UBSan)" test-asan
run "multi-threaded tests (ThreadSanitizer)" test-tsan
case $(build/dokja version | sed -n 's/^kernel path: \([a-z0-9]*\).*/\1/p') in
  avx512) lower="avx2 generic" ;;
  avx2) lower=generic ;;
  *) lower= ;;
esac
for isa in $lower; do
  run "kernel and model tests on the $isa path" test-path ISA=$isa
done
[ "$aarch64" -eq 0 ] || run "kernel and model tests on aarch64 (qemu)" -- scripts/test-aarch64.sh
echo "$total_pass passed, $total_fail failed"
exit $status
