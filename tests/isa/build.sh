#!/usr/bin/env bash
# Builds every program - tests/isa/<name>.S (assembly), or tests/isa/<name>.c
# (C, linked with c/crt.S) - into tests/.work/isa/<name>.elf, incrementally: a
# program is rebuilt when it, a header (*.h), c/crt.S, link.ld or this script
# is newer than its ELF.
# Usage: tests/isa/build.sh [name ...]   (default: all programs)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/../.work/isa"
mkdir -p "$out"
CC=${CC:-riscv64-linux-gnu-gcc}
command -v "$CC" >/dev/null || { echo "build.sh: $CC not found (apt-get install gcc-riscv64-linux-gnu)" >&2; exit 127; }
if [ $# -gt 0 ]; then names=("$@"); else
  names=(); for f in "$here"/*.S "$here"/*.c; do n="${f##*/}"; names+=("${n%.*}"); done
fi
deps=("$here"/*.h "$here/c/crt.S" "$here/link.ld" "$here/build.sh")
flags=(-march=rv64gc -mabi=lp64d -mno-relax -nostdlib -nostartfiles -static -fno-pie -no-pie
       -Wl,--no-relax -Wl,--build-id=none -Wl,-T,"$here/link.ld" -I "$here")
for n in "${names[@]}"; do
  src="$here/$n.S"; [ -f "$src" ] || src="$here/$n.c"
  elf="$out/$n.elf"
  [ -f "$src" ] || { echo "build.sh: no program $n (.S or .c) in $here" >&2; exit 1; }
  fresh=1
  [ -f "$elf" ] && [ "$elf" -nt "$src" ] || fresh=0
  for d in "${deps[@]}"; do [ "$fresh" = 1 ] && [ "$elf" -nt "$d" ] || fresh=0; done
  [ "$fresh" = 1 ] && continue
  if [ "${src##*.}" = c ]; then
    # -fno-tree-loop-distribute-patterns: no memset/memcpy calls (there is no libc)
    "$CC" "${flags[@]}" -O2 -mcmodel=medany -ffreestanding -fno-tree-loop-distribute-patterns -Wall -Werror \
      -o "$elf.tmp" "$here/c/crt.S" "$src"
  else
    "$CC" "${flags[@]}" -o "$elf.tmp" "$src"
  fi
  mv "$elf.tmp" "$elf"
done
