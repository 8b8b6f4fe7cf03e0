// Helpers shared by the disk backends (raw.cc, qcow2.cc, block.cc). Not part of
// the contract in backend.h: nothing outside native/block/ includes this.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "block/backend.h"

namespace vmsup {
namespace block {

// pread/pwrite that retry on EINTR and on short transfers. pread_full returns
// the bytes read (short only at end of file) or a negative errno; pwrite_full
// returns 0 or a negative errno.
ssize_t pread_full(int fd, void* buf, size_t len, uint64_t off);
int pwrite_full(int fd, const void* buf, size_t len, uint64_t off);

// Opens `path` (O_CLOEXEC, O_RDONLY or O_RDWR) and takes an open-file-description
// lock on the whole file: an exclusive (write) lock for a writable open, a shared
// (read) lock for a read-only one. OFD locks conflict between two open files of
// the same process too, so two VMs inside one vmsupd cannot both write one image,
// and nobody can open an image writable while it serves as someone's base.
// Returns the fd, or -1 with *err set to one line naming the file.
// With an opener, the opener opens the file instead (see backend.h).
int open_locked(const std::string& path, bool read_only, std::string* err,
                FileOpener* opener = nullptr);

// The file's size in bytes, or a negative errno.
int64_t file_size(int fd);

// State carried down a qcow2 backing chain while it is opened: how deep we are
// and which files (device, inode) are already open, to refuse loops.
struct ChainContext {
  FileOpener* opener = nullptr;  // null: open paths directly
  int depth = 0;
  std::vector<std::pair<uint64_t, uint64_t>> seen;  // (st_dev, st_ino)
};

// The deepest backing chain we open: the top image plus 15 bases. A chain that
// is longer is refused (it also bounds the recursion and the open fds).
constexpr int kMaxChainDepth = 16;

std::unique_ptr<BlockBackend> open_raw(const std::string& path, bool read_only, std::string* err,
                                       ChainContext* chain);
std::unique_ptr<BlockBackend> open_qcow2(const std::string& path, bool read_only,
                                         std::string* err, ChainContext* chain);

// Registers the file behind `fd` in the chain; false (with *err) when it is
// already there (a loop) or the chain is too deep.
bool chain_enter(ChainContext* chain, int fd, const std::string& path, std::string* err);

}  // namespace block
}  // namespace vmsup

namespace vmsup {
namespace block {

// What `vmsup create` and the tests learn about an image without reading its data.
struct ImageInfo {
  std::string format;         // "raw" or "qcow2"
  uint64_t virtual_size = 0;  // bytes the guest sees
  uint64_t file_size = 0;     // bytes of the file itself
  uint32_t version = 0;       // qcow2 only
  uint32_t cluster_size = 0;  // qcow2 only
  uint32_t refcount_bits = 0; // qcow2 only
  std::string backing_file;   // as stored in the header (may be relative to the image)
  std::string backing_format; // from the backing-format header extension, or ""
};

// Fills *info for the image at `path` opened read-only in `format` (qcow2: the
// header is validated exactly as open does, and the backing chain is opened).
bool image_info(const std::string& path, DiskFormat format, ImageInfo* info, std::string* err);

// Creates a new image file (O_EXCL: an existing file is an error). qcow2 images
// are version 3, 16-bit refcounts, lazy refcounts off; `backing` (may be empty)
// is stored as given and resolved relative to the new image's directory.
// cluster_size: a power of two, 512 .. 2 MiB (qcow2 only).
bool create_image(const std::string& path, DiskFormat format, uint64_t size,
                  const std::string& backing, DiskFormat backing_format, uint32_t cluster_size,
                  std::string* err);

// Copies src into a newly created dst of dst_size bytes (>= the source's size),
// skipping all-zero 64 KiB chunks so the copy stays sparse. `progress` (may be
// null) is called now and then with (bytes done, bytes total).
bool convert_image(const std::string& src, DiskFormat src_format, const std::string& dst,
                   DiskFormat dst_format, uint64_t dst_size,
                   void (*progress)(void* ctx, uint64_t done, uint64_t total), void* ctx,
                   std::string* err);

// Resolves a backing-file name stored in the image at `image_path`: an absolute
// name is used as is, a relative one is taken relative to the image's directory.
std::string resolve_backing(const std::string& image_path, const std::string& name);

}  // namespace block
}  // namespace vmsup

namespace vmsup {
namespace block {
// Opens the qcow2 image at `path` read-only (with its chain) and describes it.
bool qcow2_info(const std::string& path, ImageInfo* info, std::string* err);
}  // namespace block
}  // namespace vmsup
