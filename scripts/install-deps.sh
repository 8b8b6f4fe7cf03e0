#!/usr/bin/env bash
# Debian packages the build and the tests need:
#   gcc-riscv64-linux-gnu  builds the bare-metal test programs and guest userland
#   qemu-utils             qemu-img, the peer for image interoperability tests
#   e2fsprogs              e2fsck/debugfs to check disks a guest wrote
#   zlib1g-dev             compressed qcow2 clusters
#   tmux                   drives interactive consoles through a pty in tests
#   device-tree-compiler   dtc decompiles the board's generated FDT in its unit test
#   bsdutils               script(1): the boot tests give `vmsup run` a terminal with it
#   mandoc                 `mandoc -T lint` checks the man pages (man/) in the tests
#   chromium               the headless browser the web interface's tests drive (puppeteer-core
#                          points at /usr/bin/chromium: no browser is downloaded)
#   opensbi                fw_dynamic.bin/fw_jump.bin: the default firmware of VMs booted without -b
#   u-boot-qemu            qemu-riscv64_smode/u-boot.bin: the boot loader after it (distro boot)
#   fdisk gdisk            sfdisk/sgdisk: the firmware boot tests partition their disks (MBR, GPT)
#   dosfstools mtools      mkfs.vfat/mcopy: FAT partitions (EFI system partition, El Torito image)
#   u-boot-tools           mkimage: boot.scr for the U-Boot script test
#   xorriso                the ISO 9660 cdrom image of the cdrom boot test
#   libslirp-dev           user-mode NAT for --nat (the library QEMU's -netdev user uses)
#   libzstd-dev            compresses the RAM pages of a saved machine (native/snapshot)
#   libxbyak-dev           x86-64 code emitter (header-only) of the JIT, native/cpu/jit
#   curl                   the -L test fetches the guest's page from inside a network namespace
#   iputils-ping           the uplink test pings a guest from the bridge's network namespace
# Pass --bench to add qemu-system-misc (the side-by-side peer of the benchmarks).
set -euo pipefail
pkgs=(gcc-riscv64-linux-gnu qemu-utils e2fsprogs zlib1g-dev tmux python3 make g++ device-tree-compiler bsdutils mandoc chromium
      opensbi u-boot-qemu fdisk gdisk dosfstools mtools u-boot-tools xorriso libslirp-dev curl libzstd-dev libxbyak-dev iputils-ping)
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
