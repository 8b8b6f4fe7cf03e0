// The board's FDT: a well-formed blob (walked token by token here, and
// decompiled by dtc when it is installed) with the nodes Linux and OpenSBI need.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unistd.h>
#include <string>
#include <vector>

#include "machine/fdt.h"
#include "machine/memmap.h"
#include "testing.h"

using namespace vmsup;

namespace {
uint32_t be32(const std::vector<uint8_t>& b, size_t off) {
  return (uint32_t(b[off]) << 24) | (uint32_t(b[off + 1]) << 16) | (uint32_t(b[off + 2]) << 8) | b[off + 3];
}

// Walks the structure block; returns the node paths and checks nesting.
bool walk(const std::vector<uint8_t>& b, std::vector<std::string>* nodes, std::vector<std::string>* props) {
  uint32_t off = be32(b, 8), strings = be32(b, 12), ssize = be32(b, 32);
  std::vector<std::string> stack;
  for (;;) {
    if (off + 4 > b.size()) return false;
    uint32_t t = be32(b, off);
    off += 4;
    if (t == 1) {
      std::string name(reinterpret_cast<const char*>(&b[off]));
      off += (name.size() + 1 + 3) & ~3u;
      stack.push_back(name);
      std::string path;
      for (size_t i = 1; i < stack.size(); i++) path += "/" + stack[i];
      nodes->push_back(path.empty() ? "/" : path);
    } else if (t == 2) {
      if (stack.empty()) return false;
      stack.pop_back();
    } else if (t == 3) {
      uint32_t len = be32(b, off), nameoff = be32(b, off + 4);
      if (nameoff >= ssize) return false;
      props->push_back(std::string(reinterpret_cast<const char*>(&b[strings + nameoff])));
      off += 8 + ((len + 3) & ~3u);
    } else if (t == 9) {
      return stack.empty();
    } else if (t != 4) {
      return false;
    }
  }
}

std::string dtc_decompile(const std::vector<uint8_t>& blob) {
  if (std::system("command -v dtc >/dev/null 2>&1") != 0) return "";
  char path[] = "/tmp/vmsup-fdt-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return "";
  FILE* f = fdopen(fd, "wb");
  fwrite(blob.data(), 1, blob.size(), f);
  fclose(f);
  std::string cmd = std::string("dtc -q -I dtb -O dts ") + path + " 2>&1";
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  int rc = pclose(p);
  unlink(path);
  return rc == 0 ? out : "DTC FAILED: " + out;
}
}  // namespace

TEST(header_is_well_formed) {
  FdtConfig c;
  c.mem_size = 256ULL << 20;
  c.bootargs = "console=ttyS0";
  auto b = build_board_fdt(c);
  CHECK_EQ(be32(b, 0), 0xd00dfeedu);
  CHECK_EQ(be32(b, 4), b.size());
  CHECK_EQ(be32(b, 20), 17u);
  CHECK_EQ(b.size() % 8, 0u);
  CHECK_EQ(be32(b, 16) % 8, 0u);  // memory reservation block aligned
  std::vector<std::string> nodes, props;
  CHECK(walk(b, &nodes, &props));
}

TEST(tree_has_the_board_nodes_from_the_memory_map) {
  FdtConfig c;
  c.harts = 2;
  c.mem_size = 512ULL << 20;
  c.bootargs = "console=ttyS0 root=/dev/vda";
  c.initrd_start = 0x88000000;
  c.initrd_end = 0x88100000;
  auto b = build_board_fdt(c);
  std::vector<std::string> nodes, props;
  CHECK(walk(b, &nodes, &props));
  auto has = [&](const std::string& n) {
    for (auto& x : nodes)
      if (x == n) return true;
    return false;
  };
  CHECK(has("/chosen"));
  CHECK(has("/memory@80000000"));
  CHECK(has("/cpus/cpu@0/interrupt-controller"));
  CHECK(has("/cpus/cpu@1/interrupt-controller"));
  CHECK(has("/soc/plic@c000000"));
  CHECK(has("/soc/clint@2000000"));
  CHECK(has("/soc/serial@10000000"));
  CHECK(has("/soc/rtc@101000"));
  CHECK(has("/soc/test@100000"));
  CHECK(has("/soc/poweroff"));
  CHECK(has("/soc/reboot"));
  for (unsigned i = 0; i < kVirtioSlots; i++) {
    char n[64];
    std::snprintf(n, sizeof(n), "/soc/virtio_mmio@%llx", (unsigned long long)memmap_virtio(i).base);
    CHECK(has(n));
  }
}

TEST(dtc_accepts_the_blob_and_sees_the_wiring) {
  FdtConfig c;
  c.harts = 2;
  c.mem_size = 256ULL << 20;
  c.bootargs = "console=ttyS0 vmsup.test=poweroff";
  c.initrd_start = 0x8f000000;
  c.initrd_end = 0x8f155000;
  std::string dts = dtc_decompile(build_board_fdt(c));
  if (dts.empty()) {
    // dtc is a declared test dependency (scripts/install-deps.sh).
    std::printf("  dtc is not installed (apt-get install device-tree-compiler)\n");
    CHECK(!dts.empty());
    return;
  }
  CHECK(dts.find("DTC FAILED") == std::string::npos);
  CHECK(dts.find("bootargs = \"console=ttyS0 vmsup.test=poweroff\"") != std::string::npos);
  CHECK(dts.find("stdout-path = \"/soc/serial@10000000\"") != std::string::npos);
  CHECK(dts.find("linux,initrd-start = <0x00 0x8f000000>") != std::string::npos);
  CHECK(dts.find("linux,initrd-end = <0x00 0x8f155000>") != std::string::npos);
  CHECK(dts.find("timebase-frequency = <0x989680>") != std::string::npos);
  CHECK(dts.find("reg = <0x00 0x80000000 0x00 0x10000000>") != std::string::npos);
  CHECK(dts.find("riscv,isa = \"rv64imafdc") != std::string::npos);
  // PLIC contexts: hart 0 M (11) and S (9), then hart 1 (intc phandles 1 and 2).
  CHECK(dts.find("interrupts-extended = <0x01 0x0b 0x01 0x09 0x02 0x0b 0x02 0x09>") != std::string::npos);
  CHECK(dts.find("interrupts-extended = <0x01 0x03 0x01 0x07 0x02 0x03 0x02 0x07>") != std::string::npos);
  CHECK(dts.find("compatible = \"ns16550a\"") != std::string::npos);
  CHECK(dts.find("compatible = \"syscon-poweroff\"") != std::string::npos);
  CHECK(dts.find("value = <0x7777>") != std::string::npos);
}

TEST(no_initrd_means_no_initrd_properties) {
  FdtConfig c;
  c.mem_size = 64ULL << 20;
  auto b = build_board_fdt(c);
  std::vector<std::string> nodes, props;
  CHECK(walk(b, &nodes, &props));
  for (auto& p : props) CHECK(p != "linux,initrd-start");
}

TEST_MAIN()
