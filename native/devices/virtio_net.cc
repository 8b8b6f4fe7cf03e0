#include "devices/virtio_net.h"

#include <cstring>

namespace vmsup {

namespace {
constexpr uint16_t kNetSLinkUp = 1;  // §5.1.4 status
constexpr uint32_t kNumBuffersOffset = 10;  // num_buffers in struct virtio_net_hdr (§5.1.6)
constexpr uint32_t kEthHeader = 14;
}  // namespace

VirtioNet::VirtioNet(const uint8_t mac[6], std::unique_ptr<NetBackend> backend)
    : backend_(std::move(backend)) {
  std::memcpy(mac_, mac, 6);
  if (backend_) backend_->set_sink([this](const uint8_t* f, size_t n) { receive(f, n); });
}

// Configuration layout (§5.1.4): mac[6] @0, le16 status @6, le16
// max_virtqueue_pairs @8 (meaningful only with MQ; reads 1), le16 mtu @10
// (only with VIRTIO_NET_F_MTU, which is not offered): 10 bytes are decoded.
bool VirtioNet::read_config(uint64_t off, unsigned size, uint64_t* val) {
  uint8_t cfg[10];
  std::memcpy(cfg, mac_, 6);
  const uint16_t status = kNetSLinkUp, pairs = 1;
  std::memcpy(cfg + 6, &status, 2);
  std::memcpy(cfg + 8, &pairs, 2);
  if (off >= sizeof(cfg) || size > sizeof(cfg) - off) return false;
  uint64_t v = 0;
  std::memcpy(&v, cfg + off, size);
  *val = v;
  return true;
}

void VirtioNet::reset() { rxq_.clear(); }

void VirtioNet::queue_notify(unsigned q) {
  if (q == 0) deliver();  // new receive buffers
  else transmit();
}

void VirtioNet::receive(const uint8_t* frame, size_t len) {
  if (len > kMaxFrame) {
    c_.rx_dropped_oversize++;
    return;
  }
  if (!transport_ || !transport_->live()) {
    c_.rx_dropped_down++;
    return;
  }
  if (rxq_.size() >= kRxQueueCap) {
    c_.rx_dropped_no_buffer++;
    return;
  }
  rxq_.emplace_back(frame, frame + len);
  deliver();
}

void VirtioNet::deliver() {
  if (!transport_ || !transport_->live() || rxq_.empty()) return;
  VirtQueue& q = transport_->queue(0);
  GuestMemory& mem = transport_->mem();
  const bool mrg = transport_->driver_features() & kVirtioNetFMrgRxbuf;
  FillRequest req;
  // §5.1.6.4: with MRG_RXBUF a frame may span several chains, each at least a
  // header long (§5.1.6.3.1, a MUST); without it one chain holds the frame and
  // num_buffers is 1.
  req.max_chains = mrg ? q.size() : 1;
  req.min_chain_bytes = mrg ? kHdrLen : 0;
  req.byte_cap = 1 << 16;
  req.store_count = true;
  req.count_offset = kNumBuffersOffset;
  bool used = false;
  while (!rxq_.empty()) {
    const std::vector<uint8_t>& f = rxq_.front();
    msg_.assign(kHdrLen, 0);  // no checksum or GSO information (§5.1.6.4)
    msg_.insert(msg_.end(), f.begin(), f.end());
    const char* err = nullptr;
    FillStatus st = fill_posted(mem, q, msg_.data(), static_cast<uint32_t>(msg_.size()), req, &fill_, &err);
    if (st == FillStatus::kNoBuffers) break;  // stays queued until the driver posts more
    if (st == FillStatus::kError) {
      transport_->needs_reset(err);
      rxq_.clear();
      return;
    }
    if (st == FillStatus::kTooSmall) {
      c_.rx_dropped_too_small++;
    } else {
      c_.rx_frames++;
      c_.rx_bytes += f.size();
    }
    rxq_.pop_front();
    used = true;
  }
  if (used) transport_->notify_used(0);
}

void VirtioNet::transmit() {
  // §5.1.6.2: each chain is the header followed by the frame, all readable.
  serve_queue(1, kTxChainCap, [this](const std::vector<DescBuf>& bufs, uint32_t* written) -> const char* {
    *written = 0;
    if (chain_writable(bufs) != 0) return "device-writable buffer in the transmit queue";
    const uint64_t total = chain_readable(bufs);
    if (total < kHdrLen) return "transmit buffer shorter than the virtio-net header";
    const uint64_t len = total - kHdrLen;
    if (len > kMaxFrame) {
      c_.tx_dropped_oversize++;
      return nullptr;
    }
    if (len < kEthHeader) {
      c_.tx_dropped_runt++;
      return nullptr;
    }
    tx_.resize(len);
    if (!chain_read(transport_->mem(), bufs, kHdrLen, tx_.data(), len)) return "transmit buffer unreadable";
    c_.tx_frames++;
    c_.tx_bytes += len;
    if (backend_) backend_->send(tx_.data(), len);
    return nullptr;
  });
}

void VirtioNet::counters(std::vector<std::pair<std::string, uint64_t>>* out) const {
  out->emplace_back("rx_frames", c_.rx_frames);
  out->emplace_back("rx_bytes", c_.rx_bytes);
  out->emplace_back("rx_dropped", c_.rx_dropped_no_buffer + c_.rx_dropped_oversize + c_.rx_dropped_too_small + c_.rx_dropped_down);
  out->emplace_back("tx_frames", c_.tx_frames);
  out->emplace_back("tx_bytes", c_.tx_bytes);
  out->emplace_back("tx_dropped", c_.tx_dropped_oversize + c_.tx_dropped_runt);
}

}  // namespace vmsup
