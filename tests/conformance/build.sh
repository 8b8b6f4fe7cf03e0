#!/usr/bin/env bash
# Builds tests/conformance/*.S into tests/.work/conformance/<name>.elf with the
# ISA suite's build helper (same compiler flags, link.ld, common.h).
# Usage: tests/conformance/build.sh [name ...]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
ISA_SRC_DIR="$here" ISA_OUT_DIR="$here/../.work/conformance" exec bash "$here/../isa/build.sh" "$@"
