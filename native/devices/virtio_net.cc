#include "devices/virtio_net.h"

#include <algorithm>
#include <cstring>

namespace vmsup {

namespace {
constexpr uint16_t kNetSLinkUp = 1;  // §5.1.4 status
constexpr uint32_t kNumBuffersOffset = 10;  // num_buffers in struct virtio_net_hdr (§5.1.6)
constexpr uint32_t kEthHeader = 14;
// struct virtio_net_hdr (§5.1.6): flags, gso_type, and the gso_type values.
constexpr uint8_t kHdrFNeedsCsum = 1, kHdrFDataValid = 2;
constexpr uint8_t kGsoNone = 0, kGsoTcpv4 = 1, kGsoEcn = 0x80;
constexpr uint8_t kTcpFin = 0x01, kTcpPsh = 0x08, kTcpCwr = 0x80;

uint16_t le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
uint32_t be32(const uint8_t* p) { return (static_cast<uint32_t>(be16(p)) << 16) | be16(p + 2); }
void put_be16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void put_be32(uint8_t* p, uint32_t v) {
  put_be16(p, static_cast<uint16_t>(v >> 16));
  put_be16(p + 2, static_cast<uint16_t>(v));
}

// The Internet checksum (RFC 1071) of consecutive byte ranges: add each range
// (all but the last of even length), then fold. The ones' complement sum does
// not depend on byte order, so words are loaded in the host's order and the
// folded complement is stored back with memcpy, which restores the bytes'
// network order.
uint64_t csum_add(const uint8_t* p, size_t n, uint64_t acc) {
  for (; n >= 4; p += 4, n -= 4) {
    uint32_t w;
    std::memcpy(&w, p, 4);
    acc += w;
  }
  if (n >= 2) {
    uint16_t w;
    std::memcpy(&w, p, 2);
    acc += w;
    p += 2;
    n -= 2;
  }
  if (n) acc += p[0];
  return acc;
}
// ~sum in the same host order: memcpy it into the checksum field.
uint16_t csum_finish(uint64_t acc) {
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return static_cast<uint16_t>(~acc);
}
// Whether frame f is IPv4 TCP or UDP (one optional 802.1Q tag, not a
// fragment) whose transport checksum verifies: what VIRTIO_NET_HDR_F_DATA_VALID
// promises the driver (§5.1.6.4). A UDP datagram without a checksum (0) is not
// marked: there is nothing to validate.
bool l4_checksum_ok(const uint8_t* f, size_t len) {
  size_t l3 = kEthHeader;
  if (len < l3 + 20) return false;
  uint16_t type = be16(f + 12);
  if (type == 0x8100) {
    type = be16(f + 16);
    l3 = 18;
  }
  if (type != 0x0800 || len < l3 + 20) return false;
  const uint8_t* ip = f + l3;
  const size_t ihl = (ip[0] & 0xf) * 4u, tot = be16(ip + 2);
  if ((ip[0] >> 4) != 4 || ihl < 20 || tot < ihl || l3 + tot > len || (be16(ip + 6) & 0x3fff) != 0) return false;
  const uint8_t proto = ip[9];
  const size_t l4len = tot - ihl;
  if (proto == 6) {
    if (l4len < 20) return false;
  } else if (proto == 17) {
    if (l4len < 8 || be16(ip + ihl + 6) == 0) return false;
  } else {
    return false;
  }
  uint8_t pseudo[12];
  std::memcpy(pseudo, ip + 12, 8);
  pseudo[8] = 0;
  pseudo[9] = proto;
  put_be16(pseudo + 10, static_cast<uint16_t>(l4len));
  // A correct checksum makes the whole sum 0xffff, so its complement is 0.
  return csum_finish(csum_add(ip + ihl, l4len, csum_add(pseudo, sizeof(pseudo), 0))) == 0;
}
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
  // Nothing waiting: straight into the posted buffers, no copy into the queue.
  if (rxq_.empty()) {
    const FillStatus st = deliver_one(frame, len);
    if (st != FillStatus::kNoBuffers) {
      if (st != FillStatus::kError) transport_->notify_used(0);
      return;
    }
  }
  if (rxq_.size() >= kRxQueueCap) {
    c_.rx_dropped_no_buffer++;
    return;
  }
  rxq_.emplace_back(frame, frame + len);
}

// One frame into the buffers the driver posted (§5.1.6.4); the caller
// notifies. kNoBuffers: nothing was taken, try again when the driver posts.
// kError: the driver broke the rules, the device needs a reset.
FillStatus VirtioNet::deliver_one(const uint8_t* frame, size_t len) {
  VirtQueue& q = transport_->queue(0);
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
  msg_.resize(kHdrLen + len);
  std::memset(msg_.data(), 0, kHdrLen);  // no GSO; flags only DATA_VALID (§5.1.6.4)
  // §5.1.6.4: with GUEST_CSUM the device may mark a frame whose checksum it
  // validated, and the driver then skips it; it is checked here at native
  // speed instead of by the guest.
  if ((transport_->driver_features() & kVirtioNetFGuestCsum) && l4_checksum_ok(frame, len)) msg_[0] = kHdrFDataValid;
  if (len) std::memcpy(msg_.data() + kHdrLen, frame, len);
  const char* err = nullptr;
  const FillStatus st = fill_posted(transport_->mem(), q, msg_.data(), static_cast<uint32_t>(msg_.size()), req, &fill_, &err);
  switch (st) {
    case FillStatus::kNoBuffers: break;
    case FillStatus::kError:
      transport_->needs_reset(err);
      rxq_.clear();
      break;
    case FillStatus::kTooSmall: c_.rx_dropped_too_small++; break;
    case FillStatus::kOk:
      c_.rx_frames++;
      c_.rx_bytes += len;
      break;
  }
  return st;
}

void VirtioNet::deliver() {
  if (!transport_ || !transport_->live() || rxq_.empty()) return;
  bool used = false;
  while (!rxq_.empty()) {
    const std::vector<uint8_t>& f = rxq_.front();
    const FillStatus st = deliver_one(f.data(), f.size());
    if (st == FillStatus::kNoBuffers) break;  // stays queued until the driver posts more
    if (st == FillStatus::kError) return;
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
    if (len > kMaxGsoFrame) {
      c_.tx_dropped_oversize++;
      return nullptr;
    }
    if (len < kEthHeader) {
      c_.tx_dropped_runt++;
      return nullptr;
    }
    uint8_t hdr[kHdrLen];
    tx_.resize(len);
    if (!chain_read(transport_->mem(), bufs, 0, hdr, kHdrLen) || !chain_read(transport_->mem(), bufs, kHdrLen, tx_.data(), len))
      return "transmit buffer unreadable";
    if (!offload_and_send(hdr, len)) c_.tx_dropped_bad_hdr++;
    return nullptr;
  });
}

void VirtioNet::send_one(const uint8_t* f, size_t len) {
  c_.tx_frames++;
  c_.tx_bytes += len;
  if (backend_) backend_->send(f, len);
}

// §5.1.6.2: what the header asks of the device. Only what was negotiated
// counts: without VIRTIO_NET_F_CSUM the NEEDS_CSUM flag is ignored (§5.1.6.2.2);
// a GSO type the driver may not use (no HOST_TSO4, or ECN without HOST_ECN,
// which is not offered) is a malformed frame. hdr_len is only a hint
// (VIRTIO_NET_F_GUEST_HDRLEN is not offered, so the device must not rely on
// it): the headers are parsed from the frame itself, and a hint past the
// frame's end is malformed.
bool VirtioNet::offload_and_send(const uint8_t* h, size_t len) {
  const uint64_t feat = transport_->driver_features();
  const bool csum = feat & kVirtioNetFCsum;
  const bool tso4 = csum && (feat & kVirtioNetFHostTso4);  // §5.1.3.1: HOST_TSO4 needs CSUM
  const uint8_t flags = h[0], gso = h[1];
  const uint16_t hdr_len = le16(h + 2), gso_size = le16(h + 4), csum_start = le16(h + 6), csum_offset = le16(h + 8);
  uint8_t* f = tx_.data();
  if (gso == kGsoNone) {
    if (len > kMaxFrame) {
      c_.tx_dropped_oversize++;
      return true;
    }
    if (csum && (flags & kHdrFNeedsCsum)) {
      // Sum from csum_start to the end (the field already holds the
      // pseudo-header's sum the driver put there) and store the complement.
      if (static_cast<size_t>(csum_start) + csum_offset + 2 > len) return false;
      const uint16_t v = csum_finish(csum_add(f + csum_start, len - csum_start, 0));
      std::memcpy(f + csum_start + csum_offset, &v, 2);
    }
    send_one(f, len);
    return true;
  }
  if (!tso4 || gso != kGsoTcpv4 || gso_size == 0 || hdr_len > len) return false;
  // Ethernet (one optional 802.1Q tag), IPv4 without fragmentation, TCP.
  size_t l3 = kEthHeader;
  uint16_t type = be16(f + 12);
  if (type == 0x8100) {
    if (len < 18) return false;
    type = be16(f + 16);
    l3 = 18;
  }
  if (type != 0x0800 || len < l3 + 20) return false;
  uint8_t* ip = f + l3;
  const size_t ihl = (ip[0] & 0xf) * 4u;
  if ((ip[0] >> 4) != 4 || ihl < 20 || ip[9] != 6 || (be16(ip + 6) & 0x3fff) != 0) return false;
  if (be16(ip + 2) != len - l3 || len < l3 + ihl + 20) return false;
  const size_t l4 = l3 + ihl;
  const size_t doff = (f[l4 + 12] >> 4) * 4u;
  if (doff < 20 || l4 + doff >= len) return false;  // no payload to segment
  const size_t hdrs = l4 + doff, payload = len - hdrs;
  if (hdrs + gso_size > kMaxFrame) return false;  // each segment must fit the MTU
  const uint32_t seq0 = be32(f + l4 + 4);
  const uint16_t id0 = be16(ip + 4);
  const uint8_t tcp_flags = f[l4 + 13];
  uint64_t nseg = 0;
  for (size_t off = 0; off < payload; off += gso_size, nseg++) {
    const size_t n = std::min<size_t>(gso_size, payload - off);
    const bool first = off == 0, last = off + n == payload;
    seg_.resize(hdrs + n);
    uint8_t* s = seg_.data();
    std::memcpy(s, f, hdrs);
    std::memcpy(s + hdrs, f + hdrs + off, n);
    uint8_t* sip = s + l3;
    uint8_t* tcp = s + l4;
    put_be16(sip + 2, static_cast<uint16_t>(ihl + doff + n));
    put_be16(sip + 4, static_cast<uint16_t>(id0 + nseg));
    put_be16(sip + 10, 0);
    const uint16_t ipsum = csum_finish(csum_add(sip, ihl, 0));
    std::memcpy(sip + 10, &ipsum, 2);
    put_be32(tcp + 4, seq0 + static_cast<uint32_t>(off));
    uint8_t fl = tcp_flags;
    if (!last) fl &= static_cast<uint8_t>(~(kTcpFin | kTcpPsh));  // FIN and PSH end the data
    if (!first) fl &= static_cast<uint8_t>(~kTcpCwr);             // CWR goes with the first only
    tcp[13] = fl;
    // TCP checksum over the pseudo-header (RFC 793 §3.1) and the segment.
    uint8_t pseudo[12];
    std::memcpy(pseudo, sip + 12, 8);
    pseudo[8] = 0;
    pseudo[9] = 6;
    put_be16(pseudo + 10, static_cast<uint16_t>(doff + n));
    put_be16(tcp + 16, 0);
    const uint16_t tsum = csum_finish(csum_add(tcp, doff + n, csum_add(pseudo, sizeof(pseudo), 0)));
    std::memcpy(tcp + 16, &tsum, 2);
    send_one(s, hdrs + n);
  }
  c_.tx_gso_frames++;
  c_.tx_gso_segments += nseg;
  return true;
}

void VirtioNet::counters(std::vector<std::pair<std::string, uint64_t>>* out) const {
  out->emplace_back("rx_frames", c_.rx_frames);
  out->emplace_back("rx_bytes", c_.rx_bytes);
  out->emplace_back("rx_dropped", c_.rx_dropped_no_buffer + c_.rx_dropped_oversize + c_.rx_dropped_too_small + c_.rx_dropped_down);
  out->emplace_back("tx_frames", c_.tx_frames);
  out->emplace_back("tx_bytes", c_.tx_bytes);
  out->emplace_back("tx_dropped", c_.tx_dropped_oversize + c_.tx_dropped_runt + c_.tx_dropped_bad_hdr);
}

}  // namespace vmsup
