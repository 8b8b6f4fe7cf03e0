#!/usr/bin/env bash
# Builds every tests/isa/*.S into tests/.work/isa/<name>.elf (incrementally: a
# program is rebuilt when it, common.h or link.ld is newer than its ELF).
# Usage: tests/isa/build.sh [name ...]   (default: all programs)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/../.work/isa"
mkdir -p "$out"
CC=${CC:-riscv64-linux-gnu-gcc}
command -v "$CC" >/dev/null || { echo "build.sh: $CC not found (apt-get install gcc-riscv64-linux-gnu)" >&2; exit 127; }
if [ $# -gt 0 ]; then names=("$@"); else
  names=(); for f in "$here"/*.S; do names+=("$(basename "$f" .S)"); done
fi
for n in "${names[@]}"; do
  src="$here/$n.S"; elf="$out/$n.elf"
  if [ -f "$elf" ] && [ "$elf" -nt "$src" ] && [ "$elf" -nt "$here/common.h" ] && [ "$elf" -nt "$here/link.ld" ]; then
    continue
  fi
  "$CC" -march=rv64gc -mabi=lp64d -mno-relax -nostdlib -nostartfiles -static -fno-pie -no-pie \
    -Wl,--no-relax -Wl,--build-id=none -Wl,-T,"$here/link.ld" -I "$here" -o "$elf.tmp" "$src"
  mv "$elf.tmp" "$elf"
done
