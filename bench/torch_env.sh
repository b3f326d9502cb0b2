# bench/torch_env.sh: sourced by the side-by-side benchmarks; installs Debian's PyTorch
# with its OpenBLAS and gives it its best on these machines:
#  - OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (the environment's Haswell guard
#    costs OpenBLAS 4x here);
#  - OMP_WAIT_POLICY=PASSIVE and OPENBLAS_NUM_THREADS = the thread count (OpenMP
#    threads otherwise busy-wait against OpenBLAS's own on 2 cores);
#  - tcmalloc (Debian's libtcmalloc-minimal4) preloaded: glibc's malloc maps every
#    large tensor afresh and the page faults are expensive in these VMs. Measured
#    (d 384 config, 2 threads, same machine): glibc 830 tokens/s, glibc with its mmap
#    threshold raised 1490-1570, jemalloc 360 (1705 with decay off), tcmalloc
#    1780-1930; an sgemm of 2048 x 768 x 3072 120 -> 328 GFLOP/s.
#  - confined to the instruction set dokja is confined to: with DOKJA_ISA=avx2 on an
#    AVX-512 machine, ATEN_CPU_CAPABILITY=avx2 (PyTorch's own kernels) and
#    OPENBLAS_CORETYPE=Haswell (OpenBLAS's AVX2 kernels, the ones it picks on Zen 2/3),
#    so that an AVX2 comparison made on an AVX-512 machine is like for like; with
#    DOKJA_ISA=generic, ATEN_CPU_CAPABILITY=default and OpenBLAS's SSE3 kernels
#    (OPENBLAS_CORETYPE=Prescott). TORCH_ISA names what PyTorch was given.
# torch_run THREADS SCRIPT ARGS... runs a Python peer so.
need=()
/usr/bin/python3 -c "import torch" 2>/dev/null || need+=(python3-torch)
for pkg in libopenblas0-pthread libtcmalloc-minimal4; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need+=("$pkg")
done
[ ${#need[@]} -eq 0 ] || scripts/deps.sh "${need[@]}"
TORCH_TCMALLOC=$(ls /usr/lib/*-linux-gnu/libtcmalloc_minimal.so.4 2>/dev/null | head -1)
TORCH_CONFINE=()
case ${DOKJA_ISA:-} in
  avx2) TORCH_CONFINE=(ATEN_CPU_CAPABILITY=avx2 OPENBLAS_CORETYPE=Haswell); TORCH_ISA="avx2 (ATEN_CPU_CAPABILITY=avx2, OpenBLAS Haswell kernels)" ;;
  generic) TORCH_CONFINE=(ATEN_CPU_CAPABILITY=default OPENBLAS_CORETYPE=Prescott); TORCH_ISA="default (ATEN_CPU_CAPABILITY=default, OpenBLAS Prescott kernels)" ;;
  *) TORCH_ISA="its best for this CPU" ;;
esac
torch_run() {
  local threads=$1; shift
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS="$threads" \
      LD_PRELOAD="$TORCH_TCMALLOC" "${TORCH_CONFINE[@]}" /usr/bin/python3 "$@" --threads "$threads"
}
