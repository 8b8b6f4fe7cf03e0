// Host helpers Node lacks, for the daemon: a pty per VM console (openpty),
// the peer credentials of a Unix socket (SO_PEERCRED), an eventfd to wake an
// idle machine, and the kernel thread id of the calling thread (gettid).
// Every function validates its arguments and reports failures as a JS error
// with a stable code; none of them keeps state between calls.
#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include <string>

#include "napi_bindings.h"

namespace vmsup {
namespace {

std::string ErrnoMessage(const char* what, int err) { return std::string(what) + ": " + strerror(err); }

// openPty(uid, gid) -> { master, slave, path }
// Opens a pseudo-terminal pair. The master is non-blocking and close-on-exec:
// the machine's UART reads and writes it without ever blocking the guest. The
// slave is put in raw mode (no echo, no line editing, no CR/NL mapping) so the
// bytes a console client writes reach the UART unchanged; the daemon keeps the
// slave open so the master never reads EIO while no client is attached. The
// tty node is given to the VM's owner with mode 0620 (owner read/write, group
// write), as vmd does for its VM ttys. gid < 0 leaves the group as it is.
Napi::Value OpenPty(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber())
    return ThrowError(env, "ERR_VMSUP_ARG", "openPty(uid, gid) expects two numbers");
  int64_t uid = info[0].As<Napi::Number>().Int64Value();
  int64_t gid = info[1].As<Napi::Number>().Int64Value();
  if (uid < -1 || uid > 0xfffffffeLL || gid < -1 || gid > 0xfffffffeLL)
    return ThrowError(env, "ERR_VMSUP_ARG", "openPty: uid/gid out of range");

  int master = -1, slave = -1;
  char name[256];
  struct termios tio;
  memset(&tio, 0, sizeof tio);
  cfmakeraw(&tio);
  if (openpty(&master, &slave, name, &tio, nullptr) != 0)
    return ThrowError(env, "ERR_VMSUP_PTY", ErrnoMessage("openpty", errno));
  int fl = fcntl(master, F_GETFL);
  if (fl < 0 || fcntl(master, F_SETFL, fl | O_NONBLOCK) != 0 || fcntl(master, F_SETFD, FD_CLOEXEC) != 0 ||
      fcntl(slave, F_SETFD, FD_CLOEXEC) != 0) {
    int e = errno;
    close(master);
    close(slave);
    return ThrowError(env, "ERR_VMSUP_PTY", ErrnoMessage("fcntl", e));
  }
  if (uid >= 0 || gid >= 0) {
    if (fchown(slave, uid >= 0 ? (uid_t)uid : (uid_t)-1, gid >= 0 ? (gid_t)gid : (gid_t)-1) != 0) {
      int e = errno;
      close(master);
      close(slave);
      return ThrowError(env, "ERR_VMSUP_PTY", ErrnoMessage("chown tty", e));
    }
  }
  if (fchmod(slave, 0620) != 0) {
    int e = errno;
    close(master);
    close(slave);
    return ThrowError(env, "ERR_VMSUP_PTY", ErrnoMessage("chmod tty", e));
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("master", Napi::Number::New(env, master));
  out.Set("slave", Napi::Number::New(env, slave));
  out.Set("path", Napi::String::New(env, name));
  return out;
}

// peerCred(fd) -> { pid, uid, gid } of the process at the other end of a
// connected Unix socket, as the kernel recorded it at connect() time (socket(7)
// SO_PEERCRED): the client cannot forge it.
Napi::Value PeerCred(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) return ThrowError(env, "ERR_VMSUP_ARG", "peerCred(fd) expects a number");
  int fd = info[0].As<Napi::Number>().Int32Value();
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof cred)
    return ThrowError(env, "ERR_VMSUP_PEERCRED", ErrnoMessage("SO_PEERCRED", errno));
  Napi::Object out = Napi::Object::New(env);
  out.Set("pid", Napi::Number::New(env, cred.pid));
  out.Set("uid", Napi::Number::New(env, cred.uid));
  out.Set("gid", Napi::Number::New(env, cred.gid));
  return out;
}

// eventfdCreate() -> fd: a non-blocking, close-on-exec eventfd (eventfd(2)).
// The supervisor writes it to end a machine's idle sleep (MachineConfig.wake_fd).
Napi::Value EventfdCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return ThrowError(env, "ERR_VMSUP_EVENTFD", ErrnoMessage("eventfd", errno));
  return Napi::Number::New(env, fd);
}

// eventfdWrite(fd): adds 1 to the counter. EAGAIN (counter saturated) already
// means "wake up", so it is not an error.
Napi::Value EventfdWrite(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) return ThrowError(env, "ERR_VMSUP_ARG", "eventfdWrite(fd) expects a number");
  int fd = info[0].As<Napi::Number>().Int32Value();
  uint64_t one = 1;
  if (fd < 0) return ThrowError(env, "ERR_VMSUP_ARG", "eventfdWrite: bad fd");
  ssize_t n = write(fd, &one, sizeof one);
  if (n != (ssize_t)sizeof one && errno != EAGAIN)
    return ThrowError(env, "ERR_VMSUP_EVENTFD", ErrnoMessage("eventfd write", errno));
  return env.Undefined();
}

// eventfdDrain(fd): reads the counter back to zero (non-blocking).
Napi::Value EventfdDrain(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) return ThrowError(env, "ERR_VMSUP_ARG", "eventfdDrain(fd) expects a number");
  int fd = info[0].As<Napi::Number>().Int32Value();
  uint64_t v = 0;
  if (fd >= 0) (void)!read(fd, &v, sizeof v);
  return Napi::Number::New(env, (double)v);
}

// closeFd(fd): closes a descriptor this addon handed out.
Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) return ThrowError(env, "ERR_VMSUP_ARG", "closeFd(fd) expects a number");
  int fd = info[0].As<Napi::Number>().Int32Value();
  if (fd >= 0) close(fd);
  return env.Undefined();
}

// pipeCreate() -> [readFd, writeFd]: a close-on-exec pipe (pipe2(2)) whose two
// ends block, grown to 1 MiB where the kernel allows (F_SETPIPE_SZ), for a
// machine's state streamed between its worker (blocking save/restore) and the
// daemon's event loop (vmsup send/receive). The pipe's size is the bound on
// what sits between the two.
Napi::Value PipeCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return ThrowError(env, "ERR_VMSUP_PIPE", ErrnoMessage("pipe2", errno));
  (void)fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);  // best effort: the default 64 KiB works too
  Napi::Array a = Napi::Array::New(env, 2);
  a.Set(0u, Napi::Number::New(env, fds[0]));
  a.Set(1u, Napi::Number::New(env, fds[1]));
  return a;
}

// gettid(): the kernel's id of the calling thread (shown as a VM's PID, so
// `top -H -p $(pidof vmsupd)` finds the VM's worker).
Napi::Value GetTid(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), (double)syscall(SYS_gettid));
}

}  // namespace

void InitVmFilesBinding(Napi::Env env, Napi::Object exports);  // host/vmfiles.cc

void InitHostBinding(Napi::Env env, Napi::Object exports, AddonData* data) {
  InitVmFilesBinding(env, exports);
  exports.Set("openPty", Napi::Function::New(env, OpenPty, "openPty"));
  exports.Set("peerCred", Napi::Function::New(env, PeerCred, "peerCred"));
  exports.Set("eventfdCreate", Napi::Function::New(env, EventfdCreate, "eventfdCreate"));
  exports.Set("eventfdWrite", Napi::Function::New(env, EventfdWrite, "eventfdWrite"));
  exports.Set("eventfdDrain", Napi::Function::New(env, EventfdDrain, "eventfdDrain"));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd, "closeFd"));
  exports.Set("gettid", Napi::Function::New(env, GetTid, "gettid"));
  exports.Set("pipeCreate", Napi::Function::New(env, PipeCreate, "pipeCreate"));
}

}  // namespace vmsup
