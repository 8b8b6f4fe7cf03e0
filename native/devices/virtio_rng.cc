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
  GuestMemory& mem = transport_->mem();
  // The chain may be as long as the guest likes in bytes: the walker checks
  // ranges, we serve at most kMaxBytesPerRequest of it (§5.4: the
  // device write fewer bytes than offered).
  serve_queue(qi, UINT64_MAX, [&mem](const std::vector<DescBuf>& bufs, uint32_t* written) -> const char* {
    for (const auto& b : bufs) {
      if (!b.write) return "virtio-rng request with a device-readable buffer";
      uint32_t n = b.len;
      if (n > kMaxBytesPerRequest - *written) n = kMaxBytesPerRequest - *written;
      if (n == 0) break;
      uint8_t* p = mem.host_ptr(b.addr, n);
      if (!p || !fill_random(p, n)) break;
      *written += n;
    }
    return nullptr;
  });
}

}  // namespace vmsup
