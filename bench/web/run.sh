#!/usr/bin/env bash
# Web interface benchmark (issue 12): vmsupd's CPU with the web UI open on 10 running VMs
# against the UI closed, and console keystroke-to-echo latency through the web console's
# WebSocket against `vmsup console`'s tty. Runs its own vmsupd with --http in a temporary
# state directory and Debian's chromium (headless, puppeteer-core). Tune with BENCH_VMS (10),
# BENCH_SECONDS (20, per CPU measurement), BENCH_KEYS (100, keystrokes per path).
set -euo pipefail
cd "$(dirname "$0")/../.."
GUEST=$(bash guest/get.sh 2>/dev/null || echo ../shared/guest)
exec timeout "${BENCH_TIMEOUT:-900}" node bench/web/web.mjs "$GUEST"
