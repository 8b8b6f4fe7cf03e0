#!/usr/bin/env bash
# Builds every program - tests/isa/<name>.S (assembly), or tests/isa/<name>.c
# (C, linked with c/crt.S) - into tests/.work/isa/<name>.elf, incrementally: a
# program is rebuilt when it, a header (*.h), c/crt.S, link.ld or this script
# is newer than its ELF.
# Usage: tests/isa/build.sh [name ...]   (default: all programs)
# Other suites reuse it: ISA_SRC_DIR=<dir of .S files> ISA_OUT_DIR=<dir for
# ELFs> (their programs may include common.h and vm.h from here, and headers
# of their own dir).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src_dir="${ISA_SRC_DIR:-$here}"
out="${ISA_OUT_DIR:-$here/../.work/isa}"
mkdir -p "$out"
CC=${CC:-riscv64-linux-gnu-gcc}
command -v "$CC" >/dev/null || { echo "build.sh: $CC not found (apt-get install gcc-riscv64-linux-gnu)" >&2; exit 127; }
if [ $# -gt 0 ]; then names=("$@"); else
  names=(); for f in "$src_dir"/*.S "$src_dir"/*.c; do [ -e "$f" ] || continue; n="${f##*/}"; names+=("${n%.*}"); done
fi
deps=("$here"/*.h "$here/c/crt.S" "$here/link.ld" "$here/build.sh")
if [ "$src_dir" != "$here" ]; then
  for h in "$src_dir"/*.h; do if [ -e "$h" ]; then deps+=("$h"); fi; done
fi
flags=(-march=rv64gc -mabi=lp64d -mno-relax -nostdlib -nostartfiles -static -fno-pie -no-pie
       -Wl,--no-relax -Wl,--build-id=none -Wl,-T,"$here/link.ld" -I "$src_dir" -I "$here")
for n in "${names[@]}"; do
  src="$src_dir/$n.S"; [ -f "$src" ] || src="$src_dir/$n.c"
  elf="$out/$n.elf"
  [ -f "$src" ] || { echo "build.sh: no program $n (.S or .c) in $src_dir" >&2; exit 1; }
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
