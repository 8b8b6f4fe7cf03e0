// One fuzz input against the virtio-mmio transport, the chain walker and the
// three devices (blk, rng, input): the input is a little program of guest
// actions — write bytes into the queue area of guest RAM, write a transport
// register, notify a queue, press Ctrl-Alt-Del — run on a freshly set-up device.
// Nothing may crash, hang or leak whatever the bytes are. Used by
// native/fuzz/virtio_fuzz.cc (libFuzzer) and, with a seeded generator, by
// native/devices/virtio_test.cc.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "block/backend.h"
#include "devices/virtio_blk.h"
#include "devices/virtio_input.h"
#include "devices/virtio_mmio.h"
#include "devices/virtio_rng.h"
#include "memory/guest_memory.h"

namespace vmsup_fuzz {

using namespace vmsup;

// A disk in host memory (the fuzzer must not touch files).
class RamDisk : public BlockBackend {
 public:
  explicit RamDisk(size_t n) : d_(n) {}
  int read(uint64_t off, void* buf, size_t len) override {
    if (off > d_.size() || len > d_.size() - off) return -5;
    std::memcpy(buf, d_.data() + off, len);
    return 0;
  }
  int write(uint64_t off, const void* buf, size_t len) override {
    if (off > d_.size() || len > d_.size() - off) return -5;
    std::memcpy(d_.data() + off, buf, len);
    return 0;
  }
  int flush() override { return 0; }
  uint64_t size() const override { return d_.size(); }
  bool read_only() const override { return false; }

 private:
  std::vector<uint8_t> d_;
};

struct NullIrq : IrqSink {
  void set_irq(uint32_t, bool) override {}
};

// Guest RAM: 16 MiB; the fuzzer writes into the first 64 KiB (rings, tables,
// buffers) and may point descriptors anywhere.
struct FuzzOutcome {
  bool needs_reset;   // the device ended in DEVICE_NEEDS_RESET
  uint32_t status;    // the Status register at the end
};

inline FuzzOutcome virtio_fuzz_one(const uint8_t* data, size_t size) {
  static GuestMemory* mem = [] {
    auto* m = new GuestMemory();
    std::string err;
    m->init(16ULL << 20, &err);
    return m;
  }();
  mem->fill(mem->base(), 0, 64 << 10);
  size_t pos = 0;
  auto byte = [&]() -> uint8_t { return pos < size ? data[pos++] : 0; };
  auto u32 = [&]() -> uint32_t {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= static_cast<uint32_t>(byte()) << (8 * i);
    return v;
  };

  NullIrq irq;
  std::unique_ptr<VirtioDevice> dev;
  VirtioInput* kbd = nullptr;
  switch (byte() % 3) {
    case 0: dev = std::make_unique<VirtioBlk>(std::make_unique<RamDisk>(1 << 20), "fuzz"); break;
    case 1: dev = std::make_unique<VirtioRng>(); break;
    default: {
      auto k = std::make_unique<VirtioInput>();
      kbd = k.get();
      dev = std::move(k);
    }
  }
  VirtioMmio t(*mem, &irq, 1, std::move(dev));

  // A well-behaved start (§3.1.1), so the interesting paths are reachable:
  // two queues of 16 at fixed places in RAM, features from the input.
  const uint64_t b = mem->base();
  t.write(0x70, 4, 1 | 2);
  t.write(0x24, 4, 1);
  t.write(0x20, 4, 1);  // VERSION_1
  t.write(0x24, 4, 0);
  t.write(0x20, 4, (byte() & 3u) << 28);  // INDIRECT_DESC / EVENT_IDX
  t.write(0x70, 4, 1 | 2 | 8);
  for (uint32_t q = 0; q < 2; q++) {
    t.write(0x30, 4, q);
    t.write(0x38, 4, 16);
    uint64_t base = b + q * 0x1000;
    t.write(0x80, 4, static_cast<uint32_t>(base));
    t.write(0x84, 4, static_cast<uint32_t>(base >> 32));
    t.write(0x90, 4, static_cast<uint32_t>(base + 0x100));
    t.write(0x94, 4, static_cast<uint32_t>((base + 0x100) >> 32));
    t.write(0xa0, 4, static_cast<uint32_t>(base + 0x200));
    t.write(0xa4, 4, static_cast<uint32_t>((base + 0x200) >> 32));
    t.write(0x44, 4, 1);
  }
  t.write(0x70, 4, 1 | 2 | 4 | 8);

  // The program: at most 256 actions.
  for (int step = 0; step < 256 && pos < size; step++) {
    switch (byte() % 6) {
      case 0: {  // write up to 64 bytes into the first 64 KiB of RAM
        uint32_t off = u32() % (64 << 10);
        size_t n = byte() % 65;
        for (size_t i = 0; i < n; i++) mem->write_obj(b + off + i < b + (64 << 10) ? b + off + i : b, byte());
        break;
      }
      case 1: {  // a transport register write (any offset, any width)
        uint32_t off = u32() % 0x200;
        unsigned w = 1u << (byte() % 4);
        t.write(off, w, u32());
        break;
      }
      case 2: {  // a register read
        uint64_t v;
        t.read(u32() % 0x200, 1u << (byte() % 4), &v);
        break;
      }
      case 3:
        t.write(0x50, 4, byte() % 4);  // QueueNotify (queue 2, 3 do not exist)
        break;
      case 4:
        if (kbd) kbd->ctrl_alt_del();
        break;
      default: {  // a descriptor pointing near the end of RAM, or anywhere
        uint64_t addr = (byte() & 1) ? mem->end() - (u32() % 4096) : (static_cast<uint64_t>(u32()) << 20);
        uint32_t len = u32();
        uint16_t flags = byte() & 7, next = byte() % 20;
        uint64_t at = b + (byte() % 2) * 0x1000 + 16ULL * (byte() % 16);
        mem->write_obj(at, addr);
        mem->write_obj(at + 8, len);
        mem->write_obj(at + 12, flags);
        mem->write_obj(at + 14, next);
        break;
      }
    }
  }
  return {(t.status() & kStatusNeedsReset) != 0, t.status()};
}

}  // namespace vmsup_fuzz
