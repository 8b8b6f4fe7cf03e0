// openVmFiles(request) -> Promise: opens every file a VM will use, once, with
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
// Request: { uid, gid, groups: number[], switchCreds: boolean, allowDevices: boolean,
//            files: [{ path, what }],                       // kernel, initrd, bios: read-only
//            disks: [{ path, format: 'raw'|'qcow2'|'probe', readOnly, chain }] }
// Result:  { files: number[],                               // one fd per request file
//            disks: [{ format, signature, files: [{ path, fd, readOnly }] }] }
// A disk with chain = false is only opened and probed (its top file); with
// chain = true the block layer opens the whole qcow2 backing chain through the
// recording opener (taking its OFD locks), and every descriptor it used is
// returned. On failure every descriptor opened so far is closed and the promise
// rejects with an Error carrying a `code` (ERR_VMSUP_*).
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "block/backend.h"
#include "napi_bindings.h"

namespace vmsup {
namespace {

constexpr uint32_t kQcow2Magic = 0x514649fb;  // "QFI\xfb", qcow2 spec: header bytes 0..3

struct OpenError {
  std::string code;
  std::string message;
};

// Opens with the calling thread's credentials and records every descriptor it
// hands out, so the worker can rebuild the same backend from them.
class RecordingOpener : public FileOpener {
 public:
  struct Rec {
    std::string path;
    int fd;
    bool read_only;
  };
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

struct FileReq {
  std::string path, what;
};
struct DiskReq {
  std::string path, format;
  bool read_only = false, chain = false;
};
struct DiskRes {
  std::string format;     // what is used: the given format, or the probed one
  std::string signature;  // what the file's first bytes say: "qcow2" or "raw"
  std::vector<RecordingOpener::Rec> files;
};

struct Request {
  uint32_t uid = 0, gid = 0;
  std::vector<gid_t> groups;
  bool switch_creds = false, allow_devices = false;
  std::vector<FileReq> files;
  std::vector<DiskReq> disks;
};

struct Result {
  std::vector<int> files;
  std::vector<DiskRes> disks;
  bool ok = false;
  OpenError error;
  void close_all() {
    for (int fd : files) ::close(fd);
    files.clear();
    for (auto& d : disks)
      for (auto& f : d.files) ::close(f.fd);
    disks.clear();
  }
};

// Switches the calling thread (only it) to the owner's filesystem credentials.
bool become_owner(const Request& rq, OpenError* err) {
  if (!rq.switch_creds) return true;
  // Raw system calls: per thread (see the top of this file).
  if (syscall(SYS_setgroups, rq.groups.size(), rq.groups.data()) != 0) {
    *err = {"ERR_VMSUP_CREDENTIALS", std::string("setgroups: ") + strerror(errno)};
    return false;
  }
  syscall(SYS_setfsgid, rq.gid);
  syscall(SYS_setfsuid, rq.uid);
  // setfsuid/setfsgid report the previous value, not errors: read them back.
  if (static_cast<uint32_t>(syscall(SYS_setfsgid, -1)) != rq.gid ||
      static_cast<uint32_t>(syscall(SYS_setfsuid, -1)) != rq.uid) {
    *err = {"ERR_VMSUP_CREDENTIALS", "cannot take the vm owner's credentials"};
    return false;
  }
  return true;
}

// Runs on the dedicated thread.
void open_all(const Request& rq, Result* res) {
  if (!become_owner(rq, &res->error)) return;
  for (auto& f : rq.files) {
    RecordingOpener op(false, f.what);
    std::string e;
    int fd = op.open(f.path, true, &e);
    if (fd < 0) {
      res->error = {op.code(), e};
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
      res->error = {op.code(), e};
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
    DiskRes dr;
    dr.signature = n == 4 && magic == kQcow2Magic ? "qcow2" : "raw";
    dr.format = d.format == "probe" ? dr.signature : d.format;
    if (d.chain) {
      std::string be;
      auto b = open_block_backend(d.path, dr.format == "qcow2" ? DiskFormat::Qcow2 : DiskFormat::Raw,
                                  d.read_only, &be, &op);
      if (!b) {
        res->error = {op.code().empty() || op.code() == "ERR_VMSUP_OPEN" ? "ERR_VMSUP_DISK" : op.code(), be};
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

class OpenWorker : public Napi::AsyncWorker {
 public:
  OpenWorker(Napi::Env env, Request rq)
      : Napi::AsyncWorker(env, "vmsup:openVmFiles"), rq_(std::move(rq)), deferred_(Napi::Promise::Deferred::New(env)) {}
  ~OpenWorker() override { res_.close_all(); }  // only what was not handed to JS
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    // A fresh thread per request: its credentials die with it.
    std::thread t([this]() { open_all(rq_, &res_); });
    t.join();
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (!res_.ok) {
      Napi::Error e = Napi::Error::New(env, res_.error.message);
      e.Set("code", Napi::String::New(env, res_.error.code.empty() ? "ERR_VMSUP_OPEN" : res_.error.code));
      deferred_.Reject(e.Value());
      return;
    }
    Napi::Object out = Napi::Object::New(env);
    Napi::Array files = Napi::Array::New(env, res_.files.size());
    for (size_t i = 0; i < res_.files.size(); i++) files.Set(i, Napi::Number::New(env, res_.files[i]));
    out.Set("files", files);
    Napi::Array disks = Napi::Array::New(env, res_.disks.size());
    for (size_t i = 0; i < res_.disks.size(); i++) {
      Napi::Object d = Napi::Object::New(env);
      d.Set("format", Napi::String::New(env, res_.disks[i].format));
      d.Set("signature", Napi::String::New(env, res_.disks[i].signature));
      Napi::Array fa = Napi::Array::New(env, res_.disks[i].files.size());
      for (size_t j = 0; j < res_.disks[i].files.size(); j++) {
        auto& f = res_.disks[i].files[j];
        Napi::Object fo = Napi::Object::New(env);
        fo.Set("path", Napi::String::New(env, f.path));
        fo.Set("fd", Napi::Number::New(env, f.fd));
        fo.Set("readOnly", Napi::Boolean::New(env, f.read_only));
        fa.Set(j, fo);
      }
      d.Set("files", fa);
      disks.Set(i, d);
    }
    out.Set("disks", disks);
    // JS owns every descriptor now.
    res_.files.clear();
    res_.disks.clear();
    deferred_.Resolve(out);
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Request rq_;
  Result res_;
  Napi::Promise::Deferred deferred_;
};

bool GetU32(Napi::Object o, const char* k, uint32_t* out) {
  Napi::Value v = o.Get(k);
  if (!v.IsNumber()) return false;
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d < 0 || d > 0xfffffffe || d != std::floor(d)) return false;
  *out = static_cast<uint32_t>(d);
  return true;
}

bool GetStr(Napi::Object o, const char* k, std::string* out) {
  Napi::Value v = o.Get(k);
  if (!v.IsString()) return false;
  *out = v.As<Napi::String>().Utf8Value();
  return out->size() <= 4096 && out->find('\0') == std::string::npos;
}

Napi::Value OpenVmFiles(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto bad = [&](const char* what) { return ThrowError(env, "ERR_VMSUP_ARG", std::string("openVmFiles: ") + what); };
  if (info.Length() < 1 || !info[0].IsObject()) return bad("expects an object");
  Napi::Object o = info[0].As<Napi::Object>();
  Request rq;
  if (!GetU32(o, "uid", &rq.uid) || !GetU32(o, "gid", &rq.gid)) return bad("uid/gid out of range");
  rq.switch_creds = o.Get("switchCreds").ToBoolean().Value();
  rq.allow_devices = o.Get("allowDevices").ToBoolean().Value();
  Napi::Value gv = o.Get("groups");
  if (!gv.IsArray()) return bad("groups must be an array");
  Napi::Array ga = gv.As<Napi::Array>();
  if (ga.Length() > 1024) return bad("too many groups");
  for (uint32_t i = 0; i < ga.Length(); i++) {
    Napi::Value g = ga.Get(i);
    double d = g.IsNumber() ? g.As<Napi::Number>().DoubleValue() : -1;
    if (!std::isfinite(d) || d < 0 || d > 0xfffffffe || d != std::floor(d)) return bad("bad group id");
    rq.groups.push_back(static_cast<gid_t>(d));
  }
  Napi::Value fv = o.Get("files"), dv = o.Get("disks");
  if (!fv.IsArray() || !dv.IsArray()) return bad("files and disks must be arrays");
  Napi::Array fa = fv.As<Napi::Array>(), da = dv.As<Napi::Array>();
  if (fa.Length() > 8 || da.Length() > 64) return bad("too many files");
  for (uint32_t i = 0; i < fa.Length(); i++) {
    if (!fa.Get(i).IsObject()) return bad("each file must be an object");
    Napi::Object f = fa.Get(i).As<Napi::Object>();
    FileReq r;
    if (!GetStr(f, "path", &r.path) || !GetStr(f, "what", &r.what)) return bad("a file needs path and what");
    rq.files.push_back(r);
  }
  for (uint32_t i = 0; i < da.Length(); i++) {
    if (!da.Get(i).IsObject()) return bad("each disk must be an object");
    Napi::Object d = da.Get(i).As<Napi::Object>();
    DiskReq r;
    if (!GetStr(d, "path", &r.path) || !GetStr(d, "format", &r.format)) return bad("a disk needs path and format");
    if (r.format != "raw" && r.format != "qcow2" && r.format != "probe") return bad("bad disk format");
    r.read_only = d.Get("readOnly").ToBoolean().Value();
    r.chain = d.Get("chain").ToBoolean().Value();
    rq.disks.push_back(r);
  }
  auto* w = new OpenWorker(env, std::move(rq));
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

}  // namespace

void InitVmFilesBinding(Napi::Env env, Napi::Object exports) {
  exports.Set("openVmFiles", Napi::Function::New(env, OpenVmFiles, "openVmFiles"));
}

}  // namespace vmsup
