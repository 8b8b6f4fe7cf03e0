// Disk backends: one four-method interface (read, write, flush, size), as vmd's
// struct virtio_backing. Implementations: raw.cc, qcow2.cc.
//
// All methods return 0 on success or a negative errno; none of them throws or
// aborts, whatever the image file holds. Offsets and lengths are in bytes; the
// caller (virtio-blk) has already checked them against size().
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace vmsup {

class BlockBackend {
 public:
  virtual ~BlockBackend() = default;
  virtual int read(uint64_t offset, void* buf, size_t len) = 0;
  virtual int write(uint64_t offset, const void* buf, size_t len) = 0;
  virtual int flush() = 0;  // a real fsync/fdatasync of everything written so far
  virtual uint64_t size() const = 0;
  virtual bool read_only() const = 0;
};

enum class DiskFormat { Raw, Qcow2 };

// Opens `path` in the given format. The format comes from the VM definition and
// is never guessed from the file's contents. On failure returns nullptr and sets
// *err to one clear line naming the problem.
std::unique_ptr<BlockBackend> open_block_backend(const std::string& path, DiskFormat format,
                                                 bool read_only, std::string* err);

}  // namespace vmsup
