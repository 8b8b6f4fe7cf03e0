// virtio transport, chain walker, virtio-blk, virtio-rng and virtio-input,
// driven by a fake guest driver (virtio_test_driver.h) through real guest RAM.
// Hostile cases must end in DEVICE_NEEDS_RESET or an error status, never a
// crash or a hang (this runs under ASan/UBSan).
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "devices/virtio_blk.h"
#include "devices/virtio_input.h"
#include "devices/virtio_rng.h"
#include "devices/virtio_test_driver.h"
#include "fuzz/virtio_fuzz_target.h"
#include "testing.h"

using namespace vmsup;
using namespace vmsup_test;

namespace {

constexpr uint64_t kRam = 16ULL << 20;
constexpr uint64_t kQ0 = 0x80100000, kQ1 = 0x80110000;
constexpr uint64_t kBuf = 0x80200000;
constexpr uint32_t kIrq = 3;

// A real, in-memory disk behind the backend interface (test only).
class MemDisk : public BlockBackend {
 public:
  explicit MemDisk(size_t bytes, bool ro = false) : data(bytes), ro_(ro) {}
  int read(uint64_t off, void* buf, size_t len) override {
    if (off + len > data.size()) return -5;
    std::memcpy(buf, data.data() + off, len);
    return 0;
  }
  int write(uint64_t off, const void* buf, size_t len) override {
    if (ro_ || off + len > data.size()) return -5;
    std::memcpy(data.data() + off, buf, len);
    return 0;
  }
  int flush() override {
    flushes++;
    return 0;
  }
  uint64_t size() const override { return data.size(); }
  bool read_only() const override { return ro_; }
  std::vector<uint8_t> data;
  int flushes = 0;

 private:
  bool ro_;
};

struct Rig {
  GuestMemory mem;
  RecordingIrq irq;
  std::unique_ptr<VirtioMmio> t;
  std::unique_ptr<MockQueue> q0, q1;
  MemDisk* disk = nullptr;
  std::vector<std::string> log;  // the transport's misbehaviour lines
  explicit Rig(std::unique_ptr<VirtioDevice> dev, uint16_t qsize = 16) {
    std::string err;
    mem.init(kRam, &err);
    t = std::make_unique<VirtioMmio>(mem, &irq, kIrq, std::move(dev),
                                     [this](const std::string& l) { log.push_back(l); });
    q0 = std::make_unique<MockQueue>(mem, kQ0, qsize);
    q1 = std::make_unique<MockQueue>(mem, kQ1, qsize);
  }
};

std::unique_ptr<Rig> blk_rig(bool ro = false, uint64_t features = kVirtioFVersion1 | kVirtioFIndirectDesc) {
  auto disk = std::make_unique<MemDisk>(1 << 20, ro);
  for (size_t i = 0; i < disk->data.size(); i++) disk->data[i] = static_cast<uint8_t>(i * 7);
  MemDisk* raw = disk.get();
  auto r = std::make_unique<Rig>(std::make_unique<VirtioBlk>(std::move(disk), "vmsup-serial-0"));
  r->disk = raw;
  CHECK(init_device(*r->t, {r->q0.get()}, features));
  return r;
}

// Lays out a blk request as header / data / status descriptors 0,1,2.
void blk_request(Rig& r, uint32_t type, uint64_t sector, uint32_t len, bool data_write) {
  struct { uint32_t type, res; uint64_t sector; } h = {type, 0, sector};
  r.mem.write(kBuf, &h, sizeof(h));
  r.q0->set_desc(0, kBuf, 16, kVirtqDescFNext, 1);
  r.q0->set_desc(1, kBuf + 0x1000, len, kVirtqDescFNext | (data_write ? kVirtqDescFWrite : 0), 2);
  r.q0->set_desc(2, kBuf + 0x100, 1, kVirtqDescFWrite, 0);
  r.mem.write_obj(kBuf + 0x100, uint8_t{0xff});
  r.q0->post(0);
  wr(*r.t, kQueueNotify, 0);
}

uint8_t blk_status(Rig& r) {
  uint8_t s = 0xee;
  r.mem.read_obj(kBuf + 0x100, &s);
  return s;
}

}  // namespace

// ---- transport ------------------------------------------------------------

TEST(mmio_identifies_a_modern_device) {
  Rig r(std::make_unique<VirtioRng>());
  CHECK_EQ(rd(*r.t, 0x0), 0x74726976u);
  CHECK_EQ(rd(*r.t, 0x4), 2u);
  CHECK_EQ(rd(*r.t, 0x8), 4u);
  wr(*r.t, 0x14, 1);
  CHECK(rd(*r.t, 0x10) & 1u);  // VIRTIO_F_VERSION_1 (bit 32)
}

TEST(empty_slot_reads_device_id_zero) {
  GuestMemory mem;
  std::string err;
  mem.init(kRam, &err);
  VirtioMmio t(mem, nullptr, 1, nullptr);
  CHECK_EQ(rd(t, 0x0), 0x74726976u);
  CHECK_EQ(rd(t, 0x8), 0u);
  wr(t, kQueueNotify, 0);  // harmless
  CHECK_EQ(rd(t, kStatus), 0u);
}

TEST(features_without_version_1_are_refused) {
  Rig r(std::make_unique<VirtioRng>());
  CHECK(!init_device(*r.t, {r.q0.get()}, 0));
  CHECK(!(rd(*r.t, kStatus) & kStatusFeaturesOk));
}

TEST(features_not_offered_are_refused) {
  Rig r(std::make_unique<VirtioRng>());
  CHECK(!init_device(*r.t, {r.q0.get()}, kVirtioFVersion1 | (1ULL << 40)));
}

TEST(queue_size_must_be_a_power_of_two_within_max) {
  for (uint32_t bad : {0u, 3u, 100u, 512u, 65536u}) {
    Rig r(std::make_unique<VirtioRng>());
    wr(*r.t, kStatus, 1);
    wr(*r.t, kQueueSel, 0);
    wr(*r.t, kQueueNum, bad);
    CHECK(needs_reset(*r.t));
  }
  Rig ok(std::make_unique<VirtioRng>());
  wr(*ok.t, kQueueSel, 0);
  wr(*ok.t, kQueueNum, 64);
  CHECK(!needs_reset(*ok.t));
  CHECK_EQ(rd(*ok.t, kQueueNum), 64u);
}

// Found by tests/hostile/virtio.c: after a refused QueueNum the driver could
// still set QueueReady, and the queue went live with the size left behind.
TEST(queue_ready_is_ignored_while_the_device_needs_reset) {
  Rig r(std::make_unique<VirtioRng>());
  r.q0->size = 3;  // refused: not a power of two
  CHECK(!init_device(*r.t, {r.q0.get()}, kVirtioFVersion1));
  CHECK(needs_reset(*r.t));
  wr(*r.t, kQueueSel, 0);
  wr(*r.t, kQueueReady, 1);
  CHECK_EQ(rd(*r.t, kQueueReady), 0u);
  // A reset clears the condition and the queue can be set up again.
  r.q0->size = 8;
  CHECK(init_device(*r.t, {r.q0.get()}, kVirtioFVersion1));
  CHECK_EQ(rd(*r.t, kQueueReady), 1u);
}

TEST(queue_select_out_of_range_reads_max_zero_and_rejects_writes) {
  Rig r(std::make_unique<VirtioRng>());
  wr(*r.t, kQueueSel, 5);
  CHECK_EQ(rd(*r.t, 0x34), 0u);
  wr(*r.t, kQueueNum, 16);
  CHECK(needs_reset(*r.t));
}

TEST(queue_ready_with_rings_outside_ram_needs_reset) {
  Rig r(std::make_unique<VirtioRng>());
  r.q0->desc = 0x10000;  // below RAM
  CHECK(!init_device(*r.t, {r.q0.get()}, kVirtioFVersion1));
  CHECK(needs_reset(*r.t));
}

TEST(queue_ready_with_ring_straddling_the_end_of_ram_needs_reset) {
  Rig r(std::make_unique<VirtioRng>());
  r.q0->used = 0x80000000ULL + kRam - 8;
  CHECK(!init_device(*r.t, {r.q0.get()}, kVirtioFVersion1));
  CHECK(needs_reset(*r.t));
}

TEST(queue_ready_with_misaligned_descriptor_table_needs_reset) {
  Rig r(std::make_unique<VirtioRng>());
  r.q0->desc = kQ0 + 8;
  CHECK(!init_device(*r.t, {r.q0.get()}, kVirtioFVersion1));
}

TEST(notify_for_a_queue_that_does_not_exist_needs_reset) {
  Rig r(std::make_unique<VirtioRng>());
  CHECK(init_device(*r.t, {r.q0.get()}, kVirtioFVersion1));
  wr(*r.t, kQueueNotify, 7);
  CHECK(needs_reset(*r.t));
  CHECK_EQ(r.log.size(), 1u);
  CHECK(r.log[0].find("notify for a queue that does not exist") != std::string::npos);
  // The config-change interrupt tells the driver (§2.1.2).
  CHECK(rd(*r.t, kIsr) & 2u);
  CHECK(r.irq.level[kIrq]);
}

TEST(reset_clears_needs_reset_and_the_device_works_again) {
  Rig r(std::make_unique<VirtioRng>());
  CHECK(init_device(*r.t, {r.q0.get()}, kVirtioFVersion1));
  wr(*r.t, kQueueNotify, 9);
  CHECK(needs_reset(*r.t));
  wr(*r.t, kStatus, 0);
  CHECK_EQ(rd(*r.t, kStatus), 0u);
  CHECK(!r.irq.level[kIrq]);
  r.q0->avail_idx = 0;
  r.mem.fill(kQ0, 0, 0x4000);
  CHECK(init_device(*r.t, {r.q0.get()}, kVirtioFVersion1));
  r.q0->set_desc(0, kBuf, 32, kVirtqDescFWrite, 0);
  r.q0->post(0);
  wr(*r.t, kQueueNotify, 0);
  CHECK_EQ(r.q0->used_idx(), 1);
}

// ---- chain walker (through virtio-rng, the simplest device) --------------

TEST(misbehaviour_log_is_rate_limited) {
  Rig r(std::make_unique<VirtioRng>());
  CHECK(init_device(*r.t, {r.q0.get()}, kVirtioFVersion1));
  for (int i = 0; i < 100; i++) wr(*r.t, kQueueNotify, 9);
  CHECK_EQ(r.log.size(), 5u);
}

TEST(looping_descriptor_chain_needs_reset) {
  Rig r(std::make_unique<VirtioRng>());
  CHECK(init_device(*r.t, {r.q0.get()}, kVirtioFVersion1));
  r.q0->set_desc(0, kBuf, 8, kVirtqDescFWrite | kVirtqDescFNext, 1);
  r.q0->set_desc(1, kBuf, 8, kVirtqDescFWrite | kVirtqDescFNext, 0);
  r.q0->post(0);
  wr(*r.t, kQueueNotify, 0);
  CHECK(needs_reset(*r.t));
  CHECK_EQ(r.q0->used_idx(), 0);
}

TEST(self_looping_descriptor_needs_reset) {
  Rig r(std::make_unique<VirtioRng>());
  CHECK(init_device(*r.t, {r.q0.get()}, kVirtioFVersion1));
  r.q0->set_desc(3, kBuf, 8, kVirtqDescFWrite | kVirtqDescFNext, 3);
  r.q0->post(3);
  wr(*r.t, kQueueNotify, 0);
  CHECK(needs_reset(*r.t));
}

TEST(next_index_out_of_range_needs_reset) {
  Rig r(std::make_unique<VirtioRng>());
  CHECK(init_device(*r.t, {r.q0.get()}, kVirtioFVersion1));
  r.q0->set_desc(0, kBuf, 8, kVirtqDescFWrite | kVirtqDescFNext, 16);  // size is 16
  r.q0->post(0);
  wr(*r.t, kQueueNotify, 0);
  CHECK(needs_reset(*r.t));
}

TEST(head_index_out_of_range_needs_reset) {
  Rig r(std::make_unique<VirtioRng>());
  CHECK(init_device(*r.t, {r.q0.get()}, kVirtioFVersion1));
  r.q0->post(40000);
  wr(*r.t, kQueueNotify, 0);
  CHECK(needs_reset(*r.t));
}

TEST(avail_index_jumping_past_the_queue_size_needs_reset) {
  Rig r(std::make_unique<VirtioRng>());
  CHECK(init_device(*r.t, {r.q0.get()}, kVirtioFVersion1));
  r.q0->set_desc(0, kBuf, 8, kVirtqDescFWrite, 0);
  r.q0->set_avail_idx(17);  // 17 > 16 outstanding
  wr(*r.t, kQueueNotify, 0);
  CHECK(needs_reset(*r.t));
  CHECK_EQ(r.q0->used_idx(), 0);
}

TEST(descriptor_outside_ram_needs_reset) {
  Rig r(std::make_unique<VirtioRng>());
  CHECK(init_device(*r.t, {r.q0.get()}, kVirtioFVersion1));
  r.q0->set_desc(0, 0x1000, 64, kVirtqDescFWrite, 0);
  r.q0->post(0);
  wr(*r.t, kQueueNotify, 0);
  CHECK(needs_reset(*r.t));
}

TEST(descriptor_straddling_the_end_of_ram_needs_reset) {
  Rig r(std::make_unique<VirtioRng>());
  CHECK(init_device(*r.t, {r.q0.get()}, kVirtioFVersion1));
  r.q0->set_desc(0, 0x80000000ULL + kRam - 16, 32, kVirtqDescFWrite, 0);
  r.q0->post(0);
  wr(*r.t, kQueueNotify, 0);
  CHECK(needs_reset(*r.t));
}

TEST(descriptor_address_wrapping_around_needs_reset) {
  Rig r(std::make_unique<VirtioRng>());
  CHECK(init_device(*r.t, {r.q0.get()}, kVirtioFVersion1));
  r.q0->set_desc(0, 0xfffffffffffff000ULL, 0x2000, kVirtqDescFWrite, 0);
  r.q0->post(0);
  wr(*r.t, kQueueNotify, 0);
  CHECK(needs_reset(*r.t));
}

TEST(huge_descriptor_length_needs_reset) {
  Rig r(std::make_unique<VirtioRng>());
  CHECK(init_device(*r.t, {r.q0.get()}, kVirtioFVersion1));
  r.q0->set_desc(0, kBuf, 0xffffffffu, kVirtqDescFWrite, 0);
  r.q0->post(0);
  wr(*r.t, kQueueNotify, 0);
  CHECK(needs_reset(*r.t));
}

TEST(rng_caps_bytes_per_request) {
  Rig r(std::make_unique<VirtioRng>());
  CHECK(init_device(*r.t, {r.q0.get()}, kVirtioFVersion1));
  r.q0->set_desc(0, kBuf, 1 << 20, kVirtqDescFWrite, 0);  // 1 MiB offered
  r.q0->post(0);
  wr(*r.t, kQueueNotify, 0);
  CHECK(!needs_reset(*r.t));
  uint32_t id = 0, len = 0;
  r.q0->used_elem(0, &id, &len);
  CHECK_EQ(len, VirtioRng::kMaxBytesPerRequest);
}

TEST(rng_fills_buffers_with_random_bytes_and_interrupts) {
  Rig r(std::make_unique<VirtioRng>());
  CHECK(init_device(*r.t, {r.q0.get()}, kVirtioFVersion1));
  r.mem.fill(kBuf, 0, 256);
  r.q0->set_desc(0, kBuf, 128, kVirtqDescFWrite | kVirtqDescFNext, 1);
  r.q0->set_desc(1, kBuf + 128, 128, kVirtqDescFWrite, 0);
  r.q0->post(0);
  wr(*r.t, kQueueNotify, 0);
  CHECK_EQ(r.q0->used_idx(), 1);
  uint32_t id = 0, len = 0;
  r.q0->used_elem(0, &id, &len);
  CHECK_EQ(id, 0u);
  CHECK_EQ(len, 256u);
  uint8_t buf[256];
  r.mem.read(kBuf, buf, 256);
  int zeros = 0;
  for (uint8_t b : buf) zeros += b == 0;
  CHECK(zeros < 16);  // 256 random bytes: about one zero expected
  CHECK(r.irq.level[kIrq]);
  CHECK_EQ(rd(*r.t, kIsr), 1u);
  wr(*r.t, kIsrAck, 1);
  CHECK(!r.irq.level[kIrq]);
}

TEST(rng_rejects_device_readable_buffers) {
  Rig r(std::make_unique<VirtioRng>());
  CHECK(init_device(*r.t, {r.q0.get()}, kVirtioFVersion1));
  r.q0->set_desc(0, kBuf, 16, 0, 0);
  r.q0->post(0);
  wr(*r.t, kQueueNotify, 0);
  CHECK(needs_reset(*r.t));
}

TEST(no_interrupt_flag_suppresses_the_used_interrupt) {
  Rig r(std::make_unique<VirtioRng>());
  CHECK(init_device(*r.t, {r.q0.get()}, kVirtioFVersion1));
  r.mem.write_obj(r.q0->avail, uint16_t{kVirtqAvailFNoInterrupt});
  r.q0->set_desc(0, kBuf, 16, kVirtqDescFWrite, 0);
  r.q0->post(0);
  wr(*r.t, kQueueNotify, 0);
  CHECK_EQ(r.q0->used_idx(), 1);
  CHECK(!r.irq.level[kIrq]);
}

TEST(event_idx_interrupts_only_when_used_event_is_crossed_and_publishes_avail_event) {
  Rig r(std::make_unique<VirtioRng>());
  CHECK(init_device(*r.t, {r.q0.get()}, kVirtioFVersion1 | kVirtioFEventIdx));
  const uint64_t used_event = r.q0->avail + 4 + 2 * 16, avail_event = r.q0->used + 4 + 8 * 16;
  r.mem.write_obj(used_event, uint16_t{0});  // interrupt after used entry 0
  r.q0->set_desc(0, kBuf, 16, kVirtqDescFWrite, 0);
  r.q0->post(0);
  wr(*r.t, kQueueNotify, 0);
  CHECK_EQ(r.q0->used_idx(), 1);
  CHECK(r.irq.level[kIrq]);
  uint16_t ae = 0;
  r.mem.read_obj(avail_event, &ae);
  CHECK_EQ(ae, 1);  // "notify me when entry 1 is made available"
  wr(*r.t, kIsrAck, 1);
  r.mem.write_obj(used_event, uint16_t{5});  // not before used entry 5
  r.q0->post(0);
  wr(*r.t, kQueueNotify, 0);
  CHECK_EQ(r.q0->used_idx(), 2);
  CHECK(!r.irq.level[kIrq]);
  for (int i = 0; i < 4; i++) r.q0->post(0);
  wr(*r.t, kQueueNotify, 0);
  CHECK_EQ(r.q0->used_idx(), 6);
  CHECK(r.irq.level[kIrq]);  // entries 2..5 crossed used_event = 5
  r.mem.read_obj(avail_event, &ae);
  CHECK_EQ(ae, 6);
}

TEST(indirect_table_is_followed_when_negotiated) {
  Rig r(std::make_unique<VirtioRng>());
  CHECK(init_device(*r.t, {r.q0.get()}, kVirtioFVersion1 | kVirtioFIndirectDesc));
  uint64_t table = kBuf + 0x10000;
  RawDesc d[2] = {{kBuf, 16, kVirtqDescFWrite | kVirtqDescFNext, 1}, {kBuf + 16, 16, kVirtqDescFWrite, 0}};
  r.mem.write(table, d, sizeof(d));
  r.q0->set_desc(0, table, sizeof(d), kVirtqDescFIndirect, 0);
  r.q0->post(0);
  wr(*r.t, kQueueNotify, 0);
  CHECK(!needs_reset(*r.t));
  uint32_t id = 0, len = 0;
  r.q0->used_elem(0, &id, &len);
  CHECK_EQ(len, 32u);
}

TEST(indirect_table_without_negotiation_needs_reset) {
  Rig r(std::make_unique<VirtioRng>());
  CHECK(init_device(*r.t, {r.q0.get()}, kVirtioFVersion1));
  RawDesc d = {kBuf, 16, kVirtqDescFWrite, 0};
  r.mem.write(kBuf + 0x10000, &d, sizeof(d));
  r.q0->set_desc(0, kBuf + 0x10000, 16, kVirtqDescFIndirect, 0);
  r.q0->post(0);
  wr(*r.t, kQueueNotify, 0);
  CHECK(needs_reset(*r.t));
}

TEST(nested_indirect_table_needs_reset) {
  Rig r(std::make_unique<VirtioRng>());
  CHECK(init_device(*r.t, {r.q0.get()}, kVirtioFVersion1 | kVirtioFIndirectDesc));
  uint64_t t1 = kBuf + 0x10000, t2 = kBuf + 0x20000;
  RawDesc inner = {kBuf, 16, kVirtqDescFWrite, 0};
  RawDesc outer = {t2, 16, kVirtqDescFIndirect, 0};
  r.mem.write(t2, &inner, sizeof(inner));
  r.mem.write(t1, &outer, sizeof(outer));
  r.q0->set_desc(0, t1, 16, kVirtqDescFIndirect, 0);
  r.q0->post(0);
  wr(*r.t, kQueueNotify, 0);
  CHECK(needs_reset(*r.t));
}

TEST(looping_indirect_table_needs_reset) {
  Rig r(std::make_unique<VirtioRng>());
  CHECK(init_device(*r.t, {r.q0.get()}, kVirtioFVersion1 | kVirtioFIndirectDesc));
  uint64_t table = kBuf + 0x10000;
  RawDesc d[2] = {{kBuf, 16, kVirtqDescFWrite | kVirtqDescFNext, 1}, {kBuf, 16, kVirtqDescFWrite | kVirtqDescFNext, 0}};
  r.mem.write(table, d, sizeof(d));
  r.q0->set_desc(0, table, sizeof(d), kVirtqDescFIndirect, 0);
  r.q0->post(0);
  wr(*r.t, kQueueNotify, 0);
  CHECK(needs_reset(*r.t));
}

TEST(indirect_table_of_bad_length_needs_reset) {
  for (uint32_t len : {0u, 15u, 17u, (VirtQueue::kMaxIndirect + 1) * 16}) {
    Rig r(std::make_unique<VirtioRng>());
    CHECK(init_device(*r.t, {r.q0.get()}, kVirtioFVersion1 | kVirtioFIndirectDesc));
    r.q0->set_desc(0, kBuf + 0x10000, len, kVirtqDescFIndirect, 0);
    r.q0->post(0);
    wr(*r.t, kQueueNotify, 0);
    CHECK(needs_reset(*r.t));
  }
}

TEST(device_stops_serving_queues_after_needs_reset) {
  Rig r(std::make_unique<VirtioRng>());
  CHECK(init_device(*r.t, {r.q0.get()}, kVirtioFVersion1));
  wr(*r.t, kQueueNotify, 3);
  CHECK(needs_reset(*r.t));
  r.q0->set_desc(0, kBuf, 16, kVirtqDescFWrite, 0);
  r.q0->post(0);
  wr(*r.t, kQueueNotify, 0);
  CHECK_EQ(r.q0->used_idx(), 0);
}

// ---- virtio-blk --------------------------------------------------------------

TEST(blk_config_reports_capacity_in_sectors) {
  auto r = blk_rig();
  uint64_t cap = 0;
  r->t->read(0x100, 8, &cap);
  CHECK_EQ(cap, (1u << 20) / 512);
}

TEST(blk_read_returns_disk_contents) {
  auto r = blk_rig();
  blk_request(*r, 0, 2, 1024, true);
  CHECK(!needs_reset(*r->t));
  CHECK_EQ(blk_status(*r), 0);
  std::vector<uint8_t> got(1024);
  r->mem.read(kBuf + 0x1000, got.data(), got.size());
  CHECK(std::memcmp(got.data(), r->disk->data.data() + 1024, 1024) == 0);
  uint32_t id = 0, len = 0;
  r->q0->used_elem(0, &id, &len);
  CHECK_EQ(len, 1025u);
}

TEST(blk_write_then_read_round_trips_and_flush_reaches_the_backend) {
  auto r = blk_rig();
  std::vector<uint8_t> pattern(4096);
  for (size_t i = 0; i < pattern.size(); i++) pattern[i] = static_cast<uint8_t>(i ^ 0x5a);
  r->mem.write(kBuf + 0x1000, pattern.data(), pattern.size());
  blk_request(*r, 1, 100, 4096, false);
  CHECK_EQ(blk_status(*r), 0);
  CHECK(std::memcmp(r->disk->data.data() + 100 * 512, pattern.data(), 4096) == 0);
  r->mem.fill(kBuf + 0x1000, 0, 4096);
  blk_request(*r, 0, 100, 4096, true);
  CHECK_EQ(blk_status(*r), 0);
  std::vector<uint8_t> back(4096);
  r->mem.read(kBuf + 0x1000, back.data(), back.size());
  CHECK(back == pattern);
  // FLUSH: header + status only.
  struct { uint32_t type, res; uint64_t sector; } h = {4, 0, 0};
  r->mem.write(kBuf, &h, sizeof(h));
  r->q0->set_desc(5, kBuf, 16, kVirtqDescFNext, 6);
  r->q0->set_desc(6, kBuf + 0x100, 1, kVirtqDescFWrite, 0);
  r->q0->post(5);
  wr(*r->t, kQueueNotify, 0);
  CHECK_EQ(blk_status(*r), 0);
  CHECK_EQ(r->disk->flushes, 1);
  CHECK_EQ(r->q0->used_idx(), 3);
}

TEST(blk_get_id_returns_the_serial) {
  auto r = blk_rig();
  blk_request(*r, 8, 0, 20, true);
  CHECK_EQ(blk_status(*r), 0);
  char id[21] = {};
  r->mem.read(kBuf + 0x1000, id, 20);
  CHECK(std::string(id) == "vmsup-serial-0");
}

TEST(blk_read_past_the_end_is_an_io_error) {
  auto r = blk_rig();
  blk_request(*r, 0, 2047, 1024, true);  // 2048 sectors: the second one is past the end
  CHECK(!needs_reset(*r->t));
  CHECK_EQ(blk_status(*r), 1);
  blk_request(*r, 0, 0xffffffffffffffffULL, 512, true);  // sector * 512 overflows
  CHECK_EQ(blk_status(*r), 1);
}

TEST(blk_counters_count_served_requests_and_bytes_and_errors_apart) {
  auto r = blk_rig();
  auto counters = [&r]() {
    std::vector<std::pair<std::string, uint64_t>> out;
    r->t->device()->counters(&out);
    std::map<std::string, uint64_t> m(out.begin(), out.end());
    return m;
  };
  CHECK(std::string(r->t->device()->counter_prefix()) == "blk");
  CHECK_EQ(counters()["reads"], 0u);
  blk_request(*r, 0, 2, 1024, true);     // read 1 KiB
  blk_request(*r, 1, 8, 4096, false);    // write 4 KiB
  blk_request(*r, 0, 2047, 1024, true);  // past the end: an error, no bytes
  auto c = counters();
  CHECK_EQ(c["reads"], 1u);
  CHECK_EQ(c["read_bytes"], 1024u);
  CHECK_EQ(c["writes"], 1u);
  CHECK_EQ(c["write_bytes"], 4096u);
  CHECK_EQ(c["errors"], 1u);
  CHECK_EQ(c["flushes"], 0u);
}

TEST(blk_unaligned_length_is_an_io_error) {
  auto r = blk_rig();
  blk_request(*r, 0, 0, 100, true);
  CHECK_EQ(blk_status(*r), 1);
}

TEST(blk_write_to_read_only_disk_is_an_io_error_and_advertised) {
  auto r = blk_rig(true);
  CHECK(rd(*r->t, 0x10) & (1u << 5));  // VIRTIO_BLK_F_RO
  uint8_t before = r->disk->data[0];
  r->mem.fill(kBuf + 0x1000, 0xab, 512);
  blk_request(*r, 1, 0, 512, false);
  CHECK_EQ(blk_status(*r), 1);
  CHECK_EQ(r->disk->data[0], before);
}

TEST(blk_unknown_request_type_is_unsupported) {
  auto r = blk_rig();
  blk_request(*r, 99, 0, 512, true);
  CHECK_EQ(blk_status(*r), 2);
}

TEST(blk_oversized_request_is_refused) {
  auto r = blk_rig();
  // 40 MiB of data spread over descriptors, all inside the 16 MiB RAM is not
  // possible, so point several descriptors at the same area: the cap still trips.
  struct { uint32_t type, res; uint64_t sector; } h = {0, 0, 0};
  r->mem.write(kBuf, &h, sizeof(h));
  r->q0->set_desc(0, kBuf, 16, kVirtqDescFNext, 1);
  for (uint16_t i = 1; i < 5; i++) r->q0->set_desc(i, 0x80000000ULL, 12 << 20, kVirtqDescFNext | kVirtqDescFWrite, i + 1);
  r->q0->set_desc(5, kBuf + 0x100, 1, kVirtqDescFWrite, 0);
  r->q0->post(0);
  wr(*r->t, kQueueNotify, 0);
  CHECK(needs_reset(*r->t));
}

TEST(blk_zero_length_descriptors_make_a_malformed_request) {
  auto r = blk_rig();
  r->q0->set_desc(0, kBuf, 0, kVirtqDescFNext, 1);
  r->q0->set_desc(1, kBuf + 0x100, 0, kVirtqDescFWrite, 0);
  r->q0->post(0);
  wr(*r->t, kQueueNotify, 0);
  CHECK(needs_reset(*r->t));
  CHECK_EQ(r->q0->used_idx(), 0);
}

TEST(blk_request_without_status_byte_needs_reset) {
  auto r = blk_rig();
  struct { uint32_t type, res; uint64_t sector; } h = {0, 0, 0};
  r->mem.write(kBuf, &h, sizeof(h));
  r->q0->set_desc(0, kBuf, 16, 0, 0);
  r->q0->post(0);
  wr(*r->t, kQueueNotify, 0);
  CHECK(needs_reset(*r->t));
}

TEST(blk_readable_after_writable_needs_reset) {
  auto r = blk_rig();
  struct { uint32_t type, res; uint64_t sector; } h = {1, 0, 0};
  r->mem.write(kBuf, &h, sizeof(h));
  r->q0->set_desc(0, kBuf, 16, kVirtqDescFNext, 1);
  r->q0->set_desc(1, kBuf + 0x100, 1, kVirtqDescFWrite | kVirtqDescFNext, 2);
  r->q0->set_desc(2, kBuf + 0x1000, 512, 0, 0);
  r->q0->post(0);
  wr(*r->t, kQueueNotify, 0);
  CHECK(needs_reset(*r->t));
}

TEST(blk_header_split_across_descriptors_is_accepted) {
  auto r = blk_rig();
  struct { uint32_t type, res; uint64_t sector; } h = {0, 0, 1};
  r->mem.write(kBuf, &h, sizeof(h));
  r->q0->set_desc(0, kBuf, 4, kVirtqDescFNext, 1);
  r->q0->set_desc(1, kBuf + 4, 12, kVirtqDescFNext, 2);
  r->q0->set_desc(2, kBuf + 0x1000, 512, kVirtqDescFNext | kVirtqDescFWrite, 3);
  r->q0->set_desc(3, kBuf + 0x100, 1, kVirtqDescFWrite, 0);
  r->q0->post(0);
  wr(*r->t, kQueueNotify, 0);
  CHECK_EQ(blk_status(*r), 0);
  uint8_t b0 = 0;
  r->mem.read_obj(kBuf + 0x1000, &b0);
  CHECK_EQ(b0, r->disk->data[512]);
}

// ---- virtio-input -----------------------------------------------------------

TEST(input_config_names_a_keyboard_with_delete) {
  Rig r(std::make_unique<VirtioInput>());
  r.t->write(0x100, 1, 0x11);  // EV_BITS
  r.t->write(0x101, 1, 1);     // EV_KEY
  uint64_t size = 0, bits = 0;
  r.t->read(0x102, 1, &size);
  CHECK(size >= 14);
  r.t->read(0x108 + 111 / 8, 1, &bits);  // KEY_DELETE
  CHECK(bits & (1u << (111 % 8)));
  r.t->write(0x100, 1, 0x01);  // ID_NAME
  r.t->write(0x101, 1, 0);
  r.t->read(0x102, 1, &size);
  CHECK(size > 0);
}

TEST(input_ctrl_alt_del_sends_the_key_sequence_with_syn_reports) {
  Rig r(std::make_unique<VirtioInput>(), 16);
  VirtioInput* dev = static_cast<VirtioInput*>(r.t->device());
  CHECK(init_device(*r.t, {r.q0.get(), r.q1.get()}, kVirtioFVersion1));
  for (uint16_t i = 0; i < 16; i++) {
    r.q0->set_desc(i, kBuf + 8 * i, 8, kVirtqDescFWrite, 0);
    r.q0->post(i);
  }
  wr(*r.t, kQueueNotify, 0);
  dev->ctrl_alt_del();
  CHECK_EQ(r.q0->used_idx(), 12);
  struct Ev { uint16_t type, code; uint32_t value; };
  const Ev want[12] = {{1, 29, 1}, {0, 0, 0}, {1, 56, 1}, {0, 0, 0}, {1, 111, 1}, {0, 0, 0},
                       {1, 111, 0}, {0, 0, 0}, {1, 56, 0}, {0, 0, 0}, {1, 29, 0}, {0, 0, 0}};
  for (int i = 0; i < 12; i++) {
    Ev e;
    r.mem.read(kBuf + 8 * i, &e, sizeof(e));
    CHECK_EQ(e.type, want[i].type);
    CHECK_EQ(e.code, want[i].code);
    CHECK_EQ(e.value, want[i].value);
  }
  CHECK(r.irq.level[kIrq]);
}

TEST(input_events_wait_for_buffers_and_are_capped) {
  Rig r(std::make_unique<VirtioInput>(), 16);
  VirtioInput* dev = static_cast<VirtioInput*>(r.t->device());
  CHECK(init_device(*r.t, {r.q0.get(), r.q1.get()}, kVirtioFVersion1));
  dev->ctrl_alt_del();
  CHECK_EQ(dev->pending_events(), 12u);
  for (int i = 0; i < 100; i++) dev->ctrl_alt_del();
  CHECK_EQ(dev->pending_events(), VirtioInput::kMaxPending);
  r.q0->set_desc(0, kBuf, 8, kVirtqDescFWrite, 0);
  r.q0->post(0);
  wr(*r.t, kQueueNotify, 0);
  CHECK_EQ(r.q0->used_idx(), 1);
  CHECK_EQ(dev->pending_events(), VirtioInput::kMaxPending - 1);
}

TEST(input_event_buffer_too_small_needs_reset) {
  Rig r(std::make_unique<VirtioInput>(), 16);
  VirtioInput* dev = static_cast<VirtioInput*>(r.t->device());
  CHECK(init_device(*r.t, {r.q0.get(), r.q1.get()}, kVirtioFVersion1));
  r.q0->set_desc(0, kBuf, 4, kVirtqDescFWrite, 0);
  r.q0->post(0);
  wr(*r.t, kQueueNotify, 0);
  dev->ctrl_alt_del();
  CHECK(needs_reset(*r.t));
}

// ---- random queues -----------------------------------------------------------

// xorshift64: a fixed seed, so a failure reproduces.
struct Rng {
  uint64_t s = 0x9e3779b97f4a7c15ULL;
  uint64_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
};

TEST(random_descriptor_tables_never_crash_or_hang) {
  // Garbage descriptors (addresses near RAM and its edges, any lengths, any
  // flags, any next index) and garbage available rings, fed to virtio-blk and
  // virtio-rng. Each notify must end, with the device either serving chains
  // or in NEEDS_RESET; ASan/UBSan watch the memory accesses.
  Rng rng;
  int resets = 0, served = 0;
  for (int round = 0; round < 400; round++) {
    bool use_blk = round % 2;
    std::unique_ptr<Rig> r;
    if (use_blk) {
      r = blk_rig(false);
    } else {
      r = std::make_unique<Rig>(std::make_unique<VirtioRng>());
      CHECK(init_device(*r->t, {r->q0.get()}, kVirtioFVersion1 | kVirtioFIndirectDesc));
    }
    const uint64_t bases[4] = {0x80000000ULL, kBuf, 0x80000000ULL + kRam - 64, rng.next()};
    const bool mostly_valid = round % 4 == 0;  // rng rounds with plausible buffers
    for (uint16_t i = 0; i < r->q0->size; i++) {
      if (mostly_valid) {
        r->q0->set_desc(i, kBuf + 64 * i, static_cast<uint32_t>(rng.next() % 64), kVirtqDescFWrite, 0);
        continue;
      }
      uint64_t addr = bases[rng.next() % 4] + (rng.next() % 256);
      uint32_t len = static_cast<uint32_t>(rng.next() % 5 == 0 ? rng.next() : rng.next() % 4096);
      uint16_t flags = static_cast<uint16_t>(rng.next() & 7);
      uint16_t next = static_cast<uint16_t>(rng.next() % 24);
      r->q0->set_desc(i, addr, len, flags, next);
    }
    // Some indirect tables full of garbage too.
    for (int k = 0; k < 64; k++) r->mem.write_obj(kBuf + 0x10000 + 8 * k, rng.next());
    r->q0->set_desc(static_cast<uint16_t>(rng.next() % 16), kBuf + 0x10000, 16 * (1 + rng.next() % 8), kVirtqDescFIndirect, 0);
    for (int k = 0; k < 4; k++) r->q0->post(static_cast<uint16_t>(rng.next() % (mostly_valid ? 16 : 20)));
    if (!mostly_valid && rng.next() % 8 == 0) r->q0->set_avail_idx(static_cast<uint16_t>(rng.next()));
    wr(*r->t, kQueueNotify, static_cast<uint32_t>(rng.next() % 8 == 0 ? rng.next() % 4 : 0));
    if (needs_reset(*r->t)) resets++;
    else served += r->q0->used_idx();
  }
  // Both outcomes happen: the generator is not trivially all-bad or all-good.
  CHECK(resets > 0);
  CHECK(served > 0);
}

TEST(random_programs_against_the_fuzz_target) {
  // The libFuzzer target (native/fuzz/virtio_fuzz.cc) on 3000 seeded random
  // inputs: every one must run to its end under ASan/UBSan.
  // Both ends are reached: devices broken by the guest, and devices that
  // survived their program still live (DRIVER_OK without NEEDS_RESET).
  Rng rng;
  std::vector<uint8_t> input;
  int broken = 0, alive = 0;
  for (int i = 0; i < 3000; i++) {
    input.resize(64 + rng.next() % 2048);
    for (auto& b : input) b = static_cast<uint8_t>(rng.next());
    auto o = vmsup_fuzz::virtio_fuzz_one(input.data(), input.size());
    CHECK(o.logged <= 5);  // the rate limit holds
    if (o.needs_reset) broken++;
    else if (o.status & kStatusDriverOk) alive++;
  }
  CHECK(broken > 0);
  CHECK(alive > 0);
}

TEST_MAIN()
