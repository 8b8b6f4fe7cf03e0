#!/usr/bin/env bash
# Differential check of the vCPU against QEMU (a developer tool, not part of
# `npm test`, since it needs qemu-system-misc): random programs from
# gen_random.py run under `qemu-system-riscv64 -M spike` and `vmsup run`, and
# their register dumps must be identical.
# Usage: tests/cpu/diff-qemu.sh [first-seed [count]]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
vmsup="$here/../../bin/vmsup"
out="$here/../.work/cpu-diff"
mkdir -p "$out"
first=${1:-1}; count=${2:-20}; fails=0
for ((s = first; s < first + count; s++)); do
  python3 "$here/gen_random.py" "$s" > "$out/r$s.S"
  riscv64-linux-gnu-gcc -march=rv64gc -mabi=lp64d -nostdlib -nostartfiles -static -Wl,--build-id=none \
    -T "$here/link.ld" -I "$here" -o "$out/r$s.elf" "$out/r$s.S"
  timeout 20 qemu-system-riscv64 -M spike -bios none -nographic -kernel "$out/r$s.elf" > "$out/r$s.qemu" 2>&1 || true
  timeout 20 "$vmsup" run --timeout 10 -b "$out/r$s.elf" 2>&1 | grep -v '^PASS$' > "$out/r$s.vmsup" || true
  if ! cmp -s "$out/r$s.qemu" "$out/r$s.vmsup"; then
    echo "seed $s: vmsup and QEMU differ (see $out/r$s.*)"
    fails=$((fails + 1))
  fi
done
echo "diff-qemu: $count programs, $fails differ"
[ "$fails" = 0 ]
