// The CLINT (core-local interruptor) of SiFive's parts and QEMU's virt board:
// per hart an msip register (software interrupt, MSIP) and an mtimecmp
// register (timer interrupt, MTIP), and one shared mtime counter at a fixed
// 10 MHz timebase.
//
// Register map (offsets inside the 64 KiB window, as QEMU virt / SiFive CLINT):
//   0x0000 + 4*h   msip[h]      bit 0 drives mip.MSIP of hart h
//   0x4000 + 8*h   mtimecmp[h]  mip.MTIP of hart h = (mtime >= mtimecmp[h])
//   0xbff8         mtime
// 32-bit accesses to the halves of the 64-bit registers are allowed.
#pragma once

#include <cstdint>
#include <vector>

#include "cpu/hart.h"
#include "machine/mmio.h"

namespace vmsup {

class SnapOut;
class SnapIn;

// mtime: 10 MHz from the host's monotonic clock, writable (a write moves the
// offset, so the counter keeps ticking from the written value).
class TimeBase {
 public:
  static constexpr uint64_t kHz = 10'000'000;
  TimeBase();
  uint64_t now() const;
  void set(uint64_t v);
  // Host nanoseconds until mtime reaches `t` (0 when it has already).
  uint64_t ns_until(uint64_t t) const;

 private:
  uint64_t host_ns() const;
  uint64_t start_ns_;
  uint64_t offset_ = 0;  // mtime = (host_ns - start_ns) / 100 + offset
};

class Clint : public MmioDevice {
 public:
  static constexpr uint64_t kSize = 0x10000;
  static constexpr unsigned kMaxHarts = 4095;  // msip fits below 0x4000

  Clint(TimeBase& time, std::vector<Hart*> harts);
  bool read(uint64_t off, unsigned size, uint64_t* val) override;
  bool write(uint64_t off, unsigned size, uint64_t val) override;

  // Re-evaluates every hart's MTIP against mtime (call after time passes).
  void update();
  // The earliest mtimecmp not yet reached, or UINT64_MAX.
  uint64_t next_deadline() const;
  // mtime (continues from the saved value after a restore, as after a
  // suspend), every msip and mtimecmp.
  // Save/restore (native/snapshot; devices/persist.cc): the device's
  // architectural state; restore validates every field as the guest's register
  // writes would be, and returns false with in.error() set otherwise.
  void save_state(SnapOut& out) const;
  bool restore_state(SnapIn& in);

 private:
  TimeBase& time_;
  std::vector<Hart*> harts_;
  std::vector<uint64_t> mtimecmp_;
  std::vector<uint32_t> msip_;
};

}  // namespace vmsup
