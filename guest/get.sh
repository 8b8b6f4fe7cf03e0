#!/usr/bin/env bash
# guest/get.sh — print the directory of a usable riscv64 test guest (Image, initramfs.cpio.gz,
# fw_jump.bin), getting one if need be. Used by scripts/boot.sh and the boot benchmark.
#
# In order:
#   1. $VMSUP_GUEST_DIR, when set (it must hold the three files);
#   2. ../shared/guest next to the checkout (the prebuilt reference guest), when its SHA256SUMS
#      check out;
#   3. guest/out, when an earlier guest/build.sh finished there (its SHA256SUMS check out) from
#      the recipe as it is now (guest/out/RECIPE matches guest/recipe-hash.sh);
#   4. otherwise build guest/out with guest/build.sh (installing its packages first), at low
#      priority. That takes 10+ minutes on a 2-core machine.
# Messages go to stderr; stdout carries only the directory.
set -euo pipefail
GUEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$GUEST_DIR")

complete() {  # complete DIR: the three boot files are there and every listed checksum matches
  local d=$1 f
  for f in Image initramfs.cpio.gz fw_jump.bin; do [ -r "$d/$f" ] || return 1; done
  [ -r "$d/SHA256SUMS" ] || return 1
  (cd "$d" && sha256sum --quiet -c SHA256SUMS >/dev/null 2>&1)
}

if [ -n "${VMSUP_GUEST_DIR:-}" ]; then
  for f in Image initramfs.cpio.gz fw_jump.bin; do
    [ -r "$VMSUP_GUEST_DIR/$f" ] || { echo "guest/get.sh: VMSUP_GUEST_DIR=$VMSUP_GUEST_DIR has no readable $f" >&2; exit 1; }
  done
  (cd "$VMSUP_GUEST_DIR" && pwd)
  exit 0
fi

shared=$(dirname "$REPO")/shared/guest
if [ -d "$shared" ]; then
  if complete "$shared"; then (cd "$shared" && pwd); exit 0; fi
  echo "guest/get.sh: $shared is there but its SHA256SUMS do not check out; using the project's own guest" >&2
fi

if complete "$GUEST_DIR/out"; then
  if [ "$(cat "$GUEST_DIR/out/RECIPE" 2>/dev/null)" = "$(bash "$GUEST_DIR/recipe-hash.sh")" ]; then
    echo "$GUEST_DIR/out"; exit 0
  fi
  echo "guest/get.sh: guest/out was built from an older recipe; rebuilding" >&2
fi

echo "guest/get.sh: no guest yet; building one with guest/build.sh (log: $GUEST_DIR/out/build.log; 10+ minutes)" >&2
bash "$GUEST_DIR/deps.sh" >&2
mkdir -p "$GUEST_DIR/out"
nice -n 19 bash "$GUEST_DIR/build.sh" >&2
complete "$GUEST_DIR/out" || { echo "guest/get.sh: guest/build.sh finished but guest/out is incomplete" >&2; exit 1; }
echo "$GUEST_DIR/out"
