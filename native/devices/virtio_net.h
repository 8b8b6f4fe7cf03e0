// virtio network device (virtio 1.2 §5.1) on the modern virtio-mmio transport.
// Features: VIRTIO_NET_F_MAC (5), VIRTIO_NET_F_MRG_RXBUF (15),
// VIRTIO_NET_F_STATUS (16), and the transmit offloads VIRTIO_NET_F_CSUM (0)
// and VIRTIO_NET_F_HOST_TSO4 (11, which needs CSUM: §5.1.3.1), and
// VIRTIO_NET_F_GUEST_CSUM (1): received IPv4 TCP/UDP frames whose checksum the
// device validated carry VIRTIO_NET_HDR_F_DATA_VALID, so the guest does not
// sum them again. No GUEST_TSO*: no backend hands us large frames, and the
// device never gives the driver a partial checksum.
// Queues: receiveq1 (0) and transmitq1 (1); no control queue.
//
// Guest -> host: each transmit chain is a 12-byte struct virtio_net_hdr and
// one frame (§5.1.6.2). Every backend (slirp, a tap without IFF_VNET_HDR, the
// switch) takes complete frames only, so the device finishes what the driver
// left to it before handing a frame over: a partial checksum
// (VIRTIO_NET_HDR_F_NEEDS_CSUM) is completed, and a TCPv4 GSO frame is cut
// into gso_size segments with their IPv4 and TCP headers and checksums
// rewritten. A header that does not describe its frame (checksum field past
// the end, hdr_len past the frame, gso_size 0, a GSO type not negotiated, a
// frame that is not IPv4/TCP, ...) drops the frame, counted; the device goes
// on. Host -> guest: frames from the
// backend wait in a short bounded queue and go into the buffers the driver
// posted through the transport's one device-to-driver path (fill_posted).
// Frames longer than the MTU plus the Ethernet header are dropped and
// counted, both ways; so are frames for a guest that posts no receive buffers,
// once the bounded queue is full — nothing ever waits on the guest.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "devices/virtio_mmio.h"
#include "net/backend.h"

namespace vmsup {

constexpr uint64_t kVirtioNetFCsum = 1ULL << 0;
constexpr uint64_t kVirtioNetFGuestCsum = 1ULL << 1;
constexpr uint64_t kVirtioNetFGuestTso4 = 1ULL << 7;
constexpr uint64_t kVirtioNetFHostTso4 = 1ULL << 11;
constexpr uint64_t kVirtioNetFHostTso6 = 1ULL << 12;
constexpr uint64_t kVirtioNetFHostEcn = 1ULL << 13;
constexpr uint64_t kVirtioNetFMac = 1ULL << 5;
constexpr uint64_t kVirtioNetFMrgRxbuf = 1ULL << 15;
constexpr uint64_t kVirtioNetFStatus = 1ULL << 16;

struct NetCounters {
  uint64_t rx_frames = 0, rx_bytes = 0;
  uint64_t rx_dropped_no_buffer = 0;  // queue full while the guest posted nothing
  uint64_t rx_dropped_oversize = 0;   // longer than kMaxFrame
  uint64_t rx_dropped_too_small = 0;  // the posted buffers could not hold it
  uint64_t rx_dropped_down = 0;       // the driver is not running (no DRIVER_OK)
  uint64_t tx_frames = 0, tx_bytes = 0;
  uint64_t tx_dropped_oversize = 0;
  uint64_t tx_dropped_runt = 0;       // shorter than an Ethernet header
  uint64_t tx_dropped_bad_hdr = 0;    // a checksum or GSO request that does not fit its frame
  uint64_t tx_gso_frames = 0;         // TSO frames segmented here
  uint64_t tx_gso_segments = 0;       // the segments they became (counted in tx_frames too)
};

class VirtioNet : public VirtioDevice {
 public:
  static constexpr uint32_t kMtu = 1500;
  // MTU + Ethernet header + one 802.1Q tag.
  static constexpr uint32_t kMaxFrame = kMtu + 14 + 4;
  // struct virtio_net_hdr with num_buffers: always 12 bytes with VERSION_1 (§5.1.6).
  static constexpr uint32_t kHdrLen = 12;
  // Frames waiting for receive buffers. The cap bounds the memory a guest that
  // never posts buffers can make us hold (256 * 1.5 KiB); beyond it frames
  // are dropped, and TCP on the far side backs off.
  static constexpr size_t kRxQueueCap = 256;
  // Largest TSO frame: an IPv4 datagram of at most 65535 bytes behind an
  // Ethernet header and one 802.1Q tag.
  static constexpr uint32_t kMaxGsoFrame = 65535 + 14 + 4;
  // Largest transmit chain walked: bigger chains break the rules and reset the
  // device; smaller ones over kMaxFrame (kMaxGsoFrame for GSO) are dropped.
  static constexpr uint64_t kTxChainCap = kMaxGsoFrame + kHdrLen;
  static constexpr uint64_t kFeatures =
      kVirtioNetFMac | kVirtioNetFMrgRxbuf | kVirtioNetFStatus | kVirtioNetFCsum | kVirtioNetFHostTso4 | kVirtioNetFGuestCsum;

  VirtioNet(const uint8_t mac[6], std::unique_ptr<NetBackend> backend);

  uint32_t device_id() const override { return 1; }
  uint64_t device_features() const override { return kFeatures; }
  unsigned num_queues() const override { return 2; }
  bool read_config(uint64_t off, unsigned size, uint64_t* val) override;
  void queue_notify(unsigned q) override;
  void reset() override;

  // A frame for the guest (what the backend's sink calls).
  void receive(const uint8_t* frame, size_t len);
  const NetCounters& counters() const { return c_; }
  // Metrics (Board::counters): frames and bytes each way, and what was dropped.
  using VirtioDevice::counters;
  void counters(std::vector<std::pair<std::string, uint64_t>>* out) const override;
  const char* counter_prefix() const override { return "net"; }
  const uint8_t* mac() const { return mac_; }
  NetBackend* backend() { return backend_.get(); }

 private:
  void deliver();
  FillStatus deliver_one(const uint8_t* frame, size_t len);
  void transmit();
  // One frame from the guest (tx_ holds it) with its header: finish its
  // checksum or segment it, then hand it to the backend. Returns false when the
  // header does not describe the frame (the caller counts the drop).
  bool offload_and_send(const uint8_t* hdr, size_t len);
  void send_one(const uint8_t* f, size_t len);

  uint8_t mac_[6];
  NetCounters c_;
  std::deque<std::vector<uint8_t>> rxq_;
  std::vector<uint8_t> msg_;  // header + frame being delivered
  std::vector<uint8_t> tx_;   // frame being sent
  std::vector<uint8_t> seg_;  // one TSO segment being built
  FillScratch fill_;
  // Last, so it is destroyed first: its sink points at this device.
  std::unique_ptr<NetBackend> backend_;
};

}  // namespace vmsup
