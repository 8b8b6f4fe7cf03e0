#!/usr/bin/env bash
# Re-validates the conformance programs on QEMU's spike machine (a program
# that fails there is a wrong test, except the known QEMU 7.2 deviations
# below, where it must fail exactly that check). Builds them first.
# Usage: tests/conformance/run-on-qemu.sh [name ...]
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/../.work/conformance"
bash "$here/build.sh" "$@" || exit 1
if [ $# -gt 0 ]; then names=("$@"); else
  names=(); for f in "$here"/*.S; do names+=("$(basename "$f" .S)"); done
fi
# program -> "check reason"
declare -A known=(
  [mcsr]="30 QEMU 7.2 lets medeleg[11] be set and keeps 64 bits in mcounteren/scounteren/mcountinhibit and pmpaddr"
  [counters]="30 QEMU 7.2 counts the CSR write to minstret itself (riscv-tests rv64mi instret_overflow and Spike: the written value is what the next instruction reads)"
)
bad=0
for n in "${names[@]}"; do
  # "VMSUP_RUN_ARGS: -c N" in a program asks for N harts
  cpus=$(sed -n 's/.*VMSUP_RUN_ARGS:.*-c \([0-9]*\).*/\1/p' "$here/$n.S" | head -1)
  o=$(timeout 30 qemu-system-riscv64 -M spike -smp "${cpus:-1}" -bios none -nographic -icount shift=0 -kernel "$out/$n.elf" 2>&1 </dev/null)
  rc=$?
  full=$(printf '%s' "$o" | sed -n 's/.*check \([0-9][0-9]*\) failed.*/\1/p' | head -1)
  [ $rc -ne 0 ] && [ $rc -ne 124 ] && [ -n "$full" ] && rc=$full
  if [ $rc -eq 0 ]; then printf '%-16s PASS\n' "$n"
  elif [ $rc -eq 124 ]; then printf '%-16s TIMEOUT %s\n' "$n" "$o"; bad=1
  elif [ -n "${known[$n]:-}" ] && [ "$rc" = "${known[$n]%% *}" ]; then
    printf '%-16s XFAIL test %s (known: %s)\n' "$n" "$rc" "${known[$n]#* }"
  else printf '%-16s FAIL test %s %s\n' "$n" "$rc" "$o"; bad=1
  fi
done
exit $bad
