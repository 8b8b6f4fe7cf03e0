#!/usr/bin/env bash
# Builds distro-style boot media from the shared guest's Image and initramfs,
# for the firmware boot tests and bench/boot-disk (no root needed):
#   mbr-extlinux.img  MBR, one bootable ext4 partition: /boot/extlinux/extlinux.conf
#   gpt-extlinux.img  GPT, one ext4 partition: /extlinux/extlinux.conf
#   gpt-bootscr.img   GPT, one FAT partition (an ESP type): /boot.scr (mkimage) that loads and boots
#   esp-efi.img       GPT, an EFI system partition (FAT) with /EFI/BOOT/BOOTRISCV64.EFI built from
#                     efi-hello.S (the shared kernel has no EFI stub; this app prints and powers off)
#   cdrom.iso         ISO 9660 (xorriso) whose El Torito boot image is a FAT image with extlinux.conf
#   bad-pastend.img   MBR whose partition runs far past the disk's end
#   bad-missing.img   MBR ext4 with an extlinux.conf naming files that do not exist
#   bad-trunc.iso     cdrom.iso cut in the middle of its boot image
#   bad-hostile.iso   cdrom.iso with its boot catalog pointing far past the end of the image
# Usage: make-images.sh OUTDIR [GUESTDIR] [APPEND]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=$1
guest=${2:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/guest}
append=${3:-console=ttyS0 vmsup.test=poweroff}
mkdir -p "$out"
cd "$out"
work=$(mktemp -d "$out/stage.XXXX")
trap 'rm -rf "$work"' EXIT
export PATH=$PATH:/usr/sbin:/sbin
export MTOOLS_SKIP_CHECK=1

extlinux_conf() {  # $1: kernel path  $2: initrd path
  cat <<CONF
default vmsup
menu title vmsup test disk
timeout 1
label vmsup
	kernel $1
	initrd $2
	append $append
CONF
}

# $1 image  $2 label (dos|gpt)  $3 partition type  $4 bootable(0|1)  $5 partition image
# The partition starts at 1 MiB; GPT gets 1 MiB at the end for its backup header.
assemble() {
  local img=$1 label=$2 type=$3 boot=$4 part=$5
  local psize=$(( $(stat -c %s "$part") / 512 ))
  rm -f "$img"
  truncate -s $(( (2048 + psize + 2048) * 512 )) "$img"
  local flag=""; [ "$boot" = 1 ] && flag=", bootable"
  printf 'label: %s\nstart=2048, size=%d, type=%s%s\n' "$label" "$psize" "$type" "$flag" |
    sfdisk -q --no-reread --no-tell-kernel "$img" >/dev/null
  dd if="$part" of="$img" bs=512 seek=2048 conv=notrunc status=none
}

ext4_part() {  # $1 output  $2 staging dir
  rm -f "$1"; truncate -s 12M "$1"
  mke2fs -q -F -t ext4 -d "$2" -L vmsup-boot "$1" >/dev/null
}

fat_part() {  # $1 output  $2 staging dir (files copied recursively)
  rm -f "$1"
  mkfs.vfat -C -n VMSUPBOOT "$1" $((12 * 1024)) >/dev/null
  mcopy -s -i "$1" "$2"/* ::/
}

# MBR + ext4, files under /boot.
mkdir -p "$work/mbr/boot/extlinux"
cp "$guest/Image" "$guest/initramfs.cpio.gz" "$work/mbr/boot/"
extlinux_conf /boot/Image /boot/initramfs.cpio.gz > "$work/mbr/boot/extlinux/extlinux.conf"
ext4_part "$work/mbr.ext4" "$work/mbr"
assemble mbr-extlinux.img dos 83 1 "$work/mbr.ext4"

# GPT + ext4, files at the root of the partition.
mkdir -p "$work/gpt/extlinux"
cp "$guest/Image" "$guest/initramfs.cpio.gz" "$work/gpt/"
extlinux_conf /Image /initramfs.cpio.gz > "$work/gpt/extlinux/extlinux.conf"
ext4_part "$work/gpt.ext4" "$work/gpt"
assemble gpt-extlinux.img gpt 0FC63DAF-8483-4772-8E79-3D69D8477DE4 0 "$work/gpt.ext4"

# GPT + FAT (EFI system partition type) with a boot.scr.
mkdir -p "$work/scr"
cp "$guest/Image" "$guest/initramfs.cpio.gz" "$work/scr/"
cat > "$work/boot.cmd" <<CMD
echo VMSUP-BOOT-SCRIPT
load \${devtype} \${devnum}:\${distro_bootpart} \${kernel_addr_r} /Image
load \${devtype} \${devnum}:\${distro_bootpart} \${ramdisk_addr_r} /initramfs.cpio.gz
setenv bootargs "$append"
booti \${kernel_addr_r} \${ramdisk_addr_r}:\${filesize} \${fdtcontroladdr}
CMD
mkimage -A riscv -O linux -T script -C none -n vmsup -d "$work/boot.cmd" "$work/scr/boot.scr" >/dev/null
fat_part "$work/scr.fat" "$work/scr"
assemble gpt-bootscr.img gpt C12A7328-F81F-11D2-BA4B-00A0C93EC93B 0 "$work/scr.fat"

# GPT + EFI system partition with the removable-media path U-Boot's bootefi looks for.
mkdir -p "$work/esp/EFI/BOOT"
riscv64-linux-gnu-gcc -c -march=rv64gc -mabi=lp64d -o "$work/efi.o" "$here/efi-hello.S"
riscv64-linux-gnu-ld -Ttext=0 -e 0 -o "$work/efi.elf" "$work/efi.o"
riscv64-linux-gnu-objcopy -O binary -j .text "$work/efi.elf" "$work/esp/EFI/BOOT/BOOTRISCV64.EFI"
fat_part "$work/esp.fat" "$work/esp"
assemble esp-efi.img gpt C12A7328-F81F-11D2-BA4B-00A0C93EC93B 0 "$work/esp.fat"

# ISO 9660 with an El Torito (no-emulation) FAT boot image holding extlinux.conf.
mkdir -p "$work/eltorito/extlinux" "$work/iso"
cp "$guest/Image" "$guest/initramfs.cpio.gz" "$work/eltorito/"
extlinux_conf /Image /initramfs.cpio.gz > "$work/eltorito/extlinux/extlinux.conf"
fat_part "$work/iso/boot.img" "$work/eltorito"
echo "vmsup test cdrom" > "$work/iso/README"
rm -f cdrom.iso
xorriso -as mkisofs -quiet -V VMSUP_CDROM -o cdrom.iso -e boot.img -no-emul-boot "$work/iso" 2>/dev/null

# Bad media.
rm -f bad-pastend.img; truncate -s 8M bad-pastend.img
printf 'label: dos\nstart=2048, size=4096, type=83, bootable\n' |
  sfdisk -q --no-reread --no-tell-kernel bad-pastend.img >/dev/null
# sfdisk will not write it: patch entry 1 (MBR byte 0x1be) to start at sector
# 0x7fff0000 (byte 8) and run 2^31 sectors (byte 12), both far past the 8 MiB.
printf '\x00\x00\xff\x7f\x00\x00\x00\x80' | dd of=bad-pastend.img bs=1 seek=$((0x1be + 8)) conv=notrunc status=none
mkdir -p "$work/missing/boot/extlinux"
extlinux_conf /boot/no-such-Image /boot/no-such-initrd > "$work/missing/boot/extlinux/extlinux.conf"
ext4_part "$work/missing.ext4" "$work/missing"
assemble bad-missing.img dos 83 1 "$work/missing.ext4"
# El Torito: the boot record volume descriptor (sector 17) holds the catalog's
# sector at byte 0x47; the catalog's default entry has the image's start sector
# at byte 8 and its sector count at byte 6.
cat_lba=$(od -An -tu4 -j $((17 * 2048 + 0x47)) -N4 cdrom.iso | tr -d ' ')
img_lba=$(od -An -tu4 -j $((cat_lba * 2048 + 32 + 8)) -N4 cdrom.iso | tr -d ' ')
# Cut 2 MiB into the boot image: extlinux.conf is there, the kernel is not whole.
head -c $((img_lba * 2048 + (2 << 20))) cdrom.iso > bad-trunc.iso
# Point the boot image far past the end.
cp cdrom.iso bad-hostile.iso
printf '\xf0\xff\xff\x7f' | dd of=bad-hostile.iso bs=1 seek=$((cat_lba * 2048 + 32 + 8)) conv=notrunc status=none
printf '\xff\xff' | dd of=bad-hostile.iso bs=1 seek=$((cat_lba * 2048 + 32 + 6)) conv=notrunc status=none
