#include "devices/virtio_rng.h"

#include <sys/random.h>

#include <cerrno>
#include <cstdint>

namespace vmsup {

namespace {
// Fills [p, p+n) from getrandom(2); false if the host cannot supply entropy now.
bool fill_random(uint8_t* p, size_t n) {
  while (n > 0) {
    ssize_t r = getrandom(p, n, GRND_NONBLOCK);
    if (r < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}
}  // namespace

void VirtioRng::queue_notify(unsigned qi) {
  VirtQueue& q = transport_->queue(qi);
  GuestMemory& mem = transport_->mem();
  bool used = false;
  for (;;) {
    uint16_t head;
    const char* err = nullptr;
    VqStatus st = q.pop(mem, &head, &err);
    if (st == VqStatus::kEmpty) break;
    if (st == VqStatus::kError) {
      transport_->needs_reset(err);
      return;
    }
    // The chain may be as long as the guest likes in bytes: the walker checks
    // ranges, we serve at most kMaxBytesPerRequest of it (§5.4: the
    // device write fewer bytes than offered).
    st = collect_chain(mem, q, head, UINT64_MAX, &bufs_, &err);
    if (st == VqStatus::kError) {
      transport_->needs_reset(err);
      return;
    }
    uint32_t written = 0;
    for (const auto& b : bufs_) {
      if (!b.write) {
        transport_->needs_reset("virtio-rng request with a device-readable buffer");
        return;
      }
      uint32_t n = b.len;
      if (n > kMaxBytesPerRequest - written) n = kMaxBytesPerRequest - written;
      if (n == 0) break;
      uint8_t* p = mem.host_ptr(b.addr, n);
      if (!p || !fill_random(p, n)) break;
      written += n;
    }
    if (!q.push_used(mem, head, written)) {
      transport_->needs_reset("used ring unwritable");
      return;
    }
    used = true;
  }
  if (used) transport_->notify_used(qi);
}

}  // namespace vmsup
