#!/usr/bin/env bash
# Disk boot benchmark (issue 13): start to VMSUP-GUEST-READY for a distribution-style disk
# (MBR, ext4, /boot/extlinux/extlinux.conf with the shared guest's Image and initramfs) booted
# through OpenSBI fw_dynamic + U-Boot (Debian's opensbi and u-boot-qemu), by `vmsup run -d disk`
# (no -b: its default firmware) and by qemu-system-riscv64 -M virt with the same firmware files
# and the same disk. See bench/README.md. Tune with BENCH_RUNS (5) and BENCH_TIMEOUT (120 s).
set -euo pipefail
cd "$(dirname "$0")/../.."
GUEST=$(bash guest/get.sh)
work=$(mktemp -d /tmp/vmsup-bench-boot-disk.XXXX)
trap 'rm -rf "$work"' EXIT
bash tests/boot/make-images.sh "$work" "$GUEST" >/dev/null
command -v qemu-system-riscv64 >/dev/null ||
  echo "bench/boot-disk: qemu-system-riscv64 is missing (bash scripts/install-deps.sh --bench); measuring vmsup alone" >&2
exec nice -n "${BENCH_NICE:-0}" node bench/boot-disk/boot-disk.mjs "$work/mbr-extlinux.img"
