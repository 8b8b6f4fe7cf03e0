// virtio block device (virtio 1.2 §5.2) over a BlockBackend (raw or qcow2,
// native/block/). Requests are served synchronously on the vCPU thread,
// straight between guest RAM and the backend (pread/pwrite into the checked
// guest buffers), so a request allocates nothing on the host.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "block/backend.h"
#include "devices/virtio_mmio.h"

namespace vmsup {

class VirtioBlk : public VirtioDevice {
 public:
  // Cap on the data of one request. Linux sends at most max_sectors_kb
  // (1280 KiB by default); a guest that asks for more gets VIRTIO_BLK_S_IOERR.
  // The cap blocks a guest that makes one notify keep the vCPU thread (and so
  // the whole VM and its control messages) busy on gigabytes of disk I/O.
  static constexpr uint64_t kMaxRequestBytes = 32ULL << 20;
  // Advertised seg_max: the data descriptors of one request (queue size minus
  // the header and status descriptors).
  static constexpr uint32_t kSegMax = VirtQueue::kMaxSize - 2;

  // `serial` is what VIRTIO_BLK_T_GET_ID returns (at most 20 bytes are used).
  VirtioBlk(std::unique_ptr<BlockBackend> backend, std::string serial);

  uint32_t device_id() const override { return 2; }
  uint64_t device_features() const override;
  unsigned num_queues() const override { return 1; }
  bool read_config(uint64_t off, unsigned size, uint64_t* val) override;
  void queue_notify(unsigned q) override;
  void reset() override {}

  BlockBackend* backend() { return backend_.get(); }
  void counters(std::vector<std::pair<std::string, uint64_t>>* out) const override;
  const char* counter_prefix() const override { return "blk"; }

 private:
  // Serves one request; returns false when the chain breaks the virtio rules.
  bool handle(const std::vector<DescBuf>& bufs, uint32_t* written);

  std::unique_ptr<BlockBackend> backend_;
  std::string serial_;
  uint64_t capacity_;  // in 512-byte sectors
  // Metrics (served requests; failed ones count in errors_ only).
  uint64_t reads_ = 0, writes_ = 0, read_bytes_ = 0, write_bytes_ = 0, flushes_ = 0, errors_ = 0;
};

}  // namespace vmsup
