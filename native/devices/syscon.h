// The power-off / reboot register of QEMU virt (SiFive "test" device,
// compatible "sifive,test0" + "syscon"): a 32-bit write at offset 0 whose low
// 16 bits say what to do (0x5555 power off, 0x7777 reset, 0x3333 fail with the
// code in the upper 16 bits). The FDT's syscon-poweroff / syscon-reboot nodes
// point Linux at it; OpenSBI's SRST implementation writes it too.
#pragma once

#include <cstdint>
#include <functional>

#include "machine/mmio.h"

namespace vmsup {

enum class SysconAction { kPowerOff, kReset, kFail };

class Syscon : public MmioDevice {
 public:
  explicit Syscon(std::function<void(SysconAction, uint32_t code)> on_action)
      : on_action_(std::move(on_action)) {}
  bool read(uint64_t off, unsigned size, uint64_t* val) override;
  bool write(uint64_t off, unsigned size, uint64_t val) override;

 private:
  std::function<void(SysconAction, uint32_t)> on_action_;
};

}  // namespace vmsup
