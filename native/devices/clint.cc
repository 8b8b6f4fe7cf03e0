#include "devices/clint.h"

#include <time.h>

namespace vmsup {

TimeBase::TimeBase() { start_ns_ = host_ns(); }

uint64_t TimeBase::host_ns() const {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

uint64_t TimeBase::now() const { return (host_ns() - start_ns_) / 100 + offset_; }

void TimeBase::set(uint64_t v) { offset_ = v - (host_ns() - start_ns_) / 100; }

uint64_t TimeBase::ns_until(uint64_t t) const {
  const uint64_t n = now();
  if (t <= n) return 0;
  const uint64_t ticks = t - n;
  if (ticks > (~0ULL / 100)) return ~0ULL;
  return ticks * 100;
}

Clint::Clint(TimeBase& time, std::vector<Hart*> harts)
    : time_(time), harts_(std::move(harts)), mtimecmp_(harts_.size(), ~0ULL), msip_(harts_.size(), 0) {}

namespace {
// Reads `size` bytes at byte offset `sub` of a 64-bit register.
inline uint64_t part(uint64_t reg, uint64_t sub, unsigned size) {
  uint64_t v = reg >> (8 * sub);
  return size == 8 ? v : v & ((1ULL << (8 * size)) - 1);
}
inline uint64_t merge(uint64_t reg, uint64_t sub, unsigned size, uint64_t val) {
  if (size == 8) return val;
  const uint64_t mask = ((1ULL << (8 * size)) - 1) << (8 * sub);
  return (reg & ~mask) | ((val << (8 * sub)) & mask);
}
}  // namespace

bool Clint::read(uint64_t off, unsigned size, uint64_t* val) {
  if (size != 4 && size != 8) return false;
  if (off & (size - 1)) return false;
  if (off < 0x4000) {
    const uint64_t h = off / 4;
    if (size != 4) return false;
    *val = h < msip_.size() ? msip_[h] : 0;
    return true;
  }
  if (off >= 0x4000 && off < 0xbff8) {
    const uint64_t h = (off - 0x4000) / 8;
    *val = h < mtimecmp_.size() ? part(mtimecmp_[h], off & 7, size) : 0;
    return true;
  }
  if (off >= 0xbff8) {
    *val = part(time_.now(), off & 7, size);
    return true;
  }
  return false;
}

bool Clint::write(uint64_t off, unsigned size, uint64_t val) {
  if (size != 4 && size != 8) return false;
  if (off & (size - 1)) return false;
  if (off < 0x4000) {
    const uint64_t h = off / 4;
    if (size != 4) return false;
    if (h < msip_.size()) {
      msip_[h] = val & 1;
      harts_[h]->set_irq(kMipMSIP, val & 1);
    }
    return true;
  }
  if (off >= 0x4000 && off < 0xbff8) {
    const uint64_t h = (off - 0x4000) / 8;
    if (h < mtimecmp_.size()) {
      mtimecmp_[h] = merge(mtimecmp_[h], off & 7, size, val);
      harts_[h]->set_irq(kMipMTIP, time_.now() >= mtimecmp_[h]);
    }
    return true;
  }
  if (off >= 0xbff8) {
    time_.set(merge(time_.now(), off & 7, size, val));
    update();
    return true;
  }
  return false;
}

void Clint::update() {
  const uint64_t now = time_.now();
  for (size_t h = 0; h < harts_.size(); h++) harts_[h]->set_irq(kMipMTIP, now >= mtimecmp_[h]);
}

uint64_t Clint::next_deadline() const {
  const uint64_t now = time_.now();
  uint64_t best = ~0ULL;
  for (uint64_t t : mtimecmp_)
    if (t > now && t < best) best = t;
  return best;
}

}  // namespace vmsup
