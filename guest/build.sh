#!/usr/bin/env bash
# guest/build.sh — build vmsup's own small riscv64 test guest from Debian 12 packages.
#
# What comes out (in guest/out/, which git ignores):
#   Image              Linux 6.1 kernel for riscv64 (arch/riscv/boot/Image), from linux-source-6.1
#   initramfs.cpio.gz  static busybox + /bin/cpubench + init scripts, newc cpio, gzip
#   rootfs.ext4        the same tree as a 32 MiB ext4 file system (boot with root=/dev/vda)
#   fw_jump.bin        OpenSBI's generic fw_jump.bin, copied from Debian's opensbi package
#   linux.config, busybox.config, build.log, RECIPE (fingerprint of the recipe), SHA256SUMS
#
# The guest behaves like ../shared/guest (see guest/README.md): it prints VMSUP-GUEST-READY once
# per boot, then obeys vmsup.test=poweroff | bench (vmsup.bench_mb=N) from the kernel command line,
# or leaves a shell on the console.
#
# Packages it needs (guest/deps.sh installs them):
#   gcc-riscv64-linux-gnu libc6-dev-riscv64-cross linux-source-6.1 opensbi flex bison bc
#   libssl-dev libelf-dev xz-utils e2fsprogs dpkg-dev make gcc
# and a deb-src line for bookworm, because busybox comes from `apt-get source busybox`.
#
# Knobs (environment): WORK=scratch dir (default /tmp/vmsup-guest-work, wiped on each run),
#   JOBS=parallel make jobs (default: nproc), OUT=output dir (default guest/out),
#   NO_EXT4=1 to skip rootfs.ext4.
set -euo pipefail
export LC_ALL=C TZ=UTC

GUEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${OUT:-$GUEST_DIR/out}
WORK=${WORK:-/tmp/vmsup-guest-work}
JOBS=${JOBS:-$(nproc)}
XC=riscv64-linux-gnu-
KERNEL_TARBALL=/usr/src/linux-source-6.1.tar.xz
FW_JUMP=/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin

say() { printf '[guest %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
fail() { printf 'guest/build.sh: %s\n' "$*" >&2; exit 1; }

# Each step is timed; the table is printed at the end.
TIMES=()
t_begin() { STEP=$1; STEP_T0=$SECONDS; say "$STEP"; }
t_end() { TIMES+=("$(printf '%-26s %4d s' "$STEP" $((SECONDS - STEP_T0)))"); }

# ------------------------------------------------------------------ what must be installed
need_cmds=("${XC}gcc" "${XC}strip" gcc make flex bison bc tar xz gzip apt-get dpkg-source sha256sum)
[ -n "${NO_EXT4:-}" ] || need_cmds+=(mke2fs e2fsck)
for c in "${need_cmds[@]}"; do
  command -v "$c" >/dev/null 2>&1 || fail "command '$c' not found; run: bash guest/deps.sh"
done
[ -r "$KERNEL_TARBALL" ] || fail "$KERNEL_TARBALL missing; apt-get install linux-source-6.1"
[ -r "$FW_JUMP" ] || fail "$FW_JUMP missing; apt-get install opensbi"
[ -r /usr/riscv64-linux-gnu/lib/libc.a ] || fail "static riscv64 libc missing; apt-get install libc6-dev-riscv64-cross"

case "$WORK" in
  ''|/|/tmp|/tmp/|"$GUEST_DIR"|"$OUT") fail "WORK=$WORK is not a safe scratch dir (it gets wiped)" ;;
esac

# Timestamps inside the images follow the kernel source package, so rebuilding the same
# package versions gives the same files.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(stat -c %Y "$KERNEL_TARBALL")}
T0=$SECONDS
say "scratch $WORK, output $OUT, $JOBS jobs"
rm -rf "$WORK"
mkdir -p "$WORK/stage" "$OUT"

# ------------------------------------------------------------------ busybox: fetch the source
# Fetched first: it is the one step that needs the network, so a missing deb-src entry
# shows up before the long kernel compile rather than after it.
t_begin "busybox source"
mkdir -p "$WORK/bb"
if ! (cd "$WORK/bb" && apt-get source busybox) >"$WORK/bb-fetch.log" 2>&1; then
  tail -n 15 "$WORK/bb-fetch.log" >&2
  fail "apt-get source busybox failed. It needs a deb-src entry, e.g. /etc/apt/sources.list.d/deb-src.sources:
    Types: deb-src
    URIs: http://deb.debian.org/debian      (the mirror your 'deb' entries use)
    Suites: bookworm bookworm-updates
    Components: main
    Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
  and then apt-get update."
fi
BB=$(find "$WORK/bb" -mindepth 1 -maxdepth 1 -type d -name 'busybox-*' -print -quit)
[ -n "$BB" ] && [ -f "$BB/Makefile" ] || fail "no busybox tree after apt-get source"
t_end

# ------------------------------------------------------------------ kernel
t_begin "kernel unpack"
tar -C "$WORK" -xJf "$KERNEL_TARBALL"
KSRC=$WORK/linux-source-6.1
KOBJ=$WORK/kbuild
[ -f "$KSRC/Makefile" ] || fail "unexpected layout in $KERNEL_TARBALL"
t_end

t_begin "kernel config"
kmake() {
  make -C "$KSRC" O="$KOBJ" ARCH=riscv CROSS_COMPILE="$XC" \
    KBUILD_BUILD_USER=vmsup KBUILD_BUILD_HOST=guest \
    KBUILD_BUILD_TIMESTAMP="@$SOURCE_DATE_EPOCH" "$@"
}
kmake -s tinyconfig >/dev/null
# tinyconfig is allnoconfig plus size tweaks: nearly everything is off. Switch on exactly what a
# QEMU-virt-layout guest needs to boot under OpenSBI (or an emulator's own SBI) to a busybox shell.
#   platform:   RV64GC in S-mode, Sv39 MMU, up to 8 harts, the PLIC, SBI (incl. v0.1 legacy console)
#   NONPORTABLE only so that EFI (which PORTABLE selects) can stay off
#   NO_HZ_IDLE  tickless idle: an idle guest sleeps in WFI instead of ticking, for the idle-CPU bench
#   console:    ns16550a from the DT, earlycon, hvc on the SBI console, a VT so Ctrl-Alt-Del from
#               the virtio keyboard reaches init (the VT keyboard handler turns it into SIGINT)
#   virtio:     virtio-mmio transport, blk, rng, input (keyboard)
#   board:      goldfish RTC, syscon power-off/reboot (used when the SBI has no SRST)
#   userland:   initramfs (gzip only), devtmpfs, proc, sys, tmpfs, ext4, ELF and #! scripts, the
#               syscalls busybox uses, and enough networking for a loopback interface
KCONFIG_ON=(
  64BIT ARCH_RV64I MMU SMP FPU RISCV_ISA_C RISCV_SBI_V01 SOC_VIRT SIFIVE_PLIC NONPORTABLE
  NO_HZ_IDLE HIGH_RES_TIMERS SLUB
  PRINTK PRINTK_TIME BUG KALLSYMS
  TTY VT UNIX98_PTYS SERIAL_8250 SERIAL_8250_CONSOLE SERIAL_OF_PLATFORM SERIAL_EARLYCON
  SERIAL_EARLYCON_RISCV_SBI HVC_RISCV_SBI
  VIRTIO_MENU VIRTIO_MMIO BLOCK BLK_DEV VIRTIO_BLK HW_RANDOM HW_RANDOM_VIRTIO INPUT VIRTIO_INPUT
  RTC_CLASS GOLDFISH RTC_DRV_GOLDFISH POWER_RESET POWER_RESET_SYSCON POWER_RESET_SYSCON_POWEROFF
  BLK_DEV_INITRD RD_GZIP DEVTMPFS DEVTMPFS_MOUNT PROC_FS SYSFS TMPFS SHMEM EXT4_FS
  BINFMT_ELF BINFMT_SCRIPT MULTIUSER FUTEX EPOLL POSIX_TIMERS FILE_LOCKING
  NET UNIX INET
)
# Off on purpose (some would come back through olddefconfig defaults otherwise). SLOB and
# HZ_PERIODIC are the other members of the SLUB and NO_HZ_IDLE choices: a choice only moves when
# its old member is switched off too.
KCONFIG_OFF=(
  SLOB HZ_PERIODIC PCI MODULES EFI IPV6 WIRELESS WLAN ETHERNET INPUT_KEYBOARD INPUT_MOUSE SERIO
  VGA_CONSOLE HID
  RD_BZIP2 RD_LZMA RD_XZ RD_LZO RD_LZ4 RD_ZSTD LEGACY_PTYS
)
for o in "${KCONFIG_ON[@]}"; do "$KSRC/scripts/config" --file "$KOBJ/.config" -e "$o"; done
for o in "${KCONFIG_OFF[@]}"; do "$KSRC/scripts/config" --file "$KOBJ/.config" -d "$o"; done
"$KSRC/scripts/config" --file "$KOBJ/.config" --set-val NR_CPUS 8
kmake -s olddefconfig >/dev/null
# Kconfig silently drops a symbol whose dependencies are not met, so check the result.
for o in "${KCONFIG_ON[@]}"; do
  grep -qx "CONFIG_$o=y" "$KOBJ/.config" || fail "kernel config: CONFIG_$o did not stay on"
done
for o in "${KCONFIG_OFF[@]}" RISCV_M_MODE; do
  ! grep -Eqx "CONFIG_$o=(y|m)" "$KOBJ/.config" || fail "kernel config: CONFIG_$o came back on"
done
cp "$KOBJ/.config" "$WORK/stage/linux.config"
KVERSION=$(kmake -s --no-print-directory kernelversion)
t_end

t_begin "kernel compile"
kmake -j"$JOBS" Image >"$WORK/kernel.log" 2>&1 || { tail -n 30 "$WORK/kernel.log" >&2; fail "kernel build failed (log: $WORK/kernel.log)"; }
cp "$KOBJ/arch/riscv/boot/Image" "$WORK/stage/Image"
t_end

# ------------------------------------------------------------------ busybox: build
t_begin "busybox compile"
make -C "$BB" -s defconfig >/dev/null
# Static (the initramfs has no libc), cross-compiled.
sed -i -e 's|^# CONFIG_STATIC is not set|CONFIG_STATIC=y|' \
       -e "s|^CONFIG_CROSS_COMPILER_PREFIX=.*|CONFIG_CROSS_COMPILER_PREFIX=\"$XC\"|" "$BB/.config"
yes '' 2>/dev/null | make -C "$BB" -s oldconfig >/dev/null || true
for o in STATIC INIT FEATURE_USE_INITTAB ASH CTTYHACK MOUNT MOUNTPOINT POWEROFF REBOOT SYNC IP; do
  grep -qx "CONFIG_$o=y" "$BB/.config" || fail "busybox config: CONFIG_$o is off"
done
make -C "$BB" -j"$JOBS" busybox >"$WORK/busybox.log" 2>&1 || { tail -n 30 "$WORK/busybox.log" >&2; fail "busybox build failed (log: $WORK/busybox.log)"; }
make -C "$BB" -s CONFIG_PREFIX="$WORK/bbroot" install >/dev/null
cp "$BB/.config" "$WORK/stage/busybox.config"
BB_VERSION=$(sed -n 's/^Version: //p' "$WORK"/bb/busybox_*.dsc | head -n 1)
t_end

# ------------------------------------------------------------------ cpubench
t_begin "cpubench"
"${XC}gcc" -O2 -static -s -o "$WORK/cpubench" "$GUEST_DIR/cpubench.c"
# The CRC it prints depends only on the size, so the host's result is the expected one.
gcc -O2 -o "$WORK/cpubench-host" "$GUEST_DIR/cpubench.c"
BENCH_CRC=$("$WORK/cpubench-host" 1 | awk '{print $2}')
[ "$BENCH_CRC" = 665310df ] || fail "cpubench computes $BENCH_CRC for 1 MiB on the host, expected 665310df"
t_end

# ------------------------------------------------------------------ the root tree
t_begin "root tree and images"
ROOT=$WORK/root
cp -a "$WORK/bbroot" "$ROOT"
mkdir -p "$ROOT"/{dev,proc,sys,tmp,run,root,mnt,etc/init.d}
chmod 1777 "$ROOT/tmp"; chmod 0700 "$ROOT/root"
ln -s bin/busybox "$ROOT/init"
install -m 0755 "$WORK/cpubench" "$ROOT/bin/cpubench"
install -m 0755 "$GUEST_DIR/rootfs/rcS" "$ROOT/etc/init.d/rcS"
install -m 0755 "$GUEST_DIR/rootfs/rcK" "$ROOT/etc/init.d/rcK"
for f in inittab profile passwd group hostname; do install -m 0644 "$GUEST_DIR/rootfs/$f" "$ROOT/etc/$f"; done
cat >"$ROOT/etc/guest-release" <<EOF
NAME="vmsup guest (guest/build.sh)"
KERNEL="Linux $KVERSION, Debian linux-source-6.1 $(dpkg-query -W -f='${Version}' linux-source-6.1)"
BUSYBOX="busybox $BB_VERSION, static"
READY_MARKER=VMSUP-GUEST-READY
EOF
find "$ROOT" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

# initramfs: the kernel's own gen_init_cpio writes the archive from a list, so every entry is
# owned by root and /dev/console exists (the kernel opens it before anything mounts devtmpfs)
# without needing mknod or root on the build host.
gcc -O2 -o "$WORK/gen_init_cpio" "$KSRC/usr/gen_init_cpio.c"
{
  echo "nod /dev/console 0600 0 0 c 5 1"
  echo "nod /dev/null 0666 0 0 c 1 3"
  (cd "$ROOT" && find . -mindepth 1 -printf '%y\t%P\t%m\t%l\n' | sort -t "$(printf '\t')" -k2,2) |
  while IFS=$'\t' read -r type path mode target; do
    case "$type" in
      d) echo "dir /$path $mode 0 0" ;;
      f) echo "file /$path $ROOT/$path $mode 0 0" ;;
      l) echo "slink /$path $target 777 0 0" ;;
      *) fail "unexpected file type $type for $path" ;;
    esac
  done
} >"$WORK/initramfs.list"
"$WORK/gen_init_cpio" -t "$SOURCE_DATE_EPOCH" "$WORK/initramfs.list" | gzip -9 -n >"$WORK/stage/initramfs.cpio.gz"

# ext4 root: mke2fs copies the tree in (-d); root_owner makes / root's. On an ext4 root the kernel
# mounts devtmpfs on /dev itself (DEVTMPFS_MOUNT) before it runs /sbin/init, so no device nodes.
if [ -z "${NO_EXT4:-}" ]; then
  truncate -s 32M "$WORK/stage/rootfs.ext4"
  E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH mke2fs -q -F -t ext4 -b 4096 -L vmsup-root \
    -U 7d0c4a2e-91b3-4f06-8c55-2f1e6b9a3d10 -E root_owner=0:0 -d "$ROOT" "$WORK/stage/rootfs.ext4"
  e2fsck -fn "$WORK/stage/rootfs.ext4" >"$WORK/e2fsck.log" 2>&1 || { cat "$WORK/e2fsck.log" >&2; fail "e2fsck does not like rootfs.ext4"; }
fi
cp "$FW_JUMP" "$WORK/stage/fw_jump.bin"
t_end

# ------------------------------------------------------------------ publish into OUT
# Files are replaced one by one via rename, and SHA256SUMS is written last: scripts/boot.sh treats
# an OUT whose SHA256SUMS checks out as a complete, cached guest.
rm -f "$OUT/SHA256SUMS"
FILES=(Image initramfs.cpio.gz fw_jump.bin linux.config busybox.config)
[ -n "${NO_EXT4:-}" ] || FILES+=(rootfs.ext4)
for f in "${FILES[@]}"; do
  cp "$WORK/stage/$f" "$OUT/.$f.new" && mv -f "$OUT/.$f.new" "$OUT/$f"
done
{
  echo "Linux $KVERSION, busybox $BB_VERSION, opensbi $(dpkg-query -W -f='${Version}' opensbi), ${XC}gcc $(${XC}gcc -dumpfullversion), $JOBS jobs"
  printf '%s\n' "${TIMES[@]}"
  printf '%-26s %4d s\n' "total" $((SECONDS - T0))
} | tee "$OUT/build.log" >&2
# RECIPE fingerprints the inputs in this folder, so guest/get.sh can tell a stale guest/out.
bash "$GUEST_DIR/recipe-hash.sh" >"$OUT/RECIPE"
(cd "$OUT" && sha256sum "${FILES[@]}" RECIPE >.SHA256SUMS.new && mv -f .SHA256SUMS.new SHA256SUMS)
say "done: $OUT"
