// Split virtqueues (virtio 1.2 §2.7) and the ONE descriptor-chain walker every
// virtio device uses. Everything a guest put in a queue is validated here:
//   - ring addresses: inside RAM and aligned (§2.7, table "Virtqueue Part
//     Alignment"), checked when QueueReady is written;
//   - the available index may move at most `size` entries past the last one
//     the device saw (§2.7.6);
//   - every descriptor index is < the table size, the chain is at most as long
//     as its table (hop limit: a looping chain ends in an error, it never spins);
//   - every buffer lies entirely in RAM; the byte total is checked against a
//     per-device cap;
//   - indirect tables (§2.7.5.3) are only allowed when negotiated, never nested,
//     never combined with NEXT, a whole number of descriptors, at most
//     kMaxIndirect long;
//   - device-writable buffers come after all device-readable ones (§2.7.4.2).
// Any violation is an error status with a message; the transport then puts the
// device in DEVICE_NEEDS_RESET.
#pragma once

#include <cstdint>
#include <vector>

#include "memory/guest_memory.h"

namespace vmsup {

class SnapOut;
class SnapIn;

// Descriptor flags (§2.7.5).
constexpr uint16_t kVirtqDescFNext = 1;
constexpr uint16_t kVirtqDescFWrite = 2;
constexpr uint16_t kVirtqDescFIndirect = 4;
// Available ring flag (§2.7.6): the driver does not want interrupts.
constexpr uint16_t kVirtqAvailFNoInterrupt = 1;

enum class VqStatus { kOk, kEmpty, kError };

// One guest buffer of a chain, already range-checked against RAM.
struct DescBuf {
  uint64_t addr;
  uint32_t len;
  bool write;  // device-writable
};

class VirtQueue {
 public:
  // The largest queue any device offers (QueueNumMax). Split queues may be up
  // to 32768 (§2.7); 256 is what QEMU's virtio-mmio devices offer.
  static constexpr uint16_t kMaxSize = 256;
  // Cap on entries in one indirect table (a table may hold up to 2^32/16
  // descriptors by its length field alone): blocks a guest that makes one
  // request walk, and collect_chain() store, hundreds of millions of entries.
  static constexpr uint32_t kMaxIndirect = 1024;

  explicit VirtQueue(uint16_t max_size = kMaxSize) : max_size_(max_size) { reset(); }

  void reset();
  uint16_t max_size() const { return max_size_; }

  // Guest-written configuration (virtio 1.2 §4.2.2 QueueNum / QueueDesc...).
  // set_size accepts only a non-zero power of two <= max_size().
  bool set_size(uint32_t n);
  uint16_t size() const { return size_; }
  uint64_t desc_addr = 0, avail_addr = 0, used_addr = 0;
  // Checks the three ring areas (in RAM, aligned) and marks the queue ready.
  bool enable(const GuestMemory& mem, const char** err);
  void disable() { ready_ = false; }
  bool ready() const { return ready_; }
  bool indirect_ok = false;  // VIRTIO_F_INDIRECT_DESC negotiated
  bool event_idx = false;    // VIRTIO_F_EVENT_IDX negotiated (§2.7.7.2, §2.7.10)

  // Takes the next available chain head. kEmpty when the driver has posted
  // nothing new; kError when the available index is impossible.
  VqStatus pop(GuestMemory& mem, uint16_t* head, const char** err);
  // Gives a chain back in the used ring with the number of bytes written.
  bool push_used(GuestMemory& mem, uint16_t head, uint32_t len);
  // Whether the driver wants an interrupt for the used buffers added since the
  // last call (§2.7.7): the NO_INTERRUPT flag, or with EVENT_IDX the driver's
  // used_event index.
  bool wants_interrupt(const GuestMemory& mem);
  // Whether there are available chains the device has not taken yet.
  bool has_available(const GuestMemory& mem) const;

  // Gives back the last `n` chains pop() took, unused (the device-to-driver
  // path takes chains before it knows a message fits, see fill_posted()).
  void unpop(uint16_t n) { last_avail_ = static_cast<uint16_t>(last_avail_ - n); }

  // Save/restore (devices/persist.cc): size, ring addresses, ready, the
  // device's cursors (last_avail, used_idx, the last interrupt decision) and
  // the negotiated ring features. Restore re-checks the size as set_size()
  // does and the rings as enable() does (Firecracker validates restored
  // queues the same way). The cursors may hold any 16-bit value (the rings
  // live in guest RAM, which the guest may have scribbled on; pop() checks
  // them on use, as it does at run time).
  void save_state(SnapOut& out) const;
  bool restore_state(SnapIn& in, const GuestMemory& mem);

  uint16_t last_avail() const { return last_avail_; }
  uint16_t used_idx() const { return used_idx_; }

 private:
  uint16_t max_size_;
  uint16_t size_ = 0;
  bool ready_ = false;
  uint16_t last_avail_ = 0;
  uint16_t used_idx_ = 0;
  uint16_t signalled_used_ = 0;  // used_idx_ at the last interrupt decision
};

// Walks one descriptor chain (virtio 1.2 §2.7.5), following at most one
// indirect table, and checks every rule above. Use it through collect_chain().
class DescChain {
 public:
  DescChain(const GuestMemory& mem, const VirtQueue& q, uint16_t head);
  // kOk: *out is the next buffer. kEmpty: the chain ended. kError: see error().
  VqStatus next(DescBuf* out);
  const char* error() const { return err_; }

 private:
  VqStatus fail(const char* why) {
    err_ = why;
    done_ = true;
    return VqStatus::kError;
  }
  const GuestMemory& mem_;
  const VirtQueue& q_;
  uint64_t table_;      // current descriptor table (ring or indirect)
  uint32_t table_len_;  // entries in it
  bool in_indirect_ = false;
  uint32_t idx_;
  uint32_t hops_ = 0;
  bool done_ = false;
  bool seen_write_ = false;
  const char* err_ = nullptr;
};

// Collects a whole chain into `out` (at most size + kMaxIndirect entries, so the
// vector is bounded), checking that the readable and writable byte totals do
// not exceed `max_bytes` together. Returns kOk or kError (with *err set).
VqStatus collect_chain(const GuestMemory& mem, const VirtQueue& q, uint16_t head,
                       uint64_t max_bytes, std::vector<DescBuf>* out, const char** err);

// Copies `len` bytes starting `off` bytes into the chain's readable part to
// `dst`. False when the readable part is shorter.
bool chain_read(const GuestMemory& mem, const std::vector<DescBuf>& bufs, uint64_t off, void* dst,
                uint64_t len);
// Copies into the chain's writable part at offset `off`. False when too short.
bool chain_write(GuestMemory& mem, const std::vector<DescBuf>& bufs, uint64_t off,
                 const void* src, uint64_t len);
// ---- The device-to-driver path ---------------------------------------------
// Receive-type queues (virtio-net receiveq §5.1.6.3, virtio-input eventq
// §5.8.6): the driver posts empty device-writable chains and the device fills
// them with messages. ONE function does that for every device.

enum class FillStatus { kOk, kNoBuffers, kTooSmall, kError };

// Scratch space of fill_posted(), kept by the device between calls.
struct FillScratch {
  std::vector<uint16_t> heads;
  std::vector<std::vector<DescBuf>> chains;
};

struct FillRequest {
  // At most this many chains for one message: 1 unless the message may be
  // spread over several (virtio-net MRG_RXBUF, §5.1.6.4).
  unsigned max_chains = 1;
  // Each chain must offer at least this many writable bytes (the driver rule
  // of virtio-net §5.1.6.3.1: a buffer at least the size of the header).
  uint32_t min_chain_bytes = 0;
  // Cap of one chain's bytes for the chain walker.
  uint64_t byte_cap = 1 << 16;
  // When set, the number of chains used is stored as le16 at this offset of
  // the message (virtio-net's num_buffers) before it is written.
  bool store_count = false;
  uint32_t count_offset = 0;
};

// Places one `len`-byte message into the next posted chains and returns them
// on the used ring (the caller sends the used-buffer notification, once per
// batch). kNoBuffers: the driver has not posted enough room — nothing was
// taken, the message is still the caller's. kTooSmall: max_chains chains do
// not hold it; they went back on the used ring with 0 bytes written (for
// virtio-net the buffer size is a SHOULD of the driver, §5.1.6.3.1, so the
// frame is dropped, not the device reset). kError (*err set): the driver
// broke a rule (a readable descriptor in a receive chain, a chain too small,
// a bad chain); the caller puts the device in NEEDS_RESET.
FillStatus fill_posted(GuestMemory& mem, VirtQueue& q, const uint8_t* msg, uint32_t len,
                       const FillRequest& req, FillScratch* scratch, const char** err);

// Byte totals of the readable and writable parts.
uint64_t chain_readable(const std::vector<DescBuf>& bufs);
uint64_t chain_writable(const std::vector<DescBuf>& bufs);

}  // namespace vmsup
