// virtio-net (virtio 1.2 §5.1) through the fake driver: transmit and receive
// paths, MRG_RXBUF, the drop counters, and guest rule-breaking that must end
// in NEEDS_RESET of this device only. Runs under ASan/UBSan.
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "devices/virtio_net.h"
#include "devices/virtio_rng.h"
#include "devices/virtio_test_driver.h"
#include "fuzz/virtio_net_fuzz_target.h"
#include "testing.h"

using namespace vmsup;
using namespace vmsup_test;
using vmsup_fuzz::SinkBackend;

namespace {

constexpr uint64_t kRam = 16ULL << 20;
constexpr uint64_t kRxQ = 0x80100000, kTxQ = 0x80110000;
constexpr uint64_t kBuf = 0x80200000;
constexpr uint64_t kFeatures = kVirtioFVersion1 | kVirtioNetFMac | kVirtioNetFStatus;

// Records the frames the guest sends.
class RecordingBackend : public SinkBackend {
 public:
  void send(const uint8_t* f, size_t len) override {
    SinkBackend::send(f, len);
    last.assign(f, f + len);
  }
  std::vector<uint8_t> last;
};

struct NetRig {
  GuestMemory mem;
  RecordingIrq irq;
  std::unique_ptr<VirtioMmio> t;
  std::unique_ptr<MockQueue> rx, tx;
  RecordingBackend* be = nullptr;
  VirtioNet* net = nullptr;
  explicit NetRig(uint64_t features = kFeatures, uint16_t qsize = 16) {
    std::string err;
    mem.init(kRam, &err);
    auto b = std::make_unique<RecordingBackend>();
    be = b.get();
    const uint8_t mac[6] = {0xfe, 0xe1, 0xba, 0xd0, 0x12, 0x34};
    auto dev = std::make_unique<VirtioNet>(mac, std::move(b));
    net = dev.get();
    t = std::make_unique<VirtioMmio>(mem, &irq, 5, std::move(dev), [](const std::string&) {});
    rx = std::make_unique<MockQueue>(mem, kRxQ, qsize);
    tx = std::make_unique<MockQueue>(mem, kTxQ, qsize);
    CHECK(init_device(*t, {rx.get(), tx.get()}, features));
  }
  // Posts rx chain i: one writable buffer of `len` bytes at kBuf + i * 0x1000.
  void post_rx(uint16_t i, uint32_t len) {
    rx->set_desc(i, kBuf + 0x1000ULL * i, len, kVirtqDescFWrite, 0);
    rx->post(i);
  }
  // Transmits a 12-byte header + frame as two readable descriptors.
  void send_tx(uint16_t d, const std::vector<uint8_t>& frame) {
    const uint64_t h = kBuf + 0x80000 + 0x10000ULL * d;
    std::vector<uint8_t> hdr(12, 0);
    mem.write(h, hdr.data(), hdr.size());
    mem.write(h + 0x100, frame.data(), frame.size());
    tx->set_desc(d, h, 12, kVirtqDescFNext, static_cast<uint16_t>(d + 1));
    tx->set_desc(static_cast<uint16_t>(d + 1), h + 0x100, static_cast<uint32_t>(frame.size()), 0, 0);
    tx->post(d);
    wr(*t, kQueueNotify, 1);
  }
};

std::vector<uint8_t> frame_of(size_t n, uint8_t seed) {
  std::vector<uint8_t> f(n);
  for (size_t i = 0; i < n; i++) f[i] = static_cast<uint8_t>(seed + i * 13);
  return f;
}

}  // namespace

TEST(net_config_space_has_mac_and_link_up) {
  NetRig r;
  CHECK_EQ(rd(*r.t, 0x8), 1u);  // DeviceID 1: network card
  uint64_t v = 0;
  CHECK(r.t->read(0x100, 1, &v));
  CHECK_EQ(v, 0xfeu);
  CHECK(r.t->read(0x105, 1, &v));
  CHECK_EQ(v, 0x34u);
  CHECK(r.t->read(0x106, 2, &v));
  CHECK_EQ(v, 1u);  // VIRTIO_NET_S_LINK_UP
  wr(*r.t, 0x14, 0);
  const uint32_t f = rd(*r.t, 0x10);
  CHECK(f & (1u << 5));
  CHECK(f & (1u << 15));
  CHECK(f & (1u << 16));
  CHECK(!(f & 1u));  // no checksum offload
}

TEST(net_transmit_hands_the_frame_to_the_backend) {
  NetRig r;
  auto f = frame_of(60, 1);
  r.send_tx(0, f);
  CHECK_EQ(r.be->frames, 1u);
  CHECK(r.be->last == f);
  CHECK_EQ(r.tx->used_idx(), 1u);
  CHECK_EQ(r.net->counters().tx_frames, 1u);
  CHECK(!needs_reset(*r.t));
}

TEST(net_transmit_drops_oversize_and_runt_frames_and_counts_them) {
  NetRig r;
  r.send_tx(0, frame_of(VirtioNet::kMaxFrame + 1, 2));
  r.send_tx(2, frame_of(10, 3));
  r.send_tx(4, frame_of(VirtioNet::kMaxFrame, 4));
  CHECK_EQ(r.be->frames, 1u);
  CHECK_EQ(r.net->counters().tx_dropped_oversize, 1u);
  CHECK_EQ(r.net->counters().tx_dropped_runt, 1u);
  CHECK_EQ(r.tx->used_idx(), 3u);  // every chain is given back
  CHECK(!needs_reset(*r.t));
}

TEST(net_transmit_chain_shorter_than_the_header_resets_the_device) {
  NetRig r;
  r.tx->set_desc(0, kBuf, 8, 0, 0);
  r.tx->post(0);
  wr(*r.t, kQueueNotify, 1);
  CHECK(needs_reset(*r.t));
  CHECK_EQ(r.be->frames, 0u);
}

TEST(net_transmit_with_a_writable_descriptor_resets_the_device) {
  NetRig r;
  r.tx->set_desc(0, kBuf, 12, kVirtqDescFNext, 1);
  r.tx->set_desc(1, kBuf + 0x100, 60, kVirtqDescFWrite, 0);
  r.tx->post(0);
  wr(*r.t, kQueueNotify, 1);
  CHECK(needs_reset(*r.t));
}

TEST(net_receive_fills_one_buffer_with_header_and_frame) {
  NetRig r;
  r.post_rx(0, 2048);
  wr(*r.t, kQueueNotify, 0);
  auto f = frame_of(100, 7);
  r.be->inject(f.data(), f.size());
  CHECK_EQ(r.rx->used_idx(), 1u);
  uint32_t id = 99, len = 0;
  r.rx->used_elem(0, &id, &len);
  CHECK_EQ(id, 0u);
  CHECK_EQ(len, 112u);
  uint8_t hdr[12];
  r.mem.read(kBuf, hdr, 12);
  CHECK_EQ(hdr[0], 0u);              // flags
  CHECK_EQ(hdr[10] | (hdr[11] << 8), 1);  // num_buffers = 1 without MRG_RXBUF
  std::vector<uint8_t> got(100);
  r.mem.read(kBuf + 12, got.data(), 100);
  CHECK(got == f);
  CHECK(r.irq.level[5]);
  CHECK_EQ(r.net->counters().rx_frames, 1u);
}

TEST(net_receive_spreads_a_frame_over_merged_buffers) {
  NetRig r(kFeatures | kVirtioNetFMrgRxbuf);
  for (uint16_t i = 0; i < 4; i++) r.post_rx(i, 600);
  wr(*r.t, kQueueNotify, 0);
  auto f = frame_of(1500, 9);
  r.be->inject(f.data(), f.size());
  CHECK_EQ(r.rx->used_idx(), 3u);  // 1512 bytes in 600 + 600 + 312
  uint32_t id, len;
  r.rx->used_elem(2, &id, &len);
  CHECK_EQ(id, 2u);
  CHECK_EQ(len, 312u);
  uint8_t hdr[12];
  r.mem.read(kBuf, hdr, 12);
  CHECK_EQ(hdr[10] | (hdr[11] << 8), 3);  // num_buffers
  std::vector<uint8_t> got(1500);
  r.mem.read(kBuf + 12, got.data(), 588);
  r.mem.read(kBuf + 0x1000, got.data() + 588, 600);
  r.mem.read(kBuf + 0x2000, got.data() + 1188, 312);
  CHECK(got == f);
  // The fourth buffer is still posted: the next frame uses it.
  auto g = frame_of(64, 1);
  r.be->inject(g.data(), g.size());
  CHECK_EQ(r.rx->used_idx(), 4u);
}

TEST(net_receive_without_posted_buffers_queues_a_bounded_number_then_drops) {
  NetRig r;
  auto f = frame_of(200, 3);
  for (int i = 0; i < 300; i++) r.be->inject(f.data(), f.size());
  CHECK_EQ(r.net->counters().rx_dropped_no_buffer, 300u - VirtioNet::kRxQueueCap);
  CHECK_EQ(r.rx->used_idx(), 0u);
  // The guest posts buffers: the queued frames flow in.
  for (uint16_t i = 0; i < 16; i++) r.post_rx(i, 2048);
  wr(*r.t, kQueueNotify, 0);
  CHECK_EQ(r.rx->used_idx(), 16u);
  CHECK_EQ(r.net->counters().rx_frames, 16u);
  CHECK(!needs_reset(*r.t));
}

TEST(net_receive_drops_oversize_frames_and_frames_before_driver_ok) {
  NetRig r;
  r.post_rx(0, 4096);
  wr(*r.t, kQueueNotify, 0);
  auto big = frame_of(VirtioNet::kMaxFrame + 1, 1);
  r.be->inject(big.data(), big.size());
  CHECK_EQ(r.net->counters().rx_dropped_oversize, 1u);
  CHECK_EQ(r.rx->used_idx(), 0u);
  wr(*r.t, kStatus, 0);  // reset: the driver is gone
  auto f = frame_of(60, 1);
  r.be->inject(f.data(), f.size());
  CHECK_EQ(r.net->counters().rx_dropped_down, 1u);
}

TEST(net_receive_buffer_too_small_without_mrg_drops_the_frame_only) {
  NetRig r;
  r.post_rx(0, 64);
  r.post_rx(1, 2048);
  wr(*r.t, kQueueNotify, 0);
  auto f = frame_of(200, 5);
  r.be->inject(f.data(), f.size());
  CHECK_EQ(r.net->counters().rx_dropped_too_small, 1u);
  CHECK_EQ(r.rx->used_idx(), 1u);
  uint32_t id, len;
  r.rx->used_elem(0, &id, &len);
  CHECK_EQ(len, 0u);
  CHECK(!needs_reset(*r.t));
  r.be->inject(f.data(), f.size());
  CHECK_EQ(r.net->counters().rx_frames, 1u);
}

TEST(net_merged_buffer_smaller_than_the_header_resets_this_device_only) {
  NetRig r(kFeatures | kVirtioNetFMrgRxbuf);
  // A second, healthy device beside it on the same RAM and interrupt controller.
  VirtioMmio other(r.mem, &r.irq, 6, std::make_unique<VirtioRng>(), [](const std::string&) {});
  MockQueue oq(r.mem, 0x80300000, 8);
  CHECK(init_device(other, {&oq}, kVirtioFVersion1));
  r.post_rx(0, 8);
  wr(*r.t, kQueueNotify, 0);
  auto f = frame_of(60, 5);
  r.be->inject(f.data(), f.size());
  CHECK(needs_reset(*r.t));
  CHECK(!needs_reset(other));
  oq.set_desc(0, 0x80310000, 16, kVirtqDescFWrite, 0);
  oq.post(0);
  wr(other, kQueueNotify, 0);
  CHECK_EQ(oq.used_idx(), 1u);
  // The driver resets and sets the device up again: it works.
  CHECK(init_device(*r.t, {r.rx.get(), r.tx.get()}, kFeatures));
  r.rx->avail_idx = 0;
  r.post_rx(0, 2048);
  wr(*r.t, kQueueNotify, 0);
  r.be->inject(f.data(), f.size());
  CHECK_EQ(r.net->counters().rx_frames, 1u);
}

TEST(net_receive_readable_descriptor_resets_the_device) {
  NetRig r;
  r.rx->set_desc(0, kBuf, 2048, 0, 0);
  r.rx->post(0);
  wr(*r.t, kQueueNotify, 0);
  auto f = frame_of(60, 5);
  r.be->inject(f.data(), f.size());
  CHECK(needs_reset(*r.t));
}

TEST(net_looping_transmit_chain_resets_the_device) {
  NetRig r;
  r.tx->set_desc(0, kBuf, 12, kVirtqDescFNext, 1);
  r.tx->set_desc(1, kBuf + 0x100, 60, kVirtqDescFNext, 0);
  r.tx->post(0);
  wr(*r.t, kQueueNotify, 1);
  CHECK(needs_reset(*r.t));
}

TEST(random_programs_against_the_net_fuzz_target) {
  // A seeded slice of the fuzz target (native/fuzz/virtio_net_fuzz.cc).
  uint64_t s = 0x9e3779b97f4a7c15ULL;
  std::vector<uint8_t> in(2048);
  int resets = 0, sent = 0;
  for (int round = 0; round < 400; round++) {
    for (auto& b : in) {
      s ^= s << 13;
      s ^= s >> 7;
      s ^= s << 17;
      b = static_cast<uint8_t>(s);
    }
    auto o = vmsup_fuzz::virtio_net_fuzz_one(in.data(), 64 + (s % (in.size() - 64)));
    resets += o.needs_reset;
    sent += o.tx_frames > 0;
  }
  // The programs reach the device's error paths (and nothing crashed or leaked).
  std::printf("net fuzz slice: %d of 400 programs ended in NEEDS_RESET, %d transmitted\n", resets, sent);
  CHECK(resets > 0);
}

TEST_MAIN()
