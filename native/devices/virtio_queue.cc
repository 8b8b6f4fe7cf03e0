#include "devices/virtio_queue.h"

namespace vmsup {

namespace {
// Layout of the split virtqueue parts (virtio 1.2 §2.7.5, §2.7.6, §2.7.8).
constexpr uint64_t kDescSize = 16;
uint64_t avail_bytes(uint16_t n) { return 6 + 2ULL * n; }  // flags, idx, ring[n], used_event
uint64_t used_bytes(uint16_t n) { return 6 + 8ULL * n; }   // flags, idx, ring[n], avail_event

struct RawDesc {
  uint64_t addr;
  uint32_t len;
  uint16_t flags;
  uint16_t next;
};
static_assert(sizeof(RawDesc) == 16, "virtq_desc is 16 bytes");
}  // namespace

void VirtQueue::reset() {
  size_ = max_size_;  // QueueNum reads as the maximum until the driver writes it
  ready_ = false;
  desc_addr = avail_addr = used_addr = 0;
  last_avail_ = used_idx_ = signalled_used_ = 0;
  indirect_ok = event_idx = false;
}

bool VirtQueue::set_size(uint32_t n) {
  if (n == 0 || n > max_size_ || (n & (n - 1)) != 0) return false;
  size_ = static_cast<uint16_t>(n);
  return true;
}

bool VirtQueue::enable(const GuestMemory& mem, const char** err) {
  // Alignment table of §2.7: descriptor table 16, available ring 2, used ring 4.
  if ((desc_addr & 15) || (avail_addr & 1) || (used_addr & 3)) {
    *err = "misaligned virtqueue ring address";
    return false;
  }
  if (!mem.check_range(desc_addr, kDescSize * size_) ||
      !mem.check_range(avail_addr, avail_bytes(size_)) ||
      !mem.check_range(used_addr, used_bytes(size_))) {
    *err = "virtqueue ring outside guest RAM";
    return false;
  }
  ready_ = true;
  last_avail_ = used_idx_ = signalled_used_ = 0;
  return true;
}

VqStatus VirtQueue::pop(GuestMemory& mem, uint16_t* head, const char** err) {
  if (!ready_) return VqStatus::kEmpty;
  uint16_t avail_idx;
  if (!mem.read_obj(avail_addr + 2, &avail_idx)) {
    *err = "available ring unreadable";
    return VqStatus::kError;
  }
  uint16_t pending = static_cast<uint16_t>(avail_idx - last_avail_);
  if (pending == 0) {
    // EVENT_IDX: ask to be notified when the driver makes the next chain
    // available (avail_event, the last u16 of the used ring, §2.7.10). The
    // driver runs only when this thread does not, so nothing can slip between
    // this write and the index read above.
    if (event_idx) {
      uint16_t ev = last_avail_;
      if (!mem.write_obj(used_addr + 4 + 8ULL * size_, ev)) {
        *err = "used ring unwritable";
        return VqStatus::kError;
      }
    }
    return VqStatus::kEmpty;
  }
  // The driver can have at most `size` chains outstanding; a larger jump means
  // a corrupt index (QEMU: "Guest moved used index from %u to %u").
  if (pending > size_) {
    *err = "available index moved past the queue size";
    return VqStatus::kError;
  }
  uint16_t h;
  if (!mem.read_obj(avail_addr + 4 + 2ULL * (last_avail_ % size_), &h)) {
    *err = "available ring unreadable";
    return VqStatus::kError;
  }
  if (h >= size_) {
    *err = "chain head index out of range";
    return VqStatus::kError;
  }
  last_avail_++;
  *head = h;
  return VqStatus::kOk;
}

bool VirtQueue::has_available(const GuestMemory& mem) const {
  uint16_t avail_idx;
  return ready_ && mem.read_obj(avail_addr + 2, &avail_idx) && avail_idx != last_avail_;
}

bool VirtQueue::push_used(GuestMemory& mem, uint16_t head, uint32_t len) {
  // used ring element: le32 id, le32 len (§2.7.8).
  uint64_t elem = used_addr + 4 + 8ULL * (used_idx_ % size_);
  uint32_t e[2] = {head, len};
  if (!mem.write(elem, e, sizeof(e))) return false;
  used_idx_++;
  return mem.write_obj(used_addr + 2, used_idx_);
}

bool VirtQueue::wants_interrupt(const GuestMemory& mem) {
  const uint16_t old = signalled_used_, now = used_idx_;
  signalled_used_ = now;
  if (event_idx) {
    // §2.7.10: interrupt when used_event (the last u16 of the available ring)
    // lies in [old, now): vring_need_event(used_event, now, old).
    uint16_t used_event = 0;
    if (!mem.read_obj(avail_addr + 4 + 2ULL * size_, &used_event)) return true;
    return static_cast<uint16_t>(now - used_event - 1) < static_cast<uint16_t>(now - old);
  }
  uint16_t flags = 0;
  if (!mem.read_obj(avail_addr, &flags)) return true;
  return !(flags & kVirtqAvailFNoInterrupt);
}

DescChain::DescChain(const GuestMemory& mem, const VirtQueue& q, uint16_t head)
    : mem_(mem), q_(q), table_(q.desc_addr), table_len_(q.size()), idx_(head) {}

VqStatus DescChain::next(DescBuf* out) {
  if (done_) return err_ ? VqStatus::kError : VqStatus::kEmpty;
  for (;;) {
    // Hop limit: a chain visits each descriptor of its table at most once, so
    // more hops than entries means a loop (vmd: "Guard against infinite chains").
    if (++hops_ > table_len_) return fail("looping descriptor chain");
    if (idx_ >= table_len_) return fail("descriptor index out of range");
    RawDesc d;
    if (!mem_.read(table_ + kDescSize * idx_, &d, sizeof(d)))
      return fail("descriptor table outside guest RAM");

    if (d.flags & kVirtqDescFIndirect) {
      // §2.7.5.3.1: only when negotiated, not inside an indirect table, not
      // together with NEXT, and a whole number of 16-byte descriptors.
      if (!q_.indirect_ok) return fail("indirect descriptor not negotiated");
      if (in_indirect_) return fail("nested indirect descriptor table");
      if (d.flags & kVirtqDescFNext) return fail("indirect descriptor with NEXT");
      if (d.len == 0 || d.len % kDescSize) return fail("bad indirect table length");
      if (d.len / kDescSize > VirtQueue::kMaxIndirect) return fail("indirect table too long");
      if (!mem_.check_range(d.addr, d.len)) return fail("indirect table outside guest RAM");
      in_indirect_ = true;
      table_ = d.addr;
      table_len_ = d.len / kDescSize;
      idx_ = 0;
      hops_ = 0;
      continue;
    }

    if (!mem_.check_range(d.addr, d.len)) return fail("descriptor buffer outside guest RAM");
    bool w = d.flags & kVirtqDescFWrite;
    if (seen_write_ && !w) return fail("readable descriptor after a writable one");
    seen_write_ |= w;
    out->addr = d.addr;
    out->len = d.len;
    out->write = w;
    if (d.flags & kVirtqDescFNext) idx_ = d.next;
    else done_ = true;
    return VqStatus::kOk;
  }
}

VqStatus collect_chain(const GuestMemory& mem, const VirtQueue& q, uint16_t head,
                       uint64_t max_bytes, std::vector<DescBuf>* out, const char** err) {
  out->clear();
  DescChain chain(mem, q, head);
  uint64_t total = 0;  // at most (size + kMaxIndirect) * 4 GiB: no overflow in 64 bits
  DescBuf b;
  for (;;) {
    VqStatus st = chain.next(&b);
    if (st == VqStatus::kEmpty) break;
    if (st == VqStatus::kError) {
      *err = chain.error();
      return st;
    }
    total += b.len;
    if (total > max_bytes) {
      *err = "request larger than the device accepts";
      return VqStatus::kError;
    }
    out->push_back(b);
  }
  return VqStatus::kOk;
}

uint64_t chain_readable(const std::vector<DescBuf>& bufs) {
  uint64_t n = 0;
  for (const auto& b : bufs)
    if (!b.write) n += b.len;
  return n;
}

uint64_t chain_writable(const std::vector<DescBuf>& bufs) {
  uint64_t n = 0;
  for (const auto& b : bufs)
    if (b.write) n += b.len;
  return n;
}

bool chain_read(const GuestMemory& mem, const std::vector<DescBuf>& bufs, uint64_t off, void* dst,
                uint64_t len) {
  uint8_t* d = static_cast<uint8_t*>(dst);
  for (const auto& b : bufs) {
    if (len == 0) break;
    if (b.write) continue;
    if (off >= b.len) {
      off -= b.len;
      continue;
    }
    uint64_t n = b.len - off < len ? b.len - off : len;
    if (!mem.read(b.addr + off, d, n)) return false;
    d += n;
    len -= n;
    off = 0;
  }
  return len == 0;
}

bool chain_write(GuestMemory& mem, const std::vector<DescBuf>& bufs, uint64_t off,
                 const void* src, uint64_t len) {
  const uint8_t* s = static_cast<const uint8_t*>(src);
  for (const auto& b : bufs) {
    if (len == 0) break;
    if (!b.write) continue;
    if (off >= b.len) {
      off -= b.len;
      continue;
    }
    uint64_t n = b.len - off < len ? b.len - off : len;
    if (!mem.write(b.addr + off, s, n)) return false;
    s += n;
    len -= n;
    off = 0;
  }
  return len == 0;
}

FillStatus fill_posted(GuestMemory& mem, VirtQueue& q, const uint8_t* msg, uint32_t len,
                       const FillRequest& req, FillScratch* sc, const char** err) {
  if (!q.ready()) return FillStatus::kNoBuffers;
  const unsigned max_chains = req.max_chains == 0 ? 1 : req.max_chains;
  if (sc->chains.size() < max_chains) sc->chains.resize(max_chains);
  sc->heads.clear();
  // Take chains until the message fits. The count is bounded by max_chains
  // (and by the queue size, since pop() never hands out more than posted).
  uint64_t room = 0;
  unsigned n = 0;
  while (n == 0 || room < len) {
    if (n == max_chains) {
      for (unsigned k = 0; k < n; k++)
        if (!q.push_used(mem, sc->heads[k], 0)) {
          *err = "used ring unwritable";
          return FillStatus::kError;
        }
      *err = "receive buffers too small for the message";
      return FillStatus::kTooSmall;
    }
    uint16_t head;
    VqStatus st = q.pop(mem, &head, err);
    if (st == VqStatus::kEmpty) {
      q.unpop(static_cast<uint16_t>(n));
      return FillStatus::kNoBuffers;
    }
    if (st == VqStatus::kError) return FillStatus::kError;
    std::vector<DescBuf>& bufs = sc->chains[n];
    if (collect_chain(mem, q, head, req.byte_cap, &bufs, err) != VqStatus::kOk) return FillStatus::kError;
    if (chain_readable(bufs) != 0) {
      *err = "device-readable buffer in a receive queue";
      return FillStatus::kError;
    }
    const uint64_t w = chain_writable(bufs);
    if (w < req.min_chain_bytes || w == 0) {
      *err = "receive buffer smaller than the device requires";
      return FillStatus::kError;
    }
    sc->heads.push_back(head);
    room += w;
    n++;
  }
  // Write the message across the chains, then the chain count into its place.
  uint16_t count = static_cast<uint16_t>(n);
  uint64_t off = 0;
  for (unsigned k = 0; k < n; k++) {
    const uint64_t w = chain_writable(sc->chains[k]);
    const uint64_t take = len - off < w ? len - off : w;
    if (!chain_write(mem, sc->chains[k], 0, msg + off, take)) {
      *err = "receive buffer unwritable";
      return FillStatus::kError;
    }
    if (req.store_count) {
      // The le16 may straddle two chains: write the bytes that fall in this one.
      for (unsigned b = 0; b < 2; b++) {
        const uint64_t at = uint64_t{req.count_offset} + b;
        if (at >= off && at < off + take) {
          const uint8_t byte = static_cast<uint8_t>(count >> (8 * b));
          if (!chain_write(mem, sc->chains[k], at - off, &byte, 1)) {
            *err = "receive buffer unwritable";
            return FillStatus::kError;
          }
        }
      }
    }
    if (!q.push_used(mem, sc->heads[k], static_cast<uint32_t>(take))) {
      *err = "used ring unwritable";
      return FillStatus::kError;
    }
    off += take;
  }
  return FillStatus::kOk;
}

}  // namespace vmsup
