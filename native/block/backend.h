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
#include <vector>

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

// How the block layer opens a file (the top image and every base of a qcow2
// backing chain). By default it opens the path itself; the daemon passes an
// opener instead, so that the chain walk runs with the VM owner's credentials
// (host/vmfiles.cc records every descriptor it hands out) and the worker later
// rebuilds the same backend from those descriptors without resolving any path
// (FdTableOpener below).
class FileOpener {
 public:
  virtual ~FileOpener() = default;
  // Returns a new descriptor (O_CLOEXEC; O_RDONLY or O_RDWR as asked) that the
  // caller owns, or -1 with *err one line naming the file.
  virtual int open(const std::string& path, bool read_only, std::string* err) = 0;
};

// An opener that never touches the file system: it hands out duplicates of
// descriptors opened earlier, looked up by the exact path the block layer asks
// for. A path it does not know (an image whose backing-file name changed since
// the files were opened) or a writable open of a read-only entry is an error.
class FdTableOpener : public FileOpener {
 public:
  struct Entry {
    std::string path;
    int fd;  // not owned: the table's owner keeps it open while opening
    bool read_only;
  };
  explicit FdTableOpener(std::vector<Entry> entries) : entries_(std::move(entries)) {}
  int open(const std::string& path, bool read_only, std::string* err) override;

 private:
  std::vector<Entry> entries_;
};

// Opens `path` in the given format. The format comes from the VM definition
// (detected once, when the VM was defined, and pinned there); it is never guessed
// here from the file's contents. Every file of the chain is opened through
// `opener` when one is given. On failure returns nullptr and sets *err to one
// clear line naming the problem.
std::unique_ptr<BlockBackend> open_block_backend(const std::string& path, DiskFormat format,
                                                 bool read_only, std::string* err,
                                                 FileOpener* opener = nullptr);

}  // namespace vmsup
