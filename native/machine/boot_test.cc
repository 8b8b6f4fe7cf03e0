// Boot image placement: a synthetic Linux Image (a real header, a small body),
// firmware, initrd and FDT laid out in guest RAM, and the refusals.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "machine/boot.h"
#include "testing.h"

using namespace vmsup;

namespace {

std::string write_temp(const std::vector<uint8_t>& data) {
  char path[] = "/tmp/vmsup-boot-test-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return "";
  if (::write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size())) return "";
  ::close(fd);
  return path;
}

// A Linux riscv Image: 64-byte header, then `body` bytes; image_size = body + bss.
std::vector<uint8_t> make_image(size_t body, uint64_t bss) {
  std::vector<uint8_t> f(64 + body, 0x11);
  std::memset(f.data(), 0, 64);
  uint64_t text_offset = 0x200000, image_size = f.size() + bss;
  std::memcpy(&f[8], &text_offset, 8);
  std::memcpy(&f[16], &image_size, 8);
  std::memcpy(&f[48], "RISCV\0\0\0", 8);
  std::memcpy(&f[56], "RSC\x05", 4);
  return f;
}

uint32_t be32(const uint8_t* p) { return (uint32_t(p[0]) << 24) | (p[1] << 16) | (p[2] << 8) | p[3]; }

struct Files {
  std::vector<std::string> paths;
  ~Files() {
    for (auto& p : paths) unlink(p.c_str());
  }
  std::string add(const std::vector<uint8_t>& d) {
    paths.push_back(write_temp(d));
    return paths.back();
  }
};

}  // namespace

TEST(detects_image_elf_and_other_files) {
  auto img = make_image(100, 0);
  CHECK(detect_kernel(img.data(), img.size()) == KernelKind::kLinuxImage);
  const uint8_t elf[] = {0x7f, 'E', 'L', 'F', 2, 1, 1};
  CHECK(detect_kernel(elf, sizeof(elf)) == KernelKind::kElf);
  // Anything else non-empty is a raw binary (QEMU -kernel loads those as is).
  const uint8_t junk[64] = {1, 2, 3};
  CHECK(detect_kernel(junk, sizeof(junk)) == KernelKind::kRaw);
  CHECK(detect_kernel(img.data(), 40) == KernelKind::kRaw);  // header cut short
  CHECK(detect_kernel(junk, 0) == KernelKind::kUnknown);     // empty
}

uint64_t le64(GuestMemory& mem, uint64_t a) {
  uint64_t v = 0;
  uint8_t b[8];
  mem.read(a, b, 8);
  for (int i = 7; i >= 0; i--) v = (v << 8) | b[i];
  return v;
}

TEST(firmware_gets_fw_dynamic_info_in_a2_and_a_raw_kernel_at_0x80200000) {
  Files f;
  GuestMemory mem;
  std::string err;
  CHECK(mem.init(64 << 20, &err));
  BootRequest req;
  req.bios = f.add(std::vector<uint8_t>(4096, 0x93));
  req.kernel = f.add(std::vector<uint8_t>(300000, 0x5c));  // e.g. u-boot.bin
  req.kernel_raw = true;
  req.harts = 2;
  BootPlan plan;
  CHECK(load_boot_images(req, mem, &plan, &err));
  uint8_t b = 0;
  mem.read_obj(kKernelAddr + 299999, &b);
  CHECK_EQ(b, 0x5c);
  CHECK_EQ(plan.kernel_end, kKernelAddr + 300000);
  // OpenSBI include/sbi/fw_dynamic.h, version 2.
  const uint64_t i = plan.dynamic_info;
  CHECK(i != 0);
  CHECK(i + kFwDynamicInfoSize <= plan.fdt_addr);
  CHECK(i > plan.kernel_end);
  CHECK_EQ(le64(mem, i), 0x4942534fu);          // magic "OSBI"
  CHECK_EQ(le64(mem, i + 8), 2u);               // version
  CHECK_EQ(le64(mem, i + 16), kKernelAddr);     // next_addr
  CHECK_EQ(le64(mem, i + 24), 1u);              // next_mode: S
  CHECK_EQ(le64(mem, i + 32), 0u);              // options
  CHECK_EQ(le64(mem, i + 40), ~0ULL);           // boot_hart: any
  // Every hart enters the firmware with a0 = hartid, a1 = FDT, a2 = the info.
  // (start_hart needs a Hart; the plan carries the values it sets.)
  CHECK(plan.firmware);
  CHECK_EQ(plan.entry, kFirmwareAddr);
}

TEST(boot_net_puts_a_dhcp_bootcmd_in_the_fdt_config_node) {
  Files f;
  GuestMemory mem;
  std::string err;
  CHECK(mem.init(64 << 20, &err));
  BootRequest req;
  req.bios = f.add(std::vector<uint8_t>(4096, 0x93));
  req.kernel = f.add(std::vector<uint8_t>(4096, 0x5c));
  req.kernel_raw = true;
  for (bool net : {false, true}) {
    req.boot_net = net;
    BootPlan plan;
    CHECK(load_boot_images(req, mem, &plan, &err));
    std::vector<uint8_t> fdt(plan.fdt_size);
    mem.read(plan.fdt_addr, fdt.data(), fdt.size());
    const std::string blob(fdt.begin(), fdt.end());
    CHECK_EQ(blob.find("setenv boot_targets dhcp") != std::string::npos, net);
    CHECK_EQ(blob.find(std::string("config\0", 7)) != std::string::npos, net);
  }
}

TEST(an_empty_raw_kernel_is_refused) {
  Files f;
  GuestMemory mem;
  std::string err;
  CHECK(mem.init(16 << 20, &err));
  BootRequest req;
  req.kernel = f.add({});
  req.kernel_raw = true;
  BootPlan plan;
  CHECK(!load_boot_images(req, mem, &plan, &err));
  CHECK(err.find("empty") != std::string::npos);
  req.kernel = f.add(std::vector<uint8_t>(15 << 20, 1));  // past the end of 16 MiB
  CHECK(!load_boot_images(req, mem, &plan, &err));
  CHECK(err.find("does not fit") != std::string::npos);
}

TEST(an_m_mode_elf_gets_the_board_fdt_unless_the_elf_fills_the_end_of_ram) {
  GuestMemory mem;
  std::string err;
  CHECK(mem.init(16 << 20, &err));
  const uint64_t a = place_board_fdt(mem, 1, "x", kFirmwareAddr + 0x10000);
  CHECK(a != 0);
  CHECK_EQ(a % 8, 0u);
  uint8_t hdr[4];
  mem.read(a, hdr, 4);
  CHECK_EQ(be32(hdr), 0xd00dfeedu);
  CHECK_EQ(place_board_fdt(mem, 1, "x", mem.end()), 0u);
}

TEST(direct_boot_places_kernel_initrd_and_fdt) {
  Files f;
  GuestMemory mem;
  std::string err;
  CHECK(mem.init(64 << 20, &err));
  BootRequest req;
  req.kernel = f.add(make_image(8192, 4096));
  req.initrd = f.add(std::vector<uint8_t>(100000, 0x77));
  req.cmdline = "console=ttyS0 hello";
  BootPlan plan;
  CHECK(load_boot_images(req, mem, &plan, &err));
  CHECK(!plan.firmware);
  CHECK_EQ(plan.entry, kKernelAddr);
  CHECK(plan.priv == kPrivS);
  uint8_t b = 0;
  mem.read_obj(kKernelAddr + 64, &b);
  CHECK_EQ(b, 0x11);
  // FDT high in RAM, 8-byte aligned, starting with its magic.
  CHECK_EQ(plan.fdt_addr % 8, 0u);
  CHECK(plan.fdt_addr + plan.fdt_size <= mem.end());
  CHECK(plan.fdt_addr > mem.end() - (1 << 20));
  uint8_t hdr[4];
  mem.read(plan.fdt_addr, hdr, 4);
  CHECK_EQ(be32(hdr), 0xd00dfeedu);
  // initrd page aligned, below the FDT, above the kernel, contents intact.
  CHECK_EQ(plan.initrd_start % 4096, 0u);
  CHECK_EQ(plan.initrd_end - plan.initrd_start, 100000u);
  CHECK(plan.initrd_end <= plan.fdt_addr);
  CHECK(plan.initrd_start >= plan.kernel_end);
  mem.read_obj(plan.initrd_end - 1, &b);
  CHECK_EQ(b, 0x77);
}

TEST(firmware_boot_enters_m_mode_at_dram_base_and_keeps_clear_of_fw_jump_fdt) {
  Files f;
  GuestMemory mem;
  std::string err;
  CHECK(mem.init(64 << 20, &err));
  BootRequest req;
  req.bios = f.add(std::vector<uint8_t>(4096, 0x93));
  req.kernel = f.add(make_image(4096, 0));
  req.initrd = f.add(std::vector<uint8_t>(4096, 1));
  req.harts = 2;
  BootPlan plan;
  CHECK(load_boot_images(req, mem, &plan, &err));
  CHECK(plan.firmware);
  CHECK_EQ(plan.entry, kFirmwareAddr);
  CHECK(plan.priv == kPrivM);
  CHECK(plan.initrd_start >= kFwJumpFdtAddr + kFwJumpFdtReserve);
  uint8_t b = 0;
  mem.read_obj(kFirmwareAddr, &b);
  CHECK_EQ(b, 0x93);
}

TEST(initrd_too_large_is_refused_with_a_clear_message) {
  Files f;
  GuestMemory mem;
  std::string err;
  CHECK(mem.init(16 << 20, &err));
  BootRequest req;
  req.kernel = f.add(make_image(4096, 0));
  req.initrd = f.add(std::vector<uint8_t>(15 << 20, 0));
  BootPlan plan;
  CHECK(!load_boot_images(req, mem, &plan, &err));
  CHECK(err.find("does not fit") != std::string::npos);
}

TEST(truncated_or_oversized_image_is_refused) {
  Files f;
  GuestMemory mem;
  std::string err;
  CHECK(mem.init(16 << 20, &err));
  BootRequest req;
  auto img = make_image(100000, 0);
  img.resize(20000);  // header says ~100 KB
  req.kernel = f.add(img);
  BootPlan plan;
  CHECK(!load_boot_images(req, mem, &plan, &err));
  CHECK(err.find("truncated") != std::string::npos);
  req.kernel = f.add(make_image(8 << 20, 7 << 20));  // 15 MiB from 0x80200000: past the end of 16 MiB
  CHECK(!load_boot_images(req, mem, &plan, &err));
  CHECK(err.find("does not fit") != std::string::npos);
}

TEST(missing_files_are_named_in_the_error) {
  GuestMemory mem;
  std::string err;
  CHECK(mem.init(16 << 20, &err));
  BootRequest req;
  req.kernel = "/nonexistent/vmsup-kernel";
  BootPlan plan;
  CHECK(!load_boot_images(req, mem, &plan, &err));
  CHECK(err.find("/nonexistent/vmsup-kernel") != std::string::npos);
  req = BootRequest{};
  CHECK(!load_boot_images(req, mem, &plan, &err));  // nothing to boot
}

TEST_MAIN()
