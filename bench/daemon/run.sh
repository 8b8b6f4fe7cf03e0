#!/usr/bin/env bash
# vmsupd benchmark (issue 4): status round-trip latency with 50 defined VMs, time to start
# 10 VMs to VMSUP-GUEST-READY, host memory per running VM beyond its touched guest pages,
# host CPU of 10 idle (and 10 paused) guests over 10 s. Runs its own vmsupd in a temporary
# state directory. Tune with BENCH_VMS (10), BENCH_DEFINED (50), BENCH_MEM_MB (128),
# BENCH_IDLE_SECONDS (10), BENCH_STATUS_RUNS (500).
set -euo pipefail
cd "$(dirname "$0")/../.."
GUEST=$(bash guest/get.sh 2>/dev/null || echo ../shared/guest)
exec timeout "${BENCH_TIMEOUT:-900}" node bench/daemon/daemon.mjs "$GUEST"
