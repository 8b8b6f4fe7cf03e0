#!/usr/bin/env bash
# The test command: builds what changed, then runs every test (vitest).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
exec npx vitest run "$@"
