// The board's memory map: ONE table that drives both device registration
// (machine.cc) and the generated flattened device tree (fdt.cc), as QEMU's
// virt_memmap[] does. Addresses and interrupt lines are QEMU `virt`'s, so the
// same kernels and firmware boot on both boards.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vmsup {

enum class Region {
  kSyscon,  // sifive,test-compatible power-off / reboot register
  kRtc,     // goldfish RTC
  kClint,   // core-local interruptor (msip, mtimecmp, mtime)
  kPlic,    // platform-level interrupt controller
  kUart,    // NS16550A
  kVirtio,  // one virtio-mmio slot (there are kVirtioSlots of them)
  kDram,    // main memory; its size comes from the machine configuration
};

struct MemRegion {
  Region kind;
  uint64_t base;
  uint64_t size;
  uint32_t irq;    // PLIC source number, 0 = none
  unsigned index;  // which slot, for kVirtio
};

// QEMU virt has 8 virtio-mmio slots (IRQs 1..8); vmsup needs room for 4 disks,
// 4 NICs, the entropy device and the keyboard, so slots 8..15 continue at the
// next addresses (QEMU leaves 0x10009000..0x100fffff unused) with PLIC sources
// 12..19 (10 and 11 are the UART and the RTC; QEMU's PCIe starts at 32). The
// FDT is generated from this table, so Linux finds them all.
constexpr unsigned kVirtioSlots = 16;
constexpr unsigned kVirtioQemuSlots = 8;
constexpr uint64_t kVirtioBase = 0x10001000;
constexpr uint64_t kVirtioStride = 0x1000;
constexpr uint32_t kVirtioIrqBase = 1;       // slot n < 8 uses PLIC source 1 + n
constexpr uint32_t kVirtioIrqHighBase = 12;  // slot n >= 8 uses PLIC source 12 + (n - 8)
constexpr uint32_t virtio_slot_irq(unsigned n) {
  return n < kVirtioQemuSlots ? kVirtioIrqBase + n : kVirtioIrqHighBase + (n - kVirtioQemuSlots);
}
constexpr uint64_t kDramBase = 0x80000000;

// PLIC geometry: QEMU virt has 96 sources (riscv,ndev = 95); 7 priority levels.
constexpr uint32_t kPlicSources = 96;
constexpr uint32_t kPlicMaxPriority = 7;
constexpr unsigned kMaxHarts = 8;

// The table itself; memmap.cc holds it. Entries are sorted by base address
// and do not overlap (memmap_test.cc checks that).
extern const MemRegion kMemMap[];
extern const size_t kMemMapCount;

// The first region of a kind (for kVirtio: slot 0).
const MemRegion& memmap_region(Region kind);
// The virtio-mmio slot n (n < kVirtioSlots).
const MemRegion& memmap_virtio(unsigned n);

// mtime ticks per second (CLINT and FDT /cpus/timebase-frequency).
constexpr uint64_t kTimebaseHz = 10000000;
// The UART's input clock, as in QEMU's FDT (3.6864 MHz).
constexpr uint32_t kUartClockHz = 3686400;

}  // namespace vmsup
