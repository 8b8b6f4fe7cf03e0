// Platform-Level Interrupt Controller (RISC-V PLIC specification 1.0.0), as on
// QEMU virt: kPlicSources sources (source 0 does not exist), priorities 0..7,
// and two contexts per hart: context 2h is hart h's M-mode (drives mip.MEIP),
// context 2h+1 its S-mode (drives mip.SEIP).
//
// Sources are level-triggered (the gateway of PLIC spec §Interrupt Gateways):
// a high line makes the source pending unless it is already claimed; claim
// clears pending; complete re-arms the gateway, so a line still high is
// pending again at once.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "machine/memmap.h"
#include "machine/mmio.h"

namespace vmsup {

class SnapOut;
class SnapIn;

class Plic : public MmioDevice, public IrqSink {
 public:
  // `output(ctx, level)` is called whenever a context's interrupt output changes.
  Plic(unsigned harts, std::function<void(unsigned ctx, bool level)> output);

  bool read(uint64_t off, unsigned size, uint64_t* val) override;
  bool write(uint64_t off, unsigned size, uint64_t val) override;
  void set_irq(uint32_t line, bool level) override;

  void reset();
  unsigned contexts() const { return contexts_; }
  bool output_level(unsigned ctx) const { return ctx < contexts_ && out_[ctx]; }
  // Metrics: external interrupts delivered (successful claims), all sources.
  uint64_t claims() const { return claims_; }
  // Priorities, line levels, pending/claimed bits, enables and thresholds;
  // restore drives the context outputs from them.
  // Save/restore (native/snapshot; devices/persist.cc): the device's
  // architectural state; restore validates every field as the guest's register
  // writes would be, and returns false with in.error() set otherwise.
  void save_state(SnapOut& out) const;
  bool restore_state(SnapIn& in);

 private:
  static constexpr unsigned kWords = (kPlicSources + 31) / 32;
  uint32_t best_pending(unsigned ctx) const;  // 0 = none above the threshold
  uint32_t claim(unsigned ctx);
  void complete(unsigned ctx, uint32_t src);
  void update();

  unsigned contexts_;
  std::function<void(unsigned, bool)> output_;
  uint32_t priority_[kPlicSources] = {};
  uint32_t level_[kWords] = {};
  uint32_t pending_[kWords] = {};
  uint64_t claims_ = 0;
  uint32_t claimed_[kWords] = {};  // in service: claimed, not yet completed
  std::vector<uint32_t> enable_;   // contexts_ * kWords
  std::vector<uint32_t> threshold_;
  std::vector<bool> out_;
};

}  // namespace vmsup
