#include "machine/boot.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "machine/fdt.h"

namespace vmsup {

namespace {

// The Linux riscv Image header (boot-image-header.rst).
struct ImageHeader {
  uint32_t code0, code1;
  uint64_t text_offset;
  uint64_t image_size;  // in-memory size, including .bss
  uint64_t flags;
  uint32_t version;
  uint32_t res1;
  uint64_t res2;
  uint64_t magic;   // "RISCV\0\0\0" (deprecated)
  uint32_t magic2;  // "RSC\x05"
  uint32_t res3;
};
static_assert(sizeof(ImageHeader) == 64, "Image header is 64 bytes");
constexpr uint32_t kImageMagic2 = 0x05435352;

uint64_t align_down(uint64_t v, uint64_t a) { return v & ~(a - 1); }
uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

std::string errno_text(int e) { return std::strerror(e); }

// Opens `path` (or duplicates `given`, an fd the daemon opened as the VM's
// owner) and returns its size; err names the file.
int open_file(const std::string& path, const char* what, uint64_t* size, std::string* err, int given = -1) {
  int fd = given >= 0 ? fcntl(given, F_DUPFD_CLOEXEC, 0) : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *err = std::string("cannot open ") + what + " " + path + ": " + errno_text(errno);
    return -1;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    *err = std::string(what) + " " + path + " is not a regular file";
    ::close(fd);
    return -1;
  }
  *size = static_cast<uint64_t>(st.st_size);
  return fd;
}

// Reads the whole file into guest RAM at gpa (its range already checked).
bool read_into(int fd, GuestMemory& mem, uint64_t gpa, uint64_t size, const std::string& path,
               std::string* err) {
  uint8_t* p = mem.host_ptr(gpa, size);
  if (!p) {
    *err = path + ": does not fit in guest RAM";
    return false;
  }
  uint64_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd, p + done, size - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *err = "cannot read " + path + ": " + (n < 0 ? errno_text(errno) : "unexpected end of file");
      return false;
    }
    done += static_cast<uint64_t>(n);
  }
  return true;
}

}  // namespace

KernelKind detect_kernel(const uint8_t* head, size_t len) {
  if (len >= 4 && std::memcmp(head, "\x7f" "ELF", 4) == 0) return KernelKind::kElf;
  if (len >= sizeof(ImageHeader)) {
    ImageHeader h;
    std::memcpy(&h, head, sizeof(h));
    if (h.magic2 == kImageMagic2) return KernelKind::kLinuxImage;
  }
  return len > 0 ? KernelKind::kRaw : KernelKind::kUnknown;
}

KernelKind detect_kernel_file(const std::string& path, std::string* err, int given) {
  uint64_t size = 0;
  int fd = open_file(path, "kernel", &size, err, given);
  if (fd < 0) return KernelKind::kUnknown;
  uint8_t head[64] = {};
  ssize_t n = ::pread(fd, head, sizeof(head), 0);
  ::close(fd);
  KernelKind k = detect_kernel(head, n > 0 ? static_cast<size_t>(n) : 0);
  if (k == KernelKind::kUnknown)
    *err = "kernel " + path + (n < 0 ? ": " + errno_text(errno) : std::string(" is empty"));
  return k;
}

bool load_boot_images(const BootRequest& req, GuestMemory& mem, BootPlan* plan,
                      std::string* err) {
  *plan = BootPlan{};
  const uint64_t ram_end = mem.end();

  // Firmware at the start of DRAM, below the kernel.
  if (!req.bios.empty()) {
    uint64_t size;
    int fd = open_file(req.bios, "firmware", &size, err, req.bios_fd);
    if (fd < 0) return false;
    bool ok = true;
    if (size == 0 || size > kKernelAddr - kFirmwareAddr) {
      *err = "firmware " + req.bios + " must be 1 byte to 2 MiB long (it sits below the kernel at 0x80200000)";
      ok = false;
    }
    ok = ok && read_into(fd, mem, kFirmwareAddr, size, req.bios, err);
    ::close(fd);
    if (!ok) return false;
    plan->firmware = true;
    plan->entry = kFirmwareAddr;
    plan->priv = kPrivM;
  }

  // The kernel Image at 0x80200000.
  plan->kernel_end = kKernelAddr;
  if (!req.kernel.empty()) {
    uint64_t size;
    int fd = open_file(req.kernel, "kernel", &size, err, req.kernel_fd);
    if (fd < 0) return false;
    ImageHeader h{};
    ssize_t n = ::pread(fd, &h, sizeof(h), 0);
    bool ok = true;
    if (req.kernel_raw) {
      // A flat binary (QEMU -kernel with neither ELF nor Image: copied as is).
      h = ImageHeader{};
      if (size == 0) {
        *err = "kernel " + req.kernel + " is empty";
        ok = false;
      }
    } else if (n != static_cast<ssize_t>(sizeof(h)) || h.magic2 != kImageMagic2) {
      *err = "kernel " + req.kernel + " is not a RISC-V Linux Image (no \"RSC\\x05\" header)";
      ok = false;
    } else if (h.image_size != 0 && (size > h.image_size || size < h.image_size / 2)) {
      // image_size covers the file plus .bss; a file much shorter than that
      // (or longer) is not a whole kernel. .bss is a small part of a kernel,
      // so "less than half" catches truncation without false alarms.
      *err = "kernel " + req.kernel + " is truncated or corrupt (" + std::to_string(size) +
             " bytes, the header says " + std::to_string(h.image_size) + ")";
      ok = false;
    }
    uint64_t mem_size = ok ? (h.image_size ? h.image_size : size) : 0;
    if (ok && (mem_size > ram_end - kKernelAddr || !mem.check_range(kKernelAddr, mem_size))) {
      *err = "kernel " + req.kernel + " does not fit in guest RAM";
      ok = false;
    }
    ok = ok && read_into(fd, mem, kKernelAddr, size, req.kernel, err);
    ::close(fd);
    if (!ok) return false;
    // Zero .bss and beyond is already zero (fresh or discarded RAM), but a
    // reboot may leave old contents: clear the bss range explicitly.
    if (mem_size > size) mem.fill(kKernelAddr + size, 0, mem_size - size);
    plan->kernel_end = kKernelAddr + mem_size;
    if (!plan->firmware) {
      plan->entry = kKernelAddr;
      plan->priv = kPrivS;
    }
  } else if (!plan->firmware) {
    *err = "no kernel or firmware to boot";
    return false;
  }

  // Measure the FDT (its size does not depend on the initrd addresses).
  FdtConfig fc;
  fc.harts = req.harts;
  fc.mem_size = mem.size();
  fc.bootargs = req.cmdline;
  if (req.boot_net) fc.uboot_bootcmd = "setenv boot_targets dhcp; run distro_bootcmd";
  uint64_t initrd_size = 0;
  int initrd_fd = -1;
  if (!req.initrd.empty()) {
    initrd_fd = open_file(req.initrd, "initrd", &initrd_size, err, req.initrd_fd);
    if (initrd_fd < 0) return false;
    fc.initrd_start = 1;
    fc.initrd_end = 2;
  }
  const uint64_t fdt_size = build_board_fdt(fc).size();
  if (fdt_size + 0x10000 > mem.size() / 2) {
    *err = "the kernel command line is too long";
    if (initrd_fd >= 0) ::close(initrd_fd);
    return false;
  }
  const uint64_t fdt_addr = align_down(ram_end - 0x10000 - fdt_size, 8);
  // With firmware, the fw_dynamic info sits in the 4 KiB page below the FDT.
  const uint64_t info_addr = plan->firmware ? align_down(fdt_addr - kFwDynamicInfoSize, 0x1000) : fdt_addr;

  if (plan->kernel_end > info_addr) {
    *err = "kernel " + req.kernel + " does not fit in guest RAM below the device tree";
    if (initrd_fd >= 0) ::close(initrd_fd);
    return false;
  }

  // The initrd just below the FDT, clear of the kernel (and of fw_jump's FDT copy).
  if (initrd_fd >= 0) {
    uint64_t lowest = align_up(plan->kernel_end, 0x1000);
    if (plan->firmware && lowest < kFwJumpFdtAddr + kFwJumpFdtReserve)
      lowest = kFwJumpFdtAddr + kFwJumpFdtReserve;
    uint64_t start = lowest <= info_addr && initrd_size <= info_addr - lowest
                         ? align_down(info_addr - initrd_size, 0x1000) : 0;
    if (initrd_size == 0 || start < lowest) {
      *err = "initrd " + req.initrd + " (" + std::to_string(initrd_size) +
             " bytes) does not fit in guest RAM (" + std::to_string(mem.size() >> 20) +
             " MiB) between the kernel and the device tree";
      ::close(initrd_fd);
      return false;
    }
    bool ok = read_into(initrd_fd, mem, start, initrd_size, req.initrd, err);
    ::close(initrd_fd);
    if (!ok) return false;
    plan->initrd_start = fc.initrd_start = start;
    plan->initrd_end = fc.initrd_end = start + initrd_size;
  }

  std::vector<uint8_t> fdt = build_board_fdt(fc);
  if (!mem.write(fdt_addr, fdt.data(), fdt.size())) {
    *err = "the device tree does not fit in guest RAM";
    return false;
  }
  plan->fdt_addr = fdt_addr;
  plan->fdt_size = fdt.size();
  if (plan->firmware) {
    // struct fw_dynamic_info, version 2 (OpenSBI include/sbi/fw_dynamic.h):
    // the next stage is the kernel slot in S-mode; boot_hart -1 lets the
    // harts race for the boot (the relocation lottery), as none ran before.
    const uint64_t info[6] = {kFwDynamicMagic, kFwDynamicVersion, kKernelAddr,
                              kFwDynamicNextModeS, 0, ~0ULL};
    uint8_t bytes[sizeof(info)];
    for (size_t i = 0; i < 6; i++)
      for (size_t b = 0; b < 8; b++) bytes[i * 8 + b] = static_cast<uint8_t>(info[i] >> (8 * b));
    if (!mem.write(info_addr, bytes, sizeof(bytes))) {
      *err = "the firmware information does not fit in guest RAM";
      return false;
    }
    plan->dynamic_info = info_addr;
  }
  return true;
}

uint64_t place_board_fdt(GuestMemory& mem, unsigned harts, const std::string& cmdline, uint64_t lowest_free) {
  FdtConfig fc;
  fc.harts = harts;
  fc.mem_size = mem.size();
  fc.bootargs = cmdline;
  std::vector<uint8_t> fdt = build_board_fdt(fc);
  const uint64_t ram_end = mem.end();
  if (fdt.size() + 0x10000 > mem.size() / 2) return 0;
  const uint64_t addr = align_down(ram_end - 0x10000 - fdt.size(), 8);
  if (addr < lowest_free) return 0;
  return mem.write(addr, fdt.data(), fdt.size()) ? addr : 0;
}

void start_hart(Hart& h, const BootPlan& plan) {
  const uint32_t id = h.hartid();
  if (plan.firmware || id == 0) {
    h.reset(plan.entry, plan.priv);
    h.set_reg(10, id);             // a0 = hartid
    h.set_reg(11, plan.fdt_addr);  // a1 = FDT
    if (plan.firmware) h.set_reg(12, plan.dynamic_info);  // a2 = fw_dynamic info
    h.set_state(HartState::kRunning);
  } else {
    // Direct boot: secondary harts wait for SBI HSM hart_start (SBI §9).
    h.reset(kKernelAddr, kPrivS);
    h.set_state(HartState::kStopped);
  }
}

}  // namespace vmsup
