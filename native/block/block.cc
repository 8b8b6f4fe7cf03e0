// open_block_backend() and the file helpers the backends share: full-length
// pread/pwrite, whole-file OFD locks, and the loop/depth guard of backing chains.
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "block/backend.h"
#include "block/block_internal.h"

namespace vmsup {
namespace block {

ssize_t pread_full(int fd, void* buf, size_t len, uint64_t off) {
  size_t done = 0;
  auto* p = static_cast<uint8_t*>(buf);
  while (done < len) {
    ssize_t n = ::pread(fd, p + done, len - done, static_cast<off_t>(off + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    if (n == 0) break;  // end of file
    done += static_cast<size_t>(n);
  }
  return static_cast<ssize_t>(done);
}

int pwrite_full(int fd, const void* buf, size_t len, uint64_t off) {
  size_t done = 0;
  auto* p = static_cast<const uint8_t*>(buf);
  while (done < len) {
    ssize_t n = ::pwrite(fd, p + done, len - done, static_cast<off_t>(off + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    if (n == 0) return -EIO;
    done += static_cast<size_t>(n);
  }
  return 0;
}

int64_t file_size(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) return -errno;
  return st.st_size;
}

int open_locked(const std::string& path, bool read_only, std::string* err, FileOpener* opener) {
  // O_NONBLOCK: an image naming a FIFO as its backing file must not hang the
  // open waiting for a writer; the type check below then refuses it.
  int fd;
  if (opener) {
    fd = opener->open(path, read_only, err);
    if (fd < 0) return -1;
  } else {
    fd = ::open(path.c_str(), (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
      *err = "cannot open " + path + ": " + std::strerror(errno);
      return -1;
    }
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
    *err = "cannot open " + path + ": not a regular file or block device";
    ::close(fd);
    return -1;
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  struct flock fl;
  std::memset(&fl, 0, sizeof fl);
  fl.l_type = read_only ? F_RDLCK : F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = 0;
  fl.l_len = 0;  // the whole file, however it grows
  if (fcntl(fd, F_OFD_SETLK, &fl) != 0) {
    int e = errno;
    ::close(fd);
    if (e == EAGAIN || e == EACCES) {
      *err = read_only ? "disk image " + path + " is in use by a writer (locked)"
                       : "disk image " + path + " is in use (locked by another VM or process)";
    } else {
      *err = "cannot lock " + path + ": " + std::strerror(e);
    }
    return -1;
  }
  return fd;
}

bool chain_enter(ChainContext* chain, int fd, const std::string& path, std::string* err) {
  struct stat st;
  if (fstat(fd, &st) != 0) {
    *err = "cannot stat " + path + ": " + std::strerror(errno);
    return false;
  }
  std::pair<uint64_t, uint64_t> id{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
  for (auto& s : chain->seen) {
    if (s == id) {
      *err = "backing chain loops: " + path + " is already part of the chain";
      return false;
    }
  }
  if (chain->depth >= kMaxChainDepth) {
    *err = "backing chain too deep at " + path + " (limit " + std::to_string(kMaxChainDepth) +
           " images)";
    return false;
  }
  chain->seen.push_back(id);
  chain->depth++;
  return true;
}

}  // namespace block

int FdTableOpener::open(const std::string& path, bool read_only, std::string* err) {
  for (const Entry& e : entries_) {
    if (e.path != path) continue;
    if (!read_only && e.read_only) continue;  // maybe a writable entry of the same path follows
    int fd = fcntl(e.fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) *err = "cannot open " + path + ": " + std::strerror(errno);
    return fd;
  }
  *err = "cannot open " + path + ": it was not opened when the vm was started (did the image change?)";
  return -1;
}

std::unique_ptr<BlockBackend> open_block_backend(const std::string& path, DiskFormat format,
                                                 bool read_only, std::string* err,
                                                 FileOpener* opener) {
  block::ChainContext chain;
  chain.opener = opener;
  std::string e;
  std::unique_ptr<BlockBackend> b;
  // The format comes from the VM definition: no probing here (a raw disk whose
  // guest wrote a qcow2 header stays raw).
  if (format == DiskFormat::Raw)
    b = block::open_raw(path, read_only, &e, &chain);
  else
    b = block::open_qcow2(path, read_only, &e, &chain);
  if (!b && err) *err = e;
  return b;
}

}  // namespace vmsup
