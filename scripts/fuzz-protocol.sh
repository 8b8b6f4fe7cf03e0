#!/usr/bin/env bash
# Long run of the control-protocol fuzzer: the frame decoder and the message
# validators (issue 8). Jazzer.js would be the libFuzzer engine here, but its
# prebuilt addon needs glibc 2.38 (Debian 12 has 2.36) and building it fetches
# from GitHub, so this is a seeded, structure-aware mutational fuzzer instead;
# a bounded slice of it runs in npm test (daemon/protocol/fuzz.test.ts).
# Usage: scripts/fuzz-protocol.sh [seconds=600] [seed=1] [iterations] [corpus-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.json
exec node scripts/fuzz-protocol.mjs "${1:-600}" "${2:-1}" "${3:-Infinity}" "${4:-}"
