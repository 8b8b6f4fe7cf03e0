// Boot images: a Linux `Image` booted directly in S-mode (the SBI is then
// implemented by the emulator, machine/sbi.h), or firmware (`--bios`, e.g.
// OpenSBI fw_jump.bin) in M-mode with the kernel at 0x80200000; an optional
// initrd; and the device tree, placed high in RAM.
//
// Layout (QEMU virt's conventions, so fw_jump works unchanged):
//   0x80000000  firmware (--bios), entered in M-mode by every hart
//   0x80200000  kernel Image (Linux boot protocol: 2 MiB into DRAM on RV64,
//               Documentation/riscv/boot.rst), or fw_jump's FW_JUMP_ADDR
//   ...         initrd, just below the FDT (4 KiB aligned)
//   end of RAM  FDT (8-byte aligned, 64 KiB below the end)
// fw_jump copies the FDT to 0x82200000 (FW_JUMP_FDT_ADDR), so with --bios the
// initrd must stay clear of [0x82200000, 0x82400000).
// With firmware, every hart also gets a2 = the address of an OpenSBI
// fw_dynamic info struct (OpenSBI docs/firmware/fw_dynamic.md, include/sbi/
// fw_dynamic.h; QEMU hw/riscv/boot.c passes the same), just below the FDT:
// fw_dynamic.bin needs it, fw_jump/fw_payload ignore a2.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cpu/hart.h"
#include "memory/guest_memory.h"

namespace vmsup {

constexpr uint64_t kFirmwareAddr = 0x80000000;
constexpr uint64_t kKernelAddr = 0x80200000;
constexpr uint64_t kFwJumpFdtAddr = 0x82200000;
constexpr uint64_t kFwJumpFdtReserve = 0x200000;

// kRaw: any other non-empty file, a flat binary (U-Boot's u-boot.bin, a
// firmware), loaded at 0x80200000 as QEMU's -kernel loads one.
enum class KernelKind { kNone, kLinuxImage, kElf, kRaw, kUnknown };

// fw_dynamic info (OpenSBI include/sbi/fw_dynamic.h, version 2): six XLEN
// words — magic "OSBI", version, next_addr, next_mode, options, boot_hart.
constexpr uint64_t kFwDynamicMagic = 0x4942534f;
constexpr uint64_t kFwDynamicVersion = 2;
constexpr uint64_t kFwDynamicNextModeS = 1;
constexpr uint64_t kFwDynamicInfoSize = 6 * 8;

// Sniffs a kernel file's first bytes: Linux riscv Image by its header magic
// "RSC\x05" at offset 0x38 (Documentation/riscv/boot-image-header.rst), ELF
// by "\x7fELF"; anything else non-empty is a raw binary.
KernelKind detect_kernel(const uint8_t* head, size_t len);
// The same on a file; kUnknown when it cannot be read or is empty (err says why).
// fd >= 0: read that descriptor instead of opening `path` (which then only names it).
KernelKind detect_kernel_file(const std::string& path, std::string* err, int fd = -1);

struct BootRequest {
  std::string kernel;  // a Linux Image ("" = none); ELF kernels are loaded by the machine
  bool kernel_raw = false;  // `kernel` is a raw binary, copied as is to 0x80200000
  bool boot_net = false;    // -B net: the FDT asks U-Boot for its DHCP boot target
  std::string bios;    // firmware ("" = direct boot)
  std::string initrd;
  int kernel_fd = -1, bios_fd = -1, initrd_fd = -1;  // >= 0: read these, not the paths
  std::string cmdline;
  unsigned harts = 1;
};

struct BootPlan {
  bool firmware = false;  // true: every hart enters kFirmwareAddr in M-mode
  uint64_t entry = 0;     // hart 0's pc
  Priv priv = kPrivS;
  uint64_t fdt_addr = 0;  // a1 for every hart that starts
  uint64_t fdt_size = 0;
  uint64_t dynamic_info = 0;  // a2 with firmware: the fw_dynamic info struct
  uint64_t kernel_end = 0;
  uint64_t initrd_start = 0, initrd_end = 0;
};

// Loads firmware, kernel, initrd and the FDT into `mem` and says how the harts
// start. On failure returns false with *err one clear line naming the file.
bool load_boot_images(const BootRequest& req, GuestMemory& mem, BootPlan* plan, std::string* err);

// Writes the board FDT (harts, RAM, bootargs) near the end of RAM for a
// bare-metal ELF, as QEMU passes one to any M-mode program. Returns its
// address, or 0 when it would overlap [0, lowest_free) (the ELF's segments).
uint64_t place_board_fdt(GuestMemory& mem, unsigned harts, const std::string& cmdline, uint64_t lowest_free);

// Puts hart `h` in its boot state under `plan`: hart 0 (or every hart with
// firmware) at the entry with a0 = hartid, a1 = FDT (and a2 = fw_dynamic
// info with firmware); other harts stopped,
// waiting for SBI HSM hart_start.
void start_hart(Hart& h, const BootPlan& plan);

}  // namespace vmsup
