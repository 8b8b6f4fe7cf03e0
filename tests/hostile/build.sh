#!/usr/bin/env bash
# Builds the hostile guests into tests/.work/hostile/: every tests/hostile/<name>.c
# as an M-mode ELF (with crt.S, HTIF), every tests/hostile/<name>.S as an S-mode
# Linux "Image" (a raw binary at 0x80200000 with the Image header, booted with
# the emulator's SBI). Rebuilds only what is older than its sources.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/../.work/hostile"
mkdir -p "$out"
CC=${CC:-riscv64-linux-gnu-gcc}
OBJCOPY=${OBJCOPY:-riscv64-linux-gnu-objcopy}
command -v "$CC" >/dev/null || { echo "build.sh: $CC not found (apt-get install gcc-riscv64-linux-gnu)" >&2; exit 127; }
newer() { local t="$1"; shift; [ -f "$t" ] || return 0; for s in "$@"; do [ "$s" -nt "$t" ] && return 0; done; return 1; }
common=(-march=rv64gc -mabi=lp64d -mno-relax -nostdlib -nostartfiles -static -fno-pie -no-pie -Wl,--no-relax -Wl,--build-id=none -Wl,--no-warn-rwx-segments)
for src in "$here"/*.c; do
  n="$(basename "$src" .c)"; elf="$out/$n.elf"
  newer "$elf" "$src" "$here/crt.S" "$here/hostile.h" "$here/build.sh" "$here/../isa/link.ld" || continue
  "$CC" "${common[@]}" -Wl,-T,"$here/../isa/link.ld" -O2 -mcmodel=medany -ffreestanding \
    -fno-tree-loop-distribute-patterns -Wall -Werror -I "$here" -o "$elf.tmp" "$here/crt.S" "$src"
  mv "$elf.tmp" "$elf"
done
for src in "$here"/*.S; do
  n="$(basename "$src" .S)"; [ "$n" = crt ] && continue
  img="$out/$n.Image"
  newer "$img" "$src" "$here/smode.h" "$here/image.ld" "$here/build.sh" || continue
  "$CC" "${common[@]}" -Wl,-T,"$here/image.ld" -I "$here" -o "$out/$n.elf" "$src"
  "$OBJCOPY" -O binary "$out/$n.elf" "$img.tmp"
  mv "$img.tmp" "$img"
done
