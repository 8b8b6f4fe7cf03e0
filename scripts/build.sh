#!/usr/bin/env bash
# Builds the addon (incrementally: node-gyp's make only recompiles what changed)
# and the TypeScript. Used by `npm test`, `npm run boot` and the benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build/Makefile ] || [ binding.gyp -nt build/Makefile ]; then
  npx node-gyp configure >/dev/null
fi
# New or removed .cc files change the source list that binding.gyp computes.
if [ -f build/vmsup.target.mk ]; then
  want=$(find native -name '*.cc' -not -name '*_test.cc' -not -path 'native/fuzz/*' -not -path 'native/tests/*' | wc -l)
  have=$(grep -c '^\s*\$(obj).target/\$(TARGET)/native/.*\.o' build/vmsup.target.mk || true)
  if [ "$want" != "$have" ]; then npx node-gyp configure >/dev/null; fi
fi
npx node-gyp build -j "$(nproc)" >/dev/null
npx tsc -p tsconfig.json
