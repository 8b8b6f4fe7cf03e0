#include "devices/plic.h"

namespace vmsup {

namespace {
// PLIC spec 1.0.0, "Memory Map".
constexpr uint64_t kPriorityBase = 0x0;
constexpr uint64_t kPendingBase = 0x1000;
constexpr uint64_t kEnableBase = 0x2000;
constexpr uint64_t kEnableStride = 0x80;
constexpr uint64_t kContextBase = 0x200000;
constexpr uint64_t kContextStride = 0x1000;

inline bool bit(const uint32_t* w, uint32_t i) { return (w[i / 32] >> (i % 32)) & 1; }
inline void set_bit(uint32_t* w, uint32_t i, bool v) {
  if (v) w[i / 32] |= 1u << (i % 32);
  else w[i / 32] &= ~(1u << (i % 32));
}
}  // namespace

Plic::Plic(unsigned harts, std::function<void(unsigned, bool)> output)
    : contexts_(2 * (harts ? harts : 1)), output_(std::move(output)) {
  enable_.assign(contexts_ * kWords, 0);
  threshold_.assign(contexts_, 0);
  out_.assign(contexts_, false);
}

void Plic::reset() {
  for (auto& p : priority_) p = 0;
  for (unsigned i = 0; i < kWords; i++) pending_[i] = claimed_[i] = 0;
  // Lines still high become pending again through their gateways.
  for (uint32_t s = 1; s < kPlicSources; s++) set_bit(pending_, s, bit(level_, s));
  for (auto& e : enable_) e = 0;
  for (auto& t : threshold_) t = 0;
  update();
}

void Plic::set_irq(uint32_t line, bool level) {
  if (line == 0 || line >= kPlicSources) return;
  set_bit(level_, line, level);
  // Level-triggered gateway: the source is pending while its line is high and
  // it is not in service; a line that drops before the claim withdraws it.
  if (!bit(claimed_, line)) set_bit(pending_, line, level);
  update();
}

uint32_t Plic::best_pending(unsigned ctx) const {
  uint32_t best = 0, best_prio = 0;
  const uint32_t* en = &enable_[ctx * kWords];
  // Word at a time: only sources both pending and enabled are looked at.
  for (unsigned w = 0; w < kWords; w++) {
    uint32_t bits = pending_[w] & en[w];
    while (bits) {
      uint32_t s = w * 32 + static_cast<uint32_t>(__builtin_ctz(bits));
      bits &= bits - 1;
      // Ties go to the lowest source id (PLIC spec, "Interrupt Priorities"):
      // sources are visited in increasing order, so only a higher priority wins.
      if (priority_[s] > best_prio) {
        best = s;
        best_prio = priority_[s];
      }
    }
  }
  // Only priorities strictly greater than the threshold interrupt
  // ("Priority Thresholds"); priority 0 never interrupts.
  return best_prio > threshold_[ctx] ? best : 0;
}

void Plic::update() {
  for (unsigned c = 0; c < contexts_; c++) {
    bool lvl = best_pending(c) != 0;
    if (lvl != out_[c]) {
      out_[c] = lvl;
      if (output_) output_(c, lvl);
    }
  }
}

uint32_t Plic::claim(unsigned ctx) {
  // "Interrupt Claim Process": the highest-priority pending enabled source
  // (above the threshold), or 0; claiming clears its pending bit.
  uint32_t s = best_pending(ctx);
  if (s) {
    set_bit(pending_, s, false);
    set_bit(claimed_, s, true);
    claims_++;
  }
  update();
  return s;
}

void Plic::complete(unsigned ctx, uint32_t src) {
  // "Interrupt Completion": the id must be a source enabled for this context,
  // otherwise the write is silently ignored.
  if (src == 0 || src >= kPlicSources) return;
  if (!bit(&enable_[ctx * kWords], src)) return;
  if (!bit(claimed_, src)) return;
  set_bit(claimed_, src, false);
  set_bit(pending_, src, bit(level_, src));
  update();
}

bool Plic::read(uint64_t off, unsigned size, uint64_t* val) {
  if (size != 4 || (off & 3)) return false;  // 32-bit registers only
  *val = 0;
  if (off < kPendingBase) {
    uint32_t s = static_cast<uint32_t>((off - kPriorityBase) / 4);
    if (s < kPlicSources) *val = priority_[s];
  } else if (off < kEnableBase) {
    uint32_t w = static_cast<uint32_t>((off - kPendingBase) / 4);
    if (w < kWords) *val = pending_[w];
  } else if (off < kContextBase) {
    uint64_t ctx = (off - kEnableBase) / kEnableStride;
    uint32_t w = static_cast<uint32_t>(((off - kEnableBase) % kEnableStride) / 4);
    if (ctx < contexts_ && w < kWords) *val = enable_[ctx * kWords + w];
  } else {
    uint64_t ctx = (off - kContextBase) / kContextStride;
    uint64_t reg = (off - kContextBase) % kContextStride;
    if (ctx < contexts_) {
      if (reg == 0) *val = threshold_[ctx];
      else if (reg == 4) *val = claim(static_cast<unsigned>(ctx));
    }
  }
  return true;
}

bool Plic::write(uint64_t off, unsigned size, uint64_t val) {
  if (size != 4 || (off & 3)) return false;
  uint32_t v = static_cast<uint32_t>(val);
  if (off < kPendingBase) {
    uint32_t s = static_cast<uint32_t>((off - kPriorityBase) / 4);
    if (s > 0 && s < kPlicSources) priority_[s] = v & kPlicMaxPriority;  // WARL
  } else if (off < kEnableBase) {
    // Pending bits are read-only here (the gateways own them).
  } else if (off < kContextBase) {
    uint64_t ctx = (off - kEnableBase) / kEnableStride;
    uint32_t w = static_cast<uint32_t>(((off - kEnableBase) % kEnableStride) / 4);
    if (ctx < contexts_ && w < kWords) {
      if (w == 0) v &= ~1u;  // source 0 does not exist
      if (w == kWords - 1 && kPlicSources % 32) v &= (1u << (kPlicSources % 32)) - 1;
      enable_[ctx * kWords + w] = v;
    }
  } else {
    uint64_t ctx = (off - kContextBase) / kContextStride;
    uint64_t reg = (off - kContextBase) % kContextStride;
    if (ctx < contexts_) {
      if (reg == 0) threshold_[ctx] = v & kPlicMaxPriority;
      else if (reg == 4) complete(static_cast<unsigned>(ctx), v);
    }
  }
  update();
  return true;
}

}  // namespace vmsup
