#!/usr/bin/env bash
# Debian packages the build and the tests need:
#   gcc-riscv64-linux-gnu  builds the bare-metal test programs and guest userland
#   qemu-utils             qemu-img, the peer for image interoperability tests
#   e2fsprogs              e2fsck/debugfs to check disks a guest wrote
#   zlib1g-dev             compressed qcow2 clusters
#   tmux                   drives interactive consoles through a pty in tests
#   device-tree-compiler   dtc decompiles the board's generated FDT in its unit test
#   bsdutils               script(1): the boot tests give `vmsup run` a terminal with it
#   libxbyak-dev           x86-64 code emitter (header-only) of the JIT, native/cpu/jit
# Pass --bench to add qemu-system-misc (the side-by-side peer of the benchmarks).
set -euo pipefail
pkgs=(gcc-riscv64-linux-gnu qemu-utils e2fsprogs zlib1g-dev tmux python3 make g++ device-tree-compiler bsdutils libxbyak-dev)
[ "${1:-}" = "--bench" ] && pkgs+=(qemu-system-misc)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${missing[@]}"
fi
