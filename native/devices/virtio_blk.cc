#include "devices/virtio_blk.h"

#include <cstring>

namespace vmsup {

namespace {
// Feature bits (§5.2.3).
constexpr uint64_t kFSegMax = 1ULL << 2, kFRo = 1ULL << 5, kFBlkSize = 1ULL << 6,
                   kFFlush = 1ULL << 9;
// Request types and status values (§5.2.6).
constexpr uint32_t kTIn = 0, kTOut = 1, kTFlush = 4, kTGetId = 8;
constexpr uint8_t kSOk = 0, kSIoErr = 1, kSUnsupp = 2;
constexpr uint64_t kSector = 512;
constexpr uint32_t kIdBytes = 20;  // VIRTIO_BLK_ID_BYTES

struct ReqHeader {
  uint32_t type;
  uint32_t reserved;
  uint64_t sector;
};
static_assert(sizeof(ReqHeader) == 16, "virtio_blk_req header is 16 bytes");
}  // namespace

VirtioBlk::VirtioBlk(std::unique_ptr<BlockBackend> backend, std::string serial)
    : backend_(std::move(backend)), serial_(std::move(serial)) {
  capacity_ = backend_ ? backend_->size() / kSector : 0;
}

uint64_t VirtioBlk::device_features() const {
  uint64_t f = kFSegMax | kFBlkSize | kFFlush;
  if (backend_ && backend_->read_only()) f |= kFRo;
  return f;
}

bool VirtioBlk::read_config(uint64_t off, unsigned size, uint64_t* val) {
  // struct virtio_blk_config (§5.2.4): capacity le64 @0, size_max le32 @8,
  // seg_max le32 @12, geometry @16, blk_size le32 @20, the rest zero.
  uint8_t cfg[64] = {};
  std::memcpy(cfg + 0, &capacity_, 8);
  uint32_t seg = kSegMax, blk = kSector;
  std::memcpy(cfg + 12, &seg, 4);
  std::memcpy(cfg + 20, &blk, 4);
  if (off + size > sizeof(cfg) || off + size < off) return false;
  uint64_t v = 0;
  std::memcpy(&v, cfg + off, size);
  *val = v;
  return true;
}

bool VirtioBlk::handle(const std::vector<DescBuf>& bufs, uint32_t* written) {
  // §5.2.6: a header (readable, 16 bytes), data, and a status byte: the last
  // byte of the writable part.
  ReqHeader h;
  if (!chain_read(transport_->mem(), bufs, 0, &h, sizeof(h))) return false;
  uint64_t wr = chain_writable(bufs);
  if (wr < 1) return false;
  uint64_t rd = chain_readable(bufs);
  GuestMemory& mem = transport_->mem();
  uint8_t status = kSOk;
  uint64_t data_in = 0;  // bytes of data the device wrote for the driver

  switch (h.type) {
    case kTIn:
    case kTOut: {
      bool in = h.type == kTIn;
      uint64_t len = in ? wr - 1 : rd - sizeof(h);
      if (len % kSector || len > kMaxRequestBytes || h.sector > capacity_ ||
          len / kSector > capacity_ - h.sector) {
        status = kSIoErr;
        break;
      }
      if (!in && backend_->read_only()) {
        status = kSIoErr;
        break;
      }
      // Walk the data buffers: for IN the writable ones (less the status byte),
      // for OUT the readable ones after the header.
      uint64_t pos = h.sector * kSector, skip = in ? 0 : sizeof(h), left = len;
      for (const auto& b : bufs) {
        if (left == 0) break;
        if (b.write != in) continue;
        uint64_t boff = 0;
        if (skip) {
          uint64_t s = skip < b.len ? skip : b.len;
          skip -= s;
          boff = s;
        }
        uint64_t n = b.len - boff < left ? b.len - boff : left;
        if (n == 0) continue;
        uint8_t* p = mem.host_ptr(b.addr + boff, n);  // range checked by the walker
        int r = p ? (in ? backend_->read(pos, p, n) : backend_->write(pos, p, n)) : -1;
        if (r != 0) {
          status = kSIoErr;
          break;
        }
        pos += n;
        left -= n;
      }
      if (status == kSOk && in) data_in = len;
      break;
    }
    case kTFlush:
      status = backend_->flush() == 0 ? kSOk : kSIoErr;
      break;
    case kTGetId: {
      // §5.2.6.1: up to 20 bytes, NUL-padded, not NUL-terminated when 20 long.
      uint8_t id[kIdBytes] = {};
      std::memcpy(id, serial_.data(), serial_.size() < kIdBytes ? serial_.size() : kIdBytes);
      uint64_t n = wr - 1 < kIdBytes ? wr - 1 : kIdBytes;
      if (!chain_write(mem, bufs, 0, id, n)) return false;
      data_in = n;
      break;
    }
    default:
      status = kSUnsupp;
      break;
  }
  if (!chain_write(mem, bufs, wr - 1, &status, 1)) return false;
  *written = static_cast<uint32_t>(data_in + 1);
  if (status != kSOk) {
    errors_++;
  } else if (h.type == kTIn) {
    reads_++;
    read_bytes_ += data_in;
  } else if (h.type == kTOut) {
    writes_++;
    write_bytes_ += rd - sizeof(h);
  } else if (h.type == kTFlush) {
    flushes_++;
  }
  return true;
}

void VirtioBlk::counters(std::vector<std::pair<std::string, uint64_t>>* out) const {
  out->emplace_back("reads", reads_);
  out->emplace_back("writes", writes_);
  out->emplace_back("read_bytes", read_bytes_);
  out->emplace_back("write_bytes", write_bytes_);
  out->emplace_back("flushes", flushes_);
  out->emplace_back("errors", errors_);
}

void VirtioBlk::queue_notify(unsigned qi) {
  // The walker's byte cap is the request cap plus header and status, and a
  // little slack for drivers that split them oddly.
  serve_queue(qi, kMaxRequestBytes + 4096, [this](const std::vector<DescBuf>& bufs, uint32_t* written) {
    return handle(bufs, written) ? nullptr : "malformed virtio-blk request (no header or status)";
  });
}

}  // namespace vmsup
