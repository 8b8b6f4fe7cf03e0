#!/usr/bin/env bash
# Differential check of the vCPU against QEMU (a development tool, not part of
# `npm test`: it needs qemu-system-riscv64 and python3). For each seed,
# gen.py writes a bare-metal program of random RV64GC instructions (integer,
# M, F/D, fences, compressed; with "mem" also loads, stores, FP loads/stores
# and AMOs into a 4 KiB buffer), with random register contents; a trap handler
# folds mcause/mtval into a hash and skips the instruction. The program
# prints every register, fcsr, the hash (and the buffer) over HTIF; the
# output of `vmsup run` must equal QEMU's (spike machine, extensions vmsup
# does not have turned off). Branches, jumps, CSR and system instructions are
# left out: their targets and effects are not comparable at random.
# Usage: tests/conformance/qemu-diff/run.sh FIRST_SEED COUNT [INSNS] [mem]
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
isa="$here/../../isa"
out="$here/../../.work/qemu-diff"
vmsup="$here/../../../bin/vmsup"
mkdir -p "$out"
QCPU="rv64,h=false,zba=false,zbb=false,zbc=false,zbs=false,Zfh=false,Zfhmin=false,svinval=false,svnapot=false,svpbmt=false,sstc=false"
first=${1:?first seed}; count=${2:?count}; n=${3:-3000}; mode=${4:-}
bad=0
for ((s = first; s < first + count; s++)); do
  python3 "$here/gen.py" "$s" "$n" 0 $mode > "$out/f$s.S" || exit 1
  riscv64-linux-gnu-gcc -march=rv64gc -mabi=lp64d -mno-relax -nostdlib -nostartfiles -static -fno-pie -no-pie \
    -Wl,--no-relax -Wl,--build-id=none -Wl,-T,"$isa/link.ld" -I "$isa" -o "$out/f$s.elf" "$out/f$s.S" || exit 1
  timeout 30 qemu-system-riscv64 -M spike -cpu "$QCPU" -bios none -nographic -kernel "$out/f$s.elf" 2>&1 </dev/null |
    tr -d '\r' > "$out/q$s.txt"
  timeout 30 "$vmsup" run --timeout 25 -b "$out/f$s.elf" 2>&1 </dev/null | grep -v '^PASS$' > "$out/v$s.txt"
  if cmp -s "$out/q$s.txt" "$out/v$s.txt"; then echo "seed $s: same"
  else echo "seed $s: DIFFERENT (diff $out/q$s.txt $out/v$s.txt)"; bad=1; fi
done
exit $bad
