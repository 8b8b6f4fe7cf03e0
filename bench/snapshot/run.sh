#!/usr/bin/env bash
# Save/restore benchmark, vmsup vs QEMU on the same idle guest (see bench/README.md):
# save size and time against `migrate "exec:cat > file"`, restore time to a responsive
# console against `-incoming`.
set -euo pipefail
cd "$(dirname "$0")/../.."
GUEST=$(bash guest/get.sh)
exec node bench/snapshot/snapshot.mjs "$GUEST" "$@"
