#!/usr/bin/env bash
# scripts/test-aarch64.sh: builds dokja for 64-bit ARM with Debian's cross compiler and
# runs the kernel and whole-model tests under qemu-user (the generic kernel path: the
# only one off x86-64). Installs what it needs first: gcc-aarch64-linux-gnu, qemu-user,
# and the target's libraries as Debian multiarch packages (:arm64). Open MPI's arm64 -dev
# package conflicts with the host's, so its arm64 packages are downloaded and unpacked
# into build/aarch64/mpi instead (make's MPI_ROOT). Multiarch keeps a library's copies
# for both architectures at one version, so apt may upgrade the host's libc, libssl etc.
# to the archive's current point release. The last line is the runner's
# "N passed, N failed"; the exit status is non-zero on any failure.
#
# The tests: the Makefile's PATH_TESTS (kernels, ops, whole-model: PyTorch parity,
# finite differences, inference = training forward, thread-count determinism, the CLI's
# train and generate) and the training-digest test (the x86 paths' weights, bit for bit),
# without two that train for hundreds of steps through the CLI: bf16's loss curve on
# real text and the evaluation of an overfitted model (140 s and 8 s natively, far too
# long emulated). The runner selects by substring, hence model_'s narrower names.
# The CLI's training runs here too (train_runs, generate_, the ledger's replay): they
# used to stop with all threads in futex waits under qemu-user at a random step. The cause
# was the thread pool's Dekker hand-offs (src/util/pool.c): under emulation a store could
# pass the following load, so a caller waited on `done` while its worker slept on `wake`;
# explicit fences fixed it (2026-12-03; the same list hung twice before, not since).
# About 2.5 minutes on 2 cores, the cross build included. AARCH64_TESTS overrides the list.
set -uo pipefail
cd "$(dirname "$0")/.."
B=build/aarch64
TESTS=${AARCH64_TESTS:-"isa_ matmul vexp adamw ops_ model_gradients model_overfits model_grad_hook model_dir_save
  torch_parity infer_ bf16_model grad_clip lineage_stats lineage_screened training_gives
  gguf_hand_made gguf_refuses_each gguf_every_truncation gguf_f16_conversion gguf_q8_0_block gguf_writer_
  train_runs_are generate_continues ledger_replay"}

SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  $SUDO dpkg --add-architecture arm64 || exit 1
  $SUDO apt-get update -qq || exit 1
fi
scripts/deps.sh make gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user \
  libjansson-dev:arm64 libssl-dev:arm64 libedit-dev:arm64 libutf8proc-dev:arm64 \
  libhwloc15:arm64 libevent-core-2.1-7:arm64 libevent-pthreads-2.1-7:arm64 zlib1g:arm64 libudev1:arm64 || exit 1

# Open MPI for arm64, unpacked (not installed) once.
if [ ! -e "$B/mpi/usr/lib/aarch64-linux-gnu/libmpi.so.40" ]; then
  rm -rf "$B/mpi" "$B/debs" && mkdir -p "$B/mpi" "$B/debs" || exit 1
  get() { (cd "$B/debs" && apt-get download libopenmpi3:arm64 libopenmpi-dev:arm64 > ../apt-download.log 2>&1); }
  get || { $SUDO apt-get update -qq && get; } ||
    { cat "$B/apt-download.log"; echo "aarch64: could not download Open MPI's arm64 packages"; exit 1; }
  for d in "$B"/debs/*.deb; do dpkg-deb -x "$d" "$B/mpi" || exit 1; done
fi

echo "== aarch64: cross build (gcc-aarch64-linux-gnu)"
make -s -j"$(nproc 2>/dev/null || echo 2)" CROSS=aarch64-linux-gnu- BUILD="$B" MPI_ROOT="$B/mpi" \
  "$B/dokja" "$B/dokja_tests" || { echo "aarch64: the cross build failed"; echo "0 passed, 1 failed"; exit 1; }

# qemu-aarch64 runs the binaries; the arm64 libc and libraries are the multiarch ones
# on this machine, libmpi's are under $B/mpi. The tests run the CLI through DOKJA_BIN,
# inside a shell command: a wrapper that starts it under qemu.
libs=$PWD/$B/mpi/usr/lib/aarch64-linux-gnu
printf '#!/bin/sh\nexec qemu-aarch64 -E LD_LIBRARY_PATH=%s %s "$@"\n' "$libs" "$PWD/$B/dokja" > "$B/dokja-qemu"
chmod +x "$B/dokja-qemu"

echo "== aarch64: kernel and model tests under qemu-aarch64"
log=$(mktemp)
"$B/dokja-qemu" version 2>&1 | tee "$log"
# shellcheck disable=SC2086
# a hang under emulation fails the step (bounded) instead of holding CI
DOKJA_BIN=$PWD/$B/dokja-qemu timeout 1500 qemu-aarch64 -E LD_LIBRARY_PATH="$libs" "$B/dokja_tests" $TESTS 2>&1 | tee -a "$log"
rc=${PIPESTATUS[0]}
line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -1)
rm -f "$log"
if [ -z "$line" ]; then # the runner died before its summary: say so in the same form
  echo "aarch64: the test runner did not finish (exit $rc)"
  echo "0 passed, 1 failed"
  exit 1
fi
exit "$rc"
