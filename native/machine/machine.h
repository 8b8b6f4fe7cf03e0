// The board: a RISC-V `virt`-like machine with QEMU's memory map, so stock
// OpenSBI and Linux images boot unchanged. One Machine = one VM; it lives in one
// thread (the VM's worker) and is driven in slices by run().
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "block/backend.h"
#include "cpu/hart.h"
#include "memory/guest_memory.h"

namespace vmsup {

struct DiskConfig {
  std::string path;
  DiskFormat format = DiskFormat::Raw;
  bool read_only = false;
};

struct MachineConfig {
  uint64_t mem_size = 256ULL << 20;
  unsigned cpus = 1;
  std::string kernel;   // -b: bare-metal ELF or Linux Image
  std::string initrd;   // --initrd
  std::string cmdline = "console=ttyS0";
  std::string bios;     // --bios: firmware loaded at DRAM base, run in M-mode
  std::vector<DiskConfig> disks;
  int console_in_fd = -1;   // UART input (stdin or a pty master); -1 = none
  int console_out_fd = -1;  // UART output (stdout or a pty master); -1 = discard
  int wake_fd = -1;         // an eventfd the supervisor writes to interrupt an idle sleep
};

enum class RunResult {
  kSlice,     // the time slice ended; call run() again
  kPowerOff,  // the guest powered off (syscon, SBI SRST, HTIF exit)
  kReset,     // the guest asked for a reboot (the caller rebuilds or resets the VM)
  kHtifPass,  // HTIF tohost = 1
  kHtifFail,  // HTIF tohost = (n << 1) | 1; exit_code() = n
  kError,     // an emulator-side error; error() says which
};

}  // namespace vmsup
