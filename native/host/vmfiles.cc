// open_vm_files (and openVmFiles in vmfiles_napi.cc): opens every file a VM will use, once, with
// the credentials of the VM's owner, and returns descriptors (issue 8: F1, F2,
// F3, F11). The daemon hands these descriptors to the VM's worker; the worker
// never resolves a path.
//
// Why a short-lived dedicated thread that switches only its own credentials:
// Linux keeps credentials per task (thread). The raw setgroups/setfsgid/setfsuid
// system calls change only the calling thread; glibc's setgroups() wrapper would
// broadcast the change to every thread of vmsupd (its setxid machinery), which
// must never happen. Changing fsuid away from 0 also clears CAP_DAC_OVERRIDE and
// CAP_DAC_READ_SEARCH from that thread's effective set (capabilities(7)), so the
// kernel judges every open exactly as it would for the owner. The thread is
// created for one request and ends with it, so no thread ever runs with mixed
// credentials afterwards and nothing has to be switched back. A forked helper
// (libvirt's virFileOpenAs) would work too, but fork() from a process with many
// threads and a big heap is slower and needs fd passing; a thread is enough
// because fs credentials are per thread. The libuv pool thread that runs the
// AsyncWorker only waits for the dedicated thread: its own credentials never
// change.
//
// Each open is openat2(2) with RESOLVE_NO_MAGICLINKS (so /proc/self/fd/N and
// /proc/<pid>/fd/N cannot reach a descriptor of vmsupd) and O_NONBLOCK|O_NOCTTY|
// O_CLOEXEC (a FIFO swapped in cannot block the open); fstat must then say a
// regular file (a block device only when the owner is root). Ordinary symlinks
// are followed, but with the owner's credentials at the moment of the one open
// that counts: a link re-pointed later cannot lend the owner anybody's file.
//
// A disk with chain = false is only opened and probed (its top file); with
// chain = true the block layer opens the whole qcow2 backing chain through the
// recording opener (taking its OFD locks), and every descriptor it used is
// returned. On failure every descriptor opened so far is closed.
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "block/backend.h"
#include "host/vmfiles.h"

namespace vmsup {
namespace host {
namespace {

constexpr uint32_t kQcow2Magic = 0x514649fb;  // "QFI\xfb", qcow2 spec: header bytes 0..3

// Opens with the calling thread's credentials and records every descriptor it
// hands out, so the worker can rebuild the same backend from them.
class RecordingOpener : public FileOpener {
 public:
  using Rec = OpenedFile;
  RecordingOpener(bool allow_devices, std::string what) : allow_devices_(allow_devices), what_(std::move(what)) {}
  ~RecordingOpener() override {
    for (auto& r : recs_) ::close(r.fd);
  }

  int open(const std::string& path, bool read_only, std::string* err) override {
    for (auto& r : recs_)
      if (r.path == path && r.read_only == read_only) {
        int fd = fcntl(r.fd, F_DUPFD_CLOEXEC, 0);
        if (fd < 0) *err = "cannot open " + what_ + " '" + path + "': " + strerror(errno);
        return fd;
      }
    if (recs_.size() >= 64) {  // a chain is at most 16 images; this bounds fds per request
      *err = "too many files for " + what_ + " '" + path + "'";
      code_ = "ERR_VMSUP_DISK";
      return -1;
    }
    if (path.empty() || path[0] != '/') {
      *err = what_ + " path must be absolute: " + path;
      code_ = "ERR_VMSUP_BAD_PATH";
      return -1;
    }
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = static_cast<uint64_t>((read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    how.resolve = RESOLVE_NO_MAGICLINKS;
    int fd;
    do {
      fd = static_cast<int>(syscall(SYS_openat2, AT_FDCWD, path.c_str(), &how, sizeof how));
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
      int e = errno;
      code_ = e == ENOENT || e == ENOTDIR ? "ERR_VMSUP_NO_FILE"
              : e == EACCES || e == EPERM || e == EROFS ? "ERR_VMSUP_PERMISSION"
                                                        : "ERR_VMSUP_OPEN";
      *err = "cannot open " + what_ + " '" + path + "': " +
             (e == ELOOP ? std::string("refusing a magic link (/proc/.../fd) or a symlink loop") : strerror(e));
      return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
      *err = "cannot stat " + what_ + " '" + path + "': " + strerror(errno);
      code_ = "ERR_VMSUP_OPEN";
      ::close(fd);
      return -1;
    }
    bool ok = S_ISREG(st.st_mode) || (allow_devices_ && S_ISBLK(st.st_mode));
    if (!ok) {
      const char* kind = S_ISFIFO(st.st_mode)  ? "a FIFO"
                         : S_ISBLK(st.st_mode) ? "a block device (only root's vms may use one)"
                         : S_ISCHR(st.st_mode) ? "a character device"
                         : S_ISSOCK(st.st_mode) ? "a socket"
                         : S_ISDIR(st.st_mode)  ? "a directory"
                                                : "not a regular file";
      *err = what_ + " '" + path + "' must be a regular file, not " + kind;
      if (!strncmp(kind, "not", 3)) *err = what_ + " '" + path + "' must be a regular file";
      code_ = "ERR_VMSUP_NOT_REGULAR";
      ::close(fd);
      return -1;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    int keep = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (keep < 0) {
      *err = "cannot open " + what_ + " '" + path + "': " + strerror(errno);
      code_ = "ERR_VMSUP_OPEN";
      ::close(fd);
      return -1;
    }
    recs_.push_back({path, keep, read_only});
    return fd;
  }

  // Hands the recorded descriptors to the caller (who then owns them).
  std::vector<Rec> release() {
    std::vector<Rec> out;
    out.swap(recs_);
    return out;
  }
  const std::string& code() const { return code_; }

 private:
  bool allow_devices_;
  std::string what_;
  std::string code_;
  std::vector<Rec> recs_;
};

// Switches the calling thread (only it) to the owner's filesystem credentials.
bool become_owner(const OpenRequest& rq, OpenResult* err) {
  if (!rq.switch_creds) return true;
  // Raw system calls: per thread (see the top of this file).
  if (syscall(SYS_setgroups, rq.groups.size(), rq.groups.data()) != 0) {
    err->code = "ERR_VMSUP_CREDENTIALS";
    err->message = std::string("setgroups: ") + strerror(errno);
    return false;
  }
  syscall(SYS_setfsgid, rq.gid);
  syscall(SYS_setfsuid, rq.uid);
  // setfsuid/setfsgid report the previous value, not errors: read them back.
  if (static_cast<uint32_t>(syscall(SYS_setfsgid, -1)) != rq.gid ||
      static_cast<uint32_t>(syscall(SYS_setfsuid, -1)) != rq.uid) {
    err->code = "ERR_VMSUP_CREDENTIALS";
    err->message = "cannot take the vm owner's credentials";
    return false;
  }
  return true;
}

// Runs on the dedicated thread.
void open_all(const OpenRequest& rq, OpenResult* res) {
  if (!become_owner(rq, res)) return;
  for (auto& f : rq.files) {
    RecordingOpener op(false, f.what);
    std::string e;
    int fd = op.open(f.path, true, &e);
    if (fd < 0) {
      res->code = op.code();
      res->message = e;
      res->close_all();
      return;
    }
    ::close(fd);
    auto recs = op.release();
    res->files.push_back(recs[0].fd);
  }
  for (auto& d : rq.disks) {
    RecordingOpener op(rq.allow_devices, "disk");
    std::string e;
    int fd = op.open(d.path, d.read_only, &e);
    if (fd < 0) {
      res->code = op.code();
      res->message = e;
      res->close_all();
      return;
    }
    uint8_t m[4] = {0, 0, 0, 0};
    ssize_t n;
    do {
      n = ::pread(fd, m, 4, 0);
    } while (n < 0 && errno == EINTR);
    ::close(fd);
    uint32_t magic = (uint32_t(m[0]) << 24) | (uint32_t(m[1]) << 16) | (uint32_t(m[2]) << 8) | m[3];
    OpenedDisk dr;
    dr.signature = n == 4 && magic == kQcow2Magic ? "qcow2" : "raw";
    dr.format = d.format == "probe" ? dr.signature : d.format;
    if (d.chain) {
      std::string be;
      auto b = open_block_backend(d.path, dr.format == "qcow2" ? DiskFormat::Qcow2 : DiskFormat::Raw,
                                  d.read_only, &be, &op);
      if (!b) {
        res->code = op.code().empty() || op.code() == "ERR_VMSUP_OPEN" ? "ERR_VMSUP_DISK" : op.code();
        res->message = be;
        res->close_all();
        return;
      }
      // Destroying the backend closes its descriptors; the recorded duplicates
      // keep the open file descriptions, and with them the OFD locks.
    }
    dr.files = op.release();
    res->disks.push_back(std::move(dr));
  }
  res->ok = true;
}

}  // namespace

void OpenResult::close_all() {
  for (int fd : files) ::close(fd);
  files.clear();
  for (auto& d : disks)
    for (auto& f : d.files) ::close(f.fd);
  disks.clear();
}

void open_vm_files(const OpenRequest& rq, OpenResult* res) {
  // A fresh thread per request: its credentials die with it.
  std::thread t([&]() { open_all(rq, res); });
  t.join();
}

}  // namespace host
}  // namespace vmsup
