#!/usr/bin/env bash
# Builds every tests/cpu/*.S into tests/.work/cpu/<name>.elf, plus the
# deliberately broken ELFs the error tests use. Usage: tests/cpu/build.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/../.work/cpu"
mkdir -p "$out"
CC=${CC:-riscv64-linux-gnu-gcc}
command -v "$CC" >/dev/null || { echo "build.sh: $CC not found (apt-get install gcc-riscv64-linux-gnu)" >&2; exit 127; }
cc() { "$CC" -march=rv64gc -mabi=lp64d -nostdlib -nostartfiles -static -Wl,--build-id=none -I "$here" "$@"; }
for f in "$here"/*.S; do
  n=$(basename "$f" .S)
  cc -Wl,-T,"$here/link.ld" -o "$out/$n.elf" "$f"
done
# A program linked below RAM (0x80000000): its segment lies outside RAM.
cc -Wl,-Ttext=0x70000000 -o "$out/below-ram.elf" "$here/fail.S"
