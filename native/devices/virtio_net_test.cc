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
    all.push_back(last);
  }
  std::vector<uint8_t> last;
  std::vector<std::vector<uint8_t>> all;
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
  void send_tx(uint16_t d, const std::vector<uint8_t>& frame, std::vector<uint8_t> hdr = std::vector<uint8_t>(12, 0)) {
    const uint64_t h = kBuf + 0x80000 + 0x10000ULL * d;
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

// struct virtio_net_hdr (§5.1.6), little-endian fields.
std::vector<uint8_t> vhdr(uint8_t flags, uint8_t gso_type, uint16_t hdr_len, uint16_t gso_size, uint16_t csum_start,
                          uint16_t csum_offset) {
  std::vector<uint8_t> h(12, 0);
  h[0] = flags;
  h[1] = gso_type;
  const uint16_t v[4] = {hdr_len, gso_size, csum_start, csum_offset};
  for (int i = 0; i < 4; i++) {
    h[2 + 2 * i] = static_cast<uint8_t>(v[i]);
    h[3 + 2 * i] = static_cast<uint8_t>(v[i] >> 8);
  }
  return h;
}

uint16_t get16(const std::vector<uint8_t>& f, size_t o) { return static_cast<uint16_t>((f[o] << 8) | f[o + 1]); }
uint32_t get32(const std::vector<uint8_t>& f, size_t o) { return (static_cast<uint32_t>(get16(f, o)) << 16) | get16(f, o + 2); }
void set16(std::vector<uint8_t>& f, size_t o, uint32_t v) {
  f[o] = static_cast<uint8_t>(v >> 8);
  f[o + 1] = static_cast<uint8_t>(v);
}

// Reference Internet checksum, the textbook way: big-endian 16-bit words, end-around carry.
uint32_t ref_sum(const std::vector<uint8_t>& b, size_t from, size_t n, uint32_t acc = 0) {
  for (size_t i = 0; i < n; i += 2) acc += (b[from + i] << 8) | (i + 1 < n ? b[from + i + 1] : 0);
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return acc;
}
// The pseudo-header's sum (RFC 793 §3.1) for the IPv4 packet at l3 with l4 bytes of transport data.
uint32_t pseudo_sum(const std::vector<uint8_t>& f, size_t l3, uint8_t proto, size_t l4len) {
  uint32_t acc = ref_sum(f, l3 + 12, 8);
  acc += proto + static_cast<uint32_t>(l4len);
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return acc;
}
// True when the IPv4 header and the TCP/UDP checksum of frame f (no VLAN) verify.
bool checksums_ok(const std::vector<uint8_t>& f) {
  const size_t ihl = (f[14] & 0xf) * 4u, l4 = 14 + ihl, l4len = f.size() - l4;
  if (ref_sum(f, 14, ihl) != 0xffff) return false;
  return ref_sum(f, l4, l4len, pseudo_sum(f, 14, f[14 + 9], l4len)) == 0xffff;
}

// An Ethernet + IPv4 + TCP (20-byte header, flags ACK|PSH|FIN) frame with
// `payload` bytes, its checksums correct. 10.0.0.1 -> 10.0.0.2, seq 1000, id 7.
std::vector<uint8_t> tcp_frame(size_t payload, uint8_t tcp_flags = 0x19) {
  std::vector<uint8_t> f(14 + 20 + 20 + payload, 0);
  const uint8_t macs[12] = {0xfe, 0xe1, 0xba, 0xd0, 0, 2, 0xfe, 0xe1, 0xba, 0xd0, 0x12, 0x34};
  std::memcpy(f.data(), macs, 12);
  set16(f, 12, 0x0800);
  f[14] = 0x45;
  set16(f, 16, static_cast<uint32_t>(40 + payload));
  set16(f, 18, 7);
  set16(f, 20, 0x4000);  // DF
  f[22] = 64;
  f[23] = 6;
  const uint8_t addrs[8] = {10, 0, 0, 1, 10, 0, 0, 2};
  std::memcpy(f.data() + 26, addrs, 8);
  set16(f, 24, ~ref_sum(f, 14, 20) & 0xffff);
  set16(f, 34, 40000);
  set16(f, 36, 80);
  set16(f, 38, 0);
  set16(f, 40, 1000);  // seq 1000
  set16(f, 42, 0);
  set16(f, 44, 1);     // ack 1
  f[46] = 0x50;
  f[47] = tcp_flags;
  set16(f, 48, 512);
  for (size_t i = 0; i < payload; i++) f[54 + i] = static_cast<uint8_t>(i * 7 + 3);
  set16(f, 50, ~ref_sum(f, 34, 20 + payload, pseudo_sum(f, 14, 6, 20 + payload)) & 0xffff);
  return f;
}

constexpr uint64_t kOffloads = kFeatures | kVirtioNetFCsum | kVirtioNetFHostTso4;

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
  CHECK(f & 1u);                   // VIRTIO_NET_F_CSUM
  CHECK(f & (1u << 11));           // HOST_TSO4 (needs CSUM, offered with it: §5.1.3.1)
  CHECK(f & (1u << 1));            // GUEST_CSUM: validated frames are marked DATA_VALID
  CHECK(!(f & (1u << 7)));         // no GUEST_TSO4: no backend gives large frames
  CHECK(!(f & (1u << 12)));        // nor HOST_TSO6, HOST_ECN, HOST_UFO
  CHECK(!(f & (1u << 13)));
  CHECK(!(f & (1u << 14)));
}

TEST(net_feature_negotiation_offloads_only_what_was_offered) {
  NetRig with(kOffloads);
  CHECK(with.t->driver_features() & kVirtioNetFHostTso4);
  // A driver asking for an offload not offered never reaches FEATURES_OK.
  GuestMemory mem;
  std::string err;
  CHECK(mem.init(kRam, &err));
  RecordingIrq irq;
  const uint8_t mac[6] = {0xfe, 0xe1, 0xba, 0xd0, 0, 1};
  VirtioMmio t(mem, &irq, 5, std::make_unique<VirtioNet>(mac, std::make_unique<RecordingBackend>()), [](const std::string&) {});
  MockQueue rx(mem, kRxQ, 16), tx(mem, kTxQ, 16);
  CHECK(!init_device(t, {&rx, &tx}, kFeatures | kVirtioNetFGuestTso4));
  CHECK(!init_device(t, {&rx, &tx}, kFeatures | kVirtioNetFHostEcn));
}

TEST(net_transmit_completes_a_partial_checksum) {
  NetRig r(kOffloads);
  // As Linux sends with CSUM: the TCP checksum field holds the pseudo-header's sum.
  for (size_t payload : {0, 1, 100, 1001, 1460}) {
    auto f = tcp_frame(payload);
    const std::vector<uint8_t> want = f;
    set16(f, 50, pseudo_sum(f, 14, 6, 20 + payload));
    r.send_tx(0, f, vhdr(1, 0, 54, 0, 34, 16));
    CHECK(r.be->last == want);
    CHECK(checksums_ok(r.be->last));
  }
  // Without VIRTIO_NET_F_CSUM negotiated the flag is ignored (§5.1.6.2.2): the frame goes as is.
  NetRig plain;
  auto f = tcp_frame(10);
  set16(f, 50, 0x1234);
  plain.send_tx(0, f, vhdr(1, 0, 0, 0, 34, 16));
  CHECK(plain.be->last == f);
  CHECK_EQ(r.net->counters().tx_dropped_bad_hdr, 0u);
}

TEST(net_transmit_segments_a_tso_frame) {
  NetRig r(kOffloads);
  const size_t payload = 2 * 1448 + 500;
  auto f = tcp_frame(payload);
  set16(f, 50, pseudo_sum(f, 14, 6, 20 + payload));
  r.send_tx(0, f, vhdr(1, 1, 54, 1448, 34, 16));
  CHECK_EQ(r.be->all.size(), 3u);
  CHECK_EQ(r.net->counters().tx_gso_frames, 1u);
  CHECK_EQ(r.net->counters().tx_gso_segments, 3u);
  CHECK_EQ(r.net->counters().tx_frames, 3u);
  std::vector<uint8_t> data;
  for (size_t i = 0; i < r.be->all.size(); i++) {
    const auto& s = r.be->all[i];
    const size_t n = i < 2 ? 1448 : 500;
    CHECK_EQ(s.size(), 54 + n);
    CHECK(std::equal(s.begin(), s.begin() + 14, f.begin()));  // Ethernet header kept
    CHECK_EQ(get16(s, 16), 40 + n);                            // IPv4 total length
    CHECK_EQ(get16(s, 18), 7 + i);                             // IPv4 id, one per segment
    CHECK_EQ(get32(s, 38), 1000 + 1448 * i);                   // TCP sequence number
    CHECK_EQ(get32(s, 42), 1u);                                // ack unchanged
    CHECK_EQ(s[47], i < 2 ? 0x10 : 0x19);                      // PSH and FIN on the last only
    CHECK(checksums_ok(s));
    data.insert(data.end(), s.begin() + 54, s.end());
  }
  CHECK(std::equal(data.begin(), data.end(), f.begin() + 54));
  CHECK(!needs_reset(*r.t));
  // A 64 KiB frame (the largest IPv4 datagram): 46 segments, all checksums right.
  const size_t big = 65535 - 40;
  auto g = tcp_frame(big, 0x18);
  r.send_tx(2, g, vhdr(1, 1, 54, 1448, 34, 16));
  CHECK_EQ(r.be->all.size(), 3u + (big + 1447) / 1448);
  bool ok = true;
  for (size_t i = 3; i < r.be->all.size(); i++) ok = ok && checksums_ok(r.be->all[i]);
  CHECK(ok);
  CHECK(!needs_reset(*r.t));
}

TEST(net_transmit_drops_and_counts_malformed_offload_headers) {
  NetRig r(kOffloads);
  const auto good = tcp_frame(3000);
  uint64_t bad = 0;
  auto expect_dropped = [&](const std::vector<uint8_t>& f, const std::vector<uint8_t>& h) {
    const uint64_t before = r.be->frames;
    r.send_tx(0, f, h);
    bad++;
    CHECK_EQ(r.be->frames, before);
    CHECK_EQ(r.net->counters().tx_dropped_bad_hdr, bad);
  };
  expect_dropped(good, vhdr(1, 1, 60000, 1448, 34, 16));  // hdr_len past the frame
  expect_dropped(good, vhdr(1, 1, 54, 0, 34, 16));        // gso_size 0
  expect_dropped(good, vhdr(1, 1, 54, 1500, 34, 16));     // a segment over the MTU
  expect_dropped(good, vhdr(1, 3, 54, 1448, 34, 16));     // UDP (UFO): not offered
  expect_dropped(good, vhdr(1, 4, 54, 1448, 34, 16));     // TCPv6: not offered
  expect_dropped(good, vhdr(1, 0x81, 54, 1448, 34, 16));  // ECN without HOST_ECN
  expect_dropped(good, vhdr(1, 9, 54, 1448, 34, 16));     // unknown type
  auto arp = good;
  set16(arp, 12, 0x0806);
  expect_dropped(arp, vhdr(1, 1, 54, 1448, 34, 16));      // not IPv4
  auto udp = good;
  udp[23] = 17;
  expect_dropped(udp, vhdr(1, 1, 54, 1448, 34, 16));      // not TCP
  auto len = good;
  set16(len, 16, 1000);
  expect_dropped(len, vhdr(1, 1, 54, 1448, 34, 16));      // IPv4 length disagrees with the frame
  auto frag = good;
  set16(frag, 20, 0x2000);
  expect_dropped(frag, vhdr(1, 1, 54, 1448, 34, 16));     // a fragment
  auto doff = good;
  doff[46] = 0x20;
  expect_dropped(doff, vhdr(1, 1, 54, 1448, 34, 16));     // TCP data offset under 20 bytes
  auto ihl = good;
  ihl[14] = 0x44;
  expect_dropped(ihl, vhdr(1, 1, 54, 1448, 34, 16));      // IPv4 header under 20 bytes
  expect_dropped(tcp_frame(0), vhdr(1, 1, 54, 1448, 34, 16));  // nothing to segment
  const auto small = tcp_frame(100);
  expect_dropped(small, vhdr(1, 0, 0, 0, 160, 0));        // csum_start past the end
  expect_dropped(small, vhdr(1, 0, 0, 0, 34, 120));       // checksum field past the end
  expect_dropped(small, vhdr(1, 0, 0, 0, 0xffff, 0xffff));
  CHECK(!needs_reset(*r.t));
  CHECK_EQ(r.tx->used_idx(), static_cast<uint16_t>(bad));  // every chain given back
  // TSO offered but negotiated without CSUM (a driver breaking §5.1.3.1): no GSO.
  NetRig nocsum(kFeatures | kVirtioNetFHostTso4);
  nocsum.send_tx(0, good, vhdr(1, 1, 54, 1448, 34, 16));
  CHECK_EQ(nocsum.be->frames, 0u);
  CHECK_EQ(nocsum.net->counters().tx_dropped_bad_hdr, 1u);
  // A frame over the MTU without GSO is oversize, as before.
  r.send_tx(0, good, vhdr(0, 0, 0, 0, 0, 0));
  CHECK_EQ(r.net->counters().tx_dropped_oversize, 1u);
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

TEST(net_receive_marks_frames_with_a_valid_checksum_data_valid_only_with_guest_csum) {
  // The flags byte of the header delivered for frame f.
  auto flags_for = [](uint64_t features, const std::vector<uint8_t>& f) {
    NetRig r(features);
    r.post_rx(0, 2048);
    wr(*r.t, kQueueNotify, 0);
    r.be->inject(f.data(), f.size());
    CHECK_EQ(r.rx->used_idx(), 1u);
    uint8_t hdr[12];
    r.mem.read(kBuf, hdr, 12);
    CHECK_EQ(hdr[1], 0u);  // never a GSO frame
    return hdr[0];
  };
  const uint64_t gc = kFeatures | kVirtioNetFGuestCsum;
  for (size_t n : {0, 1, 777, 1460}) CHECK_EQ(flags_for(gc, tcp_frame(n)), 2u);  // VIRTIO_NET_HDR_F_DATA_VALID
  CHECK_EQ(flags_for(kFeatures, tcp_frame(100)), 0u);  // not negotiated: flags 0 (§5.1.6.4)
  auto bad = tcp_frame(100);
  bad[60] ^= 1;  // one payload bit flipped: the checksum no longer holds
  CHECK_EQ(flags_for(gc, bad), 0u);
  auto trailer = tcp_frame(6);
  trailer.resize(64, 0);  // Ethernet padding after the IPv4 packet is not summed
  CHECK_EQ(flags_for(gc, trailer), 2u);
  auto shortip = tcp_frame(100);
  set16(shortip, 16, 2000);  // IPv4 length past the frame
  CHECK_EQ(flags_for(gc, shortip), 0u);
  auto udp = tcp_frame(100);  // a UDP datagram with a correct checksum, then with none (0)
  udp[23] = 17;
  set16(udp, 24, 0);
  set16(udp, 24, ~ref_sum(udp, 14, 20) & 0xffff);
  set16(udp, 38, 120);
  set16(udp, 40, 0);
  set16(udp, 40, ~ref_sum(udp, 34, 120, pseudo_sum(udp, 14, 17, 120)) & 0xffff);
  CHECK_EQ(flags_for(gc, udp), 2u);
  set16(udp, 40, 0);
  CHECK_EQ(flags_for(gc, udp), 0u);
  CHECK_EQ(flags_for(gc, frame_of(100, 7)), 0u);  // not IPv4
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
