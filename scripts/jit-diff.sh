#!/usr/bin/env bash
# The long differential run of the JIT against the interpreter (issue 11):
# the random programs of native/cpu/jit/jit_test.cc (traps, page faults, MMIO,
# self-modifying stores, interrupts), many seeds and rounds. `npm test` runs a
# seeded, bounded slice of the same test.
# Usage: scripts/jit-diff.sh [first-seed [seeds [rounds-per-seed]]]
set -euo pipefail
cd "$(dirname "$0")/.."
first="${1:-1}"; count="${2:-20}"; rounds="${3:-500}"
make -s -f native/Makefile.tests -j2 build/ntest/native/cpu/jit/jit_test
fail=0
for ((s = first; s < first + count; s++)); do
  if ! out=$(JIT_DIFF_SEED=$s JIT_DIFF_ROUNDS=$rounds timeout 1200 build/ntest/native/cpu/jit/jit_test random_programs_match_the_interpreter 2>&1); then
    echo "seed $s: FAIL"; echo "$out" | grep -v '^ok' | head -5; fail=1
  else
    echo "seed $s: ok ($(echo "$out" | grep -o '[0-9]* instructions compared'))"
  fi
done
exit $fail
