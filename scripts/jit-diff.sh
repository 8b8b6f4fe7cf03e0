#!/usr/bin/env bash
# The long differential run of the JIT against the interpreter (issue 11):
# the random programs of native/cpu/jit/jit_test.cc (traps, page faults, MMIO,
# self-modifying stores, interrupts; and, as a second test, with F/D, AMOs,
# LR/SC and counter reads, the JIT's helper path), many seeds and rounds.
# `npm test` runs a seeded, bounded slice of the same tests.
# Usage: scripts/jit-diff.sh [first-seed [seeds [rounds-per-seed]]]
set -euo pipefail
cd "$(dirname "$0")/.."
first="${1:-1}"; count="${2:-20}"; rounds="${3:-500}"
make -s -f native/Makefile.tests -j2 build/ntest/native/cpu/jit/jit_test
fail=0
for ((s = first; s < first + count; s++)); do
  for t in random_programs_match_the_interpreter fp_atomics_and_counters_match_the_interpreter; do
    if ! out=$(JIT_DIFF_SEED=$s JIT_DIFF_ROUNDS=$rounds timeout 1200 build/ntest/native/cpu/jit/jit_test $t 2>&1); then
      echo "seed $s $t: FAIL"; echo "$out" | grep -v '^ok' | head -5; fail=1
    else
      echo "seed $s $t: ok ($(echo "$out" | grep -o '[0-9]* instructions compared'))"
    fi
  done
done
exit $fail
