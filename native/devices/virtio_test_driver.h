// A fake virtio driver for the device tests (like rust-vmm's MockSplitQueue):
// real GuestMemory, split virtqueues laid out in it, and the virtio-mmio
// initialisation sequence of virtio 1.2 §3.1.1 / §4.2.3 done through the
// transport's registers exactly as a guest would. Header-only, test use only.
#pragma once

#include <cstring>
#include <string>
#include <vector>

#include "devices/virtio_mmio.h"
#include "memory/guest_memory.h"

namespace vmsup_test {

using namespace vmsup;

// Records the last level of each line.
struct RecordingIrq : IrqSink {
  bool level[128] = {};
  void set_irq(uint32_t line, bool l) override {
    if (line < 128) level[line] = l;
  }
};

struct RawDesc {
  uint64_t addr;
  uint32_t len;
  uint16_t flags;
  uint16_t next;
};

// A split virtqueue in guest RAM at fixed addresses.
struct MockQueue {
  GuestMemory& mem;
  uint16_t size;
  uint64_t desc, avail, used;
  uint16_t avail_idx = 0;
  MockQueue(GuestMemory& m, uint64_t base, uint16_t n)
      : mem(m), size(n), desc(base), avail(base + 16ULL * n), used(base + 0x2000 + 16ULL * n) {}
  void set_desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next) {
    RawDesc d{addr, len, flags, next};
    mem.write(desc + 16ULL * i, &d, sizeof(d));
  }
  // Posts chain head `h` in the available ring and bumps the index.
  void post(uint16_t h) {
    mem.write_obj(avail + 4 + 2ULL * (avail_idx % size), h);
    avail_idx++;
    mem.write_obj(avail + 2, avail_idx);
  }
  void set_avail_idx(uint16_t v) {
    avail_idx = v;
    mem.write_obj(avail + 2, v);
  }
  uint16_t used_idx() const {
    uint16_t v = 0;
    mem.read_obj(used + 2, &v);
    return v;
  }
  void used_elem(uint16_t i, uint32_t* id, uint32_t* len) const {
    mem.read_obj(used + 4 + 8ULL * (i % size), id);
    mem.read_obj(used + 8 + 8ULL * (i % size), len);
  }
};

constexpr uint64_t kQueueNotify = 0x50, kStatus = 0x70, kQueueSel = 0x30, kQueueNum = 0x38,
                   kQueueReady = 0x44, kIsr = 0x60, kIsrAck = 0x64;

inline uint32_t rd(VirtioMmio& t, uint64_t off) {
  uint64_t v = 0;
  t.read(off, 4, &v);
  return static_cast<uint32_t>(v);
}
inline void wr(VirtioMmio& t, uint64_t off, uint32_t v) { t.write(off, 4, v); }

// §3.1.1 driver initialisation: reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK,
// queues, DRIVER_OK. Returns false when the device refused something.
inline bool init_device(VirtioMmio& t, std::vector<MockQueue*> qs, uint64_t features) {
  wr(t, kStatus, 0);
  wr(t, kStatus, kStatusAcknowledge);
  wr(t, kStatus, kStatusAcknowledge | kStatusDriver);
  wr(t, 0x24, 0);
  wr(t, 0x20, static_cast<uint32_t>(features));
  wr(t, 0x24, 1);
  wr(t, 0x20, static_cast<uint32_t>(features >> 32));
  wr(t, kStatus, kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk);
  if (!(rd(t, kStatus) & kStatusFeaturesOk)) return false;
  for (unsigned i = 0; i < qs.size(); i++) {
    MockQueue* q = qs[i];
    wr(t, kQueueSel, i);
    wr(t, kQueueNum, q->size);
    wr(t, 0x80, static_cast<uint32_t>(q->desc));
    wr(t, 0x84, static_cast<uint32_t>(q->desc >> 32));
    wr(t, 0x90, static_cast<uint32_t>(q->avail));
    wr(t, 0x94, static_cast<uint32_t>(q->avail >> 32));
    wr(t, 0xa0, static_cast<uint32_t>(q->used));
    wr(t, 0xa4, static_cast<uint32_t>(q->used >> 32));
    wr(t, kQueueReady, 1);
    if (rd(t, kQueueReady) != 1) return false;
  }
  wr(t, kStatus, kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk | kStatusDriverOk);
  return (rd(t, kStatus) & kStatusNeedsReset) == 0;
}

inline bool needs_reset(VirtioMmio& t) { return rd(t, kStatus) & kStatusNeedsReset; }

}  // namespace vmsup_test
