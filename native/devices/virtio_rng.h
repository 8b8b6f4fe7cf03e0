// virtio entropy device (virtio 1.2 §5.4): one request queue; the device fills
// each chain's writable buffers with bytes from the host's getrandom(2).
#pragma once

#include <vector>

#include "devices/virtio_mmio.h"

namespace vmsup {

class VirtioRng : public VirtioDevice {
 public:
  // Cap on the bytes served per request (Firecracker's MAX_ENTROPY_BYTES idea):
  // without it one chain of 256 x 4 GiB buffers would keep the vCPU thread in
  // getrandom for minutes and drain the host's entropy pool.
  static constexpr uint32_t kMaxBytesPerRequest = 64 * 1024;

  uint32_t device_id() const override { return 4; }
  uint64_t device_features() const override { return 0; }
  unsigned num_queues() const override { return 1; }
  bool read_config(uint64_t off, unsigned size, uint64_t* val) override { return false; }
  void queue_notify(unsigned q) override;
  void reset() override {}

 private:
};

}  // namespace vmsup
