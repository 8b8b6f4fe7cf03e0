#include "machine/fdt.h"

#include <cstdio>
#include <cstring>

#include "machine/memmap.h"

namespace vmsup {

namespace {
// Structure block tokens (DT spec §5.4.1).
constexpr uint32_t kBeginNode = 1, kEndNode = 2, kProp = 3, kEnd = 9;
constexpr uint32_t kMagic = 0xd00dfeed;
constexpr uint32_t kVersion = 17, kLastCompVersion = 16;

void put_be32(std::vector<uint8_t>* v, uint32_t x) {
  v->push_back(static_cast<uint8_t>(x >> 24));
  v->push_back(static_cast<uint8_t>(x >> 16));
  v->push_back(static_cast<uint8_t>(x >> 8));
  v->push_back(static_cast<uint8_t>(x));
}
std::string hex_name(const char* node, uint64_t addr) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%s@%llx", node, static_cast<unsigned long long>(addr));
  return buf;
}
}  // namespace

FdtBuilder::FdtBuilder() = default;

void FdtBuilder::token(uint32_t t) { put_be32(&struct_, t); }
void FdtBuilder::pad() {
  while (struct_.size() % 4) struct_.push_back(0);
}

uint32_t FdtBuilder::string_offset(const std::string& name) {
  auto it = string_offsets_.find(name);
  if (it != string_offsets_.end()) return it->second;
  uint32_t off = static_cast<uint32_t>(strings_.size());
  strings_ += name;
  strings_.push_back('\0');
  string_offsets_[name] = off;
  return off;
}

void FdtBuilder::begin_node(const std::string& name) {
  token(kBeginNode);
  struct_.insert(struct_.end(), name.begin(), name.end());
  struct_.push_back(0);
  pad();
  depth_++;
}

void FdtBuilder::end_node() {
  token(kEndNode);
  depth_--;
}

void FdtBuilder::prop_raw(const std::string& name, const void* data, size_t len) {
  token(kProp);
  put_be32(&struct_, static_cast<uint32_t>(len));
  put_be32(&struct_, string_offset(name));
  const uint8_t* p = static_cast<const uint8_t*>(data);
  struct_.insert(struct_.end(), p, p + len);
  pad();
}

void FdtBuilder::prop_empty(const std::string& name) { prop_raw(name, nullptr, 0); }
void FdtBuilder::prop_u32(const std::string& name, uint32_t v) { prop_cells(name, {v}); }
void FdtBuilder::prop_u64(const std::string& name, uint64_t v) {
  prop_cells(name, {static_cast<uint32_t>(v >> 32), static_cast<uint32_t>(v)});
}
void FdtBuilder::prop_cells(const std::string& name, const std::vector<uint32_t>& cells) {
  std::vector<uint8_t> b;
  for (uint32_t c : cells) put_be32(&b, c);
  prop_raw(name, b.data(), b.size());
}
void FdtBuilder::prop_string(const std::string& name, const std::string& v) {
  prop_raw(name, v.c_str(), v.size() + 1);
}
void FdtBuilder::prop_strings(const std::string& name, const std::vector<std::string>& v) {
  std::string all;
  for (const auto& s : v) {
    all += s;
    all.push_back('\0');
  }
  prop_raw(name, all.data(), all.size());
}

std::vector<uint8_t> FdtBuilder::finish(uint32_t boot_cpuid) {
  token(kEnd);
  // Layout (§5.1): header (40 bytes), memory reservation block (8-byte
  // aligned, one terminating all-zero entry), structure block, strings block.
  const uint32_t header = 40;
  const uint32_t rsv_off = header;
  const uint32_t rsv_size = 16;
  const uint32_t struct_off = rsv_off + rsv_size;
  const uint32_t struct_size = static_cast<uint32_t>(struct_.size());
  const uint32_t strings_off = struct_off + struct_size;
  const uint32_t strings_size = static_cast<uint32_t>(strings_.size());
  uint32_t total = strings_off + strings_size;
  total = (total + 7) & ~7u;
  std::vector<uint8_t> out;
  out.reserve(total);
  for (uint32_t v : {kMagic, total, struct_off, strings_off, rsv_off, kVersion, kLastCompVersion,
                     boot_cpuid, strings_size, struct_size})
    put_be32(&out, v);
  out.resize(out.size() + rsv_size, 0);
  out.insert(out.end(), struct_.begin(), struct_.end());
  out.insert(out.end(), strings_.begin(), strings_.end());
  out.resize(total, 0);
  return out;
}

std::vector<uint8_t> build_board_fdt(const FdtConfig& cfg) {
  FdtBuilder b;
  uint32_t next_phandle = 1;
  const unsigned harts = cfg.harts ? cfg.harts : 1;
  std::vector<uint32_t> intc(harts);
  for (auto& p : intc) p = next_phandle++;
  std::vector<uint32_t> cpu_ph(harts);
  for (auto& p : cpu_ph) p = next_phandle++;
  const uint32_t plic_ph = next_phandle++;
  const uint32_t syscon_ph = next_phandle++;
  const std::string uart_path =
      "/soc/" + hex_name("serial", memmap_region(Region::kUart).base);

  auto reg = [&](uint64_t base, uint64_t size) {
    b.prop_cells("reg", {static_cast<uint32_t>(base >> 32), static_cast<uint32_t>(base),
                         static_cast<uint32_t>(size >> 32), static_cast<uint32_t>(size)});
  };

  b.begin_node("");
  b.prop_u32("#address-cells", 2);
  b.prop_u32("#size-cells", 2);
  b.prop_string("compatible", "riscv-virtio");
  b.prop_string("model", "riscv-virtio,vmsup");

  // /chosen (DT spec §3.6; linux,initrd-* as Linux's of/fdt.c reads them).
  b.begin_node("chosen");
  b.prop_string("bootargs", cfg.bootargs);
  b.prop_string("stdout-path", uart_path);
  if (cfg.initrd_end > cfg.initrd_start) {
    b.prop_u64("linux,initrd-start", cfg.initrd_start);
    b.prop_u64("linux,initrd-end", cfg.initrd_end);
  }
  b.end_node();
  if (!cfg.uboot_bootcmd.empty()) {
    b.begin_node("config");  // U-Boot doc/device-tree-bindings/config.txt
    b.prop_string("bootcmd", cfg.uboot_bootcmd);
    b.end_node();
  }

  for (size_t i = 0; i < kMemMapCount; i++) {
    const MemRegion& r = kMemMap[i];
    if (r.kind != Region::kDram) continue;
    b.begin_node(hex_name("memory", r.base));
    b.prop_string("device_type", "memory");
    reg(r.base, cfg.mem_size);
    b.end_node();
  }

  // /cpus (DT spec §3.7; RISC-V bindings: riscv,isa, mmu-type, cpu-intc).
  b.begin_node("cpus");
  b.prop_u32("#address-cells", 1);
  b.prop_u32("#size-cells", 0);
  b.prop_u32("timebase-frequency", static_cast<uint32_t>(kTimebaseHz));
  for (unsigned h = 0; h < harts; h++) {
    b.begin_node(hex_name("cpu", h));
    b.prop_string("device_type", "cpu");
    b.prop_u32("reg", h);
    b.prop_string("status", "okay");
    b.prop_string("compatible", "riscv");
    b.prop_string("riscv,isa", cfg.isa);
    b.prop_string("mmu-type", cfg.mmu);
    b.prop_u32("phandle", cpu_ph[h]);
    b.begin_node("interrupt-controller");
    b.prop_u32("#interrupt-cells", 1);
    b.prop_empty("interrupt-controller");
    b.prop_string("compatible", "riscv,cpu-intc");
    b.prop_u32("phandle", intc[h]);
    b.end_node();
    b.end_node();
  }
  b.begin_node("cpu-map");
  b.begin_node("cluster0");
  for (unsigned h = 0; h < harts; h++) {
    b.begin_node("core" + std::to_string(h));
    b.prop_u32("cpu", cpu_ph[h]);
    b.end_node();
  }
  b.end_node();
  b.end_node();
  b.end_node();  // cpus

  b.begin_node("soc");
  b.prop_u32("#address-cells", 2);
  b.prop_u32("#size-cells", 2);
  b.prop_string("compatible", "simple-bus");
  b.prop_empty("ranges");
  // A device with one register window and one PLIC interrupt line (and, for
  // the UART, its input clock).
  auto plic_device = [&](const char* name, const char* compatible, const MemRegion& r,
                         uint32_t clock_hz = 0) {
    b.begin_node(hex_name(name, r.base));
    b.prop_string("compatible", compatible);
    reg(r.base, r.size);
    if (clock_hz != 0) b.prop_u32("clock-frequency", clock_hz);
    b.prop_u32("interrupt-parent", plic_ph);
    b.prop_u32("interrupts", r.irq);
    b.end_node();
  };
  for (size_t i = 0; i < kMemMapCount; i++) {
    const MemRegion& r = kMemMap[i];
    switch (r.kind) {
      case Region::kSyscon:
        b.begin_node(hex_name("test", r.base));
        b.prop_strings("compatible", {"sifive,test1", "sifive,test0", "syscon"});
        reg(r.base, r.size);
        b.prop_u32("phandle", syscon_ph);
        b.end_node();
        // Linux drivers/power/reset/syscon-{poweroff,reboot}.c.
        b.begin_node("poweroff");
        b.prop_string("compatible", "syscon-poweroff");
        b.prop_u32("regmap", syscon_ph);
        b.prop_u32("offset", 0);
        b.prop_u32("value", 0x5555);
        b.end_node();
        b.begin_node("reboot");
        b.prop_string("compatible", "syscon-reboot");
        b.prop_u32("regmap", syscon_ph);
        b.prop_u32("offset", 0);
        b.prop_u32("value", 0x7777);
        b.end_node();
        break;
      case Region::kRtc:
        plic_device("rtc", "google,goldfish-rtc", r);
        break;
      case Region::kClint: {
        // Each hart's software (3 = MSIP) and timer (7 = MTIP) interrupts.
        std::vector<uint32_t> ie;
        for (unsigned h = 0; h < harts; h++) ie.insert(ie.end(), {intc[h], 3, intc[h], 7});
        b.begin_node(hex_name("clint", r.base));
        b.prop_strings("compatible", {"sifive,clint0", "riscv,clint0"});
        reg(r.base, r.size);
        b.prop_cells("interrupts-extended", ie);
        b.end_node();
        break;
      }
      case Region::kPlic: {
        // Context 2h -> hart h M-mode external (11), 2h+1 -> S-mode external (9).
        std::vector<uint32_t> ie;
        for (unsigned h = 0; h < harts; h++) ie.insert(ie.end(), {intc[h], 11, intc[h], 9});
        b.begin_node(hex_name("plic", r.base));
        b.prop_strings("compatible", {"sifive,plic-1.0.0", "riscv,plic0"});
        reg(r.base, r.size);
        b.prop_u32("#address-cells", 0);
        b.prop_u32("#interrupt-cells", 1);
        b.prop_empty("interrupt-controller");
        b.prop_cells("interrupts-extended", ie);
        b.prop_u32("riscv,ndev", kPlicSources - 1);
        b.prop_u32("phandle", plic_ph);
        b.end_node();
        break;
      }
      case Region::kUart:
        plic_device("serial", "ns16550a", r, kUartClockHz);
        break;
      case Region::kVirtio:
        plic_device("virtio_mmio", "virtio,mmio", r);
        break;
      case Region::kDram:
        break;
    }
  }
  b.end_node();  // soc
  b.end_node();  // root
  return b.finish(0);
}

}  // namespace vmsup
