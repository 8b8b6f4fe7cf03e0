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
int open_locked(const std::string& path, bool read_only, std::string* err);

// The file's size in bytes, or a negative errno.
int64_t file_size(int fd);

// State carried down a qcow2 backing chain while it is opened: how deep we are
// and which files (device, inode) are already open, to refuse loops.
struct ChainContext {
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
