#!/usr/bin/env bash
# Boot benchmark: vmsup vs qemu-system-riscv64 on the same riscv64 guest (see bench/README.md).
# Expects scripts/bench.sh to have installed packages and built vmsup; finds a guest with
# guest/get.sh (../shared/guest, else guest/out, else builds one). Extra arguments: none;
# tune with BENCH_RUNS, BENCH_TIMEOUT, BENCH_IDLE_SECONDS, BENCH_PEERS, BENCH_MB.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v qemu-system-riscv64 >/dev/null || {
  echo "bench/boot: qemu-system-riscv64 is missing (bash scripts/install-deps.sh --bench); measuring vmsup alone" >&2
  export BENCH_PEERS=${BENCH_PEERS:-vmsup,vmsup-bios,vmsup-nojit}
}
GUEST=$(bash guest/get.sh)
exec nice -n "${BENCH_NICE:-0}" node bench/boot/boot.mjs "$GUEST"
