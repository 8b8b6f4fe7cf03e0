#!/usr/bin/env bash
# `npm run bench`: installs what the benchmarks need (scripts/install-deps.sh --bench), builds
# vmsup, then runs every benchmark: each bench/<name>/run.sh, in name order (see bench/README.md).
#   npm run bench                 all of them
#   npm run bench -- boot cpu     only bench/boot and bench/cpu
# A benchmark that fails does not stop the others; the exit status says whether any failed.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh --bench
[ -d node_modules ] || npm ci --no-audit --no-fund || npm install --no-audit --no-fund
bash scripts/build.sh

if [ $# -gt 0 ]; then
  names=("$@")
else
  names=()
  for f in bench/*/run.sh; do [ -e "$f" ] && names+=("$(basename "$(dirname "$f")")"); done
fi
[ ${#names[@]} -gt 0 ] || { echo "bench: no bench/*/run.sh found" >&2; exit 1; }

failed=()
for n in "${names[@]}"; do
  if [ ! -f "bench/$n/run.sh" ]; then echo "bench: no such benchmark: bench/$n/run.sh" >&2; failed+=("$n"); continue; fi
  printf '\n######## bench/%s ########\n' "$n"
  t0=$SECONDS
  if bash "bench/$n/run.sh"; then
    printf '######## bench/%s: done in %d s\n' "$n" $((SECONDS - t0))
  else
    rc=$?
    printf '######## bench/%s: FAILED (exit %d) after %d s\n' "$n" "$rc" $((SECONDS - t0))
    failed+=("$n")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "bench: failed: ${failed[*]}" >&2
  exit 1
fi
