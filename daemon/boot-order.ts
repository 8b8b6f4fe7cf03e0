// The boot device (-B, vm.conf `boot device`) as the firmware sees it. U-Boot's
// distro boot on qemu-riscv64 tries `qemu virtio0 scsi0 dhcp` in that order
// (its default boot_targets), and virtio0 is the first virtio-blk device in
// slot order, so the boot device goes into the first slot: for `cdrom` the
// cdroms (-r, attached read-only) before the disks, otherwise the disks first.
// Applied when the firmware boots the disks (no -b) or -B is given; a kernel
// given with -b keeps the disks in the order given (/dev/vda first).
// `net` is handed to the machine, whose FDT then tells U-Boot to boot over DHCP.

export type BootDevice = 'disk' | 'cdrom' | 'net';

export function bootOrder<D extends { readOnly?: boolean }>(disks: D[], device: string | null | undefined): D[] {
  const cdroms = disks.filter((d) => d.readOnly === true);
  const rest = disks.filter((d) => d.readOnly !== true);
  return device === 'cdrom' ? [...cdroms, ...rest] : [...rest, ...cdroms];
}
