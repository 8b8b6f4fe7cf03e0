// One fuzz input against virtio-net on the virtio-mmio transport: the input is
// a little program of guest actions (bytes into the ring/buffer area of guest
// RAM, a transport register write, a queue notify) and host actions (a frame
// of fuzzer-chosen length arriving from the backend). Nothing may crash, hang,
// or grow without bound whatever the bytes are. Used by
// native/fuzz/virtio_net_fuzz.cc (libFuzzer) and, seeded, by
// native/devices/virtio_net_test.cc.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "devices/virtio_mmio.h"
#include "devices/virtio_net.h"
#include "memory/guest_memory.h"

namespace vmsup_fuzz {

using namespace vmsup;

// A backend that remembers how much the guest sent (no host I/O).
class SinkBackend : public NetBackend {
 public:
  void send(const uint8_t*, size_t len) override {
    frames++;
    bytes += len;
  }
  const char* kind() const override { return "test"; }
  void inject(const uint8_t* f, size_t n) { to_guest(f, n); }
  uint64_t frames = 0, bytes = 0;
};

struct NetNullIrq : IrqSink {
  void set_irq(uint32_t, bool) override {}
};

struct NetFuzzOutcome {
  bool needs_reset;
  uint64_t tx_frames;
};

inline NetFuzzOutcome virtio_net_fuzz_one(const uint8_t* data, size_t size) {
  static GuestMemory* mem = [] {
    auto* m = new GuestMemory();
    std::string err;
    m->init(16ULL << 20, &err);
    return m;
  }();
  const uint64_t base = mem->base();
  mem->fill(base, 0, 64 << 10);
  size_t pos = 0;
  auto byte = [&]() -> uint8_t { return pos < size ? data[pos++] : 0; };
  auto u16 = [&]() -> uint16_t { return static_cast<uint16_t>(byte() | (byte() << 8)); };
  auto u32 = [&]() -> uint32_t { return static_cast<uint32_t>(u16()) | (static_cast<uint32_t>(u16()) << 16); };

  NetNullIrq irq;
  auto be = std::make_unique<SinkBackend>();
  SinkBackend* sink = be.get();
  const uint8_t mac[6] = {0xfe, 0xe1, 0xba, 0xd0, 0, 1};
  VirtioMmio t(*mem, &irq, 1, std::make_unique<VirtioNet>(mac, std::move(be)), [](const std::string&) {});
  auto* net = static_cast<VirtioNet*>(t.device());
  std::vector<uint8_t> frame(70000);
  for (int steps = 0; steps < 256 && pos < size; steps++) {
    switch (byte() % 5) {
      case 0: {  // guest writes into its ring/buffer area
        const uint32_t off = u16();
        const unsigned n = byte() % 32;
        for (unsigned i = 0; i < n; i++) {
          const uint8_t v = byte();
          mem->write(base + ((off + i) & 0xffff), &v, 1);
        }
        break;
      }
      case 1: {  // a transport register
        const uint32_t off = (byte() % 0x40) * 4;
        t.write(off, 4, u32());
        break;
      }
      case 2:  // notify
        t.write(0x50, 4, byte() % 3);
        break;
      case 3: {  // a frame from the host, any length up to 70000
        const size_t n = u16() + (byte() & 1 ? 4464 : 0);
        for (size_t i = 0; i < 14 && i < n; i++) frame[i] = byte();
        sink->inject(frame.data(), n < frame.size() ? n : frame.size());
        break;
      }
      case 4: {  // a standard bring-up with rings in the area, so queues get used
        t.write(0x70, 4, 0);
        t.write(0x70, 4, 1 | 2);
        t.write(0x24, 4, 0);
        t.write(0x20, 4, static_cast<uint32_t>(net->device_features()) & u32());
        t.write(0x24, 4, 1);
        t.write(0x20, 4, 1);
        t.write(0x70, 4, 1 | 2 | 8);
        for (uint32_t q = 0; q < 2; q++) {
          t.write(0x30, 4, q);
          t.write(0x38, 4, 8);
          const uint64_t d = base + q * 0x4000, a = d + 0x1000, u = d + 0x2000;
          t.write(0x80, 4, static_cast<uint32_t>(d));
          t.write(0x84, 4, static_cast<uint32_t>(d >> 32));
          t.write(0x90, 4, static_cast<uint32_t>(a));
          t.write(0x94, 4, static_cast<uint32_t>(a >> 32));
          t.write(0xa0, 4, static_cast<uint32_t>(u));
          t.write(0xa4, 4, static_cast<uint32_t>(u >> 32));
          t.write(0x44, 4, 1);
        }
        t.write(0x70, 4, 1 | 2 | 4 | 8);
        break;
      }
    }
  }
  uint64_t st = 0;
  t.read(0x70, 4, &st);
  return {static_cast<bool>(st & kStatusNeedsReset), sink->frames};
}

}  // namespace vmsup_fuzz
