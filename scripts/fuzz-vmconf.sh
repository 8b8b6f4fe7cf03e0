#!/usr/bin/env bash
# The long vm.conf fuzz run: the seeded mutator of daemon/vmconf.test.ts with
# more mutants (default 1,000,000) and a chosen seed. `npm test` runs 3,000.
#   bash scripts/fuzz-vmconf.sh [mutants] [seed]
set -euo pipefail
cd "$(dirname "$0")/.."
VMSUP_FUZZ_VMCONF="${1:-1000000}" VMSUP_FUZZ_SEED="${2:-$RANDOM$RANDOM}" \
  npx vitest run daemon/vmconf.test.ts -t 'seeded fuzz'
