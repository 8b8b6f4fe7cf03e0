// The raw disk backend: the image file is the disk, byte for byte (vmd's vioraw.c).
// A guest flush is fdatasync(2). Reads past the end of a shorter-than-expected
// file (truncated under us) return zeros rather than stale buffer bytes.
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>

#include "block/backend.h"
#include "block/block_internal.h"

namespace vmsup {
namespace block {
namespace {

class RawBackend final : public BlockBackend {
 public:
  RawBackend(int fd, uint64_t size, bool ro) : fd_(fd), size_(size), ro_(ro) {}
  ~RawBackend() override { ::close(fd_); }

  int read(uint64_t offset, void* buf, size_t len) override {
    if (offset > size_ || len > size_ - offset) return -EINVAL;
    ssize_t n = pread_full(fd_, buf, len, offset);
    if (n < 0) return static_cast<int>(n);
    if (static_cast<size_t>(n) < len) std::memset(static_cast<uint8_t*>(buf) + n, 0, len - n);
    return 0;
  }

  int write(uint64_t offset, const void* buf, size_t len) override {
    if (ro_) return -EROFS;
    if (offset > size_ || len > size_ - offset) return -EINVAL;
    return pwrite_full(fd_, buf, len, offset);
  }

  int flush() override {
    if (ro_) return 0;
    return fdatasync(fd_) == 0 ? 0 : -errno;
  }

  uint64_t size() const override { return size_; }
  bool read_only() const override { return ro_; }

 private:
  int fd_;
  uint64_t size_;
  bool ro_;
};

}  // namespace

std::unique_ptr<BlockBackend> open_raw(const std::string& path, bool read_only, std::string* err,
                                       ChainContext* chain) {
  int fd = open_locked(path, read_only, err, chain ? chain->opener : nullptr);
  if (fd < 0) return nullptr;
  if (!chain_enter(chain, fd, path, err)) {
    ::close(fd);
    return nullptr;
  }
  uint64_t size;
  int64_t fs = file_size(fd);
  if (fs < 0) {
    *err = "cannot size " + path + ": " + std::strerror(static_cast<int>(-fs));
    ::close(fd);
    return nullptr;
  }
  size = static_cast<uint64_t>(fs);
  if (fs == 0) {
    // A block device reports st_size 0: ask it with lseek.
    off_t end = lseek(fd, 0, SEEK_END);
    if (end > 0) size = static_cast<uint64_t>(end);
  }
  return std::make_unique<RawBackend>(fd, size, read_only);
}

}  // namespace block
}  // namespace vmsup
