#!/usr/bin/env bash
# Save/restore benchmark, vmsup vs QEMU on the same idle guest (see bench/README.md):
# save size and time against `migrate "exec:cat > file"`, restore time to a responsive
# console against `-incoming`; then send --live downtime while the guest runs its CPU
# benchmark, against QEMU's `migrate` over TCP (bench/snapshot/live.mjs).
set -euo pipefail
cd "$(dirname "$0")/../.."
GUEST=$(bash guest/get.sh)
node bench/snapshot/snapshot.mjs "$GUEST" "$@"
exec node bench/snapshot/live.mjs "$GUEST" "$@"
