#!/usr/bin/env bash
# bench/cpu: the CPU benchmark (issue 2). Builds bench.c for the guest
# (riscv64, bare metal, -O2) and for the host (x86-64, -O2), runs the guest
# through the addon and the host build natively, and prints guest instructions
# retired, guest MIPS, host ns per guest instruction and the slowdown factor.
# Usage: bash bench/cpu/run.sh   (needs a built addon: scripts/build.sh)
# Tuning: BENCH_RUNS (runs of each, default 5), BENCH_CPU_ROUNDS (workload
# rounds, default 60: about 180 million guest instructions). Then the small
# programs of small.c (calls, indirect, sort, matmul, memcpy, crc), BENCH_SMALL_RUNS
# runs each (default 3); BENCH_SMALL=0 skips them, BENCH_SMALL_KERNELS="3 7" picks some.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../.."
out="$root/build/bench-cpu"
rounds="${BENCH_CPU_ROUNDS:-60}"
mkdir -p "$out"
riscv64-linux-gnu-gcc -O2 -march=rv64gc -mabi=lp64d -mcmodel=medany -static -nostdlib -nostartfiles \
  -ffreestanding -fno-builtin -Wl,--build-id=none -T "$here/link.ld" -DBENCH_ROUNDS="$rounds" \
  "$here/guest.S" "$here/guest_main.c" "$here/bench.c" -o "$out/bench.elf"
gcc -O2 -DBENCH_ROUNDS="$rounds" "$here/native_main.c" "$here/bench.c" -o "$out/bench-native"
timeout 600 node "$here/run.mjs" "$out/bench.elf" "$out/bench-native"
# The small programs of small.c, one thing each (BENCH_SMALL=0 skips them).
[ "${BENCH_SMALL:-1}" = 0 ] && exit 0
names=(x calls indirect sort matmul fp memcpy crc)
rounds_of=(0 60 20 20 30 20 100 256)
# (fp, KERNEL=5, is not run: guest.S leaves mstatus.FS off, so its FP instructions trap.)
for k in ${BENCH_SMALL_KERNELS:-1 2 3 4 6 7}; do
  r=${rounds_of[$k]}
  riscv64-linux-gnu-gcc -O2 -march=rv64gc -mabi=lp64d -mcmodel=medany -static -nostdlib -nostartfiles \
    -ffreestanding -fno-builtin -Wl,--build-id=none -T "$here/link.ld" -DBENCH_ROUNDS="$r" -DKERNEL=$k \
    "$here/guest.S" "$here/guest_main.c" "$here/small.c" -o "$out/small$k.elf"
  gcc -O2 -DBENCH_ROUNDS="$r" -DKERNEL=$k "$here/native_main.c" "$here/small.c" -o "$out/small$k-native"
  echo
  echo "== small program: ${names[$k]} (bench/cpu/small.c KERNEL=$k) =="
  BENCH_RUNS="${BENCH_SMALL_RUNS:-3}" timeout 600 node "$here/run.mjs" "$out/small$k.elf" "$out/small$k-native"
done
