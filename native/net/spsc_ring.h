// A bounded single-producer / single-consumer ring of Ethernet frames, lock
// free: the producer owns `head_`, the consumer `tail_`; each publishes with a
// release store and reads the other's index with an acquire load. Frames are
// copied into fixed slots (kSlotBytes), so nothing is allocated after
// construction and a full ring refuses (the caller counts a drop) instead of
// growing.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

namespace vmsup {

class FrameRing {
 public:
  static constexpr size_t kSlotBytes = 1536;  // MTU 1500 + Ethernet header + VLAN tag, rounded

  explicit FrameRing(size_t slots) : n_(slots), slots_(new Slot[slots]) {}

  // Producer side. false when full or the frame is larger than a slot.
  bool push(const uint8_t* f, size_t len) {
    if (len > kSlotBytes) return false;
    const size_t h = head_.load(std::memory_order_relaxed);
    if (h - tail_.load(std::memory_order_acquire) >= n_) return false;
    Slot& s = slots_[h % n_];
    std::memcpy(s.data, f, len);
    s.len = static_cast<uint16_t>(len);
    head_.store(h + 1, std::memory_order_release);
    return true;
  }

  // Consumer side: the oldest frame, or nullptr when empty. The pointer stays
  // valid until pop().
  const uint8_t* front(size_t* len) const {
    const size_t t = tail_.load(std::memory_order_relaxed);
    if (t == head_.load(std::memory_order_acquire)) return nullptr;
    const Slot& s = slots_[t % n_];
    *len = s.len;
    return s.data;
  }
  void pop() { tail_.store(tail_.load(std::memory_order_relaxed) + 1, std::memory_order_release); }

  bool empty() const { return tail_.load(std::memory_order_acquire) == head_.load(std::memory_order_acquire); }
  size_t capacity() const { return n_; }

 private:
  struct Slot {
    uint16_t len;
    uint8_t data[kSlotBytes];
  };
  const size_t n_;
  std::unique_ptr<Slot[]> slots_;
  alignas(64) std::atomic<size_t> head_{0};
  alignas(64) std::atomic<size_t> tail_{0};
};

}  // namespace vmsup
