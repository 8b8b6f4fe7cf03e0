#!/usr/bin/env bash
# Builds every tests/isa/*.S into tests/.work/isa/<name>.elf (incrementally: a
# program is rebuilt when it, a header (*.h), link.ld or this script is newer
# than its ELF).
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
deps=("$here"/*.h "$here/link.ld" "$here/build.sh")
for n in "${names[@]}"; do
  src="$here/$n.S"; elf="$out/$n.elf"
  [ -f "$src" ] || { echo "build.sh: no program $src" >&2; exit 1; }
  fresh=1
  [ -f "$elf" ] && [ "$elf" -nt "$src" ] || fresh=0
  for d in "${deps[@]}"; do [ "$fresh" = 1 ] && [ "$elf" -nt "$d" ] || fresh=0; done
  [ "$fresh" = 1 ] && continue
  "$CC" -march=rv64gc -mabi=lp64d -mno-relax -nostdlib -nostartfiles -static -fno-pie -no-pie \
    -Wl,--no-relax -Wl,--build-id=none -Wl,-T,"$here/link.ld" -I "$here" -o "$elf.tmp" "$src"
  mv "$elf.tmp" "$elf"
done
