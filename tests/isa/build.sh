#!/usr/bin/env bash
# Builds every tests/isa/*.S into tests/.work/isa/<name>.elf (incrementally: a
# program is rebuilt when it, common.h or link.ld is newer than its ELF).
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
  names=(); for f in "$src_dir"/*.S; do names+=("$(basename "$f" .S)"); done
fi
for n in "${names[@]}"; do
  src="$src_dir/$n.S"; elf="$out/$n.elf"
  fresh=1
  for dep in "$src" "$here/common.h" "$here/vm.h" "$here/link.ld" "$src_dir"/*.h; do
    [ -e "$dep" ] || continue
    [ -f "$elf" ] && [ "$elf" -nt "$dep" ] || fresh=0
  done
  [ $fresh = 1 ] && continue
  "$CC" -march=rv64gc -mabi=lp64d -mno-relax -nostdlib -nostartfiles -static -fno-pie -no-pie \
    -Wl,--no-relax -Wl,--build-id=none -Wl,-T,"$here/link.ld" -I "$src_dir" -I "$here" -o "$elf.tmp" "$src"
  mv "$elf.tmp" "$elf"
done
