// Goldfish RTC (Android emulator "goldfish" platform, documented in QEMU's
// hw/rtc/goldfish_rtc.c and Linux's drivers/rtc/rtc-goldfish.c): a 64-bit
// nanosecond wall clock read as TIME_LOW (which latches TIME_HIGH) then
// TIME_HIGH, settable by writing TIME_HIGH then TIME_LOW, with one alarm that
// raises the PLIC line (source 11 on virt) when enabled.
#pragma once

#include <cstdint>
#include <functional>

#include "machine/mmio.h"

namespace vmsup {

class SnapOut;
class SnapIn;

class GoldfishRtc : public MmioDevice {
 public:
  // `now_ns` returns the host's real time in ns since the epoch (injected so
  // tests can control the clock).
  GoldfishRtc(IrqSink* irq, uint32_t line, std::function<uint64_t()> now_ns = nullptr);

  bool read(uint64_t off, unsigned size, uint64_t* val) override;
  bool write(uint64_t off, unsigned size, uint64_t val) override;
  // Fires the alarm when its time has come (called by the machine's loop).
  void poll();
  // Host ns until the armed alarm fires (0 if due), or UINT64_MAX when none is.
  uint64_t ns_until_alarm() const;
  // The guest's offset from host real time (the RTC keeps wall-clock time
  // across a save, as a real RTC keeps ticking in suspend), latches, alarm.
  // Save/restore (native/snapshot; devices/persist.cc): the device's
  // architectural state; restore validates every field as the guest's register
  // writes would be, and returns false with in.error() set otherwise.
  void save_state(SnapOut& out) const;
  bool restore_state(SnapIn& in);

 private:
  uint64_t guest_now() const;
  void update_irq();

  IrqSink* irq_;
  uint32_t line_;
  std::function<uint64_t()> now_;
  int64_t offset_ = 0;  // guest time - host time, after the guest sets the clock
  uint32_t time_high_latch_ = 0;
  uint32_t set_high_ = 0;
  uint64_t alarm_ = 0;
  bool alarm_armed_ = false;
  bool irq_enabled_ = false;
  bool irq_pending_ = false;
};

}  // namespace vmsup
